/* cmref core: reading one instruction with its immediates (spec 5.4 "Instructions").
 *
 * The decoder uses it to check every body is well-formed; the execution pre-decoder uses
 * it to compile bodies. Opcodes are numbered as in the binary: one byte, or
 * CM_OP_FC(sub) / CM_OP_FD(sub) for the prefixed ones.
 */
#ifndef CM_CORE_INSTR_H
#define CM_CORE_INSTR_H

#include "core/reader.h"

#define CM_OP_FC(sub) (0xFC00u + (sub))  /* sub <= 17 */
#define CM_OP_FD(sub) (0x10000u + (sub)) /* SIMD; sub < 0x200 */
#define CM_OP_FB(sub) (0xFB00u + (sub))  /* GC; sub <= 0xFF (only the i31 ones are known) */
#define CM_OP_REF_I31 CM_OP_FB(0x1C)
#define CM_OP_I31_GET_S CM_OP_FB(0x1D)
#define CM_OP_I31_GET_U CM_OP_FB(0x1E)

/* Immediate kinds. */
typedef enum cm_imm {
  CM_IMM_NONE,
  CM_IMM_BLOCK,      /* bt */
  CM_IMM_LABEL,      /* a = labelidx */
  CM_IMM_BR_TABLE,   /* vec/nvec = label LEBs, a = default label */
  CM_IMM_IDX,        /* a = func/local/global/table/tag/data/elem index */
  CM_IMM_IDX2,       /* a, b: call_indirect (type, table), memory.init (data, mem),
                        memory.copy (mem, mem), table.init (elem, table), table.copy */
  CM_IMM_MEMARG,     /* memarg */
  CM_IMM_MEMIDX,     /* a = memory index (memory.size, memory.grow: see instr.c) */
  CM_IMM_I32,        /* c = bits */
  CM_IMM_I64,
  CM_IMM_F32,
  CM_IMM_F64,
  CM_IMM_SELECT_T,   /* vec/nvec = value type bytes */
  CM_IMM_REFTYPE,    /* a = heap type byte (ref.null) */
  CM_IMM_TRY_TABLE,  /* bt, vec/nvec = catch clauses */
  CM_IMM_V128,       /* v128[16] (v128.const, i8x16.shuffle lanes) */
  CM_IMM_LANE,       /* lane */
  CM_IMM_MEMARG_LANE,/* memarg, lane */
  CM_IMM_ILLEGAL
} cm_imm;

typedef struct cm_instr {
  uint32_t op;
  cm_imm imm;
  cm_blocktype bt;
  uint32_t a, b;
  uint64_t c;
  cm_memarg memarg;
  uint8_t lane;
  uint8_t v128[16];
  const uint8_t *vec; /* start of a vector's elements in the module bytes */
  uint32_t nvec;
} cm_instr;

/* try_table catch clause kinds (Wasm 3.0). */
enum { CM_CATCH = 0, CM_CATCH_REF = 1, CM_CATCH_ALL = 2, CM_CATCH_ALL_REF = 3 };
typedef struct cm_catch {
  uint8_t kind;
  uint32_t tag;   /* CM_CATCH, CM_CATCH_REF */
  uint32_t label;
} cm_catch;

/* Reads one instruction at r. "illegal opcode" for unknown opcodes. m gives the memory
 * count (for the 2.0 "zero byte expected" rule of memory.size/grow). */
bool cm_read_instr(cm_reader *r, const cm_module *m, cm_instr *out, cm_error *err);

/* Reading the vectors of an instruction read before (already checked), in order: start a
 * reader at in->vec and call these in->nvec times (br_table: cm_read_u32 per label). */
bool cm_read_catch(cm_reader *r, cm_catch *c, cm_error *err);

/* The immediate kind of an opcode (CM_IMM_ILLEGAL if unknown). */
cm_imm cm_opcode_imm(uint32_t op);

#endif
