"""Suites: named suites from suites/manifest.toml, or paths to files and folders.

The pinned suites are found under $CMREF_SUITES, else ../shared/suites from the repository
root; they are never copied into the repository.
"""
from __future__ import annotations

import fnmatch
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


class SuiteError(Exception):
    pass


@dataclass
class Suite:
    name: str
    root: Path                 # relpaths are relative to this folder
    frontend: str              # core | component | auto
    commit: str | None
    files: list[Path]          # absolute .wast paths


def suites_root() -> Path:
    return Path(os.environ.get("CMREF_SUITES", ROOT.parent / "shared" / "suites")).resolve()


def manifest() -> dict:
    with open(ROOT / "suites" / "manifest.toml", "rb") as f:
        return tomllib.load(f)


def resolve(spec: str, pattern: str | None = None) -> Suite:
    """A suite name from the manifest, or a path to a .wast file or a folder of them."""
    entries = manifest()
    if spec in entries:
        e = entries[spec]
        base = ROOT if e.get("in_repo") else suites_root()
        root = (base / e["path"]).resolve()
        if not root.is_dir():
            raise SuiteError(f"suite {spec}: folder {root} is not there "
                             f"(set CMREF_SUITES to the pinned suites)")
        return Suite(spec, root, e.get("frontend", "auto"), e.get("commit"),
                     _wast_files(root, pattern))
    path = Path(spec).resolve()
    if path.exists():
        name, root, frontend = locate(path)
        commit = entries.get(name, {}).get("commit")
        files = [path] if path.is_file() else _wast_files(path, pattern)
        return Suite(name, root, frontend, commit, files)
    raise SuiteError(f"{spec}: no such suite, file or folder "
                     f"(suites: {', '.join(entries)})")


def locate(path: Path) -> tuple[str, Path, str]:
    """(suite name, suite root, front-end) for a file or folder: the manifest suite that
    contains it, else the path itself (its folder as root, front-end chosen per file)."""
    path = path.resolve()
    for name, e in manifest().items():
        root = ((ROOT if e.get("in_repo") else suites_root()) / e["path"]).resolve()
        if path == root or root in path.parents:
            return name, root, e.get("frontend", "auto")
    root = path if path.is_dir() else path.parent
    return str(root), root, "auto"


def _wast_files(root: Path, pattern: str | None) -> list[Path]:
    files = sorted(root.rglob("*.wast"))
    if pattern:
        files = [f for f in files if fnmatch.fnmatch(f.relative_to(root).as_posix(), pattern)
                 or fnmatch.fnmatch(f.name, pattern)]
    return files
