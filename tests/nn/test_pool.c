/* test_pool.c - max-pooling/unpooling, soft-max pooling with soft-argmax,
 * and L2 group pooling: forward against hand values and direct
 * definitions, backward against finite differences, accumulation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "gradcheck_raw.h"
#include "pool.h"

static float *falloc(size_t n)
{
    float *p = calloc(n ? n : 1, sizeof(float));
    assert_non_null(p);
    return p;
}

static const dd_pool2d_shape pool_shapes[] = {
    /* n  c  h  w  kh kw sh sw ph pw */
    {2, 3, 6, 6, 2, 2, 2, 2, 0, 0},   /* the classic 2x2/2 */
    {1, 2, 7, 5, 3, 3, 2, 2, 1, 1},   /* batch 1, odd, overlapping, padded */
    {2, 1, 9, 8, 2, 3, 3, 4, 1, 1},   /* stride > kernel, non-square */
    {3, 2, 4, 6, 4, 2, 1, 2, 2, 0},   /* tall window, padding only in y */
    {1, 1, 1, 1, 1, 1, 1, 1, 0, 0},   /* trivial */
    {2, 2, 5, 5, 5, 5, 1, 1, 2, 2},   /* window as big as the image, padded */
};
#define NSHAPES (sizeof pool_shapes / sizeof pool_shapes[0])

static size_t in_size(const dd_pool2d_shape *s) { return (size_t)s->n * s->c * s->h * s->w; }
static size_t out_size(const dd_pool2d_shape *s)
{
    return (size_t)s->n * s->c * dd_pool2d_out_h(s) * dd_pool2d_out_w(s);
}

/* Is input pixel (y, x) inside the window of output (oy, ox)? The tests
 * enumerate windows this way, independently of the kernels' clipping. */
static int in_window(const dd_pool2d_shape *s, int oy, int ox, int y, int x)
{
    int wy = oy * s->sh - s->ph, wx = ox * s->sw - s->pw;
    return y >= wy && y < wy + s->kh && x >= wx && x < wx + s->kw;
}

/* Distinct values 0.05 apart in a shuffled order: every window's maximum
 * beats the runner-up by >= 0.05, far more than the 1e-2 probe, so finite
 * differences never cross a kink. */
static void fill_distinct(float *x, size_t n, uint64_t *st)
{
    for (size_t i = 0; i < n; i++) x[i] = 0.05f * (float)i - 0.025f * (float)n;
    for (size_t i = n; i > 1; i--) {
        size_t j = gc_next(st) % i;
        float t = x[i - 1]; x[i - 1] = x[j]; x[j] = t;
    }
}

static void test_maxpool_hand(void **state)
{
    (void)state;
    dd_pool2d_shape s = {1, 1, 4, 4, 2, 2, 2, 2, 0, 0};
    const float in[16] = {1, 5, 2, 0,
                          3, 4, 8, 8,    /* a tie: first of the two 8s wins */
                          -1, -2, 0, 9,
                          -3, -4, 7, 1};
    float out[4], up[16];
    int32_t sw[4];
    assert_int_equal(dd_pool2d_check(&s), 0);
    dd_maxpool2d_forward(&s, out, sw, in);
    assert_float_equal(out[0], 5, 0); assert_int_equal(sw[0], 1);
    assert_float_equal(out[1], 8, 0); assert_int_equal(sw[1], 6);
    assert_float_equal(out[2], -1, 0); assert_int_equal(sw[2], 8);
    assert_float_equal(out[3], 9, 0); assert_int_equal(sw[3], 11);
    dd_maxunpool2d_forward(&s, up, out, sw);
    for (int i = 0; i < 16; i++) {
        float want = (i == 1 || i == 6 || i == 8 || i == 11) ? in[i] : 0.0f;
        assert_float_equal(up[i], want, 0);
    }
    /* 3x3 stride 2 pad 1 on the same input: corners see only real pixels. */
    dd_pool2d_shape p = {1, 1, 4, 4, 3, 3, 2, 2, 1, 1};
    dd_maxpool2d_forward(&p, out, sw, in);
    assert_float_equal(out[0], 5, 0); assert_int_equal(sw[0], 1);
    assert_float_equal(out[1], 8, 0); assert_int_equal(sw[1], 6);
    assert_float_equal(out[2], 4, 0); assert_int_equal(sw[2], 5);
    assert_float_equal(out[3], 9, 0); assert_int_equal(sw[3], 11);
    /* All-negative input: padding must not win with a 0. */
    float neg[16];
    for (int i = 0; i < 16; i++) neg[i] = -1.0f - (float)i;
    dd_maxpool2d_forward(&p, out, sw, neg);
    assert_float_equal(out[0], -1, 0);
    assert_float_equal(out[3], -6, 0);
    /* NaN propagates. */
    neg[5] = NAN;
    dd_maxpool2d_forward(&p, out, sw, neg);
    assert_true(out[0] != out[0]);
    assert_int_equal(sw[0], 5);
}

typedef struct mctx {
    const dd_pool2d_shape *s;
    float *in, *out, *r, *up, *rup;
    int32_t *sw;
} mctx;

static double maxpool_loss(void *p)
{
    mctx *c = p;
    dd_maxpool2d_forward(c->s, c->out, c->sw, c->in);
    return gc_dot(c->out, c->r, out_size(c->s));
}

/* Unpooling with the switches frozen (they are data, not a function of
 * the pooled values). */
static double unpool_loss(void *p)
{
    mctx *c = p;
    dd_maxunpool2d_forward(c->s, c->up, c->out, c->sw);
    return gc_dot(c->up, c->rup, in_size(c->s));
}

static void test_maxpool(void **state)
{
    (void)state;
    uint64_t st = 11;
    for (size_t k = 0; k < NSHAPES; k++) {
        const dd_pool2d_shape *s = &pool_shapes[k];
        assert_int_equal(dd_pool2d_check(s), 0);
        size_t ni = in_size(s), no = out_size(s);
        int ho = dd_pool2d_out_h(s), wo = dd_pool2d_out_w(s);
        mctx c = {s, falloc(ni), falloc(no), falloc(no), falloc(ni), falloc(ni),
                  calloc(no, sizeof(int32_t))};
        assert_non_null(c.sw);
        fill_distinct(c.in, ni, &st);
        gc_fill(c.r, no, -1, 1, &st);
        gc_fill(c.rup, ni, -1, 1, &st);
        dd_maxpool2d_forward(s, c.out, c.sw, c.in);
        /* Against the definition. */
        for (int pl = 0; pl < s->n * s->c; pl++)
            for (int oy = 0; oy < ho; oy++)
                for (int ox = 0; ox < wo; ox++) {
                    float best = -INFINITY;
                    int arg = -1;
                    for (int y = 0; y < s->h; y++)
                        for (int x = 0; x < s->w; x++)
                            if (in_window(s, oy, ox, y, x) &&
                                c.in[pl * s->h * s->w + y * s->w + x] > best) {
                                best = c.in[pl * s->h * s->w + y * s->w + x];
                                arg = y * s->w + x;
                            }
                    size_t o = (size_t)pl * ho * wo + oy * wo + ox;
                    assert_float_equal(c.out[o], best, 0);
                    assert_int_equal(c.sw[o], arg);
                }
        /* Backward of max-pooling. */
        float *din = falloc(ni);
        dd_maxpool2d_backward(s, din, c.r, c.sw);
        assert_int_equal(gc_check("maxpool din", maxpool_loss, &c, c.in, ni, din,
                                  1e-2, 1e-3, 1e-4, 500), 0);
        float *din2 = falloc(ni);
        memcpy(din2, din, ni * sizeof(float));
        dd_maxpool2d_backward(s, din2, c.r, c.sw);
        for (size_t i = 0; i < ni; i++) assert_float_equal(din2[i], 2 * din[i], 1e-6);

        /* Unpooling: forward against the definition, backward by FD. */
        dd_maxpool2d_forward(s, c.out, c.sw, c.in);
        dd_maxunpool2d_forward(s, c.up, c.out, c.sw);
        for (size_t i = 0; i < ni; i++) {
            size_t pl = i / ((size_t)s->h * s->w), pix = i % ((size_t)s->h * s->w);
            double want = 0;
            for (size_t o = pl * ho * wo; o < (pl + 1) * ho * wo; o++)
                if ((size_t)c.sw[o] == pix) want += c.out[o];
            assert_float_equal(c.up[i], want, 1e-6 * fmax(1, fabs(want)));
        }
        float *dpool = falloc(no), *dpool2 = falloc(no);
        dd_maxunpool2d_backward(s, dpool, c.rup, c.sw);
        assert_int_equal(gc_check("unpool din", unpool_loss, &c, c.out, no, dpool,
                                  1e-2, 1e-3, 1e-4, 500), 0);
        memcpy(dpool2, dpool, no * sizeof(float));
        dd_maxunpool2d_backward(s, dpool2, c.rup, c.sw);
        for (size_t i = 0; i < no; i++) assert_float_equal(dpool2[i], 2 * dpool[i], 1e-6);

        free(c.in); free(c.out); free(c.r); free(c.up); free(c.rup); free(c.sw);
        free(din); free(din2); free(dpool); free(dpool2);
    }
}

/* ---- soft pooling ------------------------------------------------------ */

typedef struct sctx {
    const dd_pool2d_shape *s;
    float beta;
    float *in, *out, *px, *py, *saved, *r, *rx, *ry;
} sctx;

/* L = <out, r> + <pos_x, rx> + <pos_y, ry>: exercises all three outputs. */
static double soft_loss(void *p)
{
    sctx *c = p;
    dd_softpool2d_forward(c->s, c->beta, c->out, c->px, c->py, c->saved, c->in);
    size_t no = out_size(c->s);
    return gc_dot(c->out, c->r, no) + gc_dot(c->px, c->rx, no) + gc_dot(c->py, c->ry, no);
}

static void test_softpool_hand(void **state)
{
    (void)state;
    /* One 2x2 window over [0 1; 2 3] with beta = ln 2: weights 1,2,4,8 / 15. */
    dd_pool2d_shape s = {1, 1, 2, 2, 2, 2, 2, 2, 0, 0};
    float in[4] = {0, 1, 2, 3}, out, px, py, saved[4];
    dd_softpool2d_forward(&s, logf(2.0f), &out, &px, &py, saved, in);
    assert_float_equal(saved[0], 1.0 / 15, 1e-6);
    assert_float_equal(saved[3], 8.0 / 15, 1e-6);
    assert_float_equal(out, (0 * 1 + 1 * 2 + 2 * 4 + 3 * 8) / 15.0, 1e-5);
    assert_float_equal(px, (2 + 8) / 15.0, 1e-6);   /* taps with kx = 1 */
    assert_float_equal(py, (4 + 8) / 15.0, 1e-6);   /* taps with ky = 1 */
    /* beta = 0 is average pooling; a large beta approaches max-pooling. */
    dd_softpool2d_forward(&s, 0.0f, &out, &px, &py, saved, in);
    assert_float_equal(out, 1.5, 1e-6);
    assert_float_equal(px, 0.5, 1e-6);
    dd_softpool2d_forward(&s, 60.0f, &out, &px, &py, saved, in);
    assert_float_equal(out, 3.0, 1e-5);
    assert_float_equal(px, 1.0, 1e-6);
    assert_float_equal(py, 1.0, 1e-6);
    /* Huge inputs do not overflow. */
    float big[4] = {1e30f, 0, 0, 0};
    dd_softpool2d_forward(&s, 1.0f, &out, NULL, NULL, saved, big);
    assert_float_equal(out, 1e30f, 1e24f);
}

static void test_softpool(void **state)
{
    (void)state;
    uint64_t st = 23;
    const float betas[] = {0.5f, 2.0f, 5.0f, -1.5f};
    for (size_t k = 0; k < NSHAPES; k++)
        for (size_t bi = 0; bi < sizeof betas / sizeof betas[0]; bi++) {
            const dd_pool2d_shape *s = &pool_shapes[k];
            size_t ni = in_size(s), no = out_size(s), nsv = dd_softpool2d_saved_floats(s);
            int ho = dd_pool2d_out_h(s), wo = dd_pool2d_out_w(s);
            sctx c = {s, betas[bi], falloc(ni), falloc(no), falloc(no), falloc(no),
                      falloc(nsv), falloc(no), falloc(no), falloc(no)};
            gc_fill(c.in, ni, -1, 1, &st);
            gc_fill(c.r, no, -1, 1, &st);
            gc_fill(c.rx, no, -1, 1, &st);
            gc_fill(c.ry, no, -1, 1, &st);
            dd_softpool2d_forward(s, c.beta, c.out, c.px, c.py, c.saved, c.in);
            /* Against the definition, in double, without the max shift. */
            for (int pl = 0; pl < s->n * s->c; pl++)
                for (int oy = 0; oy < ho; oy++)
                    for (int ox = 0; ox < wo; ox++) {
                        double z = 0, y = 0, px = 0, py = 0;
                        int wy = oy * s->sh - s->ph, wx = ox * s->sw - s->pw;
                        for (int yy = 0; yy < s->h; yy++)
                            for (int xx = 0; xx < s->w; xx++)
                                if (in_window(s, oy, ox, yy, xx)) {
                                    double v = c.in[pl * s->h * s->w + yy * s->w + xx];
                                    double e = exp(c.beta * v);
                                    z += e; y += e * v; px += e * (xx - wx); py += e * (yy - wy);
                                }
                        size_t o = (size_t)pl * ho * wo + oy * wo + ox;
                        assert_float_equal(c.out[o], y / z, 1e-5);
                        assert_float_equal(c.px[o], px / z, 1e-5);
                        assert_float_equal(c.py[o], py / z, 1e-5);
                    }
            float *din = falloc(ni), dbeta = 0.0f;
            dd_softpool2d_backward(s, c.beta, din, &dbeta, c.r, c.rx, c.ry, c.in, c.saved);
            assert_int_equal(gc_check("softpool din", soft_loss, &c, c.in, ni, din,
                                      5e-3, 1e-2, 1e-3, 400), 0);
            /* The temperature is an input too: probe it in place. */
            assert_int_equal(gc_check("softpool dbeta", soft_loss, &c, &c.beta, 1, &dbeta,
                                      5e-3, 1e-2, 1e-3, 1), 0);
            /* Adds: a second call doubles; each upstream alone sums to all. */
            float *d2 = falloc(ni), db2 = dbeta;
            memcpy(d2, din, ni * sizeof(float));
            dd_softpool2d_forward(s, c.beta, c.out, c.px, c.py, c.saved, c.in);
            dd_softpool2d_backward(s, c.beta, d2, &db2, c.r, c.rx, c.ry, c.in, c.saved);
            for (size_t i = 0; i < ni; i++)
                assert_float_equal(d2[i], 2 * din[i], 1e-5 * fmax(1, fabs(din[i])));
            assert_float_equal(db2, 2 * dbeta, 1e-5 * fmax(1, fabs(dbeta)));
            memset(d2, 0, ni * sizeof(float));
            dd_softpool2d_backward(s, c.beta, d2, NULL, c.r, NULL, NULL, c.in, c.saved);
            dd_softpool2d_backward(s, c.beta, d2, NULL, NULL, c.rx, NULL, c.in, c.saved);
            dd_softpool2d_backward(s, c.beta, d2, NULL, NULL, NULL, c.ry, c.in, c.saved);
            for (size_t i = 0; i < ni; i++)
                assert_float_equal(d2[i], din[i], 1e-5 * fmax(1, fabs(din[i])));
            free(c.in); free(c.out); free(c.px); free(c.py); free(c.saved);
            free(c.r); free(c.rx); free(c.ry); free(din); free(d2);
        }
}

/* ---- L2 pooling ------------------------------------------------------------ */

typedef struct lctx { const dd_l2pool_shape *s; float *in, *out, *r; size_t no; } lctx;

static double l2_loss(void *p)
{
    lctx *c = p;
    dd_l2pool_forward(c->s, c->out, c->in);
    return gc_dot(c->out, c->r, c->no);
}

static void test_l2pool(void **state)
{
    (void)state;
    const dd_l2pool_shape shapes[] = {
        /* n  c  h  w  grid   group  stride eps */
        {2, 6, 3, 2, 1, 6, 1, 2, 1, 2, 1e-2f},   /* 3 disjoint pairs */
        {1, 5, 2, 3, 1, 5, 1, 3, 1, 1, 1e-2f},   /* overlapping triples, 1-D */
        {2, 16, 2, 2, 4, 4, 2, 2, 1, 1, 1e-3f},  /* 2-D topographic 2x2 blocks, overlapping */
        {1, 12, 1, 1, 3, 4, 3, 2, 1, 2, 1e-2f},  /* non-square grid, stride 2 in x */
        {3, 4, 1, 3, 1, 4, 1, 1, 1, 1, 1e-2f},   /* groups of one: sqrt(eps + x^2) */
    };
    uint64_t st = 5;
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        const dd_l2pool_shape *s = &shapes[k];
        assert_int_equal(dd_l2pool_check(s), 0);
        int ng = dd_l2pool_groups(s), gx = (s->grid_w - s->gw) / s->sw + 1;
        size_t hw = (size_t)s->h * s->w, ni = (size_t)s->n * s->c * hw, no = (size_t)s->n * ng * hw;
        lctx c = {s, falloc(ni), falloc(no), falloc(no), no};
        gc_fill(c.in, ni, -1, 1, &st);
        gc_fill(c.r, no, -1, 1, &st);
        dd_l2pool_forward(s, c.out, c.in);
        for (int n = 0; n < s->n; n++)
            for (int g = 0; g < ng; g++)
                for (size_t p = 0; p < hw; p++) {
                    double acc = s->eps;
                    int a = g / gx, b = g % gx;
                    for (int ch = 0; ch < s->c; ch++) {
                        int cy = ch / s->grid_w, cx = ch % s->grid_w;
                        if (cy >= a * s->sh && cy < a * s->sh + s->gh &&
                            cx >= b * s->sw && cx < b * s->sw + s->gw) {
                            double v = c.in[((size_t)n * s->c + ch) * hw + p];
                            acc += v * v;
                        }
                    }
                    assert_float_equal(c.out[((size_t)n * ng + g) * hw + p], sqrt(acc), 1e-5);
                }
        float *din = falloc(ni), *d2 = falloc(ni);
        dd_l2pool_backward(s, din, c.r, c.in, c.out);
        assert_int_equal(gc_check("l2pool din", l2_loss, &c, c.in, ni, din,
                                  1e-3, 1e-2, 1e-3, 400), 0);
        memcpy(d2, din, ni * sizeof(float));
        dd_l2pool_forward(s, c.out, c.in);
        dd_l2pool_backward(s, d2, c.r, c.in, c.out);
        for (size_t i = 0; i < ni; i++)
            assert_float_equal(d2[i], 2 * din[i], 1e-5 * fmax(1, fabs(din[i])));
        free(c.in); free(c.out); free(c.r); free(din); free(d2);
    }
    /* Hand value: group (3, 4) with eps 0 is 5; its gradient is (3/5, 4/5). */
    dd_l2pool_shape h = {1, 2, 1, 1, 1, 2, 1, 2, 1, 2, 0.0f};
    float x[2] = {3, 4}, y, dy = 1, dx[2] = {0, 0};
    dd_l2pool_forward(&h, &y, x);
    assert_float_equal(y, 5, 1e-6);
    dd_l2pool_backward(&h, dx, &dy, x, &y);
    assert_float_equal(dx[0], 0.6, 1e-6);
    assert_float_equal(dx[1], 0.8, 1e-6);
    /* An all-zero group with eps 0 gives gradient 0, not NaN. */
    x[0] = x[1] = 0; dx[0] = dx[1] = 0;
    dd_l2pool_forward(&h, &y, x);
    dd_l2pool_backward(&h, dx, &dy, x, &y);
    assert_float_equal(dx[0], 0, 0);
    /* Bad shapes are refused. */
    dd_l2pool_shape bad = {1, 6, 1, 1, 2, 2, 1, 2, 1, 2, 0.0f};   /* grid 2x2 != 6 channels */
    assert_int_equal(dd_l2pool_check(&bad), -1);
    dd_pool2d_shape pb = {1, 1, 4, 4, 2, 2, 2, 2, 2, 0};            /* pad > kernel/2 */
    assert_int_equal(dd_pool2d_check(&pb), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_maxpool_hand),
        cmocka_unit_test(test_maxpool),
        cmocka_unit_test(test_softpool_hand),
        cmocka_unit_test(test_softpool),
        cmocka_unit_test(test_l2pool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
