"""tools/abi_coverage.py: the canonical ABI keeps its same-named, same-order C functions."""
from __future__ import annotations

import re
import subprocess
import sys

from harness_util import ROOT


def test_abi_coverage_share():
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "abi_coverage.py"), "--missing"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    m = re.search(r"coverage: (\d+)/(\d+) ", done.stdout)
    assert m, done.stdout
    have, total = int(m.group(1)), int(m.group(2))
    assert total > 90  # the spec's sync functions were found
    assert have / total >= 0.85, done.stdout
