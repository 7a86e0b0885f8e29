/* libFuzzer target: core module decode + validate (+ the execution pre-decoder of every
 * body of a valid module). Any outcome is fine except a crash, a sanitizer report, an
 * error without a message or of the wrong kind, or a valid body that does not compile.
 * Built by tools/fuzz/fuzz.py (clang -fsanitize=fuzzer,address,undefined). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmref.h"
#include "core/exec_internal.h"
#include "core/module.h"
#include "core/validate.h"

static void fail(const char *what, const char *msg) {
  fprintf(stderr, "fuzz_core: %s: %s\n", what, msg);
  __builtin_trap(); /* a finding: libFuzzer saves the input */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cm_module *m = NULL;
  cm_error err = {0};
  if (!cm_core_decode(data, size, &m, &err)) {
    if (err.kind != CMREF_MALFORMED && err.kind != CMREF_INTERNAL) fail("decode kind", err.message);
    if (!err.message[0]) fail("decode", "error without a message");
    return 0;
  }
  err.message[0] = 0;
  if (!cm_core_validate(m, &err)) {
    if (!err.message[0]) fail("validate", "error without a message");
    cm_module_free(m);
    return 0;
  }
  for (uint32_t i = 0; i < m->nfuncs; i++) {
    cm_code *c = cm_compile(m, i, true, &err);
    if (!c) fail("valid body does not compile", err.message);
    cm_code_free(c);
  }
  cm_module_free(m);
  return 0;
}
