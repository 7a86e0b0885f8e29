"""The computed-goto table of the dispatch loop (interp/core/exec_jumptable.h) is generated
from exec.c's vmcase labels; it must be up to date, or an opcode would dispatch to the
wrong case."""
import subprocess
import sys

from harness_util import ROOT


def test_jumptable_up_to_date():
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_jumptable.py"), "--check"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
