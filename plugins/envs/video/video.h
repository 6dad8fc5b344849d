/*
** video.h -- internals of the `video` env plugin, shared by its files:
** the configuration, the clip-source interface every source implements,
** and the pieces behind the file source (readers, converter, frame cache,
** shared frame stores).
**
** Sources report errors as text in (err, errlen); plugin.c hands that text
** to the host. Nothing here knows the host, so the tests drive it directly.
*/
#ifndef DD_VIDEO_H
#define DD_VIDEO_H

#include <stddef.h>
#include <stdint.h>

#include "daydream/plugin.h"

#define VIDEO_MAX_SIDE 4096   /* frames larger than this are refused */

/* What create() was asked for, after checks. */
typedef struct vconfig {
	int width, height;     /* 0 = the file's own (file source only) */
	int channels;          /* 1 (gray) or 3 (RGB) */
	int clip_length;       /* T frames per episode */
	/* balls */
	int balls;
	double radius, speed;
	/* digits */
	int digits;
	const char *sprites;   /* IDX images file, or sklearn's digits.csv[.gz] */
	int sprite_scale;
	/* objects */
	int shape;             /* -1 any, else an OBJ_* */
	double spin;           /* radians per frame */
	/* files */
	const char *path;
	int max_frames;        /* 0 = all */
	double cache_mb;
} vconfig;

enum { OBJ_CUBE = 0, OBJ_PYRAMID = 1, OBJ_SPHERE = 2, OBJ_COUNT = 3 };

/* A source of clips. Frames are c x h x w floats in [0, 1]. After begin(),
** the t-th call of next() writes frame t of the clip (t = 0, 1, ...) and
** the source's info stats (n_info floats, named by info_names). */
typedef struct vsource {
	void *self;
	int width, height, channels;   /* resolved frame size */
	int n_info;
	const char **info_names;       /* owned by the source */
	int (*begin)(void *self, uint64_t seed, char *err, size_t errlen);
	int (*next)(void *self, float *frame, float *info, char *err, size_t errlen);
	void (*destroy)(void *self);
} vsource;

/* Each opens a source for cfg into *out; DD_ERR with the reason in err. */
int balls_open(const vconfig *cfg, vsource *out, char *err, size_t errlen);
int digits_open(const vconfig *cfg, vsource *out, char *err, size_t errlen);
int objects_open(const vconfig *cfg, vsource *out, char *err, size_t errlen);
int files_open(const vconfig *cfg, vsource *out, char *err, size_t errlen);

/* Names built at create time ("x0", "y0", ...): n names, each malloc'd,
** in one malloc'd array. names_free releases them. */
const char **names_new(int n);
int names_set(const char **names, int i, const char *fmt, int k);
void names_free(const char **names, int n);

/* Test hook: centres and velocities of the balls of the current clip,
** 4 doubles each (x, y, vx, vy). Returns the count. */
int balls_state(const vsource *s, double *out, int max);

/* ---- sprites (digits) --------------------------------------------------- */

/* A set of 8-bit gray sprites, n of h x w, shared by the env instances that
** use the same file. value = pixel * scale (1/255 for IDX, 1/16 sklearn). */
typedef struct sprite_set {
	int n, h, w;
	float scale;
	uint8_t *pixels;
} sprite_set;

/* Loads (or shares) the sprites of path; release with sprites_release. */
int sprites_acquire(const char *path, const sprite_set **out, char *err, size_t errlen);
void sprites_release(const sprite_set *s);
/* Parses sklearn's digits.csv: lines of 64 values 0..16 and a label. */
int sprites_parse_csv(const char *text, size_t n, const char *name, sprite_set *out,
                      char *err, size_t errlen);

/* ---- file frames --------------------------------------------------------- */

/* Converts one picture (any FFmpeg pixel format) to out_c x out_h x out_w
** planar bytes, resizing by area averaging. Keeps a swscale context. */
typedef struct converter {
	struct SwsContext *sws;
} converter;
/* fmt is an enum AVPixelFormat. */
int convert_picture(converter *cv, const uint8_t *const planes[4], const int strides[4],
                    int fmt, int sw, int sh, uint8_t *dst, int dw, int dh, int dc,
                    const char *path, char *err, size_t errlen);
void converter_free(converter *cv);

/* A decoder of one file's frames. open fills path and the native size;
** the caller then sets out_w/out_h/out_c and calls scan, which counts the
** frames (n_frames, at most max_frames when > 0) and converts the first
** `keep` of them into the buffers slot(ud, i) returns. read(i) converts
** frame i into dst. */
typedef struct frame_reader frame_reader;
typedef uint8_t *(*frame_slot_fn)(void *ud, int index);
struct frame_reader {
	char *path;
	const char *kind;            /* "ffmpeg", "y4m", "png folder" */
	int width, height;           /* native */
	int n_frames;
	int out_w, out_h, out_c;
	int (*scan)(frame_reader *r, int max_frames, int keep, frame_slot_fn slot,
	            void *ud, char *err, size_t errlen);
	int (*read)(frame_reader *r, int index, uint8_t *dst, char *err, size_t errlen);
	void (*close)(frame_reader *r);
	uint64_t decoded;            /* pictures decoded so far (statistics) */
};

int reader_ffmpeg_open(const char *path, frame_reader **out, char *err, size_t errlen);
int reader_y4m_open(const char *path, frame_reader **out, char *err, size_t errlen);
int reader_pngdir_open(const char *path, frame_reader **out, char *err, size_t errlen);

/* A bounded cache of converted frames, least recently used out first.
** Slots are allocated as frames arrive, up to n_slots. */
typedef struct frame_cache {
	size_t frame_bytes;
	int n_slots;           /* the bound: max_bytes / frame_bytes, at least 1 */
	int used, cap;         /* slots allocated; room in the arrays below */
	int n_map;             /* frames slot_of covers */
	int *slot_of;          /* n_map: slot of each frame, or -1 */
	int *frame_of;         /* cap: frame in each slot, or -1 */
	uint64_t *last_use;    /* cap */
	uint8_t **data;        /* cap: frame_bytes each */
	uint64_t clock;
} frame_cache;

int frame_cache_init(frame_cache *c, size_t frame_bytes, size_t max_bytes);
void frame_cache_free(frame_cache *c);
/* The cached bytes of frame i (NULL when absent); valid until the next put. */
const uint8_t *frame_cache_get(frame_cache *c, int i);
/* A slot for frame i, evicting the least recently used frame when full;
** NULL when out of memory. */
uint8_t *frame_cache_put(frame_cache *c, int i);
/* Forgets frame i (its slot could not be filled). */
void frame_cache_drop(frame_cache *c, int i);

/* A file opened once per process for each (path, size, channels,
** max_frames, cache) and shared by the env instances that ask for it: the
** decode pass and the cache are paid once. Thread-safe. */
typedef struct frame_store frame_store;
int frame_store_acquire(const char *path, int width, int height, int channels,
                        int max_frames, double cache_mb, frame_store **out,
                        char *err, size_t errlen);
void frame_store_release(frame_store *s);
int frame_store_frames(const frame_store *s);
void frame_store_size(const frame_store *s, int *w, int *h);
/* Frame i as floats in [0, 1], c x h x w. */
int frame_store_get(frame_store *s, int i, float *out, char *err, size_t errlen);
/* Statistics for tests and the bench. */
typedef struct frame_store_stats {
	uint64_t hits, misses, decoded;
	int cache_slots, cache_used;
} frame_store_stats;
void frame_store_stats_get(frame_store *s, frame_store_stats *st);

#endif
