/* cmref core: the runtime structure (spec 4.2): store, module instances, function, table,
 * memory, global, tag and exception instances; and the entry points of instantiation
 * (instance.c) and execution (exec.c).
 *
 * The store owns every instance it allocates and frees them all at once
 * (cm_store_free): there is no garbage collection, no global state. */
#ifndef CM_CORE_RUNTIME_H
#define CM_CORE_RUNTIME_H

#include "core/module.h"

typedef struct cm_store cm_store;
typedef struct cm_instance cm_instance;
typedef struct cm_code cm_code; /* a compiled function body (compile.c) */

/* A host function: reads args (its type's params), writes results; returns false with err
 * set to trap (or another kind) on failure. */
typedef bool (*cm_host_fn)(void *env, cm_store *s, const cm_value *args, cm_value *results,
                           cm_error *err);

typedef struct cm_funcinst {
  const cm_functype *type; /* owned by the module or (host) by the funcinst's creator */
  uint32_t type_id;        /* the store's interned id of *type: equal ids, equal types */
  cm_instance *inst;       /* NULL for host functions */
  uint32_t funcidx;        /* index of the module's defined function (wasm only) */
  cm_code *code;           /* compiled on first call */
  cm_host_fn host;
  void *host_env;
} cm_funcinst;

typedef struct cm_tableinst {
  cm_tabletype type;
  uint32_t size;
  cm_ref *elems;
} cm_tableinst;

#define CM_PAGE_SIZE 65536u
#define CM_MAX_PAGES 65536u

typedef struct cm_meminst {
  cm_memtype type;
  uint8_t *data; /* stays put when the memory grows */
  uint64_t size; /* bytes */
  uint64_t reserved; /* bytes of address space reserved at data (memory.c) */
} cm_meminst;

typedef struct cm_globalinst {
  cm_globaltype type;
  cm_value val;
} cm_globalinst;

typedef struct cm_taginst {
  const cm_functype *type;
  uint32_t type_id;
} cm_taginst;

/* An exception (Wasm 3.0): the tag and the values it carries. */
typedef struct cm_exninst {
  cm_taginst *tag;
  uint32_t nfields;
  cm_value *fields;
} cm_exninst;

/* An external value (spec 4.2.11). */
typedef struct cm_extern {
  cm_externkind kind;
  union {
    cm_funcinst *func;
    cm_tableinst *table;
    cm_meminst *mem;
    cm_globalinst *global;
    cm_taginst *tag;
  } u;
} cm_extern;

/* An element segment instance: its references (dropped: n = 0). */
typedef struct cm_eleminst {
  uint32_t n;
  cm_ref *refs;
} cm_eleminst;

struct cm_instance {
  const cm_module *module;
  cm_funcinst **funcs;
  cm_tableinst **tables;
  cm_meminst **mems;
  cm_globalinst **globals;
  cm_taginst **tags;
  uint32_t *type_ids; /* per module type index */
  cm_eleminst *elems;
  bool *data_dropped;
};

/* ---- Store (store.c) ---- */

cm_store *cm_store_new(void);
void cm_store_free(cm_store *s);

/* Interns a function type: two types get the same id iff they are equal. */
uint32_t cm_store_type_id(cm_store *s, const cm_functype *t);

/* Allocation of instances owned by the store (NULL when out of memory). */
cm_funcinst *cm_store_host_func(cm_store *s, const cm_functype *type, cm_host_fn fn, void *env);
cm_tableinst *cm_store_table(cm_store *s, const cm_tabletype *type, cm_ref init);
cm_meminst *cm_store_memory(cm_store *s, const cm_memtype *type);
cm_globalinst *cm_store_global(cm_store *s, const cm_globaltype *type, cm_value val);
cm_taginst *cm_store_tag(cm_store *s, const cm_functype *type);
cm_exninst *cm_store_exn(cm_store *s, cm_taginst *tag, const cm_value *fields);
/* A function type kept alive by the store (copied). */
const cm_functype *cm_store_functype(cm_store *s, const cm_valtype *params, uint32_t np,
                                     const cm_valtype *results, uint32_t nr);
/* Registers any malloc'ed block to be freed with the store. */
bool cm_store_own(cm_store *s, void *block);
/* Zeroed memory freed with the store (NULL when out of memory). */
void *cm_store_alloc(cm_store *s, size_t size);

/* ---- Memory and tables (memory.c, table.c) ---- */

/* Reserves the address space of m (type and size set) and maps its size; false when out
 * of memory. cm_mem_release unmaps it (the store does, when freed). */
bool cm_mem_alloc(cm_meminst *m);
void cm_mem_release(cm_meminst *m);
/* Grows by delta pages; returns the old size in pages, or -1 (spec memory.grow). */
int64_t cm_mem_grow(cm_meminst *m, uint64_t delta);
int64_t cm_table_grow(cm_tableinst *t, uint64_t delta, cm_ref init);

/* ---- Instantiation (instance.c, spec 4.5.4) ---- */

/* Instantiates a validated module. imports[i] is the value for module->imports[i].
 * Errors: CMREF_UNLINKABLE (import mismatch), CMREF_UNINSTANTIABLE / CMREF_TRAP (segments,
 * start). On a trap after allocation the (partly initialised) instance stays in the store. */
cm_instance *cm_core_instantiate(cm_store *s, const cm_module *m, const cm_extern *imports,
                                 uint32_t nimports, cm_error *err);

/* The export named `name` (len bytes), false if none. */
bool cm_instance_export(const cm_instance *inst, const char *name, size_t len, cm_extern *out);

/* Does the external value match the import's type (spec 4.5.3 "Import Matching")? */
bool cm_extern_matches(cm_store *s, const cm_module *m, const cm_import *im, const cm_extern *ext,
                       cm_error *err);

/* ---- Execution (exec.c) ---- */

/* Calls f with args (its params); writes results. Errors: CMREF_TRAP with wasmtime's
 * message, CMREF_EXHAUSTION "call stack exhausted". An uncaught Wasm exception is a trap
 * whose message starts "uncaught exception" (its exninst in *exn if exn is not NULL). */
bool cm_core_invoke(cm_store *s, cm_funcinst *f, const cm_value *args, cm_value *results,
                    cm_error *err);

/* Fuel: a budget of instructions (see cmref_set_fuel for the costs); a straight-line segment
 * it cannot pay for stops with CMREF_EXHAUSTION "all fuel consumed by WebAssembly".
 * UINT64_MAX (the default): unlimited, and functions run unmetered code. */
void cm_store_set_fuel(cm_store *s, uint64_t fuel);
uint64_t cm_store_fuel(const cm_store *s);
/* memory.grow beyond `bytes` in any one linear memory traps (CMREF_EXHAUSTION "memory limit
 * exceeded"). UINT64_MAX (the default): unlimited. */
void cm_store_set_max_memory(cm_store *s, uint64_t bytes);

/* The last uncaught exception of cm_core_invoke (or NULL). */
cm_exninst *cm_store_last_exception(cm_store *s);

/* ---- Traps (trap.c): one table of reasons with wasmtime's wording ---- */

typedef enum cm_trap {
  CM_TRAP_UNREACHABLE,
  CM_TRAP_MEMORY_OOB,
  CM_TRAP_TABLE_OOB,
  CM_TRAP_INDIRECT_NULL,
  CM_TRAP_BAD_SIGNATURE,
  CM_TRAP_INT_OVERFLOW,
  CM_TRAP_DIV_ZERO,
  CM_TRAP_BAD_CONVERSION,
  CM_TRAP_STACK_OVERFLOW,
  CM_TRAP_NULL_REFERENCE,
  CM_TRAP_UNCAUGHT_EXCEPTION,
  CM_TRAP_OUT_OF_MEMORY,
  CM_TRAP_OUT_OF_FUEL,
  CM_TRAP_MEMORY_LIMIT, /* cm_store_set_max_memory */
  CM_TRAP_NULL_I31 /* i31.get on null (GC) */
} cm_trap;

const char *cm_trap_message(cm_trap t);
bool cm_trap_set(cm_error *err, cm_trap t); /* fills err (kind trap/exhaustion); false */

#endif
