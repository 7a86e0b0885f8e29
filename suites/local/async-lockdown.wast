;;! component_model_async = true
;; Lockdown after a trap (Explainer.md; wasmtime's 'cannot enter component instance'): an
;; async task that traps after it first suspended (its thread resumed by the scheduler once
;; the call had returned: a stackful task after thread.yield, a callback task in its
;; callback) still leaves its instance unenterable.

(component definition $C
  (core func $yield (canon thread.yield))
  (core module $M
    (import "" "yield" (func $yield (result i32)))
    (func (export "stackful") (drop (call $yield)) unreachable)
    (func (export "callback") (result i32) (i32.const 1 (; YIELD ;)))
    (func (export "callback-cb") (param i32 i32 i32) (result i32) unreachable)
    (func (export "ok") (result i32) (i32.const 5)))
  (core instance $m (instantiate $M (with "" (instance (export "yield" (func $yield))))))
  (func (export "stackful") async (canon lift (core func $m "stackful")))
  (func (export "callback") async
    (canon lift (core func $m "callback") async (callback (core func $m "callback-cb"))))
  (func (export "ok") (result u32) (canon lift (core func $m "ok"))))

(component instance $a $C)
(assert_return (invoke "ok") (u32.const 5))
(assert_trap (invoke "stackful") "unreachable")
(assert_trap (invoke "ok") "cannot enter component instance")

(component instance $b $C)
(assert_trap (invoke "callback") "unreachable")
(assert_trap (invoke "ok") "cannot enter component instance")
