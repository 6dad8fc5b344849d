/*
** dictionary.c -- the sparse-coding decoder: unit-norm atoms, their
** gradient, re-drawing of dead atoms, and file/PNG exchange.
*/
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <daydream/checkpoint.h>
#include <daydream/png.h>

#include "dictionary.h"

static void normalize_row(float *w, int n, dd_rng *rng)
{
	double s = 0.0;
	for (int i = 0; i < n; i++)
		s += (double)w[i] * w[i];
	if (s < 1e-20) { /* a dead direction: any unit vector will do */
		for (int i = 0; i < n; i++)
			w[i] = dd_rng_normal(rng);
		s = 0.0;
		for (int i = 0; i < n; i++)
			s += (double)w[i] * w[i];
	}
	float inv = (float)(1.0 / sqrt(s));
	for (int i = 0; i < n; i++)
		w[i] *= inv;
}

void dict_normalize(float *W, int m, int n, dd_rng *rng)
{
	for (int j = 0; j < m; j++)
		normalize_row(W + (size_t)j * (size_t)n, n, rng);
}

void dict_init(float *W, int m, int n, const float *Y, int batch, dd_rng *rng)
{
	for (int j = 0; j < m; j++) {
		float *w = W + (size_t)j * (size_t)n;
		const float *y = batch > 0 ? Y + (size_t)dd_rng_below(rng, (uint64_t)batch) * (size_t)n
		                           : NULL;
		double scale = 0.0;
		for (int i = 0; i < n && y; i++)
			scale += (double)y[i] * y[i];
		scale = y ? 0.1 * sqrt(scale / n) + 1e-6 : 1.0;
		for (int i = 0; i < n; i++)
			w[i] = (y ? y[i] : 0.0f) + (float)scale * dd_rng_normal(rng);
	}
	dict_normalize(W, m, n, rng);
}

void dict_grad(const float *W, int m, int n, const float *Y, const float *Z, int batch,
               float *R, float *gW)
{
	memcpy(R, Y, sizeof(float) * (size_t)batch * (size_t)n);
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, batch, n, m, -1.0f, Z, m, W, n,
	            1.0f, R, n);
	cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m, n, batch, -2.0f / (float)batch,
	            Z, m, R, n, 1.0f, gW, n);
}

int dict_resample(float *W, int m, int n, const float *Z, const float *R, int batch,
                  float *idle, int patience, dd_rng *rng)
{
	for (int j = 0; j < m; j++) {
		int used = 0;
		for (int b = 0; b < batch && !used; b++)
			used = Z[(size_t)b * (size_t)m + (size_t)j] != 0.0f;
		idle[j] = used ? 0.0f : idle[j] + 1.0f;
	}
	if (patience <= 0 || batch == 0)
		return 0;
	double *err = malloc(sizeof(double) * (size_t)batch);
	if (!err)
		return 0;
	for (int b = 0; b < batch; b++) {
		double e = 0.0;
		for (int i = 0; i < n; i++)
			e += (double)R[(size_t)b * n + i] * R[(size_t)b * n + i];
		err[b] = e;
	}
	int redrawn = 0;
	for (int j = 0; j < m; j++) {
		if (idle[j] < (float)patience)
			continue;
		int worst = 0;
		for (int b = 1; b < batch; b++)
			worst = err[b] > err[worst] ? b : worst;
		if (err[worst] <= 0.0)
			break; /* nothing left unexplained */
		memcpy(W + (size_t)j * (size_t)n, R + (size_t)worst * (size_t)n, sizeof(float) * (size_t)n);
		normalize_row(W + (size_t)j * (size_t)n, n, rng);
		err[worst] = -1.0; /* each row seeds one atom at most */
		idle[j] = 0.0f;
		redrawn++;
	}
	free(err);
	return redrawn;
}

/* A dd_writer onto a FILE. */
static int file_write(dd_writer *w, const void *data, size_t n)
{
	return fwrite(data, 1, n, (FILE *)w->ctx) == n ? DD_OK : DD_ERR;
}

/* A one-tensor parameter set "W_d" of m x n; NULL with err filled. */
static dd_paramset *dict_paramset(int m, int n, dd_tensor **t, char *err, size_t errlen)
{
	dd_paramset *ps = dd_paramset_new();
	int dims[2] = {m, n};
	if (!ps || !(*t = dd_paramset_add(ps, "W_d", 2, dims)) || dd_paramset_alloc(ps) != DD_OK) {
		snprintf(err, errlen, "out of memory for a %d x %d dictionary", m, n);
		dd_paramset_free(ps);
		return NULL;
	}
	return ps;
}

int dict_save_file(const float *W, int m, int n, const char *path, char *err, size_t errlen)
{
	dd_tensor *t;
	dd_paramset *ps = dict_paramset(m, n, &t, err, errlen);
	if (!ps)
		return -1;
	memcpy(t->data, W, sizeof(float) * (size_t)m * (size_t)n);
	FILE *f = fopen(path, "wb");
	if (!f) {
		snprintf(err, errlen, "%s: cannot open for writing", path);
		dd_paramset_free(ps);
		return -1;
	}
	dd_writer w = {.ctx = f, .write = file_write};
	int rc = dd_checkpoint_save(ps, NULL, &w);
	if (fclose(f) != 0)
		rc = DD_ERR;
	if (rc != DD_OK)
		snprintf(err, errlen, "%s: write failed", path);
	dd_paramset_free(ps);
	return rc == DD_OK ? 0 : -1;
}

/* The whole file in memory (malloc'd), or NULL with err filled. */
static unsigned char *slurp(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: cannot open (a dictionary written by sparse_coding's "
		         "export_dictionary)", path);
		return NULL;
	}
	unsigned char *buf = NULL;
	size_t cap = 0, n = 0, got;
	do {
		if (n == cap) {
			unsigned char *b = realloc(buf, cap = cap ? 2 * cap : 65536);
			if (!b) {
				free(buf);
				fclose(f);
				snprintf(err, errlen, "%s: out of memory", path);
				return NULL;
			}
			buf = b;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
	} while (got > 0);
	fclose(f);
	*len = n;
	return buf;
}

int dict_load_file(float *W, int m, int n, const char *path, char *err, size_t errlen)
{
	size_t len = 0;
	unsigned char *bytes = slurp(path, &len, err, errlen);
	if (!bytes)
		return -1;
	dd_tensor *t;
	dd_paramset *ps = dict_paramset(m, n, &t, err, errlen);
	int rc = -1;
	if (ps) {
		dd_membuf mb;
		dd_reader r;
		dd_membuf_reader(&r, &mb, bytes, len);
		if (dd_checkpoint_load(ps, NULL, &r) != DD_OK)
			snprintf(err, errlen, "%s: %s (expected a %d x %d dictionary: atoms = %d)", path,
			         dd_paramset_error(ps), m, n, m);
		else {
			memcpy(W, t->data, sizeof(float) * (size_t)m * (size_t)n);
			rc = 0;
		}
	}
	dd_paramset_free(ps);
	free(bytes);
	return rc;
}

int dict_save_png(const float *W, int m, int h, int w, int zoom, const char *path,
                  char *err, size_t errlen)
{
	int cols = (int)ceil(sqrt((double)m)), rows = (m + cols - 1) / cols;
	int cw = w * zoom + 1, ch = h * zoom + 1;
	int width = cols * cw + 1, height = rows * ch + 1;
	uint8_t *px = calloc((size_t)width * (size_t)height, 1);
	if (!px) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	for (int j = 0; j < m; j++) {
		const float *a = W + (size_t)j * (size_t)h * (size_t)w;
		float peak = 1e-12f;
		for (int i = 0; i < h * w; i++)
			peak = fabsf(a[i]) > peak ? fabsf(a[i]) : peak;
		int x0 = 1 + (j % cols) * cw, y0 = 1 + (j / cols) * ch;
		for (int y = 0; y < h * zoom; y++)
			for (int x = 0; x < w * zoom; x++) {
				float v = a[(y / zoom) * w + x / zoom] / peak;
				px[(size_t)(y0 + y) * (size_t)width + (size_t)(x0 + x)] =
					(uint8_t)lrintf(127.5f + 127.0f * v);
			}
	}
	int rc = dd_png_write_file(path, px, width, height, 1, err, errlen);
	free(px);
	return rc == DD_OK ? 0 : -1;
}

int dict_is_drawn(const float *W, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (W[i] != 0.0f)
			return 1;
	return 0;
}
