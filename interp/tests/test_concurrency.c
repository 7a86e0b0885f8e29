/* Unit tests of the fibers under the component-model threads (component/fiber.h):
 * resume/suspend hand control back and forth with each fiber's locals intact, fibers
 * nest (a fiber resumes another), and a finished fiber reports done. */
#include <stdio.h>
#include <stdlib.h>

#include "component/fiber.h"

#include "check.h"

typedef struct counter {
  cmf_fiber *self;
  int *log;
  int n, id, rounds;
  cmf_fiber *child; /* resumed once per round when set */
} counter;

static void count(void *arg) {
  counter *c = arg;
  for (int i = 0; i < c->rounds; i++) {
    volatile int local = c->id * 100 + i; /* lives on the fiber's own stack */
    if (c->child) cmf_resume(c->child);
    c->log[c->n++] = local;
    cmf_suspend(c->self);
  }
}

static void test_interleave(void) {
  int loga[8] = {0}, logb[8] = {0};
  counter a = {NULL, loga, 0, 1, 3, NULL}, b = {NULL, logb, 0, 2, 3, NULL};
  a.self = cmf_fiber_new(count, &a);
  b.self = cmf_fiber_new(count, &b);
  CHECK(a.self && b.self);
  if (!a.self || !b.self) return;
  for (int r = 0; r < 3; r++) {
    cmf_resume(a.self);
    cmf_resume(b.self);
    CHECK(a.n == r + 1 && b.n == r + 1);
  }
  CHECK(loga[0] == 100 && loga[2] == 102 && logb[1] == 201);
  CHECK(!cmf_done(a.self));
  cmf_resume(a.self);
  cmf_resume(b.self);
  CHECK(cmf_done(a.self) && cmf_done(b.self));
  cmf_fiber_free(a.self);
  cmf_fiber_free(b.self);
}

static void test_nested(void) {
  int logo[8] = {0}, logi[8] = {0};
  counter inner = {NULL, logi, 0, 3, 5, NULL}, outer = {NULL, logo, 0, 4, 2, NULL};
  inner.self = cmf_fiber_new(count, &inner);
  outer.self = cmf_fiber_new(count, &outer);
  CHECK(inner.self && outer.self);
  if (!inner.self || !outer.self) return;
  outer.child = inner.self;
  cmf_resume(outer.self); /* outer resumes inner, which suspends back into outer */
  CHECK(outer.n == 1 && inner.n == 1);
  cmf_resume(inner.self); /* now resumed from here: suspends back here */
  CHECK(inner.n == 2 && outer.n == 1);
  cmf_resume(outer.self);
  cmf_resume(outer.self);
  CHECK(cmf_done(outer.self) && inner.n == 3 && !cmf_done(inner.self));
  cmf_fiber_free(outer.self);
  cmf_fiber_free(inner.self); /* freeing a suspended fiber is allowed */
}

int main(void) {
  test_interleave();
  test_nested();
  if (failures) {
    fprintf(stderr, "%d failures\n", failures);
    return 1;
  }
  printf("ok\n");
  return 0;
}
