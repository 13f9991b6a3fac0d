"""Regrade a whole Gradescope export, in parallel: `autograder regrade ASSIGNMENT EXPORT`.

EXPORT is what Gradescope's "Export Submissions" gives: a zip (or the folder unpacked from it)
with one folder per submission (`submission_123456/`) and `submission_metadata.yml`, which maps
those folder names to `{":submitters": [{":name", ":email", ":sid"}], ":score", ":created_at", ...}`
(keys are read with or without their leading colon). A zip is unpacked safely: no absolute
paths, no `..`, no links, capped sizes.

The submissions go to `autograder.supervisor.grade.grade_batch`, the engine of `make grade`:
`--jobs` grading sessions in parallel (default: the CPU cores), each importing torch once and
grading its share one submission after the other, with the students' processes forked from a
zygote; everything a submission started is killed before its results.json is written. A session
that spends more than `--timeout` seconds on one submission (default 600, Gradescope's) is
killed (that submission's results say so; its tests that did not run score 0), and a new session
grades the rest of its share. Outputs, in `--out` (default `regrade-<assignment>/`):

    grades.csv       name, email, sid, submission id, score, max score, status, reason, one column per test
    summary.md       mean and median score, pass rate of every test, the submissions that need a look,
                     those that changed the grader's code in their process
    histogram.png    the score distribution (matplotlib)
    <id>/results.json   what each grade wrote

A submission that crashes, hangs or is malformed gets its row, with the reason; its status is
"graded", "crashed" (the grader could not grade it: results.json's `extra_data.status`) or
"missing" (listed in the metadata, absent from the export). No submission stops the run.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import statistics
import stat
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from autograder import results
from autograder.course import Assignment
from autograder.supervisor.grade import GRADER_ERROR, Options, ResultsNotWritten, grade_batch

METADATA = "submission_metadata.yml"
SUBMISSION_TIMEOUT = 600.0  # Gradescope's default limit for one submission
MAX_MEMBERS = 200_000
MAX_MEMBER_BYTES = 256 * 2**20
MAX_TOTAL_BYTES = 8 * 2**30
SKIPPED_FOLDERS = {"__MACOSX"}
FIXED_COLUMNS = ["name", "email", "sid", "submission_id", "score", "max_score", "status", "reason"]


class ExportError(ValueError):
    """The export cannot be read at all."""


@dataclass
class Submission:
    folder_name: str
    folder: Path | None
    names: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    sids: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        match = re.fullmatch(r"submission_(\w+)", self.folder_name)
        return match.group(1) if match else self.folder_name


@dataclass
class Row:
    submission: Submission
    status: str                      # graded, timeout, crashed, missing
    reason: str = ""
    results: dict | None = None
    seconds: float = 0.0

    @property
    def score(self) -> float:
        return float(self.results.get("score", 0)) if self.results else 0.0

    @property
    def max_score(self) -> float:
        return sum(float(t.get("max_score", 0)) for t in (self.results or {}).get("tests", []))


# --- reading the export --------------------------------------------------------------------


def safe_extract(archive: Path, target: Path) -> list[str]:
    """Unpack `archive` into `target`, refusing what could escape it; return warnings."""
    warnings: list[str] = []
    total = 0
    target.mkdir(parents=True, exist_ok=True)
    base = target.resolve()
    try:
        handle = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as error:
        raise ExportError(f"{archive} is not a readable zip ({error})") from None
    with handle:
        members = handle.infolist()
        if len(members) > MAX_MEMBERS:
            raise ExportError(f"{archive} has {len(members)} entries; the limit is {MAX_MEMBERS}")
        for info in members:
            name = info.filename.replace("\\", "/")
            path = PurePosixPath(name)
            mode = info.external_attr >> 16
            if path.is_absolute() or ".." in path.parts or re.match(r"^[A-Za-z]:", name):
                warnings.append(f"skipped {info.filename!r}: path outside the export")
                continue
            kind = stat.S_IFMT(mode)  # 0 when the zip was not made on Unix: a plain file
            if kind and kind not in (stat.S_IFREG, stat.S_IFDIR):
                warnings.append(f"skipped {info.filename!r}: not a regular file")
                continue
            destination = (base / Path(*path.parts)) if path.parts else base
            if not str(destination.resolve()).startswith(str(base)):
                warnings.append(f"skipped {info.filename!r}: path outside the export")
                continue
            if info.is_dir():
                destination.mkdir(parents=True, exist_ok=True)
                continue
            if info.file_size > MAX_MEMBER_BYTES:
                warnings.append(f"skipped {info.filename!r}: {info.file_size} bytes is over the limit")
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            written = 0
            with handle.open(info) as source, open(destination, "wb") as sink:
                while chunk := source.read(2**20):
                    written += len(chunk)
                    total += len(chunk)
                    if written > MAX_MEMBER_BYTES or total > MAX_TOTAL_BYTES:
                        raise ExportError(f"{archive} unpacks to more than the size limit (at {info.filename!r})")
                    sink.write(chunk)
    return warnings


def find_export_root(folder: Path) -> Path:
    """The folder that holds submission_metadata.yml (Gradescope's zip wraps it in one folder)."""
    if (folder / METADATA).is_file():
        return folder
    for depth in (1, 2):
        found = sorted(p.parent for p in folder.glob("/".join(["*"] * depth) + "/" + METADATA)
                       if "__MACOSX" not in p.parts)
        if found:
            return found[0]
    return folder


def _plain_keys(value):
    """YAML from Ruby: ':submitters' -> 'submitters', recursively."""
    if isinstance(value, dict):
        return {str(k).lstrip(":"): _plain_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_keys(v) for v in value]
    return value


def read_metadata(root: Path) -> tuple[dict, list[str]]:
    path = root / METADATA
    if not path.is_file():
        return {}, [f"no {METADATA} in the export: every folder is graded, without names"]
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8", errors="replace"))
    except yaml.YAMLError as error:
        return {}, [f"{METADATA} could not be read ({str(error).splitlines()[0]}): graded without names"]
    if not isinstance(data, dict):
        return {}, [f"{METADATA} is not a mapping of submissions: graded without names"]
    return {str(k): _plain_keys(v) for k, v in data.items()}, []


def submissions(root: Path) -> tuple[list[Submission], list[str]]:
    metadata, warnings = read_metadata(root)
    folders = {p.name: p for p in root.iterdir()
               if p.is_dir() and not p.is_symlink() and not p.name.startswith(".") and p.name not in SKIPPED_FOLDERS}
    found = []
    for name in sorted(set(folders) | set(metadata), key=_natural):
        entry = metadata.get(name) if isinstance(metadata.get(name), dict) else {}
        people = [p for p in entry.get("submitters") or [] if isinstance(p, dict)]
        found.append(Submission(
            folder_name=name, folder=folders.get(name),
            names=[str(p.get("name") or "") for p in people], emails=[str(p.get("email") or "") for p in people],
            sids=[str(p.get("sid") or "") for p in people]))
    return found, warnings


def _natural(text: str) -> list:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


# --- grading -------------------------------------------------------------------------------


def _failed(submission: Submission, target: Path, status: str, reason: str, seconds: float = 0.0) -> Row:
    outcome = results.error_results(f"This submission was not graded: {reason}.")
    try:
        results.write_results(target, outcome)
    except (OSError, results.ResultsError):
        pass
    return Row(submission, status, reason, outcome, seconds)


def _reason(outcome: dict) -> str:
    """What the grade said about the submission as a whole (not "Graded x.py.")."""
    lines = [line.strip() for line in str(outcome.get("output") or "").splitlines()]
    notes = [line for line in lines if line and not re.fullmatch(r"Graded .*\.", line)
             and not line.startswith("autograder:")]
    return _one_line(" ".join(notes))


def _one_line(text: str, limit: int = 300) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _safe_name(name: str) -> str:
    return re.sub(r"[^\w.-]", "_", name).lstrip(".") or "submission"


# --- outputs -------------------------------------------------------------------------------


def test_columns(rows: list[Row]) -> list[str]:
    columns: list[str] = []
    for row in rows:
        if row.status != "graded":
            continue
        for name in _test_names(row.results):
            if name not in columns:
                columns.append(name)
    return sorted(columns, key=lambda column: _natural(column.split(" ", 1)[0]))  # by test number


def _test_names(outcome: dict | None) -> list[str]:
    names, seen = [], {}
    for test in (outcome or {}).get("tests", []):
        name = " ".join(str(part) for part in (test.get("number"), test.get("name")) if part)
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name} #{seen[name]}")
    return names


def _points(value: float) -> str:
    return f"{value:g}"


def write_csv(path: Path, rows: list[Row], columns: list[str]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(FIXED_COLUMNS + columns)
        for row in rows:
            scores = dict(zip(_test_names(row.results), (row.results or {}).get("tests", [])))
            s = row.submission
            writer.writerow([
                *map(_safe, ("; ".join(s.names), "; ".join(s.emails), "; ".join(s.sids), s.id)),
                _points(row.score), _points(row.max_score), row.status, _safe(row.reason),
                *[_points(float(scores[c].get("score", 0))) if c in scores else "" for c in columns]])


def pass_rates(rows: list[Row], columns: list[str]) -> list[tuple[str, float, int, int]]:
    """(test, max score, passed, graded) for every test column."""
    graded = [r for r in rows if r.status == "graded"]
    rates = []
    for column in columns:
        passed, maximum = 0, 0.0
        for row in graded:
            test = dict(zip(_test_names(row.results), row.results.get("tests", []))).get(column)
            if test is not None:
                maximum = float(test.get("max_score", 0))
                passed += test.get("status") == "passed" and not str(test.get("output", "")).startswith(
                    results.NOT_COUNTED)
        rates.append((column, maximum, passed, len(graded)))
    return rates


def write_summary(path: Path, assignment: str, rows: list[Row], columns: list[str], warnings: list[str],
                  elapsed: float, jobs: int) -> None:
    graded = [r for r in rows if r.status == "graded"]
    scores = [r.score for r in graded]
    possible = max((r.max_score for r in graded), default=0.0)
    lines = [f"# Regrade of `{assignment}`", "",
             f"{len(rows)} submissions, {len(graded)} graded, {len(rows) - len(graded)} not graded; "
             f"{elapsed:.1f} s with {jobs} at a time ({len(rows) / elapsed * 60 if elapsed else 0:.1f} per minute).", ""]
    if scores:
        lines += [f"Score (out of {_points(possible)}): mean {statistics.mean(scores):.2f}, "
                  f"median {statistics.median(scores):.2f}, min {_points(min(scores))}, max {_points(max(scores))}.",
                  "", "![score histogram](histogram.png)", ""]
    lines += ["## Pass rate of each test", "", "| test | points | passed | pass rate |", "|---|---:|---:|---:|"]
    for column, maximum, passed, count in pass_rates(rows, columns):
        rate = f"{passed / count:.0%}" if count else "-"
        lines.append(f"| {_cell(column)} | {_points(maximum)} | {passed}/{count} | {rate} |")
    attention = [r for r in rows if r.status != "graded" or r.reason]
    lines += ["", "## Submissions that need a look", ""]
    if attention:
        lines += ["| submission | name | status | score | reason |", "|---|---|---|---:|---|"]
        lines += [f"| {_cell(r.submission.id)} | {_cell('; '.join(r.submission.names))} | {r.status} | "
                  f"{_points(r.score)} | {_cell(r.reason)} |" for r in attention]
    else:
        lines.append("None: every submission was graded without a problem note.")
    tampered = [(r, changed) for r in rows if (changed := tampered_names(r))]
    if tampered:
        lines += ["", "## Submissions that changed the grader's code in their process", "",
                  "The grader put it back; checks of what it observed while it was changed failed."]
        lines += [f"- {_cell(r.submission.id)} ({_cell('; '.join(r.submission.names))}): "
                  f"{_cell(', '.join(changed[:5]))}{' ...' if len(changed) > 5 else ''}" for r, changed in tampered]
    if warnings:
        lines += ["", "## Warnings about the export", ""] + [f"- {_cell(w)}" for w in warnings]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def tampered_names(row: Row) -> list[str]:
    """What kit code a submission changed in its process (results.json extra_data.tampered)."""
    extra = (row.results or {}).get("extra_data")
    changes = extra.get("tampered") if isinstance(extra, dict) else None
    if not isinstance(changes, list):
        return []
    return [str(c.get("name")) for c in changes if isinstance(c, dict)]


def _cell(text: str) -> str:
    return _safe(text).replace("|", "\\|").replace("\n", " ")


def _safe(text: str) -> str:
    """Text from the export or a submission, without the control characters (terminal escapes,
    bidirectional overrides) that could make a line read as something else."""
    return results.clean_text(str(text), results.SHORT_LIMIT)


def write_histogram(path: Path, assignment: str, rows: list[Row]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    graded = [r for r in rows if r.status == "graded"]
    scores = [r.score for r in graded]
    possible = max((r.max_score for r in graded), default=0.0) or 1.0
    figure, axes = plt.subplots(figsize=(7, 4), dpi=100)
    bins = max(1, min(20, int(possible))) if possible >= 1 else 10
    axes.hist(scores, bins=bins, range=(0, possible), color="#3b75af", edgecolor="white")
    axes.set_xlabel(f"score (out of {_points(possible)})")
    axes.set_ylabel("submissions")
    axes.set_title(f"{assignment}: {len(scores)} graded submissions")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


# --- the whole run -------------------------------------------------------------------------


@dataclass
class Summary:
    rows: list[Row]
    columns: list[str]
    out: Path
    elapsed: float
    warnings: list[str]


def regrade(assignment: str, export: Path, out: Path | None = None, jobs: int | None = None,
            timeout: float | None = None, call_timeout: float | None = None, progress: bool = True) -> Summary:
    Assignment.get(assignment)
    export = Path(export)
    out = Path(out or f"regrade-{assignment}")
    out.mkdir(parents=True, exist_ok=True)
    jobs = max(1, jobs or _cores())
    timeout = timeout or SUBMISSION_TIMEOUT
    scratch = Path(tempfile.mkdtemp(prefix="regrade-"))
    started = time.monotonic()
    try:
        warnings: list[str] = []
        if export.is_file():
            warnings += safe_extract(export, scratch / "export")
            folder = scratch / "export"
        elif export.is_dir():
            folder = export
        else:
            raise ExportError(f"{export} is neither a zip nor a folder")
        found, more = submissions(find_export_root(folder))
        warnings += more
        if not found:
            warnings.append(f"no submission folders were found in {export}")
        rows = _grade_all(assignment, found, out, jobs, timeout, call_timeout, progress)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    elapsed = time.monotonic() - started
    columns = test_columns(rows)
    write_csv(out / "grades.csv", rows, columns)
    write_histogram(out / "histogram.png", assignment, rows)
    write_summary(out / "summary.md", assignment, rows, columns, warnings, elapsed, jobs)
    return Summary(rows, columns, out, elapsed, warnings)


def _grade_all(assignment: str, found: list[Submission], out: Path, jobs: int, timeout: float,
               call_timeout: float | None, progress: bool) -> list[Row]:
    """Grade every submission with `grade_batch`: `jobs` sessions in parallel, torch imported
    once per session, each submission's processes killed before its results.json is written."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    rows: dict[str, Row] = {}
    present = [s for s in found if s.folder is not None]
    targets = []
    for submission in found:
        folder = out / _safe_name(submission.folder_name)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / "results.json"
        target.unlink(missing_ok=True)
        if submission.folder is None:
            rows[submission.folder_name] = _failed(
                submission, target, "missing", "listed in the metadata, but its folder is not in the export")
        else:
            targets.append(target)
    bar = Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   TextColumn("{task.description}"), console=Console(stderr=True), disable=not progress)

    def done(index: int, outcome: dict) -> None:
        submission = present[index]
        rows[submission.folder_name] = Row(submission, _status(outcome), _reason(outcome), outcome,
                                           float(outcome.get("execution_time", 0.0)))
        bar.update(task, advance=1, description=submission.folder_name)

    with bar:
        task = bar.add_task("", total=len(present))
        options = Options(call_timeout=call_timeout, session_timeout=timeout)
        try:
            grade_batch(assignment, [(s.folder, t) for s, t in zip(present, targets)], options, sessions=jobs,
                        on_done=done)
        except ResultsNotWritten as error:  # every row is there all the same (from `done`)
            print(f"autograder regrade: {error}", file=sys.stderr)
    return [rows[s.folder_name] for s in found]


def _status(outcome: dict) -> str:
    """"graded", or "crashed" when the grader itself could not grade the submission (results.json
    says so as data: `extra_data.status`, set by `autograder.supervisor.grade`)."""
    extra = outcome.get("extra_data")
    return "crashed" if isinstance(extra, dict) and extra.get("status") == GRADER_ERROR else "graded"


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def run(assignment: str, export: Path, out: Path | None = None, jobs: int | None = None,
        timeout: float | None = None, call_timeout: float | None = None) -> int:
    """`autograder regrade`: regrade, then print where the outputs are and which submissions need a look."""
    try:
        summary = regrade(assignment, export, out, jobs, timeout, call_timeout)
    except ExportError as error:
        print(f"autograder regrade: {error}", file=sys.stderr)
        return 2
    graded = [r for r in summary.rows if r.status == "graded"]
    print(f"{len(summary.rows)} submissions ({len(graded)} graded) in {summary.elapsed:.1f} s")
    for row in summary.rows:
        if row.status != "graded":
            print(f"  {_safe(row.submission.folder_name)}: {row.status}: {_safe(row.reason)}")
    for name in ("grades.csv", "summary.md", "histogram.png"):
        print(f"{name:<14} {summary.out / name}")
    return 0
