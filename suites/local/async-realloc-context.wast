;; A realloc runs in a new thread of its own (CanonicalABI.md, LiftLowerContext.reallocate):
;; context.get returns 0 on entry to realloc, and its context.set is not seen by the task
;; whose lift or lower called it: a sync lift's argument realloc, and the realloc of an
;; async (stackful) task's synchronous lower receiving a string result.

(component
  (core module $Libc
    (import "" "context.get" (func $get (result i32)))
    (import "" "context.set" (func $set (param i32)))
    (memory (export "memory") 1)
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (if (i32.ne (call $get) (i32.const 0)) (then unreachable))
      (call $set (i32.const 100))
      (i32.const 200)))
  (core func $get (canon context.get i32 0))
  (core func $set (canon context.set i32 0))
  (core instance $libc (instantiate $Libc (with "" (instance
    (export "context.get" (func $get)) (export "context.set" (func $set))))))
  (core module $M
    (import "" "context.get" (func $get (result i32)))
    (func (export "run") (param i32 i32) (result i32)
      (call $get)))
  (core instance $m (instantiate $M (with "" (instance (export "context.get" (func $get))))))
  (func (export "run") (param "s" string) (result u32)
    (canon lift (core func $m "run") (memory (core memory $libc "memory"))
      (realloc (core func $libc "realloc")))))

(assert_return (invoke "run" (str.const "hi")) (u32.const 0))
(assert_return (invoke "run" (str.const "again")) (u32.const 0))

(component
  (component $Child
    (core module $M
      (memory (export "memory") 1)
      (data (i32.const 0) "\08\00\00\00\02\00\00\00hi")
      (func (export "hi") (result i32) (i32.const 0)))
    (core instance $m (instantiate $M))
    (func (export "hi") (result string)
      (canon lift (core func $m "hi") (memory (core memory $m "memory")))))
  (instance $child (instantiate $Child))

  (core module $Libc
    (import "" "context.get" (func $get (result i32)))
    (import "" "context.set" (func $set (param i32)))
    (memory (export "memory") 1)
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (if (i32.ne (call $get) (i32.const 0)) (then unreachable))
      (call $set (i32.const 9))
      (i32.const 64)))
  (core func $get (canon context.get i32 0))
  (core func $set (canon context.set i32 0))
  (core instance $libc (instantiate $Libc (with "" (instance
    (export "context.get" (func $get)) (export "context.set" (func $set))))))
  (core func $hi (canon lower (func $child "hi") (memory (core memory $libc "memory"))
    (realloc (core func $libc "realloc"))))
  (core func $task.return (canon task.return (result u32)))
  (core module $M
    (import "" "context.get" (func $get (result i32)))
    (import "" "context.set" (func $set (param i32)))
    (import "" "hi" (func $hi (param i32)))
    (import "" "task.return" (func $task.return (param i32)))
    (func (export "run")
      (call $set (i32.const 7))
      (call $hi (i32.const 16))
      (call $task.return (call $get))))
  (core instance $m (instantiate $M (with "" (instance
    (export "context.get" (func $get)) (export "context.set" (func $set))
    (export "hi" (func $hi)) (export "task.return" (func $task.return))))))
  (func (export "run") async (result u32)
    (canon lift (core func $m "run") async)))

(assert_return (invoke "run") (u32.const 7))
