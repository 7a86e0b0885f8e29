"""`python -m harness diff`: exactly the directives that differ, grouped by file."""
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures.reportdb import add_run, row
from harness import db
from harness import diff
from harness import report_data as rd

ROOT = Path(__file__).resolve().parents[1]


def files(**changes):
    base = {
        "a.wast": [row(1, "module", "pass"), row(2, "assert_return", "pass"),
                   row(3, "assert_return", "pass"), row(4, "assert_trap", "pass")],
        "sub/b.wast": [row(1, "module", "pass"), row(2, "assert_invalid", "pass"),
                       row(3, "assert_return", "fail", actual="(i32:7)")],
    }
    for key, new in changes.items():
        file, line = key.rsplit("_", 1)
        file = file.replace("__", "/").replace("_wast", ".wast")
        rows = base[file]
        idx = next(i for i, r in enumerate(rows) if r.line == int(line))
        if new is None:
            del rows[idx]
        else:
            rows[idx] = new
    return base


@pytest.fixture
def dbpath(tmp_path):
    path = tmp_path / "r.sqlite"
    conn = db.connect(path)
    add_run(conn, engine="ref", suite="core", root=tmp_path, files=files())            # run 1
    add_run(conn, engine="node", suite="core", root=tmp_path, files=files(             # run 2
        a_wast_3=row(3, "assert_return", "fail", actual="(i32:1)"),
        a_wast_4=None,
        sub__b_wast_2=row(2, "assert_invalid", "fail", actual="accepted"),
        sub__b_wast_3=row(3, "assert_return", "fail", actual="(i32:8)")))
    add_run(conn, engine="ref", suite="core", root=tmp_path, files=files())            # run 3
    conn.close()
    return path


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "harness", "diff", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def test_exactly_the_differing_directives(dbpath):
    conn = rd.connect(dbpath)
    d = diff.differences(rd.load_rows(conn, 1), rd.load_rows(conn, 2))
    assert [(x.file, x.line, x.what) for x in d] == [
        ("a.wast", 3, "outcome"), ("a.wast", 4, "presence"),
        ("sub/b.wast", 2, "outcome"), ("sub/b.wast", 3, "value")]


def test_cli_by_engine_names_groups_by_file_and_exits_1(dbpath):
    out = run_cli("ref", "node", "--db", str(dbpath))
    assert out.returncode == 1, out.stderr
    text = out.stdout
    # the newest ref run (3) against node's run (2)
    assert text.splitlines()[0].startswith("diff core: run 3 (ref ref 1.0) vs run 2 (node node 1.0): 4 of 7 directives differ")
    body = [ln.split() for ln in text.splitlines()[1:] if ln.strip()]
    assert body == [
        ["a.wast"], ["line", "kind", "#3", "ref", "#2", "node", "detail"],
        ["3", "assert_return", "pass", "fail", "#2", "node:", "(i32:1)"],
        ["4", "assert_trap", "pass", "(absent)"],
        ["sub/b.wast"], ["line", "kind", "#3", "ref", "#2", "node", "detail"],
        ["2", "assert_invalid", "pass", "fail", "#2", "node:", "accepted"],
        ["3", "assert_return", "fail", "fail", "#3", "ref:", "(i32:7);", "#2", "node:", "(i32:8)"],
    ]


def test_identical_runs_exit_0(dbpath):
    out = run_cli("1", "3", "--db", str(dbpath), "--suite", "core")
    assert out.returncode == 0, out.stderr
    assert "0 of 7 directives differ" in out.stdout


def test_unknown_run_exits_2(dbpath):
    out = run_cli("ref", "wasmtime", "--db", str(dbpath))
    assert out.returncode == 2
    assert "no run of engine 'wasmtime'" in out.stderr


def test_real_runs_node_vs_fake_accept(tmp_path):
    """Two real runs of one core file: node passes it; fake-accept accepts every module, so
    exactly the file's assert_invalid directives (wast2json's own list) differ."""
    import json
    from harness.report import suites_root
    path = suites_root() / "core" / "unreached-invalid.wast"
    dbfile = tmp_path / "r.sqlite"
    for engine in ("node", "fake-accept"):
        subprocess.run([sys.executable, "-m", "harness", "run", "--engine", engine, "--suite", "core",
                        "--files", path.name, "--db", str(dbfile), "--quiet"], cwd=ROOT,
                       capture_output=True, text=True, timeout=300)
    subprocess.run(["wast2json", str(path), "-o", str(tmp_path / "x.json")], check=True)
    commands = json.loads((tmp_path / "x.json").read_text())["commands"]
    invalid = [c["line"] for c in commands if c["type"] == "assert_invalid"]
    assert len(invalid) > 100
    out = run_cli("node", "fake-accept", "--db", str(dbfile))
    assert out.returncode == 1, out.stderr
    rows = [ln.split() for ln in out.stdout.splitlines() if ln.strip()[:1].isdigit()]
    assert [int(r[0]) for r in rows] == invalid
    assert all(r[1:4] == ["assert_invalid", "pass", "fail"] for r in rows)
    assert f"{len(invalid)} of {len(commands)} directives differ" in out.stdout


def test_ref_against_a_deliberately_broken_expectation(tmp_path, monkeypatch):
    """ref on i32.wast twice: the second time an expectations file (deliberately wrong) lists
    two directives that pass as expected failures, so they become xpass; `harness diff`
    shows exactly those two."""
    import argparse
    import json
    from harness import cmd_run, expectations
    from harness.report import suites_root
    path = suites_root() / "core" / "i32.wast"
    subprocess.run(["wast2json", str(path), "-o", str(tmp_path / "x.json")], check=True)
    commands = json.loads((tmp_path / "x.json").read_text())["commands"]
    broken = [next(c["line"] for c in commands if c["type"] == "assert_return"),
              next(c["line"] for c in commands if c["type"] == "assert_trap")]
    dbfile = tmp_path / "r.sqlite"
    parser = argparse.ArgumentParser()
    cmd_run.configure(parser)
    argv = ["--engine", "ref", "--suite", "core", "--files", "i32.wast", "--db", str(dbfile), "--quiet"]
    assert cmd_run.main(parser.parse_args(argv)) == 0
    fake_root = tmp_path / "root"
    (fake_root / "suites" / "expectations").mkdir(parents=True)
    (fake_root / "suites" / "expectations" / "ref.toml").write_text("".join(
        f'[[expect]]\nsuite = "core"\nfile = "i32.wast:{line}"\nstatus = "xfail"\n'
        f'reason = "deliberately wrong expectation"\n\n' for line in broken))
    monkeypatch.setattr(expectations, "ROOT", fake_root)
    assert cmd_run.main(parser.parse_args(argv)) == 1        # two xpass
    out = run_cli("1", "2", "--db", str(dbfile))
    assert out.returncode == 1, out.stderr
    rows = [ln.split() for ln in out.stdout.splitlines() if ln.strip()[:1].isdigit()]
    assert [(int(r[0]), r[2], r[3]) for r in rows] == [(line, "pass", "xpass") for line in broken]
    assert f"2 of {len(commands)} directives differ" in out.stdout
