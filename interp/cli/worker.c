/* `cmref worker`: the harness's JSON-lines protocol (harness/engines/PROTOCOL.md) on
 * stdin/stdout. One request per line, one reply per line, in order.
 *
 * instantiate and invoke requests may carry "fuel": N (at most N instructions; running out is
 * an exhaustion error marked "out_of_fuel": true) and, for components, "trace": true (the
 * reply, ok or error, carries the text of the boundary crossings: cli/trace.h). */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/trace.h"
#include "cmref.h"
#include "component/component.h"
#include "component/instantiate.h"

/* component handles (definitions and instances) are offset from core ones */
#define COMPONENT_HANDLE_BASE (1 << 24)
#define TRACE_MAX_LINES 200 /* a trace keeps its first lines and counts the rest */

static void reply(json_t *r) {
  char *s = json_dumps(r, JSON_COMPACT);
  fputs(s, stdout);
  fputc('\n', stdout);
  fflush(stdout);
  free(s);
  json_decref(r);
}

static json_t *error_reply(json_t *id, const cmref_error *err) {
  const char *kind = cmref_errkind_name(err->kind);
  if (err->kind == CMREF_INTERNAL) return json_pack("{s:O, s:s}", "id", id, "fatal", err->message);
  return json_pack("{s:O, s:{s:s, s:s}}", "id", id, "error", "kind", kind, "message", err->message);
}

static json_t *ok_int(json_t *id, const char *key, int v) {
  return json_pack("{s:O, s:{s:i}}", "id", id, "ok", key, v);
}

/* Components are decoded, validated and kept for instantiation. Optional request fields:
 * "features": {"wasmtime_profile": true} (wasmtime's rules beyond the spec; also "profile":
 * "wasmtime") and {"component_model_implements": false}. */
static json_t *load_component(cmi_engine *ce, json_t *id, json_t *req) {
  const char *path = json_string_value(json_object_get(req, "path"));
  size_t len;
  unsigned char *bytes = path ? cli_read_file(path, &len) : NULL;
  if (!bytes) return json_pack("{s:O, s:s}", "id", id, "fatal", "cannot read component file");
  const char *profile = json_string_value(json_object_get(req, "profile"));
  json_t *impl = json_object_get(json_object_get(req, "features"), "component_model_implements");
  bool wasmtime = (profile && strcmp(profile, "wasmtime") == 0) ||
                  json_is_true(json_object_get(json_object_get(req, "features"), "wasmtime_profile"));
  cmc_comp_options opts = {wasmtime, json_is_false(impl),
                           json_is_true(json_object_get(json_object_get(req, "features"),
                                                        "component_model_nested_names"))};
  cmc_error cerr;
  int h = cmi_load(ce, bytes, len, &opts, &cerr);
  free(bytes);
  if (h < 0) {
    cmref_error err = {.kind = cerr.kind};
    cmc_error_copy(err.message, sizeof err.message, &cerr);
    return error_reply(id, &err);
  }
  return ok_int(id, "module", COMPONENT_HANDLE_BASE + h);
}

/* a component-layer error: `unsupported` when cmref lacks the feature */
static json_t *component_error(json_t *id, const cm_error *cerr) {
  if (cmi_is_unsupported(cerr))
    return json_pack("{s:O, s:s}", "id", id, "unsupported",
                     strncmp(cerr->message, CMI_UNSUPPORTED, strlen(CMI_UNSUPPORTED)) == 0
                         ? cerr->message + strlen(CMI_UNSUPPORTED) : cerr->message);
  cmref_error err = {.kind = cerr->kind};
  snprintf(err.message, sizeof err.message, "%s", cerr->message);
  return error_reply(id, &err);
}

static json_t *component_op(cmi_engine *ce, json_t *id, const char *op, json_t *req) {
  int h = (int)json_integer_value(json_object_get(req, strcmp(op, "instantiate") == 0 ? "module" : "instance")) -
          COMPONENT_HANDLE_BASE;
  cm_error err = {0};
  if (strcmp(op, "instantiate") == 0) {
    int inst = cmi_instantiate(ce, h, &err);
    return inst < 0 ? component_error(id, &err) : ok_int(id, "instance", COMPONENT_HANDLE_BASE + inst);
  }
  if (strcmp(op, "register") == 0) {
    const char *as = json_string_value(json_object_get(req, "as"));
    if (!as || !cmi_register(ce, h, as, &err)) return component_error(id, &err);
    return json_pack("{s:O, s:{}}", "id", id, "ok");
  }
  if (strcmp(op, "invoke") == 0) {
    const char *field = json_string_value(json_object_get(req, "field"));
    json_t *r = cmi_invoke(ce, h, field ? field : "", json_object_get(req, "args"), &err);
    if (!r) return component_error(id, &err);
    return json_pack("{s:O, s:{s:o}}", "id", id, "ok", "results", r);
  }
  return json_pack("{s:O, s:s}", "id", id, "fatal", "component instances have no globals");
}

static bool is_component_request(const char *op, json_t *req) {
  const char *key = strcmp(op, "instantiate") == 0 ? "module" : "instance";
  if (strcmp(op, "load") == 0 || strcmp(op, "reset") == 0 || strcmp(op, "version") == 0) return false;
  return json_integer_value(json_object_get(req, key)) >= COMPONENT_HANDLE_BASE;
}

static json_t *do_load(cmref_engine *e, cmi_engine *ce, json_t *id, json_t *req) {
  if (json_is_true(json_object_get(req, "component"))) return load_component(ce, id, req);
  const char *path = json_string_value(json_object_get(req, "path"));
  size_t len;
  unsigned char *bytes = path ? cli_read_file(path, &len) : NULL;
  if (!bytes) return json_pack("{s:O, s:s}", "id", id, "fatal", "cannot read module file");
  /* optional "features": {"multi_memory": true} (wasmtime's `;;!` names) */
  json_t *features = json_object_get(req, "features");
  unsigned mask = json_is_true(json_object_get(features, "multi_memory")) ? CMREF_FEATURE_MULTI_MEMORY : 0;
  if (json_is_true(json_object_get(features, "gc"))) mask |= CMREF_FEATURE_GC;
  cmref_error err;
  int h = cmref_load_module_ex(e, bytes, len, mask, &err);
  free(bytes);
  return h < 0 ? error_reply(id, &err) : ok_int(id, "module", h);
}

static json_t *json_results(json_t *id, char *text, const cmref_error *err, bool wrap) {
  if (!text) return error_reply(id, err);
  json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
  free(text);
  if (wrap) {
    json_t *arr = json_array();
    json_array_append_new(arr, v);
    v = arr;
  }
  return json_pack("{s:O, s:{s:o}}", "id", id, "ok", "results", v);
}

static json_t *handle(cmref_engine *e, cmi_engine *ce, json_t *req) {
  json_t *id = json_object_get(req, "id");
  const char *op = json_string_value(json_object_get(req, "op"));
  cmref_error err = {0};
  if (!id) id = json_null();
  if (!op) return json_pack("{s:O, s:s}", "id", id, "fatal", "request without op");
  if (strcmp(op, "version") == 0)
    return json_pack("{s:O, s:{s:s}}", "id", id, "ok", "version", cmref_version());
  if (is_component_request(op, req)) return component_op(ce, id, op, req);
  if (strcmp(op, "reset") == 0) {
    cmi_reset(ce);
    if (cmref_reset(e, &err) < 0) return error_reply(id, &err);
    return json_pack("{s:O, s:{}}", "id", id, "ok");
  }
  if (strcmp(op, "load") == 0) return do_load(e, ce, id, req);
  int inst = (int)json_integer_value(json_object_get(req, "instance"));
  if (strcmp(op, "instantiate") == 0) {
    int h = cmref_instantiate(e, (int)json_integer_value(json_object_get(req, "module")), &err);
    return h < 0 ? error_reply(id, &err) : ok_int(id, "instance", h);
  }
  if (strcmp(op, "register") == 0) {
    const char *as = json_string_value(json_object_get(req, "as"));
    if (!as || cmref_register(e, inst, as, &err) < 0) return error_reply(id, &err);
    return json_pack("{s:O, s:{}}", "id", id, "ok");
  }
  json_t *jfield = json_object_get(req, "field");
  const char *field = json_string_value(jfield);
  size_t flen = json_string_length(jfield);
  if (!field) field = "";
  if (strcmp(op, "invoke") == 0) {
    json_t *args = json_object_get(req, "args");
    char *a = args ? json_dumps(args, JSON_COMPACT) : NULL;
    char *r = cmref_invoke(e, inst, field, flen, a ? a : "[]", &err);
    free(a);
    return json_results(id, r, &err, false);
  }
  if (strcmp(op, "get") == 0) return json_results(id, cmref_get(e, inst, field, flen, &err), &err, true);
  return json_pack("{s:O, s:s}", "id", id, "fatal", "unknown op");
}

/* ---- per-request limits and traces ---- */

static bool executes(const char *op) {
  return op && (strcmp(op, "instantiate") == 0 || strcmp(op, "invoke") == 0);
}

/* The request's "fuel" for both stores (none: unlimited). */
static bool set_fuel(cmref_engine *e, cmi_engine *ce, json_t *req) {
  json_t *f = json_object_get(req, "fuel");
  bool limited = json_is_integer(f) && json_integer_value(f) >= 0;
  uint64_t fuel = limited ? (uint64_t)json_integer_value(f) : UINT64_MAX;
  cmref_set_fuel(e, fuel);
  cm_store_set_fuel(cmi_core_store(ce), fuel);
  return limited;
}

static int trace_hook(void *env, const cmref_crossing *c, char *msg, size_t n) {
  (void)msg, (void)n;
  cli_trace_crossing(env, c, false);
  return 0;
}

/* Starts a trace of a component request: the invoked instance's exports are named as
 * `cmref run` names them, registered items by their registered names. */
static bool trace_start(cmi_engine *ce, json_t *req, cli_trace *t, char **text, size_t *len) {
  memset(t, 0, sizeof *t);
  t->max_lines = TRACE_MAX_LINES;
  t->out = open_memstream(text, len);
  if (!t->out) return false;
  json_t *inst = json_object_get(req, "instance");
  if (inst) cli_trace_name_instance(t, cmi_instance(ce, (int)json_integer_value(inst) - COMPONENT_HANDLE_BASE), "");
  cli_trace_name_registered(t, ce);
  cmi_abi_store(ce)->hook = trace_hook;
  cmi_abi_store(ce)->hook_env = t;
  return true;
}

/* Ends the trace and puts its text into the reply's ok or error object. */
static void trace_end(cmi_engine *ce, cli_trace *t, char **text, json_t *reply) {
  cmi_abi_store(ce)->hook = NULL;
  cmi_abi_store(ce)->hook_env = NULL;
  cli_trace_finish(t);
  fclose(t->out); /* sets *text */
  cli_trace_free(t);
  json_t *obj = json_object_get(reply, "ok");
  if (!obj) obj = json_object_get(reply, "error");
  if (obj && *text && **text) json_object_set_new(obj, "trace", json_string(*text));
  free(*text);
}

/* handle() with the request's fuel and trace; out-of-fuel errors are marked. */
static json_t *handle_limited(cmref_engine *e, cmi_engine *ce, json_t *req) {
  const char *op = json_string_value(json_object_get(req, "op"));
  if (!executes(op)) return handle(e, ce, req);
  bool limited = set_fuel(e, ce, req);
  cli_trace t;
  char *text = NULL;
  size_t len = 0;
  bool traced = json_is_true(json_object_get(req, "trace")) && is_component_request(op, req) &&
                trace_start(ce, req, &t, &text, &len);
  json_t *reply = handle(e, ce, req);
  if (traced) trace_end(ce, &t, &text, reply);
  json_t *error = json_object_get(reply, "error");
  const char *msg = json_string_value(json_object_get(error, "message"));
  if (limited && msg && strstr(msg, cm_trap_message(CM_TRAP_OUT_OF_FUEL)))
    json_object_set_new(error, "out_of_fuel", json_true());
  return reply;
}

int cli_worker(void) {
  cmref_engine *e = cmref_engine_new();
  cmi_engine *ce = cmi_engine_new();
  if (!e || !ce) {
    fprintf(stderr, "cmref worker: out of memory\n");
    cmi_engine_free(ce);
    cmref_engine_free(e);
    return 1;
  }
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  while ((n = getline(&line, &cap, stdin)) > 0) {
    json_error_t jerr;
    json_t *req = json_loadb(line, (size_t)n, JSON_ALLOW_NUL, &jerr);
    if (!req) {
      reply(json_pack("{s:n, s:s}", "id", "fatal", "request is not JSON"));
      continue;
    }
    reply(handle_limited(e, ce, req));
    json_decref(req);
  }
  free(line);
  cmi_engine_free(ce);
  cmref_engine_free(e);
  return 0;
}
