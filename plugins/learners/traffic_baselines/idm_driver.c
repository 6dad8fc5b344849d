/*
** idm_driver.c -- the `idm_driver` learner: the traffic env's rule-based
** baseline, which drives the ego as the env drives every other car (IDM for
** speed, MOBIL for lane changes), from the observations any learner gets
** (`observation = "kinematics"` and the state vector), and steers to the
** target lane's centre. It knows the env only through its parameters, which
** mirror the env's (same names) and must be given the same values.
*/
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <daydream/plugin.h>

#include "baselines.h"

#define P_NUM(n, d, lo, hi, doc_) \
	{.name = n, .type = DD_PARAM_FLOAT, .def = d, .min = lo, .max = hi, .doc = doc_}

/* Names, defaults and bounds are the env's (plugins/envs/traffic/plugin.c),
** so one Lua table of road and driver settings can configure both. */
const dd_param_spec tb_idm_driver_params[] = {
	{.name = "lanes", .type = DD_PARAM_INT, .def = 3, .min = 1, .max = TR_MAX_LANES,
	 .doc = "lanes of the road (must match the env's)"},
	P_NUM("lane_width", 3.7, 2.5, 6.0, "lane width, m (must match the env's)"),
	P_NUM("desired_speed", 30, 1, 70, "IDM v0 of the ego and the assumed mean driver, m/s (env's)"),
	P_NUM("time_headway", 1.5, 0.1, 10, "IDM T: desired time gap to the leader, s (env's)"),
	P_NUM("min_gap", 2, 0, 20, "IDM s0: gap kept at standstill, m (env's)"),
	P_NUM("idm_accel", 1.0, 0.1, 10, "IDM a: maximum acceleration, m/s^2 (env's)"),
	P_NUM("idm_decel", 1.5, 0.1, 10, "IDM b: comfortable deceleration, m/s^2 (env's)"),
	P_NUM("idm_delta", 4, 1, 10, "IDM acceleration exponent (env's)"),
	P_NUM("politeness", 0.2, 0, 2, "MOBIL p: weight of the other drivers' advantage (env's)"),
	P_NUM("lane_change_threshold", 0.2, 0, 5, "MOBIL: gain needed to change lanes, m/s^2 (env's)"),
	P_NUM("safe_decel", 4, 0.1, 20, "MOBIL b_safe: hardest braking a change may impose, m/s^2 (env's)"),
	P_NUM("lane_change_time", 3, 0.5, 20, "seconds to move one lane sideways, at most (env's)"),
	P_NUM("ego_length", 4.5, 2, 20, "ego car length, m (must match the env's)"),
	P_NUM("ego_width", 1.9, 1, 4, "ego car width, m (must match the env's)"),
	P_NUM("ego_wheelbase", 2.7, 1, 10, "ego wheelbase of the bicycle model, m (must match the env's)"),
	P_NUM("ego_max_accel", 3, 0.1, 20, "env's acceleration at action[0] = +1, m/s^2 (must match)"),
	P_NUM("ego_max_brake", 6, 0.1, 20, "env's deceleration at action[0] = -1, m/s^2 (must match)"),
	P_NUM("ego_max_steer", 0.05, 0.001, 1, "env's steering angle at action[1] = +1, rad (must match)"),
	P_NUM("other_length", 5.0, 1, 20, "assumed length of the other vehicles, m (env: 4.2-5.0)"),
	P_NUM("other_width", 2.0, 0.5, 4, "assumed width of the other vehicles, m (env: 1.7-2.0)"),
	P_NUM("lateral_time", 1.0, 0.1, 10, "time constant of the return to the lane centre, s"),
	P_NUM("heading_time", 0.3, 0.05, 5, "time constant of the heading loop, s (>= 2 env steps)"),
	P_NUM("anticipation", 1.0, 0, 5,
	      "a car moving sideways counts in the lanes it reaches within this time, s"),
	{.name = NULL},
};

typedef struct idm_driver {
	dd_host *host;
	tb_config cfg;
	int k;            /* vehicles listed in the kinematics observation */
	tb_scene scene;   /* scratch: one sample's scene */
} idm_driver;

/* The field of tb_config each real-valued parameter sets. */
static const struct {
	const char *name;
	size_t offset;
} fields[] = {
	{"lane_width", offsetof(tb_config, road.lane_width)},
	{"desired_speed", offsetof(tb_config, driver.v0)},
	{"time_headway", offsetof(tb_config, driver.T)},
	{"min_gap", offsetof(tb_config, driver.s0)},
	{"idm_accel", offsetof(tb_config, driver.a)},
	{"idm_decel", offsetof(tb_config, driver.b)},
	{"idm_delta", offsetof(tb_config, driver.delta)},
	{"politeness", offsetof(tb_config, driver.politeness)},
	{"lane_change_threshold", offsetof(tb_config, driver.threshold)},
	{"safe_decel", offsetof(tb_config, driver.b_safe)},
	{"lane_change_time", offsetof(tb_config, lane_change_time)},
	{"ego_length", offsetof(tb_config, ego_length)},
	{"ego_width", offsetof(tb_config, ego_width)},
	{"ego_wheelbase", offsetof(tb_config, wheelbase)},
	{"ego_max_accel", offsetof(tb_config, max_accel)},
	{"ego_max_brake", offsetof(tb_config, max_brake)},
	{"ego_max_steer", offsetof(tb_config, max_steer)},
	{"other_length", offsetof(tb_config, other_length)},
	{"other_width", offsetof(tb_config, other_width)},
	{"lateral_time", offsetof(tb_config, lateral_time)},
	{"heading_time", offsetof(tb_config, heading_time)},
	{"anticipation", offsetof(tb_config, anticipation)},
};

static tb_config read_config(const dd_params *p)
{
	tb_config c = {.road = {.lanes = dd_param_int(p, "lanes")}};
	for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
		*(double *)((char *)&c + fields[i].offset) = dd_param_num(p, fields[i].name);
	return c;
}

/* The driver reads the traffic env's kinematics table and state vector,
** and answers with its 2-D (acceleration, steering) box. */
static int check_env(dd_host *host, const dd_spaces *env)
{
	if (env->n_obs != 2 || strcmp(env->obs[0].name, "kinematics") != 0 ||
	    strcmp(env->obs[1].name, "state") != 0)
		return host->error(host, "needs the traffic env's `kinematics` and `state` observations: "
		                   "create the env with observation = \"kinematics\" "
		                   "(it shows %d tensor(s), the first named '%s')", env->n_obs,
		                   env->n_obs > 0 ? env->obs[0].name : "");
	if (env->obs[0].ndim != 2 || env->obs[0].dims[1] != TR_KIN_FEATURES ||
	    env->obs[0].dims[0] < 1 || env->obs[0].dims[0] > TB_MAX_CARS)
		return host->error(host, "the kinematics observation must be K x %d "
		                   "with K in 1..%d", TR_KIN_FEATURES, TB_MAX_CARS);
	if (env->obs[1].ndim != 1 || env->obs[1].dims[0] != TR_STATE_DIM)
		return host->error(host, "the state observation must hold %d floats "
		                   "(x, y, vx, vy, heading)", TR_STATE_DIM);
	if (env->action_kind != DD_ACTION_BOX || env->action_dim != 2)
		return host->error(host, "acts with (acceleration, steering): the env's action "
		                   "must be a 2-D box");
	return DD_OK;
}

static void *create(const dd_params *p, dd_host *host, const dd_spaces *env)
{
	if (check_env(host, env) != DD_OK)
		return NULL;
	tb_config c = read_config(p);
	if (c.wheelbase >= c.ego_length) {
		host->error(host, "ego_wheelbase (%g m) must be shorter than ego_length (%g m), "
		            "as the env requires", c.wheelbase, c.ego_length);
		return NULL;
	}
	idm_driver *d = calloc(1, sizeof *d);
	if (!d) {
		host->error(host, "out of memory");
		return NULL;
	}
	d->host = host;
	d->cfg = c;
	d->k = env->obs[0].dims[0];
	/* MOBIL needs the leader and follower in three lanes: with fewer than
	** six vehicles listed, one of them may be left out of view */
	if (d->k < 6 && host->log_message)
		host->log_message(host, DD_LOG_WARN, "kinematics_count < 6 may hide a leader or "
		                  "follower from MOBIL; 8 or more is safer");
	return d;
}

static int act(void *learner, int batch, const float *const *obs, float *action)
{
	idm_driver *d = learner;
	char err[256];
	for (int b = 0; b < batch; b++) {
		const float *kin = obs[0] + (size_t)b * (size_t)d->k * TR_KIN_FEATURES;
		const float *state = obs[1] + (size_t)b * TR_STATE_DIM;
		if (tb_scene_read(&d->cfg, kin, d->k, state, &d->scene, err, sizeof err) < 0)
			return d->host->error(d->host, "sample %d: %s", b, err);
		tb_policy_act(&d->cfg, &d->scene, action + 2 * (size_t)b);
	}
	return DD_OK;
}

/* The descriptor is in plugin.c; the driver keeps no state between calls
** (it decides from each observation alone), so free() destroys it. */
const dd_learner_vtable tb_idm_driver_vtable = {
	.size = sizeof(dd_learner_vtable),
	.create = create, .act = act, .destroy = free,
};
