"""`python -m harness SUBCOMMAND ...`: the command-line interface.

One module per subcommand, listed in SUBCOMMANDS. A module either has
`add_parser(subparsers)` (returning its parser, with `func` set as a default), or
`configure(parser)` and `main(args) -> int` (with its docstring as the description).
"""
from __future__ import annotations

import argparse
import importlib
import sys

SUBCOMMANDS = {
    "run": ("harness.cmd_run", "run suites on an engine and record the results"),
    "convert": ("harness.convert", "component .wast -> json-from-wast + binaries"),
    "report": ("harness.report_cmd", "run the pinned suites on every engine found, write the reports"),
    "diff": ("harness.diff", "directives whose outcome or value differs between two runs"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m harness")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (module, help_text) in SUBCOMMANDS.items():
        mod = importlib.import_module(module)
        if hasattr(mod, "add_parser"):
            mod.add_parser(sub)
            continue
        p = sub.add_parser(name, help=help_text, description=mod.__doc__,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        mod.configure(p)
        p.set_defaults(func=mod.main)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
