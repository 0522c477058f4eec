/*
 * tests/unit/test_pmem_namespace.c: directory operations, attributes and
 * credentials of the POSIX backend, on XFS (loop image) and tmpfs.
 * Proves: create/lookup/readdir over 1,000 entries with cookies that resume
 * after a callback stops early; rename across directories; link; symlink and
 * readlink; mknode fifo; remove; setattr (mode, size up and down, times,
 * chown); an unprivileged caller gets -EACCES in a root 0755 directory and
 * owns what it creates; access() answers as the kernel would.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sys/syscall.h>

#include "pmem/posix_priv.h"
#include "tests/pmem/fixture.h"

#define NENT 1000

struct rd {
	unsigned seen[NENT];
	unsigned count, limit, calls;
	uint64_t last_cookie;
	bool saw_other;
};

static bool rd_cb(void *ctx, const char *name, size_t len, uint64_t cookie_after,
		  uint64_t fileid, enum pmem_obj_type type)
{
	struct rd *r = ctx;
	unsigned i;

	if (r->calls++ == r->limit)
		return false;   /* stop early: this entry must come again */
	if (len == 5 + 4 && sscanf(name, "file-%4u", &i) == 1 && i < NENT && type == PMEM_TYPE_REG)
		r->seen[i]++;
	else
		r->saw_other = true;
	assert_true(fileid != 0);
	r->count++;
	r->last_cookie = cookie_after;
	return true;
}

static struct pmem_obj *root_of(const char *path, struct pmem_export **exp)
{
	struct pmem_obj *root;

	assert_int_equal(pmem_posix_export_open(path, 1, exp), 0);
	assert_int_equal((*exp)->ops->root(*exp, &root), 0);
	return root;
}

static void readdir_on(const char *path, struct pmem_export **exp)
{
	struct pmem_obj *root = root_of(path, exp), *d, *o;
	static struct rd r;
	uint64_t cookie = 0;
	char name[32];
	unsigned i, rounds = 0;
	bool eof = false;

	assert_int_equal(root->ops->mknode(root, &fx_root, "big", PMEM_TYPE_DIR, 0755, 0, 0, &d), 0);
	for (i = 0; i < NENT; i++) {
		snprintf(name, sizeof(name), "file-%04u", i);
		assert_int_equal(d->ops->create_file(d, &fx_root, name, 0644, true, &o), 0);
		pmem_obj_put(o);
	}
	assert_int_equal(d->ops->create_file(d, &fx_root, "file-0007", 0644, true, &o), -EEXIST);
	assert_int_equal(d->ops->lookup(d, &fx_root, "file-0999", &o), 0);
	assert_int_equal(o->type, PMEM_TYPE_REG);
	pmem_obj_put(o);
	assert_int_equal(d->ops->lookup(d, &fx_root, "nope", &o), -ENOENT);
	assert_int_equal(d->ops->lookup(d, &fx_root, "..", &o), -EINVAL);
	assert_int_equal(d->ops->lookup(d, &fx_root, "a/b", &o), -EINVAL);

	memset(&r, 0, sizeof(r));
	while (!eof) {
		r.calls = 0;
		r.limit = 37;   /* stops after 37 entries each call */
		assert_int_equal(d->ops->readdir(d, &fx_root, cookie, rd_cb, &r, &eof), 0);
		if (!eof)
			assert_int_equal(r.calls, 38);
		cookie = r.last_cookie;
		assert_true(++rounds < 100);
	}
	assert_false(r.saw_other);
	assert_int_equal(r.count, NENT);
	for (i = 0; i < NENT; i++)
		assert_int_equal(r.seen[i], 1);
	assert_true(rounds >= NENT / 37);
	pmem_obj_put(d);
	pmem_obj_put(root);
}

static void test_readdir_1000_resume_xfs(void **state)
{
	struct fx *f = *state;

	FX_REQUIRE(f);
	readdir_on(f->xfs, &f->exp_xfs);
}

static void test_readdir_1000_resume_tmpfs(void **state)
{
	struct fx *f = *state;

	FX_REQUIRE(f);
	readdir_on(f->tmpfs, &f->exp_tmpfs);
}

static void names_on(const char *path, struct pmem_export **exp)
{
	struct pmem_obj *root = root_of(path, exp), *a, *b, *o, *o2, *l, *fifo;
	struct pmem_attr at;
	char buf[64];
	size_t n;

	assert_int_equal(root->ops->mknode(root, &fx_root, "a", PMEM_TYPE_DIR, 0755, 0, 0, &a), 0);
	assert_int_equal(root->ops->mknode(root, &fx_root, "b", PMEM_TYPE_DIR, 0700, 0, 0, &b), 0);
	assert_int_equal(b->ops->getattr(b, &at), 0);
	assert_int_equal(at.type, PMEM_TYPE_DIR);
	assert_int_equal(at.mode, 0700);
	assert_int_equal(a->ops->create_file(a, &fx_root, "f", 0640, true, &o), 0);
	assert_int_equal(o->ops->getattr(o, &at), 0);
	assert_int_equal(at.mode, 0640);
	/* Not exclusive: the existing file comes back. */
	assert_int_equal(a->ops->create_file(a, &fx_root, "f", 0600, false, &o2), 0);
	assert_ptr_equal(o2, o);
	pmem_obj_put(o2);

	/* rename across directories: same object, new place. */
	assert_int_equal(root->ops->rename(a, "f", b, "g", &fx_root), 0);
	assert_int_equal(a->ops->lookup(a, &fx_root, "f", &o2), -ENOENT);
	assert_int_equal(b->ops->lookup(b, &fx_root, "g", &o2), 0);
	assert_ptr_equal(o2, o);
	pmem_obj_put(o2);

	/* link */
	assert_int_equal(o->ops->link(o, a, &fx_root, "hard"), 0);
	assert_int_equal(o->ops->getattr(o, &at), 0);
	assert_int_equal(at.nlink, 2);
	assert_int_equal(o->ops->link(a, root, &fx_root, "dirlink"), -EISDIR);

	/* symlink + readlink */
	assert_int_equal(a->ops->symlink(a, &fx_root, "sl", "../b/g", &l), 0);
	assert_int_equal(l->type, PMEM_TYPE_LNK);
	assert_int_equal(l->ops->readlink(l, buf, sizeof(buf), &n), 0);
	assert_int_equal(n, 6);
	assert_memory_equal(buf, "../b/g", 6);
	assert_int_equal(o->ops->readlink(o, buf, sizeof(buf), &n), -EINVAL);

	/* fifo */
	assert_int_equal(a->ops->mknode(a, &fx_root, "p", PMEM_TYPE_FIFO, 0620, 0, 0, &fifo), 0);
	assert_int_equal(fifo->ops->getattr(fifo, &at), 0);
	assert_int_equal(at.type, PMEM_TYPE_FIFO);
	assert_int_equal(at.mode, 0620);

	/* remove: file, symlink, fifo, non-empty dir fails, then empty dir */
	assert_int_equal(root->ops->remove(root, &fx_root, "a"), -ENOTEMPTY);
	assert_int_equal(a->ops->remove(a, &fx_root, "hard"), 0);
	assert_int_equal(a->ops->remove(a, &fx_root, "sl"), 0);
	assert_int_equal(a->ops->remove(a, &fx_root, "p"), 0);
	assert_int_equal(a->ops->remove(a, &fx_root, "p"), -ENOENT);
	assert_int_equal(root->ops->remove(root, &fx_root, "a"), 0);
	assert_int_equal(root->ops->lookup(root, &fx_root, "a", &o2), -ENOENT);
	assert_int_equal(o->ops->getattr(o, &at), 0);
	assert_int_equal(at.nlink, 1);

	pmem_obj_put(fifo);
	pmem_obj_put(l);
	pmem_obj_put(o);
	pmem_obj_put(a);
	pmem_obj_put(b);
	pmem_obj_put(root);
}

static void test_names_xfs(void **state)
{
	struct fx *f = *state;

	FX_REQUIRE(f);
	names_on(f->xfs, &f->exp_xfs);
}

static void test_names_tmpfs(void **state)
{
	struct fx *f = *state;

	FX_REQUIRE(f);
	names_on(f->tmpfs, &f->exp_tmpfs);
}

static void setattr_on(const char *path, struct pmem_export **exp)
{
	struct pmem_obj *root = root_of(path, exp), *o;
	struct pmem_setattr sa;
	struct pmem_attr at, at2;
	uint8_t buf[8192];
	size_t n;
	bool eof;
	enum pmem_stable c;

	assert_int_equal(root->ops->create_file(root, &fx_root, "s", 0644, true, &o), 0);
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(o->ops->write(o, 0, buf, 100, PMEM_UNSTABLE, &n, &c), 0);
	assert_int_equal(o->ops->getattr(o, &at), 0);

	memset(&sa, 0, sizeof(sa));
	sa.valid = PMEM_SET_MODE;
	sa.mode = 0600;
	assert_int_equal(o->ops->setattr(o, &fx_root, &sa), 0);
	assert_int_equal(o->ops->getattr(o, &at2), 0);
	assert_int_equal(at2.mode, 0600);
	assert_true(at2.change != at.change);

	sa.valid = PMEM_SET_SIZE;
	sa.size = 5000;   /* up: zero filled */
	assert_int_equal(o->ops->setattr(o, &fx_root, &sa), 0);
	assert_int_equal(o->ops->read(o, 0, buf, sizeof(buf), &n, &eof), 0);
	assert_int_equal(n, 5000);
	assert_true(eof);
	assert_int_equal(buf[99], 'x');
	assert_int_equal(buf[100], 0);
	assert_int_equal(buf[4999], 0);
	sa.size = 10;     /* down */
	assert_int_equal(o->ops->setattr(o, &fx_root, &sa), 0);
	assert_int_equal(o->ops->getattr(o, &at2), 0);
	assert_int_equal(at2.size, 10);

	sa.valid = PMEM_SET_ATIME | PMEM_SET_MTIME;
	sa.atime = (struct pmem_time){ 1000000000, 5 };
	sa.mtime = (struct pmem_time){ 1200000000, 7 };
	assert_int_equal(o->ops->setattr(o, &fx_root, &sa), 0);
	assert_int_equal(o->ops->getattr(o, &at2), 0);
	assert_int_equal(at2.atime.sec, 1000000000);
	assert_int_equal(at2.mtime.sec, 1200000000);
	assert_int_equal(at2.mtime.nsec, 7);
	sa.valid = PMEM_SET_MTIME_NOW;
	assert_int_equal(o->ops->setattr(o, &fx_root, &sa), 0);
	assert_int_equal(o->ops->getattr(o, &at2), 0);
	assert_true(at2.mtime.sec > 1700000000);
	assert_int_equal(at2.atime.sec, 1000000000);

	sa.valid = PMEM_SET_UID | PMEM_SET_GID;
	sa.uid = 1234;
	sa.gid = 4321;
	assert_int_equal(o->ops->setattr(o, &fx_root, &sa), 0);
	assert_int_equal(o->ops->getattr(o, &at2), 0);
	assert_int_equal(at2.uid, 1234);
	assert_int_equal(at2.gid, 4321);
	/* Not the owner, not root: chmod refused by the kernel. */
	sa.valid = PMEM_SET_MODE;
	sa.mode = 0777;
	assert_int_equal(o->ops->setattr(o, &fx_user, &sa), -EPERM);
	assert_int_equal(root->ops->setattr(root, &fx_root, &(struct pmem_setattr){ .valid = PMEM_SET_SIZE, .size = 1 }), -EISDIR);
	pmem_obj_put(o);
	pmem_obj_put(root);
}

static void test_setattr_xfs(void **state)
{
	struct fx *f = *state;

	FX_REQUIRE(f);
	setattr_on(f->xfs, &f->exp_xfs);
}

static void test_setattr_tmpfs(void **state)
{
	struct fx *f = *state;

	FX_REQUIRE(f);
	setattr_on(f->tmpfs, &f->exp_tmpfs);
}

static void creds_on(const char *path, struct pmem_export **exp)
{
	struct pmem_obj *root = root_of(path, exp), *d, *o, *mine;
	struct pmem_setattr sa = { .valid = PMEM_SET_MODE, .mode = 0755 };
	struct pmem_attr at;
	uint32_t g;
	char buf[4];
	size_t n;
	bool eof;
	enum pmem_stable c;

	assert_int_equal(root->ops->setattr(root, &fx_root, &sa), 0);
	assert_int_equal(root->ops->create_file(root, &fx_root, "rootfile", 0644, true, &o), 0);
	/* uid 1000 in a root 0755 directory: no create, no remove, no rename. */
	assert_int_equal(root->ops->create_file(root, &fx_user, "u", 0644, true, &mine), -EACCES);
	assert_int_equal(root->ops->mknode(root, &fx_user, "ud", PMEM_TYPE_DIR, 0755, 0, 0, &mine), -EACCES);
	assert_int_equal(root->ops->remove(root, &fx_user, "rootfile"), -EACCES);
	assert_int_equal(root->ops->rename(root, "rootfile", root, "x", &fx_user), -EACCES);
	/* The thread got its root powers back after each call. */
	assert_int_equal(root->ops->mknode(root, &fx_root, "pub", PMEM_TYPE_DIR, 0777, 0, 0, &d), 0);
	/* In a 0777 directory the user creates, and owns, its file. */
	assert_int_equal(d->ops->create_file(d, &fx_user, "u", 0600, true, &mine), 0);
	assert_int_equal(mine->ops->getattr(mine, &at), 0);
	assert_int_equal(at.uid, 1000);
	assert_int_equal(at.gid, 1000);
	assert_int_equal(mine->ops->write(mine, 0, "abc", 3, PMEM_UNSTABLE, &n, &c), 0);
	assert_int_equal(mine->ops->read(mine, 0, buf, 3, &n, &eof), 0);

	/* access(): root file 0644 for uid 1000: read only; root: read+write, no exec. */
	assert_int_equal(o->ops->access(o, &fx_user, PMEM_ACC_READ | PMEM_ACC_WRITE | PMEM_ACC_EXEC, &g), 0);
	assert_int_equal(g, PMEM_ACC_READ);
	assert_int_equal(o->ops->access(o, &fx_root, PMEM_ACC_READ | PMEM_ACC_WRITE | PMEM_ACC_EXEC, &g), 0);
	assert_int_equal(g, PMEM_ACC_READ | PMEM_ACC_WRITE);
	/* The user's own 0600 file: rw for it, nothing for another user. */
	assert_int_equal(mine->ops->access(mine, &fx_user, PMEM_ACC_READ | PMEM_ACC_WRITE, &g), 0);
	assert_int_equal(g, PMEM_ACC_READ | PMEM_ACC_WRITE);
	assert_int_equal(mine->ops->access(mine, &(struct pmem_cred){ 1001, 1001, 0, { 0 } },
					   PMEM_ACC_READ | PMEM_ACC_WRITE, &g), 0);
	assert_int_equal(g, 0);
	/* Group membership counts: chgrp to 2000, mode 0640, user in group 2000. */
	sa.valid = PMEM_SET_GID | PMEM_SET_MODE;
	sa.gid = 2000;
	sa.mode = 0640;
	assert_int_equal(o->ops->setattr(o, &fx_root, &sa), 0);
	assert_int_equal(o->ops->access(o, &(struct pmem_cred){ 1001, 1001, 2, { 1001, 2000 } },
					PMEM_ACC_READ | PMEM_ACC_WRITE, &g), 0);
	assert_int_equal(g, PMEM_ACC_READ);
	assert_int_equal(o->ops->access(o, &(struct pmem_cred){ 1001, 1001, 1, { 1001 } },
					PMEM_ACC_READ, &g), 0);
	assert_int_equal(g, 0);
	/* Directory: search = exec. */
	assert_int_equal(root->ops->access(root, &fx_user, PMEM_ACC_EXEC | PMEM_ACC_WRITE, &g), 0);
	assert_int_equal(g, PMEM_ACC_EXEC);

	pmem_obj_put(mine);
	pmem_obj_put(d);
	pmem_obj_put(o);
	pmem_obj_put(root);
}

static void test_unprivileged_caller_xfs(void **state)
{
	struct fx *f = *state;

	FX_REQUIRE(f);
	creds_on(f->xfs, &f->exp_xfs);
}

static void test_unprivileged_caller_tmpfs(void **state)
{
	struct fx *f = *state;

	FX_REQUIRE(f);
	creds_on(f->tmpfs, &f->exp_tmpfs);
}

struct cred_thread {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stage;
	int fsuid_inside, fsuid_after;
};

static void stage_wait(struct cred_thread *c, int want)
{
	pthread_mutex_lock(&c->mu);
	while (c->stage < want)
		pthread_cond_wait(&c->cv, &c->mu);
	pthread_mutex_unlock(&c->mu);
}

static void stage_set(struct cred_thread *c, int st)
{
	pthread_mutex_lock(&c->mu);
	c->stage = st;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

static void *cred_thread_fn(void *arg)
{
	struct cred_thread *c = arg;
	struct posix_cred_save save;

	if (posix_cred_enter(&fx_user, &save) != 0)
		return NULL;
	/* setfsuid(-1) changes nothing and returns the current fsuid. */
	c->fsuid_inside = (int)syscall(SYS_setfsuid, -1);
	stage_set(c, 1);
	stage_wait(c, 2);
	posix_cred_leave(&save);
	c->fsuid_after = (int)syscall(SYS_setfsuid, -1);
	return NULL;
}

/* While one thread acts as uid 1000, another still acts as root. */
static void test_caller_creds_are_per_thread(void **state)
{
	struct fx *f = *state;
	struct cred_thread c = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, -1, -1 };
	struct pmem_obj *root, *o;
	pthread_t t;

	FX_REQUIRE(f);
	assert_int_equal(pmem_posix_export_open(f->xfs, 1, &f->exp_xfs), 0);
	assert_int_equal(f->exp_xfs->ops->root(f->exp_xfs, &root), 0);
	assert_int_equal(pthread_create(&t, NULL, cred_thread_fn, &c), 0);
	stage_wait(&c, 1);
	assert_int_equal(c.fsuid_inside, 1000);
	assert_int_equal((int)syscall(SYS_setfsuid, -1), 0);
	assert_int_equal(root->ops->create_file(root, NULL, "by-root", 0644, true, &o), 0);
	pmem_obj_put(o);
	stage_set(&c, 2);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(c.fsuid_after, 0);
	pmem_obj_put(root);
}

struct cache_thread {
	struct pmem_export *exp;
	uint8_t h[PMEM_HANDLE_MAX];
	size_t hl;
	struct pmem_obj *expect;
	int bad;
};

static void *cache_thread_fn(void *arg)
{
	struct cache_thread *c = arg;
	struct pmem_obj *o;
	int i;

	for (i = 0; i < 20000; i++) {
		if (c->exp->ops->from_handle(c->exp, c->h, c->hl, &o) != 0) {
			c->bad++;
			continue;
		}
		if (c->expect && o != c->expect)
			c->bad++;
		pmem_obj_put(o);
	}
	return NULL;
}

/* Threads resolving one handle while the object comes and goes: always one
 * object per inode while referenced, no use after free (ASan watches). */
static void test_object_cache_threads(void **state)
{
	struct fx *f = *state;
	struct cache_thread c[3];
	struct pmem_obj *root, *o;
	pthread_t t[3];
	int i;

	FX_REQUIRE(f);
	assert_int_equal(pmem_posix_export_open(f->tmpfs, 1, &f->exp_tmpfs), 0);
	assert_int_equal(f->exp_tmpfs->ops->root(f->exp_tmpfs, &root), 0);
	assert_int_equal(root->ops->create_file(root, &fx_root, "hot", 0644, true, &o), 0);
	for (i = 0; i < 3; i++) {
		c[i].exp = f->exp_tmpfs;
		c[i].hl = sizeof(c[i].h);
		assert_int_equal(o->ops->to_handle(o, c[i].h, &c[i].hl), 0);
		c[i].expect = i == 0 ? o : NULL;   /* thread 0 runs while o is held */
		c[i].bad = 0;
	}
	assert_int_equal(pthread_create(&t[0], NULL, cache_thread_fn, &c[0]), 0);
	assert_int_equal(pthread_join(t[0], NULL), 0);
	assert_int_equal(c[0].bad, 0);
	pmem_obj_put(o);   /* now the object dies and is reborn under the threads */
	for (i = 1; i < 3; i++)
		assert_int_equal(pthread_create(&t[i], NULL, cache_thread_fn, &c[i]), 0);
	for (i = 1; i < 3; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(c[i].bad, 0);
	}
	pmem_obj_put(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_readdir_1000_resume_xfs, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_readdir_1000_resume_tmpfs, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_names_xfs, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_names_tmpfs, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_setattr_xfs, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_setattr_tmpfs, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_unprivileged_caller_xfs, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_unprivileged_caller_tmpfs, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_caller_creds_are_per_thread, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_object_cache_threads, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
