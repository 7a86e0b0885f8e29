/* Unit tests of the synchronous canonical ABI (interp/component/canonical.c, resources.c,
 * abi_value.c): store/load round trips of every type over a byte-array memory, the string
 * transcodings with the spec's allocation rules, flat lifting/lowering with spilling, traps
 * with wasmtime's wording, canon lower -> canon lift between two instances, resources, and
 * the fast paths against the spec path byte for byte. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "component/abi.h"
#include "component/resources.h"
#include "component/types.h"

#include "check.h"

/* ---- a memory and a bump realloc over it ---- */

#define MEM_SIZE 65536

typedef struct memory {
  uint8_t *data;
  uint64_t size;
  cma_meminst inst;
  uint64_t next;      /* bump pointer */
  int calls;          /* realloc calls */
  uint64_t log[16][4];
  bool misalign;      /* return a misaligned pointer */
  bool beyond;        /* return a pointer at the end of memory */
  uint64_t scribble;  /* realloc overwrites 8 bytes here (0: no) */
} memory;

static bool bump_realloc(void *env, const cm_value *args, uint32_t nargs, cm_value *results,
                         uint32_t nresults, cm_error *err) {
  memory *m = env;
  (void)err;
  if (nargs != 4 || nresults != 1) return false;
  uint64_t old = args[0].i32, old_size = args[1].i32, align = args[2].i32, size = args[3].i32;
  if (m->calls < 16) {
    m->log[m->calls][0] = old;
    m->log[m->calls][1] = old_size;
    m->log[m->calls][2] = align;
    m->log[m->calls][3] = size;
  }
  m->calls++;
  if (m->scribble) memset(m->data + m->scribble, 'X', 8);
  uint64_t p = (m->next + align - 1) / align * align;
  if (m->misalign) p += 1;
  if (m->beyond) p = m->size - align;
  if (!m->beyond && p + size <= m->size) {
    if (old) memmove(m->data + p, m->data + old, old_size < size ? old_size : size);
    m->next = p + size;
  }
  memset(results, 0, sizeof *results);
  results[0].i32 = (uint32_t)p;
  return true;
}

static void memory_init(memory *m, uint64_t size) {
  memset(m, 0, sizeof *m);
  m->data = calloc(1, size);
  m->size = size;
  m->inst = (cma_meminst){&m->data, &m->size, false};
  m->next = 1024; /* allocations stay clear of the fixed addresses the tests use */
}

/* ---- a context ---- */

typedef struct fixture {
  cmc_types types;
  memory mem;
  cma_corefunc realloc;
  cma_options opts;
  cma_store store;
  cma_instance inst;
  cma_heap heap;
  cm_error err;
  cma_task task;
  cma_subtask subtask;
  cma_cx cx;
} fixture;

static void fixture_init(fixture *f, cma_enc enc) {
  memset(f, 0, sizeof *f);
  cmc_types_init(&f->types);
  memory_init(&f->mem, MEM_SIZE);
  f->realloc = (cma_corefunc){bump_realloc, &f->mem};
  f->opts = (cma_options){.string_encoding = enc, .memory = &f->mem.inst, .realloc = &f->realloc};
  cma_instance_init(&f->inst, &f->store, NULL);
  f->inst.types = &f->types;
  f->task.state = CMA_TASK_STARTED;
  f->cx = (cma_cx){.opts = &f->opts, .inst = &f->inst, .scope_kind = CMA_SCOPE_TASK,
                   .borrow_scope = &f->task, .types = &f->types, .heap = &f->heap, .err = &f->err};
}

static void fixture_free(fixture *f) {
  cma_heap_free(&f->heap);
  cma_instance_free(&f->inst);
  free(f->mem.data);
  cmc_types_free(&f->types);
}

static cmc_tid prim(uint8_t code) { return cmc_prim_tid(code); }

static cmc_tid mk(cmc_types *t, cmc_tkind kind, cmc_tid a, cmc_tid b, const cmc_field *fields,
                  uint32_t n, uint32_t len) {
  cmc_tid id = cmc_type_new(t, kind);
  t->v[id].a = a;
  t->v[id].b = b;
  t->v[id].fields = (cmc_field *)fields;
  t->v[id].n = n;
  t->v[id].len = len;
  cmc_type_finish(t, id);
  return id;
}

static bool trapped(fixture *f, const char *msg) {
  bool ok = f->err.kind == CMREF_TRAP && strstr(f->err.message, msg) != NULL;
  if (!ok) fprintf(stderr, "  expected trap `%s`, got kind %d `%s`\n", msg, f->err.kind, f->err.message);
  memset(&f->err, 0, sizeof f->err);
  return ok;
}

/* ---- numbers ---- */

static void test_numbers(void) {
  fixture f;
  fixture_init(&f, CMA_UTF8);
  cma_val v, w;
  struct { uint8_t code; uint64_t in, out; uint32_t size; } cases[] = {
      {CMC_BOOL, 1, 1, 1},         {CMC_U8, 0xff, 0xff, 1},
      {CMC_S8, (uint64_t)-2, (uint64_t)-2, 1}, {CMC_U16, 0xfffe, 0xfffe, 2},
      {CMC_S16, (uint64_t)-300, (uint64_t)-300, 2}, {CMC_U32, 0xdeadbeef, 0xdeadbeef, 4},
      {CMC_S32, (uint64_t)-5, (uint64_t)-5, 4}, {CMC_U64, UINT64_MAX - 1, UINT64_MAX - 1, 8},
      {CMC_S64, (uint64_t)INT64_MIN, (uint64_t)INT64_MIN, 8}, {CMC_CHAR, 0x1F600, 0x1F600, 4},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    memset(&v, 0, sizeof v);
    v.u.i = cases[i].in;
    CHECK(cma_store_value(&f.cx, &v, prim(cases[i].code), 64));
    CHECK(cma_load_value(&f.cx, 64, prim(cases[i].code), &w));
    CHECK(w.u.i == cases[i].out);
  }
  /* s8 -2 is the byte 0xfe; s16 -300 the bytes d4 fe */
  v.u.i = (uint64_t)-300;
  cma_store_value(&f.cx, &v, prim(CMC_S16), 64);
  CHECK(f.mem.data[64] == 0xd4 && f.mem.data[65] == 0xfe);
  /* bool: any non-zero byte loads as true */
  f.mem.data[64] = 7;
  CHECK(cma_load_value(&f.cx, 64, prim(CMC_BOOL), &w) && w.u.i == 1);
  /* NaN canonicalisation: loads of any NaN give the canonical NaN; other bits unchanged */
  uint8_t nan32[4] = {0x01, 0x00, 0x80, 0xff}; /* 0xff800001: a signalling NaN */
  memcpy(f.mem.data + 64, nan32, 4);
  CHECK(cma_load_value(&f.cx, 64, prim(CMC_F32), &w) && w.u.f32 == 0x7fc00000);
  v.u.f32 = 0x3f800000; /* 1.0 */
  CHECK(cma_store_value(&f.cx, &v, prim(CMC_F32), 64) && cma_load_value(&f.cx, 64, prim(CMC_F32), &w));
  CHECK(w.u.f32 == 0x3f800000);
  v.u.f64 = UINT64_C(0xfff0000000000001);
  CHECK(cma_store_value(&f.cx, &v, prim(CMC_F64), 64));
  CHECK(f.mem.data[70] == 0xf8 && f.mem.data[71] == 0x7f); /* stored as the canonical NaN */
  CHECK(cma_load_value(&f.cx, 64, prim(CMC_F64), &w) && w.u.f64 == UINT64_C(0x7ff8000000000000));
  v.u.f64 = UINT64_C(0x8000000000000000); /* -0.0 survives */
  CHECK(cma_store_value(&f.cx, &v, prim(CMC_F64), 64) && cma_load_value(&f.cx, 64, prim(CMC_F64), &w));
  CHECK(w.u.f64 == UINT64_C(0x8000000000000000));
  /* char validation */
  uint32_t bad_chars[] = {0xD800, 0xDFFF, 0x110000, 0xFFFFFFFF};
  for (size_t i = 0; i < 4; i++) {
    memcpy(f.mem.data + 64, &bad_chars[i], 4);
    CHECK(!cma_load_value(&f.cx, 64, prim(CMC_CHAR), &w));
    CHECK(trapped(&f, "invalid `char` bit pattern"));
  }
  f.cx.host = true;
  CHECK(!cma_load_value(&f.cx, 64, prim(CMC_CHAR), &w));
  CHECK(trapped(&f, "out of range for `char`"));
  fixture_free(&f);
}

/* ---- aggregates ---- */

static void test_aggregates(void) {
  fixture f;
  fixture_init(&f, CMA_UTF8);
  cmc_types *t = &f.types;
  /* record { a: u8, b: u64, c: u16 }: offsets 0, 8, 16; size 24, alignment 8 */
  cmc_field rf[3] = {{"a", prim(CMC_U8)}, {"b", prim(CMC_U64)}, {"c", prim(CMC_U16)}};
  cmc_tid rec = mk(t, CMC_T_RECORD, CMC_NONE, CMC_NONE, rf, 3, 0);
  CHECK(t->v[rec].size[0] == 24 && t->v[rec].align[0] == 8);
  cma_val fields[3], v = {.u.agg = {.v = fields, .n = 3}}, w;
  memset(fields, 0, sizeof fields);
  fields[0].u.i = 0x11;
  fields[1].u.i = UINT64_C(0x2233445566778899);
  fields[2].u.i = 0xaabb;
  CHECK(cma_store_value(&f.cx, &v, rec, 64));
  CHECK(f.mem.data[64] == 0x11 && f.mem.data[72] == 0x99 && f.mem.data[79] == 0x22);
  CHECK(f.mem.data[80] == 0xbb && f.mem.data[81] == 0xaa);
  CHECK(cma_load_value(&f.cx, 64, rec, &w));
  CHECK(w.u.agg.n == 3 && w.u.agg.v[0].u.i == 0x11 && w.u.agg.v[1].u.i == UINT64_C(0x2233445566778899) &&
        w.u.agg.v[2].u.i == 0xaabb);

  /* tuple<u8, string> with a string: pointer pair at offset 4 */
  cmc_field tf[2] = {{NULL, prim(CMC_U8)}, {NULL, prim(CMC_STRING)}};
  cmc_tid tup = mk(t, CMC_T_TUPLE, CMC_NONE, CMC_NONE, tf, 2, 0);
  CHECK(t->v[tup].size[0] == 12 && t->v[tup].align[0] == 4);

  /* variant { a(u8), b, c(f64) }: discriminant u8, payload at 8, size 16 */
  cmc_field vf[3] = {{"a", prim(CMC_U8)}, {"b", CMC_NONE}, {"c", prim(CMC_F64)}};
  cmc_tid var = mk(t, CMC_T_VARIANT, CMC_NONE, CMC_NONE, vf, 3, 0);
  CHECK(t->v[var].size[0] == 16 && t->v[var].align[0] == 8);
  cma_val payload = {.u.f64 = UINT64_C(0x4000000000000000)};
  v = (cma_val){.u.var = {2, &payload}};
  CHECK(cma_store_value(&f.cx, &v, var, 64));
  CHECK(f.mem.data[64] == 2 && f.mem.data[79] == 0x40);
  CHECK(cma_load_value(&f.cx, 64, var, &w) && w.u.var.index == 2 && w.u.var.payload->u.f64 == payload.u.f64);
  v = (cma_val){.u.var = {1, NULL}};
  CHECK(cma_store_value(&f.cx, &v, var, 64) && cma_load_value(&f.cx, 64, var, &w));
  CHECK(w.u.var.index == 1 && w.u.var.payload == NULL);
  f.mem.data[64] = 3;
  CHECK(!cma_load_value(&f.cx, 64, var, &w) && trapped(&f, "invalid variant discriminant"));
  f.cx.host = true;
  f.mem.data[64] = 3;
  CHECK(!cma_load_value(&f.cx, 64, var, &w) && trapped(&f, "discriminant 3 out of range [0..3)"));
  f.cx.host = false;

  /* enum with 300 cases: a u16 discriminant */
  static cmc_field many[300];
  for (int i = 0; i < 300; i++) many[i] = (cmc_field){"x", CMC_NONE};
  cmc_tid en = mk(t, CMC_T_ENUM, CMC_NONE, CMC_NONE, many, 300, 0);
  CHECK(t->v[en].size[0] == 2);
  v = (cma_val){.u.var = {299, NULL}};
  CHECK(cma_store_value(&f.cx, &v, en, 64) && f.mem.data[64] == 0x2b && f.mem.data[65] == 1);
  CHECK(cma_load_value(&f.cx, 64, en, &w) && w.u.var.index == 299);

  /* option<u32>, result<string, u8> */
  cmc_tid opt = mk(t, CMC_T_OPTION, prim(CMC_U32), CMC_NONE, NULL, 0, 0);
  CHECK(t->v[opt].size[0] == 8);
  cma_val seven = {.u.i = 7};
  v = (cma_val){.u.var = {1, &seven}};
  CHECK(cma_store_value(&f.cx, &v, opt, 64) && f.mem.data[64] == 1 && f.mem.data[68] == 7);
  CHECK(cma_load_value(&f.cx, 64, opt, &w) && w.u.var.index == 1 && w.u.var.payload->u.i == 7);
  cmc_tid res = mk(t, CMC_T_RESULT, prim(CMC_STRING), prim(CMC_U8), NULL, 0, 0);
  CHECK(t->v[res].size[0] == 12);
  cma_val e = {.u.i = 9};
  v = (cma_val){.u.var = {1, &e}};
  CHECK(cma_store_value(&f.cx, &v, res, 64) && cma_load_value(&f.cx, 64, res, &w));
  CHECK(w.u.var.index == 1 && w.u.var.payload->u.i == 9);

  /* flags: 3 labels in one byte; 17 labels in 4 bytes; bits beyond the labels dropped */
  cmc_field fl[17];
  for (int i = 0; i < 17; i++) fl[i] = (cmc_field){"f", CMC_NONE};
  cmc_tid fl3 = mk(t, CMC_T_FLAGS, CMC_NONE, CMC_NONE, fl, 3, 0);
  cmc_tid fl17 = mk(t, CMC_T_FLAGS, CMC_NONE, CMC_NONE, fl, 17, 0);
  CHECK(t->v[fl3].size[0] == 1 && t->v[fl17].size[0] == 4);
  f.mem.data[64] = 0xff;
  CHECK(cma_load_value(&f.cx, 64, fl3, &w) && w.u.flags == 7);
  v = (cma_val){.u.flags = 0x10001};
  CHECK(cma_store_value(&f.cx, &v, fl17, 64) && f.mem.data[64] == 1 && f.mem.data[66] == 1);

  /* fixed-length list<u16, 3>: inline, no allocation */
  cmc_tid fix = mk(t, CMC_T_FIXLIST, prim(CMC_U16), CMC_NONE, NULL, 0, 3);
  CHECK(t->v[fix].size[0] == 6 && t->v[fix].align[0] == 2);
  cma_val el[3] = {{.u.i = 1}, {.u.i = 2}, {.u.i = 0xffff}};
  v = (cma_val){.u.agg = {.v = el, .n = 3}};
  int calls = f.mem.calls;
  CHECK(cma_store_value(&f.cx, &v, fix, 64) && f.mem.calls == calls);
  CHECK(f.mem.data[68] == 0xff && f.mem.data[69] == 0xff && f.mem.data[66] == 2);
  CHECK(cma_load_value(&f.cx, 64, fix, &w) && w.u.agg.n == 3);

  /* list<record>: allocated with the element alignment, elements at elem_size strides */
  cmc_tid lrec = mk(t, CMC_T_LIST, rec, CMC_NONE, NULL, 0, 0);
  cma_val recs[2];
  cma_val f0[3] = {{.u.i = 1}, {.u.i = 2}, {.u.i = 3}}, f1[3] = {{.u.i = 4}, {.u.i = 5}, {.u.i = 6}};
  recs[0] = (cma_val){.u.agg = {.v = f0, .n = 3}};
  recs[1] = (cma_val){.u.agg = {.v = f1, .n = 3}};
  v = (cma_val){.u.agg = {.v = recs, .n = 2}};
  calls = f.mem.calls;
  CHECK(cma_store_value(&f.cx, &v, lrec, 64));
  CHECK(f.mem.calls == calls + 1 && f.mem.log[calls][2] == 8 && f.mem.log[calls][3] == 48);
  uint32_t ptr = f.mem.data[64] | f.mem.data[65] << 8 | f.mem.data[66] << 16;
  CHECK(ptr % 8 == 0 && f.mem.data[68] == 2);
  CHECK(f.mem.data[ptr + 24] == 4 && f.mem.data[ptr + 40] == 6);
  CHECK(cma_load_value(&f.cx, 64, lrec, &w) && w.u.agg.n == 2 && w.u.agg.v[1].u.agg.v[2].u.i == 6);
  /* list traps: misaligned, out of bounds, too long */
  f.mem.data[64] = (uint8_t)(ptr + 4);
  CHECK(!cma_load_value(&f.cx, 64, lrec, &w) && trapped(&f, "unaligned pointer"));
  uint32_t huge[2] = {8, 0x10000};
  memcpy(f.mem.data + 64, huge, 8);
  CHECK(!cma_load_value(&f.cx, 64, lrec, &w) && trapped(&f, "list content out-of-bounds"));
  f.cx.host = true;
  CHECK(!cma_load_value(&f.cx, 64, lrec, &w) && trapped(&f, "list pointer/length out of bounds of memory"));
  f.cx.host = false;

  /* map<u8, u64> = list<tuple<u8, u64>>: 16-byte elements aligned to 8 */
  cmc_tid map = mk(t, CMC_T_MAP, prim(CMC_U8), prim(CMC_U64), NULL, 0, 0);
  cma_val k0[2] = {{.u.i = 1}, {.u.i = UINT64_C(0x1122334455667788)}}, k1[2] = {{.u.i = 2}, {.u.i = 3}};
  cma_val pairs[2] = {{.u.agg = {.v = k0, .n = 2}}, {.u.agg = {.v = k1, .n = 2}}};
  v = (cma_val){.u.agg = {.v = pairs, .n = 2}};
  calls = f.mem.calls;
  CHECK(cma_store_value(&f.cx, &v, map, 64));
  CHECK(f.mem.calls == calls + 1 && f.mem.log[calls][2] == 8 && f.mem.log[calls][3] == 32);
  ptr = f.mem.data[64] | f.mem.data[65] << 8;
  CHECK(f.mem.data[ptr] == 1 && f.mem.data[ptr + 8] == 0x88 && f.mem.data[ptr + 16] == 2 && f.mem.data[ptr + 24] == 3);
  CHECK(cma_load_value(&f.cx, 64, map, &w) && w.u.agg.n == 2 && w.u.agg.v[1].u.agg.v[0].u.i == 2 &&
        w.u.agg.v[0].u.agg.v[1].u.i == UINT64_C(0x1122334455667788));

  /* realloc results: misaligned, beyond the end */
  v = (cma_val){.u.agg = {.v = recs, .n = 2}};
  f.mem.misalign = true;
  CHECK(!cma_store_value(&f.cx, &v, lrec, 64) && trapped(&f, "unaligned pointer"));
  f.cx.host = true;
  CHECK(!cma_store_value(&f.cx, &v, lrec, 64) && trapped(&f, "realloc return: result not aligned"));
  f.mem.misalign = false;
  f.mem.beyond = true;
  CHECK(!cma_store_value(&f.cx, &v, lrec, 64) && trapped(&f, "realloc return: beyond end of memory"));
  f.cx.host = false;
  CHECK(!cma_store_value(&f.cx, &v, lrec, 64) && trapped(&f, "list content out-of-bounds"));
  fixture_free(&f);
}

/* ---- strings ---- */

typedef struct str_case {
  cma_enc src_enc;
  const char *src;      /* bytes in src_enc */
  uint64_t src_nbytes;
  uint64_t src_tagged;  /* tagged code units */
  cma_enc dst_enc;
  const char *want;     /* bytes in memory after the store */
  uint64_t want_nbytes;
  uint64_t want_tagged;
  int reallocs;         /* realloc calls the spec makes */
} str_case;

#define TAG (UINT64_C(1) << 31)

static const str_case str_cases[] = {
    /* utf8 -> utf8: one allocation of the byte length */
    {CMA_UTF8, "h\xc3\xa9", 3, 3, CMA_UTF8, "h\xc3\xa9", 3, 3, 1},
    /* utf8 -> utf16: worst case 2*3 bytes, shrunk to 4 */
    {CMA_UTF8, "h\xc3\xa9", 3, 3, CMA_UTF16, "h\0\xe9\0", 4, 2, 2},
    /* utf8 -> utf16, astral: 4 bytes -> surrogate pair, no shrink (worst case 8 = 2*4) */
    {CMA_UTF8, "\xf0\x9f\x98\x80", 4, 4, CMA_UTF16, "\x3d\xd8\x00\xde", 4, 2, 2},
    /* utf16 -> utf8: ASCII stays in the first allocation */
    {CMA_UTF16, "a\0b\0", 4, 2, CMA_UTF8, "ab", 2, 2, 1},
    /* utf16 -> utf8 non-ASCII: grow to 3*units, then shrink to the encoded length */
    {CMA_UTF16, "a\0\xe9\0", 4, 2, CMA_UTF8, "a\xc3\xa9", 3, 3, 3},
    /* latin1+utf16 (latin1) -> utf8: worst case 2*units */
    {CMA_LATIN1_UTF16, "\xe9z", 2, 2, CMA_UTF8, "\xc3\xa9z", 3, 3, 3},
    /* latin1 -> utf16: a copy widening each byte */
    {CMA_LATIN1_UTF16, "\xe9z", 2, 2, CMA_UTF16, "\xe9\0z\0", 4, 2, 1},
    /* utf8 -> latin1+utf16, all latin1: shrink from 3 code units to 2 bytes */
    {CMA_UTF8, "\xc3\xa9z", 3, 3, CMA_LATIN1_UTF16, "\xe9z", 2, 2, 2},
    /* utf8 -> latin1+utf16 with a wide char: inflate to utf16, tagged */
    {CMA_UTF8, "a\xe2\x82\xac", 4, 4, CMA_LATIN1_UTF16, "a\0\xac\x20", 4, 2 | TAG, 3},
    /* utf16 -> latin1+utf16, latin1 only: same size, no shrink */
    {CMA_UTF16, "a\0\xe9\0", 4, 2, CMA_LATIN1_UTF16, "a\xe9", 2, 2, 1},
    /* latin1+utf16 (utf16, all latin1) -> latin1+utf16: compressed to latin1 */
    {CMA_LATIN1_UTF16, "a\0b\0", 4, 2 | TAG, CMA_LATIN1_UTF16, "ab", 2, 2, 2},
    /* latin1+utf16 (utf16 with wide) -> latin1+utf16: stays utf16 */
    {CMA_LATIN1_UTF16, "\xac\x20", 2, 1 | TAG, CMA_LATIN1_UTF16, "\xac\x20", 2, 1 | TAG, 1},
    /* latin1 -> latin1+utf16: a copy, alignment 2 */
    {CMA_LATIN1_UTF16, "\xffq", 2, 2, CMA_LATIN1_UTF16, "\xffq", 2, 2, 1},
    /* utf16 -> utf16 */
    {CMA_UTF16, "\x3d\xd8\x00\xde", 4, 2, CMA_UTF16, "\x3d\xd8\x00\xde", 4, 2, 1},
    /* empty */
    {CMA_UTF8, "", 0, 0, CMA_UTF16, "", 0, 0, 1},
};

static void test_strings_case(const str_case *c, bool spec_only) {
  fixture f;
  fixture_init(&f, c->dst_enc);
  f.cx.spec_only = spec_only;
  cma_string s = {(const uint8_t *)c->src, c->src_nbytes, c->src_enc, c->src_tagged, NULL, 0};
  uint64_t ptr = 0, tagged = 0;
  bool ok = cma_store_string_into_range(&f.cx, &s, &ptr, &tagged);
  CHECK(ok);
  if (!ok) fprintf(stderr, "  %s\n", f.err.message);
  bool good = tagged == c->want_tagged && memcmp(f.mem.data + ptr, c->want, c->want_nbytes) == 0 &&
              f.mem.calls == c->reallocs;
  if (!good)
    fprintf(stderr, "  string case %d->%d `%s`: tagged %llx (want %llx), reallocs %d (want %d)\n",
            c->src_enc, c->dst_enc, c->src, (unsigned long long)tagged,
            (unsigned long long)c->want_tagged, f.mem.calls, c->reallocs);
  CHECK(good);
  if (c->dst_enc != CMA_UTF8) CHECK(ptr % 2 == 0);
  /* and back: load gives the same bytes and the destination encoding */
  cma_string back;
  CHECK(cma_load_string_from_range(&f.cx, ptr, tagged, &back));
  CHECK(back.nbytes == c->want_nbytes && memcmp(cma_string_bytes(&back), c->want, c->want_nbytes) == 0);
  CHECK(back.encoding == c->dst_enc && back.tagged_code_units == tagged);
  fixture_free(&f);
}

static void test_strings(void) {
  for (size_t i = 0; i < sizeof str_cases / sizeof str_cases[0]; i++) {
    test_strings_case(&str_cases[i], false);
    test_strings_case(&str_cases[i], true);
  }
  fixture f;
  fixture_init(&f, CMA_UTF8);
  cma_string s;
  /* invalid UTF-8: fused and host wording (Rust's Utf8Error) */
  memcpy(f.mem.data + 100, "ab\xff", 3);
  CHECK(!cma_load_string_from_range(&f.cx, 100, 3, &s) && trapped(&f, "invalid utf8 encoding"));
  f.cx.host = true;
  CHECK(!cma_load_string_from_range(&f.cx, 100, 3, &s) &&
        trapped(&f, "invalid utf-8 sequence of 1 bytes from index 2"));
  memcpy(f.mem.data + 100, "ab\xe2\x82", 4);
  CHECK(!cma_load_string_from_range(&f.cx, 100, 4, &s) &&
        trapped(&f, "incomplete utf-8 byte sequence from index 2"));
  memcpy(f.mem.data + 100, "\xed\xa0\x80", 3); /* an encoded surrogate is invalid */
  CHECK(!cma_load_string_from_range(&f.cx, 100, 3, &s) && trapped(&f, "invalid utf-8"));
  memcpy(f.mem.data + 100, "\xc0\x80", 2); /* overlong */
  CHECK(!cma_load_string_from_range(&f.cx, 100, 2, &s) && trapped(&f, "invalid utf-8"));
  /* bounds */
  CHECK(!cma_load_string_from_range(&f.cx, MEM_SIZE - 2, 3, &s) &&
        trapped(&f, "string pointer/length out of bounds of memory"));
  f.cx.host = false;
  CHECK(!cma_load_string_from_range(&f.cx, MEM_SIZE - 2, 3, &s) && trapped(&f, "string content out-of-bounds"));
  CHECK(!cma_load_string_from_range(&f.cx, 0, UINT64_C(1) << 28, &s) && trapped(&f, "string content out-of-bounds"));
  CHECK(cma_load_string_from_range(&f.cx, MEM_SIZE - 3, 3, &s) || trapped(&f, "utf"));
  fixture_free(&f);
  /* UTF-16: alignment, unpaired surrogates; latin1+utf16 tag */
  fixture_init(&f, CMA_UTF16);
  CHECK(!cma_load_string_from_range(&f.cx, 101, 1, &s) && trapped(&f, "unaligned pointer"));
  f.cx.host = true;
  CHECK(!cma_load_string_from_range(&f.cx, 101, 1, &s) && trapped(&f, "string pointer not aligned to 2"));
  f.cx.host = false;
  memcpy(f.mem.data + 100, "\x00\xdc", 2);
  CHECK(!cma_load_string_from_range(&f.cx, 100, 1, &s) && trapped(&f, "invalid utf16 encoding"));
  memcpy(f.mem.data + 100, "\x00\xd8" "a\0", 4);
  CHECK(!cma_load_string_from_range(&f.cx, 100, 2, &s) && trapped(&f, "invalid utf16 encoding"));
  CHECK(!cma_load_string_from_range(&f.cx, 0, UINT64_C(1) << 27, &s) && trapped(&f, "string content out-of-bounds"));
  fixture_free(&f);
  fixture_init(&f, CMA_LATIN1_UTF16);
  memcpy(f.mem.data + 100, "\xac\x20", 2);
  CHECK(cma_load_string_from_range(&f.cx, 100, 1 | TAG, &s) && s.nbytes == 2);
  CHECK(cma_load_string_from_range(&f.cx, 100, 2, &s) && s.nbytes == 2 && s.tagged_code_units == 2);
  fixture_free(&f);
  /* realloc traps while storing a string */
  fixture_init(&f, CMA_UTF16);
  cma_string src = {(const uint8_t *)"abc", 3, CMA_UTF8, 3, NULL, 0};
  uint64_t p, u;
  f.mem.misalign = true;
  CHECK(!cma_store_string_into_range(&f.cx, &src, &p, &u) && trapped(&f, "unaligned pointer"));
  f.mem.misalign = false;
  f.mem.beyond = true;
  CHECK(!cma_store_string_into_range(&f.cx, &src, &p, &u) && trapped(&f, "string content out-of-bounds"));
  fixture_free(&f);
}

/* ---- fast paths against the spec path ---- */

static void test_fast_paths(void) {
  /* list<u16> and list<s8>: packed copy vs element-wise, identical bytes after a round trip */
  uint8_t codes[] = {CMC_U8, CMC_S8, CMC_U16, CMC_S32, CMC_U64};
  for (size_t k = 0; k < sizeof codes; k++) {
    fixture a, b;
    fixture_init(&a, CMA_UTF8);
    fixture_init(&b, CMA_UTF8);
    b.cx.spec_only = true;
    cmc_tid l = mk(&a.types, CMC_T_LIST, prim(codes[k]), CMC_NONE, NULL, 0, 0);
    mk(&b.types, CMC_T_LIST, prim(codes[k]), CMC_NONE, NULL, 0, 0);
    for (int i = 0; i < 4096; i++) a.mem.data[1024 + i] = b.mem.data[1024 + i] = (uint8_t)(i * 37 + 11);
    uint32_t desc[2] = {1024, 4096 / (uint32_t)a.types.v[prim(codes[k])].size[0]};
    memcpy(a.mem.data + 16, desc, 8);
    memcpy(b.mem.data + 16, desc, 8);
    a.mem.next = b.mem.next = 8192;
    cma_val va, vb;
    CHECK(cma_load_value(&a.cx, 16, l, &va) && cma_list_raw(&va) != NULL);
    CHECK(cma_load_value(&b.cx, 16, l, &vb) && cma_list_raw(&vb) == NULL && vb.u.agg.v != NULL);
    CHECK(cma_store_value(&a.cx, &va, l, 32) && cma_store_value(&b.cx, &vb, l, 32));
    CHECK(memcmp(a.mem.data, b.mem.data, MEM_SIZE) == 0);
    /* the packed value through the spec path stores the same bytes too */
    fixture c;
    fixture_init(&c, CMA_UTF8);
    c.cx.spec_only = true;
    mk(&c.types, CMC_T_LIST, prim(codes[k]), CMC_NONE, NULL, 0, 0);
    memcpy(c.mem.data, a.mem.data, 8192);
    c.mem.next = 8192;
    CHECK(cma_store_value(&c.cx, &va, l, 32));
    CHECK(memcmp(a.mem.data, c.mem.data, MEM_SIZE) == 0);
    fixture_free(&a);
    fixture_free(&b);
    fixture_free(&c);
  }
  /* strings: a long mixed string through every direction, fast and spec paths */
  static char text[3000];
  size_t n = 0;
  while (n + 8 < sizeof text) {
    memcpy(text + n, "abcdefg\xc3\xa9", 9 <= sizeof text - n ? 9 : 0);
    n += 9;
  }
  /* long ASCII runs (the 16- and 8-byte paths) between astral and 3-byte chars */
  static char text2[3000];
  size_t n2 = 0;
  while (n2 + 50 < sizeof text2) {
    for (int i = 0; i < 37; i++) text2[n2++] = (char)('A' + i % 26);
    memcpy(text2 + n2, "\xf0\x9f\x98\x80\xe2\x82\xac", 7);
    n2 += 7;
  }
  cma_enc encs[3] = {CMA_UTF8, CMA_UTF16, CMA_LATIN1_UTF16};
  for (int d = 0; d < 6; d++) {
    const char *t = d < 3 ? text : text2;
    size_t tn = d < 3 ? n : n2;
    fixture a, b;
    fixture_init(&a, encs[d % 3]);
    fixture_init(&b, encs[d % 3]);
    b.cx.spec_only = true;
    cma_string s = {(const uint8_t *)t, tn, CMA_UTF8, tn, NULL, 0};
    uint64_t pa, ua, pb, ub;
    CHECK(cma_store_string_into_range(&a.cx, &s, &pa, &ua));
    CHECK(cma_store_string_into_range(&b.cx, &s, &pb, &ub));
    CHECK(pa == pb && ua == ub && a.mem.calls == b.mem.calls);
    CHECK(memcmp(a.mem.data, b.mem.data, MEM_SIZE) == 0);
    fixture_free(&a);
    fixture_free(&b);
  }
}

/* A value lifted as a view of a memory and lowered into the same memory keeps the bytes it
 * had when lifted, whatever realloc does to the source range (the spec copies at lift). */
static void test_views(void) {
  fixture f;
  fixture_init(&f, CMA_UTF8);
  memcpy(f.mem.data + 100, "hello!!!", 8);
  cma_string s;
  CHECK(cma_load_string_from_range(&f.cx, 100, 8, &s) && s.mem != NULL);
  f.mem.scribble = 100;
  uint64_t p, u;
  CHECK(cma_store_string_into_range(&f.cx, &s, &p, &u) && u == 8);
  CHECK(memcmp(f.mem.data + p, "hello!!!", 8) == 0 && memcmp(f.mem.data + 100, "XXXXXXXX", 8) == 0);
  cmc_tid l = mk(&f.types, CMC_T_LIST, prim(CMC_U8), CMC_NONE, NULL, 0, 0);
  memcpy(f.mem.data + 100, "abcdefgh", 8);
  uint32_t desc[2] = {100, 8};
  memcpy(f.mem.data + 16, desc, 8);
  cma_val v;
  f.mem.scribble = 0;
  CHECK(cma_load_value(&f.cx, 16, l, &v) && v.u.agg.mem != NULL);
  f.mem.scribble = 100;
  CHECK(cma_store_value(&f.cx, &v, l, 24));
  memcpy(desc, f.mem.data + 24, 8);
  CHECK(desc[1] == 8 && memcmp(f.mem.data + desc[0], "abcdefgh", 8) == 0);
  fixture_free(&f);
}

/* ---- flat values ---- */

static void test_flat(void) {
  fixture f;
  fixture_init(&f, CMA_UTF8);
  cmc_types *t = &f.types;
  /* variant { a(f32), b(u64), c(s8) } flattens to i32 (disc), i64: coercions both ways */
  cmc_field vf[3] = {{"a", prim(CMC_F32)}, {"b", prim(CMC_U64)}, {"c", prim(CMC_S8)}};
  cmc_tid var = mk(t, CMC_T_VARIANT, CMC_NONE, CMC_NONE, vf, 3, 0);
  cmc_field ps[1] = {{"x", var}};
  cma_val payload = {.u.f32 = 0x40490fdb}, vals[1] = {{.u.var = {0, &payload}}};
  cma_vals vs = {vals, 1};
  cm_value flat[17];
  uint32_t nflat;
  CHECK(cma_lower_flat_values(&f.cx, 16, &vs, ps, 1, flat, &nflat) && nflat == 2);
  CHECK(flat[0].i32 == 0 && flat[1].i64 == 0x40490fdb);
  cma_vals back;
  CHECK(cma_lift_flat_values(&f.cx, 16, flat, 2, ps, 1, &back));
  CHECK(back.v[0].u.var.index == 0 && back.v[0].u.var.payload->u.f32 == 0x40490fdb);
  /* s8 payload -1 travels as i64 0xffffffff (the i32 zero-extended) and lifts as -1 */
  cma_val m1 = {.u.i = (uint64_t)-1};
  vals[0] = (cma_val){.u.var = {2, &m1}};
  CHECK(cma_lower_flat_values(&f.cx, 16, &vs, ps, 1, flat, &nflat) && flat[1].i64 == 0xffffffff);
  CHECK(cma_lift_flat_values(&f.cx, 16, flat, 2, ps, 1, &back) && back.v[0].u.var.payload->u.i == (uint64_t)-1);
  /* the high bits of an i64 slot are dropped when the case wants an i32 */
  flat[1].i64 = UINT64_C(0x1234567800000005);
  CHECK(cma_lift_flat_values(&f.cx, 16, flat, 2, ps, 1, &back) && back.v[0].u.var.payload->u.i == 5);
  flat[0].i32 = 3;
  CHECK(!cma_lift_flat_values(&f.cx, 16, flat, 2, ps, 1, &back) && trapped(&f, "invalid variant discriminant"));
  /* u8 lifted from an i32 keeps the low 8 bits; s16 sign-extends */
  cmc_field p2[2] = {{"a", prim(CMC_U8)}, {"b", prim(CMC_S16)}};
  flat[0].i32 = 0x1ff;
  flat[1].i32 = 0xffff8000;
  CHECK(cma_lift_flat_values(&f.cx, 16, flat, 2, p2, 2, &back));
  CHECK(back.v[0].u.i == 0xff && back.v[1].u.i == (uint64_t)-32768);
  /* 17 u32 params spill: one pointer to a tuple allocated with realloc (lower) */
  cmc_field p17[17];
  cma_val v17[17];
  for (int i = 0; i < 17; i++) {
    p17[i] = (cmc_field){"p", prim(CMC_U32)};
    v17[i] = (cma_val){.u.i = (uint64_t)i * 3};
  }
  cma_vals vs17 = {v17, 17};
  int calls = f.mem.calls;
  CHECK(cma_lower_flat_values(&f.cx, 16, &vs17, p17, 17, flat, &nflat) && nflat == 1);
  CHECK(f.mem.calls == calls + 1 && f.mem.log[calls][2] == 4 && f.mem.log[calls][3] == 68);
  CHECK(f.mem.data[flat[0].i32 + 64] == 48);
  CHECK(cma_lift_flat_values(&f.cx, 16, flat, 1, p17, 17, &back) && back.n == 17 && back.v[16].u.i == 48);
  flat[0].i32 += 2;
  CHECK(!cma_lift_flat_values(&f.cx, 16, flat, 1, p17, 17, &back) && trapped(&f, "unaligned pointer"));
  flat[0].i32 = MEM_SIZE - 4;
  CHECK(!cma_lift_flat_values(&f.cx, 16, flat, 1, p17, 17, &back) && trapped(&f, "out of bounds"));
  /* a string param is (ptr, len) */
  cmc_field ps1[1] = {{"s", prim(CMC_STRING)}};
  memcpy(f.mem.data + 200, "hey", 3);
  flat[0].i32 = 200;
  flat[1].i32 = 3;
  CHECK(cma_lift_flat_values(&f.cx, 16, flat, 2, ps1, 1, &back) && back.v[0].u.s.nbytes == 3 &&
        memcmp(cma_string_bytes(&back.v[0].u.s), "hey", 3) == 0);
  fixture_free(&f);
}

/* ---- canon lower -> canon lift between two instances ---- */

typedef struct callee_env {
  memory *mem;       /* the callee's memory */
  uint32_t got_ptr, got_len;
  int calls, post_returns;
  uint32_t ret_area;
} callee_env;

/* core callee of type (i32 i32) -> i32: receives a string, returns a pointer to (ptr, len)
 * of a string "<input>!" it builds in its own memory */
static bool core_echo(void *env, const cm_value *args, uint32_t nargs, cm_value *results,
                      uint32_t nresults, cm_error *err) {
  callee_env *c = env;
  (void)err;
  if (nargs != 2 || nresults != 1) return false;
  c->calls++;
  c->got_ptr = args[0].i32;
  c->got_len = args[1].i32;
  uint8_t *m = c->mem->data;
  uint32_t out = 40000;
  memcpy(m + out, m + c->got_ptr, c->got_len);
  m[out + c->got_len] = '!';
  uint32_t desc[2] = {out, c->got_len + 1};
  memcpy(m + c->ret_area, desc, 8);
  memset(results, 0, sizeof *results);
  results[0].i32 = c->ret_area;
  return true;
}

static bool core_post_return(void *env, const cm_value *args, uint32_t nargs, cm_value *results,
                             uint32_t nresults, cm_error *err) {
  callee_env *c = env;
  (void)results;
  (void)err;
  if (nargs != 1 || nresults != 0 || args[0].i32 != c->ret_area) return false;
  c->post_returns++;
  return true;
}

static void test_lower_lift(void) {
  cmc_types types;
  cmc_types_init(&types);
  cmc_field params[1] = {{"s", prim(CMC_STRING)}};
  cmc_tid fid = cmc_type_new(&types, CMC_T_FUNC);
  types.v[fid].fields = params;
  types.v[fid].n = 1;
  types.v[fid].a = prim(CMC_STRING);
  cma_functype ft;
  CHECK(cma_functype_of(&types, fid, &ft) && ft.nparams == 1 && ft.result == prim(CMC_STRING));

  cma_store store = {0};
  cma_instance caller, callee;
  cma_instance_init(&caller, &store, NULL);
  cma_instance_init(&callee, &store, NULL);
  caller.types = callee.types = &types;
  memory cm, em;
  memory_init(&cm, MEM_SIZE);
  memory_init(&em, MEM_SIZE);
  cma_corefunc crealloc = {bump_realloc, &cm}, erealloc = {bump_realloc, &em};
  callee_env env = {.mem = &em, .ret_area = 512};
  cma_corefunc post = {core_post_return, &env};
  cma_options copts = {.string_encoding = CMA_UTF16, .memory = &cm.inst, .realloc = &crealloc};
  cma_options eopts = {.string_encoding = CMA_UTF8, .memory = &em.inst, .realloc = &erealloc,
                       .post_return = &post};
  cma_funcinst f;
  cma_store_lift(&store, &f, (cma_corefunc){core_echo, &env}, &ft, &eopts, &callee);
  /* the caller passes "hé" in UTF-16 and a return pointer */
  memcpy(cm.data + 100, "h\0\xe9\0", 4);
  cm.next = 1000;
  cm_value args[3];
  memset(args, 0, sizeof args);
  args[0].i32 = 100;
  args[1].i32 = 2;
  args[2].i32 = 64;
  cm_error err = {0};
  cma_flat_functype flat;
  CHECK(flatten_functype(&copts, &ft, CMA_LOWER, &flat, &err) && flat.nparams == 3 && flat.nresults == 0);
  CHECK(flatten_functype(&eopts, &ft, CMA_LIFT, &flat, &err) && flat.nparams == 2 && flat.nresults == 1);
  bool ok = cma_store_lower_call(&store, &f, &ft, &copts, &caller, args, 3, NULL, 0, &err);
  CHECK(ok);
  if (!ok) fprintf(stderr, "  %s\n", err.message);
  CHECK(env.calls == 1 && env.post_returns == 1);
  CHECK(env.got_len == 3 && memcmp(em.data + env.got_ptr, "h\xc3\xa9", 3) == 0);
  uint32_t desc[2];
  memcpy(desc, cm.data + 64, 8);
  CHECK(desc[1] == 3 && memcmp(cm.data + desc[0], "h\0\xe9\0!\0", 6) == 0);
  CHECK(caller.may_enter && callee.may_enter && caller.may_leave && callee.may_leave);
  /* may_leave cleared: the lowered call traps */
  caller.may_leave = false;
  CHECK(!cma_store_lower_call(&store, &f, &ft, &copts, &caller, args, 3, NULL, 0, &err));
  CHECK(err.kind == CMREF_TRAP && strstr(err.message, "cannot leave component instance"));
  caller.may_leave = true;
  /* reentrance: the callee instance is already entered */
  callee.may_enter = false;
  CHECK(!cma_store_lower_call(&store, &f, &ft, &copts, &caller, args, 3, NULL, 0, &err));
  CHECK(err.kind == CMREF_TRAP && strstr(err.message, "cannot enter component instance"));
  callee.may_enter = true;
  /* lockdown: a trap in the callee leaves it unenterable */
  env.ret_area = 513; /* the callee returns a misaligned pointer: a trap lifting it */
  CHECK(!cma_store_lower_call(&store, &f, &ft, &copts, &caller, args, 3, NULL, 0, &err));
  CHECK(err.kind == CMREF_TRAP && !callee.may_enter);
  env.ret_area = 512;
  CHECK(!cma_store_lower_call(&store, &f, &ft, &copts, &caller, args, 3, NULL, 0, &err));
  CHECK(err.kind == CMREF_TRAP && strstr(err.message, "cannot enter component instance"));
  callee.may_enter = true;
  /* a child may not call its parent (entering_set excludes the caller's ancestors) */
  cma_instance child;
  cma_instance_init(&child, &store, &callee);
  CHECK(may_enter_from(&callee, &child) && !may_enter_from(&child, NULL) == false);
  enter_from(&child, NULL);
  CHECK(!child.may_enter && !callee.may_enter);
  leave_to(&child, NULL);
  CHECK(child.may_enter && callee.may_enter);
  cma_instance_free(&child);
  cma_instance_free(&caller);
  cma_instance_free(&callee);
  free(cm.data);
  free(em.data);
  cmc_types_free(&types);
}

/* ---- resources ---- */

typedef struct dtor_env {
  int calls;
  uint32_t rep;
} dtor_env;

static bool core_dtor(void *env, const cm_value *args, uint32_t nargs, cm_value *results,
                      uint32_t nresults, cm_error *err) {
  dtor_env *d = env;
  (void)results;
  (void)err;
  if (nargs != 1 || nresults != 0) return false;
  d->calls++;
  d->rep = args[0].i32;
  return true;
}

static cma_resource_type *resolve_one(cma_instance *self, cmc_types *types, cmc_tid r) {
  (void)types;
  (void)r;
  return self->env;
}

static void test_resources(void) {
  fixture f;
  fixture_init(&f, CMA_UTF8);
  dtor_env d = {0};
  cma_resource_type rt = {.impl = &f.inst, .has_dtor = true, .dtor = {core_dtor, &d}};
  cma_resource_type other = {.impl = &f.inst};
  f.inst.resolve_resource = resolve_one;
  f.inst.env = &rt;
  uint32_t h1, h2, rep;
  CHECK(canon_resource_new(&f.inst, &rt, 42, &h1, &f.err) && h1 == 1);
  CHECK(canon_resource_new(&f.inst, &rt, 43, &h2, &f.err) && h2 == 2);
  CHECK(canon_resource_rep(&f.inst, &rt, h2, &rep, &f.err) && rep == 43);
  CHECK(!canon_resource_rep(&f.inst, &other, h2, &rep, &f.err) &&
        trapped(&f, "handle index 2 used with the wrong type"));
  CHECK(!canon_resource_rep(&f.inst, &rt, 7, &rep, &f.err) && trapped(&f, "unknown handle index 7"));
  CHECK(!canon_resource_rep(&f.inst, &rt, 0, &rep, &f.err) && trapped(&f, "unknown handle index 0"));
  /* drop runs the destructor with the rep; the slot is reused */
  CHECK(canon_resource_drop(&f.inst, &rt, h1, &f.err) && d.calls == 1 && d.rep == 42);
  CHECK(!canon_resource_drop(&f.inst, &rt, h1, &f.err) && trapped(&f, "unknown handle index 1"));
  CHECK(canon_resource_new(&f.inst, &rt, 44, &h1, &f.err) && h1 == 1);
  /* own<T> lowered and lifted: a new handle, then removed */
  cmc_tid res = cmc_type_new(&f.types, CMC_T_RESOURCE);
  cmc_tid own = mk(&f.types, CMC_T_OWN, res, CMC_NONE, NULL, 0, 0);
  cmc_tid bor = mk(&f.types, CMC_T_BORROW, res, CMC_NONE, NULL, 0, 0);
  cma_val v = {.u.handle = {77, &rt}}, w;
  CHECK(cma_store_value(&f.cx, &v, own, 64) && f.mem.data[64] == 3);
  CHECK(cma_load_value(&f.cx, 64, own, &w) && w.u.handle.rep == 77);
  CHECK(!cma_load_value(&f.cx, 64, own, &w) && trapped(&f, "unknown handle index 3"));
  /* lending: a borrow lifted in a subtask scope; the own handle cannot move meanwhile */
  f.cx.scope_kind = CMA_SCOPE_SUBTASK;
  f.cx.borrow_scope = &f.subtask;
  f.mem.data[64] = 2;
  CHECK(cma_load_value(&f.cx, 64, bor, &w) && w.u.handle.rep == 43);
  CHECK(!canon_resource_drop(&f.inst, &rt, h2, &f.err) && trapped(&f, "cannot remove owned resource while borrowed"));
  CHECK(!cma_load_value(&f.cx, 64, own, &w) && trapped(&f, "cannot remove owned resource while borrowed"));
  free(f.subtask.lenders); /* deliver_resolve's job in canon_lower */
  /* a borrow lowered into another instance counts in the task; dropping it uncounts */
  cma_instance other_inst;
  cma_instance_init(&other_inst, &f.store, NULL);
  other_inst.resolve_resource = resolve_one;
  other_inst.env = &rt;
  other_inst.types = &f.types;
  f.cx.inst = &other_inst;
  f.cx.scope_kind = CMA_SCOPE_TASK;
  f.cx.borrow_scope = &f.task;
  v.u.handle.rep = 43;
  CHECK(cma_store_value(&f.cx, &v, bor, 64) && f.task.num_borrows == 1);
  uint32_t bh = f.mem.data[64];
  CHECK(canon_resource_drop(&other_inst, &rt, bh, &f.err) && f.task.num_borrows == 0 && d.calls == 1);
  /* in the implementing instance a borrow is the rep itself */
  f.cx.inst = &f.inst;
  CHECK(cma_store_value(&f.cx, &v, bor, 64) && f.mem.data[64] == 43 && f.task.num_borrows == 0);
  /* may_leave guards the built-ins */
  f.inst.may_leave = false;
  CHECK(!canon_resource_new(&f.inst, &rt, 1, &h1, &f.err) && trapped(&f, "cannot leave component instance"));
  f.inst.may_leave = true;
  cma_instance_free(&other_inst);
  fixture_free(&f);
}

/* ---- JSON ---- */

static void test_json(void) {
  fixture f;
  fixture_init(&f, CMA_UTF8);
  cmc_types *t = &f.types;
  cmc_field rf[2] = {{"a", prim(CMC_S8)}, {"b", prim(CMC_STRING)}};
  cmc_tid rec = mk(t, CMC_T_RECORD, CMC_NONE, CMC_NONE, rf, 2, 0);
  cmc_tid opt = mk(t, CMC_T_OPTION, rec, CMC_NONE, NULL, 0, 0);
  cmc_tid lst = mk(t, CMC_T_LIST, opt, CMC_NONE, NULL, 0, 0);
  const char *text =
      "{\"type\":\"list\",\"value\":[{\"type\":\"option\",\"value\":null},"
      "{\"type\":\"option\",\"value\":{\"type\":\"record\",\"value\":"
      "[[\"a\",{\"type\":\"s8\",\"value\":\"-1\"}],[\"b\",{\"type\":\"string\",\"value\":\"x\\u00e9\"}]]}}]}";
  json_error_t je;
  json_t *j = json_loads(text, 0, &je);
  cma_val v;
  CHECK(j && cma_val_from_json(t, lst, j, &f.heap, &v, &f.err));
  CHECK(v.u.agg.n == 2 && v.u.agg.v[0].u.var.index == 0 && v.u.agg.v[1].u.var.index == 1);
  CHECK(v.u.agg.v[1].u.var.payload->u.agg.v[0].u.i == (uint64_t)-1);
  /* through memory and back */
  CHECK(cma_store_value(&f.cx, &v, lst, 64));
  cma_val w;
  CHECK(cma_load_value(&f.cx, 64, lst, &w));
  json_t *out = cma_val_to_json(t, lst, &w);
  CHECK(out && json_equal(out, j));
  json_decref(out);
  json_decref(j);
  /* bad input is an error, not a crash */
  j = json_loads("{\"type\":\"s8\",\"value\":\"200\"}", 0, &je);
  CHECK(!cma_val_from_json(t, prim(CMC_S8), j, &f.heap, &v, &f.err));
  json_decref(j);
  fixture_free(&f);
}

/* `--transcode`: one case per stdin line, `SRC DST TAGGED HEX` (encodings 0 utf8, 1 utf16,
 * 2 latin1+utf16; TAGGED the source's tagged code units; HEX its bytes), answered with
 * `TAGGED HEX REALLOCS` (HEX: the destination bytes; REALLOCS: old,old_size,align,new_size;...)
 * or `trap MESSAGE`. tests/test_canonical_spec.py compares it with definitions.py.
 * `--transcode-spec-path`: the same with the fast paths off. */
static int transcode_mode(bool spec_only) {
  static char line[1 << 16];
  while (fgets(line, sizeof line, stdin)) {
    unsigned src_enc, dst_enc;
    unsigned long long tagged;
    static char hex[1 << 16];
    hex[0] = 0;
    if (sscanf(line, "%u %u %llu %65535s", &src_enc, &dst_enc, &tagged, hex) < 3) return 2;
    if (strcmp(hex, "-") == 0) hex[0] = 0;
    static uint8_t src[1 << 15];
    size_t n = strlen(hex) / 2;
    for (size_t i = 0; i < n; i++) {
      unsigned b;
      sscanf(hex + 2 * i, "%2x", &b);
      src[i] = (uint8_t)b;
    }
    fixture f;
    fixture_init(&f, (cma_enc)dst_enc);
    f.cx.spec_only = spec_only;
    cma_string s = {src, n, (cma_enc)src_enc, tagged, NULL, 0};
    uint64_t ptr, out;
    if (!cma_store_string_into_range(&f.cx, &s, &ptr, &out)) {
      printf("trap %s\n", f.err.message);
    } else {
      uint64_t units = out & ~(UINT64_C(1) << 31);
      uint64_t nbytes = dst_enc == CMA_UTF8 ? units
                        : dst_enc == CMA_UTF16 || (out >> 31) ? 2 * units : units;
      printf("%llu ", (unsigned long long)out);
      for (uint64_t i = 0; i < nbytes; i++) printf("%02x", f.mem.data[ptr + i]);
      if (!nbytes) printf("-");
      printf(" ");
      for (int c = 0; c < f.mem.calls && c < 16; c++)
        printf("%llu,%llu,%llu,%llu;", (unsigned long long)f.mem.log[c][0],
               (unsigned long long)f.mem.log[c][1], (unsigned long long)f.mem.log[c][2],
               (unsigned long long)f.mem.log[c][3]);
      printf("\n");
    }
    fflush(stdout);
    fixture_free(&f);
  }
  return 0;
}

/* `--values`: one case per stdin line, `TYPE JSON`: TYPE a type expression (below), JSON a
 * value of it in the harness schema. The value is stored at 256 (bump realloc from 1024) and
 * loaded back; the answer is `HEX REALLOCS JSON`: memory bytes 0..4096, the realloc calls and
 * the loaded value. tests/test_canonical_spec.py compares it with definitions.py.
 *   t := bool|s8|u8|s16|u16|s32|u32|s64|u64|f32|f64|char|string | list(t) | fix(t,N)
 *      | rec(t,...) | tup(t,...) | var(c,...) | opt(t) | res(c,c) | flags(N) | enum(N)
 *   c := t | _          (labels are f0, f1, ... in order) */
static const char *const label_names[] = {
    "f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9", "f10", "f11", "f12", "f13",
    "f14", "f15", "f16", "f17", "f18", "f19", "f20", "f21", "f22", "f23", "f24", "f25", "f26",
    "f27", "f28", "f29", "f30", "f31"};

static cmc_tid parse_type(fixture *f, const char **p);

static uint32_t parse_members(fixture *f, const char **p, cmc_field **out, bool cases) {
  cmc_field *fs = cma_heap_alloc(&f->heap, 32 * sizeof *fs);
  uint32_t n = 0;
  while (**p && **p != ')' && n < 32) {
    if (**p == ',') (*p)++;
    cmc_tid t = CMC_NONE;
    if (cases && **p == '_') (*p)++;
    else t = parse_type(f, p);
    fs[n] = (cmc_field){label_names[n], t};
    n++;
  }
  if (**p == ')') (*p)++;
  *out = fs;
  return n;
}

static cmc_tid parse_type(fixture *f, const char **p) {
  static const struct { const char *name; uint8_t code; } prims[] = {
      {"bool", CMC_BOOL}, {"s8", CMC_S8}, {"u8", CMC_U8}, {"s16", CMC_S16}, {"u16", CMC_U16},
      {"s32", CMC_S32}, {"u32", CMC_U32}, {"s64", CMC_S64}, {"u64", CMC_U64}, {"f32", CMC_F32},
      {"f64", CMC_F64}, {"char", CMC_CHAR}, {"string", CMC_STRING}};
  char word[16];
  size_t n = 0;
  while ((*p)[n] && !strchr("(,) ", (*p)[n]) && n < sizeof word - 1) n++;
  memcpy(word, *p, n);
  word[n] = 0;
  *p += n;
  for (size_t i = 0; i < sizeof prims / sizeof prims[0]; i++)
    if (strcmp(word, prims[i].name) == 0) return prim(prims[i].code);
  if (**p != '(') return CMC_NONE;
  (*p)++;
  cmc_types *t = &f->types;
  cmc_field *fs = NULL;
  if (strcmp(word, "list") == 0 || strcmp(word, "opt") == 0) {
    cmc_tid e = parse_type(f, p);
    (*p)++; /* ) */
    return mk(t, word[0] == 'l' ? CMC_T_LIST : CMC_T_OPTION, e, CMC_NONE, NULL, 0, 0);
  }
  if (strcmp(word, "fix") == 0) {
    cmc_tid e = parse_type(f, p);
    (*p)++; /* , */
    uint32_t len = (uint32_t)strtoul(*p, (char **)p, 10);
    (*p)++; /* ) */
    return mk(t, CMC_T_FIXLIST, e, CMC_NONE, NULL, 0, len);
  }
  if (strcmp(word, "flags") == 0 || strcmp(word, "enum") == 0) {
    uint32_t len = (uint32_t)strtoul(*p, (char **)p, 10);
    (*p)++;
    fs = cma_heap_alloc(&f->heap, (len + 1) * sizeof *fs);
    for (uint32_t i = 0; i < len; i++) {
      char *name = cma_heap_alloc(&f->heap, 12);
      snprintf(name, 12, "f%u", i);
      fs[i] = (cmc_field){name, CMC_NONE};
    }
    return mk(t, word[0] == 'f' ? CMC_T_FLAGS : CMC_T_ENUM, CMC_NONE, CMC_NONE, fs, len, 0);
  }
  if (strcmp(word, "res") == 0) {
    uint32_t k = parse_members(f, p, &fs, true);
    return mk(t, CMC_T_RESULT, k > 0 ? fs[0].type : CMC_NONE, k > 1 ? fs[1].type : CMC_NONE, NULL, 0, 0);
  }
  bool cases = strcmp(word, "var") == 0;
  uint32_t k = parse_members(f, p, &fs, cases);
  cmc_tkind kind = cases ? CMC_T_VARIANT : strcmp(word, "rec") == 0 ? CMC_T_RECORD : CMC_T_TUPLE;
  if (kind == CMC_T_TUPLE)
    for (uint32_t i = 0; i < k; i++) fs[i].name = NULL;
  return mk(t, kind, CMC_NONE, CMC_NONE, fs, k, 0);
}

static int values_mode(void) {
  static char line[1 << 16];
  while (fgets(line, sizeof line, stdin)) {
    fixture f;
    fixture_init(&f, CMA_UTF8);
    const char *p = line;
    cmc_tid t = parse_type(&f, &p);
    json_error_t je;
    json_t *j = json_loads(p, JSON_DECODE_ANY, &je);
    cma_val v, w;
    if (t == CMC_NONE || !j || !cma_val_from_json(&f.types, t, j, &f.heap, &v, &f.err)) {
      printf("error %s\n", f.err.message);
    } else if (!cma_store_value(&f.cx, &v, t, 256) || !cma_load_value(&f.cx, 256, t, &w)) {
      printf("trap %s\n", f.err.message);
    } else {
      for (int i = 0; i < 4096; i++) printf("%02x", f.mem.data[i]);
      printf(" ");
      for (int c = 0; c < f.mem.calls && c < 16; c++)
        printf("%llu,%llu,%llu,%llu;", (unsigned long long)f.mem.log[c][0],
               (unsigned long long)f.mem.log[c][1], (unsigned long long)f.mem.log[c][2],
               (unsigned long long)f.mem.log[c][3]);
      json_t *back = cma_val_to_json(&f.types, t, &w);
      char *text = back ? json_dumps(back, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
      printf(" %s\n", text ? text : "null");
      free(text);
      json_decref(back);
    }
    json_decref(j);
    fflush(stdout);
    fixture_free(&f);
  }
  return 0;
}

/* `--flat`: like --values, through lower_flat_values / lift_flat_values of one parameter
 * (max 16 flat values, else spilled): the answer is `FLAT HEX REALLOCS JSON`, FLAT the core
 * values as unsigned decimals (floats as their bits) joined by commas. */
static int flat_mode(void) {
  static char line[1 << 16];
  while (fgets(line, sizeof line, stdin)) {
    fixture f;
    fixture_init(&f, CMA_UTF8);
    const char *p = line;
    cmc_tid t = parse_type(&f, &p);
    json_error_t je;
    json_t *j = json_loads(p, JSON_DECODE_ANY, &je);
    cma_val v;
    cmc_field param = {"p", t};
    cm_value flat[CMA_MAX_FLAT_PARAMS + 1];
    uint32_t nflat = 0;
    cma_vals back;
    if (t == CMC_NONE || !j || !cma_val_from_json(&f.types, t, j, &f.heap, &v, &f.err)) {
      printf("error %s\n", f.err.message);
    } else if (!cma_lower_flat_values(&f.cx, CMA_MAX_FLAT_PARAMS, &(cma_vals){&v, 1}, &param, 1, flat,
                                      &nflat)) {
      printf("trap %s\n", f.err.message);
    } else {
      for (uint32_t i = 0; i < nflat; i++) printf("%s%llu", i ? "," : "", (unsigned long long)flat[i].i64);
      printf(" ");
      for (int i = 0; i < 4096; i++) printf("%02x", f.mem.data[i]);
      printf(" ");
      for (int c = 0; c < f.mem.calls && c < 16; c++)
        printf("%llu,%llu,%llu,%llu;", (unsigned long long)f.mem.log[c][0],
               (unsigned long long)f.mem.log[c][1], (unsigned long long)f.mem.log[c][2],
               (unsigned long long)f.mem.log[c][3]);
      f.cx.scope_kind = CMA_SCOPE_SUBTASK;
      f.cx.borrow_scope = &f.subtask;
      if (!cma_lift_flat_values(&f.cx, CMA_MAX_FLAT_PARAMS, flat, nflat, &param, 1, &back)) {
        printf(" trap %s\n", f.err.message);
      } else {
        json_t *bj = cma_val_to_json(&f.types, t, &back.v[0]);
        char *text = bj ? json_dumps(bj, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        printf(" %s\n", text ? text : "null");
        free(text);
        json_decref(bj);
      }
    }
    json_decref(j);
    fflush(stdout);
    fixture_free(&f);
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--values") == 0) return values_mode();
  if (argc > 1 && strcmp(argv[1], "--flat") == 0) return flat_mode();
  if (argc > 1 && strcmp(argv[1], "--transcode") == 0) return transcode_mode(false);
  if (argc > 1 && strcmp(argv[1], "--transcode-spec-path") == 0) return transcode_mode(true);
  test_numbers();
  test_aggregates();
  test_strings();
  test_fast_paths();
  test_views();
  test_flat();
  test_lower_lift();
  test_resources();
  test_json();
  if (failures) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("test_canonical: all checks passed\n");
  return 0;
}
