/*
** test_gif.c -- libdaydream's animated-GIF writer (daydream/gif.h), checked
** by decoding what it writes with giflib's own reader: frame count, size,
** delay, looping, colours (exact for flat colours, close for gradients),
** compression, files, and the errors.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gif_lib.h>

#include "daydream/gif.h"
#include "daydream/plugin.h"

typedef struct source {
	const uint8_t *bytes;
	size_t n, pos;
} source;

static int read_mem(GifFileType *g, GifByteType *dst, int n)
{
	source *s = g->UserData;
	size_t k = s->n - s->pos < (size_t)n ? s->n - s->pos : (size_t)n;
	memcpy(dst, s->bytes + s->pos, k);
	s->pos += k;
	return (int)k;
}

/* Decodes a whole GIF from memory (the caller closes it). */
static GifFileType *decode(const uint8_t *bytes, size_t n, source *s)
{
	*s = (source){bytes, n, 0};
	int e = 0;
	GifFileType *g = DGifOpen(s, read_mem, &e);
	assert_non_null(g);
	assert_int_equal(DGifSlurp(g), GIF_OK);
	return g;
}

/* Frame f's pixel i as RGB, through its local or the global colour map. */
static const GifColorType *pixel(const GifFileType *g, int f, size_t i)
{
	const SavedImage *im = &g->SavedImages[f];
	const ColorMapObject *map = im->ImageDesc.ColorMap ? im->ImageDesc.ColorMap : g->SColorMap;
	assert_non_null(map);
	assert_true(im->RasterBits[i] < map->ColorCount);
	return &map->Colors[im->RasterBits[i]];
}

/* Frames of a few flat colours that move from frame to frame. */
static uint8_t *flat_frames(int w, int h, int n)
{
	static const uint8_t colours[5][3] = {
		{235, 240, 247}, {102, 92, 82}, {229, 57, 53}, {67, 160, 71}, {30, 136, 229}};
	uint8_t *f = malloc((size_t)w * h * 3 * n);
	for (int k = 0; k < n; k++)
		for (int y = 0; y < h; y++)
			for (int x = 0; x < w; x++) {
				int c = y > h - 5 ? 1 : (x >= 5 + k && x < 15 + k && y >= 8 && y < 18) ? 2 + k % 3 : 0;
				memcpy(f + (((size_t)k * h + y) * w + x) * 3, colours[c], 3);
			}
	return f;
}

static void test_flat_colours_exact(void **state)
{
	(void)state;
	int w = 40, h = 30, n = 5;
	uint8_t *frames = flat_frames(w, h, n), *bytes;
	size_t len;
	char err[256];
	assert_int_equal(dd_gif_encode(frames, n, w, h, 7, DD_GIF_ADAPTIVE, &bytes, &len, err,
	                               sizeof err), DD_OK);
	assert_memory_equal(bytes, "GIF89a", 6);
	source s;
	GifFileType *g = decode(bytes, len, &s);
	assert_int_equal(g->ImageCount, n);
	assert_int_equal(g->SWidth, w);
	assert_int_equal(g->SHeight, h);
	for (int f = 0; f < n; f++) {
		assert_int_equal(g->SavedImages[f].ImageDesc.Width, w);
		assert_int_equal(g->SavedImages[f].ImageDesc.Height, h);
		GraphicsControlBlock gcb;
		assert_int_equal(DGifSavedExtensionToGCB(g, f, &gcb), GIF_OK);
		assert_int_equal(gcb.DelayTime, 7);
		for (size_t i = 0; i < (size_t)w * h; i++) {
			const GifColorType *c = pixel(g, f, i);
			const uint8_t *want = frames + ((size_t)f * w * h + i) * 3;
			assert_int_equal(c->Red, want[0]);
			assert_int_equal(c->Green, want[1]);
			assert_int_equal(c->Blue, want[2]);
		}
	}
	/* It loops: the NETSCAPE2.0 block comes before the first frame. */
	int loops = 0;
	const SavedImage *first = &g->SavedImages[0];
	for (int i = 0; i + 1 < first->ExtensionBlockCount; i++)
		if (first->ExtensionBlocks[i].Function == APPLICATION_EXT_FUNC_CODE &&
		    first->ExtensionBlocks[i].ByteCount == 11 &&
		    memcmp(first->ExtensionBlocks[i].Bytes, "NETSCAPE2.0", 11) == 0)
			loops = first->ExtensionBlocks[i + 1].Bytes[0] == 1 &&
			        first->ExtensionBlocks[i + 1].Bytes[1] == 0;
	assert_true(loops);
	DGifCloseFile(g, NULL);
	free(bytes);
	free(frames);
}

/* A smooth gradient with thousands of colours: the median-cut palette
** stays within a few levels; the fixed cube within half its step. */
static void test_gradient_error(void **state)
{
	(void)state;
	int w = 96, h = 64;
	uint8_t *rgb = malloc((size_t)w * h * 3);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			uint8_t *p = rgb + ((size_t)y * w + x) * 3;
			p[0] = (uint8_t)(x * 255 / (w - 1));
			p[1] = (uint8_t)(y * 255 / (h - 1));
			p[2] = (uint8_t)((x + y) * 255 / (w + h - 2));
		}
	double mean_err[2], max_err[2];
	for (int kind = 0; kind < 2; kind++) {
		uint8_t *bytes;
		size_t len;
		char err[256];
		assert_int_equal(dd_gif_encode(rgb, 1, w, h, 4, kind ? DD_GIF_CUBE : DD_GIF_ADAPTIVE,
		                               &bytes, &len, err, sizeof err), DD_OK);
		source s;
		GifFileType *g = decode(bytes, len, &s);
		assert_int_equal(g->ImageCount, 1);
		if (kind)
			assert_true(g->SColorMap && g->SColorMap->ColorCount == 256);
		double sum = 0, mx = 0;
		for (size_t i = 0; i < (size_t)w * h; i++) {
			const GifColorType *c = pixel(g, 0, i);
			int d[3] = {c->Red - rgb[3 * i], c->Green - rgb[3 * i + 1], c->Blue - rgb[3 * i + 2]};
			for (int k = 0; k < 3; k++) {
				sum += abs(d[k]);
				mx = fmax(mx, abs(d[k]));
			}
		}
		mean_err[kind] = sum / (3.0 * w * h);
		max_err[kind] = mx;
		DGifCloseFile(g, NULL);
		free(bytes);
	}
	print_message("gradient: median cut mean %.2f max %.0f; cube mean %.2f max %.0f\n",
	              mean_err[0], max_err[0], mean_err[1], max_err[1]);
	assert_true(mean_err[0] < 4.5 && max_err[0] <= 24);
	assert_true(mean_err[1] < 16 && max_err[1] <= 26);  /* half of 255 / 5 */
	assert_true(mean_err[0] < mean_err[1]);
	free(rgb);
}

/* LZW does its job on flat pictures, and a file holds what memory would. */
static void test_file_and_compression(void **state)
{
	(void)state;
	int w = 200, h = 150, n = 12;
	uint8_t *frames = malloc((size_t)w * h * 3 * n);
	for (size_t i = 0; i < (size_t)w * h * n; i++) {
		size_t k = i / ((size_t)w * h), px = i % ((size_t)w * h);
		int inside = (int)(px % w) / 20 == (int)k % 10;
		frames[3 * i] = inside ? 200 : 20;
		frames[3 * i + 1] = 90;
		frames[3 * i + 2] = inside ? 30 : 220;
	}
	char path[] = "/tmp/ddgifXXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	char err[256];
	dd_gif *g = dd_gif_open(path, w, h, 10, DD_GIF_CUBE, err, sizeof err);
	assert_non_null(g);
	for (int k = 0; k < n; k++)
		assert_int_equal(dd_gif_add_frame(g, frames + (size_t)k * w * h * 3), DD_OK);
	assert_int_equal(dd_gif_close(g, NULL, NULL, err, sizeof err), DD_OK);
	int e = 0;
	GifFileType *d = DGifOpenFileName(path, &e);
	assert_non_null(d);
	assert_int_equal(DGifSlurp(d), GIF_OK);
	assert_int_equal(d->ImageCount, n);
	assert_int_equal(d->SWidth, w);
	const GifColorType *c = pixel(d, 3, 65);   /* frame 3, column 65: inside */
	assert_int_equal(c->Red, 204);             /* 200 on the cube: 4 x 51 */
	assert_int_equal(c->Blue, 51);             /* 30 is nearer 51 than 0 */
	DGifCloseFile(d, NULL);
	FILE *f = fopen(path, "rb");
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	fclose(f);
	unlink(path);
	assert_true(size > 0 && size < (long)w * h * n / 20);   /* 20x under one byte a pixel */
	free(frames);
}

static void test_errors(void **state)
{
	(void)state;
	char err[256];
	assert_null(dd_gif_open(NULL, 0, 10, 5, DD_GIF_ADAPTIVE, err, sizeof err));
	assert_non_null(strstr(err, "frame size 0x10"));
	assert_null(dd_gif_open(NULL, 10, 10, 70000, DD_GIF_ADAPTIVE, err, sizeof err));
	assert_non_null(strstr(err, "delay_cs"));
	assert_null(dd_gif_open("/nonexistent-dir/a.gif", 10, 10, 5, DD_GIF_CUBE, err, sizeof err));
	assert_non_null(strstr(err, "/nonexistent-dir/a.gif: No such file or directory"));
	uint8_t *bytes = (uint8_t *)1;
	size_t n = 1;
	uint8_t px[3] = {1, 2, 3};
	assert_int_equal(dd_gif_encode(px, 0, 1, 1, 5, DD_GIF_CUBE, &bytes, &n, err, sizeof err), DD_ERR);
	assert_null(bytes);
	assert_int_equal(n, 0);
	assert_non_null(strstr(err, "at least one frame"));
	/* A 1x1 GIF is fine. */
	assert_int_equal(dd_gif_encode(px, 1, 1, 1, 5, DD_GIF_ADAPTIVE, &bytes, &n, err, sizeof err), DD_OK);
	source s;
	GifFileType *g = decode(bytes, n, &s);
	assert_int_equal(pixel(g, 0, 0)->Blue, 3);
	DGifCloseFile(g, NULL);
	free(bytes);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flat_colours_exact),
		cmocka_unit_test(test_gradient_error),
		cmocka_unit_test(test_file_and_compression),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
