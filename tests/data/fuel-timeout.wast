;; harness run --fuel: an endless loop is a `timeout` by fuel and the engine keeps its state
;; (tests/test_harness_fuel_trace.py)
(module $m
  (func (export "spin") (loop $l (br $l)))
  (func $rec (export "rec") (call $rec))
  (func (export "one") (result i32) (i32.const 1)))
(assert_return (invoke "spin"))
(assert_return (invoke $m "one") (i32.const 1))
(assert_exhaustion (invoke "rec") "call stack exhausted")
(assert_trap (invoke "spin") "unreachable")
(module $s
  (func (export "two") (result i32) (i32.const 2))
  (func $start (loop $l (br $l)))
  (start $start))
(assert_return (invoke $s "two") (i32.const 2))
(assert_return (invoke $m "one") (i32.const 1))
