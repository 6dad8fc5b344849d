/* upsample.c - nearest and bilinear (align_corners=False) upsampling by
 * integer factors, forward and backward side by side. */
#include "upsample.h"

#include <stddef.h>

int dd_upsample_check(const dd_upsample_shape *s)
{
    if (!s || s->n < 1 || s->c < 1 || s->h < 1 || s->w < 1 || s->fh < 1 || s->fw < 1)
        return -1;
    return 0;
}

void dd_upsample_nearest_forward(const dd_upsample_shape *s, float *out, const float *in)
{
    int ho = s->h * s->fh, wo = s->w * s->fw;
    size_t planes = (size_t)s->n * s->c;
    for (size_t p = 0; p < planes; p++) {
        const float *src = in + p * s->h * s->w;
        float *dst = out + p * (size_t)ho * wo;
        for (int y = 0; y < ho; y++) {
            const float *row = src + (size_t)(y / s->fh) * s->w;
            float *d = dst + (size_t)y * wo;
            for (int x = 0; x < s->w; x++)
                for (int k = 0; k < s->fw; k++) *d++ = row[x];
        }
    }
}

void dd_upsample_nearest_backward(const dd_upsample_shape *s, float *din, const float *dout)
{
    int ho = s->h * s->fh, wo = s->w * s->fw;
    size_t planes = (size_t)s->n * s->c;
    for (size_t p = 0; p < planes; p++) {
        const float *src = dout + p * (size_t)ho * wo;
        float *dst = din + p * s->h * s->w;
        for (int y = 0; y < ho; y++) {
            float *row = dst + (size_t)(y / s->fh) * s->w;
            const float *g = src + (size_t)y * wo;
            for (int x = 0; x < s->w; x++) {
                float acc = 0.0f;
                for (int k = 0; k < s->fw; k++) acc += *g++;
                row[x] += acc;
            }
        }
    }
}

/* Source pixels and weight of the second one for output index dst along an
 * axis of `size` input pixels upsampled by f (PyTorch's
 * area_pixel_compute_source_index with align_corners=False). */
static void src_index(int dst, int f, int size, int *i0, int *i1, float *lambda)
{
    float src = ((float)dst + 0.5f) / (float)f - 0.5f;
    if (src < 0.0f) src = 0.0f;
    int i = (int)src;
    if (i > size - 1) i = size - 1;
    *i0 = i;
    *i1 = i < size - 1 ? i + 1 : i;
    *lambda = src - (float)i;
}

void dd_upsample_bilinear_forward(const dd_upsample_shape *s, float *out, const float *in)
{
    int ho = s->h * s->fh, wo = s->w * s->fw;
    size_t planes = (size_t)s->n * s->c;
    for (size_t p = 0; p < planes; p++) {
        const float *src = in + p * s->h * s->w;
        float *dst = out + p * (size_t)ho * wo;
        for (int y = 0; y < ho; y++) {
            int y0, y1;
            float ly;
            src_index(y, s->fh, s->h, &y0, &y1, &ly);
            const float *r0 = src + (size_t)y0 * s->w, *r1 = src + (size_t)y1 * s->w;
            for (int x = 0; x < wo; x++) {
                int x0, x1;
                float lx;
                src_index(x, s->fw, s->w, &x0, &x1, &lx);
                float top = (1.0f - lx) * r0[x0] + lx * r0[x1];
                float bot = (1.0f - lx) * r1[x0] + lx * r1[x1];
                dst[(size_t)y * wo + x] = (1.0f - ly) * top + ly * bot;
            }
        }
    }
}

void dd_upsample_bilinear_backward(const dd_upsample_shape *s, float *din, const float *dout)
{
    int ho = s->h * s->fh, wo = s->w * s->fw;
    size_t planes = (size_t)s->n * s->c;
    for (size_t p = 0; p < planes; p++) {
        const float *g = dout + p * (size_t)ho * wo;
        float *dst = din + p * s->h * s->w;
        for (int y = 0; y < ho; y++) {
            int y0, y1;
            float ly;
            src_index(y, s->fh, s->h, &y0, &y1, &ly);
            float *r0 = dst + (size_t)y0 * s->w, *r1 = dst + (size_t)y1 * s->w;
            for (int x = 0; x < wo; x++) {
                int x0, x1;
                float lx;
                src_index(x, s->fw, s->w, &x0, &x1, &lx);
                float d = g[(size_t)y * wo + x];
                float dt = (1.0f - ly) * d, db = ly * d;
                r0[x0] += (1.0f - lx) * dt;
                r0[x1] += lx * dt;
                r1[x0] += (1.0f - lx) * db;
                r1[x1] += lx * db;
            }
        }
    }
}
