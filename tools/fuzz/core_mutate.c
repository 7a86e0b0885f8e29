/* Mutation smoke test of core decoding + validation: every input file is mutated many times
 * (bit flips, byte overwrites, truncation, insertions, LEB-ish 0x80/0xFF runs) and each
 * mutant goes through cm_core_decode + cm_core_validate (and, when valid, the execution
 * pre-decoder cm_compile). Any outcome is fine except a crash, a sanitizer report, an error
 * without a message or of the wrong kind, a valid body that does not compile, or a hang.
 * Built and run under ASan + UBSan by tests/test_core_mutate.py.
 *
 * With --run, valid mutants are also instantiated (spectest imports) and every exported
 * function is called with zero arguments under a fuel limit: traps and exhaustion are fine,
 * crashes are not.
 *
 *   core_mutate [--run] SEED MUTANTS_PER_FILE FILE.wasm...
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmref.h"
#include "core/embed.h"
#include "core/exec_internal.h"
#include "core/module.h"
#include "read_file.h"
#include "core/validate.h"

/* xorshift64*: deterministic for a seed. */
static uint64_t next(uint64_t *s) {
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 0x2545F4914F6CDD1DULL;
}

/* Applies 1-4 random edits to buf (capacity cap), returns the new length. */
static size_t mutate(uint64_t *s, unsigned char *buf, size_t len, size_t cap) {
  int edits = 1 + (int)(next(s) % 4);
  for (int e = 0; e < edits && len > 0; e++) {
    size_t at = next(s) % len;
    switch (next(s) % 6) {
    case 0: buf[at] ^= (unsigned char)(1u << (next(s) % 8)); break;
    case 1: buf[at] = (unsigned char)next(s); break;
    case 2: len = at; break; /* truncate */
    case 3:
      if (len < cap) {
        memmove(buf + at + 1, buf + at, len - at);
        buf[at] = (unsigned char)next(s);
        len++;
      }
      break;
    case 4: /* an overlong / huge LEB run */
      for (size_t k = at; k < len && k < at + 1 + next(s) % 6; k++) buf[k] = next(s) % 2 ? 0xFF : 0x80;
      break;
    default: buf[at] = (unsigned char)(next(s) % 3 == 0 ? 0x00 : 0x0B); break;
    }
  }
  return len;
}

/* This driver's own state (not the library's): the --run engine and counters. */
static cmref_engine *engine;
static unsigned long nvalid, ncalls;

/* Instantiates a valid module and calls each export with zero arguments, with little fuel. */
static void run_exports(cmref_engine *e, const unsigned char *bytes, size_t len) {
  cmref_error err;
  int h = cmref_load_module(e, bytes, len, &err);
  int inst = h < 0 ? -1 : cmref_instantiate(e, h, &err);
  if (inst < 0) return;
  cm_instance *in = e->instances[inst];
  const cm_module *m = in->module;
  for (uint32_t i = 0; i < m->nexports; i++) {
    if (m->exports[i].kind != CM_EXTERN_FUNC) continue;
    cm_funcinst *f = in->funcs[m->exports[i].index];
    cm_value *vals = calloc((size_t)f->type->nparams + f->type->nresults + 1, sizeof *vals);
    cm_error cerr;
    cm_store_set_fuel(e->store, 20000);
    ncalls++;
    (void)cm_core_invoke(e->store, f, vals, vals + f->type->nparams, &cerr);
    free(vals);
  }
}


static int check(const unsigned char *bytes, size_t len, const char *path, unsigned long iter) {
  cm_module *m = NULL;
  cm_error err = {0};
  if (!cm_core_decode(bytes, len, &m, &err)) {
    if (err.kind != CMREF_MALFORMED && err.kind != CMREF_INTERNAL) {
      fprintf(stderr, "%s #%lu: decode failed with kind %d\n", path, iter, err.kind);
      return 1;
    }
    if (!err.message[0]) {
      fprintf(stderr, "%s #%lu: decode error without a message\n", path, iter);
      return 1;
    }
    return 0;
  }
  err.message[0] = 0;
  if (!cm_core_validate(m, &err)) {
    cm_module_free(m);
    if (err.message[0]) return 0;
    fprintf(stderr, "%s #%lu: validation error without a message\n", path, iter);
    return 1;
  }
  /* a valid mutant: the execution pre-decoder must compile every body */
  nvalid++;
  for (uint32_t i = 0; i < m->nfuncs; i++) {
    cm_code *c = cm_compile(m, i, true, &err);
    if (!c) {
      fprintf(stderr, "%s #%lu: function %u of a valid module does not compile: %s\n", path,
              iter, i, err.message);
      cm_module_free(m);
      return 1;
    }
    cm_code_free(c);
  }
  cm_module_free(m);
  if (engine) run_exports(engine, bytes, len);
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--run") == 0) {
    engine = cmref_engine_new();
    argv++;
    argc--;
  }
  if (argc < 4) {
    fprintf(stderr, "usage: core_mutate [--run] SEED MUTANTS_PER_FILE FILE.wasm...\n");
    return 2;
  }
  uint64_t seed = strtoull(argv[1], NULL, 0) | 1;
  unsigned long per_file = strtoul(argv[2], NULL, 0);
  unsigned long total = 0;
  int bad = 0;
  for (int i = 3; i < argc && !bad; i++) {
    size_t len;
    unsigned char *orig = read_file(argv[i], &len);
    if (!orig) {
      fprintf(stderr, "cannot read %s\n", argv[i]);
      return 2;
    }
    size_t cap = len + 16;
    unsigned char *buf = malloc(cap);
    bad |= check(orig, len, argv[i], 0);
    for (unsigned long k = 1; k <= per_file && !bad; k++) {
      memcpy(buf, orig, len);
      size_t n = mutate(&seed, buf, len, cap);
      /* an exact-size copy so that ASan sees any read past the end */
      unsigned char *exact = malloc(n ? n : 1);
      memcpy(exact, buf, n);
      bad |= check(exact, n, argv[i], k);
      free(exact);
      total++;
      if (engine && total % 256 == 0) cmref_reset(engine, NULL); /* frees instances */
    }
    free(buf);
    free(orig);
  }
  cmref_engine_free(engine);
  printf("%lu mutants of %d files (%lu valid, %lu calls): %s\n", total, argc - 3, nvalid, ncalls,
         bad ? "FAILED" : "ok");
  return bad;
}
