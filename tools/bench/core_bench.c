/* Core benchmarks for cmref vs wabt's wasm-interp (tools/bench/core_bench.py).
 * Compiled once per program with -DBENCH_<NAME>; each build exports `bench` (no arguments,
 * an i32 checksum result) so both interpreters run exactly the same function. */

#if defined(BENCH_FIB)
static int fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
int bench(void) {
  volatile int n = 31;
  return fib(n);
}

#elif defined(BENCH_SIEVE)
#define N 1000000
static unsigned char composite[N + 1];
int bench(void) {
  int count = 0;
  for (int round = 1; round <= 3; round++) { /* composite[i] == round: crossed this round */
    count = 0;
    for (int i = 2; i <= N; i++) {
      if (composite[i] == round) continue;
      count++;
      for (long long j = (long long)i * i; j <= N; j += i) composite[j] = (unsigned char)round;
    }
  }
  return count;
}

#elif defined(BENCH_MATMUL)
#define N 160
static double a[N][N], b[N][N], c[N][N];
int bench(void) {
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++) {
      a[i][j] = (double)(i * N + j) / (N * N);
      b[i][j] = (double)(j * N + i) / (N * N) - 0.5;
    }
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++) {
      double s = 0;
      for (int k = 0; k < N; k++) s += a[i][k] * b[k][j];
      c[i][j] = s;
    }
  double t = 0;
  for (int i = 0; i < N; i++) t += c[i][i] * (i + 1);
  return (int)(t * 1000.0);
}

#elif defined(BENCH_CRC)
#define SIZE (4u << 20)
static unsigned char data[SIZE];
static unsigned table[256];
int bench(void) {
  for (unsigned i = 0; i < 256; i++) {
    unsigned c = i;
    for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  unsigned x = 12345;
  for (unsigned i = 0; i < SIZE; i++) {
    x = x * 1103515245u + 12345u;
    data[i] = (unsigned char)(x >> 16);
  }
  unsigned crc = 0xFFFFFFFFu;
  for (unsigned i = 0; i < SIZE; i++) crc = table[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
  return (int)(crc ^ 0xFFFFFFFFu);
}
#endif

#ifdef NATIVE_MAIN
#include <stdio.h>
int main(void) {
  printf("%d\n", bench());
  return 0;
}
#endif
