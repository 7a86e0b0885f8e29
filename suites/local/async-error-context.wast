;;! component_model_async = true
;;! component_model_error_context = true
;; Error contexts (issue 8): error-context.new keeps its debug message, debug-message stores
;; it with the caller's realloc, an error-context passed as a parameter is a new handle in
;; the callee's table (the same ErrorContext), drop removes only the dropper's handle, and
;; a dropped or wrong-kind handle traps (each trap in a fresh instance: a trap poisons it).

(component definition $C
  (component $Child
    (core module $Libc
      (memory (export "memory") 1)
      (global $bump (mut i32) (i32.const 256))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (local $ret i32)
        (local.set $ret (global.get $bump))
        (global.set $bump (i32.add (global.get $bump) (local.get 3)))
        (local.get $ret)))
    (core instance $libc (instantiate $Libc))
    (core func $msg (canon error-context.debug-message (memory (core memory $libc "memory"))
      (realloc (core func $libc "realloc"))))
    (core func $drop (canon error-context.drop))
    (core module $M
      (import "" "mem" (memory 1))
      (import "" "msg" (func $msg (param i32 i32)))
      (import "" "drop" (func $drop (param i32)))
      ;; returns the message's length * 256 + its first byte
      (func (export "inspect") (param $h i32) (result i32)
        (call $msg (local.get $h) (i32.const 8))
        (call $drop (local.get $h))
        (i32.add (i32.shl (i32.load (i32.const 12)) (i32.const 8))
                 (i32.load8_u (i32.load (i32.const 8))))))
    (core instance $m (instantiate $M (with "" (instance
      (export "mem" (memory $libc "memory")) (export "msg" (func $msg))
      (export "drop" (func $drop))))))
    (func (export "inspect") (param "e" error-context) (result u32)
      (canon lift (core func $m "inspect"))))
  (instance $child (instantiate $Child))

  (core module $Libc
    (memory (export "memory") 1)
    (global $bump (mut i32) (i32.const 512))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $ret i32)
      (local.set $ret (global.get $bump))
      (global.set $bump (i32.add (global.get $bump) (local.get 3)))
      (local.get $ret)))
  (core instance $libc (instantiate $Libc))
  (core func $new (canon error-context.new (memory (core memory $libc "memory"))))
  (core func $msg (canon error-context.debug-message (memory (core memory $libc "memory"))
    (realloc (core func $libc "realloc"))))
  (core func $drop (canon error-context.drop))
  (core func $inspect (canon lower (func $child "inspect")))
  (core func $ws.new (canon waitable-set.new))
  (core module $M
    (import "" "mem" (memory 1))
    (import "" "new" (func $new (param i32 i32) (result i32)))
    (import "" "msg" (func $msg (param i32 i32)))
    (import "" "drop" (func $drop (param i32)))
    (import "" "inspect" (func $inspect (param i32) (result i32)))
    (import "" "ws.new" (func $ws.new (result i32)))
    (data (i32.const 0) "oops")
    (global $h (mut i32) (i32.const 0))
    ;; the message read back: its length * 256 + its last byte
    (func (export "own-message") (result i32)
      (global.set $h (call $new (i32.const 0) (i32.const 4)))
      (call $msg (global.get $h) (i32.const 16))
      (i32.add (i32.shl (i32.load (i32.const 20)) (i32.const 8))
               (i32.load8_u (i32.add (i32.load (i32.const 16)) (i32.const 3)))))
    (func (export "pass") (result i32)
      (call $inspect (global.get $h)))
    ;; the child dropped its own handle: ours is still there
    (func (export "drop") (call $drop (global.get $h)))
    (func (export "drop-set") (call $drop (call $ws.new)))
    (func (export "bad-ptr") (call $msg (global.get $h) (i32.const 65532))))
  (core instance $m (instantiate $M (with "" (instance
    (export "mem" (memory $libc "memory")) (export "new" (func $new)) (export "msg" (func $msg))
    (export "drop" (func $drop)) (export "inspect" (func $inspect))
    (export "ws.new" (func $ws.new))))))
  (func (export "own-message") (result u32) (canon lift (core func $m "own-message")))
  (func (export "pass") (result u32) (canon lift (core func $m "pass")))
  (func (export "drop") (canon lift (core func $m "drop")))
  (func (export "drop-set") (canon lift (core func $m "drop-set")))
  (func (export "bad-ptr") (canon lift (core func $m "bad-ptr"))))

(component instance $c1 $C)
(assert_return (invoke "own-message") (u32.const 0x473))
(assert_return (invoke "pass") (u32.const 0x46f))
(assert_return (invoke "drop"))
(assert_trap (invoke "drop") "unknown handle index")
(assert_trap (invoke "pass") "cannot enter component instance")

(component instance $c2 $C)
(assert_return (invoke "own-message") (u32.const 0x473))
(assert_trap (invoke "bad-ptr") "invalid debug message pointer")

(component instance $c3 $C)
(assert_trap (invoke "drop-set") "unknown handle index")
