/* Memory instances (spec 4.2.8): growing. Accesses are in exec.c. */
#include <stdlib.h>
#include <string.h>

#include "core/runtime.h"

int64_t cm_mem_grow(cm_meminst *m, uint64_t delta) {
  uint64_t old = m->size / CM_PAGE_SIZE;
  uint64_t max = m->type.limits.has_max ? m->type.limits.max : CM_MAX_PAGES;
  if (max > CM_MAX_PAGES) max = CM_MAX_PAGES;
  if (delta > max || old + delta > max) return -1;
  if (delta == 0) return (int64_t)old;
  uint64_t size = (old + delta) * CM_PAGE_SIZE;
  uint8_t *data = realloc(m->data, size);
  if (!data) return -1;
  memset(data + m->size, 0, size - m->size);
  m->data = data;
  m->size = size;
  return (int64_t)old;
}
