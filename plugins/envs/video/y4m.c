/*
** y4m.c -- parsing and writing YUV4MPEG2 streams (see y4m.h). Every length
** is checked against the bytes present before it is used: the parser reads
** untrusted files and has a fuzz target (tests/envs/video/fuzz_y4m.c).
*/
#include <stdlib.h>
#include <string.h>

#include "y4m.h"

#define MAGIC "YUV4MPEG2"

static int fail(char *err, size_t errlen, const char *msg, const char *arg)
{
	if (err && errlen)
		snprintf(err, errlen, msg, arg);
	return -1;
}

/* A positive decimal of at most 9 digits from [p, end). */
static int parse_int(const uint8_t *p, const uint8_t *end, long *v)
{
	if (p == end || end - p > 9)
		return -1;
	long x = 0;
	for (; p < end; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		x = x * 10 + (*p - '0');
	}
	*v = x;
	return 0;
}

static int parse_ratio(const uint8_t *p, const uint8_t *end, int *num, int *den)
{
	const uint8_t *colon = memchr(p, ':', (size_t)(end - p));
	long a, b;
	if (!colon || parse_int(p, colon, &a) || parse_int(colon + 1, end, &b))
		return -1;
	*num = (int)a;
	*den = (int)b;
	return 0;
}

static const struct { const char *name; y4m_chroma chroma; } spaces[] = {
	{"420", Y4M_420}, {"420jpeg", Y4M_420}, {"420paldv", Y4M_420}, {"420mpeg2", Y4M_420},
	{"422", Y4M_422}, {"444", Y4M_444}, {"mono", Y4M_MONO},
};

static int parse_chroma(const uint8_t *p, const uint8_t *end, y4m_chroma *c)
{
	size_t n = (size_t)(end - p);
	for (size_t i = 0; i < sizeof spaces / sizeof spaces[0]; i++)
		if (strlen(spaces[i].name) == n && memcmp(spaces[i].name, p, n) == 0) {
			*c = spaces[i].chroma;
			return 0;
		}
	return -1;
}

static void frame_size(y4m_header *h)
{
	size_t w = (size_t)h->width, ht = (size_t)h->height;
	switch (h->chroma) {
	case Y4M_420: h->chroma_w = (w + 1) / 2; h->chroma_h = (ht + 1) / 2; break;
	case Y4M_422: h->chroma_w = (w + 1) / 2; h->chroma_h = ht; break;
	case Y4M_444: h->chroma_w = w; h->chroma_h = ht; break;
	case Y4M_MONO: h->chroma_w = 0; h->chroma_h = 0; break;
	}
	h->frame_bytes = w * ht + 2 * h->chroma_w * h->chroma_h;
}

/* One "Xvalue" token of the header. */
static int header_token(const uint8_t *p, const uint8_t *end, y4m_header *h, long *w,
                        long *ht, char *err, size_t errlen)
{
	char tok[40];
	size_t n = (size_t)(end - p) < sizeof tok - 1 ? (size_t)(end - p) : sizeof tok - 1;
	memcpy(tok, p, n);
	tok[n] = '\0';
	for (size_t i = 0; i < n; i++) /* keep messages printable */
		if (tok[i] < ' ' || tok[i] > '~')
			tok[i] = '?';
	switch (*p) {
	case 'W':
		if (parse_int(p + 1, end, w) || *w < 1 || *w > Y4M_MAX_SIDE)
			return fail(err, errlen, "bad width %s (want W1..W16384)", tok);
		return 0;
	case 'H':
		if (parse_int(p + 1, end, ht) || *ht < 1 || *ht > Y4M_MAX_SIDE)
			return fail(err, errlen, "bad height %s (want H1..H16384)", tok);
		return 0;
	case 'F':
		if (parse_ratio(p + 1, end, &h->fps_num, &h->fps_den))
			return fail(err, errlen, "bad frame rate %s (want Fnum:den)", tok);
		return 0;
	case 'C':
		if (parse_chroma(p + 1, end, &h->chroma))
			return fail(err, errlen, "unsupported colour space %s (supported: C420, C420jpeg, "
			            "C420paldv, C420mpeg2, C422, C444, Cmono; 8 bits)", tok);
		return 0;
	default: /* I (interlacing), A (aspect), X (comments): not needed */
		return 0;
	}
}

int y4m_parse_header(const uint8_t *buf, size_t n, y4m_header *h, size_t *len,
                     char *err, size_t errlen)
{
	memset(h, 0, sizeof *h);
	size_t m = strlen(MAGIC);
	if (n < m + 1 || memcmp(buf, MAGIC, m) != 0 || (buf[m] != ' ' && buf[m] != '\n'))
		return fail(err, errlen, "not a Y4M stream (it does not start with \"%s \")", MAGIC);
	size_t limit = n < Y4M_MAX_HEADER ? n : Y4M_MAX_HEADER;
	const uint8_t *eol = memchr(buf, '\n', limit);
	if (!eol)
		return fail(err, errlen, "%s", n < Y4M_MAX_HEADER ? "truncated header (no end of line)"
		                                              : "header line longer than 4096 bytes");
	long w = 0, ht = 0;
	h->chroma = Y4M_420; /* the format's default */
	for (const uint8_t *p = buf + m; p < eol;) {
		while (p < eol && *p == ' ')
			p++;
		const uint8_t *end = p;
		while (end < eol && *end != ' ')
			end++;
		if (end > p && header_token(p, end, h, &w, &ht, err, errlen))
			return -1;
		p = end;
	}
	if (w == 0 || ht == 0)
		return fail(err, errlen, "the header has no %s", w == 0 ? "width (W)" : "height (H)");
	h->width = (int)w;
	h->height = (int)ht;
	frame_size(h);
	*len = (size_t)(eol - buf) + 1;
	return 0;
}

int y4m_parse_frame_header(const uint8_t *buf, size_t n, size_t *len, char *err, size_t errlen)
{
	if (n < 6 || memcmp(buf, "FRAME", 5) != 0 || (buf[5] != '\n' && buf[5] != ' '))
		return fail(err, errlen, "%s", n < 6 ? "truncated FRAME line" : "expected a FRAME line");
	size_t limit = n < Y4M_MAX_FRAME_HEADER ? n : Y4M_MAX_FRAME_HEADER;
	const uint8_t *eol = memchr(buf, '\n', limit);
	if (!eol)
		return fail(err, errlen, "%s", "FRAME line without an end within 1024 bytes");
	*len = (size_t)(eol - buf) + 1;
	return 0;
}

int y4m_index(y4m_read_fn read, void *ud, uint64_t size, const y4m_header *h,
              size_t header_len, int max_frames, uint64_t **offsets, int *count,
              char *err, size_t errlen)
{
	*offsets = NULL;
	*count = 0;
	uint64_t off = header_len;
	int n = 0, cap = 0;
	uint64_t *list = NULL;
	uint8_t line[Y4M_MAX_FRAME_HEADER];
	char why[160];
	while (off < size && (max_frames <= 0 || n < max_frames)) {
		size_t got = read(ud, off, line, sizeof line), flen;
		if (y4m_parse_frame_header(line, got, &flen, why, sizeof why)) {
			snprintf(err, errlen, "frame %d at byte %llu: %s", n, (unsigned long long)off, why);
			free(list);
			return -1;
		}
		uint64_t data = off + flen;
		if (data + h->frame_bytes > size) {
			snprintf(err, errlen, "truncated: frame %d has %llu of its %zu bytes", n,
			         (unsigned long long)(size - data), h->frame_bytes);
			free(list);
			return -1;
		}
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			uint64_t *nl = realloc(list, sizeof *nl * (size_t)cap);
			if (!nl) {
				free(list);
				return fail(err, errlen, "%s", "out of memory indexing frames");
			}
			list = nl;
		}
		list[n++] = data;
		off = data + h->frame_bytes;
	}
	if (n == 0) {
		free(list);
		return fail(err, errlen, "%s", "no frames after the header");
	}
	*offsets = list;
	*count = n;
	return 0;
}

typedef struct membuf { const uint8_t *p; size_t n; } membuf;

static size_t mem_read(void *ud, uint64_t off, uint8_t *buf, size_t n)
{
	const membuf *m = ud;
	if (off >= m->n)
		return 0;
	size_t k = m->n - (size_t)off < n ? m->n - (size_t)off : n;
	memcpy(buf, m->p + off, k);
	return k;
}

int y4m_index_mem(const uint8_t *buf, size_t n, y4m_header *h, uint64_t **offsets,
                  int *count, char *err, size_t errlen)
{
	size_t hlen;
	*offsets = NULL;
	*count = 0;
	if (y4m_parse_header(buf, n, h, &hlen, err, errlen))
		return -1;
	membuf m = {buf, n};
	return y4m_index(mem_read, &m, n, h, hlen, 0, offsets, count, err, errlen);
}

/* ---- writing ----------------------------------------------------------- */

int y4m_write_header(FILE *f, int width, int height, y4m_chroma chroma, int fps_num,
                     int fps_den)
{
	static const char *names[] = {"420jpeg", "422", "444", "mono"};
	int rc = fprintf(f, MAGIC " W%d H%d", width, height);
	if (rc > 0 && fps_num > 0)
		rc = fprintf(f, " F%d:%d", fps_num, fps_den);
	if (rc > 0)
		rc = fprintf(f, " Ip A1:1 C%s\n", names[chroma]);
	return rc > 0 ? 0 : -1;
}

static uint8_t clamp8(double v)
{
	return v < 0 ? 0 : v > 255 ? 255 : (uint8_t)(v + 0.5);
}

/* BT.601, limited range: Y in 16..235, Cb and Cr in 16..240. */
static void to_yuv(const uint8_t *px, size_t at, size_t hw, int channels, double *y,
                   double *cb, double *cr)
{
	double r = px[at] / 255.0, g = r, b = r;
	if (channels == 3) {
		g = px[hw + at] / 255.0;
		b = px[2 * hw + at] / 255.0;
	}
	*y = 16 + 65.481 * r + 128.553 * g + 24.966 * b;
	*cb = 128 - 37.797 * r - 74.203 * g + 112.0 * b;
	*cr = 128 + 112.0 * r - 93.786 * g - 18.214 * b;
}

int y4m_write_frame(FILE *f, int width, int height, y4m_chroma chroma,
                    const uint8_t *pixels, int channels)
{
	y4m_header h = {.width = width, .height = height, .chroma = chroma};
	frame_size(&h);
	size_t hw = (size_t)width * height, cw = h.chroma_w, ch = h.chroma_h;
	uint8_t *out = malloc(h.frame_bytes);
	if (!out)
		return -1;
	if (chroma == Y4M_MONO) {
		memcpy(out, pixels, hw); /* the first channel: gray as it is */
	} else {
		/* Chroma of a subsampled plane: the mean over the pixels it covers. */
		double *acc = calloc(2 * cw * ch, sizeof *acc);
		int *cnt = calloc(cw * ch, sizeof *cnt);
		if (!acc || !cnt) {
			free(acc);
			free(cnt);
			free(out);
			return -1;
		}
		size_t sx = (size_t)width / cw + ((size_t)width % cw != 0);
		size_t sy = (size_t)height / ch + ((size_t)height % ch != 0);
		for (int y = 0; y < height; y++)
			for (int x = 0; x < width; x++) {
				size_t at = (size_t)y * width + x, c = (y / sy) * cw + x / sx;
				double Y, cb, cr;
				to_yuv(pixels, at, hw, channels, &Y, &cb, &cr);
				out[at] = clamp8(Y);
				acc[2 * c] += cb;
				acc[2 * c + 1] += cr;
				cnt[c]++;
			}
		for (size_t c = 0; c < cw * ch; c++) {
			out[hw + c] = clamp8(acc[2 * c] / cnt[c]);
			out[hw + cw * ch + c] = clamp8(acc[2 * c + 1] / cnt[c]);
		}
		free(acc);
		free(cnt);
	}
	int ok = fputs("FRAME\n", f) >= 0 && fwrite(out, 1, h.frame_bytes, f) == h.frame_bytes;
	free(out);
	return ok ? 0 : -1;
}
