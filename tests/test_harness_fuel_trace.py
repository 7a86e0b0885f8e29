"""harness run --fuel (a per-directive instruction budget: running out is a `timeout` decided by
fuel, the engine keeps its state) and --trace-failures (a directive that does not pass keeps
the boundary-crossing trace of its run, in the database and the HTML report); the database
migration that adds the trace column."""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest

from harness import db, report_data
from harness.suites import suites_root
from harness_util import DATA, ROOT, needs_node, needs_wabt

pytestmark = pytest.mark.skipif(not (ROOT / "build" / "cmref").exists(),
                                reason="build/cmref is not built")

FUEL = "fuel exhausted: the directive ran more than 100000 instructions (harness --fuel 100000)"


def harness(*args):
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def suite_of(tmp_path, *names):
    folder = tmp_path / "suite"
    folder.mkdir()
    for name in names:
        (folder / name).write_bytes((DATA / name).read_bytes())
    return folder


def rows(path, file):
    """The directives of `file` in the latest run."""
    conn = sqlite3.connect(path)
    return conn.execute("SELECT d.line, d.kind, d.outcome, coalesce(d.message, d.reason), d.trace"
                        " FROM directives d JOIN files f ON f.id = d.file_id WHERE f.path = ?"
                        " AND d.run_id = (SELECT max(id) FROM runs) ORDER BY d.seq",
                        (file,)).fetchall()


@needs_wabt
def test_fuel_turns_an_endless_loop_into_a_timeout_and_the_file_goes_on(tmp_path):
    folder = suite_of(tmp_path, "fuel-timeout.wast")
    p = harness("run", "--engine", "ref", "--suite", str(folder), "--fuel", "100000",
                "--db", str(tmp_path / "r.sqlite"))
    assert p.returncode == 1, p.stderr
    assert rows(tmp_path / "r.sqlite", "fuel-timeout.wast") == [
        (3, "module", "pass", None, None),
        (7, "assert_return", "timeout", FUEL, None),     # spin
        (8, "assert_return", "pass", None, None),        # the same instance still works
        (9, "assert_exhaustion", "pass", "call stack exhausted", None),  # stack, not fuel
        (10, "assert_trap", "timeout", FUEL, None),      # fuel never matches an expected trap
        (11, "module", "timeout", FUEL, None),           # an endless start function
        (15, "assert_return", "not_run", "module $s (line 11) ran out of fuel", None),
        (16, "assert_return", "pass", None, None),
    ]
    assert p.stdout.splitlines()[-1] == "8 directives: pass 4, timeout 3, not_run 1"


SPIN = """(module $m
  (func (export "spin") (loop $l (br $l)))
  (func (export "one") (result i32) (i32.const 1)))
(assert_return (invoke "spin"))
(assert_return (invoke "one") (i32.const 1))
"""


@needs_wabt
def test_without_fuel_the_wall_clock_timeout_kills_the_engine(tmp_path):
    (tmp_path / "spin.wast").write_text(SPIN)
    p = harness("run", "--engine", "ref", "--suite", str(tmp_path / "spin.wast"), "--fuel", "0",
                "--timeout", "2", "--no-db")
    lines = p.stdout.splitlines()
    assert lines[0].endswith("spin.wast:4: assert_return: timeout: no reply within 2s; "
                             "worker killed"), p.stdout
    # the instance was lost with the worker (the rest of its batch was never answered)
    assert lines[1].endswith("spin.wast:5: assert_return: not_run: engine restarted after "
                             "line 4"), p.stdout


TRACE = ("call host -> inc(1)\n"
         "  call root -> [host] host-echo-u32(1)\n"
         "  return [host] host-echo-u32 = 1\n"
         "  call root -> lib.add(1, 1)\n"
         "  return lib.add = 2\n"
         "return inc = 2\n")


@needs_node
def test_trace_failures_keeps_the_trace_of_a_failing_directive(tmp_path):
    folder = suite_of(tmp_path, "trace-failures.wast")
    path = tmp_path / "r.sqlite"
    p = harness("run", "--engine", "ref", "--suite", str(folder), "--trace-failures",
                "--db", str(path))
    assert p.returncode == 1, p.stderr
    assert rows(path, "trace-failures.wast") == [
        (3, "module", "pass", None, None),
        (7, "module", "pass", None, None),
        (18, "assert_return", "pass", None, None),       # passing: no trace kept
        (19, "assert_return", "fail", 'expected (u32:"3"), got (u32:"2")', TRACE),
    ]
    out = tmp_path / "html"
    p = harness("report", "--no-run", "--db", str(path), "--out", str(out),
                "--md", str(tmp_path / "C.md"))
    assert p.returncode == 0, p.stderr
    html = (out / "index.html").read_text()
    assert "<summary>trace of boundary crossings</summary><pre>" + TRACE.replace(
        ">", "&gt;") in html
    # without the flag nothing is traced
    p = harness("run", "--engine", "ref", "--suite", str(folder), "--db", str(path))
    assert [r[4] for r in rows(path, "trace-failures.wast")] == [None] * 4


def test_a_version_1_database_gains_the_trace_column(tmp_path):
    path = tmp_path / "old.sqlite"
    old = sqlite3.connect(path)
    old.executescript(db.SCHEMA.replace(",\n    trace TEXT", ""))
    old.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    old.execute("INSERT INTO runs (id, engine, suite, started_at) VALUES (1, 'ref', 's', 'now')")
    old.execute("INSERT INTO files (id, run_id, path) VALUES (1, 1, 'a.wast')")
    old.execute("INSERT INTO directives (run_id, file_id, seq, line, kind, outcome)"
                " VALUES (1, 1, 0, 1, 'module', 'pass')")
    old.commit()
    # the report reads a version 1 database as it is (read-only): no traces
    (row,) = report_data.load_rows(report_data.connect(path), 1)
    assert row.trace is None and row.outcome == "pass"
    old.close()
    conn = db.connect(path)
    assert "trace" in {r[1] for r in conn.execute("PRAGMA table_info(directives)")}
    assert conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() == ("2",)
    assert conn.execute("SELECT trace FROM directives").fetchall() == [(None,)]
    db.connect(path).close()  # connecting again changes nothing


@needs_node
def test_a_long_trace_keeps_its_first_200_lines(tmp_path):
    folder = suite_of(tmp_path, "trace-long.wast")
    path = tmp_path / "r.sqlite"
    p = harness("run", "--engine", "ref", "--suite", str(folder), "--trace-failures",
                "--db", str(path))
    assert p.returncode == 1, p.stderr
    *_, (line, kind, outcome, message, trace) = rows(path, "trace-long.wast")
    assert (outcome, message) == ("fail", 'expected (u32:"0"), got (u32:"150")')
    lines = trace.splitlines()
    # 302 crossings: the call, 150 calls of lib.add and their returns, the return
    assert lines[:3] == ["call host -> count(150)", "  call root -> lib.add(0, 1)",
                         "  return lib.add = 1"]
    assert len(lines) == 201 and lines[199] == "  call root -> lib.add(99, 1)"
    assert lines[200] == "... 102 more crossings"


@needs_node
def test_pytest_plugin_shows_the_trace_of_a_failure():
    p = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:xdist", "-q",
                        "-p", "no:cacheprovider", "--wast-engine", "ref", "--wast-trace-failures",
                        str(DATA / "trace-failures.wast")], cwd=ROOT, capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 1, p.stdout + p.stderr
    shown = "trace-failures.wast:19: assert_return: fail\n" + "".join(
        f"{x}\n" for x in ['    expected: (u32:"3")', '    actual:   (u32:"2")',
                           '    expected (u32:"3"), got (u32:"2")', "    trace:"]) + "".join(
        f"      {t}\n" for t in TRACE.splitlines())
    assert shown in p.stdout, p.stdout


@pytest.mark.skipif(not (suites_root() / "component-model").is_dir(),
                    reason="pinned component-model suite not found (CMREF_SUITES)")
def test_tracing_never_changes_an_outcome(tmp_path):
    # async lifts resolve after their call returns: tracing once crashed them (zero-length.wast)
    summaries = []
    for extra in ([], ["--trace-failures"]):
        out = tmp_path / f"s{len(summaries)}.json"
        p = harness("run", "--engine", "ref", "--suite", "component-model", "--files", "async/*",
                    "--no-db", "--quiet", "--summary-json", str(out), *extra)
        assert p.returncode in (0, 1), p.stderr
        summaries.append(json.loads(out.read_text())["suites"]["component-model"]["by_file"])
    assert summaries[0] == summaries[1]
    assert summaries[0]["async/zero-length.wast"]["crash"] == 0
