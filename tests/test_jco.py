"""Engine `jco` (jco-transpile on node) against `ref`: the diff lists exactly the directives
where they disagree (tests/data/jco-diff.wast marks them), and each engine's outcomes."""
import subprocess
import sys
from pathlib import Path

import pytest

from harness import diff
from harness import report_data as rd

ROOT = Path(__file__).resolve().parents[1]
WAST = ROOT / "tests" / "data" / "jco-diff.wast"

pytestmark = [
    pytest.mark.skipif(not (ROOT / "tools" / "node_modules" / "jco-transpile-engine").is_dir(),
                       reason="tools/node_modules not installed (make setup)"),
    pytest.mark.skipif(not (ROOT / "build" / "cmref").exists(), reason="ref is not built"),
]


def harness(*args):
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def dbpath(tmp_path_factory):
    path = tmp_path_factory.mktemp("jco") / "r.sqlite"
    for engine in ("ref", "jco"):
        harness("run", "--engine", engine, "--suite", str(WAST), "--db", str(path))
    return path


def test_outcomes(dbpath):
    conn = rd.connect(dbpath)
    runs = {r.engine: r for r in rd.list_runs(conn)}
    ref = {r.line: r.outcome for r in rd.load_rows(conn, runs["ref"].id)}
    jco = {r.line: r for r in rd.load_rows(conn, runs["jco"].id)}
    assert set(ref.values()) == {"pass"} and len(ref) == 12
    assert {line: r.outcome for line, r in jco.items()} == {
        5: "pass", 19: "pass", 20: "pass", 24: "pass", 30: "fail", 31: "pass", 35: "pass",
        47: "fail", 50: "pass", 56: "skip", 62: "pass", 63: "pass"}
    assert "cannot transpile" in jco[56].reason
    assert "jco-transpile 0.15.0" in runs["jco"].engine_version


def test_diff_lists_exactly_the_differences(dbpath):
    conn = rd.connect(dbpath)
    runs = {r.engine: r for r in rd.list_runs(conn)}
    d = diff.differences(rd.load_rows(conn, runs["ref"].id), rd.load_rows(conn, runs["jco"].id))
    assert [(x.line, x.kind, x.what) for x in d] == [
        (30, "assert_return", "outcome"), (47, "assert_trap", "outcome"), (56, "module", "outcome")]
    out = harness("diff", "ref", "jco", "--db", str(dbpath))
    assert out.returncode == 1, out.stderr
    assert "3 of 12 directives differ" in out.stdout
