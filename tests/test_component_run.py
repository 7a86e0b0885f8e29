"""Running components (issue 7) through the worker protocol of `build/cmref worker`:
instantiation, invoke with component values, component-to-component calls, registration and
linking errors, and async lifts (issue 8)."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from harness.frontend.component import convert_text
from harness_util import BUMP_REALLOC

ROOT = Path(__file__).resolve().parents[1]
CMREF = ROOT / "build" / "cmref"

pytestmark = pytest.mark.skipif(not CMREF.exists(), reason="build/cmref is not built")


class Worker:
    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.proc = subprocess.Popen([str(CMREF), "worker"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        self.id = 0
        self.n = 0

    def call(self, op: str, **fields) -> dict:
        self.id += 1
        self.proc.stdin.write(json.dumps({"id": self.id, "op": op, **fields}) + "\n")
        self.proc.stdin.flush()
        reply = json.loads(self.proc.stdout.readline())
        assert reply["id"] == self.id
        return reply

    def component(self, text: str) -> dict:
        """Loads and instantiates the one component of `text`; the instantiate reply."""
        doc, files = convert_text(text, "t.wast")
        (name, binary), = files.items()
        self.n += 1
        path = self.tmp / f"{self.n}.wasm"
        path.write_bytes(binary)
        load = self.call("load", path=str(path), component=True)
        assert "ok" in load, load
        return self.call("instantiate", module=load["ok"]["module"])

    def close(self):
        self.proc.stdin.close()
        assert self.proc.wait(timeout=10) == 0


@pytest.fixture
def worker(tmp_path):
    w = Worker(tmp_path)
    yield w
    w.close()


def u32(v: int) -> dict:
    return {"type": "u32", "value": str(v)}


ADDER = """(component
  (core module $m (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))
  (core instance $i (instantiate $m))
  (func (export "add") (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "add"))))"""


def test_lifted_export_runs(worker):
    inst = worker.component(ADDER)["ok"]["instance"]
    r = worker.call("invoke", instance=inst, field="add", args=[u32(40), u32(2)])
    assert r["ok"]["results"] == [u32(42)]
    # u32 arithmetic wraps in the core function; the ABI passes the bits through
    r = worker.call("invoke", instance=inst, field="add", args=[u32(0xFFFFFFFF), u32(2)])
    assert r["ok"]["results"] == [u32(1)]


def test_string_across_components_with_transcoding(worker):
    text = """(component
  (component $Echo
    (core module $m
      (memory (export "mem") 1)
      @REALLOC@
      (func (export "echo") (param i32 i32) (result i32)
        (i32.store (i32.const 0) (local.get 0))
        (i32.store (i32.const 4) (local.get 1))
        (i32.const 0)))
    (core instance $i (instantiate $m))
    (func (export "echo") (param "s" string) (result string)
      (canon lift (core func $i "echo") string-encoding=utf16
        (memory $i "mem") (realloc (func $i "realloc")))))
  (instance $e (instantiate $Echo))
  (core module $Mem
    (memory (export "mem") 1)
    @REALLOC@)
  (core instance $mem (instantiate $Mem))
  (core func $echo (canon lower (func $e "echo") (memory $mem "mem") (realloc (func $mem "realloc"))))
  (core module $n
    (import "" "echo" (func $echo (param i32 i32 i32)))
    (import "" "mem" (memory 1))
    (func (export "twice") (param i32 i32) (result i32)
      (call $echo (local.get 0) (local.get 1) (i32.const 8))
      (i32.const 8)))
  (core instance $j (instantiate $n (with "" (instance (export "echo" (func $echo)) (export "mem" (memory $mem "mem"))))))
  (func (export "echo") (param "s" string) (result string)
    (canon lift (core func $j "twice") (memory $mem "mem") (realloc (func $mem "realloc")))))""".replace("@REALLOC@", BUMP_REALLOC)
    inst = worker.component(text)["ok"]["instance"]
    for s in ["hello", "", "h\u00e9llo \u2603 \U0001F600"]:
        r = worker.call("invoke", instance=inst, field="echo", args=[{"type": "string", "value": s}])
        assert r["ok"]["results"] == [{"type": "string", "value": s}]


def test_register_and_link(worker):
    inst = worker.component(ADDER)["ok"]["instance"]
    assert worker.call("register", instance=inst, **{"as": "adder"}) == {"id": worker.id, "ok": {}}
    user = """(component
  (import "adder" (instance $a (export "add" (func (param "a" u32) (param "b" u32) (result u32)))))
  (core func $add (canon lower (func $a "add")))
  (core module $n (import "" "add" (func $add (param i32 i32) (result i32)))
    (func (export "inc") (param i32) (result i32) (call $add (local.get 0) (i32.const 1))))
  (core instance $j (instantiate $n (with "" (instance (export "add" (func $add))))))
  (func (export "inc") (param "x" u32) (result u32) (canon lift (core func $j "inc"))))"""
    inst2 = worker.component(user)["ok"]["instance"]
    assert worker.call("invoke", instance=inst2, field="inc", args=[u32(6)])["ok"]["results"] == [u32(7)]
    r = worker.component('(component (import "adder" (func)))')
    assert r["error"] == {"kind": "unlinkable", "message": "expected function found instance"}
    r = worker.component('(component (import "nope" (instance (export "f" (func)))))')
    assert r["error"]["kind"] == "unlinkable" and "was not found" in r["error"]["message"]


def test_resource_handles_and_traps(worker):
    text = """(component
  (type $R (resource (rep i32)))
  (core func $new (canon resource.new $R))
  (core func $drop (canon resource.drop $R))
  (core module $m
    (import "" "new" (func $new (param i32) (result i32)))
    (import "" "drop" (func $drop (param i32)))
    (func (export "twice") (call $drop (call $new (i32.const 1))) (call $drop (i32.const 1))))
  (core instance $i (instantiate $m (with "" (instance (export "new" (func $new)) (export "drop" (func $drop))))))
  (func (export "twice") (canon lift (core func $i "twice"))))"""
    inst = worker.component(text)["ok"]["instance"]
    r = worker.call("invoke", instance=inst, field="twice", args=[])
    assert r["error"] == {"kind": "trap", "message": "unknown handle index 1"}


def test_async_lift_runs(worker):
    text = """(component
  (core module $m (func (export "one") (result i32) i32.const 1) (func (export "later")))
  (core instance $i (instantiate $m))
  (func (export "one") (result u32) (canon lift (core func $i "one")))
  (func (export "later") async (canon lift (core func $i "later") async)))"""
    inst = worker.component(text)["ok"]["instance"]
    assert worker.call("invoke", instance=inst, field="one", args=[])["ok"]["results"] == [u32(1)]
    r = worker.call("invoke", instance=inst, field="later", args=[])
    # issue 8: the stackful async lift runs; it exits without task.return
    assert r["error"] == {"kind": "trap",
                          "message": "wasm trap: async-lifted export failed to produce a result"}


CLI_COMPONENT = """(component
  (core module $m
    (memory (export "mem") 1)
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 64))
    (func (export "echo") (param i32 i32) (result i32)
      (i32.store (i32.const 0) (local.get 0))
      (i32.store (i32.const 4) (local.get 1))
      (i32.const 0))
    (func (export "id") (param i32) (result i32) (local.get 0))
    (func (export "idf") (param f32) (result f32) (local.get 0))
    (func (export "sum") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
    (func (export "opt") (param i32 i32) (result i32)
      (if (result i32) (local.get 0) (then (i32.add (local.get 1) (i32.const 1))) (else (i32.const 0)))))
  (core instance $i (instantiate $m))
  (type $e' (enum "a" "b" "c"))
  (export $e "e" (type $e'))
  (type $f' (flags "a" "b" "c"))
  (export $f "f" (type $f'))
  (type $r' (record (field "x" u32) (field "y" u32)))
  (export $r "r" (type $r'))
  (func (export "echo") (param "s" string) (result string)
    (canon lift (core func $i "echo") (memory $i "mem") (realloc (func $i "realloc"))))
  (func (export "id-s8") (param "x" s8) (result s8) (canon lift (core func $i "id")))
  (func (export "id-char") (param "x" char) (result char) (canon lift (core func $i "id")))
  (func (export "id-bool") (param "x" bool) (result bool) (canon lift (core func $i "id")))
  (func (export "id-enum") (param "x" $e) (result $e) (canon lift (core func $i "id")))
  (func (export "id-flags") (param "x" $f) (result $f) (canon lift (core func $i "id")))
  (func (export "id-f32") (param "x" f32) (result f32) (canon lift (core func $i "idf")))
  (func (export "sum") (param "r" $r) (result u32) (canon lift (core func $i "sum")))
  (func (export "opt") (param "o" (option u32)) (result u32) (canon lift (core func $i "opt"))))"""


@pytest.mark.parametrize("call,out", [
    ('echo("h\\u{e9}llo\\n")', '"h\u00e9llo\\n"'),
    ("id-s8(-5)", "-5"),
    ("id-char('\u2603')", "'\u2603'"),
    ("id-bool(true)", "true"),
    ("id-enum(b)", "b"),
    ("id-flags({a, c})", "{a, c}"),
    ("id-f32(1.5)", "1.5"),
    ("sum({x: 40, y: 2})", "42"),
    ("opt(some(4))", "5"),
    ("opt(none)", "0"),
])
def test_cli_run_component_wave(tmp_path, call, out):
    doc, files = convert_text(CLI_COMPONENT, "c.wast")
    (name, binary), = files.items()
    path = tmp_path / "c.wasm"
    path.write_bytes(binary)
    r = subprocess.run([str(CMREF), "run", str(path), "--invoke", call], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout == out + "\n"


def test_cli_run_component_errors(tmp_path):
    doc, files = convert_text(CLI_COMPONENT, "c.wast")
    (name, binary), = files.items()
    path = tmp_path / "c.wasm"
    path.write_bytes(binary)
    for call, msg in [("nope()", "no exported function `nope`"), ("id-s8(1000)", "in the range of s8"),
                      ("id-enum(d)", "expected a known case"), ("sum({y: 1, x: 2})", "expected")]:
        r = subprocess.run([str(CMREF), "run", str(path), "--invoke", call], capture_output=True,
                           text=True, timeout=30)
        assert r.returncode == 1 and msg in r.stderr, (call, r.stderr)
