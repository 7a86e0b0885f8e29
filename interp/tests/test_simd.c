/* Unit tests of the SIMD table and numerics (interp/core/simd.c): the lanes where an
 * implementation most easily goes wrong. Exits non-zero on the first report of failures. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/simd.h"

typedef struct t_ctx {
  int checks, fails;
} t_ctx;

#define CHECK(t, cond)                                                             \
  do {                                                                             \
    (t)->checks++;                                                                 \
    if (!(cond)) {                                                                 \
      (t)->fails++;                                                                \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);     \
    }                                                                              \
  } while (0)

#define CHECK_EQ(t, got, want)                                                     \
  do {                                                                             \
    unsigned long long g_ = (unsigned long long)(got), w_ = (unsigned long long)(want); \
    (t)->checks++;                                                                 \
    if (g_ != w_) {                                                                \
      (t)->fails++;                                                                \
      fprintf(stderr, "%s:%d: %s = 0x%llx, want 0x%llx\n", __FILE__, __LINE__, #got, g_, w_); \
    }                                                                              \
  } while (0)

/* Run opcode op on slots (operands bottom first); returns slot 0 (the result). */
static cm_v128 run(uint32_t op, cm_v128 a, cm_v128 b, cm_v128 c, const uint8_t *imm, uint8_t *mem) {
  cm_v128 slots[3] = {a, b, c};
  cm_simd_exec(op, slots, imm, mem);
  return slots[0];
}

static cm_v128 run2(uint32_t op, cm_v128 a, cm_v128 b) {
  cm_v128 z = {{0}};
  return run(op, a, b, z, NULL, NULL);
}

static cm_v128 run1(uint32_t op, cm_v128 a) {
  cm_v128 z = {{0}};
  return run(op, a, z, z, NULL, NULL);
}

static cm_v128 i8s(int v) { cm_v128 r; for (int i = 0; i < 16; i++) r.u8[i] = (uint8_t)v; return r; }
static cm_v128 i16s(int v) { cm_v128 r; for (int i = 0; i < 8; i++) r.u16[i] = (uint16_t)v; return r; }
static cm_v128 i32s(uint32_t v) { cm_v128 r; for (int i = 0; i < 4; i++) r.u32[i] = v; return r; }
static cm_v128 i64s(uint64_t v) { cm_v128 r = {.u64 = {v, v}}; return r; }
static cm_v128 f32s(float v) { cm_v128 r; for (int i = 0; i < 4; i++) r.f32[i] = v; return r; }
static cm_v128 f64s(double v) { cm_v128 r = {.f64 = {v, v}}; return r; }
static cm_v128 f32bits(uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
  cm_v128 r = {.u32 = {a, b, c, d}};
  return r;
}
static cm_v128 scalar32(uint32_t v) { cm_v128 r = {{0}}; r.u32[0] = v; return r; }

static int is_canonical32(uint32_t b) { return (b & 0x7fffffffu) == 0x7fc00000u; }
static int is_arithmetic32(uint32_t b) { return (b & 0x7fc00000u) == 0x7fc00000u; }
static int is_canonical64(uint64_t b) { return (b & ~(1ull << 63)) == 0x7ff8000000000000ull; }

static void test_table(t_ctx *t) {
  int n = 0, well_formed = 1;
  for (uint32_t op = 0; op < 256; op++) {
    const cm_simd_op *o = cm_simd_lookup(op);
    if (!o) continue;
    n++;
    well_formed &= o->fn != NULL && o->nparams <= 3;
    for (uint32_t q = 0; q < op; q++)
      if (cm_simd_lookup(q)) well_formed &= strcmp(cm_simd_lookup(q)->name, o->name) != 0;
  }
  CHECK(t, well_formed); /* every entry has a function, names are unique */
  CHECK_EQ(t, n, 236);
  CHECK(t, cm_simd_lookup(0x9a) == NULL);
  CHECK(t, cm_simd_lookup(0x100) == NULL);
  CHECK(t, cm_simd_lookup(0xffffffffu) == NULL);
  CHECK(t, strcmp(cm_simd_lookup(CM_SIMD_i8x16_add)->name, "i8x16.add") == 0);
  CHECK_EQ(t, CM_SIMD_f64x2_convert_low_i32x4_u, 0xff);
  CHECK_EQ(t, cm_simd_max_align(cm_simd_lookup(CM_SIMD_v128_load)), 4);
  CHECK_EQ(t, cm_simd_max_align(cm_simd_lookup(CM_SIMD_v128_load8x8_s)), 3);
  CHECK_EQ(t, cm_simd_max_align(cm_simd_lookup(CM_SIMD_v128_load8_splat)), 0);
  CHECK_EQ(t, cm_simd_max_align(cm_simd_lookup(CM_SIMD_v128_store16_lane)), 1);
  CHECK_EQ(t, cm_simd_lane_bound(cm_simd_lookup(CM_SIMD_v128_load16_lane)), 8);
  CHECK_EQ(t, cm_simd_lane_bound(cm_simd_lookup(CM_SIMD_f64x2_replace_lane)), 2);
  CHECK_EQ(t, cm_simd_lane_bound(cm_simd_lookup(CM_SIMD_i8x16_shuffle)), 32);
  CHECK(t, cm_simd_is_memory(cm_simd_lookup(CM_SIMD_v128_load64_zero)));
  CHECK(t, !cm_simd_is_memory(cm_simd_lookup(CM_SIMD_v128_const)));
  const cm_simd_op *st = cm_simd_lookup(CM_SIMD_v128_store8_lane);
  CHECK(t, st->nparams == 2 && st->params[0] == CM_SIMD_T_I32 && st->params[1] == CM_SIMD_T_V128
           && st->result == 0);
  const cm_simd_op *rl = cm_simd_lookup(CM_SIMD_i64x2_replace_lane);
  CHECK(t, rl->params[1] == CM_SIMD_T_I64 && rl->result == CM_SIMD_T_V128);
  CHECK_EQ(t, cm_simd_lookup(CM_SIMD_v128_bitselect)->nparams, 3);
  CHECK_EQ(t, cm_simd_lookup(CM_SIMD_v128_const)->nparams, 0);
}

static void test_check_imm(t_ctx *t) {
  uint8_t lanes[16] = {0};
  CHECK(t, cm_simd_check_imm(cm_simd_lookup(CM_SIMD_i8x16_extract_lane_s), 0, 15, NULL) == NULL);
  CHECK(t, cm_simd_check_imm(cm_simd_lookup(CM_SIMD_i8x16_extract_lane_s), 0, 16, NULL) != NULL);
  CHECK(t, cm_simd_check_imm(cm_simd_lookup(CM_SIMD_f64x2_replace_lane), 0, 2, NULL) != NULL);
  CHECK(t, cm_simd_check_imm(cm_simd_lookup(CM_SIMD_v128_load64_lane), 3, 1, NULL) == NULL);
  CHECK(t, cm_simd_check_imm(cm_simd_lookup(CM_SIMD_v128_load64_lane), 3, 2, NULL) != NULL);
  CHECK(t, cm_simd_check_imm(cm_simd_lookup(CM_SIMD_v128_load64_lane), 4, 0, NULL) != NULL);
  CHECK(t, cm_simd_check_imm(cm_simd_lookup(CM_SIMD_v128_load), 4, 0, NULL) == NULL);
  CHECK(t, cm_simd_check_imm(cm_simd_lookup(CM_SIMD_v128_load), 5, 0, NULL) != NULL);
  CHECK(t, cm_simd_check_imm(cm_simd_lookup(CM_SIMD_v128_load8_splat), 1, 0, NULL) != NULL);
  CHECK(t, cm_simd_check_imm(cm_simd_lookup(CM_SIMD_i8x16_shuffle), 0, 0, lanes) == NULL);
  lanes[15] = 31;
  CHECK(t, cm_simd_check_imm(cm_simd_lookup(CM_SIMD_i8x16_shuffle), 0, 0, lanes) == NULL);
  lanes[7] = 32;
  CHECK(t, cm_simd_check_imm(cm_simd_lookup(CM_SIMD_i8x16_shuffle), 0, 0, lanes) != NULL);
}

static void test_shifts(t_ctx *t) {
  /* the count is taken modulo the lane width */
  CHECK_EQ(t, run2(CM_SIMD_i8x16_shl, i8s(0x81), scalar32(9)).u8[5], 0x02);
  CHECK_EQ(t, run2(CM_SIMD_i8x16_shr_s, i8s(0x80), scalar32(7)).u8[0], 0xff);
  CHECK_EQ(t, run2(CM_SIMD_i8x16_shr_u, i8s(0x80), scalar32(15)).u8[0], 0x01);
  CHECK_EQ(t, run2(CM_SIMD_i16x8_shr_s, i16s(-32768), scalar32(15)).u16[7], 0xffff);
  CHECK_EQ(t, run2(CM_SIMD_i16x8_shl, i16s(1), scalar32(16)).u16[0], 1);
  CHECK_EQ(t, run2(CM_SIMD_i32x4_shr_s, i32s(0x80000000u), scalar32(0xffffffffu)).u32[0], 0xffffffffu);
  CHECK_EQ(t, run2(CM_SIMD_i64x2_shr_s, i64s(0x8000000000000000ull), scalar32(65)).u64[1],
           0xc000000000000000ull);
  CHECK_EQ(t, run2(CM_SIMD_i64x2_shr_u, i64s(0x8000000000000000ull), scalar32(63)).u64[0], 1);
  CHECK_EQ(t, run2(CM_SIMD_i64x2_shl, i64s(1), scalar32(64)).u64[0], 1);
}

static void test_saturation(t_ctx *t) {
  CHECK_EQ(t, run2(CM_SIMD_i8x16_add_sat_s, i8s(127), i8s(1)).u8[0], 127);
  CHECK_EQ(t, run2(CM_SIMD_i8x16_add_sat_s, i8s(-128), i8s(-1)).u8[0], 0x80);
  CHECK_EQ(t, run2(CM_SIMD_i8x16_add_sat_u, i8s(255), i8s(1)).u8[0], 255);
  CHECK_EQ(t, run2(CM_SIMD_i8x16_sub_sat_u, i8s(0), i8s(1)).u8[0], 0);
  CHECK_EQ(t, run2(CM_SIMD_i8x16_sub_sat_s, i8s(-128), i8s(1)).u8[0], 0x80);
  CHECK_EQ(t, run2(CM_SIMD_i16x8_sub_sat_s, i16s(32767), i16s(-1)).u16[0], 0x7fff);
  CHECK_EQ(t, run2(CM_SIMD_i16x8_add_sat_u, i16s(0xffff), i16s(0xffff)).u16[0], 0xffff);
  CHECK_EQ(t, run2(CM_SIMD_i8x16_add, i8s(255), i8s(2)).u8[0], 1);
  CHECK_EQ(t, run2(CM_SIMD_i16x8_mul, i16s(0xffff), i16s(0xffff)).u16[0], 1);
  CHECK_EQ(t, run2(CM_SIMD_i64x2_mul, i64s(0x8000000000000001ull), i64s(3)).u64[0],
           0x8000000000000003ull);
  /* narrow: a's lanes then b's, saturated */
  cm_v128 n = run2(CM_SIMD_i8x16_narrow_i16x8_s, i16s(300), i16s(-300));
  CHECK_EQ(t, n.u8[0], 127);
  CHECK_EQ(t, n.u8[8], 0x80);
  n = run2(CM_SIMD_i8x16_narrow_i16x8_u, i16s(-5), i16s(300));
  CHECK_EQ(t, n.u8[7], 0);
  CHECK_EQ(t, n.u8[15], 255);
  n = run2(CM_SIMD_i16x8_narrow_i32x4_u, i32s(0x10000), i32s(0xffffffffu));
  CHECK_EQ(t, n.u16[0], 0xffff);
  CHECK_EQ(t, n.u16[4], 0);
  /* q15mulr: (a*b + 0x4000) >> 15, saturated; -1 * -1 in Q15 overflows */
  CHECK_EQ(t, run2(CM_SIMD_i16x8_q15mulr_sat_s, i16s(-32768), i16s(-32768)).u16[0], 0x7fff);
  CHECK_EQ(t, run2(CM_SIMD_i16x8_q15mulr_sat_s, i16s(-1), i16s(16384)).u16[0], 0);
  CHECK_EQ(t, run2(CM_SIMD_i16x8_q15mulr_sat_s, i16s(-3), i16s(16384)).u16[0], 0xffff);
  CHECK_EQ(t, run2(CM_SIMD_i16x8_avgr_u, i16s(0xffff), i16s(0xfffe)).u16[0], 0xffff);
  CHECK_EQ(t, run1(CM_SIMD_i8x16_abs, i8s(-128)).u8[0], 0x80);
  CHECK_EQ(t, run1(CM_SIMD_i64x2_abs, i64s(0x8000000000000000ull)).u64[0], 0x8000000000000000ull);
  CHECK_EQ(t, run1(CM_SIMD_i32x4_neg, i32s(1)).u32[0], 0xffffffffu);
  CHECK_EQ(t, run1(CM_SIMD_i8x16_popcnt, i8s(0xf7)).u8[3], 7);
  CHECK_EQ(t, run2(CM_SIMD_i8x16_min_s, i8s(-1), i8s(1)).u8[0], 0xff);
  CHECK_EQ(t, run2(CM_SIMD_i8x16_min_u, i8s(-1), i8s(1)).u8[0], 1);
  CHECK_EQ(t, run2(CM_SIMD_i32x4_max_u, i32s(0x80000000u), i32s(1)).u32[0], 0x80000000u);
}

static void test_compare_and_bits(t_ctx *t) {
  CHECK_EQ(t, run2(CM_SIMD_i8x16_lt_s, i8s(-1), i8s(0)).u8[0], 0xff);
  CHECK_EQ(t, run2(CM_SIMD_i8x16_lt_u, i8s(-1), i8s(0)).u8[0], 0);
  CHECK_EQ(t, run2(CM_SIMD_i64x2_ge_s, i64s(0), i64s((uint64_t)-1)).u64[0], ~0ull);
  CHECK_EQ(t, run2(CM_SIMD_f32x4_ne, f32s(NAN), f32s(NAN)).u32[0], 0xffffffffu);
  CHECK_EQ(t, run2(CM_SIMD_f32x4_eq, f32s(NAN), f32s(NAN)).u32[0], 0);
  CHECK_EQ(t, run2(CM_SIMD_f64x2_eq, f64s(-0.0), f64s(0.0)).u64[1], ~0ull);
  cm_v128 m = {.u8 = {0x80, 0, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x81}};
  CHECK_EQ(t, run1(CM_SIMD_i8x16_bitmask, m).u32[0], 0x8005);
  CHECK_EQ(t, run1(CM_SIMD_i8x16_bitmask, m).u32[1], 0); /* an i32 result clears the slot */
  CHECK_EQ(t, run1(CM_SIMD_i8x16_all_true, m).u32[0], 0);
  CHECK_EQ(t, run1(CM_SIMD_i8x16_all_true, i8s(1)).u32[0], 1);
  CHECK_EQ(t, run1(CM_SIMD_i16x8_all_true, i8s(1)).u32[0], 1);
  CHECK_EQ(t, run1(CM_SIMD_i64x2_all_true, (cm_v128){.u64 = {1, 0}}).u32[0], 0);
  CHECK_EQ(t, run1(CM_SIMD_v128_any_true, (cm_v128){.u64 = {0, 1ull << 63}}).u32[0], 1);
  CHECK_EQ(t, run1(CM_SIMD_v128_any_true, i8s(0)).u32[0], 0);
  CHECK_EQ(t, run1(CM_SIMD_i64x2_bitmask, (cm_v128){.u64 = {0, 1ull << 63}}).u32[0], 2);
  cm_v128 sel = run(CM_SIMD_v128_bitselect, i8s(0xaa), i8s(0x55), i8s(0x0f), NULL, NULL);
  CHECK_EQ(t, sel.u8[9], 0x5a);
  CHECK_EQ(t, run2(CM_SIMD_v128_andnot, i8s(0xff), i8s(0x0f)).u8[0], 0xf0);
}

static void test_float_nan_rules(t_ctx *t) {
  const uint32_t snan = 0x7fa00001u, qnan_payload = 0xffc12345u;
  /* arithmetic on NaN: canonical NaN is allowed whatever the inputs */
  cm_v128 r = run2(CM_SIMD_f32x4_add, f32bits(snan, qnan_payload, 0x7f800000u, 0),
                   f32bits(0x3f800000u, 0, 0xff800000u, 0));
  CHECK(t, is_arithmetic32(r.u32[0]) && is_canonical32(r.u32[0]));
  CHECK(t, is_arithmetic32(r.u32[1]));
  CHECK(t, is_canonical32(r.u32[2])); /* inf + -inf */
  r = run1(CM_SIMD_f32x4_sqrt, f32s(-1.0f));
  CHECK(t, is_canonical32(r.u32[0]));
  /* min/max: NaN wins, -0 < +0 */
  r = run2(CM_SIMD_f32x4_min, f32bits(0x80000000u, 0, snan, 0x3f800000u),
           f32bits(0, 0x80000000u, 0x3f800000u, snan));
  CHECK_EQ(t, r.u32[0], 0x80000000u);
  CHECK_EQ(t, r.u32[1], 0x80000000u);
  CHECK(t, is_arithmetic32(r.u32[2]) && is_arithmetic32(r.u32[3]));
  r = run2(CM_SIMD_f32x4_max, f32bits(0x80000000u, 0, 0, 0), f32bits(0, 0x80000000u, 0, 0));
  CHECK_EQ(t, r.u32[0], 0);
  CHECK_EQ(t, r.u32[1], 0);
  cm_v128 d = run2(CM_SIMD_f64x2_min, f64s(-0.0), f64s(0.0));
  CHECK_EQ(t, d.u64[0], 0x8000000000000000ull);
  /* pmin/pmax return an operand's bits unchanged: pmin(a, b) = b < a ? b : a */
  r = run2(CM_SIMD_f32x4_pmin, f32bits(snan, 0x3f800000u, 0x80000000u, 0),
           f32bits(0x3f800000u, snan, 0, 0x80000000u));
  CHECK_EQ(t, r.u32[0], snan);
  CHECK_EQ(t, r.u32[1], 0x3f800000u);
  CHECK_EQ(t, r.u32[2], 0x80000000u);
  CHECK_EQ(t, r.u32[3], 0);
  r = run2(CM_SIMD_f32x4_pmax, f32bits(0x3f800000u, 0, 0, 0), f32bits(0x40000000u, 0, 0, 0));
  CHECK_EQ(t, r.u32[0], 0x40000000u);
  /* abs / neg touch the sign bit only */
  r = run1(CM_SIMD_f32x4_abs, f32bits(0xffa00001u, 0x80000000u, 0, 0));
  CHECK_EQ(t, r.u32[0], 0x7fa00001u);
  CHECK_EQ(t, r.u32[1], 0);
  r = run1(CM_SIMD_f32x4_neg, f32bits(snan, 0, 0, 0));
  CHECK_EQ(t, r.u32[0], 0xffa00001u);
  d = run1(CM_SIMD_f64x2_neg, (cm_v128){.u64 = {0x7ff0000000000001ull, 0}});
  CHECK_EQ(t, d.u64[0], 0xfff0000000000001ull);
  CHECK_EQ(t, d.u64[1], 0x8000000000000000ull);
  /* demote / promote */
  cm_v128 dm = run1(CM_SIMD_f32x4_demote_f64x2_zero, (cm_v128){.f64 = {1e300, NAN}});
  CHECK_EQ(t, dm.u32[0], 0x7f800000u);
  CHECK(t, is_canonical32(dm.u32[1]));
  CHECK_EQ(t, dm.u32[2], 0);
  CHECK_EQ(t, dm.u32[3], 0);
  dm = run1(CM_SIMD_f32x4_demote_f64x2_zero, (cm_v128){.u64 = {0x3ff0000010000000ull, 0}});
  CHECK_EQ(t, dm.u32[0], 0x3f800000u); /* ties to even */
  cm_v128 pr = run1(CM_SIMD_f64x2_promote_low_f32x4, f32bits(snan, 0x3f800000u, 7, 7));
  CHECK(t, is_canonical64(pr.u64[0]));
  CHECK_EQ(t, pr.u64[1], 0x3ff0000000000000ull);
  /* splat and lane moves keep NaN payloads */
  cm_v128 sp = run1(CM_SIMD_f32x4_splat, scalar32(snan));
  CHECK_EQ(t, sp.u32[3], snan);
}

static void test_rounding(t_ctx *t) {
  cm_v128 r = run1(CM_SIMD_f32x4_nearest, (cm_v128){.f32 = {0.5f, 1.5f, 2.5f, -0.5f}});
  CHECK(t, r.f32[0] == 0.0f && !signbit(r.f32[0]));
  CHECK(t, r.f32[1] == 2.0f);
  CHECK(t, r.f32[2] == 2.0f);
  CHECK(t, r.f32[3] == 0.0f && signbit(r.f32[3]));
  cm_v128 d = run1(CM_SIMD_f64x2_nearest, (cm_v128){.f64 = {-2.5, 4503599627370497.0}});
  CHECK(t, d.f64[0] == -2.0);
  CHECK(t, d.f64[1] == 4503599627370497.0);
  r = run1(CM_SIMD_f32x4_ceil, (cm_v128){.f32 = {-0.5f, 0.5f, -1.5f, 8388607.5f}});
  CHECK(t, r.f32[0] == 0.0f && signbit(r.f32[0]));
  CHECK(t, r.f32[1] == 1.0f && r.f32[2] == -1.0f && r.f32[3] == 8388608.0f);
  r = run1(CM_SIMD_f32x4_floor, (cm_v128){.f32 = {-0.5f, 0.5f, -0.0f, 1.0f}});
  CHECK(t, r.f32[0] == -1.0f && r.f32[1] == 0.0f && signbit(r.f32[2]) && r.f32[3] == 1.0f);
  d = run1(CM_SIMD_f64x2_trunc, (cm_v128){.f64 = {-1.9, 1.9}});
  CHECK(t, d.f64[0] == -1.0 && d.f64[1] == 1.0);
  r = run1(CM_SIMD_f32x4_trunc, f32bits(0x7fa00001u, 0, 0, 0));
  CHECK(t, is_canonical32(r.u32[0]));
}

static void test_conversions(t_ctx *t) {
  cm_v128 r = run1(CM_SIMD_i32x4_trunc_sat_f32x4_s,
                   (cm_v128){.f32 = {2147483648.0f, -2147483648.0f, NAN, -2147483904.0f}});
  CHECK_EQ(t, r.u32[0], 0x7fffffffu);
  CHECK_EQ(t, r.u32[1], 0x80000000u);
  CHECK_EQ(t, r.u32[2], 0);
  CHECK_EQ(t, r.u32[3], 0x80000000u);
  r = run1(CM_SIMD_i32x4_trunc_sat_f32x4_u, (cm_v128){.f32 = {-1.5f, -0.5f, 4294967296.0f, 4294967040.0f}});
  CHECK_EQ(t, r.u32[0], 0);
  CHECK_EQ(t, r.u32[1], 0);
  CHECK_EQ(t, r.u32[2], 0xffffffffu);
  CHECK_EQ(t, r.u32[3], 4294967040u);
  r = run1(CM_SIMD_i32x4_trunc_sat_f64x2_s_zero, (cm_v128){.f64 = {-2147483648.9, 2147483647.9}});
  CHECK_EQ(t, r.u32[0], 0x80000000u);
  CHECK_EQ(t, r.u32[1], 0x7fffffffu);
  CHECK_EQ(t, r.u32[2], 0);
  CHECK_EQ(t, r.u32[3], 0);
  r = run1(CM_SIMD_i32x4_trunc_sat_f64x2_u_zero, (cm_v128){.f64 = {4294967295.9, -INFINITY}});
  CHECK_EQ(t, r.u32[0], 0xffffffffu);
  CHECK_EQ(t, r.u32[1], 0);
  r = run1(CM_SIMD_f32x4_convert_i32x4_u, i32s(0xffffffffu));
  CHECK(t, r.f32[0] == 4294967296.0f);
  r = run1(CM_SIMD_f32x4_convert_i32x4_s, i32s(0x80000000u));
  CHECK(t, r.f32[0] == -2147483648.0f);
  r = run1(CM_SIMD_f32x4_convert_i32x4_u, i32s(16777217u));
  CHECK(t, r.f32[0] == 16777216.0f);
  cm_v128 d = run1(CM_SIMD_f64x2_convert_low_i32x4_s, (cm_v128){.u32 = {0xffffffffu, 5, 9, 9}});
  CHECK(t, d.f64[0] == -1.0 && d.f64[1] == 5.0);
  d = run1(CM_SIMD_f64x2_convert_low_i32x4_u, (cm_v128){.u32 = {0xffffffffu, 5, 9, 9}});
  CHECK(t, d.f64[0] == 4294967295.0);
}

static void test_widening(t_ctx *t) {
  cm_v128 a = {.s8 = {-1, 2, -3, 4, 5, 6, 7, 8, -9, 10, 11, 12, 13, 14, 15, -128}};
  cm_v128 r = run1(CM_SIMD_i16x8_extend_high_i8x16_s, a);
  CHECK_EQ(t, r.u16[0], 0xfff7);
  CHECK_EQ(t, r.u16[7], 0xff80);
  r = run1(CM_SIMD_i16x8_extend_low_i8x16_u, a);
  CHECK_EQ(t, r.u16[0], 0xff);
  r = run1(CM_SIMD_i16x8_extadd_pairwise_i8x16_s, a);
  CHECK_EQ(t, r.u16[0], 1);
  CHECK_EQ(t, r.u16[7], (uint16_t)(15 - 128));
  r = run1(CM_SIMD_i16x8_extadd_pairwise_i8x16_u, i8s(255));
  CHECK_EQ(t, r.u16[3], 510);
  r = run1(CM_SIMD_i32x4_extadd_pairwise_i16x8_s, i16s(-32768));
  CHECK_EQ(t, r.u32[0], (uint32_t)-65536);
  r = run2(CM_SIMD_i64x2_extmul_high_i32x4_u, i32s(0xffffffffu), i32s(0xffffffffu));
  CHECK_EQ(t, r.u64[1], 0xfffffffe00000001ull);
  r = run2(CM_SIMD_i64x2_extmul_low_i32x4_s, i32s(0x80000000u), i32s(0x80000000u));
  CHECK_EQ(t, r.u64[0], 0x4000000000000000ull);
  r = run2(CM_SIMD_i16x8_extmul_low_i8x16_s, i8s(-128), i8s(-128));
  CHECK_EQ(t, r.u16[0], 0x4000);
  r = run2(CM_SIMD_i32x4_dot_i16x8_s, i16s(-32768), i16s(-32768));
  CHECK_EQ(t, r.u32[0], 0x80000000u); /* 2 * 2^30 wraps */
  r = run1(CM_SIMD_i64x2_extend_high_i32x4_s, (cm_v128){.u32 = {0, 0, 0x80000000u, 1}});
  CHECK_EQ(t, r.u64[0], 0xffffffff80000000ull);
  CHECK_EQ(t, r.u64[1], 1);
}

static void test_lanes(t_ctx *t) {
  cm_v128 a = {.u8 = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0x80}};
  uint8_t lane = 15;
  cm_v128 z = {{0}};
  cm_v128 r = run(CM_SIMD_i8x16_extract_lane_s, a, z, z, &lane, NULL);
  CHECK_EQ(t, r.u32[0], 0xffffff80u);
  CHECK_EQ(t, r.u32[1], 0);
  r = run(CM_SIMD_i8x16_extract_lane_u, a, z, z, &lane, NULL);
  CHECK_EQ(t, r.u32[0], 0x80);
  lane = 1;
  r = run(CM_SIMD_i64x2_replace_lane, a, (cm_v128){.u64 = {0x1122334455667788ull, 0}}, z, &lane, NULL);
  CHECK_EQ(t, r.u64[1], 0x1122334455667788ull);
  CHECK_EQ(t, r.u64[0], a.u64[0]);
  r = run(CM_SIMD_i16x8_replace_lane, a, scalar32(0xabcdef), z, &lane, NULL);
  CHECK_EQ(t, r.u16[1], 0xcdef);
  r = run(CM_SIMD_f64x2_extract_lane, (cm_v128){.u64 = {1, 0x7ff4000000000000ull}}, z, z, &lane, NULL);
  CHECK_EQ(t, r.u64[0], 0x7ff4000000000000ull);
  uint8_t sh[16] = {31, 0, 16, 15, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 17};
  r = run(CM_SIMD_i8x16_shuffle, a, i8s(0x77), z, sh, NULL);
  CHECK_EQ(t, r.u8[0], 0x77);
  CHECK_EQ(t, r.u8[1], 0);
  CHECK_EQ(t, r.u8[2], 0x77);
  CHECK_EQ(t, r.u8[3], 0x80);
  cm_v128 idx = {.u8 = {15, 16, 255, 0, 128, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}};
  r = run2(CM_SIMD_i8x16_swizzle, a, idx);
  CHECK_EQ(t, r.u8[0], 0x80);
  CHECK_EQ(t, r.u8[1], 0);
  CHECK_EQ(t, r.u8[2], 0);
  CHECK_EQ(t, r.u8[3], 0);
  CHECK_EQ(t, r.u8[4], 0);
  CHECK_EQ(t, r.u8[5], 1);
  r = run1(CM_SIMD_i8x16_splat, scalar32(0x1234));
  CHECK_EQ(t, r.u8[15], 0x34);
  r = run1(CM_SIMD_i64x2_splat, (cm_v128){.u64 = {0xdeadbeefcafef00dull, 0}});
  CHECK_EQ(t, r.u64[1], 0xdeadbeefcafef00dull);
  uint8_t bytes[16];
  for (int i = 0; i < 16; i++) bytes[i] = (uint8_t)(0xf0 + i);
  r = run(CM_SIMD_v128_const, z, z, z, bytes, NULL);
  CHECK_EQ(t, r.u8[15], 0xff);
}

static void test_memory(t_ctx *t) {
  uint8_t mem[32];
  for (int i = 0; i < 32; i++) mem[i] = (uint8_t)(0x80 + i);
  cm_v128 z = {{0}}, addr = scalar32(12345);
  cm_v128 r = run(CM_SIMD_v128_load, addr, z, z, NULL, mem + 1);
  CHECK_EQ(t, r.u8[0], 0x81);
  CHECK_EQ(t, r.u8[15], 0x90);
  r = run(CM_SIMD_v128_load8x8_s, addr, z, z, NULL, mem);
  CHECK_EQ(t, r.u16[0], 0xff80);
  CHECK_EQ(t, r.u16[7], 0xff87);
  r = run(CM_SIMD_v128_load16x4_u, addr, z, z, NULL, mem);
  CHECK_EQ(t, r.u32[0], 0x8180);
  r = run(CM_SIMD_v128_load32x2_s, addr, z, z, NULL, mem);
  CHECK_EQ(t, r.u64[1], 0xffffffff87868584ull);
  r = run(CM_SIMD_v128_load16_splat, addr, z, z, NULL, mem + 2);
  CHECK_EQ(t, r.u16[7], 0x8382);
  r = run(CM_SIMD_v128_load32_zero, addr, z, z, NULL, mem);
  CHECK_EQ(t, r.u32[0], 0x83828180u);
  CHECK_EQ(t, r.u32[1], 0);
  CHECK_EQ(t, r.u64[1], 0);
  uint8_t lane = 3;
  r = run(CM_SIMD_v128_load16_lane, addr, i8s(0), z, &lane, mem);
  CHECK_EQ(t, r.u16[3], 0x8180);
  CHECK_EQ(t, r.u16[2], 0);
  lane = 1;
  cm_v128 v = {.u64 = {0x0102030405060708ull, 0x1112131415161718ull}};
  run(CM_SIMD_v128_store64_lane, addr, v, z, &lane, mem + 8);
  CHECK_EQ(t, mem[8], 0x18);
  CHECK_EQ(t, mem[15], 0x11);
  CHECK_EQ(t, mem[16], 0x90);
  cm_v128 slots[2] = {addr, v};
  cm_simd_exec(CM_SIMD_v128_store, slots, NULL, mem + 16);
  CHECK_EQ(t, mem[16], 0x08);
  CHECK_EQ(t, mem[31], 0x11);
  CHECK_EQ(t, slots[0].u32[0], 12345); /* a store has no result: slots untouched */
}

static void test_json_lanes(t_ctx *t) {
  cm_v128 v = {{0}};
  CHECK_EQ(t, cm_simd_lane_count("i16"), 8);
  CHECK_EQ(t, cm_simd_lane_count("f64"), 2);
  CHECK_EQ(t, cm_simd_lane_count("v128"), 0);
  cm_v128_set_lane(&v, "i16", 7, 0xbeef);
  CHECK_EQ(t, v.u16[7], 0xbeef);
  CHECK_EQ(t, cm_v128_get_lane(&v, "i8", 15), 0xbe);
  cm_v128_set_lane(&v, "f32", 0, 0x7fc00000u);
  CHECK_EQ(t, cm_v128_get_lane(&v, "i64", 0), 0x7fc00000u);
}

int main(void) {
  t_ctx t = {0, 0};
  test_table(&t);
  test_check_imm(&t);
  test_shifts(&t);
  test_saturation(&t);
  test_compare_and_bits(&t);
  test_float_nan_rules(&t);
  test_rounding(&t);
  test_conversions(&t);
  test_widening(&t);
  test_lanes(&t);
  test_memory(&t);
  test_json_lanes(&t);
  printf("test_simd: %d/%d checks passed\n", t.checks - t.fails, t.checks);
  return t.fails ? 1 : 0;
}
