/* conv.c - conv2d and transposed conv2d, forward and backward side by side.
 * im2col turns a chunk of the batch into one column matrix so that each
 * layer is a few large matrix products (dd_sgemm, gemm.h) rather than one
 * small one per image; where the AVX-512 kernel runs, the products make
 * their columns themselves, a block at a time, from the chunk's phase or
 * padded planes (dd_sgemm_packed_by). The per-image passes (planes,
 * col2im, reshuffles) are spread over the toolkit's threads. A 4x4 stride-2
 * convolution's forward and input gradient go by Winograd's algorithm
 * (winograd.c) where that pays. */
#include "conv.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gemm.h"
#include "nn_internal.h"
#include "winograd.h"

/* Target number of im2col columns per sgemm. Deep layers have few output
 * pixels per image (3x14 in the traffic encoder); folding images until a
 * product has about this many columns keeps sgemm near its peak while the
 * column buffer stays small: the traffic encoder's step is 6 % faster
 * with 512 than with 1536 (its columns, 2 to 5 MB, then stay in the L3
 * share of a core, between im2col and the product and between the
 * product and col2im; 288 to 768 measured alike, 192 slower). */
#define COLS_TARGET 512

/* The geometry of one convolution in the direction conv2d computes it:
 * input [n][c][h][w] -> output [n][co][ho][wo], weight [co][c][kh][kw]. */
typedef struct geo {
    int n, c, h, w, co, kh, kw, sh, sw, ph, pw, ho, wo;
    int hq, wq;       /* size of a phase plane (see phase_channel) */
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
             out_size(h, ph, kh, sh), out_size(w, pw, kw, sw),
             (h + 2 * ph + sh - 1) / sh, (w + 2 * pw + sw - 1) / sw, 0, 0, 1};
    g.P = (size_t)g.ho * (size_t)g.wo;
    g.K = (size_t)c * (size_t)kh * (size_t)kw;
    size_t nb = (COLS_TARGET + g.P - 1) / g.P;
    nb += nb & 1; /* an even number of images shares out evenly over 2 threads */
    g.nb = nb > (size_t)n ? n : (int)nb;
    return g;
}

static geo conv_geo(const dd_conv2d_shape *s)
{
    return make_geo(s->n, s->c_in, s->h_in, s->w_in, s->c_out, s->kh, s->kw,
                    s->sh, s->sw, s->ph, s->pw);
}

/* col2im and the weight gradient's columns (pack_taps) work on a
 * zero-padded copy of the input planes, so the inner loops carry no bounds
 * tests, through a table of the P offsets (oy*sh)*wp + ox*sw of each
 * output pixel's top-left tap: kernel tap (ky, kx) of channel ci is then
 * at a fixed offset from it, ci*pad_floats + ky*wp + kx. */
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

/* A strided convolution reads every sh-th row and sw-th column of the
 * padded input: im2col's rows are then strided gathers, col2im's adds
 * strided scatters. Split each padded plane into sh*sw phase planes of hq
 * x wq, phase (a, b) holding padded pixel (y*sh + a, x*sw + b); tap (ky,
 * kx) reads phase (ky % sh, kx % sw) at (oy + ky/sh, ox + kx/sw), a
 * window of stride 1 whose output rows are runs of wo consecutive floats.
 * For stride 1 the one phase is the padded plane. */
static size_t phase_floats(const geo *g)
{
    return (size_t)g->sh * g->sw * g->hq * g->wq;
}

/* Where tap (ky, kx) of a channel starts in its phase planes. */
static size_t phase_offset(const geo *g, int ky, int kx)
{
    size_t plane = (size_t)(ky % g->sh) * g->sw + (size_t)(kx % g->sw);
    return plane * g->hq * g->wq + (size_t)(ky / g->sh) * g->wq + (size_t)(kx / g->sw);
}

/* qidx[p] = oy * wq + ox: output pixel p's place in a phase window. */
static void make_phase_table(const geo *g, int32_t *qidx)
{
    for (int oy = 0; oy < g->ho; oy++)
        for (int ox = 0; ox < g->wo; ox++)
            qidx[oy * g->wo + ox] = oy * g->wq + ox;
}

/* One input plane (h x w) into its phase planes, padding as zeros. */
static void phase_channel(const geo *g, const float *plane, float *q)
{
    for (int a = 0; a < g->sh; a++)
        for (int yq = 0; yq < g->hq; yq++) {
            int y = yq * g->sh + a - g->ph;
            const float *src = y >= 0 && y < g->h ? plane + (size_t)y * g->w : NULL;
            for (int b = 0; b < g->sw; b++) {
                float *d = q + ((size_t)(a * g->sw + b) * g->hq + yq) * g->wq;
                for (int xq = 0; xq < g->wq; xq++) {
                    int x = xq * g->sw + b - g->pw;
                    d[xq] = src && x >= 0 && x < g->w ? src[x] : 0.0f;
                }
            }
        }
}

/* n floats from s to d: a loop the compiler vectorises, not a call (the
 * rows are 3 to 24 floats, and there are a million of them a step). */
static inline void copy_floats(float *restrict d, const float *restrict s, size_t n)
{
    for (size_t i = 0; i < n; i++) d[i] = s[i];
}

static inline void zero_floats(float *d, size_t n)
{
    for (size_t i = 0; i < n; i++) d[i] = 0.0f;
}

/* Every channel of img into its zero-padded plane, planes pad_floats apart,
 * each float written once. */
static void pad_image(const geo *g, const float *img, float *pad)
{
    size_t wp = (size_t)g->w + 2 * (size_t)g->pw, w = (size_t)g->w, pw = (size_t)g->pw;
    size_t edge = (size_t)g->ph * wp;
    for (int ci = 0; ci < g->c; ci++) {
        zero_floats(pad, edge);
        pad += edge;
        for (int y = 0; y < g->h; y++, pad += wp, img += w) {
            zero_floats(pad, pw);
            copy_floats(pad + pw, img, w);
            zero_floats(pad + pw + w, pw);
        }
        zero_floats(pad, edge);
        pad += edge;
    }
}

enum { NR = DD_GEMM_NR };

/* The forward product's op(B), the column matrix of a chunk of images,
 * made a block at a time where the kernel reads it (dd_sgemm_packed_by):
 * rows k0..k0+kc (taps), columns j0..j0+nc (output pixels of the chunk's
 * images, P each), from the images' phase planes (the PHASE pass). Pixel p
 * of tap row r is at planes + image * c * phase_floats + roff[r] +
 * qidx[p]. */
typedef struct column_source {
    const geo *g;
    const float *planes;
    const int32_t *qidx, *roff;
} column_source;

/* The weight gradient's op(B), the column matrix transposed, made a block
 * at a time the same way: rows k0..k0+kc (output pixels of the chunk's
 * images), columns j0..j0+nc (taps), from the images' padded planes
 * (the PAD pass): tap r of pixel p is at pads + image * c * pad_floats +
 * idx[p] + poff[r]. */
typedef struct tap_source {
    const geo *g;
    const float *pads;
    const int32_t *idx, *poff;
} tap_source;

/* The panel writers, used only where the AVX-512 kernel runs. */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define PANEL_TARGET __attribute__((target("avx512f")))
/* A block of at most 16 pixels of one image within one panel reads the
 * same places of every tap's window but for the tap's offset, so one
 * permute pattern (or gather) serves all of its rows. Where those places
 * span less than 32 floats, as in phase planes, a row is two loads and a
 * permute (a gather costs 4x more on AMD's cores). Reads up to 31 floats
 * past a block's first place. */
PANEL_TARGET static void pack_columns(void *ctx, int k0, int kc, int j0, int nc, float *dst)
{
    const column_source *cs = ctx;
    const geo *g = cs->g;
    size_t image_floats = (size_t)g->c * phase_floats(g);
    for (int q0 = 0; q0 < nc; q0 += NR, dst += (size_t)kc * NR) {
        int in_panel = nc - q0 < NR ? nc - q0 : NR;
        for (int o = 0; o < in_panel;) {
            size_t j = (size_t)(j0 + q0 + o), b = j / g->P, p = j % g->P;
            size_t n = (size_t)(in_panel - o) < g->P - p ? (size_t)(in_panel - o) : g->P - p;
            n = n < 16 ? n : 16;
            __mmask16 m = (__mmask16)((1u << n) - 1);
            __m512i v = _mm512_maskz_loadu_epi32(m, cs->qidx + p);
            int32_t lo = cs->qidx[p], span = cs->qidx[p + n - 1] - lo;
            const float *base = cs->planes + b * image_floats;
            const int32_t *roff = cs->roff + k0;
            float *d = dst + o;
            if (span >= 0 && span < 32) {
                __m512i rel = _mm512_sub_epi32(v, _mm512_set1_epi32(lo));
                for (int k = 0; k < kc; k++, d += NR) {
                    const float *src = base + roff[k] + lo;
                    _mm512_mask_storeu_ps(d, m,
                                          _mm512_permutex2var_ps(_mm512_loadu_ps(src), rel,
                                                                 _mm512_loadu_ps(src + 16)));
                }
            } else {
                for (int k = 0; k < kc; k++, d += NR)
                    _mm512_mask_storeu_ps(d, m,
                                          _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, v,
                                                                   base + roff[k], 4));
            }
            o += (int)n;
        }
        if (in_panel < NR)
            for (int k = 0; k < kc; k++)
                memset(dst + (size_t)k * NR + in_panel, 0, sizeof(float) * (size_t)(NR - in_panel));
    }
}

/* phase_channel for the forward's columns (AVX-512), when a padded row fits
 * in two vectors and the stride is 1 or 2: each padded row built in
 * registers from a masked load (the lanes of the padding are masked off,
 * so nothing outside the row is read), then its phases picked by one
 * permute each. The scalar loop costs 2 ns a float, a third of the
 * encoder's im2col. */
PANEL_TARGET static void phase_channel_wide(const geo *g, const float *plane, float *q)
{
    int wp = g->w + 2 * g->pw;
    if (g->sw > 2 || wp > 32) {
        phase_channel(g, plane, q);
        return;
    }
    uint32_t row = ((1u << g->w) - 1) << g->pw; /* lanes of the row in 32 */
    __mmask16 m_lo = (__mmask16)row, m_hi = (__mmask16)(row >> 16);
    __mmask16 m_out = (__mmask16)((1u << g->wq) - 1);
    __m512i pick[2];
    for (int b = 0; b < g->sw; b++) {
        int32_t ix[16];
        for (int i = 0; i < 16; i++) ix[i] = (i * g->sw + b) & 31;
        pick[b] = _mm512_loadu_si512(ix);
    }
    for (int a = 0; a < g->sh; a++)
        for (int yq = 0; yq < g->hq; yq++) {
            int y = yq * g->sh + a - g->ph;
            __m512 lo = _mm512_setzero_ps(), hi = lo;
            if (y >= 0 && y < g->h) {
                const float *src = plane + (size_t)y * g->w - g->pw;
                lo = _mm512_maskz_loadu_ps(m_lo, src);
                hi = _mm512_maskz_loadu_ps(m_hi, src + 16);
            }
            for (int b = 0; b < g->sw; b++)
                _mm512_mask_storeu_ps(q + ((size_t)(a * g->sw + b) * g->hq + yq) * g->wq,
                                      m_out, _mm512_permutex2var_ps(lo, pick[b], hi));
        }
}

/* A row of a panel is one pixel's taps; a kernel row's kw taps are kw
 * consecutive floats of the padded image, copied as one 128-bit move for
 * the encoders' kw = 4 (panels start at multiples of NR, which 4 divides,
 * so the runs never straddle a panel). */
PANEL_TARGET static void pack_taps(void *ctx, int k0, int kc, int j0, int nc, float *dst)
{
    const tap_source *ts = ctx;
    const geo *g = ts->g;
    size_t image_floats = (size_t)g->c * pad_floats(g);
    for (int q0 = 0; q0 < nc; q0 += NR, dst += (size_t)kc * NR) {
        int in_panel = nc - q0 < NR ? nc - q0 : NR;
        const int32_t *poff = ts->poff + j0 + q0;
        float *d = dst;
        for (int k = 0; k < kc; k++, d += NR) {
            size_t j = (size_t)(k0 + k);
            const float *s = ts->pads + j / g->P * image_floats + ts->idx[j % g->P];
            int t = 0;
            if (g->kw == 4)
                for (; t + 4 <= in_panel; t += 4)
                    _mm_storeu_ps(d + t, _mm_loadu_ps(s + poff[t]));
            for (; t < in_panel; t++)
                d[t] = s[poff[t]];
            for (; t < NR; t++)
                d[t] = 0.0f;
        }
    }
}
#else
#define PANEL_TARGET
static void phase_channel_wide(const geo *g, const float *plane, float *q)
{
    phase_channel(g, plane, q);
}

/* (Never called: the panels are AVX-512's alone.) */
static void pack_columns(void *ctx, int k0, int kc, int j0, int nc, float *dst)
{
    (void)ctx; (void)k0; (void)kc; (void)j0; (void)nc; (void)dst;
}

static void pack_taps(void *ctx, int k0, int kc, int j0, int nc, float *dst)
{
    (void)ctx; (void)k0; (void)kc; (void)j0; (void)nc; (void)dst;
}
#endif

/* Writes image b's patches into columns b*P.. of the K x ld column matrix
 * col (where the panels do not run): row (ci*kh + ky)*kw + kx holds, for
 * every output pixel, the input value the kernel tap (ky, kx) of channel
 * ci sees there (zero in the padding), a run of wo floats per output row
 * of the channel's phase planes at q. */
static void im2col(const geo *g, const float *img, float *col, size_t ld, size_t b, float *q)
{
    size_t r = 0;
    for (int ci = 0; ci < g->c; ci++) {
        phase_channel(g, img + (size_t)ci * g->h * g->w, q);
        for (int ky = 0; ky < g->kh; ky++)
            for (int kx = 0; kx < g->kw; kx++, r++) {
                const float *base = q + phase_offset(g, ky, kx);
                float *d = col + r * ld + b * g->P;
                for (int oy = 0; oy < g->ho; oy++, d += g->wo)
                    copy_floats(d, base + (size_t)oy * g->wq, (size_t)g->wo);
            }
    }
}

/* The row stride of the column gradient transposed: K, or K + 16 where K
 * is a multiple of 256 floats, whose rows 4 KB apart would fall in the
 * same cache sets (the product's tiles of 8 rows then ran 10 % slower). */
static size_t colT_stride(const geo *g)
{
    return g->K % 256 ? g->K : g->K + 16;
}

/* d[i] += r[i] for i < n: one kernel row of one pixel's taps added back
 * onto its padded input row. */
static inline void add_taps(float *restrict d, const float *restrict r, int n)
{
    for (int i = 0; i < n; i++) d[i] += r[i];
}

/* The same for one channel's kh x kw taps at d, input rows wp apart. For
 * 4 x 4 kernels (the encoders') on x86, four 128-bit rows, every load
 * issued before the first store: a load behind a store whose address
 * matches it in the low 12 bits waits for it, and column and pad rows
 * often do (this order took the second layer's col2im from 3.7 to 2.1
 * ms). */
static inline void add_patch(float *d, size_t wp, const float *r, int kh, int kw)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (kh == 4 && kw == 4) {
        __m128 a0 = _mm_loadu_ps(r), a1 = _mm_loadu_ps(r + 4), a2 = _mm_loadu_ps(r + 8),
               a3 = _mm_loadu_ps(r + 12);
        __m128 d0 = _mm_loadu_ps(d), d1 = _mm_loadu_ps(d + wp), d2 = _mm_loadu_ps(d + 2 * wp),
               d3 = _mm_loadu_ps(d + 3 * wp);
        _mm_storeu_ps(d, _mm_add_ps(d0, a0));
        _mm_storeu_ps(d + wp, _mm_add_ps(d1, a1));
        _mm_storeu_ps(d + 2 * wp, _mm_add_ps(d2, a2));
        _mm_storeu_ps(d + 3 * wp, _mm_add_ps(d3, a3));
        return;
    }
#endif
    for (int ky = 0; ky < kh; ky++, r += kw)
        add_taps(d + (size_t)ky * wp, r, kw);
}

/* The adjoint of im2col, from the column gradient transposed: row p of
 * colT (stride colT_stride) holds output pixel p's K taps, channel by
 * channel in rows of kw, so each kernel row adds back as kw consecutive
 * floats of a padded input row. Pixels go by columns of the same ox % sw:
 * those patches do not overlap (for kw <= 2*sw), so no add waits on the
 * store before it (AMD's cores do not forward a store to a load it only
 * partly covers). What lands in the padding is dropped. (Column rows in
 * the kernel's order, each added back as a strided run of wo, ran 3x
 * slower: scalar adds that wait on each other's stores.) */
static void col2im_add(const geo *g, const float *colT, float *img, float *pad)
{
    size_t wp = (size_t)g->w + 2 * (size_t)g->pw, pf = pad_floats(g), ldt = colT_stride(g);
    size_t taps = (size_t)g->kh * g->kw;
    zero_floats(pad, (size_t)g->c * pf);
    for (int px = 0; px < g->sw; px++)
        for (int oy = 0; oy < g->ho; oy++)
            for (int ox = px; ox < g->wo; ox += g->sw) {
                const float *r = colT + ((size_t)oy * g->wo + ox) * ldt;
                float *at = pad + (size_t)oy * g->sh * wp + (size_t)ox * g->sw;
                for (int ci = 0; ci < g->c; ci++, at += pf, r += taps)
                    add_patch(at, wp, r, g->kh, g->kw);
            }
    for (int ci = 0; ci < g->c; ci++, img += (size_t)g->h * g->w)
        for (int y = 0; y < g->h; y++) {
            const float *src = pad + ci * pf + (size_t)(y + g->ph) * wp + g->pw;
            float *d = img + (size_t)y * g->w;
            for (int x = 0; x < g->w; x++) d[x] += src[x];
        }
}

/* Scratch layout: the column buffer (col_floats), a product buffer (co
 * rows of nb*P), the weights in panels (weight_panel_floats), the padded
 * or phase planes of one image, and the offset tables, one float-sized
 * slot per int32: into the padded planes and the phase planes (P each),
 * and each tap row's offset in an image's phase and padded planes (K
 * each). A chunk of one image needs no product buffer but sizing for the
 * general case keeps the contract simple. */
typedef struct work {
    float *col, *prod, *wpanels, *pad;
    int32_t *idx, *qidx, *roff, *poff;
} work;

/* Layers big enough for the panels to pay (and their padding to be
 * small): a property of the geometry alone, so that the scratch size does
 * not depend on the CPU. */
static int panel_geo(const geo *g)
{
    return g->K >= NR && (size_t)g->nb * g->P >= 2 * NR;
}

/* Whether this layer's products make their own panels: on this CPU too. */
static int panels_run(const geo *g)
{
    return panel_geo(g) && dd_sgemm_panels_ok();
}

static size_t round_nr(size_t n) { return (n + NR - 1) / NR * NR; }

/* The column buffer holds the columns (K x nb*P), the column gradient
 * transposed, or where the panels pay, the padded or the phase planes of a
 * chunk's images (and slack for pack_columns' reads past their end). */
static size_t col_floats(const geo *g)
{
    size_t cols = (size_t)g->nb * g->P, t = colT_stride(g) * cols, c = g->K * cols;
    size_t q = 0;
    if (panel_geo(g)) {
        size_t phased = phase_floats(g), padded = pad_floats(g);
        q = (size_t)g->nb * g->c * (phased > padded ? phased : padded) + 32;
    }
    c = c > t ? c : t;
    return c > q ? c : q;
}

/* Room for the planes of one image: padded (all channels, for col2im) or
 * phased (one channel, for im2col). */
static size_t plane_floats(const geo *g)
{
    size_t padded = (size_t)g->c * pad_floats(g), phased = phase_floats(g);
    return padded > phased ? padded : phased;
}

/* The weights (co x K) in the panels the input gradient's product reads
 * as its op(B): packed once per backward pass, not by every task of every
 * chunk's product (2 ms a step in the encoder). */
static size_t weight_panel_floats(const geo *g)
{
    return panel_geo(g) ? (size_t)g->co * round_nr(g->K) : 0;
}

static size_t geo_scratch(const geo *g)
{
    size_t cols = (size_t)g->nb * g->P;
    return col_floats(g) + (size_t)g->co * cols + weight_panel_floats(g) + plane_floats(g) +
           2 * g->P + 2 * g->K;
}

static work make_work(const geo *g, float *scratch)
{
    work k;
    k.col = scratch;
    k.prod = k.col + col_floats(g);
    k.wpanels = k.prod + (size_t)g->co * (size_t)g->nb * g->P;
    k.pad = k.wpanels + weight_panel_floats(g);
    k.idx = (int32_t *)(void *)(k.pad + plane_floats(g));
    k.qidx = k.idx + g->P;
    k.roff = k.qidx + g->P;
    k.poff = k.roff + g->K;
    make_table(g, k.idx);
    make_phase_table(g, k.qidx);
    size_t taps = (size_t)g->kh * g->kw, wp = (size_t)g->w + 2 * (size_t)g->pw;
    for (size_t r = 0; r < g->K; r++) {
        size_t ci = r / taps, ky = r % taps / g->kw, kx = r % g->kw;
        k.roff[r] = (int32_t)(ci * phase_floats(g) + phase_offset(g, (int)ky, (int)kx));
        k.poff[r] = (int32_t)(ci * pad_floats(g) + ky * wp + kx);
    }
    return k;
}

size_t dd_conv2d_scratch_floats(const dd_conv2d_shape *s)
{
    geo g = conv_geo(s);
    return geo_scratch(&g);
}

/* NCHW image x (ch channels of P pixels) -> its columns of the chunk matrix
 * (row stride ld) that sgemm produces and consumes. */
static void gather(const float *x, int ch, size_t P, size_t ld, float *dst)
{
    for (int c = 0; c < ch; c++)
        copy_floats(dst + c * ld, x + c * P, P);
}

/* The inverse of gather, adding a per-channel bias; acc selects += over =. */
static void scatter(const float *src, int ch, size_t P, size_t ld, const float *bias,
                    int acc, float *y)
{
    for (int c = 0; c < ch; c++) {
        const float *restrict s = src + c * ld;
        float *restrict d = y + c * P;
        float bc = bias ? bias[c] : 0.0f;
        if (acc) for (size_t p = 0; p < P; p++) d[p] += s[p] + bc;
        else     for (size_t p = 0; p < P; p++) d[p] = s[p] + bc;
    }
}

/* The per-image passes of a chunk of m images from n0, spread over the
 * toolkit's threads: each image is one part's alone (its columns of the
 * chunk matrix, its planes of x or y), the parts taking images in turn
 * from a counter (a chunk of 3 images on 2 threads would otherwise wait for
 * the one with 2). Part 0 pads planes in the scratch,
 * the others in planes of their own, kept from call to call and grown to
 * the largest layer once, so that a steady training step allocates
 * nothing. */
typedef enum pass { IM2COL, PHASE, PAD, COL2IM, GATHER, SCATTER } pass;

static float *part_pad[NN_MAX_PARTS];
static size_t part_pad_floats[NN_MAX_PARTS];
static atomic_flag part_pads_in_use = ATOMIC_FLAG_INIT;

typedef struct chunk {
    pass what;
    const geo *g;
    const work *k;
    int n0, m, acc;
    const float *src, *bias;
    float *dst;
    atomic_int next;  /* the next image to take */
} chunk;

static void chunk_part(void *ctx, int part, int parts)
{
    (void)parts;
    chunk *c = ctx;
    const geo *g = c->g;
    size_t ld = (size_t)c->m * g->P, in_img = (size_t)g->c * g->h * g->w;
    size_t out_img = (size_t)g->co * g->P;
    float *pad = part ? part_pad[part] : c->k->pad;
    for (int b; (b = atomic_fetch_add(&c->next, 1)) < c->m;) {
        switch (c->what) {
        case IM2COL: /* into the column matrix at dst */
            im2col(g, c->src + (size_t)(c->n0 + b) * in_img, c->dst, ld, (size_t)b, pad);
            break;
        case PHASE: /* all channels of image b into its planes at dst */
            for (int ci = 0; ci < g->c; ci++)
                phase_channel_wide(g, c->src + (size_t)(c->n0 + b) * in_img +
                                          (size_t)ci * g->h * g->w,
                                   c->dst + ((size_t)b * g->c + (size_t)ci) * phase_floats(g));
            break;
        case PAD: /* all channels of image b into its padded planes at dst */
            pad_image(g, c->src + (size_t)(c->n0 + b) * in_img,
                      c->dst + (size_t)b * g->c * pad_floats(g));
            break;
        case COL2IM:
            col2im_add(g, c->src + b * g->P * colT_stride(g),
                       c->dst + (size_t)(c->n0 + b) * in_img, pad);
            break;
        case GATHER:
            gather(c->src + (size_t)(c->n0 + b) * out_img, g->co, g->P, ld, c->dst + b * g->P);
            break;
        case SCATTER:
            scatter(c->src + b * g->P, g->co, g->P, ld, c->bias, c->acc,
                    c->dst + (size_t)(c->n0 + b) * out_img);
            break;
        }
    }
}

/* Gives parts 1..parts-1 room for a padded image of g; returns how many
 * parts have one (part 0 uses the scratch's). */
static int grow_pads(const geo *g, int parts)
{
    size_t need = plane_floats(g);
    for (int p = 1; p < parts; p++)
        if (part_pad_floats[p] < need) {
            float *grown = realloc(part_pad[p], need * sizeof(float));
            if (!grown) return p;
            part_pad[p] = grown;
            part_pad_floats[p] = need;
        }
    return parts;
}

static void each_image(pass what, const geo *g, const work *k, int n0, int m,
                       const float *src, float *dst, const float *bias, int acc)
{
    chunk c = {what, g, k, n0, m, acc, src, bias, dst, 0};
    int parts = nn_parts(), own = 0;
    if (parts > m) parts = m;
    if ((what == IM2COL || what == COL2IM) && parts > 1) {
        /* another thread of the program may have the planes: then alone */
        own = !atomic_flag_test_and_set(&part_pads_in_use);
        parts = own ? grow_pads(g, parts) : 1;
    }
    dd_nn_parallel(chunk_part, &c, parts);
    if (own) atomic_flag_clear(&part_pads_in_use);
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
 * total added in double so large batches do not lose low bits; channels are
 * spread over the toolkit's threads. */
typedef struct bias_job {
    float *dbias;
    const float *dy;
    int n, ch;
    size_t P;
} bias_job;

/* Part p of parts: its share of the channels. */
static void bias_part(void *ctx, int part, int parts)
{
    const bias_job *j = ctx;
    for (int c = j->ch * part / parts; c < j->ch * (part + 1) / parts; c++) {
        double s = 0.0;
        for (int b = 0; b < j->n; b++) {
            const float *d = j->dy + ((size_t)b * j->ch + c) * j->P;
            float a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
            size_t p = 0;
            for (; p + 8 <= j->P; p += 8)
                for (int k = 0; k < 8; k++) a[k] += d[p + k];
            for (; p < j->P; p++) a[0] += d[p];
            s += (double)(((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7])));
        }
        j->dbias[c] += (float)s;
    }
}

static void bias_grad(float *dbias, const float *dy, int n, int ch, size_t P)
{
    bias_job j = {dbias, dy, n, ch, P};
    int parts = nn_parts();
    dd_nn_parallel(bias_part, &j, parts < ch ? parts : ch);
}

/* y (=, or += when acc) conv(x, w) + bias, in geometry g; y may be NULL.
 * If dw is not NULL, also dw += the weight gradient of this convolution for
 * upstream gradient gy, sharing the im2col of x: the transposed
 * convolution's backward needs exactly this pair. */
static void conv_fwd(const geo *g, float *y, int acc, const float *x,
                     const float *w, const float *bias, float *dw,
                     const float *gy, float *scratch)
{
    size_t out_img = (size_t)g->co * g->P;
    work k = make_work(g, scratch);
    float *col = k.col, *prod = k.prod;
    /* the product makes its columns itself, block by block, from the
     * images' phase planes, unless the weight gradient (the transposed
     * convolution's backward) reads them too */
    int packed = !dw && panels_run(g);
    column_source cs = {g, col, k.qidx, k.roff};
    for (int n0 = 0; n0 < g->n; n0 += g->nb) {
        int m = g->n - n0 < g->nb ? g->n - n0 : g->nb;
        size_t ld = (size_t)m * g->P;
        each_image(packed ? PHASE : IM2COL, g, &k, n0, m, x, col, NULL, 0);
        if (y) {
            /* One image: sgemm writes NCHW directly, no reshuffle. */
            float *c = m == 1 ? y + (size_t)n0 * out_img : prod;
            float beta = m == 1 && acc ? 1.0f : 0.0f;
            if (packed)
                dd_sgemm_packed_by(CblasNoTrans, g->co, (int)ld, (int)g->K, 1.0f, w,
                                   (int)g->K, pack_columns, &cs, beta, c, (int)ld);
            else
                dd_sgemm(CblasNoTrans, CblasNoTrans, g->co, (int)ld, (int)g->K, 1.0f, w,
                         (int)g->K, col, (int)ld, beta, c, (int)ld);
            if (m > 1)
                each_image(SCATTER, g, &k, n0, m, prod, y, bias, acc);
            else if (bias)
                add_bias(c, bias, 1, g->co, g->P);
        }
        if (dw) {
            const float *t = gy + (size_t)n0 * out_img;
            if (m > 1) {
                each_image(GATHER, g, &k, n0, m, gy, prod, NULL, 0);
                t = prod;
            }
            dd_sgemm(CblasNoTrans, CblasTrans, g->co, (int)g->K, (int)ld, 1.0f, t, (int)ld,
                     col, (int)ld, 1.0f, dw, (int)g->K);
        }
    }
}

/* dx += conv's input gradient, dw += its weight gradient (either may be
 * NULL), given dy, in geometry g. The column buffer holds a chunk's
 * columns (or padded planes, from which the weight gradient's product packs
 * them itself), then the column gradient for dx, transposed (a row of K
 * per output pixel), which col2im adds back a kernel row at a time. */
static void conv_bwd(const geo *g, float *dx, float *dw, const float *dy,
                     const float *x, const float *w, float *scratch)
{
    size_t out_img = (size_t)g->co * g->P;
    if (!dx && !dw) return;
    work k = make_work(g, scratch);
    float *col = k.col, *prod = k.prod;
    int panels = panels_run(g);
    tap_source ts = {g, col, k.idx, k.poff};
    if (dx && panels)
        dd_sgemm_pack_panels(CblasNoTrans, g->co, (int)g->K, w, (int)g->K, k.wpanels);
    for (int n0 = 0; n0 < g->n; n0 += g->nb) {
        int m = g->n - n0 < g->nb ? g->n - n0 : g->nb;
        size_t ld = (size_t)m * g->P;
        const float *t = dy + (size_t)n0 * out_img;  /* dy's chunk, co rows of ld */
        if (m > 1) {
            each_image(GATHER, g, &k, n0, m, dy, prod, NULL, 0);
            t = prod;
        }
        if (dw) {
            each_image(panels ? PAD : IM2COL, g, &k, n0, m, x, col, NULL, 0);
            if (panels)
                dd_sgemm_packed_by(CblasNoTrans, g->co, (int)g->K, (int)ld, 1.0f, t, (int)ld,
                                   pack_taps, &ts, 1.0f, dw, (int)g->K);
            else
                dd_sgemm(CblasNoTrans, CblasTrans, g->co, (int)g->K, (int)ld, 1.0f, t,
                         (int)ld, col, (int)ld, 1.0f, dw, (int)g->K);
        }
        if (dx) {
            if (panels)
                dd_sgemm_panels(CblasTrans, (int)ld, (int)g->K, g->co, 1.0f, t, (int)ld,
                                k.wpanels, 0.0f, col, (int)colT_stride(g));
            else
                dd_sgemm(CblasTrans, CblasNoTrans, (int)ld, (int)g->K, g->co, 1.0f, t, (int)ld,
                         w, (int)g->K, 0.0f, col, (int)colT_stride(g));
            each_image(COL2IM, g, &k, n0, m, col, dx, NULL, 0);
        }
    }
}

void dd_conv2d_forward(const dd_conv2d_shape *s, float *out, const float *in,
                       const float *weight, const float *bias, float *scratch)
{
    if (nn_wino_pays(s, 0) && nn_wino_forward(s, out, in, weight, bias))
        return;
    geo g = conv_geo(s);
    conv_fwd(&g, out, 0, in, weight, bias, NULL, NULL, scratch);
}

void dd_conv2d_backward(const dd_conv2d_shape *s, float *din, float *dweight,
                        float *dbias, const float *dout, const float *in,
                        const float *weight, float *scratch)
{
    geo g = conv_geo(s);
    if (dbias) bias_grad(dbias, dout, g.n, g.co, g.P);
    if (din && nn_wino_pays(s, 1) && nn_wino_input_grad(s, din, dout, weight))
        din = NULL;
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
