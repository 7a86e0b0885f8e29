/* Printing a resolved package as WIT text, in the layout of wit-component's
 * WitPrinter (crates/wit-component/src/printing.rs): the same item order, blank
 * lines, `use` grouping, docs, gates and keyword escaping. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wit/resolve.h"

typedef struct out {
  char *buf;
  size_t len, cap;
  int indent, needs_indent, any_items;
  int failed;
  wit_resolve *r;
} out;

static void push(out *o, const char *s, size_t n) {
  if (o->len + n + 1 > o->cap) {
    size_t cap = o->cap ? o->cap * 2 : 4096;
    while (cap < o->len + n + 1) cap *= 2;
    char *nb = realloc(o->buf, cap);
    if (!nb) { o->failed = 1; return; }
    o->buf = nb;
    o->cap = cap;
  }
  memcpy(o->buf + o->len, s, n);
  o->len += n;
  o->buf[o->len] = 0;
}

static void push_str(out *o, const char *s) { push(o, s, strlen(s)); }

static void indent_if_needed(out *o) {
  if (!o->needs_indent) return;
  for (int i = 0; i < o->indent; i++) push_str(o, "  ");
  o->needs_indent = 0;
}

static void newline(out *o) {
  push_str(o, "\n");
  o->needs_indent = 1;
}

static void str(out *o, const char *s) {
  indent_if_needed(o);
  push_str(o, s);
}

static void indent_start(out *o) {
  push_str(o, " {");
  o->indent++;
  newline(o);
}

static void indent_end(out *o) {
  if (o->indent > 0) o->indent--;
  indent_if_needed(o);
  push_str(o, "}");
  newline(o);
}

static void semicolon(out *o) {
  push_str(o, ";");
  newline(o);
}

static void new_item(out *o) {
  if (o->any_items) newline(o);
  o->any_items = 1;
}

static const char *const keywords[] = {
  "use", "type", "func", "u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64", "f32", "f64",
  "float32", "float64", "char", "resource", "record", "flags", "variant", "enum", "bool",
  "string", "option", "result", "future", "stream", "list", "own", "borrow", "_", "as", "from",
  "static", "interface", "tuple", "world", "import", "export", "package", "with", "include",
  "constructor", "error-context", "async", "map",
};

static void name(out *o, const char *n) {
  for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
    if (!strcmp(keywords[i], n)) {
      str(o, "%");
      push_str(o, n);
      return;
    }
  str(o, n);
}

static void docs(out *o, const char *d) {
  if (!d) return;
  const char *p = d;
  for (;;) {
    const char *nl = strchr(p, '\n');
    size_t n = nl ? (size_t)(nl - p) : strlen(p);
    indent_if_needed(o);
    push_str(o, "///");
    if (n) {
      push_str(o, " ");
      push(o, p, n);
    }
    newline(o);
    if (!nl) break;
    p = nl + 1;
  }
}

static void stability(out *o, const wit_stability *s) {
  if (s->kind == WIT_STAB_UNKNOWN) return;
  if (s->kind == WIT_STAB_STABLE) {
    str(o, "@since(version = ");
    push_str(o, s->since);
  } else {
    str(o, "@unstable(feature = ");
    push_str(o, s->feature);
  }
  push_str(o, ")");
  newline(o);
  if (s->deprecated) {
    str(o, "@deprecated(version = ");
    push_str(o, s->deprecated);
    push_str(o, ")");
    newline(o);
  }
}

static void external_id(out *o, const char *id) {
  if (!id) return;
  str(o, "@external-id(\"");
  for (const unsigned char *c = (const unsigned char *)id; *c; c++) {
    char buf[16];
    if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
        strchr("-_./: ", *c)) {
      push(o, (const char *)c, 1);
      continue;
    }
    if (*c >= 0x80) { /* a non-ASCII char as \u{..}, as wit-component's printer does */
      int k = *c >= 0xf0 ? 3 : *c >= 0xe0 ? 2 : 1;
      uint32_t cp = *c & (0x3fu >> k);
      for (int j = 0; j < k && (c[1] & 0xc0) == 0x80; j++) cp = (cp << 6) | (*++c & 0x3f);
      snprintf(buf, sizeof buf, "\\u{%x}", (unsigned)cp);
      push_str(o, buf);
      continue;
    }
    switch (*c) {
    case '\\': push_str(o, "\\\\"); break;
    case '"': push_str(o, "\\\""); break;
    case '\n': push_str(o, "\\n"); break;
    case '\r': push_str(o, "\\r"); break;
    case '\t': push_str(o, "\\t"); break;
    default:
      snprintf(buf, sizeof buf, "\\u{%x}", *c);
      push_str(o, buf);
    }
  }
  push_str(o, "\")");
  newline(o);
}

static const wit_typedef *tdef(out *o, wit_type t) { return &o->r->a.types.v[t]; }

static void type_name(out *o, wit_type t);

static void handle_type(out *o, const wit_typedef *h, int force) {
  const char *res = tdef(o, h->a)->name;
  if (!res) { o->failed = 1; return; }
  if (h->kind == WIT_K_OWN && !force) { name(o, res); return; }
  push_str(o, h->kind == WIT_K_OWN ? "own<" : "borrow<");
  name(o, res);
  push_str(o, ">");
}

static void result_type(out *o, const wit_typedef *t) {
  str(o, "result");
  if (t->a == WIT_TNONE && t->b == WIT_TNONE) return;
  push_str(o, "<");
  if (t->a == WIT_TNONE) push_str(o, "_");
  else type_name(o, t->a);
  if (t->b != WIT_TNONE) {
    push_str(o, ", ");
    type_name(o, t->b);
  }
  push_str(o, ">");
}

static void generic(out *o, const char *kw, wit_type a, wit_type b) {
  str(o, kw);
  if (a == WIT_TNONE) return;
  push_str(o, "<");
  type_name(o, a);
  if (b != WIT_TNONE) {
    push_str(o, ", ");
    type_name(o, b);
  }
  push_str(o, ">");
}

static void type_name(out *o, wit_type t) {
  if (t < 0) { str(o, wit_prim_name(t)); return; }
  const wit_typedef *d = tdef(o, t);
  if (d->name) { name(o, d->name); return; }
  char buf[32];
  switch (d->kind) {
  case WIT_K_OWN: case WIT_K_BORROW: handle_type(o, d, 0); return;
  case WIT_K_TUPLE:
    str(o, "tuple<");
    for (int i = 0; i < d->items.n; i++) {
      if (i) push_str(o, ", ");
      type_name(o, d->items.v[i].ty);
    }
    push_str(o, ">");
    return;
  case WIT_K_OPTION: generic(o, "option", d->a, WIT_TNONE); return;
  case WIT_K_RESULT: result_type(o, d); return;
  case WIT_K_LIST: generic(o, "list", d->a, WIT_TNONE); return;
  case WIT_K_MAP: generic(o, "map", d->a, d->b); return;
  case WIT_K_FIXED_LIST:
    str(o, "list<");
    type_name(o, d->a);
    snprintf(buf, sizeof buf, ", %u>", d->size);
    push_str(o, buf);
    return;
  case WIT_K_TYPE: type_name(o, d->a); return;
  case WIT_K_FUTURE: generic(o, "future", d->a, WIT_TNONE); return;
  case WIT_K_STREAM: generic(o, "stream", d->a, WIT_TNONE); return;
  default: o->failed = 1; /* unnamed record, variant, enum, flags or resource */
  }
}

static void items_block(out *o, const wit_typedef *d, int with_types, int parens) {
  indent_start(o);
  for (int i = 0; i < d->items.n; i++) {
    const wit_item *it = &d->items.v[i];
    docs(o, it->docs);
    name(o, it->name);
    if (with_types && it->ty != WIT_TNONE) {
      if (parens) {
        str(o, "(");
        type_name(o, it->ty);
        str(o, ")");
      } else {
        str(o, ": ");
        type_name(o, it->ty);
      }
    }
    str(o, ",");
    newline(o);
  }
  indent_end(o);
}

static void declare_type(out *o, int id) {
  const wit_typedef *d = tdef(o, id);
  const char *n = d->name;
  switch (d->kind) {
  case WIT_K_RECORD: str(o, "record "); name(o, n); items_block(o, d, 1, 0); return;
  case WIT_K_VARIANT: str(o, "variant "); name(o, n); items_block(o, d, 1, 1); return;
  case WIT_K_FLAGS: str(o, "flags "); name(o, n); items_block(o, d, 0, 0); return;
  case WIT_K_ENUM: str(o, "enum "); name(o, n); items_block(o, d, 0, 0); return;
  default: break;
  }
  str(o, "type ");
  name(o, n);
  str(o, " = ");
  switch (d->kind) {
  case WIT_K_OWN: case WIT_K_BORROW: handle_type(o, d, 1); break;
  case WIT_K_TYPE: type_name(o, d->a); break;
  default: {
    /* print the definition itself, as for an anonymous type */
    wit_typedef copy = *d;
    copy.name = NULL;
    char *saved = o->r->a.types.v[id].name;
    o->r->a.types.v[id].name = NULL;
    type_name(o, id);
    o->r->a.types.v[id].name = saved;
    (void)copy;
  }
  }
  semicolon(o);
}

/* ---- functions ---- */
/* Function::item_name */
static const char *item_name(const wit_function *f) {
  if (f->kind == WIT_F_FREESTANDING || f->kind == WIT_F_ASYNC_FREESTANDING) return f->name;
  if (f->kind == WIT_F_CONSTRUCTOR) return "constructor";
  const char *dot = strchr(f->name, '.');
  return dot ? dot + 1 : f->name;
}

static int is_async(const wit_function *f) {
  return f->kind == WIT_F_ASYNC_FREESTANDING || f->kind == WIT_F_ASYNC_METHOD || f->kind == WIT_F_ASYNC_STATIC;
}

/* Function::is_constructor_shorthand: `constructor(...)` returning own<T> of its resource */
static int ctor_shorthand(out *o, const wit_function *f) {
  if (f->kind != WIT_F_CONSTRUCTOR || f->result < 0) return 0;
  const wit_typedef *d = tdef(o, f->result);
  return d->kind == WIT_K_OWN && d->a == f->resource;
}

static void function(out *o, const wit_function *f) {
  if (is_async(f)) str(o, "async ");
  str(o, f->kind == WIT_F_CONSTRUCTOR ? "constructor(" : "func(");
  int skip = f->kind == WIT_F_METHOD || f->kind == WIT_F_ASYNC_METHOD;
  for (int i = skip; i < f->params.n; i++) {
    if (i > skip) str(o, ", ");
    name(o, f->params.v[i].name);
    str(o, ": ");
    type_name(o, f->params.v[i].ty);
  }
  str(o, ")");
  if (ctor_shorthand(o, f)) return;
  if (f->result != WIT_TNONE) {
    str(o, " -> ");
    type_name(o, f->result);
  }
}

static void resource(out *o, int id, const wit_function **funcs, int n) {
  str(o, "resource ");
  name(o, tdef(o, id)->name);
  if (!n) {
    semicolon(o);
    return;
  }
  indent_start(o);
  for (int i = 0; i < n; i++) {
    const wit_function *f = funcs[i];
    docs(o, f->docs);
    stability(o, &f->stab);
    external_id(o, f->external_id);
    if (f->kind == WIT_F_METHOD || f->kind == WIT_F_ASYNC_METHOD) {
      name(o, item_name(f));
      str(o, ": ");
    } else if (f->kind == WIT_F_STATIC || f->kind == WIT_F_ASYNC_STATIC) {
      name(o, item_name(f));
      str(o, ": static ");
    }
    function(o, f);
    semicolon(o);
  }
  indent_end(o);
}

/* ---- types of an interface or world, with `use` for types from elsewhere ---- */
typedef struct rfuncs {
  const wit_function **v;
  int n, cap;
} rfuncs;

static void path_to_interface(out *o, int iface, int cur_pkg) {
  const wit_interface *i = &o->r->a.interfaces.v[iface];
  if (!i->name) { o->failed = 1; return; }
  if (i->package == cur_pkg) { name(o, i->name); return; }
  const wit_pkgname *p = &o->r->packages.v[i->package].name;
  name(o, p->ns);
  str(o, ":");
  name(o, p->name);
  str(o, "/");
  name(o, i->name);
  if (p->version) {
    str(o, "@");
    push_str(o, p->version);
  }
}

static void print_types(out *o, int owner_kind, int owner, const wit_names *types, rfuncs *rf, int my_pkg) {
  wit_arena *m = &o->r->mem;
  wit_ints declare = {0};
  /* groups of `use`: (interface, first type index, names) */
  typedef struct use_group {
    int iface;
    const wit_typedef *first;
    wit_ints members; /* indices into types */
  } use_group;
  WIT_VEC(use_group) uses = {0};
  for (int i = 0; i < types->n; i++) {
    const wit_typedef *t = tdef(o, types->v[i].id);
    if (t->kind == WIT_K_TYPE && t->a >= 0) {
      const wit_typedef *other = tdef(o, t->a);
      if (other->owner_kind != WIT_OWNER_NONE && (other->owner_kind != owner_kind || other->owner != owner)) {
        if (!other->name || other->owner_kind != WIT_OWNER_INTERFACE) { o->failed = 1; continue; }
        use_group *last = uses.n ? &uses.v[uses.n - 1] : NULL;
        if (last && last->iface == other->owner && wit_stab_eq(&t->stab, &last->first->stab) &&
            ((!t->external_id && !last->first->external_id) ||
             (t->external_id && last->first->external_id && !strcmp(t->external_id, last->first->external_id)))) {
          wit_push(m, last->members, i);
          continue;
        }
        use_group g = {other->owner, t, {0}};
        wit_push(m, g.members, i);
        wit_push(m, uses, g);
        continue;
      }
    }
    wit_push(m, declare, types->v[i].id);
  }
  for (int u = 0; u < uses.n; u++) {
    use_group *g = &uses.v[u];
    o->any_items = 1;
    stability(o, &g->first->stab);
    external_id(o, g->first->external_id);
    str(o, "use ");
    path_to_interface(o, g->iface, my_pkg);
    str(o, ".{");
    for (int k = 0; k < g->members.n; k++) {
      const wit_named *nm = &types->v[g->members.v[k]];
      const char *other = tdef(o, tdef(o, nm->id)->a)->name;
      if (k) str(o, ", ");
      if (!strcmp(nm->name, other)) {
        name(o, nm->name);
      } else {
        name(o, other);
        str(o, " as ");
        name(o, nm->name);
      }
    }
    str(o, "}");
    semicolon(o);
  }
  for (int i = 0; i < declare.n; i++) {
    int id = declare.v[i];
    const wit_typedef *t = tdef(o, id);
    new_item(o);
    docs(o, t->docs);
    stability(o, &t->stab);
    external_id(o, t->external_id);
    if (t->kind == WIT_K_RESOURCE) {
      rfuncs *f = &rf[id];
      resource(o, id, f->v, f->n);
    } else {
      declare_type(o, id);
    }
  }
}

static rfuncs *new_rfuncs(out *o) {
  return wit_alloc(&o->r->mem, sizeof(rfuncs) * (size_t)(o->r->a.types.n + 1));
}

static void add_rfunc(out *o, rfuncs *all, const wit_function *f) {
  rfuncs *x = &all[f->resource];
  wit_vgrow(&o->r->mem, (void **)&x->v, &x->cap, x->n, sizeof(*x->v));
  x->v[x->n++] = f;
}

static void print_interface(out *o, int id) {
  int prev = o->any_items;
  o->any_items = 0;
  const wit_interface *i = &o->r->a.interfaces.v[id];
  rfuncs *rf = new_rfuncs(o);
  for (int k = 0; k < i->funcs.f.n; k++) {
    const wit_function *f = &i->funcs.f.v[k];
    if (f->kind != WIT_F_FREESTANDING && f->kind != WIT_F_ASYNC_FREESTANDING) add_rfunc(o, rf, f);
  }
  print_types(o, WIT_OWNER_INTERFACE, id, &i->types, rf, i->package);
  for (int k = 0; k < i->funcs.f.n; k++) {
    const wit_function *f = &i->funcs.f.v[k];
    if (f->kind != WIT_F_FREESTANDING && f->kind != WIT_F_ASYNC_FREESTANDING) continue;
    new_item(o);
    docs(o, f->docs);
    stability(o, &f->stab);
    external_id(o, f->external_id);
    name(o, f->name);
    str(o, ": ");
    function(o, f);
    semicolon(o);
  }
  o->any_items = prev;
}

static void world_item(out *o, const wit_witem *it, int cur_pkg, const char *kw) {
  if (it->kind == WIT_WI_INTERFACE) {
    if (it->docs) docs(o, it->docs);
    else if (it->key.name) docs(o, o->r->a.interfaces.v[it->id].docs);
    stability(o, &it->stab);
  } else {
    docs(o, it->func.docs);
    stability(o, &it->func.stab);
  }
  external_id(o, it->kind == WIT_WI_INTERFACE ? it->external_id : it->func.external_id);
  str(o, kw);
  str(o, " ");
  if (!it->key.name) {
    path_to_interface(o, it->key.iface, cur_pkg);
    semicolon(o);
    return;
  }
  if (it->kind == WIT_WI_INTERFACE) {
    name(o, it->key.name);
    str(o, ": ");
    if (!o->r->a.interfaces.v[it->id].name) {
      str(o, "interface");
      indent_start(o);
      print_interface(o, it->id);
      indent_end(o);
    } else {
      path_to_interface(o, it->id, cur_pkg);
      semicolon(o);
    }
    return;
  }
  name(o, it->func.name);
  str(o, ": ");
  function(o, &it->func);
  semicolon(o);
}

static void print_world(out *o, int id) {
  int prev = o->any_items;
  o->any_items = 0;
  const wit_world *w = &o->r->a.worlds.v[id];
  wit_names types = {0};
  rfuncs *rf = new_rfuncs(o);
  WIT_VEC(const wit_witem *) funcs = {0};
  for (int i = 0; i < w->imports.n; i++) {
    const wit_witem *it = &w->imports.v[i];
    if (it->kind == WIT_WI_TYPE) {
      wit_named n = {it->key.name, it->id, it->span};
      wit_push(&o->r->mem, types, n);
    } else if (it->kind == WIT_WI_FUNCTION) {
      if (it->func.kind != WIT_F_FREESTANDING && it->func.kind != WIT_F_ASYNC_FREESTANDING) add_rfunc(o, rf, &it->func);
      else wit_push(&o->r->mem, funcs, it);
    } else {
      world_item(o, it, w->package, "import");
      o->any_items = 1;
    }
  }
  print_types(o, WIT_OWNER_WORLD, id, &types, rf, w->package);
  for (int i = 0; i < funcs.n; i++) {
    world_item(o, funcs.v[i], w->package, "import");
    o->any_items = 1;
  }
  if (w->exports.n) new_item(o);
  for (int i = 0; i < w->exports.n; i++) world_item(o, &w->exports.v[i], w->package, "export");
  o->any_items = prev;
}

static void package_outer(out *o, const wit_package *p) {
  docs(o, p->docs);
  str(o, "package ");
  name(o, p->name.ns);
  str(o, ":");
  name(o, p->name.name);
  if (p->name.version) {
    str(o, "@");
    push_str(o, p->name.version);
  }
}

static void print_package(out *o, int pkg, int is_main) {
  const wit_package *p = &o->r->packages.v[pkg];
  package_outer(o, p);
  if (is_main) {
    semicolon(o);
    newline(o);
  } else {
    indent_start(o);
  }
  for (int i = 0; i < p->interfaces.n; i++) {
    int id = p->interfaces.v[i].id;
    docs(o, o->r->a.interfaces.v[id].docs);
    stability(o, &o->r->a.interfaces.v[id].stab);
    str(o, "interface ");
    name(o, p->interfaces.v[i].name);
    indent_start(o);
    print_interface(o, id);
    indent_end(o);
    if (is_main) newline(o);
  }
  for (int i = 0; i < p->worlds.n; i++) {
    int id = p->worlds.v[i].id;
    docs(o, o->r->a.worlds.v[id].docs);
    stability(o, &o->r->a.worlds.v[id].stab);
    str(o, "world ");
    name(o, p->worlds.v[i].name);
    indent_start(o);
    print_world(o, id);
    indent_end(o);
  }
  if (!is_main) indent_end(o);
}

char *wit_print(wit_resolve *r, int main_pkg, const int *nested, int nnested) {
  out o = {0};
  o.r = r;
  print_package(&o, main_pkg, 1);
  for (int i = 0; i < nnested; i++) {
    if (i) {
      newline(&o);
      newline(&o);
    }
    print_package(&o, nested[i], 0);
  }
  if (o.failed || !o.buf) {
    free(o.buf);
    return NULL;
  }
  return o.buf;
}
