/*
 * server/nfs4_fh_mac.h: the key that authenticates file handles.
 *
 * Job: every file handle the server gives out ends with a keyed MAC
 * (SipHash-2-4 with a 128-bit output, libsodium's
 * crypto_shorthash_siphashx24) over all the bytes before it: the export id,
 * the kind and the backend's handle. A client cannot make a handle for a
 * file it was never given (the kernel handle of a file outside the export
 * is guessable, its MAC is not), cannot move a handle to another export by
 * rewriting the export id, and cannot send a second encoding of the same
 * handle: only bytes the server produced verify. The key (16 random bytes)
 * lives in Recovery_Dir/fh-key, so handles survive a restart; a server
 * with a new key (the file deleted) makes every handle given out before
 * NFS4ERR_BADHANDLE, as a new filesystem would.
 * Calls: libsodium, libc. Called by: nfs4_fh.c, nfs4_server.c (init).
 */
#ifndef DAXNFS_SERVER_NFS4_FH_MAC_H
#define DAXNFS_SERVER_NFS4_FH_MAC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NFS4_FH_MAC_LEN 16u

/* Loads dir/fh-key, or makes it (fsync'd) when there is none. A key file of
 * the wrong size is an error (never silently replaced: that would make every
 * client's handles stale). 0 or -errno. */
int nfs4_fh_mac_init(const char *dir);
void nfs4_fh_mac_compute(const uint8_t *p, size_t n, uint8_t out[NFS4_FH_MAC_LEN]);
/* In constant time. */
bool nfs4_fh_mac_check(const uint8_t *p, size_t n, const uint8_t mac[NFS4_FH_MAC_LEN]);

#endif
