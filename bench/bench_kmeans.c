/* bench_kmeans.c -- time per Lloyd iteration of the `kmeans` learner (through
 * its plugin vtable: one update() with iterations = 1 is one iteration) on
 * the 60,000 Fashion-MNIST training images, beside scikit-learn's KMeans
 * (algorithm "lloyd" and "elkan", which compute the same iterations; the
 * faster is its best) from the same initial centres (the first k images) in
 * the same run (bench/sklearn_kmeans.py, /usr/bin/python3; skipped when
 * scikit-learn is absent). Both sides at 1 and 2 threads.
 *
 * The figure, both sides alike: the time of iterations LO+1..HI divided by
 * HI - LO. scikit-learn: (t(fit, max_iter = HI) - t(fit, max_iter = LO)) /
 * (HI - LO), so its fixed costs (input checks and copy, centring, the bound
 * initialisation, the last E-step) cancel out. Ours: the sum of the update()
 * times LO+1..HI (update 1 holds our initial assignment pass). Each a median
 * of REPEATS runs from the start, min and max beside it. The objectives
 * (mean squared distance to the nearest centre, in double) after EXTRA
 * iterations are printed side by side: equal objectives show the runs did
 * the same iterations.
 *
 * usage: bench_kmeans [-n] [k ...]   (-n: ours only; k defaults to 10 64) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "daydream/idx.h"
#include "paramvals.h"
#include "registry.h"
#include "run.h"

extern void openblas_set_num_threads(int n);

#define DATA "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"
#define N 60000
#define D 784
#define LO 1
#define HI 25
#define EXTRA 20 /* iterations after which both objectives are compared */
#define REPEATS 5

typedef struct result {
	bu_stats t;
	double objective, all; /* all: iterations 1..HI, ours only */
	int ok;
	char algo[8];          /* reference: which scikit-learn algorithm this is */
} result;

static const dd_tensor_spec image = {.name = "image", .ndim = 3, .dims = {1, 28, 28}};
static const dd_spaces spaces = {
	.size = sizeof(dd_spaces), .n_obs = 1, .obs = &image,
	.action_kind = DD_ACTION_DISCRETE, .action_dim = 1, .n_actions = 1,
};

static double metric(const dd_metrics *m, const char *name)
{
	for (int i = 0; i < m->count; i++)
		if (!strcmp(m->name[i], name))
			return m->value[i];
	return -1;
}

/* One run of our learner from the start: HI updates of one iteration each.
 * Returns the time of updates LO+1..HI (0 on failure); *all the time of
 * 1..HI, *objective the objective after EXTRA. */
static double run_ours(const dd_plugin_entry *p, const float *x, int k, double *all, double *objective)
{
	dd_paramvals pv;
	char err[1024], kbuf[16], mem[16];
	snprintf(kbuf, sizeof kbuf, "%d", k);
	snprintf(mem, sizeof mem, "%d", N);
	dd_paramvals_init(&pv, "kmeans", p->desc.params, p->n_params);
	if (dd_paramvals_set_str(&pv, "k", kbuf, err, sizeof err) < 0 ||
	    dd_paramvals_set_str(&pv, "memory", mem, err, sizeof err) < 0 ||
	    dd_paramvals_set_str(&pv, "init", "first", err, sizeof err) < 0 ||
	    dd_paramvals_set_str(&pv, "iterations", "1", err, sizeof err) < 0) {
		fprintf(stderr, "%s\n", err);
		return 0;
	}
	dd_instance_host host;
	dd_instance_host_init(&host, NULL, "kmeans", 1);
	void *h = p->learner.create(&pv.params, &host.host, &spaces);
	if (!h) {
		fprintf(stderr, "kmeans: %s\n", host.error);
		dd_paramvals_free(&pv);
		return 0;
	}
	static float zeros[1000];
	static int flags[1000];
	for (int i = 0; i < N; i += 1000) {
		const float *obs[1] = {x + (size_t)i * D};
		dd_transitions t = {.batch = 1000, .obs = obs, .action = zeros, .reward = zeros,
		                    .next_obs = obs, .terminated = flags, .truncated = flags};
		p->learner.observe(h, &t);
	}
	dd_metrics m;
	double window = 0;
	*all = 0;
	for (int u = 1; u <= HI; u++) {
		double t0 = bu_now();
		if (p->learner.update(h, &m) != DD_OK || metric(&m, "converged") != 0) {
			fprintf(stderr, "kmeans: update %d failed or converged early: %s\n", u, host.error);
			window = 0;
			break;
		}
		double dt = bu_now() - t0;
		*all += dt;
		if (u > LO)
			window += dt;
		if (u == EXTRA)
			*objective = metric(&m, "objective");
	}
	p->learner.destroy(h);
	dd_paramvals_free(&pv);
	return window;
}

static result ours(const dd_plugin_entry *p, const float *x, int k)
{
	result r = {0};
	double t[REPEATS], all[REPEATS];
	run_ours(p, x, k, &all[0], &r.objective); /* warm-up: page faults, the pool */
	for (int i = 0; i < REPEATS; i++) {
		double w = run_ours(p, x, k, &all[i], &r.objective);
		if (w <= 0)
			return r;
		t[i] = w / (HI - LO);
		all[i] /= HI;
	}
	r.t = bu_summarise(t, REPEATS);
	r.all = bu_summarise(all, REPEATS).med;
	r.ok = 1;
	return r;
}

/* scikit-learn in the same run: for each thread count, the faster of its
 * lloyd and elkan (the peer's best configuration). 0 when it cannot run. */
static int reference(int k, result ref[2])
{
	char dir[1024], cmd[2048], line[512];
	bu_source_dir(__FILE__, dir, sizeof dir);
	snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s/sklearn_kmeans.py' %s %d %d %d %d %d %d 2>&1", dir, DATA,
	         N, k, LO, HI, REPEATS, EXTRA);
	FILE *py = popen(cmd, "r");
	int got = 0;
	while (py && fgets(line, sizeof line, py)) {
		int t;
		result r = {0};
		if (sscanf(line, "%7s threads %d per_iter_ms %lf %lf %lf objective %lf", r.algo, &t, &r.t.med,
		           &r.t.min, &r.t.max, &r.objective) == 6 && (t == 1 || t == 2)) {
			r.t.med /= 1e3, r.t.min /= 1e3, r.t.max /= 1e3;
			r.ok = 1;
			printf("  scikit-learn %-5s %d thread%s: %7.2f ms/iter (%.2f-%.2f)\n", r.algo, t, t > 1 ? "s" : " ",
			       1e3 * r.t.med, 1e3 * r.t.min, 1e3 * r.t.max);
			if (!ref[t - 1].ok || r.t.med < ref[t - 1].t.med)
				ref[t - 1] = r;
			got++;
		} else if (got == 0) {
			printf("  (scikit-learn: %s", line); /* why the reference is missing */
		}
	}
	if (py)
		pclose(py);
	return got >= 2;
}

int main(int argc, char **argv)
{
	char err[512];
	int with_ref = 1, ks[16], nk = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-n"))
			with_ref = 0;
		else if (atoi(argv[i]) > 0 && nk < 16)
			ks[nk++] = atoi(argv[i]);
		else {
			fprintf(stderr, "usage: %s [-n] [k ...]\n", argv[0]);
			return 2;
		}
	}
	if (nk == 0)
		ks[nk++] = 10, ks[nk++] = 64;
	printf("k-means, one Lloyd iteration on %d Fashion-MNIST images of %d pixels (float32)\n", N, D);
	bu_print_machine();
	dd_idx idx;
	if (dd_idx_load(&idx, DATA, (size_t)1 << 30, err, sizeof err) != DD_OK) {
		printf("cannot read %s: %s (apt-get install dataset-fashion-mnist)\n", DATA, err);
		return 1;
	}
	float *x = malloc(sizeof(float) * (size_t)N * D);
	dd_idx_to_float(&idx, 0, (size_t)N * D, 1.0f / 255.0f, x);
	dd_idx_free(&idx);
	dd_registry *reg = dd_registry_new();
	dd_registry_scan_dir(reg, DD_PLUGIN_BUILD_DIR);
	const dd_plugin_entry *p = dd_registry_find(reg, "kmeans");
	if (!p) {
		printf("the kmeans plugin is not built in %s\n", DD_PLUGIN_BUILD_DIR);
		return 1;
	}
	for (int c = 0; c < nk; c++) {
		int k = ks[c];
		result ref[2];
		memset(ref, 0, sizeof ref);
		int have_ref = with_ref && reference(k, ref);
		printf("\nk = %d (init: the first %d images; all distances: %.2f GFLOP per iteration)\n", k, k,
		       2.0 * N * D * k * 1e-9);
		printf("  threads  ours ms/iter (min-max) [its 1..%d]  best scikit-learn ms/iter (min-max)  ratio  "
		       "objective after %d its: ours / sklearn\n", HI, EXTRA);
		result mine[2];
		for (int t = 1; t <= 2; t++) {
			openblas_set_num_threads(t);
			result o = mine[t - 1] = ours(p, x, k);
			if (!o.ok) {
				printf("  %d        our run failed\n", t);
				continue;
			}
			printf("  %d        %7.2f (%6.2f-%6.2f) [%6.2f]", t, 1e3 * o.t.med, 1e3 * o.t.min, 1e3 * o.t.max,
			       1e3 * o.all);
			if (have_ref && ref[t - 1].ok)
				printf("   %-5s %7.2f (%6.2f-%6.2f)   %5.2fx  %.6f / %.6f\n", ref[t - 1].algo,
				       1e3 * ref[t - 1].t.med, 1e3 * ref[t - 1].t.min, 1e3 * ref[t - 1].t.max,
				       ref[t - 1].t.med / o.t.med, o.objective, ref[t - 1].objective);
			else
				printf("   (reference skipped)  objective %.6f\n", o.objective);
		}
		if (have_ref && ref[0].ok && ref[1].ok && mine[0].ok && mine[1].ok) {
			int rb = ref[0].t.med < ref[1].t.med ? 0 : 1, ob = mine[0].t.med < mine[1].t.med ? 0 : 1;
			printf("  best against best: ours %.2f ms/iter (%d thread%s), scikit-learn %.2f (%s, %d thread%s): "
			       "%.2fx\n", 1e3 * mine[ob].t.med, ob + 1, ob ? "s" : "", 1e3 * ref[rb].t.med, ref[rb].algo,
			       rb + 1, rb ? "s" : "", ref[rb].t.med / mine[ob].t.med);
		}
	}
	printf("\nms/iter: iterations %d..%d, wall clock, median of %d runs from the start (min-max); ours "
	       "[its 1..%d]: with the first, bound-initialising pass\n", LO + 1, HI, REPEATS, HI);
	dd_registry_free(reg);
	free(x);
	return 0;
}
