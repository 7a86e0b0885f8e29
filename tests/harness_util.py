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


# A core module's bump allocator exported as "realloc": honours alignment, keeps contents
# when it moves. Paste into a (core module ...) that has a memory.
BUMP_REALLOC = """(global $next (mut i32) (i32.const 64))
    (func (export "realloc") (param $old i32) (param $osz i32) (param $al i32) (param $nsz i32) (result i32)
      (local $r i32)
      (if (i32.and (i32.ne (local.get $old) (i32.const 0)) (i32.le_u (local.get $nsz) (local.get $osz)))
        (then (return (local.get $old))))
      (local.set $r (i32.and (i32.add (global.get $next) (i32.sub (local.get $al) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get $al))))
      (global.set $next (i32.add (local.get $r) (local.get $nsz)))
      (if (local.get $old) (then (memory.copy (local.get $r) (local.get $old) (local.get $osz))))
      (local.get $r))"""
