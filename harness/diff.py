"""`python -m harness diff A B`: the directives whose outcome or value differs between runs.

A and B are run ids, or engine names (the newest run of that engine, per suite). With engine
names, every suite both engines have runs of is compared (or only `--suite`). Directives
are matched by file and line; one that only one run has is shown as "(absent)". A value
differs when both runs recorded what the engine returned (`actual`) and the two differ.
Output is grouped by file. Exit status 0 when nothing differs, 1 when something does, 2 when
a run cannot be found.
"""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from harness import report_data as rd

DEFAULT_DB = Path(__file__).resolve().parents[1] / "results.sqlite"


@dataclass
class Difference:
    file: str
    line: int
    kind: str
    a: rd.Row | None
    b: rd.Row | None

    @property
    def what(self) -> str:
        if self.a is None or self.b is None:
            return "presence"
        return "outcome" if self.a.outcome != self.b.outcome else "value"


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("a", metavar="A", help="run id or engine name (its newest run)")
    p.add_argument("b", metavar="B", help="run id or engine name (its newest run)")
    p.add_argument("--suite", help="only this suite")
    p.add_argument("--db", default=str(DEFAULT_DB), help="results database")
    p.add_argument("--limit", type=int, default=0, help="show at most N differences per pair")


# Kinds whose `actual` is what the engine returned: a different value is a difference even
# when both runs give the same outcome. For the other kinds `actual` is an error kind, which
# engines may tell apart more or less finely (node has one CompileError for malformed and
# invalid); those are compared only when neither run passed.
VALUE_KINDS = ("assert_return", "action")


def differences(a_rows: list[rd.Row], b_rows: list[rd.Row]) -> list[Difference]:
    """Every directive whose outcome or value differs, or that only one side has."""
    out: list[Difference] = []
    for ra, rb in rd.align(a_rows, b_rows):
        if ra is None or rb is None or ra.outcome != rb.outcome or _values_differ(ra, rb):
            r = ra or rb
            out.append(Difference(r.file, r.line, r.kind, ra, rb))
    return out


def _values_differ(ra: rd.Row, rb: rd.Row) -> bool:
    if ra.actual is None or rb.actual is None or ra.actual == rb.actual:
        return False
    return ra.kind in VALUE_KINDS or ra.outcome != "pass"


def resolve(conn, spec: str, suite: str | None) -> dict[str, rd.Run]:
    """suite -> run for a run id or an engine name."""
    runs = rd.list_runs(conn)
    if spec.isdigit():
        run = next((r for r in runs if r.id == int(spec)), None)
        if run is None:
            raise LookupError(f"no run {spec} in the database")
        if suite and run.suite != suite:
            raise LookupError(f"run {spec} is a run of {run.suite}, not {suite}")
        return {run.suite: run}
    out = {r.suite: r for r in runs if r.engine == spec and (not suite or r.suite == suite)}
    if not out:
        raise LookupError(f"no run of engine {spec!r}" + (f" on {suite}" if suite else "")
                          + " in the database")
    return out


def pairs(conn, a: str, b: str, suite: str | None) -> list[tuple[rd.Run, rd.Run]]:
    ra, rb = resolve(conn, a, suite), resolve(conn, b, suite)
    if len(ra) == 1 and len(rb) == 1 and (a.isdigit() and b.isdigit()):
        return [(next(iter(ra.values())), next(iter(rb.values())))]
    if a.isdigit():
        rb = {s: r for s, r in rb.items() if s in ra}
    if b.isdigit():
        ra = {s: r for s, r in ra.items() if s in rb}
    common = [s for s in ra if s in rb]
    if not common:
        raise LookupError(f"{a} and {b} have no suite in common "
                          f"({a}: {', '.join(ra)}; {b}: {', '.join(rb)})")
    return [(ra[s], rb[s]) for s in common]


def _cell(row: rd.Row | None) -> str:
    return "(absent)" if row is None else row.outcome


def _detail(d: Difference, name_a: str, name_b: str) -> str:
    parts = []
    for name, row in ((name_a, d.a), (name_b, d.b)):
        if row is None:
            continue
        text = row.actual if row.actual is not None else (row.reason or row.message or "")
        if text:
            parts.append(f"{name}: {' '.join(text.split())[:100]}")
    return "; ".join(parts)


def format_pair(ra: rd.Run, rb: rd.Run, diffs: list[Difference], total: int, limit: int = 0) -> str:
    na, nb = f"#{ra.id} {ra.engine}", f"#{rb.id} {rb.engine}"
    head = (f"diff {ra.suite}: run {ra.id} ({ra.engine} {ra.engine_version}) vs run {rb.id} "
            f"({rb.engine} {rb.engine_version}): {len(diffs)} of {total} directives differ")
    lines = [head]
    if ra.suite != rb.suite:
        lines.append(f"warning: the runs are of different suites ({ra.suite}, {rb.suite})")
    if ra.suite_commit != rb.suite_commit:
        lines.append(f"warning: different suite commits ({ra.suite_commit[:12]} vs {rb.suite_commit[:12]})")
    shown = diffs[:limit] if limit else diffs
    wa = max([len(na)] + [len(_cell(d.a)) for d in shown])
    wb = max([len(nb)] + [len(_cell(d.b)) for d in shown])
    wk = max([4] + [len(d.kind) for d in shown])
    file = None
    for d in shown:
        if d.file != file:
            file = d.file
            lines += ["", f"{file}", f"  {'line':>6}  {'kind':<{wk}}  {na:<{wa}}  {nb:<{wb}}  detail"]
        lines.append(f"  {d.line:>6}  {d.kind:<{wk}}  {_cell(d.a):<{wa}}  {_cell(d.b):<{wb}}  "
                     f"{_detail(d, na, nb)}".rstrip())
    if limit and len(diffs) > limit:
        lines.append(f"... {len(diffs) - limit} more")
    return "\n".join(lines)


def main(args: argparse.Namespace) -> int:
    try:
        conn = rd.connect(args.db)
        todo = pairs(conn, args.a, args.b, args.suite)
    except (rd.ReportDataError, LookupError) as e:
        print(f"harness diff: {e}", file=sys.stderr)
        return 2
    differ = False
    for ra, rb in todo:
        a_rows, b_rows = rd.load_rows(conn, ra.id), rd.load_rows(conn, rb.id)
        diffs = differences(a_rows, b_rows)
        total = len(rd.align(a_rows, b_rows))
        differ |= bool(diffs)
        try:
            print(format_pair(ra, rb, diffs, total, args.limit), flush=True)
        except BrokenPipeError:          # `harness diff ... | head`: the reader has enough
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 1 if differ else 0
    return 1 if differ else 0
