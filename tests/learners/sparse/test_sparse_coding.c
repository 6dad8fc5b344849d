/*
** test_sparse_coding.c -- the sparse_coding learner on natural-image patches
** (8 x 8, standardised, from skimage's photographs through the images env):
** FISTA beats ISTA at equal iterations, both reach the same Lasso minimum
** where the optimality (KKT) conditions hold, and the learned dictionary
** reconstructs better than PCA with as many active components; coordinate
** descent (LASSO_CD) reaches that minimum too, with or without a prior,
** the same codes on any number of threads. Also the power iteration
** against LAPACK, checkpoints and the dictionary file.
** Fixed seeds; the data must be fetched (scripts/fetch-test-data.sh).
*/
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cblas.h>
#include <daydream/checkpoint.h>

#include "dictionary.h"
#include "lasso.h"
#include "plugin_kit.h"

enum { P = 8, N = P * P, M = 128, TRAIN = 256 * 150, HELD = 400 };
#define LAMBDA 1.0f

/* LAPACK (from OpenBLAS): eigenvalues and vectors of a symmetric matrix. */
extern void dsyev_(const char *jobz, const char *uplo, const int *n, double *a,
                   const int *lda, double *w, double *work, const int *lwork, int *info);

static float *train_x, *held_x;     /* TRAIN x N, HELD x N */
static float W[M * N];              /* the learned dictionary */
static const dd_plugin *plugin;
static int have_data; /* without the data every test skips */
static dd_tensor_spec obs_spec = {"image", 3, {1, P, P}};
static dd_spaces spaces = {.size = sizeof(dd_spaces), .n_obs = 1, .obs = &obs_spec,
                           .action_kind = DD_ACTION_DISCRETE, .action_dim = 1,
                           .n_actions = 1};

static void *new_learner(kit_host *h, const char *const *extra)
{
	const char *ov[16] = {"atoms=128", "lambda=1", "batch=256"};
	int k = 3;
	for (int i = 0; extra && extra[i]; i++)
		ov[k++] = extra[i];
	ov[k] = NULL;
	kit_params kp;
	kit_host_init(h, 11);
	return plugin->learner->create(kit_params_make(&kp, plugin, ov), &h->host, &spaces);
}

static int null_write(dd_writer *w, const void *d, size_t n)
{
	(void)w, (void)d, (void)n;
	return DD_OK;
}

/* Learns the dictionary once through the plugin (150 updates of 256
** patches) and reads it back through export_dictionary. */
static int setup(void **state)
{
	(void)state;
	int n;
	const char *ov[] = {"source=patches", "patch=8", "normalize=standardize", NULL};
	train_x = malloc(sizeof(float) * (size_t)(TRAIN + HELD) * N);
	held_x = train_x + (size_t)TRAIN * N;
	plugin = kit_plugin("sparse_coding");
	if (!plugin || kit_images(ov, 1, TRAIN + HELD, train_x, NULL, NULL, &n) != 0 || n != N) {
		fprintf(stderr, "no patches: run scripts/fetch-test-data.sh\n");
		return 0;
	}
	have_data = 1;
	kit_host h;
	const char *ex[] = {"export_dictionary=sc_test_dict.bin", "export_png=sc_test_dict.png", NULL};
	void *l = new_learner(&h, ex);
	if (!l)
		return -1;
	for (int u = 0; u < TRAIN / 256; u++) {
		const float *obs[1] = {train_x + (size_t)u * 256 * N};
		dd_transitions t = {.batch = 256, .obs = obs};
		dd_metrics m = {0};
		if (plugin->learner->observe(l, &t) != DD_OK || plugin->learner->update(l, &m) != DD_OK)
			return -1;
	}
	dd_writer w = {.write = null_write};
	char err[512];
	int rc = plugin->learner->save(l, &w) == DD_OK &&
	         dict_load_file(W, M, N, "sc_test_dict.bin", err, sizeof err) == 0 ? 0 : -1;
	plugin->learner->destroy(l);
	return rc;
}

static int teardown(void **state)
{
	(void)state;
	free(train_x);
	return 0;
}

static double solve(lasso_method method, int iters, float tol, const float *Y, int rows,
                    float *Z)
{
	lasso s;
	assert_int_equal(lasso_init(&s, W, M, N, LAMBDA), 0);
	lasso_opts o = {.method = method, .max_iter = iters, .tol = tol};
	lasso_solve(&s, Y, rows, Z, &o);
	lasso_free(&s);
	return lasso_energy(W, M, N, LAMBDA, Y, Z, rows) / rows;
}

/* FISTA's objective after k iterations is below ISTA's for every k tried;
** from k = 10 on, ISTA needs more than twice the iterations to catch up. */
static void fista_below_ista(void **state)
{
	(void)state;
	if (!have_data)
		skip();
	static float z[HELD * M];
	int ks[] = {5, 10, 20, 50, 100};
	for (int i = 0; i < 5; i++) {
		int k = ks[i];
		double e_ista = solve(LASSO_ISTA, k, 0, held_x, HELD, z);
		double e_fista = solve(LASSO_FISTA, k, 0, held_x, HELD, z);
		double e_ista2 = solve(LASSO_ISTA, 2 * k, 0, held_x, HELD, z);
		printf("# k = %3d: ISTA %.5f  FISTA %.5f  (ISTA at 2k: %.5f)\n", k, e_ista, e_fista,
		       e_ista2);
		assert_true(e_fista < e_ista);
		if (k >= 10)
			assert_true(e_ista2 > e_fista);
	}
}

/* Run long, both reach the same minimum, and it satisfies the Lasso's
** optimality conditions: with c = 2 W (W^T z - y), c_j = -lambda sign(z_j)
** where z_j != 0 and |c_j| <= lambda where z_j = 0. */
static void same_minimum_kkt(void **state)
{
	(void)state;
	if (!have_data)
		skip();
	enum { R = 64 };
	static float zi[R * M], zf[R * M];
	double ei = solve(LASSO_ISTA, 30000, 1e-8f, held_x, R, zi);
	double ef = solve(LASSO_FISTA, 30000, 1e-8f, held_x, R, zf);
	printf("# minimum: ISTA %.7f  FISTA %.7f\n", ei, ef);
	assert_true(fabs(ei - ef) < 1e-5 * ef);
	double worst = 0.0, dz = 0.0;
	for (int r = 0; r < R; r++) {
		const float *y = held_x + (size_t)r * N, *z = zf + (size_t)r * M;
		double res[N];
		for (int i = 0; i < N; i++) {
			res[i] = -(double)y[i];
			for (int j = 0; j < M; j++)
				res[i] += (double)z[j] * W[j * N + i];
		}
		for (int j = 0; j < M; j++) {
			double c = 0.0;
			for (int i = 0; i < N; i++)
				c += 2.0 * W[j * N + i] * res[i];
			double v = z[j] > 0 ? fabs(c + LAMBDA) : z[j] < 0 ? fabs(c - LAMBDA)
			                                                   : fmax(fabs(c) - LAMBDA, 0.0);
			worst = fmax(worst, v);
			dz = fmax(dz, fabs((double)z[j] - zi[(size_t)r * M + j]));
		}
	}
	printf("# KKT violation %.2e (lambda %.1f), max |z_ista - z_fista| %.2e\n", worst,
	       LAMBDA, dz);
	assert_true(worst < 1e-3 * LAMBDA);
	assert_true(dz < 1e-3);
}

/* The worst violation of the optimality conditions of
** ||y - W^T z||^2 + lambda |z|_1 + alpha ||z - p||^2 over R rows, in double:
** with c = 2 W (W^T z - y) + 2 alpha (z - p), c_j = -lambda sign(z_j) where
** z_j != 0 and |c_j| <= lambda where z_j = 0. */
static double kkt_violation(const float *Y, const float *Z, const float *Pr, float alpha, int R)
{
	double worst = 0.0;
	for (int r = 0; r < R; r++) {
		const float *y = Y + (size_t)r * N, *z = Z + (size_t)r * M;
		double res[N];
		for (int i = 0; i < N; i++) {
			res[i] = -(double)y[i];
			for (int j = 0; j < M; j++)
				res[i] += (double)z[j] * W[j * N + i];
		}
		for (int j = 0; j < M; j++) {
			double c = Pr ? 2.0 * alpha * ((double)z[j] - Pr[(size_t)r * M + j]) : 0.0;
			for (int i = 0; i < N; i++)
				c += 2.0 * W[j * N + i] * res[i];
			double v = z[j] > 0 ? fabs(c + LAMBDA) : z[j] < 0 ? fabs(c - LAMBDA)
			                                                   : fmax(fabs(c) - LAMBDA, 0.0);
			worst = fmax(worst, v);
		}
	}
	return worst;
}

static int solve_opts(lasso_opts *o, const float *Y, int rows, float *Z)
{
	lasso s;
	assert_int_equal(lasso_init(&s, W, M, N, LAMBDA), 0);
	int k = lasso_solve(&s, Y, rows, Z, o);
	lasso_free(&s);
	return k;
}

/* Coordinate descent reaches FISTA's minimum on all held-out patches (to
** 1e-6 of the energy, KKT to 1e-4 lambda, codes to 1e-3) in far fewer
** sweeps than FISTA's iterations, and it gives bit-identical codes on 1,
** 2 or 3 threads and run after run. */
static void cd_same_minimum(void **state)
{
	(void)state;
	if (!have_data)
		skip();
	static float zf[HELD * M], zc[HELD * M], z2[HELD * M];
	double ef = solve(LASSO_FISTA, 30000, 1e-8f, held_x, HELD, zf);
	lasso_opts o = {.method = LASSO_CD, .max_iter = 1000, .tol = 1e-6f, .threads = 1};
	int sweeps = solve_opts(&o, held_x, HELD, zc);
	double ec = lasso_energy(W, M, N, LAMBDA, held_x, zc, HELD) / HELD;
	double kkt = kkt_violation(held_x, zc, NULL, 0, HELD), dz = 0.0;
	for (int i = 0; i < HELD * M; i++)
		dz = fmax(dz, fabs((double)zc[i] - zf[i]));
	printf("# minimum: FISTA %.7f  CD %.7f (%d sweeps at most); KKT violation %.2e, "
	       "max |z_cd - z_fista| %.2e\n", ef, ec, sweeps, kkt, dz);
	assert_true(sweeps > 1 && sweeps < 200);
	assert_true(fabs(ec - ef) < 1e-6 * ef);
	assert_true(kkt < 1e-4 * LAMBDA);
	assert_true(dz < 1e-3);
	for (int t = 1; t <= 3; t++) {
		o.threads = t;
		memset(z2, 0xff, sizeof z2); /* NaNs: every code must be written */
		assert_int_equal(solve_opts(&o, held_x, HELD, z2), sweeps);
		assert_memory_equal(z2, zc, sizeof zc);
	}
}

/* With tol = 0 coordinate descent still stops (at the exact minimum: a
** Newton step solves the active set, a check finds no violator), the
** sweep cap holds, and a warm start at the minimum stops after one sweep
** without moving. */
static void cd_stops_and_warm_start(void **state)
{
	(void)state;
	if (!have_data)
		skip();
	enum { R = 64 };
	static float z[R * M], z0[R * M], z1[R * M];
	lasso_opts o = {.method = LASSO_CD, .max_iter = 1000, .tol = 0.0f};
	int k = solve_opts(&o, held_x, R, z);
	printf("# tol 0: %d sweeps at most; KKT violation %.2e\n", k,
	       kkt_violation(held_x, z, NULL, 0, R));
	assert_true(k < 1000);
	assert_true(kkt_violation(held_x, z, NULL, 0, R) < 1e-4 * LAMBDA);
	memcpy(z0, z, sizeof z);
	o.warm = 1;
	o.tol = 1e-5f;
	assert_int_equal(solve_opts(&o, held_x, R, z0), 1);
	for (int i = 0; i < R * M; i++)
		assert_true(fabsf(z0[i] - z[i]) <= 1e-5f);
	lasso_opts one = {.method = LASSO_CD, .max_iter = 1, .tol = 0.0f};
	assert_int_equal(solve_opts(&one, held_x, R, z1), 1);
	double e0 = lasso_energy(W, M, N, LAMBDA, held_x, (float[R * M]){0}, R);
	double e1 = lasso_energy(W, M, N, LAMBDA, held_x, z1, R);
	double e = lasso_energy(W, M, N, LAMBDA, held_x, z, R);
	printf("# energy: zero codes %.4f, after one sweep %.4f, minimum %.4f\n", e0 / R, e1 / R,
	       e / R);
	assert_true(e1 < e0 && e < e1);
}

/* With PSD's prior term alpha ||z - p||^2, coordinate descent and FISTA
** reach the same minimum, and it satisfies that problem's optimality
** conditions (not those without the prior). */
static void cd_with_prior(void **state)
{
	(void)state;
	if (!have_data)
		skip();
	enum { R = 64 };
	static float pr[R * M], zf[R * M], zc[R * M];
	solve(LASSO_FISTA, 200, 0, held_x + (size_t)R * N, R, pr); /* other rows' codes */
	const float alpha = 0.5f;
	lasso_opts of = {.method = LASSO_FISTA, .max_iter = 30000, .tol = 1e-8f, .prior = pr,
	                 .alpha = alpha};
	lasso_opts oc = {.method = LASSO_CD, .max_iter = 1000, .tol = 1e-6f, .prior = pr,
	                 .alpha = alpha, .threads = 2};
	solve_opts(&of, held_x, R, zf);
	solve_opts(&oc, held_x, R, zc);
	double dz = 0.0;
	for (int i = 0; i < R * M; i++)
		dz = fmax(dz, fabs((double)zc[i] - zf[i]));
	double kc = kkt_violation(held_x, zc, pr, alpha, R);
	double k0 = kkt_violation(held_x, zc, NULL, 0, R);
	printf("# prior: KKT violation %.2e (without the prior's term %.2e), "
	       "max |z_cd - z_fista| %.2e\n", kc, k0, dz);
	assert_true(kc < 1e-4 * LAMBDA);
	assert_true(k0 > 1e-2 * LAMBDA);
	assert_true(dz < 1e-3);
}

/* The plugin's method=cd: restored from a checkpoint of a FISTA learner,
** it encodes to the same minimum as FISTA run long. */
static void plugin_method_cd(void **state)
{
	(void)state;
	if (!have_data)
		skip();
	kit_host h1, h2;
	const char *fista[] = {"encode_iters=20000", "tol=1e-8", NULL};
	const char *cd[] = {"method=cd", "tol=1e-6", NULL};
	void *a = new_learner(&h1, fista), *b = new_learner(&h2, cd);
	assert_non_null(a);
	assert_non_null(b);
	const float *obs[1] = {train_x};
	dd_transitions t = {.batch = 256, .obs = obs};
	dd_metrics m = {0};
	assert_int_equal(plugin->learner->observe(a, &t), DD_OK);
	assert_int_equal(plugin->learner->update(a, &m), DD_OK);
	dd_membuf mb = {0};
	dd_writer w;
	dd_membuf_writer(&w, &mb);
	assert_int_equal(plugin->learner->save(a, &w), DD_OK);
	dd_membuf rb;
	dd_reader r;
	dd_membuf_reader(&r, &rb, mb.buf, mb.len);
	assert_int_equal(plugin->learner->load(b, &r), DD_OK);
	static float za[32 * M], zb[32 * M];
	const float *held[1] = {held_x};
	assert_int_equal(plugin->learner->encode(a, 32, held, za), DD_OK);
	assert_int_equal(plugin->learner->encode(b, 32, held, zb), DD_OK);
	double dz = 0.0;
	long nz = 0;
	for (int i = 0; i < 32 * M; i++) {
		dz = fmax(dz, fabs((double)za[i] - zb[i]));
		nz += zb[i] != 0.0f;
	}
	printf("# plugin: method=cd vs fista, max |dz| %.2e, %.1f active per patch\n", dz,
	       nz / 32.0);
	assert_true(nz > 32);
	assert_true(dz < 1e-3);
	/* and it learns: one update with cd inference */
	const float *more[1] = {train_x + (size_t)256 * N};
	dd_transitions t2 = {.batch = 256, .obs = more};
	assert_int_equal(plugin->learner->observe(b, &t2), DD_OK);
	assert_int_equal(plugin->learner->update(b, &m), DD_OK);
	dd_membuf_free(&mb);
	plugin->learner->destroy(a);
	plugin->learner->destroy(b);
}

/* The power iteration (with its 1 % margin) against LAPACK's eigenvalues. */
static void power_iteration(void **state)
{
	(void)state;
	if (!have_data)
		skip();
	static double g[M * M], w[M], work[M * 34];
	lasso s;
	assert_int_equal(lasso_init(&s, W, M, N, LAMBDA), 0);
	for (int i = 0; i < M * M; i++)
		g[i] = s.G[i];
	int n = M, lwork = M * 34, info;
	dsyev_("N", "U", &n, g, &n, w, work, &lwork, &info);
	assert_int_equal(info, 0);
	printf("# sigma_max^2: power %.5f, LAPACK %.5f\n", s.sigma2 / 1.01, w[M - 1]);
	assert_true(s.sigma2 >= w[M - 1]);
	assert_true(s.sigma2 <= 1.0101 * w[M - 1]);
	lasso_free(&s);
}

/* Least-squares refit of y on the atoms in z's support (z keeps its
** support, loses the shrinkage bias); returns ||y - W^T z||^2. */
static double refit(const float *y, float *z)
{
	int idx[N], k = 0;
	for (int j = 0; j < M && k < N; j++)
		if (z[j] != 0.0f)
			idx[k++] = j;
	if (k == 0) {
		double e = 0;
		for (int i = 0; i < N; i++)
			e += (double)y[i] * y[i];
		return e;
	}
	/* normal equations A^T A x = A^T y, solved by Cholesky in double */
	static double a[N * N], b[N];
	for (int p = 0; p < k; p++) {
		b[p] = 0;
		for (int i = 0; i < N; i++)
			b[p] += (double)W[idx[p] * N + i] * y[i];
		for (int q = 0; q < k; q++) {
			double s = 0;
			for (int i = 0; i < N; i++)
				s += (double)W[idx[p] * N + i] * W[idx[q] * N + i];
			a[p * k + q] = s + (p == q ? 1e-9 : 0.0);
		}
	}
	for (int j = 0; j < k; j++) {
		for (int p = 0; p < j; p++)
			a[j * k + j] -= a[j * k + p] * a[j * k + p];
		a[j * k + j] = sqrt(a[j * k + j]);
		for (int i = j + 1; i < k; i++) {
			for (int p = 0; p < j; p++)
				a[i * k + j] -= a[i * k + p] * a[j * k + p];
			a[i * k + j] /= a[j * k + j];
		}
	}
	for (int i = 0; i < k; i++) {
		for (int p = 0; p < i; p++)
			b[i] -= a[i * k + p] * b[p];
		b[i] /= a[i * k + i];
	}
	for (int i = k - 1; i >= 0; i--) {
		for (int p = i + 1; p < k; p++)
			b[i] -= a[p * k + i] * b[p];
		b[i] /= a[i * k + i];
	}
	for (int p = 0; p < k; p++)
		z[idx[p]] = (float)b[p];
	double e = 0;
	for (int i = 0; i < N; i++) {
		double r = y[i];
		for (int p = 0; p < k; p++)
			r -= b[p] * W[idx[p] * N + i];
		e += r * r;
	}
	return e;
}

/* At equal sparsity -- each held-out patch reconstructed from as many
** components as its sparse code has non-zeros -- the learned dictionary
** beats PCA (the top principal components of the training patches), with
** its codes as inferred and, by a wider margin, refitted on their support. */
static void dictionary_beats_pca(void **state)
{
	(void)state;
	if (!have_data)
		skip();
	static double cov[N * N], ev[N], work[N * 34];
	static float z[HELD * M];
	enum { PCA_ROWS = 20000 };
	for (int r = 0; r < PCA_ROWS; r++)
		for (int i = 0; i < N; i++)
			for (int j = i; j < N; j++)
				cov[i * N + j] += (double)train_x[(size_t)r * N + i] * train_x[(size_t)r * N + j];
	int n = N, lwork = N * 34, info;
	dsyev_("V", "L", &n, cov, &n, ev, work, &lwork, &info); /* row-major upper = col-major lower */
	assert_int_equal(info, 0);
	/* eigenvector k (ascending eigenvalues) is row k of the column-major result */
	solve(LASSO_FISTA, 2000, 1e-6f, held_x, HELD, z);
	double e_sc = 0, e_sc_raw = 0, e_pca = 0, active = 0;
	for (int r = 0; r < HELD; r++) {
		const float *y = held_x + (size_t)r * N;
		float *zr = z + (size_t)r * M;
		e_sc_raw += lasso_sq_error(W, M, N, y, zr, 1);
		int k = 0;
		for (int j = 0; j < M; j++)
			k += zr[j] != 0.0f;
		active += k;
		e_sc += refit(y, zr);
		double e = 0;
		for (int i = 0; i < N; i++)
			e += (double)y[i] * y[i];
		for (int c = 0; c < k && c < N; c++) {
			const double *u = cov + (size_t)(N - 1 - c) * N;
			double p = 0;
			for (int i = 0; i < N; i++)
				p += u[i] * y[i];
			e -= p * p; /* orthonormal components: each removes its share */
		}
		e_pca += e;
	}
	printf("# %.2f active of %d atoms per patch; squared error per patch: sparse coding "
	       "%.4f (%.4f before the least-squares refit), PCA %.4f\n",
	       active / HELD, M, e_sc / HELD, e_sc_raw / HELD, e_pca / HELD);
	assert_true(active / HELD > 2 && active / HELD < 20);
	assert_true(e_sc_raw < e_pca);
	assert_true(e_sc < 0.9 * e_pca);
}

/* save/load restores the learner exactly; a damaged blob is refused and
** leaves it as it was; the exported file of another shape is refused. */
static void checkpoint_and_file(void **state)
{
	(void)state;
	if (!have_data)
		skip();
	kit_host h1, h2;
	void *a = new_learner(&h1, NULL), *b = new_learner(&h2, NULL);
	assert_non_null(a);
	assert_non_null(b);
	const float *obs[1] = {train_x};
	dd_transitions t = {.batch = 256, .obs = obs};
	dd_metrics m = {0};
	assert_int_equal(plugin->learner->observe(a, &t), DD_OK);
	assert_int_equal(plugin->learner->update(a, &m), DD_OK);
	assert_int_equal(plugin->learner->encode(b, 1, obs, (float[M]){0}), DD_ERR);
	dd_membuf mb = {0};
	dd_writer w;
	dd_membuf_writer(&w, &mb);
	assert_int_equal(plugin->learner->save(a, &w), DD_OK);
	static float za[8 * M], zb[8 * M], zc[8 * M];
	assert_int_equal(plugin->learner->encode(a, 8, obs, za), DD_OK);
	dd_membuf rb;
	dd_reader r;
	dd_membuf_reader(&r, &rb, mb.buf, mb.len);
	assert_int_equal(plugin->learner->load(b, &r), DD_OK);
	assert_int_equal(plugin->learner->encode(b, 8, obs, zb), DD_OK);
	assert_memory_equal(za, zb, sizeof za);
	mb.buf[mb.len / 2] ^= 0x55;
	dd_membuf_reader(&r, &rb, mb.buf, mb.len);
	assert_int_equal(plugin->learner->load(b, &r), DD_ERR);
	assert_non_null(strstr(h2.error, "load"));
	assert_int_equal(plugin->learner->encode(b, 8, obs, zc), DD_OK);
	assert_memory_equal(za, zc, sizeof za);
	dd_membuf_free(&mb);
	plugin->learner->destroy(a);
	plugin->learner->destroy(b);
	char err[512];
	static float wrong[64 * N];
	assert_int_equal(dict_load_file(wrong, 64, N, "sc_test_dict.bin", err, sizeof err), -1);
	assert_non_null(strstr(err, "atoms = 64"));
	assert_int_equal(dict_load_file(wrong, 64, N, "no_such_file.bin", err, sizeof err), -1);
	assert_non_null(strstr(err, "no_such_file.bin"));
}

/* The schema is complete, and update() without data explains itself. */
static void schema_and_errors(void **state)
{
	(void)state;
	if (!have_data)
		skip();
	for (const dd_param_spec *s = plugin->params; s->name; s++)
		assert_true(s->doc && strlen(s->doc) > 10);
	kit_host h;
	void *l = new_learner(&h, NULL);
	dd_metrics m = {0};
	assert_int_equal(plugin->learner->update(l, &m), DD_ERR);
	assert_non_null(strstr(h.error, "observe"));
	plugin->learner->destroy(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fista_below_ista),
		cmocka_unit_test(same_minimum_kkt),
		cmocka_unit_test(cd_same_minimum),
		cmocka_unit_test(cd_stops_and_warm_start),
		cmocka_unit_test(cd_with_prior),
		cmocka_unit_test(plugin_method_cd),
		cmocka_unit_test(power_iteration),
		cmocka_unit_test(dictionary_beats_pca),
		cmocka_unit_test(checkpoint_and_file),
		cmocka_unit_test(schema_and_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
