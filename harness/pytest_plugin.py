"""pytest plugin: .wast files as test items, run through the harness on an engine.

    pytest --wast-engine node ../shared/suites/core/i32.wast
    pytest --wast-engine ref --wast-per-directive -k "assert_trap" path/to/folder -n auto

Collection is opt-in: .wast files are collected only when --wast-engine is given (so the
project's own test data is not collected by a plain `pytest`). One item per file, or one per
directive with --wast-per-directive (the file runs once per pytest process; its directives
report from that run; use `--dist loadgroup` (or loadfile) with xdist to keep a file in
one process).

Outcomes map to pytest's: pass -> passed; skip / not_run -> skipped (with the reason);
xfail -> xfailed; fail / xpass / crash / timeout / error -> failed, showing expected vs actual
for each failing directive (with --wast-trace-failures, also the trace of its component
boundary crossings). The engine's expectations file (suites/expectations/ENGINE.toml)
applies as in `python -m harness run`, and so does the fuel budget (--wast-fuel).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from harness.runner import DEFAULT_FUEL, FAILING, NOT_RUN, PASS, SKIP, XFAIL, Result, RunOptions


def pytest_addoption(parser):
    group = parser.getgroup("cmref-wast", "cmref .wast files")
    group.addoption("--wast-engine", metavar="ENGINE", default=None,
                    help="collect .wast files and run them on ENGINE (node, ref, ...)")
    group.addoption("--wast-per-directive", action="store_true", default=False,
                    help="one test item per directive instead of per file")
    group.addoption("--wast-timeout", type=float, default=10.0, metavar="SECONDS",
                    help="per-directive timeout of the engine (default 10)")
    group.addoption("--wast-fuel", type=int, default=DEFAULT_FUEL, metavar="N",
                    help="instructions per instantiation or invocation (as harness run --fuel)")
    group.addoption("--wast-trace-failures", action="store_true", default=False,
                    help="show the component boundary crossings of failing directives")


def pytest_collect_file(parent, file_path: Path):
    if file_path.suffix == ".wast" and parent.config.getoption("wast_engine"):
        return WastFile.from_parent(parent, path=file_path)
    return None


class _Session:
    """Per pytest process: one engine, one FileResult per file."""

    def __init__(self, config):
        from harness.engines import make_engine
        from harness.expectations import Expectations
        name = config.getoption("wast_engine")
        self.engine = make_engine(name, timeout=config.getoption("wast_timeout"))
        self.expectations = Expectations.load(name)
        self.options = RunOptions(fuel=config.getoption("wast_fuel") or None,
                                  trace_failures=config.getoption("wast_trace_failures"))
        self.results: dict[Path, object] = {}

    def run(self, path: Path):
        from harness.session import Task, run_file
        from harness.suites import locate
        if path not in self.results:
            suite, root, frontend = locate(path)
            task = Task(suite, str(root), str(path), frontend)
            self.results[path] = run_file(self.engine, self.expectations, task, self.options)
        return self.results[path]


def _session(config) -> _Session:
    s = getattr(config, "_cmref_wast", None)
    if s is None:
        s = config._cmref_wast = _Session(config)
    return s


def pytest_unconfigure(config):
    s = getattr(config, "_cmref_wast", None)
    if s is not None:
        getattr(s.engine, "close", lambda: None)()


class WastFailure(Exception):
    def __init__(self, results: list[Result]):
        super().__init__(f"{len(results)} directive(s) failed")
        self.results = results


def describe(path: Path, r: Result) -> str:
    lines = [f"{path}:{r.line}: {r.kind}: {r.outcome}"]
    if r.expected is not None:
        lines.append(f"    expected: {r.expected}")
    if r.actual is not None:
        lines.append(f"    actual:   {r.actual}")
    if r.detail():
        lines.append(f"    {r.detail()}")
    if r.trace:
        lines.append("    trace:")
        lines += [f"      {t}" for t in r.trace.splitlines()]
    return "\n".join(lines)


class WastFile(pytest.File):
    def collect(self):
        if not self.config.getoption("wast_per_directive"):
            yield WastItem.from_parent(self, name=self.path.name, index=None)
            return
        # Items come from the front-end's command list (cached), so collecting does not run
        # anything; the file runs once per process, at its first item.
        try:
            cmds = _commands(self.path)
        except Exception:   # the file-level item reports the front-end error
            yield WastItem.from_parent(self, name=self.path.name, index=None)
            return
        for i, cmd in enumerate(cmds):
            item = WastItem.from_parent(self, name=f"{cmd.get('line', 0)}:{cmd['type']}", index=i)
            # with `-n N --dist loadgroup`, a file's directives stay in one process
            item.add_marker(pytest.mark.xdist_group(str(self.path)))
            yield item


def _commands(path: Path) -> list[dict]:
    from harness.frontend import front_end, kind_of
    from harness.suites import locate
    _, _, frontend = locate(path)
    kind = frontend if frontend != "auto" else kind_of(path.read_bytes())
    doc, _ = front_end(kind)(path)
    return doc["commands"]


class WastItem(pytest.Item):
    def __init__(self, *, index: int | None, **kw):
        super().__init__(**kw)
        self.index = index

    def runtest(self):
        fr = _session(self.config).run(self.path)
        if self.index is not None:
            if self.index >= len(fr.results) or fr.error:
                raise WastFailure([r for r in fr.results if r.kind == "file"] or fr.results[-1:])
            _report_one(fr.results[self.index])
            return
        failing = [r for r in fr.results if r.outcome in FAILING]
        if failing:
            raise WastFailure(failing)
        if fr.results and all(r.outcome in (SKIP, NOT_RUN) for r in fr.results):
            pytest.skip(f"every directive skipped: {fr.results[0].detail()}")

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, WastFailure):
            return "\n".join(describe(self.path, r) for r in excinfo.value.results)
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        fr = _session(self.config).results.get(self.path)
        line = fr.results[self.index].line if fr and self.index is not None else 0
        return self.path, max(0, line - 1), self.name


def _report_one(r: Result) -> None:
    if r.outcome == PASS:
        return
    if r.outcome in (SKIP, NOT_RUN):
        pytest.skip(f"{r.outcome}: {r.detail()}")
    if r.outcome == XFAIL:
        pytest.xfail(r.detail())
    raise WastFailure([r])
