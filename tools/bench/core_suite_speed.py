"""The harness speed figure: the whole pinned core suite through the harness on `ref`
against wabt's own pipeline (`wast2json` + `spectest-interp` on every file), in one run.

Both sides start cold: the harness gets an empty front-end cache (CMREF_CACHE in a
temporary folder), so its time includes running wast2json on every file, as wabt's does
(and wat2wasm on every text module of assert_malformed, which wabt's pipeline skips). The
harness is then run a second time on the now warm cache (front-end work done, the figure a
user sees on every later run). Both sides use the same number of parallel jobs.

    .venv/bin/python tools/bench/core_suite_speed.py [-j 2]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def suite_dir() -> Path:
    return Path(os.environ.get("CMREF_SUITES", ROOT.parent / "shared" / "suites")) / "core"


def wabt_one(wast: Path, out: Path) -> tuple[int, str]:
    """wast2json then spectest-interp on one file; returns (passed, summary line)."""
    json_path = out / (wast.stem + ".json")
    subprocess.run(["wast2json", str(wast), "-o", str(json_path)], check=True,
                   capture_output=True)
    done = subprocess.run(["spectest-interp", str(json_path)], capture_output=True, text=True)
    last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    return done.returncode, last


def wabt_pipeline(files: list[Path], jobs: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        with ThreadPoolExecutor(jobs) as pool:
            results = list(pool.map(lambda f: wabt_one(f, Path(tmp)), files))
        elapsed = time.perf_counter() - start
    failed = [f.name for f, (rc, _) in zip(files, results) if rc != 0]
    if failed:
        print(f"note: spectest-interp reported failures in {len(failed)} files: {failed[:5]}")
    return elapsed


def harness_run(jobs: int, cache: str) -> tuple[float, str]:
    env = dict(os.environ, CMREF_CACHE=cache)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "harness", "run", "--engine", "ref",
                           "--suite", "core", "-j", str(jobs), "--no-db", "--quiet"],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    lines = done.stdout.strip().splitlines()
    return elapsed, lines[-1] if lines else done.stderr[-500:]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-j", "--jobs", type=int, default=2)
    args = ap.parse_args()
    files = sorted(suite_dir().glob("*.wast"))
    if not files:
        sys.exit(f"no .wast files in {suite_dir()} (set CMREF_SUITES)")
    t_wabt = wabt_pipeline(files, args.jobs)
    with tempfile.TemporaryDirectory() as cache:
        t_cold, totals = harness_run(args.jobs, cache)
        t_warm, _ = harness_run(args.jobs, cache)
    print(f"core suite: {len(files)} files, -j {args.jobs}")
    print(f"wabt (wast2json + spectest-interp): {t_wabt:.2f} s")
    print(f"harness + ref, cold cache:          {t_cold:.2f} s  [{totals}]")
    print(f"harness + ref, warm cache:          {t_warm:.2f} s")
    print(f"ratio harness+ref / wabt: cold {t_cold / t_wabt:.2f}x, warm {t_warm / t_wabt:.2f}x")

if __name__ == "__main__":
    main()
