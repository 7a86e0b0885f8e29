"""The component front-end: hand-checked binaries, quote/definition/binary forms, every
directive arm, bad input, requirements/nyi, the cache, the encoder's restarts, and the
whole pinned component suites (counts, parse failures, time)."""
import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from harness.frontend import component
from harness.frontend.component import convert, convert_file, convert_text, is_component_wast
from harness.frontend.component_encoder import ENCODER_JS, EncodeError, Encoder

ROOT = Path(__file__).resolve().parents[1]
SUITES = Path(os.environ.get("CMREF_SUITES", ROOT.parent / "shared" / "suites"))

PREAMBLE = bytes([0x00, 0x61, 0x73, 0x6D, 0x0D, 0x00, 0x01, 0x00])  # Binary.md: magic version layer
CORE_PREAMBLE = bytes([0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00])


@pytest.fixture(scope="module")
def encoder():
    with Encoder() as enc:
        yield enc


def conv(text, encoder, name="t.wast"):
    return convert_text(text, name, encoder)


# -- hand-checked binaries (bytes read off ../shared/spec/Binary.md) -----------------------


def test_empty_component_is_the_preamble(encoder):
    assert encoder.encode("(component)") == PREAMBLE


def test_component_with_a_type_section(encoder):
    # section_7(vec(<type>)): id 7, size 3, one type; defvaltype (list u8) = 0x70 0x7d
    assert encoder.encode("(component (type (list u8)))") == PREAMBLE + bytes(
        [0x07, 0x03, 0x01, 0x70, 0x7D])


def test_component_with_a_core_module_section(encoder):
    # section_1(<core:module>): id 1, size 8, an empty core module
    assert encoder.encode("(component (core module))") == PREAMBLE + bytes([0x01, 0x08]) + \
        CORE_PREAMBLE


def test_core_module_text_encodes_as_core(encoder):
    # core type section: id 1, size 4, one functype (func) = 0x60 0 0; a function section
    # id 3 size 2 [type 0]; a code section id 10 size 4 [one body: size 2, 0 locals, end]
    assert encoder.encode("(module (func))") == CORE_PREAMBLE + bytes(
        [0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00,
         0x0A, 0x04, 0x01, 0x02, 0x00, 0x0B])


def test_parse_error_carries_message_and_position(encoder):
    err = encoder.encode("(component\n  (core module (func (i32.const 99999999999))))")
    assert isinstance(err, EncodeError) and not err.crash
    assert err.message == "invalid i32 number: constant out of range"
    assert (err.line, err.col) == (1, 32)  # 0-based, in the text sent


# -- forms --------------------------------------------------------------------------------


def binaries(doc, files):
    return [files[c["filename"]] for c in doc["commands"] if c.get("module_type") == "binary"]


def test_module_and_component_commands(encoder):
    doc, files = conv('(component $C (core module))\n(module)\n', encoder)
    c, m = doc["commands"]
    assert c == {"type": "module", "line": 1, "component": True, "name": "$C",
                 "filename": "t.0.wasm", "module_type": "binary"}
    assert m["component"] is False and files[m["filename"]] == CORE_PREAMBLE
    assert files["t.0.wasm"].startswith(PREAMBLE)


def test_definition_is_stripped_before_parsing(encoder):
    doc, files = conv("(component definition $D (core module))", encoder)
    (cmd,) = doc["commands"]
    assert cmd["type"] == "module_definition" and cmd["name"] == "$D" and cmd["component"]
    assert files[cmd["filename"]] == encoder.encode("(component $D (core module))")


def test_instances_and_register(encoder):
    doc, _ = conv('(component instance $i $D)\n(component instance $j)\n(register "r" $i)\n'
                  '(register "s")\n', encoder)
    assert doc["commands"] == [
        {"type": "module_instance", "line": 1, "component": True, "instance": "$i",
         "module": "$D"},
        {"type": "module_instance", "line": 2, "component": True, "instance": "$j"},
        {"type": "register", "line": 3, "as": "r", "name": "$i"},
        {"type": "register", "line": 4, "as": "s"},
    ]


def test_binary_forms_are_the_string_bytes(encoder):
    doc, files = conv('(component binary "\\00asm" "\\0d\\00\\01\\00")\n'
                      '(assert_malformed (component binary "\\00asm" "\\0d\\00") "x")\n',
                      encoder)
    ok, bad = doc["commands"]
    assert files[ok["filename"]] == PREAMBLE and ok["component"]
    assert bad == {"type": "assert_malformed", "line": 2, "text": "x", "component": True,
                   "filename": "t.1.wasm", "module_type": "binary"}
    assert files["t.1.wasm"] == b"\x00asm\x0d\x00"


def test_quote_forms_join_as_the_wast_crate():
    node = component.split('(component quote "(core module)" "(type (list u8))")')[0][0].node
    assert component._quote_text(node, True) == "(component(core module) (type (list u8)) )"
    node = component.split('(module quote "(func)" "(memory 1)")')[0][0].node
    assert component._quote_text(node, False) == "(func) (memory 1) "


def test_quote_forms_encode(encoder):
    doc, files = conv('(component quote "(type (list u8))")\n(module quote "(func)")\n', encoder)
    comp, mod = doc["commands"]
    assert files[comp["filename"]] == encoder.encode("(component (type (list u8)))")
    assert files[mod["filename"]] == encoder.encode("(module (func))")
    assert comp["component"] and not mod["component"]


def test_text_assert_malformed_rejected_by_the_parser_is_a_parse_verdict(encoder):
    text = '(assert_malformed\n  (component quote "(type (func (param \\"\\\\zz\\" u8)))")\n' \
           '  "invalid string escape")\n'
    doc, files = conv(text, encoder)
    (cmd,) = doc["commands"]
    assert cmd["type"] == "assert_malformed" and cmd["module_type"] == "text"
    assert cmd["parse_error"] == "invalid string escape 'z'"
    assert cmd["component"] is True and cmd["parse_error_at"] == "t.wast:2"  # the quote form's line
    assert files[cmd["filename"]].startswith(b"(component(type")


def test_text_assert_that_parses_goes_to_the_engine_as_binary(encoder):
    doc, files = conv('(assert_invalid (component (core module (func (i32.add)))) "type")\n'
                      '(assert_malformed (component quote "(core module)") "m")\n', encoder)
    inv, mal = doc["commands"]
    assert inv["module_type"] == mal["module_type"] == "binary"
    assert "parse_error" not in inv and "parse_error" not in mal


def test_parse_failure_elsewhere_is_an_error_with_file_line_and_the_rest_goes_on(encoder):
    text = ('(component)\n'
            '(component $bad\n'
            '  (core module (func (i32.const 99999999999))))\n'
            '(assert_invalid (component (type $t (func)) (type $t (func))) "dup")\n'
            '(assert_return (invoke "f"))\n')
    doc, _ = conv(text, encoder)
    ok, bad, inv, ret = doc["commands"]
    assert ok["module_type"] == "binary"
    assert bad == {"type": "module", "line": 2,
                   "parse_error": "invalid i32 number: constant out of range",
                   "parse_error_at": "t.wast:3:33"}
    assert inv["module_type"] == "text" and inv["parse_error"] == "duplicate type identifier"
    assert ret["type"] == "assert_return"


def test_bad_syntax_and_unknown_directives_are_error_commands(encoder):
    text = ('(component)\n'
            '(frob 1)\n'
            '(invoke "f" (u8.const 300))\n'
            '(component\n'
            '(invoke "g")\n')
    doc, _ = conv(text, encoder)
    kinds = [(c["type"], c["line"], "parse_error" in c) for c in doc["commands"]]
    assert kinds == [("module", 1, False), ("frob", 2, True), ("action", 3, True),
                     ("module", 4, True), ("action", 5, False)]
    assert "unknown directive" in doc["commands"][1]["parse_error"]
    assert "out of range" in doc["commands"][2]["parse_error"]
    assert "missing ')'" in doc["commands"][3]["parse_error"]


def test_actions_and_assertions(encoder):
    text = ('(invoke $i "f" (u32.const 1) (i32.const -1))\n'
            '(assert_return (invoke "g") (str.const "x") (option.none))\n'
            '(assert_trap (invoke $i "h") "unreachable")\n'
            '(assert_trap (component (core module (start 0) (func unreachable))) "boom")\n'
            '(assert_exhaustion (invoke "r") "stack")\n'
            '(assert_unlinkable (component (import "x" (func))) "missing")\n'
            '(assert_return (get $i "g1") (i32.const 1))\n')
    doc, files = conv(text, encoder)
    act, ret, trap, uninst, exh, unl, get = doc["commands"]
    assert act == {"type": "action", "line": 1, "action": {
        "type": "invoke", "module": "$i", "field": "f",
        "args": [{"type": "u32", "value": "1"}, {"type": "i32", "value": "4294967295"}]}}
    assert ret["expected"] == [{"type": "string", "value": "x"},
                               {"type": "option", "value": None}]
    assert ret["action"] == {"type": "invoke", "field": "g", "args": []}
    assert trap == {"type": "assert_trap", "line": 3, "text": "unreachable",
                    "action": {"type": "invoke", "module": "$i", "field": "h", "args": []}}
    assert uninst["type"] == "assert_uninstantiable" and uninst["text"] == "boom"
    assert uninst["component"] and uninst["filename"] in files
    assert exh["type"] == "assert_exhaustion" and exh["text"] == "stack"
    assert unl["type"] == "assert_unlinkable" and unl["module_type"] == "binary"
    assert get["action"] == {"type": "get", "module": "$i", "field": "g1"}


# -- choice of front-end, requirements, nyi ------------------------------------------------


def test_is_component_wast():
    assert is_component_wast("(component)")
    assert is_component_wast(';; x\n(module)\n(assert_return (invoke "f") (u32.const 1))')
    assert not is_component_wast('(module (func))\n(assert_return (invoke "f") (i32.const 1))')
    assert not is_component_wast(";; (component) only in a comment\n(module)")


def test_requirements_from_wasmtime_header_lines(encoder):
    doc, _ = conv(";;! component_model_async = true\n;;! multi_memory = true\n(component)\n",
                  encoder)
    assert doc["requirements"] == {"component_model_async": True, "multi_memory": True}
    doc, _ = conv("(component)\n", encoder)
    assert doc["requirements"] == {}


def test_nyi_listing(tmp_path, encoder):
    (tmp_path / "async").mkdir()
    (tmp_path / "nyi.txt").write_text("# See README.md\n./async/later.wast\n")
    later = tmp_path / "async" / "later.wast"
    now = tmp_path / "async" / "now.wast"
    later.write_text("(component)\n")
    now.write_text("(component)\n")
    doc, _ = convert(later, encoder, cache_dir=tmp_path / "cache")
    assert doc["nyi"] is True
    doc, _ = convert(now, encoder, cache_dir=tmp_path / "cache")
    assert doc["nyi"] is False


# -- cache, CLI --------------------------------------------------------------------------


def test_convert_caches_by_content(tmp_path, encoder):
    wast = tmp_path / "c.wast"
    wast.write_text('(component (core module))\n(assert_return (invoke "f"))\n')
    doc1, dir1 = convert(wast, encoder, cache_dir=tmp_path / "cache")
    assert (dir1 / "c.json").exists() and (dir1 / doc1["commands"][0]["filename"]).exists()
    mtime = (dir1 / "c.json").stat().st_mtime_ns
    doc2, dir2 = convert(wast, encoder, cache_dir=tmp_path / "cache")
    assert dir2 == dir1 and doc2 == doc1 and (dir1 / "c.json").stat().st_mtime_ns == mtime
    wast.write_text("(component)\n")
    _, dir3 = convert(wast, encoder, cache_dir=tmp_path / "cache")
    assert dir3 != dir1


def test_convert_cli(tmp_path):
    wast = tmp_path / "x.wast"
    wast.write_text('(component)\n(assert_malformed (component quote "(oops") "x")\n(frob)\n')
    proc = subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-m", "harness", "convert",
                           str(wast), "-o", str(tmp_path / "out")], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr  # (frob) is an error; the malformed is a verdict
    assert proc.stdout.strip() == str(tmp_path / "out" / "x.json")
    assert "x.wast:3: unknown directive" in proc.stderr.replace("frob: parse error: ", "")
    doc = json.loads((tmp_path / "out" / "x.json").read_text())
    assert [c["type"] for c in doc["commands"]] == ["module", "assert_malformed", "frob"]
    assert (tmp_path / "out" / "x.0.wasm").read_bytes() == PREAMBLE
    assert convert_file(wast, tmp_path / "out2", Encoder()).exists()


# -- the encoder process --------------------------------------------------------------------


def test_a_parser_panic_does_not_poison_later_parses():
    proc = subprocess.run(
        ["node", str(ENCODER_JS)], cwd=ROOT / "tools", capture_output=True, text=True,
        input='{"id": 1, "text": "(component)", "panic_for_test": true}\n'
              '{"id": 2, "text": "(component)"}\n', timeout=60)
    first, second = (json.loads(x) for x in proc.stdout.splitlines())
    assert "crash" in first and first["generation"] == 1
    assert second == {"id": 2, "wasm": "AGFzbQ0AAQA="}


def test_a_dead_encoder_process_is_restarted():
    enc = Encoder()
    assert enc.encode("(component)") == PREAMBLE
    enc.proc.kill()
    enc.proc.wait()
    assert enc.encode_many(["(component)", "(module)"]) == [PREAMBLE, CORE_PREAMBLE]
    assert enc.restarts == 1
    enc.close()


# -- the pinned suites -----------------------------------------------------------------------

SUITE_FILES = {"component-model": 63, "wasmtime-misc": 96}
SUITE_DIRECTIVES = {"component-model": 1425, "wasmtime-misc": 873}
_TOP = re.compile(r"^\((module|component|assert_[a-z_]+|invoke|register|thread|wait)\b", re.M)


def column0_count(text: str) -> int:
    """Independent count: directives start in column 0 in these suites (a line scan, not
    the splitter)."""
    return len(_TOP.findall(text))


@pytest.mark.skipif(not (SUITES / "component-model").is_dir(),
                    reason=f"pinned suites not found at {SUITES} (set CMREF_SUITES)")
def test_every_component_suite_file_converts(encoder):
    start = time.perf_counter()
    totals = {}
    failures = []
    for suite, nfiles in SUITE_FILES.items():
        paths = sorted((SUITES / suite).rglob("*.wast"))
        assert len(paths) == nfiles
        totals[suite] = 0
        for path in paths:
            text = path.read_text(encoding="utf-8")
            doc, files = convert_text(text, path.name, encoder)
            assert len(doc["commands"]) == column0_count(text), path
            totals[suite] += len(doc["commands"])
            for c in doc["commands"]:
                if "parse_error" in c:
                    failures.append((path.name, c["line"], c["type"], c.get("module_type")))
                if c.get("module_type") == "binary" and c["type"] != "assert_malformed":
                    assert files[c["filename"]][:4] == b"\x00asm"
    elapsed = time.perf_counter() - start
    assert totals == SUITE_DIRECTIVES
    # the only parse failures: text-form assert_malformed (the five quote forms)
    assert {f[2:] for f in failures} == {("assert_malformed", "text")}
    assert len(failures) == 5
    assert elapsed < 10, f"conversion of 159 files took {elapsed:.1f} s"


def test_quote_form_that_is_not_utf8(encoder):
    doc, files = conv('(assert_malformed (module quote "(func) \\ff") "malformed UTF-8")\n'
                      '(module quote "\\ff")\n', encoder)
    verdict, error = doc["commands"]
    assert verdict["module_type"] == "text" and verdict["parse_error"] == "malformed UTF-8 encoding"
    assert files[verdict["filename"]] == b"(func) \xff "
    assert error == {"type": "module", "line": 2, "parse_error": "malformed UTF-8 encoding",
                     "parse_error_at": "t.wast:2"}


def test_files_are_numbered_in_directive_order(encoder):
    doc, files = conv('(component)\n(component binary "\\00asm\\0d\\00\\01\\00")\n'
                      '(assert_malformed (component quote "(") "x")\n(frob)\n(module)\n', encoder)
    names = [c.get("filename") for c in doc["commands"]]
    assert names == ["t.0.wasm", "t.1.wasm", "t.2.wat", None, "t.3.wasm"]
    assert sorted(files) == ["t.0.wasm", "t.1.wasm", "t.2.wat", "t.3.wasm"]


def test_a_hanging_encoder_is_killed_and_reported(tmp_path):
    hang = tmp_path / "hang"
    hang.write_text("#!/bin/sh\nexec sleep 30\n")
    hang.chmod(0o755)
    enc = Encoder(node=str(hang), timeout=0.5)
    (err,) = enc.encode_many(["(component)"])
    assert isinstance(err, EncodeError) and err.crash and "no reply in 0.5 s" in err.message
    enc.close()


def test_a_dead_encoder_is_never_cached(tmp_path, encoder):
    dead = tmp_path / "dead"
    dead.write_text("#!/bin/sh\nexit 3\n")
    dead.chmod(0o755)
    wast = tmp_path / "c.wast"
    wast.write_text("(component)\n")
    broken = Encoder(node=str(dead))
    doc, tmp = convert(wast, broken, cache_dir=tmp_path / "cache")
    broken.close()
    cmd = doc["commands"][0]
    assert doc["encoder_faults"] == 1 and cmd["parse_error"] == "encoder process died"
    assert tmp.name.startswith(".tmp-")
    doc, out = convert(wast, encoder, cache_dir=tmp_path / "cache")
    assert "encoder_faults" not in doc and doc["commands"][0]["module_type"] == "binary"
    assert out != tmp and (out / "c.json").exists()

def test_convert_cli_several_files(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for d in ("a", "b"):
        (tmp_path / d / "same.wast").write_text("(component)\n")
    proc = subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-m", "harness", "convert",
                           str(tmp_path / "a" / "same.wast"), str(tmp_path / "b" / "same.wast"),
                           "-o", str(tmp_path / "out")], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [str(tmp_path / "out" / "same" / "same.json"),
                                   str(tmp_path / "out" / "same-2" / "same.json")]
