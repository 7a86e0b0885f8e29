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
#include "core/module.h"

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

/* ---- core module types (wasmtime's matching of a module against a module type) ---- */

/* an extern description both sides can be put in: funcs as their text */
typedef struct xdesc {
  int kind; /* CMC_CORE_FUNC .. CMC_CORE_TAG */
  char func[256];
  uint32_t val; /* table element / global type key */
  bool mut;
  cm_limits lim;
} xdesc;

static const char *kind_name(int k) {
  static const char *const n[] = {"func", "table", "memory", "global", "tag"};
  return k >= 0 && k <= 4 ? n[k] : "item";
}

static uint32_t cmc_val_key(cmc_core_valtype v) {
  if (v.code != 0x64) return v.code;
  if (!v.concrete && v.nullable) return v.heap;
  return 0x10000u | (v.nullable ? 0x100u : 0) | (v.heap & 0xff);
}

static const char *cm_val_name(cm_valtype v) {
  switch (v) {
  case 0x7f: return "i32";
  case 0x7e: return "i64";
  case 0x7d: return "f32";
  case 0x7c: return "f64";
  case 0x7b: return "v128";
  case 0x70: return "funcref";
  case 0x6f: return "externref";
  case 0x69: return "exnref";
  default: return "ref";
  }
}

static void cm_functype_text(const cm_functype *f, char *buf, size_t n) {
  size_t o = (size_t)snprintf(buf, n, "(func");
  if (f->nparams && o < n) {
    o += (size_t)snprintf(buf + o, n - o, " (param");
    for (uint32_t i = 0; i < f->nparams && o < n; i++)
      o += (size_t)snprintf(buf + o, n - o, " %s", cm_val_name(f->params[i]));
    if (o < n) o += (size_t)snprintf(buf + o, n - o, ")");
  }
  if (f->nresults && o < n) {
    o += (size_t)snprintf(buf + o, n - o, " (result");
    for (uint32_t i = 0; i < f->nresults && o < n; i++)
      o += (size_t)snprintf(buf + o, n - o, " %s", cm_val_name(f->results[i]));
    if (o < n) o += (size_t)snprintf(buf + o, n - o, ")");
  }
  if (o < n) snprintf(buf + o, n - o, ")");
}

static void desc_of_type(cmc_types *types, const cmc_core_extern *e, xdesc *d) {
  memset(d, 0, sizeof *d);
  d->kind = e->kind;
  if (e->kind == CMC_CORE_FUNC || e->kind == CMC_CORE_TAG)
    cmc_core_functype_str(types, e->func, d->func, sizeof d->func);
  d->val = cmc_val_key(e->val);
  d->mut = e->mut;
  d->lim = (cm_limits){e->min, e->max, e->has_max, e->is64, e->shared};
}

static void desc_of_module(const cm_module *m, int kind, uint32_t idx, xdesc *d) {
  memset(d, 0, sizeof *d);
  d->kind = kind;
  switch (kind) {
  case CM_EXTERN_FUNC: cm_functype_text(cm_module_func_type(m, idx), d->func, sizeof d->func); break;
  case CM_EXTERN_TABLE: {
    const cm_tabletype *t = cm_module_table_type(m, idx);
    d->val = t->elem;
    d->lim = t->limits;
    break;
  }
  case CM_EXTERN_MEMORY: d->lim = cm_module_mem_type(m, idx)->limits; break;
  case CM_EXTERN_GLOBAL: {
    const cm_globaltype *g = cm_module_global_type(m, idx);
    d->val = g->type;
    d->mut = g->mut;
    break;
  }
  case CM_EXTERN_TAG: cm_functype_text(&m->types[cm_module_tag_type(m, idx)->typeidx], d->func, sizeof d->func); break;
  default: break;
  }
}

static void desc_of_import(const cm_module *m, const cm_import *im, xdesc *d) {
  memset(d, 0, sizeof *d);
  d->kind = im->kind;
  switch (im->kind) {
  case CM_EXTERN_FUNC: cm_functype_text(&m->types[im->desc.func], d->func, sizeof d->func); break;
  case CM_EXTERN_TABLE: d->val = im->desc.table.elem; d->lim = im->desc.table.limits; break;
  case CM_EXTERN_MEMORY: d->lim = im->desc.mem.limits; break;
  case CM_EXTERN_GLOBAL: d->val = im->desc.global.type; d->mut = im->desc.global.mut; break;
  case CM_EXTERN_TAG: cm_functype_text(&m->types[im->desc.tag.typeidx], d->func, sizeof d->func); break;
  default: break;
  }
}

static bool limits_sub(const cm_limits *a, const cm_limits *b) {
  if (a->is64 != b->is64 || a->shared != b->shared || a->min < b->min) return false;
  return !b->has_max || (a->has_max && a->max <= b->max);
}

/* is a a subtype of b (same kind)? */
static bool desc_sub(const xdesc *a, const xdesc *b) {
  switch (a->kind) {
  case CMC_CORE_FUNC:
  case CMC_CORE_TAG: return strcmp(a->func, b->func) == 0;
  case CMC_CORE_TABLE: return a->val == b->val && limits_sub(&a->lim, &b->lim);
  case CMC_CORE_MEMORY: return limits_sub(&a->lim, &b->lim);
  case CMC_CORE_GLOBAL: return a->val == b->val && a->mut == b->mut;
  default: return false;
  }
}

static bool name_eq(const cm_name *n, const char *s) { return strlen(s) == n->len && memcmp(n->str, s, n->len) == 0; }

static bool match_module(cmi_linkcx *cx, cmc_tid want, const cm_module *m, cm_error *err) {
  const cmc_type *t = &cx->types->v[want];
  for (uint32_t i = 0; i < t->ncexports; i++) {
    const cmc_core_extern *e = &t->cexports[i];
    const cm_export *x = NULL;
    for (uint32_t k = 0; k < m->nexports && !x; k++)
      if (name_eq(&m->exports[k].name, e->name)) x = &m->exports[k];
    if (!x) return unlinkable(err, "module export `%s` not defined", e->name);
    xdesc have, need;
    desc_of_type(cx->types, e, &need);
    desc_of_module(m, x->kind, x->index, &have);
    if (have.kind != need.kind)
      return unlinkable(err, "expected %s found %s", kind_name(need.kind), kind_name(have.kind));
    if (!desc_sub(&have, &need)) {
      if (need.kind == CMC_CORE_FUNC)
        return unlinkable(err, "export `%s` has the wrong type: expected type `%s`, found type `%s`", e->name,
                          need.func, have.func);
      return unlinkable(err, "export `%s` has the wrong type", e->name);
    }
  }
  for (uint32_t i = 0; i < m->nimports; i++) {
    const cm_import *im = &m->imports[i];
    const cmc_core_extern *e = NULL;
    for (uint32_t k = 0; k < t->ncimports && !e; k++)
      if (name_eq(&im->module, t->cimports[k].module) && name_eq(&im->name, t->cimports[k].name))
        e = &t->cimports[k];
    if (!e)
      return unlinkable(err, "module import `%.*s::%.*s` not defined", (int)im->module.len, im->module.str,
                        (int)im->name.len, im->name.str);
    xdesc need, given;
    desc_of_import(m, im, &need);
    desc_of_type(cx->types, e, &given);
    if (need.kind != given.kind)
      return unlinkable(err, "expected %s found %s", kind_name(need.kind), kind_name(given.kind));
    if (!desc_sub(&given, &need))
      return unlinkable(err, "module import `%.*s::%.*s` has the wrong type", (int)im->module.len,
                        im->module.str, (int)im->name.len, im->name.str);
  }
  return true;
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

/* ---- function types: the value types of both sides must be equal (the component model
 * has no value subtyping); the two sides live in different type arenas ---- */

typedef struct fsides {
  cmi_linkcx *cx;
  cmc_types *have;       /* the supplied function's arena */
  cma_instance *have_in; /* its instance (resolves its resource types) */
} fsides;

static bool labels_eq(const cmc_field *a, const cmc_field *b, uint32_t n) {
  for (uint32_t i = 0; i < n; i++)
    if ((a[i].name == NULL) != (b[i].name == NULL) || (a[i].name && strcmp(a[i].name, b[i].name) != 0))
      return false;
  return true;
}

static bool val_eq(fsides *s, cmc_tid a, cmc_tid b, unsigned depth);

static bool opt_eq(fsides *s, cmc_tid a, cmc_tid b, unsigned depth) {
  if (a == CMC_NONE || b == CMC_NONE) return a == b;
  return val_eq(s, a, b, depth + 1);
}

static bool resource_eq(fsides *s, cmc_tid a, cmc_tid b) {
  cma_resource_type **want = bound(s->cx, cmc_res_root(s->cx->types, a));
  cma_resource_type *have = s->have_in && s->have_in->resolve_resource
                                ? s->have_in->resolve_resource(s->have_in, s->have, b)
                                : NULL;
  return !want || !have || *want == have; /* unknown on either side: checked when called */
}

static bool val_eq(fsides *s, cmc_tid a, cmc_tid b, unsigned depth) {
  if (depth > CMC_HARD_DEPTH) return false;
  const cmc_type *x = &s->cx->types->v[a], *y = &s->have->v[b];
  if (x->kind != y->kind) return false;
  switch (x->kind) {
  case CMC_T_PRIM: return x->prim == y->prim;
  case CMC_T_LIST:
  case CMC_T_OPTION: return val_eq(s, x->a, y->a, depth + 1);
  case CMC_T_FIXLIST: return x->len == y->len && val_eq(s, x->a, y->a, depth + 1);
  case CMC_T_RESULT: return opt_eq(s, x->a, y->a, depth) && opt_eq(s, x->b, y->b, depth);
  case CMC_T_MAP: return val_eq(s, x->a, y->a, depth + 1) && val_eq(s, x->b, y->b, depth + 1);
  case CMC_T_STREAM:
  case CMC_T_FUTURE: return opt_eq(s, x->a, y->a, depth);
  case CMC_T_FLAGS:
  case CMC_T_ENUM: return x->n == y->n && labels_eq(x->fields, y->fields, x->n);
  case CMC_T_RECORD:
  case CMC_T_VARIANT:
  case CMC_T_TUPLE:
    if (x->n != y->n || !labels_eq(x->fields, y->fields, x->n)) return false;
    for (uint32_t i = 0; i < x->n; i++)
      if (!opt_eq(s, x->fields[i].type, y->fields[i].type, depth)) return false;
    return true;
  case CMC_T_OWN:
  case CMC_T_BORROW: return resource_eq(s, x->a, y->a);
  default: return true;
  }
}

static bool match_func(cmi_linkcx *cx, cmc_tid want, const cma_funcinst *f, const char *name,
                       cm_error *err) {
  if (!f->ft.types) return true; /* a host function: its body checks what it is given */
  const cmc_type *w = &cx->types->v[want];
  fsides s = {cx, f->ft.types, f->inst};
  if (w->async != f->ft.async_ || w->n != f->ft.nparams)
    return unlinkable(err, "type mismatch for function `%s`: expected %u parameters, found %u", name,
                      w->n, f->ft.nparams);
  for (uint32_t i = 0; i < w->n; i++)
    if (!val_eq(&s, w->fields[i].type, f->ft.params[i].type, 0))
      return unlinkable(err, "type mismatch for function `%s`: parameter %u (`%s`) has the wrong type", name,
                        i, w->fields[i].name ? w->fields[i].name : "");
  if (!opt_eq(&s, w->a, f->ft.result, 0))
    return unlinkable(err, "type mismatch for function `%s`: the result has the wrong type", name);
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
  if (sort == CMC_SORT_CORE + CMC_CORE_MODULE) return match_module(cx, want, item->u.module, err);
  if (sort == CMC_SORT_FUNC) return match_func(cx, want, item->u.func, name, err);
  return true;
}

bool cmi_link_import(cmi_linkcx *cx, const cmc_extern *im, const cmi_item *item, cm_error *err) {
  return match_item(cx, im->sort, im->type, im->name, item, 0, err);
}
