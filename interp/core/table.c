/* Table instances (spec 4.2.7): growing. Accesses are in exec.c. */
#include <stdlib.h>

#include "core/exec_internal.h"

int64_t cm_table_grow(cm_tableinst *t, uint64_t delta, cm_ref init) {
  uint64_t old = t->size;
  uint64_t max = t->type.limits.has_max ? t->type.limits.max : CM_MAX_TABLE_SIZE;
  if (max > CM_MAX_TABLE_SIZE) max = CM_MAX_TABLE_SIZE;
  if (delta > max || old + delta > max) return -1;
  if (delta == 0) return (int64_t)old;
  cm_ref *elems = realloc(t->elems, (old + delta) * sizeof *elems);
  if (!elems) return -1;
  for (uint64_t i = old; i < old + delta; i++) elems[i] = init;
  t->elems = elems;
  t->size = (uint32_t)(old + delta);
  return (int64_t)old;
}
