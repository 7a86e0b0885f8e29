/* cmref core: validation (spec 3 "Validation" and the appendix "Validation Algorithm").
 *
 * Layout, in the spec's order:
 *   1. the instruction reader: one instruction and its immediates (spec 5.4), with the
 *      binary rules only checkable here (they are MALFORMED errors);
 *   2. the syntax pass over every body (END/else structure, data count) so that a malformed
 *      body wins over any validation error, as in the spec's decode-then-validate order;
 *   3. the context C (spec 3.1.1), built from the module;
 *   4. the appendix's algorithm: operand stack of value types with Unknown (bot), explicit
 *      heap-allocated control stack (push_val/pop_val/pop_vals, push_ctrl/pop_ctrl,
 *      label_types, unreachable);
 *   5. instructions (spec 3.3), one case per instruction, table-driven for numerics;
 *   6. constant expressions, functions, and modules (spec 3.4).
 *
 * Every allocation is bounded by the bytes of the module (counts are checked against the
 * bytes left before anything is allocated from them) or by CM_VALIDATE_MAX_OPERANDS.
 */
#include "core/validate.h"

#include <stdlib.h>
#include <string.h>

#include "core/instr.h"
#include "core/simd.h"

/* Implementation limit: operand stack height while validating one function. Code that is
 * stack-polymorphic after `unreachable` can push values without bound; real code never
 * comes near. */
#define CM_VALIDATE_MAX_OPERANDS (1u << 22)
/* Implementation limit (as wasmparser's): parameters and results of a function type. Keeps
 * the work per instruction (call, br, return ... pop and push a type's values) bounded, so
 * validation time stays linear in the module's size. */
#define CM_VALIDATE_MAX_TYPE_ARITY 1000u

/* ---- Opcodes (spec 5.4) ---------------------------------------------------------------- */

enum {
  OP_UNREACHABLE = 0x00, OP_NOP = 0x01, OP_BLOCK = 0x02, OP_LOOP = 0x03, OP_IF = 0x04,
  OP_ELSE = 0x05, OP_THROW = 0x08, OP_THROW_REF = 0x0A, OP_END = 0x0B, OP_BR = 0x0C,
  OP_BR_IF = 0x0D, OP_BR_TABLE = 0x0E, OP_RETURN = 0x0F, OP_CALL = 0x10,
  OP_CALL_INDIRECT = 0x11, OP_DROP = 0x1A, OP_SELECT = 0x1B, OP_SELECT_T = 0x1C,
  OP_TRY_TABLE = 0x1F, OP_LOCAL_GET = 0x20, OP_LOCAL_SET = 0x21, OP_LOCAL_TEE = 0x22,
  OP_GLOBAL_GET = 0x23, OP_GLOBAL_SET = 0x24, OP_TABLE_GET = 0x25, OP_TABLE_SET = 0x26,
  OP_LOAD_FIRST = 0x28, OP_LOAD_LAST = 0x35, OP_STORE_FIRST = 0x36, OP_STORE_LAST = 0x3E,
  OP_MEMORY_SIZE = 0x3F, OP_MEMORY_GROW = 0x40, OP_I32_CONST = 0x41, OP_I64_CONST = 0x42,
  OP_F32_CONST = 0x43, OP_F64_CONST = 0x44, OP_NUMERIC_FIRST = 0x45, OP_NUMERIC_LAST = 0xC4,
  OP_REF_NULL = 0xD0, OP_REF_IS_NULL = 0xD1, OP_REF_FUNC = 0xD2,
  OP_FC = 0xFC00 /* cm_instr.op of 0xFC-prefixed instructions: OP_FC + sub-opcode */
};

/* 0xFC-prefixed sub-opcodes. */
enum {
  FC_TRUNC_SAT_LAST = 7, FC_MEMORY_INIT = 8, FC_DATA_DROP = 9, FC_MEMORY_COPY = 10,
  FC_MEMORY_FILL = 11, FC_TABLE_INIT = 12, FC_ELEM_DROP = 13, FC_TABLE_COPY = 14,
  FC_TABLE_GROW = 15, FC_TABLE_SIZE = 16, FC_TABLE_FILL = 17
};


/* Numeric instructions 0x45..0xC4 and 0xFC 0..7: operand types (b is 0 for unary) and
 * result type. Spec 3.3.1. */
typedef struct numop {
  cm_valtype a, b, r;
} numop;

#define I32_ CM_I32
#define I64_ CM_I64
#define F32_ CM_F32
#define F64_ CM_F64
#define UN(t, r) {t, 0, r}
#define BIN(t, r) {t, t, r}
#define REP(n, ...) REP##n(__VA_ARGS__)
#define REP2(...) __VA_ARGS__, __VA_ARGS__
#define REP4(...) REP2(__VA_ARGS__), REP2(__VA_ARGS__)
#define REP6(...) REP4(__VA_ARGS__), REP2(__VA_ARGS__)
#define REP7(...) REP6(__VA_ARGS__), __VA_ARGS__
#define REP10(...) REP4(__VA_ARGS__), REP6(__VA_ARGS__)
#define REP15(...) REP10(__VA_ARGS__), REP4(__VA_ARGS__), __VA_ARGS__

static const numop numeric_ops[OP_NUMERIC_LAST - OP_NUMERIC_FIRST + 1] = {
    UN(I32_, I32_), REP(10, BIN(I32_, I32_)),             /* 0x45 eqz, 0x46..0x4F rel */
    UN(I64_, I32_), REP(10, BIN(I64_, I32_)),             /* 0x50 eqz, 0x51..0x5A rel */
    REP(6, BIN(F32_, I32_)), REP(6, BIN(F64_, I32_)),     /* 0x5B..0x66 float rel */
    UN(I32_, I32_), UN(I32_, I32_), UN(I32_, I32_),       /* 0x67..0x69 clz ctz popcnt */
    REP(15, BIN(I32_, I32_)),                             /* 0x6A..0x78 */
    UN(I64_, I64_), UN(I64_, I64_), UN(I64_, I64_),       /* 0x79..0x7B */
    REP(15, BIN(I64_, I64_)),                             /* 0x7C..0x8A */
    REP(7, UN(F32_, F32_)), REP(7, BIN(F32_, F32_)),      /* 0x8B..0x98 */
    REP(7, UN(F64_, F64_)), REP(7, BIN(F64_, F64_)),      /* 0x99..0xA6 */
    UN(I64_, I32_),                                       /* 0xA7 i32.wrap_i64 */
    UN(F32_, I32_), UN(F32_, I32_), UN(F64_, I32_), UN(F64_, I32_), /* 0xA8..0xAB */
    UN(I32_, I64_), UN(I32_, I64_),                       /* 0xAC, 0xAD extend_i32 */
    UN(F32_, I64_), UN(F32_, I64_), UN(F64_, I64_), UN(F64_, I64_), /* 0xAE..0xB1 */
    UN(I32_, F32_), UN(I32_, F32_), UN(I64_, F32_), UN(I64_, F32_), /* 0xB2..0xB5 */
    UN(F64_, F32_),                                       /* 0xB6 f32.demote_f64 */
    UN(I32_, F64_), UN(I32_, F64_), UN(I64_, F64_), UN(I64_, F64_), /* 0xB7..0xBA */
    UN(F32_, F64_),                                       /* 0xBB f64.promote_f32 */
    UN(F32_, I32_), UN(F64_, I64_), UN(I32_, F32_), UN(I64_, F64_), /* 0xBC..0xBF reinterp */
    UN(I32_, I32_), UN(I32_, I32_),                       /* 0xC0, 0xC1 i32.extendN_s */
    UN(I64_, I64_), UN(I64_, I64_), UN(I64_, I64_),       /* 0xC2..0xC4 i64.extendN_s */
};

static const numop trunc_sat_ops[FC_TRUNC_SAT_LAST + 1] = {
    UN(F32_, I32_), UN(F32_, I32_), UN(F64_, I32_), UN(F64_, I32_),
    UN(F32_, I64_), UN(F32_, I64_), UN(F64_, I64_), UN(F64_, I64_),
};

/* Loads 0x28..0x35 and stores 0x36..0x3E: value type and natural alignment (log2). */
typedef struct memop {
  cm_valtype t;
  uint8_t natural;
} memop;

static const memop load_ops[OP_LOAD_LAST - OP_LOAD_FIRST + 1] = {
    {I32_, 2}, {I64_, 3}, {F32_, 2}, {F64_, 3}, /* i32 i64 f32 f64 .load */
    {I32_, 0}, {I32_, 0}, {I32_, 1}, {I32_, 1}, /* i32.load8_s/u load16_s/u */
    {I64_, 0}, {I64_, 0}, {I64_, 1}, {I64_, 1}, /* i64.load8_s/u load16_s/u */
    {I64_, 2}, {I64_, 2},                       /* i64.load32_s/u */
};

static const memop store_ops[OP_STORE_LAST - OP_STORE_FIRST + 1] = {
    {I32_, 2}, {I64_, 3}, {F32_, 2}, {F64_, 3}, /* i32 i64 f32 f64 .store */
    {I32_, 0}, {I32_, 1},                       /* i32.store8 store16 */
    {I64_, 0}, {I64_, 1}, {I64_, 2},            /* i64.store8 store16 store32 */
};

/* ---- 1. The validator's state ------------------------------------------------------- */

/* Instructions are read with the decoder's reader (instr.h, cm_read_instr); the decoder has
 * already checked every body is well-formed, so reading again cannot fail except where
 * only validation can tell (an `else` outside an `if` is "END opcode expected"). */

typedef struct vframe vframe;
typedef struct validator {
  const cm_module *m;
  cm_core_features f;
  cm_error *err;

  /* Context C (spec 3.1.1) beyond what the cm_module_* accessors give. */
  uint8_t *refs;            /* C.refs: one byte per function index */
  uint32_t nfuncs, ntables, nmems, nglobals, ntags;
  bool const_mode;          /* validating a constant expression */

  /* The function being validated: C.locals, C.return. */
  cm_valtype *locals;
  size_t nlocals, locals_cap;
  const cm_functype *func;
  const uint8_t *expr_end;  /* end of the expression being read (bounds vector reads) */

  /* Operand stack: value types; CM_VALTYPE_BOT is Unknown. */
  cm_valtype *vals;
  size_t nvals, vals_cap;
  /* Control stack. */
  vframe *ctrls;
  size_t nctrls, ctrls_cap;

  cm_valtype *scratch;      /* pop_vals results for br_table */
  size_t scratch_cap;
} validator;

/* Error helpers: every failure is a returned false with kind and message. */
#define malformed(v, ...) cm_error_set((v)->err, CMREF_MALFORMED, __VA_ARGS__)
#define invalid(v, ...) cm_error_set((v)->err, CMREF_INVALID, __VA_ARGS__)

/* Grows *buf (elements of `elem` bytes, capacity *cap) to hold at least `need`. */
static bool grow(validator *v, void **buf, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) return true;
  size_t ncap = *cap ? *cap : 16;
  while (ncap < need) ncap *= 2;
  void *p = realloc(*buf, ncap * elem);
  if (!p) return cm_error_set(v->err, CMREF_INTERNAL, "out of memory in validation");
  *buf = p;
  *cap = ncap;
  return true;
}

/* A reader over the vector immediate of `in` (br_table labels, select types, catches). */
static cm_reader vec_reader(const validator *v, const cm_instr *in) {
  cm_reader r = {v->m->bytes, in->vec, v->expr_end};
  return r;
}

/* ---- 3. Context lookups (spec 3.1.1), each with the suite's "unknown ..." message ------- */

/* A value type is usable: typed references need the gc feature (without it their encodings
 * are malformed, as in Wasm 2.0). */
static bool type_ok(validator *v, cm_valtype t) {
  if (!v->f.gc && cm_valtype_is_typed_ref(t))
    return malformed(v, "malformed value type (%s needs the gc feature)", cm_valtype_name(t));
  return true;
}

static bool types_ok(validator *v, const cm_valtype *ts, uint32_t n) {
  for (uint32_t i = 0; i < n; i++)
    if (!type_ok(v, ts[i])) return false;
  return true;
}

static const cm_functype *type_at(validator *v, uint32_t x) {
  if (x >= v->m->ntypes) { invalid(v, "unknown type %u", x); return NULL; }
  return &v->m->types[x];
}

static const cm_functype *func_at(validator *v, uint32_t x) {
  if (x >= v->nfuncs) { invalid(v, "unknown function %u", x); return NULL; }
  const cm_functype *ft = cm_module_func_type(v->m, x);
  if (!ft) invalid(v, "unknown type of function %u", x);
  return ft;
}

static const cm_tabletype *table_at(validator *v, uint32_t x) {
  if (x >= v->ntables) { invalid(v, "unknown table %u", x); return NULL; }
  return cm_module_table_type(v->m, x);
}

static bool mem_ok(validator *v, uint32_t x) {
  return x < v->nmems ? true : invalid(v, "unknown memory %u", x);
}

/* In a constant expression only imported globals are visible (the pinned 2.0 suite). */
static const cm_globaltype *global_at(validator *v, uint32_t x) {
  uint32_t n = v->const_mode ? v->m->nglobal_imports : v->nglobals;
  if (x >= n) { invalid(v, "unknown global %u", x); return NULL; }
  return cm_module_global_type(v->m, x);
}

static const cm_functype *tag_at(validator *v, uint32_t x) {
  if (x >= v->ntags) { invalid(v, "unknown tag %u", x); return NULL; }
  const cm_tagtype *tt = cm_module_tag_type(v->m, x);
  return tt ? type_at(v, tt->typeidx) : NULL;
}

static bool elem_at(validator *v, uint32_t x, cm_valtype *type) {
  if (x >= v->m->nelems) return invalid(v, "unknown elem segment %u", x);
  *type = v->m->elems[x].type;
  return true;
}

static bool data_ok(validator *v, uint32_t x) {
  uint32_t n = v->m->has_datacount ? v->m->datacount : v->m->ndatas;
  return x < n ? true : invalid(v, "unknown data segment %u", x);
}

static bool local_at(validator *v, uint32_t x, cm_valtype *t) {
  if (x >= v->nlocals) return invalid(v, "unknown local %u", x);
  *t = v->locals[x];
  return true;
}

/* ---- 4. The appendix's algorithm -------------------------------------------------------- */

struct vframe {
  uint8_t opcode;      /* OP_BLOCK (also the function), OP_LOOP, OP_IF, OP_ELSE, OP_TRY_TABLE */
  bool unreachable;
  cm_valtype single;   /* storage of a one-value block type's result */
  uint32_t nstart, nend;
  const cm_valtype *start, *end; /* end NULL: the single value */
  size_t height;
};

static const cm_valtype *end_types(const vframe *f) { return f->end ? f->end : &f->single; }

static const cm_valtype *label_types(const vframe *f, uint32_t *n) {
  if (f->opcode == OP_LOOP) { *n = f->nstart; return f->start; }
  *n = f->nend;
  return end_types(f);
}

static const char *type_name(cm_valtype t) {
  return t == CM_VALTYPE_BOT ? "unknown" : cm_valtype_name(t);
}

static bool push_val(validator *v, cm_valtype t) {
  if (v->nvals >= CM_VALIDATE_MAX_OPERANDS)
    return invalid(v, "operand stack deeper than %u values (implementation limit)", CM_VALIDATE_MAX_OPERANDS);
  if (!grow(v, (void **)&v->vals, &v->vals_cap, v->nvals + 1, 1)) return false;
  v->vals[v->nvals++] = t;
  return true;
}

static bool pop_val(validator *v, cm_valtype *out) {
  const vframe *f = &v->ctrls[v->nctrls - 1];
  if (v->nvals == f->height) {
    if (f->unreachable) { *out = CM_VALTYPE_BOT; return true; }
    return invalid(v, "type mismatch: instruction needs an operand but the stack is empty");
  }
  *out = v->vals[--v->nvals];
  return true;
}

static bool pop_expect(validator *v, cm_valtype expect, cm_valtype *out) {
  cm_valtype actual = CM_VALTYPE_BOT;
  if (!pop_val(v, &actual)) {
    return invalid(v,
                        "type mismatch: expected %s but the stack is empty", type_name(expect));
  }
  if (!cm_valtype_matches(actual, expect))
    return invalid(v, "type mismatch: expected %s, got %s",
                        type_name(expect), type_name(actual));
  if (out) *out = actual;
  return true;
}

static bool pop(validator *v, cm_valtype expect) { return pop_expect(v, expect, NULL); }

static bool push_vals(validator *v, const cm_valtype *ts, uint32_t n) {
  for (uint32_t i = 0; i < n; i++)
    if (!push_val(v, ts[i])) return false;
  return true;
}

/* Pops ts (last first); with out, stores the popped types in order. */
static bool pop_vals(validator *v, const cm_valtype *ts, uint32_t n, cm_valtype *out) {
  for (uint32_t i = n; i-- > 0;)
    if (!pop_expect(v, ts[i], out ? &out[i] : NULL)) return false;
  return true;
}

static bool push_ctrl(validator *v, uint8_t opcode, const cm_valtype *start, uint32_t nstart,
                      const cm_valtype *end, uint32_t nend, cm_valtype single) {
  if (!grow(v, (void **)&v->ctrls, &v->ctrls_cap, v->nctrls + 1, sizeof(vframe))) return false;
  vframe *f = &v->ctrls[v->nctrls++];
  f->opcode = opcode;
  f->unreachable = false;
  f->single = single;
  f->nstart = nstart;
  f->start = start;
  f->nend = nend;
  f->end = end;
  f->height = v->nvals;
  return push_vals(v, start, nstart);
}

static bool pop_ctrl(validator *v, vframe *out) {
  vframe *f = &v->ctrls[v->nctrls - 1];
  if (!pop_vals(v, end_types(f), f->nend, NULL)) return false;
  if (v->nvals != f->height)
    return invalid(v, "type mismatch: %u values left on the stack at the end of the block",
                   (uint32_t)(v->nvals - f->height));
  *out = *f;
  v->nctrls--;
  return true;
}

static void unreachable(validator *v) {
  vframe *f = &v->ctrls[v->nctrls - 1];
  v->nvals = f->height;
  f->unreachable = true;
}

/* ---- 5. Instructions (spec 3.3) ------------------------------------------------------- */

/* The parameter and result types of a block type; for a single value, *single holds it. */
typedef struct blockfn {
  const cm_valtype *params, *results;
  uint32_t nparams, nresults;
  cm_valtype single;
} blockfn;

static bool expand_blocktype(validator *v, const cm_blocktype *bt, blockfn *out) {
  memset(out, 0, sizeof *out);
  if (bt->kind == CM_BLOCK_VAL) {
    if (!type_ok(v, bt->val)) return false;
    out->single = bt->val;
    out->nresults = 1;
  } else if (bt->kind == CM_BLOCK_TYPEIDX) {
    const cm_functype *ft = type_at(v, bt->typeidx);
    if (!ft) return false;
    out->params = ft->params;
    out->nparams = ft->nparams;
    out->results = ft->results;
    out->nresults = ft->nresults;
  }
  return true;
}

static bool block_begin(validator *v, uint8_t opcode, const cm_blocktype *bt) {
  blockfn b;
  if (!expand_blocktype(v, bt, &b)) return false;
  if (!pop_vals(v, b.params, b.nparams, NULL)) return false;
  const cm_valtype *end = b.nresults == 1 && bt->kind == CM_BLOCK_VAL ? NULL : b.results;
  return push_ctrl(v, opcode, b.params, b.nparams, end, b.nresults, b.single);
}

static bool label_at(validator *v, uint32_t l, const vframe **out) {
  if (l >= v->nctrls) return invalid(v, "unknown label %u", l);
  *out = &v->ctrls[v->nctrls - 1 - l];
  return true;
}

static bool check_else(validator *v) {
  vframe f;
  if (v->ctrls[v->nctrls - 1].opcode != OP_IF) return malformed(v, "END opcode expected");
  if (!pop_ctrl(v, &f)) return false;
  return push_ctrl(v, OP_ELSE, f.start, f.nstart, f.end, f.nend, f.single);
}

static bool check_end(validator *v) {
  vframe f;
  /* An if without else has an empty else: its start types must match its end types. */
  if (v->ctrls[v->nctrls - 1].opcode == OP_IF && !check_else(v)) return false;
  if (!pop_ctrl(v, &f)) return false;
  return push_vals(v, end_types(&f), f.nend);
}

static bool check_br(validator *v, uint32_t l) {
  const vframe *f = NULL;
  uint32_t n;
  if (!label_at(v, l, &f)) return false;
  const cm_valtype *ts = label_types(f, &n);
  if (!pop_vals(v, ts, n, NULL)) return false;
  unreachable(v);
  return true;
}

static bool check_br_if(validator *v, uint32_t l) {
  const vframe *f = NULL;
  uint32_t n;
  if (!label_at(v, l, &f)) return false;
  if (!pop(v, CM_I32)) return false;
  f = &v->ctrls[v->nctrls - 1 - l];
  const cm_valtype *ts = label_types(f, &n);
  return pop_vals(v, ts, n, NULL) && push_vals(v, ts, n);
}

/* br_table (appendix): every label has the default's arity; each label's types are popped
 * and the popped types pushed back, so Unknown operands stay Unknown. */
static bool check_br_table(validator *v, const cm_instr *in) {
  const vframe *f = NULL;
  uint32_t arity, n, l = 0;
  cm_reader r = vec_reader(v, in);
  if (!pop(v, CM_I32)) return false;
  if (!label_at(v, in->a, &f)) return false;
  label_types(f, &arity);
  if (!grow(v, (void **)&v->scratch, &v->scratch_cap, arity, 1)) return false;
  for (uint32_t i = 0; i < in->nvec; i++) {
    if (!cm_read_u32(&r, &l, v->err) || !label_at(v, l, &f)) return false;
    const cm_valtype *ts = label_types(f, &n);
    if (n != arity)
      return invalid(v, "type mismatch: br_table label %u has arity %u, the default %u", l, n, arity);
    if (!pop_vals(v, ts, n, v->scratch) || !push_vals(v, v->scratch, n)) return false;
  }
  f = &v->ctrls[v->nctrls - 1 - in->a];
  const cm_valtype *ts = label_types(f, &n);
  if (!pop_vals(v, ts, n, NULL)) return false;
  unreachable(v);
  return true;
}

static bool check_return(validator *v) {
  if (!pop_vals(v, v->func->results, v->func->nresults, NULL)) return false;
  unreachable(v);
  return true;
}

static bool check_call(validator *v, const cm_functype *ft) {
  return ft && pop_vals(v, ft->params, ft->nparams, NULL) &&
         push_vals(v, ft->results, ft->nresults);
}

static bool check_call_indirect(validator *v, uint32_t y, uint32_t x) {
  const cm_tabletype *tt = table_at(v, x);
  if (!tt) return false;
  if (!cm_valtype_matches(tt->elem, CM_FUNCREF))
    return invalid(v, "type mismatch: call_indirect on table %u whose elements are not funcref", x);
  const cm_functype *ft = type_at(v, y);
  return ft && pop(v, CM_I32) && check_call(v, ft);
}

static bool is_num(cm_valtype t) { return t == CM_VALTYPE_BOT || cm_valtype_is_num(t); }
static bool is_vec(cm_valtype t) { return t == CM_VALTYPE_BOT || t == CM_V128; }

static bool check_select(validator *v) {
  cm_valtype t1, t2;
  if (!pop(v, CM_I32) || !pop_val(v, &t1) || !pop_val(v, &t2)) return false;
  if (!((is_num(t1) && is_num(t2)) || (is_vec(t1) && is_vec(t2))))
    return invalid(v,
                        "type mismatch: select without a type needs numeric operands, got %s and %s",
                        type_name(t2), type_name(t1));
  if (t1 != t2 && t1 != CM_VALTYPE_BOT && t2 != CM_VALTYPE_BOT)
    return invalid(v, "type mismatch: select operands %s and %s differ",
                        type_name(t2), type_name(t1));
  return push_val(v, t1 == CM_VALTYPE_BOT ? t2 : t1);
}

static bool check_select_t(validator *v, const cm_instr *in) {
  cm_valtype t;
  cm_reader r = vec_reader(v, in);
  if (in->nvec != 1) return invalid(v, "invalid result arity %u for select", in->nvec);
  if (!cm_read_valtype(&r, &t, v->err) || !type_ok(v, t)) return false;
  return pop(v, CM_I32) && pop(v, t) && pop(v, t) && push_val(v, t);
}

static bool check_memarg(validator *v, const cm_memarg *ma, uint8_t natural) {
  if (!mem_ok(v, ma->memidx)) return false;
  if (ma->align > natural)
    return invalid(v, "alignment must not be larger than natural (2^%u bytes)", natural);
  return true;
}

static bool check_load(validator *v, const cm_instr *in) {
  const memop *op = &load_ops[in->op - OP_LOAD_FIRST];
  return check_memarg(v, &in->memarg, op->natural) && pop(v, CM_I32) && push_val(v, op->t);
}

static bool check_store(validator *v, const cm_instr *in) {
  const memop *op = &store_ops[in->op - OP_STORE_FIRST];
  return check_memarg(v, &in->memarg, op->natural) && pop(v, op->t) && pop(v, CM_I32);
}

static bool check_numeric(validator *v, const numop *op) {
  if (op->b && !pop(v, op->b)) return false;
  return pop(v, op->a) && push_val(v, op->r);
}

static bool check_global_set(validator *v, uint32_t x) {
  const cm_globaltype *g = global_at(v, x);
  if (!g) return false;
  if (!g->mut) return invalid(v, "global is immutable: global.set %u", x);
  return pop(v, g->type);
}

static bool check_ref_is_null(validator *v) {
  cm_valtype t = CM_VALTYPE_BOT;
  if (!pop_val(v, &t)) return false;
  if (t != CM_VALTYPE_BOT && !cm_valtype_is_ref(t))
    return invalid(v, "type mismatch: ref.is_null on %s", type_name(t));
  return push_val(v, CM_I32);
}

static bool check_ref_func(validator *v, uint32_t x) {
  if (!func_at(v, x)) return false;
  if (!v->refs[x]) return invalid(v, "undeclared function reference %u", x);
  return push_val(v, v->f.gc ? CM_REF_FUNC : CM_FUNCREF);
}

/* ref.i31, i31.get_s, i31.get_u (GC). */
static bool check_i31(validator *v, uint32_t op) {
  if (!v->f.gc) return malformed(v, "illegal opcode 0xfb %u", op - CM_OP_FB(0));
  if (op == CM_OP_REF_I31) return pop(v, CM_I32) && push_val(v, CM_REF_I31);
  return pop(v, CM_I31REF) && push_val(v, CM_I32);
}

/* try_table: each catch clause's label must take the tag's values (and the exnref). */
static bool check_catch(validator *v, const cm_catch *c) {
  const vframe *f = NULL;
  uint32_t n, nparams = 0, k = 0;
  const cm_valtype *params = NULL;
  if (c->kind == CM_CATCH || c->kind == CM_CATCH_REF) {
    const cm_functype *ft = tag_at(v, c->tag);
    if (!ft) return false;
    params = ft->params;
    nparams = ft->nparams;
  }
  if (!label_at(v, c->label, &f)) return false;
  const cm_valtype *ts = label_types(f, &n);
  bool with_ref = c->kind == CM_CATCH_REF || c->kind == CM_CATCH_ALL_REF;
  if (n != nparams + (with_ref ? 1u : 0u))
    return invalid(v, "type mismatch: catch clause does not match label %u", c->label);
  for (; k < nparams; k++)
    if (ts[k] != params[k])
      return invalid(v, "type mismatch: catch clause does not match label %u", c->label);
  if (with_ref && !cm_valtype_matches(CM_REF_EXN, ts[k]))
    return invalid(v, "type mismatch: catch clause does not match label %u", c->label);
  return true;
}

static bool read_catch(validator *v, cm_reader *r, cm_catch *c) {
  c->tag = 0;
  if (!cm_read_byte(r, &c->kind, v->err)) return false;
  if (c->kind > CM_CATCH_ALL_REF) return malformed(v, "malformed catch clause 0x%02x", c->kind);
  if ((c->kind == CM_CATCH || c->kind == CM_CATCH_REF) && !cm_read_u32(r, &c->tag, v->err))
    return false;
  return cm_read_u32(r, &c->label, v->err);
}

static bool check_try_table(validator *v, const cm_instr *in) {
  cm_reader r = vec_reader(v, in);
  for (uint32_t i = 0; i < in->nvec; i++) {
    cm_catch c;
    if (!read_catch(v, &r, &c) || !check_catch(v, &c)) return false;
  }
  return block_begin(v, OP_TRY_TABLE, &in->bt);
}

static bool check_throw(validator *v, uint32_t x) {
  const cm_functype *ft = tag_at(v, x);
  if (!ft || !pop_vals(v, ft->params, ft->nparams, NULL)) return false;
  unreachable(v);
  return true;
}

static bool pop_i32s(validator *v, int n) {
  for (int i = 0; i < n; i++)
    if (!pop(v, CM_I32)) return false;
  return true;
}

static bool check_table_init(validator *v, uint32_t elemidx, uint32_t tableidx) {
  cm_valtype et = CM_VALTYPE_BOT;
  const cm_tabletype *tt = table_at(v, tableidx);
  if (!tt || !elem_at(v, elemidx, &et)) return false;
  if (!cm_valtype_matches(et, tt->elem))
    return invalid(v, "type mismatch: elem segment %u does not fit the table's element type", elemidx);
  return pop_i32s(v, 3);
}

static bool check_table_copy(validator *v, uint32_t dst, uint32_t src) {
  const cm_tabletype *d = table_at(v, dst), *s = d ? table_at(v, src) : NULL;
  if (!s) return false;
  if (!cm_valtype_matches(s->elem, d->elem))
    return invalid(v, "type mismatch: table.copy between tables of different element types (%u)", src);
  return pop_i32s(v, 3);
}

static bool check_fc(validator *v, const cm_instr *in) {
  const cm_tabletype *tt;
  cm_valtype et = CM_VALTYPE_BOT;
  uint32_t sub = in->op - OP_FC;
  if (sub <= FC_TRUNC_SAT_LAST) return check_numeric(v, &trunc_sat_ops[sub]);
  switch (sub) {
  case FC_MEMORY_INIT: return mem_ok(v, in->b) && data_ok(v, in->a) && pop_i32s(v, 3);
  case FC_DATA_DROP: return data_ok(v, in->a);
  case FC_MEMORY_COPY: return mem_ok(v, in->a) && mem_ok(v, in->b) && pop_i32s(v, 3);
  case FC_MEMORY_FILL: return mem_ok(v, in->a) && pop_i32s(v, 3);
  case FC_TABLE_INIT: return check_table_init(v, in->a, in->b);
  case FC_ELEM_DROP: return elem_at(v, in->a, &et);
  case FC_TABLE_COPY: return check_table_copy(v, in->a, in->b);
  case FC_TABLE_GROW:
    return (tt = table_at(v, in->a)) && pop(v, CM_I32) && pop(v, tt->elem) && push_val(v, CM_I32);
  case FC_TABLE_SIZE: return table_at(v, in->a) && push_val(v, CM_I32);
  case FC_TABLE_FILL:
    return (tt = table_at(v, in->a)) && pop(v, CM_I32) && pop(v, tt->elem) && pop(v, CM_I32);
  default: return malformed(v, "illegal opcode 0xfc %u", sub);
  }
}

/* SIMD (0xFD prefix, spec 3.3.3): the operand and result types, immediate kinds and bounds
 * come from the SIMD opcode table (simd_ops.def via simd.h). */
static bool check_simd(validator *v, const cm_instr *in) {
  const cm_simd_op *o = cm_simd_lookup(in->op - CM_OP_FD(0));
  if (!o) return malformed(v, "illegal opcode 0xfd %u", in->op - CM_OP_FD(0));
  if (cm_simd_is_memory(o) && !mem_ok(v, in->memarg.memidx)) return false;
  const char *msg = cm_simd_check_imm(o, in->memarg.align, in->lane, in->v128);
  if (msg) return invalid(v, "%s (%s)", msg, o->name);
  for (int i = o->nparams; i-- > 0;)
    if (!pop(v, o->params[i])) return false;
  return o->result == 0 || push_val(v, o->result);
}

/* Constant expressions (spec 3.3.10): only these instructions, and global.get of an
 * immutable imported global. */
static bool check_constant(validator *v, const cm_instr *in) {
  switch (in->op) {
  case OP_I32_CONST: case OP_I64_CONST: case OP_F32_CONST: case OP_F64_CONST:
  case OP_REF_NULL: case OP_REF_FUNC: case OP_END: case CM_OP_FD(CM_SIMD_v128_const):
  case CM_OP_REF_I31:
    return true;
  case OP_GLOBAL_GET: {
    const cm_globaltype *g = global_at(v, in->a);
    if (!g) return false;
    if (g->mut) return invalid(v, "constant expression required: global %u is mutable", in->a);
    return true;
  }
  default:
    return invalid(v, "constant expression required (opcode 0x%x)", in->op);
  }
}

static bool check_variable(validator *v, const cm_instr *in) {
  cm_valtype t = CM_VALTYPE_BOT;
  const cm_globaltype *g;
  const cm_tabletype *tt;
  switch (in->op) {
  case OP_LOCAL_GET: return local_at(v, in->a, &t) && push_val(v, t);
  case OP_LOCAL_SET: return local_at(v, in->a, &t) && pop(v, t);
  case OP_LOCAL_TEE: return local_at(v, in->a, &t) && pop(v, t) && push_val(v, t);
  case OP_GLOBAL_GET: return (g = global_at(v, in->a)) && push_val(v, g->type);
  case OP_GLOBAL_SET: return check_global_set(v, in->a);
  case OP_TABLE_GET: return (tt = table_at(v, in->a)) && pop(v, CM_I32) && push_val(v, tt->elem);
  case OP_TABLE_SET: return (tt = table_at(v, in->a)) && pop(v, tt->elem) && pop(v, CM_I32);
  default: return malformed(v, "illegal opcode 0x%x", in->op);
  }
}

/* One instruction (spec 3.3), after it was read. */
static bool check_instr(validator *v, const cm_instr *in) {
  uint32_t op = in->op;
  if (v->const_mode && !check_constant(v, in)) return false;
  if (op >= CM_OP_FD(0)) return check_simd(v, in);
  if (op >= OP_FC) return check_fc(v, in);
  if (op >= CM_OP_FB(0)) return check_i31(v, op);
  if (op >= OP_NUMERIC_FIRST && op <= OP_NUMERIC_LAST)
    return check_numeric(v, &numeric_ops[op - OP_NUMERIC_FIRST]);
  if (op >= OP_LOAD_FIRST && op <= OP_LOAD_LAST) return check_load(v, in);
  if (op >= OP_STORE_FIRST && op <= OP_STORE_LAST) return check_store(v, in);
  if (op >= OP_LOCAL_GET && op <= OP_TABLE_SET) return check_variable(v, in);
  switch (op) {
  case OP_UNREACHABLE: unreachable(v); return true;
  case OP_NOP: return true;
  case OP_BLOCK: case OP_LOOP: return block_begin(v, (uint8_t)op, &in->bt);
  case OP_IF: return pop(v, CM_I32) && block_begin(v, OP_IF, &in->bt);
  case OP_ELSE: return check_else(v);
  case OP_END: return check_end(v);
  case OP_TRY_TABLE: return check_try_table(v, in);
  case OP_THROW: return check_throw(v, in->a);
  case OP_THROW_REF:
    if (!pop(v, CM_EXNREF)) return false;
    unreachable(v);
    return true;
  case OP_BR: return check_br(v, in->a);
  case OP_BR_IF: return check_br_if(v, in->a);
  case OP_BR_TABLE: return check_br_table(v, in);
  case OP_RETURN: return check_return(v);
  case OP_CALL: return check_call(v, func_at(v, in->a));
  case OP_CALL_INDIRECT: return check_call_indirect(v, in->a, in->b);
  case OP_DROP: { cm_valtype t; return pop_val(v, &t); }
  case OP_SELECT: return check_select(v);
  case OP_SELECT_T: return check_select_t(v, in);
  case OP_MEMORY_SIZE: return mem_ok(v, in->a) && push_val(v, CM_I32);
  case OP_MEMORY_GROW: return mem_ok(v, in->a) && pop(v, CM_I32) && push_val(v, CM_I32);
  case OP_I32_CONST: return push_val(v, CM_I32);
  case OP_I64_CONST: return push_val(v, CM_I64);
  case OP_F32_CONST: return push_val(v, CM_F32);
  case OP_F64_CONST: return push_val(v, CM_F64);
  case OP_REF_NULL: return type_ok(v, (cm_valtype)in->a) && push_val(v, (cm_valtype)in->a);
  case OP_REF_IS_NULL: return check_ref_is_null(v);
  case OP_REF_FUNC: return check_ref_func(v, in->a);
  default: return malformed(v, "illegal opcode 0x%x", op);
  }
}

/* ---- 6. Expressions, functions, modules (spec 3.4) ---------------------------------------- */

/* Validates an expression (a body or a constant expression) with result types ts: the
 * function's frame is the bottom of the control stack; its END empties the stack. */
static bool check_expr(validator *v, cm_expr e, const cm_valtype *ts, uint32_t n) {
  cm_reader r = cm_reader_at(v->m, e);
  cm_instr in;
  v->expr_end = r.end;
  v->nvals = 0;
  v->nctrls = 0;
  if (!push_ctrl(v, OP_BLOCK, NULL, 0, ts, n, CM_VALTYPE_BOT)) return false;
  while (v->nctrls > 0) {
    if (cm_reader_eof(&r)) return malformed(v, "END opcode expected");
    if (!cm_read_instr(&r, v->m, &in, v->err) || !check_instr(v, &in)) return false;
  }
  if (!cm_reader_eof(&r))
    return malformed(v, "section size mismatch: %u bytes after the expression's END", (uint32_t)cm_reader_left(&r));
  return true;
}

static bool check_const_expr(validator *v, cm_expr e, cm_valtype t) {
  v->const_mode = true;
  bool ok = check_expr(v, e, &t, 1);
  v->const_mode = false;
  return ok;
}

/* C.locals: the parameters, then the declared locals. */
static bool set_locals(validator *v, const cm_functype *ft, const cm_func *fn) {
  size_t n = (size_t)ft->nparams + fn->nlocals;
  if (!grow(v, (void **)&v->locals, &v->locals_cap, n ? n : 1, 1)) return false;
  if (ft->nparams) memcpy(v->locals, ft->params, ft->nparams);
  size_t k = ft->nparams;
  for (uint32_t i = 0; i < fn->nlocaldecls; i++) {
    const cm_locals *d = &fn->localdecls[i];
    if (d->count > n - k) return invalid(v, "too many locals in function declaration %u", i);
    if (!type_ok(v, d->type)) return false;
    if (cm_valtype_is_nonnull(d->type))
      return invalid(v, "local of non-defaultable type %s (initialisation tracking is not "
                        "supported)", cm_valtype_name(d->type));
    memset(v->locals + k, d->type, d->count);
    k += d->count;
  }
  v->nlocals = k;
  return true;
}

static bool check_func(validator *v, uint32_t i) {
  const cm_func *fn = &v->m->funcs[i];
  const cm_functype *ft = type_at(v, fn->typeidx);
  if (!ft || !set_locals(v, ft, fn)) return false;
  v->func = ft;
  if (check_expr(v, fn->body, ft->results, ft->nresults)) return true;
  /* Prefix the message with the function index, keeping the rule's words. */
  char msg[sizeof v->err->message];
  memcpy(msg, v->err->message, sizeof msg);
  cm_error_set(v->err, v->err->kind, "%s (in function %u)", msg,
               v->m->nfunc_imports + i);
  return false;
}

/* Limits (spec 3.2.1): within range k, min <= max. */
static bool check_limits(validator *v, const cm_limits *l, uint64_t k, const char *range_msg) {
  if (l->min > k || (l->has_max && l->max > k))
    return invalid(v, "%s", range_msg);
  if (l->has_max && l->min > l->max)
    return invalid(v, "size minimum must not be greater than maximum");
  return true;
}

static bool check_tabletype(validator *v, const cm_tabletype *t) {
  if (!type_ok(v, t->elem)) return false;
  if (t->has_init && !v->f.gc) return malformed(v, "malformed reference type 0x40");
  if (t->limits.is64) return invalid(v, "table64 is not supported");
  return check_limits(v, &t->limits, UINT32_MAX, "table size must be at most 2^32-1");
}

/* A defined table: a non-nullable element type needs an initialiser, which is a constant
 * expression of the element type. */
static bool check_table(validator *v, const cm_tabletype *t) {
  if (!check_tabletype(v, t)) return false;
  if (!t->has_init) {
    if (cm_valtype_is_nonnull(t->elem))
      return invalid(v, "type mismatch: table of non-defaultable type %s needs an initialiser",
                     cm_valtype_name(t->elem));
    return true;
  }
  cm_expr init = {t->init_offset, t->init_len};
  return check_const_expr(v, init, t->elem);
}

static bool check_memtype(validator *v, const cm_memtype *t) {
  if (t->limits.is64) return invalid(v, "memory64 is not supported");
  if (t->limits.shared) return invalid(v, "shared memories (threads) are not supported");
  return check_limits(v, &t->limits, 65536, "memory size must be at most 65536 pages (4GiB)");
}

static bool check_tagtype(validator *v, const cm_tagtype *t) {
  const cm_functype *ft = type_at(v, t->typeidx);
  if (!ft) return false;
  if (t->attribute != 0) return invalid(v, "invalid tag attribute %u", t->attribute);
  if (ft->nresults != 0) return invalid(v, "non-empty tag result type (type %u)", t->typeidx);
  return true;
}

static bool check_import(validator *v, const cm_import *im) {
  switch (im->kind) {
  case CM_EXTERN_FUNC: return type_at(v, im->desc.func) != NULL;
  case CM_EXTERN_TABLE: return check_tabletype(v, &im->desc.table);
  case CM_EXTERN_MEMORY: return check_memtype(v, &im->desc.mem);
  case CM_EXTERN_GLOBAL: return type_ok(v, im->desc.global.type);
  case CM_EXTERN_TAG: return check_tagtype(v, &im->desc.tag);
  }
  return invalid(v, "unknown import kind %u", (uint32_t)im->kind);
}

static bool check_elem(validator *v, const cm_elem *e) {
  if (!cm_valtype_is_ref(e->type)) return invalid(v, "malformed reference type 0x%02x", e->type);
  if (!type_ok(v, e->type)) return false;
  for (uint32_t i = 0; i < e->nitems; i++) {
    if (e->uses_exprs) {
      if (!check_const_expr(v, e->exprs[i], e->type)) return false;
    } else if (e->funcs[i] >= v->nfuncs) {
      return invalid(v, "unknown function %u", e->funcs[i]);
    }
  }
  if (e->mode != CM_SEG_ACTIVE) return true;
  const cm_tabletype *tt = table_at(v, e->table);
  if (!tt || !check_const_expr(v, e->offset, CM_I32)) return false;
  if (!cm_valtype_matches(e->type, tt->elem))
    return invalid(v, "type mismatch: elem segment does not fit table %u", e->table);
  return true;
}

static bool check_data(validator *v, const cm_data *d) {
  if (d->mode != CM_SEG_ACTIVE) return true;
  return mem_ok(v, d->memory) && check_const_expr(v, d->offset, CM_I32);
}

static bool check_start(validator *v) {
  if (!v->m->has_start) return true;
  const cm_functype *ft = func_at(v, v->m->start);
  if (!ft) return false;
  if (ft->nparams != 0 || ft->nresults != 0)
    return invalid(v, "start function %u must have type [] -> []", v->m->start);
  return true;
}

static bool check_export_desc(validator *v, const cm_export *e) {
  switch (e->kind) {
  case CM_EXTERN_FUNC: return func_at(v, e->index) != NULL;
  case CM_EXTERN_TABLE: return table_at(v, e->index) != NULL;
  case CM_EXTERN_MEMORY: return mem_ok(v, e->index);
  case CM_EXTERN_GLOBAL: return global_at(v, e->index) != NULL;
  case CM_EXTERN_TAG: return tag_at(v, e->index) != NULL;
  }
  return invalid(v, "unknown export kind %u", (uint32_t)e->kind);
}

static int compare_export_names(const void *a, const void *b) {
  const cm_name *x = &(*(const cm_export *const *)a)->name;
  const cm_name *y = &(*(const cm_export *const *)b)->name;
  uint32_t n = x->len < y->len ? x->len : y->len;
  int c = memcmp(x->str, y->str, n);
  if (c) return c;
  return x->len < y->len ? -1 : x->len > y->len;
}

/* Export names are unique: sort pointers by name, compare neighbours. */
static bool check_export_names(validator *v) {
  uint32_t n = v->m->nexports;
  if (n < 2) return true;
  const cm_export **sorted = malloc(n * sizeof *sorted);
  if (!sorted) return cm_error_set(v->err, CMREF_INTERNAL, "out of memory in validation");
  for (uint32_t i = 0; i < n; i++) sorted[i] = &v->m->exports[i];
  qsort(sorted, n, sizeof *sorted, compare_export_names);
  bool ok = true;
  for (uint32_t i = 1; i < n && ok; i++)
    if (compare_export_names(&sorted[i - 1], &sorted[i]) == 0)
      ok = invalid(v, "duplicate export name \"%.*s\"",
                        (int)(sorted[i]->name.len > 64 ? 64 : sorted[i]->name.len),
                        sorted[i]->name.str);
  free(sorted);
  return ok;
}

/* Marks the ref.func indices of a constant expression as declared (C.refs). */
static void declare_refs_in(validator *v, cm_expr e) {
  cm_reader r = cm_reader_at(v->m, e);
  cm_error scratch;
  cm_error *saved = v->err;
  cm_instr in;
  v->err = &scratch; /* a malformed expression is reported where it is validated */
  while (!cm_reader_eof(&r) && cm_read_instr(&r, v->m, &in, v->err))
    if (in.op == OP_REF_FUNC && in.a < v->nfuncs) v->refs[in.a] = 1;
  v->err = saved;
}

/* C.refs (spec 3.4.10): functions named in elements, exports, and global initialisers. */
static bool declare_refs(validator *v) {
  const cm_module *m = v->m;
  v->refs = calloc(v->nfuncs ? v->nfuncs : 1, 1);
  if (!v->refs) return cm_error_set(v->err, CMREF_INTERNAL, "out of memory in validation");
  for (uint32_t i = 0; i < m->nglobals; i++) declare_refs_in(v, m->globals[i].init);
  for (uint32_t i = 0; i < m->nelems; i++) {
    const cm_elem *e = &m->elems[i];
    for (uint32_t k = 0; k < e->nitems; k++) {
      if (e->uses_exprs) declare_refs_in(v, e->exprs[k]);
      else if (e->funcs[k] < v->nfuncs) v->refs[e->funcs[k]] = 1;
    }
  }
  for (uint32_t i = 0; i < m->nexports; i++) {
    const cm_export *e = &m->exports[i];
    if (e->kind == CM_EXTERN_FUNC && e->index < v->nfuncs) v->refs[e->index] = 1;
  }
  return true;
}

static bool check_functype(validator *v, uint32_t i) {
  const cm_functype *ft = &v->m->types[i];
  if (ft->nparams > CM_VALIDATE_MAX_TYPE_ARITY || ft->nresults > CM_VALIDATE_MAX_TYPE_ARITY)
    return invalid(v, "type %u has more than %u parameters or results (implementation limit)", i,
                   CM_VALIDATE_MAX_TYPE_ARITY);
  return types_ok(v, ft->params, ft->nparams) && types_ok(v, ft->results, ft->nresults);
}

static bool check_definitions(validator *v) {
  const cm_module *m = v->m;
  for (uint32_t i = 0; i < m->ntypes; i++)
    if (!check_functype(v, i)) return false;
  for (uint32_t i = 0; i < m->nimports; i++)
    if (!check_import(v, &m->imports[i])) return false;
  for (uint32_t i = 0; i < m->nfuncs; i++)
    if (!type_at(v, m->funcs[i].typeidx)) return false;
  for (uint32_t i = 0; i < m->ntables; i++)
    if (!check_table(v, &m->tables[i])) return false;
  for (uint32_t i = 0; i < m->nmems; i++)
    if (!check_memtype(v, &m->mems[i])) return false;
  if (!v->f.multi_memory && v->nmems > 1)
    return invalid(v, "multiple memories (%u) need the multi-memory feature", v->nmems);
  for (uint32_t i = 0; i < m->ntags; i++)
    if (!check_tagtype(v, &m->tags[i])) return false;
  for (uint32_t i = 0; i < m->nglobals; i++)
    if (!type_ok(v, m->globals[i].type.type) ||
        !check_const_expr(v, m->globals[i].init, m->globals[i].type.type))
      return false;
  return true;
}

static bool check_module(validator *v) {
  const cm_module *m = v->m;
  if (!declare_refs(v) || !check_definitions(v)) return false;
  for (uint32_t i = 0; i < m->nelems; i++)
    if (!check_elem(v, &m->elems[i])) return false;
  for (uint32_t i = 0; i < m->ndatas; i++)
    if (!check_data(v, &m->datas[i])) return false;
  for (uint32_t i = 0; i < m->nfuncs; i++)
    if (!check_func(v, i)) return false;
  if (!check_start(v)) return false;
  for (uint32_t i = 0; i < m->nexports; i++)
    if (!check_export_desc(v, &m->exports[i])) return false;
  return check_export_names(v);
}

cm_core_features cm_core_features_wasm2(void) {
  cm_core_features f = {.multi_memory = false};
  return f;
}

cm_core_features cm_core_features_all(void) {
  cm_core_features f = {.multi_memory = true, .gc = true};
  return f;
}

bool cm_core_validate_with(const cm_module *m, const cm_core_features *features, cm_error *err) {
  validator v;
  memset(&v, 0, sizeof v);
  v.m = m;
  v.f = *features;
  v.err = err;
  v.nfuncs = cm_module_nfuncs_total(m);
  v.ntables = cm_module_ntables_total(m);
  v.nmems = cm_module_nmems_total(m);
  v.nglobals = cm_module_nglobals_total(m);
  v.ntags = cm_module_ntags_total(m);
  bool ok = check_module(&v);
  free(v.refs);
  free(v.locals);
  free(v.vals);
  free(v.ctrls);
  free(v.scratch);
  return ok;
}

bool cm_core_validate(const cm_module *m, cm_error *err) {
  cm_core_features f = cm_core_features_wasm2();
  return cm_core_validate_with(m, &f, err);
}
