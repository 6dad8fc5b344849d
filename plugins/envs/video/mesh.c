/*
** mesh.c -- the shapes of the rotating-objects source: a cube, a square
** pyramid and a UV sphere, as triangles with a colour each. Faces differ in
** colour (and in brightness, so rotation shows in grayscale too); the
** sphere is a checkerboard, otherwise its turning would be invisible.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mesh.h"

static const float colours[8][3] = {
	{0.95f, 0.30f, 0.25f}, {0.30f, 0.85f, 0.35f}, {0.30f, 0.40f, 0.95f},
	{0.95f, 0.90f, 0.30f}, {0.85f, 0.35f, 0.90f}, {0.35f, 0.90f, 0.90f},
	{0.60f, 0.60f, 0.60f}, {1.00f, 1.00f, 1.00f},
};

static int add_vertex(mesh *m, float x, float y, float z)
{
	m->pos[m->nv][0] = x;
	m->pos[m->nv][1] = y;
	m->pos[m->nv][2] = z;
	return m->nv++;
}

/* Adds a triangle turned so that its normal points away from the origin
** (every shape here is convex around it): back faces can then be culled. */
static void add_tri(mesh *m, int a, int b, int c, const float *col)
{
	const float *pa = m->pos[a], *pb = m->pos[b], *pc = m->pos[c];
	float u[3], v[3], n[3];
	for (int i = 0; i < 3; i++) {
		u[i] = pb[i] - pa[i];
		v[i] = pc[i] - pa[i];
	}
	n[0] = u[1] * v[2] - u[2] * v[1];
	n[1] = u[2] * v[0] - u[0] * v[2];
	n[2] = u[0] * v[1] - u[1] * v[0];
	float out = 0;
	for (int i = 0; i < 3; i++)
		out += n[i] * (pa[i] + pb[i] + pc[i]);
	int *t = m->tri[m->nt];
	t[0] = a;
	t[1] = out >= 0 ? b : c;
	t[2] = out >= 0 ? c : b;
	memcpy(m->albedo[m->nt], col, sizeof m->albedo[0]);
	m->nt++;
}

static int alloc(mesh *m, int nv, int nt)
{
	memset(m, 0, sizeof *m);
	m->pos = calloc((size_t)nv, sizeof *m->pos);
	m->tri = calloc((size_t)nt, sizeof *m->tri);
	m->albedo = calloc((size_t)nt, sizeof *m->albedo);
	if (!m->pos || !m->tri || !m->albedo) {
		mesh_free(m);
		return -1;
	}
	return 0;
}

static int cube(mesh *m)
{
	if (alloc(m, 8, 12))
		return -1;
	for (int i = 0; i < 8; i++)
		add_vertex(m, i & 1 ? 0.5f : -0.5f, i & 2 ? 0.5f : -0.5f, i & 4 ? 0.5f : -0.5f);
	/* Each face: the four corners whose bit `axis` equals `side`. */
	int f = 0;
	for (int axis = 0; axis < 3; axis++)
		for (int side = 0; side < 2; side++, f++) {
			int q[4], k = 0;
			for (int i = 0; i < 8; i++)
				if (((i >> axis) & 1) == side)
					q[k++] = i;
			/* q[0], q[3] are opposite corners: two triangles share them. */
			add_tri(m, q[0], q[1], q[3], colours[f]);
			add_tri(m, q[0], q[3], q[2], colours[f]);
		}
	return 0;
}

static int pyramid(mesh *m)
{
	if (alloc(m, 5, 6))
		return -1;
	/* Base at y = -0.45, apex at 0.75: the origin is inside. */
	add_vertex(m, -0.6f, -0.45f, -0.6f);
	add_vertex(m, 0.6f, -0.45f, -0.6f);
	add_vertex(m, 0.6f, -0.45f, 0.6f);
	add_vertex(m, -0.6f, -0.45f, 0.6f);
	add_vertex(m, 0.0f, 0.75f, 0.0f);
	add_tri(m, 0, 1, 2, colours[6]);
	add_tri(m, 0, 2, 3, colours[6]);
	for (int i = 0; i < 4; i++)
		add_tri(m, i, (i + 1) % 4, 4, colours[i]);
	return 0;
}

#define STACKS 8
#define SLICES 16

static int sphere(mesh *m)
{
	if (alloc(m, (STACKS + 1) * SLICES, 2 * STACKS * SLICES))
		return -1;
	m->smooth = 1;
	for (int i = 0; i <= STACKS; i++) {
		double lat = M_PI * i / STACKS;
		for (int j = 0; j < SLICES; j++) {
			double lon = 2 * M_PI * j / SLICES;
			add_vertex(m, (float)(0.8 * sin(lat) * cos(lon)), (float)(0.8 * cos(lat)),
			           (float)(0.8 * sin(lat) * sin(lon)));
		}
	}
	for (int i = 0; i < STACKS; i++)
		for (int j = 0; j < SLICES; j++) {
			int a = i * SLICES + j, b = i * SLICES + (j + 1) % SLICES;
			int c = a + SLICES, d = b + SLICES;
			/* A checkerboard of 4 x 2 patches of two colours. */
			const float *col = colours[((i / 2) + (j / 2)) % 2 ? 3 : 2];
			if (i > 0)
				add_tri(m, a, b, d, col);
			if (i < STACKS - 1)
				add_tri(m, a, d, c, col);
		}
	return 0;
}

int mesh_build(mesh *m, int shape)
{
	int rc = shape == 0 ? cube(m) : shape == 1 ? pyramid(m) : sphere(m);
	if (rc)
		return -1;
	float r = 0;
	for (int i = 0; i < m->nv; i++) {
		float d = sqrtf(m->pos[i][0] * m->pos[i][0] + m->pos[i][1] * m->pos[i][1] +
		                m->pos[i][2] * m->pos[i][2]);
		r = d > r ? d : r;
	}
	m->radius = r;
	return 0;
}

void mesh_free(mesh *m)
{
	free(m->pos);
	free(m->tri);
	free(m->albedo);
	memset(m, 0, sizeof *m);
}
