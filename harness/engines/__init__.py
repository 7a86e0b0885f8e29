"""Engine registry: name -> factory(timeout=...) returning an Engine (harness/engine.py).

Add an engine with one line in ENGINES. Every worker engine is a WorkerEngine (worker.py).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Callable

from harness.engine import Engine, EngineUnavailable
from harness.engines.worker import WorkerEngine

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent


NODE_FLAGS = ["--experimental-wasm-type-reflection"]


def node(timeout: float = 10.0) -> WorkerEngine:
    flags = NODE_FLAGS + os.environ.get("CMREF_NODE_FLAGS", "").split()
    return WorkerEngine("node", ["node", *flags, str(HERE / "node_worker.js")], timeout=timeout)


def jco(timeout: float = 10.0) -> WorkerEngine:
    """Components through jco (transpile to JS + core Wasm) on node: jco_worker.mjs."""
    flags = NODE_FLAGS + os.environ.get("CMREF_NODE_FLAGS", "").split()
    if not (ROOT / "tools" / "node_modules" / "jco-transpile-engine").exists():
        raise EngineUnavailable("engine jco: tools/node_modules is not installed (run `make setup`)")
    return WorkerEngine("jco", ["node", *flags, str(HERE / "jco_worker.mjs")], timeout=timeout)


def ref(timeout: float = 10.0) -> WorkerEngine:
    exe = ROOT / "build" / "cmref"
    if not exe.exists():
        raise EngineUnavailable(f"engine ref: {exe} is not built (run `make build`)")
    return WorkerEngine("ref", [str(exe), "worker"], timeout=timeout)


def ref_sanitize(timeout: float = 60.0) -> WorkerEngine:
    """The `make sanitize` build (ASan + UBSan) of the ref worker."""
    exe = ROOT / "build-sanitize" / "cmref"
    if not exe.exists():
        raise EngineUnavailable(f"engine ref-sanitize: {exe} is not built (run `make sanitize`)")
    return WorkerEngine("ref-sanitize", [str(exe), "worker"], timeout=timeout)


def fake(mode: str) -> Callable[..., WorkerEngine]:
    def make(timeout: float = 10.0) -> WorkerEngine:
        return WorkerEngine(f"fake-{mode}", [sys.executable, "-m", "harness.engines.fake_worker",
                                             mode], timeout=timeout)
    return make


def wasmtime(timeout: float = 10.0) -> Engine:
    from harness.engines.wasmtime import WasmtimeEngine   # wasmtime's CLI, whole scripts
    return WasmtimeEngine(timeout=max(60.0, 30 * timeout))


ENGINES: dict[str, Callable[..., Engine]] = {
    "node": node,
    "jco": jco,
    "ref": ref,
    "ref-sanitize": ref_sanitize,
    "wasmtime": wasmtime,
    "fake-accept": fake("accept"),
    "fake-crash": fake("crash"),
    "fake-hang": fake("hang"),
    "fake-garbage": fake("garbage"),
}


def make_engine(name: str, **options) -> Engine:
    if name not in ENGINES:
        raise EngineUnavailable(f"unknown engine {name!r} (known: {', '.join(sorted(ENGINES))})")
    return ENGINES[name](**options)
