/*
** idm.c -- the Intelligent Driver Model (Treiber, Hennecke & Helbing, Phys.
** Rev. E 62, 1805, 2000): a driver's acceleration from its speed, the gap to
** its leader and the closing speed; its steady state; per-driver variation.
*/
#include <math.h>

#include "traffic.h"

/* s*: the gap the driver wants, which grows with speed and with the speed
** at which it closes in (never below s0). */
static double desired_gap(const tr_driver *d, double v, double dv)
{
	double s = v * d->T + v * dv / (2.0 * sqrt(d->a * d->b));
	return d->s0 + (s > 0 ? s : 0);
}

double tr_idm_accel(const tr_driver *d, double v, double s, double dv)
{
	double free_term = 1.0 - pow(v / d->v0, d->delta);
	if (!isfinite(s))
		return d->a * free_term;
	/* a gap at or below zero is a crash: brake as hard as the formula
	** goes at a very small gap rather than divide by zero */
	if (s < 0.01)
		s = 0.01;
	double r = desired_gap(d, v, dv) / s;
	return d->a * (free_term - r * r);
}

/* At equal speeds dv = 0 and a = 0 gives s = s*(v) / sqrt(1 - (v/v0)^delta). */
double tr_idm_equilibrium_gap(const tr_driver *d, double v)
{
	double f = 1.0 - pow(v / d->v0, d->delta);
	if (f <= 0)
		return INFINITY;
	return (d->s0 + v * d->T) / sqrt(f);
}

/* The gap grows with v, so bisection on [0, v0] finds the speed. */
double tr_idm_equilibrium_speed(const tr_driver *d, double s)
{
	if (s <= d->s0)
		return 0;
	double lo = 0, hi = d->v0;
	for (int i = 0; i < 60; i++) {
		double mid = 0.5 * (lo + hi);
		if (tr_idm_equilibrium_gap(d, mid) < s)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

static double spread(double base, double variation, dd_rng *rng)
{
	double f = 1.0 + variation * (double)dd_rng_normal(rng);
	if (f < 0.5)
		f = 0.5;
	if (f > 1.5)
		f = 1.5;
	return base * f;
}

tr_driver tr_driver_draw(const tr_driver *base, double variation, dd_rng *rng)
{
	tr_driver d = *base;
	d.v0 = spread(base->v0, variation, rng);
	d.T = spread(base->T, variation, rng);
	d.s0 = spread(base->s0, variation, rng);
	d.a = spread(base->a, variation, rng);
	d.b = spread(base->b, variation, rng);
	d.politeness = 2.0 * base->politeness * dd_rng_uniform_double(rng);
	return d;
}
