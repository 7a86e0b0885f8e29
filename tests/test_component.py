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
import shutil

import pytest

SUITES = Path(os.environ.get("CMREF_SUITES", ROOT.parent / "shared" / "suites"))
SUITE_DIRS = [("component-model", SUITES / "component-model" / "test", []),
              ("wasmtime-misc", SUITES / "wasmtime-misc", ["--wasmtime"])]


def _validate(binary, flags, files):
    out = subprocess.run([str(binary), "--validate", *flags, *map(str, files)],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.split("\n")[:-1]
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


def _sanitized_binary(tmp_path):
    """test_component built with ASan + UBSan (component and core sources)."""
    if shutil.which("clang") is None:
        pytest.skip("clang not installed")
    sources = sorted(str(p) for d in ("component", "core") for p in (ROOT / "interp" / d).glob("*.c"))
    exe = tmp_path / "test_component_asan"
    subprocess.run(["clang", "-std=c11", "-D_GNU_SOURCE", "-O1", "-g", "-fno-omit-frame-pointer",
                    "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
                    "-I", str(ROOT / "interp" / "include"), "-I", str(ROOT / "interp"),
                    "-o", str(exe), str(ROOT / "interp" / "tests" / "test_component.c"), *sources,
                    "-ljansson", "-lm"], check=True, capture_output=True, timeout=600)
    return exe


def _mutants(valid, n, seed, out_dir):
    rng = random.Random(seed)
    files = []
    for i in range(n):
        data = bytearray(rng.choice(valid).read_bytes())
        for _ in range(rng.randrange(1, 4)):
            op = rng.randrange(4)
            if op == 0 and len(data) > 8:
                data[rng.randrange(8, len(data))] = rng.randrange(256)
            elif op == 1 and len(data) > 8:
                data = data[: rng.randrange(8, len(data) + 1)]
            elif op == 2:
                pos = rng.randrange(8, len(data) + 1) if len(data) >= 8 else len(data)
                data[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 6)))
            elif len(data) > 9:
                a = rng.randrange(8, len(data))
                del data[a:rng.randrange(a, min(len(data), a + 16) + 1)]
        f = out_dir / f"m{i}.wasm"
        f.write_bytes(bytes(data))
        files.append(f)
    return files


def test_mutated_components_do_not_crash(tmp_path):
    """Byte flips, truncations, insertions and deletions over the suites' valid components,
    decoded and validated by an ASan + UBSan build: every input gets an answer (ok or an
    error with a message), never a crash, a sanitizer report or a hang."""
    valid = [p for _, root, _ in SUITE_DIRS if root.exists()
             for _, cmd, p, _ in _suite_binaries(root) if cmd["type"] in ("module", "module_definition")]
    if not valid:
        pytest.skip("component suites not found")
    exe = _sanitized_binary(tmp_path)
    files = _mutants(valid, 4000, 1234, tmp_path)
    lines = []
    for i in range(0, len(files), 500):
        lines += _validate(exe, [], files[i:i + 500])
    assert len(lines) == len(files)
    assert all(l == "ok" or (l.startswith(("malformed: ", "invalid: ", "exhaustion: ")) and len(l) > 12)
               for l in lines), [l for l in lines if not l.startswith(("ok", "malformed", "invalid"))][:5]
    # the suites' own binaries, unmutated, under the sanitizers too
    for _, root, flags in SUITE_DIRS:
        if root.exists():
            paths = [p for _, _, p, _ in _suite_binaries(root)]
            for i in range(0, len(paths), 500):
                _validate(exe, flags, paths[i:i + 500])


# ---- components made by the reference toolchain (wit-component inside jco) ----

_WIT = """
package my:rich@1.2.3;
interface types {
  record point { x: s32, y: s32, name: string }
  variant shape { circle(f64), rect(tuple<u32, u32>), empty, poly(list<point>) }
  enum color { red, green, blue }
  flags perms { read, write, exec, a1, a2, a3, a4, a5, a6 }
  resource blob {
    constructor(data: list<u8>);
    size: func() -> u64;
    merge: static func(a: borrow<blob>, b: borrow<blob>) -> blob;
    read: func(off: u64, len: u32) -> result<list<u8>, string>;
  }
  type maybe = option<point>;
  big: func(a: u8, b: u16, c: u32, d: u64, e: s8, f: s16, g: s32, h: s64, i: f32, j: f64,
            k: char, l: string, m: list<string>, n: point, o: shape, p: color, q: perms)
       -> tuple<point, shape, color, perms, string>;
  make: func(c: color) -> result<blob, string>;
  pick: func(m: maybe) -> maybe;
}
interface other {
  use types.{point, blob};
  f: func(p: point, b: borrow<blob>) -> option<point>;
  g: func() -> list<tuple<string, point>>;
}
world w {
  import types;
  import other;
  import log: func(msg: string);
  export types;
  export run: func(args: list<string>) -> result<_, string>;
  export other;
}
"""

_GEN = r"""
import { componentEmbed, componentNew } from '%s';
import fs from 'fs';
const [witFile, out] = process.argv.slice(2);
const src = fs.readFileSync(witFile, 'utf8');
for (const enc of ['utf8', 'utf16', 'compact-utf16']) {
  const core = await componentEmbed({ dummy: true, witSource: src, world: 'w', stringEncoding: enc });
  fs.writeFileSync(`${out}/w-${enc}.wasm`, await componentNew(core));
}
"""


def test_toolchain_components_validate(tmp_path):
    """Components that wit-component (jco's wasm-tools) builds for a world using every kind
    of WIT type (resources with constructors/methods/statics, records, variants, flags,
    enums, options, results, tuples, lists, strings in three encodings, >16 flat params)
    validate: no false rejection on toolchain-shaped components."""
    tools = ROOT / "tools" / "node_modules" / "@bytecodealliance" / "jco-transpile" / "dist" / "wasm-tools.js"
    if shutil.which("node") is None or not tools.exists():
        pytest.skip("node or the pinned jco tools not available (make setup)")
    (tmp_path / "w.wit").write_text(_WIT)
    script = tmp_path / "gen.mjs"
    script.write_text(_GEN % tools.as_posix())
    out = subprocess.run(["node", str(script), str(tmp_path / "w.wit"), str(tmp_path)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    files = sorted(tmp_path.glob("*.wasm"))
    assert len(files) == 3
    assert _validate(TEST_BIN, [], files) == ["ok"] * 3
