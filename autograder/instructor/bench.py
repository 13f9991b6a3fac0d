"""`make bench`: what a grade costs, measured side by side with a bare `import torch`.

Everything measured runs on one CPU (the bench pins it with sched_setaffinity, like
`taskset -c 0`), the closest to Gradescope's 0.5 vCPU; the sampler that watches memory runs on
another CPU where there is one. Memory is counted as a memory cgroup counts it: the peak of the
Pss summed over the measured process and every process below it (pages that the session, the
zygote and the student's process share count once), not their summed RSS.

Prints medians of several runs, each grade alternating with a bare `python -c "import torch"`:
the wall time and peak memory of `autograder grade` on each assignment's reference, their
ratios to the bare import and the goals (time at most 2x, tensors 1.5x; memory 1.5x), the
round trip of one call into the student's process, what the reference costs as a notebook
with demo cells next to the .py, and a regrade of many submissions against one
`make grade` at a time (goal: 10x).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from autograder.course import ROOT, Assignment, available
from autograder.isolation.processes import descendants

RUNS = 3
REGRADE_SUBMISSIONS = 50   # copies of the reference in the regrade benchmark
SEQUENTIAL_SAMPLE = 10     # `make grade` runs timed to extrapolate the one-at-a-time baseline
TIME_GOAL, TENSORS_TIME_GOAL, MEMORY_GOAL, REGRADE_GOAL = 2.0, 1.5, 1.5, 10.0
# torch.optim imports torch._dynamo on an optimizer's first use (~1 s on one CPU): the
# assignments that train pay it once, and are also shown against this baseline.
WITH_DYNAMO = "import torch, torch._dynamo"


def measured_cpu() -> int:
    """The CPU that measured commands run on: the first this process may use."""
    return min(os.sched_getaffinity(0))


def pin_sampler() -> None:
    """Keep this process (the memory sampler) off the measured CPU, where there is another."""
    others = os.sched_getaffinity(0) - {measured_cpu()}
    if others:
        os.sched_setaffinity(0, others)


def measure(command: list[str], cpu: int) -> tuple[float, int]:
    """Wall time of one command on `cpu`, and the peak of the Pss summed over it and its descendants."""
    peak = [0]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               preexec_fn=lambda: os.sched_setaffinity(0, {cpu}))
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], sum(pss(pid) for pid in [process.pid, *descendants(process.pid)]))
            time.sleep(0.02)

    started = time.perf_counter()
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    process.wait()
    elapsed = time.perf_counter() - started
    stop.set()
    sampler.join()
    return elapsed, peak[0]


def pss(pid: int) -> int:
    """Proportional set size: each page divided among the processes sharing it (smaps_rollup)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def at_most(value: float, goal: float) -> str:
    return f"(goal <= {goal:g}x: {'met' if value <= goal else 'MISSED'})"


def at_least(value: float, goal: float) -> str:
    return f"(goal >= {goal:g}x: {'met' if value >= goal else 'MISSED'})"


def grade_costs(cpu: int) -> None:
    python = sys.executable
    print(f"On CPU {cpu} only; medians of {RUNS} runs, each grade alternating with a bare "
          "`python -c 'import torch'`; memory: peak summed Pss of the process tree.\n")
    for assignment in available():
        if not assignment.solution.exists():
            continue
        bases, grades = [], []
        with tempfile.TemporaryDirectory() as out:
            for _ in range(RUNS):
                bases.append(measure([python, "-c", "import torch"], cpu))
                grades.append(measure([python, "-m", "autograder", "grade", assignment.name,
                                       str(assignment.solution), "--out", f"{out}/results.json"], cpu))
        base_time = statistics.median(b[0] for b in bases)
        base_memory = statistics.median(b[1] for b in bases)
        grade_time = statistics.median(g[0] for g in grades)
        peak = max(g[1] for g in grades)
        goal = TENSORS_TIME_GOAL if assignment.name == "tensors" else TIME_GOAL
        line = (f"grade {assignment.name:<18} {grade_time:5.2f} s, {peak / 2**20:4.0f} MB | import torch "
                f"{base_time:5.2f} s, {base_memory / 2**20:4.0f} MB | time {grade_time / base_time:4.2f}x "
                f"{at_most(grade_time / base_time, goal)} | memory {peak / base_memory:4.2f}x "
                f"{at_most(peak / base_memory, MEMORY_GOAL)}")
        if "torch._dynamo" in assignment.warm_up:
            dynamo = statistics.median(measure([python, "-c", WITH_DYNAMO], cpu)[0] for _ in range(RUNS))
            line += f" | vs `{WITH_DYNAMO}` ({dynamo:4.2f} s): {grade_time / dynamo:4.2f}x"
        print(line)
    print("(Gradescope's default memory limit: 768 MB.)")


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
                times[suffix].append(measure([sys.executable, "-m", "autograder", "grade", assignment,
                                              f"{scratch}/{suffix.strip('.')}", "--out", f"{scratch}/results.json"],
                                             measured_cpu())[0])
    script, book = statistics.median(times[".py"]), statistics.median(times[".ipynb"])
    print(f"\n{assignment} as a .py {script:5.2f} s | as a notebook with demo cells {book:5.2f} s | "
          f"ratio {book / script:4.2f} (medians of {RUNS}, alternating)")


def regrade_rate(assignment: str = "tensors", count: int = REGRADE_SUBMISSIONS,
                 sample: int = SEQUENTIAL_SAMPLE, jobs: int | None = None, cpus: set[int] | None = None) -> None:
    """Submissions per minute: `autograder regrade` of `count` submissions vs `make grade` one
    at a time, both on `cpus` (default: all of this machine's)."""
    from autograder.instructor.regrade import regrade

    cpus = cpus or os.sched_getaffinity(0)
    solution = Assignment.get(assignment).solution
    jobs = jobs or len(cpus)
    mine = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cpus)   # inherited by every process the regrade starts
    try:
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
    finally:
        os.sched_setaffinity(0, mine)
    graded = sum(row.status == "graded" for row in summary.rows)
    sequential_rate = 60 / sequential
    parallel_rate = count / summary.elapsed * 60
    speedup = parallel_rate / sequential_rate
    print(f"\nregrade of {count} submissions ({assignment}, reference), {jobs} at a time on {len(cpus)} CPU(s):")
    print(f"  one `make grade` at a time     {sequential_rate:6.1f} submissions/min "
          f"(mean of {sample} runs, {sequential:.2f} s each; {count} would take {count * sequential:.0f} s)")
    print(f"  autograder regrade             {parallel_rate:6.1f} submissions/min "
          f"({summary.elapsed:.1f} s for {count}, {graded} graded)")
    print(f"  speed-up                       {speedup:6.2f} x {at_least(speedup, REGRADE_GOAL)}")


def run(*, regrade_only: bool = False, quick: bool = False) -> int:
    """Each grade on one CPU, timed next to a bare `import torch`, alternating, so both see the same load."""
    cpu = measured_cpu()
    if regrade_only:
        regrade_rate(cpus={cpu})
        regrade_rate()
        return 0
    pin_sampler()
    grade_costs(cpu)
    os.sched_setaffinity(0, {cpu})
    print(f"\none call into the student's process: {call_round_trip() * 1e3:.2f} ms (median of 200)")
    notebook_cost()
    if not quick:
        regrade_rate(cpus={cpu})
    return 0
