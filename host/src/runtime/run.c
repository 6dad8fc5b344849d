/*
** run.c -- host services handed to plugin instances: metrics go to the run
** store, messages to stderr (plugins never touch stdout), errors to a
** per-instance buffer the host turns into one-line causes.
*/
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "run.h"

volatile sig_atomic_t dd_interrupted;

double dd_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void log_metric(dd_host *h, const char *name, double value, int64_t step)
{
	dd_instance_host *ih = (dd_instance_host *)h;
	if (ih->run && ih->run->store && name)
		dd_store_metric(ih->run->store, ih->run->id, name, step, value);
}

static void log_message(dd_host *h, dd_log_level level, const char *message)
{
	static const char *names[] = {"debug", "info", "warning", "error"};
	dd_instance_host *ih = (dd_instance_host *)h;
	if (level < DD_LOG_INFO || !message)
		return;
	if (level > DD_LOG_ERROR)
		level = DD_LOG_ERROR;
	fprintf(stderr, "%s: %s: %s\n", ih->label, names[level], message);
}

static int record_error(dd_host *h, const char *fmt, ...)
{
	dd_instance_host *ih = (dd_instance_host *)h;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ih->error, sizeof ih->error, fmt, ap);
	va_end(ap);
	return DD_ERR;
}

void dd_instance_host_init(dd_instance_host *h, dd_run *run, const char *label,
                           uint64_t seed)
{
	memset(h, 0, sizeof *h);
	h->host.size = sizeof(dd_host);
	h->host.ctx = h;
	h->host.seed = seed;
	h->host.log_metric = log_metric;
	h->host.log_message = log_message;
	h->host.error = record_error;
	h->run = run;
	snprintf(h->label, sizeof h->label, "%s", label);
}

void dd_instance_error(const dd_instance_host *h, const char *what, char *err,
                       size_t err_size)
{
	if (h->error[0])
		snprintf(err, err_size, "%s: %s", h->label, h->error);
	else
		snprintf(err, err_size, "%s: %s failed (the plugin gave no reason)", h->label, what);
}
