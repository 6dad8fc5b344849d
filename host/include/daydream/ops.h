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

#include <stdint.h>

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

/* The tanh that dd_tanh computes, for plugins' own loops: Eigen's rational
** approximation (numerator of degree 13, denominator 6, inputs clamped to
** +-7.9), within 4e-7 of tanh. A loop of it vectorises, where one of
** libm's tanhf stays a call per element. */
static inline float dd_tanhf(float v)
{
	const float c = 7.90531110763549805f;
	float x = v > c ? c : (v < -c ? -c : v), x2 = x * x;
	float p = -2.76076847742355e-16f;
	p = p * x2 + 2.00018790482477e-13f;
	p = p * x2 - 8.60467152213735e-11f;
	p = p * x2 + 5.12229709037114e-08f;
	p = p * x2 + 1.48572235717979e-05f;
	p = p * x2 + 6.37261928875436e-04f;
	p = p * x2 + 4.89352455891786e-03f;
	float q = 1.19825839466702e-06f;
	q = q * x2 + 1.18534705686654e-04f;
	q = q * x2 + 2.26843463243900e-03f;
	q = q * x2 + 4.89352518554385e-03f;
	return x * p / q;
}
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

/* ---- convolutions (op_conv.c) ------------------------------------------- */

/* Stride, zero padding and (transposed convolution only) output padding. A
** NULL params pointer means stride 1, no padding. Strides must be >= 1;
** output padding must be in [0, stride). */
typedef struct dd_conv_params {
	int sh, sw;     /* stride */
	int ph, pw;     /* zero padding on each side */
	int oph, opw;   /* conv_transpose2d: extra rows/cols on the far side */
} dd_conv_params;

/* 2-D convolution (PyTorch's Conv2d): x (N, C, H, W), w (Co, C, kh, kw),
** b (Co) or NULL -> (N, Co, Ho, Wo), Ho = (H + 2 ph - kh) / sh + 1.
** im2col + sgemm; a frozen w or b (grad NULL) costs no dW / db work. Its
** im2col scratch comes from the arena and is reused by backward. */
dd_tensor *dd_conv2d(dd_graph *g, dd_tensor *x, dd_tensor *w, dd_tensor *b,
                     const dd_conv_params *p);

/* Transposed convolution (PyTorch's ConvTranspose2d): x (N, C, H, W),
** w (C, Co, kh, kw), b (Co) or NULL -> (N, Co, Ho, Wo),
** Ho = (H - 1) sh - 2 ph + kh + oph. */
dd_tensor *dd_conv_transpose2d(dd_graph *g, dd_tensor *x, dd_tensor *w, dd_tensor *b,
                               const dd_conv_params *p);

/* ---- upsampling (op_upsample.c) ----------------------------------------- */

/* (N, C, H, W) -> (N, C, H fh, W fw) by integer factors >= 1. Nearest
** copies each pixel; bilinear equals PyTorch's F.interpolate(mode=
** 'bilinear', align_corners=False). */
dd_tensor *dd_upsample_nearest(dd_graph *g, dd_tensor *x, int fh, int fw);
dd_tensor *dd_upsample_bilinear(dd_graph *g, dd_tensor *x, int fh, int fw);

/* ---- pooling (op_pool.c) ------------------------------------------------ */

/* A pooling window kh x kw moved by stride sh, sw (which may exceed the
** window) over the input padded by ph, pw on each side (at most half the
** window; padded taps take no part). Ho = (H + 2 ph - kh) / sh + 1. */
typedef struct dd_pool_params {
	int kh, kw;
	int sh, sw;
	int ph, pw;
} dd_pool_params;

/* Where max-pooling found each maximum: what the "where" half of a
** what-where auto-encoder needs. Lives in the arena (valid until the next
** dd_graph_reset) and is read-only for the caller. */
typedef struct dd_pool_switches {
	const int32_t *idx;   /* one per pooled output, (N, C, Ho, Wo): the argmax
	                      ** as y * W + x in its input plane (PyTorch's
	                      ** return_indices) */
	int n, c, h, w;       /* the pooled input's shape */
	int ho, wo;           /* the pooled output's plane */
	dd_pool_params p;
} dd_pool_switches;

/* Max-pooling of x (N, C, H, W) -> (N, C, Ho, Wo). When sw is not NULL,
** *sw receives the switches (NULL on failure). Ties go to the first tap
** in row-major order; NaN propagates. */
dd_tensor *dd_maxpool2d(dd_graph *g, dd_tensor *x, const dd_pool_params *p,
                        const dd_pool_switches **sw);

/* Unpooling: y (N, C, Ho, Wo) placed at the switches of the pooling that
** made sw, zeros elsewhere -> (N, C, H, W). Where overlapping windows share
** a switch their values add up. NULL sw is a NULL input. */
dd_tensor *dd_maxunpool2d(dd_graph *g, dd_tensor *y, const dd_pool_switches *sw);

/* Soft-max pooling and soft-argmax ("phase pooling"): over each window,
** with p = softmax(beta x) over its real taps, the output is sum p x and,
** when pos_x / pos_y are not NULL, *pos_x and *pos_y receive the expected
** tap offset sum p kx, sum p ky in [0, kw-1] x [0, kh-1] (N, C, Ho, Wo).
** beta -> +inf tends to max-pooling, beta = 0 is average pooling. The
** temperature is the float beta, or, when beta_t (one entry) is not NULL,
** beta_t's value, which then learns like any parameter. */
dd_tensor *dd_softpool2d(dd_graph *g, dd_tensor *x, const dd_pool_params *p, float beta,
                         dd_tensor *beta_t, dd_tensor **pos_x, dd_tensor **pos_y);

/* L2 pooling over groups of channels (group sparsity; topographic when
** groups overlap). The C channels lie on a grid_h x grid_w grid; a group is
** a gh x gw block of it, one every sh, sw cells; at every pixel
** out[g] = sqrt(eps + sum_{i in g} x_i^2). Plain groups of G consecutive
** channels: {1, C, 1, G, 1, G, eps}. */
typedef struct dd_l2pool_params {
	int grid_h, grid_w;
	int gh, gw;
	int sh, sw;
	float eps;   /* >= 0; > 0 keeps the gradient finite at an all-zero group */
} dd_l2pool_params;

/* x (N, C) or (N, C, H, W) -> (N, groups) or (N, groups, H, W), groups =
** ((grid_h - gh) / sh + 1) ((grid_w - gw) / sw + 1). */
dd_tensor *dd_l2pool(dd_graph *g, dd_tensor *x, const dd_l2pool_params *p);

/* ---- LSTM (op_lstm.c) --------------------------------------------------- */

/* PyTorch's nn.LSTM layout, so weights load unchanged: w_ih (4H, I),
** w_hh (4H, H), b_ih and b_hh (4H) or NULL; gate blocks in the order
** i, f, g, o. A frozen weight (grad NULL) costs no dW work. */
typedef struct dd_lstm_weights {
	dd_tensor *w_ih, *w_hh, *b_ih, *b_hh;
} dd_lstm_weights;

/* A hidden and cell state, each (B, H). */
typedef struct dd_lstm_state {
	dd_tensor *h, *c;
} dd_lstm_state;

/* One step: x (B, I) and prev (NULL: zeros) -> the next state, whose h and
** c are views of one arena block (both NULL on failure or when prev's are
** NULL). Unroll it in a loop for recurrences with inputs computed between
** steps; weights shared by the steps accumulate their gradients. */
dd_lstm_state dd_lstm_cell(dd_graph *g, dd_tensor *x, const dd_lstm_state *prev,
                           const dd_lstm_weights *w);

/* T steps at once over x (T, B, I) from init (NULL: zeros) -> every step's
** h, (T, B, H) contiguous; when last is not NULL it receives the final h and
** c (views; gradients may flow into all three). One op on the tape: its
** backward runs the recurrence step by step, then the input and weight
** gradients of all steps as single sgemms (dd_lstm_backward_steps), about
** twice as fast as unrolled cells. */
dd_tensor *dd_lstm(dd_graph *g, dd_tensor *x, const dd_lstm_state *init,
                   const dd_lstm_weights *w, dd_lstm_state *last);

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
