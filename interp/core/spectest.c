/* The `spectest` host module of the spec test suite (the spec interpreter's
 * host/spectest.ml): print functions (silent here: stdout belongs to the caller), globals
 * of value 666, a table of 10..20 funcref, a memory of 1..2 pages. */
#include <string.h>

#include "core/embed.h"

static bool print_fn(void *env, cm_store *s, const cm_value *args, cm_value *results,
                     cm_error *err) {
  (void)env, (void)s, (void)args, (void)results, (void)err;
  return true;
}

static bool add_func(cm_store *s, cm_host_export *ex, const char *name, const cm_valtype *params,
                     uint32_t np) {
  const cm_functype *t = cm_store_functype(s, params, np, NULL, 0);
  ex->name = name;
  ex->ext.kind = CM_EXTERN_FUNC;
  ex->ext.u.func = t ? cm_store_host_func(s, t, print_fn, NULL) : NULL;
  return ex->ext.u.func != NULL;
}

static bool add_global(cm_store *s, cm_host_export *ex, const char *name, cm_valtype t,
                       cm_value v) {
  cm_globaltype gt = {t, false};
  ex->name = name;
  ex->ext.kind = CM_EXTERN_GLOBAL;
  ex->ext.u.global = cm_store_global(s, &gt, v);
  return ex->ext.u.global != NULL;
}

bool cm_spectest_register(cmref_engine *e, cm_error *err) {
  cm_store *s = cm_embed_store(e);
  enum { N = 13 };
  cm_host_export *ex = cm_store_alloc(s, N * sizeof *ex);
  if (!ex) return cm_error_set(err, CMREF_INTERNAL, "out of memory");
  static const cm_valtype i32[] = {CM_I32}, i64[] = {CM_I64}, f32[] = {CM_F32}, f64[] = {CM_F64};
  static const cm_valtype i32f32[] = {CM_I32, CM_F32}, f64f64[] = {CM_F64, CM_F64};
  cm_value v;
  bool ok = add_func(s, &ex[0], "print", NULL, 0) && add_func(s, &ex[1], "print_i32", i32, 1) &&
            add_func(s, &ex[2], "print_i64", i64, 1) && add_func(s, &ex[3], "print_f32", f32, 1) &&
            add_func(s, &ex[4], "print_f64", f64, 1) &&
            add_func(s, &ex[5], "print_i32_f32", i32f32, 2) &&
            add_func(s, &ex[6], "print_f64_f64", f64f64, 2);
  memset(&v, 0, sizeof v);
  v.i32 = 666;
  ok = ok && add_global(s, &ex[7], "global_i32", CM_I32, v);
  v.i64 = 666;
  ok = ok && add_global(s, &ex[8], "global_i64", CM_I64, v);
  memset(&v, 0, sizeof v);
  v.f32 = 666.6f;
  ok = ok && add_global(s, &ex[9], "global_f32", CM_F32, v);
  v.f64 = 666.6;
  ok = ok && add_global(s, &ex[10], "global_f64", CM_F64, v);
  cm_tabletype tt = {.elem = CM_FUNCREF, .limits = {10, 20, true, false, false}};
  ex[11].name = "table";
  ex[11].ext.kind = CM_EXTERN_TABLE;
  ex[11].ext.u.table = cm_store_table(s, &tt, NULL);
  cm_memtype mt = {{1, 2, true, false, false}};
  ex[12].name = "memory";
  ex[12].ext.kind = CM_EXTERN_MEMORY;
  ex[12].ext.u.mem = cm_store_memory(s, &mt);
  ok = ok && ex[11].ext.u.table && ex[12].ext.u.mem;
  if (!ok || !cm_embed_register_host(e, "spectest", ex, N))
    return cm_error_set(err, CMREF_INTERNAL, "out of memory");
  return true;
}
