/*
** costs.c -- PPUU's differentiable costs of an observation image (Henaff,
** Canziani & LeCun, ICLR 2019), with their exact (sub)gradients:
**   proximity: max over pixels of (other vehicles x a mask that is 1 over
**     the ego's footprint and falls off linearly, lengthwise over the
**     speed-dependent safety distance 1.5 s x speed + 1 m, sideways over
**     half the ego's width more);
**   lane, off-road: max of the lane-marking / off-road channel under the
**     ego's footprint widened by a small linear margin.
** The max picks one pixel; its gradient flows to that pixel and, for the
** proximity cost, to the speed through the safety distance.
*/
#include <math.h>
#include <string.h>

#include "traffic.h"

/* Distance (m) of row r's centre ahead of or behind the ego's centre. */
static double row_dist(const tr_cost_config *c, int r)
{
	return fabs(0.5 * c->view.H - (r + 0.5)) / c->view.ppm;
}

static double col_dist(const tr_cost_config *c, int col)
{
	return fabs((col + 0.5) - 0.5 * c->view.W) / c->view.ppm;
}

/* 1 inside, falling linearly to 0 at `falloff` past the edge at `edge`. */
static double ramp(double d, double edge, double falloff)
{
	double x = d - edge;
	if (x <= 0)
		return 1;
	return x >= falloff ? 0 : 1 - x / falloff;
}

static double safety(const tr_cost_config *c, double speed)
{
	return c->safety_time * fabs(speed) + c->safety_margin;
}

double tr_proximity_row(const tr_cost_config *c, int row, double speed)
{
	return ramp(row_dist(c, row), 0.5 * c->ego_length, safety(c, speed));
}

double tr_proximity_col(const tr_cost_config *c, int col)
{
	return ramp(col_dist(c, col), 0.5 * c->ego_width, 0.5 * c->ego_width);
}

/* d(row factor)/d(speed): inside the ramp, x / safe^2 * d(safe)/d(speed). */
static double row_dspeed(const tr_cost_config *c, int row, double speed)
{
	double x = row_dist(c, row) - 0.5 * c->ego_length;
	double safe = safety(c, speed);
	if (x <= 0 || x >= safe)
		return 0;
	return x / (safe * safe) * c->safety_time * (speed >= 0 ? 1 : -1);
}

/* The max of mask x channel, ties going to the larger mask (so that an
** empty channel still says where a vehicle would cost most). */
typedef struct argmax {
	double value, mask;
	int r, c;
} argmax;

static argmax masked_max(const tr_cost_config *c, const float *chan,
                         const double *mrow, const double *mcol)
{
	argmax best = {-INFINITY, -INFINITY, 0, 0};
	int W = c->view.W;
	for (int r = 0; r < c->view.H; r++) {
		if (mrow[r] <= 0 && best.value >= 0)
			continue;  /* a zero row cannot beat a non-negative best */
		const float *px = chan + (size_t)r * (size_t)W;
		for (int col = 0; col < W; col++) {
			double m = mrow[r] * mcol[col];
			double v = m * px[col];
			if (v > best.value || (v == best.value && m > best.mask))
				best = (argmax){v, m, r, col};
		}
	}
	return best;
}

void tr_costs_eval(const tr_cost_config *c, const float *img, double speed,
                   tr_costs *out, float *grad_img, double *grad_speed)
{
	int H = c->view.H, W = c->view.W;
	size_t plane = (size_t)H * (size_t)W;
	/* the view is at most a few hundred pixels a side (schema bounds) */
	double prow[1024], pcol[1024], lrow[1024], lcol[1024];
	for (int r = 0; r < H; r++) {
		prow[r] = tr_proximity_row(c, r, speed);
		lrow[r] = ramp(row_dist(c, r), 0.5 * c->ego_length, c->lane_margin);
	}
	for (int col = 0; col < W; col++) {
		pcol[col] = tr_proximity_col(c, col);
		lcol[col] = ramp(col_dist(c, col), 0.5 * c->ego_width, c->lane_margin);
	}
	argmax prox = masked_max(c, img + TR_CH_VEHICLES * plane, prow, pcol);
	argmax lane = masked_max(c, img + TR_CH_LANES * plane, lrow, lcol);
	argmax off = masked_max(c, img + TR_CH_OFF_ROAD * plane, lrow, lcol);
	out->proximity = prox.value;
	out->lane = lane.value;
	out->off_road = off.value;
	out->total = prox.value + c->lane_weight * lane.value + c->off_road_weight * off.value;
	if (grad_img) {
		memset(grad_img, 0, TR_CHANNELS * plane * sizeof *grad_img);
		grad_img[TR_CH_VEHICLES * plane + (size_t)prox.r * W + prox.c] = (float)prox.mask;
		grad_img[TR_CH_LANES * plane + (size_t)lane.r * W + lane.c] +=
			(float)(c->lane_weight * lane.mask);
		grad_img[TR_CH_OFF_ROAD * plane + (size_t)off.r * W + off.c] +=
			(float)(c->off_road_weight * off.mask);
	}
	if (grad_speed) {
		const float *veh = img + TR_CH_VEHICLES * plane;
		*grad_speed = pcol[prox.c] * veh[(size_t)prox.r * W + prox.c] *
		              row_dspeed(c, prox.r, speed);
	}
}
