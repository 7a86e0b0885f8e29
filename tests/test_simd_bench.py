"""The SIMD benchmark program (tools/bench/simd_bench.c, clang -msimd128) computes the same
checksum on cmref as on wabt's wasm-interp: compiled vector code, not just the suite's
one-instruction functions, runs right. A short run (few rounds); timing is the bench's job."""
import shutil
import subprocess
import sys

import pytest

from harness_util import ROOT

sys.path.insert(0, str(ROOT / "tools" / "bench"))
import simd_bench  # noqa: E402

needs_tools = pytest.mark.skipif(
    not all(shutil.which(t) for t in ("clang", "wasm-ld", "wasm-interp")),
    reason="clang, lld (wasm-ld) and wabt's wasm-interp are needed")


@needs_tools
def test_simd_bench_same_checksum_as_wasm_interp(tmp_path):
    cmref = ROOT / "build" / "cmref"
    if not cmref.exists():
        pytest.skip("build/cmref is not built")
    wasm = simd_bench.build(tmp_path / "simd_bench.wasm", rounds=20)
    wabt = subprocess.run(["wasm-interp", str(wasm), "--run-all-exports"],
                          capture_output=True, text=True, check=True)
    ref = subprocess.run([str(cmref), "run", str(wasm), "--invoke", "bench()"],
                         capture_output=True, text=True, check=True)
    assert simd_bench.checksum(ref.stdout) == simd_bench.checksum(wabt.stdout)
