/*
 * tests/unit/test_conf_keys.c: the parser's key table is the one source of
 * what the configuration accepts, and what is written about it follows:
 *  - every key is described (what it does, the values accepted, a default
 *    unless required);
 *  - docs/admin-guide.md's key tables list exactly the parser's keys, block
 *    by block, each with the parser's default;
 *  - the generated daxnfs.conf(5) (build/man/) names every key, and it and
 *    daxnfsd(8) render without a warning (`groff -ww -man -z`,
 *    `man --warnings`); skipped where groff or man is missing.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf/conf.h"

#define GUIDE DAXNFS_SOURCE_DIR "/docs/admin-guide.md"
#define MAN5 DAXNFS_BINARY_DIR "/man/man5/daxnfs.conf.5"
#define MAN8 DAXNFS_BINARY_DIR "/man/man8/daxnfsd.8"

static unsigned key_count(void)
{
	struct conf_key_info k;
	unsigned n = 0;

	while (conf_key_describe(n, &k) == 0)
		n++;
	return n;
}

static void test_every_key_described(void **state)
{
	struct conf_key_info k;
	unsigned i, n = key_count();

	(void)state;
	assert_true(n >= 30);
	for (i = 0; i < n; i++) {
		assert_int_equal(conf_key_describe(i, &k), 0);
		if (!k.doc || strlen(k.doc) < 5 || !k.allowed[0] || (!k.required && !k.def[0]))
			fail_msg("key %s/%s is not described whole", k.block, k.name);
	}
	assert_int_equal(conf_key_describe(n, &k), -ENOENT);
}

/* The (block, key, default) rows of the guide's "## Keys" tables: n rows
 * into rows[] ("BLOCK/Key" and the first `...` of the default column, or
 * "(required)"). */
struct guide_row {
	char key[96];
	char def[96];
};

static unsigned read_guide(struct guide_row *rows, unsigned cap)
{
	FILE *f = fopen(GUIDE, "r");
	char line[4096], block[32] = "";
	bool in_keys = false;
	unsigned n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char name[64], def[512];

		if (strncmp(line, "## ", 3) == 0) {
			in_keys = strncmp(line, "## Keys", 7) == 0;
			continue;
		}
		if (!in_keys)
			continue;
		if (sscanf(line, "### %31[A-Z0-9_]", block) == 1)
			continue;
		if (sscanf(line, "| `%63[A-Za-z0-9_]` | %511[^|]|", name, def) != 2)
			continue;
		assert_true(n < cap);
		snprintf(rows[n].key, sizeof(rows[n].key), "%s/%s", block, name);
		if (strstr(def, "(required)")) {
			snprintf(rows[n].def, sizeof(rows[n].def), "(required)");
		} else {
			char *a = strchr(def, '`'), *b = a ? strchr(a + 1, '`') : NULL;

			assert_non_null(b);
			snprintf(rows[n].def, sizeof(rows[n].def), "%.*s", (int)(b - a - 1), a + 1);
		}
		n++;
	}
	fclose(f);
	return n;
}

static void test_admin_guide_lists_the_parsers_keys(void **state)
{
	static struct guide_row rows[256];
	struct conf_key_info k;
	unsigned i, j, n = read_guide(rows, 256), keys = key_count();
	char key[96];

	(void)state;
	for (i = 0; i < keys; i++) {
		assert_int_equal(conf_key_describe(i, &k), 0);
		snprintf(key, sizeof(key), "%s/%s", k.block, k.name);
		for (j = 0; j < n && strcmp(rows[j].key, key); j++)
			;
		if (j == n)
			fail_msg("%s is in the parser's table but not in %s", key, GUIDE);
		/* the parser's default up to its first ',' (a default in words
		 * goes on: "30, or less to fit ...") */
		if (k.required ? strcmp(rows[j].def, "(required)") != 0
			       : strncmp(rows[j].def, k.def, strcspn(k.def, ",")) != 0 ||
				 strlen(rows[j].def) != strcspn(k.def, ","))
			fail_msg("%s: default '%s' in the guide, '%s' in the parser", key,
				 rows[j].def, k.required ? "(required)" : k.def);
	}
	if (n != keys)
		fail_msg("%s has %u key rows, the parser %u keys", GUIDE, n, keys);
}

/* Runs cmd with its stderr and stdout into out; its exit status. */
static int run_capture(const char *cmd, char *out, size_t cap)
{
	FILE *p = popen(cmd, "r");
	size_t n = 0;
	int st;

	assert_non_null(p);
	while (n + 1 < cap && fgets(out + n, (int)(cap - n), p))
		n += strlen(out + n);
	out[n] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_man_pages_name_every_key_and_render_clean(void **state)
{
	static char text[1 << 20], out[65536];
	struct conf_key_info k;
	unsigned i, keys = key_count();
	char needle[128];
	FILE *f;
	size_t n;

	(void)state;
	f = fopen(MAN5, "r");
	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	for (i = 0; i < keys; i++) {
		assert_int_equal(conf_key_describe(i, &k), 0);
		snprintf(needle, sizeof(needle), "\\fB%s\\fR (", k.name);
		if (!strstr(text, needle))
			fail_msg("%s does not describe key %s", MAN5, k.name);
	}
	if (access("/usr/bin/groff", X_OK) != 0 || access("/usr/bin/man", X_OK) != 0)
		skip();
	assert_int_equal(run_capture("groff -ww -man -z " MAN5 " " MAN8 " 2>&1", out, sizeof(out)),
			 0);
	if (out[0])
		fail_msg("groff warns: %s", out);
	/* the ASCII device too: a raw non-ASCII byte would warn here */
	assert_int_equal(run_capture("groff -ww -man -Tascii -z " MAN5 " " MAN8 " 2>&1", out,
				     sizeof(out)), 0);
	if (out[0])
		fail_msg("groff warns: %s", out);
	assert_int_equal(run_capture("MANWIDTH=80 man --warnings -l " MAN5 " 2>&1 >/dev/null", out,
				     sizeof(out)), 0);
	if (out[0])
		fail_msg("man warns on daxnfs.conf(5): %s", out);
	assert_int_equal(run_capture("MANWIDTH=80 man --warnings -l " MAN8 " 2>&1 >/dev/null", out,
				     sizeof(out)), 0);
	if (out[0])
		fail_msg("man warns on daxnfsd(8): %s", out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_key_described),
		cmocka_unit_test(test_admin_guide_lists_the_parsers_keys),
		cmocka_unit_test(test_man_pages_name_every_key_and_render_clean),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
