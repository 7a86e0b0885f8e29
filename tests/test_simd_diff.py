"""Every SIMD instruction (loads and stores near both ends of memory too), on edge-case
and random operands, gives the same bits on cmref as on wabt's wasm-interp (NaN results:
any NaN where the spec allows it). A short run of tools/fuzz/simd_diff.py; longer runs: --per-op 300 --seed N."""
import shutil
import subprocess
import sys

import pytest

from harness_util import ROOT


@pytest.mark.skipif(not all(shutil.which(t) for t in ("wat2wasm", "wasm-interp")),
                    reason="wabt (wat2wasm, wasm-interp) is not installed")
def test_simd_matches_wasm_interp_on_random_operands():
    if not (ROOT / "build" / "cmref").exists():
        pytest.skip("build/cmref is not built")
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "fuzz" / "simd_diff.py"),
                           "--per-op", "20", "--seed", "1"], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 differ" in done.stdout
