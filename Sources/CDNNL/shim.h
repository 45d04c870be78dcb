#ifndef COLEARN_CDNNL_SHIM_H
#define COLEARN_CDNNL_SHIM_H
/* The three functions colearn calls in oneDNN (Debian's libdnnl-dev 2.6, <oneapi/dnnl/dnnl.h>),
   declared here rather than by including that header, which pulls in its OpenCL GPU runtime's
   configuration. Their signatures are oneDNN's stable C API: dnnl_status_t, dnnl_cpu_isa_t and
   dnnl_dim_t are an int-sized enum, an int-sized enum and int64_t. */
#include <stdint.h>

typedef struct {
  int major;
  int minor;
  int patch;
  const char *hash;
  unsigned cpu_runtime;
  unsigned gpu_runtime;
} colearn_dnnl_version_t;

/* Row-major C = alpha·op(A)·op(B) + beta·C; transa/transb are 'N' or 'T'. 0 is success. */
int dnnl_sgemm(char transa, char transb, int64_t M, int64_t N, int64_t K, float alpha,
               const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C,
               int64_t ldc);
/* The instruction set oneDNN's generated kernels use on this CPU (dnnl_cpu_isa_t). */
int dnnl_get_effective_cpu_isa(void);
const colearn_dnnl_version_t *dnnl_version(void);
#endif
