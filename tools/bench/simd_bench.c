/* SIMD benchmark for cmref's interpreter: a byte scan, an i16 dot product and an f32
 * multiply-add over buffers in linear memory, written with wasm_simd128.h intrinsics.
 * Build: see tools/bench/simd_bench.sh (clang --target=wasm32 -msimd128 -O2 -nostdlib).
 * The export `bench` takes no arguments (so wabt's wasm-interp --run-all-exports can call
 * it) and returns a checksum, so engines can be compared on the result too. */
#include <stdint.h>
#include <wasm_simd128.h>

#define N 4096
#ifndef ROUNDS
#define ROUNDS 1500
#endif

static uint8_t bytes[N];
static int16_t xs[N], ys[N];
static float fa[N], fb[N];

static void fill(void) {
  uint32_t s = 12345;
  for (int i = 0; i < N; i++) {
    s = s * 1103515245u + 12345u;
    bytes[i] = (uint8_t)(s >> 16);
    xs[i] = (int16_t)(s >> 8);
    ys[i] = (int16_t)(s >> 13);
    fa[i] = (float)(s >> 20) * 0.25f;
    fb[i] = (float)(s & 7u);
  }
}

/* How many bytes equal c: i8x16.eq, then popcount of the bitmask. */
static uint32_t count_byte(uint8_t c) {
  v128_t needle = wasm_i8x16_splat((int8_t)c);
  uint32_t n = 0;
  for (int i = 0; i < N; i += 16) {
    v128_t eq = wasm_i8x16_eq(wasm_v128_load(&bytes[i]), needle);
    n += (uint32_t)__builtin_popcount(wasm_i8x16_bitmask(eq));
  }
  return n;
}

/* Dot product of two i16 vectors: i32x4.dot_i16x8_s accumulated in i32x4. */
static int32_t dot(void) {
  v128_t acc = wasm_i32x4_splat(0);
  for (int i = 0; i < N; i += 8)
    acc = wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(wasm_v128_load(&xs[i]), wasm_v128_load(&ys[i])));
  return wasm_i32x4_extract_lane(acc, 0) + wasm_i32x4_extract_lane(acc, 1) +
         wasm_i32x4_extract_lane(acc, 2) + wasm_i32x4_extract_lane(acc, 3);
}

/* fb = fb * 0.5 + fa (f32x4), then fold to a checksum with trunc_sat. */
static int32_t saxpy(void) {
  v128_t half = wasm_f32x4_splat(0.5f), sum = wasm_i32x4_splat(0);
  for (int i = 0; i < N; i += 4) {
    v128_t b = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(&fb[i]), half), wasm_v128_load(&fa[i]));
    wasm_v128_store(&fb[i], b);
    sum = wasm_i32x4_add(sum, wasm_i32x4_trunc_sat_f32x4(b));
  }
  return wasm_i32x4_extract_lane(sum, 0) ^ wasm_i32x4_extract_lane(sum, 3);
}

__attribute__((export_name("bench"))) int32_t bench(void) {
  fill();
  uint32_t h = 0;
  for (int r = 0; r < ROUNDS; r++) {
    h = h * 31u + count_byte((uint8_t)r);
    h = h * 31u + (uint32_t)dot();
    h = h * 31u + (uint32_t)saxpy();
  }
  return (int32_t)h;
}
