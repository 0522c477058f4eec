/*
 * tests/unit/test_rpc_netaddr.c: addresses as text (rpc/netaddr.c): parsing
 * literals, the log form, and RFC 5665 universal addresses (what a pNFS
 * client is told to connect to), IPv4-mapped IPv6 given as IPv4.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rpc/netaddr.h"

static void test_parse_and_format(void **state)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char buf[64];

	(void)state;
	assert_int_equal(rpc_addr_parse("10.0.2.15", 2049, &ss, &len), 0);
	rpc_addr_format((struct sockaddr *)&ss, buf, sizeof(buf));
	assert_string_equal(buf, "10.0.2.15:2049");
	assert_int_equal(rpc_addr_parse("fe80::1", 20049, &ss, &len), 0);
	rpc_addr_format((struct sockaddr *)&ss, buf, sizeof(buf));
	assert_string_equal(buf, "[fe80::1]:20049");
	assert_int_equal(rpc_addr_parse("host.example", 1, &ss, &len), -EINVAL);
}

static void test_universal_addresses(void **state)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char buf[64];
	bool v6 = true;

	(void)state;
	assert_int_equal(rpc_addr_parse("10.0.2.15", 0, &ss, &len), 0);
	assert_int_equal(rpc_addr_uaddr((struct sockaddr *)&ss, 2049, buf, sizeof(buf), &v6), 0);
	assert_string_equal(buf, "10.0.2.15.8.1");
	assert_false(v6);
	assert_int_equal(rpc_addr_uaddr((struct sockaddr *)&ss, 20049, buf, sizeof(buf), &v6), 0);
	assert_string_equal(buf, "10.0.2.15.78.81");
	assert_int_equal(rpc_addr_parse("::ffff:192.168.1.2", 0, &ss, &len), 0);
	assert_int_equal(rpc_addr_uaddr((struct sockaddr *)&ss, 2049, buf, sizeof(buf), &v6), 0);
	assert_string_equal(buf, "192.168.1.2.8.1");
	assert_false(v6);
	assert_int_equal(rpc_addr_parse("2001:db8::7", 0, &ss, &len), 0);
	assert_int_equal(rpc_addr_uaddr((struct sockaddr *)&ss, 2049, buf, sizeof(buf), &v6), 0);
	assert_string_equal(buf, "2001:db8::7.8.1");
	assert_true(v6);
	/* Too small a buffer is an error, never a cut address. */
	assert_int_equal(rpc_addr_uaddr((struct sockaddr *)&ss, 2049, buf, 8, &v6), -ENOSPC);
	assert_int_equal(rpc_addr_uaddr(NULL, 2049, buf, sizeof(buf), &v6), -EAFNOSUPPORT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_and_format),
		cmocka_unit_test(test_universal_addresses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
