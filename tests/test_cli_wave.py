"""WAVE (interp/cli/wave.c) round trips for every value kind and bad input (issue 14).

Each case is a component function taking one value of the kind (its core function drops
the flat arguments); `cmref run --trace` prints the argument it received as WAVE, so the
text goes parse -> component value -> print, and the printed text must equal the (canonical)
input; printed again from the printed text it stays the same. Bad input must fail naming
the column."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from harness.frontend.component import convert_text

ROOT = Path(__file__).resolve().parents[1]
CMREF = ROOT / "build" / "cmref"

pytestmark = pytest.mark.skipif(not CMREF.exists(), reason="build/cmref is not built")

# (function, parameter type, core sink, canonical WAVE values)
CASES = [
    ("bool", "bool", "i1", ["true", "false"]),
    ("s8", "s8", "i1", ["-128", "127"]),
    ("u8", "u8", "i1", ["0", "255"]),
    ("s16", "s16", "i1", ["-32768"]),
    ("u16", "u16", "i1", ["65535"]),
    ("s32", "s32", "i1", ["-2147483648", "2147483647"]),
    ("u32", "u32", "i1", ["4294967295"]),
    ("s64", "s64", "j1", ["-9223372036854775808"]),
    ("u64", "u64", "j1", ["18446744073709551615"]),
    ("f32", "f32", "f1", ["1.5", "-0", "nan", "inf", "-inf", "3.4028235e+38", "1e-45", "0.1"]),
    ("f64", "f64", "d1", ["0.1", "-2.5e-300", "nan", "-inf", "1.7976931348623157e+308", "5e-324"]),
    ("char", "char", "i1", ["'x'", "'\u2603'", "'\\n'", "'\\''", "'\"'", "'\U0001F600'"]),
    ("string", "string", "i2", ['"hello"', '""', '"tab\\tquote\\" back\\\\ nl\\n cr\\r"',
                                 '"\u00e9\U0001F600"', '"\\u{1}"', "\"it's\""]),
    ("list", "(list u32)", "i2", ["[]", "[1, 2, 3]"]),
    ("list-string", "(list string)", "i2", ['["a", "b"]', '[""]']),
    ("record", "$rec", "i3", ['{a: 1, b: "x"}']),
    ("tuple", "(tuple u32 char string)", "i4", ["(1, 'c', \"s\")"]),
    ("variant", "$var", "i3", ["c(1)", 'd("x")', "e"]),
    ("enum", "$en", "i1", ["x", "z"]),
    ("option", "(option u32)", "i2", ["some(1)", "none"]),
    ("option-option", "(option (option string))", "i4", ['some(some("a"))', "some(none)", "none"]),
    ("result", "(result u32 (error string))", "i3", ["ok(1)", 'err("e")']),
    ("result-empty", "(result)", "i1", ["ok", "err"]),
    ("result-err", "(result (error string))", "i3", ["ok", 'err("bad")']),
    ("flags", "$fl", "i1", ["{}", "{a, c}", "{a, b, c}"]),
    ("list-record", "(list $rec)", "i2", ['[{a: 1, b: "x"}, {a: 2, b: ""}]']),
    ("nested", "(list (option (tuple u8 (list u8))))", "i2", ["[some((1, [2, 3])), none, some((0, []))]"]),
]

SINKS = {"i1": "i32", "i2": "i32 i32", "i3": "i32 i32 i32", "i4": "i32 i32 i32 i32",
         "j1": "i64", "f1": "f32", "d1": "f64"}


def component() -> str:
    sinks = "\n".join(f'    (func (export "{n}") (param {p}))' for n, p in SINKS.items())
    funcs = "\n".join(
        f'  (func (export "t-{name}") (param "x" {ty}) (canon lift (core func $i "{sink}")'
        f' (memory $i "mem") (realloc (func $i "realloc"))))' for name, ty, sink, _ in CASES)
    return f"""(component
  (core module $m
    (memory (export "mem") 1)
    (global $next (mut i32) (i32.const 64))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $r i32)
      (local.set $r (i32.and (i32.add (global.get $next) (i32.sub (local.get 2) (i32.const 1)))
                             (i32.sub (i32.const 0) (local.get 2))))
      (global.set $next (i32.add (local.get $r) (local.get 3)))
      (local.get $r))
{sinks})
  (core instance $i (instantiate $m))
  (type $rec' (record (field "a" u32) (field "b" string)))
  (export $rec "rec" (type $rec'))
  (type $var' (variant (case "c" u32) (case "d" string) (case "e")))
  (export $var "var" (type $var'))
  (type $en' (enum "x" "y" "z"))
  (export $en "en" (type $en'))
  (type $fl' (flags "a" "b" "c"))
  (export $fl "fl" (type $fl'))
{funcs})"""


@pytest.fixture(scope="module")
def comp(tmp_path_factory):
    doc, files = convert_text(component(), "wave.wast")
    (_, binary), = files.items()
    path = tmp_path_factory.mktemp("wave") / "wave.wasm"
    path.write_bytes(binary)
    return path


def traced(comp: Path, call: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(CMREF), "run", str(comp), "--trace", "--invoke", call],
                          capture_output=True, text=True, timeout=60)


def printed_arg(comp: Path, name: str, text: str) -> str:
    r = traced(comp, f"t-{name}({text})")
    assert r.returncode == 0, (text, r.stderr)
    first, second = r.stderr.splitlines()
    assert second == f"return t-{name}"
    prefix = f"call host -> t-{name}("
    assert first.startswith(prefix) and first.endswith(")"), first
    return first[len(prefix):-1]


@pytest.mark.parametrize("name,values", [(c[0], c[3]) for c in CASES], ids=[c[0] for c in CASES])
def test_wave_round_trip(comp, name, values):
    for text in values:
        out = printed_arg(comp, name, text)
        assert out == text
        assert printed_arg(comp, name, out) == out


@pytest.mark.parametrize("name,text,canonical", [
    ("u32", "  7 ", "7"),
    ("u8", "007", "7"),
    ("f64", "1.50", "1.5"),
    ("f32", "0.1000000001", "0.1"),
    ("record", '{ a : 1 , b : "x" , }', '{a: 1, b: "x"}'),
    ("list", "[1,2,]", "[1, 2]"),
    ("flags", "{ c, a }", "{a, c}"),  # printed in declaration order
    ("string", '"\\u{41}\\u{1F600}"', '"A\U0001F600"'),
    ("char", "'\\u{2603}'", "'\u2603'"),
])
def test_wave_accepts_non_canonical_text(comp, name, text, canonical):
    assert printed_arg(comp, name, text) == canonical


@pytest.mark.parametrize("call,message", [
    ('t-u32("x")', "invalid WAVE at column 7: expected an integer"),
    ("t-u32(+7)", "invalid WAVE at column 7: expected an integer"),
    ("t-u8(256)", "invalid WAVE at column 6: expected an integer in the range of u8"),
    ("t-s8(-129)", "invalid WAVE at column 6: expected an integer in the range of s8"),
    ("t-u64(-1)", "invalid WAVE at column 7: expected an integer in the range of u64"),
    ("t-u64(18446744073709551616)", "in the range of u64"),
    ("t-u32(1", "invalid WAVE at column 8: expected `)` ending the call"),
    ("t-u32(1) x", "invalid WAVE at column 10: expected `)` ending the call"),
    ("t-u32(1, 2)", "invalid WAVE at column 10: expected `)` ending the call"),
    ('t-string("abc)', "expected a closing quote"),
    ('t-string("\\q")', "expected a valid escape"),
    ("t-char('\\u{d800}')", "expected a valid \\u{...} escape"),
    ("t-record({a: 1})", "invalid WAVE at column 15: expected field `b`"),
    ('t-record({b: "x", a: 1})', "invalid WAVE at column 11: expected field `a`"),
    ("t-record({a 1})", "invalid WAVE at column 13: expected `:`"),
    ('t-record({a: 1 b: ""})', "invalid WAVE at column 16: expected `,` or `}`"),
    ('t-tuple((1, \'c\'))', "expected 3 tuple members"),
    ('t-tuple((1, \'c\', "s", 2))', "expected `)` after 3 members"),
    ("t-enum(w)", "invalid WAVE at column 8: expected a known case"),
    ("t-option(some 1)", "expected `(` and a payload"),
    ("t-result(fine(1))", "expected ok or err"),
    ("t-flags({a, d})", "expected flag names in `{...}`"),
    ("t-bool(1)", "invalid WAVE at column 8: expected true or false"),
    ("t-bool(yes)", "invalid WAVE at column 8: expected true or false"),
    ("t-list([1, 2)", "invalid WAVE at column 13: expected `,` or `]`"),
    ("t-variant(c)", "expected `(` and a payload"),
    ("t-nope(1)", "no exported function `t-nope`"),
])
def test_wave_bad_input_is_an_error(comp, call, message):
    r = traced(comp, call)
    assert r.returncode == 1
    assert message in r.stderr, r.stderr
    assert "call host" not in r.stderr  # refused before any call
