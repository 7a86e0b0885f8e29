"""Helpers shared by the harness tests."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.expectations import Expectations
from harness.session import Task, run_file
from harness.suites import suites_root

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
ARMS = ROOT / "suites" / "local" / "harness" / "arms.wast"

needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
needs_wabt = pytest.mark.skipif(shutil.which("wast2json") is None, reason="wabt is not installed")
needs_core = pytest.mark.skipif(not (suites_root() / "core").is_dir(),
                                reason="pinned core suite not found (CMREF_SUITES)")


def run_wast(engine, path: Path, expectations: Expectations | None = None, suite: str = "t"):
    task = Task(suite, str(path.parent), str(path), "auto")
    return run_file(engine, expectations or Expectations([]), task)


def outcomes(fr) -> list[tuple[int, str, str]]:
    return [(r.line, r.kind, r.outcome) for r in fr.results]
