"""Differential execution fuzzing: binaryen's `wasm-opt -ttf` turns random bytes into valid
modules with exports and `fuzzing-support` logging imports; each module runs on cmref
(tools/fuzz/diff_ref.c, linked with build/libcmref.a) and on node's V8
(tools/fuzz/diff_node.js), and the two transcripts are compared line by line: load and
instantiation errors, each export's results or trap, and every logged value.

    python tools/fuzz/diff_exec.py [--modules N | --seconds S] [--seed K] [--batch B] [--simd]

Values are compared exactly except NaNs, which compare as `nan` whatever their bits: JS
numbers cannot carry NaN payloads across the boundary, and Wasm's NaN propagation lets
engines differ there (spec 4.3.3 Floating-Point Operations, nans_N{z*}: unless every input
NaN is canonical, the result is any arithmetic NaN of either sign; e.g. f64.max of
-nan:0xfffff910c2e72 is that NaN on cmref and 0xfff8000000000000 on V8, both allowed).
Such a NaN stored to memory shows up in binaryen's hashMemory, so modules are instrumented
with binaryen's --denan (NaNs become 0 at runtime) unless --keep-nans is given. Exports
taking or returning references are not called (JS cannot pass them comparably), nor ones
with v128 unless --simd is given.

--simd adds --enable-simd: binaryen then also imports `log-v128` and exports v128 functions.
diff_node.js bridges v128 through small Wasm modules (the JS API has no v128), and both
sides print a v128 as its four i32 lanes. binaryen's --denan does not touch v128 values
(version 108 instruments f32 and f64 expressions only), so SIMD float lanes can carry NaNs
whose bits the spec leaves open (nans_N{z*} again, per lane: f32x4/f64x2 arithmetic, min,
max, rounding, sqrt, promote/demote; e.g. f32x4.sub of inf and inf is 0x7fc00000 on cmref
and 0xffc00000 on V8's SSE code). A v128 value therefore compares equal when every
differing lane is a NaN on both sides, as f32 (the 32-bit lane) or as f64 (its 64-bit half);
all other bits, and all scalar values, must be identical. Such a NaN can still reach memory
(v128.store, then hashMemory) or an integer lane; each such divergence is investigated by hand.
Divergent modules are kept in .cache/fuzz/diff/; the exit status is 1 if any module diverged.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("CMREF_CACHE", ROOT / ".cache")) / "fuzz"
FEATURES = ["--enable-sign-ext", "--enable-bulk-memory", "--enable-nontrapping-float-to-int",
            "--enable-mutable-globals", "--enable-multivalue"]
SIMD = ["--enable-simd"]  # only with --simd (log-v128 and v128 exports bridged by Wasm on node)
FUEL = 10_000_000  # generated code is bounded by binaryen's hang limit; this is a backstop


def build_ref() -> Path:
    subprocess.run(["make", "-s", "-C", str(ROOT), "build/libcmref.a"], check=True)
    exe = ROOT / "build" / "fuzz" / "diff_ref"
    src = ROOT / "tools" / "fuzz" / "diff_ref.c"
    lib = ROOT / "build" / "libcmref.a"
    if not exe.exists() or exe.stat().st_mtime < max(src.stat().st_mtime, lib.stat().st_mtime):
        exe.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([os.environ.get("CC", "cc"), "-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra",
                        "-Werror", "-O2", "-g", "-I", str(ROOT / "interp" / "include"),
                        "-I", str(ROOT / "interp"), "-o", str(exe), str(src), str(lib),
                        "-ljansson", "-lm"], check=True)
    return exe


ERROR_CLASS = {"malformed": "compile", "invalid": "compile", "unlinkable": "link",
               "uninstantiable": "trap", "trap": "trap", "exhaustion": "exhaustion",
               "CompileError": "compile", "LinkError": "link", "RuntimeError": "trap",
               "RangeError": "exhaustion"}


def split(text: str) -> dict[str, list[str]]:
    """Transcript lines per module path; `error` lines keep only the error's class (the
    engines' messages differ: cmref's error kind vs the JS exception's constructor)."""
    out: dict[str, list[str]] = {}
    cur: list[str] = []
    for line in text.splitlines():
        if line.startswith("module "):
            cur = out.setdefault(line[7:], [])
        elif line.startswith("error "):
            kind = line.split()[1]
            cur.append(f"error {ERROR_CLASS.get(kind, kind)}")
        else:
            cur.append(line)
    return out


def is_nan_lane(lanes: list[int], k: int) -> bool:
    """Whether 32-bit lane k of a v128 is a NaN as an f32 lane or inside an f64 NaN half."""
    x = lanes[k]
    if (x & 0x7F800000) == 0x7F800000 and x & 0x7FFFFF:
        return True
    lo, hi = lanes[k & ~1], lanes[k | 1]
    return (hi & 0x7FF00000) == 0x7FF00000 and bool((hi & 0xFFFFF) or lo)


def same_v128(x: str, y: str) -> bool:
    """v128:L0_L1_L2_L3 tokens equal up to lanes that are NaNs on both sides."""
    a = [int(h, 16) for h in x[5:].split("_")]
    b = [int(h, 16) for h in y[5:].split("_")]
    return all(a[k] == b[k] or (is_nan_lane(a, k) and is_nan_lane(b, k)) for k in range(4))


def same_line(x: str, y: str) -> bool:
    if x == y:
        return True
    xs, ys = x.split(), y.split()
    return len(xs) == len(ys) and all(
        p == q or (p.startswith("v128:") and q.startswith("v128:") and same_v128(p, q))
        for p, q in zip(xs, ys))


def generate(rng: random.Random, folder: Path, n: int, denan: bool = True,
             simd: bool = False) -> list[Path]:
    mods = []
    for i in range(n):
        raw = folder / f"in{i}.bin"
        raw.write_bytes(rng.randbytes(rng.randrange(64, 8192)))
        wasm = folder / f"m{i}.wasm"
        done = subprocess.run(["wasm-opt", "-ttf", str(raw), *FEATURES, *(SIMD if simd else []),
                               *(["--denan"] if denan else []), "-o", str(wasm)],
                              capture_output=True)
        if done.returncode == 0 and wasm.exists():
            mods.append(wasm)
    return mods


def compare(ref: Path, mods: list[Path], keep: Path, counts: dict,
            simd: bool = False) -> tuple[int, list[dict]]:
    flag = ["--simd"] if simd else []
    ref_out = subprocess.run([str(ref), *flag, str(FUEL), *map(str, mods)], capture_output=True,
                             text=True, timeout=600).stdout
    r = split(ref_out)
    batch = [{"path": str(p), "sigs": [line.split()[1:] for line in r.get(str(p), [])
                                       if line.startswith("sig ")]} for p in mods]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(batch, f)
    try:
        node_js = ROOT / "tools" / "fuzz" / "diff_node.js"
        node_out = subprocess.run(["node", str(node_js), f.name, *flag],
                                  capture_output=True, text=True, timeout=600).stdout
    finally:
        os.unlink(f.name)
    v = split(node_out)
    diverged = []
    for p in mods:
        a = [line for line in r.get(str(p), ["<no output>"]) if not line.startswith("sig ")]
        b = v.get(str(p), ["<no output>"])
        for line in a:
            key = "traps" if line.endswith(" trap") else line.split()[0] + "s"
            counts[key] = counts.get(key, 0) + 1
            if " v128:" in line:
                counts["v128s"] = counts.get("v128s", 0) + 1
        same = len(a) == len(b) and all(same_line(x, y) for x, y in zip(a, b))
        if same and a != b:
            counts["nan_lanes_differing"] = counts.get("nan_lanes_differing", 0) + 1
        if not same:
            keep.mkdir(parents=True, exist_ok=True)
            kept = keep / f"{int(time.time())}-{p.name}"
            shutil.copyfile(p, kept)
            first = next((i for i, (x, y) in enumerate(zip(a, b)) if not same_line(x, y)),
                         min(len(a), len(b)))
            diverged.append({"module": str(kept), "line": first,
                             "ref": a[first:first + 3], "v8": b[first:first + 3]})
    return len(mods), diverged


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--modules", type=int, default=100)
    ap.add_argument("--seconds", type=float, help="run batches until this much time has passed")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--batch", type=int, default=25)
    ap.add_argument("--keep-nans", action="store_true",
                    help="no --denan: NaN payloads in memory may then differ (allowed)")
    ap.add_argument("--simd", action="store_true",
                    help="enable SIMD: log-v128 and exports with v128 (bridged by Wasm on node)")
    a = ap.parse_args(argv)
    for tool in ("wasm-opt", "node"):
        if shutil.which(tool) is None:
            print(f"{tool} not installed", file=sys.stderr)
            return 2
    ref = build_ref()
    rng = random.Random(a.seed)
    start = time.monotonic()
    total, diverged, counts = 0, [], {}
    with tempfile.TemporaryDirectory() as tmp:
        while True:
            if a.seconds is not None:
                if time.monotonic() - start >= a.seconds:
                    break
            elif total >= a.modules:
                break
            n = a.batch if a.seconds is not None else min(a.batch, a.modules - total)
            folder = Path(tmp) / str(total)
            folder.mkdir()
            mods = generate(rng, folder, n, not a.keep_nans, a.simd)
            ran, div = compare(ref, mods, CACHE / "diff", counts, a.simd)
            total += ran
            diverged += div
            shutil.rmtree(folder)
    summary = {"modules": total, "divergent": len(diverged), "seconds": round(time.monotonic() - start, 1),
               "seed": a.seed, "denan": not a.keep_nans, "simd": a.simd, "lines": counts, "divergences": diverged[:20]}
    print(json.dumps(summary, indent=1))
    return 1 if diverged else 0


if __name__ == "__main__":
    sys.exit(main())
