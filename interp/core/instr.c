/* Reading one instruction and its immediates (spec 5.4). */
#include "core/instr.h"
#include "core/simd.h"

static cm_imm byte_opcode_imm(uint8_t op) {
  switch (op) {
  case 0x00: case 0x01: case 0x05: case 0x0A: case 0x0B: case 0x0F: case 0x1A: case 0x1B:
  case 0xD1:
    return CM_IMM_NONE;
  case 0x02: case 0x03: case 0x04: return CM_IMM_BLOCK;
  case 0x08: return CM_IMM_IDX; /* throw tag */
  case 0x0C: case 0x0D: return CM_IMM_LABEL;
  case 0x0E: return CM_IMM_BR_TABLE;
  case 0x10: return CM_IMM_IDX;
  case 0x11: return CM_IMM_IDX2;
  case 0x1C: return CM_IMM_SELECT_T;
  case 0x1F: return CM_IMM_TRY_TABLE;
  case 0x20: case 0x21: case 0x22: case 0x23: case 0x24: case 0x25: case 0x26:
    return CM_IMM_IDX;
  case 0x3F: case 0x40: return CM_IMM_MEMIDX;
  case 0x41: return CM_IMM_I32;
  case 0x42: return CM_IMM_I64;
  case 0x43: return CM_IMM_F32;
  case 0x44: return CM_IMM_F64;
  case 0xD0: return CM_IMM_REFTYPE;
  case 0xD2: return CM_IMM_IDX;
  default: break;
  }
  if (op >= 0x28 && op <= 0x3E) return CM_IMM_MEMARG;
  if (op >= 0x45 && op <= 0xC4) return CM_IMM_NONE;
  return CM_IMM_ILLEGAL;
}

static cm_imm fc_opcode_imm(uint32_t sub) {
  if (sub <= 7) return CM_IMM_NONE;
  switch (sub) {
  case 8: case 10: case 12: case 14: return CM_IMM_IDX2;
  case 9: case 11: case 13: case 15: case 16: case 17: return CM_IMM_IDX;
  default: return CM_IMM_ILLEGAL;
  }
}

/* SIMD (0xFD prefix): the immediate of each opcode from simd_ops.def. */
static cm_imm fd_opcode_imm(uint32_t sub) {
  const cm_simd_op *o = cm_simd_lookup(sub);
  if (!o) return CM_IMM_ILLEGAL;
  switch ((cm_simd_imm)o->imm) {
  case CM_SIMD_IMM_NONE: return CM_IMM_NONE;
  case CM_SIMD_IMM_MEMARG: return CM_IMM_MEMARG;
  case CM_SIMD_IMM_MEMARG_LANE: return CM_IMM_MEMARG_LANE;
  case CM_SIMD_IMM_LANE: return CM_IMM_LANE;
  case CM_SIMD_IMM_V128: case CM_SIMD_IMM_SHUFFLE: return CM_IMM_V128;
  }
  return CM_IMM_ILLEGAL;
}

cm_imm cm_opcode_imm(uint32_t op) {
  if (op < 0x100) return byte_opcode_imm((uint8_t)op);
  if (op >= CM_OP_FD(0)) return fd_opcode_imm(op - CM_OP_FD(0));
  if (op >= CM_OP_FC(0) && op <= CM_OP_FC(0xFF)) return fc_opcode_imm(op - CM_OP_FC(0));
  if (op == CM_OP_REF_I31 || op == CM_OP_I31_GET_S || op == CM_OP_I31_GET_U) return CM_IMM_NONE;
  return CM_IMM_ILLEGAL;
}

static bool read_opcode(cm_reader *r, uint32_t *op, cm_error *err) {
  uint8_t b = 0;
  if (!cm_read_byte(r, &b, err)) return false;
  if (b == 0xFB || b == 0xFC || b == 0xFD) {
    uint32_t sub;
    if (!cm_read_u32(r, &sub, err)) return false;
    if (b == 0xFB) *op = sub <= 0xFF ? CM_OP_FB(sub) : CM_OP_FB(0xFF);
    else if (b == 0xFC) *op = sub <= 0xFF ? CM_OP_FC(sub) : CM_OP_FC(0xFF);
    else *op = sub < 0x200 ? CM_OP_FD(sub) : CM_OP_FD(0x1FF);
    return true;
  }
  *op = b;
  return true;
}

static bool read_br_table(cm_reader *r, cm_instr *in, cm_error *err) {
  if (!cm_read_u32(r, &in->nvec, err)) return false;
  if (in->nvec > cm_reader_left(r))
    return cm_error_set(err, CMREF_MALFORMED, "length out of bounds");
  in->vec = r->p;
  for (uint32_t i = 0; i < in->nvec; i++) {
    uint32_t l;
    if (!cm_read_u32(r, &l, err)) return false;
  }
  return cm_read_u32(r, &in->a, err);
}

static bool read_select_t(cm_reader *r, cm_instr *in, cm_error *err) {
  if (!cm_read_u32(r, &in->nvec, err)) return false;
  if (in->nvec > cm_reader_left(r))
    return cm_error_set(err, CMREF_MALFORMED, "length out of bounds");
  in->vec = r->p;
  for (uint32_t i = 0; i < in->nvec; i++) {
    cm_valtype t;
    if (!cm_read_valtype(r, &t, err)) return false;
  }
  return true;
}

bool cm_read_catch(cm_reader *r, cm_catch *c, cm_error *err) {
  if (!cm_read_byte(r, &c->kind, err)) return false;
  if (c->kind > CM_CATCH_ALL_REF)
    return cm_error_set(err, CMREF_MALFORMED, "malformed catch clause");
  c->tag = 0;
  if (c->kind == CM_CATCH || c->kind == CM_CATCH_REF)
    if (!cm_read_u32(r, &c->tag, err)) return false;
  return cm_read_u32(r, &c->label, err);
}

static bool read_try_table(cm_reader *r, cm_instr *in, cm_error *err) {
  if (!cm_read_blocktype(r, &in->bt, err)) return false;
  if (!cm_read_u32(r, &in->nvec, err)) return false;
  if (in->nvec > cm_reader_left(r))
    return cm_error_set(err, CMREF_MALFORMED, "length out of bounds");
  in->vec = r->p;
  for (uint32_t i = 0; i < in->nvec; i++) {
    cm_catch c;
    if (!cm_read_catch(r, &c, err)) return false;
  }
  return true;
}

/* memory.size / memory.grow: a memory index with multi-memory; the 2.0 binary format has a
 * single zero byte there, so with at most one memory anything else is malformed. */
static bool read_memidx(cm_reader *r, const cm_module *m, cm_instr *in, cm_error *err) {
  if (!cm_reader_eof(r) && *r->p == 0) {
    r->p++;
    in->a = 0;
    return true;
  }
  if (m && cm_module_nmems_total(m) <= 1)
    return cm_error_set(err, CMREF_MALFORMED, "zero byte expected");
  return cm_read_u32(r, &in->a, err);
}

static bool read_imm(cm_reader *r, const cm_module *m, cm_instr *in, cm_error *err) {
  int32_t s32;
  int64_t s64;
  uint32_t f32;
  const uint8_t *p = NULL;
  switch (in->imm) {
  case CM_IMM_NONE: return true;
  case CM_IMM_BLOCK: return cm_read_blocktype(r, &in->bt, err);
  case CM_IMM_LABEL: case CM_IMM_IDX: return cm_read_u32(r, &in->a, err);
  case CM_IMM_BR_TABLE: return read_br_table(r, in, err);
  case CM_IMM_IDX2: return cm_read_u32(r, &in->a, err) && cm_read_u32(r, &in->b, err);
  case CM_IMM_MEMARG: return cm_read_memarg(r, &in->memarg, err);
  case CM_IMM_MEMIDX: return read_memidx(r, m, in, err);
  case CM_IMM_I32:
    if (!cm_read_s32(r, &s32, err)) return false;
    in->c = (uint32_t)s32;
    return true;
  case CM_IMM_I64:
    if (!cm_read_s64(r, &s64, err)) return false;
    in->c = (uint64_t)s64;
    return true;
  case CM_IMM_F32:
    if (!cm_read_f32(r, &f32, err)) return false;
    in->c = f32;
    return true;
  case CM_IMM_F64: return cm_read_f64(r, &in->c, err);
  case CM_IMM_SELECT_T: return read_select_t(r, in, err);
  case CM_IMM_REFTYPE: { /* a heap type: only the shorthand bytes (abstract heap types) */
    cm_valtype t;
    if (!cm_reader_eof(r) && (*r->p == 0x63 || *r->p == 0x64))
      return cm_error_set(err, CMREF_MALFORMED, "malformed heap type 0x%02x", *r->p);
    if (!cm_read_reftype(r, &t, err)) return false;
    in->a = t;
    return true;
  }
  case CM_IMM_TRY_TABLE: return read_try_table(r, in, err);
  case CM_IMM_V128:
    if (!cm_read_bytes(r, 16, &p, err)) return false;
    for (int i = 0; i < 16; i++) in->v128[i] = p[i];
    return true;
  case CM_IMM_LANE: return cm_read_byte(r, &in->lane, err);
  case CM_IMM_MEMARG_LANE:
    return cm_read_memarg(r, &in->memarg, err) && cm_read_byte(r, &in->lane, err);
  case CM_IMM_ILLEGAL: break;
  }
  return cm_error_set(err, CMREF_MALFORMED, "illegal opcode");
}

bool cm_read_instr(cm_reader *r, const cm_module *m, cm_instr *in, cm_error *err) {
  if (!read_opcode(r, &in->op, err)) return false;
  in->imm = cm_opcode_imm(in->op);
  if (in->imm == CM_IMM_ILLEGAL)
    return cm_error_set(err, CMREF_MALFORMED, "illegal opcode 0x%x", in->op);
  return read_imm(r, m, in, err);
}

