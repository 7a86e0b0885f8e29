"""Core benchmarks: cmref's interpreter against wabt's wasm-interp, in one run.

Builds core_bench.c once per program (fib, sieve, matmul, crc) with clang
(--target=wasm32 -O2 -nostdlib, linked by lld, exporting `bench`) and natively (clang -O2)
for scale; runs `bench` on wasm-interp and on `cmref run` (best of --repeat wall-clock
times), checks both return the same checksum, and prints the ratio cmref / wasm-interp per
program. Target: <= 1.0 on every program (project goal 0.5).

    .venv/bin/python tools/bench/core_bench.py [--cmref build/cmref] [--repeat 3] [--fuel N]

--fuel N runs cmref with an instruction budget (metered code) to measure what fuel costs.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from timing import best

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PROGRAMS = ["fib", "sieve", "matmul", "crc"]


def build(name: str, outdir: Path) -> tuple[Path, Path]:
    outdir.mkdir(parents=True, exist_ok=True)
    src, flag = str(HERE / "core_bench.c"), f"-DBENCH_{name.upper()}"
    wasm, native = outdir / f"{name}.wasm", outdir / f"{name}.native"
    subprocess.run(["clang", "--target=wasm32", "-O2", "-nostdlib", "-Wl,--no-entry",
                    "-Wl,--export=bench", flag, "-o", str(wasm), src], check=True)
    subprocess.run(["clang", "-O2", flag, "-DNATIVE_MAIN", "-o", str(native), src], check=True)
    return wasm, native


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cmref", default=str(ROOT / "build" / "cmref"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--fuel", type=int, help="run cmref with --fuel N (metered code)")
    ap.add_argument("programs", nargs="*", default=PROGRAMS)
    args = ap.parse_args()
    print(f"{'program':8} {'native s':>9} {'wasm-interp s':>14} {'cmref s':>8} {'ratio':>6}")
    worst = 0.0
    for name in args.programs:
        wasm, native = build(name, ROOT / "build" / "bench")
        t_nat, r_nat = best([str(native)], args.repeat)
        t_wabt, r_wabt = best(["wasm-interp", str(wasm), "--run-all-exports"], args.repeat)
        fuel = ["--fuel", str(args.fuel)] if args.fuel is not None else []
        t_ref, r_ref = best([args.cmref, "run", str(wasm), *fuel, "--invoke", "bench()"], args.repeat)
        ratio = t_ref / t_wabt
        worst = max(worst, ratio)
        print(f"{name:8} {t_nat:9.3f} {t_wabt:14.3f} {t_ref:8.3f} {ratio:6.2f}")
        if not (r_wabt == r_ref == r_nat):
            sys.exit(f"{name}: checksums differ: native {r_nat}, wasm-interp {r_wabt}, cmref {r_ref}")
    print(f"worst ratio cmref / wasm-interp: {worst:.2f} (target <= 1.0, goal 0.5)")


if __name__ == "__main__":
    main()
