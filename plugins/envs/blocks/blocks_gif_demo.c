/*
** blocks_gif_demo.c -- writes an animated GIF of a falling tower with
** libdaydream's GIF writer: the README's picture (docs/blocks_falling.gif).
**
**   build/blocks_gif_demo docs/blocks_falling.gif [seed]
**
** It runs the blocks plugin's towers from the seed on until one falls
** clearly (analytic margin below -0.1 m), then replays that tower with a
** render() frame every other step (15 frames a second, real time).
*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <daydream/gif.h>

#include "paramvals.h"
#include "registry.h"

#define STEPS 75   /* 2.5 s at 30 env steps a second */

static int i_falls, i_margin;   /* positions of those info stats */

static int info_index(const dd_spaces *sp, const char *name)
{
	for (int j = 0; j < sp->n_info; j++)
		if (strcmp(sp->info_names[j], name) == 0)
			return j;
	return 0;
}

static int demo_error(dd_host *h, const char *fmt, ...)
{
	(void)h;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return DD_ERR;
}

/* Runs tower `seed` to its end; with gif, adds a frame every other step.
** Returns its falls label (1 or 0), -1 on an error; *margin gets its
** analytic stability margin. */
static int run_tower(const dd_env_vtable *vt, void *env, uint64_t seed, float **obs,
                     float *info, uint8_t *rgb, dd_gif *gif, float *margin)
{
	float action = 0;
	dd_step_out out = {.obs = obs, .info = info};
	if (vt->reset(env, seed, obs, info) != DD_OK)
		return -1;
	*margin = info[i_margin];
	for (int t = 0; t < STEPS; t++) {
		if (gif && t % 2 == 0 &&
		    (vt->render(env, rgb) != DD_OK || dd_gif_add_frame(gif, rgb) != DD_OK))
			return -1;
		if (vt->step(env, &action, &out) != DD_OK)
			return -1;
	}
	return info[i_falls] > 0.5f;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s OUT.gif [seed]\n", argv[0]);
		return 2;
	}
	uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 10) : 7;
	dd_registry *reg = dd_registry_new();
	dd_registry_scan_dir(reg, DD_PLUGIN_BUILD_DIR);
	const dd_plugin_entry *p = dd_registry_find(reg, "blocks");
	if (!p) {
		fprintf(stderr, "blocks plugin not found in %s\n", DD_PLUGIN_BUILD_DIR);
		return 1;
	}
	dd_paramvals pv;
	char err[256];
	dd_paramvals_init(&pv, "blocks", p->desc.params, p->n_params);
	dd_paramvals_set_str(&pv, "obs", "state", err, sizeof err);
	dd_paramvals_set_num(&pv, "min_blocks", 4, err, sizeof err);
	dd_paramvals_set_num(&pv, "render_scale", 3, err, sizeof err);
	dd_host host = {.size = sizeof host, .error = demo_error};
	void *env = p->env.create(&pv.params, &host);
	if (!env)
		return 1;
	const dd_spaces *sp = p->env.spaces(env);
	i_falls = info_index(sp, "falls");
	i_margin = info_index(sp, "margin");
	float state[4 * 10], info[64], margin = 0, *obs[1] = {state};
	int w = sp->render_width, h = sp->render_height;
	uint8_t *rgb = malloc((size_t)w * h * 3);
	int rc = 1;
	for (uint64_t s = seed; s < seed + 1000; s++) {
		if (run_tower(&p->env, env, s, obs, info, rgb, NULL, &margin) != 1 || margin > -0.1f)
			continue;
		dd_gif *gif = dd_gif_open(argv[1], w, h, 7, DD_GIF_ADAPTIVE, err, sizeof err);
		if (!gif) {
			fprintf(stderr, "%s\n", err);
			break;
		}
		if (run_tower(&p->env, env, s, obs, info, rgb, gif, &margin) < 0)
			fprintf(stderr, "%s\n", dd_gif_error(gif));
		else
			rc = 0;
		if (dd_gif_close(gif, NULL, NULL, err, sizeof err) != DD_OK) {
			fprintf(stderr, "%s\n", err);
			rc = 1;
		}
		if (rc == 0)
			printf("%s: tower of seed %llu, margin %.2f m, %dx%d px\n", argv[1],
			       (unsigned long long)s, margin, w, h);
		break;
	}
	free(rgb);
	p->env.destroy(env);
	dd_paramvals_free(&pv);
	dd_registry_free(reg);
	return rc;
}
