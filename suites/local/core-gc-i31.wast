;;! gc = true
;;! frontend = "wasm-tools"
;; cmref's own tests: the GC subset cmref implements (i31ref, non-nullable abstract reference
;; types, tables with an initialiser). The `gc` line above asks for the feature; wast2json
;; 1.0.32 cannot parse these types, so this file goes to the wasm-tools front-end, by the
;; `frontend` header line.

(module
  (table $t 2 (ref i31) (ref.i31 (i32.const 7)))
  (table $n 1 i31ref)
  (global $g (mut (ref i31)) (ref.i31 (i32.const -1)))
  (global $gn (mut i31ref) (ref.null i31))
  (func (export "get_s") (param i32) (result i32) (i31.get_s (ref.i31 (local.get 0))))
  (func (export "get_u") (param i32) (result i32) (i31.get_u (ref.i31 (local.get 0))))
  (func (export "table") (param i32) (result i32) (i31.get_u (table.get $t (local.get 0))))
  (func (export "table-set") (param i32 i32)
    (table.set $t (local.get 0) (ref.i31 (local.get 1))))
  (func (export "global") (result i32) (i31.get_s (global.get $g)))
  (func (export "null-get") (result i32) (i31.get_u (global.get $gn)))
  (func (export "null-table") (result i32) (i31.get_u (table.get $n (i32.const 0))))
  (func (export "is-null") (result i32) (ref.is_null (global.get $gn)))
  (func (export "grow") (result i32) (table.grow $t (ref.i31 (i32.const 9)) (i32.const 1)))
  ;; (ref i31) is a subtype of i31ref: stored in a nullable local and global
  (func (export "subtype") (result i32) (local i31ref)
    (local.set 0 (ref.i31 (i32.const 5)))
    (global.set $gn (local.get 0))
    (i31.get_u (global.get $gn)))
)
(assert_return (invoke "get_s" (i32.const 0x7fffffff)) (i32.const -1))
(assert_return (invoke "get_u" (i32.const 0x7fffffff)) (i32.const 0x7fffffff))
(assert_return (invoke "get_s" (i32.const 0x40000000)) (i32.const -1073741824))
(assert_return (invoke "get_s" (i32.const 0x3fffffff)) (i32.const 0x3fffffff))
(assert_return (invoke "get_u" (i32.const 0x80000001)) (i32.const 1))
(assert_return (invoke "table" (i32.const 1)) (i32.const 7))
(assert_return (invoke "table-set" (i32.const 1) (i32.const 0x1234)))
(assert_return (invoke "table" (i32.const 1)) (i32.const 0x1234))
(assert_return (invoke "table" (i32.const 0)) (i32.const 7))
(assert_return (invoke "global") (i32.const -1))
(assert_trap (invoke "null-get") "null i31 reference")
(assert_trap (invoke "null-table") "null i31 reference")
(assert_return (invoke "is-null") (i32.const 1))
(assert_return (invoke "grow") (i32.const 2))
(assert_return (invoke "table" (i32.const 2)) (i32.const 9))
(assert_return (invoke "subtype") (i32.const 5))
(assert_return (invoke "is-null") (i32.const 0))

;; a non-nullable table needs an initialiser
(assert_invalid (module (table 1 (ref i31))) "type mismatch")
;; i31ref is not a subtype of (ref i31)
(assert_invalid (module (func (param i31ref) (result (ref i31)) (local.get 0))) "type mismatch")
(assert_invalid (module (func (result i32) (i31.get_u (i32.const 0)))) "type mismatch")
(assert_invalid
  (module (table 1 funcref) (func (table.set 0 (i32.const 0) (ref.i31 (i32.const 0)))))
  "type mismatch")
(assert_invalid (module (table 1 (ref i31) (ref.null i31))) "type mismatch")
(assert_invalid (module (global i31ref (i32.const 0))) "type mismatch")
