/*
** reader_pngdir.c -- a folder of PNG files as a video: the frames are the
** *.png files in natural order (frame2 before frame10), read by libdaydream's
** PNG reader. Every frame must have the size of the first.
*/
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libavutil/pixfmt.h>

#include "daydream/png.h"
#include "video.h"

typedef struct png_reader {
	frame_reader r;
	char **files;          /* full paths, in order */
	int n_files;
	converter cv;
} png_reader;

/* Natural order: runs of digits compare as numbers, the rest bytewise. */
static int natural_cmp(const char *a, const char *b)
{
	while (*a && *b) {
		if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
			while (*a == '0')
				a++;
			while (*b == '0')
				b++;
			size_t na = 0, nb = 0;
			while (isdigit((unsigned char)a[na]))
				na++;
			while (isdigit((unsigned char)b[nb]))
				nb++;
			if (na != nb)
				return na < nb ? -1 : 1;
			int c = strncmp(a, b, na);
			if (c)
				return c;
			a += na;
			b += nb;
		} else {
			if (*a != *b)
				return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
			a++;
			b++;
		}
	}
	return (unsigned char)*a - (unsigned char)*b;
}

static int cmp_paths(const void *x, const void *y)
{
	const char *a = *(char *const *)x, *b = *(char *const *)y;
	int c = natural_cmp(a, b);
	return c ? c : strcmp(a, b);
}

static int is_png(const char *name)
{
	size_t n = strlen(name);
	return n > 4 && strcasecmp(name + n - 4, ".png") == 0;
}

static int read_frame(frame_reader *r, int i, uint8_t *dst, char *err, size_t errlen)
{
	png_reader *p = (png_reader *)r;
	if (i < 0 || i >= r->n_frames) {
		snprintf(err, errlen, "%s: no frame %d (it has %d)", r->path, i, r->n_frames);
		return DD_ERR;
	}
	dd_image im;
	if (dd_png_read_file(p->files[i], r->out_c, &im, err, errlen) != DD_OK)
		return DD_ERR;
	int rc = DD_OK;
	if (im.width != r->width || im.height != r->height) {
		snprintf(err, errlen, "%s: %dx%d, but the first frame of the folder (%s) is %dx%d: "
		         "all frames must have one size", p->files[i], im.width, im.height,
		         p->files[0], r->width, r->height);
		rc = DD_ERR;
	} else {
		const uint8_t *planes[4] = {im.pixels, NULL, NULL, NULL};
		int strides[4] = {im.width * im.channels, 0, 0, 0};
		rc = convert_picture(&p->cv, planes, strides,
		                     im.channels == 1 ? AV_PIX_FMT_GRAY8 : AV_PIX_FMT_RGB24,
		                     im.width, im.height, dst, r->out_w, r->out_h, r->out_c,
		                     p->files[i], err, errlen);
	}
	dd_image_free(&im);
	r->decoded++;
	return rc;
}

static int scan(frame_reader *r, int max_frames, int keep, frame_slot_fn slot, void *ud,
                char *err, size_t errlen)
{
	png_reader *p = (png_reader *)r;
	r->n_frames = max_frames > 0 && max_frames < p->n_files ? max_frames : p->n_files;
	for (int i = 0; i < keep && i < r->n_frames; i++) {
		uint8_t *dst = slot(ud, i);
		if (dst && read_frame(r, i, dst, err, errlen) != DD_OK)
			return DD_ERR;
	}
	return DD_OK;
}

static void close_reader(frame_reader *r)
{
	png_reader *p = (png_reader *)r;
	if (!p)
		return;
	for (int i = 0; i < p->n_files; i++)
		free(p->files[i]);
	free(p->files);
	converter_free(&p->cv);
	free(r->path);
	free(p);
}

/* Lists dir's PNG files into p->files, sorted. */
static int list(png_reader *p, const char *dir, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	if (!d) {
		snprintf(err, errlen, "%s: cannot open the folder: %s", dir, strerror(errno));
		return DD_ERR;
	}
	int cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!is_png(e->d_name))
			continue;
		if (p->n_files == cap) {
			cap = cap ? 2 * cap : 64;
			char **nf = realloc(p->files, sizeof *nf * (size_t)cap);
			if (!nf)
				break;
			p->files = nf;
		}
		size_t n = strlen(dir) + strlen(e->d_name) + 2;
		char *path = malloc(n);
		if (!path)
			break;
		snprintf(path, n, "%s/%s", dir, e->d_name);
		p->files[p->n_files++] = path;
	}
	int complete = e == NULL;
	closedir(d);
	if (!complete) {
		snprintf(err, errlen, "%s: out of memory listing the folder", dir);
		return DD_ERR;
	}
	if (p->n_files == 0) {
		snprintf(err, errlen, "%s: a folder without *.png files (a folder source is a "
		         "sequence of PNG frames)", dir);
		return DD_ERR;
	}
	qsort(p->files, (size_t)p->n_files, sizeof *p->files, cmp_paths);
	return DD_OK;
}

int reader_pngdir_open(const char *path, frame_reader **out, char *err, size_t errlen)
{
	png_reader *p = calloc(1, sizeof *p);
	if (!p || !(p->r.path = strdup(path))) {
		free(p);
		snprintf(err, errlen, "%s: out of memory", path);
		return DD_ERR;
	}
	p->r.kind = "png folder";
	p->r.scan = scan;
	p->r.read = read_frame;
	p->r.close = close_reader;
	dd_image im;
	if (list(p, path, err, errlen) != DD_OK ||
	    dd_png_read_file(p->files[0], 0, &im, err, errlen) != DD_OK) {
		close_reader(&p->r);
		return DD_ERR;
	}
	p->r.width = im.width;
	p->r.height = im.height;
	dd_image_free(&im);
	*out = &p->r;
	return DD_OK;
}
