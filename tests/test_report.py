"""The compliance report from a synthetic results database: tables, guardrails, HTML,
summary.json, and the HTML page rendered by headless Chromium."""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures.reportdb import add_run, row
from harness import db
from harness import report as rep
from harness import report_data as rd

ROOT = Path(__file__).resolve().parents[1]
OUTCOME_KEYS = {"pass", "fail", "skip", "xfail", "xpass", "crash", "timeout", "error", "not_run"}

A_WAST = """(module (func (export "f") (result i32) i32.const 1))
(assert_return (invoke "f") (i32.const 1))
(assert_return (invoke "f")
  (i32.const 2))
(assert_invalid (module (func (result i32))) "type mismatch")
"""
B_WAST = """(component)
(assert_trap (invoke "g") "unreachable")
"""
C_WAST = """(component definition $X)
(component instance $x $X)
(assert_return (invoke "h") (u32.const 3))
"""


@pytest.fixture
def suite(tmp_path):
    """A small suite with two areas and an nyi.txt."""
    root = tmp_path / "suite"
    (root / "values").mkdir(parents=True)
    (root / "validation").mkdir()
    (root / "values" / "a.wast").write_text(A_WAST)
    (root / "values" / "b.wast").write_text(B_WAST)
    (root / "validation" / "c.wast").write_text(C_WAST)
    (root / "nyi.txt").write_text("# See README.md\n./validation/c.wast\n")
    return root


def first_run(root):
    return {
        "values/a.wast": [row(1, "module", "pass"), row(2, "assert_return", "pass"),
                          row(3, "assert_return", "fail", expected="(i32:2)", actual="(i32:1)"),
                          row(5, "assert_invalid", "fail", actual="accepted", message_match=None)],
        "values/b.wast": [row(1, "module", "pass"),
                          row(2, "assert_trap", "pass", message_match=False, message="wasm trap: unreachable executed")],
        "validation/c.wast": [row(1, "module_definition", "pass"),
                              row(2, "module_instance", "skip", reason="component instantiation not implemented"),
                              row(3, "assert_return", "not_run", reason="depends on the instance at line 2")],
    }


@pytest.fixture
def dbpath(tmp_path, suite):
    path = tmp_path / "results.sqlite"
    conn = db.connect(path)
    add_run(conn, engine="ref", suite="mini", root=suite, files=first_run(suite))
    second = first_run(suite)
    second["values/a.wast"][2] = row(3, "assert_return", "pass")
    second["values/a.wast"][3] = row(5, "assert_invalid", "xfail", reason="validation of result types: see suites/expectations")
    add_run(conn, engine="ref", suite="mini", root=suite, files=second)
    add_run(conn, engine="node", suite="mini", root=suite, files=first_run(suite))
    conn.close()
    return path


def test_report_tables_stamps_and_changes(dbpath, tmp_path):
    conn = rd.connect(dbpath)
    report = rep.write_all(conn, tmp_path / "out", tmp_path / "COMPLIANCE.md",
                           absent={"wasmtime": "wasmtime is not installed (no `wasmtime` on PATH)"})
    md = (tmp_path / "COMPLIANCE.md").read_text()
    # one table per suite and engine, a row per area, the totals of the newest ref run (run 2)
    assert "### mini on ref" in md and "### mini on node" in md
    assert re.search(r"\| values \| 2 \| 6 \| 5 \| 0 \| 0 \| 1 \| 0 \| 0 \| 0 \| 0 \| 0\.0 \|", md), md
    assert re.search(r"\| validation \| 1 \| 3 \| 1 \| 0 \| 0 \| 0 \| 1 \| 0 \| 0 \| 1 \| - \|", md), md
    assert "| component instantiation not implemented | 1 |" in md        # skips by reason
    assert "| depends on the instance at line N | 1 |" in md              # not_run by reason
    assert "| validation of result types: see suites/expectations | 1 |" in md
    assert "**not run: wasmtime is not installed" in md                   # absent engine said plainly
    assert "nyi.txt" in md and "1 file(s) are listed" in md
    assert "Previous run: 1 (9 directives); 2 directive(s) changed outcome since." in md
    assert "engine version ref 1.0" in md and "cmref commit `abc123`" in md
    assert not report.warnings
    ref = next(rr for s in report.suites for rr in s.runs if rr.run.engine == "ref")
    assert [(c.file, c.line, c.before, c.after) for c in ref.changes] == [
        ("values/a.wast", 3, "fail", "pass"), ("values/a.wast", 5, "fail", "xfail")]


def test_summary_json_has_the_run_summary_schema(dbpath, tmp_path):
    rep.write_all(rd.connect(dbpath), tmp_path / "out", None)
    doc = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert doc["engine"] == "ref" and doc["engine_version"] == "ref 1.0"
    s = doc["suites"]["mini"]
    assert s["files"] == 3 and s["directives"] == 9 and s["commit"].startswith("c0ffee")
    assert set(s["outcomes"]) == OUTCOME_KEYS and s["outcomes"]["pass"] == 6
    assert all(set(v) == OUTCOME_KEYS for v in s["by_kind"].values())
    assert set(s["by_file"]) == {"values/a.wast", "values/b.wast", "validation/c.wast"}
    assert set(doc["totals"]) == OUTCOME_KEYS
    assert doc["message_match"] == {"matched": 0, "mismatched": 1}
    assert json.loads((tmp_path / "out" / "summary-node.json").read_text())["engine"] == "node"


def test_html_lists_failing_directives_with_source(dbpath, tmp_path):
    rep.write_all(rd.connect(dbpath), tmp_path / "out", None)
    page = (tmp_path / "out" / "index.html").read_text()
    assert (tmp_path / "out" / "history.svg").read_text().lstrip().startswith("<?xml")
    # node's run still fails a.wast:3; its source (two lines) is shown with line numbers
    assert "    3 | (assert_return (invoke &#34;f&#34;)\n    4 |   (i32.const 2))" in page
    assert 'data-outcome="fail" data-kind="assert_invalid"' in page
    assert '<div class="file passed">values/b.wast: 2 / 2 pass</div>' in page   # every file listed
    assert "run 2 vs run 1: 2 change(s)" in page


def test_shrinking_total_is_flagged(dbpath, suite, tmp_path):
    conn = db.connect(dbpath)
    files = first_run(suite)
    files["values/a.wast"] = files["values/a.wast"][:2]
    run_id = add_run(conn, engine="ref", suite="mini", root=suite, files=files)
    conn.close()
    conn = rd.connect(dbpath)
    assert "7 directives in run 4, 9 in the previous run 2" in rep.shrink_warning(conn, run_id)
    report = rep.write_all(conn, tmp_path / "out", tmp_path / "C.md")
    assert any("DIRECTIVE TOTAL SHRANK" in w for w in report.warnings)
    assert "DIRECTIVE TOTAL SHRANK: run 4 has 7 directives, the previous run 2 had 9" in (tmp_path / "C.md").read_text()


def test_mixed_suite_commits_are_flagged(dbpath, suite, tmp_path):
    conn = db.connect(dbpath)
    add_run(conn, engine="node", suite="mini", root=suite, files=first_run(suite), commit="1" * 40)
    conn.close()
    report = rep.build(rd.connect(dbpath))
    assert any("MIXED SUITE COMMITS" in w for w in report.warnings), report.warnings


def test_partial_run_is_left_out(dbpath, suite):
    conn = db.connect(dbpath)
    files = {"values/a.wast": first_run(suite)["values/a.wast"]}
    add_run(conn, engine="ref", suite="mini", root=suite, files=files)
    conn.close()
    report = rep.build(rd.connect(dbpath))
    ref = next(rr for s in report.suites for rr in s.runs if rr.run.engine == "ref")
    assert ref.run.id == 2
    assert any("only part of the suite" in w for w in report.warnings)


def test_pinned_commits_come_from_sources_md():
    root = rep.suites_root()
    pins = rep.pinned_commits(root)
    assert pins["component-model"].startswith("6d281648") and pins["core"].startswith("3a04b2cf")
    assert rep.pinned_commit(root, "wasmtime-misc").startswith("e6b33de5")


def test_report_cli_without_runs(dbpath, tmp_path):
    out = subprocess.run([sys.executable, "-m", "harness", "report", "--no-run", "--db", str(dbpath),
                          "--out", str(tmp_path / "out"), "--md", str(tmp_path / "C.md")],
                         cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PATH": os.path.dirname(sys.executable) + ":/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    md = (tmp_path / "C.md").read_text()
    assert "| wasmtime | - | **not run: wasmtime is not installed" in md


CHROMIUM = shutil.which("chromium")


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make setup installs it)")
def test_html_renders_in_headless_chromium(dbpath, tmp_path):
    out = tmp_path / "out"
    rep.write_all(rd.connect(dbpath), out, None)
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--allow-file-access-from-files"]
    url = (out / "index.html").as_uri()
    dom = subprocess.run([CHROMIUM, *flags, "--enable-logging=stderr", "--v=0", "--dump-dom", url],
                         capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    console = [ln for ln in dom.stderr.splitlines() if "CONSOLE" in ln or "Uncaught" in ln]
    assert not console, console
    # the page's script ran to its end: the filters applied and counted the rows (ref's newest
    # run: skip, not_run, xfail; node's: fail, fail, skip, not_run)
    assert 'data-ready="1"' in dom.stdout and 'data-shown="7"' in dom.stdout
    assert "7 of 7 non-passing directives shown" in dom.stdout
    shot = ROOT / "reports" / "out" / "test-screenshot.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([CHROMIUM, *flags, f"--screenshot={shot}", "--window-size=1280,1600", url],
                   capture_output=True, timeout=120, check=True)
    assert shot.stat().st_size > 10_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_errors_are_listed_with_their_detail(dbpath, suite, tmp_path):
    conn = db.connect(dbpath)
    files = first_run(suite)
    files["validation/c.wast"] = [row(0, "file", "error", reason="front-end: bad syntax at line 3")]
    add_run(conn, engine="node", suite="mini", root=suite, files=files)
    conn.close()
    rep.write_all(rd.connect(dbpath), tmp_path / "out", tmp_path / "C.md")
    md = (tmp_path / "C.md").read_text()
    assert "| validation/c.wast | 0 | file | front-end: bad syntax at line 3 |" in md
