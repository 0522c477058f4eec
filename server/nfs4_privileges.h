/*
 * server/nfs4_privileges.h: the capabilities daxnfsd keeps after start-up.
 *
 * Job: once the exports are open and before the first thread starts
 * (capabilities, the bounding set and no_new_privs are per thread, and
 * threads inherit them), reduce the daemon to the capabilities it needs
 * while it serves (see nfs4_privileges.c for each and why), clear the
 * bounding, inheritable and ambient sets of everything else, and set
 * PR_SET_NO_NEW_PRIVS. A daemon started without privileges has nothing to
 * drop and says so at info level.
 * Calls: libcap, prctl, conf/log. Called by: server/main.c.
 */
#ifndef DAXNFS_SERVER_NFS4_PRIVILEGES_H
#define DAXNFS_SERVER_NFS4_PRIVILEGES_H

#include <stdint.h>

/* Keeps CAP_NET_BIND_SERVICE too when the listener still has to bind
 * nfs_port and it is below 1024. 0, or -errno when the capabilities could
 * not be reduced (the daemon must not serve then). */
int nfs4_privileges_drop(uint16_t nfs_port);

#endif
