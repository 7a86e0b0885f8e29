"""Canonical ABI benchmark: 64 MiB list<u8>, string utf8->utf8 and utf8->utf16 passed from one
component instance to another through canon lower + canon lift, each as a ratio to memcpy
of the same bytes in the same run (canonical_bench.c). Target: within 4x for list<u8> and
same-encoding strings.

    .venv/bin/python tools/bench/canonical_bench.py [--repeat 3]   (after `make build`)
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    lib = ROOT / "build" / "libcmref.a"
    if not lib.exists():
        sys.exit("build/libcmref.a missing: run `make build` first")
    exe = ROOT / "build" / "bench" / "canonical_bench"
    exe.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["cc", "-std=c11", "-D_GNU_SOURCE", "-O2", "-Wall", "-Wextra", "-Werror",
                    f"-I{ROOT / 'interp'}", f"-I{ROOT / 'interp' / 'include'}",
                    "-o", str(exe), str(HERE / "canonical_bench.c"), str(lib), "-ljansson", "-lm"],
                   check=True)
    return subprocess.run([str(exe), str(args.repeat)]).returncode


if __name__ == "__main__":
    sys.exit(main())
