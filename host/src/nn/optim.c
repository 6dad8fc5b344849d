/*
** optim.c -- SGD (momentum, Nesterov), RMSProp and Adam over one gradient
** buffer, with the update rules of torch.optim 1.13 so results can be
** compared number for number.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "daydream/optim.h"
#include "nn_internal.h"
#include "optim_internal.h"
#include "paramset_internal.h"

dd_optim_config dd_optim_defaults(dd_optim_kind kind)
{
	dd_optim_config c;
	memset(&c, 0, sizeof c);
	c.kind = kind;
	c.lr = kind == DD_OPTIM_ADAM ? 1e-3f : 1e-2f;
	c.alpha = 0.99f;
	c.beta1 = 0.9f;
	c.beta2 = 0.999f;
	c.eps = 1e-8f;
	return c;
}

int nn_optim_moments(const dd_optim_config *c)
{
	switch (c->kind) {
	case DD_OPTIM_SGD: return c->momentum != 0.0f;
	case DD_OPTIM_RMSPROP: return 1 + (c->momentum != 0.0f);
	case DD_OPTIM_ADAM: return 2;
	}
	return -1;
}

dd_optim *dd_optim_new(dd_paramset *ps, const dd_optim_config *cfg)
{
	if (!ps)
		return NULL;
	if (!ps->data) {
		dd_paramset_fail(ps, "optim: the parameter set is not allocated");
		return NULL;
	}
	if (!cfg || nn_optim_moments(cfg) < 0) {
		dd_paramset_fail(ps, "optim: unknown kind");
		return NULL;
	}
	if (!(cfg->lr >= 0.0f) || !(cfg->momentum >= 0.0f && cfg->momentum < 1.0f) ||
	    !(cfg->weight_decay >= 0.0f) || !(cfg->eps >= 0.0f) ||
	    (cfg->kind == DD_OPTIM_RMSPROP && !(cfg->alpha >= 0.0f && cfg->alpha < 1.0f)) ||
	    (cfg->kind == DD_OPTIM_ADAM && !(cfg->beta1 >= 0.0f && cfg->beta1 < 1.0f &&
	                                     cfg->beta2 >= 0.0f && cfg->beta2 < 1.0f)) ||
	    (cfg->nesterov && !(cfg->kind == DD_OPTIM_SGD && cfg->momentum > 0.0f))) {
		dd_paramset_fail(ps, "optim: bad hyperparameters (lr, momentum in [0,1), "
		                 "alpha and betas in [0,1), eps and weight_decay >= 0; "
		                 "nesterov needs SGD with momentum)");
		return NULL;
	}
	dd_optim *o = calloc(1, sizeof *o);
	if (!o) {
		dd_paramset_fail(ps, "optim: out of memory");
		return NULL;
	}
	o->ps = ps;
	o->cfg = *cfg;
	o->n_state = (size_t)nn_optim_moments(cfg) * ps->count;
	if (o->n_state) {
		o->state = calloc(o->n_state, sizeof(float));
		if (!o->state) {
			dd_paramset_fail(ps, "optim: out of memory for %zu moments", o->n_state);
			free(o);
			return NULL;
		}
	}
	return o;
}

void dd_optim_free(dd_optim *o)
{
	if (!o)
		return;
	free(o->state);
	free(o);
}

void dd_optim_set_lr(dd_optim *o, float lr)
{
	o->cfg.lr = lr;
}

float dd_optim_lr(const dd_optim *o)
{
	return o->cfg.lr;
}

int64_t dd_optim_steps(const dd_optim *o)
{
	return o->step;
}

const dd_optim_config *dd_optim_get_config(const dd_optim *o)
{
	return &o->cfg;
}

float *dd_optim_state(dd_optim *o, size_t *count)
{
	if (count)
		*count = o->n_state;
	return o->state;
}

static void sgd(dd_optim *o, float *p, const float *gr, size_t n)
{
	const dd_optim_config *c = &o->cfg;
	float *buf = o->state;
	for (size_t i = 0; i < n; i++) {
		float g = gr[i];
		if (c->weight_decay != 0.0f && !c->decoupled)
			g += c->weight_decay * p[i];
		if (buf) {
			buf[i] = c->momentum * buf[i] + g;
			g = c->nesterov ? g + c->momentum * buf[i] : buf[i];
		}
		p[i] -= c->lr * g;
	}
}

static void rmsprop(dd_optim *o, float *p, const float *gr, size_t n)
{
	const dd_optim_config *c = &o->cfg;
	float *sq = o->state, *buf = c->momentum != 0.0f ? o->state + n : NULL;
	for (size_t i = 0; i < n; i++) {
		float g = gr[i];
		if (c->weight_decay != 0.0f && !c->decoupled)
			g += c->weight_decay * p[i];
		sq[i] = c->alpha * sq[i] + (1.0f - c->alpha) * g * g;
		float step = g / (sqrtf(sq[i]) + c->eps);
		if (buf) {
			buf[i] = c->momentum * buf[i] + step;
			step = buf[i];
		}
		p[i] -= c->lr * step;
	}
}

/* One Adam update of p[i] for i in [i0, n): torch.optim.Adam's arithmetic,
** operation for operation. */
static void adam_scalar(const dd_optim_config *c, float *p, const float *gr, float *m,
                        float *v, size_t i0, size_t n, float step_size, float sbc2)
{
	for (size_t i = i0; i < n; i++) {
		float g = gr[i];
		if (c->weight_decay != 0.0f && !c->decoupled)
			g += c->weight_decay * p[i];
		m[i] = c->beta1 * m[i] + (1.0f - c->beta1) * g;
		v[i] = c->beta2 * v[i] + (1.0f - c->beta2) * g * g;
		p[i] -= step_size * m[i] / (sqrtf(v[i]) / sbc2 + c->eps);
	}
}

#if defined(__SSE2__)
/* The same update four floats at a time, returning how many it did. Every
** operation is the scalar one in the same order (SSE's sqrt and division
** round exactly like sqrtf and /), so the results are bit for bit those of
** adam_scalar: the scalar loop's sqrtf and division, not memory, were what
** limited it over the millions of weights of an LSTM. */
static size_t adam_sse(const dd_optim_config *c, float *p, const float *gr, float *m,
                       float *v, size_t n, float step_size, float sbc2)
{
	const __m128 b1 = _mm_set1_ps(c->beta1), nb1 = _mm_set1_ps(1.0f - c->beta1);
	const __m128 b2 = _mm_set1_ps(c->beta2), nb2 = _mm_set1_ps(1.0f - c->beta2);
	const __m128 ss = _mm_set1_ps(step_size), sb = _mm_set1_ps(sbc2);
	const __m128 eps = _mm_set1_ps(c->eps), wd = _mm_set1_ps(c->weight_decay);
	const int decay = c->weight_decay != 0.0f && !c->decoupled;
	size_t i = 0;
	for (; i + 4 <= n; i += 4) {
		__m128 pi = _mm_loadu_ps(p + i), g = _mm_loadu_ps(gr + i);
		if (decay)
			g = _mm_add_ps(g, _mm_mul_ps(wd, pi));
		__m128 mi = _mm_add_ps(_mm_mul_ps(b1, _mm_loadu_ps(m + i)), _mm_mul_ps(nb1, g));
		__m128 vi = _mm_add_ps(_mm_mul_ps(b2, _mm_loadu_ps(v + i)),
		                       _mm_mul_ps(_mm_mul_ps(nb2, g), g));
		__m128 den = _mm_add_ps(_mm_div_ps(_mm_sqrt_ps(vi), sb), eps);
		_mm_storeu_ps(m + i, mi);
		_mm_storeu_ps(v + i, vi);
		_mm_storeu_ps(p + i, _mm_sub_ps(pi, _mm_div_ps(_mm_mul_ps(ss, mi), den)));
	}
	return i;
}
#endif

typedef struct adam_job {
	const dd_optim_config *c;
	float *p, *m, *v;
	const float *gr;
	float step_size, sbc2;
} adam_job;

/* Elements [i, e) of the update: a range of the toolkit's threads. */
static void adam_range(void *ctx, size_t i, size_t e)
{
	const adam_job *j = ctx;
	size_t done = 0;
#if defined(__SSE2__)
	done = adam_sse(j->c, j->p + i, j->gr + i, j->m + i, j->v + i, e - i, j->step_size,
	                j->sbc2);
#endif
	adam_scalar(j->c, j->p + i, j->gr + i, j->m + i, j->v + i, done, e - i, j->step_size,
	            j->sbc2);
}

static void adam(dd_optim *o, float *p, const float *gr, size_t n)
{
	const dd_optim_config *c = &o->cfg;
	double t = (double)o->step;
	float bc1 = (float)(1.0 - pow(c->beta1, t));
	adam_job j = {c, p, o->state, o->state + n, gr, c->lr / bc1,
	              (float)sqrt(1.0 - pow(c->beta2, t))};
	nn_parallel_range(adam_range, &j, n, NN_RANGE_MIN);
}

int dd_optim_step(dd_optim *o)
{
	dd_paramset *ps = o->ps;
	if (ps->frozen)
		return DD_OK;
	const dd_optim_config *c = &o->cfg;
	size_t n = ps->count;
	if (c->weight_decay != 0.0f && c->decoupled) {
		float k = 1.0f - c->lr * c->weight_decay;
		for (size_t i = 0; i < n; i++)
			ps->data[i] *= k;
	}
	o->step++;
	switch (c->kind) {
	case DD_OPTIM_SGD: sgd(o, ps->data, ps->grad, n); break;
	case DD_OPTIM_RMSPROP: rmsprop(o, ps->data, ps->grad, n); break;
	case DD_OPTIM_ADAM: adam(o, ps->data, ps->grad, n); break;
	}
	return DD_OK;
}
