"""Gradescope's Python environment, built here by the autograder zip's own setup.sh.

The session fixture `gradescope_env` (registered in tests/conftest.py) builds an autograder zip,
unpacks it the way Gradescope does (`<root>/source`), and runs the zip's
`setup.sh --environment-only` with the base Python `/usr/bin/python3` (which the unprivileged
`student` user can run, unlike a Python under /root) into a virtual environment: exactly what
requirements/student.txt and requirements/grader.txt declare, at the versions of
constraints.txt, and not the dev environment's extras (pyyaml, hypothesis, ...).

Building takes about a minute and needs PyPI, so the environment is kept across test runs in
`build/gradescope-env/<key>/venv`, where the key is a hash of constraints.txt, requirements/*,
setup.sh, the base Python and the torch index: a second `make test` reuses it, and a change to
the declaration builds a new one (older ones are removed). torch comes from pip's own settings
when the dev environment's torch is a CPU build (pip's settings provide one, as on this kind of
machine), else from PyPI's CPU index; AUTOGRADER_TEST_TORCH_INDEX overrides that ("" for
pip's settings).

Use it in a test marked `network` and `slow`:

    def test_x(gradescope_env, tmp_path):
        outcome = gradescope_env.run_autograder("tensors", path_to_submission)   # results.json
        outcomes = gradescope_env.grade_batch("tensors", [(submission, tmp_path / "a.json")])
        subprocess.run([gradescope_env.python, "-c", "import yaml"])
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

from autograder.instructor import bundles

from autograder import results

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "build" / "gradescope-env"
BASE_PYTHON = Path("/usr/bin/python3")
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
BUILD_TIMEOUT = 1200
NETWORK_ERRORS = ("Could not fetch URL", "NewConnectionError", "Max retries exceeded", "Temporary failure")
METADATA = {"id": 1, "created_at": "2026-01-01T12:00:00Z", "submission_method": "upload",
            "assignment": {"title": "test"}, "users": [{"email": "ada@example.edu", "id": 7, "name": "Ada Lovelace"}]}


def torch_index() -> str:
    """Where setup.sh gets torch from here ("" = pip's own settings)."""
    if "AUTOGRADER_TEST_TORCH_INDEX" in os.environ:
        return os.environ["AUTOGRADER_TEST_TORCH_INDEX"]
    try:
        cpu_build = metadata.version("torch").endswith("+cpu")
    except metadata.PackageNotFoundError:
        cpu_build = False
    return "" if cpu_build else CPU_INDEX


def unpack(zip_path: Path, base: Path) -> Path:
    """A folder laid out like Gradescope's /autograder, with the zip in source/."""
    root = Path(tempfile.mkdtemp(prefix="autograder-", dir=base))
    for name in ("source", "submission", "results"):
        (root / name).mkdir()
    with zipfile.ZipFile(zip_path) as archive:
        for info in archive.infolist():
            target = root / "source" / info.filename
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(info))
            os.chmod(target, (info.external_attr >> 16) & 0o777)
    (root / "submission_metadata.json").write_text(json.dumps(METADATA))
    return root


class GradescopeEnv:
    """The environment setup.sh built, and ways to grade with it."""

    def __init__(self, venv: Path, work: Path, build_seconds: float | None) -> None:
        self.venv = venv
        self.work = work                  # this test session's zips and unpacked kits
        self.build_seconds = build_seconds  # None: reused from an earlier run
        self._zips: dict[str, Path] = {}

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def zip(self, assignment: str) -> Path:
        if assignment not in self._zips:
            self._zips[assignment] = bundles.build_autograder_zip(assignment, self.work / "dist")
        return self._zips[assignment]

    def unpack(self, assignment: str) -> Path:
        """A fresh Gradescope-like root with `assignment`'s zip in source/."""
        return unpack(self.zip(assignment), self.work)

    def run_autograder(self, assignment: str, submission: Path) -> dict:
        """Grade `submission` (a file or a folder) as Gradescope would: its run_autograder, this
        environment's Python. Returns the validated results.json."""
        root = self.unpack(assignment)
        submission = Path(submission)
        if submission.is_dir():
            shutil.copytree(submission, root / "submission", dirs_exist_ok=True)
        else:
            shutil.copy(submission, root / "submission" / submission.name)
        env = {**os.environ, "AUTOGRADER_PYTHON": str(self.python)}
        process = subprocess.run(["bash", str(root / "source" / "run_autograder"), "--root", str(root)], cwd=root,
                                 env=env, capture_output=True, text=True, timeout=600)
        assert process.returncode == 0, process.stdout + process.stderr
        outcome = json.loads((root / "results" / "results.json").read_text())
        results.validate(outcome)
        return outcome

    def grade_batch(self, assignment: str, items: list[tuple[Path, Path]],
                    call_timeout: float | None = None) -> list[dict]:
        """`autograder.supervisor.grade.grade_batch` (sessions=2) run by this environment's Python from the
        unpacked kit; each results.json is written to its out path. Returns them, validated."""
        kit = self.unpack(assignment) / "source"
        request = {"assignment": assignment, "call_timeout": call_timeout,
                   "items": [[str(Path(s).resolve()), str(Path(o).resolve())] for s, o in items]}
        code = ("import json, sys\n"
                "sys.path.insert(0, sys.argv[1])\n"
                "from pathlib import Path\n"
                "from autograder.supervisor.grade import Options, grade_batch\n"
                "request = json.loads(sys.argv[2])\n"
                "grade_batch(request['assignment'], [(Path(s), Path(o)) for s, o in request['items']],\n"
                "            Options(call_timeout=request['call_timeout']), sessions=2)\n")
        for _, out in items:
            Path(out).parent.mkdir(parents=True, exist_ok=True)
        process = subprocess.run([str(self.python), "-I", "-c", code, str(kit), json.dumps(request)], cwd=kit,
                                 capture_output=True, text=True, timeout=600 + 60 * len(items))
        assert process.returncode == 0, process.stdout + process.stderr
        outcomes = []
        for _, out in items:
            outcome = json.loads(Path(out).read_text())
            results.validate(outcome)
            outcomes.append(outcome)
        return outcomes


def cache_key(source: Path, index: str) -> str:
    """What the environment depends on: the declaration, setup.sh, the base Python, the index."""
    digest = hashlib.sha256()
    files = [source / "constraints.txt", source / "setup.sh", *sorted((source / "requirements").glob("*.txt"))]
    for path in files:
        digest.update(path.relative_to(source).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    version = subprocess.run([str(BASE_PYTHON), "-c", "import sys; print(sys.version)"], capture_output=True,
                             text=True, check=True).stdout
    digest.update(f"{BASE_PYTHON}\0{version}\0{index}".encode())
    return digest.hexdigest()[:16]


def base_python_problem() -> str | None:
    """Why /usr/bin/python3 cannot make the environment, or None."""
    if not os.access(BASE_PYTHON, os.X_OK):
        return f"{BASE_PYTHON} is missing: Gradescope's environment is built from the system Python"
    check = subprocess.run([str(BASE_PYTHON), "-c", "import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 10))"],
                           capture_output=True, text=True)
    if check.returncode != 0:
        return (f"{BASE_PYTHON} cannot create a virtual environment with pip (no venv/ensurepip, or older "
                f"than 3.10; apt-get install python3-venv): {check.stderr.strip().splitlines()[-1:]}")
    return None


def build(work: Path) -> GradescopeEnv:
    """The cached environment for the current declaration, built with setup.sh if needed."""
    problem = base_python_problem()
    if problem:
        pytest.skip(problem)
    source = unpack(bundles.build_autograder_zip("tensors", work / "dist"), work) / "source"
    index = torch_index()
    key = cache_key(source, index)
    folder = CACHE / key
    venv, done, log = folder / "venv", folder / "complete", folder / "setup.log"
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".lock", "w") as lock:   # another `make test` in the same tree waits here
        fcntl.flock(lock, fcntl.LOCK_EX)
        if done.is_file() and (venv / "bin" / "python").exists():
            return GradescopeEnv(venv, work, None)
        for old in CACHE.iterdir():
            if old.is_dir():
                shutil.rmtree(old, ignore_errors=True)
        folder.mkdir(parents=True)
        env = {**os.environ, "AUTOGRADER_VENV": str(venv), "AUTOGRADER_BASE_PYTHON": str(BASE_PYTHON),
               "AUTOGRADER_TORCH_INDEX": index}
        started = time.monotonic()
        with open(log, "w") as output:
            process = subprocess.run(["bash", str(source / "setup.sh"), "--environment-only"], env=env, cwd=folder,
                                     stdout=output, stderr=subprocess.STDOUT, timeout=BUILD_TIMEOUT)
        seconds = time.monotonic() - started
        text = log.read_text(errors="replace")
        if process.returncode != 0:
            shutil.rmtree(venv, ignore_errors=True)
            tail = "\n".join(text.splitlines()[-30:])
            if any(error in text for error in NETWORK_ERRORS):
                pytest.skip(f"setup.sh could not reach the package index: {tail.splitlines()[-1] if tail else ''}")
            pytest.fail(f"setup.sh --environment-only failed (exit {process.returncode}); {log}:\n{tail}")
        done.write_text(f"built in {seconds:.0f} s\n")
        print(f"\ngradescope_env: built {venv} in {seconds:.0f} s", file=sys.stderr)
        return GradescopeEnv(venv, work, seconds)


@pytest.fixture(scope="session")
def gradescope_env(tmp_path_factory) -> GradescopeEnv:
    """Gradescope's environment, built by the zip's setup.sh (cached in build/gradescope-env/)."""
    return build(tmp_path_factory.mktemp("gradescope-env"))
