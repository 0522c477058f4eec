/*
 * conf/conf_keys_roff.c: the generator of daxnfs.conf(5) (a build tool,
 * not installed).
 *
 *   conf_keys_roff TEMPLATE OUTPUT
 *
 * Job: copy the roff TEMPLATE (docs/man/daxnfs.conf.5.in) to OUTPUT,
 * replacing each line "@KEYS BLOCK@" with every key of that block as the
 * parser's own table describes it (conf_key_describe: allowed values,
 * default, unit, what it does), so that the man page cannot drift from the
 * parser. `x` in a description becomes bold x; roff's special characters
 * are escaped, and a non-ASCII character is written as \[uXXXX].
 * Calls: conf/conf (conf_key_describe). Called by: the build (CMake custom
 * command in conf/CMakeLists.txt).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"

/* One UTF-8 character at p as roff's \[uXXXX] (groff's glyph for it,
 * whatever the output device); the bytes used. A broken sequence is one
 * byte, written as '?'. */
static int put_utf8(FILE *out, const char *p)
{
	const unsigned char *u = (const unsigned char *)p;
	unsigned cp, n, i;

	if (u[0] >= 0xf0 && u[0] < 0xf8) {
		cp = u[0] & 0x07;
		n = 4;
	} else if (u[0] >= 0xe0) {
		cp = u[0] & 0x0f;
		n = 3;
	} else if (u[0] >= 0xc0) {
		cp = u[0] & 0x1f;
		n = 2;
	} else {
		fputc('?', out);
		return 1;
	}
	for (i = 1; i < n; i++) {
		if ((u[i] & 0xc0) != 0x80) {
			fputc('?', out);
			return 1;
		}
		cp = cp << 6 | (u[i] & 0x3f);
	}
	fprintf(out, "\\[u%04X]", cp);
	return (int)n;
}

/* Writes text as roff running text: `x` bold, '\' and '-' escaped, and a
 * '.' or '\'' at the start of an output line kept literal. */
static void put_roff(FILE *out, const char *text)
{
	bool bold = false, line_start = true;
	const char *p;

	for (p = text; *p; p++) {
		if (line_start && (*p == '.' || *p == '\''))
			fputs("\\&", out);
		line_start = false;
		switch (*p) {
		case '`':
			fputs(bold ? "\\fR" : "\\fB", out);
			bold = !bold;
			break;
		case '\\':
			fputs("\\e", out);
			break;
		case '-':
			fputs("\\-", out);
			break;
		case '\n':
			fputc('\n', out);
			line_start = true;
			break;
		default:
			if ((unsigned char)*p >= 0x80)
				p += put_utf8(out, p) - 1;
			else
				fputc(*p, out);
		}
	}
	if (bold)
		fputs("\\fR", out);
}

static int put_block(FILE *out, const char *block)
{
	struct conf_key_info k;
	unsigned i, n = 0;
	int rc;

	for (i = 0; (rc = conf_key_describe(i, &k)) == 0; i++) {
		if (strcmp(k.block, block) != 0)
			continue;
		fprintf(out, ".TP\n\\fB%s\\fR (", k.name);
		if (k.required) {
			fputs("required; ", out);
		} else {
			fputs("default ", out);
			put_roff(out, k.def[0] ? k.def : "none");
			fputs("; ", out);
		}
		put_roff(out, k.allowed);
		if (k.unit)
			fprintf(out, " %s", k.unit);
		fputs(")\n", out);
		put_roff(out, k.doc);
		fputc('\n', out);
		n++;
	}
	if (rc != -ENOENT)
		return rc;
	return n ? 0 : -ENOENT;
}

int main(int argc, char **argv)
{
	char line[4096], block[64];
	FILE *in, *out;
	int rc = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: conf_keys_roff TEMPLATE OUTPUT\n");
		return 2;
	}
	in = fopen(argv[1], "r");
	if (!in) {
		fprintf(stderr, "conf_keys_roff: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	out = fopen(argv[2], "w");
	if (!out) {
		fprintf(stderr, "conf_keys_roff: %s: %s\n", argv[2], strerror(errno));
		fclose(in);
		return 1;
	}
	while (rc == 0 && fgets(line, sizeof(line), in)) {
		if (sscanf(line, "@KEYS %63[A-Z0-9_]@", block) == 1) {
			rc = put_block(out, block);
			if (rc < 0)
				fprintf(stderr, "conf_keys_roff: block %s: %s\n", block,
					rc == -ENOENT ? "no such block, or no keys" : strerror(-rc));
		} else {
			fputs(line, out);
		}
	}
	if (ferror(in) || fclose(out) != 0) {
		fprintf(stderr, "conf_keys_roff: %s: write or read error\n", argv[2]);
		rc = -EIO;
	}
	fclose(in);
	if (rc < 0)
		remove(argv[2]);
	return rc < 0 ? 1 : 0;
}
