/* Linking a component's imports to the items an embedder supplies (wasmtime's
 * runtime/component/matching.rs): a mismatch is CMREF_UNLINKABLE with wasmtime's wording. */
#ifndef CMI_LINK_H
#define CMI_LINK_H

#include "component/instantiate.h"

/* The state of linking one component's imports, in order: the runtime resource type each
 * imported resource got (later `eq` bounds must name the same one). */
typedef struct cmi_linkcx {
  cmc_types *types;
  cmc_tid *tids;
  cma_resource_type **rts;
  uint32_t n, cap;
} cmi_linkcx;

/* Does `item` (NULL: nothing supplied under the import's name) satisfy import `im`? */
bool cmi_link_import(cmi_linkcx *cx, const cmc_extern *im, const cmi_item *item, cm_error *err);
void cmi_linkcx_free(cmi_linkcx *cx);

#endif
