/* Handle tables and resources (CanonicalABI.md "Table State", "Resource State",
 * "canon resource.new", "canon resource.drop", "canon resource.rep"). */
#include "component/resources.h"

#include "component/types.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool trap_msg(cm_error *err, cma_trap_reason reason, uint32_t i) {
  if (err) {
    err->kind = CMREF_TRAP;
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#endif
    snprintf(err->message, sizeof err->message, cma_trap_message(reason, false), i);
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
  }
  return false;
}

/* ================================================================================ */
/* Table State                                                                      */
/* ================================================================================ */

bool cma_table_init(cma_table *t) {
  memset(t, 0, sizeof *t);
  t->array = calloc(16, sizeof *t->array);
  if (!t->array) return false;
  t->cap = 16;
  t->len = 1; /* array = [None] */
  return true;
}

void cma_table_free(cma_table *t) {
  for (uint32_t i = 1; i < t->len; i++)
    if (t->array[i].kind == CMA_ENTRY_RESOURCE_HANDLE) free(t->array[i].p);
  free(t->array);
  free(t->free);
  memset(t, 0, sizeof *t);
}

/* Table.get */
bool cma_table_get(cma_table *t, uint32_t i, cma_table_entry **out, cm_error *err) {
  if (i >= t->len) return trap_msg(err, CMA_TRAP_UNKNOWN_HANDLE, i);
  if (t->array[i].kind == CMA_ENTRY_FREE) return trap_msg(err, CMA_TRAP_UNKNOWN_HANDLE, i);
  *out = &t->array[i];
  return true;
}

/* Table.add */
bool cma_table_add(cma_table *t, uint8_t kind, void *p, uint32_t *out, cm_error *err) {
  uint32_t i;
  if (t->nfree) {
    i = t->free[--t->nfree];
  } else {
    i = t->len;
    if (i > CMA_TABLE_MAX_LENGTH || (t->max_len && *t->max_len && i >= *t->max_len))
      return trap_msg(err, CMA_TRAP_TABLE_FULL, i);
    if (t->len == t->cap) {
      uint32_t cap = t->cap * 2;
      cma_table_entry *a = realloc(t->array, (size_t)cap * sizeof *a);
      if (!a) {
        if (err) {
          err->kind = CMREF_EXHAUSTION;
          snprintf(err->message, sizeof err->message, "out of memory");
        }
        return false;
      }
      t->array = a;
      t->cap = cap;
    }
    t->len++;
  }
  t->array[i].kind = kind;
  t->array[i].p = p;
  *out = i;
  return true;
}

/* Table.remove: the entry is returned in *out and its slot freed */
bool cma_table_remove(cma_table *t, uint32_t i, cma_table_entry *out, cm_error *err) {
  cma_table_entry *e;
  if (!cma_table_get(t, i, &e, err)) return false;
  if (t->nfree == t->capfree) {
    uint32_t cap = t->capfree ? t->capfree * 2 : 16;
    uint32_t *f = realloc(t->free, (size_t)cap * sizeof *f);
    if (!f) {
      if (err) {
        err->kind = CMREF_EXHAUSTION;
        snprintf(err->message, sizeof err->message, "out of memory");
      }
      return false;
    }
    t->free = f;
    t->capfree = cap;
  }
  *out = *e;
  e->kind = CMA_ENTRY_FREE;
  e->p = NULL;
  t->free[t->nfree++] = i;
  return true;
}

/* ================================================================================ */
/* Resource State                                                                   */
/* ================================================================================ */

cma_resource_handle *cma_resource_handle_new(cma_resource_type *rt, uint32_t rep, bool own,
                                             cma_task *borrow_scope) {
  cma_resource_handle *h = calloc(1, sizeof *h);
  if (!h) return NULL;
  h->rt = rt;
  h->rep = rep;
  h->own = own;
  h->borrow_scope = borrow_scope;
  h->num_lends = 0;
  return h;
}

/* ================================================================================ */
/* canon resource.new                                                               */
/* ================================================================================ */

bool canon_resource_new(cma_instance *inst, cma_resource_type *rt, uint32_t rep, uint32_t *out,
                        cm_error *err) {
  if (!inst->may_leave) return trap_msg(err, CMA_TRAP_CANNOT_LEAVE, 0);
  cma_resource_handle *h = cma_resource_handle_new(rt, rep, true, NULL);
  if (!h) {
    if (err) {
      err->kind = CMREF_EXHAUSTION;
      snprintf(err->message, sizeof err->message, "out of memory");
    }
    return false;
  }
  if (!cma_table_add(&inst->handles, CMA_ENTRY_RESOURCE_HANDLE, h, out, err)) {
    free(h);
    return false;
  }
  return true;
}

/* ================================================================================ */
/* canon resource.drop                                                              */
/* ================================================================================ */

/* the destructor call: Store.lift(dtor, func(u32), rt.impl) then Store.lower(..., inst) */
static bool run_dtor(cma_instance *inst, cma_resource_type *rt, uint32_t rep, cm_error *err) {
  static const cma_options opts; /* CanonicalOptions(async_ = False): all defaults */
  if (!inst->types) {
    if (err) {
      err->kind = CMREF_INTERNAL;
      snprintf(err->message, sizeof err->message, "resource.drop: the instance has no type arena");
    }
    return false;
  }
  cmc_field param = {"rep", cmc_prim_tid(CMC_U32)};
  cma_functype ft = {.types = inst->types, .params = &param, .nparams = 1, .result = CMC_NONE};
  cma_funcinst callee;
  cma_store_lift(inst->store, &callee, rt->dtor, &ft, &opts, rt->impl);
  cm_value arg;
  memset(&arg, 0, sizeof arg);
  arg.i32 = rep;
  return cma_store_lower_call(inst->store, &callee, &ft, &opts, inst, &arg, 1, NULL, 0, err);
}

bool canon_resource_drop(cma_instance *inst, cma_resource_type *rt, uint32_t i, cm_error *err) {
  if (!inst->may_leave) return trap_msg(err, CMA_TRAP_CANNOT_LEAVE, 0);
  cma_table_entry *e;
  if (!cma_table_get(&inst->handles, i, &e, err)) return false;
  if (e->kind != CMA_ENTRY_RESOURCE_HANDLE) return trap_msg(err, CMA_TRAP_HANDLE_NOT_RESOURCE, i);
  cma_resource_handle *h = e->p;
  if (h->rt != rt) return trap_msg(err, CMA_TRAP_HANDLE_WRONG_TYPE, i);
  if (h->num_lends != 0) return trap_msg(err, CMA_TRAP_HANDLE_LENT, i);
  cma_table_entry removed;
  if (!cma_table_remove(&inst->handles, i, &removed, err)) return false;
  bool ok = true;
  if (h->own) {
    if (rt->has_dtor) ok = run_dtor(inst, rt, h->rep, err);
  } else {
    h->borrow_scope->num_borrows--;
  }
  free(h);
  return ok;
}

/* ================================================================================ */
/* canon resource.rep                                                               */
/* ================================================================================ */

bool canon_resource_rep(cma_instance *inst, cma_resource_type *rt, uint32_t i, uint32_t *out,
                        cm_error *err) {
  cma_table_entry *e;
  if (!cma_table_get(&inst->handles, i, &e, err)) return false;
  if (e->kind != CMA_ENTRY_RESOURCE_HANDLE) return trap_msg(err, CMA_TRAP_HANDLE_NOT_RESOURCE, i);
  cma_resource_handle *h = e->p;
  if (h->rt != rt) return trap_msg(err, CMA_TRAP_HANDLE_WRONG_TYPE, i);
  *out = h->rep;
  return true;
}
