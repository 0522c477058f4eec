/*
 * tests/fuzz/fuzz_common.h: what the libFuzzer harnesses of tests/fuzz/
 * share: an in-memory RPC transport that keeps what would have been sent,
 * the checks that end a run with a readable reason, and a scratch area for
 * the targets that need a real export (a private tmpfs when run as root).
 * Calls: rpc/, conf/, server/ (bring-up only). Called by: tests/fuzz/fuzz_*.c.
 */
#ifndef DAXNFS_TESTS_FUZZ_COMMON_H
#define DAXNFS_TESTS_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rpc/rpc.h"

/* libFuzzer's entry points, declared here so every target is -Wall clean. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Ends the run (abort, which libFuzzer reports as a crash with the input)
 * when cond is false; what names the broken invariant. */
#define fuzz_check(cond, what) fuzz_check_at((cond), (what), __FILE__, __LINE__)
void fuzz_check_at(bool cond, const char *what, const char *file, int line);

/* Replies larger than this are cut (the harnesses send small requests). */
#define FUZZ_SENT_MAX (2u * 1024 * 1024)

struct fuzz_xprt;
/* Called for each message the RPC layer sends on the transport (iovecs
 * already joined); returns what the transport's send would: 0 or -errno. */
typedef int (*fuzz_send_fn)(struct fuzz_xprt *fx, const uint8_t *msg, size_t len);

struct fuzz_xprt {
	struct rpc_xprt x;          /* first: the RPC layer sees only this */
	fuzz_send_fn on_send;       /* NULL: keep the message, return 0 */
	void *ctx;
	uint8_t *sent;              /* the last message kept (malloc'd, FUZZ_SENT_MAX) */
	size_t sent_len;
	unsigned nsent;             /* messages sent (send returned 0) since fuzz_xprt_reset */
};

/* A transport that is never destroyed (the harness holds its reference). */
void fuzz_xprt_init(struct fuzz_xprt *fx, fuzz_send_fn on_send, void *ctx);
void fuzz_xprt_reset(struct fuzz_xprt *fx);
/* Keeps msg as the last message sent (the default behaviour of send). */
void fuzz_xprt_keep(struct fuzz_xprt *fx, const uint8_t *msg, size_t len);

/* Big-endian words, as XDR puts them. */
uint32_t fuzz_get_be32(const uint8_t *p);
void fuzz_put_be32(uint8_t *p, uint32_t v);

/*
 * A scratch directory for exports and server state. As root: a tmpfs
 * (size_mb) mounted in a private mount namespace (unshare(CLONE_NEWNS)), so
 * it vanishes with the process and nothing the fuzzer creates reaches a
 * real disk. Otherwise: a fresh directory under /dev/shm (or $TMPDIR, /tmp),
 * removed at exit; a line on stderr says which. Writes the path into out.
 * Returns 0 or -errno.
 */
int fuzz_scratch_dir(unsigned size_mb, char *out, size_t cap);
/* Removes everything below dir (dir itself stays). 0 or -errno. */
int fuzz_empty_dir(const char *dir);

/*
 * Exports for the server-side harnesses, under base (made by
 * fuzz_scratch_dir): export 1 read-write at pseudo path /a (base/ea), export
 * 2 read-only at /b/c (base/ebc), Recovery_Dir base/state, Domain
 * fuzz.example, no grace period. Both export roots belong to owner_uid
 * (the caller the harnesses use), mode 0755. Loads the configuration
 * through conf_load (the real parser) and brings up the exports, and with
 * whole_server also nfs4_server_init (state, callback thread, program
 * 100003); otherwise only the file handle key. Returns 0 or -errno.
 */
int fuzz_server_up(const char *base, uint32_t owner_uid, bool whole_server);
/* The server fuzz_server_up brought up with whole_server (else NULL). */
struct nfs4_server;
extern struct nfs4_server *fuzz_srv;

#endif
