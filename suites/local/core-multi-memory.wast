;;! multi_memory = true
;;! frontend = "wasm-tools"
;; cmref's own tests: multi-memory (Wasm 3.0). The `;;!` line above (wasmtime's convention)
;; asks the engine for the feature; wast2json 1.0.32 cannot parse memory indices, so this
;; file goes to the component front-end (wasm-tools), by the `frontend` header line.

(module $M
  (memory $m0 1)
  (memory $m1 2 3)
  (memory $m2 0)
  (data (memory $m0) (i32.const 0) "\01\02\03\04")
  (data (memory $m1) (i32.const 8) "\10\20\30\40")
  (data $p "\aa\bb\cc\dd")

  (func (export "size0") (result i32) (memory.size $m0))
  (func (export "size1") (result i32) (memory.size $m1))
  (func (export "size2") (result i32) (memory.size $m2))
  (func (export "grow1") (param i32) (result i32) (memory.grow $m1 (local.get 0)))
  (func (export "grow2") (param i32) (result i32) (memory.grow $m2 (local.get 0)))

  (func (export "load0") (param i32) (result i32) (i32.load $m0 (local.get 0)))
  (func (export "load1") (param i32) (result i32) (i32.load $m1 (local.get 0)))
  (func (export "load8_1") (param i32) (result i32) (i32.load8_u $m1 offset=1 (local.get 0)))
  (func (export "store1") (param i32 i32) (i32.store $m1 (local.get 0) (local.get 1)))
  (func (export "store2") (param i32 i64) (i64.store $m2 (local.get 0) (local.get 1)))
  (func (export "load2") (param i32) (result i64) (i64.load $m2 (local.get 0)))

  ;; memory.copy between memories, memory.fill and memory.init on a non-zero memory
  (func (export "copy-0-to-1") (param i32 i32 i32)
    (memory.copy $m1 $m0 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy-1-to-0") (param i32 i32 i32)
    (memory.copy $m0 $m1 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "fill1") (param i32 i32 i32)
    (memory.fill $m1 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "init1") (param i32 i32 i32)
    (memory.init $m1 $p (local.get 0) (local.get 1) (local.get 2)))

  (export "mem1" (memory $m1))
)

(assert_return (invoke "size0") (i32.const 1))
(assert_return (invoke "size1") (i32.const 2))
(assert_return (invoke "size2") (i32.const 0))
(assert_return (invoke "load0" (i32.const 0)) (i32.const 0x04030201))
(assert_return (invoke "load1" (i32.const 8)) (i32.const 0x40302010))
(assert_return (invoke "load1" (i32.const 0)) (i32.const 0))
(assert_return (invoke "load8_1" (i32.const 8)) (i32.const 0x20))

;; memories are separate
(invoke "store1" (i32.const 0) (i32.const 0x11223344))
(assert_return (invoke "load1" (i32.const 0)) (i32.const 0x11223344))
(assert_return (invoke "load0" (i32.const 0)) (i32.const 0x04030201))

;; bounds are per memory
(assert_return (invoke "load1" (i32.const 131068)) (i32.const 0))
(assert_trap (invoke "load1" (i32.const 131069)) "out of bounds memory access")
(assert_trap (invoke "load0" (i32.const 65533)) "out of bounds memory access")
(assert_trap (invoke "load2" (i32.const 0)) "out of bounds memory access")

;; growing one memory leaves the others alone; the maximum is per memory
(assert_return (invoke "grow2" (i32.const 1)) (i32.const 0))
(assert_return (invoke "size2") (i32.const 1))
(assert_return (invoke "size0") (i32.const 1))
(invoke "store2" (i32.const 65528) (i64.const -2))
(assert_return (invoke "load2" (i32.const 65528)) (i64.const -2))
(assert_return (invoke "grow1" (i32.const 2)) (i32.const -1))
(assert_return (invoke "grow1" (i32.const 1)) (i32.const 2))
(assert_return (invoke "size1") (i32.const 3))

;; bulk operations across memories
(invoke "copy-0-to-1" (i32.const 100) (i32.const 0) (i32.const 4))
(assert_return (invoke "load1" (i32.const 100)) (i32.const 0x04030201))
(invoke "copy-1-to-0" (i32.const 200) (i32.const 8) (i32.const 4))
(assert_return (invoke "load0" (i32.const 200)) (i32.const 0x40302010))
(assert_trap (invoke "copy-0-to-1" (i32.const 0) (i32.const 65534) (i32.const 4))
  "out of bounds memory access")
(invoke "fill1" (i32.const 300) (i32.const 0x7f) (i32.const 4))
(assert_return (invoke "load1" (i32.const 300)) (i32.const 0x7f7f7f7f))
(assert_return (invoke "load0" (i32.const 300)) (i32.const 0))
(invoke "init1" (i32.const 400) (i32.const 1) (i32.const 3))
(assert_return (invoke "load1" (i32.const 400)) (i32.const 0x00ddccbb))
(assert_trap (invoke "init1" (i32.const 400) (i32.const 2) (i32.const 3))
  "out of bounds memory access")

;; an imported memory next to a defined one
(register "M" $M)
(module
  (import "M" "mem1" (memory $a 1))
  (memory $b 1)
  (func (export "read-imported") (param i32) (result i32) (i32.load $a (local.get 0)))
  (func (export "read-own") (param i32) (result i32) (i32.load $b (local.get 0)))
  (data (memory $b) (i32.const 0) "\05")
)
(assert_return (invoke "read-imported" (i32.const 100)) (i32.const 0x04030201))
(assert_return (invoke "read-own" (i32.const 0)) (i32.const 5))

;; active data segments out of bounds of their own memory fail instantiation
(assert_trap
  (module
    (memory 1)
    (memory 0)
    (data (memory 1) (i32.const 0) "\01"))
  "out of bounds memory access")

;; validation: memory indices must exist
(assert_invalid
  (module (memory 1) (func (drop (i32.load 1 (i32.const 0)))))
  "unknown memory")
(assert_invalid
  (module (memory 1) (memory 1) (func (drop (memory.size 2))))
  "unknown memory")
(assert_invalid
  (module (memory 1) (memory 1) (func (memory.copy 0 2 (i32.const 0) (i32.const 0) (i32.const 0))))
  "unknown memory")
