"""The C string transcoding (store_string_into_range, every direction) against the executable
spec (../shared/spec/definitions.py): random strings of ASCII, Latin-1, BMP and astral code
points, the same bump realloc on both sides; the destination bytes, the tagged code units and
every realloc call (old, old_size, align, new_size) must be identical, on the fast paths and
with them turned off."""
from __future__ import annotations

import importlib.util
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from harness_util import ROOT

SPEC = Path(os.environ.get("CMREF_SPEC", ROOT.parent / "shared" / "spec")) / "definitions.py"
BINARY = ROOT / "build" / "tests" / "test_canonical"
ENCODINGS = ["utf8", "utf16", "latin1+utf16"]
TAG = 1 << 31

pytestmark = [
    pytest.mark.skipif(not SPEC.is_file(), reason=f"definitions.py not found at {SPEC}"),
    pytest.mark.skipif(not BINARY.is_file(), reason="build/tests/test_canonical not built"),
]


def load_spec():
    spec = importlib.util.spec_from_file_location("cm_definitions", SPEC)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["cm_definitions"] = mod
    spec.loader.exec_module(mod)
    return mod


def source(s: str, enc: str) -> tuple[bytes, int]:
    """The bytes and tagged code units of s lifted in encoding enc."""
    if enc == "utf8":
        b = s.encode("utf-8")
        return b, len(b)
    if enc == "utf16":
        b = s.encode("utf-16-le")
        return b, len(b) // 2
    if all(ord(c) < 256 for c in s):
        return s.encode("latin-1"), len(s)
    b = s.encode("utf-16-le")
    return b, (len(b) // 2) | TAG


def spec_store(d, s: str, src_enc: str, tagged: int, dst_enc: str):
    mem = d.MemInst(bytearray(65536), "i32")
    state = {"next": 1024, "log": []}

    def realloc(old, old_size, align, size):
        state["log"].append((old, old_size, align, size))
        p = (state["next"] + align - 1) // align * align
        if p + size <= len(mem.bytes):
            n = min(old_size, size)
            if old:
                mem.bytes[p:p + n] = mem.bytes[old:old + n]
            state["next"] = p + size
        return p

    class Inst:
        may_leave = True

    opts = d.LiftLowerOptions(string_encoding=dst_enc, memory=mem, realloc=realloc)
    cx = d.LiftLowerContext(opts, Inst())
    cx.reallocate = realloc  # the spec lifts realloc; the values pass through unchanged
    ptr, out = d.store_string_into_range(cx, (s, src_enc, tagged))
    units = out & ~TAG
    if dst_enc == "utf8" or (dst_enc == "latin1+utf16" and not out & TAG):
        nbytes = units
    else:
        nbytes = 2 * units
    return out, bytes(mem.bytes[ptr:ptr + nbytes]), state["log"]


POOLS = [
    [chr(c) for c in range(0x20, 0x7f)],
    [chr(c) for c in range(0xa0, 0x100)],
    [chr(c) for c in (0x100, 0x3b1, 0x20ac, 0x4e2d, 0xd7ff, 0xe000, 0xfffd, 0xffff)],
    [chr(c) for c in (0x10000, 0x1f600, 0x10ffff)],
]


def random_string(rng: random.Random) -> str:
    kinds = rng.sample(range(4), rng.randint(1, 4))
    n = rng.choice([0, 1, 2, 3, 7, 16, 33, 100])
    return "".join(rng.choice(POOLS[rng.choice(kinds)]) for _ in range(n))


@pytest.mark.parametrize("mode", ["--transcode", "--transcode-spec-path"])
def test_transcoding_matches_definitions_py(mode):
    d = load_spec()
    rng = random.Random(7)
    cases = []
    for _ in range(120):
        s = random_string(rng)
        for src_enc in ENCODINGS:
            for dst_enc in ENCODINGS:
                cases.append((s, src_enc, dst_enc))
    lines = []
    for s, src_enc, dst_enc in cases:
        b, tagged = source(s, src_enc)
        lines.append(f"{ENCODINGS.index(src_enc)} {ENCODINGS.index(dst_enc)} {tagged} "
                     f"{b.hex() or '-'}\n")
    done = subprocess.run([str(BINARY), mode], input="".join(lines), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    answers = done.stdout.splitlines()
    assert len(answers) == len(cases)
    mismatches = []
    for (s, src_enc, dst_enc), answer in zip(cases, answers):
        _, tagged = source(s, src_enc)
        out, data, log = spec_store(d, s, src_enc, tagged, dst_enc)
        want = f"{out} {data.hex() or '-'} " + "".join(f"{a},{b},{c},{e};" for a, b, c, e in log)
        if answer != want:
            mismatches.append(f"{src_enc}->{dst_enc} {s!r}: C `{answer}` spec `{want}`")
    assert not mismatches, "\n".join(mismatches[:10])


# ---- store/load of random values of random types -------------------------------------------

PRIMS = ["bool", "s8", "u8", "s16", "u16", "s32", "u32", "s64", "u64", "f32", "f64", "char",
         "string"]
INT_RANGES = {"s8": (-128, 127), "u8": (0, 255), "s16": (-2**15, 2**15 - 1), "u16": (0, 2**16 - 1),
              "s32": (-2**31, 2**31 - 1), "u32": (0, 2**32 - 1), "s64": (-2**63, 2**63 - 1),
              "u64": (0, 2**64 - 1)}


def random_type(d, rng: random.Random, depth: int = 0):
    """(expression, spec type, value generator) of a random value type."""
    kind = rng.choice(PRIMS + ["prim"] * 4 if depth > 2 else
                      PRIMS + ["list", "fix", "rec", "tup", "var", "opt", "res", "flags", "enum"] * 2)
    if kind == "prim":
        kind = rng.choice(PRIMS)
    if kind in PRIMS:
        return kind, prim_type(d, kind), lambda: prim_value(rng, kind)
    if kind in ("list", "fix", "opt"):
        e, et, ev = random_type(d, rng, depth + 1)
        if kind == "opt":
            def gen():
                if rng.random() < 0.3:
                    return None, {"type": "option", "value": None}
                s, j = ev()
                return {"some": s}, {"type": "option", "value": j}
            return f"opt({e})", d.OptionType(et), lambda: wrap_opt(gen())
        n = rng.randint(1, 4) if kind == "fix" else None

        def gen_list():
            vals = [ev() for _ in range(n if n else rng.randint(0, 4))]
            return [v for v, _ in vals], {"type": "list", "value": [j for _, j in vals]}
        expr = f"fix({e},{n})" if n else f"list({e})"
        return expr, d.ListType(et, n), gen_list
    if kind in ("rec", "tup"):
        members = [random_type(d, rng, depth + 1) for _ in range(rng.randint(1, 4))]
        expr = f"{kind}({','.join(m[0] for m in members)})"
        if kind == "rec":
            t = d.RecordType([d.FieldType(f"f{i}", m[1]) for i, m in enumerate(members)])
        else:
            t = d.TupleType([m[1] for m in members])

        def gen_rec():
            vals = [m[2]() for m in members]
            if kind == "rec":
                return ({f"f{i}": v for i, (v, _) in enumerate(vals)},
                        {"type": "record", "value": [[f"f{i}", j] for i, (_, j) in enumerate(vals)]})
            return ({str(i): v for i, (v, _) in enumerate(vals)},
                    {"type": "tuple", "value": [j for _, j in vals]})
        return expr, t, gen_rec
    if kind in ("var", "res"):
        n = 2 if kind == "res" else rng.randint(1, 5)
        cases = [None if rng.random() < 0.3 else random_type(d, rng, depth + 1) for _ in range(n)]
        expr = f"{kind}({','.join('_' if c is None else c[0] for c in cases)})"
        if kind == "res":
            t = d.ResultType(None if cases[0] is None else cases[0][1],
                             None if cases[1] is None else cases[1][1])
            labels = ["ok", "error"]
        else:
            t = d.VariantType([d.CaseType(f"f{i}", None if c is None else c[1])
                               for i, c in enumerate(cases)])
            labels = [f"f{i}" for i in range(n)]

        def gen_var():
            i = rng.randrange(n)
            c = cases[i]
            v, j = (None, None) if c is None else c[2]()
            if kind == "res":
                return {labels[i]: v}, {"type": "result", "value": {["Ok", "Err"][i]: j}}
            out = {"case": f"f{i}"}
            if c is not None:
                out["payload"] = j
            return {labels[i]: v}, {"type": "variant", "value": out}
        return expr, t, gen_var
    n = rng.randint(1, 32) if kind == "flags" else rng.choice([1, 2, 3, 255, 256, 257, 300])
    labels = [f"f{i}" for i in range(n)]
    if kind == "flags":
        def gen_flags():
            on = [rng.random() < 0.5 for _ in labels]
            return ({l: b for l, b in zip(labels, on)},
                    {"type": "flags", "value": [l for l, b in zip(labels, on) if b]})
        return f"flags({n})", d.FlagsType(labels), gen_flags

    def gen_enum():
        i = rng.randrange(n)
        return {labels[i]: None}, {"type": "enum", "value": labels[i]}
    return f"enum({n})", d.EnumType(labels), gen_enum


def wrap_opt(pair):
    v, j = pair
    return ({"none": None} if v is None else v), j


def prim_type(d, name):
    return {"bool": d.BoolType, "s8": d.S8Type, "u8": d.U8Type, "s16": d.S16Type,
            "u16": d.U16Type, "s32": d.S32Type, "u32": d.U32Type, "s64": d.S64Type,
            "u64": d.U64Type, "f32": d.F32Type, "f64": d.F64Type, "char": d.CharType,
            "string": d.StringType}[name]()


def prim_value(rng: random.Random, name: str):
    import struct
    if name == "bool":
        b = rng.random() < 0.5
        return b, {"type": "bool", "value": b}
    if name in INT_RANGES:
        lo, hi = INT_RANGES[name]
        v = rng.choice([lo, hi, 0, rng.randint(lo, hi)])
        return v, {"type": name, "value": str(v)}
    if name == "f32":
        bits = rng.choice([0, 0x80000000, 0x3f800000, 0x7f800000, rng.getrandbits(31)])
        return (struct.unpack("<f", struct.pack("<I", bits))[0],
                {"type": "f32", "value": str(bits)})
    if name == "f64":
        bits = rng.choice([0, 0x3ff0000000000000, 0xfff0000000000000, rng.getrandbits(62)])
        return (struct.unpack("<d", struct.pack("<Q", bits))[0],
                {"type": "f64", "value": str(bits)})
    if name == "char":
        c = rng.choice(rng.choice(POOLS))
        return c, {"type": "char", "value": c}
    s = random_string(rng)[:12]
    return (s, "utf8", len(s.encode())), {"type": "string", "value": s}


def spec_context(d):
    """A definitions.py LiftLowerContext over 64 KiB of memory whose realloc bumps from 1024
    and logs each call, as the C side's test binary does."""
    mem = d.MemInst(bytearray(65536), "i32")
    log = []
    nxt = [1024]

    def realloc(old, old_size, align, size):
        log.append((old, old_size, align, size))
        p = (nxt[0] + align - 1) // align * align
        if p + size <= len(mem.bytes):
            if old:
                n = min(old_size, size)
                mem.bytes[p:p + n] = mem.bytes[old:old + n]
            nxt[0] = p + size
        return p

    class Inst:
        may_leave = True

    opts = d.LiftLowerOptions("utf8", mem, realloc)
    cx = d.LiftLowerContext(opts, Inst())
    cx.reallocate = realloc
    cx.allocate = lambda align, size: realloc(0, 0, align, size)
    return cx, opts, mem, log


def spec_store_value(d, t, v):
    cx, _, mem, log = spec_context(d)
    d.store(cx, v, t, 256)
    return bytes(mem.bytes[:4096]), log


def spec_lower_flat(d, t, v):
    import struct
    cx, opts, mem, log = spec_context(d)
    flat = d.lower_flat_values(cx, d.MAX_FLAT_PARAMS, [v], [t])
    types = d.flatten_types([t], opts)
    if len(types) > d.MAX_FLAT_PARAMS:
        types = ["i32"]
    bits = []
    for x, ft in zip(flat, types):
        if ft == "f32":
            x = struct.unpack("<I", struct.pack("<f", x))[0]
        elif ft == "f64":
            x = struct.unpack("<Q", struct.pack("<d", x))[0]
        bits.append(str(x))
    return ",".join(bits), bytes(mem.bytes[:4096]), log


def random_cases_through_binary(seed, flag):
    """300 random (type, value) cases of at most 700 bytes, and the C test binary's answer
    line for each (run with `flag`)."""
    import json
    d = load_spec()
    d.DETERMINISTIC_PROFILE = True
    rng = random.Random(seed)
    cases = []
    while len(cases) < 300:
        expr, t, gen = random_type(d, rng)
        if d.elem_size(t, "i32") > 700:
            continue
        v, j = gen()
        cases.append((expr, t, v, j))
    lines = "".join(f"{expr} {json.dumps(j)}\n" for expr, _, _, j in cases)
    done = subprocess.run([str(BINARY), flag], input=lines, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    answers = done.stdout.splitlines()
    assert len(answers) == len(cases)
    return d, list(zip(cases, answers))


def log_text(log):
    return "".join(f"{a},{b},{c},{e};" for a, b, c, e in log)


@pytest.mark.skipif(not SPEC.is_file(), reason="definitions.py not found")
def test_store_load_matches_definitions_py():
    import json
    d, answered = random_cases_through_binary(11, "--values")
    bad = []
    for (expr, t, v, j), answer in answered:
        data, log = spec_store_value(d, t, v)
        hexpart, logpart, back = answer.split(" ", 2)
        if f"{hexpart} {logpart}" != f"{data.hex()} {log_text(log)}":
            bad.append(f"{expr} {json.dumps(j)}: memory or reallocs differ")
        elif json.loads(back) != j:
            bad.append(f"{expr}: loaded {back} != stored {json.dumps(j)}")
    assert not bad, "\n".join(bad[:8])


@pytest.mark.skipif(not SPEC.is_file(), reason="definitions.py not found")
def test_flat_lowering_matches_definitions_py():
    import json
    d, answered = random_cases_through_binary(13, "--flat")
    bad = []
    for (expr, t, v, j), answer in answered:
        flat, data, log = spec_lower_flat(d, t, v)
        got_flat, hexpart, logpart, back = answer.split(" ", 3)
        if f"{got_flat} {hexpart} {logpart}" != f"{flat} {data.hex()} {log_text(log)}":
            bad.append(f"{expr} {json.dumps(j)}: C flat {got_flat}, spec {flat} (or memory differs)")
        elif json.loads(back) != j:
            bad.append(f"{expr}: lifted {back} != lowered {json.dumps(j)}")
    assert not bad, "\n".join(bad[:8])
