/* libFuzzer target: component decode + validate (both profiles: the spec's and wasmtime's),
 * and for a valid component its type as WIT (wit_decode_component, wit_print). Rejections
 * must be CMREF_MALFORMED or CMREF_INVALID with a message. Built by tools/fuzz/fuzz.py. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmref.h"
#include "component/component.h"
#include "wit/wit.h"

static void fail(const char *what, const char *msg) {
  fprintf(stderr, "fuzz_component: %s: %s\n", what, msg);
  __builtin_trap();
}

static bool validate(const uint8_t *data, size_t size, bool wasmtime) {
  cmc_comp_options opts = {.wasmtime = wasmtime};
  cmc_comp_result res;
  cmc_error err = {0};
  bool ok = cmc_comp_validate(data, size, &opts, &res, &err);
  if (!ok) {
    if (err.kind != CMREF_MALFORMED && err.kind != CMREF_INVALID && err.kind != CMREF_INTERNAL)
      fail("rejection kind", err.message);
    if (!err.message[0]) fail("rejection", "error without a message");
  }
  cmc_comp_free(&res);
  return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  bool spec_ok = validate(data, size, false);
  (void)validate(data, size, true);
  if (spec_ok && cmc_comp_is_component(data, size)) {
    wit_resolve r;
    wit_resolve_init(&r);
    int pkg = wit_decode_component(&r, data, size);
    if (pkg >= 0) free(wit_print(&r, pkg, NULL, 0));
    wit_resolve_free(&r);
  }
  return 0;
}
