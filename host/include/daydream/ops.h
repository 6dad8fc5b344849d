/*
** daydream/ops.h -- differentiable ops and losses recorded on a dd_graph.
**
** Every op returns its output, a tensor in g's arena valid until the next
** dd_graph_reset(), or NULL after leaving a message in g (dd_graph_error).
** An op given a NULL input returns NULL without a new message, so nested
** calls report the first failure. The output wants a gradient when any input
** does; only then is the op recorded. Inputs must not change between the
** forward call and dd_graph_backward().
**
** Conventions: the feature (channel, class) axis is axis 1: a matrix is
** (N, F), an image batch (N, C, H, W). Per-feature vectors (biases, shrinkage
** thresholds) have dims[1] entries and broadcast over every other axis.
** Losses return a tensor of size 1 and say how they average.
*/
#ifndef DAYDREAM_OPS_H
#define DAYDREAM_OPS_H

#include "daydream/graph.h"
#include "daydream/rng.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- dense (linear.c) --------------------------------------------------- */

/* a (M, K) times b (K, N) -> (M, N). */
dd_tensor *dd_matmul(dd_graph *g, dd_tensor *a, dd_tensor *b);

/* y = x W^T + b with w (out, in), b (out) or NULL. x's last axis has `in`
** entries; every other axis is batch, kept in y, whose last axis is `out`.
** A frozen w (grad NULL) costs no dW work. */
dd_tensor *dd_linear(dd_graph *g, dd_tensor *x, dd_tensor *w, dd_tensor *b);

/* ---- activations (activation.c) ----------------------------------------- */

dd_tensor *dd_relu(dd_graph *g, dd_tensor *x);
dd_tensor *dd_leaky_relu(dd_graph *g, dd_tensor *x, float slope);
dd_tensor *dd_tanh(dd_graph *g, dd_tensor *x);
dd_tensor *dd_sigmoid(dd_graph *g, dd_tensor *x);
/* log(1 + e^x), computed without overflow. */
dd_tensor *dd_softplus(dd_graph *g, dd_tensor *x);
/* Soft-threshold shrinkage sign(x) max(|x| - theta, 0) with one learnable
** threshold per feature: theta has x->dims[1] entries (x at least 2-D). */
dd_tensor *dd_shrink(dd_graph *g, dd_tensor *x, dd_tensor *theta);

/* ---- elementwise (elementwise.c) ---------------------------------------- */

/* a + b, a - b, a * b: same shapes. */
dd_tensor *dd_add(dd_graph *g, dd_tensor *a, dd_tensor *b);
dd_tensor *dd_sub(dd_graph *g, dd_tensor *a, dd_tensor *b);
dd_tensor *dd_mul(dd_graph *g, dd_tensor *a, dd_tensor *b);
/* s * x. */
dd_tensor *dd_scale(dd_graph *g, dd_tensor *x, float s);
/* x + b broadcast along axis 1: b has x->dims[1] entries (a conv bias). */
dd_tensor *dd_add_bias(dd_graph *g, dd_tensor *x, dd_tensor *b);

/* ---- reductions (reduce.c) ---------------------------------------------- */

/* Sum or mean over one axis, which is removed (a 1-D x gives shape (1)). */
dd_tensor *dd_sum(dd_graph *g, dd_tensor *x, int axis);
dd_tensor *dd_mean(dd_graph *g, dd_tensor *x, int axis);
/* Sum or mean of every element: shape (1). */
dd_tensor *dd_sum_all(dd_graph *g, dd_tensor *x);
dd_tensor *dd_mean_all(dd_graph *g, dd_tensor *x);

/* ---- shapes (shape.c) --------------------------------------------------- */

/* The same buffers (data and grad) under another shape of the same size:
** costs nothing and records nothing, since gradients are shared. */
dd_tensor *dd_reshape(dd_graph *g, dd_tensor *x, int ndim, const int *dims);
/* Joins n tensors along axis; all other dims must agree. */
dd_tensor *dd_concat(dd_graph *g, dd_tensor *const *xs, int n, int axis);
/* The entries [start, start + len) of axis. */
dd_tensor *dd_slice(dd_graph *g, dd_tensor *x, int axis, int start, int len);

/* ---- softmax (softmax.c) ------------------------------------------------ */

/* Softmax and log-softmax over axis 1 (classes), for each sample and, on
** an image batch, each pixel. */
dd_tensor *dd_softmax(dd_graph *g, dd_tensor *x);
dd_tensor *dd_log_softmax(dd_graph *g, dd_tensor *x);

/* ---- noise (dropout.c, gaussian.c) -------------------------------------- */

typedef enum dd_dropout_mode {
	DD_DROPOUT_TRAIN = 0,   /* on in training mode, identity otherwise */
	DD_DROPOUT_ALWAYS = 1   /* on at inference too (uncertainty estimates) */
} dd_dropout_mode;

/* Inverted dropout: zeroes each entry with probability p and scales the rest
** by 1/(1-p); the mask is saved for backward. When off, returns x itself.
** p in [0, 1); rng draws the mask (may be NULL when dropout is off). */
dd_tensor *dd_dropout(dd_graph *g, dd_tensor *x, float p, dd_dropout_mode mode,
                      dd_rng *rng);

/* Reparameterised sample z = mu + exp(logvar / 2) * eps, eps ~ N(0, 1) drawn
** from rng and saved; gradients flow to mu and logvar. */
dd_tensor *dd_gaussian_sample(dd_graph *g, dd_tensor *mu, dd_tensor *logvar, dd_rng *rng);

/* ---- losses (loss.c, loss_gauss.c) -------------------------------------- */

/* Mean over all elements of (p - t)^2, |p - t|. t may want a gradient too. */
dd_tensor *dd_mse(dd_graph *g, dd_tensor *p, dd_tensor *t);
dd_tensor *dd_l1(dd_graph *g, dd_tensor *p, dd_tensor *t);

/* Gradient-difference loss (Mathieu, Couprie & LeCun 2016) on images whose
** last two axes are H and W:
**   sum over neighbours along H and along W of | |p_i - p_j| - |t_i - t_j| |^alpha
** divided by the number of elements of p. alpha >= 1. */
dd_tensor *dd_gdl(dd_graph *g, dd_tensor *p, dd_tensor *t, float alpha);

/* Binary cross-entropy of sigmoid(logits) against targets in [0, 1], mean
** over all elements; stable for any logit. */
dd_tensor *dd_bce_logits(dd_graph *g, dd_tensor *logits, dd_tensor *targets);

/* Cross-entropy of softmax(logits) over axis 1 against integer classes,
** mean over samples (and pixels): targets holds one class in [0, dims[1])
** per sample (per pixel), copied. */
dd_tensor *dd_cross_entropy(dd_graph *g, dd_tensor *logits, const int *targets);

/* KL(N(mu, e^logvar) || N(0, 1)), summed over all but axis 0, mean over
** axis 0 (the batch). */
dd_tensor *dd_kl_normal(dd_graph *g, dd_tensor *mu, dd_tensor *logvar);

/* KL(N(mu1, e^lv1) || N(mu2, e^lv2)) of diagonal Gaussians, summed over all
** but axis 0, mean over axis 0; all four may want gradients. */
dd_tensor *dd_kl_gauss(dd_graph *g, dd_tensor *mu1, dd_tensor *lv1, dd_tensor *mu2,
                       dd_tensor *lv2);

/* Hinge [margin - e]+, mean over all elements (an energy-based GAN's
** generator-sample term). */
dd_tensor *dd_hinge(dd_graph *g, dd_tensor *e, float margin);

#ifdef __cplusplus
}
#endif
#endif
