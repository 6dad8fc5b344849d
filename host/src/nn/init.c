/*
** init.c -- weight initialisation from a dd_rng: the draws are taken in
** index order with no threading, so a seed fixes every bit.
*/
#include <math.h>
#include <stdlib.h>

#include "daydream/param.h"

static void fans(const dd_tensor *t, double *fan_in, double *fan_out)
{
	if (t->ndim < 2) {
		*fan_in = *fan_out = (double)t->size;
		return;
	}
	double rf = (double)t->size / ((double)t->dims[0] * t->dims[1]);
	*fan_in = t->dims[1] * rf;
	*fan_out = t->dims[0] * rf;
}

int dd_init_constant(dd_tensor *t, float value)
{
	if (!t || !t->data)
		return DD_ERR;
	for (size_t i = 0; i < t->size; i++)
		t->data[i] = value;
	return DD_OK;
}

int dd_init_uniform(dd_tensor *t, dd_rng *rng, float lo, float hi)
{
	if (!t || !t->data || !rng)
		return DD_ERR;
	for (size_t i = 0; i < t->size; i++)
		t->data[i] = lo + (hi - lo) * dd_rng_uniform(rng);
	return DD_OK;
}

int dd_init_normal(dd_tensor *t, dd_rng *rng, float mean, float std)
{
	if (!t || !t->data || !rng)
		return DD_ERR;
	for (size_t i = 0; i < t->size; i++)
		t->data[i] = mean + std * dd_rng_normal(rng);
	return DD_OK;
}

int dd_init_xavier(dd_tensor *t, dd_rng *rng, float gain)
{
	if (!t)
		return DD_ERR;
	double fi, fo;
	fans(t, &fi, &fo);
	float a = (float)(gain * sqrt(6.0 / (fi + fo)));
	return dd_init_uniform(t, rng, -a, a);
}

int dd_init_he(dd_tensor *t, dd_rng *rng)
{
	if (!t)
		return DD_ERR;
	double fi, fo;
	fans(t, &fi, &fo);
	return dd_init_normal(t, rng, 0.0f, (float)sqrt(2.0 / fi));
}

/* Modified Gram-Schmidt on the rows of a (r x c) Gaussian matrix, r <= c.
** A row that collapses (probability zero) is redrawn. */
static int orthonormal_rows(double *a, size_t r, size_t c, dd_rng *rng)
{
	for (size_t i = 0; i < r; i++) {
		for (int tries = 0;; tries++) {
			double *ai = a + i * c;
			for (size_t j = 0; j < i; j++) {
				const double *aj = a + j * c;
				double d = 0.0;
				for (size_t k = 0; k < c; k++)
					d += ai[k] * aj[k];
				for (size_t k = 0; k < c; k++)
					ai[k] -= d * aj[k];
			}
			double nrm = 0.0;
			for (size_t k = 0; k < c; k++)
				nrm += ai[k] * ai[k];
			nrm = sqrt(nrm);
			if (nrm > 1e-6) {
				for (size_t k = 0; k < c; k++)
					ai[k] /= nrm;
				break;
			}
			if (tries == 8)
				return DD_ERR;
			for (size_t k = 0; k < c; k++)
				ai[k] = dd_rng_normal(rng);
		}
	}
	return DD_OK;
}

int dd_init_orthogonal(dd_tensor *t, dd_rng *rng, float gain)
{
	if (!t || !t->data || !rng || t->ndim < 2)
		return DD_ERR;
	size_t rows = (size_t)t->dims[0], cols = t->size / rows;
	/* Work on the wide orientation so rows <= columns, then transpose back. */
	int tall = rows > cols;
	size_t r = tall ? cols : rows, c = tall ? rows : cols;
	double *a = malloc(r * c * sizeof *a);
	if (!a)
		return DD_ERR;
	for (size_t i = 0; i < r * c; i++)
		a[i] = dd_rng_normal(rng);
	if (orthonormal_rows(a, r, c, rng) != DD_OK) {
		free(a);
		return DD_ERR;
	}
	for (size_t i = 0; i < r; i++)
		for (size_t k = 0; k < c; k++) {
			float v = (float)(gain * a[i * c + k]);
			if (tall)
				t->data[k * cols + i] = v;
			else
				t->data[i * cols + k] = v;
		}
	free(a);
	return DD_OK;
}
