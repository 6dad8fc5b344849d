/*
** threads.c -- how many threads OpenBLAS may use (a process-wide setting of
** OpenBLAS itself, so this is the one knob here that is not per object).
*/
#include <cblas.h>

#include "daydream/nn.h"

int dd_nn_set_threads(int n)
{
	if (n <= 0)
		n = openblas_get_num_procs();
	if (n < 1)
		n = 1;
	openblas_set_num_threads(n);
	return openblas_get_num_threads();
}

int dd_nn_threads(void)
{
	return openblas_get_num_threads();
}
