/*
** op_lstm.c -- the LSTM as tape ops over the kernels of lstm.c: one cell
** step (for loops that compute inputs between steps) and a whole sequence
** in one op, whose forward computes every step's input projection in one
** sgemm and whose backward batches every step's input and weight gradients
** into single sgemms (dd_lstm_backward_steps).
*/
#include <string.h>

#include "gemm.h"
#include "lstm.h"
#include "nn_internal.h"

/* An arena tensor (rows, cols) borrowing base's buffers from offset off. */
static dd_tensor *view2(dd_graph *g, const dd_tensor *base, size_t off, int rows, int cols)
{
	dd_tensor *v = dd_graph_alloc(g, sizeof *v);
	if (!v)
		return NULL;
	*v = (dd_tensor){0};
	v->ndim = 2;
	v->dims[0] = rows;
	v->dims[1] = cols;
	v->dims[2] = v->dims[3] = 1;
	v->size = (size_t)rows * (size_t)cols;
	v->data = base->data + off;
	v->grad = base->grad ? base->grad + off : NULL;
	return v;
}

static const float *data_of(const dd_tensor *t) { return t ? t->data : NULL; }
static float *grad_of(const dd_tensor *t) { return t ? t->grad : NULL; }

/* Checks the weights against an input of n_in features and a batch; fills
** s. Returns DD_OK or fails g naming op. */
static int check_weights(dd_graph *g, const char *op, const dd_lstm_weights *w, int batch,
                         int n_in, dd_lstm_shape *s)
{
	const dd_tensor *wi = w->w_ih, *wh = w->w_hh;
	if (wi->ndim != 2 || wi->dims[0] % 4 != 0 || wi->dims[0] < 4)
		return dd_graph_fail(g, "%s: w_ih must be (4H, I), got %d-D with %d rows", op,
		                     wi->ndim, wi->dims[0]);
	int nh = wi->dims[0] / 4;
	if (wi->dims[1] != n_in)
		return dd_graph_fail(g, "%s: w_ih takes %d inputs, x has %d features", op,
		                     wi->dims[1], n_in);
	if (wh->ndim != 2 || wh->dims[0] != 4 * nh || wh->dims[1] != nh)
		return dd_graph_fail(g, "%s: w_hh must be (%d, %d) for H = %d, got (%d, %d)", op,
		                     4 * nh, nh, nh, wh->dims[0], wh->ndim > 1 ? wh->dims[1] : 1);
	if ((w->b_ih && w->b_ih->size != (size_t)(4 * nh)) ||
	    (w->b_hh && w->b_hh->size != (size_t)(4 * nh)))
		return dd_graph_fail(g, "%s: biases b_ih, b_hh must have 4H = %d entries", op, 4 * nh);
	*s = (dd_lstm_shape){batch, n_in, nh};
	return DD_OK;
}

/* The state prev (may be NULL) must be (B, H) each. */
static int check_state(dd_graph *g, const char *op, const dd_lstm_state *st,
                       const dd_lstm_shape *s)
{
	if (!st)
		return DD_OK;
	const dd_tensor *t[2] = {st->h, st->c};
	for (int i = 0; i < 2; i++)
		if (t[i]->ndim != 2 || t[i]->dims[0] != s->batch || t[i]->dims[1] != s->n_hidden)
			return dd_graph_fail(g, "%s: state %s must be (B, H) = (%d, %d), got %d-D "
			                     "(%d, %d)", op, i ? "c" : "h", s->batch, s->n_hidden,
			                     t[i]->ndim, t[i]->dims[0], t[i]->dims[1]);
	return DD_OK;
}

/* ---- one step ----------------------------------------------------------- */

typedef struct cell_saved {
	dd_lstm_shape s;
	float *gates;     /* dd_lstm_saved_floats */
	float *scratch;   /* dd_lstm_scratch_floats */
} cell_saved;

/* Inputs: x, h_prev, c_prev, w_ih, w_hh, b_ih, b_hh (some NULL); the output
** holds [h | c]. */
static int cell_backward(dd_graph *g, const dd_node *n)
{
	(void)g;
	const cell_saved *sv = n->saved;
	dd_tensor *const *in = n->in;
	size_t bh = (size_t)sv->s.batch * sv->s.n_hidden;
	const float *dy = n->out->grad;
	dd_lstm_backward(&sv->s, in[0]->grad, grad_of(in[1]), grad_of(in[2]), in[3]->grad,
	                 in[4]->grad, grad_of(in[5]), grad_of(in[6]), dy, dy + bh, in[0]->data,
	                 data_of(in[1]), data_of(in[2]), in[3]->data, in[4]->data, sv->gates,
	                 sv->scratch);
	return DD_OK;
}

dd_lstm_state dd_lstm_cell(dd_graph *g, dd_tensor *x, const dd_lstm_state *prev,
                           const dd_lstm_weights *w)
{
	dd_lstm_state next = {NULL, NULL};
	if (!x || !w || !w->w_ih || !w->w_hh || (prev && (!prev->h || !prev->c)))
		return next;
	dd_lstm_shape s;
	if (x->ndim != 2) {
		dd_graph_fail(g, "lstm_cell: x must be (B, I), got %d-D", x->ndim);
		return next;
	}
	if (check_weights(g, "lstm_cell", w, x->dims[0], x->dims[1], &s) != DD_OK ||
	    check_state(g, "lstm_cell", prev, &s) != DD_OK)
		return next;
	dd_tensor *ins[7] = {x, prev ? prev->h : NULL, prev ? prev->c : NULL, w->w_ih, w->w_hh,
	                     w->b_ih, w->b_hh};
	int want = dd_any_grad(ins, 7);
	size_t bh = (size_t)s.batch * s.n_hidden;
	dd_tensor *y = dd_graph_tensor(g, 3, (int[]){2, s.batch, s.n_hidden}, want);
	cell_saved *sv = dd_graph_alloc(g, sizeof *sv);
	float *gates = dd_graph_alloc(g, dd_lstm_saved_floats(&s) * sizeof(float));
	float *scratch = want ? dd_graph_alloc(g, dd_lstm_scratch_floats(&s) * sizeof(float))
	                      : NULL;
	if (!y || !sv || !gates || (want && !scratch))
		return next;
	*sv = (cell_saved){s, gates, scratch};
	dd_lstm_forward(&s, y->data, y->data + bh, gates, x->data, data_of(ins[1]),
	                data_of(ins[2]), w->w_ih->data, w->w_hh->data, data_of(w->b_ih),
	                data_of(w->b_hh));
	dd_tensor *h = view2(g, y, 0, s.batch, s.n_hidden);
	dd_tensor *c = view2(g, y, bh, s.batch, s.n_hidden);
	if (h && c && nn_record(g, cell_backward, y, ins, 7, sv)) {
		next.h = h;
		next.c = c;
	}
	return next;
}

/* ---- a whole sequence ---------------------------------------------------
** The output block Y is [h_0 | h_1 .. h_T | c_T], (T + 2) B H floats: h_0
** (the initial state, or zeros) sits in front of the returned sequence so
** that Y's first T slots are exactly the h each step started from, the
** layout dd_lstm_backward_steps reads dw_hh's operand from. */

typedef struct seq_saved {
	dd_lstm_shape s;
	int steps;
	float *gates;      /* [T][B][5H] */
	float *c;          /* [T][B][H]: c after each step */
	float *da;         /* [T][B][4H]: gate gradients, for the batched part */
	float *dh, *dc, *dh_rec, *dc_rec;   /* [B][H] each */
} seq_saved;

static int seq_backward(dd_graph *g, const dd_node *n)
{
	(void)g;
	const seq_saved *sv = n->saved;
	const dd_lstm_shape *s = &sv->s;
	dd_tensor *x = n->in[0], *h0 = n->in[1], *c0 = n->in[2];
	dd_tensor *wi = n->in[3], *wh = n->in[4], *bi = n->in[5], *bhh = n->in[6];
	size_t bh = (size_t)s->batch * s->n_hidden, bx = (size_t)s->batch * s->n_in;
	size_t bg = 4 * bh, b5 = 5 * bh;
	int T = sv->steps;
	const float *Y = n->out->data, *dY = n->out->grad;
	float *dc = sv->dc, *dc_rec = sv->dc_rec;
	memcpy(dc, dY + (size_t)(T + 1) * bh, bh * sizeof(float));
	memset(sv->dh_rec, 0, bh * sizeof(float));
	/* The recurrence, last step first: dh_t is what arrived at h_t from
	** outside plus what step t+1 sent back through w_hh. */
	for (int t = T - 1; t >= 0; t--) {
		const float *dh_out = dY + (size_t)(t + 1) * bh;
		for (size_t k = 0; k < bh; k++)
			sv->dh[k] = dh_out[k] + sv->dh_rec[k];
		float *dh_prev = NULL, *dc_prev = NULL;
		if (t > 0) {
			memset(sv->dh_rec, 0, bh * sizeof(float));
			memset(dc_rec, 0, bh * sizeof(float));
			dh_prev = sv->dh_rec;
			dc_prev = dc_rec;
		} else {
			dh_prev = grad_of(h0);
			dc_prev = grad_of(c0);
		}
		const float *h_prev = (t > 0 || h0) ? Y + (size_t)t * bh : NULL;
		const float *c_prev = t > 0 ? sv->c + (size_t)(t - 1) * bh : data_of(c0);
		dd_lstm_backward(s, NULL, dh_prev, dc_prev, NULL, NULL, NULL, NULL, sv->dh, dc,
		                 x->data + (size_t)t * bx, h_prev, c_prev, wi->data, wh->data,
		                 sv->gates + (size_t)t * b5, sv->da + (size_t)t * bg);
		float *tmp = dc;
		dc = dc_rec;
		dc_rec = tmp;
	}
	/* Slot 0 of Y is zeros without an initial state, so Y serves as every
	** step's h_prev. */
	dd_lstm_backward_steps(s, T, x->grad, wi->grad, wh->grad, grad_of(bi), grad_of(bhh),
	                       sv->da, x->data, Y, wi->data);
	return DD_OK;
}

dd_tensor *dd_lstm(dd_graph *g, dd_tensor *x, const dd_lstm_state *init,
                   const dd_lstm_weights *w, dd_lstm_state *last)
{
	if (last)
		*last = (dd_lstm_state){NULL, NULL};
	NN_NEED(x && w && w->w_ih && w->w_hh && (!init || (init->h && init->c)));
	if (x->ndim != 3)
		NN_FAIL(g, "lstm: x must be (T, B, I), got %d-D", x->ndim);
	dd_lstm_shape s;
	if (check_weights(g, "lstm", w, x->dims[1], x->dims[2], &s) != DD_OK ||
	    check_state(g, "lstm", init, &s) != DD_OK)
		return NULL;
	int T = x->dims[0];
	dd_tensor *ins[7] = {x, init ? init->h : NULL, init ? init->c : NULL, w->w_ih, w->w_hh,
	                     w->b_ih, w->b_hh};
	int want = dd_any_grad(ins, 7);
	size_t bh = (size_t)s.batch * s.n_hidden;
	size_t b5 = dd_lstm_saved_floats(&s);
	if ((size_t)T + 2 > (size_t)0x7fffffff / bh)
		NN_FAIL(g, "lstm: %d steps of %zu states do not fit one tensor", T, bh);
	dd_tensor *y = dd_graph_tensor(g, 1, (int[]){(int)((size_t)(T + 2) * bh)}, want);
	seq_saved *sv = dd_graph_alloc(g, sizeof *sv);
	float *gates = dd_graph_alloc(g, (size_t)T * b5 * sizeof(float));
	float *c = dd_graph_alloc(g, (size_t)T * bh * sizeof(float));
	NN_NEED(y && sv && gates && c);
	*sv = (seq_saved){.s = s, .steps = T, .gates = gates, .c = c};
	if (want) { /* backward's buffers only when there will be a backward */
		sv->da = dd_graph_alloc(g, (size_t)T * 4 * bh * sizeof(float));
		float *b4 = dd_graph_alloc(g, 4 * bh * sizeof(float));
		NN_NEED(sv->da && b4);
		sv->dh = b4;
		sv->dc = b4 + bh;
		sv->dh_rec = b4 + 2 * bh;
		sv->dc_rec = b4 + 3 * bh;
	}
	/* Every step's input projection x_t W_ih^T in one sgemm of T B rows (a
	** sgemm of B rows spends much of its time packing W_ih), into the gate
	** gradients' buffer, which backward overwrites, when there is one. */
	float *pre = want ? sv->da : dd_graph_alloc(g, (size_t)T * 4 * bh * sizeof(float));
	NN_NEED(pre);
	dd_sgemm(CblasNoTrans, CblasTrans, T * s.batch, 4 * s.n_hidden,
	         s.n_in, 1.0f, x->data, s.n_in, w->w_ih->data, s.n_in, 0.0f, pre,
	         4 * s.n_hidden);
	float *Y = y->data;
	if (init)
		memcpy(Y, init->h->data, bh * sizeof(float));
	else
		memset(Y, 0, bh * sizeof(float));
	for (int t = 0; t < T; t++) {
		const float *h_prev = (t > 0 || init) ? Y + (size_t)t * bh : NULL;
		const float *c_prev = t > 0 ? c + (size_t)(t - 1) * bh : data_of(ins[2]);
		dd_lstm_forward_pre(&s, Y + (size_t)(t + 1) * bh, c + (size_t)t * bh,
		                    gates + (size_t)t * b5, pre + (size_t)t * 4 * bh, h_prev, c_prev,
		                    w->w_hh->data, data_of(w->b_ih), data_of(w->b_hh));
	}
	memcpy(Y + (size_t)(T + 1) * bh, c + (size_t)(T - 1) * bh, bh * sizeof(float));
	dd_tensor *hs = dd_graph_alloc(g, sizeof *hs);
	NN_NEED(hs);
	*hs = (dd_tensor){0};
	hs->ndim = 3;
	hs->dims[0] = T;
	hs->dims[1] = s.batch;
	hs->dims[2] = s.n_hidden;
	hs->dims[3] = 1;
	hs->size = (size_t)T * bh;
	hs->data = Y + bh;
	hs->grad = y->grad ? y->grad + bh : NULL;
	dd_lstm_state fin = {view2(g, y, (size_t)T * bh, s.batch, s.n_hidden),
	                     view2(g, y, (size_t)(T + 1) * bh, s.batch, s.n_hidden)};
	NN_NEED(fin.h && fin.c);
	if (!nn_record(g, seq_backward, y, ins, 7, sv))
		return NULL;
	if (last)
		*last = fin;
	return hs;
}
