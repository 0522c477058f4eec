/*
 * tests/proto/test_admin.c: daxnfsctl against a real daxnfsd (Enable_pNFS)
 * over its administration socket, with protocol clients holding layouts:
 *  - show, as text and as JSON: the holder's client and the layout of its
 *    file (fileid, RW segment), the file's write lease;
 *  - recall file: the holder gets CB_LAYOUTRECALL, show lists the recall in
 *    flight with its deadline, the holder returns, show lists none;
 *  - revoke client: the holder's data-server WRITE with its layout stateid
 *    then fails NFS4ERR_BAD_STATEID, another client's layout stays;
 *  - set recall-timeout: taken (show reports it), and refused (exit 1, the
 *    reason) past lease-break-time; unknown commands and ids refused with
 *    exit 1; a user other than root refused by the daemon.
 */
#include "tests/proto/test_layout_util.h"

#include <inttypes.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/wait.h>

static struct proto_server srv;

static int group_setup(void **st)
{
	struct proto_server_opts o = { .nfsv4_conf = "Enable_pNFS = true; Recall_Timeout = 5;" };

	(void)st;
	return proto_server_start(&srv, "admin", &o) == 0 ? 0 : -1;
}

static int group_teardown(void **st)
{
	(void)st;
	return proto_server_stop_checked(&srv);
}

/* Runs daxnfsctl with args against srv's socket, its output into out; the
 * exit status. as_nobody: the child drops to uid 65534 first. */
static int ctl(char *out, size_t cap, bool as_nobody, const char *args)
{
	char cmd[8192];
	FILE *p;
	size_t n = 0;
	int status;

	snprintf(cmd, sizeof(cmd), "%s%s/daxnfsctl -s %s/admin.sock %s 2>&1",
		 as_nobody ? "setpriv --reuid=65534 --regid=65534 --clear-groups " : "",
		 DAXNFS_BINARY_DIR, srv.state_dir, args);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (n + 1 < cap && !feof(p)) {
		size_t r = fread(out + n, 1, cap - 1 - n, p);

		if (r == 0)
			break;
		n += r;
	}
	out[n] = '\0';
	status = pclose(p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static uint64_t fileid_of(const char *name)
{
	char path[PATH_MAX + 64];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/%s", srv.export_dir, name);
	assert_int_equal(stat(path, &sb), 0);
	return (uint64_t)sb.st_ino;
}

static void test_show_recall_revoke(void **st)
{
	static char out[1 << 16];
	struct holder h, other;
	char args[256], needle[128];
	uint8_t data[256];
	uint64_t fid;

	(void)st;
	memset(data, 7, sizeof(data));
	hold(&srv, &h, "admin-holder", "a1", false, data, sizeof(data));
	hold(&srv, &other, "admin-other", "a2", false, data, sizeof(data));
	fid = fileid_of("a1");

	/* show: text */
	assert_int_equal(ctl(out, sizeof(out), false, "show"), 0);
	snprintf(needle, sizeof(needle), "fileid %" PRIu64 ": write lease", fid);
	assert_non_null(strstr(out, needle));
	snprintf(needle, sizeof(needle), "%016" PRIx64 " \"", (uint64_t)h.cl->clientid);
	assert_non_null(strstr(out, needle));
	assert_non_null(strstr(out, "rw [0, eof)"));
	/* show: JSON */
	assert_int_equal(ctl(out, sizeof(out), false, "-j show"), 0);
	assert_true(strncmp(out, "{\"ok\":true,", 11) == 0);
	snprintf(needle, sizeof(needle), "{\"fileid\":%" PRIu64 ",\"lease\":\"write\"", fid);
	assert_non_null(strstr(out, needle));
	assert_non_null(strstr(out, "\"iomode\":\"rw\",\"offset\":0,\"end\":\"eof\""));

	/* recall file: CB_LAYOUTRECALL, the recall in show, the return */
	snprintf(args, sizeof(args), "recall file %" PRIu64, fid);
	assert_int_equal(ctl(out, sizeof(out), false, args), 0);
	assert_non_null(strstr(out, "1 holder(s) recalled"));
	wait_layout_recall(h.cl, &h.log, 1, 5000);
	assert_int_equal(ctl(out, sizeof(out), false, "show"), 0);
	assert_non_null(strstr(out, "recall in flight: 1 holder(s) outstanding, revoked in"));
	assert_int_equal(layoutreturn(h.cl, &h.open.fh, LAYOUTRETURN4_FILE,
				      &h.log.lr.clora_recall.u.lor_layout.lor_stateid,
				      LAYOUTIOMODE4_ANY, 0, NFS4_UINT64_MAX, NULL, NULL), NFS4_OK);
	assert_int_equal(ctl(out, sizeof(out), false, "show"), 0);
	assert_null(strstr(out, "recall in flight"));
	snprintf(needle, sizeof(needle), "fileid %" PRIu64 ":", fid);
	assert_null(strstr(out, needle));   /* no delegation, no layout left on it */

	/* revoke client: the other holder's layout goes, at once */
	lg_free(&h.lg);
	assert_int_equal(layoutget(h.cl, &h.open.fh, &h.open.sid, LAYOUT4_FLEX_FILES,
				   LAYOUTIOMODE4_RW, 0, NFS4_UINT64_MAX, 0, 4096, &h.lg), NFS4_OK);
	snprintf(args, sizeof(args), "revoke client %016" PRIx64, (uint64_t)other.cl->clientid);
	assert_int_equal(ctl(out, sizeof(out), false, args), 0);
	assert_non_null(strstr(out, "1 layout(s) revoked"));
	assert_int_equal(ot_write(other.cl, &other.open.fh, &other.ds_sid, 0, data, 10, FILE_SYNC4,
				  NULL), NFS4ERR_BAD_STATEID);
	assert_int_equal(nfs4_cl_sequence(other.cl), NFS4_OK);
	assert_true(other.cl->last_status_flags & SEQ4_STATUS_RECALLABLE_STATE_REVOKED);
	/* ... and the holder's new layout is untouched */
	assert_int_equal(ot_write(h.cl, &h.open.fh,
				  &h.lg.ff.ffl_mirrors.val[0].ffm_data_servers.val[0].ffds_stateid,
				  0, data, 10, FILE_SYNC4, NULL), NFS4_OK);
	unhold(&h);
	unhold(&other);
}

static void test_set_and_refusals(void **st)
{
	static char out[1 << 16];
	unsigned bt = proto_lease_break_time();
	char args[64];
	int rc;

	(void)st;
	assert_int_equal(ctl(out, sizeof(out), false, "set recall-timeout 3"), 0);
	assert_int_equal(ctl(out, sizeof(out), false, "-j show"), 0);
	assert_non_null(strstr(out, "\"recall_timeout_ms\":3000"));
	if (bt < 3600) {
		snprintf(args, sizeof(args), "set recall-timeout %u", bt);
		assert_int_equal(ctl(out, sizeof(out), false, args), 1);
		assert_non_null(strstr(out, "does not fit in lease-break-time"));
	}
	assert_int_equal(ctl(out, sizeof(out), false, "-j show"), 0);
	assert_non_null(strstr(out, "\"recall_timeout_ms\":3000"));   /* unchanged */
	assert_int_equal(ctl(out, sizeof(out), false, "set recall-timeout 5"), 0);
	assert_int_equal(ctl(out, sizeof(out), false, "frobnicate"), 1);
	assert_non_null(strstr(out, "unknown command"));
	assert_int_equal(ctl(out, sizeof(out), false, "revoke file 12x"), 1);
	assert_int_equal(ctl(out, sizeof(out), false, "recall file 999999999"), 1);
	assert_non_null(strstr(out, "no layouts on fileid"));
	assert_int_equal(ctl(out, sizeof(out), false, "-j recall client 0"), 1);
	assert_true(strncmp(out, "{\"ok\":false,", 12) == 0);
	/* Only root: the daemon refuses anyone else (when setpriv exists). */
	if (system("command -v setpriv >/dev/null 2>&1") == 0 && geteuid() == 0) {
		char sock[PATH_MAX + 16];

		/* the socket is 0600 in a 0700 directory: open it up so that the
		 * refusal is the daemon's, not the file system's */
		snprintf(sock, sizeof(sock), "%s/admin.sock", srv.state_dir);
		assert_int_equal(chmod(srv.state_dir, 0711), 0);
		assert_int_equal(chmod(sock, 0666), 0);
		rc = ctl(out, sizeof(out), true, "show");
		assert_int_equal(rc, 1);
		assert_non_null(strstr(out, "only root"));
		assert_int_equal(chmod(sock, 0600), 0);
		assert_int_equal(chmod(srv.state_dir, 0700), 0);
	} else {
		print_message("not root or no setpriv: the refusal of other users is not checked\n");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_show_recall_revoke),
		cmocka_unit_test(test_set_and_refusals),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
