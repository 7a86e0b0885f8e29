"""Front-ends: a front-end is a function (wast path) -> (json-from-wast document, folder of
its binaries); it raises FrontendError (or any exception: recorded as `error`) when the file
cannot be converted.

- core:      wabt's wast2json (core.py)
- component: the directive splitter + the node encoder (component.py, its own issue)

`front_end(kind)` returns the function; `kind_of(text)` picks one for a file outside a
named suite.
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


def kind_of(text: bytes) -> str:
    return "component" if _COMPONENT.search(text) else "core"


__all__ = ["FrontendError", "front_end", "kind_of"]
