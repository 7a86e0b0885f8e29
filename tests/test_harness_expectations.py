"""Expectation files: xfail, xpass (a failure), skip, whole-file entries, bad files."""
from __future__ import annotations

import pytest

from harness.expectations import Entry, ExpectationError, Expectations
from harness.runner import Result


def results(*outcomes):
    return [Result(line, "assert_return", o) for line, o in enumerate(outcomes, start=1)]


def test_line_entries():
    ex = Expectations([Entry("core", "a.wast", 1, "xfail", "V8 says so"),
                       Entry("core", "a.wast", 2, "xfail", "stale"),
                       Entry("core", "a.wast", 3, "skip", "needs host X")])
    rs = results("fail", "pass", "pass", "fail")
    ex.apply("core", "a.wast", rs)
    assert [r.outcome for r in rs] == ["xfail", "xpass", "skip", "fail"]
    assert rs[0].reason == "V8 says so" and "stale" in rs[1].reason


def test_other_suite_or_file_untouched():
    ex = Expectations([Entry("core", "a.wast", 1, "xfail", "r")])
    rs = results("fail")
    ex.apply("local", "a.wast", rs)
    ex.apply("core", "b.wast", rs)
    assert rs[0].outcome == "fail"


def test_whole_file_entries():
    ex = Expectations([Entry("core", "a.wast", None, "xfail", "not yet")])
    rs = results("pass", "crash", "not_run")
    ex.apply("core", "a.wast", rs)
    assert [r.outcome for r in rs] == ["pass", "xfail", "not_run"]
    rs = results("pass", "pass")
    ex.apply("core", "a.wast", rs)
    assert rs[0].outcome == "xpass"


def test_file_format(tmp_path):
    (tmp_path / "e.toml").write_text(
        '[[expect]]\nsuite = "core"\nfile = "x.wast:12"\nstatus = "xfail"\nreason = "why"\n'
        '[[expect]]\nsuite = "core"\nfile = "y.wast"\nline = 3\nstatus = "skip"\nreason = "r"\n')
    ex = Expectations.load("e", tmp_path)
    assert ex.by_file[("core", "x.wast")][0].line == 12
    assert ex.by_file[("core", "y.wast")][0].status == "skip"
    (tmp_path / "bad.toml").write_text('[[expect]]\nfile = "x.wast"\nstatus = "xfail"\nreason = ""\n')
    with pytest.raises(ExpectationError):
        Expectations.load("bad", tmp_path)


def test_shipped_expectation_files_load():
    from harness.expectations import ROOT
    for path in (ROOT / "suites" / "expectations").glob("*.toml"):
        Expectations.load(path.stem)
