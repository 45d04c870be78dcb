// gemm_shapes.c -- time row-major cblas_sgemm / sgemv / sger (and saxpy) on the exact shapes the
// colearn models issue, for one BLAS library loaded by explicit path with dlopen (so nothing depends
// on Debian's update-alternatives).
//
// Build: gcc -O2 -o gemm_shapes gemm_shapes.c -ldl -lm
// Usage: gemm_shapes NAME PATH TYPE SHAPES [PASS]
//   TYPE   ob     OpenBLAS (cblas_*, openblas_set_num_threads)
//          scipy  numpy's scipy-openblas64 (ILP64, scipy_cblas_*64_)
//          blis   BLIS (cblas_*, bli_thread_set_num_threads)
//   SHAPES all | list | comma-separated shape ids
//   env    THREADS="1 2" (order matters: 1 first so the 1-thread run never sees spinning workers)
//          BUDGET=0.15   seconds of timed calls per (shape, threads)
//          CHECK=1       verify every shape once against a double-precision reference, no timing
// Output: one CSV row per (shape, threads):
//   pass,lib,core,shape,thr,flops,best_us,median_us,gf_best,gf_median,calls_per_batch,batches,cpu_per_wall,
//   foreign (CPUs' worth of time other processes used during this measurement, 0..2, from /proc/stat)
//   best_us = fastest batch (per call), median_us = median batch, cpu_per_wall = process CPU time /
//   wall time of the median batch (≈1.0: one thread did the work; ≈2.0: both vCPUs busy/spinning).
#define _GNU_SOURCE
#include <dlfcn.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { RowMajor = 101, NoTrans = 111, Trans = 112 };
enum { GEMM, GEMV, GER, AXPY, STEP };

typedef struct {
  const char *id, *label;
  int kind, ta, tb;  // ta/tb: transposes (GEMM), ta = trans flag for GEMV
  long M, K, N;      // GEMM: op(A) MxK, op(B) KxN. GEMV/GER: A stored MxN (K unused). AXPY: N.
} shape_t;

static const shape_t shapes[] = {
    {"sq1024", "square 1024", GEMM, 0, 0, 1024, 1024, 1024},
    {"sq2048", "square 2048", GEMM, 0, 0, 2048, 2048, 2048},
    // mnist-mlp 1024-128-64-10 (Linear.swift: fwd gemm N,T beta=1; dX gemm N,N; dW gemm T,N)
    {"mm_fwd32", "mnist-mlp L1 fwd b32 (32x1024)(1024x128)T", GEMM, 0, 1, 32, 1024, 128},
    {"mm_dW32", "mnist-mlp L1 dW b32 (128x32)(32x1024)", GEMM, 1, 0, 128, 32, 1024},
    {"mm_dX32", "mnist-mlp L1 dX b32 (32x128)(128x1024)", GEMM, 0, 0, 32, 128, 1024},
    {"mm_l2fwd32", "mnist-mlp L2 fwd b32 (32x128)(128x64)T", GEMM, 0, 1, 32, 128, 64},
    {"mm_l2dW32", "mnist-mlp L2 dW b32 (64x32)(32x128)", GEMM, 1, 0, 64, 32, 128},
    {"mm_l2dX32", "mnist-mlp L2 dX b32 (32x64)(64x128)", GEMM, 0, 0, 32, 64, 128},
    {"mm_gemv1", "mnist-mlp L1 fwd b1 gemv 128x1024 (W x)", GEMV, 0, 0, 128, 0, 1024},
    {"mm_gemvT1", "mnist-mlp L1 gemv-T b1 128x1024 (Wt g)", GEMV, 1, 0, 128, 0, 1024},
    {"mm_ger1", "mnist-mlp L1 dW b1 sger 128x1024", GER, 0, 0, 128, 0, 1024},
    {"mm_dWk1", "mnist-mlp L1 dW b1 as gemm k=1 (current code)", GEMM, 1, 0, 128, 1, 1024},
    // svhn-mlp 3072-128-10
    {"sm_fwd32", "svhn-mlp L1 fwd b32 (32x3072)(3072x128)T", GEMM, 0, 1, 32, 3072, 128},
    {"sm_dW32", "svhn-mlp L1 dW b32 (128x32)(32x3072)", GEMM, 1, 0, 128, 32, 3072},
    {"sm_gemv1", "svhn-mlp L1 fwd b1 gemv 128x3072", GEMV, 0, 0, 128, 0, 3072},
    {"sm_ger1", "svhn-mlp L1 dW b1 sger 128x3072", GER, 0, 0, 128, 0, 3072},
    {"sm_dWk1", "svhn-mlp L1 dW b1 as gemm k=1 (current code)", GEMM, 1, 0, 128, 1, 3072},
    {"eval", "mnist-mlp eval (2000x1024)(1024x128)T", GEMM, 0, 1, 2000, 1024, 128},
    // mnist-cnn (im2col, channels-last, whole batch in one GEMM; W stored [K, Cout])
    {"mc_c1_32", "mnist-cnn conv1 b32 (25088x25)(25x32)", GEMM, 0, 0, 25088, 25, 32},
    {"mc_c1dW", "mnist-cnn conv1 dW b32 (25x25088)(25088x32)", GEMM, 1, 0, 25, 25088, 32},
    {"mc_c2_32", "mnist-cnn conv2 b32 (800x800)(800x64)", GEMM, 0, 0, 800, 800, 64},
    {"mc_c2dW", "mnist-cnn conv2 dW b32 (800x800)T(800x64)", GEMM, 1, 0, 800, 800, 64},
    {"mc_c2dX", "mnist-cnn conv2 dX b32 (800x64)(64x800)[=W^T]", GEMM, 0, 1, 800, 64, 800},
    {"mc_c1_1", "mnist-cnn conv1 b1 (784x25)(25x32)", GEMM, 0, 0, 784, 25, 32},
    {"mc_c2_1", "mnist-cnn conv2 b1 (25x800)(800x64)", GEMM, 0, 0, 25, 800, 64},
    // svhn-cnn
    {"sc_c1_32", "svhn-cnn conv1 b32 (25088x75)(75x64)", GEMM, 0, 0, 25088, 75, 64},
    {"sc_c1dW", "svhn-cnn conv1 dW b32 (75x25088)(25088x64)", GEMM, 1, 0, 75, 25088, 64},
    {"sc_c2_32", "svhn-cnn conv2 b32 (3200x1600)(1600x64)", GEMM, 0, 0, 3200, 1600, 64},
    {"sc_c2dW", "svhn-cnn conv2 dW b32 (1600x3200)(3200x64)", GEMM, 1, 0, 1600, 3200, 64},
    {"sc_c2dX", "svhn-cnn conv2 dX b32 (3200x64)(64x1600)[=W^T]", GEMM, 0, 1, 3200, 64, 1600},
    {"sc_c1_1", "svhn-cnn conv1 b1 (784x75)(75x64)", GEMM, 0, 0, 784, 75, 64},
    {"sc_c2_1", "svhn-cnn conv2 b1 (100x1600)(1600x64)", GEMM, 0, 0, 100, 1600, 64},
    // tiny calls: per-call overhead
    {"t_gemm1", "tiny sgemm 1x1x1 (pure call overhead)", GEMM, 0, 0, 1, 1, 1},
    {"t_gemm32", "tiny sgemm 32x128x64 (N,N)", GEMM, 0, 0, 32, 128, 64},
    {"t_gemv64", "tiny sgemv 64x128", GEMV, 0, 0, 64, 0, 128},
    {"t_gemv10", "tiny sgemv 10x64", GEMV, 0, 0, 10, 0, 64},
    {"t_ger64", "tiny sger 64x128", GER, 0, 0, 64, 0, 128},
    {"t_dWk1_10", "tiny gemm k=1 10x1x64 (dW of last layer)", GEMM, 1, 0, 10, 1, 64},
    {"axpy140k", "saxpy n=140106 (mnist-mlp SGD update)", AXPY, 0, 0, 1, 0, 140106},
    // whole batch-1 training steps, BLAS calls only, exactly the sequence Linear.swift issues
    {"step_mm1", "mnist-mlp b1 step: 3 gemv + 2 gemv-T + 3 gemm k=1", STEP, 0, 0, 0, 0, 0},
    {"step_mm1g", "mnist-mlp b1 step with sger instead of gemm k=1", STEP, 1, 0, 0, 0, 0},
    {"step_sm1", "svhn-mlp b1 step: 2 gemv + 1 gemv-T + 2 gemm k=1", STEP, 2, 0, 0, 0, 0},
};
#define NSHAPES (int)(sizeof shapes / sizeof shapes[0])

// ---- library binding ----
static int ilp64;
static void *f_gemm, *f_gemv, *f_ger, *f_axpy;
static void (*set_threads32)(int);
static void (*set_threads64)(int64_t);

typedef void (*gemm32_t)(int, int, int, int, int, int, float, const float *, int, const float *, int,
                         float, float *, int);
typedef void (*gemm64_t)(int, int, int, int64_t, int64_t, int64_t, float, const float *, int64_t,
                         const float *, int64_t, float, float *, int64_t);
typedef void (*gemv32_t)(int, int, int, int, float, const float *, int, const float *, int, float,
                         float *, int);
typedef void (*gemv64_t)(int, int, int64_t, int64_t, float, const float *, int64_t, const float *,
                         int64_t, float, float *, int64_t);
typedef void (*ger32_t)(int, int, int, float, const float *, int, const float *, int, float *, int);
typedef void (*ger64_t)(int, int64_t, int64_t, float, const float *, int64_t, const float *, int64_t,
                        float *, int64_t);
typedef void (*axpy32_t)(int, float, const float *, int, float *, int);
typedef void (*axpy64_t)(int64_t, float, const float *, int64_t, float *, int64_t);

static inline void gemm(int ta, int tb, long m, long n, long k, float al, const float *a, long lda,
                        const float *b, long ldb, float be, float *c, long ldc) {
  int TA = ta ? Trans : NoTrans, TB = tb ? Trans : NoTrans;
  if (ilp64) ((gemm64_t)f_gemm)(RowMajor, TA, TB, m, n, k, al, a, lda, b, ldb, be, c, ldc);
  else ((gemm32_t)f_gemm)(RowMajor, TA, TB, m, n, k, al, a, lda, b, ldb, be, c, ldc);
}
static inline void gemv(int t, long m, long n, float al, const float *a, long lda, const float *x,
                        float be, float *y) {
  if (ilp64) ((gemv64_t)f_gemv)(RowMajor, t ? Trans : NoTrans, m, n, al, a, lda, x, 1, be, y, 1);
  else ((gemv32_t)f_gemv)(RowMajor, t ? Trans : NoTrans, m, n, al, a, lda, x, 1, be, y, 1);
}
static inline void ger(long m, long n, float al, const float *x, const float *y, float *a, long lda) {
  if (ilp64) ((ger64_t)f_ger)(RowMajor, m, n, al, x, 1, y, 1, a, lda);
  else ((ger32_t)f_ger)(RowMajor, m, n, al, x, 1, y, 1, a, lda);
}
static inline void axpy(long n, float al, const float *x, float *y) {
  if (ilp64) ((axpy64_t)f_axpy)(n, al, x, 1, y, 1);
  else ((axpy32_t)f_axpy)(n, al, x, 1, y, 1);
}
static void set_threads(int t) {
  if (set_threads64) set_threads64(t);
  else set_threads32(t);
}

static void *sym(void *h, const char *name) {
  void *p = dlsym(h, name);
  if (!p) { fprintf(stderr, "missing symbol %s: %s\n", name, dlerror()); exit(2); }
  return p;
}

// ---- helpers ----
static double now(clockid_t c) {
  struct timespec t;
  clock_gettime(c, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}
// CPU seconds all processes on the machine spent busy (from /proc/stat, 10 ms resolution)
static double busy_seconds(void) {
  FILE *f = fopen("/proc/stat", "r");
  unsigned long long v[8] = {0};
  if (!f || fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4],
                   &v[5], &v[6], &v[7]) != 8) { if (f) fclose(f); return 0; }
  fclose(f);
  return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / 100.0;
}
static float *alloc(size_t n) {
  size_t bytes = ((n * sizeof(float) + 63) / 64) * 64;
  float *p = aligned_alloc(64, bytes ? bytes : 64);
  for (size_t i = 0; i < n; i++) p[i] = (float)(rand() / (double)RAND_MAX * 2 - 1);
  return p;
}
static int cmpd(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

// operands of the current shape
static float *A, *B, *C, *X, *Y;
// step operands: weights and vectors of a 3-layer (or 2-layer) MLP
static float *W[3], *G[3], *in[3], *out[3], *gout[3], *gin[3];
static long dims_mm[4] = {1024, 128, 64, 10}, dims_sm[3] = {3072, 128, 10};

static double flops_of(const shape_t *s) {
  switch (s->kind) {
    case GEMM: return 2.0 * s->M * s->N * s->K;
    case GEMV: case GER: return 2.0 * s->M * s->N;
    case AXPY: return 2.0 * s->N;
    default: {  // step: every layer fwd gemv + dW; input-gradient gemv for all but layer 1
      const long *d = s->ta == 2 ? dims_sm : dims_mm;
      int L = s->ta == 2 ? 2 : 3;
      double f = 0;
      for (int l = 0; l < L; l++) f += (l ? 3 : 2) * 2.0 * d[l] * d[l + 1];
      return f;
    }
  }
}

static void setup(const shape_t *s) {
  if (s->kind == GEMM) {
    A = alloc(s->M * s->K); B = alloc(s->K * s->N); C = alloc(s->M * s->N);
  } else if (s->kind == GEMV || s->kind == GER) {
    A = alloc(s->M * s->N); X = alloc(s->N > s->M ? s->N : s->M); Y = alloc(s->N > s->M ? s->N : s->M);
  } else if (s->kind == AXPY) {
    X = alloc(s->N); Y = alloc(s->N);
  } else {
    const long *d = s->ta == 2 ? dims_sm : dims_mm;
    int L = s->ta == 2 ? 2 : 3;
    for (int l = 0; l < L; l++) {
      W[l] = alloc(d[l + 1] * d[l]); G[l] = alloc(d[l + 1] * d[l]);
      in[l] = alloc(d[l]); out[l] = alloc(d[l + 1]); gout[l] = alloc(d[l + 1]); gin[l] = alloc(d[l]);
    }
  }
}

static void run_once(const shape_t *s) {
  switch (s->kind) {
    case GEMM: {
      long lda = s->ta ? s->M : s->K, ldb = s->tb ? s->K : s->N;
      float beta = (s->ta == 0 && s->tb == 1) ? 1.0f : 0.0f;  // forward adds onto the bias, as in Linear.swift
      gemm(s->ta, s->tb, s->M, s->N, s->K, 1.0f, A, lda, B, ldb, beta, C, s->N);
      break;
    }
    case GEMV:
      if (s->ta) gemv(1, s->M, s->N, 1.0f, A, s->N, X, 0.0f, Y);  // y[N] = A^T x[M]
      else gemv(0, s->M, s->N, 1.0f, A, s->N, X, 1.0f, Y);        // y[M] = A x[N] + y
      break;
    case GER: ger(s->M, s->N, 1e-6f, X, Y, A, s->N); break;
    case AXPY: axpy(s->N, -1e-6f, X, Y); break;
    default: {
      const long *d = s->ta == 2 ? dims_sm : dims_mm;
      int L = s->ta == 2 ? 2 : 3;
      for (int l = 0; l < L; l++) gemv(0, d[l + 1], d[l], 1.0f, W[l], d[l], in[l], 1.0f, out[l]);
      for (int l = L - 1; l >= 0; l--) {
        if (l > 0) gemv(1, d[l + 1], d[l], 1.0f, W[l], d[l], gout[l], 0.0f, gin[l]);
        if (s->ta == 1) ger(d[l + 1], d[l], 1e-6f, gout[l], in[l], G[l], d[l]);
        else gemm(1, 0, d[l + 1], d[l], 1, 1.0f, gout[l], d[l + 1], in[l], d[l], 0.0f, G[l], d[l]);
      }
    }
  }
}

static void teardown(const shape_t *s) {
  if (s->kind == STEP) {
    for (int l = 0; l < 3; l++) {
      free(W[l]); free(G[l]); free(in[l]); free(out[l]); free(gout[l]); free(gin[l]);
      W[l] = G[l] = in[l] = out[l] = gout[l] = gin[l] = NULL;
    }
  }
  free(A); free(B); free(C); free(X); free(Y);
  A = B = C = X = Y = NULL;
}

// correctness check (alpha = 1, beta = 0 for GEMM/GEMV; GER compares against A0 + a x y^T)
static int check(const shape_t *s) {
  double maxerr = 0, maxref = 0;
  if (s->kind == GEMM) {
    long lda = s->ta ? s->M : s->K, ldb = s->tb ? s->K : s->N;
    gemm(s->ta, s->tb, s->M, s->N, s->K, 1.0f, A, lda, B, ldb, 0.0f, C, s->N);
    long stepM = s->M > 512 ? s->M / 257 + 1 : 1;  // sample rows of the big ones
    for (long i = 0; i < s->M; i += stepM)
      for (long j = 0; j < s->N; j++) {
        double r = 0;
        for (long k = 0; k < s->K; k++) {
          double a = s->ta ? A[k * lda + i] : A[i * lda + k];
          double b = s->tb ? B[j * ldb + k] : B[k * ldb + j];
          r += a * b;
        }
        maxerr = fmax(maxerr, fabs(r - C[i * s->N + j])); maxref = fmax(maxref, fabs(r));
      }
  } else if (s->kind == GEMV) {
    long ny = s->ta ? s->N : s->M, nx = s->ta ? s->M : s->N;
    gemv(s->ta, s->M, s->N, 1.0f, A, s->N, X, 0.0f, Y);
    for (long i = 0; i < ny; i++) {
      double r = 0;
      for (long k = 0; k < nx; k++) r += (double)(s->ta ? A[k * s->N + i] : A[i * s->N + k]) * X[k];
      maxerr = fmax(maxerr, fabs(r - Y[i])); maxref = fmax(maxref, fabs(r));
    }
  } else if (s->kind == GER) {
    float *A0 = malloc(sizeof(float) * s->M * s->N);
    memcpy(A0, A, sizeof(float) * s->M * s->N);
    ger(s->M, s->N, 0.5f, X, Y, A, s->N);
    for (long i = 0; i < s->M; i++)
      for (long j = 0; j < s->N; j++) {
        double r = A0[i * s->N + j] + 0.5 * X[i] * Y[j];
        maxerr = fmax(maxerr, fabs(r - A[i * s->N + j])); maxref = fmax(maxref, fabs(r));
      }
    free(A0);
  } else {
    run_once(s);
    return 1;  // axpy / step: only checked for not crashing
  }
  double rel = maxerr / (maxref > 0 ? maxref : 1);
  int ok = rel < 1e-4;
  printf("check,%s,%s,rel_err=%.2e\n", s->id, ok ? "OK" : "FAIL", rel);
  return ok;
}

int main(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "list")) {
    for (int i = 0; i < NSHAPES; i++) printf("%s\t%.0f\t%s\n", shapes[i].id, flops_of(&shapes[i]), shapes[i].label);
    return 0;
  }
  if (argc < 5) { fprintf(stderr, "usage: %s NAME PATH ob|scipy|blis SHAPES [PASS]\n", argv[0]); return 2; }
  const char *name = argv[1], *path = argv[2], *type = argv[3], *want = argv[4];
  const char *pass = argc > 5 ? argv[5] : "0";
  void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!h) { fprintf(stderr, "dlopen: %s\n", dlerror()); return 2; }
  char core[64] = "?";
  if (!strcmp(type, "scipy")) {
    ilp64 = 1;
    f_gemm = sym(h, "scipy_cblas_sgemm64_"); f_gemv = sym(h, "scipy_cblas_sgemv64_");
    f_ger = sym(h, "scipy_cblas_sger64_"); f_axpy = sym(h, "scipy_cblas_saxpy64_");
    set_threads32 = (void (*)(int))sym(h, "scipy_openblas_set_num_threads64_");
    snprintf(core, sizeof core, "%s", ((char *(*)(void))sym(h, "scipy_openblas_get_corename64_"))());
  } else {
    f_gemm = sym(h, "cblas_sgemm"); f_gemv = sym(h, "cblas_sgemv");
    f_ger = sym(h, "cblas_sger"); f_axpy = sym(h, "cblas_saxpy");
    if (!strcmp(type, "blis")) {
      set_threads64 = (void (*)(int64_t))sym(h, "bli_thread_set_num_threads");
      int (*q)(void) = (int (*)(void))sym(h, "bli_arch_query_id");
      const char *(*as)(int) = (const char *(*)(int))sym(h, "bli_arch_string");
      snprintf(core, sizeof core, "%s", as(q()));
    } else {
      set_threads32 = (void (*)(int))sym(h, "openblas_set_num_threads");
      snprintf(core, sizeof core, "%s", ((char *(*)(void))sym(h, "openblas_get_corename"))());
    }
  }
  const char *thr_env = getenv("THREADS");
  int thr_list[8], nthr = 0;
  {
    char buf[64];
    snprintf(buf, sizeof buf, "%s", thr_env ? thr_env : "1 2");
    for (char *t = strtok(buf, " ,"); t && nthr < 8; t = strtok(NULL, " ,")) thr_list[nthr++] = atoi(t);
  }
  double budget = getenv("BUDGET") ? atof(getenv("BUDGET")) : 0.15;
  int do_check = getenv("CHECK") && atoi(getenv("CHECK"));
  set_threads(thr_list[0]);
  srand(12345);
  int bad = 0;
  for (int si = 0; si < NSHAPES; si++) {
    const shape_t *s = &shapes[si];
    if (strcmp(want, "all")) {  // comma-separated id list
      char pat[64];
      snprintf(pat, sizeof pat, ",%s,", s->id);
      char wl[4096];
      snprintf(wl, sizeof wl, ",%s,", want);
      if (!strstr(wl, pat)) continue;
    }
    setup(s);
    if (do_check) {
      bad += !check(s);
      teardown(s);
      continue;
    }
    double fl = flops_of(s);
    for (int ti = 0; ti < nthr; ti++) {
      int thr = thr_list[ti];
      set_threads(thr);
      // warm-up: at least 3 calls and 20 ms; estimates the per-call time
      int nw = 0;
      double busy0 = busy_seconds(), oc0 = now(CLOCK_PROCESS_CPUTIME_ID), ow0 = now(CLOCK_MONOTONIC);
      double t0 = now(CLOCK_MONOTONIC), t1;
      do { run_once(s); nw++; t1 = now(CLOCK_MONOTONIC); } while (t1 - t0 < 0.02);
      double est = (t1 - t0) / nw;
      int R = 7;
      if (est * R > 0.6) R = 3;
      long n = (long)(budget / R / est);
      if (n < 1) n = 1;
      double tb[16], cw[16];
      for (int r = 0; r < R; r++) {
        double c0 = now(CLOCK_PROCESS_CPUTIME_ID), w0 = now(CLOCK_MONOTONIC);
        for (long i = 0; i < n; i++) run_once(s);
        double w1 = now(CLOCK_MONOTONIC), c1 = now(CLOCK_PROCESS_CPUTIME_ID);
        tb[r] = (w1 - w0) / n;
        cw[r] = (c1 - c0) / (w1 - w0);
      }
      double foreign = ((busy_seconds() - busy0) - (now(CLOCK_PROCESS_CPUTIME_ID) - oc0)) /
                       (now(CLOCK_MONOTONIC) - ow0);
      double sorted[16];
      memcpy(sorted, tb, sizeof(double) * R);
      qsort(sorted, R, sizeof(double), cmpd);
      double med = sorted[R / 2], best = sorted[0], cwm = 0;
      for (int r = 0; r < R; r++) if (tb[r] == med) cwm = cw[r];
      printf("%s,%s,%s,%s,%d,%.0f,%.3f,%.3f,%.2f,%.2f,%ld,%d,%.2f,%.2f\n", pass, name, core, s->id, thr,
             fl, best * 1e6, med * 1e6, fl / best * 1e-9, fl / med * 1e-9, n, R, cwm, foreign);
      fflush(stdout);
    }
    teardown(s);
  }
  return bad ? 1 : 0;
}
