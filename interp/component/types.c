/* Component types: arena, matching (subtyping), resource substitution, ABI facts. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation" /* messages are truncated on purpose */
#endif
#include "component/types.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "component/reader.h"

static const uint8_t prim_codes[CMC_NPRIMS] = {
    CMC_BOOL, CMC_S8, CMC_U8, CMC_S16, CMC_U16, CMC_S32, CMC_U32,
    CMC_S64, CMC_U64, CMC_F32, CMC_F64, CMC_CHAR, CMC_STRING, CMC_ERROR_CONTEXT};
static const char *const prim_names[CMC_NPRIMS] = {
    "bool", "s8", "u8", "s16", "u16", "s32", "u32", "s64", "u64", "f32", "f64", "char",
    "string", "error-context"};

#define CMC_MAX_TYPES (1u << 24)

static void compute_layout(cmc_types *t, cmc_tid id);

bool cmc_types_init(cmc_types *t) {
  memset(t, 0, sizeof *t);
  for (int i = 0; i < CMC_NPRIMS; i++) {
    cmc_tid id = cmc_type_new(t, CMC_T_PRIM);
    if (id == CMC_NONE) return false;
    t->v[id].prim = prim_codes[i];
    t->v[id].has_ptr = prim_codes[i] == CMC_STRING;
    t->v[id].tsize = 1;
    compute_layout(t, id);
  }
  return true;
}

void cmc_types_free(cmc_types *t) {
  free(t->v);
  memset(t, 0, sizeof *t);
}

cmc_tid cmc_type_new(cmc_types *t, cmc_tkind kind) {
  if (t->len == t->cap) {
    if (t->cap >= CMC_MAX_TYPES) return CMC_NONE;
    uint32_t cap = t->cap ? t->cap * 2 : 256;
    cmc_type *v = realloc(t->v, (size_t)cap * sizeof *v);
    if (!v) return CMC_NONE;
    t->v = v;
    t->cap = cap;
  }
  cmc_type *ty = &t->v[t->len];
  memset(ty, 0, sizeof *ty);
  ty->kind = kind;
  ty->a = ty->b = CMC_NONE;
  ty->dtor = CMC_NONE;
  return t->len++;
}

cmc_tid cmc_prim_tid(uint8_t code) {
  for (int i = 0; i < CMC_NPRIMS; i++)
    if (prim_codes[i] == code) return (cmc_tid)i;
  return CMC_NONE;
}

const char *cmc_prim_name(uint8_t code) {
  for (int i = 0; i < CMC_NPRIMS; i++)
    if (prim_codes[i] == code) return prim_names[i];
  return "?";
}

bool cmc_is_valtype(const cmc_types *t, cmc_tid id) {
  return id < t->len && t->v[id].kind <= CMC_T_MAP;
}

const char *cmc_type_desc(const cmc_types *t, cmc_tid id) {
  static const char *const names[] = {
      "primitive", "record", "variant", "list", "list", "tuple", "flags", "enum", "option",
      "result", "own", "borrow", "stream", "future", "map", "func type", "component type",
      "instance type", "resource", "core func type", "module type", "core instance type",
      "core type"};
  return names[t->v[id].kind];
}

static void note_member(cmc_types *t, cmc_tid id, cmc_tid m) {
  if (m == CMC_NONE) return;
  cmc_type *ty = &t->v[id];
  const cmc_type *mt = &t->v[m];
  ty->has_ptr |= mt->has_ptr;
  uint64_t sz = (uint64_t)ty->tsize + (mt->tsize ? mt->tsize : 1);
  ty->tsize = sz > UINT32_MAX ? UINT32_MAX : (uint32_t)sz;
  ty->has_resource |= mt->has_resource || mt->kind == CMC_T_RESOURCE;
  ty->has_borrow |= mt->has_borrow;
  if (mt->depth + 1 > ty->depth) ty->depth = (uint16_t)(mt->depth + 1 > 60000 ? 60000 : mt->depth + 1);
}

void cmc_type_finish(cmc_types *t, cmc_tid id) {
  cmc_type *ty = &t->v[id];
  ty->depth = 1;
  ty->tsize = 1;
  ty->has_ptr = ty->kind == CMC_T_LIST || ty->kind == CMC_T_MAP ||
                (ty->kind == CMC_T_PRIM && ty->prim == CMC_STRING);
  uint32_t n = ty->n;
  for (uint32_t i = 0; i < n; i++) note_member(t, id, t->v[id].fields[i].type);
  note_member(t, id, t->v[id].a);
  note_member(t, id, t->v[id].b);
  if (t->v[id].kind == CMC_T_BORROW) t->v[id].has_borrow = true;
  if (t->v[id].kind == CMC_T_STREAM || t->v[id].kind == CMC_T_FUTURE || t->v[id].kind == CMC_T_FUNC)
    t->v[id].has_ptr = false; /* handles: their payload lives elsewhere */
  if (t->v[id].kind <= CMC_T_MAP) compute_layout(t, id);
}

/* ---- resource maps ---- */

bool cmc_map_add(cmc_map *m, cmc_tid from, cmc_tid to) {
  if (m->len == m->cap) {
    uint32_t cap = m->cap ? m->cap * 2 : 16;
    cmc_tid *f = realloc(m->from, cap * sizeof *f);
    if (!f) return false;
    m->from = f;
    cmc_tid *t = realloc(m->to, cap * sizeof *t);
    if (!t) return false;
    m->to = t;
    m->cap = cap;
  }
  m->from[m->len] = from;
  m->to[m->len++] = to;
  return true;
}

cmc_tid cmc_map_get(const cmc_map *m, cmc_tid from) {
  if (m)
    for (uint32_t i = m->len; i-- > 0;)
      if (m->from[i] == from) return m->to[i];
  return from;
}

void cmc_map_free(cmc_map *m) {
  free(m->from);
  free(m->to);
  memset(m, 0, sizeof *m);
}

/* ---- matching ---- */

static bool sfail(cmc_subcx *cx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool sfail(cmc_subcx *cx, const char *fmt, ...) {
  if (cx->err->kind != CMREF_OK) return false;
  va_list ap;
  va_start(ap, fmt);
  cx->err->kind = CMREF_INVALID;
  vsnprintf(cx->err->message, sizeof cx->err->message, fmt, ap);
  va_end(ap);
  return false;
}

/* prepend context to the error message, as wasm-tools' with_context does */
static bool context(cmc_subcx *cx, const char *fmt, const char *arg) {
  char pre[300];
  snprintf(pre, sizeof pre, fmt, arg);
  cmc_prefix_error(cx->err, pre);
  return false;
}

static const char *val_desc(cmc_types *t, cmc_tid id) {
  const cmc_type *ty = &t->v[id];
  if (ty->kind == CMC_T_PRIM) return cmc_prim_name(ty->prim);
  return cmc_type_desc(t, id);
}

static bool res_same(cmc_subcx *cx, cmc_tid a, cmc_tid b) {
  cmc_tid ra = cmc_res_root(cx->types, cmc_map_get(cx->amap, cmc_res_root(cx->types, a)));
  cmc_tid rb = cmc_res_root(cx->types, cmc_map_get(cx->bmap, cmc_res_root(cx->types, b)));
  return ra == rb;
}

static bool sub_labels(cmc_subcx *cx, const cmc_type *a, const cmc_type *b, const char *desc) {
  if (a->n != b->n) return sfail(cx, "mismatch in %s elements", desc);
  for (uint32_t i = 0; i < a->n; i++)
    if (strcmp(a->fields[i].name, b->fields[i].name) != 0)
      return sfail(cx, "mismatch in %s elements", desc);
  return true;
}

static bool sub_opt(cmc_subcx *cx, cmc_tid a, cmc_tid b, const char *what, const char *ctx) {
  if (a == CMC_NONE && b == CMC_NONE) return true;
  if (a == CMC_NONE) return sfail(cx, "expected %s type, but found none", what);
  if (b == CMC_NONE) return sfail(cx, "expected %s type to not be present", what);
  if (!cmc_sub_valtype(cx, a, b)) return context(cx, "%s", ctx);
  return true;
}

static bool sub_defined(cmc_subcx *cx, cmc_tid ai, cmc_tid bi) {
  cmc_types *t = cx->types;
  cmc_type *a = &t->v[ai], *b = &t->v[bi];
  if (a->kind == CMC_T_PRIM && b->kind == CMC_T_PRIM) {
    if (a->prim != b->prim)
      return sfail(cx, "expected primitive `%s` found primitive `%s`", cmc_prim_name(b->prim),
                   cmc_prim_name(a->prim));
    return true;
  }
  bool same = a->kind == b->kind || (a->kind == CMC_T_LIST && b->kind == CMC_T_FIXLIST) ||
              (a->kind == CMC_T_FIXLIST && b->kind == CMC_T_LIST);
  if (!same || a->kind != b->kind) {
    if (b->kind == CMC_T_PRIM && bi < CMC_NPRIMS)
      return sfail(cx, "expected %s, found %s", cmc_prim_name(b->prim), cmc_type_desc(t, ai));
    return sfail(cx, "expected %s, found %s", cmc_type_desc(t, bi), val_desc(t, ai));
  }
  char buf[64];
  switch (a->kind) {
  case CMC_T_RECORD:
    if (a->n != b->n) return sfail(cx, "expected %u fields, found %u", b->n, a->n);
    for (uint32_t i = 0; i < a->n; i++) {
      if (strcmp(a->fields[i].name, b->fields[i].name) != 0)
        return sfail(cx, "expected field name `%s`, found `%s`", b->fields[i].name, a->fields[i].name);
      if (!cmc_sub_valtype(cx, t->v[ai].fields[i].type, t->v[bi].fields[i].type))
        return context(cx, "type mismatch in record field `%s`", t->v[ai].fields[i].name);
    }
    return true;
  case CMC_T_VARIANT:
    if (a->n != b->n) return sfail(cx, "expected %u cases, found %u", b->n, a->n);
    for (uint32_t i = 0; i < a->n; i++) {
      a = &t->v[ai];
      b = &t->v[bi];
      const char *an = a->fields[i].name;
      if (strcmp(an, b->fields[i].name) != 0)
        return sfail(cx, "expected case named `%s`, found `%s`", b->fields[i].name, an);
      cmc_tid at = a->fields[i].type, bt = b->fields[i].type;
      if (at == CMC_NONE && bt == CMC_NONE) continue;
      if (at == CMC_NONE) return sfail(cx, "expected case `%s` to have a type, found none", an);
      if (bt == CMC_NONE) return sfail(cx, "expected case `%s` to have no type", an);
      if (!cmc_sub_valtype(cx, at, bt)) return context(cx, "type mismatch in variant case `%s`", an);
    }
    return true;
  case CMC_T_LIST:
  case CMC_T_OPTION:
    return cmc_sub_valtype(cx, a->a, b->a);
  case CMC_T_FIXLIST:
    if (a->len != b->len) return sfail(cx, "expected fixed-length %u, found size %u", b->len, a->len);
    return cmc_sub_valtype(cx, a->a, b->a);
  case CMC_T_MAP: {
    cmc_tid bv = b->b, av = a->b;
    if (!cmc_sub_valtype(cx, a->a, b->a)) return context(cx, "%s", "type mismatch in map key");
    if (!cmc_sub_valtype(cx, av, bv)) return context(cx, "%s", "type mismatch in map value");
    return true;
  }
  case CMC_T_TUPLE:
    if (a->n != b->n) return sfail(cx, "expected %u types, found %u", b->n, a->n);
    for (uint32_t i = 0; i < a->n; i++) {
      if (!cmc_sub_valtype(cx, t->v[ai].fields[i].type, t->v[bi].fields[i].type)) {
        snprintf(buf, sizeof buf, "%u", i);
        return context(cx, "type mismatch in tuple field %s", buf);
      }
    }
    return true;
  case CMC_T_FLAGS: return sub_labels(cx, a, b, "flags");
  case CMC_T_ENUM: return sub_labels(cx, a, b, "enum");
  case CMC_T_RESULT: {
    cmc_tid ae = a->b, be = b->b;
    if (!sub_opt(cx, a->a, b->a, "ok", "type mismatch in ok variant")) return false;
    return sub_opt(cx, ae, be, "err", "type mismatch in err variant");
  }
  case CMC_T_OWN:
  case CMC_T_BORROW:
    if (!res_same(cx, a->a, b->a)) return sfail(cx, "resource types are not the same");
    return true;
  case CMC_T_FUTURE: return sub_opt(cx, a->a, b->a, "future", "type mismatch in future");
  case CMC_T_STREAM: return sub_opt(cx, a->a, b->a, "stream", "type mismatch in stream");
  default: return sfail(cx, "unexpected type");
  }
}

bool cmc_sub_valtype(cmc_subcx *cx, cmc_tid a, cmc_tid b) {
  if (a == b && ((!cx->amap && !cx->bmap) || !cx->types->v[a].has_resource)) return true;
  if (++cx->steps > CMC_SUB_STEPS) return sfail(cx, "type too complex to match");
  if (++cx->depth > CMC_HARD_DEPTH) return sfail(cx, "type nesting is too deep");
  bool ok = sub_defined(cx, a, b);
  cx->depth--;
  return ok;
}

bool cmc_sub_functype(cmc_subcx *cx, cmc_tid ai, cmc_tid bi) {
  cmc_type *a = &cx->types->v[ai], *b = &cx->types->v[bi];
  if (a->async != b->async)
    return sfail(cx, "expected %s function, found %s function", b->async ? "async" : "sync",
                 a->async ? "async" : "sync");
  if (a->n != b->n) return sfail(cx, "expected %u parameters, found %u", b->n, a->n);
  for (uint32_t i = 0; i < a->n; i++) {
    a = &cx->types->v[ai];
    b = &cx->types->v[bi];
    const char *an = a->fields[i].name;
    if (strcmp(an, b->fields[i].name) != 0)
      return sfail(cx, "expected parameter named `%s`, found `%s`", b->fields[i].name, an);
    if (!cmc_sub_valtype(cx, a->fields[i].type, b->fields[i].type))
      return context(cx, "type mismatch in function parameter `%s`", an);
  }
  a = &cx->types->v[ai];
  b = &cx->types->v[bi];
  if (a->a != CMC_NONE && b->a != CMC_NONE) {
    if (!cmc_sub_valtype(cx, a->a, b->a)) return context(cx, "%s", "type mismatch with result type");
  } else if (a->a != CMC_NONE) {
    return sfail(cx, "expected a result, found none");
  } else if (b->a != CMC_NONE) {
    return sfail(cx, "expected no result, found one");
  }
  return true;
}

bool cmc_sub_anytype(cmc_subcx *cx, cmc_tid a, cmc_tid b) {
  cmc_types *t = cx->types;
  cmc_tkind ak = t->v[a].kind, bk = t->v[b].kind;
  if (ak == CMC_T_RESOURCE || bk == CMC_T_RESOURCE) {
    if (ak != bk)
      return sfail(cx, "expected %s, found %s", bk == CMC_T_RESOURCE ? "resource" : "defined type",
                   ak == CMC_T_RESOURCE ? "resource" : "defined type");
    if (!res_same(cx, a, b)) return sfail(cx, "resource types are not the same");
    return true;
  }
  bool av = ak <= CMC_T_MAP, bv = bk <= CMC_T_MAP;
  if (av && bv) return cmc_sub_valtype(cx, a, b);
  if (ak != bk) {
    const char *bd = bv ? "defined type" : cmc_type_desc(t, b);
    const char *ad = av ? "defined type" : cmc_type_desc(t, a);
    return sfail(cx, "expected %s, found %s", bd, ad);
  }
  switch (ak) {
  case CMC_T_FUNC: return cmc_sub_functype(cx, a, b);
  case CMC_T_INSTANCE: return cmc_sub_instance(cx, a, b);
  case CMC_T_COMPONENT: return cmc_sub_component(cx, a, b);
  default: return sfail(cx, "unexpected type");
  }
}

static const char *sort_desc(int sort) {
  switch (sort) {
  case CMC_SORT_FUNC: return "func";
  case CMC_SORT_VALUE: return "value";
  case CMC_SORT_TYPE: return "type";
  case CMC_SORT_COMPONENT: return "component";
  case CMC_SORT_INSTANCE: return "instance";
  default: return "module";
  }
}

bool cmc_sub_extern(cmc_subcx *cx, int sort_a, cmc_tid a, cmc_tid b);

bool cmc_sub_instance(cmc_subcx *cx, cmc_tid ai, cmc_tid bi) {
  cmc_types *t = cx->types;
  uint32_t nb = t->v[bi].nexports;
  for (uint32_t i = 0; i < nb; i++) {
    const cmc_extern *be = &t->v[bi].exports[i];
    const cmc_extern *ae = NULL;
    for (uint32_t k = 0; k < t->v[ai].nexports; k++)
      if (strcmp(t->v[ai].exports[k].name, be->name) == 0) { ae = &t->v[ai].exports[k]; break; }
    if (!ae) return sfail(cx, "missing expected export `%s`", be->name);
    if ((cx->steps += t->v[ai].nexports) > CMC_SUB_STEPS) return sfail(cx, "type too complex to match");
    if (ae->sort != be->sort)
      return sfail(cx, "type mismatch in instance export `%s`: expected %s, found %s", be->name,
                   sort_desc(be->sort), sort_desc(ae->sort));
    const char *name = be->name;
    if (++cx->depth > CMC_HARD_DEPTH) return sfail(cx, "type nesting is too deep");
    bool ok = cmc_sub_extern(cx, ae->sort, ae->type, be->type);
    cx->depth--;
    if (!ok) return context(cx, "type mismatch in instance export `%s`", name);
  }
  return true;
}

/* binds b's to-be-bound resources (those in `bindable`) to the resources a supplies for
 * them, walking type exports by name through instances (wasm-tools' open_instance_type) */
static bool bind_entity(cmc_types *t, int sort, cmc_tid a, cmc_tid b, const cmc_tid *bindable,
                        uint32_t nbindable, cmc_map *out, unsigned depth) {
  if (depth > CMC_HARD_DEPTH) return true;
  if (sort == CMC_SORT_TYPE) {
    if (t->v[b].kind != CMC_T_RESOURCE || t->v[a].kind != CMC_T_RESOURCE) return true;
    b = cmc_res_root(t, b);
    a = cmc_res_root(t, a);
    for (uint32_t i = 0; i < nbindable; i++)
      if (bindable[i] == b) {
        if (cmc_map_get(out, b) == b) return cmc_map_add(out, b, a);
        return true;
      }
    return true;
  }
  if (sort != CMC_SORT_INSTANCE || t->v[a].kind != CMC_T_INSTANCE) return true;
  for (uint32_t i = 0; i < t->v[b].nexports; i++) {
    const cmc_extern *be = &t->v[b].exports[i];
    for (uint32_t k = 0; k < t->v[a].nexports; k++) {
      const cmc_extern *ae = &t->v[a].exports[k];
      if (strcmp(ae->name, be->name) == 0 && ae->sort == be->sort) {
        if (!bind_entity(t, be->sort, ae->type, be->type, bindable, nbindable, out, depth + 1))
          return false;
        break;
      }
    }
  }
  return true;
}

bool cmc_bind_resources(cmc_types *t, const cmc_extern *args, uint32_t nargs,
                        const cmc_extern *expected, uint32_t nexpected, const cmc_tid *bindable,
                        uint32_t nbindable, cmc_map *out) {
  for (uint32_t i = 0; i < nexpected; i++)
    for (uint32_t k = 0; k < nargs; k++)
      if (strcmp(args[k].name, expected[i].name) == 0 && args[k].sort == expected[i].sort) {
        if (!bind_entity(t, expected[i].sort, args[k].type, expected[i].type, bindable, nbindable,
                         out, 0))
          return false;
        break;
      }
  return true;
}

/* the imports of b are given to a (binding a's imported resources), then a's exports must
 * satisfy b's (binding b's defined resources to a's) */
bool cmc_sub_component(cmc_subcx *cx, cmc_tid ai, cmc_tid bi) {
  cmc_types *t = cx->types;
  cmc_map amap = {0}, bmap = {0};
  bool ok = false;
  /* resources of b's imports, as a sees them */
  if (!cmc_bind_resources(t, t->v[bi].imports, t->v[bi].nimports, t->v[ai].imports,
                          t->v[ai].nimports, t->v[ai].imported_res, t->v[ai].nimported_res, &amap))
    goto done;
  for (uint32_t i = 0; i < t->v[ai].nimports; i++) {
    const cmc_extern *ae = &t->v[ai].imports[i];
    const cmc_extern *be = NULL;
    for (uint32_t k = 0; k < t->v[bi].nimports; k++)
      if (strcmp(t->v[bi].imports[k].name, ae->name) == 0) { be = &t->v[bi].imports[k]; break; }
    if (!be) { sfail(cx, "missing import named `%s`", ae->name); goto done; }
    cmc_subcx sub = {t, cx->bmap, &amap, cx->err, cx->depth + 1, cx->steps};
    if (be->sort != ae->sort) {
      sfail(cx, "expected %s, found %s", sort_desc(ae->sort), sort_desc(be->sort));
      context(cx, "type mismatch for import `%s`", ae->name);
      goto done;
    }
    bool r = cmc_sub_extern(&sub, be->sort, be->type, ae->type);
    cx->steps = sub.steps;
    if (!r) {
      context(cx, "type mismatch for import `%s`", ae->name);
      goto done;
    }
  }
  if (!cmc_bind_resources(t, t->v[ai].exports, t->v[ai].nexports, t->v[bi].exports,
                          t->v[bi].nexports, t->v[bi].defined, t->v[bi].ndefined, &bmap))
    goto done;
  for (uint32_t i = 0; i < t->v[bi].nexports; i++) {
    const cmc_extern *be = &t->v[bi].exports[i];
    const cmc_extern *ae = NULL;
    for (uint32_t k = 0; k < t->v[ai].nexports; k++)
      if (strcmp(t->v[ai].exports[k].name, be->name) == 0) { ae = &t->v[ai].exports[k]; break; }
    if (!ae) { sfail(cx, "missing export named `%s`", be->name); goto done; }
    if (be->sort != ae->sort) {
      sfail(cx, "expected %s, found %s", sort_desc(be->sort), sort_desc(ae->sort));
      context(cx, "type mismatch for export `%s`", be->name);
      goto done;
    }
    /* a's imported resources are renamed to b's imports (amap); b's defined resources
     * to a's (bmap) */
    cmc_subcx sub = {t, &amap, &bmap, cx->err, cx->depth + 1, cx->steps};
    bool r = cmc_sub_extern(&sub, ae->sort, ae->type, be->type);
    cx->steps = sub.steps;
    if (!r) { context(cx, "type mismatch for export `%s`", be->name); goto done; }
  }
  ok = true;
done:
  cmc_map_free(&amap);
  cmc_map_free(&bmap);
  return ok;
}

/* ---- core types ---- */

bool cmc_core_valtype_eq(cmc_types *t, cmc_core_valtype a, cmc_core_valtype b) {
  if (a.code != b.code) return false;
  if (a.code != 0x64) return true;
  if (a.nullable != b.nullable || a.concrete != b.concrete) return false;
  if (!a.concrete) return a.heap == b.heap;
  return a.heap == b.heap || cmc_core_functype_eq(t, a.heap, b.heap);
}

const char *cmc_core_valtype_name(cmc_core_valtype v, char *buf, size_t n) {
  switch (v.code) {
  case 0x7f: return "i32";
  case 0x7e: return "i64";
  case 0x7d: return "f32";
  case 0x7c: return "f64";
  case 0x7b: return "v128";
  default: break;
  }
  if (!v.concrete) {
    const char *h = "any";
    switch (v.heap) {
    case 0x70: h = "func"; break;
    case 0x6f: h = "extern"; break;
    case 0x6e: h = "any"; break;
    case 0x71: h = "none"; break;
    case 0x72: h = "noextern"; break;
    case 0x73: h = "nofunc"; break;
    case 0x6d: h = "eq"; break;
    case 0x6b: h = "struct"; break;
    case 0x6a: h = "array"; break;
    case 0x6c: h = "i31"; break;
    case 0x69: h = "exn"; break;
    case 0x74: h = "noexn"; break;
    default: break;
    }
    if (v.nullable) snprintf(buf, n, "%sref", h);
    else snprintf(buf, n, "(ref %s)", h);
    return buf;
  }
  snprintf(buf, n, "(ref %s%u)", v.nullable ? "null " : "", v.heap);
  return buf;
}

static const char *debug_name(cmc_core_valtype v) {
  switch (v.code) {
  case 0x7f: return "I32";
  case 0x7e: return "I64";
  case 0x7d: return "F32";
  case 0x7c: return "F64";
  case 0x7b: return "V128";
  default: return "Ref";
  }
}

bool cmc_core_functype_eq(cmc_types *t, cmc_tid a, cmc_tid b) {
  if (a == b) return true;
  const cmc_type *x = &t->v[a], *y = &t->v[b];
  if (x->kind != CMC_T_CORE_FUNC || y->kind != CMC_T_CORE_FUNC) return false;
  if (x->nparams != y->nparams || x->nresults != y->nresults) return false;
  for (uint32_t i = 0; i < x->nparams; i++)
    if (x->params[i].code != y->params[i].code || x->params[i].heap != y->params[i].heap ||
        x->params[i].nullable != y->params[i].nullable)
      return false;
  for (uint32_t i = 0; i < x->nresults; i++)
    if (x->results[i].code != y->results[i].code || x->results[i].heap != y->results[i].heap ||
        x->results[i].nullable != y->results[i].nullable)
      return false;
  return true;
}

void cmc_core_functype_str(cmc_types *t, cmc_tid f, char *buf, size_t n) {
  const cmc_type *x = &t->v[f];
  size_t o = 0;
  char vb[64];
  o += (size_t)snprintf(buf + o, n - o, "(func");
  if (x->nparams && o < n) {
    o += (size_t)snprintf(buf + o, n - o, " (param");
    for (uint32_t i = 0; i < x->nparams && o < n; i++)
      o += (size_t)snprintf(buf + o, n - o, " %s", cmc_core_valtype_name(x->params[i], vb, sizeof vb));
    if (o < n) o += (size_t)snprintf(buf + o, n - o, ")");
  }
  if (x->nresults && o < n) {
    o += (size_t)snprintf(buf + o, n - o, " (result");
    for (uint32_t i = 0; i < x->nresults && o < n; i++)
      o += (size_t)snprintf(buf + o, n - o, " %s", cmc_core_valtype_name(x->results[i], vb, sizeof vb));
    if (o < n) o += (size_t)snprintf(buf + o, n - o, ")");
  }
  if (o < n) snprintf(buf + o, n - o, ")");
}

void cmc_core_types_debug(const cmc_core_valtype *v, uint32_t n, char *buf, size_t len) {
  size_t o = (size_t)snprintf(buf, len, "[");
  for (uint32_t i = 0; i < n && o < len; i++)
    o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? ", " : "", debug_name(v[i]));
  if (o < len) snprintf(buf + o, len - o, "]");
}

static const char *core_kind_desc(uint8_t k) {
  switch (k) {
  case CMC_CORE_FUNC: return "func";
  case CMC_CORE_TABLE: return "table";
  case CMC_CORE_MEMORY: return "memory";
  case CMC_CORE_GLOBAL: return "global";
  default: return "tag";
  }
}

static bool limits_match(const cmc_core_extern *a, const cmc_core_extern *b) {
  if (a->min < b->min) return false;
  if (!b->has_max) return true;
  return a->has_max && a->max <= b->max;
}

bool cmc_sub_core_extern(cmc_subcx *cx, const cmc_core_extern *a, const cmc_core_extern *b) {
  char x[64], y[64];
  if (a->kind != b->kind)
    return sfail(cx, "expected %s, found %s", core_kind_desc(b->kind), core_kind_desc(a->kind));
  switch (a->kind) {
  case CMC_CORE_FUNC:
  case CMC_CORE_TAG:
    if (!cmc_core_functype_eq(cx->types, a->func, b->func)) {
      char bs[200], as[200];
      cmc_core_functype_str(cx->types, b->func, bs, sizeof bs);
      cmc_core_functype_str(cx->types, a->func, as, sizeof as);
      return sfail(cx, "expected: %s\nfound:    %s", bs, as);
    }
    return true;
  case CMC_CORE_TABLE:
    if (!cmc_core_valtype_eq(cx->types, a->val, b->val))
      return sfail(cx, "expected table element type %s, found %s",
                   cmc_core_valtype_name(b->val, x, sizeof x), cmc_core_valtype_name(a->val, y, sizeof y));
    if (a->shared != b->shared) return sfail(cx, "mismatch in the shared flag for tables");
    if (!limits_match(a, b)) return sfail(cx, "mismatch in table limits");
    return true;
  case CMC_CORE_MEMORY:
    if (a->shared != b->shared) return sfail(cx, "mismatch in the shared flag for memories");
    if (a->is64 != b->is64) return sfail(cx, "mismatch in index type used for memories");
    if ((a->page_log2 ? a->page_log2 : 17) != (b->page_log2 ? b->page_log2 : 17))
      return sfail(cx, "mismatch in page size for memories");
    if (!limits_match(a, b)) return sfail(cx, "mismatch in memory limits");
    return true;
  default:
    if (a->mut != b->mut) return sfail(cx, "global types differ in mutability");
    if (!cmc_core_valtype_eq(cx->types, a->val, b->val))
      return sfail(cx, "expected global type %s, found %s", cmc_core_valtype_name(b->val, x, sizeof x),
                   cmc_core_valtype_name(a->val, y, sizeof y));
    return true;
  }
}

bool cmc_sub_module(cmc_subcx *cx, cmc_tid ai, cmc_tid bi) {
  cmc_types *t = cx->types;
  const cmc_type *a = &t->v[ai], *b = &t->v[bi];
  char buf[300];
  /* imports are contravariant: a may import less */
  for (uint32_t i = 0; i < a->ncimports; i++) {
    const cmc_core_extern *ae = &a->cimports[i], *be = NULL;
    for (uint32_t k = 0; k < b->ncimports; k++)
      if (!strcmp(b->cimports[k].module, ae->module) && !strcmp(b->cimports[k].name, ae->name)) {
        be = &b->cimports[k];
        break;
      }
    snprintf(buf, sizeof buf, "%s::%s", ae->module, ae->name);
    if (!be) return sfail(cx, "missing expected import `%s`", buf);
    if (!cmc_sub_core_extern(cx, be, ae)) return context(cx, "type mismatch in import `%s`", buf);
  }
  for (uint32_t i = 0; i < b->ncexports; i++) {
    const cmc_core_extern *be = &b->cexports[i], *ae = NULL;
    for (uint32_t k = 0; k < a->ncexports; k++)
      if (!strcmp(a->cexports[k].name, be->name)) { ae = &a->cexports[k]; break; }
    if (!ae) return sfail(cx, "missing expected export `%s`", be->name);
    if (!cmc_sub_core_extern(cx, ae, be)) return context(cx, "type mismatch in export `%s`", be->name);
  }
  return true;
}

bool cmc_sub_extern(cmc_subcx *cx, int sort, cmc_tid a, cmc_tid b) {
  switch (sort) {
  case CMC_SORT_FUNC: return cmc_sub_functype(cx, a, b);
  case CMC_SORT_VALUE: return cmc_sub_valtype(cx, a, b);
  case CMC_SORT_TYPE: return cmc_sub_anytype(cx, a, b);
  case CMC_SORT_COMPONENT: return cmc_sub_component(cx, a, b);
  case CMC_SORT_INSTANCE: return cmc_sub_instance(cx, a, b);
  default: return cmc_sub_module(cx, a, b);
  }
}

/* ---- substitution ---- */

static cmc_tid subst(cmc_types *t, cmc_arena *ar, cmc_tid id, const cmc_map *m, unsigned depth);

static bool subst_externs(cmc_types *t, cmc_arena *ar, cmc_extern **v, uint32_t n, const cmc_map *m,
                          unsigned depth, bool *changed) {
  cmc_extern *copy = NULL;
  for (uint32_t i = 0; i < n; i++) {
    cmc_tid nt = subst(t, ar, (*v)[i].type, m, depth + 1);
    if (nt == CMC_NONE) return false;
    if (nt != (*v)[i].type) {
      if (!copy) {
        copy = cmc_arena_alloc(ar, n * sizeof *copy);
        if (!copy) return false;
        memcpy(copy, *v, n * sizeof *copy);
      }
      copy[i].type = nt;
    }
  }
  if (copy) { *v = copy; *changed = true; }
  return true;
}

static bool subst_tids(cmc_arena *ar, cmc_tid **v, uint32_t n, const cmc_map *m,
                       bool *changed) {
  cmc_tid *copy = NULL;
  for (uint32_t i = 0; i < n; i++) {
    cmc_tid nt = cmc_map_get(m, (*v)[i]);
    if (nt != (*v)[i]) {
      if (!copy) {
        copy = cmc_arena_alloc(ar, n * sizeof *copy);
        if (!copy) return false;
        memcpy(copy, *v, n * sizeof *copy);
      }
      copy[i] = nt;
    }
  }
  if (copy) { *v = copy; *changed = true; }
  return true;
}

static cmc_tid subst_node(cmc_types *t, cmc_arena *ar, cmc_tid id, const cmc_map *m, unsigned depth);

/* memoized per substitution (stamp t->gen), so shared subterms are copied once */
static cmc_tid subst(cmc_types *t, cmc_arena *ar, cmc_tid id, const cmc_map *m, unsigned depth) {
  if (id == CMC_NONE || id >= t->len) return id;
  if (t->v[id].smark == t->gen) return t->v[id].sresult;
  cmc_tid r = subst_node(t, ar, id, m, depth);
  if (r != CMC_NONE) {
    t->v[id].smark = t->gen;
    t->v[id].sresult = r;
  }
  return r;
}

static cmc_tid subst_node(cmc_types *t, cmc_arena *ar, cmc_tid id, const cmc_map *m, unsigned depth) {
  if (depth > CMC_HARD_DEPTH) return id;
  cmc_type ty = t->v[id];
  cmc_tid mapped = cmc_map_get(m, id);
  if (mapped != id) return mapped;
  if (m->types && ty.kind != CMC_T_RESOURCE) /* a named copy of a substituted type */
    for (cmc_tid o = ty.alias_of; o; o = t->v[o].alias_of) {
      cmc_tid mo = cmc_map_get(m, o);
      if (mo != o) return mo;
      if (t->v[o].kind == CMC_T_RESOURCE) break;
    }
  if (ty.kind == CMC_T_RESOURCE) {
    cmc_tid root = cmc_res_root(t, id);
    mapped = cmc_map_get(m, root);
    if (mapped == root) return id;
    if (id == root) return mapped;
    /* a named copy of a substituted resource stays a named copy (of the new resource), so
     * each name keeps a node of its own, as wasmparser's aliased resource ids do */
    cmc_tid nroot = cmc_res_root(t, mapped);
    cmc_tid from = ty.named_from ? subst(t, ar, ty.named_from, m, depth + 1) : 0;
    if (from == CMC_NONE) return CMC_NONE;
    cmc_tid nid = cmc_type_new(t, CMC_T_RESOURCE);
    if (nid == CMC_NONE) return CMC_NONE;
    t->v[nid] = t->v[nroot];
    t->v[nid].alias_of = nroot;
    t->v[nid].named_from = from;
    t->v[nid].smark = 0;
    return nid;
  }
  if (!ty.has_resource && !m->types) return id;
  bool changed = false;
  cmc_tid na = subst(t, ar, ty.a, m, depth + 1), nb = subst(t, ar, ty.b, m, depth + 1);
  if ((ty.a != CMC_NONE && na == CMC_NONE) || (ty.b != CMC_NONE && nb == CMC_NONE)) return CMC_NONE;
  if (na != ty.a || nb != ty.b) changed = true;
  ty.a = na;
  ty.b = nb;
  if (ty.n) {
    cmc_field *copy = NULL;
    for (uint32_t i = 0; i < ty.n; i++) {
      cmc_tid nt = subst(t, ar, ty.fields[i].type, m, depth + 1);
      if (ty.fields[i].type != CMC_NONE && nt == CMC_NONE) return CMC_NONE;
      if (nt != ty.fields[i].type) {
        if (!copy) {
          copy = cmc_arena_alloc(ar, ty.n * sizeof *copy);
          if (!copy) return CMC_NONE;
          memcpy(copy, ty.fields, ty.n * sizeof *copy);
        }
        copy[i].type = nt;
      }
    }
    if (copy) { ty.fields = copy; changed = true; }
  }
  if (!subst_externs(t, ar, &ty.imports, ty.nimports, m, depth, &changed) ||
      !subst_externs(t, ar, &ty.exports, ty.nexports, m, depth, &changed) ||
      !subst_tids(ar, &ty.defined, ty.ndefined, m, &changed) ||
      !subst_tids(ar, &ty.imported_res, ty.nimported_res, m, &changed))
    return CMC_NONE;
  if (!changed) return id;
  cmc_tid nid = cmc_type_new(t, ty.kind);
  if (nid == CMC_NONE) return CMC_NONE;
  t->v[nid] = ty;
  return nid;
}

cmc_tid cmc_subst(cmc_types *t, cmc_arena *a, cmc_tid id, const cmc_map *m) {
  if (!m || m->len == 0) return id;
  t->gen++;
  return subst(t, a, id, m, 0);
}

bool cmc_subst_externs(cmc_types *t, cmc_arena *a, cmc_extern *e, uint32_t n, const cmc_map *m) {
  if (!m || m->len == 0) return true;
  t->gen++; /* one memo: a type shared by several externs is copied once */
  for (uint32_t i = 0; i < n; i++) {
    cmc_tid nt = subst(t, a, e[i].type, m, 0);
    if (nt == CMC_NONE) return false;
    e[i].type = nt;
  }
  return true;
}

bool cmc_subst_extern(cmc_types *t, cmc_arena *a, cmc_extern *e, const cmc_map *m) {
  cmc_tid n = cmc_subst(t, a, e->type, m);
  if (n == CMC_NONE) return false;
  e->type = n;
  return true;
}

/* ---- canonical ABI: despecialize, flatten, alignment, elem_size ---- */

static void flat_push(cmc_flat *f, uint8_t code) {
  if (f->len < sizeof f->v) f->v[f->len] = code;
  if (f->len < 64) f->len++;
}

static uint8_t join(uint8_t a, uint8_t b) {
  if (a == b) return a;
  if ((a == 0x7f && b == 0x7d) || (a == 0x7d && b == 0x7f)) return 0x7f;
  return 0x7e;
}

static void flatten(cmc_types *t, cmc_tid vt, bool p64, cmc_flat *out, unsigned depth) {
  uint8_t ptr = p64 ? 0x7e : 0x7f;
  if (vt == CMC_NONE || depth > CMC_HARD_DEPTH || out->len >= 64) return;
  const cmc_type *ty = &t->v[vt];
  switch (ty->kind) {
  case CMC_T_PRIM:
    switch (ty->prim) {
    case CMC_S64: case CMC_U64: flat_push(out, 0x7e); return;
    case CMC_F32: flat_push(out, 0x7d); return;
    case CMC_F64: flat_push(out, 0x7c); return;
    case CMC_STRING: flat_push(out, ptr); flat_push(out, ptr); return;
    default: flat_push(out, 0x7f); return;
    }
  case CMC_T_LIST:
  case CMC_T_MAP: flat_push(out, ptr); flat_push(out, ptr); return;
  case CMC_T_FIXLIST: {
    cmc_flat one = {0};
    flatten(t, ty->a, p64, &one, depth + 1);
    for (uint32_t i = 0; i < ty->len && out->len < 64; i++)
      for (uint32_t k = 0; k < one.len && k < sizeof one.v; k++) flat_push(out, one.v[k]);
    if (one.len > sizeof one.v)
      for (uint32_t i = 0; i < ty->len && out->len < 64; i++) out->len += one.len;
    return;
  }
  case CMC_T_RECORD:
  case CMC_T_TUPLE:
    for (uint32_t i = 0; i < ty->n && out->len < 64; i++) flatten(t, t->v[vt].fields[i].type, p64, out, depth + 1);
    return;
  case CMC_T_FLAGS: case CMC_T_OWN: case CMC_T_BORROW: case CMC_T_STREAM: case CMC_T_FUTURE:
  case CMC_T_ENUM:
    flat_push(out, 0x7f);
    return;
  case CMC_T_VARIANT:
  case CMC_T_OPTION:
  case CMC_T_RESULT: {
    cmc_flat joined = {0};
    cmc_tid cases[2];
    uint32_t n = 0;
    const cmc_tid *cs;
    if (ty->kind == CMC_T_VARIANT) {
      n = ty->n;
      cs = NULL;
    } else if (ty->kind == CMC_T_OPTION) {
      cases[0] = CMC_NONE; cases[1] = ty->a; n = 2; cs = cases;
    } else {
      cases[0] = ty->a; cases[1] = ty->b; n = 2; cs = cases;
    }
    for (uint32_t i = 0; i < n; i++) {
      cmc_tid c = cs ? cs[i] : t->v[vt].fields[i].type;
      if (c == CMC_NONE) continue;
      cmc_flat f = {0};
      flatten(t, c, p64, &f, depth + 1);
      for (uint32_t k = 0; k < f.len; k++) {
        uint8_t code = k < sizeof f.v ? f.v[k] : 0x7e;
        if (k < joined.len) {
          if (k < sizeof joined.v) joined.v[k] = join(joined.v[k], code);
        } else {
          flat_push(&joined, code);
        }
        if (k > 64) break;
      }
    }
    flat_push(out, 0x7f);
    for (uint32_t k = 0; k < joined.len && out->len < 64; k++)
      flat_push(out, k < sizeof joined.v ? joined.v[k] : 0x7e);
    return;
  }
  default: return;
  }
}

void cmc_flatten_type(cmc_types *t, cmc_tid vt, bool ptr64, cmc_flat *out) {
  flatten(t, vt, ptr64, out, 0);
}

static uint32_t discriminant_size(uint32_t n) { return n <= 256 ? 1 : n <= 65536 ? 2 : 4; }

static uint32_t align_of(cmc_types *t, cmc_tid vt, bool p64, unsigned depth) {
  if (vt == CMC_NONE) return 1;
  if (depth > 0) return t->v[vt].align[p64];
  const cmc_type *ty = &t->v[vt];
  uint32_t ps = p64 ? 8 : 4, a = 1;
  switch (ty->kind) {
  case CMC_T_PRIM:
    switch (ty->prim) {
    case CMC_BOOL: case CMC_S8: case CMC_U8: return 1;
    case CMC_S16: case CMC_U16: return 2;
    case CMC_S64: case CMC_U64: case CMC_F64: return 8;
    case CMC_STRING: return ps;
    default: return 4;
    }
  case CMC_T_LIST: case CMC_T_MAP: return ps;
  case CMC_T_FIXLIST: return align_of(t, ty->a, p64, depth + 1);
  case CMC_T_RECORD: case CMC_T_TUPLE:
    for (uint32_t i = 0; i < ty->n; i++) {
      uint32_t f = align_of(t, t->v[vt].fields[i].type, p64, depth + 1);
      if (f > a) a = f;
    }
    return a;
  case CMC_T_FLAGS: return ty->n <= 8 ? 1 : ty->n <= 16 ? 2 : 4;
  case CMC_T_ENUM: return discriminant_size(ty->n);
  case CMC_T_VARIANT:
    a = discriminant_size(ty->n);
    for (uint32_t i = 0; i < ty->n; i++) {
      uint32_t f = align_of(t, t->v[vt].fields[i].type, p64, depth + 1);
      if (f > a) a = f;
    }
    return a;
  case CMC_T_OPTION: {
    uint32_t f = align_of(t, ty->a, p64, depth + 1);
    return f > 1 ? f : 1;
  }
  case CMC_T_RESULT: {
    uint32_t f = align_of(t, ty->a, p64, depth + 1), g = align_of(t, ty->b, p64, depth + 1);
    return f > g ? f : g;
  }
  default: return 4;
  }
}

uint32_t cmc_alignment(cmc_types *t, cmc_tid vt, bool ptr64) { return t->v[vt].align[ptr64]; }

#define SIZE_CAP ((uint64_t)1 << 40)
static uint64_t align_to(uint64_t s, uint32_t a) { return (s + a - 1) / a * a; }
static uint64_t cap(uint64_t s) { return s > SIZE_CAP ? SIZE_CAP : s; }

static uint64_t size_of(cmc_types *t, cmc_tid vt, bool p64, unsigned depth) {
  if (vt == CMC_NONE) return 0;
  if (depth > 0) return t->v[vt].size[p64];
  const cmc_type *ty = &t->v[vt];
  uint64_t ps = p64 ? 8 : 4, s = 0;
  switch (ty->kind) {
  case CMC_T_PRIM:
    switch (ty->prim) {
    case CMC_BOOL: case CMC_S8: case CMC_U8: return 1;
    case CMC_S16: case CMC_U16: return 2;
    case CMC_S64: case CMC_U64: case CMC_F64: return 8;
    case CMC_STRING: return 2 * ps;
    default: return 4;
    }
  case CMC_T_LIST: case CMC_T_MAP: return 2 * ps;
  case CMC_T_FIXLIST: return cap((uint64_t)ty->len * size_of(t, ty->a, p64, depth + 1));
  case CMC_T_RECORD: case CMC_T_TUPLE:
    for (uint32_t i = 0; i < ty->n; i++) {
      cmc_tid f = t->v[vt].fields[i].type;
      s = align_to(s, align_of(t, f, p64, depth + 1));
      s = cap(s + size_of(t, f, p64, depth + 1));
    }
    return align_to(s, align_of(t, vt, p64, 0));
  case CMC_T_FLAGS: return ty->n <= 8 ? 1 : ty->n <= 16 ? 2 : 4;
  case CMC_T_ENUM: return discriminant_size(ty->n);
  case CMC_T_VARIANT: case CMC_T_OPTION: case CMC_T_RESULT: {
    uint32_t n = ty->kind == CMC_T_VARIANT ? ty->n : 2;
    uint32_t maxa = 1;
    uint64_t cs = 0;
    for (uint32_t i = 0; i < n; i++) {
      cmc_tid c = ty->kind == CMC_T_VARIANT ? t->v[vt].fields[i].type
                  : ty->kind == CMC_T_OPTION ? (i ? ty->a : CMC_NONE)
                  : (i ? ty->b : ty->a);
      if (c == CMC_NONE) continue;
      uint32_t a = align_of(t, c, p64, depth + 1);
      if (a > maxa) maxa = a;
      uint64_t z = size_of(t, c, p64, depth + 1);
      if (z > cs) cs = z;
    }
    s = align_to(discriminant_size(n), maxa);
    s = cap(s + cs);
    return align_to(s, align_of(t, vt, p64, 0));
  }
  default: return 4;
  }
}

uint64_t cmc_elem_size(cmc_types *t, cmc_tid vt, bool ptr64) { return t->v[vt].size[ptr64]; }

/* caches alignment and element size (both pointer widths) from the members' caches */
static void compute_layout(cmc_types *t, cmc_tid id) {
  for (int p = 0; p < 2; p++) {
    uint32_t a = align_of(t, id, p, 0);
    t->v[id].align[p] = a;
    if (t->v[id].kind == CMC_T_RECORD || t->v[id].kind == CMC_T_TUPLE ||
        t->v[id].kind == CMC_T_VARIANT || t->v[id].kind == CMC_T_OPTION ||
        t->v[id].kind == CMC_T_RESULT) {
      /* size_of reads this type's own alignment through align_of(depth 0) */
    }
    t->v[id].size[p] = size_of(t, id, p, 0);
  }
}
