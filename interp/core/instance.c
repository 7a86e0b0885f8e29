/* Instantiation (spec 4.5.3 "Import Matching", 4.5.4 "Instantiation"): allocate the module
 * instance, evaluate constant expressions, initialise tables and memories from active
 * segments, run the start function. */
#include <stdlib.h>
#include <string.h>

#include "core/exec_internal.h"
#include "core/instr.h"

/* ---- import matching (spec 4.5.3) ---- */

static bool limits_match(uint64_t amin, bool ahas, uint64_t amax, const cm_limits *want) {
  if (amin < want->min) return false;
  if (want->has_max && (!ahas || amax > want->max)) return false;
  return true;
}

static bool functype_eq(const cm_functype *a, const cm_functype *b) {
  return a->nparams == b->nparams && a->nresults == b->nresults &&
         (a->nparams == 0 || memcmp(a->params, b->params, a->nparams) == 0) &&
         (a->nresults == 0 || memcmp(a->results, b->results, a->nresults) == 0);
}

bool cm_extern_matches(cm_store *s, const cm_module *m, const cm_import *im, const cm_extern *ext,
                       cm_error *err) {
  (void)s;
  bool ok = ext->kind == im->kind;
  if (ok) switch (im->kind) {
    case CM_EXTERN_FUNC: ok = functype_eq(ext->u.func->type, &m->types[im->desc.func]); break;
    case CM_EXTERN_TABLE: {
      const cm_tableinst *t = ext->u.table;
      ok = t->type.elem == im->desc.table.elem &&
           limits_match(t->size, t->type.limits.has_max, t->type.limits.max, &im->desc.table.limits);
      break;
    }
    case CM_EXTERN_MEMORY: {
      const cm_meminst *mm = ext->u.mem;
      ok = limits_match(mm->size / CM_PAGE_SIZE, mm->type.limits.has_max, mm->type.limits.max,
                        &im->desc.mem.limits);
      break;
    }
    case CM_EXTERN_GLOBAL:
      ok = ext->u.global->type.type == im->desc.global.type &&
           ext->u.global->type.mut == im->desc.global.mut;
      break;
    case CM_EXTERN_TAG: ok = functype_eq(ext->u.tag->type, &m->types[im->desc.tag.typeidx]); break;
    }
  if (!ok)
    return cm_error_set(err, CMREF_UNLINKABLE, "incompatible import type for `%s::%s`",
                        im->module.str, im->name.str);
  return true;
}

/* ---- constant expressions (spec 4.4.10 / 3.3.10) ---- */

static bool eval_const(cm_instance *inst, cm_expr e, cm_value *out, cm_error *err) {
  const cm_module *m = inst->module;
  cm_reader r = cm_reader_at(m, e);
  cm_value stack[64];
  uint32_t n = 0;
  for (;;) {
    cm_instr in;
    if (!cm_read_instr(&r, m, &in, err)) return false;
    if (in.op == 0x0B) break;
    if (n >= 64) return cm_error_set(err, CMREF_INTERNAL, "constant expression too deep");
    cm_value v = {0};
    switch (in.op) {
    case 0x41: v.i32 = (uint32_t)in.c; break;
    case 0x42: case 0x44: v.i64 = in.c; break;
    case 0x43: v.i32 = (uint32_t)in.c; break;
    case 0xD0: v.ref = NULL; break;
    case CM_OP_FD(0x0C): memcpy(v.v128, in.v128, 16); break; /* v128.const */
    case 0xD2: v.ref = inst->funcs[in.a]; break;
    case 0x23: v = inst->globals[in.a]->val; break;
    case CM_OP_REF_I31:
      if (n < 1) return cm_error_set(err, CMREF_INTERNAL, "bad constant expression");
      v.ref = CM_I31_REF(stack[--n].i32);
      break;
    case 0x6A: case 0x6B: case 0x6C: case 0x7C: case 0x7D: case 0x7E: {
      if (n < 2) return cm_error_set(err, CMREF_INTERNAL, "bad constant expression");
      cm_value b = stack[--n], a = stack[--n];
      if (in.op == 0x6A) v.i32 = a.i32 + b.i32;
      if (in.op == 0x6B) v.i32 = a.i32 - b.i32;
      if (in.op == 0x6C) v.i32 = a.i32 * b.i32;
      if (in.op == 0x7C) v.i64 = a.i64 + b.i64;
      if (in.op == 0x7D) v.i64 = a.i64 - b.i64;
      if (in.op == 0x7E) v.i64 = a.i64 * b.i64;
      break;
    }
    default: return cm_error_set(err, CMREF_INTERNAL, "non-constant instruction 0x%x", in.op);
    }
    stack[n++] = v;
  }
  if (n != 1) return cm_error_set(err, CMREF_INTERNAL, "bad constant expression");
  *out = stack[0];
  return true;
}

/* ---- allocation (spec 4.5.3 "allocmodule") ---- */

static bool oom(cm_error *err) { return cm_error_set(err, CMREF_INTERNAL, "out of memory"); }

static bool alloc_arrays(cm_store *s, cm_instance *inst, const cm_module *m) {
  inst->funcs = cm_store_alloc(s, sizeof(void *) * (cm_module_nfuncs_total(m) + 1));
  inst->tables = cm_store_alloc(s, sizeof(void *) * (cm_module_ntables_total(m) + 1));
  inst->mems = cm_store_alloc(s, sizeof(void *) * (cm_module_nmems_total(m) + 1));
  inst->globals = cm_store_alloc(s, sizeof(void *) * (cm_module_nglobals_total(m) + 1));
  inst->tags = cm_store_alloc(s, sizeof(void *) * (cm_module_ntags_total(m) + 1));
  inst->type_ids = cm_store_alloc(s, sizeof(uint32_t) * (m->ntypes + 1));
  inst->elems = cm_store_alloc(s, sizeof(cm_eleminst) * (m->nelems + 1));
  inst->data_dropped = cm_store_alloc(s, sizeof(bool) * (m->ndatas + 1));
  return inst->funcs && inst->tables && inst->mems && inst->globals && inst->tags &&
         inst->type_ids && inst->elems && inst->data_dropped;
}

static void bind_imports(cm_instance *inst, const cm_module *m, const cm_extern *imports) {
  uint32_t nf = 0, nt = 0, nm = 0, ng = 0, ntag = 0;
  for (uint32_t i = 0; i < m->nimports; i++) {
    const cm_extern *e = &imports[i];
    switch (e->kind) {
    case CM_EXTERN_FUNC: inst->funcs[nf++] = e->u.func; break;
    case CM_EXTERN_TABLE: inst->tables[nt++] = e->u.table; break;
    case CM_EXTERN_MEMORY: inst->mems[nm++] = e->u.mem; break;
    case CM_EXTERN_GLOBAL: inst->globals[ng++] = e->u.global; break;
    case CM_EXTERN_TAG: inst->tags[ntag++] = e->u.tag; break;
    }
  }
}

static bool alloc_definitions(cm_store *s, cm_instance *inst, const cm_module *m, cm_error *err) {
  for (uint32_t i = 0; i < m->ntypes; i++) {
    inst->type_ids[i] = cm_store_type_id(s, &m->types[i]);
    if (inst->type_ids[i] == UINT32_MAX) return oom(err);
  }
  for (uint32_t i = 0; i < m->nfuncs; i++) {
    cm_funcinst *f = cm_store_alloc(s, sizeof *f);
    if (!f) return oom(err);
    f->type = &m->types[m->funcs[i].typeidx];
    f->type_id = inst->type_ids[m->funcs[i].typeidx];
    f->inst = inst;
    f->funcidx = i;
    inst->funcs[m->nfunc_imports + i] = f;
  }
  for (uint32_t i = 0; i < m->ntables; i++) {
    cm_value init = {0};
    const cm_tabletype *tt = &m->tables[i];
    if (tt->has_init && !eval_const(inst, (cm_expr){tt->init_offset, tt->init_len}, &init, err))
      return false;
    cm_tableinst *t = cm_store_table(s, tt, init.ref);
    if (!t) return oom(err);
    inst->tables[m->ntable_imports + i] = t;
  }
  for (uint32_t i = 0; i < m->nmems; i++) {
    cm_meminst *mm = cm_store_memory(s, &m->mems[i]);
    if (!mm) return oom(err);
    inst->mems[m->nmem_imports + i] = mm;
  }
  for (uint32_t i = 0; i < m->ntags; i++) {
    cm_taginst *t = cm_store_tag(s, &m->types[m->tags[i].typeidx]);
    if (!t) return oom(err);
    inst->tags[m->ntag_imports + i] = t;
  }
  for (uint32_t i = 0; i < m->nglobals; i++) {
    cm_value v;
    if (!eval_const(inst, m->globals[i].init, &v, err)) return false;
    cm_globalinst *g = cm_store_global(s, &m->globals[i].type, v);
    if (!g) return oom(err);
    inst->globals[m->nglobal_imports + i] = g;
  }
  return true;
}

static bool alloc_elems(cm_store *s, cm_instance *inst, const cm_module *m, cm_error *err) {
  for (uint32_t i = 0; i < m->nelems; i++) {
    const cm_elem *e = &m->elems[i];
    cm_eleminst *ei = &inst->elems[i];
    ei->refs = cm_store_alloc(s, sizeof(cm_ref) * (e->nitems + 1));
    if (!ei->refs) return oom(err);
    ei->n = e->nitems;
    for (uint32_t k = 0; k < e->nitems; k++) {
      if (!e->uses_exprs) {
        ei->refs[k] = inst->funcs[e->funcs[k]];
        continue;
      }
      cm_value v;
      if (!eval_const(inst, e->exprs[k], &v, err)) return false;
      ei->refs[k] = v.ref;
    }
  }
  return true;
}

/* ---- initialisation from segments (spec 4.5.4 steps 11-15) ---- */

static bool init_tables(cm_instance *inst, const cm_module *m, cm_error *err) {
  for (uint32_t i = 0; i < m->nelems; i++) {
    const cm_elem *e = &m->elems[i];
    cm_eleminst *ei = &inst->elems[i];
    if (e->mode == CM_SEG_ACTIVE) {
      cm_value off;
      if (!eval_const(inst, e->offset, &off, err)) return false;
      cm_tableinst *t = inst->tables[e->table];
      if ((uint64_t)off.i32 + ei->n > t->size) {
        cm_trap_set(err, CM_TRAP_TABLE_OOB);
        err->kind = CMREF_UNINSTANTIABLE;
        return false;
      }
      memcpy(t->elems + off.i32, ei->refs, ei->n * sizeof(cm_ref));
    }
    if (e->mode != CM_SEG_PASSIVE) ei->n = 0; /* elem.drop */
  }
  return true;
}

static bool init_memories(cm_instance *inst, const cm_module *m, cm_error *err) {
  for (uint32_t i = 0; i < m->ndatas; i++) {
    const cm_data *d = &m->datas[i];
    if (d->mode != CM_SEG_ACTIVE) continue;
    cm_value off;
    if (!eval_const(inst, d->offset, &off, err)) return false;
    cm_meminst *mm = inst->mems[d->memory];
    if ((uint64_t)off.i32 + d->init_len > mm->size) {
      cm_trap_set(err, CM_TRAP_MEMORY_OOB);
      err->kind = CMREF_UNINSTANTIABLE;
      return false;
    }
    if (d->init_len) memcpy(mm->data + off.i32, m->bytes + d->init_offset, d->init_len);
    inst->data_dropped[i] = true;
  }
  return true;
}

cm_instance *cm_core_instantiate(cm_store *s, const cm_module *m, const cm_extern *imports,
                                 uint32_t nimports, cm_error *err) {
  if (nimports != m->nimports) {
    cm_error_set(err, CMREF_UNLINKABLE, "expected %u imports, got %u", m->nimports, nimports);
    return NULL;
  }
  for (uint32_t i = 0; i < nimports; i++)
    if (!cm_extern_matches(s, m, &m->imports[i], &imports[i], err)) return NULL;
  cm_instance *inst = cm_store_alloc(s, sizeof *inst);
  if (!inst || !alloc_arrays(s, inst, m)) {
    oom(err);
    return NULL;
  }
  inst->module = m;
  bind_imports(inst, m, imports);
  if (!alloc_definitions(s, inst, m, err) || !alloc_elems(s, inst, m, err)) return NULL;
  if (!init_tables(inst, m, err) || !init_memories(inst, m, err)) return NULL;
  if (m->has_start) {
    cm_funcinst *f = inst->funcs[m->start];
    if (!cm_core_invoke(s, f, NULL, NULL, err)) {
      if (err->kind == CMREF_TRAP) err->kind = CMREF_UNINSTANTIABLE;
      return NULL;
    }
  }
  return inst;
}

bool cm_instance_export(const cm_instance *inst, const char *name, size_t len, cm_extern *out) {
  const cm_export *ex = cm_module_find_export(inst->module, name, len);
  if (ex) {
    out->kind = ex->kind;
    switch (ex->kind) {
    case CM_EXTERN_FUNC: out->u.func = inst->funcs[ex->index]; break;
    case CM_EXTERN_TABLE: out->u.table = inst->tables[ex->index]; break;
    case CM_EXTERN_MEMORY: out->u.mem = inst->mems[ex->index]; break;
    case CM_EXTERN_GLOBAL: out->u.global = inst->globals[ex->index]; break;
    case CM_EXTERN_TAG: out->u.tag = inst->tags[ex->index]; break;
    }
    return true;
  }
  return false;
}
