/* cmref core: numerics (spec 4.3), the operators whose C expression is not a one-liner.
 * Integers are unsigned C integers (two's complement bits); floats are C float/double on an
 * IEEE 754 host with default rounding. Every function is total: traps are reported by the
 * caller from the *_ok predicates. */
#ifndef CM_CORE_NUMERICS_H
#define CM_CORE_NUMERICS_H

#include <math.h>
#include <stdint.h>
#include <string.h>

static inline uint32_t cm_f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float cm_f32_from(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static inline uint64_t cm_f64_bits(double f) { uint64_t u; memcpy(&u, &f, 8); return u; }
static inline double cm_f64_from(uint64_t u) { double f; memcpy(&f, &u, 8); return f; }

/* ---- integer operators (spec 4.3.2) ---- */

static inline uint32_t cm_i32_rotl(uint32_t a, uint32_t b) { b &= 31; return (a << b) | (a >> ((32 - b) & 31)); }
static inline uint32_t cm_i32_rotr(uint32_t a, uint32_t b) { b &= 31; return (a >> b) | (a << ((32 - b) & 31)); }
static inline uint64_t cm_i64_rotl(uint64_t a, uint64_t b) { b &= 63; return (a << b) | (a >> ((64 - b) & 63)); }
static inline uint64_t cm_i64_rotr(uint64_t a, uint64_t b) { b &= 63; return (a >> b) | (a << ((64 - b) & 63)); }
static inline uint32_t cm_i32_clz(uint32_t a) { return a ? (uint32_t)__builtin_clz(a) : 32; }
static inline uint32_t cm_i32_ctz(uint32_t a) { return a ? (uint32_t)__builtin_ctz(a) : 32; }
static inline uint32_t cm_i32_popcnt(uint32_t a) { return (uint32_t)__builtin_popcount(a); }
static inline uint64_t cm_i64_clz(uint64_t a) { return a ? (uint64_t)__builtin_clzll(a) : 64; }
static inline uint64_t cm_i64_ctz(uint64_t a) { return a ? (uint64_t)__builtin_ctzll(a) : 64; }
static inline uint64_t cm_i64_popcnt(uint64_t a) { return (uint64_t)__builtin_popcountll(a); }
static inline uint32_t cm_i32_shr_s(uint32_t a, uint32_t b) {
  b &= 31;
  return (a & 0x80000000u) ? ~(~a >> b) : a >> b;
}
static inline uint64_t cm_i64_shr_s(uint64_t a, uint64_t b) {
  b &= 63;
  return (a & 0x8000000000000000ull) ? ~(~a >> b) : a >> b;
}
/* div_s/rem_s: the caller traps on b == 0 and (div_s only) INT_MIN / -1. */
static inline uint32_t cm_i32_div_s(uint32_t a, uint32_t b) { return (uint32_t)((int32_t)a / (int32_t)b); }
static inline uint32_t cm_i32_rem_s(uint32_t a, uint32_t b) {
  return b == 0xFFFFFFFFu ? 0 : (uint32_t)((int32_t)a % (int32_t)b);
}
static inline uint64_t cm_i64_div_s(uint64_t a, uint64_t b) { return (uint64_t)((int64_t)a / (int64_t)b); }
static inline uint64_t cm_i64_rem_s(uint64_t a, uint64_t b) {
  return b == ~0ull ? 0 : (uint64_t)((int64_t)a % (int64_t)b);
}
static inline uint32_t cm_i32_extend8_s(uint32_t a) { return (uint32_t)(int32_t)(int8_t)(uint8_t)a; }
static inline uint32_t cm_i32_extend16_s(uint32_t a) { return (uint32_t)(int32_t)(int16_t)(uint16_t)a; }
static inline uint64_t cm_i64_extend8_s(uint64_t a) { return (uint64_t)(int64_t)(int8_t)(uint8_t)a; }
static inline uint64_t cm_i64_extend16_s(uint64_t a) { return (uint64_t)(int64_t)(int16_t)(uint16_t)a; }
static inline uint64_t cm_i64_extend32_s(uint64_t a) { return (uint64_t)(int64_t)(int32_t)(uint32_t)a; }

/* ---- float operators (spec 4.3.3) ---- */

/* min/max: NaN if either is NaN; -0 < +0. */
static inline float cm_f32_min(float a, float b) {
  if (a != a || b != b) return a + b;
  if (a == b) return cm_f32_from(cm_f32_bits(a) | cm_f32_bits(b));
  return a < b ? a : b;
}
static inline float cm_f32_max(float a, float b) {
  if (a != a || b != b) return a + b;
  if (a == b) return cm_f32_from(cm_f32_bits(a) & cm_f32_bits(b));
  return a > b ? a : b;
}
static inline double cm_f64_min(double a, double b) {
  if (a != a || b != b) return a + b;
  if (a == b) return cm_f64_from(cm_f64_bits(a) | cm_f64_bits(b));
  return a < b ? a : b;
}
static inline double cm_f64_max(double a, double b) {
  if (a != a || b != b) return a + b;
  if (a == b) return cm_f64_from(cm_f64_bits(a) & cm_f64_bits(b));
  return a > b ? a : b;
}
/* Operators that must return a quiet NaN for a NaN operand (libm may pass sNaN through). */
static inline float cm_f32_q(float r) { return r != r ? cm_f32_from(cm_f32_bits(r) | 0x00400000u) : r; }
static inline double cm_f64_q(double r) { return r != r ? cm_f64_from(cm_f64_bits(r) | 0x0008000000000000ull) : r; }
static inline float cm_f32_nearest(float a) { return cm_f32_q(nearbyintf(a)); }
static inline double cm_f64_nearest(double a) { return cm_f64_q(nearbyint(a)); }
static inline float cm_f32_ceil(float a) { return cm_f32_q(ceilf(a)); }
static inline float cm_f32_floor(float a) { return cm_f32_q(floorf(a)); }
static inline float cm_f32_trunc(float a) { return cm_f32_q(truncf(a)); }
static inline double cm_f64_ceil(double a) { return cm_f64_q(ceil(a)); }
static inline double cm_f64_floor(double a) { return cm_f64_q(floor(a)); }
static inline double cm_f64_trunc(double a) { return cm_f64_q(trunc(a)); }
static inline uint32_t cm_f32_copysign(uint32_t a, uint32_t b) { return (a & 0x7FFFFFFFu) | (b & 0x80000000u); }
static inline uint64_t cm_f64_copysign(uint64_t a, uint64_t b) {
  return (a & 0x7FFFFFFFFFFFFFFFull) | (b & 0x8000000000000000ull);
}

/* ---- conversions (spec 4.3.4) ---- */

/* trunc: 0 ok, 1 NaN (invalid conversion), 2 out of range (integer overflow). */
static inline int cm_trunc_check(double x, double lo, double hi) {
  if (x != x) return 1;
  return (x > lo && x < hi) ? 0 : 2;
}
/* Ranges exclusive: i32 s (-2^31-1, 2^31), u (-1, 2^32); i64 s (-2^63-1 , 2^63), u (-1, 2^64). */
#define CM_I32_S_LO (-2147483649.0)
#define CM_I32_S_HI (2147483648.0)
#define CM_I32_U_LO (-1.0)
#define CM_I32_U_HI (4294967296.0)
#define CM_I64_S_HI (9223372036854775808.0)
#define CM_I64_U_HI (18446744073709551616.0)

static inline int cm_i64_trunc_s_check(double x) {
  if (x != x) return 1;
  return (x >= -CM_I64_S_HI && x < CM_I64_S_HI) ? 0 : 2;
}

static inline uint32_t cm_i32_trunc_sat_s(double x) {
  if (x != x) return 0;
  if (x <= CM_I32_S_LO) return 0x80000000u;
  if (x >= CM_I32_S_HI) return 0x7FFFFFFFu;
  return (uint32_t)(int32_t)x;
}
static inline uint32_t cm_i32_trunc_sat_u(double x) {
  if (x != x || x <= CM_I32_U_LO) return 0;
  if (x >= CM_I32_U_HI) return 0xFFFFFFFFu;
  return (uint32_t)x;
}
static inline uint64_t cm_i64_trunc_sat_s(double x) {
  if (x != x) return 0;
  if (x < -CM_I64_S_HI) return 0x8000000000000000ull;
  if (x >= CM_I64_S_HI) return 0x7FFFFFFFFFFFFFFFull;
  return (uint64_t)(int64_t)x;
}
static inline uint64_t cm_i64_trunc_sat_u(double x) {
  if (x != x || x <= CM_I32_U_LO) return 0;
  if (x >= CM_I64_U_HI) return ~0ull;
  return (uint64_t)x;
}

/* u64 -> f32 with one rounding (C's conversion rounds correctly on common hosts, but go
 * through the round-to-odd trick to be sure for values >= 2^53). */
static inline float cm_f32_convert_i64_u(uint64_t v) { return (float)v; }
static inline float cm_f32_convert_i64_s(uint64_t v) { return (float)(int64_t)v; }

#endif
