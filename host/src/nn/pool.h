/* pool.h - pooling kernels on raw NCHW float arrays: max-pooling with argmax
 * switches and max-unpooling (what-where auto-encoders), soft-max pooling
 * and soft-argmax ("phase pooling"), and L2 pooling over channel groups. */
#ifndef DD_NN_POOL_H
#define DD_NN_POOL_H

#include <stddef.h>
#include <stdint.h>

/* Common contract: layout NCHW, float32, contiguous. Forward overwrites its
 * outputs; backward ADDS (+=) into gradient buffers (the caller zeroes them
 * once per step); a NULL gradient pointer means "not wanted" and skips that
 * work. Whatever backward needs is saved by forward into caller-provided
 * buffers. Kernels never allocate, print or abort; shapes must pass their
 * check function. */

/* A pooling window: input [n][c][h][w] -> output [n][c][h_out][w_out],
 * h_out = floor((h + 2*ph - kh) / sh) + 1 (PyTorch, ceil_mode=False).
 * Padded taps take no part (they are not zeros: max and softmax ignore
 * them, as PyTorch's -inf padding does). */
typedef struct dd_pool2d_shape {
    int n, c, h, w;
    int kh, kw;   /* window */
    int sh, sw;   /* stride; may exceed the window (pixels are then skipped) */
    int ph, pw;   /* padding on each side, at most half the window */
} dd_pool2d_shape;

/* 0 if usable: positive sizes and strides, 0 <= ph <= kh/2 and
 * 0 <= pw <= kw/2 (so every window holds at least one real pixel), and a
 * window that fits the padded input; -1 otherwise. */
int dd_pool2d_check(const dd_pool2d_shape *s);
int dd_pool2d_out_h(const dd_pool2d_shape *s);
int dd_pool2d_out_w(const dd_pool2d_shape *s);

/* ---- max-pooling and unpooling ----------------------------------------- */

/* out = max over each window; switches (same size as out) receives the
 * argmax as an index y*w + x into its input plane (PyTorch's
 * return_indices convention). Ties go to the first tap in row-major order;
 * a NaN in a window wins (propagates), as in PyTorch. */
void dd_maxpool2d_forward(const dd_pool2d_shape *s, float *out, int32_t *switches,
                          const float *in);

/* din[switch] += dout for every output. */
void dd_maxpool2d_backward(const dd_pool2d_shape *s, float *din, const float *dout,
                           const int32_t *switches);

/* The "where" half of a what-where decoder: places each pooled value
 * in [n][c][h_out][w_out] at its switch in out [n][c][h][w], zeros
 * elsewhere (s is the shape of the pooling being inverted). Where
 * overlapping windows share a switch their values add up (PyTorch's
 * MaxUnpool2d keeps an arbitrary one); with non-overlapping windows the two
 * agree. */
void dd_maxunpool2d_forward(const dd_pool2d_shape *s, float *out, const float *in,
                            const int32_t *switches);

/* din[o] += dout[switch[o]]: din is pooled-sized, dout input-sized. */
void dd_maxunpool2d_backward(const dd_pool2d_shape *s, float *din, const float *dout,
                             const int32_t *switches);

/* ---- soft-max pooling and soft-argmax (phase pooling) ------------------- */

/* Floats forward saves for backward: the softmax weights of every window,
 * n*c*h_out*w_out*kh*kw. */
size_t dd_softpool2d_saved_floats(const dd_pool2d_shape *s);

/* Over each window, with weights p = softmax(beta * x) over its real taps:
 *   out   = sum_i p_i x_i                 (soft-max pooling, "what")
 *   pos_x = sum_i p_i kx_i,  pos_y = sum_i p_i ky_i   (soft-argmax, "where")
 * Positions are the expected tap offset from the window's top-left tap in
 * input pixels, in [0, kw-1] x [0, kh-1]; a padded tap has weight 0.
 * beta -> +inf tends to max-pooling, beta = 0 gives average pooling.
 * out, pos_x, pos_y may each be NULL; saved must not be. */
void dd_softpool2d_forward(const dd_pool2d_shape *s, float beta, float *out,
                           float *pos_x, float *pos_y, float *saved,
                           const float *in);

/* Adds into din (and into *dbeta, the gradient w.r.t. the temperature, if
 * not NULL) the gradient given any of dout, dpos_x, dpos_y (NULL = no
 * gradient arrives there). Needs the forward's input and saved weights. */
void dd_softpool2d_backward(const dd_pool2d_shape *s, float beta, float *din,
                            float *dbeta, const float *dout, const float *dpos_x,
                            const float *dpos_y, const float *in,
                            const float *saved);

/* ---- L2 pooling over groups of channels (group sparsity) -------------- */

/* The c channels are laid out on a grid_h x grid_w grid (grid_h*grid_w = c);
 * each group is a gh x gw block of that grid, groups start every sh, sw
 * grid cells (stride < group size makes them overlap, as topographic
 * sparse coding uses). At every pixel:
 *     out[g] = sqrt(eps + sum_{i in g} in[i]^2).
 * Plain groups of G consecutive channels: grid 1 x c, group 1 x G, stride
 * 1 x G. Output [n][groups][h][w], groups = gy * gx with
 * gy = (grid_h - gh)/sh + 1, gx = (grid_w - gw)/sw + 1. */
typedef struct dd_l2pool_shape {
    int n, c, h, w;
    int grid_h, grid_w;
    int gh, gw;
    int sh, sw;
    float eps;    /* > 0 keeps the gradient finite at an all-zero group */
} dd_l2pool_shape;

/* 0 if usable (grid_h*grid_w == c, groups fit the grid, eps >= 0, positive
 * sizes), -1 otherwise. */
int dd_l2pool_check(const dd_l2pool_shape *s);
/* Number of output channels (groups). */
int dd_l2pool_groups(const dd_l2pool_shape *s);

void dd_l2pool_forward(const dd_l2pool_shape *s, float *out, const float *in);

/* din[i] += sum over groups g containing i of dout[g] * in[i] / out[g].
 * Needs the forward's input and output. */
void dd_l2pool_backward(const dd_l2pool_shape *s, float *din, const float *dout,
                        const float *in, const float *out);

#endif
