"""Reading .wast scripts the way `wasmtime wast` sees them, and reading what it prints.

Three small pieces the wasmtime adapter (harness/engines/wasmtime.py) stands on:

- `split_directives`: the top-level S-expressions of a script with their line numbers and
  kinds (comments and strings skipped), so each directive can be blanked out of a copy of
  the script while every other directive keeps its line number.
- `feature_flags`: wasmtime `-W` flags for a file: the base flags that the component-model
  suite's README gives, plus each `;;! name = value` line of the file.
- `parse_failure`: wasmtime's error report, e.g.

      Error: failed to run script file 'x.wast'

      Caused by:
          0: failed directive on x.wast:12:1
          1: expected module to fail to build

  turned into (line, cause lines). `wasmtime wast` runs a script's directives in order and
  stops at the first one that fails (crates/wast/src/wast.rs: `run_directives` wraps each
  error in "failed directive on {file}:{line}").
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Directive:
    line: int          # 1-based line json-from-wast gives it, which wasmtime reports
    start: int         # offset of "("
    end: int           # offset just past the matching ")"
    head: str          # first keyword: module, component, assert_return, invoke, register ...
    kind: str          # the json-from-wast command type: module, assert_return, action ...
    first: int = 0     # line of the directive's keyword
    last: int = 0      # line of its closing parenthesis

    def covers(self, line: int) -> bool:
        return self.first <= line <= self.last

    @property
    def defines_state(self) -> bool:
        """Loading, instantiating and registering change what later directives see."""
        return self.kind in STATEFUL_KINDS


# json-from-wast command types (wast2json / wasm-tools) for each top-level keyword.
_HEAD_KIND = {
    "invoke": "action",
    "get": "action",
}
DEFINITION_KINDS = ("module", "module_definition", "module_instance")
STATEFUL_KINDS = DEFINITION_KINDS + ("register", "action", "assert_return", "assert_trap",
                                     "assert_exhaustion", "thread", "wait")
# Assertions that only load a module and never change the store: re-running them to reach a
# later directive is wasted work, so reruns blank them once they have been decided.
STATELESS_ASSERTIONS = ("assert_invalid", "assert_malformed", "assert_unlinkable")


class ScriptSyntaxError(ValueError):
    pass


def read_script(path) -> str:
    """A script's text with its line ends untouched (a lone CR is not a line end in wast)."""
    with open(path, encoding="utf-8", newline="") as f:
        return f.read()


# What matters inside a form: strings, comments and parentheses; everything else is skipped
# by the regex engine, not by Python.
_SCAN = re.compile(r'"(?:[^"\\]|\\.)*"|;;[^\n]*|\(;|\(|\)|"', re.S)
_BLOCK = re.compile(r"\(;|;\)")


def split_directives(text: str) -> list[Directive]:
    """The top-level forms of a .wast script, in order. Read it with `read_script`."""
    out: list[Directive] = []
    depth, start, pos, n = 0, 0, 0, len(text)
    line, line_pos = 1, 0            # line number at offset line_pos
    while pos < n:
        m = _SCAN.search(text, pos)
        if m is None:
            if depth:
                break
            _top_level_text(text, pos, n, line + text.count("\n", line_pos, pos))
            break
        tok = m.group(0)
        if depth == 0:
            _top_level_text(text, pos, m.start(), line + text.count("\n", line_pos, pos))
        if tok == "(;":
            pos = _block_end(text, m.start(), line + text.count("\n", line_pos, m.start()))
        elif tok == "(":
            if depth == 0:
                start = m.start()
            depth += 1
            pos = m.end()
        elif tok == ")":
            depth -= 1
            pos = m.end()
            if depth == 0:
                line += text.count("\n", line_pos, start)
                line_pos = start
                out.append(_directive(text, start, pos, line))
            elif depth < 0:
                raise ScriptSyntaxError(f"line {line + text.count(chr(10), line_pos, m.start())}: "
                                        "unexpected ')' at top level")
        elif tok == '"':
            raise ScriptSyntaxError(f"line {line + text.count(chr(10), line_pos, m.start())}: "
                                    "unterminated string")
        else:                         # a string or a line comment
            pos = m.end()
    if depth:
        raise ScriptSyntaxError(f"line {line + text.count(chr(10), line_pos, start)}: "
                                "unbalanced parentheses")
    return _inline_module(text, out)


def _top_level_text(text: str, a: int, b: int, line: int) -> None:
    """Between top-level forms only blanks and comments may stand."""
    stray = text[a:b].strip()
    if stray and not stray.startswith(";;"):
        k = text.index(stray[0], a)
        raise ScriptSyntaxError(f"line {line + text.count(chr(10), a, k)}: "
                                f"unexpected {stray[:20]!r} at top level")


def _block_end(text: str, i: int, line: int) -> int:
    """Offset just past the nested block comment that starts at `i`."""
    depth = 0
    for m in _BLOCK.finditer(text, i):
        depth += 1 if m.group(0) == "(;" else -1
        if depth == 0:
            return m.end()
    raise ScriptSyntaxError(f"line {line}: unterminated block comment")


_TOKEN = re.compile(r"[^\s()\";]+")
KNOWN_HEADS = {"module", "component", "register", "invoke", "get", "thread", "wait",
               "assert_return", "assert_trap", "assert_exhaustion", "assert_invalid",
               "assert_malformed", "assert_unlinkable", "assert_uninstantiable",
               "assert_exception", "assert_suspension", "assert_invalid_custom",
               "assert_malformed_custom"}


def _next_token(text: str, i: int, end: int, line: int) -> tuple[str, int, int]:
    """The next keyword at or after `i` (skipping blanks, comments and "("), its line, its end."""
    while i < end:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif text.startswith(";;", i):
            j = text.find("\n", i)
            i = end if j < 0 else j
        elif text.startswith("(;", i):
            j = _block_end(text, i, line)
            line += text.count("\n", i, j)
            i = j
        elif c in " \t\r(":
            i += 1
        else:
            m = _TOKEN.match(text, i)
            return (m.group(0), line, m.end()) if m else ("", line, i)
    return "", line, i


# json-from-wast (wasm-tools, which `wasmtime wast` uses) and wast2json give these
# assertions the line of the form inside them (the module, or the invoke / get), the others
# the line of their own keyword.
INNER_LINE_KINDS = ("assert_return", "assert_trap", "assert_uninstantiable", "assert_invalid",
                    "assert_malformed", "assert_unlinkable")


def _directive(text: str, start: int, end: int, line: int) -> Directive:
    last = line + text.count("\n", start, end)
    head, first, i = _next_token(text, start + 1, end, line)
    second, inner, _ = _next_token(text, i, end, first)
    if head in ("module", "component"):
        kind = {"definition": "module_definition", "instance": "module_instance"}.get(second, "module")
    elif head == "assert_trap" and second in ("module", "component"):
        kind = "assert_uninstantiable"
    else:
        kind = _HEAD_KIND.get(head, head)
    reported = inner if kind in INNER_LINE_KINDS and second else first
    return Directive(reported, start, end, head, kind, first, last)


def _inline_module(text: str, forms: list[Directive]) -> list[Directive]:
    """A script of bare module fields ("(func) (memory 0)") is one module, as in the wast crate."""
    if forms and forms[0].head not in KNOWN_HEADS:
        return [Directive(forms[0].first, forms[0].start, forms[-1].end, "module", "module",
                          forms[0].first, forms[-1].last)]
    return forms


def blank(text: str, directives: list[Directive]) -> str:
    """A copy of `text` with the given directives replaced by spaces (newlines kept)."""
    chars = list(text)
    for d in directives:
        for k in range(d.start, d.end):
            if chars[k] != "\n":
                chars[k] = " "
    return "".join(chars)


# ---- feature flags ---------------------------------------------------------------------

# `;;!` keys that configure wasmtime's own test runner rather than a wasm feature.
RUNNER_ONLY_KEYS = {"hogs_memory"}

_FEATURE_LINE = re.compile(r"^;;!\s*([A-Za-z0-9_]+)\s*=\s*(\S+)\s*$")


def file_features(text: str) -> dict[str, bool]:
    """The `;;! name = true|false` lines at the top of a wasmtime test file."""
    out: dict[str, bool] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if not line.startswith(";;"):
            break
        m = _FEATURE_LINE.match(line)
        if m:
            out[m.group(1)] = m.group(2).lower() in ("true", "y", "yes")
    return out


def readme_flags(readme: Path) -> list[str]:
    """The `-W name` flags of the first `wasmtime wast` command line in a suite README."""
    if not readme.is_file():
        return []
    for line in readme.read_text(encoding="utf-8").splitlines():
        if "wasmtime wast" in line:
            return re.findall(r"-W\s+([A-Za-z0-9_=-]+)", line)
    return []


def feature_flags(text: str, base: list[str]) -> list[str]:
    """`-W` arguments: the base flags, then the file's own (a file's `false` wins)."""
    wanted: dict[str, str] = {}
    for flag in base:
        name, _, value = flag.partition("=")
        wanted[name] = value or "y"
    for key, on in file_features(text).items():
        if key in RUNNER_ONLY_KEYS:
            continue
        wanted[key.replace("_", "-")] = "y" if on else "n"
    args: list[str] = []
    for name, value in wanted.items():
        args += ["-W", name if value == "y" else f"{name}={value}"]
    return args


# ---- wasmtime's report -----------------------------------------------------------------

_FAILED_AT = re.compile(r"failed directive on (.+?):(\d+)(?::\d+)?\s*$")
_CAUSE = re.compile(r"^\s*(\d+):\s?(.*)$")
_RUNNING = re.compile(r"running directive on (.+?):(\d+)")


@dataclass(frozen=True)
class Failure:
    line: int
    causes: list[str]   # the error chain below "failed directive on", outermost first

    @property
    def detail(self) -> str:
        return ": ".join(c for c in self.causes if c)


def parse_failure(stderr: str) -> Failure | None:
    """The failing directive's line and its error chain, or None if there is none."""
    lines = stderr.splitlines()
    for idx, raw in enumerate(lines):
        m = _FAILED_AT.search(raw)
        if not m:
            continue
        # Causes are numbered from the "failed directive" line's own number on; any other
        # line continues the cause above it (messages may span lines).
        first = _CAUSE.match(raw)
        number = int(first.group(1)) + 1 if first else 1
        causes: list[str] = []
        for rest in lines[idx + 1:]:
            cm = _CAUSE.match(rest)
            if cm and int(cm.group(1)) == number:
                causes.append(cm.group(2).strip())
                number += 1
            elif causes:
                causes[-1] += "\n" + rest.strip()
        return Failure(int(m.group(2)), [c.strip() for c in causes])
    return None


def directives_started(stderr: str) -> list[int]:
    """Lines of the directives wasmtime's debug log says it started (in order)."""
    return [int(m.group(2)) for m in _RUNNING.finditer(stderr)]


_PARSE_AT = re.compile(r"^\s*--> .+?:(\d+):\d+\s*$", re.M)


def parse_error_at(stderr: str) -> tuple[int, str] | None:
    """Line and message of a wast syntax error (the wast crate's "--> FILE:LINE:COL" form)."""
    m = _PARSE_AT.search(stderr)
    if not m:
        return None
    before = [ln.strip() for ln in stderr[:m.start()].splitlines() if ln.strip()]
    message = before[-1] if before else "syntax error"
    return int(m.group(1)), message
