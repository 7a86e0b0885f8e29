/* Mutation smoke test of decode + validate: take module binaries, flip, overwrite, insert,
 * delete and truncate bytes, and run every mutant through cm_core_decode and
 * cm_core_validate_with (both feature profiles). Every outcome must be "accepted" or an
 * error of kind malformed/invalid with a message; never a crash, a hang or a leak (the
 * pytest tests/test_validate_mutation.py builds this file with ASan + UBSan and feeds it
 * the core suite's binaries).
 *
 *   test_validate_mutation [FILE.wasm ...]   mutants of the files (default: built-in seeds)
 *   CMREF_MUTATIONS=N                         mutants per seed (default 3000; x20 for built-in seeds)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/module.h"
#include "core/validate.h"

typedef struct rng {
  uint64_t s;
} rng;

static uint64_t next(rng *r) {
  r->s ^= r->s << 13;
  r->s ^= r->s >> 7;
  r->s ^= r->s << 17;
  return r->s;
}

/* Bytes that steer mutants into the instruction and section decoders. */
static const uint8_t interesting[] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x0b, 0x0c, 0x0e,
                                      0x1c, 0x1f, 0x20, 0x41, 0x40, 0x6f, 0x69, 0x70, 0x7f,
                                      0x80, 0xd0, 0xd2, 0xfc, 0xfd, 0xff};

typedef struct stats {
  long mutants, decoded, valid[2];
} stats;

/* Mutates src (n bytes) into dst (capacity n + 16); returns the mutant's length. */
static size_t mutate(rng *r, const uint8_t *src, size_t n, uint8_t *dst) {
  size_t len = n;
  memcpy(dst, src, n);
  int edits = 1 + (int)(next(r) % 4);
  for (int e = 0; e < edits && len > 8; e++) {
    size_t pos = 8 + (size_t)(next(r) % (len - 8));
    switch (next(r) % 6) {
    case 0: dst[pos] ^= (uint8_t)(1u << (next(r) % 8)); break;
    case 1: dst[pos] = (uint8_t)next(r); break;
    case 2: dst[pos] = interesting[next(r) % sizeof interesting]; break;
    case 3: len = pos; break;
    case 4: /* insert a byte */
      if (len < n + 16) {
        memmove(dst + pos + 1, dst + pos, len - pos);
        dst[pos] = interesting[next(r) % sizeof interesting];
        len++;
      }
      break;
    default: /* delete a byte */
      memmove(dst + pos, dst + pos + 1, len - pos - 1);
      len--;
      break;
    }
  }
  return len;
}

static bool error_ok(const cm_error *err, const char *what) {
  if ((err->kind == CMREF_MALFORMED || err->kind == CMREF_INVALID) && err->message[0])
    return true;
  printf("FAIL %s: error kind %s, message \"%s\"\n", what, cmref_errkind_name(err->kind),
         err->message);
  return false;
}

/* One mutant: decode, then validate with both profiles. */
static bool run_one(const uint8_t *bytes, size_t len, stats *st) {
  cm_module *m = NULL;
  cm_error err = {CMREF_OK, ""};
  st->mutants++;
  if (!cm_core_decode(bytes, len, &m, &err)) return error_ok(&err, "decode");
  st->decoded++;
  bool ok = true;
  for (int p = 0; p < 2 && ok; p++) {
    cm_core_features f = p ? cm_core_features_all() : cm_core_features_wasm2();
    cm_error verr = {CMREF_OK, ""};
    if (cm_core_validate_with(m, &f, &verr)) st->valid[p]++;
    else ok = error_ok(&verr, p ? "validate (all features)" : "validate (wasm 2.0)");
  }
  cm_module_free(m);
  return ok;
}

static bool run_seed(const uint8_t *seed, size_t n, long count, rng *r, stats *st) {
  uint8_t *buf = malloc(n + 16);
  if (!buf) return false;
  bool ok = run_one(seed, n, st);
  for (long i = 0; i < count && ok; i++) {
    size_t len = mutate(r, seed, n, buf);
    ok = run_one(buf, len, st);
    if (!ok) {
      printf("mutant (%zu bytes):", len);
      for (size_t k = 0; k < len; k++) printf(" %02x", buf[k]);
      printf("\n");
    }
  }
  free(buf);
  return ok;
}

static uint8_t *slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  uint8_t *b = NULL;
  if (fseek(f, 0, SEEK_END) == 0) {
    long len = ftell(f);
    if (len >= 0 && fseek(f, 0, SEEK_SET) == 0 && (b = malloc((size_t)len + 1)))
      *n = fread(b, 1, (size_t)len, f);
  }
  fclose(f);
  return b;
}

/* Built-in seeds: a module using most sections and instruction groups; one with tags and
 * try_table; one with two memories. */
static const uint8_t seed_main[] = {
    0, 'a', 's', 'm', 1, 0, 0, 0,
    1, 0x0a, 2, 0x60, 1, 0x7f, 1, 0x7f, 0x60, 0, 1, 0x7f,          /* types */
    3, 3, 2, 0, 1,                                                  /* funcs */
    4, 4, 1, 0x70, 0, 1,                                            /* table */
    5, 3, 1, 0, 1,                                                  /* memory */
    6, 6, 1, 0x7f, 1, 0x41, 0, 0x0b,                                /* global */
    7, 5, 1, 1, 'f', 0, 0,                                          /* export */
    9, 7, 1, 0, 0x41, 0, 0x0b, 1, 0,                                /* elem */
    12, 1, 1,                                                       /* data count */
    10, 0x28, 2,                                                    /* code */
    0x17, 1, 1, 0x7f, 0x02, 0x7f, 0x20, 0, 0x41, 1, 0x6a, 0x21, 1, 0x20, 1, 0x20, 1,
    0x0d, 0, 0x28, 2, 0, 0x0b, 0x0b,
    0x0e, 0, 0x41, 0, 0x41, 0, 0x41, 1, 0xfc, 8, 0, 0, 0x41, 7, 0x0b,
    11, 5, 1, 1, 2, 'a', 'b',                                       /* data (passive) */
};

static const uint8_t seed_eh[] = {
    0, 'a', 's', 'm', 1, 0, 0, 0,
    1, 0x09, 2, 0x60, 1, 0x7f, 0, 0x60, 0, 1, 0x7f,                 /* types */
    3, 2, 1, 1,                                                     /* funcs */
    13, 3, 1, 0, 0,                                                 /* tag of type 0 */
    10, 0x13, 1, 0x11, 0, 0x02, 0x7f, 0x1f, 0x40, 1, 0, 0, 0, 0x41, 3, 0x08, 0, 0x0b,
    0x00, 0x0b, 0x0b,
};

static const uint8_t seed_mm[] = {
    0, 'a', 's', 'm', 1, 0, 0, 0,
    1, 5, 1, 0x60, 0, 1, 0x7f,                                      /* types */
    3, 2, 1, 0,                                                     /* funcs */
    5, 5, 2, 0, 1, 0, 1,                                            /* two memories */
    10, 0x10, 1, 0x0e, 0, 0x41, 0, 0x28, 0x42, 1, 0, 0x3f, 1, 0x6a, 0x3f, 0, 0x6a, 0x0b,
};

/* A built-in seed must itself be valid (with every feature), or the test proves little. */
static bool seed_valid(const uint8_t *b, size_t n, const char *name) {
  cm_module *m = NULL;
  cm_error err = {CMREF_OK, ""};
  cm_core_features f = cm_core_features_all();
  bool ok = cm_core_decode(b, n, &m, &err) && cm_core_validate_with(m, &f, &err);
  if (!ok) printf("FAIL seed %s: %s\n", name, err.message);
  cm_module_free(m);
  return ok;
}

int main(int argc, char **argv) {
  const char *env = getenv("CMREF_MUTATIONS");
  long count = env ? atol(env) : 3000;
  rng r = {0x9E3779B97F4A7C15ull};
  stats st = {0, 0, {0, 0}};
  bool ok = true;
  if (argc < 2) {
    ok = seed_valid(seed_main, sizeof seed_main, "main") &&
         seed_valid(seed_eh, sizeof seed_eh, "exceptions") &&
         seed_valid(seed_mm, sizeof seed_mm, "multi-memory") &&
         run_seed(seed_main, sizeof seed_main, count * 20, &r, &st) &&
         run_seed(seed_eh, sizeof seed_eh, count * 20, &r, &st) &&
         run_seed(seed_mm, sizeof seed_mm, count * 20, &r, &st);
  }
  for (int i = 1; i < argc && ok; i++) {
    size_t n = 0;
    uint8_t *b = slurp(argv[i], &n);
    if (!b) {
      printf("FAIL cannot read %s\n", argv[i]);
      return 1;
    }
    ok = run_seed(b, n, count, &r, &st);
    if (!ok) printf("seed: %s\n", argv[i]);
    free(b);
  }
  printf("test_validate_mutation: %ld mutants, %ld decoded, %ld valid (2.0), %ld valid (all)%s\n",
         st.mutants, st.decoded, st.valid[0], st.valid[1], ok ? "" : ", FAILED");
  return ok ? 0 : 1;
}
