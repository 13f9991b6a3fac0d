"""Wrong `linear_regression` submissions, one per mistake of spec §4: each loses points on its function only."""

from kit import Mutant

MUTANTS = [
    # -- make_data
    Mutant("make_data_global_seed", "make_data", '''
def make_data(n=100, noise=0.0, seed=0):
    torch.manual_seed(seed)
    X = torch.linspace(-1, 1, n).unsqueeze(1)
    return X, 3 * X - 2 + noise * torch.randn(n, 1)
''', r"make_data changed the global random number generator"),
    Mutant("make_data_vector_shape", "make_data", '''
def make_data(n=100, noise=0.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.linspace(-1, 1, n)
    return X, 3 * X - 2 + noise * torch.randn(n, generator=g)
''', r"make_data returned a tensor of the wrong shape as X"),
    Mutant("make_data_ignores_seed", "make_data", '''
def make_data(n=100, noise=0.0, seed=0):
    g = torch.Generator().manual_seed(0)
    X = torch.linspace(-1, 1, n).unsqueeze(1)
    return X, 3 * X - 2 + noise * torch.randn(n, 1, generator=g)
''', r"make_data gave the same noise for seeds 3 and 4|make_data returned the wrong values in y"),
    Mutant("make_data_float64", "make_data", '''
def make_data(n=100, noise=0.0, seed=0):
    import numpy as np
    g = torch.Generator().manual_seed(seed)
    X = torch.from_numpy(np.linspace(-1, 1, n)).unsqueeze(1)
    return X, 3 * X - 2 + noise * torch.randn(n, 1, generator=g, dtype=torch.float64)
''', r"make_data returned a tensor of dtype torch\.float64 as X; expected torch\.float32"),

    # -- mse
    Mutant("mse_broadcasts", "mse", '''
def mse(pred, target):
    return ((pred - target) ** 2).mean()
''', r"mse did not raise ValueError for a prediction of shape \(4, 1\) and a target of shape \(4,\)"),
    Mutant("mse_item", "mse", '''
def mse(pred, target):
    if pred.shape != target.shape:
        raise ValueError("shapes differ")
    return torch.tensor(((pred - target) ** 2).mean().item())
''', r"mse returned a loss with no grad_fn"),
    Mutant("mse_sum", "mse", '''
def mse(pred, target):
    if pred.shape != target.shape:
        raise ValueError("shapes differ")
    return ((pred - target) ** 2).sum()
''', r"mse returned the wrong values"),
    Mutant("mse_keeps_dim", "mse", '''
def mse(pred, target):
    if pred.shape != target.shape:
        raise ValueError("shapes differ")
    return ((pred - target) ** 2).mean(dim=0)
''', r"mse returned a tensor of the wrong shape"),

    # -- sgd_step_
    Mutant("sgd_step_no_zero_grad", "sgd_step_", '''
def sgd_step_(params, lr):
    with torch.no_grad():
        for p in params:
            if p.grad is not None:
                p -= lr * p.grad
''', r"still has a non-zero gradient(.|\n)*gradients accumulate|gradients that are never reset"),
    Mutant("sgd_step_rebinds", "sgd_step_", '''
def sgd_step_(params, lr):
    with torch.no_grad():
        for p in params:
            if p.grad is None:
                continue
            p = p - lr * p.grad
            p.grad = None
''', r"sgd_step_ left w \(params\[0\]\) unchanged(.|\n)*rebinds a local name"),
    Mutant("sgd_step_outside_no_grad", "sgd_step_", '''
def sgd_step_(params, lr):
    for p in params:
        if p.grad is None:
            continue
        p -= lr * p.grad
        p.grad.zero_()
''', r"sgd_step_ raised RuntimeError: a leaf Variable that requires grad(.|\n)*torch\.no_grad"),
    Mutant("sgd_step_no_skip", "sgd_step_", '''
def sgd_step_(params, lr):
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad
            p.grad.zero_()
''', r"sgd_step_ raised TypeError"),
    Mutant("sgd_step_ascent", "sgd_step_", '''
def sgd_step_(params, lr):
    with torch.no_grad():
        for p in params:
            if p.grad is None:
                continue
            p += lr * p.grad
            p.grad.zero_()
''', r"sgd_step_ returned the wrong values in w \(params\[0\]\) after the step"),

    # -- train_manual
    Mutant("train_manual_no_zero_grad", "train_manual", '''
def train_manual(X, y, lr=0.1, epochs=200):
    w = torch.zeros(1, 1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    losses = []
    for _ in range(epochs):
        loss = mse(X @ w + b, y)
        losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
    return w.detach(), b.detach(), losses
''', r"train_manual: the loss of epoch 3 differs(.|\n)*gradients that are never reset"),
    Mutant("train_manual_rebinds", "train_manual", '''
def train_manual(X, y, lr=0.1, epochs=200):
    w = torch.zeros(1, 1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    losses = []
    for _ in range(epochs):
        loss = mse(X @ w + b, y)
        losses.append(loss.item())
        loss.backward()
        w = w - lr * w.grad
        b = b - lr * b.grad
    return w.detach(), b.detach(), losses
''', r"train_manual raised TypeError(.|\n)*rebound"),
    Mutant("train_manual_ignores_lr", "train_manual", '''
def train_manual(X, y, lr=0.1, epochs=200):
    w = torch.zeros(1, 1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    losses = []
    for _ in range(epochs):
        loss = mse(X @ w + b, y)
        losses.append(loss.item())
        loss.backward()
        sgd_step_([w, b], 0.1)
    return w.detach(), b.detach(), losses
''', r"train_manual called sgd_step_ with learning rate 0\.1 instead of its lr argument"),
    Mutant("train_manual_inline_lr", "train_manual", '''
def train_manual(X, y, lr=0.1, epochs=200):
    w = torch.zeros(1, 1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    losses = []
    for _ in range(epochs):
        loss = mse(X @ w + b, y)
        losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            w -= 0.01 * w.grad
            b -= 0.01 * b.grad
            w.grad.zero_()
            b.grad.zero_()
    return w.detach(), b.detach(), losses
''', r"trajectory of learning rate 0\.01 instead of the lr argument"),
    Mutant("train_manual_random_init", "train_manual", '''
def train_manual(X, y, lr=0.1, epochs=200):
    w = torch.randn(1, 1, requires_grad=True)
    b = torch.randn(1, requires_grad=True)
    losses = []
    for _ in range(epochs):
        loss = mse(X @ w + b, y)
        losses.append(loss.item())
        loss.backward()
        sgd_step_([w, b], lr)
    return w.detach(), b.detach(), losses
''', r"epoch 1 differs(.|\n)*first loss \(before any update\) is wrong(.|\n)*start at zero"),
    Mutant("train_manual_vector_w", "train_manual", '''
def train_manual(X, y, lr=0.1, epochs=200):
    w = torch.zeros(1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    losses = []
    for _ in range(epochs):
        loss = mse(X @ w + b, y)
        losses.append(loss.item())
        loss.backward()
        sgd_step_([w, b], lr)
    return w.detach(), b.detach(), losses
''', r"train_manual raised ValueError: mse: prediction shape \(\d+,\) differs from target shape \(\d+, 1\)"),
    Mutant("train_manual_broadcast_loss", "train_manual", '''
def train_manual(X, y, lr=0.1, epochs=200):
    w = torch.zeros(1, 1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    losses = []
    target = y.squeeze(1)
    for _ in range(epochs):
        loss = ((X @ w + b - target) ** 2).mean()
        losses.append(loss.item())
        loss.backward()
        sgd_step_([w, b], lr)
    return w.detach(), b.detach(), losses
''', r"an \(N, 1\) prediction compared with an \(N,\) target"),
    Mutant("train_manual_tensor_losses", "train_manual", '''
def train_manual(X, y, lr=0.1, epochs=200):
    w = torch.zeros(1, 1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    losses = []
    for _ in range(epochs):
        loss = mse(X @ w + b, y)
        losses.append(loss)
        loss.backward()
        sgd_step_([w, b], lr)
    return w.detach(), b.detach(), losses
''', r"train_manual returned a torch\.Tensor as loss 1; expected a Python float"),
    Mutant("train_manual_not_detached", "train_manual", '''
def train_manual(X, y, lr=0.1, epochs=200):
    w = torch.zeros(1, 1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    losses = []
    for _ in range(epochs):
        loss = mse(X @ w + b, y)
        losses.append(loss.item())
        loss.backward()
        sgd_step_([w, b], lr)
    return w, b, losses
''', r"train_manual returned w still attached to autograd"),
    Mutant("train_manual_ignores_epochs", "train_manual", '''
def train_manual(X, y, lr=0.1, epochs=200):
    w = torch.zeros(1, 1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    losses = []
    for _ in range(200):
        loss = mse(X @ w + b, y)
        losses.append(loss.item())
        loss.backward()
        sgd_step_([w, b], lr)
    return w.detach(), b.detach(), losses
''', r"train_manual returned the wrong number of losses(.|\n)*got 200 losses, expected 5"),

    # -- train_with_optim
    Mutant("train_with_optim_no_zero_grad", "train_with_optim", '''
def train_with_optim(X, y, lr=0.1, epochs=200):
    model = nn.Linear(1, 1)
    with torch.no_grad():
        model.weight.zero_()
        model.bias.zero_()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.MSELoss()
    losses = []
    for _ in range(epochs):
        loss = loss_fn(model(X), y)
        losses.append(loss.item())
        loss.backward()
        optimizer.step()
    return model, losses
''', r"train_with_optim: the loss of epoch 3 differs(.|\n)*gradients that are never reset"),
    Mutant("train_with_optim_random_init", "train_with_optim", '''
def train_with_optim(X, y, lr=0.1, epochs=200):
    model = nn.Linear(1, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.MSELoss()
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        losses.append(loss.item())
        loss.backward()
        optimizer.step()
    return model, losses
''', r"epoch 1 differs(.|\n)*a new linear layer starts from random weights"),
    Mutant("train_with_optim_ignores_lr", "train_with_optim", '''
def train_with_optim(X, y, lr=0.1, epochs=200):
    model = nn.Linear(1, 1)
    with torch.no_grad():
        model.weight.zero_()
        model.bias.zero_()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = nn.MSELoss()
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        losses.append(loss.item())
        loss.backward()
        optimizer.step()
    return model, losses
''', r"trajectory of learning rate 0\.1 instead of the lr argument"),
    Mutant("train_with_optim_returns_state_dict", "train_with_optim", '''
def train_with_optim(X, y, lr=0.1, epochs=200):
    model = nn.Linear(1, 1)
    with torch.no_grad():
        model.weight.zero_()
        model.bias.zero_()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.MSELoss()
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        losses.append(loss.item())
        loss.backward()
        optimizer.step()
    return model.state_dict(), losses
''', r"train_with_optim returned OrderedDict as the model; expected an nn\.Linear"),
    Mutant("train_with_optim_loss_after_step", "train_with_optim", '''
def train_with_optim(X, y, lr=0.1, epochs=200):
    model = nn.Linear(1, 1)
    with torch.no_grad():
        model.weight.zero_()
        model.bias.zero_()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = nn.MSELoss()
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()
        optimizer.step()
        losses.append(loss_fn(model(X), y).item())
    return model, losses
''', r"reference losses one epoch later"),
]
