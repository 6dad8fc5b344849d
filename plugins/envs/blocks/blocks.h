/*
** blocks.h -- the parts of the falling-blocks env and what they share: the
** settings, a block's description, random towers and their analytic
** stability (blocks_layout.c), the Chipmunk2D world (blocks_world.c) and
** the anti-aliased side-view rasteriser (blocks_raster.c).
**
** World units are metres and seconds; the floor's top is y = 0, x = 0 is the
** middle of the view, angles are radians counter-clockwise.
*/
#ifndef BLOCKS_H
#define BLOCKS_H

#include <stdint.h>

#include <daydream/plugin.h>
#include <daydream/rng.h>

#define BLOCKS_MAX 16     /* block slots at most (max_blocks' bound) */
#define BLOCKS_STATE 10   /* floats per slot of the state tensor (below) */

/* State tensor, one row per slot: */
enum { ST_X, ST_Y, ST_ANGLE, ST_VX, ST_VY, ST_OMEGA, ST_WIDTH, ST_HEIGHT, ST_MASS, ST_PRESENT };

typedef enum blocks_mode { MODE_TOWER = 0, MODE_STACK = 1 } blocks_mode;

/* Every parameter of the schema, read once at create(). */
typedef struct blocks_cfg {
	blocks_mode mode;
	int state_only;                 /* obs = "state": no image, no masks */
	int min_blocks, max_blocks;
	double stable_share, max_offset;
	double width_min, width_max, height_min, height_max;
	double density_min, density_max;
	double gravity, friction, restitution, dt;
	int substeps, iterations, max_steps;
	double move_threshold;
	int image_width, image_height, render_scale, antialias;
	double view;
	double place_range, max_angle, drop_height, settle_time;
	int rotate;
} blocks_cfg;

/* One block: its size, mass, colour and the pose it starts from. */
typedef struct blocks_block {
	double w, h, mass;
	double x, y, angle;
	float rgb[3];
} blocks_block;

/* ---- blocks_layout.c: random towers and their analytic stability ---- */

/* Draws size, density and a distinct colour for blocks [0, n) (the colours
** are spread around the hue circle from a random start). */
void blocks_draw_kinds(dd_rng *rng, const blocks_cfg *cfg, blocks_block *b, int n);

/* Draws a straight tower (no rotation; block 0 on the floor, each resting
** on the one below): its height between min_blocks and max_blocks, kinds,
** and horizontal offsets. With probability stable_share it aims for a
** stable tower, else an unstable one, by redrawing offsets (a bounded
** number of times; the last draw stands if none hits the aim). Returns the
** block count. */
int blocks_draw_tower(dd_rng *rng, const blocks_cfg *cfg, blocks_block *b);

/* The static-stability margin of a straight tower: over every contact (the
** floor under block 0, block i-1 under block i), the signed distance from
** the centre of mass of the blocks above it to the nearer edge of its
** support (the overlap of the two blocks' spans; the floor supports all of
** block 0). Positive: every sub-tower stands; negative: some falls. */
double blocks_margin(const blocks_block *b, int n);

/* ---- blocks_world.c: the Chipmunk2D simulation ----------------------- */

typedef struct blocks_world blocks_world;

/* A space with gravity and a floor. NULL on out of memory. */
blocks_world *blocks_world_new(const blocks_cfg *cfg);
void blocks_world_free(blocks_world *w);
/* Adds block b at its pose, at rest. Returns its index, -1 when full. */
int blocks_world_add(blocks_world *w, const blocks_block *b);
/* Advances n physics steps of cfg->dt. */
void blocks_world_step(blocks_world *w, int n);
int blocks_world_count(const blocks_world *w);
/* x, y, angle, vx, vy, omega of block i. */
void blocks_world_pose(const blocks_world *w, int i, double pose[6]);
/* The highest point of block i. */
double blocks_world_top(const blocks_world *w, int i);
/* The highest point of any block (0 when there are none). */
double blocks_world_height(const blocks_world *w);
/* The largest linear and angular speed of any block. */
void blocks_world_speeds(const blocks_world *w, double *v, double *omega);

/* ---- blocks_raster.c: anti-aliased side views ------------------------ */

/* A rotated rectangle to draw. */
typedef struct blocks_quad {
	double x, y, angle, w, h;
	float rgb[3];
} blocks_quad;

/* A window of the world mapped to a width x height picture, with the
** per-pixel accumulators the rasteriser blends in. */
typedef struct blocks_canvas {
	int width, height, samples;     /* samples per pixel side at edges */
	double x_left, y_top, scale;    /* world -> pixel: scale px per metre */
	float *acc;                     /* 4 floats per pixel: coverage, r, g, b */
} blocks_canvas;

/* Shows view_height metres (floor line at 10 % from the bottom, x = 0 in
** the middle) at width x height pixels. 0, or -1 on out of memory. */
int blocks_canvas_init(blocks_canvas *c, int width, int height, double view_height,
                       int samples);
void blocks_canvas_free(blocks_canvas *c);

/* Draws sky, floor and the quads into image (3 x H x W planes in [0, 1]).
** masks, when not NULL, gets n_masks planes of H x W: plane i is 1 where
** quad i covers more than half of the pixel, else 0 (planes >= n are 0). */
void blocks_raster(blocks_canvas *c, const blocks_quad *q, int n, float *image,
                   float *masks, int n_masks);

/* The same picture as interleaved RGB bytes (row-major, top row first). */
void blocks_raster_rgb8(blocks_canvas *c, const blocks_quad *q, int n, float *scratch,
                        uint8_t *rgb);

/* ---- the env instance (blocks.c, blocks_episode.c, blocks_observe.c) -- */

/* Info stats: these, then each slot's position x<i>, y<i> (where the blocks
** went: an episode's last values land in the run store's episodes.info). */
enum { INFO_FALLS, INFO_MOVED_MAX, INFO_TOP_DROP, INFO_MARGIN, INFO_BLOCKS, INFO_HEIGHT,
       N_INFO, INFO_POS = N_INFO };

typedef struct blocks_env {
	dd_host *host;
	blocks_cfg cfg;
	dd_spaces spaces;
	dd_tensor_spec obs_spec[3];
	float act_low[2], act_high[2];
	blocks_world *world;
	blocks_block blk[BLOCKS_MAX];  /* the episode's blocks: kinds, start poses */
	int n_blocks;                  /* in the tower, or the stack's budget */
	int steps;
	double ref[BLOCKS_MAX][2];     /* where displacements are measured from */
	double ref_height;
	double moved_max, top_drop, margin;
	int falls;
	blocks_canvas obs_canvas, render_canvas;
	float *render_planes;          /* 3 x render size floats */
} blocks_env;

/* blocks_episode.c: reset and step of both modes. */
int blocks_reset(void *env, uint64_t seed, float *const *obs, float *info);
int blocks_step(void *env, const float *action, dd_step_out *out);

/* blocks_observe.c: the observation tensors, info and the large frame. */
void blocks_observe(blocks_env *e, float *const *obs, float *info);
int blocks_render(void *env, uint8_t *rgb);

#endif
