"""A pytest-based autograder for five PyTorch starter assignments."""
