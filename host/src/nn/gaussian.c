/*
** gaussian.c -- reparameterised sampling z = mu + exp(logvar / 2) * eps, the
** step that lets a VAE or a stochastic world model back-propagate through
** its latent variable.
*/
#include <math.h>

#include "nn_internal.h"

static int sample_backward(dd_graph *g, const dd_node *n)
{
	(void)g;
	dd_tensor *mu = n->in[0], *lv = n->in[1], *z = n->out;
	const float *eps = n->saved;
	for (size_t i = 0; i < z->size; i++) {
		if (mu->grad)
			mu->grad[i] += z->grad[i];
		if (lv->grad) /* dz/dlogvar = eps * exp(logvar / 2) / 2 */
			lv->grad[i] += z->grad[i] * 0.5f * eps[i] * expf(0.5f * lv->data[i]);
	}
	return DD_OK;
}

dd_tensor *dd_gaussian_sample(dd_graph *g, dd_tensor *mu, dd_tensor *logvar, dd_rng *rng)
{
	NN_NEED(mu && logvar);
	if (!dd_tensor_same_shape(mu, logvar))
		NN_FAIL(g, "gaussian_sample: mu and logvar differ in shape");
	if (!rng)
		NN_FAIL(g, "gaussian_sample: no rng");
	dd_tensor *ins[2] = {mu, logvar};
	dd_tensor *z = nn_like(g, mu, ins, 2);
	float *eps = dd_graph_alloc(g, mu->size * sizeof *eps);
	NN_NEED(z && eps);
	for (size_t i = 0; i < mu->size; i++) {
		eps[i] = dd_rng_normal(rng);
		z->data[i] = mu->data[i] + expf(0.5f * logvar->data[i]) * eps[i];
	}
	return nn_record(g, sample_backward, z, ins, 2, eps);
}
