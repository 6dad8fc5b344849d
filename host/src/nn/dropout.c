/*
** dropout.c -- inverted dropout with its mask saved for backward.
*/
#include <stdint.h>

#include "nn_internal.h"

typedef struct dropout_saved {
	float scale;       /* 1 / (1 - p) */
	uint8_t *keep;     /* 1 where the entry survived */
} dropout_saved;

static int dropout_backward(dd_graph *g, const dd_node *n)
{
	(void)g;
	dd_tensor *x = n->in[0], *y = n->out;
	const dropout_saved *s = n->saved;
	if (x->grad)
		for (size_t i = 0; i < y->size; i++)
			x->grad[i] += s->keep[i] ? s->scale * y->grad[i] : 0.0f;
	return DD_OK;
}

dd_tensor *dd_dropout(dd_graph *g, dd_tensor *x, float p, dd_dropout_mode mode, dd_rng *rng)
{
	NN_NEED(x);
	if (!(p >= 0.0f && p < 1.0f))
		NN_FAIL(g, "dropout: p = %g is outside [0, 1)", (double)p);
	if (p == 0.0f || (mode != DD_DROPOUT_ALWAYS && !dd_graph_training(g)))
		return x; /* off: no rng needed */
	if (!rng)
		NN_FAIL(g, "dropout: no rng");
	dd_tensor *y = nn_like(g, x, &x, 1);
	uint8_t *keep = dd_graph_alloc(g, x->size);
	dropout_saved *s = dd_graph_alloc(g, sizeof *s);
	NN_NEED(y && keep && s);
	s->scale = 1.0f / (1.0f - p);
	s->keep = keep;
	for (size_t i = 0; i < x->size; i++) {
		keep[i] = dd_rng_uniform(rng) >= p;
		y->data[i] = keep[i] ? s->scale * x->data[i] : 0.0f;
	}
	return nn_record(g, dropout_backward, y, &x, 1, s);
}
