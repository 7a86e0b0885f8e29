"""`python -m harness ...`: the command-line interface."""
import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["convert"]:  # component front-end (harness/convert.py)
        from harness.convert import main as convert_main
        return convert_main(argv[1:])
    print("harness: not implemented yet", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
