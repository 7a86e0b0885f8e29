/* Interception hooks (cmref.h cmref_hook_fn): a lifted component function, or a host
 * function called through canon lower, called while a hook is installed on its store.
 * on_start and on_resolve are wrapped so the hook sees the lifted arguments (and may deny the
 * call before the callee runs), then the results, or the trap. */
#include <stdio.h>
#include <string.h>

#include "component/abi.h"

typedef struct hooked {
  cma_funcinst *f;
  const cma_functype *ft;
  cma_instance *caller;
  cma_on_start on_start;
  cma_on_resolve on_resolve;
  void *env;
  unsigned depth;
} hooked;

static int notify(const hooked *h, cmref_cross_event ev, const cma_vals *vals, const char *trap,
                  char *msg, size_t n) {
  cmref_crossing c = {.event = ev, .depth = h->depth, .caller = h->caller, .callee = h->f->inst,
                      .func = h->f, .functype = h->ft, .values = vals, .trap = trap};
  cmref_hook_fn hook = h->f->store->hook; /* removed meanwhile: nothing to tell */
  return hook ? hook(h->f->store->hook_env, &c, msg, n) : 0;
}

static bool hooked_start(void *env, cma_vals *args, cm_error *err) {
  hooked *h = env;
  if (!h->on_start(h->env, args, err)) return false;
  char msg[160] = {0};
  if (notify(h, CMREF_CROSS_CALL, args, NULL, msg, sizeof msg) == 0) return true;
  err->kind = CMREF_TRAP;
  snprintf(err->message, sizeof err->message, "call denied by policy: %s", msg[0] ? msg : "(no reason)");
  return false;
}

static bool hooked_resolve(void *env, const cma_vals *result, cm_error *err) {
  hooked *h = env;
  if (result) (void)notify(h, CMREF_CROSS_RETURN, result, NULL, NULL, 0);
  return h->on_resolve(h->env, result, err);
}

static bool hooked_call(cma_call_fn call, cma_funcinst *f, const cma_functype *ft,
                        cma_on_start on_start, cma_on_resolve on_resolve, void *env,
                        cma_instance *caller, cm_error *err) {
  cma_store *s = f->store;
  hooked h = {f, ft, caller, on_start, on_resolve, env, s->hook_depth};
  s->hook_depth++;
  bool ok = call(f, hooked_start, hooked_resolve, &h, caller, err);
  s->hook_depth--;
  if (!ok && s->hook) (void)notify(&h, CMREF_CROSS_TRAP, NULL, err ? err->message : "trap", NULL, 0);
  return ok;
}

bool cma_hooked_call(cma_call_fn call, cma_funcinst *f, cma_on_start on_start,
                     cma_on_resolve on_resolve, void *env, cma_instance *caller, cm_error *err) {
  return hooked_call(call, f, &f->ft, on_start, on_resolve, env, caller, err);
}

bool cma_hooked_host_call(cma_funcinst *f, const cma_functype *ft, cma_on_start on_start,
                          cma_on_resolve on_resolve, void *env, cma_instance *caller,
                          cm_error *err) {
  return hooked_call(f->call, f, ft, on_start, on_resolve, env, caller, err);
}
