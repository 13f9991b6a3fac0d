"""results.json: closed-world scoring, the schema, text cleaning, atomic writing, the table."""

import errno
import io
import json
import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from autograder import results
from autograder.course import ROOT
from autograder.report import format_table, print_table
from autograder.results import (NOT_COUNTED, NOT_RUN, OUTPUT_LIMIT, TOP_OUTPUT_LIMIT, ResultsError, TestInfo,
                                Verdict, build_results, clean_text, error_results, load_schema, validate,
                                write_results)


MANIFEST = (
    TestInfo("t.py::test_add", "Adds two tensors", "1.1", 2.0, "visible", ("tensors", "basics")),
    TestInfo("t.py::test_hidden", "Hidden edge cases", "1.2", 3, "hidden", ()),
    TestInfo("t.py::test_cuda", "Runs on CUDA", "2", 1.0, "after_due_date", ("cuda",)),
    TestInfo("t.py::test_last", "Last test", None, 1.5, "after_published", ()),
)
IDS = [test.id for test in MANIFEST]
# Unicode's bidirectional classes of the embedding, override, isolate and mark characters.
BIDI_CONTROLS = {"LRE", "RLE", "PDF", "LRO", "RLO", "LRI", "RLI", "FSI", "PDI", "LRM", "RLM", "ALM"}


def build(*verdicts, manifest=MANIFEST, **options):
    outcome = build_results(manifest, list(verdicts), **options)
    validate(outcome)  # every dict this module builds must be valid
    return outcome


def by_id(outcome, manifest=MANIFEST):
    return {test.id: entry for test, entry in zip(manifest, outcome["tests"], strict=True)}


def all_passed():
    return [Verdict(test_id, "passed") for test_id in IDS]


# --- closed-world scoring --------------------------------------------------------------------


def test_all_passed_scores_everything_in_manifest_order():
    outcome = build(*reversed(all_passed()))
    assert [t["name"] for t in outcome["tests"]] == [t.name for t in MANIFEST]
    assert outcome["score"] == 7.5
    for test, entry in zip(MANIFEST, outcome["tests"]):
        assert entry["status"] == "passed"
        assert entry["score"] == entry["max_score"] == test.max_score
        assert entry["tags"] == list(test.tags) and entry["visibility"] == test.visibility


def test_number_is_omitted_when_none():
    entries = by_id(build())
    assert entries["t.py::test_add"]["number"] == "1.1"
    assert "number" not in entries["t.py::test_last"]


def test_no_verdicts_scores_zero_and_says_the_test_did_not_run():
    outcome = build()
    assert outcome["score"] == 0
    assert len(outcome["tests"]) == len(MANIFEST)
    for entry, test in zip(outcome["tests"], MANIFEST):
        assert (entry["score"], entry["max_score"], entry["status"]) == (0, test.max_score, "failed")
        assert entry["output"] == NOT_RUN


def test_missing_verdict_scores_zero_only_for_that_test():
    entries = by_id(build(*[v for v in all_passed() if v.id != "t.py::test_hidden"]))
    assert entries["t.py::test_hidden"]["score"] == 0
    assert entries["t.py::test_hidden"]["status"] == "failed"
    assert "did not run" in entries["t.py::test_hidden"]["output"]
    assert entries["t.py::test_add"]["score"] == 2.0


def test_failed_scores_zero_with_the_graders_message():
    entries = by_id(build(Verdict("t.py::test_add", "failed", "expected 3, got 4")))
    assert entries["t.py::test_add"]["score"] == 0
    assert entries["t.py::test_add"]["max_score"] == 2.0
    assert entries["t.py::test_add"]["status"] == "failed"
    assert entries["t.py::test_add"]["output"] == "expected 3, got 4"


def test_failed_without_message_still_says_so():
    entries = by_id(build(Verdict("t.py::test_add", "failed")))
    assert entries["t.py::test_add"]["output"] == "This test failed."


def test_skipped_scores_zero_and_keeps_the_reason():
    entries = by_id(build(Verdict("t.py::test_add", "skipped", "needs numpy")))
    entry = entries["t.py::test_add"]
    assert (entry["score"], entry["max_score"], entry["status"]) == (0, 2.0, "failed")
    assert "skipped" in entry["output"] and "scores 0" in entry["output"] and "needs numpy" in entry["output"]


@pytest.mark.parametrize("outcome", ["PASSED", "pass", "error", "xpassed", "", "passed ", None])
def test_unknown_outcome_scores_zero(outcome):
    entries = by_id(build(Verdict("t.py::test_add", outcome, "it went fine, honest")))
    entry = entries["t.py::test_add"]
    assert (entry["score"], entry["status"]) == (0, "failed")
    assert "unexpected outcome" in entry["output"] and "it went fine, honest" in entry["output"]


def test_verdicts_for_unknown_ids_add_nothing():
    intruders = [Verdict("t.py::test_extra", "passed"), Verdict("T.PY::TEST_ADD", "passed"),
                 Verdict("t.py::test_add ", "passed"), Verdict("", "passed")]
    outcome = build(*intruders)
    assert outcome["score"] == 0 and len(outcome["tests"]) == len(MANIFEST)
    assert {t["name"] for t in outcome["tests"]} == {t.name for t in MANIFEST}


def test_each_passed_test_counts_once_however_often_it_is_reported():
    outcome = build(*(all_passed() * 5))
    assert outcome["score"] == 7.5


@pytest.mark.parametrize("outcomes, passed", [
    (["passed", "failed"], False),   # a failing teardown after a passing call
    (["failed", "passed"], False),   # a failure is never overridden
    (["passed", "failed", "passed"], False),
    (["failed", "skipped"], False),
    (["skipped", "passed"], True),   # otherwise the last verdict wins
    (["passed", "skipped"], False),
    (["passed", "error"], False),
    (["error", "passed"], True),
    (["passed", "passed"], True),
])
def test_duplicate_verdicts(outcomes, passed):
    verdicts = [Verdict("t.py::test_add", outcome, f"report {i}") for i, outcome in enumerate(outcomes)]
    entry = by_id(build(*verdicts))["t.py::test_add"]
    assert entry["score"] == (2.0 if passed else 0)
    assert entry["status"] == ("passed" if passed else "failed")


def test_the_last_failure_message_is_shown():
    verdicts = [Verdict("t.py::test_add", "failed", "call failed"), Verdict("t.py::test_add", "passed"),
                Verdict("t.py::test_add", "failed", "teardown failed")]
    assert by_id(build(*verdicts))["t.py::test_add"]["output"] == "teardown failed"


def test_not_counted_skip_is_zero_of_zero():
    entry = by_id(build(Verdict("t.py::test_cuda", "skipped", "no GPU here", counts=False)))["t.py::test_cuda"]
    assert (entry["score"], entry["max_score"], entry["status"]) == (0, 0, "passed")
    assert entry["output"] == NOT_COUNTED + "no GPU here" and entry["extra_data"] == {"not_counted": True}
    # the table reads that from data: a passed test whose text reads the same is still "passed"
    passed = by_id(build(Verdict("t.py::test_cuda", "passed", NOT_COUNTED + "x")))["t.py::test_cuda"]
    assert "extra_data" not in passed and "not counted" not in format_table({"tests": [passed], "score": 1})


def test_a_test_known_not_to_count_stays_out_when_grading_stops_before_it(tmp_path):
    """The session marks a CUDA test on a machine without a GPU as not counting when it collects
    it; if grading then stops early, that test must not turn into a failure worth points."""
    from autograder.supervisor.grade import Submission, _conclude

    work = tmp_path / "work"
    work.mkdir()
    tests = [{"id": t.id, "name": t.name, "number": t.number, "max_score": t.max_score,
              "visibility": t.visibility, "tags": list(t.tags), "counts": t.id != "t.py::test_cuda"}
             for t in MANIFEST]
    events = [{"event": "manifest", "tests": tests},
              {"event": "verdict", "id": "t.py::test_add", "outcome": "passed", "counts": True}]
    (work / "verdicts.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    outcome = _conclude(Submission(Path("s.py"), None, work, tmp_path), "the grader process was killed")
    entries = {t["name"]: t for t in outcome["tests"]}
    cuda = entries["Runs on CUDA"]
    assert (cuda["score"], cuda["max_score"], cuda["status"]) == (0, 0, "passed")
    assert cuda["output"].startswith(NOT_COUNTED)
    assert entries["Hidden edge cases"]["max_score"] == 3 and entries["Hidden edge cases"]["status"] == "failed"
    assert outcome["score"] == 2.0 and "Grading stopped early" in outcome["output"]


@pytest.mark.parametrize("load, status", [
    ({"unloaded": [], "failed": None}, None),
    ({"unloaded": [{"where": "line 3", "text": "def f(:", "problem": "has a syntax error"}], "failed": None},
     "partly_loaded"),
    ({"unloaded": [], "failed": "Your file could not be loaded, so nothing in it could be graded."}, "not_loaded"),
])
def test_how_the_file_loaded_is_the_status_as_data(tmp_path, load, status):
    """The session records how the file loaded; the status in extra_data comes from that record,
    and the notes under the banner travel as data too (the regrade reads them, not the output)."""
    from autograder.supervisor.grade import Submission, _conclude

    work = tmp_path / "work"
    work.mkdir()
    tests = [{"id": t.id, "name": t.name, "number": t.number, "max_score": t.max_score,
              "visibility": t.visibility, "tags": list(t.tags)} for t in MANIFEST]
    events = [{"event": "manifest", "tests": tests}, {"event": "note", "text": "A note."},
              {"event": "load", **load}, {"event": "finished", "exitstatus": 1}]
    (work / "verdicts.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    submission = Submission(Path("s.py"), None, work, tmp_path, graded="s.py")
    outcome = _conclude(submission, "")
    extra = outcome["extra_data"]
    assert outcome["output"].startswith("Graded s.py.\nA note.") and extra["notes"] == ["A note."]
    assert extra.get("status") == status
    assert extra.get("unloaded", []) == load["unloaded"]
    if status == "not_loaded":
        assert extra["reason"] == load["failed"]


@pytest.mark.parametrize("outcome, score, max_score, status", [
    ("passed", 1.0, 1.0, "passed"), ("failed", 0, 1.0, "failed"), ("error", 0, 1.0, "failed"),
])
def test_counts_false_is_only_honoured_for_skips(outcome, score, max_score, status):
    entry = by_id(build(Verdict("t.py::test_cuda", outcome, counts=False)))["t.py::test_cuda"]
    assert (entry["score"], entry["max_score"], entry["status"]) == (score, max_score, status)


def test_counts_false_cannot_add_points():
    outcome = build(*[Verdict(test_id, "skipped", counts=False) for test_id in IDS])
    assert outcome["score"] == 0
    assert all(t["score"] == 0 for t in outcome["tests"])


@pytest.mark.parametrize("outcome, score, earned, status", [
    ("passed", 3.0, 3.0, "passed"), ("passed", 1.25, 1.25, "failed"), ("failed", 1.25, 1.25, "failed"),
    ("passed", 7, 3.0, "passed"), ("failed", -2, 0.0, "failed"), ("skipped", 2, 0, "failed"),
    ("error", 2, 0, "failed"),
])
def test_a_partial_credit_score_counts_clamped_for_a_pass_or_a_failure(outcome, score, earned, status):
    """As gradescope-utils: the score set counts even when the test then failed; "passed" needs full marks."""
    entry = by_id(build(Verdict("t.py::test_hidden", outcome, "third case wrong", score=score)))["t.py::test_hidden"]
    assert (entry["score"], entry["max_score"], entry["status"]) == (earned, 3, status)


@pytest.mark.parametrize("score", [float("nan"), float("inf"), "2", True, [2]])
def test_a_partial_credit_score_that_is_not_a_number_earns_nothing(score):
    entry = by_id(build(Verdict("t.py::test_hidden", "passed", score=score)))["t.py::test_hidden"]
    assert (entry["score"], entry["status"]) == (0, "failed")
    assert entry["output"] == results.INVALID_SCORE


def test_a_partial_credit_score_for_an_unknown_id_adds_nothing():
    outcome = build(Verdict("t.py::test_other", "passed", score=5.0))
    assert outcome["score"] == 0


def test_score_is_the_rounded_sum():
    manifest = [TestInfo(f"t::{i}", f"test {i}", None, 0.1, "visible", ()) for i in range(3)]
    outcome = build(*[Verdict(t.id, "passed") for t in manifest], manifest=manifest)
    assert sum(t["score"] for t in outcome["tests"]) != 0.3  # float noise: 0.30000000000000004
    assert outcome["score"] == 0.3


def test_top_level_fields():
    outcome = build(output="Graded tensors.py.", execution_time=3.14159)
    assert outcome["output"] == "Graded tensors.py."
    assert outcome["execution_time"] == 3.14
    assert "execution_time" not in build()
    assert set(outcome) <= set(load_schema()["properties"])
    assert outcome["output_format"] == outcome["test_output_format"] == outcome["test_name_format"] == "text"


def test_names_tags_and_outputs_are_cleaned():
    manifest = [TestInfo("t::a", "multi\nline\x00 \x1b[31mname", None, 1, "visible", ("a\nb", "\x1b[1mbold")),
                TestInfo("t::b", " \x1b[0m ", None, 1, "visible", ())]
    outcome = build(Verdict("t::a", "failed", "x" * (OUTPUT_LIMIT * 3) + "\x00"),
                    manifest=manifest, output="\x1b[2Jtop\x00" + "y" * TOP_OUTPUT_LIMIT * 2)
    first, second = outcome["tests"]
    assert first["name"] == "multi line\ufffd name"
    assert first["tags"] == ["a b", "bold"]
    assert len(first["output"]) <= OUTPUT_LIMIT and "\x00" not in first["output"]
    assert second["name"] == "t::b"  # an empty name falls back to the test id
    assert outcome["output"].startswith("top\ufffd") and len(outcome["output"]) <= TOP_OUTPUT_LIMIT


def test_verdict_output_may_be_none_or_bytes():
    entries = by_id(build(Verdict("t.py::test_add", "failed", None), Verdict("t.py::test_hidden", "failed", b"caf\xc3\xa9 \xff")))
    assert entries["t.py::test_add"]["output"] == "This test failed."
    assert entries["t.py::test_hidden"]["output"] == "café \ufffd"


_ids = st.sampled_from(IDS + ["t.py::intruder", "other"])
_outcomes = st.sampled_from(["passed", "failed", "skipped", "error", ""])
_verdicts = st.lists(st.builds(Verdict, id=_ids, outcome=_outcomes, output=st.text(max_size=20), counts=st.booleans()),
                     max_size=20)


@settings(max_examples=300, deadline=None)
@given(_verdicts)
def test_a_test_scores_only_when_it_passed_and_never_failed(verdicts):
    outcome = build(*verdicts)
    expected = 0.0
    for test, entry in zip(MANIFEST, outcome["tests"]):
        own = [v.outcome for v in verdicts if v.id == test.id]
        earns = bool(own) and own[-1] == "passed" and "failed" not in own
        assert entry["score"] == (test.max_score if earns else 0)
        assert entry["score"] <= entry["max_score"] <= test.max_score
        expected += entry["score"]
    assert len(outcome["tests"]) == len(MANIFEST)
    assert outcome["score"] == pytest.approx(expected) and outcome["score"] <= 7.5


# --- the schema ------------------------------------------------------------------------------


def test_schema_is_a_valid_draft_2020_12_schema():
    schema = load_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_schema_accepts_the_optional_keys():
    outcome = build(*all_passed(), execution_time=1.0)
    outcome.update(visibility="after_published", stdout_visibility="hidden", extra_data={"seed": 1},
                   leaderboard=[{"name": "speed", "value": 1.5, "order": "asc"}, {"name": "model", "value": "mlp"}])
    outcome["tests"][0].update(name_format="md", output_format="ansi", extra_data={})
    validate(outcome)


def _set(path, value):
    def mutate(outcome):
        *parents, last = path
        target = outcome
        for key in parents:
            target = target[key]
        target[last] = value
    return mutate


def _delete(path):
    def mutate(outcome):
        *parents, last = path
        target = outcome
        for key in parents:
            target = target[key]
        del target[last]
    return mutate


BROKEN = {
    "missing score": _delete(["score"]),
    "missing output": _delete(["output"]),
    "missing tests": _delete(["tests"]),
    "negative score": _set(["score"], -1),
    "string score": _set(["score"], "7.5"),
    "boolean score": _set(["score"], True),
    "extra top-level key": _set(["grade"], 7.5),
    "non-string output": _set(["output"], 5),
    "huge output": _set(["output"], "x" * 100_001),
    "bad stdout visibility": _set(["stdout_visibility"], "never"),
    "bad output format": _set(["output_format"], "markdown"),
    "string execution time": _set(["execution_time"], "0.01"),
    "bad leaderboard order": _set(["leaderboard"], [{"name": "a", "value": 1, "order": "up"}]),
    "tests not a list": _set(["tests"], {}),
    "test missing name": _delete(["tests", 0, "name"]),
    "test missing status": _delete(["tests", 0, "status"]),
    "test missing tags": _delete(["tests", 0, "tags"]),
    "empty name": _set(["tests", 0, "name"], ""),
    "bad status": _set(["tests", 0, "status"], "ok"),
    "null status": _set(["tests", 0, "status"], None),
    "bad visibility": _set(["tests", 0, "visibility"], "published"),
    "extra test key": _set(["tests", 0, "weight"], 1),
    "non-string test output": _set(["tests", 0, "output"], ["a"]),
    "negative max score": _set(["tests", 0, "max_score"], -2),
    "bad number": _set(["tests", 0, "number"], "1.a"),
    "numeric number": _set(["tests", 0, "number"], 1.1),
    "trailing dot number": _set(["tests", 0, "number"], "1."),
    "non-string tag": _set(["tests", 0, "tags"], [1]),
    "tags a string": _set(["tests", 0, "tags"], "tensors"),
    "non-object extra data": _set(["tests", 0, "extra_data"], []),
}
# Valid under the schema, but not JSON or not sensible: validate() checks these too.
NOT_JSON = {
    "NaN score": _set(["score"], float("nan")),
    "infinite max score": _set(["tests", 0, "max_score"], float("inf")),
    "lone surrogate": _set(["tests", 0, "output"], "bad \udcff byte"),
    "score above max": _set(["tests", 0, "score"], 3.0),
}


@pytest.mark.parametrize("mutate", list(BROKEN.values()) + list(NOT_JSON.values()),
                         ids=list(BROKEN) + list(NOT_JSON))
def test_validate_rejects_broken_results(mutate):
    outcome = build(*all_passed(), execution_time=1.0)
    mutate(outcome)
    with pytest.raises(ResultsError, match="invalid results.json"):
        validate(outcome)


def test_validation_message_names_the_place_and_stays_short():
    outcome = build()
    outcome["tests"][2]["status"] = "passd"
    outcome["tests"][3]["output"] = "z" * 200_000
    with pytest.raises(ResultsError) as caught:
        validate(outcome)
    message = str(caught.value)
    assert "tests/2/status" in message and "passd" in message and "tests/3/output" in message
    assert len(message) < 1000


def test_validate_rejects_non_dicts():
    for value in ([], "results", None):
        with pytest.raises(ResultsError):
            validate(value)


# --- clean_text ------------------------------------------------------------------------------


@pytest.mark.parametrize("raw, clean", [
    ("plain text\twith tab\nand newline", "plain text\twith tab\nand newline"),
    ("a\x00b", "a\ufffdb"),
    ("bell\x07 backspace\x08 vt\x0b ff\x0c esc\x1b", "bell\ufffd backspace\ufffd vt\ufffd ff\ufffd esc\ufffd"),
    ("del\x7f c1\x85\x9f", "del\ufffd c1\ufffd\ufffd"),
    ("windows\r\nlines\r\n", "windows\nlines\n"),
    ("progress 10%\rprogress 20%\r", "progress 10%\nprogress 20%\n"),
    ("\x1b[1;31mred\x1b[0m normal", "red normal"),
    ("\x1b[2J\x1b[H\x1b[?25lcleared", "cleared"),
    ("\x1b]0;window title\x07text", "text"),
    ("\x1b]8;;https://example.org\x1b\\link\x1b]8;;\x1b\\", "link"),
    ("\x1b]0;unterminated title\nnext line", "0;unterminated title\nnext line"),
    ("\x1bPdevice control\x1b\\after", "after"),
    ("\x1b(Bcharset \x1b7saved", "charset saved"),
    ("\x9b31m8-bit csi", "8-bit csi"),
    ("lone \udcff surrogate \ud800", "lone \ufffd surrogate \ufffd"),
    ("unicode: café, 中文, 🙂, \u2028", "unicode: café, 中文, 🙂, \u2028"),
    ("admin\u202e\u2066gnp.exe\u2069", "admin\ufffd\ufffdgnp.exe\ufffd"),
    ("marks \u200e\u200f\u061c embeddings \u202a\u202b\u202c\u202d isolates \u2067\u2068",
     "marks \ufffd\ufffd\ufffd embeddings \ufffd\ufffd\ufffd\ufffd isolates \ufffd\ufffd"),
    ("", ""),
])
def test_clean_text(raw, clean):
    assert clean_text(raw) == clean


def test_clean_text_output_is_always_encodable_and_free_of_controls():
    raw = "".join(chr(code) for code in range(0, 0x110000, 7))
    cleaned = clean_text(raw, limit=len(raw) * 2)
    cleaned.encode("utf-8")
    assert not any(ord(c) < 32 and c not in "\n\t" for c in cleaned)
    assert not any(0x7F <= ord(c) <= 0x9F for c in cleaned)
    assert not any(unicodedata.bidirectional(c) in BIDI_CONTROLS for c in cleaned)


def test_clean_text_accepts_non_strings():
    assert clean_text(None) == ""
    assert clean_text(b"caf\xc3\xa9\xff") == "café\ufffd"
    assert clean_text(42) == "42"


def _cut_count(text):
    marker = text[text.index("\n[... "):text.index(" characters cut ...]\n") + len(" characters cut ...]\n")]
    return int(marker.split()[1]), marker


@pytest.mark.parametrize("length", [10_001, 10_050, 39_999, 40_001, 1_000_000])
def test_long_text_keeps_head_and_tail(length):
    raw = "HEAD" + "m" * (length - 8) + "TAIL"
    cleaned = clean_text(raw)
    assert len(cleaned) <= OUTPUT_LIMIT and len(cleaned) >= OUTPUT_LIMIT - 5
    assert cleaned.startswith("HEAD") and cleaned.endswith("TAIL")
    count, marker = _cut_count(cleaned)
    assert count == length - (len(cleaned) - len(marker))  # the count is exact for plain text


def test_text_at_the_limit_is_untouched():
    raw = "x" * OUTPUT_LIMIT
    assert clean_text(raw) == raw
    assert clean_text(raw + "y") != raw + "y"


@pytest.mark.parametrize("limit", [0, 1, 5, 30, 31, 32, 40, 100, 1234])
def test_any_limit_is_respected(limit):
    for length in (limit, limit + 1, 3 * limit + 7, 10 * limit + 100):
        assert len(clean_text("ab\x00\r\n" * length, limit)) <= limit


def test_huge_hostile_text_is_cheap_and_bounded():
    hostile = "\x1b[31m" * 2_000_000 + "\x00" * 5_000_000 + "\udcff" * 1_000_000
    cleaned = clean_text(hostile)
    assert len(cleaned) <= OUTPUT_LIMIT
    cleaned.encode("utf-8")
    assert "characters cut" in cleaned


def test_a_cut_is_reported_even_when_the_kept_ends_clean_to_almost_nothing():
    cleaned = clean_text("\x1b[0m" * 100 + "A", limit=100)  # long enough to be cut before cleaning
    assert "characters cut" in cleaned and cleaned.endswith("A") and len(cleaned) <= 100


# --- write_results ---------------------------------------------------------------------------


def test_write_results_writes_a_complete_file(tmp_path):
    outcome = build(*all_passed(), output="café ✓", execution_time=2.5)
    target = tmp_path / "results" / "results.json"  # the folder does not exist yet
    write_results(target, outcome)
    data = target.read_bytes()
    assert data.endswith(b"\n") and "café ✓".encode() in data
    assert json.loads(data) == outcome
    assert os.listdir(target.parent) == ["results.json"]  # no temporary file left behind


def test_write_results_replaces_an_existing_file(tmp_path):
    target = tmp_path / "results.json"
    write_results(str(target), build())
    write_results(target, build(*all_passed()))
    assert json.loads(target.read_text(encoding="utf-8"))["score"] == 7.5


def _no_space(*args):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def long_outcome() -> dict:
    """Results far larger than the reserved space: every test with a 10,000-character output."""
    return build(*[Verdict(test.id, "failed", "x" * 20_000) for test in MANIFEST], output="y" * 50_000)


def test_the_reserved_space_takes_the_results_when_the_disk_is_full(tmp_path, monkeypatch):
    target = tmp_path / "results.json"
    results.reserve(target)
    assert "did not finish" in json.loads(target.read_text())["output"]  # valid from the start
    assert target.stat().st_size == results.RESERVED_BYTES
    monkeypatch.setattr(results, "_replace_file", _no_space)
    outcome = build(*all_passed(), output="café")
    write_results(target, outcome)
    assert json.loads(target.read_bytes()) == outcome

    write_results(target, long_outcome())  # too long for the reservation: outputs are cut, scores kept
    written = json.loads(target.read_bytes())
    validate(written)
    assert [t["score"] for t in written["tests"]] == [t["score"] for t in long_outcome()["tests"]]
    assert all(len(t["output"]) <= 2000 for t in written["tests"])


def test_a_full_disk_without_a_reservation_is_an_error_not_a_silent_success(tmp_path, monkeypatch):
    monkeypatch.setattr(results, "_replace_file", _no_space)
    with pytest.raises(OSError) as raised:
        write_results(tmp_path / "results.json", build())
    assert raised.value.errno == errno.ENOSPC


@pytest.fixture
def full_disk(tmp_path):
    """A 1 MB file system (tmpfs), mounted for the test and unmounted after it (needs root)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a small file system and fill it")
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)], check=True)
    yield disk
    subprocess.run(["umount", str(disk)], check=False)


def fill(disk: Path) -> None:
    with open(disk / "filler", "wb") as handle:
        with pytest.raises(OSError):
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()


def test_results_are_written_on_a_really_full_disk(full_disk):
    target = full_disk / "results" / "results.json"
    results.reserve(target)
    fill(full_disk)
    write_results(target, long_outcome())
    validate(json.loads(target.read_bytes()))
    assert [p.name for p in target.parent.iterdir()] == ["results.json"]


def test_the_cli_says_so_and_fails_when_results_cannot_be_written(full_disk):
    fill(full_disk)
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", "tensors", "solutions/tensors.py",
                           "--out", str(full_disk / "results.json")], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "results were NOT written" in done.stderr and "No space left" in done.stderr
    assert "results written" not in done.stdout


@pytest.mark.parametrize("mutate", [BROKEN["bad status"], BROKEN["extra top-level key"], NOT_JSON["NaN score"],
                                    NOT_JSON["lone surrogate"]], ids=["status", "extra key", "NaN", "surrogate"])
def test_invalid_results_leave_the_existing_file_untouched(tmp_path, mutate):
    target = tmp_path / "results.json"
    target.write_text("previous contents", encoding="utf-8")
    outcome = build(*all_passed())
    mutate(outcome)
    with pytest.raises(ResultsError):
        write_results(target, outcome)
    assert target.read_text(encoding="utf-8") == "previous contents"
    assert os.listdir(tmp_path) == ["results.json"]


def test_unserialisable_values_raise_results_error(tmp_path):
    outcome = build()
    outcome["extra_data"] = {"value": object()}
    with pytest.raises(ResultsError):
        write_results(tmp_path / "results.json", outcome)
    assert not (tmp_path / "results.json").exists()


def test_a_failed_rename_leaves_no_trace(tmp_path, monkeypatch):
    target = tmp_path / "results.json"
    target.write_text("previous contents", encoding="utf-8")

    def refuse(source, destination):
        raise OSError("disk on fire")

    monkeypatch.setattr(results.os, "replace", refuse)
    with pytest.raises(OSError, match="disk on fire"):
        write_results(target, build())
    assert target.read_text(encoding="utf-8") == "previous contents"
    assert os.listdir(tmp_path) == ["results.json"]


# --- error_results ---------------------------------------------------------------------------


def test_error_results_without_manifest():
    outcome = error_results("The autograder could not collect its tests.")
    validate(outcome)
    assert outcome["score"] == 0 and outcome["output"] == "The autograder could not collect its tests."
    [test] = outcome["tests"]
    assert (test["name"], test["score"], test["max_score"], test["status"]) == ("Grading failed", 0, 0, "failed")
    assert test["output"] == outcome["output"] and test["visibility"] == "visible"


def test_error_results_with_manifest_lists_every_test_at_zero():
    outcome = error_results("Your file has a syntax error.\nline 3: def f(:", MANIFEST)
    validate(outcome)
    assert outcome["score"] == 0 and outcome["output"].startswith("Your file has a syntax error.")
    assert [t["name"] for t in outcome["tests"]] == [t.name for t in MANIFEST]
    for test, entry in zip(MANIFEST, outcome["tests"]):
        assert (entry["score"], entry["max_score"], entry["status"]) == (0, test.max_score, "failed")
        assert entry["output"] == "Not graded: Your file has a syntax error."
        assert entry["visibility"] == test.visibility


def test_error_results_survives_a_broken_manifest():
    broken = [TestInfo("t::a", "A", "one", -1, "never", ("x",))]
    outcome = error_results("boom", broken)
    validate(outcome)
    assert [t["name"] for t in outcome["tests"]] == ["Grading failed"]


def test_error_results_cleans_and_caps_the_message():
    outcome = error_results("\x1b[31mTraceback\x00\n" + "frame\n" * 100_000, MANIFEST)
    validate(outcome)
    assert outcome["output"].startswith("Traceback\ufffd\n") and len(outcome["output"]) <= TOP_OUTPUT_LIMIT
    assert all(t["output"] == "Not graded: Traceback\ufffd" for t in outcome["tests"])
    validate(error_results("x" * 10**6))


# --- the table -------------------------------------------------------------------------------


def _mixed_outcome():
    return build(Verdict("t.py::test_add", "passed"),
                 Verdict("t.py::test_hidden", "failed", "AssertionError\n" + "\n".join(f"line {i}" for i in range(30))),
                 Verdict("t.py::test_cuda", "skipped", "no GPU", counts=False),
                 output="Graded tensors.py.")


def test_format_table_shows_names_scores_and_total():
    table = format_table(_mixed_outcome())
    for test in MANIFEST:
        assert test.name in table
    assert "1.1" in table and "tensors, basics" in table
    assert "2.0/2.0" in table and "0.0/3.0" in table and "0.0/1.5" in table
    assert "passed" in table and "failed" in table and "not counted" in table
    assert "Total: 2.0 / 6.5" in table
    assert table.index("Graded tensors.py.") < table.index("Adds two tensors")
    assert "\x1b" not in table and "line 0" not in table


def test_format_table_show_output_lists_failing_tests_only():
    table = format_table(_mixed_outcome(), show_output=True)
    after = table[table.index("Total:"):]
    assert "    AssertionError" in after and "    line 8" in after and "line 9\n" not in after
    assert "more lines" in after
    assert "did not run" in after  # the test with no verdict failed too
    assert "no GPU" not in after and "    " + NOT_COUNTED not in after


def test_format_table_prints_student_text_literally():
    manifest = [TestInfo("t::a", "[bold red]not markup[/] :smile:", None, 1, "visible", ("[x]",))]
    table = format_table(build(Verdict("t::a", "failed", "[link=http://x]y[/link]"), manifest=manifest),
                         show_output=True)
    assert "[bold red]not markup[/] :smile:" in table and "[link=http://x]y[/link]" in table


def test_format_table_without_top_level_output_or_tests():
    table = format_table(error_results("boom"))
    assert table.startswith("boom\n") and "Grading failed" in table and "Total: 0.0 / 0.0" in table
    assert "Total: 0.0 / 0.0" in format_table({"score": 0, "output": "", "tests": []})


def test_print_table_to_a_file_is_plain_text():
    buffer = io.StringIO()
    print_table(_mixed_outcome(), file=buffer, show_output=True)
    assert buffer.getvalue() == format_table(_mixed_outcome(), show_output=True)


# --- import cost -----------------------------------------------------------------------------


def test_importing_does_not_load_jsonschema_rich_or_torch():
    code = ("import sys, autograder.results, autograder.report; "
            "print(sorted(m for m in ('jsonschema', 'rich', 'torch') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_results_do_not_share_state_with_the_manifest():
    manifest = [TestInfo("t::a", "A", None, 1, "visible", ("x",))]
    outcome = build(manifest=manifest)
    outcome["tests"][0]["tags"].append("z")
    assert manifest[0].tags == ("x",) and build(manifest=manifest)["tests"][0]["tags"] == ["x"]



# --- a failure shared by several tests is said once ----------------------------------------


def _shared(visibility="visible", count=3, text="f is not implemented yet: it still raises NotImplementedError."):
    manifest = [TestInfo(f"t::{i}", f"T{i}", f"1.{i // 2 + 1}", 1.0, visibility, ()) for i in range(count)]
    manifest.append(TestInfo("t::other", "Other", "2.1", 2.0, visibility, ()))
    verdicts = [Verdict(test.id, "failed", text) for test in manifest[:-1]] + [Verdict("t::other", "passed")]
    return build(*verdicts, manifest=manifest, output="Graded f.py.")


def test_a_short_failure_shared_by_several_tests_is_summed_up_once_at_the_top():
    outcome = _shared()
    message = "f is not implemented yet: it still raises NotImplementedError."
    assert outcome["output"] == f"Graded f.py.\n\nFailures that several tests share:\n- 3 tests (1.1, 1.2): {message}"
    assert [t["output"] for t in outcome["tests"][:3]] == [message] * 3
    assert [(t["score"], t["status"]) for t in outcome["tests"]] == [(0, "failed")] * 3 + [(2.0, "passed")]


def test_a_long_shared_failure_is_written_out_once_and_the_tests_keep_its_first_line():
    text = "Your file could not be loaded, so nothing in it could be graded.\nHint: " + "fix it. " * 60
    outcome = _shared(text=text)
    assert outcome["output"].count("fix it.") == 60 and "    Hint: fix it." in outcome["output"]
    for test in outcome["tests"][:3]:
        assert test["output"].startswith("Your file could not be loaded, so nothing in it could be graded.\n")
        assert "fix it" not in test["output"] and "3 tests failed with it" in test["output"]
    assert outcome["score"] == 2.0


def test_only_visible_failures_shared_by_at_least_three_tests_are_summed_up():
    assert _shared(count=2)["output"] == "Graded f.py."
    for visibility in ("after_due_date", "after_published", "hidden"):
        outcome = _shared(visibility=visibility, text="x\n" * 400)
        assert outcome["output"] == "Graded f.py." and all(t["output"].startswith("x\nx\n") for t in outcome["tests"][:3])


# --- functions not written yet: one line at the top -----------------------------------------


def _unwritten(visibility="visible"):
    manifest = [TestInfo(f"t::{name}{i}", f"{name} {i}", f"1.{n}", 1.0, visibility, (name,))
                for n, (name, i) in enumerate([("f", 0), ("f", 1), ("f", 2), ("g", 0)], 1)]
    manifest.append(TestInfo("t::h", "h", "2.1", 2.0, visibility, ("h",)))
    verdicts = [Verdict(test.id, "failed", f"{test.tags[0]} is not implemented yet: it still raises "
                                           "NotImplementedError.", not_implemented=True) for test in manifest[:4]]
    return build(*verdicts, Verdict("t::h", "failed", "h raised ValueError"), manifest=manifest,
                 output="Graded f.py.")


def test_functions_not_written_yet_are_named_once_at_the_top():
    outcome = _unwritten()
    assert outcome["output"] == ("2 functions are not written yet: f, g (their 4 tests score 0).\n\nGraded f.py.")
    # each test keeps its own one-line message, and its score and status do not change
    assert [t["output"] for t in outcome["tests"][:4]] == [
        "f is not implemented yet: it still raises NotImplementedError."] * 3 + [
        "g is not implemented yet: it still raises NotImplementedError."]
    assert [(t["score"], t["status"]) for t in outcome["tests"]] == [(0, "failed")] * 5
    assert [t.get("extra_data") for t in outcome["tests"]] == [{"not_implemented": True}] * 4 + [None]


def test_one_function_not_written_yet_is_said_in_the_singular():
    manifest = [TestInfo("t::a", "a", "1", 1.0, "visible", ("f",)), TestInfo("t::b", "b", "2", 1.0, "visible", ())]
    outcome = build(Verdict("t::a", "failed", "f ...", not_implemented=True), manifest=manifest)
    assert outcome["output"] == "1 function is not written yet: f (its 1 test scores 0)."
    untagged = build(Verdict("t::b", "failed", "f ...", not_implemented=True), manifest=manifest)
    assert untagged["output"] == "1 test scores 0 because the functions they test are not written yet."


def test_the_line_names_the_helper_not_written_yet_rather_than_the_function_tested():
    """train_manual is written but calls mse, a stub: mse is what is not written yet."""
    manifest = [TestInfo("t::a", "a", "1", 1.0, "visible", ("mse",)),
                TestInfo("t::b", "b", "2", 1.0, "visible", ("train_manual",))]
    outcome = build(Verdict("t::a", "failed", "...", not_implemented=True, unwritten="mse"),
                    Verdict("t::b", "failed", "...", not_implemented=True, unwritten="mse"), manifest=manifest)
    assert outcome["output"] == "1 function is not written yet: mse (its 2 tests score 0)."


@pytest.mark.parametrize("visibility", ["after_due_date", "after_published", "hidden"])
def test_only_visible_tests_name_functions_not_written_yet(visibility):
    outcome = _unwritten(visibility)
    assert outcome["output"] == "Graded f.py." and all("extra_data" not in t for t in outcome["tests"])


@pytest.mark.parametrize("bugs, shown", [(0, False), (1, True)])
def test_the_session_log_is_shown_when_the_session_reports_a_grader_bug(tmp_path, monkeypatch, capsys, bugs, shown):
    """The session reports its grader bugs with each "done" line; the supervisor then shows its log."""
    import sys

    from autograder.settings import SessionSettings
    from autograder.supervisor import grade as supervisor

    session = f"import sys; print('Traceback: KeyError', file=sys.stderr); print('done 0 {bugs}')"
    monkeypatch.setattr(supervisor, "session_command", lambda folder, settings: [sys.executable, "-c", session])
    finished = []
    done, status = supervisor.run_sessions(tmp_path, [SessionSettings(assignment="tensors", verdicts="v")],
                                           supervisor.Options(), finished.append)
    assert (done, status, finished) == (1, "", [0])
    assert ("Traceback: KeyError" in capsys.readouterr().err) is shown
