/*
 * test_worker.c - worker_run(): success, failure, crash, timeout, limits;
 * worker_start(), worker_poll() and worker_finish()
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "t.h"
#include "worker.h"

#if defined(__SANITIZE_ADDRESS__)
#define T_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define T_ASAN 1
#endif
#endif
#ifndef T_ASAN
#define T_ASAN 0
#endif

static bool
fn_ok(void *ctx, GError **error)
{
	(void)ctx;
	(void)error;
	return true;
}

static bool
fn_fail(void *ctx, GError **error)
{
	(void)ctx;
	g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_MESSAGE,
		    "图片“IMG_0001.jpg”无法解码");
	return false;
}

static bool
fn_fail_silent(void *ctx, GError **error)
{
	(void)ctx;
	(void)error;
	return false;
}

static bool
fn_long_error(void *ctx, GError **error)
{
	g_autofree char *big = g_strnfill(100000, 'x');

	(void)ctx;
	g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_MESSAGE, "%s", big);
	return false;
}

static bool
fn_segv(void *ctx, GError **error)
{
	(void)ctx;
	(void)error;
	raise(SIGSEGV);
	return true;
}

static bool
fn_abort(void *ctx, GError **error)
{
	(void)ctx;
	(void)error;
	abort();
}

static bool
fn_exit0(void *ctx, GError **error)
{
	(void)ctx;
	(void)error;
	_exit(0);
}

static bool
fn_sleep(void *ctx, GError **error)
{
	(void)ctx;
	(void)error;
	for (;;)
		pause();
	return true;
}

/* SIGTERM must not end the child: it finishes its message. */
static bool
fn_sigterm_self(void *ctx, GError **error)
{
	(void)ctx;
	(void)error;
	kill(getpid(), SIGTERM);
	kill(getpid(), SIGHUP);
	kill(getpid(), SIGINT);
	usleep(50000);
	return true;
}

/* Writes into ctx: the parent must not see it (separate process). */
static bool
fn_touch(void *ctx, GError **error)
{
	(void)error;
	*(int *)ctx = 42;
	return true;
}

static bool
fn_big_alloc(void *ctx, GError **error)
{
	size_t n = (size_t)2 << 30;
	char *p = malloc(n);

	(void)ctx;
	if (!p) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_LIMIT,
			    "malloc of 2 GiB failed");
		return false;
	}
	memset(p, 1, n);
	free(p);
	return true;
}

struct run_case {
	const char *name;
	worker_fn fn;
	unsigned seconds;
	enum worker_status want;
	const char *want_text; /* substring of error_r, NULL: error_r NULL */
	bool asan_exits;       /* ASan catches the signal and exits 1 */
};

static const struct run_case cases[] = {
	{ "worker.ok", fn_ok, 10, WORKER_OK, NULL, false },
	{ "worker.failed", fn_fail, 10, WORKER_FAILED,
	  "IMG_0001.jpg”无法解码", false },
	{ "worker.failed_silent", fn_fail_silent, 10, WORKER_FAILED,
	  "without an error message", false },
	{ "worker.long_error", fn_long_error, 10, WORKER_FAILED, "xxxx",
	  false },
	{ "worker.segv", fn_segv, 10, WORKER_CRASHED, "signal 11", true },
	{ "worker.abort", fn_abort, 10, WORKER_CRASHED, "signal 6", false },
	{ "worker.exit_without_result", fn_exit0, 10, WORKER_FAILED,
	  "without a result", false },
	{ "worker.timeout", fn_sleep, 1, WORKER_TIMEOUT, "1 seconds", false },
	{ "worker.ignores_sigterm", fn_sigterm_self, 10, WORKER_OK, NULL,
	  false },
};

static bool
fn_nap(void *ctx, GError **error)
{
	(void)ctx;
	(void)error;
	usleep(300000);
	return true;
}

static const struct run_case halves[] = {
	{ "worker.half.ok", fn_nap, 10, WORKER_OK, NULL, false },
	{ "worker.half.timeout", fn_sleep, 1, WORKER_TIMEOUT, "1 seconds",
	  false },
};

int
main(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		const struct run_case *c = &cases[i];
		bool asan_exit = T_ASAN && c->asan_exits;
		char *err = NULL;
		char name[128];
		gint64 t0 = g_get_monotonic_time();
		enum worker_status st =
			worker_run(c->fn, NULL, c->seconds, 256 << 20, &err);
		gint64 ms = (g_get_monotonic_time() - t0) / 1000;

		snprintf(name, sizeof(name), "%s.status", c->name);
		if (asan_exit)
			T_CHECK(name, st == WORKER_CRASHED ||
				      st == WORKER_FAILED);
		else
			T_INTEQ(name, st, c->want);
		snprintf(name, sizeof(name), "%s.text", c->name);
		if (asan_exit)
			T_CHECK(name, err != NULL);
		else if (c->want_text)
			T_CHECK(name, err && strstr(err, c->want_text));
		else
			T_STREQ(name, err, NULL);
		snprintf(name, sizeof(name), "%s.prompt", c->name);
		T_CHECK(name, ms < (gint64)c->seconds * 1000 + 2000);
		if (c->fn == fn_long_error)
			T_CHECK("worker.long_error.bounded",
				err && strlen(err) < 4096);
		if (err && g_getenv("T_VERBOSE"))
			printf("# %s: %.200s\n", c->name, err);
		g_free(err);
	}

	{
		int x = 0;

		T_INTEQ("worker.isolated.status",
			worker_run(fn_touch, &x, 10, 0, NULL), WORKER_OK);
		T_INTEQ("worker.isolated.memory", x, 0);
	}

	/* in halves: the parent polls while it works; the deadline holds */
	for (size_t i = 0; i < G_N_ELEMENTS(halves); i++) {
		const struct run_case *c = &halves[i];
		struct worker *w = worker_start(c->fn, NULL, c->seconds, 0);
		gint64 t0 = g_get_monotonic_time(), ms;
		unsigned polls = 0;
		bool done = false;
		char *err = NULL;
		char name[128];

		while (!done && polls < 1000) {
			done = worker_poll(w);
			if (!done)
				g_usleep(10000); /* the parent's own work */
			polls++;
		}
		ms = (g_get_monotonic_time() - t0) / 1000;
		snprintf(name, sizeof(name), "%s.done", c->name);
		T_CHECK(name, done);
		snprintf(name, sizeof(name), "%s.waited", c->name);
		T_CHECK(name, polls > 1);
		snprintf(name, sizeof(name), "%s.prompt", c->name);
		T_CHECK(name, ms < (gint64)c->seconds * 1000 + 2000);
		snprintf(name, sizeof(name), "%s.status", c->name);
		T_INTEQ(name, worker_finish(w, &err), c->want);
		snprintf(name, sizeof(name), "%s.text", c->name);
		if (c->want_text)
			T_CHECK(name, err && strstr(err, c->want_text));
		else
			T_STREQ(name, err, NULL);
		g_free(err);
	}
	{
		/* the parent blocked (a download that receives nothing) and
		 * never polls: the child's own alarm ends it past its limit */
		struct worker *w = worker_start(fn_sleep, NULL, 1, 0);
		siginfo_t si;
		char *err = NULL;

		memset(&si, 0, sizeof(si));
		g_usleep(7500 * 1000); /* 1 s + the 5 s grace, and some */
		T_CHECK("worker.backstop.ended",
			waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) ==
					0 &&
				si.si_pid != 0);
		T_INTEQ("worker.backstop.code", si.si_code, CLD_KILLED);
		T_INTEQ("worker.backstop.signal", si.si_status, SIGALRM);
		T_INTEQ("worker.backstop.status", worker_finish(w, &err),
			WORKER_TIMEOUT);
		T_CHECK("worker.backstop.text", err && strstr(err, "1 seconds"));
		g_free(err);
	}
	{
		/* finished without a poll: waits as worker_run() does */
		char *err = NULL;
		struct worker *w = worker_start(fn_fail, NULL, 10, 0);

		T_INTEQ("worker.half.finish_only.status",
			worker_finish(w, &err), WORKER_FAILED);
		T_CHECK("worker.half.finish_only.text",
			err && strstr(err, "IMG_0001.jpg"));
		g_free(err);
	}

	if (T_ASAN) {
		printf("SKIP worker.rlimit: under ASan\n");
	} else {
		char *err = NULL;
		enum worker_status st = worker_run(fn_big_alloc, NULL, 20,
						   256 << 20, &err);

		T_CHECK("worker.rlimit.refused",
			st == WORKER_FAILED || st == WORKER_CRASHED);
		T_CHECK("worker.rlimit.text", err != NULL);
		g_free(err);
	}
	return t_done();
}
