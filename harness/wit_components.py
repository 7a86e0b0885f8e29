"""`cmref wit COMPONENT.wasm` checked against an implementation no one here wrote:
jco's `componentWit` (npm @bytecodealliance/jco-transpile, pinned in tools/, its
vendored wasm-tools), on every component binary of the pinned component suites.

    python -m harness.wit_components [--json FILE] [--show N]

Each suite .wast file is converted by the harness's component front-end (cached
under .cache/component/); every binary that is a component (not a core module) is
given to both. A binary counts when jco accepts it; then cmref must accept it too and
print the same WIT after whitespace normalisation (runs of whitespace collapsed).
"""
from __future__ import annotations

import argparse
import base64
import json
import re
import subprocess
import sys
from pathlib import Path

from harness.suites import ROOT, suites_root
from harness import wit_suite

SUITES = ("component-model/test", "wasmtime-misc")

# jco's wasm-tools is a component itself: after a trap (a Rust panic) its instance is
# poisoned ("cannot enter component instance"), so a trap gets a fresh instance, the way
# tools/encoder.mjs recovers. A ComponentError (payload) is an ordinary rejection.
JCO_SCRIPT = r"""
import { readFileSync, writeSync } from 'node:fs';
const vendorUrl = new URL('../vendor/wasm-tools.js',
  import.meta.resolve('@bytecodealliance/jco-transpile/wasm-tools'));
let generation = 0;
async function fresh() {
  generation += 1;
  const mod = await import(`${vendorUrl.href}?generation=${generation}`);
  await mod.$init;
  return (bytes) => mod.tools.componentWit(bytes);
}
let componentWit = await fresh();
const files = JSON.parse(readFileSync(process.argv[1], 'utf8'));
const out = {};
for (const f of files) {
  // a trap's panic message goes to stderr (written by the WASI shim): a marker before
  // each file lets the harness tell whose it is
  writeSync(2, `\n@@cmref-file ${f}\n`);
  try { out[f] = { wit: componentWit(readFileSync(f)) }; }
  catch (e) {
    const rejected = e && e.payload !== undefined;
    out[f] = { error: String(rejected ? e.payload : (e && e.message) || e).slice(0, 400),
               trap: !rejected };
    if (!rejected) componentWit = await fresh();
  }
}
process.stdout.write(JSON.stringify(out));
"""


def is_component(data: bytes) -> bool:
    return len(data) >= 8 and data[:4] == b"\0asm" and data[4:8] == b"\x0d\x00\x01\x00"


def suite_components() -> list[Path]:
    from harness.frontend.component import convert
    binaries = []
    for suite in SUITES:
        root = suites_root() / suite
        for wast in sorted(root.rglob("*.wast")):
            try:
                _, out_dir = convert(wast)
            except Exception as e:  # a front-end failure: not a component to compare
                print(f"{wast}: front-end error: {e}", file=sys.stderr)
                continue
            for b in sorted(out_dir.glob("*.wasm")):
                if is_component(b.read_bytes()):
                    binaries.append(b)
    return binaries


JCO_PACKAGE = "@bytecodealliance/jco-transpile"  # 0.14; tools/ also pins jco-transpile-engine (0.15)


def jco_wit(files: list[Path], package: str | None = None) -> dict[str, dict]:
    """jco's componentWit on each file: {"wit"} or {"error", "trap"[, "panic"]}."""
    import tempfile
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as lst:
        json.dump([str(f) for f in files], lst)
    script = JCO_SCRIPT.replace(JCO_PACKAGE + "/wasm-tools", (package or JCO_PACKAGE) + "/wasm-tools")
    try:
        done = subprocess.run(["node", "--input-type=module", "-e", script, lst.name],
                              capture_output=True, text=True, cwd=ROOT / "tools", timeout=3600)
    finally:
        Path(lst.name).unlink()
    if done.returncode != 0:
        raise RuntimeError("jco componentWit failed: " + done.stderr[-2000:])
    out = json.loads(done.stdout)
    for block in done.stderr.split("\n@@cmref-file ")[1:]:
        name, _, text = block.partition("\n")
        m = re.search(r"panicked at ([^\n]*?):?\n([^\n]*)", text)
        if m and name in out and out[name].get("trap"):
            out[name]["panic"] = f"{m.group(2)} (panicked at {m.group(1)})"
    return out


def cmref_wit(path: Path) -> dict:
    p = subprocess.run([str(wit_suite.cmref_binary()), "wit", str(path)], capture_output=True,
                       text=True, errors="replace", timeout=60)
    if p.returncode == 0:
        return {"wit": p.stdout}
    return {"error": p.stderr.strip()[:400], "status": p.returncode}


def normalise(text: str) -> str:
    return " ".join(text.split())


def compare(files: list[Path]) -> dict:
    jco = jco_wit(files)
    rows = []
    for f in files:
        j = jco[str(f)]
        c = cmref_wit(f)
        if "error" in j:
            outcome = "jco-traps" if j.get("trap") else "jco-rejects"
        elif "error" in c:
            outcome = "crash" if c.get("status", 1) > 2 or c.get("status", 1) < 0 else "cmref-rejects"
        else:
            outcome = "agree" if normalise(j["wit"]) == normalise(c["wit"]) else "differ"
        rows.append({"file": str(f.relative_to(ROOT)) if f.is_relative_to(ROOT) else str(f),
                     "outcome": outcome, "jco": j, "cmref": c})
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["outcome"]] = counts.get(r["outcome"], 0) + 1
    accepted = sum(v for k, v in counts.items() if not k.startswith("jco-"))
    return {"counts": counts, "jco_accepts": accepted,
            "agree_rate": (counts.get("agree", 0) / accepted) if accepted else None, "rows": rows}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m harness.wit_components", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", help="write every row as JSON")
    ap.add_argument("--show", type=int, default=10, help="differences to print")
    args = ap.parse_args(argv)
    files = suite_components()
    res = compare(files)
    shown = 0
    for r in res["rows"]:
        if r["outcome"] in ("differ", "cmref-rejects", "crash") and shown < args.show:
            shown += 1
            print(f"== {r['outcome']}: {r['file']}")
            print("-- jco:\n" + r["jco"].get("wit", r["jco"].get("error", "")))
            print("-- cmref:\n" + r["cmref"].get("wit", r["cmref"].get("error", "")))
    print(f"{len(files)} component binaries: " + ", ".join(f"{k} {v}" for k, v in sorted(res["counts"].items())))
    if res["agree_rate"] is not None:
        print(f"agreement on the {res['jco_accepts']} jco accepts: {res['agree_rate']:.1%}")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
