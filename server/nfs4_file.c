/*
 * server/nfs4_file.c: the table of per-file NFSv4 state records.
 *
 * Job: find or create the one struct nfs4_file of a backend object. The key is
 * the object pointer: the backend guarantees one struct pmem_obj per inode
 * while referenced, and the record holds a reference, so the key stays valid
 * and unique for the record's life.
 * Locking: every call runs under nfs4_state_lock().
 * Calls: pmem_obj_get/put, libc. Called by: nfs4_open_state.c, nfs4_lock.c,
 * nfs4_io.c, nfs4_deleg.c, nfs4_copy.c, nfs4_file_lease.c.
 */
#include <stdlib.h>

#include "server/nfs4_file.h"


static unsigned file_hash(const struct pmem_obj *obj)
{
	uintptr_t v = (uintptr_t)obj;

	v ^= v >> 17;
	v *= 0x9E3779B97F4A7C15ull;
	return (unsigned)(v >> 40) % NFS4_FILE_BUCKETS;
}

struct nfs4_file *nfs4_file_find(struct nfs4_file_table *t, struct pmem_obj *obj)
{
	struct nfs4_file *fp;

	for (fp = t->buckets[file_hash(obj)]; fp; fp = fp->hash_next) {
		if (fp->obj == obj) {
			fp->refs++;
			return fp;
		}
	}
	return NULL;
}

struct nfs4_file *nfs4_file_get(struct nfs4_file_table *t, struct pmem_obj *obj)
{
	struct nfs4_file *fp = nfs4_file_find(t, obj);
	unsigned h;

	if (fp)
		return fp;
	fp = calloc(1, sizeof(*fp));
	if (!fp)
		return NULL;
	pmem_obj_get(obj);
	fp->obj = obj;
	fp->table = t;
	fp->refs = 1;
	list_init(&fp->shares);
	list_init(&fp->locks);
	list_init(&fp->delegs);
	h = file_hash(obj);
	fp->hash_next = t->buckets[h];
	t->buckets[h] = fp;
	t->count++;
	return fp;
}

void nfs4_file_put(struct nfs4_file *fp)
{
	struct nfs4_file **pp;

	if (!fp || --fp->refs > 0)
		return;
	for (pp = &fp->table->buckets[file_hash(fp->obj)]; *pp; pp = &(*pp)->hash_next) {
		if (*pp == fp) {
			*pp = fp->hash_next;
			break;
		}
	}
	fp->table->count--;
	pmem_obj_put(fp->obj);
	free(fp);
}

unsigned nfs4_file_count(const struct nfs4_file_table *t)
{
	return t->count;
}
