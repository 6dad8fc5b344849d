/*
** daydream/gif.h -- animated GIFs from frames of RGB bytes, over giflib.
**
** Plugins and the host use it to store what an env renders (an episode as a
** run artifact, a picture for the docs). Frames are reduced to 256 colours:
** by default each frame gets its own median-cut palette, which keeps flat
** rendered colours exact; a fixed 6x7x6 colour cube is the faster choice.
*/
#ifndef DAYDREAM_GIF_H
#define DAYDREAM_GIF_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dd_gif_palette {
	DD_GIF_ADAPTIVE = 0,  /* median cut per frame (a local colour table each) */
	DD_GIF_CUBE = 1       /* one global 6x7x6 cube: 252 colours, no analysis */
} dd_gif_palette;

/* An animated GIF being written, one frame at a time. */
typedef struct dd_gif dd_gif;

/* Starts a GIF of width x height frames (1..65535 each), each shown for
** delay_cs hundredths of a second (0..65535), looping forever. With path
** NULL the bytes are kept in memory and handed over by dd_gif_close();
** otherwise they go to that file. Returns the encoder (the caller owns it:
** end it with dd_gif_close) or NULL with the reason in err (errlen bytes). */
dd_gif *dd_gif_open(const char *path, int width, int height, int delay_cs,
                    dd_gif_palette palette, char *err, size_t errlen);

/* Appends one frame: width * height * 3 bytes, rows top to bottom, R G B.
** DD_ERR (-1) with the reason in dd_gif_error(g) when giflib fails (a full
** disk); the encoder then refuses further frames. */
int dd_gif_add_frame(dd_gif *g, const uint8_t *rgb);

/* The last error of g ("" when none). */
const char *dd_gif_error(const dd_gif *g);

/* Finishes the file and frees g, whatever happens. For an in-memory GIF,
** *bytes (malloc'd, the caller frees it) and *n receive the bytes; pass NULL
** for both with a file. DD_ERR with the reason in err when a frame or the
** trailer could not be written (no bytes are handed over then). */
int dd_gif_close(dd_gif *g, uint8_t **bytes, size_t *n, char *err, size_t errlen);

/* One call for a whole clip: n_frames frames stored one after another.
** *bytes is malloc'd (the caller frees it). DD_ERR with the reason in err. */
int dd_gif_encode(const uint8_t *frames, int n_frames, int width, int height,
                  int delay_cs, dd_gif_palette palette, uint8_t **bytes, size_t *n,
                  char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
