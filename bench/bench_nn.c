/* bench_nn.c - the toolkit's training step against PyTorch's, the issue's
 * three models: an MLP 784-512-512-10 (ReLU, cross-entropy, batch 128), the
 * traffic world models' conv encoder (3x117x24 -> conv 64/128/256 4x4
 * stride 2 padding 1, ReLU after each, MSE against a fixed target, batch 64)
 * and a 1024-unit LSTM (input 1024, 10 steps, batch 32, MSE of every step's
 * h against a fixed target). A step is zero_grad, forward, loss, backward,
 * Adam, on a fixed batch, after warm-up.
 *
 * PyTorch (bench/torch_nn.py) runs as a co-process on the same thread
 * count and the two sides alternate sample by sample with a pause between,
 * so that the load of this shared machine hits both alike and neither
 * side's spinning worker threads eat into the other's step. A sample is
 * one untimed step, then a burst of steps back to back, as in a training
 * loop, timed together (burst: enough steps for 20 ms; 1 for the conv
 * encoder and the LSTM, 4 or so for the MLP): a lone step after the pause
 * measured the cores' wake-up as much as the step (the MLP's 5 ms step,
 * split over 2 threads, took 3.4 or 11 ms depending on it). Prints medians with
 * min and max, the ratio PyTorch / ours (>= 1: we are at least as fast),
 * and the GFLOP/s of the step's matrix products (forward and backward of
 * the linear, conv and LSTM layers; the whole step's time, so ReLU, loss
 * and Adam count against it) as a fraction of the 2048^3 sgemm peak measured
 * in the same run: median step against median sgemm, and, since other load
 * on a shared machine slows both, best step against best sgemm.
 *
 * Usage: bench_nn [-r REPS] [-m mlp|conv|lstm] [-n (no PyTorch)] [THREADS...]
 * (default: 11 repetitions, every model, threads 1 and 2). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "daydream/nn.h"
#include "gemm.h"

/* The LSTM's sizes (cblas.h's complex.h takes the name I). */
enum { LT = 10, LB = 32, LI = 1024, LH = 1024, WARM = 3, MAXREPS = 101 };

/* Where Debian's OpenMP OpenBLAS lives: PyTorch gets it as its libblas.so.3
 * so that torch.set_num_threads also sets its BLAS threads (BENCHMARKING.md). */
#define OPENMP_BLAS_DIR "/usr/lib/x86_64-linux-gnu/openblas-openmp"

/* ---- our three models ---------------------------------------------------- */

typedef struct model {
    const char *name, *desc;
    dd_paramset *ps;
    dd_optim *opt;
    dd_graph *g;
    dd_tensor *p[8];       /* parameters, in the order built */
    float *x, *target;     /* the fixed batch */
    int *labels;
    double gflop;          /* matrix-product work of one step, forward + backward */
    int (*forward)(struct model *m, dd_tensor **loss);
} model;

static dd_tensor *param(model *m, int i, const char *name, int ndim, const int *dims)
{
    return m->p[i] = dd_paramset_add(m->ps, name, ndim, dims);
}

/* 784-512-512-10: three linears, ReLU between, cross-entropy. */
static int mlp_forward(model *m, dd_tensor **loss)
{
    dd_graph *g = m->g;
    dd_tensor *h = dd_graph_input(g, 2, (int[]){128, 784}, m->x, 0);
    h = dd_relu(g, dd_linear(g, h, m->p[0], m->p[1]));
    h = dd_relu(g, dd_linear(g, h, m->p[2], m->p[3]));
    *loss = dd_cross_entropy(g, dd_linear(g, h, m->p[4], m->p[5]), m->labels);
    return *loss ? 0 : -1;
}

static const dd_conv_params enc_p = {2, 2, 1, 1, 0, 0};

static int conv_forward(model *m, dd_tensor **loss)
{
    dd_graph *g = m->g;
    dd_tensor *h = dd_graph_input(g, 4, (int[]){64, 3, 117, 24}, m->x, 0);
    for (int l = 0; l < 3; l++)
        h = dd_relu(g, dd_conv2d(g, h, m->p[2 * l], m->p[2 * l + 1], &enc_p));
    dd_tensor *t = dd_graph_input(g, 4, (int[]){64, 256, 14, 3}, m->target, 0);
    *loss = dd_mse(g, h, t);
    return *loss ? 0 : -1;
}

static int lstm_forward(model *m, dd_tensor **loss)
{
    dd_graph *g = m->g;
    dd_tensor *x = dd_graph_input(g, 3, (int[]){LT, LB, LI}, m->x, 0);
    dd_lstm_weights w = {m->p[0], m->p[1], m->p[2], m->p[3]};
    dd_tensor *hs = dd_lstm(g, x, NULL, &w, NULL);
    dd_tensor *t = dd_graph_input(g, 3, (int[]){LT, LB, LH}, m->target, 0);
    *loss = dd_mse(g, hs, t);
    return *loss ? 0 : -1;
}

/* Allocates the set, initialises every weight (He for ReLU layers, Xavier
 * and orthogonal for the LSTM, biases zero, as PyTorch users would), makes
 * the optimiser and an arena of arena_mb. */
static int finish(model *m, size_t arena_mb, int lstm)
{
    if (dd_paramset_alloc(m->ps) != DD_OK) return -1;
    dd_rng rng;
    dd_rng_seed(&rng, 7, 0);
    for (int i = 0; i < dd_paramset_len(m->ps); i++) {
        dd_tensor *t = dd_paramset_tensor(m->ps, i);
        if (t->ndim == 1) continue;
        if (lstm && i == 1) dd_init_orthogonal(t, &rng, 1.0f);
        else if (lstm) dd_init_xavier(t, &rng, 1.0f);
        else dd_init_he(t, &rng);
    }
    dd_optim_config cfg = dd_optim_defaults(DD_OPTIM_ADAM);
    m->opt = dd_optim_new(m->ps, &cfg);
    m->g = dd_graph_new(arena_mb << 20);
    return m->opt && m->g ? 0 : -1;
}

static int build(model *m, const char *name)
{
    memset(m, 0, sizeof *m);
    m->ps = dd_paramset_new();
    if (!strcmp(name, "mlp")) {
        const int d[4] = {784, 512, 512, 10};
        char nm[16];
        for (int l = 0; l < 3; l++) {
            snprintf(nm, sizeof nm, "w%d", l);
            param(m, 2 * l, nm, 2, (int[]){d[l + 1], d[l]});
            snprintf(nm, sizeof nm, "b%d", l);
            param(m, 2 * l + 1, nm, 1, (int[]){d[l + 1]});
            /* dW for every layer, dx for all but the first */
            m->gflop += 2.0 * 128 * d[l] * d[l + 1] * (l ? 3 : 2) * 1e-9;
        }
        m->name = "mlp";
        m->desc = "MLP 784-512-512-10, batch 128";
        m->forward = mlp_forward;
        m->x = malloc(sizeof(float) * 128 * 784);
        m->labels = malloc(sizeof(int) * 128);
        for (int i = 0; i < 128 * 784; i++) m->x[i] = (float)((i * 7919) % 256) / 255.0f;
        for (int i = 0; i < 128; i++) m->labels[i] = (i * 7) % 10;
        return finish(m, 16, 0);
    }
    if (!strcmp(name, "conv")) {
        const int c[4] = {3, 64, 128, 256}, hw[4][2] = {{117, 24}, {58, 12}, {29, 6}, {14, 3}};
        char nm[16];
        for (int l = 0; l < 3; l++) {
            snprintf(nm, sizeof nm, "w%d", l);
            param(m, 2 * l, nm, 4, (int[]){c[l + 1], c[l], 4, 4});
            snprintf(nm, sizeof nm, "b%d", l);
            param(m, 2 * l + 1, nm, 1, (int[]){c[l + 1]});
            double f = 2.0 * 64 * c[l + 1] * hw[l + 1][0] * hw[l + 1][1] * c[l] * 16 * 1e-9;
            m->gflop += f * (l ? 3 : 2);
        }
        m->name = "conv";
        m->desc = "conv encoder 3x117x24 -> 64/128/256, batch 64";
        m->forward = conv_forward;
        m->x = bu_falloc((size_t)64 * 3 * 117 * 24);
        m->target = bu_falloc((size_t)64 * 256 * 14 * 3);
        return finish(m, 256, 0);
    }
    if (!strcmp(name, "lstm")) {
        param(m, 0, "w_ih", 2, (int[]){4 * LH, LI});
        param(m, 1, "w_hh", 2, (int[]){4 * LH, LH});
        param(m, 2, "b_ih", 1, (int[]){4 * LH});
        param(m, 3, "b_hh", 1, (int[]){4 * LH});
        /* forward x W_ih^T and h W_hh^T per step; backward dW_ih, dW_hh
         * and the recurrence's dh (none into step 0's zero state); x wants
         * no gradient */
        double fwd = 2.0 * LT * LB * 4.0 * LH * (LI + LH);
        m->gflop = (2 * fwd + 2.0 * (LT - 1) * LB * 4.0 * LH * LH) * 1e-9;
        m->name = "lstm";
        m->desc = "LSTM 1024 units, 10 steps, batch 32";
        m->forward = lstm_forward;
        m->x = bu_falloc((size_t)LT * LB * LI);
        m->target = bu_falloc((size_t)LT * LB * LH);
        return finish(m, 64, 1);
    }
    fprintf(stderr, "unknown model %s (mlp, conv, lstm)\n", name);
    return -1;
}

static void destroy(model *m)
{
    dd_graph_free(m->g);
    dd_optim_free(m->opt);
    dd_paramset_free(m->ps);
    free(m->x);
    free(m->target);
    free(m->labels);
}

/* One training step as PyTorch users write it. */
static int step(model *m)
{
    dd_graph_reset(m->g);
    dd_paramset_zero_grad(m->ps);
    dd_tensor *loss;
    if (m->forward(m, &loss) != 0 || dd_graph_backward(m->g, loss) != DD_OK) {
        fprintf(stderr, "%s step failed: %s\n", m->name, dd_graph_error(m->g));
        return -1;
    }
    return dd_optim_step(m->opt);
}

/* ---- the PyTorch co-process ---------------------------------------------- */

typedef struct peer {
    pid_t pid;
    FILE *to, *from;
    const char *policy;   /* OMP_WAIT_POLICY it runs with, NULL: unset */
    char hello[2048];
} peer;

/* Starts torch_nn.py on threads threads with OMP_WAIT_POLICY=policy (NULL:
 * libgomp's default); 0, or -1 with the reason printed (PyTorch missing,
 * script not found). */
static int peer_start(peer *p, int threads, const char *policy)
{
    char dir[1024], script[1100], nt[16];
    bu_source_dir(__FILE__, dir, sizeof dir);
    snprintf(script, sizeof script, "%s/torch_nn.py", dir);
    snprintf(nt, sizeof nt, "%d", threads);
    int in[2], out[2];
    if (pipe(in) || pipe(out)) { perror("pipe"); return -1; }
    p->pid = fork();
    if (p->pid < 0) { perror("fork"); return -1; }
    if (p->pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[0]); close(in[1]); close(out[0]); close(out[1]);
        if (access(OPENMP_BLAS_DIR "/libblas.so.3", R_OK) == 0) {
            const char *old = getenv("LD_LIBRARY_PATH");
            char path[4096];
            snprintf(path, sizeof path, "%s%s%s", OPENMP_BLAS_DIR, old ? ":" : "",
                     old ? old : "");
            setenv("LD_LIBRARY_PATH", path, 1);
        }
        /* Only matters if PyTorch ends up on the pthread OpenBLAS. */
        setenv("OPENBLAS_NUM_THREADS", nt, 1);
        if (policy) setenv("OMP_WAIT_POLICY", policy, 1);
        execl("/usr/bin/python3", "python3", script, nt, (char *)NULL);
        fprintf(stderr, "cannot run /usr/bin/python3 %s: %s\n", script, strerror(errno));
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    p->policy = policy;
    signal(SIGPIPE, SIG_IGN);
    p->to = fdopen(in[1], "w");
    p->from = fdopen(out[0], "r");
    if (!p->to || !p->from || !fgets(p->hello, sizeof p->hello, p->from) ||
        strncmp(p->hello, "hello", 5)) {
        printf("pytorch: not measured: %s\n", p->hello[0] ? p->hello : "no answer");
        if (p->to) fclose(p->to);
        if (p->from) fclose(p->from);
        waitpid(p->pid, NULL, 0);
        memset(p, 0, sizeof *p);
        return -1;
    }
    p->hello[strcspn(p->hello, "\n")] = 0;
    return 0;
}

/* Sends one command and reads the one-line reply into r; -1 when the peer
 * died. */
static int peer_ask(peer *p, const char *cmd, char *r, size_t n)
{
    if (fprintf(p->to, "%s\n", cmd) < 0 || fflush(p->to) != 0 || !fgets(r, (int)n, p->from))
        return -1;
    r[strcspn(r, "\n")] = 0;
    return 0;
}

static void peer_stop(peer *p)
{
    if (p->to) { fprintf(p->to, "quit\n"); fclose(p->to); }
    if (p->from) fclose(p->from);
    if (p->pid > 0) waitpid(p->pid, NULL, 0);
    memset(p, 0, sizeof *p);
}

/* ---- measurement --------------------------------------------------------- */

/* The pause before every timed step: long enough for the other side's BLAS
 * and OpenMP workers to stop spinning. */
static void pause_between(void)
{
    struct timespec ts = {0, 150 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

/* GFLOP/s of a 2048^3 dd_sgemm, the product our layers run on (the AVX-512
 * kernel where the CPU has it): median of reps after a warm-up. */
static double dd_sgemm_peak(int reps)
{
    enum { M = 2048 };
    float *a = bu_falloc((size_t)M * M), *b = bu_falloc((size_t)M * M),
          *c = bu_falloc((size_t)M * M);
    double t[32];
    if (reps > 32) reps = 32;
    for (int r = -1; r < reps; r++) {
        double t0 = bu_now();
        dd_sgemm(CblasNoTrans, CblasNoTrans, M, M, M, 1, a, M, b, M, 0, c, M);
        if (r >= 0) t[r] = bu_now() - t0;
    }
    free(a); free(b); free(c);
    return 2.0 * M * M * (double)M * 1e-9 / bu_summarise(t, reps).med;
}

typedef struct result {
    char model[8], desc[64], variant[256];
    int threads;
    bu_stats ours, torch;   /* seconds; torch.med 0 when not measured */
    double gflop, peak, peak_best;   /* GFLOP per step; sgemm GFLOP/s median, best */
} result;

/* Times our step and PyTorch's alternately, reps times each. Of the peers
 * (PyTorch under different OpenMP wait policies), the one whose own warm-up
 * median was fastest is the one measured: PyTorch's best configuration. */
static int measure(const char *name, int threads, int reps, peer *py, int npy, double peak,
                   double peak_best, result *r)
{
    model m;
    char reply[512], cmd[64];
    if (build(&m, name) != 0) return -1;
    memset(r, 0, sizeof *r);
    snprintf(r->model, sizeof r->model, "%s", m.name);
    snprintf(r->desc, sizeof r->desc, "%s", m.desc);
    r->threads = threads;
    r->gflop = m.gflop;
    r->peak = peak;
    r->peak_best = peak_best;
    for (int i = 0; i < WARM; i++)
        if (step(&m) != 0) { destroy(&m); return -1; }
    peer *best = NULL;
    double best_t = 0;
    snprintf(cmd, sizeof cmd, "setup %s", name);
    for (int k = 0; k < npy; k++) {
        if (py[k].pid <= 0) continue;
        if (peer_ask(&py[k], cmd, reply, sizeof reply) || strncmp(reply, "ready ", 6)) {
            printf("pytorch: setup %s failed (%s)\n", name, reply);
            continue;
        }
        char *end;
        double t = strtod(reply + 6, &end);
        if (!best || t < best_t) {
            best = &py[k];
            best_t = t;
            snprintf(r->variant, sizeof r->variant, "%s%s%s", end + 1,
                     best->policy ? ",OMP_WAIT_POLICY=" : "", best->policy ? best->policy : "");
        }
    }
    /* the burst: enough steps for 20 ms, by the slower side's warm-up */
    double t0 = bu_now();
    if (step(&m) != 0) { destroy(&m); return -1; }
    double slower = bu_now() - t0;
    if (best && best_t > slower) slower = best_t;
    int burst = (int)(0.020 / slower) + 1;
    snprintf(cmd, sizeof cmd, "run %d", burst);
    double to[MAXREPS], tt[MAXREPS];
    for (int i = 0; i < reps; i++) {
        pause_between();
        if (step(&m) != 0) { destroy(&m); return -1; }
        t0 = bu_now();
        for (int b = 0; b < burst; b++)
            if (step(&m) != 0) { destroy(&m); return -1; }
        to[i] = (bu_now() - t0) / burst;
        if (best) {
            pause_between();
            if (peer_ask(best, cmd, reply, sizeof reply) || strncmp(reply, "t ", 2)) {
                printf("pytorch: run failed (%s)\n", reply);
                best = NULL;
            } else
                tt[i] = atof(reply + 2);
        }
    }
    r->ours = bu_summarise(to, reps);
    if (best) r->torch = bu_summarise(tt, reps);
    printf("  %-4s arena peak %.1f MB\n", m.name, dd_graph_arena_peak(m.g) / 1e6);
    destroy(&m);
    return 0;
}

static void print_result(const result *r)
{
    double gfs = r->gflop / r->ours.med, best = r->gflop / r->ours.min;
    printf("%-46s %d thr: daydream %8.2f ms (min %7.2f, max %7.2f)", r->desc, r->threads,
           r->ours.med * 1e3, r->ours.min * 1e3, r->ours.max * 1e3);
    if (r->torch.med > 0)
        printf(" | pytorch %8.2f ms (min %7.2f, max %7.2f) [%s] | ratio %.2f", r->torch.med * 1e3,
               r->torch.min * 1e3, r->torch.max * 1e3, r->variant, r->torch.med / r->ours.med);
    printf(" | %.1f GFLOP/s = %.0f%% of the sgemm peak (best step vs best sgemm %.0f%%)\n", gfs,
           100.0 * gfs / r->peak, 100.0 * best / r->peak_best);
}

int main(int argc, char **argv)
{
    int reps = 11, no_torch = 0, nthr = 0, thr[8];
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-r") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-m") && i + 1 < argc) only = argv[++i];
        else if (!strcmp(argv[i], "-n")) no_torch = 1;
        else if (atoi(argv[i]) > 0 && nthr < 8) thr[nthr++] = atoi(argv[i]);
        else {
            fprintf(stderr, "usage: %s [-r REPS] [-m mlp|conv|lstm] [-n] [THREADS...]\n", argv[0]);
            return 2;
        }
    }
    if (reps < 1 || reps > MAXREPS) { fprintf(stderr, "-r: 1..%d\n", MAXREPS); return 2; }
    if (!nthr) { thr[0] = 1; thr[1] = 2; nthr = 2; }
    const char *models[3] = {"mlp", "conv", "lstm"};
    result res[8][3];
    int nres[8] = {0};
    for (int k = 0; k < nthr; k++) {
        dd_nn_set_threads(thr[k]);
        printf("== %d thread%s ==\n", thr[k], thr[k] > 1 ? "s" : "");
        bu_print_machine();
        double peak_best, peak = bu_sgemm_peak(7, &peak_best);
        printf("sgemm 2048^3: %.1f GFLOP/s (median of 7; best %.1f); dd_sgemm 2048^3 (ours, "
               "%s): %.1f GFLOP/s\n", peak, peak_best,
               dd_sgemm_panels_ok() ? "AVX-512 kernel" : "= cblas_sgemm", dd_sgemm_peak(7));
        /* With more than one thread, libgomp's default wait policy and
         * PASSIVE each win on some load of the machine: both are tried. */
        peer py[2] = {{0}, {0}};
        int npy = no_torch ? 0 : thr[k] > 1 ? 2 : 1;
        for (int j = 0; j < npy; j++)
            if (peer_start(&py[j], thr[k], j ? "PASSIVE" : NULL) == 0)
                printf("pytorch%s: %s\n", j ? " (OMP_WAIT_POLICY=PASSIVE)" : "", py[j].hello);
        for (int i = 0; i < 3; i++) {
            if (only && strcmp(only, models[i])) continue;
            result *r = &res[k][nres[k]];
            if (measure(models[i], thr[k], reps, py, npy, peak, peak_best, r) != 0) return 1;
            print_result(r);
            nres[k]++;
            fflush(stdout);
        }
        for (int j = 0; j < npy; j++) peer_stop(&py[j]);
    }
    /* The table the README's Performance section takes. */
    printf("\n| model | threads | ours ms (min-max) | PyTorch ms (min-max) | ratio PyTorch/ours "
           "| ours GFLOP/s, %% of sgemm peak (medians; best vs best) |\n|---|---|---|---|---|---|\n");
    for (int k = 0; k < nthr; k++)
        for (int i = 0; i < nres[k]; i++) {
            const result *r = &res[k][i];
            printf("| %s | %d | %.2f (%.2f-%.2f) | ", r->desc, r->threads, r->ours.med * 1e3,
                   r->ours.min * 1e3, r->ours.max * 1e3);
            if (r->torch.med > 0)
                printf("%.2f (%.2f-%.2f) | %.2f", r->torch.med * 1e3, r->torch.min * 1e3,
                       r->torch.max * 1e3, r->torch.med / r->ours.med);
            else
                printf("- | -");
            printf(" | %.1f, %.0f%% of %.0f (%.0f%% of %.0f) |\n", r->gflop / r->ours.med,
                   100.0 * r->gflop / r->ours.med / r->peak, r->peak,
                   100.0 * r->gflop / r->ours.min / r->peak_best, r->peak_best);
        }
    return 0;
}
