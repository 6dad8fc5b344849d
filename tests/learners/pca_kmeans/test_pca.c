/*
** test_pca.c -- the `pca` learner on real data: the batch fit against a
** double-precision Jacobi eigen-solver on natural-image patches, the codes
** (projections, whitening, the energy), the online fit against the batch
** one on Fashion-MNIST, checkpoints, parameter errors and the PNG grid.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <unistd.h>

#include "daydream/png.h"
#include "learn_util.h"

static dd_registry *reg;
static lu_data patches, fashion;
static char err[2048];

static int setup(void **state)
{
	(void)state;
	reg = dd_registry_new();
	dd_registry_scan_dir(reg, DD_PLUGIN_BUILD_DIR);
	const char *pk[] = {"source=patches", "patch=12", "normalize=centre"};
	if (lu_collect(reg, &patches, 20000, 3, pk, err, sizeof err) < 0) {
		fprintf(stderr, "patches: %s\n", err);
		return -1;
	}
	const char *fk[] = {"source=fashion_mnist", "order=sequential", "episode_length=100000"};
	if (lu_collect(reg, &fashion, 10000, 3, fk, err, sizeof err) < 0) {
		fprintf(stderr, "fashion: %s\n", err);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	lu_data_free(&patches);
	lu_data_free(&fashion);
	dd_registry_free(reg);
	return 0;
}

static lu_learner *make(const lu_data *d, int n_kv, const char **kv)
{
	lu_learner *l = lu_learner_new(reg, "pca", &d->spaces, 7, n_kv, kv, err, sizeof err);
	if (!l)
		fail_msg("pca: %s", err);
	return l;
}

static void fit(lu_learner *l, const lu_data *d, int first, int n, int batch, dd_metrics *m)
{
	assert_int_equal(lu_feed(l, d, first, n, batch), DD_OK);
	if (l->vt->update(l->h, m) != DD_OK)
		fail_msg("update: %s", l->host.error);
}

/* W's columns through the affine encoder: W e_j = enc(e_j) - enc(0). */
static void components(lu_learner *l, int d, int k, double *w)
{
	float *x = calloc((size_t)(d + 1) * (size_t)d, sizeof(float));
	float *code = malloc(sizeof(float) * (size_t)(d + 1) * (size_t)k);
	for (int j = 0; j < d; j++)
		x[(size_t)(j + 1) * (size_t)d + (size_t)j] = 1;
	const float *obs[1] = {x};
	assert_int_equal(l->vt->encode(l->h, d + 1, obs, code), DD_OK);
	for (int c = 0; c < k; c++)
		for (int j = 0; j < d; j++)
			w[(size_t)c * (size_t)d + (size_t)j] =
				(double)code[(size_t)(j + 1) * (size_t)k + (size_t)c] - code[c];
	free(x);
	free(code);
}

static void test_batch_matches_jacobi_reference(void **state)
{
	(void)state;
	int n = patches.n, d = patches.d, k = 16;
	const char *kv[] = {"n_components=16", "batch_size=256"};
	lu_learner *l = make(&patches, 2, kv);
	dd_metrics m;
	fit(l, &patches, 0, n, 37, &m); /* 37: chunks and rollout batches out of step */
	double *mean = malloc(sizeof(double) * (size_t)d), *cov = malloc(sizeof(double) * (size_t)d * (size_t)d);
	double *lam = malloc(sizeof(double) * (size_t)d), *vec = malloc(sizeof(double) * (size_t)d * (size_t)d);
	lu_covariance(patches.x, n, d, mean, cov);
	double trace = 0;
	for (int j = 0; j < d; j++)
		trace += cov[(size_t)j * (size_t)d + (size_t)j];
	lu_jacobi(cov, d, lam, vec);
	double worst = 0, tail = 0, kept = 0;
	for (int c = 0; c < k; c++) {
		char name[16];
		snprintf(name, sizeof name, "evr_%d", c + 1);
		double diff = fabs(lu_metric(&m, name) - lam[c] / trace);
		worst = fmax(worst, diff);
		kept += lam[c] / trace;
	}
	for (int c = k; c < d; c++)
		tail += lam[c];
	print_message("explained-variance ratios of 16 components: largest |ours - Jacobi| = %.2e "
	              "(first %.5f vs %.5f)\n", worst, lu_metric(&m, "evr_1"), lam[0] / trace);
	assert_true(worst < 1e-4);
	assert_true(fabs(lu_metric(&m, "explained_variance") - kept) < 1e-4);
	assert_true(fabs(lu_metric(&m, "total_variance") - trace) < 1e-5 * trace);
	assert_true(fabs(lu_metric(&m, "recon_error") - tail) < 1e-4 * trace);
	/* The directions agree wherever the eigenvalue is well separated. */
	double *w = malloc(sizeof(double) * (size_t)k * (size_t)d);
	components(l, d, k, w);
	int checked = 0;
	for (int c = 0; c < k; c++) {
		double gap = fmin(c > 0 ? lam[c - 1] - lam[c] : INFINITY, lam[c] - lam[c + 1]);
		if (gap < 1e-2 * lam[c])
			continue;
		double dot = 0;
		for (int j = 0; j < d; j++)
			dot += w[(size_t)c * (size_t)d + (size_t)j] * vec[(size_t)c * (size_t)d + (size_t)j];
		assert_true(fabs(dot) > 0.9999);
		checked++;
	}
	assert_true(checked >= 4);
	free(w), free(mean), free(cov), free(lam), free(vec);
	lu_learner_free(l);
}

/* Codes are W(y - m): their covariance is diag(variance), or I whitened,
** and |y - m|^2 - |z|^2 averages to the energy the metric reports. */
static void test_codes_whitening_and_energy(void **state)
{
	(void)state;
	int n = 5000, d = fashion.d, k = 20;
	for (int whiten = 0; whiten <= 1; whiten++) {
		const char *kv[] = {"n_components=20", whiten ? "whiten=true" : "whiten=false"};
		lu_learner *l = make(&fashion, 2, kv);
		dd_metrics m;
		fit(l, &fashion, 0, n, 100, &m);
		float *code = malloc(sizeof(float) * (size_t)n * (size_t)k);
		const float *obs[1] = {fashion.x};
		assert_int_equal(l->vt->encode(l->h, n, obs, code), DD_OK);
		double *mean = calloc((size_t)d, sizeof(double));
		for (int i = 0; i < n; i++)
			for (int j = 0; j < d; j++)
				mean[j] += fashion.x[(size_t)i * (size_t)d + (size_t)j] / n;
		double energy = 0, worst_off = 0, worst_diag = 0;
		for (int i = 0; i < n; i++) {
			double yy = 0, zz = 0;
			for (int j = 0; j < d; j++) {
				double e = fashion.x[(size_t)i * (size_t)d + (size_t)j] - mean[j];
				yy += e * e;
			}
			for (int c = 0; c < k; c++)
				zz += (double)code[(size_t)i * (size_t)k + (size_t)c] * code[(size_t)i * (size_t)k + (size_t)c];
			energy += (yy - zz) / n;
		}
		for (int a = 0; a < k; a++)
			for (int b = 0; b < k; b++) {
				double s = 0;
				for (int i = 0; i < n; i++)
					s += (double)code[(size_t)i * (size_t)k + (size_t)a] * code[(size_t)i * (size_t)k + (size_t)b];
				s /= n;
				char name[16];
				snprintf(name, sizeof name, "evr_%d", a + 1);
				double want = a != b ? 0 : whiten ? 1 : (a < 16 ? lu_metric(&m, name) * lu_metric(&m, "total_variance") : s);
				if (a == b)
					worst_diag = fmax(worst_diag, fabs(s - want) / want);
				else
					worst_off = fmax(worst_off, fabs(s));
			}
		assert_true(worst_diag < 1e-3);
		assert_true(worst_off < 1e-3 * (whiten ? 1 : lu_metric(&m, "total_variance")));
		if (!whiten) /* the energy of the projections equals the variance left out */
			assert_true(fabs(energy - lu_metric(&m, "recon_error")) < 1e-4 * lu_metric(&m, "total_variance"));
		free(code), free(mean);
		lu_learner_free(l);
	}
}

/* The principal angles between two k-dimensional subspaces (rows of a and
** b, orthonormal): the largest, in degrees. */
static double largest_angle(const double *a, const double *b, int k, int d)
{
	double *mm = calloc((size_t)k * (size_t)k, sizeof(double)), *g = calloc((size_t)k * (size_t)k, sizeof(double));
	double *w = malloc(sizeof(double) * (size_t)k), *v = malloc(sizeof(double) * (size_t)k * (size_t)k);
	for (int i = 0; i < k; i++)
		for (int j = 0; j < k; j++)
			for (int t = 0; t < d; t++)
				mm[(size_t)i * (size_t)k + (size_t)j] += a[(size_t)i * (size_t)d + (size_t)t] * b[(size_t)j * (size_t)d + (size_t)t];
	for (int i = 0; i < k; i++) /* M M': its eigenvalues are the squared cosines */
		for (int j = 0; j < k; j++)
			for (int t = 0; t < k; t++)
				g[(size_t)i * (size_t)k + (size_t)j] += mm[(size_t)i * (size_t)k + (size_t)t] * mm[(size_t)j * (size_t)k + (size_t)t];
	lu_jacobi(g, k, w, v);
	double angle = acos(sqrt(fmin(fmax(w[k - 1], 0), 1))) * 180 / M_PI;
	free(mm), free(g), free(w), free(v);
	return angle;
}

static void test_online_converges_to_batch(void **state)
{
	(void)state;
	int n = fashion.n, d = fashion.d, k = 8;
	const char *kb[] = {"n_components=8"};
	const char *ko[] = {"n_components=8", "method=online", "batch_size=200"};
	lu_learner *b = make(&fashion, 1, kb), *o = make(&fashion, 3, ko);
	dd_metrics mb, mo;
	fit(b, &fashion, 0, n, 50, &mb);
	double *wb = malloc(sizeof(double) * (size_t)k * (size_t)d), *wo = malloc(sizeof(double) * (size_t)k * (size_t)d);
	components(b, d, k, wb);
	double angles[3];
	int seen[3] = {1000, 3000, 10000};
	for (int s = 0, done = 0; s < 3; s++) {
		fit(o, &fashion, done, seen[s] - done, 50, &mo);
		done = seen[s];
		components(o, d, k, wo);
		angles[s] = largest_angle(wb, wo, k, d);
	}
	print_message("online PCA (8 components of Fashion-MNIST, chunks of 200): largest principal "
	              "angle to the batch subspace %.2f deg after 1000 images, %.2f after 3000, %.3f after "
	              "10000; explained variance %.5f vs %.5f\n", angles[0], angles[1], angles[2],
	              lu_metric(&mo, "explained_variance"), lu_metric(&mb, "explained_variance"));
	assert_true(angles[2] < 0.5);
	assert_true(angles[2] <= angles[0]);
	assert_true(fabs(lu_metric(&mo, "explained_variance") - lu_metric(&mb, "explained_variance")) < 1e-3);
	assert_true(fabs(lu_metric(&mo, "total_variance") - lu_metric(&mb, "total_variance")) <
	            1e-6 * lu_metric(&mb, "total_variance"));
	free(wb), free(wo);
	lu_learner_free(b);
	lu_learner_free(o);
}

/* A restored learner encodes as the original and continues as it would. */
static void test_save_load(void **state)
{
	(void)state;
	const char *methods[] = {"method=batch", "method=online"};
	for (int mth = 0; mth < 2; mth++) {
		const char *kv[] = {"n_components=6", methods[mth], "batch_size=128"};
		lu_learner *a = make(&fashion, 3, kv), *b = make(&fashion, 3, kv);
		dd_metrics ma, mb;
		fit(a, &fashion, 0, 2000, 64, &ma);
		assert_int_equal(lu_feed(a, &fashion, 2000, 50, 64), DD_OK); /* 50 pending */
		dd_membuf blob;
		assert_int_equal(lu_save(a, &blob), DD_OK);
		assert_int_equal(lu_load(b, blob.buf, blob.len), DD_OK);
		float ca[6 * 50], cb[6 * 50];
		const float *obs[1] = {fashion.x + (size_t)5000 * (size_t)fashion.d};
		assert_int_equal(a->vt->encode(a->h, 50, obs, ca), DD_OK);
		assert_int_equal(b->vt->encode(b->h, 50, obs, cb), DD_OK);
		assert_memory_equal(ca, cb, sizeof ca);
		fit(a, &fashion, 2050, 1000, 64, &ma);
		fit(b, &fashion, 2050, 1000, 64, &mb);
		assert_true(fabs(lu_metric(&ma, "recon_error") - lu_metric(&mb, "recon_error")) <
		            1e-9 * lu_metric(&ma, "total_variance"));
		assert_true(lu_metric(&ma, "samples") == 3050 && lu_metric(&mb, "samples") == 3050);
		/* A damaged blob is refused and leaves the learner as it was. */
		assert_int_equal(b->vt->encode(b->h, 50, obs, cb), DD_OK);
		blob.buf[blob.len / 2] ^= 0x40;
		assert_int_equal(lu_load(b, blob.buf, blob.len), DD_ERR);
		assert_non_null(strstr(b->host.error, "checksum"));
		float cc[6 * 50];
		assert_int_equal(b->vt->encode(b->h, 50, obs, cc), DD_OK);
		assert_memory_equal(cb, cc, sizeof cc);
		/* A blob of another shape too. */
		const char *kv7[] = {"n_components=7", methods[mth], "batch_size=128"};
		lu_learner *c = make(&fashion, 3, kv7);
		blob.buf[blob.len / 2] ^= 0x40;
		assert_int_equal(lu_load(c, blob.buf, blob.len), DD_ERR);
		assert_true(strlen(c->host.error) > 0);
		dd_membuf_free(&blob);
		lu_learner_free(a), lu_learner_free(b), lu_learner_free(c);
	}
}

static void test_parameter_errors(void **state)
{
	(void)state;
	const char *big[] = {"n_components=145"};
	assert_null(lu_learner_new(reg, "pca", &patches.spaces, 1, 1, big, err, sizeof err));
	assert_non_null(strstr(err, "n_components = 145 exceeds the observation's size 144"));
	const char *small[] = {"n_components=20", "method=online", "batch_size=10"};
	assert_null(lu_learner_new(reg, "pca", &patches.spaces, 1, 3, small, err, sizeof err));
	assert_non_null(strstr(err, "batch_size >= n_components"));
	/* encode before any fit says what to do */
	const char *ok[] = {"n_components=4"};
	lu_learner *l = make(&patches, 1, ok);
	float code[4];
	const float *obs[1] = {patches.x};
	assert_int_equal(l->vt->encode(l->h, 1, obs, code), DD_ERR);
	assert_non_null(strstr(l->host.error, "update()"));
	/* an update with too little data reports the count and fits nothing */
	dd_metrics m;
	assert_int_equal(lu_feed(l, &patches, 0, 1, 1), DD_OK);
	assert_int_equal(l->vt->update(l->h, &m), DD_OK);
	assert_int_equal(m.count, 1);
	assert_true(lu_metric(&m, "samples") == 1);
	lu_learner_free(l);
}

static void test_filters_png(void **state)
{
	(void)state;
	char path[] = "/tmp/ddpca.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	char kpng[80];
	snprintf(kpng, sizeof kpng, "filters_png=%s", path);
	const char *kv[] = {"n_components=16", kpng};
	lu_learner *l = make(&patches, 2, kv);
	dd_metrics m;
	fit(l, &patches, 0, 3000, 100, &m);
	dd_image img;
	assert_int_equal(dd_png_read_file(path, 1, &img, err, sizeof err), DD_OK);
	/* 4 x 4 tiles of 12 x 12 pixels drawn 4x, 2-pixel gaps */
	assert_int_equal(img.width, 2 + 4 * (48 + 2));
	assert_int_equal(img.height, 2 + 4 * (48 + 2));
	/* signed filters: some pixels darker and some lighter than mid-gray */
	int lo = 255, hi = 0;
	for (int i = 0; i < img.width * img.height; i++)
		if (img.pixels[i] != 255)
			lo = img.pixels[i] < lo ? img.pixels[i] : lo, hi = img.pixels[i] > hi ? img.pixels[i] : hi;
	assert_true(lo < 20 && hi > 235);
	dd_image_free(&img);
	unlink(path);
	lu_learner_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batch_matches_jacobi_reference),
		cmocka_unit_test(test_codes_whitening_and_energy),
		cmocka_unit_test(test_online_converges_to_batch),
		cmocka_unit_test(test_save_load),
		cmocka_unit_test(test_parameter_errors),
		cmocka_unit_test(test_filters_png),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
