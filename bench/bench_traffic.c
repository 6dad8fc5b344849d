/*
** bench_traffic.c -- how fast the traffic env runs on one core:
**  1. the simulator alone (IDM + MOBIL, entering and leaving), 100 vehicles:
**     vehicle-updates per second;
**  2. the PPUU observation image (117 x 24 x 4, exact coverage): images/s,
**     and its cost with the gradient: evaluations/s;
**  3. policy steps through the plugin ABI on a 50-vehicle road, with the
**     image and with the kinematics observation (the reward's costs still
**     render the image), resets (10 s of warm-up each) included;
**  4. the host's vectorised path (as dd.rollout uses it) with 64 instances.
** Medians of 7 repeats after a warm-up, min and max beside them. The
** reference, highway-env, is Python and cannot be installed from Debian:
** its figures are quoted from its maintainer's measurements.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "registry.h"
#include "run.h"
#include "vec_env.h"

/* The simulator's own sources, compiled in (the plugin keeps them hidden). */
#include "../plugins/envs/traffic/bicycle.c"
#include "../plugins/envs/traffic/costs.c"
#include "../plugins/envs/traffic/geometry.c"
#include "../plugins/envs/traffic/idm.c"
#include "../plugins/envs/traffic/mobil.c"
#include "../plugins/envs/traffic/road.c"
#include "../plugins/envs/traffic/render.c"
#include "../plugins/envs/traffic/traffic_sim.c"

#define REPEATS 7

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Prints the median rate with min and max; returns the median. */
static double report(const char *what, double *rate, const char *unit)
{
	qsort(rate, REPEATS, sizeof *rate, cmp);
	printf("  %-58s %10.0f %s [%.0f .. %.0f]\n", what, rate[REPEATS / 2], unit, rate[0],
	       rate[REPEATS - 1]);
	return rate[REPEATS / 2];
}

static tr_sim_config highway(int lanes, double length)
{
	tr_sim_config c = {
		.road = {lanes, 3.7, length}, .dt = 0.1, .density = 25,
		.driver = {.v0 = 30, .T = 1.5, .s0 = 2, .a = 1.0, .b = 1.5, .delta = 4,
		           .politeness = 0.2, .threshold = 0.2, .b_safe = 4},
		.variation = 0.1, .lane_change_time = 3, .mobil_period = 1,
		.length_min = 4.2, .length_max = 5.0, .width_min = 1.7, .width_max = 2.0,
	};
	return c;
}

static void bench_sim(void)
{
	tr_sim_config c = highway(4, 1250); /* about 100 vehicles once settled */
	tr_sim s;
	if (tr_sim_init(&s, &c, tr_sim_capacity(&c)) < 0)
		return;
	tr_sim_clear(&s, 1);
	tr_sim_populate(&s);
	for (int i = 0; i < 600; i++) /* settle */
		tr_sim_step(&s);
	double upd[REPEATS], img[REPEATS], cst[REPEATS];
	long vehicles = 0, steps = 0;
	for (int r = 0; r < REPEATS; r++) {
		long n = 0;
		double t0 = dd_now();
		for (int i = 0; i < 5000; i++) {
			tr_sim_step(&s);
			n += s.n;
		}
		upd[r] = (double)n / (dd_now() - t0);
		vehicles += n;
		steps += 5000;
	}
	printf("simulator alone: %d lanes x %.0f m at %.0f vehicles/km/lane, %.0f vehicles on "
	       "average\n", c.road.lanes, c.road.length, c.density, (double)vehicles / steps);
	double u = report("IDM + MOBIL step (vehicle-updates per second)", upd, "/s");
	printf("  target >= 1,000,000 vehicle-updates/s: %s\n\n", u >= 1e6 ? "met" : "NOT met");

	static float image[4 * 117 * 24], grad[4 * 117 * 24];
	tr_view view = {117, 24, 24.0 / 14.8};
	tr_cost_config cc = {.view = view, .ego_length = 4.5, .ego_width = 1.9,
	                     .safety_time = 1.5, .safety_margin = 1, .lane_margin = 0.5,
	                     .lane_weight = 0.2, .off_road_weight = 1};
	int ego = s.n / 2;
	s.v[ego].heading = 0.02; /* a turning ego: nothing axis-aligned */
	double sum = 0;
	for (int r = 0; r < REPEATS; r++) {
		double t0 = dd_now();
		for (int i = 0; i < 20000; i++) {
			tr_render_obs(&s, &view, ego, image);
			sum += image[i % (4 * 117 * 24)];
		}
		img[r] = 20000 / (dd_now() - t0);
		t0 = dd_now();
		for (int i = 0; i < 20000; i++) {
			tr_costs k;
			double gs;
			tr_costs_eval(&cc, image, 10 + (i & 7), &k, grad, &gs);
			sum += k.total + gs;
		}
		cst[r] = 20000 / (dd_now() - t0);
	}
	printf("observation image 4 x 117 x 24 around vehicle %d of %d (checksum %.3g)\n", ego,
	       s.n, sum);
	double im = report("images per second", img, "/s");
	report("costs with gradient per second (proximity, lane, off-road)", cst, "/s");
	printf("  target >= 20,000 images/s: %s\n\n", im >= 2e4 ? "met" : "NOT met");
	tr_sim_free(&s);
}

static int host_error(dd_host *h, const char *fmt, ...)
{
	(void)h;
	(void)fmt;
	return DD_ERR;
}

/* Policy steps through the plugin's vtable: accelerations drawn around
** cruising, no steering, resets on episode end. */
static void bench_policy(dd_registry *reg, const char *observation)
{
	const dd_plugin_entry *p = dd_registry_find(reg, "traffic");
	if (!p) {
		printf("traffic plugin not found in %s\n", DD_PLUGIN_BUILD_DIR);
		return;
	}
	dd_host host = {.size = sizeof host, .error = host_error};
	dd_paramvals pv;
	char err[512];
	dd_paramvals_init(&pv, "traffic", p->desc.params, p->n_params);
	if (dd_paramvals_set_str(&pv, "lanes", "4", err, sizeof err) < 0 ||
	    dd_paramvals_set_str(&pv, "length", "500", err, sizeof err) < 0 ||
	    dd_paramvals_set_str(&pv, "observation", observation, err, sizeof err) < 0) {
		printf("%s\n", err);
		return;
	}
	void *env = p->env.create(&pv.params, &host);
	const dd_spaces *sp = p->env.spaces(env);
	float *obs[2];
	for (int k = 0; k < 2; k++)
		obs[k] = malloc(dd_tensor_spec_count(&sp->obs[k]) * sizeof(float));
	float info[16];
	dd_step_out out = {.obs = obs, .info = info};
	dd_rng rng;
	dd_rng_seed(&rng, 1, 0);
	double rate[REPEATS];
	long episodes = 0, resets_at = 0;
	p->env.reset(env, 1, obs, info);
	for (int r = -1; r < REPEATS; r++) {
		double t0 = dd_now();
		long n = 10000;
		for (long i = 0; i < n; i++) {
			float a[2] = {0.8f * dd_rng_uniform(&rng) - 0.3f, 0};
			p->env.step(env, a, &out);
			if (out.terminated || out.truncated) {
				p->env.reset(env, (uint64_t)++resets_at, obs, info);
				episodes += r >= 0;
			}
		}
		if (r >= 0)
			rate[r] = n / (dd_now() - t0);
	}
	char what[128];
	snprintf(what, sizeof what, "policy steps/s, observation=%s (%ld episodes)", observation,
	         episodes);
	double m = report(what, rate, "/s");
	if (strcmp(observation, "image") == 0)
		printf("  target >= 10,000 policy steps/s on a 50-vehicle road: %s\n",
		       m >= 1e4 ? "met" : "NOT met");
	for (int k = 0; k < 2; k++)
		free(obs[k]);
	p->env.destroy(env);
	dd_paramvals_free(&pv);
}

static void bench_vec(dd_registry *reg, int n)
{
	const dd_plugin_entry *p = dd_registry_find(reg, "traffic");
	if (!p)
		return;
	dd_paramvals pv;
	char err[512];
	dd_paramvals_init(&pv, "traffic", p->desc.params, p->n_params);
	dd_paramvals_set_str(&pv, "lanes", "4", err, sizeof err);
	dd_paramvals_set_str(&pv, "length", "500", err, sizeof err);
	dd_run run = {0};
	dd_vec_env *v;
	if (dd_vec_env_new(p, &pv, n, &run, &v, err, sizeof err) < 0) {
		printf("%s\n", err);
		return;
	}
	dd_vec_env_reset_all(v, 1, err, sizeof err);
	dd_rng rng;
	dd_rng_seed(&rng, 2, 0);
	double rate[REPEATS];
	for (int r = -1; r < REPEATS; r++) {
		int batches = 20000 / n;
		double t0 = dd_now();
		for (int b = 0; b < batches; b++) {
			for (int i = 0; i < n; i++) {
				v->action[2 * i] = 0.8f * dd_rng_uniform(&rng) - 0.3f;
				v->action[2 * i + 1] = 0;
			}
			dd_vec_env_step(v, err, sizeof err);
			dd_vec_env_advance(v, NULL, NULL, err, sizeof err);
		}
		if (r >= 0)
			rate[r] = (double)batches * n / (dd_now() - t0);
	}
	char what[128];
	snprintf(what, sizeof what, "host's vectorised path, %d instances, image", n);
	report(what, rate, "/s");
	dd_vec_env_free(v);
}

int main(void)
{
	char cpu[512];
	bu_cpu_model(cpu, sizeof cpu);
	printf("bench_traffic: CPU %s, 1 thread\n\n", cpu);
	bench_sim();
	dd_registry *reg = dd_registry_new();
	dd_registry_scan_dir(reg, DD_PLUGIN_BUILD_DIR);
	printf("the traffic env through the plugin ABI: 4 lanes x 500 m at 25 vehicles/km/lane "
	       "(50 vehicles), dt 0.1 s\n");
	bench_policy(reg, "image");
	bench_policy(reg, "kinematics");
	bench_vec(reg, 64);
	dd_registry_free(reg);
	printf("\nreference: highway-env (Python), highway-v0 about 1.1 policy steps/s and "
	       "highway-fast-v0 about 14.5 policy steps/s\n"
	       "  (its maintainer's measurements, github.com/Farama-Foundation/HighwayEnv/issues/223;\n"
	       "  one policy step there is 1 s of simulated time, here 0.1 s: compare per simulated\n"
	       "  second by dividing our rates by 10)\n");
	return 0;
}
