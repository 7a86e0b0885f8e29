"""The directive runner: one arm per directive kind, in the shape of the spec interpreter's
`script/run.ml`.

It keeps what the spec interpreter keeps: the current instance, named instances, named
module definitions and registered names. Each of them remembers the engine `generation` it
was made in: when the engine crashed or timed out (and was restarted, losing its state) a
directive that needs a lost instance is `not_run` with the reason; a module directive starts
afresh and the file goes on.

Consecutive actions (invoke, get, assert_return, assert_trap, assert_exhaustion) and
load-only assertions (assert_invalid, assert_malformed) are sent to the engine as one
pipelined batch when the engine offers `call_many` (WorkerEngine).

Limits and traces (RunOptions, for worker engines; PROTOCOL.md): each instantiate and invoke
request carries the fuel budget (`harness run --fuel`): a directive that uses it up is a
`timeout` ("fuel exhausted"), decided by instruction count rather than wall time, and the engine
keeps its state. With `--trace-failures` every such request is traced and a directive that does
not pass keeps the trace of its own run (the boundary crossings, `cmref run --trace` text).

Command schema: wast2json's json-from-wast, plus, for components: "component": true on any
command with a binary; "module_definition" {"filename", "name"?} (load only);
"module_instance" {"instance"?, "module"} (instantiate a definition); "parse_error": MSG on a
command whose text the front-end rejected (the verdict for a text assert_malformed).
"""
from __future__ import annotations

import json
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.engine import (EngineCrash, EngineError, EngineFault, EngineTimeout,
                            EngineUnavailable, EngineUnsupported)
from harness.engines.worker import Lost
from harness.values import results_match, show

PASS, FAIL, SKIP, XFAIL, XPASS = "pass", "fail", "skip", "xfail", "xpass"
CRASH, TIMEOUT, ERROR, NOT_RUN = "crash", "timeout", "error", "not_run"
OUTCOMES = (PASS, FAIL, SKIP, XFAIL, XPASS, CRASH, TIMEOUT, ERROR, NOT_RUN)
FAILING = (FAIL, XPASS, CRASH, TIMEOUT, ERROR)

ACTIONS = ("action", "assert_return", "assert_trap", "assert_exhaustion")
BATCHED = ACTIONS + ("assert_invalid", "assert_malformed")


@dataclass(slots=True)
class Result:
    """The outcome of one directive (one row of the results database)."""
    line: int
    kind: str
    outcome: str
    phase: str | None = None          # the phase the directive was decided in
    expected: str | None = None
    actual: str | None = None
    message: str | None = None        # engine message, or the reason of a skip/not_run/error
    message_match: bool | None = None  # expected error text found in the engine's message
    duration: float = 0.0
    reason: str | None = None         # why it is a skip / xfail / not_run / error
    trace: str | None = None          # boundary crossings of a failing directive (--trace-failures)

    def detail(self) -> str:
        return self.reason or self.message or ""


@dataclass
class Ref:
    """An engine handle (module or instance) and the engine generation it belongs to."""
    handle: Any
    generation: int
    line: int


@dataclass
class Failed:
    """A named thing that never came to be: its module failed at `line`."""
    line: int
    why: str


class NotRun(Exception):
    pass


# The default instruction budget of one instantiate or invoke (`harness run --fuel`): 50 times
# what the suites' largest directives need (core skip-stack-guard-page.wast's deep recursions:
# between 10^7 and 2 * 10^7; everything else fits in 10^7); the ref engine spends about 2 s of
# CPU on it in the tightest loops, inside the wall-clock --timeout that stays the backstop.
DEFAULT_FUEL = 1_000_000_000


@dataclass(frozen=True)
class RunOptions:
    fuel: int | None = DEFAULT_FUEL   # None or 0: no instruction budget
    trace_failures: bool = False


class OutOfFuel(EngineTimeout):
    """The directive used up its instruction budget: a timeout decided by fuel, not by wall
    time; the engine was not killed and keeps its state."""


def fuel_timeout(fuel: int | None) -> OutOfFuel:
    return OutOfFuel(f"fuel exhausted: the directive ran more than {fuel} instructions "
                     f"(harness --fuel {fuel})")


UNAVAILABLE = (NotRun, EngineUnsupported, EngineCrash, EngineTimeout, EngineFault)


def why(e: Exception) -> str:
    """How a module that never came to be is described to the directives needing it."""
    if isinstance(e, EngineUnsupported):
        return f"was skipped: unsupported by engine: {e}"
    if isinstance(e, EngineCrash):
        return "was lost: the engine crashed on it"
    if isinstance(e, OutOfFuel):
        return "ran out of fuel"
    if isinstance(e, EngineTimeout):
        return "was lost: the engine timed out on it"
    if isinstance(e, NotRun):
        return f"was not run: {e}"
    return f"was not run: harness fault: {e}"


@dataclass
class FileState:
    current: Ref | Failed | None = None
    named: dict[str, Ref | Failed] = field(default_factory=dict)
    definitions: dict[str, Ref | Failed] = field(default_factory=dict)
    last_definition: Ref | Failed | None = None
    registered: dict[str, Ref | Failed] = field(default_factory=dict)
    lost_at: int = 0                  # line of the last crash/timeout


class Runner:
    def __init__(self, engine, skips: dict[int | None, str] | None = None,
                 options: RunOptions | None = None):
        self.engine = engine
        self.skips = {k: v for k, v in (skips or {}).items() if k is not None}
        self.options = options or RunOptions()
        self.trace: str | None = None  # of the last traced instantiation

    def limits(self) -> dict:
        """Extra fields of instantiate and invoke requests (worker engines only)."""
        if not hasattr(self.engine, "call_many"):
            return {}
        extra: dict = {}
        if self.options.fuel:
            extra["fuel"] = self.options.fuel
        if self.options.trace_failures:
            extra["trace"] = True
        return extra

    # ---- driving a file ----------------------------------------------------------------
    def run(self, doc: dict, folder: Path) -> list[Result]:
        self.folder = folder
        # Per-file feature switches (wasmtime's `;;!` lines, e.g. multi_memory = true),
        # passed to the engine with each core module load.
        self.features = {k: v for k, v in (doc.get("requirements") or {}).items()
                         if isinstance(v, bool)}
        self.state = FileState()
        self.preloaded: tuple[dict, Any, int] | None = None
        cmds = doc["commands"]
        results: list[Result] = []
        try:
            self.engine.reset()
        except (EngineCrash, EngineTimeout, EngineFault, EngineUnavailable) as e:
            return [Result(c.get("line", 0), c["type"], ERROR, reason=f"engine reset: {e}")
                    for c in cmds]
        i = 0
        while i < len(cmds):
            if unreadable(cmds[i]) or cmds[i].get("line") in self.skips:
                results.append(self.not_running(cmds[i]))
                i += 1
                continue
            j = i
            while (j < len(cmds) and cmds[j]["type"] in BATCHED and not unreadable(cmds[j])
                   and cmds[j].get("line") not in self.skips):
                j += 1
            if j > i:
                nxt = cmds[j] if j < len(cmds) else None
                results += self.run_batch(cmds[i:j], nxt if preloadable(nxt) else None)
                i = j
            else:
                results.append(self.run_one(cmds[i]))
                i += 1
        return results

    def run_one(self, cmd: dict) -> Result:
        arm = getattr(self, "do_" + cmd["type"], None)
        start = time.perf_counter()
        self.trace = None
        if arm is None:
            res = Result(cmd["line"], cmd["type"], ERROR,
                         reason=f"unknown directive kind {cmd['type']!r}")
        else:
            try:
                res = arm(cmd)
            except NotRun as e:
                res = Result(cmd["line"], cmd["type"], NOT_RUN, reason=str(e))
            except Exception as e:  # one directive's harness fault never stops the file
                res = self.fault(cmd, e)
        keep_trace(res, self.trace)
        res.duration = time.perf_counter() - start
        return res

    def not_running(self, cmd: dict) -> Result:
        """A directive the front-end could not read (an error) or that the expectations say
        to skip; a module of it never exists."""
        line = cmd.get("line", 0)
        skip = self.skips.get(line) if not unreadable(cmd) else None
        why_not = "was skipped (expectations)" if skip else "could not be read by the front-end"
        if cmd["type"] == "module":
            self.bind(cmd.get("name"), Failed(line, why_not))
        elif cmd["type"] == "module_definition":
            self.state.last_definition = Failed(line, why_not)
            if cmd.get("name") is not None:
                self.state.definitions[cmd["name"]] = self.state.last_definition
        elif cmd["type"] == "module_instance":
            self.bind(cmd.get("instance"), Failed(line, why_not))
        elif cmd["type"] == "register" and cmd.get("as"):
            self.state.registered[cmd["as"]] = Failed(line, why_not)
        if skip:
            return Result(line, cmd["type"], SKIP, reason=skip)
        where = cmd.get("parse_error_at")
        return Result(line, cmd["type"], ERROR, phase="parse",
                      reason=f"front-end: {cmd['parse_error']}" + (f" (at {where})" if where else ""))

    def fault(self, cmd: dict, e: BaseException) -> Result:
        """crash / timeout / unsupported / harness fault -> the directive's outcome."""
        line, kind = cmd["line"], cmd["type"]
        if isinstance(e, EngineCrash):
            self.state.lost_at = line
            return Result(line, kind, CRASH, message=str(e))
        if isinstance(e, OutOfFuel):     # the engine lives on: nothing was lost
            return Result(line, kind, TIMEOUT, message=str(e))
        if isinstance(e, EngineTimeout):
            self.state.lost_at = line
            return Result(line, kind, TIMEOUT, message=str(e))
        if isinstance(e, EngineUnsupported):
            return Result(line, kind, SKIP, reason=f"unsupported by engine: {e}")
        if isinstance(e, Lost):
            return Result(line, kind, NOT_RUN,
                          reason=f"engine restarted after line {self.state.lost_at}")
        return Result(line, kind, ERROR, reason=f"{type(e).__name__}: {e}")

    # ---- state ---------------------------------------------------------------------------
    @property
    def generation(self) -> int:
        return getattr(self.engine, "generation", 0)

    def live(self, ref: Ref | Failed | None, what: str) -> Any:
        """The handle of `ref`, or NotRun when it is missing, failed or lost in a crash."""
        if ref is None:
            raise NotRun(f"no {what}")
        if isinstance(ref, Failed):
            raise NotRun(f"{what} (line {ref.line}) {ref.why}")
        if ref.generation != self.generation:
            raise NotRun(f"{what} (line {ref.line}) was lost when the engine was restarted "
                         f"after line {self.state.lost_at}")
        return ref.handle

    def instance(self, name: str | None) -> Any:
        if name is None:
            return self.live(self.state.current, "current module")
        return self.live(self.state.named.get(name), f"module {name}")

    def check_imports(self, cmd: dict) -> None:
        """NotRun when the module imports a registered name that was lost or failed."""
        dead = {n for n, r in self.state.registered.items()
                if isinstance(r, Failed) or r.generation != self.generation}
        if not dead or cmd.get("component"):
            return
        for name in imported_modules(self.folder / cmd["filename"]) & dead:
            self.live(self.state.registered[name], f"registered module {name!r}")

    def path(self, cmd: dict) -> str:
        return str(self.folder / cmd["filename"])

    def preload_fault(self, cmd: dict) -> None:
        """Charge a crash or timeout of this directive's preloaded load to the directive."""
        pre = self.preloaded
        if pre is not None and pre[0] is cmd and isinstance(pre[1], (EngineCrash, EngineTimeout)):
            self.preloaded = None
            raise pre[1]

    def load(self, cmd: dict) -> Ref:
        pre, self.preloaded = self.preloaded, None
        if pre is not None and pre[0] is cmd and pre[2] == self.generation:
            reply = pre[1]
            if isinstance(reply, dict):
                return Ref(reply["module"], self.generation, cmd["line"])
            if isinstance(reply, EngineError):
                raise reply
            # anything else (lost, unsupported, fault ...): load again, for real
        kw = {"features": self.features} if getattr(self, "features", None) else {}
        handle = self.engine.load(self.path(cmd), component=bool(cmd.get("component")), **kw)
        return Ref(handle, self.generation, cmd["line"])

    def instantiate(self, module: Ref, line: int) -> Ref:
        handle = self.live(module, "module definition")
        extra = self.limits()
        if not extra:
            return Ref(self.engine.instantiate(handle), self.generation, line)
        try:
            ok = self.engine.call("instantiate", module=handle, **extra)
        except EngineError as e:
            self.trace = e.trace
            if e.out_of_fuel:
                raise fuel_timeout(self.options.fuel) from None
            raise
        self.trace = ok.get("trace")
        return Ref(ok["instance"], self.generation, line)

    def bind(self, name: str | None, ref: Ref | Failed) -> None:
        self.state.current = ref
        if name is not None:
            self.state.named[name] = ref

    # ---- module arms -----------------------------------------------------------------------
    def do_module(self, cmd: dict) -> Result:
        line, name = cmd["line"], cmd.get("name")
        self.bind(name, Failed(line, "was not run"))
        try:
            self.preload_fault(cmd)
            self.check_imports(cmd)
            inst = self.instantiate(self.load(cmd), line)
        except EngineError as e:
            self.bind(name, Failed(line, f"failed: {e.kind}: {e.message}"))
            return Result(line, "module", FAIL, phase=e.kind, expected="module instance",
                          actual=e.kind, message=e.message)
        except UNAVAILABLE as e:
            self.bind(name, Failed(line, why(e)))
            raise
        self.bind(name, inst)
        self.register_component(cmd, name, inst)
        return Result(line, "module", PASS)

    def register_component(self, cmd: dict, name: str | None, inst: Ref) -> None:
        """wasmtime's wast runner: a named component instance is importable by its name."""
        if cmd.get("component") and name is not None:
            self.engine.register(name.lstrip("$"), inst.handle)
            self.state.registered[name.lstrip("$")] = inst

    def do_module_definition(self, cmd: dict) -> Result:
        line, name = cmd["line"], cmd.get("name")
        res = None
        ref: Ref | Failed = Failed(line, "was not run")
        try:
            self.preload_fault(cmd)
            ref = self.load(cmd)
        except EngineError as e:
            ref = Failed(line, f"failed: {e.kind}: {e.message}")
            res = Result(line, cmd["type"], FAIL, phase=e.kind, expected="module",
                         actual=e.kind, message=e.message)
        except UNAVAILABLE as e:
            ref = Failed(line, why(e))
            raise
        finally:
            self.state.last_definition = ref
            if name is not None:
                self.state.definitions[name] = ref
        return res or Result(line, cmd["type"], PASS)

    def do_module_instance(self, cmd: dict) -> Result:
        line, name = cmd["line"], cmd.get("instance")
        module = cmd.get("module")
        definition = (self.state.definitions.get(module) if module is not None
                      else self.state.last_definition)
        self.bind(name, Failed(line, "was not run"))
        try:
            if definition is None:
                raise NotRun(f"no module definition {module!r}")
            inst = self.instantiate(definition, line)
        except EngineError as e:
            self.bind(name, Failed(line, f"failed: {e.kind}: {e.message}"))
            return Result(line, cmd["type"], FAIL, phase=e.kind, expected="instance",
                          actual=e.kind, message=e.message)
        except UNAVAILABLE as e:
            self.bind(name, Failed(line, why(e)))
            raise
        self.bind(name, inst)
        self.register_component(cmd, name, inst)
        return Result(line, cmd["type"], PASS)

    def do_register(self, cmd: dict) -> Result:
        line, name = cmd["line"], cmd.get("name")
        ref = self.state.current if name is None else self.state.named.get(name)
        try:
            handle = self.instance(name)
        except NotRun:
            self.state.registered[cmd["as"]] = Failed(line, "was registered unavailable")
            raise
        self.engine.register(cmd["as"], handle)
        self.state.registered[cmd["as"]] = ref
        return Result(line, "register", PASS)

    # ---- assertions on modules ----------------------------------------------------------------
    def expect_rejection(self, cmd: dict, want: str, result: Result | None) -> Result:
        """Common tail of the module assertions: `result` is None when the module was accepted."""
        if result is not None:
            return result
        return Result(cmd["line"], cmd["type"], FAIL, expected=want, actual="accepted",
                      message=f"expected {want} error, module was accepted")

    def rejected(self, cmd: dict, want: str, e: EngineError, phase: str | None = None) -> Result:
        text = cmd.get("text")
        match = None if not text else text in e.message
        ok = e.matches(want)
        actual = "|".join((e.kind, *e.alt))  # "invalid|malformed": the engine cannot tell
        return Result(cmd["line"], cmd["type"], PASS if ok else FAIL, phase=phase or e.kind,
                      expected=want, actual=actual, message=e.message, message_match=match)

    def front_end_verdict(self, cmd: dict, want: str) -> Result | None:
        """Text modules are decided by the front-end (phase `parse`)."""
        if "parse_error" in cmd:
            msg = cmd["parse_error"]
            if want == "malformed":
                return Result(cmd["line"], cmd["type"], PASS, phase="parse", expected=want,
                              actual="parse", message=msg,
                              message_match=None if not cmd.get("text") else cmd["text"] in msg)
            return Result(cmd["line"], cmd["type"], ERROR, phase="parse",
                          reason=f"front-end could not parse the module: {msg}")
        if cmd.get("module_type") == "text" and str(cmd.get("filename", "")).endswith(".wat"):
            if want == "malformed":
                return Result(cmd["line"], cmd["type"], FAIL, phase="parse", expected=want,
                              actual="accepted", message="text module accepted by the parser")
            return Result(cmd["line"], cmd["type"], ERROR, phase="parse",
                          reason="text module without a binary: the front-end did not convert it")
        return None

    def do_assert_malformed(self, cmd: dict, reply: Any) -> Result:
        return self.expect_load_error(cmd, reply, "malformed")

    def do_assert_invalid(self, cmd: dict, reply: Any) -> Result:
        return self.expect_load_error(cmd, reply, "invalid")

    def expect_load_error(self, cmd: dict, reply: Any, want: str) -> Result:
        if isinstance(reply, EngineError):
            return self.rejected(cmd, want, reply)
        return self.expect_rejection(cmd, want, None)

    def do_assert_unlinkable(self, cmd: dict) -> Result:
        return self.front_end_verdict(cmd, "unlinkable") or \
            self.assert_instantiate_fails(cmd, "unlinkable")

    def do_assert_uninstantiable(self, cmd: dict) -> Result:
        return self.front_end_verdict(cmd, "uninstantiable") or \
            self.assert_instantiate_fails(cmd, "uninstantiable")

    def assert_instantiate_fails(self, cmd: dict, want: str) -> Result:
        self.preload_fault(cmd)
        self.check_imports(cmd)
        try:
            module = self.load(cmd)
        except EngineError as e:  # rejected, but in the wrong phase
            res = self.rejected(cmd, want, e)
            res.outcome = FAIL
            res.message = f"rejected at load, not at instantiation: {e.message}"
            return res
        try:
            self.instantiate(module, cmd["line"])
        except EngineError as e:
            if want == "uninstantiable" and e.kind == "trap":
                e = EngineError("uninstantiable", e.message)
            return self.rejected(cmd, want, e, phase="instantiate" if e.kind == want else None)
        return self.expect_rejection(cmd, want, None)

    # ---- batches: actions and load-only assertions ------------------------------------------
    def run_batch(self, cmds: list[dict], preload: dict | None = None) -> list[Result]:
        """Build each command's request, send them all as one batch, judge each reply.

        Only commands whose requests do not depend on earlier replies are batched: actions
        (their instances are known) and assert_invalid / assert_malformed (a load). The load
        of the module directive that follows (`preload`) rides along: loading has no effect
        on the store, and the module directive then needs one round trip, not two."""
        start = time.perf_counter()
        requests: list[dict] = []
        slots: list[int | Result] = []
        for cmd in cmds:
            try:
                req = self.request(cmd)
            except NotRun as e:
                req = Result(cmd["line"], cmd["type"], NOT_RUN, reason=str(e))
            if isinstance(req, Result):
                slots.append(req)
            else:
                requests.append(req)
                slots.append(len(requests) - 1)
        if preload is not None:       # last: whatever happens to it, the batch has run
            requests.append(self.load_request(preload))
        replies = self.send(requests)
        if preload is not None:
            self.preloaded = (preload, replies[-1], self.generation)
        results = []
        for cmd, slot in zip(cmds, slots):
            if isinstance(slot, Result):
                results.append(slot)
                continue
            reply = replies[slot]
            if isinstance(reply, EngineError) and reply.out_of_fuel:
                reply = fuel_timeout(self.options.fuel)
            if isinstance(reply, (EngineCrash, EngineTimeout, EngineUnsupported, EngineFault, Lost,
                                  EngineUnavailable)):
                results.append(self.fault(cmd, reply))
            else:
                try:
                    results.append(getattr(self, "do_" + cmd["type"])(cmd, reply))
                except Exception as e:
                    results.append(self.fault(cmd, e))
            keep_trace(results[-1], trace_of(replies[slot]))
        share = (time.perf_counter() - start) / max(1, len(cmds))
        for r in results:
            r.duration = share
        return results

    def load_request(self, cmd: dict) -> dict:
        req = {"op": "load", "path": self.path(cmd), "component": bool(cmd.get("component"))}
        if self.features:
            req["features"] = self.features
        return req

    def request(self, cmd: dict) -> dict | Result:
        """The engine request for a batched command (or its Result when none is needed)."""
        kind = cmd["type"]
        if kind in ("assert_invalid", "assert_malformed"):
            verdict = self.front_end_verdict(cmd, kind[len("assert_"):])
            if verdict is not None:
                return verdict
            return self.load_request(cmd)
        action = cmd.get("action")
        if action is None:
            raise NotRun(f"{kind} without an action is not supported")
        handle = self.instance(action.get("module"))
        if action["type"] == "invoke":
            return {"op": "invoke", "instance": handle, "field": action["field"],
                    "args": action.get("args", []), **self.limits()}
        return {"op": "get", "instance": handle, "field": action["field"]}

    def send(self, requests: list[dict]) -> list[Any]:
        """Replies in order: the reply dict, or the exception for that request."""
        if not requests:
            return []
        many = getattr(self.engine, "call_many", None)
        if many is not None:
            return many(requests)
        replies: list[Any] = []
        for req in requests:
            try:
                replies.append(self.call_one(req))
            except Exception as e:
                replies.append(e)
                if isinstance(e, (EngineCrash, EngineTimeout)):
                    replies += [Lost()] * (len(requests) - len(replies))
                    break
        return replies

    def call_one(self, req: dict) -> dict:
        """One request through the Engine protocol (engines without call_many)."""
        if req["op"] == "invoke":
            return {"results": self.engine.invoke(req["instance"], req["field"], req["args"])}
        if req["op"] == "get":
            return {"results": [self.engine.get(req["instance"], req["field"])]}
        kw = {"features": req["features"]} if req.get("features") else {}
        return {"module": self.engine.load(req["path"], component=req["component"], **kw)}

    def do_action(self, cmd: dict, reply: Any) -> Result:
        got = results_of(reply)
        if isinstance(got, EngineError):
            return Result(cmd["line"], "action", FAIL, phase=got.kind, expected="no error",
                          actual=got.kind, message=f"{got.kind}: {got.message}")
        return Result(cmd["line"], "action", PASS, actual=show(got))

    def do_assert_return(self, cmd: dict, reply: Any) -> Result:
        got = results_of(reply)
        expected = cmd.get("expected", [])
        if isinstance(got, EngineError):
            want = show(expected)
            return Result(cmd["line"], cmd["type"], FAIL, phase=got.kind, expected=want,
                          actual=got.kind, message=f"expected {want}, got {got.kind}: {got.message}")
        if results_match(expected, got):
            return Result(cmd["line"], cmd["type"], PASS)
        want, have = show(expected), show(got)
        return Result(cmd["line"], cmd["type"], FAIL, expected=want, actual=have,
                      message=f"expected {want}, got {have}")

    def do_assert_trap(self, cmd: dict, got: Any) -> Result:
        return self.expect_error(cmd, got, "trap")

    def do_assert_exhaustion(self, cmd: dict, got: Any) -> Result:
        return self.expect_error(cmd, got, "exhaustion")

    def expect_error(self, cmd: dict, reply: Any, want: str) -> Result:
        got = results_of(reply)
        if isinstance(got, EngineError):
            return self.rejected(cmd, want, got)
        return Result(cmd["line"], cmd["type"], FAIL, expected=want, actual=show(got),
                      message=f"expected {want}, got {show(got)}")


PRELOADABLE = ("module", "module_definition", "assert_unlinkable", "assert_uninstantiable")


def preloadable(cmd: dict | None) -> bool:
    """A directive whose load can ride along with the batch before it."""
    return (cmd is not None and cmd["type"] in PRELOADABLE and "filename" in cmd
            and not unreadable(cmd) and cmd.get("module_type", "binary") == "binary"
            and "parse_error" not in cmd)


def trace_of(reply: Any) -> str | None:
    """The boundary-crossing trace a worker attached to a reply (ok dict or EngineError)."""
    trace = reply.get("trace") if isinstance(reply, dict) else getattr(reply, "trace", None)
    return trace if isinstance(trace, str) and trace else None


def keep_trace(result: Result, trace: str | None) -> None:
    """A directive that did not pass keeps the trace of its run."""
    if trace and result.outcome in (FAIL, TIMEOUT, ERROR):
        result.trace = trace


def results_of(reply: Any) -> Any:
    """An action's values from its reply (an EngineError stays as it is)."""
    return reply["results"] if isinstance(reply, dict) else reply


def unreadable(cmd: dict) -> bool:
    """True for a front-end parse error that is not the verdict of a text-form assertion."""
    if "parse_error" not in cmd:
        return False
    return not (cmd.get("module_type") == "text"
                and cmd["type"] in ("assert_malformed", "assert_invalid"))


def imported_modules(path: Path) -> set[str]:
    """The module names a core binary imports from (empty if it cannot be read as one)."""
    try:
        data = path.read_bytes()
        if data[:4] != b"\0asm":
            return set()
        pos = 8
        while pos < len(data):
            sid = data[pos]
            size, pos = _uleb(data, pos + 1)
            if sid == 2:
                return _import_names(data, pos)
            pos += size
    except (OSError, IndexError, ValueError, struct.error):
        pass
    return set()


def _import_names(data: bytes, pos: int) -> set[str]:
    names = set()
    count, pos = _uleb(data, pos)
    for _ in range(count):
        n, pos = _uleb(data, pos)
        names.add(data[pos:pos + n].decode("utf-8", "replace"))
        pos += n
        n, pos = _uleb(data, pos)
        pos += n
        kind = data[pos]
        pos += 1
        if kind == 0:                     # func: type index
            _, pos = _uleb(data, pos)
        elif kind in (1, 2):              # table: reftype + limits; memory: limits
            pos += kind == 1
            flags, pos = _uleb(data, pos)
            _, pos = _uleb(data, pos)
            if flags & 1:
                _, pos = _uleb(data, pos)
        elif kind == 3:                   # global: valtype + mutability
            pos += 2
        else:
            break
    return names


def _uleb(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def dumps(v: Any) -> str:
    return json.dumps(v, separators=(",", ":"))
