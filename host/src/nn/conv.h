/* conv.h - 2-D convolution and transposed convolution on raw float arrays.
 * Forward/backward pairs in the manner of llm.c: NCHW float32 contiguous,
 * im2col + sgemm (dd_sgemm, gemm.h) with the batch folded into the matrix
 * product, on the toolkit's threads (dd_nn_set_threads). */
#ifndef DD_NN_CONV_H
#define DD_NN_CONV_H

#include <stddef.h>

/* Common contract of every kernel in this file:
 * - Layout NCHW, float32, contiguous; weights [c_out][c_in][kh][kw] for
 *   conv2d (PyTorch's Conv2d), [c_in][c_out][kh][kw] for the transposed
 *   convolution (PyTorch's ConvTranspose2d).
 * - Forward overwrites its output. Backward ADDS (+=) into every gradient
 *   buffer, so shared weights and unrolled recurrences accumulate; the
 *   caller zeroes gradients once per step.
 * - Any gradient pointer may be NULL: that gradient is not computed and its
 *   work is skipped (a frozen network pays nothing for dweight/dbias).
 * - bias may be NULL (no bias).
 * - scratch holds at least *_scratch_floats(shape) floats; it is clobbered.
 *   Kernels never print or abort, and allocate only on first use: the
 *   matrix product's packing buffers and each worker thread's padded image,
 *   grown to the largest layer once and kept (a steady step allocates
 *   nothing). Shapes must pass *_check(). */

typedef struct dd_conv2d_shape {
    int n;            /* batch size */
    int c_in, h_in, w_in;
    int c_out;
    int kh, kw;       /* kernel size */
    int sh, sw;       /* stride */
    int ph, pw;       /* zero padding added on each side */
} dd_conv2d_shape;

/* Returns 0 if the shape is usable (positive sizes and strides, padding
 * >= 0, a kernel that fits the padded input), -1 otherwise. */
int dd_conv2d_check(const dd_conv2d_shape *s);

/* Output height and width: floor((h_in + 2*ph - kh) / sh) + 1, as PyTorch. */
int dd_conv2d_out_h(const dd_conv2d_shape *s);
int dd_conv2d_out_w(const dd_conv2d_shape *s);

/* Floats of scratch that forward and backward need: im2col columns for a
 * chunk of the batch (a few MB at most for big batches), one product buffer
 * of the same width, a zero-padded input image and an offset table. */
size_t dd_conv2d_scratch_floats(const dd_conv2d_shape *s);

/* out[n][c_out][h_out][w_out] = conv(in, weight) + bias.
 * in: [n][c_in][h_in][w_in], weight: [c_out][c_in][kh][kw], bias: [c_out]. */
void dd_conv2d_forward(const dd_conv2d_shape *s, float *out, const float *in,
                       const float *weight, const float *bias, float *scratch);

/* Given dout = dL/dout, adds dL/din into din, dL/dweight into dweight and
 * dL/dbias into dbias (each may be NULL). Needs the forward's input (only if
 * dweight is wanted) and weight (only if din is wanted). */
void dd_conv2d_backward(const dd_conv2d_shape *s, float *din, float *dweight,
                        float *dbias, const float *dout, const float *in,
                        const float *weight, float *scratch);

/* Transposed convolution ("deconvolution"), PyTorch's ConvTranspose2d:
 * h_out = (h_in - 1)*sh - 2*ph + kh + oph. Its forward is conv2d's input
 * gradient and its backward is conv2d's forward plus weight gradient. */
typedef struct dd_conv_transpose2d_shape {
    int n;
    int c_in, h_in, w_in;
    int c_out;
    int kh, kw;
    int sh, sw;
    int ph, pw;
    int oph, opw;     /* output padding (extra rows/cols at the far side), < stride */
} dd_conv_transpose2d_shape;

/* Returns 0 if usable (as conv2d, plus 0 <= output padding < stride and a
 * positive output size), -1 otherwise. */
int dd_conv_transpose2d_check(const dd_conv_transpose2d_shape *s);
int dd_conv_transpose2d_out_h(const dd_conv_transpose2d_shape *s);
int dd_conv_transpose2d_out_w(const dd_conv_transpose2d_shape *s);
size_t dd_conv_transpose2d_scratch_floats(const dd_conv_transpose2d_shape *s);

/* out[n][c_out][h_out][w_out] = conv_transpose(in, weight) + bias.
 * in: [n][c_in][h_in][w_in], weight: [c_in][c_out][kh][kw], bias: [c_out]. */
void dd_conv_transpose2d_forward(const dd_conv_transpose2d_shape *s, float *out,
                                 const float *in, const float *weight,
                                 const float *bias, float *scratch);

/* Adds dL/din, dL/dweight, dL/dbias (each may be NULL) given dout. Needs in
 * only for dweight and weight only for din. */
void dd_conv_transpose2d_backward(const dd_conv_transpose2d_shape *s, float *din,
                                  float *dweight, float *dbias, const float *dout,
                                  const float *in, const float *weight,
                                  float *scratch);

#endif
