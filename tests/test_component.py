"""Component decoding and validation (interp/component/): the C unit tests."""
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST_BIN = ROOT / "build" / "tests" / "test_component"


def test_component_unit_tests():
    out = subprocess.run([str(TEST_BIN)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
