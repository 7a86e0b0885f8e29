"""The CLI contract: exit status, output lines, --summary-json, the database under -j 2."""
from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys

from harness import db
from harness.runner import OUTCOMES
from harness_util import ARMS, DATA, ROOT, needs_core, needs_node, needs_wabt


def run(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "harness", "run", *args], cwd=cwd,
                          capture_output=True, text=True)


def check_outcome_dicts(summary):
    def dicts():
        yield summary["totals"]
        for s in summary["suites"].values():
            yield s["outcomes"]
            yield from s["by_kind"].values()
            yield from s["by_file"].values()
    for d in dicts():
        assert set(d) == set(OUTCOMES)


@needs_node
@needs_wabt
def test_summary_json_and_db_under_j2(tmp_path):
    db = tmp_path / "r.sqlite"
    out = tmp_path / "s.json"
    folder = tmp_path / "suite"
    folder.mkdir()
    for src in (ARMS, DATA / "wrong.wast"):
        (folder / src.name).write_bytes(src.read_bytes())
    p = run("--engine", "node", "--suite", str(folder), "-j", "2",
            "--db", str(db), "--summary-json", str(out))
    assert p.returncode == 1, p.stderr            # wrong.wast fails
    summary = json.loads(out.read_text())
    check_outcome_dicts(summary)
    assert summary["engine"] == "node" and summary["engine_version"].startswith("node")
    (suite,) = summary["suites"].values()
    assert set(suite["by_file"]) == {"arms.wast", "wrong.wast"}
    assert suite["by_file"]["wrong.wast"]["fail"] == 11
    assert suite["outcomes"]["pass"] == sum(f["pass"] for f in suite["by_file"].values())
    fails = [line for line in p.stdout.splitlines() if ": fail: " in line]
    assert len(fails) == 11 and all(line.startswith(f"{folder}/wrong.wast:") for line in fails)
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    rows = dict(conn.execute("SELECT outcome, count(*) FROM directives GROUP BY 1").fetchall())
    assert rows == {k: v for k, v in suite["outcomes"].items() if v}
    (files, commands) = conn.execute("SELECT count(*), sum(commands) FROM files").fetchone()
    assert files == 2 and commands == suite["directives"]
    run_row = conn.execute("SELECT engine, suite, finished_at FROM runs").fetchone()
    assert run_row[0] == "node" and run_row[2] is not None


@needs_wabt
def test_bad_inputs_are_errors_and_the_run_goes_on(tmp_path):
    bad = tmp_path / "bad.wast"
    bad.write_text("(module)\n(assert_return (invoke \"f\"\n")
    out = tmp_path / "s.json"
    p = run("--engine", "fake-accept", "--suite", str(bad), str(tmp_path / "missing"),
            str(DATA / "faults.wast"), "--no-db", "--summary-json", str(out))
    assert p.returncode == 1
    assert re.search(rf"{re.escape(str(bad))}:\d+: file: error: front-end: ", p.stdout)
    assert "missing:0: suite: error:" in p.stdout
    summary = json.loads(out.read_text())
    check_outcome_dicts(summary)
    assert summary["totals"]["error"] == 2 and summary["totals"]["pass"] == 9


def test_unknown_engine_is_a_clear_error():
    p = run("--engine", "no-such-engine", "--suite", str(DATA), "--no-db")
    assert p.returncode == 2 and "unknown engine" in p.stderr


@needs_core
@needs_wabt
def test_fake_accept_fails_every_rejection_in_core(tmp_path):
    out = tmp_path / "s.json"
    run("--engine", "fake-accept", "--suite", "core", "-j", "2", "--no-db", "--quiet",
        "--summary-json", str(out))
    core = json.loads(out.read_text())["suites"]["core"]
    assert core["directives"] == 53899
    for kind in ("assert_invalid", "assert_unlinkable", "assert_uninstantiable", "assert_trap",
                 "assert_exhaustion"):
        counts = core["by_kind"][kind]
        assert counts["fail"] == sum(counts.values()), kind
    malformed = core["by_kind"]["assert_malformed"]
    assert malformed["fail"] == 736       # every binary one; the 1077 text ones are wabt's
    assert malformed["pass"] == 1077


@needs_wabt
def test_shrinking_totals_are_flagged(tmp_path):
    folder = tmp_path / "suite"
    folder.mkdir()
    for src in (ARMS, DATA / "faults.wast"):
        (folder / src.name).write_bytes(src.read_bytes())
    db = tmp_path / "r.sqlite"
    assert run("--engine", "fake-accept", "--suite", str(folder), "--db", str(db)).returncode == 1
    (folder / "faults.wast").unlink()
    out = tmp_path / "s.json"
    p = run("--engine", "fake-accept", "--suite", str(folder), "--db", str(db),
            "--summary-json", str(out))
    assert "totals shrank" in p.stdout
    assert "had 31" in json.loads(out.read_text())["warnings"][0]


@needs_wabt
def test_output_snapshot(tmp_path):
    """The runner's output for small inputs, on the deterministic fake engine."""
    p = run("--engine", "fake-accept", "--suite", str(DATA / "wrong.wast"), str(ARMS), "--no-db")
    snapshot = DATA / "fake-accept.out"
    assert p.stdout == snapshot.read_text(), "update with: python -m harness run --engine " \
        "fake-accept --suite tests/data/wrong.wast suites/local/harness/arms.wast --no-db"


@needs_wabt
def test_two_runs_share_one_database(tmp_path):
    """Separate harness processes writing the same database at once (WAL, busy timeout)."""
    db = tmp_path / "r.sqlite"
    argv = [sys.executable, "-m", "harness", "run", "--engine", "fake-accept", "--suite",
            str(ARMS), str(DATA / "wrong.wast"), str(DATA / "faults.wast"), "-j", "2",
            "--db", str(db), "--quiet"]
    procs = [subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(3)]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 1 and b"locked" not in err, err
    conn = sqlite3.connect(db)
    runs = conn.execute("SELECT count(*) FROM runs WHERE finished_at IS NOT NULL").fetchone()[0]
    assert runs == 9
    per_run = conn.execute("SELECT run_id, count(*) FROM directives GROUP BY 1").fetchall()
    assert sorted(n for _, n in per_run) == sorted([22, 12, 9] * 3)


def _connect_once(path: str) -> str | None:
    try:
        db.connect(path).close()
        return None
    except sqlite3.OperationalError as e:
        return str(e)


def test_processes_opening_a_new_database_at_once_all_get_it(tmp_path):
    """SQLite may refuse the switch to WAL with "database is locked" (no busy handler) while
    another process creates the same file: connect retries it (8 processes, 25 fresh files)."""
    import multiprocessing
    paths = [str(tmp_path / f"r{i}.sqlite") for i in range(25)]
    with multiprocessing.get_context("fork").Pool(8) as pool:
        errors = [e for p in paths for e in pool.map(_connect_once, [p] * 8) if e]
    assert errors == []
