"""`make fuzz-smoke` inside `make test` (issue 12): every libFuzzer target of tools/fuzz/
(core, run, component, abi, wit; built with -fsanitize=fuzzer,address,undefined) runs a few
seconds from a sample of seeds made on the fly from the pinned suites. A crash, leak,
sanitizer report or timeout fails the test with libFuzzer's report."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from harness_util import ROOT, needs_core, needs_wabt

SECONDS = 5


@needs_core
@needs_wabt
@pytest.mark.skipif(shutil.which("clang") is None, reason="clang not installed")
def test_fuzz_smoke():
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "fuzz" / "fuzz.py"), "smoke",
                           str(SECONDS)], capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert done.returncode == 0, (done.stdout + done.stderr)[-8000:]
    stats = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert [s["target"] for s in stats] == ["core", "run", "component", "abi", "wit"]
    for s in stats:
        # each target really ran: inputs executed and coverage found
        assert s["execs"] > 0 and s["cov"] > 0, s


@pytest.mark.skipif(shutil.which("wasm-opt") is None or shutil.which("node") is None,
                    reason="binaryen's wasm-opt or node not installed")
def test_differential_execution_smoke():
    """150 binaryen-generated modules on cmref and V8: the same transcripts (results, traps,
    logged values), and the modules really ran (calls and logs were compared)."""
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "fuzz" / "diff_exec.py"),
                           "--modules", "150", "--seed", "7"], capture_output=True, text=True,
                          timeout=600, cwd=ROOT)
    assert done.returncode == 0, (done.stdout + done.stderr)[-8000:]
    summary = json.loads(done.stdout)
    assert summary["modules"] >= 140 and summary["divergent"] == 0
    assert summary["lines"].get("calls", 0) > 300 and summary["lines"].get("logs", 0) > 300


@pytest.mark.skipif(shutil.which("wasm-opt") is None or shutil.which("node") is None,
                    reason="binaryen's wasm-opt or node not installed")
def test_differential_execution_simd_smoke():
    """--simd: 100 modules with SIMD, log-v128 and v128 exports (bridged through Wasm on node)
    give the same transcripts on cmref and V8, and v128 values were really compared."""
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "fuzz" / "diff_exec.py"),
                           "--simd", "--modules", "100", "--seed", "7"], capture_output=True,
                          text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, (done.stdout + done.stderr)[-8000:]
    summary = json.loads(done.stdout)
    assert summary["modules"] >= 90 and summary["divergent"] == 0 and summary["simd"]
    assert summary["lines"].get("calls", 0) > 200 and summary["lines"].get("v128s", 0) > 30


def test_v128_nan_lanes_compare():
    """diff_exec's v128 comparison forgives only lanes that are NaNs on both sides."""
    sys.path.insert(0, str(ROOT / "tools" / "fuzz"))
    from diff_exec import same_line
    a = "call f -> v128:7fc00000_00000001_00000000_7ff80000"
    assert same_line(a, "call f -> v128:ffc00000_00000001_12345678_fff80000")  # f32, f64 NaNs
    assert not same_line(a, "call f -> v128:ffc00000_00000002_12345678_fff80000")  # an int lane
    assert not same_line("log v128:7f800000_0_0_0", "log v128:7f800001_0_0_0")  # inf vs NaN
    assert not same_line("call f -> f32:nan", "call f -> f32:00000000")
