# A well-formed reply with the wrong request id, written before the real one.
def second_column(x):
    _send(1, _reply(7))
    return x[:, 1]
