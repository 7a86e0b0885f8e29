/* The Resolve as JSON, in the shape wit-parser's serde derive produces
 * (the `*.wit.json` files of the wit-parser suite). Written with jansson. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "wit/wit.h"

static json_t *type_ref(wit_type t) {
  if (t == WIT_TNONE) return json_null();
  if (t >= 0) return json_integer(t);
  return json_string(wit_prim_name(t));
}

static void add_docs(json_t *o, const char *docs) {
  if (docs) json_object_set_new(o, "docs", json_pack("{s:s}", "contents", docs));
}

static void add_stability(json_t *o, const wit_stability *s) {
  if (s->kind == WIT_STAB_UNKNOWN) return;
  json_t *inner = json_object();
  if (s->kind == WIT_STAB_STABLE) json_object_set_new(inner, "since", json_string(s->since));
  else json_object_set_new(inner, "feature", json_string(s->feature));
  if (s->deprecated) json_object_set_new(inner, "deprecated", json_string(s->deprecated));
  json_object_set_new(o, "stability", json_pack("{s:o}", s->kind == WIT_STAB_STABLE ? "stable" : "unstable", inner));
}

static json_t *items_json(const wit_items *items, int with_type, int nullable) {
  json_t *a = json_array();
  for (int i = 0; i < items->n; i++) {
    const wit_item *it = &items->v[i];
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(it->name));
    if (with_type) json_object_set_new(o, "type", nullable ? type_ref(it->ty) : type_ref(it->ty));
    add_docs(o, it->docs);
    json_array_append_new(a, o);
  }
  return a;
}

static json_t *kind_json(const wit_typedef *t) {
  switch (t->kind) {
  case WIT_K_RESOURCE: return json_string("resource");
  case WIT_K_UNKNOWN: return json_string("unknown");
  case WIT_K_RECORD: return json_pack("{s:{s:o}}", "record", "fields", items_json(&t->items, 1, 0));
  case WIT_K_FLAGS: return json_pack("{s:{s:o}}", "flags", "flags", items_json(&t->items, 0, 0));
  case WIT_K_VARIANT: return json_pack("{s:{s:o}}", "variant", "cases", items_json(&t->items, 1, 1));
  case WIT_K_ENUM: return json_pack("{s:{s:o}}", "enum", "cases", items_json(&t->items, 0, 0));
  case WIT_K_TUPLE: {
    json_t *a = json_array();
    for (int i = 0; i < t->items.n; i++) json_array_append_new(a, type_ref(t->items.v[i].ty));
    return json_pack("{s:{s:o}}", "tuple", "types", a);
  }
  case WIT_K_OWN: return json_pack("{s:{s:i}}", "handle", "own", t->a);
  case WIT_K_BORROW: return json_pack("{s:{s:i}}", "handle", "borrow", t->a);
  case WIT_K_OPTION: return json_pack("{s:o}", "option", type_ref(t->a));
  case WIT_K_LIST: return json_pack("{s:o}", "list", type_ref(t->a));
  case WIT_K_FUTURE: return json_pack("{s:o}", "future", type_ref(t->a));
  case WIT_K_STREAM: return json_pack("{s:o}", "stream", type_ref(t->a));
  case WIT_K_TYPE: return json_pack("{s:o}", "type", type_ref(t->a));
  case WIT_K_RESULT: return json_pack("{s:{s:o,s:o}}", "result", "ok", type_ref(t->a), "err", type_ref(t->b));
  case WIT_K_MAP: return json_pack("{s:[o,o]}", "map", type_ref(t->a), type_ref(t->b));
  case WIT_K_FIXED_LIST: return json_pack("{s:[o,I]}", "fixed-length-list", type_ref(t->a), (json_int_t)t->size);
  }
  return json_null();
}

static json_t *owner_json(int kind, int id) {
  if (kind == WIT_OWNER_WORLD) return json_pack("{s:i}", "world", id);
  if (kind == WIT_OWNER_INTERFACE) return json_pack("{s:i}", "interface", id);
  return json_null();
}

static json_t *typedef_json(const wit_typedef *t) {
  json_t *o = json_object();
  json_object_set_new(o, "name", t->name ? json_string(t->name) : json_null());
  json_object_set_new(o, "kind", kind_json(t));
  json_object_set_new(o, "owner", owner_json(t->owner_kind, t->owner));
  add_docs(o, t->docs);
  add_stability(o, &t->stab);
  if (t->external_id) json_object_set_new(o, "external_id", json_string(t->external_id));
  return o;
}

static json_t *fkind_json(const wit_function *f) {
  static const char *const names[] = {"freestanding", "async-freestanding", "method", "async-method",
                                      "static", "async-static", "constructor"};
  if (f->kind <= WIT_F_ASYNC_FREESTANDING) return json_string(names[f->kind]);
  return json_pack("{s:i}", names[f->kind], f->resource);
}

static json_t *function_json(const wit_function *f) {
  json_t *o = json_object();
  json_object_set_new(o, "name", json_string(f->name));
  json_object_set_new(o, "kind", fkind_json(f));
  json_t *params = json_array();
  for (int i = 0; i < f->params.n; i++) {
    json_t *p = json_object();
    if (f->params.v[i].name && *f->params.v[i].name) json_object_set_new(p, "name", json_string(f->params.v[i].name));
    json_object_set_new(p, "type", type_ref(f->params.v[i].ty));
    json_array_append_new(params, p);
  }
  json_object_set_new(o, "params", params);
  if (f->result != WIT_TNONE) json_object_set_new(o, "result", type_ref(f->result));
  add_docs(o, f->docs);
  add_stability(o, &f->stab);
  if (f->external_id) json_object_set_new(o, "external_id", json_string(f->external_id));
  return o;
}

static json_t *witems_json(const wit_witems *items) {
  json_t *o = json_object();
  for (int i = 0; i < items->n; i++) {
    const wit_witem *it = &items->v[i];
    char key[32];
    const char *k = it->key.name;
    if (!k) {
      snprintf(key, sizeof key, "interface-%d", it->key.iface);
      k = key;
    }
    json_t *v;
    if (it->kind == WIT_WI_FUNCTION) {
      v = json_pack("{s:o}", "function", function_json(&it->func));
    } else if (it->kind == WIT_WI_TYPE) {
      v = json_pack("{s:i}", "type", it->id);
    } else {
      json_t *in = json_pack("{s:i}", "id", it->id);
      add_stability(in, &it->stab);
      if (it->external_id) json_object_set_new(in, "external_id", json_string(it->external_id));
      add_docs(in, it->docs);
      v = json_pack("{s:o}", "interface", in);
    }
    json_object_set_new(o, k, v);
  }
  return o;
}

static json_t *names_json(const wit_names *m) {
  json_t *o = json_object();
  for (int i = 0; i < m->n; i++) json_object_set_new(o, m->v[i].name, json_integer(m->v[i].id));
  return o;
}

static json_t *opt_id(int id) { return id < 0 ? json_null() : json_integer(id); }

char *wit_resolve_json(wit_resolve *r) {
  json_t *root = json_object();
  json_t *worlds = json_array(), *ifaces = json_array(), *types = json_array(), *pkgs = json_array();
  for (int i = 0; i < r->a.worlds.n; i++) {
    const wit_world *w = &r->a.worlds.v[i];
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(w->name));
    json_object_set_new(o, "imports", witems_json(&w->imports));
    json_object_set_new(o, "exports", witems_json(&w->exports));
    json_object_set_new(o, "package", opt_id(w->package));
    add_docs(o, w->docs);
    add_stability(o, &w->stab);
    json_array_append_new(worlds, o);
  }
  for (int i = 0; i < r->a.interfaces.n; i++) {
    const wit_interface *f = &r->a.interfaces.v[i];
    json_t *o = json_object();
    json_object_set_new(o, "name", f->name ? json_string(f->name) : json_null());
    json_object_set_new(o, "types", names_json(&f->types));
    json_t *fs = json_object();
    for (int k = 0; k < f->funcs.f.n; k++)
      json_object_set_new(fs, f->funcs.f.v[k].name, function_json(&f->funcs.f.v[k]));
    json_object_set_new(o, "functions", fs);
    add_docs(o, f->docs);
    add_stability(o, &f->stab);
    json_object_set_new(o, "package", opt_id(f->package));
    if (f->clone_of >= 0) json_object_set_new(o, "clone_of", json_integer(f->clone_of));
    json_array_append_new(ifaces, o);
  }
  for (int i = 0; i < r->a.types.n; i++) json_array_append_new(types, typedef_json(&r->a.types.v[i]));
  for (int i = 0; i < r->packages.n; i++) {
    const wit_package *p = &r->packages.v[i];
    json_t *o = json_object();
    char *name = wit_pkgname_str(&r->mem, &p->name);
    json_object_set_new(o, "name", json_string(name));
    add_docs(o, p->docs);
    json_object_set_new(o, "interfaces", names_json(&p->interfaces));
    json_object_set_new(o, "worlds", names_json(&p->worlds));
    json_array_append_new(pkgs, o);
  }
  json_object_set_new(root, "worlds", worlds);
  json_object_set_new(root, "interfaces", ifaces);
  json_object_set_new(root, "types", types);
  json_object_set_new(root, "packages", pkgs);
  char *s = json_dumps(root, JSON_INDENT(2));
  json_decref(root);
  return s;
}
