/*
 * tests/unit/test_conf_parse.c: the config parser (conf/conf.c): the embedded
 * default, a full file, defaults, and an error naming file, line and key for
 * each rule that can be broken.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glob.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf/conf.h"
#include "conf/log.h"

static struct daxnfs_config cfg;
static char err[1024];
static char path[64];

static const char *write_tmp(const char *text)
{
	FILE *f;
	int fd;

	strcpy(path, "/tmp/daxnfs-conf-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static int load_text(const char *text)
{
	int rc;

	err[0] = '\0';
	rc = conf_load(write_tmp(text), "/base", &cfg, err, sizeof(err));
	unlink(path);
	return rc;
}

#define NFSV4_OK "NFSV4 { Recovery_Dir = /var/lib/x; }\n"
#define EXPORT_OK "EXPORT { Export_Id = 1; Path = /srv/a; Pseudo = /; }\n"

/* Expects text to fail with an error mentioning line and every needle. */
static void expect_error(const char *text, unsigned line, const char *n1, const char *n2)
{
	char want[64];

	assert_int_equal(load_text(text), -EINVAL);
	snprintf(want, sizeof(want), ":%u: ", line);
	if (!strstr(err, want) || !strstr(err, path) || (n1 && !strstr(err, n1)) ||
	    (n2 && !strstr(err, n2)))
		fail_msg("text:\n%s\nerror: '%s' (wanted line %u, '%s', '%s')", text, err, line,
			 n1 ? n1 : "", n2 ? n2 : "");
}

static void test_conf_embedded_default(void **state)
{
	assert_int_equal(conf_load(NULL, "/home/me/daxnfs/build", &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.source, "<embedded default>");
	assert_string_equal(cfg.bind_addr, "127.0.0.1");
	assert_int_equal(cfg.nfs_port, 2049);
	assert_int_equal(cfg.lease_lifetime, 90);
	assert_int_equal(cfg.grace_period, 90);
	assert_string_equal(cfg.recovery_dir, "/home/me/daxnfs/build/state");
	assert_int_equal(cfg.n_exports, 1);
	assert_string_equal(cfg.exports[0].path, "/home/me/daxnfs/build/export");
	assert_string_equal(cfg.exports[0].pseudo, "/");
	assert_int_equal(cfg.exports[0].access, CONF_ACCESS_RW);
	assert_string_equal(cfg.log_level, "info");
	assert_string_equal(cfg.log_destination, "stderr");
	/* without a base directory the @BASE@ values cannot be formed */
	assert_int_equal(conf_load(NULL, NULL, &cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "@BASE@"));
}

static void test_conf_full_file(void **state)
{
	struct conf_conn_limits cl;
	const char *text =
		"# a comment line\n"
		"nfs_core_param {\n"
		"  bind_addr = ::1;   # trailing comment\n"
		"  NFS_PORT = 20490;\n"
		"  Threads = 16;\n"
		"  Max_Record_Size = 2M;\n"
		"  max_connections = 100; Record_Timeout = 5; Idle_Unbound_Timeout = 60;\n"
		"  Max_Partial_Record_Bytes = 64M;\n"
		"}\n"
		"NFSv4 { Lease_Lifetime = 30; Grace_Period = 45; Delegated_Timestamps = Yes;\n"
		"  Open_Xor_Delegation = on; Max_Async_Copies = 0; Async_Copy_Max_Rate = 100;\n"
		"  Recovery_Dir = \"/var/lib/daxnfs # not a comment\"; Domain = \"example.org\" }\n"
		"Log { Level = DEBUG; Destination = syslog; }\n"
		"EXPORT {\n Export_Id = 7; Path = \"/srv/pmem\"; Pseudo = /data//pmem/;\n"
		" Access_Type = ro; Squash = root_squash; Anonymous_Uid = 99; Anonymous_Gid = 98;\n}\n"
		"export { Export_Id = 8; Path = @BASE@/b; Pseudo = /b; Squash = all; Access_Type = None; }\n";

	assert_int_equal(load_text(text), 0);
	assert_string_equal(cfg.bind_addr, "::1");
	assert_int_equal(cfg.nfs_port, 20490);
	assert_int_equal(cfg.threads, 16);
	assert_int_equal(cfg.max_record_size, 2u << 20);
	assert_int_equal(cfg.conn.max_connections, 100);
	assert_int_equal(cfg.conn.record_timeout, 5);
	assert_int_equal(cfg.conn.idle_unbound_timeout, 60);
	assert_int_equal(cfg.conn.max_partial_record_bytes, 64ull << 20);
	/* what the TCP transport will read when it starts listening, once
	 * main published them */
	conf_conn_limits_publish(&cfg.conn);
	conf_conn_limits_current(&cl);
	assert_int_equal(cl.max_connections, 100);
	assert_int_equal(cl.max_partial_record_bytes, 64ull << 20);
	assert_int_equal(cfg.lease_lifetime, 30);
	assert_int_equal(cfg.grace_period, 45);
	assert_string_equal(cfg.recovery_dir, "/var/lib/daxnfs # not a comment");
	assert_string_equal(cfg.domain, "example.org");
	assert_true(cfg.deleg_timestamps);
	assert_true(cfg.open_xor_delegation);
	assert_int_equal(cfg.max_async_copies, 0);               /* never asynchronous */
	assert_int_equal(cfg.max_async_copies_per_client, 4);    /* the default */
	assert_int_equal(cfg.async_copy_max_rate, 100);
	assert_string_equal(cfg.log_level, "DEBUG");
	assert_string_equal(cfg.log_destination, "syslog");
	assert_int_equal(cfg.n_exports, 2);
	assert_int_equal(cfg.exports[0].export_id, 7);
	assert_string_equal(cfg.exports[0].pseudo, "/data/pmem");
	assert_int_equal(cfg.exports[0].access, CONF_ACCESS_RO);
	assert_int_equal(cfg.exports[0].squash, CONF_SQUASH_ROOT);
	assert_int_equal(cfg.exports[0].anon_uid, 99);
	assert_int_equal(cfg.exports[0].anon_gid, 98);
	assert_int_equal(cfg.exports[0].src_line, 14);
	assert_string_equal(cfg.exports[1].path, "/base/b");
	assert_int_equal(cfg.exports[1].access, CONF_ACCESS_NONE);
	assert_int_equal(cfg.exports[1].squash, CONF_SQUASH_ALL);
	assert_int_equal(cfg.exports[1].anon_uid, 65534);
}

static void test_conf_defaults(void **state)
{
	assert_int_equal(load_text(NFSV4_OK EXPORT_OK), 0);
	assert_string_equal(cfg.bind_addr, "0.0.0.0");
	assert_int_equal(cfg.nfs_port, 2049);
	assert_int_equal(cfg.threads, 8);
	assert_int_equal(cfg.max_record_size, (1u << 20) + (64u << 10));
	assert_int_equal(cfg.conn.max_connections, 4096);
	assert_int_equal(cfg.conn.record_timeout, 30);
	assert_int_equal(cfg.conn.idle_unbound_timeout, 120);
	assert_int_equal(cfg.conn.max_partial_record_bytes, 256ull << 20);
	assert_int_equal(cfg.lease_lifetime, 90);
	assert_int_equal(cfg.grace_period, 90);
	assert_string_equal(cfg.domain, "localdomain");
	assert_false(cfg.deleg_timestamps);
	assert_false(cfg.open_xor_delegation);
	assert_int_equal(cfg.exports[0].squash, CONF_SQUASH_NONE);
	assert_int_equal(cfg.exports[0].access, CONF_ACCESS_RW);
	assert_false(cfg.metrics_on);   /* metrics only with a METRICS block */
}

/* The METRICS block turns the endpoint on; its keys default to loopback
 * and 9740, and both can be set (port 0: any free port). */
static void test_conf_metrics(void **state)
{
	(void)state;
	assert_int_equal(load_text(NFSV4_OK "METRICS { }\n" EXPORT_OK), 0);
	assert_true(cfg.metrics_on);
	assert_string_equal(cfg.metrics_addr, "127.0.0.1");
	assert_int_equal(cfg.metrics_port, 9740);
	assert_int_equal(load_text(NFSV4_OK "metrics { Metrics_Addr = ::1; Metrics_Port = 0; }\n"
				   EXPORT_OK), 0);
	assert_true(cfg.metrics_on);
	assert_string_equal(cfg.metrics_addr, "::1");
	assert_int_equal(cfg.metrics_port, 0);
	expect_error(NFSV4_OK "METRICS { Metrics_Port = 65536; }\n" EXPORT_OK, 2, "Metrics_Port",
		     "range");
	expect_error(NFSV4_OK "METRICS { Metrics_Addr = localhost; }\n" EXPORT_OK, 2,
		     "Metrics_Addr", NULL);
	expect_error(NFSV4_OK "METRICS { }\nMETRICS { }\n" EXPORT_OK, 3, "METRICS", "twice");
	expect_error(NFSV4_OK "METRICS { Port = 1; }\n" EXPORT_OK, 2, "Port", "unknown");
}

static void test_conf_errors(void **state)
{
	expect_error(NFSV4_OK "FOO { x = 1; }\n" EXPORT_OK, 2, "FOO", "unknown");
	expect_error(NFSV4_OK "\nNFS_CORE_PARAM {\n  Colour = blue;\n}\n" EXPORT_OK, 4, "Colour", "unknown");
	expect_error(NFSV4_OK "NFS_CORE_PARAM { NFS_Port = 0; }\n" EXPORT_OK, 2, "NFS_Port", "range");
	expect_error(NFSV4_OK "NFS_CORE_PARAM { NFS_Port = 65536; }\n" EXPORT_OK, 2, "NFS_Port", "range");
	expect_error(NFSV4_OK "NFS_CORE_PARAM { NFS_Port = 20x; }\n" EXPORT_OK, 2, "NFS_Port", "number");
	expect_error(NFSV4_OK "NFS_CORE_PARAM { Threads = 0; }\n" EXPORT_OK, 2, "Threads", "range");
	expect_error(NFSV4_OK "NFS_CORE_PARAM { Threads = 1025; }\n" EXPORT_OK, 2, "Threads", NULL);
	expect_error(NFSV4_OK "NFS_CORE_PARAM { Threads = -1; }\n" EXPORT_OK, 2, "Threads", NULL);
	expect_error(NFSV4_OK "NFS_CORE_PARAM { Max_Record_Size = 4096; }\n" EXPORT_OK, 2, "Max_Record_Size", NULL);
	expect_error(NFSV4_OK "NFS_CORE_PARAM { Max_Record_Size = 65M; }\n" EXPORT_OK, 2, "Max_Record_Size", NULL);
	expect_error(NFSV4_OK "NFS_CORE_PARAM { Bind_Addr = localhost; }\n" EXPORT_OK, 2, "Bind_Addr", NULL);
	expect_error(NFSV4_OK "NFS_CORE_PARAM { Max_Connections = 0; }\n" EXPORT_OK, 2, "Max_Connections", "range");
	expect_error(NFSV4_OK "NFS_CORE_PARAM { Record_Timeout = 0; }\n" EXPORT_OK, 2, "Record_Timeout", "range");
	expect_error(NFSV4_OK "NFS_CORE_PARAM { Record_Timeout = 3601; }\n" EXPORT_OK, 2, "Record_Timeout", NULL);
	expect_error(NFSV4_OK "NFS_CORE_PARAM { Idle_Unbound_Timeout = 1d; }\n" EXPORT_OK, 2,
		     "Idle_Unbound_Timeout", "number");
	expect_error(NFSV4_OK "\nNFS_CORE_PARAM {\n Max_Record_Size = 2M;\n Max_Partial_Record_Bytes = 1M; }\n"
		     EXPORT_OK, 3, "Max_Partial_Record_Bytes", "Max_Record_Size");
	expect_error(NFSV4_OK "NFS_CORE_PARAM { Threads = 2; Threads = 3; }\n" EXPORT_OK, 2, "Threads", "twice");
	expect_error(NFSV4_OK "NFS_CORE_PARAM { }\nNFS_CORE_PARAM { }\n" EXPORT_OK, 3, "NFS_CORE_PARAM", "twice");
	expect_error("NFSV4 { Recovery_Dir = /x; Lease_Lifetime = 5; }\n" EXPORT_OK, 1, "Lease_Lifetime", NULL);
	expect_error("NFSV4 { Recovery_Dir = /x; Lease_Lifetime = 3601; }\n" EXPORT_OK, 1, "Lease_Lifetime", NULL);
	expect_error("NFSV4 { Recovery_Dir = /x; Lease_Lifetime = 60; Grace_Period = 30; }\n" EXPORT_OK,
		     1, "Grace_Period", "Lease_Lifetime");
	expect_error("NFSV4 { Recovery_Dir = x/y; }\n" EXPORT_OK, 1, "Recovery_Dir", "absolute");
	expect_error("NFSV4 { Lease_Lifetime = 60; }\n" EXPORT_OK, 1, "Recovery_Dir", "required");
	expect_error(EXPORT_OK, 1, "Recovery_Dir", "required");
	expect_error("NFSV4 { Recovery_Dir = /x; Delegated_Timestamps = maybe; }\n" EXPORT_OK, 1,
		     "Delegated_Timestamps", "true or false");
	expect_error(NFSV4_OK "LOG { Level = loud; }\n" EXPORT_OK, 2, "Level", "loud");
	expect_error(NFSV4_OK "LOG { Destination = file; }\n" EXPORT_OK, 2, "Destination", NULL);
	expect_error(NFSV4_OK, 1, "EXPORT", "at least one");
	expect_error(NFSV4_OK "EXPORT { Export_Id = 1; Path = srv; Pseudo = /; }\n", 2, "Path", "absolute");
	expect_error(NFSV4_OK "EXPORT { Export_Id = 1; Path = /srv; Pseudo = a; }\n", 2, "Pseudo", "absolute");
	expect_error(NFSV4_OK "EXPORT { Export_Id = 1; Path = /srv; Pseudo = /a/../b; }\n", 2, "Pseudo", "..");
	expect_error(NFSV4_OK "EXPORT { Export_Id = 0; Path = /srv; Pseudo = /; }\n", 2, "Export_Id", "range");
	expect_error(NFSV4_OK "EXPORT { Path = /srv; Pseudo = /; }\n", 2, "Export_Id", "required");
	expect_error(NFSV4_OK "EXPORT { Export_Id = 1; Path = /srv; Pseudo = /;\n Access_Type = WO; }\n",
		     3, "Access_Type", NULL);
	expect_error(NFSV4_OK "EXPORT { Export_Id = 1; Path = /srv; Pseudo = /; Squash = some; }\n",
		     2, "Squash", NULL);
	expect_error(NFSV4_OK EXPORT_OK "EXPORT { Export_Id = 1; Path = /srv/b; Pseudo = /b; }\n",
		     3, "Export_Id", "line 2");
	expect_error(NFSV4_OK EXPORT_OK "EXPORT { Export_Id = 2; Path = /srv/b; Pseudo = //; }\n",
		     3, "Pseudo", "already");
	expect_error(NFSV4_OK "EXPORT { Export_Id = 1; Path = \"/srv\n; Pseudo = /; }\n", 2, "unterminated", NULL);
	expect_error(NFSV4_OK "EXPORT { Export_Id = 1 Path = /srv; }\n", 2, "Export_Id", "';'");
	expect_error(NFSV4_OK "EXPORT { Export_Id = 1; Path = /srv; Pseudo = /;\n", 2, "EXPORT", "'}'");
	expect_error(NFSV4_OK "EXPORT { Export_Id; }\n", 2, "Export_Id", "'='");
}

static void test_conf_missing_file(void **state)
{
	assert_int_equal(conf_load("/nonexistent/daxnfs.conf", NULL, &cfg, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/daxnfs.conf"));
}

static void test_conf_log_levels(void **state)
{
	enum log_level l;

	assert_int_equal(log_level_parse("Trace", &l), 0);
	assert_int_equal(l, LOG_LVL_TRACE);
	assert_int_equal(log_level_parse("error", &l), 0);
	assert_int_equal(l, LOG_LVL_ERROR);
	assert_int_equal(log_level_parse("verbose", &l), -EINVAL);
	assert_int_equal(log_set_destination("stderr"), 0);
	assert_int_equal(log_set_destination("printer"), -EINVAL);
	log_set_level(LOG_LVL_WARN);
	assert_int_equal(log_get_level(), LOG_LVL_WARN);
	log_set_level(LOG_LVL_INFO);
}

/* Every sample shipped in conf/sample parses (found relative to this file). */
static void test_conf_samples_parse(void **state)
{
	char pat[4096];
	const char *slash = strrchr(__FILE__, '/');
	glob_t g;
	size_t i;

	assert_non_null(slash);
	snprintf(pat, sizeof(pat), "%.*s/../../conf/sample/*.conf", (int)(slash - __FILE__), __FILE__);
	assert_int_equal(glob(pat, 0, NULL, &g), 0);
	assert_true(g.gl_pathc >= 3);
	for (i = 0; i < g.gl_pathc; i++) {
		if (conf_load(g.gl_pathv[i], "/base", &cfg, err, sizeof(err)) != 0)
			fail_msg("%s", err);
		assert_true(cfg.n_exports >= 1);
	}
	globfree(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf_embedded_default),
		cmocka_unit_test(test_conf_full_file),
		cmocka_unit_test(test_conf_defaults),
		cmocka_unit_test(test_conf_errors),
		cmocka_unit_test(test_conf_metrics),
		cmocka_unit_test(test_conf_missing_file),
		cmocka_unit_test(test_conf_log_levels),
		cmocka_unit_test(test_conf_samples_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
