/*
** avlog.c -- FFmpeg's log routed away from the terminal while the plugin
** uses FFmpeg (plugins never print), keeping the last error line of each
** thread so that error messages can quote FFmpeg's own reason.
*/
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <libavutil/log.h>

#include "avlog.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int users;
static _Thread_local char last[256];

static void callback(void *avcl, int level, const char *fmt, va_list ap)
{
	if (level > AV_LOG_ERROR)
		return;
	char line[256];
	int prefix = 1;
	av_log_format_line2(avcl, level, fmt, ap, line, sizeof line, &prefix);
	size_t n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == ' '))
		line[--n] = '\0';
	if (n > 0)
		memcpy(last, line, n + 1);
}

/* The callback is process-wide: installed while any store is open, and the
** default restored after the last closes, so no pointer into this plugin
** outlives it when the host unloads it. */
void avlog_acquire(void)
{
	pthread_mutex_lock(&lock);
	if (users++ == 0)
		av_log_set_callback(callback);
	pthread_mutex_unlock(&lock);
}

void avlog_release(void)
{
	pthread_mutex_lock(&lock);
	if (--users == 0)
		av_log_set_callback(av_log_default_callback);
	pthread_mutex_unlock(&lock);
}

const char *avlog_last(void)
{
	return last;
}

void avlog_clear(void)
{
	last[0] = '\0';
}
