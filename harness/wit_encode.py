"""`cmref wit --encode` checked on every success case of the wit-parser suite: the
resolved main package is encoded as a component type binary (wit-component's WIT package
encoding), then read back by cmref (decode + print) and by jco's componentWit.

    python -m harness.wit_encode [--json FILE] [--jco PACKAGE]
    python -m harness.wit_encode --upstream WASM_TOOLS/crates/wit-component/tests/interfaces

Each case ends in one outcome (`expected` says which one its input calls for):

- `round-trip`: cmref's print of the binary equals its print of the input's main package
  (trailing blank lines aside).
- `empty-package`: the main package has no interface and no world. wit-component's
  encoding of it has no export at all, so wit-parser's decoder (and cmref's, which mirrors
  it) reads the binary as a component: `package root:component; world root {}`. The
  package name is nowhere in the binary (the package-docs section carries docs and gates
  only), so no reader can get it back. cmref must print exactly that component world.
- `empty-record`: the main package has a `record r {}`. wit-component encodes it as a
  record type with no field, which Binary.md's validation refuses (a record has one field
  or more): wasmparser and cmref both refuse the binary with "record type must have at
  least one field".
- `differ`, `error`: a failure (the printout differs, or a step failed unexpectedly).

jco: every binary is also given to jco's componentWit (npm @bytecodealliance/jco-transpile
pinned in tools/, or --jco jco-transpile-engine for 0.15). Where jco reads a binary, its
WIT must equal cmref's after whitespace normalisation (`jco: agree`); where it refuses
one, cmref must refuse it with the same message (`jco: same-rejection`). jco 0.14 and 0.15
cannot read a WIT package binary at all: their componentWit wrapper panics with
"Unexpected wit package" (crates/wasm-tools-component/src/lib.rs:64; it handles only a
decoded component), recorded as `jco: cannot-read-packages` with the panic text.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import wit_components, wit_suite

EMPTY_WORLD = "package root:component;\n\nworld root {\n}\n"
EMPTY_RECORD_ERROR = "record type must have at least one field"


def cmref_wit(*args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(wit_suite.cmref_binary()), "wit", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, errors="replace", timeout=60)


def main_package(printed: str) -> str:
    """The main package of `cmref wit PATH`'s printout (the others follow, nested)."""
    return printed.split("\npackage ")[0].rstrip() + "\n"


def expected_outcome(main: str) -> str:
    if not re.search(r"^(interface|world) ", main, re.M):
        return "empty-package"
    if re.search(r"\brecord \S+ \{\s*\}", main):
        return "empty-record"
    return "round-trip"


def encode_case(case: wit_suite.Case, scratch: Path, out: Path) -> dict:
    path = f"tests/ui/{case.rel}"
    row = {"case": case.rel, "binary": str(out)}
    printed = cmref_wit("--features", "active", path, cwd=scratch)
    if printed.returncode != 0:
        return dict(row, outcome="error", expected=None, why="print: " + printed.stderr[-500:])
    main = main_package(printed.stdout)
    row["expected"] = expected_outcome(main)
    enc = cmref_wit("--features", "active", "--encode", path, "-o", out, cwd=scratch)
    if enc.returncode != 0:
        return dict(row, outcome="error", why="encode: " + enc.stderr[-500:])
    back = cmref_wit(out, cwd=scratch)
    row["cmref"] = {"wit": back.stdout} if back.returncode == 0 else {"error": back.stderr.strip()[:500]}
    got = back.stdout.rstrip() + "\n"  # trailing blank lines aside
    if back.returncode == 0 and got == main:
        row["outcome"] = "round-trip"
    elif back.returncode == 0 and got == EMPTY_WORLD and row["expected"] == "empty-package":
        row["outcome"] = "empty-package"
    elif back.returncode != 0 and EMPTY_RECORD_ERROR in back.stderr:
        row["outcome"] = "empty-record"
    else:
        row["outcome"] = "differ" if back.returncode == 0 else "error"
        row["want"] = main
    return row


def jco_outcome(row: dict, jco: dict) -> str:
    if "wit" in jco:
        mine = row.get("cmref", {}).get("wit")
        same = mine is not None and wit_components.normalise(mine) == wit_components.normalise(jco["wit"])
        return "agree" if same else "differ"
    if jco.get("trap") and "Unexpected wit package" in jco.get("panic", ""):
        return "cannot-read-packages"
    mine = row.get("cmref", {}).get("error", "")
    if not jco.get("trap") and EMPTY_RECORD_ERROR in jco["error"] and EMPTY_RECORD_ERROR in mine:
        return "same-rejection"
    return "jco-error"


def run(jco_package: str | None = None) -> dict:
    rows = []
    with tempfile.TemporaryDirectory(prefix="cmref-wit-encode-") as tmp:
        scratch = Path(tmp)
        wit_suite.scratch_ui(scratch)
        for i, case in enumerate(c for c in wit_suite.find_cases(wit_suite.suite_root() / "ui") if not c.fail):
            rows.append(encode_case(case, scratch, scratch / f"case{i}.wasm"))
        binaries = [Path(r["binary"]) for r in rows if Path(r["binary"]).exists()]
        jco = wit_components.jco_wit(binaries, jco_package) if binaries else {}
    for r in rows:
        j = jco.get(r["binary"])
        r["jco"] = j
        r["jco_outcome"] = jco_outcome(r, j) if j else "not-encoded"
    counts: dict[str, int] = {}
    jco_counts: dict[str, int] = {}
    for r in rows:
        counts[r["outcome"]] = counts.get(r["outcome"], 0) + 1
        jco_counts[r["jco_outcome"]] = jco_counts.get(r["jco_outcome"], 0) + 1
    return {"cases": len(rows), "counts": counts, "jco_counts": jco_counts, "rows": rows}



# ---- wit-component's own tests (crates/wit-component/tests/interfaces), when given ----

def _leb(b: bytes, p: int) -> tuple[int, int]:
    v = shift = 0
    while True:
        c = b[p]
        p += 1
        v |= (c & 0x7f) << shift
        shift += 7
        if not c & 0x80:
            return v, p


def _sections(data: bytes) -> tuple[list, dict]:
    """A component binary's top-level sections: [(id, body)] and {custom name: body}."""
    p, out, customs = 8, [], {}
    while p < len(data):
        sid = data[p]
        n, p = _leb(data, p + 1)
        body, p = data[p:p + n], p + n
        if sid == 0:
            nl, q = _leb(body, 0)
            customs[body[q:q + nl].decode(errors="replace")] = body[q + nl:]
        else:
            out.append((sid, body))
    return out, customs


def upstream(folder: Path) -> dict:
    """wit-component's interface tests: each X.wit (or folder X/) with its expected
    encoding X.wat and expected print of the decoded package (X.wit.print, or
    X/<pkg>.wit.print). cmref's encoding must equal X.wat encoded to binary (every section
    but the producers one, package-docs included); its decode + print of that binary must
    equal the .wit.print."""
    from harness.frontend.component import shared_encoder
    rows = []
    with tempfile.TemporaryDirectory(prefix="cmref-wit-upstream-") as tmp:
        tmp = Path(tmp)
        for wat in sorted(folder.glob("*.wat")):
            src = folder / (wat.stem + ".wit")
            src = src if src.exists() else folder / wat.stem
            prints = [src.with_suffix(".wit.print")] if src.is_file() else sorted(src.glob("*.wit.print"))
            if not src.exists() or not prints or not prints[0].exists():
                continue
            row = {"case": wat.stem}
            want = shared_encoder().encode(wat.read_text())
            if not isinstance(want, bytes):
                rows.append(dict(row, encoding="no-reference", why=want.message[:200]))
                continue
            (tmp / "want.wasm").write_bytes(want)
            enc = cmref_wit("--encode", src, "-o", tmp / "got.wasm", cwd=tmp)  # no features, as upstream
            if enc.returncode != 0:
                rows.append(dict(row, encoding="error", why=enc.stderr[-300:]))
                continue
            got_s, got_c = _sections((tmp / "got.wasm").read_bytes())
            want_s, want_c = _sections(want)
            same = got_s == want_s and got_c.get("package-docs") == want_c.get("package-docs")
            row["encoding"] = "identical" if same else "differ"
            back = cmref_wit(tmp / "want.wasm", cwd=tmp)
            row["print"] = "equal" if back.returncode == 0 and back.stdout == prints[0].read_text() else "differ"
            rows.append(row)
    counts: dict[str, int] = {}
    for r in rows:
        for k in ("encoding", "print"):
            if k in r:
                key = f"{k}: {r[k]}"
                counts[key] = counts.get(key, 0) + 1
    return {"cases": len(rows), "counts": counts, "rows": rows}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m harness.wit_encode", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", help="write every row as JSON")
    ap.add_argument("--jco", help="the npm package of jco-transpile to ask (default: the pinned 0.14)")
    ap.add_argument("--upstream", metavar="DIR",
                    help="instead: wit-component's tests/interfaces folder (wasm-tools, not pinned "
                         "here): cmref's encodings and prints against its expected ones")
    args = ap.parse_args(argv)
    if args.upstream:
        res = upstream(Path(args.upstream))
        for r in res["rows"]:
            if r.get("encoding") != "identical" or r.get("print") != "equal":
                print(f"== {r['case']}: {r}")
        print(f"{res['cases']} wit-component interface tests: " +
              ", ".join(f"{k} {v}" for k, v in sorted(res["counts"].items())))
        if args.json:
            Path(args.json).write_text(json.dumps(res, indent=1))
        return 0 if all(r.get("encoding") == "identical" and r.get("print") == "equal"
                        for r in res["rows"]) else 1
    res = run(args.jco)
    for r in res["rows"]:
        if r["outcome"] != r["expected"] or r["jco_outcome"] in ("differ", "jco-error"):
            print(f"== {r['case']}: {r['outcome']} (expected {r['expected']}), jco {r['jco_outcome']}")
            print(r.get("why") or r.get("cmref"))
    print(f"{res['cases']} success cases encoded: " + ", ".join(f"{k} {v}" for k, v in sorted(res["counts"].items())))
    print("jco componentWit on the binaries: " + ", ".join(f"{k} {v}" for k, v in sorted(res["jco_counts"].items())))
    panics = sorted({r["jco"].get("panic", "") for r in res["rows"] if r["jco_outcome"] == "cannot-read-packages"})
    for p in panics:
        print(f"  jco panic: {p}")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1))
    return 0 if all(r["outcome"] == r["expected"] for r in res["rows"]) else 1


if __name__ == "__main__":
    sys.exit(main())
