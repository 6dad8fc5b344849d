/*
** plugin.c -- the `traffic` environment plugin: its parameter schema, spaces,
** and the Gymnasium loop (reset, step with reward = -cost, render, the
** differentiable cost) over the simulator or a replayed NGSIM recording.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <daydream/plugin.h>

#include "traffic.h"

#define P_NUM(n, d, lo, hi, doc_) \
	{.name = n, .type = DD_PARAM_FLOAT, .def = d, .min = lo, .max = hi, .doc = doc_}
#define P_INT(n, d, lo, hi, doc_) \
	{.name = n, .type = DD_PARAM_INT, .def = d, .min = lo, .max = hi, .doc = doc_}

static const dd_param_spec params[] = {
	{.name = "observation", .type = DD_PARAM_STRING, .def_str = "image",
	 .choices = "image|kinematics|occupancy",
	 .doc = "what the ego sees besides its state: PPUU's image, K nearest vehicles, or a grid"},
	{.name = "mode", .type = DD_PARAM_STRING, .def_str = "idm", .choices = "idm|replay",
	 .doc = "other vehicles: simulated IDM/MOBIL drivers, or replayed NGSIM trajectories"},
	{.name = "trajectories", .type = DD_PARAM_STRING, .def_str = "",
	 .doc = "replay mode: NGSIM trajectory file (US-101/I-80 text or CSV export)"},
	P_INT("ego_vehicle", -1, -1, 2147483647,
	      "replay mode: Vehicle_ID the ego replaces (-1: a random one per episode)"),
	P_INT("lanes", 3, 1, TR_MAX_LANES, "lanes of the road"),
	P_NUM("lane_width", 3.7, 2.5, 6.0, "lane width (m)"),
	P_NUM("length", 500, 50, 100000, "road length (m); the ego succeeds when it gets there"),
	P_NUM("density", 25, 0, 150, "vehicles per km per lane at the start; they then enter at its steady flow"),
	P_NUM("dt", 0.1, 0.01, 1.0, "time step (s); replay needs NGSIM's 0.1"),
	P_INT("max_steps", 600, 1, 1e9, "steps before an episode is truncated"),
	P_NUM("warmup", 10, 0, 600, "seconds of traffic simulated before the ego takes over"),
	P_NUM("ego_start", 60, 0, 100000, "the ego replaces the car nearest this position (m)"),
	P_NUM("desired_speed", 30, 1, 70, "IDM v0: mean desired speed (m/s)"),
	P_NUM("time_headway", 1.5, 0.1, 10, "IDM T: desired time gap to the leader (s)"),
	P_NUM("min_gap", 2, 0, 20, "IDM s0: gap kept at standstill (m)"),
	P_NUM("idm_accel", 1.0, 0.1, 10, "IDM a: maximum acceleration (m/s^2)"),
	P_NUM("idm_decel", 1.5, 0.1, 10, "IDM b: comfortable deceleration (m/s^2)"),
	P_NUM("idm_delta", 4, 1, 10, "IDM acceleration exponent"),
	P_NUM("politeness", 0.2, 0, 2, "MOBIL p: mean weight of the other drivers' advantage"),
	P_NUM("lane_change_threshold", 0.2, 0, 5, "MOBIL: gain needed to change lanes (m/s^2)"),
	P_NUM("safe_decel", 4, 0.1, 20, "MOBIL b_safe: hardest braking a change may impose (m/s^2)"),
	P_NUM("lane_change_time", 3, 0.5, 20, "seconds to move one lane sideways"),
	P_NUM("driver_variation", 0.1, 0, 0.5, "relative spread of each driver's IDM parameters"),
	P_NUM("ego_length", 4.5, 2, 20, "ego car length (m)"),
	P_NUM("ego_width", 1.9, 1, 4, "ego car width (m)"),
	P_NUM("ego_wheelbase", 2.7, 1, 10, "ego wheelbase of the bicycle model (m)"),
	P_NUM("ego_max_accel", 3, 0.1, 20, "acceleration at action[0] = +1 (m/s^2)"),
	P_NUM("ego_max_brake", 6, 0.1, 20, "deceleration at action[0] = -1 (m/s^2)"),
	P_NUM("ego_max_steer", 0.05, 0.001, 1, "steering angle at action[1] = +1, to the right (rad)"),
	P_INT("image_height", 117, 8, 1024, "observation image rows, lengthwise (PPUU: 117)"),
	P_INT("image_width", 24, 4, 1024, "observation image columns, sideways (PPUU: 24)"),
	P_NUM("pixels_per_metre", 24.0 / 14.8, 0.1, 50,
	      "image scale; PPUU's 6 pixels per 3.7 m lane gives about +-36 m x +-2 lanes"),
	P_INT("kinematics_count", 5, 1, 64, "kinematics: nearest vehicles listed"),
	P_INT("occupancy_rows", 11, 1, 256, "occupancy: cells lengthwise"),
	P_INT("occupancy_cols", 5, 1, 64, "occupancy: cells sideways, one lane each"),
	P_NUM("occupancy_cell", 5, 0.5, 100, "occupancy: cell length (m)"),
	P_NUM("safety_time", 1.5, 0, 10, "proximity cost: safety distance per m/s of speed (s)"),
	P_NUM("safety_margin", 1, 0.01, 50, "proximity cost: safety distance at standstill (m)"),
	P_NUM("lane_margin", 0.5, 0.01, 10, "lane/off-road cost: mask reach beyond the footprint (m)"),
	P_NUM("lane_cost_weight", 0.2, 0, 100, "weight of the lane cost in the total (PPUU: 0.2)"),
	P_NUM("off_road_cost_weight", 1.0, 0, 100, "weight of the off-road cost in the total"),
	{.name = NULL},
};

static const char *const info_names[] = {
	"distance", "speed", "success", "collision", "off_road",
	"proximity_cost", "lane_cost", "off_road_cost"};
enum { I_DISTANCE, I_SPEED, I_SUCCESS, I_COLLISION, I_OFF_ROAD, I_PROXIMITY, I_LANE,
       I_OFF_ROAD_COST, N_INFO };

enum { OBS_IMAGE, OBS_KINEMATICS, OBS_OCCUPANCY };

#define RENDER_PPM 5.0
#define RENDER_WIDTH 800

typedef struct traffic_env {
	dd_host *host;
	tr_sim sim;
	tr_replay replay;
	int replay_mode;
	int *candidates;           /* replay: vehicles the ego may replace */
	int n_candidates;
	tr_cost_config cost;
	int obs_type;
	int kin_k, occ_rows, occ_cols;
	double occ_cell;
	double ego_length, ego_width, wheelbase, max_accel, max_brake, max_steer;
	double ego_start, warmup;
	int ego_vehicle, max_steps;
	/* the episode */
	dd_rng rng;
	int steps, frame, ego_id;
	double x_start;
	int64_t episodes;
	float *image;              /* the image the reward is computed from */
	float *rgb_scratch;
	dd_tensor_spec obs_spec[2];
	float act_low[2], act_high[2];
	dd_spaces spaces;
} traffic_env;

static void destroy(void *p)
{
	traffic_env *e = p;
	if (!e)
		return;
	tr_sim_free(&e->sim);
	tr_replay_free(&e->replay);
	free(e->candidates);
	free(e->image);
	free(e->rgb_scratch);
	free(e);
}

/* create()'s way out after host->error(): frees what was built. */
static void *abandon(traffic_env *e)
{
	destroy(e);
	return NULL;
}

static tr_sim_config sim_config(const dd_params *p)
{
	tr_sim_config c = {
		.road = {dd_param_int(p, "lanes"), dd_param_num(p, "lane_width"),
		         dd_param_num(p, "length")},
		.dt = dd_param_num(p, "dt"),
		.density = dd_param_num(p, "density"),
		.driver = {
			.v0 = dd_param_num(p, "desired_speed"),
			.T = dd_param_num(p, "time_headway"),
			.s0 = dd_param_num(p, "min_gap"),
			.a = dd_param_num(p, "idm_accel"),
			.b = dd_param_num(p, "idm_decel"),
			.delta = dd_param_num(p, "idm_delta"),
			.politeness = dd_param_num(p, "politeness"),
			.threshold = dd_param_num(p, "lane_change_threshold"),
			.b_safe = dd_param_num(p, "safe_decel"),
		},
		.variation = dd_param_num(p, "driver_variation"),
		.lane_change_time = dd_param_num(p, "lane_change_time"),
		.mobil_period = 1.0,
		/* NGSIM's cars: mostly 14-16 ft long, 6-7 ft wide */
		.length_min = 4.2, .length_max = 5.0, .width_min = 1.7, .width_max = 2.0,
	};
	return c;
}

/* Loads the recording and lists the vehicles recorded long enough (5 s)
** for the ego to replace. */
static int open_replay(traffic_env *e, const dd_params *p, dd_host *host)
{
	const char *path = dd_param_str(p, "trajectories");
	char err[512];
	if (!path[0])
		return host->error(host, "mode=replay needs trajectories=PATH, an NGSIM "
		                   "trajectory file (e.g. plugins/envs/traffic/data/sim_highway.txt)");
	if (fabs(dd_param_num(p, "dt") - 0.1) > 1e-9)
		return host->error(host, "mode=replay needs dt=0.1: NGSIM frames are 0.1 s apart "
		                   "(got dt=%g)", dd_param_num(p, "dt"));
	tr_ngsim data;
	if (tr_ngsim_load(path, &data, err, sizeof err) < 0) {
		tr_ngsim_free(&data);
		return host->error(host, "%s", err);
	}
	if (tr_replay_init(&e->replay, &data, err, sizeof err) < 0)
		return host->error(host, "%s: %s", path, err);
	tr_replay *r = &e->replay;
	e->candidates = malloc((size_t)r->n_vehicles * sizeof *e->candidates);
	if (!e->candidates)
		return host->error(host, "out of memory");
	for (int k = 0; k < r->n_vehicles; k++)
		if (r->v_last[k] - r->v_first[k] >= 50 &&
		    (e->ego_vehicle < 0 || r->vehicles[k] == e->ego_vehicle))
			e->candidates[e->n_candidates++] = r->vehicles[k];
	if (e->ego_vehicle >= 0 && e->n_candidates == 0)
		return host->error(host, "ego_vehicle=%d: no such vehicle recorded for 5 s or more "
		                   "in %s", e->ego_vehicle, path);
	if (e->n_candidates == 0)
		return host->error(host, "%s: no vehicle is recorded for 5 s or more; the ego "
		                   "needs one to replace", path);
	return DD_OK;
}

static void set_spaces(traffic_env *e, const dd_params *p)
{
	int H = dd_param_int(p, "image_height"), W = dd_param_int(p, "image_width");
	switch (e->obs_type) {
	case OBS_IMAGE:
		e->obs_spec[0] = (dd_tensor_spec){"image", 3, {TR_CHANNELS, H, W}};
		break;
	case OBS_KINEMATICS:
		e->obs_spec[0] = (dd_tensor_spec){"kinematics", 2, {e->kin_k, TR_KIN_FEATURES}};
		break;
	default:
		e->obs_spec[0] = (dd_tensor_spec){"occupancy", 3, {3, e->occ_rows, e->occ_cols}};
	}
	e->obs_spec[1] = (dd_tensor_spec){"state", 1, {TR_STATE_DIM}};
	e->act_low[0] = e->act_low[1] = -1;
	e->act_high[0] = e->act_high[1] = 1;
	int rh = (int)ceil((tr_road_width(&e->sim.cfg.road) + 8.0) * RENDER_PPM);
	e->spaces = (dd_spaces){
		.size = sizeof(dd_spaces),
		.n_obs = 2, .obs = e->obs_spec,
		.action_kind = DD_ACTION_BOX, .action_dim = 2,
		.action_low = e->act_low, .action_high = e->act_high,
		.n_info = N_INFO, .info_names = info_names,
		.render_width = RENDER_WIDTH, .render_height = rh + (rh & 1),
	};
}

static void *create(const dd_params *p, dd_host *host)
{
	traffic_env *e = calloc(1, sizeof *e);
	if (!e) {
		host->error(host, "out of memory");
		return NULL;
	}
	e->host = host;
	const char *obs = dd_param_str(p, "observation");
	e->obs_type = strcmp(obs, "kinematics") == 0 ? OBS_KINEMATICS
	            : strcmp(obs, "occupancy") == 0 ? OBS_OCCUPANCY : OBS_IMAGE;
	e->replay_mode = strcmp(dd_param_str(p, "mode"), "replay") == 0;
	e->kin_k = dd_param_int(p, "kinematics_count");
	e->occ_rows = dd_param_int(p, "occupancy_rows");
	e->occ_cols = dd_param_int(p, "occupancy_cols");
	e->occ_cell = dd_param_num(p, "occupancy_cell");
	e->ego_length = dd_param_num(p, "ego_length");
	e->ego_width = dd_param_num(p, "ego_width");
	e->wheelbase = dd_param_num(p, "ego_wheelbase");
	e->max_accel = dd_param_num(p, "ego_max_accel");
	e->max_brake = dd_param_num(p, "ego_max_brake");
	e->max_steer = dd_param_num(p, "ego_max_steer");
	e->ego_start = dd_param_num(p, "ego_start");
	e->warmup = dd_param_num(p, "warmup");
	e->ego_vehicle = dd_param_int(p, "ego_vehicle");
	e->max_steps = dd_param_int(p, "max_steps");
	e->cost = (tr_cost_config){
		.view = {dd_param_int(p, "image_height"), dd_param_int(p, "image_width"),
		         dd_param_num(p, "pixels_per_metre")},
		.ego_length = e->ego_length, .ego_width = e->ego_width,
		.safety_time = dd_param_num(p, "safety_time"),
		.safety_margin = dd_param_num(p, "safety_margin"),
		.lane_margin = dd_param_num(p, "lane_margin"),
		.lane_weight = dd_param_num(p, "lane_cost_weight"),
		.off_road_weight = dd_param_num(p, "off_road_cost_weight"),
	};
	tr_sim_config sc = sim_config(p);
	if (e->wheelbase >= e->ego_length) {
		host->error(host, "ego_wheelbase (%g m) must be shorter than ego_length (%g m)",
		            e->wheelbase, e->ego_length);
		return abandon(e);
	}
	if (!e->replay_mode && e->ego_start >= sc.road.length) {
		host->error(host, "ego_start (%g m) must lie on the road, before length (%g m)",
		            e->ego_start, sc.road.length);
		return abandon(e);
	}
	if (e->replay_mode && open_replay(e, p, host) != DD_OK)
		return abandon(e);
	int cap = e->replay_mode ? e->replay.max_per_frame + 2 : tr_sim_capacity(&sc);
	if (tr_sim_init(&e->sim, &sc, cap) < 0) {
		host->error(host, "out of memory for %d vehicles", cap);
		return abandon(e);
	}
	e->sim.spawn = !e->replay_mode;
	set_spaces(e, p);
	size_t img = (size_t)TR_CHANNELS * (size_t)e->cost.view.H * (size_t)e->cost.view.W;
	e->image = malloc(img * sizeof *e->image);
	e->rgb_scratch = malloc(3 * (size_t)e->spaces.render_width *
	                        (size_t)e->spaces.render_height * sizeof *e->rgb_scratch);
	if (!e->image || !e->rgb_scratch) {
		host->error(host, "out of memory");
		return abandon(e);
	}
	return e;
}

static const dd_spaces *spaces(void *p)
{
	return &((traffic_env *)p)->spaces;
}

/* The ego takes over the car nearest ego_start in a random lane after the
** warm-up, or drives alone on an empty road. */
static int reset_idm(traffic_env *e)
{
	tr_sim *s = &e->sim;
	tr_sim_populate(s);
	int warm = (int)lround(e->warmup / s->cfg.dt);
	for (int i = 0; i < warm; i++)
		tr_sim_step(s);
	int lane = (int)dd_rng_below(&e->rng, (uint64_t)s->cfg.road.lanes);
	if (tr_sim_take_over(s, e->ego_start, lane, e->ego_length, e->ego_width) >= 0)
		return DD_OK;
	/* an empty lane: the ego enters it alone at the mean desired speed */
	if (tr_sim_add(s, e->ego_start, lane, s->cfg.driver.v0, &s->cfg.driver,
	               e->ego_length, e->ego_width) < 0)
		return e->host->error(e->host, "the road is full (%d vehicles)", s->cap);
	tr_sim_index(s);
	if (tr_sim_take_over(s, e->ego_start, lane, e->ego_length, e->ego_width) < 0)
		return e->host->error(e->host, "cannot place the ego in lane %d", lane);
	return DD_OK;
}

/* The ego replaces a recorded vehicle from its first recorded frame. */
static int reset_replay(traffic_env *e)
{
	tr_replay *r = &e->replay;
	tr_sim *s = &e->sim;
	e->ego_id = e->candidates[dd_rng_below(&e->rng, (uint64_t)e->n_candidates)];
	e->frame = r->v_first[tr_replay_vehicle(r, e->ego_id)];
	const tr_ngsim_row *row = tr_replay_row(r, e->ego_id, e->frame);
	s->n = 0;
	tr_vehicle *w = &s->v[s->n++];
	memset(w, 0, sizeof *w);
	w->id = e->ego_id;
	w->kind = TR_EGO;
	w->x = row->x;
	w->y = row->y;
	w->v = w->vx = row->v;
	w->length = row->length;
	w->width = row->width;
	w->drv = s->cfg.driver;
	if (tr_replay_apply(r, s, e->frame, e->ego_id) < 0)
		return e->host->error(e->host, "frame %d holds more vehicles than expected", e->frame);
	return DD_OK;
}

/* Fills the observation tensors and renders the image the costs read. */
static void observe(traffic_env *e, float *const *obs)
{
	tr_sim *s = &e->sim;
	float *img = e->obs_type == OBS_IMAGE ? obs[0] : e->image;
	tr_render_obs(s, &e->cost.view, s->ego, img);
	if (e->obs_type == OBS_KINEMATICS)
		tr_obs_kinematics(s, s->ego, e->kin_k, obs[0]);
	else if (e->obs_type == OBS_OCCUPANCY)
		tr_obs_occupancy(s, s->ego, e->occ_rows, e->occ_cols, e->occ_cell, obs[0]);
	tr_obs_state(s, s->ego, obs[1]);
}

static int reset(void *p, uint64_t seed, float *const *obs, float *info)
{
	traffic_env *e = p;
	tr_sim_clear(&e->sim, seed);
	dd_rng_seed(&e->rng, seed, 1);
	int rc = e->replay_mode ? reset_replay(e) : reset_idm(e);
	if (rc != DD_OK)
		return rc;
	e->steps = 0;
	e->x_start = e->sim.v[e->sim.ego].x;
	observe(e, obs);
	memset(info, 0, N_INFO * sizeof *info);
	return DD_OK;
}

static double clamp1(float a)
{
	return a < -1 ? -1 : a > 1 ? 1 : a;
}

/* Moves the ego by the bicycle model under the action. */
static void drive_ego(traffic_env *e, const float *action)
{
	tr_vehicle *w = &e->sim.v[e->sim.ego];
	double a = clamp1(action[0]);
	double accel = a >= 0 ? a * e->max_accel : a * e->max_brake;
	double steer = clamp1(action[1]) * e->max_steer;
	tr_bicycle b = {w->x, w->y, w->heading, w->v};
	tr_bicycle_step(&b, e->wheelbase, accel, steer, e->sim.cfg.dt, &w->vx, &w->vy);
	w->x = b.x;
	w->y = b.y;
	w->heading = b.heading;
	w->acc = (b.v - w->v) / e->sim.cfg.dt;
	w->v = b.v;
}

static int step(void *p, const float *action, dd_step_out *out)
{
	traffic_env *e = p;
	tr_sim *s = &e->sim;
	if (e->replay_mode) {
		drive_ego(e, action);
		e->frame++;
		if (tr_replay_apply(&e->replay, s, e->frame, e->ego_id) < 0)
			return e->host->error(e->host, "frame %d holds more vehicles than expected",
			                      e->frame);
	} else {
		tr_sim_advance(s);  /* the others react to the ego as it was */
		drive_ego(e, action);
		tr_sim_index(s);
	}
	e->steps++;
	const tr_vehicle *w = &s->v[s->ego];
	int collision = tr_sim_collides(s, s->ego);
	int off_road = !tr_on_road(&s->cfg.road, w->y);
	int success = !collision && !off_road && w->x >= s->cfg.road.length;
	observe(e, out->obs);
	tr_costs c;
	const float *img = e->obs_type == OBS_IMAGE ? out->obs[0] : e->image;
	tr_costs_eval(&e->cost, img, hypot(w->vx, w->vy), &c, NULL, NULL);
	out->reward = (float)-c.total;
	out->terminated = collision || off_road || success;
	out->truncated = !out->terminated &&
	                 (e->steps >= e->max_steps || (e->replay_mode && e->frame >= e->replay.f1));
	float *info = out->info;
	info[I_DISTANCE] = (float)(w->x - e->x_start);
	info[I_SPEED] = (float)w->v;
	info[I_SUCCESS] = (float)success;
	info[I_COLLISION] = (float)collision;
	info[I_OFF_ROAD] = (float)off_road;
	info[I_PROXIMITY] = (float)c.proximity;
	info[I_LANE] = (float)c.lane;
	info[I_OFF_ROAD_COST] = (float)c.off_road;
	if (out->terminated || out->truncated)
		e->episodes++;
	return DD_OK;
}

static int render(void *p, uint8_t *rgb)
{
	traffic_env *e = p;
	tr_render_rgb(&e->sim, e->sim.ego, e->spaces.render_width, e->spaces.render_height,
	              RENDER_PPM, rgb, e->rgb_scratch);
	return DD_OK;
}

/* The costs of a batch of (image, state) observations, real or predicted;
** the gradient reaches the image and, through the speed, the velocity. */
static int cost(void *p, int batch, const float *const *obs, float *cost_out,
                float *const *grad)
{
	traffic_env *e = p;
	if (e->obs_type != OBS_IMAGE)
		return e->host->error(e->host, "cost() reads the observation image: create the "
		                      "env with observation=image (it has observation=%s)",
		                      e->obs_type == OBS_KINEMATICS ? "kinematics" : "occupancy");
	size_t img = dd_tensor_spec_count(&e->obs_spec[0]);
	for (int b = 0; b < batch; b++) {
		const float *st = obs[1] + (size_t)b * TR_STATE_DIM;
		double vx = st[2], vy = st[3], speed = hypot(vx, vy);
		tr_costs c;
		double gs = 0;
		tr_costs_eval(&e->cost, obs[0] + (size_t)b * img, speed, &c,
		              grad ? grad[0] + (size_t)b * img : NULL, grad ? &gs : NULL);
		cost_out[b] = (float)c.total;
		if (grad) {
			float *g = grad[1] + (size_t)b * TR_STATE_DIM;
			memset(g, 0, TR_STATE_DIM * sizeof *g);
			if (speed > 0) {
				g[2] = (float)(gs * vx / speed);
				g[3] = (float)(gs * vy / speed);
			}
		}
	}
	return DD_OK;
}

static const dd_env_vtable vtable = {
	.size = sizeof(dd_env_vtable),
	.create = create, .spaces = spaces, .reset = reset, .step = step,
	.render = render, .cost = cost, .destroy = destroy,
};

static const dd_plugin traffic_plugin = {
	DD_PLUGIN_HEADER,
	.name = "traffic",
	.kind = DD_KIND_ENV,
	.version = "1.0.0",
	.summary = "highway traffic (IDM + MOBIL or NGSIM replay), PPUU image and costs",
	.params = params,
	.env = &vtable,
};

DD_EXPORT const dd_plugin *const *dd_plugin_describe(void)
{
	static const dd_plugin *const list[] = {&traffic_plugin, NULL};
	return list;
}
