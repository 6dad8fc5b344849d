/*
** lcod.c -- learned coordinate descent (LCoD, Gregor & LeCun, ICML 2010,
** section 3). Coordinate descent keeps B = W_e y + S^T Z, whose shrinkage
** h_theta(B) holds, for each code, its best value given the others; a step
** moves the code that would move most (Li & Osher's greedy choice):
**
**   Zbar = h_theta(B);  k = argmax_j |Zbar_j - Z_j|;
**   B += (Zbar_k - Z_k) S_k;  Z_k = Zbar_k
**
** and the codes after T steps are h_theta(B). A step costs O(m) for m codes,
** against O(m^2) for an ISTA step. LCoD learns W_e, S and theta by
** back-propagation through the T steps, each step's k held fixed, which
** costs O(m) per step too: only code k and row k of S take part in it.
** S is used by rows (S_k is row k), so each step reads contiguous memory.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lcod.h"

static float shrink(float x, float theta)
{
	return x > theta ? x - theta : x < -theta ? x + theta : 0.0f;
}

/* One greedy step on B and Z (m codes); returns the code k it moved, with
** B_k before the move and the move Zbar_k - Z_k, which back-propagation
** needs. */
static int cd_step(float *B, float *Z, const float *S, const float *theta, int m, float *bk,
                   float *move)
{
	int k = 0;
	float most = -1.0f, zk = 0.0f;
	for (int j = 0; j < m; j++) {
		float zj = shrink(B[j], theta[j]), d = fabsf(zj - Z[j]);
		if (d > most) {
			most = d;
			k = j;
			zk = zj;
		}
	}
	*bk = B[k];
	*move = zk - Z[k];
	const float *Sk = S + (size_t)k * (size_t)m;
	if (*move != 0.0f)
		for (int j = 0; j < m; j++)
			B[j] += *move * Sk[j];
	Z[k] = zk;
	return k;
}

typedef struct lcod_saved {
	int steps;
	int *k;          /* rows x steps: the code each step moved */
	float *bk, *move; /* rows x steps: B_k before that step, and the move */
	float *work;     /* 2 m: gradients of B and Z for one row */
} lcod_saved;

/* Runs the steps backwards, row by row. dB and dZ are the gradients of B and
** Z after step t; at the end, only B's code choices are differentiable:
** Z_k's old value enters through the move, B_k through Zbar_k. */
static int lcod_backward(dd_graph *g, const dd_node *n)
{
	(void)g;
	dd_tensor *b = n->in[0], *S = n->in[1], *th = n->in[2], *z = n->out;
	const lcod_saved *sv = n->saved;
	int rows = b->dims[0], m = b->dims[1], T = sv->steps;
	float *dB = sv->work, *dZ = sv->work + m;
	for (int r = 0; r < rows; r++) {
		const float *zr = z->data + (size_t)r * (size_t)m, *gz = z->grad + (size_t)r * (size_t)m;
		for (int j = 0; j < m; j++) { /* the output's shrinkage */
			dB[j] = zr[j] != 0.0f ? gz[j] : 0.0f;
			dZ[j] = 0.0f;
			if (th->grad && zr[j] != 0.0f)
				th->grad[j] += zr[j] > 0.0f ? -gz[j] : gz[j];
		}
		for (int t = T - 1; t >= 0; t--) {
			size_t at = (size_t)r * (size_t)T + (size_t)t;
			int k = sv->k[at];
			float move = sv->move[at], bk = sv->bk[at];
			const float *Sk = S->data + (size_t)k * (size_t)m;
			double dmove = 0.0;
			for (int j = 0; j < m; j++)
				dmove += (double)Sk[j] * dB[j];
			if (S->grad && move != 0.0f) {
				float *gS = S->grad + (size_t)k * (size_t)m;
				for (int j = 0; j < m; j++)
					gS[j] += move * dB[j];
			}
			float dzbar = (float)dmove + dZ[k]; /* Zbar_k became Z_k and made the move */
			dZ[k] = -(float)dmove;               /* the old Z_k only made the move */
			if (fabsf(bk) > th->data[k]) {
				dB[k] += dzbar;
				if (th->grad)
					th->grad[k] += bk > 0.0f ? -dzbar : dzbar;
			}
		}
		if (b->grad)
			for (int j = 0; j < m; j++)
				b->grad[(size_t)r * (size_t)m + (size_t)j] += dB[j];
	}
	return DD_OK;
}

dd_tensor *lcod_unroll(dd_graph *g, dd_tensor *b, dd_tensor *S, dd_tensor *theta, int steps)
{
	if (!b || !S || !theta)
		return NULL;
	int rows = b->dims[0], m = b->dims[1];
	if (b->ndim != 2 || S->ndim != 2 || S->dims[0] != m || S->dims[1] != m ||
	    theta->size != (size_t)m || steps < 1) {
		dd_graph_fail(g, "lcod: b must be rows x m, S m x m, theta m, steps >= 1");
		return NULL;
	}
	dd_tensor *ins[3] = {b, S, theta};
	int grad = dd_any_grad(ins, 3);
	dd_tensor *z = dd_graph_tensor(g, 2, b->dims, grad);
	size_t saved = (size_t)rows * (size_t)steps;
	lcod_saved *sv = dd_graph_alloc(g, sizeof *sv);
	float *work = dd_graph_alloc(g, sizeof(float) * 2 * (size_t)m);
	if (!z || !sv || !work)
		return NULL;
	sv->steps = steps;
	sv->work = work;
	sv->k = grad ? dd_graph_alloc(g, sizeof(int) * saved) : NULL;
	sv->bk = grad ? dd_graph_alloc(g, sizeof(float) * saved) : NULL;
	sv->move = grad ? dd_graph_alloc(g, sizeof(float) * saved) : NULL;
	if (grad && (!sv->k || !sv->bk || !sv->move))
		return NULL;
	float *Z = work + m;
	for (int r = 0; r < rows; r++) {
		float *B = z->data + (size_t)r * (size_t)m; /* B lives in the output row */
		memcpy(B, b->data + (size_t)r * (size_t)m, sizeof(float) * (size_t)m);
		memset(Z, 0, sizeof(float) * (size_t)m);
		for (int t = 0; t < steps; t++) {
			float bk, move;
			int k = cd_step(B, Z, S->data, theta->data, m, &bk, &move);
			if (grad) {
				size_t at = (size_t)r * (size_t)steps + (size_t)t;
				sv->k[at] = k;
				sv->bk[at] = bk;
				sv->move[at] = move;
			}
		}
		for (int j = 0; j < m; j++)
			B[j] = shrink(B[j], theta->data[j]);
	}
	if (grad && dd_graph_record(g, lcod_backward, z, ins, 3, sv) != DD_OK)
		return NULL;
	return z;
}

void lcod_init_as_cd(float *We, float *S, float *theta, const float *Wd, const float *G,
                     int m, int n, float lambda)
{
	for (int i = 0; i < m; i++) {
		float gii = G[(size_t)i * (size_t)m + (size_t)i];
		float inv = gii > 0.0f ? 1.0f / gii : 0.0f; /* a zero atom: B_i, its code stay 0 */
		for (int j = 0; j < n; j++)
			We[(size_t)i * (size_t)n + (size_t)j] = inv * Wd[(size_t)i * (size_t)n + (size_t)j];
		for (int j = 0; j < m; j++)
			S[(size_t)i * (size_t)m + (size_t)j] = (i == j) - inv * G[(size_t)i * (size_t)m + (size_t)j];
		theta[i] = lambda / 2.0f * inv;
	}
}

int lcod_cd_curve(const float *b, const float *S, const float *theta, const float *Zstar,
                  int rows, int m, int steps, double *err)
{
	float *B = malloc(sizeof(float) * 2 * (size_t)m);
	if (!B)
		return -1;
	float *Z = B + m;
	for (int r = 0; r < rows; r++) {
		const float *zs = Zstar + (size_t)r * (size_t)m;
		memcpy(B, b + (size_t)r * (size_t)m, sizeof(float) * (size_t)m);
		memset(Z, 0, sizeof(float) * (size_t)m);
		double e = 0.0; /* ||Z - Z*||^2, of which a step changes one term */
		for (int j = 0; j < m; j++)
			e += (double)zs[j] * zs[j];
		for (int t = 1; t <= steps; t++) {
			float bk, move;
			int k = cd_step(B, Z, S, theta, m, &bk, &move);
			double before = (double)Z[k] - move - zs[k], after = (double)Z[k] - zs[k];
			e += after * after - before * before;
			err[t] += e;
		}
	}
	free(B);
	return 0;
}
