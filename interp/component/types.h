/* Component types: the type arena, subtyping (matching), substitution of resources,
 * and the canonical ABI facts validation needs (flattening, element size). */
#ifndef CMC_TYPES_H
#define CMC_TYPES_H

#include "component/component.h"

#define CMC_NPRIMS 14
#define CMC_MAX_FLAT_PARAMS 16
#define CMC_MAX_FLAT_ASYNC_PARAMS 4
#define CMC_MAX_FLAT_RESULTS 1
#define CMC_MAX_TYPE_DEPTH 100 /* wasmtime profile limit; also bounds recursion */
#define CMC_HARD_DEPTH 1000    /* recursion bound for every profile */
#define CMC_MAX_TYPE_SIZE 1000000u /* effective type size limit (wasm-tools' MAX_TYPE_SIZE) */
#define CMC_SUB_STEPS 10000000ul   /* matching work per check before giving up */

bool cmc_types_init(cmc_types *t);
void cmc_types_free(cmc_types *t);
/* appends a zeroed type; returns CMC_NONE when out of memory */
cmc_tid cmc_type_new(cmc_types *t, cmc_tkind kind);
static inline cmc_type *cmc_T(cmc_types *t, cmc_tid id) { return &t->v[id]; }
/* the resource a (possibly aliased) resource type stands for */
static inline cmc_tid cmc_res_root(const cmc_types *t, cmc_tid id) {
  return id < t->len && t->v[id].kind == CMC_T_RESOURCE && t->v[id].alias_of ? t->v[id].alias_of : id;
}
cmc_tid cmc_prim_tid(uint8_t code); /* CMC_NONE when not a primitive code */
const char *cmc_prim_name(uint8_t code);
bool cmc_is_valtype(const cmc_types *t, cmc_tid id); /* a defined value type */
const char *cmc_type_desc(const cmc_types *t, cmc_tid id);
/* sets has_resource/has_borrow/depth of a freshly built value/func type from its members */
void cmc_type_finish(cmc_types *t, cmc_tid id);

/* resource mappings (substitutions) */
typedef struct cmc_map {
  cmc_tid *from, *to;
  uint32_t len, cap;
  bool types; /* maps (imported) value types too, not only resources */
} cmc_map;
bool cmc_map_add(cmc_map *m, cmc_tid from, cmc_tid to);
cmc_tid cmc_map_get(const cmc_map *m, cmc_tid from); /* from itself when unmapped */
void cmc_map_free(cmc_map *m);

typedef struct cmc_subcx {
  cmc_types *types;
  const cmc_map *amap, *bmap; /* applied to resources of a and b (may be NULL) */
  cmc_error *err;
  unsigned depth;
  unsigned long steps;
} cmc_subcx;

/* Matching: is a a subtype of b? On failure returns false and sets an INVALID error
 * with wasm-tools' wording. */
bool cmc_sub_valtype(cmc_subcx *cx, cmc_tid a, cmc_tid b);
bool cmc_sub_functype(cmc_subcx *cx, cmc_tid a, cmc_tid b);
bool cmc_sub_extern(cmc_subcx *cx, int sort, cmc_tid a, cmc_tid b);
bool cmc_sub_instance(cmc_subcx *cx, cmc_tid a, cmc_tid b);
bool cmc_sub_component(cmc_subcx *cx, cmc_tid a, cmc_tid b);
bool cmc_sub_module(cmc_subcx *cx, cmc_tid a, cmc_tid b);
bool cmc_sub_core_extern(cmc_subcx *cx, const cmc_core_extern *a, const cmc_core_extern *b);
bool cmc_sub_anytype(cmc_subcx *cx, cmc_tid a, cmc_tid b);
bool cmc_core_functype_eq(cmc_types *t, cmc_tid a, cmc_tid b);
void cmc_core_functype_str(cmc_types *t, cmc_tid f, char *buf, size_t n);
bool cmc_core_valtype_eq(cmc_types *t, cmc_core_valtype a, cmc_core_valtype b);
const char *cmc_core_valtype_name(cmc_core_valtype v, char *buf, size_t n);

/* Substitution: a copy of type id with every resource r replaced by map(r). Returns id
 * itself when nothing changes; CMC_NONE when out of memory. */
cmc_tid cmc_subst(cmc_types *t, cmc_arena *a, cmc_tid id, const cmc_map *m);
/* the externs' types substituted in one pass (shared subterms copied once) */
bool cmc_subst_externs(cmc_types *t, cmc_arena *a, cmc_extern *e, uint32_t n, const cmc_map *m);
bool cmc_subst_extern(cmc_types *t, cmc_arena *a, cmc_extern *e, const cmc_map *m);

/* Canonical ABI */
typedef struct cmc_flat {
  uint8_t v[CMC_MAX_FLAT_PARAMS + 2]; /* core valtype codes; only the first entries kept */
  uint32_t len;                       /* saturates well above the limits */
} cmc_flat;
void cmc_flatten_type(cmc_types *t, cmc_tid vt, bool ptr64, cmc_flat *out);
uint64_t cmc_elem_size(cmc_types *t, cmc_tid vt, bool ptr64); /* saturates at 2^40 */
uint32_t cmc_alignment(cmc_types *t, cmc_tid vt, bool ptr64);

#endif
