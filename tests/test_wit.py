"""cmref's WIT front-end: C unit tests, `cmref wit` on bad input, the normalisation of
resolutions, and the wit-parser conformance suite (harness/wit_suite.py)."""
import copy
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from harness import wit_suite

ROOT = Path(__file__).resolve().parents[1]
CMREF = ROOT / "build" / "cmref"
UI = wit_suite.suite_root() / "ui"
needs_suite = pytest.mark.skipif(not UI.is_dir(), reason="wit-parser suite not found (CMREF_SUITES)")


def cmref_wit(*args, cwd=None, timeout=20):
    return subprocess.run([str(CMREF), "wit", *map(str, args)], capture_output=True, text=True,
                          errors="replace", cwd=cwd, timeout=timeout)


BAD_INPUTS = {
    "unterminated-comment.wit": (b"package a:b;\n/* open /* nested */\n", "unterminated block comment"),
    "unterminated-string.wit": (b"package a:b;\n@external-id(\"abc", "unexpected end of file"),
    "deep-types.wit": (b"package a:b;\ninterface i { type t = " + b"option<" * 20000 + b"u8"
                       + b">" * 20000 + b"; }\n", "type nesting too deep"),
    "deep-packages.wit": (b"package a:b;\n" + b"package a:b {" * 20000, "package nesting too deep"),
    "deep-comments.wit": (b"package a:b;\n" + b"/*" * 200000, "unterminated block comment"),
    "cyclic-use.wit": (b"package a:b;\ninterface a { use b.{x}; type y = u8; }\n"
                       b"interface b { use a.{y}; type x = u8; }\n", "depends on itself"),
    "cyclic-include.wit": (b"package a:b;\nworld a { include b; }\nworld b { include a; }\n",
                           "depends on itself"),
    "huge-identifier.wit": (b"package a:b;\ninterface i { type t = " + b"x" * 3_000_000 + b"; }\n",
                            "does not exist"),
    "not-utf8.wit": (b"package a:b;\ninterface \xff\xfe {}\n", "not valid utf-8"),
    "empty.wit": (b"", "no `package` header"),
    "nul.wit": (b"package a:b;\x00\n", "Control code"),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_is_a_clear_error(tmp_path, name):
    data, message = BAD_INPUTS[name]
    (tmp_path / name).write_bytes(data)
    done = cmref_wit(name, cwd=tmp_path, timeout=20)
    assert done.returncode == 1, (done.returncode, done.stderr[-2000:])
    assert message in done.stderr
    assert done.stdout == ""


def test_package_cycle_across_deps(tmp_path):
    (tmp_path / "deps" / "x").mkdir(parents=True)
    (tmp_path / "deps" / "y").mkdir()
    (tmp_path / "root.wit").write_text("package a:root;\ninterface i { use x:x/i.{}; }\n")
    (tmp_path / "deps" / "x" / "a.wit").write_text("package x:x;\ninterface i { use y:y/i.{}; }\n")
    (tmp_path / "deps" / "y" / "a.wit").write_text("package y:y;\ninterface i { use x:x/i.{}; }\n")
    done = cmref_wit(tmp_path)
    assert done.returncode == 1
    assert "creates a dependency cycle" in done.stderr


def test_deps_as_single_files(tmp_path):
    (tmp_path / "deps").mkdir()
    (tmp_path / "root.wit").write_text("package a:root;\nworld w { import x:x/i; }\n")
    (tmp_path / "deps" / "x.wit").write_text("package x:x;\ninterface i { f: func(); }\n")
    done = cmref_wit("--json", tmp_path)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert [p["name"] for p in doc["packages"]] == ["x:x", "a:root"]


# ---- normalisation ----

def permute_types(doc: dict, seed: int) -> dict:
    """The same Resolve with its type arena in another order (all references renumbered)."""
    n = len(doc["types"])
    order = list(range(n))
    random.Random(seed).shuffle(order)
    new_of = {old: new for new, old in enumerate(order)}

    def fix_type(t):
        return new_of[t] if isinstance(t, int) else t

    def walk_kind(k):
        if isinstance(k, str):
            return k
        (tag, v), = k.items()
        if tag in ("record",):
            return {tag: {"fields": [dict(f, type=fix_type(f["type"])) for f in v["fields"]]}}
        if tag == "variant":
            return {tag: {"cases": [dict(c, type=fix_type(c.get("type"))) for c in v["cases"]]}}
        if tag in ("flags", "enum"):
            return k
        if tag == "tuple":
            return {tag: {"types": [fix_type(x) for x in v["types"]]}}
        if tag == "handle":
            (h, r), = v.items()
            return {tag: {h: new_of[r]}}
        if tag == "result":
            return {tag: {"ok": fix_type(v["ok"]), "err": fix_type(v["err"])}}
        if tag in ("map",):
            return {tag: [fix_type(v[0]), fix_type(v[1])]}
        if tag == "fixed-length-list":
            return {tag: [fix_type(v[0]), v[1]]}
        return {tag: fix_type(v)}

    def fix_func(f):
        f = dict(f)
        if isinstance(f["kind"], dict):
            (tag, r), = f["kind"].items()
            f["kind"] = {tag: new_of[r]}
        f["params"] = [dict(p, type=fix_type(p["type"])) for p in f["params"]]
        if "result" in f:
            f["result"] = fix_type(f["result"])
        return f

    out = copy.deepcopy(doc)
    out["types"] = [dict(doc["types"][old], kind=walk_kind(doc["types"][old]["kind"])) for old in order]
    for i in out["interfaces"]:
        i["types"] = {k: new_of[v] for k, v in i["types"].items()}
        i["functions"] = {k: fix_func(f) for k, f in i["functions"].items()}
    for w in out["worlds"]:
        for side in ("imports", "exports"):
            for key, item in w[side].items():
                if "type" in item:
                    item["type"] = new_of[item["type"]]
                if "function" in item:
                    item["function"] = fix_func(item["function"])
    return out


@needs_suite
@pytest.mark.parametrize("name", ["resources.wit", "wasi.wit", "types.wit", "foreign-deps"])
def test_normalize_ignores_arena_order(name):
    doc = json.loads((UI / (name + ".json" if name.endswith(".wit") else name + ".wit.json")).read_text())
    assert doc != permute_types(doc, 1)
    assert wit_suite.normalize(doc) == wit_suite.normalize(permute_types(doc, 1))


@needs_suite
def test_normalize_sees_real_differences():
    doc = json.loads((UI / "resources.wit.json").read_text())
    base = wit_suite.normalize(doc)
    renamed = copy.deepcopy(doc)
    renamed["types"][0]["name"] = "zz"
    assert wit_suite.normalize(renamed) != base
    retyped = copy.deepcopy(doc)
    func = retyped["interfaces"][0]["functions"]["[constructor]c"]
    func["params"][0]["type"] = "u64"
    assert wit_suite.normalize(retyped) != base
    handle = copy.deepcopy(doc)
    handle["types"][7]["kind"] = {"handle": {"own": 3}}  # borrow<d> -> own<d>
    assert wit_suite.normalize(handle) != base
    assert wit_suite.first_difference(base, wit_suite.normalize(handle))


# ---- the suite ----

@needs_suite
def test_wit_parser_suite():
    results = {fr.relpath: fr.results[0] for fr in wit_suite.run_cases(timeout=20)}
    fail_cases = {k: r for k, r in results.items() if r.kind == "wit_parse_fail"}
    ok_cases = {k: r for k, r in results.items() if r.kind == "wit_resolve"}
    assert len(fail_cases) == 150 and len(ok_cases) == 74
    assert [k for k, r in fail_cases.items() if r.outcome != "pass"] == []
    assert [k for k, r in fail_cases.items() if not r.message_match] == []
    # every success case, the packages given as wasm (text encoded by the harness, then
    # decoded by cmref) included
    assert sorted(k for k, r in ok_cases.items() if r.outcome != "pass") == []


@needs_suite
def test_harness_run_records_wit_parser(tmp_path):
    db = tmp_path / "r.sqlite"
    summary = tmp_path / "s.json"
    done = subprocess.run([sys.executable, "-m", "harness", "run", "--engine", "ref", "--suite",
                           "wit-parser", "--db", str(db), "--summary-json", str(summary), "--quiet"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    doc = json.loads(summary.read_text())
    s = doc["suites"]["wit-parser"]
    assert s["directives"] == 224
    assert {k: v for k, v in s["outcomes"].items() if v} == {"pass": 224}, s["outcomes"]
    assert doc["message_match"] == {"matched": 150, "mismatched": 0}
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    import sqlite3
    rows = sqlite3.connect(db).execute("SELECT outcome, count(*) FROM directives GROUP BY 1").fetchall()
    assert dict(rows) == {"pass": 224}


@needs_suite
def test_mutated_suite_files_never_crash(tmp_path):
    """A small deterministic fuzz: byte-level mutations of suite files end in 0 or 1."""
    rng = random.Random(13)
    files = sorted(p for p in UI.glob("*.wit"))
    for i in range(60):
        data = bytearray(rng.choice(files).read_bytes())
        for _ in range(rng.randint(1, 8)):
            op = rng.randrange(3)
            pos = rng.randrange(len(data) + 1)
            if op == 0 and data:
                del data[pos % len(data)]
            elif op == 1:
                data[pos:pos] = bytes([rng.choice(b"{}<>();:,.@/-*\"%\n\xff\x00azAZ09")])
            elif data:
                data[pos % len(data)] = rng.randrange(256)
        (tmp_path / f"m{i}.wit").write_bytes(bytes(data))
        done = cmref_wit("--json", f"m{i}.wit", cwd=tmp_path, timeout=20)
        assert done.returncode in (0, 1), (i, done.returncode, done.stderr[-1000:])
        if done.returncode == 1:
            assert done.stderr.strip()
        else:
            json.loads(done.stdout)


# ---- printing WIT ----

@needs_suite
def test_print_round_trips_every_success_case(tmp_path):
    """`cmref wit PATH` prints the Resolve as WIT; parsing that text back gives the same
    Resolve (after normalisation, key order aside), and printing it again the same text."""
    wit_suite.scratch_ui(tmp_path)
    checked = 0
    for case in wit_suite.find_cases(UI):
        if case.fail:
            continue
        path = f"tests/ui/{case.rel}"
        first = cmref_wit("--features", "active", "--json", path, cwd=tmp_path)
        assert first.returncode == 0, (case.rel, first.stderr)
        text = cmref_wit("--features", "active", path, cwd=tmp_path)
        assert text.returncode == 0, (case.rel, text.stderr)
        (tmp_path / "printed.wit").write_text(text.stdout)
        again = cmref_wit("--features", "active", "--json", "printed.wit", cwd=tmp_path)
        assert again.returncode == 0, (case.rel, again.stderr, text.stdout)
        diff = wit_suite.first_difference(wit_suite.normalize(json.loads(first.stdout)),
                                          wit_suite.normalize(json.loads(again.stdout)),
                                          ordered=False)
        assert diff is None, (case.rel, diff)
        reprinted = cmref_wit("--features", "active", "printed.wit", cwd=tmp_path)
        assert reprinted.stdout == cmref_wit("--features", "active", "printed.wit",
                                             cwd=tmp_path).stdout
        checked += 1
    assert checked == 74


def test_print_layout(tmp_path):
    src = ("package a:b@1.0.0;\n"
           "/// docs\ninterface i {\n  use j.{t as u};\n  @since(version = 1.0.0)\n"
           "  resource r { constructor(); m: func() -> list<u>; s: static async func(); }\n"
           "  f: func(%type: option<r>) -> result<_, string>;\n}\n"
           "interface j { type t = u8; enum e { a, b } }\n"
           "world w { import i; export run: func(); }\n")
    (tmp_path / "x.wit").write_text(src)
    done = cmref_wit("x.wit", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        "package a:b@1.0.0;\n\n"
        "interface j {\n  type t = u8;\n\n  enum e {\n    a,\n    b,\n  }\n}\n\n"
        "/// docs\ninterface i {\n  use j.{t as u};\n\n  @since(version = 1.0.0)\n"
        "  resource r {\n    constructor();\n    m: func() -> list<u>;\n"
        "    s: static async func();\n  }\n\n"
        "  f: func(%type: option<r>) -> result<_, string>;\n}\n\n"
        "world w {\n  import j;\n  import i;\n\n  export run: func();\n}\n")


# ---- a component's type as WIT, checked against jco's componentWit ----

COMPONENTS = r"""
(component
  (import "wasi:io/streams@0.2.0" (instance
    (export "input-stream" (type (sub resource)))
    (export "error" (type (sub resource)))))
  (import "f" (func (param "x" u32) (param "s" string) (result (list u8))))
  (import "r" (type $r (sub resource)))
  (import "[constructor]r" (func (result (own $r))))
  (import "[method]r.get" (func (param "self" (borrow $r)) (result u64)))
  (import "host" (instance
    (type $e (enum "a" "b"))
    (export "e" (type (eq $e)))
    (type $rec (record (field "x" u8) (field "y" (option string))))
    (export "rec" (type $rec'' (eq $rec)))
    (export "get" (func (result $rec'')))))
)
(component
  (type $t (tuple u8 (result string (error u32)) (list (tuple char bool))))
  (import "g" (func (param "t" $t) (result (option (list $t)))))
  (import "h" (func async (param "a" (stream u8)) (result (future))))
)
(component
  (import "a" (external-id "ext/1") (func))
  (import "i" (external-id "☃!") (instance (export "f" (func))))
  (export "e" (external-id "") (func 0))
)
(component
  (import "T1" (type $T1 (sub resource)))
  (import "T2" (type $T2 (eq $T1)))
  (import "T3" (type $T3 (eq $T2)))
)
"""


def test_component_wit_matches_jco(tmp_path):
    from harness.frontend.component import convert_text
    from harness import wit_components
    bodies = ["(component" + b for b in COMPONENTS.strip()[len("(component"):].split("\n(component")]
    files = []
    for i, body in enumerate(bodies):
        doc, bins = convert_text(body + "\n", f"c{i}.wast")
        assert len(bins) == 1, doc
        (name, data), = bins.items()
        path = tmp_path / f"c{i}.wasm"
        path.write_bytes(data)
        files.append(path)
    res = wit_components.compare(files)
    assert "resource r {" in res["rows"][0]["cmref"]["wit"]
    assert '@external-id("\\u{2603}\\u{21}")' in res["rows"][2]["cmref"]["wit"]
    assert "type T3 = T2;" in res["rows"][3]["cmref"]["wit"]
    assert res["counts"] == {"agree": len(files)}, [
        (r["file"], r["jco"], r["cmref"]) for r in res["rows"] if r["outcome"] != "agree"]


# ---- --encode: a WIT package as a component type binary ----

@needs_suite
def test_encode_round_trip():
    """`cmref wit --encode` on every success case (harness/wit_encode.py): decode + print
    gives the printed main package back (docs and gates travel in the package-docs
    section), except where wit-component's encoding itself cannot carry the package: an
    empty main package (no export: read back as `root:component`, as wit-parser reads it)
    and `record r {}` (a record with no field: the binary is invalid, as wasm-tools' is).
    jco's componentWit (0.14) reads the empty-package binaries as cmref does, refuses the
    empty-record ones with cmref's message, and cannot read any other WIT package binary
    (its wrapper panics "Unexpected wit package")."""
    from harness import wit_encode
    res = wit_encode.run()
    assert res["cases"] == 74
    assert [(r["case"], r["outcome"], r["expected"]) for r in res["rows"]
            if r["outcome"] != r["expected"]] == []
    assert res["counts"] == {"round-trip": 59, "empty-package": 11, "empty-record": 4}
    assert res["jco_counts"] == {"agree": 11, "same-rejection": 4, "cannot-read-packages": 59}
    by_case = {r["case"]: r for r in res["rows"]}
    assert by_case["use.wit"]["outcome"] == "round-trip"  # names of one primitive type
    assert by_case["resources.wit"]["outcome"] == "round-trip"  # borrow<a> vs borrow<t1>
    assert by_case["kinds-of-deps"]["outcome"] == "round-trip"  # wasm (text, binary) deps


def test_encode_many_types_round_trip(tmp_path):
    """Type indexes 64..127 in a valtype take two bytes (an s33): with one byte they would
    read as negative, i.e. as no valid type. 70 types in one interface cross that range."""
    types = "".join(f"  record r{i} {{ f: u{8 << (i % 4)}{f', p: r{i - 1}' if i else ''} }}\n"
                    for i in range(70))
    src = ("package a:many;\n\ninterface i {\n" + types +
           "  f: func(a: r40, b: list<r50>) -> option<r60>;\n}\n")
    (tmp_path / "m.wit").write_text(src)
    printed = cmref_wit("m.wit", cwd=tmp_path)
    assert printed.returncode == 0, printed.stderr
    enc = cmref_wit("--encode", "m.wit", "-o", "m.wasm", cwd=tmp_path)
    assert enc.returncode == 0, enc.stderr
    valid = subprocess.run([str(CMREF), "validate", "m.wasm"], cwd=tmp_path, capture_output=True, text=True)
    assert valid.returncode == 0, valid.stdout + valid.stderr
    back = cmref_wit("m.wasm", cwd=tmp_path)
    assert back.returncode == 0, back.stderr
    assert back.stdout.rstrip() == printed.stdout.rstrip()


ALIAS_CHAINS = {  # shapes of wit-component's tests/interfaces resources.wit and wasi-http
    "res.wit": "package a:res;\n\ninterface foo {\n  resource bar;\n  type t = bar;\n}\n\n"
               "interface baz {\n  use foo.{bar, t};\n  f: func(x: t) -> bar;\n}\n\n"
               "interface qux {\n  use baz.{bar};\n}\n",
    "http.wit": "package a:http;\n\ninterface error {\n  resource error;\n}\n\n"
                "interface poll {\n  resource pollable;\n}\n\n"
                "interface streams {\n  use error.{error};\n  use poll.{pollable};\n\n"
                "  resource input-stream;\n}\n\n"
                "interface types {\n  use streams.{input-stream};\n  use error.{error as io-error};\n"
                "  use poll.{pollable};\n\n  resource fields;\n  type headers = fields;\n"
                "  type trailers = fields;\n}\n",
}


@pytest.mark.parametrize("name", sorted(ALIAS_CHAINS))
def test_encode_keeps_resource_alias_chains(tmp_path, name):
    """A resource named again (`type t = bar`, `use x.{r}` re-exported) decodes to the name
    it was taken from, not to the last name of the same resource: decoding follows the
    alias chain one step at a time, as wit-parser's find_alias does."""
    (tmp_path / name).write_text(ALIAS_CHAINS[name])
    printed = cmref_wit(name, cwd=tmp_path)
    assert printed.returncode == 0, printed.stderr
    enc = cmref_wit("--encode", name, "-o", "o.wasm", cwd=tmp_path)
    assert enc.returncode == 0, enc.stderr
    back = cmref_wit("o.wasm", cwd=tmp_path)
    assert back.returncode == 0, back.stderr
    assert back.stdout.rstrip() == printed.stdout.rstrip()


def test_wasm_deps_share_a_foreign_package(tmp_path):
    """Two wasm-encoded deps that both use x:x: the second decode merges into the package
    the first brought (Resolve::merge), so x:x is one package."""
    src, main = tmp_path / "src", tmp_path / "main"
    (main / "deps").mkdir(parents=True)
    src.mkdir()
    for name, body in (("one", "a { use x:x/i.{t}; f: func() -> t; }"),
                       ("two", "b { use x:x/i.{t}; g: func(v: t); }")):
        (src / f"{name}.wit").write_text(
            f"package p:{name};\ninterface {body}\npackage x:x {{ interface i {{ type t = u32; }} }}\n")
        done = cmref_wit("--encode", src / f"{name}.wit", "-o", main / "deps" / f"{name}.wasm")
        assert done.returncode == 0, done.stderr
    (main / "m.wit").write_text("package m:m;\nworld w { import p:one/a; import p:two/b; }\n")
    done = cmref_wit("--json", main)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert [p["name"] for p in doc["packages"]] == ["x:x", "p:one", "p:two", "m:m"]
    assert len(doc["interfaces"]) == 3


@pytest.mark.parametrize("data, message", [
    (b"\0asm\x0d\x00\x01\x00", "found an actual component instead of an encoded WIT package in wasm"),
    (b"\0asm\x0d\x00\x01\x00\x07\xff", "failed to decode WIT package in wasm"),
    (b"(component)", "must be encoded to binary first"),
])
def test_wasm_dep_that_is_no_package(tmp_path, data, message):
    """deps/ files that are wasm but no WIT package: a clear error naming the file."""
    (tmp_path / "deps").mkdir()
    (tmp_path / "deps" / "c.wasm").write_bytes(data)
    (tmp_path / "m.wit").write_text("package m:m;\nworld w {}\n")
    done = cmref_wit(tmp_path)
    assert done.returncode == 1, done.stdout
    assert message in done.stderr and "c.wasm" in done.stderr, done.stderr
