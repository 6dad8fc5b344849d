/* bench_conv_ab.c - two builds of libdaydream side by side on the traffic
 * encoder's conv layers (bench_conv's forward + backward, ReLU between),
 * to tell whether a change to the toolkit made them faster. On a shared
 * machine whose speed drifts by 10-20 % from minute to minute, timing one
 * build after the other says little; here both are loaded into this one
 * process (dlmopen: each in its own namespace, with its own globals and
 * threads) and run in turn, step by step, their order swapped every step.
 * Prints each build's median and best, and the median of the step-by-step
 * ratios A/B (> 1: B is faster).
 *
 * Usage: bench_conv_ab A.so B.so [threads 1] [steps 21]
 * e.g.   git worktree add /tmp/base HEAD~1 && cmake -S /tmp/base -B /tmp/base/build
 *        && cmake --build /tmp/base/build --target daydream
 *        && build/bench/bench_conv_ab /tmp/base/build/libdaydream.so build/libdaydream.so 2 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "conv.h"

enum { NL = 3, MAXSTEPS = 201 };

typedef struct build {
    void (*fwd)(const dd_conv2d_shape *, float *, const float *, const float *,
                const float *, float *);
    void (*bwd)(const dd_conv2d_shape *, float *, float *, float *, const float *,
                const float *, const float *, float *);
    size_t (*scratch)(const dd_conv2d_shape *);
    int (*threads)(int);
} build;

static void *need(void *lib, const char *name)
{
    void *f = dlsym(lib, name);
    if (!f) {
        fprintf(stderr, "bench_conv_ab: %s\n", dlerror());
        exit(1);
    }
    return f;
}

static void load(build *b, const char *path)
{
    void *lib = dlmopen(LM_ID_NEWLM, path, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "bench_conv_ab: %s\n", dlerror());
        exit(1);
    }
    *(void **)&b->fwd = need(lib, "dd_conv2d_forward");
    *(void **)&b->bwd = need(lib, "dd_conv2d_backward");
    *(void **)&b->scratch = need(lib, "dd_conv2d_scratch_floats");
    *(void **)&b->threads = need(lib, "dd_nn_set_threads");
}

typedef struct layer {
    dd_conv2d_shape s;
    size_t nout, nw;
    float *w, *b, *dw, *db, *out, *dout;
} layer;

/* One forward and backward of the encoder through build b. */
static double encoder_step(const build *b, layer *L, const float *x, float *scratch)
{
    double t0 = bu_now();
    const float *in = x;
    for (int l = 0; l < NL; l++) {
        b->fwd(&L[l].s, L[l].out, in, L[l].w, L[l].b, scratch);
        for (size_t i = 0; i < L[l].nout; i++)
            if (L[l].out[i] < 0) L[l].out[i] = 0;
        in = L[l].out;
    }
    for (size_t i = 0; i < L[NL - 1].nout; i++)
        L[NL - 1].dout[i] = (float)(i % 7) - 3.0f;
    for (int l = NL - 1; l >= 0; l--) {
        memset(L[l].dw, 0, L[l].nw * sizeof(float));
        memset(L[l].db, 0, (size_t)L[l].s.c_out * sizeof(float));
        for (size_t i = 0; i < L[l].nout; i++)
            if (!(L[l].out[i] > 0)) L[l].dout[i] = 0;
        float *din = l > 0 ? L[l - 1].dout : NULL;
        if (din) memset(din, 0, L[l - 1].nout * sizeof(float));
        b->bwd(&L[l].s, din, L[l].dw, L[l].db, L[l].dout, l > 0 ? L[l - 1].out : x, L[l].w,
               scratch);
    }
    return bu_now() - t0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_conv_ab A.so B.so [threads 1] [steps 21]\n");
        return 2;
    }
    int threads = argc > 3 ? atoi(argv[3]) : 1, steps = argc > 4 ? atoi(argv[4]) : 21;
    if (steps < 1 || steps > MAXSTEPS) steps = 21;
    build B[2];
    load(&B[0], argv[1]);
    load(&B[1], argv[2]);
    B[0].threads(threads);
    B[1].threads(threads);

    const int batch = 64, chans[NL + 1] = {3, 64, 128, 256};
    int h = 117, w = 24;
    layer L[NL];
    size_t scratch_n = 0;
    for (int l = 0; l < NL; l++) {
        dd_conv2d_shape s = {batch, chans[l], h, w, chans[l + 1], 4, 4, 2, 2, 1, 1};
        L[l].s = s;
        h = (h + 2 - 4) / 2 + 1;
        w = (w + 2 - 4) / 2 + 1;
        L[l].nout = (size_t)batch * chans[l + 1] * h * w;
        L[l].nw = (size_t)chans[l + 1] * chans[l] * 16;
        L[l].w = bu_falloc(L[l].nw);
        L[l].b = bu_falloc((size_t)chans[l + 1]);
        L[l].dw = bu_falloc(L[l].nw);
        L[l].db = bu_falloc((size_t)chans[l + 1]);
        L[l].out = bu_falloc(L[l].nout);
        L[l].dout = bu_falloc(L[l].nout);
        for (int k = 0; k < 2; k++) {
            size_t n = B[k].scratch(&s);
            if (n > scratch_n) scratch_n = n;
        }
    }
    float *x = bu_falloc((size_t)batch * 3 * 117 * 24), *scratch = bu_falloc(scratch_n);

    double t[2][MAXSTEPS], ratio[MAXSTEPS];
    for (int r = -3; r < steps; r++)
        for (int k = 0; k < 2; k++) {
            int which = r & 1 ? 1 - k : k;
            double dt = encoder_step(&B[which], L, x, scratch);
            if (r >= 0) t[which][r] = dt;
        }
    for (int r = 0; r < steps; r++) ratio[r] = t[0][r] / t[1][r];
    bu_stats a = bu_summarise(t[0], steps), b = bu_summarise(t[1], steps);
    bu_stats q = bu_summarise(ratio, steps);
    printf("%d thread(s), %d steps: A %.2f ms (best %.2f) | B %.2f ms (best %.2f) | "
           "A/B step by step: median %.3f (min %.3f, max %.3f)\n",
           threads, steps, a.med * 1e3, a.min * 1e3, b.med * 1e3, b.min * 1e3, q.med, q.min,
           q.max);
    return 0;
}
