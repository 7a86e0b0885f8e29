/* Interception hook overhead (tools/bench/hook_bench.py builds and runs it).
 *
 * One component instance calls another N times through canon lower + canon lift (Store.lift's
 * func_inst, the spec's functions) with a small function, add: func(a: u32, b: u32) -> u32,
 * whose core bodies are C functions, so the time is the ABI's per-call cost. Prints the best
 * of --repeat runs in ns per call: with no hook installed and (mode `observe`) with a hook
 * that counts the crossings. hook_bench.py builds this twice, once with canonical.c compiled
 * with -DCMREF_NO_HOOKS (no hook check at all), and reports the ratios. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "component/abi.h"
#include "component/types.h"

static bool add_body(void *env, const cm_value *args, uint32_t nargs, cm_value *results,
                     uint32_t nresults, cm_error *err) {
  (void)env;
  (void)err;
  if (nargs != 2 || nresults != 1) return false;
  memset(results, 0, sizeof *results);
  results[0].i32 = args[0].i32 + args[1].i32;
  return true;
}

static int count_hook(void *env, const cmref_crossing *c, char *msg, size_t n) {
  (void)c;
  (void)msg;
  (void)n;
  (*(unsigned long *)env)++;
  return 0;
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  long calls = argc > 1 ? atol(argv[1]) : 1000000;
  int repeat = argc > 2 ? atoi(argv[2]) : 3;
  bool observe = argc > 3 && strcmp(argv[3], "observe") == 0;
  if (calls < 1 || repeat < 1) return 2;
  cmc_types types;
  cmc_types_init(&types);
  cmc_field params[2] = {{"a", cmc_prim_tid(CMC_U32)}, {"b", cmc_prim_tid(CMC_U32)}};
  cmc_tid fid = cmc_type_new(&types, CMC_T_FUNC);
  types.v[fid].fields = params;
  types.v[fid].n = 2;
  types.v[fid].a = cmc_prim_tid(CMC_U32);
  cma_functype ft;
  cma_functype_of(&types, fid, &ft);
  cma_store store = {0};
  unsigned long crossings = 0;
  if (observe) {
    store.hook = count_hook;
    store.hook_env = &crossings;
  }
  cma_instance caller, callee;
  cma_instance_init(&caller, &store, NULL);
  cma_instance_init(&callee, &store, NULL);
  caller.types = callee.types = &types;
  cma_options opts = {.string_encoding = CMA_UTF8};
  cma_funcinst f;
  cma_store_lift(&store, &f, (cma_corefunc){add_body, NULL}, &ft, &opts, &callee);
  double best = 1e9;
  uint32_t sum = 0;
  for (int r = 0; r < repeat; r++) {
    double t0 = now();
    for (long i = 0; i < calls; i++) {
      cm_value args[2], res[1];
      memset(args, 0, sizeof args);
      args[0].i32 = (uint32_t)i;
      args[1].i32 = 1;
      cm_error err = {0};
      if (!cma_store_lower_call(&store, &f, &ft, &opts, &caller, args, 2, res, 1, &err)) {
        fprintf(stderr, "call failed: %s\n", err.message);
        return 1;
      }
      if (res[0].i32 != (uint32_t)i + 1) return 3;
      sum += res[0].i32;
    }
    double t = now() - t0;
    if (t < best) best = t;
  }
  if (observe && crossings != (unsigned long)calls * (unsigned long)repeat * 2) return 4;
  printf("%.2f\n", best / (double)calls * 1e9);
  cma_instance_free(&caller);
  cma_instance_free(&callee);
  cmc_types_free(&types);
  return sum == 12345 ? 5 : 0; /* keeps the sum live */
}
