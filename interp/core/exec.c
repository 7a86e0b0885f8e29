/* Execution (spec 4.4): the dispatch loop over pre-decoded code (compile.c).
 *
 * Registers of the loop: ip (current instruction), sp (first free value slot), fp (the
 * frame's first local), fn/inst (the running function and its module instance). Calls
 * push a cm_frame; the depth and the value stack are bounded ("call stack exhausted").
 * Like Lua's lvm.c, cases are written with vmcase/vmbreak, which become computed gotos
 * where the compiler supports them. */
#include <stdlib.h>
#include <string.h>

#include "core/exec_internal.h"
#include "core/instr.h"
#include "core/numerics.h"
#include "core/simd.h"

/* ---- helpers used by the loop ---- */

/* Compiles f on its first call, and again when the store's metering changed (the old code
 * stays with the store: frames may still run it). */
static bool ensure_code(cm_store *s, cm_funcinst *f, cm_error *err) {
  if (f->code && f->code->metered == s->metered) return true;
  cm_code *c = cm_compile(f->inst->module, f->funcidx, s->metered, err);
  if (!c) return false;
  if (!cm_store_add_code(s, c)) {
    cm_code_free(c);
    return cm_error_set(err, CMREF_INTERNAL, "out of memory");
  }
  f->code = c;
  return true;
}

/* Calls a host function with its arguments on top of the stack; results replace them. */
static bool call_host(cm_store *s, cm_funcinst *f, cm_value **spp, cm_error *err) {
  const cm_functype *t = f->type;
  cm_value *args = *spp - t->nparams;
  cm_value res[t->nresults ? t->nresults : 1];
  cm_value *saved = s->sp;
  s->sp = *spp;
  bool ok = f->host(f->host_env, s, args, res, err);
  s->sp = saved;
  if (!ok) return false;
  memcpy(args, res, t->nresults * sizeof *res);
  *spp = args + t->nresults;
  return true;
}

static bool mem_range_ok(const cm_meminst *m, uint64_t addr, uint64_t n) {
  return addr <= m->size && n <= m->size - addr;
}

static bool table_range_ok(const cm_tableinst *t, uint64_t i, uint64_t n) {
  return i <= t->size && n <= t->size - i;
}

/* memory.init / memory.copy / memory.fill and the table counterparts (spec 4.4.7, 4.4.6):
 * operands are i32 on the stack (d, s, n); they return a trap reason or -1. */
static int memory_init(cm_instance *inst, uint32_t dataidx, uint32_t memidx, uint32_t d,
                       uint32_t s, uint32_t n) {
  cm_meminst *m = inst->mems[memidx];
  const cm_data *seg = &inst->module->datas[dataidx];
  uint32_t len = inst->data_dropped[dataidx] ? 0 : seg->init_len;
  if (!mem_range_ok(m, d, n) || (uint64_t)s + n > len) return CM_TRAP_MEMORY_OOB;
  if (n) memcpy(m->data + d, inst->module->bytes + seg->init_offset + s, n);
  return -1;
}

static int memory_copy(cm_meminst *dm, cm_meminst *sm, uint32_t d, uint32_t s, uint32_t n) {
  if (!mem_range_ok(dm, d, n) || !mem_range_ok(sm, s, n)) return CM_TRAP_MEMORY_OOB;
  if (n) memmove(dm->data + d, sm->data + s, n);
  return -1;
}

static int memory_fill(cm_meminst *m, uint32_t d, uint32_t val, uint32_t n) {
  if (!mem_range_ok(m, d, n)) return CM_TRAP_MEMORY_OOB;
  if (n) memset(m->data + d, (int)(val & 0xFF), n);
  return -1;
}

static int table_init(cm_instance *inst, uint32_t elemidx, uint32_t tableidx, uint32_t d,
                      uint32_t s, uint32_t n) {
  cm_tableinst *t = inst->tables[tableidx];
  cm_eleminst *e = &inst->elems[elemidx];
  if (!table_range_ok(t, d, n) || (uint64_t)s + n > e->n) return CM_TRAP_TABLE_OOB;
  if (n) memcpy(t->elems + d, e->refs + s, n * sizeof(cm_ref));
  return -1;
}

static int table_copy(cm_tableinst *dt, cm_tableinst *st, uint32_t d, uint32_t s, uint32_t n) {
  if (!table_range_ok(dt, d, n) || !table_range_ok(st, s, n)) return CM_TRAP_TABLE_OOB;
  if (n) memmove(dt->elems + d, st->elems + s, n * sizeof(cm_ref));
  return -1;
}

static int table_fill(cm_tableinst *t, uint32_t i, cm_ref val, uint32_t n) {
  if (!table_range_ok(t, i, n)) return CM_TRAP_TABLE_OOB;
  for (uint32_t k = 0; k < n; k++) t->elems[i + k] = val;
  return -1;
}

/* Finds the innermost try_table of `code` covering instruction `at` with a catch clause for
 * exn; sets *pad. */
static const cm_handler *find_handler(cm_instance *inst, const cm_code *code, uint32_t at,
                                      cm_exninst *exn, const cm_pad **pad) {
  for (uint32_t h = code->nhandlers; h-- > 0;) {
    const cm_handler *hd = &code->handlers[h];
    if (at < hd->start || at >= hd->end) continue;
    for (uint32_t k = 0; k < hd->npads; k++) {
      const cm_pad *p = &code->pads[hd->first_pad + k];
      bool all = p->kind == CM_CATCH_ALL || p->kind == CM_CATCH_ALL_REF;
      if (all || inst->tags[p->tag] == exn->tag) {
        *pad = p;
        return hd;
      }
    }
  }
  return NULL;
}

/* ---- the loop ---- */

/* Names of the 0xFC-prefixed ops (labels need identifiers). */
enum {
  FC_0 = CM_XOP_FC, FC_1, FC_2, FC_3, FC_4, FC_5, FC_6, FC_7, FC_8, FC_9, FC_10, FC_11,
  FC_12, FC_13, FC_14, FC_15, FC_16, FC_17
};

#if defined(__GNUC__) && !defined(CM_NO_COMPUTED_GOTO)
#define CM_COMPUTED_GOTO 1 /* else: a plain switch (build with -DCM_NO_COMPUTED_GOTO) */
#endif

typedef struct exec_state {
  cm_store *s;
  cm_error *err;
  uint32_t base_frames; /* frames below this invocation */
} exec_state;

#define LOAD(T, field, CT, conv)                                                       \
  {                                                                                    \
    cm_meminst *m = inst->mems[ip->a];                                                 \
    uint64_t ea = (uint64_t)sp[-1].i32 + ip->b;                                        \
    if (ea + sizeof(CT) > m->size) TRAP(CM_TRAP_MEMORY_OOB);                           \
    CT v;                                                                              \
    memcpy(&v, m->data + ea, sizeof(CT));                                              \
    sp[-1].field = (T)conv v;                                                          \
  }

#define STORE(field, CT)                                                               \
  {                                                                                    \
    cm_meminst *m = inst->mems[ip->a];                                                 \
    uint64_t ea = (uint64_t)sp[-2].i32 + ip->b;                                        \
    if (ea + sizeof(CT) > m->size) TRAP(CM_TRAP_MEMORY_OOB);                           \
    CT v = (CT)sp[-1].field;                                                           \
    memcpy(m->data + ea, &v, sizeof(CT));                                              \
    sp -= 2;                                                                           \
  }

#define BIN(field, expr)                                                               \
  {                                                                                    \
    sp--;                                                                              \
    __typeof__(sp->field) a = sp[-1].field, b = sp[0].field;                           \
    (void)a; (void)b;                                                                  \
    sp[-1].field = (expr);                                                             \
  }
#define CMP(field, expr)                                                               \
  {                                                                                    \
    sp--;                                                                              \
    __typeof__(sp->field) a = sp[-1].field, b = sp[0].field;                           \
    sp[-1].i32 = (expr) ? 1 : 0;                                                       \
  }
#define UN(field, rfield, expr)                                                        \
  {                                                                                    \
    __typeof__(sp->field) a = sp[-1].field;                                            \
    sp[-1].rfield = (expr);                                                            \
  }
#define TRAP(t)                                                                        \
  do {                                                                                 \
    trap = (t);                                                                        \
    goto do_trap;                                                                      \
  } while (0)

/* A trapping truncation: kind = cm_trunc_check result. */
#define TRUNC(field, rfield, RT, check)                                                \
  {                                                                                    \
    double x = (double)sp[-1].field;                                                   \
    int bad = (check);                                                                 \
    if (bad) TRAP(bad == 1 ? CM_TRAP_BAD_CONVERSION : CM_TRAP_INT_OVERFLOW);           \
    sp[-1].rfield = (RT)x;                                                             \
  }

static bool run(exec_state *st, cm_funcinst *entry);

bool cm_core_invoke(cm_store *s, cm_funcinst *f, const cm_value *args, cm_value *results,
                    cm_error *err) {
  const cm_functype *t = f->type;
  if (f->host) return f->host(f->host_env, s, args, results, err);
  cm_value *saved_sp = s->sp;
  if ((size_t)(s->stack + s->stack_slots - s->sp) < (size_t)t->nparams + 64)
    return cm_trap_set(err, CM_TRAP_STACK_OVERFLOW);
  if (t->nparams) memcpy(s->sp, args, t->nparams * sizeof *args);
  s->sp += t->nparams;
  exec_state st = {s, err, s->nframes};
  s->last_exn = NULL;
  if (s->nesting >= CM_MAX_NESTING) {
    s->sp = saved_sp;
    return cm_trap_set(err, CM_TRAP_STACK_OVERFLOW);
  }
  s->nesting++;
  bool ok = run(&st, f);
  s->nesting--;
  if (ok && t->nresults) memcpy(results, saved_sp, t->nresults * sizeof *results);
  s->sp = saved_sp;
  s->nframes = st.base_frames;
  return ok;
}

/* Runs `entry` whose arguments are on top of s->sp; leaves its results at the arguments'
 * place. */
static bool run(exec_state *st, cm_funcinst *entry) {
  cm_store *s = st->s;
  cm_error *err = st->err;
  cm_value *const stack_end = s->stack + s->stack_slots;
  cm_funcinst *fn = entry;
  cm_instance *inst = fn->inst;
  cm_value *sp = s->sp;
  cm_value *fp;
  const cm_insn *ip;
  const cm_code *code;  /* the running code of fn */
  const cm_insn *code0; /* code->insns */
  int trap = 0;
  uint32_t trap_index = 0; /* the element of an uninitialized-element trap */
  cm_exninst *exn = NULL;
  cm_funcinst *callee;

  /* Enters callee whose params are at sp - nparams; the return target is ret. */
#define ENTER(ret)                                                                     \
  do {                                                                                 \
    const cm_code *cc = callee->code;                                                  \
    if (!cc || cc->metered != s->metered) {                                            \
      if (!ensure_code(s, callee, err)) return false;                                  \
      cc = callee->code;                                                               \
    }                                                                                  \
    if (s->nframes >= CM_MAX_FRAMES || stack_end - sp < (ptrdiff_t)cc->frame_size)     \
      TRAP(CM_TRAP_STACK_OVERFLOW);                                                    \
    cm_frame *fr = &s->frames[s->nframes++];                                           \
    fr->ret_ip = (ret);                                                                \
    fr->fp = fp;                                                                       \
    fr->fn = fn;                                                                       \
    fr->code = code;                                                                   \
    fn = callee;                                                                       \
    code = cc;                                                                         \
    inst = fn->inst;                                                                   \
    fp = sp - cc->nparams;                                                             \
    memset(sp, 0, cc->nlocals * sizeof *sp);                                           \
    sp += cc->nlocals;                                                                 \
    code0 = cc->insns;                                                                 \
    ip = code0;                                                                        \
  } while (0)

  fp = NULL;
  ip = NULL;
  code = NULL;
  code0 = NULL;
  callee = entry;
  {
    /* a sentinel frame: returning to it ends the run */
    ENTER(NULL);
  }

#ifdef CM_COMPUTED_GOTO
  static const void *const dispatch_table[CM_XOP_COUNT] = {
#include "core/exec_jumptable.h"
  };
#define vmdispatch() goto *dispatch_table[ip->op];
#define vmcase(l) L_##l:
#define vmbreak                                                                        \
  ip++;                                                                                \
  goto *dispatch_table[ip->op]
#define vmjump goto *dispatch_table[ip->op]
#define CM_FALLTHROUGH ((void)0)
#else
#if defined(__GNUC__)
#define CM_FALLTHROUGH __attribute__((fallthrough))
#else
#define CM_FALLTHROUGH ((void)0)
#endif
#define vmdispatch() switch (ip->op)
#define vmcase(l) case l:
#define vmbreak                                                                        \
  ip++;                                                                                \
  goto loop
#define vmjump goto loop
#endif

#ifndef CM_COMPUTED_GOTO
loop:
#endif
  vmdispatch() {
    vmcase(0x00) TRAP(CM_TRAP_UNREACHABLE);

    /* ---- control (spec 4.4.8) ---- */
    vmcase(CM_XOP_JMP) {
      ip = code0 + ip->a;
      vmjump;
    }
    vmcase(CM_XOP_JMP_IF) {
      sp--;
      if (sp->i32) {
        ip = code0 + ip->a;
        vmjump;
      }
      vmbreak;
    }
    vmcase(CM_XOP_JMP_UNLESS) {
      sp--;
      if (!sp->i32) {
        ip = code0 + ip->a;
        vmjump;
      }
      vmbreak;
    }
    vmcase(CM_XOP_BR_IF) {
      sp--;
      if (!sp->i32) {
        vmbreak;
      }
      CM_FALLTHROUGH;
    }
    vmcase(CM_XOP_BR) {
      uint32_t arity = (uint32_t)ip->b, drop = (uint32_t)(ip->b >> 32);
      memmove(sp - arity - drop, sp - arity, arity * sizeof *sp);
      sp -= drop;
      ip = code0 + ip->a;
      vmjump;
    }
    vmcase(CM_XOP_BR_TABLE) {
      uint32_t i = (--sp)->i32;
      ip += 1 + (i < ip->a ? i : ip->a);
      vmjump;
    }
    vmcase(CM_XOP_RETURN) {
      uint32_t n = ip->a;
      memmove(fp, sp - n, n * sizeof *sp);
      sp = fp + n;
      cm_frame *fr = &s->frames[--s->nframes];
      if (fr->ret_ip == NULL) {
        s->sp = sp;
        return true;
      }
      ip = fr->ret_ip;
      fp = fr->fp;
      fn = fr->fn;
      inst = fn->inst;
      code = fr->code;
      code0 = code->insns;
      vmjump;
    }
    vmcase(CM_XOP_CALL) {
      callee = inst->funcs[ip->a];
    do_call:
      if (callee->host) {
        if (s->nframes >= CM_MAX_FRAMES) TRAP(CM_TRAP_STACK_OVERFLOW);
        s->frames[s->nframes++] = (cm_frame){ip + 1, fp, fn, code}; /* re-entrant hosts */
        bool ok = call_host(s, callee, &sp, err);
        s->nframes--;
        if (!ok) {
          /* exactly a nested invoke's uncaught exception: the component boundary's trap
           * "uncaught exception propagated out of component" must not be rethrown */
          if (s->last_exn && err->kind == CMREF_TRAP && strcmp(err->message, "uncaught exception") == 0) {
            exn = s->last_exn;
            goto do_throw;
          }
          return false;
        }
        vmbreak;
      }
      ENTER(ip + 1);
      vmjump;
    }
    vmcase(CM_XOP_CALL_INDIRECT) {
      cm_tableinst *t = inst->tables[ip->b];
      uint32_t i = (--sp)->i32;
      if (i >= t->size) TRAP(CM_TRAP_TABLE_OOB);
      callee = (cm_funcinst *)t->elems[i];
      if (!callee) {
        trap_index = i;
        TRAP(CM_TRAP_INDIRECT_NULL);
      }
      if (callee->type_id != inst->type_ids[ip->a]) TRAP(CM_TRAP_BAD_SIGNATURE);
      goto do_call;
    }
    vmcase(CM_XOP_THROW) {
      cm_taginst *tag = inst->tags[ip->a];
      uint32_t n = tag->type->nparams;
      exn = cm_store_exn(s, tag, sp - n);
      if (!exn) TRAP(CM_TRAP_OUT_OF_MEMORY);
      sp -= n;
      goto do_throw;
    }
    vmcase(CM_XOP_THROW_REF) {
      exn = (cm_exninst *)(--sp)->ref;
      if (!exn) TRAP(CM_TRAP_NULL_REFERENCE);
      goto do_throw;
    }

    vmcase(CM_XOP_FUEL) { /* a segment of ip->a instructions runs only if fuel pays for it */
      if (s->fuel < ip->a) TRAP(CM_TRAP_OUT_OF_FUEL);
      s->fuel -= ip->a;
      vmbreak;
    }

    /* ---- parametric (spec 4.4.4) ---- */
    vmcase(0x1A) {
      sp--;
      vmbreak;
    }
    vmcase(CM_XOP_SELECT) {
      sp -= 2;
      if (!sp[1].i32) sp[-1] = sp[0];
      vmbreak;
    }

    /* ---- variables (spec 4.4.5) ---- */
    vmcase(0x20) {
      *sp++ = fp[ip->a];
      vmbreak;
    }
    vmcase(0x21) {
      fp[ip->a] = *--sp;
      vmbreak;
    }
    vmcase(0x22) {
      fp[ip->a] = sp[-1];
      vmbreak;
    }
    vmcase(0x23) {
      *sp++ = inst->globals[ip->a]->val;
      vmbreak;
    }
    vmcase(0x24) {
      inst->globals[ip->a]->val = *--sp;
      vmbreak;
    }

    /* ---- tables (spec 4.4.6) ---- */
    vmcase(0x25) {
      cm_tableinst *t = inst->tables[ip->a];
      uint32_t i = sp[-1].i32;
      if (i >= t->size) TRAP(CM_TRAP_TABLE_OOB);
      sp[-1].ref = t->elems[i];
      vmbreak;
    }
    vmcase(0x26) {
      cm_tableinst *t = inst->tables[ip->a];
      uint32_t i = sp[-2].i32;
      if (i >= t->size) TRAP(CM_TRAP_TABLE_OOB);
      t->elems[i] = sp[-1].ref;
      sp -= 2;
      vmbreak;
    }
    vmcase(FC_12) { /* table.init */
      sp -= 3;
      int r = table_init(inst, ip->a, (uint32_t)ip->b, sp[0].i32, sp[1].i32, sp[2].i32);
      if (r >= 0) TRAP(r);
      vmbreak;
    }
    vmcase(FC_13) { /* elem.drop */
      inst->elems[ip->a].n = 0;
      vmbreak;
    }
    vmcase(FC_14) { /* table.copy */
      sp -= 3;
      int r = table_copy(inst->tables[ip->a], inst->tables[ip->b], sp[0].i32, sp[1].i32,
                         sp[2].i32);
      if (r >= 0) TRAP(r);
      vmbreak;
    }
    vmcase(FC_15) { /* table.grow */
      sp--;
      int64_t r = cm_table_grow(inst->tables[ip->a], sp[0].i32, sp[-1].ref);
      sp[-1].i32 = (uint32_t)r;
      vmbreak;
    }
    vmcase(FC_16) { /* table.size */
      (sp++)->i32 = inst->tables[ip->a]->size;
      vmbreak;
    }
    vmcase(FC_17) { /* table.fill */
      sp -= 3;
      int r = table_fill(inst->tables[ip->a], sp[0].i32, sp[1].ref, sp[2].i32);
      if (r >= 0) TRAP(r);
      vmbreak;
    }

    /* ---- memory (spec 4.4.7) ---- */
    vmcase(0x28) LOAD(uint32_t, i32, uint32_t, ) vmbreak;
    vmcase(0x29) LOAD(uint64_t, i64, uint64_t, ) vmbreak;
    vmcase(0x2A) LOAD(uint32_t, i32, uint32_t, ) vmbreak;
    vmcase(0x2B) LOAD(uint64_t, i64, uint64_t, ) vmbreak;
    vmcase(0x2C) LOAD(uint32_t, i32, int8_t, (int32_t)) vmbreak;
    vmcase(0x2D) LOAD(uint32_t, i32, uint8_t, ) vmbreak;
    vmcase(0x2E) LOAD(uint32_t, i32, int16_t, (int32_t)) vmbreak;
    vmcase(0x2F) LOAD(uint32_t, i32, uint16_t, ) vmbreak;
    vmcase(0x30) LOAD(uint64_t, i64, int8_t, (int64_t)) vmbreak;
    vmcase(0x31) LOAD(uint64_t, i64, uint8_t, ) vmbreak;
    vmcase(0x32) LOAD(uint64_t, i64, int16_t, (int64_t)) vmbreak;
    vmcase(0x33) LOAD(uint64_t, i64, uint16_t, ) vmbreak;
    vmcase(0x34) LOAD(uint64_t, i64, int32_t, (int64_t)) vmbreak;
    vmcase(0x35) LOAD(uint64_t, i64, uint32_t, ) vmbreak;
    vmcase(0x36) STORE(i32, uint32_t) vmbreak;
    vmcase(0x37) STORE(i64, uint64_t) vmbreak;
    vmcase(0x38) STORE(i32, uint32_t) vmbreak;
    vmcase(0x39) STORE(i64, uint64_t) vmbreak;
    vmcase(0x3A) STORE(i32, uint8_t) vmbreak;
    vmcase(0x3B) STORE(i32, uint16_t) vmbreak;
    vmcase(0x3C) STORE(i64, uint8_t) vmbreak;
    vmcase(0x3D) STORE(i64, uint16_t) vmbreak;
    vmcase(0x3E) STORE(i64, uint32_t) vmbreak;
    vmcase(0x3F) {
      (sp++)->i32 = (uint32_t)(inst->mems[ip->a]->size / CM_PAGE_SIZE);
      vmbreak;
    }
    vmcase(0x40) {
      if (sp[-1].i32 && inst->mems[ip->a]->size + (uint64_t)sp[-1].i32 * CM_PAGE_SIZE > s->max_memory)
        TRAP(CM_TRAP_MEMORY_LIMIT);
      sp[-1].i32 = (uint32_t)cm_mem_grow(inst->mems[ip->a], sp[-1].i32);
      vmbreak;
    }
    vmcase(FC_8) { /* memory.init */
      sp -= 3;
      int r = memory_init(inst, ip->a, (uint32_t)ip->b, sp[0].i32, sp[1].i32, sp[2].i32);
      if (r >= 0) TRAP(r);
      vmbreak;
    }
    vmcase(FC_9) { /* data.drop */
      inst->data_dropped[ip->a] = true;
      vmbreak;
    }
    vmcase(FC_10) { /* memory.copy */
      sp -= 3;
      int r = memory_copy(inst->mems[ip->a], inst->mems[ip->b], sp[0].i32, sp[1].i32,
                          sp[2].i32);
      if (r >= 0) TRAP(r);
      vmbreak;
    }
    vmcase(FC_11) { /* memory.fill */
      sp -= 3;
      int r = memory_fill(inst->mems[ip->a], sp[0].i32, sp[1].i32, sp[2].i32);
      if (r >= 0) TRAP(r);
      vmbreak;
    }

    /* ---- constants and references ---- */
    vmcase(0x41) {
      (sp++)->i32 = (uint32_t)ip->b;
      vmbreak;
    }
    vmcase(0x42) {
      (sp++)->i64 = ip->b;
      vmbreak;
    }
    vmcase(0x43) {
      (sp++)->i32 = (uint32_t)ip->b;
      vmbreak;
    }
    vmcase(0x44) {
      (sp++)->i64 = ip->b;
      vmbreak;
    }
    vmcase(0xD0) {
      (sp++)->ref = NULL;
      vmbreak;
    }
    vmcase(0xD1) {
      sp[-1].i32 = sp[-1].ref == NULL;
      vmbreak;
    }
    vmcase(CM_XOP_REF_I31) {
      sp[-1].ref = CM_I31_REF(sp[-1].i32);
      vmbreak;
    }
    vmcase(CM_XOP_I31_GET_S) {
      if (sp[-1].ref == NULL) TRAP(CM_TRAP_NULL_I31);
      uint32_t bits = CM_I31_BITS(sp[-1].ref);
      sp[-1].i64 = 0;
      sp[-1].i32 = bits & 0x40000000u ? bits | 0x80000000u : bits;
      vmbreak;
    }
    vmcase(CM_XOP_I31_GET_U) {
      if (sp[-1].ref == NULL) TRAP(CM_TRAP_NULL_I31);
      uint32_t bits = CM_I31_BITS(sp[-1].ref);
      sp[-1].i64 = 0;
      sp[-1].i32 = bits;
      vmbreak;
    }
    vmcase(0xD2) {
      (sp++)->ref = inst->funcs[ip->a];
      vmbreak;
    }

    /* ---- numeric (spec 4.4.1, 4.3) ---- */
    vmcase(0x45) UN(i32, i32, a == 0) vmbreak;
    vmcase(0x46) CMP(i32, a == b) vmbreak;
    vmcase(0x47) CMP(i32, a != b) vmbreak;
    vmcase(0x48) CMP(i32, (int32_t)a < (int32_t)b) vmbreak;
    vmcase(0x49) CMP(i32, a < b) vmbreak;
    vmcase(0x4A) CMP(i32, (int32_t)a > (int32_t)b) vmbreak;
    vmcase(0x4B) CMP(i32, a > b) vmbreak;
    vmcase(0x4C) CMP(i32, (int32_t)a <= (int32_t)b) vmbreak;
    vmcase(0x4D) CMP(i32, a <= b) vmbreak;
    vmcase(0x4E) CMP(i32, (int32_t)a >= (int32_t)b) vmbreak;
    vmcase(0x4F) CMP(i32, a >= b) vmbreak;
    vmcase(0x50) UN(i64, i32, a == 0) vmbreak;
    vmcase(0x51) CMP(i64, a == b) vmbreak;
    vmcase(0x52) CMP(i64, a != b) vmbreak;
    vmcase(0x53) CMP(i64, (int64_t)a < (int64_t)b) vmbreak;
    vmcase(0x54) CMP(i64, a < b) vmbreak;
    vmcase(0x55) CMP(i64, (int64_t)a > (int64_t)b) vmbreak;
    vmcase(0x56) CMP(i64, a > b) vmbreak;
    vmcase(0x57) CMP(i64, (int64_t)a <= (int64_t)b) vmbreak;
    vmcase(0x58) CMP(i64, a <= b) vmbreak;
    vmcase(0x59) CMP(i64, (int64_t)a >= (int64_t)b) vmbreak;
    vmcase(0x5A) CMP(i64, a >= b) vmbreak;
    vmcase(0x5B) CMP(f32, a == b) vmbreak;
    vmcase(0x5C) CMP(f32, a != b) vmbreak;
    vmcase(0x5D) CMP(f32, a < b) vmbreak;
    vmcase(0x5E) CMP(f32, a > b) vmbreak;
    vmcase(0x5F) CMP(f32, a <= b) vmbreak;
    vmcase(0x60) CMP(f32, a >= b) vmbreak;
    vmcase(0x61) CMP(f64, a == b) vmbreak;
    vmcase(0x62) CMP(f64, a != b) vmbreak;
    vmcase(0x63) CMP(f64, a < b) vmbreak;
    vmcase(0x64) CMP(f64, a > b) vmbreak;
    vmcase(0x65) CMP(f64, a <= b) vmbreak;
    vmcase(0x66) CMP(f64, a >= b) vmbreak;

    vmcase(0x67) UN(i32, i32, cm_i32_clz(a)) vmbreak;
    vmcase(0x68) UN(i32, i32, cm_i32_ctz(a)) vmbreak;
    vmcase(0x69) UN(i32, i32, cm_i32_popcnt(a)) vmbreak;
    vmcase(0x6A) BIN(i32, a + b) vmbreak;
    vmcase(0x6B) BIN(i32, a - b) vmbreak;
    vmcase(0x6C) BIN(i32, a * b) vmbreak;
    vmcase(0x6D) {
      uint32_t a = sp[-2].i32, b = sp[-1].i32;
      if (b == 0) TRAP(CM_TRAP_DIV_ZERO);
      if (a == 0x80000000u && b == 0xFFFFFFFFu) TRAP(CM_TRAP_INT_OVERFLOW);
      sp--;
      sp[-1].i32 = cm_i32_div_s(a, b);
      vmbreak;
    }
    vmcase(0x6E) {
      if (sp[-1].i32 == 0) TRAP(CM_TRAP_DIV_ZERO);
      BIN(i32, a / b)
      vmbreak;
    }
    vmcase(0x6F) {
      if (sp[-1].i32 == 0) TRAP(CM_TRAP_DIV_ZERO);
      BIN(i32, cm_i32_rem_s(a, b))
      vmbreak;
    }
    vmcase(0x70) {
      if (sp[-1].i32 == 0) TRAP(CM_TRAP_DIV_ZERO);
      BIN(i32, a % b)
      vmbreak;
    }
    vmcase(0x71) BIN(i32, a & b) vmbreak;
    vmcase(0x72) BIN(i32, a | b) vmbreak;
    vmcase(0x73) BIN(i32, a ^ b) vmbreak;
    vmcase(0x74) BIN(i32, a << (b & 31)) vmbreak;
    vmcase(0x75) BIN(i32, cm_i32_shr_s(a, b)) vmbreak;
    vmcase(0x76) BIN(i32, a >> (b & 31)) vmbreak;
    vmcase(0x77) BIN(i32, cm_i32_rotl(a, b)) vmbreak;
    vmcase(0x78) BIN(i32, cm_i32_rotr(a, b)) vmbreak;

    vmcase(0x79) UN(i64, i64, cm_i64_clz(a)) vmbreak;
    vmcase(0x7A) UN(i64, i64, cm_i64_ctz(a)) vmbreak;
    vmcase(0x7B) UN(i64, i64, cm_i64_popcnt(a)) vmbreak;
    vmcase(0x7C) BIN(i64, a + b) vmbreak;
    vmcase(0x7D) BIN(i64, a - b) vmbreak;
    vmcase(0x7E) BIN(i64, a * b) vmbreak;
    vmcase(0x7F) {
      uint64_t a = sp[-2].i64, b = sp[-1].i64;
      if (b == 0) TRAP(CM_TRAP_DIV_ZERO);
      if (a == 0x8000000000000000ull && b == ~0ull) TRAP(CM_TRAP_INT_OVERFLOW);
      sp--;
      sp[-1].i64 = cm_i64_div_s(a, b);
      vmbreak;
    }
    vmcase(0x80) {
      if (sp[-1].i64 == 0) TRAP(CM_TRAP_DIV_ZERO);
      BIN(i64, a / b)
      vmbreak;
    }
    vmcase(0x81) {
      if (sp[-1].i64 == 0) TRAP(CM_TRAP_DIV_ZERO);
      BIN(i64, cm_i64_rem_s(a, b))
      vmbreak;
    }
    vmcase(0x82) {
      if (sp[-1].i64 == 0) TRAP(CM_TRAP_DIV_ZERO);
      BIN(i64, a % b)
      vmbreak;
    }
    vmcase(0x83) BIN(i64, a & b) vmbreak;
    vmcase(0x84) BIN(i64, a | b) vmbreak;
    vmcase(0x85) BIN(i64, a ^ b) vmbreak;
    vmcase(0x86) BIN(i64, a << (b & 63)) vmbreak;
    vmcase(0x87) BIN(i64, cm_i64_shr_s(a, b)) vmbreak;
    vmcase(0x88) BIN(i64, a >> (b & 63)) vmbreak;
    vmcase(0x89) BIN(i64, cm_i64_rotl(a, b)) vmbreak;
    vmcase(0x8A) BIN(i64, cm_i64_rotr(a, b)) vmbreak;

    vmcase(0x8B) UN(i32, i32, a & 0x7FFFFFFFu) vmbreak; /* f32.abs on bits */
    vmcase(0x8C) UN(i32, i32, a ^ 0x80000000u) vmbreak; /* f32.neg */
    vmcase(0x8D) UN(f32, f32, cm_f32_ceil(a)) vmbreak;
    vmcase(0x8E) UN(f32, f32, cm_f32_floor(a)) vmbreak;
    vmcase(0x8F) UN(f32, f32, cm_f32_trunc(a)) vmbreak;
    vmcase(0x90) UN(f32, f32, cm_f32_nearest(a)) vmbreak;
    vmcase(0x91) UN(f32, f32, sqrtf(a)) vmbreak;
    vmcase(0x92) BIN(f32, a + b) vmbreak;
    vmcase(0x93) BIN(f32, a - b) vmbreak;
    vmcase(0x94) BIN(f32, a * b) vmbreak;
    vmcase(0x95) BIN(f32, a / b) vmbreak;
    vmcase(0x96) BIN(f32, cm_f32_min(a, b)) vmbreak;
    vmcase(0x97) BIN(f32, cm_f32_max(a, b)) vmbreak;
    vmcase(0x98) BIN(i32, cm_f32_copysign(a, b)) vmbreak;
    vmcase(0x99) UN(i64, i64, a & 0x7FFFFFFFFFFFFFFFull) vmbreak;
    vmcase(0x9A) UN(i64, i64, a ^ 0x8000000000000000ull) vmbreak;
    vmcase(0x9B) UN(f64, f64, cm_f64_ceil(a)) vmbreak;
    vmcase(0x9C) UN(f64, f64, cm_f64_floor(a)) vmbreak;
    vmcase(0x9D) UN(f64, f64, cm_f64_trunc(a)) vmbreak;
    vmcase(0x9E) UN(f64, f64, cm_f64_nearest(a)) vmbreak;
    vmcase(0x9F) UN(f64, f64, sqrt(a)) vmbreak;
    vmcase(0xA0) BIN(f64, a + b) vmbreak;
    vmcase(0xA1) BIN(f64, a - b) vmbreak;
    vmcase(0xA2) BIN(f64, a * b) vmbreak;
    vmcase(0xA3) BIN(f64, a / b) vmbreak;
    vmcase(0xA4) BIN(f64, cm_f64_min(a, b)) vmbreak;
    vmcase(0xA5) BIN(f64, cm_f64_max(a, b)) vmbreak;
    vmcase(0xA6) BIN(i64, cm_f64_copysign(a, b)) vmbreak;

    /* conversions */
    vmcase(0xA7) UN(i64, i32, (uint32_t)a) vmbreak;
    vmcase(0xA8) TRUNC(f32, i32, int32_t, cm_trunc_check(x, CM_I32_S_LO, CM_I32_S_HI)) vmbreak;
    vmcase(0xA9) TRUNC(f32, i32, uint32_t, cm_trunc_check(x, CM_I32_U_LO, CM_I32_U_HI)) vmbreak;
    vmcase(0xAA) TRUNC(f64, i32, int32_t, cm_trunc_check(x, CM_I32_S_LO, CM_I32_S_HI)) vmbreak;
    vmcase(0xAB) TRUNC(f64, i32, uint32_t, cm_trunc_check(x, CM_I32_U_LO, CM_I32_U_HI)) vmbreak;
    vmcase(0xAC) UN(i32, i64, (uint64_t)(int64_t)(int32_t)a) vmbreak;
    vmcase(0xAD) UN(i32, i64, (uint64_t)a) vmbreak;
    vmcase(0xAE) TRUNC(f32, i64, int64_t, cm_i64_trunc_s_check(x)) vmbreak;
    vmcase(0xAF) TRUNC(f32, i64, uint64_t, cm_trunc_check(x, CM_I32_U_LO, CM_I64_U_HI)) vmbreak;
    vmcase(0xB0) TRUNC(f64, i64, int64_t, cm_i64_trunc_s_check(x)) vmbreak;
    vmcase(0xB1) TRUNC(f64, i64, uint64_t, cm_trunc_check(x, CM_I32_U_LO, CM_I64_U_HI)) vmbreak;
    vmcase(0xB2) UN(i32, f32, (float)(int32_t)a) vmbreak;
    vmcase(0xB3) UN(i32, f32, (float)a) vmbreak;
    vmcase(0xB4) UN(i64, f32, cm_f32_convert_i64_s(a)) vmbreak;
    vmcase(0xB5) UN(i64, f32, cm_f32_convert_i64_u(a)) vmbreak;
    vmcase(0xB6) UN(f64, f32, (float)a) vmbreak;
    vmcase(0xB7) UN(i32, f64, (double)(int32_t)a) vmbreak;
    vmcase(0xB8) UN(i32, f64, (double)a) vmbreak;
    vmcase(0xB9) UN(i64, f64, (double)(int64_t)a) vmbreak;
    vmcase(0xBA) UN(i64, f64, (double)a) vmbreak;
    vmcase(0xBB) UN(f32, f64, (double)a) vmbreak;
    vmcase(0xBC) vmbreak; /* reinterpretations: same bits */
    vmcase(0xBD) vmbreak;
    vmcase(0xBE) vmbreak;
    vmcase(0xBF) vmbreak;
    vmcase(0xC0) UN(i32, i32, cm_i32_extend8_s(a)) vmbreak;
    vmcase(0xC1) UN(i32, i32, cm_i32_extend16_s(a)) vmbreak;
    vmcase(0xC2) UN(i64, i64, cm_i64_extend8_s(a)) vmbreak;
    vmcase(0xC3) UN(i64, i64, cm_i64_extend16_s(a)) vmbreak;
    vmcase(0xC4) UN(i64, i64, cm_i64_extend32_s(a)) vmbreak;
    vmcase(FC_0) UN(f32, i32, cm_i32_trunc_sat_s(a)) vmbreak;
    vmcase(FC_1) UN(f32, i32, cm_i32_trunc_sat_u(a)) vmbreak;
    vmcase(FC_2) UN(f64, i32, cm_i32_trunc_sat_s(a)) vmbreak;
    vmcase(FC_3) UN(f64, i32, cm_i32_trunc_sat_u(a)) vmbreak;
    vmcase(FC_4) UN(f32, i64, cm_i64_trunc_sat_s(a)) vmbreak;
    vmcase(FC_5) UN(f32, i64, cm_i64_trunc_sat_u(a)) vmbreak;
    vmcase(FC_6) UN(f64, i64, cm_i64_trunc_sat_s(a)) vmbreak;
    vmcase(FC_7) UN(f64, i64, cm_i64_trunc_sat_u(a)) vmbreak;

    /* ---- vector instructions (simd.c does the lanes) ---- */
#ifdef CM_COMPUTED_GOTO
  L_simd:
#else
  default:
    if (ip->op < CM_XOP_FD || ip->op >= CM_XOP_FD + 256) goto invalid;
#endif
    {
      const cm_simd_op *o = &cm_simd_ops[ip->op - CM_XOP_FD];
      cm_value *io = sp - o->nparams;
      uint8_t *mem = NULL;
      uint8_t lane = (uint8_t)ip->x;
      const uint8_t *imm = &lane;
      if (o->imm == CM_SIMD_IMM_MEMARG || o->imm == CM_SIMD_IMM_MEMARG_LANE) {
        cm_meminst *m = inst->mems[ip->a];
        uint64_t ea = (uint64_t)io[0].i32 + ip->b;
        if (ea + o->n > m->size) TRAP(CM_TRAP_MEMORY_OOB);
        mem = m->data + ea;
      } else if (o->imm == CM_SIMD_IMM_V128 || o->imm == CM_SIMD_IMM_SHUFFLE) {
        imm = code->v128[ip->a];
      }
      o->fn((cm_v128 *)io, imm, mem);
      sp = io + (o->result ? 1 : 0);
      vmbreak;
    }

#ifdef CM_COMPUTED_GOTO
  L_invalid:
#else
  invalid:
#endif
    return cm_error_set(err, CMREF_INTERNAL, "bad pre-decoded opcode %u", ip->op);
  }

do_throw:
  /* Unwinds frames of this run until a try_table catches exn (spec 4.4.8, throw_ref). */
  for (;;) {
    const cm_pad *pad;
    const cm_handler *h = find_handler(inst, code, (uint32_t)(ip - code0), exn, &pad);
    if (h) {
      sp = fp + h->height;
      if (pad->kind == CM_CATCH || pad->kind == CM_CATCH_REF) {
        memcpy(sp, exn->fields, exn->nfields * sizeof *sp);
        sp += exn->nfields;
      }
      if (pad->kind == CM_CATCH_REF || pad->kind == CM_CATCH_ALL_REF) (sp++)->ref = exn;
      ip = code0 + pad->ip;
      vmjump;
    }
    cm_frame *fr = &s->frames[--s->nframes];
    if (fr->ret_ip == NULL) break;
    ip = fr->ret_ip - 1; /* the call instruction */
    fp = fr->fp;
    fn = fr->fn;
    inst = fn->inst;
    code = fr->code;
    code0 = code->insns;
  }
  s->last_exn = exn;
  return cm_error_set(err, CMREF_TRAP, "uncaught exception");

do_trap:
  if (trap == CM_TRAP_INDIRECT_NULL)
    return cm_error_set(err, CMREF_TRAP, "%s %u", cm_trap_message(CM_TRAP_INDIRECT_NULL), trap_index);
  return cm_trap_set(err, (cm_trap)trap);
}
