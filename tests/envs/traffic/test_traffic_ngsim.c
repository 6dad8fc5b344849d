/*
** test_traffic_ngsim.c -- the NGSIM reader (text and CSV export, good rows
** and each kind of bad one, with line and column in the message), the
** shipped sample (regenerated bit for bit by its generator), the replay
** index, and seeded mutations through the fuzz body.
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

#include "fuzz_ngsim.c"
#include "traffic.h"

#define SAMPLE DD_SOURCE_DIR "/plugins/envs/traffic/data/sim_highway.txt"

static const char text[] =
	"1 12 884 1118846980200 16.467 35.381 6451137.641 1873344.255 14.5 4.9 2 40.00 0.00 2 0 0 0.00 0.00\n"
	"\n"
	"1 13 884 1118846980300   16.447 39.381 6451137.607 1873348.251 14.5 4.9 2 40.00 -1.00 2 0 13 0.00 0.00\r\n"
	"2 12 500 1118846980200 28.0 100.0 0 0 16.0 6.0 2 30.5 0.5 3 1 0 10.00 0.33\n";

/* The same rows as the CSV export: a header, 25 columns, quoted numbers
** with thousands separators. */
static const char csv[] =
	"Vehicle_ID,Frame_ID,Total_Frames,Global_Time,Local_X,Local_Y,Global_X,Global_Y,"
	"v_length,v_Width,v_Class,v_Vel,v_Acc,Lane_ID,O_Zone,D_Zone,Int_ID,Section_ID,"
	"Direction,Movement,Preceding,Following,Space_Headway,Time_Headway,Location\n"
	"1,12,884,\"1,118,846,980,200\",16.467,35.381,6451137.641,1873344.255,14.5,4.9,2,40,0,2,,,,,,,0,0,0,0,us-101\n"
	"1,13,884,1118846980300,16.447,39.381,6451137.607,1873348.251,14.5,4.9,2,40,-1,2,,,,,,,0,13,0,0,us-101\n"
	"2,12,500,1118846980200,28.0,100.0,0,0,16.0,6.0,2,30.5,0.5,3,,,,,,,1,0,10,0.33,us-101\n";

static void check_rows(const tr_ngsim *t)
{
	assert_int_equal(t->n, 3);
	const tr_ngsim_row *r = &t->rows[0];
	assert_int_equal(r->vehicle, 1);
	assert_int_equal(r->frame, 12);
	assert_int_equal(r->lane, 2);
	assert_float_equal(r->length, 14.5 * 0.3048, 1e-12);
	assert_float_equal(r->width, 4.9 * 0.3048, 1e-12);
	assert_float_equal(r->y, 16.467 * 0.3048, 1e-12);
	/* Local_Y is the front bumper: the centre is half a length behind */
	assert_float_equal(r->x, 35.381 * 0.3048 - 0.5 * 14.5 * 0.3048, 1e-12);
	assert_float_equal(r->v, 40 * 0.3048, 1e-12);
	assert_float_equal(t->rows[1].acc, -0.3048, 1e-12);
	assert_float_equal(t->rows[2].v, 30.5 * 0.3048, 1e-12);
}

static void test_parse_text_and_csv(void **state)
{
	(void)state;
	tr_ngsim t;
	char err[512];
	assert_int_equal(tr_ngsim_parse(text, strlen(text), "t.txt", &t, err, sizeof err), 0);
	check_rows(&t);
	assert_int_equal(t.rows[0].line, 1);
	assert_int_equal(t.rows[1].line, 3);
	tr_ngsim_free(&t);
	assert_int_equal(tr_ngsim_parse(csv, strlen(csv), "t.csv", &t, err, sizeof err), 0);
	check_rows(&t);
	assert_int_equal(t.rows[0].line, 2);
	tr_ngsim_free(&t);
	/* a CSV without header: the text layout's column positions */
	const char bare[] = "2,12,500,1118846980200,28.0,100.0,0,0,16.0,6.0,2,30.5,0.5,3,1,0,10.00,0.33\n";
	assert_int_equal(tr_ngsim_parse(bare, strlen(bare), "b.csv", &t, err, sizeof err), 0);
	assert_int_equal(t.n, 1);
	assert_float_equal(t.rows[0].y, 28.0 * 0.3048, 1e-12);
	tr_ngsim_free(&t);
}

/* Each bad input is refused with this text in the message. */
static void expect_error(const char *input, const char *want)
{
	tr_ngsim t;
	char err[512] = "";
	int rc = tr_ngsim_parse(input, strlen(input), "bad.txt", &t, err, sizeof err);
	tr_ngsim_free(&t);
	if (rc == 0 || !strstr(err, want))
		fail_msg("for %s: wanted '%s', got rc %d '%s'", input, want, rc, err);
}

static void test_bad_rows(void **state)
{
	(void)state;
	char buf[2048];
	/* one column short on line 3 */
	snprintf(buf, sizeof buf, "%s%s",
	         "1 12 884 1 16.4 35.3 0 0 14.5 4.9 2 40.00 0.00 2 0 0 0.00 0.00\n"
	         "1 13 884 1 16.4 39.3 0 0 14.5 4.9 2 40.00 0.00 2 0 0 0.00 0.00\n",
	         "1 14 884 1 16.4 43.3 0 0 14.5 4.9 2 40.00 0.00 2 0 0 0.00\n");
	expect_error(buf, "bad.txt:3: 17 columns, expected 18");
	expect_error("1 12 884 1 16.4 35.3 0 0 14.5 4.9 2 40.00 0.00 2 0 0 0.00\n",
	             "bad.txt:1: 17 columns, expected 18 (Vehicle_ID Frame_ID");
	expect_error("1 12 884 1 16.4 3x5.3 0 0 14.5 4.9 2 40.00 0.00 2 0 0 0.00 0.00\n",
	             "bad.txt:1: column 6 (Local_Y): '3x5.3' is not a number");
	expect_error("1 12.5 884 1 16.4 35.3 0 0 14.5 4.9 2 40.00 0.00 2 0 0 0.00 0.00\n",
	             "bad.txt:1: column 2 (Frame_ID): '12.5' is not a whole number");
	expect_error("1 12 884 1 16.4 35.3 0 0 -14.5 4.9 2 40.00 0.00 2 0 0 0.00 0.00\n",
	             "bad.txt:1: column 9 (v_Length): -14.5 feet is not a vehicle length");
	expect_error("1 12 884 1 16.4 35.3 0 0 14.5 nan 2 40.00 0.00 2 0 0 0.00 0.00\n",
	             "column 10 (v_Width): 'nan' is not a number");
	expect_error("1 12 884 1 16.4 1e999 0 0 14.5 4 2 40.00 0.00 2 0 0 0.00 0.00\n",
	             "column 6 (Local_Y): '1e999' is not a number");
	expect_error("Vehicle_ID,Frame_ID,Local_X,v_Length,v_Width,v_Vel,v_Acc,Lane_ID\n1,2,3,4,5,6,7,8\n",
	             "bad.txt:1: the header has no column Local_Y");
	expect_error("Vehicle_ID,Frame_ID,Local_X,Local_Y,v_Length,v_Width,v_Vel,v_Acc,Lane_ID\n"
	             "1,2,3,4,5,6,7,8,9\n1,3,3,4,5,6,7,8\n",
	             "bad.txt:3: 8 columns, expected 9");
	expect_error("Vehicle_ID,Frame_ID,Local_X,Local_Y,v_Length,v_Width,v_Vel,v_Acc,Lane_ID\n"
	             "1,2,3,\"4,5,6,7,8,9\n",
	             "bad.txt:2: column 4: unterminated quote");
	expect_error("Vehicle_ID,Frame_ID,Local_X,Local_Y,v_Length,v_Width,v_Vel,v_Acc,Lane_ID\n"
	             "1,2,3,4,5,6,,8,9\n",
	             "bad.txt:2: column 7 (v_Vel): '' is not a number");
	expect_error("\n  \n", "bad.txt: no trajectory rows");
	expect_error("", "no trajectory rows");
}

static void test_duplicates_refused(void **state)
{
	(void)state;
	const char dup[] =
		"1 12 884 1 16.4 35.3 0 0 14.5 4.9 2 40.00 0.00 2 0 0 0.00 0.00\n"
		"2 12 884 1 28.4 35.3 0 0 14.5 4.9 2 40.00 0.00 3 0 0 0.00 0.00\n"
		"1 12 884 1 16.4 39.3 0 0 14.5 4.9 2 40.00 0.00 2 0 0 0.00 0.00\n";
	tr_ngsim t;
	tr_replay r;
	char err[512];
	assert_int_equal(tr_ngsim_parse(dup, strlen(dup), "d.txt", &t, err, sizeof err), 0);
	assert_int_equal(tr_replay_init(&r, &t, err, sizeof err), -1);
	assert_non_null(strstr(err, "line 3: vehicle 1 appears twice in frame 12 (also line 1)"));
	tr_replay_free(&r);
}

static void test_sample_and_index(void **state)
{
	(void)state;
	tr_ngsim t;
	tr_replay r;
	char err[512];
	assert_int_equal(tr_ngsim_load(SAMPLE, &t, err, sizeof err), 0);
	size_t n = t.n;
	assert_true(n > 1000);
	assert_int_equal(tr_replay_init(&r, &t, err, sizeof err), 0);
	assert_int_equal(r.f0, 1);
	assert_int_equal(r.f1, 150);
	assert_true(r.n_vehicles >= 20);
	size_t seen = 0;
	for (int f = r.f0; f <= r.f1; f++)
		for (size_t i = r.first[f - r.f0]; i < r.first[f - r.f0 + 1]; i++) {
			const tr_ngsim_row *row = &r.data.rows[i];
			assert_int_equal(row->frame, f);
			assert_ptr_equal(tr_replay_row(&r, row->vehicle, f), row);
			/* recorded only while on the 200 m, 3-lane road */
			assert_true(row->x - 0.5 * row->length >= -1e-3 && row->x + 0.5 * row->length <= 200.001);
			assert_true(row->y > 0 && row->y < 3 * 3.7);
			seen++;
		}
	assert_int_equal(seen, n);
	assert_null(tr_replay_row(&r, 999999, 5));
	assert_int_equal(tr_replay_vehicle(&r, 999999), -1);
	tr_replay_free(&r);

	char tmp[] = "/tmp/ddtraffic.XXXXXX";
	int fd = mkstemp(tmp);
	assert_true(fd >= 0);
	close(fd);
	char cmd[512];
	snprintf(cmd, sizeof cmd, "%s %s", DD_RECORD_NGSIM, tmp);
	assert_int_equal(system(cmd), 0);
	FILE *a = fopen(SAMPLE, "rb"), *b = fopen(tmp, "rb");
	assert_non_null(a);
	assert_non_null(b);
	int ca, cb, same = 1;
	do {
		ca = fgetc(a);
		cb = fgetc(b);
		same = same && ca == cb;
	} while (ca != EOF && cb != EOF);
	fclose(a);
	fclose(b);
	remove(tmp);
	if (!same)
		fail_msg("the simulator no longer produces %s: regenerate it with "
		         "build/tests/envs/traffic/record_ngsim if the change is intended", SAMPLE);
}

/* Seeded mutations of valid inputs through the fuzz body. */
static void test_fuzz_mutations(void **state)
{
	(void)state;
	const char *seeds[] = {text, csv};
	dd_rng rng;
	dd_rng_seed(&rng, 11, 0);
	char buf[4096];
	for (int k = 0; k < 2; k++) {
		size_t n = strlen(seeds[k]);
		for (int it = 0; it < 3000; it++) {
			memcpy(buf, seeds[k], n);
			int edits = 1 + (int)dd_rng_below(&rng, 4);
			for (int e = 0; e < edits; e++) {
				size_t at = dd_rng_below(&rng, n);
				static const char alphabet[] = "0123456789.,- \n\"e+x\t\r";
				buf[at] = dd_rng_below(&rng, 3) == 0 ? (char)dd_rng_below(&rng, 256)
				          : alphabet[dd_rng_below(&rng, sizeof alphabet - 1)];
			}
			size_t len = n - dd_rng_below(&rng, 8);
			LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_text_and_csv),
		cmocka_unit_test(test_bad_rows),
		cmocka_unit_test(test_duplicates_refused),
		cmocka_unit_test(test_sample_and_index),
		cmocka_unit_test(test_fuzz_mutations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
