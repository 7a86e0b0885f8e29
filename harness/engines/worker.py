"""WorkerEngine: an engine in a child process speaking the JSON-lines protocol (PROTOCOL.md).

One class serves every worker engine (`ref`, `node`, the test fakes). Requests may be
pipelined: `call_many` writes a batch of requests at once and reads the replies in order,
so a run of consecutive actions costs one round trip. The worker is isolated:

- it dies, closes its pipe, or prints a line that is not a reply to the request it is
  answering: `EngineCrash` for that request;
- it does not answer one request within `timeout` seconds: it is killed, `EngineTimeout`;

in both cases the process is gone with all its state; the next request starts a fresh one
(`generation` counts the restarts so that the runner knows which handles died).
"""
from __future__ import annotations

import collections
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from typing import Any

from harness.engine import (EngineCrash, EngineError, EngineFault, EngineTimeout,
                            EngineUnavailable, EngineUnsupported, Handle, Value)

# Requests per batch. Writing a batch reads replies meanwhile (_write), so no batch size
# can deadlock; this bound only keeps the memory of one exchange small.
MAX_BATCH = 256


EOF: Any = object()  # the pipe closed (a sentinel, compared by identity)
_encode = json.JSONEncoder(separators=(",", ":")).encode
_DECODE = json.JSONDecoder().decode


class Lost(Exception):
    """A pipelined request that was never answered because the worker died before it."""


class WorkerEngine:
    def __init__(self, name: str, argv: list[str], *, timeout: float = 10.0,
                 env: dict[str, str] | None = None):
        self.name = name
        self.argv = argv
        self.timeout = timeout
        self.env = env
        self.generation = 0
        self._proc: subprocess.Popen | None = None
        self._buf = b""
        self._lines: collections.deque[str] = collections.deque()
        self._eof = False
        self._next_id = 0
        self._version: str | None = None
        self._stderr = None

    # ---- process management ------------------------------------------------------------
    def _start(self) -> subprocess.Popen:
        exe = self.argv[0]
        if not (os.path.exists(exe) or shutil.which(exe)):
            raise EngineUnavailable(f"engine {self.name}: {exe} not found")
        self._stderr = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=self._stderr, env=self.env, bufsize=0)
        self._buf = b""
        self._lines = collections.deque()
        self._eof = False
        os.set_blocking(self._proc.stdin.fileno(), False)
        return self._proc

    def _stop(self) -> str:
        """Kill the worker; return a short description of how it ended (with stderr tail)."""
        proc, self._proc = self._proc, None
        self.generation += 1
        if proc is None:
            return ""
        if proc.poll() is None:
            proc.kill()
        rc = proc.wait()
        for f in (proc.stdin, proc.stdout):
            try:
                f.close()
            except OSError:
                pass
        tail = ""
        if self._stderr is not None:
            self._stderr.seek(0, os.SEEK_END)
            size = self._stderr.tell()
            self._stderr.seek(max(0, size - 400))
            tail = self._stderr.read().decode("utf-8", "replace").strip().splitlines()
            tail = tail[-1] if tail else ""
            self._stderr.close()
            self._stderr = None
        how = f"killed by signal {-rc}" if rc < 0 else f"exit status {rc}"
        return how + (f" ({tail})" if tail else "")

    def close(self) -> None:
        proc = self._proc
        if proc is not None and proc.poll() is None:
            try:
                proc.stdin.close()
                proc.wait(timeout=1)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self._stop()
        self.generation -= 1  # a deliberate close loses nothing the runner still holds

    # ---- the pipe ------------------------------------------------------------------------
    def _read_line(self, deadline: float) -> Any:
        """One line from the worker, or None on timeout; EOF when the pipe closed."""
        while not self._lines:
            if self._eof:
                return EOF
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([self._proc.stdout.fileno()], [], [], remaining)
            if not ready:
                return None
            self._take()
        return self._lines.popleft()

    def _take(self) -> None:
        """Read what the worker has written (the pipe is readable); split complete lines."""
        chunk = os.read(self._proc.stdout.fileno(), 1 << 16)
        if not chunk:
            self._eof = True
            return
        self._buf += chunk
        if b"\n" in chunk:
            complete, self._buf = self._buf.rsplit(b"\n", 1)
            self._lines.extend(complete.decode("utf-8", "replace").split("\n"))

    def _write(self, data: bytes) -> str | None:
        """Write a batch while reading replies as they come, so that neither side can block
        on a full pipe. None when written; else why not ("timeout" or "closed")."""
        win, wout = self._proc.stdin.fileno(), self._proc.stdout.fileno()
        view = memoryview(data)
        deadline = time.monotonic() + self.timeout
        while view:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return "timeout"
            readable, writable, _ = select.select([] if self._eof else [wout], [win], [],
                                                  remaining)
            if readable:
                self._take()
            if writable:
                try:
                    n = os.write(win, view[:1 << 16])
                except (BrokenPipeError, OSError):
                    return "closed"
                view = view[n:]
                deadline = time.monotonic() + self.timeout
        return None

    def call_many(self, requests: list[dict[str, Any]]) -> list[Any]:
        """Send requests pipelined; one result per request: the `ok` dict or an exception
        (EngineError, EngineUnsupported, EngineFault, EngineCrash, EngineTimeout, Lost)."""
        out: list[Any] = []
        for i in range(0, len(requests), MAX_BATCH):
            out += self._exchange(requests[i:i + MAX_BATCH])
        return out

    def _exchange(self, requests: list[dict[str, Any]]) -> list[Any]:
        proc = self._proc or self._start()
        ids = []
        lines = []
        for req in requests:
            self._next_id += 1
            ids.append(self._next_id)
            lines.append(f'{{"id":{self._next_id},' + _encode(req)[1:])
        failed = self._write(("\n".join(lines) + "\n").encode())
        if failed == "timeout":
            self._stop()
            return [EngineTimeout(f"worker took no input for {self.timeout:g}s; killed")] + \
                [Lost()] * (len(ids) - 1)
        if failed:
            return [EngineCrash(f"worker died: {self._stop()}")] + [Lost()] * (len(ids) - 1)
        results: list[Any] = []
        for rid in ids:
            line = self._read_line(time.monotonic() + self.timeout)
            if line is None:
                self._stop()
                results.append(EngineTimeout(f"no reply within {self.timeout:g}s; worker killed"))
                break
            reply = _decode(line, rid)
            if isinstance(reply, str):
                how = self._stop()
                results.append(EngineCrash(f"{reply}; {how}" if line is not EOF
                                           else f"worker died: {how}"))
                break
            results.append(_result(reply))
        return results + [Lost()] * (len(ids) - len(results))

    def call(self, op: str, **fields: Any) -> dict[str, Any]:
        (result,) = self.call_many([{"op": op, **fields}])
        if isinstance(result, Exception):
            raise result
        return result

    # ---- the Engine protocol -----------------------------------------------------------
    def version(self) -> str:
        if self._version is None:
            self._version = self.call("version")["version"]
        return self._version

    def reset(self) -> None:
        self.call("reset")

    def load(self, path: str, *, component: bool, features: dict | None = None) -> Handle:
        extra = {"features": features} if features else {}
        return self.call("load", path=path, component=component, **extra)["module"]

    def instantiate(self, module: Handle) -> Handle:
        return self.call("instantiate", module=module)["instance"]

    def register(self, name: str, instance: Handle) -> None:
        self.call("register", instance=instance, **{"as": name})

    def invoke(self, instance: Handle, field: str, args: list[Value]) -> list[Value]:
        return self.call("invoke", instance=instance, field=field, args=args)["results"]

    def get(self, instance: Handle, field: str) -> Value:
        return self.call("get", instance=instance, field=field)["results"][0]


def _decode(line: str, rid: int) -> dict | str:
    """The reply, or a description of why the line is garbage."""
    if line is EOF:
        return "worker closed its pipe"
    try:
        reply = _DECODE(line)
    except ValueError:
        return f"garbage on the worker pipe: {line[:80]!r}"
    if not isinstance(reply, dict) or reply.get("id") != rid:
        return f"reply out of order (wanted id {rid}): {line[:80]!r}"
    return reply


def _result(reply: dict) -> Any:
    if "ok" in reply:
        return reply["ok"]
    if "error" in reply:
        err = reply["error"]
        try:
            e = EngineError(err["kind"], str(err.get("message", "")), tuple(err.get("alt", ())))
        except (AssertionError, KeyError, TypeError):
            return EngineFault(f"bad error reply: {reply}")
        e.out_of_fuel = err.get("out_of_fuel") is True
        e.trace = err.get("trace") if isinstance(err.get("trace"), str) else None
        return e
    if "unsupported" in reply:
        return EngineUnsupported(str(reply["unsupported"]))
    if "fatal" in reply:
        return EngineFault(f"worker fault: {reply['fatal']}")
    return EngineFault(f"bad reply: {reply}")
