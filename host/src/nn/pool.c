/* pool.c - max-pooling with switches and unpooling, soft-max pooling with
 * soft-argmax (phase pooling), L2 pooling over channel groups: each forward
 * beside its backward. */
#include "pool.h"

#include <math.h>
#include <string.h>

int dd_pool2d_check(const dd_pool2d_shape *s)
{
    if (!s || s->n < 1 || s->c < 1 || s->h < 1 || s->w < 1 || s->kh < 1 ||
        s->kw < 1 || s->sh < 1 || s->sw < 1 || s->ph < 0 || s->pw < 0 ||
        s->ph > s->kh / 2 || s->pw > s->kw / 2)
        return -1;
    if (s->h + 2 * s->ph < s->kh || s->w + 2 * s->pw < s->kw)
        return -1;
    return 0;
}

int dd_pool2d_out_h(const dd_pool2d_shape *s) { return (s->h + 2 * s->ph - s->kh) / s->sh + 1; }
int dd_pool2d_out_w(const dd_pool2d_shape *s) { return (s->w + 2 * s->pw - s->kw) / s->sw + 1; }

/* The real (unpadded) taps of the window at output (oy, ox):
 * rows y0..y1-1, cols x0..x1-1 of the input plane; the window's top-left
 * tap sits at (wy, wx), possibly in the padding. */
typedef struct win { int wy, wx, y0, y1, x0, x1; } win;

static win window(const dd_pool2d_shape *s, int oy, int ox)
{
    win r;
    r.wy = oy * s->sh - s->ph;
    r.wx = ox * s->sw - s->pw;
    r.y0 = r.wy < 0 ? 0 : r.wy;
    r.x0 = r.wx < 0 ? 0 : r.wx;
    r.y1 = r.wy + s->kh > s->h ? s->h : r.wy + s->kh;
    r.x1 = r.wx + s->kw > s->w ? s->w : r.wx + s->kw;
    return r;
}

/* ---- max-pooling and unpooling ----------------------------------------- */

void dd_maxpool2d_forward(const dd_pool2d_shape *s, float *out, int32_t *switches,
                          const float *in)
{
    int ho = dd_pool2d_out_h(s), wo = dd_pool2d_out_w(s);
    size_t planes = (size_t)s->n * s->c, isz = (size_t)s->h * s->w;
    for (size_t p = 0; p < planes; p++) {
        const float *x = in + p * isz;
        float *y = out + p * (size_t)ho * wo;
        int32_t *sw = switches + p * (size_t)ho * wo;
        for (int oy = 0; oy < ho; oy++)
            for (int ox = 0; ox < wo; ox++) {
                win r = window(s, oy, ox);
                int32_t arg = r.y0 * s->w + r.x0;
                float best = x[arg];
                for (int iy = r.y0; iy < r.y1; iy++)
                    for (int ix = r.x0; ix < r.x1; ix++) {
                        float v = x[iy * s->w + ix];
                        /* Once a NaN is the best nothing beats it. */
                        if (v > best || (v != v && best == best)) {
                            best = v;
                            arg = iy * s->w + ix;
                        }
                    }
                y[oy * wo + ox] = best;
                sw[oy * wo + ox] = arg;
            }
    }
}

void dd_maxpool2d_backward(const dd_pool2d_shape *s, float *din, const float *dout,
                           const int32_t *switches)
{
    size_t osz = (size_t)dd_pool2d_out_h(s) * dd_pool2d_out_w(s), isz = (size_t)s->h * s->w;
    size_t planes = (size_t)s->n * s->c;
    for (size_t p = 0; p < planes; p++)
        for (size_t o = 0; o < osz; o++)
            din[p * isz + switches[p * osz + o]] += dout[p * osz + o];
}

void dd_maxunpool2d_forward(const dd_pool2d_shape *s, float *out, const float *in,
                            const int32_t *switches)
{
    size_t osz = (size_t)dd_pool2d_out_h(s) * dd_pool2d_out_w(s), isz = (size_t)s->h * s->w;
    size_t planes = (size_t)s->n * s->c;
    memset(out, 0, sizeof(float) * planes * isz);
    for (size_t p = 0; p < planes; p++)
        for (size_t o = 0; o < osz; o++)
            out[p * isz + switches[p * osz + o]] += in[p * osz + o];
}

void dd_maxunpool2d_backward(const dd_pool2d_shape *s, float *din, const float *dout,
                             const int32_t *switches)
{
    size_t osz = (size_t)dd_pool2d_out_h(s) * dd_pool2d_out_w(s), isz = (size_t)s->h * s->w;
    size_t planes = (size_t)s->n * s->c;
    for (size_t p = 0; p < planes; p++)
        for (size_t o = 0; o < osz; o++)
            din[p * osz + o] += dout[p * isz + switches[p * osz + o]];
}

/* ---- soft-max pooling and soft-argmax ---------------------------------- */

size_t dd_softpool2d_saved_floats(const dd_pool2d_shape *s)
{
    return (size_t)s->n * s->c * dd_pool2d_out_h(s) * dd_pool2d_out_w(s) * s->kh * s->kw;
}

void dd_softpool2d_forward(const dd_pool2d_shape *s, float beta, float *out,
                           float *pos_x, float *pos_y, float *saved,
                           const float *in)
{
    int ho = dd_pool2d_out_h(s), wo = dd_pool2d_out_w(s);
    size_t planes = (size_t)s->n * s->c, isz = (size_t)s->h * s->w;
    size_t osz = (size_t)ho * wo, ksz = (size_t)s->kh * s->kw;
    for (size_t p = 0; p < planes; p++) {
        const float *x = in + p * isz;
        for (int oy = 0; oy < ho; oy++)
            for (int ox = 0; ox < wo; ox++) {
                size_t o = p * osz + (size_t)oy * wo + ox;
                float *pw = saved + o * ksz;
                win r = window(s, oy, ox);
                /* Subtract the largest logit so exp never overflows. */
                float m = -INFINITY;
                for (int iy = r.y0; iy < r.y1; iy++)
                    for (int ix = r.x0; ix < r.x1; ix++) {
                        float l = beta * x[iy * s->w + ix];
                        if (l > m) m = l;
                    }
                memset(pw, 0, sizeof(float) * ksz);
                double z = 0.0;
                for (int iy = r.y0; iy < r.y1; iy++)
                    for (int ix = r.x0; ix < r.x1; ix++) {
                        float e = expf(beta * x[iy * s->w + ix] - m);
                        pw[(iy - r.wy) * s->kw + (ix - r.wx)] = e;
                        z += e;
                    }
                float inv = (float)(1.0 / z);
                double y = 0.0, px = 0.0, py = 0.0;
                for (int iy = r.y0; iy < r.y1; iy++)
                    for (int ix = r.x0; ix < r.x1; ix++) {
                        int ky = iy - r.wy, kx = ix - r.wx;
                        float pr = pw[ky * s->kw + kx] * inv;
                        pw[ky * s->kw + kx] = pr;
                        y += (double)pr * x[iy * s->w + ix];
                        px += (double)pr * kx;
                        py += (double)pr * ky;
                    }
                if (out) out[o] = (float)y;
                if (pos_x) pos_x[o] = (float)px;
                if (pos_y) pos_y[o] = (float)py;
            }
    }
}

/* With upstream gradient g_i = dout*x_i + dpos_x*kx_i + dpos_y*ky_i per tap,
 * L = sum_i p_i g_i, so
 *   dL/dx_i   = dout*p_i + beta*p_i*(g_i - gbar),   gbar = sum_j p_j g_j,
 *   dL/dbeta  = sum_i p_i g_i (x_i - y),            y = sum_j p_j x_j,
 * from dp_j/dx_i = beta p_j (delta_ij - p_i), dp_j/dbeta = p_j (x_j - y). */
void dd_softpool2d_backward(const dd_pool2d_shape *s, float beta, float *din,
                            float *dbeta, const float *dout, const float *dpos_x,
                            const float *dpos_y, const float *in,
                            const float *saved)
{
    int ho = dd_pool2d_out_h(s), wo = dd_pool2d_out_w(s);
    size_t planes = (size_t)s->n * s->c, isz = (size_t)s->h * s->w;
    size_t osz = (size_t)ho * wo, ksz = (size_t)s->kh * s->kw;
    double db = 0.0;
    if (!din && !dbeta) return;
    for (size_t p = 0; p < planes; p++) {
        const float *x = in + p * isz;
        float *dx = din ? din + p * isz : NULL;
        for (int oy = 0; oy < ho; oy++)
            for (int ox = 0; ox < wo; ox++) {
                size_t o = p * osz + (size_t)oy * wo + ox;
                const float *pw = saved + o * ksz;
                double gy = dout ? dout[o] : 0.0, gx = dpos_x ? dpos_x[o] : 0.0;
                double gv = dpos_y ? dpos_y[o] : 0.0;
                if (gy == 0.0 && gx == 0.0 && gv == 0.0) continue;
                win r = window(s, oy, ox);
                double y = 0.0, gbar = 0.0, pgx = 0.0;
                for (int iy = r.y0; iy < r.y1; iy++)
                    for (int ix = r.x0; ix < r.x1; ix++) {
                        int ky = iy - r.wy, kx = ix - r.wx;
                        double pr = pw[ky * s->kw + kx], xv = x[iy * s->w + ix];
                        double g = gy * xv + gx * kx + gv * ky;
                        y += pr * xv;
                        gbar += pr * g;
                        pgx += pr * g * xv;
                    }
                if (dx)
                    for (int iy = r.y0; iy < r.y1; iy++)
                        for (int ix = r.x0; ix < r.x1; ix++) {
                            int ky = iy - r.wy, kx = ix - r.wx;
                            double pr = pw[ky * s->kw + kx], xv = x[iy * s->w + ix];
                            double g = gy * xv + gx * kx + gv * ky;
                            dx[iy * s->w + ix] += (float)(gy * pr + beta * pr * (g - gbar));
                        }
                db += pgx - gbar * y;
            }
    }
    if (dbeta) *dbeta += (float)db;
}

/* ---- L2 pooling over channel groups ------------------------------------ */

int dd_l2pool_check(const dd_l2pool_shape *s)
{
    if (!s || s->n < 1 || s->c < 1 || s->h < 1 || s->w < 1 || s->grid_h < 1 ||
        s->grid_w < 1 || s->gh < 1 || s->gw < 1 || s->sh < 1 || s->sw < 1 ||
        !(s->eps >= 0.0f))
        return -1;
    if ((long)s->grid_h * s->grid_w != s->c || s->gh > s->grid_h || s->gw > s->grid_w)
        return -1;
    return 0;
}

int dd_l2pool_groups(const dd_l2pool_shape *s)
{
    return ((s->grid_h - s->gh) / s->sh + 1) * ((s->grid_w - s->gw) / s->sw + 1);
}

void dd_l2pool_forward(const dd_l2pool_shape *s, float *out, const float *in)
{
    int gy = (s->grid_h - s->gh) / s->sh + 1, gx = (s->grid_w - s->gw) / s->sw + 1;
    size_t hw = (size_t)s->h * s->w;
    for (int n = 0; n < s->n; n++) {
        const float *x = in + (size_t)n * s->c * hw;
        float *y0 = out + (size_t)n * gy * gx * hw;
        for (int a = 0; a < gy; a++)
            for (int b = 0; b < gx; b++) {
                float *y = y0 + (size_t)(a * gx + b) * hw;
                for (size_t p = 0; p < hw; p++) y[p] = 0.0f;
                for (int i = 0; i < s->gh; i++)
                    for (int j = 0; j < s->gw; j++) {
                        int ch = (a * s->sh + i) * s->grid_w + b * s->sw + j;
                        const float *xc = x + (size_t)ch * hw;
                        for (size_t p = 0; p < hw; p++) y[p] += xc[p] * xc[p];
                    }
                for (size_t p = 0; p < hw; p++) y[p] = sqrtf(s->eps + y[p]);
            }
    }
}

void dd_l2pool_backward(const dd_l2pool_shape *s, float *din, const float *dout,
                        const float *in, const float *out)
{
    int gy = (s->grid_h - s->gh) / s->sh + 1, gx = (s->grid_w - s->gw) / s->sw + 1;
    size_t hw = (size_t)s->h * s->w;
    for (int n = 0; n < s->n; n++) {
        const float *x = in + (size_t)n * s->c * hw;
        float *dx = din + (size_t)n * s->c * hw;
        size_t g0 = (size_t)n * gy * gx * hw;
        for (int a = 0; a < gy; a++)
            for (int b = 0; b < gx; b++) {
                const float *y = out + g0 + (size_t)(a * gx + b) * hw;
                const float *dy = dout + g0 + (size_t)(a * gx + b) * hw;
                for (int i = 0; i < s->gh; i++)
                    for (int j = 0; j < s->gw; j++) {
                        int ch = (a * s->sh + i) * s->grid_w + b * s->sw + j;
                        const float *xc = x + (size_t)ch * hw;
                        float *dc = dx + (size_t)ch * hw;
                        /* y = 0 only if eps = 0 and the group is all zeros:
                         * take the subgradient 0 there rather than NaN. */
                        for (size_t p = 0; p < hw; p++)
                            if (y[p] > 0.0f) dc[p] += dy[p] * xc[p] / y[p];
                    }
            }
    }
}
