"""Test-only fake engines (JSON-lines worker protocol). Never a real engine.

    python -m harness.engines.fake_worker MODE

accept   accepts every module, instantiates everything, every invoke returns i32 0 and
         every get i32 0 (an export named "echo" returns its arguments, for pipe tests). A correct harness must FAIL it on every assert_invalid /
         malformed / unlinkable / uninstantiable / trap / exhaustion.
crash    like accept, but invoking an export named "fault", or loading a module that contains
         the name "fault_on_load", kills the process (SIGKILL).
hang     the same faults, but the process never answers.
garbage  the same faults, but the process prints a line that is not a reply.
"""
import json
import os
import signal
import sys
import time

ZERO = {"type": "i32", "value": "0"}


def fault(mode: str) -> None:
    if mode == "crash":
        os.kill(os.getpid(), signal.SIGKILL)
    if mode == "hang":
        while True:
            time.sleep(60)
    if mode == "garbage":
        sys.stdout.write("this is not json\n")
        sys.stdout.flush()


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""


def answer(mode: str, req: dict, state: dict) -> dict:
    op = req.get("op")
    if op == "version":
        return {"ok": {"version": f"fake-{mode} 1"}}
    if op in ("reset", "register"):
        return {"ok": {}}
    if op == "load" and mode != "accept" and b"fault_on_load" in _read(req.get("path", "")):
        fault(mode)
    if op in ("load", "instantiate"):
        state["n"] += 1
        return {"ok": {"module" if op == "load" else "instance": state["n"]}}
    if op == "invoke":
        if req.get("field") == "fault":
            fault(mode)
        if req.get("field") == "echo":   # for pipe tests: replies as big as the requests
            return {"ok": {"results": req.get("args", [])}}
        return {"ok": {"results": [ZERO]}}
    if op == "get":
        return {"ok": {"results": [ZERO]}}
    return {"fatal": f"unknown op {op}"}


def main() -> None:
    mode = sys.argv[1] if len(sys.argv) > 1 else "accept"
    state = {"n": 0}
    for line in sys.stdin:
        req = json.loads(line)
        reply = answer(mode, req, state)
        sys.stdout.write(json.dumps({"id": req.get("id"), **reply}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
