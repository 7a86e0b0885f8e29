import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_engine_error_kinds_are_phases():
    from harness.engine import ERROR_KINDS, EngineError
    err = EngineError("trap", "wasm trap: unreachable")
    assert err.kind == "trap" and err.message.startswith("wasm trap")
    assert ERROR_KINDS[0] == "parse"


def test_c_library_built():
    assert (ROOT / "build" / "libcmref.a").exists()
