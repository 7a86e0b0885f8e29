"""Mutation smoke test (issue 4, "Bad input"): suite binaries of the core suite, flipped,
overwritten, truncated and extended, through cmref's decoder and validator built with ASan +
UBSan (tools/fuzz/core_mutate.c); valid mutants are also compiled, instantiated and their
exports called under a fuel limit. No mutant may crash, trip a sanitizer, or fail without a
message."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from harness_util import ROOT, needs_core, needs_wabt, suites_root

FILES = ["binary", "binary-leb128", "br_table", "block", "call_indirect", "custom", "data",
         "elem", "exports", "func", "global", "imports", "loop", "memory", "names",
         "select", "table", "table_init", "simd_const", "simd_lane", "bulk"]




@needs_core
@needs_wabt
@pytest.mark.skipif(shutil.which("clang") is None, reason="clang not installed")
def test_mutants_decode_and_validate_cleanly(tmp_path):
    core = suites_root() / "core"
    wasm_dir = tmp_path / "wasm"
    wasm_dir.mkdir()
    for name in FILES:
        src = core / f"{name}.wast"
        if src.exists():
            subprocess.run(["wast2json", str(src), "-o", str(wasm_dir / f"{name}.json")],
                           check=True, capture_output=True)
    binaries = sorted(str(p) for p in wasm_dir.glob("*.wasm"))
    assert len(binaries) > 500
    sources = sorted(str(p) for p in (ROOT / "interp" / "core").glob("*.c"))
    exe = tmp_path / "core_mutate"
    subprocess.run(["clang", "-std=c11", "-D_GNU_SOURCE", "-O1", "-g",
                    "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
                    "-I", str(ROOT / "interp" / "include"), "-I", str(ROOT / "interp"),
                    "-o", str(exe), str(ROOT / "tools" / "fuzz" / "core_mutate.c"), *sources,
                    "-ljansson", "-lm"], check=True, capture_output=True)
    done = subprocess.run([str(exe), "--run", "12345", "30", *binaries], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    assert "ok" in done.stdout
