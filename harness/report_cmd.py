"""`python -m harness report`: run the pinned suites on every engine found, then write
reports/COMPLIANCE.md, reports/out/index.html (+ history.svg) and reports/out/summary.json.

Suites: component-model, wasmtime-misc and core on `ref`; core on `node`; all three on
`wasmtime` when `wasmtime` is on PATH; the component suites on `jco` once that engine is
registered. An engine that cannot run here is named in the report with the reason. With
--no-run only the report is written, from what the database holds.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from harness import report as rep
from harness import report_data as rd

ROOT = Path(__file__).resolve().parents[1]
PLAN = {  # engine -> suites it runs in `make report`
    "ref": ["component-model", "wasmtime-misc", "core", "wit-parser", "local"],
    "node": ["core"],
    "wasmtime": ["component-model", "wasmtime-misc", "core"],
    "jco": ["component-model", "wasmtime-misc"],
}


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", default=str(ROOT / "results.sqlite"), help="results database")
    p.add_argument("--out", default=str(ROOT / "reports" / "out"), help="HTML/JSON folder")
    p.add_argument("--md", default=str(ROOT / "reports" / "COMPLIANCE.md"), help="Markdown report")
    p.add_argument("--no-run", action="store_true", help="only write the report from the database")
    p.add_argument("--engines", help="comma-separated engines to run (default: every one found)")
    p.add_argument("--suites", help="comma-separated suites to run (default: all three)")
    p.add_argument("-j", "--jobs", type=int, default=min(2, os.cpu_count() or 1),
                   help="parallel engine workers per run")


def why_absent(engine: str) -> str | None:
    """None when the engine can run here, else the reason it cannot."""
    if engine == "wasmtime":
        from harness.engines.wasmtime import WasmtimeEngine
        return None if WasmtimeEngine().available() else "wasmtime is not installed (no `wasmtime` on PATH)"
    if engine == "node" and not shutil.which("node"):
        return "node is not installed"
    try:
        from harness.engines import ENGINES, make_engine
    except ImportError as e:
        return f"engine registry missing ({e})"
    if engine not in ENGINES:
        return f"no `{engine}` engine adapter in this cmref yet"
    try:
        e = make_engine(engine)
        try:
            e.version()
        finally:
            e.close()
    except Exception as e:  # unavailable, or broken: either way it does not run here
        return f"{type(e).__name__}: {e}"
    return None


def run_suites(args) -> dict[str, str]:
    """Run the plan; engine -> reason for every engine that could not run."""
    wanted = args.engines.split(",") if args.engines else list(PLAN)
    suites = args.suites.split(",") if args.suites else None
    absent: dict[str, str] = {}
    for engine in wanted:
        why = why_absent(engine)
        if why:
            absent[engine] = why
            print(f"report: {engine}: not run: {why}", file=sys.stderr)
            continue
        for suite in PLAN.get(engine, []):
            if suites and suite not in suites:
                continue
            cmd = [sys.executable, "-m", "harness", "run", "--engine", engine, "--suite", suite,
                   "--db", args.db, "-j", str(args.jobs), "--quiet", "--trace-failures"]
            start = time.perf_counter()
            out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
            took = time.perf_counter() - start
            last = (out.stdout.strip().splitlines() or [""])[-1]
            print(f"report: {engine} on {suite}: {took:.1f} s: {last}", file=sys.stderr)
            if out.returncode == 2:
                absent[engine] = (out.stderr.strip().splitlines() or ["could not run"])[-1]
    return absent


def main(args: argparse.Namespace) -> int:
    absent: dict[str, str] = {} if args.no_run else run_suites(args)
    try:
        conn = rd.connect(args.db)
    except rd.ReportDataError as e:
        print(f"harness report: {e}", file=sys.stderr)
        return 2
    ran = {r.engine for r in rd.list_runs(conn)}
    for engine in PLAN:
        if engine not in ran and engine not in absent:
            absent[engine] = why_absent(engine) or "no run of it in the database"
    start = time.perf_counter()
    report = rep.write_all(conn, Path(args.out), Path(args.md), absent=absent)
    took = time.perf_counter() - start
    for w in report.warnings:
        print(f"WARNING: {w}", file=sys.stderr)
    print(f"report: wrote {args.md}, {args.out}/index.html, {args.out}/summary.json "
          f"in {took:.2f} s")
    return 0
