/*
** optim_internal.h -- the layout of a dd_optim, for checkpoints. Not
** installed.
*/
#ifndef DD_OPTIM_INTERNAL_H
#define DD_OPTIM_INTERNAL_H

#include "daydream/optim.h"

struct dd_optim {
	dd_paramset *ps;
	dd_optim_config cfg;
	int64_t step;
	float *state;    /* n_state floats: moment k of float i at k * count + i */
	size_t n_state;
};

/* Moment buffers per parameter for a config: 0, 1 or 2; -1 for a bad kind. */
int nn_optim_moments(const dd_optim_config *c);

#endif
