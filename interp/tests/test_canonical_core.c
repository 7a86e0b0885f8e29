/* Unit tests of the canonical ABI through the core engine (abi_core.h): a lowered function
 * and the resource built-ins installed as core host functions and called with
 * cm_core_invoke; realloc as a core function instance; a core memory instance as the
 * options' memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "component/abi_core.h"
#include "component/types.h"

#include "check.h"

typedef struct bump {
  cm_meminst *mem;
  uint32_t next;
  int calls;
  bool fail;
} bump;

/* realloc (i32 i32 i32 i32) -> i32, a core host function */
static bool core_realloc(void *env, cm_store *s, const cm_value *args, cm_value *results,
                         cm_error *err) {
  bump *b = env;
  (void)s;
  b->calls++;
  if (b->fail) {
    err->kind = CMREF_TRAP;
    snprintf(err->message, sizeof err->message, "wasm `unreachable` instruction executed");
    return false;
  }
  uint32_t align = args[2].i32, size = args[3].i32;
  uint32_t p = (b->next + align - 1) / align * align;
  b->next = p + size;
  results[0].i64 = 0;
  results[0].i32 = p;
  return true;
}

/* a host component function: string -> string, answers "<arg>?" */
typedef struct host_env {
  cmc_types *types;
  char got[64];
} host_env;

static bool host_call(cma_funcinst *self, cma_on_start on_start, cma_on_resolve on_resolve,
                      void *env, cma_instance *caller, cm_error *err) {
  host_env *h = self->host_env;
  (void)caller;
  cma_vals args;
  if (!on_start(env, &args, err)) return false;
  const cma_string *s = &args.v[0].u.s;
  if (s->nbytes >= sizeof h->got - 1) return false;
  memcpy(h->got, cma_string_bytes(s), s->nbytes);
  h->got[s->nbytes] = 0;
  char out[80];
  snprintf(out, sizeof out, "%s?", h->got);
  cma_val r;
  memset(&r, 0, sizeof r);
  r.u.s = (cma_string){(const uint8_t *)out, strlen(out), CMA_UTF8, strlen(out), NULL, 0};
  cma_vals result = {&r, 1};
  return on_resolve(env, &result, err);
}

static void test_lowered(void) {
  cm_store *cs = cm_store_new();
  cmc_types types;
  cmc_types_init(&types);
  cm_memtype mt;
  memset(&mt, 0, sizeof mt);
  mt.limits.min = 1;
  cm_meminst *mem = cm_store_memory(cs, &mt);
  CHECK(mem && mem->size == 65536);
  cma_meminst m = cma_meminst_of(mem);
  bump b = {mem, 1024, 0, false};
  cm_valtype p4[4] = {CM_I32, CM_I32, CM_I32, CM_I32}, r1 = CM_I32;
  cm_funcinst *rf = cm_store_host_func(cs, cm_store_functype(cs, p4, 4, &r1, 1), core_realloc, &b);
  cma_core_callee rc = {cs, rf};
  cma_corefunc realloc_fn = cma_corefunc_of(&rc);

  cmc_field params[1] = {{"s", cmc_prim_tid(CMC_STRING)}};
  cmc_tid fid = cmc_type_new(&types, CMC_T_FUNC);
  types.v[fid].fields = params;
  types.v[fid].n = 1;
  types.v[fid].a = cmc_prim_tid(CMC_STRING);
  cma_functype ft;
  CHECK(cma_functype_of(&types, fid, &ft));

  cma_store store = {0};
  cma_instance inst;
  cma_instance_init(&inst, &store, NULL);
  inst.types = &types;
  host_env he = {&types, {0}};
  cma_funcinst host;
  memset(&host, 0, sizeof host);
  host.call = host_call;
  host.host_env = &he;
  cma_options opts = {.string_encoding = CMA_UTF8, .memory = &m, .realloc = &realloc_fn};
  cma_lowered l;
  cm_error err = {0};
  const cm_functype *t = cma_lowered_init(&l, cs, &store, &host, &ft, &opts, &inst, &err);
  CHECK(t && t->nparams == 3 && t->nresults == 0 && l.nparams == 3);
  cm_funcinst *lf = cm_store_host_func(cs, t, cma_lowered_call, &l);
  memcpy(mem->data + 100, "why", 3);
  cm_value args[3];
  memset(args, 0, sizeof args);
  args[0].i32 = 100;
  args[1].i32 = 3;
  args[2].i32 = 200;
  bool ok = cm_core_invoke(cs, lf, args, NULL, &err);
  CHECK(ok);
  if (!ok) fprintf(stderr, "  %s\n", err.message);
  CHECK(strcmp(he.got, "why") == 0 && b.calls == 1);
  uint32_t desc[2];
  memcpy(desc, mem->data + 200, 8);
  CHECK(desc[0] == 1024 && desc[1] == 4 && memcmp(mem->data + 1024, "why?", 4) == 0);
  /* a trap in realloc (a core function) ends the call with its message */
  b.fail = true;
  CHECK(!cm_core_invoke(cs, lf, args, NULL, &err) && err.kind == CMREF_TRAP &&
        strstr(err.message, "unreachable"));
  b.fail = false;
  /* out-of-bounds string argument: host-side wording (the callee is the host) */
  args[1].i32 = 70000;
  CHECK(!cm_core_invoke(cs, lf, args, NULL, &err) && err.kind == CMREF_TRAP &&
        strstr(err.message, "string pointer/length out of bounds of memory"));
  cma_instance_free(&inst);
  cmc_types_free(&types);
  cm_store_free(cs);
}

static void test_resource_builtins(void) {
  cm_store *cs = cm_store_new();
  cmc_types types;
  cmc_types_init(&types);
  cma_store store = {0};
  cma_instance inst;
  cma_instance_init(&inst, &store, NULL);
  inst.types = &types;
  cma_resource_type rt = {.impl = &inst};
  cma_resource_builtin bi = {&inst, &rt};
  cm_funcinst *fnew = cm_store_host_func(cs, cma_resource_builtin_type(cs, CMA_RESOURCE_NEW),
                                         cma_resource_new_fn, &bi);
  cm_funcinst *frep = cm_store_host_func(cs, cma_resource_builtin_type(cs, CMA_RESOURCE_REP),
                                         cma_resource_rep_fn, &bi);
  cm_funcinst *fdrop = cm_store_host_func(cs, cma_resource_builtin_type(cs, CMA_RESOURCE_DROP),
                                          cma_resource_drop_fn, &bi);
  cm_value a, r;
  cm_error err = {0};
  memset(&a, 0, sizeof a);
  a.i32 = 42;
  CHECK(cm_core_invoke(cs, fnew, &a, &r, &err) && r.i32 == 1);
  a.i32 = 1;
  CHECK(cm_core_invoke(cs, frep, &a, &r, &err) && r.i32 == 42);
  CHECK(cm_core_invoke(cs, fdrop, &a, NULL, &err));
  CHECK(!cm_core_invoke(cs, frep, &a, &r, &err) && err.kind == CMREF_TRAP &&
        strstr(err.message, "unknown handle index 1"));
  cma_instance_free(&inst);
  cmc_types_free(&types);
  cm_store_free(cs);
}

int main(void) {
  test_lowered();
  test_resource_builtins();
  if (failures) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("test_canonical_core: all checks passed\n");
  return 0;
}
