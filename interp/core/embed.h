/* cmref core: internals of the embedding API (embed.c) shared with the host modules
 * (spectest.c) and the component layer. */
#ifndef CM_CORE_EMBED_H
#define CM_CORE_EMBED_H

#include <jansson.h>

#include "cmref.h"
#include "core/runtime.h"

typedef struct cm_host_export {
  const char *name;
  cm_extern ext;
} cm_host_export;

/* A registered name: a module instance, or a host module's list of exports. */
typedef struct cm_registered {
  char *name;
  cm_instance *inst;
  cm_host_export *host; /* owned by the store */
  uint32_t nhost;
} cm_registered;

struct cmref_engine {
  cm_store *store;
  cm_module **modules;
  int nmodules, capmodules;
  cm_instance **instances;
  int ninstances, capinstances;
  cm_registered *regs;
  int nregs, capregs;
};

bool cm_embed_register_host(cmref_engine *e, const char *name, cm_host_export *exports, uint32_t n);
cm_store *cm_embed_store(cmref_engine *e);

/* spectest.c: registers the spec suite's `spectest` host module. */
bool cm_spectest_register(cmref_engine *e, cm_error *err);

/* JSON value conversion (json-from-wast schema). */
bool cm_value_from_json(json_t *j, cm_valtype want, cm_value *out);
json_t *cm_value_to_json(cm_valtype t, const cm_value *v);

#endif
