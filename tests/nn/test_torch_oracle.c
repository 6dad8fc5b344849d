/*
** test_torch_oracle.c -- the spatial and recurrent ops against PyTorch.
** Builds one composite network from every op of op_conv.c, op_pool.c,
** op_upsample.c and op_lstm.c with fixed weights and inputs, writes every
** input, output, switch and gradient to torch_oracle_dump.txt, and runs
** tests/nn/torch_oracle.py on it, which rebuilds the network with torch's
** own modules in float64 and compares everything to 1e-4 relative. Without
** python3 or torch (Debian python3-torch) the script says SKIP and so does
** this test.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "daydream/nn.h"

#define DUMP "torch_oracle_dump.txt"
#define PYTHON "/usr/bin/python3"

static dd_rng R;

/* Named tensors of the network: inputs and parameters first (their
** gradients are dumped too), then the fixed projections r_k of the loss. */
typedef struct named {
	const char *name;
	dd_tensor *t;
} named;

static dd_tensor *leaf(named *tab, int *n, const char *name, int nd, const int *dims,
                       float scale)
{
	dd_tensor *t = dd_tensor_new(nd, dims, 1);
	for (size_t i = 0; i < t->size; i++)
		t->data[i] = scale * (2.0f * dd_rng_uniform(&R) - 1.0f);
	tab[*n] = (named){name, t};
	(*n)++;
	return t;
}

static void put(FILE *f, const char *kind, const char *name, const dd_tensor *t,
                const float *v)
{
	fprintf(f, "%s %s %d", kind, name, t->ndim);
	for (int i = 0; i < t->ndim; i++)
		fprintf(f, " %d", t->dims[i]);
	fputc('\n', f);
	for (size_t i = 0; i < t->size; i++)
		fprintf(f, "%.9g%c", (double)v[i], i + 1 < t->size ? ' ' : '\n');
}

static void put_ints(FILE *f, const char *name, const int32_t *v, size_t n)
{
	fprintf(f, "ints %s 1 %zu\n", name, n);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%d%c", v[i], i + 1 < n ? ' ' : '\n');
}

/* Runs the script; returns its exit status and copies its output. */
static int run_script(char *out, size_t outlen)
{
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "%s %s/tests/nn/torch_oracle.py %s 2>&1", PYTHON,
	         DD_SOURCE_DIR, DUMP);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t n = fread(out, 1, outlen - 1, p);
	out[n] = '\0';
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_ops_match_pytorch(void **state)
{
	(void)state;
	if (access(PYTHON, X_OK) != 0) {
		fprintf(stderr, "SKIP: %s not found\n", PYTHON);
		skip();
	}
	dd_rng_seed(&R, 4321, 0);
	named tab[32];
	int n = 0;
	enum { N = 2, H = 5 };
	dd_tensor *x = leaf(tab, &n, "x", 4, (int[]){N, 3, 12, 10}, 1.0f);
	dd_tensor *w1 = leaf(tab, &n, "w1", 4, (int[]){6, 3, 3, 3}, 0.4f);
	dd_tensor *b1 = leaf(tab, &n, "b1", 1, (int[]){6}, 0.2f);
	dd_tensor *w2 = leaf(tab, &n, "w2", 4, (int[]){8, 6, 3, 3}, 0.3f);
	dd_tensor *b2 = leaf(tab, &n, "b2", 1, (int[]){8}, 0.2f);
	dd_tensor *beta = leaf(tab, &n, "beta", 1, (int[]){1}, 1.0f);
	beta->data[0] = 1.5f;
	dd_tensor *wt = leaf(tab, &n, "wt", 4, (int[]){6, 4, 3, 3}, 0.3f);
	dd_tensor *bt = leaf(tab, &n, "bt", 1, (int[]){4}, 0.2f);
	dd_lstm_weights l1 = {leaf(tab, &n, "l1_w_ih", 2, (int[]){4 * H, 32}, 0.3f),
	                      leaf(tab, &n, "l1_w_hh", 2, (int[]){4 * H, H}, 0.4f),
	                      leaf(tab, &n, "l1_b_ih", 1, (int[]){4 * H}, 0.2f),
	                      leaf(tab, &n, "l1_b_hh", 1, (int[]){4 * H}, 0.2f)};
	dd_tensor *h0 = leaf(tab, &n, "h0", 2, (int[]){N, H}, 0.5f);
	dd_tensor *c0 = leaf(tab, &n, "c0", 2, (int[]){N, H}, 0.5f);
	dd_lstm_weights l2w = {leaf(tab, &n, "l2_w_ih", 2, (int[]){4 * H, 18}, 0.3f),
	                       leaf(tab, &n, "l2_w_hh", 2, (int[]){4 * H, H}, 0.4f),
	                       leaf(tab, &n, "l2_b_ih", 1, (int[]){4 * H}, 0.2f),
	                       leaf(tab, &n, "l2_b_hh", 1, (int[]){4 * H}, 0.2f)};
	int n_leaves = n;

	dd_graph *g = dd_graph_new((size_t)16 << 20);
	const dd_pool_switches *sw;
	dd_tensor *c1 = dd_conv2d(g, x, w1, b1, &(dd_conv_params){1, 1, 1, 1, 0, 0});
	dd_tensor *p1 = dd_maxpool2d(g, dd_tanh(g, c1), &(dd_pool_params){2, 2, 2, 2, 0, 0}, &sw);
	dd_tensor *c2 = dd_conv2d(g, p1, w2, b2, &(dd_conv_params){2, 1, 1, 0, 0, 0});
	dd_tensor *px, *py;
	dd_tensor *sp = dd_softpool2d(g, c2, &(dd_pool_params){2, 2, 1, 1, 0, 0}, 0.0f, beta, &px,
	                              &py);
	dd_tensor *l2 = dd_l2pool(g, c2, &(dd_l2pool_params){2, 4, 2, 2, 1, 2, 1e-3f});
	dd_tensor *u = dd_maxunpool2d(g, p1, sw);
	dd_tensor *t = dd_conv_transpose2d(g, u, wt, bt, &(dd_conv_params){2, 2, 1, 1, 1, 1});
	dd_tensor *upn = dd_upsample_nearest(g, c2, 2, 3);
	dd_tensor *upb = dd_upsample_bilinear(g, c2, 3, 2);
	dd_tensor *steps[3] = {dd_reshape(g, sp, 3, (int[]){1, N, 32}),
	                       dd_reshape(g, px, 3, (int[]){1, N, 32}),
	                       dd_reshape(g, py, 3, (int[]){1, N, 32})};
	dd_lstm_state init = {h0, c0}, last;
	dd_tensor *hs = dd_lstm(g, dd_concat(g, steps, 3, 0), &init, &l1, &last);
	dd_lstm_state cell = dd_lstm_cell(g, dd_reshape(g, l2, 2, (int[]){N, 18}), &last, &l2w);
	assert_non_null(cell.h);
	if (!hs || !t || !upn || !upb)
		fail_msg("forward failed: %s", dd_graph_error(g));

	/* loss = sum_k sum(r_k * out_k) over every output, r_k fixed */
	named outs[] = {{"c1", c1}, {"p1", p1}, {"c2", c2}, {"sp", sp}, {"px", px}, {"py", py},
	                {"l2", l2}, {"u", u}, {"t", t}, {"upn", upn}, {"upb", upb}, {"hs", hs},
	                {"h_last", last.h}, {"c_last", last.c}, {"cell_h", cell.h},
	                {"cell_c", cell.c}};
	int n_out = (int)(sizeof outs / sizeof outs[0]);
	dd_tensor *rs[16];
	dd_tensor *loss = NULL;
	for (int k = 0; k < n_out; k++) {
		dd_tensor *o = outs[k].t;
		rs[k] = dd_graph_tensor(g, o->ndim, o->dims, 0);
		assert_non_null(rs[k]);
		for (size_t i = 0; i < o->size; i++)
			rs[k]->data[i] = 2.0f * dd_rng_uniform(&R) - 1.0f;
		dd_tensor *term = dd_sum_all(g, dd_mul(g, rs[k], o));
		loss = loss ? dd_add(g, loss, term) : term;
	}
	assert_int_equal(dd_graph_backward(g, loss), DD_OK);

	FILE *f = fopen(DUMP, "w");
	assert_non_null(f);
	for (int k = 0; k < n_leaves; k++)
		put(f, "leaf", tab[k].name, tab[k].t, tab[k].t->data);
	for (int k = 0; k < n_out; k++) {
		char rname[64];
		snprintf(rname, sizeof rname, "r_%s", outs[k].name);
		put(f, "proj", rname, rs[k], rs[k]->data);
		put(f, "out", outs[k].name, outs[k].t, outs[k].t->data);
	}
	put(f, "out", "loss", loss, loss->data);
	put_ints(f, "switches", sw->idx, p1->size);
	for (int k = 0; k < n_leaves; k++) {
		char gname[64];
		snprintf(gname, sizeof gname, "d_%s", tab[k].name);
		put(f, "grad", gname, tab[k].t, tab[k].t->grad);
	}
	assert_int_equal(fclose(f), 0);
	dd_graph_free(g);
	for (int k = 0; k < n_leaves; k++)
		dd_tensor_free(tab[k].t);

	static char out[1 << 16];
	int rc = run_script(out, sizeof out);
	fprintf(stderr, "%s", out);
	if (strncmp(out, "SKIP", 4) == 0 && rc == 0)
		skip();
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "all match"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ops_match_pytorch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
