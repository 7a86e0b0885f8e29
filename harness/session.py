"""Running files: front-end, runner, cross-check, expectations; in parallel with -j N.

Each worker process owns one engine (one engine process for a worker engine); the parent
collects each file's FileResult as it completes and writes it to the database.
"""
from __future__ import annotations

import multiprocessing
import multiprocessing.util
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from harness.engine import EngineUnavailable
from harness.engines import make_engine
from harness.expectations import Expectations
from harness.frontend import FrontendError, front_end, kind_of
from harness.frontend.count import cached_count
from harness.runner import ERROR, SKIP, Result, Runner, RunOptions
from harness.suites import Suite


@dataclass
class FileResult:
    suite: str
    relpath: str
    path: str
    results: list[Result] = field(default_factory=list)
    commands: int = 0
    counted: int | None = None
    error: str | None = None
    duration: float = 0.0


@dataclass(frozen=True)
class Task:
    suite: str
    root: str
    path: str
    frontend: str


def run_file(engine, expectations: Expectations, task: Task,
             options: RunOptions | None = None) -> FileResult:
    start = time.perf_counter()
    path = Path(task.path)
    relpath = _relpath(path, Path(task.root))
    fr = FileResult(task.suite, relpath, task.path)
    if getattr(engine, "script_engine", False):
        return _run_script(engine, expectations, task, fr, start)
    try:
        text = path.read_bytes()
        fr.counted = cached_count(text)
        kind = task.frontend if task.frontend != "auto" else kind_of(text)
        doc, folder = front_end(kind)(path)
    except (OSError, FrontendError, Exception) as e:  # any front-end fault: a file error
        _file_error(fr, f"front-end: {e}", _line_of(e))
        fr.duration = time.perf_counter() - start
        return fr
    fr.commands = len(doc.get("commands", []))
    if _profile(task.suite) == "wasmtime":  # the suite's validation profile, as a feature
        doc = {**doc, "requirements": {**(doc.get("requirements") or {}), "wasmtime_profile": True}}
    skips = expectations.skips(task.suite, relpath)
    if None in skips:   # the whole file is listed as skip: nothing runs
        fr.results = [Result(c.get("line", 0), c["type"], SKIP, reason=skips[None])
                      for c in doc.get("commands", [])]
    else:
        fr.results = Runner(engine, skips, options).run(doc, folder)
    if fr.counted is not None and fr.counted != fr.commands:
        _file_error(fr, f"the front-end produced {fr.commands} commands but the file has "
                        f"{fr.counted} directives")
    expectations.apply(task.suite, relpath, fr.results)
    fr.duration = time.perf_counter() - start
    return fr


def _profile(suite: str) -> str | None:
    from harness.suites import manifest
    return manifest().get(suite, {}).get("profile")


def _run_script(engine, expectations: Expectations, task: Task, fr: FileResult,
                start: float) -> FileResult:
    """Engines that run whole scripts themselves (script_engine = True, e.g. wasmtime)."""
    try:
        fr.counted = cached_count(Path(task.path).read_bytes())
        rows = engine.run_script(task.path)
    except Exception as e:
        _file_error(fr, f"{type(e).__name__}: {e}")
        fr.duration = time.perf_counter() - start
        return fr
    fr.results = [Result(r.line, r.kind, r.outcome, phase=r.phase, expected=r.expected,
                         actual=r.actual, message=r.message, message_match=r.message_match,
                         reason=r.reason) for r in rows]
    fr.commands = len(fr.results)
    if fr.counted != fr.commands:
        _file_error(fr, f"the engine reported {fr.commands} directives but the file has "
                        f"{fr.counted}")
    expectations.apply(task.suite, fr.relpath, fr.results)
    fr.duration = time.perf_counter() - start
    return fr


def _file_error(fr: FileResult, message: str, line: int = 0) -> None:
    fr.error = message
    fr.results.append(Result(line, "file", ERROR, reason=message))


def _line_of(e: Exception) -> int:
    return getattr(e, "line", 0) or 0


def tasks_for(suite: Suite) -> list[Task]:
    files = sorted(suite.files, key=lambda p: -p.stat().st_size)  # longest first: balance -j
    return [Task(suite.name, str(suite.root), str(p), suite.frontend) for p in files]


# ---- parallel execution -----------------------------------------------------------------
_engine = None
_expectations: Expectations | None = None
_options: RunOptions | None = None


def _init(engine_name: str, timeout: float, pool_worker: bool = False,
          options: RunOptions | None = None) -> None:
    global _engine, _expectations, _options
    _engine = make_engine(engine_name, timeout=timeout)
    _expectations = Expectations.load(engine_name)
    _options = options
    if pool_worker:  # close the engine (and wait for its process) when the worker exits
        multiprocessing.util.Finalize(None, _close, exitpriority=10)


def _close() -> None:
    getattr(_engine, "close", lambda: None)()


def _work(task: Task) -> FileResult:
    return run_file(_engine, _expectations, task, _options)


def run_tasks(engine_name: str, tasks: list[Task], jobs: int, timeout: float,
              options: RunOptions | None = None) -> Iterator[FileResult]:
    """FileResults in completion order. Raises EngineUnavailable before running anything."""
    if jobs <= 1 or len(tasks) <= 1:
        engine = _spare.pop((engine_name, timeout), None) or make_engine(engine_name,
                                                                         timeout=timeout)
        expectations = Expectations.load(engine_name)
        try:
            for t in tasks:
                yield run_file(engine, expectations, t, options)
        finally:
            _spare[(engine_name, timeout)] = engine   # for the next suite of this run
        return
    close_spares()  # no engine process may be shared with the forked workers
    ctx = multiprocessing.get_context("fork")
    pool = ctx.Pool(jobs, initializer=_init, initargs=(engine_name, timeout, True, options))
    try:
        yield from pool.imap_unordered(_work, tasks)
        pool.close()
        pool.join()
    finally:
        pool.terminate()


# An engine started by probe() (or left by a -j 1 run) is kept for the next -j 1 run.
_spare: dict[tuple[str, float], object] = {}


def close_spares() -> None:
    while _spare:
        _, engine = _spare.popitem()
        getattr(engine, "close", lambda: None)()


def probe(engine_name: str, timeout: float) -> str:
    """The engine's version; EngineUnavailable when it cannot run here."""
    engine = make_engine(engine_name, timeout=timeout)
    try:
        version = engine.version()
    except Exception as e:
        getattr(engine, "close", lambda: None)()
        raise EngineUnavailable(f"engine {engine_name}: {e}") from None
    _spare[(engine_name, timeout)] = engine
    return version


def _relpath(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.name
