/* Whole-file reader shared by the stand-alone fuzz drivers (core_mutate.c, diff_ref.c).
 * Returns a malloc'd buffer (free it) and its length, or NULL when the file cannot be read. */
#ifndef CMREF_FUZZ_READ_FILE_H
#define CMREF_FUZZ_READ_FILE_H

#include <stdio.h>
#include <stdlib.h>

static unsigned char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *buf = malloc(n > 0 ? (size_t)n : 1);
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  *len = (size_t)n;
  return buf;
}

#endif
