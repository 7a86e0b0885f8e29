/* `cmref wit [--json] [--features F,G] [--all-features] PATH`
 *
 * Parses and resolves the WIT package at PATH (a file, or a directory with an
 * optional deps/ folder) the way wit-parser's `Resolve::push_path` does. With
 * --json it prints the whole Resolve in wit-parser's JSON shape; otherwise it
 * prints it as WIT, as `wasm-tools component wit` does (the main package, then
 * the others as nested `package ns:name { ... }` blocks). An error prints wit-parser's rendering
 * (message, file:line:column, source line) on stderr and exits with status 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/wit_cmd.h"
#include "wit/wit.h"

static int wit_usage(void) {
  fprintf(stderr, "usage: cmref wit [--json | --encode -o OUT.wasm] [--features F,G] [--all-features] PATH|COMPONENT.wasm\n");
  return 2;
}

static void add_features(wit_resolve *r, const char *list) {
  const char *p = list;
  while (*p) {
    const char *e = strchr(p, ',');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    if (n) wit_push(&r->mem, r->features, wit_strndup(&r->mem, p, n));
    p += n + (e ? 1 : 0);
  }
}

static int is_wasm_binary(const char *path) {
  unsigned char magic[4] = {0};
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  size_t n = fread(magic, 1, 4, f);
  fclose(f);
  return n == 4 && !memcmp(magic, "\0asm", 4);
}

/* a component binary: its type as WIT (wit-parser's decode of a component) */
static int decode_file(wit_resolve *r, const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  size_t cap = 1 << 16, n = 0;
  unsigned char *buf = malloc(cap);
  size_t got;
  while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
    n += got;
    if (n == cap) {
      unsigned char *nb = realloc(buf, cap * 2);
      if (!nb) { free(buf); buf = NULL; break; }
      buf = nb;
      cap *= 2;
    }
  }
  fclose(f);
  if (!buf) return -1;
  int pkg = wit_decode_component(r, buf, n);
  free(buf);
  return pkg;
}

static int write_encoded(wit_resolve *r, int pkg, const char *out_path) {
  unsigned char *bin;
  size_t len;
  if (wit_encode_package(r, pkg, &bin, &len)) {
    char *msg = wit_render_error(r);
    fprintf(stderr, "%s\n", msg ? msg : "cannot encode");
    free(msg);
    return 1;
  }
  FILE *f = fopen(out_path, "wb");
  int ok = f && fwrite(bin, 1, len, f) == len;
  if (f && fclose(f)) ok = 0;
  free(bin);
  if (!ok) {
    fprintf(stderr, "cmref wit: cannot write %s\n", out_path);
    return 1;
  }
  return 0;
}

int cli_wit(int argc, char **argv) {
  wit_resolve r;
  wit_resolve_init(&r);
  int json = 0, encode = 0;
  const char *path = NULL, *out_path = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--json")) json = 1;
    else if (!strcmp(argv[i], "--all-features")) r.all_features = 1;
    else if (!strcmp(argv[i], "--encode")) encode = 1;
    else if (!strcmp(argv[i], "-o") && i + 1 < argc) out_path = argv[++i];
    else if (!strcmp(argv[i], "--features") && i + 1 < argc) add_features(&r, argv[++i]);
    else if (argv[i][0] == '-' || path) { wit_resolve_free(&r); return wit_usage(); }
    else path = argv[i];
  }
  if (!path || (encode && !out_path)) { wit_resolve_free(&r); return wit_usage(); }
  int rc = 0;
  int component = is_wasm_binary(path);
  int pkg = component ? decode_file(&r, path) : wit_push_path(&r, path);
  if (pkg < 0) {
    char *msg = wit_render_error(&r);
    fprintf(stderr, "%s\n", msg ? msg : "error");
    free(msg);
    rc = 1;
  } else if (encode) {
    rc = write_encoded(&r, pkg, out_path);
  } else if (json) {
    char *s = wit_resolve_json(&r);
    if (s) printf("%s\n", s);
    else rc = 1;
    free(s);
  } else {
    /* as `wasm-tools component wit`: the main package, then every other one nested;
     * for a component only its own package, as jco's componentWit prints it (the
     * others are just the names of the interfaces it imports or exports) */
    int *nested = wit_alloc(&r.mem, sizeof(int) * (size_t)(r.packages.n + 1));
    int n = 0;
    for (int i = 0; i < r.packages.n && !component; i++)
      if (i != pkg) nested[n++] = i;
    char *s = wit_print(&r, pkg, nested, n);
    if (s) fputs(s, stdout);
    else {
      fprintf(stderr, "cmref wit: the resolved package cannot be printed as WIT\n");
      rc = 1;
    }
    free(s);
  }
  wit_resolve_free(&r);
  return rc;
}
