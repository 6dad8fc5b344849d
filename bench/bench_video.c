/*
** bench_video.c -- frames per second per core of the video env, each source
** at 64x64 and at a larger or the file's own size, through the plugin's
** vtable (dlopen) as the host calls it. Files are timed three ways: the
** decode pass when the env is created, streaming through a cache too small
** to help, and served from a cache holding the whole file. The reference,
** measured in the same run, is FFmpeg's own command line on the same file,
** one thread: `ffmpeg -nostdin -benchmark -threads 1 -i FILE -an -f null -`
** (decode only), and the same with the scaling to our frame size and format.
** Medians of 7 repeats, min and max beside them. Test data:
** scripts/fetch-test-data.sh; ffmpeg: Debian package ffmpeg.
*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "paramvals.h"
#include "registry.h"
#include "run.h"

#define REPEATS 7

static const dd_plugin_entry *plugin;
static char last_error[1024];

static int host_error(dd_host *h, const char *fmt, ...)
{
	(void)h;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_error, sizeof last_error, fmt, ap);
	va_end(ap);
	return DD_ERR;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

typedef struct stat3 { double med, min, max; } stat3;

static stat3 stats(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp);
	return (stat3){v[n / 2], v[0], v[n - 1]};
}

static void print_row(const char *what, stat3 s, double ref)
{
	printf("  %-50s %10.0f fps [%8.0f .. %8.0f]", what, s.med, s.min, s.max);
	if (ref > 0)
		printf("  x%.2f", s.med / ref);
	printf("\n");
}

typedef struct env {
	void *h;
	dd_paramvals pv;
	dd_host host;
	float *obs[1];
	float info[256];
	int frames;                 /* floats per observation / clip length */
} env;

/* Creates the env from "key=value" pairs; seconds taken into *secs. */
static int env_new(env *e, const char *const *sets, double *secs)
{
	memset(e, 0, sizeof *e);
	char err[512];
	dd_paramvals_init(&e->pv, "video", plugin->desc.params, plugin->n_params);
	for (int i = 0; sets[i]; i++) {
		char key[64];
		const char *eq = strchr(sets[i], '=');
		snprintf(key, sizeof key, "%.*s", (int)(eq - sets[i]), sets[i]);
		if (dd_paramvals_set_str(&e->pv, key, eq + 1, err, sizeof err) < 0) {
			fprintf(stderr, "%s\n", err);
			return -1;
		}
	}
	e->host = (dd_host){.size = sizeof(dd_host), .seed = 1, .error = host_error};
	double t0 = dd_now();
	e->h = plugin->env.create(&e->pv.params, &e->host);
	if (secs)
		*secs = dd_now() - t0;
	if (!e->h) {
		fprintf(stderr, "video: %s\n", last_error);
		dd_paramvals_free(&e->pv);
		return -1;
	}
	const dd_spaces *sp = plugin->env.spaces(e->h);
	e->obs[0] = malloc(sizeof(float) * dd_tensor_spec_count(&sp->obs[0]));
	return 0;
}

static void env_free(env *e)
{
	plugin->env.destroy(e->h);
	free(e->obs[0]);
	dd_paramvals_free(&e->pv);
}

/* Frames per second over `clips` clips of `len` frames (reset + steps). */
static double run_clips(env *e, int clips, int len)
{
	dd_step_out out = {.obs = e->obs, .info = e->info};
	float a = 0;
	double t0 = dd_now();
	for (int c = 0; c < clips; c++) {
		if (plugin->env.reset(e->h, (uint64_t)c, e->obs, e->info) != DD_OK)
			return -1;
		for (int t = 1; t < len; t++)
			if (plugin->env.step(e->h, &a, &out) != DD_OK)
				return -1;
	}
	return (double)clips * len / (dd_now() - t0);
}

static void bench_synthetic(const char *source, int size)
{
	char s1[64], w[32], h[32];
	snprintf(s1, sizeof s1, "source=%s", source);
	snprintf(w, sizeof w, "width=%d", size);
	snprintf(h, sizeof h, "height=%d", size);
	const char *sets[] = {s1, w, h, "clip_length=20", NULL};
	env e;
	if (env_new(&e, sets, NULL) < 0)
		return;
	int clips = size <= 64 ? 2000 : 200;
	run_clips(&e, clips / 10, 20); /* warm-up */
	double fps[REPEATS];
	for (int r = 0; r < REPEATS; r++)
		fps[r] = run_clips(&e, clips, 20);
	char what[96];
	snprintf(what, sizeof what, "%s %dx%d gray", source, size, size);
	print_row(what, stats(fps, REPEATS), 0);
	env_free(&e);
}

/* Runs ffmpeg on path with extra filters; frames per second from its
** rtime (the decode loop), or -1. */
static double ffmpeg_fps(const char *path, const char *filters, int frames)
{
	char cmd[2048];
	snprintf(cmd, sizeof cmd, "ffmpeg -nostdin -benchmark -threads 1 -i '%s' -an %s%s -f null - 2>&1",
	         path, filters ? "-vf " : "", filters ? filters : "");
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	char line[512];
	double rtime = -1;
	while (fgets(line, sizeof line, p)) {
		const char *r = strstr(line, "rtime=");
		if (r)
			rtime = atof(r + 6);
	}
	pclose(p);
	return rtime > 0 ? frames / rtime : -1;
}

static stat3 ffmpeg_stats(const char *path, const char *filters, int frames)
{
	double v[REPEATS];
	for (int r = 0; r < REPEATS; r++)
		v[r] = ffmpeg_fps(path, filters, frames);
	return stats(v, REPEATS);
}

/* One file: FFmpeg's rates, then ours at 64x64 and at the file's size. */
static void bench_file(const char *label, const char *path)
{
	char pset[1100];
	snprintf(pset, sizeof pset, "path=%s", path);
	/* Frame count and size from a first open. */
	const char *probe[] = {"source=file", pset, "width=0", "height=0", "clip_length=2",
	                       "cache_mb=1", NULL};
	env e;
	if (env_new(&e, probe, NULL) < 0)
		return;
	const dd_spaces *sp = plugin->env.spaces(e.h);
	int W = sp->obs[0].dims[2], H = sp->obs[0].dims[1];
	env_free(&e);
	/* the clip covering the whole file starts at frame 0: count frames by
	** asking for too long a clip and reading the count from the error */
	const char *too_long[] = {"source=file", pset, "clip_length=1000000", "cache_mb=1", NULL};
	int frames = 0;
	if (env_new(&e, too_long, NULL) == 0)
		env_free(&e);
	const char *has = strstr(last_error, path);
	has = has ? strstr(has + strlen(path), " has ") : NULL;
	if (has)
		frames = atoi(has + 5);
	if (frames < 2) {
		printf("%s: cannot count its frames (%s)\n", label, last_error);
		return;
	}
	printf("\n%s: %dx%d, %d frames\n", label, W, H, frames);
	stat3 dec = ffmpeg_stats(path, NULL, frames);
	print_row("ffmpeg -threads 1, decode only (reference)", dec, 0);
	char len[32], filt[128];
	snprintf(len, sizeof len, "clip_length=%d", frames);
	struct { int w, h; const char *name; } sizes[] = {{64, 64, "64x64"}, {0, 0, "own size"}};
	for (int k = 0; k < 2; k++) {
		int w = sizes[k].w ? sizes[k].w : W, h = sizes[k].h ? sizes[k].h : H;
		snprintf(filt, sizeof filt, "scale=%d:%d:flags=area,format=gray", w, h);
		stat3 ref = ffmpeg_stats(path, filt, frames);
		char what[128];
		snprintf(what, sizeof what, "ffmpeg, decode + scale to %dx%d gray (reference)", w, h);
		print_row(what, ref, 0);
		char ws[32], hs[32];
		snprintf(ws, sizeof ws, "width=%d", w);
		snprintf(hs, sizeof hs, "height=%d", h);
		/* 1. the decode pass at create, every frame converted into the cache */
		const char *all[] = {"source=file", pset, ws, hs, len, "cache_mb=4096", NULL};
		double create[REPEATS], cached[REPEATS], stream[REPEATS];
		for (int r = 0; r < REPEATS; r++) {
			double secs;
			if (env_new(&e, all, &secs) < 0)
				return;
			create[r] = frames / secs;
			/* 2. one clip over the whole file, served from the cache */
			cached[r] = run_clips(&e, 1, frames);
			env_free(&e);
		}
		/* 3. streaming: a cache of one frame, so every frame is decoded
		** again (the create pass itself is not timed here) */
		const char *none[] = {"source=file", pset, ws, hs, len, "cache_mb=0.001", NULL};
		for (int r = 0; r < REPEATS; r++) {
			if (env_new(&e, none, NULL) < 0)
				return;
			stream[r] = run_clips(&e, 1, frames);
			env_free(&e);
		}
		snprintf(what, sizeof what, "ours, decode pass at create, %s gray", sizes[k].name);
		print_row(what, stats(create, REPEATS), ref.med);
		snprintf(what, sizeof what, "ours, streaming (no cache), %s gray", sizes[k].name);
		print_row(what, stats(stream, REPEATS), ref.med);
		snprintf(what, sizeof what, "ours, from the cache, %s gray", sizes[k].name);
		print_row(what, stats(cached, REPEATS), ref.med);
	}
}

static const char *data_path(const char *rel)
{
	static char buf[4][1024];
	static int n;
	char *out = buf[n++ % 4];
	const char *env = getenv("DAYDREAM_DATA"), *home = getenv("HOME");
	if (env && *env)
		snprintf(out, 1024, "%s/%s", env, rel);
	else
		snprintf(out, 1024, "%s/.cache/daydream/%s", home ? home : ".", rel);
	return access(out, R_OK) == 0 ? out : NULL;
}

static void cpu_model(char *buf, size_t n)
{
	snprintf(buf, n, "unknown");
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, "model name", 10) == 0) {
			snprintf(buf, n, "%s", strchr(line, ':') + 2);
			buf[strcspn(buf, "\n")] = '\0';
			break;
		}
	if (f)
		fclose(f);
}

int main(void)
{
	dd_registry *reg = dd_registry_new();
	dd_registry_scan_dir(reg, DD_PLUGIN_BUILD_DIR);
	plugin = dd_registry_find(reg, "video");
	if (!plugin) {
		printf("video plugin not found in %s\n", DD_PLUGIN_BUILD_DIR);
		return 1;
	}
	char cpu[128];
	cpu_model(cpu, sizeof cpu);
	printf("bench_video: frames per second on one core (%s), medians of %d [min .. max];\n"
	       "x = our rate / FFmpeg's decode + scale to the same size, measured in this run\n\n",
	       cpu, REPEATS);
	printf("synthetic sources (a clip of 20 frames per reset)\n");
	const char *sources[] = {"balls", "digits", "objects"};
	for (int s = 0; s < 3; s++) {
		bench_synthetic(sources[s], 64);
		bench_synthetic(sources[s], 256);
	}
	if (system("ffmpeg -version > /dev/null 2>&1") != 0) {
		printf("\nffmpeg not found (Debian package ffmpeg): file sources not measured\n");
		dd_registry_free(reg);
		return 0;
	}
	const char *files[] = {"opencv/vtest.avi", "opencv/Megamind.avi"};
	int any = 0;
	for (int k = 0; k < 2; k++) {
		const char *p = data_path(files[k]);
		if (p) {
			bench_file(files[k], p);
			any = 1;
		}
	}
	if (!any)
		printf("\nno test videos: run scripts/fetch-test-data.sh\n");
	/* Our Y4M reader, on vtest's first 200 frames as Y4M, vs FFmpeg's. */
	const char *vtest = data_path("opencv/vtest.avi");
	char tmp[] = "/tmp/bench_video.XXXXXX";
	if (vtest && mkdtemp(tmp)) {
		char cmd[2048], y4m[256];
		snprintf(y4m, sizeof y4m, "%s/vtest.y4m", tmp);
		snprintf(cmd, sizeof cmd, "ffmpeg -nostdin -v error -i '%s' -frames:v 200 -pix_fmt yuv420p "
		         "-f yuv4mpegpipe '%s'", vtest, y4m);
		if (system(cmd) == 0)
			bench_file("vtest.avi as Y4M (200 frames, our reader)", y4m);
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmp);
	}
	dd_registry_free(reg);
	return 0;
}
