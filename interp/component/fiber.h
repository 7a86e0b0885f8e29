/* Fibers: one C stack per component-model thread (Concurrency.md "Threads"), so that a
 * blocking built-in suspends exactly where the spec's Python code does (its threads are
 * Python threads handing a lock back and forth; here ucontext swapcontext).
 *
 * cmf_resume runs a fiber until it calls cmf_suspend (or its entry returns); cmf_suspend
 * returns to whoever resumed it. Stacks are bounded (CMF_STACK_SIZE) and freed by
 * cmf_fiber_free. Under AddressSanitizer every switch is annotated. No global state. */
#ifndef CMF_FIBER_H
#define CMF_FIBER_H

#include <stdbool.h>
#include <stddef.h>

#define CMF_STACK_SIZE (256u * 1024u)

typedef struct cmf_fiber cmf_fiber;
typedef void (*cmf_entry)(void *arg);

/* NULL: out of memory */
cmf_fiber *cmf_fiber_new(cmf_entry entry, void *arg);
void cmf_fiber_free(cmf_fiber *f);
/* Runs f until it suspends or finishes. f must not be running. */
void cmf_resume(cmf_fiber *f);
/* Called on f's own stack: returns control to f's resumer. */
void cmf_suspend(cmf_fiber *f);
bool cmf_done(const cmf_fiber *f);

#endif
