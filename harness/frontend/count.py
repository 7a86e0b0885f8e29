"""An independent count of the directives in a .wast file: its top-level S-expressions.

The front-ends produce command lists; this count does not look at them, so a front-end
that drops or merges a directive is caught by the runner's cross-check. As in the spec, a
script made of bare module fields is one (inline) module.
"""
from __future__ import annotations

import hashlib
import os
import re

_CODE = re.compile(rb'\(;|;;[^\n]*|"(?:[^"\\]|\\.)*"|[()]', re.S)
_COMMENT = re.compile(rb'\(;|;\)')
_HEAD = re.compile(rb'\s*([a-z_]+)')
_FIELDS = {b"type", b"import", b"func", b"table", b"memory", b"global", b"export",
           b"start", b"elem", b"data", b"tag", b"rec"}


def count_directives(text: bytes) -> int:
    """Number of top-level forms, skipping comments (nested block comments too) and strings;
    a run of bare module fields counts once."""
    depth = forms = 0
    inline = False
    pos = 0
    while True:
        m = _CODE.search(text, pos)
        if not m:
            return forms
        tok, pos = m.group(), m.end()
        if tok == b"(;":
            pos = _skip_comment(text, pos)
        elif tok == b"(":
            if depth == 0:
                head = _HEAD.match(text, pos)
                field = bool(head) and head.group(1) in _FIELDS
                forms += not (field and inline)
                inline = field
            depth += 1
        elif tok == b")":
            depth -= 1


def _skip_comment(text: bytes, pos: int) -> int:
    nesting = 1
    while nesting:
        m = _COMMENT.search(text, pos)
        if not m:
            return len(text)
        nesting += 1 if m.group() == b"(;" else -1
        pos = m.end()
    return pos


def cached_count(text: bytes) -> int:
    """count_directives, remembered under .cache/count/ by the text's hash."""
    from harness.frontend.core import cache_root
    key = hashlib.sha256(text).hexdigest()[:32]
    path = cache_root() / "count" / key
    try:
        return int(path.read_text())
    except (OSError, ValueError):
        pass
    n = count_directives(text)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}")
        tmp.write_text(str(n))
        os.replace(tmp, path)
    except OSError:
        pass
    return n
