/*
 * server/nfs4_file_lease.c: a file's local lease and the lease event
 * dispatcher (see nfs4_file_lease.h).
 * Calls: pmem/lease.h, backend lease ops, nfs4_deleg.h, nfs4_layout.h,
 * conf/log.h. Called by: nfs4_deleg.c, nfs4_layout.c, nfs4_server.c.
 */
#include "server/nfs4_file_lease.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "conf/log.h"
#include "pmem/lease.h"
#include "server/nfs4_deleg.h"
#include "server/nfs4_instance.h"
#include "server/nfs4_layout.h"
#include "server/nfs4_state.h"

int nfs4_file_lease_take(struct nfs4_file *fp, enum pmem_lease_kind kind)
{
	enum pmem_lease_kind old = fp->lease;
	struct pmem_obj *obj = fp->obj;
	uintptr_t gen;
	int rc;

	/* A lease the kernel is breaking serves nobody new: the break came
	 * once, and what is granted now would never be recalled. Changing
	 * its kind would release it under the process that waits for it. */
	if (fp->lease_breaking)
		return -EAGAIN;
	/* A write lease already covers what a read lease would: the file's
	 * other state (a write delegation, RW layouts) may still need it. */
	if (fp->lease == kind || (fp->lease == PMEM_LEASE_WRITE && kind == PMEM_LEASE_READ))
		return 0;
	if (!obj->ops->lease_acquire)
		return -EOPNOTSUPP;
	gen = ++fp->table->lease_generation;
	if (gen == 0)
		gen = ++fp->table->lease_generation;
	rc = obj->ops->lease_acquire(obj, kind, (void *)gen);
	if (rc < 0) {
		/* A failed change of kind dropped the old lease quietly: the
		 * delegations and layouts that relied on it need it back, or
		 * they go (a local open got in between). */
		fp->lease = 0;
		fp->lease_gen = 0;
		if (old && nfs4_file_lease_take(fp, old) < 0) {
			nfs4_deleg_revoke_file(fp, "the local lease could not be taken back");
			nfs4_layout_revoke_file(fp, "the local lease could not be taken back");
		}
		return rc;
	}
	fp->lease = kind;
	fp->lease_gen = gen;
	return 0;
}

void nfs4_file_lease_drop(struct nfs4_file *fp)
{
	if (!fp->lease)
		return;
	fp->lease = 0;
	fp->lease_gen = 0;   /* the "gone" event of this release is then stale */
	fp->lease_breaking = false;
	fp->obj->ops->lease_release(fp->obj);
}

void nfs4_file_lease_drop_unused(struct nfs4_file *fp)
{
	if (list_empty(&fp->delegs) && nfs4_layout_lease_need(fp) == 0)
		nfs4_file_lease_drop(fp);
}

/* The file whose current lease the event is about, or NULL (stale event). */
static struct nfs4_file *event_file(struct nfs4_server *srv, struct pmem_obj *obj, void *cookie)
{
	struct nfs4_file *fp = nfs4_file_find(&srv->files, obj);

	if (fp && (!fp->lease || fp->lease_gen != (uintptr_t)cookie)) {
		nfs4_file_put(fp);
		fp = NULL;
	}
	return fp;
}

static void on_lease_breaking(void *ctx, struct pmem_obj *obj, void *cookie,
			      struct timespec deadline)
{
	int64_t kernel_ms = (int64_t)deadline.tv_sec * 1000 + deadline.tv_nsec / 1000000;
	struct nfs4_file *fp;
	int64_t dl;

	nfs4_state_lock();
	/* The deadline counts from the break, not from when a callback goes
	 * out; Recall_Timeout is read under the lock daxnfsctl changes it in. */
	dl = nfs4_cb_now_ms() + nfs4_recall_timeout_ms(ctx);
	if (kernel_ms < dl)
		dl = kernel_ms;
	fp = event_file(ctx, obj, cookie);
	if (fp) {
		unsigned layouts;

		fp->lease_breaking = true;
		log_info("nfs4", "local lease on fileid %llu breaking: recalling its delegations "
			 "and layouts (deadline in %lld ms)", (unsigned long long)obj->fileid,
			 (long long)(dl - nfs4_cb_now_ms()));
		nfs4_deleg_recall_file(fp, dl);
		/* Layouts count from the kernel's own deadline: layout/ keeps
		 * Revoke_Margin before it for the revoke. */
		layouts = nfs4_layout_lease_breaking(fp, kernel_ms);
		/* Nothing outstanding on either side: the lease can go now. */
		if (layouts == 0 && fp->lease)
			nfs4_file_lease_drop_unused(fp);
		nfs4_file_put(fp);
	}
	nfs4_state_unlock();
}

static void on_lease_gone(void *ctx, struct pmem_obj *obj, void *cookie)
{
	struct nfs4_file *fp;

	nfs4_state_lock();
	fp = event_file(ctx, obj, cookie);
	if (fp) {
		/* Still ours by our books: the kernel took it. Nothing may go
		 * on relying on it. */
		fp->lease = 0;
		fp->lease_gen = 0;
		fp->lease_breaking = false;
		nfs4_deleg_revoke_file(fp, "the local lease was broken by the kernel");
		nfs4_layout_revoke_file(fp, "the local lease was broken by the kernel");
		nfs4_file_put(fp);
	}
	nfs4_state_unlock();
}

int nfs4_file_lease_start(struct nfs4_server *srv, unsigned recall_timeout_s)
{
	/* copied by the lease manager */
	const struct pmem_lease_events dispatcher = {
		.breaking = on_lease_breaking,
		.gone = on_lease_gone,
		.ctx = srv,
	};
	unsigned bt = 0, budget, rt;
	int rc;

	rc = pmem_lease_break_time(&bt);
	if (rc < 0) {
		log_err("nfs4", "cannot read /proc/sys/fs/lease-break-time: %s", strerror(-rc));
		return rc;
	}
	/* What the lease manager leaves the holder, in whole seconds. */
	budget = (unsigned)(pmem_lease_holder_ms(bt) / 1000);
	if (recall_timeout_s && recall_timeout_s > budget) {
		log_err("nfs4", "NFSV4 Recall_Timeout = %u s does not fit in the kernel's "
			"/proc/sys/fs/lease-break-time of %u s: a recall must end by %u s so that "
			"the kernel never breaks a lease a client still relies on; lower "
			"Recall_Timeout or raise fs.lease-break-time", recall_timeout_s, bt, budget);
		return -EINVAL;
	}
	rt = recall_timeout_s ? recall_timeout_s : (budget < 30 ? budget : 30);
	if (rt == 0) {
		log_err("nfs4", "/proc/sys/fs/lease-break-time is %u s: too short for any recall "
			"(NFSV4 Recall_Timeout); raise fs.lease-break-time", bt);
		return -EINVAL;
	}
	nfs4_deleg_set_recall_timeout(srv, (int64_t)rt * 1000);
	rc = pmem_lease_manager_start(&dispatcher);
	if (rc < 0) {
		log_err("nfs4", "cannot start the lease manager: %s", strerror(-rc));
		return rc;
	}
	log_info("nfs4", "recalls: Recall_Timeout %u s (lease-break-time %u s)", rt, bt);
	return 0;
}

void nfs4_file_lease_stop(void)
{
	pmem_lease_manager_stop();
}
