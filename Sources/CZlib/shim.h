#ifndef COLEARN_CZLIB_SHIM_H
#define COLEARN_CZLIB_SHIM_H
#include <zlib.h>
#endif
