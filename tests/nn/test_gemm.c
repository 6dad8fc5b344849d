/*
** test_gemm.c -- dd_sgemm against a double-precision triple loop: every
** transpose pair, odd sizes on both sides of the kernel's tile (8 x 48) and
** block (KC 256, MC 512, KB 2048, NC 384) edges, leading dimensions wider than the
** rows, alpha and beta including beta = 0 over a C full of NaN, on one and
** on two threads (products split along N, and along M when N is narrow).
** Columns of C past N, inside ldc, must be left alone.
*/
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conv.h"
#include "daydream/nn.h"
#include "gemm.h"

#define GUARD 12345.0f

static uint32_t seed = 1;

static float uniform(void) /* in [-1, 1) */
{
	seed = seed * 1664525u + 1013904223u;
	return (float)(seed >> 8) / (float)(1u << 23) - 1.0f;
}

static float *fill(size_t n)
{
	float *p = malloc(n * sizeof *p);
	assert_non_null(p);
	for (size_t i = 0; i < n; i++)
		p[i] = uniform();
	return p;
}

/* op(B), K x N stored with row stride ldb, in dd_sgemm_panels's layout. */
static float *panels(const float *B, int ldb, int K, int N)
{
	int np = (N + DD_GEMM_NR - 1) / DD_GEMM_NR;
	float *p = calloc((size_t)np * K * DD_GEMM_NR, sizeof *p);
	assert_non_null(p);
	for (int k = 0; k < K; k++)
		for (int j = 0; j < N; j++)
			p[(size_t)(j / DD_GEMM_NR) * K * DD_GEMM_NR + (size_t)k * DD_GEMM_NR +
			  j % DD_GEMM_NR] = B[(size_t)k * ldb + j];
	return p;
}

/* op(B) for dd_sgemm_packed_by, packed from B (K x N, row stride ldb) a
** block at a time; checks that every block asked for lies in op(B) and
** starts on a panel. */
typedef struct plain_b { const float *B; int ldb, K, N; } plain_b;

static void pack_plain(void *ctx, int k0, int kc, int j0, int nc, float *dst)
{
	const plain_b *pb = ctx;
	if (k0 < 0 || kc < 1 || k0 + kc > pb->K || j0 < 0 || nc < 1 || j0 + nc > pb->N ||
	    j0 % DD_GEMM_NR)
		fail_msg("pack asked for rows %d+%d, columns %d+%d of %d x %d", k0, kc, j0, nc,
		         pb->K, pb->N);
	for (int q = 0; q < nc; q += DD_GEMM_NR)
		for (int k = 0; k < kc; k++)
			for (int i = 0; i < DD_GEMM_NR; i++)
				dst[(size_t)q * kc + (size_t)k * DD_GEMM_NR + i] =
					q + i < nc ? pb->B[(size_t)(k0 + k) * pb->ldb + j0 + q + i] : 0.0f;
}

/* One product of M x K by K x N, A and B stored as ta / tb say with
** leading dimensions pad wider than their rows; C's ldc is pad wider too.
** tb = 2: B (not transposed) goes to dd_sgemm_panels in panels; tb = 3: to
** dd_sgemm_packed_by, packed on demand. */
static void check(int ta, int tb, int M, int N, int K, float alpha, float beta, int pad)
{
	int ar = ta ? K : M, ac = ta ? M : K, br = tb == 1 ? N : K, bc = tb == 1 ? K : N;
	int lda = ac + pad, ldb = bc + pad, ldc = N + pad;
	float *A = fill((size_t)ar * lda), *B = fill((size_t)br * ldb);
	float *C = fill((size_t)M * ldc), *C0 = malloc(sizeof(float) * (size_t)M * ldc);
	assert_non_null(C0);
	for (int i = 0; i < M; i++)
		for (int j = 0; j < ldc; j++)
			if (j >= N)
				C[(size_t)i * ldc + j] = GUARD;
			else if (beta == 0.0f)
				C[(size_t)i * ldc + j] = NAN;
	for (size_t i = 0; i < (size_t)M * ldc; i++)
		C0[i] = C[i];
	if (tb == 3) {
		plain_b pb = {B, ldb, K, N};
		dd_sgemm_packed_by(ta ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda,
		                   pack_plain, &pb, beta, C, ldc);
		tb = 0;
	} else if (tb == 2) {
		float *Bp = panels(B, ldb, K, N);
		dd_sgemm_panels(ta ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, Bp, beta, C,
		                ldc);
		free(Bp);
		tb = 0;
	} else {
		dd_sgemm(ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K,
		         alpha, A, lda, B, ldb, beta, C, ldc);
	}
	for (int i = 0; i < M; i++)
		for (int j = 0; j < ldc; j++) {
			float got = C[(size_t)i * ldc + j];
			if (j >= N) {
				if (got != GUARD)
					fail_msg("C[%d][%d] past N=%d was written", i, j, N);
				continue;
			}
			double s = 0.0, mag = 0.0;
			for (int k = 0; k < K; k++) {
				double a = ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
				double b = tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
				s += a * b;
				mag += fabs(a * b);
			}
			double c0 = beta == 0.0f ? 0.0 : C0[(size_t)i * ldc + j];
			double want = alpha * s + beta * c0;
			double tol = 1e-5 * (fabs(alpha) * mag + fabs(beta * c0)) + 1e-30;
			if (!(fabs(got - want) <= tol))
				fail_msg("ta %d tb %d M %d N %d K %d alpha %g beta %g: C[%d][%d] = %.9g, "
				         "want %.9g", ta, tb, M, N, K, alpha, beta, i, j, got, want);
		}
	free(A);
	free(B);
	free(C);
	free(C0);
}

/* Every transpose pair on sizes around the tile edges, one (alpha, beta). */
static void sweep(float alpha, float beta, int pad)
{
	static const int mn[] = {1, 7, 13, 33, 100, 257};
	static const int ks[] = {1, 31, 257};
	for (int t = 0; t < 4; t++)
		for (size_t i = 0; i < sizeof mn / sizeof *mn; i++)
			for (size_t j = 0; j < sizeof mn / sizeof *mn; j++)
				for (size_t k = 0; k < sizeof ks / sizeof *ks; k++)
					check(t & 1, t >> 1, mn[i], mn[j], ks[k], alpha, beta, pad);
}

static void test_sizes_one_thread(void **state)
{
	(void)state;
	dd_nn_set_threads(1);
	sweep(1.0f, 0.0f, 0);
	sweep(-0.5f, 1.0f, 3);
}

static void test_sizes_two_threads(void **state)
{
	(void)state;
	dd_nn_set_threads(2);
	sweep(1.0f, 0.0f, 5);
	sweep(0.75f, -2.0f, 0);
	dd_nn_set_threads(1);
}

/* Past the blocks: K > KC with a remainder, M > MC, N > NC, K > KB (the
** depth of A packed at once), and a narrow N with a tall M, whose tasks
** split M as well. */
static void test_blocks(void **state)
{
	(void)state;
	for (int thr = 1; thr <= 2; thr++) {
		dd_nn_set_threads(thr);
		for (int t = 0; t < 4; t++) {
			check(t & 1, t >> 1, 530, 800, 600, 1.0f, 0.0f, 1);
			check(t & 1, t >> 1, 1000, 20, 300, 2.0f, 0.5f, 2);
			check(t & 1, t >> 1, 20, 70, 2300, 1.0f, -0.5f, 0);
		}
	}
	dd_nn_set_threads(1);
}

/* B handed over in panels, or packed on demand by the caller's function,
** both forms of A, on one and two threads; K past a block of A (2048) and
** M past a block of rows (512) too. */
static void test_panels(void **state)
{
	(void)state;
	if (!dd_sgemm_panels_ok())
		skip(); /* no AVX-512: conv.c does not ask for panels */
	for (int thr = 1; thr <= 2; thr++) {
		dd_nn_set_threads(thr);
		for (int ta = 0; ta < 2; ta++)
			for (int tb = 2; tb <= 3; tb++) {
				check(ta, tb, 13, 100, 31, 1.0f, 0.0f, 2);
				check(ta, tb, 64, 1000, 300, 1.0f, 1.0f, 0);
				check(ta, tb, 600, 47, 257, -1.5f, 0.25f, 1);
			}
		check(0, 3, 40, 150, 2100, 1.0f, 0.5f, 3);
	}
	dd_nn_set_threads(1);
}

/* Max |a - b| over n, relative to max |b|. */
static double rel_diff(const float *a, const float *b, size_t n)
{
	double d = 0.0, m = 1e-30;
	for (size_t i = 0; i < n; i++) {
		d = fmax(d, fabs((double)a[i] - b[i]));
		m = fmax(m, fabs((double)b[i]));
	}
	return d / m;
}

/* conv.c writes its columns straight into the kernel's panels when it can:
** forward and backward of conv2d and of the transposed convolution must
** give what the plain path through cblas_sgemm gives, on 1 and 2 threads.
** Shapes: a chunk of several images with columns and rows (K = 64) off the
** panel width, and one of a single image per chunk (K = 54, 2,400 columns). */
static void test_conv_panels_match_blas(void **state)
{
	(void)state;
	if (!dd_sgemm_panels_ok())
		skip();
	static const dd_conv2d_shape shapes[] = {
		{5, 4, 13, 9, 6, 4, 4, 2, 2, 1, 1},
		{3, 6, 60, 40, 5, 3, 3, 1, 1, 1, 1},
	};
	for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++) {
		const dd_conv2d_shape *s = &shapes[si];
		size_t nin = (size_t)s->n * s->c_in * s->h_in * s->w_in;
		size_t nout = (size_t)s->n * s->c_out * dd_conv2d_out_h(s) * dd_conv2d_out_w(s);
		size_t nw = (size_t)s->c_out * s->c_in * s->kh * s->kw;
		dd_conv_transpose2d_shape ts = {s->n, s->c_out, dd_conv2d_out_h(s),
		                                dd_conv2d_out_w(s), s->c_in, s->kh, s->kw, s->sh,
		                                s->sw, s->ph, s->pw, 0, 0};
		size_t nsc = dd_conv2d_scratch_floats(s);
		if (dd_conv_transpose2d_scratch_floats(&ts) > nsc)
			nsc = dd_conv_transpose2d_scratch_floats(&ts);
		float *x = fill(nin), *w = fill(nw), *b = fill((size_t)s->c_out), *gy = fill(nout);
		float *scratch = fill(nsc);
		/* per path: y, dx, dw, db, then the transposed conv's out, din, dweight */
		size_t len[7] = {nout, nin, nw, (size_t)s->c_out, nin, nout, nw};
		float *got[2][7];
		for (int path = 0; path < 2; path++)
			for (int i = 0; i < 7; i++) {
				got[path][i] = calloc(len[i], sizeof(float));
				assert_non_null(got[path][i]);
			}
		for (int thr = 1; thr <= 2; thr++) {
			dd_nn_set_threads(thr);
			for (int path = 0; path < 2; path++) {
				float **o = got[path];
				dd_sgemm_use_blas(path);
				for (int i = 0; i < 7; i++)
					memset(o[i], 0, len[i] * sizeof(float));
				dd_conv2d_forward(s, o[0], x, w, b, scratch);
				dd_conv2d_backward(s, o[1], o[2], o[3], gy, x, w, scratch);
				/* transposed: gy (shaped like conv's output) in, x-shaped out */
				dd_conv_transpose2d_forward(&ts, o[4], gy, w, NULL, scratch);
				dd_conv_transpose2d_backward(&ts, o[5], o[6], NULL, x, gy, w, scratch);
			}
			dd_sgemm_use_blas(0);
			for (int i = 0; i < 7; i++) {
				double d = rel_diff(got[0][i], got[1][i], len[i]);
				if (!(d <= 1e-5))
					fail_msg("shape %zu, %d threads, output %d: panels differ from BLAS by "
					         "%g", si, thr, i, d);
			}
		}
		for (int path = 0; path < 2; path++)
			for (int i = 0; i < 7; i++)
				free(got[path][i]);
		free(x); free(w); free(b); free(gy); free(scratch);
	}
	dd_nn_set_threads(1);
}

/* K = 0 or alpha = 0 scale C by beta and read no A or B. */
static void test_degenerate(void **state)
{
	(void)state;
	float C[6] = {1, 2, 3, 4, 5, 6};
	dd_sgemm(CblasNoTrans, CblasNoTrans, 2, 3, 0, 1.0f, NULL, 1, NULL, 3, 2.0f, C, 3);
	for (int i = 0; i < 6; i++)
		assert_true(C[i] == 2.0f * (float)(i + 1));
	float D[4] = {NAN, NAN, NAN, NAN};
	float a[4] = {1, 2, 3, 4};
	dd_sgemm(CblasNoTrans, CblasNoTrans, 2, 2, 2, 0.0f, a, 2, a, 2, 0.0f, D, 2);
	for (int i = 0; i < 4; i++)
		assert_true(D[i] == 0.0f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes_one_thread),
		cmocka_unit_test(test_sizes_two_threads),
		cmocka_unit_test(test_blocks),
		cmocka_unit_test(test_panels),
		cmocka_unit_test(test_conv_panels_match_blas),
		cmocka_unit_test(test_degenerate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
