"""The wasmtime adapter, run against a fake `wasmtime` that replays recorded answers
(tests/fixtures/fake-wasmtime), and its script splitter against wast2json's count."""
import json
import os
import subprocess
from pathlib import Path

import pytest

from harness.engine import EngineUnavailable
from harness.engines import wasmtime_wast as ww
from harness.engines.wasmtime import WasmtimeEngine, find_profile

ROOT = Path(__file__).resolve().parents[1]
FAKE = ROOT / "tests" / "fixtures" / "fake-wasmtime" / "wasmtime"
SCRIPTS = ROOT / "tests" / "fixtures" / "wasmtime"
SUITES = Path(os.environ.get("CMREF_SUITES", ROOT.parent / "shared" / "suites"))


def run(name, **kw):
    engine = WasmtimeEngine(str(FAKE), timeout=kw.pop("timeout", 20))
    return [(r.line, r.kind, r.outcome, r.message_match) for r in engine.run_script(SCRIPTS / name)], engine


def test_every_answer_becomes_one_outcome_per_directive():
    rows, _ = run("mixed.wast")
    assert rows == [
        (2, "module", "pass", None),
        (5, "assert_return", "pass", None),
        (6, "assert_return", "fail", None),           # wrong value
        (7, "assert_trap", "pass", True),
        (8, "assert_trap", "pass", False),            # trapped, other message
        (9, "assert_invalid", "pass", False),         # rejected, other message
        (10, "assert_invalid", "fail", False),        # accepted: a failure, never a skip
        (11, "assert_malformed", "pass", None),       # wasmtime ignores the text
        (12, "action", "pass", None),
        (13, "assert_unlinkable", "pass", True),
        (14, "assert_trap", "fail", False),           # returned instead of trapping
        (15, "assert_return", "pass", None),
    ]


def test_failure_detail_keeps_wasmtimes_error_chain():
    engine = WasmtimeEngine(str(FAKE))
    by_line = {r.line: r for r in engine.run_script(SCRIPTS / "mixed.wast")}
    assert by_line[6].message == "result 0 didn't match: expected 3 / 0x3, got 2 / 0x2"
    assert by_line[10].actual == "expected module to fail to build"
    assert "wasm `unreachable` instruction executed" in by_line[8].actual
    assert by_line[10].phase == "invalid"


def test_failed_definition_leaves_the_rest_not_run():
    rows, _ = run("deps.wast")
    assert [r[2] for r in rows] == ["pass", "fail", "not_run", "not_run", "not_run"]


def test_crash_is_charged_to_the_directive_the_log_names():
    rows, _ = run("crash.wast")
    assert [r[2] for r in rows] == ["pass", "pass", "crash", "pass"]


def test_crash_without_progress_log_says_the_culprit_is_unsure():
    engine = WasmtimeEngine(str(FAKE))
    res = engine.run_script(SCRIPTS / "crash-nolog.wast")
    assert [r.outcome for r in res] == ["crash", "not_run", "not_run", "not_run"]
    assert "culprit is one of lines 1-4" in res[0].message


def test_hang_is_a_timeout_and_the_file_goes_on():
    rows, _ = run("hang.wast", timeout=1.5)
    assert [r[2] for r in rows] == ["pass", "pass", "timeout", "pass"]


def test_directive_wasmtime_does_not_implement_is_a_skip_with_reason():
    engine = WasmtimeEngine(str(FAKE))
    res = engine.run_script(SCRIPTS / "unsupported.wast")
    assert [r.outcome for r in res] == ["pass", "skip", "pass"]
    assert "register not implemented for components" in res[1].reason


def test_flags_come_from_the_readme_and_the_files_feature_lines(tmp_path, monkeypatch):
    calls = tmp_path / "calls.jsonl"
    monkeypatch.setenv("FAKE_WASMTIME_CALLS", str(calls))
    rows, _ = run("features.wast")
    assert [r[2] for r in rows] == ["pass", "pass"]   # the fake fails unless async is on
    call = json.loads(calls.read_text().splitlines()[0])
    assert call["argv"][:-1] == ["wast", "-W", "component-model-threading",
                                 "-W", "component-model-map=n", "-W", "component-model-async"]
    assert call["strict"] == "1"


def test_missing_feature_flag_fails_like_wasmtime(tmp_path):
    script = tmp_path / "features.wast"      # same name, no README above: no base flags,
    script.write_text("(component)\n(assert_return (invoke \"x\"))\n")   # no ;;! lines
    res = WasmtimeEngine(str(FAKE)).run_script(script)
    assert [r.outcome for r in res] == ["fail", "not_run"]
    assert "support is not enabled" in res[0].message


def test_suite_profiles():
    cm = find_profile(SUITES / "component-model" / "test" / "values" / "strings.wast")
    assert "component-model-async-stackful" in cm.flags and len(cm.flags) >= 5
    assert cm.env == {"WAST_STRICT_COMPONENT_INDICES": "1"}
    misc = next((SUITES / "wasmtime-misc").rglob("*.wast"))
    assert find_profile(misc).flags == []
    assert find_profile(SUITES / "core" / "i32.wast").flags == []


def test_absent_wasmtime_is_unavailable(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("CMREF_WASMTIME", raising=False)
    engine = WasmtimeEngine()
    assert not engine.available()
    with pytest.raises(EngineUnavailable, match="not installed"):
        engine.version()


def test_version_from_the_cli():
    assert WasmtimeEngine(str(FAKE)).version().startswith("wasmtime 38.0.3")


def test_blanking_keeps_every_line_number():
    text = ww.read_script(SCRIPTS / "mixed.wast")
    ds = ww.split_directives(text)
    rest = ww.split_directives(ww.blank(text, ds[1:3]))
    assert [d.line for d in rest] == [d.line for d in ds if d not in ds[1:3]]
    assert ww.blank(text, ds[1:3]).count("\n") == text.count("\n")


SAMPLE = ["comments.wast", "inline-module.wast", "linking.wast", "data.wast", "start.wast",
          "address.wast", "binary.wast", "names.wast", "simd_lane.wast", "imports.wast"]


@pytest.mark.parametrize("name", SAMPLE)
def test_splitter_agrees_with_wast2json(name, tmp_path):
    """Same commands, same kinds, same lines (json-from-wast and wast2json agree)."""
    path = SUITES / "core" / name
    subprocess.run(["wast2json", str(path), "-o", str(tmp_path / "x.json")], check=True,
                   capture_output=True)
    commands = json.loads((tmp_path / "x.json").read_text())["commands"]
    text = ww.read_script(path)
    ds = ww.split_directives(text)
    assert [(c["type"], c["line"]) for c in commands] == [(d.kind, d.line) for d in ds]
    for d in ds:
        assert d.first <= d.line <= d.last
        assert d.last == text.count("\n", 0, d.end) + 1


def test_splitter_reads_every_component_suite_file():
    kinds = set()
    for suite in ("component-model", "wasmtime-misc"):
        for path in sorted((SUITES / suite).rglob("*.wast")):
            ds = ww.split_directives(ww.read_script(path))
            assert ds, path
            kinds |= {d.kind for d in ds}
    assert kinds <= {"module", "module_definition", "module_instance", "register", "action",
                     "assert_return", "assert_trap", "assert_invalid", "assert_malformed",
                     "assert_unlinkable", "assert_uninstantiable", "assert_exhaustion"}, kinds


@pytest.mark.parametrize("text, line", [
    ('(module)\n(module "abc)\n', 2),
    ("(module)\n\nstray\n", 3),
    ("(module\n  (func)\n", 1),
    ("(module)\n(; open\n", 2),
    ("(module))\n", 1),
])
def test_splitter_names_the_line_of_bad_syntax(text, line):
    with pytest.raises(ww.ScriptSyntaxError, match=f"^line {line}:"):
        ww.split_directives(text)


def test_splitter_skips_comments_and_strings():
    text = ';; (not this)\n(module (; ( ;) ";; )" (func))\n(;\n(; nested ;)\n;)\n(register "x" ")(")\n'
    assert [(d.line, d.kind) for d in ww.split_directives(text)] == [(2, "module"), (6, "register")]


def test_harness_run_engine_wasmtime_records_every_directive(tmp_path):
    """`harness run --engine wasmtime` (the fake on PATH via CMREF_WASMTIME) into the DB."""
    import sys
    from harness import report_data as rd
    dbfile = tmp_path / "r.sqlite"
    env = {**os.environ, "CMREF_WASMTIME": str(FAKE)}
    out = subprocess.run([sys.executable, "-m", "harness", "run", "--engine", "wasmtime", "--suite",
                          str(SCRIPTS), "--files", "mixed.wast", "--db", str(dbfile)], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 1, out.stderr          # three directives fail
    assert "12 directives: pass 9, fail 3" in out.stdout
    conn = rd.connect(dbfile)
    run = rd.list_runs(conn)[0]
    assert run.engine == "wasmtime" and run.engine_version.startswith("wasmtime 38.0.3")
    rows = rd.load_rows(conn, run.id)
    assert [(r.line, r.outcome) for r in rows if r.outcome != "pass"] == [(6, "fail"), (10, "fail"), (14, "fail")]


def test_lines_are_json_from_wasts_and_a_line_may_hold_two_directives():
    rows, _ = run("multiline.wast")
    assert rows == [
        (1, "module", "pass", None),
        (3, "assert_return", "fail", None),       # wasmtime names the invoke's line
        (6, "assert_invalid", "pass", True),
        (8, "module", "pass", None),
        (8, "register", "pass", None),
        (9, "assert_return", "pass", None),
    ]


def test_splitter_counts_what_the_harness_counts_in_every_suite_file():
    """The adapter's directives are the harness's directives: same number in all 305 files
    (harness/frontend/count.py is the harness's independent count)."""
    from harness.frontend.count import count_directives
    files = sorted(SUITES.rglob("*.wast"))
    assert len(files) >= 305
    for path in files:
        assert len(ww.split_directives(ww.read_script(path))) == count_directives(path.read_bytes()), path


def test_directive_wasmtimes_parser_rejects_is_an_error_and_the_rest_runs():
    engine = WasmtimeEngine(str(FAKE))
    res = engine.run_script(SCRIPTS / "syntax.wast")
    assert [r.outcome for r in res] == ["pass", "pass", "error", "fail", "pass"]
    assert res[2].reason == ("wasmtime's wast parser rejects this assert_invalid: "
                             "unknown operator or unexpected token")
