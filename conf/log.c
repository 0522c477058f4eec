/*
 * conf/log.c: leveled logging to stderr or syslog (see log.h).
 *
 * One line per call, written with a single write so that lines from several
 * threads never interleave. Level and destination are atomics: set once by
 * main, read by every thread.
 */
#include "conf/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static atomic_int log_level = LOG_LVL_INFO;
static atomic_bool log_to_syslog;

static const char *const level_names[] = { "error", "warn", "info", "debug", "trace" };
static const int syslog_prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG, LOG_DEBUG };

void log_set_level(enum log_level lvl)
{
	if (lvl > LOG_LVL_TRACE)
		lvl = LOG_LVL_TRACE;
	atomic_store(&log_level, (int)lvl);
}

enum log_level log_get_level(void)
{
	return (enum log_level)atomic_load(&log_level);
}

int log_set_destination(const char *dest)
{
	if (strcasecmp(dest, "stderr") == 0) {
		if (atomic_exchange(&log_to_syslog, false))
			closelog();
		return 0;
	}
	if (strcasecmp(dest, "syslog") == 0) {
		if (!atomic_exchange(&log_to_syslog, true))
			openlog("daxnfsd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		return 0;
	}
	return -EINVAL;
}

int log_level_parse(const char *name, enum log_level *out)
{
	unsigned i;

	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcasecmp(name, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	if (strcasecmp(name, "warning") == 0) {
		*out = LOG_LVL_WARN;
		return 0;
	}
	return -EINVAL;
}

void log_msg(enum log_level lvl, const char *module, const char *fmt, ...)
{
	char line[2048];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int n, m;
	int saved = errno;   /* callers often log and then look at errno */

	if ((int)lvl > atomic_load(&log_level))
		return;
	if (lvl > LOG_LVL_TRACE)
		lvl = LOG_LVL_TRACE;
	if (atomic_load(&log_to_syslog)) {
		n = snprintf(line, sizeof(line), "%s: ", module ? module : "-");
		va_start(ap, fmt);
		vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
		va_end(ap);
		syslog(syslog_prio[lvl], "%s", line);
		errno = saved;
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line), "%04d-%02d-%02d %02d:%02d:%02d.%03ld %-5s %s: ",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		     tm.tm_sec, ts.tv_nsec / 1000000, level_names[lvl], module ? module : "-");
	if (n < 0)
		n = 0;
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	/* one write per line: lines from different threads do not interleave */
	if (write(STDERR_FILENO, line, (size_t)n) < 0) {
		/* nowhere left to report it */
	}
	errno = saved;
}
