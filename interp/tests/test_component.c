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

static int failures;

#define CHECK(cond)                                                   \
  do {                                                                \
    if (!(cond)) {                                                    \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      failures++;                                                     \
    }                                                                 \
  } while (0)

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
}

static int validate_files(int argc, char **argv) {
  cmc_comp_options opts = {false, false};
  for (int i = 0; i < argc; i++) {
    if (!strcmp(argv[i], "--wasmtime")) { opts.wasmtime = true; continue; }
    if (!strcmp(argv[i], "--no-implements")) { opts.no_implements = true; continue; }
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
        if (*c == '\n') *c = ' ';
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
  if (failures) {
    fprintf(stderr, "%d failure(s)\n", failures);
    return 1;
  }
  printf("test_component: ok\n");
  return 0;
}
