/* A resolved WIT package encoded as a component type binary, as wit-component's
 * encoding/wit.rs and encoding/types.rs do (the "v2" WIT package encoding): one
 * exported component type per interface (importing the interfaces it uses) and per
 * world (wrapping the world's component type). Binary layout per Binary.md. */
#include <stdlib.h>
#include <string.h>

#include "wit/resolve.h"

/* ---- bytes ---- */
typedef struct bytes {
  unsigned char *v;
  size_t n, cap;
  int oom;
} bytes;

static void put(bytes *b, const void *p, size_t n) {
  if (!n) return;
  if (b->n + n > b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 256;
    while (cap < b->n + n) cap *= 2;
    unsigned char *nv = realloc(b->v, cap);
    if (!nv) { b->oom = 1; return; }
    b->v = nv;
    b->cap = cap;
  }
  memcpy(b->v + b->n, p, n);
  b->n += n;
}

static void byte(bytes *b, unsigned c) {
  unsigned char x = (unsigned char)c;
  put(b, &x, 1);
}

static void u32(bytes *b, uint32_t v) {
  do {
    unsigned char c = v & 0x7f;
    v >>= 7;
    if (v) c |= 0x80;
    put(b, &c, 1);
  } while (v);
}

static void str(bytes *b, const char *s) {
  u32(b, (uint32_t)strlen(s));
  put(b, s, strlen(s));
}

static void append(bytes *b, const bytes *o) {
  put(b, o->v, o->n);
  if (o->oom) b->oom = 1;
}

static void bfree(bytes *b) { free(b->v); memset(b, 0, sizeof *b); }

/* ---- a component type or instance type under construction ---- */
typedef struct scope {
  bytes decls;     /* the declarations, without the vec count */
  uint32_t ndecls, types, instances;
} scope;

static uint32_t scope_type(scope *s) { /* starts a `type` declaration; returns its index */
  byte(&s->decls, 0x01);
  s->ndecls++;
  return s->types++;
}

/* nameattributes: the name, then implements / external-id attributes */
static void name_attrs(bytes *b, const char *name, const char *implements, const char *external_id) {
  if (!implements && !external_id) {
    byte(b, 0x00);
    str(b, name);
    return;
  }
  byte(b, 0x02);
  str(b, name);
  u32(b, (implements ? 1 : 0) + (external_id ? 1 : 0));
  if (implements) { byte(b, 0x00); str(b, implements); }
  if (external_id) { byte(b, 0x02); str(b, external_id); }
}

enum { EXT_FUNC = 0x01, EXT_TYPE_EQ = 0x30, EXT_TYPE_SUB = 0x31, EXT_COMPONENT = 0x04, EXT_INSTANCE = 0x05 };

static void externtype(bytes *b, int kind, uint32_t idx) {
  if (kind == EXT_TYPE_EQ) { byte(b, 0x03); byte(b, 0x00); u32(b, idx); return; }
  if (kind == EXT_TYPE_SUB) { byte(b, 0x03); byte(b, 0x01); return; }
  byte(b, (unsigned)kind);
  u32(b, idx);
}

/* import (component types only) or export declaration; returns the new type index
 * for type externs, else (uint32_t)-1 */
static uint32_t scope_extern(scope *s, int import, const char *name, const char *impl, const char *ext,
                             int kind, uint32_t idx) {
  byte(&s->decls, import ? 0x03 : 0x04);
  name_attrs(&s->decls, name, impl, ext);
  externtype(&s->decls, kind, idx);
  s->ndecls++;
  if (kind == EXT_INSTANCE) s->instances++;
  if (kind == EXT_TYPE_EQ || kind == EXT_TYPE_SUB) return s->types++;
  return (uint32_t)-1;
}

static uint32_t scope_alias_export(scope *s, uint32_t instance, const char *name) {
  byte(&s->decls, 0x02);
  byte(&s->decls, 0x03); /* sort type */
  byte(&s->decls, 0x00);
  u32(&s->decls, instance);
  str(&s->decls, name);
  s->ndecls++;
  return s->types++;
}

static uint32_t scope_alias_outer(scope *s, uint32_t count, uint32_t idx) {
  byte(&s->decls, 0x02);
  byte(&s->decls, 0x03);
  byte(&s->decls, 0x02);
  u32(&s->decls, count);
  u32(&s->decls, idx);
  s->ndecls++;
  return s->types++;
}

static void scope_finish(bytes *out, unsigned tag, scope *s) {
  byte(out, tag);
  u32(out, s->ndecls);
  append(out, &s->decls);
}

/* ---- the encoder (InterfaceEncoder + ValtypeEncoder) ---- */
typedef struct idx_ent {
  int key;
  uint32_t idx;
} idx_ent;
typedef WIT_VEC(idx_ent) idx_map;

typedef struct func_ent {
  const wit_function *f;
  uint32_t idx;
} func_ent;

typedef struct maps { /* TypeEncodingMaps */
  idx_map ids;                 /* WIT type id -> index */
  WIT_VEC(idx_ent) anon;       /* anonymous type id (structurally keyed) -> index */
  WIT_VEC(func_ent) funcs;
} maps;

typedef struct enc {
  wit_resolve *r;
  scope outer;
  scope inst;
  int in_inst;
  maps m, saved;
  idx_map import_map;   /* interface -> instance index in outer */
  idx_map outer_types;  /* WIT type id -> outer alias index */
  int import_types;
  int interface;        /* current interface or -1 */
  int failed;
} enc;

#define M (&e->r->mem)

static int map_get(const idx_map *m, int key, uint32_t *out) {
  for (int i = 0; i < m->n; i++)
    if (m->v[i].key == key) { *out = m->v[i].idx; return 1; }
  return 0;
}

static void map_put(enc *e, idx_map *m, int key, uint32_t idx) {
  for (int i = 0; i < m->n; i++)
    if (m->v[i].key == key) { m->v[i].idx = idx; return; }
  idx_ent x = {key, idx};
  wit_push(M, *m, x);
}

static scope *cur(enc *e) { return e->in_inst ? &e->inst : &e->outer; }

static int same_anon(enc *e, int a, int b) {
  const wit_typedef *x = &e->r->a.types.v[a], *y = &e->r->a.types.v[b];
  if (x->kind != y->kind || x->a != y->a || x->b != y->b || x->size != y->size || x->items.n != y->items.n)
    return 0;
  for (int i = 0; i < x->items.n; i++) {
    if (x->items.v[i].ty != y->items.v[i].ty) return 0;
    const char *p = x->items.v[i].name, *q = y->items.v[i].name;
    if ((p || q) && (!p || !q || strcmp(p, q))) return 0;
  }
  return 1;
}

static int lookup(enc *e, int id, uint32_t *out) {
  if (map_get(&e->m.ids, id, out)) return 1;
  if (e->r->a.types.v[id].name) return 0;
  for (int i = 0; i < e->m.anon.n; i++)
    if (same_anon(e, e->m.anon.v[i].key, id)) { *out = e->m.anon.v[i].idx; return 1; }
  return 0;
}

static void remember(enc *e, int id, uint32_t idx) {
  map_put(e, &e->m.ids, id, idx);
  if (!e->r->a.types.v[id].name) {
    idx_ent x = {id, idx};
    wit_push(M, e->m.anon, x);
  }
}

static uint8_t prim_code(wit_type t) {
  static const uint8_t codes[] = {0x7f, 0x7d, 0x7b, 0x79, 0x77, 0x7e, 0x7c, 0x7a, 0x78, 0x76, 0x75, 0x74, 0x73, 0x64};
  return codes[-t - 1];
}

/* a valtype: a primitive code, or a type index (negative: none) */
typedef struct vt {
  int prim;
  uint32_t idx;
} vt;

/* a type index in a valtype is an s33 (Binary.md's valtype, as wasmparser reads it):
 * index 64..127 takes two bytes, so it is not read as a negative (primitive) code */
static void s33(bytes *b, uint32_t v) {
  uint64_t x = v;
  for (;;) {
    unsigned char c = x & 0x7f;
    x >>= 7;
    if (x == 0 && !(c & 0x40)) { put(b, &c, 1); return; }
    c |= 0x80;
    put(b, &c, 1);
  }
}

static void put_vt(bytes *b, vt v) {
  if (v.prim) byte(b, (unsigned)v.prim);
  else s33(b, v.idx);
}

static void put_opt_vt(bytes *b, const vt *v) {
  if (!v) { byte(b, 0x00); return; }
  byte(b, 0x01);
  put_vt(b, *v);
}

static int encode_valtype(enc *e, wit_type t, vt *out);

static uint32_t import_type(enc *e, int owner, int id) {
  uint32_t inst = 0, outer_idx;
  map_get(&e->import_map, owner, &inst);
  if (!map_get(&e->outer_types, id, &outer_idx)) {
    outer_idx = scope_alias_export(&e->outer, inst, e->r->a.types.v[id].name);
    map_put(e, &e->outer_types, id, outer_idx);
  }
  if (e->in_inst) return scope_alias_outer(&e->inst, 1, outer_idx);
  return outer_idx;
}

/* export_type: the name for a type, in the current scope; returns the new index */
static uint32_t export_type(enc *e, uint32_t idx, const wit_typedef *t) {
  if (e->in_inst) return scope_extern(&e->inst, 0, t->name, NULL, t->external_id, EXT_TYPE_EQ, idx);
  return scope_extern(&e->outer, e->import_types, t->name, NULL, t->external_id, EXT_TYPE_EQ, idx);
}

static uint32_t export_resource(enc *e, const wit_typedef *t) {
  if (e->in_inst) return scope_extern(&e->inst, 0, t->name, NULL, t->external_id, EXT_TYPE_SUB, 0);
  return scope_extern(&e->outer, e->import_types, t->name, NULL, t->external_id, EXT_TYPE_SUB, 0);
}

static int encode_items(enc *e, const wit_typedef *t, vt *vts) {
  for (int i = 0; i < t->items.n; i++) {
    if (t->items.v[i].ty == WIT_TNONE) continue;
    if (encode_valtype(e, t->items.v[i].ty, &vts[i])) return -1;
    t = &e->r->a.types.v[t - e->r->a.types.v]; /* the arena does not move, but re-derive */
  }
  return 0;
}

static int encode_defined(enc *e, int id, vt *out) {
  const wit_typedef *t = &e->r->a.types.v[id];
  int n = t->items.n;
  vt *vts = wit_alloc(M, sizeof(vt) * (size_t)(n + 1));
  vt a = {0, 0}, b = {0, 0};
  int has_a = 0, has_b = 0;
  uint32_t idx;
  switch (t->kind) {
  case WIT_K_RECORD: case WIT_K_TUPLE: case WIT_K_VARIANT:
    if (encode_items(e, t, vts)) return -1;
    break;
  case WIT_K_TYPE: return encode_valtype(e, t->a, out);
  case WIT_K_OWN: case WIT_K_BORROW:
  case WIT_K_LIST: case WIT_K_FIXED_LIST: case WIT_K_OPTION: case WIT_K_MAP: case WIT_K_RESULT:
  case WIT_K_FUTURE: case WIT_K_STREAM:
    if (t->a != WIT_TNONE) { if (encode_valtype(e, t->a, &a)) return -1; has_a = 1; }
    if (t->b != WIT_TNONE) { if (encode_valtype(e, t->b, &b)) return -1; has_b = 1; }
    break;
  case WIT_K_RESOURCE:
    idx = export_resource(e, t);
    map_put(e, &e->m.ids, id, idx);
    *out = (vt){0, idx};
    return 1; /* already remembered */
  case WIT_K_FLAGS: case WIT_K_ENUM: break;
  default: e->failed = 1; return -1;
  }
  t = &e->r->a.types.v[id];
  scope *s = cur(e);
  idx = scope_type(s);
  bytes *d = &s->decls;
  switch (t->kind) {
  case WIT_K_RECORD:
    byte(d, 0x72);
    u32(d, (uint32_t)n);
    for (int i = 0; i < n; i++) { str(d, t->items.v[i].name); put_vt(d, vts[i]); }
    break;
  case WIT_K_VARIANT:
    byte(d, 0x71);
    u32(d, (uint32_t)n);
    for (int i = 0; i < n; i++) {
      str(d, t->items.v[i].name);
      put_opt_vt(d, t->items.v[i].ty == WIT_TNONE ? NULL : &vts[i]);
      byte(d, 0x00);
    }
    break;
  case WIT_K_TUPLE:
    byte(d, 0x6f);
    u32(d, (uint32_t)n);
    for (int i = 0; i < n; i++) put_vt(d, vts[i]);
    break;
  case WIT_K_FLAGS: case WIT_K_ENUM:
    byte(d, t->kind == WIT_K_FLAGS ? 0x6e : 0x6d);
    u32(d, (uint32_t)n);
    for (int i = 0; i < n; i++) str(d, t->items.v[i].name);
    break;
  case WIT_K_LIST: byte(d, 0x70); put_vt(d, a); break;
  case WIT_K_FIXED_LIST: byte(d, 0x67); put_vt(d, a); u32(d, t->size); break;
  case WIT_K_OPTION: byte(d, 0x6b); put_vt(d, a); break;
  case WIT_K_MAP: byte(d, 0x63); put_vt(d, a); put_vt(d, b); break;
  case WIT_K_RESULT: byte(d, 0x6a); put_opt_vt(d, has_a ? &a : NULL); put_opt_vt(d, has_b ? &b : NULL); break;
  case WIT_K_FUTURE: case WIT_K_STREAM:
    byte(d, t->kind == WIT_K_FUTURE ? 0x65 : 0x66);
    put_opt_vt(d, has_a ? &a : NULL);
    break;
  case WIT_K_OWN: case WIT_K_BORROW:
    byte(d, t->kind == WIT_K_OWN ? 0x69 : 0x68);
    u32(d, a.idx);
    break;
  }
  *out = (vt){0, idx};
  return 0;
}

static int encode_valtype(enc *e, wit_type t, vt *out) {
  if (t < 0) { *out = (vt){prim_code(t), 0}; return 0; }
  uint32_t idx;
  if (lookup(e, t, &idx)) { *out = (vt){0, idx}; return 0; }
  const wit_typedef *d = &e->r->a.types.v[t];
  if (d->owner_kind == WIT_OWNER_INTERFACE && d->owner != e->interface) {
    idx = import_type(e, d->owner, t);
    remember(e, t, idx);
    *out = (vt){0, idx};
    return 0;
  }
  vt v;
  int rc = encode_defined(e, t, &v);
  if (rc < 0) return -1;
  if (rc == 1) { *out = v; return 0; } /* a resource */
  d = &e->r->a.types.v[t];
  if (d->name) {
    if (v.prim) { /* a named primitive: define it first */
      uint32_t i = scope_type(cur(e));
      byte(&cur(e)->decls, (unsigned)v.prim);
      v = (vt){0, i};
    }
    v = (vt){0, export_type(e, v.idx, d)};
  }
  if (!v.prim) remember(e, t, v.idx);
  *out = v;
  return 0;
}

static int func_key_eq(const wit_function *a, const wit_function *b) {
  int aa = a->kind == WIT_F_ASYNC_FREESTANDING || a->kind == WIT_F_ASYNC_METHOD || a->kind == WIT_F_ASYNC_STATIC;
  int ba = b->kind == WIT_F_ASYNC_FREESTANDING || b->kind == WIT_F_ASYNC_METHOD || b->kind == WIT_F_ASYNC_STATIC;
  if (aa != ba || a->result != b->result || a->params.n != b->params.n) return 0;
  for (int i = 0; i < a->params.n; i++)
    if (a->params.v[i].ty != b->params.v[i].ty || strcmp(a->params.v[i].name, b->params.v[i].name)) return 0;
  return 1;
}

static int encode_func_type(enc *e, const wit_function *f, uint32_t *out) {
  for (int i = 0; i < e->m.funcs.n; i++)
    if (func_key_eq(e->m.funcs.v[i].f, f)) { *out = e->m.funcs.v[i].idx; return 0; }
  vt *ps = wit_alloc(M, sizeof(vt) * (size_t)(f->params.n + 1));
  for (int i = 0; i < f->params.n; i++)
    if (encode_valtype(e, f->params.v[i].ty, &ps[i])) return -1;
  vt res = {0, 0};
  if (f->result != WIT_TNONE && encode_valtype(e, f->result, &res)) return -1;
  scope *s = cur(e);
  uint32_t idx = scope_type(s);
  int async_ = f->kind == WIT_F_ASYNC_FREESTANDING || f->kind == WIT_F_ASYNC_METHOD || f->kind == WIT_F_ASYNC_STATIC;
  byte(&s->decls, async_ ? 0x43 : 0x40);
  u32(&s->decls, (uint32_t)f->params.n);
  for (int i = 0; i < f->params.n; i++) {
    str(&s->decls, f->params.v[i].name);
    put_vt(&s->decls, ps[i]);
  }
  if (f->result != WIT_TNONE) {
    byte(&s->decls, 0x00);
    put_vt(&s->decls, res);
  } else {
    byte(&s->decls, 0x01);
    byte(&s->decls, 0x00);
  }
  func_ent fe = {f, idx};
  wit_push(M, e->m.funcs, fe);
  *out = idx;
  return 0;
}

static void push_instance(enc *e) {
  e->saved = e->m;
  memset(&e->m, 0, sizeof e->m);
  memset(&e->inst, 0, sizeof e->inst);
  e->in_inst = 1;
}

static uint32_t pop_instance(enc *e) { /* the instance type, defined in outer */
  e->m = e->saved;
  e->in_inst = 0;
  uint32_t idx = scope_type(&e->outer);
  scope_finish(&e->outer.decls, 0x42, &e->inst);
  bfree(&e->inst.decls);
  return idx;
}

static int type_pos(const wit_interface *i, int id) {
  for (int k = 0; k < i->types.n; k++)
    if (i->types.v[k].id == id) return k;
  return i->types.n;
}

/* encode_instance: the interface's types, then its functions (resource functions
 * after their resource, in type order) */
static int encode_instance(enc *e, int iface_id, uint32_t *out) {
  push_instance(e);
  const wit_interface *i = &e->r->a.interfaces.v[iface_id];
  for (int k = 0; k < i->types.n; k++) {
    vt v;
    if (encode_valtype(e, i->types.v[k].id, &v)) return -1;
    i = &e->r->a.interfaces.v[iface_id];
  }
  int n = i->funcs.f.n;
  int *order = wit_alloc(M, sizeof(int) * (size_t)(n + 1));
  int *keys = wit_alloc(M, sizeof(int) * (size_t)(n + 1));
  for (int k = 0; k < n; k++) {
    const wit_function *f = &i->funcs.f.v[k];
    keys[k] = f->kind == WIT_F_FREESTANDING || f->kind == WIT_F_ASYNC_FREESTANDING ? i->types.n
                                                                                   : type_pos(i, f->resource);
    order[k] = k;
  }
  for (int a = 1; a < n; a++) { /* stable insertion sort by key */
    int x = order[a], j = a - 1;
    while (j >= 0 && keys[order[j]] > keys[x]) { order[j + 1] = order[j]; j--; }
    order[j + 1] = x;
  }
  for (int k = 0; k < n; k++) {
    const wit_function *f = &e->r->a.interfaces.v[iface_id].funcs.f.v[order[k]];
    uint32_t ty;
    if (encode_func_type(e, f, &ty)) return -1;
    scope_extern(&e->inst, 0, f->name, NULL, f->external_id, EXT_FUNC, ty);
  }
  *out = pop_instance(e);
  map_put(e, &e->import_map, iface_id, e->outer.instances);
  e->outer.instances++;
  return 0;
}

static const char *implements_value(enc *e, const wit_witem *it) {
  if (!it->key.name || it->kind != WIT_WI_INTERFACE || !e->r->a.interfaces.v[it->id].name) return NULL;
  return wit_id_of(e->r, it->id);
}

static const char *key_name(enc *e, const wit_witem *it) {
  return it->key.name ? it->key.name : wit_id_of(e->r, it->key.iface);
}

static const char *item_external_id(enc *e, const wit_witem *it) {
  if (it->kind == WIT_WI_INTERFACE) return it->external_id;
  if (it->kind == WIT_WI_FUNCTION) return it->func.external_id;
  return e->r->a.types.v[it->id].external_id;
}

/* encode_world: the world's component type, built in e->outer */
static int encode_world(enc *e, int world) {
  for (int side = 0; side < 2; side++) {
    const wit_witems *items = side ? &e->r->a.worlds.v[world].exports : &e->r->a.worlds.v[world].imports;
    for (int k = 0; k < items->n; k++) {
      const wit_witem *it = &items->v[k];
      uint32_t idx;
      int kind;
      if (it->kind == WIT_WI_INTERFACE) {
        e->interface = it->id;
        /* the instance takes the outer instance index its import/export creates */
        if (encode_instance(e, it->id, &idx)) return -1;
        e->outer.instances--;
        kind = EXT_INSTANCE;
      } else if (it->kind == WIT_WI_FUNCTION) {
        e->interface = -1;
        if (encode_func_type(e, &it->func, &idx)) return -1;
        kind = EXT_FUNC;
      } else {
        e->interface = -1;
        e->import_types = 1;
        vt v;
        if (encode_valtype(e, it->id, &v)) return -1;
        e->import_types = 0;
        continue;
      }
      it = &(side ? &e->r->a.worlds.v[world].exports : &e->r->a.worlds.v[world].imports)->v[k];
      scope_extern(&e->outer, !side, key_name(e, it), implements_value(e, it), item_external_id(e, it), kind, idx);
    }
  }
  return 0;
}

static int add_live(enc *e, int id, wit_ints *out, int depth) {
  for (int i = 0; i < out->n; i++)
    if (out->v[i] == id) return 0;
  if (depth > 10000) return -1;
  const wit_interface *i = &e->r->a.interfaces.v[id];
  for (int k = 0; k < i->types.n; k++) {
    int dep = wit_type_interface_dep(e->r, i->types.v[k].id);
    if (dep >= 0 && add_live(e, dep, out, depth + 1)) return -1;
  }
  wit_push(M, *out, id);
  return 0;
}

/* encode_interface: imports of the interfaces it uses (their used types), then itself */
static int encode_interface(enc *e, int id) {
  wit_ints live = {0};
  if (add_live(e, id, &live, 0)) return -1;
  for (int k = 0; k < live.n; k++) {
    int iface = live.v[k];
    e->interface = iface;
    const char *name = wit_id_of(e->r, iface);
    if (iface == id) {
      uint32_t idx;
      if (encode_instance(e, iface, &idx)) return -1;
      e->outer.instances--;
      scope_extern(&e->outer, 0, name, NULL, NULL, EXT_INSTANCE, idx);
    } else {
      push_instance(e);
      const wit_interface *i = &e->r->a.interfaces.v[iface];
      for (int t = 0; t < i->types.n; t++) {
        vt v;
        if (encode_valtype(e, i->types.v[t].id, &v)) return -1;
        i = &e->r->a.interfaces.v[iface];
      }
      uint32_t idx = pop_instance(e);
      map_put(e, &e->import_map, iface, e->outer.instances);
      scope_extern(&e->outer, 1, name, NULL, NULL, EXT_INSTANCE, idx);
    }
  }
  e->interface = -1;
  return 0;
}

static void section(bytes *out, unsigned id, const bytes *body) {
  byte(out, id);
  u32(out, (uint32_t)body->n);
  append(out, body);
}

/* Exports `name` as the component type just written to `types` (index *ncount), then flushes
 * the pair as a type section and an export section: in the binary they alternate, one each. */
static void export_defined_type(bytes *comp, bytes *types, const char *name, uint32_t *ncount) {
  bytes exports = {0}, sec = {0};
  byte(&exports, 0x00);
  str(&exports, name);
  byte(&exports, 0x03);
  u32(&exports, *ncount); /* the component type just defined */
  byte(&exports, 0x00);   /* no externtype */
  *ncount += 2;           /* the type, and the type its export introduces */
  u32(&sec, 1);
  append(&sec, types);
  section(comp, 7, &sec);
  bfree(&sec);
  bfree(types);
  u32(&sec, 1);
  append(&sec, &exports);
  section(comp, 11, &sec);
  bfree(&sec);
  bfree(&exports);
}

static void reset(enc *e) {
  bfree(&e->outer.decls);
  memset(&e->outer, 0, sizeof e->outer);
  memset(&e->m, 0, sizeof e->m);
  memset(&e->import_map, 0, sizeof e->import_map);
  memset(&e->outer_types, 0, sizeof e->outer_types);
  e->interface = -1;
}

int wit_encode_package(wit_resolve *r, int pkg, unsigned char **out, size_t *out_len) {
  enc ee = {0}, *e = &ee;
  e->r = r;
  e->interface = -1;
  bytes types = {0}, comp = {0};
  uint32_t ncount = 0;
  const wit_package *p = &r->packages.v[pkg];
  int rc = 0;
  for (int k = 0; k < p->interfaces.n && !rc; k++) {
    reset(e);
    rc = encode_interface(e, p->interfaces.v[k].id);
    if (rc) break;
    scope_finish(&types, 0x41, &e->outer);
    export_defined_type(&comp, &types, p->interfaces.v[k].name, &ncount);
  }
  for (int k = 0; k < p->worlds.n && !rc; k++) {
    reset(e);
    rc = encode_world(e, p->worlds.v[k].id);
    if (rc) break;
    /* wrapper: (component (type (component ...)) (export "ns:pkg/world" (component 0))) */
    scope wrap = {0};
    uint32_t inner = scope_type(&wrap);
    scope_finish(&wrap.decls, 0x41, &e->outer);
    const wit_pkgname *pn = &r->packages.v[r->a.worlds.v[p->worlds.v[k].id].package].name;
    char *full = pn->version ? wit_fmt(&r->mem, "%s:%s/%s@%s", pn->ns, pn->name, p->worlds.v[k].name, pn->version)
                             : wit_fmt(&r->mem, "%s:%s/%s", pn->ns, pn->name, p->worlds.v[k].name);
    scope_extern(&wrap, 0, full, NULL, NULL, EXT_COMPONENT, inner);
    scope_finish(&types, 0x41, &wrap);
    bfree(&wrap.decls);
    export_defined_type(&comp, &types, p->worlds.v[k].name, &ncount);
  }
  bfree(&e->outer.decls);
  if (rc || e->failed || comp.oom) {
    bfree(&comp);
    wit_error_at(&r->err, &r->mem, wit_span_unknown(), "cmref: the package cannot be encoded");
    r->err.plain = 1;
    return -1;
  }
  bytes bin = {0};
  static const unsigned char header[] = {0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00};
  put(&bin, header, sizeof header);
  append(&bin, &comp);
  size_t mlen = 0;
  char *meta = wit_metadata_encode(r, pkg, &mlen);
  if (meta) { /* custom section "package-docs" */
    bytes sec = {0};
    str(&sec, "package-docs");
    put(&sec, meta, mlen);
    section(&bin, 0, &sec);
    bfree(&sec);
    free(meta);
  }
  bfree(&comp);
  if (bin.oom) { bfree(&bin); return -1; }
  *out = bin.v;
  *out_len = bin.n;
  return 0;
}
