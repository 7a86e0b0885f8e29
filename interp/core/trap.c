/* Trap reasons and their messages: wasmtime's wording (which contains the spec suite's). */
#include "core/runtime.h"

const char *cm_trap_message(cm_trap t) {
  switch (t) {
  case CM_TRAP_UNREACHABLE: return "wasm trap: wasm `unreachable` instruction executed";
  case CM_TRAP_MEMORY_OOB: return "wasm trap: out of bounds memory access";
  case CM_TRAP_TABLE_OOB: return "wasm trap: undefined element: out of bounds table access";
  case CM_TRAP_INDIRECT_NULL: return "wasm trap: uninitialized element";
  case CM_TRAP_BAD_SIGNATURE: return "wasm trap: indirect call type mismatch";
  case CM_TRAP_INT_OVERFLOW: return "wasm trap: integer overflow";
  case CM_TRAP_DIV_ZERO: return "wasm trap: integer divide by zero";
  case CM_TRAP_BAD_CONVERSION: return "wasm trap: invalid conversion to integer";
  case CM_TRAP_STACK_OVERFLOW: return "call stack exhausted";
  case CM_TRAP_NULL_REFERENCE: return "wasm trap: null reference";
  case CM_TRAP_UNCAUGHT_EXCEPTION: return "uncaught exception";
  case CM_TRAP_OUT_OF_MEMORY: return "out of memory";
  case CM_TRAP_OUT_OF_FUEL: return "all fuel consumed by WebAssembly";
  case CM_TRAP_NULL_I31: return "wasm trap: null i31 reference";
  case CM_TRAP_MEMORY_LIMIT: return "memory limit exceeded: memory.grow beyond the store's maximum memory";
  }
  return "wasm trap: unknown";
}

bool cm_trap_set(cm_error *err, cm_trap t) {
  cmref_errkind kind = (t == CM_TRAP_STACK_OVERFLOW || t == CM_TRAP_OUT_OF_FUEL || t == CM_TRAP_MEMORY_LIMIT) ? CMREF_EXHAUSTION
                       : t == CM_TRAP_OUT_OF_MEMORY ? CMREF_INTERNAL
                                                    : CMREF_TRAP;
  return cm_error_set(err, kind, "%s", cm_trap_message(t));
}
