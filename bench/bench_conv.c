/* bench_conv.c - the world models' conv encoder (PPUU: 3x117x24 inputs,
 * conv 64/128/256 4x4 stride 2 pad 1 with ReLU, batch 64), forward+backward
 * through dd_conv2d_*, beside the OpenBLAS sgemm peak measured in the same
 * run, and beside PyTorch's time for the same encoder (bench/torch_conv.py,
 * run from here so both come from one run; skipped if PyTorch is absent). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "conv.h"

#define NL 3
#define REPS 15

typedef struct layer {
    dd_conv2d_shape s;
    size_t nin, nout, nw;
    float *w, *b, *dw, *db, *out, *dout;
} layer;

static double gflop_fwd(const dd_conv2d_shape *s)
{
    return 2.0 * s->n * s->c_out * dd_conv2d_out_h(s) * dd_conv2d_out_w(s) *
           (double)s->c_in * s->kh * s->kw * 1e-9;
}

static void relu(float *y, size_t n) { for (size_t i = 0; i < n; i++) if (y[i] < 0) y[i] = 0; }
/* dy *= [y > 0] */
static void relu_back(float *dy, const float *y, size_t n)
{
    for (size_t i = 0; i < n; i++) if (!(y[i] > 0)) dy[i] = 0;
}

static void report(const char *what, double *t, int n, double gflop, double peak)
{
    bu_stats s = bu_summarise(t, n);
    printf("%-28s median %8.2f ms (min %7.2f, max %7.2f)  %6.1f GFLOP/s  %4.0f%% of peak\n",
           what, s.med * 1e3, s.min * 1e3, s.max * 1e3, gflop / s.med,
           100.0 * gflop / s.med / peak);
}

int main(void)
{
    bu_print_machine();
    /* The sgemm peak on this machine, this run. */
    double peak = bu_sgemm_peak(5, NULL);
    printf("sgemm 2048^3: %.1f GFLOP/s (median of 5)\n\n", peak);

    const int batch = 64, chans[NL + 1] = {3, 64, 128, 256};
    int h = 117, w = 24;
    layer L[NL];
    size_t scratch_n = 0;
    float *x = NULL;
    for (int l = 0; l < NL; l++) {
        dd_conv2d_shape s = {batch, chans[l], h, w, chans[l + 1], 4, 4, 2, 2, 1, 1};
        if (dd_conv2d_check(&s)) { fprintf(stderr, "bad shape\n"); return 1; }
        L[l].s = s;
        L[l].nin = (size_t)batch * chans[l] * h * w;
        h = dd_conv2d_out_h(&s);
        w = dd_conv2d_out_w(&s);
        L[l].nout = (size_t)batch * chans[l + 1] * h * w;
        L[l].nw = (size_t)chans[l + 1] * chans[l] * 16;
        L[l].w = bu_falloc(L[l].nw); L[l].b = bu_falloc((size_t)chans[l + 1]);
        L[l].dw = bu_falloc(L[l].nw); L[l].db = bu_falloc((size_t)chans[l + 1]);
        L[l].out = bu_falloc(L[l].nout); L[l].dout = bu_falloc(L[l].nout);
        size_t sc = dd_conv2d_scratch_floats(&s);
        if (sc > scratch_n) scratch_n = sc;
        printf("layer %d: %3d x %3d x %2d -> %3d x %2d x %2d, %.2f GFLOP forward\n", l + 1,
               chans[l], s.h_in, s.w_in, chans[l + 1], h, w, gflop_fwd(&s));
    }
    x = bu_falloc(L[0].nin);
    float *scratch = bu_falloc(scratch_n);
    printf("scratch: %.1f MB\n\n", scratch_n * 4.0 / 1e6);

    double tf[NL][REPS], tb[NL][REPS], tt[REPS];
    double gf = 0, gb = 0;
    for (int l = 0; l < NL; l++) {
        gf += gflop_fwd(&L[l].s);
        gb += gflop_fwd(&L[l].s) * (l == 0 ? 1 : 2);   /* layer 1 needs no d-input */
    }
    for (int r = -3; r < REPS; r++) {
        double t0 = bu_now();
        const float *in = x;
        for (int l = 0; l < NL; l++) {
            double a = bu_now();
            dd_conv2d_forward(&L[l].s, L[l].out, in, L[l].w, L[l].b, scratch);
            relu(L[l].out, L[l].nout);
            if (r >= 0) tf[l][r] = bu_now() - a;
            in = L[l].out;
        }
        /* Upstream gradient of the last layer: a fixed pattern. */
        for (size_t i = 0; i < L[NL - 1].nout; i++) L[NL - 1].dout[i] = (float)(i % 7) - 3.0f;
        for (int l = NL - 1; l >= 0; l--) {
            double a = bu_now();
            memset(L[l].dw, 0, L[l].nw * sizeof(float));
            memset(L[l].db, 0, (size_t)L[l].s.c_out * sizeof(float));
            relu_back(L[l].dout, L[l].out, L[l].nout);
            float *din = NULL;
            if (l > 0) { din = L[l - 1].dout; memset(din, 0, L[l - 1].nout * sizeof(float)); }
            dd_conv2d_backward(&L[l].s, din, L[l].dw, L[l].db, L[l].dout,
                               l > 0 ? L[l - 1].out : x, L[l].w, scratch);
            if (r >= 0) tb[l][r] = bu_now() - a;
        }
        if (r >= 0) tt[r] = bu_now() - t0;
    }
    for (int l = 0; l < NL; l++) {
        char name[64];
        snprintf(name, sizeof name, "layer %d forward", l + 1);
        report(name, tf[l], REPS, gflop_fwd(&L[l].s), peak);
        snprintf(name, sizeof name, "layer %d backward", l + 1);
        report(name, tb[l], REPS, gflop_fwd(&L[l].s) * (l == 0 ? 1 : 2), peak);
    }
    report("encoder forward+backward", tt, REPS, gf + gb, peak);

    /* The peer, same thread count, same run. The script sits beside this
     * source file. */
    char dir[1024], cmd[1200], line[1024];
    bu_source_dir(__FILE__, dir, sizeof dir);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s/torch_conv.py' %d 2>&1", dir,
             openblas_get_num_threads());
    FILE *py = popen(cmd, "r");
    double torch_ms = 0;
    while (py && fgets(line, sizeof line, py)) {
        printf("pytorch: %s", line);
        char *m = strstr(line, "median_ms=");
        if (m) torch_ms = atof(m + 10);
    }
    if (py) pclose(py);
    if (torch_ms > 0) {
        double ours = bu_summarise(tt, REPS).med * 1e3;
        printf("encoder fwd+bwd: daydream %.2f ms, pytorch %.2f ms, ratio (pytorch/daydream) %.2f\n",
               ours, torch_ms, torch_ms / ours);
    }
    return 0;
}
