;; Components run through both ref and jco by tests/test_jco.py: the directives marked
;; DIFFERS are exactly where the two engines disagree; the rest agree.

;; Agree: a string result and a u32 sum.
(component
  (core module $M
    (memory (export "mem") 1)
    (data (i32.const 16) "hello")
    (func (export "s") (result i32)
      (i32.store (i32.const 0) (i32.const 16))
      (i32.store (i32.const 4) (i32.const 5))
      (i32.const 0))
    (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  )
  (core instance $m (instantiate $M))
  (func (export "s") (result string) (canon lift (core func $m "s") (memory (core memory $m "mem"))))
  (func (export "add") (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $m "add")))
)
(assert_return (invoke "s") (str.const "hello"))
(assert_return (invoke "add" (u32.const 2) (u32.const 0xffffffff)) (u32.const 1))

;; DIFFERS (line of the u8 assertion): lifting an i32 as u8 keeps the low 8 bits
;; (CanonicalABI.md, lift_flat_unsigned); jco range-checks and throws.
(component
  (core module $M (func (export "id") (param i32) (result i32) (local.get 0)))
  (core instance $m (instantiate $M))
  (func (export "to-u8") (param "x" u32) (result u8) (canon lift (core func $m "id")))
  (func (export "to-u32") (param "x" u32) (result u32) (canon lift (core func $m "id")))
)
(assert_return (invoke "to-u8" (u32.const 0x101)) (u8.const 1))
(assert_return (invoke "to-u32" (u32.const 7)) (u32.const 7))

;; DIFFERS: invalid UTF-8 traps (CanonicalABI.md, load_string_from_range); jco decodes
;; with replacement characters.
(component
  (core module $M
    (memory (export "mem") 1)
    (data (i32.const 16) "\ff")
    (func (export "s") (result i32)
      (i32.store (i32.const 0) (i32.const 16))
      (i32.store (i32.const 4) (i32.const 1))
      (i32.const 0))
  )
  (core instance $m (instantiate $M))
  (func (export "s") (result string) (canon lift (core func $m "s") (memory (core memory $m "mem"))))
)
(assert_trap (invoke "s") "invalid utf-8")

;; Agree: both reject an invalid component.
(assert_invalid
  (component (core func (canon lower (func 0))))
  "unknown")

;; DIFFERS: jco cannot transpile a component that exports a type at the root (skip);
;; ref runs it.
(component
  (type $r (record (field "a" u32)))
  (export "r" (type $r))
)

;; Agree: linking errors jco does not check itself (the engine checks the world's imports).
(assert_unlinkable (component (import "undefined-name" (core module))) "was not found")
(assert_unlinkable
  (component (import "host-return-two" (instance (export "x" (func)))))
  "expected instance found func")
