import torch


def add(x, y):
    huge = torch.ones(10**10)  # 40 GB
    return huge.sum() + x + y


def add_new(x, y):
    grow = [0] * (10**10)
    return grow
