"""`python -m harness convert FILE.wast... [-o DIR]`: component wast files into the
json-from-wast command list (STEM.json) and its binaries, for humans and other engines.

One file goes to DIR (default ./STEM); several go to DIR/STEM each (default ./STEM). Prints
each JSON path, and one line per directive the front-end could not read
(`file:line[:col]: kind: parse error: message`); a text-form assert_malformed/assert_invalid
whose text the parser rejects is a verdict, not an error, and is not listed. Exit status 1
when such errors exist, 2 when a file cannot be read.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("convert", help="component .wast -> json-from-wast + binaries",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("files", nargs="+", metavar="FILE", help="component .wast files")
    p.add_argument("-o", "--output", metavar="DIR", help="output folder")
    p.set_defaults(func=run)
    return p


def targets(files: list[str], output: str | None) -> list[Path]:
    """The output folder of each file (STEM, made unique with -2, -3 ... when stems repeat)."""
    if len(files) == 1:
        return [Path(output) if output else Path(Path(files[0]).stem)]
    base = Path(output) if output else Path(".")
    seen: dict[str, int] = {}
    out = []
    for f in files:
        stem = Path(f).stem
        seen[stem] = seen.get(stem, 0) + 1
        out.append(base / (stem if seen[stem] == 1 else f"{stem}-{seen[stem]}"))
    return out


def run(args: argparse.Namespace) -> int:
    from harness.frontend.component import convert_file, shared_encoder

    status = 0
    for file, target in zip(args.files, targets(args.files, args.output)):
        try:
            json_path = convert_file(file, target, shared_encoder())
        except (OSError, UnicodeDecodeError) as e:
            print(f"convert: {file}: {e}", file=sys.stderr)
            status = 2
            continue
        doc = json.loads(json_path.read_text(encoding="utf-8"))
        for c in doc["commands"]:
            if "parse_error" in c and c.get("module_type") != "text":
                print(f"{c.get('parse_error_at', file)}: {c['type']}: parse error: "
                      f"{c['parse_error']}", file=sys.stderr)
                status = max(status, 1)
        print(json_path)
    return status
