/*
** fashion.c -- Fashion-MNIST (Debian's dataset-fashion-mnist) as a source of
** the images env: 28 x 28 gray images in [0, 1], the class in info "label".
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <daydream/idx.h>

#include "source.h"

typedef struct fashion {
	images_source base;
	dd_idx pixels, labels;
} fashion;

static const char *const info_names[] = {"label", "index"};

static int sample(images_source *s, int index, dd_rng *rng, float *out, float *info)
{
	fashion *f = (fashion *)s;
	size_t n = (size_t)s->h * (size_t)s->w;
	int label;
	(void)rng;
	if (dd_idx_to_float(&f->pixels, (size_t)index * n, n, 1.0f / 255.0f, out) != DD_OK ||
	    dd_idx_to_int(&f->labels, (size_t)index, 1, &label) != DD_OK) {
		snprintf(s->error, sizeof s->error, "sample %d is outside the data", index);
		return DD_ERR;
	}
	info[0] = (float)label;
	info[1] = (float)index;
	return DD_OK;
}

static void release(images_source *s)
{
	fashion *f = (fashion *)s;
	dd_idx_free(&f->pixels);
	dd_idx_free(&f->labels);
	free(f);
}

images_source *fashion_open(const dd_params *p, char *err, size_t err_size)
{
	char path[4096], why[512];
	fashion *f = calloc(1, sizeof *f);
	if (!f) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	const char *dir = dd_param_str(p, "dir");
	if (!*dir)
		dir = "/usr/share/datasets/fashion-mnist";
	const char *prefix = strcmp(dd_param_str(p, "split"), "train") == 0 ? "train" : "t10k";
	snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte.gz", dir, prefix);
	if (dd_idx_load(&f->pixels, path, (size_t)1 << 30, why, sizeof why) != DD_OK) {
		snprintf(err, err_size, "%s: %s (parameter dir; install with: apt-get install dataset-fashion-mnist)",
		         path, why);
		release(&f->base);
		return NULL;
	}
	snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte.gz", dir, prefix);
	if (dd_idx_load(&f->labels, path, (size_t)1 << 26, why, sizeof why) != DD_OK) {
		snprintf(err, err_size, "%s: %s", path, why);
		release(&f->base);
		return NULL;
	}
	if (f->pixels.ndim != 3 || f->labels.ndim != 1 || f->pixels.dims[0] != f->labels.dims[0]) {
		snprintf(err, err_size, "%s: expected N images of H x W and N labels", dir);
		release(&f->base);
		return NULL;
	}
	f->base = (images_source){
		.count = f->pixels.dims[0], .c = 1, .h = f->pixels.dims[1], .w = f->pixels.dims[2],
		.n_info = 2, .info_names = info_names, .sample = sample, .free = release,
	};
	return &f->base;
}
