/*
 * conf/log.h: leveled logging to stderr or syslog.
 *
 * Job: one logging call for every layer; the level and destination come from the
 * config (LOG { Level = ...; Destination = stderr|syslog; }). Thread-safe.
 * Calls: libc, syslog. Called by: everything.
 */
#ifndef DAXNFS_CONF_LOG_H
#define DAXNFS_CONF_LOG_H

enum log_level { LOG_LVL_ERROR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG, LOG_LVL_TRACE };

void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);
/* dest is "stderr" or "syslog"; returns 0 or -EINVAL. */
int log_set_destination(const char *dest);
/* Parses "error", "warn", "info", "debug", "trace"; returns 0 or -EINVAL. */
int log_level_parse(const char *name, enum log_level *out);

void log_msg(enum log_level lvl, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_err(mod, ...)   log_msg(LOG_LVL_ERROR, mod, __VA_ARGS__)
#define log_warn(mod, ...)  log_msg(LOG_LVL_WARN, mod, __VA_ARGS__)
#define log_info(mod, ...)  log_msg(LOG_LVL_INFO, mod, __VA_ARGS__)
#define log_debug(mod, ...) do { if (log_get_level() >= LOG_LVL_DEBUG) log_msg(LOG_LVL_DEBUG, mod, __VA_ARGS__); } while (0)
#define log_trace(mod, ...) do { if (log_get_level() >= LOG_LVL_TRACE) log_msg(LOG_LVL_TRACE, mod, __VA_ARGS__); } while (0)

#endif
