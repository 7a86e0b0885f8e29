/* Byte reader for the component binary format (Binary.md, reused core rules). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation" /* messages are truncated on purpose */
#endif
#include "component/reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool cmc_fail(cmc_error *err, cmref_errkind kind, const char *fmt, ...) {
  if (err->kind != CMREF_OK) return false; /* keep the first error */
  va_list ap;
  va_start(ap, fmt);
  err->kind = kind;
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  return false;
}

bool cmc_malformed(cmc_reader *r, const char *fmt, ...) {
  if (r->err->kind != CMREF_OK) return false;
  va_list ap;
  va_start(ap, fmt);
  r->err->kind = CMREF_MALFORMED;
  int n = vsnprintf(r->err->message, sizeof r->err->message, fmt, ap);
  va_end(ap);
  if (n >= 0 && (size_t)n < sizeof r->err->message)
    snprintf(r->err->message + n, sizeof r->err->message - (size_t)n, " (at offset 0x%zx)",
             (size_t)(r->p - r->base));
  return false;
}

size_t cmc_left(const cmc_reader *r) { return (size_t)(r->end - r->p); }

bool cmc_read_byte(cmc_reader *r, uint8_t *out) {
  if (r->p >= r->end) return cmc_malformed(r, "unexpected end-of-file");
  *out = *r->p++;
  return true;
}

bool cmc_peek_byte(cmc_reader *r, uint8_t *out) {
  if (r->p >= r->end) return cmc_malformed(r, "unexpected end-of-file");
  *out = *r->p;
  return true;
}

static bool read_uleb(cmc_reader *r, unsigned bits, uint64_t *out) {
  unsigned maxbytes = (bits + 6) / 7;
  uint64_t result = 0;
  for (unsigned i = 0;; i++) {
    uint8_t b = 0;
    if (!cmc_read_byte(r, &b)) return false;
    if (i == maxbytes - 1) {
      unsigned rem = bits - 7 * i; /* value bits the last byte may carry */
      if (b & 0x80) return cmc_malformed(r, "invalid var_u%u: integer representation too long", bits);
      if (rem < 7 && (b >> rem) != 0) return cmc_malformed(r, "invalid var_u%u: integer too large", bits);
      result |= (uint64_t)b << (7 * i);
      break;
    }
    result |= (uint64_t)(b & 0x7f) << (7 * i);
    if (!(b & 0x80)) break;
  }
  *out = result;
  return true;
}

bool cmc_read_u32(cmc_reader *r, uint32_t *out) {
  uint64_t v;
  if (!read_uleb(r, 32, &v)) return false;
  *out = (uint32_t)v;
  return true;
}

bool cmc_read_u64(cmc_reader *r, uint64_t *out) { return read_uleb(r, 64, out); }

bool cmc_read_s33(cmc_reader *r, int64_t *out) {
  int64_t result = 0;
  unsigned shift = 0;
  uint8_t b = 0;
  do {
    if (!cmc_read_byte(r, &b)) return false;
    if (shift >= 35) return cmc_malformed(r, "invalid var_s33: integer representation too long");
    result |= (int64_t)(b & 0x7f) << shift;
    shift += 7;
  } while (b & 0x80);
  if (shift < 64 && (b & 0x40)) result |= -((int64_t)1 << shift);
  if (result < -((int64_t)1 << 32) || result >= ((int64_t)1 << 32))
    return cmc_malformed(r, "invalid var_s33: integer too large");
  *out = result;
  return true;
}

bool cmc_read_bytes(cmc_reader *r, size_t n, const uint8_t **out) {
  if (n > cmc_left(r)) return cmc_malformed(r, "unexpected end-of-file");
  *out = r->p;
  r->p += n;
  return true;
}

bool cmc_utf8_valid(const uint8_t *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint8_t c = s[i];
    uint32_t cp = 0;
    size_t len;
    if (c < 0x80) { i++; continue; }
    if ((c & 0xe0) == 0xc0) { len = 2; cp = c & 0x1f; }
    else if ((c & 0xf0) == 0xe0) { len = 3; cp = c & 0x0f; }
    else if ((c & 0xf8) == 0xf0) { len = 4; cp = c & 0x07; }
    else return false;
    if (i + len > n) return false;
    for (size_t k = 1; k < len; k++) {
      if ((s[i + k] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3f);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += len;
  }
  return true;
}

void *cmc_alloc(cmc_reader *r, size_t n, size_t size) {
  if (n == 0) n = 1;
  if (size && n > SIZE_MAX / size) { cmc_fail(r->err, CMREF_MALFORMED, "allocation too large"); return NULL; }
  void *p = cmc_arena_alloc(r->arena, n * size);
  if (!p) cmc_fail(r->err, CMREF_MALFORMED, "out of memory");
  return p;
}

bool cmc_read_name(cmc_reader *r, const char **out) {
  uint32_t len = 0;
  return cmc_read_name_n(r, out, &len);
}

/* names may contain U+0000: *len is the full length (strlen stops at the first NUL) */
bool cmc_read_name_n(cmc_reader *r, const char **out, uint32_t *lenp) {
  uint32_t len = 0;
  const uint8_t *s = NULL;
  if (!cmc_read_u32(r, &len) || !cmc_read_bytes(r, len, &s)) return false;
  if (!cmc_utf8_valid(s, len)) return cmc_malformed(r, "malformed UTF-8 encoding");
  *lenp = len;
  char *c = cmc_alloc(r, (size_t)len + 1, 1);
  if (!c) return false;
  memcpy(c, s, len);
  c[len] = 0;
  *out = c;
  return true;
}

bool cmc_read_count(cmc_reader *r, uint32_t *out, size_t min_size) {
  if (!cmc_read_u32(r, out)) return false;
  if (min_size == 0) min_size = 1;
  if ((size_t)*out > cmc_left(r) / min_size) return cmc_malformed(r, "unexpected end-of-file");
  return true;
}

/* ---- arena ---- */
struct cmc_arena_chunk {
  cmc_arena_chunk *next;
  size_t size, used;
  _Alignas(16) unsigned char data[];
};

#define CMC_ARENA_LIMIT ((size_t)1 << 30)

void *cmc_arena_alloc(cmc_arena *a, size_t size) {
  size = (size + 15) & ~(size_t)15;
  if (size > CMC_ARENA_LIMIT || a->total + size > CMC_ARENA_LIMIT) return NULL;
  cmc_arena_chunk *c = a->head;
  if (!c || c->size - c->used < size) {
    size_t cs = size > 65536 ? size : 65536;
    c = malloc(sizeof *c + cs);
    if (!c) return NULL;
    c->next = a->head;
    c->size = cs;
    c->used = 0;
    a->head = c;
    a->total += cs;
  }
  void *p = c->data + c->used;
  c->used += size;
  memset(p, 0, size);
  return p;
}

void cmc_arena_free(cmc_arena *a) {
  cmc_arena_chunk *c = a->head;
  while (c) {
    cmc_arena_chunk *n = c->next;
    free(c);
    c = n;
  }
  a->head = NULL;
  a->total = 0;
}

void cmc_prefix_error(cmc_error *err, const char *prefix) {
  size_t pl = strlen(prefix), ml = strlen(err->message), cap = sizeof err->message - 1;
  if (pl + 2 > cap) pl = cap - 2;
  if (pl + 2 + ml > cap) ml = cap - pl - 2;
  memmove(err->message + pl + 2, err->message, ml);
  memcpy(err->message, prefix, pl);
  err->message[pl] = ':';
  err->message[pl + 1] = ' ';
  err->message[pl + 2 + ml] = 0;
}
