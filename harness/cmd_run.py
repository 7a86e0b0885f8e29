"""`python -m harness run`: run suites on an engine, print non-passing directives and totals,
record everything in the results database, optionally write a JSON summary.

Exit status 0 iff no directive is fail, xpass, crash, timeout or error.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
from pathlib import Path

from harness import db
from harness.engine import EngineUnavailable
from harness.expectations import ExpectationError, Expectations
from harness.runner import DEFAULT_FUEL, FAILING, OUTCOMES, PASS, RunOptions
from harness.session import FileResult, close_spares, probe, run_tasks, tasks_for
from harness.suites import ROOT, SuiteError, resolve


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--engine", required=True, help="engine name (node, ref, fake-accept, ...)")
    p.add_argument("--suite", required=True, nargs="+", action="extend", metavar="NAME|PATH",
                   help="core, component-model, wasmtime-misc, local, or .wast files/folders")
    p.add_argument("--files", metavar="GLOB", help="only files whose relative path matches")
    p.add_argument("-j", "--jobs", type=int, default=1, help="parallel engine workers")
    p.add_argument("--db", default=str(ROOT / "results.sqlite"), help="results database")
    p.add_argument("--no-db", action="store_true", help="do not record results")
    p.add_argument("--summary-json", metavar="FILE", help="write the run summary as JSON")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds per directive")
    p.add_argument("--fuel", type=int, default=DEFAULT_FUEL, metavar="N",
                   help="instructions per instantiation or invocation (worker engines that "
                        "meter: ref); more is a `timeout` by fuel, the engine keeps its state; "
                        f"0: none (default {DEFAULT_FUEL:,})")
    p.add_argument("--trace-failures", action="store_true",
                   help="trace component boundary crossings; a directive that does not pass "
                        "keeps its trace (database, HTML report)")
    p.add_argument("--quiet", action="store_true", help="only the totals")


def empty() -> dict[str, int]:
    return {o: 0 for o in OUTCOMES}


class Summary:
    def __init__(self, engine: str, version: str):
        self.doc = {"engine": engine, "engine_version": version, "suites": {},
                    "totals": empty(), "message_match": {"matched": 0, "mismatched": 0}}

    def suite(self, name: str, commit: str | None) -> dict:
        return self.doc["suites"].setdefault(name, {
            "commit": commit, "files": 0, "directives": 0, "outcomes": empty(),
            "by_kind": {}, "by_file": {}})

    def add(self, s: dict, fr: FileResult) -> None:
        s["files"] += 1
        per_file = s["by_file"].setdefault(fr.relpath, empty())
        mm = self.doc["message_match"]
        for r in fr.results:
            s["directives"] += 1
            for d in (s["outcomes"], per_file, s["by_kind"].setdefault(r.kind, empty()),
                      self.doc["totals"]):
                d[r.outcome] += 1
            if r.message_match is not None:
                mm["matched" if r.message_match else "mismatched"] += 1


def cmref_commit() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=ROOT, capture_output=True, text=True).stdout.strip()
        return head + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def display(path: str) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


class Progress:
    def __init__(self, total: int, enabled: bool):
        self.total, self.done, self.enabled = total, 0, enabled
        self.counts = empty()

    def update(self, fr: FileResult) -> None:
        self.done += 1
        for r in fr.results:
            self.counts[r.outcome] += 1
        if self.enabled:
            bad = sum(self.counts[o] for o in FAILING)
            sys.stderr.write(f"\r[{self.done}/{self.total} files] pass {self.counts[PASS]}"
                             f"  non-pass {bad}  {fr.relpath[:40]:<40}")
            sys.stderr.flush()

    def clear(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * 100 + "\r")
            sys.stderr.flush()


def main(args: argparse.Namespace) -> int:
    if set(args.suite) == {"wit-parser"}:  # cmref's WIT front-end: harness/wit_suite.py
        from harness import wit_suite
        return wit_suite.main(args)
    try:
        Expectations.load(args.engine)
        version = probe(args.engine, args.timeout)
    except (EngineUnavailable, ExpectationError) as e:
        print(f"harness: {e}", file=sys.stderr)
        if args.summary_json:  # one error per suite asked for: nothing was run
            summary = Summary(args.engine, "unavailable")
            for spec in args.suite:
                summary.suite(spec, None)["outcomes"]["error"] += 1
                summary.doc["totals"]["error"] += 1
            write_summary(args.summary_json, summary.doc)
        return 2
    summary = Summary(args.engine, version)
    conn = None if args.no_db else db.connect(args.db)
    commit = cmref_commit()
    host = f"{socket.gethostname()} ({platform.platform()})"
    for spec in args.suite:
        if spec == "wit-parser":
            from harness import wit_suite
            wit_suite.run_suite(args, summary, conn, commit, host)
            continue
        try:
            suite = resolve(spec, args.files)
        except SuiteError as e:
            print(f"{spec}:0: suite: error: {e}")
            s = summary.suite(spec, None)
            s["outcomes"]["error"] += 1
            summary.doc["totals"]["error"] += 1
            continue
        run_suite(args, suite, summary, conn, version, commit, host)
    close_spares()
    totals = summary.doc["totals"]
    n = sum(totals.values())
    print(f"{n} directives: " + ", ".join(f"{k} {v}" for k, v in totals.items() if v or k == PASS))
    if args.summary_json:
        write_summary(args.summary_json, summary.doc)
    return 1 if any(totals[o] for o in FAILING) else 0


def run_suite(args, suite, summary: Summary, conn, version: str, commit: str, host: str) -> None:
    s = summary.suite(suite.name, suite.commit)
    run_id = None
    if conn is not None:
        run_id = db.start_run(conn, engine=args.engine, engine_version=version, suite=suite.name,
                              suite_root=str(suite.root), suite_commit=suite.commit,
                              cmref_commit=commit, host=host, argv=sys.argv)
    tasks = tasks_for(suite)
    progress = Progress(len(tasks), sys.stderr.isatty() and not args.quiet)
    options = RunOptions(fuel=args.fuel or None, trace_failures=args.trace_failures)
    for fr in run_tasks(args.engine, tasks, args.jobs, args.timeout, options):
        progress.update(fr)
        if conn is not None:
            db.write_file(conn, run_id, fr)
        summary.add(s, fr)
        if not args.quiet:
            progress.clear()
            for r in fr.results:
                if r.outcome != PASS:
                    print(f"{display(fr.path)}:{r.line}: {r.kind}: {r.outcome}: {r.detail()}")
    progress.clear()
    if conn is not None:
        db.finish_run(conn, run_id)
        if not args.files:
            check_shrink(conn, args.engine, suite.name, run_id, s["directives"], summary)


def check_shrink(conn, engine: str, suite: str, run_id: int, total: int, summary: Summary) -> None:
    """Flag a whole-suite run with fewer directives than the previous one (DESIGN.md)."""
    prev = db.previous_total(conn, engine, suite, run_id)
    if prev is not None and total < prev[2]:
        msg = (f"{suite}: this run has {total} directives, the previous run "
               f"(#{prev[0]}, {prev[1]}) had {prev[2]}")
        print(f"harness: warning: totals shrank: {msg}")
        summary.doc.setdefault("warnings", []).append(f"totals shrank: {msg}")


def write_summary(path: str, doc: dict) -> None:
    Path(path).write_text(json.dumps(doc, indent=1, sort_keys=False) + "\n")
