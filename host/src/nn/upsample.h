/* upsample.h - nearest and bilinear upsampling by integer factors on raw
 * NCHW float arrays, forward and backward (decoders of world models and
 * auto-encoders). */
#ifndef DD_NN_UPSAMPLE_H
#define DD_NN_UPSAMPLE_H

/* Input [n][c][h][w] -> output [n][c][h*fh][w*fw]. Forward overwrites its
 * output; backward ADDS into din (the caller zeroes it once per step). The
 * kernels never allocate. */
typedef struct dd_upsample_shape {
    int n, c, h, w;
    int fh, fw;   /* integer scale factors, >= 1 */
} dd_upsample_shape;

/* 0 if all sizes and factors are positive, -1 otherwise. */
int dd_upsample_check(const dd_upsample_shape *s);

/* Nearest: out[y][x] = in[y / fh][x / fw] (PyTorch mode='nearest'). */
void dd_upsample_nearest_forward(const dd_upsample_shape *s, float *out, const float *in);
/* din[y][x] += sum of dout over the fh x fw block that copied it. */
void dd_upsample_nearest_backward(const dd_upsample_shape *s, float *din, const float *dout);

/* Bilinear with PyTorch's default align_corners=False: output pixel centres
 * map to input coordinates src = (dst + 0.5) / f - 0.5, clamped below at 0,
 * interpolating between floor(src) and the next pixel (clamped to the last
 * one). Borders therefore replicate the edge pixels; corners are not
 * aligned. Equals F.interpolate(x, scale_factor=f, mode='bilinear'). */
void dd_upsample_bilinear_forward(const dd_upsample_shape *s, float *out, const float *in);
/* din += the adjoint: each dout is shared among its 4 source pixels with the
 * same interpolation weights. */
void dd_upsample_bilinear_backward(const dd_upsample_shape *s, float *din, const float *dout);

#endif
