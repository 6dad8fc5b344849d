/*
** image_metrics.c -- PSNR, SSIM and sharpness difference on batches of
** c x h x w float frames (see daydream/image_metrics.h for the definitions).
** Sums run in double: variances as E[x^2] - E[x]^2 lose too much in float.
*/
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "daydream/image_metrics.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return DD_ERR;
}

static int check(const char *what, const float *a, const float *b, int n, int c,
                 int h, int w, const double *out, char *err, size_t errlen)
{
	if (!a || !b || !out)
		return fail(err, errlen, "%s: frames and output must not be NULL", what);
	if (n < 1 || c < 1 || h < 1 || w < 1)
		return fail(err, errlen, "%s: shape must be positive, got n=%d c=%d h=%d w=%d",
		            what, n, c, h, w);
	if ((double)n * c * h * w > 1e12)
		return fail(err, errlen, "%s: %d x %d x %d x %d values is too many", what, n, c, h, w);
	return DD_OK;
}

/* 10 log10(1 / x), +inf at 0 (a perfect match). */
static double decibels(double x)
{
	return x > 0 ? -10.0 * log10(x) : INFINITY;
}

int dd_psnr(const float *a, const float *b, int n, int c, int h, int w,
            double *out, char *err, size_t errlen)
{
	if (check("psnr", a, b, n, c, h, w, out, err, errlen) != DD_OK)
		return DD_ERR;
	size_t m = (size_t)c * h * w;
	for (int k = 0; k < n; k++) {
		const float *x = a + (size_t)k * m, *y = b + (size_t)k * m;
		double s = 0;
		for (size_t i = 0; i < m; i++) {
			double d = (double)x[i] - y[i];
			s += d * d;
		}
		out[k] = decibels(s / (double)m);
	}
	return DD_OK;
}

/* ---- SSIM --------------------------------------------------------------- */

/* The normalised 1-D Gaussian; the 2-D window is its outer product. */
static void gaussian(double *g)
{
	int r = DD_SSIM_WINDOW / 2;
	double s = 0;
	for (int i = 0; i < DD_SSIM_WINDOW; i++) {
		double x = i - r;
		g[i] = exp(-x * x / (2 * DD_SSIM_SIGMA * DD_SSIM_SIGMA));
		s += g[i];
	}
	for (int i = 0; i < DD_SSIM_WINDOW; i++)
		g[i] /= s;
}

/* The five local moments SSIM needs, filtered along rows then columns:
** mean of a, of b, of a^2, of b^2, of ab. row holds 5 x h x ow values
** (ow = w - 10), filtered along x; the vertical pass then reads it. */
enum { MA, MB, AA, BB, AB, NMOM };

static double ssim_channel(const float *a, const float *b, int h, int w,
                           const double *g, double *row)
{
	const int K = DD_SSIM_WINDOW;
	const int oh = h - K + 1, ow = w - K + 1;
	const size_t plane = (size_t)h * ow;
	for (int y = 0; y < h; y++)
		for (int x = 0; x < ow; x++) {
			double m[NMOM] = {0, 0, 0, 0, 0};
			const float *pa = a + (size_t)y * w + x, *pb = b + (size_t)y * w + x;
			for (int k = 0; k < K; k++) {
				double va = pa[k], vb = pb[k];
				m[MA] += g[k] * va;
				m[MB] += g[k] * vb;
				m[AA] += g[k] * va * va;
				m[BB] += g[k] * vb * vb;
				m[AB] += g[k] * va * vb;
			}
			for (int q = 0; q < NMOM; q++)
				row[q * plane + (size_t)y * ow + x] = m[q];
		}
	const double C1 = (DD_SSIM_K1 * 1.0) * (DD_SSIM_K1 * 1.0);
	const double C2 = (DD_SSIM_K2 * 1.0) * (DD_SSIM_K2 * 1.0);
	double total = 0;
	for (int y = 0; y < oh; y++)
		for (int x = 0; x < ow; x++) {
			double m[NMOM] = {0, 0, 0, 0, 0};
			for (int k = 0; k < K; k++)
				for (int q = 0; q < NMOM; q++)
					m[q] += g[k] * row[q * plane + (size_t)(y + k) * ow + x];
			double va = m[AA] - m[MA] * m[MA];
			double vb = m[BB] - m[MB] * m[MB];
			double cov = m[AB] - m[MA] * m[MB];
			total += ((2 * m[MA] * m[MB] + C1) * (2 * cov + C2)) /
			         ((m[MA] * m[MA] + m[MB] * m[MB] + C1) * (va + vb + C2));
		}
	return total / ((double)oh * ow);
}

int dd_ssim(const float *a, const float *b, int n, int c, int h, int w,
            double *out, char *err, size_t errlen)
{
	if (check("ssim", a, b, n, c, h, w, out, err, errlen) != DD_OK)
		return DD_ERR;
	if (h < DD_SSIM_WINDOW || w < DD_SSIM_WINDOW)
		return fail(err, errlen, "ssim: frames must be at least %dx%d (the Gaussian window), got %dx%d",
		            DD_SSIM_WINDOW, DD_SSIM_WINDOW, h, w);
	double g[DD_SSIM_WINDOW];
	gaussian(g);
	double *row = malloc(sizeof *row * NMOM * (size_t)h * (size_t)(w - DD_SSIM_WINDOW + 1));
	if (!row)
		return fail(err, errlen, "ssim: out of memory for %dx%d frames", h, w);
	size_t hw = (size_t)h * w;
	for (int k = 0; k < n; k++) {
		double s = 0;
		for (int ch = 0; ch < c; ch++) {
			size_t off = ((size_t)k * c + ch) * hw;
			s += ssim_channel(a + off, b + off, h, w, g, row);
		}
		out[k] = s / c;
	}
	free(row);
	return DD_OK;
}

/* ---- sharpness difference ---------------------------------------------- */

/* gi + gj of one value: absolute differences with the neighbours above and
** to the left, none on the first row / column. */
static double grad_sum(const float *p, int y, int x, int w)
{
	double s = 0;
	if (y > 0)
		s += fabs((double)p[0] - p[-w]);
	if (x > 0)
		s += fabs((double)p[0] - p[-1]);
	return s;
}

int dd_sharpness(const float *a, const float *b, int n, int c, int h, int w,
                 double *out, char *err, size_t errlen)
{
	if (check("sharpness", a, b, n, c, h, w, out, err, errlen) != DD_OK)
		return DD_ERR;
	size_t hw = (size_t)h * w, m = (size_t)c * hw;
	for (int k = 0; k < n; k++) {
		double s = 0;
		for (int ch = 0; ch < c; ch++) {
			size_t off = (size_t)k * m + (size_t)ch * hw;
			for (int y = 0; y < h; y++)
				for (int x = 0; x < w; x++) {
					size_t i = off + (size_t)y * w + x;
					s += fabs(grad_sum(a + i, y, x, w) - grad_sum(b + i, y, x, w));
				}
		}
		out[k] = decibels(s / (double)m);
	}
	return DD_OK;
}
