/* test_conv.c - conv2d and transposed conv2d: forward against direct
 * (7-loop) definitions, backward against finite differences, and the
 * accumulate / NULL-gradient contract. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "conv.h"
#include "gradcheck_raw.h"

#define EPS 1e-2
#define RTOL 1e-2
#define ATOL 1e-3
#define MAXCHK 300

static float *alloc_f(size_t n)
{
    float *p = calloc(n ? n : 1, sizeof(float));
    assert_non_null(p);
    return p;
}

static double *alloc_d(size_t n)
{
    double *p = calloc(n ? n : 1, sizeof(double));
    assert_non_null(p);
    return p;
}

/* The definition, in double: out[n][o][y][x] = b[o] +
 * sum_{c,ky,kx} in[n][c][y*sh-ph+ky][x*sw-pw+kx] * w[o][c][ky][kx]. */
static void naive_conv(const dd_conv2d_shape *s, double *out, const float *in,
                       const float *w, const float *b)
{
    int ho = dd_conv2d_out_h(s), wo = dd_conv2d_out_w(s);
    for (int n = 0; n < s->n; n++)
        for (int o = 0; o < s->c_out; o++)
            for (int y = 0; y < ho; y++)
                for (int x = 0; x < wo; x++) {
                    double acc = b ? b[o] : 0.0;
                    for (int c = 0; c < s->c_in; c++)
                        for (int ky = 0; ky < s->kh; ky++)
                            for (int kx = 0; kx < s->kw; kx++) {
                                int iy = y * s->sh - s->ph + ky, ix = x * s->sw - s->pw + kx;
                                if (iy < 0 || iy >= s->h_in || ix < 0 || ix >= s->w_in) continue;
                                acc += (double)in[((n * s->c_in + c) * s->h_in + iy) * s->w_in + ix] *
                                       w[((o * s->c_in + c) * s->kh + ky) * s->kw + kx];
                            }
                    out[((n * s->c_out + o) * ho + y) * wo + x] = acc;
                }
}

/* The transposed convolution by its own definition (each input pixel
 * scatters a weighted kernel), independent of the im2col route. */
static void naive_tconv(const dd_conv_transpose2d_shape *s, double *out,
                        const float *in, const float *w, const float *b)
{
    int ho = dd_conv_transpose2d_out_h(s), wo = dd_conv_transpose2d_out_w(s);
    for (int n = 0; n < s->n; n++)
        for (int o = 0; o < s->c_out; o++)
            for (int i = 0; i < ho * wo; i++)
                out[(n * s->c_out + o) * ho * wo + i] = b ? b[o] : 0.0;
    for (int n = 0; n < s->n; n++)
        for (int c = 0; c < s->c_in; c++)
            for (int y = 0; y < s->h_in; y++)
                for (int x = 0; x < s->w_in; x++) {
                    double v = in[((n * s->c_in + c) * s->h_in + y) * s->w_in + x];
                    for (int o = 0; o < s->c_out; o++)
                        for (int ky = 0; ky < s->kh; ky++)
                            for (int kx = 0; kx < s->kw; kx++) {
                                int oy = y * s->sh - s->ph + ky, ox = x * s->sw - s->pw + kx;
                                if (oy < 0 || oy >= ho || ox < 0 || ox >= wo) continue;
                                out[((n * s->c_out + o) * ho + oy) * wo + ox] +=
                                    v * w[((c * s->c_out + o) * s->kh + ky) * s->kw + kx];
                            }
                }
}

/* Both ops behind one interface so the backward checks are written once. */
typedef struct op {
    int transposed;
    dd_conv2d_shape cs;
    dd_conv_transpose2d_shape ts;
    size_t nin, nw, nb, nout, nscratch;
    float *in, *w, *b, *out, *r, *scratch;
} op;

static void op_forward(op *o)
{
    if (o->transposed) dd_conv_transpose2d_forward(&o->ts, o->out, o->in, o->w, o->b, o->scratch);
    else dd_conv2d_forward(&o->cs, o->out, o->in, o->w, o->b, o->scratch);
}

static void op_backward(op *o, float *din, float *dw, float *db)
{
    if (o->transposed)
        dd_conv_transpose2d_backward(&o->ts, din, dw, db, o->r, o->in, o->w, o->scratch);
    else
        dd_conv2d_backward(&o->cs, din, dw, db, o->r, o->in, o->w, o->scratch);
}

static double op_loss(void *p)
{
    op *o = p;
    op_forward(o);
    return gc_dot(o->out, o->r, o->nout);
}

static void op_init(op *o, uint64_t seed)
{
    uint64_t st = seed;
    o->in = alloc_f(o->nin); o->w = alloc_f(o->nw); o->b = alloc_f(o->nb);
    o->out = alloc_f(o->nout); o->r = alloc_f(o->nout);
    o->scratch = alloc_f(o->nscratch);
    gc_fill(o->in, o->nin, -1, 1, &st);
    gc_fill(o->w, o->nw, -1, 1, &st);
    gc_fill(o->b, o->nb, -1, 1, &st);
    gc_fill(o->r, o->nout, -1, 1, &st);
}

static void op_free(op *o)
{
    free(o->in); free(o->w); free(o->b); free(o->out); free(o->r); free(o->scratch);
}

static void expect_close(const float *a, const float *b, size_t n, double tol)
{
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]) / fmax(1.0, fabs((double)b[i]));
        if (d > worst) worst = d;
    }
    if (worst > tol) fprintf(stderr, "max rel diff %g > %g\n", worst, tol);
    assert_true(worst <= tol);
}

/* Backward: finite differences for every input, accumulation (a second call
 * doubles), buffers that already hold values, and NULL gradients. */
static void check_backward(op *o)
{
    float *din = alloc_f(o->nin), *dw = alloc_f(o->nw), *db = alloc_f(o->nb);
    op_backward(o, din, dw, db);
    assert_int_equal(gc_check("din", op_loss, o, o->in, o->nin, din, EPS, RTOL, ATOL, MAXCHK), 0);
    assert_int_equal(gc_check("dw", op_loss, o, o->w, o->nw, dw, EPS, RTOL, ATOL, MAXCHK), 0);
    assert_int_equal(gc_check("db", op_loss, o, o->b, o->nb, db, EPS, RTOL, ATOL, MAXCHK), 0);

    /* Backward adds: a second call on the same buffers doubles them. */
    float *din2 = alloc_f(o->nin), *dw2 = alloc_f(o->nw), *db2 = alloc_f(o->nb);
    memcpy(din2, din, o->nin * sizeof(float));
    memcpy(dw2, dw, o->nw * sizeof(float));
    memcpy(db2, db, o->nb * sizeof(float));
    op_backward(o, din2, dw2, db2);
    for (size_t i = 0; i < o->nin; i++) din2[i] *= 0.5f;
    for (size_t i = 0; i < o->nw; i++) dw2[i] *= 0.5f;
    for (size_t i = 0; i < o->nb; i++) db2[i] *= 0.5f;
    expect_close(din2, din, o->nin, 1e-5);
    expect_close(dw2, dw, o->nw, 1e-5);
    expect_close(db2, db, o->nb, 1e-5);

    /* Each gradient alone gives the same numbers as all together. */
    memset(din2, 0, o->nin * sizeof(float));
    op_backward(o, din2, NULL, NULL);
    expect_close(din2, din, o->nin, 1e-6);
    memset(dw2, 0, o->nw * sizeof(float));
    op_backward(o, NULL, dw2, NULL);
    expect_close(dw2, dw, o->nw, 1e-6);
    memset(db2, 0, o->nb * sizeof(float));
    op_backward(o, NULL, NULL, db2);
    expect_close(db2, db, o->nb, 1e-6);
    op_backward(o, NULL, NULL, NULL); /* nothing wanted: must not touch anything */

    free(din); free(dw); free(db); free(din2); free(dw2); free(db2);
}

static const dd_conv2d_shape conv_shapes[] = {
    /* n  c  h   w  co kh kw sh sw ph pw */
    {2, 3, 7, 5, 4, 3, 3, 1, 1, 1, 1},     /* odd, non-square, same padding */
    {1, 2, 8, 9, 3, 4, 4, 2, 2, 1, 1},     /* batch 1, the encoder's 4x4 s2 */
    {3, 2, 9, 7, 2, 2, 3, 3, 2, 0, 1},     /* non-square kernel and stride */
    {2, 1, 10, 11, 2, 2, 2, 3, 3, 0, 0},   /* stride > kernel: skipped pixels */
    {2, 4, 3, 3, 5, 1, 1, 1, 1, 0, 0},     /* 1x1 */
    {1, 1, 3, 2, 2, 3, 3, 1, 1, 2, 2},     /* padding wider than half the kernel */
    {2, 2, 4, 3, 2, 4, 5, 1, 1, 1, 1},     /* kernel as wide as the padded input */
    {5, 2, 32, 32, 3, 3, 3, 1, 1, 1, 1},   /* several sgemm chunks, a short last one */
    {70, 3, 5, 4, 2, 3, 3, 2, 2, 1, 1},    /* many images per chunk */
    {3, 8, 20, 14, 16, 4, 4, 2, 2, 1, 1},  /* K = 128, 210 columns: AVX-512 panels */
    /* Winograd's (winograd.c, where AVX-512 runs): forward and input
     * gradient, 17 images = a group of 16 and one of 1 */
    {17, 16, 22, 12, 64, 4, 4, 2, 2, 1, 1},
    {3, 16, 21, 15, 64, 4, 4, 2, 2, 2, 0},  /* forward alone; padding 2 and 0 */
};

static void test_conv2d(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof conv_shapes / sizeof conv_shapes[0]; k++) {
        op o = {0};
        o.cs = conv_shapes[k];
        const dd_conv2d_shape *s = &o.cs;
        assert_int_equal(dd_conv2d_check(s), 0);
        int ho = dd_conv2d_out_h(s), wo = dd_conv2d_out_w(s);
        o.nin = (size_t)s->n * s->c_in * s->h_in * s->w_in;
        o.nw = (size_t)s->c_out * s->c_in * s->kh * s->kw;
        o.nb = (size_t)s->c_out;
        o.nout = (size_t)s->n * s->c_out * ho * wo;
        o.nscratch = dd_conv2d_scratch_floats(s);
        op_init(&o, 1000 + k);

        double *ref = alloc_d(o.nout);
        naive_conv(s, ref, o.in, o.w, o.b);
        op_forward(&o);
        double err = gc_max_err(o.out, ref, o.nout);
        if (err > 1e-5) fprintf(stderr, "conv shape %zu forward err %g\n", k, err);
        assert_true(err <= 1e-5);
        /* Without bias. */
        naive_conv(s, ref, o.in, o.w, NULL);
        dd_conv2d_forward(s, o.out, o.in, o.w, NULL, o.scratch);
        assert_true(gc_max_err(o.out, ref, o.nout) <= 1e-5);
        free(ref);

        check_backward(&o);
        op_free(&o);
    }
}

static const dd_conv_transpose2d_shape tconv_shapes[] = {
    /* n  ci h  w  co kh kw sh sw ph pw oph opw */
    {2, 3, 4, 3, 2, 3, 3, 1, 1, 1, 1, 0, 0},
    {1, 4, 5, 6, 3, 4, 4, 2, 2, 1, 1, 0, 0},   /* the decoder's 4x4 s2 upsampler */
    {3, 2, 3, 5, 2, 3, 2, 2, 3, 0, 1, 1, 2},   /* output padding, non-square */
    {2, 2, 4, 4, 1, 2, 2, 3, 3, 0, 0, 2, 1},   /* stride > kernel: gaps in the output */
    {1, 2, 2, 2, 3, 5, 5, 1, 1, 2, 2, 0, 0},
    {60, 2, 3, 3, 2, 3, 3, 2, 2, 1, 1, 1, 1},  /* many images per chunk */
    {3, 2, 16, 20, 2, 3, 3, 2, 2, 1, 1, 1, 0}, /* several chunks */
    {3, 16, 10, 7, 8, 4, 4, 2, 2, 1, 1, 0, 0}, /* K = 128: AVX-512 panels */
};

static void test_conv_transpose2d(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof tconv_shapes / sizeof tconv_shapes[0]; k++) {
        op o = {0};
        o.transposed = 1;
        o.ts = tconv_shapes[k];
        const dd_conv_transpose2d_shape *s = &o.ts;
        assert_int_equal(dd_conv_transpose2d_check(s), 0);
        int ho = dd_conv_transpose2d_out_h(s), wo = dd_conv_transpose2d_out_w(s);
        o.nin = (size_t)s->n * s->c_in * s->h_in * s->w_in;
        o.nw = (size_t)s->c_in * s->c_out * s->kh * s->kw;
        o.nb = (size_t)s->c_out;
        o.nout = (size_t)s->n * s->c_out * ho * wo;
        o.nscratch = dd_conv_transpose2d_scratch_floats(s);
        op_init(&o, 2000 + k);

        double *ref = alloc_d(o.nout);
        naive_tconv(s, ref, o.in, o.w, o.b);
        memset(o.out, 0x7f, o.nout * sizeof(float)); /* forward must overwrite */
        op_forward(&o);
        double err = gc_max_err(o.out, ref, o.nout);
        if (err > 1e-5) fprintf(stderr, "tconv shape %zu forward err %g\n", k, err);
        assert_true(err <= 1e-5);
        free(ref);

        check_backward(&o);
        op_free(&o);
    }
}

/* Hand-computed: a 2x2 all-ones kernel, stride 1, no padding, over a 3x3
 * ramp gives the sums of each 2x2 block. */
static void test_conv2d_hand(void **state)
{
    (void)state;
    dd_conv2d_shape s = {1, 1, 3, 3, 1, 2, 2, 1, 1, 0, 0};
    float in[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w[4] = {1, 1, 1, 1}, b[1] = {0.5f};
    float out[4], scratch[64];
    assert_true(dd_conv2d_scratch_floats(&s) <= 64);
    dd_conv2d_forward(&s, out, in, w, b, scratch);
    assert_float_equal(out[0], 12.5f, 1e-6);
    assert_float_equal(out[1], 16.5f, 1e-6);
    assert_float_equal(out[2], 24.5f, 1e-6);
    assert_float_equal(out[3], 28.5f, 1e-6);
}

static void test_shape_checks(void **state)
{
    (void)state;
    dd_conv2d_shape bad[] = {
        {0, 1, 3, 3, 1, 3, 3, 1, 1, 0, 0},
        {1, 1, 3, 3, 1, 4, 3, 1, 1, 0, 0},   /* kernel larger than input */
        {1, 1, 3, 3, 1, 3, 3, 0, 1, 0, 0},
        {1, 1, 3, 3, 1, 3, 3, 1, 1, -1, 0},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(dd_conv2d_check(&bad[i]), -1);
    dd_conv_transpose2d_shape tb = {1, 1, 3, 3, 1, 3, 3, 2, 2, 0, 0, 2, 0}; /* op >= stride */
    assert_int_equal(dd_conv_transpose2d_check(&tb), -1);
    tb.oph = 1;
    assert_int_equal(dd_conv_transpose2d_check(&tb), 0);
    assert_int_equal(dd_conv_transpose2d_out_h(&tb), 8);
    assert_int_equal(dd_conv_transpose2d_out_w(&tb), 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv2d_hand),
        cmocka_unit_test(test_shape_checks),
        cmocka_unit_test(test_conv2d),
        cmocka_unit_test(test_conv_transpose2d),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
