/*
** test_y4m.c -- the Y4M reader and writer of the video plugin: headers
** accepted and refused, frame indexing, round trips through the frame store
** (exact for gray), agreement with FFmpeg's own Y4M demuxer, and the fuzz
** body on every truncation and on seeded mutations.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#include "daydream/rng.h"
#include "fuzz_y4m.c"
#include "video.h"
#include "video_testkit.h"
#include "y4m.h"

static const uint8_t *B(const char *s)
{
	return (const uint8_t *)s;
}

static void test_headers(void **state)
{
	(void)state;
	y4m_header h;
	size_t len;
	char err[256];
	const char *ok = "YUV4MPEG2 W5 H3 F25:1 Ip A1:1 Cmono XYSCSS=MONO\nFRAME\n";
	assert_int_equal(y4m_parse_header(B(ok), strlen(ok), &h, &len, err, sizeof err), 0);
	assert_int_equal(h.width, 5);
	assert_int_equal(h.height, 3);
	assert_int_equal(h.chroma, Y4M_MONO);
	assert_int_equal(h.fps_num, 25);
	assert_int_equal(h.frame_bytes, 15);
	assert_int_equal(len, strchr(ok, '\n') - ok + 1);
	/* No C: 4:2:0, chroma planes rounded up for odd sizes. */
	const char *d420 = "YUV4MPEG2 H3 W5\n";
	assert_int_equal(y4m_parse_header(B(d420), strlen(d420), &h, &len, err, sizeof err), 0);
	assert_int_equal(h.chroma, Y4M_420);
	assert_int_equal(h.frame_bytes, 15 + 2 * 3 * 2);
	const char *d422 = "YUV4MPEG2 W5 H3 C422\n";
	assert_int_equal(y4m_parse_header(B(d422), strlen(d422), &h, &len, err, sizeof err), 0);
	assert_int_equal(h.frame_bytes, 15 + 2 * 3 * 3);
	static const struct { const char *text, *why; } bad[] = {
		{"YUV4MPEG W5 H3\n", "not a Y4M stream"},
		{"RIFF....AVI LIST", "not a Y4M stream"},
		{"YUV4MPEG2 W5\n", "no height"},
		{"YUV4MPEG2 H5\n", "no width"},
		{"YUV4MPEG2 W0 H5\n", "bad width W0"},
		{"YUV4MPEG2 W99999 H5\n", "bad width W99999"},
		{"YUV4MPEG2 W5 H-3\n", "bad height H-3"},
		{"YUV4MPEG2 W5 H3 C411\n", "unsupported colour space C411"},
		{"YUV4MPEG2 W5 H3 C420p10\n", "unsupported colour space C420p10"},
		{"YUV4MPEG2 W5 H3 Fx:1\n", "bad frame rate"},
		{"YUV4MPEG2 W5 H3", "truncated header"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(y4m_parse_header(B(bad[i].text), strlen(bad[i].text), &h, &len, err,
		                                  sizeof err), -1);
		if (!strstr(err, bad[i].why))
			fail_msg("'%s': got '%s', want '%s'", bad[i].text, err, bad[i].why);
	}
	/* A header line that never ends within the limit. */
	uint8_t *big = malloc(Y4M_MAX_HEADER + 10);
	memset(big, 'X', Y4M_MAX_HEADER + 10);
	memcpy(big, "YUV4MPEG2 W5 H3 ", 16);
	assert_int_equal(y4m_parse_header(big, Y4M_MAX_HEADER + 10, &h, &len, err, sizeof err), -1);
	assert_non_null(strstr(err, "longer than 4096"));
	free(big);
}

/* A stream in memory: n gray frames of w x h, frame k filled with 10 k + i. */
static uint8_t *make_stream(int w, int h, y4m_chroma chroma, int n, size_t *size)
{
	char *buf;
	FILE *f = open_memstream(&buf, size);
	y4m_write_header(f, w, h, chroma, 30, 1);
	uint8_t *px = malloc((size_t)(w * h * 3));
	for (int k = 0; k < n; k++) {
		for (int i = 0; i < w * h * 3; i++)
			px[i] = (uint8_t)(10 * k + i);
		y4m_write_frame(f, w, h, chroma, px, chroma == Y4M_MONO ? 1 : 3);
	}
	free(px);
	fclose(f);
	/* a copy of exactly the stream's size: ASan then sees any over-read */
	uint8_t *out = malloc(*size);
	memcpy(out, buf, *size);
	free(buf);
	return out;
}

static void test_index_and_truncation(void **state)
{
	(void)state;
	size_t size;
	uint8_t *s = make_stream(4, 3, Y4M_MONO, 3, &size);
	y4m_header h;
	uint64_t *off;
	int n;
	char err[256];
	assert_int_equal(y4m_index_mem(s, size, &h, &off, &n, err, sizeof err), 0);
	assert_int_equal(n, 3);
	size_t hlen = (size_t)(strchr((char *)s, '\n') - (char *)s) + 1;
	for (int k = 0; k < 3; k++) {
		assert_int_equal(off[k], hlen + 6 * (k + 1) + 12 * k);
		assert_int_equal(s[off[k]], 10 * k);       /* the first pixel of frame k */
		assert_int_equal(s[off[k] + 11], 10 * k + 11);
	}
	free(off);
	/* Every prefix: accepted exactly when it ends on a frame boundary. */
	for (size_t len = 0; len < size; len++) {
		int rc = y4m_index_mem(s, len, &h, &off, &n, err, sizeof err);
		int boundary = len > hlen && (len - hlen) % 18 == 0;
		if (rc != (boundary ? 0 : -1))
			fail_msg("prefix of %zu bytes: rc %d (%s)", len, rc, err);
		if (rc == 0) {
			assert_int_equal(n, (int)((len - hlen) / 18));
			free(off);
		}
		LLVMFuzzerTestOneInput(s, len);
	}
	assert_int_equal(y4m_index_mem(s, size - 5, &h, &off, &n, err, sizeof err), -1);
	assert_string_equal(err, "truncated: frame 2 has 7 of its 12 bytes");
	assert_int_equal(y4m_index_mem(s, hlen, &h, &off, &n, err, sizeof err), -1);
	assert_string_equal(err, "no frames after the header");
	/* Something else where the second FRAME belongs. */
	s[hlen + 18] = 'G';
	assert_int_equal(y4m_index_mem(s, size, &h, &off, &n, err, sizeof err), -1);
	assert_non_null(strstr(err, "frame 1 at byte"));
	assert_non_null(strstr(err, "expected a FRAME line"));
	free(s);
	/* FRAME lines may carry parameters. */
	const char *p = "YUV4MPEG2 W2 H1 Cmono\nFRAME Ip Xa=b\nabFRAME\ncd";
	assert_int_equal(y4m_index_mem(B(p), strlen(p), &h, &off, &n, err, sizeof err), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(p + off[1], "cd", 2);
	free(off);
}

/* Seeded mutations of valid streams (flips, cuts, insertions, header
** edits) through the fuzz body; the same stream always parses the same. */
static void test_fuzz_body_on_mutations(void **state)
{
	(void)state;
	dd_rng rng;
	dd_rng_seed(&rng, 2024, 0);
	size_t sizes[3];
	uint8_t *seeds[3] = {make_stream(8, 6, Y4M_MONO, 4, &sizes[0]),
	                     make_stream(7, 5, Y4M_420, 3, &sizes[1]),
	                     make_stream(3, 3, Y4M_444, 2, &sizes[2])};
	int accepted = 0;
	uint8_t *buf = malloc(4096);
	for (int it = 0; it < 20000; it++) {
		int k = (int)dd_rng_below(&rng, 3);
		size_t n = sizes[k];
		memcpy(buf, seeds[k], n);
		int edits = 1 + (int)dd_rng_below(&rng, 4);
		for (int e = 0; e < edits; e++) {
			size_t at = (size_t)dd_rng_below(&rng, n);
			switch (dd_rng_below(&rng, 4)) {
			case 0: buf[at] ^= (uint8_t)(1u << dd_rng_below(&rng, 8)); break;
			case 1: n = at; break;                         /* cut */
			case 2:                                        /* insert a byte */
				if (n < 4000) {
					memmove(buf + at + 1, buf + at, n - at);
					buf[at] = (uint8_t)"0123456789 WHCF:\nXa"[dd_rng_below(&rng, 19)];
					n++;
				}
				break;
			default:                                       /* delete a byte */
				memmove(buf + at, buf + at + 1, n - at - 1);
				n--;
			}
			if (n == 0)
				break;
		}
		/* The fuzz body on an exact-size copy, so ASan sees any over-read. */
		uint8_t *exact = malloc(n ? n : 1);
		memcpy(exact, buf, n);
		LLVMFuzzerTestOneInput(exact, n);
		y4m_header h;
		uint64_t *off;
		int frames;
		char err[256];
		if (y4m_index_mem(exact, n, &h, &off, &frames, err, sizeof err) == 0) {
			accepted++;
			assert_true(frames >= 1);
			free(off);
		} else {
			assert_true(strlen(err) > 0);
		}
		free(exact);
	}
	/* Some mutations keep a valid stream (a changed pixel), most do not. */
	print_message("mutations accepted: %d of 20000\n", accepted);
	assert_true(accepted > 500 && accepted < 19000);
	free(buf);
	for (int k = 0; k < 3; k++)
		free(seeds[k]);
}

/* Writes frames to dir/name with the writer; pixels of frame k are
** channels x h x w bytes from a fixed pattern. Returns the pixels. */
static uint8_t *write_file(const char *path, int w, int h, int channels, y4m_chroma chroma,
                           int n)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(y4m_write_header(f, w, h, chroma, 25, 1), 0);
	size_t fb = (size_t)(w * h * channels);
	uint8_t *all = malloc(fb * (size_t)n);
	dd_rng rng;
	dd_rng_seed(&rng, 11, 0);
	for (int k = 0; k < n; k++) {
		uint8_t *px = all + fb * (size_t)k;
		/* smooth content with some noise: chroma subsampling loses little */
		for (int c = 0; c < channels; c++)
			for (int y = 0; y < h; y++)
				for (int x = 0; x < w; x++)
					px[(c * h + y) * w + x] = (uint8_t)((x * 3 + y * 2 + k * 7 + c * 60) % 200 + 20 +
					                                   dd_rng_below(&rng, 3));
		assert_int_equal(y4m_write_frame(f, w, h, chroma, px, channels), 0);
	}
	fclose(f);
	return all;
}

static void test_round_trip_through_store(void **state)
{
	(void)state;
	char *dir = vt_tmpdir(), path[256], err[512];
	/* Gray in a mono stream comes back bit for bit. */
	snprintf(path, sizeof path, "%s/gray.y4m", dir);
	const int w = 20, h = 14, n = 6;
	uint8_t *px = write_file(path, w, h, 1, Y4M_MONO, n);
	frame_store *s;
	assert_int_equal(frame_store_acquire(path, 0, 0, 1, 0, 64, &s, err, sizeof err), DD_OK);
	assert_int_equal(frame_store_frames(s), n);
	float *f = malloc(sizeof(float) * w * h * 3);
	for (int k = n - 1; k >= 0; k--) {
		assert_int_equal(frame_store_get(s, k, f, err, sizeof err), DD_OK);
		for (int i = 0; i < w * h; i++)
			assert_float_equal(f[i], px[k * w * h + i] / 255.0f, 1e-6);
	}
	frame_store_release(s);
	free(px);
	/* RGB in 4:4:4 within the rounding of two colour conversions. */
	snprintf(path, sizeof path, "%s/rgb.y4m", dir);
	px = write_file(path, w, h, 3, Y4M_444, n);
	assert_int_equal(frame_store_acquire(path, 0, 0, 3, 0, 64, &s, err, sizeof err), DD_OK);
	double worst = 0;
	for (int k = 0; k < n; k++) {
		assert_int_equal(frame_store_get(s, k, f, err, sizeof err), DD_OK);
		for (int i = 0; i < 3 * w * h; i++) {
			double d = fabs(f[i] * 255.0 - px[k * 3 * w * h + i]);
			worst = d > worst ? d : worst;
		}
	}
	print_message("RGB -> Y4M 4:4:4 -> RGB: largest error %.0f of 255\n", worst);
	assert_true(worst <= 4);
	frame_store_release(s);
	free(px);
	free(f);
	vt_rmdir(dir);
}

/* Our reader and FFmpeg's Y4M demuxer hand the same planes to the same
** conversion: the frames must be identical, for 4:2:0 at another size too. */
static void test_same_frames_as_ffmpeg(void **state)
{
	(void)state;
	char *dir = vt_tmpdir(), path[256], err[512];
	snprintf(path, sizeof path, "%s/c420.y4m", dir);
	const int w = 33, h = 17, n = 5;
	free(write_file(path, w, h, 3, Y4M_420, n));
	frame_reader *ours, *theirs;
	assert_int_equal(reader_y4m_open(path, &ours, err, sizeof err), DD_OK);
	assert_int_equal(reader_ffmpeg_open(path, &theirs, err, sizeof err), DD_OK);
	frame_reader *r[2] = {ours, theirs};
	for (int i = 0; i < 2; i++) {
		r[i]->out_w = 16;
		r[i]->out_h = 8;
		r[i]->out_c = 3;
		assert_int_equal(r[i]->scan(r[i], 0, 0, NULL, NULL, err, sizeof err), DD_OK);
		assert_int_equal(r[i]->n_frames, n);
		assert_int_equal(r[i]->width, w);
	}
	uint8_t a[16 * 8 * 3], b[16 * 8 * 3];
	for (int k = n - 1; k >= 0; k--) { /* backwards: FFmpeg has to seek */
		assert_int_equal(ours->read(ours, k, a, err, sizeof err), DD_OK);
		if (theirs->read(theirs, k, b, err, sizeof err) != DD_OK)
			fail_msg("%s", err);
		assert_memory_equal(a, b, sizeof a);
	}
	ours->close(ours);
	theirs->close(theirs);
	vt_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_index_and_truncation),
		cmocka_unit_test(test_fuzz_body_on_mutations),
		cmocka_unit_test(test_round_trip_through_store),
		cmocka_unit_test(test_same_frames_as_ffmpeg),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
