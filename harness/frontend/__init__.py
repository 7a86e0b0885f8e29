"""Front-ends: a front-end is a function (wast path) -> (json-from-wast document, folder of
its binaries); it raises FrontendError (or any exception: recorded as `error`) when the file
cannot be converted.

- core:      wabt's wast2json (core.py)
- component: the directive splitter + the node encoder (component.py, its own issue)

`front_end(kind)` returns the function; `kind_of(text)` picks one for a file outside a
named suite: a file with a `(component` form goes to the component front-end, and so does a
core file that says `;;! frontend = "wasm-tools"` (core text that wabt 1.0.32 cannot parse:
try_table, memory indices ...; wasm-tools' parser reads core modules too).
"""
from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Callable

from harness.frontend.errors import FrontendError

FrontEnd = Callable[[Path], tuple[dict, Path]]
_MODULES = {"core": "harness.frontend.core", "component": "harness.frontend.component"}


def front_end(kind: str) -> FrontEnd:
    try:
        return importlib.import_module(_MODULES[kind]).convert
    except (KeyError, ImportError, AttributeError) as e:
        raise FrontendError(f"no {kind} front-end available ({e})") from None


_COMPONENT = re.compile(rb"\(\s*component\b")
_WASM_TOOLS = re.compile(rb'^;;!\s*frontend\s*=\s*"wasm-tools"\s*$', re.MULTILINE)


def kind_of(text: bytes) -> str:
    if _COMPONENT.search(text) or _WASM_TOOLS.search(text):
        return "component"
    return "core"


__all__ = ["FrontendError", "front_end", "kind_of"]
