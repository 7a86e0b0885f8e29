/* Memory instances (spec 4.2.8): allocation and growth. Accesses are in exec.c.
 *
 * A memory reserves address space for its maximum size once (mmap, no access) and makes
 * pages accessible as it grows, so its base address never moves (host code may keep
 * pointers into it across memory.grow) and growth neither copies nor touches memory. */
#include <string.h>
#include <sys/mman.h>

#include "core/runtime.h"

static uint64_t max_pages(const cm_meminst *m) {
  uint64_t max = m->type.limits.has_max ? m->type.limits.max : CM_MAX_PAGES;
  return max > CM_MAX_PAGES ? CM_MAX_PAGES : max;
}

bool cm_mem_alloc(cm_meminst *m) {
  m->reserved = max_pages(m) * CM_PAGE_SIZE;
  if (m->reserved == 0) m->reserved = CM_PAGE_SIZE; /* a valid base for empty memories */
  void *p = mmap(NULL, m->reserved, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) {
    m->data = NULL;
    return false;
  }
  m->data = p;
  if (m->size && mprotect(m->data, m->size, PROT_READ | PROT_WRITE) != 0) {
    cm_mem_release(m);
    return false;
  }
  return true;
}

void cm_mem_release(cm_meminst *m) {
  if (m->data) munmap(m->data, m->reserved);
  m->data = NULL;
}

int64_t cm_mem_grow(cm_meminst *m, uint64_t delta) {
  uint64_t old = m->size / CM_PAGE_SIZE;
  uint64_t max = max_pages(m);
  if (delta > max || old + delta > max) return -1;
  if (delta == 0) return (int64_t)old;
  uint64_t size = (old + delta) * CM_PAGE_SIZE;
  if (mprotect(m->data, size, PROT_READ | PROT_WRITE) != 0) return -1;
  m->size = size;
  return (int64_t)old;
}
