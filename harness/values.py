"""Value comparison, as the spec interpreter does it.

Core values (json-from-wast): integers exact; floats bit-exact except that the expected
`nan:canonical` / `nan:arithmetic` match their classes; v128 lane by lane in the expected
lane type (so float lanes get the NaN classes too); references by null-ness and host value.

Component values (PROTOCOL.md's table): structural. f32/f64 NaNs match any NaN (the
canonical ABI canonicalises them), flags compare as sets, strings by code points, handles
(own/borrow) only by kind (their numbers are engine-specific).
"""
from __future__ import annotations

import json
from typing import Any

Value = dict[str, Any]

_FLOAT_BITS = {"f32": (32, 23), "f64": (64, 52)}
_LANES = {"i8": 8, "i16": 16, "i32": 32, "i64": 64, "f32": 32, "f64": 64}
_CORE = {"i32", "i64", "f32", "f64", "v128", "funcref", "externref", "anyref", "exnref"}


def is_nan(bits: int, kind: str) -> bool:
    width, mant = _FLOAT_BITS[kind]
    exp_mask = ((1 << (width - mant - 1)) - 1) << mant
    return bits & exp_mask == exp_mask and bits & ((1 << mant) - 1) != 0


def float_matches(expected: str, bits: int, kind: str) -> bool:
    width, mant = _FLOAT_BITS[kind]
    bits &= (1 << width) - 1
    quiet = 1 << (mant - 1)
    if expected == "nan:canonical":
        return is_nan(bits, kind) and bits & ((1 << mant) - 1) == quiet
    if expected == "nan:arithmetic":
        return is_nan(bits, kind) and bits & quiet != 0
    return bits == int(expected) & ((1 << width) - 1)


def _lanes(value: list[str], lane_type: str) -> list[int]:
    """v128 lanes (as unsigned ints) -> the 128-bit integer."""
    size = _LANES[lane_type]
    whole = 0
    for i, lane in enumerate(value):
        whole |= (int(lane) & ((1 << size) - 1)) << (i * size)
    return whole


def _split(whole: int, lane_type: str) -> list[int]:
    size = _LANES[lane_type]
    return [(whole >> (i * size)) & ((1 << size) - 1) for i in range(128 // size)]


def _v128_matches(expected: Value, actual: Value) -> bool:
    lane_type = expected["lane_type"]
    lanes = _split(_lanes(actual["value"], actual["lane_type"]), lane_type)
    for want, got in zip(expected["value"], lanes):
        if lane_type in _FLOAT_BITS:
            if not float_matches(want, got, lane_type):
                return False
        elif got != int(want) & ((1 << _LANES[lane_type]) - 1):
            return False
    return True


def core_matches(expected: Value, actual: Value) -> bool:
    kind = expected["type"]
    if actual.get("type") != kind:
        return False
    if kind in ("i32", "i64"):
        mask = (1 << (32 if kind == "i32" else 64)) - 1
        return int(actual["value"]) & mask == int(expected["value"]) & mask
    if kind in _FLOAT_BITS:
        return float_matches(expected["value"], int(actual["value"]), kind)
    if kind == "v128":
        return _v128_matches(expected, actual)
    # references: "null", a host value, or no value (any non-null reference)
    want = expected.get("value")
    got = actual.get("value")
    if want is None:
        return got != "null"
    return str(got) == str(want)


def component_matches(expected: Any, actual: Any, kind: str | None = None) -> bool:
    """Structural comparison of component values ({"type", "value"} at the top level)."""
    if isinstance(expected, dict) and "type" in expected and "value" in expected and kind is None:
        if not isinstance(actual, dict) or actual.get("type") != expected["type"]:
            return False
        return _component_value(expected["type"], expected["value"], actual.get("value"))
    return expected == actual


def _component_value(kind: str, want: Any, got: Any) -> bool:
    if kind in ("f32", "f64"):
        if isinstance(want, str) and want.startswith("nan"):
            return isinstance(got, str) and got.startswith("nan") or _any_nan(got, kind)
        if _any_nan(want, kind):
            return _any_nan(got, kind)
        return str(want) == str(got)
    if kind in ("s8", "u8", "s16", "u16", "s32", "u32", "s64", "u64"):
        try:
            return int(want) == int(got)
        except (TypeError, ValueError):
            return False
    if kind == "flags":
        return isinstance(got, list) and sorted(want) == sorted(got)
    if kind in ("own", "borrow"):
        return got is not None
    return _structural(want, got)


def _any_nan(v: Any, kind: str) -> bool:
    try:
        return is_nan(int(v), kind)
    except (TypeError, ValueError):
        return False


def _structural(want: Any, got: Any) -> bool:
    """Nested values: a {"type","value"} dict compares as a component value, else equality."""
    if isinstance(want, dict) and "type" in want and "value" in want:
        return isinstance(got, dict) and got.get("type") == want["type"] and \
            _component_value(want["type"], want["value"], got.get("value"))
    if isinstance(want, dict):
        return isinstance(got, dict) and want.keys() == got.keys() and \
            all(_structural(want[k], got[k]) for k in want)
    if isinstance(want, list):
        return isinstance(got, list) and len(want) == len(got) and \
            all(_structural(w, g) for w, g in zip(want, got))
    return want == got


def value_matches(expected: Value, actual: Value) -> bool:
    if expected.get("type") in _CORE:
        return core_matches(expected, actual)
    return component_matches(expected, actual)


def results_match(expected: list[Value], actual: list[Value]) -> bool:
    return len(expected) == len(actual) and all(
        value_matches(e, a) for e, a in zip(expected, actual))


def show(values: list[Value]) -> str:
    """Compact display: i32:42, f32:nan:canonical, v128 i32x4:[1 2 3 4], externref:null."""
    parts = []
    for v in values:
        kind = v.get("type")
        if kind == "v128":
            parts.append(f"v128 {v.get('lane_type')}:[{' '.join(map(str, v.get('value', [])))}]")
        elif kind in _CORE:
            parts.append(f"{kind}:{v.get('value', '<non-null>')}")
        else:
            parts.append(f"{kind}:{json.dumps(v.get('value'))}")
    return "(" + ", ".join(parts) + ")"
