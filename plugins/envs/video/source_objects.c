/*
** source_objects.c -- rotating objects: a shaded cube, pyramid or sphere
** turning about a random axis under a fixed light, drawn by a small
** software rasteriser (orthographic view, z-buffer, Lambert shading) -- the
** analogue of the rotating faces of Lotter et al.'s PredNet experiments.
** Info: "angle", the rotation about the axis in [0, 2 pi) (the latent a
** representation can be probed for), and "shape" (0 cube, 1 pyramid,
** 2 sphere).
*/
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daydream/rng.h"
#include "mesh.h"
#include "video.h"

#define AMBIENT 0.25f

/* The light comes from the upper right, in front (unit vector). */
static const float light[3] = {0.4242641f, 0.5656854f, 0.7071068f};

static const char *info_names[] = {"angle", "shape"};

typedef struct objects {
	int w, h, c;
	int fixed_shape;         /* -1: a random shape per clip */
	double spin;
	mesh meshes[OBJ_COUNT];
	int shape, t;
	double axis[3], angle0;
	double base[9];          /* the random orientation the spin starts from */
	float *zbuf;             /* h x w */
	float (*view)[3];        /* rotated vertices, and rotated normals of a smooth mesh */
	float (*vnorm)[3];
} objects;

/* Rotation by angle a about unit axis u (Rodrigues), row-major 3 x 3. */
static void rotation(const double *u, double a, double *r)
{
	double c = cos(a), s = sin(a), k = 1 - c;
	r[0] = c + u[0] * u[0] * k;
	r[1] = u[0] * u[1] * k - u[2] * s;
	r[2] = u[0] * u[2] * k + u[1] * s;
	r[3] = u[1] * u[0] * k + u[2] * s;
	r[4] = c + u[1] * u[1] * k;
	r[5] = u[1] * u[2] * k - u[0] * s;
	r[6] = u[2] * u[0] * k - u[1] * s;
	r[7] = u[2] * u[1] * k + u[0] * s;
	r[8] = c + u[2] * u[2] * k;
}

static void matmul(const double *a, const double *b, double *out)
{
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			out[3 * i + j] = a[3 * i] * b[j] + a[3 * i + 1] * b[3 + j] + a[3 * i + 2] * b[6 + j];
}

static void random_axis(dd_rng *rng, double *u)
{
	double z = 2 * dd_rng_uniform_double(rng) - 1, phi = 2 * M_PI * dd_rng_uniform_double(rng);
	double rho = sqrt(1 - z * z);
	u[0] = rho * cos(phi);
	u[1] = rho * sin(phi);
	u[2] = z;
}

static void apply(const double *r, const float *p, float *out)
{
	for (int i = 0; i < 3; i++)
		out[i] = (float)(r[3 * i] * p[0] + r[3 * i + 1] * p[1] + r[3 * i + 2] * p[2]);
}

static double angle_at(const objects *s, int t)
{
	/* From t directly rather than accumulated: no drift over long clips. */
	double a = fmod(s->angle0 + s->spin * t, 2 * M_PI);
	return a < 0 ? a + 2 * M_PI : a;
}

static int begin(void *self, uint64_t seed, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	objects *s = self;
	dd_rng rng;
	dd_rng_seed(&rng, seed, 0);
	s->shape = s->fixed_shape >= 0 ? s->fixed_shape : (int)dd_rng_below(&rng, OBJ_COUNT);
	random_axis(&rng, s->axis);
	double u[3];
	random_axis(&rng, u);
	rotation(u, 2 * M_PI * dd_rng_uniform_double(&rng), s->base);
	s->angle0 = 2 * M_PI * dd_rng_uniform_double(&rng);
	s->t = 0;
	return DD_OK;
}

static float edge(const float *a, const float *b, float px, float py)
{
	return (b[0] - a[0]) * (py - a[1]) - (b[1] - a[1]) * (px - a[0]);
}

static float lambert(const float *n)
{
	float len = sqrtf(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
	float d = len > 0 ? (n[0] * light[0] + n[1] * light[1] + n[2] * light[2]) / len : 0;
	return AMBIENT + (1 - AMBIENT) * (d > 0 ? d : 0);
}

/* Writes one shaded pixel: RGB, or its luma (BT.601 weights) in gray. */
static void shade(const objects *s, float *frame, int x, int y, const float *albedo, float li)
{
	size_t hw = (size_t)s->w * s->h, at = (size_t)y * s->w + x;
	if (s->c == 1) {
		frame[at] = li * (0.299f * albedo[0] + 0.587f * albedo[1] + 0.114f * albedo[2]);
		return;
	}
	for (int ch = 0; ch < 3; ch++)
		frame[ch * hw + at] = li * albedo[ch];
}

/* Fills the triangle's pixels whose centres it covers and which are nearer
** than what is drawn (z grows toward the viewer). */
static void raster(objects *s, const mesh *m, int k, const float scr[3][3], float *frame)
{
	float area = edge(scr[0], scr[1], scr[2][0], scr[2][1]);
	if (area >= 0) /* screen y points down: front faces wind negatively */
		return;
	float fx0 = fminf(scr[0][0], fminf(scr[1][0], scr[2][0]));
	float fx1 = fmaxf(scr[0][0], fmaxf(scr[1][0], scr[2][0]));
	float fy0 = fminf(scr[0][1], fminf(scr[1][1], scr[2][1]));
	float fy1 = fmaxf(scr[0][1], fmaxf(scr[1][1], scr[2][1]));
	int x0 = (int)fmaxf(0, floorf(fx0)), x1 = (int)fminf((float)s->w - 1, ceilf(fx1));
	int y0 = (int)fmaxf(0, floorf(fy0)), y1 = (int)fminf((float)s->h - 1, ceilf(fy1));
	const int *t = m->tri[k];
	const float inv_area = 1 / area;
	float flat = 0;
	if (!m->smooth) {
		const float *a = s->view[t[0]], *b = s->view[t[1]], *c = s->view[t[2]];
		float n[3] = {(b[1] - a[1]) * (c[2] - a[2]) - (b[2] - a[2]) * (c[1] - a[1]),
		              (b[2] - a[2]) * (c[0] - a[0]) - (b[0] - a[0]) * (c[2] - a[2]),
		              (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])};
		flat = lambert(n);
	}
	for (int y = y0; y <= y1; y++)
		for (int x = x0; x <= x1; x++) {
			float px = x + 0.5f, py = y + 0.5f;
			/* area < 0: a centre inside has every edge function <= 0 */
			float e0 = edge(scr[1], scr[2], px, py), e1 = edge(scr[2], scr[0], px, py);
			float e2 = edge(scr[0], scr[1], px, py);
			if (e0 > 0 || e1 > 0 || e2 > 0)
				continue;
			float w0 = e0 * inv_area, w1 = e1 * inv_area, w2 = e2 * inv_area;
			float z = w0 * scr[0][2] + w1 * scr[1][2] + w2 * scr[2][2];
			float *zb = &s->zbuf[(size_t)y * s->w + x];
			if (z <= *zb)
				continue;
			*zb = z;
			float li = flat;
			if (m->smooth) {
				float n[3];
				for (int i = 0; i < 3; i++)
					n[i] = w0 * s->vnorm[t[0]][i] + w1 * s->vnorm[t[1]][i] + w2 * s->vnorm[t[2]][i];
				li = lambert(n);
			}
			shade(s, frame, x, y, m->albedo[k], li);
		}
}

static void render(objects *s, float *frame)
{
	const mesh *m = &s->meshes[s->shape];
	double spin[9], r[9];
	rotation(s->axis, angle_at(s, s->t), spin);
	matmul(spin, s->base, r);
	for (int i = 0; i < m->nv; i++) {
		apply(r, m->pos[i], s->view[i]);
		if (m->smooth) /* a sphere's normal is its position */
			memcpy(s->vnorm[i], s->view[i], sizeof s->vnorm[i]);
	}
	memset(frame, 0, sizeof(float) * (size_t)s->c * s->w * s->h);
	for (size_t i = 0; i < (size_t)s->w * s->h; i++)
		s->zbuf[i] = -FLT_MAX;
	float scale = 0.47f * (float)(s->w < s->h ? s->w : s->h) / m->radius;
	for (int k = 0; k < m->nt; k++) {
		float scr[3][3];
		for (int v = 0; v < 3; v++) {
			const float *p = s->view[m->tri[k][v]];
			scr[v][0] = 0.5f * s->w + scale * p[0];
			scr[v][1] = 0.5f * s->h - scale * p[1];
			scr[v][2] = p[2];
		}
		raster(s, m, k, scr, frame);
	}
}

static int next(void *self, float *frame, float *info, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	objects *s = self;
	render(s, frame);
	info[0] = (float)angle_at(s, s->t);
	info[1] = (float)s->shape;
	s->t++;
	return DD_OK;
}

static void destroy(void *self)
{
	objects *s = self;
	if (!s)
		return;
	for (int i = 0; i < OBJ_COUNT; i++)
		mesh_free(&s->meshes[i]);
	free(s->zbuf);
	free(s->view);
	free(s->vnorm);
	free(s);
}

int objects_open(const vconfig *cfg, vsource *out, char *err, size_t errlen)
{
	if (cfg->width < 1 || cfg->height < 1) {
		snprintf(err, errlen, "width and height must be at least 1 for source 'objects', "
		         "got %dx%d (0 means the file's own size, which only files have)",
		         cfg->width, cfg->height);
		return DD_ERR;
	}
	objects *s = calloc(1, sizeof *s);
	int ok = s != NULL;
	int max_nv = 0;
	for (int i = 0; ok && i < OBJ_COUNT; i++) {
		ok = mesh_build(&s->meshes[i], i) == 0;
		if (ok && s->meshes[i].nv > max_nv)
			max_nv = s->meshes[i].nv;
	}
	if (ok) {
		s->zbuf = malloc(sizeof(float) * (size_t)cfg->width * cfg->height);
		s->view = calloc((size_t)max_nv, sizeof *s->view);
		s->vnorm = calloc((size_t)max_nv, sizeof *s->vnorm);
		ok = s->zbuf && s->view && s->vnorm;
	}
	if (!ok) {
		destroy(s);
		snprintf(err, errlen, "out of memory");
		return DD_ERR;
	}
	s->w = cfg->width;
	s->h = cfg->height;
	s->c = cfg->channels;
	s->fixed_shape = cfg->shape;
	s->spin = cfg->spin;
	*out = (vsource){.self = s, .width = s->w, .height = s->h, .channels = s->c,
	                 .n_info = 2, .info_names = info_names,
	                 .begin = begin, .next = next, .destroy = destroy};
	return DD_OK;
}
