"""`cmref run` for components on the command line (issue 14): linking with --with (recursive),
--trace (one indented line per boundary crossing, WAVE values), a --deny policy, --fuel and
--max-memory, `cmref info`, and WAVE round trips for every value kind plus bad input."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from harness.frontend.component import convert_text
from harness_util import BUMP_REALLOC

ROOT = Path(__file__).resolve().parents[1]
CMREF = ROOT / "build" / "cmref"

pytestmark = pytest.mark.skipif(not CMREF.exists(), reason="build/cmref is not built")

REALLOC = BUMP_REALLOC

# exports add and echo (a string through memory)
LIB = """(component
  (core module $m
    (memory (export "mem") 1)
    """ + REALLOC + """
    (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
    (func (export "echo") (param i32 i32) (result i32)
      (i32.store (i32.const 0) (local.get 0))
      (i32.store (i32.const 4) (local.get 1))
      (i32.const 0)))
  (core instance $i (instantiate $m))
  (func (export "add") (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "add")))
  (func (export "echo") (param "s" string) (result string)
    (canon lift (core func $i "echo") (memory $i "mem") (realloc (func $i "realloc")))))"""

LIB_IMPORT = """(import "lib" (instance $lib
    (export "add" (func (param "a" u32) (param "b" u32) (result u32)))
    (export "echo" (func (param "s" string) (result string)))))"""

# imports lib; run(s) = lib.echo(s), inc(x) = lib.add(x, 1)
MAIN = """(component
  """ + LIB_IMPORT + """
  (core module $Mem
    (memory (export "mem") 1)
    """ + REALLOC + """)
  (core instance $mem (instantiate $Mem))
  (core func $add (canon lower (func $lib "add")))
  (core func $echo (canon lower (func $lib "echo") (memory $mem "mem") (realloc (func $mem "realloc"))))
  (core module $n
    (import "" "add" (func $add (param i32 i32) (result i32)))
    (import "" "echo" (func $echo (param i32 i32 i32)))
    (func (export "run") (param i32 i32) (result i32)
      (call $echo (local.get 0) (local.get 1) (i32.const 8))
      (i32.const 8))
    (func (export "inc") (param i32) (result i32) (call $add (local.get 0) (i32.const 1))))
  (core instance $j (instantiate $n (with "" (instance (export "add" (func $add)) (export "echo" (func $echo))))))
  (func (export "run") (param "s" string) (result string)
    (canon lift (core func $j "run") (memory $mem "mem") (realloc (func $mem "realloc"))))
  (func (export "inc") (param "x" u32) (result u32) (canon lift (core func $j "inc"))))"""

# imports `mid`, which imports `lib` (recursive --with)
MID = """(component
  """ + LIB_IMPORT + """
  (core func $add (canon lower (func $lib "add")))
  (core module $n
    (import "" "add" (func $add (param i32 i32) (result i32)))
    (func (export "add2") (param i32) (result i32)
      (call $add (call $add (local.get 0) (i32.const 1)) (i32.const 1))))
  (core instance $j (instantiate $n (with "" (instance (export "add" (func $add))))))
  (func (export "add2") (param "x" u32) (result u32) (canon lift (core func $j "add2"))))"""

TOP = """(component
  (import "mid" (instance $mid (export "add2" (func (param "x" u32) (result u32)))))
  (core func $add2 (canon lower (func $mid "add2")))
  (core module $n
    (import "" "add2" (func $add2 (param i32) (result i32)))
    (func (export "add4") (param i32) (result i32) (call $add2 (call $add2 (local.get 0)))))
  (core instance $j (instantiate $n (with "" (instance (export "add2" (func $add2))))))
  (func (export "add4") (param "x" u32) (result u32) (canon lift (core func $j "add4"))))"""

# a loop that never ends, and memory growth
BOUNDS = """(component
  (core module $m
    (memory (export "mem") 1)
    (func (export "spin") (loop $l (br $l)))
    (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))
  (core instance $i (instantiate $m))
  (func (export "spin") (canon lift (core func $i "spin")))
  (func (export "grow") (param "pages" u32) (result s32) (canon lift (core func $i "grow"))))"""

# calls two of the engine's host functions (wasmtime's test host: host.c)
HOSTED = """(component
  (import "host-echo-u32" (func $echo (param "x" u32) (result u32)))
  (import "host" (instance $h (export "return-three" (func (result u32)))))
  (core func $cecho (canon lower (func $echo)))
  (core func $cthree (canon lower (func $h "return-three")))
  (core module $n
    (import "" "echo" (func $echo (param i32) (result i32)))
    (import "" "three" (func $three (result i32)))
    (func (export "f") (param i32) (result i32) (i32.add (call $echo (local.get 0)) (call $three))))
  (core instance $j (instantiate $n (with "" (instance (export "echo" (func $cecho))
                                                       (export "three" (func $cthree))))))
  (func (export "f") (param "x" u32) (result u32) (canon lift (core func $j "f"))))"""

# an async callback lift that yields once before task.return (concurrency.c)
ASYNC = """(component
  (core module $M
    (import "" "task.return" (func $task.return (param i32)))
    (import "" "context.get" (func $get (result i32)))
    (import "" "context.set" (func $set (param i32)))
    (func (export "f") (param i32) (result i32)
      (call $set (i32.add (local.get 0) (i32.const 1)))
      (i32.const 1 (; YIELD ;)))
    (func (export "f-cb") (param i32 i32 i32) (result i32)
      (call $task.return (call $get))
      (i32.const 0 (; EXIT ;))))
  (core func $task.return (canon task.return (result u32)))
  (core func $get (canon context.get i32 0))
  (core func $set (canon context.set i32 0))
  (core instance $m (instantiate $M (with "" (instance (export "task.return" (func $task.return))
    (export "context.get" (func $get)) (export "context.set" (func $set))))))
  (func (export "f") async (param "x" u32) (result u32)
    (canon lift (core func $m "f") async (callback (core func $m "f-cb")))))"""


def build(tmp: Path, name: str, text: str) -> Path:
    doc, files = convert_text(text, name + ".wast")
    (_, binary), = files.items()
    path = tmp / (name + ".wasm")
    path.write_bytes(binary)
    return path


def cmref(*args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([str(CMREF), *map(str, args)], capture_output=True, text=True,
                          timeout=60, cwd=cwd)


@pytest.fixture
def comps(tmp_path):
    for name, text in [("lib", LIB), ("main", MAIN), ("mid", MID), ("top", TOP), ("bounds", BOUNDS),
                       ("hosted", HOSTED), ("async", ASYNC)]:
        build(tmp_path, name, text)
    return tmp_path


def test_with_links_two_components_and_traces_each_crossing(comps):
    r = cmref("run", "main.wasm", "--with", "lib=lib.wasm", "--trace", "--invoke",
              'run("hi \\u{2603}\\n")', cwd=comps)
    assert r.returncode == 0, r.stderr
    assert r.stdout == '"hi \u2603\\n"\n'
    assert r.stderr == (
        'call host -> run("hi \u2603\\n")\n'
        '  call root -> lib.echo("hi \u2603\\n")\n'
        '  return lib.echo = "hi \u2603\\n"\n'
        'return run = "hi \u2603\\n"\n')
    r = cmref("run", "main.wasm", "--with", "lib=lib.wasm", "--invoke", "inc(41)", cwd=comps)
    assert (r.returncode, r.stdout, r.stderr) == (0, "42\n", "")


def test_with_is_recursive(comps):
    r = cmref("run", "top.wasm", "--with", "mid=mid.wasm", "--with", "lib=lib.wasm", "--trace",
              "--invoke", "add4(10)", cwd=comps)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "14\n"
    lines = r.stderr.splitlines()
    assert lines[0] == "call host -> add4(10)"
    assert lines[1] == "  call root -> mid.add2(10)"
    assert lines[2] == "    call mid -> lib.add(10, 1)"
    assert lines[-1] == "return add4 = 14"
    # 1 + 2 (mid) + 4 (lib) calls, each a call and a return line
    assert len(lines) == 14


def test_trace_shows_host_function_crossings(comps):
    r = cmref("run", "hosted.wasm", "--trace", "--invoke", "f(7)", cwd=comps)
    assert (r.returncode, r.stdout) == (0, "10\n"), r.stderr
    assert r.stderr == (
        "call host -> f(7)\n"
        "  call root -> [host] host-echo-u32(7)\n"
        "  return [host] host-echo-u32 = 7\n"
        "  call root -> [host] host.return-three()\n"
        "  return [host] host.return-three = 3\n"
        "return f = 10\n")
    # a policy applies to host functions too
    r = cmref("run", "hosted.wasm", "--deny", "return-three", "--invoke", "f(7)", cwd=comps)
    assert (r.returncode, r.stderr) == (
        1, "cmref: trap: call denied by policy: --deny return-three (call of host.return-three)\n")


def test_trace_shows_async_calls(comps):
    r = cmref("run", "async.wasm", "--trace", "--invoke", "f(41)", cwd=comps)
    assert (r.returncode, r.stdout) == (0, "42\n"), r.stderr
    assert r.stderr == "call host -> f(41)\nreturn f = 42\n"
    r = cmref("run", "async.wasm", "--deny", "f", "--invoke", "f(41)", cwd=comps)
    assert (r.returncode, r.stderr) == (
        1, "cmref: trap: call denied by policy: --deny f (call of f)\n")


def test_deny_policy_traps_naming_the_policy(comps):
    r = cmref("run", "main.wasm", "--with", "lib=lib.wasm", "--deny", "add", "--trace",
              "--invoke", "inc(41)", cwd=comps)
    assert r.returncode == 1
    assert r.stdout == ""
    assert r.stderr == (
        "call host -> inc(41)\n"
        "  call root -> lib.add(41, 1) denied\n"
        "  trap lib.add: call denied by policy: --deny add (call of lib.add)\n"
        "trap inc: call denied by policy: --deny add (call of lib.add)\n"
        "cmref: trap: call denied by policy: --deny add (call of lib.add)\n")
    # a policy for another function lets the call through
    r = cmref("run", "main.wasm", "--with", "lib=lib.wasm", "--deny", "echo", "--invoke", "inc(1)",
              cwd=comps)
    assert (r.returncode, r.stdout) == (0, "2\n"), r.stderr


def test_unsatisfied_and_mistyped_imports_are_unlinkable(comps):
    r = cmref("run", "main.wasm", "--invoke", "inc(1)", cwd=comps)
    assert r.returncode == 1
    assert r.stderr == "cmref: main.wasm: unlinkable: import `lib` was not found\n"
    # bounds does not export the `add` that mid's `lib` import needs
    r = cmref("run", "mid.wasm", "--with", "lib=bounds.wasm", "--invoke", "add2(1)", cwd=comps)
    assert r.returncode == 1, r.stderr
    assert r.stderr.startswith("cmref: mid.wasm: unlinkable: "), r.stderr
    # mid exports add2, not lib's add
    r = cmref("run", "top.wasm", "--with", "mid=lib.wasm", "--invoke", "add4(1)", cwd=comps)
    assert r.returncode == 1, r.stderr
    assert r.stderr.startswith("cmref: top.wasm: unlinkable: "), r.stderr
    r = cmref("run", "main.wasm", "--with", "lib", "--invoke", "inc(1)", cwd=comps)
    assert r.returncode == 1 and "--with takes NAME=COMPONENT.wasm" in r.stderr


def test_with_cycle_is_an_error(comps):
    # lib=main.wasm: main imports lib, which would be main itself again
    r = cmref("run", "main.wasm", "--with", "lib=main.wasm", "--invoke", "inc(1)", cwd=comps)
    assert r.returncode == 1 and "cycle" in r.stderr, r.stderr


def test_fuel_and_max_memory(comps):
    r = cmref("run", "bounds.wasm", "--fuel", "10000", "--invoke", "spin()", cwd=comps)
    assert r.returncode == 1
    assert r.stderr == "cmref: exhaustion: all fuel consumed by WebAssembly\n"
    r = cmref("run", "bounds.wasm", "--fuel", "10000", "--invoke", "grow(1)", cwd=comps)
    assert (r.returncode, r.stdout) == (0, "1\n"), r.stderr
    r = cmref("run", "bounds.wasm", "--max-memory", str(3 * 65536), "--invoke", "grow(2)", cwd=comps)
    assert (r.returncode, r.stdout) == (0, "1\n"), r.stderr
    r = cmref("run", "bounds.wasm", "--max-memory", str(3 * 65536), "--invoke", "grow(3)", cwd=comps)
    assert r.returncode == 1
    assert r.stderr.startswith("cmref: exhaustion: memory limit exceeded"), r.stderr
    # without a limit the same growth succeeds
    r = cmref("run", "bounds.wasm", "--invoke", "grow(3)", cwd=comps)
    assert (r.returncode, r.stdout) == (0, "1\n"), r.stderr
    r = cmref("run", "bounds.wasm", "--fuel", "-1", "--invoke", "spin()", cwd=comps)
    assert r.returncode == 1 and "non-negative integer" in r.stderr


def test_info_lists_imports_and_exports(comps):
    r = cmref("info", "main.wasm", cwd=comps)
    assert r.returncode == 0, r.stderr
    assert r.stdout == (
        "component main.wasm\n"
        "  import lib: instance {\n"
        "    export add: func(a: u32, b: u32) -> u32\n"
        "    export echo: func(s: string) -> string\n"
        "  }\n"
        "  export run: func(s: string) -> string\n"
        "  export inc: func(x: u32) -> u32\n")
    r = cmref("info", "nope.wasm", cwd=comps)
    assert r.returncode == 1 and "cannot read" in r.stderr


SPIN_WAT = """(module
  (func (export "spin") (loop $l (br $l)))
  (func (export "count") (param i32) (result i32)
    (loop $l (local.set 0 (i32.sub (local.get 0) (i32.const 1))) (br_if $l (local.get 0)))
    (local.get 0))
  (func (export "three") (result i32) (i32.add (i32.const 1) (i32.const 2)))
  (func (export "pick") (param i32) (result i32)
    (if (result i32) (local.get 0) (then (i32.const 10))
      (else (i32.add (i32.const 20) (i32.const 1)))))
  (func (export "calls") (result i32) (call 2) (nop) (drop (i32.const 5))))"""

# Exact instruction counts (wasmtime's fuel costs: nop, drop, block, loop, else, end,
# unreachable, return are free): each needs exactly N units and fails with N - 1.
FUEL_EXACT = [
    ("three()", 3, "3"),                 # i32.const i32.const i32.add
    ("count(1000)", 6 * 1000 + 1, "0"),  # 6 per iteration, then local.get
    ("pick(1)", 3, "10"),                # local.get if i32.const
    ("pick(0)", 5, "21"),                # local.get if (else) i32.const i32.const i32.add
    ("calls()", 5, "3"),                 # call + three's 3 + i32.const (nop, drop free)
]


@pytest.mark.skipif(not shutil.which("wat2wasm"), reason="wabt's wat2wasm is not installed")
def test_fuel_for_core_modules(tmp_path):
    (tmp_path / "spin.wat").write_text(SPIN_WAT)
    subprocess.run(["wat2wasm", "spin.wat", "-o", "spin.wasm"], cwd=tmp_path, check=True)
    r = cmref("run", "spin.wasm", "--fuel", "100000", "--invoke", "spin()", cwd=tmp_path)
    assert (r.returncode, r.stderr) == (1, "cmref: exhaustion: all fuel consumed by WebAssembly\n")
    for call, need, result in FUEL_EXACT:
        r = cmref("run", "spin.wasm", "--fuel", str(need), "--invoke", call, cwd=tmp_path)
        assert (r.returncode, r.stdout) == (0, result + "\n"), (call, r.stderr)
        r = cmref("run", "spin.wasm", "--fuel", str(need - 1), "--invoke", call, cwd=tmp_path)
        assert (r.returncode, r.stdout, r.stderr) == (
            1, "", "cmref: exhaustion: all fuel consumed by WebAssembly\n"), call
    # no fuel at all: not even the first instruction runs; without --fuel: unlimited
    r = cmref("run", "spin.wasm", "--fuel", "0", "--invoke", "three()", cwd=tmp_path)
    assert r.returncode == 1 and "all fuel consumed" in r.stderr
    r = cmref("run", "spin.wasm", "--invoke", "count(100000)", cwd=tmp_path)
    assert (r.returncode, r.stdout) == (0, "0\n"), r.stderr
