;; harness run --trace-failures: the failing directive keeps its boundary-crossing trace
;; (tests/test_harness_fuel_trace.py); host-echo-u32 is a host function of the test host
(component $lib
  (core module $m (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))
  (core instance $i (instantiate $m))
  (func (export "add") (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "add"))))
(component $main
  (import "lib" (instance $lib (export "add" (func (param "a" u32) (param "b" u32) (result u32)))))
  (import "host-echo-u32" (func $echo (param "x" u32) (result u32)))
  (core func $add (canon lower (func $lib "add")))
  (core func $cecho (canon lower (func $echo)))
  (core module $n
    (import "" "add" (func $add (param i32 i32) (result i32)))
    (import "" "echo" (func $echo (param i32) (result i32)))
    (func (export "inc") (param i32) (result i32) (call $add (call $echo (local.get 0)) (i32.const 1))))
  (core instance $j (instantiate $n (with "" (instance (export "add" (func $add)) (export "echo" (func $cecho))))))
  (func (export "inc") (param "x" u32) (result u32) (canon lift (core func $j "inc"))))
(assert_return (invoke "inc" (u32.const 41)) (u32.const 42))
(assert_return (invoke "inc" (u32.const 1)) (u32.const 3))
