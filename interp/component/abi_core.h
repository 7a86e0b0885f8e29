/* The canonical ABI's view of the core engine: a core function instance as a cma_corefunc
 * (calls through cm_core_invoke) and a core memory instance as a cma_meminst. */
#ifndef CMA_ABI_CORE_H
#define CMA_ABI_CORE_H

#include "component/abi.h"
#include "core/runtime.h"

typedef struct cma_core_callee {
  cm_store *store;
  cm_funcinst *func;
} cma_core_callee;

/* c must outlive the returned cma_corefunc (it is its env). */
cma_corefunc cma_corefunc_of(cma_core_callee *c);
cma_meminst cma_meminst_of(cm_meminst *m);

#endif
