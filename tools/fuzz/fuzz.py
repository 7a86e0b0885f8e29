"""libFuzzer targets of cmref: build, seed corpora, runs, and the smoke run of `make test`.

    python tools/fuzz/fuzz.py build                 # build-fuzz/fuzz/<target> (clang, libFuzzer+ASan+UBSan)
    python tools/fuzz/fuzz.py seeds                 # .cache/fuzz/seeds/<target> from the pinned suites
    python tools/fuzz/fuzz.py run TARGET SECONDS    # grow .cache/fuzz/corpus/<target>; print stats JSON
    python tools/fuzz/fuzz.py smoke [SECONDS]       # every target SECONDS (default 10), fresh corpus

Targets (tools/fuzz/fuzz_<target>.c): core (decode + validate + compile), run (instantiate +
call every export under fuel), component (decode + validate, both profiles, WIT of the type),
abi (canonical ABI load / lift_flat_values of fuzz memory as a fuzz-built type), wit (WIT
parse + resolve + print + encode). Seeds come from the pinned suites (CMREF_SUITES or
../shared/suites) through the harness front-ends' caches; nothing is copied into the repo.
Crashes land in .cache/fuzz/crashes/<target>/ (libFuzzer's crash-* files). The library is
built by `make` into build-fuzz/ with -fsanitize=fuzzer-no-link,address,undefined.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

TARGETS = ("core", "run", "component", "abi", "wit")
BUILD = ROOT / "build-fuzz"
CACHE = Path(os.environ.get("CMREF_CACHE", ROOT / ".cache")) / "fuzz"
SAN = "-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all"
DICTS = {"core": "core.dict", "run": "core.dict", "component": "component.dict", "wit": "wit.dict"}


def build() -> list[Path]:
    subprocess.run(["make", "-s", "-C", str(ROOT), f"{BUILD.name}/libcmref.a", f"BUILD={BUILD.name}",
                    "CC=clang", "OPT=-O1 -g -fno-omit-frame-pointer", f"EXTRA_CFLAGS={SAN}"],
                   check=True)
    out = []
    lib = BUILD / "libcmref.a"
    for t in TARGETS:
        src = ROOT / "tools" / "fuzz" / f"fuzz_{t}.c"
        exe = BUILD / "fuzz" / t
        exe.parent.mkdir(parents=True, exist_ok=True)
        if not exe.exists() or exe.stat().st_mtime < max(src.stat().st_mtime, lib.stat().st_mtime):
            subprocess.run(["clang", "-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Werror",
                            "-O1", "-g", "-fno-omit-frame-pointer",
                            "-fsanitize=fuzzer,address,undefined", "-fno-sanitize-recover=all",
                            "-I", str(ROOT / "interp" / "include"), "-I", str(ROOT / "interp"),
                            "-o", str(exe), str(src), str(lib), "-ljansson", "-lm"], check=True)
        out.append(exe)
    return out


def suites_root() -> Path:
    return Path(os.environ.get("CMREF_SUITES", ROOT.parent / "shared" / "suites"))


def _binaries() -> tuple[list[Path], list[Path]]:
    """(core module binaries, component binaries) of the converted pinned suites."""
    from harness.frontend import component as fc
    from harness.frontend import core as fcore
    core, comps = [], []
    for wast in sorted((suites_root() / "core").glob("*.wast")):
        try:
            _, out = fcore.convert(wast)
        except Exception:  # a file wabt cannot convert gives no seeds
            continue
        core += sorted(out.glob("*.wasm"))
    for sub in ("component-model", "wasmtime-misc"):
        for wast in sorted((suites_root() / sub).rglob("*.wast")):
            try:
                _, out = fc.convert(wast)
            except Exception:
                continue
            for p in sorted(out.glob("*.wasm")):
                head = p.read_bytes()[:8]
                (comps if head[4:6] == b"\x0d\x00" else core).append(p)
    return core, comps


def _abi_seeds() -> list[bytes]:
    """Type programs (see fuzz_abi.c) for a few shapes, each followed by small memory images."""
    rng = random.Random(12)
    types = [b"\x00", b"\x0c", b"\x80\x00\x0c", b"\x82\x03\x00\x0c\x05", b"\x84\x03\x01\x00\x02\x0c",
             b"\x85\x03\x0c", b"\x86\x00\x01\x00\x0c\x01\x05", b"\x87\x05", b"\x88\x20",
             b"\x89\x00\x0c\x05", b"\x81\x04\x02", b"\x80\x00\x82\x02\x0c\x06"]
    seeds = []
    for i, t in enumerate(types):
        for mode in (0, 1, 2, 4):
            mem = bytes([16, 0, 0, 0, 3, 0, 0, 0, 32, 0, 0, 0, 2, 0, 0, 0]) + bytes(
                rng.randrange(0, 128) for _ in range(48))
            seeds.append(bytes([mode]) + t + mem)
    return seeds


def seeds(limit: int | None = None) -> dict[str, Path]:
    """Writes .cache/fuzz/seeds/<target>/ (at most `limit` files each, a fixed sample)."""
    core, comps = _binaries()
    wits = sorted((suites_root() / "wit-parser").rglob("*.wit"))
    rng = random.Random(1)
    sources = {"core": core, "run": core, "component": comps, "wit": wits}
    dirs = {}
    for t in TARGETS:
        d = CACHE / ("seeds" if limit is None else f"seeds-{limit}") / t
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
        if t == "abi":
            for i, data in enumerate(_abi_seeds()):
                (d / f"abi-{i}").write_bytes(data)
        else:
            files = sources[t]
            if limit is not None and len(files) > limit:
                files = rng.sample(files, limit)
            for i, p in enumerate(files):
                shutil.copyfile(p, d / f"{i}-{p.name}")
        dirs[t] = d
    return dirs


STAT = re.compile(r"#(\d+)\s+\w+.*?cov: (\d+) ft: (\d+) corp: (\d+)/(\S+).*?exec/s: (\d+)")


def run(target: str, seconds: int, seed_dir: Path | None, corpus: Path | None = None,
        jobs_rss: int = 2048) -> dict:
    """One libFuzzer run; returns its last stats line as a dict (and crash files, if any)."""
    exe = BUILD / "fuzz" / target
    corpus = corpus or CACHE / "corpus" / target
    corpus.mkdir(parents=True, exist_ok=True)
    crashes = CACHE / "crashes" / target
    crashes.mkdir(parents=True, exist_ok=True)
    args = [str(exe), f"-max_total_time={seconds}", f"-rss_limit_mb={jobs_rss}", "-timeout=20",
            "-max_len=65536", "-print_final_stats=1", f"-artifact_prefix={crashes}/"]
    if target in DICTS:
        args.append(f"-dict={ROOT / 'tools' / 'fuzz' / DICTS[target]}")
    args.append(str(corpus))
    if seed_dir is not None:
        args.append(str(seed_dir))
    done = subprocess.run(["nice", *args], capture_output=True, text=True,
                          env={**os.environ, "ASAN_OPTIONS": "detect_leaks=1:allocator_may_return_null=1",
                               "UBSAN_OPTIONS": "print_stacktrace=1"})
    stats = {"target": target, "seconds": seconds, "returncode": done.returncode}
    last = None
    for m in STAT.finditer(done.stderr):
        last = m
    if last:
        stats.update(execs=int(last[1]), cov=int(last[2]), ft=int(last[3]), corpus=int(last[4]),
                     corpus_size=last[5], execs_per_s=int(last[6]))
    m = re.search(r"stat::number_of_executed_units: (\d+)", done.stderr)
    if m:
        stats["execs"] = int(m[1])
    m = re.search(r"stat::average_exec_per_sec:\s+(\d+)", done.stderr)
    if m:
        stats["execs_per_s"] = int(m[1])
    if done.returncode != 0:
        stats["log_tail"] = done.stderr[-6000:]
        stats["crash_files"] = [str(p) for p in crashes.glob("*")]
    return stats


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("build")
    s = sub.add_parser("seeds")
    s.add_argument("--limit", type=int)
    r = sub.add_parser("run")
    r.add_argument("target", choices=TARGETS)
    r.add_argument("seconds", type=int)
    sm = sub.add_parser("smoke")
    sm.add_argument("seconds", type=int, nargs="?", default=10)
    sm.add_argument("--targets", default=",".join(TARGETS))
    a = ap.parse_args(argv)
    if a.cmd == "build":
        for p in build():
            print(p)
        return 0
    if a.cmd == "seeds":
        for t, d in seeds(a.limit).items():
            print(t, d, len(list(d.iterdir())))
        return 0
    if a.cmd == "run":
        build()
        d = CACHE / "seeds" / a.target
        if not d.exists():
            d = seeds()[a.target]
        stats = run(a.target, a.seconds, d)
        print(json.dumps(stats, indent=1))
        return 0 if stats["returncode"] == 0 else 1
    build()
    dirs = seeds(limit=200)
    bad = 0
    for t in a.targets.split(","):
        tmp = CACHE / "smoke-corpus" / t
        if tmp.exists():
            shutil.rmtree(tmp)
        stats = run(t, a.seconds, dirs[t], corpus=tmp)
        print(json.dumps(stats))
        bad |= stats["returncode"] != 0
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
