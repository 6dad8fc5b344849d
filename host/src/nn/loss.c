/*
** loss.c -- losses that compare a prediction with a target: MSE, L1,
** gradient difference, binary and multi-class cross-entropy, hinge.
** Each returns a scalar; sums run in double.
*/
#include <math.h>
#include <string.h>

#include "nn_internal.h"

static dd_tensor *pair_loss(dd_graph *g, const char *name, dd_tensor *p, dd_tensor *t)
{
	if (!p || !t)
		return NULL;
	if (!dd_tensor_same_shape(p, t))
		NN_FAIL(g, "%s: prediction and target differ in shape", name);
	dd_tensor *ins[2] = {p, t};
	return nn_scalar(g, ins, 2);
}

/* ---- MSE and L1 ---------------------------------------------------------- */

static int mse_backward(dd_graph *g, const dd_node *n)
{
	(void)g;
	dd_tensor *p = n->in[0], *t = n->in[1];
	float k = 2.0f * n->out->grad[0] / (float)p->size;
	for (size_t i = 0; i < p->size; i++) {
		float d = k * (p->data[i] - t->data[i]);
		if (p->grad)
			p->grad[i] += d;
		if (t->grad)
			t->grad[i] -= d;
	}
	return DD_OK;
}

dd_tensor *dd_mse(dd_graph *g, dd_tensor *p, dd_tensor *t)
{
	dd_tensor *y = pair_loss(g, "mse", p, t);
	NN_NEED(y);
	double s = 0.0;
	for (size_t i = 0; i < p->size; i++) {
		double d = (double)p->data[i] - t->data[i];
		s += d * d;
	}
	y->data[0] = (float)(s / (double)p->size);
	dd_tensor *ins[2] = {p, t};
	return nn_record(g, mse_backward, y, ins, 2, NULL);
}

static int l1_backward(dd_graph *g, const dd_node *n)
{
	(void)g;
	dd_tensor *p = n->in[0], *t = n->in[1];
	float k = n->out->grad[0] / (float)p->size;
	for (size_t i = 0; i < p->size; i++) {
		float d = p->data[i] - t->data[i];
		float s = d > 0.0f ? k : (d < 0.0f ? -k : 0.0f);
		if (p->grad)
			p->grad[i] += s;
		if (t->grad)
			t->grad[i] -= s;
	}
	return DD_OK;
}

dd_tensor *dd_l1(dd_graph *g, dd_tensor *p, dd_tensor *t)
{
	dd_tensor *y = pair_loss(g, "l1", p, t);
	NN_NEED(y);
	double s = 0.0;
	for (size_t i = 0; i < p->size; i++)
		s += fabs((double)p->data[i] - t->data[i]);
	y->data[0] = (float)(s / (double)p->size);
	dd_tensor *ins[2] = {p, t};
	return nn_record(g, l1_backward, y, ins, 2, NULL);
}

/* ---- gradient difference ------------------------------------------------- */

typedef struct gdl_saved {
	float alpha;
} gdl_saved;

/* One neighbour pair (i, j): u = |p_i - p_j| - |t_i - t_j|, term |u|^alpha.
** With grad non-NULL, adds k * d(term) into the four entries. */
static double gdl_pair(const dd_tensor *p, const dd_tensor *t, size_t i, size_t j,
                       float alpha, float k)
{
	float dp = p->data[i] - p->data[j], dt = t->data[i] - t->data[j];
	float u = fabsf(dp) - fabsf(dt);
	double au = fabs((double)u);
	double term = alpha == 1.0f ? au : pow(au, alpha);
	if (k != 0.0f && u != 0.0f) {
		/* d|u|^a/du = a |u|^(a-1) sign(u); du/ddp = sign(dp); du/ddt = -sign(dt) */
		float gu = (float)(alpha == 1.0f ? 1.0 : alpha * pow(au, alpha - 1.0f));
		gu *= (u > 0.0f ? k : -k);
		float gp = dp > 0.0f ? gu : (dp < 0.0f ? -gu : 0.0f);
		float gt = dt > 0.0f ? -gu : (dt < 0.0f ? gu : 0.0f);
		if (p->grad) {
			p->grad[i] += gp;
			p->grad[j] -= gp;
		}
		if (t->grad) {
			t->grad[i] += gt;
			t->grad[j] -= gt;
		}
	}
	return term;
}

static double gdl_walk(const dd_tensor *p, const dd_tensor *t, float alpha, float k)
{
	int nd = p->ndim;
	size_t H = (size_t)p->dims[nd - 2], W = (size_t)p->dims[nd - 1];
	size_t planes = p->size / (H * W);
	double s = 0.0;
	for (size_t c = 0; c < planes; c++) {
		size_t base = c * H * W;
		for (size_t h = 0; h < H; h++)
			for (size_t w = 0; w < W; w++) {
				size_t i = base + h * W + w;
				if (h + 1 < H)
					s += gdl_pair(p, t, i + W, i, alpha, k);
				if (w + 1 < W)
					s += gdl_pair(p, t, i + 1, i, alpha, k);
			}
	}
	return s;
}

static int gdl_backward(dd_graph *g, const dd_node *n)
{
	(void)g;
	const gdl_saved *s = n->saved;
	dd_tensor *p = n->in[0];
	gdl_walk(p, n->in[1], s->alpha, n->out->grad[0] / (float)p->size);
	return DD_OK;
}

dd_tensor *dd_gdl(dd_graph *g, dd_tensor *p, dd_tensor *t, float alpha)
{
	dd_tensor *y = pair_loss(g, "gdl", p, t);
	NN_NEED(y);
	if (p->ndim < 2)
		NN_FAIL(g, "gdl: need images (..., H, W)");
	if (!(alpha >= 1.0f))
		NN_FAIL(g, "gdl: alpha = %g must be >= 1", (double)alpha);
	y->data[0] = (float)(gdl_walk(p, t, alpha, 0.0f) / (double)p->size);
	if (!y->grad)
		return y;
	gdl_saved *s = dd_graph_alloc(g, sizeof *s);
	NN_NEED(s);
	s->alpha = alpha;
	dd_tensor *ins[2] = {p, t};
	return nn_record(g, gdl_backward, y, ins, 2, s);
}

/* ---- binary cross-entropy with logits ----------------------------------- */

static int bce_backward(dd_graph *g, const dd_node *n)
{
	(void)g;
	dd_tensor *x = n->in[0], *t = n->in[1];
	float k = n->out->grad[0] / (float)x->size;
	for (size_t i = 0; i < x->size; i++) {
		float v = x->data[i];
		float sg = v >= 0.0f ? 1.0f / (1.0f + expf(-v)) : expf(v) / (1.0f + expf(v));
		if (x->grad)
			x->grad[i] += k * (sg - t->data[i]);
		if (t->grad)
			t->grad[i] -= k * v;
	}
	return DD_OK;
}

dd_tensor *dd_bce_logits(dd_graph *g, dd_tensor *logits, dd_tensor *targets)
{
	dd_tensor *y = pair_loss(g, "bce_logits", logits, targets);
	NN_NEED(y);
	double s = 0.0;
	for (size_t i = 0; i < logits->size; i++) {
		double v = logits->data[i];
		/* max(v, 0) - v t + log(1 + e^-|v|) */
		s += (v > 0.0 ? v : 0.0) - v * targets->data[i] + log1p(exp(-fabs(v)));
	}
	y->data[0] = (float)(s / (double)logits->size);
	dd_tensor *ins[2] = {logits, targets};
	return nn_record(g, bce_backward, y, ins, 2, NULL);
}

/* ---- cross-entropy over classes ------------------------------------------ */

typedef struct ce_saved {
	int *targets;   /* copied: the caller's array may change before backward */
	float *prob;    /* softmax, for backward */
} ce_saved;

static int ce_backward(dd_graph *g, const dd_node *n)
{
	(void)g;
	dd_tensor *x = n->in[0];
	const ce_saved *s = n->saved;
	if (!x->grad)
		return DD_OK;
	size_t C = (size_t)x->dims[1], inner = nn_inner(x, 2), outer = (size_t)x->dims[0];
	float k = n->out->grad[0] / (float)(outer * inner);
	for (size_t o = 0; o < outer; o++)
		for (size_t i = 0; i < inner; i++) {
			size_t base = o * C * inner + i;
			int tc = s->targets[o * inner + i];
			for (size_t c = 0; c < C; c++) {
				float pr = s->prob[base + c * inner];
				x->grad[base + c * inner] += k * (pr - ((int)c == tc ? 1.0f : 0.0f));
			}
		}
	return DD_OK;
}

dd_tensor *dd_cross_entropy(dd_graph *g, dd_tensor *logits, const int *targets)
{
	NN_NEED(logits);
	if (logits->ndim < 2 || !targets)
		NN_FAIL(g, "cross_entropy: need logits (N, C, ...) and targets");
	size_t C = (size_t)logits->dims[1], inner = nn_inner(logits, 2);
	size_t outer = (size_t)logits->dims[0], m = outer * inner;
	for (size_t j = 0; j < m; j++)
		if (targets[j] < 0 || (size_t)targets[j] >= C)
			NN_FAIL(g, "cross_entropy: target %zu is %d, not in [0, %zu)", j, targets[j], C);
	dd_tensor *y = nn_scalar(g, &logits, 1);
	NN_NEED(y);
	ce_saved *s = NULL;
	if (y->grad) {
		s = dd_graph_alloc(g, sizeof *s);
		NN_NEED(s);
		s->targets = dd_graph_alloc(g, m * sizeof(int));
		s->prob = dd_graph_alloc(g, logits->size * sizeof(float));
		NN_NEED(s->targets && s->prob);
		memcpy(s->targets, targets, m * sizeof(int));
	}
	double total = 0.0;
	for (size_t o = 0; o < outer; o++)
		for (size_t i = 0; i < inner; i++) {
			const float *xs = logits->data + o * C * inner + i;
			float mx = xs[0];
			for (size_t c = 1; c < C; c++)
				if (xs[c * inner] > mx)
					mx = xs[c * inner];
			double sum = 0.0;
			for (size_t c = 0; c < C; c++)
				sum += exp((double)(xs[c * inner] - mx));
			double lse = log(sum) + mx;
			total += lse - xs[(size_t)targets[o * inner + i] * inner];
			if (s)
				for (size_t c = 0; c < C; c++)
					s->prob[o * C * inner + i + c * inner] =
						(float)exp((double)xs[c * inner] - lse);
		}
	y->data[0] = (float)(total / (double)m);
	return nn_record(g, ce_backward, y, &logits, 1, s);
}

/* ---- hinge ---------------------------------------------------------------- */

static int hinge_backward(dd_graph *g, const dd_node *n)
{
	(void)g;
	dd_tensor *e = n->in[0];
	float m = *(const float *)n->saved;
	float k = n->out->grad[0] / (float)e->size;
	if (e->grad)
		for (size_t i = 0; i < e->size; i++)
			if (m - e->data[i] > 0.0f)
				e->grad[i] -= k;
	return DD_OK;
}

dd_tensor *dd_hinge(dd_graph *g, dd_tensor *e, float margin)
{
	NN_NEED(e);
	dd_tensor *y = nn_scalar(g, &e, 1);
	NN_NEED(y);
	double s = 0.0;
	for (size_t i = 0; i < e->size; i++) {
		float v = margin - e->data[i];
		s += v > 0.0f ? v : 0.0f;
	}
	y->data[0] = (float)(s / (double)e->size);
	if (!y->grad)
		return y;
	float *m = dd_graph_alloc(g, sizeof *m);
	NN_NEED(m);
	*m = margin;
	return nn_record(g, hinge_backward, y, &e, 1, m);
}
