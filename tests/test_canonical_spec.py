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
