/* Concurrency (concurrency.h): the spec's Store, Thread, Task, Waitable, WaitableSet,
 * Subtask, the async canon lift / lower and the async built-ins, in definitions.py's order. */
#include "component/concurrency.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "component/fiber.h"
#include "component/resources.h"
#include "component/types.h"
#include "core/exec_internal.h"

/* the value stack and frames of one thread's core execution (the core store's execution
 * state is swapped on every switch) */
#define THREAD_STACK_SLOTS (1u << 16)

typedef struct cmx_thread cmx_thread;
typedef struct cmx_task cmx_task;
typedef bool (*ready_fn)(void *arg);

static bool fail(cm_error *err, cmref_errkind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool fail(cm_error *err, cmref_errkind kind, const char *fmt, ...) {
  if (!err) return false;
  va_list ap;
  va_start(ap, fmt);
  char msg[sizeof err->message];
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  cm_error_set(err, kind, "%s", msg);
  return false;
}
#define TRAP(...) fail(err, CMREF_TRAP, __VA_ARGS__)
static bool oom(cm_error *err) { return fail(err, CMREF_EXHAUSTION, "out of memory"); }

/* ================================================================================ */
/* Store                                                                            */
/* ================================================================================ */

struct cmx_store {
  cma_store *astore;
  cm_store *core;
  cmx_thread **waiting; /* Store.waiting, in the order the threads started waiting */
  uint32_t nwaiting, capwaiting;
  cmx_thread *current; /* the running thread; NULL: the embedder */
  cmx_thread *threads; /* every thread created (linked by store_next), released at the end */
  cmx_cancel_slot *lowering; /* the async lower whose callee is being called (on_cancel) */
  struct owned *owned;
  uint32_t nowned, capowned;
  /* the heaps of synchronous lowers waiting on a thread's stack (freed at the end if the
   * thread never resumes) */
  cma_heap **waiting_heaps;
  uint32_t nwaiting_heaps, capwaiting_heaps;
};

/* an object the Store frees at the end, after its release (NULL: none) frees what it holds */
typedef struct owned {
  void *p;
  void (*release)(void *p);
} owned;

static bool grow(void **p, uint32_t *cap, uint32_t n, size_t size) {
  if (n < *cap) return true;
  uint32_t c = *cap ? *cap * 2 : 8;
  void *q = realloc(*p, (size_t)c * size);
  if (!q) return false;
  *p = q;
  *cap = c;
  return true;
}

static void *own_with(cmx_store *s, size_t size, void (*release)(void *p)) {
  if (!grow((void **)&s->owned, &s->capowned, s->nowned, sizeof *s->owned)) return NULL;
  void *p = calloc(1, size);
  if (p) s->owned[s->nowned++] = (owned){p, release};
  return p;
}

static void *own(cmx_store *s, size_t size) { return own_with(s, size, NULL); }

cmx_store *cmx_store_of(cma_store *as, cm_store *core) {
  if (as->cx) return as->cx;
  cmx_store *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->astore = as;
  s->core = core;
  as->cx = s;
  return s;
}

static void thread_release_all(cmx_thread *threads);
static void thread_release(cmx_thread *t);

void cmx_store_free(cma_store *as) {
  cmx_store *s = as->cx;
  if (!s) return;
  for (uint32_t i = 0; i < s->nwaiting_heaps; i++) cma_heap_free(s->waiting_heaps[i]);
  free(s->waiting_heaps);
  thread_release_all(s->threads);
  for (uint32_t i = 0; i < s->nowned; i++) {
    if (s->owned[i].release) s->owned[i].release(s->owned[i].p);
    free(s->owned[i].p);
  }
  free(s->owned);
  free(s->waiting);
  free(s);
  as->cx = NULL;
}

/* OnCancel: a callee called by an async lower registers its request_cancellation here */
void cmx_set_on_cancel(cma_store *as, void *env, cmx_on_cancel fn, void *arg) {
  cmx_store *s = as->cx;
  if (!s || !s->lowering || s->lowering->env != env) return;
  s->lowering->fn = fn;
  s->lowering->arg = arg;
  s->lowering = NULL;
}

void cmx_rebind_on_cancel(cma_store *as, void *env, void *wrapper) {
  cmx_store *s = as->cx;
  if (s && s->lowering && s->lowering->env == env) s->lowering->env = wrapper;
}

/* ================================================================================ */
/* Thread                                                                           */
/* ================================================================================ */

typedef bool (*thread_body)(cmx_thread *t, cm_error *err);

/* running: cont is None; waiting: not running and ready set; suspended: neither */
struct cmx_thread {
  cmx_store *store;
  cmx_task *task;
  thread_body body;
  cmf_fiber *fiber;
  ready_fn ready; /* ready_func */
  void *ready_arg;
  bool running, cancellable, cancelled; /* cancelled: the block result resume passes */
  cmx_thread *switch_to;                /* block's switch_to */
  uint32_t index;                       /* in the instance's threads table; 0: none */
  cmx_thread *task_next, *store_next;
  cm_funcinst *start;                   /* thread.new-indirect: the start function, its arg */
  cm_value start_arg;
  struct host_call *host_call;          /* a concurrent host function's thread (no task) */
  bool done, ok, in_event_loop;
  cm_error err;
  uint32_t context[2]; /* context.get / context.set */
  /* the core execution state while suspended */
  cm_value *stack;
  cm_frame *frames;
  cm_value *sp;
  uint32_t nframes, nesting;
};

static void thread_main(void *arg) {
  cmx_thread *t = arg;
  t->ok = t->body(t, &t->err);
  cma_instance *inst = t->task ? ((cma_task *)t->task)->inst : NULL;
  if (inst && inst->exclusive_thread == t) inst->exclusive_thread = NULL; /* the thread ended */
}

static cmx_thread *thread_new(cmx_store *s, cmx_task *task, thread_body body) {
  cmx_thread *t = own(s, sizeof *t);
  if (!t) return NULL;
  t->store = s;
  t->task = task;
  t->body = body;
  t->store_next = s->threads;
  s->threads = t;
  t->fiber = cmf_fiber_new(thread_main, t);
  t->stack = calloc(THREAD_STACK_SLOTS, sizeof *t->stack);
  t->frames = calloc(CM_MAX_FRAMES, sizeof *t->frames);
  if (!t->fiber || !t->stack || !t->frames) {
    thread_release(t);
    return NULL;
  }
  t->sp = t->stack;
  return t;
}

static void thread_release(cmx_thread *t) {
  cmf_fiber_free(t->fiber);
  free(t->stack);
  free(t->frames);
  t->fiber = NULL;
  t->stack = NULL;
  t->frames = NULL;
}

static void thread_release_all(cmx_thread *threads) {
  for (cmx_thread *t = threads; t; t = t->store_next) thread_release(t);
}

static bool thread_waiting(const cmx_thread *t) { return !t->running && t->ready; }
static bool thread_suspended(const cmx_thread *t) {
  return !t->running && !t->ready && !t->done && t->fiber;
}
static bool thread_ready(const cmx_thread *t) { return thread_waiting(t) && t->ready(t->ready_arg); }

static bool start_waiting_internal(cmx_thread *t, ready_fn ready, void *arg, cm_error *err) {
  cmx_store *s = t->store;
  if (!grow((void **)&s->waiting, &s->capwaiting, s->nwaiting, sizeof *s->waiting)) return oom(err);
  s->waiting[s->nwaiting++] = t;
  t->ready = ready;
  t->ready_arg = arg;
  return true;
}

static void stop_waiting_internal(cmx_thread *t) {
  cmx_store *s = t->store;
  for (uint32_t i = 0; i < s->nwaiting; i++)
    if (s->waiting[i] == t) {
      memmove(&s->waiting[i], &s->waiting[i + 1], (s->nwaiting - i - 1) * sizeof *s->waiting);
      s->nwaiting--;
      break;
    }
  t->ready = NULL;
  t->ready_arg = NULL;
}

static bool always(void *arg) {
  (void)arg;
  return true;
}

/* Thread.resume_later */
static bool thread_resume_later(cmx_thread *t, cm_error *err) {
  return start_waiting_internal(t, always, NULL, err);
}

static void task_lockdown(cmx_task *task);

/* the `resume` of one continuation: runs t on its fiber until it blocks or ends; false
 * (with t's error) if it trapped */
static bool resume_fiber(cmx_thread *t, cm_error *err) {
  cmx_store *s = t->store;
  cm_store *c = s->core;
  cm_value *stack = c->stack, *sp = c->sp;
  size_t slots = c->stack_slots;
  cm_frame *frames = c->frames;
  uint32_t nframes = c->nframes, nesting = c->nesting;
  cmx_thread *prev = s->current;
  c->stack = t->stack;
  c->stack_slots = THREAD_STACK_SLOTS;
  c->sp = t->sp;
  c->frames = t->frames;
  c->nframes = t->nframes;
  c->nesting = t->nesting;
  s->current = t;
  t->running = true;
  cmf_resume(t->fiber);
  t->sp = c->sp;
  t->nframes = c->nframes;
  t->nesting = c->nesting;
  c->stack = stack;
  c->stack_slots = slots;
  c->sp = sp;
  c->frames = frames;
  c->nframes = nframes;
  c->nesting = nesting;
  s->current = prev;
  if (!cmf_done(t->fiber)) return true;
  t->running = false;
  t->done = true;
  t->switch_to = NULL;
  thread_release(t);
  if (t->ok) return true;
  if (t->task && (t->err.kind == CMREF_TRAP || t->err.kind == CMREF_EXHAUSTION))
    task_lockdown(t->task);
  if (err) *err = t->err;
  return false;
}

/* Thread.resume: runs t, then each thread a blocking thread switches to */
static bool thread_resume(cmx_thread *t, bool cancelled, cm_error *err) {
  if (thread_waiting(t)) stop_waiting_internal(t);
  while (t) {
    t->cancelled = cancelled;
    if (!resume_fiber(t, err)) return false;
    cmx_thread *next = t->switch_to;
    t->switch_to = NULL;
    t = next;
    cancelled = false;
  }
  return true;
}

/* block_internal / switch_to_internal: returns the Cancelled the resumer passes */
static bool thread_block(cmx_thread *t, bool cancellable, cmx_thread *switch_to) {
  t->cancellable = cancellable;
  t->switch_to = switch_to;
  t->running = false;
  cmf_suspend(t->fiber);
  t->running = true;
  return t->cancelled;
}

/* The thread whose task's own core code is running: the current thread, unless a
 * synchronous lift (canonical.c, which runs on the caller's stack) has been entered since
 * (the core store's invocation nesting then exceeds the thread's one level). NULL: the
 * running task is synchronous.
 * This is the spec's current_thread() and not a guess: a thread's own core code (an async
 * lift's callee, its callback, a thread.new-indirect start function) is the one invocation
 * at nesting 1 on its fiber; every other invocation nested inside it runs, in definitions.py,
 * in a synchronous task of its own (a sync lift's callee and post-return; a resource
 * destructor, Store.lift'ed by canon_resource_drop; a realloc, canon_lift'ed by
 * LiftLowerContext.reallocate, whose context storage realloc_call keeps apart). */
static cmx_thread *task_thread(cmx_store *s) {
  cmx_thread *t = s->current;
  return t && t->task && s->core->nesting <= 1 ? t : NULL; /* a host thread has no task */
}

/* Task.may_block, Task.deliver_pending_cancel */
static bool task_may_block(cmx_task *task);
static bool task_deliver_pending_cancel(cmx_task *task, bool cancellable);

/* Thread.suspend */
static bool thread_suspend(cmx_thread *t, bool cancellable) {
  if (task_deliver_pending_cancel(t->task, cancellable)) return true;
  return thread_block(t, cancellable, NULL);
}

/* Thread.wait_until: *cancelled is the Cancelled result */
static bool thread_wait_until(cmx_thread *t, ready_fn ready, void *arg, bool cancellable,
                              bool *cancelled, cm_error *err) {
  *cancelled = true;
  if (task_deliver_pending_cancel(t->task, cancellable)) return true;
  if (!start_waiting_internal(t, ready, arg, err)) return false;
  *cancelled = thread_block(t, cancellable, NULL);
  return true;
}

/* Thread.yield_ */
static bool thread_yield(cmx_thread *t, bool cancellable, bool *cancelled, cm_error *err) {
  return thread_wait_until(t, always, NULL, cancellable, cancelled, err);
}

/* Thread.suspend_then_resume */
static bool thread_suspend_then_resume(cmx_thread *t, bool cancellable, cmx_thread *other) {
  if (task_deliver_pending_cancel(t->task, cancellable)) return true;
  return thread_block(t, cancellable, other);
}

/* Thread.yield_then_resume */
static bool thread_yield_then_resume(cmx_thread *t, bool cancellable, cmx_thread *other,
                                     bool *cancelled, cm_error *err) {
  *cancelled = true;
  if (task_deliver_pending_cancel(t->task, cancellable)) return true;
  if (!start_waiting_internal(t, always, NULL, err)) return false;
  *cancelled = thread_block(t, cancellable, other);
  return true;
}

/* Thread.suspend_then_promote */
static bool thread_suspend_then_promote(cmx_thread *t, bool cancellable, cmx_thread *other) {
  if (task_deliver_pending_cancel(t->task, cancellable)) return true;
  if (thread_ready(other)) {
    stop_waiting_internal(other);
    return thread_suspend_then_resume(t, cancellable, other);
  }
  return thread_suspend(t, cancellable);
}

/* Thread.yield_then_promote */
static bool thread_yield_then_promote(cmx_thread *t, bool cancellable, cmx_thread *other,
                                      bool *cancelled, cm_error *err) {
  *cancelled = true;
  if (task_deliver_pending_cancel(t->task, cancellable)) return true;
  if (thread_ready(other)) {
    stop_waiting_internal(other);
    return thread_yield_then_resume(t, cancellable, other, cancelled, err);
  }
  return thread_yield(t, cancellable, cancelled, err);
}

/* Store.tick: resumes the first waiting thread that is ready. *progress: one was. */
static bool store_tick(cmx_store *s, bool *progress, cm_error *err) {
  *progress = false;
  for (uint32_t i = 0; i < s->nwaiting; i++) {
    cmx_thread *t = s->waiting[i];
    if (!thread_ready(t)) continue;
    *progress = true;
    return thread_resume(t, false, err);
  }
  return true;
}

/* Blocks the current thread (not cancellable; or, for the embedder, runs the scheduler)
 * until ready(arg) */
static bool block_until(cmx_store *s, ready_fn ready, void *arg, cm_error *err) {
  if (ready(arg)) return true;
  bool cancelled;
  if (s->current) return thread_wait_until(s->current, ready, arg, false, &cancelled, err);
  while (!ready(arg)) {
    bool progress;
    if (!store_tick(s, &progress, err)) return false;
    if (!progress) return TRAP("wasm trap: deadlock detected: event loop cannot make further progress");
  }
  return true;
}

/* ================================================================================ */
/* Waitable and WaitableSet                                                         */
/* ================================================================================ */

enum { EVENT_NONE = 0, EVENT_SUBTASK = 1, EVENT_STREAM_READ = 2, EVENT_STREAM_WRITE = 3,
       EVENT_FUTURE_READ = 4, EVENT_FUTURE_WRITE = 5, EVENT_TASK_CANCELLED = 6 };

typedef struct cmx_waitable cmx_waitable;
typedef struct cmx_wset cmx_wset;

enum { WAITABLE_SUBTASK = 1 };

struct cmx_waitable {
  int kind;
  bool has_sync_waiter;
  bool pending; /* pending_event is set */
  void (*pending_event)(cmx_waitable *w, uint32_t ev[3]);
  cmx_wset *wset;
};

struct cmx_wset {
  cmx_waitable **elems;
  uint32_t n, cap;
  uint32_t num_waiting;
};

/* at the Store's end: a set never dropped */
static void wset_release(void *p) {
  cmx_wset *ws = p;
  free(ws->elems);
  ws->elems = NULL;
}

static void waitable_set_pending_event(cmx_waitable *w, void (*f)(cmx_waitable *, uint32_t[3])) {
  w->pending = true;
  w->pending_event = f;
}

static void waitable_get_pending_event(cmx_waitable *w, uint32_t ev[3]) {
  w->pending = false;
  w->pending_event(w, ev);
}

static bool waitable_join(cmx_waitable *w, cmx_wset *ws, cm_error *err) {
  if (w->wset) {
    cmx_wset *o = w->wset;
    for (uint32_t i = 0; i < o->n; i++)
      if (o->elems[i] == w) {
        memmove(&o->elems[i], &o->elems[i + 1], (o->n - i - 1) * sizeof *o->elems);
        o->n--;
        break;
      }
  }
  w->wset = ws;
  if (ws) {
    if (!grow((void **)&ws->elems, &ws->cap, ws->n, sizeof *ws->elems)) return oom(err);
    ws->elems[ws->n++] = w;
  }
  return true;
}

static bool waitable_wait_for_pending_event(cmx_store *s, cmx_waitable *w, cm_error *err);

static bool wset_has_pending_event(void *arg) {
  cmx_wset *ws = arg;
  for (uint32_t i = 0; i < ws->n; i++)
    if (ws->elems[i]->pending) return true;
  return false;
}

static void wset_get_pending_event(cmx_wset *ws, uint32_t ev[3]) {
  for (uint32_t i = 0; i < ws->n; i++)
    if (ws->elems[i]->pending) {
      waitable_get_pending_event(ws->elems[i], ev);
      return;
    }
  ev[0] = ev[1] = ev[2] = 0;
}

typedef struct wset_wait {
  cmx_wset *ws;
  cma_instance *inst; /* non-NULL: also wait until the instance is not exclusively held */
} wset_wait;

static bool wset_ready(void *arg) {
  wset_wait *w = arg;
  if (w->inst && w->inst->exclusive_thread) return false;
  return wset_has_pending_event(w->ws);
}

/* WaitableSet.wait_for_event_and (ready: the instance `excl` is not exclusively held) */
static bool wset_wait_for_event_and(cmx_thread *t, cmx_wset *ws, cma_instance *excl,
                                    bool cancellable, uint32_t ev[3], cm_error *err) {
  wset_wait w = {ws, excl};
  ws->num_waiting++;
  bool cancelled = false, ok = true;
  if (task_deliver_pending_cancel(t->task, cancellable))
    cancelled = true;
  else if (!wset_ready(&w))
    ok = thread_wait_until(t, wset_ready, &w, cancellable, &cancelled, err);
  ws->num_waiting--;
  if (!ok) return false;
  if (cancelled) {
    ev[0] = EVENT_TASK_CANCELLED;
    ev[1] = ev[2] = 0;
  } else {
    wset_get_pending_event(ws, ev);
  }
  return true;
}

/* ================================================================================ */
/* Task                                                                             */
/* ================================================================================ */

struct cmx_task {
  cma_task t; /* the borrow scope of lifted handles */
  cma_funcinst *f;
  cmx_thread *implicit_thread;
  cmx_thread *threads; /* Task.threads, in registration order (linked by task_next) */
  cma_heap heap;
  bool host_caller;
  cma_instance *caller; /* NULL: the host */
};

/* at the Store's end: a task that never exited (it trapped, or still waits) */
static void task_release(void *p) { cma_heap_free(&((cmx_task *)p)->heap); }

static bool task_needs_exclusive(cmx_task *task) {
  return !task->f->opts.async_ || task->f->opts.callback;
}

static bool task_has_backpressure(cmx_task *task) {
  cma_instance *inst = task->t.inst;
  return inst->backpressure > 0 || (task_needs_exclusive(task) && inst->exclusive_thread);
}

static bool task_may_block(cmx_task *task) {
  return task->f->ft.async_ || task->t.state == CMA_TASK_RESOLVED;
}

static bool task_may_enter(void *arg) { return !task_has_backpressure(arg); }

/* lockdown (Explainer.md): a trap leaves the instances the task entered unenterable, also
 * when the trapping thread was resumed by the scheduler after the call had returned */
static void task_lockdown(cmx_task *task) { enter_from(task->t.inst, task->caller); }

static bool task_cancel(cmx_task *task, cm_error *err);

/* Task.register_thread */
static bool task_register_thread(cmx_task *task, cmx_thread *t, cm_error *err) {
  cmx_thread **p = &task->threads;
  while (*p) p = &(*p)->task_next;
  *p = t;
  t->task_next = NULL;
  return cma_table_add(&task->t.inst->threads, CMA_ENTRY_THREAD, t, &t->index, err);
}

/* Task.unregister_thread */
static bool task_unregister_thread(cmx_task *task, cmx_thread *t, cm_error *err) {
  for (cmx_thread **p = &task->threads; *p; p = &(*p)->task_next)
    if (*p == t) {
      *p = t->task_next;
      break;
    }
  if (!task->threads) {
    if (task->t.state != CMA_TASK_RESOLVED)
      return TRAP("wasm trap: async-lifted export failed to produce a result");
    cma_heap_free(&task->heap);
  }
  cma_table_entry e;
  if (t->index && !cma_table_remove(&task->t.inst->threads, t->index, &e, err)) return false;
  t->index = 0;
  return true;
}

/* Task.enter_implicit_thread: waits out backpressure (cancellable), then takes the
 * instance's exclusive lock if needed. *entered false: cancelled (the task resolved). */
static bool task_enter_implicit_thread(cmx_task *task, cmx_thread *t, bool *entered,
                                       cm_error *err) {
  cma_instance *inst = task->t.inst;
  *entered = false;
  if (!task->f->ft.async_) {
    *entered = true;
    return task_register_thread(task, t, err);
  }
  if (task_has_backpressure(task) || inst->num_waiting_to_enter > 0) {
    inst->num_waiting_to_enter++;
    bool cancelled;
    bool ok = thread_wait_until(t, task_may_enter, task, true, &cancelled, err);
    inst->num_waiting_to_enter--;
    if (!ok) return false;
    if (cancelled) return task_cancel(task, err);
  }
  if (task_needs_exclusive(task)) inst->exclusive_thread = t;
  *entered = true;
  return task_register_thread(task, t, err);
}

/* Task.exit_implicit_thread */
static bool task_exit_implicit_thread(cmx_task *task, cmx_thread *t, cm_error *err) {
  if (!task_unregister_thread(task, t, err)) return false;
  if (task->f->ft.async_ && task_needs_exclusive(task) && task->t.inst->exclusive_thread == t)
    task->t.inst->exclusive_thread = NULL;
  return true;
}

/* the thread of task that request_cancellation resumes: the first cancellable blocked one
 * in Task.threads order (the spec's random.choice; deterministic here) */
static cmx_thread *task_cancellation_candidate(cmx_task *task) {
  cma_instance *inst = task->t.inst;
  bool skip_implicit = task_needs_exclusive(task) && inst->exclusive_thread &&
                       inst->exclusive_thread != task->implicit_thread;
  for (cmx_thread *t = task->threads; t; t = t->task_next) {
    if (t == task->implicit_thread && skip_implicit) continue;
    if (t->cancellable && !t->running && !t->done) return t;
  }
  return NULL;
}

/* Task.request_cancellation (the OnCancel of an async lift) */
static bool task_request_cancellation(void *arg, cma_instance *caller, cm_error *err) {
  cmx_task *task = arg;
  cma_instance *inst = task->t.inst;
  if (task->t.state == CMA_TASK_INITIAL) {
    task->t.state = CMA_TASK_CANCEL_DELIVERED;
    return thread_resume(task->implicit_thread, true, err);
  }
  if (task->t.state != CMA_TASK_STARTED) return true;
  cmx_thread *t = task_cancellation_candidate(task);
  if (!t || !may_enter_from(inst, caller)) {
    task->t.state = CMA_TASK_PENDING_CANCEL;
    return true;
  }
  task->t.state = CMA_TASK_CANCEL_DELIVERED;
  enter_from(inst, caller);
  bool ok = thread_resume(t, true, err);
  if (ok || (err && err->kind != CMREF_TRAP && err->kind != CMREF_EXHAUSTION)) leave_to(inst, caller);
  return ok;
}

static bool task_deliver_pending_cancel(cmx_task *task, bool cancellable) {
  if (!cancellable || task->t.state != CMA_TASK_PENDING_CANCEL) return false;
  task->t.state = CMA_TASK_CANCEL_DELIVERED;
  return true;
}

/* Task.return_ */
static bool task_return(cmx_task *task, const cma_vals *result, cm_error *err) {
  if (task->t.state == CMA_TASK_RESOLVED)
    return TRAP("wasm trap: `task.return` or `task.cancel` called more than once for current task");
  if (task->t.num_borrows > 0) return TRAP("borrow handles still remain at the end of the call");
  if (!task->t.on_resolve(task->t.env, result, err)) return false;
  task->t.state = CMA_TASK_RESOLVED;
  return true;
}

/* Task.cancel */
static bool task_cancel(cmx_task *task, cm_error *err) {
  if (task->t.state == CMA_TASK_RESOLVED)
    return TRAP("wasm trap: `task.return` or `task.cancel` called more than once for current task");
  if (task->t.state != CMA_TASK_CANCEL_DELIVERED)
    return TRAP("wasm trap: `task.cancel` called by task which has not been cancelled");
  if (task->t.num_borrows > 0) return TRAP("borrow handles still remain at the end of the call");
  if (!task->t.on_resolve(task->t.env, NULL, err)) return false;
  task->t.state = CMA_TASK_RESOLVED;
  return true;
}

static bool task_resolved(void *arg) { return ((cmx_task *)arg)->t.state == CMA_TASK_RESOLVED; }

/* ================================================================================ */
/* Subtask                                                                          */
/* ================================================================================ */

typedef struct cmx_subtask {
  cmx_waitable w;
  cma_subtask st;
  uint32_t index; /* in the caller's table; 0 until added */
  const cmx_builtin *b;
  cma_cx cx;
  cma_heap heap;
  cm_value flat_args[CMA_MAX_FLAT_ASYNC_PARAMS + 2];
  uint32_t nflat_args, nparam_args;
  cmx_cancel_slot on_cancel; /* Subtask.on_cancel (fn NULL: the callee cannot be cancelled) */
} cmx_subtask;

/* at the Store's end: a subtask never dropped (its lenders array if it never resolved) */
static void subtask_release(void *p) {
  cmx_subtask *s = p;
  cma_heap_free(&s->heap);
  free(s->st.lenders);
  s->st.lenders = NULL;
}

static bool subtask_resolved(void *arg);

static void subtask_event(cmx_waitable *w, uint32_t ev[3]) {
  cmx_subtask *s = (cmx_subtask *)w;
  ev[0] = EVENT_SUBTASK;
  ev[1] = s->index;
  ev[2] = s->st.state;
  if (subtask_resolved(&s->st)) cma_deliver_resolve(&s->st);
}

static void subtask_on_progress(cmx_subtask *s) {
  if (s->index) waitable_set_pending_event(&s->w, subtask_event);
}

static bool subtask_resolved(void *arg) {
  const cma_subtask *st = arg;
  return st->state == CMA_SUBTASK_RETURNED || st->state == CMA_SUBTASK_CANCELLED_BEFORE_STARTED ||
         st->state == CMA_SUBTASK_CANCELLED_BEFORE_RETURNED;
}

/* a thread that a synchronous task's canon_lift loop may resume (other than self): ready,
 * and neither the exclusive thread nor the implicit thread of a task that needs exclusive
 * use of the instance (the during-sync-call rules); the first in the instance's table */
static cmx_thread *sync_candidate(cma_instance *inst, cmx_thread *self) {
  cma_table *threads = &inst->threads;
  for (uint32_t i = 1; i < threads->len; i++) {
    cmx_thread *t = threads->array[i].kind == CMA_ENTRY_THREAD ? threads->array[i].p : NULL;
    if (!t || t == self || !thread_ready(t) || t == inst->exclusive_thread) continue;
    cmx_task *task = t->task;
    if (task->f->ft.async_ && task_needs_exclusive(task) && t == task->implicit_thread) continue;
    return t;
  }
  return NULL;
}

/* wasmtime's wording when a synchronous task cannot block: a deadlock if threads elsewhere
 * are ready but may not run during the synchronous call, else "cannot block" */
static bool sync_block_trap(cmx_store *s, cm_error *err) {
  for (uint32_t i = 0; i < s->nwaiting; i++)
    if (thread_ready(s->waiting[i]))
      return TRAP("wasm trap: deadlock detected: event loop cannot make further progress");
  return TRAP("wasm trap: cannot block a synchronous task before returning");
}

/* Task.may_block, or (a synchronous task) another thread of the instance can run meanwhile */
static bool thread_may_block(cmx_thread *t) {
  return task_may_block(t->task) || sync_candidate(t->task->t.inst, t) != NULL;
}

bool cmx_wait_subtask(cma_store *as, cma_subtask *st, cma_heap *heap, cm_error *err) {
  cmx_thread *t = as->cx ? task_thread(as->cx) : NULL;
  if (!t) return TRAP("wasm trap: cannot block a synchronous task before returning");
  if (!thread_may_block(t)) return sync_block_trap(as->cx, err);
  cmx_store *s = as->cx;
  if (!grow((void **)&s->waiting_heaps, &s->capwaiting_heaps, s->nwaiting_heaps,
            sizeof *s->waiting_heaps))
    return oom(err);
  s->waiting_heaps[s->nwaiting_heaps++] = heap;
  bool ok = block_until(s, subtask_resolved, st, err);
  for (uint32_t i = s->nwaiting_heaps; i-- > 0;)
    if (s->waiting_heaps[i] == heap) {
      s->waiting_heaps[i] = s->waiting_heaps[--s->nwaiting_heaps];
      break;
    }
  return ok;
}

bool cmx_may_block(cma_store *as) {
  cmx_thread *t = as->cx ? task_thread(as->cx) : NULL;
  return t && t->task && thread_may_block(t);
}

/* ================================================================================ */
/* canon lift (async)                                                               */
/* ================================================================================ */

/* An exception leaving guest code that the store drives (an async lift or lower, a thread's
 * start function) reaches the host, not a fused adapter's exception barrier: wasmtime's
 * ThrownException, not the sync adapter's "uncaught exception propagated out of component". */
#define THROWN_EXCEPTION "wasm trap: thrown Wasm exception"

static bool call_core(cma_corefunc *f, const cm_value *args, uint32_t nargs, cm_value *results,
                      uint32_t nresults, cm_error *err) {
  if (f->call(f->env, args, nargs, results, nresults, err)) return true;
  if (err && err->kind == CMREF_TRAP && strncmp(err->message, "uncaught exception", 18) == 0)
    return TRAP("%s", THROWN_EXCEPTION);
  return false;
}

static bool lifted_sync_body(cmx_task *task, cmx_thread *t, cma_cx *cx, const cm_value *flat_args,
                             uint32_t nargs, const cma_flat_functype *flat_ft, cm_error *err) {
  cma_funcinst *f = task->f;
  cm_value res[CMA_MAX_FLAT_RESULTS + 1];
  memset(res, 0, sizeof res);
  if (!call_core(&f->callee, flat_args, nargs, res, flat_ft->nresults, err)) return false;
  cmc_field rf = {NULL, f->ft.result};
  cma_vals result;
  if (!cma_lift_flat_values(cx, CMA_MAX_FLAT_RESULTS, res, flat_ft->nresults, &rf,
                            f->ft.result == CMC_NONE ? 0 : 1, &result) ||
      !task_return(task, &result, err))
    return false;
  if (f->opts.post_return) {
    task->t.inst->may_leave = false;
    bool ok = call_core(f->opts.post_return, res, flat_ft->nresults, NULL, 0, err);
    task->t.inst->may_leave = true;
    if (!ok) return false;
  }
  return task_exit_implicit_thread(task, t, err);
}

static bool get_wset(cma_instance *inst, uint32_t i, cmx_wset **out, cm_error *err) {
  cma_table_entry *e;
  if (!cma_table_get(&inst->handles, i, &e, err)) return false;
  if (e->kind != CMA_ENTRY_WAITABLE_SET) return TRAP("wasm trap: unknown handle index %u", i);
  *out = e->p;
  return true;
}

typedef struct yield_wait {
  cma_instance *inst;
} yield_wait;

static bool not_exclusive(void *arg) { return ((cma_instance *)arg)->exclusive_thread == NULL; }

/* the callback event loop of canon_lift */
static bool lifted_callback_loop(cmx_task *task, cmx_thread *t, uint32_t packed, cm_error *err) {
  cma_funcinst *f = task->f;
  cma_instance *inst = task->t.inst;
  for (;;) {
    uint32_t code = packed & 0xf, si = packed >> 4;
    if (code > 2) return TRAP("wasm trap: unsupported callback code: %u", code);
    if (code == 0) break; /* EXIT */
    t->in_event_loop = true;
    inst->exclusive_thread = NULL;
    uint32_t ev[3] = {EVENT_NONE, 0, 0};
    if (code == 1) { /* YIELD */
      bool cancelled;
      if (!thread_wait_until(t, not_exclusive, inst, true, &cancelled, err)) return false;
      if (cancelled) ev[0] = EVENT_TASK_CANCELLED;
    } else { /* WAIT */
      cmx_wset *ws = NULL;
      if (!get_wset(inst, si, &ws, err) || !wset_wait_for_event_and(t, ws, inst, true, ev, err))
        return false;
    }
    t->in_event_loop = false;
    inst->exclusive_thread = t;
    cm_value args[3] = {{.i32 = ev[0]}, {.i32 = ev[1]}, {.i32 = ev[2]}}, res = {0};
    if (!call_core(f->opts.callback, args, 3, &res, 1, err)) return false;
    packed = res.i32;
  }
  return task_exit_implicit_thread(task, t, err);
}

/* canon_lift's thread_func */
static bool lifted_thread(cmx_thread *t, cm_error *err) {
  cmx_task *task = t->task;
  cma_funcinst *f = task->f;
  const cma_options *opts = &f->opts;
  bool entered;
  if (!task_enter_implicit_thread(task, t, &entered, err)) return false;
  if (!entered) return true;
  cma_cx cx = {.opts = opts, .inst = task->t.inst, .scope_kind = CMA_SCOPE_TASK,
               .borrow_scope = &task->t, .types = f->ft.types, .heap = &task->heap,
               .host = task->host_caller, .err = err};
  cma_vals args = {NULL, 0};
  task->t.state = CMA_TASK_STARTED;
  if (!task->t.on_start(task->t.env, &args, err)) return false;
  cm_value flat_args[CMA_MAX_FLAT_PARAMS + 1];
  uint32_t nargs = 0;
  cma_flat_functype flat_ft;
  if (!cma_lower_flat_values(&cx, CMA_MAX_FLAT_PARAMS, &args, f->ft.params, f->ft.nparams,
                             flat_args, &nargs) ||
      !flatten_functype(opts, &f->ft, CMA_LIFT, &flat_ft, err))
    return false;
  if (!opts->async_) return lifted_sync_body(task, t, &cx, flat_args, nargs, &flat_ft, err);
  if (!opts->callback) {
    if (!call_core(&f->callee, flat_args, nargs, NULL, 0, err)) return false;
    return task_exit_implicit_thread(task, t, err);
  }
  cm_value packed = {0};
  if (!call_core(&f->callee, flat_args, nargs, &packed, 1, err)) return false;
  return lifted_callback_loop(task, t, packed.i32, err);
}

/* a is b or one of b's ancestors (call_might_be_recursive: entering yourself) */
static bool is_reflexive_ancestor(const cma_instance *a, const cma_instance *b) {
  for (; b; b = b->parent)
    if (a == b) return true;
  return false;
}

/* canon_lift of a synchronous function type: runs the instance's ready threads (not the
 * exclusive one; first in the instance's thread table) until the task resolves */
static bool sync_task_run(cmx_task *task, cm_error *err) {
  while (task->t.state != CMA_TASK_RESOLVED) {
    cmx_thread *next = sync_candidate(task->t.inst, NULL);
    if (!next) return sync_block_trap(task->implicit_thread->store, err);
    if (!thread_resume(next, false, err)) return false;
  }
  return true;
}

static bool lifted_async_call(cma_funcinst *self, cma_on_start on_start,
                              cma_on_resolve on_resolve, void *env, cma_instance *caller,
                              cm_error *err);

/* through the store's interception hook when one is installed (hook.c) */
bool cmx_lifted_call(cma_funcinst *self, cma_on_start on_start, cma_on_resolve on_resolve,
                     void *env, cma_instance *caller, cm_error *err) {
  if (self->store && self->store->hook && !cma_hook_wrapped(on_start)) /* sync lifts: once */
    return cma_hooked_call(lifted_async_call, self, on_start, on_resolve, env, caller, err);
  return lifted_async_call(self, on_start, on_resolve, env, caller, err);
}

static bool lifted_async_call(cma_funcinst *self, cma_on_start on_start,
                              cma_on_resolve on_resolve, void *env, cma_instance *caller,
                              cm_error *err) {
  cmx_store *s = cmx_store_of(self->store, self->host_env);
  if (!s) return oom(err);
  cma_instance *inst = self->inst;
  if (!may_enter_from(inst, caller) || (caller && is_reflexive_ancestor(inst, caller)))
    return TRAP("%s", cma_trap_message(CMA_TRAP_CANNOT_ENTER, caller == NULL));
  cmx_task *task = own_with(s, sizeof *task, task_release);
  if (!task) return oom(err);
  task->t.ft = &self->ft;
  task->t.opts = &self->opts;
  task->t.inst = inst;
  task->t.on_start = on_start;
  task->t.on_resolve = on_resolve;
  task->t.env = env;
  task->t.state = CMA_TASK_INITIAL;
  task->f = self;
  task->host_caller = caller == NULL;
  task->caller = caller;
  task->implicit_thread = thread_new(s, task, lifted_thread);
  if (!task->implicit_thread) return oom(err);
  cmx_set_on_cancel(self->store, env, task_request_cancellation, task);
  enter_from(inst, caller);
  bool ok = thread_resume(task->implicit_thread, false, err);
  /* lockdown (Explainer.md): a trap leaves the instances it ran in unenterable */
  if (ok || (err && err->kind != CMREF_TRAP && err->kind != CMREF_EXHAUSTION)) leave_to(inst, caller);
  if (ok && !self->ft.async_) ok = sync_task_run(task, err);
  if (ok && caller == NULL && s->current == NULL) ok = block_until(s, task_resolved, task, err);
  return ok;
}

/* ================================================================================ */
/* canon lower (async)                                                              */
/* ================================================================================ */

static bool async_lower_on_start(void *env, cma_vals *args, cm_error *err) {
  cmx_subtask *s = env;
  s->cx.err = err;
  s->st.state = CMA_SUBTASK_STARTED;
  subtask_on_progress(s);
  return cma_lift_flat_values(&s->cx, CMA_MAX_FLAT_ASYNC_PARAMS, s->flat_args, s->nparam_args,
                              s->b->ft.params, s->b->ft.nparams, args);
}

static bool async_lower_on_resolve(void *env, const cma_vals *result, cm_error *err) {
  cmx_subtask *s = env;
  s->cx.err = err;
  if (!result) { /* cancelled */
    s->st.state = s->st.state == CMA_SUBTASK_STARTING ? CMA_SUBTASK_CANCELLED_BEFORE_STARTED
                                                      : CMA_SUBTASK_CANCELLED_BEFORE_RETURNED;
    subtask_on_progress(s);
    return true;
  }
  cmc_field rf = {NULL, s->b->ft.result};
  if (s->b->ft.result != CMC_NONE &&
      !cma_lower_flat_values_to(&s->cx, 0, result, &rf, 1, s->flat_args + s->nparam_args, 1))
    return false;
  s->st.state = CMA_SUBTASK_RETURNED;
  subtask_on_progress(s);
  return true;
}

bool cmx_canon_lower_async(void *env, cm_store *core, const cm_value *args, cm_value *results,
                           cm_error *err) {
  const cmx_builtin *b = env;
  cma_instance *inst = b->inst;
  if (!inst->may_leave) return TRAP("%s", cma_trap_message(CMA_TRAP_CANNOT_LEAVE, false));
  cmx_store *st = cmx_store_of(inst->store, core);
  if (!st) return oom(err);
  cma_flat_functype flat_ft;
  if (!flatten_functype(&b->opts, &b->ft, CMA_LOWER, &flat_ft, err)) return false;
  cmx_subtask *s = own_with(st, sizeof *s, subtask_release);
  if (!s) return oom(err);
  s->w.kind = WAITABLE_SUBTASK;
  s->b = b;
  s->st.state = CMA_SUBTASK_STARTING;
  s->nflat_args = flat_ft.nparams;
  s->nparam_args = flat_ft.nparams - (b->ft.result != CMC_NONE ? 1 : 0);
  memcpy(s->flat_args, args, flat_ft.nparams * sizeof *args);
  s->cx = (cma_cx){.opts = &b->opts, .inst = inst, .scope_kind = CMA_SCOPE_SUBTASK,
                   .borrow_scope = &s->st, .types = b->ft.types, .heap = &s->heap,
                   .host = b->callee->call != cmx_lifted_call && b->callee->callee.call == NULL,
                   .err = err};
  s->on_cancel.env = s;
  cmx_cancel_slot *outer = st->lowering;
  st->lowering = &s->on_cancel;
  bool ok = b->callee->call(b->callee, async_lower_on_start, async_lower_on_resolve, s, inst, err);
  st->lowering = outer;
  if (!ok) return false;
  if (s->st.state == CMA_SUBTASK_RETURNED) {
    cma_deliver_resolve(&s->st);
    results[0].i32 = CMA_SUBTASK_RETURNED;
    return true;
  }
  if (!cma_table_add(&inst->handles, CMA_ENTRY_WAITABLE, &s->w, &s->index, err)) return false;
  results[0].i32 = s->st.state | (s->index << 4);
  return true;
}

/* ================================================================================ */
/* canon task.return                                                                */
/* ================================================================================ */

static cmx_thread *current_thread(cma_instance *inst, cm_store *core) {
  cmx_store *s = cmx_store_of(inst->store, core);
  return s ? task_thread(s) : NULL;
}

static bool same_valtype(cmc_types *ta, cmc_tid a, cmc_types *tb, cmc_tid b) {
  if (a == CMC_NONE || b == CMC_NONE) return a == b;
  if (ta != tb) return false;
  cmc_error e;
  cmc_subcx cx = {.types = ta, .err = &e};
  return cmc_sub_valtype(&cx, a, b) && cmc_sub_valtype(&cx, b, a);
}

static bool same_memory(const cma_meminst *a, const cma_meminst *b) {
  return a == b || (a && b && a->data == b->data);
}

bool cmx_task_return(void *env, cm_store *core, const cm_value *args, cm_value *results,
                     cm_error *err) {
  (void)results;
  const cmx_builtin *b = env;
  if (!b->inst->may_leave) return TRAP("%s", cma_trap_message(CMA_TRAP_CANNOT_LEAVE, false));
  cmx_thread *t = current_thread(b->inst, core);
  if (!t || !t->task->f->opts.async_ || t->task->t.inst != b->inst ||
      !same_valtype(b->ft.types, b->ft.result, t->task->f->ft.types, t->task->f->ft.result) ||
      b->opts.string_encoding != t->task->f->opts.string_encoding ||
      (b->opts.memory && !same_memory(b->opts.memory, t->task->f->opts.memory)))
    return TRAP("wasm trap: invalid `task.return` signature and/or options for current task");
  cmx_task *task = t->task;
  cma_functype rt = {.types = b->ft.types, .params = NULL, .nparams = 0, .result = CMC_NONE};
  cmc_field rf = {NULL, b->ft.result};
  if (b->ft.result != CMC_NONE) {
    rt.params = &rf;
    rt.nparams = 1;
  }
  cma_options sync_opts = b->opts;
  sync_opts.async_ = false;
  cma_flat_functype flat;
  if (!flatten_functype(&sync_opts, &rt, CMA_LOWER, &flat, err)) return false;
  cma_cx cx = {.opts = &sync_opts, .inst = b->inst, .types = b->ft.types, .heap = &task->heap,
               .host = task->host_caller, .err = err};
  cma_vals result;
  if (!cma_lift_flat_values(&cx, CMA_MAX_FLAT_PARAMS, args, flat.nparams, rt.params, rt.nparams,
                            &result))
    return false;
  return task_return(task, &result, err);
}

/* ================================================================================ */
/* canon task.cancel                                                                */
/* ================================================================================ */

bool cmx_task_cancel(void *env, cm_store *core, const cm_value *args, cm_value *results,
                     cm_error *err) {
  (void)args, (void)results;
  const cmx_builtin *b = env;
  if (!b->inst->may_leave) return TRAP("%s", cma_trap_message(CMA_TRAP_CANNOT_LEAVE, false));
  cmx_thread *t = current_thread(b->inst, core);
  if (!t || !t->task->f->opts.async_ || t->task->t.inst != b->inst)
    return TRAP("wasm trap: `task.cancel` called by task which has not been cancelled");
  return task_cancel(t->task, err);
}

/* ================================================================================ */
/* canon context.get / context.set                                                  */
/* ================================================================================ */

bool cmx_context_slot(cma_store *as, uint32_t i, uint32_t **out) {
  cmx_thread *t = as->cx ? task_thread(as->cx) : NULL;
  if (!t) return false;
  *out = &t->context[i & 1];
  return true;
}

/* ================================================================================ */
/* canon thread.yield                                                               */
/* ================================================================================ */

bool cmx_thread_yield(void *env, cm_store *core, const cm_value *args, cm_value *results,
                      cm_error *err) {
  (void)args;
  const cmx_builtin *b = env;
  if (!b->inst->may_leave) return TRAP("%s", cma_trap_message(CMA_TRAP_CANNOT_LEAVE, false));
  results[0].i32 = 0;
  cmx_thread *t = current_thread(b->inst, core);
  if (!t || !task_may_block(t->task)) return true; /* a sync task: no other thread runs */
  bool cancelled;
  if (!thread_yield(t, b->async_, &cancelled, err)) return false;
  results[0].i32 = cancelled;
  return true;
}

/* ================================================================================ */
/* canon thread.index / new-indirect / resume-later / suspend / *-then-*            */
/* ================================================================================ */

/* the current thread of a thread built-in: false (a trap) when the running task is
 * synchronous and the built-in would block */
static bool builtin_thread(const cmx_builtin *b, cm_store *core, bool blocks, cmx_thread **out,
                           cm_error *err) {
  if (!b->inst->may_leave) return TRAP("%s", cma_trap_message(CMA_TRAP_CANNOT_LEAVE, false));
  *out = current_thread(b->inst, core);
  if (*out && (!blocks || thread_may_block(*out))) return true;
  if (*out) return sync_block_trap((*out)->store, err);
  if (blocks) return TRAP("wasm trap: cannot block a synchronous task before returning");
  return fail(err, CMREF_INTERNAL, "cmref does not implement thread built-ins in a synchronous task (issue 8)");
}

static bool get_thread(cma_instance *inst, uint32_t i, cmx_thread **out, cm_error *err) {
  cma_table_entry *e;
  if (!cma_table_get(&inst->threads, i, &e, err)) return false;
  if (e->kind != CMA_ENTRY_THREAD) return TRAP("wasm trap: unknown handle index %u", i);
  *out = e->p;
  return true;
}

static bool get_suspended_thread(cma_instance *inst, uint32_t i, cmx_thread **out, cm_error *err) {
  if (!get_thread(inst, i, out, err)) return false;
  if (!thread_suspended(*out)) return TRAP("wasm trap: cannot resume thread which is not suspended");
  return true;
}

bool cmx_thread_index(void *env, cm_store *core, const cm_value *args, cm_value *results,
                      cm_error *err) {
  (void)args;
  cmx_thread *t;
  if (!builtin_thread(env, core, false, &t, err)) return false;
  results[0].i32 = t->index;
  return true;
}

/* the thread_func of thread.new-indirect */
static bool indirect_thread(cmx_thread *t, cm_error *err) {
  if (!cm_core_invoke(t->store->core, t->start, &t->start_arg, NULL, err)) {
    if (err && err->kind == CMREF_TRAP && strncmp(err->message, "uncaught exception", 18) == 0)
      return TRAP("%s", THROWN_EXCEPTION);
    return false;
  }
  return task_unregister_thread(t->task, t, err);
}

bool cmx_thread_new_indirect(void *env, cm_store *core, const cm_value *args, cm_value *results,
                             cm_error *err) {
  const cmx_builtin *b = env;
  cmx_thread *t;
  if (!builtin_thread(b, core, false, &t, err)) return false;
  uint32_t fi = args[0].i32;
  if (!b->table || fi >= b->table->size)
    return TRAP("wasm trap: undefined element: out of bounds table access");
  cm_funcinst *f = b->table->elems[fi];
  if (!f) return TRAP("wasm trap: the start function index points to an uninitialized function");
  if (!b->start_type || f->type_id != cm_store_type_id(core, b->start_type))
    return TRAP("wasm trap: start function does not match expected type (currently only `(i32) -> ()` is supported)");
  cmx_thread *nt = thread_new(t->store, t->task, indirect_thread);
  if (!nt) return oom(err);
  nt->start = f;
  nt->start_arg = args[1];
  if (!task_register_thread(t->task, nt, err)) return false;
  results[0].i32 = nt->index;
  return true;
}

bool cmx_thread_resume_later(void *env, cm_store *core, const cm_value *args, cm_value *results,
                             cm_error *err) {
  (void)results;
  const cmx_builtin *b = env;
  cmx_thread *t, *other;
  if (!builtin_thread(b, core, false, &t, err) || !get_suspended_thread(b->inst, args[0].i32, &other, err))
    return false;
  return thread_resume_later(other, err);
}

bool cmx_thread_suspend(void *env, cm_store *core, const cm_value *args, cm_value *results,
                        cm_error *err) {
  (void)args;
  const cmx_builtin *b = env;
  cmx_thread *t;
  if (!builtin_thread(b, core, true, &t, err)) return false;
  results[0].i32 = thread_suspend(t, b->async_);
  return true;
}

/* thread.suspend-then-resume, yield-then-resume, suspend-then-promote, yield-then-promote */
static bool switch_builtin(const cmx_builtin *b, cm_store *core, uint32_t i, bool yield,
                           bool promote, cm_value *results, cm_error *err) {
  cmx_thread *t = NULL, *other = NULL;
  if (!builtin_thread(b, core, false, &t, err)) return false;
  if (!(promote ? get_thread(b->inst, i, &other, err) : get_suspended_thread(b->inst, i, &other, err)))
    return false;
  bool cancelled;
  if (!yield)
    cancelled = promote ? thread_suspend_then_promote(t, b->async_, other)
                        : thread_suspend_then_resume(t, b->async_, other);
  else if (!(promote ? thread_yield_then_promote(t, b->async_, other, &cancelled, err)
                     : thread_yield_then_resume(t, b->async_, other, &cancelled, err)))
    return false;
  results[0].i32 = cancelled;
  return true;
}

bool cmx_thread_suspend_then_resume(void *env, cm_store *core, const cm_value *args,
                                    cm_value *results, cm_error *err) {
  return switch_builtin(env, core, args[0].i32, false, false, results, err);
}
bool cmx_thread_yield_then_resume(void *env, cm_store *core, const cm_value *args,
                                  cm_value *results, cm_error *err) {
  return switch_builtin(env, core, args[0].i32, true, false, results, err);
}
bool cmx_thread_suspend_then_promote(void *env, cm_store *core, const cm_value *args,
                                     cm_value *results, cm_error *err) {
  return switch_builtin(env, core, args[0].i32, false, true, results, err);
}
bool cmx_thread_yield_then_promote(void *env, cm_store *core, const cm_value *args,
                                   cm_value *results, cm_error *err) {
  return switch_builtin(env, core, args[0].i32, true, true, results, err);
}

/* ================================================================================ */
/* canon waitable-set.new / wait / poll / drop, waitable.join                       */
/* ================================================================================ */

bool cmx_waitable_set_new(void *env, cm_store *core, const cm_value *args, cm_value *results,
                          cm_error *err) {
  (void)args;
  const cmx_builtin *b = env;
  if (!b->inst->may_leave) return TRAP("%s", cma_trap_message(CMA_TRAP_CANNOT_LEAVE, false));
  cmx_store *s = cmx_store_of(b->inst->store, core);
  cmx_wset *ws = s ? own_with(s, sizeof *ws, wset_release) : NULL;
  if (!ws) return oom(err);
  return cma_table_add(&b->inst->handles, CMA_ENTRY_WAITABLE_SET, ws, &results[0].i32, err);
}

/* unpack_event: stores p1, p2 at ptr, returns the event code */
static bool unpack_event(const cmx_builtin *b, uint32_t ptr, const uint32_t ev[3],
                         cm_value *results, cm_error *err) {
  const cma_meminst *m = b->opts.memory;
  if (!m) return fail(err, CMREF_INTERNAL, "waitable-set.wait without a memory");
  if (ptr % 4) return TRAP("wasm trap: pointer not aligned");
  if ((uint64_t)ptr + 8 > *m->size) return TRAP("wasm trap: pointer out of bounds");
  uint8_t *p = *m->data + ptr;
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(ev[1] >> (8 * i));
  for (int i = 0; i < 4; i++) p[4 + i] = (uint8_t)(ev[2] >> (8 * i));
  results[0].i32 = ev[0];
  return true;
}

bool cmx_waitable_set_wait(void *env, cm_store *core, const cm_value *args, cm_value *results,
                           cm_error *err) {
  const cmx_builtin *b = env;
  if (!b->inst->may_leave) return TRAP("%s", cma_trap_message(CMA_TRAP_CANNOT_LEAVE, false));
  cmx_store *s = cmx_store_of(b->inst->store, core);
  if (!s) return oom(err);
  cmx_thread *t = task_thread(s);
  if (!t || !task_may_block(t->task))
    return TRAP("wasm trap: cannot block a synchronous task before returning");
  cmx_wset *ws = NULL;
  uint32_t ev[3];
  if (!get_wset(b->inst, args[0].i32, &ws, err) ||
      !wset_wait_for_event_and(t, ws, NULL, b->async_, ev, err))
    return false;
  return unpack_event(b, args[1].i32, ev, results, err);
}

/* WaitableSet.poll */
bool cmx_waitable_set_poll(void *env, cm_store *core, const cm_value *args, cm_value *results,
                           cm_error *err) {
  const cmx_builtin *b = env;
  if (!b->inst->may_leave) return TRAP("%s", cma_trap_message(CMA_TRAP_CANNOT_LEAVE, false));
  cmx_wset *ws = NULL;
  uint32_t ev[3] = {EVENT_NONE, 0, 0};
  if (!get_wset(b->inst, args[0].i32, &ws, err)) return false;
  cmx_thread *t = current_thread(b->inst, core);
  if (t && task_deliver_pending_cancel(t->task, b->async_))
    ev[0] = EVENT_TASK_CANCELLED;
  else if (wset_has_pending_event(ws))
    wset_get_pending_event(ws, ev);
  return unpack_event(b, args[1].i32, ev, results, err);
}

bool cmx_waitable_set_drop(void *env, cm_store *core, const cm_value *args, cm_value *results,
                           cm_error *err) {
  (void)core, (void)results;
  const cmx_builtin *b = env;
  if (!b->inst->may_leave) return TRAP("%s", cma_trap_message(CMA_TRAP_CANNOT_LEAVE, false));
  cmx_wset *ws = NULL;
  if (!get_wset(b->inst, args[0].i32, &ws, err)) return false;
  if (ws->num_waiting > 0) return TRAP("wasm trap: cannot drop waitable set with waiters");
  if (ws->n > 0) return TRAP("wasm trap: cannot drop waitable set with waiters");
  cma_table_entry e;
  if (!cma_table_remove(&b->inst->handles, args[0].i32, &e, err)) return false;
  free(ws->elems);
  ws->elems = NULL;
  return true;
}

static bool get_waitable(cma_instance *inst, uint32_t i, cmx_waitable **out, cm_error *err) {
  cma_table_entry *e;
  if (!cma_table_get(&inst->handles, i, &e, err)) return false;
  if (e->kind != CMA_ENTRY_WAITABLE) return TRAP("wasm trap: unknown handle index %u", i);
  *out = e->p;
  return true;
}

bool cmx_waitable_join(void *env, cm_store *core, const cm_value *args, cm_value *results,
                       cm_error *err) {
  (void)core, (void)results;
  const cmx_builtin *b = env;
  if (!b->inst->may_leave) return TRAP("%s", cma_trap_message(CMA_TRAP_CANNOT_LEAVE, false));
  cmx_waitable *w = NULL;
  cmx_wset *ws = NULL;
  if (!get_waitable(b->inst, args[0].i32, &w, err)) return false;
  if (w->has_sync_waiter)
    return TRAP("wasm trap: waitable cannot be used synchronously while added to a waitable set");
  if (args[1].i32 != 0 && !get_wset(b->inst, args[1].i32, &ws, err)) return false;
  return waitable_join(w, ws, err);
}

/* ================================================================================ */
/* canon subtask.cancel                                                             */
/* ================================================================================ */

static bool waitable_has_pending_event(void *arg) { return ((cmx_waitable *)arg)->pending; }

/* Waitable.wait_for_pending_event (not cancellable) */
static bool waitable_wait_for_pending_event(cmx_store *s, cmx_waitable *w, cm_error *err) {
  w->has_sync_waiter = true;
  bool ok = block_until(s, waitable_has_pending_event, w, err);
  w->has_sync_waiter = false;
  return ok;
}

bool cmx_subtask_cancel(void *env, cm_store *core, const cm_value *args, cm_value *results,
                        cm_error *err) {
  const cmx_builtin *b = env;
  if (!b->inst->may_leave) return TRAP("%s", cma_trap_message(CMA_TRAP_CANNOT_LEAVE, false));
  cmx_store *st = cmx_store_of(b->inst->store, core);
  if (!st) return oom(err);
  cmx_thread *t = task_thread(st);
  if (!b->async_ && (!t || !task_may_block(t->task)))
    return TRAP("wasm trap: cannot block a synchronous task before returning");
  cmx_waitable *w = NULL;
  if (!get_waitable(b->inst, args[0].i32, &w, err)) return false;
  if (w->kind != WAITABLE_SUBTASK) return TRAP("wasm trap: unknown handle index %u", args[0].i32);
  cmx_subtask *s = (cmx_subtask *)w;
  if (s->st.delivered || s->st.cancellation_requested)
    return TRAP("wasm trap: `subtask.cancel` called after terminal status delivered");
  if (w->wset && !b->async_)
    return TRAP("wasm trap: waitable cannot be used synchronously while added to a waitable set");
  if (!subtask_resolved(&s->st)) {
    s->st.cancellation_requested = true;
    if (s->on_cancel.fn && !s->on_cancel.fn(s->on_cancel.arg, b->inst, err)) return false;
    if (!subtask_resolved(&s->st)) {
      if (b->async_) {
        results[0].i32 = 0xffffffffu; /* BLOCKED */
        return true;
      }
      if (!waitable_wait_for_pending_event(st, w, err)) return false;
    }
  }
  uint32_t ev[3];
  waitable_get_pending_event(w, ev);
  results[0].i32 = s->st.state;
  return true;
}

/* ================================================================================ */
/* canon subtask.drop                                                               */
/* ================================================================================ */

bool cmx_subtask_drop(void *env, cm_store *core, const cm_value *args, cm_value *results,
                      cm_error *err) {
  (void)core, (void)results;
  const cmx_builtin *b = env;
  if (!b->inst->may_leave) return TRAP("%s", cma_trap_message(CMA_TRAP_CANNOT_LEAVE, false));
  cmx_waitable *w = NULL;
  if (!get_waitable(b->inst, args[0].i32, &w, err)) return false;
  if (w->kind != WAITABLE_SUBTASK) return TRAP("wasm trap: unknown handle index %u", args[0].i32);
  cmx_subtask *s = (cmx_subtask *)w;
  if (!s->st.delivered) return TRAP("wasm trap: cannot drop a subtask which has not yet resolved");
  cma_table_entry e;
  if (!cma_table_remove(&b->inst->handles, args[0].i32, &e, err)) return false;
  cma_heap_free(&s->heap);
  return waitable_join(w, NULL, err);
}

/* ================================================================================ */
/* Streams and Futures: buffers, SharedStreamImpl, copy ends                        */
/* ================================================================================ */

enum { COPY_COMPLETED = 0, COPY_DROPPED = 1, COPY_CANCELLED = 2 };
enum { END_IDLE = 0, END_SYNC_COPYING, END_ASYNC_COPYING, END_CANCELLING_COPY, END_DONE };
#define BLOCKED 0xffffffffu
#define COPY_MAX_LENGTH ((1u << 28) - 1) /* Buffer.MAX_LENGTH */

/* a ReadableBuffer (the writer's memory) or WritableBuffer (the reader's memory) */
typedef struct copy_buffer {
  cma_options opts;
  cma_instance *inst;
  cmc_types *types;
  cmc_tid elem; /* CMC_NONE: no payload */
  uint64_t ptr;
  uint32_t length, progress;
} copy_buffer;

typedef struct copy_end copy_end;

/* SharedStreamImpl (a future is one with a buffer of one element) */
typedef struct shared_impl {
  bool future;
  bool dropped;
  cma_instance *inst; /* the instance of stream.new / future.new, whose arena holds t */
  cmc_types *types;
  cmc_tid t;          /* the element type (CMC_NONE: none) */
  copy_end *pending; /* the end whose buffer waits for the other side */
  copy_buffer *pending_buffer;
} shared_impl;

struct copy_end {
  cmx_waitable w; /* kind WAITABLE_STREAM_END */
  shared_impl *sh;
  bool readable;
  int state;
  uint32_t index;
  copy_buffer buf;
  int result;    /* the pending event's CopyResult */
  bool reclaim;  /* the pending event reclaims the buffer (on_copy) */
};

enum { WAITABLE_COPY_END = 2 };

static uint32_t remain(const copy_buffer *b) { return b->length - b->progress; }

static cma_cx buffer_cx(copy_buffer *b, cma_heap *heap, cm_error *err) {
  return (cma_cx){.opts = &b->opts, .inst = b->inst, .scope_kind = CMA_SCOPE_NONE,
                  .types = b->types, .heap = heap, .err = err};
}

/* ReadableBuffer.read(n) into vs, then WritableBuffer.write(vs): every value is read
 * before any is written (the two ranges may overlap in one memory) */
static bool buffer_move(copy_buffer *dst, copy_buffer *src, uint32_t n, cma_heap *heap,
                        cm_error *err) {
  cma_cx scx = buffer_cx(src, heap, err), dcx = buffer_cx(dst, heap, err);
  uint64_t ssize = cma_elem_size(&scx, src->elem), dsize = cma_elem_size(&dcx, dst->elem);
  cma_val *vs = cma_heap_alloc_raw(heap, (size_t)n * sizeof *vs);
  if (!vs) return oom(err);
  for (uint32_t i = 0; i < n; i++)
    if (!cma_load_value(&scx, src->ptr + (uint64_t)(src->progress + i) * ssize, src->elem, &vs[i]))
      return false;
  for (uint32_t i = 0; i < n; i++)
    if (!cma_store_value(&dcx, &vs[i], dst->elem, dst->ptr + (uint64_t)(dst->progress + i) * dsize))
      return false;
  return true;
}

/* copies n elements from src (a ReadableBuffer) to dst (a WritableBuffer) */
static bool buffer_copy(copy_buffer *dst, copy_buffer *src, uint32_t n, cm_error *err) {
  if (src->elem != CMC_NONE && dst->elem != CMC_NONE && n > 0) {
    cma_heap heap = {NULL};
    bool ok = buffer_move(dst, src, n, &heap, err);
    cma_heap_free(&heap);
    if (!ok) return false;
  }
  src->progress += n;
  dst->progress += n;
  return true;
}

static void copy_event(cmx_waitable *w, uint32_t ev[3]);

/* on_copy (reclaim) / on_copy_done (result) of the end e: its pending event */
static void end_notify(copy_end *e, int result, bool reclaim) {
  e->result = result;
  e->reclaim = reclaim;
  waitable_set_pending_event(&e->w, copy_event);
}

static void shared_reset_pending(shared_impl *sh) {
  sh->pending = NULL;
  sh->pending_buffer = NULL;
}

static void shared_reset_and_notify_pending(shared_impl *sh, int result) {
  copy_end *p = sh->pending;
  shared_reset_pending(sh);
  if (p) end_notify(p, result, false);
}

static void copy_event(cmx_waitable *w, uint32_t ev[3]) {
  copy_end *e = (copy_end *)w;
  if (e->reclaim && e->sh->pending == e) shared_reset_pending(e->sh);
  if (e->result == COPY_DROPPED || (e->sh->future && e->result == COPY_COMPLETED))
    e->state = END_DONE;
  else
    e->state = END_IDLE;
  ev[0] = e->sh->future ? (e->readable ? EVENT_FUTURE_READ : EVENT_FUTURE_WRITE)
                        : (e->readable ? EVENT_STREAM_READ : EVENT_STREAM_WRITE);
  ev[1] = e->index;
  ev[2] = e->sh->future ? (uint32_t)e->result : (uint32_t)e->result | (e->buf.progress << 4);
}

/* none_or_number_type */
static bool none_or_number_type(const copy_buffer *b) {
  if (b->elem == CMC_NONE) return true;
  const cmc_type *t = &b->types->v[b->elem];
  if (t->kind != CMC_T_PRIM) return false;
  switch (t->prim) {
  case CMC_U8: case CMC_U16: case CMC_U32: case CMC_U64: case CMC_S8: case CMC_S16:
  case CMC_S32: case CMC_S64: case CMC_F32: case CMC_F64: return true;
  default: return false;
  }
}

/* SharedStreamImpl.read / write: e's buffer meets the pending one, or becomes pending */
static bool shared_copy(copy_end *e, cm_error *err) {
  shared_impl *sh = e->sh;
  if (sh->dropped) {
    end_notify(e, COPY_DROPPED, false);
    return true;
  }
  if (!sh->pending) {
    sh->pending = e;
    sh->pending_buffer = &e->buf;
    return true;
  }
  copy_end *p = sh->pending;
  if (e->buf.inst == sh->pending_buffer->inst && !none_or_number_type(&e->buf)) /* temporary */
    return TRAP("wasm trap: cannot read from and write to intra-component future/stream with non-numeric payload");
  if (remain(sh->pending_buffer) > 0) {
    if (remain(&e->buf) > 0) {
      uint32_t n = remain(&e->buf) < remain(sh->pending_buffer) ? remain(&e->buf) : remain(sh->pending_buffer);
      bool ok = e->readable ? buffer_copy(&e->buf, sh->pending_buffer, n, err)
                            : buffer_copy(sh->pending_buffer, &e->buf, n, err);
      if (!ok) return false;
      if (sh->future) { /* a future's one value is written: done with the buffer */
        shared_reset_pending(sh);
        end_notify(p, COPY_COMPLETED, false);
      } else {
        end_notify(p, COPY_COMPLETED, true);
      }
    }
    end_notify(e, COPY_COMPLETED, false);
  } else if (!e->readable && e->buf.length == 0 && sh->pending_buffer->length == 0) {
    end_notify(e, COPY_COMPLETED, false); /* both zero-length: the reader stays pending */
  } else {
    shared_reset_and_notify_pending(sh, COPY_COMPLETED);
    sh->pending = e;
    sh->pending_buffer = &e->buf;
  }
  return true;
}

/* SharedStreamImpl.drop */
static void shared_drop(shared_impl *sh) {
  if (sh->dropped) return;
  sh->dropped = true;
  if (sh->pending) shared_reset_and_notify_pending(sh, COPY_DROPPED);
}

static const char *copy_kind(const shared_impl *sh) { return sh->future ? "future" : "stream"; }

/* a value type in the arena of an instance (whose resolve_resource names its resources) */
typedef struct typed {
  cma_instance *inst;
  cmc_types *types;
  cmc_tid t;
} typed;

static bool type_eq(typed a, typed b, unsigned depth);

static bool fields_eq(typed a, typed b, const cmc_type *x, const cmc_type *y, unsigned depth) {
  if (x->n != y->n) return false;
  for (uint32_t i = 0; i < x->n; i++) {
    const char *nx = x->fields[i].name, *ny = y->fields[i].name;
    if ((nx == NULL) != (ny == NULL) || (nx && strcmp(nx, ny) != 0)) return false;
    typed fa = {a.inst, a.types, x->fields[i].type}, fb = {b.inst, b.types, y->fields[i].type};
    if (!type_eq(fa, fb, depth + 1)) return false;
  }
  return true;
}

static cma_resource_type *resource_of(typed a) {
  return a.inst->resolve_resource ? a.inst->resolve_resource(a.inst, a.types, a.t) : NULL;
}

/* the spec's `!=` on value types: structural (field and case names, element types), across
 * type arenas; resource types by their runtime identity */
static bool type_eq(typed a, typed b, unsigned depth) {
  if (a.t == CMC_NONE || b.t == CMC_NONE) return a.t == b.t;
  if (a.types == b.types && a.t == b.t) return true;
  if (depth > 100) return false;
  const cmc_type *x = &a.types->v[a.t], *y = &b.types->v[b.t];
  if (x->kind != y->kind) return false;
  typed xa = {a.inst, a.types, x->a}, ya = {b.inst, b.types, y->a};
  typed xb = {a.inst, a.types, x->b}, yb = {b.inst, b.types, y->b};
  switch (x->kind) {
  case CMC_T_PRIM: return x->prim == y->prim;
  case CMC_T_LIST: case CMC_T_OPTION: case CMC_T_STREAM: case CMC_T_FUTURE:
    return type_eq(xa, ya, depth + 1);
  case CMC_T_FIXLIST: return x->len == y->len && type_eq(xa, ya, depth + 1);
  case CMC_T_RESULT: case CMC_T_MAP:
    return type_eq(xa, ya, depth + 1) && type_eq(xb, yb, depth + 1);
  case CMC_T_RECORD: case CMC_T_TUPLE: case CMC_T_VARIANT: case CMC_T_ENUM: case CMC_T_FLAGS:
    return fields_eq(a, b, x, y, depth);
  case CMC_T_OWN: case CMC_T_BORROW: {
    cma_resource_type *ra = resource_of(xa), *rb = resource_of(ya);
    return ra && ra == rb;
  }
  default: return false;
  }
}

/* trap_if(e.shared.t != t) */
static bool check_elem_type(const shared_impl *sh, cma_instance *inst, cmc_types *types, cmc_tid t,
                            uint32_t i, cm_error *err) {
  typed a = {sh->inst, sh->types, sh->t}, b = {inst, types, t};
  if (type_eq(a, b, 0)) return true;
  return TRAP("wasm trap: %s handle %u used with the wrong element type", copy_kind(sh), i);
}

static bool get_end(cma_instance *inst, uint32_t i, bool readable, bool future, copy_end **out,
                    cm_error *err) {
  cmx_waitable *w = NULL;
  if (!get_waitable(inst, i, &w, err)) return false;
  copy_end *e = (copy_end *)w;
  if (w->kind != WAITABLE_COPY_END || e->readable != readable || e->sh->future != future)
    return TRAP("wasm trap: unknown handle index %u", i);
  *out = e;
  return true;
}

static bool add_end(cma_instance *inst, shared_impl *sh, bool readable, uint32_t *out, cm_error *err) {
  cmx_store *s = inst->store->cx;
  copy_end *e = own(s, sizeof *e);
  if (!e) return oom(err);
  e->w.kind = WAITABLE_COPY_END;
  e->sh = sh;
  e->readable = readable;
  if (!cma_table_add(&inst->handles, CMA_ENTRY_WAITABLE, &e->w, &e->index, err)) return false;
  *out = e->index;
  return true;
}

/* canon stream.new / future.new: (readable index) | (writable index << 32) */
bool cmx_copy_new(void *env, cm_store *core, const cm_value *args, cm_value *results, cm_error *err) {
  (void)args;
  const cmx_builtin *b = env;
  if (!b->inst->may_leave) return TRAP("%s", cma_trap_message(CMA_TRAP_CANNOT_LEAVE, false));
  cmx_store *s = cmx_store_of(b->inst->store, core);
  shared_impl *sh = s ? own(s, sizeof *sh) : NULL;
  if (!sh) return oom(err);
  sh->future = b->future;
  sh->inst = b->inst;
  sh->types = b->ft.types;
  sh->t = b->ft.result;
  uint32_t ri, wi;
  if (!add_end(b->inst, sh, true, &ri, err) || !add_end(b->inst, sh, false, &wi, err)) return false;
  results[0].i64 = (uint64_t)ri | ((uint64_t)wi << 32);
  return true;
}


/* wasmtime checks that a synchronous copy or cancel may block before it reads the handle */
static bool sync_op_may_block(cmx_store *s, bool async_, cm_error *err) {
  cmx_thread *t = task_thread(s);
  if (async_ || (t && task_may_block(t->task))) return true;
  return TRAP("wasm trap: cannot block a synchronous task before returning");
}

/* stream_copy / future_copy */
static bool copy(const cmx_builtin *b, cm_store *core, bool readable, const cm_value *args,
                 cm_value *results, cm_error *err) {
  if (!b->inst->may_leave) return TRAP("%s", cma_trap_message(CMA_TRAP_CANNOT_LEAVE, false));
  cmx_store *s = cmx_store_of(b->inst->store, core);
  if (!s) return oom(err);
  copy_end *e = NULL;
  if (!sync_op_may_block(s, b->opts.async_, err) ||
      !get_end(b->inst, args[0].i32, readable, b->future, &e, err) ||
      !check_elem_type(e->sh, b->inst, b->ft.types, b->ft.result, args[0].i32, err))
    return false;
  const char *kind = copy_kind(e->sh);
  if (e->state == END_DONE) {
    if (b->future)
      return readable ? TRAP("wasm trap: cannot read from future after previous read succeeded")
                      : TRAP("wasm trap: cannot write to future after previous write succeeded or readable end dropped");
    return readable ? TRAP("wasm trap: cannot read from stream after being notified that the writable end dropped")
                    : TRAP("wasm trap: cannot write to stream after being notified that the readable end dropped");
  }
  if (e->state != END_IDLE) return TRAP("wasm trap: cannot have concurrent operations active on a future/stream");
  if (!b->opts.async_ && e->w.wset)
    return TRAP("wasm trap: waitable cannot be used synchronously while added to a waitable set");
  uint32_t n = b->future ? 1 : args[2].i32;
  if (n > COPY_MAX_LENGTH) return TRAP("wasm trap: stream read/write count too large");
  e->buf = (copy_buffer){.opts = b->opts, .inst = b->inst, .types = b->ft.types,
                         .elem = b->ft.result, .ptr = args[1].i32, .length = n};
  if (e->buf.elem != CMC_NONE && n > 0) {
    cma_cx cx = buffer_cx(&e->buf, NULL, err);
    if (!b->opts.memory) return fail(err, CMREF_INTERNAL, "%s copy without a memory", kind);
    uint64_t size = cma_elem_size(&cx, e->buf.elem);
    uint32_t align = cma_alignment(&cx, e->buf.elem);
    if (e->buf.ptr % align) return TRAP("wasm trap: pointer not aligned");
    if (e->buf.ptr + (uint64_t)n * size > *b->opts.memory->size) return TRAP("wasm trap: pointer out of bounds");
  }
  e->state = END_ASYNC_COPYING;
  if (!shared_copy(e, err)) return false;
  if (!e->w.pending) {
    if (b->opts.async_) {
      results[0].i32 = BLOCKED;
      return true;
    }
    cmx_thread *t = task_thread(s);
    if (!t || !task_may_block(t->task))
      return TRAP("wasm trap: cannot block a synchronous task before returning");
    e->state = END_SYNC_COPYING;
    if (!waitable_wait_for_pending_event(s, &e->w, err)) return false;
  }
  uint32_t ev[3];
  waitable_get_pending_event(&e->w, ev);
  results[0].i32 = ev[2];
  return true;
}

bool cmx_copy_read(void *env, cm_store *s, const cm_value *args, cm_value *results, cm_error *err) {
  return copy(env, s, true, args, results, err);
}
bool cmx_copy_write(void *env, cm_store *s, const cm_value *args, cm_value *results, cm_error *err) {
  return copy(env, s, false, args, results, err);
}

/* stream.cancel-read / -write (future too) */
static bool cancel_copy(const cmx_builtin *b, cm_store *core, bool readable, const cm_value *args,
                        cm_value *results, cm_error *err) {
  if (!b->inst->may_leave) return TRAP("%s", cma_trap_message(CMA_TRAP_CANNOT_LEAVE, false));
  cmx_store *s = cmx_store_of(b->inst->store, core);
  if (!s) return oom(err);
  copy_end *e = NULL;
  if (!sync_op_may_block(s, b->async_, err) ||
      !get_end(b->inst, args[0].i32, readable, b->future, &e, err) ||
      !check_elem_type(e->sh, b->inst, b->ft.types, b->ft.result, args[0].i32, err))
    return false;
  if (e->state != END_ASYNC_COPYING) return TRAP("wasm trap: %s has no pending async copy to cancel", copy_kind(e->sh));
  if (e->w.wset && !b->async_)
    return TRAP("wasm trap: waitable cannot be used synchronously while added to a waitable set");
  if (!e->w.pending) {
    if (e->sh->pending == e) shared_reset_pending(e->sh);
    end_notify(e, COPY_CANCELLED, false);
  } else if (e->result == COPY_COMPLETED && e->reclaim) {
    e->result = COPY_CANCELLED; /* a partial copy, then cancelled: CANCELLED | progress */
  }
  uint32_t ev[3];
  waitable_get_pending_event(&e->w, ev);
  results[0].i32 = ev[2];
  return true;
}

bool cmx_copy_cancel_read(void *env, cm_store *s, const cm_value *args, cm_value *results,
                          cm_error *err) {
  return cancel_copy(env, s, true, args, results, err);
}
bool cmx_copy_cancel_write(void *env, cm_store *s, const cm_value *args, cm_value *results,
                           cm_error *err) {
  return cancel_copy(env, s, false, args, results, err);
}

static bool drop_end(const cmx_builtin *b, bool readable, uint32_t i, cm_error *err) {
  if (!b->inst->may_leave) return TRAP("%s", cma_trap_message(CMA_TRAP_CANNOT_LEAVE, false));
  copy_end *e = NULL;
  if (!get_end(b->inst, i, readable, b->future, &e, err) ||
      !check_elem_type(e->sh, b->inst, b->ft.types, b->ft.result, i, err))
    return false;
  if (e->state == END_SYNC_COPYING || e->state == END_ASYNC_COPYING || e->state == END_CANCELLING_COPY)
    return TRAP("wasm trap: cannot %s busy %s", readable ? "remove" : "drop", copy_kind(e->sh));
  if (b->future && !readable && e->state != END_DONE) /* WritableFutureEnd.drop */
    return TRAP("wasm trap: cannot drop future write end without first writing a value");
  shared_drop(e->sh);
  cma_table_entry te;
  if (!cma_table_remove(&b->inst->handles, i, &te, err)) return false;
  return waitable_join(&e->w, NULL, err);
}

bool cmx_copy_drop_readable(void *env, cm_store *s, const cm_value *args, cm_value *results,
                            cm_error *err) {
  (void)s, (void)results;
  return drop_end(env, true, args[0].i32, err);
}
bool cmx_copy_drop_writable(void *env, cm_store *s, const cm_value *args, cm_value *results,
                            cm_error *err) {
  (void)s, (void)results;
  return drop_end(env, false, args[0].i32, err);
}

/* lift_async_value: the readable end leaves the lifting instance's table */
bool cmx_lift_async_value(cma_cx *cx, uint32_t i, const cmc_type *t, cma_val *out) {
  cm_error *err = cx->err;
  copy_end *e = NULL;
  if (!get_end(cx->inst, i, true, t->kind == CMC_T_FUTURE, &e, err) ||
      !check_elem_type(e->sh, cx->inst, cx->types, t->a, i, err))
    return false;
  const char *kind = copy_kind(e->sh);
  if (e->state == END_DONE)
    return e->sh->future ? TRAP("wasm trap: cannot lift future after previous read succeeded")
                         : TRAP("wasm trap: cannot lift stream after being notified that the writable end dropped");
  if (e->state != END_IDLE) return TRAP("wasm trap: cannot remove busy %s", kind);
  if (e->w.wset) return TRAP("wasm trap: cannot lift %s while it's in a waitable set", kind);
  cma_table_entry te;
  if (!cma_table_remove(&cx->inst->handles, i, &te, err)) return false;
  out->u.shared = e->sh;
  return true;
}

/* lower_async_value: a new readable end in the lowering instance's table */
bool cmx_lower_async_value(cma_cx *cx, const cma_val *v, const cmc_type *t, uint32_t *out) {
  (void)t;
  if (!cx->inst->store->cx) return fail(cx->err, CMREF_INTERNAL, "stream/future without a store");
  return add_end(cx->inst, v->u.shared, true, out, cx->err);
}

/* ================================================================================ */
/* canon error-context.new / debug-message / drop                                   */
/* ================================================================================ */

/* the debug message is kept (host_defined_transformation: the identity), copied out of
 * the memory it was read from */
static bool keep_string(cmx_store *s, cma_string *str, cm_error *err) {
  uint8_t *copy = own(s, str->nbytes ? str->nbytes : 1);
  if (!copy) return oom(err);
  memcpy(copy, cma_string_bytes(str), str->nbytes);
  str->bytes = copy;
  str->mem = NULL;
  str->offset = 0;
  return true;
}

bool cmx_error_context_new(void *env, cm_store *core, const cm_value *args, cm_value *results,
                           cm_error *err) {
  const cmx_builtin *b = env;
  if (!b->inst->may_leave) return TRAP("%s", cma_trap_message(CMA_TRAP_CANNOT_LEAVE, false));
  cmx_store *s = cmx_store_of(b->inst->store, core);
  if (!s) return oom(err);
  if (!b->opts.memory) return fail(err, CMREF_INTERNAL, "error-context.new without a memory");
  cma_heap heap = {NULL};
  cma_cx cx = {.opts = &b->opts, .inst = b->inst, .heap = &heap, .err = err};
  cma_error_context *ec = own(s, sizeof *ec);
  bool ok = ec && cma_load_string_from_range(&cx, (uint32_t)args[0].i32, (uint32_t)args[1].i32,
                                             &ec->debug_message) &&
            keep_string(s, &ec->debug_message, err);
  cma_heap_free(&heap);
  if (!ec) return oom(err);
  return ok && cma_table_add(&b->inst->handles, CMA_ENTRY_ERROR_CONTEXT, ec, &results[0].i32, err);
}

static bool get_error_context(cma_instance *inst, uint32_t i, cma_error_context **out,
                              cm_error *err) {
  cma_table_entry *e;
  if (!cma_table_get(&inst->handles, i, &e, err)) return false;
  if (e->kind != CMA_ENTRY_ERROR_CONTEXT) return TRAP("wasm trap: unknown handle index %u", i);
  *out = e->p;
  return true;
}

/* store_string(cx, errctx.debug_message, ptr); the pointer is checked first (wasmtime's
 * wording) */
bool cmx_error_context_debug_message(void *env, cm_store *core, const cm_value *args,
                                     cm_value *results, cm_error *err) {
  (void)core, (void)results;
  const cmx_builtin *b = env;
  if (!b->inst->may_leave) return TRAP("%s", cma_trap_message(CMA_TRAP_CANNOT_LEAVE, false));
  cma_error_context *ec = NULL;
  if (!get_error_context(b->inst, (uint32_t)args[0].i32, &ec, err)) return false;
  const cma_meminst *m = b->opts.memory;
  if (!m) return fail(err, CMREF_INTERNAL, "error-context.debug-message without a memory");
  uint64_t ptr = (uint32_t)args[1].i32;
  if (ptr + 8 > *m->size) return TRAP("wasm trap: invalid debug message pointer");
  cma_heap heap = {NULL};
  cma_cx cx = {.opts = &b->opts, .inst = b->inst, .heap = &heap, .err = err};
  uint64_t begin = 0, tagged = 0;
  bool ok = cma_store_string_into_range(&cx, &ec->debug_message, &begin, &tagged);
  cma_heap_free(&heap);
  if (!ok) return false;
  uint8_t *p = *m->data + ptr;
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(begin >> (8 * i));
  for (int i = 0; i < 4; i++) p[4 + i] = (uint8_t)(tagged >> (8 * i));
  return true;
}

bool cmx_error_context_drop(void *env, cm_store *core, const cm_value *args, cm_value *results,
                            cm_error *err) {
  (void)core, (void)results;
  const cmx_builtin *b = env;
  if (!b->inst->may_leave) return TRAP("%s", cma_trap_message(CMA_TRAP_CANNOT_LEAVE, false));
  cma_error_context *ec = NULL;
  if (!get_error_context(b->inst, (uint32_t)args[0].i32, &ec, err)) return false;
  cma_table_entry e;
  return cma_table_remove(&b->inst->handles, (uint32_t)args[0].i32, &e, err);
}

/* ================================================================================ */
/* wasmtime's concurrent host functions (HOST-spectest.rs func_wrap_concurrent)     */
/* ================================================================================ */

/* A host call whose future is pending at its first poll runs on a host thread (no task):
 * the scheduler resumes it once per further poll, and the last poll resolves the call.
 * polls < 0: never ready; only a cancellation (subtask.cancel drops the future) resolves
 * it, with no result. */
typedef struct host_call {
  cma_on_resolve on_resolve;
  void *env;
  cma_val result;
  cma_vals vals;
  int32_t polls;
  bool resolved;
} host_call;

static bool host_call_ready(void *arg) {
  const host_call *h = arg;
  return h->resolved || h->polls > 0;
}

static bool host_call_thread(cmx_thread *t, cm_error *err) {
  host_call *h = t->host_call;
  for (;;) {
    if (h->resolved) return true;
    if (h->polls > 0 && --h->polls == 0) break;
    bool cancelled;
    if (!thread_wait_until(t, host_call_ready, h, false, &cancelled, err)) return false;
  }
  h->resolved = true;
  return h->on_resolve(h->env, &h->vals, err);
}

/* OnCancel: dropping the future resolves the call without a result */
static bool host_call_cancel(void *arg, cma_instance *caller, cm_error *err) {
  (void)caller;
  host_call *h = arg;
  if (h->resolved) return true;
  h->resolved = true;
  return h->on_resolve(h->env, NULL, err);
}

bool cmx_host_resolve_later(cma_store *as, cm_store *core, cma_on_resolve on_resolve, void *env,
                            const cma_vals *result, int32_t polls, cm_error *err) {
  cmx_store *s = cmx_store_of(as, core);
  host_call *h = s ? own(s, sizeof *h) : NULL;
  if (!h) return oom(err);
  *h = (host_call){.on_resolve = on_resolve, .env = env, .polls = polls};
  if (result->n) h->result = result->v[0];
  h->vals = (cma_vals){&h->result, result->n ? 1 : 0};
  cmx_thread *t = thread_new(s, NULL, host_call_thread);
  if (!t) return oom(err);
  t->host_call = h;
  cmx_set_on_cancel(as, env, host_call_cancel, h);
  return start_waiting_internal(t, host_call_ready, h, err);
}
