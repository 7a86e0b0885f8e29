#!/usr/bin/env python3
"""Share of definitions.py functions (outside concurrency) that have a same-named C function
in the canonical ABI sources, in the same relative order.

The spec's top-level `def`s are read from definitions.py in file order. Those of the
concurrency sections (threads, tasks' scheduling, waitables, buffers, streams, futures, the
async/thread/error-context built-ins marked 🔀 🧵 📝) and the stream/future/error-context
helpers of the value sections are left out, as issue 8's. The C side is every function
definition (and the `trap_if` macro) of the files in C_FILES, in that order, with the
module prefix `cma_` of exported names removed. The count is
the longest common subsequence of the two name lists: a C function out of the spec's order
does not count.

Usage: tools/abi_coverage.py [--missing]
"""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = Path(os.environ.get("CMREF_SPEC", ROOT.parent / "shared" / "spec")) / "definitions.py"
C_FILES = ["interp/component/canonical.c", "interp/component/resources.c"]

CONCURRENCY_SECTIONS = ("Concurrency", "Stack Switching", "Threads", "Tasks", "Waitable State",
                        "Subtask State", "Buffer State", "Stream State", "Future State")
CONCURRENCY_MARKS = ("🔀", "🧵", "📝")
CONCURRENCY_DEFS = {
    "contains_async_value", "lift_error_context", "lift_stream", "lift_future",
    "lift_async_value", "lower_error_context", "lower_stream", "lower_future",
    "unpack_callback_result",
}


def spec_functions(path: Path) -> list[str]:
    names, section = [], ""
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"#{2,4} (.*)", line)
        if m:
            section = m.group(1)
            continue
        m = re.match(r"def (\w+)\(", line)
        if not m:
            continue
        name = m.group(1)
        if (any(mark in section for mark in CONCURRENCY_MARKS)
                or section.strip() in CONCURRENCY_SECTIONS or name in CONCURRENCY_DEFS):
            continue
        names.append(name)
    return names


C_DEF = re.compile(r"^(?:static\s+)?(?:inline\s+)?(?:const\s+)?[A-Za-z_][\w\s\*]*?\b(\w+)\((.*)$")


def c_functions(paths: list[Path]) -> list[str]:
    names = []
    for path in paths:
        lines = path.read_text(encoding="utf-8").splitlines()
        for k, line in enumerate(lines):
            m = re.match(r"#define (trap_if|trap)\(", line)
            if m:
                names.append(m.group(1))
                continue
            if line.startswith((" ", "\t", "#", "/", "}", "typedef", "struct", "enum", "return")):
                continue
            m = C_DEF.match(line)
            head = line
            while not re.search(r"[;{]\s*$", head) and k + 1 < len(lines):
                k += 1
                head += lines[k]
            if m and head.rstrip().endswith("{") or m and "{" in line:  # a definition
                name = m.group(1)
                names.append(name[4:] if name.startswith("cma_") else name)
    return names


def lcs(a: list[str], b: list[str]) -> list[str]:
    dp = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) - 1, -1, -1):
        for j in range(len(b) - 1, -1, -1):
            dp[i][j] = dp[i + 1][j + 1] + 1 if a[i] == b[j] else max(dp[i + 1][j], dp[i][j + 1])
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        if a[i] == b[j]:
            out.append(a[i])
            i, j = i + 1, j + 1
        elif dp[i + 1][j] >= dp[i][j + 1]:
            i += 1
        else:
            j += 1
    return out


def main(argv: list[str]) -> int:
    spec = spec_functions(SPEC)
    c = c_functions([ROOT / f for f in C_FILES])
    common = lcs(spec, c)
    print(f"canonical ABI coverage: {len(common)}/{len(spec)} definitions.py functions outside "
          f"concurrency have a same-named C function in the same order "
          f"({100.0 * len(common) / len(spec):.1f}%)")
    if "--missing" in argv:
        have = set(common)
        for name in spec:
            if name not in have:
                print(f"  missing: {name}" + ("  (out of order)" if name in c else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
