/* Primitive decoders of the binary format (spec 5.2): bytes, LEB128 integers, floats,
 * value types, block types, memargs. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/reader.h"

bool cm_error_set(cm_error *err, cmref_errkind kind, const char *fmt, ...) {
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    err->kind = kind;
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
  }
  return false;
}

static bool unexpected_end(cm_reader *r, cm_error *err) {
  return cm_error_set(err, CMREF_MALFORMED, "unexpected end of section or function (at offset %u)",
                      cm_reader_offset(r));
}

bool cm_read_byte(cm_reader *r, uint8_t *out, cm_error *err) {
  if (r->p >= r->end) return unexpected_end(r, err);
  *out = *r->p++;
  return true;
}

bool cm_read_bytes(cm_reader *r, size_t n, const uint8_t **out, cm_error *err) {
  if (cm_reader_left(r) < n) return unexpected_end(r, err);
  *out = r->p;
  r->p += n;
  return true;
}

/* Reads an LEB128 of at most `bits` bits (spec 5.2.2): at most ceil(bits/7) bytes, and the
 * unused bits of the last byte must be zero (unsigned) or the sign extension (signed). */
static bool read_leb(cm_reader *r, unsigned bits, bool is_signed, uint64_t *out, cm_error *err) {
  uint64_t result = 0;
  unsigned shift = 0;
  unsigned maxbytes = (bits + 6) / 7;
  for (unsigned i = 0;; i++) {
    uint8_t b = 0;
    if (!cm_read_byte(r, &b, err)) return false;
    if (i == maxbytes - 1) {
      if (b & 0x80)
        return cm_error_set(err, CMREF_MALFORMED, "integer representation too long");
      unsigned used = bits - shift; /* payload bits allowed in this byte */
      uint8_t unused = (uint8_t)(b & 0x7F) >> used;
      if (!is_signed) {
        if (unused != 0) return cm_error_set(err, CMREF_MALFORMED, "integer too large");
      } else {
        bool neg = (b >> (used - 1)) & 1;
        uint8_t want = neg ? (uint8_t)(0x7F >> used) : 0;
        if (unused != want) return cm_error_set(err, CMREF_MALFORMED, "integer too large");
      }
    }
    result |= (uint64_t)(b & 0x7F) << shift;
    shift += 7;
    if (!(b & 0x80)) {
      if (is_signed && shift < 64 && (b & 0x40)) result |= ~(uint64_t)0 << shift;
      break;
    }
  }
  *out = result;
  return true;
}

bool cm_read_u32(cm_reader *r, uint32_t *out, cm_error *err) {
  uint64_t v;
  if (!read_leb(r, 32, false, &v, err)) return false;
  *out = (uint32_t)v;
  return true;
}

bool cm_read_u64(cm_reader *r, uint64_t *out, cm_error *err) {
  return read_leb(r, 64, false, out, err);
}

bool cm_read_s32(cm_reader *r, int32_t *out, cm_error *err) {
  uint64_t v;
  if (!read_leb(r, 32, true, &v, err)) return false;
  *out = (int32_t)(uint32_t)v;
  return true;
}

bool cm_read_s33(cm_reader *r, int64_t *out, cm_error *err) {
  uint64_t v;
  if (!read_leb(r, 33, true, &v, err)) return false;
  *out = (int64_t)v;
  return true;
}

bool cm_read_s64(cm_reader *r, int64_t *out, cm_error *err) {
  uint64_t v;
  if (!read_leb(r, 64, true, &v, err)) return false;
  *out = (int64_t)v;
  return true;
}

bool cm_read_f32(cm_reader *r, uint32_t *bits, cm_error *err) {
  const uint8_t *p = NULL;
  if (!cm_read_bytes(r, 4, &p, err)) return false;
  *bits = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
  return true;
}

bool cm_read_f64(cm_reader *r, uint64_t *bits, cm_error *err) {
  const uint8_t *p = NULL;
  if (!cm_read_bytes(r, 8, &p, err)) return false;
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
  *bits = v;
  return true;
}

bool cm_valtype_is_num(cm_valtype t) {
  return t == CM_I32 || t == CM_I64 || t == CM_F32 || t == CM_F64 || t == CM_V128;
}

/* The nullable abstract reference types (binary shorthands). */
static bool is_nullable_ref(cm_valtype t) {
  return t == CM_FUNCREF || t == CM_EXTERNREF || t == CM_EXNREF || t == CM_I31REF;
}

bool cm_valtype_is_nonnull(cm_valtype t) {
  return t == CM_REF_FUNC || t == CM_REF_EXTERN || t == CM_REF_EXN || t == CM_REF_I31;
}

bool cm_valtype_is_ref(cm_valtype t) { return is_nullable_ref(t) || cm_valtype_is_nonnull(t); }

bool cm_valtype_is_typed_ref(cm_valtype t) { return t == CM_I31REF || cm_valtype_is_nonnull(t); }

bool cm_valtype_matches(cm_valtype t1, cm_valtype t2) {
  if (t1 == t2 || t1 == CM_VALTYPE_BOT || t2 == CM_VALTYPE_BOT) return true;
  return cm_valtype_is_nonnull(t1) && t1 + CM_REF_NONNULL_DELTA == t2;
}

const char *cm_valtype_name(cm_valtype t) {
  switch (t) {
  case CM_I32: return "i32";
  case CM_I64: return "i64";
  case CM_F32: return "f32";
  case CM_F64: return "f64";
  case CM_V128: return "v128";
  case CM_FUNCREF: return "funcref";
  case CM_EXTERNREF: return "externref";
  case CM_EXNREF: return "exnref";
  case CM_I31REF: return "i31ref";
  case CM_REF_FUNC: return "(ref func)";
  case CM_REF_EXTERN: return "(ref extern)";
  case CM_REF_EXN: return "(ref exn)";
  case CM_REF_I31: return "(ref i31)";
  default: return "unknown";
  }
}

/* After 0x63 (ref null ht) / 0x64 (ref ht): the heap type, an s33. Abstract heap types are
 * the shorthands' bytes; concrete type indices are not supported. */
static bool read_heaptype_ref(cm_reader *r, bool nullable, cm_valtype *out, cm_error *err) {
  uint8_t b = 0;
  if (cm_reader_eof(r)) return unexpected_end(r, err);
  b = *r->p;
  if (!is_nullable_ref(b)) {
    int64_t idx;
    if (!cm_read_s33(r, &idx, err)) return false;
    if (idx >= 0)
      return cm_error_set(err, CMREF_MALFORMED,
                          "reference to concrete type %lld is not supported", (long long)idx);
    return cm_error_set(err, CMREF_MALFORMED, "malformed heap type 0x%02x", b);
  }
  r->p++;
  *out = nullable ? b : (cm_valtype)(b - CM_REF_NONNULL_DELTA);
  return true;
}

/* A reference type: a shorthand byte or 0x63/0x64 ht; false without error if the byte
 * starts no reference type. */
static bool read_ref(cm_reader *r, uint8_t b, cm_valtype *out, cm_error *err) {
  if (b == 0x63 || b == 0x64) return read_heaptype_ref(r, b == 0x63, out, err);
  *out = b;
  return true;
}

bool cm_read_valtype(cm_reader *r, cm_valtype *out, cm_error *err) {
  uint8_t b = 0;
  if (!cm_read_byte(r, &b, err)) return false;
  if (!cm_valtype_is_num(b) && !is_nullable_ref(b) && b != 0x63 && b != 0x64)
    return cm_error_set(err, CMREF_MALFORMED, "malformed value type 0x%02x", b);
  return read_ref(r, b, out, err);
}

bool cm_read_reftype(cm_reader *r, cm_valtype *out, cm_error *err) {
  uint8_t b = 0;
  if (!cm_read_byte(r, &b, err)) return false;
  if (!is_nullable_ref(b) && b != 0x63 && b != 0x64)
    return cm_error_set(err, CMREF_MALFORMED, "malformed reference type 0x%02x", b);
  return read_ref(r, b, out, err);
}

bool cm_read_blocktype(cm_reader *r, cm_blocktype *out, cm_error *err) {
  if (cm_reader_eof(r)) return unexpected_end(r, err);
  uint8_t b = *r->p;
  if (b == 0x40) {
    r->p++;
    out->kind = CM_BLOCK_EMPTY;
    return true;
  }
  if (cm_valtype_is_num(b) || is_nullable_ref(b) || b == 0x63 || b == 0x64) {
    out->kind = CM_BLOCK_VAL;
    return cm_read_valtype(r, &out->val, err);
  }
  int64_t idx;
  if (!cm_read_s33(r, &idx, err)) return false;
  if (idx < 0) return cm_error_set(err, CMREF_MALFORMED, "malformed block type");
  out->kind = CM_BLOCK_TYPEIDX;
  out->typeidx = idx > UINT32_MAX ? UINT32_MAX : (uint32_t)idx;
  return true;
}

bool cm_read_memarg(cm_reader *r, cm_memarg *out, cm_error *err) {
  uint32_t flags;
  if (!cm_read_u32(r, &flags, err)) return false;
  out->memidx = 0;
  if (flags & 0x40) {
    flags &= ~0x40u;
    if (!cm_read_u32(r, &out->memidx, err)) return false;
  }
  out->align = flags;
  uint32_t offset; /* memory64 would read a u64 here */
  if (!cm_read_u32(r, &offset, err)) return false;
  out->offset = offset;
  return true;
}
