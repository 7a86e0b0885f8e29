/* Unit tests of component decoding and validation (interp/component/).
 *
 * Without arguments: runs the built-in tests and exits 0 when all pass.
 * With `--validate FILE...`: validates each component binary and prints one line per file,
 * `ok` or `<kind>: <message>` (used by the suite and mutation tests in tests/).
 * `--wasmtime` before the files selects the wasmtime profile; `--no-implements` gates off
 * the `implements` attribute. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "component/component.h"
#include "component/names.h"

#include "check.h"

static cmref_errkind run(const uint8_t *b, size_t n, const char *want) {
  cmc_comp_result res;
  cmc_error err;
  bool ok = cmc_comp_validate(b, n, NULL, &res, &err);
  cmc_comp_free(&res);
  if (want && (ok || !strstr(err.message, want))) {
    fprintf(stderr, "expected error containing `%s`, got `%s`\n", want, ok ? "ok" : err.message);
    failures++;
  }
  return ok ? CMREF_OK : err.kind;
}

#define PRE "\0asm\x0d\0\1\0"

static void test_preamble(void) {
  CHECK(run((const uint8_t *)PRE, 8, NULL) == CMREF_OK);
  CHECK(run((const uint8_t *)PRE, 7, NULL) == CMREF_MALFORMED);
  CHECK(run((const uint8_t *)"\0asm\x0c\0\1\0", 8, NULL) == CMREF_MALFORMED);
  CHECK(run((const uint8_t *)"\0asm\1\0\0\0", 8, NULL) == CMREF_MALFORMED);
}

static void test_types(void) {
  /* (type string) (type (list 0)) */
  static const uint8_t ok[] = PRE "\x07\x04\x02\x73\x70\x00";
  CHECK(run(ok, sizeof ok - 1, NULL) == CMREF_OK);
  /* (type (list 5)): index out of bounds */
  static const uint8_t oob[] = PRE "\x07\x03\x01\x70\x05";
  CHECK(run(oob, sizeof oob - 1, "type index out of bounds") == CMREF_INVALID);
  /* huge vector count */
  static const uint8_t big[] = PRE "\x07\x04\xbf\x84\x3d\x73";
  CHECK(run(big, sizeof big - 1, "unexpected end-of-file") == CMREF_MALFORMED);
  /* empty record */
  static const uint8_t rec[] = PRE "\x07\x03\x01\x72\x00";
  CHECK(run(rec, sizeof rec - 1, "record type must have at least one field") == CMREF_INVALID);
}

static size_t put_u32(uint8_t *p, uint32_t v) {
  size_t n = 0;
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    p[n++] = b | (v ? 0x80 : 0);
  } while (v);
  return n;
}

/* 200 components nested in each other: an error, not a deep recursion */
static void test_deep_nesting(void) {
  size_t cap = 200 * 16 + 64;
  uint8_t *a = malloc(cap), *b = malloc(cap);
  memcpy(a, PRE, 8);
  size_t len = 8;
  for (int i = 0; i < 200; i++) {
    size_t o = 0;
    memcpy(b, PRE, 8);
    o = 8;
    b[o++] = 0x04;
    o += put_u32(b + o, (uint32_t)len);
    memcpy(b + o, a, len);
    o += len;
    uint8_t *t = a;
    a = b;
    b = t;
    len = o;
  }
  CHECK(run(a, len, "nesting is too deep") == CMREF_INVALID);
  free(a);
  free(b);
}

/* tuple types that double in size at each step: bounded by the effective type size */
static void test_type_size_bound(void) {
  uint8_t buf[8 + 6 + 64 * 4];
  size_t o = 8, n = 64;
  memcpy(buf, PRE, 8);
  uint8_t body[4 + 64 * 4];
  size_t bo = 0;
  body[bo++] = (uint8_t)n;
  body[bo++] = 0x6f; body[bo++] = 2; body[bo++] = 0x79; body[bo++] = 0x79; /* tuple<u32,u32> */
  for (size_t i = 1; i < n; i++) {
    body[bo++] = 0x6f;
    body[bo++] = 2;
    body[bo++] = (uint8_t)(i - 1);
    body[bo++] = (uint8_t)(i - 1);
  }
  buf[o++] = 0x07;
  o += put_u32(buf + o, (uint32_t)bo);
  memcpy(buf + o, body, bo);
  o += bo;
  CHECK(run(buf, o, "effective type size exceeds") == CMREF_INVALID);
}

static void test_names(void) {
  cmc_name n;
  char why[200];
  CHECK(cmc_is_kebab("a-b-c", 5));
  CHECK(cmc_is_kebab("A-b", 3));
  CHECK(!cmc_is_kebab("aB", 2));
  CHECK(!cmc_is_kebab("a-", 2));
  CHECK(!cmc_is_kebab("0a", 2));
  CHECK(cmc_parse_name("[method]r.m", &n, why, sizeof why) && n.kind == CMC_NAME_METHOD);
  CHECK(!cmc_parse_name("[method]r", &n, why, sizeof why) && strstr(why, "failed to find `.`"));
  CHECK(cmc_parse_name("wasi:http/types@0.2.0", &n, why, sizeof why) && n.kind == CMC_NAME_INTERFACE);
  CHECK(!cmc_parse_name("wasi:http", &n, why, sizeof why) && strstr(why, "expected `/`"));
  cmc_name a, b;
  CHECK(cmc_parse_name("foo-BAR", &a, why, sizeof why) && cmc_parse_name("FOO-bar", &b, why, sizeof why));
  CHECK(cmc_names_conflict(&a, &b));
  CHECK(cmc_parse_name("[static]a.a", &a, why, sizeof why) && cmc_parse_name("a", &b, why, sizeof why));
  CHECK(cmc_names_conflict(&a, &b));
  /* Explainer.md "Name Uniqueness": the first set is strongly-unique, each of the second
   * conflicts with one of the first */
  static const char *const unique[] = {"foo", "foo-bar", "[constructor]foo", "[method]foo.bar",
                                       "[static]foo.baz", "foo:bar/baz"};
  static const char *const clash[] = {"foo", "FOO", "foo-BAR", "[constructor]FOO", "[method]foo.BAR",
                                      "[static]foo.bar", "[method]foo.baz", "[method]foo.foo",
                                      "[static]foo-BAR.FOO-bar", "foo:bar/BAZ"};
  cmc_arena arena = {0};
  for (size_t i = 0; i < 6; i++)
    for (size_t k = 0; k < 6; k++) {
      CHECK(cmc_parse_name(unique[i], &a, why, sizeof why) && cmc_parse_name(unique[k], &b, why, sizeof why));
      CHECK(cmc_names_conflict(&a, &b) == (i == k));
      CHECK((strcmp(cmc_name_key(&a, &arena), cmc_name_key(&b, &arena)) == 0) == (i == k));
    }
  for (size_t i = 0; i < 10; i++) {
    int hits = 0;
    CHECK(cmc_parse_name(clash[i], &a, why, sizeof why));
    for (size_t k = 0; k < 6; k++) {
      CHECK(cmc_parse_name(unique[k], &b, why, sizeof why));
      hits += cmc_names_conflict(&a, &b);
      hits += strcmp(cmc_name_key(&a, &arena), cmc_name_key(&b, &arena)) == 0;
    }
    if (hits != 2) fprintf(stderr, "name %s: %d\n", clash[i], hits);
    CHECK(hits == 2);
  }
  cmc_arena_free(&arena);
}

static int validate_files(int argc, char **argv) {
  cmc_comp_options opts = {false, false, false};
  for (int i = 0; i < argc; i++) {
    if (!strcmp(argv[i], "--wasmtime")) { opts.wasmtime = true; continue; }
    if (!strcmp(argv[i], "--no-implements")) { opts.no_implements = true; continue; }
    if (!strcmp(argv[i], "--nested-names")) { opts.nested_names = true; continue; }
    FILE *f = fopen(argv[i], "rb");
    if (!f) { printf("error: cannot open %s\n", argv[i]); continue; }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(len > 0 ? (size_t)len : 1);
    size_t got = buf ? fread(buf, 1, (size_t)len, f) : 0;
    fclose(f);
    cmc_comp_result res;
    cmc_error err;
    if (cmc_comp_validate(buf, got, &opts, &res, &err)) printf("ok\n");
    else {
      for (char *c = err.message; *c; c++)
        if ((unsigned char)*c < 0x20) *c = ' '; /* one line per file */
      printf("%s: %s\n", cmref_errkind_name(err.kind), err.message);
    }
    cmc_comp_free(&res);
    free(buf);
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "--validate")) return validate_files(argc - 2, argv + 2);
  test_preamble();
  test_types();
  test_names();
  test_deep_nesting();
  test_type_size_bound();
  if (failures) {
    fprintf(stderr, "%d failure(s)\n", failures);
    return 1;
  }
  printf("test_component: ok\n");
  return 0;
}
