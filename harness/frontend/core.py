"""The core front-end: wabt's `wast2json` turns a core .wast into the json-from-wast command
list plus its .wasm/.wat files.

Text-form modules of `assert_malformed` (the .wat files) are decided here, by wabt's text
parser (as wabt's own `spectest-interp` decides them: parsing only, no validation): a
rejected text gets "parse_error": MESSAGE on its command, an accepted one "parse_ok": true.

Everything is cached under .cache/wast2json/<hash of the file and the wabt version>/, so a
second run does not convert again; a cache entry appears atomically (rename of a finished
temporary folder), so parallel runs can share the cache.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from harness.frontend.errors import FrontendError

ROOT = Path(__file__).resolve().parents[2]
CACHE_FORMAT = "2"


def cache_root() -> Path:
    return Path(os.environ.get("CMREF_CACHE", ROOT / ".cache"))


@functools.lru_cache(maxsize=1)
def wabt_version() -> str:
    try:
        out = subprocess.run(["wast2json", "--version"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        raise FrontendError(f"wast2json (Debian package wabt) is not usable: {e}") from None
    return out.stdout.strip()


def convert(wast: Path) -> tuple[dict, Path]:
    """(the json-from-wast document, the folder holding its binaries)."""
    data = wast.read_bytes()
    key = hashlib.sha256(data + b"\0" + wabt_version().encode() + CACHE_FORMAT.encode()).hexdigest()
    out = cache_root() / "wast2json" / key[:32]
    doc_path = out / "commands.json"
    if not doc_path.exists():
        _convert_into(wast, out)
    return json.loads(doc_path.read_bytes()), out


def _convert_into(wast: Path, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix="tmp-"))
    try:
        proc = subprocess.run(["wast2json", str(wast), "-o", str(tmp / "commands.json")],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise FrontendError(_first_error(proc.stderr, wast))
        doc = json.loads((tmp / "commands.json").read_bytes())
        _decide_text_modules(doc, tmp)
        (tmp / "commands.json").write_text(json.dumps(doc))
        try:
            tmp.rename(out)
        except OSError:  # another process finished first: its result is the same
            pass
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _decide_text_modules(doc: dict, folder: Path) -> None:
    """Mark each text module parse_error / parse_ok by wabt's text parser: all of a file's
    text modules in one `spectest-interp -v` run (its assert_malformed check parses the
    .wat), any it does not report on by `wat2wasm --no-check`."""
    texts = [c for c in doc["commands"] if c.get("module_type") == "text"]
    if not texts:
        return
    by_line = {c["line"]: c for c in texts}
    probe = {"source_filename": "text-modules", "commands": [
        {"type": "assert_malformed", "line": c["line"], "filename": c["filename"],
         "text": c.get("text", ""), "module_type": "text"} for c in texts]}
    (folder / "text-modules.json").write_text(json.dumps(probe))
    proc = subprocess.run(["spectest-interp", "-v", "text-modules.json"], cwd=folder,
                          capture_output=True, text=True, errors="replace")
    (folder / "text-modules.json").unlink()
    lines = proc.stdout.splitlines()
    for i, line in enumerate(lines):
        m = _VERDICT.match(line)
        if not m or int(m.group(1)) not in by_line:
            continue
        cmd = by_line.pop(int(m.group(1)))
        if m.group(2) == "assert_malformed passed:":
            detail = lines[i + 1].strip() if i + 1 < len(lines) else ""
            cmd["parse_error"] = detail or "rejected by wabt's parser"
        else:
            cmd["parse_ok"] = True
    leftovers = list(by_line.values())

    def parse(cmd: dict) -> None:
        proc = subprocess.run(["wat2wasm", "--no-check", cmd["filename"], "-o", os.devnull],
                              cwd=folder, capture_output=True, text=True)
        if proc.returncode == 0:
            cmd["parse_ok"] = True
        else:
            cmd["parse_error"] = _first_error(proc.stderr, None) or "rejected by wat2wasm"

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(parse, leftovers))


_VERDICT = re.compile(r"^text-modules:(\d+): (assert_malformed passed:|expected module to be malformed)")


def _first_error(stderr: str, wast: Path | None) -> str:
    for line in stderr.splitlines():
        if "error" in line:
            return line.strip()
    text = stderr.strip().splitlines()
    first = text[0] if text else "failed"
    return f"{wast}: {first}" if wast else first
