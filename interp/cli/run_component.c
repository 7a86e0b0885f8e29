/* `cmref run COMPONENT.wasm --invoke 'name(args)' [options]`: arguments and results in WAVE
 * (wave.c), the value text format of wasmtime's --invoke.
 *   --with NAME=OTHER.wasm  instantiates OTHER (its own imports satisfied by further --with
 *                           flags, recursively) and supplies it for import NAME
 *   --trace                 one indented line per component boundary crossing on stderr
 *   --deny FUNC             a test policy: calls of component functions named FUNC trap
 *   --fuel N                core execution budget in instructions (wasmtime's fuel costs)
 *   --max-memory BYTES      no linear memory may grow beyond BYTES */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/trace.h"
#include "cli/wave.h"
#include "component/instantiate.h"
#include "component/types.h"

#define MAX_WITH 64

typedef struct with_arg {
  const char *name, *path;
  int def, inst; /* -1 until loaded / instantiated */
  int state;     /* 0 not started, 1 instantiating (cycle check), 2 done */
} with_arg;

typedef struct run_opts {
  const char *call;
  with_arg with[MAX_WITH];
  int nwith;
  bool trace;
  const char *deny;
  unsigned long long fuel;
  bool has_fuel;
  unsigned long long max_memory;
  bool has_max_memory;
  cli_trace names; /* names of functions and instances, and the --trace output */
} run_opts;

/* ---- the interception hook: trace and deny ---- */

static int hook(void *env, const cmref_crossing *c, char *msg, size_t n) {
  run_opts *o = env;
  const char *fn = cli_trace_name_of(&o->names, c->func, "<function>");
  const char *base = strrchr(fn, '.') ? strrchr(fn, '.') + 1 : fn;
  bool deny = c->event == CMREF_CROSS_CALL && o->deny &&
              (strcmp(o->deny, fn) == 0 || strcmp(o->deny, base) == 0);
  if (o->trace) cli_trace_crossing(&o->names, c, deny);
  if (!deny) return 0;
  snprintf(msg, n, "--deny %s (call of %s)", o->deny, fn);
  return 1;
}

/* ---- linking ---- */

static int fail_at(const char *path, cmref_errkind kind, const char *msg) {
  fprintf(stderr, "cmref: %s: %s: %s\n", path, cmref_errkind_name(kind), msg);
  return -1;
}

static int load(cmi_engine *e, const char *path, const unsigned char *bytes, size_t len) {
  cmc_error cerr;
  int def = cmi_load(e, bytes, len, NULL, &cerr);
  if (def < 0) {
    char msg[300];
    cmc_error_copy(msg, sizeof msg, &cerr);
    return fail_at(path, cerr.kind, msg);
  }
  return def;
}

static int instantiate(cmi_engine *e, run_opts *o, const char *path, const unsigned char *bytes,
                       size_t len, int def);

/* the --with flag named `name`, instantiated and registered under its name */
static bool supply(cmi_engine *e, run_opts *o, with_arg *w) {
  if (w->state == 2) return true;
  if (w->state == 1) {
    fprintf(stderr, "cmref: --with %s: the components import each other in a cycle\n", w->name);
    return false;
  }
  w->state = 1;
  size_t len;
  unsigned char *bytes = cli_read_file(w->path, &len);
  if (!bytes) {
    fprintf(stderr, "cmref: cannot read %s\n", w->path);
    return false;
  }
  if (!cmc_comp_is_component(bytes, len)) {
    fprintf(stderr, "cmref: --with %s: %s is not a component\n", w->name, w->path);
    free(bytes);
    return false;
  }
  w->def = load(e, w->path, bytes, len);
  w->inst = w->def < 0 ? -1 : instantiate(e, o, w->path, bytes, len, w->def);
  free(bytes);
  cm_error err = {0};
  if (w->inst < 0) return false;
  if (!cmi_register(e, w->inst, w->name, &err)) return fail_at(w->path, err.kind, err.message) == 0;
  cli_trace_name_instance(&o->names, cmi_instance(e, w->inst), w->name);
  w->state = 2;
  return true;
}

/* Instantiates definition def after supplying those of its imports that --with names. */
static int instantiate(cmi_engine *e, run_opts *o, const char *path, const unsigned char *bytes,
                       size_t len, int def) {
  cmc_comp_result res;
  cmc_error cerr;
  if (!cmc_comp_validate(bytes, len, NULL, &res, &cerr)) {
    cmc_comp_free(&res);
    return fail_at(path, cerr.kind, "invalid component");
  }
  bool ok = true;
  for (uint32_t i = 0; ok && res.root && i < res.root->nimports; i++)
    for (int k = 0; ok && k < o->nwith; k++)
      if (strcmp(o->with[k].name, res.root->imports[i].name) == 0) ok = supply(e, o, &o->with[k]);
  cmc_comp_free(&res);
  if (!ok) return -1;
  cm_error err = {0};
  int inst = cmi_instantiate(e, def, &err);
  if (inst < 0) return fail_at(path, err.kind, err.message);
  return inst;
}

/* ---- options ---- */

static bool parse_u64(const char *flag, const char *s, unsigned long long *out) {
  char *end;
  if (!s || !*s || *s == '-') goto bad;
  *out = strtoull(s, &end, 10);
  if (*end == 0) return true;
bad:
  fprintf(stderr, "cmref: %s takes a non-negative integer, got `%s`\n", flag, s ? s : "");
  return false;
}

static bool parse_opts(int argc, char **argv, run_opts *o) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--trace") == 0) {
      o->trace = true;
      continue;
    }
    if (!v) {
      fprintf(stderr, "cmref: unknown or incomplete option `%s`\n", a);
      return false;
    }
    i++;
    if (strcmp(a, "--invoke") == 0) o->call = v;
    else if (strcmp(a, "--deny") == 0) o->deny = v;
    else if (strcmp(a, "--fuel") == 0) {
      if (!parse_u64(a, v, &o->fuel)) return false;
      o->has_fuel = true;
    } else if (strcmp(a, "--max-memory") == 0) {
      if (!parse_u64(a, v, &o->max_memory)) return false;
      o->has_max_memory = true;
    } else if (strcmp(a, "--with") == 0) {
      const char *eq = strchr(v, '=');
      if (!eq || eq == v || !eq[1] || o->nwith == MAX_WITH) {
        fprintf(stderr, "cmref: --with takes NAME=COMPONENT.wasm, got `%s`\n", v);
        return false;
      }
      char *name = strndup(v, (size_t)(eq - v));
      if (!name) return false;
      o->with[o->nwith++] = (with_arg){name, eq + 1, -1, -1, 0};
    } else {
      fprintf(stderr, "cmref: unknown option `%s`\n", a);
      return false;
    }
  }
  return true;
}

static int invoke(cmi_engine *e, run_opts *o, int inst, const char *call) {
  size_t nlen = strcspn(call, "(");
  char *name = strndup(call, nlen);
  cma_functype ft;
  char msg[256];
  json_t *args = NULL, *res = NULL;
  cm_error err = {0};
  int rc = 1;
  if (!name || !cmi_export_functype(e, inst, name, &ft))
    fprintf(stderr, "cmref: no exported function `%s`\n", name ? name : call);
  else if (!(args = wave_parse_args(call, nlen, &ft, msg, sizeof msg)))
    fprintf(stderr, "cmref: %s\n", msg);
  else if (!(res = cmi_invoke(e, inst, name, args, &err)))
    fprintf(stderr, "cmref: %s: %s\n", cmref_errkind_name(err.kind), err.message);
  else {
    if (ft.result != CMC_NONE && json_array_size(res) == 1) {
      wave_print(stdout, ft.types, ft.result, json_array_get(res, 0));
      putchar('\n');
    }
    rc = 0;
  }
  (void)o;
  json_decref(args);
  json_decref(res);
  free(name);
  return rc;
}

static void free_opts(run_opts *o) {
  for (int i = 0; i < o->nwith; i++) free((char *)o->with[i].name);
  cli_trace_free(&o->names);
  free(o);
}

int cli_run_component(const char *path, const unsigned char *bytes, size_t len, int argc,
                      char **argv) {
  run_opts *o = calloc(1, sizeof *o);
  cmi_engine *e = o ? cmi_engine_new() : NULL;
  if (!e) {
    free(o);
    fprintf(stderr, "cmref: out of memory\n");
    return 1;
  }
  int rc = 1;
  if (parse_opts(argc, argv, o)) {
    if (o->has_fuel) cm_store_set_fuel(cmi_core_store(e), o->fuel);
    if (o->has_max_memory) cm_store_set_max_memory(cmi_core_store(e), o->max_memory);
    o->names.out = stderr;
    if (o->trace || o->deny) {
      cmi_abi_store(e)->hook = hook;
      cmi_abi_store(e)->hook_env = o;
    }
    int def = load(e, path, bytes, len);
    int inst = def < 0 ? -1 : instantiate(e, o, path, bytes, len, def);
    if (inst >= 0) {
      cli_trace_name_instance(&o->names, cmi_instance(e, inst), "");
      cli_trace_name_registered(&o->names, e); /* host functions */
      rc = o->call ? invoke(e, o, inst, o->call) : 0;
    }
  }
  cmi_engine_free(e);
  free_opts(o);
  return rc;
}
