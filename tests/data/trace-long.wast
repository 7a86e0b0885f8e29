;; harness run --trace-failures: a long trace keeps its first 200 lines and counts the rest
;; (tests/test_harness_fuel_trace.py)
(component $lib
  (core module $m (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))
  (core instance $i (instantiate $m))
  (func (export "add") (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "add"))))
(component $main
  (import "lib" (instance $lib (export "add" (func (param "a" u32) (param "b" u32) (result u32)))))
  (core func $add (canon lower (func $lib "add")))
  (core module $n
    (import "" "add" (func $add (param i32 i32) (result i32)))
    (func (export "count") (param $n i32) (result i32) (local $s i32)
      (block $done (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $s (call $add (local.get $s) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l)))
      (local.get $s)))
  (core instance $j (instantiate $n (with "" (instance (export "add" (func $add))))))
  (func (export "count") (param "n" u32) (result u32) (canon lift (core func $j "count"))))
(assert_return (invoke "count" (u32.const 150)) (u32.const 0))
