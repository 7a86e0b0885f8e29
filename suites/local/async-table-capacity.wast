;;! component_model_async = true
;; wasmtime's wast host `wasmtime.set-max-table-capacity` (cancel-starting-subtask-does-not-
;; leak.wast uses it): past the limit a handle table cannot grow; entries freed by a drop are
;; reused, so a loop that drops what it creates stays inside the limit.

(component definition $C
  (import "wasmtime" (instance $wasmtime
    (export "set-max-table-capacity" (func (param "max" u32)))))
  (core func $cap (canon lower (func $wasmtime "set-max-table-capacity")))
  (core func $ws.new (canon waitable-set.new))
  (core func $ws.drop (canon waitable-set.drop))
  (core module $M
    (import "" "cap" (func $cap (param i32)))
    (import "" "ws.new" (func $ws.new (result i32)))
    (import "" "ws.drop" (func $ws.drop (param i32)))
    ;; creates n waitable sets, dropping each at once when $drop is set
    (func (export "make") (param $n i32) (param $drop i32)
      (local $ws i32)
      (call $cap (i32.const 10))
      (loop $l
        (local.set $ws (call $ws.new))
        (if (local.get $drop) (then (call $ws.drop (local.get $ws))))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br_if $l (local.get $n)))))
  (core instance $m (instantiate $M (with "" (instance
    (export "cap" (func $cap)) (export "ws.new" (func $ws.new)) (export "ws.drop" (func $ws.drop))))))
  (func (export "make") (param "n" u32) (param "drop" bool) (canon lift (core func $m "make"))))

(component instance $a $C)
(assert_return (invoke "make" (u32.const 100) (bool.const true)))
(assert_return (invoke "make" (u32.const 5) (bool.const false)))
(component instance $b $C)
(assert_trap (invoke "make" (u32.const 20) (bool.const false)) "table")
