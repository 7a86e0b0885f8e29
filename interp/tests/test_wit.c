/* Unit tests of the WIT front-end (interp/wit/): tokens, identifiers, versions,
 * resolution of small packages, and errors for bad input. Exits non-zero on failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wit/ast.h"
#include "wit/wit.h"

typedef struct t_ctx {
  int checks, fails;
} t_ctx;

#define CHECK(t, cond)                                                         \
  do {                                                                         \
    (t)->checks++;                                                             \
    if (!(cond)) {                                                             \
      (t)->fails++;                                                            \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                          \
  } while (0)

/* Lexes `src` and compares the token kinds with `want` (ending in T_EOF). */
static int lex_kinds(const char *src, const int *want) {
  wit_arena mem = {0};
  wit_error err = {0};
  wit_lexer lx;
  int ok = wit_lex_init(&lx, src, strlen(src), 0, &mem, &err) == 0;
  for (int i = 0; ok; i++) {
    wit_token t;
    if (wit_lex_next(&lx, &t) || t.kind != want[i]) ok = 0;
    else if (t.kind == T_EOF) break;
  }
  wit_arena_free(&mem);
  return ok;
}

static void test_lexer(t_ctx *t) {
  static const int k1[] = {T_PACKAGE, T_ID, T_COLON, T_ID, T_AT, T_INTEGER, T_PERIOD, T_INTEGER,
                           T_PERIOD, T_INTEGER, T_SEMICOLON, T_EOF};
  CHECK(t, lex_kinds("package a:b@1.2.3;", k1));
  static const int k2[] = {T_ID, T_COLON, T_ASYNC, T_FUNC, T_LPAREN, T_RPAREN, T_RARROW,
                           T_STREAM, T_LT, T_ERROR_CONTEXT, T_GT, T_EOF};
  CHECK(t, lex_kinds("f: async func() -> stream<error-context> // tail", k2));
  static const int k3[] = {T_EXPLICIT_ID, T_STRING, T_EOF};
  CHECK(t, lex_kinds("/* a /* nested */ comment */ %type \"s\\u{1F600}\"", k3));
  static const int k4[] = {T_ID, T_EOF};
  CHECK(t, lex_kinds("\xef\xbb\xbf" "a-b\r\n", k4)); /* BOM and CRLF */
  static const int none[] = {T_EOF};
  CHECK(t, !lex_kinds("/* unterminated", none));
  CHECK(t, !lex_kinds("\"unterminated", none));
  CHECK(t, !lex_kinds("a \x01 b", none));          /* control code */
  CHECK(t, !lex_kinds("a \xe2\x80\xae b", none));  /* bidirectional override */
  CHECK(t, !lex_kinds("#", none));
}

static int id_ok(const char *s) {
  wit_arena mem = {0};
  wit_error err = {0};
  wit_lexer lx;
  wit_lex_init(&lx, s, strlen(s), 0, &mem, &err);
  int ok = wit_validate_id(&lx, 0, s, strlen(s)) == 0;
  wit_arena_free(&mem);
  return ok;
}

static void test_ids(t_ctx *t) {
  CHECK(t, id_ok("foo"));
  CHECK(t, id_ok("foo-bar-2"));
  CHECK(t, id_ok("FOO-bar"));
  CHECK(t, id_ok("a-1b"));
  CHECK(t, !id_ok(""));
  CHECK(t, !id_ok("1a"));
  CHECK(t, !id_ok("a--b"));
  CHECK(t, !id_ok("a-"));
  CHECK(t, !id_ok("fooBar"));
  CHECK(t, !id_ok("a_b"));
}

static void test_versions(t_ctx *t) {
  CHECK(t, wit_version_parse("1.2.3", 5) == 0);
  CHECK(t, wit_version_parse("0.2.0-rc.1+build.5", 18) == 0);
  CHECK(t, wit_version_parse("01.2.3", 6) != 0);
  CHECK(t, wit_version_parse("1.2", 3) != 0);
  CHECK(t, wit_version_cmp("1.2.3", "1.2.3") == 0);
  CHECK(t, wit_version_cmp("1.10.0", "1.9.0") > 0);
  CHECK(t, wit_version_cmp("1.0.0-alpha", "1.0.0") < 0);
  CHECK(t, wit_version_cmp("1.0.0-alpha.2", "1.0.0-alpha.10") < 0);
  CHECK(t, wit_version_cmp("1.0.0-beta", "1.0.0-alpha") > 0);
}

/* Resolves `src` as one file; returns the package id (or -1) and the rendered error. */
static int resolve_src(const char *src, char **json, char **error) {
  wit_resolve r;
  wit_resolve_init(&r);
  wit_push(&r.mem, r.features, "active");
  int id = wit_push_source(&r, "t.wit", src, strlen(src));
  *json = id >= 0 ? wit_resolve_json(&r) : NULL;
  *error = id < 0 ? wit_render_error(&r) : NULL;
  wit_resolve_free(&r);
  return id;
}

static int rejects_with(const char *src, const char *msg) {
  char *json, *err;
  int id = resolve_src(src, &json, &err);
  int ok = id < 0 && err && strstr(err, msg);
  if (!ok) fprintf(stderr, "  got: %s\n", err ? err : "(resolved)");
  free(json);
  free(err);
  return ok;
}

static int resolves_with(const char *src, const char *fragment) {
  char *json, *err;
  int id = resolve_src(src, &json, &err);
  int ok = id >= 0 && json && strstr(json, fragment);
  if (!ok) fprintf(stderr, "  got: %s\n", err ? err : json);
  free(json);
  free(err);
  return ok;
}

static void test_resolve(t_ctx *t) {
  CHECK(t, resolves_with("package a:b@1.0.0;\ninterface i { resource r { constructor(); m: func(); } }\n",
                         "\"[method]r.m\""));
  CHECK(t, resolves_with("package a:b;\ninterface i { type t = u8; }\nworld w { use i.{t}; import f: func(x: t); }\n",
                         "\"interface-0\""));
  CHECK(t, resolves_with("package a:b;\n@unstable(feature = active)\ninterface i {}\n", "\"feature\": \"active\""));
  CHECK(t, resolves_with("package a:b;\n@unstable(feature = off)\ninterface i {}\ninterface j {}\n",
                         "\"interfaces\": {\n        \"j\": 0"));
  CHECK(t, rejects_with("package a:b;\ninterface i { type t = x; }\n",
                        "type `x` does not exist\n     --> t.wit:2:24"));
  CHECK(t, rejects_with("package a:b;\ninterface i { type a = b; type b = a; }\n", "depends on itself"));
  CHECK(t, rejects_with("package a:b;\nworld a { include b; }\nworld b { include a; }\n", "depends on itself"));
  CHECK(t, rejects_with("interface i {}\n", "no `package` header"));
  CHECK(t, rejects_with("package a:b;\ninterface i { f: func() -> borrow<r>; resource r; }\n",
                        "contains a `borrow<T>`"));
  CHECK(t, rejects_with("package a:b;\ninterface \xff {}\n", "not valid utf-8"));
  CHECK(t, rejects_with("package a:b;\n/* open\n", "unterminated block comment"));
}

static void test_limits(t_ctx *t) {
  /* 50,000 nested lists: refused at depth 100, no deep recursion */
  size_t n = 50000, len = 64 + n * 6;
  char *src = malloc(len);
  size_t o = (size_t)sprintf(src, "package a:b;\ninterface i { type t = ");
  for (size_t i = 0; i < n; i++) o += (size_t)sprintf(src + o, "list<");
  o += (size_t)sprintf(src + o, "u8");
  for (size_t i = 0; i < n; i++) src[o++] = '>';
  strcpy(src + o, "; }\n");
  CHECK(t, rejects_with(src, "type nesting too deep"));
  /* 50,000 nested packages */
  o = (size_t)sprintf(src, "package a:b;\n");
  for (size_t i = 0; i < n / 5; i++) o += (size_t)sprintf(src + o, "package a:b{");
  CHECK(t, rejects_with(src, "package nesting too deep"));
  free(src);
  /* a 1 MB identifier */
  size_t big = 1 << 20;
  src = malloc(big + 64);
  o = (size_t)sprintf(src, "package a:b;\ninterface ");
  memset(src + o, 'a', big);
  strcpy(src + o + big, " {}\n");
  char *json, *err;
  CHECK(t, resolve_src(src, &json, &err) == 0);
  free(json);
  free(err);
  free(src);
}

int main(void) {
  t_ctx t = {0, 0};
  test_lexer(&t);
  test_ids(&t);
  test_versions(&t);
  test_resolve(&t);
  test_limits(&t);
  if (t.fails) {
    fprintf(stderr, "%d of %d checks failed\n", t.fails, t.checks);
    return 1;
  }
  printf("%d checks passed\n", t.checks);
  return 0;
}
