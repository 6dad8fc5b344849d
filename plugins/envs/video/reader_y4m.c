/*
** reader_y4m.c -- Y4M files as a frame reader: our parser (y4m.c) indexes
** the frames without decoding anything, and a frame is read by seeking to
** its planes, so every frame is equally cheap to reach.
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/pixfmt.h>

#include "video.h"
#include "y4m.h"

typedef struct y4m_reader {
	frame_reader r;
	FILE *f;
	uint64_t size;
	y4m_header h;
	size_t header_len;
	uint64_t *offsets;
	uint8_t *buf;          /* one frame's planes */
	converter cv;
} y4m_reader;

static size_t file_read(void *ud, uint64_t off, uint8_t *buf, size_t n)
{
	FILE *f = ud;
	if (fseeko(f, (off_t)off, SEEK_SET) != 0)
		return 0;
	return fread(buf, 1, n, f);
}

static int convert(y4m_reader *y, uint8_t *dst, char *err, size_t errlen)
{
	static const int fmts[] = {AV_PIX_FMT_YUV420P, AV_PIX_FMT_YUV422P, AV_PIX_FMT_YUV444P,
	                           AV_PIX_FMT_GRAY8};
	const y4m_header *h = &y->h;
	size_t luma = (size_t)h->width * h->height, cplane = h->chroma_w * h->chroma_h;
	const uint8_t *planes[4] = {y->buf, NULL, NULL, NULL};
	int strides[4] = {h->width, 0, 0, 0};
	if (h->chroma != Y4M_MONO) {
		planes[1] = y->buf + luma;
		planes[2] = y->buf + luma + cplane;
		strides[1] = strides[2] = (int)h->chroma_w;
	}
	return convert_picture(&y->cv, planes, strides, fmts[h->chroma], h->width, h->height,
	                       dst, y->r.out_w, y->r.out_h, y->r.out_c, y->r.path, err, errlen);
}

static int read_frame(frame_reader *r, int i, uint8_t *dst, char *err, size_t errlen)
{
	y4m_reader *y = (y4m_reader *)r;
	if (i < 0 || i >= r->n_frames) {
		snprintf(err, errlen, "%s: no frame %d (it has %d)", r->path, i, r->n_frames);
		return DD_ERR;
	}
	if (file_read(y->f, y->offsets[i], y->buf, y->h.frame_bytes) != y->h.frame_bytes) {
		snprintf(err, errlen, "%s: cannot read frame %d: %s", r->path, i,
		         ferror(y->f) ? strerror(errno) : "the file got shorter");
		return DD_ERR;
	}
	r->decoded++;
	return convert(y, dst, err, errlen);
}

static int scan(frame_reader *r, int max_frames, int keep, frame_slot_fn slot, void *ud,
                char *err, size_t errlen)
{
	y4m_reader *y = (y4m_reader *)r;
	char why[200];
	if (y4m_index(file_read, y->f, y->size, &y->h, y->header_len, max_frames, &y->offsets,
	              &r->n_frames, why, sizeof why)) {
		snprintf(err, errlen, "%s: %s", r->path, why);
		return DD_ERR;
	}
	for (int i = 0; i < keep && i < r->n_frames; i++) {
		uint8_t *dst = slot(ud, i);
		if (dst && read_frame(r, i, dst, err, errlen) != DD_OK)
			return DD_ERR;
	}
	return DD_OK;
}

static void close_reader(frame_reader *r)
{
	y4m_reader *y = (y4m_reader *)r;
	if (!y)
		return;
	if (y->f)
		fclose(y->f);
	converter_free(&y->cv);
	free(y->offsets);
	free(y->buf);
	free(r->path);
	free(y);
}

int reader_y4m_open(const char *path, frame_reader **out, char *err, size_t errlen)
{
	y4m_reader *y = calloc(1, sizeof *y);
	if (!y || !(y->r.path = strdup(path))) {
		free(y);
		snprintf(err, errlen, "%s: out of memory", path);
		return DD_ERR;
	}
	y->r.kind = "y4m";
	y->r.scan = scan;
	y->r.read = read_frame;
	y->r.close = close_reader;
	y->f = fopen(path, "rb");
	if (!y->f) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		close_reader(&y->r);
		return DD_ERR;
	}
	uint8_t head[Y4M_MAX_HEADER];
	size_t got = fread(head, 1, sizeof head, y->f);
	char why[200] = "empty file";
	off_t size = fseeko(y->f, 0, SEEK_END) == 0 ? ftello(y->f) : -1;
	if (size < 0) {
		snprintf(err, errlen, "%s: cannot find its size: %s", path, strerror(errno));
		close_reader(&y->r);
		return DD_ERR;
	}
	y->size = (uint64_t)size;
	if (got == 0 || y4m_parse_header(head, got, &y->h, &y->header_len, why, sizeof why)) {
		snprintf(err, errlen, "%s: %s", path, why);
		close_reader(&y->r);
		return DD_ERR;
	}
	y->buf = malloc(y->h.frame_bytes);
	if (!y->buf) {
		snprintf(err, errlen, "%s: out of memory for %dx%d frames", path, y->h.width, y->h.height);
		close_reader(&y->r);
		return DD_ERR;
	}
	y->r.width = y->h.width;
	y->r.height = y->h.height;
	*out = &y->r;
	return DD_OK;
}
