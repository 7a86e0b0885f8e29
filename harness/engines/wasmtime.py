"""The `wasmtime` engine: wasmtime's real CLI, `wasmtime wast`, one outcome per directive.

`wasmtime wast FILE` runs a script's directives in order and stops at the first one that
fails, naming it ("failed directive on FILE:LINE") with the error chain below it; it exits 0
when every directive passed. It has no per-directive report and no way to go on after a
failure, so this adapter gets one outcome per directive like this:

1. Run the script. Every directive before the failing line passed; the failing one is
   classified from the error chain (a trap or rejection with the wrong message is an
   outcome match with a message mismatch, as cmref counts it; anything else fails).
2. Blank the decided directive out of a copy of the script (spaces, newlines kept, so every
   line number stays) and run again, until the script passes. Assertions that never change
   the store (assert_invalid / assert_malformed / assert_unlinkable) are blanked as soon as
   they are decided, so reruns only repeat what later directives may depend on.
3. A failed module, component, definition or instance is something the rest of the file
   depends on: the remaining directives are `not_run`, as in cmref's own runner.
4. A script wasmtime's own wast parser rejects ("expected ...", "--> FILE:LINE:COL") runs
   nothing: the directive at that line is an `error` and the script is run without it.
5. A crash (signal) or a hang (timeout) is charged to the directive wasmtime's debug log
   ("running directive on FILE:LINE", WASMTIME_LOG/RUST_LOG=wasmtime_wast=debug) names last;
   lines are json-from-wast's (for an assertion, the line of the module or invoke inside it),
   the same as wast2json's, so rows line up with the other engines' rows;
   without that log, to the first undecided directive, saying that the culprit is unsure.

Flags: the `-W` flags of the `wasmtime wast` command line in the nearest README.md above the
file (the component-model suite's test/README.md; with WAST_STRICT_COMPONENT_INDICES=1 when
that line sets it), then the file's own `;;! name = value` lines.

Caveat: a directive blanked on a rerun did not run, so state it changed (a trap in the
middle of a store, say) is missing for the directives after it. cmref's own runner has no
such limit; this one is wasmtime's CLI.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from harness.engine import EngineUnavailable
from harness.engines import wasmtime_wast as ww

MESSAGE_KINDS = ("assert_trap", "assert_exhaustion", "assert_invalid", "assert_unlinkable",
                 "assert_uninstantiable")
# wasmtime's wording for "the right kind of error, the wrong message" (wast.rs
# `assert_trap` and `match_error_message`).
_TRAP_MISMATCH = re.compile(r"^expected '.*', got '", re.S)
_ERROR_MISMATCH = re.compile(r"^assert_invalid: expected \"", re.S)
_PHASE = {"assert_trap": "trap", "assert_exhaustion": "exhaustion",
          "assert_invalid": "invalid", "assert_malformed": "malformed",
          "assert_unlinkable": "unlinkable", "assert_uninstantiable": "uninstantiable"}


@dataclass
class DirectiveResult:
    """One directive's outcome, in the fields of a results-database row."""
    line: int
    kind: str
    outcome: str
    phase: str | None = None
    expected: str | None = None
    actual: str | None = None
    message: str | None = None
    message_match: bool | None = None
    reason: str | None = None


@dataclass
class RunResult:
    returncode: int | None
    stderr: str
    timed_out: bool = False
    signal: int | None = None


@dataclass
class Profile:
    flags: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)


def find_profile(path: Path) -> Profile:
    """Base flags and environment from the nearest README.md above `path` (within its suite)."""
    for folder in path.resolve().parents:
        readme = folder / "README.md"
        if readme.is_file():
            text = readme.read_text(encoding="utf-8")
            strict = "WAST_STRICT_COMPONENT_INDICES=1" in text
            env = {"WAST_STRICT_COMPONENT_INDICES": "1"} if strict else {}
            return Profile(ww.readme_flags(readme), env)
        if (folder / "SOURCES.md").exists() or (folder / ".git").exists():
            break
    return Profile()


class WasmtimeEngine:
    """Runs whole scripts through `wasmtime wast`; see the module doc for the method."""

    name = "wasmtime"
    script_engine = True   # the runner hands it whole files (run_script), not directives

    def __init__(self, exe: str | None = None, *, timeout: float = 120.0, max_runs: int = 400):
        self.exe = exe or os.environ.get("CMREF_WASMTIME") or shutil.which("wasmtime")
        self.timeout = timeout
        self.max_runs = max_runs
        self._version: str | None = None

    def available(self) -> bool:
        return bool(self.exe) and os.access(self.exe, os.X_OK)

    def version(self) -> str:
        if not self.available():
            raise EngineUnavailable("wasmtime is not installed (no `wasmtime` on PATH)")
        if self._version is None:
            out = subprocess.run([self.exe, "--version"], capture_output=True, text=True, timeout=30)
            self._version = (out.stdout or out.stderr).strip() or "unknown"
        return self._version

    def close(self) -> None:
        """Nothing to close: every script runs in its own wasmtime process."""

    def command(self, script: Path, text: str) -> tuple[list[str], dict[str, str]]:
        """The wasmtime command line and extra environment for one script."""
        profile = find_profile(script)
        flags = ww.feature_flags(text, profile.flags)
        env = dict(profile.env)
        env.setdefault("WASMTIME_LOG", "wasmtime_wast=debug")
        env.setdefault("RUST_LOG", "wasmtime_wast=debug")
        return [self.exe, "wast", *flags], env

    # ---- running -----------------------------------------------------------------------

    def _run(self, argv: list[str], env: dict[str, str], script: Path) -> RunResult:
        full_env = {**os.environ, **env}
        proc = subprocess.Popen([*argv, str(script)], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                env=full_env, text=True, errors="replace",
                                start_new_session=True)
        try:
            _, err = proc.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            _, err = proc.communicate()
            return RunResult(None, err or "", timed_out=True)
        rc = proc.returncode
        return RunResult(rc, err or "", signal=-rc if rc < 0 else None)

    def run_script(self, path: str | Path) -> list[DirectiveResult]:
        """One result per top-level directive of the script at `path`, in order."""
        path = Path(path)
        if not self.available():
            raise EngineUnavailable("wasmtime is not installed (no `wasmtime` on PATH)")
        text = ww.read_script(path)
        directives = ww.split_directives(text)
        argv, env = self.command(path, text)
        with tempfile.TemporaryDirectory(prefix="cmref-wasmtime-") as tmp:
            copy = Path(tmp) / path.name   # same name: wasmtime looks at it (names.wast)
            return _Session(self, directives, text, argv, env, copy).run()


class _Session:
    """The rerun loop for one script."""

    def __init__(self, engine: WasmtimeEngine, directives: list[ww.Directive], text: str,
                 argv: list[str], env: dict[str, str], copy: Path):
        self.engine, self.directives, self.text = engine, directives, text
        self.argv, self.env, self.copy = argv, env, copy
        self.results: dict[int, DirectiveResult] = {}   # by the directive's offset
        self.blanked: list[ww.Directive] = []

    def undecided(self) -> list[ww.Directive]:
        return [d for d in self.directives if d.start not in self.results]

    def decide(self, d: ww.Directive, outcome: str, **kw) -> None:
        if outcome == "pass" and d.kind in MESSAGE_KINDS and "message_match" not in kw:
            kw["message_match"] = True   # wasmtime checks the message of these kinds
        self.results[d.start] = DirectiveResult(d.line, d.kind, outcome,
                                               phase=kw.pop("phase", _PHASE.get(d.kind)), **kw)

    def rest(self, outcome: str, reason: str) -> None:
        for d in self.undecided():
            self.decide(d, outcome, reason=reason, message=reason)

    def run(self) -> list[DirectiveResult]:
        runs = 0
        while self.undecided():
            if runs >= self.engine.max_runs:
                self.rest("not_run", f"wasmtime was run {runs} times on this file; the rest was not run")
                break
            runs += 1
            self.blanked += [d for d in self.directives
                             if d.start in self.results and d not in self.blanked
                             and d.kind in ww.STATELESS_ASSERTIONS]
            with open(self.copy, "w", encoding="utf-8", newline="") as f:
                f.write(ww.blank(self.text, self.blanked))
            self.step(self.engine._run(self.argv, self.env, self.copy))
        return [self.results[d.start] for d in self.directives]

    def step(self, run: RunResult) -> None:
        pending = self.undecided()
        if run.returncode == 0:
            for d in pending:
                self.decide(d, "pass")
            return
        if run.timed_out or run.signal is not None:
            self.lost(run, pending)
            return
        failure = ww.parse_failure(run.stderr)
        culprit = _at_line(pending, failure.line) if failure else None
        if culprit is None and self.unparsable(run.stderr, pending):
            return
        if culprit is None:
            tail = " | ".join(run.stderr.strip().splitlines()[-6:]) or f"exit status {run.returncode}"
            self.rest("error", f"wasmtime wast failed outside any directive: {tail}")
            return
        for d in pending:
            if d.start < culprit.start:
                self.decide(d, "pass")
        self.classify(culprit, failure)
        self.after(culprit)

    def unparsable(self, stderr: str, pending: list[ww.Directive]) -> bool:
        """wasmtime's wast parser rejected the script at some directive, so nothing ran: that
        directive is an `error` (wasmtime cannot read it), and the script is run without it."""
        at = ww.parse_error_at(stderr)
        culprit = _at_line(pending, at[0]) if at else None
        if culprit is None:
            return False
        self.decide(culprit, "error", reason=f"wasmtime's wast parser rejects this {culprit.head}: {at[1]}",
                    message=at[1])
        self.after(culprit)
        return True

    def after(self, culprit: ww.Directive) -> None:
        """Blank the decided directive; a failed definition ends the file."""
        result = self.results[culprit.start]
        if culprit.kind in ww.DEFINITION_KINDS and result.outcome not in ("pass", "skip"):
            self.rest("not_run", f"depends on the {culprit.head} at line {culprit.line}, "
                                 f"which wasmtime did not load ({result.outcome})")
        elif culprit not in self.blanked:
            self.blanked.append(culprit)

    def lost(self, run: RunResult, pending: list[ww.Directive]) -> None:
        """wasmtime died or hung: charge the directive its log says was running."""
        started = {_at_line(pending, line) for line in ww.directives_started(run.stderr)}
        running = [d for d in pending if d in started]
        outcome = "timeout" if run.timed_out else "crash"
        how = (f"wasmtime did not finish in {self.engine.timeout:g} s" if run.timed_out
               else f"wasmtime died with signal {run.signal}")
        if running:
            culprit = running[-1]
            for d in running[:-1]:
                self.decide(d, "pass")
            self.decide(culprit, outcome, message=how)
        else:
            culprit = pending[0]
            self.decide(culprit, outcome, message=f"{how}; wasmtime logged no progress, so the "
                        f"culprit is one of lines {pending[0].line}-{pending[-1].line}")
            self.rest("not_run", f"after the {outcome} of wasmtime at line {culprit.line}")
            return
        self.after(culprit)

    def classify(self, d: ww.Directive, failure: ww.Failure) -> None:
        causes = failure.causes or [""]
        detail = failure.detail
        last = causes[-1]
        if any("unimplemented wast directive" in c or "not implemented for components" in c
               for c in causes):
            self.decide(d, "skip", reason=f"wasmtime wast does not implement this {d.head}: {last}",
                        message=detail)
            return
        if d.kind in ("assert_trap", "assert_exhaustion", "assert_uninstantiable") and \
                _TRAP_MISMATCH.match(causes[0]) and not _link_error(causes[0]):
            self.decide(d, "pass", message_match=False, actual=causes[0], message=detail)
            return
        if d.kind in ("assert_invalid", "assert_unlinkable") and _ERROR_MISMATCH.match(causes[0]):
            self.decide(d, "pass", message_match=False, actual=causes[0], message=detail)
            return
        self.decide(d, "fail", actual=last, message=detail,
                    message_match=False if d.kind in MESSAGE_KINDS else None)


def _at_line(directives: list[ww.Directive], line: int) -> ww.Directive | None:
    """The directive wasmtime means by `line` (json-from-wast's line: for most assertions the
    line of the module or invoke inside them)."""
    exact = [d for d in directives if d.line == line]
    if exact:
        return exact[0]
    return next((d for d in directives if d.covers(line)), None)


def _link_error(text: str) -> bool:
    """An instantiation failure that is really a link error (wrong phase for uninstantiable)."""
    return "unknown import" in text or "incompatible import" in text
