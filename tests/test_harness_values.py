from harness.values import core_matches, component_matches, float_matches, results_match


def test_float_classes():
    assert float_matches("nan:canonical", 0x7FC00000, "f32")
    assert float_matches("nan:canonical", 0xFFC00000, "f32")
    assert not float_matches("nan:canonical", 0x7FC00001, "f32")
    assert float_matches("nan:arithmetic", 0x7FC00001, "f32")
    assert not float_matches("nan:arithmetic", 0x7F800001, "f32")
    assert float_matches(str(0x7FF8000000000000), 0x7FF8000000000000, "f64")
    assert not float_matches(str(0x7FF8000000000001), 0x7FF8000000000000, "f64")
    assert not float_matches("0", 0x80000000, "f32")   # -0 is not +0: bit-exact


def test_integers_are_exact_and_width_masked():
    assert core_matches({"type": "i32", "value": "4294967295"}, {"type": "i32", "value": "-1"})
    assert not core_matches({"type": "i32", "value": "1"}, {"type": "i64", "value": "1"})
    assert not core_matches({"type": "i64", "value": "1"}, {"type": "i64", "value": "2"})


def test_v128_relanes():
    got = {"type": "v128", "lane_type": "i32", "value": ["1", "0", "4294967295", "0"]}
    assert core_matches({"type": "v128", "lane_type": "i64",
                         "value": ["1", "4294967295"]}, got)
    assert core_matches({"type": "v128", "lane_type": "i8",
                         "value": ["1"] + ["0"] * 7 + ["255"] * 4 + ["0"] * 4}, got)
    nan = {"type": "v128", "lane_type": "i32", "value": [str(0x7FC00000)] * 4}
    assert core_matches({"type": "v128", "lane_type": "f32",
                         "value": ["nan:canonical"] * 4}, nan)
    assert not core_matches({"type": "v128", "lane_type": "f32", "value": ["0"] * 4}, nan)


def test_references():
    assert core_matches({"type": "externref", "value": "null"}, {"type": "externref", "value": "null"})
    assert not core_matches({"type": "externref", "value": "1"}, {"type": "externref", "value": "2"})
    assert core_matches({"type": "funcref"}, {"type": "funcref", "value": "func"})
    assert not core_matches({"type": "funcref"}, {"type": "funcref", "value": "null"})


def test_result_arity():
    assert not results_match([], [{"type": "i32", "value": "0"}])
    assert results_match([], [])


def test_component_values():
    assert component_matches({"type": "flags", "value": ["a", "b"]}, {"type": "flags", "value": ["b", "a"]})
    assert component_matches({"type": "f32", "value": "nan:canonical"},
                             {"type": "f32", "value": str(0x7FC00001)})
    assert component_matches({"type": "s32", "value": "-1"}, {"type": "s32", "value": "-1"})
    assert not component_matches({"type": "u8", "value": "1"}, {"type": "u16", "value": "1"})
    rec = {"type": "record", "value": [["a", {"type": "u8", "value": "1"}]]}
    assert component_matches(rec, {"type": "record", "value": [["a", {"type": "u8", "value": "1"}]]})
    assert not component_matches(rec, {"type": "record", "value": [["a", {"type": "u8", "value": "2"}]]})
    assert component_matches({"type": "option", "value": None}, {"type": "option", "value": None})
    assert component_matches({"type": "string", "value": "héllo"}, {"type": "string", "value": "héllo"})
