/* A component's type as a WIT world (wit-parser's decoding.rs, decode_component):
 * the component is decoded and validated by interp/component/, then its imports
 * and exports become the world `root` of package `root:component`; instances
 * named `ns:pkg/iface@v` become interfaces of foreign packages, other instances
 * inline interfaces, and type exports named types (identity: the validated type). */
#include <string.h>

#include "component/component.h"
#include "component/types.h"
#include "wit/resolve.h"

#define M (&d->r->mem)

typedef struct res_name {
  int owner_kind, owner;
  const char *name;
  int id;
} res_name;

typedef struct fpkg {
  wit_pkgname name;
  wit_names ifaces;
} fpkg;

typedef struct copy_ref {
  cmc_tid tid;
  int id;
} copy_ref;

typedef struct dec {
  WIT_VEC(copy_ref) copies;
  wit_resolve *r;
  cmc_types *T;
  int *tmap; /* cmc type id -> WIT type id, or -1 */
  WIT_VEC(fpkg) foreign;
  wit_ints iface_pkg;        /* interface id -> index in foreign, or -1 */
  wit_names named_ifaces;    /* full interface name -> interface id */
  WIT_VEC(res_name) resources;
  wit_names root_ifaces;
  int world;
} dec;

static int fail(dec *d, const char *fmt, const char *a, const char *b) {
  wit_error_at(&d->r->err, M, wit_span_unknown(), fmt, a, b ? b : "");
  d->r->err.plain = 1;
  return -1;
}

static cmc_type *TT(dec *d, cmc_tid id) { return &d->T->v[id]; }

static wit_type prim(uint8_t code) {
  switch (code) {
  case CMC_BOOL: return WIT_TBOOL;
  case CMC_S8: return WIT_TS8;
  case CMC_U8: return WIT_TU8;
  case CMC_S16: return WIT_TS16;
  case CMC_U16: return WIT_TU16;
  case CMC_S32: return WIT_TS32;
  case CMC_U32: return WIT_TU32;
  case CMC_S64: return WIT_TS64;
  case CMC_U64: return WIT_TU64;
  case CMC_F32: return WIT_TF32;
  case CMC_F64: return WIT_TF64;
  case CMC_CHAR: return WIT_TCHAR;
  case CMC_STRING: return WIT_TSTRING;
  case CMC_ERROR_CONTEXT: return WIT_TERRCTX;
  }
  return WIT_TNONE;
}

/* Is `b` a copy validation made of `a` (the same members array)? */
static int same_copy(dec *d, cmc_tid a, cmc_tid b) {
  const cmc_type *x = TT(d, a), *y = TT(d, b);
  if (x->kind != y->kind || x->kind == CMC_T_PRIM || x->kind == CMC_T_RESOURCE) return 0;
  /* a type with no members array carries nothing that tells a copy from a twin */
  return x->n && x->n == y->n && x->fields == y->fields;
}

/* The WIT type already standing for component type `id`. Validation gives every type
 * import/export a node of its own (wasmparser's "created" id), copied from the type it
 * names: a resource copy points at its root resource, a record/variant/enum/flags/tuple
 * copy shares its members array. Those links find the type named first; for resources
 * the root maps to the most recent name, so a chain `T2 (eq T1)`, `T3 (eq T2)` prints as
 * wit-parser prints it. */
static int lookup(dec *d, cmc_tid id) {
  if (id >= d->T->len) return -1;
  if (d->tmap[id] >= 0) return d->tmap[id];
  cmc_type *t = TT(d, id);
  /* a resource's named copy stands for the type it names, one alias at a time */
  for (cmc_tid o = t->named_from; o && o < d->T->len; o = TT(d, o)->named_from)
    if (d->tmap[o] >= 0) return d->tmap[o];
  if (t->kind == CMC_T_RESOURCE) {
    cmc_tid root = cmc_res_root(d->T, id);
    return root < d->T->len ? d->tmap[root] : -1;
  }
  /* a named copy (type import/export) stands for the type it was named from: wit-parser's
   * find_alias, peeling one alias at a time */
  for (cmc_tid o = t->alias_of; o && o < d->T->len; o = TT(d, o)->alias_of) {
    if (d->tmap[o] >= 0) return d->tmap[o];
    if (TT(d, o)->kind == CMC_T_RESOURCE) break;
  }
  for (int i = d->copies.n - 1; i >= 0; i--)
    if (same_copy(d, d->copies.v[i].tid, id)) return d->copies.v[i].id;
  return -1;
}

static void remember(dec *d, cmc_tid id, int wit_id) {
  d->tmap[id] = wit_id;
  cmc_type *t = TT(d, id);
  if (t->kind == CMC_T_RESOURCE) {
    cmc_tid root = cmc_res_root(d->T, id);
    if (root < d->T->len) d->tmap[root] = wit_id;
  } else if (t->kind != CMC_T_PRIM) {
    copy_ref c = {id, wit_id};
    wit_push(M, d->copies, c);
  }
}

static int alloc_type(dec *d, const wit_typedef *t) {
  wit_push(M, d->r->a.types, *t);
  return d->r->a.types.n - 1;
}

static int valtype(dec *d, cmc_tid id, wit_type *out, int depth);

static int defined(dec *d, cmc_tid id, wit_typedef *out, int depth) {
  cmc_type *t = TT(d, id);
  memset(out, 0, sizeof *out);
  out->a = out->b = WIT_TNONE;
  out->span = wit_span_unknown();
  if (depth > 200) return fail(d, "cmref: type nesting too deep to print as WIT%s%s", "", NULL);
  switch (t->kind) {
  case CMC_T_PRIM: out->kind = WIT_K_TYPE; out->a = prim(t->prim); return 0;
  case CMC_T_LIST: out->kind = WIT_K_LIST; return valtype(d, t->a, &out->a, depth);
  case CMC_T_FIXLIST: out->kind = WIT_K_FIXED_LIST; out->size = t->len; return valtype(d, t->a, &out->a, depth);
  case CMC_T_MAP:
    out->kind = WIT_K_MAP;
    return valtype(d, t->a, &out->a, depth) || valtype(d, t->b, &out->b, depth) ? -1 : 0;
  case CMC_T_OPTION: out->kind = WIT_K_OPTION; return valtype(d, t->a, &out->a, depth);
  case CMC_T_RESULT:
    out->kind = WIT_K_RESULT;
    if (t->a != CMC_NONE && valtype(d, t->a, &out->a, depth)) return -1;
    if (t->b != CMC_NONE && valtype(d, t->b, &out->b, depth)) return -1;
    return 0;
  case CMC_T_FUTURE: case CMC_T_STREAM:
    out->kind = t->kind == CMC_T_FUTURE ? WIT_K_FUTURE : WIT_K_STREAM;
    return t->a != CMC_NONE ? valtype(d, t->a, &out->a, depth) : 0;
  case CMC_T_OWN: case CMC_T_BORROW: {
    out->kind = t->kind == CMC_T_OWN ? WIT_K_OWN : WIT_K_BORROW;
    out->a = lookup(d, t->a);
    if (out->a < 0) return fail(d, "cmref: a handle refers to a resource with no name%s%s", "", NULL);
    return 0;
  }
  case CMC_T_TUPLE: case CMC_T_RECORD: case CMC_T_VARIANT: case CMC_T_FLAGS: case CMC_T_ENUM: {
    static const int kinds[] = {[CMC_T_TUPLE] = WIT_K_TUPLE, [CMC_T_RECORD] = WIT_K_RECORD,
                                [CMC_T_VARIANT] = WIT_K_VARIANT, [CMC_T_FLAGS] = WIT_K_FLAGS,
                                [CMC_T_ENUM] = WIT_K_ENUM};
    out->kind = kinds[t->kind];
    for (uint32_t i = 0; i < t->n; i++) {
      wit_item it = {0};
      it.name = t->fields[i].name ? wit_strdup(M, t->fields[i].name) : NULL;
      it.ty = WIT_TNONE;
      it.span = wit_span_unknown();
      if (t->fields[i].type != CMC_NONE && valtype(d, t->fields[i].type, &it.ty, depth)) return -1;
      wit_push(M, out->items, it);
      t = TT(d, id); /* valtype may not move the arena, but stay safe */
    }
    return 0;
  }
  default:
    return fail(d, "cmref: type `%s` cannot be represented in WIT%s", cmc_type_desc(d->T, id), NULL);
  }
}

static const char *kind_desc(int k) {
  switch (k) {
  case WIT_K_RECORD: return "record";
  case WIT_K_VARIANT: return "variant";
  case WIT_K_ENUM: return "enum";
  case WIT_K_FLAGS: return "flags";
  default: return "resource";
  }
}

static int valtype(dec *d, cmc_tid id, wit_type *out, int depth) {
  if (id == CMC_NONE) { *out = WIT_TNONE; return 0; }
  cmc_type *t = TT(d, id);
  if (t->kind == CMC_T_PRIM && id < CMC_NPRIMS) { *out = prim(t->prim); return 0; }
  int m = lookup(d, id);
  if (m >= 0) { *out = m; return 0; }
  wit_typedef def;
  if (defined(d, id, &def, depth + 1)) return -1;
  if (def.kind == WIT_K_RECORD || def.kind == WIT_K_VARIANT || def.kind == WIT_K_ENUM ||
      def.kind == WIT_K_FLAGS || def.kind == WIT_K_RESOURCE)
    return fail(d, "unexpected unnamed type of kind '%s'%s", kind_desc(def.kind), NULL);
  m = alloc_type(d, &def);
  remember(d, id, m);
  *out = m;
  return 0;
}

/* the extern's `external-id` attribute (copied: the component's arena is freed) */
static char *ext_id(dec *d, const cmc_extern *x) {
  return x->external_id ? wit_strdup(M, x->external_id) : NULL;
}

static int find_resource(dec *d, int owner_kind, int owner, const char *name, size_t n) {
  for (int i = 0; i < d->resources.n; i++) {
    res_name *x = &d->resources.v[i];
    if (x->owner_kind == owner_kind && x->owner == owner && strlen(x->name) == n && !strncmp(x->name, name, n))
      return x->id;
  }
  return -1;
}

static int type_export(dec *d, const char *name, cmc_tid id, int owner_kind, int owner, int *out) {
  wit_typedef t = {0};
  t.a = t.b = WIT_TNONE;
  t.span = wit_span_unknown();
  int prev = lookup(d, id);
  if (prev >= 0) {
    t.kind = WIT_K_TYPE;
    t.a = prev;
  } else if (TT(d, id)->kind == CMC_T_RESOURCE) {
    t.kind = WIT_K_RESOURCE;
  } else if (defined(d, id, &t, 0)) {
    return -1;
  }
  t.name = wit_strdup(M, name);
  t.owner_kind = owner_kind;
  t.owner = owner;
  int w = alloc_type(d, &t);
  if (t.kind == WIT_K_RESOURCE) {
    res_name rn = {owner_kind, owner, t.name, w};
    wit_push(M, d->resources, rn);
  }
  /* the latest name wins: validation gives a type re-exported under a new name the same
   * node when it is a primitive (and the same root when a resource), and references
   * that follow the new name use it */
  remember(d, id, w);
  *out = w;
  return 0;
}

static int function(dec *d, const char *name, cmc_tid fid, int owner_kind, int owner, wit_function *f) {
  cmc_type *ft = TT(d, fid);
  memset(f, 0, sizeof *f);
  f->name = wit_strdup(M, name);
  f->result = WIT_TNONE;
  f->resource = WIT_TNONE;
  f->span = wit_span_unknown();
  for (uint32_t i = 0; i < ft->n; i++) {
    wit_item p = {wit_strdup(M, ft->fields[i].name), 0, NULL, wit_span_unknown()};
    if (valtype(d, ft->fields[i].type, &p.ty, 0)) return -1;
    wit_push(M, f->params, p);
    ft = TT(d, fid);
  }
  if (ft->a != CMC_NONE && valtype(d, ft->a, &f->result, 0)) return -1;
  int async_ = TT(d, fid)->async;
  const char *res = NULL;
  size_t reslen = 0;
  if (!strncmp(name, "[constructor]", 13)) {
    f->kind = WIT_F_CONSTRUCTOR;
    res = name + 13;
    reslen = strlen(res);
  } else if (!strncmp(name, "[method]", 8) || !strncmp(name, "[static]", 8)) {
    f->kind = name[1] == 'm' ? (async_ ? WIT_F_ASYNC_METHOD : WIT_F_METHOD) : (async_ ? WIT_F_ASYNC_STATIC : WIT_F_STATIC);
    res = name + 8;
    const char *dot = strchr(res, '.');
    reslen = dot ? (size_t)(dot - res) : strlen(res);
  } else {
    f->kind = async_ ? WIT_F_ASYNC_FREESTANDING : WIT_F_FREESTANDING;
    return 0;
  }
  f->resource = find_resource(d, owner_kind, owner, res, reslen);
  if (f->resource < 0) return fail(d, "cmref: function `%s` refers to an unknown resource%s", name, NULL);
  return 0;
}

/* "ns:pkg/iface@version" -> package name and interface; 0 when not of that form */
static int interface_name(dec *d, const char *name, wit_pkgname *pkg, char **iface) {
  const char *colon = strchr(name, ':'), *slash = strchr(name, '/');
  if (!colon || !slash || slash < colon || strchr(name, '(') || strchr(name, '[')) return 0;
  const char *at = strchr(slash, '@');
  pkg->ns = wit_strndup(M, name, (size_t)(colon - name));
  pkg->name = wit_strndup(M, colon + 1, (size_t)(slash - colon - 1));
  pkg->version = at ? wit_strdup(M, at + 1) : NULL;
  *iface = wit_strndup(M, slash + 1, at ? (size_t)(at - slash - 1) : strlen(slash + 1));
  return 1;
}

static int new_interface(dec *d, const char *name) {
  wit_interface i = {0};
  i.name = name ? wit_strdup(M, name) : NULL;
  i.package = -1;
  i.clone_of = -1;
  i.span = wit_span_unknown();
  wit_push(M, d->r->a.interfaces, i);
  wit_push(M, d->iface_pkg, -1);
  return d->r->a.interfaces.n - 1;
}

static int dep_interface(dec *d, const char *name, int *out) {
  wit_pkgname pn;
  char *iface;
  if (!interface_name(d, name, &pn, &iface)) return fail(d, "package name is not a valid id: %s%s", name, NULL);
  int pid = wit_package_find(d->r, &pn);
  if (pid >= 0) { /* already in the Resolve (an earlier package): merged, as Resolve::merge does */
    int id = wit_names_find(&d->r->packages.v[pid].interfaces, iface);
    if (id < 0) {
      id = new_interface(d, iface);
      d->r->a.interfaces.v[id].package = pid;
      wit_named nm = {iface, id, wit_span_unknown()};
      wit_push(M, d->r->packages.v[pid].interfaces, nm);
    }
    *out = id;
    return 0;
  }
  int k = -1;
  for (int i = 0; i < d->foreign.n; i++)
    if (wit_pkgname_eq(&d->foreign.v[i].name, &pn)) k = i;
  if (k < 0) {
    fpkg p = {pn, {0}};
    wit_push(M, d->foreign, p);
    k = d->foreign.n - 1;
  }
  int id = wit_names_find(&d->foreign.v[k].ifaces, iface);
  if (id < 0) {
    id = new_interface(d, iface);
    wit_named nm = {iface, id, wit_span_unknown()};
    wit_push(M, d->foreign.v[k].ifaces, nm);
  }
  d->iface_pkg.v[id] = k;
  *out = id;
  return 0;
}

static int find_func(wit_interface *i, const char *name) {
  for (int k = 0; k < i->funcs.f.n; k++)
    if (!strcmp(i->funcs.f.v[k].name, name)) return k;
  return -1;
}

static int register_import(dec *d, const char *name, cmc_tid inst, int *out) {
  int iface = wit_names_find(&d->named_ifaces, name);
  int local = iface >= 0;
  if (!local && dep_interface(d, name, &iface)) return -1;
  cmc_type *it = TT(d, inst);
  for (uint32_t e = 0; e < it->nexports; e++) {
    cmc_extern *x = &TT(d, inst)->exports[e];
    wit_interface *i = &d->r->a.interfaces.v[iface];
    if (x->sort == CMC_SORT_TYPE) {
      int have = wit_names_find(&i->types, x->name);
      if (have >= 0) {
        /* wit-parser: type_map[created] = the type; a resource's root stands for it too */
        if (d->tmap[x->type] < 0) d->tmap[x->type] = have;
        cmc_tid root = cmc_res_root(d->T, x->type);
        if (root != x->type && d->tmap[root] < 0) d->tmap[root] = have;
        continue;
      }
      if (local) return fail(d, "instance type export `%s` not defined in interface%s", x->name, NULL);
      int t;
      if (type_export(d, x->name, x->type, WIT_OWNER_INTERFACE, iface, &t)) return -1;
      d->r->a.types.v[t].external_id = ext_id(d, x);
      wit_named nm = {wit_strdup(M, x->name), t, wit_span_unknown()};
      wit_push(M, d->r->a.interfaces.v[iface].types, nm);
    } else if (x->sort == CMC_SORT_FUNC) {
      if (find_func(i, x->name) >= 0) continue;
      if (local) return fail(d, "instance function export `%s` not defined in interface%s", x->name, NULL);
      wit_function f;
      if (function(d, x->name, x->type, WIT_OWNER_INTERFACE, iface, &f)) return -1;
      f.external_id = ext_id(d, x);
      wit_push(M, d->r->a.interfaces.v[iface].funcs.f, f);
    } else {
      return fail(d, "instance type export `%s` is not a type%s", x->name, NULL);
    }
  }
  *out = iface;
  return 0;
}

static int register_interface(dec *d, const char *name, cmc_tid inst, wit_key *key, int *out) {
  if (wit_names_find(&d->named_ifaces, name) >= 0) {
    if (register_import(d, name, inst, out)) return -1;
    *key = (wit_key){NULL, *out};
    return 0;
  }
  wit_pkgname pn;
  char *iname = NULL;
  if (!interface_name(d, name, &pn, &iname)) iname = NULL;
  int id = new_interface(d, iname);
  for (uint32_t e = 0; e < TT(d, inst)->nexports; e++) {
    cmc_extern *x = &TT(d, inst)->exports[e];
    if (x->sort == CMC_SORT_TYPE) {
      int t;
      if (type_export(d, x->name, x->type, WIT_OWNER_INTERFACE, id, &t)) return -1;
      d->r->a.types.v[t].external_id = ext_id(d, x);
      wit_named nm = {wit_strdup(M, x->name), t, wit_span_unknown()};
      wit_push(M, d->r->a.interfaces.v[id].types, nm);
    } else if (x->sort == CMC_SORT_FUNC) {
      wit_function f;
      if (function(d, x->name, x->type, WIT_OWNER_INTERFACE, id, &f)) return -1;
      f.external_id = ext_id(d, x);
      wit_push(M, d->r->a.interfaces.v[id].funcs.f, f);
    } else {
      return fail(d, "instance type export `%s` is not a type or function%s", x->name, NULL);
    }
  }
  if (iname) {
    wit_named nm = {iname, id, wit_span_unknown()};
    wit_push(M, d->root_ifaces, nm);
    wit_named full = {wit_strdup(M, name), id, wit_span_unknown()};
    wit_push(M, d->named_ifaces, full);
    *key = (wit_key){NULL, id};
  } else {
    *key = (wit_key){wit_strdup(M, name), -1};
  }
  *out = id;
  return 0;
}

static int world_instance(dec *d, const cmc_extern *x, wit_witem *item) {
  wit_pkgname pn;
  char *iname;
  int id;
  if (x->implements) {
    if (register_import(d, x->implements, x->type, &id)) return -1;
    item->key = (wit_key){wit_strdup(M, x->name), -1};
  } else if (interface_name(d, x->name, &pn, &iname)) {
    if (register_import(d, x->name, x->type, &id)) return -1;
    item->key = (wit_key){NULL, id};
  } else if (register_interface(d, x->name, x->type, &item->key, &id)) {
    return -1;
  }
  item->kind = WIT_WI_INTERFACE;
  item->external_id = ext_id(d, x);
  item->id = id;
  item->span = wit_span_unknown();
  return 0;
}

static int add_item(dec *d, const cmc_extern *x, int is_export) {
  wit_witem item = {0};
  item.span = wit_span_unknown();
  const char *ctx = is_export ? "failed to decode WIT from export `%s`: %s" : "failed to decode WIT from import `%s`: %s";
  if (x->sort == CMC_SORT_INSTANCE) {
    if (world_instance(d, x, &item)) {
      d->r->err.msg = wit_fmt(M, ctx, x->name, d->r->err.msg);
      return -1;
    }
  } else if (x->sort == CMC_SORT_FUNC) {
    item.kind = WIT_WI_FUNCTION;
    item.key = (wit_key){wit_strdup(M, x->name), -1};
    if (function(d, x->name, x->type, WIT_OWNER_WORLD, d->world, &item.func)) return -1;
    item.func.external_id = ext_id(d, x);
  } else if (x->sort == CMC_SORT_TYPE && !is_export) {
    item.kind = WIT_WI_TYPE;
    item.key = (wit_key){wit_strdup(M, x->name), -1};
    if (type_export(d, x->name, x->type, WIT_OWNER_WORLD, d->world, &item.id)) return -1;
    d->r->a.types.v[item.id].external_id = ext_id(d, x);
  } else if (is_export) {
    return fail(d, "component export `%s` was not a function or instance%s", x->name, NULL);
  } else {
    return 0;
  }
  wit_world *w = &d->r->a.worlds.v[d->world];
  wit_push(M, *(is_export ? &w->exports : &w->imports), item);
  return 0;
}

/* ---- finish: foreign packages in dependency order, then root:component ---- */
static void visit_package(dec *d, int k, int *done, wit_ints *order, int depth) {
  if (done[k] || depth > 10000) return;
  done[k] = 1; /* marked early: a cycle cannot recurse forever */
  fpkg *p = &d->foreign.v[k];
  for (int i = 0; i < p->ifaces.n; i++) {
    wit_interface *iface = &d->r->a.interfaces.v[p->ifaces.v[i].id];
    for (int t = 0; t < iface->types.n; t++) {
      int dep = wit_type_interface_dep(d->r, iface->types.v[t].id);
      if (dep < 0 || dep >= d->iface_pkg.n) continue;
      int dk = d->iface_pkg.v[dep];
      if (dk >= 0 && dk != k) visit_package(d, dk, done, order, depth + 1);
    }
  }
  wit_push(M, *order, k);
}

static int insert_package(dec *d, wit_pkgname name, wit_names *ifaces, wit_names *worlds) {
  wit_package p = {0};
  p.name = name;
  wit_push(M, d->r->packages, p);
  int id = d->r->packages.n - 1;
  for (int i = 0; i < ifaces->n; i++) {
    wit_push(M, d->r->packages.v[id].interfaces, ifaces->v[i]);
    d->r->a.interfaces.v[ifaces->v[i].id].package = id;
  }
  for (int i = 0; worlds && i < worlds->n; i++) {
    wit_push(M, d->r->packages.v[id].worlds, worlds->v[i]);
    wit_world *w = &d->r->a.worlds.v[worlds->v[i].id];
    w->package = id;
    wit_witems *lists[2] = {&w->imports, &w->exports};
    for (int l = 0; l < 2; l++)
      for (int k = 0; k < lists[l]->n; k++) {
        wit_witem *it = &lists[l]->v[k];
        if (it->key.name && it->kind == WIT_WI_INTERFACE && !d->r->a.interfaces.v[it->id].name)
          d->r->a.interfaces.v[it->id].package = id;
      }
  }
  return id;
}

static int finish_as(dec *d, wit_pkgname name, wit_names *worlds) {
  int *done = wit_alloc(M, sizeof(int) * (size_t)(d->foreign.n + 1));
  wit_ints order = {0};
  for (int k = 0; k < d->foreign.n; k++) visit_package(d, k, done, &order, 0);
  for (int i = 0; i < order.n; i++) {
    fpkg *f = &d->foreign.v[order.v[i]];
    if (wit_pkgname_eq(&f->name, &name)) { /* the package's own interfaces, by id */
      for (int k = 0; k < f->ifaces.n; k++) wit_push(M, d->root_ifaces, f->ifaces.v[k]);
      continue;
    }
    insert_package(d, f->name, &f->ifaces, NULL);
  }
  return insert_package(d, name, &d->root_ifaces, worlds);
}

static int finish(dec *d) {
  int *done = wit_alloc(M, sizeof(int) * (size_t)(d->foreign.n + 1));
  wit_ints order = {0};
  for (int k = 0; k < d->foreign.n; k++) visit_package(d, k, done, &order, 0);
  for (int i = 0; i < order.n; i++) insert_package(d, d->foreign.v[order.v[i]].name, &d->foreign.v[order.v[i]].ifaces, NULL);
  wit_names worlds = {0};
  wit_named w = {"root", d->world, wit_span_unknown()};
  wit_push(M, worlds, w);
  wit_pkgname root = {"root", "component", NULL};
  return insert_package(d, root, &d->root_ifaces, &worlds);
}

/* ---- a WIT package encoded as a component (decode_wit_v2_package) ---- */
static int is_wit_package(cmc_types *T, const cmc_component *c) {
  if (c->nimports || !c->nexports) return 0;
  for (uint32_t i = 0; i < c->nexports; i++)
    if (c->exports[i].sort != CMC_SORT_TYPE || T->v[c->exports[i].type].kind != CMC_T_COMPONENT) return 0;
  return !strchr(c->exports[0].name, ':');
}

static int register_world(dec *d, const char *name, cmc_tid ct, wit_names *worlds) {
  wit_pkgname pn;
  char *wname;
  if (!interface_name(d, name, &pn, &wname)) return fail(d, "expected world name to have an ID form: %s%s", name, NULL);
  wit_world w = {0};
  w.name = wname;
  w.package = -1;
  w.span = wit_span_unknown();
  wit_push(M, d->r->a.worlds, w);
  d->world = d->r->a.worlds.n - 1;
  cmc_type *t = TT(d, ct);
  for (uint32_t i = 0; i < t->nimports; i++) {
    cmc_extern *x = &TT(d, ct)->imports[i];
    if (x->sort != CMC_SORT_INSTANCE && x->sort != CMC_SORT_FUNC && x->sort != CMC_SORT_TYPE)
      return fail(d, "component import `%s` is not an instance, func, or type%s", x->name, NULL);
    if (add_item(d, x, 0)) return -1;
  }
  for (uint32_t i = 0; i < TT(d, ct)->nexports; i++)
    if (add_item(d, &TT(d, ct)->exports[i], 1)) return -1;
  wit_named nm = {wname, d->world, wit_span_unknown()};
  wit_push(M, *worlds, nm);
  return 0;
}

static int decode_package(dec *d, const cmc_component *c) {
  wit_pkgname pkg = {0};
  int have = 0;
  wit_names worlds = {0};
  for (uint32_t i = 0; i < c->nexports; i++) {
    cmc_type *ct = TT(d, c->exports[i].type);
    if (ct->nexports != 1) return fail(d, "Expected a single export, but found %s instead%s", "several", NULL);
    cmc_extern *x = &ct->exports[0];
    wit_pkgname pn;
    char *iname;
    if (!interface_name(d, x->name, &pn, &iname)) return fail(d, "expected an ID form: %s%s", x->name, NULL);
    if (have && !wit_pkgname_eq(&pn, &pkg)) return fail(d, "item defined with mismatched package name%s%s", "", NULL);
    pkg = pn;
    have = 1;
    if (x->sort == CMC_SORT_COMPONENT) {
      if (register_world(d, x->name, x->type, &worlds)) return -1;
      continue;
    }
    for (uint32_t k = 0; k < ct->nimports; k++) {
      int id;
      if (register_import(d, ct->imports[k].name, ct->imports[k].type, &id)) return -1;
      ct = TT(d, c->exports[i].type);
    }
    /* the interface itself belongs to the package (not a foreign one) */
    wit_key key;
    int id;
    if (register_interface(d, x->name, x->type, &key, &id)) return -1;
  }
  if (!have) return fail(d, "no exported component type found%s%s", "", NULL);
  return finish_as(d, pkg, &worlds);
}

static int read_u32(const uint8_t *b, size_t len, size_t *pos, uint32_t *out) {
  uint32_t v = 0;
  for (int shift = 0; shift < 35; shift += 7) {
    if (*pos >= len) return 0;
    uint8_t c = b[(*pos)++];
    v |= (uint32_t)(c & 0x7f) << shift;
    if (!(c & 0x80)) { *out = v; return 1; }
  }
  return 0;
}

/* a top-level custom section of the binary, by name */
static int custom_section(const uint8_t *b, size_t len, const char *name, const unsigned char **data, size_t *n) {
  size_t pos = 8;
  while (pos < len) {
    uint8_t id = b[pos++];
    uint32_t size, nlen;
    if (!read_u32(b, len, &pos, &size) || size > len - pos) return 0;
    size_t end = pos + size, p = pos;
    if (id == 0 && read_u32(b, end, &p, &nlen) && nlen <= end - p && nlen == strlen(name) &&
        !memcmp(b + p, name, nlen)) {
      *data = b + p + nlen;
      *n = end - (p + nlen);
      return 1;
    }
    pos = end;
  }
  return 0;
}

static int decode(wit_resolve *r, const uint8_t *bytes, size_t len, int package_only) {
  cmc_comp_result res;
  cmc_error cerr;
  memset(&res, 0, sizeof res);
  memset(&cerr, 0, sizeof cerr);
  if (!cmc_comp_validate(bytes, len, NULL, &res, &cerr)) {
    wit_error_at(&r->err, &r->mem, wit_span_unknown(), "invalid component: %s", cerr.message);
    r->err.plain = 1;
    cmc_comp_free(&res);
    return -1;
  }
  dec dd = {0}, *d = &dd;
  d->r = r;
  d->T = &res.types;
  d->tmap = wit_alloc(M, sizeof(int) * (size_t)(res.types.len + 1));
  for (uint32_t i = 0; i < res.types.len; i++) d->tmap[i] = -1;
  cmc_component *c = res.root;
  if (is_wit_package(&res.types, c)) {
    int pkg = decode_package(d, c);
    cmc_comp_free(&res);
    const unsigned char *meta;
    size_t mlen;
    if (pkg >= 0 && custom_section(bytes, len, "package-docs", &meta, &mlen))
      wit_metadata_inject(r, pkg, meta, mlen);
    return pkg;
  }
  if (package_only) {
    cmc_comp_free(&res);
    wit_error_at(&r->err, &r->mem, wit_span_unknown(),
                 "found an actual component instead of an encoded WIT package in wasm%s", "");
    r->err.plain = 1;
    return -1;
  }
  wit_world w = {0};
  w.name = "root";
  w.package = -1;
  w.span = wit_span_unknown();
  wit_push(M, r->a.worlds, w);
  d->world = r->a.worlds.n - 1;
  int rc = 0;
  for (uint32_t i = 0; i < c->nimports && !rc; i++) rc = add_item(d, &c->imports[i], 0);
  for (uint32_t i = 0; i < c->nexports && !rc; i++) rc = add_item(d, &c->exports[i], 1);
  int pkg = rc ? -1 : finish(d);
  cmc_comp_free(&res);
  return pkg;
}

int wit_decode_component(wit_resolve *r, const uint8_t *bytes, size_t len) {
  return decode(r, bytes, len, 0);
}

int wit_decode_package(wit_resolve *r, const uint8_t *bytes, size_t len) {
  return decode(r, bytes, len, 1);
}
