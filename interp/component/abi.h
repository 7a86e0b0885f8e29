/* The synchronous canonical ABI: component values, options, contexts, instances, tasks and
 * the canon definitions (CanonicalABI.md, ../shared/spec/definitions.py).
 *
 * Types are the component layer's (component/component.h: cmc_types arena, cmc_tid). The
 * spec's Python classes appear here as C structs with the same names in the same order:
 * ComponentInstance (cma_instance), Task, Store, MemInst, CanonicalOptions,
 * LiftLowerContext, Table / ResourceHandle / ResourceType (resources.h), Subtask.
 * canonical.c holds the spec's functions, one C function per Python function, under the
 * section banners of CanonicalABI.md; resources.c the handle tables and resource built-ins.
 *
 * Concurrency (threads, waitables, streams, futures, async lift/lower) is a later issue:
 * the structs keep the spec's fields for it and canon_lift / canon_lower reject `async`.
 *
 * Memory: every value of one call lives in a cma_heap freed at once. No global state.
 *
 * Wiring (component instantiation):
 * - one cma_store per engine; one cma_instance per component instance (cma_instance_init
 *   with its parent), with `types` = the component's arena and `resolve_resource` mapping
 *   a resource type id of that arena to the instance's runtime cma_resource_type (created
 *   per instantiation: impl = the defining instance, dtor = cma_corefunc_of the core func).
 * - core functions and memories of core instances: abi_core.h (cma_corefunc_of,
 *   cma_meminst_of); fill a cma_options per canon definition (encoding, memory, realloc,
 *   post-return); cma_functype_of(types, functype id).
 * - `canon lift`: cma_store_lift gives the component function (a cma_funcinst).
 * - `canon lower`: a core host function (cm_host_fn) whose body is cma_store_lower_call on
 *   the callee cma_funcinst, with nresults from flatten_functype(opts, ft, CMA_LOWER).
 * - host functions (wasmtime-misc's `host` imports): a cma_funcinst whose `call` runs
 *   on_start, computes, then on_resolve.
 * - `canon resource.new/drop/rep`: core host functions calling resources.h.
 * - invoke from the harness: cma_store_invoke; on_start converts the JSON args with
 *   cma_val_from_json, on_resolve the results with cma_val_to_json (values live until
 *   on_resolve returns).
 */
#ifndef CMA_ABI_H
#define CMA_ABI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "component/component.h"
#include "core/module.h"

/* ---- traps: one table of reasons with wasmtime's wording ------------------------------ */

/* Each reason has the wording of wasmtime's fused adapters (component-to-component calls)
 * and of its host-side lifting/lowering (an embedder calling an export, or a host import),
 * which differ; LiftLowerContext.host selects one. */
typedef enum cma_trap_reason {
  CMA_TRAP_CANNOT_LEAVE,
  CMA_TRAP_CANNOT_ENTER,
  CMA_TRAP_INVALID_CHAR,
  CMA_TRAP_INVALID_BOOL, /* unused by the spec (any non-zero is true); kept for the table */
  CMA_TRAP_STRING_TOO_LONG,
  CMA_TRAP_STRING_ALIGN,
  CMA_TRAP_STRING_OOB,
  CMA_TRAP_INVALID_UTF8,
  CMA_TRAP_INCOMPLETE_UTF8,
  CMA_TRAP_INVALID_UTF16,
  CMA_TRAP_LIST_TOO_LONG,
  CMA_TRAP_LIST_ALIGN,
  CMA_TRAP_LIST_OOB,
  CMA_TRAP_PTR_ALIGN,        /* spilled params/results pointer */
  CMA_TRAP_PTR_OOB,
  CMA_TRAP_REALLOC_ALIGN,
  CMA_TRAP_REALLOC_STRING_OOB,
  CMA_TRAP_REALLOC_LIST_OOB,
  CMA_TRAP_REALLOC_PTR_OOB,
  CMA_TRAP_VARIANT_DISCRIMINANT,
  CMA_TRAP_UNKNOWN_HANDLE,
  CMA_TRAP_HANDLE_WRONG_TYPE,
  CMA_TRAP_HANDLE_NOT_RESOURCE,
  CMA_TRAP_HANDLE_LENT,
  CMA_TRAP_HANDLE_NOT_OWN,
  CMA_TRAP_BORROWS_REMAIN,
  CMA_TRAP_TABLE_FULL,
  CMA_TRAP_TASK_NOT_RESOLVED,
  CMA_TRAP_CORE_EXCEPTION,
  CMA_TRAP_COUNT
} cma_trap_reason;

/* ---- values ------------------------------------------------------------------------- */

/* String encodings (CanonicalOptions.string_encoding). */
typedef enum cma_enc { CMA_UTF8, CMA_UTF16, CMA_LATIN1_UTF16 } cma_enc;

/* The spec's String = (src, encoding, tagged_code_units). src is kept as the code units it
 * was lifted from (UTF-16 little-endian, Latin-1 bytes, UTF-8 bytes): `bytes`/`nbytes`. */
typedef struct cma_meminst cma_meminst;

/* A lifted string or packed list may be a view of the memory it was lifted from (`mem`,
 * `offset`) instead of a copy (`bytes`): the fast path. A view stays valid while that memory's
 * bytes do not change, i.e. until the instance that owns it runs again (which the
 * synchronous ABI never lets happen before the value is lowered). Read through
 * cma_string_bytes / cma_list_raw. */
typedef struct cma_string {
  const uint8_t *bytes;
  uint64_t nbytes;
  cma_enc encoding;
  uint64_t tagged_code_units;
  const cma_meminst *mem;
  uint64_t offset;
} cma_string;

typedef struct cma_resource_type cma_resource_type;
typedef struct cma_val cma_val;

/* ErrorContext (canon error-context.new): its debug message, owned by the concurrency Store */
typedef struct cma_error_context {
  cma_string debug_message;
} cma_error_context;

/* A component value, the despecialized shape of its type:
 * bool, integers, char: u.i (signed values sign-extended); f32/f64: their bits (u.f32, u.f64);
 * string: u.s; list (also fixed-length), record, tuple: u.agg (a list of a numeric element
 * type may instead hold its elements packed little-endian in `raw`, the canonical ABI's
 * memory layout: the fast path); variant, enum, option, result: u.var (case index, payload or
 * NULL); flags: u.flags (bit i = label i); own/borrow: u.handle (rep and resource type). */
struct cma_val {
  union {
    uint64_t i;
    uint32_t f32;
    uint64_t f64;
    cma_string s;
    struct {
      cma_val *v;
      const uint8_t *raw;
      uint32_t n;
      const cma_meminst *mem; /* a packed list viewed in memory at offset */
      uint64_t offset;
    } agg;
    struct {
      uint32_t index;
      cma_val *payload;
    } var;
    uint32_t flags;
    struct {
      uint32_t rep;
      cma_resource_type *rt;
    } handle;
    void *shared; /* stream/future: the shared stream or future (concurrency.c, issue 8) */
    cma_error_context *errctx; /* error-context */
  } u;
};

typedef struct cma_vals {
  cma_val *v;
  uint32_t n;
} cma_vals;

/* Value memory: chunks freed together. */
typedef struct cma_heap_block cma_heap_block;
typedef struct cma_heap {
  cma_heap_block *head;
} cma_heap;
void *cma_heap_alloc(cma_heap *h, size_t size); /* zeroed; NULL when out of memory */
void *cma_heap_alloc_raw(cma_heap *h, size_t size); /* not zeroed (large byte buffers) */
void cma_heap_free(cma_heap *h);

/* JSON (harness/engines/PROTOCOL.md "Component values"), typed by t in types. */
bool cma_val_from_json(cmc_types *types, cmc_tid t, json_t *j, cma_heap *h, cma_val *out,
                       cm_error *err);
json_t *cma_val_to_json(cmc_types *types, cmc_tid t, const cma_val *v); /* NULL: out of memory */

/* ---- Canonical ABI Options ---------------------------------------------------------- */

/* A core function the ABI calls (realloc, post-return, a lifted callee, a destructor):
 * the embedder's wrapper around the core engine's invoke. args/results are flat core values
 * of the function's core type. An error (trap) is returned in err. */
typedef struct cma_corefunc {
  bool (*call)(void *env, const cm_value *args, uint32_t nargs, cm_value *results,
               uint32_t nresults, cm_error *err);
  void *env;
} cma_corefunc;

/* MemInst: a view of a core memory whose bytes may move when it grows (realloc may grow it):
 * *data and *size are re-read after every call out. */
struct cma_meminst {
  uint8_t **data;
  uint64_t *size;
  bool is64; /* addrtype i64 */
};

static inline const uint8_t *cma_string_bytes(const cma_string *s) {
  return s->mem ? *s->mem->data + s->offset : s->bytes;
}
/* the packed elements of a list value, or NULL when it holds cma_vals */
static inline const uint8_t *cma_list_raw(const cma_val *v) {
  return v->u.agg.mem ? *v->u.agg.mem->data + v->u.agg.offset : v->u.agg.raw;
}

/* CanonicalOptions (LiftOptions and LiftLowerOptions are its prefixes). */
typedef struct cma_options {
  cma_enc string_encoding;
  cma_meminst *memory;        /* or NULL */
  cma_corefunc *realloc;      /* or NULL */
  cma_corefunc *post_return;  /* or NULL */
  bool async_;
  cma_corefunc *callback;     /* or NULL */
} cma_options;

/* ---- Component Instances ----------------------------------------------------------- */

typedef struct cma_store cma_store;
typedef struct cma_instance cma_instance;

/* ComponentInstance. handles: the spec's one table of resource handles (and, later,
 * waitables, waitable sets, error contexts). */
typedef struct cma_table_entry {
  uint8_t kind; /* CMA_ENTRY_* (resources.h); 0 = free */
  void *p;
} cma_table_entry;

typedef struct cma_table {
  cma_table_entry *array; /* array[0] is never used (index 0 is invalid) */
  uint32_t len, cap;
  uint32_t *free;
  uint32_t nfree, capfree;
  const uint32_t *max_len; /* the store's limit on a table's length (NULL or 0: none) */
} cma_table;

struct cma_instance {
  cma_store *store;
  cma_instance *parent;
  cma_table handles;
  bool may_enter;
  bool may_leave;
  cmc_types *types; /* the component's type arena (built-in function types use its prims) */
  /* the runtime ResourceType of a resource type id of `types` (set by instantiation) */
  cma_resource_type *(*resolve_resource)(cma_instance *self, cmc_types *types, cmc_tid resource);
  void *env; /* the instantiation's data for resolve_resource */
  /* concurrency (issue 8): threads table, backpressure, waiting count, exclusive thread */
  uint32_t backpressure;
  uint32_t num_waiting_to_enter;
  void *exclusive_thread;
  cma_table threads; /* ComponentInstance.threads (concurrency.c's threads) */
  bool uses_threads; /* has thread built-ins: its sync lifts run as concurrency.c tasks too */
};

bool cma_instance_init(cma_instance *inst, cma_store *store, cma_instance *parent);
void cma_instance_free(cma_instance *inst);
bool may_enter_from(cma_instance *self, cma_instance *caller);
void enter_from(cma_instance *self, cma_instance *caller);
void leave_to(cma_instance *self, cma_instance *caller);

/* ---- Tasks (sync subset; the thread machinery is issue 8) ---------------------------- */

/* A component function type, as canon_lift/canon_lower read it: params and result. */
typedef struct cma_functype {
  cmc_types *types;
  const cmc_field *params;
  uint32_t nparams;
  cmc_tid result; /* CMC_NONE: no result */
  bool async_;
} cma_functype;
bool cma_functype_of(cmc_types *types, cmc_tid ft, cma_functype *out); /* false: not a func */

typedef enum cma_task_state {
  CMA_TASK_INITIAL = 1, CMA_TASK_STARTED, CMA_TASK_PENDING_CANCEL, CMA_TASK_CANCEL_DELIVERED,
  CMA_TASK_RESOLVED
} cma_task_state;

/* OnStart fills the call's arguments; OnResolve receives its results (NULL when cancelled).
 * Values passed to on_resolve live until it returns. */
typedef bool (*cma_on_start)(void *env, cma_vals *args, cm_error *err);
typedef bool (*cma_on_resolve)(void *env, const cma_vals *result, cm_error *err);

typedef struct cma_task {
  const cma_functype *ft;
  const cma_options *opts;
  cma_instance *inst;
  cma_on_start on_start;
  cma_on_resolve on_resolve;
  void *env;
  cma_task_state state;
  uint32_t num_borrows;
} cma_task;

/* Subtask (sync subset): the borrow scope of a lowered call. */
typedef enum cma_subtask_state {
  CMA_SUBTASK_STARTING = 0, CMA_SUBTASK_STARTED, CMA_SUBTASK_RETURNED,
  CMA_SUBTASK_CANCELLED_BEFORE_STARTED, CMA_SUBTASK_CANCELLED_BEFORE_RETURNED
} cma_subtask_state;

typedef struct cma_resource_handle cma_resource_handle;
typedef struct cma_subtask {
  cma_subtask_state state;
  cma_resource_handle **lenders; /* NULL after deliver_resolve */
  uint32_t nlenders, caplenders;
  bool delivered;
  cm_value *flat_results;
  uint32_t nflat_results;
  bool cancellation_requested;
} cma_subtask;

/* ---- Embedding API: Store and function instances ------------------------------------ */

/* FuncInst: a component-level function. Store.lift builds one from a core function; the
 * embedder builds host functions by filling `call` (it must call on_start, then on_resolve
 * with the results). caller is the calling component instance (NULL: the embedder). */
typedef struct cma_funcinst cma_funcinst;
struct cma_funcinst {
  bool (*call)(cma_funcinst *self, cma_on_start on_start, cma_on_resolve on_resolve, void *env,
               cma_instance *caller, cm_error *err);
  /* Store.lift's closure */
  cma_store *store;
  cma_corefunc callee;
  cma_functype ft;
  cma_options opts;
  cma_instance *inst;
  void *host_env; /* for host functions */
};

struct cma_store {
  uint32_t nesting_depth;
  /* interception hook (cmref.h cmref_hook_fn; NULL: none) and its crossing depth */
  cmref_hook_fn hook;
  void *hook_env;
  uint32_t hook_depth;
  struct hooked *hook_pending; /* hook.c: wrappers of calls not yet resolved */
  /* wasmtime's test host `wasmtime.set-max-table-capacity` (0: no limit) */
  uint32_t max_table_capacity;
  /* concurrency (issue 8): the waiting threads */
  struct cmx_store *cx; /* concurrency.h: created on first use, freed by cmx_store_free */
};

/* A lifted call through the store's hook (hook.c); `call` is the unhooked call. */
typedef bool (*cma_call_fn)(cma_funcinst *self, cma_on_start on_start, cma_on_resolve on_resolve,
                            void *env, cma_instance *caller, cm_error *err);
bool cma_hooked_call(cma_call_fn call, cma_funcinst *f, cma_on_start on_start,
                     cma_on_resolve on_resolve, void *env, cma_instance *caller, cm_error *err);
/* frees the wrappers of hooked calls that never resolved (at the store's end) */
void cma_hook_free_pending(cma_store *s);
/* on_start is the hook's own wrapper: the call is already being traced */
bool cma_hook_wrapped(cma_on_start on_start);
/* A host function (not lifted: no type of its own) called through canon lower with type ft. */
bool cma_hooked_host_call(cma_funcinst *f, const cma_functype *ft, cma_on_start on_start,
                          cma_on_resolve on_resolve, void *env, cma_instance *caller,
                          cm_error *err);

/* Store.invoke: calls f from the embedder. */
bool cma_store_invoke(cma_store *s, cma_funcinst *f, cma_on_start on_start,
                      cma_on_resolve on_resolve, void *env, cm_error *err);
/* Store.lift: a FuncInst for the core function f lifted with ft and opts in inst. */
void cma_store_lift(cma_store *s, cma_funcinst *out, cma_corefunc f, const cma_functype *ft,
                    const cma_options *opts, cma_instance *inst);
/* Store.lower: the call of the lowered function (core args in, core results out).
 * nresults must be the flat core result count of flatten_functype(opts, ft, 'lower'). */
bool cma_store_lower_call(cma_store *s, cma_funcinst *f, const cma_functype *ft,
                          const cma_options *opts, cma_instance *inst, const cm_value *args,
                          uint32_t nargs, cm_value *results, uint32_t nresults, cm_error *err);

/* ---- Lifting and Lowering Context --------------------------------------------------- */

typedef enum cma_scope_kind { CMA_SCOPE_NONE, CMA_SCOPE_TASK, CMA_SCOPE_SUBTASK } cma_scope_kind;

typedef struct cma_cx {
  const cma_options *opts;
  cma_instance *inst;
  cma_scope_kind scope_kind; /* borrow_scope: a Task (lifting) or Subtask (lowering) */
  void *borrow_scope;
  cmc_types *types;
  cma_heap *heap;  /* where lifted values are allocated */
  bool host;       /* the other side is the host: wasmtime's host-side wording */
  bool spec_only;  /* no fast paths (tests compare both paths byte for byte) */
  cm_error *err;
} cma_cx;

/* ---- Flattening --------------------------------------------------------------------- */

#define CMA_MAX_FLAT_PARAMS 16
#define CMA_MAX_FLAT_ASYNC_PARAMS 4
#define CMA_MAX_FLAT_RESULTS 1

typedef struct cma_flat_functype {
  uint8_t params[CMA_MAX_FLAT_PARAMS + 1]; /* core valtype codes */
  uint32_t nparams;
  uint8_t results[CMA_MAX_FLAT_RESULTS + 1];
  uint32_t nresults;
} cma_flat_functype;

typedef enum cma_context { CMA_LIFT, CMA_LOWER } cma_context;
bool flatten_functype(const cma_options *opts, const cma_functype *ft, cma_context context,
                      cma_flat_functype *out, cm_error *err);

/* ---- entry points (each the C function of the spec function named) ------------------ */

bool cma_load_value(cma_cx *cx, uint64_t ptr, cmc_tid t, cma_val *out);
bool cma_store_value(cma_cx *cx, const cma_val *v, cmc_tid t, uint64_t ptr);
bool cma_load_string_from_range(cma_cx *cx, uint64_t ptr, uint64_t tagged_code_units,
                                cma_string *out);
bool cma_store_string_into_range(cma_cx *cx, const cma_string *v, uint64_t *ptr,
                                 uint64_t *tagged_code_units);
/* spec path of a list value (no packed `raw` fast path) */
bool cma_load_list_spec(cma_cx *cx, uint64_t ptr, uint32_t length, cmc_tid elem, cma_val *out);

/* lift_flat_values / lower_flat_values over a flat value array; *nconsumed is how many of
 * vals were read. lower writes up to CMA_MAX_FLAT_PARAMS values to out. */
bool cma_lift_flat_values(cma_cx *cx, uint32_t max_flat, const cm_value *vals, uint32_t nvals,
                          const cmc_field *ts, uint32_t nts, cma_vals *out);
bool cma_lower_flat_values(cma_cx *cx, uint32_t max_flat, const cma_vals *vs,
                           const cmc_field *ts, uint32_t nts, cm_value *out, uint32_t *nout);

/* canon lift (sync): the function instance's body. */
bool canon_lift(cma_corefunc *callee, const cma_functype *ft, const cma_options *opts,
                cma_instance *inst, cma_on_start on_start, cma_on_resolve on_resolve, void *env,
                bool host_caller, cm_error *err);
/* canon lower (sync): flat_args in, flat results out (*nresults set). */
bool canon_lower(cma_funcinst *callee, const cma_functype *ft, const cma_options *opts,
                 cma_instance *inst, const cm_value *flat_args, uint32_t nargs,
                 cm_value *flat_results, uint32_t *nresults, cm_error *err);

/* the async ABI (concurrency.c): lower_flat_values with an out_param, deliver_resolve */
bool cma_lower_flat_values_to(cma_cx *cx, uint32_t max_flat, const cma_vals *vs,
                              const cmc_field *ts, uint32_t nts, const cm_value *out_param,
                              uint32_t nout_param);
void cma_deliver_resolve(cma_subtask *st);
uint64_t cma_elem_size(cma_cx *cx, cmc_tid t);
uint32_t cma_alignment(cma_cx *cx, cmc_tid t);

/* Fills err with the reason's wording (host or fused) and returns false. The message is a
 * printf format taking the reason's arguments (handle index, discriminant, ...). */
bool cma_trap(cma_cx *cx, cma_trap_reason reason, ...);
const char *cma_trap_message(cma_trap_reason reason, bool host);

#endif
