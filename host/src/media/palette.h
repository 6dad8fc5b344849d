/*
** palette.h -- reducing RGB frames to at most 256 indexed colours, for the
** GIF writer (internal to libdaydream's media part).
*/
#ifndef DD_MEDIA_PALETTE_H
#define DD_MEDIA_PALETTE_H

#include <stddef.h>
#include <stdint.h>

typedef struct dd_palette {
	int count;              /* 1..256 entries in use */
	uint8_t rgb[256][3];
} dd_palette;

/* Work space of the median-cut quantiser, reused from frame to frame so a
** clip costs no allocation per frame. */
typedef struct dd_quantizer {
	uint32_t *count;        /* pixels per 5-bit-per-channel bin (32768) */
	uint64_t *sum;          /* 3 channel sums per bin */
	uint16_t *box_of;       /* bin -> palette entry */
} dd_quantizer;

/* 0, or -1 on out of memory. */
int dd_quantizer_init(dd_quantizer *q);
void dd_quantizer_free(dd_quantizer *q);

/* Median cut over the frame's own colours: boxes of the 5-bit RGB histogram
** are split at the median of their longest side until there are 256 or
** none can be split; each entry is the mean colour of its box, so a frame
** with few distinct colours (one per bin) keeps them exactly. Writes npix
** palette indices into index. */
void dd_quantize_median_cut(dd_quantizer *q, const uint8_t *rgb, size_t npix,
                            dd_palette *pal, uint8_t *index);

/* The fixed 6x7x6 cube (green gets the extra level: the eye sees it best). */
void dd_palette_cube(dd_palette *pal);
void dd_quantize_cube(const uint8_t *rgb, size_t npix, uint8_t *index);

#endif
