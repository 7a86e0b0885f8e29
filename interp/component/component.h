/* Components: decoded and validated representation (Binary.md, Explainer.md).
 *
 * cmc_comp_validate() decodes and validates a component binary in one pass (as the
 * reference validator does), building index spaces whose entries carry resolved types.
 * Types live in one arena (cmc_types) and are referred to by cmc_tid; valtypes are cmc_tids
 * too (the primitive types are the first arena entries). Resource types are nodes whose
 * identity is their id. Everything is allocated from one arena freed by cmc_comp_free().
 */
#ifndef CMC_COMPONENT_H
#define CMC_COMPONENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmref.h"

typedef uint32_t cmc_tid;
#define CMC_NONE UINT32_MAX

/* ---- errors ---- */
typedef struct cmc_error {
  cmref_errkind kind;
  char message[512];
} cmc_error;

/* ---- arena ---- */
typedef struct cmc_arena_chunk cmc_arena_chunk;
typedef struct cmc_arena {
  cmc_arena_chunk *head;
  size_t total;
} cmc_arena;
void *cmc_arena_alloc(cmc_arena *a, size_t size); /* zeroed; NULL when out of memory */
void cmc_arena_free(cmc_arena *a);

/* ---- types ---- */
typedef enum cmc_tkind {
  CMC_T_PRIM, CMC_T_RECORD, CMC_T_VARIANT, CMC_T_LIST, CMC_T_FIXLIST, CMC_T_TUPLE, CMC_T_FLAGS,
  CMC_T_ENUM, CMC_T_OPTION, CMC_T_RESULT, CMC_T_OWN, CMC_T_BORROW, CMC_T_STREAM, CMC_T_FUTURE,
  CMC_T_MAP, CMC_T_FUNC, CMC_T_COMPONENT, CMC_T_INSTANCE, CMC_T_RESOURCE,
  CMC_T_CORE_FUNC, CMC_T_CORE_MODULE, CMC_T_CORE_INSTANCE, CMC_T_CORE_OTHER
} cmc_tkind;

/* primitive codes as in the binary format */
enum {
  CMC_BOOL = 0x7f, CMC_S8 = 0x7e, CMC_U8 = 0x7d, CMC_S16 = 0x7c, CMC_U16 = 0x7b, CMC_S32 = 0x7a,
  CMC_U32 = 0x79, CMC_S64 = 0x78, CMC_U64 = 0x77, CMC_F32 = 0x76, CMC_F64 = 0x75, CMC_CHAR = 0x74,
  CMC_STRING = 0x73, CMC_ERROR_CONTEXT = 0x64
};

/* sorts (component level); core sorts are CMC_SORT_CORE + core sort byte */
enum {
  CMC_SORT_FUNC = 1, CMC_SORT_VALUE = 2, CMC_SORT_TYPE = 3, CMC_SORT_COMPONENT = 4,
  CMC_SORT_INSTANCE = 5, CMC_SORT_CORE = 0x100
};
enum {
  CMC_CORE_FUNC = 0x00, CMC_CORE_TABLE = 0x01, CMC_CORE_MEMORY = 0x02, CMC_CORE_GLOBAL = 0x03,
  CMC_CORE_TAG = 0x04, CMC_CORE_TYPE = 0x10, CMC_CORE_MODULE = 0x11, CMC_CORE_INSTANCE = 0x12
};

typedef struct cmc_field {
  const char *name; /* NULL for tuple members */
  cmc_tid type;      /* CMC_NONE for payload-less cases, flags, enum labels */
} cmc_field;

/* an import or export of a component/instance type */
typedef struct cmc_extern {
  const char *name;
  const char *implements; /* attribute, or NULL */
  const char *external_id; /* attribute, or NULL */
  int sort;               /* CMC_SORT_* (module: CMC_SORT_CORE + CMC_CORE_MODULE) */
  cmc_tid type;            /* func/component/instance/module type; the type for sort type;
                             the valtype for sort value */
} cmc_extern;

/* core value types: a code byte (0x7f i32 ... 0x7b v128, ref codes) and for
 * references a nullable flag and heap type (abstract code, or a concrete type id) */
typedef struct cmc_core_valtype {
  uint8_t code;     /* 0x7f i32, 0x7e i64, 0x7d f32, 0x7c f64, 0x7b v128, 0x64 ref */
  bool nullable;
  bool concrete;    /* heap is a cmc_tid of a core type */
  uint32_t heap;    /* abstract heap type byte, or cmc_tid */
} cmc_core_valtype;

typedef struct cmc_core_extern {
  const char *module; /* imports only */
  const char *name;
  uint8_t kind;       /* CMC_CORE_FUNC .. CMC_CORE_TAG */
  cmc_tid func;        /* func/tag: core func type */
  cmc_core_valtype val; /* global type, table element type */
  bool mut, shared, is64;
  uint8_t page_log2;  /* memories: log2 of the page size minus 1 (0: the default 64 KiB) */
  bool has_max;
  uint64_t min, max;
} cmc_core_extern;

typedef struct cmc_type {
  cmc_tkind kind;
  uint8_t prim;          /* CMC_T_PRIM */
  bool async;            /* CMC_T_FUNC */
  bool has_resource;     /* transitively refers to a resource node */
  bool has_borrow;       /* transitively contains a borrow */
  bool abstract_res;     /* CMC_T_RESOURCE: imported/abstract (no representation known) */
  bool has_ptr;          /* transitively contains a string or list (canonical ABI) */
  uint32_t tsize;        /* effective size: nodes of the type as a tree (saturating) */
  uint32_t mark;         /* per-walk memo stamp */
  uint32_t smark;        /* substitution memo stamp and result */
  cmc_tid sresult;
  uint16_t depth;        /* type nesting depth */
  uint32_t align[2];     /* canonical ABI alignment (32-bit, 64-bit pointers) */
  uint64_t size[2];      /* canonical ABI elem_size (saturating) */
  uint32_t n;            /* fields/cases/labels/members/params */
  cmc_field *fields;
  cmc_tid a, b;           /* element/option/ok/own/stream/key/func result ; err/map value */
  uint32_t len;          /* fixed-length list length */
  /* component / instance types */
  uint32_t nimports, nexports;
  cmc_extern *imports, *exports;
  uint32_t ndefined;     /* resources created by instantiation (exported (sub resource)) */
  cmc_tid *defined;
  uint32_t nimported_res; /* resources supplied by imports (bound at instantiation) */
  cmc_tid *imported_res;
  /* resource */
  cmc_core_valtype rep;
  uint32_t dtor;         /* core func index or CMC_NONE */
  uint32_t owner;        /* the component state that defined it (for "local resource") */
  cmc_tid alias_of;      /* an imported/exported name for resource alias_of (0: none) */
  cmc_tid named_from;    /* a resource's named copy: the type it names (one step of the
                            alias chain, which WIT decoding follows; 0: none) */
  /* core func type */
  uint32_t nparams, nresults;
  cmc_core_valtype *params, *results;
  /* core module / core instance types */
  uint32_t ncimports, ncexports;
  cmc_core_extern *cimports, *cexports;
} cmc_type;

typedef struct cmc_types {
  cmc_type *v;
  uint32_t len, cap;
  uint32_t gen; /* memo stamps handed out so far */
} cmc_types;

/* ---- validation options ---- */
typedef struct cmc_comp_options {
  bool wasmtime;        /* wasmtime profile: rules wasmtime enforces beyond the spec */
  bool no_implements;   /* the `implements` attribute is gated off */
  bool nested_names;    /* 🪺 nested namespaces and projections in interface names */
} cmc_comp_options;

/* ---- a validated component ---- */
typedef struct cmc_index_entry {
  cmc_tid type;  /* the entry's type (sort-specific, see cmc_extern.type) */
  uint32_t def; /* index of the defining item in cmc_component.defs, or CMC_NONE */
} cmc_index_entry;

#define CMC_DEF_IMPORT 0xfffffffeu /* cmc_index_entry.def of an imported item */

typedef struct cmc_space {
  cmc_index_entry *v;
  uint32_t len, cap;
} cmc_space;

enum { /* component-level index spaces */
  CMC_SP_FUNC, CMC_SP_VALUE, CMC_SP_TYPE, CMC_SP_COMPONENT, CMC_SP_INSTANCE,
  CMC_SP_CORE_FUNC, CMC_SP_CORE_TABLE, CMC_SP_CORE_MEMORY, CMC_SP_CORE_GLOBAL, CMC_SP_CORE_TAG,
  CMC_SP_CORE_TYPE, CMC_SP_CORE_MODULE, CMC_SP_CORE_INSTANCE, CMC_SP_COUNT
};

typedef struct cmc_component cmc_component;
struct cmc_component {
  cmc_space spaces[CMC_SP_COUNT];
  uint32_t nimports, nexports;
  cmc_extern *imports, *exports; /* the component's type, once validated */
  cmc_tid type;                  /* its component type */
  const uint8_t *bytes;         /* the binary (borrowed) */
  size_t size;
  cmc_component **nested;        /* nested component definitions, in order */
  uint32_t nnested;
  const uint8_t **modules;      /* core module binaries, in order */
  size_t *module_sizes;
  uint32_t nmodules;
};

typedef struct cmc_comp_result {
  cmc_arena arena;
  cmc_types types;
  cmc_component *root;
} cmc_comp_result;

/* Decode and validate a component binary. On failure returns false with err set
 * (CMREF_MALFORMED or CMREF_INVALID). res must be freed with cmc_comp_free either way. */
bool cmc_comp_validate(const uint8_t *bytes, size_t size, const cmc_comp_options *opts,
                      cmc_comp_result *res, cmc_error *err);
void cmc_comp_free(cmc_comp_result *res);
/* copies err's message into buf (truncated, NUL-terminated) */
void cmc_error_copy(char *buf, size_t len, const cmc_error *err);

/* true if bytes start with the component preamble's layer (0x01 0x00) */
bool cmc_comp_is_component(const uint8_t *bytes, size_t size);

#endif
