/*
** fashion_data.h -- the Fashion-MNIST subsets the toolkit's learning tests
** train and test on: the first n_train training images and the first n_test
** images of the official test set (never trained on), as floats in [0, 1].
** Data: Debian's dataset-fashion-mnist, or the folder DD_FASHION_MNIST_DIR.
*/
#ifndef DD_TEST_FASHION_DATA_H
#define DD_TEST_FASHION_DATA_H

#include <stdio.h>
#include <stdlib.h>

#include "daydream/idx.h"

#define FASHION_D 784

typedef struct fashion_set {
	float *x;   /* n x 784 */
	int *y;     /* n labels */
	int n;
} fashion_set;

static int fashion_load_set(fashion_set *d, const char *dir, const char *images,
                            const char *labels, int n, char *err, size_t errlen)
{
	char p1[512], p2[512];
	snprintf(p1, sizeof p1, "%s/%s", dir, images);
	snprintf(p2, sizeof p2, "%s/%s", dir, labels);
	dd_idx xi, yi;
	if (dd_idx_load(&xi, p1, (size_t)100 << 20, err, errlen) != DD_OK)
		return DD_ERR;
	if (dd_idx_load(&yi, p2, (size_t)1 << 20, err, errlen) != DD_OK) {
		dd_idx_free(&xi);
		return DD_ERR;
	}
	int rc = DD_ERR;
	if (xi.ndim != 3 || xi.dims[1] * xi.dims[2] != FASHION_D || yi.ndim != 1 ||
	    yi.dims[0] != xi.dims[0] || xi.dims[0] < n) {
		snprintf(err, errlen, "unexpected shapes in %s", dir);
		goto done;
	}
	d->n = n;
	d->x = malloc((size_t)n * FASHION_D * sizeof(float));
	d->y = malloc((size_t)n * sizeof(int));
	if (d->x && d->y &&
	    dd_idx_to_float(&xi, 0, (size_t)n * FASHION_D, 1.0f / 255.0f, d->x) == DD_OK &&
	    dd_idx_to_int(&yi, 0, (size_t)n, d->y) == DD_OK)
		rc = DD_OK;
done:
	dd_idx_free(&xi);
	dd_idx_free(&yi);
	return rc;
}

static void fashion_free(fashion_set *tr, fashion_set *te)
{
	free(tr->x);
	free(tr->y);
	free(te->x);
	free(te->y);
}

/* How many of n rows of 10 logits put their largest value on the label. */
static int fashion_correct(const float *logits, const int *labels, int n)
{
	int right = 0;
	for (int i = 0; i < n; i++) {
		int best = 0;
		for (int k = 1; k < 10; k++)
			if (logits[i * 10 + k] > logits[i * 10 + best])
				best = k;
		right += best == labels[i];
	}
	return right;
}

/* Loads both subsets; 0, or -1 after printing why (the caller skips). */
static int fashion_load(fashion_set *tr, int n_train, fashion_set *te, int n_test)
{
	const char *dir = getenv("DD_FASHION_MNIST_DIR");
	char err[256];
	if (!dir)
		dir = "/usr/share/datasets/fashion-mnist";
	*tr = (fashion_set){0};
	*te = (fashion_set){0};
	if (fashion_load_set(tr, dir, "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
	                     n_train, err, sizeof err) == DD_OK &&
	    fashion_load_set(te, dir, "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
	                     n_test, err, sizeof err) == DD_OK)
		return 0;
	fprintf(stderr, "SKIP: Fashion-MNIST not found (%s): install the Debian "
	        "package dataset-fashion-mnist or set DD_FASHION_MNIST_DIR\n", err);
	fashion_free(tr, te);
	return -1;
}

#endif
