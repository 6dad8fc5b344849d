/*
** blocks_episode.c -- the two modes' episodes. tower: a random tower is
** built and physics runs; the agent only watches (its action is ignored).
** stack: each step drops the next block where the agent says, lets physics
** settle, and pays the gain in height; a collapse ends the episode.
*/
#include <math.h>

#include "blocks.h"

/* Stack mode: a placement has settled when every block has been slower
** than these for CALM_TIME seconds. */
#define CALM_SPEED 0.02
#define CALM_OMEGA 0.05
#define CALM_TIME 0.1

/* Remembers where every block is now: displacements count from here. */
static void mark_reference(blocks_env *e)
{
	for (int i = 0; i < blocks_world_count(e->world); i++) {
		double p[6];
		blocks_world_pose(e->world, i, p);
		e->ref[i][0] = p[0];
		e->ref[i][1] = p[1];
	}
	e->ref_height = blocks_world_height(e->world);
}

/* Largest distance a block among [0, n) moved from its reference. */
static double moved_since_reference(const blocks_env *e, int n)
{
	double m = 0;
	for (int i = 0; i < n; i++) {
		double p[6];
		blocks_world_pose(e->world, i, p);
		m = fmax(m, hypot(p[0] - e->ref[i][0], p[1] - e->ref[i][1]));
	}
	return m;
}

static int new_world(blocks_env *e)
{
	blocks_world_free(e->world);
	e->world = blocks_world_new(&e->cfg);
	return e->world ? DD_OK : e->host->error(e->host, "blocks: out of memory creating the physics space");
}

int blocks_reset(void *env, uint64_t seed, float *const *obs, float *info)
{
	blocks_env *e = env;
	dd_rng rng;
	dd_rng_seed(&rng, seed, 0);
	if (new_world(e) != DD_OK)
		return DD_ERR;
	if (e->cfg.mode == MODE_TOWER) {
		e->n_blocks = blocks_draw_tower(&rng, &e->cfg, e->blk);
		for (int i = 0; i < e->n_blocks; i++)
			if (blocks_world_add(e->world, &e->blk[i]) < 0)
				return e->host->error(e->host, "blocks: out of memory adding block %d", i);
		e->margin = blocks_margin(e->blk, e->n_blocks);
	} else {
		e->n_blocks = e->cfg.max_blocks;
		blocks_draw_kinds(&rng, &e->cfg, e->blk, e->n_blocks);
		e->margin = 0;
	}
	mark_reference(e);
	e->steps = 0;
	e->falls = 0;
	e->moved_max = e->top_drop = 0;
	blocks_observe(e, obs, info);
	return DD_OK;
}

/* Tower mode: one step of physics; the stats are maxima over the episode
** so far, and `falls` stays set once a block has moved more than the
** threshold or the top has dropped by more. */
static int step_tower(blocks_env *e, dd_step_out *out)
{
	blocks_world_step(e->world, e->cfg.substeps);
	e->steps++;
	e->moved_max = fmax(e->moved_max, moved_since_reference(e, e->n_blocks));
	e->top_drop = fmax(e->top_drop, e->ref_height - blocks_world_height(e->world));
	e->falls = e->moved_max > e->cfg.move_threshold || e->top_drop > e->cfg.move_threshold;
	out->reward = 0;
	out->terminated = 0;
	out->truncated = e->steps >= e->cfg.max_steps;
	return DD_OK;
}

/* The analytic margin of blocks [0, n) where they are now, in placement
** order (meaningful while they stand as a straight stack). */
static double current_margin(const blocks_env *e, int n)
{
	blocks_block now[BLOCKS_MAX];
	for (int k = 0; k < n; k++) {
		double p[6];
		blocks_world_pose(e->world, k, p);
		now[k] = e->blk[k];
		now[k].x = p[0];
		now[k].y = p[1];
	}
	return blocks_margin(now, n);
}

/* An action component clamped to [-1, 1]; NaN (which the host's bound
** checks should already refuse) drops at the centre, never into Chipmunk. */
static double clamp1(float a)
{
	return isnan(a) ? 0 : a < -1 ? -1 : a > 1 ? 1 : a;
}

/* Runs physics after a drop until every block has been calm for a while
** (not before the dropped block had time to land) or settle_time is up. */
static void settle(blocks_env *e)
{
	const blocks_cfg *c = &e->cfg;
	double fall = c->gravity > 0 ? sqrt(2 * (c->drop_height + 0.01) / c->gravity) : 0;
	double calm = 0;
	for (double t = 0; t < c->settle_time; t += c->dt) {
		blocks_world_step(e->world, 1);
		double v, w;
		blocks_world_speeds(e->world, &v, &w);
		calm = v < CALM_SPEED && w < CALM_OMEGA ? calm + c->dt : 0;
		if (t > fall + CALM_TIME && calm >= CALM_TIME)
			break;
	}
}

/* After a fall: the top of the blocks among [0, n) that stayed where they
** were (what still stands of the tower). */
static double standing_height(const blocks_env *e, int n)
{
	double top = 0;
	for (int k = 0; k < n; k++) {
		double p[6];
		blocks_world_pose(e->world, k, p);
		if (hypot(p[0] - e->ref[k][0], p[1] - e->ref[k][1]) <= e->cfg.move_threshold)
			top = fmax(top, blocks_world_top(e->world, k));
	}
	return top;
}

/* Stack mode: action[0] in [-1, 1] is the drop's x over +-place_range,
** action[1] (with rotate) its angle over +-max_angle. The block is
** released drop_height above the top of the tower. It "falls" when a block
** already placed moves more than move_threshold, or the new one comes to
** rest lower than on top of the tower (it slid or missed). The reward is
** the gain in standing height: the new top after a good drop, and after a
** fall the top of the blocks that did not move (0 or less). */
static int step_stack(blocks_env *e, const float *action, dd_step_out *out)
{
	int i = blocks_world_count(e->world);
	if (i >= e->n_blocks)
		return e->host->error(e->host, "blocks: step() after the stack's last block: call reset()");
	mark_reference(e);
	double before = e->ref_height;
	blocks_block b = e->blk[i];
	b.angle = e->cfg.rotate ? clamp1(action[1]) * e->cfg.max_angle : 0;
	double half_y = fabs(b.w / 2 * sin(b.angle)) + fabs(b.h / 2 * cos(b.angle));
	b.x = clamp1(action[0]) * e->cfg.place_range;
	b.y = before + e->cfg.drop_height + half_y;
	if (blocks_world_add(e->world, &b) < 0)
		return e->host->error(e->host, "blocks: out of memory adding block %d", i);
	settle(e);
	double p[6];
	blocks_world_pose(e->world, i, p);
	int missed = p[1] < before + fmin(b.w, b.h) / 2 - e->cfg.move_threshold;
	double after = blocks_world_height(e->world);
	e->moved_max = moved_since_reference(e, i);
	e->top_drop = fmax(0, before - after);
	e->falls = missed || e->moved_max > e->cfg.move_threshold;
	e->margin = current_margin(e, i + 1);
	e->steps++;
	out->reward = (float)((e->falls ? standing_height(e, i) : after) - before);
	out->terminated = e->falls;
	out->truncated = !out->terminated && i + 1 >= e->n_blocks;
	return DD_OK;
}

int blocks_step(void *env, const float *action, dd_step_out *out)
{
	blocks_env *e = env;
	if (!e->world)
		return e->host->error(e->host, "blocks: step() before the first reset()");
	int rc = e->cfg.mode == MODE_TOWER ? step_tower(e, out) : step_stack(e, action, out);
	if (rc == DD_OK)
		blocks_observe(e, out->obs, out->info);
	return rc;
}
