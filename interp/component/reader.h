/* Byte reader for the component binary format: LEB128, names, vectors. Every read
 * checks the bytes left; a failure records a CMREF_MALFORMED error and returns false. */
#ifndef CMC_READER_H
#define CMC_READER_H

#include <stdarg.h>

#include "component/component.h"

typedef struct cmc_reader {
  const uint8_t *p, *end;
  const uint8_t *base; /* for offsets in messages */
  cmc_error *err;
  cmc_arena *arena;
} cmc_reader;

bool cmc_fail(cmc_error *err, cmref_errkind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool cmc_malformed(cmc_reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

size_t cmc_left(const cmc_reader *r);
bool cmc_read_byte(cmc_reader *r, uint8_t *out);
bool cmc_peek_byte(cmc_reader *r, uint8_t *out);
bool cmc_read_u32(cmc_reader *r, uint32_t *out);
bool cmc_read_u64(cmc_reader *r, uint64_t *out);
bool cmc_read_s33(cmc_reader *r, int64_t *out);
bool cmc_read_bytes(cmc_reader *r, size_t n, const uint8_t **out);
/* a name: u32 length, UTF-8 bytes; returned NUL-terminated in the arena */
bool cmc_read_name(cmc_reader *r, const char **out);
bool cmc_read_name_n(cmc_reader *r, const char **out, uint32_t *len);
/* a vector count, bounded by the bytes left (each element takes >= min_size bytes) */
bool cmc_read_count(cmc_reader *r, uint32_t *out, size_t min_size);
bool cmc_utf8_valid(const uint8_t *s, size_t n);
void *cmc_alloc(cmc_reader *r, size_t n, size_t size);
/* prepends "prefix: " to the error message (wasm-tools' with_context) */
void cmc_prefix_error(cmc_error *err, const char *prefix);

#endif
