/*
** daydream/tensor.h -- float32 tensors of up to 4 dimensions (N, C, H, W).
**
** A tensor is a shape plus two pointers: its values and, when somebody wants
** a gradient of it, a buffer of the same size that backward ADDS into. Data is
** always contiguous, row-major, the last axis fastest. A tensor either owns
** its buffers (dd_tensor_new) or borrows them (views, arena tensors of a
** dd_graph, parameters of a dd_paramset); only owners free.
*/
#ifndef DAYDREAM_TENSOR_H
#define DAYDREAM_TENSOR_H

#include <stddef.h>

#include "daydream/plugin.h" /* DD_OK, DD_ERR, DD_MAX_DIMS */

#ifdef __cplusplus
extern "C" {
#endif

#define DD_TENSOR_OWNS 1u /* data (and grad) were allocated by dd_tensor_new */

typedef struct dd_tensor {
	int ndim;               /* 1..DD_MAX_DIMS */
	int dims[DD_MAX_DIMS];  /* dims[ndim..] are 1 */
	size_t size;            /* product of dims */
	float *data;
	float *grad;            /* NULL: no gradient wanted (costs no work) */
	unsigned flags;
} dd_tensor;

/* Number of elements of a shape, or 0 when ndim is not in 1..DD_MAX_DIMS or
** a dim is < 1 or the product overflows. */
size_t dd_shape_count(int ndim, const int *dims);

/* Allocates a zeroed tensor; with want_grad also a zeroed gradient buffer.
** Returns NULL for a bad shape or when memory runs out. The caller owns the
** result and releases it with dd_tensor_free(). */
dd_tensor *dd_tensor_new(int ndim, const int *dims, int want_grad);

/* As dd_tensor_new, then copies size floats from src. */
dd_tensor *dd_tensor_from(int ndim, const int *dims, const float *src, int want_grad);

/* Frees a tensor made by dd_tensor_new/dd_tensor_from; NULL is a no-op. */
void dd_tensor_free(dd_tensor *t);

/* Fills *view with t's buffers under another shape of the same size (a
** reshape; nothing is copied or allocated, the view owns nothing and lives
** as long as t's buffers). DD_ERR when the sizes differ. */
int dd_tensor_view(dd_tensor *view, const dd_tensor *t, int ndim, const int *dims);

/* Copies n floats from a plain array into t, or out of t; DD_ERR unless
** n == t->size. */
int dd_tensor_set(dd_tensor *t, const float *src, size_t n);
int dd_tensor_get(const dd_tensor *t, float *dst, size_t n);

/* Zeroes t->grad when there is one. */
void dd_tensor_zero_grad(dd_tensor *t);

/* 1 when a and b have the same ndim and dims. */
int dd_tensor_same_shape(const dd_tensor *a, const dd_tensor *b);

#ifdef __cplusplus
}
#endif
#endif
