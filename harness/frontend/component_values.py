"""Values of invoke/assert_return forms into json-from-wast values.

Two families, read as the `wast` crate reads them (a core form first, else a component
form):
- core values, exactly as wast2json writes them: `(i32.const -1)` ->
  {"type": "i32", "value": "4294967295"}; floats as the unsigned decimal of their bits;
  `nan:canonical` / `nan:arithmetic` in results; v128 with its lane type; references.
- component values, in the schema of harness/engines/PROTOCOL.md ("Component values"):
  `(u32.const 42)` -> {"type": "u32", "value": "42"}, `(s8.const -1)` -> "-1",
  records as [[name, value], ...], variants {"case", "payload"?}, options null | value,
  results {"Ok": v} / {"Err": v}, flags as a list of names.

Syntax follows the component-model suites (wast 258): list/tuple elements, and variant /
option / result payloads, are parenthesised values; a record field is
`(field "name" u32.const 1)` (the value's keyword inline, without parentheses).
"""
from __future__ import annotations

import re
from fractions import Fraction

from .splitter import Atom, SList, SplitError, Str

# ---------------------------------------------------------------------------------------
# Numbers

_INT_RE = re.compile(r"([+-]?)(0x[0-9a-fA-F](?:_?[0-9a-fA-F])*|[0-9](?:_?[0-9])*)\Z")


def parse_int(text: str, line: int) -> int:
    """A wast integer literal (sign, decimal or 0x hex, `_` separators) as a Python int."""
    m = _INT_RE.match(text)
    if not m:
        raise SplitError(line, f"invalid integer literal {text!r}")
    sign, digits = m.groups()
    digits = digits.replace("_", "")
    value = int(digits, 16) if digits.startswith("0x") else int(digits)
    return -value if sign == "-" else value


def int_in_range(text: str, bits: int, signed: bool, line: int) -> int:
    """An integer literal checked as the `wast` crate checks it (signed types also accept
    the unsigned range, reinterpreted); returns the value as the type holds it."""
    value = parse_int(text, line)
    lo = -(1 << (bits - 1)) if signed else 0
    hi = (1 << bits) - 1
    if (not signed and text.startswith("-")) or not lo <= value <= hi:
        raise SplitError(line, f"constant out of range: {text}")
    if signed and value >= 1 << (bits - 1):
        value -= 1 << bits
    return value


# IEEE 754 binary formats: (fraction bits, exponent bits)
FLOAT_FORMATS = {"f32": (23, 8), "f64": (52, 11)}

_DEC_FLOAT_RE = re.compile(
    r"([0-9](?:_?[0-9])*)(?:\.((?:[0-9](?:_?[0-9])*)?))?(?:[eE]([+-]?[0-9](?:_?[0-9])*))?\Z")
_HEX_FLOAT_RE = re.compile(
    r"0x([0-9a-fA-F](?:_?[0-9a-fA-F])*)(?:\.((?:[0-9a-fA-F](?:_?[0-9a-fA-F])*)?))?"
    r"(?:[pP]([+-]?[0-9](?:_?[0-9])*))?\Z")


def float_bits(text: str, fmt: str, line: int) -> int:
    """The bit pattern of a wast float literal (decimal, hex, inf, nan, nan:0x...), rounded
    to nearest, ties to even, as the `wast` crate does."""
    mbits, ebits = FLOAT_FORMATS[fmt]
    sign = 1 if text.startswith("-") else 0
    body = text[1:] if text[:1] in "+-" else text
    sign_bit = sign << (mbits + ebits)
    exp_all = ((1 << ebits) - 1) << mbits
    if body == "inf":
        return sign_bit | exp_all
    if body == "nan":
        return sign_bit | exp_all | (1 << (mbits - 1))
    if body.startswith("nan:0x"):
        payload = parse_int(body[4:], line)
        if not 0 < payload < (1 << mbits):
            raise SplitError(line, f"invalid NaN payload {text}")
        return sign_bit | exp_all | payload
    value = _float_literal_value(body, line)
    magnitude = _round_to_format(value, mbits, ebits)
    if magnitude is None:
        raise SplitError(line, f"constant out of range: {text}")
    return sign_bit | magnitude


def _float_literal_value(body: str, line: int) -> Fraction:
    m = _HEX_FLOAT_RE.match(body)
    if m:
        whole, frac, exp = (g.replace("_", "") if g else g for g in m.groups())
        frac = frac or ""
        mant = int(whole + frac, 16)
        power = (int(exp) if exp else 0) - 4 * len(frac)
        return Fraction(mant) * (Fraction(2) ** power)
    m = _DEC_FLOAT_RE.match(body)
    if m:
        whole, frac, exp = (g.replace("_", "") if g else g for g in m.groups())
        frac = frac or ""
        mant = int(whole + frac)
        power = (int(exp) if exp else 0) - len(frac)
        return Fraction(mant) * (Fraction(10) ** power)
    raise SplitError(line, f"invalid float literal {body!r}")


def _round_to_format(value: Fraction, mbits: int, ebits: int) -> int | None:
    """Bits (sign excluded) of the nearest float to value >= 0; None when it overflows."""
    if value == 0:
        return 0
    bias = (1 << (ebits - 1)) - 1
    exp = value.numerator.bit_length() - value.denominator.bit_length()
    if Fraction(2) ** exp > value:
        exp -= 1
    elif Fraction(2) ** (exp + 1) <= value:
        exp += 1
    exp = max(exp, 1 - bias)  # subnormals share the smallest exponent
    scaled = value * Fraction(2) ** (mbits - exp)
    mant = _round_half_even(scaled)
    if mant == 1 << (mbits + 1):
        mant >>= 1
        exp += 1
    if exp > bias:
        return None
    if mant < 1 << mbits:  # subnormal (or rounded to zero)
        return mant
    return ((exp + bias) << mbits) | (mant - (1 << mbits))


def _round_half_even(x: Fraction) -> int:
    floor = x.numerator // x.denominator
    rest = x - floor
    if rest > Fraction(1, 2) or (rest == Fraction(1, 2) and floor % 2 == 1):
        return floor + 1
    return floor


# ---------------------------------------------------------------------------------------
# Core values (wast2json's schema)

CORE_INT_BITS = {"i32": 32, "i64": 64}
V128_LANES = {"i8x16": (16, 8), "i16x8": (8, 16), "i32x4": (4, 32), "i64x2": (2, 64),
              "f32x4": (4, 32), "f64x2": (2, 64)}
REF_TYPES = {"func": "funcref", "extern": "externref", "funcref": "funcref",
             "externref": "externref", "exn": "exnref", "any": "anyref"}


def _atoms(node: SList, start: int) -> list[str]:
    out = []
    for item in node.items[start:]:
        if not isinstance(item, Atom):
            raise SplitError(node.line, f"expected a literal in ({node.keyword(0)} ...)")
        out.append(item.text)
    return out


def core_value(node: SList, result: bool) -> dict | None:
    """A core value form as wast2json writes it, or None when `node` is no core form."""
    head = node.keyword(0) or ""
    line = node.line
    if head in ("i32.const", "i64.const"):
        (lit,) = _exactly(node, 1)
        bits = CORE_INT_BITS[head[:3]]
        value = int_in_range(lit, bits, True, line) % (1 << bits)
        return {"type": head[:3], "value": str(value)}
    if head in ("f32.const", "f64.const"):
        (lit,) = _exactly(node, 1)
        if result and lit in ("nan:canonical", "nan:arithmetic"):
            return {"type": head[:3], "value": lit}
        return {"type": head[:3], "value": str(float_bits(lit, head[:3], line))}
    if head == "v128.const":
        return _v128(node, result)
    if head == "ref.null":
        (kind,) = _exactly(node, 1)
        return {"type": REF_TYPES.get(kind, kind + "ref"), "value": "null"}
    if head in ("ref.extern", "ref.host"):
        lits = _atoms(node, 1)
        if not lits and result:
            return {"type": "externref"}
        (lit,) = _exactly(node, 1)
        return {"type": "externref", "value": str(parse_int(lit, line))}
    if head == "ref.func" and result:
        return {"type": "funcref"}
    return None


def _exactly(node: SList, n: int) -> list[str]:
    lits = _atoms(node, 1)
    if len(lits) != n:
        raise SplitError(node.line, f"({node.keyword(0)} ...) takes {n} literal(s)")
    return lits


def _v128(node: SList, result: bool) -> dict:
    lits = _atoms(node, 1)
    if not lits or lits[0] not in V128_LANES:
        raise SplitError(node.line, "v128.const needs a lane shape")
    shape = lits[0]
    count, bits = V128_LANES[shape]
    lane = shape.split("x")[0]
    if len(lits) != count + 1:
        raise SplitError(node.line, f"v128.const {shape} takes {count} lanes")
    lanes = []
    for lit in lits[1:]:
        if shape[0] == "f":
            if result and lit in ("nan:canonical", "nan:arithmetic"):
                lanes.append(lit)
            else:
                lanes.append(str(float_bits(lit, lane, node.line)))
        else:
            lanes.append(str(int_in_range(lit, bits, True, node.line) % (1 << bits)))
    return {"type": "v128", "lane_type": lane, "value": lanes}


# ---------------------------------------------------------------------------------------
# Component values (PROTOCOL.md "Component values")

COMPONENT_INTS = {"u8": (8, False), "s8": (8, True), "u16": (16, False), "s16": (16, True),
                  "u32": (32, False), "s32": (32, True), "u64": (64, False),
                  "s64": (64, True)}


def value(node: SList, result: bool = False) -> dict:
    """A value form (core first, as the `wast` crate peeks) as a json-from-wast value."""
    if not isinstance(node, SList):
        raise SplitError(getattr(node, "line", 0), "expected a parenthesised value")
    core = core_value(node, result)
    if core is not None:
        return core
    head = node.keyword(0)
    if head is None:
        raise SplitError(node.line, "expected a [type].const expression")
    return component_value(head, node.items[1:], node.line)


def component_value(head: str, rest: list, line: int) -> dict:
    """A component value whose keyword is `head` and whose operands are `rest`."""
    reader = COMPONENT_FORMS.get(head)
    if reader is None:
        raise SplitError(line, f"unknown value form ({head} ...)")
    return reader(head, rest, line)


def _one_atom(rest: list, head: str, line: int) -> str:
    if len(rest) != 1 or not isinstance(rest[0], Atom):
        raise SplitError(line, f"({head} ...) takes one literal")
    return rest[0].text


def _one_string(rest: list, head: str, line: int) -> str:
    if len(rest) != 1 or not isinstance(rest[0], Str):
        raise SplitError(line, f"({head} ...) takes one string")
    return rest[0].text()


def _values(rest: list, head: str, line: int) -> list[dict]:
    out = []
    for item in rest:
        if not isinstance(item, SList):
            raise SplitError(line, f"({head} ...) takes parenthesised values")
        out.append(value(item))
    return out


def _payload(rest: list, head: str, line: int) -> dict | None:
    if not rest:
        return None
    if len(rest) != 1 or not isinstance(rest[0], SList):
        raise SplitError(line, f"({head} ...) takes one parenthesised payload")
    return value(rest[0])


def _bool(head, rest, line):
    lit = _one_atom(rest, head, line)
    if lit not in ("true", "false"):
        raise SplitError(line, f"expected true or false, found {lit!r}")
    return {"type": "bool", "value": lit == "true"}


def _int(head, rest, line):
    ty = head.split(".")[0]
    bits, signed = COMPONENT_INTS[ty]
    lit = _one_atom(rest, head, line)
    return {"type": ty, "value": str(int_in_range(lit, bits, signed, line))}


def _float(head, rest, line):
    ty = head.split(".")[0]
    lit = _one_atom(rest, head, line)
    if lit in ("nan:canonical", "nan:arithmetic"):
        return {"type": ty, "value": lit}
    return {"type": ty, "value": str(float_bits(lit, ty, line))}


def _char(head, rest, line):
    s = _one_string(rest, head, line)
    if len(s) != 1:
        raise SplitError(line, "empty string" if not s else "more than one character")
    return {"type": "char", "value": s}


def _str(head, rest, line):
    return {"type": "string", "value": _one_string(rest, head, line)}


def _list(head, rest, line):
    return {"type": "list", "value": _values(rest, head, line)}


def _tuple(head, rest, line):
    return {"type": "tuple", "value": _values(rest, head, line)}


def _record(head, rest, line):
    fields = []
    for item in rest:
        if not (isinstance(item, SList) and item.keyword(0) == "field" and len(item.items) >= 3
                and isinstance(item.items[1], Str) and isinstance(item.items[2], Atom)):
            raise SplitError(line, 'a record field is (field "name" type.const ...)')
        name = item.items[1].text()
        fields.append([name, component_value(item.items[2].text, item.items[3:], item.line)])
    return {"type": "record", "value": fields}


def _variant(head, rest, line):
    if not rest or not isinstance(rest[0], Str):
        raise SplitError(line, "(variant.const ...) needs a case name")
    out = {"case": rest[0].text()}
    payload = _payload(rest[1:], head, line)
    if payload is not None:
        out["payload"] = payload
    return {"type": "variant", "value": out}


def _enum(head, rest, line):
    return {"type": "enum", "value": _one_string(rest, head, line)}


def _option_none(head, rest, line):
    if rest:
        raise SplitError(line, "(option.none) takes nothing")
    return {"type": "option", "value": None}


def _option_some(head, rest, line):
    payload = _payload(rest, head, line)
    if payload is None:
        raise SplitError(line, "(option.some ...) needs a value")
    return {"type": "option", "value": payload}


def _result(head, rest, line):
    key = "Ok" if head == "result.ok" else "Err"
    return {"type": "result", "value": {key: _payload(rest, head, line)}}


def _flags(head, rest, line):
    names = []
    for item in rest:
        if not isinstance(item, Str):
            raise SplitError(line, "(flags.const ...) takes flag names as strings")
        names.append(item.text())
    return {"type": "flags", "value": names}


COMPONENT_FORMS = {
    "bool.const": _bool,
    **{f"{ty}.const": _int for ty in COMPONENT_INTS},
    "f32.const": _float, "f64.const": _float,
    "char.const": _char,
    "str.const": _str,
    "list.const": _list,
    "record.const": _record,
    "tuple.const": _tuple,
    "variant.const": _variant,
    "enum.const": _enum,
    "option.none": _option_none,
    "option.some": _option_some,
    "result.ok": _result, "result.err": _result,
    "flags.const": _flags,
}
