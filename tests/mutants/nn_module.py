"""Wrong `nn_module` submissions, one per mistake of spec §5: each must lose points on its function only."""

from kit import Mutant

MUTANTS = [
    Mutant("network_renamed_layers", "MyNetwork", '''
class MyNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(20, 30)
        self.fc2 = nn.Linear(30, 30)
        self.fc3 = nn.Linear(30, 40)

    def forward(self, x):
        return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))
''', r"MyNetwork's parameters are named \['fc1\.weight'"),
    Mutant("network_wrong_sizes", "MyNetwork", '''
class MyNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.m1 = nn.Linear(20, 30)
        self.m2 = nn.Linear(30, 40)
        self.m3 = nn.Linear(40, 40)

    def forward(self, x):
        return self.m3(torch.relu(self.m2(torch.relu(self.m1(x)))))
''', r"MyNetwork has \d+ registered parameters; expected 2800"),
    Mutant("network_relu_after_last", "MyNetwork", '''
class MyNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.m1 = nn.Linear(20, 30)
        self.m2 = nn.Linear(30, 30)
        self.m3 = nn.Linear(30, 40)

    def forward(self, x):
        return torch.relu(self.m3(torch.relu(self.m2(torch.relu(self.m1(x))))))
''', r"MyNetwork returned the wrong values in forward\(x\)(.|\n)*none after m3"),
    Mutant("network_layer_in_forward", "MyNetwork", '''
class MyNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.m1 = nn.Linear(20, 30)
        self.m2 = nn.Linear(30, 30)

    def forward(self, x):
        self.m3 = nn.Linear(30, 40)
        return self.m3(torch.relu(self.m2(torch.relu(self.m1(x)))))
''', r"MyNetwork's parameters changed during forward"),
    Mutant("network_flattens_single_input", "MyNetwork", '''
class MyNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.m1 = nn.Linear(20, 30)
        self.m2 = nn.Linear(30, 30)
        self.m3 = nn.Linear(30, 40)

    def forward(self, x):
        x = x.reshape(-1, 20)
        return self.m3(torch.relu(self.m2(torch.relu(self.m1(x)))))
''', r"MyNetwork returned .*shape"),
    Mutant("mlp_plain_list", "MLP", '''
class MLP(nn.Module):
    def __init__(self, sizes):
        super().__init__()
        self.layers = [nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])]

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = torch.relu(x)
        return x
''', r"no registered parameters(.|\n)*nn\.ModuleList"),
    Mutant("mlp_relu_after_last", "MLP", '''
class MLP(nn.Module):
    def __init__(self, sizes):
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))

    def forward(self, x):
        for layer in self.layers:
            x = torch.relu(layer(x))
        return x
''', r"MLP returned the wrong values(.|\n)*no ReLU after the last"),
    Mutant("mlp_layers_in_forward", "MLP", '''
class MLP(nn.Module):
    def __init__(self, sizes):
        super().__init__()
        self.sizes = sizes
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))

    def forward(self, x):
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(self.sizes[:-1], self.sizes[1:]))
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = torch.relu(x)
        return x
''', r"MLP's parameters changed during forward"),
    Mutant("count_includes_frozen", "count_parameters", '''
def count_parameters(model):
    return sum(p.numel() for p in model.parameters())
''', r"count_parameters returned 23 for Sequential"),
    Mutant("count_tensors_not_scalars", "count_parameters", '''
def count_parameters(model):
    return len([p for p in model.parameters() if p.requires_grad])
''', r"count_parameters returned 2 for nn\.Linear"),
    Mutant("optimizer_first_layer_only", "make_optimizer", '''
def make_optimizer(model, lr=0.01, momentum=0.9):
    first = next(model.children())
    return torch.optim.SGD(first.parameters(), lr=lr, momentum=momentum)
''', r"leaves out 4 of the model's 6 parameter tensors"),
    Mutant("optimizer_ignores_momentum", "make_optimizer", '''
def make_optimizer(model, lr=0.01, momentum=0.9):
    return torch.optim.SGD(model.parameters(), lr=lr)
''', r"make_optimizer used momentum=0"),
    Mutant("optimizer_adam", "make_optimizer", '''
def make_optimizer(model, lr=0.01, momentum=0.9):
    return torch.optim.Adam(model.parameters(), lr=lr)
''', r"make_optimizer returned an? Adam.*expected a torch\.optim\.SGD"),
    Mutant("train_no_zero_grad", "train", '''
def train(model, X, Y, epochs=100, lr=0.01, device=None):
    if device is not None:
        model.to(device)
        X, Y = X.to(device), Y.to(device)
    optimizer = make_optimizer(model, lr)
    losses = []
    for _ in range(epochs):
        loss = nn.functional.mse_loss(model(X), Y)
        losses.append(loss.item())
        loss.backward()
        optimizer.step()
    return losses
''', r"differs from the reference trajectory(.|\n)*clear the gradients"),
    Mutant("train_loss_tensors", "train", '''
def train(model, X, Y, epochs=100, lr=0.01, device=None):
    if device is not None:
        model.to(device)
        X, Y = X.to(device), Y.to(device)
    optimizer = make_optimizer(model, lr)
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(X), Y)
        losses.append(loss)
        loss.backward()
        optimizer.step()
    return losses
''', r"returned a torch\.Tensor as loss 0; expected a Python float"),
    Mutant("train_optimizer_each_epoch", "train", '''
def train(model, X, Y, epochs=100, lr=0.01, device=None):
    if device is not None:
        model.to(device)
        X, Y = X.to(device), Y.to(device)
    losses = []
    for _ in range(epochs):
        optimizer = make_optimizer(model, lr)
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(X), Y)
        losses.append(loss.item())
        loss.backward()
        optimizer.step()
    return losses
''', r"train called make_optimizer 15 times; expected once"),
    Mutant("train_device_none_picks_gpu", "train", '''
def train(model, X, Y, epochs=100, lr=0.01, device=None):
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    model.to(device)
    X, Y = X.to(device), Y.to(device)
    optimizer = make_optimizer(model, lr)
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(X), Y)
        losses.append(loss.item())
        loss.backward()
        optimizer.step()
    return losses
''', r"with device=None|device=None means"),
    Mutant("train_a_copy", "train", '''
def train(model, X, Y, epochs=100, lr=0.01, device=None):
    import copy
    model = copy.deepcopy(model)
    optimizer = make_optimizer(model, lr)
    losses = []
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(X), Y)
        losses.append(loss.item())
        loss.backward()
        optimizer.step()
    return losses
''', r"train did not pass its own model and learning rate to make_optimizer"),
    Mutant("save_whole_model", "save_model", '''
def save_model(model, path):
    torch.save(model, path)
''', r"cannot be loaded with torch\.load\(path, weights_only=True\)"),
    Mutant("save_adds_suffix", "save_model", '''
def save_model(model, path):
    torch.save(model.state_dict(), str(path) + ".pt")
''', r"save_model did not write a file at the given path"),
    Mutant("load_path_into_load_state_dict", "load_model", '''
def load_model(path):
    model = MyNetwork()
    model.load_state_dict(path)
    return model
''', r"load_model raised TypeError(.|\n)*not the path"),
    Mutant("load_returns_dict", "load_model", '''
def load_model(path):
    return torch.load(path, weights_only=True)
''', r"load_model returned a dict; expected a MyNetwork"),
    Mutant("snapshot_aliases", "snapshot", '''
def snapshot(model):
    return model.state_dict()
''', r"snapshot changed when the model was updated in place"),
    Mutant("snapshot_shallow_copy", "snapshot", '''
def snapshot(model):
    return dict(model.state_dict())
''', r"shares memory with the live weights"),
]
