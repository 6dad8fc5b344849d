/* bench_gemm.c - the toolkit's dd_sgemm against OpenBLAS's cblas_sgemm on
 * the same thread count: a 2048^3 product and the products of the conv
 * encoder's training step in bench_nn (3x117x24 -> 64/128/256, 4x4 stride
 * 2 pad 1, batch 64), as conv.c makes them: forward M = c_out, N = the
 * chunk's columns (images folded to about 1536 columns: 3 x 696, 9 x 174,
 * 37 x 42), K = c_in * 16 (NN); weight gradient c_out x K over the columns
 * (NT); column gradient K x columns over c_out (TN). Where conv.c hands B
 * over already in the kernel's panels (forward and weight gradient), the
 * last column times dd_sgemm_panels on the same B, packed beforehand. The
 * sides alternate call by call; GFLOP/s medians with min and max.
 *
 * Usage: bench_gemm [-r REPS] [THREADS...] (default 9 repetitions, 1 2). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "daydream/nn.h"
#include "gemm.h"

typedef struct shape { const char *what; int ta, tb, M, N, K, panels; } shape;

static const shape shapes[] = {
    {"2048^3", 0, 0, 2048, 2048, 2048, 1},
    {"conv1 forward", 0, 0, 64, 2088, 48, 1},
    {"conv1 dW", 0, 1, 64, 48, 2088, 1},
    {"conv2 forward", 0, 0, 128, 1566, 1024, 1},
    {"conv2 dW", 0, 1, 128, 1024, 1566, 1},
    {"conv2 dcol", 1, 0, 1024, 1566, 128, 0},
    {"conv3 forward", 0, 0, 256, 1554, 2048, 1},
    {"conv3 dW", 0, 1, 256, 2048, 1554, 1},
    {"conv3 dcol", 1, 0, 2048, 1554, 256, 0},
};

/* op(B) (K x N; B stored transposed when tb) in dd_sgemm_panels's layout. */
static float *to_panels(const float *b, int tb, int ldb, int K, int N)
{
    size_t np = (size_t)(N + DD_GEMM_NR - 1) / DD_GEMM_NR;
    float *p = calloc(np * K * DD_GEMM_NR, sizeof *p);
    if (!p) { fprintf(stderr, "out of memory\n"); exit(1); }
    for (int k = 0; k < K; k++)
        for (int j = 0; j < N; j++)
            p[(size_t)(j / DD_GEMM_NR) * K * DD_GEMM_NR + (size_t)k * DD_GEMM_NR +
              j % DD_GEMM_NR] = tb ? b[(size_t)j * ldb + k] : b[(size_t)k * ldb + j];
    return p;
}

enum { MAXREPS = 101 };

static void run(const shape *s, int reps)
{
    int lda = s->ta ? s->M : s->K, ldb = s->tb ? s->K : s->N;
    float *a = bu_falloc((size_t)s->M * s->K), *b = bu_falloc((size_t)s->K * s->N),
          *c = bu_falloc((size_t)s->M * s->N);
    enum CBLAS_TRANSPOSE ta = s->ta ? CblasTrans : CblasNoTrans,
                         tb = s->tb ? CblasTrans : CblasNoTrans;
    int panels = s->panels && dd_sgemm_panels_ok();
    float *bp = panels ? to_panels(b, s->tb, ldb, s->K, s->N) : NULL;
    double t_dd[MAXREPS], t_ob[MAXREPS], t_pa[MAXREPS];
    for (int r = -1; r < reps; r++) { /* r = -1: warm-up of all */
        double t0 = bu_now();
        dd_sgemm(ta, tb, s->M, s->N, s->K, 1.0f, a, lda, b, ldb, 0.0f, c, s->N);
        double t1 = bu_now();
        cblas_sgemm(CblasRowMajor, ta, tb, s->M, s->N, s->K, 1.0f, a, lda, b, ldb, 0.0f, c,
                    s->N);
        double t2 = bu_now();
        if (panels)
            dd_sgemm_panels(ta, s->M, s->N, s->K, 1.0f, a, lda, bp, 0.0f, c, s->N);
        double t3 = bu_now();
        if (r >= 0) {
            t_dd[r] = t1 - t0;
            t_ob[r] = t2 - t1;
            t_pa[r] = t3 - t2;
        }
    }
    free(a); free(b); free(c); free(bp);
    double gf = 2.0 * s->M * (double)s->N * s->K * 1e-9;
    bu_stats d = bu_summarise(t_dd, reps), o = bu_summarise(t_ob, reps),
             q = bu_summarise(t_pa, reps);
    printf("| %-13s | %c%c | %4d x %4d x %4d | %6.1f (%5.1f-%5.1f) | %6.1f (%5.1f-%5.1f) | %.2f |",
           s->what, s->ta ? 'T' : 'N', s->tb ? 'T' : 'N', s->M, s->N, s->K, gf / d.med,
           gf / d.max, gf / d.min, gf / o.med, gf / o.max, gf / o.min, o.med / d.med);
    if (panels)
        printf(" %6.1f (%5.1f-%5.1f) |\n", gf / q.med, gf / q.max, gf / q.min);
    else
        printf(" - |\n");
}

int main(int argc, char **argv)
{
    int reps = 9, thr[8], nthr = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-r") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (nthr < 8) thr[nthr++] = atoi(argv[i]);
    }
    if (reps < 1) reps = 1;
    if (reps > MAXREPS) reps = MAXREPS;
    if (!nthr) { thr[0] = 1; thr[1] = 2; nthr = 2; }
    for (int k = 0; k < nthr; k++) {
        dd_nn_set_threads(thr[k]);
        printf("== %d thread%s ==\n", thr[k], thr[k] > 1 ? "s" : "");
        bu_print_machine();
        printf("| product | op | M x N x K | dd_sgemm GFLOP/s (min-max) | cblas_sgemm GFLOP/s "
               "(min-max) | ratio | dd_sgemm_panels GFLOP/s (min-max) |\n"
               "|---|---|---|---|---|---|---|\n");
        for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) run(&shapes[i], reps);
    }
    return 0;
}
