/*
** test_video_sources.c -- the synthetic sources, reached directly: bouncing
** balls keep their number, stay inside the box and conserve energy; moving
** digits draw the data set's own pixels; rotating objects turn by `spin`
** per frame and come back to the first frame after a full turn; each
** source is deterministic per seed.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#include "daydream/idx.h"
#include "video.h"
#include "video_testkit.h"

#define FASHION "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"

static vconfig base(void)
{
	return (vconfig){.width = 64, .height = 48, .channels = 1, .clip_length = 20,
	                 .balls = 4, .radius = 5, .speed = 3, .digits = 2, .sprites = FASHION,
	                 .sprite_scale = 1, .shape = -1, .spin = 0.1, .cache_mb = 16};
}

/* frames x (c h w) floats and frames x n_info stats of one clip. */
static void run_clip(vsource *s, uint64_t seed, int frames, float *px, float *info)
{
	char err[256];
	size_t n = (size_t)s->channels * s->width * s->height;
	assert_int_equal(s->begin(s->self, seed, err, sizeof err), DD_OK);
	for (int t = 0; t < frames; t++)
		assert_int_equal(s->next(s->self, px + t * n, info + t * s->n_info, err, sizeof err), DD_OK);
}

static void test_balls_physics(void **state)
{
	(void)state;
	vconfig c = base();
	vsource s;
	char err[256];
	assert_int_equal(balls_open(&c, &s, err, sizeof err), DD_OK);
	assert_int_equal(s.n_info, 8);
	assert_string_equal(s.info_names[6], "x3");
	float *px = malloc(sizeof(float) * 64 * 48), info[8];
	double st[4 * 4], closest = 1e9;
	for (uint64_t seed = 1; seed <= 5; seed++) {
		assert_int_equal(s.begin(s.self, seed, err, sizeof err), DD_OK);
		double e0 = -1;
		for (int t = 0; t < 400; t++) {
			assert_int_equal(s.next(s.self, px, info, err, sizeof err), DD_OK);
			assert_int_equal(balls_state(&s, st, 4), 4);
			double e = 0, mass = 0;
			for (int i = 0; i < 4; i++) {
				double *b = st + 4 * i;
				/* inside the box, centres where the info says */
				assert_true(b[0] >= 5 - 1e-9 && b[0] <= 64 - 5 + 1e-9);
				assert_true(b[1] >= 5 - 1e-9 && b[1] <= 48 - 5 + 1e-9);
				assert_float_equal(info[2 * i], b[0], 1e-4);
				assert_float_equal(info[2 * i + 1], b[1], 1e-4);
				e += b[2] * b[2] + b[3] * b[3];
				for (int j = 0; j < i; j++)
					closest = fmin(closest, hypot(b[0] - st[4 * j], b[1] - st[4 * j + 1]));
			}
			if (e0 < 0)
				e0 = e;
			/* elastic: the kinetic energy of the start, 4 balls at speed 3 */
			assert_float_equal(e, 4 * 9.0, 1e-6);
			/* the image holds four whole disks (pi r^2 each, anti-aliased) */
			for (int i = 0; i < 64 * 48; i++)
				mass += px[i];
			assert_true(fabs(mass - 4 * M_PI * 25) < 0.03 * 4 * M_PI * 25);
		}
	}
	/* Balls do overlap a little between collision checks, never much. */
	print_message("closest centres: %.3f (2 r = 10)\n", closest);
	assert_true(closest > 2 * 5 - 1.5);
	free(px);
	s.destroy(s.self);
	/* Impossible settings are refused with the reason. */
	c.radius = 40;
	assert_int_equal(balls_open(&c, &s, err, sizeof err), DD_ERR);
	assert_non_null(strstr(err, "radius 40 does not fit in 64x48"));
	c.radius = 5;
	c.balls = 64;
	assert_int_equal(balls_open(&c, &s, err, sizeof err), DD_ERR);
	assert_non_null(strstr(err, "use fewer or smaller balls"));
	c.balls = 4;
	c.width = 0;
	assert_int_equal(balls_open(&c, &s, err, sizeof err), DD_ERR);
	assert_non_null(strstr(err, "width and height must be at least 1"));
}

static void test_digits_are_dataset_pixels(void **state)
{
	(void)state;
	if (access(FASHION, R_OK) != 0) {
		print_message("[  SKIP    ] %s missing: apt-get install dataset-fashion-mnist\n", FASHION);
		skip();
	}
	dd_idx idx;
	char err[512];
	assert_int_equal(dd_idx_load(&idx, FASHION, 1 << 27, err, sizeof err), DD_OK);
	vconfig c = base();
	c.digits = 1;
	c.speed = 2.5;
	vsource s;
	assert_int_equal(digits_open(&c, &s, err, sizeof err), DD_OK);
	assert_string_equal(s.info_names[0], "sprite0");
	const int T = 30;
	float *px = malloc(sizeof(float) * 64 * 48 * T), info[3 * 30];
	run_clip(&s, 9, T, px, info);
	int sprite = (int)info[0];
	assert_true(sprite >= 0 && sprite < 10000);
	int moved = 0;
	for (int t = 0; t < T; t++) {
		const float *f = px + t * 64 * 48, *in = info + 3 * t;
		int x0 = (int)in[1], y0 = (int)in[2];
		assert_int_equal((int)in[0], sprite); /* the same sprite all clip long */
		assert_true(x0 >= 0 && x0 + 28 <= 64 && y0 >= 0 && y0 + 28 <= 48);
		moved += t > 0 && (x0 != (int)in[-2] || y0 != (int)in[-1]);
		double outside = 0;
		for (int y = 0; y < 48; y++)
			for (int x = 0; x < 64; x++) {
				float v = f[y * 64 + x];
				if (x >= x0 && x < x0 + 28 && y >= y0 && y < y0 + 28) {
					uint8_t want = idx.values[(size_t)sprite * 784 + (y - y0) * 28 + (x - x0)];
					assert_float_equal(v, want / 255.0f, 1e-7);
				} else {
					outside += v;
				}
			}
		assert_true(outside == 0);
	}
	assert_true(moved >= T - 3); /* speed 2.5 moves it every frame */
	s.destroy(s.self);
	/* Scaled by 2: each data-set pixel is a 2 x 2 block. */
	c.sprite_scale = 2;
	c.width = c.height = 64;
	assert_int_equal(digits_open(&c, &s, err, sizeof err), DD_OK);
	run_clip(&s, 4, 1, px, info);
	int x0 = (int)info[1], y0 = (int)info[2];
	sprite = (int)info[0];
	for (int y = 0; y < 56; y++)
		for (int x = 0; x < 56; x++)
			assert_float_equal(px[(y0 + y) * 64 + x0 + x],
			                   idx.values[(size_t)sprite * 784 + (y / 2) * 28 + x / 2] / 255.0f, 1e-7);
	s.destroy(s.self);
	c.sprite_scale = 3;
	assert_int_equal(digits_open(&c, &s, err, sizeof err), DD_ERR);
	assert_non_null(strstr(err, "do not fit in 64x64"));
	c.sprites = "/nonexistent/train-images-idx3-ubyte.gz";
	assert_int_equal(digits_open(&c, &s, err, sizeof err), DD_ERR);
	assert_non_null(strstr(err, "/nonexistent/train-images-idx3-ubyte.gz"));
	free(px);
	dd_idx_free(&idx);
}

static void test_sklearn_digits(void **state)
{
	(void)state;
	/* The CSV reader on text, then on the real file when fetched. */
	char text[2048] = "", err[256];
	for (int line = 0; line < 2; line++) {
		for (int k = 0; k < 64; k++) {
			char v[16];
			snprintf(v, sizeof v, "%d.0,", (k + line) % 17);
			strcat(text, v);
		}
		strcat(text, line ? "7\n" : "3\r\n");
	}
	sprite_set set;
	assert_int_equal(sprites_parse_csv(text, strlen(text), "t.csv", &set, err, sizeof err), DD_OK);
	assert_int_equal(set.n, 2);
	assert_int_equal(set.w, 8);
	assert_int_equal(set.pixels[64 + 63], (63 + 1) % 17);
	assert_float_equal(set.scale, 1.0f / 16, 0);
	free(set.pixels);
	strcpy(text, "1,2,3\n");
	assert_int_equal(sprites_parse_csv(text, strlen(text), "t.csv", &set, err, sizeof err), DD_ERR);
	assert_non_null(strstr(err, "t.csv:1: value 4"));
	VT_DATA_OR_SKIP(path, "sklearn/digits.csv.gz");
	vconfig c = base();
	c.sprites = path;
	c.digits = 3;
	vsource s;
	assert_int_equal(digits_open(&c, &s, err, sizeof err), DD_OK);
	const sprite_set *real;
	assert_int_equal(sprites_acquire(path, &real, err, sizeof err), DD_OK);
	assert_int_equal(real->n, 1797); /* scikit-learn's load_digits() */
	assert_int_equal(real->pixels[2], 5); /* its first image starts 0, 0, 5, 13 */
	assert_int_equal(real->pixels[3], 13);
	sprites_release(real);
	float px[64 * 48], info[9];
	run_clip(&s, 1, 1, px, info);
	float sum = 0;
	for (int i = 0; i < 64 * 48; i++)
		sum += px[i];
	assert_true(sum > 3); /* three 8x8 digits drawn */
	s.destroy(s.self);
}

static void test_objects_rotate(void **state)
{
	(void)state;
	vconfig c = base();
	c.width = c.height = 48;
	c.spin = 2 * M_PI / 8; /* a full turn in 8 frames */
	char err[256];
	for (int shape = 0; shape < OBJ_COUNT; shape++) {
		c.shape = shape;
		vsource s;
		assert_int_equal(objects_open(&c, &s, err, sizeof err), DD_OK);
		assert_string_equal(s.info_names[0], "angle");
		float *px = malloc(sizeof(float) * 48 * 48 * 9), info[2 * 9];
		run_clip(&s, 100 + (uint64_t)shape, 9, px, info);
		for (int t = 0; t < 9; t++) {
			assert_int_equal((int)info[2 * t + 1], shape);
			assert_true(info[2 * t] >= 0 && info[2 * t] < 2 * M_PI);
			if (t > 0) {
				double d = fmod(info[2 * t] - info[2 * t - 2] + 4 * M_PI, 2 * M_PI);
				assert_float_equal(d, c.spin, 1e-5);
			}
		}
		/* After a full turn the picture is the first one again; halfway it
		** is not. The object fills a fair part of the frame and is lit. */
		const float *f0 = px, *f4 = px + 4 * 48 * 48, *f8 = px + 8 * 48 * 48;
		double same = 0, half = 0, lit = 0;
		int covered = 0;
		for (int i = 0; i < 48 * 48; i++) {
			same = fmax(same, fabs(f0[i] - f8[i]));
			half += fabs(f0[i] - f4[i]);
			covered += f0[i] > 0;
			lit = fmax(lit, f0[i]);
		}
		assert_true(same < 1e-4);
		assert_true(half / (48 * 48) > 0.01);
		assert_true(covered > 48 * 48 / 6 && covered < 48 * 48 * 9 / 10);
		assert_true(lit > 0.3 && lit <= 1.0);
		free(px);
		s.destroy(s.self);
	}
}

/* Same seed, same clip; another seed, another clip: for every source. */
static void test_determinism(void **state)
{
	(void)state;
	int (*open[3])(const vconfig *, vsource *, char *, size_t) = {balls_open, objects_open,
	                                                              digits_open};
	int sources = access(FASHION, R_OK) == 0 ? 3 : 2;
	for (int k = 0; k < sources; k++) {
		vconfig c = base();
		vsource s;
		char err[256];
		assert_int_equal(open[k](&c, &s, err, sizeof err), DD_OK);
		size_t n = 64 * 48 * 10;
		float *a = malloc(sizeof(float) * n), *b = malloc(sizeof(float) * n);
		float *ia = malloc(sizeof(float) * 10 * s.n_info), *ib = malloc(sizeof(float) * 10 * s.n_info);
		run_clip(&s, 77, 10, a, ia);
		run_clip(&s, 78, 10, b, ib);
		assert_true(memcmp(a, b, sizeof(float) * n) != 0);
		run_clip(&s, 77, 10, b, ib);
		assert_memory_equal(a, b, sizeof(float) * n);
		assert_memory_equal(ia, ib, sizeof(float) * 10 * s.n_info);
		free(a);
		free(b);
		free(ia);
		free(ib);
		s.destroy(s.self);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_balls_physics),
		cmocka_unit_test(test_digits_are_dataset_pixels),
		cmocka_unit_test(test_sklearn_digits),
		cmocka_unit_test(test_objects_rotate),
		cmocka_unit_test(test_determinism),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
