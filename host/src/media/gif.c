/*
** gif.c -- the animated-GIF writer of daydream/gif.h: frames are quantised
** (palette.c), then giflib does the LZW coding and the file layout, into a
** file or a growing buffer in memory.
*/
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gif_lib.h>

#include "daydream/gif.h"
#include "daydream/plugin.h" /* DD_OK, DD_ERR */
#include "palette.h"

struct dd_gif {
	GifFileType *gif;
	int width, height, delay_cs;
	dd_gif_palette palette;
	dd_quantizer q;
	uint8_t *index;        /* one frame of palette indices */
	uint8_t *mem;          /* in-memory output */
	size_t len, cap;
	int in_memory, failed;
	char err[256];
};

static void set_err(char *err, size_t errlen, const char *fmt, const char *detail)
{
	if (err && errlen)
		snprintf(err, errlen, fmt, detail);
}

/* giflib's output callback for in-memory GIFs: returns the bytes taken, and
** fewer (a write error to giflib) when memory runs out. */
static int mem_write(GifFileType *gf, const GifByteType *data, int n)
{
	dd_gif *g = gf->UserData;
	if (g->len + (size_t)n > g->cap) {
		size_t cap = g->cap ? g->cap : 4096;
		while (cap < g->len + (size_t)n)
			cap *= 2;
		uint8_t *m = realloc(g->mem, cap);
		if (!m)
			return 0;
		g->mem = m;
		g->cap = cap;
	}
	memcpy(g->mem + g->len, data, (size_t)n);
	g->len += (size_t)n;
	return n;
}

/* A giflib colour map of a power-of-two size (the format's rule), padded
** with black. NULL on out of memory. */
static ColorMapObject *color_map(const dd_palette *pal)
{
	int size = 2;
	while (size < pal->count)
		size *= 2;
	ColorMapObject *m = GifMakeMapObject(size, NULL);
	if (!m)
		return NULL;
	for (int i = 0; i < size; i++) {
		const uint8_t *c = i < pal->count ? pal->rgb[i] : (const uint8_t[3]){0, 0, 0};
		m->Colors[i] = (GifColorType){c[0], c[1], c[2]};
	}
	return m;
}

static void release(dd_gif *g)
{
	dd_quantizer_free(&g->q);
	free(g->index);
	free(g->mem);
	free(g);
}

/* Screen descriptor (the cube as the global palette, or none when every
** frame brings its own) and the NETSCAPE2.0 block that makes it loop. */
static int write_header(dd_gif *g)
{
	ColorMapObject *global = NULL;
	if (g->palette == DD_GIF_CUBE) {
		dd_palette cube;
		dd_palette_cube(&cube);
		if (!(global = color_map(&cube)))
			return DD_ERR;
	}
	EGifSetGifVersion(g->gif, true);
	int rc = EGifPutScreenDesc(g->gif, g->width, g->height, 8, 0, global);
	GifFreeMapObject(global);
	if (rc != GIF_OK)
		return DD_ERR;
	static const GifByteType loop[3] = {1, 0, 0}; /* sub-block 1: repeat 0 = forever */
	if (EGifPutExtensionLeader(g->gif, APPLICATION_EXT_FUNC_CODE) != GIF_OK ||
	    EGifPutExtensionBlock(g->gif, 11, "NETSCAPE2.0") != GIF_OK ||
	    EGifPutExtensionBlock(g->gif, 3, loop) != GIF_OK ||
	    EGifPutExtensionTrailer(g->gif) != GIF_OK)
		return DD_ERR;
	return DD_OK;
}

dd_gif *dd_gif_open(const char *path, int width, int height, int delay_cs,
                    dd_gif_palette palette, char *err, size_t errlen)
{
	if (width < 1 || width > 65535 || height < 1 || height > 65535) {
		char dims[64];
		snprintf(dims, sizeof dims, "%dx%d", width, height);
		set_err(err, errlen, "gif: frame size %s is outside 1..65535 per side", dims);
		return NULL;
	}
	if (delay_cs < 0 || delay_cs > 65535) {
		set_err(err, errlen, "gif: delay_cs must be in [0, 65535] hundredths of a second%s", "");
		return NULL;
	}
	if (palette != DD_GIF_ADAPTIVE && palette != DD_GIF_CUBE) {
		set_err(err, errlen, "gif: unknown palette kind%s", "");
		return NULL;
	}
	dd_gif *g = calloc(1, sizeof *g);
	if (!g) {
		set_err(err, errlen, "gif: %s", "out of memory");
		return NULL;
	}
	g->width = width;
	g->height = height;
	g->delay_cs = delay_cs;
	g->palette = palette;
	g->in_memory = path == NULL;
	g->index = malloc((size_t)width * (size_t)height);
	if (!g->index || (palette == DD_GIF_ADAPTIVE && dd_quantizer_init(&g->q) < 0)) {
		release(g);
		set_err(err, errlen, "gif: %s", "out of memory");
		return NULL;
	}
	int e = 0;
	if (path) {
		/* Our own open(): giflib's would make the file 0600 whatever the umask. */
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
		if (fd < 0) {
			char why[600];
			snprintf(why, sizeof why, "%s: %s", path, strerror(errno));
			release(g);
			set_err(err, errlen, "gif: cannot create %s", why);
			return NULL;
		}
		g->gif = EGifOpenFileHandle(fd, &e); /* owns fd from here... */
		if (!g->gif)
			close(fd);                       /* ...unless it failed (out of memory) */
	} else {
		g->gif = EGifOpen(g, mem_write, &e);
	}
	if (!g->gif) {
		const char *why = GifErrorString(e);
		release(g);
		set_err(err, errlen, "gif: cannot start the GIF: %s", why ? why : "unknown error");
		return NULL;
	}
	if (write_header(g) != DD_OK) {
		const char *why = GifErrorString(g->gif->Error);
		EGifCloseFile(g->gif, &e);
		release(g);
		set_err(err, errlen, "gif: cannot write the header: %s", why ? why : "out of memory");
		return NULL;
	}
	return g;
}

/* Graphic control block: disposal "leave in place", the delay, no
** transparency. */
static int write_frame_control(dd_gif *g)
{
	GifByteType gce[4] = {1 << 2, (GifByteType)(g->delay_cs & 0xff),
	                      (GifByteType)(g->delay_cs >> 8), 0};
	return EGifPutExtension(g->gif, GRAPHICS_EXT_FUNC_CODE, 4, gce);
}

int dd_gif_add_frame(dd_gif *g, const uint8_t *rgb)
{
	if (g->failed)
		return DD_ERR;
	size_t npix = (size_t)g->width * (size_t)g->height;
	ColorMapObject *local = NULL;
	if (g->palette == DD_GIF_ADAPTIVE) {
		dd_palette pal;
		dd_quantize_median_cut(&g->q, rgb, npix, &pal, g->index);
		if (!(local = color_map(&pal))) {
			snprintf(g->err, sizeof g->err, "gif: out of memory");
			g->failed = 1;
			return DD_ERR;
		}
	} else {
		dd_quantize_cube(rgb, npix, g->index);
	}
	/* One EGifPutLine for the whole frame: giflib accepts any length up to
	** the pixels left in the image. */
	int ok = write_frame_control(g) == GIF_OK &&
	         EGifPutImageDesc(g->gif, 0, 0, g->width, g->height, false, local) == GIF_OK &&
	         EGifPutLine(g->gif, g->index, (int)npix) == GIF_OK;
	GifFreeMapObject(local);
	if (!ok) {
		const char *why = GifErrorString(g->gif->Error);
		snprintf(g->err, sizeof g->err, "gif: cannot write a frame: %s",
		         why ? why : "unknown error");
		g->failed = 1;
		return DD_ERR;
	}
	return DD_OK;
}

const char *dd_gif_error(const dd_gif *g)
{
	return g->err;
}

int dd_gif_close(dd_gif *g, uint8_t **bytes, size_t *n, char *err, size_t errlen)
{
	if (bytes)
		*bytes = NULL;
	if (n)
		*n = 0;
	int e = 0;
	int closed = EGifCloseFile(g->gif, &e) == GIF_OK; /* frees g->gif either way */
	int rc = DD_OK;
	if (g->failed) {
		set_err(err, errlen, "%s", g->err);
		rc = DD_ERR;
	} else if (!closed) {
		const char *why = GifErrorString(e);
		set_err(err, errlen, "gif: cannot finish the file: %s", why ? why : "unknown error");
		rc = DD_ERR;
	} else if (g->in_memory && bytes && n) {
		*bytes = g->mem;
		*n = g->len;
		g->mem = NULL;
	}
	release(g);
	return rc;
}

int dd_gif_encode(const uint8_t *frames, int n_frames, int width, int height,
                  int delay_cs, dd_gif_palette palette, uint8_t **bytes, size_t *n,
                  char *err, size_t errlen)
{
	*bytes = NULL;
	*n = 0;
	if (n_frames < 1) {
		set_err(err, errlen, "gif: a clip needs at least one frame%s", "");
		return DD_ERR;
	}
	dd_gif *g = dd_gif_open(NULL, width, height, delay_cs, palette, err, errlen);
	if (!g)
		return DD_ERR;
	size_t frame_bytes = (size_t)width * (size_t)height * 3;
	for (int i = 0; i < n_frames; i++)
		if (dd_gif_add_frame(g, frames + (size_t)i * frame_bytes) != DD_OK)
			break; /* the reason is kept; close reports it */
	return dd_gif_close(g, bytes, n, err, errlen);
}
