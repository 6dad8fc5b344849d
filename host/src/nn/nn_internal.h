/*
** nn_internal.h -- helpers shared by the op files of the toolkit (not
** installed). Ops follow one pattern: check inputs, make the output, run the
** forward loop, record a backward that adds into whichever inputs want it.
*/
#ifndef DD_NN_INTERNAL_H
#define DD_NN_INTERNAL_H

#include <stddef.h>

#include "daydream/graph.h"
#include "daydream/nn.h"
#include "daydream/ops.h"

/* Returns NULL from an op when an input is missing: an earlier op failed
** and its message stands. */
#define NN_NEED(x) do { if (!(x)) return NULL; } while (0)

/* Fails the op with a message. */
#define NN_FAIL(g, ...) do { dd_graph_fail((g), __VA_ARGS__); return NULL; } while (0)

/* Product of dims [from, ndim) of t (1 when empty). */
static inline size_t nn_inner(const dd_tensor *t, int from)
{
	size_t n = 1;
	for (int i = from; i < t->ndim; i++)
		n *= (size_t)t->dims[i];
	return n;
}

/* Product of dims [0, to) of t (1 when empty). */
static inline size_t nn_outer(const dd_tensor *t, int to)
{
	size_t n = 1;
	for (int i = 0; i < to; i++)
		n *= (size_t)t->dims[i];
	return n;
}

/* Output tensor shaped like x; wants a gradient when any of ins does. */
static inline dd_tensor *nn_like(dd_graph *g, const dd_tensor *x, dd_tensor *const *ins, int n)
{
	return dd_graph_tensor(g, x->ndim, x->dims, dd_any_grad(ins, n));
}

/* Scalar output (shape (1)) for losses. */
static inline dd_tensor *nn_scalar(dd_graph *g, dd_tensor *const *ins, int n)
{
	int one = 1;
	return dd_graph_tensor(g, 1, &one, dd_any_grad(ins, n));
}

/* Records a node with the given inputs; returns out, or NULL on overflow. */
static inline dd_tensor *nn_record(dd_graph *g, dd_backward_fn fn, dd_tensor *out,
                                   dd_tensor *const *ins, int n, void *saved)
{
	return dd_graph_record(g, fn, out, ins, n, saved) == DD_OK ? out : NULL;
}

/* The toolkit's kernels split their work into nn_parts() parts (the
** thread count of dd_nn_set_threads capped at NN_MAX_PARTS, the number of
** per-thread buffers they keep) and run them with dd_nn_parallel (nn.h). */
#define NN_MAX_PARTS 8
int nn_parts(void);

/* Runs fn(ctx, begin, end) over [0, n) cut into contiguous ranges, one a
** thread, when n is at least twice min_part; on the caller alone
** otherwise (a hand-off costs microseconds: it pays for memory-bound passes
** over hundreds of thousands of floats, not for small ones). The bounds
** are multiples of 16, a cache line of floats, so no two threads write one
** line. For elementwise passes, whose results do not depend on the cut. */
typedef void (*nn_range_fn)(void *ctx, size_t begin, size_t end);
void nn_parallel_range(nn_range_fn fn, void *ctx, size_t n, size_t min_part);

/* min_part for passes that read and write a few floats per element. */
#define NN_RANGE_MIN ((size_t)1 << 16)

#endif
