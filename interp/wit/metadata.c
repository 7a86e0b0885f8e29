/* The `package-docs` custom section of an encoded WIT package (wit-parser's
 * metadata.rs, PackageMetadata version 1): docs and stability gates of the package,
 * its interfaces, worlds, types, functions and fields, as JSON. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "wit/resolve.h"

/* ---- extract (encoding) ---- */
static json_t *stability_json(const wit_stability *s) {
  json_t *in = json_object();
  if (s->kind == WIT_STAB_STABLE) json_object_set_new(in, "since", json_string(s->since));
  else json_object_set_new(in, "feature", json_string(s->feature));
  if (s->deprecated) json_object_set_new(in, "deprecated", json_string(s->deprecated));
  return json_pack("{s:o}", s->kind == WIT_STAB_STABLE ? "stable" : "unstable", in);
}

static void set_docs_stab(json_t *o, const char *docs, const wit_stability *s) {
  if (docs) json_object_set_new(o, "docs", json_string(docs));
  if (s && s->kind != WIT_STAB_UNKNOWN) json_object_set_new(o, "stability", stability_json(s));
}

static void put_nonempty(json_t *map, const char *key, json_t *v) {
  if (json_object_size(v)) json_object_set_new(map, key, v);
  else json_decref(v);
}

static json_t *type_meta(wit_resolve *r, int id) {
  const wit_typedef *t = &r->a.types.v[id];
  json_t *o = json_object();
  set_docs_stab(o, t->docs, &t->stab);
  if (t->kind == WIT_K_RECORD || t->kind == WIT_K_FLAGS || t->kind == WIT_K_VARIANT || t->kind == WIT_K_ENUM) {
    json_t *items = json_object();
    for (int i = 0; i < t->items.n; i++)
      if (t->items.v[i].docs) json_object_set_new(items, t->items.v[i].name, json_string(t->items.v[i].docs));
    put_nonempty(o, "items", items);
  }
  return o;
}

static json_t *func_meta(const wit_function *f) {
  json_t *o = json_object();
  set_docs_stab(o, f->docs, &f->stab);
  return o;
}

static json_t *iface_meta(wit_resolve *r, int id) {
  const wit_interface *i = &r->a.interfaces.v[id];
  json_t *o = json_object();
  set_docs_stab(o, i->docs, &i->stab);
  json_t *funcs = json_object(), *types = json_object();
  for (int k = 0; k < i->funcs.f.n; k++) put_nonempty(funcs, i->funcs.f.v[k].name, func_meta(&i->funcs.f.v[k]));
  for (int k = 0; k < i->types.n; k++) put_nonempty(types, i->types.v[k].name, type_meta(r, i->types.v[k].id));
  put_nonempty(o, "funcs", funcs);
  put_nonempty(o, "types", types);
  return o;
}

static json_t *world_meta(wit_resolve *r, int id) {
  const wit_world *w = &r->a.worlds.v[id];
  json_t *o = json_object();
  set_docs_stab(o, w->docs, &w->stab);
  json_t *ifaces = json_object(), *types = json_object(), *funcs = json_object(), *iexp = json_object(),
         *fexp = json_object(), *istab[2] = {json_object(), json_object()},
         *idocs[2] = {json_object(), json_object()};
  for (int side = 0; side < 2; side++) {
    const wit_witems *items = side ? &w->exports : &w->imports;
    for (int k = 0; k < items->n; k++) {
      const wit_witem *it = &items->v[k];
      if (it->kind == WIT_WI_INTERFACE && (!it->key.name || r->a.interfaces.v[it->id].name)) {
        const char *name = it->key.name ? it->key.name : wit_id_of(r, it->key.iface);
        if (it->stab.kind != WIT_STAB_UNKNOWN) json_object_set_new(istab[side], name, stability_json(&it->stab));
        if (it->docs) json_object_set_new(idocs[side], name, json_string(it->docs));
      } else if (it->kind == WIT_WI_INTERFACE) {
        put_nonempty(side ? iexp : ifaces, it->key.name, iface_meta(r, it->id));
      } else if (it->kind == WIT_WI_TYPE) {
        put_nonempty(types, it->key.name, type_meta(r, it->id));
      } else {
        put_nonempty(side ? fexp : funcs, it->key.name, func_meta(&it->func));
      }
    }
  }
  put_nonempty(o, "interfaces", ifaces);
  put_nonempty(o, "types", types);
  put_nonempty(o, "funcs", funcs);
  put_nonempty(o, "interface_exports", iexp);
  put_nonempty(o, "func_exports", fexp);
  put_nonempty(o, "interface_import_stability", istab[0]);
  put_nonempty(o, "interface_export_stability", istab[1]);
  put_nonempty(o, "interface_import_docs", idocs[0]);
  put_nonempty(o, "interface_export_docs", idocs[1]);
  return o;
}

/* The section payload (version byte + JSON), or NULL when there is nothing to say. */
char *wit_metadata_encode(wit_resolve *r, int pkg, size_t *len) {
  const wit_package *p = &r->packages.v[pkg];
  json_t *o = json_object();
  if (p->docs) json_object_set_new(o, "docs", json_string(p->docs));
  json_t *worlds = json_object(), *ifaces = json_object();
  for (int k = 0; k < p->worlds.n; k++) put_nonempty(worlds, p->worlds.v[k].name, world_meta(r, p->worlds.v[k].id));
  for (int k = 0; k < p->interfaces.n; k++)
    put_nonempty(ifaces, p->interfaces.v[k].name, iface_meta(r, p->interfaces.v[k].id));
  put_nonempty(o, "worlds", worlds);
  put_nonempty(o, "interfaces", ifaces);
  char *json = json_dumps(o, JSON_COMPACT);
  json_decref(o);
  if (!json) return NULL;
  size_t n = strlen(json);
  char *out = malloc(n + 2);
  if (out) {
    out[0] = 1;
    memcpy(out + 1, json, n + 1);
    *len = n + 1;
  }
  free(json);
  return out;
}

/* ---- inject (decoding) ---- */
static char *str_of(wit_resolve *r, json_t *v) {
  return json_is_string(v) ? wit_strdup(&r->mem, json_string_value(v)) : NULL;
}

static void read_stability(wit_resolve *r, json_t *v, wit_stability *s) {
  memset(s, 0, sizeof *s);
  json_t *in;
  if (!json_is_object(v)) return;
  if ((in = json_object_get(v, "stable"))) {
    s->kind = WIT_STAB_STABLE;
    s->since = str_of(r, json_object_get(in, "since"));
  } else if ((in = json_object_get(v, "unstable"))) {
    s->kind = WIT_STAB_UNSTABLE;
    s->feature = str_of(r, json_object_get(in, "feature"));
  } else {
    return;
  }
  s->deprecated = str_of(r, json_object_get(in, "deprecated"));
  if ((s->kind == WIT_STAB_STABLE && !s->since) || (s->kind == WIT_STAB_UNSTABLE && !s->feature))
    memset(s, 0, sizeof *s);
}

static void inject_type(wit_resolve *r, json_t *m, int id) {
  wit_typedef *t = &r->a.types.v[id];
  char *docs = str_of(r, json_object_get(m, "docs"));
  if (docs) t->docs = docs;
  read_stability(r, json_object_get(m, "stability"), &t->stab);
  json_t *items = json_object_get(m, "items");
  for (int i = 0; json_is_object(items) && i < t->items.n; i++) {
    char *d = t->items.v[i].name ? str_of(r, json_object_get(items, t->items.v[i].name)) : NULL;
    if (d) t->items.v[i].docs = d;
  }
}

static void inject_func(wit_resolve *r, json_t *m, wit_function *f) {
  if (json_is_string(m) || json_is_null(m)) { /* version 0: just the docs */
    f->docs = str_of(r, m);
    return;
  }
  f->docs = str_of(r, json_object_get(m, "docs"));
  read_stability(r, json_object_get(m, "stability"), &f->stab);
}

static void inject_iface(wit_resolve *r, json_t *m, int id) {
  const char *name;
  json_t *v;
  json_object_foreach(json_object_get(m, "types"), name, v) {
    int t = wit_names_find(&r->a.interfaces.v[id].types, name);
    if (t >= 0) inject_type(r, v, t);
  }
  wit_interface *i = &r->a.interfaces.v[id];
  json_object_foreach(json_object_get(m, "funcs"), name, v) {
    for (int k = 0; k < i->funcs.f.n; k++)
      if (!strcmp(i->funcs.f.v[k].name, name)) inject_func(r, v, &i->funcs.f.v[k]);
  }
  char *docs = str_of(r, json_object_get(m, "docs"));
  if (docs) i->docs = docs;
  read_stability(r, json_object_get(m, "stability"), &i->stab);
}

static wit_witem *find_named(wit_witems *items, const char *name) {
  for (int k = 0; k < items->n; k++)
    if (items->v[k].key.name && !strcmp(items->v[k].key.name, name)) return &items->v[k];
  return NULL;
}

static wit_witem *find_keyed(wit_resolve *r, wit_witems *items, const char *name) {
  for (int k = 0; k < items->n; k++) {
    wit_witem *it = &items->v[k];
    if (it->kind != WIT_WI_INTERFACE) continue;
    const char *n = it->key.name ? it->key.name : wit_id_of(r, it->key.iface);
    if (!strcmp(n, name)) return it;
  }
  return NULL;
}

static void inject_world(wit_resolve *r, json_t *m, int id) {
  const char *name;
  json_t *v;
  for (int only_export = 0; only_export < 2; only_export++) {
    json_object_foreach(json_object_get(m, only_export ? "interface_exports" : "interfaces"), name, v) {
      wit_world *w = &r->a.worlds.v[id];
      wit_witem *it = only_export ? NULL : find_named(&w->imports, name);
      if (!it) it = find_named(&w->exports, name);
      if (!it || it->kind != WIT_WI_INTERFACE) continue;
      read_stability(r, json_object_get(v, "stability"), &it->stab);
      inject_iface(r, v, it->id);
    }
  }
  json_object_foreach(json_object_get(m, "types"), name, v) {
    wit_witem *it = find_named(&r->a.worlds.v[id].imports, name);
    if (it && it->kind == WIT_WI_TYPE) inject_type(r, v, it->id);
  }
  wit_world *w = &r->a.worlds.v[id];
  for (int side = 0; side < 2; side++) {
    wit_witems *items = side ? &w->exports : &w->imports;
    json_object_foreach(json_object_get(m, side ? "interface_export_stability" : "interface_import_stability"), name, v) {
      wit_witem *it = find_keyed(r, items, name);
      if (it) read_stability(r, v, &it->stab);
    }
    json_object_foreach(json_object_get(m, side ? "interface_export_docs" : "interface_import_docs"), name, v) {
      wit_witem *it = find_keyed(r, items, name);
      if (it) it->docs = str_of(r, v);
    }
  }
  for (int only_export = 0; only_export < 2; only_export++) {
    json_object_foreach(json_object_get(m, only_export ? "func_exports" : "funcs"), name, v) {
      wit_witem *it = only_export ? NULL : find_named(&w->imports, name);
      if (!it) it = find_named(&w->exports, name);
      if (it && it->kind == WIT_WI_FUNCTION) inject_func(r, v, &it->func);
    }
  }
  char *docs = str_of(r, json_object_get(m, "docs"));
  if (docs) w->docs = docs;
  read_stability(r, json_object_get(m, "stability"), &w->stab);
}

int wit_metadata_inject(wit_resolve *r, int pkg, const unsigned char *data, size_t len) {
  if (len < 1 || data[0] > 1) return 0; /* an unknown version: ignored */
  json_error_t jerr;
  json_t *o = json_loadb((const char *)data + 1, len - 1, 0, &jerr);
  if (!o) return 0;
  const char *name;
  json_t *v;
  json_object_foreach(json_object_get(o, "worlds"), name, v) {
    int id = wit_names_find(&r->packages.v[pkg].worlds, name);
    if (id >= 0) inject_world(r, v, id);
  }
  json_object_foreach(json_object_get(o, "interfaces"), name, v) {
    int id = wit_names_find(&r->packages.v[pkg].interfaces, name);
    if (id >= 0) inject_iface(r, v, id);
  }
  char *docs = str_of(r, json_object_get(o, "docs"));
  if (docs) r->packages.v[pkg].docs = docs;
  json_decref(o);
  return 0;
}
