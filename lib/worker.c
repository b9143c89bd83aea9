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
 *   - sets an alarm WORKER_ALARM_GRACE seconds past its time limit: the
 *     parent may be blocked in a download that receives nothing (up to
 *     minutes), and the limit must hold all the same;
 *   - runs fn, writes one status byte ('O' or 'F') and the error text
 *     (at most WORKER_TEXT_MAX bytes) to a pipe, and _exit()s.
 * The parent reads the pipe and polls waitpid(WNOHANG) until the child is
 * gone or the deadline passes; at the deadline it sends SIGKILL and reaps
 * the child.  An exit without a status byte (fn called exit()) counts as
 * a failure, never as success; a child that wrote 'O' succeeded, however
 * it ended afterwards (fn's work was done).  worker_start() and
 * worker_poll() let the parent do other work meanwhile (the pipeline
 * downloads the next message); worker_finish() then waits as
 * worker_run() does.
 *
 * The child is a fork without exec: it inherits the parent's descriptors
 * (all close-on-exec, which does not help here) and the parent's SQLite
 * library state.  fn must open its own database connection and never use
 * the parent's; and the parent must keep its connection open and be
 * outside any transaction while a worker runs, so that the POSIX locks
 * SQLite takes for the parent's process stay real for the child's
 * connection too (SQLite's "How To Corrupt" page, section 2.6).
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
#define WORKER_ALARM_GRACE 5 /* s past the limit: the child's own backstop */

static void
worker_signal(int sig, void (*handler)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
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
worker_child(worker_fn fn, void *ctx, unsigned seconds, uint64_t mem_bytes,
	     int fd, pid_t parent)
{
	char buf[WORKER_TEXT_MAX];
	GError *err = NULL;
	struct rlimit rl;
	size_t len = 1;
	bool ok;

	worker_signal(SIGTERM, SIG_IGN);
	worker_signal(SIGINT, SIG_IGN);
	worker_signal(SIGHUP, SIG_IGN);
	worker_signal(SIGPIPE, SIG_IGN);
	worker_signal(SIGALRM, SIG_DFL); /* whatever the parent had */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
		_exit(3);
	rl.rlim_cur = rl.rlim_max = 0;
	setrlimit(RLIMIT_CORE, &rl);
	if (!WORKER_ASAN && mem_bytes > 0) {
		rl.rlim_cur = rl.rlim_max = (rlim_t)mem_bytes;
		if (setrlimit(RLIMIT_AS, &rl) != 0)
			_exit(4);
	}
	if (seconds > 0) /* SIGALRM's default action ends the process */
		alarm(seconds + WORKER_ALARM_GRACE);

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

	if (len >= 1 && text[0] == 'O') {
		*st_r = WORKER_OK;
		return NULL;
	}
	if (killed || (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)) {
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
	*st_r = WORKER_FAILED;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 1 && len >= 1 &&
	    text[0] == 'F')
		return g_utf8_make_valid(text + 1, (gssize)(len - 1));
	return g_strdup_printf("the worker exited with status %d without a "
			       "result", WIFEXITED(status) ?
			       WEXITSTATUS(status) : -1);
}

/* One child, from worker_start() to worker_finish(). */
struct worker {
	char text[WORKER_TEXT_MAX]; /* what the child wrote */
	size_t len;
	char *desc;        /* why it could not start or was lost */
	unsigned seconds;
	uint64_t mem_bytes;
	gint64 deadline;   /* monotonic; 0: none */
	pid_t pid;
	int fd;            /* the pipe's read end, or -1 */
	int status;        /* from waitpid() */
	bool pipe_open, killed, done;
};

struct worker *
worker_start(worker_fn fn, void *ctx, unsigned seconds, uint64_t mem_bytes)
{
	struct worker *w = g_new0(struct worker, 1);
	pid_t parent = getpid();
	int fds[2];

	w->seconds = seconds;
	w->mem_bytes = mem_bytes;
	w->fd = -1;
	if (pipe2(fds, O_CLOEXEC) != 0) {
		w->desc = g_strdup_printf("cannot create a pipe for the "
					  "worker: %s", g_strerror(errno));
		w->done = true;
		return w;
	}
	fflush(NULL); /* or the child would write our buffers again */
	w->pid = fork();
	if (w->pid < 0) {
		w->desc = g_strdup_printf("cannot start a worker: %s",
					  g_strerror(errno));
		close(fds[0]);
		close(fds[1]);
		w->done = true;
		return w;
	}
	if (w->pid == 0) {
		close(fds[0]);
		worker_child(fn, ctx, seconds, mem_bytes, fds[1], parent);
	}
	close(fds[1]);
	w->fd = fds[0];
	w->pipe_open = true;
	fcntl(w->fd, F_SETFL, fcntl(w->fd, F_GETFL) | O_NONBLOCK);
	if (seconds > 0)
		w->deadline = g_get_monotonic_time() +
			      (gint64)seconds * G_USEC_PER_SEC;
	return w;
}

/* Reaps the child if it is gone, kills it at the deadline, and reads its
 * text, waiting for it up to a poll interval when wait is set. */
static void
worker_step(struct worker *w, bool wait)
{
	struct pollfd pfd = { .fd = w->fd, .events = POLLIN };
	gint64 now, ms;
	pid_t r;

	if (w->done)
		return;
	r = waitpid(w->pid, &w->status, WNOHANG);
	if (r == w->pid) {
		w->done = true;
		return;
	}
	if (r < 0 && errno != EINTR) {
		w->desc = g_strdup_printf("lost the worker: waitpid: %s",
					  g_strerror(errno));
		kill(w->pid, SIGKILL);
		w->done = true;
		return;
	}
	now = g_get_monotonic_time();
	if (w->deadline && now >= w->deadline) {
		kill(w->pid, SIGKILL);
		while (waitpid(w->pid, &w->status, 0) < 0 && errno == EINTR)
			;
		/* it may have ended by itself since the waitpid() above */
		w->killed = WIFSIGNALED(w->status) &&
			    WTERMSIG(w->status) == SIGKILL;
		w->done = true;
		return;
	}
	ms = w->pipe_open ? WORKER_POLL_MS : WORKER_REAP_MS;
	if (!wait)
		ms = 0;
	if (w->deadline && (w->deadline - now) / 1000 + 1 < ms)
		ms = (w->deadline - now) / 1000 + 1;
	if (poll(w->pipe_open ? &pfd : NULL, w->pipe_open ? 1 : 0,
		 (int)ms) < 0 && errno != EINTR)
		g_usleep((gulong)ms * 1000);
	worker_drain(w->fd, w->text, &w->len, &w->pipe_open);
}

bool
worker_poll(struct worker *w)
{
	worker_step(w, false);
	return w->done;
}

enum worker_status
worker_finish(struct worker *w, char **error_r)
{
	enum worker_status st = WORKER_FAILED;
	char *desc;

	while (!w->done)
		worker_step(w, true);
	desc = w->desc;
	if (w->fd >= 0) {
		worker_drain(w->fd, w->text, &w->len, &w->pipe_open);
		close(w->fd);
	}
	if (desc == NULL)
		desc = worker_describe(w->status, w->killed, w->seconds,
				       w->mem_bytes, w->text, w->len, &st);
	if (error_r)
		*error_r = desc;
	else
		g_free(desc);
	g_free(w);
	return st;
}

enum worker_status
worker_run(worker_fn fn, void *ctx, unsigned seconds, uint64_t mem_bytes,
	   char **error_r)
{
	return worker_finish(worker_start(fn, ctx, seconds, mem_bytes),
			     error_r);
}
