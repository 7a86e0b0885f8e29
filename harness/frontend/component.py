"""The component wast front-end: a component `.wast` file into json-from-wast commands.

    convert(wast_path) -> (commands, directory)

turns one file into the command list that wast2json writes for core files (same schema,
same arms), with every component and module written as a binary file in `directory`.
Results are cached by file content under .cache/component/ (the same cache root as the core
front-end), so a second run costs a hash and a JSON read.

Extensions to wast2json's schema (see harness/engines/PROTOCOL.md for values):
- every command carrying a binary has "component": true|false;
- "module_definition" {"line", "filename", "name"?, "component"} for
  `(component definition $x ...)` / `(module definition ...)`;
- "module_instance" {"line", "instance"?, "module"?, "component"} for
  `(component instance $i $x)`;
- a text-form assert_malformed/assert_invalid whose text the parser rejects carries
  "module_type": "text", "parse_error": MSG (its text is kept as a .wat file); any other
  directive the front-end cannot read is {"type", "line", "parse_error": MSG,
  "parse_error_at": "file:line:col"} and the runner records `error` for it;
- top level: "requirements" (wasmtime's `;;!` lines, as a dict) and "nyi" (true when the
  file is listed in the component-model suite's nyi.txt).

The text of each module is a slice of the source (comments and all) with `definition`
blanked out; quote forms are joined as the `wast` crate joins them; binary forms are the
concatenated string bytes. The encoder never validates: that is the engine's job.
"""
from __future__ import annotations

import atexit
import functools
import hashlib
import json
import os
import re
import shutil
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from . import component_values
from .component_encoder import ROOT, EncodeError, Encoder
from .splitter import Atom, Directive, SList, SplitError, Str, split



def cache_root() -> Path:
    """The cache root the front-ends share (CMREF_CACHE, default .cache/)."""
    return Path(os.environ.get("CMREF_CACHE", ROOT / ".cache"))


# The wast2json command type each directive becomes.
COMMAND_TYPE = {
    "module": "module", "component": "module", "module_definition": "module_definition",
    "module_instance": "module_instance", "register": "register", "invoke": "action",
    "assert_return": "assert_return", "assert_trap": "assert_trap",
    "assert_exhaustion": "assert_exhaustion", "assert_invalid": "assert_invalid",
    "assert_malformed": "assert_malformed", "assert_unlinkable": "assert_unlinkable",
    "assert_exception": "assert_exception", "thread": "thread", "wait": "wait",
}

_COMPONENT_RE = re.compile(
    r"^\s*\(component\b|\((?:u8|s8|u16|s16|u32|s32|u64|s64|str|char|bool|list|record|tuple|"
    r"variant|enum|flags)\.const\b|\(option\.(?:none|some)\b|\(result\.(?:ok|err)\b",
    re.MULTILINE)


def is_component_wast(text: str) -> bool:
    """True when a wast text needs this front-end: a top-level `(component ...)` directive
    (at the start of a line) or a component value form anywhere."""
    return _COMPONENT_RE.search(text) is not None


# ---------------------------------------------------------------------------------------
# Module forms


@dataclass
class ModuleForm:
    """A `(module ...)` / `(component ...)` form: text to encode, or bytes already."""
    component: bool
    name: str | None
    line: int  # where the form starts in the file
    binary: bytes | None = None
    text: str | None = None
    quoted: bool = False  # text synthesised from a quote form (no line mapping)
    raw: bytes | None = None  # a quote form's bytes when they are not UTF-8
    error: str | None = None  # why the text cannot even be handed to the parser

    @property
    def text_form(self) -> bool:
        return self.binary is None


def module_form(node: SList, file_text: str, definition: bool = False) -> ModuleForm:
    """Read a module/component form (`definition` allowed only when `definition`)."""
    head = node.keyword(0)
    if head not in ("module", "component"):
        raise SplitError(node.line, f"expected (module ...) or (component ...), found {head!r}")
    component = head == "component"
    i = 1
    if definition:
        if node.keyword(1) != "definition":
            raise SplitError(node.line, "expected `definition`")
        i = 2
    if node.keyword(1) == "quote":
        data = _quote_bytes(node, component)
        try:
            return ModuleForm(component, None, node.line, text=data.decode("utf-8"),
                              quoted=True)
        except UnicodeDecodeError:  # rejected before parsing, as the wast crate does
            return ModuleForm(component, None, node.line, quoted=True, raw=data,
                              error="malformed UTF-8 encoding")
    name = None
    word = node.keyword(i)
    if word is not None and word.startswith("$"):
        name = word
        i += 1
    if node.keyword(i) == "binary":
        return ModuleForm(component, name, node.line, binary=_string_bytes(node, i + 1))
    text = file_text[node.offset:node.end]
    if definition:
        kw = node.items[1]
        at = kw.offset - node.offset
        text = text[:at] + " " * len(kw.text) + text[at + len(kw.text):]
    return ModuleForm(component, name, node.line, text=text)


def _string_bytes(node: SList, start: int) -> bytes:
    out = bytearray()
    for item in node.items[start:]:
        if not isinstance(item, Str):
            raise SplitError(getattr(item, "line", node.line), "expected a string")
        out += item.data
    return bytes(out)


def _quote_bytes(node: SList, component: bool) -> bytes:
    """The text of a quote form, joined as the wast crate joins it: each string followed by
    a space; a component's wrapped in `(component` ... `)`, a module's left bare."""
    joined = bytearray()
    for item in node.items[2:]:
        if not isinstance(item, Str):
            raise SplitError(getattr(item, "line", node.line), "expected a string")
        joined += item.data + b" "
    if component:
        joined = bytearray(b"(component") + joined + b")"
    return bytes(joined)


def _quote_text(node: SList, component: bool) -> str:
    return _quote_bytes(node, component).decode("utf-8", "strict")


# ---------------------------------------------------------------------------------------
# One file


@dataclass
class Pending:
    command: dict
    form: ModuleForm
    text_failure_ok: bool
    index: int  # its files are numbered in directive order  # assert_malformed / assert_invalid: a parse failure is a verdict


@dataclass
class FileConverter:
    """Builds the command list of one file; binaries go to `files` (filename -> bytes)."""
    filename: str  # for messages (the .wast's name)
    stem: str
    text: str
    commands: list = field(default_factory=list)
    files: dict = field(default_factory=dict)
    pending: list = field(default_factory=list)
    count: int = 0  # module forms met so far (numbers the files, as wast2json does)
    encoder_faults: int = 0  # texts the encoder died or hung on (never cached)

    def convert(self, encoder: Encoder) -> dict:
        directives, errors = split(self.text)
        items: list = [(d.line, 0, d) for d in directives] + [(e.line, 1, e) for e in errors]
        for _, _, item in sorted(items, key=lambda t: (t[0], t[1])):
            if isinstance(item, SplitError):
                self.commands.append(self._error_command(item.kind, item.line, item))
            else:
                self._directive(item)
        self._encode_pending(encoder)
        return {"source_filename": self.filename, "component": True,
                "commands": self.commands}

    def _directive(self, d: Directive) -> None:
        arm = ARMS.get(d.kind)
        try:
            if arm is None:
                raise SplitError(d.line, f"`{d.kind}` directives are not supported")
            self.commands.append(arm(self, d.node))
        except SplitError as e:
            self.commands.append(self._error_command(d.kind, d.line, e))

    def _error_command(self, kind: str | None, line: int, e: SplitError) -> dict:
        return {"type": COMMAND_TYPE.get(kind or "", kind or "unknown"), "line": line,
                "parse_error": e.message, "parse_error_at": f"{self.filename}:{e.line}"}

    # -- module forms ----------------------------------------------------------------

    def _with_module(self, command: dict, form: ModuleForm, text_failure_ok: bool) -> dict:
        command["component"] = form.component
        if form.name is not None:
            command["name"] = form.name
        index, self.count = self.count, self.count + 1
        if form.binary is not None:
            command["filename"] = self._add_file(form.binary, ".wasm", index)
            command["module_type"] = "binary"
        elif form.error is not None:
            self._parse_failed(command, form, EncodeError(form.error), text_failure_ok, index)
        else:
            self.pending.append(Pending(command, form, text_failure_ok, index))
        return command

    def _add_file(self, data: bytes, ext: str, index: int) -> str:
        name = f"{self.stem}.{index}{ext}"
        self.files[name] = data
        return name

    def _encode_pending(self, encoder: Encoder) -> None:
        results = encoder.encode_many([p.form.text for p in self.pending])
        for p, result in zip(self.pending, results):
            if isinstance(result, bytes):
                p.command["filename"] = self._add_file(result, ".wasm", p.index)
                p.command["module_type"] = "binary"
                continue
            self._parse_failed(p.command, p.form, result, p.text_failure_ok, p.index)

    def _parse_failed(self, command: dict, form: ModuleForm, err: EncodeError,
                      text_failure_ok: bool, index: int) -> None:
        """A verdict (text assert_malformed/assert_invalid) or an error command."""
        where = self._error_location(form, err)
        if err.crash:
            self.encoder_faults += 1
        if text_failure_ok and not err.crash:
            text = form.raw if form.raw is not None else form.text.encode("utf-8")
            command["filename"] = self._add_file(text, ".wat", index)
            command["module_type"] = "text"
            command["parse_error"] = err.message
            command["parse_error_at"] = where
        else:
            kept = {k: command[k] for k in ("type", "line") if k in command}
            command.clear()
            command.update(kept, parse_error=err.message, parse_error_at=where)

    def _error_location(self, form: ModuleForm, err: EncodeError) -> str:
        """file:line[:col] of a parse error (a quote form's own line: its text is built)."""
        if form.quoted or err.line is None:
            return f"{self.filename}:{form.line}"
        return f"{self.filename}:{form.line + err.line}:{(err.col or 0) + 1}"

    # -- arms: one per directive kind --------------------------------------------------

    def module(self, node: SList) -> dict:
        form = module_form(node, self.text)
        return self._with_module({"type": "module", "line": node.line}, form, False)

    def module_definition(self, node: SList) -> dict:
        form = module_form(node, self.text, definition=True)
        return self._with_module({"type": "module_definition", "line": node.line}, form, False)

    def module_instance(self, node: SList) -> dict:
        ids = [it.text for it in node.items[2:] if isinstance(it, Atom)]
        if len(ids) != len(node.items) - 2 or len(ids) > 2 or any(i[:1] != "$" for i in ids):
            raise SplitError(node.line, "expected (component instance $instance? $definition?)")
        cmd = {"type": "module_instance", "line": node.line,
               "component": node.keyword(0) == "component"}
        if ids:
            cmd["instance"] = ids[0]
        if len(ids) > 1:
            cmd["module"] = ids[1]
        return cmd

    def register(self, node: SList) -> dict:
        rest = node.items[1:]
        if not rest or not isinstance(rest[0], Str) or len(rest) > 2 or (
                len(rest) == 2 and not _is_id(rest[1])):
            raise SplitError(node.line, 'expected (register "name" $instance?)')
        cmd = {"type": "register", "line": node.line, "as": rest[0].text()}
        if len(rest) == 2:
            cmd["name"] = rest[1].text
        return cmd

    def invoke(self, node: SList) -> dict:
        return {"type": "action", "line": node.line, "action": action(node)}

    def assert_return(self, node: SList) -> dict:
        exec_ = _list_at(node, 1, "an action")
        expected = []
        for item in node.items[2:]:
            if not isinstance(item, SList):
                raise SplitError(node.line, "expected a parenthesised result")
            expected.append(component_values.value(item, result=True))
        return {"type": "assert_return", "line": node.line, "action": action(exec_),
                "expected": expected}

    def assert_trap(self, node: SList) -> dict:
        exec_ = _list_at(node, 1, "an action or a module")
        text = _message(node, 2)
        if exec_.keyword(0) in ("module", "component"):
            form = module_form(exec_, self.text)
            cmd = {"type": "assert_uninstantiable", "line": node.line, "text": text}
            return self._with_module(cmd, form, False)
        return {"type": "assert_trap", "line": node.line, "action": action(exec_),
                "text": text}

    def assert_exhaustion(self, node: SList) -> dict:
        call = _list_at(node, 1, "an invoke")
        if call.keyword(0) != "invoke":
            raise SplitError(node.line, "assert_exhaustion takes an (invoke ...)")
        return {"type": "assert_exhaustion", "line": node.line, "action": action(call),
                "text": _message(node, 2)}

    def assert_exception(self, node: SList) -> dict:
        return {"type": "assert_exception", "line": node.line,
                "action": action(_list_at(node, 1, "an action"))}

    def assert_invalid(self, node: SList) -> dict:
        return self._assert_module(node, "assert_invalid", True)

    def assert_malformed(self, node: SList) -> dict:
        return self._assert_module(node, "assert_malformed", True)

    def assert_unlinkable(self, node: SList) -> dict:
        form = module_form(_list_at(node, 1, "a module"), self.text)
        if form.quoted:
            raise SplitError(node.line, "assert_unlinkable takes no quote form")
        return self._assert_module(node, "assert_unlinkable", False, form)

    def _assert_module(self, node: SList, kind: str, text_failure_ok: bool,
                       form: ModuleForm | None = None) -> dict:
        form = form or module_form(_list_at(node, 1, "a module"), self.text)
        cmd = {"type": kind, "line": node.line, "text": _message(node, 2)}
        return self._with_module(cmd, form, text_failure_ok)


ARMS = {
    "module": FileConverter.module, "component": FileConverter.module,
    "module_definition": FileConverter.module_definition,
    "module_instance": FileConverter.module_instance,
    "register": FileConverter.register, "invoke": FileConverter.invoke,
    "assert_return": FileConverter.assert_return, "assert_trap": FileConverter.assert_trap,
    "assert_exhaustion": FileConverter.assert_exhaustion,
    "assert_exception": FileConverter.assert_exception,
    "assert_invalid": FileConverter.assert_invalid,
    "assert_malformed": FileConverter.assert_malformed,
    "assert_unlinkable": FileConverter.assert_unlinkable,
}


def _is_id(item) -> bool:
    return isinstance(item, Atom) and item.text.startswith("$")


def _list_at(node: SList, i: int, what: str) -> SList:
    if i >= len(node.items) or not isinstance(node.items[i], SList):
        raise SplitError(node.line, f"({node.keyword(0)} ...) expects {what}")
    return node.items[i]


def _message(node: SList, i: int) -> str:
    if len(node.items) != i + 1 or not isinstance(node.items[i], Str):
        raise SplitError(node.line, f"({node.keyword(0)} ...) expects a message string last")
    return node.items[i].text()


def action(node: SList) -> dict:
    """(invoke $id? "name" args...) or (get $id? "name") as a wast2json action."""
    head = node.keyword(0)
    if head not in ("invoke", "get"):
        raise SplitError(node.line, f"expected (invoke ...) or (get ...), found {head!r}")
    i = 1
    out: dict = {"type": head}
    if i < len(node.items) and _is_id(node.items[i]):
        out["module"] = node.items[i].text
        i += 1
    if i >= len(node.items) or not isinstance(node.items[i], Str):
        raise SplitError(node.line, f"({head} ...) expects an export name")
    out["field"] = node.items[i].text()
    args = node.items[i + 1:]
    if head == "get":
        if args:
            raise SplitError(node.line, "(get ...) takes no arguments")
        return out
    out["args"] = []
    for arg in args:
        if not isinstance(arg, SList):
            raise SplitError(node.line, "expected a parenthesised argument")
        out["args"].append(component_values.value(arg))
    return out


# ---------------------------------------------------------------------------------------
# Requirements: wasmtime's `;;!` lines and the suite's nyi.txt


def requirements(text: str) -> dict:
    """wasmtime's per-file settings: the `;;!` lines, read as TOML (as wasmtime does)."""
    lines = [ln[3:] for ln in text.splitlines() if ln.startswith(";;!")]
    if not lines:
        return {}
    try:
        return tomllib.loads("\n".join(lines))
    except tomllib.TOMLDecodeError as e:
        return {"invalid": f";;! lines are not TOML: {e}"}


def nyi(path: Path) -> bool:
    """True when the file is listed in a `nyi.txt` of a folder above it."""
    path = path.resolve()
    for folder in path.parents:
        listing = folder / "nyi.txt"
        if listing.is_file():
            rel = path.relative_to(folder).as_posix()
            for ln in listing.read_text(encoding="utf-8").splitlines():
                entry = ln.strip()
                if entry and not entry.startswith("#") and entry.removeprefix("./") == rel:
                    return True
            return False
    return False


# ---------------------------------------------------------------------------------------
# Entry points


_shared_encoder: Encoder | None = None


def shared_encoder() -> Encoder:
    """The run's one encoder process (started on first use, closed at exit)."""
    global _shared_encoder
    if _shared_encoder is None:
        _shared_encoder = Encoder()
        atexit.register(_shared_encoder.close)
    return _shared_encoder


def convert_text(text: str, filename: str, encoder: Encoder | None = None) -> tuple[dict, dict]:
    """(commands document, {binary filename: bytes}) of a component wast text."""
    stem = Path(filename).stem
    conv = FileConverter(filename, stem, text)
    doc = conv.convert(encoder or shared_encoder())
    doc["requirements"] = requirements(text)
    if conv.encoder_faults:
        doc["encoder_faults"] = conv.encoder_faults
    return doc, conv.files


def write(doc: dict, files: dict, out_dir: Path, stem: str) -> Path:
    """Write the JSON (as STEM.json) and the binaries into out_dir; return the JSON path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (out_dir / name).write_bytes(data)
    json_path = out_dir / f"{stem}.json"
    json_path.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return json_path


@functools.lru_cache(maxsize=1)
def frontend_version() -> str:
    """A hash of the code that produces the output (part of every cache key)."""
    h = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for p in sorted([*here.glob("component*.py"), here / "splitter.py",
                     ROOT / "tools" / "encoder.mjs", ROOT / "tools" / "package-lock.json"]):
        if p.exists():
            h.update(p.name.encode() + b"\0" + p.read_bytes())
    return h.hexdigest()[:16]


def convert(wast_path: str | os.PathLike, encoder: Encoder | None = None,
            cache_dir: Path | None = None) -> tuple[dict, Path]:
    """The runner's entry: (commands document, directory of its binaries) for one component
    wast file, converted once and cached by content under .cache/component/."""
    path = Path(wast_path)
    data = path.read_bytes()
    # the name is part of the key: binaries and the JSON are named after the file
    key = hashlib.sha256(path.name.encode() + b"\0" + data + frontend_version().encode())
    key = key.hexdigest()[:24]
    out_dir = (cache_dir or cache_root() / "component") / key
    json_path = out_dir / f"{path.stem}.json"
    if not json_path.exists():
        doc, files = convert_text(data.decode("utf-8"), path.name, encoder)
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=".tmp-"))
        write(doc, files, tmp, path.stem)
        if doc.get("encoder_faults"):
            # a dead or hung encoder is a harness fault, not a property of the text: this
            # conversion is used once and never cached
            atexit.register(shutil.rmtree, tmp, ignore_errors=True)
            doc["nyi"] = nyi(path)
            return doc, tmp
        try:
            tmp.rename(out_dir)
        except OSError:  # another worker got there first
            shutil.rmtree(tmp, ignore_errors=True)
    doc = json.loads(json_path.read_text(encoding="utf-8"))
    doc["nyi"] = nyi(path)
    return doc, out_dir


def convert_file(wast_path: str | os.PathLike, out_dir: str | os.PathLike | None = None,
                 encoder: Encoder | None = None) -> Path:
    """`python -m harness convert`: write FILE's JSON and binaries to out_dir (default: a
    folder named after the file, next to the current directory); return the JSON path."""
    path = Path(wast_path)
    target = Path(out_dir) if out_dir is not None else Path(path.stem)
    doc, files = convert_text(path.read_text(encoding="utf-8"), path.name, encoder)
    doc["nyi"] = nyi(path)
    return write(doc, files, target, path.stem)
