/* cmref core: validation (spec 3 "Validation", the appendix's algorithm). Owned by corevalid. */
#ifndef CM_CORE_VALIDATE_H
#define CM_CORE_VALIDATE_H

#include "module.h"

/* Proposals beyond Wasm 2.0 that change what is valid (or even well-formed) code. */
typedef struct cm_core_features {
  /* Multi-memory: more than one memory, and memory index immediates (memarg flag bit 6,
   * LEB memory indices where Wasm 2.0 has a reserved zero byte). Off: the pinned 2.0 core
   * suite's rules ("multiple memories", "zero byte expected"). */
  bool multi_memory;
  /* (added) The GC subset cmref implements: i31ref ((ref null i31), `ref.i31`,
   * `i31.get_s/u`), non-nullable abstract reference types `(ref func|extern|exn|i31)`, tables
   * with an initialiser. Off: those encodings are "malformed value type" as in Wasm 2.0.
   * Locals of non-nullable types are rejected (no initialisation tracking). */
  bool gc;
} cm_core_features;
/* Exception handling (Wasm 3.0: tags, throw, throw_ref, try_table, exnref) is always on: it
 * changes nothing that Wasm 2.0 accepts. */

/* Wasm 2.0 (the pinned core suite) plus exception handling; no multi-memory. */
cm_core_features cm_core_features_wasm2(void);
/* Everything cmref implements (multi-memory on): for the core modules of components. */
cm_core_features cm_core_features_all(void);

/* Validates a decoded module. On failure returns false with err->kind = CMREF_INVALID (or
 * CMREF_MALFORMED for the few binary rules only checkable while reading instructions:
 * "illegal opcode", "zero byte expected", "END opcode expected", "data count section
 * required", LEB errors inside bodies ...). Bodies are read completely for those rules
 * before any validation rule is checked, so a malformed body wins over an invalid module,
 * as in the spec's decode-then-validate order. Uses cm_core_features_wasm2(). */
bool cm_core_validate(const cm_module *m, cm_error *err);

/* The same with an explicit feature set. */
bool cm_core_validate_with(const cm_module *m, const cm_core_features *features, cm_error *err);

#endif
