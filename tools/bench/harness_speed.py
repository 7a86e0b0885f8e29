#!/usr/bin/env python3
"""Harness speed: the whole core suite through `python -m harness run --engine node` against
wabt's own pipeline (`wast2json` + `spectest-interp` on every file), measured in one run on
the same machine, interleaved round by round so that load from other processes hits both.

    .venv/bin/python tools/bench/harness_speed.py [--rounds 3] [--json FILE] [--engine ref]

Configurations timed (wall clock and CPU time of all child processes):
  wabt          wast2json + spectest-interp, file after file (the reference)
  wabt-j2       the same, two files at a time (xargs -P 2): the reference for harness-j2
  harness-j1    harness, one node worker, warm cache (.cache/ already holds the conversions)
  harness-j2    harness, -j 2, warm cache
  harness-cold  harness, -j 2, empty cache (wast2json + wat2wasm of every text module too)
The target of issue 3: harness <= 1.5 x wabt. Ratios (against `wabt`) are given min/min and
median/median, for wall time and for CPU time (user + system of every child process: the
robust figure on a machine shared with other jobs).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from harness.suites import resolve  # noqa: E402

PY = str(ROOT / ".venv" / "bin" / "python")


def timed(argv: list[str], env: dict | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the children) of one command, which must succeed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    p = subprocess.run(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise SystemExit(f"bench: {' '.join(argv)} failed:\n{p.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def wabt_argv(files: list[Path], tmp: str) -> list[str]:
    script = ('set -e; for f in "$@"; do wast2json "$f" -o "$T/x.json"; '
              'spectest-interp "$T/x.json" >/dev/null; done')
    return ["bash", "-c", f'T={tmp}; {script}', "bench", *map(str, files)]


def wabt_parallel_argv(files: list[Path], tmp: str, jobs: int) -> list[str]:
    """The same pipeline, `jobs` files at a time (xargs -P), for a like-with-like -j 2."""
    one = ('d=$(mktemp -d -p "$T"); wast2json "$1" -o "$d/x.json" && '
           'spectest-interp "$d/x.json" >/dev/null')
    return ["bash", "-c", f'T={tmp}; export T; printf "%s\\0" "$@" | '
            f"xargs -0 -n1 -P{jobs} bash -c '{one}' one", "bench", *map(str, files)]


def harness_argv(jobs: int, engine: str = "node") -> list[str]:
    return [PY, "-m", "harness", "run", "--engine", engine, "--suite", "core", "--no-db",
            "--quiet", "-j", str(jobs)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", metavar="FILE")
    ap.add_argument("--engine", default="node", help="engine the harness runs (node, ref, ...)")
    args = ap.parse_args()
    files = resolve("core").files
    times: dict[str, list[tuple[float, float]]] = {}
    subprocess.run(harness_argv(2, args.engine), cwd=ROOT, capture_output=True)  # warm the cache
    with tempfile.TemporaryDirectory(prefix="cmref-bench-") as tmp:
        for _ in range(args.rounds):
            cold = tempfile.mkdtemp(dir=tmp)
            runs = {
                "wabt": lambda: timed(wabt_argv(files, tmp)),
                "wabt-j2": lambda: timed(wabt_parallel_argv(files, tmp, 2)),
                "harness-j1": lambda: timed(harness_argv(1, args.engine)),
                "harness-j2": lambda: timed(harness_argv(2, args.engine)),
                "harness-cold": lambda: timed(harness_argv(2, args.engine),
                                              {**os.environ, "CMREF_CACHE": cold}),
            }
            for name, run in runs.items():
                times.setdefault(name, []).append(run())
    report = {"files": len(files), "rounds": args.rounds, "configs": {}}
    base = times["wabt"]
    print(f"core suite, {len(files)} files, {args.rounds} rounds (wall s / cpu s):")
    for name, ts in times.items():
        walls, cpus = [t[0] for t in ts], [t[1] for t in ts]
        entry = {"wall_min": min(walls), "wall_median": statistics.median(walls),
                 "cpu_min": min(cpus), "cpu_median": statistics.median(cpus),
                 "ratio_wall_min": min(walls) / min(t[0] for t in base),
                 "ratio_wall_median": statistics.median(walls) / statistics.median(t[0] for t in base),
                 "ratio_cpu_median": statistics.median(cpus) / statistics.median(t[1] for t in base)}
        report["configs"][name] = entry
        print(f"  {name:<13} wall min {entry['wall_min']:6.2f}  median {entry['wall_median']:6.2f}"
              f"  cpu median {entry['cpu_median']:6.2f}   x wabt: wall(min) "
              f"{entry['ratio_wall_min']:.2f}  wall(median) {entry['ratio_wall_median']:.2f}"
              f"  cpu {entry['ratio_cpu_median']:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
