/* The canonical ABI's view of the core engine, and the core host functions that
 * instantiation installs for `canon lower` and the resource built-ins:
 * - cma_corefunc_of: a core function instance as a cma_corefunc (calls cm_core_invoke);
 * - cma_meminst_of: a core memory instance as a cma_meminst;
 * - cma_lowered: Store.lower, a core host function (cm_host_fn) calling canon lower;
 * - cma_resource_builtin: canon resource.new / resource.drop / resource.rep as core host
 *   functions. */
#ifndef CMA_ABI_CORE_H
#define CMA_ABI_CORE_H

#include "component/abi.h"
#include "component/resources.h"
#include "core/runtime.h"

typedef struct cma_core_callee {
  cm_store *store;
  cm_funcinst *func;
} cma_core_callee;

/* c must outlive the returned cma_corefunc (it is its env). */
cma_corefunc cma_corefunc_of(cma_core_callee *c);
cma_meminst cma_meminst_of(cm_meminst *m);

/* Store.lower(callee, ft, opts, inst) as a core host function: env is the cma_lowered. */
typedef struct cma_lowered {
  cma_store *store;
  cma_funcinst *callee;
  cma_functype ft;
  cma_options opts;
  cma_instance *inst;
  uint32_t nparams, nresults; /* the flat core type */
} cma_lowered;

/* Fills l; returns the core function type (kept by the core store s) to create the host
 * function with cm_store_host_func(s, type, cma_lowered_call, l); NULL with err on failure. */
const cm_functype *cma_lowered_init(cma_lowered *l, cm_store *s, cma_store *store,
                                    cma_funcinst *callee, const cma_functype *ft,
                                    const cma_options *opts, cma_instance *inst, cm_error *err);
bool cma_lowered_call(void *env, cm_store *s, const cm_value *args, cm_value *results,
                      cm_error *err);

/* canon resource.{new,drop,rep} rt, in the instance inst: env is the cma_resource_builtin. */
typedef struct cma_resource_builtin {
  cma_instance *inst;
  cma_resource_type *rt;
} cma_resource_builtin;

typedef enum cma_resource_op { CMA_RESOURCE_NEW, CMA_RESOURCE_DROP, CMA_RESOURCE_REP } cma_resource_op;

/* The core type of the built-in: new (i32) -> i32, drop (i32) -> (), rep (i32) -> i32. */
const cm_functype *cma_resource_builtin_type(cm_store *s, cma_resource_op op);
bool cma_resource_new_fn(void *env, cm_store *s, const cm_value *args, cm_value *results,
                         cm_error *err);
bool cma_resource_drop_fn(void *env, cm_store *s, const cm_value *args, cm_value *results,
                          cm_error *err);
bool cma_resource_rep_fn(void *env, cm_store *s, const cm_value *args, cm_value *results,
                         cm_error *err);

#endif
