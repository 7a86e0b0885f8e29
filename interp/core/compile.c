/* Pre-decoding a function body (once, before its first call): branch targets resolved to
 * instruction indices, stack heights resolved to slot offsets, immediates unpacked.
 *
 * Metered code (a store with a fuel limit) starts every straight-line segment with a FUEL
 * instruction whose a is the segment's instruction count (fuel_cost: wasmtime's costs);
 * segments start at the function entry, at every branch target (loop headers, the ends of
 * blocks, ifs and try_tables, else) and after every conditional branch. Unmetered code has
 * no FUEL instructions at all.
 *
 * Works on validated code, so it only tracks the operand stack height. Code after an
 * unconditional branch is unreachable and is not compiled (its nesting is still followed).
 * The control stack is a heap array: nesting depth costs no C stack. */
#include <stdlib.h>
#include <string.h>

#include "core/exec_internal.h"
#include "core/instr.h"
#include "core/simd.h"

enum { L_FUNC, L_BLOCK, L_LOOP, L_IF, L_TRY };

typedef struct label {
  uint8_t kind;
  bool dead;        /* the whole construct is in unreachable code */
  bool unreachable; /* the rest of the current part is unreachable */
  uint32_t height;  /* operand slot offset (from fp) at entry, params excluded */
  uint32_t nparams, nresults;
  uint32_t loop_ip;
  uint32_t fixups; /* linked list through insns[].a (index + 1; 0 ends) */
  uint32_t else_fix; /* IF: index + 1 of the JMP_UNLESS to patch (0: none) */
  uint32_t handler;  /* TRY: index of its handler */
} label;

typedef struct compiler {
  const cm_module *m;
  cm_error *err;
  cm_code *code;
  uint32_t capinsns;
  uint32_t caphandlers, cappads, capv128;
  label *labels;
  uint32_t nlabels, caplabels;
  uint32_t height; /* current operand stack top, slot offset from fp */
  uint32_t max_height;
  bool metered;     /* emit FUEL instructions */
  uint32_t fuel_at; /* metered: the FUEL instruction of the current segment */
} compiler;

static bool oom(compiler *c) { return cm_error_set(c->err, CMREF_INTERNAL, "out of memory"); }

static bool grow(void **arr, uint32_t *cap, uint32_t need, size_t size) {
  if (need <= *cap) return true;
  uint32_t ncap = *cap ? *cap * 2 : 64;
  while (ncap < need) ncap *= 2;
  void *g = realloc(*arr, (size_t)ncap * size);
  if (!g) return false;
  *arr = g;
  *cap = ncap;
  return true;
}

static cm_insn *emit(compiler *c, uint32_t op, uint32_t a, uint64_t b) {
  if (!grow((void **)&c->code->insns, &c->capinsns, c->code->ninsns + 1, sizeof(cm_insn))) {
    oom(c);
    return NULL;
  }
  cm_insn *in = &c->code->insns[c->code->ninsns++];
  in->op = (uint16_t)op;
  in->x = 0;
  in->a = a;
  in->b = b;
  return in;
}

static uint32_t here(compiler *c) { return c->code->ninsns; }

/* Starts a straight-line segment here (metered code: a FUEL instruction, shared with an
 * empty segment just before); returns the index branches to it use. */
static bool leader(compiler *c, uint32_t *at) {
  *at = here(c);
  if (!c->metered) return true;
  const cm_insn *last = *at > 0 ? &c->code->insns[*at - 1] : NULL;
  if (last && last->op == CM_XOP_FUEL && last->a == 0 && *at - 1 == c->fuel_at) {
    *at = c->fuel_at;
    return true;
  }
  if (!emit(c, CM_XOP_FUEL, 0, 0)) return false;
  c->fuel_at = *at;
  return true;
}

/* The fuel an instruction costs (as wasmtime counts: structure, nop and drop are free). */
static uint32_t fuel_cost(uint32_t op) {
  switch (op) {
  case 0x00: case 0x01: case 0x02: case 0x03: case 0x05: case 0x0B: case 0x0F: case 0x1A:
    return 0; /* unreachable, nop, block, loop, else, end, return, drop */
  default: return 1;
  }
}

static void set_height(compiler *c, uint32_t h) {
  c->height = h;
  if (h > c->max_height) c->max_height = h;
}

static void pop_push(compiler *c, uint32_t pops, uint32_t pushes) {
  set_height(c, c->height - pops + pushes);
}

static void blocktype_arity(compiler *c, cm_blocktype bt, uint32_t *np, uint32_t *nr) {
  *np = 0;
  *nr = bt.kind == CM_BLOCK_VAL ? 1 : 0;
  if (bt.kind == CM_BLOCK_TYPEIDX) {
    *np = c->m->types[bt.typeidx].nparams;
    *nr = c->m->types[bt.typeidx].nresults;
  }
}

static bool push_label(compiler *c, uint8_t kind, uint32_t np, uint32_t nr, bool dead) {
  if (!grow((void **)&c->labels, &c->caplabels, c->nlabels + 1, sizeof(label))) return oom(c);
  label *l = &c->labels[c->nlabels++];
  memset(l, 0, sizeof *l);
  l->kind = kind;
  l->dead = dead;
  l->nparams = np;
  l->nresults = nr;
  l->height = dead ? 0 : c->height - np;
  l->loop_ip = here(c);
  return true;
}

static label *top(compiler *c) { return &c->labels[c->nlabels - 1]; }

/* Emits a branch to label depth `depth` with the given op family (JMP/BR or JMP_IF/BR_IF). */
static bool emit_branch(compiler *c, uint32_t depth, bool conditional) {
  label *l = &c->labels[c->nlabels - 1 - depth];
  if (l->kind == L_FUNC) {
    if (conditional && !emit(c, CM_XOP_JMP_UNLESS, here(c) + 2, 0)) return false;
    return emit(c, CM_XOP_RETURN, l->nresults, 0) != NULL;
  }
  uint32_t arity = l->kind == L_LOOP ? l->nparams : l->nresults;
  uint32_t drop = c->height - arity - l->height;
  uint32_t op = drop == 0 ? (conditional ? CM_XOP_JMP_IF : CM_XOP_JMP)
                          : (conditional ? CM_XOP_BR_IF : CM_XOP_BR);
  cm_insn *in = emit(c, op, 0, (uint64_t)drop << 32 | arity);
  if (!in) return false;
  if (l->kind == L_LOOP) {
    in->a = l->loop_ip;
  } else {
    in->a = l->fixups;
    l->fixups = here(c); /* index + 1 of this insn */
  }
  return true;
}

static void patch_list(compiler *c, uint32_t list, uint32_t target) {
  while (list) {
    cm_insn *in = &c->code->insns[list - 1];
    list = in->a;
    in->a = target;
  }
}

static void mark_unreachable(compiler *c) { top(c)->unreachable = true; }

/* ---- control instructions ---- */

static bool c_block(compiler *c, const cm_instr *in, uint8_t kind, bool dead) {
  uint32_t np = 0, nr = 0, jmp = 0, entry = 0;
  if (!dead) blocktype_arity(c, in->bt, &np, &nr);
  if (kind == L_IF && !dead) {
    c->height--; /* condition */
    if (!emit(c, CM_XOP_JMP_UNLESS, 0, 0)) return false;
    jmp = here(c); /* index + 1 */
  }
  /* the then branch and the loop header start segments (back-edges pay fuel) */
  if ((kind == L_IF || kind == L_LOOP) && !dead && !leader(c, &entry)) return false;
  if (!push_label(c, kind, np, nr, dead)) return false;
  if (kind == L_IF && !dead) top(c)->else_fix = jmp;
  if (kind == L_LOOP && !dead) top(c)->loop_ip = entry;
  return true;
}

static bool c_else(compiler *c) {
  label *l = top(c);
  if (l->dead) return true;
  if (!l->unreachable) {
    if (!emit_branch(c, 0, false)) return false;
    l = top(c);
  }
  uint32_t at;
  if (!leader(c, &at)) return false;
  l = top(c);
  patch_list(c, l->else_fix, at);
  l->else_fix = 0;
  l->unreachable = false;
  set_height(c, l->height + l->nparams);
  return true;
}

static bool c_end(compiler *c) {
  label l = *top(c);
  c->nlabels--;
  if (l.dead) return true;
  uint32_t at = here(c);
  if (l.kind != L_FUNC && !leader(c, &at)) return false;
  patch_list(c, l.else_fix, at);
  patch_list(c, l.fixups, at);
  if (l.kind == L_TRY) c->code->handlers[l.handler].end = here(c);
  set_height(c, l.height + l.nresults);
  if (l.kind == L_FUNC) return emit(c, CM_XOP_RETURN, l.nresults, 0) != NULL;
  return true;
}

static bool c_br_table(compiler *c, const cm_instr *in) {
  c->height--;
  if (!emit(c, CM_XOP_BR_TABLE, in->nvec, 0)) return false;
  cm_reader r = {in->vec, in->vec, in->vec + 5 * (size_t)in->nvec + 5};
  for (uint32_t i = 0; i <= in->nvec; i++) {
    uint32_t depth;
    if (i < in->nvec) cm_read_u32(&r, &depth, NULL);
    else depth = in->a;
    uint32_t before = here(c);
    if (!emit_branch(c, depth, false)) return false;
    cm_insn *e = &c->code->insns[before];
    if (e->op == CM_XOP_JMP) e->op = CM_XOP_BR; /* entries all take BR's operands */
  }
  mark_unreachable(c);
  return true;
}

static bool c_try_table(compiler *c, const cm_instr *in) {
  uint32_t np, nr;
  blocktype_arity(c, in->bt, &np, &nr);
  uint32_t entry = c->height - np;
  cm_code *code = c->code;
  if (!grow((void **)&code->handlers, &c->caphandlers, code->nhandlers + 1, sizeof(cm_handler)) ||
      !grow((void **)&code->pads, &c->cappads, code->npads + in->nvec, sizeof(cm_pad)))
    return oom(c);
  uint32_t hidx = code->nhandlers++;
  cm_handler *h = &code->handlers[hidx];
  h->height = entry;
  h->first_pad = code->npads;
  h->npads = in->nvec;
  uint32_t jmp = here(c);
  if (!emit(c, CM_XOP_JMP, 0, 0)) return false;
  uint32_t saved = c->height;
  cm_reader r = {in->vec, in->vec, in->vec + 11 * (size_t)in->nvec}; /* <= 11 bytes each */
  for (uint32_t i = 0; i < in->nvec; i++) {
    cm_catch k;
    cm_read_catch(&r, &k, NULL);
    uint32_t nvals = k.kind == CM_CATCH_ALL ? 0 : k.kind == CM_CATCH_ALL_REF ? 1 : 0;
    if (k.kind == CM_CATCH || k.kind == CM_CATCH_REF) {
      const cm_tagtype *tt = cm_module_tag_type(c->m, k.tag);
      nvals = c->m->types[tt->typeidx].nparams + (k.kind == CM_CATCH_REF);
    }
    cm_pad *pad = &code->pads[code->npads++];
    pad->kind = k.kind;
    pad->tag = k.tag;
    pad->ip = here(c);
    set_height(c, entry + nvals);
    uint32_t before = here(c);
    if (!emit_branch(c, k.label, false)) return false;
    cm_insn *e = &c->code->insns[before];
    if (e->op == CM_XOP_JMP) e->op = CM_XOP_BR;
  }
  c->height = saved;
  c->code->insns[jmp].a = here(c);
  c->code->handlers[hidx].start = here(c);
  if (!push_label(c, L_TRY, np, nr, false)) return false;
  top(c)->handler = hidx;
  return true;
}

/* ---- stack effects of the other instructions ---- */

static void numeric_effect(compiler *c, uint32_t op) {
  if (op == 0x45 || op == 0x50 || (op >= 0x67 && op <= 0x69) || (op >= 0x79 && op <= 0x7B) ||
      (op >= 0x8B && op <= 0x91) || (op >= 0x99 && op <= 0x9F) || (op >= 0xA7 && op <= 0xC4))
    pop_push(c, 1, 1);
  else
    pop_push(c, 2, 1);
}

static void load_store_effect(compiler *c, uint32_t op) {
  if (op <= 0x35) pop_push(c, 1, 1);
  else pop_push(c, 2, 0);
}

static void call_effect(compiler *c, const cm_functype *ft) {
  pop_push(c, ft->nparams, ft->nresults);
}

static bool c_fc(compiler *c, const cm_instr *in) {
  uint32_t sub = in->op - CM_OP_FC(0);
  if (!emit(c, CM_XOP_FC + sub, in->a, in->b)) return false;
  if (sub <= 7) pop_push(c, 1, 1);
  else if (sub == 9 || sub == 13) pop_push(c, 0, 0);
  else if (sub == 15) pop_push(c, 2, 1);
  else if (sub == 16) pop_push(c, 0, 1);
  else pop_push(c, 3, 0);
  return true;
}

/* SIMD: one instruction per opcode; operand counts and immediates from simd_ops.def.
 * Memory forms: a = memory index, b = offset; lane in x; 16-byte immediates in
 * code->v128[a]. */
static bool c_fd(compiler *c, const cm_instr *in) {
  uint32_t sub = in->op - CM_OP_FD(0);
  const cm_simd_op *o = cm_simd_lookup(sub);
  uint32_t a = 0;
  uint64_t b = 0;
  if (o->imm == CM_SIMD_IMM_MEMARG || o->imm == CM_SIMD_IMM_MEMARG_LANE) {
    a = in->memarg.memidx;
    b = in->memarg.offset;
  } else if (o->imm == CM_SIMD_IMM_V128 || o->imm == CM_SIMD_IMM_SHUFFLE) {
    cm_code *code = c->code;
    if (!grow((void **)&code->v128, &c->capv128, code->nv128 + 1, 16)) return oom(c);
    memcpy(code->v128[code->nv128], in->v128, 16);
    a = code->nv128++;
  }
  cm_insn *out = emit(c, CM_XOP_FD + sub, a, b);
  if (!out) return false;
  out->x = in->lane;
  pop_push(c, o->nparams, o->result ? 1 : 0);
  return true;
}

static bool c_simple(compiler *c, const cm_instr *in) {
  uint32_t op = in->op;
  uint64_t b = in->c;
  uint32_t a = in->a;
  if (in->imm == CM_IMM_MEMARG) {
    a = in->memarg.memidx;
    b = in->memarg.offset;
  }
  if (!emit(c, op, a, b)) return false;
  switch (op) {
  case 0x1A: pop_push(c, 1, 0); break; /* drop */
  case 0x20: case 0x23: pop_push(c, 0, 1); break;
  case 0x21: case 0x24: pop_push(c, 1, 0); break;
  case 0x22: break;
  case 0x25: pop_push(c, 1, 1); break; /* table.get */
  case 0x26: pop_push(c, 2, 0); break; /* table.set */
  case 0x3F: pop_push(c, 0, 1); break;
  case 0x40: pop_push(c, 1, 1); break;
  case 0x41: case 0x42: case 0x43: case 0x44: pop_push(c, 0, 1); break;
  case 0xD0: case 0xD2: pop_push(c, 0, 1); break;
  case 0xD1: pop_push(c, 1, 1); break;
  default:
    if (op >= 0x28 && op <= 0x3E) load_store_effect(c, op);
    else numeric_effect(c, op);
  }
  return true;
}

static bool c_instr(compiler *c, const cm_instr *in) {
  const cm_module *m = c->m;
  switch (in->op) {
  case 0x00: /* unreachable */
    if (!emit(c, 0x00, 0, 0)) return false;
    mark_unreachable(c);
    return true;
  case 0x01: return true; /* nop */
  case 0x02: return c_block(c, in, L_BLOCK, false);
  case 0x03: return c_block(c, in, L_LOOP, false);
  case 0x04: return c_block(c, in, L_IF, false);
  case 0x05: return c_else(c);
  case 0x08: { /* throw */
    const cm_tagtype *tt = cm_module_tag_type(m, in->a);
    if (!emit(c, CM_XOP_THROW, in->a, 0)) return false;
    pop_push(c, m->types[tt->typeidx].nparams, 0);
    mark_unreachable(c);
    return true;
  }
  case 0x0A:
    if (!emit(c, CM_XOP_THROW_REF, 0, 0)) return false;
    mark_unreachable(c);
    return true;
  case 0x0B: return c_end(c);
  case 0x0C:
    if (!emit_branch(c, in->a, false)) return false;
    mark_unreachable(c);
    return true;
  case 0x0D: {
    uint32_t at;
    c->height--;
    return emit_branch(c, in->a, true) && leader(c, &at);
  }
  case 0x0E: return c_br_table(c, in);
  case 0x0F:
    if (!emit(c, CM_XOP_RETURN, c->labels[0].nresults, 0)) return false;
    mark_unreachable(c);
    return true;
  case 0x10:
    if (!emit(c, CM_XOP_CALL, in->a, 0)) return false;
    call_effect(c, cm_module_func_type(m, in->a));
    return true;
  case 0x11:
    if (!emit(c, CM_XOP_CALL_INDIRECT, in->a, in->b)) return false;
    c->height--;
    call_effect(c, &m->types[in->a]);
    return true;
  case 0x1B: case 0x1C:
    if (!emit(c, CM_XOP_SELECT, 0, 0)) return false;
    pop_push(c, 3, 1);
    return true;
  case 0x1F: return c_try_table(c, in);
  default: break;
  }
  if (in->op >= CM_OP_FD(0)) return c_fd(c, in);
  if (in->op >= CM_OP_FC(0)) return c_fc(c, in);
  if (in->op >= CM_OP_FB(0)) { /* ref.i31, i31.get_s, i31.get_u: one operand, one result */
    uint32_t x = in->op == CM_OP_REF_I31 ? CM_XOP_REF_I31
                 : in->op == CM_OP_I31_GET_S ? CM_XOP_I31_GET_S : CM_XOP_I31_GET_U;
    if (!emit(c, x, 0, 0)) return false;
    pop_push(c, 1, 1);
    return true;
  }
  return c_simple(c, in);
}

/* Skips an instruction in unreachable code, following only the nesting. */
static bool c_dead(compiler *c, const cm_instr *in) {
  switch (in->op) {
  case 0x02: case 0x03: case 0x04: case 0x1F: return push_label(c, L_BLOCK, 0, 0, true);
  case 0x05: return c_else(c);
  case 0x0B: return c_end(c);
  default: return true;
  }
}

static bool compile_body(compiler *c, const cm_func *f) {
  cm_reader r = cm_reader_at(c->m, f->body);
  while (c->nlabels > 0) {
    cm_instr in;
    if (!cm_read_instr(&r, c->m, &in, c->err)) return false;
    label *l = top(c);
    bool skip = l->dead || (l->unreachable && in.op != 0x05 && in.op != 0x0B);
    if (c->metered && !skip) c->code->insns[c->fuel_at].a += fuel_cost(in.op);
    if (!(skip ? c_dead(c, &in) : c_instr(c, &in))) return false;
  }
  return true;
}

cm_code *cm_compile(const cm_module *m, uint32_t funcidx, bool metered, cm_error *err) {
  const cm_func *f = &m->funcs[funcidx];
  const cm_functype *ft = &m->types[f->typeidx];
  compiler c = {.m = m, .err = err, .metered = metered};
  c.code = calloc(1, sizeof *c.code);
  if (!c.code) {
    cm_error_set(err, CMREF_INTERNAL, "out of memory");
    return NULL;
  }
  c.code->nparams = ft->nparams;
  c.code->nresults = ft->nresults;
  c.code->nlocals = f->nlocals;
  c.code->metered = metered;
  set_height(&c, ft->nparams + f->nlocals);
  uint32_t entry;
  bool ok = leader(&c, &entry) && push_label(&c, L_FUNC, 0, ft->nresults, false) &&
            compile_body(&c, f);
  free(c.labels);
  if (!ok) {
    cm_code_free(c.code);
    return NULL;
  }
  c.code->frame_size = c.max_height + 16;
  return c.code;
}

void cm_code_free(cm_code *c) {
  if (!c) return;
  free(c->insns);
  free(c->handlers);
  free(c->pads);
  free(c->v128);
  free(c);
}
