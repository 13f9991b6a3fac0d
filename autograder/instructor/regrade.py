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
grades the rest of its share. Outputs, in `--out` (default: `regrade-<assignment>/` next to the
export, so outside the kit):

    grades.csv       one row per student (a group submission: one per member), for an LMS: sid, name,
                     email, score, max score, Gradescope's score, submission time, lateness (with
                     `--due`), status, submission id, reason, one column per test
    summary.md       the scores that differ from Gradescope's first; mean and median; pass rate of
                     every function (tag) and every test; the submissions that need a look, each
                     with its error whole; those that changed the grader's code in their process
    histogram.png    the score distribution (matplotlib)
    <id>/results.json   what each grade wrote

Every status is read from results.json's `extra_data.status` (written by the supervisor), never
from message text: "graded", "partly loaded" (graded, but pieces of the file did not run: a
syntax error in one `def`, a failed import; counted with the graded), "not loaded" (no file,
not Python, nothing could be parsed or run), "crashed" (the grader could not grade it),
"stopped" (its session ended before every test ran: timeout, killed) or "missing" (listed in
the metadata, absent from the export). No submission
stops the run. `--only failed|crashed|ID,ID` grades again only those submissions of the previous
run in `--out` and rewrites the outputs with the others' results kept.
"""

from __future__ import annotations

import csv
import json
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
from datetime import datetime, timedelta, timezone
from functools import cached_property
from pathlib import Path, PurePosixPath

from autograder import results
from autograder.course import Assignment
from autograder.instructor.demo import total
from autograder.supervisor.grade import (GRADER_ERROR, NOT_LOADED, PARTLY_LOADED, STOPPED, Options, ResultsNotWritten,
                                         grade_batch)

METADATA = "submission_metadata.yml"
SUBMISSION_TIMEOUT = 600.0  # Gradescope's default limit for one submission
MAX_MEMBERS = 200_000
MAX_MEMBER_BYTES = 256 * 2**20
MAX_TOTAL_BYTES = 8 * 2**30
SKIPPED_FOLDERS = {"__MACOSX"}
FIXED_COLUMNS = ["sid", "name", "email", "score", "max_score", "gradescope_score", "submitted_at", "lateness",
                 "status", "submission_id", "reason"]
MISSING = "missing"
# results.json extra_data.status -> the status a row shows; no status: "graded"
STATUSES = {PARTLY_LOADED: "partly loaded", GRADER_ERROR: "crashed", NOT_LOADED: "not loaded", STOPPED: "stopped",
            MISSING: "missing"}
GRADED = ("graded", "partly loaded")   # the code was graded (partly loaded: some pieces of the file did not run)
CRASHED = ("crashed", "stopped")   # what `--only crashed` grades again
REASON_LIMIT = results.OUTPUT_LIMIT


class ExportError(ValueError):
    """The export cannot be read at all."""


@dataclass
class Person:
    name: str = ""
    email: str = ""
    sid: str = ""


@dataclass
class Submission:
    folder_name: str
    folder: Path | None
    people: list[Person] = field(default_factory=list)
    created_at: datetime | None = None
    gradescope_score: float | None = None   # what Gradescope's autograder gave, from the metadata

    @property
    def names(self) -> str:
        return "; ".join(p.name for p in self.people)

    @property
    def id(self) -> str:
        match = re.fullmatch(r"submission_(\w+)", self.folder_name)
        return match.group(1) if match else self.folder_name


@dataclass
class Row:
    submission: Submission
    status: str                      # graded, partly loaded, not loaded, crashed, stopped, missing (STATUSES)
    reason: str = ""                 # the error first (extra_data.reason), then the grade's notes, whole
    results: dict | None = None

    @classmethod
    def of(cls, submission: Submission, outcome: dict) -> "Row":
        return cls(submission, _status(outcome), _reason(outcome), outcome)

    @property
    def graded(self) -> bool:
        return self.status in GRADED

    @property
    def differs(self) -> bool:
        """The regrade's score is not Gradescope's."""
        theirs = self.submission.gradescope_score
        return theirs is not None and abs(theirs - self.score) > 1e-6

    @property
    def score(self) -> float:
        return total(self.results or {})[0]

    @property
    def max_score(self) -> float:
        return total(self.results or {})[1]

    @cached_property
    def tests(self) -> dict[str, dict]:
        """Each test of the results by its column name (see `test_columns`), worked out once per row."""
        return dict(zip(_test_names(self.results), (self.results or {}).get("tests", [])))


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
        people = [Person(*(str(p.get(key) or "") for key in ("name", "email", "sid")))
                  for p in entry.get("submitters") or [] if isinstance(p, dict)]
        found.append(Submission(name, folders.get(name), people, parse_time(entry.get("created_at")),
                                _number(entry.get("score"))))
    return found, warnings


def parse_time(value, zone: timezone = timezone.utc) -> datetime | None:
    """A time from the metadata (`2026-01-10 12:00:00.000000000 Z`, or YAML's datetime) or from
    `--due` (ISO 8601); without a zone it is in `zone`. None when it cannot be read."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    match = re.fullmatch(r"(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d(?::\d\d)?)(?:\.(\d+))?\s*(Z|[+-]\d\d:?\d\d)?",
                         str(value or "").strip())
    if not match:
        return None
    date, clock, fraction, offset = match.groups()
    offset = "+00:00" if offset == "Z" else offset and offset[:3] + ":" + offset[-2:]
    try:
        moment = datetime.fromisoformat(f"{date}T{clock}{'.' + fraction[:6].ljust(6, '0') if fraction else ''}"
                                        f"{offset or ''}")
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _number(value) -> float | None:
    try:
        return float(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def _natural(text: str) -> list:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


# --- grading -------------------------------------------------------------------------------


def _missing(submission: Submission, target: Path) -> Row:
    reason = "listed in the metadata, but its folder is not in the export"
    outcome = results.error_results(f"This submission was not graded: {reason}.")
    outcome["extra_data"] = {"status": MISSING, "reason": reason}
    try:
        results.write_results(target, outcome)
    except (OSError, results.ResultsError):
        pass
    return Row.of(submission, outcome)


def _status(outcome: dict) -> str:
    """The row's status, from results.json's `extra_data.status` (set by
    `autograder.supervisor.grade`): data, never the text of a message."""
    return STATUSES.get(_extra(outcome).get("status"), "graded")


def _extra(outcome: dict | None) -> dict:
    """results.json's extra_data; {} when it is absent or not a mapping."""
    extra = (outcome or {}).get("extra_data")
    return extra if isinstance(extra, dict) else {}


def _reason(outcome: dict) -> str:
    """The error that decided the status first (extra_data.reason), then what the student was
    told (extra_data.notes), each whole."""
    extra = _extra(outcome)
    first = str(extra.get("reason") or "").strip() if extra.get("status") else ""
    notes = extra.get("notes") if isinstance(extra.get("notes"), list) else []
    notes = [str(note).rstrip() for note in notes if str(note).strip() and str(note).strip() != first]
    return "\n".join(([first] if first else []) + notes)


def _safe_name(name: str) -> str:
    return re.sub(r"[^\w.-]", "_", name).lstrip(".") or "submission"


# --- outputs -------------------------------------------------------------------------------


def test_columns(rows: list[Row]) -> list[str]:
    columns: list[str] = []
    for row in rows:
        if not row.graded:
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


def _points(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def lateness(submitted: datetime | None, due: datetime | None) -> str:
    """H:MM:SS after `due` (0:00:00 on time); "" without a due date or a submission time."""
    if submitted is None or due is None:
        return ""
    seconds = int(max(timedelta(0), submitted - due).total_seconds())
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def write_csv(path: Path, rows: list[Row], columns: list[str], due: datetime | None = None) -> None:
    """One line per student: a group submission gives each member the same score."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(FIXED_COLUMNS + columns)
        for row in rows:
            s, tests = row.submission, row.tests
            when = s.created_at.isoformat() if s.created_at else ""
            for person in s.people or [Person()]:
                writer.writerow([
                    *map(_safe, (person.sid, person.name, person.email)), _points(row.score),
                    _points(row.max_score), _points(s.gradescope_score), when, lateness(s.created_at, due),
                    row.status, _safe(s.id), _safe(row.reason, REASON_LIMIT),
                    *[_points(float(tests[c].get("score", 0))) if c in tests else "" for c in columns]])


def loaded(rows: list[Row]) -> list[Row]:
    """The rows whose code was graded: "not loaded", crashed, stopped and missing ones are counted apart."""
    return [r for r in rows if r.graded]


def pass_rates(rows: list[Row], columns: list[str]) -> list[tuple[str, float, int, int]]:
    """(test, max score, passed, graded) for every test that counts (max score above 0: a CUDA
    test on a machine without a GPU is worth 0 there and left out)."""
    graded, rates = loaded(rows), []
    for column in columns:
        found = [test for row in graded if (test := row.tests.get(column)) is not None]
        maximum = max((float(t.get("max_score", 0)) for t in found), default=0.0)
        if maximum > 0:
            rates.append((column, maximum, sum(_passed(t) for t in found), len(graded)))
    return rates


def function_rates(rows: list[Row]) -> list[tuple[str, float, int, float, int]]:
    """(function, points, submissions with all its points, mean points, graded) for every tag of
    a test that counts."""
    graded = loaded(rows)
    per_row: list[dict[str, list[dict]]] = []
    for row in graded:
        by_tag: dict[str, list[dict]] = {}
        for test in (row.results or {}).get("tests", []):
            if float(test.get("max_score", 0)) > 0:
                for tag in test.get("tags") or ["(no tag)"]:
                    by_tag.setdefault(str(tag), []).append(test)
        per_row.append(by_tag)
    present, first = {tag for by_tag in per_row for tag in by_tag}, _first_tags(graded)
    tags = [tag for tag in first if tag in present] + sorted(present - set(first))
    rates = []
    for tag in tags:
        groups = [by_tag.get(tag, []) for by_tag in per_row]
        possible = max((results.total(g, key="max_score") for g in groups), default=0.0)
        full = sum(bool(g) and all(_passed(t) for t in g) for g in groups)
        mean = statistics.mean(sum(float(t.get("score", 0)) for t in g) for g in groups) if groups else 0.0
        rates.append((tag, possible, full, mean, len(groups)))
    return rates


def _first_tags(rows: list[Row]) -> list[str]:
    """Tags in the order the tests are numbered."""
    order: list[str] = []
    for row in rows:
        for test in sorted((row.results or {}).get("tests", []), key=lambda t: _natural(str(t.get("number", "")))):
            order += [str(tag) for tag in test.get("tags") or [] if str(tag) not in order]
    return order


def _passed(test: dict) -> bool:
    return float(test.get("score", 0)) >= float(test.get("max_score", 0)) > 0


def write_summary(path: Path, assignment: str, rows: list[Row], columns: list[str], warnings: list[str],
                  elapsed: float, jobs: int) -> None:
    lines = [f"# Regrade of `{assignment}`", "", _headline(rows, elapsed, jobs), ""]
    lines += _differences(rows) + _scores(rows) + _function_table(rows) + _test_table(rows, columns)
    lines += _attention(rows) + _tampered(rows)
    if warnings:
        lines += ["## Warnings about the export", ""] + [f"- {_cell(w)}" for w in warnings] + [""]
    path.write_text("\n".join(lines), encoding="utf-8")


def _headline(rows: list[Row], elapsed: float, jobs: int) -> str:
    counts = {status: sum(r.status == status for r in rows) for status in ["graded", *STATUSES.values()]}
    told = ", ".join(f"{count} {status}" for status, count in counts.items() if count)
    rate = f"{len(rows) / elapsed * 60:.1f} per minute" if elapsed else "-"
    return f"{len(rows)} submissions: {told or 'none'}; {elapsed:.1f} s with {jobs} at a time ({rate})."


def _differences(rows: list[Row]) -> list[str]:
    """First: a broken environment or an unfair test shows as scores that are not Gradescope's."""
    known = [r for r in rows if r.submission.gradescope_score is not None]
    lines = ["## Scores that differ from Gradescope's", ""]
    if not known:
        return lines + ["The export holds no Gradescope scores to compare with.", ""]
    differ = sorted((r for r in known if r.differs), key=lambda r: -abs(r.score - r.submission.gradescope_score))
    if not differ:
        return lines + [f"None: all {len(known)} regraded scores are Gradescope's.", ""]
    lines += [f"{len(differ)} of {len(known)}, the largest difference first.", "",
              "| submission | name | status | Gradescope | regrade | difference |", "|---|---|---|---:|---:|---:|"]
    lines += [f"| {_cell(r.submission.id)} | {_cell(r.submission.names)} | {r.status} | "
              f"{_points(r.submission.gradescope_score)} | {_points(r.score)} | "
              f"{r.score - r.submission.gradescope_score:+g} |" for r in differ]
    return lines + [""]


def _scores(rows: list[Row]) -> list[str]:
    graded = loaded(rows)
    if not graded:
        return []
    scores, possible = [r.score for r in graded], max(r.max_score for r in graded)
    return ["## Scores", "", f"Of the {len(graded)} graded submissions (out of {_points(possible)}): mean "
            f"{statistics.mean(scores):.2f}, median {statistics.median(scores):.2f}, min {_points(min(scores))}, "
            f"max {_points(max(scores))}.", "", "![score histogram](histogram.png)", ""]


def _not_counted_note(rows: list[Row]) -> str:
    apart = len(rows) - len(loaded(rows))
    return (f"Over the {len(loaded(rows))} submissions whose code was graded"
            + (f"; the {apart} not loaded, crashed, stopped or missing are listed below, not counted as wrong"
               if apart else "") + ". Tests worth 0 points here (a CUDA test without a GPU) are left out.")


def _function_table(rows: list[Row]) -> list[str]:
    lines = ["## Pass rate of each function", "", _not_counted_note(rows), "",
             "| function | points | all points | pass rate | mean points |", "|---|---:|---:|---:|---:|"]
    for tag, possible, full, mean, count in function_rates(rows):
        lines.append(f"| {_cell(tag)} | {_points(possible)} | {full}/{count} | {full / count:.0%} | {mean:.2f} |")
    return lines + [""]


def _test_table(rows: list[Row], columns: list[str]) -> list[str]:
    lines = ["## Pass rate of each test", "", "| test | points | passed | pass rate |", "|---|---:|---:|---:|"]
    for column, maximum, passed, count in pass_rates(rows, columns):
        lines.append(f"| {_cell(column)} | {_points(maximum)} | {passed}/{count} | {passed / count:.0%} |")
    return lines + [""]


def _attention(rows: list[Row]) -> list[str]:
    """Each submission that needs a look, with its error first and whole."""
    attention = [r for r in rows if r.status != "graded" or r.reason or r.differs]
    lines = ["## Submissions that need a look", ""]
    if not attention:
        return lines + ["None: every submission was graded without a problem note.", ""]
    for r in attention:
        theirs = f", Gradescope {_points(r.submission.gradescope_score)}" if r.differs else ""
        lines += [f"### {_cell(r.submission.id)}: {_cell(r.submission.names) or 'no name'} ({r.status}, "
                  f"score {_points(r.score)}{theirs})", ""]
        text = _safe(r.reason or "(no note)", REASON_LIMIT)
        lines += ["    " + line for line in text.splitlines()] + [""]
    return lines


def _tampered(rows: list[Row]) -> list[str]:
    tampered = [(r, changed) for r in rows if (changed := tampered_names(r))]
    if not tampered:
        return []
    lines = ["## Submissions that changed the grader's code in their process", "",
             "The grader put it back; checks of what it observed while it was changed failed.", ""]
    lines += [f"- {_cell(r.submission.id)} ({_cell(r.submission.names)}): "
              f"{_cell(', '.join(changed[:5]))}{' ...' if len(changed) > 5 else ''}" for r, changed in tampered]
    return lines + [""]


def tampered_names(row: Row) -> list[str]:
    """What kit code a submission changed in its process (results.json extra_data.tampered)."""
    changes = _extra(row.results).get("tampered")
    if not isinstance(changes, list):
        return []
    return [str(c.get("name")) for c in changes if isinstance(c, dict)]


def _cell(text: str) -> str:
    return _safe(text).replace("|", "\\|").replace("\n", " ")


def _safe(text: str, limit: int = results.SHORT_LIMIT) -> str:
    """Text from the export or a submission, without the control characters (terminal escapes,
    bidirectional overrides) that could make a line read as something else."""
    return results.clean_text(str(text), limit)


def write_histogram(path: Path, assignment: str, rows: list[Row]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    graded = loaded(rows)
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


def default_out(assignment: str, export: Path) -> Path:
    """Next to the export, so that students' grades stay out of the kit's repository."""
    return Path(export).resolve().parent / f"regrade-{assignment}"


def regrade(assignment: str, export: Path, out: Path | None = None, jobs: int | None = None,
            timeout: float | None = None, call_timeout: float | None = None, progress: bool = True,
            due: datetime | None = None, only: str | None = None) -> Summary:
    """Grade the export (or, with `only`, part of it again, keeping the previous run's other results)."""
    Assignment.get(assignment)
    export = Path(export)
    if not export.exists():
        raise ExportError(f"{export} does not exist; give Gradescope's 'Export Submissions' zip or its folder")
    out = Path(out or default_out(assignment, export))
    if only and not (out / "grades.csv").is_file():
        raise ExportError(f"--only {only} grades again part of a previous run, and {out} holds none "
                          "(run without --only first, or give that run's --out)")
    jobs = max(1, jobs or _cores())
    scratch = Path(tempfile.mkdtemp(prefix="regrade-"))
    started = time.monotonic()
    try:
        warnings: list[str] = []
        if export.is_file():
            warnings += safe_extract(export, scratch / "export")
            folder = scratch / "export"
        else:
            folder = export
        found, more = submissions(find_export_root(folder))
        warnings += more
        if not found:
            warnings.append(f"no submission folders were found in {export}")
        out.mkdir(parents=True, exist_ok=True)
        kept: dict[str, Row] = {}
        if only:
            kept, more = previous_rows(found, out, only)
            warnings += more
        graded = _grade_all(assignment, [s for s in found if s.folder_name not in kept], out, jobs,
                            timeout or SUBMISSION_TIMEOUT, call_timeout, progress)
        rows = [kept.get(s.folder_name) or graded[s.folder_name] for s in found]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    elapsed = time.monotonic() - started
    columns = test_columns(rows)
    write_csv(out / "grades.csv", rows, columns, due)
    write_histogram(out / "histogram.png", assignment, rows)
    write_summary(out / "summary.md", assignment, rows, columns, warnings, elapsed, jobs)
    return Summary(rows, columns, out, elapsed, warnings)


def previous_rows(found: list[Submission], out: Path, only: str) -> tuple[dict[str, Row], list[str]]:
    """The previous run's rows (read back from each results.json) that `only` leaves as they are:
    "failed" grades again every submission below full marks or not graded, "crashed" those
    crashed or stopped, "ID,ID" the given submission ids. A submission the previous run did not
    grade is graded."""
    ids = set() if only in ("failed", "crashed") else {i.strip() for i in only.split(",") if i.strip()}
    known = {s.id for s in found} | {s.folder_name for s in found}
    warnings = [f"--only: no submission {i!r} in the export" for i in sorted(ids - known)]
    kept = {}
    for submission in found:
        try:
            outcome = json.loads((out / _safe_name(submission.folder_name) / "results.json").read_text("utf-8"))
        except (OSError, ValueError):
            continue
        row = Row.of(submission, outcome)
        again = {"failed": not row.graded or row.score < row.max_score,
                 "crashed": row.status in CRASHED}.get(only, bool({submission.id, submission.folder_name} & ids))
        if not again:
            kept[submission.folder_name] = row
    return kept, warnings


def _grade_all(assignment: str, found: list[Submission], out: Path, jobs: int, timeout: float,
               call_timeout: float | None, progress: bool) -> dict[str, Row]:
    """Grade every submission with `grade_batch`: `jobs` sessions in parallel, torch imported
    once per session, each submission's processes killed before its results.json is written."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    rows: dict[str, Row] = {}
    present: list[tuple[Submission, Path]] = []   # (submission, its results.json) to grade
    for submission in found:
        folder = out / _safe_name(submission.folder_name)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / "results.json"
        target.unlink(missing_ok=True)
        if submission.folder is None:
            rows[submission.folder_name] = _missing(submission, target)
        else:
            present.append((submission, target))
    if not present:
        return rows
    bar = Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   TextColumn("{task.description}"), console=Console(stderr=True), disable=not progress)

    def done(index: int, outcome: dict) -> None:
        submission = present[index][0]
        rows[submission.folder_name] = Row.of(submission, outcome)
        bar.update(task, advance=1, description=submission.folder_name)

    with bar:
        task = bar.add_task("", total=len(present))
        options = Options(call_timeout=call_timeout, session_timeout=timeout)
        try:
            grade_batch(assignment, [(s.folder, t) for s, t in present], options, sessions=jobs,
                        on_done=done)
        except ResultsNotWritten as error:  # every row is there all the same (from `done`)
            print(f"autograder regrade: {error}", file=sys.stderr)
    return rows


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def run(assignment: str, export: Path, out: Path | None = None, jobs: int | None = None,
        timeout: float | None = None, call_timeout: float | None = None, due: str | None = None,
        only: str | None = None) -> int:
    """`autograder regrade`: regrade, then print where the outputs are and which submissions need a look."""
    deadline = parse_time(due, datetime.now().astimezone().tzinfo) if due else None
    if due and deadline is None:
        print(f"autograder regrade: --due {due!r} is not a time; write it as 2026-01-31T23:59 "
              "(local time) or 2026-01-31T23:59:00+00:00", file=sys.stderr)
        return 2
    try:
        summary = regrade(assignment, export, out, jobs, timeout, call_timeout, due=deadline, only=only)
    except ExportError as error:
        print(f"autograder regrade: {error}", file=sys.stderr)
        return 2
    counts = _headline(summary.rows, summary.elapsed, 0).split(";")[0]
    print(f"{counts} in {summary.elapsed:.1f} s")
    differ = sum(r.differs for r in summary.rows)
    if differ:
        print(f"  {differ} scores differ from Gradescope's (listed first in summary.md)")
    for row in summary.rows:
        if row.status != "graded":
            print(f"  {_safe(row.submission.folder_name)}: {row.status}: {_safe(row.reason.splitlines()[0] if row.reason else '')}")
    for name in ("grades.csv", "summary.md", "histogram.png"):
        print(f"{name:<14} {summary.out / name}")
    return 0
