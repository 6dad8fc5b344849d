/*
** bench_blocks.c -- what a falling-blocks step costs, per core, on 4-block
** towers (the case): env steps with physics only (obs = "state"),
** with a rendered 64x64 observation (image, masks, state), and render()
** frames of 256x256. The reference measured in the same run is Chipmunk
** alone stepping the same towers with the same settings (what the env adds
** on top of its physics engine); PhysNet's Unreal Engine rate is quoted.
** Medians of 7 repeats after a warm-up, min and max beside them.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <chipmunk/chipmunk.h>

#include "blocks.h"
#include "paramvals.h"
#include "registry.h"
#include "run.h"   /* dd_now */

#define REPEATS 7
#define EPISODES 40
#define STEPS 90      /* 3 s at 30 env steps per second */
#define SUBSTEPS 8

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Prints the median rate with min and max, and its ratio to ref; returns
** the median. */
static double report(const char *what, double *rate, double ref)
{
	qsort(rate, REPEATS, sizeof *rate, cmp);
	double med = rate[REPEATS / 2];
	printf("  %-46s %9.0f /s  [%9.0f .. %9.0f]", what, med, rate[0], rate[REPEATS - 1]);
	if (ref > 0)
		printf("  %5.2fx Chipmunk alone", med / ref);
	printf("\n");
	return med;
}

static blocks_cfg tower_cfg(void)
{
	return (blocks_cfg){.min_blocks = 4, .max_blocks = 4, .stable_share = 0.5, .max_offset = 0.6,
	                    .width_min = 0.8, .width_max = 1.2, .height_min = 0.5, .height_max = 0.9,
	                    .density_min = 1, .density_max = 1};
}

/* The reference: the env's towers in a bare Chipmunk space with the env's
** settings (slop, iterations, friction, time step), no env around it.
** Returns physics steps of 8 substeps per second. */
static double chipmunk_alone(void)
{
	blocks_cfg c = tower_cfg();
	double t0 = dd_now();
	for (int ep = 0; ep < EPISODES; ep++) {
		dd_rng rng;
		dd_rng_seed(&rng, (uint64_t)ep + 1, 0);
		blocks_block b[BLOCKS_MAX];
		int n = blocks_draw_tower(&rng, &c, b);
		cpSpace *space = cpSpaceNew();
		cpSpaceSetGravity(space, cpv(0, -9.81));
		cpSpaceSetIterations(space, 10);
		cpSpaceSetCollisionSlop(space, 0.002);
		cpShape *floor = cpBoxShapeNew2(cpSpaceGetStaticBody(space), cpBBNew(-1000, -1, 1000, 0), 0);
		cpShapeSetFriction(floor, 0.894);
		cpSpaceAddShape(space, floor);
		cpBody *body[BLOCKS_MAX];
		cpShape *shape[BLOCKS_MAX];
		for (int i = 0; i < n; i++) {
			body[i] = cpSpaceAddBody(space, cpBodyNew(b[i].mass, cpMomentForBox(b[i].mass, b[i].w, b[i].h)));
			cpBodySetPosition(body[i], cpv(b[i].x, b[i].y));
			shape[i] = cpSpaceAddShape(space, cpBoxShapeNew(body[i], b[i].w, b[i].h, 0));
			cpShapeSetFriction(shape[i], 0.894);
		}
		for (int s = 0; s < STEPS * SUBSTEPS; s++)
			cpSpaceStep(space, 1.0 / 240);
		for (int i = 0; i < n; i++) {
			cpSpaceRemoveShape(space, shape[i]);
			cpSpaceRemoveBody(space, body[i]);
			cpShapeFree(shape[i]);
			cpBodyFree(body[i]);
		}
		cpSpaceRemoveShape(space, floor);
		cpShapeFree(floor);
		cpSpaceFree(space);
	}
	return EPISODES * STEPS / (dd_now() - t0);
}

static int bench_error(dd_host *h, const char *fmt, ...)
{
	(void)h;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return DD_ERR;
}

typedef struct env_run {
	const dd_env_vtable *vt;
	void *h;
	const dd_spaces *sp;
	float *obs[3], info[N_INFO + 2 * BLOCKS_MAX];
	uint8_t *frame;
} env_run;

static int env_open(env_run *r, const dd_plugin_entry *p, const char *obs, dd_host *host)
{
	dd_paramvals pv;
	char err[256];
	dd_paramvals_init(&pv, "blocks", p->desc.params, p->n_params);
	dd_paramvals_set_str(&pv, "obs", obs, err, sizeof err);
	dd_paramvals_set_num(&pv, "min_blocks", 4, err, sizeof err);
	dd_paramvals_set_num(&pv, "max_blocks", 4, err, sizeof err);
	r->vt = &p->env;
	r->h = r->vt->create(&pv.params, host);
	dd_paramvals_free(&pv);
	if (!r->h)
		return -1;
	r->sp = r->vt->spaces(r->h);
	for (int k = 0; k < r->sp->n_obs; k++)
		r->obs[k] = calloc(dd_tensor_spec_count(&r->sp->obs[k]), sizeof(float));
	r->frame = malloc((size_t)r->sp->render_width * r->sp->render_height * 3);
	return 0;
}

static void env_close(env_run *r)
{
	r->vt->destroy(r->h);
	for (int k = 0; k < r->sp->n_obs; k++)
		free(r->obs[k]);
	free(r->frame);
}

/* Env steps per second over whole episodes (resets included); with
** render, a render() frame after every step, counted as frames/s. */
static double env_rate(env_run *r, int render)
{
	float action = 0;
	dd_step_out out = {.obs = r->obs, .info = r->info};
	double t0 = dd_now();
	for (int ep = 0; ep < EPISODES; ep++) {
		r->vt->reset(r->h, (uint64_t)ep + 1, r->obs, r->info);
		for (int s = 0; s < STEPS; s++) {
			r->vt->step(r->h, &action, &out);
			if (render)
				r->vt->render(r->h, r->frame);
		}
	}
	return EPISODES * STEPS / (dd_now() - t0);
}

int main(void)
{
	char cpu[512] = "unknown", line[512];
	FILE *f = fopen("/proc/cpuinfo", "r");
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, "model name", 10) == 0) {
			char *c = strchr(line, ':');
			snprintf(cpu, sizeof cpu, "%s", c ? c + 2 : line);
			cpu[strcspn(cpu, "\n")] = '\0';
			break;
		}
	if (f)
		fclose(f);
	dd_registry *reg = dd_registry_new();
	dd_registry_scan_dir(reg, DD_PLUGIN_BUILD_DIR);
	const dd_plugin_entry *p = dd_registry_find(reg, "blocks");
	if (!p) {
		printf("blocks plugin not found in %s\n", DD_PLUGIN_BUILD_DIR);
		return 1;
	}
	dd_host host = {.size = sizeof host, .error = bench_error};
	env_run state, full;
	if (env_open(&state, p, "state", &host) < 0 || env_open(&full, p, "all", &host) < 0)
		return 1;
	printf("blocks: 4-block towers, %d episodes x %d steps (8 physics steps of 1/240 s each),\n"
	       "one thread; CPU: %s\n", EPISODES, STEPS, cpu);
	double ref[REPEATS], phys[REPEATS], obs[REPEATS], frames[REPEATS];
	env_rate(&state, 0);  /* warm-up; the plugin's first space hides Chipmunk's banner */
	env_rate(&full, 0);
	chipmunk_alone();
	for (int i = 0; i < REPEATS; i++) {
		ref[i] = chipmunk_alone();
		phys[i] = env_rate(&state, 0);
		obs[i] = env_rate(&full, 0);
		frames[i] = env_rate(&state, 1);
	}
	double r = report("reference: Chipmunk alone, steps", ref, 0);
	report("env steps, physics only (obs=state)", phys, r);
	report("env steps with 64x64 image+masks (obs=all)", obs, r);
	report("env steps + render() 256x256 RGB", frames, r);
	printf("  %-46s %9s /s  (quoted from the issue: \"tens of frames per second\")\n",
	       "PhysNet's data: Unreal Engine", "~30");
	printf("  targets of the issue: >= 10000 physics steps/s, >= 2000 rendered observations/s\n");
	env_close(&state);
	env_close(&full);
	dd_registry_free(reg);
	return 0;
}
