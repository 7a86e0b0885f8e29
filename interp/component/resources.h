/* Runtime state of resources (CanonicalABI.md "Table State", "Resource State") and the
 * built-ins canon resource.new / resource.drop / resource.rep. */
#ifndef CMA_RESOURCES_H
#define CMA_RESOURCES_H

#include "component/abi.h"

/* Kinds of table entries (the spec's Table holds ResourceHandle | Waitable | WaitableSet |
 * ErrorContext; the latter three come with concurrency, issue 8). */
enum { CMA_ENTRY_FREE = 0, CMA_ENTRY_RESOURCE_HANDLE = 1, CMA_ENTRY_WAITABLE = 2,
       CMA_ENTRY_WAITABLE_SET = 3, CMA_ENTRY_ERROR_CONTEXT = 4,
       CMA_ENTRY_THREAD = 5 };

#define CMA_TABLE_MAX_LENGTH ((1u << 28) - 1)

/* ResourceType: created once per instantiation of a resource definition (generative). */
struct cma_resource_type {
  cma_instance *impl;
  bool has_dtor;
  cma_corefunc dtor;
  const char *name; /* for messages; may be NULL */
};

/* ResourceHandle */
struct cma_resource_handle {
  cma_resource_type *rt;
  uint32_t rep; /* i32 (64-bit reps, 🐘, are not supported yet) */
  bool own;
  cma_task *borrow_scope;
  uint32_t num_lends;
};

/* Table: get / add / remove. Errors are traps with wasmtime's wording. */
bool cma_table_init(cma_table *t);
void cma_table_free(cma_table *t); /* frees the entries it still holds */
bool cma_table_get(cma_table *t, uint32_t i, cma_table_entry **out, cm_error *err);
bool cma_table_add(cma_table *t, uint8_t kind, void *p, uint32_t *out, cm_error *err);
bool cma_table_remove(cma_table *t, uint32_t i, cma_table_entry *out, cm_error *err);

cma_resource_handle *cma_resource_handle_new(cma_resource_type *rt, uint32_t rep, bool own,
                                             cma_task *borrow_scope);

/* canon resource.new / resource.drop / resource.rep, in the current instance inst. */
bool canon_resource_new(cma_instance *inst, cma_resource_type *rt, uint32_t rep, uint32_t *out,
                        cm_error *err);
bool canon_resource_drop(cma_instance *inst, cma_resource_type *rt, uint32_t i, cm_error *err);
bool canon_resource_rep(cma_instance *inst, cma_resource_type *rt, uint32_t i, uint32_t *out,
                        cm_error *err);

#endif
