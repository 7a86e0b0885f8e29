/* Linking imports (link.h), after wasmtime's runtime/component/matching.rs. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation" /* messages are truncated on purpose */
#endif
#include "component/link.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "component/types.h"

static bool unlinkable(cm_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool unlinkable(cm_error *err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  err->kind = CMREF_UNLINKABLE;
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  return false;
}

/* the expected kind, as wasmtime's matching names it */
static const char *expected_desc(int sort) {
  switch (sort) {
  case CMC_SORT_FUNC: return "function";
  case CMC_SORT_TYPE: return "type";
  case CMC_SORT_COMPONENT: return "component";
  case CMC_SORT_INSTANCE: return "instance";
  case CMC_SORT_CORE + CMC_CORE_MODULE: return "module";
  default: return "item";
  }
}

/* the supplied definition's kind (wasmtime's Definition::desc) */
static const char *actual_desc(const cmi_item *it) {
  switch (it->sort) {
  case CMC_SORT_FUNC: return "func";
  case CMC_SORT_TYPE: return it->u.rt ? "resource" : "type";
  case CMC_SORT_COMPONENT: return "component";
  case CMC_SORT_INSTANCE: return "instance";
  case CMC_SORT_CORE + CMC_CORE_MODULE: return "module";
  default: return "item";
  }
}

static bool is_resource(cmc_types *types, cmc_tid t) { return types->v[t].kind == CMC_T_RESOURCE; }

/* an instance type whose exports need nothing from the linker (recursively) */
static bool empty_instance(cmc_types *types, cmc_tid it, unsigned depth) {
  const cmc_type *t = &types->v[it];
  if (depth > CMC_HARD_DEPTH || t->kind != CMC_T_INSTANCE) return false;
  for (uint32_t i = 0; i < t->nexports; i++) {
    const cmc_extern *x = &t->exports[i];
    if (x->sort == CMC_SORT_TYPE && !is_resource(types, x->type)) continue;
    if (x->sort != CMC_SORT_INSTANCE || !empty_instance(types, x->type, depth + 1)) return false;
  }
  return true;
}

static bool match_item(cmi_linkcx *cx, int sort, cmc_tid want, const char *name,
                       const cmi_item *item, unsigned depth, cm_error *err);

static cma_resource_type **bound(cmi_linkcx *cx, cmc_tid root) {
  for (uint32_t i = 0; i < cx->n; i++)
    if (cx->tids[i] == root) return &cx->rts[i];
  return NULL;
}

static bool bind(cmi_linkcx *cx, cmc_tid root, cma_resource_type *rt, cm_error *err) {
  if (cx->n == cx->cap) {
    uint32_t c = cx->cap ? cx->cap * 2 : 8;
    cmc_tid *t = realloc(cx->tids, c * sizeof *t);
    if (t) cx->tids = t;
    cma_resource_type **r = realloc(cx->rts, c * sizeof *r);
    if (r) cx->rts = r;
    if (!t || !r) return unlinkable(err, "out of memory");
    cx->cap = c;
  }
  cx->tids[cx->n] = root;
  cx->rts[cx->n++] = rt;
  return true;
}

void cmi_linkcx_free(cmi_linkcx *cx) {
  free(cx->tids);
  free(cx->rts);
  memset(cx, 0, sizeof *cx);
}

/* an imported resource: the first mention binds it, later `eq` bounds must agree (and need
 * not be supplied) */
static bool match_resource(cmi_linkcx *cx, cmc_tid want, const char *name, const cmi_item *item,
                           unsigned depth, cm_error *err) {
  cmc_tid root = cmc_res_root(cx->types, want);
  cma_resource_type **b = bound(cx, root);
  if (b) {
    if (!item) return true;
    if (item->sort != CMC_SORT_TYPE || item->u.rt != *b) return unlinkable(err, "mismatched resource types");
    return true;
  }
  if (!item) return unlinkable(err, "%s `%s` was not found", depth ? "instance export" : "import", name);
  if (item->sort != CMC_SORT_TYPE || !item->u.rt)
    return unlinkable(err, "expected resource found %s", actual_desc(item));
  return bind(cx, root, item->u.rt, err);
}

static bool match_instance(cmi_linkcx *cx, cmc_tid want, const cmi_inst *inst, unsigned depth,
                           cm_error *err) {
  const cmc_type *t = &cx->types->v[want];
  for (uint32_t i = 0; i < t->nexports; i++) {
    const cmc_extern *x = &t->exports[i];
    const cmi_item *got = NULL;
    for (uint32_t k = 0; k < inst->n && !got; k++)
      if (strcmp(inst->names[k], x->name) == 0) got = &inst->items[k];
    if (!match_item(cx, x->sort, x->type, x->name, got, depth + 1, err)) return false;
  }
  return true;
}

static bool match_item(cmi_linkcx *cx, int sort, cmc_tid want, const char *name,
                       const cmi_item *item, unsigned depth, cm_error *err) {
  cmc_types *types = cx->types;
  if (depth > CMC_HARD_DEPTH) return unlinkable(err, "type nesting too deep");
  /* a type that is not a resource is checked structurally: nothing to supply */
  if (sort == CMC_SORT_TYPE && !is_resource(types, want)) return true;
  if (sort == CMC_SORT_TYPE) return match_resource(cx, want, name, item, depth, err);
  if (!item) {
    if (sort == CMC_SORT_INSTANCE && empty_instance(types, want, depth)) return true;
    return unlinkable(err, "%s `%s` was not found", depth ? "instance export" : "import", name);
  }
  if (item->sort != sort)
    return unlinkable(err, "expected %s found %s", expected_desc(sort), actual_desc(item));
  if (sort == CMC_SORT_INSTANCE) return match_instance(cx, want, item->u.inst, depth, err);
  return true;
}

bool cmi_link_import(cmi_linkcx *cx, const cmc_extern *im, const cmi_item *item, cm_error *err) {
  return match_item(cx, im->sort, im->type, im->name, item, 0, err);
}
