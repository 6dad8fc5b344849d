/*
** geometry.c -- oriented rectangles, their overlap (separating axes), and
** convex polygon clipping and area: collision tests and the exact pixel
** coverage the renderer anti-aliases with.
*/
#include <math.h>

#include "traffic.h"

void tr_rect_corners(double x, double y, double h, double length, double width,
                     tr_pt out[4])
{
	double c = cos(h), s = sin(h);
	double fx = 0.5 * length * c, fy = 0.5 * length * s;     /* half forward */
	double rx = -0.5 * width * s, ry = 0.5 * width * c;      /* half right */
	out[0] = (tr_pt){x + fx - rx, y + fy - ry};  /* front left */
	out[1] = (tr_pt){x + fx + rx, y + fy + ry};  /* front right */
	out[2] = (tr_pt){x - fx + rx, y - fy + ry};  /* rear right */
	out[3] = (tr_pt){x - fx - rx, y - fy - ry};  /* rear left */
}

/* 1 when the projections of a and b on the normal of edge (p, q) are apart. */
static int separated(const tr_pt a[4], const tr_pt b[4], tr_pt p, tr_pt q)
{
	double nx = -(q.y - p.y), ny = q.x - p.x;
	double amin = INFINITY, amax = -INFINITY, bmin = INFINITY, bmax = -INFINITY;
	for (int i = 0; i < 4; i++) {
		double pa = a[i].x * nx + a[i].y * ny;
		double pb = b[i].x * nx + b[i].y * ny;
		amin = fmin(amin, pa);
		amax = fmax(amax, pa);
		bmin = fmin(bmin, pb);
		bmax = fmax(bmax, pb);
	}
	return amax <= bmin || bmax <= amin;
}

int tr_quads_overlap(const tr_pt a[4], const tr_pt b[4])
{
	for (int i = 0; i < 2; i++) /* rectangles: two edge normals each */
		if (separated(a, b, a[i], a[i + 1]) || separated(a, b, b[i], b[i + 1]))
			return 0;
	return 1;
}

static double coord(tr_pt p, int axis)
{
	return axis ? p.y : p.x;
}

/* Sutherland-Hodgman against one axis-aligned half-plane. */
int tr_clip(const tr_pt *in, int n, int axis, double bound, int sign, tr_pt *out)
{
	int m = 0;
	for (int i = 0; i < n; i++) {
		tr_pt p = in[i], q = in[(i + 1) % n];
		double dp = sign * (coord(p, axis) - bound);
		double dq = sign * (coord(q, axis) - bound);
		if (dp >= 0)
			out[m++] = p;
		if ((dp >= 0) != (dq >= 0)) {
			double t = dp / (dp - dq);
			tr_pt r = {p.x + t * (q.x - p.x), p.y + t * (q.y - p.y)};
			/* land exactly on the bound: the renderer looks for it */
			if (axis)
				r.y = bound;
			else
				r.x = bound;
			out[m++] = r;
		}
	}
	return m;
}

double tr_polygon_area(const tr_pt *p, int n)
{
	double a = 0;
	for (int i = 0; i < n; i++) {
		tr_pt q = p[(i + 1) % n];
		a += p[i].x * q.y - q.x * p[i].y;
	}
	return 0.5 * fabs(a);
}
