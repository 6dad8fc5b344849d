/*
** source_files.c -- clips cut from a real video: a file of any format FFmpeg
** reads, a Y4M file or a folder of PNG frames (frame_store.c opens it and
** shares it between instances). reset(seed) picks the clip's first frame
** uniformly among those that leave room for clip_length frames.
** Info: "start" (the clip's first frame in the file) and "index" (the
** current frame's).
*/
#include <stdio.h>
#include <stdlib.h>

#include "daydream/rng.h"
#include "video.h"

static const char *info_names[] = {"start", "index"};

typedef struct files {
	frame_store *store;
	int clip_length, start, t;
} files;

static int begin(void *self, uint64_t seed, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	files *s = self;
	dd_rng rng;
	dd_rng_seed(&rng, seed, 0);
	int starts = frame_store_frames(s->store) - s->clip_length + 1;
	s->start = (int)dd_rng_below(&rng, (uint64_t)starts);
	s->t = 0;
	return DD_OK;
}

static int next(void *self, float *frame, float *info, char *err, size_t errlen)
{
	files *s = self;
	int index = s->start + s->t++;
	info[0] = (float)s->start;
	info[1] = (float)index;
	return frame_store_get(s->store, index, frame, err, errlen);
}

static void destroy(void *self)
{
	files *s = self;
	if (!s)
		return;
	frame_store_release(s->store);
	free(s);
}

int files_open(const vconfig *cfg, vsource *out, char *err, size_t errlen)
{
	if (!cfg->path || !cfg->path[0]) {
		snprintf(err, errlen, "source 'file' needs path: a video file (any format "
		         "FFmpeg reads), a .y4m file or a folder of PNG frames");
		return DD_ERR;
	}
	files *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return DD_ERR;
	}
	if (frame_store_acquire(cfg->path, cfg->width, cfg->height, cfg->channels,
	                        cfg->max_frames, cfg->cache_mb, &s->store, err, errlen) != DD_OK) {
		free(s);
		return DD_ERR;
	}
	int n = frame_store_frames(s->store);
	if (cfg->clip_length > n) {
		snprintf(err, errlen, "%s has %d frames%s, fewer than clip_length = %d: use a shorter "
		         "clip_length", cfg->path, n, cfg->max_frames > 0 ? " (within max_frames)" : "",
		         cfg->clip_length);
		destroy(s);
		return DD_ERR;
	}
	s->clip_length = cfg->clip_length;
	int w, h;
	frame_store_size(s->store, &w, &h);
	*out = (vsource){.self = s, .width = w, .height = h, .channels = cfg->channels,
	                 .n_info = 2, .info_names = info_names,
	                 .begin = begin, .next = next, .destroy = destroy};
	return DD_OK;
}
