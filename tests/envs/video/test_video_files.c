/*
** test_video_files.c -- the file source: real videos of opencv-doc decoded
** by FFmpeg (frame counts and sizes, seeking, the bounded cache), PNG
** folders and Y4M through the env, and bad input: truncated, unreadable,
** unsupported files, clips longer than the video, sizes of zero.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#define VT_WITH_PLUGIN
#include "daydream/png.h"
#include "daydream/rng.h"
#include "video.h"
#include "video_testkit.h"
#include "y4m.h"

/* A call that must succeed; on failure the message says why. */
#define MUST(call, msg)                 \
	do {                                \
		if ((call) != DD_OK)            \
			fail_msg("%s", (msg));      \
	} while (0)

static void test_vtest_count_and_size(void **state)
{
	(void)state;
	VT_DATA_OR_SKIP(path, "opencv/vtest.avi");
	char set_path[1100];
	snprintf(set_path, sizeof set_path, "path=%s", path);
	const char *sets[] = {"source=file", set_path, "width=0", "height=0", "clip_length=3",
	                      "cache_mb=2", NULL};
	vt_env *e = vt_new(sets);
	if (!e)
		fail_msg("%s", vt_err);
	const dd_tensor_spec *o = &e->sp->obs[0];
	assert_int_equal(o->dims[0], 1);
	assert_int_equal(o->dims[1], 576);
	assert_int_equal(o->dims[2], 768);
	assert_int_equal(e->sp->render_width, 768);
	vt_free(e);
	/* The exact count FFmpeg decodes (ffprobe -count_frames says 795). */
	frame_store *s;
	char err[1024];
	MUST(frame_store_acquire(path, 64, 0, 3, 0, 16, &s, err, sizeof err), err);
	assert_int_equal(frame_store_frames(s), 795);
	int w, h;
	frame_store_size(s, &w, &h);
	assert_int_equal(w, 64);
	assert_int_equal(h, 48); /* 0 keeps the 4:3 proportion */
	float f[3 * 64 * 48];
	assert_int_equal(frame_store_get(s, 794, f, err, sizeof err), DD_OK);
	double mean = 0;
	for (int i = 0; i < 3 * 64 * 48; i++)
		mean += f[i] / (3 * 64 * 48);
	assert_true(mean > 0.2 && mean < 0.8); /* a daylight scene, not black */
	assert_int_equal(frame_store_get(s, 795, f, err, sizeof err), DD_ERR);
	assert_non_null(strstr(err, "no frame 795 (it has 795)"));
	frame_store_release(s);
}

/* Frames reached by seeking (a cache of two frames, random order) equal the
** frames of the one decode pass that filled a large cache. */
static void test_seeking_matches_sequential(void **state)
{
	(void)state;
	VT_DATA_OR_SKIP(path, "opencv/vtest.avi");
	frame_store *all, *tiny;
	char err[1024];
	MUST(frame_store_acquire(path, 32, 24, 1, 0, 64, &all, err, sizeof err), err);
	MUST(frame_store_acquire(path, 32, 24, 1, 0, 0.0015, &tiny, err, sizeof err), err);
	frame_store_stats st;
	frame_store_stats_get(tiny, &st);
	assert_int_equal(st.cache_slots, 2);
	float a[32 * 24], b[32 * 24];
	dd_rng rng;
	dd_rng_seed(&rng, 3, 0);
	/* vtest.avi has 4 key frames: every seek decodes ~100 frames forward */
	for (int k = 0; k < 24; k++) {
		int i = k < 4 ? 794 - k : (int)dd_rng_below(&rng, 795);
		assert_int_equal(frame_store_get(all, i, a, err, sizeof err), DD_OK);
		if (frame_store_get(tiny, i, b, err, sizeof err) != DD_OK)
			fail_msg("%s", err);
		assert_memory_equal(a, b, sizeof a);
	}
	/* The large cache decoded the file once; the tiny one had to decode
	** again (seeks land on key frames and decode forward). */
	frame_store_stats_get(all, &st);
	assert_int_equal(st.decoded, 795);
	assert_int_equal(st.misses, 0);
	assert_int_equal(st.cache_used, 795);
	frame_store_stats_get(tiny, &st);
	assert_true(st.decoded > 795);
	assert_true(st.cache_used <= 2);
	frame_store_release(all);
	frame_store_release(tiny);
}

static void test_other_opencv_videos(void **state)
{
	(void)state;
	VT_DATA_OR_SKIP(tree, "opencv/tree.avi");
	VT_DATA_OR_SKIP(mega, "opencv/Megamind.avi");
	frame_store *s;
	char err[1024];
	/* tree.avi: 444 entries in its index, most of them empty (held frames):
	** 68 pictures, as ffprobe -count_frames reports. */
	MUST(frame_store_acquire(tree, 0, 0, 3, 0, 8, &s, err, sizeof err), err);
	assert_int_equal(frame_store_frames(s), 68);
	int w, h;
	frame_store_size(s, &w, &h);
	assert_true(w == 320 && h == 240);
	frame_store_release(s);
	MUST(frame_store_acquire(mega, 0, 0, 1, 0, 8, &s, err, sizeof err), err);
	assert_int_equal(frame_store_frames(s), 270);
	frame_store_size(s, &w, &h);
	assert_true(w == 720 && h == 528);
	frame_store_release(s);
	/* max_frames bounds the decode pass. */
	MUST(frame_store_acquire(mega, 64, 64, 1, 40, 8, &s, err, sizeof err), err);
	assert_int_equal(frame_store_frames(s), 40);
	frame_store_release(s);
}

static char *copy_prefix(const char *src, const char *dir, const char *name, long bytes)
{
	char *dst = malloc(512);
	snprintf(dst, 512, "%s/%s", dir, name);
	FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
	char buf[65536];
	long left = bytes;
	while (left > 0) {
		size_t n = fread(buf, 1, left < (long)sizeof buf ? (size_t)left : sizeof buf, in);
		if (n == 0)
			break;
		fwrite(buf, 1, n, out);
		left -= (long)n;
	}
	fclose(in);
	fclose(out);
	return dst;
}

/* Byte offset of the nth video chunk ("00dc") of an AVI's movi list: a
** place to cut the file between two pictures. */
static long avi_chunk_offset(const char *path, int nth)
{
	FILE *f = fopen(path, "rb");
	static uint8_t buf[1 << 16];
	size_t n = fread(buf, 1, sizeof buf, f);
	long pos = -1;
	for (size_t i = 0; i + 4 <= n; i++)
		if (memcmp(buf + i, "movi", 4) == 0) {
			pos = (long)i + 4;
			break;
		}
	assert_true(pos > 0);
	int count = 0;
	uint8_t h[8];
	while (fseek(f, pos, SEEK_SET) == 0 && fread(h, 1, 8, f) == 8) {
		if (memcmp(h + 2, "dc", 2) == 0 && count++ == nth)
			break;
		uint32_t size = h[4] | h[5] << 8 | h[6] << 16 | (uint32_t)h[7] << 24;
		pos += 8 + (long)size + (size & 1);
	}
	fclose(f);
	assert_int_equal(count, nth + 1);
	return pos;
}

/* The env's error for path=..., or NULL when it opened. */
static const char *open_error(const char *path, const char *extra)
{
	char set_path[1100];
	snprintf(set_path, sizeof set_path, "path=%s", path);
	const char *sets[] = {"source=file", set_path, extra ? extra : "clip_length=2", NULL};
	vt_env *e = vt_new(sets);
	if (e) {
		vt_free(e);
		return NULL;
	}
	return vt_err;
}

static void test_bad_files(void **state)
{
	(void)state;
	char *dir = vt_tmpdir(), path[512];
	const char *err;
	/* missing */
	snprintf(path, sizeof path, "%s/missing.mp4", dir);
	assert_non_null(err = open_error(path, NULL));
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "No such file or directory"));
	/* not a video */
	snprintf(path, sizeof path, "%s/notes.avi", dir);
	FILE *f = fopen(path, "w");
	for (int i = 0; i < 200; i++)
		fputs("this is a text file, not a video\n", f);
	fclose(f);
	assert_non_null(err = open_error(path, NULL));
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "FFmpeg: Invalid data found when processing input"));
	/* no video stream: a short WAV file */
	snprintf(path, sizeof path, "%s/sound.wav", dir);
	f = fopen(path, "wb");
	uint32_t n = 800;
	uint8_t hdr[44] = {'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'A', 'V', 'E', 'f', 'm', 't', ' ',
	                   16, 0, 0, 0, 1, 0, 1, 0, 0x40, 0x1f, 0, 0, 0x40, 0x1f, 0, 0, 1, 0, 8, 0,
	                   'd', 'a', 't', 'a', 0, 0, 0, 0};
	memcpy(hdr + 4, &(uint32_t){36 + n}, 4); /* little-endian host */
	memcpy(hdr + 40, &n, 4);
	fwrite(hdr, 1, 44, f);
	for (uint32_t i = 0; i < n; i++)
		fputc(128 + (int)(100 * sin(i * 0.1)), f);
	fclose(f);
	assert_non_null(err = open_error(path, NULL));
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "no video stream"));
	/* no path at all */
	assert_non_null(err = open_error("", NULL));
	assert_non_null(strstr(err, "source 'file' needs path"));
	/* a truncated real video */
	const char *vtest = vt_data("opencv/vtest.avi");
	if (vtest) {
		/* cut inside a picture: the decoder's complaint, with the frame */
		char *cut = copy_prefix(vtest, dir, "vtest_cut.avi", 4000000);
		assert_non_null(err = open_error(cut, NULL));
		assert_non_null(strstr(err, cut));
		assert_non_null(strstr(err, "FFmpeg: "));
		print_message("cut inside a picture: %s\n", err);
		free(cut);
		/* cut between two pictures: nothing fails to decode, yet frames
		** are missing from what the header announces */
		cut = copy_prefix(vtest, dir, "vtest_chunks.avi", avi_chunk_offset(vtest, 400));
		assert_non_null(err = open_error(cut, NULL));
		assert_non_null(strstr(err, cut));
		assert_non_null(strstr(err, "truncated or damaged: its header announces 795 frames but "
		                            "its pictures end after 400"));
		free(cut);
		/* cut inside its header: FFmpeg's own reason */
		cut = copy_prefix(vtest, dir, "vtest_head.avi", 3000);
		assert_non_null(err = open_error(cut, NULL));
		assert_non_null(strstr(err, cut));
		assert_non_null(strstr(err, "FFmpeg"));
		print_message("header cut: %s\n", err);
		free(cut);
	} else {
		print_message("opencv/vtest.avi not found: run scripts/fetch-test-data.sh "
		              "(truncation cases not run)\n");
	}
	vt_rmdir(dir);
}

static void test_sizes_and_lengths(void **state)
{
	(void)state;
	char *dir = vt_tmpdir(), path[512], set_path[600];
	snprintf(path, sizeof path, "%s/six.y4m", dir);
	FILE *f = fopen(path, "wb");
	y4m_write_header(f, 8, 8, Y4M_MONO, 25, 1);
	uint8_t px[64] = {0};
	for (int k = 0; k < 6; k++)
		y4m_write_frame(f, 8, 8, Y4M_MONO, px, 1);
	fclose(f);
	const char *err = open_error(path, "clip_length=7");
	assert_non_null(err);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "has 6 frames, fewer than clip_length = 7"));
	assert_null(open_error(path, "clip_length=6"));
	snprintf(set_path, sizeof set_path, "path=%s", path);
	const char *capped[] = {"source=file", set_path, "max_frames=3", "clip_length=4", NULL};
	assert_null(vt_new(capped));
	assert_non_null(strstr(vt_err, "has 3 frames (within max_frames), fewer than clip_length = 4"));
	/* A size of zero only means "the file's own" for files. */
	const char *zero[] = {"source=objects", "width=0", NULL};
	assert_null(vt_new(zero));
	assert_non_null(strstr(vt_err, "width and height must be at least 1 for source 'objects'"));
	const char *neg[] = {"source=balls", "height=-4", NULL};
	assert_null(vt_new(neg));
	assert_non_null(strstr(vt_err, "'height' must be an integer in [0, 4096]"));
	vt_rmdir(dir);
}

/* Frames k of a folder: a gradient plus k, gray or RGB. */
static uint8_t pattern(int k, int c, int y, int x)
{
	return (uint8_t)(x * 9 + y * 5 + c * 70 + k * 13);
}

static void test_png_folder_round_trip(void **state)
{
	(void)state;
	char *dir = vt_tmpdir(), path[512], err[512], set_path[600];
	const int w = 12, h = 10, n = 12;
	uint8_t px[3 * 12 * 10];
	for (int k = 0; k < n; k++) {
		/* frame2 must come before frame10: natural order */
		snprintf(path, sizeof path, "%s/frame%d.png", dir, k);
		for (int y = 0; y < h; y++)
			for (int x = 0; x < w; x++)
				for (int c = 0; c < 3; c++)
					px[(y * w + x) * 3 + c] = pattern(k, c, y, x);
		assert_int_equal(dd_png_write_file(path, px, w, h, 3, err, sizeof err), DD_OK);
	}
	snprintf(set_path, sizeof set_path, "path=%s", dir);
	const char *sets[] = {"source=file", set_path, "width=0", "height=0", "color=rgb",
	                      "clip_length=12", NULL};
	vt_env *e = vt_new(sets);
	if (!e)
		fail_msg("%s", vt_err);
	float *clip = vt_clip(e, 5, n);
	assert_non_null(clip);
	assert_int_equal(e->info[vt_info(e, "start")], 0);
	for (int k = 0; k < n; k++)
		for (int c = 0; c < 3; c++)
			for (int y = 0; y < h; y++)
				for (int x = 0; x < w; x++)
					assert_float_equal(clip[((size_t)(k * 3 + c) * h + y) * w + x],
					                   pattern(k, c, y, x) / 255.0f, 1e-6);
	/* the last step ends the clip: truncated, and one more step is an error */
	assert_true(e->out.truncated);
	assert_false(e->out.terminated);
	assert_int_equal(vt_step(e), DD_ERR);
	assert_non_null(strstr(vt_err, "after the last frame of the clip"));
	/* render shows the last frame */
	uint8_t rgb[3 * 12 * 10];
	assert_int_equal(e->vt->render(e->h, rgb), DD_OK);
	assert_int_equal(rgb[3 * (2 * w + 3) + 1], pattern(n - 1, 1, 2, 3));
	free(clip);
	vt_free(e);
	/* A frame of another size is an error naming it (at create, since the
	** frames that fit in the cache are read then). */
	snprintf(path, sizeof path, "%s/frame12.png", dir);
	assert_int_equal(dd_png_write_file(path, px, 6, 5, 3, err, sizeof err), DD_OK);
	const char *sets13[] = {"source=file", set_path, "clip_length=13", NULL};
	assert_null(vt_new(sets13));
	assert_non_null(strstr(vt_err, "frame12.png: 6x5, but the first frame"));
	/* With a cache of one frame, reading it is what fails. */
	const char *small[] = {"source=file", set_path, "clip_length=13", "cache_mb=0.001", NULL};
	e = vt_new(small);
	if (!e)
		fail_msg("%s", vt_err);
	assert_int_equal(vt_reset(e, 1), DD_OK);
	int rc = DD_OK;
	for (int t = 1; t < 13 && rc == DD_OK; t++)
		rc = vt_step(e);
	assert_int_equal(rc, DD_ERR);
	assert_non_null(strstr(vt_err, "frame12.png: 6x5, but the first frame"));
	vt_free(e);
	vt_rmdir(dir);
	dir = vt_tmpdir();
	snprintf(set_path, sizeof set_path, "path=%s", dir);
	assert_null(vt_new(sets13));
	assert_non_null(strstr(vt_err, "a folder without *.png files"));
	vt_rmdir(dir);
}

/* reset(seed) picks the clip: the same seed the same start, seeds spread
** over the whole file, frames follow the start in order. */
static void test_clip_choice(void **state)
{
	(void)state;
	char *dir = vt_tmpdir(), path[512], set_path[600];
	snprintf(path, sizeof path, "%s/count.y4m", dir);
	FILE *f = fopen(path, "wb");
	y4m_write_header(f, 4, 4, Y4M_MONO, 25, 1);
	uint8_t px[16];
	for (int k = 0; k < 50; k++) {
		memset(px, k * 5, sizeof px);
		y4m_write_frame(f, 4, 4, Y4M_MONO, px, 1);
	}
	fclose(f);
	snprintf(set_path, sizeof set_path, "path=%s", path);
	const char *sets[] = {"source=file", set_path, "width=0", "height=0", "clip_length=10", NULL};
	vt_env *e = vt_new(sets);
	assert_non_null(e);
	int seen[41] = {0}, start_i = vt_info(e, "start"), index_i = vt_info(e, "index");
	assert_true(start_i > 0 && index_i > 0);
	for (uint64_t seed = 0; seed < 200; seed++) {
		assert_int_equal(vt_reset(e, seed), DD_OK);
		int start = (int)e->info[start_i];
		assert_true(start >= 0 && start <= 40);
		seen[start] = 1;
		assert_float_equal(e->obs[0][0], start * 5 / 255.0f, 1e-6);
		for (int t = 1; t < 10; t++) {
			assert_int_equal(vt_step(e), DD_OK);
			assert_int_equal((int)e->info[index_i], start + t);
			assert_int_equal((int)e->info[0], t); /* "frame" */
			assert_float_equal(e->obs[0][5], (start + t) * 5 / 255.0f, 1e-6);
		}
		assert_int_equal(vt_reset(e, seed), DD_OK);
		assert_int_equal((int)e->info[start_i], start);
	}
	int distinct = 0;
	for (int i = 0; i <= 40; i++)
		distinct += seen[i];
	assert_true(distinct >= 30); /* 200 draws over 41 starts */
	vt_free(e);
	/* Instances asking for the same file and frame format share one store:
	** the file is read once, however many instances there are. */
	frame_store *a, *b, *c;
	char err[512];
	MUST(frame_store_acquire(path, 0, 0, 1, 0, 1, &a, err, sizeof err), err);
	MUST(frame_store_acquire(path, 0, 0, 1, 0, 1, &b, err, sizeof err), err);
	MUST(frame_store_acquire(path, 2, 2, 1, 0, 1, &c, err, sizeof err), err);
	assert_ptr_equal(a, b);
	assert_ptr_not_equal(a, c); /* another size is another store */
	float px16[16];
	for (int i = 0; i < 50; i++) {
		MUST(frame_store_get(a, i, px16, err, sizeof err), err);
		MUST(frame_store_get(b, 49 - i, px16, err, sizeof err), err);
	}
	frame_store_stats st;
	frame_store_stats_get(a, &st);
	assert_int_equal(st.decoded, 50);
	assert_int_equal(st.hits, 100);
	frame_store_release(a);
	MUST(frame_store_get(b, 7, px16, err, sizeof err), err); /* b still holds it */
	assert_float_equal(px16[0], 35 / 255.0f, 1e-6);
	frame_store_release(b);
	frame_store_release(c);
	vt_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vtest_count_and_size),
		cmocka_unit_test(test_seeking_matches_sequential),
		cmocka_unit_test(test_other_opencv_videos),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_sizes_and_lengths),
		cmocka_unit_test(test_png_folder_round_trip),
		cmocka_unit_test(test_clip_choice),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	dd_registry_free(vt_registry);
	return rc;
}
