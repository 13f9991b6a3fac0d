# A reply whose JSON is nested 100000 deep.
def count_negatives(x):
    _send(_request_id(), b"[" * 100_000 + b"]" * 100_000)
    return int((x < 0).sum())
