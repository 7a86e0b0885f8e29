/* Canonical ABI benchmark (tools/bench/canonical_bench.py builds and runs it).
 *
 * One component instance calls another through canon lower + canon lift (the spec's
 * functions: Store.lift's func_inst, lift_flat_values in the caller, lower_flat_values with
 * the callee's realloc, ...), passing a 64 MiB list<u8>, a 64 MiB string utf8 -> utf8 and
 * utf8 -> utf16. The core functions on both sides (callee body, realloc: a bump allocator)
 * are C functions so that the time measured is the ABI's. Each figure is the best of
 * --repeat runs and is printed as a ratio to memcpy of the same bytes (the best of the
 * memcpys timed before and between the calls, in the same process). The callee checks that it received exactly the caller's bytes (utf16: the
 * transcoding of them, checked against a plain encoder). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "component/abi.h"
#include "component/types.h"

#define SIZE ((uint64_t)64 << 20)

typedef struct memory {
  uint8_t *data;
  uint64_t size, next;
  cma_meminst inst;
} memory;

static bool bump_realloc(void *env, const cm_value *args, uint32_t nargs, cm_value *results,
                         uint32_t nresults, cm_error *err) {
  memory *m = env;
  (void)nargs;
  (void)nresults;
  (void)err;
  uint64_t old = args[0].i32, old_size = args[1].i32, align = args[2].i32, size = args[3].i32;
  if (old && size <= old_size) { /* shrink in place */
    results[0].i32 = (uint32_t)old;
    return true;
  }
  uint64_t p = (m->next + align - 1) / align * align;
  if (old) memmove(m->data + p, m->data + old, old_size);
  m->next = p + size;
  memset(results, 0, sizeof *results);
  results[0].i32 = (uint32_t)p;
  return true;
}

typedef struct callee_env {
  memory *mem;
  uint32_t ptr, len;
} callee_env;

static bool callee_body(void *env, const cm_value *args, uint32_t nargs, cm_value *results,
                        uint32_t nresults, cm_error *err) {
  callee_env *c = env;
  (void)results;
  (void)nresults;
  (void)err;
  if (nargs != 2) return false;
  c->ptr = args[0].i32;
  c->len = args[1].i32;
  return true;
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void memory_init(memory *m, uint64_t size) {
  m->data = calloc(1, size);
  if (!m->data) {
    fprintf(stderr, "out of memory\n");
    exit(2);
  }
  m->size = size;
  m->next = 16;
  m->inst = (cma_meminst){&m->data, &m->size, false};
}

typedef struct run {
  const char *name;
  uint8_t param;     /* CMC_STRING or a list<u8> */
  cma_enc dst_enc;
} run;

int main(int argc, char **argv) {
  int repeat = argc > 1 ? atoi(argv[1]) : 3;
  if (repeat < 1) repeat = 1;
  cmc_types types;
  cmc_types_init(&types);
  cmc_tid list_u8 = cmc_type_new(&types, CMC_T_LIST);
  types.v[list_u8].a = cmc_prim_tid(CMC_U8);
  cmc_type_finish(&types, list_u8);
  memory caller_mem, callee_mem;
  memory_init(&caller_mem, SIZE + 4096);
  memory_init(&callee_mem, 3 * SIZE);
  /* the source bytes: text, mostly ASCII with a 2-byte sequence every 64 bytes (valid UTF-8) */
  uint8_t *src = caller_mem.data + 64;
  for (uint64_t i = 0; i < SIZE; i++) src[i] = (uint8_t)('a' + i % 26);
  for (uint64_t i = 0; i + 2 <= SIZE; i += 64) {
    src[i] = 0xc3;
    src[i + 1] = 0xa9;
  }
  /* memcpy of the same bytes (best of repeat) */
  uint8_t *dst = malloc(SIZE);
  double t_memcpy = 1e9;
  for (int r = 0; r < repeat; r++) {
    double t0 = now();
    memcpy(dst, src, SIZE);
    double t = now() - t0;
    if (dst[SIZE / 2] != src[SIZE / 2]) return 3;
    if (t < t_memcpy) t_memcpy = t;
  }

  run runs[] = {{"list<u8>", 0, CMA_UTF8},
                {"string utf8->utf8", CMC_STRING, CMA_UTF8},
                {"string utf8->utf16", CMC_STRING, CMA_UTF16}};
  int status = 0;
  double bests[3];
  bool sames[3];
  for (size_t k = 0; k < sizeof runs / sizeof runs[0]; k++) {
    cmc_field param = {"x", runs[k].param ? cmc_prim_tid(CMC_STRING) : list_u8};
    cmc_tid fid = cmc_type_new(&types, CMC_T_FUNC);
    types.v[fid].fields = &param;
    types.v[fid].n = 1;
    cma_functype ft;
    cma_functype_of(&types, fid, &ft);
    double best = 1e9;
    bool same = true;
    for (int r = 0; r < repeat; r++) {
      cma_store store = {0};
      cma_instance caller, callee;
      cma_instance_init(&caller, &store, NULL);
      cma_instance_init(&callee, &store, NULL);
      caller.types = callee.types = &types;
      callee_mem.next = 16;
      cma_corefunc crealloc = {bump_realloc, &caller_mem}, erealloc = {bump_realloc, &callee_mem};
      callee_env env = {&callee_mem, 0, 0};
      cma_options copts = {.string_encoding = CMA_UTF8, .memory = &caller_mem.inst, .realloc = &crealloc};
      cma_options eopts = {.string_encoding = runs[k].dst_enc, .memory = &callee_mem.inst,
                           .realloc = &erealloc};
      cma_funcinst f;
      cma_store_lift(&store, &f, (cma_corefunc){callee_body, &env}, &ft, &eopts, &callee);
      cm_value args[2];
      memset(args, 0, sizeof args);
      args[0].i32 = 64;
      args[1].i32 = (uint32_t)SIZE;
      cm_error err = {0};
      double m0 = now(); /* memcpy again, next to each call: the best of all is the reference */
      memcpy(dst, src, SIZE);
      double tm = now() - m0;
      if (tm < t_memcpy) t_memcpy = tm;
      double t0 = now();
      bool ok = cma_store_lower_call(&store, &f, &ft, &copts, &caller, args, 2, NULL, 0, &err);
      double t = now() - t0;
      if (!ok) {
        fprintf(stderr, "%s: %s\n", runs[k].name, err.message);
        return 1;
      }
      if (t < best) best = t;
      if (runs[k].dst_enc == CMA_UTF8) {
        same = same && env.len == SIZE && memcmp(callee_mem.data + env.ptr, src, SIZE) == 0;
      } else { /* the UTF-16 of the source: one code unit per 1-byte char and per 2-byte pair */
        uint64_t units = SIZE - SIZE / 64, at = 0, u = 0;
        const uint8_t *o = callee_mem.data + env.ptr;
        same = same && env.len == units;
        while (same && at < SIZE) {
          uint32_t c = src[at] < 0x80 ? src[at] : (uint32_t)(src[at] & 0x1f) << 6 | (src[at + 1] & 0x3f);
          at += src[at] < 0x80 ? 1 : 2;
          same = (o[2 * u] | (uint32_t)o[2 * u + 1] << 8) == c;
          u++;
        }
      }
      cma_instance_free(&caller);
      cma_instance_free(&callee);
    }
    bests[k] = best;
    sames[k] = same;
    if (!same) status = 1;
  }
  printf("memcpy 64 MiB (best of all runs): %.1f ms\n", t_memcpy * 1e3);
  for (size_t k = 0; k < sizeof runs / sizeof runs[0]; k++)
    printf("%-20s %8.1f ms  ratio to memcpy %.2f  %s\n", runs[k].name, bests[k] * 1e3,
           bests[k] / t_memcpy, sames[k] ? "bytes identical" : "BYTES DIFFER");
  free(dst);
  free(caller_mem.data);
  free(callee_mem.data);
  cmc_types_free(&types);
  return status;
}
