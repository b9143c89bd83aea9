/*
 * worker.c - run one message's processing in a forked, limited child
 *
 * The child, in this order:
 *   - ignores SIGTERM, SIGINT and SIGHUP, so that a daemon being stopped
 *     lets the current message finish (its transaction commits or rolls
 *     back as a whole; the daemon handles the signal and waits); the
 *     wall-clock limit still applies, and SIGKILL ends it in any case;
 *   - dies with the parent (PR_SET_PDEATHSIG, SIGKILL): an orphan must
 *     not race the next daemon on the same message;
 *   - gets RLIMIT_CORE 0 (a hostile message's bytes stay out of core
 *     files) and RLIMIT_AS mem_bytes, except under AddressSanitizer,
 *     which reserves terabytes of address space;
 *   - runs fn, writes one status byte ('O' or 'F') and the error text
 *     (at most WORKER_TEXT_MAX bytes) to a pipe, and _exit()s.
 * The parent reads the pipe and polls waitpid(WNOHANG) until the child is
 * gone or the deadline passes; at the deadline it sends SIGKILL and reaps
 * the child.  An exit without a status byte (fn called exit()) counts as
 * a failure, never as success.
 *
 * The caller must not set SIGCHLD to SIG_IGN (children would reap
 * themselves and waitpid() would fail with ECHILD).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "worker.h"

#if defined(__SANITIZE_ADDRESS__)
#define WORKER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WORKER_ASAN 1
#endif
#endif
#ifndef WORKER_ASAN
#define WORKER_ASAN 0
#endif

#define WORKER_TEXT_MAX 4096 /* bytes of error text from the child */
#define WORKER_POLL_MS 100   /* waitpid() interval while the pipe is open */
#define WORKER_REAP_MS 5     /* ... after it closed (the child is exiting) */

static void
worker_ignore(int sig)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static void
worker_write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

static G_NORETURN void
worker_child(worker_fn fn, void *ctx, uint64_t mem_bytes, int fd,
	     pid_t parent)
{
	char buf[WORKER_TEXT_MAX];
	GError *err = NULL;
	struct rlimit rl;
	size_t len = 1;
	bool ok;

	worker_ignore(SIGTERM);
	worker_ignore(SIGINT);
	worker_ignore(SIGHUP);
	worker_ignore(SIGPIPE);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
		_exit(3);
	rl.rlim_cur = rl.rlim_max = 0;
	setrlimit(RLIMIT_CORE, &rl);
	if (!WORKER_ASAN && mem_bytes > 0) {
		rl.rlim_cur = rl.rlim_max = (rlim_t)mem_bytes;
		if (setrlimit(RLIMIT_AS, &rl) != 0)
			_exit(4);
	}

	ok = fn(ctx, &err);

	buf[0] = ok ? 'O' : 'F';
	if (!ok) {
		const char *msg = err && err->message ? err->message :
			"failed without an error message";

		len += strlen(msg);
		if (len > sizeof(buf))
			len = sizeof(buf);
		memcpy(buf + 1, msg, len - 1);
	}
	worker_write_all(fd, buf, len);
	fflush(NULL);
	_exit(ok ? 0 : 1);
}

/* Reads what is available; *open_r false at end of file. */
static void
worker_drain(int fd, char *text, size_t *len, bool *open_r)
{
	char junk[512];

	while (*open_r) {
		size_t room = WORKER_TEXT_MAX - *len;
		ssize_t n;

		if (room > 0)
			n = read(fd, text + *len, room);
		else
			n = read(fd, junk, sizeof(junk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return; /* EAGAIN: nothing more for now */
		if (n == 0) {
			*open_r = false;
			return;
		}
		if (room > 0)
			*len += (size_t)n;
	}
}

static char *
worker_describe(int status, bool killed, unsigned seconds,
		uint64_t mem_bytes, const char *text, size_t len,
		enum worker_status *st_r)
{
	int sig;

	if (killed) {
		*st_r = WORKER_TIMEOUT;
		return g_strdup_printf("the worker ran longer than the limit "
				       "of %u seconds ([limits] "
				       "worker_seconds) and was killed",
				       seconds);
	}
	if (WIFSIGNALED(status)) {
		sig = WTERMSIG(status);
		*st_r = WORKER_CRASHED;
		if (sig == SIGKILL)
			return g_strdup_printf("the worker was killed by "
					       "signal %d (%s), perhaps for "
					       "lack of memory", sig,
					       g_strsignal(sig));
		if (mem_bytes > 0 && !WORKER_ASAN)
			return g_strdup_printf("the worker crashed with "
					       "signal %d (%s); its memory "
					       "limit is %" G_GUINT64_FORMAT
					       " MiB ([limits] "
					       "worker_memory)", sig,
					       g_strsignal(sig),
					       (guint64)(mem_bytes >> 20));
		return g_strdup_printf("the worker crashed with signal %d "
				       "(%s)", sig, g_strsignal(sig));
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && len >= 1 &&
	    text[0] == 'O') {
		*st_r = WORKER_OK;
		return NULL;
	}
	*st_r = WORKER_FAILED;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 1 && len >= 1 &&
	    text[0] == 'F')
		return g_utf8_make_valid(text + 1, (gssize)(len - 1));
	return g_strdup_printf("the worker exited with status %d without a "
			       "result", WIFEXITED(status) ?
			       WEXITSTATUS(status) : -1);
}

enum worker_status
worker_run(worker_fn fn, void *ctx, unsigned seconds, uint64_t mem_bytes,
	   char **error_r)
{
	char text[WORKER_TEXT_MAX];
	enum worker_status st = WORKER_FAILED;
	gint64 deadline = 0;
	bool pipe_open = true, killed = false;
	size_t len = 0;
	char *desc = NULL;
	int fds[2], status = 0;
	pid_t parent = getpid(), pid;

	if (error_r)
		*error_r = NULL;
	if (pipe2(fds, O_CLOEXEC) != 0) {
		desc = g_strdup_printf("cannot create a pipe for the worker: "
				       "%s", g_strerror(errno));
		goto out;
	}
	fflush(NULL); /* or the child would write our buffers again */
	pid = fork();
	if (pid < 0) {
		desc = g_strdup_printf("cannot start a worker: %s",
				       g_strerror(errno));
		close(fds[0]);
		close(fds[1]);
		goto out;
	}
	if (pid == 0) {
		close(fds[0]);
		worker_child(fn, ctx, mem_bytes, fds[1], parent);
	}
	close(fds[1]);
	fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
	if (seconds > 0)
		deadline = g_get_monotonic_time() +
			   (gint64)seconds * G_USEC_PER_SEC;
	for (;;) {
		struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
		gint64 now, ms;
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			break;
		if (r < 0 && errno != EINTR) {
			desc = g_strdup_printf("lost the worker: waitpid: %s",
					       g_strerror(errno));
			kill(pid, SIGKILL);
			close(fds[0]);
			goto out;
		}
		now = g_get_monotonic_time();
		if (deadline && now >= deadline) {
			kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			killed = true;
			break;
		}
		ms = pipe_open ? WORKER_POLL_MS : WORKER_REAP_MS;
		if (deadline && (deadline - now) / 1000 + 1 < ms)
			ms = (deadline - now) / 1000 + 1;
		if (poll(pipe_open ? &pfd : NULL, pipe_open ? 1 : 0,
			 (int)ms) < 0 && errno != EINTR)
			g_usleep((gulong)ms * 1000);
		worker_drain(fds[0], text, &len, &pipe_open);
	}
	worker_drain(fds[0], text, &len, &pipe_open);
	close(fds[0]);
	desc = worker_describe(status, killed, seconds, mem_bytes, text, len,
			       &st);
out:
	if (error_r)
		*error_r = desc;
	else
		g_free(desc);
	return st;
}
