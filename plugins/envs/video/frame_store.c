/*
** frame_store.c -- one video file opened once per process and shared by
** every env instance that asks for the same (file, frame size, channels,
** max_frames, cache): N instances of a vectorised env decode the file once
** and draw their clips from one bounded cache. A lock guards each store
** (the decoder is stateful) and one guards the list of stores.
*/
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "avlog.h"
#include "video.h"

struct frame_store {
	char *key;
	int refs;
	pthread_mutex_t lock;
	frame_reader *reader;
	frame_cache cache;
	int w, h, c;
	uint64_t hits, misses;
	frame_store *next;
};

static pthread_mutex_t stores_lock = PTHREAD_MUTEX_INITIALIZER;
static frame_store *stores;

/* A folder is PNG frames, a file starting "YUV4MPEG2 " is Y4M (ours), any
** other file goes to FFmpeg, which says what it cannot read. */
static int open_reader(const char *path, frame_reader **r, char *err, size_t errlen)
{
	struct stat st;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return reader_pngdir_open(path, r, err, errlen);
	FILE *f = fopen(path, "rb");
	char magic[10] = {0};
	if (f) {
		size_t got = fread(magic, 1, sizeof magic, f);
		fclose(f);
		if (got == sizeof magic && memcmp(magic, "YUV4MPEG2 ", sizeof magic) == 0)
			return reader_y4m_open(path, r, err, errlen);
	}
	return reader_ffmpeg_open(path, r, err, errlen);
}

/* Width or height 0: the file's own, or kept in proportion to the other. */
static int resolve_size(frame_store *s, int w, int h, char *err, size_t errlen)
{
	const frame_reader *r = s->reader;
	if (w == 0 && h == 0) {
		w = r->width;
		h = r->height;
	} else if (w == 0) {
		w = (int)lround((double)r->width * h / r->height);
	} else if (h == 0) {
		h = (int)lround((double)r->height * w / r->width);
	}
	w = w < 1 ? 1 : w;
	h = h < 1 ? 1 : h;
	if (w > VIDEO_MAX_SIDE || h > VIDEO_MAX_SIDE) {
		snprintf(err, errlen, "%s: frames of %dx%d are larger than %d pixels a side: "
		         "set width and height", r->path, w, h, VIDEO_MAX_SIDE);
		return DD_ERR;
	}
	s->w = w;
	s->h = h;
	return DD_OK;
}

/* During the scan, the first frames go straight into the cache while it
** has room. */
static uint8_t *scan_slot(void *ud, int i)
{
	frame_store *s = ud;
	return s->cache.used < s->cache.n_slots ? frame_cache_put(&s->cache, i) : NULL;
}

static void store_free(frame_store *s)
{
	if (!s)
		return;
	if (s->reader)
		s->reader->close(s->reader);
	frame_cache_free(&s->cache);
	pthread_mutex_destroy(&s->lock);
	free(s->key);
	free(s);
	avlog_release();
}

static int store_open(const char *path, int w, int h, int c, int max_frames, double cache_mb,
                      frame_store **out, char *err, size_t errlen)
{
	frame_store *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "%s: out of memory", path);
		return DD_ERR;
	}
	avlog_acquire(); /* released by store_free */
	pthread_mutex_init(&s->lock, NULL);
	s->c = c;
	if (open_reader(path, &s->reader, err, errlen) != DD_OK ||
	    resolve_size(s, w, h, err, errlen) != DD_OK) {
		store_free(s);
		return DD_ERR;
	}
	frame_reader *r = s->reader;
	r->out_w = s->w;
	r->out_h = s->h;
	r->out_c = c;
	size_t frame_bytes = (size_t)s->w * s->h * c;
	size_t budget = (size_t)(cache_mb * 1048576.0);
	if (frame_cache_init(&s->cache, frame_bytes, budget) != DD_OK ||
	    r->scan(r, max_frames, s->cache.n_slots, scan_slot, s, err, errlen) != DD_OK) {
		store_free(s);
		return DD_ERR;
	}
	*out = s;
	return DD_OK;
}

int frame_store_acquire(const char *path, int width, int height, int channels,
                        int max_frames, double cache_mb, frame_store **out,
                        char *err, size_t errlen)
{
	char key[4200];
	snprintf(key, sizeof key, "%s|%d|%d|%d|%d|%.17g", path, width, height, channels,
	         max_frames, cache_mb);
	pthread_mutex_lock(&stores_lock);
	for (frame_store *s = stores; s; s = s->next)
		if (strcmp(s->key, key) == 0) {
			s->refs++;
			*out = s;
			pthread_mutex_unlock(&stores_lock);
			return DD_OK;
		}
	frame_store *s = NULL;
	int rc = store_open(path, width, height, channels, max_frames, cache_mb, &s, err, errlen);
	if (rc == DD_OK && !(s->key = strdup(key))) {
		store_free(s);
		snprintf(err, errlen, "%s: out of memory", path);
		rc = DD_ERR;
	}
	if (rc == DD_OK) {
		s->refs = 1;
		s->next = stores;
		stores = s;
		*out = s;
	}
	pthread_mutex_unlock(&stores_lock);
	return rc;
}

void frame_store_release(frame_store *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&stores_lock);
	for (frame_store **p = &stores; *p; p = &(*p)->next)
		if (*p == s) {
			if (--s->refs == 0) {
				*p = s->next;
				store_free(s);
			}
			break;
		}
	pthread_mutex_unlock(&stores_lock);
}

int frame_store_frames(const frame_store *s)
{
	return s->reader->n_frames;
}

void frame_store_size(const frame_store *s, int *w, int *h)
{
	*w = s->w;
	*h = s->h;
}

int frame_store_get(frame_store *s, int i, float *out, char *err, size_t errlen)
{
	pthread_mutex_lock(&s->lock);
	const uint8_t *p = frame_cache_get(&s->cache, i);
	if (p) {
		s->hits++;
	} else {
		s->misses++;
		uint8_t *slot = frame_cache_put(&s->cache, i);
		if (!slot) {
			pthread_mutex_unlock(&s->lock);
			snprintf(err, errlen, "%s: out of memory for frame %d", s->reader->path, i);
			return DD_ERR;
		}
		if (s->reader->read(s->reader, i, slot, err, errlen) != DD_OK) {
			frame_cache_drop(&s->cache, i);
			pthread_mutex_unlock(&s->lock);
			return DD_ERR;
		}
		p = slot;
	}
	size_t n = (size_t)s->w * s->h * s->c;
	for (size_t k = 0; k < n; k++)
		out[k] = p[k] * (1.0f / 255.0f);
	pthread_mutex_unlock(&s->lock);
	return DD_OK;
}

void frame_store_stats_get(frame_store *s, frame_store_stats *st)
{
	pthread_mutex_lock(&s->lock);
	st->hits = s->hits;
	st->misses = s->misses;
	st->decoded = s->reader->decoded;
	st->cache_slots = s->cache.n_slots;
	st->cache_used = s->cache.used;
	pthread_mutex_unlock(&s->lock);
}
