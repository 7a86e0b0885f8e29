/* cmref core: a bounded byte reader with the binary format's primitive decoders (spec 5.2).
 *
 * Used by the decoder, the validator and the execution pre-decoder to read instructions
 * from cm_module.bytes. Every read checks the bytes left; on failure it returns false and
 * fills err with CMREF_MALFORMED and the suite's wording ("unexpected end",
 * "integer representation too long", "integer too large").
 */
#ifndef CM_CORE_READER_H
#define CM_CORE_READER_H

#include "module.h"

typedef struct cm_reader {
  const uint8_t *base; /* start of the whole binary (for offsets in messages) */
  const uint8_t *p;    /* next byte */
  const uint8_t *end;  /* one past the last readable byte */
} cm_reader;

static inline cm_reader cm_reader_at(const cm_module *m, cm_expr e) {
  cm_reader r = {m->bytes, m->bytes + e.offset, m->bytes + e.offset + e.len};
  return r;
}

static inline size_t cm_reader_left(const cm_reader *r) { return (size_t)(r->end - r->p); }
static inline bool cm_reader_eof(const cm_reader *r) { return r->p >= r->end; }
static inline uint32_t cm_reader_offset(const cm_reader *r) { return (uint32_t)(r->p - r->base); }

bool cm_read_byte(cm_reader *r, uint8_t *out, cm_error *err);
bool cm_read_bytes(cm_reader *r, size_t n, const uint8_t **out, cm_error *err);
/* Unsigned/signed LEB128 of at most N bits (spec 5.2.2), with the suite's messages. */
bool cm_read_u32(cm_reader *r, uint32_t *out, cm_error *err);
bool cm_read_u64(cm_reader *r, uint64_t *out, cm_error *err);
bool cm_read_s32(cm_reader *r, int32_t *out, cm_error *err);
bool cm_read_s33(cm_reader *r, int64_t *out, cm_error *err);
bool cm_read_s64(cm_reader *r, int64_t *out, cm_error *err);
bool cm_read_f32(cm_reader *r, uint32_t *bits, cm_error *err);
bool cm_read_f64(cm_reader *r, uint64_t *bits, cm_error *err);
/* A value type / reference type byte; "malformed value type" / "malformed reference type". */
bool cm_read_valtype(cm_reader *r, cm_valtype *out, cm_error *err);
bool cm_read_reftype(cm_reader *r, cm_valtype *out, cm_error *err);
/* A block type (spec 5.4.1): 0x40, a value type, or a positive s33 type index. */
bool cm_read_blocktype(cm_reader *r, cm_blocktype *out, cm_error *err);
/* memarg (spec 5.4.7) with multi-memory: flags bit 6 says a memory index follows. */
typedef struct cm_memarg {
  uint32_t align; /* log2 */
  uint32_t memidx;
  uint64_t offset;
} cm_memarg;
bool cm_read_memarg(cm_reader *r, cm_memarg *out, cm_error *err);

#endif
