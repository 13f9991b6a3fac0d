"""`make bench`: what a grade costs, measured side by side with a bare `import torch`.

Prints medians of several runs: the wall time of `make grade` on each assignment's reference
solution, the wall time of `python -c "import torch"`, their ratio, the median round trip of
one call into the student's process, and the peak memory (RSS summed over the grader and
every process below it) during a grade.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from autograder.assignments import ROOT, available
from autograder.reaper import descendants

RUNS = 3


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

    from autograder.student import Student
    from autograder.worker import Worker

    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "tensors.py"
        path.write_text("def first_row(x):\n    return x[0]\n")
        student = Student(worker=Worker(cwd=Path(scratch)), path=str(path), module_name="tensors",
                          source=path.read_text())
        x = torch.arange(12.0).reshape(3, 4)
        student.first_row(x)
        times = []
        for _ in range(samples):
            started = time.perf_counter()
            student.first_row(x)
            times.append(time.perf_counter() - started)
        student.worker.stop()
    return statistics.median(times)


def main() -> int:
    python = sys.executable
    print(f"Median of {RUNS} runs each, measured side by side on this machine.\n")
    torch_runs = [wall([python, "-c", "import torch"])[0] for _ in range(RUNS)]
    torch_time = statistics.median(torch_runs)
    print(f"python -c 'import torch'          {torch_time:6.2f} s")
    for assignment in available():
        if not assignment.solution.exists():
            continue
        with tempfile.TemporaryDirectory() as out:
            runs = [wall(["make", "-s", "grade", f"ASSIGNMENT={assignment.name}",
                          f"SUBMISSION={assignment.solution}", f"OUT={out}/results.json"])
                    for _ in range(RUNS)]
        grade_time = statistics.median(r[0] for r in runs)
        peak = max(r[1] for r in runs)
        print(f"make grade {assignment.name:<20}   {grade_time:6.2f} s   {grade_time / torch_time:4.2f} x import torch"
              f"   peak memory {peak / 2**20:5.0f} MB (limit 768 MB)")
    print(f"\none call into the student's process {call_round_trip() * 1e3:6.2f} ms (median of 200)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
