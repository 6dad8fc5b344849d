/*
** blocks_world.c -- the rigid-body side of the env, on Chipmunk2D: a space
** with gravity, a static floor, and box bodies. A fresh space per episode
** keeps episodes independent (no cached contacts carry over), which is what
** makes the same seed give the same trajectory.
*/
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <chipmunk/chipmunk.h>

#include "blocks.h"

/* Chipmunk lets shapes overlap by this much before pushing them apart; its
** default (0.1) suits pixel units, not metre-sized blocks. */
#define COLLISION_SLOP 0.002
#define FLOOR_HALF_WIDTH 1000.0

struct blocks_world {
	cpSpace *space;
	cpShape *floor;
	cpBody *body[BLOCKS_MAX];
	cpShape *shape[BLOCKS_MAX];
	double half_w[BLOCKS_MAX], half_h[BLOCKS_MAX];
	int n;
	double dt, friction, restitution;
};

/* Debian builds Chipmunk with its debug checks on, and its first
** cpSpaceInit() then printf()s a banner to stdout, which a plugin must never
** write to (the host's stdout belongs to the scenario). So the first space
** of the process is made with stdout pointed at /dev/null. */
static void init_chipmunk_quietly(void)
{
	fflush(stdout);
	int saved = dup(STDOUT_FILENO);
	int null = open("/dev/null", O_WRONLY);
	if (saved >= 0 && null >= 0 && dup2(null, STDOUT_FILENO) >= 0) {
		cpSpaceFree(cpSpaceNew());
		fflush(stdout);
		dup2(saved, STDOUT_FILENO);
	}
	if (null >= 0)
		close(null);
	if (saved >= 0)
		close(saved);
}

blocks_world *blocks_world_new(const blocks_cfg *cfg)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, init_chipmunk_quietly);
	blocks_world *w = calloc(1, sizeof *w);
	if (!w)
		return NULL;
	w->dt = cfg->dt;
	/* Chipmunk multiplies the two shapes' coefficients at a contact: square
	** roots make block-on-block and block-on-floor contacts get exactly the
	** friction and restitution asked for. */
	w->friction = sqrt(cfg->friction);
	w->restitution = sqrt(cfg->restitution);
	w->space = cpSpaceNew();
	if (!w->space) {
		free(w);
		return NULL;
	}
	cpSpaceSetGravity(w->space, cpv(0, -cfg->gravity));
	cpSpaceSetIterations(w->space, cfg->iterations);
	cpSpaceSetCollisionSlop(w->space, COLLISION_SLOP);
	cpBody *ground = cpSpaceGetStaticBody(w->space);
	w->floor = cpBoxShapeNew2(ground, cpBBNew(-FLOOR_HALF_WIDTH, -1.0, FLOOR_HALF_WIDTH, 0.0), 0);
	if (!w->floor) {
		blocks_world_free(w);
		return NULL;
	}
	cpShapeSetFriction(w->floor, w->friction);
	cpShapeSetElasticity(w->floor, w->restitution);
	cpSpaceAddShape(w->space, w->floor);
	return w;
}

void blocks_world_free(blocks_world *w)
{
	if (!w)
		return;
	for (int i = 0; i < w->n; i++) {
		cpSpaceRemoveShape(w->space, w->shape[i]);
		cpSpaceRemoveBody(w->space, w->body[i]);
		cpShapeFree(w->shape[i]);
		cpBodyFree(w->body[i]);
	}
	if (w->floor) {
		cpSpaceRemoveShape(w->space, w->floor);
		cpShapeFree(w->floor);
	}
	cpSpaceFree(w->space);
	free(w);
}

int blocks_world_add(blocks_world *w, const blocks_block *b)
{
	if (w->n >= BLOCKS_MAX)
		return -1;
	cpBody *body = cpBodyNew(b->mass, cpMomentForBox(b->mass, b->w, b->h));
	if (!body)
		return -1;
	cpShape *shape = cpBoxShapeNew(body, b->w, b->h, 0);
	if (!shape) {
		cpBodyFree(body);
		return -1;
	}
	cpBodySetPosition(body, cpv(b->x, b->y));
	cpBodySetAngle(body, b->angle);
	cpShapeSetFriction(shape, w->friction);
	cpShapeSetElasticity(shape, w->restitution);
	cpSpaceAddBody(w->space, body);
	cpSpaceAddShape(w->space, shape);
	w->body[w->n] = body;
	w->shape[w->n] = shape;
	w->half_w[w->n] = b->w / 2;
	w->half_h[w->n] = b->h / 2;
	return w->n++;
}

void blocks_world_step(blocks_world *w, int n)
{
	for (int i = 0; i < n; i++)
		cpSpaceStep(w->space, w->dt);
}

int blocks_world_count(const blocks_world *w)
{
	return w->n;
}

void blocks_world_pose(const blocks_world *w, int i, double pose[6])
{
	cpVect p = cpBodyGetPosition(w->body[i]), v = cpBodyGetVelocity(w->body[i]);
	pose[0] = p.x;
	pose[1] = p.y;
	pose[2] = cpBodyGetAngle(w->body[i]);
	pose[3] = v.x;
	pose[4] = v.y;
	pose[5] = cpBodyGetAngularVelocity(w->body[i]);
}

double blocks_world_top(const blocks_world *w, int i)
{
	double a = cpBodyGetAngle(w->body[i]);
	return cpBodyGetPosition(w->body[i]).y + fabs(w->half_w[i] * sin(a)) +
	       fabs(w->half_h[i] * cos(a));
}

double blocks_world_height(const blocks_world *w)
{
	double top = 0;
	for (int i = 0; i < w->n; i++)
		top = fmax(top, blocks_world_top(w, i));
	return top;
}

void blocks_world_speeds(const blocks_world *w, double *v, double *omega)
{
	*v = *omega = 0;
	for (int i = 0; i < w->n; i++) {
		double s = cpvlength(cpBodyGetVelocity(w->body[i]));
		double a = fabs(cpBodyGetAngularVelocity(w->body[i]));
		*v = fmax(*v, s);
		*omega = fmax(*omega, a);
	}
}
