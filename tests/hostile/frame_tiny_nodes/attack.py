# The largest JSON part a frame may declare (16 MB), all tiny nodes: refused by counting, quickly.
def first_row(x):
    _send(_request_id(), b"{\"regions\":[],\"value\":[" + b"0," * (8 * 2**20 - 20) + b"0]}")
    return x[0]
