/* The ref side of the differential execution fuzzer (tools/fuzz/diff_exec.py): for each
 * module file, instantiates it with binaryen's `fuzzing-support` imports (log-i32, log-i64,
 * log-f32, log-f64, log-v128: each call prints a `log` line) and calls every exported function
 * with zero arguments, in export order, calling `hangLimitInitializer` first when exported (as
 * binaryen's execution harness does); exports with v128 in their signature only with --simd.
 * Output, one module after another:
 *   module FILE
 *   sig NAME PARAMS RESULTS      (letters i I f F v r; `-` for none)
 *   log TYPE VALUE               (integers unsigned decimal; floats as bits in hex, or nan;
 *                                 v128 as its four i32 lanes in hex, lane 0 first, joined by _)
 *   call NAME -> VALUES | trap | exhaustion
 *   error KIND MESSAGE           (the module did not load or instantiate)
 * A fuel limit stops runaway code (reported as exhaustion). Built by diff_exec.py. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmref.h"
#include "core/embed.h"
#include "core/exec_internal.h"
#include "core/module.h"
#include "read_file.h"

static char letter(cm_valtype t) {
  switch (t) {
  case CM_I32: return 'i';
  case CM_I64: return 'I';
  case CM_F32: return 'f';
  case CM_F64: return 'F';
  case CM_V128: return 'v';
  default: return 'r';
  }
}

static void print_value(cm_valtype t, const cm_value *v) {
  switch (t) {
  case CM_I32: printf(" i32:%" PRIu32, v->i32); break;
  case CM_I64: printf(" i64:%" PRIu64, v->i64); break;
  case CM_F32: {
    uint32_t b = v->i32;
    if ((b & 0x7f800000u) == 0x7f800000u && (b & 0x7fffffu)) printf(" f32:nan");
    else printf(" f32:%08" PRIx32, b);
    break;
  }
  case CM_F64: {
    uint64_t b = v->i64;
    if ((b & 0x7ff0000000000000ull) == 0x7ff0000000000000ull && (b & 0xfffffffffffffull))
      printf(" f64:nan");
    else printf(" f64:%016" PRIx64, b);
    break;
  }
  case CM_V128: {
    uint32_t lane[4];
    memcpy(lane, v->v128, sizeof lane); /* little-endian host: lane k is bytes 4k..4k+3 */
    printf(" v128:%08" PRIx32 "_%08" PRIx32 "_%08" PRIx32 "_%08" PRIx32, lane[0], lane[1],
           lane[2], lane[3]);
    break;
  }
  default: printf(" ref"); break;
  }
}

static bool log_fn(void *env, cm_store *s, const cm_value *args, cm_value *results,
                   cm_error *err) {
  (void)s, (void)results, (void)err;
  printf("log");
  print_value((cm_valtype)(uintptr_t)env, &args[0]);
  printf("\n");
  return true;
}

static bool register_support(cmref_engine *e) {
  cm_store *s = cm_embed_store(e);
  static const cm_valtype types[] = {CM_I32, CM_I64, CM_F32, CM_F64, CM_V128};
  static const char *const names[] = {"log-i32", "log-i64", "log-f32", "log-f64", "log-v128"};
  enum { N = sizeof types / sizeof types[0] };
  cm_host_export *ex = cm_store_alloc(s, N * sizeof *ex);
  if (!ex) return false;
  for (int i = 0; i < N; i++) {
    const cm_functype *t = cm_store_functype(s, &types[i], 1, NULL, 0);
    ex[i].name = names[i];
    ex[i].ext.kind = CM_EXTERN_FUNC;
    ex[i].ext.u.func = t ? cm_store_host_func(s, t, log_fn, (void *)(uintptr_t)types[i]) : NULL;
    if (!ex[i].ext.u.func) return false;
  }
  return cm_embed_register_host(e, "fuzzing-support", ex, N);
}

static void call(cmref_engine *e, cm_funcinst *f, const char *name, unsigned long long fuel) {
  const cm_functype *t = f->type;
  cm_value *vals = calloc((size_t)t->nparams + t->nresults + 1, sizeof *vals);
  cm_error err = {0};
  cm_store_set_fuel(e->store, fuel);
  bool ok = cm_core_invoke(e->store, f, vals, vals + t->nparams, &err);
  if (!name) {
    free(vals);
    return;
  }
  printf("call %s ->", name);
  if (ok)
    for (uint32_t k = 0; k < t->nresults; k++) print_value(t->results[k], &vals[t->nparams + k]);
  else printf(" %s", err.kind == CMREF_EXHAUSTION ? "exhaustion" : "trap");
  printf("\n");
  free(vals);
}

/* Whether the export is called: never with references, with v128 only under --simd. */
static bool callable(const cm_functype *t, bool simd) {
  bool ok = true;
  for (uint32_t k = 0; k < t->nparams; k++)
    ok &= letter(t->params[k]) != 'r' && (simd || t->params[k] != CM_V128);
  for (uint32_t k = 0; k < t->nresults; k++)
    ok &= letter(t->results[k]) != 'r' && (simd || t->results[k] != CM_V128);
  return ok;
}

static void run_module(cmref_engine *e, const char *path, unsigned long long fuel, bool simd) {
  printf("module %s\n", path);
  size_t len;
  unsigned char *bytes = read_file(path, &len);
  cmref_error err = {0};
  if (!bytes || cmref_reset(e, &err) != 0 || !register_support(e)) {
    printf("error internal cannot read or reset\n");
    free(bytes);
    return;
  }
  int h = cmref_load_module(e, bytes, len, &err);
  int inst = h < 0 ? -1 : cmref_instantiate(e, h, &err);
  free(bytes);
  if (inst < 0) {
    printf("error %s %s\n", cmref_errkind_name(err.kind), err.message);
    return;
  }
  cm_instance *in = e->instances[inst];
  const cm_module *m = in->module;
  cm_funcinst *hang = NULL;
  for (uint32_t i = 0; i < m->nexports; i++) {
    const cm_export *x = &m->exports[i];
    if (x->kind != CM_EXTERN_FUNC) continue;
    const cm_functype *t = in->funcs[x->index]->type;
    printf("sig %.*s ", (int)x->name.len, x->name.str);
    for (uint32_t k = 0; k < t->nparams; k++) putchar(letter(t->params[k]));
    printf("%s ", t->nparams ? "" : "-");
    for (uint32_t k = 0; k < t->nresults; k++) putchar(letter(t->results[k]));
    printf("%s\n", t->nresults ? "" : "-");
    if (x->name.len == 20 && memcmp(x->name.str, "hangLimitInitializer", 20) == 0) hang = in->funcs[x->index];
  }
  for (uint32_t i = 0; i < m->nexports; i++) {
    const cm_export *x = &m->exports[i];
    if (x->kind != CM_EXTERN_FUNC || in->funcs[x->index] == hang) continue;
    if (!callable(in->funcs[x->index]->type, simd)) continue; /* not comparable on V8 */
    char name[256];
    snprintf(name, sizeof name, "%.*s", (int)(x->name.len < 200 ? x->name.len : 200), x->name.str);
    if (hang) call(e, hang, NULL, fuel);
    call(e, in->funcs[x->index], name, fuel);
  }
}

int main(int argc, char **argv) {
  bool simd = argc > 1 && strcmp(argv[1], "--simd") == 0;
  int first = simd ? 2 : 1;
  if (argc < first + 2) {
    fprintf(stderr, "usage: diff_ref [--simd] FUEL FILE.wasm...\n");
    return 2;
  }
  unsigned long long fuel = strtoull(argv[first], NULL, 0);
  cmref_engine *e = cmref_engine_new();
  if (!e) {
    fprintf(stderr, "diff_ref: out of memory\n");
    return 1;
  }
  for (int i = first + 1; i < argc; i++) {
    run_module(e, argv[i], fuel, simd);
    fflush(stdout);
  }
  cmref_engine_free(e);
  return 0;
}
