/* winograd.h - 4 x 4, stride 2 convolutions by Winograd's F(3x3, 2x2) on
 * phase planes (winograd.c), for conv.c. Not installed. */
#ifndef DD_NN_WINOGRAD_H
#define DD_NN_WINOGRAD_H

#include "conv.h"

/* Whether conv2d of shape s (its input gradient if input_grad) is faster
 * this way here: 4 x 4 kernels, stride 2, any padding, inputs of 16
 * channels or more, on a CPU where gemm.c's kernel runs. */
int nn_wino_pays(const dd_conv2d_shape *s, int input_grad);

/* y = conv(x, weight) + bias (bias may be NULL). Returns 0, having done
 * nothing, when it cannot (another thread of the program has the buffers,
 * or no memory for them): conv.c then takes its own path. */
int nn_wino_forward(const dd_conv2d_shape *s, float *y, const float *x, const float *weight,
                    const float *bias);

/* dx += the input gradient of conv(., weight) for upstream gradient dy;
 * 0 as above. */
int nn_wino_input_grad(const dd_conv2d_shape *s, float *dx, const float *dy,
                       const float *weight);

#endif
