/* bench_kmeans.c -- time per Lloyd iteration of the `kmeans` learner (through
 * its plugin vtable: one update() with iterations = 1 is one iteration) on
 * the 60,000 Fashion-MNIST training images, beside scikit-learn's KMeans
 * (the faster of algorithm="lloyd" and "elkan", which compute the same
 * iterations) from the same initial centres (the first k images) in the
 * same run (bench/sklearn_kmeans.py, /usr/bin/python3;
 * skipped when scikit-learn is absent). Both sides at 1 and 2 threads; the
 * objectives after the same number of iterations are printed side by side
 * to show the runs did the same work. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daydream/idx.h"
#include "paramvals.h"
#include "registry.h"
#include "run.h"

extern char *openblas_get_corename(void);
extern void openblas_set_num_threads(int n);

#define DATA "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"
#define N 60000
#define D 784
#define WARM 2
#define REPS 15
#define EXTRA 20 /* iterations after which both objectives are compared */

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

static void cpu_model(char *buf, size_t n)
{
	snprintf(buf, n, "unknown");
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512];
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, "model name", 10)) {
			char *c = strchr(line, ':');
			if (c)
				snprintf(buf, n, "%s", c + 2);
			buf[strcspn(buf, "\n")] = 0;
			break;
		}
	if (f)
		fclose(f);
}

typedef struct result {
	double med, min, max, objective;
	int ok;
	char algo[8];  /* reference: which scikit-learn algorithm this is */
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

/* Our learner: feed the images, place the centres, then one iteration per
 * update(); per-iteration times after warm-up, objective after EXTRA. */
static result ours(const dd_plugin_entry *p, const float *x, int k)
{
	result r = {0};
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
		return r;
	}
	dd_instance_host host;
	dd_instance_host_init(&host, NULL, "kmeans", 1);
	void *h = p->learner.create(&pv.params, &host.host, &spaces);
	if (!h) {
		fprintf(stderr, "kmeans: %s\n", host.error);
		dd_paramvals_free(&pv);
		return r;
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
	double times[REPS];
	int updates = 0;
	for (int i = 0; i < WARM + REPS; i++) {
		double t0 = now();
		if (p->learner.update(h, &m) != DD_OK) {
			fprintf(stderr, "kmeans: %s\n", host.error);
			break;
		}
		double dt = now() - t0;
		updates++;
		if (i >= WARM)
			times[i - WARM] = dt;
	}
	while (updates < EXTRA && p->learner.update(h, &m) == DD_OK)
		updates++;
	r.objective = metric(&m, "objective");
	qsort(times, REPS, sizeof *times, cmp_d);
	r.med = times[REPS / 2];
	r.min = times[0];
	r.max = times[REPS - 1];
	r.ok = updates == EXTRA && metric(&m, "converged") == 0;
	p->learner.destroy(h);
	dd_paramvals_free(&pv);
	return r;
}

/* scikit-learn in the same run: for each thread count, the faster of its
 * lloyd and elkan (the peer's best configuration). 0 when it cannot run. */
static int reference(int k, result ref[2])
{
	char dir[1024], cmd[2048], line[512];
	snprintf(dir, sizeof dir, "%s", __FILE__);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
	else
		snprintf(dir, sizeof dir, ".");
	snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s/sklearn_kmeans.py' %s %d %d 5 25 5 %d 2>&1", dir, DATA,
	         N, k, EXTRA);
	FILE *py = popen(cmd, "r");
	int got = 0;
	while (py && fgets(line, sizeof line, py)) {
		int t;
		result r = {0};
		if (sscanf(line, "%7s threads %d per_iter_ms %lf %lf %lf inertia_per_sample %lf", r.algo, &t,
		           &r.med, &r.min, &r.max, &r.objective) == 6 && (t == 1 || t == 2)) {
			r.med /= 1e3, r.min /= 1e3, r.max /= 1e3;
			r.ok = 1;
			printf("  scikit-learn %-5s %d thread%s: %7.2f ms/iter (%.2f-%.2f)\n", r.algo, t, t > 1 ? "s" : " ",
			       1e3 * r.med, 1e3 * r.min, 1e3 * r.max);
			if (!ref[t - 1].ok || r.med < ref[t - 1].med)
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

int main(void)
{
	char cpu[256], err[512];
	cpu_model(cpu, sizeof cpu);
	printf("k-means, one Lloyd iteration on %d Fashion-MNIST images of %d pixels (float32)\n", N, D);
	printf("CPU: %s; OpenBLAS kernel: %s\n", cpu, openblas_get_corename());
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
	const int ks[2] = {10, 64};
	for (int c = 0; c < 2; c++) {
		int k = ks[c];
		result ref[2] = {{0}};
		int have_ref = reference(k, ref);
		printf("\nk = %d (init: the first %d images; distances: %.2f GFLOP per iteration)\n", k, k,
		       2.0 * N * D * k * 1e-9);
		printf("  threads  ours ms/iter (min-max)      best scikit-learn ms/iter (min-max)    ratio  "
		       "objective after %d its: ours / sklearn\n", EXTRA);
		for (int t = 1; t <= 2; t++) {
			openblas_set_num_threads(t);
			result o = ours(p, x, k);
			if (!o.ok) {
				printf("  %d        our run failed or converged early\n", t);
				continue;
			}
			if (have_ref)
				printf("  %d        %7.2f (%6.2f-%6.2f)      %-5s %7.2f (%6.2f-%6.2f)          %5.2fx  %.5f / %.5f\n",
				       t, 1e3 * o.med, 1e3 * o.min, 1e3 * o.max, ref[t - 1].algo, 1e3 * ref[t - 1].med,
				       1e3 * ref[t - 1].min, 1e3 * ref[t - 1].max, ref[t - 1].med / o.med, o.objective,
				       ref[t - 1].objective);
			else
				printf("  %d        %7.2f (%6.2f-%6.2f)      (reference skipped)  objective %.5f\n", t,
				       1e3 * o.med, 1e3 * o.min, 1e3 * o.max, o.objective);
		}
	}
	printf("\nwall-clock medians of %d timed iterations 3..%d (ours, after %d warm-up) and of 5 repeats "
	       "of (t(25 its) - t(5 its)) / 20 (scikit-learn 1.2, threadpoolctl limits)\n", REPS, WARM + REPS,
	       WARM);
	dd_registry_free(reg);
	free(x);
	return 0;
}
