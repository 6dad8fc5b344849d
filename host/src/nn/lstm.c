/* lstm.c - one LSTM step (PyTorch gate order i, f, g, o), forward and
 * backward side by side. Two sgemms per direction do the heavy work; the
 * gate nonlinearities are a single pass over [B][4H]. */
#include "lstm.h"

#include <math.h>
#include <string.h>

#include "daydream/ops.h"
#include "gemm.h"

/* (cblas.h pulls in complex.h, whose macro I rules out the obvious names
 * B, I, H, G for the sizes: hence nb, ni, nh, ng.) */

int dd_lstm_check(const dd_lstm_shape *s)
{
    return (s && s->batch > 0 && s->n_in > 0 && s->n_hidden > 0) ? 0 : -1;
}

size_t dd_lstm_saved_floats(const dd_lstm_shape *s)
{
    return (size_t)s->batch * 5 * (size_t)s->n_hidden;
}

size_t dd_lstm_scratch_floats(const dd_lstm_shape *s)
{
    return (size_t)s->batch * 4 * (size_t)s->n_hidden;
}

static float sigmoidf(float a) { return 1.0f / (1.0f + expf(-a)); }

void dd_lstm_forward(const dd_lstm_shape *s, float *h, float *c, float *saved,
                     const float *x, const float *h_prev, const float *c_prev,
                     const float *w_ih, const float *w_hh, const float *b_ih,
                     const float *b_hh)
{
    int nb = s->batch, ni = s->n_in, ng = 4 * s->n_hidden;
    /* Pre-activations straight into the saved buffer, then activated in
     * place: backward only needs the activated values. */
    dd_sgemm(CblasNoTrans, CblasTrans, nb, ng, ni, 1.0f, x, ni,
             w_ih, ni, 0.0f, saved, ng);
    dd_lstm_forward_pre(s, h, c, saved, saved, h_prev, c_prev, w_hh, b_ih, b_hh);
}

void dd_lstm_forward_pre(const dd_lstm_shape *s, float *h, float *c, float *saved,
                         float *pre, const float *h_prev, const float *c_prev,
                         const float *w_hh, const float *b_ih, const float *b_hh)
{
    int nb = s->batch, nh = s->n_hidden, ng = 4 * nh;
    float *gates = saved, *tc = saved + (size_t)nb * ng;
    if (h_prev)
        dd_sgemm(CblasNoTrans, CblasTrans, nb, ng, nh, 1.0f, h_prev,
                 nh, w_hh, nh, 1.0f, pre, ng);
    for (int b = 0; b < nb; b++) {
        const float *p = pre + (size_t)b * ng;
        float *a = gates + (size_t)b * ng;
        for (int j = 0; j < ng; j++) {   /* p may be a: read before write */
            float v = p[j] + (b_ih ? b_ih[j] : 0.0f) + (b_hh ? b_hh[j] : 0.0f);
            a[j] = (j >= 2 * nh && j < 3 * nh) ? dd_tanhf(v) : sigmoidf(v);
        }
        const float *gi = a, *gf = a + nh, *gg = a + 2 * nh, *go = a + 3 * nh;
        const float *cp = c_prev ? c_prev + (size_t)b * nh : NULL;
        float *cb = c + (size_t)b * nh, *hb = h + (size_t)b * nh, *tb = tc + (size_t)b * nh;
        for (int k = 0; k < nh; k++) {
            float cv = gi[k] * gg[k] + (cp ? gf[k] * cp[k] : 0.0f);
            float t = dd_tanhf(cv);
            cb[k] = cv;
            tb[k] = t;
            hb[k] = go[k] * t;
        }
    }
}

void dd_lstm_backward(const dd_lstm_shape *s, float *dx, float *dh_prev,
                      float *dc_prev, float *dw_ih, float *dw_hh, float *db_ih,
                      float *db_hh, const float *dh, const float *dc,
                      const float *x, const float *h_prev, const float *c_prev,
                      const float *w_ih, const float *w_hh, const float *saved,
                      float *scratch)
{
    int nb = s->batch, nh = s->n_hidden, ng = 4 * nh;
    const float *gates = saved, *tc = saved + (size_t)nb * ng;
    float *da = scratch;
    if (!dh && !dc) {   /* no gradient arrives: everything adds zero */
        memset(da, 0, sizeof(float) * (size_t)nb * ng);
        return;
    }
    for (int b = 0; b < nb; b++) {
        const float *a = gates + (size_t)b * ng, *t = tc + (size_t)b * nh;
        const float *gi = a, *gf = a + nh, *gg = a + 2 * nh, *go = a + 3 * nh;
        const float *cp = c_prev ? c_prev + (size_t)b * nh : NULL;
        const float *dhb = dh ? dh + (size_t)b * nh : NULL;
        const float *dcb = dc ? dc + (size_t)b * nh : NULL;
        float *d = da + (size_t)b * ng;
        for (int k = 0; k < nh; k++) {
            float dhk = dhb ? dhb[k] : 0.0f;
            /* c reaches the loss directly (dc) and through h = o*tanh(c). */
            float dct = (dcb ? dcb[k] : 0.0f) + dhk * go[k] * (1.0f - t[k] * t[k]);
            d[k] = dct * gg[k] * gi[k] * (1.0f - gi[k]);
            d[nh + k] = cp ? dct * cp[k] * gf[k] * (1.0f - gf[k]) : 0.0f;
            d[2 * nh + k] = dct * gi[k] * (1.0f - gg[k] * gg[k]);
            d[3 * nh + k] = dhk * t[k] * go[k] * (1.0f - go[k]);
            if (dc_prev) dc_prev[(size_t)b * nh + k] += dct * gf[k];
        }
    }
    if (dh_prev)
        dd_sgemm(CblasNoTrans, CblasNoTrans, nb, nh, ng, 1.0f, da, ng,
                 w_hh, nh, 1.0f, dh_prev, nh);
    dd_lstm_backward_steps(s, 1, dx, dw_ih, dw_hh, db_ih, db_hh, da, x, h_prev, w_ih);
}

void dd_lstm_backward_steps(const dd_lstm_shape *s, int steps, float *dx,
                            float *dw_ih, float *dw_hh, float *db_ih,
                            float *db_hh, const float *da, const float *x,
                            const float *h_prev, const float *w_ih)
{
    int rows = steps * s->batch, ni = s->n_in, nh = s->n_hidden, ng = 4 * nh;
    if (dx)
        dd_sgemm(CblasNoTrans, CblasNoTrans, rows, ni, ng, 1.0f, da, ng,
                 w_ih, ni, 1.0f, dx, ni);
    if (dw_ih)
        dd_sgemm(CblasTrans, CblasNoTrans, ng, ni, rows, 1.0f, da, ng,
                 x, ni, 1.0f, dw_ih, ni);
    if (dw_hh && h_prev)
        dd_sgemm(CblasTrans, CblasNoTrans, ng, nh, rows, 1.0f, da, ng,
                 h_prev, nh, 1.0f, dw_hh, nh);
    /* Row by row: a column walk with stride 4H would miss the cache. */
    float *db[2] = {db_ih, db_hh};
    for (int q = 0; q < 2; q++)
        if (db[q])
            for (int r = 0; r < rows; r++) {
                const float *d = da + (size_t)r * ng;
                for (int j = 0; j < ng; j++) db[q][j] += d[j];
            }
}
