"""What reports and diffs read from the results database (harness/db.py writes it).

All SQL that reports and `harness diff` run is here, so a change to the schema touches one
file. Rows come back as plain dataclasses; every run and every directive is read, nothing is
sampled.
"""
from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass
from typing import NamedTuple
from pathlib import Path

OUTCOMES = ("pass", "fail", "skip", "xfail", "xpass", "crash", "timeout", "error", "not_run")
FAILING = ("fail", "xpass", "crash", "timeout", "error")


@dataclass(frozen=True)
class Run:
    id: int
    engine: str
    engine_version: str
    suite: str
    suite_root: str
    suite_commit: str
    cmref_commit: str
    host: str
    started: str
    finished: str | None

    @property
    def label(self) -> str:
        return f"run {self.id} ({self.engine} on {self.suite}, {self.started})"


class Row(NamedTuple):
    file: str            # relative to the suite root
    line: int
    kind: str
    outcome: str
    phase: str | None
    expected: str | None
    actual: str | None
    message: str | None
    message_match: bool | None
    reason: str | None
    seq: int             # position of the directive in its file (0-based)
    trace: str | None = None  # boundary crossings (harness run --trace-failures)

    @property
    def key(self) -> tuple[str, int]:
        return (self.file, self.line)


class ReportDataError(Exception):
    pass


def connect(path: str | Path) -> sqlite3.Connection:
    """Open the results database read-only."""
    path = Path(path)
    if not path.exists():
        raise ReportDataError(f"{path}: no results database (run `python -m harness run` first)")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    return conn


_RUN_COLUMNS = ("id, engine, engine_version, suite, suite_root, suite_commit, cmref_commit, "
                "host, started_at, finished_at")


def _run(r: sqlite3.Row) -> Run:
    return Run(r["id"], r["engine"], r["engine_version"] or "", r["suite"], r["suite_root"] or "",
               r["suite_commit"] or "", r["cmref_commit"] or "", r["host"] or "",
               r["started_at"] or "", r["finished_at"])


def list_runs(conn: sqlite3.Connection) -> list[Run]:
    """Every run, oldest first."""
    return [_run(r) for r in conn.execute(f"SELECT {_RUN_COLUMNS} FROM runs ORDER BY id")]


def run_by_id(conn: sqlite3.Connection, run_id: int) -> Run | None:
    return next((r for r in list_runs(conn) if r.id == run_id), None)


def latest_runs(conn: sqlite3.Connection) -> dict[tuple[str, str], Run]:
    """(suite, engine) -> the newest run of it."""
    out: dict[tuple[str, str], Run] = {}
    for run in list_runs(conn):
        out[(run.suite, run.engine)] = run
    return out


def previous_run(conn: sqlite3.Connection, run: Run) -> Run | None:
    """The run of the same engine and suite before `run`."""
    before = [r for r in list_runs(conn) if r.suite == run.suite and r.engine == run.engine
              and r.id < run.id]
    return before[-1] if before else None


def load_rows(conn: sqlite3.Connection, run_id: int) -> list[Row]:
    """Every directive row of a run, by file then position in the file."""
    # databases from before schema version 2 have no trace column (opened read-only here)
    has_trace = any(r[1] == "trace" for r in conn.execute("PRAGMA table_info(directives)"))
    sql = ("SELECT f.path, d.seq, d.line, d.kind, d.outcome, d.phase, d.expected, d.actual, "
           "d.message, d.message_match, d.reason, " + ("d.trace" if has_trace else "NULL") +
           " FROM directives d JOIN files f ON f.id = d.file_id "
           "WHERE d.run_id = ? ORDER BY f.path, d.seq")
    make = Row._make
    return [make((r[0], r[2] or 0, r[3], r[4], r[5], r[6], r[7], r[8],
                  None if r[9] is None else bool(r[9]), r[10], r[1], r[11]))
            for r in conn.execute(sql, (run_id,))]


def run_totals(conn: sqlite3.Connection) -> dict[int, Counter]:
    """run id -> Counter of outcomes (plus "directives"), for every run, in one query."""
    out: dict[int, Counter] = {}
    for r in conn.execute("SELECT run_id, outcome, COUNT(*) AS n FROM directives "
                          "GROUP BY run_id, outcome"):
        c = out.setdefault(r["run_id"], Counter())
        c[r["outcome"]] += r["n"]
        c["directives"] += r["n"]
    return out


def run_files(conn: sqlite3.Connection, run_id: int) -> list[str]:
    return [r[0] for r in conn.execute("SELECT path FROM files WHERE run_id = ? ORDER BY path",
                                       (run_id,))]


def align(a_rows: list[Row], b_rows: list[Row]) -> list[tuple[Row | None, Row | None]]:
    """Pairs of the same directive in two runs, by file.

    When a file has the same directives (count and kinds, in order) in both runs they are
    paired by position, so engines that report a multi-line directive's line differently
    still line up. Otherwise by line (and order within a line); a directive only one run has
    is paired with None.
    """
    by_file_a: dict[str, list[Row]] = {}
    by_file_b: dict[str, list[Row]] = {}
    for r in a_rows:
        by_file_a.setdefault(r.file, []).append(r)
    for r in b_rows:
        by_file_b.setdefault(r.file, []).append(r)
    out: list[tuple[Row | None, Row | None]] = []
    for file in sorted(set(by_file_a) | set(by_file_b)):
        fa, fb = by_file_a.get(file, []), by_file_b.get(file, [])
        if len(fa) == len(fb) and [r.kind for r in fa] == [r.kind for r in fb]:
            out += list(zip(fa, fb))
            continue
        ka, kb = _line_keys(fa), _line_keys(fb)
        for key in sorted(set(ka) | set(kb)):
            out.append((ka.get(key), kb.get(key)))
    return out


def _line_keys(rows: list[Row]) -> dict[tuple[int, int], Row]:
    seen: Counter = Counter()
    out = {}
    for r in rows:
        out[(r.line, seen[r.line])] = r
        seen[r.line] += 1
    return out
