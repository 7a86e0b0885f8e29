;;! component_model_async = true
;;! component_model_error_context = true
;; Error contexts in memory (load / store of error-context, issue 8): a list<error-context>
;; passed to a child is lifted from the parent's memory and stored into the child's as new
;; handles of the child's table, each naming its ErrorContext (its debug message).

(component
  (component $Child
    (core module $Libc
      (memory (export "memory") 1)
      (global $bump (mut i32) (i32.const 256))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (local $ret i32)
        (local.set $ret (global.get $bump))
        ;; the next allocation starts 8-aligned
        (global.set $bump (i32.and (i32.add (i32.add (global.get $bump) (local.get 3)) (i32.const 7))
                                   (i32.const -8)))
        (local.get $ret)))
    (core instance $libc (instantiate $Libc))
    (core func $msg (canon error-context.debug-message (memory (core memory $libc "memory"))
      (realloc (core func $libc "realloc"))))
    (core module $M
      (import "" "mem" (memory 1))
      (import "" "msg" (func $msg (param i32 i32)))
      ;; the first byte of the message of element $i
      (func (export "first") (param $ptr i32) (param $len i32) (param $i i32) (result i32)
        (if (i32.ge_u (local.get $i) (local.get $len)) (then unreachable))
        (call $msg (i32.load (i32.add (local.get $ptr) (i32.shl (local.get $i) (i32.const 2))))
                   (i32.const 8))
        (i32.load8_u (i32.load (i32.const 8)))))
    (core instance $m (instantiate $M (with "" (instance
      (export "mem" (memory $libc "memory")) (export "msg" (func $msg))))))
    (func (export "first") (param "l" (list error-context)) (param "i" u32) (result u32)
      (canon lift (core func $m "first") (memory (core memory $libc "memory"))
        (realloc (core func $libc "realloc")))))
  (instance $child (instantiate $Child))

  (core module $Mem (memory (export "memory") 1))
  (core instance $mem (instantiate $Mem))
  (core func $new (canon error-context.new (memory (core memory $mem "memory"))))
  (core func $first (canon lower (func $child "first") (memory (core memory $mem "memory"))))
  (core module $M
    (import "" "mem" (memory 1))
    (import "" "new" (func $new (param i32 i32) (result i32)))
    (import "" "first" (func $first (param i32 i32 i32) (result i32)))
    (data (i32.const 0) "xy")
    (func (export "run") (param $i i32) (result i32)
      (i32.store (i32.const 16) (call $new (i32.const 0) (i32.const 1)))
      (i32.store (i32.const 20) (call $new (i32.const 1) (i32.const 1)))
      (call $first (i32.const 16) (i32.const 2) (local.get $i))))
  (core instance $m (instantiate $M (with "" (instance
    (export "mem" (memory $mem "memory")) (export "new" (func $new)) (export "first" (func $first))))))
  (func (export "run") (param "i" u32) (result u32) (canon lift (core func $m "run"))))

(assert_return (invoke "run" (u32.const 0)) (u32.const 0x78))
(assert_return (invoke "run" (u32.const 1)) (u32.const 0x79))
