/* Merging resolved packages into one Resolve (wit-parser's resolve/mod.rs):
 * foreign dependencies, feature gates, own-handle canonicalisation, world
 * `include`s (with the Cloner of resolve/clone.rs) and world elaboration. */
#include <string.h>

#include "wit/resolve.h"

typedef struct remap {
  wit_ints types, interfaces, worlds; /* -1: excluded by a feature gate */
  WIT_VEC(wit_named) own_handles;     /* resource type -> its own<T> handle (name unused) */
  wit_ints has_borrow;                /* -1 unknown, 0, 1 */
} remap;

#define M (&r->mem)

static int semantic(wit_resolve *r, wit_span s, const char *msg) {
  return wit_error_at(&r->err, M, s, "%s", msg);
}

static wit_package *pkg_of(wit_resolve *r, int id) { return &r->packages.v[id]; }

int wit_package_find(wit_resolve *r, const wit_pkgname *n) {
  for (int i = 0; i < r->packages.n; i++)
    if (wit_pkgname_eq(&r->packages.v[i].name, n)) return i;
  return -1;
}

/* include_stability: 1 included, 0 excluded, -1 error */
static int include_stability(wit_resolve *r, const wit_stability *s, int pkgid, wit_span span) {
  if (s->kind == WIT_STAB_UNKNOWN) return 1;
  if (s->kind == WIT_STAB_UNSTABLE) {
    if (r->all_features) return 1;
    for (int i = 0; i < r->features.n; i++)
      if (!strcmp(r->features.v[i], s->feature)) return 1;
    return 0;
  }
  wit_package *p = pkg_of(r, pkgid);
  char *name = wit_pkgname_str(M, &p->name);
  if (!p->name.version)
    return wit_error_at(&r->err, M, span,
                        "package [%s] contains a feature gate with a version specifier, so it must have a version", name);
  if (wit_version_cmp(s->since, p->name.version) > 0)
    return wit_error_at(&r->err, M, span,
                        "feature gate cannot reference unreleased version %s of package [%s] (current version %s)",
                        s->since, name, p->name.version);
  return 1;
}

static int apply_map(wit_resolve *r, wit_ints *map, int id, const char *desc, wit_span span, int *out) {
  if (id < 0 || id >= map->n) return semantic(r, span, "internal error: unregistered id");
  if (map->v[id] < 0)
    return wit_error_at(&r->err, M, span,
                        "found a reference to a %s which is excluded due to its feature not being activated", desc);
  *out = map->v[id];
  return 0;
}

static int map_type(wit_resolve *r, remap *m, int id, wit_span span, int *out) {
  return apply_map(r, &m->types, id, "type", span, out);
}

/* ---- foreign dependencies ---- */
typedef struct fdep {
  wit_foreign_pkg *pkg;
  wit_foreign_item *item;
} fdep;

static fdep find_fdep(wit_unresolved *u, int is_world, int id) {
  for (int i = 0; i < u->foreign.n; i++)
    for (int j = 0; j < u->foreign.v[i].items.n; j++) {
      wit_foreign_item *it = &u->foreign.v[i].items.v[j];
      if (it->is_world == is_world && it->id == id) return (fdep){&u->foreign.v[i], it};
    }
  return (fdep){NULL, NULL};
}

static int package_not_found(wit_resolve *r, wit_foreign_pkg *fp) {
  char *req = wit_pkgname_str(M, &fp->name);
  if (!r->packages.n) return wit_error_at(&r->err, M, fp->span, "package '%s' not found", req);
  char *msg = wit_fmt(M, "package '%s' not found. known packages:", req);
  for (int i = 0; i < r->packages.n; i++)
    msg = wit_fmt(M, "%s\n    %s", msg, wit_pkgname_str(M, &r->packages.v[i].name));
  return semantic(r, fp->span, msg);
}

static int any_enabled(wit_resolve *r, wit_foreign_item *it, int parent, wit_span span) {
  for (int i = 0; i < it->stabs.n; i++) {
    int inc = include_stability(r, &it->stabs.v[i], parent, span);
    if (inc) return inc;
  }
  return 0;
}

static int process_foreign_items(wit_resolve *r, remap *m, wit_unresolved *u, int parent, int worlds) {
  int n = worlds ? u->a.worlds.n : u->a.interfaces.n;
  for (int i = 0; i < n; i++) {
    fdep d = find_fdep(u, worlds, i);
    if (!d.pkg) break;
    int pkgid = wit_package_find(r, &d.pkg->name);
    if (pkgid < 0) return package_not_found(r, d.pkg);
    wit_span span = worlds ? u->a.worlds.v[i].span : u->a.interfaces.v[i].span;
    int en = any_enabled(r, d.item, parent, span);
    if (en < 0) return -1;
    if (!en) {
      wit_push(M, *(worlds ? &m->worlds : &m->interfaces), -1);
      continue;
    }
    wit_package *p = pkg_of(r, pkgid);
    int id = wit_names_find(worlds ? &p->worlds : &p->interfaces, d.item->name);
    if (id < 0)
      return wit_error_at(&r->err, M, span, "%s '%s' not found in package '%s'", worlds ? "world" : "interface",
                          d.item->name, wit_pkgname_str(M, &p->name));
    wit_push(M, *(worlds ? &m->worlds : &m->interfaces), id);
  }
  return 0;
}

static int process_foreign_types(wit_resolve *r, remap *m, wit_unresolved *u, int pkgid) {
  for (int i = 0; i < u->a.types.n; i++) {
    wit_typedef *t = &u->a.types.v[i];
    if (t->kind != WIT_K_UNKNOWN) break;
    int inc = include_stability(r, &t->stab, pkgid, t->span);
    if (inc < 0) return -1;
    if (!inc) {
      wit_push(M, m->types, -1);
      continue;
    }
    int iface;
    if (apply_map(r, &m->interfaces, t->owner, "interface", wit_span_unknown(), &iface)) return -1;
    int id = wit_names_find(&r->a.interfaces.v[iface].types, t->name);
    if (id < 0) return wit_error_at(&r->err, M, u->unknown_type_spans.v[i], "type `%s` not defined in interface", t->name);
    wit_push(M, m->types, id);
  }
  return 0;
}

static int process_foreign_deps(wit_resolve *r, remap *m, wit_unresolved *u, int pkgid) {
  if (process_foreign_items(r, m, u, pkgid, 0) || process_foreign_items(r, m, u, pkgid, 1) ||
      process_foreign_types(r, m, u, pkgid))
    return -1;
  for (int i = 0; i < u->required_resource_types.n; i++) {
    wit_type_span *ts = &u->required_resource_types.v[i];
    int id;
    if (ts->id >= m->types.n || m->types.v[ts->id] < 0) continue;
    id = m->types.v[ts->id];
    for (int guard = 0; guard < 100000; guard++) {
      wit_typedef *t = &r->a.types.v[id];
      if (t->kind == WIT_K_TYPE && t->a >= 0) { id = t->a; continue; }
      if (t->kind == WIT_K_RESOURCE) break;
      return semantic(r, ts->span, "type used in a handle must be a resource");
    }
  }
  return 0;
}

/* ---- updating ids from the package's arenas to the Resolve's ---- */
static int alloc_type(wit_resolve *r, const wit_typedef *t) {
  wit_push(M, r->a.types, *t);
  return r->a.types.n - 1;
}

static int own_handle_of(wit_resolve *r, remap *m, int res, int new_id) {
  for (int i = 0; i < m->own_handles.n; i++)
    if (m->own_handles.v[i].id == res) return (int)m->own_handles.v[i].span.start;
  if (new_id < 0) {
    wit_typedef h = {0};
    h.kind = WIT_K_OWN;
    h.a = res;
    h.b = WIT_TNONE;
    h.span = wit_span_unknown();
    new_id = alloc_type(r, &h);
  }
  wit_named e = {NULL, res, {(uint32_t)new_id, 0}};
  wit_push(M, m->own_handles, e);
  return new_id;
}

static int update_ty(wit_resolve *r, remap *m, wit_type *ty, wit_span span) {
  if (*ty < 0) return 0;
  if (map_type(r, m, *ty, span, ty)) return -1;
  int cur = *ty;
  for (int guard = 0; guard < 100000; guard++) {
    wit_typedef *t = &r->a.types.v[cur];
    if (t->kind == WIT_K_TYPE && t->a >= 0) { cur = t->a; continue; }
    if (t->kind == WIT_K_RESOURCE) *ty = own_handle_of(r, m, *ty, -1);
    break;
  }
  return 0;
}

static int update_typedef(wit_resolve *r, remap *m, wit_typedef *t, wit_span span) {
  switch (t->kind) {
  case WIT_K_OWN: case WIT_K_BORROW: return map_type(r, m, t->a, span, &t->a);
  case WIT_K_TYPE: return t->a >= 0 ? map_type(r, m, t->a, span, &t->a) : 0;
  case WIT_K_RECORD: case WIT_K_TUPLE: case WIT_K_VARIANT:
    for (int i = 0; i < t->items.n; i++) {
      wit_span s = t->kind == WIT_K_RECORD ? t->items.v[i].span : span;
      if (t->items.v[i].ty != WIT_TNONE && update_ty(r, m, &t->items.v[i].ty, s)) return -1;
    }
    return 0;
  case WIT_K_OPTION: case WIT_K_LIST: case WIT_K_FIXED_LIST: case WIT_K_FUTURE: case WIT_K_STREAM:
  case WIT_K_MAP: case WIT_K_RESULT:
    if (t->a != WIT_TNONE && update_ty(r, m, &t->a, span)) return -1;
    if (t->b != WIT_TNONE && update_ty(r, m, &t->b, span)) return -1;
    return 0;
  }
  return 0;
}

/* type_has_borrow: memoised, computed children first on an explicit stack */
static int child_types(const wit_typedef *t, wit_type *out, int max) {
  int n = 0;
  switch (t->kind) {
  case WIT_K_BORROW: case WIT_K_OWN: case WIT_K_RESOURCE: case WIT_K_FLAGS: case WIT_K_ENUM: case WIT_K_UNKNOWN:
    return 0;
  case WIT_K_RECORD: case WIT_K_TUPLE: case WIT_K_VARIANT:
    for (int i = 0; i < t->items.n && n < max; i++)
      if (t->items.v[i].ty >= 0) out[n++] = t->items.v[i].ty;
    return n;
  default:
    if (t->a >= 0) out[n++] = t->a;
    if (t->b >= 0) out[n++] = t->b;
    return n;
  }
}

static int type_has_borrow(wit_resolve *r, remap *m, wit_type ty) {
  if (ty < 0) return 0;
  while (m->has_borrow.n < r->a.types.n) wit_push(M, m->has_borrow, -1);
  if (m->has_borrow.v[ty] >= 0) return m->has_borrow.v[ty];
  wit_ints st = {0};
  wit_push(M, st, ty);
  while (st.n) {
    int t = st.v[st.n - 1];
    if (m->has_borrow.v[t] >= 0) { st.n--; continue; }
    const wit_typedef *d = &r->a.types.v[t];
    if (d->kind == WIT_K_BORROW) { m->has_borrow.v[t] = 1; st.n--; continue; }
    int pending = 0, res = 0;
    wit_type kids[2];
    int nk = d->kind == WIT_K_RECORD || d->kind == WIT_K_TUPLE || d->kind == WIT_K_VARIANT ? 0 : child_types(d, kids, 2);
    if (nk == 0 && (d->kind == WIT_K_RECORD || d->kind == WIT_K_TUPLE || d->kind == WIT_K_VARIANT)) {
      for (int i = 0; i < d->items.n; i++) {
        wit_type c = d->items.v[i].ty;
        if (c < 0) continue;
        if (m->has_borrow.v[c] < 0) { wit_push(M, st, c); pending = 1; }
        else res |= m->has_borrow.v[c];
      }
    } else {
      for (int i = 0; i < nk; i++) {
        if (m->has_borrow.v[kids[i]] < 0) { wit_push(M, st, kids[i]); pending = 1; }
        else res |= m->has_borrow.v[kids[i]];
      }
    }
    if (!pending) {
      m->has_borrow.v[t] = res;
      st.n--;
    }
  }
  return m->has_borrow.v[ty];
}

static int update_function(wit_resolve *r, remap *m, wit_function *f, wit_span span) {
  if (f->kind != WIT_F_FREESTANDING && f->kind != WIT_F_ASYNC_FREESTANDING &&
      map_type(r, m, f->resource, span, &f->resource))
    return -1;
  for (int i = 0; i < f->params.n; i++)
    if (update_ty(r, m, &f->params.v[i].ty, span)) return -1;
  if (f->result != WIT_TNONE && update_ty(r, m, &f->result, span)) return -1;
  if (f->result != WIT_TNONE && type_has_borrow(r, m, f->result))
    return wit_error_at(&r->err, M, span,
                        "function `%s` returns a type which contains a `borrow<T>` which is not supported", f->name);
  return 0;
}

static int update_interface(wit_resolve *r, remap *m, wit_interface *iface) {
  wit_names kept = {0};
  for (int i = 0; i < iface->types.n; i++) {
    wit_named t = iface->types.v[i];
    if (m->types.v[t.id] < 0) continue;
    if (map_type(r, m, t.id, iface->span, &t.id)) return -1;
    wit_push(M, kept, t);
  }
  iface->types = kept;
  wit_funcs funcs = {0};
  for (int i = 0; i < iface->funcs.f.n; i++) {
    wit_function *f = &iface->funcs.f.v[i];
    int inc = include_stability(r, &f->stab, iface->package, f->span);
    if (inc < 0) return -1;
    if (!inc) continue;
    if (update_function(r, m, f, f->span)) return -1;
    wit_push(M, funcs.f, *f);
  }
  iface->funcs = funcs;
  return 0;
}

static int update_world(wit_resolve *r, remap *m, wit_world *w, int pkgid) {
  wit_witems *lists[2] = {&w->imports, &w->exports};
  wit_witems out[2] = {{0}, {0}};
  for (int l = 0; l < 2; l++)
    for (int i = 0; i < lists[l]->n; i++) {
      wit_witem it = lists[l]->v[i];
      wit_span span = it.kind == WIT_WI_FUNCTION ? it.func.span : it.span;
      if (it.kind == WIT_WI_TYPE && map_type(r, m, it.id, span, &it.id)) return -1;
      const wit_stability *s = it.kind == WIT_WI_INTERFACE ? &it.stab
                               : it.kind == WIT_WI_FUNCTION ? &it.func.stab
                                                            : &r->a.types.v[it.id].stab;
      int inc = include_stability(r, s, pkgid, span);
      if (inc < 0) return -1;
      if (!inc) continue;
      if (!it.key.name && apply_map(r, &m->interfaces, it.key.iface, "interface", span, &it.key.iface)) return -1;
      if (it.kind == WIT_WI_INTERFACE && apply_map(r, &m->interfaces, it.id, "interface", span, &it.id)) return -1;
      if (it.kind == WIT_WI_FUNCTION && update_function(r, m, &it.func, span)) return -1;
      wit_push(M, out[l], it);
    }
  w->imports = out[0];
  w->exports = out[1];
  return 0;
}

/* ---- includes ---- */
static int witems_find_r(wit_resolve *r, const wit_witems *m, const wit_key *k) {
  return wit_witems_find(M, &r->keys, m, k);
}

static char *rename_item(wit_resolve *r, const char *orig, const wit_include_name *n) {
  if (!strcmp(orig, n->name)) return n->as;
  const char *br = strchr(orig, ']');
  if (!br) return NULL;
  const char *rest = br + 1;
  const char *dot = strchr(rest, '.');
  int kind_len = (int)(br - orig);
  if (dot && (size_t)(dot - rest) == strlen(n->name) && !strncmp(rest, n->name, (size_t)(dot - rest)))
    return wit_fmt(M, "%.*s]%s.%s", kind_len, orig, n->as, dot + 1);
  if (!strcmp(rest, n->name)) return wit_fmt(M, "%.*s]%s", kind_len, orig, n->as);
  return NULL;
}

typedef struct cloner {
  wit_ints from, to; /* type id maps */
  int prev_kind, prev, new_kind, new_owner;
  int new_package;
} cloner;

static void clone_type_id(wit_resolve *r, cloner *c, int *id);

static void clone_ty(wit_resolve *r, cloner *c, wit_type *t) {
  if (*t >= 0) clone_type_id(r, c, t);
}

static int clone_lookup(cloner *c, int id) {
  for (int i = 0; i < c->from.n; i++)
    if (c->from.v[i] == id) return c->to.v[i];
  return -1;
}

static void clone_type_def(wit_resolve *r, cloner *c, wit_typedef *d) {
  if (d->owner_kind != WIT_OWNER_NONE) {
    d->owner_kind = c->new_kind;
    d->owner = c->new_owner;
  }
  switch (d->kind) {
  case WIT_K_TYPE:
    if (d->a >= 0) {
      wit_typedef *t = &r->a.types.v[d->a];
      if (t->owner_kind == c->prev_kind && t->owner == c->prev) clone_type_id(r, c, &d->a);
      else if (clone_lookup(c, d->a) >= 0) d->a = clone_lookup(c, d->a);
    }
    return;
  case WIT_K_RESOURCE: case WIT_K_FLAGS: case WIT_K_ENUM: case WIT_K_UNKNOWN: return;
  case WIT_K_OWN: case WIT_K_BORROW: clone_type_id(r, c, &d->a); return;
  case WIT_K_RECORD: case WIT_K_TUPLE: case WIT_K_VARIANT: {
    wit_items items = {0};
    for (int i = 0; i < d->items.n; i++) {
      wit_item it = d->items.v[i];
      clone_ty(r, c, &it.ty);
      wit_push(M, items, it);
    }
    d->items = items;
    return;
  }
  default:
    clone_ty(r, c, &d->a);
    clone_ty(r, c, &d->b);
  }
}

static void clone_type_id(wit_resolve *r, cloner *c, int *id) {
  int got = clone_lookup(c, *id);
  if (got < 0) {
    if (++r->depth > 1000) { r->depth--; return; }
    wit_typedef nt = r->a.types.v[*id];
    clone_type_def(r, c, &nt);
    got = alloc_type(r, &nt);
    wit_push(M, c->from, *id);
    wit_push(M, c->to, got);
    r->depth--;
  }
  *id = got;
}

static void clone_function(wit_resolve *r, cloner *c, wit_function *f) {
  if (f->kind != WIT_F_FREESTANDING && f->kind != WIT_F_ASYNC_FREESTANDING) clone_type_id(r, c, &f->resource);
  wit_items params = {0};
  for (int i = 0; i < f->params.n; i++) {
    wit_item p = f->params.v[i];
    clone_ty(r, c, &p.ty);
    wit_push(M, params, p);
  }
  f->params = params;
  clone_ty(r, c, &f->result);
}

static void clone_interface(wit_resolve *r, cloner *c, int *id) {
  int old = *id;
  wit_interface ni = r->a.interfaces.v[old];
  int next = r->a.interfaces.n;
  cloner sub = *c;
  sub.prev_kind = WIT_OWNER_INTERFACE;
  sub.prev = old;
  sub.new_kind = WIT_OWNER_INTERFACE;
  sub.new_owner = next;
  /* reserve the id so that nested allocations do not take it */
  wit_push(M, r->a.interfaces, ni);
  wit_names types = {0};
  for (int i = 0; i < ni.types.n; i++) {
    wit_named t = ni.types.v[i];
    clone_type_id(r, &sub, &t.id);
    wit_push(M, types, t);
  }
  wit_funcs funcs = {0};
  for (int i = 0; i < ni.funcs.f.n; i++) {
    wit_function f = ni.funcs.f.v[i];
    clone_function(r, &sub, &f);
    wit_push(M, funcs.f, f);
  }
  c->from = sub.from;
  c->to = sub.to;
  ni.types = types;
  ni.funcs = funcs;
  ni.package = c->new_package;
  ni.clone_of = old;
  r->a.interfaces.v[next] = ni;
  *id = next;
}

static void clone_world_item(wit_resolve *r, cloner *c, wit_witem *it) {
  if (!it->key.name) return;
  if (it->kind == WIT_WI_TYPE) clone_type_id(r, c, &it->id);
  else if (it->kind == WIT_WI_FUNCTION) clone_function(r, c, &it->func);
  else if (!r->a.interfaces.v[it->id].name) clone_interface(r, c, &it->id);
}

static int update_stability(wit_resolve *r, const wit_stability *from, wit_stability *into, wit_span span) {
  if (wit_stab_eq(from, into) || from->kind == WIT_STAB_UNKNOWN) return 0;
  if (into->kind == WIT_STAB_UNKNOWN) {
    *into = *from;
    return 0;
  }
  return semantic(r, span, "mismatch in stability");
}

static int include_item(wit_resolve *r, cloner *c, int world, int exports, const wit_include *inc,
                        const wit_witem *src, int external) {
  const char *type = exports ? "export" : "import";
  if (src->key.name) {
    char *n = NULL;
    for (int i = 0; i < inc->names.n && !n; i++) n = rename_item(r, src->key.name, &inc->names.v[i]);
    if (!n) n = src->key.name;
    wit_witem it = *src;
    clone_world_item(r, c, &it);
    if (it.kind == WIT_WI_FUNCTION) it.func.name = n;
    else if (it.kind == WIT_WI_TYPE) r->a.types.v[it.id].name = n;
    it.key.name = n;
    wit_witems *dst = exports ? &r->a.worlds.v[world].exports : &r->a.worlds.v[world].imports;
    if (witems_find_r(r, dst, &it.key) >= 0)
      return wit_error_at(&r->err, M, inc->span, "%s of `%s` shadows previously %sed items", type, n, type);
    wit_push(M, *dst, it);
    return 0;
  }
  wit_witems *dst = exports ? &r->a.worlds.v[world].exports : &r->a.worlds.v[world].imports;
  int k = witems_find_r(r, dst, &src->key);
  if (k < 0) { /* entry().or_insert(): the merge below then runs against the copy */
    wit_push(M, *dst, *src);
    k = dst->n - 1;
  }
  wit_witem *into = &dst->v[k];
  if (external && src->stab.kind == WIT_STAB_STABLE) {
    memset(&into->stab, 0, sizeof into->stab);
    return 0;
  }
  return update_stability(r, &src->stab, &into->stab, src->span);
}

static int resolve_include(wit_resolve *r, remap *m, int world, const wit_include *inc, int pkgid) {
  int from;
  if (apply_map(r, &m->worlds, inc->world, "world", inc->span, &from)) return -1;
  wit_world src = r->a.worlds.v[from];
  int external = r->a.worlds.v[world].package != src.package;
  for (int i = 0; i < inc->names.n; i++) {
    int used = 0;
    wit_witems *lists[2] = {&src.imports, &src.exports};
    for (int l = 0; l < 2 && !used; l++)
      for (int j = 0; j < lists[l]->n && !used; j++)
        if (lists[l]->v[j].key.name && rename_item(r, lists[l]->v[j].key.name, &inc->names.v[i])) used = 1;
    if (!used)
      return wit_error_at(&r->err, M, inc->span,
                          "no import or export kebab-name `%s`. Note that an ID does not support renaming",
                          inc->names.v[i].name);
  }
  cloner c = {{0}, {0}, WIT_OWNER_WORLD, from, WIT_OWNER_WORLD, world, pkgid};
  for (int i = 0; i < src.imports.n; i++)
    if (include_item(r, &c, world, 0, inc, &src.imports.v[i], external)) return -1;
  for (int i = 0; i < src.exports.n; i++)
    if (include_item(r, &c, world, 1, inc, &src.exports.v[i], external)) return -1;
  return 0;
}

static char *lowercase(wit_resolve *r, const char *s) {
  char *d = wit_strdup(M, s);
  for (char *p = d; *p; p++)
    if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
  return d;
}

/* validate_world_case_insensitive_names: a map lowercase name -> last name seen */
static int validate_case_insensitive(wit_resolve *r, int world) {
  wit_world *w = &r->a.worlds.v[world];
  wit_witems *lists[2] = {&w->imports, &w->exports};
  for (int l = 0; l < 2; l++) {
    const char *type = l ? "export" : "import";
    int n = lists[l]->n, ns = 16;
    while (ns < n * 4) ns *= 2;
    char **low = wit_alloc(M, sizeof(char *) * (size_t)ns);
    const char **seen = wit_alloc(M, sizeof(char *) * (size_t)ns);
    for (int i = 0; i < n; i++) {
      const char *a = lists[l]->v[i].key.name;
      if (!a) continue;
      char *la = lowercase(r, a);
      uint32_t h = 2166136261u;
      for (const char *p = la; *p; p++) h = (h ^ (unsigned char)*p) * 16777619u;
      uint32_t s = h & (uint32_t)(ns - 1);
      while (low[s] && strcmp(low[s], la)) s = (s + 1) & (uint32_t)(ns - 1);
      if (low[s] && strcmp(seen[s], a)) {
        int e = wit_error_at(&r->err, M, wit_span_unknown(),
                             "%s `%s` in world `%s` conflicts with %s `%s` (kebab-case identifiers are case-insensitive)",
                             type, a, w->name, type, seen[s]);
        r->err.plain = 1;
        return e;
      }
      low[s] = la;
      seen[s] = a;
    }
  }
  return 0;
}

static int process_world_includes(wit_resolve *r, remap *m, int world, int pkgid) {
  wit_world *w = &r->a.worlds.v[world];
  int n = w->includes.n;
  wit_include *incs = w->includes.v;
  memset(&w->includes, 0, sizeof w->includes);
  for (int i = 0; i < n; i++) {
    int inc = include_stability(r, &incs[i].stab, pkgid, incs[i].span);
    if (inc < 0) return -1;
    if (inc && resolve_include(r, m, world, &incs[i], pkgid)) return -1;
  }
  return validate_case_insensitive(r, world);
}

/* ---- world elaboration ---- */
int wit_type_interface_dep(wit_resolve *r, int id) {
  wit_typedef *t = &r->a.types.v[id];
  if (t->kind != WIT_K_TYPE || t->a < 0) return -1;
  wit_typedef *o = &r->a.types.v[t->a];
  if (o->owner_kind == t->owner_kind && o->owner == t->owner) return -1;
  return o->owner_kind == WIT_OWNER_INTERFACE ? o->owner : -1;
}

static int sort_key(wit_resolve *r, const wit_witem *it) {
  if (it->kind == WIT_WI_INTERFACE) return 0;
  if (it->kind == WIT_WI_TYPE) {
    wit_typedef *t = &r->a.types.v[it->id];
    if (t->kind == WIT_K_TYPE && t->a >= 0) {
      wit_typedef *o = &r->a.types.v[t->a];
      if (o->owner_kind != t->owner_kind || o->owner != t->owner) return 1;
    }
    return 2;
  }
  return it->func.kind == WIT_F_FREESTANDING || it->func.kind == WIT_F_ASYNC_FREESTANDING ? 3 : 4;
}

/* a stable sort by sort_key (4 buckets, so a counting sort) */
static void stable_sort(wit_resolve *r, wit_witems *items) {
  int n = items->n;
  if (n < 2) return;
  wit_witem *tmp = wit_alloc(M, sizeof(wit_witem) * (size_t)n);
  int *keys = wit_alloc(M, sizeof(int) * (size_t)n);
  int start[6] = {0};
  for (int i = 0; i < n; i++) {
    keys[i] = sort_key(r, &items->v[i]);
    start[keys[i] + 1]++;
  }
  for (int k = 1; k < 6; k++) start[k] += start[k - 1];
  for (int i = 0; i < n; i++) tmp[start[keys[i]]++] = items->v[i];
  wit_keycache_forget(&r->keys, items);
  memcpy(items->v, tmp, sizeof(wit_witem) * (size_t)n);
}

/* elaborate_world_import: an interface after the interfaces its types come from
 * (a depth-first walk, kept on an explicit stack: chains can be long) */
typedef struct elab_frame {
  wit_key key;
  int id, next;
  char *docs, *external_id;
} elab_frame;

static void elaborate_import(wit_resolve *r, wit_witems *imports, wit_key key, int id, const wit_stability *stab,
                             char *docs, char *external_id) {
  if (witems_find_r(r, imports, &key) >= 0) return;
  WIT_VEC(elab_frame) st = {0};
  elab_frame root = {key, id, 0, docs, external_id};
  wit_push(M, st, root);
  while (st.n) {
    elab_frame *f = &st.v[st.n - 1];
    wit_interface *iface = &r->a.interfaces.v[f->id];
    if (f->next < iface->types.n) {
      int dep = wit_type_interface_dep(r, iface->types.v[f->next++].id);
      wit_key dk = {NULL, dep};
      if (dep >= 0 && witems_find_r(r, imports, &dk) < 0) {
        elab_frame fr = {dk, dep, 0, NULL, NULL};
        wit_push(M, st, fr);
      }
      continue;
    }
    wit_witem it = {0};
    it.key = f->key;
    it.kind = WIT_WI_INTERFACE;
    it.id = f->id;
    it.stab = *stab;
    it.docs = f->docs;
    it.span = wit_span_unknown();
    it.external_id = f->external_id;
    st.n--;
    if (witems_find_r(r, imports, &it.key) < 0) wit_push(M, *imports, it);
  }
}

typedef struct export_cx {
  wit_witems *imports, *exports, *export_ifaces;
  wit_ints required;
  int depth;
} export_cx;

static int contains(const wit_ints *v, int x) {
  for (int i = 0; i < v->n; i++)
    if (v->v[i] == x) return 1;
  return 0;
}

/* 1 ok, 0 incompatible, -1 nesting too deep */
static int add_world_export(wit_resolve *r, export_cx *cx, wit_witem item, int add_export) {
  if (witems_find_r(r, cx->exports, &item.key) >= 0) return add_export;
  if (cx->depth > 5000) return -1;
  int id = item.id;
  if (!add_export && contains(&cx->required, id)) return 1;
  wit_interface *iface = &r->a.interfaces.v[id];
  for (int i = 0; i < iface->types.n; i++) {
    int dep = wit_type_interface_dep(r, iface->types.v[i].id);
    if (dep < 0) continue;
    wit_witem d = {0};
    d.key = (wit_key){NULL, dep};
    d.kind = WIT_WI_INTERFACE;
    d.id = dep;
    d.stab = item.stab;
    d.span = wit_span_unknown();
    d.external_id = item.external_id;
    int sub_add = add_export && witems_find_r(r, cx->export_ifaces, &d.key) >= 0;
    cx->depth++;
    int ok = add_world_export(r, cx, d, sub_add);
    cx->depth--;
    if (ok <= 0) return ok;
  }
  if (add_export) {
    if (contains(&cx->required, id)) return 0;
    wit_push(M, *cx->exports, item);
  } else {
    wit_push(M, cx->required, id);
    if (witems_find_r(r, cx->imports, &item.key) < 0) wit_push(M, *cx->imports, item);
  }
  return 1;
}

char *wit_id_of(wit_resolve *r, int iface) {
  wit_interface *i = &r->a.interfaces.v[iface];
  if (!i->name || i->package < 0) return "<unnamed>";
  wit_pkgname *p = &r->packages.v[i->package].name;
  if (p->version) return wit_fmt(M, "%s:%s/%s@%s", p->ns, p->name, i->name, p->version);
  return wit_fmt(M, "%s:%s/%s", p->ns, p->name, i->name);
}

static int elaborate_world(wit_resolve *r, int world_id) {
  wit_world *w = &r->a.worlds.v[world_id];
  wit_witems imports = {0}, sorted = {0}, exports = {0}, export_ifaces = {0};
  for (int i = 0; i < w->imports.n; i++) wit_push(M, sorted, w->imports.v[i]);
  stable_sort(r, &sorted);
  for (int i = 0; i < sorted.n; i++) {
    wit_witem *it = &sorted.v[i];
    if (it->kind == WIT_WI_INTERFACE) {
      elaborate_import(r, &imports, it->key, it->id, &it->stab, it->docs, it->external_id);
      continue;
    }
    if (it->kind == WIT_WI_TYPE) {
      int dep = wit_type_interface_dep(r, it->id);
      if (dep >= 0)
        elaborate_import(r, &imports, (wit_key){NULL, dep}, dep, &r->a.types.v[it->id].stab, NULL, NULL);
    }
    wit_push(M, imports, *it);
  }
  for (int i = 0; i < w->exports.n; i++) {
    if (w->exports.v[i].kind == WIT_WI_INTERFACE) wit_push(M, export_ifaces, w->exports.v[i]);
    else wit_push(M, exports, w->exports.v[i]);
  }
  export_cx cx = {&imports, &exports, &export_ifaces, {0}, 0};
  for (int i = 0; i < export_ifaces.n; i++) {
    wit_witem *it = &export_ifaces.v[i];
    char *name = it->key.name ? it->key.name : wit_id_of(r, it->key.iface);
    int ok = add_world_export(r, &cx, *it, 1);
    if (ok < 0) return semantic(r, w->span, "exported interfaces depend on each other too deeply");
    if (!ok)
      return wit_error_at(&r->err, M, w->span,
                          "interface `%s` transitively depends on an interface in incompatible ways", name);
  }
  stable_sort(r, &imports);
  w = &r->a.worlds.v[world_id];
  w->imports = imports;
  w->exports = exports;
  return 0;
}

/* ---- Remap::append ---- */
int wit_append(wit_resolve *r, wit_unresolved *u) {
  remap m = {0};
  wit_package p = {0};
  p.name = u->name;
  p.docs = u->docs;
  wit_push(M, r->packages, p);
  int pkgid = r->packages.n - 1;
  if (process_foreign_deps(r, &m, u, pkgid)) return -1;
  int ftypes = m.types.n, fifaces = m.interfaces.n, fworlds = m.worlds.n;

  for (int i = ftypes; i < u->a.types.n; i++) {
    wit_typedef t = u->a.types.v[i];
    int inc = include_stability(r, &t.stab, pkgid, t.span);
    if (inc < 0) return -1;
    if (!inc) { wit_push(M, m.types, -1); continue; }
    /* own copies of the payload: the unresolved arena is shared by includes */
    wit_items items = {0};
    for (int k = 0; k < t.items.n; k++) wit_push(M, items, t.items.v[k]);
    t.items = items;
    if (update_typedef(r, &m, &t, t.span)) return -1;
    int id = alloc_type(r, &t);
    if (!t.name && t.owner_kind == WIT_OWNER_NONE && t.kind == WIT_K_OWN) id = own_handle_of(r, &m, t.a, id);
    wit_push(M, m.types, id);
  }
  for (int i = fifaces; i < u->a.interfaces.n; i++) {
    wit_interface iface = u->a.interfaces.v[i];
    int inc = include_stability(r, &iface.stab, pkgid, iface.span);
    if (inc < 0) return -1;
    if (!inc) { wit_push(M, m.interfaces, -1); continue; }
    iface.package = pkgid;
    if (update_interface(r, &m, &iface)) return -1;
    wit_push(M, r->a.interfaces, iface);
    wit_push(M, m.interfaces, r->a.interfaces.n - 1);
  }
  for (int i = ftypes; i < m.types.n; i++) {
    if (m.types.v[i] < 0) continue;
    wit_typedef *t = &r->a.types.v[m.types.v[i]];
    if (t->owner_kind == WIT_OWNER_INTERFACE) {
      int o;
      if (apply_map(r, &m.interfaces, t->owner, "interface", t->span, &o)) {
        r->err.msg = wit_fmt(M, "%s; this type is not gated by a feature but its interface is", r->err.msg);
        return -1;
      }
      t->owner = o;
    }
  }
  for (int i = fworlds; i < u->a.worlds.n; i++) {
    wit_world w = u->a.worlds.v[i];
    int inc = include_stability(r, &w.stab, pkgid, w.span);
    if (inc < 0) return -1;
    if (!inc) { wit_push(M, m.worlds, -1); continue; }
    if (update_world(r, &m, &w, pkgid)) return -1;
    wit_push(M, r->a.worlds, w);
    wit_push(M, m.worlds, r->a.worlds.n - 1);
  }
  for (int i = ftypes; i < m.types.n; i++) {
    if (m.types.v[i] < 0) continue;
    wit_typedef *t = &r->a.types.v[m.types.v[i]];
    if (t->owner_kind == WIT_OWNER_WORLD) {
      int o;
      if (apply_map(r, &m.worlds, t->owner, "world", t->span, &o)) {
        r->err.msg = wit_fmt(M, "%s; this type is not gated by a feature but its world is", r->err.msg);
        return -1;
      }
      t->owner = o;
    }
  }
  for (int i = fworlds; i < m.worlds.n; i++) {
    int id = m.worlds.v[i];
    if (id < 0) continue;
    r->a.worlds.v[id].package = pkgid; /* is_external_include compares packages */
  }
  for (int i = fworlds; i < m.worlds.n; i++) {
    int id = m.worlds.v[i];
    if (id < 0) continue;
    if (process_world_includes(r, &m, id, pkgid) || elaborate_world(r, id)) return -1;
  }
  for (int i = fifaces; i < m.interfaces.n; i++) {
    int id = m.interfaces.v[i];
    if (id < 0) continue;
    r->a.interfaces.v[id].package = pkgid;
    if (r->a.interfaces.v[id].name) {
      wit_named n = {r->a.interfaces.v[id].name, id, {0, 0}};
      wit_push(M, r->packages.v[pkgid].interfaces, n);
    }
  }
  for (int i = fworlds; i < m.worlds.n; i++) {
    int id = m.worlds.v[i];
    if (id < 0) continue;
    wit_named n = {r->a.worlds.v[id].name, id, {0, 0}};
    wit_push(M, r->packages.v[pkgid].worlds, n);
  }
  return pkgid;
}
