/*
** bench_runtime.c -- what the host costs per env step.
**  1. ABI overhead: the corridor env stepped by a direct C loop (its source
**     compiled into this program), through the plugin's vtable (dlopen),
**     and through the host's vectorised path (action checks, episode
**     bookkeeping, autoreset) as dd.rollout uses it.
**  2. A Lua-driven loop (env:step(agent:act(obs)) per step) against
**     dd.rollout, which runs the same loop in C.
** Medians of 7 repeats after a warm-up, min and max beside them.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "registry.h"
#include "rollout.h"
#include "scenario.h"
#include "vec_env.h"

/* The direct reference: the plugin's own source, linked statically. */
#define dd_plugin_describe corridor_describe_direct
#include "../plugins/envs/corridor/corridor.c"
#undef dd_plugin_describe

#define REPEATS 7
#define STEPS 2000000

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void summary(const char *what, double *ns, double ref)
{
	qsort(ns, REPEATS, sizeof *ns, cmp);
	printf("  %-52s %7.2f ns/step [%6.2f .. %6.2f]", what, ns[REPEATS / 2], ns[0], ns[REPEATS - 1]);
	if (ref > 0)
		printf("   overhead %+6.2f ns", ns[REPEATS / 2] - ref);
	printf("\n");
}

static int host_error(dd_host *h, const char *fmt, ...)
{
	(void)h;
	(void)fmt;
	return DD_ERR;
}

/* Steps an env n times with alternating actions, resetting on episode end. */
static double loop_ns(const dd_env_vtable *vt, void *env, long n)
{
	float obs_buf[2], info[2], action;
	float *obs[1] = {obs_buf};
	dd_step_out out = {.obs = obs, .info = info};
	vt->reset(env, 1, obs, info);
	double t0 = dd_now();
	for (long i = 0; i < n; i++) {
		action = (float)(i & 1 ? 1 : (i % 3 != 0));
		vt->step(env, &action, &out);
		if (out.terminated || out.truncated)
			vt->reset(env, (uint64_t)i, obs, info);
	}
	return (dd_now() - t0) * 1e9 / (double)n;
}

static void bench_abi(dd_registry *reg)
{
	const dd_plugin_entry *p = dd_registry_find(reg, "corridor");
	if (!p) {
		printf("corridor plugin not found in %s\n", DD_PLUGIN_BUILD_DIR);
		return;
	}
	dd_host host = {.size = sizeof host, .error = host_error};
	dd_paramvals pv;
	dd_paramvals_init(&pv, "corridor", p->desc.params, p->n_params);
	/* The direct loop: same code, static calls the compiler may inline. */
	const dd_env_vtable direct = {
		.size = sizeof direct, .create = create, .spaces = spaces, .reset = reset,
		.step = step, .destroy = destroy,
	};
	void *env_direct = create(&pv.params, &host);
	void *env_abi = p->env.create(&pv.params, &host);
	double d[REPEATS], a[REPEATS], v[REPEATS];
	loop_ns(&direct, env_direct, STEPS / 10);
	loop_ns(&p->env, env_abi, STEPS / 10);
	for (int r = 0; r < REPEATS; r++) {
		/* direct: a loop that calls step() by name, no function pointer */
		float obs_buf[2], info[2], action;
		float *obs[1] = {obs_buf};
		dd_step_out out = {.obs = obs, .info = info};
		reset(env_direct, 1, obs, info);
		double t0 = dd_now();
		for (long i = 0; i < STEPS; i++) {
			action = (float)(i & 1 ? 1 : (i % 3 != 0));
			step(env_direct, &action, &out);
			if (out.terminated || out.truncated)
				reset(env_direct, (uint64_t)i, obs, info);
		}
		d[r] = (dd_now() - t0) * 1e9 / STEPS;
		a[r] = loop_ns(&p->env, env_abi, STEPS);
	}
	/* The host's vectorised path with one instance. */
	dd_paramvals pv2;
	dd_paramvals_init(&pv2, "corridor", p->desc.params, p->n_params);
	dd_vec_env *venv;
	char err[512];
	dd_run run = {0};
	if (dd_vec_env_new(p, &pv2, 1, &run, &venv, err, sizeof err) < 0) {
		printf("%s\n", err);
		return;
	}
	dd_vec_env_reset_all(venv, 1, err, sizeof err);
	for (int r = 0; r < REPEATS; r++) {
		double t0 = dd_now();
		for (long i = 0; i < STEPS; i++) {
			venv->action[0] = (float)(i & 1 ? 1 : (i % 3 != 0));
			dd_vec_env_step(venv, err, sizeof err);
			dd_vec_env_advance(venv, NULL, NULL, err, sizeof err);
		}
		v[r] = (dd_now() - t0) * 1e9 / STEPS;
	}
	printf("env step, corridor (%d steps a repeat)\n", STEPS);
	double ref = 0;
	summary("direct C loop (reference)", d, 0);
	ref = d[REPEATS / 2];
	summary("through the plugin ABI (vtable of a dlopen'd .so)", a, ref);
	summary("through the host's vectorised path (1 instance)", v, ref);
	printf("  target: ABI overhead <= 5 ns per step\n\n");
	destroy(env_direct);
	p->env.destroy(env_abi);
	dd_vec_env_free(venv);
	dd_paramvals_free(&pv);
}

static void bench_lua(dd_registry *reg)
{
	char dir[] = "/tmp/ddbench.XXXXXX";
	if (!mkdtemp(dir))
		return;
	char path[256], db[256];
	snprintf(path, sizeof path, "%s/loop.lua", dir);
	snprintf(db, sizeof db, "%s/bench.db", dir);
	FILE *f = fopen(path, "w");
	fputs("local N = 200000\n"
	      "local env <close> = dd.env('corridor', {slip = 0.1})\n"
	      "local agent <close> = dd.learner('random', {}, env)\n"
	      "local function lua_loop()\n"
	      "  local obs = env:reset{seed = 1}\n"
	      "  local t0 = os.clock()\n"
	      "  for i = 1, N do\n"
	      "    local o, r, term, trunc = env:step(agent:act(obs))\n"
	      "    obs = o\n"
	      "    if term or trunc then obs = env:reset{seed = i} end\n"
	      "  end\n"
	      "  return (os.clock() - t0) * 1e9 / N\n"
	      "end\n"
	      "local function rollout()\n"
	      "  local t0 = os.clock()\n"
	      "  dd.rollout(env, agent, {steps = 10 * N, log = false})\n"
	      "  return (os.clock() - t0) * 1e9 / (10 * N)\n"
	      "end\n"
	      "local function median(f)\n"
	      "  f()\n"
	      "  local t = {}\n"
	      "  for i = 1, 7 do t[i] = f() end\n"
	      "  table.sort(t)\n"
	      "  return t[4], t[1], t[7]\n"
	      "end\n"
	      "local lm, ll, lh = median(lua_loop)\n"
	      "local rm, rl, rh = median(rollout)\n"
	      "print('per-step cost of a Lua-driven loop vs dd.rollout (corridor + random)')\n"
	      "print(string.format('  %-52s %8.1f ns/step [%7.1f .. %7.1f]', 'dd.rollout (loop in C)', rm, rl, rh))\n"
	      "print(string.format('  %-52s %8.1f ns/step [%7.1f .. %7.1f]   %.0fx dd.rollout', "
	      "  'Lua loop: env:step(agent:act(obs))', lm, ll, lh, lm / rm))\n",
	      f);
	fclose(f);
	dd_scenario_opts o = {.script = path, .db_path = db};
	int64_t id;
	char err[1024];
	if (dd_scenario_run(&o, reg, &id, err, sizeof err) != 0)
		printf("lua bench failed: %s\n", err);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("could not remove %s\n", dir);
}

int main(void)
{
	char cpu[512];
	bu_cpu_model(cpu, sizeof cpu);
	printf("bench_runtime: CPU %s, 1 thread\n\n", cpu);
	dd_registry *reg = dd_registry_new();
	dd_registry_scan_dir(reg, DD_PLUGIN_BUILD_DIR);
	bench_abi(reg);
	bench_lua(reg);
	dd_registry_free(reg);
	return 0;
}
