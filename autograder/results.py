"""Build, check and write Gradescope's results.json.

Scoring is closed-world. The manifest (every grader test that was collected, with its points)
decides which tests exist, and a test earns its points only when the trusted grader recorded
a "passed" verdict for it. Anything else (a failure, a skip, an outcome nobody knows, or no
verdict at all because grading stopped early) scores 0. Verdicts for ids outside the manifest
are ignored, so nothing that reaches the verdict file can add tests or points.

A @partial_credit test that called set_score earns that score, clamped to [0, max_score],
whether it then passed or failed: as gradescope-utils scores it, set_score records what the
test has established so far (e.g. 2 of 3 cases right, then the third fails). It is "passed"
only when it passed with full marks. A score that is not a finite number earns nothing.

Every name and output goes through `clean_text`, and `write_results` checks the result against
schema/results.schema.json before replacing the file atomically. jsonschema is imported only
when a result is validated, so importing this module stays cheap.

A full disk must not cost the results: `reserve` claims the file's space before grading starts
(a valid "grading did not finish" placeholder, padded), and when the atomic replacement fails
for lack of space, `write_results` writes over that placeholder in place, with outputs cut
short if the results would not fit.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

# Gradescope's per-test visibilities; a grader test picks one with @visibility (default "visible").
VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")

OUTPUT_LIMIT = 10_000  # characters of one test's output
TOP_OUTPUT_LIMIT = 20_000  # characters of the top-level output
NAME_LIMIT = 300  # characters of a test name or a tag
SHORT_LIMIT = 300  # characters of an error message repeated in every test
SHARED = 3  # visible tests failing with the same text, for the text to be summed up at the top
LONG_SHARED = 300  # characters of a shared text beyond which the tests keep only its first line

SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / "results.schema.json"

# Names and outputs are shown as plain text, never rendered as HTML or Markdown: they can
# carry text the student controls (printed output, file names). Gradescope's default for the
# top-level output would otherwise be simple_format, a kind of HTML.
PLAIN_TEXT_FORMATS = {"output_format": "text", "test_output_format": "text", "test_name_format": "text"}

NOT_RUN = "This test did not run (the grader stopped before reaching it), so it scores 0."
NOT_COUNTED = "Not run here and not counted: "
INVALID_SCORE = ("The grader recorded a score for this test that is not a number, so it scores 0. "
                 "This is not your fault: please tell your instructor.")


class ResultsError(ValueError):
    """A results dict that must not be sent to Gradescope."""


@dataclass(frozen=True)
class TestInfo:
    """One collected grader test: an entry of the closed-world manifest."""

    __test__ = False  # not a pytest test class, despite the name

    id: str  # pytest node id, unique
    name: str
    number: str | None
    max_score: float
    visibility: str
    tags: tuple[str, ...]
    counts: bool = True  # False: known at collection not to count here (a CUDA test without a GPU)


@dataclass(frozen=True)
class Verdict:
    """What the trusted grader recorded for one test id."""

    id: str
    outcome: str  # "passed", "failed" or "skipped"
    output: str = ""  # message for the student, already redacted for hidden tests
    counts: bool = True  # False: the test does not count here (e.g. a CUDA test without a GPU)
    score: float | None = None  # what a @partial_credit test gave set_score; None: it did not
    not_implemented: bool = False  # it failed because a function still raises NotImplementedError
    unwritten: str | None = None   # that function of the student's, when known (a helper of the one tested)


# --- scoring -------------------------------------------------------------------------------


def build_results(manifest: Sequence[TestInfo], verdicts: Iterable[Verdict], *, output: str = "",
                  execution_time: float | None = None) -> dict:
    """The results dict for `manifest`, scored from `verdicts` alone (closed world)."""
    deciding = _deciding_verdicts(verdicts, {test.id for test in manifest})
    tests = [_scored_test(test, deciding.get(test.id)) for test in manifest]
    unwritten, others = [], []   # visible failures of a function not written yet; the rest
    for test, entry in zip(manifest, tests):
        verdict = deciding.get(test.id)
        if (entry["status"] == "failed" and entry["visibility"] == "visible"
                and verdict is not None and verdict.not_implemented):
            entry["extra_data"] = {"not_implemented": True}   # the terminal table leaves them to the top line
            unwritten.append((entry, verdict.unwritten))
        else:
            others.append(entry)
    output = _say_once(others, _text(output))
    results: dict[str, Any] = {
        "score": total(tests),
        "output": clean_text(_not_written(unwritten, output), TOP_OUTPUT_LIMIT),
        **PLAIN_TEXT_FORMATS,
        "tests": tests,
    }
    if execution_time is not None:
        results["execution_time"] = round(float(execution_time), 2)
    return results


def _not_written(tests: list[tuple[dict, str | None]], output: str) -> str:
    """One line before `output` for the visible tests that failed because a function still raises
    NotImplementedError, naming the functions once (the one that raised, else the tests' tags),
    instead of a failure per test. Each test keeps its own one-line message; only visible tests
    count, as in `_say_once`."""
    if not tests:
        return output
    names = list(dict.fromkeys(name for test, function in tests
                               for name in ([function] if function else test["tags"])))
    count = len(tests)
    scored = f"{count} tests score 0" if count > 1 else "1 test scores 0"
    if names:
        functions = f"{len(names)} functions are" if len(names) > 1 else "1 function is"
        line = f"{functions} not written yet: {', '.join(names)} ({'their' if len(names) > 1 else 'its'} {scored})."
    else:
        line = f"{scored} because the functions they test are not written yet."
    return line + ("\n\n" + output if output.strip() else "")


def _say_once(tests: list[dict], output: str) -> str:
    """`output` followed by one line for each failure text that several visible tests share.

    The line names the tests (by number) and gives the text's first line; a long shared text is
    written out whole there, once, and those tests keep only its first line. Only visible tests
    take part: the top-level output is shown to students before their other tests are."""
    groups: dict[str, list[dict]] = {}
    for test in tests:
        if test["status"] == "failed" and test["visibility"] == "visible" and test["output"]:
            groups.setdefault(test["output"], []).append(test)
    lines = []
    for text, group in groups.items():
        if len(group) < SHARED:
            continue
        numbers = list(dict.fromkeys(test["number"] for test in group if "number" in test))
        which = f" ({', '.join(numbers)})" if numbers else ""
        first = text.split("\n", 1)[0]
        if len(text) <= LONG_SHARED:
            lines.append(f"- {len(group)} tests{which}: {first}")
            continue
        lines.append(f"- {len(group)} tests{which}:\n" + "\n".join("    " + line for line in text.split("\n")))
        for test in group:
            test["output"] = shorten(first, SHORT_LIMIT) + f"\n(The whole message is at the top of the results: " \
                                                           f"{len(group)} tests failed with it.)"
    if not lines:
        return output
    return (output.rstrip("\n") + "\n\n" if output.strip() else "") + \
        "Failures that several tests share:\n" + "\n".join(lines)


def _deciding_verdicts(verdicts: Iterable[Verdict], known_ids: set[str]) -> dict[str, Verdict]:
    """For each known test id, the verdict that decides it.

    The last verdict wins, except that a failure is never overridden: a teardown that fails
    after a passing call must fail the test. Verdicts for unknown ids are dropped."""
    deciding: dict[str, Verdict] = {}
    for verdict in verdicts:
        if verdict.id not in known_ids:
            continue
        earlier = deciding.get(verdict.id)
        if earlier is not None and earlier.outcome == "failed" and verdict.outcome != "failed":
            continue
        deciding[verdict.id] = verdict
    return deciding


def _scored_test(test: TestInfo, verdict: Verdict | None) -> dict:
    outcome = verdict.outcome if verdict is not None else None
    counted = True
    if verdict is not None and verdict.score is not None and outcome in ("passed", "failed"):
        score, max_score, status, text = _partial_credit(test, verdict)
    elif verdict is not None and outcome == "passed":
        score, max_score, status, text = test.max_score, test.max_score, "passed", verdict.output
    elif verdict is not None and outcome == "skipped" and verdict.counts is False:
        # A test that cannot run on this machine (a CUDA test without a GPU) is left out of the
        # total: 0 of 0 points. Gradescope wants "passed" or "failed" and would paint "failed"
        # red as if the student had lost something, so it is "passed" with 0/0, and the
        # output says plainly that it was not run. Only a skip can be "not counted": a passed
        # or failed verdict with counts=False is scored as usual.
        score, max_score, status, text = 0, 0, "passed", NOT_COUNTED + _text(verdict.output)
        counted = False
    elif verdict is None and not test.counts:
        # Grading stopped before this test, which would not have counted anyway: it stays out.
        score, max_score, status, text = 0, 0, "passed", NOT_COUNTED + "this grader cannot run it."
        counted = False
    else:
        score, max_score, status, text = 0, test.max_score, "failed", _failure_text(verdict)
    entry = _entry(test, score, max_score, status, clean_text(text))
    if not counted:
        entry["extra_data"] = {"not_counted": True}   # the terminal table says "not counted"
    return entry


def _entry(test: TestInfo, score: float, max_score: float, status: str, output: str) -> dict:
    """The results.json entry of `test` (its name, number and tags cleaned for Gradescope)."""
    entry: dict[str, Any] = {"name": _test_name(test)}
    if test.number is not None:
        entry["number"] = test.number
    entry.update(score=score, max_score=max_score, status=status, visibility=test.visibility,
                 tags=[_one_line(tag) for tag in test.tags], output=output)
    return entry


def _partial_credit(test: TestInfo, verdict: Verdict) -> tuple[float, float, str, str]:
    """Score, max_score, status and text of a test that set its own score."""
    score = _clamped(verdict.score, test.max_score)
    if score is None:
        return 0, test.max_score, "failed", INVALID_SCORE
    passed = verdict.outcome == "passed" and score == test.max_score
    text = _text(verdict.output) if verdict.outcome == "passed" else _failure_text(verdict)
    return score, test.max_score, "passed" if passed else "failed", text


def _clamped(score: Any, max_score: float) -> float | None:
    """`score` within [0, max_score], or None if it is not a finite number."""
    if isinstance(score, bool) or not isinstance(score, (int, float)) or not math.isfinite(score):
        return None
    return min(max(float(score), 0.0), max_score)


def _failure_text(verdict: Verdict | None) -> str:
    """What the student reads for a test that scored nothing."""
    if verdict is None:
        return NOT_RUN
    details = _text(verdict.output)
    if verdict.outcome == "failed":
        return details or "This test failed."
    if verdict.outcome == "skipped":
        summary = "This test was skipped, so it scores 0."
    else:
        summary = f"The grader recorded an unexpected outcome ({_text(verdict.outcome)[:50]!r}), so this test scores 0."
    return f"{summary}\n{details}" if details else summary


def total(tests: Iterable[dict], key: str = "score") -> float:
    """The sum of the tests' `key` ("score", or "max_score" for the points possible), without
    float noise such as 0.30000000000000004. The one place results' points are added up."""
    return round(math.fsum(test[key] for test in tests), 6)


def _test_name(test: TestInfo) -> str:
    return _one_line(test.name) or _one_line(test.id) or "Unnamed test"


def _one_line(text: Any) -> str:
    """A cleaned, single-line, short string for names and tags."""
    return " ".join(clean_text(text, NAME_LIMIT).split())


# --- error results -------------------------------------------------------------------------


def error_results(message: str, manifest: Sequence[TestInfo] = ()) -> dict:
    """Valid results for a run that could not grade: score 0 and `message` for the student.

    With a manifest, every test is listed at 0 so the student sees what was not graded.
    Without one (or if the manifest itself is broken) a single 0/0 test "Grading failed"
    carries the message and is marked failed, so the problem cannot pass unnoticed."""
    if manifest:
        results = _not_graded(message, manifest)
        try:
            validate(results)
            return results
        except Exception:  # noqa: BLE001 - the error report must always be producible
            pass
    return {
        "score": 0,
        "output": clean_text(message, TOP_OUTPUT_LIMIT),
        **PLAIN_TEXT_FORMATS,
        "tests": [{"name": "Grading failed", "score": 0, "max_score": 0, "status": "failed",
                   "visibility": "visible", "tags": [], "output": clean_text(message)}],
    }


def _not_graded(message: str, manifest: Sequence[TestInfo]) -> dict:
    first_line = clean_text(message).strip().split("\n", 1)[0]
    note = "Not graded: " + shorten(first_line, SHORT_LIMIT)
    tests = [_entry(test, 0, test.max_score, "failed", note) for test in manifest]
    return {"score": 0, "output": clean_text(message, TOP_OUTPUT_LIMIT), **PLAIN_TEXT_FORMATS, "tests": tests}


# --- text cleaning -------------------------------------------------------------------------

# Terminal escape sequences, removed whole. OSC and DCS-like strings count only when they are
# terminated on the same line, so an unterminated one cannot swallow the text after it (its
# first two characters are then removed by the two-character rule).
_ESCAPE_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor movement, erasing
    r"|\x1b\][^\x07\x1b\n]*(?:\x07|\x1b\\)"  # OSC: window titles, hyperlinks
    r"|\x1b[PX^_][^\x1b\n]*\x1b\\"  # DCS, SOS, PM, APC strings
    r"|\x1b[ -/]*[0-~]"  # other escapes: ESC ( B, ESC 7, ESC =, ...
    r"|\x9b[0-?]*[ -/]*[@-~]"  # CSI in its 8-bit form
)
# C0 controls except \t and \n, DEL, C1 controls, lone surrogates (which cannot be encoded as
# UTF-8, e.g. from decoding with errors="surrogateescape"), and the bidirectional-text controls
# (embeddings, overrides, isolates and marks), with which a message can be made to read as
# something else ("Trojan Source", CVE-2021-42574).
_UNSAFE_CHARACTER = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff"
                               "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_REPLACEMENT = "\ufffd"


def clean_text(text: str, limit: int = OUTPUT_LIMIT) -> str:
    """`text` made safe for Gradescope and at most `limit` characters long.

    Escape sequences are removed, \\r\\n and lone \\r become \\n, other control characters and
    lone surrogates become U+FFFD, and a long text keeps its head and tail around a line
    "[... N characters cut ...]". A huge text is cut before cleaning, so cost stays bounded."""
    text = _text(text)
    if limit <= 0:
        return ""
    window = 2 * limit
    if len(text) > 2 * window:
        head, tail = _clean(text[:window]), _clean(text[-window:])
        return _shorten(head, tail, len(text) - 2 * window, limit)
    cleaned = _clean(text)
    middle = len(cleaned) // 2
    return _shorten(cleaned[:middle], cleaned[middle:], 0, limit)


def shorten(text: str, limit: int) -> str:
    """`text` in at most `limit` characters, cut after a sentence, a clause or a line rather than in
    the middle of one (a word as a last resort), with " ..." marking the cut."""
    if len(text) <= limit:
        return text
    room = text[:max(limit - 4, 0)]
    ends = [match.end() for match in _SENTENCE_END.finditer(room)]
    space = room.rfind(" ")
    cut = ends[-1] if ends and ends[-1] > limit // 2 else space if space > limit // 2 else len(room)
    return room[:cut].rstrip() + " ..."


_SENTENCE_END = re.compile(r"[.!?;:,)](?=\s)|\n")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    return value if isinstance(value, str) else str(value)


def _clean(text: str) -> str:
    text = _ESCAPE_SEQUENCE.sub("", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _UNSAFE_CHARACTER.sub(_REPLACEMENT, text)


def _shorten(head: str, tail: str, hidden: int, limit: int) -> str:
    """head + tail (with `hidden` characters already missing between them) in `limit` characters."""
    total = len(head) + hidden + len(tail)
    if hidden == 0 and total <= limit:
        return head + tail
    budget = limit - len(_cut_marker(total))  # the real count has no more digits than total
    if budget <= 0:
        return (head + tail)[:limit]
    keep_tail = min(len(tail), budget // 2)
    keep_head = min(len(head), budget - keep_tail)
    keep_tail = min(len(tail), budget - keep_head)
    cut = total - keep_head - keep_tail
    return head[:keep_head] + _cut_marker(cut) + tail[len(tail) - keep_tail:]


def _cut_marker(count: int) -> str:
    return f"\n[... {count} characters cut ...]\n"


# --- validation and writing ----------------------------------------------------------------


def load_schema() -> dict:
    """The JSON Schema of results.json as this autograder writes it."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=1)
def _validator() -> Any:
    from jsonschema import Draft202012Validator  # imported late: it is slow to import

    return Draft202012Validator(load_schema())


def validate(results: dict) -> None:
    """Raise ResultsError, with a readable message, unless `results` may go to Gradescope."""
    problems = [_describe(error) for error in _validator().iter_errors(results)]
    if not problems:
        problems = _value_problems(results)
    if problems:
        shown = "; ".join(sorted(problems)[:3])
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise ResultsError(f"invalid results.json: {shown}{more}")


def _describe(error: Any) -> str:
    where = "/".join(str(part) for part in error.absolute_path) or "top level"
    message = error.message if len(error.message) <= 200 else error.message[:200] + "..."
    return f"{where}: {message}"


def _value_problems(results: dict) -> list[str]:
    """What the schema cannot say: numbers must be finite (JSON has no NaN), strings must be
    encodable as UTF-8, and no test may score more than its maximum."""
    problems = [f"{'/'.join(where) or 'top level'}: {problem}" for where, problem in _bad_values(results, ())]
    for index, test in enumerate(results["tests"]):
        if test["score"] > test["max_score"]:
            problems.append(f"tests/{index}: score {test['score']} is above max_score {test['max_score']}")
    return problems


def _bad_values(value: Any, where: tuple[str, ...]) -> Iterable[tuple[tuple[str, ...], str]]:
    if isinstance(value, float) and not math.isfinite(value):
        yield where, f"{value} is not a finite number"
    elif isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            yield where, "string is not valid Unicode (lone surrogate)"
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _bad_values(item, (*where, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _bad_values(item, (*where, str(index)))


RESERVED_BYTES = 64 * 1024  # a typical results.json is ~25 KB; longer ones are cut to fit
NOT_FINISHED = ("Grading did not finish (the autograder was stopped before it could write the "
                "results). Your submission was not graded; please tell your instructor.")


def reserve(path: str | os.PathLike[str]) -> None:
    """Claim RESERVED_BYTES of disk for results.json before grading: a valid placeholder that
    says grading did not finish, padded with spaces (still valid JSON). Raises OSError."""
    placeholder = _encode(error_results(NOT_FINISHED))
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    _replace_file(target, placeholder + b" " * max(RESERVED_BYTES - len(placeholder), 0))


def write_results(path: str | os.PathLike[str], results: dict) -> None:
    """Validate `results`, then write it to `path` atomically (a reader never sees half a file).

    Raises ResultsError, leaving any existing file untouched, if `results` is not valid. When
    the disk is full, the space `reserve` claimed is written over in place; OSError if even
    that is impossible."""
    validate(results)
    data = _encode(results)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        _replace_file(target, data)
    except OSError as error:
        if not _write_over_reservation(target, results, data):
            raise error


def _encode(results: dict) -> bytes:
    try:
        return json.dumps(results, indent=2, ensure_ascii=False, allow_nan=False).encode("utf-8") + b"\n"
    except (TypeError, ValueError) as error:
        raise ResultsError(f"results cannot be written as JSON: {error}") from error


def _write_over_reservation(target: Path, results: dict, data: bytes) -> bool:
    """Write `results` into the existing regular file `target` without allocating new space."""
    try:
        if target.is_symlink() or not target.is_file():
            return False
        room = target.stat().st_size
        data = data if len(data) <= room else _shortened(results, room)
        if data is None:
            return False
        with open(target, "r+b") as handle:
            handle.write(data)
            handle.truncate(len(data))
            handle.flush()
            os.fsync(handle.fileno())
    except OSError:
        return False
    return True


def _shortened(results: dict, room: int) -> bytes | None:
    """`results` with every output cut shorter and shorter until it fits in `room` bytes."""
    for limit in (2000, 500, 100, 0):
        cut = {**results, "output": clean_text(results.get("output", ""), limit * 4),
               "tests": [{**test, "output": clean_text(test.get("output", ""), limit)}
                         for test in results.get("tests", [])]}
        data = _encode(cut)
        if len(data) <= room:
            return data
    return None


def _replace_file(target: Path, data: bytes) -> None:
    descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _sync_directory(target.parent)


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable; not every platform or file system allows this."""
    with contextlib.suppress(OSError):
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
