/*
 * NAME
 *	secret.c - passwords, tokens and API keys for transport plugins
 * DESCRIPTION
 *	A secret file (password_file, api_key_file, ...): its first line
 *	(without the line end).  The file
 *	must not be readable by others (mode o+r), or it is refused with a
 *	message saying so: a secret everyone can read is no secret.
 *
 *	A secret command (password_command, api_key_command, ...): argv
 *	run directly with execvp(3), never through a
 *	shell, with standard input on /dev/null; its first output line is
 *	the secret; it must exit 0 within the timeout or it is killed and
 *	refused.  Its standard error passes through to plume's, so
 *	"pass" or "gpg" can say what went wrong.
 *
 *	Secrets are wiped (explicit_bzero(3), never optimised away) when
 *	freed: no library is needed for it, so a plugin that reads a secret
 *	links libcrypto only if it uses it (the hook plugin loads it late).
 * DIAGNOSTICS
 *	NULL with one line in err naming the config key; never the secret
 *	itself.
 */
#define _GNU_SOURCE		/* pipe2, explicit_bzero */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "secret.h"

#define SECRET_MAX	8192

static char *
first_line(char *buf, size_t n)
{
	char *nl = memchr(buf, '\n', n), *out;
	size_t len = nl != NULL ? (size_t)(nl - buf) : n;

	if (len > 0 && buf[len - 1] == '\r')
		len--;
	if ((out = malloc(len + 1)) == NULL)
		return NULL;
	memcpy(out, buf, len);
	out[len] = '\0';
	return out;
}

char *
secret_from_file(const char *key, const char *path, char *err, size_t errlen)
{
	char buf[SECRET_MAX];
	struct stat st;
	ssize_t n;
	char *s;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd == -1) {
		snprintf(err, errlen, "cannot open %s %s: %s", key,
		    path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || (st.st_mode & S_IROTH)) {
		snprintf(err, errlen, "%s %s is readable by others: run "
		    "chmod o-r on it", key, path);
		close(fd);
		return NULL;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "cannot read %s %s: %s", key,
		    path, strerror(errno));
		return NULL;
	}
	s = first_line(buf, (size_t)n);
	explicit_bzero(buf, sizeof(buf));
	if (s == NULL)
		snprintf(err, errlen, "out of memory");
	return s;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *
secret_from_command(const char *key, const char *const *argv,
    int timeout_ms, char *err, size_t errlen)
{
	char buf[SECRET_MAX];
	size_t have = 0;
	int p[2], status = 0, devnull;
	int64_t deadline = now_ms() + timeout_ms;
	pid_t pid;
	char *s = NULL;
	bool timed_out = false;

	if (argv == NULL || argv[0] == NULL) {
		snprintf(err, errlen, "%s is empty", key);
		return NULL;
	}
	if (pipe2(p, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return NULL;
	}
	if ((pid = fork()) == -1) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return NULL;
	}
	if (pid == 0) {
		devnull = open("/dev/null", O_RDONLY);
		if (devnull == -1 || dup2(devnull, 0) == -1 ||
		    dup2(p[1], 1) == -1)
			_exit(127);
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "plume: %s %s: %s\n", key, argv[0],
		    strerror(errno));
		_exit(127);
	}
	close(p[1]);
	for (;;) {
		struct pollfd pfd = { p[0], POLLIN, 0 };
		int64_t left = deadline - now_ms();
		ssize_t r;

		if (left <= 0) {
			timed_out = true;
			break;
		}
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		r = read(p[0], buf + have, sizeof(buf) - have);
		if (r <= 0 || (have += (size_t)r) == sizeof(buf))
			break;
	}
	close(p[0]);
	if (timed_out)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (timed_out)
		snprintf(err, errlen, "%s %s did not finish within %d "
		    "ms", key, argv[0], timeout_ms);
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		snprintf(err, errlen, "%s %s failed (%s %d)", key, argv[0],
		    WIFEXITED(status) ? "exit status" : "signal",
		    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	else if ((s = first_line(buf, have)) == NULL)
		snprintf(err, errlen, "out of memory");
	explicit_bzero(buf, sizeof(buf));
	return s;
}

void
secret_free(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}
