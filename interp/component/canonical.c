/* The synchronous canonical ABI, mirroring ../shared/spec/definitions.py: one C function per
 * Python function, same names, same order, under the section banners of CanonicalABI.md.
 *
 * Conventions of the C transcription:
 * - `cx` (LiftLowerContext) is the first parameter where the spec has it; every function that
 *   can trap returns bool (false: *cx->err is set) and passes its result through an out
 *   parameter.
 * - trap_if(cond, reason, ...) is the spec's trap_if: it returns the trap named by reason
 *   (wasmtime's wording, see the trap table below) from the enclosing function.
 * - Core values are cm_value slots; floats travel as their bit patterns.
 * - The spec's assert()s are internal errors (CMREF_INTERNAL), never aborts.
 * - Fast paths (packed numeric lists, bulk string copies) are marked "fast path"; cx->spec_only
 *   turns them off, and the unit tests compare both paths byte for byte.
 */
#include "component/abi.h"
#include "component/concurrency.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "component/resources.h"
#include "component/types.h"

/* ================================================================================ */
/* Boilerplate                                                                      */
/* ================================================================================ */

/* wasmtime renders its trap codes (those of fused adapters included) as "wasm trap: <desc>";
 * errors raised by its runtime in Rust (host-side lifting, resource tables, transcoding
 * libcalls) have no prefix. */
typedef struct trap_wording {
  const char *fused; /* wasmtime's fused adapters (component to component) */
  const char *host;  /* wasmtime's host-side lifting and lowering */
} trap_wording;

static const trap_wording trap_table[CMA_TRAP_COUNT] = {
    [CMA_TRAP_CANNOT_LEAVE] = {"wasm trap: cannot leave component instance", "wasm trap: cannot leave component instance"},
    [CMA_TRAP_CANNOT_ENTER] = {"wasm trap: cannot enter component instance",
                               "wasm trap: cannot enter component instance"},
    [CMA_TRAP_INVALID_CHAR] = {"wasm trap: invalid `char` bit pattern", "converted integer out of range for `char`"},
    [CMA_TRAP_INVALID_BOOL] = {"invalid bool", "invalid bool"},
    [CMA_TRAP_STRING_TOO_LONG] = {"wasm trap: string content out-of-bounds",
                                  "string pointer/length out of bounds of memory"},
    [CMA_TRAP_STRING_ALIGN] = {"wasm trap: unaligned pointer", "string pointer not aligned to 2"},
    [CMA_TRAP_STRING_OOB] = {"wasm trap: string content out-of-bounds",
                             "string pointer/length out of bounds of memory"},
    [CMA_TRAP_INVALID_UTF8] = {"invalid utf8 encoding",
                               "invalid utf-8 sequence of %u bytes from index %llu"},
    [CMA_TRAP_INCOMPLETE_UTF8] = {"invalid utf8 encoding",
                                  "incomplete utf-8 byte sequence from index %llu"},
    [CMA_TRAP_INVALID_UTF16] = {"invalid utf16 encoding", "unpaired surrogate found: %x"},
    [CMA_TRAP_LIST_TOO_LONG] = {"wasm trap: list content out-of-bounds",
                                "list pointer/length out of bounds of memory"},
    [CMA_TRAP_LIST_ALIGN] = {"wasm trap: unaligned pointer", "list pointer is not aligned"},
    [CMA_TRAP_LIST_OOB] = {"wasm trap: list content out-of-bounds", "list pointer/length out of bounds of memory"},
    [CMA_TRAP_PTR_ALIGN] = {"wasm trap: unaligned pointer", "return pointer not aligned"},
    [CMA_TRAP_PTR_OOB] = {"wasm trap: out of bounds memory access", "pointer out of bounds of memory"},
    [CMA_TRAP_REALLOC_ALIGN] = {"wasm trap: unaligned pointer", "realloc return: result not aligned"},
    [CMA_TRAP_REALLOC_STRING_OOB] = {"wasm trap: string content out-of-bounds",
                                     "realloc return: beyond end of memory"},
    [CMA_TRAP_REALLOC_LIST_OOB] = {"wasm trap: list content out-of-bounds", "realloc return: beyond end of memory"},
    [CMA_TRAP_REALLOC_PTR_OOB] = {"wasm trap: out of bounds memory access", "realloc return: beyond end of memory"},
    [CMA_TRAP_VARIANT_DISCRIMINANT] = {"wasm trap: invalid variant discriminant",
                                       "discriminant %u out of range [0..%u)"},
    [CMA_TRAP_UNKNOWN_HANDLE] = {"unknown handle index %u", "unknown handle index %u"},
    [CMA_TRAP_HANDLE_WRONG_TYPE] = {"handle index %u used with the wrong type, expected guest-defined "
                                    "resource but found a different guest-defined resource",
                                    "handle index %u used with the wrong type, expected guest-defined "
                                    "resource but found a different guest-defined resource"},
    [CMA_TRAP_HANDLE_NOT_RESOURCE] = {"handle index %u used with the wrong type, expected resource",
                                      "handle index %u used with the wrong type, expected resource"},
    [CMA_TRAP_HANDLE_LENT] = {"cannot remove owned resource while borrowed",
                              "cannot remove owned resource while borrowed"},
    [CMA_TRAP_HANDLE_NOT_OWN] = {"cannot lift own resource while it is borrowed",
                                 "cannot lift own resource while it is borrowed"},
    [CMA_TRAP_BORROWS_REMAIN] = {"borrow handles still remain at the end of the call",
                                 "borrow handles still remain at the end of the call"},
    [CMA_TRAP_TABLE_FULL] = {"resource table has no free slots", "resource table has no free slots"},
    [CMA_TRAP_TASK_NOT_RESOLVED] = {"wasm trap: cannot block a synchronous task before returning",
                                    "wasm trap: cannot block a synchronous task before returning"},
    [CMA_TRAP_CORE_EXCEPTION] = {"wasm trap: uncaught exception propagated out of component",
                                 "wasm trap: uncaught exception propagated out of component"},
};

const char *cma_trap_message(cma_trap_reason reason, bool host) {
  if ((unsigned)reason >= CMA_TRAP_COUNT) return "unknown trap";
  return host ? trap_table[reason].host : trap_table[reason].fused;
}

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#endif
static bool vtrap(cm_error *err, cma_trap_reason reason, bool host, va_list ap) {
  if (err) {
    err->kind = CMREF_TRAP;
    vsnprintf(err->message, sizeof err->message, cma_trap_message(reason, host), ap);
  }
  return false;
}
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

bool cma_trap(cma_cx *cx, cma_trap_reason reason, ...) {
  va_list ap;
  va_start(ap, reason);
  vtrap(cx->err, reason, cx->host, ap);
  va_end(ap);
  return false;
}

/* A trap outside a LiftLowerContext (the instance flags, built-ins): fused wording. */
static bool trap_err(cm_error *err, cma_trap_reason reason, ...) {
  va_list ap;
  va_start(ap, reason);
  vtrap(err, reason, false, ap);
  va_end(ap);
  return false;
}

static bool fail(cm_error *err, cmref_errkind kind, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static bool fail(cm_error *err, cmref_errkind kind, const char *fmt, ...) {
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    err->kind = kind;
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
  }
  return false;
}

/* the spec's trap_if(cond): returns the trap from the enclosing function (uses `cx`) */
#define trap_if(cond, ...)                                                                  \
  do {                                                                                      \
    if (cond) return cma_trap(cx, __VA_ARGS__);                                             \
  } while (0)
/* the spec's assert(cond): an internal error, never an abort */
#define check(cond)                                                                         \
  do {                                                                                      \
    if (!(cond)) return fail(cx->err, CMREF_INTERNAL, "canonical ABI: assertion %s failed (%s:%d)", \
                             #cond, __FILE__, __LINE__);                                     \
  } while (0)

#define T(id) (&cx->types->v[(id)])

/* ================================================================================ */
/* Component Instances                                                              */
/* ================================================================================ */

bool cma_instance_init(cma_instance *inst, cma_store *store, cma_instance *parent) {
  memset(inst, 0, sizeof *inst);
  inst->store = store;
  inst->parent = parent;
  inst->may_enter = true;
  inst->may_leave = true;
  if (!cma_table_init(&inst->handles) || !cma_table_init(&inst->threads)) return false;
  inst->handles.max_len = inst->threads.max_len = store ? &store->max_table_capacity : NULL;
  return true;
}

void cma_instance_free(cma_instance *inst) {
  cma_table_free(&inst->handles);
  cma_table_free(&inst->threads);
}

static bool in_self_and_ancestors(cma_instance *self, cma_instance *x) {
  for (cma_instance *i = self; i; i = i->parent)
    if (i == x) return true;
  return false;
}

/* entering_set(caller) = self_and_ancestors() - caller.self_and_ancestors(): the members
 * are the instances i on self's ancestor chain that are not on caller's. */
static bool in_entering_set(cma_instance *i, cma_instance *caller) {
  return !caller || !in_self_and_ancestors(caller, i);
}

bool may_enter_from(cma_instance *self, cma_instance *caller) {
  for (cma_instance *i = self; i; i = i->parent)
    if (in_entering_set(i, caller) && !i->may_enter) return false;
  return true;
}

void enter_from(cma_instance *self, cma_instance *caller) {
  for (cma_instance *i = self; i; i = i->parent)
    if (in_entering_set(i, caller)) i->may_enter = false;
}

void leave_to(cma_instance *self, cma_instance *caller) {
  for (cma_instance *i = self; i; i = i->parent)
    if (in_entering_set(i, caller)) i->may_enter = true;
}

/* ================================================================================ */
/* Concurrency: Tasks (the synchronous subset; threads and cancellation: issue 8)   */
/* ================================================================================ */

static void task_init(cma_task *task, const cma_functype *ft, const cma_options *opts,
                      cma_instance *inst, cma_on_start on_start, cma_on_resolve on_resolve,
                      void *env) {
  memset(task, 0, sizeof *task);
  task->ft = ft;
  task->opts = opts;
  task->inst = inst;
  task->on_start = on_start;
  task->on_resolve = on_resolve;
  task->env = env;
  task->state = CMA_TASK_INITIAL;
}

/* Task.start */
static bool task_start(cma_task *task, cma_vals *args, cm_error *err) {
  task->state = CMA_TASK_STARTED;
  return task->on_start(task->env, args, err);
}

/* Task.return_ */
static bool task_return(cma_cx *cx, cma_task *task, const cma_vals *result) {
  trap_if(task->state == CMA_TASK_RESOLVED, CMA_TRAP_TASK_NOT_RESOLVED);
  trap_if(task->num_borrows > 0, CMA_TRAP_BORROWS_REMAIN);
  if (!task->on_resolve(task->env, result, cx->err)) return false;
  task->state = CMA_TASK_RESOLVED;
  return true;
}

/* Task.exit_implicit_thread / unregister_thread, for the one (implicit) thread of a sync task */
static bool task_exit_implicit_thread(cma_cx *cx, cma_task *task) {
  trap_if(task->state != CMA_TASK_RESOLVED, CMA_TRAP_TASK_NOT_RESOLVED);
  check(task->num_borrows == 0);
  return true;
}

/* ================================================================================ */
/* Embedding API                                                                    */
/* ================================================================================ */

bool cma_store_invoke(cma_store *s, cma_funcinst *f, cma_on_start on_start,
                      cma_on_resolve on_resolve, void *env, cm_error *err) {
  s->nesting_depth++;
  bool ok = f->call(f, on_start, on_resolve, env, NULL, err);
  s->nesting_depth--;
  return ok;
}

static bool lifted_call(cma_funcinst *f, cma_on_start on_start, cma_on_resolve on_resolve,
                        void *env, cma_instance *caller, cm_error *err);

/* Store.lift's func_inst (through the store's interception hook if one is installed) */
static bool lifted_func_inst(cma_funcinst *f, cma_on_start on_start, cma_on_resolve on_resolve,
                             void *env, cma_instance *caller, cm_error *err) {
#ifndef CMREF_NO_HOOKS /* tools/bench/hook_bench.py measures the build without the check */
  if (f->store && f->store->hook)
    return cma_hooked_call(lifted_call, f, on_start, on_resolve, env, caller, err);
#endif
  return lifted_call(f, on_start, on_resolve, env, caller, err);
}

static bool lifted_call(cma_funcinst *f, cma_on_start on_start, cma_on_resolve on_resolve,
                        void *env, cma_instance *caller, cm_error *err) {
  cma_instance *inst = f->inst;
  /* thread built-ins can switch away from a synchronous task: it needs a thread (fiber) */
  if (inst->uses_threads && f->host_env) return cmx_lifted_call(f, on_start, on_resolve, env, caller, err);
  if (!may_enter_from(inst, caller)) return trap_err(err, CMA_TRAP_CANNOT_ENTER);
  enter_from(inst, caller);
  bool ok = canon_lift(&f->callee, &f->ft, &f->opts, inst, on_start, on_resolve, env,
                       caller == NULL, err);
  /* Explainer.md "lockdown": a trap leaves the instances it ran in unenterable (their
   * may_enter stays cleared, so later calls trap "cannot enter component instance") */
  if (ok || (err && err->kind != CMREF_TRAP && err->kind != CMREF_EXHAUSTION)) leave_to(inst, caller);
  return ok;
}

void cma_store_lift(cma_store *s, cma_funcinst *out, cma_corefunc f, const cma_functype *ft,
                    const cma_options *opts, cma_instance *inst) {
  memset(out, 0, sizeof *out);
  out->call = lifted_func_inst;
  out->store = s;
  out->callee = f;
  out->ft = *ft;
  out->opts = *opts;
  out->inst = inst;
}

/* Store.lower's core_func_inst */
bool cma_store_lower_call(cma_store *s, cma_funcinst *f, const cma_functype *ft,
                          const cma_options *opts, cma_instance *inst, const cm_value *args,
                          uint32_t nargs, cm_value *results, uint32_t nresults, cm_error *err) {
  (void)s;
  uint32_t n = 0;
  if (!canon_lower(f, ft, opts, inst, args, nargs, results, &n, err)) return false;
  if (n != nresults)
    return fail(err, CMREF_INTERNAL, "canon lower produced %u results, the core type has %u", n,
                nresults);
  return true;
}

/* ================================================================================ */
/* Canonical ABI Options                                                            */
/* ================================================================================ */

static uint32_t ptr_size(bool is64) { return is64 ? 8 : 4; }

/* MemInst.ptr_type(): the core type of a pointer (i32 0x7f, i64 0x7e) */
static uint8_t ptr_type(const cma_cx *cx) {
  return cx->opts->memory && cx->opts->memory->is64 ? 0x7e : 0x7f;
}
static bool is64(const cma_cx *cx) { return cx->opts->memory && cx->opts->memory->is64; }
static uint8_t *mem(const cma_cx *cx) { return *cx->opts->memory->data; }
static uint64_t mem_len(const cma_cx *cx) { return *cx->opts->memory->size; }
/* ptr + n <= len(memory), without overflow */
static bool in_bounds(const cma_cx *cx, uint64_t ptr, uint64_t n) {
  uint64_t len = mem_len(cx);
  return n <= len && ptr <= len - n;
}

/* ================================================================================ */
/* Lifting and Lowering Context                                                     */
/* ================================================================================ */

static bool call_and_trap_on_throw(cma_corefunc *callee, const cm_value *args, uint32_t nargs,
                                   cm_value *results, uint32_t nresults, cm_error *err);

/* LiftLowerContext.reallocate: the spec lifts realloc as a sync function of type
 * (u32 u32 u32 u32) -> u32 whose values are passed through unchanged; it is called directly
 * here with may_leave cleared and exceptions turned into traps (call_and_trap_on_throw),
 * which is everything that lifting observably does. */
static bool reallocate(cma_cx *cx, uint64_t old, uint64_t old_byte_length, uint32_t alignment,
                       uint64_t new_byte_length, uint64_t *out) {
  check(cx->inst->may_leave);
  check(cx->opts->realloc != NULL && cx->opts->memory != NULL);
  cx->inst->may_leave = false;
  cm_value args[4], result;
  memset(args, 0, sizeof args);
  memset(&result, 0, sizeof result);
  uint64_t a[4] = {old, old_byte_length, alignment, new_byte_length};
  for (int i = 0; i < 4; i++) {
    if (is64(cx)) args[i].i64 = a[i];
    else args[i].i32 = (uint32_t)a[i];
  }
  bool ok = call_and_trap_on_throw(cx->opts->realloc, args, 4, &result, 1, cx->err);
  cx->inst->may_leave = true;
  if (!ok) return false;
  *out = is64(cx) ? result.i64 : result.i32;
  return true;
}

static bool allocate(cma_cx *cx, uint32_t alignment, uint64_t byte_length, uint64_t *out) {
  return reallocate(cx, 0, 0, alignment, byte_length, out);
}

/* ================================================================================ */
/* Subtask State (the synchronous subset)                                           */
/* ================================================================================ */

static bool add_lender(cma_cx *cx, cma_subtask *st, cma_resource_handle *h) {
  check(!st->delivered);
  if (st->nlenders == st->caplenders) {
    uint32_t cap = st->caplenders ? st->caplenders * 2 : 8;
    cma_resource_handle **v = realloc(st->lenders, cap * sizeof *v);
    if (!v) return fail(cx->err, CMREF_EXHAUSTION, "out of memory");
    st->lenders = v;
    st->caplenders = cap;
  }
  h->num_lends++;
  st->lenders[st->nlenders++] = h;
  return true;
}

static void deliver_resolve(cma_subtask *st) {
  for (uint32_t i = 0; i < st->nlenders; i++) st->lenders[i]->num_lends--;
  free(st->lenders);
  st->lenders = NULL;
  st->nlenders = st->caplenders = 0;
  st->delivered = true;
}

/* ================================================================================ */
/* Despecialization                                                                 */
/* ================================================================================ */

/* The despecialized shape of a value type: tuple -> record, enum/option/result -> variant. */
typedef enum dkind {
  D_BOOL, D_S8, D_U8, D_S16, D_U16, D_S32, D_U32, D_S64, D_U64, D_F32, D_F64, D_CHAR,
  D_STRING, D_ERROR_CONTEXT, D_LIST, D_RECORD, D_VARIANT, D_FLAGS, D_OWN, D_BORROW, D_STREAM,
  D_FUTURE, D_UNSUPPORTED
} dkind;

static dkind despecialize(const cmc_type *t) {
  switch (t->kind) {
  case CMC_T_PRIM:
    switch (t->prim) {
    case CMC_BOOL: return D_BOOL;
    case CMC_S8: return D_S8;
    case CMC_U8: return D_U8;
    case CMC_S16: return D_S16;
    case CMC_U16: return D_U16;
    case CMC_S32: return D_S32;
    case CMC_U32: return D_U32;
    case CMC_S64: return D_S64;
    case CMC_U64: return D_U64;
    case CMC_F32: return D_F32;
    case CMC_F64: return D_F64;
    case CMC_CHAR: return D_CHAR;
    case CMC_STRING: return D_STRING;
    case CMC_ERROR_CONTEXT: return D_ERROR_CONTEXT;
    default: return D_UNSUPPORTED;
    }
  case CMC_T_LIST: case CMC_T_FIXLIST: case CMC_T_MAP: return D_LIST;
  case CMC_T_RECORD: case CMC_T_TUPLE: return D_RECORD;
  case CMC_T_VARIANT: case CMC_T_ENUM: case CMC_T_OPTION: case CMC_T_RESULT: return D_VARIANT;
  case CMC_T_FLAGS: return D_FLAGS;
  case CMC_T_OWN: return D_OWN;
  case CMC_T_BORROW: return D_BORROW;
  case CMC_T_STREAM: return D_STREAM;
  case CMC_T_FUTURE: return D_FUTURE;
  default: return D_UNSUPPORTED;
  }
}

/* the cases of a despecialized variant: count and payload type (CMC_NONE: none) */
static uint32_t case_count(const cmc_type *t) {
  return t->kind == CMC_T_OPTION || t->kind == CMC_T_RESULT ? 2 : t->n;
}
static cmc_tid case_type(const cmc_type *t, uint32_t i) {
  switch (t->kind) {
  case CMC_T_OPTION: return i == 0 ? CMC_NONE : t->a;
  case CMC_T_RESULT: return i == 0 ? t->a : t->b;
  case CMC_T_ENUM: return CMC_NONE;
  default: return t->fields[i].type;
  }
}
/* the length of a list type: maybe_length (0 when not fixed-length) */
static uint32_t maybe_length(const cmc_type *t) { return t->kind == CMC_T_FIXLIST ? t->len : 0; }

/* despecialize(MapType(k, v)) = ListType(TupleType([k, v])): the element type of a map is
 * the tuple<k, v>, which has no id in the arena; it is named by the map's id with the high
 * bit set (PAIR), and alignment/elem_size/load/store read it as the record of its two
 * members. */
#define PAIR_BIT 0x80000000u
static bool is_pair(cmc_tid t) { return t != CMC_NONE && (t & PAIR_BIT); }
static void pair_fields(cma_cx *cx, cmc_tid pair, cmc_field out[2]) {
  const cmc_type *m = &cx->types->v[pair & ~PAIR_BIT];
  out[0] = (cmc_field){NULL, m->a};
  out[1] = (cmc_field){NULL, m->b};
}
/* the element type of a list (or map) type */
static cmc_tid list_elem_type(cma_cx *cx, const cmc_type *lt) {
  return lt->kind == CMC_T_MAP ? (cmc_tid)(lt - cx->types->v) | PAIR_BIT : lt->a;
}

/* ================================================================================ */
/* Type Predicates                                                                  */
/* ================================================================================ */

/* contains_borrow / contains_async_value: kept by the component layer as cmc_type.has_borrow
 * (validation uses them; the synchronous ABI needs neither) */

/* ================================================================================ */
/* Alignment                                                                        */
/* ================================================================================ */

/* alignment(t): computed once per type by the component layer (types.c, cmc_type.align) */
static uint32_t alignment_record(cma_cx *cx, const cmc_field *fields, uint32_t n);

static uint32_t alignment(cma_cx *cx, cmc_tid t) {
  if (is_pair(t)) {
    cmc_field f[2];
    pair_fields(cx, t, f);
    return alignment_record(cx, f, 2);
  }
  return T(t)->align[is64(cx)];
}

static uint64_t align_to(uint64_t ptr, uint64_t alignment);

static uint32_t alignment_record(cma_cx *cx, const cmc_field *fields, uint32_t n) {
  uint32_t a = 1;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t f = alignment(cx, fields[i].type);
    if (f > a) a = f;
  }
  return a;
}

/* discriminant_type(cases): its byte size (u8, u16, u32) */
static uint32_t discriminant_type(uint32_t n) {
  if (n <= 256) return 1;
  if (n <= 65536) return 2;
  return 4;
}

static uint32_t max_case_alignment(cma_cx *cx, const cmc_type *t) {
  uint32_t a = 1;
  for (uint32_t i = 0; i < case_count(t); i++) {
    cmc_tid c = case_type(t, i);
    if (c != CMC_NONE && alignment(cx, c) > a) a = alignment(cx, c);
  }
  return a;
}

/* ================================================================================ */
/* Element Size                                                                     */
/* ================================================================================ */

/* elem_size(t): computed once per type by the component layer (types.c, cmc_type.size) */
static uint64_t elem_size_record(cma_cx *cx, const cmc_field *fields, uint32_t n);

static uint64_t elem_size(cma_cx *cx, cmc_tid t) {
  if (is_pair(t)) {
    cmc_field f[2];
    pair_fields(cx, t, f);
    return elem_size_record(cx, f, 2);
  }
  return T(t)->size[is64(cx)];
}

static uint64_t elem_size_record(cma_cx *cx, const cmc_field *fields, uint32_t n) {
  uint64_t s = 0;
  for (uint32_t i = 0; i < n; i++) {
    s = align_to(s, alignment(cx, fields[i].type));
    s += elem_size(cx, fields[i].type);
  }
  return align_to(s, alignment_record(cx, fields, n));
}

static uint64_t align_to(uint64_t ptr, uint64_t alignment) {
  return (ptr + alignment - 1) / alignment * alignment;
}

static uint32_t elem_size_flags(uint32_t n) {
  if (n <= 8) return 1;
  if (n <= 16) return 2;
  return 4;
}

/* ================================================================================ */
/* Loading                                                                          */
/* ================================================================================ */

#define MAX_STRING_BYTE_LENGTH ((UINT64_C(1) << 28) - 1)
#define MAX_LIST_BYTE_LENGTH ((UINT64_C(1) << 28) - 1)
#define CANONICAL_FLOAT32_NAN UINT32_C(0x7fc00000)
#define CANONICAL_FLOAT64_NAN UINT64_C(0x7ff8000000000000)

static bool load_string(cma_cx *cx, uint64_t ptr, cma_string *out);
static bool load_list(cma_cx *cx, uint64_t ptr, const cmc_type *lt, cma_val *out);
static bool load_list_from_range(cma_cx *cx, uint64_t ptr, uint64_t length, cmc_tid elem,
                                 cma_val *out);
static bool load_record(cma_cx *cx, uint64_t ptr, const cmc_field *fields, uint32_t n,
                        cma_val *out);
static bool load_variant(cma_cx *cx, uint64_t ptr, const cmc_type *t, cma_val *out);
static uint32_t load_flags(cma_cx *cx, uint64_t ptr, uint32_t nlabels);
static bool lift_own(cma_cx *cx, uint32_t i, const cmc_type *t, cma_val *out);
static bool lift_error_context(cma_cx *cx, uint32_t i, cma_val *out);
static bool lift_borrow(cma_cx *cx, uint32_t i, const cmc_type *t, cma_val *out);
static bool convert_i32_to_char(cma_cx *cx, uint32_t i, uint64_t *out);
static uint32_t canonicalize_nan32(uint32_t f);
static uint64_t canonicalize_nan64(uint64_t f);

static uint64_t load_int(cma_cx *cx, uint64_t ptr, uint32_t nbytes, bool is_signed);
static uint32_t decode_i32_as_float(uint32_t i);
static uint64_t decode_i64_as_float(uint64_t i);

static bool convert_int_to_bool(uint64_t i);
static bool load(cma_cx *cx, uint64_t ptr, cmc_tid t, cma_val *out) {
  check(ptr == align_to(ptr, alignment(cx, t)));
  check(in_bounds(cx, ptr, elem_size(cx, t)));
  if (is_pair(t)) {
    cmc_field f[2];
    pair_fields(cx, t, f);
    return load_record(cx, ptr, f, 2, out);
  }
  const cmc_type *ty = T(t);
  switch (despecialize(ty)) {
  case D_BOOL: out->u.i = convert_int_to_bool(load_int(cx, ptr, 1, false)); return true;
  case D_U8: out->u.i = load_int(cx, ptr, 1, false); return true;
  case D_U16: out->u.i = load_int(cx, ptr, 2, false); return true;
  case D_U32: out->u.i = load_int(cx, ptr, 4, false); return true;
  case D_U64: out->u.i = load_int(cx, ptr, 8, false); return true;
  case D_S8: out->u.i = load_int(cx, ptr, 1, true); return true;
  case D_S16: out->u.i = load_int(cx, ptr, 2, true); return true;
  case D_S32: out->u.i = load_int(cx, ptr, 4, true); return true;
  case D_S64: out->u.i = load_int(cx, ptr, 8, true); return true;
  case D_F32: out->u.f32 = decode_i32_as_float((uint32_t)load_int(cx, ptr, 4, false)); return true;
  case D_F64: out->u.f64 = decode_i64_as_float(load_int(cx, ptr, 8, false)); return true;
  case D_CHAR: return convert_i32_to_char(cx, (uint32_t)load_int(cx, ptr, 4, false), &out->u.i);
  case D_STRING: return load_string(cx, ptr, &out->u.s);
  case D_ERROR_CONTEXT: return lift_error_context(cx, (uint32_t)load_int(cx, ptr, 4, false), out);
  case D_LIST: return load_list(cx, ptr, ty, out);
  case D_RECORD: return load_record(cx, ptr, ty->fields, ty->n, out);
  case D_VARIANT: return load_variant(cx, ptr, ty, out);
  case D_FLAGS: out->u.flags = load_flags(cx, ptr, ty->n); return true;
  case D_OWN: return lift_own(cx, (uint32_t)load_int(cx, ptr, 4, false), ty, out);
  case D_STREAM: case D_FUTURE: /* issue 8 */
    return cmx_lift_async_value(cx, (uint32_t)load_int(cx, ptr, 4, false), ty, out);
  case D_BORROW: return lift_borrow(cx, (uint32_t)load_int(cx, ptr, 4, false), ty, out);
  default:
    return fail(cx->err, CMREF_INTERNAL, "canonical ABI: %s values are not supported yet (issue 8)",
                cmc_type_desc(cx->types, t));
  }
}

static uint64_t load_int(cma_cx *cx, uint64_t ptr, uint32_t nbytes, bool is_signed) {
  const uint8_t *p = mem(cx) + ptr;
  uint64_t v = 0;
  for (uint32_t k = 0; k < nbytes; k++) v |= (uint64_t)p[k] << (8 * k);
  if (is_signed && nbytes < 8 && (v >> (8 * nbytes - 1)) & 1) v |= ~UINT64_C(0) << (8 * nbytes);
  return v;
}

static bool convert_int_to_bool(uint64_t i) { return i != 0; }

static bool is_nan32(uint32_t f) { return (f & 0x7f800000u) == 0x7f800000u && (f & 0x7fffffu); }
static bool is_nan64(uint64_t f) {
  return (f & UINT64_C(0x7ff0000000000000)) == UINT64_C(0x7ff0000000000000) &&
         (f & UINT64_C(0xfffffffffffff));
}

static uint32_t canonicalize_nan32(uint32_t f) { return is_nan32(f) ? CANONICAL_FLOAT32_NAN : f; }
static uint64_t canonicalize_nan64(uint64_t f) { return is_nan64(f) ? CANONICAL_FLOAT64_NAN : f; }

static uint32_t core_f32_reinterpret_i32(uint32_t i);
static uint64_t core_f64_reinterpret_i64(uint64_t i);
static uint32_t decode_i32_as_float(uint32_t i) { return canonicalize_nan32(core_f32_reinterpret_i32(i)); }
static uint64_t decode_i64_as_float(uint64_t i) { return canonicalize_nan64(core_f64_reinterpret_i64(i)); }

/* floats are kept as their bits: the reinterpretations are the identity */
static uint32_t core_f32_reinterpret_i32(uint32_t i) { return i; }
static uint64_t core_f64_reinterpret_i64(uint64_t i) { return i; }

static bool convert_i32_to_char(cma_cx *cx, uint32_t i, uint64_t *out) {
  trap_if(i >= 0x110000, CMA_TRAP_INVALID_CHAR);
  trap_if(0xD800 <= i && i <= 0xDFFF, CMA_TRAP_INVALID_CHAR);
  *out = i;
  return true;
}

static bool load_string(cma_cx *cx, uint64_t ptr, cma_string *out) {
  uint32_t ps = ptr_size(is64(cx));
  uint64_t begin = load_int(cx, ptr, ps, false);
  uint64_t tagged_code_units = load_int(cx, ptr + ps, ps, false);
  return cma_load_string_from_range(cx, begin, tagged_code_units, out);
}

static uint64_t utf16_tag(bool ptr64) { return UINT64_C(1) << (ptr_size(ptr64) * 8 - 1); }

/* UTF-8 validation with Rust's Utf8Error facts (wasmtime's host messages): on failure
 * *valid_up_to and *error_len (0: incomplete sequence at the end). */
static bool validate_utf8(const uint8_t *s, uint64_t n, uint64_t *valid_up_to,
                          uint32_t *error_len, bool spec_only) {
  uint64_t i = 0;
  while (i < n) {
    if (!spec_only) { /* fast path: ASCII 32 and 8 bytes at a time */
      while (i + 32 <= n) {
        uint64_t w[4];
        memcpy(w, s + i, 32);
        if ((w[0] | w[1] | w[2] | w[3]) & UINT64_C(0x8080808080808080)) break;
        i += 32;
      }
      while (i + 8 <= n) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        uint64_t high = w & UINT64_C(0x8080808080808080);
        if (high) {
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
          i += (uint64_t)__builtin_ctzll(high) >> 3; /* skip the ASCII bytes before it */
#endif
          break;
        }
        i += 8;
      }
      if (i >= n) break;
    }
    uint8_t b = s[i];
    if (b < 0x80) { i++; continue; }
    uint32_t need, lo = 0x80, hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) need = 1;
    else if (b >= 0xE0 && b <= 0xEF) {
      need = 2;
      if (b == 0xE0) lo = 0xA0;
      if (b == 0xED) hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      need = 3;
      if (b == 0xF0) lo = 0x90;
      if (b == 0xF4) hi = 0x8F;
    } else {
      *valid_up_to = i;
      *error_len = 1;
      return false;
    }
    for (uint32_t k = 1; k <= need; k++) {
      if (i + k >= n) {
        *valid_up_to = i;
        *error_len = 0;
        return false;
      }
      uint8_t c = s[i + k];
      uint32_t l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
      if (c < l || c > h) {
        *valid_up_to = i;
        *error_len = k;
        return false;
      }
    }
    i += need + 1;
  }
  return true;
}

/* the first unpaired surrogate of a UTF-16LE sequence of n code units, or -1 */
static int64_t find_unpaired_surrogate(const uint8_t *s, uint64_t n) {
  for (uint64_t i = 0; i < n; i++) {
    uint32_t u = s[2 * i] | (uint32_t)s[2 * i + 1] << 8;
    if (u < 0xD800 || u > 0xDFFF) continue;
    if (u >= 0xDC00) return u;
    if (i + 1 == n) return u;
    uint32_t v = s[2 * i + 2] | (uint32_t)s[2 * i + 3] << 8;
    if (v < 0xDC00 || v > 0xDFFF) return u;
    i++;
  }
  return -1;
}

bool cma_load_string_from_range(cma_cx *cx, uint64_t ptr, uint64_t tagged_code_units,
                                cma_string *out) {
  uint64_t tag = utf16_tag(is64(cx)), byte_length;
  uint32_t alignment;
  cma_enc encoding;
  switch (cx->opts->string_encoding) {
  case CMA_UTF8:
    alignment = 1;
    byte_length = tagged_code_units;
    encoding = CMA_UTF8;
    break;
  case CMA_UTF16:
    alignment = 2;
    byte_length = tagged_code_units > (UINT64_MAX >> 1) ? UINT64_MAX : 2 * tagged_code_units;
    encoding = CMA_UTF16;
    break;
  default:
    alignment = 2;
    if (tagged_code_units & tag) {
      byte_length = 2 * (tagged_code_units ^ tag);
      encoding = CMA_UTF16;
    } else {
      byte_length = tagged_code_units;
      encoding = CMA_LATIN1_UTF16; /* latin-1 */
    }
  }
  trap_if(byte_length > MAX_STRING_BYTE_LENGTH, CMA_TRAP_STRING_TOO_LONG);
  trap_if(ptr != align_to(ptr, alignment), CMA_TRAP_STRING_ALIGN);
  trap_if(!in_bounds(cx, ptr, byte_length), CMA_TRAP_STRING_OOB);
  const uint8_t *src = mem(cx) + ptr;
  if (encoding == CMA_UTF8) {
    uint64_t at;
    uint32_t len;
    if (!validate_utf8(src, byte_length, &at, &len, cx->spec_only)) {
      if (len == 0) return cma_trap(cx, CMA_TRAP_INCOMPLETE_UTF8, (unsigned long long)at);
      return cma_trap(cx, CMA_TRAP_INVALID_UTF8, len, (unsigned long long)at);
    }
  } else if (encoding == CMA_UTF16) {
    int64_t bad = find_unpaired_surrogate(src, byte_length / 2);
    trap_if(bad >= 0, CMA_TRAP_INVALID_UTF16, (unsigned)bad);
  }
  memset(out, 0, sizeof *out);
  if (!cx->spec_only) { /* fast path: a view of the memory (see cma_string) */
    out->mem = cx->opts->memory;
    out->offset = ptr;
  } else {
    uint8_t *copy = cma_heap_alloc_raw(cx->heap, byte_length ? byte_length : 1);
    if (!copy) return fail(cx->err, CMREF_EXHAUSTION, "out of memory");
    memcpy(copy, src, byte_length);
    out->bytes = copy;
  }
  out->nbytes = byte_length;
  out->encoding = cx->opts->string_encoding;
  out->tagged_code_units = tagged_code_units;
  return true;
}

static bool lift_error_context(cma_cx *cx, uint32_t i, cma_val *out) {
  cma_table_entry *e;
  if (!cma_table_get(&cx->inst->handles, i, &e, cx->err)) return false;
  trap_if(e->kind != CMA_ENTRY_ERROR_CONTEXT, CMA_TRAP_UNKNOWN_HANDLE, i);
  out->u.errctx = e->p;
  return true;
}

static bool load_list(cma_cx *cx, uint64_t ptr, const cmc_type *lt, cma_val *out) {
  if (maybe_length(lt)) return cma_load_list_spec(cx, ptr, maybe_length(lt), lt->a, out);
  uint32_t ps = ptr_size(is64(cx));
  uint64_t begin = load_int(cx, ptr, ps, false);
  uint64_t length = load_int(cx, ptr + ps, ps, false);
  return load_list_from_range(cx, begin, length, list_elem_type(cx, lt), out);
}

static bool load_list_from_valid_range(cma_cx *cx, uint64_t ptr, uint32_t length, cmc_tid elem,
                                       cma_val *out);

static bool load_list_from_range(cma_cx *cx, uint64_t ptr, uint64_t length, cmc_tid elem,
                                 cma_val *out) {
  uint64_t es = elem_size(cx, elem);
  trap_if(es && length > MAX_LIST_BYTE_LENGTH / es, CMA_TRAP_LIST_TOO_LONG);
  trap_if(ptr != align_to(ptr, alignment(cx, elem)), CMA_TRAP_LIST_ALIGN);
  trap_if(!in_bounds(cx, ptr, length * es), CMA_TRAP_LIST_OOB);
  return load_list_from_valid_range(cx, ptr, (uint32_t)length, elem, out);
}

/* integer element types whose values are their little-endian bytes: a packed list */
static bool packable(const cmc_type *t) {
  dkind k = despecialize(t);
  return k >= D_S8 && k <= D_U64;
}

static bool load_list_from_valid_range(cma_cx *cx, uint64_t ptr, uint32_t length, cmc_tid elem,
                                       cma_val *out) {
  if (!cx->spec_only && !is_pair(elem) && packable(T(elem))) { /* fast path: a view of the packed bytes */
    memset(out, 0, sizeof *out);
    out->u.agg.mem = cx->opts->memory;
    out->u.agg.offset = ptr;
    out->u.agg.n = length;
    return true;
  }
  return cma_load_list_spec(cx, ptr, length, elem, out);
}

bool cma_load_list_spec(cma_cx *cx, uint64_t ptr, uint32_t length, cmc_tid elem, cma_val *out) {
  cma_val *a = cma_heap_alloc(cx->heap, (size_t)(length ? length : 1) * sizeof *a);
  if (!a) return fail(cx->err, CMREF_EXHAUSTION, "out of memory");
  uint64_t es = elem_size(cx, elem);
  for (uint32_t i = 0; i < length; i++)
    if (!load(cx, ptr + i * es, elem, &a[i])) return false;
  out->u.agg.v = a;
  out->u.agg.raw = NULL;
  out->u.agg.mem = NULL;
  out->u.agg.n = length;
  return true;
}

static bool load_record(cma_cx *cx, uint64_t ptr, const cmc_field *fields, uint32_t n,
                        cma_val *out) {
  cma_val *record = cma_heap_alloc(cx->heap, (size_t)(n ? n : 1) * sizeof *record);
  if (!record) return fail(cx->err, CMREF_EXHAUSTION, "out of memory");
  for (uint32_t i = 0; i < n; i++) {
    ptr = align_to(ptr, alignment(cx, fields[i].type));
    if (!load(cx, ptr, fields[i].type, &record[i])) return false;
    ptr += elem_size(cx, fields[i].type);
  }
  out->u.agg.v = record;
  out->u.agg.raw = NULL;
  out->u.agg.mem = NULL;
  out->u.agg.n = n;
  return true;
}

static bool load_variant(cma_cx *cx, uint64_t ptr, const cmc_type *t, cma_val *out) {
  uint32_t ncases = case_count(t);
  uint32_t disc_size = discriminant_type(ncases);
  uint64_t case_index = load_int(cx, ptr, disc_size, false);
  ptr += disc_size;
  trap_if(case_index >= ncases, CMA_TRAP_VARIANT_DISCRIMINANT, (unsigned)case_index, ncases);
  cmc_tid c = case_type(t, (uint32_t)case_index);
  ptr = align_to(ptr, max_case_alignment(cx, t));
  out->u.var.index = (uint32_t)case_index;
  out->u.var.payload = NULL;
  if (c == CMC_NONE) return true;
  cma_val *payload = cma_heap_alloc(cx->heap, sizeof *payload);
  if (!payload) return fail(cx->err, CMREF_EXHAUSTION, "out of memory");
  out->u.var.payload = payload;
  return load(cx, ptr, c, payload);
}

static uint32_t unpack_flags_from_int(uint64_t i, uint32_t nlabels);

static uint32_t load_flags(cma_cx *cx, uint64_t ptr, uint32_t nlabels) {
  uint64_t i = load_int(cx, ptr, elem_size_flags(nlabels), false);
  return unpack_flags_from_int(i, nlabels);
}

/* flags values are bit sets: label k is bit k; bits beyond the labels are dropped */
static uint32_t unpack_flags_from_int(uint64_t i, uint32_t nlabels) {
  return nlabels >= 32 ? (uint32_t)i : (uint32_t)(i & ((UINT64_C(1) << nlabels) - 1));
}

/* the runtime resource type of an own/borrow type: cx->inst resolves its type ids */
static bool resource_type_of(cma_cx *cx, const cmc_type *t, cma_resource_type **out);

static bool lift_own(cma_cx *cx, uint32_t i, const cmc_type *t, cma_val *out) {
  cma_resource_type *rt;
  if (!resource_type_of(cx, t, &rt)) return false;
  cma_table_entry *e;
  if (!cma_table_get(&cx->inst->handles, i, &e, cx->err)) return false;
  trap_if(e->kind != CMA_ENTRY_RESOURCE_HANDLE, CMA_TRAP_HANDLE_NOT_RESOURCE, i);
  cma_resource_handle *h = e->p;
  trap_if(h->rt != rt, CMA_TRAP_HANDLE_WRONG_TYPE, i);
  trap_if(h->num_lends != 0, CMA_TRAP_HANDLE_LENT);
  trap_if(!h->own, CMA_TRAP_HANDLE_NOT_OWN);
  /* the spec removes first and checks after; a trap ends the instance either way, so the
   * checks run on the entry before it is removed */
  cma_table_entry removed;
  if (!cma_table_remove(&cx->inst->handles, i, &removed, cx->err)) return false;
  out->u.handle.rep = h->rep;
  out->u.handle.rt = h->rt;
  free(h);
  return true;
}

static bool lift_borrow(cma_cx *cx, uint32_t i, const cmc_type *t, cma_val *out) {
  check(cx->scope_kind == CMA_SCOPE_SUBTASK);
  cma_resource_type *rt;
  if (!resource_type_of(cx, t, &rt)) return false;
  cma_table_entry *e;
  if (!cma_table_get(&cx->inst->handles, i, &e, cx->err)) return false;
  trap_if(e->kind != CMA_ENTRY_RESOURCE_HANDLE, CMA_TRAP_HANDLE_NOT_RESOURCE, i);
  cma_resource_handle *h = e->p;
  trap_if(h->rt != rt, CMA_TRAP_HANDLE_WRONG_TYPE, i);
  if (!add_lender(cx, cx->borrow_scope, h)) return false;
  out->u.handle.rep = h->rep;
  out->u.handle.rt = h->rt;
  return true;
}

/* ================================================================================ */
/* Storing                                                                          */
/* ================================================================================ */

static void store_int(cma_cx *cx, uint64_t v, uint64_t ptr, uint32_t nbytes);
static uint32_t encode_float_as_i32(uint32_t f);
static uint64_t encode_float_as_i64(uint64_t f);
static uint32_t char_to_i32(uint64_t c);
static bool store_string(cma_cx *cx, const cma_string *v, uint64_t ptr);
static bool store_list(cma_cx *cx, const cma_val *v, uint64_t ptr, const cmc_type *lt);
static bool store_record(cma_cx *cx, const cma_val *v, uint64_t ptr, const cmc_field *fields,
                         uint32_t n);
static bool store_variant(cma_cx *cx, const cma_val *v, uint64_t ptr, const cmc_type *t);
static void store_flags(cma_cx *cx, uint32_t v, uint64_t ptr, uint32_t nlabels);
static bool lower_own(cma_cx *cx, const cma_val *v, const cmc_type *t, uint32_t *out);
static bool lower_error_context(cma_cx *cx, const cma_val *v, uint32_t *out);
static bool lower_borrow(cma_cx *cx, const cma_val *v, const cmc_type *t, uint32_t *out);

static bool store(cma_cx *cx, const cma_val *v, cmc_tid t, uint64_t ptr) {
  check(ptr == align_to(ptr, alignment(cx, t)));
  check(in_bounds(cx, ptr, elem_size(cx, t)));
  if (is_pair(t)) {
    cmc_field f[2];
    pair_fields(cx, t, f);
    return store_record(cx, v, ptr, f, 2);
  }
  const cmc_type *ty = T(t);
  uint32_t h;
  switch (despecialize(ty)) {
  case D_BOOL: store_int(cx, v->u.i != 0, ptr, 1); return true;
  case D_U8: case D_S8: store_int(cx, v->u.i, ptr, 1); return true;
  case D_U16: case D_S16: store_int(cx, v->u.i, ptr, 2); return true;
  case D_U32: case D_S32: store_int(cx, v->u.i, ptr, 4); return true;
  case D_U64: case D_S64: store_int(cx, v->u.i, ptr, 8); return true;
  case D_F32: store_int(cx, encode_float_as_i32(v->u.f32), ptr, 4); return true;
  case D_F64: store_int(cx, encode_float_as_i64(v->u.f64), ptr, 8); return true;
  case D_CHAR: store_int(cx, char_to_i32(v->u.i), ptr, 4); return true;
  case D_STRING: return store_string(cx, &v->u.s, ptr);
  case D_LIST: return store_list(cx, v, ptr, ty);
  case D_RECORD: return store_record(cx, v, ptr, ty->fields, ty->n);
  case D_VARIANT: return store_variant(cx, v, ptr, ty);
  case D_FLAGS: store_flags(cx, v->u.flags, ptr, ty->n); return true;
  case D_OWN:
    if (!lower_own(cx, v, ty, &h)) return false;
    store_int(cx, h, ptr, 4);
    return true;
  case D_BORROW:
    if (!lower_borrow(cx, v, ty, &h)) return false;
    store_int(cx, h, ptr, 4);
    return true;
  case D_STREAM: case D_FUTURE: /* issue 8 */
    if (!cmx_lower_async_value(cx, v, ty, &h)) return false;
    store_int(cx, h, ptr, 4);
    return true;
  case D_ERROR_CONTEXT:
    if (!lower_error_context(cx, v, &h)) return false;
    store_int(cx, h, ptr, 4);
    return true;
  default:
    return fail(cx->err, CMREF_INTERNAL, "canonical ABI: %s values are not supported yet (issue 8)",
                cmc_type_desc(cx->types, t));
  }
}

static void store_int(cma_cx *cx, uint64_t v, uint64_t ptr, uint32_t nbytes) {
  uint8_t *p = mem(cx) + ptr;
  for (uint32_t k = 0; k < nbytes; k++) p[k] = (uint8_t)(v >> (8 * k));
}

/* DETERMINISTIC_PROFILE: NaNs are stored as the canonical NaN (no global random state) */
static uint32_t maybe_scramble_nan32(uint32_t f) { return is_nan32(f) ? CANONICAL_FLOAT32_NAN : f; }
static uint64_t maybe_scramble_nan64(uint64_t f) { return is_nan64(f) ? CANONICAL_FLOAT64_NAN : f; }

static uint32_t core_i32_reinterpret_f32(uint32_t f);
static uint64_t core_i64_reinterpret_f64(uint64_t f);
static uint32_t encode_float_as_i32(uint32_t f) { return core_i32_reinterpret_f32(maybe_scramble_nan32(f)); }
static uint64_t encode_float_as_i64(uint64_t f) { return core_i64_reinterpret_f64(maybe_scramble_nan64(f)); }
static uint32_t core_i32_reinterpret_f32(uint32_t f) { return f; }
static uint64_t core_i64_reinterpret_f64(uint64_t f) { return f; }
static uint32_t char_to_i32(uint64_t c) { return (uint32_t)c; }

static bool store_string(cma_cx *cx, const cma_string *v, uint64_t ptr) {
  uint64_t begin, tagged_code_units;
  if (!cma_store_string_into_range(cx, v, &begin, &tagged_code_units)) return false;
  uint32_t ps = ptr_size(is64(cx));
  store_int(cx, begin, ptr, ps);
  store_int(cx, tagged_code_units, ptr + ps, ps);
  return true;
}

/* ---- the source string's code points (src of the spec's String) ---- */

typedef enum simple_enc { S_UTF8, S_UTF16, S_LATIN1 } simple_enc;

typedef struct src_string {
  const uint8_t *b;
  uint64_t nbytes;
  simple_enc enc;
} src_string;

/* the next code point of a validated source string at byte offset *at */
static uint32_t next_code_point(const src_string *s, uint64_t *at) {
  const uint8_t *b = s->b + *at;
  switch (s->enc) {
  case S_LATIN1: *at += 1; return b[0];
  case S_UTF16: {
    uint32_t u = b[0] | (uint32_t)b[1] << 8;
    if (u >= 0xD800 && u <= 0xDBFF && *at + 4 <= s->nbytes) {
      uint32_t w = b[2] | (uint32_t)b[3] << 8;
      *at += 4;
      return 0x10000 + ((u - 0xD800) << 10) + (w - 0xDC00);
    }
    *at += 2;
    return u;
  }
  default:
    if (b[0] < 0x80) { *at += 1; return b[0]; }
    if (b[0] < 0xE0) { *at += 2; return (uint32_t)(b[0] & 0x1F) << 6 | (b[1] & 0x3F); }
    if (b[0] < 0xF0) {
      *at += 3;
      return (uint32_t)(b[0] & 0x0F) << 12 | (uint32_t)(b[1] & 0x3F) << 6 | (b[2] & 0x3F);
    }
    *at += 4;
    return (uint32_t)(b[0] & 0x07) << 18 | (uint32_t)(b[1] & 0x3F) << 12 |
           (uint32_t)(b[2] & 0x3F) << 6 | (b[3] & 0x3F);
  }
}

static uint32_t utf8_encode(uint32_t c, uint8_t *o) {
  if (c < 0x80) { o[0] = (uint8_t)c; return 1; }
  if (c < 0x800) { o[0] = (uint8_t)(0xC0 | c >> 6); o[1] = (uint8_t)(0x80 | (c & 0x3F)); return 2; }
  if (c < 0x10000) {
    o[0] = (uint8_t)(0xE0 | c >> 12);
    o[1] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
    o[2] = (uint8_t)(0x80 | (c & 0x3F));
    return 3;
  }
  o[0] = (uint8_t)(0xF0 | c >> 18);
  o[1] = (uint8_t)(0x80 | ((c >> 12) & 0x3F));
  o[2] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
  o[3] = (uint8_t)(0x80 | (c & 0x3F));
  return 4;
}

static uint32_t utf16_encode(uint32_t c, uint8_t *o) {
  if (c < 0x10000) { o[0] = (uint8_t)c; o[1] = (uint8_t)(c >> 8); return 2; }
  uint32_t hi = 0xD800 + ((c - 0x10000) >> 10), lo = 0xDC00 + ((c - 0x10000) & 0x3FF);
  o[0] = (uint8_t)hi; o[1] = (uint8_t)(hi >> 8); o[2] = (uint8_t)lo; o[3] = (uint8_t)(lo >> 8);
  return 4;
}

/* len(src.encode(dst)) for dst utf-8 / utf-16-le */
static uint64_t encoded_length(const src_string *s, simple_enc dst) {
  uint64_t n = 0, at = 0;
  if (s->enc == S_UTF8 && dst == S_UTF8) return s->nbytes;
  if (s->enc == S_UTF16 && dst == S_UTF16) return s->nbytes;
  while (at < s->nbytes) {
    uint32_t c = next_code_point(s, &at);
    if (dst == S_UTF8) n += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    else n += c < 0x10000 ? 2 : 4;
  }
  return n;
}

/* fast path of encode_into for UTF-8 to UTF-16: ASCII runs 8 bytes at a time */
static uint64_t utf8_to_utf16_fast(const src_string *s, uint8_t *o) {
  const uint8_t *b = s->b;
  uint64_t n = s->nbytes, i = 0, k = 0;
  while (i < n) {
#if defined(__SSE2__)
    while (i + 16 <= n) { /* 16 ASCII bytes widened with one unpack */
      __m128i v = _mm_loadu_si128((const __m128i *)(b + i));
      if (_mm_movemask_epi8(v)) break;
      __m128i zero = _mm_setzero_si128();
      _mm_storeu_si128((__m128i *)(o + k), _mm_unpacklo_epi8(v, zero));
      _mm_storeu_si128((__m128i *)(o + k + 16), _mm_unpackhi_epi8(v, zero));
      i += 16;
      k += 32;
    }
#endif
    while (i + 8 <= n) {
      uint64_t w;
      memcpy(&w, b + i, 8);
      if (w & UINT64_C(0x8080808080808080)) break;
      for (int j = 0; j < 8; j++) {
        o[k + 2 * j] = b[i + j];
        o[k + 2 * j + 1] = 0;
      }
      i += 8;
      k += 16;
    }
    if (i >= n) break;
    if (b[i] < 0x80) {
      o[k++] = b[i++];
      o[k++] = 0;
      continue;
    }
    uint32_t c = next_code_point(s, &i);
    k += utf16_encode(c, o + k);
  }
  return k;
}

/* src.encode(dst)[skip:] written to o: returns the full encoded length */
static uint64_t encode_into(const src_string *s, simple_enc dst, uint8_t *o, uint64_t skip,
                            bool spec_only) {
  if (!spec_only && s->enc == dst) { /* fast path: same encoding, a copy */
    memmove(o, s->b + skip, s->nbytes - skip);
    return s->nbytes;
  }
  if (!spec_only && s->enc == S_UTF8 && dst == S_UTF16 && skip == 0) return utf8_to_utf16_fast(s, o);
  uint64_t n = 0, at = 0;
  uint8_t buf[4];
  while (at < s->nbytes) {
    uint32_t c = next_code_point(s, &at);
    uint32_t k = dst == S_UTF8 ? utf8_encode(c, buf) : dst == S_UTF16 ? utf16_encode(c, buf)
                                                                      : (buf[0] = (uint8_t)c, 1);
    for (uint32_t j = 0; j < k; j++, n++)
      if (n >= skip) o[n - skip] = buf[j];
  }
  return n;
}

static bool store_string_copy(cma_cx *cx, const src_string *src, uint64_t src_code_units,
                              uint32_t dst_code_unit_size, uint32_t dst_alignment,
                              simple_enc dst_encoding, uint64_t *ptr_out, uint64_t *units_out);
static bool store_utf16_to_utf8(cma_cx *cx, const src_string *src, uint64_t src_code_units,
                                uint64_t *ptr_out, uint64_t *units_out);
static bool store_latin1_to_utf8(cma_cx *cx, const src_string *src, uint64_t src_code_units,
                                 uint64_t *ptr_out, uint64_t *units_out);
static bool store_utf8_to_utf16(cma_cx *cx, const src_string *src, uint64_t src_code_units,
                                uint64_t *ptr_out, uint64_t *units_out);
static bool store_string_to_latin1_or_utf16(cma_cx *cx, const src_string *src,
                                            uint64_t src_code_units, uint64_t *ptr_out,
                                            uint64_t *units_out);
static bool store_probably_utf16_to_latin1_or_utf16(cma_cx *cx, const src_string *src,
                                                    uint64_t src_code_units, uint64_t *ptr_out,
                                                    uint64_t *units_out);

bool cma_store_string_into_range(cma_cx *cx, const cma_string *v, uint64_t *ptr,
                                 uint64_t *tagged_code_units) {
  uint64_t tag = utf16_tag(is64(cx));
  uint64_t src_code_units;
  cma_string copy;
  if (v->mem && v->mem == cx->opts->memory) { /* a view of the memory realloc may change */
    uint8_t *b = cma_heap_alloc_raw(cx->heap, v->nbytes ? v->nbytes : 1);
    if (!b) return fail(cx->err, CMREF_EXHAUSTION, "out of memory");
    memcpy(b, cma_string_bytes(v), v->nbytes);
    copy = *v;
    copy.mem = NULL;
    copy.bytes = b;
    v = &copy;
  }
  src_string src = {cma_string_bytes(v), v->nbytes, S_UTF8};
  if (v->encoding == CMA_LATIN1_UTF16) {
    if (v->tagged_code_units & tag) {
      src.enc = S_UTF16;
      src_code_units = v->tagged_code_units ^ tag;
    } else {
      src.enc = S_LATIN1;
      src_code_units = v->tagged_code_units;
    }
  } else {
    src.enc = v->encoding == CMA_UTF16 ? S_UTF16 : S_UTF8;
    src_code_units = v->tagged_code_units;
  }
  switch (cx->opts->string_encoding) {
  case CMA_UTF8:
    switch (src.enc) {
    case S_UTF8: return store_string_copy(cx, &src, src_code_units, 1, 1, S_UTF8, ptr, tagged_code_units);
    case S_UTF16: return store_utf16_to_utf8(cx, &src, src_code_units, ptr, tagged_code_units);
    default: return store_latin1_to_utf8(cx, &src, src_code_units, ptr, tagged_code_units);
    }
  case CMA_UTF16:
    switch (src.enc) {
    case S_UTF8: return store_utf8_to_utf16(cx, &src, src_code_units, ptr, tagged_code_units);
    default: return store_string_copy(cx, &src, src_code_units, 2, 2, S_UTF16, ptr, tagged_code_units);
    }
  default:
    if (v->encoding != CMA_LATIN1_UTF16)
      return store_string_to_latin1_or_utf16(cx, &src, src_code_units, ptr, tagged_code_units);
    if (src.enc == S_LATIN1)
      return store_string_copy(cx, &src, src_code_units, 1, 2, S_LATIN1, ptr, tagged_code_units);
    return store_probably_utf16_to_latin1_or_utf16(cx, &src, src_code_units, ptr,
                                                   tagged_code_units);
  }
}

static bool store_string_copy(cma_cx *cx, const src_string *src, uint64_t src_code_units,
                              uint32_t dst_code_unit_size, uint32_t dst_alignment,
                              simple_enc dst_encoding, uint64_t *ptr_out, uint64_t *units_out) {
  uint64_t dst_byte_length = dst_code_unit_size * src_code_units, ptr;
  check(dst_byte_length <= UINT32_MAX || is64(cx));
  if (!allocate(cx, dst_alignment, dst_byte_length, &ptr)) return false;
  trap_if(ptr != align_to(ptr, dst_alignment), CMA_TRAP_REALLOC_ALIGN);
  trap_if(!in_bounds(cx, ptr, dst_byte_length), CMA_TRAP_REALLOC_STRING_OOB);
  check(encoded_length(src, dst_encoding) == dst_byte_length || dst_encoding == S_LATIN1);
  encode_into(src, dst_encoding, mem(cx) + ptr, 0, cx->spec_only);
  *ptr_out = ptr;
  *units_out = src_code_units;
  return true;
}

static bool store_string_to_utf8(cma_cx *cx, const src_string *src, uint64_t src_code_units,
                                 uint64_t worst_case_size, uint64_t *ptr_out, uint64_t *units_out);

static bool store_utf16_to_utf8(cma_cx *cx, const src_string *src, uint64_t src_code_units,
                                uint64_t *ptr_out, uint64_t *units_out) {
  uint64_t worst_case_size = src_code_units * 3;
  return store_string_to_utf8(cx, src, src_code_units, worst_case_size, ptr_out, units_out);
}

static bool store_latin1_to_utf8(cma_cx *cx, const src_string *src, uint64_t src_code_units,
                                 uint64_t *ptr_out, uint64_t *units_out) {
  uint64_t worst_case_size = src_code_units * 2;
  return store_string_to_utf8(cx, src, src_code_units, worst_case_size, ptr_out, units_out);
}

static bool store_string_to_utf8(cma_cx *cx, const src_string *src, uint64_t src_code_units,
                                 uint64_t worst_case_size, uint64_t *ptr_out, uint64_t *units_out) {
  uint64_t ptr;
  if (!allocate(cx, 1, src_code_units, &ptr)) return false;
  trap_if(!in_bounds(cx, ptr, src_code_units), CMA_TRAP_REALLOC_STRING_OOB);
  uint64_t at = 0;
  for (uint64_t i = 0; at < src->nbytes; i++) {
    uint32_t code_point = next_code_point(src, &at);
    if (code_point < 0x80) {
      mem(cx)[ptr + i] = (uint8_t)code_point;
      continue;
    }
    if (!reallocate(cx, ptr, src_code_units, 1, worst_case_size, &ptr)) return false;
    trap_if(!in_bounds(cx, ptr, worst_case_size), CMA_TRAP_REALLOC_STRING_OOB);
    uint64_t encoded = encode_into(src, S_UTF8, mem(cx) + ptr + i, i, true);
    if (worst_case_size > encoded) {
      if (!reallocate(cx, ptr, worst_case_size, 1, encoded, &ptr)) return false;
      trap_if(!in_bounds(cx, ptr, encoded), CMA_TRAP_REALLOC_STRING_OOB);
    }
    *ptr_out = ptr;
    *units_out = encoded;
    return true;
  }
  *ptr_out = ptr;
  *units_out = src_code_units;
  return true;
}

static bool store_utf8_to_utf16(cma_cx *cx, const src_string *src, uint64_t src_code_units,
                                uint64_t *ptr_out, uint64_t *units_out) {
  uint64_t worst_case_size = 2 * src_code_units, ptr;
  if (!allocate(cx, 2, worst_case_size, &ptr)) return false;
  trap_if(ptr != align_to(ptr, 2), CMA_TRAP_REALLOC_ALIGN);
  trap_if(!in_bounds(cx, ptr, worst_case_size), CMA_TRAP_REALLOC_STRING_OOB);
  uint64_t encoded = encode_into(src, S_UTF16, mem(cx) + ptr, 0, cx->spec_only);
  if (encoded < worst_case_size) {
    if (!reallocate(cx, ptr, worst_case_size, 2, encoded, &ptr)) return false;
    trap_if(ptr != align_to(ptr, 2), CMA_TRAP_REALLOC_ALIGN);
    trap_if(!in_bounds(cx, ptr, encoded), CMA_TRAP_REALLOC_STRING_OOB);
  }
  *ptr_out = ptr;
  *units_out = encoded / 2;
  return true;
}

static bool store_string_to_latin1_or_utf16(cma_cx *cx, const src_string *src,
                                            uint64_t src_code_units, uint64_t *ptr_out,
                                            uint64_t *units_out) {
  uint64_t ptr, dst_byte_length = 0, at = 0;
  if (!allocate(cx, 2, src_code_units, &ptr)) return false;
  trap_if(ptr != align_to(ptr, 2), CMA_TRAP_REALLOC_ALIGN);
  trap_if(!in_bounds(cx, ptr, src_code_units), CMA_TRAP_REALLOC_STRING_OOB);
  while (at < src->nbytes) {
    uint32_t usv = next_code_point(src, &at);
    if (usv < (1u << 8)) {
      mem(cx)[ptr + dst_byte_length] = (uint8_t)usv;
      dst_byte_length++;
      continue;
    }
    uint64_t worst_case_size = 2 * src_code_units;
    if (!reallocate(cx, ptr, src_code_units, 2, worst_case_size, &ptr)) return false;
    trap_if(ptr != align_to(ptr, 2), CMA_TRAP_REALLOC_ALIGN);
    trap_if(!in_bounds(cx, ptr, worst_case_size), CMA_TRAP_REALLOC_STRING_OOB);
    uint8_t *m = mem(cx);
    for (uint64_t j = dst_byte_length; j-- > 0;) {
      m[ptr + 2 * j] = m[ptr + j];
      m[ptr + 2 * j + 1] = 0;
    }
    uint64_t encoded = encode_into(src, S_UTF16, m + ptr + 2 * dst_byte_length,
                                   2 * dst_byte_length, true);
    if (worst_case_size > encoded) {
      if (!reallocate(cx, ptr, worst_case_size, 2, encoded, &ptr)) return false;
      trap_if(ptr != align_to(ptr, 2), CMA_TRAP_REALLOC_ALIGN);
      trap_if(!in_bounds(cx, ptr, encoded), CMA_TRAP_REALLOC_STRING_OOB);
    }
    *ptr_out = ptr;
    *units_out = (encoded / 2) | utf16_tag(is64(cx));
    return true;
  }
  if (dst_byte_length < src_code_units) {
    if (!reallocate(cx, ptr, src_code_units, 2, dst_byte_length, &ptr)) return false;
    trap_if(ptr != align_to(ptr, 2), CMA_TRAP_REALLOC_ALIGN);
    trap_if(!in_bounds(cx, ptr, dst_byte_length), CMA_TRAP_REALLOC_STRING_OOB);
  }
  *ptr_out = ptr;
  *units_out = dst_byte_length;
  return true;
}

static bool store_probably_utf16_to_latin1_or_utf16(cma_cx *cx, const src_string *src,
                                                    uint64_t src_code_units, uint64_t *ptr_out,
                                                    uint64_t *units_out) {
  uint64_t src_byte_length = 2 * src_code_units, ptr;
  if (!allocate(cx, 2, src_byte_length, &ptr)) return false;
  trap_if(ptr != align_to(ptr, 2), CMA_TRAP_REALLOC_ALIGN);
  trap_if(!in_bounds(cx, ptr, src_byte_length), CMA_TRAP_REALLOC_STRING_OOB);
  uint64_t encoded = encode_into(src, S_UTF16, mem(cx) + ptr, 0, cx->spec_only);
  bool any_wide = false;
  for (uint64_t at = 0; at < src->nbytes && !any_wide;) any_wide = next_code_point(src, &at) >= (1u << 8);
  if (any_wide) {
    *ptr_out = ptr;
    *units_out = (encoded / 2) | utf16_tag(is64(cx));
    return true;
  }
  uint64_t latin1_size = encoded / 2;
  uint8_t *m = mem(cx);
  for (uint64_t i = 0; i < latin1_size; i++) m[ptr + i] = m[ptr + 2 * i];
  if (!reallocate(cx, ptr, src_byte_length, 1, latin1_size, &ptr)) return false;
  trap_if(!in_bounds(cx, ptr, latin1_size), CMA_TRAP_REALLOC_STRING_OOB);
  *ptr_out = ptr;
  *units_out = latin1_size;
  return true;
}

static bool lower_error_context(cma_cx *cx, const cma_val *v, uint32_t *out) {
  return cma_table_add(&cx->inst->handles, CMA_ENTRY_ERROR_CONTEXT, v->u.errctx, out, cx->err);
}

static bool store_list_into_range(cma_cx *cx, const cma_val *v, cmc_tid elem, uint64_t *ptr_out,
                                  uint64_t *length_out);
static bool store_list_into_valid_range(cma_cx *cx, const cma_val *v, uint64_t ptr, cmc_tid elem);

static bool store_list(cma_cx *cx, const cma_val *v, uint64_t ptr, const cmc_type *lt) {
  if (maybe_length(lt)) {
    check(maybe_length(lt) == v->u.agg.n);
    return store_list_into_valid_range(cx, v, ptr, lt->a);
  }
  uint64_t begin, length;
  if (!store_list_into_range(cx, v, list_elem_type(cx, lt), &begin, &length)) return false;
  uint32_t ps = ptr_size(is64(cx));
  store_int(cx, begin, ptr, ps);
  store_int(cx, length, ptr + ps, ps);
  return true;
}

static bool store_list_into_range(cma_cx *cx, const cma_val *v, cmc_tid elem, uint64_t *ptr_out,
                                  uint64_t *length_out) {
  uint64_t byte_length = (uint64_t)v->u.agg.n * elem_size(cx, elem), ptr;
  cma_val copy;
  if (v->u.agg.mem && v->u.agg.mem == cx->opts->memory) { /* a view realloc may change */
    uint8_t *b = cma_heap_alloc_raw(cx->heap, byte_length ? byte_length : 1);
    if (!b) return fail(cx->err, CMREF_EXHAUSTION, "out of memory");
    memcpy(b, cma_list_raw(v), byte_length);
    copy = *v;
    copy.u.agg.mem = NULL;
    copy.u.agg.raw = b;
    v = &copy;
  }
  check(byte_length <= UINT32_MAX || is64(cx));
  if (!allocate(cx, alignment(cx, elem), byte_length, &ptr)) return false;
  trap_if(ptr != align_to(ptr, alignment(cx, elem)), CMA_TRAP_REALLOC_ALIGN);
  trap_if(!in_bounds(cx, ptr, byte_length), CMA_TRAP_REALLOC_LIST_OOB);
  if (!store_list_into_valid_range(cx, v, ptr, elem)) return false;
  *ptr_out = ptr;
  *length_out = v->u.agg.n;
  return true;
}

/* element i of a list value (a packed list is unpacked into *tmp) */
static const cma_val *list_elem(cma_cx *cx, const cma_val *v, cmc_tid elem, uint32_t i, cma_val *tmp) {
  if (!cma_list_raw(v)) return &v->u.agg.v[i];
  uint64_t es = elem_size(cx, elem);
  const uint8_t *p = cma_list_raw(v) + i * es;
  uint64_t x = 0;
  for (uint64_t k = 0; k < es; k++) x |= (uint64_t)p[k] << (8 * k);
  dkind d = despecialize(T(elem));
  if ((d == D_S8 || d == D_S16 || d == D_S32) && (x >> (8 * es - 1)) & 1) x |= ~UINT64_C(0) << (8 * es);
  tmp->u.i = x;
  return tmp;
}

static bool store_list_into_valid_range(cma_cx *cx, const cma_val *v, uint64_t ptr, cmc_tid elem) {
  uint64_t es = elem_size(cx, elem);
  if (cma_list_raw(v) && !cx->spec_only) { /* fast path: packed integers are their bytes */
    memmove(mem(cx) + ptr, cma_list_raw(v), v->u.agg.n * es);
    return true;
  }
  cma_val tmp;
  for (uint32_t i = 0; i < v->u.agg.n; i++)
    if (!store(cx, list_elem(cx, v, elem, i, &tmp), elem, ptr + i * es)) return false;
  return true;
}

static bool store_record(cma_cx *cx, const cma_val *v, uint64_t ptr, const cmc_field *fields,
                         uint32_t n) {
  check(v->u.agg.n == n && v->u.agg.v);
  for (uint32_t i = 0; i < n; i++) {
    ptr = align_to(ptr, alignment(cx, fields[i].type));
    if (!store(cx, &v->u.agg.v[i], fields[i].type, ptr)) return false;
    ptr += elem_size(cx, fields[i].type);
  }
  return true;
}

static bool match_case(cma_cx *cx, const cma_val *v, const cmc_type *t, uint32_t *index,
                       const cma_val **value);

static bool store_variant(cma_cx *cx, const cma_val *v, uint64_t ptr, const cmc_type *t) {
  uint32_t case_index;
  const cma_val *case_value;
  if (!match_case(cx, v, t, &case_index, &case_value)) return false;
  uint32_t disc_size = discriminant_type(case_count(t));
  store_int(cx, case_index, ptr, disc_size);
  ptr += disc_size;
  ptr = align_to(ptr, max_case_alignment(cx, t));
  cmc_tid c = case_type(t, case_index);
  if (c != CMC_NONE) return store(cx, case_value, c, ptr);
  return true;
}

/* match_case(v, cases): values carry their case index */
static bool match_case(cma_cx *cx, const cma_val *v, const cmc_type *t, uint32_t *index,
                       const cma_val **value) {
  check(v->u.var.index < case_count(t));
  check((case_type(t, v->u.var.index) == CMC_NONE) == (v->u.var.payload == NULL));
  *index = v->u.var.index;
  *value = v->u.var.payload;
  return true;
}

static uint64_t pack_flags_into_int(uint32_t v, uint32_t nlabels);

static void store_flags(cma_cx *cx, uint32_t v, uint64_t ptr, uint32_t nlabels) {
  uint64_t i = pack_flags_into_int(v, nlabels);
  store_int(cx, i, ptr, elem_size_flags(nlabels));
}

static uint64_t pack_flags_into_int(uint32_t v, uint32_t nlabels) {
  return unpack_flags_from_int(v, nlabels);
}

static bool lower_own(cma_cx *cx, const cma_val *v, const cmc_type *t, uint32_t *out) {
  cma_resource_type *rt;
  if (!resource_type_of(cx, t, &rt)) return false;
  cma_resource_handle *h = cma_resource_handle_new(rt, v->u.handle.rep, true, NULL);
  if (!h) return fail(cx->err, CMREF_EXHAUSTION, "out of memory");
  if (!cma_table_add(&cx->inst->handles, CMA_ENTRY_RESOURCE_HANDLE, h, out, cx->err)) {
    free(h);
    return false;
  }
  return true;
}

static bool lower_borrow(cma_cx *cx, const cma_val *v, const cmc_type *t, uint32_t *out) {
  check(cx->scope_kind == CMA_SCOPE_TASK);
  cma_resource_type *rt;
  if (!resource_type_of(cx, t, &rt)) return false;
  if (cx->inst == rt->impl) {
    *out = v->u.handle.rep;
    return true;
  }
  cma_task *scope = cx->borrow_scope;
  cma_resource_handle *h = cma_resource_handle_new(rt, v->u.handle.rep, false, scope);
  if (!h) return fail(cx->err, CMREF_EXHAUSTION, "out of memory");
  scope->num_borrows++;
  if (!cma_table_add(&cx->inst->handles, CMA_ENTRY_RESOURCE_HANDLE, h, out, cx->err)) {
    scope->num_borrows--;
    free(h);
    return false;
  }
  return true;
}

/* Resource types: a handle value carries its runtime ResourceType; an own/borrow type
 * names a resource type id of the component's arena, which the instance resolves. */
static bool resource_type_of(cma_cx *cx, const cmc_type *t, cma_resource_type **out) {
  cma_resource_type *rt = cx->inst->resolve_resource
                              ? cx->inst->resolve_resource(cx->inst, cx->types, t->a)
                              : NULL;
  if (!rt)
    return fail(cx->err, CMREF_INTERNAL, "canonical ABI: resource type %u has no runtime type", t->a);
  *out = rt;
  return true;
}

/* ================================================================================ */
/* Flattening                                                                       */
/* ================================================================================ */

typedef struct flat_types {
  uint8_t v[CMA_MAX_FLAT_PARAMS + 2];
  uint32_t len; /* may exceed the kept entries: only compared against the limits */
} flat_types;

static void flatten_types(const cma_options *opts, cmc_types *types, const cmc_field *ts,
                          uint32_t n, flat_types *out);
static void flatten_type(const cma_options *opts, cmc_types *types, cmc_tid t, flat_types *out);

bool flatten_functype(const cma_options *opts, const cma_functype *ft, cma_context context,
                      cma_flat_functype *out, cm_error *err) {
  uint8_t ptr = opts->memory && opts->memory->is64 ? 0x7e : 0x7f;
  flat_types params, results;
  cmc_field result = {NULL, ft->result};
  flatten_types(opts, ft->types, ft->params, ft->nparams, &params);
  flatten_types(opts, ft->types, &result, ft->result == CMC_NONE ? 0 : 1, &results);
  memset(out, 0, sizeof *out);
  if (opts->async_) { /* Concurrency.md: the async ABI */
    (void)err;
    uint32_t max = context == CMA_LIFT ? CMA_MAX_FLAT_PARAMS : CMA_MAX_FLAT_ASYNC_PARAMS;
    if (params.len > max) {
      out->params[0] = ptr;
      out->nparams = 1;
    } else {
      memcpy(out->params, params.v, params.len);
      out->nparams = params.len;
    }
    if (context == CMA_LIFT) {
      if (opts->callback) out->results[out->nresults++] = 0x7f;
    } else {
      if (results.len > 0) out->params[out->nparams++] = ptr;
      out->results[out->nresults++] = 0x7f;
    }
    return true;
  }
  if (params.len > CMA_MAX_FLAT_PARAMS) {
    out->params[0] = ptr;
    out->nparams = 1;
  } else {
    memcpy(out->params, params.v, params.len);
    out->nparams = params.len;
  }
  if (results.len > CMA_MAX_FLAT_RESULTS) {
    if (context == CMA_LIFT) {
      out->results[0] = ptr;
      out->nresults = 1;
    } else {
      out->params[out->nparams++] = ptr;
      out->nresults = 0;
    }
  } else {
    memcpy(out->results, results.v, results.len);
    out->nresults = results.len;
  }
  return true;
}

static void flatten_types(const cma_options *opts, cmc_types *types, const cmc_field *ts,
                          uint32_t n, flat_types *out) {
  memset(out, 0, sizeof *out);
  for (uint32_t i = 0; i < n; i++) {
    flat_types one;
    flatten_type(opts, types, ts[i].type, &one);
    for (uint32_t k = 0; k < one.len; k++, out->len++)
      if (out->len < sizeof out->v) out->v[out->len] = k < sizeof one.v ? one.v[k] : 0;
  }
}

/* flatten_type(t): the component layer's flattening (types.c) */
static void flatten_type(const cma_options *opts, cmc_types *types, cmc_tid t, flat_types *out) {
  cmc_flat f;
  memset(&f, 0, sizeof f);
  cmc_flatten_type(types, t, opts->memory && opts->memory->is64, &f);
  uint32_t keep = f.len < sizeof out->v ? f.len : (uint32_t)sizeof out->v;
  memcpy(out->v, f.v, keep);
  out->len = f.len;
}

/* flatten_variant(cases): the variant's flat types (discriminant first) */
static void flatten_variant(cma_cx *cx, cmc_tid t, flat_types *out) {
  flatten_type(cx->opts, cx->types, t, out);
}

/* ================================================================================ */
/* Flat Lifting                                                                     */
/* ================================================================================ */

/* CoreValueIter, and the CoerceValueIter of lift_flat_variant (inner != NULL) */
typedef struct CoreValueIter CoreValueIter;
struct CoreValueIter {
  const cm_value *values;
  uint32_t n, i;
  CoreValueIter *inner;       /* CoerceValueIter: reads `have` types from inner */
  const uint8_t *flat_types;  /* CoerceValueIter: the variant's joined flat types */
  uint32_t nflat, pos;
  bool overrun;
};

static uint32_t wrap_i64_to_i32(uint64_t i);

static uint64_t next(CoreValueIter *vi, uint8_t t) {
  if (vi->inner) {
    if (vi->pos >= vi->nflat) {
      vi->overrun = true;
      return 0;
    }
    uint8_t have = vi->flat_types[vi->pos++];
    uint64_t x = next(vi->inner, have);
    if (have == 0x7f && t == 0x7d) return decode_i32_as_float((uint32_t)x);
    if (have == 0x7e && t == 0x7f) return wrap_i64_to_i32(x);
    if (have == 0x7e && t == 0x7d) return decode_i32_as_float(wrap_i64_to_i32(x));
    if (have == 0x7e && t == 0x7c) return decode_i64_as_float(x);
    if (have != t) vi->overrun = true;
    return x;
  }
  if (vi->i >= vi->n) {
    vi->overrun = true;
    return 0;
  }
  cm_value v = vi->values[vi->i++];
  return t == 0x7f || t == 0x7d ? v.i32 : v.i64;
}

static bool lift_flat_unsigned(CoreValueIter *vi, uint32_t core_width, uint32_t t_width, uint64_t *out);
static bool lift_flat_signed(CoreValueIter *vi, uint32_t core_width, uint32_t t_width, uint64_t *out);
static bool lift_flat_string(cma_cx *cx, CoreValueIter *vi, cma_string *out);
static bool lift_flat_list(cma_cx *cx, CoreValueIter *vi, const cmc_type *lt, cma_val *out);
static bool lift_flat_record(cma_cx *cx, CoreValueIter *vi, const cmc_field *fields, uint32_t n,
                             cma_val *out);
static bool lift_flat_variant(cma_cx *cx, CoreValueIter *vi, cmc_tid t, cma_val *out);
static uint32_t lift_flat_flags(CoreValueIter *vi, uint32_t nlabels);

static bool lift_flat(cma_cx *cx, CoreValueIter *vi, cmc_tid t, cma_val *out) {
  const cmc_type *ty = T(t);
  switch (despecialize(ty)) {
  case D_BOOL: out->u.i = convert_int_to_bool(next(vi, 0x7f)); return true;
  case D_U8: return lift_flat_unsigned(vi, 32, 8, &out->u.i);
  case D_U16: return lift_flat_unsigned(vi, 32, 16, &out->u.i);
  case D_U32: return lift_flat_unsigned(vi, 32, 32, &out->u.i);
  case D_U64: return lift_flat_unsigned(vi, 64, 64, &out->u.i);
  case D_S8: return lift_flat_signed(vi, 32, 8, &out->u.i);
  case D_S16: return lift_flat_signed(vi, 32, 16, &out->u.i);
  case D_S32: return lift_flat_signed(vi, 32, 32, &out->u.i);
  case D_S64: return lift_flat_signed(vi, 64, 64, &out->u.i);
  case D_F32: out->u.f32 = canonicalize_nan32((uint32_t)next(vi, 0x7d)); return true;
  case D_F64: out->u.f64 = canonicalize_nan64(next(vi, 0x7c)); return true;
  case D_CHAR: return convert_i32_to_char(cx, (uint32_t)next(vi, 0x7f), &out->u.i);
  case D_STRING: return lift_flat_string(cx, vi, &out->u.s);
  case D_ERROR_CONTEXT: return lift_error_context(cx, (uint32_t)next(vi, 0x7f), out);
  case D_LIST: return lift_flat_list(cx, vi, ty, out);
  case D_RECORD: return lift_flat_record(cx, vi, ty->fields, ty->n, out);
  case D_VARIANT: return lift_flat_variant(cx, vi, t, out);
  case D_FLAGS: out->u.flags = lift_flat_flags(vi, ty->n); return true;
  case D_OWN: return lift_own(cx, (uint32_t)next(vi, 0x7f), ty, out);
  case D_STREAM: case D_FUTURE: return cmx_lift_async_value(cx, (uint32_t)next(vi, 0x7f), ty, out);
  case D_BORROW: return lift_borrow(cx, (uint32_t)next(vi, 0x7f), ty, out);
  default:
    return fail(cx->err, CMREF_INTERNAL, "canonical ABI: %s values are not supported yet (issue 8)",
                cmc_type_desc(cx->types, t));
  }
}

static bool lift_flat_unsigned(CoreValueIter *vi, uint32_t core_width, uint32_t t_width, uint64_t *out) {
  uint64_t i = next(vi, core_width == 32 ? 0x7f : 0x7e);
  *out = t_width == 64 ? i : i % (UINT64_C(1) << t_width);
  return true;
}

static bool lift_flat_signed(CoreValueIter *vi, uint32_t core_width, uint32_t t_width, uint64_t *out) {
  uint64_t i = next(vi, core_width == 32 ? 0x7f : 0x7e);
  if (t_width < 64) {
    i %= UINT64_C(1) << t_width;
    if (i >= UINT64_C(1) << (t_width - 1)) i |= ~UINT64_C(0) << t_width; /* i - 2^t_width */
  }
  *out = i;
  return true;
}

static bool lift_flat_string(cma_cx *cx, CoreValueIter *vi, cma_string *out) {
  uint64_t ptr = next(vi, ptr_type(cx));
  uint64_t packed_length = next(vi, ptr_type(cx));
  return cma_load_string_from_range(cx, ptr, packed_length, out);
}

static bool lift_flat_list(cma_cx *cx, CoreValueIter *vi, const cmc_type *lt, cma_val *out) {
  if (maybe_length(lt)) {
    uint32_t n = maybe_length(lt);
    cma_val *a = cma_heap_alloc(cx->heap, (size_t)n * sizeof *a);
    if (!a) return fail(cx->err, CMREF_EXHAUSTION, "out of memory");
    for (uint32_t i = 0; i < n; i++)
      if (!lift_flat(cx, vi, lt->a, &a[i])) return false;
    out->u.agg.v = a;
    out->u.agg.raw = NULL;
    out->u.agg.mem = NULL;
    out->u.agg.n = n;
    return true;
  }
  uint64_t ptr = next(vi, ptr_type(cx));
  uint64_t length = next(vi, ptr_type(cx));
  return load_list_from_range(cx, ptr, length, list_elem_type(cx, lt), out);
}

static bool lift_flat_record(cma_cx *cx, CoreValueIter *vi, const cmc_field *fields, uint32_t n,
                             cma_val *out) {
  cma_val *record = cma_heap_alloc(cx->heap, (size_t)(n ? n : 1) * sizeof *record);
  if (!record) return fail(cx->err, CMREF_EXHAUSTION, "out of memory");
  for (uint32_t i = 0; i < n; i++)
    if (!lift_flat(cx, vi, fields[i].type, &record[i])) return false;
  out->u.agg.v = record;
  out->u.agg.raw = NULL;
  out->u.agg.mem = NULL;
  out->u.agg.n = n;
  return true;
}

static bool lift_flat_variant(cma_cx *cx, CoreValueIter *vi, cmc_tid t, cma_val *out) {
  const cmc_type *ty = T(t);
  flat_types flat;
  flatten_variant(cx, t, &flat);
  check(flat.len >= 1 && flat.len <= sizeof flat.v && flat.v[0] == 0x7f);
  uint64_t case_index = next(vi, 0x7f);
  trap_if(case_index >= case_count(ty), CMA_TRAP_VARIANT_DISCRIMINANT, (unsigned)case_index,
          case_count(ty));
  CoreValueIter coerce = {.inner = vi, .flat_types = flat.v + 1, .nflat = flat.len - 1};
  cmc_tid c = case_type(ty, (uint32_t)case_index);
  out->u.var.index = (uint32_t)case_index;
  out->u.var.payload = NULL;
  if (c != CMC_NONE) {
    cma_val *payload = cma_heap_alloc(cx->heap, sizeof *payload);
    if (!payload) return fail(cx->err, CMREF_EXHAUSTION, "out of memory");
    out->u.var.payload = payload;
    if (!lift_flat(cx, &coerce, c, payload)) return false;
    if (coerce.overrun) vi->overrun = true;
  }
  for (uint32_t k = coerce.pos; k < coerce.nflat; k++) (void)next(vi, coerce.flat_types[k]);
  return true;
}

static uint32_t wrap_i64_to_i32(uint64_t i) { return (uint32_t)i; }

static uint32_t lift_flat_flags(CoreValueIter *vi, uint32_t nlabels) {
  uint64_t i = next(vi, 0x7f);
  return unpack_flags_from_int(i, nlabels);
}

/* ================================================================================ */
/* Flat Lowering                                                                    */
/* ================================================================================ */

/* the list of flat values lower_flat returns */
typedef struct flat_vals {
  cm_value v[CMA_MAX_FLAT_PARAMS + 2];
  uint32_t n;
} flat_vals;

static bool push(cma_cx *cx, flat_vals *f, uint8_t t, uint64_t x) {
  check(f->n < sizeof f->v / sizeof f->v[0]);
  memset(&f->v[f->n], 0, sizeof f->v[0]);
  if (t == 0x7f || t == 0x7d) f->v[f->n].i32 = (uint32_t)x;
  else f->v[f->n].i64 = x;
  f->n++;
  return true;
}

static bool lower_flat_signed(cma_cx *cx, flat_vals *f, uint64_t i, uint32_t core_bits);
static bool lower_flat_string(cma_cx *cx, flat_vals *f, const cma_string *v);
static bool lower_flat_list(cma_cx *cx, flat_vals *f, const cma_val *v, const cmc_type *lt);
static bool lower_flat_record(cma_cx *cx, flat_vals *f, const cma_val *v, const cmc_field *fields,
                              uint32_t n);
static bool lower_flat_variant(cma_cx *cx, flat_vals *f, const cma_val *v, cmc_tid t);

static uint32_t lower_flat_flags(uint32_t v, uint32_t nlabels);

static bool lower_flat(cma_cx *cx, flat_vals *f, const cma_val *v, cmc_tid t) {
  const cmc_type *ty = T(t);
  uint32_t h;
  switch (despecialize(ty)) {
  case D_BOOL: return push(cx, f, 0x7f, v->u.i != 0);
  case D_U8: case D_U16: case D_U32: return push(cx, f, 0x7f, v->u.i);
  case D_U64: return push(cx, f, 0x7e, v->u.i);
  case D_S8: case D_S16: case D_S32: return lower_flat_signed(cx, f, v->u.i, 32);
  case D_S64: return lower_flat_signed(cx, f, v->u.i, 64);
  case D_F32: return push(cx, f, 0x7d, maybe_scramble_nan32(v->u.f32));
  case D_F64: return push(cx, f, 0x7c, maybe_scramble_nan64(v->u.f64));
  case D_CHAR: return push(cx, f, 0x7f, char_to_i32(v->u.i));
  case D_STRING: return lower_flat_string(cx, f, &v->u.s);
  case D_ERROR_CONTEXT: return lower_error_context(cx, v, &h) && push(cx, f, 0x7f, h);
  case D_LIST: return lower_flat_list(cx, f, v, ty);
  case D_RECORD: return lower_flat_record(cx, f, v, ty->fields, ty->n);
  case D_VARIANT: return lower_flat_variant(cx, f, v, t);
  case D_FLAGS: return push(cx, f, 0x7f, lower_flat_flags(v->u.flags, ty->n));
  case D_OWN: return lower_own(cx, v, ty, &h) && push(cx, f, 0x7f, h);
  case D_STREAM: case D_FUTURE: return cmx_lower_async_value(cx, v, ty, &h) && push(cx, f, 0x7f, h);
  case D_BORROW: return lower_borrow(cx, v, ty, &h) && push(cx, f, 0x7f, h);
  default:
    return fail(cx->err, CMREF_INTERNAL, "canonical ABI: %s values are not supported yet (issue 8)",
                cmc_type_desc(cx->types, t));
  }
}

/* signed values are kept sign-extended: their two's complement in core_bits bits */
static bool lower_flat_signed(cma_cx *cx, flat_vals *f, uint64_t i, uint32_t core_bits) {
  return push(cx, f, core_bits == 32 ? 0x7f : 0x7e, core_bits == 32 ? (uint32_t)i : i);
}

static bool lower_flat_string(cma_cx *cx, flat_vals *f, const cma_string *v) {
  uint64_t ptr, packed_length;
  if (!cma_store_string_into_range(cx, v, &ptr, &packed_length)) return false;
  return push(cx, f, ptr_type(cx), ptr) && push(cx, f, ptr_type(cx), packed_length);
}

static bool lower_flat_list(cma_cx *cx, flat_vals *f, const cma_val *v, const cmc_type *lt) {
  if (maybe_length(lt)) {
    check(maybe_length(lt) == v->u.agg.n);
    cma_val tmp;
    for (uint32_t i = 0; i < v->u.agg.n; i++)
      if (!lower_flat(cx, f, list_elem(cx, v, lt->a, i, &tmp), lt->a)) return false;
    return true;
  }
  uint64_t ptr, length;
  if (!store_list_into_range(cx, v, list_elem_type(cx, lt), &ptr, &length)) return false;
  return push(cx, f, ptr_type(cx), ptr) && push(cx, f, ptr_type(cx), length);
}

static bool lower_flat_record(cma_cx *cx, flat_vals *f, const cma_val *v, const cmc_field *fields,
                              uint32_t n) {
  check(v->u.agg.n == n && v->u.agg.v);
  for (uint32_t i = 0; i < n; i++)
    if (!lower_flat(cx, f, &v->u.agg.v[i], fields[i].type)) return false;
  return true;
}

static bool lower_flat_variant(cma_cx *cx, flat_vals *f, const cma_val *v, cmc_tid t) {
  const cmc_type *ty = T(t);
  uint32_t case_index;
  const cma_val *case_value;
  if (!match_case(cx, v, ty, &case_index, &case_value)) return false;
  flat_types flat;
  flatten_variant(cx, t, &flat);
  check(flat.len >= 1 && flat.len <= sizeof flat.v && flat.v[0] == 0x7f);
  if (!push(cx, f, 0x7f, case_index)) return false;
  uint32_t want_at = 1;
  cmc_tid c = case_type(ty, case_index);
  if (c != CMC_NONE) {
    flat_vals payload = {.n = 0};
    if (!lower_flat(cx, &payload, case_value, c)) return false;
    flat_types have;
    flatten_type(cx->opts, cx->types, c, &have);
    check(have.len == payload.n);
    for (uint32_t i = 0; i < payload.n; i++, want_at++) {
      check(want_at < flat.len);
      uint8_t h = have.v[i], want = flat.v[want_at];
      uint64_t x = h == 0x7f || h == 0x7d ? payload.v[i].i32 : payload.v[i].i64;
      if (h == 0x7d && want == 0x7f) x = encode_float_as_i32((uint32_t)x);
      else if (h == 0x7d && want == 0x7e) x = encode_float_as_i32((uint32_t)x);
      else if (h == 0x7c && want == 0x7e) x = encode_float_as_i64(x);
      else check(h == want || (h == 0x7f && want == 0x7e));
      if (!push(cx, f, want, x)) return false;
    }
  }
  for (; want_at < flat.len; want_at++)
    if (!push(cx, f, flat.v[want_at], 0)) return false;
  return true;
}


static uint32_t lower_flat_flags(uint32_t v, uint32_t nlabels) { return (uint32_t)pack_flags_into_int(v, nlabels); }

/* ================================================================================ */
/* Lifting and Lowering Values                                                      */
/* ================================================================================ */

static bool lift_flat_values(cma_cx *cx, uint32_t max_flat, CoreValueIter *vi, const cmc_field *ts,
                             uint32_t nts, cma_vals *out) {
  flat_types flat;
  flatten_types(cx->opts, cx->types, ts, nts, &flat);
  cma_val *vs = cma_heap_alloc(cx->heap, (size_t)(nts ? nts : 1) * sizeof *vs);
  if (!vs) return fail(cx->err, CMREF_EXHAUSTION, "out of memory");
  out->v = vs;
  out->n = nts;
  if (flat.len > max_flat) {
    check(cx->opts->memory != NULL);
    uint64_t ptr = next(vi, ptr_type(cx));
    /* tuple_type = TupleType(ts) */
    trap_if(ptr != align_to(ptr, alignment_record(cx, ts, nts)), CMA_TRAP_PTR_ALIGN);
    trap_if(!in_bounds(cx, ptr, elem_size_record(cx, ts, nts)), CMA_TRAP_PTR_OOB);
    cma_val tuple;
    if (!load_record(cx, ptr, ts, nts, &tuple)) return false;
    memcpy(vs, tuple.u.agg.v, nts * sizeof *vs);
    return true;
  }
  for (uint32_t i = 0; i < nts; i++)
    if (!lift_flat(cx, vi, ts[i].type, &vs[i])) return false;
  return true;
}

static bool lower_flat_values(cma_cx *cx, uint32_t max_flat, const cma_vals *vs, const cmc_field *ts,
                              uint32_t nts, CoreValueIter *out_param, flat_vals *out) {
  flat_types flat;
  flatten_types(cx->opts, cx->types, ts, nts, &flat);
  check(vs->n == nts);
  out->n = 0;
  if (flat.len > max_flat) {
    check(cx->opts->memory != NULL);
    uint32_t a = alignment_record(cx, ts, nts);
    uint64_t size = elem_size_record(cx, ts, nts), ptr;
    cma_val tuple_value = {.u.agg = {.v = vs->v, .raw = NULL, .n = nts}};
    if (!out_param) {
      if (!allocate(cx, a, size, &ptr)) return false;
      if (!push(cx, out, ptr_type(cx), ptr)) return false;
      trap_if(ptr != align_to(ptr, a), CMA_TRAP_REALLOC_ALIGN);
      trap_if(!in_bounds(cx, ptr, size), CMA_TRAP_REALLOC_PTR_OOB);
    } else {
      ptr = next(out_param, ptr_type(cx));
      trap_if(ptr != align_to(ptr, a), CMA_TRAP_PTR_ALIGN);
      trap_if(!in_bounds(cx, ptr, size), CMA_TRAP_PTR_OOB);
    }
    return store_record(cx, &tuple_value, ptr, ts, nts);
  }
  for (uint32_t i = 0; i < nts; i++)
    if (!lower_flat(cx, out, &vs->v[i], ts[i].type)) return false;
  return true;
}

bool cma_load_value(cma_cx *cx, uint64_t ptr, cmc_tid t, cma_val *out) { return load(cx, ptr, t, out); }
bool cma_store_value(cma_cx *cx, const cma_val *v, cmc_tid t, uint64_t ptr) { return store(cx, v, t, ptr); }

bool cma_lift_flat_values(cma_cx *cx, uint32_t max_flat, const cm_value *vals, uint32_t nvals,
                          const cmc_field *ts, uint32_t nts, cma_vals *out) {
  CoreValueIter vi = {.values = vals, .n = nvals};
  if (!lift_flat_values(cx, max_flat, &vi, ts, nts, out)) return false;
  check(!vi.overrun && vi.i == nvals);
  return true;
}

bool cma_lower_flat_values(cma_cx *cx, uint32_t max_flat, const cma_vals *vs,
                           const cmc_field *ts, uint32_t nts, cm_value *out, uint32_t *nout) {
  flat_vals f = {.n = 0};
  if (!lower_flat_values(cx, max_flat, vs, ts, nts, NULL, &f)) return false;
  memcpy(out, f.v, f.n * sizeof *out);
  *nout = f.n;
  return true;
}

/* ================================================================================ */
/* canon lift                                                                       */
/* ================================================================================ */

static bool call_and_trap_on_throw(cma_corefunc *callee, const cm_value *args, uint32_t nargs,
                                   cm_value *results, uint32_t nresults, cm_error *err);

static cmc_field result_field(const cma_functype *ft) { return (cmc_field){NULL, ft->result}; }
static uint32_t result_count(const cma_functype *ft) { return ft->result == CMC_NONE ? 0 : 1; }

bool canon_lift(cma_corefunc *callee, const cma_functype *ft, const cma_options *opts,
                cma_instance *inst, cma_on_start on_start, cma_on_resolve on_resolve, void *env,
                bool host_caller, cm_error *err) {
  if (opts->async_ || ft->async_)
    return fail(err, CMREF_INTERNAL, "async canon lift is not supported yet (issue 8)");
  cma_task task;
  task_init(&task, ft, opts, inst, on_start, on_resolve, env);
  cma_heap heap = {NULL};
  cma_cx cxv = {.opts = opts, .inst = inst, .scope_kind = CMA_SCOPE_TASK, .borrow_scope = &task,
                .types = ft->types, .heap = &heap, .host = host_caller, .err = err};
  cma_cx *cx = &cxv;
  cma_vals args = {NULL, 0};
  flat_vals flat_args = {.n = 0};
  cma_flat_functype flat_ft;
  cm_value flat_results[CMA_MAX_FLAT_RESULTS + 1];
  memset(flat_results, 0, sizeof flat_results);
  bool ok = task_start(&task, &args, err) &&
            lower_flat_values(cx, CMA_MAX_FLAT_PARAMS, &args, ft->params, ft->nparams, NULL,
                              &flat_args) &&
            flatten_functype(opts, ft, CMA_LIFT, &flat_ft, err);
  ok = ok && call_and_trap_on_throw(callee, flat_args.v, flat_args.n, flat_results,
                                    flat_ft.nresults, err);
  cma_vals result = {NULL, 0};
  cmc_field rf = result_field(ft);
  if (ok) {
    CoreValueIter vi = {.values = flat_results, .n = flat_ft.nresults};
    ok = lift_flat_values(cx, CMA_MAX_FLAT_RESULTS, &vi, &rf, result_count(ft), &result) &&
         task_return(cx, &task, &result);
  }
  if (ok && opts->post_return) {
    inst->may_leave = false;
    ok = call_and_trap_on_throw(opts->post_return, flat_results, flat_ft.nresults, NULL, 0, err);
    inst->may_leave = true;
  }
  ok = ok && task_exit_implicit_thread(cx, &task);
  cma_heap_free(&heap);
  return ok;
}

static bool call_and_trap_on_throw(cma_corefunc *callee, const cm_value *args, uint32_t nargs,
                                   cm_value *results, uint32_t nresults, cm_error *err) {
  if (callee->call(callee->env, args, nargs, results, nresults, err)) return true;
  if (err && err->kind == CMREF_TRAP && strncmp(err->message, "uncaught exception", 18) == 0)
    return trap_err(err, CMA_TRAP_CORE_EXCEPTION);
  return false;
}

/* ================================================================================ */
/* canon lower                                                                      */
/* ================================================================================ */

typedef struct lower_call {
  cma_cx *cx;
  cma_subtask *subtask;
  CoreValueIter *flat_args;
  const cma_functype *ft;
  flat_vals results;
} lower_call;

static bool lower_on_start(void *env, cma_vals *args, cm_error *err) {
  lower_call *c = env;
  cma_cx *cx = c->cx;
  (void)err;
  check(c->subtask->state == CMA_SUBTASK_STARTING);
  c->subtask->state = CMA_SUBTASK_STARTED;
  return lift_flat_values(cx, CMA_MAX_FLAT_PARAMS, c->flat_args, c->ft->params, c->ft->nparams, args);
}

static bool lower_on_resolve(void *env, const cma_vals *result, cm_error *err) {
  lower_call *c = env;
  cma_cx *cx = c->cx;
  (void)err;
  check(result != NULL);
  check(c->subtask->state == CMA_SUBTASK_STARTED);
  cmc_field rf = result_field(c->ft);
  if (!lower_flat_values(cx, CMA_MAX_FLAT_RESULTS, result, &rf, result_count(c->ft),
                         c->flat_args, &c->results))
    return false;
  c->subtask->state = CMA_SUBTASK_RETURNED; /* subtask.resolve(RETURNED, flat_results) */
  return true;
}

bool canon_lower(cma_funcinst *callee, const cma_functype *ft, const cma_options *opts,
                 cma_instance *inst, const cm_value *flat_args, uint32_t nargs,
                 cm_value *flat_results, uint32_t *nresults, cm_error *err) {
  if (!inst->may_leave) return trap_err(err, CMA_TRAP_CANNOT_LEAVE);
  if (opts->async_) return fail(err, CMREF_INTERNAL, "async canon lower is not supported yet (issue 8)");
  cma_flat_functype flat_ft;
  if (!flatten_functype(opts, ft, CMA_LOWER, &flat_ft, err)) return false;
  if (nargs != flat_ft.nparams)
    return fail(err, CMREF_INTERNAL, "canon lower: %u core arguments, the core type has %u", nargs,
                flat_ft.nparams);
  CoreValueIter vi = {.values = flat_args, .n = nargs};
  cma_subtask subtask;
  memset(&subtask, 0, sizeof subtask);
  subtask.state = CMA_SUBTASK_STARTING;
  cma_heap heap = {NULL};
  cma_cx cxv = {.opts = opts, .inst = inst, .scope_kind = CMA_SCOPE_SUBTASK, .borrow_scope = &subtask,
                .types = ft->types, .heap = &heap, .host = callee->call != lifted_func_inst,
                .err = err};
  lower_call call = {.cx = &cxv, .subtask = &subtask, .flat_args = &vi, .ft = ft};
  bool ok;
#ifndef CMREF_NO_HOOKS
  /* a host function's crossing, in the lowered type (host functions belong to no instance;
   * async lifts, cmx_lifted_call, are not host functions and resolve later: not wrapped) */
  if (cxv.host && !callee->inst && inst->store->hook)
    ok = cma_hooked_host_call(callee, ft, lower_on_start, lower_on_resolve, &call, inst, err);
  else
#endif
    ok = callee->call(callee, lower_on_start, lower_on_resolve, &call, inst, err);
  if (ok && subtask.state != CMA_SUBTASK_RETURNED) /* an async callee blocked: wait (issue 8) */
    ok = cmx_wait_subtask(inst->store, &subtask, &heap, err);
  deliver_resolve(&subtask);
  cma_heap_free(&heap);
  if (!ok) return false;
  if (call.results.n) memcpy(flat_results, call.results.v, call.results.n * sizeof *flat_results);
  *nresults = call.results.n;
  return true;
}

/* ---- function types ---- */

bool cma_functype_of(cmc_types *types, cmc_tid ft, cma_functype *out) {
  if (ft >= types->len || types->v[ft].kind != CMC_T_FUNC) return false;
  out->types = types;
  out->params = types->v[ft].fields;
  out->nparams = types->v[ft].n;
  out->result = types->v[ft].a;
  out->async_ = types->v[ft].async;
  return true;
}

/* ---- for the async ABI (concurrency.c) ---- */

bool cma_lower_flat_values_to(cma_cx *cx, uint32_t max_flat, const cma_vals *vs,
                              const cmc_field *ts, uint32_t nts, const cm_value *out_param,
                              uint32_t nout_param) {
  CoreValueIter vi = {.values = out_param, .n = nout_param};
  flat_vals f = {.n = 0};
  return lower_flat_values(cx, max_flat, vs, ts, nts, &vi, &f);
}

void cma_deliver_resolve(cma_subtask *st) { deliver_resolve(st); }
uint64_t cma_elem_size(cma_cx *cx, cmc_tid t) { return elem_size(cx, t); }
uint32_t cma_alignment(cma_cx *cx, cmc_tid t) { return alignment(cx, t); }
