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

/* ---- Store.lower as a core host function ---- */

const cm_functype *cma_lowered_init(cma_lowered *l, cm_store *s, cma_store *store,
                                    cma_funcinst *callee, const cma_functype *ft,
                                    const cma_options *opts, cma_instance *inst, cm_error *err) {
  cma_flat_functype flat;
  if (!flatten_functype(opts, ft, CMA_LOWER, &flat, err)) return NULL;
  l->store = store;
  l->callee = callee;
  l->ft = *ft;
  l->opts = *opts;
  l->inst = inst;
  l->nparams = flat.nparams;
  l->nresults = flat.nresults;
  /* flat types are core valtype codes (0x7f i32, 0x7e i64, 0x7d f32, 0x7c f64) */
  const cm_functype *t = cm_store_functype(s, flat.params, flat.nparams, flat.results, flat.nresults);
  if (!t && err) {
    err->kind = CMREF_EXHAUSTION;
    snprintf(err->message, sizeof err->message, "out of memory");
  }
  return t;
}

bool cma_lowered_call(void *env, cm_store *s, const cm_value *args, cm_value *results,
                      cm_error *err) {
  cma_lowered *l = env;
  (void)s;
  return cma_store_lower_call(l->store, l->callee, &l->ft, &l->opts, l->inst, args, l->nparams,
                              results, l->nresults, err);
}

/* ---- resource built-ins as core host functions ---- */

const cm_functype *cma_resource_builtin_type(cm_store *s, cma_resource_op op) {
  cm_valtype i32 = CM_I32, rep = CM_I32;
  switch (op) {
  case CMA_RESOURCE_NEW: return cm_store_functype(s, &rep, 1, &i32, 1);
  case CMA_RESOURCE_DROP: return cm_store_functype(s, &i32, 1, NULL, 0);
  default: return cm_store_functype(s, &i32, 1, &rep, 1);
  }
}

bool cma_resource_new_fn(void *env, cm_store *s, const cm_value *args, cm_value *results,
                         cm_error *err) {
  cma_resource_builtin *b = env;
  (void)s;
  uint32_t h;
  if (!canon_resource_new(b->inst, b->rt, args[0].i32, &h, err)) return false;
  results[0].i64 = 0;
  results[0].i32 = h;
  return true;
}

bool cma_resource_drop_fn(void *env, cm_store *s, const cm_value *args, cm_value *results,
                          cm_error *err) {
  cma_resource_builtin *b = env;
  (void)s;
  (void)results;
  return canon_resource_drop(b->inst, b->rt, args[0].i32, err);
}

bool cma_resource_rep_fn(void *env, cm_store *s, const cm_value *args, cm_value *results,
                         cm_error *err) {
  cma_resource_builtin *b = env;
  (void)s;
  uint32_t rep;
  if (!canon_resource_rep(b->inst, b->rt, args[0].i32, &rep, err)) return false;
  results[0].i64 = 0;
  results[0].i32 = rep;
  return true;
}
