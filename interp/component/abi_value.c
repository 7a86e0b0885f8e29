/* Component values: the value heap and the JSON schema of the harness
 * (harness/engines/PROTOCOL.md "Component values"). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "component/abi.h"
#include "component/types.h"

/* ---- heap ---- */

struct cma_heap_block {
  cma_heap_block *next;
  size_t size, used;
  _Alignas(16) uint8_t data[];
};

#define HEAP_CHUNK ((size_t)64 * 1024)

static cma_heap_block *new_block(cma_heap *h, size_t size) {
  cma_heap_block *b = malloc(sizeof *b + size);
  if (!b) return NULL;
  b->size = size;
  b->used = 0;
  b->next = h->head;
  h->head = b;
  return b;
}

void *cma_heap_alloc_raw(cma_heap *h, size_t size) {
  size = (size + 15) & ~(size_t)15;
  if (size > HEAP_CHUNK / 4) { /* a block of its own, behind the current chunk */
    cma_heap_block *b = malloc(sizeof *b + size);
    if (!b) return NULL;
    b->size = b->used = size;
    if (h->head) {
      b->next = h->head->next;
      h->head->next = b;
    } else {
      b->next = NULL;
      h->head = b;
    }
    return b->data;
  }
  cma_heap_block *b = h->head;
  if (!b || b->size - b->used < size) b = new_block(h, HEAP_CHUNK);
  if (!b) return NULL;
  void *p = b->data + b->used;
  b->used += size;
  return p;
}

void *cma_heap_alloc(cma_heap *h, size_t size) {
  void *p = cma_heap_alloc_raw(h, size);
  if (p) memset(p, 0, size);
  return p;
}

void cma_heap_free(cma_heap *h) {
  cma_heap_block *b = h->head;
  while (b) {
    cma_heap_block *n = b->next;
    free(b);
    b = n;
  }
  h->head = NULL;
}

/* ---- JSON -> value ---- */

static bool bad(cm_error *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static bool bad(cm_error *err, const char *fmt, ...) {
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    err->kind = CMREF_INTERNAL;
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
  }
  return false;
}

static bool json_uint(json_t *j, uint64_t max, uint64_t *out) {
  if (json_is_integer(j)) {
    json_int_t v = json_integer_value(j);
    if (v < 0 || (uint64_t)v > max) return false;
    *out = (uint64_t)v;
    return true;
  }
  if (!json_is_string(j)) return false;
  const char *s = json_string_value(j);
  if (!*s || *s == '-' || *s == '+') return false;
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || *end || v > max) return false;
  *out = v;
  return true;
}

static bool json_sint(json_t *j, int64_t min, int64_t max, uint64_t *out) {
  long long v;
  if (json_is_integer(j)) {
    v = json_integer_value(j);
  } else {
    if (!json_is_string(j)) return false;
    const char *s = json_string_value(j);
    if (!*s) return false;
    char *end;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || *end) return false;
  }
  if (v < min || v > max) return false;
  *out = (uint64_t)(int64_t)v;
  return true;
}

/* the code point of a one-code-point UTF-8 string */
static bool one_code_point(const char *s, size_t n, uint32_t *out) {
  const uint8_t *b = (const uint8_t *)s;
  uint32_t c, len;
  if (n == 0) return false;
  if (b[0] < 0x80) { c = b[0]; len = 1; }
  else if ((b[0] & 0xE0) == 0xC0) { c = b[0] & 0x1F; len = 2; }
  else if ((b[0] & 0xF0) == 0xE0) { c = b[0] & 0x0F; len = 3; }
  else if ((b[0] & 0xF8) == 0xF0) { c = b[0] & 0x07; len = 4; }
  else return false;
  if (n != len) return false;
  for (uint32_t k = 1; k < len; k++) c = c << 6 | (b[k] & 0x3F);
  if (c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return false;
  *out = c;
  return true;
}

static int label_index(const cmc_type *t, const char *name) {
  for (uint32_t i = 0; i < t->n; i++)
    if (t->fields[i].name && strcmp(t->fields[i].name, name) == 0) return (int)i;
  return -1;
}

static bool from_json(cmc_types *types, cmc_tid t, json_t *j, cma_heap *h, cma_val *out,
                      cm_error *err, unsigned depth);

static bool list_from_json(cmc_types *types, cmc_tid elem, json_t *j, uint32_t want, cma_heap *h,
                           cma_val *out, cm_error *err, unsigned depth) {
  if (!json_is_array(j)) return bad(err, "expected a JSON array for a list");
  size_t n = json_array_size(j);
  if (want && n != want) return bad(err, "fixed-length list of %u elements given %zu", want, n);
  cma_val *a = cma_heap_alloc(h, (n ? n : 1) * sizeof *a);
  if (!a) return bad(err, "out of memory");
  for (size_t i = 0; i < n; i++)
    if (!from_json(types, elem, json_array_get(j, i), h, &a[i], err, depth + 1)) return false;
  out->u.agg.v = a;
  out->u.agg.n = (uint32_t)n;
  return true;
}

static bool fields_from_json(cmc_types *types, const cmc_type *ty, json_t *j, bool pairs,
                             cma_heap *h, cma_val *out, cm_error *err, unsigned depth) {
  if (!json_is_array(j) || json_array_size(j) != ty->n)
    return bad(err, "expected a JSON array of %u members", ty->n);
  cma_val *a = cma_heap_alloc(h, (ty->n ? ty->n : 1) * sizeof *a);
  if (!a) return bad(err, "out of memory");
  for (uint32_t i = 0; i < ty->n; i++) {
    json_t *m = json_array_get(j, i);
    if (pairs) {
      if (!json_is_array(m) || json_array_size(m) != 2) return bad(err, "record field: expected [name, value]");
      m = json_array_get(m, 1);
    }
    if (!from_json(types, ty->fields[i].type, m, h, &a[i], err, depth + 1)) return false;
  }
  out->u.agg.v = a;
  out->u.agg.n = ty->n;
  return true;
}

static bool payload_from_json(cmc_types *types, cmc_tid c, json_t *j, cma_heap *h, cma_val *out,
                              cm_error *err, unsigned depth) {
  out->u.var.payload = NULL;
  if (c == CMC_NONE) {
    if (j && !json_is_null(j)) return bad(err, "a case without payload given one");
    return true;
  }
  if (!j) return bad(err, "a case with a payload given none");
  cma_val *p = cma_heap_alloc(h, sizeof *p);
  if (!p) return bad(err, "out of memory");
  out->u.var.payload = p;
  return from_json(types, c, j, h, p, err, depth + 1);
}

static bool from_json(cmc_types *types, cmc_tid t, json_t *j, cma_heap *h, cma_val *out,
                      cm_error *err, unsigned depth) {
  if (depth > CMC_HARD_DEPTH) return bad(err, "value nested too deeply");
  if (!json_is_object(j) || !json_object_get(j, "type") || !json_object_get(j, "value"))
    return bad(err, "expected a value {\"type\": .., \"value\": ..}");
  j = json_object_get(j, "value");
  const cmc_type *ty = &types->v[t];
  memset(out, 0, sizeof *out);
  switch (ty->kind) {
  case CMC_T_PRIM:
    switch (ty->prim) {
    case CMC_BOOL:
      if (!json_is_boolean(j)) return bad(err, "expected a JSON boolean");
      out->u.i = json_is_true(j);
      return true;
    case CMC_U8: return json_uint(j, UINT8_MAX, &out->u.i) || bad(err, "bad u8");
    case CMC_U16: return json_uint(j, UINT16_MAX, &out->u.i) || bad(err, "bad u16");
    case CMC_U32: return json_uint(j, UINT32_MAX, &out->u.i) || bad(err, "bad u32");
    case CMC_U64: return json_uint(j, UINT64_MAX, &out->u.i) || bad(err, "bad u64");
    case CMC_S8: return json_sint(j, INT8_MIN, INT8_MAX, &out->u.i) || bad(err, "bad s8");
    case CMC_S16: return json_sint(j, INT16_MIN, INT16_MAX, &out->u.i) || bad(err, "bad s16");
    case CMC_S32: return json_sint(j, INT32_MIN, INT32_MAX, &out->u.i) || bad(err, "bad s32");
    case CMC_S64: return json_sint(j, INT64_MIN, INT64_MAX, &out->u.i) || bad(err, "bad s64");
    case CMC_F32: {
      uint64_t bits;
      if (!json_uint(j, UINT32_MAX, &bits)) return bad(err, "bad f32 bit pattern");
      out->u.f32 = (uint32_t)bits;
      return true;
    }
    case CMC_F64: return json_uint(j, UINT64_MAX, &out->u.f64) || bad(err, "bad f64 bit pattern");
    case CMC_CHAR: {
      uint32_t c;
      if (!json_is_string(j) || !one_code_point(json_string_value(j), json_string_length(j), &c))
        return bad(err, "expected a string of one code point for a char");
      out->u.i = c;
      return true;
    }
    case CMC_STRING: {
      if (!json_is_string(j)) return bad(err, "expected a JSON string");
      size_t n = json_string_length(j);
      uint8_t *b = cma_heap_alloc_raw(h, n ? n : 1);
      if (!b) return bad(err, "out of memory");
      memcpy(b, json_string_value(j), n);
      out->u.s = (cma_string){b, n, CMA_UTF8, n, NULL, 0};
      return true;
    }
    default: return bad(err, "%s values cannot be written in JSON", cmc_prim_name(ty->prim));
    }
  case CMC_T_LIST: return list_from_json(types, ty->a, j, 0, h, out, err, depth);
  case CMC_T_FIXLIST: return list_from_json(types, ty->a, j, ty->len, h, out, err, depth);
  case CMC_T_RECORD: return fields_from_json(types, ty, j, true, h, out, err, depth);
  case CMC_T_TUPLE: return fields_from_json(types, ty, j, false, h, out, err, depth);
  case CMC_T_VARIANT: {
    json_t *c = json_object_get(j, "case");
    int i = json_is_string(c) ? label_index(ty, json_string_value(c)) : -1;
    if (i < 0) return bad(err, "unknown variant case");
    out->u.var.index = (uint32_t)i;
    return payload_from_json(types, ty->fields[i].type, json_object_get(j, "payload"), h, out, err, depth);
  }
  case CMC_T_ENUM: {
    int i = json_is_string(j) ? label_index(ty, json_string_value(j)) : -1;
    if (i < 0) return bad(err, "unknown enum case");
    out->u.var.index = (uint32_t)i;
    return true;
  }
  case CMC_T_OPTION:
    out->u.var.index = !json_is_null(j);
    return payload_from_json(types, out->u.var.index ? ty->a : CMC_NONE,
                             json_is_null(j) ? NULL : j, h, out, err, depth);
  case CMC_T_RESULT: {
    json_t *ok = json_object_get(j, "Ok"), *e = json_object_get(j, "Err");
    if (!json_is_object(j) || (ok != NULL) == (e != NULL)) return bad(err, "expected {\"Ok\": ..} or {\"Err\": ..}");
    out->u.var.index = ok ? 0 : 1;
    cmc_tid c = ok ? ty->a : ty->b;
    json_t *p = ok ? ok : e;
    return payload_from_json(types, c, c == CMC_NONE ? NULL : p, h, out, err, depth);
  }
  case CMC_T_FLAGS: {
    if (!json_is_array(j)) return bad(err, "expected an array of flag names");
    for (size_t k = 0; k < json_array_size(j); k++) {
      json_t *n = json_array_get(j, k);
      int i = json_is_string(n) ? label_index(ty, json_string_value(n)) : -1;
      if (i < 0 || i >= 32) return bad(err, "unknown flag");
      out->u.flags |= UINT32_C(1) << i;
    }
    return true;
  }
  case CMC_T_OWN:
  case CMC_T_BORROW: {
    uint64_t rep;
    if (!json_uint(j, UINT32_MAX, &rep)) return bad(err, "bad handle");
    out->u.handle.rep = (uint32_t)rep;
    return true;
  }
  default: return bad(err, "%s values cannot be written in JSON", cmc_type_desc(types, t));
  }
}

bool cma_val_from_json(cmc_types *types, cmc_tid t, json_t *j, cma_heap *h, cma_val *out,
                       cm_error *err) {
  return from_json(types, t, j, h, out, err, 0);
}

/* ---- value -> JSON ---- */

static json_t *decimal(uint64_t v, bool is_signed) {
  char buf[32];
  if (is_signed) snprintf(buf, sizeof buf, "%" PRId64, (int64_t)v);
  else snprintf(buf, sizeof buf, "%" PRIu64, v);
  return json_string(buf);
}

static json_t *to_json(cmc_types *types, cmc_tid t, const cma_val *v, unsigned depth);
static const char *type_name(cmc_types *types, cmc_tid t);

/* the element i of a list value (packed lists hold little-endian integers) */
static cma_val elem_of(cmc_types *types, cmc_tid elem, const cma_val *v, uint32_t i) {
  if (!cma_list_raw(v)) return v->u.agg.v[i];
  cma_val e;
  uint64_t es = types->v[elem].size[0], x = 0;
  const uint8_t *p = cma_list_raw(v) + i * es;
  for (uint64_t k = 0; k < es; k++) x |= (uint64_t)p[k] << (8 * k);
  uint8_t prim = types->v[elem].prim;
  bool s = prim == CMC_S8 || prim == CMC_S16 || prim == CMC_S32;
  if (s && (x >> (8 * es - 1)) & 1) x |= ~UINT64_C(0) << (8 * es);
  e.u.i = x;
  return e;
}

static json_t *push_new(json_t *arr, json_t *item) {
  if (!arr || !item || json_array_append_new(arr, item) != 0) {
    json_decref(arr);
    return NULL;
  }
  return arr;
}

static json_t *utf8_string_json(const cma_string *str) {
  cma_string view = *str, *s = &view;
  view.bytes = cma_string_bytes(str);
  /* convert from the lifted encoding to UTF-8 */
  uint64_t tag = UINT64_C(1) << 31;
  bool utf16 = s->encoding == CMA_UTF16 ||
               (s->encoding == CMA_LATIN1_UTF16 && (s->tagged_code_units & (tag | (tag << 32))));
  if (s->encoding == CMA_UTF8) return json_stringn((const char *)s->bytes, s->nbytes);
  char *buf = malloc(s->nbytes * 2 + 1);
  if (!buf) return NULL;
  size_t n = 0;
  for (uint64_t at = 0; at < s->nbytes;) {
    uint32_t c;
    if (!utf16) {
      c = s->bytes[at++];
    } else {
      c = s->bytes[at] | (uint32_t)s->bytes[at + 1] << 8;
      at += 2;
      if (c >= 0xD800 && c <= 0xDBFF && at + 2 <= s->nbytes) {
        uint32_t w = s->bytes[at] | (uint32_t)s->bytes[at + 1] << 8;
        c = 0x10000 + ((c - 0xD800) << 10) + (w - 0xDC00);
        at += 2;
      }
    }
    if (c < 0x80) buf[n++] = (char)c;
    else if (c < 0x800) { buf[n++] = (char)(0xC0 | c >> 6); buf[n++] = (char)(0x80 | (c & 0x3F)); }
    else if (c < 0x10000) {
      buf[n++] = (char)(0xE0 | c >> 12);
      buf[n++] = (char)(0x80 | ((c >> 6) & 0x3F));
      buf[n++] = (char)(0x80 | (c & 0x3F));
    } else {
      buf[n++] = (char)(0xF0 | c >> 18);
      buf[n++] = (char)(0x80 | ((c >> 12) & 0x3F));
      buf[n++] = (char)(0x80 | ((c >> 6) & 0x3F));
      buf[n++] = (char)(0x80 | (c & 0x3F));
    }
  }
  json_t *j = json_stringn(buf, n);
  free(buf);
  return j;
}

static json_t *prim_json(const cmc_type *ty, const cma_val *v) {
  switch (ty->prim) {
  case CMC_BOOL: return json_boolean(v->u.i != 0);
  case CMC_S8: case CMC_S16: case CMC_S32: case CMC_S64: return decimal(v->u.i, true);
  case CMC_U8: case CMC_U16: case CMC_U32: case CMC_U64: return decimal(v->u.i, false);
  case CMC_F32: return decimal(v->u.f32, false);
  case CMC_F64: return decimal(v->u.f64, false);
  case CMC_CHAR: {
    cma_string s;
    uint8_t b[4];
    uint32_t c = (uint32_t)v->u.i, n;
    if (c < 0x80) { b[0] = (uint8_t)c; n = 1; }
    else if (c < 0x800) { b[0] = (uint8_t)(0xC0 | c >> 6); b[1] = (uint8_t)(0x80 | (c & 0x3F)); n = 2; }
    else if (c < 0x10000) {
      b[0] = (uint8_t)(0xE0 | c >> 12); b[1] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
      b[2] = (uint8_t)(0x80 | (c & 0x3F)); n = 3;
    } else {
      b[0] = (uint8_t)(0xF0 | c >> 18); b[1] = (uint8_t)(0x80 | ((c >> 12) & 0x3F));
      b[2] = (uint8_t)(0x80 | ((c >> 6) & 0x3F)); b[3] = (uint8_t)(0x80 | (c & 0x3F)); n = 4;
    }
    s = (cma_string){b, n, CMA_UTF8, n, NULL, 0};
    return utf8_string_json(&s);
  }
  case CMC_STRING: return utf8_string_json(&v->u.s);
  default: return NULL;
  }
}

static json_t *inner_json(cmc_types *types, cmc_tid t, const cma_val *v, unsigned depth) {
  if (depth > CMC_HARD_DEPTH) return NULL;
  const cmc_type *ty = &types->v[t];
  json_t *a;
  switch (ty->kind) {
  case CMC_T_PRIM: return prim_json(ty, v);
  case CMC_T_LIST:
  case CMC_T_FIXLIST:
    a = json_array();
    for (uint32_t i = 0; a && i < v->u.agg.n; i++) {
      cma_val e = elem_of(types, ty->a, v, i);
      a = push_new(a, to_json(types, ty->a, &e, depth + 1));
    }
    return a;
  case CMC_T_RECORD:
    a = json_array();
    for (uint32_t i = 0; a && i < ty->n; i++)
      a = push_new(a, json_pack("[s o]", ty->fields[i].name,
                                to_json(types, ty->fields[i].type, &v->u.agg.v[i], depth + 1)));
    return a;
  case CMC_T_TUPLE:
    a = json_array();
    for (uint32_t i = 0; a && i < ty->n; i++)
      a = push_new(a, to_json(types, ty->fields[i].type, &v->u.agg.v[i], depth + 1));
    return a;
  case CMC_T_VARIANT: {
    const cmc_field *c = &ty->fields[v->u.var.index];
    if (c->type == CMC_NONE) return json_pack("{s s}", "case", c->name);
    return json_pack("{s s s o}", "case", c->name, "payload",
                     to_json(types, c->type, v->u.var.payload, depth + 1));
  }
  case CMC_T_ENUM: return json_string(ty->fields[v->u.var.index].name);
  case CMC_T_OPTION:
    if (v->u.var.index == 0) return json_null();
    return to_json(types, ty->a, v->u.var.payload, depth + 1);
  case CMC_T_RESULT: {
    cmc_tid c = v->u.var.index == 0 ? ty->a : ty->b;
    json_t *p = c == CMC_NONE ? json_null() : to_json(types, c, v->u.var.payload, depth + 1);
    return json_pack("{s o}", v->u.var.index == 0 ? "Ok" : "Err", p);
  }
  case CMC_T_FLAGS:
    a = json_array();
    for (uint32_t i = 0; a && i < ty->n && i < 32; i++)
      if (v->u.flags >> i & 1) a = push_new(a, json_string(ty->fields[i].name));
    return a;
  case CMC_T_OWN:
  case CMC_T_BORROW: return decimal(v->u.handle.rep, false);
  default: return NULL;
  }
}

static const char *type_name(cmc_types *types, cmc_tid t) {
  const cmc_type *ty = &types->v[t];
  return ty->kind == CMC_T_PRIM ? cmc_prim_name(ty->prim) : cmc_type_desc(types, t);
}

/* {"type": T, "value": V} */
static json_t *to_json(cmc_types *types, cmc_tid t, const cma_val *v, unsigned depth) {
  json_t *j = inner_json(types, t, v, depth);
  if (!j) return NULL;
  return json_pack("{s s s o}", "type", type_name(types, t), "value", j);
}

json_t *cma_val_to_json(cmc_types *types, cmc_tid t, const cma_val *v) {
  return to_json(types, t, v, 0);
}
