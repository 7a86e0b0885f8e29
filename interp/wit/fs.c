/* WIT packages from disk (wit-parser's resolve/fs.rs and SourceMap): single files,
 * directories with a deps/ folder (entries as directories or single files), the
 * topological order of packages, and errors rendered with file:line:column. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "wit/resolve.h"

#define M (&r->mem)
#define MAX_FILE_SIZE (64u * 1024 * 1024)

typedef struct group { /* UnresolvedPackageGroup: nested packages, then the main one */
  WIT_VEC(wit_unresolved) pkgs;
  int main;
} group;
typedef WIT_VEC(group) groups;

void wit_resolve_init(wit_resolve *r) { memset(r, 0, sizeof *r); }

void wit_resolve_free(wit_resolve *r) { wit_arena_free(&r->mem); }

static void add_context(wit_resolve *r, const char *ctx) {
  r->err.prefix = r->err.prefix ? wit_fmt(M, "%s: %s", ctx, r->err.prefix) : wit_strdup(M, ctx);
}

static int plain_error(wit_resolve *r, const char *msg) {
  wit_error_at(&r->err, M, wit_span_unknown(), "%s", msg);
  r->err.plain = 1;
  return -1;
}

/* ---- source map ---- */
/* Spans are 32-bit offsets into all sources read so far (as in wit-parser). */
static int push_source(wit_resolve *r, const char *path, const char *text, size_t len) {
  if ((uint64_t)r->srcmap.offset + len + 2 >= (uint64_t)WIT_NOSPAN)
    return plain_error(r, wit_fmt(M, "too much WIT source: spans past 4 GiB [%s]", path));
  wit_source s;
  s.offset = r->srcmap.offset;
  s.path = wit_strdup(M, path);
  s.contents = wit_alloc(M, len + 2);
  memcpy(s.contents, text, len);
  s.contents[len] = '\n';
  s.len = len + 1;
  wit_push(M, r->srcmap.sources, s);
  r->srcmap.offset += (uint32_t)(len + 1);
  return 0;
}

static const wit_source *source_for(const wit_resolve *r, uint32_t off) {
  const wit_source *best = NULL;
  for (int i = 0; i < r->srcmap.sources.n; i++)
    if (r->srcmap.sources.v[i].offset <= off) best = &r->srcmap.sources.v[i];
  return best;
}

static void linecol(const wit_source *s, size_t rel, size_t *line, size_t *col) {
  size_t cur = 0, i = 0;
  while (cur < s->len) {
    const char *nl = memchr(s->contents + cur, '\n', s->len - cur);
    size_t len = nl ? (size_t)(nl - (s->contents + cur)) : s->len - cur;
    if (cur + len + 1 > rel) {
      *line = i;
      *col = rel - cur;
      return;
    }
    cur += len + 1;
    i++;
  }
  *line = i;
  *col = 0;
}

static char *location(wit_resolve *r, wit_span span) {
  const wit_source *s = source_for(r, span.start);
  if (!s) return "<unknown>";
  size_t line, col;
  linecol(s, span.start - s->offset, &line, &col);
  return wit_fmt(M, "%s:%zu:%zu", s->path, line + 1, col + 1);
}

static char *highlight(wit_resolve *r, wit_span span, const char *msg) {
  const wit_source *s = source_for(r, span.start);
  if (!s) return wit_strdup(M, msg);
  size_t start = span.start - s->offset, end = span.end - s->offset;
  size_t line, col;
  linecol(s, start, &line, &col);
  /* the snippet: the line'th line of contents (str::lines strips "\r") */
  const char *p = s->contents, *e = s->contents + s->len;
  for (size_t i = 0; i < line && p < e; i++) {
    const char *nl = memchr(p, '\n', (size_t)(e - p));
    p = nl ? nl + 1 : e;
  }
  const char *nl = p < e ? memchr(p, '\n', (size_t)(e - p)) : NULL;
  size_t sl = nl ? (size_t)(nl - p) : (size_t)(e - p);
  if (sl && p[sl - 1] == '\r') sl--;
  if (sl > 500) return wit_fmt(M, "%s:%zu:%zu: %s", s->path, line + 1, col + 1, msg);
  char *out = wit_fmt(M, "%s\n     --> %s:%zu:%zu\n      |\n %4zu | %.*s\n      | %*s", msg, s->path, line + 1,
                      col + 1, line + 1, (int)sl, p, (int)(col + 1), "^");
  if (end > start && end <= s->len) {
    size_t chars = 0;
    for (size_t i = start; i < end; i++)
      if (((unsigned char)s->contents[i] & 0xc0) != 0x80) chars++;
    int boundary = end == s->len || ((unsigned char)s->contents[end] & 0xc0) != 0x80;
    if (chars > 1 && boundary) {
      size_t n = strlen(out);
      char *o2 = wit_alloc(M, n + chars);
      memcpy(o2, out, n);
      memset(o2 + n, '-', chars - 1);
      out = o2;
    }
  }
  return out;
}

char *wit_render_error(wit_resolve *r) {
  wit_error *e = &r->err;
  char *body;
  if (e->duplicate)
    body = wit_fmt(M, "%s:\n  * %s\n  * %s", e->msg, location(r, e->span), location(r, e->span2));
  else if (e->plain || !wit_span_known(e->span))
    body = e->msg;
  else
    body = highlight(r, e->span, e->msg);
  char *all = e->prefix ? wit_fmt(M, "%s: %s", e->prefix, body) : body;
  return strdup(all);
}

/* ---- parsing one group of sources ---- */
static int cmp_src(const void *a, const void *b) {
  return strcmp(((const wit_source *)a)->path, ((const wit_source *)b)->path);
}

/* Parses sources [first, end) of the source map into a package group. */
static int parse_sources(wit_resolve *r, int first, group *g) {
  int n = r->srcmap.sources.n - first;
  wit_source *srcs = wit_alloc(M, sizeof(wit_source) * (size_t)(n + 1));
  memcpy(srcs, r->srcmap.sources.v + first, sizeof(wit_source) * (size_t)n);
  qsort(srcs, (size_t)n, sizeof *srcs, cmp_src);
  memset(g, 0, sizeof *g);
  wit_urctx *main = wit_ur_new(M, &r->err);
  for (int i = 0; i < n; i++) {
    wit_lexer lx;
    ast_pkgfile *file = wit_alloc(M, sizeof *file);
    if (wit_lex_init(&lx, srcs[i].contents, srcs[i].len - 1, srcs[i].offset, M, &r->err) ||
        wit_parse_file(&lx, file))
      return -1;
    ast_decls rest = {0};
    for (int k = 0; k < file->decls.n; k++) {
      ast_item *it = &file->decls.v[k];
      if (it->kind != AI_PACKAGE) {
        wit_push(M, rest, *it);
        continue;
      }
      wit_urctx *nested = wit_ur_new(M, &r->err);
      wit_unresolved u;
      if (wit_ur_push(nested, it->pkg) || wit_ur_resolve(nested, &u)) return -1;
      wit_push(M, g->pkgs, u);
    }
    file->decls = rest;
    if (wit_ur_push(main, file)) return -1;
  }
  wit_unresolved u;
  if (wit_ur_resolve(main, &u)) return -1;
  wit_push(M, g->pkgs, u);
  g->main = g->pkgs.n - 1;
  return 0;
}

static int read_file(wit_resolve *r, const char *path, char **text, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return plain_error(r, wit_fmt(M, "failed to read path for WIT [%s]: %s", path, strerror(errno)));
  size_t cap = 4096, n = 0;
  char *buf = wit_alloc(M, cap);
  for (;;) {
    if (n == cap) {
      if (cap >= MAX_FILE_SIZE) {
        fclose(f);
        return plain_error(r, wit_fmt(M, "file too large for WIT [%s]", path));
      }
      char *nb = wit_alloc(M, cap * 2);
      memcpy(nb, buf, n);
      buf = nb;
      cap *= 2;
    }
    size_t got = fread(buf + n, 1, cap - n, f);
    if (!got) break;
    n += got;
  }
  fclose(f);
  *text = buf;
  *len = n;
  return 0;
}

static int utf8_valid(const unsigned char *s, size_t n) {
  for (size_t i = 0; i < n;) {
    unsigned c = s[i];
    size_t k;
    uint32_t cp;
    if (c < 0x80) { i++; continue; }
    if ((c & 0xe0) == 0xc0) { k = 1; cp = c & 0x1f; }
    else if ((c & 0xf0) == 0xe0) { k = 2; cp = c & 0x0f; }
    else if ((c & 0xf8) == 0xf0) { k = 3; cp = c & 0x07; }
    else return 0;
    for (size_t j = 1; j <= k; j++) {
      if (i + j >= n || (s[i + j] & 0xc0) != 0x80) return 0;
      cp = (cp << 6) | (s[i + j] & 0x3f);
    }
    if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
      return 0;
    i += k + 1;
  }
  return 1;
}

/* wat::Detect: a wasm binary, or wasm text (its first token after whitespace and
 * `;;` comments is '('); WIT text never starts with '('. */
static int is_wasm(const char *text, size_t len) {
  if (len >= 4 && !memcmp(text, "\0asm", 4)) return 1;
  size_t i = 0;
  for (;;) {
    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')) i++;
    if (i + 1 < len && text[i] == ';' && text[i + 1] == ';') {
      while (i < len && text[i] != '\n') i++;
      continue;
    }
    return i < len && text[i] == '(';
  }
}

/* a WIT package encoded as wasm: a binary is decoded and merged (wit-parser's _push_file);
 * wasm text must be encoded to binary first (cmref reads no wasm text) */
static int push_wasm(wit_resolve *r, const char *path, const char *text, size_t len) {
  if (len < 4 || memcmp(text, "\0asm", 4))
    return plain_error(r, wit_fmt(M, "cmref: a WIT package in wasm text format must be encoded to binary first (cmref reads no wasm text) [%s]", path));
  int pkg = wit_decode_package(r, (const uint8_t *)text, len);
  if (pkg < 0) add_context(r, wit_fmt(M, "failed to decode WIT package in wasm [%s]", path));
  return pkg;
}

static int parse_text(wit_resolve *r, const char *path, const char *text, size_t len, group *g) {
  if (is_wasm(text, len))
    return plain_error(r, wit_fmt(M, "cmref: a WIT package encoded as wasm is not WIT source text [%s]", path));
  if (!utf8_valid((const unsigned char *)text, len))
    return plain_error(r, wit_fmt(M, "input file is not valid utf-8 [%s]", path));
  int first = r->srcmap.sources.n;
  if (push_source(r, path, text, len)) return -1;
  return parse_sources(r, first, g);
}

static int is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int ends_with(const char *s, const char *suf) {
  size_t a = strlen(s), b = strlen(suf);
  return a >= b && !strcmp(s + a - b, suf);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int list_dir(wit_resolve *r, const char *path, char ***names, int *count) {
  DIR *d = opendir(path);
  if (!d) return plain_error(r, wit_fmt(M, "failed to read directory \"%s\": %s", path, strerror(errno)));
  WIT_VEC(char *) v = {0};
  struct dirent *e;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    wit_push(M, v, wit_strdup(M, e->d_name));
  }
  closedir(d);
  if (v.n) qsort(v.v, (size_t)v.n, sizeof(char *), cmp_str);
  *names = v.v;
  *count = v.n;
  return 0;
}

/* parse_dir: every *.wit file directly in `path` is one package. */
static int parse_dir(wit_resolve *r, const char *path, group *g) {
  char **names;
  int n;
  if (list_dir(r, path, &names, &n)) return -1;
  int first = r->srcmap.sources.n;
  for (int i = 0; i < n; i++) {
    char *full = wit_fmt(M, "%s/%s", path, names[i]);
    if (is_dir(full) || !ends_with(names[i], ".wit")) continue;
    char *text;
    size_t len;
    if (read_file(r, full, &text, &len)) return -1;
    if (!utf8_valid((const unsigned char *)text, len))
      return plain_error(r, wit_fmt(M, "failed to read file \"%s\": stream did not contain valid UTF-8", full));
    if (push_source(r, full, text, len)) return -1;
  }
  return parse_sources(r, first, g);
}

static int parse_deps_dir(wit_resolve *r, const char *path, groups *out) {
  memset(out, 0, sizeof *out);
  struct stat st;
  if (stat(path, &st) != 0) return 0;
  char **names;
  int n;
  if (list_dir(r, path, &names, &n)) return -1;
  for (int i = 0; i < n; i++) {
    char *full = wit_fmt(M, "%s/%s", path, names[i]);
    group g;
    if (is_dir(full)) {
      if (parse_dir(r, full, &g)) {
        add_context(r, wit_fmt(M, "failed to parse package: %s", full));
        return -1;
      }
    } else if (ends_with(names[i], ".wit") || ends_with(names[i], ".wat") || ends_with(names[i], ".wasm")) {
      char *text;
      size_t len;
      if (read_file(r, full, &text, &len)) return -1;
      if (is_wasm(text, len)) { /* merged into the Resolve now, as wit-parser does */
        if (push_wasm(r, full, text, len) < 0) return -1;
        continue;
      }
      if (parse_text(r, full, text, len, &g)) return -1;
    } else {
      continue;
    }
    wit_push(M, *out, g);
  }
  return 0;
}

/* ---- sort_unresolved_packages ---- */
typedef struct pkg_ref {
  wit_unresolved *u;
} pkg_ref;

static pkg_ref *find_pkg(pkg_ref *all, int n, const wit_pkgname *name) {
  for (int i = 0; i < n; i++)
    if (wit_pkgname_eq(&all[i].u->name, name)) return &all[i];
  return NULL;
}

typedef struct visit_cx {
  pkg_ref *all;
  int n;
  WIT_VEC(wit_unresolved *) order;
  WIT_VEC(wit_pkgname *) visiting;
} visit_cx;

static int in_order(visit_cx *c, const wit_pkgname *n) {
  for (int i = 0; i < c->order.n; i++)
    if (wit_pkgname_eq(&c->order.v[i]->name, n)) return 1;
  return 0;
}

static int visit(wit_resolve *r, visit_cx *c, wit_unresolved *u) {
  if (in_order(c, &u->name)) return 0;
  if (c->visiting.n > 10000) return plain_error(r, "package dependencies nest too deeply");
  for (int i = 0; i < u->foreign.n; i++) {
    wit_pkgname *dep = &u->foreign.v[i].name;
    for (int k = 0; k < c->visiting.n; k++)
      if (wit_pkgname_eq(c->visiting.v[k], dep))
        return wit_error_at(&r->err, M, u->foreign.v[i].span, "package `%s` creates a dependency cycle",
                            wit_pkgname_str(M, dep));
    wit_push(M, c->visiting, dep);
    pkg_ref *p = find_pkg(c->all, c->n, dep);
    if (p && visit(r, c, p->u)) return -1;
    c->visiting.n--;
  }
  wit_push(M, c->order, u);
  return 0;
}

static int cmp_pkg(const void *a, const void *b) {
  return wit_pkgname_cmp(&((const pkg_ref *)a)->u->name, &((const pkg_ref *)b)->u->name);
}

static int sort_and_push(wit_resolve *r, group *main, groups *deps) {
  WIT_VEC(pkg_ref) all = {0};
  wit_unresolved *main_pkg = &main->pkgs.v[main->main];
  group *gs[1] = {main};
  for (int gi = -1; gi < deps->n; gi++) {
    group *g = gi < 0 ? gs[0] : &deps->v[gi];
    for (int i = 0; i < g->pkgs.n; i++) {
      wit_unresolved *u = &g->pkgs.v[i];
      pkg_ref *prev = find_pkg(all.v, all.n, &u->name);
      if (prev) {
        wit_error_at(&r->err, M, u->name_span, "package `%s` is defined in two different locations",
                     wit_pkgname_str(M, &u->name));
        r->err.duplicate = 1;
        r->err.span2 = prev->u->name_span;
        return -1;
      }
      pkg_ref p = {u};
      wit_push(M, all, p);
    }
  }
  if (all.n) qsort(all.v, (size_t)all.n, sizeof(pkg_ref), cmp_pkg);
  visit_cx c = {all.v, all.n, {0}, {0}};
  for (int i = 0; i < all.n; i++)
    if (visit(r, &c, all.v[i].u)) return -1;
  int main_id = -1;
  for (int i = 0; i < c.order.n; i++) {
    int id = wit_append(r, c.order.v[i]);
    if (id < 0) return -1;
    if (c.order.v[i] == main_pkg) main_id = id;
  }
  return main_id;
}

static int push_dir(wit_resolve *r, const char *path) {
  group top;
  if (parse_dir(r, path, &top)) {
    add_context(r, wit_fmt(M, "failed to parse package: %s", path));
    return -1;
  }
  char *deps_path = wit_fmt(M, "%s/deps", path);
  groups deps;
  if (parse_deps_dir(r, deps_path, &deps)) {
    add_context(r, wit_fmt(M, "failed to parse dependency directory: %s", deps_path));
    return -1;
  }
  return sort_and_push(r, &top, &deps);
}

int wit_push_path(wit_resolve *r, const char *path) {
  char *p = wit_strdup(M, path);
  size_t n = strlen(p);
  while (n > 1 && p[n - 1] == '/') p[--n] = 0;
  if (is_dir(p)) {
    int id = push_dir(r, p);
    if (id < 0) add_context(r, wit_fmt(M, "failed to resolve directory while parsing WIT for path [%s]", p));
    return id;
  }
  char *text;
  size_t len;
  if (read_file(r, p, &text, &len)) return -1;
  if (is_wasm(text, len)) return push_wasm(r, p, text, len);
  group g;
  if (parse_text(r, p, text, len, &g)) return -1;
  groups none = {0};
  return sort_and_push(r, &g, &none);
}

int wit_push_source(wit_resolve *r, const char *path, const char *text, size_t len) {
  group g;
  if (parse_text(r, path, text, len, &g)) return -1;
  groups none = {0};
  return sort_and_push(r, &g, &none);
}
