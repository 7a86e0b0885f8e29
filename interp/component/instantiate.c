/* Component instantiation (instantiate.h). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation" /* messages are truncated on purpose */
#endif
#include "component/instantiate.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "component/abi_core.h"
#include "component/concurrency.h"
#include "component/host.h"
#include "component/link.h"
#include "component/reader.h"
#include "component/resources.h"
#include "component/types.h"

/* ---- the engine ---------------------------------------------------------------------- */

typedef struct cmi_def {
  uint8_t *bytes;
  cmc_comp_result res;
} cmi_def;

typedef struct cmi_reg {
  const char *name;
  cmi_item item;
} cmi_reg;

struct cmi_engine {
  cm_store *store;
  cma_store astore;
  cmc_arena arena;
  cmc_types host_types;
  cmi_def **defs; /* each allocated on its own: frames point at their types */
  uint32_t ndefs, capdefs;
  cmi_inst **insts;
  uint32_t ninsts, capinsts;
  cmi_reg *regs;
  uint32_t nregs, capregs;
  cmi_frame *frames; /* every frame, for cma_instance_free */
  cm_module **modules;
  uint32_t nmodules, capmodules;
  cma_instance **hosts; /* host component instances (own handle tables) */
  uint32_t nhosts, caphosts;
  bool host_ok;         /* wasmtime's host items are registered */
  /* the storage (context.get/set) of the current thread of each running task: a sync task
   * has one implicit thread, so a stack of tasks in progress */
  uint32_t (*storage)[2];
  struct task_wrap **owners;
  uint32_t nstorage, capstorage, capowners;
  int32_t cur; /* the running task's storage, -1: none */
  /* a realloc runs in a new thread of its own (LiftLowerContext.reallocate): its storage */
  bool in_realloc;
  uint32_t realloc_storage[2];
};

typedef struct resbind {
  cmc_tid tid;
  cma_resource_type *rt;
} resbind;

struct cmi_frame {
  cmi_engine *e;
  cmi_frame *outer;    /* lexically enclosing frame (outer aliases) */
  cmi_frame *next_all; /* engine list */
  cmc_component *def;
  cmc_types *types;
  cmi_item *sp[CMC_SP_COUNT];
  uint32_t len[CMC_SP_COUNT];
  cma_instance ci;
  resbind *binds;
  uint32_t nbinds, capbinds;
  const char **exp_names;
  cmi_item *exp_items;
  uint32_t nexp;
  const cmi_item *args; /* instantiation arguments by name */
  const char *const *arg_names;
  uint32_t nargs;
  uint32_t next_nested;
  bool root;
};

static bool fail(cm_error *err, cmref_errkind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool fail(cm_error *err, cmref_errkind kind, const char *fmt, ...) {
  if (!err) return false;
  va_list ap;
  va_start(ap, fmt);
  err->kind = kind;
  vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  return false;
}
static bool oom(cm_error *err) { return fail(err, CMREF_EXHAUSTION, "out of memory"); }

bool cmi_is_unsupported(const cm_error *err) {
  return strncmp(err->message, CMI_UNSUPPORTED, strlen(CMI_UNSUPPORTED)) == 0 ||
         (err->kind == CMREF_INTERNAL && strstr(err->message, "not supported yet"));
}

void *cmi_alloc(cmi_engine *e, size_t size) { return cmc_arena_alloc(&e->arena, size ? size : 1); }
cm_store *cmi_core_store(cmi_engine *e) { return e->store; }
cma_store *cmi_abi_store(cmi_engine *e) { return &e->astore; }
cmc_types *cmi_host_types(cmi_engine *e) { return &e->host_types; }

static bool grow(void **v, uint32_t *cap, uint32_t len, size_t elem) {
  if (len < *cap) return true;
  uint32_t ncap = *cap ? *cap * 2 : 8;
  void *n = realloc(*v, (size_t)ncap * elem);
  if (!n) return false;
  *v = n;
  *cap = ncap;
  return true;
}

static bool engine_init(cmi_engine *e) {
  memset(e, 0, sizeof *e);
  e->store = cm_store_new();
  if (!e->store || !cmc_types_init(&e->host_types)) return false;
  cm_error err;
  e->host_ok = cmi_host_register(e, &err);
  e->cur = -1;
  return true;
}

cma_instance *cmi_host_instance(cmi_engine *e) {
  cma_instance *i = cmi_alloc(e, sizeof *i);
  if (!i || !grow((void **)&e->hosts, &e->caphosts, e->nhosts, sizeof *e->hosts)) return NULL;
  if (!cma_instance_init(i, &e->astore, NULL)) return NULL;
  e->hosts[e->nhosts++] = i;
  return i;
}

static bool keep_module(cmi_engine *e, cm_module *m, cm_error *err) {
  if (!grow((void **)&e->modules, &e->capmodules, e->nmodules, sizeof *e->modules)) {
    cm_module_free(m);
    return oom(err);
  }
  e->modules[e->nmodules++] = m;
  return true;
}

bool cmi_host_module(cmi_engine *e, const uint8_t *bytes, size_t len, cm_module **out, cm_error *err) {
  if (!cm_core_decode(bytes, len, out, err)) return false;
  return keep_module(e, *out, err);
}

static void engine_clear(cmi_engine *e) {
  cmx_store_free(&e->astore);
  cma_hook_free_pending(&e->astore);
  for (cmi_frame *f = e->frames; f; f = f->next_all) {
    cma_instance_free(&f->ci);
    free(f->binds);
  }
  for (uint32_t i = 0; i < e->ndefs; i++) {
    cmc_comp_free(&e->defs[i]->res);
    free(e->defs[i]->bytes);
    free(e->defs[i]);
  }
  for (uint32_t i = 0; i < e->nmodules; i++) cm_module_free(e->modules[i]);
  for (uint32_t i = 0; i < e->nhosts; i++) cma_instance_free(e->hosts[i]);
  free(e->hosts);
  free(e->storage);
  free(e->owners);
  free(e->defs);
  free(e->insts);
  free(e->regs);
  free(e->modules);
  if (e->store) cm_store_free(e->store);
  cmc_types_free(&e->host_types);
  cmc_arena_free(&e->arena);
}

cmi_engine *cmi_engine_new(void) {
  cmi_engine *e = malloc(sizeof *e);
  if (!e) return NULL;
  if (!engine_init(e)) {
    engine_clear(e);
    free(e);
    return NULL;
  }
  return e;
}

void cmi_engine_free(cmi_engine *e) {
  if (!e) return;
  engine_clear(e);
  free(e);
}

void cmi_reset(cmi_engine *e) {
  engine_clear(e);
  (void)engine_init(e);
}

int cmi_load(cmi_engine *e, const uint8_t *bytes, size_t len, const cmc_comp_options *opts,
             cmc_error *err) {
  if (!grow((void **)&e->defs, &e->capdefs, e->ndefs, sizeof *e->defs))
    return cmc_fail(err, CMREF_INTERNAL, "out of memory"), -1;
  cmi_def *d = calloc(1, sizeof *d);
  if (!d) return cmc_fail(err, CMREF_INTERNAL, "out of memory"), -1;
  d->bytes = malloc(len ? len : 1);
  if (!d->bytes) {
    free(d);
    return cmc_fail(err, CMREF_INTERNAL, "out of memory"), -1;
  }
  memcpy(d->bytes, bytes, len);
  if (!cmc_comp_validate(d->bytes, len, opts, &d->res, err)) {
    cmc_comp_free(&d->res);
    free(d->bytes);
    free(d);
    return -1;
  }
  e->defs[e->ndefs] = d;
  return (int)e->ndefs++;
}

/* ---- frames: index spaces and resource bindings ------------------------------------- */

static int sort_space(int sort) {
  switch (sort) {
  case CMC_SORT_FUNC: return CMC_SP_FUNC;
  case CMC_SORT_VALUE: return CMC_SP_VALUE;
  case CMC_SORT_TYPE: return CMC_SP_TYPE;
  case CMC_SORT_COMPONENT: return CMC_SP_COMPONENT;
  case CMC_SORT_INSTANCE: return CMC_SP_INSTANCE;
  case CMC_SORT_CORE + CMC_CORE_FUNC: return CMC_SP_CORE_FUNC;
  case CMC_SORT_CORE + CMC_CORE_TABLE: return CMC_SP_CORE_TABLE;
  case CMC_SORT_CORE + CMC_CORE_MEMORY: return CMC_SP_CORE_MEMORY;
  case CMC_SORT_CORE + CMC_CORE_GLOBAL: return CMC_SP_CORE_GLOBAL;
  case CMC_SORT_CORE + CMC_CORE_TAG: return CMC_SP_CORE_TAG;
  case CMC_SORT_CORE + CMC_CORE_TYPE: return CMC_SP_CORE_TYPE;
  case CMC_SORT_CORE + CMC_CORE_MODULE: return CMC_SP_CORE_MODULE;
  case CMC_SORT_CORE + CMC_CORE_INSTANCE: return CMC_SP_CORE_INSTANCE;
  default: return -1;
  }
}

static bool bind(cmi_frame *f, cmc_tid tid, cma_resource_type *rt, cm_error *err) {
  cmc_tid ids[2] = {tid, cmc_res_root(f->types, tid)};
  for (int k = 0; k < (ids[1] != ids[0] ? 2 : 1); k++) {
    if (!grow((void **)&f->binds, &f->capbinds, f->nbinds, sizeof *f->binds)) return oom(err);
    f->binds[f->nbinds++] = (resbind){ids[k], rt};
  }
  return true;
}

static cma_resource_type *lookup_bind(cmi_frame *f, cmc_tid tid) {
  for (uint32_t i = f->nbinds; i-- > 0;)
    if (f->binds[i].tid == tid) return f->binds[i].rt;
  return NULL;
}

static cma_resource_type *resolve_resource(cma_instance *self, cmc_types *types, cmc_tid tid) {
  cmi_frame *f = self->env;
  for (; f; f = f->outer) {
    if (f->types != types) continue;
    cma_resource_type *rt = lookup_bind(f, tid);
    if (!rt) rt = lookup_bind(f, cmc_res_root(types, tid));
    if (rt) return rt;
  }
  return NULL;
}

static const cmi_item *inst_export(const cmi_inst *inst, const char *name) {
  for (uint32_t i = 0; i < inst->n; i++)
    if (strcmp(inst->names[i], name) == 0) return &inst->items[i];
  return NULL;
}

/* binds the resource types exported by an instance of type it to the runtime ones of inst */
static bool bind_instance(cmi_frame *f, cmc_tid it, const cmi_inst *inst, unsigned depth,
                          cm_error *err) {
  const cmc_type *t = &f->types->v[it];
  if (depth > CMC_HARD_DEPTH || t->kind != CMC_T_INSTANCE) return true;
  for (uint32_t i = 0; i < t->nexports; i++) {
    const cmc_extern *x = &t->exports[i];
    const cmi_item *item = inst_export(inst, x->name);
    if (!item) continue;
    if (x->sort == CMC_SORT_TYPE && f->types->v[x->type].kind == CMC_T_RESOURCE && item->u.rt) {
      if (!bind(f, x->type, item->u.rt, err)) return false;
    } else if (x->sort == CMC_SORT_INSTANCE && item->sort == CMC_SORT_INSTANCE) {
      if (!bind_instance(f, x->type, item->u.inst, depth + 1, err)) return false;
    }
  }
  return true;
}

static bool push(cmi_frame *f, int sort, cmi_item item, cm_error *err) {
  int s = sort_space(sort);
  if (s < 0) return fail(err, CMREF_INTERNAL, "instantiation: unknown sort %d", sort);
  uint32_t idx = f->len[s];
  if (idx >= f->def->spaces[s].len)
    return fail(err, CMREF_INTERNAL, "instantiation: index space %d out of step with validation", s);
  item.sort = sort;
  item.types = f->types;
  item.type = f->def->spaces[s].v[idx].type;
  f->sp[s][idx] = item;
  f->len[s]++;
  if (sort == CMC_SORT_TYPE && f->types->v[item.type].kind == CMC_T_RESOURCE) {
    if (!item.u.rt) return fail(err, CMREF_INTERNAL, "instantiation: resource type %u has no runtime type", idx);
    return bind(f, item.type, item.u.rt, err);
  }
  if (sort == CMC_SORT_INSTANCE) return bind_instance(f, item.type, item.u.inst, 0, err);
  return true;
}

static bool get(cmi_frame *f, int sort, uint32_t idx, cmi_item *out, cm_error *err) {
  int s = sort_space(sort);
  if (s < 0 || idx >= f->len[s])
    return fail(err, CMREF_INTERNAL, "instantiation: index %u of sort %d not defined yet", idx, sort);
  *out = f->sp[s][idx];
  return true;
}

/* ---- reading the binary ----------------------------------------------------------------- */

typedef struct walker {
  cmi_frame *f;
  cmi_engine *e;
  cmc_reader r;
  cmc_error cerr;
  cm_error *err;
} walker;

static bool rd_fail(walker *w) {
  return fail(w->err, CMREF_INTERNAL, "instantiation: cannot re-read the binary: %s", w->cerr.message);
}
static bool rd_u32(walker *w, uint32_t *out) { return cmc_read_u32(&w->r, out) || rd_fail(w); }
static bool rd_byte(walker *w, uint8_t *out) { return cmc_read_byte(&w->r, out) || rd_fail(w); }
static bool rd_name(walker *w, const char **out) { return cmc_read_name(&w->r, out) || rd_fail(w); }

/* sort: byte, core sorts 0x00 + core sort byte */
static bool rd_sort(walker *w, int *sort) {
  uint8_t b = 0, c = 0;
  if (!rd_byte(w, &b)) return false;
  if (b != 0) {
    *sort = b;
    return true;
  }
  if (!rd_byte(w, &c)) return false;
  *sort = CMC_SORT_CORE + c;
  return true;
}

static bool rd_nameattributes(walker *w, const char **name) {
  uint8_t b = 0;
  if (!rd_byte(w, &b) || !rd_name(w, name)) return false;
  if (b != 2) return true;
  uint32_t n = 0;
  if (!rd_u32(w, &n)) return false;
  for (uint32_t i = 0; i < n; i++) {
    uint8_t k;
    const char *s;
    if (!rd_byte(w, &k) || !rd_name(w, &s)) return false;
  }
  return true;
}

/* externtype (skipped: the validator's index spaces give the types) */
static bool rd_externtype(walker *w) {
  uint8_t b = 0, k = 0;
  uint32_t x = 0;
  if (!rd_byte(w, &b)) return false;
  switch (b) {
  case 0x00: return rd_byte(w, &k) && rd_u32(w, &x);
  case 0x03:
    if (!rd_byte(w, &k)) return false;
    return k == 1 || rd_u32(w, &x);
  default: return rd_u32(w, &x);
  }
}

/* a valtype as a type id of the frame's arena (issue 8: task.return's result) */
static bool rd_valtype_tid(walker *w, cmc_tid *out) {
  int64_t v;
  if (!cmc_read_s33(&w->r, &v)) return rd_fail(w);
  if (v < 0) {
    *out = cmc_prim_tid((uint8_t)(v & 0x7f));
    return *out != CMC_NONE || fail(w->err, CMREF_INTERNAL, "instantiation: valtype %lld", (long long)v);
  }
  if ((uint64_t)v >= w->f->def->spaces[CMC_SP_TYPE].len)
    return fail(w->err, CMREF_INTERNAL, "instantiation: type index %lld", (long long)v);
  *out = w->f->def->spaces[CMC_SP_TYPE].v[v].type;
  return true;
}

/* ---- core instances ----------------------------------------------------------------- */

static bool coreinst_export(const cmi_coreinst *ci, const char *name, size_t len, cm_extern *out) {
  if (ci->inst) return cm_instance_export(ci->inst, name, len, out);
  for (uint32_t i = 0; i < ci->n; i++)
    if (strlen(ci->names[i]) == len && memcmp(ci->names[i], name, len) == 0) {
      *out = ci->v[i];
      return true;
    }
  return false;
}

static bool core_instantiate(walker *w) {
  uint32_t midx = 0, n = 0;
  if (!rd_u32(w, &midx) || !rd_u32(w, &n)) return false;
  const char **names = cmi_alloc(w->e, n * sizeof *names);
  cmi_coreinst **args = cmi_alloc(w->e, n * sizeof *args);
  if (!names || !args) return oom(w->err);
  for (uint32_t i = 0; i < n; i++) {
    uint8_t k;
    uint32_t idx;
    cmi_item it = {0};
    if (!rd_name(w, &names[i]) || !rd_byte(w, &k) || !rd_u32(w, &idx)) return false;
    if (!get(w->f, CMC_SORT_CORE + CMC_CORE_INSTANCE, idx, &it, w->err)) return false;
    args[i] = it.u.coreinst;
  }
  cmi_item mi = {0};
  if (!get(w->f, CMC_SORT_CORE + CMC_CORE_MODULE, midx, &mi, w->err)) return false;
  const cm_module *m = mi.u.module;
  cm_extern *imports = cmi_alloc(w->e, (m->nimports + 1) * sizeof *imports);
  if (!imports) return oom(w->err);
  for (uint32_t i = 0; i < m->nimports; i++) {
    const cm_import *im = &m->imports[i];
    bool found = false;
    for (uint32_t k = 0; k < n && !found; k++)
      if (strlen(names[k]) == im->module.len && memcmp(names[k], im->module.str, im->module.len) == 0)
        found = coreinst_export(args[k], im->name.str, im->name.len, &imports[i]);
    if (!found)
      return fail(w->err, CMREF_UNLINKABLE, "module import `%.*s::%.*s` not defined", (int)im->module.len,
                  im->module.str, (int)im->name.len, im->name.str);
  }
  cm_instance *ci = cm_core_instantiate(w->e->store, m, imports, m->nimports, w->err);
  if (!ci) return false;
  cmi_coreinst *c = cmi_alloc(w->e, sizeof *c);
  if (!c) return oom(w->err);
  c->inst = ci;
  return push(w->f, CMC_SORT_CORE + CMC_CORE_INSTANCE, (cmi_item){.u.coreinst = c}, w->err);
}

static bool core_inline_exports(walker *w) {
  uint32_t n = 0;
  if (!rd_u32(w, &n)) return false;
  cmi_coreinst *c = cmi_alloc(w->e, sizeof *c);
  if (!c) return oom(w->err);
  c->names = cmi_alloc(w->e, n * sizeof *c->names);
  c->v = cmi_alloc(w->e, n * sizeof *c->v);
  if (!c->names || !c->v) return oom(w->err);
  c->n = n;
  for (uint32_t i = 0; i < n; i++) {
    uint8_t k;
    uint32_t idx;
    cmi_item it = {0};
    if (!rd_name(w, &c->names[i]) || !rd_byte(w, &k) || !rd_u32(w, &idx)) return false;
    if (!get(w->f, CMC_SORT_CORE + k, idx, &it, w->err)) return false;
    c->v[i] = it.u.core;
  }
  return push(w->f, CMC_SORT_CORE + CMC_CORE_INSTANCE, (cmi_item){.u.coreinst = c}, w->err);
}

static bool core_instance_item(walker *w) {
  uint8_t b;
  if (!rd_byte(w, &b)) return false;
  return b == 0 ? core_instantiate(w) : core_inline_exports(w);
}

/* ---- component instances ------------------------------------------------------------ */

static bool instantiate_closure(cmi_engine *e, const cmi_closure *c, const char *const *names,
                                const cmi_item *args, uint32_t nargs, cmi_frame *parent,
                                cmi_inst **out, cm_error *err);

static bool instantiate_item(walker *w) {
  uint32_t cidx = 0, n = 0;
  if (!rd_u32(w, &cidx) || !rd_u32(w, &n)) return false;
  const char **names = cmi_alloc(w->e, n * sizeof *names);
  cmi_item *args = cmi_alloc(w->e, n * sizeof *args);
  if (!names || !args) return oom(w->err);
  for (uint32_t i = 0; i < n; i++) {
    int sort;
    uint32_t idx;
    if (!rd_name(w, &names[i]) || !rd_sort(w, &sort) || !rd_u32(w, &idx)) return false;
    if (!get(w->f, sort, idx, &args[i], w->err)) return false;
  }
  cmi_item ci = {0};
  if (!get(w->f, CMC_SORT_COMPONENT, cidx, &ci, w->err)) return false;
  cmi_inst *inst = NULL;
  if (!instantiate_closure(w->e, ci.u.comp, names, args, n, w->f, &inst, w->err)) return false;
  return push(w->f, CMC_SORT_INSTANCE, (cmi_item){.u.inst = inst}, w->err);
}

static bool inline_exports_item(walker *w) {
  uint32_t n = 0;
  if (!rd_u32(w, &n)) return false;
  cmi_inst *inst = cmi_alloc(w->e, sizeof *inst);
  if (!inst) return oom(w->err);
  inst->names = cmi_alloc(w->e, n * sizeof *inst->names);
  inst->items = cmi_alloc(w->e, n * sizeof *inst->items);
  if (!inst->names || !inst->items) return oom(w->err);
  inst->n = n;
  for (uint32_t i = 0; i < n; i++) {
    int sort;
    uint32_t idx;
    if (!rd_nameattributes(w, &inst->names[i]) || !rd_sort(w, &sort) || !rd_u32(w, &idx)) return false;
    if (!get(w->f, sort, idx, &inst->items[i], w->err)) return false;
  }
  return push(w->f, CMC_SORT_INSTANCE, (cmi_item){.u.inst = inst}, w->err);
}

static bool instance_item(walker *w) {
  uint8_t b;
  if (!rd_byte(w, &b)) return false;
  return b == 0 ? instantiate_item(w) : inline_exports_item(w);
}

/* ---- aliases -------------------------------------------------------------------------- */

static bool alias_item(walker *w) {
  uint8_t b1, b2 = 0, target;
  if (!rd_byte(w, &b1)) return false;
  if (b1 == 0 && !rd_byte(w, &b2)) return false;
  if (!rd_byte(w, &target)) return false;
  int sort = b1 == 0 ? CMC_SORT_CORE + b2 : b1;
  uint32_t a = 0, b = 0;
  const char *name;
  cmi_item it = {0};
  switch (target) {
  case 0x00: {
    if (!rd_u32(w, &a) || !rd_name(w, &name)) return false;
    if (!get(w->f, CMC_SORT_INSTANCE, a, &it, w->err)) return false;
    const cmi_item *x = inst_export(it.u.inst, name);
    if (!x) return fail(w->err, CMREF_INTERNAL, "instantiation: instance %u has no export `%s`", a, name);
    return push(w->f, sort, *x, w->err);
  }
  case 0x01: {
    if (!rd_u32(w, &a) || !rd_name(w, &name)) return false;
    if (!get(w->f, CMC_SORT_CORE + CMC_CORE_INSTANCE, a, &it, w->err)) return false;
    cmi_item x = {0};
    if (!coreinst_export(it.u.coreinst, name, strlen(name), &x.u.core))
      return fail(w->err, CMREF_INTERNAL, "instantiation: core instance %u has no export `%s`", a, name);
    return push(w->f, sort, x, w->err);
  }
  default: {
    if (!rd_u32(w, &a) || !rd_u32(w, &b)) return false;
    if (sort == CMC_SORT_CORE + CMC_CORE_TYPE) return true; /* core types: validation only */
    cmi_frame *o = w->f;
    for (uint32_t i = 0; i < a && o; i++) o = o->outer;
    if (!o) return fail(w->err, CMREF_INTERNAL, "instantiation: outer alias beyond the root");
    if (sort == CMC_SORT_TYPE && b >= o->len[CMC_SP_TYPE]) {
      /* a type alias inside a type declaration scope never reaches here; a type the
       * enclosing frame has not recorded carries no runtime resource */
      return push(w->f, sort, (cmi_item){0}, w->err);
    }
    if (!get(o, sort, b, &it, w->err)) return false;
    return push(w->f, sort, it, w->err);
  }
  }
}

/* ---- types ----------------------------------------------------------------------------- */

static bool corefunc_of_item(cmi_engine *e, const cmi_item *it, cma_corefunc *out, cm_error *err) {
  cma_core_callee *c = cmi_alloc(e, sizeof *c);
  if (!c) return oom(err);
  c->store = e->store;
  c->func = it->u.core.u.func;
  *out = cma_corefunc_of(c);
  return true;
}

/* a type definition: a resource definition creates a fresh runtime resource type */
static bool type_item(walker *w) {
  cmi_frame *f = w->f;
  uint32_t idx = f->len[CMC_SP_TYPE];
  if (idx >= f->def->spaces[CMC_SP_TYPE].len)
    return fail(w->err, CMREF_INTERNAL, "instantiation: type index space out of step");
  cmc_tid tid = f->def->spaces[CMC_SP_TYPE].v[idx].type;
  const cmc_type *t = &f->types->v[tid];
  cmi_item item = {0};
  if (t->kind == CMC_T_RESOURCE) {
    cma_resource_type *rt = cmi_alloc(w->e, sizeof *rt);
    if (!rt) return oom(w->err);
    rt->impl = &f->ci;
    if (t->dtor != CMC_NONE) {
      cmi_item d = {0};
      if (!get(f, CMC_SORT_CORE + CMC_CORE_FUNC, t->dtor, &d, w->err)) return false;
      if (!corefunc_of_item(w->e, &d, &rt->dtor, w->err)) return false;
      rt->has_dtor = true;
    }
    item.u.rt = rt;
  }
  return push(f, CMC_SORT_TYPE, item, w->err);
}

/* ---- canonical definitions --------------------------------------------------------------- */

typedef struct rawopts {
  int encoding;
  bool has_memory, has_realloc, has_post_return, async_, has_callback, gc;
  uint32_t memory, realloc, post_return, callback;
} rawopts;

static bool rd_opts(walker *w, rawopts *o) {
  uint32_t n = 0, x;
  memset(o, 0, sizeof *o);
  if (!rd_u32(w, &n)) return false;
  for (uint32_t i = 0; i < n; i++) {
    uint8_t b;
    if (!rd_byte(w, &b)) return false;
    switch (b) {
    case 0x00: case 0x01: case 0x02: o->encoding = b; break;
    case 0x03: if (!rd_u32(w, &o->memory)) return false; o->has_memory = true; break;
    case 0x04: if (!rd_u32(w, &o->realloc)) return false; o->has_realloc = true; break;
    case 0x05: if (!rd_u32(w, &o->post_return)) return false; o->has_post_return = true; break;
    case 0x06: o->async_ = true; break;
    case 0x07: if (!rd_u32(w, &o->callback)) return false; o->has_callback = true; break;
    case 0x08: if (!rd_u32(w, &x)) return false; break;
    case 0x09: o->gc = true; break;
    default: return fail(w->err, CMREF_INTERNAL, "instantiation: canonical option 0x%x", b);
    }
  }
  return true;
}

static bool trap_on_throw(bool ok, cm_error *err);

/* LiftLowerContext.reallocate: realloc runs as if lifted on its own, in a new thread whose
 * storage starts at 0 (CanonicalABI.md: `context.get` returns 0 on entry to realloc). It
 * cannot call out (may_leave is false), so a flag and one storage suffice. */
typedef struct realloc_env {
  cmi_engine *e;
  cma_corefunc inner;
} realloc_env;

static bool realloc_call(void *env, const cm_value *args, uint32_t nargs, cm_value *results,
                         uint32_t nresults, cm_error *err) {
  realloc_env *r = env;
  cmi_engine *e = r->e;
  bool was = e->in_realloc;
  uint32_t saved[2] = {e->realloc_storage[0], e->realloc_storage[1]};
  e->in_realloc = true;
  e->realloc_storage[0] = e->realloc_storage[1] = 0;
  bool ok = trap_on_throw(r->inner.call(r->inner.env, args, nargs, results, nresults, err), err);
  e->in_realloc = was;
  e->realloc_storage[0] = saved[0];
  e->realloc_storage[1] = saved[1];
  return ok;
}

static bool wrap_realloc(cmi_engine *e, cma_corefunc *f, cm_error *err) {
  realloc_env *r = cmi_alloc(e, sizeof *r);
  if (!r) return oom(err);
  *r = (realloc_env){e, *f};
  *f = (cma_corefunc){realloc_call, r};
  return true;
}

static bool make_opts(walker *w, const rawopts *r, cma_options *o) {
  memset(o, 0, sizeof *o);
  o->async_ = r->async_; /* async lifts and lowers are unsupported when called (issue 8) */
  if (r->gc) return fail(w->err, CMREF_INTERNAL, CMI_UNSUPPORTED "the gc canonical option");
  o->string_encoding = r->encoding == 1 ? CMA_UTF16 : r->encoding == 2 ? CMA_LATIN1_UTF16 : CMA_UTF8;
  cmi_item it = {0};
  if (r->has_memory) {
    if (!get(w->f, CMC_SORT_CORE + CMC_CORE_MEMORY, r->memory, &it, w->err)) return false;
    o->memory = cmi_alloc(w->e, sizeof *o->memory);
    if (!o->memory) return oom(w->err);
    *o->memory = cma_meminst_of(it.u.core.u.mem);
  }
  if (r->has_realloc) {
    if (!get(w->f, CMC_SORT_CORE + CMC_CORE_FUNC, r->realloc, &it, w->err)) return false;
    o->realloc = cmi_alloc(w->e, sizeof *o->realloc);
    if (!o->realloc || !corefunc_of_item(w->e, &it, o->realloc, w->err)) return !o->realloc ? oom(w->err) : false;
    if (!wrap_realloc(w->e, o->realloc, w->err)) return false;
  }
  if (r->has_callback) { /* issue 8 */
    if (!get(w->f, CMC_SORT_CORE + CMC_CORE_FUNC, r->callback, &it, w->err)) return false;
    o->callback = cmi_alloc(w->e, sizeof *o->callback);
    if (!o->callback || !corefunc_of_item(w->e, &it, o->callback, w->err))
      return !o->callback ? oom(w->err) : false;
  }
  if (r->has_post_return) {
    if (!get(w->f, CMC_SORT_CORE + CMC_CORE_FUNC, r->post_return, &it, w->err)) return false;
    o->post_return = cmi_alloc(w->e, sizeof *o->post_return);
    if (!o->post_return || !corefunc_of_item(w->e, &it, o->post_return, w->err))
      return !o->post_return ? oom(w->err) : false;
  }
  return true;
}

/* ---- task storage (context.get/set) --------------------------------------------------
 * A lifted call runs in a new task whose (implicit) thread's storage starts at 0: from the
 * first call into the callee's instance (its realloc for the arguments, or the callee), through
 * its post-return. Every realloc itself runs in a thread of its own (realloc_call). A stack of
 * the storages of the tasks in progress; `cur` is the running one.
 * Synchronous calls cannot re-enter an instance, so one lifted function has at most one task
 * in progress. */

typedef struct task_wrap task_wrap;
struct task_wrap {
  cmi_engine *e;
  bool active, has_post_return;
  uint32_t depth;   /* stack depth before this task */
  int32_t saved_cur;
};

typedef struct wrapped_call {
  task_wrap *t;
  cma_corefunc inner;
} wrapped_call;

static bool task_start_storage(task_wrap *t, cm_error *err) {
  cmi_engine *e = t->e;
  if (t->active) return true;
  if (!grow((void **)&e->storage, &e->capstorage, e->nstorage, sizeof *e->storage) ||
      !grow((void **)&e->owners, &e->capowners, e->nstorage, sizeof *e->owners))
    return oom(err);
  t->depth = e->nstorage;
  t->saved_cur = e->cur;
  e->storage[e->nstorage][0] = e->storage[e->nstorage][1] = 0;
  e->owners[e->nstorage] = t;
  e->cur = (int32_t)e->nstorage++;
  t->active = true;
  return true;
}

/* ends every task above depth (after a trap, or when a call returns) */
static void storage_unwind(cmi_engine *e, uint32_t depth, int32_t cur) {
  while (e->nstorage > depth) e->owners[--e->nstorage]->active = false;
  e->cur = cur;
}

static void task_end_storage(task_wrap *t) {
  if (t->active) storage_unwind(t->e, t->depth, t->saved_cur);
}

static bool call_inner(wrapped_call *w, const cm_value *args, uint32_t nargs, cm_value *results,
                       uint32_t nresults, cm_error *err) {
  return w->inner.call(w->inner.env, args, nargs, results, nresults, err);
}

/* LiftLowerContext.reallocate calls realloc through canon_lift, so an exception it throws
 * becomes a trap (call_and_trap_on_throw) instead of unwinding into the caller */
static bool trap_on_throw(bool ok, cm_error *err) {
  if (!ok && err && err->kind == CMREF_TRAP && strcmp(err->message, "uncaught exception") == 0)
    snprintf(err->message, sizeof err->message, "%s", cma_trap_message(CMA_TRAP_CORE_EXCEPTION, false));
  return ok;
}

/* the lift's realloc (lowering the arguments) runs in the new task */
static bool task_realloc(void *env, const cm_value *args, uint32_t nargs, cm_value *results,
                         uint32_t nresults, cm_error *err) {
  wrapped_call *w = env;
  return task_start_storage(w->t, err) &&
         trap_on_throw(call_inner(w, args, nargs, results, nresults, err), err);
}

static bool task_callee(void *env, const cm_value *args, uint32_t nargs, cm_value *results,
                        uint32_t nresults, cm_error *err) {
  wrapped_call *w = env;
  if (!task_start_storage(w->t, err)) return false;
  bool ok = call_inner(w, args, nargs, results, nresults, err);
  if (!ok || !w->t->has_post_return) task_end_storage(w->t);
  return ok;
}

static bool task_post_return(void *env, const cm_value *args, uint32_t nargs, cm_value *results,
                             uint32_t nresults, cm_error *err) {
  wrapped_call *w = env;
  bool ok = call_inner(w, args, nargs, results, nresults, err);
  task_end_storage(w->t);
  return ok;
}

static bool wrap(cmi_engine *e, task_wrap *t, cma_corefunc *f,
                 bool (*fn)(void *, const cm_value *, uint32_t, cm_value *, uint32_t, cm_error *),
                 cm_error *err) {
  wrapped_call *w = cmi_alloc(e, sizeof *w);
  if (!w) return oom(err);
  *w = (wrapped_call){t, *f};
  *f = (cma_corefunc){fn, w};
  return true;
}

/* wraps a lift's callee, realloc and post-return so that they run in the lift's task */
static bool wrap_task(cmi_engine *e, cma_corefunc *callee, cma_options *opts, cm_error *err) {
  task_wrap *t = cmi_alloc(e, sizeof *t);
  if (!t) return oom(err);
  t->e = e;
  t->has_post_return = opts->post_return != NULL;
  if (!wrap(e, t, callee, task_callee, err)) return false;
  if (opts->realloc && !wrap(e, t, opts->realloc, task_realloc, err)) return false;
  if (opts->post_return && !wrap(e, t, opts->post_return, task_post_return, err)) return false;
  return true;
}

static bool canon_lift_item(walker *w) {
  uint8_t b;
  uint32_t fidx, tidx;
  rawopts ro;
  cma_options opts;
  if (!rd_byte(w, &b) || !rd_u32(w, &fidx) || !rd_opts(w, &ro) || !rd_u32(w, &tidx)) return false;
  if (!make_opts(w, &ro, &opts)) return false;
  cmi_item core = {0};
  if (!get(w->f, CMC_SORT_CORE + CMC_CORE_FUNC, fidx, &core, w->err)) return false;
  uint32_t idx = w->f->len[CMC_SP_FUNC];
  if (idx >= w->f->def->spaces[CMC_SP_FUNC].len) return fail(w->err, CMREF_INTERNAL, "instantiation: func space out of step");
  cma_functype ft;
  if (!cma_functype_of(w->f->types, w->f->def->spaces[CMC_SP_FUNC].v[idx].type, &ft))
    return fail(w->err, CMREF_INTERNAL, "instantiation: lifted function without a function type");
  cma_corefunc callee;
  if (!corefunc_of_item(w->e, &core, &callee, w->err)) return false;
  bool async_ = opts.async_ || ft.async_;
  if (!async_ && !wrap_task(w->e, &callee, &opts, w->err)) return false;
  cma_funcinst *fi = cmi_alloc(w->e, sizeof *fi);
  if (!fi) return oom(w->err);
  cma_store_lift(&w->e->astore, fi, callee, &ft, &opts, &w->f->ci);
  fi->host_env = w->e->store; /* the core store of concurrency.c's threads */
  if (async_) fi->call = cmx_lifted_call; /* concurrency.c (issue 8) */
  return push(w->f, CMC_SORT_FUNC, (cmi_item){.u.func = fi}, w->err);
}

/* the core function type of the validator's entry for the next core function */
static const cm_functype *next_core_functype(walker *w) {
  cmi_frame *f = w->f;
  uint32_t idx = f->len[CMC_SP_CORE_FUNC];
  if (idx >= f->def->spaces[CMC_SP_CORE_FUNC].len) return NULL;
  const cmc_type *t = &f->types->v[f->def->spaces[CMC_SP_CORE_FUNC].v[idx].type];
  cm_valtype p[CMA_MAX_FLAT_PARAMS + 2], r[4];
  if (t->nparams > CMA_MAX_FLAT_PARAMS + 2 || t->nresults > 4) return NULL;
  for (uint32_t i = 0; i < t->nparams; i++) p[i] = t->params[i].code;
  for (uint32_t i = 0; i < t->nresults; i++) r[i] = t->results[i].code;
  return cm_store_functype(w->e->store, p, t->nparams, r, t->nresults);
}

static bool push_host(walker *w, cm_host_fn fn, void *env) {
  const cm_functype *ft = next_core_functype(w);
  if (!ft) return fail(w->err, CMREF_INTERNAL, "instantiation: core function type of a built-in");
  cmi_item it = {0};
  it.u.core.kind = CM_EXTERN_FUNC;
  it.u.core.u.func = cm_store_host_func(w->e->store, ft, fn, env);
  if (!it.u.core.u.func) return oom(w->err);
  return push(w->f, CMC_SORT_CORE + CMC_CORE_FUNC, it, w->err);
}

static bool unsupported_builtin(walker *w, const char *name);

typedef struct lower_env {
  cmi_engine *e;
  cma_store *s;
  cma_funcinst *callee;
  cma_functype ft;
  cma_options opts;
  cma_instance *inst;
  uint32_t nparams, nresults;
} lower_env;

static bool lowered_call(void *env, cm_store *s, const cm_value *args, cm_value *results,
                         cm_error *err) {
  (void)s;
  lower_env *l = env;
  cmi_engine *e = l->e;
  /* a synchronous lower of an async-typed callee may block: only in a task that may */
  if (l->ft.async_ && !cmx_may_block(l->s))
    return fail(err, CMREF_TRAP, "wasm trap: cannot block a synchronous task before returning");
  uint32_t depth = e->nstorage;
  int32_t cur = e->cur;
  bool ok = cma_store_lower_call(l->s, l->callee, &l->ft, &l->opts, l->inst, args, l->nparams, results,
                                 l->nresults, err);
  storage_unwind(e, depth, cur); /* the callee's task is over, even when it trapped */
  return ok;
}

static bool canon_lower_item(walker *w) {
  uint8_t b;
  uint32_t fidx;
  rawopts ro;
  if (!rd_byte(w, &b) || !rd_u32(w, &fidx) || !rd_opts(w, &ro)) return false;
  lower_env *l = cmi_alloc(w->e, sizeof *l);
  if (!l) return oom(w->err);
  if (!make_opts(w, &ro, &l->opts)) return false;
  cmi_item fi = {0};
  if (!get(w->f, CMC_SORT_FUNC, fidx, &fi, w->err)) return false;
  if (!cma_functype_of(w->f->types, w->f->def->spaces[CMC_SP_FUNC].v[fidx].type, &l->ft))
    return fail(w->err, CMREF_INTERNAL, "instantiation: lowered function without a function type");
  if (l->opts.async_) { /* concurrency.c (issue 8) */
    cmx_builtin *b = cmi_alloc(w->e, sizeof *b);
    if (!b) return oom(w->err);
    b->inst = &w->f->ci;
    b->callee = fi.u.func;
    b->ft = l->ft;
    b->opts = l->opts;
    return push_host(w, cmx_canon_lower_async, b);
  }
  cma_flat_functype flat;
  if (!flatten_functype(&l->opts, &l->ft, CMA_LOWER, &flat, w->err)) return false;
  l->s = &w->e->astore;
  l->e = w->e;
  l->callee = fi.u.func;
  l->inst = &w->f->ci;
  l->nparams = flat.nparams;
  l->nresults = flat.nresults;
  return push_host(w, lowered_call, l);
}

typedef struct builtin_env {
  cma_instance *inst;
  cma_resource_type *rt;
  const char *name;
} builtin_env;

static bool resource_new_fn(void *env, cm_store *s, const cm_value *args, cm_value *results,
                            cm_error *err) {
  (void)s;
  builtin_env *b = env;
  return canon_resource_new(b->inst, b->rt, args[0].i32, &results[0].i32, err);
}
static bool resource_drop_fn(void *env, cm_store *s, const cm_value *args, cm_value *results,
                             cm_error *err) {
  (void)s;
  (void)results;
  builtin_env *b = env;
  return canon_resource_drop(b->inst, b->rt, args[0].i32, err);
}
static bool resource_rep_fn(void *env, cm_store *s, const cm_value *args, cm_value *results,
                            cm_error *err) {
  (void)s;
  builtin_env *b = env;
  return canon_resource_rep(b->inst, b->rt, args[0].i32, &results[0].i32, err);
}

/* a built-in of the async/threads proposals: the spec's first step (may_leave) and then
 * `unsupported` until issue 8 */
static bool unsupported_fn(void *env, cm_store *s, const cm_value *args, cm_value *results,
                           cm_error *err) {
  (void)s;
  (void)args;
  (void)results;
  builtin_env *b = env;
  if (!b->inst->may_leave) return fail(err, CMREF_TRAP, "%s", cma_trap_message(CMA_TRAP_CANNOT_LEAVE, false));
  return fail(err, CMREF_INTERNAL, CMI_UNSUPPORTED "the canon built-in %s (issue 8)", b->name);
}

/* canon backpressure.inc / backpressure.dec */
static bool backpressure_inc_fn(void *env, cm_store *s, const cm_value *args, cm_value *results,
                                cm_error *err) {
  (void)s, (void)args, (void)results;
  cma_instance *inst = ((builtin_env *)env)->inst;
  inst->backpressure += 1;
  if (inst->backpressure == 1u << 16) {
    inst->backpressure -= 1;
    return fail(err, CMREF_TRAP, "backpressure counter overflow");
  }
  return true;
}
static bool backpressure_dec_fn(void *env, cm_store *s, const cm_value *args, cm_value *results,
                                cm_error *err) {
  (void)s, (void)args, (void)results;
  cma_instance *inst = ((builtin_env *)env)->inst;
  /* wasmtime words both directions as an overflow */
  if (inst->backpressure == 0) return fail(err, CMREF_TRAP, "backpressure counter overflow");
  inst->backpressure -= 1;
  return true;
}

/* canon context.get / context.set: the current thread's storage[i] (no may_leave check) */
typedef struct context_env {
  cmi_engine *e;
  uint32_t i;
} context_env;

static bool context_get_fn(void *env, cm_store *s, const cm_value *args, cm_value *results,
                           cm_error *err) {
  (void)s, (void)args;
  context_env *c = env;
  uint32_t *slot;
  if (c->e->in_realloc) return results[0].i32 = c->e->realloc_storage[c->i], true;
  if (cmx_context_slot(&c->e->astore, c->i, &slot)) return results[0].i32 = *slot, true;
  if (c->e->cur < 0) return fail(err, CMREF_TRAP, "context.get outside of a task");
  results[0].i32 = c->e->storage[c->e->cur][c->i];
  return true;
}

static bool context_set_fn(void *env, cm_store *s, const cm_value *args, cm_value *results,
                           cm_error *err) {
  (void)s, (void)results;
  context_env *c = env;
  uint32_t *slot;
  if (c->e->in_realloc) return c->e->realloc_storage[c->i] = args[0].i32, true;
  if (cmx_context_slot(&c->e->astore, c->i, &slot)) return *slot = args[0].i32, true;
  if (c->e->cur < 0) return fail(err, CMREF_TRAP, "context.set outside of a task");
  c->e->storage[c->e->cur][c->i] = args[0].i32;
  return true;
}

static bool context_builtin(walker *w, bool set) {
  uint8_t t;
  uint32_t i;
  if (!rd_byte(w, &t) || !rd_u32(w, &i)) return false;
  context_env *c = cmi_alloc(w->e, sizeof *c);
  if (!c) return oom(w->err);
  c->e = w->e;
  c->i = i & 1;
  return push_host(w, set ? context_set_fn : context_get_fn, c);
}

static bool builtin(walker *w, cm_host_fn fn, const char *name) {
  builtin_env *b = cmi_alloc(w->e, sizeof *b);
  if (!b) return oom(w->err);
  b->inst = &w->f->ci;
  b->name = name;
  return push_host(w, fn, b);
}

static bool resource_builtin(walker *w, cm_host_fn fn) {
  uint32_t x;
  if (!rd_u32(w, &x)) return false;
  cmi_item t = {0};
  if (!get(w->f, CMC_SORT_TYPE, x, &t, w->err)) return false;
  builtin_env *b = cmi_alloc(w->e, sizeof *b);
  if (!b) return oom(w->err);
  b->inst = &w->f->ci;
  b->rt = t.u.rt;
  if (!b->rt) b->rt = resolve_resource(&w->f->ci, w->f->types, t.type);
  if (!b->rt) return fail(w->err, CMREF_INTERNAL, "instantiation: resource built-in on type %u without a runtime resource", x);
  return push_host(w, fn, b);
}

static bool unsupported_builtin(walker *w, const char *name) {
  builtin_env *b = cmi_alloc(w->e, sizeof *b);
  if (!b) return oom(w->err);
  b->inst = &w->f->ci;
  b->name = name;
  return push_host(w, unsupported_fn, b);
}

/* a built-in of concurrency.c (issue 8) */
static bool cx_builtin(walker *w, cm_host_fn fn, cmx_builtin **out) {
  cmx_builtin *b = cmi_alloc(w->e, sizeof *b);
  if (!b) return oom(w->err);
  b->inst = &w->f->ci;
  if (out) *out = b;
  return push_host(w, fn, b);
}

/* a built-in of concurrency.c with a cancellable? / async? immediate */
static bool cx_flag_builtin(walker *w, cm_host_fn fn) {
  uint8_t k;
  cmx_builtin *b = NULL;
  if (!rd_byte(w, &k) || !cx_builtin(w, fn, &b)) return false;
  b->async_ = k != 0;
  return true;
}

/* a thread.* built-in: the instance's synchronous lifts then run on threads of their own */
static bool thread_builtin(walker *w, cm_host_fn fn, bool cancellable_immediate) {
  w->f->ci.uses_threads = true;
  return cancellable_immediate ? cx_flag_builtin(w, fn) : cx_builtin(w, fn, NULL);
}

/* the core function type at index x of the core type space, kept by the core store */
static const cm_functype *core_functype_at(walker *w, uint32_t x) {
  cmi_frame *f = w->f;
  if (x >= f->def->spaces[CMC_SP_CORE_TYPE].len) return NULL;
  const cmc_type *t = &f->types->v[f->def->spaces[CMC_SP_CORE_TYPE].v[x].type];
  cm_valtype p[4], r[4];
  if (t->nparams > 4 || t->nresults > 4) return NULL;
  for (uint32_t i = 0; i < t->nparams; i++) p[i] = t->params[i].code;
  for (uint32_t i = 0; i < t->nresults; i++) r[i] = t->results[i].code;
  return cm_store_functype(w->e->store, p, t->nparams, r, t->nresults);
}

/* canon thread.new-indirect ft tbl */
static bool thread_new_indirect_builtin(walker *w) {
  uint32_t ft, tbl;
  if (!rd_u32(w, &ft) || !rd_u32(w, &tbl)) return false;
  cmi_item it = {0};
  if (!get(w->f, CMC_SORT_CORE + CMC_CORE_TABLE, tbl, &it, w->err)) return false;
  cmx_builtin *b = cmi_alloc(w->e, sizeof *b);
  if (!b) return oom(w->err);
  b->inst = &w->f->ci;
  b->inst->uses_threads = true;
  b->table = it.u.core.kind == CM_EXTERN_TABLE ? it.u.core.u.table : NULL;
  b->start_type = core_functype_at(w, ft);
  return push_host(w, cmx_thread_new_indirect, b);
}

/* canon task.return: its result type (a func type of the validator's arena) and options */
static bool task_return_builtin(walker *w) {
  uint8_t k;
  rawopts o;
  cmx_builtin *b = cmi_alloc(w->e, sizeof *b);
  if (!b) return oom(w->err);
  b->inst = &w->f->ci;
  b->ft.types = w->f->types;
  b->ft.result = CMC_NONE;
  if (!rd_byte(w, &k)) return false;
  if (k == 0) {
    if (!rd_valtype_tid(w, &b->ft.result)) return false;
  } else if (!rd_byte(w, &k)) {
    return false;
  }
  if (!rd_opts(w, &o) || !make_opts(w, &o, &b->opts)) return false;
  return push_host(w, cmx_task_return, b);
}

/* canon waitable-set.wait / poll: cancellable?, memory */
static bool wset_builtin(walker *w, cm_host_fn fn) {
  uint8_t k;
  rawopts o;
  memset(&o, 0, sizeof o);
  if (!rd_byte(w, &k) || !rd_u32(w, &o.memory)) return false;
  o.has_memory = true;
  cmx_builtin *b = cmi_alloc(w->e, sizeof *b);
  if (!b) return oom(w->err);
  b->inst = &w->f->ci;
  b->async_ = k != 0;
  if (!make_opts(w, &o, &b->opts)) return false;
  return push_host(w, fn, b);
}

/* canon stream.* / future.* (issue 8): the element type, options of read/write */
static bool copy_builtin(walker *w, uint8_t op) {
  static const cm_host_fn fns[7] = {cmx_copy_new, cmx_copy_read, cmx_copy_write,
                                    cmx_copy_cancel_read, cmx_copy_cancel_write,
                                    cmx_copy_drop_readable, cmx_copy_drop_writable};
  bool future = op >= 0x15;
  uint32_t k = op - (future ? 0x15 : 0x0e), x;
  uint8_t byte = 0;
  rawopts o;
  memset(&o, 0, sizeof o);
  if (!rd_u32(w, &x)) return false;
  if ((k == 1 || k == 2) && !rd_opts(w, &o)) return false;
  if ((k == 3 || k == 4) && !rd_byte(w, &byte)) return false;
  if (x >= w->f->def->spaces[CMC_SP_TYPE].len)
    return fail(w->err, CMREF_INTERNAL, "instantiation: type index %u", x);
  cmc_tid t = w->f->def->spaces[CMC_SP_TYPE].v[x].type;
  cmx_builtin *b = cmi_alloc(w->e, sizeof *b);
  if (!b) return oom(w->err);
  b->inst = &w->f->ci;
  b->future = future;
  b->async_ = (k == 3 || k == 4) && byte != 0; /* cancel-read / cancel-write async */
  b->ft.types = w->f->types;
  b->ft.result = t < w->f->types->len ? w->f->types->v[t].a : CMC_NONE;
  if (!make_opts(w, &o, &b->opts)) return false;
  return push_host(w, fns[k], b);
}

/* canon error-context.new / error-context.debug-message: their options */
static bool error_context_builtin(walker *w, bool new_) {
  rawopts o;
  cmx_builtin *b = NULL;
  if (!rd_opts(w, &o) || !cx_builtin(w, new_ ? cmx_error_context_new : cmx_error_context_debug_message, &b))
    return false;
  return make_opts(w, &o, &b->opts);
}

static bool canon_item(walker *w) {
  uint8_t b;
  if (!rd_byte(w, &b)) return false;
  switch (b) {
  case 0x00: return canon_lift_item(w);
  case 0x01: return canon_lower_item(w);
  case 0x02: return resource_builtin(w, resource_new_fn);
  case 0x03: return resource_builtin(w, resource_drop_fn);
  case 0x04: return resource_builtin(w, resource_rep_fn);
  case 0x09: return task_return_builtin(w);
  case 0x05: return cx_builtin(w, cmx_task_cancel, NULL);
  case 0x06: return cx_flag_builtin(w, cmx_subtask_cancel);
  case 0x0c: return cx_flag_builtin(w, cmx_thread_yield);
  case 0x0d: return cx_builtin(w, cmx_subtask_drop, NULL);
  case 0x1f: return cx_builtin(w, cmx_waitable_set_new, NULL);
  case 0x20: return wset_builtin(w, cmx_waitable_set_wait);
  case 0x21: return wset_builtin(w, cmx_waitable_set_poll);
  case 0x22: return cx_builtin(w, cmx_waitable_set_drop, NULL);
  case 0x23: return cx_builtin(w, cmx_waitable_join, NULL);
  case 0x0a: case 0x0b:
    return context_builtin(w, b == 0x0b);
  case 0x24: return builtin(w, backpressure_inc_fn, "backpressure.inc");
  case 0x25: return builtin(w, backpressure_dec_fn, "backpressure.dec");
  case 0x26: return thread_builtin(w, cmx_thread_index, false);
  case 0x27: return thread_new_indirect_builtin(w);
  case 0x28: return thread_builtin(w, cmx_thread_resume_later, false);
  case 0x29: return thread_builtin(w, cmx_thread_suspend, true);
  case 0x2a: return thread_builtin(w, cmx_thread_suspend_then_resume, true);
  case 0x2b: return thread_builtin(w, cmx_thread_yield_then_resume, true);
  case 0x2c: return thread_builtin(w, cmx_thread_suspend_then_promote, true);
  case 0x2d: return thread_builtin(w, cmx_thread_yield_then_promote, true);
  case 0x0e: case 0x0f: case 0x10: case 0x11: case 0x12: case 0x13: case 0x14:
  case 0x15: case 0x16: case 0x17: case 0x18: case 0x19: case 0x1a: case 0x1b:
    return copy_builtin(w, b);
  case 0x1c: case 0x1d: return error_context_builtin(w, b == 0x1c);
  case 0x1e: return cx_builtin(w, cmx_error_context_drop, NULL);
  default: return unsupported_builtin(w, "of the async ABI");
  }
}

/* ---- start, imports, exports ----------------------------------------------------------- */

typedef struct call_env {
  cma_vals args;
  json_t *results;
  const cma_functype *ft;
} call_env;

static bool call_on_start(void *env, cma_vals *args, cm_error *err) {
  (void)err;
  *args = ((call_env *)env)->args;
  return true;
}

static bool call_on_resolve(void *env, const cma_vals *result, cm_error *err) {
  call_env *c = env;
  c->results = json_array();
  if (!c->results) return oom(err);
  if (result && c->ft && c->ft->result != CMC_NONE && result->n == 1) {
    json_t *j = cma_val_to_json(c->ft->types, c->ft->result, &result->v[0]);
    if (!j || json_array_append_new(c->results, j) != 0) return oom(err);
  }
  return true;
}

static bool start_item(walker *w) {
  uint32_t fidx, n, x;
  if (!rd_u32(w, &fidx) || !rd_u32(w, &n)) return false;
  for (uint32_t i = 0; i < n; i++)
    if (!rd_u32(w, &x)) return false;
  if (!rd_u32(w, &x)) return false;
  cmi_item fi = {0};
  if (!get(w->f, CMC_SORT_FUNC, fidx, &fi, w->err)) return false;
  call_env c = {{NULL, 0}, NULL, NULL};
  bool ok = fi.u.func->call(fi.u.func, call_on_start, call_on_resolve, &c, NULL, w->err);
  json_decref(c.results);
  return ok;
}

static const cmi_item *find_arg(const cmi_frame *f, const char *name) {
  for (uint32_t i = 0; i < f->nargs; i++)
    if (strcmp(f->arg_names[i], name) == 0) return &f->args[i];
  return NULL;
}

static bool import_item(walker *w) {
  const char *name;
  if (!rd_nameattributes(w, &name) || !rd_externtype(w)) return false;
  const cmi_item *arg = find_arg(w->f, name);
  cmi_item empty = {0};
  if (!arg) {
    /* linking (link.c) let this through: an instance type with nothing to supply */
    cmi_inst *inst = cmi_alloc(w->e, sizeof *inst);
    if (!inst) return oom(w->err);
    empty.u.inst = inst;
    arg = &empty;
  }
  int sort = CMC_SORT_INSTANCE;
  for (uint32_t i = 0; i < w->f->def->nimports; i++)
    if (strcmp(w->f->def->imports[i].name, name) == 0) sort = w->f->def->imports[i].sort;
  return push(w->f, sort, *arg, w->err);
}

static bool export_item(walker *w) {
  const char *name;
  int sort;
  uint32_t idx;
  uint8_t b;
  if (!rd_nameattributes(w, &name) || !rd_sort(w, &sort) || !rd_u32(w, &idx) || !rd_byte(w, &b))
    return false;
  if (b == 1 && !rd_externtype(w)) return false;
  cmi_item it = {0};
  if (!get(w->f, sort, idx, &it, w->err)) return false;
  cmi_frame *f = w->f;
  if (f->nexp < f->def->nexports) {
    f->exp_names[f->nexp] = name;
    f->exp_items[f->nexp] = it;
    f->nexp++;
  }
  if (!push(f, sort, it, w->err)) return false;
  f->exp_items[f->nexp - 1] = f->sp[sort_space(sort)][f->len[sort_space(sort)] - 1];
  return true;
}

/* ---- sections ---------------------------------------------------------------------------- */

typedef bool (*item_fn)(walker *);

static bool vec(walker *w, item_fn fn) {
  uint32_t n;
  if (!rd_u32(w, &n)) return false;
  for (uint32_t i = 0; i < n; i++)
    if (!fn(w)) return false;
  return true;
}

static bool module_section(walker *w, const uint8_t *body, uint32_t size) {
  cm_module *m;
  if (!cmi_host_module(w->e, body, size, &m, w->err)) return false;
  return push(w->f, CMC_SORT_CORE + CMC_CORE_MODULE, (cmi_item){.u.module = m}, w->err);
}

static bool component_section(walker *w) {
  cmi_frame *f = w->f;
  if (f->next_nested >= f->def->nnested)
    return fail(w->err, CMREF_INTERNAL, "instantiation: nested component out of step");
  cmi_closure *c = cmi_alloc(w->e, sizeof *c);
  if (!c) return oom(w->err);
  c->def = f->def->nested[f->next_nested++];
  c->types = f->types;
  c->outer = f;
  return push(f, CMC_SORT_COMPONENT, (cmi_item){.u.comp = c}, w->err);
}

static bool section(walker *w, uint8_t id, const uint8_t *body, uint32_t size) {
  walker s = *w;
  s.r.p = body;
  s.r.end = body + size;
  uint32_t n;
  switch (id) {
  case 0: return true;
  case 1: return module_section(w, body, size);
  case 4: return component_section(w);
  case 2: return vec(&s, core_instance_item);
  case 3: return true; /* core types: validation only */
  case 5: return vec(&s, instance_item);
  case 6: return vec(&s, alias_item);
  case 7:
    if (!rd_u32(&s, &n)) return false;
    for (uint32_t i = 0; i < n; i++)
      if (!type_item(&s)) return false;
    return true;
  case 8: return vec(&s, canon_item);
  case 9: return start_item(&s);
  case 10: return vec(&s, import_item);
  case 11: return vec(&s, export_item);
  default: return fail(w->err, CMREF_INTERNAL, "instantiation: section %u", id);
  }
}

static bool walk(cmi_engine *e, cmi_frame *f, cm_error *err) {
  walker w = {.f = f, .e = e, .err = err};
  w.r = (cmc_reader){f->def->bytes + 8, f->def->bytes + f->def->size, f->def->bytes, &w.cerr, &e->arena};
  while (w.r.p < w.r.end) {
    uint8_t id;
    uint32_t size;
    const uint8_t *body;
    if (!rd_byte(&w, &id) || !rd_u32(&w, &size)) return false;
    if (!cmc_read_bytes(&w.r, size, &body)) return rd_fail(&w);
    if (!section(&w, id, body, size)) return false;
  }
  return true;
}

static cmi_frame *new_frame(cmi_engine *e, const cmi_closure *c, cmi_frame *parent, cm_error *err) {
  cmi_frame *f = cmi_alloc(e, sizeof *f);
  if (!f) return oom(err), NULL;
  f->e = e;
  f->def = c->def;
  f->types = c->types;
  f->outer = c->outer;
  for (int s = 0; s < CMC_SP_COUNT; s++) {
    f->sp[s] = cmi_alloc(e, (c->def->spaces[s].len + 1) * sizeof(cmi_item));
    if (!f->sp[s]) return oom(err), NULL;
  }
  f->exp_names = cmi_alloc(e, (c->def->nexports + 1) * sizeof *f->exp_names);
  f->exp_items = cmi_alloc(e, (c->def->nexports + 1) * sizeof *f->exp_items);
  if (!f->exp_names || !f->exp_items) return oom(err), NULL;
  if (!cma_instance_init(&f->ci, &e->astore, parent ? &parent->ci : NULL)) return oom(err), NULL;
  f->next_all = e->frames;
  e->frames = f;
  f->ci.types = f->types;
  f->ci.resolve_resource = resolve_resource;
  f->ci.env = f;
  return f;
}

static bool instantiate_closure(cmi_engine *e, const cmi_closure *c, const char *const *names,
                                const cmi_item *args, uint32_t nargs, cmi_frame *parent,
                                cmi_inst **out, cm_error *err) {
  cmi_frame *f = new_frame(e, c, parent, err);
  if (!f) return false;
  f->arg_names = names;
  f->args = args;
  f->nargs = nargs;
  if (!walk(e, f, err)) return false;
  cmi_inst *inst = cmi_alloc(e, sizeof *inst);
  if (!inst) return oom(err);
  inst->n = f->nexp;
  inst->names = f->exp_names;
  inst->items = f->exp_items;
  inst->frame = f;
  *out = inst;
  return true;
}

/* ---- the embedding: instantiate, register, invoke ------------------------------------ */

static const cmi_item *registered(cmi_engine *e, const char *name) {
  for (uint32_t i = e->nregs; i-- > 0;)
    if (strcmp(e->regs[i].name, name) == 0) return &e->regs[i].item;
  return NULL;
}

int cmi_instantiate(cmi_engine *e, int def, cm_error *err) {
  if (def < 0 || (uint32_t)def >= e->ndefs) return fail(err, CMREF_INTERNAL, "bad component handle"), -1;
  cmi_def *d = e->defs[def];
  cmc_component *c = d->res.root;
  const char **names = cmi_alloc(e, (c->nimports + 1) * sizeof *names);
  cmi_item *args = cmi_alloc(e, (c->nimports + 1) * sizeof *args);
  if (!names || !args) return oom(err), -1;
  uint32_t n = 0;
  cmi_linkcx lcx = {.types = &d->res.types};
  for (uint32_t i = 0; i < c->nimports; i++) {
    const cmc_extern *im = &c->imports[i];
    const cmi_item *it = registered(e, im->name);
    if (!it && strcmp(im->name, "wasmtime") == 0)
      return fail(err, CMREF_INTERNAL, CMI_UNSUPPORTED "wasmtime's test host import `%s`", im->name), -1;
    if (!cmi_link_import(&lcx, im, it, err)) {
      cmi_linkcx_free(&lcx);
      return -1;
    }
    if (!it) continue;
    names[n] = im->name;
    args[n++] = *it;
  }
  cmi_linkcx_free(&lcx);
  cmi_closure root = {c, &d->res.types, NULL};
  cmi_inst *inst;
  if (!instantiate_closure(e, &root, names, args, n, NULL, &inst, err)) return -1;
  if (!grow((void **)&e->insts, &e->capinsts, e->ninsts, sizeof *e->insts)) return oom(err), -1;
  e->insts[e->ninsts] = inst;
  return (int)e->ninsts++;
}

bool cmi_register_host(cmi_engine *e, const char *name, const cmi_item *item) {
  if (!grow((void **)&e->regs, &e->capregs, e->nregs, sizeof *e->regs)) return false;
  char *n = cmi_alloc(e, strlen(name) + 1);
  if (!n) return false;
  strcpy(n, name);
  e->regs[e->nregs].name = n;
  e->regs[e->nregs].item = *item;
  e->nregs++;
  return true;
}

bool cmi_register(cmi_engine *e, int inst, const char *name, cm_error *err) {
  if (inst < 0 || (uint32_t)inst >= e->ninsts) return fail(err, CMREF_INTERNAL, "bad instance handle");
  cmi_item it = {.sort = CMC_SORT_INSTANCE, .types = NULL, .type = CMC_NONE};
  it.u.inst = e->insts[inst];
  if (e->insts[inst]->frame) {
    it.types = e->insts[inst]->frame->types;
    it.type = e->insts[inst]->frame->def->type;
  }
  if (!cmi_register_host(e, name, &it)) return oom(err);
  return true;
}

const cmi_item *cmi_registered(cmi_engine *e, uint32_t i, const char **name) {
  if (i >= e->nregs) return NULL;
  *name = e->regs[i].name;
  return &e->regs[i].item;
}

const cmi_inst *cmi_instance(cmi_engine *e, int inst) {
  return inst < 0 || (uint32_t)inst >= e->ninsts ? NULL : e->insts[inst];
}

json_t *cmi_invoke(cmi_engine *e, int inst, const char *field, json_t *args, cm_error *err) {
  if (inst < 0 || (uint32_t)inst >= e->ninsts) return fail(err, CMREF_INTERNAL, "bad instance handle"), NULL;
  const cmi_item *it = inst_export(e->insts[inst], field);
  if (!it || it->sort != CMC_SORT_FUNC)
    return fail(err, CMREF_INTERNAL, "no exported function named `%s`", field), NULL;
  cma_funcinst *f = it->u.func;
  const cma_functype *ft = &f->ft;
  if (!ft->types) return fail(err, CMREF_INTERNAL, "exported function `%s` has no type", field), NULL;
  size_t nargs = json_array_size(args);
  if (nargs != ft->nparams)
    return fail(err, CMREF_INTERNAL, "`%s` takes %u arguments, given %zu", field, ft->nparams, nargs), NULL;
  cma_heap heap = {NULL};
  call_env c = {{cma_heap_alloc(&heap, (nargs + 1) * sizeof(cma_val)), (uint32_t)nargs}, NULL, ft};
  bool ok = c.args.v != NULL || oom(err);
  for (size_t i = 0; ok && i < nargs; i++)
    ok = cma_val_from_json(ft->types, ft->params[i].type, json_array_get(args, i), &heap, &c.args.v[i], err);
  uint32_t depth = e->nstorage;
  int32_t cur = e->cur;
  ok = ok && cma_store_invoke(&e->astore, f, call_on_start, call_on_resolve, &c, err);
  storage_unwind(e, depth, cur);
  cma_heap_free(&heap);
  if (!ok) {
    json_decref(c.results);
    return NULL;
  }
  return c.results;
}

bool cmi_export_functype(cmi_engine *e, int inst, const char *field, cma_functype *out) {
  if (inst < 0 || (uint32_t)inst >= e->ninsts) return false;
  const cmi_item *it = inst_export(e->insts[inst], field);
  if (!it || it->sort != CMC_SORT_FUNC || !it->u.func->ft.types) return false;
  *out = it->u.func->ft;
  return true;
}
