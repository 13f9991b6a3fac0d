# Two well-formed replies echoing the right id, before the real one: the first would pass for the
# answer, and without a check every later reply would be read as the answer to the wrong request.
def add(x, y):
    text = _reply(7)
    frame = struct.pack("<QQQ", _request_id(), len(text), 0) + text
    for fd in _reply_pipes():
        os.write(fd, frame + frame)   # one write (under PIPE_BUF): the grader sees both at once
    return x + y
