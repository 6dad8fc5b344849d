/*
** baselines.h -- the traffic baselines' internal API: how the idm_driver
** reads one `kinematics` + `state` observation of the traffic env as a road
** of lanes with leaders and followers (scene.c), and how it turns that into
** an action by IDM, MOBIL and a lateral controller (policy.c).
**
** Frames follow the env's (plugins/envs/traffic/traffic.h): x along the
** road, y across it from the left edge (lane k spans [k w, (k + 1) w)),
** headings in radians from +x toward +y, so positive steering turns right.
*/
#ifndef TRAFFIC_BASELINES_H
#define TRAFFIC_BASELINES_H

#include <stddef.h>

#include "traffic.h"

#define TB_MAX_CARS 64   /* the env lists at most 64 vehicles (kinematics_count) */

/* What the driver assumes about the road, the other drivers and its own
** car. Every field mirrors a parameter of the env and must match it. */
typedef struct tb_config {
	tr_road road;            /* lanes and lane_width (length is not used) */
	tr_driver driver;        /* the ego's IDM + MOBIL, and the mean other driver */
	double ego_length, ego_width, wheelbase;
	double max_accel, max_brake, max_steer;  /* the env's action scales */
	double other_length, other_width;        /* assumed size of the others */
	double lane_change_time; /* s to move one lane sideways (as the others) */
	double lateral_time;     /* s: time constant of the lateral offset loop */
	double heading_time;     /* s: time constant of the heading loop */
	double anticipation;     /* s: a car moving sideways counts in the lanes
	                         ** it reaches within this time */
} tb_config;

/* Another vehicle, as the observation shows it: lengthwise offset from the
** ego (m), absolute lateral position and velocity. */
typedef struct tb_car {
	double dx, y, vx, vy;
	int first_lane, last_lane;  /* lanes it occupies (first > last: none) */
} tb_car;

/* The ego and the vehicles around it. */
typedef struct tb_scene {
	double y, vx, vy, heading, v;  /* the ego; v is its speed */
	int lane;                      /* the lane of its centre */
	int first_lane, last_lane;     /* lanes its footprint reaches into */
	int n;
	tb_car car[TB_MAX_CARS];
} tb_scene;

/* ---- scene.c ----------------------------------------------------------- */

/* Reads one observation: kin holds k rows of (presence, dx, dy, dvx, dvy)
** relative to the ego, state (x, y, vx, vy, heading). Returns 0, or -1 with
** err saying which mirrored parameter disagrees with what is observed (a
** vehicle beyond the lanes the driver was told about). */
int tb_scene_read(const tb_config *c, const float *kin, int k, const float *state,
                  tb_scene *s, char *err, size_t err_size);
/* The nearest car ahead of the ego (its centre ahead) occupying lane, or -1. */
int tb_scene_leader(const tb_scene *s, int lane);
/* The nearest car behind the ego (its centre not ahead) occupying lane, or -1. */
int tb_scene_follower(const tb_scene *s, int lane);
/* Bumper-to-bumper gap from car f to car l, where -1 stands for the ego. */
double tb_scene_gap(const tb_config *c, const tb_scene *s, int f, int l);
/* IDM acceleration of car f (-1: the ego, with the ego's driver) behind car
** l (-2: no leader, free road); other cars drive as the mean driver. */
double tb_scene_idm(const tb_config *c, const tb_scene *s, int f, int l);

/* ---- policy.c ---------------------------------------------------------- */

/* The lane the ego drives to: its own, unless MOBIL approves a change to a
** neighbour, or a change under way is still safe. */
int tb_target_lane(const tb_config *c, const tb_scene *s);
/* IDM acceleration (m/s^2) behind the nearest leader in the lanes the ego
** occupies and the target lane. */
double tb_accel(const tb_config *c, const tb_scene *s, int target);
/* Front-wheel angle (rad) that steers the ego to the target lane's centre. */
double tb_steer(const tb_config *c, const tb_scene *s, int target);
/* The whole policy: action[0] acceleration and action[1] steering, scaled
** to [-1, 1] by the env's action scales. */
void tb_policy_act(const tb_config *c, const tb_scene *s, float action[2]);

#endif
