/*
** source.h -- what the images env draws samples from: a data set of `count`
** samples of c x h x w floats, each with n_info stats (its label...).
*/
#ifndef IMAGES_SOURCE_H
#define IMAGES_SOURCE_H

#include <stddef.h>

#include <daydream/plugin.h>
#include <daydream/rng.h>

typedef struct images_source images_source;
struct images_source {
	int count;                      /* samples (images, or images to cut from) */
	int c, h, w;                    /* one sample's shape */
	int n_info;
	const char *const *info_names;
	/* Writes sample `index` into out (c*h*w floats) and its info; rng
	** draws whatever the sample leaves to chance (a patch's position). */
	int (*sample)(images_source *s, int index, dd_rng *rng, float *out, float *info);
	void (*free)(images_source *s);
	char error[1024];               /* why a sample failed */
};

/* Each returns a source, or NULL with the reason in err. */
images_source *fashion_open(const dd_params *p, char *err, size_t err_size);
images_source *patches_open(const dd_params *p, char *err, size_t err_size);

#endif
