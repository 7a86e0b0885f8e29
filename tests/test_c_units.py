"""Every C unit test binary that `make build` produced (build/tests/test_*) must pass."""
from __future__ import annotations

import os
import subprocess

import pytest

from harness_util import ROOT

BINARIES = sorted(p for p in (ROOT / "build" / "tests").glob("test_*")
                  if p.is_file() and os.access(p, os.X_OK))


@pytest.mark.parametrize("binary", BINARIES, ids=[p.name for p in BINARIES])
def test_c_unit(binary):
    done = subprocess.run([binary], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
