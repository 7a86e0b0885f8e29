"""Differential execution fuzzing: binaryen's `wasm-opt -ttf` turns random bytes into valid
modules with exports and `fuzzing-support` logging imports; each module runs on cmref
(tools/fuzz/diff_ref.c, linked with build/libcmref.a) and on node's V8
(tools/fuzz/diff_node.js), and the two transcripts are compared line by line: load and
instantiation errors, each export's results or trap, and every logged value.

    python tools/fuzz/diff_exec.py [--modules N | --seconds S] [--seed K] [--batch B]

Values are compared exactly except NaNs, which compare as `nan` whatever their bits: JS
numbers cannot carry NaN payloads across the boundary, and Wasm's NaN propagation lets
engines differ there (spec 4.3.3 Floating-Point Operations, nans_N{z*}: unless every input
NaN is canonical, the result is any arithmetic NaN of either sign; e.g. f64.max of
-nan:0xfffff910c2e72 is that NaN on cmref and 0xfff8000000000000 on V8, both allowed).
Such a NaN stored to memory shows up in binaryen's hashMemory, so modules are instrumented
with binaryen's --denan (NaNs become 0 at runtime) unless --keep-nans is given. Exports
taking or returning v128 or references are not called (JS cannot pass them comparably). Divergent modules are kept in
.cache/fuzz/diff/; the exit status is 1 if any module diverged.
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
# (SIMD is left off: binaryen then imports log-v128, which JS cannot provide)
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


def generate(rng: random.Random, folder: Path, n: int, denan: bool = True) -> list[Path]:
    mods = []
    for i in range(n):
        raw = folder / f"in{i}.bin"
        raw.write_bytes(rng.randbytes(rng.randrange(64, 8192)))
        wasm = folder / f"m{i}.wasm"
        done = subprocess.run(["wasm-opt", "-ttf", str(raw), *FEATURES,
                               *(["--denan"] if denan else []), "-o", str(wasm)],
                              capture_output=True)
        if done.returncode == 0 and wasm.exists():
            mods.append(wasm)
    return mods


def compare(ref: Path, mods: list[Path], keep: Path, counts: dict) -> tuple[int, list[dict]]:
    ref_out = subprocess.run([str(ref), str(FUEL), *map(str, mods)], capture_output=True,
                             text=True, timeout=600).stdout
    r = split(ref_out)
    batch = [{"path": str(p), "sigs": [line.split()[1:] for line in r.get(str(p), [])
                                       if line.startswith("sig ")]} for p in mods]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(batch, f)
    try:
        node_out = subprocess.run(["node", str(ROOT / "tools" / "fuzz" / "diff_node.js"), f.name],
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
        if a != b:
            keep.mkdir(parents=True, exist_ok=True)
            kept = keep / f"{int(time.time())}-{p.name}"
            shutil.copyfile(p, kept)
            first = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
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
            mods = generate(rng, folder, n, not a.keep_nans)
            ran, div = compare(ref, mods, CACHE / "diff", counts)
            total += ran
            diverged += div
            shutil.rmtree(folder)
    summary = {"modules": total, "divergent": len(diverged), "seconds": round(time.monotonic() - start, 1),
               "seed": a.seed, "denan": not a.keep_nans, "lines": counts, "divergences": diverged[:20]}
    print(json.dumps(summary, indent=1))
    return 1 if diverged else 0


if __name__ == "__main__":
    sys.exit(main())
