/*
** avlog.h -- FFmpeg's log kept off the terminal; the last error line of the
** calling thread is available for messages (see avlog.c).
*/
#ifndef DD_VIDEO_AVLOG_H
#define DD_VIDEO_AVLOG_H

void avlog_acquire(void);
void avlog_release(void);
/* The last error FFmpeg logged on this thread ("" if none since clear). */
const char *avlog_last(void);
void avlog_clear(void);

#endif
