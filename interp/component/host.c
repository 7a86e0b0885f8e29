/* wasmtime's component test host (host.h). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation" /* messages are truncated on purpose */
#endif
#include "component/host.h"

#include <stdio.h>
#include <string.h>

#include "component/concurrency.h"
#include "component/resources.h"

/* ---- host state: the resource1 drop counters -------------------------------------- */

typedef struct host_state {
  cma_store *store; /* wasmtime.set-max-table-capacity sets its limit */
  uint32_t drops, last_drop;
  cma_resource_type resource1, resource2;
} host_state;

typedef enum host_fn_kind {
  H_RETURN_TWO, H_ECHO_U32, H_RETURN_THREE, H_RETURN_FOUR, H_RETURN_HI, H_CTOR, H_ASSERT,
  H_LAST_DROP, H_DROPS, H_SIMPLE, H_TAKE_BORROW, H_TAKE_OWN,
  /* func_wrap_concurrent whose future is pending at the first poll */
  H_NEVER_RETURN, H_RETURN_TWO_SLOWLY, H_ECHO_SLOWLY, H_NEVER_RETURN_METHOD,
  H_SET_MAX_TABLE_CAPACITY /* wasmtime's wast runner: the `wasmtime` instance */
} host_fn_kind;

typedef struct host_fn {
  host_fn_kind kind;
  const char *name;
  host_state *state;
  cm_store *core; /* the store whose scheduler polls a concurrent host function */
} host_fn;

static bool trap(cm_error *err, const char *fmt, const char *a) {
  err->kind = CMREF_TRAP;
  snprintf(err->message, sizeof err->message, fmt, a);
  return false;
}

static bool want_args(const cma_vals *args, uint32_t n, const host_fn *h, cm_error *err) {
  if (args->n == n) return true;
  return trap(err, "host function `%s` called with the wrong number of arguments", h->name);
}

/* the host function's body: args in, one result (or none) out */
static bool host_body(const host_fn *h, const cma_vals *args, cma_val *res, bool *has_res,
                      cm_error *err) {
  host_state *s = h->state;
  *has_res = true;
  switch (h->kind) {
  case H_RETURN_TWO: res->u.i = 2; return want_args(args, 0, h, err);
  case H_ECHO_U32:
    if (!want_args(args, 1, h, err)) return false;
    res->u.i = args->v[0].u.i;
    return true;
  case H_RETURN_THREE: res->u.i = 3; return want_args(args, 0, h, err);
  case H_RETURN_FOUR: res->u.i = 4; return want_args(args, 0, h, err);
  case H_RETURN_HI:
    res->u.s = (cma_string){(const uint8_t *)"hi", 2, CMA_UTF8, 2, NULL, 0};
    return want_args(args, 0, h, err);
  case H_CTOR:
    if (!want_args(args, 1, h, err)) return false;
    res->u.handle.rep = (uint32_t)args->v[0].u.i;
    res->u.handle.rt = &s->resource1;
    return true;
  case H_LAST_DROP: res->u.i = s->last_drop; return want_args(args, 0, h, err);
  case H_DROPS: res->u.i = s->drops; return want_args(args, 0, h, err);
  case H_ASSERT:
  case H_SIMPLE:
    *has_res = false;
    if (!want_args(args, 2, h, err)) return false;
    if (args->v[0].u.handle.rep != (uint32_t)args->v[1].u.i)
      return trap(err, "host function `%s`: assertion failed (rep mismatch)", h->name);
    return true;
  case H_TAKE_BORROW:
  case H_TAKE_OWN: *has_res = false; return want_args(args, 2, h, err);
  case H_NEVER_RETURN: *has_res = false; return want_args(args, 0, h, err);
  case H_NEVER_RETURN_METHOD: *has_res = false; return want_args(args, 1, h, err);
  case H_RETURN_TWO_SLOWLY: res->u.i = 2; return want_args(args, 0, h, err);
  case H_SET_MAX_TABLE_CAPACITY:
    *has_res = false;
    if (!want_args(args, 1, h, err)) return false;
    s->store->max_table_capacity = (uint32_t)args->v[0].u.i;
    return true;
  case H_ECHO_SLOWLY:
  default:
    if (!want_args(args, 1, h, err)) return false;
    res->u.i = args->v[0].u.i;
    return true;
  }
}

/* how many times the scheduler polls a concurrent host function's future before it is
 * ready (tokio::task::yield_now once); -1: never (std::future::pending) */
static int32_t host_polls(host_fn_kind kind) {
  switch (kind) {
  case H_NEVER_RETURN: case H_NEVER_RETURN_METHOD: return -1;
  case H_RETURN_TWO_SLOWLY: case H_ECHO_SLOWLY: return 1;
  default: return 0;
  }
}

/* FuncInst of a host function: on_start gives the lifted arguments, on_resolve takes the
 * result */
static bool host_call(cma_funcinst *self, cma_on_start on_start, cma_on_resolve on_resolve,
                      void *env, cma_instance *caller, cm_error *err) {
  (void)caller;
  const host_fn *h = self->host_env;
  cma_vals args = {NULL, 0};
  cma_val res;
  memset(&res, 0, sizeof res);
  bool has_res = false;
  if (!on_start(env, &args, err)) return false;
  if (!host_body(h, &args, &res, &has_res, err)) return false;
  cma_vals result = {&res, has_res ? 1 : 0};
  int32_t polls = host_polls(h->kind);
  if (polls != 0)
    return cmx_host_resolve_later(self->store, h->core, on_resolve, env, &result, polls, err);
  return on_resolve(env, &result, err);
}

/* resource1's destructor: counts the drops */
static bool resource1_dtor(void *env, const cm_value *args, uint32_t nargs, cm_value *results,
                           uint32_t nresults, cm_error *err) {
  (void)results, (void)nresults, (void)err;
  host_state *s = env;
  s->drops++;
  if (nargs == 1) s->last_drop = args[0].i32;
  return true;
}

static bool resource_noop_dtor(void *env, const cm_value *args, uint32_t nargs, cm_value *results,
                               uint32_t nresults, cm_error *err) {
  (void)env, (void)args, (void)nargs, (void)results, (void)nresults, (void)err;
  return true;
}

/* ---- building items ------------------------------------------------------------------ */

static cmi_item func_item(cmi_engine *e, host_state *s, host_fn_kind kind, const char *name) {
  cmi_item it = {.sort = CMC_SORT_FUNC, .types = NULL, .type = CMC_NONE};
  host_fn *h = cmi_alloc(e, sizeof *h);
  cma_funcinst *f = cmi_alloc(e, sizeof *f);
  if (!h || !f) return (cmi_item){0};
  h->kind = kind;
  h->name = name;
  h->state = s;
  h->core = cmi_core_store(e);
  f->call = host_call;
  f->store = cmi_abi_store(e);
  f->host_env = h;
  it.u.func = f;
  return it;
}

typedef struct builder {
  cmi_engine *e;
  cmi_inst *inst;
  uint32_t cap;
} builder;

static bool add(builder *b, const char *name, cmi_item it) {
  if (!it.sort) return false;
  if (b->inst->n == b->cap) return false;
  b->inst->names[b->inst->n] = name;
  b->inst->items[b->inst->n++] = it;
  return true;
}

static cmi_inst *new_inst(cmi_engine *e, uint32_t cap) {
  cmi_inst *i = cmi_alloc(e, sizeof *i);
  if (!i) return NULL;
  i->names = cmi_alloc(e, cap * sizeof *i->names);
  i->items = cmi_alloc(e, cap * sizeof *i->items);
  return i->names && i->items ? i : NULL;
}

/* (module (global (export "g") i32 i32.const 100) (func (export "f") (result i32) i32.const 101)) */
static const uint8_t simple_module[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,             /* preamble */
    0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f,                   /* type: [] -> [i32] */
    0x03, 0x02, 0x01, 0x00,                                     /* func: type 0 */
    0x06, 0x07, 0x01, 0x7f, 0x00, 0x41, 0xe4, 0x00, 0x0b,       /* global i32 = 100 */
    0x07, 0x09, 0x02, 0x01, 0x67, 0x03, 0x00, 0x01, 0x66, 0x00, 0x00, /* exports g, f */
    0x0a, 0x07, 0x01, 0x05, 0x00, 0x41, 0xe5, 0x00, 0x0b,       /* code: i32.const 101 */
};

static bool oom(cm_error *err) {
  err->kind = CMREF_EXHAUSTION;
  snprintf(err->message, sizeof err->message, "out of memory");
  return false;
}

bool cmi_host_register(cmi_engine *e, cm_error *err) {
  host_state *s = cmi_alloc(e, sizeof *s);
  if (!s) return oom(err);
  cma_instance *hi = cmi_host_instance(e);
  if (!hi) return oom(err);
  s->store = cmi_abi_store(e);
  s->resource1 = (cma_resource_type){hi, true, {resource1_dtor, s}, "resource1"};
  s->resource2 = (cma_resource_type){hi, true, {resource_noop_dtor, s}, "resource2"};

  cmi_item it = func_item(e, s, H_RETURN_TWO, "host-return-two");
  if (!it.sort || !cmi_register_host(e, "host-return-two", &it)) return oom(err);
  it = func_item(e, s, H_ECHO_U32, "host-echo-u32");
  if (!it.sort || !cmi_register_host(e, "host-echo-u32", &it)) return oom(err);

  builder nested = {e, new_inst(e, 1), 1};
  if (!nested.inst || !add(&nested, "return-four", func_item(e, s, H_RETURN_FOUR, "return-four")))
    return oom(err);
  cm_module *m = NULL;
  if (!cmi_host_module(e, simple_module, sizeof simple_module, &m, err)) return false;

  static const struct {
    const char *name;
    host_fn_kind kind;
  } funcs[] = {
      {"return-three", H_RETURN_THREE},
      {"[constructor]resource1", H_CTOR},
      {"[static]resource1.assert", H_ASSERT},
      {"[static]resource1.last-drop", H_LAST_DROP},
      {"[static]resource1.drops", H_DROPS},
      {"[method]resource1.simple", H_SIMPLE},
      {"[method]resource1.take-borrow", H_TAKE_BORROW},
      {"[method]resource1.take-own", H_TAKE_OWN},
      {"never-return", H_NEVER_RETURN},
      {"return-two-slowly", H_RETURN_TWO_SLOWLY},
      {"echo-slowly", H_ECHO_SLOWLY},
      {"[method]resource1.never-return", H_NEVER_RETURN_METHOD},
      {"return-hi", H_RETURN_HI},
  };
  uint32_t n = sizeof funcs / sizeof funcs[0];
  builder host = {e, new_inst(e, n + 8), n + 8};
  if (!host.inst) return oom(err);
  for (uint32_t i = 0; i < n; i++)
    if (!add(&host, funcs[i].name, func_item(e, s, funcs[i].kind, funcs[i].name))) return oom(err);
  cmi_item nested_item = {.sort = CMC_SORT_INSTANCE, .type = CMC_NONE};
  nested_item.u.inst = nested.inst;
  cmi_item module_item = {.sort = CMC_SORT_CORE + CMC_CORE_MODULE, .type = CMC_NONE};
  module_item.u.module = m;
  cmi_item r1 = {.sort = CMC_SORT_TYPE, .type = CMC_NONE}, r2 = r1;
  r1.u.rt = &s->resource1;
  r2.u.rt = &s->resource2;
  if (!add(&host, "nested", nested_item) || !add(&host, "simple-module", module_item) ||
      !add(&host, "resource1", r1) || !add(&host, "resource2", r2) ||
      !add(&host, "resource1-again", r1))
    return oom(err);
  cmi_item host_item = {.sort = CMC_SORT_INSTANCE, .type = CMC_NONE};
  host_item.u.inst = host.inst;
  if (!cmi_register_host(e, "host", &host_item)) return oom(err);
  builder wasmtime = {e, new_inst(e, 1), 1};
  if (!wasmtime.inst ||
      !add(&wasmtime, "set-max-table-capacity",
           func_item(e, s, H_SET_MAX_TABLE_CAPACITY, "set-max-table-capacity")))
    return oom(err);
  cmi_item wasmtime_item = {.sort = CMC_SORT_INSTANCE, .type = CMC_NONE};
  wasmtime_item.u.inst = wasmtime.inst;
  if (!cmi_register_host(e, "wasmtime", &wasmtime_item)) return oom(err);
  return true;
}
