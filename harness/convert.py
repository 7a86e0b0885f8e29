"""`python -m harness convert FILE.wast [-o DIR]`: a component wast file into the
json-from-wast command list (FILE.json) and its binaries, for humans and other engines.

Prints the JSON path and one line per directive the front-end could not read
(`file:line: kind: parse error: message`; text-form assert_malformed/assert_invalid whose
text the parser rejects are verdicts, not errors, and are not listed). Exit status 1 when
such errors exist, 2 when the file cannot be read.
"""
from __future__ import annotations

import argparse
import json
import sys


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("convert", help="component .wast -> json-from-wast + binaries",
                              description=__doc__.split("\n\n")[0])
    p.add_argument("file", help="a component .wast file")
    p.add_argument("-o", "--output", metavar="DIR",
                   help="output folder (default: ./STEM next to the current directory)")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from harness.frontend.component import convert_file

    try:
        json_path = convert_file(args.file, args.output)
    except OSError as e:
        print(f"convert: {args.file}: {e}", file=sys.stderr)
        return 2
    doc = json.loads(json_path.read_text(encoding="utf-8"))
    errors = [c for c in doc["commands"]
              if "parse_error" in c and c.get("module_type") != "text"]
    for c in errors:
        print(f"{c.get('parse_error_at', args.file)}: {c['type']}: parse error: "
              f"{c['parse_error']}", file=sys.stderr)
    print(json_path)
    return 1 if errors else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["convert", *(sys.argv[1:] if argv is None else argv)])
    return args.func(args)
