/* Resolution of one package's internal names (wit-parser's ast/resolve.rs):
 * toposorted interfaces/worlds/types, anonymous types deduplicated, `use`
 * of foreign packages turned into placeholder items for resolve.c. */
#include <string.h>

#include "wit/unresolved.h"

enum { ITEM_INTERFACE, ITEM_WORLD };
typedef struct astitem {
  int kind, id;
} astitem;

typedef struct nmap_ent { /* name -> value, insertion ordered */
  char *name;
  int v;        /* type id, or -1 for an item (function) */
  int kind;     /* astitem kind, or item flag */
  wit_span span;
} nmap_ent;
/* An insertion-ordered map; past 8 entries it keeps an open-addressing index. */
typedef struct nmap {
  nmap_ent *v;
  int n, cap;
  int *slots; /* entry index + 1, 0 when empty */
  int nslots;
} nmap;

static uint32_t str_hash(const char *s) {
  uint32_t h = 2166136261u;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
  return h;
}

static nmap_ent *nmap_get(nmap *m, const char *name) {
  if (!m->nslots) {
    for (int i = 0; i < m->n; i++)
      if (!strcmp(m->v[i].name, name)) return &m->v[i];
    return NULL;
  }
  uint32_t mask = (uint32_t)m->nslots - 1;
  for (uint32_t i = str_hash(name) & mask;; i = (i + 1) & mask) {
    int e = m->slots[i];
    if (!e) return NULL;
    if (!strcmp(m->v[e - 1].name, name)) return &m->v[e - 1];
  }
}

static void nmap_index(wit_arena *mem, nmap *m, int e) {
  uint32_t mask = (uint32_t)m->nslots - 1;
  uint32_t i = str_hash(m->v[e].name) & mask;
  while (m->slots[i]) i = (i + 1) & mask;
  m->slots[i] = e + 1;
  (void)mem;
}

/* insert; returns 1 when the name was already present (value replaced in place) */
static int nmap_put(wit_arena *mem, nmap *m, const char *name, int v, int kind, wit_span span) {
  nmap_ent *e = nmap_get(m, name);
  if (e) { e->v = v; e->kind = kind; e->span = span; return 1; }
  nmap_ent n = {(char *)name, v, kind, span};
  wit_push(mem, *m, n);
  if (m->n >= 8 && m->n * 2 > m->nslots) {
    int ns = 16;
    while (ns < m->n * 4) ns *= 2;
    m->slots = wit_alloc(mem, sizeof(int) * (size_t)ns);
    m->nslots = ns;
    for (int i = 0; i < m->n; i++) nmap_index(mem, m, i);
  } else if (m->nslots) {
    nmap_index(mem, m, m->n - 1);
  }
  return 0;
}

typedef struct anon_ent {
  uint32_t hash;
  int id;
} anon_ent;

struct wit_urctx {
  wit_keycache keys;
  wit_arena *mem;
  wit_error *err;
  int has_name;
  wit_pkgname name;
  wit_span name_span;
  char *docs;
  WIT_VEC(ast_decls *) decls;
  wit_arenas a;
  WIT_VEC(anon_ent) anon;
  int cur;
  WIT_VEC(nmap) ast_items;     /* per decl list: name -> astitem */
  nmap package_items;          /* name -> astitem */
  WIT_VEC(nmap) iface_types;   /* per interface: name -> type or item */
  WIT_VEC(wit_foreign_pkg) foreign;
  wit_ints foreign_ifaces, foreign_worlds;
  nmap type_lookup;
  WIT_VEC(wit_span) unknown_type_spans;
  WIT_VEC(wit_type_span) required;
};

wit_urctx *wit_ur_new(wit_arena *mem, wit_error *err) {
  wit_urctx *r = wit_alloc(mem, sizeof *r);
  r->mem = mem;
  r->err = err;
  return r;
}

static int syntax(wit_urctx *r, wit_span s, const char *msg) {
  return wit_error_at(r->err, r->mem, s, "%s", msg);
}

static int not_found(wit_urctx *r, const ast_id *id, const char *kind) {
  return wit_error_at(r->err, r->mem, id->span, "%s `%s` does not exist", kind, id->name);
}

/* ---- docs ---- */
static char *docs_of(wit_urctx *r, const ast_docs *d) {
  if (!d->lines.n) return NULL;
  int n = d->lines.n;
  char **lines = wit_alloc(r->mem, sizeof(char *) * (size_t)n);
  size_t total = 0;
  for (int i = 0; i < n; i++) {
    char *c = d->lines.v[i];
    size_t len = strlen(c);
    if (len >= 3 && !strncmp(c, "/**", 3)) {
      c += 3;
      len -= 3;
      if (len >= 2 && !strcmp(c + len - 2, "*/")) len -= 2;
    } else {
      while (len && *c == '/') { c++; len--; }
    }
    while (len && (c[len - 1] == ' ' || c[len - 1] == '\t' || c[len - 1] == '\n' || c[len - 1] == '\r'))
      len--;
    lines[i] = wit_strndup(r->mem, c, len);
    total += len + 1;
  }
  size_t minws = (size_t)-1;
  for (int i = 0; i < n; i++) {
    if (!*lines[i]) continue;
    size_t k = 0;
    while (lines[i][k] == ' ' || lines[i][k] == '\t' || lines[i][k] == '\n' || lines[i][k] == '\r') k++;
    if (k < minws) minws = k;
  }
  if (minws == (size_t)-1) minws = 0;
  char *out = wit_alloc(r->mem, total + 1);
  size_t o = 0;
  for (int i = 0; i < n; i++) {
    char *l = lines[i];
    size_t k = 0;
    while (k < minws && l[k] == ' ') k++;
    if (k == minws) l += minws;
    if (!*l) { out[o++] = '\n'; continue; }
    /* each line of the comment, newline terminated (str::lines) */
    while (*l) {
      char *e = strchr(l, '\n');
      size_t len = e ? (size_t)(e - l) : strlen(l);
      size_t ll = len;
      if (ll && l[ll - 1] == '\r') ll--;
      memcpy(out + o, l, ll);
      o += ll;
      out[o++] = '\n';
      l += len + (e ? 1 : 0);
    }
  }
  while (o && out[o - 1] == '\n') o--;
  out[o] = 0;
  return out;
}

/* ---- stability ---- */
static int stability(wit_urctx *r, const ast_attrs *attrs, wit_stability *out) {
  char *since = NULL, *dep = NULL, *feat = NULL;
  wit_span since_span = wit_span_unknown(), dep_span = wit_span_unknown();
  for (int i = 0; i < attrs->n; i++) {
    const ast_attr *a = &attrs->v[i];
    if (a->kind == ATTR_SINCE) {
      if (since) return syntax(r, a->span, "cannot specify @since twice");
      since = a->text;
      since_span = a->span;
    } else if (a->kind == ATTR_DEPRECATED) {
      if (dep) return syntax(r, a->span, "cannot specify @deprecated twice");
      dep = a->text;
      dep_span = a->span;
    } else if (a->kind == ATTR_UNSTABLE) {
      if (feat) return syntax(r, a->span, "cannot specify @unstable twice");
      feat = a->text;
    }
  }
  memset(out, 0, sizeof *out);
  if (since && feat) return syntax(r, since_span, "cannot specify both @since and @unstable");
  if (since) *out = (wit_stability){WIT_STAB_STABLE, since, NULL, dep};
  else if (feat) *out = (wit_stability){WIT_STAB_UNSTABLE, NULL, feat, dep};
  else if (dep) return syntax(r, dep_span, "cannot specify both @deprecated without @since or @unstable");
  return 0;
}

static int external_id(wit_urctx *r, const ast_attrs *attrs, char **out) {
  *out = NULL;
  for (int i = 0; i < attrs->n; i++)
    if (attrs->v[i].kind == ATTR_EXTERNAL_ID) {
      if (*out) return syntax(r, attrs->v[i].span, "cannot specify @external-id twice");
      *out = attrs->v[i].text;
    }
  return 0;
}

/* ---- arenas ---- */
static int alloc_interface(wit_urctx *r, wit_span span) {
  wit_interface i = {0};
  i.package = -1;
  i.clone_of = -1;
  i.span = span;
  nmap empty = {0};
  wit_push(r->mem, r->iface_types, empty);
  wit_push(r->mem, r->a.interfaces, i);
  return r->a.interfaces.n - 1;
}

static int alloc_world(wit_urctx *r, wit_span span) {
  wit_world w = {0};
  w.name = "";
  w.package = -1;
  w.span = span;
  wit_push(r->mem, r->a.worlds, w);
  return r->a.worlds.n - 1;
}

static int alloc_type(wit_urctx *r, wit_typedef *t) {
  wit_push(r->mem, r->a.types, *t);
  return r->a.types.n - 1;
}

/* ---- push and for_each_path ---- */
int wit_ur_push(wit_urctx *r, ast_pkgfile *file) {
  if (file->has_name) {
    ast_pkgname *n = &file->name;
    wit_pkgname cur = {n->ns.name, n->name.name, n->version};
    if (r->has_name && !wit_pkgname_eq(&cur, &r->name))
      return wit_error_at(r->err, r->mem, n->span,
                          "package identifier `%s` does not match previous package name of `%s`",
                          wit_pkgname_str(r->mem, &cur), wit_pkgname_str(r->mem, &r->name));
    r->has_name = 1;
    r->name = cur;
    r->name_span = n->span;
    char *docs = docs_of(r, &n->docs);
    if (docs) {
      if (r->docs) return syntax(r, n->docs.span, "found doc comments on multiple 'package' items");
      r->docs = docs;
    }
  }
  for (int i = 0; i < file->decls.n; i++)
    if (file->decls.v[i].kind == AI_PACKAGE)
      return syntax(r, file->decls.v[i].pkg->name.span, "nested packages must be placed at the top-level");
  wit_push(r->mem, r->decls, &file->decls);
  return 0;
}

enum { WOI_WORLD, WOI_INTERFACE, WOI_UNKNOWN };
typedef int (*path_fn)(wit_urctx *r, void *ctx, const ast_id *owner, const ast_attrs *attrs,
                       const ast_usepath *path, const ast_use *names, int woi);

static int each_iface_use(wit_urctx *r, void *ctx, path_fn f, const ast_id *owner, const ast_iitems *items) {
  for (int i = 0; i < items->n; i++)
    if (items->v[i].kind == II_USE &&
        f(r, ctx, owner, &items->v[i].use.attrs, &items->v[i].use.from, &items->v[i].use, WOI_INTERFACE))
      return -1;
  return 0;
}

static int each_extern(wit_urctx *r, void *ctx, path_fn f, const ast_witem *w) {
  const ast_extern *e = &w->ext;
  if (e->kind == EK_INTERFACE) return each_iface_use(r, ctx, f, NULL, &e->items);
  if (e->kind == EK_PATH || e->kind == EK_NAMED_PATH) return f(r, ctx, NULL, &w->attrs, &e->path, NULL, WOI_INTERFACE);
  return 0;
}

static int for_each_path(wit_urctx *r, const ast_decls *d, path_fn f, void *ctx) {
  for (int i = 0; i < d->n; i++) {
    const ast_item *it = &d->v[i];
    if (it->kind == AI_WORLD) {
      const ast_world *w = &it->world;
      for (int j = 0; j < w->items.n; j++) {
        const ast_witem *wi = &w->items.v[j];
        if (wi->kind == WI_USE && f(r, ctx, NULL, &wi->use.attrs, &wi->use.from, &wi->use, WOI_INTERFACE)) return -1;
        if (wi->kind == WI_INCLUDE && f(r, ctx, &w->name, &wi->inc.attrs, &wi->inc.from, NULL, WOI_WORLD)) return -1;
      }
      for (int j = 0; j < w->items.n; j++)
        if (w->items.v[j].kind == WI_IMPORT && each_extern(r, ctx, f, &w->items.v[j])) return -1;
      for (int j = 0; j < w->items.n; j++)
        if (w->items.v[j].kind == WI_EXPORT && each_extern(r, ctx, f, &w->items.v[j])) return -1;
    } else if (it->kind == AI_INTERFACE) {
      if (each_iface_use(r, ctx, f, &it->iface.name, &it->iface.items)) return -1;
    } else if (it->kind == AI_USE) {
      if (f(r, ctx, NULL, &it->use.attrs, &it->use.item, NULL, WOI_UNKNOWN)) return -1;
    } else if (it->kind == AI_PACKAGE) {
      if (for_each_path(r, &it->pkg->decls, f, ctx)) return -1;
    }
  }
  return 0;
}

/* ---- foreign deps ---- */
static wit_foreign_pkg *foreign_pkg(wit_urctx *r, const wit_pkgname *n) {
  for (int i = 0; i < r->foreign.n; i++)
    if (wit_pkgname_eq(&r->foreign.v[i].name, n)) return &r->foreign.v[i];
  return NULL;
}

static wit_foreign_item *foreign_item(wit_foreign_pkg *p, const char *name) {
  for (int i = 0; i < p->items.n; i++)
    if (!strcmp(p->items.v[i].name, name)) return &p->items.v[i];
  return NULL;
}

static wit_pkgname pkgname_of(const ast_pkgname *p) {
  return (wit_pkgname){p->ns.name, p->name.name, p->version};
}

static int foreign_dep_cb(wit_urctx *r, void *ctx, const ast_id *owner, const ast_attrs *attrs,
                          const ast_usepath *path, const ast_use *names, int woi) {
  (void)ctx; (void)owner; (void)names;
  if (!path->is_pkg) return 0;
  wit_stability stab;
  if (stability(r, attrs, &stab)) return -1;
  wit_pkgname pn = pkgname_of(&path->pkg);
  wit_foreign_pkg *p = foreign_pkg(r, &pn);
  if (!p) {
    wit_foreign_pkg np = {pn, path->pkg.span, {0}};
    wit_push(r->mem, r->foreign, np);
    p = &r->foreign.v[r->foreign.n - 1];
  }
  wit_foreign_item *it = foreign_item(p, path->name.name);
  if (!it) {
    wit_foreign_item ni = {path->name.name, woi == WOI_WORLD, 0, {0}};
    ni.id = ni.is_world ? alloc_world(r, path->name.span) : alloc_interface(r, path->name.span);
    wit_push(r->mem, p->items, ni);
    it = &p->items.v[p->items.n - 1];
  }
  wit_push(r->mem, it->stabs, stab);
  if (it->is_world) wit_push(r->mem, r->foreign_worlds, it->id);
  else wit_push(r->mem, r->foreign_ifaces, it->id);
  return 0;
}

/* ---- toposort (ast/toposort.rs): ready nodes in declaration order ---- */
typedef WIT_VEC(ast_id) ast_ids;
typedef struct topo_node {
  char *name;
  ast_ids deps;
} topo_node;
typedef struct topo {
  topo_node *v;
  int n, cap;
  nmap index;
} topo;

static int topo_index(topo *t, const char *name) {
  nmap_ent *e = nmap_get(&t->index, name);
  return e ? e->v : -1;
}

static void topo_add(wit_arena *mem, topo *t, topo_node node) {
  wit_push(mem, *t, node);
  nmap_put(mem, &t->index, node.name, t->n - 1, 0, wit_span_unknown());
}

/* a binary min-heap of node indices: ready nodes leave in declaration order */
static void heap_push(int *h, int *n, int x) {
  int i = (*n)++;
  h[i] = x;
  while (i > 0 && h[(i - 1) / 2] > h[i]) {
    int p = (i - 1) / 2, tmp = h[p];
    h[p] = h[i];
    h[i] = tmp;
    i = p;
  }
}

static int heap_pop(int *h, int *n) {
  int top = h[0];
  h[0] = h[--(*n)];
  for (int i = 0;;) {
    int l = 2 * i + 1, r = l + 1, m = i;
    if (l < *n && h[l] < h[m]) m = l;
    if (r < *n && h[r] < h[m]) m = r;
    if (m == i) break;
    int tmp = h[m];
    h[m] = h[i];
    h[i] = tmp;
    i = m;
  }
  return top;
}

/* toposort (ast/toposort.rs): Kahn's algorithm, lowest index first among ready nodes */
static int toposort(wit_urctx *r, const char *kind, topo *t, int **order_out) {
  int n = t->n;
  size_t sz = sizeof(int) * (size_t)(n + 1);
  int *remaining = wit_alloc(r->mem, sz), *order = wit_alloc(r->mem, sz);
  int *heap = wit_alloc(r->mem, sz), *rev_start = wit_alloc(r->mem, sz + sizeof(int));
  int **target = wit_alloc(r->mem, sizeof(int *) * (size_t)(n + 1));
  int edges = 0;
  for (int i = 0; i < n; i++) {
    remaining[i] = t->v[i].deps.n;
    target[i] = wit_alloc(r->mem, sizeof(int) * (size_t)(t->v[i].deps.n + 1));
    for (int j = 0; j < t->v[i].deps.n; j++) {
      int k = topo_index(t, t->v[i].deps.v[j].name);
      if (k < 0) return not_found(r, &t->v[i].deps.v[j], kind);
      target[i][j] = k;
      rev_start[k + 1]++;
      edges++;
    }
  }
  for (int i = 0; i < n; i++) rev_start[i + 1] += rev_start[i];
  int *rev = wit_alloc(r->mem, sizeof(int) * (size_t)(edges + 1));
  int *fill = wit_alloc(r->mem, sz);
  for (int i = 0; i < n; i++)
    for (int j = 0; j < t->v[i].deps.n; j++) {
      int k = target[i][j];
      rev[rev_start[k] + fill[k]++] = i;
    }
  int hn = 0, count = 0;
  for (int i = 0; i < n; i++)
    if (!remaining[i]) heap_push(heap, &hn, i);
  while (hn) {
    int pick = heap_pop(heap, &hn);
    order[count++] = pick;
    for (int e = rev_start[pick]; e < rev_start[pick + 1]; e++)
      if (--remaining[rev[e]] == 0) heap_push(heap, &hn, rev[e]);
  }
  if (count == n) {
    *order_out = order;
    return 0;
  }
  for (int i = 0; i < n; i++) {
    if (remaining[i] == 0) continue;
    for (int j = 0; j < t->v[i].deps.n; j++) {
      if (remaining[target[i][j]] == 0) continue;
      const ast_id *d = &t->v[i].deps.v[j];
      return wit_error_at(r->err, r->mem, d->span, "%s `%s` depends on itself", kind, d->name);
    }
  }
  return syntax(r, wit_span_unknown(), "internal error: toposort");
}

/* ---- populate_ast_items ---- */
typedef struct order_ctx {
  topo *order;
  nmap *decl_ns;   /* name -> (span, src: kind 1 foreign / 0 local with v = index into ids) */
  ast_ids *local_ids;
} order_ctx;

static int order_cb(wit_urctx *r, void *vctx, const ast_id *owner, const ast_attrs *attrs,
                    const ast_usepath *path, const ast_use *names, int woi) {
  (void)attrs; (void)names; (void)woi;
  order_ctx *c = vctx;
  if (!owner || path->is_pkg) return 0;
  const ast_id *used = &path->id;
  topo_node *node = &c->order->v[topo_index(c->order, owner->name)];
  nmap_ent *e = nmap_get(c->decl_ns, used->name);
  if (e) {
    if (e->kind == 1) return 0;
    wit_push(r->mem, node->deps, c->local_ids->v[e->v]);
    return 0;
  }
  if (nmap_get(&r->package_items, used->name)) {
    wit_push(r->mem, node->deps, *used);
    return 0;
  }
  return not_found(r, used, "interface or world");
}

typedef struct item_order {
  wit_ints ifaces, worlds;
} item_order;

static int populate_ast_items(wit_urctx *r, item_order *out) {
  nmap pkg_items = {0}; /* name -> (span) of interfaces/worlds, kind = AI kind */
  topo order = {0};
  for (int d = 0; d < r->decls.n; d++) {
    ast_decls *dl = r->decls.v[d];
    for (int i = 0; i < dl->n; i++) {
      ast_item *it = &dl->v[i];
      if (it->kind != AI_INTERFACE && it->kind != AI_WORLD) continue;
      ast_id *name = it->kind == AI_INTERFACE ? &it->iface.name : &it->world.name;
      if (nmap_get(&pkg_items, name->name))
        return wit_error_at(r->err, r->mem, name->span, "duplicate item named `%s`", name->name);
      nmap_put(r->mem, &pkg_items, name->name, 0, it->kind, name->span);
      topo_node node = {name->name, {0}};
      topo_add(r->mem, &order, node);
    }
  }
  r->package_items = pkg_items; /* used by order_cb for existence only; reset below */
  for (int d = 0; d < r->decls.n; d++) {
    ast_decls *dl = r->decls.v[d];
    nmap decl_ns = {0};
    ast_ids local_ids = {0};
    for (int i = 0; i < dl->n; i++) {
      ast_item *it = &dl->v[i];
      const ast_id *name;
      int foreign = 0;
      ast_id src = {0};
      if (it->kind == AI_USE) {
        name = it->use.as.name ? &it->use.as : wit_use_path_name(&it->use.item);
        if (it->use.item.is_pkg) foreign = 1;
        else src = it->use.item.id;
      } else {
        name = it->kind == AI_INTERFACE ? &it->iface.name : &it->world.name;
        src = *name;
      }
      if (nmap_get(&decl_ns, name->name))
        return wit_error_at(r->err, r->mem, name->span, "duplicate name `%s` in this file", name->name);
      wit_push(r->mem, local_ids, src);
      nmap_put(r->mem, &decl_ns, name->name, local_ids.n - 1, foreign, name->span);
    }
    order_ctx c = {&order, &decl_ns, &local_ids};
    if (for_each_path(r, dl, order_cb, &c)) return -1;
  }
  int *sorted;
  if (toposort(r, "interface or world", &order, &sorted)) return -1;
  nmap ids = {0};
  memset(out, 0, sizeof *out);
  for (int k = 0; k < order.n; k++) {
    char *name = order.v[sorted[k]].name;
    nmap_ent *pe = nmap_get(&pkg_items, name);
    if (pe->kind == AI_INTERFACE) {
      int id = alloc_interface(r, pe->span);
      r->a.interfaces.v[id].name = name;
      nmap_put(r->mem, &ids, name, id, ITEM_INTERFACE, pe->span);
      wit_push(r->mem, out->ifaces, id);
    } else {
      int id = alloc_world(r, pe->span);
      r->a.worlds.v[id].name = name;
      nmap_put(r->mem, &ids, name, id, ITEM_WORLD, pe->span);
      wit_push(r->mem, out->worlds, id);
    }
  }
  memset(&r->package_items, 0, sizeof r->package_items);
  for (int d = 0; d < r->decls.n; d++) {
    ast_decls *dl = r->decls.v[d];
    nmap items = {0};
    for (int i = 0; i < dl->n; i++) {
      ast_item *it = &dl->v[i];
      const ast_id *name;
      nmap_ent *e = NULL;
      int kind, id;
      if (it->kind == AI_USE) {
        if (it->use.attrs.n) return syntax(r, it->use.span, "attributes not allowed on top-level use");
        name = it->use.as.name ? &it->use.as : wit_use_path_name(&it->use.item);
        if (!it->use.item.is_pkg) {
          e = nmap_get(&ids, it->use.item.id.name);
          if (!e) return not_found(r, &it->use.item.id, "interface or world");
          kind = e->kind;
          id = e->v;
        } else {
          wit_pkgname pn = pkgname_of(&it->use.item.pkg);
          wit_foreign_item *fi = foreign_item(foreign_pkg(r, &pn), it->use.item.name.name);
          kind = fi->is_world ? ITEM_WORLD : ITEM_INTERFACE;
          id = fi->id;
        }
      } else {
        name = it->kind == AI_INTERFACE ? &it->iface.name : &it->world.name;
        e = nmap_get(&ids, name->name);
        kind = e->kind;
        id = e->v;
      }
      nmap_put(r->mem, &items, name->name, id, kind, name->span);
      if (it->kind != AI_USE) nmap_put(r->mem, &r->package_items, name->name, id, kind, name->span);
    }
    wit_push(r->mem, r->ast_items, items);
  }
  return 0;
}

/* ---- paths to items ---- */
static int resolve_item_path(wit_urctx *r, const ast_usepath *p, astitem *out, const ast_id **name) {
  if (!p->is_pkg) {
    nmap_ent *e = nmap_get(&r->ast_items.v[r->cur], p->id.name);
    if (!e) e = nmap_get(&r->package_items, p->id.name);
    if (!e) return not_found(r, &p->id, "interface or world");
    *out = (astitem){e->kind, e->v};
    *name = &p->id;
    return 0;
  }
  wit_pkgname pn = pkgname_of(&p->pkg);
  wit_foreign_item *fi = foreign_item(foreign_pkg(r, &pn), p->name.name);
  *out = (astitem){fi->is_world ? ITEM_WORLD : ITEM_INTERFACE, fi->id};
  *name = &p->name;
  return 0;
}

static int iface_from_item(wit_urctx *r, astitem it, const ast_id *name, int *id) {
  if (it.kind == ITEM_WORLD)
    return wit_error_at(r->err, r->mem, name->span, "name `%s` is defined as a world, not an interface", name->name);
  *id = it.id;
  return 0;
}

static int world_from_item(wit_urctx *r, astitem it, const ast_id *name, int *id) {
  if (it.kind == ITEM_INTERFACE)
    return wit_error_at(r->err, r->mem, name->span, "name `%s` is defined as an interface, not a world", name->name);
  *id = it.id;
  return 0;
}

static int path_iface(wit_urctx *r, const ast_usepath *p, int *id) {
  astitem it;
  const ast_id *name;
  return resolve_item_path(r, p, &it, &name) || iface_from_item(r, it, name, id) ? -1 : 0;
}

static int contains(const int *v, int n, int x) {
  for (int i = 0; i < n; i++)
    if (v[i] == x) return 1;
  return 0;
}

static int foreign_types_cb(wit_urctx *r, void *ctx, const ast_id *owner, const ast_attrs *attrs,
                            const ast_usepath *path, const ast_use *u, int woi) {
  (void)ctx; (void)owner; (void)woi;
  if (!u) return 0;
  wit_stability stab;
  char *ext;
  int iface;
  if (stability(r, attrs, &stab) || external_id(r, attrs, &ext) || path_iface(r, path, &iface)) return -1;
  if (!contains(r->foreign_ifaces.v, r->foreign_ifaces.n, iface)) return 0;
  for (int i = 0; i < u->names.n; i++) {
    const ast_id *n = &u->names.v[i].name;
    if (nmap_get(&r->iface_types.v[iface], n->name)) continue;
    wit_typedef t = {0};
    t.stab = stab;
    t.kind = WIT_K_UNKNOWN;
    t.name = n->name;
    t.owner_kind = WIT_OWNER_INTERFACE;
    t.owner = iface;
    t.span = n->span;
    t.external_id = ext;
    t.a = t.b = WIT_TNONE;
    int id = alloc_type(r, &t);
    wit_push(r->mem, r->unknown_type_spans, n->span);
    nmap_put(r->mem, &r->iface_types.v[iface], n->name, id, 0, n->span);
    wit_named nm = {n->name, id, n->span};
    wit_push(r->mem, r->a.interfaces.v[iface].types, nm);
  }
  return 0;
}

/* ---- types ---- */
static int define_name(wit_urctx *r, const ast_id *name, int type_id) {
  if (nmap_put(r->mem, &r->type_lookup, name->name, type_id, type_id < 0, name->span))
    return wit_error_at(r->err, r->mem, name->span, "name `%s` is defined more than once", name->name);
  return 0;
}

static int resolve_type_name(wit_urctx *r, const ast_id *name, int *id) {
  nmap_ent *e = nmap_get(&r->type_lookup, name->name);
  if (!e) return not_found(r, name, "name");
  if (e->v < 0) return wit_error_at(r->err, r->mem, name->span, "cannot use function `%s` as a type", name->name);
  *id = e->v;
  return 0;
}

static int validate_resource(wit_urctx *r, const ast_id *name, int *out) {
  int id;
  if (resolve_type_name(r, name, &id)) return -1;
  int cur = id;
  for (int guard = 0; guard < 100000; guard++) {
    wit_typedef *t = &r->a.types.v[cur];
    if (t->kind == WIT_K_RESOURCE) break;
    if (t->kind == WIT_K_TYPE && t->a >= 0) { cur = t->a; continue; }
    if (t->kind == WIT_K_UNKNOWN) {
      wit_type_span ts = {cur, name->span};
      wit_push(r->mem, r->required, ts);
      break;
    }
    return wit_error_at(r->err, r->mem, name->span, "type `%s` used in a handle must be a resource", name->name);
  }
  *out = id;
  return 0;
}

static uint32_t mix(uint32_t h, uint32_t v) { return (h ^ v) * 16777619u; }
static uint32_t hash_str(uint32_t h, const char *s) {
  for (; *s; s++) h = mix(h, (unsigned char)*s);
  return mix(h, 0xff);
}

static uint32_t anon_hash(const wit_typedef *t) {
  uint32_t h = mix(2166136261u, (uint32_t)t->kind);
  h = mix(mix(h, (uint32_t)t->a), (uint32_t)t->b);
  h = mix(h, t->size);
  for (int i = 0; i < t->items.n; i++) {
    h = hash_str(h, t->items.v[i].name ? t->items.v[i].name : "");
    h = mix(h, (uint32_t)t->items.v[i].ty);
  }
  return h;
}

static int anon_eq(const wit_typedef *x, const wit_typedef *y) {
  if (x->kind != y->kind || x->a != y->a || x->b != y->b || x->size != y->size || x->items.n != y->items.n)
    return 0;
  for (int i = 0; i < x->items.n; i++) {
    const char *a = x->items.v[i].name ? x->items.v[i].name : "";
    const char *b = y->items.v[i].name ? y->items.v[i].name : "";
    if (strcmp(a, b) || x->items.v[i].ty != y->items.v[i].ty) return 0;
  }
  return 1;
}

static wit_type anon_type_def(wit_urctx *r, wit_typedef *t) {
  if (t->kind == WIT_K_TYPE) return t->a;
  if (t->kind == WIT_K_OWN) return t->a;
  uint32_t h = anon_hash(t);
  for (int i = 0; i < r->anon.n; i++)
    if (r->anon.v[i].hash == h && anon_eq(&r->a.types.v[r->anon.v[i].id], t)) return r->anon.v[i].id;
  int id = alloc_type(r, t);
  anon_ent e = {h, id};
  wit_push(r->mem, r->anon, e);
  return id;
}

static const wit_stability *find_in_type(wit_urctx *r, wit_type t) {
  if (t < 0) return NULL;
  const wit_typedef *d = &r->a.types.v[t];
  return d->stab.kind != WIT_STAB_UNKNOWN ? &d->stab : NULL;
}

static wit_stability find_stability(wit_urctx *r, const wit_typedef *t, const wit_stability *s) {
  if (s->kind != WIT_STAB_UNKNOWN) return *s;
  const wit_stability *f = NULL;
  switch (t->kind) {
  case WIT_K_TYPE: case WIT_K_OWN: case WIT_K_BORROW: case WIT_K_LIST: case WIT_K_FIXED_LIST:
  case WIT_K_OPTION: case WIT_K_FUTURE: case WIT_K_STREAM:
    f = find_in_type(r, t->a);
    break;
  case WIT_K_TUPLE:
    for (int i = 0; i < t->items.n && !f; i++) f = find_in_type(r, t->items.v[i].ty);
    break;
  case WIT_K_MAP: case WIT_K_RESULT:
    f = find_in_type(r, t->a);
    if (!f) f = find_in_type(r, t->b);
    break;
  }
  wit_stability unknown = {0};
  return f ? *f : unknown;
}

static int resolve_type_def(wit_urctx *r, const ast_type *ty, const wit_stability *stab, wit_typedef *out);

static int resolve_type(wit_urctx *r, const ast_type *ty, const wit_stability *stab, wit_type *out) {
  wit_typedef t;
  if (resolve_type_def(r, ty, stab, &t)) return -1;
  t.stab = find_stability(r, &t, stab);
  t.span = ty->span;
  *out = anon_type_def(r, &t);
  return 0;
}

static int resolve_opt_type(wit_urctx *r, const ast_type *ty, const wit_stability *stab, wit_type *out) {
  if (!ty) { *out = WIT_TNONE; return 0; }
  return resolve_type(r, ty, stab, out);
}

static wit_type prim_of(int at) {
  static const wit_type map[] = {
    [AT_BOOL] = WIT_TBOOL, [AT_U8] = WIT_TU8, [AT_U16] = WIT_TU16, [AT_U32] = WIT_TU32,
    [AT_U64] = WIT_TU64, [AT_S8] = WIT_TS8, [AT_S16] = WIT_TS16, [AT_S32] = WIT_TS32,
    [AT_S64] = WIT_TS64, [AT_F32] = WIT_TF32, [AT_F64] = WIT_TF64, [AT_CHAR] = WIT_TCHAR,
    [AT_STRING] = WIT_TSTRING, [AT_ERROR_CONTEXT] = WIT_TERRCTX,
  };
  return map[at];
}

static int resource_def_check(wit_urctx *r, const ast_type *ty) {
  int ctors = 0;
  for (int i = 0; i < ty->funcs.n; i++) {
    const ast_rfunc *f = &ty->funcs.v[i];
    if (f->kind == RF_CONSTRUCTOR) {
      if (++ctors > 1) return syntax(r, f->f.name.span, "duplicate constructors");
      continue;
    }
    for (int j = 0; j < i; j++)
      if (ty->funcs.v[j].kind != RF_CONSTRUCTOR && !strcmp(ty->funcs.v[j].f.name.name, f->f.name.name))
        return wit_error_at(r->err, r->mem, f->f.name.span, "duplicate function name `%s`", f->f.name.name);
  }
  return 0;
}

static int resolve_items(wit_urctx *r, const ast_type *ty, const wit_stability *stab, wit_typedef *out, int names) {
  for (int i = 0; i < ty->items.n; i++) {
    const ast_field *f = &ty->items.v[i];
    wit_item it = {0};
    it.ty = WIT_TNONE;
    if (names) {
      it.name = f->name.name;
      it.docs = docs_of(r, &f->docs);
      it.span = f->name.span;
    }
    if (f->ty && resolve_type(r, f->ty, stab, &it.ty)) return -1;
    wit_push(r->mem, out->items, it);
  }
  return 0;
}

static int map_key_ok(wit_type k) {
  return k == WIT_TBOOL || (k <= WIT_TU8 && k >= WIT_TS64) || k == WIT_TCHAR || k == WIT_TSTRING;
}

static int resolve_type_def(wit_urctx *r, const ast_type *ty, const wit_stability *stab, wit_typedef *out) {
  memset(out, 0, sizeof *out);
  out->a = out->b = WIT_TNONE;
  out->span = ty->span;
  int id;
  switch (ty->kind) {
  case AT_NAME:
    if (resolve_type_name(r, &ty->id, &id)) return -1;
    out->kind = WIT_K_TYPE;
    out->a = id;
    return 0;
  case AT_LIST: out->kind = WIT_K_LIST; return resolve_type(r, ty->a, stab, &out->a);
  case AT_FIXED_LIST:
    out->kind = WIT_K_FIXED_LIST;
    out->size = ty->size;
    return resolve_type(r, ty->a, stab, &out->a);
  case AT_MAP:
    out->kind = WIT_K_MAP;
    if (resolve_type(r, ty->a, stab, &out->a) || resolve_type(r, ty->b, stab, &out->b)) return -1;
    if (!map_key_ok(out->a))
      return syntax(r, ty->span, "invalid map key type: map keys must be bool, u8, u16, u32, u64, s8, s16, s32, s64, char, or string");
    return 0;
  case AT_OWN: case AT_BORROW:
    out->kind = ty->kind == AT_OWN ? WIT_K_OWN : WIT_K_BORROW;
    return validate_resource(r, &ty->id, &out->a);
  case AT_RESOURCE: out->kind = WIT_K_RESOURCE; return resource_def_check(r, ty);
  case AT_RECORD: out->kind = WIT_K_RECORD; return resolve_items(r, ty, stab, out, 1);
  case AT_FLAGS: out->kind = WIT_K_FLAGS; return resolve_items(r, ty, stab, out, 1);
  case AT_TUPLE: out->kind = WIT_K_TUPLE; return resolve_items(r, ty, stab, out, 0);
  case AT_VARIANT:
    if (!ty->items.n) return syntax(r, ty->span, "empty variant");
    out->kind = WIT_K_VARIANT;
    return resolve_items(r, ty, stab, out, 1);
  case AT_ENUM:
    if (!ty->items.n) return syntax(r, ty->span, "empty enum");
    out->kind = WIT_K_ENUM;
    return resolve_items(r, ty, stab, out, 1);
  case AT_OPTION: out->kind = WIT_K_OPTION; return resolve_type(r, ty->a, stab, &out->a);
  case AT_RESULT:
    out->kind = WIT_K_RESULT;
    return resolve_opt_type(r, ty->a, stab, &out->a) || resolve_opt_type(r, ty->b, stab, &out->b) ? -1 : 0;
  case AT_FUTURE: case AT_STREAM:
    out->kind = ty->kind == AT_FUTURE ? WIT_K_FUTURE : WIT_K_STREAM;
    return resolve_opt_type(r, ty->a, stab, &out->a);
  default:
    out->kind = WIT_K_TYPE;
    out->a = prim_of(ty->kind);
    return 0;
  }
}

static void collect_deps(wit_urctx *r, const ast_type *ty, topo_node *node) {
  if (!ty) return;
  switch (ty->kind) {
  case AT_NAME: case AT_OWN: case AT_BORROW: wit_push(r->mem, node->deps, ty->id); return;
  case AT_RECORD: case AT_TUPLE: case AT_VARIANT:
    for (int i = 0; i < ty->items.n; i++) collect_deps(r, ty->items.v[i].ty, node);
    return;
  case AT_OPTION: case AT_LIST: case AT_FIXED_LIST: case AT_MAP: case AT_RESULT: case AT_FUTURE:
  case AT_STREAM:
    collect_deps(r, ty->a, node);
    collect_deps(r, ty->b, node);
    return;
  }
}

typedef struct titem { /* TypeItem: a use or a definition */
  const ast_use *use;
  const ast_typedef *def;
} titem;
typedef WIT_VEC(titem) titems;

static int resolve_use(wit_urctx *r, int owner_kind, int owner, const ast_use *u) {
  int from;
  wit_stability stab;
  char *ext;
  if (path_iface(r, &u->from, &from) || stability(r, &u->attrs, &stab) || external_id(r, &u->attrs, &ext))
    return -1;
  for (int i = 0; i < u->names.n; i++) {
    const ast_id *n = &u->names.v[i].name;
    nmap_ent *e = nmap_get(&r->iface_types.v[from], n->name);
    if (!e) return not_found(r, n, "name");
    if (e->v < 0) return wit_error_at(r->err, r->mem, n->span, "cannot import function `%s`", n->name);
    const ast_id *as = u->names.v[i].as.name ? &u->names.v[i].as : n;
    wit_typedef t = {0};
    t.stab = stab;
    t.kind = WIT_K_TYPE;
    t.a = e->v;
    t.b = WIT_TNONE;
    t.name = as->name;
    t.owner_kind = owner_kind;
    t.owner = owner;
    t.span = n->span;
    t.external_id = ext;
    if (define_name(r, as, alloc_type(r, &t))) return -1;
  }
  return 0;
}

static const char *old_float_hint(const char *name) {
  if (!strcmp(name, "float32")) return "f32";
  if (!strcmp(name, "float64")) return "f64";
  return NULL;
}

static int resolve_types(wit_urctx *r, int owner_kind, int owner, titems *items) {
  for (int i = 0; i < items->n; i++)
    if (items->v[i].use && resolve_use(r, owner_kind, owner, items->v[i].use)) return -1;
  topo deps = {0};
  WIT_VEC(const ast_typedef *) defs = {0};
  for (int i = 0; i < items->n; i++) {
    if (items->v[i].def) {
      const ast_typedef *t = items->v[i].def;
      int k = topo_index(&deps, t->name.name);
      if (k >= 0)
        return wit_error_at(r->err, r->mem, t->name.span, "name `%s` is defined more than once", t->name.name);
      topo_node node = {t->name.name, {0}};
      collect_deps(r, t->ty, &node);
      if (k >= 0) { deps.v[k] = node; defs.v[k] = t; }
      else { topo_add(r->mem, &deps, node); wit_push(r->mem, defs, t); }
    } else {
      const ast_use *u = items->v[i].use;
      for (int j = 0; j < u->names.n; j++) {
        const ast_id *n = u->names.v[j].as.name ? &u->names.v[j].as : &u->names.v[j].name;
        int k = topo_index(&deps, n->name);
        topo_node node = {n->name, {0}};
        if (k >= 0) { deps.v[k] = node; defs.v[k] = NULL; }
        else { topo_add(r->mem, &deps, node); wit_push(r->mem, defs, (const ast_typedef *)NULL); }
      }
    }
  }
  int *order;
  if (toposort(r, "type", &deps, &order)) {
    /* attach_old_float_type_context */
    const char *msg = r->err->msg;
    if (!strncmp(msg, "type `float", 11)) {
      const char *name = msg + 6;
      char nm[8] = {0};
      memcpy(nm, name, 7);
      const char *nw = old_float_hint(nm);
      if (nw && !strcmp(name + 7, "` does not exist"))
        r->err->msg = wit_fmt(r->mem, "%s\nthe `%s` type has been renamed to `%s` and is no longer accepted, but the `WIT_REQUIRE_F32_F64=0` environment variable can be used to temporarily disable this error", msg, nm, nw);
    }
    return -1;
  }
  for (int k = 0; k < deps.n; k++) {
    const ast_typedef *def = defs.v[order[k]];
    if (!def) continue;
    wit_typedef t;
    wit_stability stab;
    char *ext;
    if (stability(r, &def->attrs, &stab) || external_id(r, &def->attrs, &ext)) return -1;
    char *docs = docs_of(r, &def->docs);
    if (resolve_type_def(r, def->ty, &stab, &t)) return -1;
    t.docs = docs;
    t.stab = stab;
    t.name = def->name.name;
    t.owner_kind = owner_kind;
    t.owner = owner;
    t.span = def->name.span;
    t.external_id = ext;
    if (define_name(r, &def->name, alloc_type(r, &t))) return -1;
  }
  return 0;
}

/* ---- functions ---- */
static int resolve_params(wit_urctx *r, const ast_func *f, int kind, wit_type res, wit_items *out) {
  memset(out, 0, sizeof *out);
  if (kind == WIT_F_METHOD || kind == WIT_F_ASYNC_METHOD) {
    wit_typedef t = {0};
    t.kind = WIT_K_BORROW;
    t.a = res;
    t.b = WIT_TNONE;
    wit_stability unknown = {0};
    t.stab = find_stability(r, &t, &unknown);
    t.span = f->span;
    wit_item self = {"self", anon_type_def(r, &t), NULL, f->span};
    wit_push(r->mem, *out, self);
  }
  for (int i = 0; i < f->params.n; i++) {
    const ast_param *p = &f->params.v[i];
    for (int j = 0; j < out->n; j++)
      if (!strcmp(out->v[j].name, p->name.name))
        return wit_error_at(r->err, r->mem, p->name.span, "param `%s` is defined more than once", p->name.name);
    wit_item it = {p->name.name, 0, NULL, p->name.span};
    wit_stability unknown = {0};
    if (resolve_type(r, p->ty, &unknown, &it.ty)) return -1;
    wit_push(r->mem, *out, it);
  }
  return 0;
}

static int resolve_result(wit_urctx *r, const ast_func *f, int kind, wit_type res, wit_type *out) {
  wit_stability unknown = {0};
  *out = WIT_TNONE;
  if (kind != WIT_F_CONSTRUCTOR) return f->result ? resolve_type(r, f->result, &unknown, out) : 0;
  if (!f->result) { *out = res; return 0; }
  wit_type t;
  if (resolve_type(r, f->result, &unknown, &t)) return -1;
  if (t < 0 || r->a.types.v[t].kind != WIT_K_RESULT)
    return syntax(r, f->result->span, "if a constructor return type is declared it must be a `result`");
  if (r->a.types.v[t].a != res) {
    wit_span s = f->result->kind == AT_RESULT && f->result->a ? f->result->a->span : f->result->span;
    return syntax(r, s, "the `ok` type must be the resource being constructed");
  }
  *out = t;
  return 0;
}

static int resolve_function(wit_urctx *r, const ast_docs *docs, const ast_attrs *attrs, char *name,
                            wit_span name_span, const ast_func *f, int kind, wit_type res, wit_function *out) {
  memset(out, 0, sizeof *out);
  out->docs = docs_of(r, docs);
  if (stability(r, attrs, &out->stab) || external_id(r, attrs, &out->external_id)) return -1;
  out->name = name;
  out->kind = kind;
  out->resource = res;
  out->span = name_span;
  return resolve_params(r, f, kind, res, &out->params) || resolve_result(r, f, kind, res, &out->result) ? -1 : 0;
}

static int resolve_resource_func(wit_urctx *r, const ast_rfunc *rf, const ast_id *resource, wit_function *out) {
  nmap_ent *e = nmap_get(&r->type_lookup, resource->name);
  int res = e ? e->v : -1;
  int async_ = rf->f.func.async_;
  char *name;
  int kind;
  if (rf->kind == RF_METHOD) {
    name = wit_fmt(r->mem, "[method]%s.%s", resource->name, rf->f.name.name);
    kind = async_ ? WIT_F_ASYNC_METHOD : WIT_F_METHOD;
  } else if (rf->kind == RF_STATIC) {
    name = wit_fmt(r->mem, "[static]%s.%s", resource->name, rf->f.name.name);
    kind = async_ ? WIT_F_ASYNC_STATIC : WIT_F_STATIC;
  } else {
    name = wit_fmt(r->mem, "[constructor]%s", resource->name);
    kind = WIT_F_CONSTRUCTOR;
  }
  return resolve_function(r, &rf->f.docs, &rf->f.attrs, name, rf->f.name.span, &rf->f.func, kind, res, out);
}

/* ---- interfaces and worlds ---- */
static int resolve_interface(wit_urctx *r, int id, const ast_iitems *items, const ast_docs *docs,
                             const ast_attrs *attrs) {
  r->a.interfaces.v[id].docs = docs_of(r, docs);
  wit_stability stab;
  if (stability(r, attrs, &stab)) return -1;
  r->a.interfaces.v[id].stab = stab;
  titems ti = {0};
  for (int i = 0; i < items->n; i++) {
    titem t = {NULL, NULL};
    if (items->v[i].kind == II_USE) t.use = &items->v[i].use;
    else if (items->v[i].kind == II_TYPEDEF) t.def = &items->v[i].td;
    else continue;
    wit_push(r->mem, ti, t);
  }
  if (resolve_types(r, WIT_OWNER_INTERFACE, id, &ti)) return -1;
  int had_types = r->a.interfaces.v[id].types.n > 0;
  for (int i = 0; i < r->type_lookup.n; i++) {
    nmap_ent *e = &r->type_lookup.v[i];
    wit_names *types = &r->a.interfaces.v[id].types;
    int found = 0;
    for (int j = 0; j < types->n && had_types; j++)
      if (!strcmp(types->v[j].name, e->name)) { types->v[j].id = e->v; found = 1; }
    if (!found) {
      wit_named nm = {e->name, e->v, e->span};
      wit_push(r->mem, *types, nm);
    }
  }
  wit_funcs funcs = {0};
  for (int i = 0; i < items->n; i++) {
    const ast_iitem *it = &items->v[i];
    wit_function f;
    if (it->kind == II_FUNC) {
      if (define_name(r, &it->func.name, -1)) return -1;
      int kind = it->func.func.async_ ? WIT_F_ASYNC_FREESTANDING : WIT_F_FREESTANDING;
      if (resolve_function(r, &it->func.docs, &it->func.attrs, it->func.name.name, it->func.name.span,
                           &it->func.func, kind, WIT_TNONE, &f))
        return -1;
      wit_push(r->mem, funcs.f, f);
    } else if (it->kind == II_TYPEDEF && it->td.ty->kind == AT_RESOURCE) {
      for (int j = 0; j < it->td.ty->funcs.n; j++) {
        if (resolve_resource_func(r, &it->td.ty->funcs.v[j], &it->td.name, &f)) return -1;
        wit_push(r->mem, funcs.f, f);
      }
    }
  }
  r->a.interfaces.v[id].funcs = funcs;
  r->iface_types.v[id] = r->type_lookup;
  memset(&r->type_lookup, 0, sizeof r->type_lookup);
  return 0;
}

static int witems_find(wit_urctx *r, wit_witems *m, const wit_key *k) {
  return wit_witems_find(r->mem, &r->keys, m, k);
}

static int resolve_include(wit_urctx *r, int world, const ast_include *inc) {
  wit_include wi = {0};
  if (stability(r, &inc->attrs, &wi.stab)) return -1;
  astitem it;
  const ast_id *name;
  if (resolve_item_path(r, &inc->from, &it, &name) || world_from_item(r, it, name, &wi.world)) return -1;
  for (int i = 0; i < inc->names.n; i++) {
    wit_include_name n = {inc->names.v[i].name.name, inc->names.v[i].as.name};
    wit_push(r->mem, wi.names, n);
  }
  wi.span = name->span;
  wit_push(r->mem, r->a.worlds.v[world].includes, wi);
  return 0;
}

static int resolve_world_item(wit_urctx *r, const ast_witem *w, wit_witem *out) {
  const ast_extern *e = &w->ext;
  memset(out, 0, sizeof *out);
  if (e->kind == EK_INTERFACE) {
    nmap prev = r->type_lookup;
    memset(&r->type_lookup, 0, sizeof r->type_lookup);
    int id = alloc_interface(r, e->id.span);
    if (resolve_interface(r, id, &e->items, &w->docs, &w->attrs)) return -1;
    r->type_lookup = prev;
    out->kind = WIT_WI_INTERFACE;
    out->id = id;
    out->stab = r->a.interfaces.v[id].stab;
    out->span = e->id.span;
    return external_id(r, &w->attrs, &out->external_id);
  }
  if (e->kind == EK_PATH || e->kind == EK_NAMED_PATH) {
    out->kind = WIT_WI_INTERFACE;
    if (stability(r, &w->attrs, &out->stab) || external_id(r, &w->attrs, &out->external_id)) return -1;
    out->docs = docs_of(r, &w->docs);
    astitem it;
    const ast_id *name;
    if (resolve_item_path(r, &e->path, &it, &name) || iface_from_item(r, it, name, &out->id)) return -1;
    out->span = e->kind == EK_PATH ? name->span : e->id.span;
    return 0;
  }
  out->kind = WIT_WI_FUNCTION;
  int kind = e->func.async_ ? WIT_F_ASYNC_FREESTANDING : WIT_F_FREESTANDING;
  if (resolve_function(r, &w->docs, &w->attrs, e->id.name, e->id.span, &e->func, kind, WIT_TNONE, &out->func))
    return -1;
  out->span = e->id.span;
  return 0;
}

static wit_span extern_span(const ast_extern *e) {
  if (e->kind == EK_PATH) return e->path.is_pkg ? e->path.name.span : e->path.id.span;
  return e->id.span;
}

static const char *item_desc(int kind) {
  return kind == WIT_WI_INTERFACE ? "interface" : kind == WIT_WI_FUNCTION ? "func" : "type";
}

static int add_world_extern(wit_urctx *r, int world_id, const ast_witem *wi, wit_ints *seen) {
  const char *desc = wi->kind == WI_IMPORT ? "import" : "export";
  wit_witem item;
  if (resolve_world_item(r, wi, &item)) return -1;
  const ast_extern *e = &wi->ext;
  wit_key key = {NULL, -1};
  if (e->kind == EK_INTERFACE || e->kind == EK_NAMED_PATH) key.name = e->id.name;
  else if (e->kind == EK_FUNC) key.name = item.func.name;
  else {
    if (path_iface(r, &e->path, &key.iface)) return -1;
    if (contains(seen->v, seen->n, key.iface))
      return wit_error_at(r->err, r->mem, extern_span(e), "interface cannot be %sed more than once", desc);
    wit_push(r->mem, *seen, key.iface);
  }
  wit_world *w = &r->a.worlds.v[world_id];
  wit_witems *dst = wi->kind == WI_IMPORT ? &w->imports : &w->exports;
  item.key = key;
  int prev = witems_find(r, dst, &key);
  if (prev >= 0)
    return wit_error_at(r->err, r->mem, extern_span(e), "%s `%s` conflicts with prior %s of same name", desc,
                        key.name, item_desc(dst->v[prev].kind));
  wit_push(r->mem, *dst, item);
  return 0;
}

static int resolve_world(wit_urctx *r, int world_id, const ast_world *w) {
  r->a.worlds.v[world_id].docs = docs_of(r, &w->docs);
  wit_stability stab;
  if (stability(r, &w->attrs, &stab)) return -1;
  r->a.worlds.v[world_id].stab = stab;
  titems ti = {0};
  for (int i = 0; i < w->items.n; i++) {
    titem t = {NULL, NULL};
    if (w->items.v[i].kind == WI_USE) t.use = &w->items.v[i].use;
    else if (w->items.v[i].kind == WI_TYPE) t.def = &w->items.v[i].td;
    else continue;
    wit_push(r->mem, ti, t);
  }
  if (resolve_types(r, WIT_OWNER_WORLD, world_id, &ti)) return -1;
  for (int i = 0; i < w->items.n; i++)
    if (w->items.v[i].kind == WI_INCLUDE && resolve_include(r, world_id, &w->items.v[i].inc)) return -1;
  for (int i = 0; i < r->type_lookup.n; i++) {
    nmap_ent *e = &r->type_lookup.v[i];
    wit_witem item = {0};
    item.key = (wit_key){e->name, -1};
    item.kind = WIT_WI_TYPE;
    item.id = e->v;
    item.span = e->span;
    wit_world *wd = &r->a.worlds.v[world_id];
    if (witems_find(r, &wd->imports, &item.key) >= 0)
      return wit_error_at(r->err, r->mem, e->span, "import `%s` conflicts with prior import of same name", e->name);
    wit_push(r->mem, wd->imports, item);
  }
  wit_ints imported = {0}, exported = {0};
  for (int i = 0; i < w->items.n; i++) {
    const ast_witem *wi = &w->items.v[i];
    if (wi->kind == WI_TYPE && wi->td.ty->kind == AT_RESOURCE) {
      for (int j = 0; j < wi->td.ty->funcs.n; j++) {
        wit_witem item = {0};
        item.kind = WIT_WI_FUNCTION;
        if (resolve_resource_func(r, &wi->td.ty->funcs.v[j], &wi->td.name, &item.func)) return -1;
        item.key = (wit_key){item.func.name, -1};
        item.span = item.func.span;
        wit_push(r->mem, r->a.worlds.v[world_id].imports, item);
      }
      continue;
    }
    if (wi->kind != WI_IMPORT && wi->kind != WI_EXPORT) continue;
    if (add_world_extern(r, world_id, wi, wi->kind == WI_IMPORT ? &imported : &exported))
      return -1;
  }
  memset(&r->type_lookup, 0, sizeof r->type_lookup);
  return 0;
}

/* ---- the whole package ---- */
int wit_ur_resolve(wit_urctx *r, wit_unresolved *out) {
  if (!r->has_name)
    return syntax(r, wit_span_unknown(), "no `package` header was found in any WIT file for this package");
  for (int d = 0; d < r->decls.n; d++)
    if (for_each_path(r, r->decls.v[d], foreign_dep_cb, NULL)) return -1;
  item_order order;
  if (populate_ast_items(r, &order)) return -1;
  for (int d = 0; d < r->decls.n; d++) {
    r->cur = d;
    if (for_each_path(r, r->decls.v[d], foreign_types_cb, NULL)) return -1;
  }
  /* each interface and world's syntax, by name (names are unique in a package) */
  nmap where = {0};
  WIT_VEC(ast_item *) items = {0};
  wit_ints item_decl = {0};
  for (int d = 0; d < r->decls.n; d++)
    for (int i = 0; i < r->decls.v[d]->n; i++) {
      ast_item *it = &r->decls.v[d]->v[i];
      if (it->kind != AI_INTERFACE && it->kind != AI_WORLD) continue;
      wit_push(r->mem, items, it);
      wit_push(r->mem, item_decl, d);
      nmap_put(r->mem, &where, it->kind == AI_INTERFACE ? it->iface.name.name : it->world.name.name, items.n - 1,
               0, wit_span_unknown());
    }
  for (int k = 0; k < order.ifaces.n; k++) {
    int id = order.ifaces.v[k];
    int at = nmap_get(&where, r->a.interfaces.v[id].name)->v;
    ast_item *it = items.v[at];
    r->cur = item_decl.v[at];
    if (resolve_interface(r, id, &it->iface.items, &it->iface.docs, &it->iface.attrs)) return -1;
  }
  for (int k = 0; k < order.worlds.n; k++) {
    int id = order.worlds.v[k];
    int at = nmap_get(&where, r->a.worlds.v[id].name)->v;
    r->cur = item_decl.v[at];
    if (resolve_world(r, id, &items.v[at]->world)) return -1;
  }
  memset(out, 0, sizeof *out);
  out->name = r->name;
  out->name_span = r->name_span;
  out->docs = r->docs;
  out->a = r->a;
  for (int i = 0; i < r->foreign.n; i++) wit_push(r->mem, out->foreign, r->foreign.v[i]);
  for (int i = 0; i < r->unknown_type_spans.n; i++) wit_push(r->mem, out->unknown_type_spans, r->unknown_type_spans.v[i]);
  for (int i = 0; i < r->required.n; i++) wit_push(r->mem, out->required_resource_types, r->required.v[i]);
  return 0;
}
