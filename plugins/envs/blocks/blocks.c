/*
** blocks.c -- the `blocks` env plugin: towers of blocks that stand or fall
** under Chipmunk2D physics, seen from the side (after PhysNet, Lerer, Gross
** and Fergus 2016). This file holds the parameter schema, create() with its
** checks, the spaces and the descriptor; the episodes are in
** blocks_episode.c, the pictures in blocks_observe.c and blocks_raster.c.
**
** The action is a box even in the passive tower mode, where it is ignored:
** the ABI asks every env for an action space.
*/
#include <stdlib.h>
#include <string.h>

#include "blocks.h"

static const dd_param_spec params[] = {
	{.name = "mode", .type = DD_PARAM_STRING, .def_str = "tower", .choices = "tower|stack",
	 .doc = "tower: a random tower falls or stands (action ignored); stack: the agent drops blocks"},
	{.name = "obs", .type = DD_PARAM_STRING, .def_str = "all", .choices = "all|state",
	 .doc = "all: image, masks and state tensors; state: the state tensor only (no rendering)"},
	{.name = "min_blocks", .type = DD_PARAM_INT, .def = 2, .min = 1, .max = BLOCKS_MAX,
	 .doc = "tower: fewest blocks in a tower"},
	{.name = "max_blocks", .type = DD_PARAM_INT, .def = 4, .min = 1, .max = BLOCKS_MAX,
	 .doc = "tower: most blocks in a tower; stack: blocks per episode; both: slots of masks and state"},
	{.name = "stable_share", .type = DD_PARAM_FLOAT, .def = 0.5, .min = 0, .max = 1,
	 .doc = "tower: share of towers drawn to be statically stable (the rest unstable)"},
	{.name = "max_offset", .type = DD_PARAM_FLOAT, .def = 0.6, .min = 0, .max = 2,
	 .doc = "tower: largest shift of a block over the one below, times their mean width"},
	{.name = "width_min", .type = DD_PARAM_FLOAT, .def = 0.8, .min = 0.05, .max = 10,
	 .doc = "narrowest block (m)"},
	{.name = "width_max", .type = DD_PARAM_FLOAT, .def = 1.2, .min = 0.05, .max = 10,
	 .doc = "widest block (m)"},
	{.name = "height_min", .type = DD_PARAM_FLOAT, .def = 0.5, .min = 0.05, .max = 10,
	 .doc = "lowest block (m)"},
	{.name = "height_max", .type = DD_PARAM_FLOAT, .def = 0.9, .min = 0.05, .max = 10,
	 .doc = "tallest block (m)"},
	{.name = "density_min", .type = DD_PARAM_FLOAT, .def = 1, .min = 0.01, .max = 1000,
	 .doc = "lightest block density (kg/m^2; mass = density x width x height)"},
	{.name = "density_max", .type = DD_PARAM_FLOAT, .def = 1, .min = 0.01, .max = 1000,
	 .doc = "heaviest block density (kg/m^2)"},
	{.name = "gravity", .type = DD_PARAM_FLOAT, .def = 9.81, .min = 0, .max = 100,
	 .doc = "downward acceleration (m/s^2)"},
	{.name = "friction", .type = DD_PARAM_FLOAT, .def = 0.8, .min = 0, .max = 2,
	 .doc = "Coulomb friction coefficient of every contact"},
	{.name = "restitution", .type = DD_PARAM_FLOAT, .def = 0, .min = 0, .max = 1,
	 .doc = "bounciness of every contact (0: none, 1: elastic)"},
	{.name = "dt", .type = DD_PARAM_FLOAT, .def = 1.0 / 240, .min = 1e-4, .max = 0.05,
	 .doc = "physics time step (s)"},
	{.name = "substeps", .type = DD_PARAM_INT, .def = 8, .min = 1, .max = 10000,
	 .doc = "tower: physics steps per env step (8 x 1/240 s: 30 env steps a second)"},
	{.name = "iterations", .type = DD_PARAM_INT, .def = 10, .min = 1, .max = 1000,
	 .doc = "contact solver iterations per physics step"},
	{.name = "max_steps", .type = DD_PARAM_INT, .def = 90, .min = 1, .max = 1e7,
	 .doc = "tower: env steps before the episode is truncated"},
	{.name = "move_threshold", .type = DD_PARAM_FLOAT, .def = 0.25, .min = 1e-3, .max = 100,
	 .doc = "a block moved (or the top dropped) more than this (m): the tower falls"},
	{.name = "image_width", .type = DD_PARAM_INT, .def = 64, .min = 8, .max = 1024,
	 .doc = "observed image width (px)"},
	{.name = "image_height", .type = DD_PARAM_INT, .def = 64, .min = 8, .max = 1024,
	 .doc = "observed image height (px)"},
	{.name = "render_scale", .type = DD_PARAM_INT, .def = 4, .min = 1, .max = 16,
	 .doc = "render() frames are this many times the image size"},
	{.name = "antialias", .type = DD_PARAM_INT, .def = 4, .min = 1, .max = 16,
	 .doc = "samples per pixel side on block edges (1: no anti-aliasing)"},
	{.name = "view", .type = DD_PARAM_FLOAT, .def = 0, .min = 0, .max = 1000,
	 .doc = "height of world shown (m); 0: fits max_blocks blocks of height_max"},
	{.name = "place_range", .type = DD_PARAM_FLOAT, .def = 2, .min = 0.01, .max = 100,
	 .doc = "stack: action -1..1 drops the block at x = -place_range..place_range (m)"},
	{.name = "rotate", .type = DD_PARAM_BOOL, .def = 0,
	 .doc = "stack: a second action component sets the block's angle"},
	{.name = "max_angle", .type = DD_PARAM_FLOAT, .def = 0.5, .min = 0, .max = 1.5708,
	 .doc = "stack: angle (rad) of a rotation action of +-1"},
	{.name = "drop_height", .type = DD_PARAM_FLOAT, .def = 0.05, .min = 0, .max = 10,
	 .doc = "stack: gap (m) between the tower's top and a released block"},
	{.name = "settle_time", .type = DD_PARAM_FLOAT, .def = 4, .min = 0.05, .max = 120,
	 .doc = "stack: longest simulated time (s) for a drop to come to rest"},
	{.name = NULL},
};

static const char *const info_names[N_INFO + 2 * BLOCKS_MAX] = {
	[INFO_FALLS] = "falls", [INFO_MOVED_MAX] = "moved_max", [INFO_TOP_DROP] = "top_drop",
	[INFO_MARGIN] = "margin", [INFO_BLOCKS] = "blocks", [INFO_HEIGHT] = "height",
	"x0", "y0", "x1", "y1", "x2", "y2", "x3", "y3", "x4", "y4", "x5", "y5", "x6", "y6",
	"x7", "y7", "x8", "y8", "x9", "y9", "x10", "y10", "x11", "y11", "x12", "y12",
	"x13", "y13", "x14", "y14", "x15", "y15",
};
_Static_assert(BLOCKS_MAX == 16, "info_names lists 16 slots");

static void read_cfg(const dd_params *p, blocks_cfg *c)
{
	c->mode = strcmp(dd_param_str(p, "mode"), "stack") == 0 ? MODE_STACK : MODE_TOWER;
	c->state_only = strcmp(dd_param_str(p, "obs"), "state") == 0;
	c->min_blocks = dd_param_int(p, "min_blocks");
	c->max_blocks = dd_param_int(p, "max_blocks");
	c->stable_share = dd_param_num(p, "stable_share");
	c->max_offset = dd_param_num(p, "max_offset");
	c->width_min = dd_param_num(p, "width_min");
	c->width_max = dd_param_num(p, "width_max");
	c->height_min = dd_param_num(p, "height_min");
	c->height_max = dd_param_num(p, "height_max");
	c->density_min = dd_param_num(p, "density_min");
	c->density_max = dd_param_num(p, "density_max");
	c->gravity = dd_param_num(p, "gravity");
	c->friction = dd_param_num(p, "friction");
	c->restitution = dd_param_num(p, "restitution");
	c->dt = dd_param_num(p, "dt");
	c->substeps = dd_param_int(p, "substeps");
	c->iterations = dd_param_int(p, "iterations");
	c->max_steps = dd_param_int(p, "max_steps");
	c->move_threshold = dd_param_num(p, "move_threshold");
	c->image_width = dd_param_int(p, "image_width");
	c->image_height = dd_param_int(p, "image_height");
	c->render_scale = dd_param_int(p, "render_scale");
	c->antialias = dd_param_int(p, "antialias");
	c->view = dd_param_num(p, "view");
	c->place_range = dd_param_num(p, "place_range");
	c->rotate = dd_param_int(p, "rotate");
	c->max_angle = dd_param_num(p, "max_angle");
	c->drop_height = dd_param_num(p, "drop_height");
	c->settle_time = dd_param_num(p, "settle_time");
}

/* Checks what the schema's bounds alone cannot: ranges given as min/max
** pairs must be ordered. DD_ERR after host->error(). */
static int check_cfg(dd_host *h, const blocks_cfg *c)
{
	struct { const char *lo, *hi; double a, b; } pairs[] = {
		{"min_blocks", "max_blocks", c->min_blocks, c->max_blocks},
		{"width_min", "width_max", c->width_min, c->width_max},
		{"height_min", "height_max", c->height_min, c->height_max},
		{"density_min", "density_max", c->density_min, c->density_max},
	};
	for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
		if (pairs[i].a > pairs[i].b)
			return h->error(h, "blocks: %s (%g) is larger than %s (%g): lower %s or raise %s",
			                pairs[i].lo, pairs[i].a, pairs[i].hi, pairs[i].b, pairs[i].lo,
			                pairs[i].hi);
	long rw = (long)c->image_width * c->render_scale, rh = (long)c->image_height * c->render_scale;
	if (rw > 4096 || rh > 4096)
		return h->error(h, "blocks: render frames of %ldx%ld px exceed 4096 per side: lower "
		                "render_scale (%d) or image_width/image_height", rw, rh, c->render_scale);
	return DD_OK;
}

static void set_spaces(blocks_env *e)
{
	const blocks_cfg *c = &e->cfg;
	dd_tensor_spec image = {.name = "image", .ndim = 3, .dims = {3, c->image_height, c->image_width}};
	dd_tensor_spec masks = {.name = "masks", .ndim = 3,
	                        .dims = {c->max_blocks, c->image_height, c->image_width}};
	dd_tensor_spec state = {.name = "state", .ndim = 2, .dims = {c->max_blocks, BLOCKS_STATE}};
	int n_obs = 0;
	if (!c->state_only) {
		e->obs_spec[n_obs++] = image;
		e->obs_spec[n_obs++] = masks;
	}
	e->obs_spec[n_obs++] = state;
	int dim = c->mode == MODE_STACK && c->rotate ? 2 : 1;
	for (int i = 0; i < dim; i++) {
		e->act_low[i] = -1;
		e->act_high[i] = 1;
	}
	e->spaces = (dd_spaces){
		.size = sizeof(dd_spaces), .n_obs = n_obs, .obs = e->obs_spec,
		.action_kind = DD_ACTION_BOX, .action_dim = dim,
		.action_low = e->act_low, .action_high = e->act_high,
		.n_info = N_INFO + 2 * c->max_blocks, .info_names = info_names,
		.render_width = c->image_width * c->render_scale,
		.render_height = c->image_height * c->render_scale,
	};
}

static void destroy(void *env)
{
	blocks_env *e = env;
	blocks_world_free(e->world);
	blocks_canvas_free(&e->obs_canvas);
	blocks_canvas_free(&e->render_canvas);
	free(e->render_planes);
	free(e);
}

static void *create(const dd_params *p, dd_host *host)
{
	blocks_env *e = calloc(1, sizeof *e);
	if (!e) {
		host->error(host, "blocks: out of memory");
		return NULL;
	}
	e->host = host;
	read_cfg(p, &e->cfg);
	if (check_cfg(host, &e->cfg) != DD_OK) {
		free(e);
		return NULL;
	}
	set_spaces(e);
	const blocks_cfg *c = &e->cfg;
	/* The default view shows the tallest tower with a fifth of headroom. */
	double view = c->view > 0 ? c->view : c->max_blocks * c->height_max / 0.75;
	int rw = e->spaces.render_width, rh = e->spaces.render_height;
	e->render_planes = malloc(3 * (size_t)rw * (size_t)rh * sizeof *e->render_planes);
	if (blocks_canvas_init(&e->obs_canvas, c->image_width, c->image_height, view, c->antialias) < 0 ||
	    blocks_canvas_init(&e->render_canvas, rw, rh, view, c->antialias) < 0 ||
	    !e->render_planes) {
		destroy(e);
		host->error(host, "blocks: out of memory for %dx%d frames", rw, rh);
		return NULL;
	}
	return e;
}

static const dd_spaces *spaces(void *env)
{
	return &((blocks_env *)env)->spaces;
}

static const dd_env_vtable vtable = {
	.size = sizeof(dd_env_vtable),
	.create = create, .spaces = spaces, .reset = blocks_reset, .step = blocks_step,
	.render = blocks_render, .destroy = destroy,
};

static const dd_plugin blocks_plugin = {
	DD_PLUGIN_HEADER,
	.name = "blocks",
	.kind = DD_KIND_ENV,
	.version = "1.0.0",
	.summary = "towers of blocks that stand or fall under Chipmunk2D physics, seen from the side",
	.params = params,
	.env = &vtable,
};

DD_EXPORT const dd_plugin *const *dd_plugin_describe(void)
{
	static const dd_plugin *const list[] = {&blocks_plugin, NULL};
	return list;
}
