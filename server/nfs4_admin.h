/*
 * server/nfs4_admin.h: the administration socket daxnfsctl talks to.
 *
 * Job: a UNIX stream socket (NFS_CORE_PARAM Admin_Socket, mode 0600) on
 * which root, and only root (SO_PEERCRED), sends one command line and reads
 * the answer, in text for a person or JSON for a program: the clients with
 * their sessions, delegations and layouts; the files with layouts, their
 * lease and the recall in flight with its deadline; a forced recall or
 * revoke of a file's or a client's layouts; Recall_Timeout changed without
 * a restart. One thread of its own serves one connection at a time, each
 * bounded in time and size, so a stuck or hostile peer delays only itself.
 * Commands (the first word "json" or "text" chooses the form):
 *   show                       everything above
 *   recall file FILEID         CB_LAYOUTRECALL to every holder of the file
 *   recall client CLIENTID     the same for every file the client has layouts on
 *   revoke file FILEID         the file's layouts revoked now
 *   revoke client CLIENTID     the client's layouts revoked now
 *   set recall-timeout SECONDS Recall_Timeout, checked against lease-break-time
 * Calls: nfs4_state.h, nfs4_layout.h, nfs4_deleg.h, conf/log.h.
 * Called by: main.c (start, stop); daxnfsctl (tools/daxnfsctl.c) over the socket.
 */
#ifndef DAXNFS_SERVER_NFS4_ADMIN_H
#define DAXNFS_SERVER_NFS4_ADMIN_H

struct nfs4_server;
struct nfs4_admin;

/* Listens on path for srv; *out NULL when path is empty. 0, or -errno
 * (logged; the daemon goes on without the socket). */
int nfs4_admin_start(struct nfs4_server *srv, const char *path, struct nfs4_admin **out);
/* Stops the thread, removes the socket. NULL is fine. */
void nfs4_admin_stop(struct nfs4_admin *a);

#endif
