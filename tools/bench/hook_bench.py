"""Interception hook overhead: ns per cross-component call of a small function (add: u32, u32
-> u32) through canon lower + canon lift, built with the hook check (no hook installed, and a
counting hook installed) and without it (canonical.c compiled with -DCMREF_NO_HOOKS); the
builds are timed alternately, best of --rounds, and printed as ratios to the build without.

    .venv/bin/python tools/bench/hook_bench.py [--calls 1000000] [--rounds 5]  (after `make build`)
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CFLAGS = ["-std=c11", "-D_GNU_SOURCE", "-O2", "-Wall", "-Wextra", "-Werror",
          f"-I{ROOT / 'interp'}", f"-I{ROOT / 'interp' / 'include'}"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--calls", type=int, default=1000000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    lib = ROOT / "build" / "libcmref.a"
    if not lib.exists():
        sys.exit("build/libcmref.a missing: run `make build` first")
    out = ROOT / "build" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    src = str(HERE / "hook_bench.c")
    with_check, without = out / "hook_bench", out / "hook_bench_nohooks"
    subprocess.run(["cc", *CFLAGS, "-o", str(with_check), src, str(lib), "-ljansson", "-lm"], check=True)
    # the same canonical.c without the check, linked ahead of the library's copy
    obj = out / "canonical_nohooks.o"
    subprocess.run(["cc", *CFLAGS, "-DCMREF_NO_HOOKS", "-c", "-o", str(obj),
                    str(ROOT / "interp" / "component" / "canonical.c")], check=True)
    subprocess.run(["cc", *CFLAGS, "-o", str(without), src, str(obj), str(lib), "-ljansson", "-lm"],
                   check=True)
    runs = {"no check compiled in": [without], "check, no hook installed": [with_check],
            "counting hook installed": [with_check, "observe"]}
    best = {k: float("inf") for k in runs}
    for _ in range(args.rounds):
        for k, cmd in runs.items():
            r = subprocess.run([str(cmd[0]), str(args.calls), "1", *cmd[1:]], capture_output=True,
                               text=True, check=True)
            best[k] = min(best[k], float(r.stdout))
    base = best["no check compiled in"]
    for k, v in best.items():
        print(f"{k:28} {v:8.2f} ns/call  ratio {v / base:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
