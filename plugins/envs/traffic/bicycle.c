/*
** bicycle.c -- the ego's kinematic bicycle model (Kong, Pfeiffer, Schildbach
** & Borrelli, IEEE IV 2015), written about the centre of gravity so the
** position is the footprint's centre like every other vehicle's.
*/
#include <math.h>

#include "traffic.h"

void tr_bicycle_step(tr_bicycle *s, double wheelbase, double accel, double steer,
                     double dt, double *vx, double *vy)
{
	double lr = 0.5 * wheelbase;
	/* slip angle of the centre's velocity, from the front wheel's angle */
	double beta = atan(0.5 * tan(steer));
	double v0 = s->v;
	double v1 = v0 + accel * dt;
	if (v1 < 0)
		v1 = 0;
	/* the mean speed over the step moves the car (exact for constant
	** acceleration when it does not stop) */
	double vm = 0.5 * (v0 + v1);
	double h = s->heading + 0.5 * (vm / lr) * sin(beta) * dt;
	s->x += vm * cos(h + beta) * dt;
	s->y += vm * sin(h + beta) * dt;
	s->heading += (vm / lr) * sin(beta) * dt;
	s->v = v1;
	*vx = v1 * cos(s->heading + beta);
	*vy = v1 * sin(s->heading + beta);
}
