/* simd.h: the fixed-width SIMD proposal (v128 and the 236 instructions under prefix 0xFD).
 *
 * One home for SIMD: the v128 value, the opcode table (simd_ops.def, read by the decoder,
 * the validator and the exec loop), and the numerics (simd.c).
 *
 * Operand convention for execution: an instruction's operands are consecutive 16-byte value
 * slots (core's cm_value), bottom of the stack first; the result (if any) replaces the
 * first slot. Scalars live in the low bytes of a slot (i32 at offset 0 as 4 bytes, i64 as 8,
 * f32/f64 as their bits), which is where the cm_value union keeps them on a little-endian
 * host. Memory instructions get `mem`, the host address of the effective address, already
 * bounds-checked by the caller for cm_simd_ops[op].n bytes (the first slot holds the i32
 * address operand and is not read).
 */
#ifndef CM_SIMD_H
#define CM_SIMD_H

#include <stdint.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "cmref's v128 lanes assume a little-endian host"
#endif

/* A v128 value: lane i of every shape is element i of the matching array. */
typedef union cm_v128 {
  uint8_t u8[16];
  int8_t s8[16];
  uint16_t u16[8];
  int16_t s16[8];
  uint32_t u32[4];
  int32_t s32[4];
  uint64_t u64[2];
  int64_t s64[2];
  float f32[4];
  double f64[2];
} cm_v128;

_Static_assert(sizeof(cm_v128) == 16, "v128 is 16 bytes");

/* Value type codes, as in the binary format. */
enum {
  CM_SIMD_T_I32 = 0x7F,
  CM_SIMD_T_I64 = 0x7E,
  CM_SIMD_T_F32 = 0x7D,
  CM_SIMD_T_F64 = 0x7C,
  CM_SIMD_T_V128 = 0x7B
};

/* The immediate that follows the opcode. */
typedef enum cm_simd_imm {
  CM_SIMD_IMM_NONE = 0,
  CM_SIMD_IMM_MEMARG,      /* memarg (align, offset) */
  CM_SIMD_IMM_MEMARG_LANE, /* memarg, then one lane index byte */
  CM_SIMD_IMM_LANE,        /* one lane index byte */
  CM_SIMD_IMM_V128,        /* 16 bytes */
  CM_SIMD_IMM_SHUFFLE      /* 16 lane index bytes, each < 32 */
} cm_simd_imm;

/* Opcodes (the u32 after 0xFD): CM_SIMD_i8x16_add == 0x6e ... */
enum cm_simd_opcode {
#define X(code, id, name, imm, sig, n, impl) CM_SIMD_##id = code,
#include "core/simd_ops.def"
#undef X
};

/* Execute one instruction; see the operand convention above. `imm` is the lane index
 * (LANE, MEMARG_LANE: imm[0]) or the 16 immediate bytes (V128, SHUFFLE); NULL otherwise. */
typedef void cm_simd_fn(void *slots, const uint8_t *imm, uint8_t *mem);

typedef struct cm_simd_op {
  const char *name;    /* NULL: no instruction has this opcode */
  uint8_t imm;         /* cm_simd_imm */
  uint8_t n;           /* memory: bytes accessed; LANE: lanes; SHUFFLE: 32 (index bound) */
  uint8_t nparams;     /* operands popped */
  uint8_t result;      /* result type, or 0 for none */
  uint8_t params[3];   /* operand types, CM_SIMD_T_*, bottom of the stack first */
  cm_simd_fn *fn;
} cm_simd_op;

/* Indexed by opcode; entries with name == NULL are not instructions. */
extern const cm_simd_op cm_simd_ops[256];

/* The table entry for opcode `op`, or NULL if there is no such SIMD instruction. */
const cm_simd_op *cm_simd_lookup(uint32_t op);

/* Does this instruction access memory (so the module needs a memory)? */
int cm_simd_is_memory(const cm_simd_op *o);

/* Largest valid alignment exponent of a memory instruction's memarg (log2 of n). */
uint32_t cm_simd_max_align(const cm_simd_op *o);

/* Number of valid lane indices of a LANE / MEMARG_LANE / SHUFFLE instruction. */
uint32_t cm_simd_lane_bound(const cm_simd_op *o);

/* Validation of the immediates (spec 3.3.x): lane index below the lane count, shuffle
 * lanes below 32, memarg alignment at most natural. `lanes` is the 16 immediate bytes of a
 * SHUFFLE (ignored otherwise). Returns NULL when they are valid, else the suite's message.
 * (The operand types are o->params / o->result; a memory instruction also needs memory
 * memarg.memidx to exist, which only the validator's context knows.) */
const char *cm_simd_check_imm(const cm_simd_op *o, uint32_t align, uint8_t lane,
                              const uint8_t lanes[16]);

/* Execute opcode `op` (which must have a table entry). */
static inline void cm_simd_exec(uint32_t op, void *slots, const uint8_t *imm, uint8_t *mem) {
  cm_simd_ops[op].fn(slots, imm, mem);
}

/* Lane shapes of the json-from-wast value schema ("i8", "i16", "i32", "i64", "f32", "f64"). */
/* Number of lanes of a lane type name, or 0 if the name is not a lane type. */
int cm_simd_lane_count(const char *lane_type);
/* Set / read lane i of v as the unsigned bits of the lane type (which must be valid). */
void cm_v128_set_lane(cm_v128 *v, const char *lane_type, int i, uint64_t bits);
uint64_t cm_v128_get_lane(const cm_v128 *v, const char *lane_type, int i);

#endif
