"""The pinned suites through the harness, as `make test` runs them.

- ref (cmref's interpreter): every suite must be green against suites/expectations/ref.toml
  (no fail / xpass / crash / timeout / error) and pass at least the committed baseline
  (suites/baseline/ref.json), so a directive that passed cannot silently regress, and have no
  more trap/error messages missing the expected text than its message_mismatch. Skipped
  with the reason while `build/cmref worker` is not there.
- node (V8): the harness's proof on the core suite: every one of the 53,899 commands is
  accounted for and the non-SIMD files pass >= 99.5%.
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from harness.engine import EngineUnavailable
from harness.session import close_spares, probe
from harness.suites import SuiteError, resolve
from harness_util import ROOT, needs_core, needs_node, needs_wabt

BASELINE = ROOT / "suites" / "baseline" / "ref.json"
SUITES = ["core", "component-model", "wasmtime-misc", "local"]


def run_suite(tmp_path, engine: str, suite: str, *extra: str) -> tuple[subprocess.CompletedProcess, dict]:
    out = tmp_path / "summary.json"
    p = subprocess.run([sys.executable, "-m", "harness", "run", "--engine", engine,
                        "--suite", suite, "-j", "2", "--db", str(tmp_path / "r.sqlite"),
                        "--summary-json", str(out), *extra],
                       cwd=ROOT, capture_output=True, text=True)
    return p, json.loads(out.read_text())


def ref_unavailable() -> str | None:
    try:
        probe("ref", 10.0)
    except EngineUnavailable as e:
        return str(e)
    finally:
        close_spares()
    return None


@pytest.mark.parametrize("suite", SUITES)
def test_ref_suite_green_and_not_below_baseline(tmp_path, suite):
    why = ref_unavailable()
    if why:
        pytest.skip(f"ref engine unavailable: {why}")
    try:
        resolve(suite)
    except SuiteError as e:
        pytest.skip(str(e))
    p, summary = run_suite(tmp_path, "ref", suite)
    bad = [line for line in p.stdout.splitlines()
           if any(f": {o}: " in line for o in ("fail", "xpass", "crash", "timeout", "error"))]
    assert p.returncode == 0, "\n".join(bad[:50]) + f"\n({len(bad)} lines)\n" + p.stderr[-2000:]
    passed = summary["suites"][suite]["outcomes"]["pass"]
    floor = json.loads(BASELINE.read_text()).get(suite, 0)
    assert passed >= floor, f"ref passes {passed} directives of {suite}, baseline is {floor}"
    mismatched = summary["message_match"]["mismatched"]
    ceiling = json.loads(BASELINE.read_text()).get("message_mismatch", {}).get(suite)
    assert ceiling is None or mismatched <= ceiling, \
        f"{mismatched} messages of {suite} miss the expected text, baseline is {ceiling}"


@needs_node
@needs_wabt
@needs_core
def test_node_core_is_the_harness_proof(tmp_path):
    p, summary = run_suite(tmp_path, "node", "core", "--quiet")
    core = summary["suites"]["core"]
    assert p.returncode == 0, p.stdout[-3000:]
    assert core["files"] == 146 and core["directives"] == 53899
    non_simd = {f: c for f, c in core["by_file"].items() if not f.startswith("simd")}
    assert len(non_simd) == 90
    total = sum(sum(c.values()) for c in non_simd.values())
    passed = sum(c["pass"] for c in non_simd.values())
    assert total == 27923 and passed / total >= 0.995
