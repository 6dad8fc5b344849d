/*
** test_kmeans.c -- the `kmeans` learner: Lloyd's objective never rises,
** the clusters of Fashion-MNIST are far purer than a random assignment,
** the mini-batch variant lands near Lloyd, exact means on separable data,
** empty clusters re-seeded, codes, seeding, checkpoints and errors; the
** bounded, threaded iterations give the same result on any thread count,
** and their running sums stay those of a pass from scratch.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "learn_util.h"

static dd_registry *reg;
static lu_data fashion;
static char err[2048];

static int setup(void **state)
{
	(void)state;
	reg = dd_registry_new();
	dd_registry_scan_dir(reg, DD_PLUGIN_BUILD_DIR);
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
	lu_data_free(&fashion);
	dd_registry_free(reg);
	return 0;
}

static lu_learner *make(const dd_spaces *s, uint64_t seed, int n_kv, const char **kv)
{
	lu_learner *l = lu_learner_new(reg, "kmeans", s, seed, n_kv, kv, err, sizeof err);
	if (!l)
		fail_msg("kmeans: %s", err);
	return l;
}

static void update(lu_learner *l, dd_metrics *m)
{
	if (l->vt->update(l->h, m) != DD_OK)
		fail_msg("update: %s", l->host.error);
}

/* The mean squared distance of data rows [0, n) to their nearest centre,
** measured through encode (code = distances). */
static double objective_of(lu_learner *l, const lu_data *d, int n, int k)
{
	float *code = malloc(sizeof(float) * (size_t)n * (size_t)k);
	const float *obs[1] = {d->x};
	assert_int_equal(l->vt->encode(l->h, n, obs, code), DD_OK);
	double s = 0;
	for (int i = 0; i < n; i++) {
		float best = code[(size_t)i * (size_t)k];
		for (int j = 1; j < k; j++)
			best = fminf(best, code[(size_t)i * (size_t)k + (size_t)j]);
		s += best;
	}
	free(code);
	return s / n;
}

static void test_objective_never_increases(void **state)
{
	(void)state;
	const char *kv[] = {"k=10", "iterations=1", "memory=5000"};
	lu_learner *l = make(&fashion.spaces, 3, 3, kv);
	assert_int_equal(lu_feed(l, &fashion, 0, 5000, 100), DD_OK);
	double prev = INFINITY, first = 0, last = 0;
	int iters = 0, converged = 0;
	for (int u = 0; u < 300 && !converged; u++) {
		dd_metrics m;
		update(l, &m);
		double o = lu_metric(&m, "objective");
		if (o > prev)
			fail_msg("the objective rose from %.9g to %.9g at iteration %d", prev, o, iters);
		if (u == 0)
			first = o;
		prev = last = o;
		iters += (int)lu_metric(&m, "iterations");
		converged = lu_metric(&m, "converged") == 1;
	}
	print_message("Lloyd on 5000 Fashion-MNIST images, k = 10: objective %.4f -> %.4f, never rising, "
	              "converged after %d iterations\n", first, last, iters);
	assert_true(converged);
	assert_true(iters >= 10);        /* a real descent, not a lucky start */
	assert_true(last < 0.97 * first);
	/* each iteration also logged its objective, with the same values */
	assert_int_equal(l->n_log, iters);
	assert_string_equal(l->log_name[iters - 1], "lloyd_objective");
	assert_true(l->log_value[iters - 1] == last);
	lu_learner_free(l);
}

static void test_purity_beats_random_assignment(void **state)
{
	(void)state;
	const char *kv[] = {"k=10"};
	lu_learner *l = make(&fashion.spaces, 1, 1, kv);
	assert_int_equal(lu_feed(l, &fashion, 0, 10000, 64), DD_OK);
	dd_metrics m;
	update(l, &m);
	double p = lu_metric(&m, "purity"), r = lu_metric(&m, "purity_random");
	print_message("Fashion-MNIST, first 10000 training images, k = 10: purity %.3f vs %.3f for a "
	              "random assignment (margin %.3f)\n", p, r, p - r);
	assert_true(lu_metric(&m, "converged") == 1);
	assert_true(p >= 0.50);
	assert_true(r <= 0.15);
	assert_true(p - r >= 0.35);
	lu_learner_free(l);
}

static void test_minibatch_lands_near_lloyd(void **state)
{
	(void)state;
	const char *kl[] = {"k=10", "code=distances"};
	const char *kb[] = {"k=10", "method=minibatch", "batch_size=256", "code=distances"};
	lu_learner *lloyd = make(&fashion.spaces, 2, 2, kl), *mb = make(&fashion.spaces, 2, 4, kb);
	dd_metrics m;
	assert_int_equal(lu_feed(lloyd, &fashion, 0, 10000, 100), DD_OK);
	update(lloyd, &m);
	for (int epoch = 0; epoch < 3; epoch++) {
		assert_int_equal(lu_feed(mb, &fashion, 0, 10000, 100), DD_OK);
		update(mb, &m);
	}
	double ol = objective_of(lloyd, &fashion, 10000, 10), om = objective_of(mb, &fashion, 10000, 10);
	print_message("mean squared distance on the 10000 images: Lloyd %.4f, mini-batch (3 passes of "
	              "batches of 256) %.4f (+%.1f%%); mini-batch purity %.3f\n", ol, om,
	              100 * (om / ol - 1), lu_metric(&m, "purity"));
	assert_true(om < 1.05 * ol);
	assert_true(om > 0.99 * ol); /* Lloyd's local minimum is not beaten by much */
	assert_true(lu_metric(&m, "purity") > 0.45);
	lu_learner_free(lloyd);
	lu_learner_free(mb);
}

/* A small hand-made data set of 2-D points: a fake env's spaces. */
static const dd_tensor_spec point_spec = {.name = "x", .ndim = 1, .dims = {2}};
static const dd_spaces point_spaces = {
	.size = sizeof(dd_spaces), .n_obs = 1, .obs = &point_spec,
	.action_kind = DD_ACTION_DISCRETE, .action_dim = 1, .n_actions = 1,
};

static lu_data points(int n, const float (*xy)[2])
{
	lu_data d = {.n = n, .d = 2, .n_info = 0, .spaces = point_spaces};
	d.x = malloc(sizeof(float) * 2 * (size_t)n);
	d.info = calloc(1, sizeof(float));
	memcpy(d.x, xy, sizeof(float) * 2 * (size_t)n);
	return d;
}

static void test_separable_blobs_give_their_means(void **state)
{
	(void)state;
	/* Three blobs of 40 points around (0,0), (10,0), (0,10), interleaved. */
	float xy[120][2];
	const float cx[3] = {0, 10, 0}, cy[3] = {0, 0, 10};
	double mx[3] = {0}, my[3] = {0};
	for (int i = 0; i < 120; i++) {
		int b = i % 3;
		xy[i][0] = cx[b] + 0.1f * (float)((i * 7) % 11 - 5);
		xy[i][1] = cy[b] + 0.1f * (float)((i * 5) % 13 - 6);
		mx[b] += xy[i][0] / 40.0;
		my[b] += xy[i][1] / 40.0;
	}
	lu_data d = points(120, (const float(*)[2])xy);
	const char *kv[] = {"k=3", "code=distances"};
	lu_learner *l = make(&point_spaces, 9, 2, kv);
	assert_int_equal(lu_feed(l, &d, 0, 120, 16), DD_OK);
	dd_metrics m;
	update(l, &m);
	float means[3][2], code[3][3];
	for (int b = 0; b < 3; b++)
		means[b][0] = (float)mx[b], means[b][1] = (float)my[b];
	const float *obs[1] = {&means[0][0]};
	assert_int_equal(l->vt->encode(l->h, 3, obs, &code[0][0]), DD_OK);
	/* Each blob's mean is a centre, and the other two are where they are. */
	int used[3] = {0};
	for (int b = 0; b < 3; b++) {
		int at = 0;
		for (int j = 1; j < 3; j++)
			if (code[b][j] < code[b][at])
				at = j;
		assert_true(code[b][at] < 1e-4);
		used[at]++;
		for (int c = 0; c < 3; c++) {
			double want = (mx[b] - mx[c]) * (mx[b] - mx[c]) + (my[b] - my[c]) * (my[b] - my[c]);
			double got = INFINITY;
			for (int j = 0; j < 3; j++)
				got = fmin(got, fabs(code[b][j] - want));
			assert_true(got < 1e-3 * (want + 1));
		}
	}
	assert_true(used[0] == 1 && used[1] == 1 && used[2] == 1);
	/* the objective is the blobs' own scatter, computed here in double */
	double scatter = 0;
	for (int i = 0; i < 120; i++)
		scatter += ((xy[i][0] - mx[i % 3]) * (xy[i][0] - mx[i % 3]) + (xy[i][1] - my[i % 3]) * (xy[i][1] - my[i % 3])) / 120;
	assert_true(fabs(lu_metric(&m, "objective") - scatter) < 1e-6 * scatter);
	lu_learner_free(l);
	free(d.x), free(d.info);
}

/* Four groups of identical points, and every centre starting on the first:
** three clusters are empty at once and must be re-seeded until each group
** has its own centre (objective 0). */
static void test_empty_clusters_are_reseeded(void **state)
{
	(void)state;
	float xy[200][2];
	for (int i = 0; i < 200; i++) {
		xy[i][0] = (i / 50) % 2 ? 10.0f : 0.0f;
		xy[i][1] = (i / 100) ? 10.0f : 0.0f;
	}
	lu_data d = points(200, (const float(*)[2])xy);
	const char *kv[] = {"k=4", "init=first"};
	lu_learner *l = make(&point_spaces, 1, 2, kv);
	assert_int_equal(lu_feed(l, &d, 0, 200, 50), DD_OK);
	dd_metrics m;
	update(l, &m);
	assert_true(lu_metric(&m, "relocated") >= 3);
	assert_true(lu_metric(&m, "objective") == 0);
	assert_true(lu_metric(&m, "converged") == 1);
	lu_learner_free(l);
	free(d.x), free(d.info);
}

static void test_codes_agree(void **state)
{
	(void)state;
	int n = 300, k = 12;
	const char *codes[] = {"code=onehot", "code=distances", "code=triangle"};
	float *out[3];
	for (int c = 0; c < 3; c++) {
		const char *kv[] = {"k=12", "memory=2000", codes[c]};
		lu_learner *l = make(&fashion.spaces, 4, 3, kv);
		assert_int_equal(lu_feed(l, &fashion, 0, 2000, 100), DD_OK);
		dd_metrics m;
		update(l, &m);
		dd_learner_io io = {0};
		l->vt->io(l->h, &io);
		assert_int_equal(io.code_dim, k);
		out[c] = malloc(sizeof(float) * (size_t)n * (size_t)k);
		const float *obs[1] = {fashion.x + (size_t)5000 * (size_t)fashion.d};
		assert_int_equal(l->vt->encode(l->h, n, obs, out[c]), DD_OK);
		lu_learner_free(l);
	}
	for (int i = 0; i < n; i++) {
		const float *oh = out[0] + (size_t)i * (size_t)k, *ds = out[1] + (size_t)i * (size_t)k;
		const float *tr = out[2] + (size_t)i * (size_t)k;
		int best = 0, ones = 0;
		double mean_r = 0;
		for (int j = 0; j < k; j++) {
			if (ds[j] < ds[best])
				best = j;
			ones += oh[j] == 1;
			assert_true(oh[j] == 0 || oh[j] == 1);
			assert_true(ds[j] >= 0);
			mean_r += sqrt(ds[j]) / k;
		}
		assert_int_equal(ones, 1);
		assert_true(oh[best] == 1);
		for (int j = 0; j < k; j++)
			assert_true(fabs(tr[j] - fmax(0, mean_r - sqrt(ds[j]))) < 1e-4 * (1 + mean_r));
	}
	for (int c = 0; c < 3; c++)
		free(out[c]);
}

static void test_seed_decides_the_start(void **state)
{
	(void)state;
	const char *kv[] = {"k=8", "memory=3000", "iterations=3", "code=distances"};
	double obj[3];
	float code[3][8 * 20];
	uint64_t seeds[3] = {5, 5, 6};
	for (int s = 0; s < 3; s++) {
		lu_learner *l = make(&fashion.spaces, seeds[s], 4, kv);
		assert_int_equal(lu_feed(l, &fashion, 0, 3000, 100), DD_OK);
		dd_metrics m;
		update(l, &m);
		obj[s] = lu_metric(&m, "objective");
		const float *obs[1] = {fashion.x};
		assert_int_equal(l->vt->encode(l->h, 20, obs, code[s]), DD_OK);
		lu_learner_free(l);
	}
	assert_true(obj[0] == obj[1]);
	assert_memory_equal(code[0], code[1], sizeof code[0]);
	assert_true(memcmp(code[0], code[2], sizeof code[0]) != 0);
}

static void test_save_load(void **state)
{
	(void)state;
	const char *methods[] = {"method=lloyd", "method=minibatch"};
	for (int mth = 0; mth < 2; mth++) {
		const char *kv[] = {"k=6", methods[mth], "memory=2500", "batch_size=128", "code=distances"};
		lu_learner *a = make(&fashion.spaces, 8, 5, kv), *b = make(&fashion.spaces, 99, 5, kv);
		dd_metrics ma, mb;
		assert_int_equal(lu_feed(a, &fashion, 0, 2000, 100), DD_OK);
		update(a, &ma);
		assert_int_equal(lu_feed(a, &fashion, 2000, 1000, 100), DD_OK); /* reservoir + pending */
		dd_membuf blob;
		assert_int_equal(lu_save(a, &blob), DD_OK);
		assert_int_equal(lu_load(b, blob.buf, blob.len), DD_OK);
		/* the rng travelled too: both continue the same way */
		assert_int_equal(lu_feed(a, &fashion, 3000, 1000, 100), DD_OK);
		assert_int_equal(lu_feed(b, &fashion, 3000, 1000, 100), DD_OK);
		update(a, &ma);
		update(b, &mb);
		assert_true(fabs(lu_metric(&ma, "objective") - lu_metric(&mb, "objective")) <
		            1e-9 * lu_metric(&ma, "objective"));
		assert_true(lu_metric(&ma, "purity") == lu_metric(&mb, "purity"));
		assert_true(lu_metric(&mb, "samples") == 4000);
		float ca[6 * 30], cb[6 * 30];
		const float *obs[1] = {fashion.x + (size_t)7000 * (size_t)fashion.d};
		assert_int_equal(a->vt->encode(a->h, 30, obs, ca), DD_OK);
		assert_int_equal(b->vt->encode(b->h, 30, obs, cb), DD_OK);
		for (int i = 0; i < 6 * 30; i++)
			assert_true(fabsf(ca[i] - cb[i]) <= 1e-5f * (1 + ca[i]));
		/* damaged or cut blobs are refused; b stays as it was */
		blob.buf[blob.len - 100] ^= 0x01;
		assert_int_equal(lu_load(b, blob.buf, blob.len), DD_ERR);
		assert_non_null(strstr(b->host.error, "checkpoint refused"));
		blob.buf[blob.len - 100] ^= 0x01;
		assert_int_equal(lu_load(b, blob.buf, blob.len - 8), DD_ERR);
		float cc[6 * 30];
		assert_int_equal(b->vt->encode(b->h, 30, obs, cc), DD_OK);
		assert_memory_equal(cb, cc, sizeof cc);
		dd_membuf_free(&blob);
		lu_learner_free(a);
		lu_learner_free(b);
	}
}

/* Runs `updates` Lloyd iterations (one per update) on the first n images
** with k centres on t threads; the objectives and changes of each, and
** the distance codes of 40 images after the last (they follow from the
** centres alone). */
enum { RUN_MAX = 24, RUN_ROWS = 40 };
typedef struct run_trace {
	double objective[RUN_MAX], changed[RUN_MAX];
	float code[RUN_ROWS * 64];
} run_trace;

static void run_threads(int k, int t, int n, int updates, run_trace *tr)
{
	char kk[24], tt[24], mem[24];
	snprintf(kk, sizeof kk, "k=%d", k);
	snprintf(tt, sizeof tt, "threads=%d", t);
	snprintf(mem, sizeof mem, "memory=%d", n);
	const char *kv[] = {kk, tt, mem, "iterations=1", "code=distances"};
	lu_learner *l = make(&fashion.spaces, 4, 5, kv);
	assert_int_equal(lu_feed(l, &fashion, 0, n, 100), DD_OK);
	for (int u = 0; u < updates; u++) {
		dd_metrics m;
		update(l, &m);
		tr->objective[u] = lu_metric(&m, "objective");
		tr->changed[u] = lu_metric(&m, "changed");
	}
	const float *obs[1] = {fashion.x};
	assert_int_equal(l->vt->encode(l->h, RUN_ROWS, obs, tr->code), DD_OK);
	lu_learner_free(l);
}

/* The rows are split between threads and the sums merged in row order:
** 2 and 3 threads (an uneven split) give bit for bit the iterations of
** one, with every centre measured (k = 10) and with Elkan's bounds
** choosing (k = 40). */
static void test_threads_give_the_same_iterations(void **state)
{
	(void)state;
	const int ks[2] = {10, 40}, updates = 12;
	for (int c = 0; c < 2; c++) {
		static run_trace one, many;
		run_threads(ks[c], 1, 4000, updates, &one);
		for (int t = 2; t <= 3; t++) {
			run_threads(ks[c], t, 4000, updates, &many);
			for (int u = 0; u < updates; u++) {
				assert_true(many.objective[u] == one.objective[u]);
				assert_true(many.changed[u] == one.changed[u]);
			}
			assert_memory_equal(many.code, one.code, sizeof(float) * RUN_ROWS * (size_t)ks[c]);
		}
		/* the iterations did move samples: there was something to merge */
		assert_true(one.changed[2] > 10 && one.changed[updates - 1] < one.changed[2]);
	}
}

/* After iterations that only add and take away the rows that changed
** cluster, the running sums (the objective is computed from them, and so
** are the next centres) agree with a learner loaded from a checkpoint of
** the same state, which sums its memory from scratch; and the objective
** agrees with the nearest-centre distances measured through encode, so
** the bounds skipped no sample that had to move. */
static void test_running_sums_match_a_fresh_pass(void **state)
{
	(void)state;
	const int ks[2] = {10, 40};
	for (int c = 0; c < 2; c++) {
		char kk[24];
		snprintf(kk, sizeof kk, "k=%d", ks[c]);
		const char *kv[] = {kk, "memory=4000", "iterations=1", "code=distances"};
		lu_learner *a = make(&fashion.spaces, 6, 4, kv), *b = make(&fashion.spaces, 7, 4, kv);
		assert_int_equal(lu_feed(a, &fashion, 0, 4000, 100), DD_OK);
		dd_metrics ma, mb;
		for (int u = 0; u < 10; u++)
			update(a, &ma);
		double measured = objective_of(a, &fashion, 4000, ks[c]);
		assert_true(fabs(lu_metric(&ma, "objective") - measured) < 1e-5 * measured);
		dd_membuf blob;
		assert_int_equal(lu_save(a, &blob), DD_OK);
		assert_int_equal(lu_load(b, blob.buf, blob.len), DD_OK);
		dd_membuf_free(&blob);
		for (int u = 0; u < 3; u++) {
			update(a, &ma);
			update(b, &mb);
			double oa = lu_metric(&ma, "objective"), ob = lu_metric(&mb, "objective");
			assert_true(fabs(oa - ob) < 1e-9 * ob);
			assert_true(lu_metric(&ma, "changed") == lu_metric(&mb, "changed"));
		}
		float ca[64 * 20], cb[64 * 20];
		const float *obs[1] = {fashion.x + (size_t)4000 * (size_t)fashion.d};
		assert_int_equal(a->vt->encode(a->h, 20, obs, ca), DD_OK);
		assert_int_equal(b->vt->encode(b->h, 20, obs, cb), DD_OK);
		for (int i = 0; i < 20 * ks[c]; i++)
			assert_true(fabsf(ca[i] - cb[i]) <= 1e-6f * (1 + ca[i]));
		assert_true(lu_metric(&ma, "changed") > 0); /* still moving: the sums were exercised */
		lu_learner_free(a);
		lu_learner_free(b);
	}
}

static void test_parameter_errors(void **state)
{
	(void)state;
	const char *small[] = {"k=50", "memory=20"};
	assert_null(lu_learner_new(reg, "kmeans", &fashion.spaces, 1, 2, small, err, sizeof err));
	assert_non_null(strstr(err, "memory = 20 cannot hold k = 50"));
	const char *bad[] = {"code=sparse"};
	assert_null(lu_learner_new(reg, "kmeans", &fashion.spaces, 1, 1, bad, err, sizeof err));
	assert_non_null(strstr(err, "code"));
	const char *kv[] = {"k=5"};
	lu_learner *l = make(&fashion.spaces, 1, 1, kv);
	float code[5];
	const float *obs[1] = {fashion.x};
	assert_int_equal(l->vt->encode(l->h, 1, obs, code), DD_ERR);
	assert_non_null(strstr(l->host.error, "update()"));
	/* fewer samples than clusters: update reports and waits */
	dd_metrics m;
	assert_int_equal(lu_feed(l, &fashion, 0, 3, 3), DD_OK);
	assert_int_equal(l->vt->update(l->h, &m), DD_OK);
	assert_true(lu_metric(&m, "samples") == 3);
	assert_true(isnan(lu_metric(&m, "objective")));
	lu_learner_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_objective_never_increases),
		cmocka_unit_test(test_purity_beats_random_assignment),
		cmocka_unit_test(test_minibatch_lands_near_lloyd),
		cmocka_unit_test(test_separable_blobs_give_their_means),
		cmocka_unit_test(test_empty_clusters_are_reseeded),
		cmocka_unit_test(test_codes_agree),
		cmocka_unit_test(test_seed_decides_the_start),
		cmocka_unit_test(test_save_load),
		cmocka_unit_test(test_threads_give_the_same_iterations),
		cmocka_unit_test(test_running_sums_match_a_fresh_pass),
		cmocka_unit_test(test_parameter_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
