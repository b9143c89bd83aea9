/*
 * worker.h - run one message's processing in a forked, limited child
 *
 * As Postfix isolates its delivery agents: a crash, hang or memory
 * blow-up in GMime, libavformat or libytnef on a hostile message ends
 * that worker only.  The child gets RLIMIT_AS (skipped under
 * AddressSanitizer, which reserves terabytes of address space) and a
 * wall-clock limit enforced by the parent (SIGKILL).  The child's error
 * text comes back over a pipe.
 */
#ifndef INTAKE_WORKER_H
#define INTAKE_WORKER_H

#include "common.h"

enum worker_status {
	WORKER_OK,      /* fn returned true */
	WORKER_FAILED,  /* fn returned false; error_r has its message */
	WORKER_CRASHED, /* killed by a signal (SIGSEGV, SIGABRT, OOM) */
	WORKER_TIMEOUT, /* ran past the limit and was killed */
};

typedef bool (*worker_fn)(void *ctx, GError **error);

/* error_r: newly allocated description unless WORKER_OK. */
enum worker_status worker_run(worker_fn fn, void *ctx, unsigned seconds,
			      uint64_t mem_bytes, char **error_r);

/*
 * The same in two halves, so that the caller can work while the child
 * runs: worker_start() forks (ctx is copied into the child with the rest
 * of the memory, so it need not outlive the call) and never returns NULL;
 * a worker that could not be started is finished at once, WORKER_FAILED.
 * worker_poll() never blocks: it reads the child's text, reaps it, and
 * kills it at its deadline; true once the child is gone.  Call it now and
 * then while working, or the deadline is enforced only by
 * worker_finish(), which waits for the child, frees w and returns what
 * worker_run() would have.
 */
struct worker;
struct worker *worker_start(worker_fn fn, void *ctx, unsigned seconds,
			    uint64_t mem_bytes);
bool worker_poll(struct worker *w);
enum worker_status worker_finish(struct worker *w, char **error_r);

#endif
