/* Unit tests of the core interpreter: readers, numerics, decoding errors, execution through
 * the embedding API and the runtime API (host functions, re-entrancy, exhaustion,
 * uncaught exceptions). Each check prints its name on failure; exit status 1 if any failed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmref.h"
#include "core/embed.h"
#include "core/numerics.h"
#include "core/reader.h"
#include "core/validate.h"

#include "check.h"

/* (module (import "host" "twice" (func (param i32) (result i32))) (func $fac (export "fac")
 * (param i64) (result i64) ...) (func $r (export "runaway") (call $r)) (func (export
 * "viahost") (param i32) (result i32) (call 0 (local.get 0))) (func (export "inc") ...)
 * (func (export "div") (param i32 i32) (result i32) (i32.div_s ...))) */
static const unsigned char t1[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x14, 0x04, 0x60, 0x01, 0x7f, 0x01,
    0x7f, 0x60, 0x01, 0x7e, 0x01, 0x7e, 0x60, 0x00, 0x00, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f,
    0x02, 0x0e, 0x01, 0x04, 0x68, 0x6f, 0x73, 0x74, 0x05, 0x74, 0x77, 0x69, 0x63, 0x65, 0x00,
    0x00, 0x03, 0x06, 0x05, 0x01, 0x02, 0x00, 0x00, 0x03, 0x07, 0x27, 0x05, 0x03, 0x66, 0x61,
    0x63, 0x00, 0x01, 0x07, 0x72, 0x75, 0x6e, 0x61, 0x77, 0x61, 0x79, 0x00, 0x02, 0x07, 0x76,
    0x69, 0x61, 0x68, 0x6f, 0x73, 0x74, 0x00, 0x03, 0x03, 0x69, 0x6e, 0x63, 0x00, 0x04, 0x03,
    0x64, 0x69, 0x76, 0x00, 0x05, 0x0a, 0x33, 0x05, 0x15, 0x00, 0x20, 0x00, 0x50, 0x04, 0x7e,
    0x42, 0x01, 0x05, 0x20, 0x00, 0x20, 0x00, 0x42, 0x01, 0x7d, 0x10, 0x01, 0x7e, 0x0b, 0x0b,
    0x04, 0x00, 0x10, 0x02, 0x0b, 0x06, 0x00, 0x20, 0x00, 0x10, 0x00, 0x0b, 0x07, 0x00, 0x20,
    0x00, 0x41, 0x01, 0x6a, 0x0b, 0x07, 0x00, 0x20, 0x00, 0x20, 0x01, 0x6d, 0x0b};

/* (module (tag (param i32)) (func (export "throw") (throw 0 (i32.const 7)))) */
static const unsigned char t_throw[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x60, 0x01, 0x7f, 0x00,
    0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x01, 0x0d, 0x03, 0x01, 0x00, 0x00, 0x07, 0x09, 0x01,
    0x05, 0x74, 0x68, 0x72, 0x6f, 0x77, 0x00, 0x00, 0x0a, 0x08, 0x01, 0x06, 0x00, 0x41, 0x07,
    0x08, 0x00, 0x0b};

/* ---- readers and numerics ---- */

static void test_leb(void) {
  const uint8_t ok[] = {0xE5, 0x8E, 0x26};
  const uint8_t long5[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
  const uint8_t big[] = {0xFF, 0xFF, 0xFF, 0xFF, 0x1F};
  const uint8_t neg[] = {0x7F};
  cm_error err;
  uint32_t u;
  int32_t s;
  cm_reader r = {ok, ok, ok + sizeof ok};
  CHECK(cm_read_u32(&r, &u, &err) && u == 624485 && cm_reader_eof(&r));
  r = (cm_reader){long5, long5, long5 + sizeof long5};
  CHECK(!cm_read_u32(&r, &u, &err) && strstr(err.message, "integer representation too long"));
  r = (cm_reader){big, big, big + sizeof big};
  CHECK(!cm_read_u32(&r, &u, &err) && strstr(err.message, "integer too large"));
  r = (cm_reader){neg, neg, neg + 1};
  CHECK(cm_read_s32(&r, &s, &err) && s == -1);
  r = (cm_reader){ok, ok, ok + 2};
  CHECK(!cm_read_u32(&r, &u, &err) && strstr(err.message, "unexpected end"));
}

static void test_numerics(void) {
  CHECK(cm_f32_bits(cm_f32_min(0.0f, -0.0f)) == 0x80000000u);
  CHECK(cm_f32_bits(cm_f32_max(-0.0f, 0.0f)) == 0);
  CHECK(isnan(cm_f64_min(NAN, 1.0)));
  CHECK(cm_f64_nearest(2.5) == 2.0 && cm_f64_nearest(3.5) == 4.0 && cm_f64_nearest(-0.5) == 0.0);
  CHECK(signbit(cm_f64_nearest(-0.5)));
  CHECK(cm_i32_rem_s(0x80000000u, 0xFFFFFFFFu) == 0);
  CHECK(cm_i32_trunc_sat_s(1e10) == 0x7FFFFFFFu && cm_i32_trunc_sat_s(NAN) == 0);
  CHECK(cm_i64_trunc_sat_u(-1.5) == 0 && cm_i64_trunc_sat_u(1e30) == ~0ull);
  CHECK(cm_trunc_check(-2147483648.9, CM_I32_S_LO, CM_I32_S_HI) == 0);
  CHECK(cm_trunc_check(2147483648.0, CM_I32_S_LO, CM_I32_S_HI) == 2);
  CHECK(cm_i32_rotl(0x80000001u, 1) == 3 && cm_i64_rotr(1, 1) == 0x8000000000000000ull);
  CHECK(cm_i32_shr_s(0x80000000u, 31) == 0xFFFFFFFFu && cm_i32_clz(0) == 32);
}

static void test_decode_errors(void) {
  cm_module *m;
  cm_error err;
  CHECK(!cm_core_decode((const uint8_t *)"", 0, &m, &err) && err.kind == CMREF_MALFORMED &&
        strstr(err.message, "unexpected end") && m == NULL);
  CHECK(!cm_core_decode((const uint8_t *)"\0asn\1\0\0\0", 8, &m, &err) &&
        strstr(err.message, "magic header not detected"));
  CHECK(!cm_core_decode((const uint8_t *)"\0asm\2\0\0\0", 8, &m, &err) &&
        strstr(err.message, "unknown binary version"));
  /* a type section claiming 2^32-1 types in 3 bytes: rejected before any allocation */
  CHECK(!cm_core_decode((const uint8_t *)"\0asm\1\0\0\0\1\5\xff\xff\xff\xff\x0f", 15, &m, &err) &&
        err.kind == CMREF_MALFORMED);
  CHECK(cm_core_decode(t1, sizeof t1, &m, &err));
  CHECK(m && m->nimports == 1 && m->nfuncs == 5 && m->nexports == 5);
  CHECK(m && cm_core_validate(m, &err));
  CHECK(m && cm_module_func_type(m, 1)->params[0] == CM_I64);
  cm_module_free(m);
}

/* ---- execution through the runtime API ---- */

typedef struct reenter {
  cm_funcinst *inc; /* the wasm function the host calls back */
} reenter;

/* host "twice": calls the module's `inc` (re-entering the interpreter), then doubles */
static bool host_twice(void *env, cm_store *s, const cm_value *args, cm_value *results,
                       cm_error *err) {
  reenter *re = env;
  cm_value r;
  if (!cm_core_invoke(s, re->inc, args, &r, err)) return false;
  results[0].i32 = r.i32 * 2;
  return true;
}

static cm_funcinst *export_func(cm_instance *inst, const char *name) {
  cm_extern ext;
  return cm_instance_export(inst, name, strlen(name), &ext) && ext.kind == CM_EXTERN_FUNC
             ? ext.u.func
             : NULL;
}

static void test_runtime(void) {
  cm_module *m;
  cm_error err;
  CHECK(cm_core_decode(t1, sizeof t1, &m, &err));
  cm_store *s = cm_store_new();
  static const cm_valtype i32[] = {CM_I32};
  reenter re = {NULL};
  const cm_functype *ft = cm_store_functype(s, i32, 1, i32, 1);
  cm_extern imp = {CM_EXTERN_FUNC, {.func = cm_store_host_func(s, ft, host_twice, &re)}};
  cm_instance *inst = cm_core_instantiate(s, m, &imp, 1, &err);
  CHECK(inst != NULL);
  if (!inst) return;
  re.inc = export_func(inst, "inc");
  cm_value args[2], res[1];
  args[0].i64 = 20;
  CHECK(cm_core_invoke(s, export_func(inst, "fac"), args, res, &err) &&
        res[0].i64 == 2432902008176640000ull);
  args[0].i32 = 20;
  CHECK(cm_core_invoke(s, export_func(inst, "viahost"), args, res, &err) && res[0].i32 == 42);
  CHECK(!cm_core_invoke(s, export_func(inst, "runaway"), NULL, NULL, &err) &&
        err.kind == CMREF_EXHAUSTION && strstr(err.message, "call stack exhausted"));
  /* the store is usable after exhaustion */
  args[0].i32 = 7;
  args[1].i32 = 0;
  CHECK(!cm_core_invoke(s, export_func(inst, "div"), args, res, &err) &&
        err.kind == CMREF_TRAP && strstr(err.message, "integer divide by zero"));
  args[0].i32 = 0x80000000u;
  args[1].i32 = 0xFFFFFFFFu;
  CHECK(!cm_core_invoke(s, export_func(inst, "div"), args, res, &err) &&
        strstr(err.message, "integer overflow"));
  args[0].i32 = 1;
  CHECK(cm_core_invoke(s, export_func(inst, "inc"), args, res, &err) && res[0].i32 == 2);
  /* host -> wasm -> host -> ... without end: exhaustion, not a C stack overflow */
  re.inc = export_func(inst, "viahost");
  args[0].i32 = 1;
  CHECK(!cm_core_invoke(s, export_func(inst, "viahost"), args, res, &err) &&
        err.kind == CMREF_EXHAUSTION);
  re.inc = export_func(inst, "inc");
  CHECK(cm_core_invoke(s, export_func(inst, "viahost"), args, res, &err) && res[0].i32 == 4);
  /* a wrong import type is unlinkable */
  const cm_functype *wrong = cm_store_functype(s, NULL, 0, NULL, 0);
  cm_extern bad = {CM_EXTERN_FUNC, {.func = cm_store_host_func(s, wrong, host_twice, &re)}};
  CHECK(!cm_core_instantiate(s, m, &bad, 1, &err) && err.kind == CMREF_UNLINKABLE);
  cm_store_free(s);
  cm_module_free(m);
}

/* ---- execution through the embedding API (JSON values) ---- */

static void test_embed(void) {
  cmref_engine *e = cmref_engine_new();
  cmref_error err;
  int mod = cmref_load_module(e, t_throw, sizeof t_throw, &err);
  CHECK(mod >= 0);
  int inst = cmref_instantiate(e, mod, &err);
  CHECK(inst >= 0);
  char *r = cmref_invoke(e, inst, "throw", 5, "[]", &err);
  CHECK(r == NULL && err.kind == CMREF_TRAP && strstr(err.message, "uncaught exception"));
  free(r);
  /* t1 needs host::twice: unknown import */
  mod = cmref_load_module(e, t1, sizeof t1, &err);
  CHECK(mod >= 0 && cmref_instantiate(e, mod, &err) < 0 && err.kind == CMREF_UNLINKABLE &&
        strstr(err.message, "unknown import"));
  /* malformed bytes: a message, no module */
  CHECK(cmref_load_module(e, t1, 20, &err) < 0 && err.kind == CMREF_MALFORMED && err.message[0]);
  CHECK(cmref_reset(e, &err) == 0);
  cmref_engine_free(e);
}

int main(void) {
  test_leb();
  test_numerics();
  test_decode_errors();
  test_runtime();
  test_embed();
  if (failures) fprintf(stderr, "test_core: %d checks failed\n", failures);
  else printf("test_core: ok\n");
  return failures != 0;
}
