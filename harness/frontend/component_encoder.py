"""Client of tools/encoder.mjs: component and module text to binary, in one node process.

`Encoder.encode_many(texts)` sends a whole batch down the pipe (a writer thread, so neither
side blocks on a full pipe) and reads the replies in order. Each result is the binary
(`bytes`) or an `EncodeError` with the parser's message and its 0-based line/column in the
text. If node dies, or gives no reply for `timeout` seconds (then it is killed), the request
in flight gets an EncodeError and a fresh process serves the rest; a panic inside the parser
is handled inside node (a fresh parser instance).
"""
from __future__ import annotations

import base64
import json
import re
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENCODER_JS = ROOT / "tools" / "encoder.mjs"


@dataclass
class EncodeError:
    message: str
    line: int | None = None  # 0-based, in the text sent
    col: int | None = None
    crash: bool = False  # the parser panicked or the process died (a harness fault)


# The wast crate's Display texts for its lexer errors (the Debug form names the variant).
LEX_MESSAGES = {
    "DanglingBlockComment": "unterminated block comment",
    "UnexpectedEof": "unexpected end-of-file",
    "NumberTooBig": "number is too big to parse",
    "LoneUnderscore": "bare underscore in numeric literal",
}
LEX_WITH_CHAR = {
    "Unexpected": "unexpected character",
    "InvalidStringElement": "invalid character in string",
    "InvalidStringEscape": "invalid string escape",
    "InvalidHexDigit": "invalid hex digit",
    "InvalidDigit": "invalid decimal digit",
    "ConfusingUnicode": "likely-confusing unicode character found",
}


def _unescape_debug(s: str) -> str:
    """Undo Rust's Debug escaping of a string literal's contents."""
    return re.sub(r'\\(u\{[0-9a-f]+\}|.)', lambda m: _unescape_one(m.group(1)), s)


def _unescape_one(esc: str) -> str:
    if esc.startswith("u{"):
        return chr(int(esc[2:-1], 16))
    return {"n": "\n", "t": "\t", "r": "\r", "0": "\0"}.get(esc, esc)


def error_from_debug(debug: str) -> EncodeError:
    """An EncodeError from the Debug text of a wasm-tools parse error."""
    line = col = None
    m = re.search(r"Text \{ line: (\d+), col: (\d+)", debug)
    if m:
        line, col = int(m.group(1)), int(m.group(2))
    m = re.search(r'kind: Custom\("((?:[^"\\]|\\.)*)"\)', debug)
    if m:
        return EncodeError(_unescape_debug(m.group(1)), line, col)
    m = re.search(r"kind: Lex\((\w+)(?:\((.*?)\))?\) \}", debug)
    if m:
        variant, arg = m.group(1), m.group(2)
        if variant in LEX_MESSAGES:
            return EncodeError(LEX_MESSAGES[variant], line, col)
        if variant in LEX_WITH_CHAR and arg:
            return EncodeError(f"{LEX_WITH_CHAR[variant]} {arg}", line, col)
        if variant == "InvalidUnicodeValue" and arg:
            return EncodeError(f"invalid unicode scalar value 0x{int(arg):x}", line, col)
        return EncodeError(f"lexer error: {variant}{'(' + arg + ')' if arg else ''}", line, col)
    return EncodeError(debug, line, col)


class Encoder:
    """One long-lived node process running tools/encoder.mjs."""

    def __init__(self, node: str = "node", timeout: float = 60.0):
        self.node = node
        self.timeout = timeout
        self.proc: subprocess.Popen | None = None
        self.next_id = 0
        self.restarts = 0

    def _start(self) -> subprocess.Popen:
        if self.proc is None or self.proc.poll() is not None:
            if self.proc is not None:
                self.restarts += 1
            self.proc = subprocess.Popen(
                [self.node, str(ENCODER_JS)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL, cwd=ROOT / "tools", text=True, encoding="utf-8",
                bufsize=1 << 16)
        return self.proc

    def encode(self, text: str) -> bytes | EncodeError:
        return self.encode_many([text])[0]

    def encode_many(self, texts: list[str]) -> list[bytes | EncodeError]:
        results: list[bytes | EncodeError] = []
        while len(results) < len(texts):
            results.extend(self._batch(texts[len(results):]))
        return results

    def _batch(self, texts: list[str]) -> list[bytes | EncodeError]:
        """Encode texts in order; stop early (with a crash error) if the process dies."""
        proc = self._start()
        first_id = self.next_id
        self.next_id += len(texts)
        lines = [json.dumps({"id": first_id + i, "text": t}) + "\n" for i, t in enumerate(texts)]
        writer = threading.Thread(target=_write_all, args=(proc, lines), daemon=True)
        writer.start()
        watchdog = _Watchdog(proc, self.timeout)
        try:
            return self._replies(proc, first_id, len(texts), watchdog)
        finally:
            watchdog.stop()
            writer.join()

    def _replies(self, proc, first_id: int, n: int, watchdog) -> list[bytes | EncodeError]:
        out: list[bytes | EncodeError] = []
        for i in range(n):
            raw = proc.stdout.readline()
            watchdog.progress()
            if not raw:
                why = (f"encoder gave no reply in {self.timeout:g} s (killed)"
                       if watchdog.fired else "encoder process died")
                out.append(EncodeError(why, crash=True))
                self._stop()
                break
            reply = json.loads(raw)
            if reply.get("id") != first_id + i:
                out.append(EncodeError(f"encoder reply out of order: {raw[:200]}", crash=True))
                self._stop()
                break
            out.append(_result(reply))
        return out

    def _stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._stop()
        self.proc = None

    def __enter__(self) -> "Encoder":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _Watchdog:
    """Kills the process when no reply came for `timeout` seconds."""

    def __init__(self, proc: subprocess.Popen, timeout: float):
        self.proc, self.timeout = proc, timeout
        self.last = time.monotonic()
        self.fired = False
        self.done = threading.Event()
        threading.Thread(target=self._watch, daemon=True).start()

    def progress(self) -> None:
        self.last = time.monotonic()

    def stop(self) -> None:
        self.done.set()

    def _watch(self) -> None:
        while not self.done.wait(min(1.0, self.timeout)):
            if time.monotonic() - self.last > self.timeout:
                self.fired = True
                self.proc.kill()
                return


def _write_all(proc: subprocess.Popen, lines: list[str]) -> None:
    try:
        for line in lines:
            proc.stdin.write(line)
        proc.stdin.flush()
    except (BrokenPipeError, OSError, ValueError):
        pass  # the reader sees the death


def _result(reply: dict) -> bytes | EncodeError:
    if "wasm" in reply:
        return base64.b64decode(reply["wasm"])
    if "error" in reply:
        return error_from_debug(reply["error"])
    return EncodeError(f"encoder crash: {reply.get('crash', reply)}", crash=True)
