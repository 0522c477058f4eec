/*
 * tests/proto/lib/proto_proc.c: the daemon's figures from /proc and its log
 * (see proto_proc.h).
 */
#include "tests/proto/lib/proto_proc.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int64_t proto_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void proto_sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int proto_proc_cpu_ms(pid_t pid, int64_t *ms)
{
	char path[64], buf[2048], *p;
	unsigned long long utime, stime;
	long hz = sysconf(_SC_CLK_TCK);
	size_t n;
	FILE *f;
	int rc = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	/* the command name may hold spaces and parentheses: fields start after the last ')' */
	p = strrchr(buf, ')');
	/* after ')': state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt
	 * majflt cmajflt utime(14) stime(15) */
	if (!p || hz <= 0 ||
	    sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
		   &utime, &stime) != 2)
		rc = -EPROTO;
	else
		*ms = (int64_t)((utime + stime) * 1000 / (unsigned long long)hz);
	fclose(f);
	return rc;
}

int proto_proc_rss_kib(pid_t pid, long *kib)
{
	char path[64], line[256];
	FILE *f;
	int rc = -EPROTO;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "VmRSS: %ld kB", kib) == 1) {
			rc = 0;
			break;
		}
	}
	fclose(f);
	return rc;
}

static int int_cmp(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

int proto_proc_fds_on(pid_t pid, const char *want, int *fds, int cap)
{
	char dir[64], link[PATH_MAX + 64], target[PATH_MAX + 64];
	struct dirent *de;
	int n = 0, kept = 0;
	ssize_t len;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", dir, de->d_name);
		len = readlink(link, target, sizeof(target) - 1);
		if (len < 0)
			continue;   /* closed meanwhile */
		target[len] = '\0';
		if (strcmp(target, want) != 0)
			continue;
		if (kept < cap)
			fds[kept++] = atoi(de->d_name);
		n++;
	}
	closedir(d);
	qsort(fds, (size_t)kept, sizeof(int), int_cmp);
	return n;
}

long proto_file_size(const char *path)
{
	FILE *f = fopen(path, "r");
	long n;

	if (!f)
		return -errno;
	n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -EIO;
	fclose(f);
	return n;
}

long proto_log_count(const char *path, long offset, const char *needle, long max_lines)
{
	char line[4096];
	FILE *f = fopen(path, "r");
	long count = 0;

	if (!f)
		return -errno;
	if (fseek(f, offset, SEEK_SET) != 0) {
		fclose(f);
		return -EIO;
	}
	while (count < max_lines && fgets(line, sizeof(line), f))
		if (strstr(line, needle))
			count++;
	fclose(f);
	return count;
}

bool proto_under_valgrind(void)
{
	const char *v = getenv("DAXNFS_TEST_VALGRIND");

	return v && *v;
}
