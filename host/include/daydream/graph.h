/*
** daydream/graph.h -- one training step's arena and tape (reverse-mode autodiff).
**
** A dd_graph owns one fixed block of memory, the arena, from which every
** activation, its gradient, each op's saved state and the tape itself are
** carved during a step; dd_graph_reset() empties it in O(1). A step therefore
** never touches the heap, and running out of arena is an error, never an
** abort. Ops (daydream/ops.h) append a node to the tape when any input wants
** a gradient; dd_graph_backward() walks the tape in reverse and every
** backward ADDS into gradients, so a tensor used twice gets both shares.
**
** Errors are sticky, as in a stream: the first failure leaves its message in
** the graph; later ops given a NULL input return NULL at once without
** overwriting it, so a forward pass can be written as plain nested calls and
** checked once at the end with dd_graph_error().
**
** Writing a new op (e.g. a conv kernel of the llm.c kind) takes four calls:
** dd_graph_tensor() for the output, dd_graph_alloc() for what backward needs,
** the forward kernel, and dd_graph_record() with a backward function that
** reads n->in[i]->data and n->out->grad and adds into n->in[i]->grad where
** that is not NULL (NULL means nobody asked: skip the work).
*/
#ifndef DAYDREAM_GRAPH_H
#define DAYDREAM_GRAPH_H

#include <stddef.h>

#include "daydream/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dd_graph dd_graph;
typedef struct dd_node dd_node;

/* Adds the gradient of n->out into its inputs' gradients; DD_OK or DD_ERR
** after dd_graph_fail(). */
typedef int (*dd_backward_fn)(dd_graph *g, const dd_node *n);

/* One recorded op. Everything it points to lives in the arena (or is a
** tensor owned elsewhere that outlives the step). */
struct dd_node {
	dd_backward_fn backward;
	dd_tensor *out;
	dd_tensor **in;     /* n_in inputs, in the order the op documents */
	int n_in;
	void *saved;        /* op state saved by forward: masks, params, workspace */
};

/* Allocates a graph whose arena holds arena_bytes. NULL when memory runs
** out. The caller owns it; release with dd_graph_free(). */
dd_graph *dd_graph_new(size_t arena_bytes);
void dd_graph_free(dd_graph *g);

/* Forgets the tape, every arena tensor and the error; keeps the arena.
** Tensors handed out before are invalid afterwards. */
void dd_graph_reset(dd_graph *g);

/* The first error since the last reset, or "" when there is none. */
const char *dd_graph_error(const dd_graph *g);

/* Records a formatted error (the first one wins) and returns DD_ERR. */
int dd_graph_fail(dd_graph *g, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;

/* Training mode switches dropout on; a new graph is in training mode. */
void dd_graph_set_training(dd_graph *g, int training);
int dd_graph_training(const dd_graph *g);

/* Arena bytes in use now, its capacity, and the most ever requested in one
** step since creation (including a request that overflowed): size the arena
** from the latter. */
size_t dd_graph_arena_used(const dd_graph *g);
size_t dd_graph_arena_capacity(const dd_graph *g);
size_t dd_graph_arena_peak(const dd_graph *g);

/* Carves bytes (64-byte aligned, uninitialised) from the arena; NULL after
** recording an overflow error. Valid until the next reset. */
void *dd_graph_alloc(dd_graph *g, size_t bytes);

/* A new arena tensor: data uninitialised; with want_grad a zeroed gradient.
** NULL on a bad shape or overflow. Valid until the next reset. */
dd_tensor *dd_graph_tensor(dd_graph *g, int ndim, const int *dims, int want_grad);

/* An arena tensor holding a copy of src (zeroes when src is NULL). With
** want_grad, backward leaves d(loss)/d(input) in its grad (inputs such as
** actions or latent variables of a planner). */
dd_tensor *dd_graph_input(dd_graph *g, int ndim, const int *dims, const float *src,
                          int want_grad);

/* Appends a node to the tape. The in array is copied; saved must live in the
** arena (or longer). Does nothing when out->grad is NULL: nobody downstream
** can want a gradient through it. DD_ERR on overflow. */
int dd_graph_record(dd_graph *g, dd_backward_fn backward, dd_tensor *out,
                    dd_tensor *const *in, int n_in, void *saved);

/* 1 when any of the n tensors wants a gradient (the output of an op should). */
int dd_any_grad(dd_tensor *const *t, int n);

/* Back-propagates from a scalar loss (size 1): adds 1 to loss->grad and runs
** the tape in reverse. DD_ERR when the graph already failed, loss is NULL or
** not a scalar, or a backward fails. */
int dd_graph_backward(dd_graph *g, dd_tensor *loss);

/* As dd_graph_backward, from any tensor: adds dy (y->size floats) into
** y->grad first. A world model's predict_grad uses it. */
int dd_graph_backward_seed(dd_graph *g, dd_tensor *y, const float *dy);

#ifdef __cplusplus
}
#endif
#endif
