"""Where each assignment's pieces live. The assignment id is the file stem students submit."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent            # the kit: a clone of the repository, or /autograder/source

NAMES = ("tensors", "manual_gradients", "autograd_function", "linear_regression", "nn_module")

# What each assignment grades: the functions and classes of its stub (course-spec; a test checks
# that the stubs and the solutions define exactly these). Loading a submission runs what these need.
API = {
    "tensors": ("make_tensors", "describe", "shared_from_numpy", "copied_from_numpy", "to_numpy", "add",
                "matmul_2d", "batched_matmul", "matmul_shape", "flatten_batch", "add_inplace", "add_new",
                "first_row", "second_column", "last_column_first_two_rows", "count_negatives", "get_device",
                "to_device"),
    "manual_gradients": ("product_grads", "mean_poly_forward", "mean_poly_grad", "sum_square_grad", "mse_grad",
                         "sigmoid_backward", "linear_backward", "autograd_grad", "central_difference",
                         "relative_error"),
    "autograd_function": ("Square", "Sigmoid", "IHateThrees", "RoundSTE", "MulAdd", "ScaleBy"),
    "linear_regression": ("make_data", "mse", "sgd_step_", "train_manual", "train_with_optim"),
    "nn_module": ("MyNetwork", "MLP", "count_parameters", "make_optimizer", "train", "save_model", "load_model",
                  "snapshot"),
}

# Modules the student's process imports while it waits for its first request (the grader is
# still collecting tests then): an optimizer's first step imports torch._dynamo, ~1.3 s.
WARM_UP = {"linear_regression": ("torch._dynamo",), "nn_module": ("torch._dynamo",)}

# How much a failing test's hint says (autograder.session.hints): "solution" writes the fix,
# "mistake" names the mistake without a line of the solution, "outcome" gives no hint. The
# instructor's choice; it travels with the engine into the Gradescope zip and the student bundle.
HINT_LEVELS = {"tensors": "mistake", "manual_gradients": "mistake", "autograd_function": "mistake",
               "linear_regression": "mistake", "nn_module": "mistake"}


class UnknownAssignment(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown assignment {name!r}; choose one of: {', '.join(NAMES)}")


@dataclass(frozen=True)
class Assignment:
    """Where one assignment's pieces live, in the kit at `root` (the instructors' tools are tested
    on a kit in a temporary folder)."""

    name: str
    root: Path = ROOT

    @classmethod
    def get(cls, name: str) -> "Assignment":
        if name not in NAMES:
            raise UnknownAssignment(name)
        return cls(name)

    @property
    def graders(self) -> Path:
        return graders_folder(self.root) / self.name

    @property
    def solution(self) -> Path:
        return solutions_folder(self.root) / f"{self.name}.py"

    @property
    def stub(self) -> Path:
        return self.root / "assignments" / self.name / f"{self.name}.py"

    @property
    def handout(self) -> Path:
        return self.stub.with_name("handout.md")

    @property
    def api(self) -> tuple[str, ...]:
        return API[self.name]

    @property
    def warm_up(self) -> tuple[str, ...]:
        return WARM_UP.get(self.name, ())

    @property
    def hint_level(self) -> str:
        return HINT_LEVELS.get(self.name, "mistake")

    @property
    def accepted_files(self) -> tuple[str, str]:
        return f"{self.name}.py", f"{self.name}.ipynb"


def graders_folder(root: Path = ROOT) -> Path:
    """Every assignment's graders, and the session's pytest.ini."""
    return root / PACKAGE.name / "graders"


def solutions_folder(root: Path = ROOT) -> Path:
    """The reference solutions: instructors only."""
    return root / "solutions"


def available() -> list[Assignment]:
    """Assignments whose graders exist, in course order."""
    return [a for a in map(Assignment, NAMES) if a.graders.is_dir()]


def solution_names(root: Path = ROOT) -> list[str]:
    """The assignments that have a reference solution in `root`, sorted; `_`-prefixed files are not ones."""
    return sorted(p.stem for p in solutions_folder(root).glob("*.py") if not p.name.startswith("_"))


def handouts(root: Path = ROOT) -> list[Path]:
    """Every handout in `root` (also those of assignments without graders yet), sorted."""
    return sorted(root.glob("assignments/*/handout.md"))
