/* bench_lstm_tape.c - one LSTM training step through the tape (forward,
 * backward, Adam) at the size (1024 units, 10 steps, batch 32), with
 * the sequence op dd_lstm beside the same LSTM unrolled as dd_lstm_cell
 * steps, its reference, in the same run; both beside the OpenBLAS sgemm
 * peak. Medians of repeats after warm-up, min and max beside them. */
#include <stdio.h>
#include <stdlib.h>

#include "bench_util.h"
#include "daydream/nn.h"

/* (cblas.h pulls in complex.h, whose macro I rules out the short names) */
enum { NT = 10, NB = 32, NI = 1024, NH = 1024, REPS = 15, WARM = 3 };

typedef struct net {
	dd_paramset *ps;
	dd_lstm_weights w;
	dd_optim *opt;
} net;

/* One step: loss = mean of every h (and the last c) squared. */
static int step(net *m, dd_graph *g, const float *x, int sequence)
{
	dd_graph_reset(g);
	dd_paramset_zero_grad(m->ps);
	dd_tensor *xs = dd_graph_input(g, 3, (int[]){NT, NB, NI}, x, 0);
	dd_tensor *loss = NULL;
	if (sequence) {
		dd_lstm_state last;
		dd_tensor *hs = dd_lstm(g, xs, NULL, &m->w, &last);
		loss = dd_add(g, dd_mean_all(g, dd_mul(g, hs, hs)), dd_mean_all(g, last.c));
	} else {
		dd_tensor *hs[NT];
		dd_lstm_state s = {NULL, NULL};
		for (int t = 0; t < NT; t++) {
			dd_tensor *xt = dd_reshape(g, dd_slice(g, xs, 0, t, 1), 2, (int[]){NB, NI});
			s = dd_lstm_cell(g, xt, t ? &s : NULL, &m->w);
			hs[t] = dd_reshape(g, s.h, 3, (int[]){1, NB, NH});
		}
		dd_tensor *all = dd_concat(g, hs, NT, 0);
		loss = dd_add(g, dd_mean_all(g, dd_mul(g, all, all)), dd_mean_all(g, s.c));
	}
	if (!loss || dd_graph_backward(g, loss) != DD_OK) {
		fprintf(stderr, "step failed: %s\n", dd_graph_error(g));
		return -1;
	}
	return dd_optim_step(m->opt);
}

/* Interleaves the two ways rep by rep, so that a change in the machine's
** load (it is shared) hits both alike. t[way][rep], sorted. */
static void time_both(net *m, dd_graph *g, const float *x, double t[2][REPS])
{
	for (int r = 0; r < WARM; r++)
		for (int way = 0; way < 2; way++)
			if (step(m, g, x, way) != 0)
				exit(1);
	for (int r = 0; r < REPS; r++)
		for (int way = 0; way < 2; way++) {
			double t0 = bu_now();
			if (step(m, g, x, way) != 0)
				exit(1);
			t[way][r] = bu_now() - t0;
		}
	for (int way = 0; way < 2; way++)
		bu_summarise(t[way], REPS);
}

int main(int argc, char **argv)
{
	int threads = argc > 1 ? atoi(argv[1]) : 0;
	dd_nn_set_threads(threads);
	char cpu[128];
	bu_cpu_model(cpu, sizeof cpu);
	net m;
	m.ps = dd_paramset_new();
	m.w.w_ih = dd_paramset_add(m.ps, "w_ih", 2, (int[]){4 * NH, NI});
	m.w.w_hh = dd_paramset_add(m.ps, "w_hh", 2, (int[]){4 * NH, NH});
	m.w.b_ih = dd_paramset_add(m.ps, "b_ih", 1, (int[]){4 * NH});
	m.w.b_hh = dd_paramset_add(m.ps, "b_hh", 1, (int[]){4 * NH});
	if (dd_paramset_alloc(m.ps) != DD_OK)
		return 1;
	dd_rng rng;
	dd_rng_seed(&rng, 1, 0);
	dd_init_xavier(m.w.w_ih, &rng, 1.0f);
	dd_init_orthogonal(m.w.w_hh, &rng, 1.0f);
	dd_optim_config cfg = dd_optim_defaults(DD_OPTIM_ADAM);
	m.opt = dd_optim_new(m.ps, &cfg);
	dd_graph *g = dd_graph_new((size_t)64 << 20);
	float *x = malloc(sizeof(float) * NT * NB * NI);
	for (int i = 0; i < NT * NB * NI; i++)
		x[i] = dd_rng_uniform(&rng) - 0.5f;

	double peak = bu_sgemm_peak(5, NULL);
	double t[2][REPS];
	time_both(&m, g, x, t);
	double cm = t[0][REPS / 2], cl = t[0][0], ch = t[0][REPS - 1];
	double sm = t[1][REPS / 2], sl = t[1][0], sh = t[1][REPS - 1];
	/* forward 2 sgemms per step, backward 4 (dx, dh, dW_ih, dW_hh) */
	double gflop = 3.0 * 2.0 * NT * NB * 4.0 * NH * (NI + NH) * 1e-9;
	printf("LSTM training step (forward + backward + Adam), %d units, %d steps, batch %d\n",
	       NH, NT, NB);
	printf("CPU %s, %d BLAS threads, OpenBLAS core %s; sgemm 2048^3 peak %.1f GFLOP/s\n",
	       cpu, dd_nn_threads(), openblas_get_corename(), peak);
	printf("  unrolled dd_lstm_cell (reference) %8.2f ms  (min %.2f, max %.2f)  %.1f GFLOP/s\n",
	       1e3 * cm, 1e3 * cl, 1e3 * ch, gflop / cm);
	printf("  dd_lstm sequence op               %8.2f ms  (min %.2f, max %.2f)  %.1f GFLOP/s "
	       "= %.0f %% of peak\n", 1e3 * sm, 1e3 * sl, 1e3 * sh, gflop / sm,
	       100.0 * gflop / sm / peak);
	printf("  speed-up of the sequence op: %.2fx\n", cm / sm);
	free(x);
	dd_graph_free(g);
	dd_optim_free(m.opt);
	dd_paramset_free(m.ps);
	return 0;
}
