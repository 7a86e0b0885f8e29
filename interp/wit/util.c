/* WIT front-end support: arena memory, formatting, package names, semver. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wit/wit.h"

struct wit_chunk {
  wit_chunk *next;
  size_t size, used;
  _Alignas(16) unsigned char data[];
};

#define CHUNK_MIN (64 * 1024)

void *wit_alloc(wit_arena *a, size_t n) {
  n = (n + 15) & ~(size_t)15;
  if (!n) n = 16;
  wit_chunk *c = a->head;
  if (!c || c->size - c->used < n) {
    size_t size = n > CHUNK_MIN ? n : CHUNK_MIN;
    c = malloc(sizeof *c + size);
    if (!c) return NULL; /* callers run out of memory only on absurd inputs */
    c->size = size;
    c->used = 0;
    c->next = a->head;
    a->head = c;
  }
  void *p = c->data + c->used;
  c->used += n;
  memset(p, 0, n);
  return p;
}

void wit_arena_free(wit_arena *a) {
  wit_chunk *c = a->head;
  while (c) {
    wit_chunk *n = c->next;
    free(c);
    c = n;
  }
  a->head = NULL;
}

char *wit_strndup(wit_arena *a, const char *s, size_t n) {
  char *d = wit_alloc(a, n + 1);
  memcpy(d, s, n);
  d[n] = 0;
  return d;
}

char *wit_strdup(wit_arena *a, const char *s) { return wit_strndup(a, s, strlen(s)); }

char *wit_fmt(wit_arena *a, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *d = wit_alloc(a, (size_t)n + 1);
  va_start(ap, fmt);
  vsnprintf(d, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return d;
}

void wit_vgrow(wit_arena *a, void **v, int *cap, int n, size_t elem) {
  if (n < *cap) return;
  int ncap = *cap ? *cap * 2 : 4;
  void *nv = wit_alloc(a, elem * (size_t)ncap);
  if (*v) memcpy(nv, *v, elem * (size_t)n);
  *v = nv;
  *cap = ncap;
}

int wit_error_at(wit_error *e, wit_arena *m, wit_span span, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *d = wit_alloc(m, (size_t)n + 1);
  va_start(ap, fmt);
  vsnprintf(d, (size_t)n + 1, fmt, ap);
  va_end(ap);
  memset(e, 0, sizeof *e);
  e->set = 1;
  e->span = span;
  e->msg = d;
  return -1;
}

const char *wit_prim_name(wit_type t) {
  static const char *const names[] = {"bool", "u8", "u16", "u32", "u64", "s8", "s16", "s32",
                                      "s64", "f32", "f64", "char", "string", "error-context"};
  if (t <= -1 && t >= -14) return names[-t - 1];
  return "?";
}

char *wit_pkgname_str(wit_arena *m, const wit_pkgname *p) {
  if (p->version) return wit_fmt(m, "%s:%s@%s", p->ns, p->name, p->version);
  return wit_fmt(m, "%s:%s", p->ns, p->name);
}

static int streq_opt(const char *a, const char *b) {
  if (!a || !b) return a == b;
  return strcmp(a, b) == 0;
}

int wit_pkgname_eq(const wit_pkgname *a, const wit_pkgname *b) {
  return !strcmp(a->ns, b->ns) && !strcmp(a->name, b->name) && streq_opt(a->version, b->version);
}

/* PackageName's derived Ord: namespace, name, then version (None first). */
int wit_pkgname_cmp(const wit_pkgname *a, const wit_pkgname *b) {
  int c = strcmp(a->ns, b->ns);
  if (c) return c;
  c = strcmp(a->name, b->name);
  if (c) return c;
  if (!a->version || !b->version) return (a->version != NULL) - (b->version != NULL);
  return wit_version_cmp(a->version, b->version);
}

int wit_names_find(const wit_names *m, const char *name) {
  for (int i = 0; i < m->n; i++)
    if (!strcmp(m->v[i].name, name)) return m->v[i].id;
  return -1;
}

int wit_stab_eq(const wit_stability *a, const wit_stability *b) {
  return a->kind == b->kind && streq_opt(a->since, b->since) && streq_opt(a->feature, b->feature) &&
         streq_opt(a->deprecated, b->deprecated);
}

/* ---- semver: MAJOR.MINOR.PATCH[-PRE][+BUILD], no leading zeros ---- */
static int num_ok(const char *s, size_t n) {
  if (!n) return 0;
  for (size_t i = 0; i < n; i++)
    if (s[i] < '0' || s[i] > '9') return 0;
  return !(n > 1 && s[0] == '0');
}

static int ident_ok(const char *s, size_t n, int pre) {
  if (!n) return 0;
  int numeric = 1;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-')) return 0;
    if (c < '0' || c > '9') numeric = 0;
  }
  if (pre && numeric && n > 1 && s[0] == '0') return 0;
  return 1;
}

static int idents_ok(const char *s, size_t n, int pre) {
  size_t start = 0;
  for (size_t i = 0; i <= n; i++)
    if (i == n || s[i] == '.') {
      if (!ident_ok(s + start, i - start, pre)) return 0;
      start = i + 1;
    }
  return 1;
}

int wit_version_parse(const char *s, size_t n) {
  size_t i = 0;
  for (int part = 0; part < 3; part++) {
    size_t st = i;
    while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    if (!num_ok(s + st, i - st)) return -1;
    if (part < 2) {
      if (i >= n || s[i] != '.') return -1;
      i++;
    }
  }
  if (i < n && s[i] == '-') {
    size_t st = ++i;
    while (i < n && s[i] != '+') i++;
    if (!idents_ok(s + st, i - st, 1)) return -1;
  }
  if (i < n && s[i] == '+') {
    size_t st = ++i;
    if (!idents_ok(s + st, n - st, 0)) return -1;
    i = n;
  }
  return i == n ? 0 : -1;
}

static int cmp_num(const char *a, size_t an, const char *b, size_t bn) {
  while (an > 1 && *a == '0') { a++; an--; }
  while (bn > 1 && *b == '0') { b++; bn--; }
  if (an != bn) return an < bn ? -1 : 1;
  int c = memcmp(a, b, an);
  return c < 0 ? -1 : c > 0;
}

static size_t span_until(const char *s, const char *stops) { return strcspn(s, stops); }

static int cmp_pre(const char *a, size_t an, const char *b, size_t bn) {
  if (!an || !bn) return an ? -1 : bn ? 1 : 0; /* no pre-release is greater */
  while (an && bn) {
    size_t la = 0, lb = 0;
    while (la < an && a[la] != '.') la++;
    while (lb < bn && b[lb] != '.') lb++;
    int na = num_ok(a, la) || (la && strspn(a, "0123456789") >= la);
    int nb = num_ok(b, lb) || (lb && strspn(b, "0123456789") >= lb);
    int c;
    if (na && nb) c = cmp_num(a, la, b, lb);
    else if (na != nb) c = na ? -1 : 1;
    else {
      size_t m = la < lb ? la : lb;
      c = memcmp(a, b, m);
      c = c ? (c < 0 ? -1 : 1) : (la < lb ? -1 : la > lb);
    }
    if (c) return c;
    a += la; an -= la;
    b += lb; bn -= lb;
    if (an) { a++; an--; }
    if (bn) { b++; bn--; }
    if (!an || !bn) return an ? 1 : bn ? -1 : 0;
  }
  return 0;
}

int wit_version_cmp(const char *a, const char *b) {
  for (int part = 0; part < 3; part++) {
    size_t la = span_until(a, ".-+"), lb = span_until(b, ".-+");
    int c = cmp_num(a, la, b, lb);
    if (c) return c;
    a += la;
    b += lb;
    if (part < 2) { if (*a) a++; if (*b) b++; }
  }
  size_t pa = 0, pb = 0;
  if (*a == '-') { a++; pa = span_until(a, "+"); }
  if (*b == '-') { b++; pb = span_until(b, "+"); }
  int apre = a[-1] == '-' ? 1 : 0, bpre = b[-1] == '-' ? 1 : 0;
  if (!apre && !bpre) return 0;
  if (!apre) return 1;
  if (!bpre) return -1;
  return cmp_pre(a, pa, b, pb);
}

/* ---- world item lookup ---- */
static int key_eq(const wit_key *a, const wit_key *b) {
  if (a->name || b->name) return a->name && b->name && !strcmp(a->name, b->name);
  return a->iface == b->iface;
}

static uint32_t key_hash(const wit_key *k) {
  uint32_t h = 2166136261u;
  if (!k->name) return (uint32_t)k->iface * 2654435761u ^ 0x9e3779b9u;
  for (const char *s = k->name; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
  return h;
}

static void keyidx_insert(wit_keyidx *x, const wit_witem *v, int i) {
  uint32_t mask = (uint32_t)x->nslots - 1;
  uint32_t s = key_hash(&v[i].key) & mask;
  while (x->slots[s]) s = (s + 1) & mask;
  x->slots[s] = i + 1;
}

static void keyidx_sync(wit_arena *m, wit_keyidx *x, const wit_witems *items) {
  if (x->v != items->v || x->count > items->n || items->n * 2 > x->nslots) {
    int ns = 64;
    while (ns < items->n * 4) ns *= 2;
    x->v = items->v;
    x->slots = wit_alloc(m, sizeof(int) * (size_t)ns);
    x->nslots = ns;
    x->count = 0;
  }
  for (; x->count < items->n; x->count++) keyidx_insert(x, items->v, x->count);
}

int wit_witems_find(wit_arena *m, wit_keycache *c, const wit_witems *items, const wit_key *k) {
  if (items->n < 32) {
    for (int i = 0; i < items->n; i++)
      if (key_eq(&items->v[i].key, k)) return i;
    return -1;
  }
  wit_keyidx *x = NULL;
  for (int i = 0; i < 4; i++)
    if (c->e[i].v == items->v) x = &c->e[i];
  if (!x) {
    x = &c->e[c->next];
    c->next = (c->next + 1) % 4;
    memset(x, 0, sizeof *x);
  }
  keyidx_sync(m, x, items);
  uint32_t mask = (uint32_t)x->nslots - 1;
  for (uint32_t s = key_hash(k) & mask;; s = (s + 1) & mask) {
    int e = x->slots[s];
    if (!e) return -1;
    if (key_eq(&items->v[e - 1].key, k)) return e - 1;
  }
}

void wit_keycache_forget(wit_keycache *c, const wit_witems *items) {
  for (int i = 0; i < 4; i++)
    if (c->e[i].v == items->v) memset(&c->e[i], 0, sizeof c->e[i]);
}
