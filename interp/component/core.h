/* Core types inside components: core value/extern types, core func types, core module
 * types (Binary.md "core:moduletype"), and the import/export signature of an embedded core
 * module. */
#ifndef CMC_CORE_H
#define CMC_CORE_H

#include "component/reader.h"
#include "component/types.h"

/* a core type index space: tids of core func/other types (module types excluded) */
typedef struct cmc_core_space {
  const cmc_tid *v;
  uint32_t len;
  uint32_t stride; /* entries are v[i * stride] */
  const cmc_types *t; /* when set, concrete heap types are checked against the space */
  uint32_t limit;     /* indices below limit are valid (len + the rec group being read) */
} cmc_core_space;

bool cmc_read_core_valtype(cmc_reader *r, const cmc_core_space *sp, cmc_core_valtype *out);
bool cmc_read_core_reftype(cmc_reader *r, const cmc_core_space *sp, cmc_core_valtype *out);
/* core:externtype (import/export descriptors); out->module/name are left alone */
bool cmc_read_core_externtype(cmc_reader *r, cmc_types *t, const cmc_core_space *sp,
                              cmc_core_extern *out);
/* a core:rectype / subtype / functype starting at byte b (already consumed); appends the
 * defined types' tids through push() */
typedef bool (*cmc_push_fn)(void *cx, cmc_tid id);
bool cmc_read_core_rectype(cmc_reader *r, cmc_types *t, uint8_t b, const cmc_core_space *sp,
                           cmc_push_fn push, void *cx);
bool cmc_read_core_functype(cmc_reader *r, cmc_types *t, const cmc_core_space *sp, cmc_tid *out);
/* the type (imports and exports) of an embedded core module's binary; decoding errors
 * are malformed, signature errors invalid */
bool cmc_core_module_type(cmc_reader *outer, cmc_types *t, const uint8_t *bytes, size_t len,
                          cmc_tid *out);
/* validates the module with the core validator when one is linked in */
bool cmc_core_module_validate(const uint8_t *bytes, size_t len, cmc_error *err);

#endif
