/*
** test_lista.c -- the lista learner on natural-image patches (8 x 8,
** standardised) with a dictionary learned by sparse_coding: untrained it is
** exactly ISTA with T steps; trained by back-propagation through time it
** predicts the optimal codes better than ISTA and FISTA with as many
** iterations -- as well as FISTA does only with several times more -- and
** a checkpoint restores it exactly. Untied (each step its own weights), it
** starts as ISTA too, learns better codes than the tied encoder with the
** same training, and its checkpoint holds every step. Fixed seeds, bounded
** size.
*/
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <daydream/checkpoint.h>

#include "dictionary.h"
#include "lasso.h"
#include "plugin_kit.h"

enum { P = 8, N = P * P, M = 64, DICT_UPDATES = 80, EVAL = 500, POOL = 5000 };
#define DICT_FILE "lista_test_dict.bin"

static float *x;                 /* patches: dictionary batches, then eval, then pool */
static float W[M * N];
static const dd_plugin *plugin;
static int have_data; /* without the data every test skips */
static dd_tensor_spec obs_spec = {"image", 3, {1, P, P}};
static dd_spaces spaces = {.size = sizeof(dd_spaces), .n_obs = 1, .obs = &obs_spec,
                           .action_kind = DD_ACTION_DISCRETE, .action_dim = 1,
                           .n_actions = 1};

static int setup(void **state)
{
	(void)state;
	int n, total = DICT_UPDATES * 256 + EVAL + POOL;
	const char *ov[] = {"source=patches", "patch=8", "normalize=standardize", NULL};
	char err[512];
	x = malloc(sizeof(float) * (size_t)total * N);
	plugin = kit_plugin("lista");
	if (!plugin || kit_images(ov, 3, total, x, NULL, NULL, &n) != 0 ||
	    kit_train_dictionary(x, P, M, "1", DICT_UPDATES, DICT_FILE) != 0 ||
	    dict_load_file(W, M, N, DICT_FILE, err, sizeof err) != 0) {
		fprintf(stderr, "setup failed (data: scripts/fetch-test-data.sh)\n");
		return 0;
	}
	have_data = 1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(x);
	return 0;
}

/* A lista learner with T = unroll; `extra` is one more override or NULL. */
static void *new_lista(kit_host *h, const char *unroll, const char *extra)
{
	char u[32], e[32], pl[32];
	snprintf(u, sizeof u, "unroll=%s", unroll);
	snprintf(e, sizeof e, "eval_size=%d", EVAL);
	snprintf(pl, sizeof pl, "pool=%d", POOL);
	const char *ov[] = {"dictionary=" DICT_FILE, "atoms=64", "lambda=1", u, e, pl,
	                    "baseline_iters=300", "steps=50", "lr=0.001", extra, NULL};
	kit_params kp;
	kit_host_init(h, 5);
	return plugin->learner->create(kit_params_make(&kp, plugin, ov), &h->host, &spaces);
}

static const float *eval_x(void)
{
	return x + (size_t)DICT_UPDATES * 256 * N;
}

/* The encoder's codes of 64 held-out patches equal ISTA's after T steps. */
static void assert_is_ista(void *l, int T, const char *what)
{
	static float za[64 * M], zb[64 * M];
	const float *obs[1] = {eval_x()};
	assert_int_equal(plugin->learner->encode(l, 64, obs, za), DD_OK);
	lasso s;
	assert_int_equal(lasso_init(&s, W, M, N, 1.0f), 0);
	lasso_opts o = {.method = LASSO_ISTA, .max_iter = T};
	lasso_solve(&s, eval_x(), 64, zb, &o);
	lasso_free(&s);
	double worst = 0, size = 0;
	for (int i = 0; i < 64 * M; i++) {
		worst = fmax(worst, fabs((double)za[i] - zb[i]));
		size = fmax(size, fabs((double)zb[i]));
	}
	printf("# untrained %s vs ISTA(%d): max difference %.2e (codes up to %.2f)\n", what, T,
	       worst, size);
	assert_true(size > 0.1);
	assert_true(worst < 1e-4 * size);
}

/* Untrained, the encoder is ISTA from zero with T shrinkage steps, tied or
** untied, and with depth k (learner:set) ISTA with k steps. */
static void untrained_is_ista(void **state)
{
	(void)state;
	if (!have_data)
		skip();
	kit_host h;
	void *l = new_lista(&h, "3", NULL);
	assert_non_null(l);
	assert_is_ista(l, 3, "LISTA(3)");
	plugin->learner->destroy(l);
	l = new_lista(&h, "4", "untied=1");
	assert_non_null(l);
	assert_is_ista(l, 4, "untied LISTA(4)");
	assert_int_equal(plugin->learner->set(l, "depth", 2), DD_OK);
	assert_is_ista(l, 2, "untied LISTA(4) at depth 2");
	plugin->learner->destroy(l);
}

static void observe_eval_and_pool(void *l)
{
	for (int b = 0; b < (EVAL + POOL) / 250; b++) {
		const float *obs[1] = {eval_x() + (size_t)b * 250 * N};
		dd_transitions t = {.batch = 250, .obs = obs};
		assert_int_equal(plugin->learner->observe(l, &t), DD_OK);
	}
}

/* Observes the held-out set and the pool, then trains 40 updates (2,000
** Adam steps); m holds the last update's metrics. Returns the held-out
** error after the first update. */
static double train(void *l, dd_metrics *m)
{
	observe_eval_and_pool(l);
	double first = 0;
	for (int u = 0; u < 40; u++) {
		m->count = 0;
		assert_int_equal(plugin->learner->update(l, m), DD_OK);
		if (u == 0)
			first = m->value[1];
	}
	return first;
}

/* A checkpoint of l loaded into a fresh learner made with the same
** overrides gives the same codes, bit for bit. */
static void assert_checkpoint_restores(void *l, const char *unroll, const char *extra)
{
	dd_membuf mb = {0};
	dd_writer w;
	dd_membuf_writer(&w, &mb);
	assert_int_equal(plugin->learner->save(l, &w), DD_OK);
	kit_host h2;
	void *l2 = new_lista(&h2, unroll, extra);
	assert_non_null(l2);
	static float za[32 * M], zb[32 * M];
	const float *obs[1] = {eval_x()};
	assert_int_equal(plugin->learner->encode(l, 32, obs, za), DD_OK);
	assert_int_equal(plugin->learner->encode(l2, 32, obs, zb), DD_OK);
	assert_true(memcmp(za, zb, sizeof za) != 0); /* training changed it */
	dd_membuf rb;
	dd_reader r;
	dd_membuf_reader(&r, &rb, mb.buf, mb.len);
	assert_int_equal(plugin->learner->load(l2, &r), DD_OK);
	assert_int_equal(plugin->learner->encode(l2, 32, obs, zb), DD_OK);
	assert_memory_equal(za, zb, sizeof za);
	dd_membuf_free(&mb);
	plugin->learner->destroy(l2);
}

/* Trained with T = 2, its code error on held-out patches beats ISTA's and
** FISTA's at 2 iterations, and FISTA needs several times more iterations
** to match it. Then a checkpoint restores the trained encoder exactly. */
static void training_beats_fista(void **state)
{
	(void)state;
	if (!have_data)
		skip();
	kit_host h;
	void *l = new_lista(&h, "2", NULL);
	assert_non_null(l);
	dd_metrics m = {0};
	double first = train(l, &m);
	double err = m.value[1], ista = m.value[2], fista = m.value[3], mult = m.value[5];
	printf("# LISTA(2) code error: %.4f after 50 steps, %.4f after 2000; ISTA(2) %.4f, "
	       "FISTA(2) %.4f; FISTA matches it after %.0f iterations (%.1f x T)\n",
	       first, err, ista, fista, m.value[4], mult);
	assert_string_equal(m.name[1], "lista_T2_error");
	assert_string_equal(m.name[5], "lista_T2_fista_multiple");
	assert_true(err < first);
	assert_true(err < 0.8 * fista && fista <= ista); /* FISTA = ISTA for 2 steps */
	assert_true(mult >= 3.0);
	assert_checkpoint_restores(l, "2", NULL);
	plugin->learner->destroy(l);
}

/* The held-out code error of an encoder with T = 5 after 40 updates
** (2,000 Adam steps); the metrics' second value. */
static double trained_error(const char *extra)
{
	kit_host h;
	void *l = new_lista(&h, "5", extra);
	assert_non_null(l);
	dd_metrics m = {0};
	train(l, &m);
	assert_string_equal(m.name[1], "lista_T5_error");
	if (extra)
		assert_checkpoint_restores(l, "5", extra);
	plugin->learner->destroy(l);
	return m.value[1];
}

/* Untied, with the same training, T = 5 predicts the held-out codes
** better than the tied encoder; its checkpoint restores every step. */
static void untied_beats_tied(void **state)
{
	(void)state;
	if (!have_data)
		skip();
	double tied = trained_error(NULL), untied = trained_error("untied=1");
	printf("# LISTA(5) code error after 2000 steps: tied %.4f, untied %.4f\n", tied, untied);
	assert_true(untied < 0.93 * tied); /* measured: 0.87 * tied */
}

/* learner:set{lr = ...} (ABI 1.1) drives the learning rate: with lr 0 an
** update leaves the encoder as it was; an unknown key or a value out of
** bounds is refused with the settable keys named. */
static void set_lr(void **state)
{
	(void)state;
	if (!have_data)
		skip();
	kit_host h;
	void *l = new_lista(&h, "2", NULL);
	assert_non_null(l);
	assert_non_null(plugin->learner->set);
	const float *obs[1] = {eval_x()};
	dd_transitions t = {.batch = EVAL + 250, .obs = obs};
	assert_int_equal(plugin->learner->observe(l, &t), DD_OK);
	static float za[32 * M], zb[32 * M];
	assert_int_equal(plugin->learner->encode(l, 32, obs, za), DD_OK);
	assert_int_equal(plugin->learner->set(l, "lr", 0.0), DD_OK);
	dd_metrics m = {0};
	assert_int_equal(plugin->learner->update(l, &m), DD_OK);
	assert_int_equal(plugin->learner->encode(l, 32, obs, zb), DD_OK);
	assert_memory_equal(za, zb, sizeof za);
	assert_int_equal(plugin->learner->set(l, "lr", 0.001), DD_OK);
	m.count = 0;
	assert_int_equal(plugin->learner->update(l, &m), DD_OK);
	assert_int_equal(plugin->learner->encode(l, 32, obs, zb), DD_OK);
	assert_true(memcmp(za, zb, sizeof za) != 0);
	assert_int_equal(plugin->learner->set(l, "momentum", 0.9), DD_ERR);
	assert_non_null(strstr(h.error, "settable: lr, depth"));
	assert_int_equal(plugin->learner->set(l, "lr", -1.0), DD_ERR);
	/* depth: the steps in use, named in the metrics; 1 .. unroll only */
	assert_int_equal(plugin->learner->set(l, "depth", 1), DD_OK);
	m.count = 0;
	assert_int_equal(plugin->learner->update(l, &m), DD_OK);
	assert_string_equal(m.name[1], "lista_T1_error");
	assert_int_equal(plugin->learner->set(l, "depth", 3), DD_ERR);
	assert_non_null(strstr(h.error, "unroll = 2"));
	assert_int_equal(plugin->learner->set(l, "depth", 0), DD_ERR);
	assert_int_equal(plugin->learner->set(l, "depth", 1.5), DD_ERR);
	plugin->learner->destroy(l);
}

/* With target_method = cd the optimal codes are coordinate descent's exact
** Lasso minimum: the untrained encoder's error against them is the one
** measured against FISTA's codes run to convergence. */
static void cd_targets_match_fista(void **state)
{
	(void)state;
	if (!have_data)
		skip();
	double err[2];
	for (int i = 0; i < 2; i++) {
		kit_host h;
		void *l = new_lista(&h, "2", i ? "target_method=cd" : NULL);
		assert_non_null(l);
		const float *obs[1] = {eval_x()};
		dd_transitions t = {.batch = EVAL + 250, .obs = obs};
		assert_int_equal(plugin->learner->observe(l, &t), DD_OK);
		assert_int_equal(plugin->learner->set(l, "lr", 0.0), DD_OK);
		dd_metrics m = {0};
		assert_int_equal(plugin->learner->update(l, &m), DD_OK);
		err[i] = m.value[1];
		plugin->learner->destroy(l);
	}
	printf("# ISTA(2) code error against FISTA's codes %.6f, against CD's %.6f\n", err[0],
	       err[1]);
	assert_true(err[0] > 0.1);
	assert_true(fabs(err[0] - err[1]) < 1e-4 * err[0]);
}

/* Greedy coordinate descent written from the energy ||y - W z||^2 +
** lambda ||z||_1 alone (lambda = 1): each step sets the code that moves
** most to its minimum given the others. After T steps, z holds its codes
** and best every code's minimum given the others (LCoD's output). */
static void coordinate_descent(const float *y, int T, double *z, float *best)
{
	double r[N], c[M];
	for (int j = 0; j < M; j++)
		z[j] = 0;
	for (int t = 0; t <= T; t++) {
		for (int i = 0; i < N; i++) { /* the residual y - W z */
			r[i] = y[i];
			for (int a = 0; a < M; a++)
				r[i] -= (double)W[a * N + i] * z[a];
		}
		int k = 0;
		for (int j = 0; j < M; j++) {
			double wr = 0, g = 0; /* z_j + w_j . r / ||w_j||^2, shrunk by 1/(2 ||w_j||^2) */
			for (int i = 0; i < N; i++) {
				wr += (double)W[j * N + i] * r[i];
				g += (double)W[j * N + i] * W[j * N + i];
			}
			double v = z[j] + wr / g, th = 0.5 / g;
			c[j] = v > th ? v - th : v < -th ? v + th : 0.0;
			best[j] = (float)c[j];
			if (fabs(c[j] - z[j]) > fabs(c[k] - z[k]))
				k = j;
		}
		if (t < T)
			z[k] = c[k];
	}
}

/* method = lcod: untrained, the encoder is coordinate descent with T
** steps. */
static void untrained_lcod_is_cd(void **state)
{
	(void)state;
	if (!have_data)
		skip();
	kit_host h;
	void *l = new_lista(&h, "12", "method=lcod");
	assert_non_null(l);
	static float za[EVAL * M], zb[EVAL * M], zs[EVAL * M];
	const float *obs[1] = {eval_x()};
	assert_int_equal(plugin->learner->encode(l, EVAL, obs, za), DD_OK);
	double worst = 0, size = 0, err = 0, norm = 0;
	lasso s; /* the optimal codes, as the learner computes them */
	assert_int_equal(lasso_init(&s, W, M, N, 1.0f), 0);
	lasso_opts o = {.method = LASSO_FISTA, .max_iter = 3000, .tol = 1e-6f};
	lasso_solve(&s, eval_x(), EVAL, zs, &o);
	lasso_free(&s);
	for (int r = 0; r < EVAL; r++) {
		double z[M];
		coordinate_descent(eval_x() + (size_t)r * N, 12, z, zb + (size_t)r * M);
		for (int j = 0; j < M; j++) {
			double d = z[j] - zs[r * M + j];
			err += d * d;
			norm += (double)zs[r * M + j] * zs[r * M + j];
		}
	}
	for (int i = 0; i < EVAL * M; i++) {
		worst = fmax(worst, fabs((double)za[i] - zb[i]));
		size = fmax(size, fabs((double)zb[i]));
	}
	printf("# untrained LCoD(12) vs coordinate descent: max difference %.2e (codes up to "
	       "%.2f)\n", worst, size);
	assert_true(size > 0.1);
	assert_true(worst < 1e-4 * size);
	/* the baseline: coordinate descent's own codes after 12 steps */
	observe_eval_and_pool(l);
	assert_int_equal(plugin->learner->set(l, "lr", 0.0), DD_OK);
	dd_metrics m = {0};
	assert_int_equal(plugin->learner->update(l, &m), DD_OK);
	assert_string_equal(m.name[6], "lcod_T12_cd_error");
	printf("# CD(12) code error %.6f, reference %.6f\n", m.value[6], err / norm);
	assert_true(fabs(m.value[6] - err / norm) < 1e-3 * err / norm);
	plugin->learner->destroy(l);
}

/* Trained (back-propagation through the T = 16 steps, each step's choice of
** code held), LCoD predicts the held-out codes better than coordinate
** descent with as many steps, which needs more steps to match it (on 64
** atoms at lambda = 1, coordinate descent converges fast); a checkpoint
** restores it exactly. Tied only. */
static void lcod_beats_cd(void **state)
{
	(void)state;
	if (!have_data)
		skip();
	kit_host h;
	void *l = new_lista(&h, "16", "method=lcod");
	assert_non_null(l);
	dd_metrics m = {0};
	double first = train(l, &m);
	double err = m.value[1], cd = m.value[6], mult = m.value[8];
	printf("# LCoD(16) code error: %.4f after 50 steps, %.4f after 2000; CD(16) %.4f; "
	       "CD matches it after %.0f steps (%.1f x T)\n", first, err, cd, m.value[7], mult);
	assert_string_equal(m.name[1], "lcod_T16_error");
	assert_string_equal(m.name[8], "lcod_T16_cd_multiple");
	assert_true(err < first);
	assert_true(err < 0.6 * cd);  /* measured: 0.31 * cd */
	assert_true(mult >= 1.5);     /* measured: 2.3 */
	assert_checkpoint_restores(l, "16", "method=lcod");
	plugin->learner->destroy(l);
	const char *untied[] = {"dictionary=" DICT_FILE, "atoms=64", "method=lcod", "untied=1", NULL};
	kit_params kp;
	kit_host_init(&h, 1);
	assert_null(plugin->learner->create(kit_params_make(&kp, plugin, untied), &h.host, &spaces));
	assert_non_null(strstr(h.error, "tied steps only"));
}

/* Without a dictionary, or with one of another size, create() says why. */
static void dictionary_errors(void **state)
{
	(void)state;
	if (!have_data)
		skip();
	kit_params kp;
	kit_host h;
	kit_host_init(&h, 1);
	const char *none[] = {NULL};
	assert_null(plugin->learner->create(kit_params_make(&kp, plugin, none), &h.host, &spaces));
	assert_non_null(strstr(h.error, "dictionary is required"));
	const char *wrong[] = {"dictionary=" DICT_FILE, "atoms=32", NULL};
	assert_null(plugin->learner->create(kit_params_make(&kp, plugin, wrong), &h.host, &spaces));
	assert_non_null(strstr(h.error, "atoms = 32"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(untrained_is_ista),
		cmocka_unit_test(training_beats_fista),
		cmocka_unit_test(untied_beats_tied),
		cmocka_unit_test(set_lr),
		cmocka_unit_test(cd_targets_match_fista),
		cmocka_unit_test(dictionary_errors),
		cmocka_unit_test(untrained_lcod_is_cd),
		cmocka_unit_test(lcod_beats_cd),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
