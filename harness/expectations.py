"""Expectation files: suites/expectations/<engine>.toml turns known failures into `xfail`
(and known-unrunnable directives into `skip`), each with a reason.

    [[expect]]
    suite = "core"
    file = "float_exprs.wast:123"   # or file = "x.wast" plus line = 123; no line: whole file
    status = "xfail"                # xfail | skip
    reason = "V8 ..."

A listed directive that passes is `xpass` (a failure): the entry is stale. A whole-file
`xfail` turns the file's failing directives into xfail; if none of them fails, the file's
first directive becomes `xpass`.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from harness.runner import FAILING, PASS, SKIP, XFAIL, XPASS, Result

ROOT = Path(__file__).resolve().parents[1]
STATUSES = (XFAIL, SKIP)


class ExpectationError(Exception):
    pass


@dataclass(frozen=True)
class Entry:
    suite: str
    file: str
    line: int | None
    status: str
    reason: str


class Expectations:
    def __init__(self, entries: list[Entry]):
        self.by_file: dict[tuple[str, str], list[Entry]] = {}
        for e in entries:
            self.by_file.setdefault((e.suite, e.file), []).append(e)

    @classmethod
    def load(cls, engine: str, folder: Path | None = None) -> "Expectations":
        path = (folder or ROOT / "suites" / "expectations") / f"{engine}.toml"
        if not path.exists():
            return cls([])
        try:
            with open(path, "rb") as f:
                raw = tomllib.load(f).get("expect", [])
        except tomllib.TOMLDecodeError as e:
            raise ExpectationError(f"{path}: {e}") from None
        return cls([_entry(path, i, r) for i, r in enumerate(raw)])

    def skips(self, suite: str, relpath: str) -> dict[int | None, str]:
        """Lines listed as `skip` (key None: the whole file) -> reason: the runner does not
        run them at all (a directive that hangs or crashes the engine can be listed so)."""
        return {e.line: e.reason for e in self.by_file.get((suite, relpath), ())
                if e.status == SKIP}

    def apply(self, suite: str, relpath: str, results: list[Result]) -> None:
        entries = self.by_file.get((suite, relpath))
        if not entries:
            return
        by_line = {e.line: e for e in entries if e.line is not None}
        whole = next((e for e in entries if e.line is None), None)
        for r in results:
            e = by_line.get(r.line)
            if e is not None:
                _mark(r, e)
        if whole is not None:
            _mark_file(results, whole)


def _entry(path: Path, i: int, raw: dict) -> Entry:
    try:
        file, line = raw["file"], raw.get("line")
        if line is None and ":" in file:
            file, _, num = file.rpartition(":")
            line = int(num)
        status, reason = raw["status"], raw["reason"].strip()
    except (KeyError, ValueError, AttributeError) as e:
        raise ExpectationError(f"{path}: entry {i + 1}: {e!r}") from None
    if status not in STATUSES or not reason:
        raise ExpectationError(f"{path}: entry {i + 1}: status must be xfail|skip, with a reason")
    return Entry(raw.get("suite", "core"), file, line, status, reason)


def _mark(r: Result, e: Entry) -> None:
    if e.status == SKIP:
        r.outcome, r.reason = SKIP, e.reason
    elif r.outcome in FAILING:
        r.outcome, r.reason = XFAIL, e.reason
    elif r.outcome == PASS:
        r.outcome, r.reason = XPASS, f"listed as xfail but passes (stale entry: {e.reason})"


def _mark_file(results: list[Result], e: Entry) -> None:
    if e.status == SKIP:
        for r in results:
            r.outcome, r.reason = SKIP, e.reason
        return
    failing = [r for r in results if r.outcome in FAILING and r.outcome != XPASS]
    for r in failing:
        r.outcome, r.reason = XFAIL, e.reason
    if not failing and results:
        first = results[0]
        first.outcome = XPASS
        first.reason = f"file listed as xfail but nothing in it fails (stale entry: {e.reason})"
