/* The embedding API (cmref.h), after the spec interpreter's script/embed.ml: an engine is a
 * store plus modules, instances and registered names, addressed by handles. Values are
 * JSON in the json-from-wast schema, read and written with jansson. */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/embed.h"
#include "core/exec_internal.h"
#include "core/validate.h"

static int fail(cmref_error *err, cmref_errkind kind, const char *msg) {
  if (err) {
    err->kind = kind;
    snprintf(err->message, sizeof err->message, "%s", msg);
  }
  return -1;
}

static void copy_error(cmref_error *out, const cm_error *in) {
  if (!out) return;
  out->kind = in->kind;
  snprintf(out->message, sizeof out->message, "%s", in->message);
}

static bool push(void ***arr, int *n, int *cap, void *p) {
  if (*n == *cap) {
    int c = *cap ? *cap * 2 : 16;
    void **g = realloc(*arr, (size_t)c * sizeof *g);
    if (!g) return false;
    *arr = g;
    *cap = c;
  }
  (*arr)[(*n)++] = p;
  return true;
}

static void clear(cmref_engine *e) {
  for (int i = 0; i < e->nmodules; i++) cm_module_free(e->modules[i]);
  e->nmodules = 0;
  e->ninstances = 0;
  for (int i = 0; i < e->nregs; i++) free(e->regs[i].name);
  e->nregs = 0;
  cm_store_free(e->store);
  e->store = NULL;
}

cmref_engine *cmref_engine_new(void) {
  cmref_engine *e = calloc(1, sizeof *e);
  if (!e) return NULL;
  if (cmref_reset(e, NULL) < 0) {
    cmref_engine_free(e);
    return NULL;
  }
  return e;
}

void cmref_engine_free(cmref_engine *e) {
  if (!e) return;
  clear(e);
  free(e->modules);
  free(e->instances);
  free(e->regs);
  free(e);
}

int cmref_reset(cmref_engine *e, cmref_error *err) {
  clear(e);
  e->store = cm_store_new();
  if (!e->store) return fail(err, CMREF_INTERNAL, "out of memory");
  cm_error cerr;
  if (!cm_spectest_register(e, &cerr)) {
    copy_error(err, &cerr);
    return -1;
  }
  return 0;
}

int cmref_load_module(cmref_engine *e, const unsigned char *bytes, size_t len, cmref_error *err) {
  return cmref_load_module_ex(e, bytes, len, 0, err);
}

int cmref_load_module_ex(cmref_engine *e, const unsigned char *bytes, size_t len,
                         unsigned features, cmref_error *err) {
  cm_module *m;
  cm_error cerr;
  cm_core_features f = cm_core_features_wasm2();
  f.multi_memory = (features & CMREF_FEATURE_MULTI_MEMORY) != 0;
  f.gc = (features & CMREF_FEATURE_GC) != 0;
  if (!cm_core_decode(bytes, len, &m, &cerr)) {
    copy_error(err, &cerr);
    return -1;
  }
  if (!cm_core_validate_with(m, &f, &cerr)) {
    cm_module_free(m);
    copy_error(err, &cerr);
    return -1;
  }
  if (!push((void ***)&e->modules, &e->nmodules, &e->capmodules, m)) {
    cm_module_free(m);
    return fail(err, CMREF_INTERNAL, "out of memory");
  }
  return e->nmodules - 1;
}

/* ---- registered names ---- */

bool cm_embed_register_host(cmref_engine *e, const char *name, cm_host_export *exports, uint32_t n) {
  cm_registered r = {0};
  r.name = strdup(name);
  r.host = exports;
  r.nhost = n;
  if (!r.name) return false;
  if (e->nregs == e->capregs) {
    int c = e->capregs ? e->capregs * 2 : 8;
    cm_registered *g = realloc(e->regs, (size_t)c * sizeof *g);
    if (!g) {
      free(r.name);
      return false;
    }
    e->regs = g;
    e->capregs = c;
  }
  e->regs[e->nregs++] = r;
  return true;
}

int cmref_register(cmref_engine *e, int instance, const char *name, cmref_error *err) {
  if (instance < 0 || instance >= e->ninstances) return fail(err, CMREF_INTERNAL, "bad instance handle");
  if (!cm_embed_register_host(e, name, NULL, 0)) return fail(err, CMREF_INTERNAL, "out of memory");
  e->regs[e->nregs - 1].inst = e->instances[instance];
  return 0;
}

/* Looks up module::name among the registered names (latest registration first). */
static bool resolve(cmref_engine *e, const cm_name *module, const cm_name *name, cm_extern *out) {
  for (int i = e->nregs; i-- > 0;) {
    cm_registered *r = &e->regs[i];
    if (strlen(r->name) != module->len || memcmp(r->name, module->str, module->len) != 0) continue;
    if (r->inst) return cm_instance_export(r->inst, name->str, name->len, out);
    for (uint32_t k = 0; k < r->nhost; k++)
      if (strlen(r->host[k].name) == name->len && memcmp(r->host[k].name, name->str, name->len) == 0) {
        *out = r->host[k].ext;
        return true;
      }
    return false;
  }
  return false;
}

int cmref_instantiate(cmref_engine *e, int module, cmref_error *err) {
  if (module < 0 || module >= e->nmodules) return fail(err, CMREF_INTERNAL, "bad module handle");
  const cm_module *m = e->modules[module];
  cm_extern *imports = calloc(m->nimports + 1, sizeof *imports);
  if (!imports) return fail(err, CMREF_INTERNAL, "out of memory");
  for (uint32_t i = 0; i < m->nimports; i++) {
    if (!resolve(e, &m->imports[i].module, &m->imports[i].name, &imports[i])) {
      char msg[200];
      snprintf(msg, sizeof msg, "unknown import `%.80s::%.80s`", m->imports[i].module.str,
               m->imports[i].name.str);
      free(imports);
      return fail(err, CMREF_UNLINKABLE, msg);
    }
  }
  cm_error cerr;
  cm_instance *inst = cm_core_instantiate(e->store, m, imports, m->nimports, &cerr);
  free(imports);
  if (!inst) {
    copy_error(err, &cerr);
    return -1;
  }
  if (!push((void ***)&e->instances, &e->ninstances, &e->capinstances, inst))
    return fail(err, CMREF_INTERNAL, "out of memory");
  return e->ninstances - 1;
}

/* ---- values: json-from-wast <-> cm_value ---- */

static int lane_bytes(const char *lane) {
  if (strcmp(lane, "i8") == 0) return 1;
  if (strcmp(lane, "i16") == 0) return 2;
  if (strcmp(lane, "i32") == 0 || strcmp(lane, "f32") == 0) return 4;
  if (strcmp(lane, "i64") == 0 || strcmp(lane, "f64") == 0) return 8;
  return 0;
}

static bool parse_u64(const char *s, uint64_t *out) {
  if (!s || !*s) return false;
  char *end;
  *out = strtoull(s, &end, 10);
  return *end == 0;
}

bool cm_value_from_json(json_t *j, cm_valtype want, cm_value *out) {
  memset(out, 0, sizeof *out);
  const char *type = json_string_value(json_object_get(j, "type"));
  json_t *v = json_object_get(j, "value");
  if (!type) return false;
  if (want == CM_V128) {
    const char *lane = json_string_value(json_object_get(j, "lane_type"));
    int nb = lane ? lane_bytes(lane) : 0;
    if (!nb || !json_is_array(v) || json_array_size(v) != (size_t)(16 / nb)) return false;
    for (int i = 0; i < 16 / nb; i++) {
      uint64_t bits;
      if (!parse_u64(json_string_value(json_array_get(v, (size_t)i)), &bits)) return false;
      for (int b = 0; b < nb; b++) out->v128[i * nb + b] = (uint8_t)(bits >> (8 * b));
    }
    return true;
  }
  const char *s = json_string_value(v);
  if (strcmp(type, cm_valtype_name(want)) != 0 || !s) return false;
  if (cm_valtype_is_ref(want)) {
    uint64_t n;
    if (strcmp(s, "null") == 0) return true;
    if (want != CM_EXTERNREF || !parse_u64(s, &n)) return false;
    out->ref = (cm_ref)(uintptr_t)(n + 1); /* host reference n; NULL stays null */
    return true;
  }
  uint64_t bits;
  if (!parse_u64(s, &bits)) return false;
  if (want == CM_I32 || want == CM_F32) out->i32 = (uint32_t)bits;
  else out->i64 = bits;
  return true;
}

json_t *cm_value_to_json(cm_valtype t, const cm_value *v) {
  char buf[32];
  if (t == CM_V128) {
    json_t *lanes = json_array();
    for (int i = 0; i < 4; i++) {
      uint32_t x;
      memcpy(&x, v->v128 + 4 * i, 4);
      snprintf(buf, sizeof buf, "%" PRIu32, x);
      json_array_append_new(lanes, json_string(buf));
    }
    return json_pack("{s:s, s:s, s:o}", "type", "v128", "lane_type", "i32", "value", lanes);
  }
  if (t == CM_EXTERNREF)
    snprintf(buf, sizeof buf, v->ref ? "%" PRIuPTR : "null", (uintptr_t)v->ref - 1);
  else if (cm_valtype_is_ref(t))
    snprintf(buf, sizeof buf, v->ref ? "%" PRIuPTR : "null", (uintptr_t)v->ref);
  else if (t == CM_I32 || t == CM_F32)
    snprintf(buf, sizeof buf, "%" PRIu32, v->i32);
  else
    snprintf(buf, sizeof buf, "%" PRIu64, v->i64);
  return json_pack("{s:s, s:s}", "type", cm_valtype_name(t), "value", buf);
}

static char *results_json(const cm_functype *t, const cm_value *res) {
  json_t *arr = json_array();
  for (uint32_t i = 0; i < t->nresults; i++)
    json_array_append_new(arr, cm_value_to_json(t->results[i], &res[i]));
  char *out = json_dumps(arr, JSON_COMPACT);
  json_decref(arr);
  return out;
}

static bool lookup(cmref_engine *e, int instance, const char *field, size_t len,
                   cm_externkind kind, cm_extern *out, cmref_error *err) {
  if (instance < 0 || instance >= e->ninstances) {
    fail(err, CMREF_INTERNAL, "bad instance handle");
    return false;
  }
  if (!cm_instance_export(e->instances[instance], field, len, out) || out->kind != kind) {
    char msg[200];
    snprintf(msg, sizeof msg, "unknown %s export `%.100s`", kind == CM_EXTERN_FUNC ? "function" : "global",
             field);
    fail(err, CMREF_INTERNAL, msg);
    return false;
  }
  return true;
}

char *cmref_invoke(cmref_engine *e, int instance, const char *field, size_t field_len,
                   const char *args_json, cmref_error *err) {
  cm_extern ext;
  if (!lookup(e, instance, field, field_len, CM_EXTERN_FUNC, &ext, err)) return NULL;
  const cm_functype *t = ext.u.func->type;
  json_t *args = json_loads(args_json, 0, NULL);
  if (!json_is_array(args) || json_array_size(args) != t->nparams) {
    json_decref(args);
    fail(err, CMREF_INTERNAL, "wrong number of arguments");
    return NULL;
  }
  cm_value *vals = calloc((size_t)t->nparams + t->nresults + 1, sizeof *vals);
  bool ok = vals != NULL;
  for (uint32_t i = 0; ok && i < t->nparams; i++)
    ok = cm_value_from_json(json_array_get(args, i), t->params[i], &vals[i]);
  json_decref(args);
  if (!ok) {
    free(vals);
    fail(err, CMREF_INTERNAL, "bad argument value");
    return NULL;
  }
  cm_error cerr;
  char *out = NULL;
  if (cm_core_invoke(e->store, ext.u.func, vals, vals + t->nparams, &cerr))
    out = results_json(t, vals + t->nparams);
  else
    copy_error(err, &cerr);
  free(vals);
  return out;
}

char *cmref_get(cmref_engine *e, int instance, const char *field, size_t field_len,
                cmref_error *err) {
  cm_extern ext;
  if (!lookup(e, instance, field, field_len, CM_EXTERN_GLOBAL, &ext, err)) return NULL;
  json_t *v = cm_value_to_json(ext.u.global->type.type, &ext.u.global->val);
  char *out = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
  json_decref(v);
  return out;
}

cm_store *cm_embed_store(cmref_engine *e) { return e->store; }

void cmref_set_fuel(cmref_engine *e, unsigned long long fuel) { cm_store_set_fuel(e->store, fuel); }
