"""`make bench`: what a grade costs, measured side by side with a bare `import torch`.

Prints medians of several runs: the wall time of `make grade` on each assignment's reference
solution, the wall time of `python -c "import torch"`, their ratio, the median round trip of
one call into the student's process, the peak memory (RSS summed over the grader and every
process below it) during a grade, and what the same reference costs as a notebook with demo
cells (magics, plots, a training loop of minutes) next to the .py.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from autograder.course import ROOT, available
from autograder.isolation.processes import descendants

RUNS = 3
REGRADE_SUBMISSIONS = 50   # copies of the reference in the regrade benchmark
SEQUENTIAL_SAMPLE = 10     # `make grade` runs timed to extrapolate the one-at-a-time baseline


def wall(command: list[str]) -> tuple[float, int]:
    """Wall time of one command, and the peak of the RSS summed over it and its descendants."""
    peak = [0]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            total = sum(rss(pid) for pid in [process.pid, *descendants(process.pid)])
            peak[0] = max(peak[0], total)
            time.sleep(0.02)

    started = time.perf_counter()
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    process.wait()
    elapsed = time.perf_counter() - started
    stop.set()
    sampler.join()
    return elapsed, peak[0]


def rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def call_round_trip(samples: int = 200) -> float:
    """Median seconds for one small call into a running child."""
    import torch

    from autograder.session.child_process import ChildProcess, child_env
    from autograder.session.student import Student
    from autograder.session.zygote import Zygote

    zygote = Zygote.launch(child_env({}))
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "tensors.py"
        path.write_text("def first_row(x):\n    return x[0]\n")
        student = Student(process=ChildProcess(cwd=Path(scratch), zygote=zygote), path=str(path), module_name="tensors",
                          source=path.read_text())
        x = torch.arange(12.0).reshape(3, 4)
        student.first_row(x)
        times = []
        for _ in range(samples):
            started = time.perf_counter()
            student.first_row(x)
            times.append(time.perf_counter() - started)
        student.process.stop()
    zygote.close()
    return statistics.median(times)


DEMO_CELLS = ("%matplotlib inline\n!pip install tqdm\nimport matplotlib.pyplot as plt",
              "x = torch.randn(3, 4)\nprint(first_row(x))\nplt.plot(x[0]); plt.show()",
              "for epoch in range(10**9):   # a ten-minute training run\n    w = torch.randn(100)\n"
              "    loss = (w ** 2).mean()")


def notebook_cost(assignment: str = "tensors") -> None:
    """The reference as a .py, and as a notebook (a cell per definition, plus magics, plots and
    a training loop that would run for minutes), graded alternately: what the notebook costs."""
    import nbformat

    from autograder.course import Assignment
    from autograder.instructor.bundles import stub_notebook

    source = Assignment.get(assignment).solution.read_text(encoding="utf-8")
    notebook = stub_notebook(source, assignment)
    notebook.cells += [nbformat.v4.new_code_cell(cell) for cell in DEMO_CELLS]
    times = {".py": [], ".ipynb": []}
    with tempfile.TemporaryDirectory() as scratch:
        for suffix in times:
            folder = Path(scratch) / suffix.strip(".")
            folder.mkdir()
            if suffix == ".py":
                (folder / f"{assignment}.py").write_text(source, encoding="utf-8")
            else:
                nbformat.write(notebook, folder / f"{assignment}.ipynb")
        for _ in range(RUNS):
            for suffix in times:
                times[suffix].append(wall(["make", "-s", "grade", f"ASSIGNMENT={assignment}",
                                           f"SUBMISSION={scratch}/{suffix.strip('.')}",
                                           f"OUT={scratch}/results.json"])[0])
    script, book = statistics.median(times[".py"]), statistics.median(times[".ipynb"])
    print(f"\n{assignment} as a .py {script:5.2f} s | as a notebook with demo cells {book:5.2f} s | "
          f"ratio {book / script:4.2f} (medians of {RUNS}, alternating)")


def regrade_rate(assignment: str = "tensors", count: int = REGRADE_SUBMISSIONS,
                 sample: int = SEQUENTIAL_SAMPLE, jobs: int | None = None) -> None:
    """Submissions per minute: `autograder regrade` of `count` submissions vs `make grade` one at a time."""
    from autograder.course import Assignment
    from autograder.instructor.regrade import _cores, regrade

    solution = Assignment.get(assignment).solution
    jobs = jobs or _cores()
    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        for index in range(sample):
            subprocess.run(["make", "-s", "grade", f"ASSIGNMENT={assignment}", f"SUBMISSION={solution}",
                            f"OUT={scratch}/sequential-{index}.json"], cwd=ROOT, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        sequential = (time.perf_counter() - started) / sample
        export = Path(scratch) / "export"
        for index in range(count):
            folder = export / f"submission_{index + 1}"
            folder.mkdir(parents=True)
            (folder / f"{assignment}.py").write_bytes(solution.read_bytes())
        summary = regrade(assignment, export, Path(scratch) / "out", jobs=jobs, progress=False)
    graded = sum(row.status == "graded" for row in summary.rows)
    sequential_rate = 60 / sequential
    parallel_rate = count / summary.elapsed * 60
    print(f"\nregrade of {count} submissions ({assignment}, reference), {jobs} at a time on {_cores()} cores:")
    print(f"  one `make grade` at a time     {sequential_rate:6.1f} submissions/min "
          f"(mean of {sample} runs, {sequential:.2f} s each; {count} would take {count * sequential:.0f} s)")
    print(f"  autograder regrade             {parallel_rate:6.1f} submissions/min "
          f"({summary.elapsed:.1f} s for {count}, {graded} graded)")
    print(f"  speed-up                       {parallel_rate / sequential_rate:6.2f} x")


def run(*, regrade_only: bool = False, quick: bool = False) -> int:
    """Each grade is timed next to a bare `import torch`, alternating, so both see the same load."""
    if regrade_only:
        regrade_rate()
        return 0
    python = sys.executable
    print(f"Medians of {RUNS} runs, each grade alternating with a bare `python -c 'import torch'`.\n")
    for assignment in available():
        if not assignment.solution.exists():
            continue
        torch_times, grades = [], []
        with tempfile.TemporaryDirectory() as out:
            for _ in range(RUNS):
                torch_times.append(wall([python, "-c", "import torch"])[0])
                grades.append(wall(["make", "-s", "grade", f"ASSIGNMENT={assignment.name}",
                                    f"SUBMISSION={assignment.solution}", f"OUT={out}/results.json"]))
        torch_time = statistics.median(torch_times)
        grade_time = statistics.median(g[0] for g in grades)
        peak = max(g[1] for g in grades)
        print(f"make grade {assignment.name:<18} {grade_time:5.2f} s | import torch {torch_time:5.2f} s | "
              f"ratio {grade_time / torch_time:4.2f} | peak memory {peak / 2**20:4.0f} MB (Gradescope: 768 MB)")
    print(f"\none call into the student's process: {call_round_trip() * 1e3:.2f} ms (median of 200)")
    notebook_cost()
    if not quick:
        regrade_rate()
    return 0
