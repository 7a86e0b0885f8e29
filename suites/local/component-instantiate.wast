;; Component instantiation (issue 7): lifted exports, nested components, aliases,
;; component-to-component calls through lower + lift, resources.

(component
  (core module $m (func (export "f") (result i32) i32.const 42))
  (core instance $i (instantiate $m))
  (func (export "f") (result u32) (canon lift (core func $i "f")))
)
(assert_return (invoke "f") (u32.const 42))

;; a child component's export called from the parent through a lowered import
(component
  (component $C
    (core module $m (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))
    (core instance $i (instantiate $m))
    (func (export "add") (param "a" u32) (param "b" u32) (result u32) (canon lift (core func $i "add")))
  )
  (instance $c (instantiate $C))
  (alias export $c "add" (func $add))
  (core func $add' (canon lower (func $add)))
  (core module $n
    (import "" "add" (func $add (param i32 i32) (result i32)))
    (func (export "run") (result i32) (call $add (i32.const 40) (i32.const 2))))
  (core instance $j (instantiate $n (with "" (instance (export "add" (func $add'))))))
  (func (export "run") (result u32) (canon lift (core func $j "run")))
)
(assert_return (invoke "run") (u32.const 42))

;; strings across two components (utf8 -> utf16)
(component
  (component $Callee
    (core module $m
      (memory (export "mem") 1)
      (global $next (mut i32) (i32.const 1024))
      (func (export "realloc") (param i32 i32 i32 i32) (result i32)
        (local $r i32)
        (local.set $r (global.get $next))
        (global.set $next (i32.add (global.get $next) (local.get 3)))
        (local.get $r))
      (func (export "len") (param i32 i32) (result i32) local.get 1))
    (core instance $i (instantiate $m))
    (func (export "len") (param "s" string) (result u32)
      (canon lift (core func $i "len") string-encoding=utf16
        (memory $i "mem") (realloc (func $i "realloc"))))
  )
  (instance $c (instantiate $Callee))
  (core module $Mem (memory (export "mem") 1) (data (i32.const 16) "hello"))
  (core instance $mem (instantiate $Mem))
  (core func $len (canon lower (func $c "len") (memory $mem "mem")))
  (core module $n
    (import "" "len" (func $len (param i32 i32) (result i32)))
    (func (export "run") (result i32) (call $len (i32.const 16) (i32.const 5))))
  (core instance $j (instantiate $n (with "" (instance (export "len" (func $len))))))
  (func (export "run") (result u32) (canon lift (core func $j "run")))
)
(assert_return (invoke "run") (u32.const 5))

;; resources: new, rep, drop with a destructor; instance per instantiation
(component
  (core module $D
    (global $dropped (export "dropped") (mut i32) (i32.const 0))
    (func (export "dtor") (param i32) (global.set $dropped (local.get 0))))
  (core instance $d (instantiate $D))
  (type $R (resource (rep i32) (dtor (func $d "dtor"))))
  (core func $new (canon resource.new $R))
  (core func $rep (canon resource.rep $R))
  (core func $drop (canon resource.drop $R))
  (core module $M
    (import "" "new" (func $new (param i32) (result i32)))
    (import "" "rep" (func $rep (param i32) (result i32)))
    (import "" "drop" (func $drop (param i32)))
    (import "" "dropped" (global $dropped (mut i32)))
    (func (export "run") (result i32)
      (local $h i32)
      (local.set $h (call $new (i32.const 77)))
      (if (i32.ne (call $rep (local.get $h)) (i32.const 77)) (then unreachable))
      (call $drop (local.get $h))
      (global.get $dropped))
    (func (export "bad") (call $drop (i32.const 5))))
  (core instance $m (instantiate $M (with "" (instance
    (export "new" (func $new)) (export "rep" (func $rep)) (export "drop" (func $drop))
    (export "dropped" (global $d "dropped"))))))
  (func (export "run") (result u32) (canon lift (core func $m "run")))
  (func (export "bad") (canon lift (core func $m "bad")))
)
(assert_return (invoke "run") (u32.const 77))
(assert_trap (invoke "bad") "unknown handle index 5")

;; a named component is importable by its name (wasmtime's runner)
(component $provider
  (core module $m (func (export "f") (result i32) i32.const 7))
  (core instance $i (instantiate $m))
  (func (export "f") (result u32) (canon lift (core func $i "f")))
)
(component
  (import "provider" (instance $p (export "f" (func (result u32)))))
  (alias export $p "f" (func $f))
  (core func $f' (canon lower (func $f)))
  (core module $n
    (import "" "f" (func $f (result i32)))
    (func (export "g") (result i32) (i32.add (call $f) (i32.const 1))))
  (core instance $j (instantiate $n (with "" (instance (export "f" (func $f'))))))
  (func (export "g") (result u32) (canon lift (core func $j "g")))
)
(assert_return (invoke "g") (u32.const 8))
(assert_unlinkable
  (component (import "provider" (func)))
  "expected function found instance")
(assert_unlinkable
  (component (import "nothing-here" (instance (export "x" (func)))))
  "was not found")

;; wasmtime's test host: root functions, the `host` instance, host resources
(component
  (import "host-return-two" (func $two (result u32)))
  (import "host" (instance $h
    (export "return-hi" (func (result string)))
    (export "nested" (instance (export "return-four" (func (result u32)))))))
  (alias export $h "nested" (instance $n))
  (alias export $n "return-four" (func $four))
  (core func $two' (canon lower (func $two)))
  (core func $four' (canon lower (func $four)))
  (core module $m
    (import "" "two" (func $two (result i32)))
    (import "" "four" (func $four (result i32)))
    (func (export "six") (result i32) (i32.add (call $two) (call $four))))
  (core instance $i (instantiate $m (with "" (instance
    (export "two" (func $two')) (export "four" (func $four'))))))
  (func (export "six") (result u32) (canon lift (core func $i "six")))
)
(assert_return (invoke "six") (u32.const 6))
(assert_unlinkable
  (component
    (import "host" (instance
      (export "resource1" (type $r1 (sub resource)))
      (export "resource2" (type (eq $r1))))))
  "mismatched resource types")
