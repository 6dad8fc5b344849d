/*
** daydream/param.h -- a set of named parameters in one contiguous buffer.
**
** A dd_paramset owns three things: one float buffer of every parameter, one
** of their gradients, and a table of named tensors that are views into both.
** Zeroing, clipping, an optimiser step, a checkpoint or an all-reduce over
** processes is therefore one loop over one buffer. Persistent state hangs
** here; per-step state lives in a dd_graph.
**
** Life cycle: dd_paramset_new, dd_paramset_add for each tensor (their data
** is NULL until then), dd_paramset_alloc once, dd_init_* on each tensor.
** Errors leave a message retrievable with dd_paramset_error().
*/
#ifndef DAYDREAM_PARAM_H
#define DAYDREAM_PARAM_H

#include <stddef.h>

#include "daydream/rng.h"
#include "daydream/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DD_PARAM_NAME_MAX 63 /* bytes of a parameter name, without the NUL */

typedef struct dd_paramset dd_paramset;

/* An empty set, or NULL when memory runs out. The caller owns it; release
** with dd_paramset_free(), which frees every buffer and tensor. */
dd_paramset *dd_paramset_new(void);
void dd_paramset_free(dd_paramset *ps);

/* Declares a parameter. name: 1..DD_PARAM_NAME_MAX bytes of [A-Za-z0-9_.-],
** unique in the set. Returns a tensor owned by the set whose data and grad
** point into the set's buffers once dd_paramset_alloc() ran; NULL on error. */
dd_tensor *dd_paramset_add(dd_paramset *ps, const char *name, int ndim, const int *dims);

/* Allocates the zeroed parameter and gradient buffers (each tensor starts on
** a 64-byte boundary; the gaps stay zero). Once only. */
int dd_paramset_alloc(dd_paramset *ps);

/* The message of the last failure of any call on ps (or of an optimiser or
** checkpoint call given ps), or "". */
const char *dd_paramset_error(const dd_paramset *ps);

/* Records a formatted error and returns DD_ERR. */
int dd_paramset_fail(dd_paramset *ps, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;

/* The whole buffers: count floats each, including alignment gaps. */
size_t dd_paramset_count(const dd_paramset *ps);
float *dd_paramset_data(dd_paramset *ps);
float *dd_paramset_grad(dd_paramset *ps);

/* The tensors, in the order they were added; find returns NULL on a miss. */
int dd_paramset_len(const dd_paramset *ps);
dd_tensor *dd_paramset_tensor(dd_paramset *ps, int i);
const char *dd_paramset_name(const dd_paramset *ps, int i);
dd_tensor *dd_paramset_find(dd_paramset *ps, const char *name);

/* A frozen set hands out tensors whose grad is NULL, so ops skip every
** parameter-gradient computation (planning through a fixed world model);
** optimiser steps on it do nothing. Unfreezing restores the grads. */
void dd_paramset_freeze(dd_paramset *ps, int frozen);
int dd_paramset_frozen(const dd_paramset *ps);

/* Zeroes the gradient buffer. */
void dd_paramset_zero_grad(dd_paramset *ps);

/* The L2 norm of the whole gradient (accumulated in double). */
double dd_paramset_grad_norm(const dd_paramset *ps);

/* Scales the gradient so its L2 norm is at most max_norm; returns the norm
** before clipping. */
double dd_paramset_clip_grad_norm(dd_paramset *ps, double max_norm);

/* ---- initialisation (init.c): same rng state, same values, bit for bit --
** fan_in and fan_out of a weight (out, in, kh, kw) are in*kh*kw and
** out*kh*kw; of a vector, its size. All return DD_ERR on a NULL or
** unallocated tensor (and orthogonal on a 1-D one or no memory). */

int dd_init_constant(dd_tensor *t, float value);
int dd_init_uniform(dd_tensor *t, dd_rng *rng, float lo, float hi);
int dd_init_normal(dd_tensor *t, dd_rng *rng, float mean, float std);
/* Glorot: uniform in +-gain*sqrt(6 / (fan_in + fan_out)). */
int dd_init_xavier(dd_tensor *t, dd_rng *rng, float gain);
/* He/Kaiming for ReLU: normal with std sqrt(2 / fan_in). */
int dd_init_he(dd_tensor *t, dd_rng *rng);
/* gain times a (semi-)orthogonal matrix (dims[0] rows, the rest flattened
** into columns): orthonormal rows when rows <= columns, else orthonormal
** columns. Gram-Schmidt in double on a Gaussian matrix; allocates scratch. */
int dd_init_orthogonal(dd_tensor *t, dd_rng *rng, float gain);

#ifdef __cplusplus
}
#endif
#endif
