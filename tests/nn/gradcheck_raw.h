/* gradcheck_raw.h - finite-difference checks for raw-array forward/backward
 * kernels, plus the small helpers their tests share (seeded fills, a naive
 * comparison). Header-only; include from one test file. */
#ifndef DD_TESTS_GRADCHECK_RAW_H
#define DD_TESTS_GRADCHECK_RAW_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A scalar function of the current contents of the buffers the test closes
 * over, computed in double. Tests use L = sum_j r_j * y_j (a fixed random
 * projection of the op's outputs), whose gradient w.r.t. y is r. */
typedef double (*gc_loss_fn)(void *ctx);

/* A deterministic generator (splitmix64) so every test sees the same data. */
static inline uint64_t gc_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [lo, hi). */
static inline float gc_uniform(uint64_t *state, float lo, float hi)
{
    double u = (double)(gc_next(state) >> 11) * (1.0 / 9007199254740992.0);
    return (float)(lo + (hi - lo) * u);
}

static inline void gc_fill(float *x, size_t n, float lo, float hi, uint64_t *state)
{
    for (size_t i = 0; i < n; i++) x[i] = gc_uniform(state, lo, hi);
}

/* sum_j r_j y_j in double: the projection loss. */
static inline double gc_dot(const float *y, const float *r, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)y[i] * (double)r[i];
    return s;
}

/* Largest |a_i - b_i| / max(1, |b_i|): a relative error that stays
 * meaningful near zero. b is the reference. */
static inline double gc_max_err(const float *a, const double *b, size_t n)
{
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]) / fmax(1.0, fabs(b[i]));
        if (d > worst || d != d) worst = d != d ? INFINITY : d;
    }
    return worst;
}

/* Checks analytic[i] against the central difference
 *     (L(x + eps e_i) - L(x - eps e_i)) / (actual step)
 * for the indices of x (every index if n <= max_checks, else max_checks
 * indices spread evenly, always including the first and last). x is
 * restored bit for bit after each probe. An index fails when
 *     |analytic - numeric| > atol + rtol * max(|analytic|, |numeric|).
 * Returns the number of failures and prints the first few to stderr with
 * `what` (cmocka shows stderr of failing tests). */
static inline int gc_check(const char *what, gc_loss_fn loss, void *ctx, float *x,
                           size_t n, const float *analytic, double eps,
                           double rtol, double atol, size_t max_checks)
{
    int fails = 0;
    size_t count = n <= max_checks ? n : max_checks;
    for (size_t k = 0; k < count; k++) {
        size_t i = count == n ? k : (count < 2 ? 0 : k * (n - 1) / (count - 1));
        float x0 = x[i];
        float xp = (float)((double)x0 + eps), xm = (float)((double)x0 - eps);
        x[i] = xp;
        double lp = loss(ctx);
        x[i] = xm;
        double lm = loss(ctx);
        x[i] = x0;
        double num = (lp - lm) / ((double)xp - (double)xm);
        double a = (double)analytic[i];
        double tol = atol + rtol * fmax(fabs(a), fabs(num));
        if (!(fabs(a - num) <= tol)) {
            if (fails < 5)
                fprintf(stderr, "gradcheck %s[%zu]: analytic %.6g numeric %.6g\n",
                        what, i, a, num);
            fails++;
        }
    }
    return fails;
}

#endif
