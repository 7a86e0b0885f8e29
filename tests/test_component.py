"""Component decoding and validation (interp/component/): the C unit tests."""
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST_BIN = ROOT / "build" / "tests" / "test_component"


def test_component_unit_tests():
    out = subprocess.run([str(TEST_BIN)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr


# ---- the suites' components: no false rejection, every assertion decided, no crash ----

import json
import os
import random

import pytest

SUITES = Path(os.environ.get("CMREF_SUITES", ROOT.parent / "shared" / "suites"))
SUITE_DIRS = [("component-model", SUITES / "component-model" / "test", []),
              ("wasmtime-misc", SUITES / "wasmtime-misc", ["--wasmtime"])]


def _validate(binary, flags, files):
    out = subprocess.run([str(binary), "--validate", *flags, *map(str, files)],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.splitlines()
    assert len(lines) == len(files), out.stderr[-2000:]
    return lines


def _suite_binaries(root):
    from harness.frontend.component import convert
    for wast in sorted(root.rglob("*.wast")):
        text = wast.read_text(encoding="utf-8")
        if "(component" not in text:
            continue
        doc, out_dir = convert(wast)
        flags = ["--no-implements"] if "component_model_implements = false" in text else []
        for cmd in doc["commands"]:
            name = cmd.get("filename")
            if not name or not name.endswith(".wasm"):
                continue
            path = out_dir / name
            if not path.exists() or path.read_bytes()[6:8] != b"\x01\x00":
                continue  # core modules are the core suite's business
            yield wast, cmd, path, flags


@pytest.mark.parametrize("suite,root,flags", SUITE_DIRS, ids=[s[0] for s in SUITE_DIRS])
def test_suite_components_decided(suite, root, flags):
    if not root.exists():
        pytest.skip(f"suite {suite} not found under {SUITES}")
    groups = {}
    for wast, cmd, path, extra in _suite_binaries(root):
        groups.setdefault(tuple(flags + extra), []).append((wast, cmd, path))
    assert sum(map(len, groups.values())) > 100, "no component binaries found"
    bad = []
    for fl, items in groups.items():
        lines = _validate(TEST_BIN, list(fl), [p for _, _, p in items])
        for (wast, cmd, path), line in zip(items, lines):
            kind = cmd["type"]
            if kind == "assert_invalid":
                ok = line.startswith("invalid:")
            elif kind == "assert_malformed":
                ok = line.startswith("malformed:")
            else:  # every other component must decode and validate
                ok = line == "ok"
            if not ok:
                bad.append(f"{wast.name}:{cmd.get('line')}: {kind}: {line}")
    assert not bad, "\n".join(bad[:40])


def test_mutated_components_do_not_crash(tmp_path):
    """Random byte flips, truncations and insertions over the suite's valid components:
    every input gets an answer (ok or an error), never a crash. Runs the sanitizer build
    when `make sanitize` has produced it."""
    root = SUITE_DIRS[0][1]
    if not root.exists():
        pytest.skip("component-model suite not found")
    san = ROOT / "build-sanitize" / "tests" / "test_component"
    binary = san if san.exists() else TEST_BIN
    valid = [p for _, cmd, p, _ in _suite_binaries(root) if cmd["type"] == "module"]
    assert valid, "no valid component binaries found"
    rng = random.Random(1234)
    files = []
    for i in range(600):
        data = bytearray(rng.choice(valid).read_bytes())
        op = rng.randrange(3)
        if op == 0 and len(data) > 8:
            for _ in range(rng.randrange(1, 4)):
                data[rng.randrange(8, len(data))] = rng.randrange(256)
        elif op == 1:
            data = data[: rng.randrange(len(data) + 1)]
        else:
            pos = rng.randrange(8, len(data) + 1) if len(data) >= 8 else len(data)
            data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 6)))
        f = tmp_path / f"m{i}.wasm"
        f.write_bytes(bytes(data))
        files.append(f)
    lines = _validate(binary, [], files)
    assert all(l == "ok" or l.startswith(("malformed:", "invalid:")) for l in lines)
