/* WAVE, the Wasm value text format of wasmtime's --invoke (https://github.com/bytecodealliance/
 * wasm-tools, crates/wasm-wave): component values read by their types into the harness's JSON
 * value schema (harness/engines/PROTOCOL.md), which the canonical ABI reads, and printed back.
 * Resources cannot be written in WAVE and are refused. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/wave.h"
#include "component/types.h"

#define MAX_DEPTH 100

typedef struct wave {
  const char *p;
  cmc_types *types;
  char err[200];
  const char *start; /* of the text, for error columns */
} wave;

static json_t *parse(wave *w, cmc_tid t, unsigned depth);

static void skip_ws(wave *w) {
  while (*w->p == ' ' || *w->p == '\t' || *w->p == '\n' || *w->p == '\r') w->p++;
}

static json_t *fail(wave *w, const char *what) {
  if (!w->err[0])
    snprintf(w->err, sizeof w->err, "invalid WAVE at column %zu: expected %s at `%.20s`",
             (size_t)(w->p - w->start) + 1, what, w->p);
  return NULL;
}

static json_t *fail_at(wave *w, const char *at, const char *what) {
  w->p = at;
  return fail(w, what);
}

static bool eat(wave *w, char c) {
  skip_ws(w);
  if (*w->p != c) return false;
  w->p++;
  return true;
}

/* a label (kebab-case name), NUL-terminated into buf */
static bool label(wave *w, char *buf, size_t n) {
  skip_ws(w);
  size_t i = 0;
  if (*w->p == '%') w->p++; /* %-escaped keywords */
  while ((*w->p == '-' || (*w->p >= 'a' && *w->p <= 'z') || (*w->p >= 'A' && *w->p <= 'Z') ||
          (*w->p >= '0' && *w->p <= '9')) && i + 1 < n)
    buf[i++] = *w->p++;
  buf[i] = 0;
  return i > 0;
}

static json_t *typed(const char *type, json_t *v) {
  return v ? json_pack("{s:s, s:o}", "type", type, "value", v) : NULL;
}

static void put_utf8(char *o, size_t *n, uint32_t c) {
  if (c < 0x80) o[(*n)++] = (char)c;
  else if (c < 0x800) { o[(*n)++] = (char)(0xC0 | c >> 6); o[(*n)++] = (char)(0x80 | (c & 0x3F)); }
  else if (c < 0x10000) {
    o[(*n)++] = (char)(0xE0 | c >> 12);
    o[(*n)++] = (char)(0x80 | ((c >> 6) & 0x3F));
    o[(*n)++] = (char)(0x80 | (c & 0x3F));
  } else {
    o[(*n)++] = (char)(0xF0 | c >> 18);
    o[(*n)++] = (char)(0x80 | ((c >> 12) & 0x3F));
    o[(*n)++] = (char)(0x80 | ((c >> 6) & 0x3F));
    o[(*n)++] = (char)(0x80 | (c & 0x3F));
  }
}

/* a quoted string or char with WAVE escapes (\n \t \r \\ \" \' \u{X}) */
static json_t *quoted(wave *w, char q) {
  skip_ws(w);
  if (*w->p != q) return fail(w, q == '"' ? "a string" : "a char");
  w->p++;
  size_t cap = strlen(w->p) + 1, n = 0;
  char *o = malloc(cap);
  if (!o) return fail(w, "memory");
  while (*w->p && *w->p != q) {
    if (*w->p != '\\') {
      o[n++] = *w->p++;
      continue;
    }
    w->p++;
    char c = *w->p++;
    if (c == 'n') o[n++] = '\n';
    else if (c == 't') o[n++] = '\t';
    else if (c == 'r') o[n++] = '\r';
    else if (c == '\\' || c == '"' || c == '\'') o[n++] = c;
    else if (c == 'u' && *w->p == '{') {
      char *end;
      unsigned long cp = strtoul(w->p + 1, &end, 16);
      if (*end != '}' || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        free(o);
        return fail(w, "a valid \\u{...} escape");
      }
      put_utf8(o, &n, (uint32_t)cp);
      w->p = end + 1;
    } else {
      free(o);
      return fail(w, "a valid escape");
    }
  }
  if (*w->p != q) {
    free(o);
    return fail(w, "a closing quote");
  }
  w->p++;
  json_t *s = json_stringn(o, n);
  free(o);
  return s;
}

/* the decimal text s (an optional `-` and digits) fits integer type prim */
static bool int_in_range(const char *s, size_t n, uint8_t prim) {
  static const struct { uint8_t prim; const char *min, *max; } r[] = {
      {CMC_S8, "-128", "127"}, {CMC_U8, "0", "255"}, {CMC_S16, "-32768", "32767"},
      {CMC_U16, "0", "65535"}, {CMC_S32, "-2147483648", "2147483647"}, {CMC_U32, "0", "4294967295"},
      {CMC_S64, "-9223372036854775808", "9223372036854775807"}, {CMC_U64, "0", "18446744073709551615"}};
  bool neg = *s == '-';
  const char *d = s + neg;
  size_t nd = n - neg;
  while (nd > 1 && *d == '0') d++, nd--; /* leading zeros */
  bool zero = nd == 1 && *d == '0';
  for (size_t i = 0; i < sizeof r / sizeof r[0]; i++) {
    if (r[i].prim != prim) continue;
    const char *lim = neg && !zero ? r[i].min : r[i].max;
    if (neg && !zero && *lim != '-') return false;
    if (*lim == '-') lim++;
    size_t nl = strlen(lim);
    return nd < nl || (nd == nl && strncmp(d, lim, nl) <= 0);
  }
  return false;
}

static json_t *number(wave *w, const cmc_type *ty) {
  skip_ws(w);
  char *end;
  if (ty->prim == CMC_F32 || ty->prim == CMC_F64) {
    double d;
    if (strncmp(w->p, "nan", 3) == 0) { d = NAN; end = (char *)w->p + 3; }
    else if (strncmp(w->p, "inf", 3) == 0) { d = INFINITY; end = (char *)w->p + 3; }
    else if (strncmp(w->p, "-inf", 4) == 0) { d = -INFINITY; end = (char *)w->p + 4; }
    else d = strtod(w->p, &end);
    if (end == w->p) return fail(w, "a number");
    w->p = end;
    char buf[32];
    if (ty->prim == CMC_F32) {
      float f = (float)d;
      uint32_t bits;
      memcpy(&bits, &f, 4);
      snprintf(buf, sizeof buf, "%" PRIu32, bits);
    } else {
      uint64_t bits;
      memcpy(&bits, &d, 8);
      snprintf(buf, sizeof buf, "%" PRIu64, bits);
    }
    return json_string(buf);
  }
  const char *start = w->p;
  bool neg = *w->p == '-';
  if (neg) w->p++;
  while (*w->p >= '0' && *w->p <= '9') w->p++;
  if (w->p == start + neg) return fail(w, "an integer");
  if (!int_in_range(start, (size_t)(w->p - start), ty->prim)) {
    char what[64];
    snprintf(what, sizeof what, "an integer in the range of %s", cmc_prim_name(ty->prim));
    w->p = start;
    return fail(w, what);
  }
  return json_stringn(start, (size_t)(w->p - start));
}

static json_t *seq(wave *w, char open, char close, const cmc_field *fields, uint32_t n, cmc_tid elem,
                   bool named, unsigned depth) {
  if (!eat(w, open)) return fail(w, open == '[' ? "`[`" : open == '(' ? "`(`" : "`{`");
  json_t *a = json_array();
  char what[160] = "a value";
  for (uint32_t i = 0; a; i++) {
    bool comma = i > 0 && eat(w, ',');
    if (eat(w, close)) {
      if (!fields || i == n) return a;
      w->p--; /* at the closing bracket */
      if (named) snprintf(what, sizeof what, "field `%s`", fields[i].name);
      else snprintf(what, sizeof what, "%u tuple members", n);
      json_decref(a);
      return fail(w, what);
    }
    if (i > 0 && !comma) {
      snprintf(what, sizeof what, "`,` or `%c`", close);
      break;
    }
    if (fields && i >= n) {
      snprintf(what, sizeof what, "`%c` after %u %s", close, n, named ? "fields" : "members");
      break;
    }
    if (named) {
      char name[128];
      skip_ws(w);
      const char *at = w->p;
      snprintf(what, sizeof what, "field `%s`", fields[i].name);
      if (!label(w, name, sizeof name) || strcmp(name, fields[i].name) != 0) {
        w->p = at;
        break;
      }
      snprintf(what, sizeof what, "`:`");
      if (!eat(w, ':')) break;
    }
    json_t *v = parse(w, fields ? fields[i].type : elem, depth + 1);
    if (!v) break;
    if (named) v = json_pack("[s, o]", fields[i].name, v);
    json_array_append_new(a, v);
  }
  json_decref(a);
  return fail(w, what);
}

static int case_of(const cmc_type *ty, const char *name) {
  for (uint32_t i = 0; i < ty->n; i++)
    if (ty->fields[i].name && strcmp(ty->fields[i].name, name) == 0) return (int)i;
  return -1;
}

/* case or case(payload) */
static json_t *with_payload(wave *w, cmc_tid payload, unsigned depth, bool *has) {
  *has = false;
  if (payload == CMC_NONE) return json_null();
  if (!eat(w, '(')) return fail(w, "`(` and a payload");
  json_t *v = parse(w, payload, depth + 1);
  if (v && !eat(w, ')')) {
    json_decref(v);
    return fail(w, "`)`");
  }
  *has = v != NULL;
  return v;
}

static json_t *parse_value(wave *w, cmc_tid t, unsigned depth) {
  const cmc_type *ty = &w->types->v[t];
  char name[128];
  bool has;
  skip_ws(w);
  const char *at = w->p; /* label errors point at the label */
  switch (ty->kind) {
  case CMC_T_PRIM:
    if (ty->prim == CMC_BOOL) {
      if (!label(w, name, sizeof name)) return fail_at(w, at, "a bool");
      if (strcmp(name, "true") == 0) return json_true();
      if (strcmp(name, "false") == 0) return json_false();
      return fail_at(w, at, "true or false");
    }
    if (ty->prim == CMC_STRING) return quoted(w, '"');
    if (ty->prim == CMC_CHAR) return quoted(w, '\'');
    return number(w, ty);
  case CMC_T_LIST:
  case CMC_T_FIXLIST: return seq(w, '[', ']', NULL, 0, ty->a, false, depth);
  case CMC_T_TUPLE: return seq(w, '(', ')', ty->fields, ty->n, CMC_NONE, false, depth);
  case CMC_T_RECORD: return seq(w, '{', '}', ty->fields, ty->n, CMC_NONE, true, depth);
  case CMC_T_ENUM:
  case CMC_T_VARIANT: {
    if (!label(w, name, sizeof name)) return fail_at(w, at, "a case name");
    int i = case_of(ty, name);
    if (i < 0) return fail_at(w, at, "a known case");
    if (ty->kind == CMC_T_ENUM) return json_string(name);
    json_t *p = with_payload(w, ty->fields[i].type, depth, &has);
    if (!p) return NULL;
    return has ? json_pack("{s:s, s:o}", "case", name, "payload", p) : json_pack("{s:s}", "case", name);
  }
  case CMC_T_OPTION:
    if (!label(w, name, sizeof name)) return fail_at(w, at, "some(...) or none");
    if (strcmp(name, "none") == 0) return json_null();
    if (strcmp(name, "some") != 0) return fail_at(w, at, "some(...) or none");
    return with_payload(w, ty->a, depth, &has);
  case CMC_T_RESULT: {
    if (!label(w, name, sizeof name) || (strcmp(name, "ok") != 0 && strcmp(name, "err") != 0))
      return fail_at(w, at, "ok or err");
    bool ok = strcmp(name, "ok") == 0;
    json_t *p = ok ? with_payload(w, ty->a, depth, &has) : with_payload(w, ty->b, depth, &has);
    if (!p) return NULL;
    return json_pack("{s:o}", ok ? "Ok" : "Err", p);
  }
  case CMC_T_FLAGS: {
    if (!eat(w, '{')) return fail(w, "`{`");
    json_t *a = json_array();
    while (a && !eat(w, '}')) {
      if (json_array_size(a) && !eat(w, ',')) break;
      if (eat(w, '}')) return a;
      if (!label(w, name, sizeof name) || case_of(ty, name) < 0) break;
      json_array_append_new(a, json_string(name));
    }
    if (a && w->p[-1] == '}') return a;
    json_decref(a);
    return fail(w, "flag names in `{...}`");
  }
  default: return fail(w, "a value of a type WAVE can write (no resources)");
  }
}

static json_t *parse(wave *w, cmc_tid t, unsigned depth) {
  if (depth > MAX_DEPTH) return fail(w, "less nesting");
  return typed(cmc_type_desc(w->types, t), parse_value(w, t, depth));
}

/* ---- printing ---- */

static void print_string(FILE *o, const char *s, size_t n, char q) {
  fputc(q, o);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '\\' || c == (unsigned char)q) fprintf(o, "\\%c", c);
    else if (c == '\n') fprintf(o, "\\n");
    else if (c == '\t') fprintf(o, "\\t");
    else if (c == '\r') fprintf(o, "\\r");
    else if (c < 0x20) fprintf(o, "\\u{%x}", c);
    else fputc(c, o);
  }
  fputc(q, o);
}

static void print_float(FILE *o, const cmc_type *ty, const char *bits) {
  double d;
  if (ty->prim == CMC_F32) {
    uint32_t b = (uint32_t)strtoul(bits, NULL, 10);
    float f;
    memcpy(&f, &b, 4);
    d = f;
  } else {
    uint64_t b = strtoull(bits, NULL, 10);
    memcpy(&d, &b, 8);
  }
  if (isnan(d)) fprintf(o, "nan");
  else if (isinf(d)) fprintf(o, d < 0 ? "-inf" : "inf");
  else {
    char buf[40];
    for (int digits = 1; digits <= 17; digits++) { /* the shortest text that reads back */
      snprintf(buf, sizeof buf, "%.*g", digits, d);
      if (ty->prim == CMC_F32 ? (float)strtod(buf, NULL) == (float)d : strtod(buf, NULL) == d) break;
    }
    fputs(buf, o);
  }
}

static void print(FILE *o, cmc_types *types, cmc_tid t, json_t *j, unsigned depth);

static void print_seq(FILE *o, cmc_types *types, json_t *a, const cmc_field *fields, cmc_tid elem, bool named,
                      const char *open, const char *close, unsigned depth) {
  fputs(open, o);
  for (size_t i = 0; i < json_array_size(a); i++) {
    if (i) fputs(", ", o);
    json_t *v = json_array_get(a, i);
    if (named) {
      fprintf(o, "%s: ", fields[i].name);
      v = json_array_get(v, 1);
    }
    print(o, types, fields ? fields[i].type : elem, v, depth + 1);
  }
  fputs(close, o);
}

static void print_payload(FILE *o, cmc_types *types, cmc_tid c, json_t *p, unsigned depth) {
  if (c == CMC_NONE || !p || json_is_null(p)) return;
  fputc('(', o);
  print(o, types, c, p, depth + 1);
  fputc(')', o);
}

static void print(FILE *o, cmc_types *types, cmc_tid t, json_t *j, unsigned depth) {
  const cmc_type *ty = &types->v[t];
  json_t *v = json_object_get(j, "value");
  if (depth > MAX_DEPTH) return;
  switch (ty->kind) {
  case CMC_T_PRIM:
    if (ty->prim == CMC_BOOL) fprintf(o, json_is_true(v) ? "true" : "false");
    else if (ty->prim == CMC_STRING) print_string(o, json_string_value(v), json_string_length(v), '"');
    else if (ty->prim == CMC_CHAR) print_string(o, json_string_value(v), json_string_length(v), '\'');
    else if (ty->prim == CMC_F32 || ty->prim == CMC_F64) print_float(o, ty, json_string_value(v));
    else fputs(json_string_value(v), o);
    return;
  case CMC_T_LIST:
  case CMC_T_FIXLIST: print_seq(o, types, v, NULL, ty->a, false, "[", "]", depth); return;
  case CMC_T_TUPLE: print_seq(o, types, v, ty->fields, CMC_NONE, false, "(", ")", depth); return;
  case CMC_T_RECORD: print_seq(o, types, v, ty->fields, CMC_NONE, true, "{", "}", depth); return;
  case CMC_T_ENUM: fputs(json_string_value(v), o); return;
  case CMC_T_VARIANT: {
    const char *c = json_string_value(json_object_get(v, "case"));
    int i = case_of(ty, c ? c : "");
    fputs(c ? c : "?", o);
    if (i >= 0) print_payload(o, types, ty->fields[i].type, json_object_get(v, "payload"), depth);
    return;
  }
  case CMC_T_OPTION:
    if (json_is_null(v)) {
      fputs("none", o);
      return;
    }
    fputs("some", o);
    print_payload(o, types, ty->a, v, depth);
    return;
  case CMC_T_RESULT: {
    json_t *ok = json_object_get(v, "Ok");
    fputs(ok ? "ok" : "err", o);
    print_payload(o, types, ok ? ty->a : ty->b, ok ? ok : json_object_get(v, "Err"), depth);
    return;
  }
  case CMC_T_FLAGS:
    fputc('{', o);
    for (size_t i = 0; i < json_array_size(v); i++)
      fprintf(o, "%s%s", i ? ", " : "", json_string_value(json_array_get(v, i)));
    fputc('}', o);
    return;
  default: fprintf(o, "<%s>", cmc_type_desc(types, t)); return;
  }
}

/* name(args): the arguments of `call` (after the name) parsed by ft */
json_t *wave_parse_args(const char *text, size_t offset, const cma_functype *ft, char *err,
                        size_t n) {
  wave w = {text + offset, ft->types, {0}, text};
  json_t *a = json_array();
  if (!eat(&w, '(')) {
    snprintf(err, n, "expected `(` after the function name");
    json_decref(a);
    return NULL;
  }
  for (uint32_t i = 0; a && i < ft->nparams; i++) {
    if (i > 0 && !eat(&w, ',')) {
      (void)fail(&w, "`,` before the next argument");
      break;
    }
    json_t *v = parse(&w, ft->params[i].type, 0);
    if (!v) break;
    json_array_append_new(a, v);
  }
  if (json_array_size(a) == ft->nparams) {
    (void)eat(&w, ',');
    if (eat(&w, ')') && (skip_ws(&w), !*w.p)) return a;
    (void)fail(&w, "`)` ending the call");
  }
  snprintf(err, n, "%s", w.err[0] ? w.err : "bad arguments");
  json_decref(a);
  return NULL;
}

void wave_print(FILE *o, cmc_types *types, cmc_tid t, json_t *j) { print(o, types, t, j, 0); }
