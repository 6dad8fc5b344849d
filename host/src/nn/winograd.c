/* winograd.c - the 4 x 4, stride 2 convolutions of the world models'
 * encoders (and their input gradients) by Winograd's minimal filtering,
 * with up to 2.25x fewer multiply-adds than conv.c's products.
 *
 * A stride-2 4x4 convolution is a stride-1 2x2 one over the input's four
 * phase planes: tap (2i + a, 2j + b) of channel ci reads phase (a, b) of
 * ci at (oy + i, ox + j). Its input gradient is one too: phase (a, b) of
 * dx at (y', x') gathers dy at (y' - i, x' - j) through tap (2i + a, 2j + b),
 * a stride-1 2x2 correlation of dy padded by one with the kernel flipped.
 * Both are computed here as the same thing: C input planes of Hp x Wp per
 * image, O output planes, kernel g[o][c] of 2 x 2, in tiles of 3 x 3
 * outputs, each from a 4 x 4 tile of input:
 *
 *     Y = A^T [ (G g G^T) (.) (B^T d B) ] A            (F(3x3, 2x2))
 *
 * 16 multiplies per 9 outputs instead of 36. The 16 elementwise products
 * over all channels and tiles are 16 matrix products, U[xi] (O x C) times
 * V[xi] (C x tiles), on gemm.c's kernel; U is the kernel transformed (once
 * per call, packed for the kernel), V the input tiles transformed (a chunk
 * of tiles at a time, written straight into the kernel's panels), and the
 * output transform reads the 16 products back. The transforms are exact
 * (points 0, 1, -1, infinity; the 1/2 of G is the only non-integer), so
 * the result differs from the direct sum by rounding alone.
 *
 * Threads take whole groups of 16 images (each its own planes, V and
 * products) from a counter: no thread waits on another until the call
 * ends. Where it does not pay (nn_wino_pays), conv.c's products do it. */
#include "winograd.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "gemm.h"
#include "nn_internal.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define WINO_TARGET __attribute__((target("avx512f")))

enum {
	NR = DD_GEMM_NR,
	CHUNK = 2 * DD_GEMM_NR, /* columns of a chunk's products: tiles x images */
	LANES = 16,             /* images side by side in a vector */
	XI = 16,                /* elementwise products per tile */
};

/* What the stride-1 2x2 correlation stands for. */
enum { FORWARD, INPUT_GRAD };

typedef struct wino {
	const dd_conv2d_shape *s;
	int dir;
	int n, C, O;      /* images, input and output planes per image */
	int th, tw, T;    /* output tiles down and across an image, T in all */
	int Hp, Wp;       /* input planes, zero past what the source fills */
	size_t vstride;   /* floats between the chunk's V[xi] (C x CHUNK) */
	size_t mstride;   /* and between its products (O x CHUNK) */
	const float *src; /* x (forward) or dy */
	float *dst;       /* y (=) or dx (+=) */
	const float *w, *bias;
	const float *U;   /* XI packed operands, ustride apart */
	size_t ustride;
	atomic_int next;  /* the next chunk (or xi while U is made) */
} wino;

/* Per-thread buffers, grown to the largest layer once and kept: a steady
 * training step allocates nothing. Part p's planes (a group of LANES
 * images), V (XI x C x CHUNK), products (XI x O x CHUNK) and the kernel
 * transform of one xi before packing (O x C); U shared. */
static struct {
	float *planes[NN_MAX_PARTS], *v[NN_MAX_PARTS], *m[NN_MAX_PARTS], *tmp[NN_MAX_PARTS];
	size_t planes_n[NN_MAX_PARTS], v_n[NN_MAX_PARTS], m_n[NN_MAX_PARTS], tmp_n[NN_MAX_PARTS];
	float *u;
	size_t u_n;
} buf;
static atomic_flag buf_in_use = ATOMIC_FLAG_INIT;

static int grow(float **p, size_t *have, size_t need)
{
	if (*have >= need)
		return 1;
	float *q = aligned_alloc(64, (need * sizeof(float) + 63) / 64 * 64);
	if (!q)
		return 0;
	free(*p);
	*p = q;
	*have = need;
	return 1;
}

static int ceil3(int n) { return (n + 2) / 3; }

static wino make_wino(const dd_conv2d_shape *s, int dir)
{
	wino w = {.s = s, .dir = dir, .n = s->n};
	if (dir == FORWARD) {
		w.C = 4 * s->c_in;
		w.O = s->c_out;
		w.th = ceil3(dd_conv2d_out_h(s));
		w.tw = ceil3(dd_conv2d_out_w(s));
	} else {
		/* the phase planes of the padded input that hold a pixel of it */
		w.C = s->c_out;
		w.O = 4 * s->c_in;
		w.th = ceil3((s->h_in + 2 * s->ph + 1) / 2);
		w.tw = ceil3((s->w_in + 2 * s->pw + 1) / 2);
	}
	w.T = w.th * w.tw;
	w.Hp = 3 * w.th + 1;
	w.Wp = 3 * w.tw + 1;
	w.vstride = (size_t)w.C * CHUNK;
	w.mstride = (size_t)w.O * CHUNK;
	return w;
}

/* U[xi] = G g G^T for every kernel g[o][c] (2 x 2), packed for the
 * kernel: the parts take the 16 xi in turn. Rows of G: (1, 0), (1/2, 1/2),
 * (1/2, -1/2), (0, 1); U[xi][o][c] = sum over the 4 taps of coef * tap. In
 * the forward, g[o][c] for c = (ci, a, b) is tap (2i + a, 2j + b) of
 * weight[o][ci]; for the input gradient, o = (ci, a, b) and c = co, tap
 * (2 - 2i + a, 2 - 2j + b) of weight[co][ci]. */
static void make_u_part(void *ctx, int part, int parts)
{
	(void)parts;
	static const float G[4][2] = {{1, 0}, {0.5f, 0.5f}, {0.5f, -0.5f}, {0, 1}};
	wino *w = ctx;
	const dd_conv2d_shape *s = w->s;
	float *t = buf.tmp[part];
	for (int xi; (xi = atomic_fetch_add(&w->next, 1)) < XI;) {
		float coef[2][2];
		for (int i = 0; i < 2; i++)
			for (int j = 0; j < 2; j++)
				coef[i][j] = G[xi / 4][i] * G[xi % 4][j];
		for (int ci = 0; ci < s->c_in; ci++)
			for (int co = 0; co < s->c_out; co++) {
				const float *k = w->w + ((size_t)co * s->c_in + ci) * 16;
				for (int a = 0; a < 2; a++)
					for (int b = 0; b < 2; b++) {
						float sum = 0.0f;
						for (int i = 0; i < 2; i++)
							for (int j = 0; j < 2; j++)
								sum += coef[i][j] * (w->dir == FORWARD
								                     ? k[(2 * i + a) * 4 + 2 * j + b]
								                     : k[(2 - 2 * i + a) * 4 + 2 - 2 * j + b]);
						int plane = ci * 4 + a * 2 + b;
						if (w->dir == FORWARD)
							t[(size_t)co * w->C + plane] = sum;
						else
							t[(size_t)plane * w->C + co] = sum;
					}
			}
		dd_sgemm_pack_rows(CblasNoTrans, w->O, w->C, t, w->C,
		                   (float *)w->U + (size_t)xi * w->ustride);
	}
}

/* Image group k's input planes, each Hp x Wp, the group's LANES images
 * side by side in every pixel (image l of the group at lane l; lanes past
 * the batch zero), zero where the source has nothing: the forward's phase
 * planes of x, or dy padded by one. A tile of 16 images is then 16
 * vectors, and the transforms work on 16 images at a time. */
static void make_planes(const wino *w, int k, float *planes)
{
	const dd_conv2d_shape *s = w->s;
	size_t plane = (size_t)w->Hp * w->Wp * LANES;
	int g0 = k * LANES, lanes = w->n - g0 < LANES ? w->n - g0 : LANES;
	/* pixel (r, q) of plane c is pixel (step r + y0, step q + x0) of the
	 * source's plane sc, h x w */
	int fwd = w->dir == FORWARD, step = fwd ? 2 : 1;
	int h = fwd ? s->h_in : dd_conv2d_out_h(s), wd = fwd ? s->w_in : dd_conv2d_out_w(s);
	size_t img = (size_t)(fwd ? s->c_in : s->c_out) * h * wd;
	if (lanes < LANES)
		memset(planes, 0, sizeof(float) * plane * (size_t)w->C);
	for (int c = 0; c < w->C; c++) {
		int sc = fwd ? c / 4 : c;
		int y0 = fwd ? c / 2 % 2 - s->ph : -1, x0 = fwd ? c % 2 - s->pw : -1;
		const float *src = w->src + (size_t)g0 * img + (size_t)sc * h * wd;
		float *p = planes + (size_t)c * plane;
		for (int r = 0; r < w->Hp; r++)
			for (int q = 0; q < w->Wp; q++, p += LANES) {
				int y = step * r + y0, x = step * q + x0;
				if (y < 0 || y >= h || x < 0 || x >= wd) {
					memset(p, 0, sizeof(float) * (size_t)lanes);
					continue;
				}
				const float *in = src + (size_t)y * wd + x;
				for (int l = 0; l < lanes; l++)
					p[l] = in[(size_t)l * img];
			}
	}
}

/* V[xi] = B^T d B for tile positions [t0, t1) of the group, 16 images a
 * vector, into the chunk's panels (tile position t0 + i at columns 16 i..).
 * Rows of B^T: (1, 0, -1, 0), (0, 1, 1, 0), (0, -1, 1, 0), (0, -1, 0, 1). */
WINO_TARGET static void transform_in(const wino *w, const float *planes, int t0, int t1, float *v)
{
	size_t plane = (size_t)w->Hp * w->Wp * LANES, vstride = w->vstride;
	size_t row = (size_t)w->Wp * LANES;
	for (int t = t0; t < t1; t++) {
		int ty = t / w->tw, tx = t % w->tw, col = (t - t0) * LANES;
		float *vc = v + (size_t)(col / NR) * w->C * NR + col % NR;
		const float *d = planes + (size_t)(3 * ty) * row + (size_t)(3 * tx) * LANES;
		for (int c = 0; c < w->C; c++, vc += NR, d += plane) {
			__m512 r[4][4];
			for (int j = 0; j < 4; j++) {
				const float *dj = d + j * LANES;
				__m512 d0 = _mm512_loadu_ps(dj), d1 = _mm512_loadu_ps(dj + row),
				       d2 = _mm512_loadu_ps(dj + 2 * row), d3 = _mm512_loadu_ps(dj + 3 * row);
				r[0][j] = _mm512_sub_ps(d0, d2);
				r[1][j] = _mm512_add_ps(d1, d2);
				r[2][j] = _mm512_sub_ps(d2, d1);
				r[3][j] = _mm512_sub_ps(d3, d1);
			}
			for (int u = 0; u < 4; u++) {
				float *o = vc + (size_t)(4 * u) * vstride;
				_mm512_storeu_ps(o, _mm512_sub_ps(r[u][0], r[u][2]));
				_mm512_storeu_ps(o + vstride, _mm512_add_ps(r[u][1], r[u][2]));
				_mm512_storeu_ps(o + 2 * vstride, _mm512_sub_ps(r[u][2], r[u][1]));
				_mm512_storeu_ps(o + 3 * vstride, _mm512_sub_ps(r[u][3], r[u][1]));
			}
		}
	}
}

/* Y = A^T m A for tile positions [t0, t1) of group k, output plane by
 * output plane, each image's 3 x 3 stored where it stands for. Rows of
 * A^T: (1, 1, 1, 0), (0, 1, -1, 0), (0, 1, 1, 1). */
WINO_TARGET static void transform_out(const wino *w, const float *m, int k, int t0, int t1)
{
	const dd_conv2d_shape *s = w->s;
	int ho = dd_conv2d_out_h(s), wo = dd_conv2d_out_w(s);
	int g0 = k * LANES, lanes = w->n - g0 < LANES ? w->n - g0 : LANES;
	for (int o = 0; o < w->O; o++)
		for (int t = t0; t < t1; t++) {
			const float *mo = m + (size_t)o * CHUNK + (size_t)(t - t0) * LANES;
			__m512 x[4][4], r[3][4];
			float Y[3][3][LANES];
			for (int xi = 0; xi < XI; xi++)
				x[xi / 4][xi % 4] = _mm512_loadu_ps(mo + (size_t)xi * w->mstride);
			for (int j = 0; j < 4; j++) {
				__m512 s12 = _mm512_add_ps(x[1][j], x[2][j]);
				r[0][j] = _mm512_add_ps(x[0][j], s12);
				r[1][j] = _mm512_sub_ps(x[1][j], x[2][j]);
				r[2][j] = _mm512_add_ps(s12, x[3][j]);
			}
			for (int i = 0; i < 3; i++) {
				__m512 s12 = _mm512_add_ps(r[i][1], r[i][2]);
				_mm512_storeu_ps(Y[i][0], _mm512_add_ps(r[i][0], s12));
				_mm512_storeu_ps(Y[i][1], _mm512_sub_ps(r[i][1], r[i][2]));
				_mm512_storeu_ps(Y[i][2], _mm512_add_ps(s12, r[i][3]));
			}
			int y0 = 3 * (t / w->tw), x0 = 3 * (t % w->tw);
			if (w->dir == FORWARD) {
				size_t img = (size_t)w->O * ho * wo;
				float *y = w->dst + (size_t)g0 * img + (size_t)o * ho * wo;
				float bias = w->bias ? w->bias[o] : 0.0f;
				for (int i = 0; i < 3 && y0 + i < ho; i++)
					for (int j = 0; j < 3 && x0 + j < wo; j++) {
						float *at = y + (size_t)(y0 + i) * wo + x0 + j;
						for (int l = 0; l < lanes; l++)
							at[(size_t)l * img] = Y[i][j][l] + bias;
					}
			} else { /* o = (ci, a, b): padded pixel (2y' + a, 2x' + b) */
				int ci = o / 4, a = o / 2 % 2, bb = o % 2;
				size_t img = (size_t)s->c_in * s->h_in * s->w_in;
				float *dx = w->dst + (size_t)g0 * img + (size_t)ci * s->h_in * s->w_in;
				for (int i = 0; i < 3; i++) {
					int y = 2 * (y0 + i) + a - s->ph;
					if (y < 0 || y >= s->h_in)
						continue;
					for (int j = 0; j < 3; j++) {
						int xx = 2 * (x0 + j) + bb - s->pw;
						if (xx < 0 || xx >= s->w_in)
							continue;
						float *at = dx + (size_t)y * s->w_in + xx;
						for (int l = 0; l < lanes; l++)
							at[(size_t)l * img] += Y[i][j][l];
					}
				}
			}
		}
}

/* The parts take groups of LANES images in turn: each builds the group's
 * planes, then goes through its tile positions CHUNK / LANES at a time. */
static void chunk_part(void *ctx, int part, int parts)
{
	(void)parts;
	wino *w = ctx;
	float *planes = buf.planes[part], *v = buf.v[part], *m = buf.m[part];
	size_t vstride = w->vstride, mstride = w->mstride;
	int groups = (w->n + LANES - 1) / LANES, step = CHUNK / LANES;
	for (int k; (k = atomic_fetch_add(&w->next, 1)) < groups;) {
		make_planes(w, k, planes);
		for (int t0 = 0; t0 < w->T; t0 += step) {
			int t1 = t0 + step < w->T ? t0 + step : w->T, N = (t1 - t0) * LANES;
			if (N % NR) /* the last panel's columns past N: zeros, not stale numbers */
				for (int xi = 0; xi < XI; xi++)
					for (int c = 0; c < w->C; c++)
						memset(v + xi * vstride + (size_t)(N / NR) * w->C * NR +
						           (size_t)c * NR + N % NR,
						       0, sizeof(float) * (size_t)(NR - N % NR));
			transform_in(w, planes, t0, t1, v);
			for (int xi = 0; xi < XI; xi++)
				dd_sgemm_both_packed(w->O, N, w->C, w->U + (size_t)xi * w->ustride,
				                     v + (size_t)xi * vstride, 0.0f,
				                     m + (size_t)xi * mstride, CHUNK);
			transform_out(w, m, k, t0, t1);
		}
	}
}

/* Gives parts threads their buffers and U its room; how many parts can run
 * (0: not even one). */
static int ready(const wino *w, int parts)
{
	if (!grow(&buf.u, &buf.u_n, XI * dd_sgemm_rows_floats(w->O, w->C)))
		return 0;
	for (int p = 0; p < parts; p++)
		if (!grow(&buf.planes[p], &buf.planes_n[p], (size_t)w->C * w->Hp * w->Wp * LANES) ||
		    !grow(&buf.v[p], &buf.v_n[p], XI * w->vstride) ||
		    !grow(&buf.m[p], &buf.m_n[p], XI * w->mstride) ||
		    !grow(&buf.tmp[p], &buf.tmp_n[p], (size_t)w->O * w->C))
			return p;
	return parts;
}

static int run(wino *w)
{
	if (atomic_flag_test_and_set(&buf_in_use))
		return 0; /* another thread of the program has the buffers */
	int parts = ready(w, nn_parts());
	if (parts > 0) {
		w->U = buf.u;
		w->ustride = dd_sgemm_rows_floats(w->O, w->C);
		atomic_store(&w->next, 0);
		dd_nn_parallel(make_u_part, w, parts);
		atomic_store(&w->next, 0);
		dd_nn_parallel(chunk_part, w, parts);
	}
	atomic_flag_clear(&buf_in_use);
	return parts > 0;
}

int nn_wino_forward(const dd_conv2d_shape *s, float *y, const float *x, const float *weight,
                    const float *bias)
{
	wino w = make_wino(s, FORWARD);
	w.src = x;
	w.dst = y;
	w.w = weight;
	w.bias = bias;
	return run(&w);
}

int nn_wino_input_grad(const dd_conv2d_shape *s, float *dx, const float *dy,
                       const float *weight)
{
	wino w = make_wino(s, INPUT_GRAD);
	w.src = dy;
	w.dst = dx;
	w.w = weight;
	return run(&w);
}

/* Whether it pays: the products need depth (a 3-channel input's 12
 * planes leave the kernel idle), and the tiles must not cover much more
 * than the output. Per input and output channel, the direct way costs 16
 * multiplies per output pixel, this one 16 per tile in each of 4 phase
 * planes. The second layer's input gradient, phase planes of 30 x 7 in 10
 * x 3 tiles, does 0.69 of the direct work and runs 10 % faster; the
 * third's, 16 x 4 in 6 x 2 tiles, would do 1.14. */
int nn_wino_pays(const dd_conv2d_shape *s, int input_grad)
{
	if (s->kh != 4 || s->kw != 4 || s->sh != 2 || s->sw != 2 || !dd_sgemm_panels_ok())
		return 0;
	wino w = make_wino(s, input_grad ? INPUT_GRAD : FORWARD);
	int pixels = dd_conv2d_out_h(s) * dd_conv2d_out_w(s);
	return w.C >= 64 && 5 * w.T <= pixels; /* 4 x 16 T <= 0.8 x 16 pixels */
}

#else /* the kernel is AVX-512's alone */
int nn_wino_pays(const dd_conv2d_shape *s, int input_grad)
{
	(void)s; (void)input_grad;
	return 0;
}

int nn_wino_forward(const dd_conv2d_shape *s, float *y, const float *x, const float *weight,
                    const float *bias)
{
	(void)s; (void)y; (void)x; (void)weight; (void)bias;
	return 0;
}

int nn_wino_input_grad(const dd_conv2d_shape *s, float *dx, const float *dy,
                       const float *weight)
{
	(void)s; (void)dx; (void)dy; (void)weight;
	return 0;
}
#endif
