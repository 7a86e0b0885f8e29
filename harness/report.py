"""The compliance report: reports/COMPLIANCE.md, an HTML report and summary.json.

Built from the results database only (harness/report_data.py reads it): for each pinned
suite, the newest complete run of every engine; for each such run, tallies per area (the
suite's folders; the core suite's SIMD files are their own area), skips grouped by reason,
expected failures by reason, message-match rates; the directives that changed outcome since
the previous run of the same engine and suite; and two guardrails:

- a run whose directive total for a suite is smaller than the previous run's is flagged;
- runs made on different suite commits (against each other, or against the commit that
  ../shared/suites/SOURCES.md pins) are flagged, never mixed silently.
"""
from __future__ import annotations

import bisect
import datetime as _dt
import json
import os
import re
import subprocess
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from harness import report_data as rd
from harness.engines import wasmtime_wast as ww

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "reports" / "templates"
# The suites of the report, in the order they are shown, and each one's root inside
# ../shared/suites (paths in the database are relative to it).
SUITES = {"component-model": "component-model/test", "wasmtime-misc": "wasmtime-misc",
          "core": "core"}
SOURCE_LINES_MAX = 24      # lines of source shown for one failing directive
SOURCES_PER_RUN_MAX = 3000  # failing directives of one run shown with their source
ROWS_PER_RUN_MAX = 20000    # non-passing directives of one run listed in the HTML report


def suites_root() -> Path:
    return Path(os.environ.get("CMREF_SUITES", ROOT.parent / "shared" / "suites")).resolve()


def pinned_commits(root: Path) -> dict[str, str]:
    """Top folder -> commit, from the table in SOURCES.md."""
    out: dict[str, str] = {}
    sources = root / "SOURCES.md"
    if not sources.is_file():
        return out
    for line in sources.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and re.fullmatch(r"[0-9a-f]{40}", cells[3]):
            out[cells[0].rstrip("/")] = cells[3]
    return out


def pinned_commit(root: Path, suite: str) -> str:
    return pinned_commits(root).get(SUITES.get(suite, suite).split("/")[0], "")


def nyi_files(base: Path) -> set[str]:
    """Files the suite itself lists as not yet implemented anywhere (component-model nyi.txt)."""
    nyi = base / "nyi.txt"
    if not nyi.is_file():
        return set()
    return {ln.strip().removeprefix("./") for ln in nyi.read_text(encoding="utf-8").splitlines()
            if ln.strip() and not ln.startswith("#")}


def suite_files(base: Path) -> list[str]:
    return sorted(p.relative_to(base).as_posix() for p in base.rglob("*.wast")) if base.is_dir() else []


def area_of(path: str) -> str:
    """The folder of a file; the core suite's top-level files split into core and SIMD."""
    if "/" in path:
        return path.rsplit("/", 1)[0]
    return "simd" if path.startswith("simd_") else "(top level)"


def cmref_commit() -> str:
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=10)
        return out.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


# ---- tallies ---------------------------------------------------------------------------

@dataclass
class Tally:
    outcomes: Counter = field(default_factory=Counter)
    files: set = field(default_factory=set)
    matched: int = 0
    mismatched: int = 0

    def add_many(self, file: str, outcome: str, message_match: bool | None, n: int) -> None:
        self.outcomes[outcome] += n
        self.files.add(file)
        if message_match is True:
            self.matched += n
        elif message_match is False:
            self.mismatched += n

    @property
    def directives(self) -> int:
        return sum(self.outcomes.values())

    @property
    def failing(self) -> int:
        return sum(self.outcomes[o] for o in rd.FAILING)

    @property
    def pass_pct(self) -> str:
        n = self.directives
        return f"{100 * self.outcomes['pass'] / n:.1f}" if n else "-"

    @property
    def message_pct(self) -> str:
        n = self.matched + self.mismatched
        return f"{100 * self.matched / n:.1f}" if n else "-"

    def outcome_dict(self) -> dict[str, int]:
        return {o: self.outcomes[o] for o in rd.OUTCOMES}


@dataclass
class Change:
    file: str
    line: int
    kind: str
    before: str
    after: str


@dataclass
class Directive:
    """A non-passing directive as the HTML report shows it."""
    row: rd.Row
    source: str | None


@dataclass
class RunReport:
    run: rd.Run
    rows: list[rd.Row]
    total: Tally
    areas: dict[str, Tally]
    files: dict[str, Tally]
    by_kind: dict[str, Tally]
    skip_reasons: Counter
    xfail_reasons: Counter
    nyi: Tally
    previous: rd.Run | None
    previous_total: int | None
    changes: list[Change]
    warnings: list[str]
    tree: dict[str, dict[str, list[Directive]]]   # area -> file -> non-pass directives
    expectations: str | None = None               # the engine's expectations file, if any
    not_run_reasons: Counter = field(default_factory=Counter)
    errors: list = field(default_factory=list)    # rows with outcome error

    @property
    def crash_timeout(self) -> int:
        return self.total.outcomes["crash"] + self.total.outcomes["timeout"]


@dataclass
class SuiteReport:
    name: str
    pinned: str
    runs: list[RunReport]
    warnings: list[str]
    files_on_disk: int


@dataclass
class Report:
    generated: str
    cmref_commit: str
    suites: list[SuiteReport]
    engines: dict[str, str]          # engine -> version, for engines that ran
    absent: dict[str, str]           # engine -> why it did not run
    warnings: list[str]
    history_svg: str | None = None


def tally_run(rows: list[rd.Row], nyi: set[str]) -> tuple:
    total, nyi_t = Tally(), Tally()
    areas: dict[str, Tally] = defaultdict(Tally)
    files: dict[str, Tally] = defaultdict(Tally)
    kinds: dict[str, Tally] = defaultdict(Tally)
    skips, xfails, not_run = Counter(), Counter(), Counter()
    # Count distinct (file, kind, outcome, message match) once; tally those, not every row.
    combos = Counter((r.file, r.kind, r.outcome, r.message_match) for r in rows)
    area = {f: area_of(f) for f in {c[0] for c in combos}}
    for (file, kind, outcome, mm), n in combos.items():
        targets = [total, areas[area[file]], files[file], kinds[kind]]
        if file in nyi:
            targets.append(nyi_t)
        for t in targets:
            t.add_many(file, outcome, mm, n)
    for row in rows:
        if row.outcome == "skip":
            skips[row.reason or row.message or "(no reason recorded)"] += 1
        elif row.outcome == "xfail":
            xfails[row.reason or row.message or "(no reason recorded)"] += 1
        elif row.outcome == "not_run":
            not_run[_generic(row.reason or row.message or "(no reason recorded)")] += 1
    return (total, dict(sorted(areas.items())), dict(files), dict(sorted(kinds.items())), skips,
            xfails, nyi_t, not_run)


def _generic(reason: str) -> str:
    """A not_run reason with its line numbers taken out, so that like reasons group."""
    return re.sub(r"\b(line|lines) \d+(-\d+)?", r"\1 N", reason)


def changes_between(old: list[rd.Row], new: list[rd.Row]) -> list[Change]:
    """Directives whose outcome changed, appeared or disappeared between two runs."""
    out = []
    for a, b in rd.align(old, new):
        if a is None or b is None or a.outcome != b.outcome:
            r = b or a
            out.append(Change(r.file, r.line, r.kind, a.outcome if a else "(absent)",
                              b.outcome if b else "(absent)"))
    return out


class SourceReader:
    """The source text of a directive, from the pinned suite files."""

    def __init__(self, base: Path):
        self.base = base
        self.cache: dict[str, tuple[str, list[tuple[int, int, int, int]]] | None] = {}

    def _load(self, file: str):
        try:
            text = ww.read_script(self.base / file)
            spans, line, pos = [], 1, 0
            for d in ww.split_directives(text):
                line += text.count("\n", pos, d.start)
                last = line + text.count("\n", d.start, d.end)
                spans.append((line, last, d.start, d.end))
                line, pos = last, d.end
            return text, spans
        except (OSError, UnicodeDecodeError, ww.ScriptSyntaxError):
            return None

    def text(self, file: str, line: int) -> str | None:
        if file not in self.cache:
            self.cache[file] = self._load(file)
        entry = self.cache[file]
        if entry is None:
            return None
        text, spans = entry
        k = bisect.bisect_right(spans, (line, float("inf"))) - 1
        if k >= 0:
            first, last, start, end = spans[k]
            if first <= line <= last:
                snippet = text[text.rfind("\n", 0, start) + 1:end].splitlines()
                more = len(snippet) - SOURCE_LINES_MAX
                lines = [f"{first + i:>5} | {s}" for i, s in enumerate(snippet[:SOURCE_LINES_MAX])]
                return "\n".join(lines + ([f"      ... {more} more lines"] if more > 0 else []))
        return None


def complete(run_files: list[str], on_disk: list[str]) -> bool:
    """A run covers the whole suite (not a --files subset)."""
    return not on_disk or set(on_disk) <= set(run_files)


def build(conn, root: Path | None = None, *, absent: dict[str, str] | None = None,
          suites: list[str] | None = None) -> Report:
    """Everything the templates show, from the database."""
    root = root or suites_root()
    runs = rd.list_runs(conn)
    report = Report(_dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                    cmref_commit(), [], {}, dict(absent or {}), [])
    for suite in suites or [s for s in SUITES if any(r.suite == s for r in runs)] + \
            sorted({r.suite for r in runs} - set(SUITES)):
        report.suites.append(build_suite(conn, root, suite, [r for r in runs if r.suite == suite], report))
    for s in report.suites:
        report.warnings += [f"{s.name}: {w}" for w in s.warnings]
        for rr in s.runs:
            report.warnings += [f"{s.name} on {rr.run.engine}: {w}" for w in rr.warnings]
    return report


def suite_base(root: Path, suite: str, runs: list[rd.Run]) -> Path:
    """The folder a suite's relative paths start from: as the newest run recorded it."""
    for r in reversed(runs):
        if r.suite_root and Path(r.suite_root).is_dir():
            return Path(r.suite_root)
    return root / SUITES.get(suite, suite)


def build_suite(conn, root: Path, suite: str, runs: list[rd.Run], report: Report) -> SuiteReport:
    base = suite_base(root, suite, runs)
    on_disk = suite_files(base)
    pinned = pinned_commit(root, suite)
    sr = SuiteReport(suite, pinned, [], [], len(on_disk))
    nyi = nyi_files(base)
    reader = SourceReader(base)
    by_engine: dict[str, list[rd.Run]] = defaultdict(list)
    for r in runs:
        if complete(rd.run_files(conn, r.id), on_disk):
            by_engine[r.engine].append(r)
    partial = len(runs) - sum(len(v) for v in by_engine.values())
    if partial:
        sr.warnings.append(f"{partial} run(s) that covered only part of the suite are left out")
    if not on_disk and by_engine:     # not a .wast suite (wit-parser): count what the runs ran
        sr.files_on_disk = max(len(rd.run_files(conn, h[-1].id)) for h in by_engine.values())
    for engine in sorted(by_engine, key=lambda e: (e != "ref", e)):
        history = by_engine[engine]
        sr.runs.append(build_run(conn, history[-1], history[-2] if len(history) > 1 else None,
                                 nyi, reader))
        versions = report.engines.get(engine, "").split(" / ") if engine in report.engines else []
        if history[-1].engine_version not in versions:
            report.engines[engine] = " / ".join(versions + [history[-1].engine_version])
    commits = {rr.run.suite_commit for rr in sr.runs if rr.run.suite_commit}
    if len(commits) > 1:
        sr.warnings.append("MIXED SUITE COMMITS: the engines below ran different suite commits ("
                           + ", ".join(f"{rr.run.engine}: {rr.run.suite_commit[:12]}" for rr in sr.runs)
                           + "); their tables are not comparable")
    for rr in sr.runs:
        if pinned and rr.run.suite_commit and rr.run.suite_commit != pinned:
            sr.warnings.append(f"run {rr.run.id} ({rr.run.engine}) used suite commit "
                               f"{rr.run.suite_commit[:12]}, SOURCES.md pins {pinned[:12]}")
    return sr


def build_run(conn, run: rd.Run, previous: rd.Run | None, nyi: set[str],
              reader: SourceReader) -> RunReport:
    rows = rd.load_rows(conn, run.id)
    total, areas, files, kinds, skips, xfails, nyi_t, not_run = tally_run(rows, nyi)
    errors = [r for r in rows if r.outcome == "error"]
    warnings: list[str] = []
    prev_rows = rd.load_rows(conn, previous.id) if previous else []
    if previous and len(rows) < len(prev_rows):
        warnings.append(f"DIRECTIVE TOTAL SHRANK: run {run.id} has {len(rows)} directives, "
                        f"the previous run {previous.id} had {len(prev_rows)}")
    changes = changes_between(prev_rows, rows) if previous else []
    tree: dict[str, dict[str, list[Directive]]] = defaultdict(lambda: defaultdict(list))
    for file in sorted(files):          # every file, passing ones too
        tree[area_of(file)][file] = []
    shown = listed = 0
    for row in rows:
        if row.outcome == "pass":
            continue
        listed += 1
        if listed > ROWS_PER_RUN_MAX:
            continue
        source = None
        if row.outcome in rd.FAILING and shown < SOURCES_PER_RUN_MAX:
            source = reader.text(row.file, row.line)
            shown += 1
        tree[area_of(row.file)][row.file].append(Directive(row, source))
    if listed > ROWS_PER_RUN_MAX:
        warnings.append(f"the HTML report lists the first {ROWS_PER_RUN_MAX} of {listed} "
                        f"non-passing directives (`python -m harness diff` shows them all)")
    expectations = Path("suites") / "expectations" / f"{run.engine}.toml"
    return RunReport(run, rows, total, areas, files, kinds, skips, xfails, nyi_t, previous,
                     len(prev_rows) if previous else None, changes, warnings,
                     {a: dict(f) for a, f in sorted(tree.items())},
                     expectations.as_posix() if (ROOT / expectations).is_file() else None,
                     not_run, errors)


def shrink_warning(conn, run_id: int) -> str | None:
    """For `harness run`: a warning when this run has fewer directives than the previous
    run of the same engine and suite."""
    run = rd.run_by_id(conn, run_id)
    prev = rd.previous_run(conn, run) if run else None
    if not prev:
        return None
    totals = rd.run_totals(conn)
    now, before = totals.get(run.id, Counter())["directives"], totals.get(prev.id, Counter())["directives"]
    if now < before and set(rd.run_files(conn, prev.id)) <= set(rd.run_files(conn, run.id)):
        return (f"WARNING: {run.suite} on {run.engine}: {now} directives in run {run.id}, "
                f"{before} in the previous run {prev.id}: the directive total shrank")
    return None


# ---- summary.json ----------------------------------------------------------------------

def summary(report: Report, engine: str) -> dict:
    """One engine's results in the schema of `harness run --summary-json`."""
    out = {"engine": engine, "engine_version": report.engines.get(engine, ""), "suites": {},
           "totals": {o: 0 for o in rd.OUTCOMES}, "message_match": {"matched": 0, "mismatched": 0}}
    for s in report.suites:
        for rr in s.runs:
            if rr.run.engine != engine:
                continue
            out["suites"][s.name] = {
                "commit": rr.run.suite_commit,
                "files": len(rr.total.files),
                "directives": rr.total.directives,
                "outcomes": rr.total.outcome_dict(),
                "by_kind": {k: t.outcome_dict() for k, t in rr.by_kind.items()},
                "by_file": {f: t.outcome_dict() for f, t in sorted(rr.files.items())},
            }
            for o in rd.OUTCOMES:
                out["totals"][o] += rr.total.outcomes[o]
            out["message_match"]["matched"] += rr.total.matched
            out["message_match"]["mismatched"] += rr.total.mismatched
    return out


# ---- history chart ---------------------------------------------------------------------

def history_svg(conn, path: Path) -> Path | None:
    """Pass counts over runs: one panel per suite, one line per engine, x = the engine's
    n-th run of that suite (oldest first). matplotlib, SVG."""
    runs = rd.list_runs(conn)
    if not runs:
        return None
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.ticker import MaxNLocator
    totals = rd.run_totals(conn)
    series: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for r in runs:
        pts = series[r.suite][r.engine]
        pts.append((len(pts) + 1, totals.get(r.id, Counter())["pass"],
                    totals.get(r.id, Counter())["directives"]))
    suites = [s for s in SUITES if s in series] + sorted(set(series) - set(SUITES))
    fig, axes = plt.subplots(1, len(suites), figsize=(3.6 * len(suites) + 0.6, 3.0), dpi=96,
                             squeeze=False)
    for ax, suite in zip(axes[0], suites):
        for engine, pts in sorted(series[suite].items()):
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", markersize=3, label=engine)
        top = max(p[2] for pts in series[suite].values() for p in pts)
        ax.axhline(top, color="#999", linewidth=0.8, linestyle="--")
        ax.set_ylim(0, top * 1.05 + 1)
        ax.set_title(f"{suite} ({top} directives)", fontsize=9)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
        ax.set_xlim(0.5, max(len(pts) for pts in series[suite].values()) + 0.5)
        ax.set_xlabel("run", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    axes[0][0].set_ylabel("directives passed")
    fig.suptitle("Pass counts per suite over runs", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="svg")
    plt.close(fig)
    return path


# ---- rendering -------------------------------------------------------------------------

def _env():
    import jinja2
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                             autoescape=jinja2.select_autoescape(["html", "html.j2"]),
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["md"] = lambda s: str(s).replace("|", "\\|").replace("\n", " ")
    env.filters["short"] = lambda s, n=12: (s or "")[:n]
    env.globals["OUTCOMES"] = rd.OUTCOMES
    env.globals["FAILING"] = rd.FAILING
    return env


def render_markdown(report: Report) -> str:
    return _env().get_template("COMPLIANCE.md.j2").render(r=report, SUITES=SUITES)


def render_html(report: Report) -> str:
    kinds = sorted({row.kind for s in report.suites for rr in s.runs for row in rr.rows})
    return _env().get_template("report.html.j2").render(r=report, kinds=kinds)


def write_all(conn, out_dir: Path, md_path: Path | None, *, absent: dict[str, str] | None = None,
              root: Path | None = None) -> Report:
    """COMPLIANCE.md, out_dir/index.html, out_dir/history.svg, out_dir/summary*.json."""
    report = build(conn, root, absent=absent)
    out_dir.mkdir(parents=True, exist_ok=True)
    if history_svg(conn, out_dir / "history.svg"):
        report.history_svg = "history.svg"
    (out_dir / "index.html").write_text(render_html(report), encoding="utf-8")
    engines = list(report.engines) or ["ref"]
    main_engine = "ref" if "ref" in engines else engines[0]
    for engine in engines:
        name = "summary.json" if engine == main_engine else f"summary-{engine}.json"
        (out_dir / name).write_text(json.dumps(summary(report, engine), indent=1) + "\n", encoding="utf-8")
    if md_path:
        md_path.write_text(render_markdown(report), encoding="utf-8")
    return report
