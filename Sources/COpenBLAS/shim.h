#ifndef COLEARN_COPENBLAS_SHIM_H
#define COLEARN_COPENBLAS_SHIM_H
#include <cblas.h>
/* OpenBLAS extensions (declared in OpenBLAS's cblas.h; repeated here so other CBLAS builds link too). */
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char *openblas_get_config(void);
char *openblas_get_corename(void);
#endif
