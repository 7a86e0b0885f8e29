"""The directive splitter: a `.wast` text into its top-level directives.

It reads the S-expression syntax of the WebAssembly text format as the `wast` crate's lexer
does (line comments `;;`, nested block comments `(; ;)`, strings with escapes, annotations
`(@name ...)`) and builds a small tree: atoms, strings and lists, each with its offset and its
1-based line. Every top-level list is one directive; its kind comes from its leading keywords
(`component definition`, `module instance`, `assert_return`, ...).

It never decides what a module means: module text is handed on verbatim (a slice of the
source) to the encoder. Bad syntax (an unterminated string or comment, unbalanced
parentheses, a top-level token that is not a list) is reported as a `SplitError` with its
line, and splitting goes on after it where it can.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

WHITESPACE = " \t\n\r"
# Characters that end an atom (keyword, id, number, ...).
DELIMITERS = WHITESPACE + '()";'

STRING_ESCAPES = {"t": 0x09, "n": 0x0A, "r": 0x0D, '"': 0x22, "'": 0x27, "\\": 0x5C}

# The directives of the `wast` crate (wast 258), which wasmtime's runner reads.
DIRECTIVE_KEYWORDS = (
    "module", "component", "register", "invoke", "thread", "wait",
    "assert_return", "assert_trap", "assert_exhaustion", "assert_invalid",
    "assert_malformed", "assert_unlinkable", "assert_exception",
)


class SplitError(Exception):
    """Bad S-expression syntax at `line` (1-based)."""

    def __init__(self, line: int, message: str, kind: str | None = None):
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message
        self.kind = kind  # the directive's keyword, when known


@dataclass
class Atom:
    text: str
    offset: int
    line: int


@dataclass
class Str:
    data: bytes
    offset: int
    line: int

    def text(self) -> str:
        """The string as UTF-8 text; raises SplitError when it is not valid UTF-8."""
        try:
            return self.data.decode("utf-8")
        except UnicodeDecodeError:
            raise SplitError(self.line, "malformed UTF-8 encoding") from None


@dataclass
class SList:
    items: list
    offset: int  # of its "("
    end: int  # just after its ")"
    line: int
    annotation: bool = False  # a `(@name ...)` annotation

    def keyword(self, i: int = 0) -> str | None:
        """The i-th item when it is an atom, else None."""
        if i < len(self.items) and isinstance(self.items[i], Atom):
            return self.items[i].text
        return None


Node = Atom | Str | SList


@dataclass
class Directive:
    kind: str  # see classify()
    line: int
    node: SList
    source: str = field(repr=False)  # the directive's own text


# ---------------------------------------------------------------------------------------
# Lexer


class Lexer:
    """Tokens of a wast text: "(" ")" atoms and strings, comments skipped."""

    def __init__(self, text: str):
        self.text = text
        self.pos = 0
        self.line = 1

    def _advance_to(self, pos: int) -> None:
        self.line += self.text.count("\n", self.pos, pos)
        self.pos = pos

    def skip_trivia(self) -> None:
        """Skip whitespace, `;;` line comments and nested `(; ;)` block comments."""
        text, n = self.text, len(self.text)
        while self.pos < n:
            c = text[self.pos]
            if c in WHITESPACE:
                self._advance_to(self.pos + 1)
            elif text.startswith(";;", self.pos):
                nl = text.find("\n", self.pos)
                self._advance_to(n if nl < 0 else nl + 1)
            elif text.startswith("(;", self.pos):
                self._skip_block_comment()
            else:
                return

    def _skip_block_comment(self) -> None:
        start_line = self.line
        text, depth, i = self.text, 0, self.pos
        while i < len(text):
            if text.startswith("(;", i):
                depth += 1
                i += 2
            elif text.startswith(";)", i):
                depth -= 1
                i += 2
                if depth == 0:
                    self._advance_to(i)
                    return
            else:
                i += 1
        self._advance_to(len(text))
        raise SplitError(start_line, "unterminated block comment")

    def next(self) -> tuple[str, object, int, int] | None:
        """The next token as (kind, value, offset, line); kind is ( ) atom str; None at end."""
        self.skip_trivia()
        if self.pos >= len(self.text):
            return None
        start, line, c = self.pos, self.line, self.text[self.pos]
        if c in "()":
            self._advance_to(start + 1)
            return (c, c, start, line)
        if c == '"':
            data = self._string()
            return ("str", data, start, line)
        end = start
        while end < len(self.text) and self.text[end] not in DELIMITERS:
            end += 1
        if end == start:  # a lone ';'
            end += 1
        self._advance_to(end)
        atom = self.text[start:end]
        if atom == "$" and self.pos < len(self.text) and self.text[self.pos] == '"':
            # `$"name"`: an identifier written as a string
            name = self._string()
            return ("atom", "$" + name.decode("utf-8", "replace"), start, line)
        return ("atom", atom, start, line)

    def _string(self) -> bytes:
        """Read a string literal at pos (which is at its opening quote)."""
        text, line = self.text, self.line
        out = bytearray()
        i = self.pos + 1
        while True:
            if i >= len(text):
                self._advance_to(len(text))
                raise SplitError(line, "unterminated string")
            c = text[i]
            if c == '"':
                self._advance_to(i + 1)
                return bytes(out)
            if c == "\n":
                self._advance_to(i)
                raise SplitError(line, "newline in string")
            if c != "\\":
                out += c.encode("utf-8")
                i += 1
                continue
            try:
                i = self._escape(i + 1, out, line)
            except SplitError:
                self._skip_bad_string(i)
                raise

    def _skip_bad_string(self, i: int) -> None:
        """After a bad escape at i: move past the string's closing quote (or its line)."""
        text = self.text
        while i < len(text) and text[i] not in '"\n':
            i += 2 if text[i] == "\\" else 1
        self._advance_to(min(i + 1, len(text)) if i < len(text) and text[i] == '"' else i)

    def _escape(self, i: int, out: bytearray, line: int) -> int:
        """Decode the escape after a backslash at i; append its bytes; return the next index."""
        text = self.text
        c = text[i] if i < len(text) else ""
        if c in STRING_ESCAPES:
            out.append(STRING_ESCAPES[c])
            return i + 1
        if c == "u" and text.startswith("{", i + 1):
            close = text.find("}", i + 2)
            digits = text[i + 2:close].replace("_", "") if close > 0 else ""
            try:
                cp = int(digits, 16)
                out += chr(cp).encode("utf-8")
            except (ValueError, OverflowError, UnicodeEncodeError):
                raise SplitError(line, f"bad unicode escape \\u{{{digits}}}") from None
            return close + 1
        hexpair = text[i:i + 2]
        if len(hexpair) == 2 and all(h in "0123456789abcdefABCDEF" for h in hexpair):
            out.append(int(hexpair, 16))
            return i + 2
        raise SplitError(line, f"invalid string escape \\{c}")


# ---------------------------------------------------------------------------------------
# Reader: tokens into trees


def read_list(lexer: Lexer, open_offset: int, open_line: int) -> SList:
    """Read the rest of a list whose "(" has been consumed."""
    items: list[Node] = []
    annotation = False
    first = True
    while True:
        tok = lexer.next()
        if tok is None:
            raise SplitError(open_line, "unbalanced parentheses: missing ')'")
        kind, value, offset, line = tok
        if first and kind == "atom" and value.startswith("@") and offset == open_offset + 1:
            annotation = True
        first = False
        if kind == ")":
            return SList(items, open_offset, offset + 1, open_line, annotation)
        if kind == "(":
            items.append(read_list(lexer, offset, line))
        elif kind == "atom":
            items.append(Atom(value, offset, line))
        else:
            items.append(Str(value, offset, line))


def read_toplevel(text: str) -> tuple[list[SList], list[SplitError]]:
    """Every top-level list of `text`, and the syntax errors met (splitting goes on).

    After an unclosed list, reading restarts at the next line that starts with "(" in
    column 0 (the way a human would resynchronise a wast file).
    """
    lexer = Lexer(text)
    lists: list[SList] = []
    errors: list[SplitError] = []
    while True:
        try:
            tok = lexer.next()
        except SplitError as e:
            errors.append(e)
            continue
        if tok is None:
            return lists, errors
        kind, value, offset, line = tok
        if kind == "(":
            try:
                lists.append(read_list(lexer, offset, line))
            except SplitError as e:
                e.kind = e.kind or _head_keyword(text, offset)
                errors.append(e)
                _resync(lexer, offset)
        elif kind == ")":
            errors.append(SplitError(line, "unbalanced parentheses: unexpected ')'"))
        else:
            errors.append(SplitError(line, f"unexpected top-level token {_show(kind, value)}"))


def _resync(lexer: Lexer, failed_offset: int) -> None:
    """Move the lexer to the first column-0 "(" after the line of `failed_offset`."""
    text = lexer.text
    nl = text.find("\n", failed_offset)
    while nl >= 0 and not text.startswith("(", nl + 1):
        nl = text.find("\n", nl + 1)
    lexer.pos, lexer.line = 0, 1
    lexer._advance_to(len(text) if nl < 0 else nl + 1)


def _head_keyword(text: str, offset: int) -> str | None:
    """The keyword right after the "(" at offset, if any (for error reports)."""
    m = re.compile(r"\(\s*([a-z_]+)").match(text, offset)
    return m.group(1) if m else None


def _show(kind: str, value: object) -> str:
    if kind == "str":
        return '"' + bytes(value).decode("utf-8", "replace")[:20] + '"'
    return repr(str(value)[:20])


# ---------------------------------------------------------------------------------------
# Directives


def classify(node: SList) -> str:
    """The directive kind of a top-level list.

    `module` / `component` (a module or component to define and instantiate, text, binary
    or quote form), `module_definition`, `module_instance`, and otherwise the directive's
    keyword (`assert_return`, `invoke`, `register`, ...). Raises SplitError when unknown.
    """
    head = node.keyword(0)
    if head in ("module", "component"):
        second = node.keyword(1)
        if second == "definition":
            return "module_definition"
        if second == "instance":
            return "module_instance"
        return head
    if head in DIRECTIVE_KEYWORDS:
        return head
    raise SplitError(node.line, f"unknown directive {head or '(...)'!r}")


def split(text: str) -> tuple[list[Directive], list[SplitError]]:
    """The top-level directives of a wast text, in order, and the syntax errors met.

    Top-level annotations `(@name ...)` are not directives and are skipped (the `wast` crate
    ignores them too).
    """
    lists, errors = read_toplevel(text)
    directives = []
    for node in lists:
        if node.annotation:
            continue
        try:
            kind = classify(node)
        except SplitError as e:
            e.kind = node.keyword(0)
            errors.append(e)
            continue
        directives.append(Directive(kind, node.line, node, text[node.offset:node.end]))
    errors.sort(key=lambda e: e.line)
    return directives, errors
