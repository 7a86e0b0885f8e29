/* Fibers on ucontext (fiber.h). */
#include "component/fiber.h"

#include <stdint.h>
#include <stdlib.h>
#include <ucontext.h>

#if defined(__SANITIZE_ADDRESS__)
#define CMF_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CMF_ASAN 1
#endif
#endif

#ifdef CMF_ASAN
void __sanitizer_start_switch_fiber(void **fake_stack_save, const void *bottom, size_t size);
void __sanitizer_finish_switch_fiber(void *fake_stack_save, const void **bottom_old,
                                     size_t *size_old);
#endif

struct cmf_fiber {
  ucontext_t ctx;     /* the fiber's context while it is suspended */
  ucontext_t caller;  /* the resumer's context while the fiber runs */
  void *stack;
  cmf_entry entry;
  void *arg;
  bool done;
  const void *caller_bottom; /* the resumer's stack (ASan) */
  size_t caller_size;
  void *fake_stack;
};

static void start_switch(cmf_fiber *f, void **save, const void *bottom, size_t size) {
#ifdef CMF_ASAN
  (void)f;
  __sanitizer_start_switch_fiber(save, bottom, size);
#else
  (void)f, (void)save, (void)bottom, (void)size;
#endif
}

static void finish_switch(void *save, const void **bottom, size_t *size) {
#ifdef CMF_ASAN
  __sanitizer_finish_switch_fiber(save, bottom, size);
#else
  (void)save, (void)bottom, (void)size;
#endif
}

static void trampoline(unsigned hi, unsigned lo) {
  cmf_fiber *f = (cmf_fiber *)(((uintptr_t)hi << 32) | (uintptr_t)lo);
  finish_switch(NULL, &f->caller_bottom, &f->caller_size);
  f->entry(f->arg);
  f->done = true;
  start_switch(f, NULL, f->caller_bottom, f->caller_size); /* the fiber's fake stack dies */
  setcontext(&f->caller);
}

/* getcontext returns twice in principle: kept out of cmf_fiber_new's frame */
static __attribute__((noinline)) bool init_context(cmf_fiber *f) {
  if (getcontext(&f->ctx) != 0) return false;
  f->ctx.uc_stack.ss_sp = f->stack;
  f->ctx.uc_stack.ss_size = CMF_STACK_SIZE;
  f->ctx.uc_link = NULL;
  uintptr_t p = (uintptr_t)f;
  makecontext(&f->ctx, (void (*)(void))trampoline, 2, (unsigned)(p >> 32), (unsigned)(p & 0xffffffffu));
  return true;
}

cmf_fiber *cmf_fiber_new(cmf_entry entry, void *arg) {
  cmf_fiber *f = calloc(1, sizeof *f);
  if (!f) return NULL;
  f->entry = entry;
  f->arg = arg;
  f->stack = malloc(CMF_STACK_SIZE);
  if (!f->stack || !init_context(f)) {
    free(f->stack);
    free(f);
    return NULL;
  }
  return f;
}

void cmf_fiber_free(cmf_fiber *f) {
  if (!f) return;
  free(f->stack);
  free(f);
}

void cmf_resume(cmf_fiber *f) {
  void *save = NULL;
  start_switch(f, &save, f->stack, CMF_STACK_SIZE);
  swapcontext(&f->caller, &f->ctx);
  finish_switch(save, NULL, NULL);
}

void cmf_suspend(cmf_fiber *f) {
  start_switch(f, &f->fake_stack, f->caller_bottom, f->caller_size);
  swapcontext(&f->ctx, &f->caller);
  finish_switch(f->fake_stack, &f->caller_bottom, &f->caller_size);
}

bool cmf_done(const cmf_fiber *f) { return f->done; }
