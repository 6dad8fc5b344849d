/*
** traffic.h -- the traffic environment's internal API, shared by its source
** files and its tests: road geometry, driver models (IDM, MOBIL), the ego's
** kinematic bicycle, the simulator, rendering, costs and the NGSIM reader.
**
** Frames and units. Road frame: x along the road in the direction of travel
** (metres, 0 = entrance), y across it from the left edge, positive to the
** right (as NGSIM's Local_X); lane k (0 = leftmost) spans
** [k w, (k + 1) w). Headings are radians from +x toward +y, so a positive
** steering angle turns right. A vehicle's (x, y) is its centre.
*/
#ifndef TRAFFIC_H
#define TRAFFIC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <daydream/rng.h>

#define TR_FEET 0.3048           /* metres per foot: NGSIM is in feet */
#define TR_MAX_LANES 16

/* ---- road.c ------------------------------------------------------------ */

typedef struct tr_road {
	int lanes;
	double lane_width;   /* m */
	double length;       /* m: success when the ego's centre passes it */
} tr_road;

double tr_road_width(const tr_road *r);
double tr_lane_centre(const tr_road *r, int lane);
/* Lane holding lateral position y, clamped to [0, lanes). */
int tr_lane_of(const tr_road *r, double y);
/* Lanes a footprint [y - half_width, y + half_width] reaches into by more
** than a small tolerance: writes first and last (inclusive), returns how
** many (0 when entirely off the road). */
int tr_lanes_touched(const tr_road *r, double y, double half_width, int *first,
                     int *last);
int tr_on_road(const tr_road *r, double y);

/* ---- idm.c ------------------------------------------------------------- */

/* One driver's parameters: IDM (Treiber, Hennecke & Helbing 2000) and
** MOBIL (Kesting, Treiber & Helbing 2007). */
typedef struct tr_driver {
	double v0;          /* desired speed, m/s */
	double T;           /* desired time headway, s */
	double s0;          /* minimum gap, m */
	double a;           /* maximum acceleration, m/s^2 */
	double b;           /* comfortable deceleration, m/s^2 */
	double delta;       /* acceleration exponent */
	double politeness;  /* MOBIL p */
	double threshold;   /* MOBIL lane-change threshold, m/s^2 */
	double b_safe;      /* MOBIL safe deceleration, m/s^2 */
} tr_driver;

/* IDM acceleration for speed v behind a leader at bumper-to-bumper gap s
** closing at dv = v - v_leader. A missing leader is s = INFINITY. */
double tr_idm_accel(const tr_driver *d, double v, double s, double dv);
/* The gap at which a driver keeps speed v behind a leader at the same speed
** (acceleration 0), and its inverse; for v >= v0 the gap is infinite. */
double tr_idm_equilibrium_gap(const tr_driver *d, double v);
double tr_idm_equilibrium_speed(const tr_driver *d, double s);
/* A driver drawn around base: v0, T, s0, a and b multiplied by
** (1 + variation N(0,1)) clipped to [0.5, 1.5]; politeness uniform in
** [0, 2 base.politeness]. */
tr_driver tr_driver_draw(const tr_driver *base, double variation, dd_rng *rng);

/* ---- bicycle.c --------------------------------------------------------- */

/* The kinematic bicycle model (Kong et al. 2015) about the centre of
** gravity, axles at wheelbase / 2 on either side. */
typedef struct tr_bicycle {
	double x, y, heading, v;
} tr_bicycle;

/* Advances by dt with acceleration accel (m/s^2) and front-wheel steering
** angle steer (rad); speed stays >= 0 (no reverse). Writes the velocity of
** the centre in the road frame to *vx, *vy. */
void tr_bicycle_step(tr_bicycle *s, double wheelbase, double accel, double steer,
                     double dt, double *vx, double *vy);

/* ---- geometry.c -------------------------------------------------------- */

typedef struct tr_pt {
	double x, y;
} tr_pt;

/* Corners of a rectangle centred at (x, y), heading h, in order. */
void tr_rect_corners(double x, double y, double h, double length, double width,
                     tr_pt out[4]);
/* 1 when two convex quadrilaterals overlap (separating axis test). */
int tr_quads_overlap(const tr_pt a[4], const tr_pt b[4]);
/* Clips convex polygon in (n vertices) by the half-plane
** sign * (p.x or p.y) >= sign * bound (axis 0: x, 1: y). Returns the new
** count; out holds up to n + 1 vertices. */
int tr_clip(const tr_pt *in, int n, int axis, double bound, int sign, tr_pt *out);
double tr_polygon_area(const tr_pt *p, int n);

/* ---- mobil.c ----------------------------------------------------------- */

/* The accelerations MOBIL weighs for one candidate change. */
typedef struct tr_mobil_case {
	double acc_self, acc_self_new;        /* a_c, ã_c */
	int has_new_follower;
	double acc_new_follower, acc_new_follower_new;  /* a_n, ã_n */
	int has_old_follower;
	double acc_old_follower, acc_old_follower_new;  /* a_o, ã_o */
} tr_mobil_case;

/* Safety criterion: the new follower (and the driver itself) brake no
** harder than b_safe. */
int tr_mobil_safe(const tr_driver *d, const tr_mobil_case *c);
/* Incentive: ã_c - a_c + p((ã_n - a_n) + (ã_o - a_o)) - threshold;
** a change is worth it when this is > 0. */
double tr_mobil_incentive(const tr_driver *d, const tr_mobil_case *c);

/* ---- traffic_sim.c ----------------------------------------------------- */

typedef enum tr_kind { TR_IDM = 0, TR_EGO = 1, TR_REPLAY = 2 } tr_kind;

typedef struct tr_vehicle {
	int id;
	tr_kind kind;
	double x, y;          /* centre */
	double vx, vy;        /* velocity in the road frame */
	double v;             /* speed along the heading (>= 0) */
	double heading;
	double length, width;
	double acc;           /* longitudinal acceleration of the last step */
	int lane;             /* IDM: the lane it drives in or changes to */
	int changing;         /* IDM: 1 while moving sideways to its lane */
	int leader;           /* index of the nearest vehicle ahead, or -1 */
	int slot;             /* its place in the list of lane `lane`, or -1 */
	tr_driver drv;        /* IDM and MOBIL (the ego's: for its followers' MOBIL) */
} tr_vehicle;

typedef struct tr_sim_config {
	tr_road road;
	double dt;
	double density;          /* vehicles per km per lane */
	tr_driver driver;        /* mean driver */
	double variation;        /* relative spread of drivers */
	double lane_change_time; /* s to move one lane sideways */
	double mobil_period;     /* s between MOBIL decisions of one driver */
	double length_min, length_max, width_min, width_max;  /* other vehicles, m */
} tr_sim_config;

typedef struct tr_sim {
	tr_sim_config cfg;
	int cap;                 /* vehicles the arrays hold */
	int n;
	tr_vehicle *v;           /* sorted by x, ascending, after each step */
	int *lane_list;          /* lanes x cap: indices in lane k, by x */
	int lane_count[TR_MAX_LANES];
	double spawn_time[TR_MAX_LANES]; /* when the next vehicle enters each lane (s) */
	int ego;                 /* index of the ego, or -1 */
	int next_id;
	int64_t steps;
	dd_rng rng;
	int spawn;               /* 0: no vehicles enter (replay, tests) */
} tr_sim;

/* Allocates for cap vehicles (caller frees with tr_sim_free). Returns 0, or
** -1 when out of memory. */
int tr_sim_init(tr_sim *s, const tr_sim_config *cfg, int cap);
void tr_sim_free(tr_sim *s);
/* Vehicles a road can hold at the densest spacing the sim produces. */
int tr_sim_capacity(const tr_sim_config *cfg);
/* Empties the road and seeds the random stream. */
void tr_sim_clear(tr_sim *s, uint64_t seed);
/* Fills the road at cfg.density, drivers at the speed whose equilibrium
** gap is the density's mean gap (the entrance then keeps that flow). */
void tr_sim_populate(tr_sim *s);
/* Appends one IDM vehicle centred in lane; returns 0, or -1 when full.
** Call tr_sim_index before stepping. */
int tr_sim_add(tr_sim *s, double x, int lane, double v, const tr_driver *d,
               double length, double width);
/* Removes IDM vehicles past the end of the road, re-sorts by x, and rebuilds
** lane lists and leaders (also after moving vehicles by hand). */
void tr_sim_index(tr_sim *s);
/* Bumper-to-bumper gap from follower f to leader l (negative: overlap). */
double tr_sim_gap(const tr_vehicle *f, const tr_vehicle *l);
/* One step from an indexed state: IDM accelerations and MOBIL decisions
** from the state at t, integration of every IDM vehicle, entering vehicles.
** The ego and replayed vehicles are moved by their owners between
** tr_sim_advance and tr_sim_index; tr_sim_step does both halves. */
void tr_sim_advance(tr_sim *s);
void tr_sim_step(tr_sim *s);
/* Turns the settled IDM vehicle nearest x in lane into the ego, centred in
** its lane with the given size. Returns the ego's index, or -1 if the lane
** has no settled vehicle. */
int tr_sim_take_over(tr_sim *s, double x, int lane, double length, double width);
/* 1 when vehicle i overlaps another vehicle. */
int tr_sim_collides(const tr_sim *s, int i);

/* ---- render.c ---------------------------------------------------------- */

enum { TR_CH_LANES = 0, TR_CH_VEHICLES = 1, TR_CH_OFF_ROAD = 2, TR_CH_EGO = 3,
       TR_CHANNELS = 4 };

/* The ego-centred view: H rows lengthwise (row 0 ahead), W columns
** sideways, ppm pixels per metre. */
typedef struct tr_view {
	int H, W;
	double ppm;
} tr_view;

/* The observation image (TR_CHANNELS x H x W floats in [0, 1]) centred on
** vehicle ego, its heading up: lane markings, other vehicles,
** off-road area and the ego's footprint, each shape drawn with its exact
** pixel coverage. */
void tr_render_obs(const tr_sim *s, const tr_view *view, int ego, float *img);
/* Adds a convex polygon given in pixel coordinates (x = column, y = row)
** to one H x W channel with exact area coverage, clamped to 1. */
void tr_raster_polygon(float *chan, int H, int W, const tr_pt *poly, int n);
/* A wider RGB view of the road around the ego (w x h pixels, ppm pixels per
** metre, not rotated): asphalt, markings, vehicles, the ego in red. scratch
** holds 3 w h floats. */
void tr_render_rgb(const tr_sim *s, int ego, int w, int h, double ppm, uint8_t *rgb,
                   float *scratch);

/* ---- costs.c ----------------------------------------------------------- */

typedef struct tr_cost_config {
	tr_view view;
	double ego_length, ego_width;  /* m */
	double safety_time;            /* s: PPUU's 1.5 */
	double safety_margin;          /* m: PPUU's 1 */
	double lane_margin;            /* m the lane/off-road mask extends past the footprint */
	double lane_weight, off_road_weight;
} tr_cost_config;

typedef struct tr_costs {
	double proximity, lane, off_road, total;
} tr_costs;

/* Costs of one observation (image: TR_CHANNELS x H x W; speed in m/s). When
** grad_img is not NULL it receives d(total)/d(image) (overwritten) and
** *grad_speed d(total)/d(speed). */
void tr_costs_eval(const tr_cost_config *c, const float *img, double speed,
                   tr_costs *out, float *grad_img, double *grad_speed);
/* The proximity mask's lengthwise and sideways factors for one row/column
** (exposed for tests). */
double tr_proximity_row(const tr_cost_config *c, int row, double speed);
double tr_proximity_col(const tr_cost_config *c, int col);

/* ---- ngsim.c ----------------------------------------------------------- */

/* One NGSIM trajectory row, converted to metres and the road frame. */
typedef struct tr_ngsim_row {
	int vehicle, frame, lane;   /* lane: NGSIM's Lane_ID (1 = leftmost) */
	int line;                   /* line in the file, for messages */
	double x, y;                /* centre: Local_Y - length / 2, Local_X */
	double length, width, v, acc;
} tr_ngsim_row;

typedef struct tr_ngsim {
	tr_ngsim_row *rows;
	size_t n;
} tr_ngsim;

/* Parses NGSIM trajectories: the whitespace-separated text files (18
** columns) or the CSV export (a header naming the columns; quoted fields
** allowed). name labels messages. Returns 0, or -1 with err naming the line
** and the column. Caller frees with tr_ngsim_free (also after a failure). */
int tr_ngsim_parse(const char *text, size_t len, const char *name, tr_ngsim *out,
                   char *err, size_t err_size);
int tr_ngsim_load(const char *path, tr_ngsim *out, char *err, size_t err_size);
void tr_ngsim_free(tr_ngsim *t);
/* Writes one row in the 18-column text format (feet), from a vehicle at a
** frame. */
void tr_ngsim_write_row(FILE *f, const tr_vehicle *v, int frame, int total_frames,
                        int lane_id, int preceding, int following);

/* ---- replay.c ---------------------------------------------------------- */

/* Trajectories indexed by frame: the rows of frame f are
** rows[first[f - f0] .. first[f - f0 + 1]). */
typedef struct tr_replay {
	tr_ngsim data;         /* sorted by (frame, vehicle) */
	int f0, f1;            /* first and last frame */
	size_t *first;
	int *vehicles;         /* distinct vehicle ids, ascending */
	int *v_first, *v_last; /* each vehicle's first and last frame */
	int n_vehicles;
	int max_per_frame;
} tr_replay;

/* Takes over data (sorted and indexed here). Returns 0, or -1 with err
** (duplicate rows name both lines; out of memory). */
int tr_replay_init(tr_replay *r, tr_ngsim *data, char *err, size_t err_size);
void tr_replay_free(tr_replay *r);
/* Index of vehicle id in r->vehicles, or -1. */
int tr_replay_vehicle(const tr_replay *r, int id);
/* The row of vehicle id at frame f, or NULL. */
const tr_ngsim_row *tr_replay_row(const tr_replay *r, int id, int f);
/* Puts the recorded vehicles of frame f (all but skip_id) on the road of s,
** keeping the ego, and re-indexes. Returns 0, or -1 if s is too small. */
int tr_replay_apply(const tr_replay *r, tr_sim *s, int f, int skip_id);

/* ---- observations.c ---------------------------------------------------- */

#define TR_STATE_DIM 5   /* x, y, vx, vy, heading */
#define TR_KIN_FEATURES 5

void tr_obs_state(const tr_sim *s, int ego, float *out);
/* K rows of (presence, dx, dy, dvx, dvy) of the K nearest other vehicles,
** nearest first, relative to the ego in the road frame; missing rows 0. */
void tr_obs_kinematics(const tr_sim *s, int ego, int k, float *out);
/* 3 x rows x cols: presence, dvx, dvy of vehicles whose centre falls in
** each cell; rows of cell_length metres lengthwise (row 0 ahead), columns
** one lane wide sideways, both centred on the ego. */
void tr_obs_occupancy(const tr_sim *s, int ego, int rows, int cols,
                      double cell_length, float *out);

#endif
