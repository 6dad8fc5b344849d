/*
** blocks_observe.c -- what the env shows: the rendered image, one mask per
** block slot and the state rows (observation tensors), the info stats, and
** the larger RGB frame of render().
*/
#include <string.h>

#include "blocks.h"

/* The blocks in the world as quads to draw, in slot order. */
static int world_quads(const blocks_env *e, blocks_quad *q)
{
	int n = blocks_world_count(e->world);
	for (int i = 0; i < n; i++) {
		double p[6];
		blocks_world_pose(e->world, i, p);
		q[i] = (blocks_quad){.x = p[0], .y = p[1], .angle = p[2],
		                     .w = e->blk[i].w, .h = e->blk[i].h};
		memcpy(q[i].rgb, e->blk[i].rgb, sizeof q[i].rgb);
	}
	return n;
}

/* One row per slot: pose and velocity of blocks in the world; size and
** mass of every block of the episode (a stack's blocks to come included,
** so an agent knows what it will place next); present = 1 when in the
** world. Slots past the episode's blocks are all zero. */
static void state_rows(const blocks_env *e, float *s)
{
	int placed = blocks_world_count(e->world);
	memset(s, 0, (size_t)e->cfg.max_blocks * BLOCKS_STATE * sizeof *s);
	for (int i = 0; i < e->n_blocks; i++) {
		float *row = s + (size_t)i * BLOCKS_STATE;
		if (i < placed) {
			double p[6];
			blocks_world_pose(e->world, i, p);
			for (int k = 0; k < 6; k++)
				row[ST_X + k] = (float)p[k];
			row[ST_PRESENT] = 1;
		}
		row[ST_WIDTH] = (float)e->blk[i].w;
		row[ST_HEIGHT] = (float)e->blk[i].h;
		row[ST_MASS] = (float)e->blk[i].mass;
	}
}

void blocks_observe(blocks_env *e, float *const *obs, float *info)
{
	if (e->cfg.state_only) {
		state_rows(e, obs[0]);
	} else {
		blocks_quad q[BLOCKS_MAX];
		int n = world_quads(e, q);
		blocks_raster(&e->obs_canvas, q, n, obs[0], obs[1], e->cfg.max_blocks);
		state_rows(e, obs[2]);
	}
	info[INFO_FALLS] = (float)e->falls;
	info[INFO_MOVED_MAX] = (float)e->moved_max;
	info[INFO_TOP_DROP] = (float)e->top_drop;
	info[INFO_MARGIN] = (float)e->margin;
	info[INFO_BLOCKS] = (float)blocks_world_count(e->world);
	info[INFO_HEIGHT] = (float)blocks_world_height(e->world);
	/* Positions of every slot (0 for blocks not in the world). */
	int placed = blocks_world_count(e->world);
	for (int i = 0; i < e->cfg.max_blocks; i++) {
		double p[6] = {0};
		if (i < placed)
			blocks_world_pose(e->world, i, p);
		info[INFO_POS + 2 * i] = (float)p[0];
		info[INFO_POS + 2 * i + 1] = (float)p[1];
	}
}

int blocks_render(void *env, uint8_t *rgb)
{
	blocks_env *e = env;
	if (!e->world)
		return e->host->error(e->host, "blocks: render() before the first reset()");
	blocks_quad q[BLOCKS_MAX];
	int n = world_quads(e, q);
	blocks_raster_rgb8(&e->render_canvas, q, n, e->render_planes, rgb);
	return DD_OK;
}
