;;! frontend = "wasm-tools"
;; cmref's own tests: exception handling as in Wasm 3.0 (tags, throw, throw_ref, try_table,
;; exnref). wast2json 1.0.32 cannot parse try_table, so this file goes to the component
;; front-end (wasm-tools), by the header line below.

(module $M
  (tag $e0)
  (tag $e1 (param i32))
  (tag $e2 (param i32 i64))
  (tag $big (param f64 i32 f32))

  ;; catch: the tag's values are the branch's values
  (func (export "catch-i32") (param i32) (result i32)
    (block $h (result i32)
      (try_table (result i32) (catch $e1 $h)
        (throw $e1 (local.get 0)))))

  ;; the right clause is chosen by tag; catch_all catches the rest
  (func (export "select-tag") (param i32) (result i32)
    (block $all
      (block $h1 (result i32)
        (block $h0
          (try_table (catch $e0 $h0) (catch $e1 $h1) (catch_all $all)
            (if (i32.eqz (local.get 0)) (then (throw $e0)))
            (if (i32.eq (local.get 0) (i32.const 1)) (then (throw $e1 (i32.const 11))))
            (throw $e2 (i32.const 2) (i64.const 2))))
        (return (i32.const 100)))
      (return (i32.add (i32.const 200))))
    (i32.const 300))

  ;; several values, of several types
  (func (export "multi") (result i32 i64)
    (block $h (result i32 i64)
      (try_table (result i32 i64) (catch $e2 $h)
        (throw $e2 (i32.const -1) (i64.const 0x1_0000_0000)))))

  (func (export "floats") (result f64 i32 f32)
    (block $h (result f64 i32 f32)
      (try_table (result f64 i32 f32) (catch $big $h)
        (throw $big (f64.const 1.5) (i32.const 7) (f32.const -0.25)))))

  ;; exceptions unwind call frames
  (func $thrower (param i32) (result i32)
    (if (local.get 0) (then (throw $e1 (i32.mul (local.get 0) (i32.const 3)))))
    (i32.const 0))
  (func $middle (param i32) (result i32)
    (i32.add (call $thrower (local.get 0)) (i32.const 1000)))
  (func (export "across-calls") (param i32) (result i32)
    (block $h (result i32)
      (try_table (result i32) (catch $e1 $h)
        (call $middle (local.get 0)))))

  ;; deep recursion, then one throw unwinds every frame
  (func $down (param i32)
    (if (i32.eqz (local.get 0)) (then (throw $e1 (i32.const 42))))
    (call $down (i32.sub (local.get 0) (i32.const 1))))
  (func (export "deep") (param i32) (result i32)
    (block $h (result i32)
      (try_table (result i32) (catch $e1 $h)
        (call $down (local.get 0))
        (i32.const -1))))

  ;; the innermost handler wins; an inner handler without a matching clause is skipped
  (func (export "nested") (result i32)
    (block $outer (result i32)
      (try_table (result i32) (catch $e1 $outer)
        (block $inner
          (try_table (catch $e0 $inner)
            (throw $e1 (i32.const 5))))
        (i32.const -1))))

  ;; catch_ref + throw_ref: rethrow the same exception to an outer handler
  (func (export "rethrow") (result i32)
    (block $outer (result i32)
      (try_table (result i32) (catch $e1 $outer)
        (block $h (result i32 exnref)
          (try_table (catch_ref $e1 $h)
            (throw $e1 (i32.const 77)))
          (unreachable))
        (throw_ref))))

  ;; catch_all_ref keeps the exception as a value
  (func (export "all-ref-is-null") (result i32)
    (block $h (result exnref)
      (try_table (catch_all_ref $h) (throw $e0))
      (unreachable))
    (ref.is_null))

  ;; throw_ref of null traps
  (func (export "throw-null")
    (throw_ref (ref.null exn)))

  ;; values below the try_table are kept, the stack inside it is discarded
  (func (export "stack-height") (result i32)
    (i32.const 1)
    (block $h (result i32)
      (try_table (result i32) (catch $e1 $h)
        (i32.const 10) (i32.const 20) (drop) (drop)
        (throw $e1 (i32.const 2))))
    (i32.add))

  ;; try_table with parameters, and a loop that catches on each iteration
  (func (export "loop-catch") (param $n i32) (result i32)
    (local $sum i32)
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (block $h (result i32)
          (try_table (result i32) (catch $e1 $h)
            (throw $e1 (local.get $n))))
        (local.set $sum (i32.add (local.get $sum)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l)))
    (local.get $sum))

  (func (export "params") (result i32)
    (block $h (result i32)
      (i32.const 4)
      (try_table (param i32) (result i32) (catch $e1 $h)
        (throw $e1))))

  ;; no exception: try_table is an ordinary block
  (func (export "no-throw") (result i32)
    (block $h
      (try_table (result i32) (catch_all $h)
        (i32.const 9))
      (return))
    (i32.const -1))

  ;; exceptions through call_indirect
  (table funcref (elem $thrower))
  (type $t (func (param i32) (result i32)))
  (func (export "indirect") (param i32) (result i32)
    (block $h (result i32)
      (try_table (result i32) (catch $e1 $h)
        (call_indirect (type $t) (local.get 0) (i32.const 0)))))

  (export "e1" (tag $e1))
)

(assert_return (invoke "catch-i32" (i32.const 7)) (i32.const 7))
(assert_return (invoke "select-tag" (i32.const 0)) (i32.const 100))
(assert_return (invoke "select-tag" (i32.const 1)) (i32.const 211))
(assert_return (invoke "select-tag" (i32.const 2)) (i32.const 300))
(assert_return (invoke "multi") (i32.const -1) (i64.const 0x1_0000_0000))
(assert_return (invoke "floats") (f64.const 1.5) (i32.const 7) (f32.const -0.25))
(assert_return (invoke "across-calls" (i32.const 0)) (i32.const 1000))
(assert_return (invoke "across-calls" (i32.const 5)) (i32.const 15))
(assert_return (invoke "deep" (i32.const 1000)) (i32.const 42))
(assert_return (invoke "nested") (i32.const 5))
(assert_return (invoke "rethrow") (i32.const 77))
(assert_return (invoke "all-ref-is-null") (i32.const 0))
(assert_trap (invoke "throw-null") "null reference")
(assert_return (invoke "stack-height") (i32.const 3))
(assert_return (invoke "loop-catch" (i32.const 10)) (i32.const 55))
(assert_return (invoke "params") (i32.const 4))
(assert_return (invoke "no-throw") (i32.const 9))
(assert_return (invoke "indirect" (i32.const 4)) (i32.const 12))

;; A tag is an identity: an imported tag is the same tag, a new definition is a new one.
(register "M" $M)
(module
  (import "M" "e1" (tag $e1 (param i32)))
  (tag $other (param i32))
  (import "M" "catch-i32" (func $catch (param i32) (result i32)))
  (func (export "imported-tag") (result i32)
    (block $h (result i32)
      (try_table (result i32) (catch $e1 $h)
        (throw $e1 (i32.const 8)))))
  (func (export "other-tag") (result i32)
    (block $h (result i32)
      (try_table (result i32) (catch $other $h)
        (block $h1 (result i32)
          (try_table (result i32) (catch $e1 $h1)
            (throw $other (i32.const 9))))
        (i32.const 1000)
        (i32.add))))
)
(assert_return (invoke "imported-tag") (i32.const 8))
(assert_return (invoke "other-tag") (i32.const 9))

;; Validation
(assert_invalid
  (module (tag $e (param i32)) (func (throw $e)))
  "type mismatch")
(assert_invalid
  (module (tag $e (param i32))
    (func (block $h (try_table (catch $e $h) (nop)))))
  "type mismatch")
(assert_invalid
  (module (func (throw_ref (i32.const 0))))
  "type mismatch")
(assert_invalid
  (module (func (throw 0)))
  "unknown tag")
(assert_invalid
  (module (type (func (result i32))) (tag (type 0)))
  "non-empty tag result type")
