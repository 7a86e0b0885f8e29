/* The store (spec 4.2.3): owns every runtime object, frees them together. */
#include <stdlib.h>
#include <string.h>

#include "core/exec_internal.h"

/* Everything the store allocated, as a list of blocks to free. */
static bool own(cm_store *s, void *block) {
  if (!block) return false;
  if (s->nowned == s->capowned) {
    size_t cap = s->capowned ? s->capowned * 2 : 64;
    void **grown = realloc(s->owned, cap * sizeof *grown);
    if (!grown) {
      free(block);
      return false;
    }
    s->owned = grown;
    s->capowned = cap;
  }
  s->owned[s->nowned++] = block;
  return true;
}

bool cm_store_own(cm_store *s, void *block) { return own(s, block); }

static void *alloc(cm_store *s, size_t size) {
  void *p = calloc(1, size ? size : 1);
  return own(s, p) ? p : NULL;
}

cm_store *cm_store_new(void) {
  cm_store *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->stack_slots = CM_STACK_SLOTS;
  s->stack = calloc(s->stack_slots, sizeof *s->stack);
  s->frames = calloc(CM_MAX_FRAMES, sizeof *s->frames);
  if (!s->stack || !s->frames) {
    cm_store_free(s);
    return NULL;
  }
  s->sp = s->stack;
  s->fuel = UINT64_MAX;
  s->max_memory = UINT64_MAX;
  return s;
}

void cm_store_free(cm_store *s) {
  if (!s) return;
  for (size_t i = 0; i < s->nmems; i++) cm_mem_release(s->mems[i]);
  for (size_t i = 0; i < s->ntables; i++) free(s->tables[i]->elems);
  for (size_t i = 0; i < s->ncodes; i++) cm_code_free(s->codes[i]);
  free(s->mems);
  free(s->tables);
  free(s->codes);
  for (size_t i = 0; i < s->nowned; i++) free(s->owned[i]);
  free(s->owned);
  for (size_t i = 0; i < s->ntypes; i++) {
    free(s->types[i].params);
    free(s->types[i].results);
  }
  free(s->types);
  free(s->type_slots);
  free(s->stack);
  free(s->frames);
  free(s);
}

static bool functype_eq(const cm_functype *a, const cm_functype *b) {
  return a->nparams == b->nparams && a->nresults == b->nresults &&
         (a->nparams == 0 || memcmp(a->params, b->params, a->nparams) == 0) &&
         (a->nresults == 0 || memcmp(a->results, b->results, a->nresults) == 0);
}

static cm_valtype *dup_types(const cm_valtype *t, uint32_t n) {
  cm_valtype *c = malloc(n ? n : 1);
  if (c && n) memcpy(c, t, n);
  return c;
}

static uint64_t functype_hash(const cm_functype *t) {
  uint64_t h = 1469598103934665603ull ^ t->nparams ^ ((uint64_t)t->nresults << 32);
  for (uint32_t i = 0; i < t->nparams; i++) h = (h ^ t->params[i]) * 1099511628211ull;
  h = (h ^ 0xFF) * 1099511628211ull;
  for (uint32_t i = 0; i < t->nresults; i++) h = (h ^ t->results[i]) * 1099511628211ull;
  return h;
}

/* The slot of t in the hash: its id's slot, or the empty slot where it would go. */
static size_t find_slot(const cm_store *s, const cm_functype *t) {
  size_t mask = s->nslots - 1, i = (size_t)functype_hash(t) & mask;
  while (s->type_slots[i] && !functype_eq(&s->types[s->type_slots[i] - 1], t)) i = (i + 1) & mask;
  return i;
}

static bool rehash(cm_store *s) {
  size_t n = s->nslots ? s->nslots * 2 : 64;
  uint32_t *slots = calloc(n, sizeof *slots);
  if (!slots) return false;
  free(s->type_slots);
  s->type_slots = slots;
  s->nslots = n;
  for (size_t id = 0; id < s->ntypes; id++) s->type_slots[find_slot(s, &s->types[id])] = (uint32_t)id + 1;
  return true;
}

uint32_t cm_store_type_id(cm_store *s, const cm_functype *t) {
  if (2 * (s->ntypes + 1) >= s->nslots && !rehash(s)) return UINT32_MAX;
  size_t slot = find_slot(s, t);
  if (s->type_slots[slot]) return s->type_slots[slot] - 1;
  if (s->ntypes == s->captypes) {
    size_t cap = s->captypes ? s->captypes * 2 : 32;
    cm_functype *grown = realloc(s->types, cap * sizeof *grown);
    if (!grown) return UINT32_MAX;
    s->types = grown;
    s->captypes = cap;
  }
  cm_functype *c = &s->types[s->ntypes];
  c->nparams = t->nparams;
  c->nresults = t->nresults;
  c->params = dup_types(t->params, t->nparams);
  c->results = dup_types(t->results, t->nresults);
  if (!c->params || !c->results) {
    free(c->params);
    free(c->results);
    return UINT32_MAX;
  }
  s->type_slots[slot] = (uint32_t)s->ntypes + 1;
  return (uint32_t)s->ntypes++;
}

/* A copy owned by the store: its address stays valid (the interned array may move). */
const cm_functype *cm_store_functype(cm_store *s, const cm_valtype *params, uint32_t np,
                                     const cm_valtype *results, uint32_t nr) {
  cm_functype *t = alloc(s, sizeof *t);
  cm_valtype *p = alloc(s, np), *r = alloc(s, nr);
  if (!t || !p || !r) return NULL;
  if (np) memcpy(p, params, np);
  if (nr) memcpy(r, results, nr);
  *t = (cm_functype){np, nr, p, r};
  return cm_store_type_id(s, t) == UINT32_MAX ? NULL : t;
}

cm_funcinst *cm_store_host_func(cm_store *s, const cm_functype *type, cm_host_fn fn, void *env) {
  cm_funcinst *f = alloc(s, sizeof *f);
  if (!f) return NULL;
  f->type = type;
  f->type_id = cm_store_type_id(s, type);
  f->host = fn;
  f->host_env = env;
  return f;
}

static bool push_ptr(void ***arr, size_t *n, size_t *cap, void *p) {
  if (*n == *cap) {
    size_t c = *cap ? *cap * 2 : 16;
    void **g = realloc(*arr, c * sizeof *g);
    if (!g) return false;
    *arr = g;
    *cap = c;
  }
  (*arr)[(*n)++] = p;
  return true;
}

cm_tableinst *cm_store_table(cm_store *s, const cm_tabletype *type, cm_ref init) {
  if (type->limits.min > CM_MAX_TABLE_SIZE) return NULL;
  cm_tableinst *t = alloc(s, sizeof *t);
  if (!t) return NULL;
  t->type = *type;
  t->size = (uint32_t)type->limits.min;
  t->elems = calloc(t->size ? t->size : 1, sizeof *t->elems);
  if (!t->elems || !push_ptr((void ***)&s->tables, &s->ntables, &s->captables, t)) {
    free(t->elems);
    t->elems = NULL;
    return NULL;
  }
  for (uint32_t i = 0; i < t->size; i++) t->elems[i] = init;
  return t;
}

cm_meminst *cm_store_memory(cm_store *s, const cm_memtype *type) {
  if (type->limits.min > CM_MAX_PAGES) return NULL;
  cm_meminst *m = alloc(s, sizeof *m);
  if (!m) return NULL;
  m->type = *type;
  m->size = type->limits.min * CM_PAGE_SIZE;
  if (!cm_mem_alloc(m)) return NULL;
  if (!push_ptr((void ***)&s->mems, &s->nmems, &s->capmems, m)) {
    cm_mem_release(m);
    return NULL;
  }
  return m;
}

cm_globalinst *cm_store_global(cm_store *s, const cm_globaltype *type, cm_value val) {
  cm_globalinst *g = alloc(s, sizeof *g);
  if (!g) return NULL;
  g->type = *type;
  g->val = val;
  return g;
}

cm_taginst *cm_store_tag(cm_store *s, const cm_functype *type) {
  cm_taginst *t = alloc(s, sizeof *t);
  if (!t) return NULL;
  t->type = type;
  t->type_id = cm_store_type_id(s, type);
  return t;
}

cm_exninst *cm_store_exn(cm_store *s, cm_taginst *tag, const cm_value *fields) {
  cm_exninst *e = alloc(s, sizeof *e);
  if (!e) return NULL;
  e->tag = tag;
  e->nfields = tag->type->nparams;
  e->fields = alloc(s, (size_t)e->nfields * sizeof *e->fields);
  if (!e->fields) return NULL;
  if (e->nfields) memcpy(e->fields, fields, e->nfields * sizeof *fields);
  return e;
}

bool cm_store_add_code(cm_store *s, cm_code *c) {
  return push_ptr((void ***)&s->codes, &s->ncodes, &s->capcodes, c);
}

void *cm_store_alloc(cm_store *s, size_t size) { return alloc(s, size); }

cm_exninst *cm_store_last_exception(cm_store *s) { return s->last_exn; }

void cm_store_set_fuel(cm_store *s, uint64_t fuel) {
  s->fuel = fuel;
  s->metered = fuel != UINT64_MAX;
}
uint64_t cm_store_fuel(const cm_store *s) { return s->fuel; }
void cm_store_set_max_memory(cm_store *s, uint64_t bytes) { s->max_memory = bytes; }
