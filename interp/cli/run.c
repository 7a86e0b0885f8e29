/* `cmref validate FILE` and `cmref run FILE --invoke 'name(args)'`: results printed as WAVE
 * text (the value syntax of wasmtime's --invoke), one per line. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "component/component.h"
#include "core/embed.h"
#include "core/numerics.h"

unsigned char *cli_read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 16, n = 0;
  unsigned char *buf = malloc(cap);
  while (buf) {
    n += fread(buf + n, 1, cap - n, f);
    if (n < cap) break;
    unsigned char *g = realloc(buf, cap * 2);
    if (!g) {
      free(buf);
      buf = NULL;
      break;
    }
    buf = g;
    cap *= 2;
  }
  if (buf && ferror(f)) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  *len = n;
  return buf;
}

static int report(const char *path, const cmref_error *err) {
  fprintf(stderr, "cmref: %s: %s: %s\n", path, cmref_errkind_name(err->kind), err->message);
  return 1;
}

int cli_validate(const char *path) {
  size_t len;
  unsigned char *bytes = cli_read_file(path, &len);
  if (!bytes) {
    fprintf(stderr, "cmref: cannot read %s\n", path);
    return 1;
  }
  if (cmc_comp_is_component(bytes, len)) {
    cmc_comp_result res;
    cmc_error cerr;
    bool ok = cmc_comp_validate(bytes, len, NULL, &res, &cerr);
    cmc_comp_free(&res);
    free(bytes);
    if (ok) {
      printf("%s: valid\n", path);
      return 0;
    }
    cmref_error err = {.kind = cerr.kind};
    cmc_error_copy(err.message, sizeof err.message, &cerr);
    return report(path, &err);
  }
  cmref_engine *e = cmref_engine_new();
  cmref_error err;
  int h = e ? cmref_load_module(e, bytes, len, &err) : -1;
  free(bytes);
  int rc = 0;
  if (!e) rc = 1, fprintf(stderr, "cmref: out of memory\n");
  else if (h < 0) rc = report(path, &err);
  else printf("%s: valid\n", path);
  cmref_engine_free(e);
  return rc;
}

/* ---- WAVE values ---- */

/* v128 (simd): no WAVE syntax exists, so the CLI writes it as wasmtime's --invoke does, the
 * 128-bit value in hex, lane 0 in the lowest bits: 0x + 32 hex digits. */
static bool parse_v128(const char *s, cm_value *v) {
  if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || strlen(s + 2) != 32) return false;
  for (int i = 0; i < 16; i++) {
    unsigned byte;
    if (sscanf(s + 2 + 2 * (15 - i), "%2x", &byte) != 1) return false;
    v->v128[i] = (uint8_t)byte;
  }
  return true;
}

static void print_v128(const cm_value *v) {
  printf("0x");
  for (int i = 15; i >= 0; i--) printf("%02x", v->v128[i]);
  printf("\n");
}

static bool parse_arg(const char *s, cm_valtype t, cm_value *v) {
  char *end;
  errno = 0;
  memset(v, 0, sizeof *v);
  switch (t) {
  case CM_I32: {
    long long x = strtoll(s, &end, 0);
    if (x < INT32_MIN || x > UINT32_MAX) return false;
    v->i32 = (uint32_t)x;
    break;
  }
  case CM_I64:
    if (*s == '-') v->i64 = (uint64_t)strtoll(s, &end, 0);
    else v->i64 = strtoull(s, &end, 0);
    break;
  case CM_F32: v->f32 = strtof(s, &end); break;
  case CM_F64: v->f64 = strtod(s, &end); break;
  case CM_V128: return parse_v128(s, v);
  default: return false;
  }
  while (*end == ' ') end++;
  return errno == 0 && *end == 0 && end != s;
}

static void print_float(double x, int digits) {
  if (isnan(x)) printf("nan\n");
  else if (isinf(x)) printf(x < 0 ? "-inf\n" : "inf\n");
  else {
    char buf[64];
    snprintf(buf, sizeof buf, "%.*g", digits, x);
    /* shortest digits that read back to the same value */
    for (int d = 1; d <= digits; d++) {
      snprintf(buf, sizeof buf, "%.*g", d, x);
      if (digits == 9 ? (float)strtod(buf, NULL) == (float)x : strtod(buf, NULL) == x) break;
    }
    printf("%s\n", buf);
  }
}

static void print_value(cm_valtype t, const cm_value *v) {
  switch (t) {
  case CM_I32: printf("%" PRId32 "\n", (int32_t)v->i32); break;
  case CM_I64: printf("%" PRId64 "\n", (int64_t)v->i64); break;
  case CM_F32: print_float(v->f32, 9); break;
  case CM_F64: print_float(v->f64, 17); break;
  case CM_V128: print_v128(v); break;
  default: printf(v->ref ? "<ref>\n" : "null\n"); break;
  }
}

/* Splits "name(a, b)" into name and args (modifies s). */
static int split_call(char *s, char **name, char **args, int max) {
  char *open = strchr(s, '(');
  *name = s;
  if (!open) return 0;
  char *close = strrchr(open, ')');
  if (!close) return -1;
  *open = 0;
  *close = 0;
  int n = 0;
  char *p = open + 1;
  while (*p == ' ') p++;
  if (!*p) return 0;
  for (char *tok = strtok(p, ","); tok && n < max; tok = strtok(NULL, ",")) {
    while (*tok == ' ') tok++;
    args[n++] = tok;
  }
  return n;
}

static int invoke(cmref_engine *e, int inst, char *call) {
  char *name, *args[64];
  int nargs = split_call(call, &name, args, 64);
  cm_extern ext;
  if (nargs < 0 || !cm_instance_export(e->instances[inst], name, strlen(name), &ext) ||
      ext.kind != CM_EXTERN_FUNC) {
    fprintf(stderr, "cmref: no exported function `%s`\n", name);
    return 1;
  }
  const cm_functype *t = ext.u.func->type;
  if ((uint32_t)nargs != t->nparams) {
    fprintf(stderr, "cmref: `%s` takes %u arguments, got %d\n", name, t->nparams, nargs);
    return 1;
  }
  cm_value vals[64 + 64];
  if (t->nresults > 64) return 1;
  for (int i = 0; i < nargs; i++)
    if (!parse_arg(args[i], t->params[i], &vals[i])) {
      fprintf(stderr, "cmref: bad %s argument `%s`\n", cm_valtype_name(t->params[i]), args[i]);
      return 1;
    }
  cm_error err;
  if (!cm_core_invoke(e->store, ext.u.func, vals, vals + 64, &err)) {
    fprintf(stderr, "cmref: %s: %s\n", cmref_errkind_name(err.kind), err.message);
    return 1;
  }
  for (uint32_t i = 0; i < t->nresults; i++) print_value(t->results[i], &vals[64 + i]);
  return 0;
}

int cli_run(int argc, char **argv) {
  const char *path = argv[0];
  char *call = NULL, *fuel = NULL;
  for (int i = 1; i + 1 < argc; i++) {
    if (strcmp(argv[i], "--invoke") == 0) call = argv[i + 1];
    if (strcmp(argv[i], "--fuel") == 0) fuel = argv[i + 1];
  }
  size_t len;
  unsigned char *bytes = cli_read_file(path, &len);
  if (!bytes) {
    fprintf(stderr, "cmref: cannot read %s\n", path);
    return 1;
  }
  if (cmc_comp_is_component(bytes, len)) {
    int crc = cli_run_component(path, bytes, len, argc, argv);
    free(bytes);
    return crc;
  }
  cmref_engine *e = cmref_engine_new();
  cmref_error err;
  int rc = 1, m = -1, inst = -1;
  if (e && fuel) { /* core modules: --fuel only (--max-memory and the rest are for components) */
    char *end;
    unsigned long long n = strtoull(fuel, &end, 10);
    if (*fuel == '-' || !*fuel || *end) {
      fprintf(stderr, "cmref: --fuel takes a non-negative integer, got `%s`\n", fuel);
      cmref_engine_free(e);
      free(bytes);
      return 1;
    }
    cmref_set_fuel(e, n);
  }
  if (e) m = cmref_load_module(e, bytes, len, &err);
  free(bytes);
  if (e && m >= 0) inst = cmref_instantiate(e, m, &err);
  if (!e) fprintf(stderr, "cmref: out of memory\n");
  else if (m < 0 || inst < 0) report(path, &err);
  else rc = call ? invoke(e, inst, call) : 0;
  cmref_engine_free(e);
  return rc;
}
