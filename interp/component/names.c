/* Import and export names: kebab-case labels, annotated names ([constructor], [method],
 * [static]), interface names and the other externname forms, strong uniqueness. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation" /* messages are truncated on purpose */
#endif
#include "component/names.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

bool cmc_is_kebab(const char *s, size_t n) {
  bool lower = false, upper = false, first = true, digit = false;
  if (n == 0 || s[n - 1] == '-') return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c >= 'a' && c <= 'z' && !upper) lower = true;
    else if (c >= 'A' && c <= 'Z' && !lower) upper = true;
    else if (c >= '0' && c <= '9' && (lower || upper || !first)) digit = true;
    else if (c == '-' && (lower || upper || digit)) {
      lower = upper = digit = false;
      first = false;
    } else return false;
  }
  return true;
}

bool cmc_label_eq(const char *a, const char *b) {
  size_t i = 0;
  for (; a[i] && b[i]; i++)
    if (tolower((unsigned char)a[i]) != tolower((unsigned char)b[i])) return false;
  return a[i] == b[i];
}

typedef struct name_parser {
  const char *next;
  char *why;
  size_t whylen;
  bool nested; /* 🪺 nested namespaces and projections */
} name_parser;

static bool np_fail(name_parser *p, const char *fmt, const char *arg, size_t n) {
  char buf[160];
  snprintf(buf, sizeof buf, "%.*s", (int)(n < 150 ? n : 150), arg);
  snprintf(p->why, p->whylen, fmt, buf);
  return false;
}

static bool np_eat(name_parser *p, const char *prefix) {
  size_t n = strlen(prefix);
  if (strncmp(p->next, prefix, n) != 0) return false;
  p->next += n;
  return true;
}

static bool np_expect(name_parser *p, const char *prefix) {
  if (np_eat(p, prefix)) return true;
  char buf[64];
  snprintf(buf, sizeof buf, "expected `%s` at `%%s`", prefix);
  return np_fail(p, buf, p->next, strlen(p->next));
}

static bool np_kebab(name_parser *p, const char *s, size_t n) {
  if (!cmc_is_kebab(s, n)) return np_fail(p, "`%s` is not in kebab case", s, n);
  return true;
}

static bool np_take_kebab(name_parser *p, bool lowercase) {
  const char *s = p->next;
  size_t n = 0;
  while (isalnum((unsigned char)s[n]) || s[n] == '-') n++;
  if (s[n] == 0 || n > 0 || 1) {
    if (!np_kebab(p, s, n)) return false;
  }
  if (lowercase)
    for (size_t i = 0; i < n; i++)
      if (isupper((unsigned char)s[i]))
        return np_fail(p, "character `%s` is not lowercase in package name/namespace", s + i, 1);
  p->next += n;
  return true;
}

/* a semver version (semver.org), with the reference semver parser's messages */
static const char *semver_error(const char *s, size_t n, char *buf, size_t len) {
  static const char *const parts[] = {"major", "minor", "patch"};
  size_t i = 0;
  if (n == 0) return "empty string, expected a semver version";
  for (int part = 0; part < 3; part++) {
    size_t st = i;
    if (i >= n) {
      snprintf(buf, len, "unexpected end of input while parsing %s version number", parts[part]);
      return buf;
    }
    while (i < n && isdigit((unsigned char)s[i])) i++;
    if (i == st) {
      snprintf(buf, len, "unexpected character '%c' while parsing %s version number", s[i], parts[part]);
      return buf;
    }
    if (s[st] == '0' && i - st > 1) {
      snprintf(buf, len, "invalid leading zero in %s version number", parts[part]);
      return buf;
    }
    if (part < 2) {
      if (i >= n) {
        snprintf(buf, len, "unexpected end of input while parsing %s version number", parts[part]);
        return buf;
      }
      if (s[i] != '.') {
        snprintf(buf, len, "unexpected character '%c' after %s version number", s[i], parts[part]);
        return buf;
      }
      i++;
    }
  }
  for (int section = 0; section < 2 && i < n; section++) {
    char lead = section == 0 ? '-' : '+';
    const char *what = section == 0 ? "pre-release identifier" : "build metadata";
    if (s[i] != lead) {
      if (section == 0 && s[i] == '+') continue;
      snprintf(buf, len, "unexpected character '%c' after patch version number", s[i]);
      return buf;
    }
    i++;
    for (;;) {
      size_t st = i;
      while (i < n && (isalnum((unsigned char)s[i]) || s[i] == '-')) i++;
      if (i == st) {
        snprintf(buf, len, "empty identifier segment in %s", what);
        return buf;
      }
      if (i < n && s[i] == '.') { i++; continue; }
      break;
    }
    if (i < n && (section == 1 || s[i] != '+')) {
      snprintf(buf, len, "unexpected character '%c' in %s", s[i], what);
      return buf;
    }
  }
  return NULL;
}

static bool np_semver(name_parser *p, const char *s, size_t n) {
  char buf[160], msg[300];
  const char *e = semver_error(s, n, buf, sizeof buf);
  if (!e) return true;
  snprintf(msg, sizeof msg, "`%%s` is not a valid semver: %s", e);
  return np_fail(p, msg, s, n);
}

/* pkgpath ::= <namespace>+ <words> <projection>* (nested namespaces and projections: 🪺) */
static bool np_pkg_path(name_parser *p, bool require_projection) {
  if (!np_take_kebab(p, true) || !np_expect(p, ":") || !np_take_kebab(p, true)) return false;
  while (p->nested && *p->next == ':') {
    p->next++;
    if (!np_take_kebab(p, true)) return false;
  }
  if (*p->next == '/') {
    do {
      p->next++;
      if (!np_take_kebab(p, false)) return false;
    } while (p->nested && *p->next == '/');
  } else if (require_projection) {
    return np_fail(p, "expected `/` after package name%s", "", 0);
  }
  return true;
}

/* interface versions are checked with the name's versionsuffix (cmc_interface_version) */
static bool np_pkg_name(name_parser *p, bool is_interface) {
  if (!np_pkg_path(p, is_interface)) return false;
  if (np_eat(p, "@")) {
    const char *v = p->next;
    const char *gt = strchr(v, '>');
    size_t n = gt ? (size_t)(gt - v) : strlen(v);
    p->next += n;
    if (!is_interface && !np_semver(p, v, n)) return false;
  }
  return true;
}

static bool np_semver_range(name_parser *p, const char *r, size_t n) {
  if (n == 1 && r[0] == '*') return true;
  if (n >= 2 && r[0] == '>' && r[1] == '=') {
    const char *sp = memchr(r, ' ', n);
    size_t ln = sp ? (size_t)(sp - r) - 2 : n - 2;
    if (!np_semver(p, r + 2, ln)) return false;
    if (sp) {
      const char *u = sp + 1;
      size_t un = n - (size_t)(u - r);
      if (un == 0 || u[0] != '<')
        return np_fail(p, "expected `<` at start of version range upper bounds%s", "", 0);
      return np_semver(p, u + 1, un - 1);
    }
    return true;
  }
  if (n >= 1 && r[0] == '<') return np_semver(p, r + 1, n - 1);
  return np_fail(p, "expected `>=` or `<` at start of version range%s", "", 0);
}

static bool is_base64(const char *s, size_t n) {
  unsigned equals = 0;
  if (n == 0) return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if ((isalnum((unsigned char)c) || c == '+' || c == '/') && equals == 0) continue;
    if (c == '=' && i > 0 && equals < 2) { equals++; continue; }
    return false;
  }
  return true;
}

/* integrity-metadata: whitespace-separated sha256/384/512-<base64>(?options) */
static bool np_hash(name_parser *p) {
  const char *gt = strchr(p->next, '>');
  if (!gt) return np_fail(p, "failed to find `>` character%s", "", 0);
  const char *s = p->next;
  bool any = false;
  while (s < gt) {
    while (s < gt && isspace((unsigned char)*s)) s++;
    if (s >= gt) break;
    const char *e = s;
    while (e < gt && !isspace((unsigned char)*e)) e++;
    any = true;
    size_t n = (size_t)(e - s);
    if (n < 6 || (strncmp(s, "sha256", 6) && strncmp(s, "sha384", 6) && strncmp(s, "sha512", 6)))
      return np_fail(p, "unrecognized hash algorithm: `%s`", s, n);
    if (n == 6 || s[6] != '-') return np_fail(p, "expected `-` after hash algorithm: %s", s, n);
    const char *b = s + 7, *q = memchr(b, '?', (size_t)(e - b));
    size_t bn = q ? (size_t)(q - b) : (size_t)(e - b);
    if (!is_base64(b, bn)) return np_fail(p, "not valid base64: `%s`", b, bn);
    s = e;
  }
  if (!any) return np_fail(p, "integrity hash cannot be empty%s", "", 0);
  p->next = gt;
  return true;
}

static bool np_optional_hash(name_parser *p) {
  if (!np_eat(p, ",")) return true;
  return np_expect(p, "integrity=<") && np_hash(p) && np_expect(p, ">");
}

static bool np_resource_func(name_parser *p, cmc_name *out) {
  const char *dot = strchr(p->next, '.');
  if (!dot) return np_fail(p, "failed to find `.` character%s", "", 0);
  size_t rn = (size_t)(dot - p->next);
  if (!np_kebab(p, p->next, rn)) return false;
  snprintf(out->resource, sizeof out->resource, "%.*s", (int)rn, p->next);
  p->next = dot + 1;
  size_t mn = strlen(p->next);
  if (!np_kebab(p, p->next, mn)) return false;
  snprintf(out->method, sizeof out->method, "%s", p->next);
  p->next += mn;
  return true;
}

static bool np_parse(name_parser *p, cmc_name *out) {
  if (np_eat(p, "[constructor]")) {
    out->kind = CMC_NAME_CONSTRUCTOR;
    size_t n = strlen(p->next);
    if (!np_kebab(p, p->next, n)) return false;
    snprintf(out->resource, sizeof out->resource, "%s", p->next);
    p->next += n;
    return true;
  }
  if (np_eat(p, "[method]")) { out->kind = CMC_NAME_METHOD; return np_resource_func(p, out); }
  if (np_eat(p, "[static]")) { out->kind = CMC_NAME_STATIC; return np_resource_func(p, out); }
  if (np_eat(p, "unlocked-dep=")) {
    out->kind = CMC_NAME_DEPENDENCY;
    if (!np_expect(p, "<") || !np_pkg_path(p, false)) return false;
    if (np_eat(p, "@")) {
      if (!np_eat(p, "*")) {
        if (!np_expect(p, "{")) return false;
        const char *c = strchr(p->next, '}');
        if (!c) return np_fail(p, "failed to find `}` character%s", "", 0);
        const char *range = p->next;
        p->next = c;
        if (!np_semver_range(p, range, (size_t)(c - range))) return false;
        if (!np_expect(p, "}")) return false;
      }
    }
    return np_expect(p, ">");
  }
  if (np_eat(p, "locked-dep=")) {
    out->kind = CMC_NAME_DEPENDENCY;
    return np_expect(p, "<") && np_pkg_name(p, false) && np_expect(p, ">") && np_optional_hash(p);
  }
  if (np_eat(p, "url=")) {
    out->kind = CMC_NAME_URL;
    if (!np_expect(p, "<")) return false;
    const char *gt = strchr(p->next, '>');
    if (!gt) return np_fail(p, "failed to find `>` character%s", "", 0);
    for (const char *c = p->next; c < gt; c++)
      if (*c == '<') return np_fail(p, "url cannot contain `<`%s", "", 0);
    p->next = gt;
    return np_expect(p, ">") && np_optional_hash(p);
  }
  if (np_eat(p, "integrity=")) {
    out->kind = CMC_NAME_HASH;
    return np_expect(p, "<") && np_hash(p) && np_expect(p, ">");
  }
  if (strchr(p->next, ':')) {
    out->kind = CMC_NAME_INTERFACE;
    return np_pkg_name(p, true);
  }
  out->kind = CMC_NAME_LABEL;
  size_t n = strlen(p->next);
  if (!np_kebab(p, p->next, n)) return false;
  p->next += n;
  return true;
}

bool cmc_parse_name(const char *s, cmc_name *out, char *why, size_t whylen) {
  return cmc_parse_name_ex(s, false, out, why, whylen);
}

bool cmc_parse_name_ex(const char *s, bool nested, cmc_name *out, char *why, size_t whylen) {
  name_parser p = {s, why, whylen, nested};
  memset(out, 0, sizeof *out);
  out->raw = s;
  if (!np_parse(&p, out)) return false;
  if (*p.next) return np_fail(&p, "trailing characters found: `%s`", p.next, strlen(p.next));
  return true;
}

/* the key under which strong uniqueness compares a name */
static int name_class(const cmc_name *n, const char **label) {
  switch (n->kind) {
  case CMC_NAME_LABEL: *label = n->raw; return 0;
  case CMC_NAME_CONSTRUCTOR: *label = n->resource; return 1;
  case CMC_NAME_METHOD:
  case CMC_NAME_STATIC:
    if (cmc_label_eq(n->resource, n->method)) { *label = n->resource; return 0; }
    *label = NULL;
    return 2;
  case CMC_NAME_INTERFACE: *label = n->raw; return 0;
  default: *label = n->raw; return 3 + (int)n->kind;
  }
}

bool cmc_names_conflict(const cmc_name *a, const cmc_name *b) {
  const char *la, *lb;
  int ca = name_class(a, &la), cb = name_class(b, &lb);
  if (ca != cb) return false;
  if (ca == 2) return cmc_label_eq(a->resource, b->resource) && cmc_label_eq(a->method, b->method);
  if (ca <= 1) return cmc_label_eq(la, lb);
  return strcmp(la, lb) == 0;
}

/* the key under which two names conflict exactly when cmc_names_conflict says so */
char *cmc_name_key(const cmc_name *n, cmc_arena *a) {
  const char *x = NULL, *y = NULL;
  char cls;
  switch (n->kind) {
  case CMC_NAME_LABEL: cls = '0'; x = n->raw; break;
  case CMC_NAME_CONSTRUCTOR: cls = '1'; x = n->resource; break;
  case CMC_NAME_METHOD:
  case CMC_NAME_STATIC:
    if (cmc_label_eq(n->resource, n->method)) { cls = '0'; x = n->resource; }
    else { cls = '2'; x = n->resource; y = n->method; }
    break;
  case CMC_NAME_INTERFACE: cls = '0'; x = n->raw; break; /* acronyms lowercased too */
  default: cls = (char)('3' + (int)n->kind); x = n->raw; break;
  }
  bool fold = cls <= '2';
  size_t lx = strlen(x), ly = y ? strlen(y) : 0;
  char *k = cmc_arena_alloc(a, lx + ly + 4);
  if (!k) return NULL;
  size_t o = 0;
  k[o++] = cls;
  for (size_t i = 0; i < lx; i++) k[o++] = fold ? (char)tolower((unsigned char)x[i]) : x[i];
  if (y) {
    k[o++] = '.';
    for (size_t i = 0; i < ly; i++) k[o++] = (char)tolower((unsigned char)y[i]);
  }
  k[o] = 0;
  return k;
}

/* canonversion ::= [1-9][0-9]* | '0.' [1-9][0-9]* | '0.0.' [1-9][0-9]* | '0.0.0' (🔗) */
static bool is_canonversion(const char *v) {
  const char *s = v;
  int zeros = 0;
  while (zeros < 2 && s[0] == '0' && s[1] == '.') { s += 2; zeros++; }
  if (zeros == 2 && !strcmp(s, "0")) return true;
  if (*s < '1' || *s > '9') return false;
  while (isdigit((unsigned char)*s)) s++;
  return *s == 0;
}

bool cmc_interface_version(const cmc_name *n, const char *suffix, char *why, size_t whylen) {
  if (n->kind != CMC_NAME_INTERFACE) return true;
  const char *at = strchr(n->raw, '@');
  if (!at) {
    if (suffix) snprintf(why, whylen, "a `versionsuffix` requires an interface version");
    return !suffix;
  }
  const char *ver = at + 1;
  char buf[512], err[160];
  if (suffix) {
    if (!is_canonversion(ver)) {
      snprintf(why, whylen, "`%s` is not a canonical version", ver);
      return false;
    }
    snprintf(buf, sizeof buf, "%s%s", ver, suffix);
  } else {
    if (is_canonversion(ver)) return true;
    snprintf(buf, sizeof buf, "%s", ver);
  }
  const char *e = semver_error(buf, strlen(buf), err, sizeof err);
  if (e) snprintf(why, whylen, "%s", e);
  return e == NULL;
}
