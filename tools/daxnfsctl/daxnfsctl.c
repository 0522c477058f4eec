/*
 * tools/daxnfsctl/daxnfsctl.c: daxnfsctl, the administrator's view into a
 * running daxnfsd and its levers, over the daemon's administration socket
 * (server/nfs4_admin.h: NFS_CORE_PARAM Admin_Socket, root only).
 *
 * usage: daxnfsctl [-s SOCKET] [-j] COMMAND [ARGS]
 *   show                        clients, sessions, delegations and layouts per
 *                               file, recalls in flight with their deadlines
 *   recall file FILEID | client CLIENTID
 *   revoke file FILEID | client CLIENTID
 *   set recall-timeout SECONDS
 * -j asks for JSON; -s names the socket (default /run/daxnfsd/admin.sock).
 * Exit status: 0 when the daemon did what was asked, 1 when it refused (the
 * reason is printed), 2 for a usage error or no daemon to talk to.
 * The daemon does all the work and writes the answer; this only carries the
 * command there and the answer back.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define DEFAULT_SOCKET "/run/daxnfsd/admin.sock"
#define LINE_MAX_BYTES 256
#define TIMEOUT_MS 30000
#define ANSWER_MAX (32 << 20)   /* the daemon's answers stop at 16 MiB */

static void usage(FILE *f)
{
	fprintf(f, "usage: daxnfsctl [-s SOCKET] [-j] COMMAND [ARGS]\n"
		   "  show                               clients, delegations, layouts, recalls\n"
		   "  recall file FILEID | client ID     CB_LAYOUTRECALL to the holders\n"
		   "  revoke file FILEID | client ID     revoke the layouts now\n"
		   "  set recall-timeout SECONDS         change Recall_Timeout\n"
		   "  -j  JSON instead of text; -s  the socket (default " DEFAULT_SOCKET ")\n");
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = DEFAULT_SOCKET;
	char line[LINE_MAX_BYTES], *ans = NULL;
	bool json = false, refused;
	size_t len, cap = 0;
	int opt, fd, i;

	while ((opt = getopt(argc, argv, "s:jh")) != -1) {
		switch (opt) {
		case 's': path = optarg; break;
		case 'j': json = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	len = (size_t)snprintf(line, sizeof(line), "%s", json ? "json" : "text");
	for (i = optind; i < argc && len < sizeof(line); i++) {
		if (strpbrk(argv[i], " \t\n")) {
			fprintf(stderr, "daxnfsctl: '%s': an argument has no spaces\n", argv[i]);
			return 2;
		}
		len += (size_t)snprintf(line + len, sizeof(line) - len, " %s", argv[i]);
	}
	if (len + 2 > sizeof(line)) {
		fprintf(stderr, "daxnfsctl: the command is longer than %d bytes\n", LINE_MAX_BYTES - 2);
		return 2;
	}
	line[len++] = '\n';
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "daxnfsctl: %s: too long for a socket path\n", path);
		return 2;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "daxnfsctl: %s: %s (is daxnfsd running, with this Admin_Socket?)\n",
			path, strerror(errno));
		return 2;
	}
	if (send(fd, line, len, MSG_NOSIGNAL) != (ssize_t)len) {
		fprintf(stderr, "daxnfsctl: sending the command: %s\n", strerror(errno));
		return 2;
	}
	shutdown(fd, SHUT_WR);
	len = 0;
	/* The whole answer first: the daemon ends every answer with a newline,
	 * and refuses whole (never half an answer); anything else is cut. */
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, TIMEOUT_MS) <= 0) {
			fprintf(stderr, "daxnfsctl: no answer within %d s\n", TIMEOUT_MS / 1000);
			return 2;
		}
		if (len == cap) {
			char *nb = cap < ANSWER_MAX ? realloc(ans, cap ? cap * 2 : 65536) : NULL;

			if (!nb) {
				fprintf(stderr, "daxnfsctl: the answer is larger than %d bytes\n", ANSWER_MAX);
				return 2;
			}
			ans = nb;
			cap = cap ? cap * 2 : 65536;
		}
		n = read(fd, ans + len, cap - len);
		if (n < 0) {
			fprintf(stderr, "daxnfsctl: reading the answer: %s\n", strerror(errno));
			return 2;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (len == 0 || ans[len - 1] != '\n') {
		if (len)
			fwrite(ans, 1, len, stdout);
		fprintf(stderr, "daxnfsctl: %s\n", len ? "the answer was cut off" :
			"the daemon closed the connection without an answer");
		free(ans);
		return 2;
	}
	refused = (len >= 7 && strncmp(ans, "error: ", 7) == 0) ||
		  (len >= 11 && strncmp(ans, "{\"ok\":false", 11) == 0);
	if (fwrite(ans, 1, len, stdout) != len) {
		free(ans);
		return 2;
	}
	free(ans);
	return refused ? 1 : 0;
}
