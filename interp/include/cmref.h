/* cmref: public C API of the reference interpreter.
 *
 * The whole contract between an embedder (the CLI, the harness worker) and the engine.
 * No global mutable state: every call takes the engine it acts on. Every failure is a
 * returned error with a kind and a message; no input makes the library abort or exit.
 */
#ifndef CMREF_H
#define CMREF_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CMREF_VERSION "0.1.0"

/* Error kinds, by phase (the spec interpreter's Decode/Invalid/Link/Trap/Exhaustion). */
typedef enum cmref_errkind {
  CMREF_OK = 0,
  CMREF_MALFORMED,      /* decoding failed */
  CMREF_INVALID,        /* validation failed */
  CMREF_UNLINKABLE,     /* imports do not match */
  CMREF_UNINSTANTIABLE, /* instantiation failed (segments, start) */
  CMREF_TRAP,           /* execution trapped */
  CMREF_EXHAUSTION,     /* call stack or fuel exhausted */
  CMREF_INTERNAL        /* a bug in cmref or a misuse of the API */
} cmref_errkind;

const char *cmref_version(void);
const char *cmref_errkind_name(cmref_errkind kind);

/* ---- Engine: a store plus the names registered in it (the spec's "embedding") ----
 *
 * Modules and instances are addressed by small integer handles, valid until the next
 * cmref_reset. Values cross this API as JSON text in the json-from-wast schema
 * (wast2json's: {"type": "i32", "value": "4294967295"}, floats as the decimal of their
 * bits, references "null" or a number, v128 {"type": "v128", "lane_type": T, "value": [..]}).
 */
typedef struct cmref_engine cmref_engine;

typedef struct cmref_error {
  cmref_errkind kind;
  char message[256];
} cmref_error;

cmref_engine *cmref_engine_new(void);
void cmref_engine_free(cmref_engine *e);

/* A fresh store with only the host module `spectest` registered. */
int cmref_reset(cmref_engine *e, cmref_error *err);

/* Decodes and validates a core module (Wasm 2.0 + exception handling + SIMD, the pinned
 * core suite's rules); returns its handle (>= 0) or -1 with err. */
int cmref_load_module(cmref_engine *e, const unsigned char *bytes, size_t len, cmref_error *err);

/* Proposals that change what is valid and are off by default (bit flags). */
enum { CMREF_FEATURE_MULTI_MEMORY = 1, CMREF_FEATURE_GC = 2 /* the i31 subset, see validate.h */ };
#define CMREF_FEATURES_ALL (CMREF_FEATURE_MULTI_MEMORY | CMREF_FEATURE_GC)

/* The same with extra features (a CMREF_FEATURE_* mask). */
int cmref_load_module_ex(cmref_engine *e, const unsigned char *bytes, size_t len,
                         unsigned features, cmref_error *err);

/* Instantiates a module against the registered names; returns an instance handle or -1. */
int cmref_instantiate(cmref_engine *e, int module, cmref_error *err);

/* Makes an instance's exports importable under `name`. */
int cmref_register(cmref_engine *e, int instance, const char *name, cmref_error *err);

/* Calls an exported function (names are UTF-8 and may contain NUL: field_len bytes).
 * args_json: a JSON array of values. Returns a malloc'ed JSON
 * array of the results (free with free()), or NULL with err (trap, exhaustion, ...). */
char *cmref_invoke(cmref_engine *e, int instance, const char *field, size_t field_len,
                   const char *args_json, cmref_error *err);

/* Limits execution in the current store (until the next reset) to `fuel` instructions,
 * counted as wasmtime counts fuel (each instruction costs 1 except nop, drop, block, loop,
 * else, end, unreachable and return). A straight-line run of instructions that fuel cannot
 * pay for does not start: execution stops with CMREF_EXHAUSTION "all fuel consumed by
 * WebAssembly". ULLONG_MAX (the default) is unlimited and costs nothing; a limit makes
 * functions run metered code (compiled again where the setting changed). */
void cmref_set_fuel(cmref_engine *e, unsigned long long fuel);

/* Reads an exported global: a malloc'ed JSON value, or NULL with err. */
char *cmref_get(cmref_engine *e, int instance, const char *field, size_t field_len,
                cmref_error *err);


/* ---- Interception hooks: every component boundary crossing -------------------------
 *
 * A hook installed on a component store sees each call of a lifted component function
 * (from the embedder or from another component through canon lower) and each call of a host
 * function through canon lower (callee NULL, functype the lowered type): once when the call's
 * arguments have been lifted (CMREF_CROSS_CALL), then once with its results
 * (CMREF_CROSS_RETURN) or its trap (CMREF_CROSS_TRAP). At CMREF_CROSS_CALL a hook may deny
 * the call by returning nonzero after writing a reason into msg: the call then traps with
 * "call denied by policy: <reason>" (CMREF_TRAP) before the callee runs. With no hook
 * installed the only cost is one pointer test per crossing. */
typedef enum cmref_cross_event {
  CMREF_CROSS_CALL = 1,
  CMREF_CROSS_RETURN,
  CMREF_CROSS_TRAP
} cmref_cross_event;

typedef struct cmref_crossing {
  cmref_cross_event event;
  unsigned depth;       /* nesting of crossings: 0 for a call from the embedder */
  const void *caller;   /* the calling component instance (cma_instance); NULL: the embedder */
  const void *callee;   /* the called component instance (cma_instance); NULL: a host function */
  const void *func;     /* the called function instance (cma_funcinst) */
  const void *functype; /* its type (cma_functype: parameter and result types) */
  const void *values;   /* CALL: the lifted arguments, RETURN: the results (cma_vals) */
  const char *trap;     /* TRAP: the error message */
} cmref_crossing;

/* Returns 0 to let the call go on; nonzero (CALL only) denies it with msg as the reason. */
typedef int (*cmref_hook_fn)(void *env, const cmref_crossing *c, char *msg, size_t msg_len);

#ifdef __cplusplus
}
#endif
#endif
