"""The wit-parser conformance suite, run on cmref's WIT front-end (`cmref wit`).

The suite (../shared/suites/wit-parser, see SOURCES.md) is wasm-tools'
crates/wit-parser/tests/ui, run upstream by all.rs:

- every entry of ui/ (a .wit/.wit.md/.wat/.wasm file, or a folder with deps/) must
  resolve, and its resolved package must equal `<name>.wit.json`;
- every entry of ui/parse-fail/ must be rejected; the error text is compared with
  `<name>.wit.result` and reported separately (message_match).

As upstream, the feature gate `active` is enabled, and each case is given to the parser
as the relative path `tests/ui/...` (from a scratch folder whose `tests/ui` links to the
suite's entries), so that error texts carry the same paths as the `.wit.result` files.
The packages given as wasm text (.wat) are encoded to binary by the harness's text
encoder first (`scratch_ui`); cmref decodes WIT packages from wasm binaries itself.

Comparison of resolutions (`normalize`): wit-parser's JSON refers to worlds,
interfaces, types and packages by their index in arenas, so two correct resolvers
that allocate in a different order print different numbers. Both sides are
normalised the same way before comparing:

- a package is named by its `ns:name@version`; an interface by `pkg/name` (an
  anonymous one, inlined where a world imports or exports it, by the world and key);
  a world by `pkg/name`;
- a reference to a named type becomes `{"ref": [owner, name]}`; an anonymous type
  (name null) is replaced by its normalised definition, inline;
- world keys `interface-N` become `interface:<interface name>`; `clone_of` becomes
  the name of the interface cloned;
- the result is `{packages: {name: {docs, interfaces: {...}, worlds: {...}}},
  types: sorted list of every named type's normalised definition}`.

So arena order, and anonymous types the arena holds but nothing references, do not
matter; every name, kind, owner, field, case, parameter, result, stability, docs,
import/export key and order of keys inside an item does.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from harness.runner import Result
from harness.session import FileResult
from harness.suites import ROOT, manifest, suites_root

SUITE = "wit-parser"
CASE_EXTS = (".md", ".wit", ".wat", ".wasm")


@dataclass
class Case:
    rel: str          # path relative to ui/, e.g. "resources.wit", "parse-fail/cycle.wit"
    fail: bool        # a parse-fail case
    expect: Path      # the .wit.json / .wit.result file


def expectation(path: Path, ext: str) -> Path:
    """all.rs's read_or_write_to_file: foo.wit -> foo.wit.EXT, foo.wit.md -> foo.wit.md.EXT."""
    if path.suffix == ".md" and Path(path.stem).suffix == ".wit":
        return path.with_name(path.name + "." + ext)
    return path.with_name(path.stem + ".wit." + ext) if path.suffix else \
        path.with_name(path.name + ".wit." + ext)


def find_cases(ui: Path) -> list[Case]:
    """all.rs's find_tests: folders, and files with a test extension."""
    cases = []
    for folder, fail in ((ui, False), (ui / "parse-fail", True)):
        for entry in sorted(folder.iterdir()):
            if entry.name == "parse-fail":
                continue
            if not entry.is_dir() and entry.suffix not in CASE_EXTS:
                continue
            rel = entry.relative_to(ui).as_posix()
            cases.append(Case(rel, fail, expectation(entry, "result" if fail else "json")))
    return cases


# ---- normalisation ----

def _pkg_name(doc: dict, pid) -> str | None:
    return None if pid is None else doc["packages"][pid]["name"]


class Normalizer:
    def __init__(self, doc: dict):
        self.doc = doc
        self.iface_names: dict[int, str] = {}
        for i, iface in enumerate(doc["interfaces"]):
            if iface.get("name") is not None:
                self.iface_names[i] = f"{_pkg_name(doc, iface.get('package'))}/{iface['name']}"
        for w in doc["worlds"]:
            wname = f"{_pkg_name(doc, w.get('package'))}/{w['name']}"
            for side in ("imports", "exports"):
                for key, item in w[side].items():
                    if "interface" in item:
                        iid = item["interface"]["id"]
                        self.iface_names.setdefault(iid, f"{wname}#{side}.{key}")
        for i in range(len(doc["interfaces"])):
            self.iface_names.setdefault(i, f"<unreferenced anonymous interface {i}>")

    def world_name(self, wid: int) -> str:
        w = self.doc["worlds"][wid]
        return f"{_pkg_name(self.doc, w.get('package'))}/{w['name']}"

    def owner(self, owner):
        if owner is None:
            return None
        if "interface" in owner:
            return "interface " + self.iface_names[owner["interface"]]
        return "world " + self.world_name(owner["world"])

    def ty(self, t, depth=0):
        if t is None or isinstance(t, str):
            return t
        if depth > 200:
            return {"error": "type nesting"}
        td = self.doc["types"][t]
        if td.get("name") is not None:
            return {"ref": [self.owner(td.get("owner")), td["name"]]}
        return self.kind(td["kind"], depth + 1)

    def kind(self, k, depth=0):
        if isinstance(k, str):
            return k
        (tag, v), = k.items()
        t = lambda x: self.ty(x, depth)  # noqa: E731
        if tag == "record":
            return {tag: [dict(f, type=t(f["type"])) for f in v["fields"]]}
        if tag == "variant":
            return {tag: [dict(c, type=t(c.get("type"))) for c in v["cases"]]}
        if tag in ("flags", "enum"):
            return {tag: v[tag if tag == "flags" else "cases"]}
        if tag == "tuple":
            return {tag: [t(x) for x in v["types"]]}
        if tag == "handle":
            (h, rid), = v.items()
            return {tag: {h: t(rid)}}
        if tag == "result":
            return {tag: {"ok": t(v.get("ok")), "err": t(v.get("err"))}}
        if tag == "map":
            return {tag: [t(v[0]), t(v[1])]}
        if tag == "fixed-length-list":
            return {tag: [t(v[0]), v[1]]}
        return {tag: t(v)}

    def typedef(self, tid: int) -> dict:
        td = self.doc["types"][tid]
        out = {k: v for k, v in td.items() if k not in ("kind", "owner")}
        out["kind"] = self.kind(td["kind"])
        out["owner"] = self.owner(td.get("owner"))
        return out

    def function(self, f: dict) -> dict:
        out = dict(f)
        if isinstance(f["kind"], dict):
            (tag, rid), = f["kind"].items()
            out["kind"] = {tag: self.ty(rid)}
        out["params"] = [dict(p, type=self.ty(p["type"])) for p in f["params"]]
        if "result" in f:
            out["result"] = self.ty(f["result"])
        return out

    def interface(self, iid: int) -> dict:
        i = self.doc["interfaces"][iid]
        out = {k: v for k, v in i.items() if k not in ("types", "functions", "package", "clone_of")}
        out["package"] = _pkg_name(self.doc, i.get("package"))
        out["types"] = {n: self.typedef(t) for n, t in i["types"].items()}
        out["functions"] = {n: self.function(f) for n, f in i["functions"].items()}
        if i.get("clone_of") is not None:
            out["clone_of"] = self.iface_names[i["clone_of"]]
        return out

    def world_key(self, key: str) -> str:
        if key.startswith("interface-") and key[10:].isdigit():
            return "interface:" + self.iface_names[int(key[10:])]
        return key

    def world_item(self, item: dict):
        if "interface" in item:
            it = dict(item["interface"])
            iid = it.pop("id")
            iface = self.doc["interfaces"][iid]
            it["interface"] = self.iface_names[iid] if iface.get("name") is not None \
                else self.interface(iid)
            return {"interface": it}
        if "function" in item:
            return {"function": self.function(item["function"])}
        return {"type": self.typedef(item["type"])}

    def world(self, wid: int) -> dict:
        w = self.doc["worlds"][wid]
        out = {k: v for k, v in w.items() if k not in ("imports", "exports", "package")}
        out["package"] = _pkg_name(self.doc, w.get("package"))
        for side in ("imports", "exports"):
            out[side] = [[self.world_key(k), self.world_item(v)] for k, v in w[side].items()]
        return out

    def resolve(self) -> dict:
        pkgs = {}
        for p in self.doc["packages"]:
            entry = {k: v for k, v in p.items() if k not in ("interfaces", "worlds", "name")}
            entry["interfaces"] = {n: self.interface(i) for n, i in p["interfaces"].items()}
            entry["worlds"] = {n: self.world(w) for n, w in p["worlds"].items()}
            pkgs[p["name"]] = entry
        named = [self.typedef(i) for i, t in enumerate(self.doc["types"]) if t.get("name") is not None]
        named.sort(key=lambda t: json.dumps(t, sort_keys=True))
        return {"packages": pkgs, "types": named}


def normalize(doc: dict) -> dict:
    return Normalizer(doc).resolve()


def first_difference(a, b, path="$", ordered=True) -> str | None:
    """A short description of where two normalised documents first differ; with
    ordered=False the order of keys inside objects is not compared."""
    if type(a) is not type(b):
        return f"{path}: expected {json.dumps(a)[:200]}, got {json.dumps(b)[:200]}"
    if isinstance(a, dict):
        for k in list(a) + [k for k in b if k not in a]:
            if k not in b:
                return f"{path}.{k}: missing"
            if k not in a:
                return f"{path}.{k}: unexpected"
            d = first_difference(a[k], b[k], f"{path}.{k}", ordered)
            if d:
                return d
        if ordered and list(a) != list(b):
            return f"{path}: key order {list(a)} != {list(b)}"
        return None
    if isinstance(a, list):
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_difference(x, y, f"{path}[{i}]", ordered)
            if d:
                return d
        if len(a) != len(b):
            return f"{path}: {len(a)} items expected, got {len(b)}"
        return None
    return None if a == b else f"{path}: expected {json.dumps(a)[:200]}, got {json.dumps(b)[:200]}"


# ---- running ----

def cmref_binary() -> Path:
    return Path(os.environ.get("CMREF_BIN", ROOT / "build" / "cmref")).resolve()


def run_case(case: Case, scratch: Path, timeout: float) -> Result:
    kind = "wit_parse_fail" if case.fail else "wit_resolve"
    cmd = [str(cmref_binary()), "wit", "--features", "active", "--json", f"tests/ui/{case.rel}"]
    start = time.perf_counter()
    try:
        p = subprocess.run(cmd, cwd=scratch, capture_output=True, text=True, timeout=timeout,
                           errors="replace")
    except subprocess.TimeoutExpired:
        return Result(0, kind, "timeout", reason=f"no answer in {timeout:g}s",
                      duration=time.perf_counter() - start)
    except OSError as e:
        return Result(0, kind, "error", reason=f"cannot run cmref: {e}",
                      duration=time.perf_counter() - start)
    dur = time.perf_counter() - start
    if p.returncode < 0 or p.returncode > 2:
        sig = -p.returncode if p.returncode < 0 else p.returncode
        name = signal.Signals(sig).name if p.returncode < 0 and sig in signal.Signals._value2member_map_ else str(p.returncode)
        return Result(0, kind, "crash", actual=f"exit {name}", message=p.stderr[-2000:], duration=dur)
    if p.returncode == 2:
        return Result(0, kind, "error", reason="cmref wit usage error: " + p.stderr.strip()[:500],
                      duration=dur)
    if case.fail:
        return judge_fail(case, p, dur)
    return judge_success(case, p, dur)


def judge_fail(case: Case, p, dur: float) -> Result:
    if p.returncode == 0:
        return Result(0, "wit_parse_fail", "fail", phase="parse", expected="rejected",
                      actual="resolved", reason="expected the package to be rejected", duration=dur)
    got = p.stderr.strip().replace("\r\n", "\n")
    match = None
    if case.expect.exists():
        want = case.expect.read_text(errors="replace").strip().replace("\\", "/").replace("\r\n", "\n")
        match = got.replace("\\", "/") == want
    return Result(0, "wit_parse_fail", "pass", phase="parse", expected="rejected",
                  actual="rejected", message=got[:4000], message_match=match, duration=dur)


def judge_success(case: Case, p, dur: float) -> Result:
    if p.returncode != 0:
        return Result(0, "wit_resolve", "fail", phase="parse", expected="resolves",
                      actual="rejected", message=p.stderr.strip()[:4000], duration=dur)
    if not case.expect.exists():
        return Result(0, "wit_resolve", "error", reason=f"no expectation file {case.expect.name}",
                      duration=dur)
    try:
        got = normalize(json.loads(p.stdout))
        want = normalize(json.loads(case.expect.read_text()))
    except (ValueError, KeyError, IndexError, TypeError) as e:
        return Result(0, "wit_resolve", "error", reason=f"cannot normalise the JSON: {e!r}",
                      duration=dur)
    diff = first_difference(want, got)
    if diff is None:
        return Result(0, "wit_resolve", "pass", expected="resolves", actual="equal", duration=dur)
    return Result(0, "wit_resolve", "fail", expected="resolves", actual="differs",
                  message=diff, duration=dur)


def suite_root() -> Path:
    return suites_root() / "wit-parser"


def suite_commit() -> str | None:
    return manifest().get(SUITE, {}).get("commit")


def scratch_ui(scratch: Path, ui: Path | None = None) -> Path:
    """Makes scratch/tests/ui: the suite's ui/ entries as symlinks, except the entries that
    hold wasm text (.wat files): those are copied, each .wat file encoded to binary under
    its own name by the harness's text encoder (tools/encoder.mjs, wasm-tools' parser).
    wit-parser reads a .wat file through wat::parse_bytes, which takes binary as well as
    text; cmref reads no wasm text, so this one step is done for it."""
    ui = ui or suite_root() / "ui"
    out = scratch / "tests" / "ui"
    out.mkdir(parents=True)
    for entry in sorted(ui.iterdir()):
        wats = [entry] if entry.suffix == ".wat" else sorted(entry.rglob("*.wat")) if entry.is_dir() else []
        if not wats:
            (out / entry.name).symlink_to(entry)
            continue
        import shutil
        from harness.frontend.component import shared_encoder
        if entry.is_dir():
            shutil.copytree(entry, out / entry.name)
        for wat in wats:
            data = shared_encoder().encode(wat.read_text())
            if not isinstance(data, bytes):
                raise RuntimeError(f"{wat}: the text encoder refused it: {data.message}")
            (out / wat.relative_to(ui)).write_bytes(data)
    return out


def run_cases(timeout: float = 10.0, pattern: str | None = None):
    """Yields a FileResult (one Result) per case."""
    import fnmatch
    root = suite_root()
    ui = root / "ui"
    with tempfile.TemporaryDirectory(prefix="cmref-wit-") as tmp:
        scratch = Path(tmp)
        scratch_ui(scratch, ui)
        for case in find_cases(ui):
            if pattern and not fnmatch.fnmatch(case.rel, pattern):
                continue
            r = run_case(case, scratch, timeout)
            yield FileResult(SUITE, "ui/" + case.rel, str(ui / case.rel), [r], commands=1,
                             counted=1, duration=r.duration)


# ---- `python -m harness run --suite wit-parser` ----

def engine_version() -> str:
    try:
        p = subprocess.run([str(cmref_binary()), "version"], capture_output=True, text=True, timeout=10)
        if p.returncode == 0 and p.stdout.strip():
            return p.stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        pass
    return "cmref wit"


def skipped_cases(engine: str):
    ui = suite_root() / "ui"
    for case in find_cases(ui):
        kind = "wit_parse_fail" if case.fail else "wit_resolve"
        r = Result(0, kind, "skip", reason=f"engine {engine} has no WIT front-end; "
                                           "the wit-parser suite runs on ref (cmref wit)")
        yield FileResult(SUITE, "ui/" + case.rel, str(ui / case.rel), [r], commands=1, counted=1)


def run_suite(args, summary, conn, commit: str, host: str) -> None:
    """cmd_run's run_suite for the wit-parser suite: same database rows, same output."""
    import sys
    from harness import db
    from harness.runner import PASS
    root = suite_root()
    s = summary.suite(SUITE, suite_commit())
    if not (root / "ui").is_dir():
        print(f"{SUITE}:0: suite: error: folder {root} is not there "
              f"(set CMREF_SUITES to the pinned suites)")
        s["outcomes"]["error"] += 1
        summary.doc["totals"]["error"] += 1
        return
    run_id = None
    if conn is not None:
        run_id = db.start_run(conn, engine=args.engine, engine_version=engine_version(),
                              suite=SUITE, suite_root=str(root), suite_commit=suite_commit(),
                              cmref_commit=commit, host=host, argv=sys.argv)
    results = run_cases(args.timeout, args.files) if args.engine == "ref" else skipped_cases(args.engine)
    for fr in results:
        if conn is not None:
            db.write_file(conn, run_id, fr)
        summary.add(s, fr)
        if not args.quiet:
            for r in fr.results:
                if r.outcome != PASS:
                    print(f"{fr.path}:{r.line}: {r.kind}: {r.outcome}: {r.detail()}")
    if conn is not None:
        db.finish_run(conn, run_id)


def main(args) -> int:
    """`run --suite wit-parser` alone: no engine worker is needed, only `cmref wit`."""
    import platform
    import socket
    from harness.cmd_run import Summary, cmref_commit, write_summary
    from harness.runner import FAILING, PASS
    from harness import db
    summary = Summary(args.engine, engine_version() if args.engine == "ref" else "n/a")
    conn = None if args.no_db else db.connect(args.db)
    run_suite(args, summary, conn, cmref_commit(), f"{socket.gethostname()} ({platform.platform()})")
    totals = summary.doc["totals"]
    n = sum(totals.values())
    print(f"{n} directives: " + ", ".join(f"{k} {v}" for k, v in totals.items() if v or k == PASS))
    mm = summary.doc["message_match"]
    print(f"message match: {mm['matched']} of {mm['matched'] + mm['mismatched']}")
    if args.summary_json:
        write_summary(args.summary_json, summary.doc)
    return 1 if any(totals[o] for o in FAILING) else 0
