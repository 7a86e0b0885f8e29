"""Every value kind of invoke / assert_return into json-from-wast values (PROTOCOL.md)."""
import struct

import pytest

from harness.frontend.component_values import float_bits, value
from harness.frontend.splitter import SplitError, split


def val(text, result=False):
    (d,), errors = split(f'(invoke "f" {text})')
    assert not errors
    return value(d.node.items[2], result=result)


def f32(x):
    return struct.unpack("<I", struct.pack("<f", x))[0]


def f64(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


@pytest.mark.parametrize("text, expected", [
    ("(bool.const true)", {"type": "bool", "value": True}),
    ("(bool.const false)", {"type": "bool", "value": False}),
    ("(u8.const 255)", {"type": "u8", "value": "255"}),
    ("(u8.const 0xff)", {"type": "u8", "value": "255"}),
    ("(s8.const -128)", {"type": "s8", "value": "-128"}),
    ("(s8.const 0xff)", {"type": "s8", "value": "-1"}),  # wast: signed also reads unsigned
    ("(u16.const 65_535)", {"type": "u16", "value": "65535"}),
    ("(s16.const -1)", {"type": "s16", "value": "-1"}),
    ("(u32.const 0x40)", {"type": "u32", "value": "64"}),
    ("(u32.const 4294967295)", {"type": "u32", "value": "4294967295"}),
    ("(s32.const -2147483648)", {"type": "s32", "value": "-2147483648"}),
    ("(s32.const +7)", {"type": "s32", "value": "7"}),
    ("(u64.const 18446744073709551615)", {"type": "u64", "value": "18446744073709551615"}),
    ("(s64.const -9223372036854775808)", {"type": "s64", "value": "-9223372036854775808"}),
    ('(char.const "A")', {"type": "char", "value": "A"}),
    ('(char.const "\\u{1F370}")', {"type": "char", "value": "\U0001F370"}),
    ('(str.const "")', {"type": "string", "value": ""}),
    ('(str.const "h\\c3\\b6\\u{2603}")', {"type": "string", "value": "h\u00f6\u2603"}),
    ("(list.const)", {"type": "list", "value": []}),
    ("(list.const (u8.const 1) (u8.const 2))",
     {"type": "list", "value": [{"type": "u8", "value": "1"}, {"type": "u8", "value": "2"}]}),
    ("(tuple.const (u32.const 10) (str.const \"x\"))",
     {"type": "tuple", "value": [{"type": "u32", "value": "10"},
                                 {"type": "string", "value": "x"}]}),
    ('(record.const (field "k" str.const "a") (field "v" u32.const 1))',
     {"type": "record", "value": [["k", {"type": "string", "value": "a"}],
                                  ["v", {"type": "u32", "value": "1"}]]}),
    ('(record.const (field "xs" list.const (u8.const 7)) (field "e" enum.const "b"))',
     {"type": "record", "value": [["xs", {"type": "list", "value": [{"type": "u8",
                                                                      "value": "7"}]}],
                                  ["e", {"type": "enum", "value": "b"}]]}),
    ("(record.const)", {"type": "record", "value": []}),
    ('(variant.const "none")', {"type": "variant", "value": {"case": "none"}}),
    ('(variant.const "b" (u8.const 7))',
     {"type": "variant", "value": {"case": "b", "payload": {"type": "u8", "value": "7"}}}),
    ('(enum.const "stream-write")', {"type": "enum", "value": "stream-write"}),
    ("(option.none)", {"type": "option", "value": None}),
    ("(option.some (u32.const 3))", {"type": "option", "value": {"type": "u32", "value": "3"}}),
    ("(option.some (option.none))",
     {"type": "option", "value": {"type": "option", "value": None}}),
    ("(result.ok)", {"type": "result", "value": {"Ok": None}}),
    ('(result.ok (str.const "y"))',
     {"type": "result", "value": {"Ok": {"type": "string", "value": "y"}}}),
    ("(result.err)", {"type": "result", "value": {"Err": None}}),
    ("(result.err (u32.const 1))",
     {"type": "result", "value": {"Err": {"type": "u32", "value": "1"}}}),
    ("(flags.const)", {"type": "flags", "value": []}),
    ('(flags.const "a" "c")', {"type": "flags", "value": ["a", "c"]}),
])
def test_component_values(text, expected):
    assert val(text) == expected


@pytest.mark.parametrize("text, expected", [
    # core forms, exactly as wast2json writes them
    ("(i32.const -1)", {"type": "i32", "value": "4294967295"}),
    ("(i32.const 0x8000_0000)", {"type": "i32", "value": "2147483648"}),
    ("(i64.const -1)", {"type": "i64", "value": "18446744073709551615"}),
    ("(f32.const 1.5)", {"type": "f32", "value": str(f32(1.5))}),
    ("(f32.const -0x1.8p1)", {"type": "f32", "value": str(f32(-3.0))}),
    ("(f32.const 0.1)", {"type": "f32", "value": str(f32(0.1))}),
    ("(f64.const 0.1)", {"type": "f64", "value": str(f64(0.1))}),
    ("(f64.const 1e308)", {"type": "f64", "value": str(f64(1e308))}),
    ("(f32.const inf)", {"type": "f32", "value": str(0x7F800000)}),
    ("(f32.const -inf)", {"type": "f32", "value": str(0xFF800000)}),
    ("(f32.const nan)", {"type": "f32", "value": str(0x7FC00000)}),
    ("(f32.const -nan:0x1)", {"type": "f32", "value": str(0xFF800001)}),
    ("(f64.const nan:0x8_0000_0000_0000)", {"type": "f64", "value": str(0x7FF8000000000000)}),
    ("(f64.const -0)", {"type": "f64", "value": str(1 << 63)}),
    ("(f32.const 0x1p-149)", {"type": "f32", "value": "1"}),  # smallest subnormal
    ("(f64.const 0x1p-1074)", {"type": "f64", "value": "1"}),
    ("(v128.const i32x4 1 -1 0 2)",
     {"type": "v128", "lane_type": "i32", "value": ["1", "4294967295", "0", "2"]}),
    ("(ref.null extern)", {"type": "externref", "value": "null"}),
    ("(ref.null func)", {"type": "funcref", "value": "null"}),
    ("(ref.extern 7)", {"type": "externref", "value": "7"}),
])
def test_core_values(text, expected):
    assert val(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("(f32.const nan:canonical)", {"type": "f32", "value": "nan:canonical"}),
    ("(f64.const nan:arithmetic)", {"type": "f64", "value": "nan:arithmetic"}),
    ("(v128.const f32x4 nan:canonical 1 2 3)",
     {"type": "v128", "lane_type": "f32",
      "value": ["nan:canonical", str(f32(1)), str(f32(2)), str(f32(3))]}),
    ("(ref.extern)", {"type": "externref"}),
    ("(ref.func)", {"type": "funcref"}),
])
def test_result_only_forms(text, expected):
    assert val(text, result=True) == expected
    with pytest.raises(SplitError):
        val(text, result=False)


def test_float_rounding_is_exact_round_half_even():
    # 1 + 2^-24 is halfway between two f32s: ties to even (1.0); a hair more rounds up
    assert float_bits("0x1.000001p0", "f32", 1) == 0x3F800000
    assert float_bits("0x1.0000010000000001p0", "f32", 1) == 0x3F800001
    assert float_bits("0x1.000003p0", "f32", 1) == 0x3F800002  # tie, odd below: up
    # a decimal that double rounding (via f64) would get wrong for f32
    assert float_bits("1.00000005960464477539062500000001", "f32", 1) == 0x3F800001
    assert float_bits("3.4028235e38", "f32", 1) == 0x7F7FFFFF
    assert float_bits("1.7976931348623157e308", "f64", 1) == 0x7FEFFFFFFFFFFFFF
    # rounding up across the subnormal / normal boundary
    assert float_bits("0x0.ffffffp-126", "f32", 1) == 0x00800000


@pytest.mark.parametrize("text, message", [
    ("(u8.const 256)", "out of range"),
    ("(u8.const -1)", "out of range"),
    ("(s8.const 256)", "out of range"),
    ("(s8.const -129)", "out of range"),
    ("(u64.const 18446744073709551616)", "out of range"),
    ("(i32.const 4294967296)", "out of range"),
    ("(u32.const 1.5)", "invalid integer"),
    ("(u32.const 1__0)", "invalid integer"),
    ("(f32.const 1e39)", "out of range"),
    ("(f32.const nan:0x800000)", "NaN payload"),
    ("(f64.const 1.2.3)", "invalid float"),
    ("(bool.const yes)", "true or false"),
    ('(char.const "")', "empty string"),
    ('(char.const "ab")', "more than one character"),
    ("(list.const u8.const 1)", "parenthesised"),
    ('(record.const (field "k" (u32.const 1)))', "record field"),
    ('(variant.const "b" u8.const 1)', "parenthesised payload"),
    ("(option.some)", "needs a value"),
    ("(flags.const a)", "strings"),
    ("(own.const 1)", "unknown value form"),
    ('(str.const "\\ff")', "malformed UTF-8"),
])
def test_bad_values(text, message):
    with pytest.raises(SplitError, match=message):
        val(text)
