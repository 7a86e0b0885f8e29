"""Shared timing helpers of the interpreter benchmarks (core_bench.py, simd_bench.py): run a
command, time it by wall clock, and read the i32 checksum the benchmark export printed."""
from __future__ import annotations

import re
import subprocess
import sys
import time


def timed(cmd: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr or done.stdout}")
    return elapsed, done.stdout


def checksum(output: str) -> int:
    """The i32 result: the last decimal number printed, as an unsigned 32-bit value."""
    numbers = re.findall(r"-?\d+", output)
    if not numbers:
        sys.exit(f"no result in output: {output!r}")
    return int(numbers[-1]) & 0xFFFFFFFF


def best(cmd: list[str], repeat: int) -> tuple[float, int]:
    """The best wall-clock time of `repeat` runs, and the checksum of the first."""
    runs = [timed(cmd) for _ in range(repeat)]
    return min(t for t, _ in runs), checksum(runs[0][1])
