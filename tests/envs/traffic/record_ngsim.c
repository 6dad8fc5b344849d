/*
** record_ngsim.c -- writes the sample trajectory file the traffic env ships
** (plugins/envs/traffic/data/sim_highway.txt): 15 s of the simulator's own
** IDM/MOBIL traffic on a 200 m, 3-lane road, in NGSIM's 18-column text
** format (feet). Regenerate with: record_ngsim OUT.txt
*/
#include <stdio.h>
#include <stdlib.h>

#include "traffic.h"

#define FRAMES 150
#define MAX_ROWS 20000

typedef struct rec {
	tr_vehicle v;
	int frame, lane_id, preceding, following;
} rec;

/* The road and traffic the sample shows; tests replay it with the same
** lanes and length. */
tr_sim_config record_config(void);
tr_sim_config record_config(void)
{
	tr_sim_config c = {
		.road = {3, 3.7, 200.0},
		.dt = 0.1,
		.density = 22,
		.driver = {.v0 = 30, .T = 1.5, .s0 = 2, .a = 1.0, .b = 1.5, .delta = 4,
		           .politeness = 0.2, .threshold = 0.2, .b_safe = 4},
		.variation = 0.1,
		.lane_change_time = 3,
		.mobil_period = 1.0,
		.length_min = 4.2, .length_max = 5.0, .width_min = 1.7, .width_max = 2.0,
	};
	return c;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: record_ngsim OUT.txt\n");
		return 2;
	}
	tr_sim_config cfg = record_config();
	tr_sim s;
	static rec rows[MAX_ROWS];
	int n = 0;
	if (tr_sim_init(&s, &cfg, tr_sim_capacity(&cfg)) < 0)
		return 1;
	tr_sim_clear(&s, 7);
	tr_sim_populate(&s);
	for (int i = 0; i < 100; i++) /* 10 s of warm-up */
		tr_sim_step(&s);
	for (int f = 1; f <= FRAMES; f++) {
		for (int i = 0; i < s.n && n < MAX_ROWS; i++) {
			const tr_vehicle *w = &s.v[i];
			if (w->x - 0.5 * w->length < 0 || w->x + 0.5 * w->length > cfg.road.length)
				continue;  /* recorded only while wholly in the study area */
			int lead = w->leader >= 0 ? s.v[w->leader].id : 0;
			rows[n++] = (rec){*w, f, tr_lane_of(&cfg.road, w->y) + 1, lead, 0};
		}
		tr_sim_step(&s);
	}
	FILE *out = fopen(argv[1], "w");
	if (!out) {
		perror(argv[1]);
		return 1;
	}
	/* NGSIM files are ordered by vehicle, then frame */
	for (int id = 1; id < s.next_id; id++) {
		int total = 0;
		for (int i = 0; i < n; i++)
			total += rows[i].v.id == id;
		for (int i = 0; i < n; i++)
			if (rows[i].v.id == id)
				tr_ngsim_write_row(out, &rows[i].v, rows[i].frame, total, rows[i].lane_id,
				                   rows[i].preceding, rows[i].following);
	}
	tr_sim_free(&s);
	return fclose(out) == 0 ? 0 : 1;
}
