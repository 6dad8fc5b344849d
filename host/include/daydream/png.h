/*
** daydream/png.h -- reading and writing PNG images (libpng), for frames of
** videos, rendered artifacts and test data.
**
** Pixels are 8-bit and interleaved, row after row: 1 channel (gray), 3 (RGB)
** or 4 (RGBA). Any PNG (palette, 16-bit, with or without alpha) is read and
** converted to the channel count asked for. Every error names the file.
*/
#ifndef DAYDREAM_PNG_H
#define DAYDREAM_PNG_H

#include <stddef.h>
#include <stdint.h>

#include "daydream/plugin.h" /* DD_OK, DD_ERR */

#ifdef __cplusplus
extern "C" {
#endif

/* Larger images are refused: they are never frames, and the limit keeps a
** hostile header from asking for gigabytes. */
#define DD_PNG_MAX_SIDE 16384

typedef struct dd_image {
	int width, height;
	int channels;        /* 1, 3 or 4 */
	uint8_t *pixels;     /* height x width x channels, owned */
} dd_image;

/* Reads a PNG file, converting it to `channels` (1, 3 or 4; 0 keeps the
** file's own: 1 for gray, 3 for RGB, 4 when it has alpha). The caller owns
** out->pixels and releases them with dd_image_free(). DD_ERR with a message
** naming the file in err. */
int dd_png_read_file(const char *path, int channels, dd_image *out,
                     char *err, size_t errlen);

/* The same from bytes in memory; name is used in messages (e.g. the
** artifact's name). */
int dd_png_read_mem(const void *bytes, size_t n, const char *name, int channels,
                    dd_image *out, char *err, size_t errlen);

/* Writes pixels (width x height x channels, channels 1, 3 or 4) as a PNG
** file. DD_ERR with a message naming the file. */
int dd_png_write_file(const char *path, const uint8_t *pixels, int width,
                      int height, int channels, char *err, size_t errlen);

/* Encodes pixels as PNG bytes in memory. *out is malloc'd, owned by the
** caller (free()), *n its size. */
int dd_png_write_mem(const uint8_t *pixels, int width, int height, int channels,
                     uint8_t **out, size_t *n, char *err, size_t errlen);

/* Releases pixels; the image is zeroed. NULL is a no-op. */
void dd_image_free(dd_image *img);

#ifdef __cplusplus
}
#endif
#endif
