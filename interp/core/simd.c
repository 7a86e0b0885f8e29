/* simd.c: numerics and execution of the fixed-width SIMD instructions.
 *
 * Every instruction is one row of simd_ops.def; its body is one of the lane-generic
 * families below (spec 4.3.x "vector instructions" and 4.4.x for memory). A family is
 * written once and instantiated per shape by the table, never copied per instruction.
 *
 * Lane types are named i8 i16 i32 i64 f32 f64; for each, U_/S_/F_ name the unsigned,
 * signed and float lane arrays of cm_v128, N_ the lane count, UT_ the unsigned C type.
 * Integer lane arithmetic is done on values widened to 64 bits and then wrapped back to
 * the lane width (a conversion to an unsigned type, so it is defined for every value).
 */
#include "core/simd.h"

#include <math.h>
#include <string.h>

/* ---- lane shapes ---------------------------------------------------------------- */

#define N_i8 16
#define N_i16 8
#define N_i32 4
#define N_i64 2
#define N_f32 4
#define N_f64 2
#define BITS_i8 8
#define BITS_i16 16
#define BITS_i32 32
#define BITS_i64 64
#define U_i8 u8
#define U_i16 u16
#define U_i32 u32
#define U_i64 u64
#define U_f32 u32
#define U_f64 u64
#define S_i8 s8
#define S_i16 s16
#define S_i32 s32
#define S_i64 s64
#define F_f32 f32
#define F_f64 f64
#define UT_i8 uint8_t
#define UT_i16 uint16_t
#define UT_i32 uint32_t
#define UT_i64 uint64_t
#define UT_f32 uint32_t
#define UT_f64 uint64_t
#define FT_f32 float
#define FT_f64 double
#define SIGN_f32 UINT32_C(0x80000000)
#define SIGN_f64 UINT64_C(0x8000000000000000)
#define CANON_f32 UINT32_C(0x7fc00000)
#define CANON_f64 UINT64_C(0x7ff8000000000000)
#define MATH_f32(fn) fn##f
#define MATH_f64(fn) fn

/* LANES(S, i8) is the s8 array: the interpretation `sel` (U, S or F) of lane type L. */
#define LANES(sel, L) sel##_##L
/* The widened C type used for arithmetic on lanes read as U or S. */
#define WIDE_U uint64_t
#define WIDE_S int64_t
#define WIDE(sel) WIDE_##sel

/* ---- scalar lane helpers (spec 4.3.2 integer operations), on widened values ------ */

static inline int64_t sat_s(int64_t v, int bits) {
  int64_t max = (int64_t)((UINT64_C(1) << (bits - 1)) - 1), min = -max - 1;
  return v < min ? min : v > max ? max : v;
}

static inline int64_t sat_u(int64_t v, int bits) {
  int64_t max = (int64_t)((UINT64_C(1) << bits) - 1);
  return v < 0 ? 0 : v > max ? max : v;
}

/* Arithmetic shift right of a signed value, without relying on >> of negatives. */
static inline int64_t asr(int64_t v, unsigned s) {
  return v < 0 ? ~(int64_t)(~(uint64_t)v >> s) : (int64_t)((uint64_t)v >> s);
}

static inline unsigned popcnt8(uint64_t v) {
  unsigned n = 0;
  for (; v; v &= v - 1) n++;
  return n;
}

/* Binary lane operations: f(x, y, lane bits) on widened lanes, wrapped by the caller. */
#define iadd(x, y, b) ((uint64_t)(x) + (uint64_t)(y))
#define isub(x, y, b) ((uint64_t)(x) - (uint64_t)(y))
#define imul(x, y, b) ((uint64_t)(x) * (uint64_t)(y))
#define iand(x, y, b) ((x) & (y))
#define ior(x, y, b) ((x) | (y))
#define ixor(x, y, b) ((x) ^ (y))
#define iandnot(x, y, b) ((x) & ~(y))
#define imin(x, y, b) ((x) < (y) ? (x) : (y))
#define imax(x, y, b) ((x) > (y) ? (x) : (y))
#define iavgr_u(x, y, b) (((uint64_t)(x) + (uint64_t)(y) + 1) >> 1)
#define iadd_sat_s(x, y, b) sat_s((int64_t)(x) + (int64_t)(y), b)
#define isub_sat_s(x, y, b) sat_s((int64_t)(x) - (int64_t)(y), b)
#define iadd_sat_u(x, y, b) sat_u((int64_t)(x) + (int64_t)(y), b)
#define isub_sat_u(x, y, b) sat_u((int64_t)(x) - (int64_t)(y), b)
#define iq15mulr_sat_s(x, y, b) sat_s(asr((int64_t)(x) * (int64_t)(y) + 0x4000, 15), b)

/* Unary lane operations. */
#define inot(x, b) (~(x))
#define ineg(x, b) (UINT64_C(0) - (uint64_t)(x))
#define iabs(x, b) ((x) < 0 ? UINT64_C(0) - (uint64_t)(x) : (uint64_t)(x))
#define ipopcnt(x, b) popcnt8(x)

/* Shifts: the count is taken modulo the lane width (spec: ishl(i, k) uses k mod N). */
#define ishl(x, s, b) ((uint64_t)(x) << (s))
#define ishr_u(x, s, b) ((uint64_t)(x) >> (s))
#define ishr_s(x, s, b) asr((int64_t)(x), s)

/* ---- float lane helpers (spec 4.3.3), NaN results made canonical ------------------ */

/* Every float operation that can produce a NaN returns the positive canonical NaN. The
 * spec allows nans{z*}: canonical when every NaN input is canonical, otherwise any
 * arithmetic NaN; the canonical NaN is both, so this is always a permitted result.
 * The spec's fadd, fmin, fabs ... get a v prefix here: their plain names are C's <math.h>. */
#define vfadd(x, y) ((x) + (y))
#define vfsub(x, y) ((x) - (y))
#define vfmul(x, y) ((x) * (y))
#define vfdiv(x, y) ((x) / (y))
/* vfmin/vfmax: NaN if either operand is NaN; -0 is below +0. */
#define vfmin(x, y) (isnan(x) || isnan(y) ? (x) + (y) \
                    : (x) == (y) ? (signbit(x) ? (x) : (y)) : (x) < (y) ? (x) : (y))
#define vfmax(x, y) (isnan(x) || isnan(y) ? (x) + (y) \
                    : (x) == (y) ? (signbit(x) ? (y) : (x)) : (x) > (y) ? (x) : (y))
/* abs and neg act on the sign bit only (a NaN keeps its payload). */
#define vfabs(bits, L) ((bits) & ~SIGN_##L)
#define vfneg(bits, L) ((bits) ^ SIGN_##L)

/* Store float v into lane i of r, replacing any NaN by the canonical NaN. */
#define PUT_FLOAT(r, L, i, v)                                   \
  do {                                                          \
    FT_##L put_ = (v);                                          \
    if (isnan(put_)) (r)->U_##L[i] = CANON_##L;                 \
    else (r)->F_##L[i] = put_;                                  \
  } while (0)

/* trunc_sat to 32 bits (spec 4.3.3 trunc_sat_u / trunc_sat_s); f32 widens to double
 * exactly, so one helper serves both source widths. */
static inline uint32_t trunc_sat_s(double x) {
  if (isnan(x)) return 0;
  if (x <= -2147483649.0) return UINT32_C(0x80000000);
  if (x >= 2147483648.0) return UINT32_C(0x7fffffff);
  return (uint32_t)(int32_t)x;
}

static inline uint32_t trunc_sat_u(double x) {
  if (isnan(x) || x <= -1.0) return 0;
  if (x >= 4294967296.0) return UINT32_C(0xffffffff);
  return (uint32_t)x;
}

/* ---- instruction families: bodies with io, imm, mem in scope ------------------------ */

#define LANE_IMM (imm[0])

#define UNARY(L, sel, f)                                                    \
  cm_v128 a = io[0];                                                        \
  for (int i = 0; i < N_##L; i++)                                           \
    io[0].U_##L[i] = (UT_##L)f(a.LANES(sel, L)[i], BITS_##L);

#define BINARY(L, sel, f)                                                   \
  cm_v128 a = io[0], b = io[1];                                             \
  for (int i = 0; i < N_##L; i++)                                           \
    io[0].U_##L[i] = (UT_##L)f(a.LANES(sel, L)[i], b.LANES(sel, L)[i], BITS_##L);

#define COMPARE(L, sel, op)                                                 \
  cm_v128 a = io[0], b = io[1];                                             \
  for (int i = 0; i < N_##L; i++)                                           \
    io[0].U_##L[i] = (a.LANES(sel, L)[i] op b.LANES(sel, L)[i]) ? (UT_##L)~(UT_##L)0 : 0;

#define SHIFT(L, sel, f)                                                    \
  cm_v128 a = io[0];                                                        \
  unsigned s = io[1].u32[0] % BITS_##L;                                     \
  for (int i = 0; i < N_##L; i++)                                           \
    io[0].U_##L[i] = (UT_##L)f(a.LANES(sel, L)[i], s, BITS_##L);

#define FUNARY(L, fn)                                                       \
  cm_v128 a = io[0];                                                        \
  for (int i = 0; i < N_##L; i++) PUT_FLOAT(&io[0], L, i, MATH_##L(fn)(a.F_##L[i]));

#define FBINARY(L, f)                                                       \
  cm_v128 a = io[0], b = io[1];                                             \
  for (int i = 0; i < N_##L; i++) PUT_FLOAT(&io[0], L, i, f(a.F_##L[i], b.F_##L[i]));

#define FSIGN(L, f)                                                         \
  for (int i = 0; i < N_##L; i++) io[0].U_##L[i] = f(io[0].U_##L[i], L);

/* pmin(z1, z2) = z2 < z1 ? z2 : z1, pmax with >: the chosen operand's bits, unchanged. */
#define FPSELECT(L, op)                                                     \
  cm_v128 a = io[0], b = io[1];                                             \
  for (int i = 0; i < N_##L; i++)                                           \
    io[0].U_##L[i] = (b.F_##L[i] op a.F_##L[i]) ? b.U_##L[i] : a.U_##L[i];

#define BITSELECT()                                                         \
  for (int i = 0; i < 2; i++)                                               \
    io[0].u64[i] = (io[0].u64[i] & io[2].u64[i]) | (io[1].u64[i] & ~io[2].u64[i]);

#define SCALAR_I32(v)                                                       \
  uint32_t r_ = (v);                                                        \
  io[0] = (cm_v128){{0}};                                                   \
  io[0].u32[0] = r_;

#define ANY_TRUE() SCALAR_I32((io[0].u64[0] | io[0].u64[1]) != 0)

#define ALL_TRUE(L)                                                         \
  uint32_t all = 1;                                                         \
  for (int i = 0; i < N_##L; i++) all &= io[0].U_##L[i] != 0;               \
  SCALAR_I32(all)

#define BITMASK(L)                                                          \
  uint32_t mask = 0;                                                        \
  for (int i = 0; i < N_##L; i++) mask |= (uint32_t)(io[0].S_##L[i] < 0) << i; \
  SCALAR_I32(mask)

/* narrow: lanes of a then lanes of b, each saturated to the half-width lane type. */
#define NARROW(D, L, sat)                                                   \
  cm_v128 a = io[0], b = io[1];                                             \
  for (int i = 0; i < N_##L; i++) {                                         \
    io[0].U_##D[i] = (UT_##D)sat(a.S_##L[i], BITS_##D);                     \
    io[0].U_##D[i + N_##L] = (UT_##D)sat(b.S_##L[i], BITS_##D);             \
  }

/* extend_low / extend_high: half 0 or 1 of the narrower lanes, widened. */
#define EXTEND(D, L, sel, half)                                             \
  cm_v128 a = io[0];                                                        \
  for (int i = 0; i < N_##D; i++)                                           \
    io[0].U_##D[i] = (UT_##D)(WIDE(sel))a.LANES(sel, L)[i + (half) * N_##D];

#define EXTMUL(D, L, sel, half)                                             \
  cm_v128 a = io[0], b = io[1];                                             \
  for (int i = 0; i < N_##D; i++)                                           \
    io[0].U_##D[i] = (UT_##D)((WIDE(sel))a.LANES(sel, L)[i + (half) * N_##D] \
                              * (WIDE(sel))b.LANES(sel, L)[i + (half) * N_##D]);

#define EXTADD_PAIRWISE(D, L, sel)                                          \
  cm_v128 a = io[0];                                                        \
  for (int i = 0; i < N_##D; i++)                                           \
    io[0].U_##D[i] = (UT_##D)((WIDE(sel))a.LANES(sel, L)[2 * i]             \
                              + (WIDE(sel))a.LANES(sel, L)[2 * i + 1]);

#define DOT()                                                               \
  cm_v128 a = io[0], b = io[1];                                             \
  for (int i = 0; i < 4; i++)                                               \
    io[0].u32[i] = (uint32_t)((int64_t)a.s16[2 * i] * b.s16[2 * i]          \
                              + (int64_t)a.s16[2 * i + 1] * b.s16[2 * i + 1]);

/* Conversions. Source lanes beyond the result's lane count are ignored; result lanes
 * beyond the source's count (the _zero variants) are zero. */
#define TRUNC_SAT(L, n, f)                                                  \
  cm_v128 a = io[0];                                                        \
  io[0] = (cm_v128){{0}};                                                   \
  for (int i = 0; i < (n); i++) io[0].u32[i] = f(a.F_##L[i]);

#define CONVERT(D, T, n, sel)                                               \
  cm_v128 a = io[0];                                                        \
  for (int i = 0; i < (n); i++) io[0].F_##D[i] = (T)a.LANES(sel, i32)[i];

#define DEMOTE()                                                            \
  cm_v128 a = io[0];                                                        \
  io[0] = (cm_v128){{0}};                                                   \
  for (int i = 0; i < 2; i++) PUT_FLOAT(&io[0], f32, i, (float)a.f64[i]);

#define PROMOTE()                                                           \
  cm_v128 a = io[0];                                                        \
  for (int i = 0; i < 2; i++) PUT_FLOAT(&io[0], f64, i, (double)a.f32[i]);

/* Lane moves. Splat and replace copy bits, so float NaN payloads survive. */
#define CONST() memcpy(&io[0], imm, 16);

#define SPLAT(L, src)                                                       \
  UT_##L x = (UT_##L)io[0].src[0];                                          \
  for (int i = 0; i < N_##L; i++) io[0].U_##L[i] = x;

#define EXTRACT(L, sel, dst, T)                                             \
  T x = (T)(WIDE(sel))io[0].LANES(sel, L)[LANE_IMM];                        \
  io[0] = (cm_v128){{0}};                                                   \
  io[0].dst[0] = x;

#define REPLACE(L, src) io[0].U_##L[LANE_IMM] = (UT_##L)io[1].src[0];

#define SWIZZLE()                                                           \
  cm_v128 a = io[0], s = io[1];                                             \
  for (int i = 0; i < 16; i++) io[0].u8[i] = s.u8[i] < 16 ? a.u8[s.u8[i]] : 0;

#define SHUFFLE()                                                           \
  cm_v128 a = io[0], b = io[1];                                             \
  for (int i = 0; i < 16; i++) io[0].u8[i] = imm[i] < 16 ? a.u8[imm[i]] : b.u8[imm[i] & 15];

/* Memory (spec 4.4.7): mem is the bounds-checked effective address. Wasm memory and the
 * host are both little-endian, so lane bytes are copied as they are. */
#define LOAD_FULL() memcpy(&io[0], mem, 16);

#define LOAD_EXTEND(D, L, sel)                                              \
  cm_v128 t;                                                                \
  memcpy(&t, mem, 8);                                                       \
  for (int i = 0; i < N_##D; i++) io[0].U_##D[i] = (UT_##D)(WIDE(sel))t.LANES(sel, L)[i];

#define LOAD_SPLAT(L)                                                       \
  UT_##L x;                                                                 \
  memcpy(&x, mem, sizeof x);                                                \
  for (int i = 0; i < N_##L; i++) io[0].U_##L[i] = x;

#define LOAD_ZERO(L)                                                        \
  io[0] = (cm_v128){{0}};                                                   \
  memcpy(&io[0].U_##L[0], mem, sizeof(UT_##L));

#define LOAD_LANE(L)                                                        \
  io[0] = io[1];                                                            \
  memcpy(&io[0].U_##L[LANE_IMM], mem, sizeof(UT_##L));

#define STORE_FULL() memcpy(mem, &io[1], 16);

#define STORE_LANE(L) memcpy(mem, &io[1].U_##L[LANE_IMM], sizeof(UT_##L));

/* ---- signatures -------------------------------------------------------------------- */

#define T_V CM_SIMD_T_V128
#define T_I CM_SIMD_T_I32
#define T_L CM_SIMD_T_I64
#define T_F CM_SIMD_T_F32
#define T_D CM_SIMD_T_F64
/* signature -> nparams, result (0: none), {params} */
#define SIG_V_V 1, T_V, {T_V}
#define SIG_VV_V 2, T_V, {T_V, T_V}
#define SIG_VVV_V 3, T_V, {T_V, T_V, T_V}
#define SIG_V_I 1, T_I, {T_V}
#define SIG_V_L 1, T_L, {T_V}
#define SIG_V_F 1, T_F, {T_V}
#define SIG_V_D 1, T_D, {T_V}
#define SIG_I_V 1, T_V, {T_I}
#define SIG_L_V 1, T_V, {T_L}
#define SIG_F_V 1, T_V, {T_F}
#define SIG_D_V 1, T_V, {T_D}
#define SIG_VI_V 2, T_V, {T_V, T_I}
#define SIG_VL_V 2, T_V, {T_V, T_L}
#define SIG_VF_V 2, T_V, {T_V, T_F}
#define SIG_VD_V 2, T_V, {T_V, T_D}
#define SIG_IV_V 2, T_V, {T_I, T_V}
#define SIG_IV_ 2, 0, {T_I, T_V}
#define SIG__V 0, T_V, {0}

#define FIRST(a, ...) a
#define SECOND(a, b, ...) b
#define NPARAMS(sig) NPARAMS_(SIG_##sig)
#define NPARAMS_(...) FIRST(__VA_ARGS__)
#define RESULT(sig) RESULT_(SIG_##sig)
#define RESULT_(...) SECOND(__VA_ARGS__)

/* ---- one function per instruction -------------------------------------------------- */

/* Operands are copied out of the caller's slots and the result back, so the families work
 * on a local cm_v128 array whatever the caller's slot type is (no aliasing assumptions). */
#define X(code, id, name, immk, sig, n, impl)                                \
  static void simd_##id(void *slots, const uint8_t *imm, uint8_t *mem) {    \
    cm_v128 io[3];                                                          \
    (void)imm; (void)mem;                                                   \
    memcpy(io, slots, NPARAMS(sig) * sizeof(cm_v128));                      \
    { impl }                                                                \
    if (RESULT(sig)) memcpy(slots, io, sizeof(cm_v128));                    \
  }
#include "core/simd_ops.def"
#undef X

/* ---- the table --------------------------------------------------------------------- */

#define X(code, id, nm, immk, sig, n, impl)                                  \
  [code] = {nm, CM_SIMD_IMM_##immk, n, SIG_##sig, simd_##id},

const cm_simd_op cm_simd_ops[256] = {
#include "core/simd_ops.def"
};
#undef X

const cm_simd_op *cm_simd_lookup(uint32_t op) {
  if (op >= 256 || cm_simd_ops[op].name == NULL) return NULL;
  return &cm_simd_ops[op];
}

int cm_simd_is_memory(const cm_simd_op *o) {
  return o->imm == CM_SIMD_IMM_MEMARG || o->imm == CM_SIMD_IMM_MEMARG_LANE;
}

uint32_t cm_simd_max_align(const cm_simd_op *o) {
  uint32_t a = 0;
  while ((1u << (a + 1)) <= o->n) a++;
  return a;
}

uint32_t cm_simd_lane_bound(const cm_simd_op *o) {
  return o->imm == CM_SIMD_IMM_MEMARG_LANE ? 16u / o->n : o->n;
}

const char *cm_simd_check_imm(const cm_simd_op *o, uint32_t align, uint8_t lane,
                              const uint8_t lanes[16]) {
  switch ((cm_simd_imm)o->imm) {
  case CM_SIMD_IMM_MEMARG_LANE:
    if (align > cm_simd_max_align(o)) return "alignment must not be larger than natural";
    return lane >= cm_simd_lane_bound(o) ? "invalid lane index" : NULL;
  case CM_SIMD_IMM_MEMARG:
    return align > cm_simd_max_align(o) ? "alignment must not be larger than natural" : NULL;
  case CM_SIMD_IMM_LANE:
    return lane >= cm_simd_lane_bound(o) ? "invalid lane index" : NULL;
  case CM_SIMD_IMM_SHUFFLE:
    for (int i = 0; i < 16; i++)
      if (lanes[i] >= 32) return "invalid lane index";
    return NULL;
  case CM_SIMD_IMM_NONE:
  case CM_SIMD_IMM_V128:
    return NULL;
  }
  return NULL;
}

/* ---- lanes in the json-from-wast value schema -------------------------------------- */

static int lane_bytes(const char *lane_type) {
  static const struct { const char *name; int bytes; } types[] = {
    {"i8", 1}, {"i16", 2}, {"i32", 4}, {"i64", 8}, {"f32", 4}, {"f64", 8},
  };
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
    if (strcmp(lane_type, types[i].name) == 0) return types[i].bytes;
  return 0;
}

int cm_simd_lane_count(const char *lane_type) {
  int b = lane_bytes(lane_type);
  return b ? 16 / b : 0;
}

void cm_v128_set_lane(cm_v128 *v, const char *lane_type, int i, uint64_t bits) {
  int b = lane_bytes(lane_type);
  memcpy(&v->u8[i * b], &bits, (size_t)b);
}

uint64_t cm_v128_get_lane(const cm_v128 *v, const char *lane_type, int i) {
  int b = lane_bytes(lane_type);
  uint64_t bits = 0;
  memcpy(&bits, &v->u8[i * b], (size_t)b);
  return bits;
}
