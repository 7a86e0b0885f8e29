/* Concurrency (Concurrency.md; the concurrency part of ../shared/spec/definitions.py):
 * Store (the waiting threads and the scheduler's tick), Thread (one fiber each, fiber.h),
 * Task, Waitable / WaitableSet, Subtask, the async `canon lift` / `canon lower` and the
 * async built-ins. concurrency.c keeps the spec's names and order, one banner per section.
 *
 * Scheduling (where the spec leaves a choice, Store.tick's random.shuffle): the waiting
 * threads are kept in the order they started waiting; a tick resumes the first whose
 * ready() holds. WaitableSet.get_pending_event takes the first element (join order) with a
 * pending event. Thread.wait_until on a condition that already holds returns at once for
 * waitable-set.wait and synchronous waits (the spec's random.randint), but always waits
 * for thread.yield and the callback loop's YIELD. Task.request_cancellation resumes the
 * first cancellable blocked thread in Task.threads order (the spec's random.choice), and
 * canon_lift's loop for a synchronous function type resumes the first resumable thread in
 * the instance's thread table. Deterministic, so runs are reproducible.
 *
 * Threads: Thread.resume runs a thread's fiber and then each thread a blocking thread
 * switches to (suspend/yield-then-resume/promote), as the spec's resume loop does. In an
 * instance with thread built-ins, synchronous lifts also run as tasks here (canonical.c's
 * lifted_call defers to cmx_lifted_call), so their implicit thread can switch away.
 *
 * Memory: the Store owns every task, subtask, waitable and set it creates (freed by
 * cmx_store_free at engine reset); a thread's fiber is freed when the thread ends, and the
 * fibers of threads that never end (suspended forever) at cmx_store_free. */
#ifndef CMX_CONCURRENCY_H
#define CMX_CONCURRENCY_H

#include "component/abi.h"
#include "core/runtime.h"

typedef struct cmx_store cmx_store;

/* The Store's concurrency state of an ABI store (created on first use with the core store
 * whose execution state each thread swaps). NULL: out of memory. */
cmx_store *cmx_store_of(cma_store *s, cm_store *core);
void cmx_store_free(cma_store *s);

/* OnCancel (the spec's return value of a FuncInst call): an async lower records, for the
 * call of its callee, the callee's request_cancellation. The callee (cmx_lifted_call, or a
 * host function) calls cmx_set_on_cancel with the env it was called with, first thing. */
typedef bool (*cmx_on_cancel)(void *arg, cma_instance *caller, cm_error *err);
typedef struct cmx_cancel_slot {
  void *env; /* the on_start/on_resolve env of the call */
  cmx_on_cancel fn;
  void *arg;
} cmx_cancel_slot;
void cmx_set_on_cancel(cma_store *s, void *env, cmx_on_cancel fn, void *arg);
/* An interception hook (hook.c) calls the callee with its own wrapper as env: the wrapper
 * stands for env in the pending OnCancel record. */
void cmx_rebind_on_cancel(cma_store *s, void *env, void *wrapper);

/* FuncInst.call of a lift with the async option or of an async function type. The lifted
 * funcinst's host_env must be the core store (cm_store *). */
bool cmx_lifted_call(cma_funcinst *self, cma_on_start on_start, cma_on_resolve on_resolve,
                     void *env, cma_instance *caller, cm_error *err);

/* A synchronous canon lower whose callee has not resolved when its call returned: the
 * caller blocks until it does (Thread.suspend_until subtask.resolved). heap: the lower's
 * values, freed by the Store if the caller never resumes. */
bool cmx_wait_subtask(cma_store *s, cma_subtask *st, cma_heap *heap, cm_error *err);

/* Task.may_block of the running task (false: a synchronous task, or the embedder) */
bool cmx_may_block(cma_store *s);

/* ---- built-ins: core host functions (env: a cmx_builtin filled by instantiation) ---- */
typedef struct cmx_builtin {
  cma_instance *inst;
  cma_funcinst *callee;   /* canon lower */
  cma_functype ft;        /* canon lower; task.return: its result type in ft.result */
  cma_options opts;
  bool async_;            /* waitable-set.wait/poll cancellable, subtask.cancel async */
  uint32_t index;         /* context slot */
  bool future;            /* stream.* / future.*: which; ft.types/ft.result: the element */
  cm_tableinst *table;    /* thread.new-indirect: the table and the start function's type */
  const cm_functype *start_type;
} cmx_builtin;

/* lift/lower of stream and future handles (canonical.c's lift_flat/load, lower_flat/store) */
bool cmx_lift_async_value(cma_cx *cx, uint32_t i, const cmc_type *t, cma_val *out);
bool cmx_lower_async_value(cma_cx *cx, const cma_val *v, const cmc_type *t, uint32_t *out);

bool cmx_copy_new(void *env, cm_store *s, const cm_value *args, cm_value *results, cm_error *err);
bool cmx_copy_read(void *env, cm_store *s, const cm_value *args, cm_value *results, cm_error *err);
bool cmx_copy_write(void *env, cm_store *s, const cm_value *args, cm_value *results, cm_error *err);
bool cmx_copy_cancel_read(void *env, cm_store *s, const cm_value *args, cm_value *results,
                          cm_error *err);
bool cmx_copy_cancel_write(void *env, cm_store *s, const cm_value *args, cm_value *results,
                           cm_error *err);
bool cmx_copy_drop_readable(void *env, cm_store *s, const cm_value *args, cm_value *results,
                            cm_error *err);
bool cmx_copy_drop_writable(void *env, cm_store *s, const cm_value *args, cm_value *results,
                            cm_error *err);

bool cmx_canon_lower_async(void *env, cm_store *s, const cm_value *args, cm_value *results,
                           cm_error *err);
bool cmx_task_return(void *env, cm_store *s, const cm_value *args, cm_value *results,
                     cm_error *err);
bool cmx_waitable_set_new(void *env, cm_store *s, const cm_value *args, cm_value *results,
                          cm_error *err);
bool cmx_waitable_set_wait(void *env, cm_store *s, const cm_value *args, cm_value *results,
                           cm_error *err);
bool cmx_waitable_set_poll(void *env, cm_store *s, const cm_value *args, cm_value *results,
                           cm_error *err);
bool cmx_waitable_set_drop(void *env, cm_store *s, const cm_value *args, cm_value *results,
                           cm_error *err);
bool cmx_waitable_join(void *env, cm_store *s, const cm_value *args, cm_value *results,
                       cm_error *err);
bool cmx_task_cancel(void *env, cm_store *s, const cm_value *args, cm_value *results,
                     cm_error *err);
bool cmx_subtask_cancel(void *env, cm_store *s, const cm_value *args, cm_value *results,
                        cm_error *err);
bool cmx_thread_index(void *env, cm_store *s, const cm_value *args, cm_value *results,
                      cm_error *err);
bool cmx_thread_new_indirect(void *env, cm_store *s, const cm_value *args, cm_value *results,
                             cm_error *err);
bool cmx_thread_resume_later(void *env, cm_store *s, const cm_value *args, cm_value *results,
                             cm_error *err);
bool cmx_thread_suspend(void *env, cm_store *s, const cm_value *args, cm_value *results,
                        cm_error *err);
bool cmx_thread_suspend_then_resume(void *env, cm_store *s, const cm_value *args,
                                    cm_value *results, cm_error *err);
bool cmx_thread_yield_then_resume(void *env, cm_store *s, const cm_value *args,
                                  cm_value *results, cm_error *err);
bool cmx_thread_suspend_then_promote(void *env, cm_store *s, const cm_value *args,
                                     cm_value *results, cm_error *err);
bool cmx_thread_yield_then_promote(void *env, cm_store *s, const cm_value *args,
                                   cm_value *results, cm_error *err);
bool cmx_subtask_drop(void *env, cm_store *s, const cm_value *args, cm_value *results,
                      cm_error *err);
bool cmx_thread_yield(void *env, cm_store *s, const cm_value *args, cm_value *results,
                      cm_error *err);
bool cmx_error_context_new(void *env, cm_store *s, const cm_value *args, cm_value *results,
                           cm_error *err);
bool cmx_error_context_debug_message(void *env, cm_store *s, const cm_value *args,
                                     cm_value *results, cm_error *err);
bool cmx_error_context_drop(void *env, cm_store *s, const cm_value *args, cm_value *results,
                            cm_error *err);
/* A concurrent host function's call (wasmtime's func_wrap_concurrent) that is not ready at
 * its first poll: resolves with *result (at most one value, copied) after `polls` more
 * scheduler polls; polls < 0: only subtask.cancel resolves it (without a result). */
bool cmx_host_resolve_later(cma_store *s, cm_store *core, cma_on_resolve on_resolve, void *env,
                            const cma_vals *result, int32_t polls, cm_error *err);
/* context.get / context.set of the current thread; false: no async thread is current
 * (the caller then uses the synchronous task's storage) */
bool cmx_context_slot(cma_store *s, uint32_t i, uint32_t **out);

#endif
