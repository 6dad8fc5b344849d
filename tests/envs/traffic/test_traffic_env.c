/*
** test_traffic_env.c -- the `traffic` plugin end to end through its vtable
** (compiled in, so that scenes can be set up by hand): spaces, determinism
** per seed, collision / off-road / success / truncation, clear errors for
** bad parameters, the ABI's differentiable cost against finite
** differences, the kinematics and occupancy observations, exact replay of
** recorded vehicles, the RGB render, and the main scenario run against the
** built plugins with its results checked in the run store.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin.c"
#include "scenario.h"
#include "testutil.h"

#define SAMPLE DD_SOURCE_DIR "/plugins/envs/traffic/data/sim_highway.txt"

typedef struct fake_host {
	dd_host h;
	char err[1024];
} fake_host;

static int fh_error(dd_host *h, const char *fmt, ...)
{
	fake_host *f = (fake_host *)h;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->err, sizeof f->err, fmt, ap);
	va_end(ap);
	return DD_ERR;
}

/* The env logs nothing itself (episodes reach the run store through the
** host): metrics and messages are dropped. */
static void fh_metric(dd_host *h, const char *name, double v, int64_t step)
{
	(void)h;
	(void)name;
	(void)v;
	(void)step;
}

static void fh_message(dd_host *h, dd_log_level l, const char *m)
{
	(void)h;
	(void)l;
	(void)m;
}

static fake_host host = {.h = {.size = sizeof(dd_host), .error = fh_error,
                               .log_metric = fh_metric, .log_message = fh_message}};

/* The schema's defaults with "name=value" overrides, as the host would
** validate them (strings stay pointers into the override). */
static dd_value values[64];
static dd_params make_params(const char *const *kv)
{
	int n = 0;
	for (; params[n].name; n++) {
		values[n].num = params[n].def;
		values[n].str = params[n].def_str ? params[n].def_str : "";
	}
	for (int i = 0; kv && kv[i]; i++) {
		const char *eq = strchr(kv[i], '=');
		for (int k = 0; k < n; k++)
			if (strncmp(params[k].name, kv[i], (size_t)(eq - kv[i])) == 0 &&
			    params[k].name[eq - kv[i]] == '\0') {
				values[k].num = atof(eq + 1);
				values[k].str = eq + 1;
				if (params[k].type == DD_PARAM_BOOL)
					values[k].num = strcmp(eq + 1, "true") == 0;
			}
	}
	return (dd_params){n, params, values};
}

static traffic_env *make(const char *const *kv)
{
	dd_params p = make_params(kv);
	host.err[0] = '\0';
	traffic_env *e = create(&p, &host.h);
	if (!e)
		fail_msg("create failed: %s", host.err);
	return e;
}

/* Buffers for one observation and one step of an env. */
typedef struct bufs {
	float *obs[2];
	float info[N_INFO];
	dd_step_out out;
} bufs;

static void bufs_init(bufs *b, traffic_env *e)
{
	for (int k = 0; k < 2; k++)
		b->obs[k] = calloc(dd_tensor_spec_count(&e->obs_spec[k]), sizeof(float));
	b->out = (dd_step_out){.obs = b->obs, .info = b->info};
}

static void bufs_free(bufs *b)
{
	free(b->obs[0]);
	free(b->obs[1]);
}

static void test_spaces(void **state)
{
	(void)state;
	traffic_env *e = make(NULL);
	const dd_spaces *s = spaces(e);
	assert_int_equal(s->n_obs, 2);
	assert_string_equal(s->obs[0].name, "image");
	assert_int_equal(s->obs[0].dims[0], 4);
	assert_int_equal(s->obs[0].dims[1], 117);
	assert_int_equal(s->obs[0].dims[2], 24);
	assert_string_equal(s->obs[1].name, "state");
	assert_int_equal(s->obs[1].dims[0], 5);
	assert_int_equal(s->action_kind, DD_ACTION_BOX);
	assert_int_equal(s->action_dim, 2);
	assert_true(s->action_low[0] == -1 && s->action_high[1] == 1);
	const char *want[] = {"distance", "speed", "success", "collision", "off_road"};
	for (int i = 0; i < 5; i++)
		assert_string_equal(s->info_names[i], want[i]);
	destroy(e);
	e = make((const char *[]){"observation=kinematics", "kinematics_count=7", NULL});
	assert_string_equal(spaces(e)->obs[0].name, "kinematics");
	assert_int_equal(spaces(e)->obs[0].dims[0], 7);
	assert_int_equal(spaces(e)->obs[0].dims[1], 5);
	destroy(e);
	e = make((const char *[]){"observation=occupancy", NULL});
	assert_int_equal(spaces(e)->obs[0].ndim, 3);
	assert_int_equal(spaces(e)->obs[0].dims[1], 11);
	assert_int_equal(spaces(e)->obs[0].dims[2], 5);
	destroy(e);
}

/* Runs 300 steps of seeded random actions; returns a checksum-free copy
** of every reward and the last observation in *last. */
static void run_episode(uint64_t seed, float *rewards, float *last_img, float *last_state)
{
	traffic_env *e = make((const char *[]){"max_steps=300", NULL});
	bufs b;
	bufs_init(&b, e);
	assert_int_equal(reset(e, seed, b.obs, b.info), DD_OK);
	dd_rng rng;
	dd_rng_seed(&rng, 77, 0);
	for (int t = 0; t < 300; t++) {
		float a[2] = {2 * dd_rng_uniform(&rng) - 1, 0.3f * (2 * dd_rng_uniform(&rng) - 1)};
		assert_int_equal(step(e, a, &b.out), DD_OK);
		rewards[t] = b.out.reward;
		if (b.out.terminated || b.out.truncated) {
			for (int u = t + 1; u < 300; u++)
				rewards[u] = 0;
			break;
		}
	}
	memcpy(last_img, b.obs[0], 4 * 117 * 24 * sizeof(float));
	memcpy(last_state, b.obs[1], 5 * sizeof(float));
	bufs_free(&b);
	destroy(e);
}

static void test_determinism(void **state)
{
	(void)state;
	static float ra[300], rb[300], rc[300], ia[4 * 117 * 24], ib[4 * 117 * 24],
		ic[4 * 117 * 24];
	float sa[5], sb[5], sc[5];
	run_episode(5, ra, ia, sa);
	run_episode(5, rb, ib, sb);
	run_episode(6, rc, ic, sc);
	assert_memory_equal(ra, rb, sizeof ra);
	assert_memory_equal(ia, ib, sizeof ia);
	assert_memory_equal(sa, sb, sizeof sa);
	assert_true(memcmp(sa, sc, sizeof sa) != 0);
}

static void test_collision(void **state)
{
	(void)state;
	traffic_env *e = make(NULL);
	bufs b;
	bufs_init(&b, e);
	assert_int_equal(reset(e, 3, b.obs, b.info), DD_OK);
	tr_sim *s = &e->sim;
	tr_vehicle *ego = &s->v[s->ego];
	assert_true(ego->leader >= 0);
	/* put the ego right onto its leader's tail */
	tr_vehicle *l = &s->v[ego->leader];
	ego->x = l->x - 0.5 * l->length - 0.5 * ego->length + 1.0;
	ego->v = ego->vx = l->v;
	tr_sim_index(s);
	float a[2] = {0, 0};
	assert_int_equal(step(e, a, &b.out), DD_OK);
	assert_true(b.out.terminated);
	assert_false(b.out.truncated);
	assert_float_equal(b.info[I_COLLISION], 1, 0);
	assert_float_equal(b.info[I_SUCCESS], 0, 0);
	assert_true(b.info[I_PROXIMITY] > 0.99f);   /* PPUU's crash criterion */
	assert_true(b.out.reward <= -0.99f);
	bufs_free(&b);
	destroy(e);
}

/* On an empty road, full steering leaves the road on the side it says. */
static void test_off_road(void **state)
{
	(void)state;
	for (int side = -1; side <= 1; side += 2) {
		traffic_env *e = make((const char *[]){"density=0", NULL});
		bufs b;
		bufs_init(&b, e);
		assert_int_equal(reset(e, 1, b.obs, b.info), DD_OK);
		float a[2] = {0, (float)side};
		int t = 0;
		do
			assert_int_equal(step(e, a, &b.out), DD_OK);
		while (!b.out.terminated && !b.out.truncated && ++t < 600);
		assert_true(b.out.terminated);
		assert_float_equal(b.info[I_OFF_ROAD], 1, 0);
		assert_float_equal(b.info[I_COLLISION], 0, 0);
		assert_true(side > 0 ? b.obs[1][1] > 3 * 3.7 : b.obs[1][1] < 0);
		assert_true(b.info[I_OFF_ROAD_COST] > 0.5f);
		bufs_free(&b);
		destroy(e);
	}
}

static void test_success_and_truncation(void **state)
{
	(void)state;
	traffic_env *e = make((const char *[]){"density=0", "length=200", "ego_start=150", NULL});
	bufs b;
	bufs_init(&b, e);
	assert_int_equal(reset(e, 1, b.obs, b.info), DD_OK);
	assert_float_equal(b.obs[1][0], 150, 1e-4);
	assert_float_equal(b.obs[1][2], 30, 1e-4);    /* alone, at the desired speed */
	float a[2] = {0, 0};
	int t = 0;
	do
		assert_int_equal(step(e, a, &b.out), DD_OK);
	while (!b.out.terminated && !b.out.truncated && ++t < 100);
	assert_true(b.out.terminated);
	assert_float_equal(b.info[I_SUCCESS], 1, 0);
	assert_int_equal(t + 1, 17);                   /* 50 m at 30 m/s */
	assert_float_equal(b.info[I_DISTANCE], 17 * 3.0, 1e-3);
	assert_float_equal(b.info[I_SPEED], 30, 1e-4);
	assert_float_equal(b.out.reward, 0, 0);        /* alone and centred: no cost */
	bufs_free(&b);
	destroy(e);

	e = make((const char *[]){"density=0", "max_steps=5", NULL});
	bufs_init(&b, e);
	assert_int_equal(reset(e, 1, b.obs, b.info), DD_OK);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(step(e, a, &b.out), DD_OK);
		assert_false(b.out.terminated);
		assert_int_equal(b.out.truncated, i == 4);
	}
	bufs_free(&b);
	destroy(e);
}

static void expect_refused(const char *const *kv, const char *want)
{
	dd_params p = make_params(kv);
	host.err[0] = '\0';
	traffic_env *e = create(&p, &host.h);
	if (e || !strstr(host.err, want)) {
		destroy(e);
		fail_msg("wanted a refusal with '%s', got '%s'", want, host.err);
	}
}

static void test_bad_params(void **state)
{
	(void)state;
	expect_refused((const char *[]){"length=100", "ego_start=100", NULL},
	               "ego_start (100 m) must lie on the road, before length (100 m)");
	expect_refused((const char *[]){"ego_wheelbase=5", NULL},
	               "ego_wheelbase (5 m) must be shorter than ego_length (4.5 m)");
	expect_refused((const char *[]){"mode=replay", NULL},
	               "mode=replay needs trajectories=PATH");
	expect_refused((const char *[]){"mode=replay", "trajectories=" SAMPLE, "dt=0.2", NULL},
	               "mode=replay needs dt=0.1: NGSIM frames are 0.1 s apart (got dt=0.2)");
	expect_refused((const char *[]){"mode=replay", "trajectories=/nonexistent/x.txt", NULL},
	               "cannot open trajectory file /nonexistent/x.txt");
	expect_refused((const char *[]){"mode=replay", "trajectories=" SAMPLE, "ego_vehicle=999999", NULL},
	               "ego_vehicle=999999: no such vehicle");
	char path[] = "/tmp/ddtraffic_bad.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char bad[] = "1 12 884 1 16.4 35.3 0 0 14.5 4.9 2 40.00 0.00 2 0 0 0.00 0.00\n"
	                   "1 13 884 1 16.4 oops 0 0 14.5 4.9 2 40.00 0.00 2 0 0 0.00 0.00\n";
	assert_int_equal(write(fd, bad, sizeof bad - 1), (ssize_t)(sizeof bad - 1));
	close(fd);
	char arg[128];
	snprintf(arg, sizeof arg, "trajectories=%s", path);
	char want[160];
	snprintf(want, sizeof want, "%s:2: column 6 (Local_Y): 'oops' is not a number", path);
	expect_refused((const char *[]){"mode=replay", arg, NULL}, want);
	remove(path);

	/* the costs are defined on the image */
	traffic_env *e = make((const char *[]){"observation=kinematics", NULL});
	float c;
	const float *none[2] = {NULL, NULL};
	assert_int_equal(cost(e, 1, none, &c, NULL), DD_ERR);
	assert_non_null(strstr(host.err, "create the env with observation=image"));
	destroy(e);
}

/* The ABI's cost of observations equals the reward's cost, and its
** gradient w.r.t. the state's velocity matches finite differences. */
static void test_cost_through_abi(void **state)
{
	(void)state;
	traffic_env *e = make(NULL);
	bufs b;
	bufs_init(&b, e);
	assert_int_equal(reset(e, 4, b.obs, b.info), DD_OK);
	float a[2] = {0.2f, 0};
	assert_int_equal(step(e, a, &b.out), DD_OK);
	/* a car 14 m ahead of the ego, in its lane */
	tr_sim *s = &e->sim;
	tr_vehicle *ego = &s->v[s->ego];
	assert_true(ego->leader >= 0);
	s->v[ego->leader].x = ego->x + 14.3;
	tr_sim_index(s);
	observe(e, b.obs);
	size_t n_img = 4 * 117 * 24;
	float *img2 = malloc(2 * n_img * sizeof *img2), *g_img = malloc(2 * n_img * sizeof *g_img);
	float st2[10], g_st[10], c2[2];
	memcpy(img2, b.obs[0], n_img * sizeof *img2);
	memcpy(img2 + n_img, b.obs[0], n_img * sizeof *img2);
	memcpy(st2, b.obs[1], 5 * sizeof *st2);
	memcpy(st2 + 5, b.obs[1], 5 * sizeof *st2);
	st2[7] = 0; /* the second sample at standstill: no safety distance */
	st2[8] = 0;
	const float *in[2] = {img2, st2};
	float *g[2] = {g_img, g_st};
	assert_int_equal(cost(e, 2, in, c2, g), DD_OK);
	tr_costs k;
	tr_costs_eval(&e->cost, b.obs[0], hypot(b.obs[1][2], b.obs[1][3]), &k, NULL, NULL);
	assert_float_equal(c2[0], k.total, 1e-6);
	assert_true(c2[0] > 0.1f);
	assert_true(c2[1] < c2[0]);
	/* d cost / d vx by central differences on the first sample */
	float keep = st2[2], h = 0.01f, cp[2], cm[2];
	st2[2] = keep + h;
	assert_int_equal(cost(e, 2, in, cp, NULL), DD_OK);
	st2[2] = keep - h;
	assert_int_equal(cost(e, 2, in, cm, NULL), DD_OK);
	st2[2] = keep;
	double fd = ((double)cp[0] - cm[0]) / ((double)(keep + h) - (double)(keep - h));
	assert_true(fabs(g_st[2]) > 1e-3);
	assert_float_equal(g_st[2], fd, 2e-3 * fabs(fd) + 1e-5);
	assert_float_equal(g_st[0], 0, 0);
	assert_float_equal(g_st[5 + 2], 0, 0);     /* standstill: the speed does not matter */
	free(img2);
	free(g_img);
	bufs_free(&b);
	destroy(e);
}

static void test_kinematics_and_occupancy(void **state)
{
	(void)state;
	traffic_env *e = make((const char *[]){"observation=kinematics", "density=0",
	                                       "kinematics_count=3", NULL});
	bufs b;
	bufs_init(&b, e);
	assert_int_equal(reset(e, 1, b.obs, b.info), DD_OK);
	for (int i = 0; i < 15; i++)
		assert_float_equal(b.obs[0][i], 0, 0);  /* nobody around */
	/* two cars: 20 m ahead in the lane to the right, 8 m behind in the lane */
	tr_sim *s = &e->sim;
	double ex = s->v[s->ego].x, ey = s->v[s->ego].y;
	int lane = tr_lane_of(&s->cfg.road, ey);
	assert_int_equal(tr_sim_add(s, ex + 20, lane < 2 ? lane + 1 : lane - 1, 25, &s->cfg.driver, 4.5, 1.8), 0);
	assert_int_equal(tr_sim_add(s, ex - 8, lane, 28, &s->cfg.driver, 4.5, 1.8), 0);
	tr_sim_index(s);
	observe(e, b.obs);
	const float *row = b.obs[0];
	assert_float_equal(row[0], 1, 0);          /* nearest first: the one behind */
	assert_float_equal(row[1], -8, 1e-4);
	assert_float_equal(row[2], 0, 1e-4);
	assert_float_equal(row[3], 28 - 30, 1e-4);
	assert_float_equal(row[5], 1, 0);
	assert_float_equal(row[6], 20, 1e-4);
	assert_float_equal(fabs(row[7]), 3.7, 1e-4);
	assert_float_equal(row[10], 0, 0);         /* only two */
	bufs_free(&b);
	destroy(e);

	e = make((const char *[]){"observation=occupancy", "density=0", NULL});
	bufs_init(&b, e);
	assert_int_equal(reset(e, 1, b.obs, b.info), DD_OK);
	s = &e->sim;
	ex = s->v[s->ego].x;
	lane = tr_lane_of(&s->cfg.road, s->v[s->ego].y);
	assert_int_equal(tr_sim_add(s, ex + 12, lane, 25, &s->cfg.driver, 4.5, 1.8), 0);
	tr_sim_index(s);
	observe(e, b.obs);
	/* 11 x 5 cells of 5 m x one lane, centred: 12 m ahead is row 5.5 - 2.4 */
	for (int r = 0; r < 11; r++)
		for (int c = 0; c < 5; c++) {
			float want = r == 3 && c == 2;
			assert_float_equal(b.obs[0][r * 5 + c], want, 0);
			assert_float_equal(b.obs[0][55 + r * 5 + c], want ? -5 : 0, 1e-4);
		}
	bufs_free(&b);
	destroy(e);
}

/* Replay: every recorded vehicle but the ego is where the file says, at
** every frame, and the ego starts where its recording starts. */
static void test_replay_exact(void **state)
{
	(void)state;
	traffic_env *e = make((const char *[]){"mode=replay", "trajectories=" SAMPLE,
	                                       "length=200", "observation=kinematics", NULL});
	bufs b;
	bufs_init(&b, e);
	for (uint64_t seed = 1; seed <= 3; seed++) {
		assert_int_equal(reset(e, seed, b.obs, b.info), DD_OK);
		const tr_replay *r = &e->replay;
		const tr_ngsim_row *start = tr_replay_row(r, e->ego_id, e->frame);
		assert_non_null(start);
		assert_true(b.obs[1][0] == (float)start->x && b.obs[1][1] == (float)start->y);
		float a[2] = {0, 0};
		int steps = 0;
		do {
			assert_int_equal(step(e, a, &b.out), DD_OK);
			steps++;
			const tr_sim *s = &e->sim;
			int others = 0;
			for (int i = 0; i < s->n; i++) {
				const tr_vehicle *w = &s->v[i];
				if (w->kind == TR_EGO)
					continue;
				const tr_ngsim_row *row = tr_replay_row(r, w->id, e->frame);
				assert_non_null(row);
				assert_true(w->x == row->x && w->y == row->y && w->v == row->v);
				others++;
			}
			int recorded = (int)(r->first[e->frame - r->f0 + 1] - r->first[e->frame - r->f0]);
			assert_int_equal(others, recorded - (tr_replay_row(r, e->ego_id, e->frame) != NULL));
		} while (!b.out.terminated && !b.out.truncated);
		assert_true(steps > 5);
	}
	bufs_free(&b);
	destroy(e);
}

static void test_render_rgb(void **state)
{
	(void)state;
	traffic_env *e = make(NULL);
	bufs b;
	bufs_init(&b, e);
	assert_int_equal(reset(e, 2, b.obs, b.info), DD_OK);
	int w = e->spaces.render_width, h = e->spaces.render_height;
	uint8_t *rgb = malloc((size_t)w * h * 3);
	assert_int_equal(render(e, rgb), DD_OK);
	/* the ego (red) sits a third of the way along, on its lane */
	const tr_vehicle *ego = &e->sim.v[e->sim.ego];
	double margin = 0.5 * (h / RENDER_PPM - 3 * 3.7);
	int r = (int)((ego->y + margin) * RENDER_PPM), c = w / 3;
	const uint8_t *p = rgb + 3 * ((size_t)r * w + c);
	assert_true(p[0] > 200 && p[1] < 100 && p[2] < 100);
	const uint8_t *grass = rgb + 3 * (size_t)(w / 2);  /* top row: beside the road */
	assert_true(grass[1] > grass[0] && grass[1] > grass[2]);
	int cars = 0;
	for (size_t i = 0; i < (size_t)w * h; i++)
		cars += rgb[3 * i + 2] > 200 && rgb[3 * i] < 120;
	assert_true(cars > 100);  /* other vehicles in blue */
	free(rgb);
	bufs_free(&b);
	destroy(e);
}

/* The README's main job, on small settings, against the built plugins. */
static void test_main_scenario(void **state)
{
	(void)state;
	const char *dir = tu_tmpdir();
	char db[256], err[2048];
	snprintf(db, sizeof db, "%s/runs.db", dir);
	dd_registry *reg = dd_registry_new();
	dd_registry_scan_dir(reg, DD_PLUGIN_BUILD_DIR);
	const char *keys[] = {"episodes", "num_envs"}, *vals[] = {"12", "3"};
	dd_scenario_opts o = {.script = DD_SOURCE_DIR "/scenarios/traffic_random.lua",
	                      .db_path = db, .n_set = 2, .set_keys = keys, .set_vals = vals};
	int64_t run = 0;
	int rc = dd_scenario_run(&o, reg, &run, err, sizeof err);
	if (rc)
		fail_msg("%s", err);
	assert_true(tu_sql_num(db, "SELECT count(*) FROM episodes WHERE run_id = %lld", (long long)run) == 12);
	/* Each episode's last info stats: it ended one way (success, collision,
	** off-road) exactly when it was terminated, or at the step limit. */
	assert_true(tu_sql_num(db, "SELECT count(*) FROM episodes WHERE run_id = %lld AND "
	                           "json_extract(info, '$.success') + json_extract(info, '$.collision') + "
	                           "json_extract(info, '$.off_road') = terminated", (long long)run) == 12);
	assert_true(tu_sql_num(db, "SELECT avg(json_extract(info, '$.distance')) FROM episodes "
	                           "WHERE run_id = %lld", (long long)run) > 10);
	assert_true(tu_sql_num(db, "SELECT value FROM params WHERE run_id = %lld AND key = "
	                           "'traffic.density'", (long long)run) == 25);
	dd_registry_free(reg);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spaces),
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_collision),
		cmocka_unit_test(test_off_road),
		cmocka_unit_test(test_success_and_truncation),
		cmocka_unit_test(test_bad_params),
		cmocka_unit_test(test_cost_through_abi),
		cmocka_unit_test(test_kinematics_and_occupancy),
		cmocka_unit_test(test_replay_exact),
		cmocka_unit_test(test_render_rgb),
		cmocka_unit_test(test_main_scenario),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
