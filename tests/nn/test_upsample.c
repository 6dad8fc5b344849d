/* test_upsample.c - nearest and bilinear upsampling: forward against hand
 * computed values (PyTorch's align_corners=False numbers), backward against
 * finite differences, and the accumulate contract. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "gradcheck_raw.h"
#include "upsample.h"

static void test_nearest_hand(void **state)
{
    (void)state;
    dd_upsample_shape s = {1, 1, 2, 2, 2, 3};
    float in[4] = {1, 2, 3, 4}, out[24];
    const float want[24] = {1, 1, 1, 2, 2, 2,
                            1, 1, 1, 2, 2, 2,
                            3, 3, 3, 4, 4, 4,
                            3, 3, 3, 4, 4, 4};
    assert_int_equal(dd_upsample_check(&s), 0);
    dd_upsample_nearest_forward(&s, out, in);
    for (int i = 0; i < 24; i++) assert_float_equal(out[i], want[i], 0);
    float din[4] = {10, 0, 0, 0}, dout[24];
    for (int i = 0; i < 24; i++) dout[i] = (float)i;
    dd_upsample_nearest_backward(&s, din, dout);
    /* block sums: rows 0-1 x cols 0-2, etc., plus the 10 already there */
    assert_float_equal(din[0], 10 + (0 + 1 + 2 + 6 + 7 + 8), 0);
    assert_float_equal(din[1], 3 + 4 + 5 + 9 + 10 + 11, 0);
    assert_float_equal(din[2], 12 + 13 + 14 + 18 + 19 + 20, 0);
    assert_float_equal(din[3], 15 + 16 + 17 + 21 + 22 + 23, 0);
}

/* torch.nn.functional.interpolate(torch.tensor([[[[1.,2],[3,4]]]]),
 * scale_factor=2, mode='bilinear') gives these numbers. */
static void test_bilinear_hand(void **state)
{
    (void)state;
    dd_upsample_shape s = {1, 1, 2, 2, 2, 2};
    float in[4] = {1, 2, 3, 4}, out[16];
    const float want[16] = {1.00f, 1.25f, 1.75f, 2.00f,
                            1.50f, 1.75f, 2.25f, 2.50f,
                            2.50f, 2.75f, 3.25f, 3.50f,
                            3.00f, 3.25f, 3.75f, 4.00f};
    dd_upsample_bilinear_forward(&s, out, in);
    for (int i = 0; i < 16; i++) assert_float_equal(out[i], want[i], 1e-6);

    /* Factor 3 along a row [0, 3]: sources -1/3->0, 0, 1/3, 2/3, 1, 4/3->clamped. */
    dd_upsample_shape r = {1, 1, 1, 2, 1, 3};
    float row[2] = {0, 3}, o6[6];
    const float w6[6] = {0, 0, 1, 2, 3, 3};
    dd_upsample_bilinear_forward(&r, o6, row);
    for (int i = 0; i < 6; i++) assert_float_equal(o6[i], w6[i], 1e-5);

    /* Factor 1 is the identity. */
    dd_upsample_shape id = {1, 1, 2, 2, 1, 1};
    dd_upsample_bilinear_forward(&id, out, in);
    for (int i = 0; i < 4; i++) assert_float_equal(out[i], in[i], 0);
}

typedef struct ctx {
    dd_upsample_shape s;
    int bilinear;
    float *in, *out, *r;
    size_t nin, nout;
} ctx;

static double loss(void *p)
{
    ctx *c = p;
    if (c->bilinear) dd_upsample_bilinear_forward(&c->s, c->out, c->in);
    else dd_upsample_nearest_forward(&c->s, c->out, c->in);
    return gc_dot(c->out, c->r, c->nout);
}

static void test_backward(void **state)
{
    (void)state;
    const dd_upsample_shape shapes[] = {
        {1, 1, 1, 1, 3, 2}, {2, 3, 4, 5, 2, 2}, {1, 2, 3, 7, 3, 1},
        {3, 1, 5, 2, 4, 3}, {1, 1, 6, 6, 1, 1},
    };
    uint64_t st = 7;
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        for (int bil = 0; bil < 2; bil++) {
            ctx c = {shapes[k], bil, NULL, NULL, NULL, 0, 0};
            c.nin = (size_t)c.s.n * c.s.c * c.s.h * c.s.w;
            c.nout = c.nin * c.s.fh * c.s.fw;
            c.in = malloc(c.nin * sizeof(float));
            c.out = malloc(c.nout * sizeof(float));
            c.r = malloc(c.nout * sizeof(float));
            float *din = calloc(c.nin, sizeof(float)), *din2 = calloc(c.nin, sizeof(float));
            assert_true(c.in && c.out && c.r && din && din2);
            gc_fill(c.in, c.nin, -1, 1, &st);
            gc_fill(c.r, c.nout, -1, 1, &st);
            if (bil) dd_upsample_bilinear_backward(&c.s, din, c.r);
            else dd_upsample_nearest_backward(&c.s, din, c.r);
            assert_int_equal(gc_check(bil ? "bilinear din" : "nearest din", loss, &c,
                                      c.in, c.nin, din, 1e-2, 1e-3, 1e-4, 400), 0);
            /* Backward adds. */
            memcpy(din2, din, c.nin * sizeof(float));
            if (bil) dd_upsample_bilinear_backward(&c.s, din2, c.r);
            else dd_upsample_nearest_backward(&c.s, din2, c.r);
            for (size_t i = 0; i < c.nin; i++)
                assert_float_equal(din2[i], 2 * din[i], 1e-5 * fmax(1, fabs(din[i])));
            free(c.in); free(c.out); free(c.r); free(din); free(din2);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nearest_hand),
        cmocka_unit_test(test_bilinear_hand),
        cmocka_unit_test(test_backward),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
