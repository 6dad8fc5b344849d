/*
** loss_gauss.c -- KL divergences between diagonal Gaussians given as
** (mean, log-variance), the regulariser of VAEs and of a stochastic world
** model's posterior against its prior.
*/
#include <math.h>

#include "nn_internal.h"

/* Gradients of KL(N(m1, e^a) || N(m2, e^b)) per entry:
**   kl   = (b - a + (e^a + (m1 - m2)^2) / e^b - 1) / 2
**   dm1  =  (m1 - m2) / e^b          dm2 = -dm1
**   da   = (e^a / e^b - 1) / 2
**   db   = (1 - (e^a + (m1 - m2)^2) / e^b) / 2
** The standard normal is m2 = 0, b = 0. */
static int kl_backward(dd_graph *g, const dd_node *n)
{
	(void)g;
	dd_tensor *m1 = n->in[0], *a = n->in[1];
	dd_tensor *m2 = n->n_in > 2 ? n->in[2] : NULL, *b = n->n_in > 2 ? n->in[3] : NULL;
	float k = n->out->grad[0] / (float)m1->dims[0];
	for (size_t i = 0; i < m1->size; i++) {
		float mu2 = m2 ? m2->data[i] : 0.0f, lb = b ? b->data[i] : 0.0f;
		float ivb = expf(-lb), ea = expf(a->data[i]), d = m1->data[i] - mu2;
		if (m1->grad)
			m1->grad[i] += k * d * ivb;
		if (m2 && m2->grad)
			m2->grad[i] -= k * d * ivb;
		if (a->grad)
			a->grad[i] += k * 0.5f * (ea * ivb - 1.0f);
		if (b && b->grad)
			b->grad[i] += k * 0.5f * (1.0f - (ea + d * d) * ivb);
	}
	return DD_OK;
}

static dd_tensor *kl(dd_graph *g, dd_tensor *m1, dd_tensor *a, dd_tensor *m2, dd_tensor *b)
{
	dd_tensor *ins[4] = {m1, a, m2, b};
	int n = m2 ? 4 : 2;
	if (!dd_tensor_same_shape(m1, a) || (n == 4 && (!dd_tensor_same_shape(m1, m2) ||
	                                                !dd_tensor_same_shape(m1, b))))
		NN_FAIL(g, "kl: means and log-variances differ in shape");
	dd_tensor *y = nn_scalar(g, ins, n);
	NN_NEED(y);
	double s = 0.0;
	for (size_t i = 0; i < m1->size; i++) {
		double mu2 = m2 ? m2->data[i] : 0.0, lb = b ? b->data[i] : 0.0;
		double d = m1->data[i] - mu2;
		s += 0.5 * (lb - a->data[i] + (exp((double)a->data[i]) + d * d) * exp(-lb) - 1.0);
	}
	y->data[0] = (float)(s / (double)m1->dims[0]);
	return nn_record(g, kl_backward, y, ins, n, NULL);
}

dd_tensor *dd_kl_normal(dd_graph *g, dd_tensor *mu, dd_tensor *logvar)
{
	NN_NEED(mu && logvar);
	return kl(g, mu, logvar, NULL, NULL);
}

dd_tensor *dd_kl_gauss(dd_graph *g, dd_tensor *mu1, dd_tensor *lv1, dd_tensor *mu2,
                       dd_tensor *lv2)
{
	NN_NEED(mu1 && lv1 && mu2 && lv2);
	return kl(g, mu1, lv1, mu2, lv2);
}
