"""The contract between the directive runner and an engine.

Modelled on the spec interpreter's `script/embed.ml`: an engine can load (decode and
validate) a module or component, instantiate it against registered instances, invoke an
export, read a global, and register an instance under a name. Every failure is an
`EngineError` whose `kind` names the phase it happened in; the runner matches kinds, never
message text, to decide outcomes (messages are compared separately).

Values cross this boundary in the json-from-wast value schema that wast2json and
wasm-tools write, e.g. {"type": "i32", "value": "4294967295"} (integers and floats as the
unsigned decimal of their bits), {"type": "v128", "lane_type": "i32", "value": [...]},
{"type": "externref", "value": "1" | "null"}; component values as in harness/values.py.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

# Error kinds, in phase order. "parse" is decided by a front-end, never by an engine.
PARSE = "parse"
MALFORMED = "malformed"
INVALID = "invalid"
UNLINKABLE = "unlinkable"
UNINSTANTIABLE = "uninstantiable"
TRAP = "trap"
EXHAUSTION = "exhaustion"
ERROR_KINDS = (PARSE, MALFORMED, INVALID, UNLINKABLE, UNINSTANTIABLE, TRAP, EXHAUSTION)

Value = dict[str, Any]
Handle = int


class EngineError(Exception):
    """The engine rejected something, in a known phase (`kind` is one of ERROR_KINDS)."""

    def __init__(self, kind: str, message: str, alt: tuple[str, ...] = ()):
        assert kind in ERROR_KINDS, kind
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message
        # Kinds the engine cannot tell apart from `kind` (node's JS API has one CompileError
        # for decoding and validation): an assertion expecting one of them matches too.
        self.alt = tuple(alt)
        # Worker engines (PROTOCOL.md): the request's fuel ran out (a deterministic timeout,
        # not the wast's exhaustion), and the boundary-crossing trace of a traced request.
        self.out_of_fuel = False
        self.trace: str | None = None

    def matches(self, kind: str) -> bool:
        return kind == self.kind or kind in self.alt


class EngineCrash(Exception):
    """The engine process died (signal, exit, or garbage on its pipe): its state is lost."""


class EngineTimeout(Exception):
    """The engine did not answer in time; it was killed and its state is lost."""


class EngineUnavailable(Exception):
    """The engine cannot run on this machine (not installed, not built)."""


class EngineUnsupported(Exception):
    """The engine recognises the request but does not implement it yet: a skip, with reason."""


class EngineFault(Exception):
    """The engine (or its worker) reports a harness-level fault: recorded as `error`."""


@dataclass(frozen=True)
class Loaded:
    handle: Handle
    component: bool


class Engine(Protocol):
    name: str

    def version(self) -> str: ...
    def reset(self) -> None:
        """Start a fresh store: no modules, no instances, only the host modules registered."""
    def load(self, path: str, *, component: bool, features: dict | None = None) -> Handle:
        """Decode and validate the binary at `path`. Raises EngineError(malformed|invalid).
        `features`: the file's feature switches (`;;!` lines), when it has any."""
    def instantiate(self, module: Handle) -> Handle:
        """Instantiate against the registered names. Raises unlinkable/uninstantiable/trap."""
    def register(self, name: str, instance: Handle) -> None: ...
    def invoke(self, instance: Handle, field: str, args: list[Value]) -> list[Value]:
        """Call an export. Raises EngineError(trap|exhaustion)."""
    def get(self, instance: Handle, field: str) -> Value: ...
    def close(self) -> None: ...
