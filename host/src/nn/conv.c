/* conv.c - conv2d and transposed conv2d, forward and backward side by side.
 * im2col turns a chunk of the batch into one column matrix so that each
 * layer is a few large cblas_sgemm calls rather than one small one per image. */
#include "conv.h"

#include <cblas.h>
#include <stdint.h>
#include <string.h>

/* Target number of im2col columns per sgemm. Deep layers have few output
 * pixels per image (3x14 in the traffic encoder); folding images until a
 * product has about this many columns keeps sgemm near its peak while the
 * column buffer stays a few MB instead of the whole batch's. */
#define COLS_TARGET 3072

/* The geometry of one convolution in the direction conv2d computes it:
 * input [n][c][h][w] -> output [n][co][ho][wo], weight [co][c][kh][kw]. */
typedef struct geo {
    int n, c, h, w, co, kh, kw, sh, sw, ph, pw, ho, wo;
    size_t P, K;      /* output pixels per image, column length c*kh*kw */
    int nb;           /* images per chunk */
} geo;

static int out_size(int in, int pad, int k, int stride)
{
    return (in + 2 * pad - k) / stride + 1;
}

int dd_conv2d_check(const dd_conv2d_shape *s)
{
    if (!s || s->n < 1 || s->c_in < 1 || s->h_in < 1 || s->w_in < 1 ||
        s->c_out < 1 || s->kh < 1 || s->kw < 1 || s->sh < 1 || s->sw < 1 ||
        s->ph < 0 || s->pw < 0)
        return -1;
    if (s->h_in + 2 * s->ph < s->kh || s->w_in + 2 * s->pw < s->kw)
        return -1;
    return 0;
}

int dd_conv2d_out_h(const dd_conv2d_shape *s) { return out_size(s->h_in, s->ph, s->kh, s->sh); }
int dd_conv2d_out_w(const dd_conv2d_shape *s) { return out_size(s->w_in, s->pw, s->kw, s->sw); }

static geo make_geo(int n, int c, int h, int w, int co, int kh, int kw,
                    int sh, int sw, int ph, int pw)
{
    geo g = {n, c, h, w, co, kh, kw, sh, sw, ph, pw,
             out_size(h, ph, kh, sh), out_size(w, pw, kw, sw), 0, 0, 1};
    g.P = (size_t)g.ho * (size_t)g.wo;
    g.K = (size_t)c * (size_t)kh * (size_t)kw;
    size_t nb = (COLS_TARGET + g.P - 1) / g.P;
    g.nb = nb > (size_t)n ? n : (int)nb;
    return g;
}

static geo conv_geo(const dd_conv2d_shape *s)
{
    return make_geo(s->n, s->c_in, s->h_in, s->w_in, s->c_out, s->kh, s->kw,
                    s->sh, s->sw, s->ph, s->pw);
}

/* im2col and col2im work on one zero-padded copy of an input plane, so the
 * inner loops carry no bounds tests, and read it through a table of the P
 * offsets (oy*sh)*wp + ox*sw of each output pixel's top-left tap: a kernel
 * tap (ky, kx) is then a flat gather at offset ky*wp + kx, one loop of P
 * iterations rather than ho loops of wo (wo is 3 to 12 in the encoders, too
 * short for a loop to pay off). */
static size_t pad_floats(const geo *g)
{
    return (size_t)(g->h + 2 * g->ph) * (size_t)(g->w + 2 * g->pw);
}

static void make_table(const geo *g, int32_t *idx)
{
    int wp = g->w + 2 * g->pw;
    for (int oy = 0; oy < g->ho; oy++)
        for (int ox = 0; ox < g->wo; ox++)
            idx[oy * g->wo + ox] = oy * g->sh * wp + ox * g->sw;
}

/* Copies plane [h][w] into the interior of pad [h+2ph][w+2pw] whose border
 * is already zero. */
static void pad_plane(const geo *g, const float *plane, float *pad)
{
    int wp = g->w + 2 * g->pw;
    for (int y = 0; y < g->h; y++)
        memcpy(pad + (size_t)(y + g->ph) * wp + g->pw, plane + (size_t)y * g->w,
               sizeof(float) * (size_t)g->w);
}

/* Writes one image's patches into rows of col (row stride ld): row
 * (ci*kh + ky)*kw + kx holds, for every output pixel, the input value the
 * kernel tap (ky, kx) of channel ci sees there (zero in the padding). */
static void im2col(const geo *g, const float *img, float *col, size_t ld,
                   float *pad, const int32_t *idx)
{
    int wp = g->w + 2 * g->pw;
    memset(pad, 0, sizeof(float) * pad_floats(g));
    for (int ci = 0; ci < g->c; ci++) {
        pad_plane(g, img + (size_t)ci * g->h * g->w, pad);
        for (int ky = 0; ky < g->kh; ky++)
            for (int kx = 0; kx < g->kw; kx++) {
                float *row = col + ((size_t)(ci * g->kh + ky) * g->kw + kx) * ld;
                const float *base = pad + (size_t)ky * wp + kx;
                for (size_t p = 0; p < g->P; p++) row[p] = base[idx[p]];
            }
    }
}

/* The adjoint of im2col: adds every column entry back onto the input pixel
 * it was read from; what lands in the padding is dropped. */
static void col2im_add(const geo *g, const float *col, size_t ld, float *img,
                       float *pad, const int32_t *idx)
{
    int wp = g->w + 2 * g->pw;
    for (int ci = 0; ci < g->c; ci++) {
        memset(pad, 0, sizeof(float) * pad_floats(g));
        for (int ky = 0; ky < g->kh; ky++)
            for (int kx = 0; kx < g->kw; kx++) {
                const float *row = col + ((size_t)(ci * g->kh + ky) * g->kw + kx) * ld;
                float *base = pad + (size_t)ky * wp + kx;
                for (size_t p = 0; p < g->P; p++) base[idx[p]] += row[p];
            }
        float *plane = img + (size_t)ci * g->h * g->w;
        for (int y = 0; y < g->h; y++) {
            const float *src = pad + (size_t)(y + g->ph) * wp + g->pw;
            float *dst = plane + (size_t)y * g->w;
            for (int x = 0; x < g->w; x++) dst[x] += src[x];
        }
    }
}

/* Scratch layout: the column buffer (K rows of nb*P), a product buffer (co
 * rows of nb*P), one padded plane, and the offset table (P int32s, one
 * float-sized slot each). A chunk of one image needs no product buffer but
 * sizing for the general case keeps the contract simple. */
typedef struct work { float *col, *prod, *pad; int32_t *idx; } work;

static size_t geo_scratch(const geo *g)
{
    size_t cols = (size_t)g->nb * g->P;
    return (g->K + (size_t)g->co) * cols + pad_floats(g) + g->P;
}

static work make_work(const geo *g, float *scratch)
{
    work k;
    k.col = scratch;
    k.prod = k.col + g->K * (size_t)g->nb * g->P;
    k.pad = k.prod + (size_t)g->co * (size_t)g->nb * g->P;
    k.idx = (int32_t *)(void *)(k.pad + pad_floats(g));
    make_table(g, k.idx);
    return k;
}

size_t dd_conv2d_scratch_floats(const dd_conv2d_shape *s)
{
    geo g = conv_geo(s);
    return geo_scratch(&g);
}

/* NCHW images n0..n0+m-1 of x (ch channels of P pixels) -> the chunk matrix
 * [ch][m*P] that sgemm produces and consumes. */
static void gather(const float *x, int ch, size_t P, int n0, int m, float *dst)
{
    size_t ld = (size_t)m * P;
    for (int b = 0; b < m; b++) {
        const float *src = x + (size_t)(n0 + b) * ch * P;
        for (int c = 0; c < ch; c++)
            memcpy(dst + c * ld + b * P, src + c * P, sizeof(float) * P);
    }
}

/* The inverse of gather, adding a per-channel bias; acc selects += over =. */
static void scatter(const float *src, int ch, size_t P, int n0, int m,
                    const float *bias, int acc, float *y)
{
    size_t ld = (size_t)m * P;
    for (int b = 0; b < m; b++) {
        float *dst = y + (size_t)(n0 + b) * ch * P;
        for (int c = 0; c < ch; c++) {
            const float *s = src + c * ld + b * P;
            float *d = dst + c * P;
            float bc = bias ? bias[c] : 0.0f;
            if (acc) for (size_t p = 0; p < P; p++) d[p] += s[p] + bc;
            else     for (size_t p = 0; p < P; p++) d[p] = s[p] + bc;
        }
    }
}

static void add_bias(float *y, const float *bias, int n, int ch, size_t P)
{
    for (int b = 0; b < n; b++)
        for (int c = 0; c < ch; c++) {
            float *d = y + ((size_t)b * ch + c) * P;
            for (size_t p = 0; p < P; p++) d[p] += bias[c];
        }
}

/* dbias[c] += sum of dy over batch and pixels: eight float partial sums per
 * plane (a dependency chain of one accumulator is 4x slower), each plane's
 * total added in double so large batches do not lose low bits. */
static void bias_grad(float *dbias, const float *dy, int n, int ch, size_t P)
{
    for (int c = 0; c < ch; c++) {
        double s = 0.0;
        for (int b = 0; b < n; b++) {
            const float *d = dy + ((size_t)b * ch + c) * P;
            float a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
            size_t p = 0;
            for (; p + 8 <= P; p += 8)
                for (int j = 0; j < 8; j++) a[j] += d[p + j];
            for (; p < P; p++) a[0] += d[p];
            s += (double)(((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7])));
        }
        dbias[c] += (float)s;
    }
}

/* y (=, or += when acc) conv(x, w) + bias, in geometry g; y may be NULL.
 * If dw is not NULL, also dw += the weight gradient of this convolution for
 * upstream gradient gy, sharing the im2col of x: the transposed
 * convolution's backward needs exactly this pair. */
static void conv_fwd(const geo *g, float *y, int acc, const float *x,
                     const float *w, const float *bias, float *dw,
                     const float *gy, float *scratch)
{
    size_t in_img = (size_t)g->c * g->h * g->w, out_img = (size_t)g->co * g->P;
    work k = make_work(g, scratch);
    float *col = k.col, *prod = k.prod;
    for (int n0 = 0; n0 < g->n; n0 += g->nb) {
        int m = g->n - n0 < g->nb ? g->n - n0 : g->nb;
        size_t ld = (size_t)m * g->P;
        for (int b = 0; b < m; b++)
            im2col(g, x + (size_t)(n0 + b) * in_img, col + b * g->P, ld, k.pad, k.idx);
        if (y && m == 1) {
            /* One image: sgemm writes NCHW directly, no reshuffle. */
            float *yn = y + (size_t)n0 * out_img;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g->co, (int)ld,
                        (int)g->K, 1.0f, w, (int)g->K, col, (int)ld,
                        acc ? 1.0f : 0.0f, yn, (int)ld);
            if (bias) add_bias(yn, bias, 1, g->co, g->P);
        } else if (y) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g->co, (int)ld,
                        (int)g->K, 1.0f, w, (int)g->K, col, (int)ld, 0.0f, prod,
                        (int)ld);
            scatter(prod, g->co, g->P, n0, m, bias, acc, y);
        }
        if (dw) {
            const float *t = gy + (size_t)n0 * out_img;
            if (m > 1) {
                gather(gy, g->co, g->P, n0, m, prod);
                t = prod;
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, g->co, (int)g->K,
                        (int)ld, 1.0f, t, (int)ld, col, (int)ld, 1.0f, dw,
                        (int)g->K);
        }
    }
}

/* dx += conv's input gradient, dw += its weight gradient (either may be
 * NULL), given dy, in geometry g. One im2col per chunk serves dw; its buffer
 * then receives the column gradient for dx. */
static void conv_bwd(const geo *g, float *dx, float *dw, const float *dy,
                     const float *x, const float *w, float *scratch)
{
    size_t in_img = (size_t)g->c * g->h * g->w, out_img = (size_t)g->co * g->P;
    if (!dx && !dw) return;
    work k = make_work(g, scratch);
    float *col = k.col, *prod = k.prod;
    for (int n0 = 0; n0 < g->n; n0 += g->nb) {
        int m = g->n - n0 < g->nb ? g->n - n0 : g->nb;
        size_t ld = (size_t)m * g->P;
        const float *t = dy + (size_t)n0 * out_img;
        if (m > 1) {
            gather(dy, g->co, g->P, n0, m, prod);
            t = prod;
        }
        if (dw) {
            for (int b = 0; b < m; b++)
                im2col(g, x + (size_t)(n0 + b) * in_img, col + b * g->P, ld, k.pad, k.idx);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, g->co, (int)g->K,
                        (int)ld, 1.0f, t, (int)ld, col, (int)ld, 1.0f, dw,
                        (int)g->K);
        }
        if (dx) {
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)g->K, (int)ld,
                        g->co, 1.0f, w, (int)g->K, t, (int)ld, 0.0f, col, (int)ld);
            for (int b = 0; b < m; b++)
                col2im_add(g, col + b * g->P, ld, dx + (size_t)(n0 + b) * in_img, k.pad,
                           k.idx);
        }
    }
}

void dd_conv2d_forward(const dd_conv2d_shape *s, float *out, const float *in,
                       const float *weight, const float *bias, float *scratch)
{
    geo g = conv_geo(s);
    conv_fwd(&g, out, 0, in, weight, bias, NULL, NULL, scratch);
}

void dd_conv2d_backward(const dd_conv2d_shape *s, float *din, float *dweight,
                        float *dbias, const float *dout, const float *in,
                        const float *weight, float *scratch)
{
    geo g = conv_geo(s);
    if (dbias) bias_grad(dbias, dout, g.n, g.co, g.P);
    conv_bwd(&g, din, dweight, dout, in, weight, scratch);
}

/* ---- transposed convolution ------------------------------------------ */

int dd_conv_transpose2d_out_h(const dd_conv_transpose2d_shape *s)
{
    return (s->h_in - 1) * s->sh - 2 * s->ph + s->kh + s->oph;
}

int dd_conv_transpose2d_out_w(const dd_conv_transpose2d_shape *s)
{
    return (s->w_in - 1) * s->sw - 2 * s->pw + s->kw + s->opw;
}

int dd_conv_transpose2d_check(const dd_conv_transpose2d_shape *s)
{
    if (!s || s->n < 1 || s->c_in < 1 || s->h_in < 1 || s->w_in < 1 ||
        s->c_out < 1 || s->kh < 1 || s->kw < 1 || s->sh < 1 || s->sw < 1 ||
        s->ph < 0 || s->pw < 0 || s->oph < 0 || s->opw < 0 ||
        s->oph >= s->sh || s->opw >= s->sw)
        return -1;
    if (dd_conv_transpose2d_out_h(s) < 1 || dd_conv_transpose2d_out_w(s) < 1)
        return -1;
    return 0;
}

/* The conv2d whose input gradient this transposed convolution is: it maps
 * the transposed output [c_out][h_out][w_out] back to [c_in][h_in][w_in]
 * (with output padding < stride the sizes round-trip exactly), and its
 * weight [c_in][c_out][kh][kw] is exactly ConvTranspose2d's layout. */
static geo tconv_geo(const dd_conv_transpose2d_shape *s)
{
    return make_geo(s->n, s->c_out, dd_conv_transpose2d_out_h(s),
                    dd_conv_transpose2d_out_w(s), s->c_in, s->kh, s->kw, s->sh,
                    s->sw, s->ph, s->pw);
}

size_t dd_conv_transpose2d_scratch_floats(const dd_conv_transpose2d_shape *s)
{
    geo g = tconv_geo(s);
    return geo_scratch(&g);
}

void dd_conv_transpose2d_forward(const dd_conv_transpose2d_shape *s, float *out,
                                 const float *in, const float *weight,
                                 const float *bias, float *scratch)
{
    geo g = tconv_geo(s);
    memset(out, 0, sizeof(float) * (size_t)g.n * g.c * g.h * g.w);
    conv_bwd(&g, out, NULL, in, NULL, weight, scratch);
    if (bias) add_bias(out, bias, g.n, g.c, (size_t)g.h * g.w);
}

void dd_conv_transpose2d_backward(const dd_conv_transpose2d_shape *s, float *din,
                                  float *dweight, float *dbias, const float *dout,
                                  const float *in, const float *weight,
                                  float *scratch)
{
    geo g = tconv_geo(s);
    if (dbias) bias_grad(dbias, dout, g.n, g.c, (size_t)g.h * g.w);
    /* din += conv(dout, w); dweight += conv's weight gradient with dout as
     * its input and in as its upstream gradient (the bilinear form
     * <in, conv_w(dout)> is what both differentiate). */
    if (din || dweight)
        conv_fwd(&g, din, 1, dout, weight, NULL, dweight, in, scratch);
}
