/*
** y4m.h -- the YUV4MPEG2 (Y4M) format: a text header line, then frames of
** raw 8-bit planes each after a "FRAME" line. Our own small reader (with a
** fuzz target) and writer; reader_y4m.c puts it behind the frame reader.
*/
#ifndef DD_VIDEO_Y4M_H
#define DD_VIDEO_Y4M_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define Y4M_MAX_HEADER 4096       /* bytes of the stream header line */
#define Y4M_MAX_FRAME_HEADER 1024 /* bytes of a FRAME line */
#define Y4M_MAX_SIDE 16384

typedef enum y4m_chroma { Y4M_420 = 0, Y4M_422 = 1, Y4M_444 = 2, Y4M_MONO = 3 } y4m_chroma;

typedef struct y4m_header {
	int width, height;
	y4m_chroma chroma;
	int fps_num, fps_den;     /* 0:0 when the header has no F */
	size_t frame_bytes;       /* bytes of planes per frame */
	size_t chroma_w, chroma_h;/* size of each chroma plane (0 for mono) */
} y4m_header;

/* Parses the stream header at the start of buf (n bytes available, more
** may follow); *len gets its length through the '\n'. 0, or -1 with the
** reason in err (not Y4M, missing W or H, a size out of 1..16384, an
** unsupported colour space, no end of line). */
int y4m_parse_header(const uint8_t *buf, size_t n, y4m_header *h, size_t *len,
                     char *err, size_t errlen);

/* Parses a "FRAME[ params]\n" line at buf; *len gets its length. */
int y4m_parse_frame_header(const uint8_t *buf, size_t n, size_t *len,
                           char *err, size_t errlen);

/* Reads up to n bytes at off into buf; returns the count read. */
typedef size_t (*y4m_read_fn)(void *ud, uint64_t off, uint8_t *buf, size_t n);

/* Walks the frames of a stream of `size` bytes whose header (of header_len
** bytes) is h: *offsets gets the offset of each frame's planes (malloc'd,
** owned by the caller), *count how many (stopping after max_frames when
** > 0). A truncated last frame or anything but a FRAME line where one
** belongs is an error naming the frame and the byte offset. */
int y4m_index(y4m_read_fn read, void *ud, uint64_t size, const y4m_header *h,
              size_t header_len, int max_frames, uint64_t **offsets, int *count,
              char *err, size_t errlen);

/* The same over bytes in memory (the fuzz target's entry). */
int y4m_index_mem(const uint8_t *buf, size_t n, y4m_header *h, uint64_t **offsets,
                  int *count, char *err, size_t errlen);

/* Writes a stream header; fps 0:0 writes none. 0 or -1 (I/O error). */
int y4m_write_header(FILE *f, int width, int height, y4m_chroma chroma, int fps_num,
                     int fps_den);
/* Writes one frame from planar 8-bit pixels, channels 1 (gray) or 3 (RGB),
** converted to the stream's colour space with BT.601 limited-range
** coefficients (gray in a mono stream is written as is). 0 or -1. */
int y4m_write_frame(FILE *f, int width, int height, y4m_chroma chroma,
                    const uint8_t *pixels, int channels);

#endif
