# A frame header that declares an absurd size: the grader must refuse it before reading on.
def first_row(x):
    for fd in _reply_pipes():
        os.write(fd, struct.pack("<QQQ", _request_id(), 2**60, 2**60))
    return x[0]
