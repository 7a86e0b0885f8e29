/* Unit tests of the core validator (validate.c): small hand-assembled modules, each with
 * the outcome the spec gives it (valid, or invalid/malformed with the suite's words), plus
 * the implementation properties: deep nesting on the explicit control stack, the feature
 * switch for multi-memory, exception handling, and no leak or crash on the way out.
 * Run by `make test` (the pytest wrapper runs every build/tests/test_*). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/module.h"
#include "core/validate.h"

/* ---- A tiny module assembler ---------------------------------------------------------- */

typedef struct buf {
  uint8_t *p;
  size_t n, cap;
} buf;

static void put(buf *b, const void *d, size_t n) {
  if (b->n + n > b->cap) {
    b->cap = (b->n + n) * 2 + 64;
    b->p = realloc(b->p, b->cap);
    if (!b->p) { fprintf(stderr, "out of memory\n"); exit(2); }
  }
  memcpy(b->p + b->n, d, n);
  b->n += n;
}

static void byte(buf *b, uint8_t x) { put(b, &x, 1); }

static void leb(buf *b, uint32_t x) {
  do {
    uint8_t c = x & 0x7F;
    x >>= 7;
    byte(b, c | (x ? 0x80 : 0));
  } while (x);
}

/* A section: id and contents. CODE_ID wraps the contents as the one function body of a
 * code section (count 1, body size). */
#define CODE_ID 0x8A
typedef struct sec {
  uint8_t id;
  const char *bytes;
  size_t len;
} sec;
#define SEC(id, s) ((sec){id, s, sizeof(s) - 1})
/* Types: 0 [] -> [], 1 [] -> [i32], 2 [i32] -> [i32], 3 [i32] -> [], 4 [i32 i64] -> [i32 i64] */
#define TYPES SEC(1, "\x05" "\x60\x00\x00" "\x60\x00\x01\x7f" "\x60\x01\x7f\x01\x7f" \
                     "\x60\x01\x7f\x00" "\x60\x02\x7f\x7e\x02\x7f\x7e")
#define FUNC(t) SEC(3, "\x01" t)
#define MEM1 SEC(5, "\x01\x00\x01")
#define CODE(s) SEC(CODE_ID, s)

static buf assemble(const sec *secs, size_t n) {
  buf b = {0};
  put(&b, "\0asm\1\0\0\0", 8);
  for (size_t i = 0; i < n; i++) {
    buf c = {0};
    if (secs[i].id == CODE_ID) {
      byte(&c, 1);
      leb(&c, (uint32_t)secs[i].len);
    }
    put(&c, secs[i].bytes, secs[i].len);
    byte(&b, secs[i].id == CODE_ID ? 10 : secs[i].id);
    leb(&b, (uint32_t)c.n);
    put(&b, c.p, c.n);
    free(c.p);
  }
  return b;
}

/* ---- Checking -------------------------------------------------------------------------- */

static int failures, checks;

/* Decodes and validates; compares the outcome kind and (for errors) the message. */
static void expect_bytes(const char *name, const uint8_t *bytes, size_t len, bool multi,
                         cmref_errkind kind, const char *msg) {
  cm_module *m = NULL;
  cm_error err = {CMREF_OK, ""};
  cm_core_features f = multi ? cm_core_features_all() : cm_core_features_wasm2();
  bool ok = cm_core_decode(bytes, len, &m, &err) && cm_core_validate_with(m, &f, &err);
  cmref_errkind got = ok ? CMREF_OK : err.kind;
  checks++;
  if (getenv("CMREF_VERBOSE"))
    printf("%-45s %s %s\n", name, cmref_errkind_name(got), ok ? "" : err.message);
  if (got != kind || (msg && !strstr(err.message, msg))) {
    failures++;
    printf("FAIL %s: got %s \"%s\", want %s \"%s\"\n", name, cmref_errkind_name(got),
           ok ? "" : err.message, cmref_errkind_name(kind), msg ? msg : "");
  }
  cm_module_free(m);
}

static void expect(const char *name, bool multi, cmref_errkind kind, const char *msg,
                   const sec *secs, size_t n) {
  buf b = assemble(secs, n);
  expect_bytes(name, b.p, b.n, multi, kind, msg);
  free(b.p);
}

#define SECS(...) (sec[]){__VA_ARGS__}, sizeof((sec[]){__VA_ARGS__}) / sizeof(sec)
#define VALID(name, ...) expect(name, false, CMREF_OK, NULL, SECS(__VA_ARGS__))
#define INVALID(name, msg, ...) expect(name, false, CMREF_INVALID, msg, SECS(__VA_ARGS__))

/* ---- Instructions ---------------------------------------------------------------------- */

static void test_instructions(void) {
  VALID("i32.const result", TYPES, FUNC("\x01"), CODE("\x00\x41\x01\x0b"));
  INVALID("wrong result type", "type mismatch", TYPES, FUNC("\x01"), CODE("\x00\x42\x01\x0b"));
  INVALID("missing result", "type mismatch", TYPES, FUNC("\x01"), CODE("\x00\x0b"));
  INVALID("extra value", "type mismatch", TYPES, FUNC("\x00"), CODE("\x00\x41\x01\x0b"));
  VALID("param to result", TYPES, FUNC("\x02"), CODE("\x00\x20\x00\x0b"));
  INVALID("unknown local", "unknown local", TYPES, FUNC("\x00"), CODE("\x00\x20\x00\x1a\x0b"));
  VALID("declared local", TYPES, FUNC("\x01"), CODE("\x01\x02\x7f\x20\x01\x0b"));
  INVALID("local.set type", "type mismatch", TYPES, FUNC("\x03"),
          CODE("\x00\x42\x00\x21\x00\x0b"));
  INVALID("unknown label", "unknown label", TYPES, FUNC("\x00"), CODE("\x00\x0c\x01\x0b"));
  VALID("br to function", TYPES, FUNC("\x00"), CODE("\x00\x0c\x00\x0b"));
  INVALID("unknown function", "unknown function", TYPES, FUNC("\x00"), CODE("\x00\x10\x05\x0b"));
  INVALID("unknown type of block", "unknown type", TYPES, FUNC("\x00"),
          CODE("\x00\x02\x09\x0b\x0b"));
  INVALID("unknown memory", "unknown memory", TYPES, FUNC("\x01"), CODE("\x00\x3f\x00\x0b"));
  VALID("memory.size", TYPES, FUNC("\x01"), MEM1, CODE("\x00\x3f\x00\x0b"));
  INVALID("alignment", "alignment must not be larger than natural", TYPES, FUNC("\x01"), MEM1,
          CODE("\x00\x41\x00\x28\x03\x00\x0b"));
  VALID("natural alignment", TYPES, FUNC("\x01"), MEM1, CODE("\x00\x41\x00\x28\x02\x00\x0b"));
  INVALID("unknown global", "unknown global", TYPES, FUNC("\x01"), CODE("\x00\x23\x00\x0b"));
  INVALID("immutable global", "global is immutable", TYPES, FUNC("\x00"),
          SEC(6, "\x01\x7f\x00\x41\x00\x0b"), CODE("\x00\x41\x01\x24\x00\x0b"));
  VALID("mutable global", TYPES, FUNC("\x00"), SEC(6, "\x01\x7f\x01\x41\x00\x0b"),
        CODE("\x00\x41\x01\x24\x00\x0b"));
  INVALID("select of refs", "type mismatch", TYPES, FUNC("\x00"),
          CODE("\x00\xd0\x70\xd0\x70\x41\x01\x1b\x1a\x0b"));
  VALID("typed select of refs", TYPES, FUNC("\x00"),
        CODE("\x00\xd0\x70\xd0\x70\x41\x01\x1c\x01\x70\x1a\x0b"));
  INVALID("select arity", "invalid result arity", TYPES, FUNC("\x00"),
          CODE("\x00\x41\x01\x1c\x00\x0b"));
  INVALID("i32.add on i64", "type mismatch", TYPES, FUNC("\x01"),
          CODE("\x00\x42\x01\x41\x01\x6a\x0b"));
  VALID("i32.trunc_sat_f32_s", TYPES, FUNC("\x01"),
        CODE("\x00\x43\x00\x00\x00\x00\xfc\x00\x0b"));
  VALID("sign extension", TYPES, FUNC("\x01"), CODE("\x00\x41\x01\xc0\x0b"));
}

/* The appendix's Unknown type: code after unreachable/br/return is stack-polymorphic. */
static void test_unreachable(void) {
  VALID("unreachable then add", TYPES, FUNC("\x01"), CODE("\x00\x00\x6a\x0b"));
  VALID("unreachable then select", TYPES, FUNC("\x01"), CODE("\x00\x00\x1b\x0b"));
  VALID("unreachable then ref.is_null", TYPES, FUNC("\x01"), CODE("\x00\x00\xd1\x0b"));
  INVALID("unreachable then wrong type", "type mismatch", TYPES, FUNC("\x01"),
          CODE("\x00\x00\x42\x00\x0b"));
  INVALID("unknown does not leak out of a block", "type mismatch", TYPES, FUNC("\x01"),
          CODE("\x00\x02\x40\x00\x0b\x0b"));
  VALID("br_table with polymorphic operands", TYPES, FUNC("\x01"),
        CODE("\x00\x02\x7f\x00\x0e\x01\x00\x01\x0b\x0b"));
  INVALID("br_table arity mismatch", "type mismatch", TYPES, FUNC("\x01"),
          CODE("\x00\x02\x40\x41\x00\x41\x00\x0e\x01\x00\x01\x0b\x41\x00\x0b"));
}

/* Blocks with type indices, if without else, and a misplaced else. */
static void test_blocks(void) {
  VALID("block with params", TYPES, FUNC("\x01"), CODE("\x00\x41\x01\x02\x02\x0b\x0b"));
  VALID("multi-value block", TYPES, FUNC("\x00"),
        CODE("\x00\x41\x01\x42\x02\x02\x04\x0b\x1a\x1a\x0b"));
  INVALID("block param missing", "type mismatch", TYPES, FUNC("\x01"), CODE("\x00\x02\x02\x0b\x0b"));
  VALID("loop label takes params", TYPES, FUNC("\x01"),
        CODE("\x00\x41\x01\x03\x02\x0c\x00\x0b\x0b"));
  VALID("if [i32]->[i32] without else", TYPES, FUNC("\x01"),
        CODE("\x00\x41\x01\x41\x01\x04\x02\x0b\x0b"));
  INVALID("if []->[i32] without else", "type mismatch", TYPES, FUNC("\x01"),
          CODE("\x00\x41\x01\x04\x7f\x41\x01\x0b\x0b"));
  VALID("if else", TYPES, FUNC("\x01"),
        CODE("\x00\x41\x01\x04\x7f\x41\x01\x05\x41\x02\x0b\x0b"));
  INVALID("else branch type", "type mismatch", TYPES, FUNC("\x01"),
          CODE("\x00\x41\x01\x04\x7f\x41\x01\x05\x42\x02\x0b\x0b"));
  expect("else in a block", false, CMREF_MALFORMED, "END opcode expected",
         SECS(TYPES, FUNC("\x00"), CODE("\x00\x02\x40\x05\x0b\x0b")));
}

/* Module-level rules (spec 3.4). */
static void test_module(void) {
  INVALID("function type index", "unknown type", TYPES, FUNC("\x09"), CODE("\x00\x0b"));
  INVALID("memory too large", "memory size must be at most 65536 pages (4GiB)",
          SEC(5, "\x01\x00\x81\x80\x04"));
  INVALID("memory min > max", "size minimum must not be greater than maximum",
          SEC(5, "\x01\x01\x02\x01"));
  INVALID("table min > max", "size minimum must not be greater than maximum",
          SEC(4, "\x01\x70\x01\x02\x01"));
  VALID("memory of 65536 pages", SEC(5, "\x01\x01\x00\x80\x80\x04"));
  INVALID("two memories (2.0)", "multiple memories", SEC(5, "\x02\x00\x00\x00\x00"));
  expect("two memories (multi-memory)", true, CMREF_OK, NULL,
         SECS(SEC(5, "\x02\x00\x00\x00\x00")));
  expect("memory.size of memory 1", true, CMREF_OK, NULL,
         SECS(TYPES, FUNC("\x01"), SEC(5, "\x02\x00\x00\x00\x00"), CODE("\x00\x3f\x01\x0b")));
  expect("i32.load from memory 1", true, CMREF_OK, NULL,
         SECS(TYPES, FUNC("\x01"), SEC(5, "\x02\x00\x00\x00\x00"),
              CODE("\x00\x41\x00\x28\x42\x01\x00\x0b")));
  expect("i32.load from memory 2", true, CMREF_INVALID, "unknown memory 2",
         SECS(TYPES, FUNC("\x01"), SEC(5, "\x02\x00\x00\x00\x00"),
              CODE("\x00\x41\x00\x28\x42\x02\x00\x0b")));
  INVALID("non-constant initializer", "constant expression required",
          SEC(6, "\x01\x7f\x00\x41\x00\x41\x00\x6a\x0b"));
  INVALID("initializer type", "type mismatch", SEC(6, "\x01\x7f\x00\x42\x00\x0b"));
  INVALID("global.get of a defined global", "unknown global",
          SEC(6, "\x02\x7f\x00\x41\x00\x0b\x7f\x00\x23\x00\x0b"));
  INVALID("global.get of a mutable import", "constant expression required",
          SEC(2, "\x01\x01m\x01g\x03\x7f\x01"), SEC(6, "\x01\x7f\x00\x23\x00\x0b"));
  VALID("global.get of an immutable import", SEC(2, "\x01\x01m\x01g\x03\x7f\x00"),
        SEC(6, "\x01\x7f\x00\x23\x00\x0b"));
  INVALID("duplicate export", "duplicate export name", TYPES, FUNC("\x00"),
          SEC(7, "\x02\x01" "a\x00\x00\x01" "a\x00\x00"), CODE("\x00\x0b"));
  INVALID("export of unknown function", "unknown function", SEC(7, "\x01\x01" "a\x00\x00"));
  INVALID("start function type", "start function", TYPES, FUNC("\x01"), SEC(8, "\x00"),
          CODE("\x00\x41\x00\x0b"));
  VALID("start function", TYPES, FUNC("\x00"), SEC(8, "\x00"), CODE("\x00\x0b"));
  INVALID("undeclared ref.func", "undeclared function reference", TYPES, FUNC("\x00"),
          CODE("\x00\xd2\x00\x1a\x0b"));
  VALID("ref.func declared by an export", TYPES, FUNC("\x00"), SEC(7, "\x01\x01" "a\x00\x00"),
        CODE("\x00\xd2\x00\x1a\x0b"));
  VALID("ref.func declared by an elem segment", TYPES, FUNC("\x00"),
        SEC(9, "\x01\x03\x00\x01\x00"), CODE("\x00\xd2\x00\x1a\x0b"));
  INVALID("elem segment type vs table", "type mismatch", TYPES, FUNC("\x00"),
          SEC(4, "\x01\x6f\x00\x01"), SEC(9, "\x01\x00\x41\x00\x0b\x01\x00"), CODE("\x00\x0b"));
  INVALID("call_indirect on externref table", "type mismatch", TYPES, FUNC("\x00"),
          SEC(4, "\x01\x6f\x00\x01"), CODE("\x00\x41\x00\x11\x00\x00\x0b"));
  INVALID("unknown data segment", "unknown data segment", TYPES, FUNC("\x00"), MEM1,
          SEC(12, "\x00"), CODE("\x00\xfc\x09\x00\x0b"));
  INVALID("unknown elem segment", "unknown elem segment", TYPES, FUNC("\x00"),
          CODE("\x00\xfc\x0d\x00\x0b"));
}

/* Exception handling (Wasm 3.0): tag 0 has type 3 ([i32] -> []). */
#define TAG SEC(13, "\x01\x00\x03")
static void test_exceptions(void) {
  VALID("throw", TYPES, FUNC("\x00"), TAG, CODE("\x00\x41\x01\x08\x00\x0b"));
  INVALID("throw operand", "type mismatch", TYPES, FUNC("\x00"), TAG,
          CODE("\x00\x42\x01\x08\x00\x0b"));
  INVALID("unknown tag", "unknown tag", TYPES, FUNC("\x00"), CODE("\x00\x41\x01\x08\x00\x0b"));
  INVALID("tag with results", "non-empty tag result type", TYPES, SEC(13, "\x01\x00\x01"));
  /* block (result i32) try_table catch 0 -> 0 ... end unreachable end */
  VALID("try_table catch", TYPES, FUNC("\x01"), TAG,
        CODE("\x00\x02\x7f\x1f\x40\x01\x00\x00\x00\x0b\x00\x0b\x0b"));
  INVALID("try_table catch label type", "type mismatch", TYPES, FUNC("\x00"), TAG,
          CODE("\x00\x02\x40\x1f\x40\x01\x00\x00\x00\x0b\x0b\x0b"));
  /* block (result exnref) try_table catch_all_ref -> 0 ... throw_ref */
  VALID("catch_all_ref and throw_ref", TYPES, FUNC("\x00"), TAG,
        CODE("\x00\x02\x69\x1f\x40\x01\x03\x00\x0b\x00\x0b\x0a\x0b"));
  INVALID("throw_ref of i32", "type mismatch", TYPES, FUNC("\x00"),
          CODE("\x00\x41\x00\x0a\x0b"));
}

/* Deep nesting runs on the heap control stack: no C recursion, whatever the depth. */
static void test_deep_nesting(void) {
  const size_t depth = 1000000;
  buf body = {0};
  byte(&body, 0);
  for (size_t i = 0; i < depth; i++) put(&body, "\x02\x40", 2);
  for (size_t i = 0; i < depth; i++) byte(&body, 0x0b);
  byte(&body, 0x0b);
  sec secs[] = {TYPES, FUNC("\x00"), {CODE_ID, (const char *)body.p, body.n}};
  expect("1e6 nested blocks", false, CMREF_OK, NULL, secs, 3);
  body.p[2 * depth] = 0x7f; /* the innermost block's type: (result i32), but it is empty */
  expect("1e6 nested blocks, innermost lacks its result", false, CMREF_INVALID, "type mismatch",
         secs, 3);
  free(body.p);
}

/* Tables (reference types, several tables), bulk memory, SIMD through the SIMD table. */
#define TABLES SEC(4, "\x02\x70\x00\x01\x6f\x00\x01") /* 0: funcref, 1: externref */
static void test_tables_bulk_simd(void) {
  VALID("table.get/set/size/grow/fill", TYPES, FUNC("\x00"), TABLES,
        CODE("\x00\x41\x00\x41\x00\x25\x01\x26\x01" /* table.set 1 (table.get 1 0) */
             "\xfc\x10\x00\x1a"                         /* drop (table.size 0) */
             "\xd0\x6f\x41\x01\xfc\x0f\x01\x1a"     /* drop (table.grow 1 null 1) */
             "\x41\x00\xd0\x70\x41\x01\xfc\x11\x00" /* table.fill 0 0 null 1 */
             "\x0b"));
  INVALID("table.set externref into funcref table", "type mismatch", TYPES, FUNC("\x00"),
          TABLES, CODE("\x00\x41\x00\xd0\x6f\x26\x00\x0b"));
  INVALID("table.copy across element types", "type mismatch", TYPES, FUNC("\x00"), TABLES,
          CODE("\x00\x41\x00\x41\x00\x41\x00\xfc\x0e\x00\x01\x0b"));
  INVALID("table.init into externref table", "type mismatch", TYPES, FUNC("\x00"), TABLES,
          SEC(9, "\x01\x01\x00\x01\x00"),
          CODE("\x00\x41\x00\x41\x00\x41\x00\xfc\x0c\x00\x01\x0b"));
  INVALID("unknown table 2", "unknown table 2", TYPES, FUNC("\x01"), TABLES,
          CODE("\x00\xfc\x10\x02\x0b"));
  INVALID("ref.is_null of i32", "type mismatch", TYPES, FUNC("\x01"),
          CODE("\x00\x41\x00\xd1\x0b"));
  INVALID("memory.fill without memory", "unknown memory 0", TYPES, FUNC("\x00"),
          CODE("\x00\x41\x00\x41\x00\x41\x00\xfc\x0b\x00\x0b"));
  VALID("memory.copy", TYPES, FUNC("\x00"), MEM1,
        CODE("\x00\x41\x00\x41\x00\x41\x00\xfc\x0a\x00\x00\x0b"));
  expect("data.drop without data count section", false, CMREF_MALFORMED,
         "data count section required",
         SECS(TYPES, FUNC("\x00"), MEM1, CODE("\x00\xfc\x09\x00\x0b"),
              SEC(11, "\x01\x01\x00")));
  /* SIMD: i32x4.extract_lane (0xfd 0x1b) of a splat; lane 4 is out of range. */
  VALID("i32x4.extract_lane 3", TYPES, FUNC("\x01"),
        CODE("\x00\x41\x01\xfd\x11\xfd\x1b\x03\x0b"));
  INVALID("i32x4.extract_lane 4", "invalid lane index", TYPES, FUNC("\x01"),
          CODE("\x00\x41\x01\xfd\x11\xfd\x1b\x04\x0b"));
  INVALID("i32x4.splat of i64", "type mismatch", TYPES, FUNC("\x00"),
          CODE("\x00\x42\x01\xfd\x11\x1a\x0b"));
  INVALID("v128.load alignment", "alignment must not be larger than natural", TYPES,
          FUNC("\x00"), MEM1, CODE("\x00\x41\x00\xfd\x00\x05\x00\x1a\x0b"));
  VALID("v128.const global", SEC(6, "\x01\x7b\x00\xfd\x0c"
                                    "\x00\x00\x00\x00\x00\x00\x00\x00"
                                    "\x00\x00\x00\x00\x00\x00\x00\x00\x0b"));
}

/* Implementation limit: at most 1000 parameters / results per function type. */
static void test_type_arity_limit(void) {
  for (uint32_t n = 1000; n <= 1001; n++) {
    buf t = {0};
    put(&t, "\x01\x60", 2);
    leb(&t, n);
    for (uint32_t i = 0; i < n; i++) byte(&t, 0x7f);
    byte(&t, 0);
    sec secs[] = {{1, (const char *)t.p, t.n}};
    expect(n == 1000 ? "1000 parameters" : "1001 parameters", false,
           n == 1000 ? CMREF_OK : CMREF_INVALID, n == 1000 ? NULL : "implementation limit", secs, 1);
    free(t.p);
  }
}

int main(void) {
  test_instructions();
  test_unreachable();
  test_blocks();
  test_module();
  test_exceptions();
  test_tables_bulk_simd();
  test_deep_nesting();
  test_type_arity_limit();
  printf("test_validate: %d/%d checks passed\n", checks - failures, checks);
  return failures ? 1 : 0;
}
