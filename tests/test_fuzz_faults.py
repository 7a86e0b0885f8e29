"""Harness fault tolerance not covered elsewhere (issue 12): a run killed with SIGKILL in the
middle leaves a database that holds only whole files (each file row with all its directives,
written in one transaction), passes SQLite's integrity check, and opens cleanly for the next
run. (Crashing, hanging and garbage-printing engines: test_harness_runner.py; two runs
writing one database at once: test_harness_cli.py.)"""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

from harness_util import ARMS, DATA, ROOT, needs_wabt


@needs_wabt
def test_sigkill_mid_run_keeps_whole_files(tmp_path):
    folder = tmp_path / "suite"
    folder.mkdir()
    for i in range(4):
        (folder / f"a{i}.wast").write_bytes(ARMS.read_bytes())
    # the fake-hang engine hangs on this file's fault directives: the run is killed there
    (folder / "z-faults.wast").write_bytes((DATA / "faults.wast").read_bytes())
    db = tmp_path / "r.sqlite"
    argv = [sys.executable, "-m", "harness", "run", "--engine", "fake-hang", "--suite",
            str(folder), "--db", str(db), "--quiet"]
    p = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        files = 0
        while time.monotonic() < deadline and p.poll() is None:
            if db.exists():
                try:
                    with sqlite3.connect(db, timeout=1) as c:
                        files = c.execute("SELECT count(*) FROM files").fetchone()[0]
                except sqlite3.OperationalError:
                    files = 0  # schema not created yet
                if files >= 4:
                    break
            time.sleep(0.05)
        assert p.poll() is None, "the run ended before it could be killed"
        assert files >= 4
    finally:
        os.killpg(p.pid, signal.SIGKILL)  # the harness and its engine worker
        p.wait()
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    (run_id, finished) = conn.execute("SELECT id, finished_at FROM runs").fetchone()
    assert finished is None  # the killed run is visibly unfinished
    rows = conn.execute("SELECT f.path, f.commands, (SELECT count(*) FROM directives d "
                        "WHERE d.file_id = f.id) FROM files f").fetchall()
    assert len(rows) >= 4
    for path, commands, directives in rows:
        assert commands == directives and commands > 0, (path, commands, directives)
    conn.close()
    # the database opens cleanly for the next run, which finishes and records all its rows
    done = subprocess.run([sys.executable, "-m", "harness", "run", "--engine", "fake-accept",
                           "--suite", str(ARMS), "--db", str(db), "--quiet"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    # fake-accept accepts everything: arms.wast's assertions of errors fail (exit 1)
    assert done.returncode == 1 and "22 directives" in done.stdout, done.stdout + done.stderr
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM runs WHERE finished_at IS NOT NULL").fetchone()[0] == 1
    assert conn.execute("SELECT count(*) FROM directives WHERE run_id != ?", (run_id,)).fetchone()[0] == 22
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
