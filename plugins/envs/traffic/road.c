/*
** road.c -- the geometry of the straight multi-lane road: lane centres, which
** lanes a footprint reaches into, and what counts as on the road.
*/
#include <math.h>

#include "traffic.h"

/* A footprint must reach this far into a lane (m) for followers there to
** see it: drivers centred in their lane never touch the neighbours'. */
#define TOUCH_TOLERANCE 0.2

double tr_road_width(const tr_road *r)
{
	return r->lanes * r->lane_width;
}

double tr_lane_centre(const tr_road *r, int lane)
{
	return (lane + 0.5) * r->lane_width;
}

int tr_lane_of(const tr_road *r, double y)
{
	int k = (int)floor(y / r->lane_width);
	if (k < 0)
		return 0;
	if (k >= r->lanes)
		return r->lanes - 1;
	return k;
}

int tr_lanes_touched(const tr_road *r, double y, double half_width, int *first,
                     int *last)
{
	double lo = y - half_width + TOUCH_TOLERANCE;
	double hi = y + half_width - TOUCH_TOLERANCE;
	if (hi < lo) /* narrower than twice the tolerance: its centre decides */
		lo = hi = y;
	if (hi < 0 || lo >= tr_road_width(r))
		return 0;
	*first = tr_lane_of(r, lo);
	*last = tr_lane_of(r, hi);
	return *last - *first + 1;
}

int tr_on_road(const tr_road *r, double y)
{
	return y >= 0 && y <= tr_road_width(r);
}
