/* libFuzzer target: core instantiate + run. Whatever decodes and validates is instantiated
 * against `spectest` and every exported function is called with zero arguments under a
 * fuel limit. Traps, exhaustion and link errors are fine; crashes and sanitizer reports are
 * findings. The engine is kept across inputs and reset every RESET_EVERY inputs (a fresh store
 * costs milliseconds under ASan; instances of earlier inputs are independent of later ones).
 * Built by tools/fuzz/fuzz.py. */
#include <stdint.h>
#include <stdlib.h>

#include "cmref.h"
#include "core/embed.h"
#include "core/exec_internal.h"
#include "core/module.h"

enum { RESET_EVERY = 32 };

/* the driver's own state (not the library's): one engine, reset now and then */
static cmref_engine *engine;
static unsigned inputs;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cmref_error err;
  if (!engine) engine = cmref_engine_new();
  if (!engine) return 0;
  if (inputs++ % RESET_EVERY == 0 && cmref_reset(engine, &err) != 0) return 0;
  cmref_engine *e = engine;
  int h = cmref_load_module(e, data, size, &err);
  int inst = h < 0 ? -1 : cmref_instantiate(e, h, &err);
  if (inst >= 0) {
    cm_instance *in = e->instances[inst];
    const cm_module *m = in->module;
    for (uint32_t i = 0; i < m->nexports; i++) {
      if (m->exports[i].kind != CM_EXTERN_FUNC) continue;
      cm_funcinst *f = in->funcs[m->exports[i].index];
      cm_value *vals = calloc((size_t)f->type->nparams + f->type->nresults + 1, sizeof *vals);
      if (!vals) break;
      cm_error cerr;
      cm_store_set_fuel(e->store, 5000);
      (void)cm_core_invoke(e->store, f, vals, vals + f->type->nparams, &cerr);
      free(vals);
    }
  }
  return 0;
}
