/*
 * tests/proto/test_metrics.c: the Prometheus endpoint of daxnfsd (METRICS
 * block, libmicrohttpd), scraped over real HTTP while a protocol client
 * drives the server:
 *  - a WRITE moves daxnfs_nfs_written_bytes_total by exactly its length, a
 *    READ moves the READ counter by one and daxnfs_nfs_read_bytes_total by
 *    exactly what it read, and both appear in the latency histogram;
 *  - a forged file handle refused with NFS4ERR_BADHANDLE moves the PUTFH
 *    counter of that status by one;
 *  - the gauges follow the state (a snapshot the tick takes about once a
 *    second): one client and one session while the client holds them, an
 *    open stateid while a file is open;
 *  - a delegation recalled and returned moves daxnfs_recalls_total and the
 *    recall latency histogram's count by one;
 *  - anything but GET /metrics is 404 or 405, and the endpoint still
 *    serves afterwards;
 *  - `promtool check metrics` (Debian's prometheus) accepts a scrape, and
 *    `promtool check rules/config` the shipped dist/prometheus/ files;
 *  - a real Prometheus, started here on loopback with the shipped alert
 *    rules, scrapes daxnfsd, its HTTP API answers a query for a daxnfs
 *    series, and it has loaded the rules.
 * promtool and prometheus are installed by scripts/install-deps.sh; without
 * them those two cases are skipped.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/proto/lib/nfs4_client.h"
#include "tests/proto/lib/proto_proc.h"
#include "tests/proto/lib/proto_server.h"
#include "tests/proto/test_deleg_util.h"

#define PROMTOOL "/usr/bin/promtool"
#define PROMETHEUS "/usr/bin/prometheus"
#define ALERTS DAXNFS_SOURCE_DIR "/dist/prometheus/daxnfs-alerts.yml"
#define SAMPLE_CONFIG DAXNFS_SOURCE_DIR "/dist/prometheus/prometheus.yml"

static struct proto_server srv;
static uint16_t metrics_port;

/* The port of the "metrics on http://127.0.0.1:PORT/metrics" log line. */
static uint16_t find_metrics_port(void)
{
	int64_t end = proto_now_ms() + 20000;

	while (proto_now_ms() < end) {
		FILE *f = fopen(srv.log_path, "r");
		char line[1024];
		unsigned port = 0;

		if (f) {
			while (fgets(line, sizeof(line), f)) {
				const char *p = strstr(line, "metrics on http://127.0.0.1:");

				if (p && sscanf(p, "metrics on http://127.0.0.1:%u/", &port) == 1)
					break;
			}
			fclose(f);
		}
		if (port)
			return (uint16_t)port;
		proto_sleep_ms(100);
	}
	return 0;
}

static int setup(void **state)
{
	struct proto_server_opts o = { .extra_conf = "METRICS {\n\tMetrics_Port = 0;\n}\n" };

	(void)state;
	if (proto_server_start(&srv, "metrics", &o) < 0)
		return -1;
	cur = &srv;
	metrics_port = find_metrics_port();
	return metrics_port ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return proto_server_stop_checked(&srv);
}

/* One HTTP/1.0 exchange with 127.0.0.1:port: request is sent as it is; the
 * status code is returned (-1: no answer) and the body, malloc'd and
 * NUL-terminated, goes to *body when body is not NULL. */
static int http_exchange(uint16_t port, const char *request, char **body)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap);
	int fd, code = -1;
	const char *p;

	if (body)
		*body = NULL;
	if (!buf)
		return -1;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    write(fd, request, strlen(request)) != (ssize_t)strlen(request))
		goto out;
	for (;;) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (len + 1 == cap) {
			char *q = realloc(buf, cap * 2);

			if (!q)
				goto out;
			buf = q;
			cap *= 2;
		}
		if (poll(&pf, 1, 20000) != 1)
			goto out;
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (sscanf(buf, "HTTP/1.%*d %d", &code) != 1)
		code = -1;
	p = strstr(buf, "\r\n\r\n");
	if (body && p) {
		*body = strdup(p + 4);
		if (!*body)
			code = -1;
	}
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return code;
}

static char *scrape(void)
{
	char *body = NULL;

	assert_int_equal(http_exchange(metrics_port, "GET /metrics HTTP/1.0\r\n\r\n", &body), 200);
	assert_non_null(body);
	return body;
}

/* The value of the sample named exactly series ("name{labels}"); 0 when the
 * scrape has no such sample (a counter that never moved is left out). */
static double sample(const char *text, const char *series)
{
	size_t n = strlen(series);
	const char *p = text;

	while ((p = strstr(p, series))) {
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return strtod(p + n + 1, NULL);
		p += n;
	}
	return 0;
}

/* A scrape in which series is at least min: the NFSv4 gauges and totals
 * are a snapshot the server's tick takes about once a second. */
static char *scrape_until(const char *series, double min)
{
	int64_t end = proto_now_ms() + 15000;
	char *t = scrape();

	while (sample(t, series) < min && proto_now_ms() < end) {
		free(t);
		proto_sleep_ms(100);
		t = scrape();
	}
	return t;
}

static void test_read_write_move_counters_exactly(void **state)
{
	struct nfs4_cl *cl = NULL;
	struct nfs4_cl_compound cp;
	static uint8_t data[10000];
	double w0, r0, b0, h0, w1, r1, b1, h1;
	stateid4 sid;
	nfs_fh4 fh = { 0 };
	nfs_argop4 *op;
	char *t;

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	assert_int_equal(nfs4_cl_open_session(&cl, srv.host, srv.port, "metrics-io", 0), 0);
	assert_int_equal(nfs4_cl_reclaim_complete(cl), NFS4_OK);
	assert_int_equal(nfs4_cl_open_file(cl, "counted", true, OPEN4_SHARE_ACCESS_BOTH,
					   OPEN4_SHARE_DENY_NONE, &sid, &fh), NFS4_OK);
	t = scrape_until("daxnfs_stateids{type=\"open\"}", 1);
	w0 = sample(t, "daxnfs_nfs_written_bytes_total{transport=\"tcp\"}");
	r0 = sample(t, "daxnfs_nfs_operations_total{op=\"READ\",status=\"NFS4_OK\"}");
	b0 = sample(t, "daxnfs_nfs_read_bytes_total{transport=\"tcp\"}");
	h0 = sample(t, "daxnfs_nfs_operation_duration_seconds_count{op=\"READ\"}");
	assert_true(sample(t, "daxnfs_stateids{type=\"open\"}") >= 1);
	assert_true(sample(t, "daxnfs_clients") >= 1);
	assert_true(sample(t, "daxnfs_sessions") >= 1);
	/* every limit has its series from the start (0 until it refuses) */
	assert_non_null(strstr(t, "\ndaxnfs_limit_refusals_total{limit=\"Max_Clients\"} 0\n"));
	assert_non_null(strstr(t, "\ndaxnfs_limit_refusals_total{limit=\"Max_Stateids_Per_Client\"} 0\n"));
	free(t);

	nfs4_cl_compound_init(&cp, cl);
	op = nfs4_cl_add(&cp, OP_PUTFH);
	op->u.opputfh.object = fh;
	nfs4_cl_add_write(&cp, &sid, 0, data, sizeof(data), FILE_SYNC4);
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4_OK);
	nfs4_cl_compound_free(&cp);
	nfs4_cl_compound_init(&cp, cl);
	op = nfs4_cl_add(&cp, OP_PUTFH);
	op->u.opputfh.object = fh;
	nfs4_cl_add_read(&cp, &sid, 100, 7777);
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4_OK);
	assert_int_equal(nfs4_cl_res(&cp, OP_READ)->u.opread.u.resok4.data.len, 7777);
	nfs4_cl_compound_free(&cp);

	t = scrape();
	w1 = sample(t, "daxnfs_nfs_written_bytes_total{transport=\"tcp\"}");
	r1 = sample(t, "daxnfs_nfs_operations_total{op=\"READ\",status=\"NFS4_OK\"}");
	b1 = sample(t, "daxnfs_nfs_read_bytes_total{transport=\"tcp\"}");
	h1 = sample(t, "daxnfs_nfs_operation_duration_seconds_count{op=\"READ\"}");
	free(t);
	assert_true(w1 - w0 == (double)sizeof(data));
	assert_true(r1 - r0 == 1);
	assert_true(b1 - b0 == 7777);
	assert_true(h1 - h0 == 1);
	assert_int_equal(nfs4_cl_close_file(cl, &fh, &sid), NFS4_OK);
	free(fh.val);
	nfs4_cl_close(cl, true);
}

static void test_forged_handle_moves_error_counter(void **state)
{
	struct nfs4_cl *cl = NULL;
	struct nfs4_cl_compound cp;
	uint8_t forged[64];
	double e0, e1;
	nfs_argop4 *op;
	char *t;

	(void)state;
	for (size_t i = 0; i < sizeof(forged); i++)
		forged[i] = (uint8_t)(0xa5 ^ i);
	assert_int_equal(nfs4_cl_open_session(&cl, srv.host, srv.port, "metrics-fh", 0), 0);
	t = scrape();
	e0 = sample(t, "daxnfs_nfs_operations_total{op=\"PUTFH\",status=\"NFS4ERR_BADHANDLE\"}");
	free(t);
	nfs4_cl_compound_init(&cp, cl);
	op = nfs4_cl_add(&cp, OP_PUTFH);
	op->u.opputfh.object.len = sizeof(forged);
	op->u.opputfh.object.val = forged;
	nfs4_cl_add_getattr(&cp, 1u << FATTR4_TYPE, 0);
	assert_int_equal(nfs4_cl_send(&cp), 0);
	assert_int_equal(cp.status, NFS4ERR_BADHANDLE);
	op->u.opputfh.object.val = NULL;   /* not the compound's to free */
	op->u.opputfh.object.len = 0;
	nfs4_cl_compound_free(&cp);
	t = scrape();
	e1 = sample(t, "daxnfs_nfs_operations_total{op=\"PUTFH\",status=\"NFS4ERR_BADHANDLE\"}");
	free(t);
	assert_true(e1 - e0 == 1);
	nfs4_cl_close(cl, true);
}

static void test_recall_moves_recall_counters(void **state)
{
	struct recall_log la = { 0 };
	struct nfs4_cl *a = client_cb("metrics-deleg-a", &la), *b = client_plain("metrics-deleg-b");
	struct opened oa, ob;
	double r0, n0, r1, n1, g0, g1;
	stateid4 ds;
	char *t;

	(void)state;
	make_file(b, "recalled", "read delegated");
	t = scrape();
	r0 = sample(t, "daxnfs_recalls_total{state=\"delegation\"}");
	n0 = sample(t, "daxnfs_recall_duration_seconds_count{state=\"delegation\"}");
	g0 = sample(t, "daxnfs_delegations_granted_total");
	free(t);
	open_name(a, "recalled", false, OPEN4_SHARE_ACCESS_READ, &oa);
	assert_int_equal(oa.status, NFS4_OK);
	assert_int_equal(oa.deleg.delegation_type, OPEN_DELEGATE_READ);
	ds = deleg_sid(&oa);
	open_name(b, "recalled", false, OPEN4_SHARE_ACCESS_WRITE, &ob);
	assert_int_equal(ob.status, NFS4ERR_DELAY);
	wait_recall(a, &la, 1, 5000);
	assert_int_equal(la.n, 1);
	assert_int_equal(nfs4_cl_delegreturn(a, &oa.fh, &ds), NFS4_OK);
	open_until_granted(b, "recalled", OPEN4_SHARE_ACCESS_WRITE, 2000, &ob);
	assert_int_equal(ob.status, NFS4_OK);
	t = scrape_until("daxnfs_recall_duration_seconds_count{state=\"delegation\"}", n0 + 1);
	r1 = sample(t, "daxnfs_recalls_total{state=\"delegation\"}");
	n1 = sample(t, "daxnfs_recall_duration_seconds_count{state=\"delegation\"}");
	g1 = sample(t, "daxnfs_delegations_granted_total");
	free(t);
	assert_true(g1 - g0 == 1);
	assert_true(r1 - r0 == 1);
	assert_true(n1 - n0 == 1);
	close_opened(b, &ob);
	close_opened(a, &oa);
	nfs4_cl_close(a, true);
	nfs4_cl_close(b, true);
}

static void test_other_requests_refused_endpoint_serves_on(void **state)
{
	char *body = NULL;

	(void)state;
	assert_int_equal(http_exchange(metrics_port, "GET / HTTP/1.0\r\n\r\n", NULL), 404);
	assert_int_equal(http_exchange(metrics_port, "GET /metrics/../etc HTTP/1.0\r\n\r\n", NULL),
			 404);
	assert_int_equal(http_exchange(metrics_port,
				       "POST /metrics HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello",
				       NULL), 405);
	assert_true(http_exchange(metrics_port, "\x01\x02 garbage\r\n\r\n", NULL) != 200);
	assert_int_equal(http_exchange(metrics_port, "HEAD /metrics HTTP/1.0\r\n\r\n", &body), 200);
	free(body);
	free(scrape());
}

/* Runs argv with stdin from in (may be NULL); its exit status, and its
 * output (stdout and stderr) printed. */
static int run_with_input(char *const argv[], const char *in)
{
	int pin[2];
	pid_t pid;
	int st;

	assert_int_equal(pipe(pin), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(pin[0], 0);
		close(pin[0]);
		close(pin[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pin[0]);
	if (in) {
		size_t n = strlen(in), off = 0;

		while (off < n) {
			ssize_t w = write(pin[1], in + off, n - off);

			if (w <= 0)
				break;
			off += (size_t)w;
		}
	}
	close(pin[1]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void test_promtool_accepts_scrape(void **state)
{
	char *const argv[] = { PROMTOOL, "check", "metrics", NULL };
	char *const rules[] = { PROMTOOL, "check", "rules", ALERTS, NULL };
	char *const config[] = { PROMTOOL, "check", "config", SAMPLE_CONFIG, NULL };
	char *t;

	(void)state;
	if (access(PROMTOOL, X_OK) != 0)
		skip();
	t = scrape();
	assert_int_equal(run_with_input(argv, t), 0);
	free(t);
	/* the shipped sample scrape config and alert rules */
	assert_int_equal(run_with_input(rules, NULL), 0);
	assert_int_equal(run_with_input(config, NULL), 0);
}

/* A free TCP port on loopback (bound and released: good enough here). */
static uint16_t free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static void test_prometheus_scrapes_and_answers_query(void **state)
{
	char dir[PATH_MAX], conf[PATH_MAX + 32], data[PATH_MAX + 32], log[PATH_MAX + 32];
	char cfg_arg[PATH_MAX + 64], data_arg[PATH_MAX + 64], listen_arg[64], req[256];
	uint16_t web = free_port();
	bool found = false, rules_loaded = false;
	int64_t end;
	FILE *f;
	pid_t pid;
	int st;

	(void)state;
	if (access(PROMETHEUS, X_OK) != 0)
		skip();
	snprintf(dir, sizeof(dir), "%s", srv.dir);
	snprintf(conf, sizeof(conf), "%s/prometheus.yml", dir);
	snprintf(data, sizeof(data), "%s/prometheus-data", dir);
	snprintf(log, sizeof(log), "%s/prometheus.log", dir);
	f = fopen(conf, "w");
	assert_non_null(f);
	fprintf(f, "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
		   "  evaluation_interval: 1s\n"
		   "rule_files:\n  - %s\n"
		   "scrape_configs:\n  - job_name: daxnfsd\n"
		   "    static_configs:\n      - targets: ['127.0.0.1:%u']\n", ALERTS, metrics_port);
	fclose(f);
	snprintf(cfg_arg, sizeof(cfg_arg), "--config.file=%s", conf);
	snprintf(data_arg, sizeof(data_arg), "--storage.tsdb.path=%s", data);
	snprintf(listen_arg, sizeof(listen_arg), "--web.listen-address=127.0.0.1:%u", web);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(PROMETHEUS, PROMETHEUS, cfg_arg, data_arg, listen_arg, (char *)NULL);
		_exit(127);
	}
	/* The series appears once Prometheus has scraped once: a few seconds. */
	snprintf(req, sizeof(req), "GET /api/v1/query?query=daxnfs_clients HTTP/1.0\r\n\r\n");
	end = proto_now_ms() + 90000;
	while (!found && proto_now_ms() < end) {
		char *body = NULL;

		if (http_exchange(web, req, &body) == 200 && body &&
		    strstr(body, "\"status\":\"success\"") &&
		    strstr(body, "\"__name__\":\"daxnfs_clients\""))
			found = true;
		free(body);
		if (!found)
			proto_sleep_ms(500);
	}
	/* and it loaded the shipped alert rules */
	if (found) {
		char *body = NULL;

		snprintf(req, sizeof(req), "GET /api/v1/rules HTTP/1.0\r\n\r\n");
		rules_loaded = http_exchange(web, req, &body) == 200 && body &&
			       strstr(body, "\"DaxnfsStateRevoked\"") &&
			       strstr(body, "\"DaxnfsRecallsSlow\"");
		free(body);
	}
	kill(pid, SIGTERM);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (!found) {
		char line[512];

		f = fopen(log, "r");
		while (f && fgets(line, sizeof(line), f))
			print_message("prometheus: %s", line);
		if (f)
			fclose(f);
	}
	assert_true(found);
	assert_true(rules_loaded);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_write_move_counters_exactly),
		cmocka_unit_test(test_forged_handle_moves_error_counter),
		cmocka_unit_test(test_recall_moves_recall_counters),
		cmocka_unit_test(test_other_requests_refused_endpoint_serves_on),
		cmocka_unit_test(test_promtool_accepts_scrape),
		cmocka_unit_test(test_prometheus_scrapes_and_answers_query),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
