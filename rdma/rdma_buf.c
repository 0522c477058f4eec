/*
 * rdma/rdma_buf.c: per-device resources and registered memory.
 *
 * Job: one protection domain per verbs device that connections arrived on
 * (shared by them, freed with the last one, so a removed device lets go of
 * everything); a bounded pool of registered buffers of max_record bytes per
 * device for what RDMA Read fills (a WRITE's data, a long call) and what
 * RDMA Write sends from (a READ's data); past the bound a buffer is
 * registered for one use, so the pool is a cache and never a limit.
 * Buffers are registered by the owner thread when first posted (workers
 * may not make verbs calls, rdma_internal.h), a pooled one once for good.
 * Every registration is counted (the "registrations" figure), so a test can
 * see that none leaks.
 * Calls: libibverbs, conf/log. Called by: rdma_conn.c, rdma_recv.c, rdma_send.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conf/log.h"
#include "rdma/rdma_internal.h"

struct ibv_mr *rdma_reg(struct rdma_listener *l, struct ibv_pd *pd, void *mem, size_t len,
			int access)
{
	struct ibv_mr *mr = ibv_reg_mr(pd, mem, len, access);

	if (mr)
		atomic_fetch_add_explicit(&l->registrations, 1, memory_order_relaxed);
	else
		log_warn("rdma", "cannot register %zu bytes: %s", len, strerror(errno));
	return mr;
}

void rdma_dereg(struct rdma_listener *l, struct ibv_mr *mr)
{
	if (!mr)
		return;
	if (ibv_dereg_mr(mr))
		log_warn("rdma", "deregistering memory: %s", strerror(errno));
	atomic_fetch_sub_explicit(&l->registrations, 1, memory_order_relaxed);
}

struct rdma_device *rdma_device_get(struct rdma_listener *l, struct ibv_context *verbs)
{
	struct ibv_device_attr_ex ax;
	struct rdma_device *d;

	pthread_mutex_lock(&l->lock);
	for (d = l->devices; d; d = d->next)
		if (d->verbs == verbs)
			break;
	if (d) {
		d->users++;
		goto out;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		goto out;
	d->verbs = verbs;
	d->l = l;
	d->buf_size = l->max_record;
	pthread_mutex_init(&d->pool_lock, NULL);
	if (ibv_query_device(verbs, &d->attr)) {
		log_warn("rdma", "%s: cannot query the device: %s",
			 ibv_get_device_name(verbs->device), strerror(errno));
		goto fail;
	}
	memset(&ax, 0, sizeof(ax));
	if (ibv_query_device_ex(verbs, NULL, &ax) == 0)
		d->odp = (ax.odp_caps.general_caps & IBV_ODP_SUPPORT) != 0;
	d->pd = ibv_alloc_pd(verbs);
	if (!d->pd) {
		log_warn("rdma", "%s: cannot allocate a protection domain: %s",
			 ibv_get_device_name(verbs->device), strerror(errno));
		goto fail;
	}
	d->users = 1;
	d->next = l->devices;
	l->devices = d;
	/* the data path's memory choice is reported once per device */
	log_info("rdma", "%s: %s; READ/WRITE data through registered buffers of %zu bytes "
		 "(a pool of %u, more registered per call past it)",
		 ibv_get_device_name(verbs->device),
		 d->odp ? "on-demand paging offered (not used yet)" : "no on-demand paging",
		 d->buf_size, RDMA_POOL_BUFFERS);
	goto out;
fail:
	pthread_mutex_destroy(&d->pool_lock);
	free(d);
	d = NULL;
out:
	pthread_mutex_unlock(&l->lock);
	return d;
}

void rdma_buf_free(struct rdma_buf *b)
{
	if (b->mr)
		rdma_dereg(b->dev->l, b->mr);
	free(b->mem);
	free(b);
}

void rdma_device_put(struct rdma_device *d)
{
	struct rdma_listener *l;
	struct rdma_device **pp;
	struct rdma_buf *b;

	if (!d)
		return;
	l = d->l;
	/* one-use buffers a worker handed back are still registered in d's
	 * protection domain: freed first (they were queued before the call
	 * that held them let go of its connection) */
	rdma_release_queued_bufs(l);
	pthread_mutex_lock(&l->lock);
	if (--d->users > 0) {
		pthread_mutex_unlock(&l->lock);
		return;
	}
	for (pp = &l->devices; *pp; pp = &(*pp)->next)
		if (*pp == d) {
			*pp = d->next;
			break;
		}
	pthread_mutex_unlock(&l->lock);
	/* every buffer in use was given back with its call: all are free */
	while ((b = d->pool_free) != NULL) {
		d->pool_free = b->next;
		rdma_buf_free(b);
	}
	if (ibv_dealloc_pd(d->pd))
		log_warn("rdma", "freeing a protection domain: %s", strerror(errno));
	log_info("rdma", "%s: released (no connection left on it): protection domain and "
		 "pool freed; %llu registrations left in all", ibv_get_device_name(d->verbs->device),
		 (unsigned long long)atomic_load_explicit(&l->registrations, memory_order_relaxed));
	pthread_mutex_destroy(&d->pool_lock);
	free(d);
}

struct rdma_buf *rdma_buf_get(struct rdma_device *d, size_t len, bool pool_only)
{
	struct rdma_buf *b = NULL;
	bool pooled = len <= d->buf_size;

	if (pooled) {
		pthread_mutex_lock(&d->pool_lock);
		b = d->pool_free;
		if (b)
			d->pool_free = b->next;
		else if (d->pool_count < RDMA_POOL_BUFFERS)
			d->pool_count++;
		else
			pooled = false;
		pthread_mutex_unlock(&d->pool_lock);
		if (b)
			return b;
	}
	if (!pooled && pool_only)
		return NULL;
	b = calloc(1, sizeof(*b));
	if (!b)
		goto fail;
	b->dev = d;
	b->pooled = pooled;
	b->cap = pooled ? d->buf_size : len;
	b->mem = malloc(b->cap ? b->cap : 1);
	if (!b->mem)
		goto fail;
	return b;   /* registered when first used, by the owner thread */
fail:
	if (b)
		free(b->mem);
	free(b);
	if (pooled) {
		pthread_mutex_lock(&d->pool_lock);
		d->pool_count--;
		pthread_mutex_unlock(&d->pool_lock);
	}
	return NULL;
}

bool rdma_buf_ready(struct rdma_buf *b)
{
	if (!b->mr)
		b->mr = rdma_reg(b->dev->l, b->dev->pd, b->mem, b->cap ? b->cap : 1,
				 IBV_ACCESS_LOCAL_WRITE);
	return b->mr != NULL;
}

void rdma_buf_put(struct rdma_buf *b)
{
	struct rdma_listener *l;
	struct rdma_device *d;

	if (!b)
		return;
	d = b->dev;
	l = d->l;
	if (b->pooled) {
		/* it keeps its registration for the next user */
		pthread_mutex_lock(&d->pool_lock);
		b->next = d->pool_free;
		d->pool_free = b;
		pthread_mutex_unlock(&d->pool_lock);
		return;
	}
	if (!b->mr || rdma_on_owner(l)) {
		rdma_buf_free(b);
		return;
	}
	pthread_mutex_lock(&l->q_lock);
	b->next = l->release_bufs;
	l->release_bufs = b;
	rdma_wake(l);
	pthread_mutex_unlock(&l->q_lock);
}
