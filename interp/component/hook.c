/* Interception hooks (cmref.h cmref_hook_fn): a lifted component function (sync, or async:
 * cmx_lifted_call), or a host function called through canon lower, called while a hook is
 * installed on its store.
 * on_start and on_resolve are wrapped so the hook sees the lifted arguments (and may deny the
 * call before the callee runs), then the results, or the trap. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "component/abi.h"
#include "component/concurrency.h"

typedef struct hooked {
  cma_funcinst *f;
  const cma_functype *ft;
  cma_instance *caller;
  cma_on_start on_start;
  cma_on_resolve on_resolve;
  void *env;
  unsigned depth;
  bool returned, resolved; /* the call returned; on_resolve ran */
  struct hooked *prev, *next; /* returned, not yet resolved: the store's hook_pending list */
} hooked;

static void pend(cma_store *s, hooked *h) {
  h->prev = NULL;
  h->next = s->hook_pending;
  if (h->next) h->next->prev = h;
  s->hook_pending = h;
}

static void unpend(cma_store *s, hooked *h) {
  if (h->prev) h->prev->next = h->next;
  else s->hook_pending = h->next;
  if (h->next) h->next->prev = h->prev;
}

/* the wrappers of calls that never resolved (the store ends) */
void cma_hook_free_pending(cma_store *s) {
  for (hooked *h = s->hook_pending, *n; h; h = n) {
    n = h->next;
    free(h);
  }
  s->hook_pending = NULL;
}

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

/* a callee may resolve after its call returned (a concurrent host function): the wrapper
 * lives until both happened */
static bool hooked_resolve(void *env, const cma_vals *result, cm_error *err) {
  hooked *h = env;
  if (result) (void)notify(h, CMREF_CROSS_RETURN, result, NULL, NULL, 0);
  bool ok = h->on_resolve(h->env, result, err);
  h->resolved = true;
  if (h->returned) {
    unpend(h->f->store, h);
    free(h);
  }
  return ok;
}

static bool hooked_call(cma_call_fn call, cma_funcinst *f, const cma_functype *ft,
                        cma_on_start on_start, cma_on_resolve on_resolve, void *env,
                        cma_instance *caller, cm_error *err) {
  cma_store *s = f->store;
  hooked *h = malloc(sizeof *h);
  if (!h) {
    err->kind = CMREF_EXHAUSTION;
    snprintf(err->message, sizeof err->message, "out of memory");
    return false;
  }
  *h = (hooked){f, ft, caller, on_start, on_resolve, env, s->hook_depth, false, false, NULL, NULL};
  s->hook_depth++;
  cmx_rebind_on_cancel(s, env, h); /* an async lower's OnCancel matches the callee's env */
  bool ok = call(f, hooked_start, hooked_resolve, h, caller, err);
  s->hook_depth--;
  if (!ok && s->hook) (void)notify(h, CMREF_CROSS_TRAP, NULL, err ? err->message : "trap", NULL, 0);
  h->returned = true;
  if (!ok || h->resolved) free(h);
  else pend(s, h);
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

bool cma_hook_wrapped(cma_on_start on_start) { return on_start == hooked_start; }
