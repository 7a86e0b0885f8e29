;; Regression: an exception thrown in another component (by its export or by its realloc)
;; traps at the component boundary with wasmtime's message instead of unwinding into the
;; caller (whose handler would run `unreachable`: same outcome, different message).
(component
  (component $A
    (core module $m
      (tag $t)
      (func (export "f") (throw $t)))
    (core instance $i (instantiate $m))
    (func (export "f") (canon lift (core func $i "f"))))

  (component $B
    (import "f" (func $f))
    (core func $f-core (canon lower (func $f)))
    (core module $m
      (import "" "f" (func $f))
      (func (export "run")
        (block $caught
          (try_table (catch_all $caught)
            (call $f))
          (return))
        ;; the exception leaked across the component boundary
        unreachable))
    (core instance $i (instantiate $m
      (with "" (instance (export "f" (func $f-core))))))
    (func (export "run") (canon lift (core func $i "run"))))

  (instance $a (instantiate $A))
  (instance $b (instantiate $B (with "f" (func $a "f"))))
  (export "run" (func $b "run"))
)
(assert_trap (invoke "run") "uncaught exception propagated out of component")

;; to lower the string argument into $A's memory before calling the callee:
;; it likewise must not unwind into $B.
(component
  (component $A
    (core module $m
      (tag $t)
      (memory (export "memory") 1)
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (throw $t))
      (func (export "f") (param i32 i32)))
    (core instance $i (instantiate $m))
    (func (export "f") (param "s" string)
      (canon lift (core func $i "f")
        (memory (core memory $i "memory"))
        (realloc (core func $i "realloc")))))

  (component $B
    (import "f" (func $f (param "s" string)))
    (core module $libc
      (memory (export "memory") 1)
      (data (i32.const 16) "hello"))
    (core instance $libc (instantiate $libc))
    (core func $f-core (canon lower (func $f) (memory (core memory $libc "memory"))))
    (core module $m
      (import "" "f" (func $f (param i32 i32)))
      (func (export "run")
        (block $caught
          (try_table (catch_all $caught)
            (call $f (i32.const 16) (i32.const 5)))
          (return))
        unreachable))
    (core instance $i (instantiate $m
      (with "" (instance (export "f" (func $f-core))))))
    (func (export "run") (canon lift (core func $i "run"))))

  (instance $a (instantiate $A))
  (instance $b (instantiate $B (with "f" (func $a "f"))))
  (export "run" (func $b "run"))
)
(assert_trap (invoke "run") "uncaught exception propagated out of component")
