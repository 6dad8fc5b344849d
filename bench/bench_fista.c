/* bench_fista.c -- sparse inference of 10,000 natural-image patches (12 x 12,
 * standardised, from skimage's photographs) on a 400-atom dictionary learned
 * here by dd_sparse: our coordinate descent and FISTA
 * (plugins/learners/sparse_coding/lasso.c) beside scikit-learn's sparse_encode
 * (bench/sklearn_sparse_encode.py, run in the same process tree: lasso_lars and
 * lasso_cd, n_jobs 1 and 2, the fastest wins) at the same lambda and to the same
 * objective value, which this program computes in float64 for both: each of ours
 * runs with the loosest stopping rule that reaches the reference's objective.
 * Needs /usr/bin/python3 with python3-sklearn; without it the reference is
 * skipped (and coordinate descent runs to the exact minimum, tol 0).
 * Usage: bench_fista [patches_dir] */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <daydream/optim.h>
#include <daydream/param.h>
#include <daydream/png.h>
#include <daydream/rng.h>

#include "dictionary.h"
#include "lasso.h"

extern char *openblas_get_corename(void);
extern int openblas_get_num_threads(void);

enum { P = 12, N = P * P, M = 400, ROWS = 10000, REPS = 7, FISTA_REPS = 3 };
#define LAMBDA 1.0f /* ours; scikit-learn's alpha = LAMBDA / 2 */

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Patches as the images env cuts them (normalize = standardize). */
static int cut_patches(const char *dir, float *x, int rows, uint64_t seed)
{
	static const char *names[] = {"astronaut.png", "brick.png", "camera.png", "chelsea.png",
	                              "coffee.png", "coins.png", "grass.png", "gravel.png",
	                              "moon.png", "motorcycle_left.png"};
	dd_image im[10];
	char path[1200], err[600];
	for (int i = 0; i < 10; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		if (dd_png_read_file(path, 1, &im[i], err, sizeof err) != DD_OK) {
			fprintf(stderr, "%s (run scripts/fetch-test-data.sh)\n", err);
			return -1;
		}
	}
	dd_rng rng;
	dd_rng_seed(&rng, seed, 0);
	for (int r = 0; r < rows; r++) {
		const dd_image *m = &im[dd_rng_below(&rng, 10)];
		int x0 = (int)dd_rng_below(&rng, (uint64_t)(m->width - P + 1));
		int y0 = (int)dd_rng_below(&rng, (uint64_t)(m->height - P + 1));
		float *o = x + (size_t)r * N;
		double s = 0, q = 0;
		for (int i = 0; i < N; i++) {
			o[i] = m->pixels[(size_t)(y0 + i / P) * (size_t)m->width + (size_t)(x0 + i % P)] / 255.0f;
			s += o[i];
			q += (double)o[i] * o[i];
		}
		double mean = s / N, sd = q / N - mean * mean;
		sd = sd > 0 ? sqrt(sd) : 0;
		for (int i = 0; i < N; i++)
			o[i] = (float)((o[i] - mean) / (sd + 0.05));
	}
	for (int i = 0; i < 10; i++)
		dd_image_free(&im[i]);
	return 0;
}

/* The dictionary as the sparse_coding plugin learns it (Adam, unit-norm
** projection), on 300 batches of 256 patches. */
static void learn_dictionary(float *W, const float *x)
{
	dd_paramset *ps = dd_paramset_new();
	int dims[2] = {M, N};
	dd_tensor *w = dd_paramset_add(ps, "W_d", 2, dims);
	dd_paramset_alloc(ps);
	dd_optim_config oc = dd_optim_defaults(DD_OPTIM_ADAM);
	oc.lr = 0.01f;
	dd_optim *opt = dd_optim_new(ps, &oc);
	dd_rng rng;
	dd_rng_seed(&rng, 7, 0);
	dict_init(w->data, M, N, NULL, 0, &rng);
	lasso s;
	lasso_init(&s, w->data, M, N, LAMBDA);
	static float z[256 * M], r[256 * N], idle[M];
	for (int u = 0; u < 300; u++) {
		const float *y = x + (size_t)(u % (ROWS / 256)) * 256 * N;
		lasso_opts o = {.method = LASSO_FISTA, .max_iter = 50};
		lasso_solve(&s, y, 256, z, &o);
		dd_paramset_zero_grad(ps);
		dict_grad(w->data, M, N, y, z, 256, r, w->grad);
		dd_optim_step(opt);
		dict_normalize(w->data, M, N, &rng);
		dict_resample(w->data, M, N, z, r, 256, idle, 50, &rng);
		lasso_refresh(&s);
	}
	memcpy(W, w->data, sizeof(float) * M * N);
	lasso_free(&s);
	dd_optim_free(opt);
	dd_paramset_free(ps);
}

static int write_f64(const char *path, const float *v, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	for (size_t i = 0; i < n; i++) {
		double d = v[i];
		fwrite(&d, sizeof d, 1, f);
	}
	return fclose(f);
}

/* Runs the Python reference; returns its objective (NAN when skipped) and
** its median time in *t. */
static double reference(const char *tmp, const float *x, const float *W, double *t, char *best)
{
	char path[512], cmd[1200], line[512];
	double obj = NAN;
	if (access("/usr/bin/python3", X_OK) != 0 ||
	    system("/usr/bin/python3 -c 'import sklearn, threadpoolctl' 2>/dev/null") != 0) {
		printf("reference skipped: /usr/bin/python3 with python3-sklearn is not installed\n");
		return obj;
	}
	snprintf(path, sizeof path, "%s/X.f64", tmp);
	write_f64(path, x, (size_t)ROWS * N);
	snprintf(path, sizeof path, "%s/D.f64", tmp);
	write_f64(path, W, (size_t)M * N);
	snprintf(path, sizeof path, "%s/shape.txt", tmp);
	FILE *f = fopen(path, "w");
	fprintf(f, "%d %d %d\n", ROWS, N, M);
	fclose(f);
	/* the variable reaches sparse_encode's worker processes too */
	snprintf(cmd, sizeof cmd, "PYTHONWARNINGS='ignore:Objective did not converge' "
	         "/usr/bin/python3 %s/bench/sklearn_sparse_encode.py %s %g 3",
	         DD_SOURCE_DIR, tmp, LAMBDA / 2.0);
	FILE *p = popen(cmd, "r");
	double tbest = 1e30;
	while (p && fgets(line, sizeof line, p)) {
		char name[128];
		double med, lo, hi;
		if (sscanf(line, "best %127s", name) == 1) {
			snprintf(best, 128, "%s", name);
		} else if (sscanf(line, "%127s %lf %lf %lf", name, &med, &lo, &hi) == 4) {
			printf("  scikit-learn %-22s median %8.3f s (min %.3f, max %.3f)\n", name, med, lo, hi);
			tbest = med < tbest ? med : tbest;
		}
	}
	if (!p || pclose(p) != 0) {
		printf("reference failed: %s\n", cmd);
		return obj;
	}
	*t = tbest;
	snprintf(path, sizeof path, "%s/codes.f64", tmp);
	f = fopen(path, "rb");
	float *z = malloc(sizeof(float) * (size_t)ROWS * M);
	for (size_t i = 0; f && i < (size_t)ROWS * M; i++) {
		double d = 0;
		if (fread(&d, sizeof d, 1, f) != 1)
			break;
		z[i] = (float)d;
	}
	if (f) {
		fclose(f);
		obj = lasso_energy(W, M, N, LAMBDA, x, z, ROWS);
	}
	free(z);
	return obj;
}

/* The objective after every iteration k of one FISTA run, summed over the
** solver's blocks: the residual of a block by one sgemm, sums in double. */
enum { MAX_ITERS = 3000 };
typedef struct curve {
	const float *x, *W;
	double obj[MAX_ITERS + 1];
	float r[LASSO_BLOCK * N];
} curve;

static void track(void *ctx, int k, int row0, int rows, const float *z)
{
	curve *c = ctx;
	const float *y = c->x + (size_t)row0 * N;
	memcpy(c->r, y, sizeof(float) * (size_t)rows * N);
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, N, M, -1.0f, z, M, c->W, N,
	            1.0f, c->r, N);
	double e = 0.0;
	for (int i = 0; i < rows * N; i++)
		e += (double)c->r[i] * c->r[i];
	for (int i = 0; i < rows * M; i++)
		e += LAMBDA * fabs((double)z[i]);
	c->obj[k] += e;
}

/* Median, min and max of `reps` timed solves after one warm-up; returns
** the iterations (sweeps) the last one used. */
static int time_solve(lasso *s, const float *x, float *z, const lasso_opts *o, int reps,
                      double st[3])
{
	double t[REPS];
	int k = lasso_solve(s, x, ROWS, z, o);
	for (int r = 0; r < reps; r++) {
		double t0 = now();
		k = lasso_solve(s, x, ROWS, z, o);
		t[r] = now() - t0;
	}
	qsort(t, (size_t)reps, sizeof *t, cmp_d);
	st[0] = t[reps / 2], st[1] = t[0], st[2] = t[reps - 1];
	return k;
}

/* Coordinate descent: the loosest tol of a ladder whose objective reaches
** the reference's (tol 0 without one), then timed on 1 and 2 threads;
** returns the faster median and its thread count in *threads. */
static double coordinate_descent(lasso *s, const float *x, const float *W, float *z,
                                 double target, int *threads)
{
	static const float tols[] = {1e-2f, 3e-3f, 1e-3f, 3e-4f, 1e-4f, 3e-5f, 1e-5f, 0.0f};
	const int n = (int)(sizeof tols / sizeof *tols);
	lasso_opts o = {.method = LASSO_CD, .max_iter = 1000, .tol = 0.0f, .threads = 2};
	for (int i = isnan(target) ? n - 1 : 0; i < n; i++) {
		o.tol = tols[i];
		int k = lasso_solve(s, x, ROWS, z, &o);
		double e = lasso_energy(W, M, N, LAMBDA, x, z, ROWS);
		printf("  coordinate descent, tol %.0e: objective %.6f, %d sweeps at most%s\n",
		       (double)o.tol, e, k, e <= target ? " (reaches scikit-learn's)" : "");
		if (e <= target)
			break;
	}
	double best = 1e30;
	for (int t = 1; t <= 2; t++) {
		double st[3];
		o.threads = t;
		int k = time_solve(s, x, z, &o, REPS, st);
		printf("  ours CD, tol %.0e, %d thread%s      median %8.3f s (min %.3f, max %.3f), "
		       "%d sweeps at most\n", (double)o.tol, t, t > 1 ? "s" : " ", st[0], st[1],
		       st[2], k);
		if (st[0] < best)
			best = st[0], *threads = t;
	}
	return best;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	char cpu[600] = "unknown", dir[1024], line[512];
	FILE *f = fopen("/proc/cpuinfo", "r");
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, "model name", 10)) {
			char *c = strchr(line, ':');
			snprintf(cpu, sizeof cpu, "%s", c ? c + 2 : line);
			cpu[strcspn(cpu, "\n")] = 0;
			break;
		}
	if (f)
		fclose(f);
	const char *home = getenv("HOME");
	snprintf(dir, sizeof dir, "%s", argc > 1 ? argv[1] : "");
	if (!dir[0])
		snprintf(dir, sizeof dir, "%s/.cache/daydream/skimage", home ? home : ".");
	printf("bench_fista: %d patches %dx%d, %d atoms, lambda %.2f (scikit-learn alpha %.2f)\n"
	       "CPU %s, OpenBLAS %s, %d threads\n", ROWS, P, P, M, LAMBDA, LAMBDA / 2, cpu,
	       openblas_get_corename(), openblas_get_num_threads());
	float *x = malloc(sizeof(float) * (size_t)ROWS * N), *W = malloc(sizeof(float) * M * N);
	float *z = malloc(sizeof(float) * (size_t)ROWS * M);
	if (cut_patches(dir, x, ROWS, 1) != 0)
		return 1;
	learn_dictionary(W, x);
	char tmp[] = "/tmp/bench_fista.XXXXXX", best[128] = "?";
	if (!mkdtemp(tmp))
		return 1;
	double t_ref = 0, target = reference(tmp, x, W, &t_ref, best);
	char cleanup[256];
	snprintf(cleanup, sizeof cleanup, "rm -rf %s", tmp);
	if (system(cleanup) != 0)
		fprintf(stderr, "could not remove %s\n", tmp);

	lasso s;
	lasso_init(&s, W, M, N, LAMBDA);
	int cd_threads = 1;
	double t_cd = coordinate_descent(&s, x, W, z, target, &cd_threads);

	lasso_opts o = {.method = LASSO_FISTA};
	/* The fewest iterations whose objective is at most the reference's, from
	** one run that records the objective after every iteration. */
	int k = 200;
	if (!isnan(target)) {
		static curve c;
		c.x = x;
		c.W = W;
		lasso_opts oc = {.method = LASSO_FISTA, .max_iter = MAX_ITERS, .each = track, .ctx = &c};
		lasso_solve(&s, x, ROWS, z, &oc);
		k = 1;
		while (k < MAX_ITERS && c.obj[k] > target)
			k++;
		o.max_iter = k;
		lasso_solve(&s, x, ROWS, z, &o);
		double e = lasso_energy(W, M, N, LAMBDA, x, z, ROWS);
		printf("objective in float64 (sum ||y - Dz||^2 + lambda |z|_1): scikit-learn %.6f; "
		       "FISTA %.6f after %d iterations%s (after 50: %.6f, 100: %.6f, 200: %.6f)\n",
		       target, e, k, e > target ? " (NOT reached within the cap)" : "", c.obj[50],
		       c.obj[100], c.obj[200]);
	}
	o.max_iter = k;
	double t[3];
	time_solve(&s, x, z, &o, FISTA_REPS, t);
	printf("  ours FISTA, %4d iterations      median %8.3f s (min %.3f, max %.3f)\n", k, t[0],
	       t[1], t[2]);
	printf("  ours FISTA, time per iteration    %.2f ms\n", 1e3 * t[0] / k);
	if (t_ref > 0) {
		printf("FISTA's speed-up over scikit-learn's fastest (%s): %.2fx\n", best, t_ref / t[0]);
		printf("speed-up over scikit-learn's fastest (%s), ours CD on %d thread%s: %.1fx "
		       "(target >= 5x)\n", best, cd_threads, cd_threads > 1 ? "s" : "", t_ref / t_cd);
	}
	lasso_free(&s);
	free(x);
	free(W);
	free(z);
	return 0;
}
