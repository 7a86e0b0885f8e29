"""Runs the C unit tests of the SIMD numerics (interp/tests/test_simd.c, built by make build)."""
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_simd_numerics():
    binary = ROOT / "build" / "tests" / "test_simd"
    assert binary.exists(), "make build did not build build/tests/test_simd"
    done = subprocess.run([binary], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr + done.stdout
    assert "checks passed" in done.stdout
