"""`python -m harness ...`: the command-line interface."""
import sys


def main(argv: list[str] | None = None) -> int:
    print("harness: not implemented yet", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
