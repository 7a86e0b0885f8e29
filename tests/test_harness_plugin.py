"""The pytest plugin, run as a user would: pytest --wast-engine ..."""
from __future__ import annotations

import subprocess
import sys

from harness_util import ARMS, DATA, ROOT, needs_node, needs_wabt


def pytest_run(*args):
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:xdist", "-q", "-rs",
                           "-p", "no:cacheprovider", *args], cwd=ROOT, capture_output=True,
                          text=True)


@needs_node
@needs_wabt
def test_per_file_items_show_expected_and_actual(tmp_path):
    xml = tmp_path / "j.xml"
    p = pytest_run("--wast-engine", "node", str(ARMS), str(DATA / "wrong.wast"),
                   f"--junitxml={xml}")
    assert p.returncode == 1
    assert "1 failed, 1 passed" in p.stdout
    assert "wrong.wast:6: assert_return: fail" in p.stdout
    assert "expected: (i32:2)" in p.stdout and "actual:   (i32:1)" in p.stdout
    assert xml.exists()


@needs_wabt
def test_per_directive_items_and_k():
    p = pytest_run("--wast-engine", "fake-crash", "--wast-per-directive",
                   str(DATA / "faults.wast"))
    assert "1 failed, 5 passed, 3 skipped" in p.stdout
    assert "faults.wast:5: action: crash" in p.stdout
    p = pytest_run("--wast-engine", "fake-crash", "--wast-per-directive", "-k", "assert_return",
                   str(DATA / "faults.wast"))
    assert "2 passed, 2 skipped, 5 deselected" in p.stdout


def test_wast_files_not_collected_without_engine():
    p = pytest_run("--collect-only", str(DATA))
    assert "arms.wast" not in p.stdout
