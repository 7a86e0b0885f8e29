;;! component_model_async = true
;; A stream copy within one memory whose source and destination ranges overlap
;; (SharedStreamImpl.read/write: dst_buffer.write(pending_buffer.read(n)) reads every
;; element before writing any): the reader sees the writer's bytes, not ones it already
;; overwrote.

(component
  (core module $Memory (memory (export "mem") 1))
  (core instance $memory (instantiate $Memory))
  (type $S (stream u8))
  (core func $new (canon stream.new $S))
  (core func $read (canon stream.read $S async (memory (core memory $memory "mem"))))
  (core func $write (canon stream.write $S async (memory (core memory $memory "mem"))))
  (core module $M
    (import "" "mem" (memory 1))
    (import "" "new" (func $new (result i64)))
    (import "" "read" (func $read (param i32 i32 i32) (result i32)))
    (import "" "write" (func $write (param i32 i32 i32) (result i32)))
    ;; reads 8 bytes at $dst from a write of the 8 bytes at 16; returns the 8 bytes at $dst
    (func (export "copy") (param $dst i32) (result i64)
      (local $s i64)
      (i64.store (i32.const 16) (i64.const 0x0123456789abcdef))
      (local.set $s (call $new))
      (if (i32.ne (call $read (i32.wrap_i64 (local.get $s)) (local.get $dst) (i32.const 8))
                  (i32.const -1))
        (then unreachable))
      (if (i32.ne (call $write (i32.wrap_i64 (i64.shr_u (local.get $s) (i64.const 32)))
                               (i32.const 16) (i32.const 8))
                  (i32.const 0x80))
        (then unreachable))
      (i64.load (local.get $dst))))
  (core instance $m (instantiate $M (with "" (instance
    (export "mem" (memory $memory "mem")) (export "new" (func $new))
    (export "read" (func $read)) (export "write" (func $write))))))
  (func (export "copy") (param "dst" u32) (result u64) (canon lift (core func $m "copy"))))

(assert_return (invoke "copy" (u32.const 12)) (u64.const 0x0123456789abcdef))
(assert_return (invoke "copy" (u32.const 19)) (u64.const 0x0123456789abcdef))
(assert_return (invoke "copy" (u32.const 16)) (u64.const 0x0123456789abcdef))
