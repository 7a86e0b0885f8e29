"""Differential test of the SIMD instructions: cmref against wabt's wasm-interp on random
and edge-case operands.

For every instruction of interp/core/simd_ops.def, writes functions that apply it to
constant operands (lanes drawn from edge values and random bits, random lane and shuffle
immediates) and return the result as a v128 (a scalar result is splatted, bits kept; a
store is followed by a v128.load of the bytes around it). Memory instructions use addresses
and offsets near both ends of a one-page memory holding random bytes, so some trap; a
trap must be a trap on both. Both engines run every function; results must be identical,
except that where the spec lets a float result be any NaN (nans{...}: arithmetic, min/max,
rounding, demote/promote) both engines only need to return a NaN.

    .venv/bin/python tools/fuzz/simd_diff.py [--per-op 20] [--seed 1] [--cmref BINARY]
"""
from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEF = ROOT / "interp" / "core" / "simd_ops.def"

# Result lanes that may be any NaN (spec: nans{z*}); everything else must match bit for bit.
NAN_FREE_OPS = re.compile(r"^f(32x4|64x2)\.(add|sub|mul|div|sqrt|min|max|ceil|floor|trunc|nearest"
                          r"|demote_f64x2_zero|promote_low_f32x4)$")

EDGE32 = [0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF,
          0x3F000000, 0x3FC00000, 0x40200000, 0xBF000000, 0xC0200000, 0x7F800000, 0xFF800000,
          0x7FC00000, 0xFFC00000, 0x7FA00001, 0x7FC12345, 0x00000001, 0x807FFFFF, 0x4F000000,
          0xCF000000, 0x4F800000, 0x4B000001, 0x3F800000, 0x80000000 | 0x3F800000]
EDGE64 = [0, 1, 0x7FFFFFFFFFFFFFFF, 0x8000000000000000, 0xFFFFFFFFFFFFFFFF,
          0x3FE0000000000000, 0x3FF8000000000000, 0x4004000000000000, 0xC004000000000000,
          0x7FF0000000000000, 0xFFF0000000000000, 0x7FF8000000000000, 0xFFF8000000000000,
          0x7FF4000000000001, 0x7FF8000000012345, 0x0000000000000001, 0x41E0000000000000,
          0xC1E0000000000000, 0x41EFFFFFFFE00000, 0x41F0000000000000, 0xC1E0000000200000,
          0x47EFFFFFE0000000, 0x47EFFFFFF0000000, 0x36A0000000000000]


def ops() -> list[tuple[int, str, str, str, int]]:
    rows = []
    for line in DEF.read_text().splitlines():
        m = re.match(r'X\((0x[0-9a-f]+),\s*\w+,\s*"([^"]+)",\s*(\w+),\s*(\w+),\s*(\d+),', line)
        if m:
            rows.append((int(m[1], 16), m[2], m[3], m[4], int(m[5])))
    return rows


def lane32(rng: random.Random) -> int:
    return rng.choice(EDGE32) if rng.random() < 0.6 else rng.getrandbits(32)


def lane64(rng: random.Random) -> int:
    return rng.choice(EDGE64) if rng.random() < 0.6 else rng.getrandbits(64)


def v128(rng: random.Random) -> int:
    """A v128 as a 128-bit int, built from 32- or 64-bit edge lanes or random bytes."""
    kind = rng.randrange(3)
    if kind == 0:
        return sum(lane32(rng) << (32 * i) for i in range(4))
    if kind == 1:
        return sum(lane64(rng) << (64 * i) for i in range(2))
    return rng.getrandbits(128)


def operand(t: str, rng: random.Random) -> str:
    if t == "V":
        x = v128(rng)
        lanes = " ".join(f"0x{(x >> (32 * i)) & 0xFFFFFFFF:08x}" for i in range(4))
        return f"(v128.const i32x4 {lanes})"
    if t == "I":
        return f"(i32.const 0x{lane32(rng) if rng.random() < 0.8 else rng.randrange(200):x})"
    if t == "L":
        return f"(i64.const 0x{lane64(rng):x})"
    if t == "F":
        return f"(f32.reinterpret_i32 (i32.const 0x{lane32(rng):x}))"
    return f"(f64.reinterpret_i64 (i64.const 0x{lane64(rng):x}))"


SPLAT = {"I": "i32x4.splat", "L": "i64x2.splat", "F": "f32x4.splat", "D": "f64x2.splat"}


PAGE = 65536


def memory_function(name: str, imm: str, sig: str, n: int, rng: random.Random) -> str:
    """A load, or a store followed by reading back 16 bytes around it."""
    addr = rng.choice([0, 1, 7, 100, PAGE - n, PAGE - n + 1, PAGE - 16, PAGE - 1, PAGE,
                       0xFFFFFFFF, rng.randrange(PAGE)])
    offset = rng.choice([0, 0, 0, 1, 3, 15, PAGE - 16, PAGE, 0xFFFFFFFF])
    lane = f" {rng.randrange(16 // n)}" if imm == "MEMARG_LANE" else ""
    vec = f" {operand('V', rng)}" if "V" in sig.partition("_")[0] else ""
    access = f"({name} offset={offset} align=1{lane} (i32.const {addr}){vec})"
    if sig.partition("_")[2]:
        return access
    ea = addr + offset
    back = min(ea, PAGE - 16) if ea <= PAGE else 0
    return f"(block {access}) (v128.load (i32.const {back}))"


def function(name: str, imm: str, sig: str, n: int, rng: random.Random) -> str:
    params, _, result = sig.partition("_")
    if imm.startswith("MEMARG"):
        return memory_function(name, imm, sig, n, rng)
    if imm == "LANE":
        immediate = f" {rng.randrange(n)}"
    elif imm == "SHUFFLE":
        immediate = " " + " ".join(str(rng.randrange(32)) for _ in range(16))
    elif imm == "V128":
        x = v128(rng)
        immediate = " i32x4 " + " ".join(f"0x{(x >> (32 * i)) & 0xFFFFFFFF:08x}" for i in range(4))
    else:
        immediate = ""
    body = f"({name}{immediate} {' '.join(operand(t, rng) for t in params)})"
    if result != "V":
        body = f"({SPLAT[result]} {body})"
    return body


def module(per_op: int, seed: int) -> tuple[str, list[str]]:
    rng = random.Random(seed)
    funcs, names = [], []
    for _, name, imm, sig, n in ops():
        for k in range(per_op):
            body = function(name, imm, sig, n, rng)
            export = f"{name}#{k}"
            names.append(export)
            funcs.append(f'  (func (export "{export}") (result v128) {body})')
    data = [" ".join(f"\\{rng.getrandbits(8):02x}" for _ in range(256)) for _ in range(2)]
    memory = (f'  (memory 1)\n  (data (i32.const 0) "{"".join(data[0].split())}")\n'
              f'  (data (i32.const {PAGE - 256}) "{"".join(data[1].split())}")\n')
    return "(module\n" + memory + "\n".join(funcs) + "\n)\n", names


def run_wabt(wasm: Path) -> dict[str, int | str]:
    out = subprocess.run(["wasm-interp", str(wasm), "--run-all-exports"],
                         capture_output=True, text=True, check=True).stdout
    results = {}
    for line in out.splitlines():
        trap = re.match(r"(\S+)\(\) => error: out of bounds memory access", line)
        if trap:
            results[trap[1]] = "trap"
            continue
        m = re.match(r"(\S+)\(\) => v128 i32x4:(0x\w+) (0x\w+) (0x\w+) (0x\w+)$", line)
        if not m:
            sys.exit(f"unexpected wasm-interp output: {line}")
        results[m[1]] = sum(int(m[2 + i], 16) << (32 * i) for i in range(4))
    return results


def run_cmref(wasm: Path, names: list[str], cmref: str) -> dict[str, int | str]:
    reqs = [{"id": 0, "op": "load", "path": str(wasm), "component": False},
            {"id": 1, "op": "instantiate", "module": 0}]
    proc = subprocess.Popen([cmref, "worker"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    first = [json.loads(_exchange(proc, r)) for r in reqs]
    if "ok" not in first[0] or "ok" not in first[1]:
        sys.exit(f"cmref rejected the module: {first}")
    inst = first[1]["ok"]["instance"]
    results = {}
    lines = "".join(json.dumps({"id": 2 + i, "op": "invoke", "instance": inst, "field": n,
                                "args": []}) + "\n" for i, n in enumerate(names))
    out, _ = proc.communicate(lines)
    for name, line in zip(names, out.splitlines()):
        reply = json.loads(line)
        if reply.get("error", {}).get("kind") == "trap" and "out of bounds" in line:
            results[name] = "trap"
            continue
        if "ok" not in reply:
            sys.exit(f"cmref failed on {name}: {reply}")
        value = reply["ok"]["results"][0]
        size = {"i8": 8, "i16": 16, "i32": 32, "i64": 64}[value["lane_type"]]
        results[name] = sum((int(x) & ((1 << size) - 1)) << (size * i)
                            for i, x in enumerate(value["value"]))
    return results


def _exchange(proc: subprocess.Popen, req: dict) -> str:
    proc.stdin.write(json.dumps(req) + "\n")
    proc.stdin.flush()
    return proc.stdout.readline()


def both_nan(a: int, b: int, width: int) -> bool:
    exp = 0xFF if width == 32 else 0x7FF
    mant = 23 if width == 32 else 52
    for i in range(128 // width):
        x, y = (a >> (width * i)) & ((1 << width) - 1), (b >> (width * i)) & ((1 << width) - 1)
        if x == y:
            continue
        nan_x = (x >> mant) & exp == exp and x & ((1 << mant) - 1)
        nan_y = (y >> mant) & exp == exp and y & ((1 << mant) - 1)
        if not (nan_x and nan_y):
            return False
    return True


def compare(names: list[str], wabt: dict, ref: dict) -> list[str]:
    bad = []
    for name in names:
        op = name.split("#")[0]
        a, b = wabt[name], ref[name]
        if a == b:
            continue
        if isinstance(a, str) or isinstance(b, str):
            bad.append(f"{name}: wasm-interp {a}, cmref {b}")
            continue
        width = 64 if op.startswith("f64x2.") and "demote" not in op else 32
        if NAN_FREE_OPS.match(op) and both_nan(a, b, width):
            continue
        bad.append(f"{name}: wasm-interp 0x{a:032x}, cmref 0x{b:032x}")
    return bad


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-op", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cmref", default=str(ROOT / "build" / "cmref"),
                    help="the cmref binary (e.g. build-sanitize/cmref)")
    args = ap.parse_args()
    text, names = module(args.per_op, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        wat, wasm = Path(tmp) / "simd_diff.wat", Path(tmp) / "simd_diff.wasm"
        wat.write_text(text)
        subprocess.run(["wat2wasm", str(wat), "-o", str(wasm)], check=True)
        bad = compare(names, run_wabt(wasm), run_cmref(wasm, names, args.cmref))
    for line in bad[:50]:
        print(line)
    print(f"{len(names)} SIMD applications compared, {len(bad)} differ")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
