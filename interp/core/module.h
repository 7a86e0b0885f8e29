/* cmref core: the decoded module (spec 2.5 "Modules") and the binary decoder's API.
 *
 * The decoder (decode.c) turns bytes into a cm_module; the validator (validate.c,
 * cm_core_validate) checks it; instantiation (instance.c) and execution (exec.c) run it.
 * Shared by the validator and the SIMD engineer: this header only grows (additive changes).
 *
 * Conventions:
 * - Value types and reference types are their binary encodings (cm_valtype), so a type read
 *   from the binary needs no translation and a new type (Wasm 3.0) adds one constant.
 * - Function bodies and constant expressions are kept as byte ranges into cm_module.bytes
 *   (a private copy of the binary that lives as long as the module). The validator and the
 *   execution pre-decoder read instructions from there with the readers in reader.h.
 * - Every count read from the binary is bounded by the bytes left before anything is
 *   allocated from it.
 */
#ifndef CM_CORE_MODULE_H
#define CM_CORE_MODULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmref.h"

/* ---- Errors ------------------------------------------------------------------------- */

/* Every failing core function fills one of these and returns false (or NULL). */
typedef struct cm_error {
  cmref_errkind kind;
  char message[256];
} cm_error;

/* Sets err (if not NULL) to kind + printf-style message; returns false. (decode.c) */
bool cm_error_set(cm_error *err, cmref_errkind kind, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* ---- Types (spec 2.3) ----------------------------------------------------------------- */

/* A value type: its binary encoding. */
typedef uint8_t cm_valtype;
enum {
  CM_I32 = 0x7F,
  CM_I64 = 0x7E,
  CM_F32 = 0x7D,
  CM_F64 = 0x7C,
  CM_V128 = 0x7B,
  CM_FUNCREF = 0x70,
  CM_EXTERNREF = 0x6F,
  CM_EXNREF = 0x69, /* Wasm 3.0 exception handling */
  CM_I31REF = 0x6C,  /* (ref null i31), GC (features.gc) */
  /* Non-nullable forms `(ref ht)` of the abstract heap types above (binary 0x64 ht): not
   * binary encodings, the nullable shorthand's code minus CM_REF_NONNULL_DELTA. */
  CM_REF_FUNC = 0x30,
  CM_REF_EXTERN = 0x2F,
  CM_REF_EXN = 0x29,
  CM_REF_I31 = 0x2C,
  CM_REF_NONNULL_DELTA = 0x40,
  CM_VALTYPE_BOT = 0x00 /* the validator's "unknown" type; never in a module */
};

bool cm_valtype_is_num(cm_valtype t);
bool cm_valtype_is_ref(cm_valtype t);
const char *cm_valtype_name(cm_valtype t); /* "i32", "funcref", ... */
/* (added) Typed references: is t a non-nullable `(ref ht)`; does t need the GC /
 * function-references feature (i31, non-nullable forms); subtyping t1 <: t2 (equal, or the
 * non-nullable form of a nullable type; the validator's unknown type matches anything). */
bool cm_valtype_is_nonnull(cm_valtype t);
bool cm_valtype_is_typed_ref(cm_valtype t);
bool cm_valtype_matches(cm_valtype t1, cm_valtype t2);

/* Block types (spec 5.4.1): empty, one value type, or a type index. */
typedef enum cm_blocktype_kind { CM_BLOCK_EMPTY, CM_BLOCK_VAL, CM_BLOCK_TYPEIDX } cm_blocktype_kind;
typedef struct cm_blocktype {
  cm_blocktype_kind kind;
  cm_valtype val;   /* CM_BLOCK_VAL */
  uint32_t typeidx; /* CM_BLOCK_TYPEIDX */
} cm_blocktype;

typedef struct cm_functype {
  uint32_t nparams, nresults;
  cm_valtype *params;  /* nparams entries */
  cm_valtype *results; /* nresults entries */
} cm_functype;

typedef struct cm_limits {
  uint64_t min;
  uint64_t max; /* valid when has_max */
  bool has_max;
  bool is64;   /* memory64 flag (decoded, rejected by validation unless supported) */
  bool shared; /* threads flag (likewise) */
} cm_limits;

typedef struct cm_tabletype {
  cm_valtype elem; /* a reference type */
  cm_limits limits;
  /* (added) the table section's 0x40 0x00 form: an initialiser expression for every
   * element (required for non-nullable element types) */
  bool has_init;
  uint32_t init_offset, init_len; /* a cm_expr range of cm_module.bytes */
} cm_tabletype;

typedef struct cm_memtype {
  cm_limits limits; /* in pages of 64 KiB */
} cm_memtype;

typedef struct cm_globaltype {
  cm_valtype type;
  bool mut;
} cm_globaltype;

/* Tag type (Wasm 3.0): attribute 0 (exception) and a function type with no results. */
typedef struct cm_tagtype {
  uint8_t attribute;
  uint32_t typeidx;
} cm_tagtype;

/* External kinds: their binary encodings in import/export descriptors. */
typedef enum cm_externkind {
  CM_EXTERN_FUNC = 0,
  CM_EXTERN_TABLE = 1,
  CM_EXTERN_MEMORY = 2,
  CM_EXTERN_GLOBAL = 3,
  CM_EXTERN_TAG = 4
} cm_externkind;

/* A name (UTF-8, validated by the decoder): NUL-terminated copy plus its length (a name may
 * contain U+0000, so use len). */
typedef struct cm_name {
  char *str;
  uint32_t len;
} cm_name;

/* ---- Module components (spec 2.5) ---------------------------------------------------- */

/* A constant or body expression: a byte range of cm_module.bytes, ending with its `end`
 * (0x0B) opcode included. */
typedef struct cm_expr {
  uint32_t offset;
  uint32_t len;
} cm_expr;

typedef struct cm_import {
  cm_name module, name;
  cm_externkind kind;
  union {
    uint32_t func;        /* type index */
    cm_tabletype table;
    cm_memtype mem;
    cm_globaltype global;
    cm_tagtype tag;
  } desc;
} cm_import;

/* Local declarations of a function body: `count` locals of `type`, as in the binary. */
typedef struct cm_locals {
  uint32_t count;
  cm_valtype type;
} cm_locals;

/* A function defined by the module (imports excluded). */
typedef struct cm_func {
  uint32_t typeidx;
  uint32_t nlocaldecls;
  cm_locals *localdecls;
  uint32_t nlocals; /* sum of localdecls[].count (the decoder bounds it, see CM_MAX_LOCALS) */
  cm_expr body;     /* the instructions after the local declarations, with the final end */
} cm_func;

/* The decoder rejects bodies declaring more locals than this ("too many locals"). */
#define CM_MAX_LOCALS 50000u

typedef struct cm_global {
  cm_globaltype type;
  cm_expr init;
} cm_global;

typedef struct cm_export {
  cm_name name;
  cm_externkind kind;
  uint32_t index;
} cm_export;

typedef enum cm_segmode { CM_SEG_PASSIVE, CM_SEG_ACTIVE, CM_SEG_DECLARATIVE } cm_segmode;

/* Element segment (spec 2.5.12). Items are either function indices (the binary's
 * elemkind/funcidx forms: uses_exprs false, funcs[]) or expressions (exprs[]). */
typedef struct cm_elem {
  cm_segmode mode;
  cm_valtype type; /* a reference type */
  uint32_t table;  /* active only */
  cm_expr offset;  /* active only */
  bool uses_exprs;
  uint32_t nitems;
  uint32_t *funcs;  /* nitems function indices when !uses_exprs */
  cm_expr *exprs;   /* nitems expressions when uses_exprs */
} cm_elem;

/* Data segment (spec 2.5.13). */
typedef struct cm_data {
  cm_segmode mode; /* passive or active */
  uint32_t memory; /* active only */
  cm_expr offset;  /* active only */
  uint32_t init_offset, init_len; /* the bytes: range of cm_module.bytes */
} cm_data;

/* A custom section (kept for tools; name validated as UTF-8). */
typedef struct cm_custom {
  cm_name name;
  uint32_t offset, len; /* contents range of cm_module.bytes */
} cm_custom;

typedef struct cm_module {
  uint8_t *bytes; /* private copy of the binary */
  uint32_t nbytes;

  uint32_t ntypes;
  cm_functype *types;

  uint32_t nimports;
  cm_import *imports;

  /* Counts of imports per kind; the index spaces start with the imports, in order. */
  uint32_t nfunc_imports, ntable_imports, nmem_imports, nglobal_imports, ntag_imports;

  uint32_t nfuncs; /* defined functions (function section = code section count) */
  cm_func *funcs;

  uint32_t ntables;
  cm_tabletype *tables; /* defined tables */

  uint32_t nmems;
  cm_memtype *mems; /* defined memories */

  uint32_t nglobals;
  cm_global *globals; /* defined globals */

  uint32_t ntags;
  cm_tagtype *tags; /* defined tags */

  uint32_t nexports;
  cm_export *exports;

  bool has_start;
  uint32_t start;

  uint32_t nelems;
  cm_elem *elems;

  bool has_datacount;
  uint32_t datacount;
  uint32_t ndatas;
  cm_data *datas;

  uint32_t ncustoms;
  cm_custom *customs;

  /* (added) imports_of_kind[k][i]: position in imports[] of the i-th import of kind k, so
   * that the index-space accessors below are O(1). Filled by the decoder. */
  uint32_t *imports_of_kind[5];

  /* (added) export indices sorted by name (length, then bytes): cm_module_find_export. */
  uint32_t *exports_by_name;
} cm_module;

/* ---- Index spaces (imports first, then definitions) ------------------------------------ */

uint32_t cm_module_nfuncs_total(const cm_module *m);
uint32_t cm_module_ntables_total(const cm_module *m);
uint32_t cm_module_nmems_total(const cm_module *m);
uint32_t cm_module_nglobals_total(const cm_module *m);
uint32_t cm_module_ntags_total(const cm_module *m);

/* The type of function/table/memory/global/tag `idx` of the index space (imports included).
 * Return NULL when idx is out of range. */
const cm_functype *cm_module_func_type(const cm_module *m, uint32_t funcidx);
uint32_t cm_module_func_typeidx(const cm_module *m, uint32_t funcidx); /* UINT32_MAX if none */
const cm_tabletype *cm_module_table_type(const cm_module *m, uint32_t tableidx);
const cm_memtype *cm_module_mem_type(const cm_module *m, uint32_t memidx);
const cm_globaltype *cm_module_global_type(const cm_module *m, uint32_t globalidx);
const cm_tagtype *cm_module_tag_type(const cm_module *m, uint32_t tagidx);

/* The export named name (len bytes), or NULL; O(log n). (added) */
const cm_export *cm_module_find_export(const cm_module *m, const char *name, size_t len);

/* ---- Decoder (decode.c, spec 5 "Binary Format") ---------------------------------------- */

/* Decodes `len` bytes into a new module (*out), copying the bytes. On failure returns false,
 * err->kind = CMREF_MALFORMED and a message (the core suite's assert_malformed wording where
 * there is one), and *out is NULL. Never validates (see validate.h). */
bool cm_core_decode(const uint8_t *bytes, size_t len, cm_module **out, cm_error *err);

void cm_module_free(cm_module *m);

/* ---- Values (spec 4.2.1): one operand-stack slot ---------------------------------------- */

/* A reference: NULL is the null reference of every reference type. A funcref points to a
 * function instance (exec), an exnref to an exception instance; an externref is opaque to
 * the engine (the host's `ref.extern N` is encoded by the embedder). */
typedef void *cm_ref;

/* One value / stack slot. 16 bytes so that v128 fits; floats are kept as their bits (f32, f64
 * members read/write the same bytes) so that NaN payloads survive moves. */
typedef union cm_value {
  uint32_t i32;
  uint64_t i64;
  float f32;
  double f64;
  cm_ref ref;
  uint8_t v128[16];
  uint64_t v128_u64[2];
} cm_value;

#endif
