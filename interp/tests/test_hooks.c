/* Unit tests of the interception hooks (cmref.h cmref_hook_fn, interp/component/hook.c):
 * a call from one component instance to another through canon lower + canon lift reports
 * CALL (the lifted arguments, caller and callee instances, function) and RETURN (the
 * results) at nested depths; a hook that denies a call makes it trap with the policy's
 * message before the callee's core code runs; a trapping callee reports TRAP. */
#include <stdio.h>
#include <string.h>

#include "component/abi.h"
#include "component/types.h"

#include "check.h"

typedef struct body_env {
  int runs;
  bool trap;
} body_env;

static bool add_body(void *env, const cm_value *args, uint32_t nargs, cm_value *results,
                     uint32_t nresults, cm_error *err) {
  body_env *b = env;
  b->runs++;
  if (b->trap) {
    err->kind = CMREF_TRAP;
    snprintf(err->message, sizeof err->message, "wasm trap: unreachable");
    return false;
  }
  if (nargs != 2 || nresults != 1) return false;
  memset(results, 0, sizeof *results);
  results[0].i32 = args[0].i32 + args[1].i32;
  return true;
}

#define MAX_EVENTS 8

typedef struct seen {
  int n;
  cmref_crossing ev[MAX_EVENTS];
  uint64_t vals[MAX_EVENTS][2];
  uint32_t nvals[MAX_EVENTS];
  char trap[MAX_EVENTS][64];
  bool deny;
} seen;

static int record(void *env, const cmref_crossing *c, char *msg, size_t n) {
  seen *s = env;
  if (s->n < MAX_EVENTS) {
    s->ev[s->n] = *c;
    const cma_vals *vs = c->values;
    s->nvals[s->n] = vs ? vs->n : 0;
    for (uint32_t i = 0; vs && i < vs->n && i < 2; i++) s->vals[s->n][i] = vs->v[i].u.i;
    snprintf(s->trap[s->n], sizeof s->trap[0], "%s", c->trap ? c->trap : "");
    s->n++;
  }
  if (c->event == CMREF_CROSS_CALL && s->deny) {
    snprintf(msg, n, "no adding");
    return 1;
  }
  return 0;
}

typedef struct fixture {
  cmc_types types;
  cma_functype ft;
  cma_store store;
  cma_instance caller, callee;
  cma_options opts;
  body_env body;
  cma_funcinst f;
  seen seen;
} fixture;

static void setup(fixture *x) {
  memset(x, 0, sizeof *x);
  cmc_types_init(&x->types);
  static cmc_field params[2];
  params[0] = (cmc_field){"a", cmc_prim_tid(CMC_U32)};
  params[1] = (cmc_field){"b", cmc_prim_tid(CMC_U32)};
  cmc_tid fid = cmc_type_new(&x->types, CMC_T_FUNC);
  x->types.v[fid].fields = params;
  x->types.v[fid].n = 2;
  x->types.v[fid].a = cmc_prim_tid(CMC_U32);
  cma_functype_of(&x->types, fid, &x->ft);
  cma_instance_init(&x->caller, &x->store, NULL);
  cma_instance_init(&x->callee, &x->store, NULL);
  x->caller.types = x->callee.types = &x->types;
  x->opts.string_encoding = CMA_UTF8;
  cma_store_lift(&x->store, &x->f, (cma_corefunc){add_body, &x->body}, &x->ft, &x->opts, &x->callee);
  x->store.hook = record;
  x->store.hook_env = &x->seen;
}

static bool call(fixture *x, uint32_t a, uint32_t b, uint32_t *out, cm_error *err) {
  cm_value args[2], res[1];
  memset(args, 0, sizeof args);
  memset(res, 0, sizeof res);
  args[0].i32 = a;
  args[1].i32 = b;
  bool ok = cma_store_lower_call(&x->store, &x->f, &x->ft, &x->opts, &x->caller, args, 2, res, 1, err);
  *out = res[0].i32;
  return ok;
}

static void teardown(fixture *x) {
  cma_instance_free(&x->caller);
  cma_instance_free(&x->callee);
  cmc_types_free(&x->types);
}

static void test_observe(void) {
  fixture x;
  setup(&x);
  cm_error err = {0};
  uint32_t r;
  CHECK(call(&x, 40, 2, &r, &err) && r == 42);
  CHECK(x.seen.n == 2);
  CHECK(x.seen.ev[0].event == CMREF_CROSS_CALL && x.seen.ev[1].event == CMREF_CROSS_RETURN);
  CHECK(x.seen.ev[0].caller == &x.caller && x.seen.ev[0].callee == &x.callee);
  CHECK(x.seen.ev[0].func == &x.f && x.seen.ev[0].functype == &x.f.ft);
  CHECK(x.seen.ev[0].depth == 0 && x.seen.ev[1].depth == 0);
  CHECK(x.seen.nvals[0] == 2 && x.seen.vals[0][0] == 40 && x.seen.vals[0][1] == 2);
  CHECK(x.seen.nvals[1] == 1 && x.seen.vals[1][0] == 42);
  /* without a hook: no events, same result */
  x.store.hook = NULL;
  CHECK(call(&x, 1, 2, &r, &err) && r == 3);
  CHECK(x.seen.n == 2);
  teardown(&x);
}

static void test_deny(void) {
  fixture x;
  setup(&x);
  x.seen.deny = true;
  cm_error err = {0};
  uint32_t r;
  CHECK(!call(&x, 1, 2, &r, &err));
  CHECK(err.kind == CMREF_TRAP);
  CHECK(strcmp(err.message, "call denied by policy: no adding") == 0);
  CHECK(x.body.runs == 0); /* the callee's core code never ran */
  CHECK(x.seen.n == 2 && x.seen.ev[1].event == CMREF_CROSS_TRAP);
  CHECK(strcmp(x.seen.trap[1], "call denied by policy: no adding") == 0);
  teardown(&x);
}

static void test_trap(void) {
  fixture x;
  setup(&x);
  x.body.trap = true;
  cm_error err = {0};
  uint32_t r;
  CHECK(!call(&x, 1, 2, &r, &err));
  CHECK(x.body.runs == 1);
  CHECK(x.seen.n == 2 && x.seen.ev[0].event == CMREF_CROSS_CALL);
  CHECK(x.seen.ev[1].event == CMREF_CROSS_TRAP && strstr(x.seen.trap[1], "unreachable"));
  teardown(&x);
}

int main(void) {
  test_observe();
  test_deny();
  test_trap();
  if (failures) {
    fprintf(stderr, "test_hooks: %d failures\n", failures);
    return 1;
  }
  printf("test_hooks: ok\n");
  return 0;
}
