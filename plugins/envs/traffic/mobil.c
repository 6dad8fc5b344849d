/*
** mobil.c -- MOBIL, "minimizing overall braking induced by lane changes"
** (Kesting, Treiber & Helbing, Transp. Res. Rec. 1999, 2007): a change is
** made when it is safe for the new follower and its advantage, net of the
** politeness-weighted disadvantage to the followers, beats a threshold.
*/
#include "traffic.h"

int tr_mobil_safe(const tr_driver *d, const tr_mobil_case *c)
{
	if (c->acc_self_new < -d->b_safe)
		return 0;
	return !c->has_new_follower || c->acc_new_follower_new >= -d->b_safe;
}

double tr_mobil_incentive(const tr_driver *d, const tr_mobil_case *c)
{
	double others = 0;
	if (c->has_new_follower)
		others += c->acc_new_follower_new - c->acc_new_follower;
	if (c->has_old_follower)
		others += c->acc_old_follower_new - c->acc_old_follower;
	return c->acc_self_new - c->acc_self + d->politeness * others - d->threshold;
}
