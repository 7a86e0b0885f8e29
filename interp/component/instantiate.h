/* Component instantiation and linking (Explainer.md "Instance Definitions", "Start
 * Definitions", "Import and Export Definitions"; CanonicalABI.md "Canonical Definitions").
 *
 * A loaded component is its validated representation (component.h): instantiation walks
 * the binary of each (nested) component definition again, in order, building runtime index
 * spaces that run parallel to the validator's (whose entries give each item's type).
 * Core modules become core instances of the core engine; `canon lift` builds component
 * function instances (cma_funcinst) and `canon lower` core host functions, both through the
 * canonical ABI (abi.h), so that component-to-component calls are lift + lower fused by the
 * spec's functions. Resource type definitions are generative: each instantiation creates
 * fresh cma_resource_types, bound per frame to the validator's type ids.
 *
 * Everything an engine creates lives until cmi_reset / cmi_engine_free. No global state.
 */
#ifndef CMI_INSTANTIATE_H
#define CMI_INSTANTIATE_H

#include <jansson.h>

#include "component/abi.h"
#include "core/runtime.h"

typedef struct cmi_engine cmi_engine;
typedef struct cmi_frame cmi_frame;
typedef struct cmi_closure cmi_closure;
typedef struct cmi_inst cmi_inst;
typedef struct cmi_coreinst cmi_coreinst;

/* An item of an index space (or an export, or an import argument). */
typedef struct cmi_item {
  int sort; /* CMC_SORT_*; core sorts CMC_SORT_CORE + CMC_CORE_* */
  cmc_types *types; /* the arena of `type` */
  cmc_tid type;     /* the item's type in its defining component (CMC_NONE: unknown) */
  union {
    cma_funcinst *func;
    cma_resource_type *rt; /* sort type: the runtime resource type, or NULL */
    cmi_closure *comp;
    cmi_inst *inst;
    const cm_module *module;
    cm_extern core;
    cmi_coreinst *coreinst;
  } u;
} cmi_item;

/* A component instance: its exports by name. */
struct cmi_inst {
  uint32_t n;
  const char **names;
  cmi_item *items;
  cmi_frame *frame; /* the instance's frame (NULL for inline/host instances) */
};

/* A core instance: a module instance, or a bag of inline exports. */
struct cmi_coreinst {
  cm_instance *inst;
  uint32_t n;
  const char **names;
  cm_extern *v;
};

/* A component definition closed over its lexically enclosing frame (for outer aliases). */
struct cmi_closure {
  cmc_component *def;
  cmc_types *types;
  cmi_frame *outer;
};

cmi_engine *cmi_engine_new(void);
void cmi_engine_free(cmi_engine *e);
void cmi_reset(cmi_engine *e);

/* the engine's stores and arena (host modules allocate from them) */
cm_store *cmi_core_store(cmi_engine *e);
cma_store *cmi_abi_store(cmi_engine *e);
void *cmi_alloc(cmi_engine *e, size_t size); /* zeroed, freed at reset; NULL: out of memory */
cmc_types *cmi_host_types(cmi_engine *e);   /* an arena for host function types */

/* A component instance for host-defined resources (freed at reset); NULL: out of memory. */
cma_instance *cmi_host_instance(cmi_engine *e);
/* Decodes a core module kept until reset (host modules). */
bool cmi_host_module(cmi_engine *e, const uint8_t *bytes, size_t len, cm_module **out, cm_error *err);

/* Decodes and validates a component; returns a definition handle or -1 with err. The bytes
 * are copied. */
int cmi_load(cmi_engine *e, const uint8_t *bytes, size_t len, const cmc_comp_options *opts,
             cmc_error *err);

/* Instantiates definition `def` with its imports taken from the registered names. Returns an
 * instance handle or -1 with err (unlinkable, trap, ...). */
int cmi_instantiate(cmi_engine *e, int def, cm_error *err);

/* Makes an instance importable by later components under `name`. */
bool cmi_register(cmi_engine *e, int inst, const char *name, cm_error *err);
/* Registers a host instance under `name`. */
bool cmi_register_host(cmi_engine *e, const char *name, const cmi_item *item);

/* Calls export `field` of an instance with JSON args; returns the JSON array of results
 * (caller frees with json_decref) or NULL with err. */
json_t *cmi_invoke(cmi_engine *e, int inst, const char *field, json_t *args, cm_error *err);

/* The component function type of export `field` of an instance (false: no such function). */
bool cmi_export_functype(cmi_engine *e, int inst, const char *field, cma_functype *out);

/* The component instance of a handle (its exports by name), or NULL. */
const cmi_inst *cmi_instance(cmi_engine *e, int inst);
/* The i-th registration (host items, then cmi_register order) and its name; NULL past the end. */
const cmi_item *cmi_registered(cmi_engine *e, uint32_t i, const char **name);

/* true if the message of err means "not implemented by cmref" (reported as unsupported) */
bool cmi_is_unsupported(const cm_error *err);
#define CMI_UNSUPPORTED "cmref does not implement "

#endif
