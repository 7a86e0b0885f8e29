"""SIMD benchmark: cmref's interpreter against wabt's wasm-interp, in one run.

Builds simd_bench.c with clang (--target=wasm32 -msimd128 -O2 -nostdlib, linked by lld),
runs its export `bench` on both interpreters (best of --repeat wall-clock times), checks
that both return the same checksum, and prints the time ratio cmref / wasm-interp.

    .venv/bin/python tools/bench/simd_bench.py [--cmref build/cmref] [--repeat 3]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from timing import best, checksum  # noqa: F401  (checksum: used by tests/test_simd_bench.py)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def build(out: Path, rounds: int | None = None) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    define = [f"-DROUNDS={rounds}"] if rounds else []
    subprocess.run(
        ["clang", "--target=wasm32", "-msimd128", "-O2", "-nostdlib", *define,
         "-Wl,--no-entry", "-Wl,--export=bench", "-o", str(out), str(HERE / "simd_bench.c")],
        check=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cmref", default=str(ROOT / "build" / "cmref"))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    wasm = build(ROOT / "build" / "bench" / "simd_bench.wasm")
    t_wabt, r_wabt = best(["wasm-interp", str(wasm), "--run-all-exports"], args.repeat)
    t_ref, r_ref = best([args.cmref, "run", str(wasm), "--invoke", "bench()"], args.repeat)
    print(f"wasm-interp: {t_wabt:.3f} s  result {r_wabt}")
    print(f"cmref:       {t_ref:.3f} s  result {r_ref}")
    print(f"ratio cmref / wasm-interp: {t_ref / t_wabt:.2f}x")
    if r_wabt != r_ref:
        sys.exit("checksums differ: cmref computed a different result than wasm-interp")


if __name__ == "__main__":
    main()
