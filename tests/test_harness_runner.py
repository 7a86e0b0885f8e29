"""The runner's arms on a correct engine (node), on wrong expectations, and on fakes."""
from __future__ import annotations

import pytest

from harness.engines import make_engine
from harness_util import ARMS, DATA, needs_node, needs_wabt, outcomes, run_wast


@pytest.fixture
def node():
    engine = make_engine("node")
    yield engine
    engine.close()


@needs_node
@needs_wabt
def test_every_arm_passes_on_node(node):
    fr = run_wast(node, ARMS)
    assert fr.error is None
    kinds = {r.kind for r in fr.results}
    assert kinds >= {"module", "register", "action", "assert_return", "assert_trap",
                     "assert_exhaustion", "assert_invalid", "assert_malformed",
                     "assert_unlinkable", "assert_uninstantiable"}
    assert [o for o in outcomes(fr) if o[2] != "pass"] == []
    assert len(fr.results) == fr.counted == fr.commands


@needs_node
@needs_wabt
def test_wrong_expectations_fail_on_node(node):
    fr = run_wast(node, DATA / "wrong.wast")
    assert fr.results[0].kind == "module" and fr.results[0].outcome == "pass"
    assert [r.outcome for r in fr.results[1:]] == ["fail"] * (len(fr.results) - 1)
    text = next(r for r in fr.results if r.kind == "assert_malformed" and r.phase == "parse")
    assert "accepted" in text.message


@needs_node
@needs_wabt
def test_message_match_is_recorded_separately(node):
    fr = run_wast(node, ARMS)
    trap = next(r for r in fr.results if r.kind == "assert_trap")
    assert trap.outcome == "pass" and trap.message_match is not None


@needs_wabt
@pytest.mark.parametrize("mode,outcome", [("crash", "crash"), ("hang", "timeout"),
                                          ("garbage", "crash")])
def test_fault_isolation(mode, outcome):
    engine = make_engine(f"fake-{mode}", timeout=1.0)
    try:
        fr = run_wast(engine, DATA / "faults.wast")
        again = run_wast(engine, DATA / "faults.wast")   # the engine recovers for the next file
    finally:
        engine.close()
    got = [(line, o) for line, _, o in outcomes(fr)]
    assert got == [(2, "pass"), (3, "pass"), (4, "pass"), (5, outcome), (6, "not_run"),
                   (7, "not_run"), (8, "not_run"), (9, "pass"), (10, "pass")]
    assert "lost" in fr.results[6].reason
    assert outcomes(again) == outcomes(fr)


@needs_wabt
def test_fake_accept_fails_every_rejection(tmp_path):
    engine = make_engine("fake-accept")
    try:
        fr = run_wast(engine, ARMS)
    finally:
        engine.close()
    must_fail = {"assert_trap", "assert_exhaustion", "assert_invalid", "assert_unlinkable",
                 "assert_uninstantiable"}
    for r in fr.results:
        if r.kind in must_fail or (r.kind == "assert_malformed" and r.phase != "parse"):
            assert r.outcome == "fail", r


def test_unreadable_directive_is_an_error():
    from harness.runner import Runner
    engine = make_engine("fake-accept")
    doc = {"commands": [
        {"type": "module", "line": 1, "parse_error": "bad", "filename": "x.wasm"},
        {"type": "assert_return", "line": 2, "action": {"type": "invoke", "field": "f",
                                                        "args": []}, "expected": []},
        {"type": "assert_malformed", "line": 3, "module_type": "text", "parse_error": "no",
         "filename": "y.wat"},
    ]}
    try:
        res = Runner(engine).run(doc, DATA)
    finally:
        engine.close()
    assert [r.outcome for r in res] == ["error", "not_run", "pass"]


@needs_wabt
@pytest.mark.parametrize("mode,outcome", [("crash", "crash"), ("hang", "timeout"),
                                          ("garbage", "crash")])
def test_fault_while_loading_a_preloaded_module(mode, outcome):
    engine = make_engine(f"fake-{mode}", timeout=1.0)
    try:
        fr = run_wast(engine, DATA / "load-faults.wast")
    finally:
        engine.close()
    got = [(line, o) for line, _, o in outcomes(fr)]
    assert got == [(3, "pass"), (4, "pass"), (5, outcome), (6, "not_run"), (7, "not_run"),
                   (8, "pass"), (9, "pass")]
    assert "line 5" in fr.results[3].reason


def test_big_batches_cannot_deadlock_the_pipes():
    """Megabytes each way in one pipelined exchange: the writer reads replies meanwhile."""
    engine = make_engine("fake-accept", timeout=20.0)
    big = [{"type": "string", "value": "x" * 8000}]
    try:
        replies = engine.call_many([{"op": "invoke", "instance": 1, "field": "echo",
                                     "args": big + [{"type": "u32", "value": str(i)}]}
                                    for i in range(1000)])
    finally:
        engine.close()
    assert len(replies) == 1000
    assert all(r["results"][1]["value"] == str(i) for i, r in enumerate(replies))


@needs_wabt
def test_skip_entries_are_not_run_at_all():
    """A directive listed as skip never reaches the engine (so a crasher can be listed)."""
    from harness.expectations import Entry, Expectations
    ex = Expectations([Entry("t", "faults.wast", 5, "skip", "crashes the engine"),
                       Entry("t", "faults.wast", 2, "xfail", "stale on purpose")])
    engine = make_engine("fake-crash")
    try:
        fr = run_wast(engine, DATA / "faults.wast", ex)
        whole = run_wast(engine, DATA / "faults.wast",
                         Expectations([Entry("t", "faults.wast", None, "skip", "all")]))
    finally:
        engine.close()
    got = [(line, o) for line, _, o in outcomes(fr)]
    assert got == [(2, "xpass"), (3, "pass"), (4, "pass"), (5, "skip"), (6, "pass"),
                   (7, "pass"), (8, "pass"), (9, "pass"), (10, "pass")]
    assert fr.results[3].reason == "crashes the engine"
    assert {o for _, _, o in outcomes(whole)} == {"skip"}
