/* The canonical ABI's view of the core engine (abi_core.h). */
#include "component/abi_core.h"

#include <stdio.h>

static bool core_call(void *env, const cm_value *args, uint32_t nargs, cm_value *results,
                      uint32_t nresults, cm_error *err) {
  cma_core_callee *c = env;
  const cm_functype *t = c->func->type;
  if (t->nparams != nargs || t->nresults != nresults) {
    if (err) {
      err->kind = CMREF_INTERNAL;
      snprintf(err->message, sizeof err->message,
               "canonical ABI: core function takes %u params and %u results, called with %u and %u",
               t->nparams, t->nresults, nargs, nresults);
    }
    return false;
  }
  return cm_core_invoke(c->store, c->func, args, results, err);
}

cma_corefunc cma_corefunc_of(cma_core_callee *c) { return (cma_corefunc){core_call, c}; }

cma_meminst cma_meminst_of(cm_meminst *m) {
  return (cma_meminst){&m->data, &m->size, m->type.limits.is64};
}
