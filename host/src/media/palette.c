/*
** palette.c -- colour quantisation for the GIF writer: a median-cut palette
** per frame (Heckbert's algorithm on a 5-bit-per-channel histogram) and a
** fixed 6x7x6 colour cube.
*/
#include <stdlib.h>
#include <string.h>

#include "palette.h"

#define BITS 5
#define SIDE (1 << BITS)
#define BINS (SIDE * SIDE * SIDE)

typedef struct box {
	int lo[3], hi[3];   /* inclusive bin ranges per channel */
	uint64_t count;
} box;

static inline int bin_of(const uint8_t *px)
{
	return ((px[0] >> (8 - BITS)) << (2 * BITS)) | ((px[1] >> (8 - BITS)) << BITS) |
	       (px[2] >> (8 - BITS));
}

static inline int bin_at(int r, int g, int b)
{
	return (r << (2 * BITS)) | (g << BITS) | b;
}

int dd_quantizer_init(dd_quantizer *q)
{
	q->count = malloc(BINS * sizeof *q->count);
	q->sum = malloc(3 * (size_t)BINS * sizeof *q->sum);
	q->box_of = malloc(BINS * sizeof *q->box_of);
	if (!q->count || !q->sum || !q->box_of) {
		dd_quantizer_free(q);
		return -1;
	}
	return 0;
}

void dd_quantizer_free(dd_quantizer *q)
{
	free(q->count);
	free(q->sum);
	free(q->box_of);
	q->count = NULL;
	q->sum = NULL;
	q->box_of = NULL;
}

/* Narrows b to the bins that hold pixels and recounts it. */
static void shrink(const dd_quantizer *q, box *b)
{
	int lo[3] = {SIDE, SIDE, SIDE}, hi[3] = {-1, -1, -1};
	uint64_t n = 0;
	for (int r = b->lo[0]; r <= b->hi[0]; r++)
		for (int g = b->lo[1]; g <= b->hi[1]; g++)
			for (int bl = b->lo[2]; bl <= b->hi[2]; bl++) {
				uint32_t c = q->count[bin_at(r, g, bl)];
				if (!c)
					continue;
				int v[3] = {r, g, bl};
				for (int k = 0; k < 3; k++) {
					if (v[k] < lo[k])
						lo[k] = v[k];
					if (v[k] > hi[k])
						hi[k] = v[k];
				}
				n += c;
			}
	memcpy(b->lo, lo, sizeof lo);
	memcpy(b->hi, hi, sizeof hi);
	b->count = n;
}

static int longest_axis(const box *b)
{
	int axis = 0;
	for (int k = 1; k < 3; k++)
		if (b->hi[k] - b->lo[k] > b->hi[axis] - b->lo[axis])
			axis = k;
	return axis;
}

/* The box whose split should cut the error most: many pixels spread wide.
** -1 when every box is a single bin. */
static int pick(const box *boxes, int n)
{
	int best = -1;
	double best_score = 0;
	for (int i = 0; i < n; i++) {
		int a = longest_axis(&boxes[i]);
		double score = (double)boxes[i].count * (boxes[i].hi[a] - boxes[i].lo[a]);
		if (score > best_score) {
			best_score = score;
			best = i;
		}
	}
	return best;
}

/* Splits b at the median of its longest side; b keeps the low half. A
** shrunk box has pixels at both ends of every side, so both halves hold
** pixels whatever the cut in [lo, hi - 1]. */
static void split(const dd_quantizer *q, box *b, box *upper)
{
	int axis = longest_axis(b);
	uint64_t marginal[SIDE] = {0};
	for (int r = b->lo[0]; r <= b->hi[0]; r++)
		for (int g = b->lo[1]; g <= b->hi[1]; g++)
			for (int bl = b->lo[2]; bl <= b->hi[2]; bl++) {
				int v[3] = {r, g, bl};
				marginal[v[axis]] += q->count[bin_at(r, g, bl)];
			}
	int cut = b->lo[axis];
	uint64_t acc = marginal[cut];
	while (cut < b->hi[axis] - 1 && 2 * acc < b->count)
		acc += marginal[++cut];
	*upper = *b;
	upper->lo[axis] = cut + 1;
	b->hi[axis] = cut;
	shrink(q, b);
	shrink(q, upper);
}

void dd_quantize_median_cut(dd_quantizer *q, const uint8_t *rgb, size_t npix,
                            dd_palette *pal, uint8_t *index)
{
	memset(q->count, 0, BINS * sizeof *q->count);
	memset(q->sum, 0, 3 * (size_t)BINS * sizeof *q->sum);
	for (size_t i = 0; i < npix; i++) {
		const uint8_t *px = rgb + 3 * i;
		int k = bin_of(px);
		q->count[k]++;
		q->sum[3 * k] += px[0];
		q->sum[3 * k + 1] += px[1];
		q->sum[3 * k + 2] += px[2];
	}
	box boxes[256];
	int n = 1;
	boxes[0] = (box){.lo = {0, 0, 0}, .hi = {SIDE - 1, SIDE - 1, SIDE - 1}};
	shrink(q, &boxes[0]);
	while (n < 256) {
		int i = pick(boxes, n);
		if (i < 0)
			break;
		split(q, &boxes[i], &boxes[n]);
		n++;
	}
	pal->count = n;
	for (int i = 0; i < n; i++) {
		const box *b = &boxes[i];
		uint64_t s[3] = {0, 0, 0};
		for (int r = b->lo[0]; r <= b->hi[0]; r++)
			for (int g = b->lo[1]; g <= b->hi[1]; g++)
				for (int bl = b->lo[2]; bl <= b->hi[2]; bl++) {
					int k = bin_at(r, g, bl);
					q->box_of[k] = (uint16_t)i;
					for (int c = 0; c < 3; c++)
						s[c] += q->sum[3 * k + c];
				}
		for (int c = 0; c < 3; c++)
			pal->rgb[i][c] = b->count ? (uint8_t)((s[c] + b->count / 2) / b->count) : 0;
	}
	for (size_t i = 0; i < npix; i++)
		index[i] = (uint8_t)q->box_of[bin_of(rgb + 3 * i)];
}

void dd_palette_cube(dd_palette *pal)
{
	pal->count = 6 * 7 * 6;
	for (int r = 0; r < 6; r++)
		for (int g = 0; g < 7; g++)
			for (int b = 0; b < 6; b++) {
				uint8_t *e = pal->rgb[r * 42 + g * 6 + b];
				e[0] = (uint8_t)(r * 255 / 5);
				e[1] = (uint8_t)(g * 255 / 6);
				e[2] = (uint8_t)(b * 255 / 5);
			}
}

void dd_quantize_cube(const uint8_t *rgb, size_t npix, uint8_t *index)
{
	for (size_t i = 0; i < npix; i++) {
		const uint8_t *px = rgb + 3 * i;
		int r = (px[0] * 5 + 127) / 255, g = (px[1] * 6 + 127) / 255,
		    b = (px[2] * 5 + 127) / 255;
		index[i] = (uint8_t)(r * 42 + g * 6 + b);
	}
}
