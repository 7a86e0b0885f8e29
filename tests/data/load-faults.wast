;; For the fake engines: the load of the module at line 5 faults (it rides along with the
;; batch of line 4); the fault is charged to line 5, the batch before it has run.
(module $A (func (export "ok") (result i32) (i32.const 0)))
(assert_return (invoke "ok") (i32.const 0))
(module (func (export "ok") (result i32) (i32.const 0)) (func (export "fault_on_load")))
(assert_return (invoke "ok") (i32.const 0))
(assert_return (invoke $A "ok") (i32.const 0))
(module (func (export "ok") (result i32) (i32.const 1)))
(assert_return (invoke "ok") (i32.const 0))
