/* Unit tests of fuel (cmref_set_fuel, exec.c CM_XOP_FUEL, compile.c segments): exact
 * instruction counts with wasmtime's costs, the remaining fuel after a call, exhaustion as
 * CMREF_EXHAUSTION, and switching between metered and unmetered code in one store (each
 * function is compiled again when the setting changed). */
#include <stdint.h>
#include <string.h>

#include "cmref.h"
#include "core/embed.h"

#include "check.h"

/* (func $three (result i32) (i32.add (i32.const 1) (i32.const 2)))            3 units
 * (func "count" (param i32) (result i32)
 *   (loop $l (local.set 0 (i32.sub (local.get 0) (i32.const 1))) (br_if $l (local.get 0)))
 *   (local.get 0))                                            6 per iteration + 1
 * (func "rec" (param i32) (result i32)
 *   (if (result i32) (local.get 0) (then (i32.add (call $three) (i32.const 0)))
 *     (else (i32.const 7))))                          then: 5 + three's 3, else: 3 */
static const unsigned char module[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x0a, 0x02, 0x60, 0x00, 0x01, 0x7f,
    0x60, 0x01, 0x7f, 0x01, 0x7f, 0x03, 0x04, 0x03, 0x00, 0x01, 0x01, 0x07, 0x17, 0x03, 0x05,
    0x74, 0x68, 0x72, 0x65, 0x65, 0x00, 0x00, 0x05, 0x63, 0x6f, 0x75, 0x6e, 0x74, 0x00, 0x01,
    0x03, 0x72, 0x65, 0x63, 0x00, 0x02, 0x0a, 0x2c, 0x03, 0x07, 0x00, 0x41, 0x01, 0x41, 0x02,
    0x6a, 0x0b, 0x12, 0x00, 0x03, 0x40, 0x20, 0x00, 0x41, 0x01, 0x6b, 0x21, 0x00, 0x20, 0x00,
    0x0d, 0x00, 0x0b, 0x20, 0x00, 0x0b, 0x0f, 0x00, 0x20, 0x00, 0x04, 0x7f, 0x10, 0x00, 0x41,
    0x00, 0x6a, 0x05, 0x41, 0x07, 0x0b, 0x0b};

/* Calls name(arg); true when it returned `want` (an i32). */
static bool call(cmref_engine *e, int inst, const char *name, int arg, const char *want,
                 cmref_error *err) {
  char args[64];
  snprintf(args, sizeof args, arg < 0 ? "[]" : "[{\"type\":\"i32\",\"value\":\"%d\"}]", arg);
  char *r = cmref_invoke(e, inst, name, strlen(name), args, err);
  if (!r) return false;
  char expect[64];
  snprintf(expect, sizeof expect, "\"value\":\"%s\"", want);
  bool ok = strstr(r, expect) != NULL;
  free(r);
  return ok;
}

static bool exhausted(const cmref_error *err) {
  return err->kind == CMREF_EXHAUSTION &&
         strcmp(err->message, "all fuel consumed by WebAssembly") == 0;
}

int main(void) {
  cmref_engine *e = cmref_engine_new();
  cmref_error err;
  int m = cmref_load_module(e, module, sizeof module, &err);
  int inst = m < 0 ? -1 : cmref_instantiate(e, m, &err);
  CHECK(inst >= 0);
  if (inst < 0) return 1;
  /* unlimited: unmetered code, the fuel counter untouched */
  CHECK(call(e, inst, "count", 100, "0", &err));
  CHECK(cm_store_fuel(e->store) == UINT64_MAX);
  /* a limit: the same functions run metered code, compiled again */
  cmref_set_fuel(e, 601);
  CHECK(call(e, inst, "count", 100, "0", &err));
  CHECK(cm_store_fuel(e->store) == 0);
  cmref_set_fuel(e, 600);
  CHECK(!call(e, inst, "count", 100, "0", &err) && exhausted(&err));
  cmref_set_fuel(e, 100);
  CHECK(call(e, inst, "rec", 1, "3", &err));
  CHECK(cm_store_fuel(e->store) == 100 - 8);
  CHECK(call(e, inst, "rec", 0, "7", &err));
  CHECK(cm_store_fuel(e->store) == 100 - 8 - 3);
  cmref_set_fuel(e, 7); /* rec's first segment (local.get, if) runs, then three's does not fit */
  CHECK(!call(e, inst, "rec", 1, "3", &err) && exhausted(&err));
  cmref_set_fuel(e, 0);
  CHECK(!call(e, inst, "three", -1, "3", &err) && exhausted(&err));
  /* unlimited again: unmetered code, nothing counted */
  cmref_set_fuel(e, UINT64_MAX);
  CHECK(call(e, inst, "count", 1000000, "0", &err));
  CHECK(cm_store_fuel(e->store) == UINT64_MAX);
  cmref_engine_free(e);
  return failures != 0;
}
