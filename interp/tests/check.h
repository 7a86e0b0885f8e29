/* The one assertion primitive of cmref's C unit tests: CHECK(cond) reports a failed check
 * with its file and line and counts it; a test's main returns `failures != 0`. Included by
 * each test program (one translation unit each), so the counter is per program. */
#ifndef CMREF_TESTS_CHECK_H
#define CMREF_TESTS_CHECK_H

#include <stdio.h>

static int failures;

#define CHECK(cond)                                                                 \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);      \
      failures++;                                                                   \
    }                                                                               \
  } while (0)

#endif
