/* bench_util.h - what every benchmark in bench/ prints and measures the same
 * way (see BENCHMARKING.md): the clock, medians with min and max, the CPU
 * model, OpenBLAS's kernel, and the sgemm peak of this run. Header-only. */
#ifndef DD_BENCH_UTIL_H
#define DD_BENCH_UTIL_H

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Not declared by every cblas.h. */
extern char *openblas_get_corename(void);
extern int openblas_get_num_threads(void);

static inline double bu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static inline int bu_cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median, min and max of n timings (n >= 1); sorts t in place. */
typedef struct bu_stats { double med, min, max; } bu_stats;

static inline bu_stats bu_summarise(double *t, int n)
{
    qsort(t, (size_t)n, sizeof *t, bu_cmp_d);
    double med = n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
    return (bu_stats){med, t[0], t[n - 1]};
}

/* The "model name" line of /proc/cpuinfo, or "unknown". */
static inline void bu_cpu_model(char *buf, size_t n)
{
    snprintf(buf, n, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "model name", 10)) {
            char *c = strchr(line, ':');
            if (c) {
                snprintf(buf, n, "%s", c + 2);
                buf[strcspn(buf, "\n")] = 0;
            }
            break;
        }
    fclose(f);
}

/* Prints the line every benchmark starts with: CPU, OpenBLAS kernel,
 * threads, and the OPENBLAS_CORETYPE the environment may have set. */
static inline void bu_print_machine(void)
{
    char cpu[256];
    bu_cpu_model(cpu, sizeof cpu);
    const char *ct = getenv("OPENBLAS_CORETYPE");
    printf("CPU: %s; OpenBLAS core %s (OPENBLAS_CORETYPE=%s), %d BLAS threads\n", cpu,
           openblas_get_corename(), ct ? ct : "unset", openblas_get_num_threads());
}

/* n floats of a fixed pattern in [-0.5, 0.5); exits when memory runs out
 * (a benchmark, not library code). */
static inline float *bu_falloc(size_t n)
{
    float *p = malloc(n * sizeof(float));
    if (!p) { fprintf(stderr, "out of memory\n"); exit(1); }
    for (size_t i = 0; i < n; i++) p[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
    return p;
}

/* GFLOP/s of a 2048^3 cblas_sgemm on the current BLAS threads: the median
 * of reps timings after one warm-up call; *best (if not NULL) receives the
 * fastest one, the figure least disturbed by other load on a shared machine. */
static inline double bu_sgemm_peak(int reps, double *best)
{
    enum { M = 2048 };
    float *a = bu_falloc((size_t)M * M), *b = bu_falloc((size_t)M * M),
          *c = bu_falloc((size_t)M * M);
    double t[32];
    if (reps > 32) reps = 32;
    if (reps < 1) reps = 1;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, M, M, 1, a, M, b, M, 0, c, M);
    for (int r = 0; r < reps; r++) {
        double t0 = bu_now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, M, M, 1, a, M, b, M, 0, c, M);
        t[r] = bu_now() - t0;
    }
    free(a); free(b); free(c);
    bu_stats s = bu_summarise(t, reps);
    double flop = 2.0 * M * M * (double)M * 1e-9;
    if (best) *best = flop / s.min;
    return flop / s.med;
}

/* The directory of a source file (pass __FILE__): the peer scripts sit
 * beside the benchmarks' sources. */
static inline void bu_source_dir(const char *file, char *dir, size_t n)
{
    snprintf(dir, n, "%s", file);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    else snprintf(dir, n, ".");
}

#endif
