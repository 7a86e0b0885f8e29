/* libFuzzer target: the canonical ABI lifting arbitrary memory contents and arbitrary flat
 * values as arbitrary types (CanonicalABI.md load / lift_flat_values).
 *
 * Input layout: a type program, then the memory contents. The type program is read byte by
 * byte (see build_type): a primitive, or list / fixed list / record / tuple / variant /
 * option / result / flags / enum / map of nested types, depth and member counts bounded.
 * One more byte picks the string encoding and the lift path (spec-only or fast). The rest
 * of the input is copied to the start of a 64 KiB memory; a pointer read from it (aligned
 * as the type requires) is loaded with cma_load_value, and the first 16 little-endian words
 * are lifted as flat i32/i64 values with cma_lift_flat_values. A lifted value is converted
 * to JSON. Traps are fine; crashes and sanitizer reports are findings. Resources are left
 * out (handles need an instance's table: tests/ cover them). Built by tools/fuzz/fuzz.py. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "component/abi.h"
#include "component/types.h"

#define MEM_SIZE 65536

typedef struct reader {
  const uint8_t *p;
  size_t n;
} reader;

static uint8_t byte(reader *r) {
  if (!r->n) return 0;
  r->n--;
  return *r->p++;
}

typedef struct fuzz_cx {
  cmc_types types;
  cma_heap heap; /* field arrays and names */
  uint8_t *data;
  uint64_t size, next;
  cma_meminst mem;
  cma_corefunc realloc;
  cma_options opts;
  cma_store store;
  cma_instance inst;
  cma_task task;
  cm_error err;
  cma_cx cx;
  int ntypes;
} fuzz_cx;

static const uint8_t prims[] = {0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x7a, 0x79,
                                0x78, 0x77, 0x76, 0x75, 0x74, 0x73};

static cmc_tid mk(fuzz_cx *f, cmc_tkind kind, cmc_tid a, cmc_tid b, cmc_field *fs, uint32_t n,
                  uint32_t len) {
  cmc_tid id = cmc_type_new(&f->types, kind);
  if (id == CMC_NONE) return CMC_NONE;
  cmc_type *t = cmc_T(&f->types, id);
  t->a = a;
  t->b = b;
  t->fields = fs;
  t->n = n;
  t->len = len;
  cmc_type_finish(&f->types, id);
  return id;
}

static cmc_tid build_type(fuzz_cx *f, reader *r, int depth);

/* n members (labels f0, f1, ...); cases may have no payload */
static cmc_field *members(fuzz_cx *f, reader *r, int depth, uint32_t n, bool cases, bool named) {
  cmc_field *fs = cma_heap_alloc(&f->heap, (n + 1) * sizeof *fs);
  if (!fs) return NULL;
  for (uint32_t i = 0; i < n; i++) {
    char *name = cma_heap_alloc(&f->heap, 12);
    if (!name) return NULL;
    snprintf(name, 12, "f%u", i);
    fs[i].name = named ? name : NULL;
    fs[i].type = cases && byte(r) % 3 == 0 ? CMC_NONE : build_type(f, r, depth + 1);
  }
  return fs;
}

static cmc_tid build_type(fuzz_cx *f, reader *r, int depth) {
  uint8_t b = byte(r);
  if (depth >= 6 || f->ntypes++ > 64 || b < 0x80) return cmc_prim_tid(prims[b % sizeof prims]);
  uint32_t n = 1 + byte(r) % 6;
  switch (b % 11) {
  case 0: return mk(f, CMC_T_LIST, build_type(f, r, depth + 1), CMC_NONE, NULL, 0, 0);
  case 1: return mk(f, CMC_T_FIXLIST, build_type(f, r, depth + 1), CMC_NONE, NULL, 0, n);
  case 2: return mk(f, CMC_T_RECORD, CMC_NONE, CMC_NONE, members(f, r, depth, n, false, true), n, 0);
  case 3: return mk(f, CMC_T_TUPLE, CMC_NONE, CMC_NONE, members(f, r, depth, n, false, false), n, 0);
  case 4: return mk(f, CMC_T_VARIANT, CMC_NONE, CMC_NONE, members(f, r, depth, n, true, true), n, 0);
  case 5: return mk(f, CMC_T_OPTION, build_type(f, r, depth + 1), CMC_NONE, NULL, 0, 0);
  case 6: {
    cmc_tid ok = byte(r) % 2 ? build_type(f, r, depth + 1) : CMC_NONE;
    cmc_tid er = byte(r) % 2 ? build_type(f, r, depth + 1) : CMC_NONE;
    return mk(f, CMC_T_RESULT, ok, er, NULL, 0, 0);
  }
  case 7: {
    uint32_t k = 1 + byte(r) % 40; /* flags: up to 32 labels (validation's limit) */
    if (k > 32) k = 32;
    return mk(f, CMC_T_FLAGS, CMC_NONE, CMC_NONE, members(f, r, depth, k, true, true), k, 0);
  }
  case 8: {
    uint32_t k = 1 + byte(r) % 255 + (b & 1 ? 256 : 0); /* enums past 256 cases: 2-byte tags */
    cmc_field *fs = cma_heap_alloc(&f->heap, (k + 1) * sizeof *fs);
    for (uint32_t i = 0; fs && i < k; i++) {
      char *name = cma_heap_alloc(&f->heap, 12);
      if (!name) return CMC_NONE;
      snprintf(name, 12, "f%u", i);
      fs[i] = (cmc_field){name, CMC_NONE};
    }
    return fs ? mk(f, CMC_T_ENUM, CMC_NONE, CMC_NONE, fs, k, 0) : CMC_NONE;
  }
  case 9: {
    cmc_tid k = build_type(f, r, depth + 1);
    return mk(f, CMC_T_MAP, k, build_type(f, r, depth + 1), NULL, 0, 0);
  }
  default: return cmc_prim_tid(CMC_STRING);
  }
}

/* flags members carry no type: clear what members() put there */
static bool fix_flags(fuzz_cx *f) {
  for (uint32_t i = 0; i < f->types.len; i++) {
    cmc_type *t = &f->types.v[i];
    if (t->kind == CMC_T_FLAGS && t->fields)
      for (uint32_t k = 0; k < t->n; k++) t->fields[k].type = CMC_NONE;
    if ((t->kind == CMC_T_RECORD || t->kind == CMC_T_TUPLE || t->kind == CMC_T_VARIANT ||
         t->kind == CMC_T_FLAGS) && !t->fields)
      return false;
  }
  return true;
}

static bool bump_realloc(void *env, const cm_value *args, uint32_t nargs, cm_value *results,
                         uint32_t nresults, cm_error *err) {
  fuzz_cx *f = env;
  (void)err;
  if (nargs != 4 || nresults != 1) return false;
  uint64_t align = args[2].i32 ? args[2].i32 : 1, size = args[3].i32;
  uint64_t p = (f->next + align - 1) / align * align;
  if (p + size <= f->size) f->next = p + size;
  memset(results, 0, sizeof *results);
  results[0].i32 = (uint32_t)p;
  return true;
}

static bool fuzz_cx_init(fuzz_cx *f, cma_enc enc, bool spec_only) {
  memset(f, 0, sizeof *f);
  if (!cmc_types_init(&f->types)) return false;
  f->size = MEM_SIZE;
  f->data = calloc(1, MEM_SIZE);
  f->next = MEM_SIZE / 2;
  f->mem = (cma_meminst){&f->data, &f->size, false};
  f->realloc = (cma_corefunc){bump_realloc, f};
  f->opts = (cma_options){.string_encoding = enc, .memory = &f->mem, .realloc = &f->realloc};
  cma_instance_init(&f->inst, &f->store, NULL);
  f->inst.types = &f->types;
  f->task.state = CMA_TASK_STARTED;
  f->cx = (cma_cx){.opts = &f->opts, .inst = &f->inst, .scope_kind = CMA_SCOPE_TASK,
                   .borrow_scope = &f->task, .types = &f->types, .heap = &f->heap,
                   .spec_only = spec_only, .err = &f->err};
  return f->data != NULL;
}

static void fuzz_cx_free(fuzz_cx *f) {
  cma_heap_free(&f->heap);
  cma_instance_free(&f->inst);
  free(f->data);
  cmc_types_free(&f->types);
}

static void to_json(fuzz_cx *f, cmc_tid t, const cma_val *v) {
  json_t *j = cma_val_to_json(&f->types, t, v);
  char *text = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
  free(text);
  json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  reader r = {data, size};
  uint8_t mode = byte(&r);
  fuzz_cx f;
  if (!fuzz_cx_init(&f, (cma_enc)(mode % 3), mode & 4)) {
    fuzz_cx_free(&f);
    return 0;
  }
  f.cx.host = mode & 8;
  cmc_tid t = build_type(&f, &r, 0);
  if (t == CMC_NONE || !fix_flags(&f)) {
    fuzz_cx_free(&f);
    return 0;
  }
  memcpy(f.data, r.p, r.n < MEM_SIZE ? r.n : MEM_SIZE);
  /* load at an aligned pointer taken from the memory's first word */
  uint32_t align = cmc_alignment(&f.types, t, false);
  uint32_t word;
  memcpy(&word, f.data, 4);
  uint64_t ptr = (uint64_t)(word % MEM_SIZE) / (align ? align : 1) * (align ? align : 1);
  cma_val v;
  memset(&v, 0, sizeof v);
  if (cma_load_value(&f.cx, ptr, t, &v)) to_json(&f, t, &v);
  memset(&f.err, 0, sizeof f.err);
  /* lift_flat_values of the first 16 words, as the core types of t's flattening */
  cm_value flat[CMA_MAX_FLAT_PARAMS];
  memset(flat, 0, sizeof flat);
  for (int i = 0; i < CMA_MAX_FLAT_PARAMS; i++) memcpy(&flat[i].i64, f.data + 8 * i, 8);
  cmc_field param = {"p", t};
  cma_vals out = {0};
  if (cma_lift_flat_values(&f.cx, CMA_MAX_FLAT_PARAMS, flat, CMA_MAX_FLAT_PARAMS, &param, 1, &out) &&
      out.n == 1)
    to_json(&f, t, &out.v[0]);
  fuzz_cx_free(&f);
  return 0;
}
