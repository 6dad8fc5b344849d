/* test_lstm.c - one LSTM step: forward against a direct double-precision
 * definition and hand values, backward against finite differences for every
 * input, a two-step unroll (recurrence accumulates), and NULL gradients. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "gradcheck_raw.h"
#include "lstm.h"

static float *falloc(size_t n)
{
    float *p = calloc(n ? n : 1, sizeof(float));
    assert_non_null(p);
    return p;
}

typedef struct cell {
    dd_lstm_shape s;
    size_t nx, nh, nw_ih, nw_hh, ng;
    float *x, *h_prev, *c_prev, *w_ih, *w_hh, *b_ih, *b_hh;  /* inputs */
    float *h, *c, *saved, *scratch, *rh, *rc;
    int first;   /* h_prev = c_prev = NULL */
} cell;

static void cell_init(cell *k, dd_lstm_shape s, int first, uint64_t seed)
{
    memset(k, 0, sizeof *k);
    k->s = s;
    k->first = first;
    k->nx = (size_t)s.batch * s.n_in;
    k->nh = (size_t)s.batch * s.n_hidden;
    k->ng = 4 * (size_t)s.n_hidden;
    k->nw_ih = k->ng * s.n_in;
    k->nw_hh = k->ng * s.n_hidden;
    k->x = falloc(k->nx); k->h_prev = falloc(k->nh); k->c_prev = falloc(k->nh);
    k->w_ih = falloc(k->nw_ih); k->w_hh = falloc(k->nw_hh);
    k->b_ih = falloc(k->ng); k->b_hh = falloc(k->ng);
    k->h = falloc(k->nh); k->c = falloc(k->nh);
    k->saved = falloc(dd_lstm_saved_floats(&s));
    k->scratch = falloc(dd_lstm_scratch_floats(&s));
    k->rh = falloc(k->nh); k->rc = falloc(k->nh);
    uint64_t st = seed;
    gc_fill(k->x, k->nx, -1, 1, &st);
    gc_fill(k->h_prev, k->nh, -1, 1, &st);
    gc_fill(k->c_prev, k->nh, -1.5f, 1.5f, &st);
    gc_fill(k->w_ih, k->nw_ih, -0.6f, 0.6f, &st);
    gc_fill(k->w_hh, k->nw_hh, -0.6f, 0.6f, &st);
    gc_fill(k->b_ih, k->ng, -0.5f, 0.5f, &st);
    gc_fill(k->b_hh, k->ng, -0.5f, 0.5f, &st);
    gc_fill(k->rh, k->nh, -1, 1, &st);
    gc_fill(k->rc, k->nh, -1, 1, &st);
}

static void cell_free(cell *k)
{
    float *p[] = {k->x, k->h_prev, k->c_prev, k->w_ih, k->w_hh, k->b_ih, k->b_hh,
                  k->h, k->c, k->saved, k->scratch, k->rh, k->rc};
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) free(p[i]);
}

static void cell_forward(cell *k)
{
    dd_lstm_forward(&k->s, k->h, k->c, k->saved, k->x, k->first ? NULL : k->h_prev,
                    k->first ? NULL : k->c_prev, k->w_ih, k->w_hh, k->b_ih, k->b_hh);
}

/* L = <h, rh> + <c, rc>: both outputs carry gradient. */
static double cell_loss(void *p)
{
    cell *k = p;
    cell_forward(k);
    return gc_dot(k->h, k->rh, k->nh) + gc_dot(k->c, k->rc, k->nh);
}

static double sig(double a) { return 1.0 / (1.0 + exp(-a)); }

/* The definition in double, PyTorch's gate order i, f, g, o. */
static void naive_step(const cell *k, double *h, double *c)
{
    int H = k->s.n_hidden, In = k->s.n_in;
    for (int b = 0; b < k->s.batch; b++) {
        double a[4][64];
        for (int q = 0; q < 4; q++)
            for (int j = 0; j < H; j++) {
                int row = q * H + j;
                double v = (double)k->b_ih[row] + k->b_hh[row];
                for (int i = 0; i < In; i++) v += (double)k->w_ih[row * In + i] * k->x[b * In + i];
                if (!k->first)
                    for (int i = 0; i < H; i++)
                        v += (double)k->w_hh[row * H + i] * k->h_prev[b * H + i];
                a[q][j] = v;
            }
        for (int j = 0; j < H; j++) {
            double ig = sig(a[0][j]), fg = sig(a[1][j]), gg = tanh(a[2][j]), og = sig(a[3][j]);
            double cp = k->first ? 0.0 : k->c_prev[b * H + j];
            c[b * H + j] = fg * cp + ig * gg;
            h[b * H + j] = og * tanh(c[b * H + j]);
        }
    }
}

static void test_lstm_hand(void **state)
{
    (void)state;
    /* Zero weights: i = f = o = 1/2, g = 0, so c = c_prev/2, h = tanh(c)/2. */
    dd_lstm_shape s = {1, 1, 1};
    float x = 3, hp = 0.7f, cp = 0.8f, wih[4] = {0}, whh[4] = {0}, h, c, saved[5], scr[4];
    assert_int_equal(dd_lstm_check(&s), 0);
    dd_lstm_forward(&s, &h, &c, saved, &x, &hp, &cp, wih, whh, NULL, NULL);
    assert_float_equal(c, 0.4, 1e-6);
    assert_float_equal(h, 0.5 * tanh(0.4), 1e-6);
    /* dL/dc_prev with L = c: f = 1/2. */
    float one = 1, dcp = 0;
    dd_lstm_backward(&s, NULL, NULL, &dcp, NULL, NULL, NULL, NULL, NULL, &one, &x, &hp, &cp,
                     wih, whh, saved, scr);
    assert_float_equal(dcp, 0.5, 1e-6);
    dd_lstm_shape bad = {1, 0, 3};
    assert_int_equal(dd_lstm_check(&bad), -1);
}

static const dd_lstm_shape shapes[] = {
    {1, 1, 1}, {3, 5, 4}, {2, 7, 6}, {4, 3, 9},
};

static void test_lstm_step(void **state)
{
    (void)state;
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++)
        for (int first = 0; first < 2; first++) {
            cell k;
            cell_init(&k, shapes[si], first, 100 + si);
            cell_forward(&k);
            double *h = calloc(k.nh, sizeof(double)), *c = calloc(k.nh, sizeof(double));
            assert_true(h && c);
            naive_step(&k, h, c);
            assert_true(gc_max_err(k.h, h, k.nh) < 1e-5);
            assert_true(gc_max_err(k.c, c, k.nh) < 1e-5);
            free(h); free(c);

            float *dx = falloc(k.nx), *dhp = falloc(k.nh), *dcp = falloc(k.nh);
            float *dwi = falloc(k.nw_ih), *dwh = falloc(k.nw_hh);
            float *dbi = falloc(k.ng), *dbh = falloc(k.ng);
            dd_lstm_backward(&k.s, dx, dhp, dcp, dwi, dwh, dbi, dbh, k.rh, k.rc, k.x,
                             first ? NULL : k.h_prev, first ? NULL : k.c_prev,
                             k.w_ih, k.w_hh, k.saved, k.scratch);
            const double eps = 5e-3, rt = 1e-2, at = 1e-3;
            assert_int_equal(gc_check("dx", cell_loss, &k, k.x, k.nx, dx, eps, rt, at, 300), 0);
            assert_int_equal(gc_check("dw_ih", cell_loss, &k, k.w_ih, k.nw_ih, dwi, eps, rt, at, 300), 0);
            assert_int_equal(gc_check("db_ih", cell_loss, &k, k.b_ih, k.ng, dbi, eps, rt, at, 300), 0);
            assert_int_equal(gc_check("db_hh", cell_loss, &k, k.b_hh, k.ng, dbh, eps, rt, at, 300), 0);
            if (!first) {
                assert_int_equal(gc_check("dh_prev", cell_loss, &k, k.h_prev, k.nh, dhp, eps, rt, at, 300), 0);
                assert_int_equal(gc_check("dc_prev", cell_loss, &k, k.c_prev, k.nh, dcp, eps, rt, at, 300), 0);
                assert_int_equal(gc_check("dw_hh", cell_loss, &k, k.w_hh, k.nw_hh, dwh, eps, rt, at, 300), 0);
            } else {
                /* No previous state: nothing flows to it or to w_hh. */
                for (size_t i = 0; i < k.nw_hh; i++) assert_float_equal(dwh[i], 0, 0);
            }

            /* Backward adds: a second call doubles every gradient. */
            float *cp[] = {dx, dhp, dcp, dwi, dwh, dbi, dbh};
            size_t cn[] = {k.nx, k.nh, k.nh, k.nw_ih, k.nw_hh, k.ng, k.ng};
            float *copy[7];
            for (int q = 0; q < 7; q++) {
                copy[q] = falloc(cn[q]);
                memcpy(copy[q], cp[q], cn[q] * sizeof(float));
            }
            cell_forward(&k);
            dd_lstm_backward(&k.s, copy[0], copy[1], copy[2], copy[3], copy[4], copy[5], copy[6],
                             k.rh, k.rc, k.x, first ? NULL : k.h_prev, first ? NULL : k.c_prev,
                             k.w_ih, k.w_hh, k.saved, k.scratch);
            for (int q = 0; q < 7; q++)
                for (size_t i = 0; i < cn[q]; i++)
                    assert_float_equal(copy[q][i], 2 * cp[q][i], 1e-5 * fmax(1, fabs(cp[q][i])));
            /* Only d-input wanted (a planner through a frozen model). */
            memset(copy[0], 0, cn[0] * sizeof(float));
            dd_lstm_backward(&k.s, copy[0], NULL, NULL, NULL, NULL, NULL, NULL, k.rh, k.rc, k.x,
                             first ? NULL : k.h_prev, first ? NULL : k.c_prev,
                             k.w_ih, k.w_hh, k.saved, k.scratch);
            for (size_t i = 0; i < k.nx; i++) assert_float_equal(copy[0][i], dx[i], 1e-6);
            for (int q = 0; q < 7; q++) free(copy[q]);
            free(dx); free(dhp); free(dcp); free(dwi); free(dwh); free(dbi); free(dbh);
            cell_free(&k);
        }
}

/* Two steps sharing weights: L = <h2, r> with (h1, c1) = step(x1, h0, c0)
 * and (h2, c2) = step(x2, h1, c1). Backward through step 2 then step 1 must
 * accumulate the weight gradient of both steps. */
typedef struct unroll {
    dd_lstm_shape s;
    float *x1, *x2, *h0, *c0, *h1, *c1, *h2, *c2, *sv1, *sv2, *w_ih, *w_hh, *b, *r;
    size_t nh;
} unroll;

static double unroll_loss(void *p)
{
    unroll *u = p;
    dd_lstm_forward(&u->s, u->h1, u->c1, u->sv1, u->x1, u->h0, u->c0, u->w_ih, u->w_hh, u->b, NULL);
    dd_lstm_forward(&u->s, u->h2, u->c2, u->sv2, u->x2, u->h1, u->c1, u->w_ih, u->w_hh, u->b, NULL);
    return gc_dot(u->h2, u->r, u->nh);
}

static void test_lstm_unroll(void **state)
{
    (void)state;
    unroll u;
    u.s = (dd_lstm_shape){3, 4, 5};
    size_t nx = 12, nh = 15, G = 20;
    u.nh = nh;
    u.x1 = falloc(nx); u.x2 = falloc(nx); u.h0 = falloc(nh); u.c0 = falloc(nh);
    u.h1 = falloc(nh); u.c1 = falloc(nh); u.h2 = falloc(nh); u.c2 = falloc(nh);
    u.sv1 = falloc(dd_lstm_saved_floats(&u.s)); u.sv2 = falloc(dd_lstm_saved_floats(&u.s));
    u.w_ih = falloc(G * 4); u.w_hh = falloc(G * 5); u.b = falloc(G); u.r = falloc(nh);
    uint64_t st = 77;
    gc_fill(u.x1, nx, -1, 1, &st); gc_fill(u.x2, nx, -1, 1, &st);
    gc_fill(u.h0, nh, -1, 1, &st); gc_fill(u.c0, nh, -1, 1, &st);
    gc_fill(u.w_ih, G * 4, -0.6f, 0.6f, &st); gc_fill(u.w_hh, G * 5, -0.6f, 0.6f, &st);
    gc_fill(u.b, G, -0.5f, 0.5f, &st); gc_fill(u.r, nh, -1, 1, &st);

    float *scr = falloc(dd_lstm_scratch_floats(&u.s));
    float *dh1 = falloc(nh), *dc1 = falloc(nh), *dh0 = falloc(nh), *dc0 = falloc(nh);
    float *dwi = falloc(G * 4), *dwh = falloc(G * 5), *db = falloc(G), *dx1 = falloc(nx);
    unroll_loss(&u);
    dd_lstm_backward(&u.s, NULL, dh1, dc1, dwi, dwh, db, NULL, u.r, NULL, u.x2, u.h1, u.c1,
                     u.w_ih, u.w_hh, u.sv2, scr);
    dd_lstm_backward(&u.s, dx1, dh0, dc0, dwi, dwh, db, NULL, dh1, dc1, u.x1, u.h0, u.c0,
                     u.w_ih, u.w_hh, u.sv1, scr);
    const double eps = 5e-3, rt = 1e-2, at = 1e-3;
    assert_int_equal(gc_check("unroll dw_ih", unroll_loss, &u, u.w_ih, G * 4, dwi, eps, rt, at, 100), 0);
    assert_int_equal(gc_check("unroll dw_hh", unroll_loss, &u, u.w_hh, G * 5, dwh, eps, rt, at, 100), 0);
    assert_int_equal(gc_check("unroll db", unroll_loss, &u, u.b, G, db, eps, rt, at, 100), 0);
    assert_int_equal(gc_check("unroll dx1", unroll_loss, &u, u.x1, nx, dx1, eps, rt, at, 100), 0);
    assert_int_equal(gc_check("unroll dh0", unroll_loss, &u, u.h0, nh, dh0, eps, rt, at, 100), 0);
    assert_int_equal(gc_check("unroll dc0", unroll_loss, &u, u.c0, nh, dc0, eps, rt, at, 100), 0);
    float *p[] = {u.x1, u.x2, u.h0, u.c0, u.h1, u.c1, u.h2, u.c2, u.sv1, u.sv2, u.w_ih, u.w_hh,
                  u.b, u.r, scr, dh1, dc1, dh0, dc0, dwi, dwh, db, dx1};
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) free(p[i]);
}

/* dd_lstm_backward_steps over T steps at once equals the per-step dx and
 * weight gradients of dd_lstm_backward, with the sequence stored as the
 * caller would: x [T][B][I], h [T+1][B][H] (h[0] the initial state). */
static void test_lstm_weight_grad_batched(void **state)
{
    (void)state;
    enum { T = 3 };
    dd_lstm_shape s = {2, 3, 4};
    size_t B = 2, In = 3, H = 4, G = 16;
    float *x = falloc(T * B * In), *h = falloc((T + 1) * B * H), *c = falloc((T + 1) * B * H);
    float *sv = falloc(T * dd_lstm_saved_floats(&s)), *da = falloc(T * B * G);
    float *wi = falloc(G * In), *wh = falloc(G * H), *b = falloc(G), *r = falloc(B * H);
    float *dh = falloc((T + 1) * B * H), *dc = falloc((T + 1) * B * H);
    float *dwi1 = falloc(G * In), *dwh1 = falloc(G * H), *db1 = falloc(G), *db1h = falloc(G);
    float *dwi2 = falloc(G * In), *dwh2 = falloc(G * H), *db2 = falloc(G), *db2h = falloc(G);
    float *scr = falloc(B * G), *dx1 = falloc(T * B * In), *dx2 = falloc(T * B * In);
    uint64_t st = 99;
    gc_fill(x, T * B * In, -1, 1, &st); gc_fill(h, B * H, -1, 1, &st); gc_fill(c, B * H, -1, 1, &st);
    gc_fill(wi, G * In, -0.6f, 0.6f, &st); gc_fill(wh, G * H, -0.6f, 0.6f, &st);
    gc_fill(b, G, -0.5f, 0.5f, &st); gc_fill(r, B * H, -1, 1, &st);
    for (int t = 0; t < T; t++)
        dd_lstm_forward(&s, h + (t + 1) * B * H, c + (t + 1) * B * H, sv + t * dd_lstm_saved_floats(&s),
                        x + t * B * In, h + t * B * H, c + t * B * H, wi, wh, b, NULL);
    memcpy(dh + T * B * H, r, B * H * sizeof(float));
    /* Per step, weights inside backward; then again with the batched call. */
    for (int pass = 0; pass < 2; pass++) {
        memset(dh, 0, T * B * H * sizeof(float));
        memset(dc, 0, (T + 1) * B * H * sizeof(float));
        for (int t = T - 1; t >= 0; t--)
            dd_lstm_backward(&s, pass ? NULL : dx1 + t * B * In, dh + t * B * H, dc + t * B * H,
                             pass ? NULL : dwi1, pass ? NULL : dwh1,
                             pass ? NULL : db1, pass ? NULL : db1h,
                             dh + (t + 1) * B * H, dc + (t + 1) * B * H, x + t * B * In,
                             h + t * B * H, c + t * B * H, wi, wh,
                             sv + t * dd_lstm_saved_floats(&s), pass ? da + t * B * G : scr);
    }
    dd_lstm_backward_steps(&s, T, dx2, dwi2, dwh2, db2, db2h, da, x, h, wi);
    for (size_t i = 0; i < T * B * In; i++) assert_float_equal(dx2[i], dx1[i], 1e-5);
    for (size_t i = 0; i < G * In; i++) assert_float_equal(dwi2[i], dwi1[i], 1e-5);
    for (size_t i = 0; i < G * H; i++) assert_float_equal(dwh2[i], dwh1[i], 1e-5);
    for (size_t i = 0; i < G; i++) {
        assert_float_equal(db2[i], db1[i], 1e-5);
        assert_float_equal(db2h[i], db1h[i], 1e-5);
    }
    /* And the per-step gradient is not trivially zero. */
    double norm = 0;
    for (size_t i = 0; i < G * In; i++) norm += fabs(dwi1[i]);
    assert_true(norm > 1e-2);
    float *p[] = {x, h, c, sv, da, wi, wh, b, r, dh, dc, dwi1, dwh1, db1, db1h,
                  dwi2, dwh2, db2, db2h, scr, dx1, dx2};
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) free(p[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lstm_hand),
        cmocka_unit_test(test_lstm_step),
        cmocka_unit_test(test_lstm_unroll),
        cmocka_unit_test(test_lstm_weight_grad_batched),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
