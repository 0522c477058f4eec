/*
 * server/service_notify.c: see service_notify.h.
 */
#include "server/service_notify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "conf/log.h"

#define STATUS_INTERVAL_MS 5000

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void service_notify_init(struct service_notify *sn)
{
	const char *sock = getenv("NOTIFY_SOCKET");
	uint64_t usec = 0;
	int rc;

	memset(sn, 0, sizeof(*sn));
	sn->enabled = sock && *sock;
	if (!sn->enabled)
		return;
	rc = sd_watchdog_enabled(0, &usec);
	if (rc > 0) {
		sn->watchdog_usec = usec;
		if (usec < 2000000)
			log_warn("main", "systemd: WatchdogSec of %llu ms is shorter than the 2 s "
				 "the event loop's tick can serve; pings go out once a second",
				 (unsigned long long)(usec / 1000));
	} else if (rc < 0) {
		log_warn("main", "systemd: WATCHDOG_USEC unusable: %s", strerror(-rc));
	}
}

static void send_status(struct service_notify *sn, const char *status)
{
	int rc;

	snprintf(sn->last_status, sizeof(sn->last_status), "%s", status);
	rc = sd_notifyf(0, "STATUS=%s", sn->last_status);
	if (rc < 0)
		log_warn("main", "systemd: sd_notify STATUS: %s", strerror(-rc));
	sn->next_status_ms = mono_ms() + STATUS_INTERVAL_MS;
}

void service_notify_ready(struct service_notify *sn, const char *status)
{
	int rc;

	if (!sn->enabled)
		return;
	snprintf(sn->last_status, sizeof(sn->last_status), "%s", status);
	rc = sd_notifyf(0, "READY=1\nSTATUS=%s", sn->last_status);
	if (rc < 0)
		log_warn("main", "systemd: sd_notify READY: %s", strerror(-rc));
	else
		log_info("main", "systemd: told READY=1%s", sn->watchdog_usec
			 ? "; watchdog pings from the event loop" : "");
	sn->next_status_ms = mono_ms() + STATUS_INTERVAL_MS;
	sn->next_ping_ms = mono_ms();
}

void service_notify_tick(struct service_notify *sn, const char *status)
{
	int64_t now;

	if (!sn->enabled)
		return;
	now = mono_ms();
	if (sn->watchdog_usec && now >= sn->next_ping_ms) {
		sd_notify(0, "WATCHDOG=1");
		/* half the interval, as sd_watchdog_enabled(3) advises; the tick
		 * comes about once a second, so never less than that */
		sn->next_ping_ms = now + (int64_t)(sn->watchdog_usec / 2000);
	}
	if (status && now >= sn->next_status_ms && strcmp(status, sn->last_status) != 0)
		send_status(sn, status);
}

void service_notify_reloading(struct service_notify *sn)
{
	struct timespec ts;

	if (!sn->enabled)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading the configuration",
		   (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000);
}

void service_notify_stopping(struct service_notify *sn)
{
	if (sn->enabled)
		sd_notify(0, "STOPPING=1\nSTATUS=stopping");
}
