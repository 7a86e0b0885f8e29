/* Component decoding and validation (Binary.md, Explainer.md), in one pass over the
 * binary as the reference validator does: each definition is decoded, checked against the
 * index spaces built so far, and appended to them with its resolved type. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation" /* messages are truncated on purpose */
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "component/component.h"
#include "component/core.h"
#include "component/names.h"
#include "component/reader.h"
#include "component/types.h"

#define MAX_NESTING 100 /* components and component/instance types nested in each other */

enum { SC_COMPONENT, SC_COMPTYPE, SC_INSTTYPE };

typedef struct tidset {
  cmc_tid *v;
  uint32_t len, cap;
  cmc_tid *hash;
  uint32_t hcap;
} tidset;

typedef struct extlist {
  cmc_extern *v;
  cmc_name *names;
  uint32_t len, cap;
  const char **keys; /* cmc_name_key of each entry */
  uint32_t *hash;    /* open addressing over keys: entry index, UINT32_MAX empty */
  uint32_t hcap;
} extlist;

static uint32_t str_hash(const char *s) {
  uint32_t h = 2166136261u;
  for (; *s; s++) h = (h ^ (uint8_t)*s) * 16777619u;
  return h;
}

typedef struct scope scope;
struct scope {
  int kind;
  scope *parent;
  uint32_t id;
  unsigned depth;
  cmc_space sp[CMC_SP_COUNT];
  extlist imports, exports;
  struct rescx {
    tidset ids; /* resources named in this context, parallel to names */
    const char **names;
    uint32_t cap;
  } ires, eres; /* imports and exports name resources in disjoint contexts */
  tidset imported_res, defined_res;
  tidset imported_types, exported_types; /* named types (external visibility) */
  tidset local_res;                      /* resources defined here */
  uint8_t context_type;                  /* core type of context.get/set, once used */
  bool has_start;
  cmc_component *comp;
  cmc_component **nested; /* nested component definitions, in order (for instantiation) */
  uint32_t nnested, capnested;
};

typedef struct vcx {
  cmc_types *t;
  cmc_arena *arena;
  cmc_error *err;
  const cmc_comp_options *opts;
  uint32_t next_scope;
  unsigned long work; /* comparisons done by searches, bounded by MAX_WORK */
} vcx;

#define MAX_WORK 400000000ul
/* charges n steps of searching; fails (exhaustion) past the bound */
#define WORK(n)                                                                    \
  do {                                                                             \
    if ((v->work += (unsigned long)(n)) > MAX_WORK)                                \
      return cmc_fail(v->err, CMREF_EXHAUSTION, "validation work limit exceeded"); \
  } while (0)

#define T(id) (v->t->v[(id)])

static bool invalid(vcx *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool invalid(vcx *v, const char *fmt, ...) {
  if (v->err->kind != CMREF_OK) return false;
  va_list ap;
  va_start(ap, fmt);
  v->err->kind = CMREF_INVALID;
  vsnprintf(v->err->message, sizeof v->err->message, fmt, ap);
  va_end(ap);
  return false;
}

static bool oom(vcx *v) { return cmc_fail(v->err, CMREF_MALFORMED, "out of memory"); }

static void *grow(vcx *v, void *old, uint32_t *cap, uint32_t len, size_t elem) {
  if (len < *cap) return old;
  uint32_t ncap = *cap ? *cap * 2 : 8;
  void *n = cmc_arena_alloc(v->arena, (size_t)ncap * elem);
  if (!n) return NULL;
  if (len) memcpy(n, old, (size_t)len * elem);
  *cap = ncap;
  return n;
}

static uint32_t tid_hash(cmc_tid id) { return (id * 2654435761u) >> 7; }

static void hash_put(cmc_tid *h, uint32_t cap, cmc_tid id) {
  uint32_t i = tid_hash(id) & (cap - 1);
  while (h[i] != CMC_NONE && h[i] != id) i = (i + 1) & (cap - 1);
  h[i] = id;
}

/* tidsets keep insertion order (v) and an open-addressing hash for membership */
static bool set_add(vcx *v, tidset *s, cmc_tid id) {
  cmc_tid *n = grow(v, s->v, &s->cap, s->len, sizeof *n);
  if (!n) return oom(v);
  s->v = n;
  s->v[s->len++] = id;
  if (s->len * 2 > s->hcap) {
    uint32_t cap = s->hcap ? s->hcap * 2 : 16;
    while (s->len * 2 > cap) cap *= 2;
    cmc_tid *h = cmc_arena_alloc(v->arena, (size_t)cap * sizeof *h);
    if (!h) return oom(v);
    memset(h, 0xff, (size_t)cap * sizeof *h);
    for (uint32_t i = 0; i < s->len; i++) hash_put(h, cap, s->v[i]);
    s->hash = h;
    s->hcap = cap;
  } else {
    hash_put(s->hash, s->hcap, id);
  }
  return true;
}

static bool set_has(const tidset *s, cmc_tid id) {
  if (!s->hcap) return false;
  uint32_t i = tid_hash(id) & (s->hcap - 1);
  while (s->hash[i] != CMC_NONE) {
    if (s->hash[i] == id) return true;
    i = (i + 1) & (s->hcap - 1);
  }
  return false;
}

static bool sp_push(vcx *v, scope *sc, int space, cmc_tid type) {
  cmc_space *s = &sc->sp[space];
  if (s->len >= 1000000) return invalid(v, "index space too large");
  cmc_index_entry *n = grow(v, s->v, &s->cap, s->len, sizeof *n);
  if (!n) return oom(v);
  s->v = n;
  s->v[s->len].type = type;
  s->v[s->len].def = CMC_NONE;
  s->len++;
  return true;
}

static const char *space_what(int space) {
  switch (space) {
  case CMC_SP_FUNC: return "function";
  case CMC_SP_VALUE: return "value";
  case CMC_SP_TYPE: return "type";
  case CMC_SP_COMPONENT: return "component";
  case CMC_SP_INSTANCE: return "instance";
  case CMC_SP_CORE_FUNC: return "core function";
  case CMC_SP_CORE_TABLE: return "table";
  case CMC_SP_CORE_MEMORY: return "memory";
  case CMC_SP_CORE_GLOBAL: return "global";
  case CMC_SP_CORE_TAG: return "tag";
  case CMC_SP_CORE_TYPE: return "core type";
  case CMC_SP_CORE_MODULE: return "module";
  default: return "core instance";
  }
}

static const char *space_short(int space) {
  switch (space) {
  case CMC_SP_CORE_FUNC: return "function";
  case CMC_SP_CORE_TYPE: return "type";
  case CMC_SP_CORE_INSTANCE: return "instance";
  default: return space_what(space);
  }
}

static bool sp_get(vcx *v, scope *sc, int space, uint32_t idx, cmc_tid *out) {
  if (idx >= sc->sp[space].len)
    return invalid(v, "unknown %s %u: %s index out of bounds", space_what(space), idx, space_short(space));
  *out = sc->sp[space].v[idx].type;
  return true;
}

/* ---- sorts ---- */

static int sort_space(int sort) {
  switch (sort) {
  case CMC_SORT_FUNC: return CMC_SP_FUNC;
  case CMC_SORT_VALUE: return CMC_SP_VALUE;
  case CMC_SORT_TYPE: return CMC_SP_TYPE;
  case CMC_SORT_COMPONENT: return CMC_SP_COMPONENT;
  case CMC_SORT_INSTANCE: return CMC_SP_INSTANCE;
  default:
    switch (sort - CMC_SORT_CORE) {
    case CMC_CORE_FUNC: return CMC_SP_CORE_FUNC;
    case CMC_CORE_TABLE: return CMC_SP_CORE_TABLE;
    case CMC_CORE_MEMORY: return CMC_SP_CORE_MEMORY;
    case CMC_CORE_GLOBAL: return CMC_SP_CORE_GLOBAL;
    case CMC_CORE_TAG: return CMC_SP_CORE_TAG;
    case CMC_CORE_TYPE: return CMC_SP_CORE_TYPE;
    case CMC_CORE_MODULE: return CMC_SP_CORE_MODULE;
    default: return CMC_SP_CORE_INSTANCE;
    }
  }
}

static const char *sort_name(int sort) {
  switch (sort) {
  case CMC_SORT_FUNC: return "func";
  case CMC_SORT_VALUE: return "value";
  case CMC_SORT_TYPE: return "type";
  case CMC_SORT_COMPONENT: return "component";
  case CMC_SORT_INSTANCE: return "instance";
  default:
    switch (sort - CMC_SORT_CORE) {
    case CMC_CORE_FUNC: return "func";
    case CMC_CORE_TABLE: return "table";
    case CMC_CORE_MEMORY: return "memory";
    case CMC_CORE_GLOBAL: return "global";
    case CMC_CORE_TAG: return "tag";
    case CMC_CORE_TYPE: return "core type";
    case CMC_CORE_MODULE: return "module";
    default: return "core instance";
    }
  }
}

static bool is_core_sort_byte(uint8_t b) { return b <= 0x04 || (b >= 0x10 && b <= 0x12); }

/* sort ::= 0x00 core:sort | 0x01..0x05 */
static bool read_sort(cmc_reader *r, int *sort, const char *what) {
  uint8_t b, c;
  if (!cmc_read_byte(r, &b)) return false;
  if (b == 0x00) {
    if (!cmc_read_byte(r, &c)) return false;
    if (!is_core_sort_byte(c)) return cmc_malformed(r, "invalid leading byte (0x%x) for %s", c, what);
    *sort = CMC_SORT_CORE + c;
    return true;
  }
  if (b > 0x05) return cmc_malformed(r, "invalid leading byte (0x%x) for %s", b, what);
  *sort = b;
  return true;
}

/* ---- value types ---- */

static bool defined_type_at(vcx *v, scope *sc, uint32_t idx, cmc_tid *out) {
  if (!sp_get(v, sc, CMC_SP_TYPE, idx, out)) return false;
  if (!cmc_is_valtype(v->t, *out)) return invalid(v, "type index %u is not a defined type", idx);
  return true;
}

static bool read_valtype(vcx *v, cmc_reader *r, scope *sc, cmc_tid *out) {
  uint8_t b = 0;
  if (!cmc_peek_byte(r, &b)) return false;
  cmc_tid p = cmc_prim_tid(b);
  if (p != CMC_NONE) {
    r->p++;
    *out = p;
    if (b == CMC_ERROR_CONTEXT) return true;
    return true;
  }
  int64_t idx;
  if (!cmc_read_s33(r, &idx)) return false;
  if (idx < 0) return cmc_malformed(r, "invalid leading byte (0x%x) for component value type", b);
  return defined_type_at(v, sc, (uint32_t)idx, out);
}

static bool read_optvaltype(vcx *v, cmc_reader *r, scope *sc, cmc_tid *out) {
  uint8_t b = 0;
  *out = CMC_NONE;
  if (!cmc_read_byte(r, &b)) return false;
  if (b == 0) return true;
  if (b != 1) return cmc_malformed(r, "invalid leading byte (0x%x) for optional component value type", b);
  return read_valtype(v, r, sc, out);
}

static bool read_label(vcx *v, cmc_reader *r, const char *what, const char **out) {
  if (!cmc_read_name(r, out)) return false;
  if (!**out) return invalid(v, "%s name cannot be empty", what);
  if (!cmc_is_kebab(*out, strlen(*out))) return invalid(v, "%s name `%s` is not in kebab case", what, *out);
  return true;
}

static bool unique_labels(vcx *v, cmc_field *f, uint32_t i, const char *what, const char *prevwhat) {
  WORK(i);
  for (uint32_t k = 0; k < i; k++)
    if (cmc_label_eq(f[k].name, f[i].name))
      return invalid(v, "%s name `%s` conflicts with previous %s name `%s`", what, f[i].name, prevwhat,
                     f[k].name);
  return true;
}

static cmc_tid new_type(vcx *v, cmc_tkind kind) {
  cmc_tid id = cmc_type_new(v->t, kind);
  if (id == CMC_NONE) oom(v);
  return id;
}

static bool check_depth(vcx *v, cmc_tid id) {
  if (T(id).tsize > CMC_MAX_TYPE_SIZE)
    return invalid(v, "effective type size exceeds the limit of %u", CMC_MAX_TYPE_SIZE);
  if (v->opts->wasmtime && T(id).depth > CMC_MAX_TYPE_DEPTH) return invalid(v, "type nesting is too deep");
  if (T(id).depth > CMC_HARD_DEPTH) return invalid(v, "type nesting is too deep");
  return true;
}

static bool finish_valtype(vcx *v, cmc_tid id, cmc_tid *out) {
  cmc_type_finish(v->t, id);
  if (!check_depth(v, id)) return false;
  if (T(id).size[0] >= ((uint64_t)1 << 28) || T(id).size[1] >= ((uint64_t)1 << 28))
    return invalid(v, "type exceeds maximum byte size");
  *out = id;
  return true;
}

static bool read_fields(vcx *v, cmc_reader *r, scope *sc, cmc_tid id, bool record) {
  uint32_t n = 0;
  if (!cmc_read_count(r, &n, 2)) return false;
  cmc_field *f = cmc_alloc(r, n, sizeof *f);
  if (!f) return false;
  for (uint32_t i = 0; i < n; i++) {
    if (record) {
      if (!read_label(v, r, "record field", &f[i].name) || !read_valtype(v, r, sc, &f[i].type)) return false;
      if (!unique_labels(v, f, i, "record field", "field")) return false;
    } else {
      uint8_t z = 0;
      if (!read_label(v, r, "variant case", &f[i].name) || !read_optvaltype(v, r, sc, &f[i].type) ||
          !cmc_read_byte(r, &z))
        return false;
      if (z != 0) return cmc_malformed(r, "invalid leading byte (0x%x) for zero byte required", z);
      if (!unique_labels(v, f, i, "variant case", "case")) return false;
    }
  }
  if (n == 0)
    return invalid(v, record ? "record type must have at least one field" : "variant type must have at least one case");
  T(id).n = n;
  T(id).fields = f;
  return true;
}

static bool read_labels(vcx *v, cmc_reader *r, cmc_tid id, bool flags) {
  uint32_t n = 0;
  if (!cmc_read_count(r, &n, 1)) return false;
  cmc_field *f = cmc_alloc(r, n, sizeof *f);
  if (!f) return false;
  for (uint32_t i = 0; i < n; i++) {
    f[i].type = CMC_NONE;
    if (!read_label(v, r, flags ? "flag" : "enum tag", &f[i].name)) return false;
    if (!unique_labels(v, f, i, flags ? "flag" : "enum tag", flags ? "flag" : "tag")) return false;
  }
  if (n == 0) return invalid(v, flags ? "flags must have at least one entry" : "enum type must have at least one variant");
  if (flags && n > 32) return invalid(v, "cannot have more than 32 flags");
  T(id).n = n;
  T(id).fields = f;
  return true;
}

static bool resource_at(vcx *v, scope *sc, uint32_t idx, cmc_tid *out) {
  if (!sp_get(v, sc, CMC_SP_TYPE, idx, out)) return false;
  if (T(*out).kind != CMC_T_RESOURCE) return invalid(v, "type index %u is not a resource type", idx);
  return true;
}

static bool read_defvaltype(vcx *v, cmc_reader *r, scope *sc, uint8_t b, cmc_tid *out) {
  cmc_tid p = cmc_prim_tid(b);
  if (p != CMC_NONE) { /* a defined primitive type: its own node, as wasm-tools has it */
    *out = new_type(v, CMC_T_PRIM);
    if (*out == CMC_NONE) return false;
    T(*out) = T(p);
    T(*out).depth = 1;
    return true;
  }
  static const struct { uint8_t code; cmc_tkind kind; } kinds[] = {
      {0x72, CMC_T_RECORD}, {0x71, CMC_T_VARIANT}, {0x70, CMC_T_LIST}, {0x67, CMC_T_FIXLIST},
      {0x6f, CMC_T_TUPLE}, {0x6e, CMC_T_FLAGS}, {0x6d, CMC_T_ENUM}, {0x6b, CMC_T_OPTION},
      {0x6a, CMC_T_RESULT}, {0x69, CMC_T_OWN}, {0x68, CMC_T_BORROW}, {0x66, CMC_T_STREAM},
      {0x65, CMC_T_FUTURE}, {0x63, CMC_T_MAP}};
  int k = -1;
  for (unsigned i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
    if (kinds[i].code == b) k = (int)i;
  if (k < 0) return cmc_malformed(r, "invalid leading byte (0x%x) for component defined type", b);
  cmc_tid id = new_type(v, kinds[k].kind);
  if (id == CMC_NONE) return false;
  cmc_tid a = CMC_NONE, c = CMC_NONE;
  uint32_t x = 0;
  switch (kinds[k].kind) {
  case CMC_T_RECORD: if (!read_fields(v, r, sc, id, true)) return false; break;
  case CMC_T_VARIANT: if (!read_fields(v, r, sc, id, false)) return false; break;
  case CMC_T_LIST: case CMC_T_OPTION:
    if (!read_valtype(v, r, sc, &a)) return false;
    break;
  case CMC_T_FIXLIST:
    if (!read_valtype(v, r, sc, &a) || !cmc_read_u32(r, &x)) return false;
    if (x == 0) return invalid(v, "Fixed-length lists must have more than zero elements");
    T(id).len = x;
    break;
  case CMC_T_TUPLE: {
    uint32_t n = 0;
    if (!cmc_read_count(r, &n, 1)) return false;
    cmc_field *f = cmc_alloc(r, n, sizeof *f);
    if (!f) return false;
    for (uint32_t i = 0; i < n; i++)
      if (!read_valtype(v, r, sc, &f[i].type)) return false;
    if (n == 0) return invalid(v, "tuple type must have at least one type");
    T(id).n = n;
    T(id).fields = f;
    break;
  }
  case CMC_T_FLAGS: if (!read_labels(v, r, id, true)) return false; break;
  case CMC_T_ENUM: if (!read_labels(v, r, id, false)) return false; break;
  case CMC_T_RESULT:
    if (!read_optvaltype(v, r, sc, &a) || !read_optvaltype(v, r, sc, &c)) return false;
    break;
  case CMC_T_OWN: case CMC_T_BORROW:
    if (!cmc_read_u32(r, &x) || !resource_at(v, sc, x, &a)) return false;
    break;
  case CMC_T_STREAM: case CMC_T_FUTURE:
    if (!read_optvaltype(v, r, sc, &a)) return false;
    if (a != CMC_NONE && T(a).has_borrow)
      return invalid(v, "%s payload cannot contain a `borrow` type",
                     kinds[k].kind == CMC_T_STREAM ? "stream" : "future");
    if (kinds[k].kind == CMC_T_STREAM && a != CMC_NONE && T(a).kind == CMC_T_PRIM && T(a).prim == CMC_CHAR)
      return invalid(v, "`stream<char>` is not valid at this time, use `stream<u8>` with a defined by encoding instead for now");
    break;
  case CMC_T_MAP: {
    if (!read_valtype(v, r, sc, &a) || !read_valtype(v, r, sc, &c)) return false;
    const cmc_type *kt = &T(a);
    bool keyok = kt->kind == CMC_T_PRIM && kt->prim != CMC_F32 && kt->prim != CMC_F64 &&
                 kt->prim != CMC_ERROR_CONTEXT;
    if (!keyok) return invalid(v, "map key type must be a primitive integer, bool, char, or string");
    break;
  }
  default: break;
  }
  T(id).a = a;
  T(id).b = c;
  return finish_valtype(v, id, out);
}

/* ---- function types ---- */

static bool read_functype(vcx *v, cmc_reader *r, scope *sc, bool async, cmc_tid *out) {
  uint32_t n = 0;
  if (!cmc_read_count(r, &n, 2)) return false;
  cmc_field *f = cmc_alloc(r, n, sizeof *f);
  if (!f) return false;
  for (uint32_t i = 0; i < n; i++) {
    if (!read_label(v, r, "function parameter", &f[i].name) || !read_valtype(v, r, sc, &f[i].type))
      return false;
    if (!unique_labels(v, f, i, "function parameter", "parameter")) return false;
  }
  uint8_t b = 0;
  cmc_tid res = CMC_NONE;
  if (!cmc_read_byte(r, &b)) return false;
  if (b == 0x00) {
    if (!read_valtype(v, r, sc, &res)) return false;
  } else if (b == 0x01) {
    if (!cmc_read_byte(r, &b)) return false;
    if (b != 0x00) return cmc_malformed(r, "invalid leading byte (0x%x) for number of results", b);
  } else {
    return cmc_malformed(r, "invalid leading byte (0x%x) for component function results", b);
  }
  if (res != CMC_NONE && T(res).has_borrow) return invalid(v, "function result cannot contain a `borrow` type");
  cmc_tid id = new_type(v, CMC_T_FUNC);
  if (id == CMC_NONE) return false;
  T(id).n = n;
  T(id).fields = f;
  T(id).a = res;
  T(id).async = async;
  cmc_type_finish(v->t, id);
  T(id).has_borrow = false;
  for (uint32_t i = 0; i < n; i++) T(id).has_borrow |= T(f[i].type).has_borrow;
  if (!check_depth(v, id)) return false;
  *out = id;
  return true;
}

/* ---- forward declarations ---- */
static bool read_component_body(vcx *v, cmc_reader *r, scope *sc);
static bool read_decls(vcx *v, cmc_reader *r, scope *sc);
static bool read_core_type(vcx *v, cmc_reader *r, scope *sc, bool in_decl);
static bool read_alias(vcx *v, cmc_reader *r, scope *sc);
static bool read_import(vcx *v, cmc_reader *r, scope *sc, bool decl);
static bool read_exportdecl(vcx *v, cmc_reader *r, scope *sc);

static scope *new_scope(vcx *v, scope *parent, int kind) {
  scope *s = cmc_arena_alloc(v->arena, sizeof *s);
  if (!s) { oom(v); return NULL; }
  s->kind = kind;
  s->parent = parent;
  s->id = ++v->next_scope;
  s->depth = parent ? parent->depth + 1 : 0;
  if (s->depth > MAX_NESTING) {
    invalid(v, "nesting is too deep");
    return NULL;
  }
  return s;
}

/* effective size of a component/instance type: one plus its imports' and exports' sizes */
static bool set_extern_size(vcx *v, cmc_tid id) {
  uint64_t size = 1;
  for (uint32_t i = 0; i < T(id).nimports; i++) size += T(T(id).imports[i].type).tsize;
  for (uint32_t i = 0; i < T(id).nexports; i++) size += T(T(id).exports[i].type).tsize;
  T(id).tsize = size > UINT32_MAX ? UINT32_MAX : (uint32_t)size;
  if (T(id).tsize > CMC_MAX_TYPE_SIZE)
    return invalid(v, "effective type size exceeds the limit of %u", CMC_MAX_TYPE_SIZE);
  return true;
}

static bool copy_externs(vcx *v, const extlist *l, cmc_extern **out, uint32_t *n) {
  *n = l->len;
  *out = cmc_arena_alloc(v->arena, (l->len ? l->len : 1) * sizeof **out);
  if (!*out) return oom(v);
  if (l->len) memcpy(*out, l->v, l->len * sizeof **out);
  return true;
}

static bool copy_tids(vcx *v, const tidset *s, cmc_tid **out, uint32_t *n) {
  *n = s->len;
  *out = cmc_arena_alloc(v->arena, (s->len ? s->len : 1) * sizeof **out);
  if (!*out) return oom(v);
  if (s->len) memcpy(*out, s->v, s->len * sizeof **out);
  return true;
}

/* component type / instance type: a scope of declarations */
static bool read_decl_type(vcx *v, cmc_reader *r, scope *sc, bool instance, cmc_tid *out) {
  scope *ts = new_scope(v, sc, instance ? SC_INSTTYPE : SC_COMPTYPE);
  if (!ts) return false;
  if (!read_decls(v, r, ts)) return false;
  cmc_tid id = new_type(v, instance ? CMC_T_INSTANCE : CMC_T_COMPONENT);
  if (id == CMC_NONE) return false;
  cmc_type ty = T(id);
  if (!copy_externs(v, &ts->imports, &ty.imports, &ty.nimports) ||
      !copy_externs(v, &ts->exports, &ty.exports, &ty.nexports) ||
      !copy_tids(v, &ts->defined_res, &ty.defined, &ty.ndefined) ||
      !copy_tids(v, &ts->imported_res, &ty.imported_res, &ty.nimported_res))
    return false;
  ty.depth = 1;
  for (uint32_t i = 0; i < ty.nimports; i++) {
    const cmc_type *m = &T(ty.imports[i].type);
    ty.has_resource |= m->has_resource || m->kind == CMC_T_RESOURCE;
    if (m->depth + 1 > ty.depth) ty.depth = m->depth + 1;
  }
  for (uint32_t i = 0; i < ty.nexports; i++) {
    const cmc_type *m = &T(ty.exports[i].type);
    ty.has_resource |= m->has_resource || m->kind == CMC_T_RESOURCE;
    if (m->depth + 1 > ty.depth) ty.depth = m->depth + 1;
  }
  if (ty.ndefined || ty.nimported_res) ty.has_resource = true;
  uint64_t size = 1;
  for (uint32_t i = 0; i < ty.nimports; i++) size += T(ty.imports[i].type).tsize;
  for (uint32_t i = 0; i < ty.nexports; i++) size += T(ty.exports[i].type).tsize;
  ty.tsize = size > UINT32_MAX ? UINT32_MAX : (uint32_t)size;
  T(id) = ty;
  *out = id;
  return check_depth(v, id);
}

static bool read_resource(vcx *v, cmc_reader *r, scope *sc, cmc_tid *out) {
  cmc_core_valtype rep;
  if (!cmc_read_core_valtype(r, NULL, &rep)) return false;
  uint8_t b = 0;
  uint32_t dtor = CMC_NONE;
  if (!cmc_read_byte(r, &b)) return false;
  if (b == 1) {
    if (!cmc_read_u32(r, &dtor)) return false;
  } else if (b != 0) {
    return cmc_malformed(r, "invalid leading byte (0x%x) for optional destructor", b);
  }
  if (sc->kind != SC_COMPONENT) return invalid(v, "resources can only be defined within a concrete component");
  if (rep.code != 0x7f && rep.code != 0x7e)
    return invalid(v, "resources can only be represented by `i32` or `i64`");
  if (dtor != CMC_NONE) {
    cmc_tid ft = CMC_NONE;
    if (!sp_get(v, sc, CMC_SP_CORE_FUNC, dtor, &ft)) return false;
    const cmc_type *f = &T(ft);
    if (f->nparams != 1 || f->params[0].code != rep.code || f->nresults != 0)
      return invalid(v, "core function %u has wrong signature for a destructor", dtor);
  }
  cmc_tid id = new_type(v, CMC_T_RESOURCE);
  if (id == CMC_NONE) return false;
  T(id).rep = rep;
  T(id).dtor = dtor;
  T(id).owner = sc->id;
  T(id).depth = 1;
  *out = id;
  return set_add(v, &sc->local_res, id);
}

static bool read_deftype(vcx *v, cmc_reader *r, scope *sc, cmc_tid *out) {
  uint8_t b = 0;
  if (!cmc_read_byte(r, &b)) return false;
  switch (b) {
  case 0x40: return read_functype(v, r, sc, false, out);
  case 0x43: return read_functype(v, r, sc, true, out);
  case 0x41: return read_decl_type(v, r, sc, false, out);
  case 0x42: return read_decl_type(v, r, sc, true, out);
  case 0x3f: return read_resource(v, r, sc, out);
  default: return read_defvaltype(v, r, sc, b, out);
  }
}

static bool read_type_def(vcx *v, cmc_reader *r, scope *sc) {
  cmc_tid id = CMC_NONE;
  return read_deftype(v, r, sc, &id) && sp_push(v, sc, CMC_SP_TYPE, id);
}

/* ---- names and extern types ---- */

typedef struct extname {
  const char *name;
  const char *implements;
  const char *version_suffix;
  const char *external_id;
  bool has_external_id, has_version;
} extname;

static bool read_nameattributes(vcx *v, cmc_reader *r, extname *out) {
  uint8_t b = 0;
  memset(out, 0, sizeof *out);
  if (!cmc_read_byte(r, &b)) return false;
  if (b > 2) return cmc_malformed(r, "invalid leading byte (0x%x) for component name", b);
  uint32_t len = 0;
  if (!cmc_read_name_n(r, &out->name, &len)) return false;
  if (strlen(out->name) != len) return invalid(v, "name `%s` is not a valid extern name: it contains U+0000", out->name);
  if (b != 2) return true;
  uint32_t n = 0;
  if (!cmc_read_count(r, &n, 2)) return false;
  bool seen[3] = {false, false, false};
  for (uint32_t i = 0; i < n; i++) {
    uint8_t k = 0;
    const char *s;
    if (!cmc_read_byte(r, &k)) return false;
    if (k > 2) return cmc_malformed(r, "invalid leading byte (0x%x) for name option", k);
    uint32_t slen = 0;
    if (!cmc_read_name_n(r, &s, &slen)) return false;
    if (k == 0 && strlen(s) != slen) return invalid(v, "`%s` is not a valid name: it contains U+0000", s);
    if (seen[k]) {
      static const char *const kinds[] = {"implements", "versionsuffix", "external-id"};
      return invalid(v, "duplicate '%s' option in name", kinds[k]);
    }
    seen[k] = true;
    if (k == 0) out->implements = s;
    else if (k == 1) { out->has_version = true; out->version_suffix = s; }
    else { out->has_external_id = true; out->external_id = s; }
  }
  return true;
}

/* externtype: sort-specific type of an import/export */
static bool read_externtype(vcx *v, cmc_reader *r, scope *sc, cmc_extern *e, bool *fresh_resource) {
  uint8_t b = 0;
  uint32_t idx = 0;
  cmc_tid t = CMC_NONE;
  *fresh_resource = false;
  if (!cmc_read_byte(r, &b)) return false;
  switch (b) {
  case 0x00:
    if (!cmc_read_byte(r, &b)) return false;
    if (b != 0x11) return cmc_malformed(r, "invalid leading byte (0x%x) for component external kind", b);
    if (!cmc_read_u32(r, &idx) || !sp_get(v, sc, CMC_SP_CORE_TYPE, idx, &t)) return false;
    if (T(t).kind != CMC_T_CORE_MODULE) return invalid(v, "core type index %u is not a module type", idx);
    e->sort = CMC_SORT_CORE + CMC_CORE_MODULE;
    e->type = t;
    return true;
  case 0x01:
    if (!cmc_read_u32(r, &idx) || !sp_get(v, sc, CMC_SP_TYPE, idx, &t)) return false;
    if (T(t).kind != CMC_T_FUNC) return invalid(v, "type index %u is not a function type", idx);
    e->sort = CMC_SORT_FUNC;
    e->type = t;
    return true;
  case 0x02: {
    uint8_t k = 0;
    if (!cmc_read_byte(r, &k)) return false;
    /* valuebound (eq i | valtype); older encoders write the valtype alone */
    if (!cmc_peek_byte(r, &k)) return false;
    if (k == 0) {
      r->p++;
      if (!cmc_read_u32(r, &idx)) return false;
    } else {
      if (k == 1) r->p++;
      if (!read_valtype(v, r, sc, &t)) return false;
    }
    return invalid(v, "support for component model `value`s is not enabled");
  }
  case 0x03: {
    uint8_t k = 0;
    if (!cmc_read_byte(r, &k)) return false;
    e->sort = CMC_SORT_TYPE;
    if (k == 0) {
      if (!cmc_read_u32(r, &idx) || !sp_get(v, sc, CMC_SP_TYPE, idx, &t)) return false;
      e->type = t;
      return true;
    }
    if (k != 1) return cmc_malformed(r, "invalid leading byte (0x%x) for type bound", k);
    t = new_type(v, CMC_T_RESOURCE);
    if (t == CMC_NONE) return false;
    T(t).abstract_res = true;
    T(t).depth = 1;
    e->type = t;
    *fresh_resource = true;
    return true;
  }
  case 0x04:
    if (!cmc_read_u32(r, &idx) || !sp_get(v, sc, CMC_SP_TYPE, idx, &t)) return false;
    if (T(t).kind != CMC_T_COMPONENT) return invalid(v, "type index %u is not a component type", idx);
    e->sort = CMC_SORT_COMPONENT;
    e->type = t;
    return true;
  case 0x05:
    if (!cmc_read_u32(r, &idx) || !sp_get(v, sc, CMC_SP_TYPE, idx, &t)) return false;
    if (T(t).kind != CMC_T_INSTANCE) return invalid(v, "type index %u is not an instance type", idx);
    e->sort = CMC_SORT_INSTANCE;
    e->type = t;
    return true;
  default:
    return cmc_malformed(r, "invalid leading byte (0x%x) for component external kind", b);
  }
}

/* ---- external visibility (named types) ---- */

static bool type_named(vcx *v, cmc_tid id, const tidset *set, unsigned depth);

static bool valtype_named(vcx *v, cmc_tid id, const tidset *set, unsigned depth) {
  if (id == CMC_NONE) return true;
  return type_named(v, id, set, depth + 1);
}

/* the members of a defined type must be named (wasm-tools' all_valtypes_named_in_defined) */
static bool members_named_walk(vcx *v, cmc_tid id, const tidset *set, unsigned depth);

/* memoized per check (stamp v->t->gen): shared members are visited once */
static bool members_named(vcx *v, cmc_tid id, const tidset *set, unsigned depth) {
  if (T(id).mark == v->t->gen) return true;
  if (!members_named_walk(v, id, set, depth)) return false;
  T(id).mark = v->t->gen;
  return true;
}

static bool members_named_walk(vcx *v, cmc_tid id, const tidset *set, unsigned depth) {
  const cmc_type *ty = &T(id);
  if (depth > CMC_HARD_DEPTH) return true;
  switch (ty->kind) {
  case CMC_T_PRIM: case CMC_T_FLAGS: case CMC_T_ENUM: return true;
  case CMC_T_RECORD: case CMC_T_TUPLE: case CMC_T_VARIANT:
    for (uint32_t i = 0; i < ty->n; i++)
      if (!valtype_named(v, T(id).fields[i].type, set, depth)) return false;
    return true;
  case CMC_T_OWN: case CMC_T_BORROW: return set_has(set, ty->a);
  case CMC_T_FUNC:
    for (uint32_t i = 0; i < ty->n; i++)
      if (!valtype_named(v, T(id).fields[i].type, set, depth)) return false;
    return valtype_named(v, T(id).a, set, depth);
  case CMC_T_RESOURCE: case CMC_T_COMPONENT: return true;
  case CMC_T_INSTANCE:
    for (uint32_t i = 0; i < ty->nexports; i++) {
      const cmc_extern *e = &T(id).exports[i];
      if (e->sort == CMC_SORT_FUNC || e->sort == CMC_SORT_INSTANCE || e->sort == CMC_SORT_TYPE ||
          e->sort == CMC_SORT_VALUE)
        if (!members_named(v, e->type, set, depth + 1)) return false;
    }
    return true;
  default:
    return valtype_named(v, ty->a, set, depth) && valtype_named(v, ty->b, set, depth);
  }
}

static bool type_named(vcx *v, cmc_tid id, const tidset *set, unsigned depth) {
  const cmc_type *ty = &T(id);
  if (depth > CMC_HARD_DEPTH) return true;
  switch (ty->kind) {
  case CMC_T_PRIM: return true;
  case CMC_T_FLAGS: case CMC_T_ENUM: case CMC_T_RECORD: case CMC_T_VARIANT: return set_has(set, id);
  default: return members_named(v, id, set, depth);
  }
}

/* registers the named types an import/export brings and checks that everything its type
 * refers to is itself named (imported or exported) */
static bool register_named(vcx *v, scope *sc, bool import, const cmc_extern *e) {
  if (sc->kind == SC_INSTTYPE) return true;
  v->t->gen++; /* a fresh memo for members_named */
  tidset *set = import ? &sc->imported_types : &sc->exported_types;
  switch (e->sort) {
  case CMC_SORT_TYPE:
    if (!members_named(v, e->type, set, 0)) return false;
    if (import && !set_add(v, &sc->imported_types, e->type)) return false;
    return set_add(v, &sc->exported_types, e->type) || false;
  case CMC_SORT_INSTANCE:
    for (uint32_t i = 0; i < T(e->type).nexports; i++) {
      cmc_extern x = T(e->type).exports[i];
      if (!register_named(v, sc, import, &x)) return false;
    }
    return true;
  case CMC_SORT_FUNC: return members_named(v, e->type, set, 0);
  case CMC_SORT_VALUE: return valtype_named(v, e->type, set, 0);
  default: return true;
  }
}

/* ---- imports and exports ---- */

typedef struct rescx rescx;

static bool resource_named(rescx *sc, cmc_tid res, const char **name) {
  for (uint32_t i = 0; i < sc->ids.len; i++)
    if (sc->ids.v[i] == res) { *name = sc->names[i]; return true; }
  return false;
}

static bool name_resource(vcx *v, rescx *sc, cmc_tid res, const char *name) {
  const char *prev;
  if (resource_named(sc, res, &prev)) return true;
  const char **nn = grow(v, sc->names, &sc->cap, sc->ids.len, sizeof *nn);
  if (!nn) return oom(v);
  sc->names = nn;
  sc->names[sc->ids.len] = name;
  return set_add(v, &sc->ids, res);
}

static bool resource_name_known(rescx *sc, const char *label) {
  for (uint32_t i = 0; i < sc->ids.len; i++)
    if (!strcmp(sc->names[i], label)) return true;
  return false;
}

static bool check_resource_fn(vcx *v, rescx *sc, cmc_tid res, const char *expected) {
  const char *name;
  if (!resource_named(sc, res, &name))
    return invalid(v, "resource used in function does not have a name in this context");
  if (strcmp(name, expected) != 0)
    return invalid(v, "function does not match expected resource name `%s`", name);
  return true;
}

static bool validate_name_type(vcx *v, rescx *sc, const cmc_name *n, const cmc_extern *e) {
  if (n->kind != CMC_NAME_CONSTRUCTOR && n->kind != CMC_NAME_METHOD && n->kind != CMC_NAME_STATIC) return true;
  if (e->sort != CMC_SORT_FUNC) return invalid(v, "item is not a func");
  const cmc_type *f = &T(e->type);
  if (n->kind == CMC_NAME_CONSTRUCTOR) {
    if (f->async) return invalid(v, "constructor function cannot be async");
    if (f->a == CMC_NONE) return invalid(v, "function should return one value");
    cmc_tid rt = f->a, res = CMC_NONE;
    if (T(rt).kind == CMC_T_OWN) res = T(rt).a;
    else if (T(rt).kind == CMC_T_RESULT && T(rt).a != CMC_NONE && T(T(rt).a).kind == CMC_T_OWN)
      res = T(T(rt).a).a;
    if (res == CMC_NONE) return invalid(v, "function should return `(own $T)` or `(result (own $T))`");
    return check_resource_fn(v, sc, res, n->resource);
  }
  if (n->kind == CMC_NAME_METHOD) {
    if (f->n == 0) return invalid(v, "function should have at least one argument");
    if (strcmp(f->fields[0].name, "self") != 0) return invalid(v, "function should have a first argument called `self`");
    cmc_tid pt = f->fields[0].type;
    if (T(pt).kind != CMC_T_BORROW) return invalid(v, "function should take a first argument of `(borrow $T)`");
    return check_resource_fn(v, sc, T(pt).a, n->resource);
  }
  if (!resource_name_known(sc, n->resource)) return invalid(v, "static resource name is not known in this context");
  return true;
}

static bool add_extern(vcx *v, scope *sc, bool import, const extname *xn, cmc_extern *e) {
  const char *kind = import ? "import" : "export";
  cmc_name n;
  char why[300];
  if (!cmc_parse_name_ex(xn->name, v->opts->nested_names, &n, why, sizeof why))
    return invalid(v, "%s name `%s` is not a valid extern name: %s", kind, xn->name, why);
  if (!import && (n.kind == CMC_NAME_HASH || n.kind == CMC_NAME_URL || n.kind == CMC_NAME_DEPENDENCY))
    return invalid(v, "name `%s` is not a valid export name", xn->name);
  if (xn->implements) {
    if (v->opts->no_implements) return invalid(v, "the `cm-implements` feature is not active");
    if (n.kind != CMC_NAME_LABEL) return invalid(v, "name `%s` is not valid with `implements`", xn->name);
    if (e->sort != CMC_SORT_INSTANCE) return invalid(v, "only instances can have an `implements`");
    cmc_name in;
    if (!cmc_parse_name_ex(xn->implements, v->opts->nested_names, &in, why, sizeof why))
      return invalid(v, "`%s` is not a valid name: %s", xn->implements, why);
    if (in.kind != CMC_NAME_INTERFACE) return invalid(v, "name `%s` must be an interface", xn->implements);
  }
  if (xn->has_external_id && v->opts->no_implements) return invalid(v, "the `cm-implements` feature is not active");
  if (xn->has_version && e->sort != CMC_SORT_INSTANCE) return invalid(v, "only instances can have an `versionsuffix`");
  if (!cmc_interface_version(&n, xn->version_suffix, why, sizeof why))
    return invalid(v, "%s name `%s` is not valid: invalid interface version: %s", kind, xn->name, why);
  if (!validate_name_type(v, import ? &sc->ires : &sc->eres, &n, e)) {
    char pre[400];
    snprintf(pre, sizeof pre, "%s name `%s` is not valid", kind, xn->name);
    cmc_prefix_error(v->err, pre);
    return false;
  }
  extlist *l = import ? &sc->imports : &sc->exports;
  const char *key = cmc_name_key(&n, v->arena);
  if (!key) return oom(v);
  uint32_t h = l->hcap ? str_hash(key) & (l->hcap - 1) : 0;
  for (; l->hcap && l->hash[h] != UINT32_MAX; h = (h + 1) & (l->hcap - 1))
    if (!strcmp(l->keys[l->hash[h]], key))
      return invalid(v, "%s name `%s` conflicts with previous name `%s`", kind, xn->name, l->v[l->hash[h]].name);
  if (l->len >= 100000) return invalid(v, "%s count exceeds limit of 100000", kind);
  uint32_t cap = l->cap;
  cmc_extern *nv = grow(v, l->v, &cap, l->len, sizeof *nv);
  if (!nv) return oom(v);
  uint32_t cap2 = l->cap, cap3 = l->cap;
  cmc_name *nn = grow(v, l->names, &cap2, l->len, sizeof *nn);
  const char **nk = grow(v, l->keys, &cap3, l->len, sizeof *nk);
  if (!nn || !nk) return oom(v);
  l->v = nv;
  l->names = nn;
  l->keys = nk;
  l->cap = cap;
  l->keys[l->len] = key;
  if ((l->len + 1) * 2 > l->hcap) {
    uint32_t hc = l->hcap ? l->hcap * 2 : 16;
    uint32_t *nh = cmc_arena_alloc(v->arena, (size_t)hc * sizeof *nh);
    if (!nh) return oom(v);
    memset(nh, 0xff, (size_t)hc * sizeof *nh);
    for (uint32_t i = 0; i <= l->len; i++) {
      uint32_t j = str_hash(l->keys[i]) & (hc - 1);
      while (nh[j] != UINT32_MAX) j = (j + 1) & (hc - 1);
      nh[j] = i;
    }
    l->hash = nh;
    l->hcap = hc;
  } else {
    l->hash[h] = l->len;
  }
  e->name = xn->name;
  e->implements = xn->implements;
  e->external_id = xn->external_id;
  l->v[l->len] = *e;
  l->names[l->len] = n;
  l->len++;
  if (e->sort == CMC_SORT_TYPE && T(e->type).kind == CMC_T_RESOURCE)
    if (!name_resource(v, import ? &sc->ires : &sc->eres, e->type, xn->name)) return false;
  if (!register_named(v, sc, import, e)) {
    if (v->err->kind != CMREF_OK) return false;
    return invalid(v, "%s not valid to be used as %s", sort_name(e->sort), kind);
  }
  return true;
}

/* an instance type used as an import/export gets fresh copies of the resources it defines */
static bool freshen_instance(vcx *v, scope *sc, cmc_extern *e, bool import) {
  if (e->sort != CMC_SORT_INSTANCE) return true;
  cmc_type *it = &T(e->type);
  if (it->ndefined == 0) return true;
  cmc_map m = {0};
  uint32_t n = it->ndefined;
  for (uint32_t i = 0; i < n; i++) {
    cmc_tid fresh = new_type(v, CMC_T_RESOURCE);
    if (fresh == CMC_NONE) { cmc_map_free(&m); return false; }
    T(fresh).abstract_res = true;
    T(fresh).depth = 1;
    if (!cmc_map_add(&m, T(e->type).defined[i], fresh)) { cmc_map_free(&m); return oom(v); }
    tidset *target = import ? &sc->imported_res : &sc->defined_res;
    if (sc->kind == SC_INSTTYPE) target = &sc->defined_res;
    if (!set_add(v, target, fresh)) { cmc_map_free(&m); return false; }
  }
  cmc_tid nt = cmc_subst(v->t, v->arena, e->type, &m);
  cmc_map_free(&m);
  if (nt == CMC_NONE) return oom(v);
  if (nt == e->type) {
    /* the substitution left the type as is: copy so that `defined` can be cleared */
    nt = new_type(v, CMC_T_INSTANCE);
    if (nt == CMC_NONE) return false;
    T(nt) = T(e->type);
  }
  T(nt).ndefined = 0;
  e->type = nt;
  return true;
}

static int extern_space(const cmc_extern *e) { return sort_space(e->sort); }

/* a type import/export introduces a new type index; value types get a fresh identity so
 * that naming (external visibility) can tell them apart */
static bool named_copy(vcx *v, cmc_extern *e) {
  if (e->sort != CMC_SORT_TYPE) return true;
  if (T(e->type).kind == CMC_T_RESOURCE) {
    cmc_tid root = cmc_res_root(v->t, e->type);
    cmc_tid c = new_type(v, CMC_T_RESOURCE);
    if (c == CMC_NONE) return false;
    T(c) = T(root);
    T(c).alias_of = root;
    T(c).named_from = e->type;
    e->type = c;
    return true;
  }
  if (!cmc_is_valtype(v->t, e->type)) return true;
  cmc_tid c = new_type(v, T(e->type).kind);
  if (c == CMC_NONE) return false;
  T(c) = T(e->type);
  T(c).alias_of = e->type; /* substituting e->type (an import) substitutes its copies */
  e->type = c;
  return true;
}

static bool read_import(vcx *v, cmc_reader *r, scope *sc, bool decl) {
  extname xn;
  cmc_extern e = {0};
  bool fresh;
  if (!read_nameattributes(v, r, &xn) || !read_externtype(v, r, sc, &e, &fresh)) return false;
  (void)decl;
  if (fresh) {
    if (sc->kind == SC_COMPTYPE && !set_add(v, &sc->imported_res, e.type)) return false;
  }
  if (!freshen_instance(v, sc, &e, true) || !named_copy(v, &e)) return false;
  if (v->opts->wasmtime && sc->kind == SC_COMPONENT && !sc->parent && e.sort == CMC_SORT_COMPONENT)
    return invalid(v, "root-level component imports are not supported");
  if (!add_extern(v, sc, true, &xn, &e)) return false;
  if (!sp_push(v, sc, extern_space(&e), e.type)) return false;
  cmc_space *s = &sc->sp[extern_space(&e)];
  s->v[s->len - 1].def = CMC_DEF_IMPORT;
  return true;
}

static bool read_exportdecl(vcx *v, cmc_reader *r, scope *sc) {
  extname xn;
  cmc_extern e = {0};
  bool fresh;
  if (!read_nameattributes(v, r, &xn) || !read_externtype(v, r, sc, &e, &fresh)) return false;
  if (fresh && !set_add(v, &sc->defined_res, e.type)) return false;
  if (!freshen_instance(v, sc, &e, false) || !named_copy(v, &e)) return false;
  if (!add_extern(v, sc, false, &xn, &e)) return false;
  return sp_push(v, sc, extern_space(&e), e.type);
}

/* ---- declarations of component and instance types ---- */

static bool read_decls(vcx *v, cmc_reader *r, scope *sc) {
  uint32_t n = 0;
  if (!cmc_read_count(r, &n, 2)) return false;
  for (uint32_t i = 0; i < n; i++) {
    uint8_t b = 0;
    if (!cmc_read_byte(r, &b)) return false;
    switch (b) {
    case 0x00: if (!read_core_type(v, r, sc, true)) return false; break;
    case 0x01: if (!read_type_def(v, r, sc)) return false; break;
    case 0x02: if (!read_alias(v, r, sc)) return false; break;
    case 0x03:
      if (sc->kind != SC_COMPTYPE)
        return cmc_malformed(r, "invalid leading byte (0x%x) for component or instance type declaration", b);
      if (!read_import(v, r, sc, true)) return false;
      break;
    case 0x04: if (!read_exportdecl(v, r, sc)) return false; break;
    default:
      return cmc_malformed(r, "invalid leading byte (0x%x) for component or instance type declaration", b);
    }
  }
  return true;
}

/* ---- core types (core:type, module types) ---- */

typedef struct core_push_cx {
  vcx *v;
  scope *sc;
  tidset *ownspace; /* module type's own core type space, or NULL */
} core_push_cx;

static bool core_push(void *p, cmc_tid id) {
  core_push_cx *c = p;
  if (c->ownspace) return set_add(c->v, c->ownspace, id);
  return sp_push(c->v, c->sc, CMC_SP_CORE_TYPE, id);
}

static cmc_core_space scope_core_space(vcx *v, scope *sc) {
  cmc_space *s = &sc->sp[CMC_SP_CORE_TYPE];
  cmc_core_space sp = {s->len ? &s->v[0].type : NULL, s->len,
                       (uint32_t)(sizeof(cmc_index_entry) / sizeof(cmc_tid)), v->t, 0};
  return sp;
}

static bool outer_scope(vcx *v, scope *sc, uint32_t count, scope **out, bool *crosses_component);

static bool read_module_type(vcx *v, cmc_reader *r, scope *sc, cmc_tid *out) {
  uint32_t n = 0;
  tidset types = {0};
  tidset imports_names = {0};
  (void)imports_names;
  cmc_core_extern *imps = NULL, *exps = NULL;
  uint32_t nimps = 0, nexps = 0, capi = 0, cape = 0;
  if (!cmc_read_count(r, &n, 2)) return false;
  for (uint32_t i = 0; i < n; i++) {
    uint8_t b = 0;
    cmc_core_space sp = {types.v, types.len, 1, v->t, 0};
    if (!cmc_read_byte(r, &b)) return false;
    if (b == 0x00) {
      cmc_core_extern e = {0};
      if (!cmc_read_name(r, &e.module) || !cmc_read_name(r, &e.name) ||
          !cmc_read_core_externtype(r, v->t, &sp, &e))
        return false;
      WORK(nimps);
      for (uint32_t k = 0; k < nimps; k++)
        if (!strcmp(imps[k].module, e.module) && !strcmp(imps[k].name, e.name))
          return invalid(v, "duplicate import name `%s:%s`", e.module, e.name);
      imps = grow(v, imps, &capi, nimps, sizeof *imps);
      if (!imps) return oom(v);
      imps[nimps++] = e;
    } else if (b == 0x01) {
      uint8_t c = 0;
      if (!cmc_read_byte(r, &c)) return false;
      if (c == 0x50) return invalid(v, "invalid leading byte (0x50) for type definition: module types may not nest");
      if (c == 0x00) {
        if (!cmc_read_byte(r, &c)) return false;
        if (c != 0x50) return cmc_malformed(r, "invalid leading byte (0x%x) for type definition", c);
      }
      core_push_cx cx = {v, sc, &types};
      if (!cmc_read_core_rectype(r, v->t, c, &sp, core_push, &cx)) return false;
    } else if (b == 0x02) {
      uint8_t k, t;
      uint32_t ct = 0, idx = 0;
      if (!cmc_read_byte(r, &k)) return false;
      if (k != 0x10) return cmc_malformed(r, "invalid leading byte (0x%x) for outer alias kind", k);
      if (!cmc_read_byte(r, &t)) return false;
      if (t != 0x01) return cmc_malformed(r, "invalid leading byte (0x%x) for outer alias target", t);
      if (!cmc_read_u32(r, &ct) || !cmc_read_u32(r, &idx)) return false;
      cmc_tid id = CMC_NONE;
      if (ct == 0) {
        if (idx >= types.len) return invalid(v, "unknown type %u: type index out of bounds", idx);
        id = types.v[idx];
      } else {
        scope *target = NULL;
        bool crosses;
        if (!outer_scope(v, sc, ct - 1, &target, &crosses)) return false;
        if (!sp_get(v, target, CMC_SP_CORE_TYPE, idx, &id)) return false;
        if (T(id).kind == CMC_T_CORE_MODULE) return invalid(v, "cannot alias a module type into a module type");
      }
      if (!set_add(v, &types, id)) return false;
    } else if (b == 0x03) {
      cmc_core_extern e = {0};
      if (!cmc_read_name(r, &e.name) || !cmc_read_core_externtype(r, v->t, &sp, &e)) return false;
      WORK(nexps);
      for (uint32_t k = 0; k < nexps; k++)
        if (!strcmp(exps[k].name, e.name)) return invalid(v, "export name `%s` already defined", e.name);
      exps = grow(v, exps, &cape, nexps, sizeof *exps);
      if (!exps) return oom(v);
      exps[nexps++] = e;
    } else {
      return cmc_malformed(r, "invalid leading byte (0x%x) for type definition", b);
    }
  }
  cmc_tid id = new_type(v, CMC_T_CORE_MODULE);
  if (id == CMC_NONE) return false;
  T(id).cimports = imps;
  T(id).ncimports = nimps;
  T(id).cexports = exps;
  T(id).ncexports = nexps;
  *out = id;
  return true;
}

static bool read_core_type(vcx *v, cmc_reader *r, scope *sc, bool in_decl) {
  uint8_t b = 0;
  (void)in_decl;
  if (!cmc_read_byte(r, &b)) return false;
  if (b == 0x50) {
    cmc_tid id = CMC_NONE;
    return read_module_type(v, r, sc, &id) && sp_push(v, sc, CMC_SP_CORE_TYPE, id);
  }
  if (b == 0x00) {
    if (!cmc_read_byte(r, &b)) return false;
    if (b != 0x50) return cmc_malformed(r, "invalid leading byte (0x%x) for core type", b);
  }
  cmc_core_space sp = scope_core_space(v, sc);
  core_push_cx cx = {v, sc, NULL};
  return cmc_read_core_rectype(r, v->t, b, &sp, core_push, &cx);
}

/* ---- aliases ---- */

static bool outer_scope(vcx *v, scope *sc, uint32_t count, scope **out, bool *crosses) {
  scope *s = sc;
  *crosses = false;
  for (uint32_t i = 0; i < count; i++) {
    if (s->kind == SC_COMPONENT) *crosses = true;
    s = s->parent;
    if (!s) return invalid(v, "invalid outer alias count of %u", count);
  }
  *out = s;
  return true;
}

static bool find_export(const cmc_extern *v, uint32_t n, const char *name, const cmc_extern **out) {
  for (uint32_t i = 0; i < n; i++)
    if (!strcmp(v[i].name, name)) { *out = &v[i]; return true; }
  return false;
}

static bool alias_export(vcx *v, cmc_reader *r, scope *sc, int sort) {
  uint32_t idx = 0;
  const char *name;
  cmc_tid it = CMC_NONE;
  if (!cmc_read_u32(r, &idx) || !cmc_read_name(r, &name)) return false;
  if (sc->kind != SC_COMPONENT && sort != CMC_SORT_TYPE && sort != CMC_SORT_INSTANCE)
    return invalid(v, "aliases in a component or instance type may only refer to types or instances");
  if (!sp_get(v, sc, CMC_SP_INSTANCE, idx, &it)) return false;
  const cmc_extern *e;
  WORK(T(it).nexports);
  if (!find_export(T(it).exports, T(it).nexports, name, &e))
    return invalid(v, "instance %u has no export named `%s`", idx, name);
  if (e->sort != sort) return invalid(v, "export `%s` for instance %u is not a %s", name, idx, sort_name(sort));
  return sp_push(v, sc, sort_space(sort), e->type);
}

static bool alias_core_export(vcx *v, cmc_reader *r, scope *sc, int sort) {
  uint32_t idx = 0;
  const char *name;
  cmc_tid it = CMC_NONE;
  if (!cmc_read_u32(r, &idx) || !cmc_read_name(r, &name)) return false;
  if (sc->kind != SC_COMPONENT)
    return invalid(v, "aliases in a component or instance type may only refer to types or instances");
  if (!sp_get(v, sc, CMC_SP_CORE_INSTANCE, idx, &it)) return false;
  const cmc_core_extern *e = NULL;
  WORK(T(it).ncexports);
  for (uint32_t i = 0; i < T(it).ncexports; i++)
    if (!strcmp(T(it).cexports[i].name, name)) { e = &T(it).cexports[i]; break; }
  if (!e) return invalid(v, "core instance %u has no export named `%s`", idx, name);
  if (CMC_SORT_CORE + e->kind != sort)
    return invalid(v, "export `%s` for core instance %u is not a %s", name, idx, sort_name(sort));
  if (sort == CMC_SORT_CORE + CMC_CORE_FUNC) return sp_push(v, sc, CMC_SP_CORE_FUNC, e->func);
  /* tables, memories, globals, tags: keep the extern description as a core type node */
  cmc_tid d = new_type(v, CMC_T_CORE_OTHER);
  if (d == CMC_NONE) return false;
  T(d).cexports = cmc_arena_alloc(v->arena, sizeof *e);
  if (!T(d).cexports) return oom(v);
  T(d).cexports[0] = *e;
  T(d).ncexports = 1;
  return sp_push(v, sc, sort_space(sort), d);
}

static bool alias_outer(vcx *v, cmc_reader *r, scope *sc, int sort) {
  uint32_t ct = 0, idx = 0;
  scope *target = NULL;
  bool crosses;
  cmc_tid id = CMC_NONE;
  if (!cmc_read_u32(r, &ct) || !cmc_read_u32(r, &idx)) return false;
  if (!outer_scope(v, sc, ct, &target, &crosses)) return false;
  int space = sort_space(sort);
  if (!sp_get(v, target, space, idx, &id)) return false;
  if (sort == CMC_SORT_TYPE && crosses && (T(id).has_resource || T(id).kind == CMC_T_RESOURCE))
    return invalid(v, "cannot alias outer type which transitively refers to resources not defined in the current component");
  if (sc->kind != SC_COMPONENT && sort != CMC_SORT_TYPE && sort != CMC_SORT_CORE + CMC_CORE_TYPE)
    return invalid(v, "aliases in a component or instance type may only refer to types or instances");
  return sp_push(v, sc, space, id);
}

static bool read_alias(vcx *v, cmc_reader *r, scope *sc) {
  uint8_t b1, b2 = 0, target;
  if (!cmc_read_byte(r, &b1)) return false;
  if (b1 == 0x00 && !cmc_read_byte(r, &b2)) return false;
  if (!cmc_read_byte(r, &target)) return false;
  uint8_t shown = b1 == 0 ? b2 : b1;
  int sort = b1 == 0 ? CMC_SORT_CORE + b2 : b1;
  switch (target) {
  case 0x00:
    if ((b1 == 0 && b2 != 0x11) || b1 > 5)
      return cmc_malformed(r, "invalid leading byte (0x%x) for component external kind", shown);
    return alias_export(v, r, sc, sort);
  case 0x01:
    if (b1 != 0 || b2 > 0x04) return cmc_malformed(r, "invalid leading byte (0x%x) for core external kind", shown);
    return alias_core_export(v, r, sc, sort);
  case 0x02:
    if (!((b1 == 0 && (b2 == 0x10 || b2 == 0x11)) || b1 == 0x03 || b1 == 0x04))
      return cmc_malformed(r, "invalid leading byte (0x%x) for component outer alias kind", shown);
    return alias_outer(v, r, sc, sort);
  default:
    return cmc_malformed(r, "invalid leading byte (0x%x) for alias", target);
  }
}

/* ---- core instances ---- */

static bool core_instance_type(vcx *v, cmc_core_extern *exps, uint32_t n, cmc_tid *out) {
  cmc_tid id = new_type(v, CMC_T_CORE_INSTANCE);
  if (id == CMC_NONE) return false;
  T(id).cexports = exps;
  T(id).ncexports = n;
  *out = id;
  return true;
}

static bool core_instantiate(vcx *v, cmc_reader *r, scope *sc) {
  uint32_t midx = 0, n = 0;
  cmc_tid mt = CMC_NONE;
  if (!cmc_read_u32(r, &midx) || !cmc_read_count(r, &n, 3)) return false;
  const char **names = cmc_alloc(r, n, sizeof *names);
  uint32_t *insts = cmc_alloc(r, n, sizeof *insts);
  if (!names || !insts) return false;
  for (uint32_t i = 0; i < n; i++) {
    uint8_t k = 0;
    if (!cmc_read_name(r, &names[i]) || !cmc_read_byte(r, &k)) return false;
    if (k != 0x12) return cmc_malformed(r, "invalid leading byte (0x%x) for instantiation arg kind", k);
    if (!cmc_read_u32(r, &insts[i])) return false;
  }
  if (!sp_get(v, sc, CMC_SP_CORE_MODULE, midx, &mt)) return false;
  for (uint32_t i = 0; i < n; i++) {
    cmc_tid it = CMC_NONE;
    if (!sp_get(v, sc, CMC_SP_CORE_INSTANCE, insts[i], &it)) return false;
    WORK(i);
    for (uint32_t k = 0; k < i; k++)
      if (!strcmp(names[k], names[i])) return invalid(v, "duplicate module instantiation argument named `%s`", names[i]);
  }
  for (uint32_t i = 0; i < T(mt).ncimports; i++) {
    const cmc_core_extern *imp = &T(mt).cimports[i];
    uint32_t a = n;
    WORK(n);
    for (uint32_t k = 0; k < n; k++)
      if (!strcmp(names[k], imp->module)) { a = k; break; }
    if (a == n) return invalid(v, "missing module instantiation argument named `%s`", imp->module);
    cmc_tid it = sc->sp[CMC_SP_CORE_INSTANCE].v[insts[a]].type;
    const cmc_core_extern *found = NULL;
    WORK(T(it).ncexports);
    for (uint32_t k = 0; k < T(it).ncexports; k++)
      if (!strcmp(T(it).cexports[k].name, imp->name)) { found = &T(it).cexports[k]; break; }
    if (!found)
      return invalid(v, "module instantiation argument `%s` does not export an item named `%s`", imp->module, imp->name);
    cmc_subcx cx = {v->t, NULL, NULL, v->err, 0, 0};
    if (!cmc_sub_core_extern(&cx, found, imp)) {
      char pre[400];
      snprintf(pre, sizeof pre, "type mismatch for export `%s` of module instantiation argument `%s`",
               imp->name, imp->module);
      cmc_prefix_error(v->err, pre);
      return false;
    }
  }
  cmc_tid id = CMC_NONE;
  return core_instance_type(v, T(mt).cexports, T(mt).ncexports, &id) && sp_push(v, sc, CMC_SP_CORE_INSTANCE, id);
}

static bool core_inline_exports(vcx *v, cmc_reader *r, scope *sc) {
  uint32_t n = 0;
  if (!cmc_read_count(r, &n, 3)) return false;
  cmc_core_extern *exps = cmc_alloc(r, n, sizeof *exps);
  if (!exps) return false;
  for (uint32_t i = 0; i < n; i++) {
    uint8_t k = 0;
    uint32_t idx = 0;
    cmc_tid t = CMC_NONE;
    if (!cmc_read_name(r, &exps[i].name) || !cmc_read_byte(r, &k)) return false;
    if (!is_core_sort_byte(k)) return cmc_malformed(r, "invalid leading byte (0x%x) for core external kind", k);
    if (!cmc_read_u32(r, &idx)) return false;
    if (k > 0x04) return invalid(v, "only core functions, tables, memories, globals and tags can be exported");
    if (!sp_get(v, sc, sort_space(CMC_SORT_CORE + k), idx, &t)) return false;
    WORK(i);
    for (uint32_t j = 0; j < i; j++)
      if (!strcmp(exps[j].name, exps[i].name))
        return invalid(v, "export name `%s` already defined", exps[i].name);
    const char *name = exps[i].name;
    if (k == CMC_CORE_FUNC) {
      memset(&exps[i], 0, sizeof exps[i]);
      exps[i].kind = CMC_CORE_FUNC;
      exps[i].func = t;
    } else {
      exps[i] = T(t).cexports[0];
    }
    exps[i].name = name;
    exps[i].module = NULL;
  }
  cmc_tid id = CMC_NONE;
  return core_instance_type(v, exps, n, &id) && sp_push(v, sc, CMC_SP_CORE_INSTANCE, id);
}

static bool read_core_instance(vcx *v, cmc_reader *r, scope *sc) {
  uint8_t b = 0;
  if (!cmc_read_byte(r, &b)) return false;
  if (b == 0x00) return core_instantiate(v, r, sc);
  if (b == 0x01) return core_inline_exports(v, r, sc);
  return cmc_malformed(r, "invalid leading byte (0x%x) for core instance", b);
}

/* ---- component instances ---- */

static bool sortidx_type(vcx *v, scope *sc, int sort, uint32_t idx, cmc_tid *out) {
  if (sort >= CMC_SORT_CORE && sort != CMC_SORT_CORE + CMC_CORE_MODULE)
    return invalid(v, "only modules can be referred to from component-level core sorts");
  if (sort == CMC_SORT_VALUE) return invalid(v, "support for component model `value`s is not enabled");
  return sp_get(v, sc, sort_space(sort), idx, out);
}

/* the types an instantiation argument supplies for the (eq-bounded) type imports of the
 * component, through instance imports too (wasm-tools' register_type_renamings) */
static bool map_type_imports(vcx *v, const cmc_extern *imp, const cmc_extern *arg, cmc_map *map,
                             unsigned depth) {
  if (depth > CMC_HARD_DEPTH || imp->sort != arg->sort) return true;
  if (imp->sort == CMC_SORT_TYPE) {
    if (T(imp->type).kind == CMC_T_RESOURCE || arg->type == imp->type) return true;
    map->types = true;
    return cmc_map_add(map, imp->type, arg->type) || oom(v);
  }
  if (imp->sort != CMC_SORT_INSTANCE) return true;
  const cmc_type *it = &T(imp->type), *at = &T(arg->type);
  WORK((unsigned long)it->nexports * at->nexports);
  for (uint32_t i = 0; i < T(imp->type).nexports; i++)
    for (uint32_t k = 0; k < T(arg->type).nexports; k++)
      if (!strcmp(T(imp->type).exports[i].name, T(arg->type).exports[k].name)) {
        if (!map_type_imports(v, &T(imp->type).exports[i], &T(arg->type).exports[k], map, depth + 1))
          return false;
        break;
      }
  (void)it;
  (void)at;
  return true;
}

static bool instantiate(vcx *v, cmc_reader *r, scope *sc) {
  uint32_t cidx = 0, n = 0;
  if (!cmc_read_u32(r, &cidx) || !cmc_read_count(r, &n, 3)) return false;
  cmc_extern *args = cmc_alloc(r, n, sizeof *args);
  uint32_t *idxs = cmc_alloc(r, n, sizeof *idxs);
  if (!args || !idxs) return false;
  for (uint32_t i = 0; i < n; i++) {
    if (!cmc_read_name(r, &args[i].name) || !read_sort(r, &args[i].sort, "component external kind") ||
        !cmc_read_u32(r, &idxs[i]))
      return false;
  }
  cmc_tid ct = CMC_NONE;
  if (!sp_get(v, sc, CMC_SP_COMPONENT, cidx, &ct)) return false;
  for (uint32_t i = 0; i < n; i++) {
    if (!sortidx_type(v, sc, args[i].sort, idxs[i], &args[i].type)) return false;
    WORK(i);
    for (uint32_t k = 0; k < i; k++)
      if (cmc_label_eq(args[k].name, args[i].name))
        return invalid(v, "instantiation argument `%s` conflicts with previous argument `%s`", args[i].name, args[k].name);
  }
  WORK((unsigned long)T(ct).nimports * (n + 1));
  cmc_map map = {0};
  bool ok = false;
  extern bool cmc_bind_resources(cmc_types *, const cmc_extern *, uint32_t, const cmc_extern *, uint32_t,
                                 const cmc_tid *, uint32_t, cmc_map *);
  if (!cmc_bind_resources(v->t, args, n, T(ct).imports, T(ct).nimports, T(ct).imported_res,
                          T(ct).nimported_res, &map)) {
    oom(v);
    goto done;
  }
  for (uint32_t i = 0; i < T(ct).nimports; i++) {
    cmc_extern imp = T(ct).imports[i];
    const cmc_extern *arg = NULL;
    for (uint32_t k = 0; k < n; k++)
      if (!strcmp(args[k].name, imp.name)) { arg = &args[k]; break; }
    if (!arg) { invalid(v, "missing import named `%s`", imp.name); goto done; }
    if (arg->sort != imp.sort) {
      invalid(v, "type mismatch for import `%s`: expected %s, found %s", imp.name, sort_name(imp.sort), sort_name(arg->sort));
      goto done;
    }
    cmc_subcx cx = {v->t, NULL, &map, v->err, 0, 0};
    if (!cmc_sub_extern(&cx, arg->sort, arg->type, imp.type)) {
      char pre[400];
      snprintf(pre, sizeof pre, "type mismatch for import `%s`", imp.name);
      cmc_prefix_error(v->err, pre);
      goto done;
    }
  }
  /* the instance's exports: imported types replaced by the arguments', defined
   * resources by fresh ones */
  for (uint32_t i = 0; i < T(ct).nimports; i++) {
    const cmc_extern *imp = &T(ct).imports[i];
    for (uint32_t k = 0; k < n; k++)
      if (!strcmp(args[k].name, imp->name) && !map_type_imports(v, imp, &args[k], &map, 0)) goto done;
  }
  for (uint32_t i = 0; i < T(ct).ndefined; i++) {
    cmc_tid fresh = new_type(v, CMC_T_RESOURCE);
    if (fresh == CMC_NONE) goto done;
    T(fresh).abstract_res = true;
    T(fresh).depth = 1;
    if (!cmc_map_add(&map, T(ct).defined[i], fresh)) { oom(v); goto done; }
  }
  uint32_t ne = T(ct).nexports;
  cmc_extern *exps = cmc_alloc(r, ne, sizeof *exps);
  if (!exps) goto done;
  for (uint32_t i = 0; i < ne; i++) exps[i] = T(ct).exports[i];
  if (!cmc_subst_externs(v->t, v->arena, exps, ne, &map)) { oom(v); goto done; }
  cmc_tid it = new_type(v, CMC_T_INSTANCE);
  if (it == CMC_NONE) goto done;
  T(it).exports = exps;
  T(it).nexports = ne;
  T(it).has_resource = true;
  for (uint32_t i = 0; i < ne; i++)
    if (T(exps[i].type).depth + 1 > T(it).depth) T(it).depth = T(exps[i].type).depth + 1;
  ok = set_extern_size(v, it) && sp_push(v, sc, CMC_SP_INSTANCE, it);
done:
  cmc_map_free(&map);
  return ok;
}

static bool inline_exports(vcx *v, cmc_reader *r, scope *sc) {
  uint32_t n = 0;
  if (!cmc_read_count(r, &n, 3)) return false;
  scope tmp;
  memset(&tmp, 0, sizeof tmp);
  tmp.kind = SC_INSTTYPE;
  for (uint32_t i = 0; i < n; i++) {
    extname xn;
    cmc_extern e = {0};
    uint32_t idx = 0;
    if (!read_nameattributes(v, r, &xn) || !read_sort(r, &e.sort, "component external kind") ||
        !cmc_read_u32(r, &idx))
      return false;
    if (!sortidx_type(v, sc, e.sort, idx, &e.type)) return false;
    /* resource names of the enclosing scope stay visible for [method] checks */
    tmp.eres = sc->eres;
    tmp.eres.cap = 0;
    if (!add_extern(v, &tmp, false, &xn, &e)) return false;
  }
  cmc_tid it = new_type(v, CMC_T_INSTANCE);
  if (it == CMC_NONE) return false;
  T(it).exports = tmp.exports.v;
  T(it).nexports = tmp.exports.len;
  T(it).has_resource = true;
  return set_extern_size(v, it) && sp_push(v, sc, CMC_SP_INSTANCE, it);
}

static bool read_instance(vcx *v, cmc_reader *r, scope *sc) {
  uint8_t b = 0;
  if (!cmc_read_byte(r, &b)) return false;
  if (b == 0x00) return instantiate(v, r, sc);
  if (b == 0x01) return inline_exports(v, r, sc);
  return cmc_malformed(r, "invalid leading byte (0x%x) for instance", b);
}

/* ---- canonical definitions ---- */

typedef struct canonopts {
  int encoding; /* -1: none given */
  bool has_memory, mem64, has_realloc, has_post_return, async, has_callback, gc, has_core_type;
  uint32_t memory, realloc, post_return, callback;
  cmc_tid core_type;
} canonopts;

static cmc_tid core_ft(vcx *v, const char *params, const char *results) {
  cmc_tid id = new_type(v, CMC_T_CORE_FUNC);
  if (id == CMC_NONE) return CMC_NONE;
  size_t np = strlen(params), nr = strlen(results);
  cmc_core_valtype *p = cmc_arena_alloc(v->arena, (np + nr + 1) * sizeof *p);
  if (!p) { oom(v); return CMC_NONE; }
  for (size_t i = 0; i < np + nr; i++) {
    char c = i < np ? params[i] : results[i - np];
    p[i].code = c == 'I' ? 0x7e : c == 'f' ? 0x7d : c == 'F' ? 0x7c : 0x7f;
  }
  T(id).params = p;
  T(id).nparams = (uint32_t)np;
  T(id).results = p + np;
  T(id).nresults = (uint32_t)nr;
  return id;
}

static cmc_tid core_ft_flat(vcx *v, const cmc_flat *params, const cmc_flat *results) {
  char ps[CMC_MAX_FLAT_PARAMS + 3], rs[CMC_MAX_FLAT_PARAMS + 3];
  uint32_t i = 0;
  for (i = 0; i < params->len && i < CMC_MAX_FLAT_PARAMS + 2; i++)
    ps[i] = params->v[i] == 0x7e ? 'I' : params->v[i] == 0x7d ? 'f' : params->v[i] == 0x7c ? 'F' : 'i';
  ps[i] = 0;
  for (i = 0; i < results->len && i < CMC_MAX_FLAT_PARAMS + 2; i++)
    rs[i] = results->v[i] == 0x7e ? 'I' : results->v[i] == 0x7d ? 'f' : results->v[i] == 0x7c ? 'F' : 'i';
  rs[i] = 0;
  return core_ft(v, ps, rs);
}

static const char *encoding_name(int e) {
  return e == 0 ? "utf8" : e == 1 ? "utf16" : "latin1-utf16";
}

static bool read_opts(vcx *v, cmc_reader *r, scope *sc, canonopts *o) {
  uint32_t n = 0;
  memset(o, 0, sizeof *o);
  o->encoding = -1;
  if (!cmc_read_count(r, &n, 1)) return false;
  for (uint32_t i = 0; i < n; i++) {
    uint8_t b = 0;
    uint32_t x = 0;
    cmc_tid t = CMC_NONE;
    if (!cmc_read_byte(r, &b)) return false;
    switch (b) {
    case 0x00: case 0x01: case 0x02:
      if (o->encoding >= 0)
        return invalid(v, "canonical encoding option `%s` conflicts with option `%s`", encoding_name(o->encoding), encoding_name(b));
      o->encoding = b;
      break;
    case 0x03:
      if (!cmc_read_u32(r, &x)) return false;
      if (o->has_memory) return invalid(v, "canonical option `memory` is specified more than once");
      if (!sp_get(v, sc, CMC_SP_CORE_MEMORY, x, &t)) return false;
      o->has_memory = true;
      o->memory = x;
      o->mem64 = T(t).cexports[0].is64;
      if (T(t).cexports[0].shared) return invalid(v, "mismatch in the shared flag for memories");
      break;
    case 0x04:
      if (!cmc_read_u32(r, &x)) return false;
      if (o->has_realloc) return invalid(v, "canonical option `realloc` is specified more than once");
      if (!sp_get(v, sc, CMC_SP_CORE_FUNC, x, &t)) return false;
      o->has_realloc = true;
      o->realloc = x;
      break;
    case 0x05:
      if (!cmc_read_u32(r, &x)) return false;
      if (o->has_post_return) return invalid(v, "canonical option `post-return` is specified more than once");
      if (!sp_get(v, sc, CMC_SP_CORE_FUNC, x, &t)) return false;
      o->has_post_return = true;
      o->post_return = x;
      break;
    case 0x06:
      if (o->async) return invalid(v, "canonical option `async` is specified more than once");
      o->async = true;
      break;
    case 0x09:
      if (o->gc) return invalid(v, "canonical option `gc` is specified more than once");
      o->gc = true;
      break;
    case 0x08:
      if (!cmc_read_u32(r, &x)) return false;
      if (o->has_core_type) return invalid(v, "canonical option `core type` is specified more than once");
      if (!sp_get(v, sc, CMC_SP_CORE_TYPE, x, &t)) return false;
      if (T(t).kind != CMC_T_CORE_FUNC) return invalid(v, "core type index %u is not a function type", x);
      o->has_core_type = true;
      o->core_type = t;
      break;
    case 0x07:
      if (!cmc_read_u32(r, &x)) return false;
      if (o->has_callback) return invalid(v, "canonical option `callback` is specified more than once");
      if (!sp_get(v, sc, CMC_SP_CORE_FUNC, x, &t)) return false;
      o->has_callback = true;
      o->callback = x;
      break;
    default:
      return cmc_malformed(r, "invalid leading byte (0x%x) for canonical option", b);
    }
  }
  if (o->has_core_type && !o->gc) return invalid(v, "cannot specify `core-type` without `gc`");
  if (o->has_realloc && !o->has_memory)
    return invalid(v, "canonical option `realloc` requires `memory` to also be specified");
  if (o->has_callback && !o->async) return invalid(v, "cannot specify callback without async");
  if (o->has_post_return && o->async) return invalid(v, "cannot specify post-return function in async");
  if (o->has_realloc) {
    cmc_tid t = sc->sp[CMC_SP_CORE_FUNC].v[o->realloc].type;
    const cmc_type *f = &T(t);
    char want = o->mem64 ? 'I' : 'i';
    bool ok = f->nparams == 4 && f->nresults == 1;
    for (uint32_t i = 0; ok && i < 4; i++) ok = f->params[i].code == (want == 'I' ? 0x7e : 0x7f);
    if (ok) ok = f->results[0].code == (want == 'I' ? 0x7e : 0x7f);
    if (!ok) return invalid(v, "canonical option `realloc` uses a core function with an incorrect signature");
  }
  return true;
}

static bool require_memory(vcx *v, const canonopts *o) {
  if (!o->has_memory) return invalid(v, "canonical option `memory` is required");
  return true;
}

static bool require_realloc(vcx *v, const canonopts *o) {
  if (!require_memory(v, o)) return false;
  if (!o->has_realloc) return invalid(v, "canonical option `realloc` is required");
  return true;
}

static bool contains_ptr(vcx *v, cmc_tid t, unsigned depth) {
  (void)depth;
  return t != CMC_NONE && T(t).has_ptr;
}

static void flat_types(vcx *v, cmc_tid ft, bool p64, cmc_flat *params, cmc_flat *results) {
  memset(params, 0, sizeof *params);
  memset(results, 0, sizeof *results);
  for (uint32_t i = 0; i < T(ft).n; i++) cmc_flatten_type(v->t, T(ft).fields[i].type, p64, params);
  if (T(ft).a != CMC_NONE) cmc_flatten_type(v->t, T(ft).a, p64, results);
}

static void flat_set(cmc_flat *f, uint8_t code) {
  f->len = 1;
  f->v[0] = code;
}

static void flat_append(cmc_flat *f, uint8_t code) {
  if (f->len < sizeof f->v) f->v[f->len] = code;
  f->len++;
}

/* the core signature of lifting or lowering ft (wasm-tools' ComponentFuncType::lower,
 * CanonicalABI.md flatten_functype) with the memory/realloc requirements */
static bool lowered_sig(vcx *v, cmc_tid ft, const canonopts *o, bool lift, cmc_tid *out) {
  uint8_t ptr = o->mem64 ? 0x7e : 0x7f;
  cmc_flat p, res;
  flat_types(v, ft, o->mem64, &p, &res);
  for (uint32_t i = 0; i < T(ft).n; i++) {
    cmc_tid pt = T(ft).fields[i].type;
    if (lift ? !o->has_realloc : !o->has_memory)
      if (contains_ptr(v, pt, 0) && !(lift ? require_realloc(v, o) : require_memory(v, o))) return false;
  }
  uint32_t maxp = (!lift && o->async) ? CMC_MAX_FLAT_ASYNC_PARAMS : CMC_MAX_FLAT_PARAMS;
  if (p.len > maxp) {
    flat_set(&p, ptr);
    if (!require_memory(v, o)) return false;
    if (lift && !require_realloc(v, o)) return false;
  }
  cmc_tid rt = T(ft).a;
  if (rt != CMC_NONE && !lift && !o->has_realloc && contains_ptr(v, rt, 0) && !require_realloc(v, o)) return false;
  if (!o->async) {
    if (res.len > CMC_MAX_FLAT_RESULTS) {
      if (!require_memory(v, o)) return false;
      if (lift) flat_set(&res, ptr);
      else { flat_append(&p, ptr); res.len = 0; }
    }
  } else if (!lift) {
    if (rt != CMC_NONE) {
      flat_append(&p, 0x7f);
      if (!require_memory(v, o)) return false;
    }
    flat_set(&res, 0x7f);
  } else {
    if (rt != CMC_NONE && (res.len > CMC_MAX_FLAT_PARAMS || contains_ptr(v, rt, 0)) && !require_memory(v, o))
      return false;
    res.len = 0;
    if (o->has_callback) flat_set(&res, 0x7f);
  }
  *out = core_ft_flat(v, &p, &res);
  return *out != CMC_NONE;
}

extern void cmc_core_types_debug(const cmc_core_valtype *v, uint32_t n, char *buf, size_t len);

static bool canon_lift(vcx *v, cmc_reader *r, scope *sc) {
  uint8_t b = 0;
  uint32_t fidx = 0, tidx = 0;
  canonopts o;
  if (!cmc_read_byte(r, &b)) return false;
  if (b != 0x00) return cmc_malformed(r, "invalid leading byte (0x%x) for canonical function lift", b);
  if (!cmc_read_u32(r, &fidx) || !read_opts(v, r, sc, &o) || !cmc_read_u32(r, &tidx)) return false;
  cmc_tid core = CMC_NONE, ft = CMC_NONE, sig = CMC_NONE;
  if (!sp_get(v, sc, CMC_SP_CORE_FUNC, fidx, &core) || !sp_get(v, sc, CMC_SP_TYPE, tidx, &ft)) return false;
  if (T(ft).kind != CMC_T_FUNC) return invalid(v, "type index %u is not a function type", tidx);
  if (o.has_post_return) {
    const cmc_type *pr = &T(sc->sp[CMC_SP_CORE_FUNC].v[o.post_return].type);
    const cmc_type *c = &T(core);
    bool ok = pr->nresults == 0 && pr->nparams == c->nresults;
    for (uint32_t i = 0; ok && i < pr->nparams; i++) ok = pr->params[i].code == c->results[i].code;
    if (!ok) return invalid(v, "canonical option `post-return` uses a core function with an incorrect signature");
  }
  if (o.has_callback) {
    const cmc_type *cb = &T(sc->sp[CMC_SP_CORE_FUNC].v[o.callback].type);
    bool ok = (cb->nparams == 3 || cb->nparams == 1) && cb->nresults == 1;
    for (uint32_t i = 0; ok && i < cb->nparams; i++) ok = cb->params[i].code == 0x7f;
    if (ok) ok = cb->results[0].code == 0x7f;
    if (!ok) return invalid(v, "canonical option `callback` uses a core function with an incorrect signature");
  }
  if (o.async && !T(ft).async) return invalid(v, "the `async` canonical option requires an async function type");
  if (o.has_core_type) return invalid(v, "canonical option `core-type` is not allowed in `canon lift`");
  if (o.gc) return sp_push(v, sc, CMC_SP_FUNC, ft); /* GC ABI signatures are not checked */
  if (!lowered_sig(v, ft, &o, true, &sig)) return false;
  const cmc_type *s = &T(sig), *c = &T(core);
  char a[200], bb[200];
  bool peq = s->nparams == c->nparams, req = s->nresults == c->nresults;
  for (uint32_t i = 0; peq && i < s->nparams; i++) peq = s->params[i].code == c->params[i].code;
  for (uint32_t i = 0; req && i < s->nresults; i++) req = s->results[i].code == c->results[i].code;
  if (!peq) {
    cmc_core_types_debug(s->params, s->nparams, a, sizeof a);
    cmc_core_types_debug(c->params, c->nparams, bb, sizeof bb);
    return invalid(v, "lowered parameter types `%s` do not match parameter types `%s` of core function %u", a, bb, fidx);
  }
  if (!req) {
    cmc_core_types_debug(s->results, s->nresults, a, sizeof a);
    cmc_core_types_debug(c->results, c->nresults, bb, sizeof bb);
    return invalid(v, "lowered result types `%s` do not match result types `%s` of core function %u", a, bb, fidx);
  }
  return sp_push(v, sc, CMC_SP_FUNC, ft);
}

static bool check_lower_opts(vcx *v, const canonopts *o) {
  if (o->has_post_return) return invalid(v, "canonical option `post-return` cannot be specified for lowerings");
  if (o->has_callback) return invalid(v, "canonical option `callback` cannot be specified for lowerings");
  return true;
}

static bool canon_lower(vcx *v, cmc_reader *r, scope *sc) {
  uint8_t b = 0;
  uint32_t fidx = 0;
  canonopts o;
  if (!cmc_read_byte(r, &b)) return false;
  if (b != 0x00) return cmc_malformed(r, "invalid leading byte (0x%x) for canonical function lower", b);
  if (!cmc_read_u32(r, &fidx) || !read_opts(v, r, sc, &o)) return false;
  cmc_tid ft = CMC_NONE, sig = CMC_NONE;
  if (!sp_get(v, sc, CMC_SP_FUNC, fidx, &ft)) return false;
  if (!check_lower_opts(v, &o)) return false;
  if (o.async && !T(ft).async) return invalid(v, "the `async` canonical option requires an async function type");
  /* CanonicalABI.md also says an async lowering needs `memory`; the suites' valid
   * components (and wasm-tools) require it only when there is a result (lowered_sig) */
  if (o.gc) {
    if (!o.has_core_type) return invalid(v, "cannot specify `gc` without also specifying a `core-type` for lowerings");
    return sp_push(v, sc, CMC_SP_CORE_FUNC, o.core_type);
  }
  if (!lowered_sig(v, ft, &o, false, &sig)) return false;
  return sp_push(v, sc, CMC_SP_CORE_FUNC, sig);
}

static bool local_resource(vcx *v, scope *sc, uint32_t idx, cmc_tid *out) {
  if (!resource_at(v, sc, idx, out)) return false;
  if (!set_has(&sc->local_res, cmc_res_root(v->t, *out))) return invalid(v, "type %u is not a local resource", idx);
  return true;
}

static bool push_core(vcx *v, scope *sc, const char *params, const char *results) {
  cmc_tid id = core_ft(v, params, results);
  return id != CMC_NONE && sp_push(v, sc, CMC_SP_CORE_FUNC, id);
}

static bool read_bool(cmc_reader *r, bool *out) {
  uint8_t b = 0;
  if (!cmc_read_byte(r, &b)) return false;
  if (b > 1) return cmc_malformed(r, "invalid boolean value");
  *out = b;
  return true;
}

/* stream/future built-ins: the type immediate must be a stream (future) type */
static bool async_type(vcx *v, cmc_reader *r, scope *sc, bool stream, const char *what, cmc_tid *out) {
  uint32_t idx = 0;
  if (!cmc_read_u32(r, &idx) || !defined_type_at(v, sc, idx, out)) return false;
  if (T(*out).kind != (stream ? CMC_T_STREAM : CMC_T_FUTURE))
    return invalid(v, "`%s` requires a %s type", what, stream ? "stream" : "future");
  return true;
}

static bool async_rw(vcx *v, cmc_reader *r, scope *sc, bool stream, const char *what, bool read) {
  cmc_tid t = CMC_NONE;
  canonopts o;
  if (!async_type(v, r, sc, stream, what, &t) || !read_opts(v, r, sc, &o)) return false;
  cmc_tid elem = T(t).a;
  if (elem != CMC_NONE && !require_memory(v, &o)) return false;
  if (read && elem != CMC_NONE && contains_ptr(v, elem, 0) && !o.has_realloc && !require_realloc(v, &o)) return false;
  if (!check_lower_opts(v, &o)) return false;
  if (stream) return o.mem64 ? push_core(v, sc, "iII", "I") : push_core(v, sc, "iii", "i");
  return push_core(v, sc, o.mem64 ? "iI" : "ii", "i");
}

static bool async_cancel(vcx *v, cmc_reader *r, scope *sc, bool stream, const char *what) {
  cmc_tid t = CMC_NONE;
  bool async;
  return async_type(v, r, sc, stream, what, &t) && read_bool(r, &async) && push_core(v, sc, "i", "i");
}

static bool async_simple(vcx *v, cmc_reader *r, scope *sc, bool stream, const char *what, const char *p,
                         const char *res) {
  cmc_tid t = CMC_NONE;
  return async_type(v, r, sc, stream, what, &t) && push_core(v, sc, p, res);
}

static bool canon_task_return(vcx *v, cmc_reader *r, scope *sc) {
  uint8_t b = 0;
  cmc_tid res = CMC_NONE;
  canonopts o;
  if (!cmc_read_byte(r, &b)) return false;
  if (b == 0x00) {
    if (!read_valtype(v, r, sc, &res)) return false;
  } else if (b == 0x01) {
    if (!cmc_read_byte(r, &b)) return false;
    if (b != 0) return cmc_malformed(r, "invalid leading byte (0x%x) for number of results", b);
  } else {
    return cmc_malformed(r, "invalid leading byte (0x%x) for component function results", b);
  }
  if (!read_opts(v, r, sc, &o)) return false;
  if (o.has_realloc) return invalid(v, "cannot specify `realloc` option on `task.return`");
  if (o.has_post_return) return invalid(v, "cannot specify `post-return` option on `task.return`");
  if (!check_lower_opts(v, &o)) return false;
  if (o.async) return invalid(v, "cannot specify `async` option on `task.return`");
  cmc_tid ft = new_type(v, CMC_T_FUNC), sig;
  if (ft == CMC_NONE) return false;
  if (res != CMC_NONE) {
    cmc_field *f = cmc_arena_alloc(v->arena, sizeof *f);
    if (!f) return oom(v);
    f->name = "v";
    f->type = res;
    T(ft).fields = f;
    T(ft).n = 1;
  }
  /* params lowered like a lowering, but a result pointer is never needed */
  cmc_flat p, none;
  flat_types(v, ft, o.mem64, &p, &none);
  if (res != CMC_NONE && contains_ptr(v, res, 0) && !require_memory(v, &o)) return false;
  if (p.len > CMC_MAX_FLAT_PARAMS) {
    if (!require_memory(v, &o)) return false;
    flat_set(&p, o.mem64 ? 0x7e : 0x7f);
  }
  memset(&none, 0, sizeof none);
  sig = core_ft_flat(v, &p, &none);
  return sig != CMC_NONE && sp_push(v, sc, CMC_SP_CORE_FUNC, sig);
}

static bool context_op(vcx *v, cmc_reader *r, scope *sc, bool set) {
  cmc_core_valtype t;
  uint32_t i = 0;
  const char *op = set ? "set" : "get";
  if (!cmc_read_core_valtype(r, NULL, &t) || !cmc_read_u32(r, &i)) return false;
  if (t.code != 0x7f && t.code != 0x7e) return invalid(v, "`context.%s` only supports `i32` or `i64`", op);
  if (i > 1) return invalid(v, "`context.%s` immediate must be zero or one: %u", op, i);
  if (sc->context_type && sc->context_type != t.code)
    return invalid(v, "`context.%s` type must match previous context type", op);
  sc->context_type = t.code;
  const char *ty = t.code == 0x7e ? "I" : "i";
  return set ? push_core(v, sc, ty, "") : push_core(v, sc, "", ty);
}

static bool waitable_wait(vcx *v, cmc_reader *r, scope *sc) {
  bool c;
  uint32_t m = 0;
  cmc_tid t = CMC_NONE;
  if (!read_bool(r, &c) || !cmc_read_u32(r, &m) || !sp_get(v, sc, CMC_SP_CORE_MEMORY, m, &t)) return false;
  return push_core(v, sc, T(t).cexports[0].is64 ? "iI" : "ii", "i");
}

static bool thread_new_indirect(vcx *v, cmc_reader *r, scope *sc) {
  uint32_t ft = 0, tbl = 0;
  cmc_tid t = CMC_NONE, tt = CMC_NONE;
  if (!cmc_read_u32(r, &ft) || !cmc_read_u32(r, &tbl)) return false;
  if (!sp_get(v, sc, CMC_SP_CORE_TYPE, ft, &t) || !sp_get(v, sc, CMC_SP_CORE_TABLE, tbl, &tt)) return false;
  if (T(t).kind != CMC_T_CORE_FUNC) return invalid(v, "core type index %u is not a function type", ft);
  const cmc_type *f = &T(t);
  if (f->nparams != 1 || (f->params[0].code != 0x7f && f->params[0].code != 0x7e) || f->nresults != 0)
    return invalid(v, "start function must take a single `i32` argument");
  const cmc_core_extern *tab = &T(tt).cexports[0];
  if (tab->val.code != 0x64 || tab->val.concrete || tab->val.heap != 0x70)
    return invalid(v, "table must have a `funcref` element type");
  char p[3] = {tab->is64 ? 'I' : 'i', f->params[0].code == 0x7e ? 'I' : 'i', 0};
  return push_core(v, sc, p, "i");
}

static bool read_canon(vcx *v, cmc_reader *r, scope *sc) {
  uint8_t b = 0;
  uint32_t x = 0;
  bool flag;
  cmc_tid t = CMC_NONE;
  if (!cmc_read_byte(r, &b)) return false;
  switch (b) {
  case 0x00: return canon_lift(v, r, sc);
  case 0x01: return canon_lower(v, r, sc);
  case 0x02: {
    if (!cmc_read_u32(r, &x) || !local_resource(v, sc, x, &t)) return false;
    return push_core(v, sc, T(cmc_res_root(v->t, t)).rep.code == 0x7e ? "I" : "i", "i");
  }
  case 0x03:
    if (!cmc_read_u32(r, &x) || !resource_at(v, sc, x, &t)) return false;
    return push_core(v, sc, "i", "");
  case 0x04:
    if (!cmc_read_u32(r, &x) || !local_resource(v, sc, x, &t)) return false;
    return push_core(v, sc, "i", T(cmc_res_root(v->t, t)).rep.code == 0x7e ? "I" : "i");
  case 0x24: case 0x25: case 0x05: return push_core(v, sc, "", "");
  case 0x09: return canon_task_return(v, r, sc);
  case 0x0a: return context_op(v, r, sc, false);
  case 0x0b: return context_op(v, r, sc, true);
  case 0x06: return read_bool(r, &flag) && push_core(v, sc, "i", "i");
  case 0x0d: return push_core(v, sc, "i", "");
  case 0x0e: return async_simple(v, r, sc, true, "stream.new", "", "I");
  case 0x0f: return async_rw(v, r, sc, true, "stream.read", true);
  case 0x10: return async_rw(v, r, sc, true, "stream.write", false);
  case 0x11: return async_cancel(v, r, sc, true, "stream.cancel-read");
  case 0x12: return async_cancel(v, r, sc, true, "stream.cancel-write");
  case 0x13: return async_simple(v, r, sc, true, "stream.drop-readable", "i", "");
  case 0x14: return async_simple(v, r, sc, true, "stream.drop-writable", "i", "");
  case 0x15: return async_simple(v, r, sc, false, "future.new", "", "I");
  case 0x16: return async_rw(v, r, sc, false, "future.read", true);
  case 0x17: return async_rw(v, r, sc, false, "future.write", false);
  case 0x18: return async_cancel(v, r, sc, false, "future.cancel-read");
  case 0x19: return async_cancel(v, r, sc, false, "future.cancel-write");
  case 0x1a: return async_simple(v, r, sc, false, "future.drop-readable", "i", "");
  case 0x1b: return async_simple(v, r, sc, false, "future.drop-writable", "i", "");
  case 0x1c: case 0x1d: {
    canonopts o;
    if (!read_opts(v, r, sc, &o)) return false;
    if (!require_memory(v, &o) || !check_lower_opts(v, &o)) return false;
    if (b == 0x1d && !require_realloc(v, &o)) return false;
    if (o.async) return invalid(v, "cannot specify `async` option on `error-context`");
    if (b == 0x1c) return push_core(v, sc, o.mem64 ? "II" : "ii", "i");
    return push_core(v, sc, o.mem64 ? "iI" : "ii", "");
  }
  case 0x1e: return push_core(v, sc, "i", "");
  case 0x1f: return push_core(v, sc, "", "i");
  case 0x20: case 0x21: return waitable_wait(v, r, sc);
  case 0x22: return push_core(v, sc, "i", "");
  case 0x23: return push_core(v, sc, "ii", "");
  case 0x26: return push_core(v, sc, "", "i");
  case 0x27: return thread_new_indirect(v, r, sc);
  case 0x28: return push_core(v, sc, "i", "");
  case 0x29: case 0x0c: return read_bool(r, &flag) && push_core(v, sc, "", "i");
  case 0x2a: case 0x2b: case 0x2c: case 0x2d: return read_bool(r, &flag) && push_core(v, sc, "i", "i");
  case 0x40: case 0x41: {
    uint32_t ft = 0, tbl = 0;
    if (!read_bool(r, &flag) || !cmc_read_u32(r, &ft)) return false;
    if (b == 0x41 && !cmc_read_u32(r, &tbl)) return false;
    return invalid(v, "shared-everything-threads built-ins are not supported");
  }
  case 0x42:
    if (!read_bool(r, &flag)) return false;
    return invalid(v, "shared-everything-threads built-ins are not supported");
  default:
    return cmc_malformed(r, "invalid leading byte (0x%x) for canonical function", b);
  }
}

/* ---- component-level exports ---- */

static bool read_export(vcx *v, cmc_reader *r, scope *sc) {
  extname xn;
  cmc_extern e = {0};
  uint32_t idx = 0;
  uint8_t b = 0;
  if (!read_nameattributes(v, r, &xn) || !read_sort(r, &e.sort, "component external kind") ||
      !cmc_read_u32(r, &idx) || !cmc_read_byte(r, &b))
    return false;
  cmc_extern asc = {0};
  bool has_asc = false, fresh = false;
  if (b == 1) {
    if (!read_externtype(v, r, sc, &asc, &fresh)) return false;
    has_asc = true;
  } else if (b != 0) {
    return cmc_malformed(r, "invalid leading byte (0x%x) for optional component export type", b);
  }
  if (!sortidx_type(v, sc, e.sort, idx, &e.type)) return false;
  if (v->opts->wasmtime && !sc->parent && e.sort == CMC_SORT_FUNC && sc->sp[CMC_SP_FUNC].v[idx].def == CMC_DEF_IMPORT)
    return invalid(v, "component export `%s` is a reexport of an imported function which is not implemented", xn.name);
  if (v->opts->wasmtime && !sc->parent && e.sort == CMC_SORT_COMPONENT)
    return invalid(v, "exporting a component from the root component is not supported");
  if (has_asc) {
    if (asc.sort != e.sort)
      return invalid(v, "type mismatch in export `%s`: expected %s, found %s", xn.name, sort_name(asc.sort), sort_name(e.sort));
    if (fresh) {
      if (T(e.type).kind != CMC_T_RESOURCE)
        return invalid(v, "type mismatch in export `%s`: expected resource, found defined type", xn.name);
      e.type = asc.type; /* a fresh abstract type, unequal to every other */
    } else {
      cmc_subcx cx = {v->t, NULL, NULL, v->err, 0, 0};
      if (!cmc_sub_extern(&cx, e.sort, e.type, asc.type)) {
        char pre[400];
        snprintf(pre, sizeof pre, "ascribed type of export is not compatible with item's type");
        cmc_prefix_error(v->err, pre);
        return false;
      }
      e.type = asc.type;
    }
  }
  if (!named_copy(v, &e)) return false;
  if (!add_extern(v, sc, false, &xn, &e)) return false;
  return sp_push(v, sc, extern_space(&e), e.type);
}

static bool read_start(vcx *v, cmc_reader *r, scope *sc) {
  if (sc->has_start) return cmc_malformed(r, "component cannot have more than one start function");
  sc->has_start = true;
  uint32_t f = 0, n = 0, x = 0, nres = 0;
  cmc_tid ft = CMC_NONE;
  if (!cmc_read_u32(r, &f) || !cmc_read_count(r, &n, 1)) return false;
  for (uint32_t i = 0; i < n; i++)
    if (!cmc_read_u32(r, &x)) return false;
  if (!cmc_read_u32(r, &nres)) return false;
  if (!sp_get(v, sc, CMC_SP_FUNC, f, &ft)) return false;
  if (n > 0 || nres > 0) return invalid(v, "support for component model `value`s is not enabled");
  if (T(ft).n != 0) return invalid(v, "component start function requires %u arguments but was given 0", T(ft).n);
  if (T(ft).a != CMC_NONE) return invalid(v, "component start function has a result count of 1 but the function type has a result count of 0");
  return true;
}

/* ---- sections ---- */

static bool check_preamble(cmc_reader *r, bool nested) {
  const uint8_t *p = NULL;
  if (cmc_left(r) < 4) { r->p = r->end; return cmc_malformed(r, "unexpected end-of-file"); }
  (void)cmc_read_bytes(r, 4, &p);
  if (memcmp(p, "\0asm", 4) != 0) return cmc_malformed(r, "magic header not detected: bad magic number");
  if (cmc_left(r) < 4) { r->p = r->end; return cmc_malformed(r, "unexpected end-of-file"); }
  (void)cmc_read_bytes(r, 4, &p);
  if (p[2] == 0x00 && p[3] == 0x00 && nested) return cmc_malformed(r, "expected a version header for a component");
  if (p[0] != 0x0d || p[1] != 0x00 || p[2] != 0x01 || p[3] != 0x00)
    return cmc_malformed(r, "unknown binary version and encoding combination: 0x%x and 0x%x",
                         p[0] | p[1] << 8, p[2] | p[3] << 8);
  return true;
}

static bool finish_component(vcx *v, scope *sc, cmc_tid *out);

static bool nested_component(vcx *v, cmc_reader *r, scope *sc, const uint8_t *body, uint32_t size) {
  cmc_reader sub = {body, body + size, r->base, r->err, r->arena};
  scope *ns = new_scope(v, sc, SC_COMPONENT);
  if (!ns) return false;
  cmc_tid ct = CMC_NONE;
  if (!check_preamble(&sub, true) || !read_component_body(v, &sub, ns) || !finish_component(v, ns, &ct))
    return false;
  /* keep the nested definition's index spaces: instantiation walks its binary again */
  cmc_component *nc = cmc_arena_alloc(v->arena, sizeof *nc);
  cmc_component **l = grow(v, sc->nested, &sc->capnested, sc->nnested, sizeof *l);
  if (!nc || !l) return oom(v);
  memcpy(nc->spaces, ns->sp, sizeof nc->spaces);
  nc->type = ct;
  nc->imports = T(ct).imports;
  nc->nimports = T(ct).nimports;
  nc->exports = T(ct).exports;
  nc->nexports = T(ct).nexports;
  nc->bytes = body;
  nc->size = size;
  nc->nested = ns->nested;
  nc->nnested = ns->nnested;
  sc->nested = l;
  sc->nested[sc->nnested++] = nc;
  return sp_push(v, sc, CMC_SP_COMPONENT, ct);
}

static bool core_module(vcx *v, cmc_reader *r, scope *sc, const uint8_t *body, uint32_t size) {
  cmc_tid mt = CMC_NONE;
  if (size >= 8 && memcmp(body + 4, "\x0d\x00\x01\x00", 4) == 0)
    return cmc_malformed(r, "expected a version header for a module");
  if (!cmc_core_module_type(r, v->t, body, size, &mt)) return false;
  if (!cmc_core_module_validate(body, size, v->err)) return false;
  return sp_push(v, sc, CMC_SP_CORE_MODULE, mt);
}

typedef bool (*item_fn)(vcx *, cmc_reader *, scope *);

static bool read_vec(vcx *v, cmc_reader *r, scope *sc, item_fn fn) {
  uint32_t n = 0;
  if (!cmc_read_count(r, &n, 1)) return false;
  for (uint32_t i = 0; i < n; i++)
    if (!fn(v, r, sc)) return false;
  return true;
}

static bool import_item(vcx *v, cmc_reader *r, scope *sc) { return read_import(v, r, sc, false); }
static bool core_type_item(vcx *v, cmc_reader *r, scope *sc) { return read_core_type(v, r, sc, false); }

static bool read_section(vcx *v, cmc_reader *r, scope *sc, uint8_t id, const uint8_t *body, uint32_t size) {
  cmc_reader s = {body, body + size, r->base, r->err, r->arena};
  bool ok;
  switch (id) {
  case 0: {
    const char *name;
    return cmc_read_name(&s, &name); /* custom: contents need not be valid */
  }
  case 1: return core_module(v, &s, sc, body, size);
  case 4: return nested_component(v, &s, sc, body, size);
  case 2: ok = read_vec(v, &s, sc, read_core_instance); break;
  case 3: ok = read_vec(v, &s, sc, core_type_item); break;
  case 5: ok = read_vec(v, &s, sc, read_instance); break;
  case 6: ok = read_vec(v, &s, sc, read_alias); break;
  case 7: ok = read_vec(v, &s, sc, read_type_def); break;
  case 8: ok = read_vec(v, &s, sc, read_canon); break;
  case 9: ok = read_start(v, &s, sc); break;
  case 10: ok = read_vec(v, &s, sc, import_item); break;
  case 11: ok = read_vec(v, &s, sc, read_export); break;
  case 12: return invalid(v, "support for component model `value`s is not enabled");
  default: return cmc_malformed(r, "malformed section id: %u", id);
  }
  if (!ok) return false;
  if (s.p != s.end) return cmc_malformed(&s, "section size mismatch: unexpected data at the end of the section");
  return true;
}

static bool read_component_body(vcx *v, cmc_reader *r, scope *sc) {
  while (r->p < r->end) {
    uint8_t id = 0;
    uint32_t size = 0;
    const uint8_t *body = NULL;
    if (!cmc_read_byte(r, &id)) return false;
    if (id > 12) return cmc_malformed(r, "malformed section id: %u", id);
    if (!cmc_read_u32(r, &size) || !cmc_read_bytes(r, size, &body)) return false;
    if (!read_section(v, r, sc, id, body, size)) return false;
  }
  return true;
}

/* the component's type; resources it defines and exports become its defined resources */
static bool finish_component(vcx *v, scope *sc, cmc_tid *out) {
  cmc_tid id = new_type(v, CMC_T_COMPONENT);
  if (id == CMC_NONE) return false;
  cmc_type ty = T(id);
  if (!copy_externs(v, &sc->imports, &ty.imports, &ty.nimports) ||
      !copy_externs(v, &sc->exports, &ty.exports, &ty.nexports))
    return false;
  tidset imported = {0}, defined = {0};
  for (uint32_t i = 0; i < ty.nimports; i++) {
    const cmc_extern *e = &ty.imports[i];
    if (e->sort == CMC_SORT_TYPE && T(e->type).kind == CMC_T_RESOURCE &&
        !set_add(v, &imported, cmc_res_root(v->t, e->type)))
      return false;
  }
  for (uint32_t i = 0; i < sc->imported_res.len; i++)
    if (!set_add(v, &imported, sc->imported_res.v[i])) return false;
  for (uint32_t i = 0; i < ty.nexports; i++) {
    const cmc_extern *e = &ty.exports[i];
    cmc_tid root = cmc_res_root(v->t, e->type);
    if (e->sort == CMC_SORT_TYPE && T(e->type).kind == CMC_T_RESOURCE && !set_has(&imported, root) &&
        !set_has(&defined, root) && !set_add(v, &defined, root))
      return false;
  }
  for (uint32_t i = 0; i < sc->local_res.len; i++)
    if (!set_has(&defined, sc->local_res.v[i]) && !set_add(v, &defined, sc->local_res.v[i])) return false;
  if (!copy_tids(v, &imported, &ty.imported_res, &ty.nimported_res) ||
      !copy_tids(v, &defined, &ty.defined, &ty.ndefined))
    return false;
  ty.has_resource = true;
  ty.depth = 1;
  T(id) = ty;
  *out = id;
  return set_extern_size(v, id);
}

/* imports of the component scope also come from instance imports' abstract resources */
bool cmc_comp_is_component(const uint8_t *bytes, size_t size) {
  return size >= 8 && memcmp(bytes, "\0asm", 4) == 0 && bytes[6] == 0x01 && bytes[7] == 0x00;
}

bool cmc_comp_validate(const uint8_t *bytes, size_t size, const cmc_comp_options *opts,
                       cmc_comp_result *res, cmc_error *err) {
  static const cmc_comp_options defaults = {false, false, false};
  memset(res, 0, sizeof *res);
  memset(err, 0, sizeof *err);
  if (!cmc_types_init(&res->types)) return cmc_fail(err, CMREF_MALFORMED, "out of memory");
  vcx v = {&res->types, &res->arena, err, opts ? opts : &defaults, 0, 0};
  cmc_reader r = {bytes, bytes + size, bytes, err, &res->arena};
  scope *root = new_scope(&v, NULL, SC_COMPONENT);
  if (!root) return false;
  if (!check_preamble(&r, false) || !read_component_body(&v, &r, root)) return false;
  cmc_tid ct = CMC_NONE;
  if (!finish_component(&v, root, &ct)) return false;
  cmc_component *c = cmc_arena_alloc(&res->arena, sizeof *c);
  if (!c) return cmc_fail(err, CMREF_MALFORMED, "out of memory");
  memcpy(c->spaces, root->sp, sizeof c->spaces);
  c->type = ct;
  c->imports = res->types.v[ct].imports;
  c->nimports = res->types.v[ct].nimports;
  c->exports = res->types.v[ct].exports;
  c->nexports = res->types.v[ct].nexports;
  c->bytes = bytes;
  c->size = size;
  c->nested = root->nested;
  c->nnested = root->nnested;
  res->root = c;
  return true;
}

void cmc_comp_free(cmc_comp_result *res) {
  cmc_types_free(&res->types);
  cmc_arena_free(&res->arena);
  res->root = NULL;
}

void cmc_error_copy(char *buf, size_t len, const cmc_error *err) {
  size_t n = strlen(err->message);
  if (len == 0) return;
  if (n >= len) n = len - 1;
  memcpy(buf, err->message, n);
  buf[n] = 0;
}
