"""The results database: SQLite in WAL mode.

Schema (version 2; `meta` holds schema_version; connect() migrates version 1 databases by
adding the `trace` column):

runs        one row per (engine, suite) run
    id              INTEGER PRIMARY KEY
    engine          TEXT     engine name as given to --engine (node, ref, fake-accept ...)
    engine_version  TEXT     what the engine reports (`version` request)
    suite           TEXT     suite name (core, component-model, wasmtime-misc, local, or a path)
    suite_root      TEXT     absolute folder the suite's files were read from
    suite_commit    TEXT     pinned upstream commit of the suite (suites/manifest.toml), or NULL
    cmref_commit    TEXT     `git rev-parse HEAD` of cmref (suffix "+dirty" when modified)
    host            TEXT     host name and platform
    started_at      TEXT     ISO-8601 UTC
    finished_at     TEXT     ISO-8601 UTC, NULL while running (or when killed midway)
    argv            TEXT     the harness command line (JSON list)

files       one row per .wast file of a run; written in the same transaction as its directives,
            so a run killed midway leaves only complete files
    id              INTEGER PRIMARY KEY
    run_id          INTEGER  -> runs.id
    path            TEXT     path relative to the suite root (e.g. "i32.wast", "async/x.wast")
    commands        INTEGER  commands the front-end produced
    counted         INTEGER  independent count of the file's top-level directives (NULL: unknown)
    error           TEXT     file-level error (front-end failure, count mismatch), else NULL
    duration        REAL     seconds

directives  one row per directive (plus one kind "file" row with outcome "error" for a
            file-level error)
    id              INTEGER PRIMARY KEY
    run_id          INTEGER  -> runs.id
    file_id         INTEGER  -> files.id
    seq             INTEGER  position of the command in the file (0-based)
    line            INTEGER  line in the .wast file
    kind            TEXT     module, module_definition, module_instance, register, action,
                             assert_return, assert_trap, assert_exhaustion, assert_invalid,
                             assert_malformed, assert_unlinkable, assert_uninstantiable, file
    outcome         TEXT     pass fail skip xfail xpass crash timeout error not_run
    phase           TEXT     phase the directive was decided in: parse, malformed, invalid,
                             unlinkable, uninstantiable, instantiate, trap, exhaustion, or NULL
    expected        TEXT     expected result (values shown as "(i32:1, f32:nan:canonical)" or an
                             error kind); values only for non-passing directives
    actual          TEXT     what the engine did (values, error kind, "accepted"); values only
                             for non-passing directives; "invalid|malformed" when the engine
                             cannot tell those kinds apart (node's JS API: one CompileError)
    message         TEXT     the engine's (or front-end's) message, or the failure detail
    message_match   INTEGER  1/0: expected error text found in the message; NULL: no text
    reason          TEXT     reason of a skip / xfail / not_run / error
    duration        REAL     seconds (a pipelined batch's time is shared by its directives)
    trace           TEXT     boundary crossings of a directive that did not pass, recorded with
                             `harness run --trace-failures` (cmref run --trace text), else NULL

Outcome totals of a run: SELECT outcome, count(*) FROM directives WHERE run_id=? GROUP BY 1.
"""
from __future__ import annotations

import datetime
import json
import sqlite3
import time
from pathlib import Path

SCHEMA_VERSION = "2"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    engine TEXT NOT NULL,
    engine_version TEXT,
    suite TEXT NOT NULL,
    suite_root TEXT,
    suite_commit TEXT,
    cmref_commit TEXT,
    host TEXT,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    argv TEXT
);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs(id),
    path TEXT NOT NULL,
    commands INTEGER,
    counted INTEGER,
    error TEXT,
    duration REAL
);
CREATE TABLE IF NOT EXISTS directives (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs(id),
    file_id INTEGER NOT NULL REFERENCES files(id),
    seq INTEGER NOT NULL,
    line INTEGER,
    kind TEXT NOT NULL,
    outcome TEXT NOT NULL,
    phase TEXT,
    expected TEXT,
    actual TEXT,
    message TEXT,
    message_match INTEGER,
    reason TEXT,
    duration REAL,
    trace TEXT
);
CREATE INDEX IF NOT EXISTS files_run ON files(run_id);
CREATE INDEX IF NOT EXISTS directives_run ON directives(run_id, outcome);
CREATE INDEX IF NOT EXISTS directives_file ON directives(file_id);
"""


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def set_wal(conn: sqlite3.Connection, seconds: float = 60) -> None:
    """PRAGMA journal_mode=WAL. While another process creates or switches the same database,
    SQLite can refuse this with "database is locked" without calling the busy handler, so
    the switch is retried for up to `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as e:
            if "locked" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def connect(path: str | Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), timeout=60, isolation_level=None)
    set_wal(conn)
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=60000")
    conn.executescript(SCHEMA)
    migrate(conn)
    conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
    return conn


def migrate(conn: sqlite3.Connection) -> None:
    """Version 1 -> 2: directives.trace (nullable; old rows keep NULL)."""
    columns = {r[1] for r in conn.execute("PRAGMA table_info(directives)")}
    if "trace" not in columns:
        try:
            conn.execute("ALTER TABLE directives ADD COLUMN trace TEXT")
        except sqlite3.OperationalError as e:  # another process migrated it meanwhile
            if "duplicate column" not in str(e):
                raise
    conn.execute("UPDATE meta SET value=? WHERE key='schema_version' AND value<>?",
                 (SCHEMA_VERSION, SCHEMA_VERSION))


def start_run(conn: sqlite3.Connection, *, engine: str, engine_version: str, suite: str,
              suite_root: str, suite_commit: str | None, cmref_commit: str, host: str,
              argv: list[str]) -> int:
    cur = conn.execute(
        "INSERT INTO runs (engine, engine_version, suite, suite_root, suite_commit, cmref_commit,"
        " host, started_at, argv) VALUES (?,?,?,?,?,?,?,?,?)",
        (engine, engine_version, suite, suite_root, suite_commit, cmref_commit, host, now(),
         json.dumps(argv)))
    return cur.lastrowid


def finish_run(conn: sqlite3.Connection, run_id: int) -> None:
    conn.execute("UPDATE runs SET finished_at=? WHERE id=?", (now(), run_id))


def write_file(conn: sqlite3.Connection, run_id: int, fr) -> int:
    """One file and all its directives, in one transaction. `fr` is a session.FileResult."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        cur = conn.execute(
            "INSERT INTO files (run_id, path, commands, counted, error, duration)"
            " VALUES (?,?,?,?,?,?)",
            (run_id, fr.relpath, fr.commands, fr.counted, fr.error, fr.duration))
        file_id = cur.lastrowid
        conn.executemany(
            "INSERT INTO directives (run_id, file_id, seq, line, kind, outcome, phase, expected,"
            " actual, message, message_match, reason, duration, trace)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [(run_id, file_id, i, r.line, r.kind, r.outcome, r.phase, r.expected, r.actual,
              r.message, None if r.message_match is None else int(r.message_match), r.reason,
              r.duration, getattr(r, "trace", None)) for i, r in enumerate(fr.results)])
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return file_id


def previous_total(conn: sqlite3.Connection, engine: str, suite: str, before: int
                   ) -> tuple[int, str, int] | None:
    """(run id, started_at, directive count) of the last finished whole-suite run of
    `engine` on `suite` before run `before`, or None."""
    row = conn.execute(
        "SELECT id, started_at FROM runs WHERE engine=? AND suite=? AND id<? AND finished_at"
        " IS NOT NULL AND argv NOT LIKE '%--files%' ORDER BY id DESC LIMIT 1",
        (engine, suite, before)).fetchone()
    if row is None:
        return None
    (n,) = conn.execute("SELECT count(*) FROM directives WHERE run_id=?", (row[0],)).fetchone()
    return row[0], row[1], n
