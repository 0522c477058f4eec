/*
 * server/service_notify.h: telling the service manager how daxnfsd is
 * doing, through libsystemd's sd_notify (sd_notify(3)): READY=1 once every
 * listener accepts, STATUS= lines (what it serves, grace, clients),
 * WATCHDOG=1 pings from the event loop's tick, STOPPING=1 at shutdown.
 * Without NOTIFY_SOCKET in the environment (not started by systemd) every
 * call does nothing.
 * The pings come from the tick on the event-loop thread (about once a
 * second), so a stalled loop stops them and systemd's WatchdogSec acts;
 * a WatchdogSec under 2 s cannot be served (logged at start).
 * Calls: libsystemd, conf/log. Called by: server/main.c.
 */
#ifndef DAXNFS_SERVER_SERVICE_NOTIFY_H
#define DAXNFS_SERVER_SERVICE_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

struct service_notify {
	bool enabled;                  /* NOTIFY_SOCKET is set */
	uint64_t watchdog_usec;        /* 0: no watchdog asked for */
	int64_t next_ping_ms;          /* monotonic */
	int64_t next_status_ms;
	char last_status[320];
};

/* Reads the environment (NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID). */
void service_notify_init(struct service_notify *sn);
/* Every listener accepts: READY=1 with a first STATUS line. */
void service_notify_ready(struct service_notify *sn, const char *status);
/* From the tick (event-loop thread): a watchdog ping when due, and STATUS
 * when it changed (at most every 5 s). status may be NULL (no change). */
void service_notify_tick(struct service_notify *sn, const char *status);
/* A reload begins: RELOADING=1 (with MONOTONIC_USEC, which systemd 253's
 * Type=notify-reload wants); service_notify_ready tells its end. */
void service_notify_reloading(struct service_notify *sn);
/* Shutting down: STOPPING=1. */
void service_notify_stopping(struct service_notify *sn);

#endif
