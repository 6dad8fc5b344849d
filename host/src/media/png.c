/*
** png.c -- PNG in and out through libpng's simplified API (png_image),
** which handles every bit depth and colour type and reports errors as text
** rather than through longjmp. See daydream/png.h.
*/
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

#include "daydream/png.h"

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

static int format_of(int channels)
{
	switch (channels) {
	case 1: return PNG_FORMAT_GRAY;
	case 3: return PNG_FORMAT_RGB;
	case 4: return PNG_FORMAT_RGBA;
	default: return -1;
	}
}

/* The channel count an image has of its own: alpha makes it RGBA. */
static int own_channels(png_uint_32 format)
{
	if (format & PNG_FORMAT_FLAG_ALPHA)
		return 4;
	return (format & PNG_FORMAT_FLAG_COLOR) ? 3 : 1;
}

/* Second half of a read, once png_image_begin_read_* has succeeded. */
static int finish_read(png_image *im, const char *name, int channels,
                       dd_image *out, char *err, size_t errlen)
{
	if (channels == 0)
		channels = own_channels(im->format);
	int fmt = format_of(channels);
	if (fmt < 0) {
		png_image_free(im);
		return fail(err, errlen, "%s: cannot read as %d channels (use 0, 1, 3 or 4)", name, channels);
	}
	if (im->width < 1 || im->height < 1 || im->width > DD_PNG_MAX_SIDE ||
	    im->height > DD_PNG_MAX_SIDE) {
		png_image_free(im);
		return fail(err, errlen, "%s: image size %ux%u is outside 1..%d pixels a side",
		            name, (unsigned)im->width, (unsigned)im->height, DD_PNG_MAX_SIDE);
	}
	im->format = (png_uint_32)fmt;
	size_t bytes = PNG_IMAGE_SIZE(*im);
	uint8_t *px = malloc(bytes);
	if (!px) {
		png_image_free(im);
		return fail(err, errlen, "%s: out of memory for the pixels", name);
	}
	if (!png_image_finish_read(im, NULL, px, 0, NULL)) {
		char msg[80];
		snprintf(msg, sizeof msg, "%s", im->message);
		png_image_free(im);
		free(px);
		return fail(err, errlen, "%s: damaged PNG data (libpng: %s)", name, msg);
	}
	*out = (dd_image){.width = (int)im->width, .height = (int)im->height,
	                  .channels = channels, .pixels = px};
	png_image_free(im);
	return DD_OK;
}

int dd_png_read_file(const char *path, int channels, dd_image *out,
                     char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	FILE *f = fopen(path, "rb");
	if (!f)
		return fail(err, errlen, "%s: cannot open: %s", path, strerror(errno));
	png_image im;
	memset(&im, 0, sizeof im);
	im.version = PNG_IMAGE_VERSION;
	int rc;
	if (!png_image_begin_read_from_stdio(&im, f))
		rc = fail(err, errlen, "%s: not a readable PNG (libpng: %s)", path, im.message);
	else
		rc = finish_read(&im, path, channels, out, err, errlen);
	fclose(f);
	return rc;
}

int dd_png_read_mem(const void *bytes, size_t n, const char *name, int channels,
                    dd_image *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	png_image im;
	memset(&im, 0, sizeof im);
	im.version = PNG_IMAGE_VERSION;
	if (!name)
		name = "(memory)";
	if (!bytes || n == 0)
		return fail(err, errlen, "%s: no bytes (empty PNG)", name);
	if (!png_image_begin_read_from_memory(&im, bytes, n))
		return fail(err, errlen, "%s: not a readable PNG (libpng: %s)", name, im.message);
	return finish_read(&im, name, channels, out, err, errlen);
}

/* Checks arguments shared by both writers and fills im. */
static int prepare_write(png_image *im, const char *name, const uint8_t *pixels,
                         int width, int height, int channels, char *err, size_t errlen)
{
	memset(im, 0, sizeof *im);
	im->version = PNG_IMAGE_VERSION;
	int fmt = format_of(channels);
	if (fmt < 0)
		return fail(err, errlen, "%s: channels must be 1, 3 or 4, got %d", name, channels);
	if (!pixels || width < 1 || height < 1 || width > DD_PNG_MAX_SIDE ||
	    height > DD_PNG_MAX_SIDE)
		return fail(err, errlen, "%s: width and height must be in 1..%d and pixels not NULL, got %dx%d",
		            name, DD_PNG_MAX_SIDE, width, height);
	im->width = (png_uint_32)width;
	im->height = (png_uint_32)height;
	im->format = (png_uint_32)fmt;
	return DD_OK;
}

int dd_png_write_file(const char *path, const uint8_t *pixels, int width,
                      int height, int channels, char *err, size_t errlen)
{
	png_image im;
	if (prepare_write(&im, path, pixels, width, height, channels, err, errlen) != DD_OK)
		return DD_ERR;
	FILE *f = fopen(path, "wb");
	if (!f)
		return fail(err, errlen, "%s: cannot create: %s", path, strerror(errno));
	int ok = png_image_write_to_stdio(&im, f, 0, pixels, 0, NULL);
	char msg[80];
	snprintf(msg, sizeof msg, "%s", ok ? "" : im.message);
	png_image_free(&im);
	if (fclose(f) != 0 && ok)
		return fail(err, errlen, "%s: cannot write: %s", path, strerror(errno));
	if (!ok)
		return fail(err, errlen, "%s: cannot write PNG (libpng: %s)", path, msg);
	return DD_OK;
}

int dd_png_write_mem(const uint8_t *pixels, int width, int height, int channels,
                     uint8_t **out, size_t *n, char *err, size_t errlen)
{
	*out = NULL;
	*n = 0;
	png_image im;
	if (prepare_write(&im, "(memory)", pixels, width, height, channels, err, errlen) != DD_OK)
		return DD_ERR;
	/* First pass sizes the buffer, second fills it (libpng's documented way). */
	png_alloc_size_t size = 0;
	if (!png_image_write_to_memory(&im, NULL, &size, 0, pixels, 0, NULL))
		return fail(err, errlen, "(memory): cannot encode PNG (libpng: %s)", im.message);
	uint8_t *buf = malloc(size);
	if (!buf)
		return fail(err, errlen, "(memory): out of memory for the PNG bytes");
	if (!png_image_write_to_memory(&im, buf, &size, 0, pixels, 0, NULL)) {
		free(buf);
		return fail(err, errlen, "(memory): cannot encode PNG (libpng: %s)", im.message);
	}
	*out = buf;
	*n = size;
	return DD_OK;
}

void dd_image_free(dd_image *img)
{
	if (!img)
		return;
	free(img->pixels);
	memset(img, 0, sizeof *img);
}
