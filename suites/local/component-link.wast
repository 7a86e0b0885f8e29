;; Linking (issue 7): core module types of imports are matched as wasmtime does, the
;; thread storage of context.get/set, async lifts instantiate (calling them is issue 8).

(component $lib
  (core module (export "m")
    (func (export "f"))
    (global (export "g") i32 i32.const 0)
    (memory (export "mem") 1))
)
(component
  (import "lib" (instance (export "m" (core module (export "f" (func)) (export "mem" (memory 0))))))
)
(assert_unlinkable
  (component (import "lib" (instance (export "m" (core module (export "f" (func (param i32))))))))
  "export `f` has the wrong type")
(assert_unlinkable
  (component (import "lib" (instance (export "m" (core module (export "g" (func)))))))
  "expected func found global")
(assert_unlinkable
  (component (import "lib" (instance (export "m" (core module (export "h" (func)))))))
  "module export `h` not defined")
(assert_unlinkable
  (component (import "lib" (instance (export "m" (core module (export "g" (global (mut i32))))))))
  "export `g` has the wrong type")

;; context.set in a lifted call is seen by its post-return (same task), not by the next call
(component
  (canon context.get i32 0 (core func $get))
  (canon context.set i32 0 (core func $set))
  (core module $M
    (import "" "get" (func $get (result i32)))
    (import "" "set" (func $set (param i32)))
    (global $saved (mut i32) (i32.const -1))
    (func (export "f") (result i32)
      (if (i32.ne (call $get) (i32.const 0)) (then unreachable))
      (call $set (i32.const 5))
      (i32.const 1))
    (func (export "f-pr") (param i32) (global.set $saved (call $get)))
    (func (export "saved") (result i32) (global.get $saved)))
  (core instance $m (instantiate $M (with "" (instance (export "get" (func $get)) (export "set" (func $set))))))
  (func (export "f") (result u32) (canon lift (core func $m "f") (post-return (func $m "f-pr"))))
  (func (export "saved") (result u32) (canon lift (core func $m "saved")))
)
(assert_return (invoke "f") (u32.const 1))
(assert_return (invoke "saved") (u32.const 5))
(assert_return (invoke "f") (u32.const 1))

;; a component with an async lift instantiates; its sync exports work
(component
  (core module $M
    (func (export "one") (result i32) i32.const 1)
    (func (export "async")))
  (core instance $m (instantiate $M))
  (func (export "one") (result u32) (canon lift (core func $m "one")))
  (func (export "later") async (canon lift (core func $m "async") async))
)
(assert_return (invoke "one") (u32.const 1))

;; function types of a supplied component instance are checked (no value subtyping)
(component $fns
  (core module $m (func (export "id") (param i32) (result i32) local.get 0))
  (core instance $i (instantiate $m))
  (func (export "id") (param "x" u32) (result u32) (canon lift (core func $i "id")))
)
(component
  (import "fns" (instance (export "id" (func (param "x" u32) (result u32)))))
)
(assert_unlinkable
  (component (import "fns" (instance (export "id" (func (param "x" string) (result u32))))))
  "type mismatch for function `id`")
(assert_unlinkable
  (component (import "fns" (instance (export "id" (func (param "x" u32) (result s32))))))
  "type mismatch for function `id`")
(assert_unlinkable
  (component (import "fns" (instance (export "id" (func (param "x" u32))))))
  "type mismatch for function `id`")
