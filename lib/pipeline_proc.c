/*
 * pipeline_proc.c - processing: pending messages in workers, in order
 *
 * Every pending message is processed in a forked worker (worker.h), one
 * at a time, in id order (the order they were recorded in, so UID
 * order), each taken once per cycle, under state_dir/process.lock so that
 * intakectl never processes at the same time.  During the fetch it runs
 * beside the downloads (pipeline_proc_beside(), before each download);
 * what is left is processed after the fetch (pipeline_proc_rest()).  The
 * attempt is counted before a worker starts, a full disk is no attempt,
 * and what a failed worker leaves behind is removed at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <sqlite3.h>

#include "filing.h"
#include "log.h"
#include "pipeline.h"
#include "pipeline_proc.h"
#include "process.h"
#include "worker.h"

bool
pipeline_stopping(const struct pipeline_opts *opts)
{
	return opts != NULL && opts->stop != NULL && *opts->stop;
}

void
pipeline_tick(const struct pipeline_opts *opts)
{
	if (opts != NULL && opts->tick != NULL)
		opts->tick();
}

struct pipeline_job {
	const struct intake_config *cfg;
	int64_t id;
};

static bool
pipeline_job_run(void *ctx, GError **error)
{
	struct pipeline_job *job = ctx;

	return process_message(job->cfg, job->id, error);
}

/*
 * Processing is serialised across processes (intaked and intakectl import,
 * assign, reprocess) by a lock of its own, held only while processing, so
 * that no message is processed by two at once.  (A cycle holds it from
 * the first message it processes beside the fetch to its last.)
 */
static int
pipeline_lock_fd(const struct intake_config *cfg, bool wait,
		 const struct pipeline_opts *opts, GError **error)
{
	g_autofree char *path =
		g_build_filename(cfg->state_dir, "process.lock", NULL);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	int r = -1;

	/* a signal (SIGHUP, SIGTERM) interrupts the wait; a
	 * stop request ends it */
	while (fd >= 0 &&
	       (r = flock(fd, wait ? LOCK_EX : LOCK_EX | LOCK_NB)) != 0 &&
	       errno == EINTR && !pipeline_stopping(opts))
		;
	if (fd < 0 || r != 0) {
		/* EINTR here is a stop request: not an error */
		if ((wait || errno != EWOULDBLOCK) && (fd < 0 || errno != EINTR))
			g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
				    "cannot lock %s: %s", path,
				    g_strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int
pipeline_lock(const struct intake_config *cfg, GError **error)
{
	return pipeline_lock_fd(cfg, true, NULL, error);
}

/* What processing a message needs on the state directory's file system
 * beyond its raw size (its parts are decoded into work/, about the raw
 * size, and hard-linked into units/): the transaction and the reply. */
#define PIPELINE_ROOM_SLACK (256 * 1024)

/* Whether the state directory has need bytes free; *free_r what it has. */
static bool
pipeline_room(const struct intake_config *cfg, uint64_t need,
	      uint64_t *free_r)
{
	struct statvfs sv;

	if (statvfs(cfg->state_dir, &sv) != 0) {
		*free_r = UINT64_MAX; /* cannot tell: the worker will see */
		return true;
	}
	*free_r = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
	return *free_r >= need;
}

/* A worker's failure that is the local disk's fault, not the message's:
 * our own error texts carry strerror() and SQLite's message. */
static bool
pipeline_disk_full(const char *why)
{
	return why != NULL &&
	       (strstr(why, g_strerror(ENOSPC)) != NULL ||
		strstr(why, g_strerror(EDQUOT)) != NULL ||
		strstr(why, sqlite3_errstr(SQLITE_FULL)) != NULL);
}

void
pipeline_proc_init(struct pipeline_proc *pp, const struct intake_config *cfg,
		   struct store *st, const struct pipeline_opts *opts,
		   struct pipeline_stats *stats)
{
	memset(pp, 0, sizeof(*pp));
	pp->cfg = cfg;
	pp->st = st;
	pp->opts = opts;
	pp->stats = stats;
	pp->lock = -1;
}

/*
 * Starts the worker for message id, under the process lock.  The attempt
 * is counted durably before the worker starts, so a message that kills
 * its worker (or the daemon) every time is given up after max_attempts
 * and the rest go on.  A full disk is not the message's fault: then
 * nothing is counted and processing waits for the next cycle.  False only
 * when the local state failed.
 */
static bool
pipeline_proc_start(struct pipeline_proc *pp, int64_t id, GError **error)
{
	struct pipeline_job job = {pp->cfg, id};
	g_autoptr(GError) err = NULL;
	struct store_message *m;
	uint64_t avail;

	pp->after = id;
	m = store_message_get(pp->st, id, &err);
	if (m == NULL) {
		if (err == NULL)
			return true; /* gone meanwhile */
		g_propagate_error(error, g_steal_pointer(&err));
		return false;
	}
	pp->need = m->size + PIPELINE_ROOM_SLACK;
	store_message_free(m);
	if (!pipeline_room(pp->cfg, pp->need, &avail)) {
		log_error("message %" G_GINT64_FORMAT ": waiting: %s has %"
			  G_GUINT64_FORMAT " bytes free, processing needs "
			  "about %" G_GUINT64_FORMAT " (disk full)", id,
			  pp->cfg->state_dir, (guint64)avail,
			  (guint64)pp->need);
		pp->halted = true;
		return true;
	}
	/* the attempt is counted durably before the worker starts */
	if (!store_message_attempt(pp->st, id, &pp->attempts, error))
		return false;
	if (pp->attempts > pp->cfg->limits.max_attempts) {
		if (!store_message_fail(pp->st, id, "gave up after repeated "
					"failed attempts", error))
			return false;
		pp->stats->failed++;
		return true;
	}
	pipeline_tick(pp->opts);
	pp->busy_id = id;
	pp->busy = worker_start(pipeline_job_run, &job,
				pp->cfg->limits.worker_seconds,
				pp->cfg->limits.worker_memory);
	return true;
}

/*
 * After a worker that did not report success: what it left behind goes,
 * as recovery at start would remove it (still under the process lock):
 * its work directory, and files it filed under units/ without committing
 * them.  Returns the message's state now: a worker killed or crashed
 * after its commit leaves the message processed.
 */
static enum msg_state
pipeline_proc_clean(struct pipeline_proc *pp)
{
	g_autoptr(GError) err = NULL;
	g_autofree char *work = NULL;
	struct store_message *m;
	enum msg_state state = MSG_PENDING;
	char leaf[32];
	GHashTable *known;

	g_snprintf(leaf, sizeof(leaf), "%" G_GINT64_FORMAT, pp->busy_id);
	work = g_build_filename(pp->cfg->state_dir, "work", leaf, NULL);
	work_rmtree(work);
	known = store_known_paths(pp->st, &err);
	if (known != NULL) {
		int removed = filing_cleanup(pp->cfg->state_dir, known, &err);

		if (removed > 0)
			log_warn("message %" G_GINT64_FORMAT ": removed %d "
				 "file(s) its worker filed but did not "
				 "commit", pp->busy_id, removed);
		g_hash_table_unref(known);
	}
	if (err != NULL) {
		log_error("message %" G_GINT64_FORMAT ": cleaning up after its "
			  "worker: %s", pp->busy_id, err->message);
		g_clear_error(&err);
	}
	m = store_message_get(pp->st, pp->busy_id, &err);
	if (m != NULL) {
		state = m->state;
		store_message_free(m);
	}
	return state;
}

/* Waits for the worker in flight, if any, and records what it did. */
static bool
pipeline_proc_finish(struct pipeline_proc *pp, GError **error)
{
	const struct limits_config *lim = &pp->cfg->limits;
	g_autofree char *why = NULL;
	enum worker_status ws;
	uint64_t avail;

	if (pp->busy == NULL)
		return true;
	ws = worker_finish(pp->busy, &why);
	pp->busy = NULL;
	if (ws == WORKER_OK) {
		pp->stats->processed++;
		return true;
	}
	if (pipeline_proc_clean(pp) != MSG_PENDING) {
		/* its transaction committed: the work is done */
		log_warn("message %" G_GINT64_FORMAT ": processed, but its "
			 "worker then ended badly: %s", pp->busy_id,
			 why ? why : "failed");
		pp->stats->processed++;
		return true;
	}
	/* a full disk, by the worker's own error or by the room left once
	 * its leftovers are gone, is not the message's fault */
	if (pipeline_disk_full(why) ||
	    !pipeline_room(pp->cfg, pp->need, &avail)) {
		g_autoptr(GError) err = NULL;

		log_error("message %" G_GINT64_FORMAT ": %s; not counted as "
			  "an attempt: the disk is full, processing waits",
			  pp->busy_id, why ? why : "failed");
		if (!store_message_unattempt(pp->st, pp->busy_id, &err))
			log_error("message %" G_GINT64_FORMAT ": %s",
				  pp->busy_id, err->message);
		pp->halted = true;
		return true;
	}
	log_error("message %" G_GINT64_FORMAT ": attempt %u of %u: %s",
		  pp->busy_id, pp->attempts, lim->max_attempts,
		  why ? why : "failed");
	if (pp->attempts >= lim->max_attempts) {
		if (!store_message_fail(pp->st, pp->busy_id, why, error))
			return false;
		pp->stats->failed++;
	}
	return true;
}

/*
 * Before each download: the worker in flight finished, and the next
 * pending message started, so that it is processed while the next one
 * downloads.  The process lock is only tried for here: while intakectl
 * holds it, processing waits for the end of the fetch.  When the local
 * state fails, processing stops for this cycle and the fetch goes on.
 */
void
pipeline_proc_beside(struct pipeline_proc *pp)
{
	GArray *ids = NULL;
	int64_t next = 0;

	if (!pipeline_proc_finish(pp, &pp->error))
		goto fail;
	if (pp->halted || pipeline_stopping(pp->opts))
		return;
	if (pp->lock < 0 && (pp->lock = pipeline_lock_fd(pp->cfg, false,
							 pp->opts, NULL)) < 0)
		return;
	ids = store_messages_in_state(pp->st, MSG_PENDING, &pp->error);
	if (ids == NULL)
		goto fail;
	for (unsigned i = 0; i < ids->len && next == 0; i++) {
		if (g_array_index(ids, int64_t, i) > pp->after)
			next = g_array_index(ids, int64_t, i);
	}
	g_array_unref(ids);
	if (next == 0 || pipeline_proc_start(pp, next, &pp->error))
		return;
fail:
	pp->halted = true;
}

/* The pending messages not yet taken this cycle, one after the other. */
static bool
pipeline_process_locked(struct pipeline_proc *pp, GError **error)
{
	GArray *ids;
	unsigned first = 0;
	bool ok = false;

	if (!pipeline_proc_finish(pp, error))
		return false;
	ids = store_messages_in_state(pp->st, MSG_PENDING, error);
	if (ids == NULL)
		return false;
	while (first < ids->len &&
	       g_array_index(ids, int64_t, first) <= pp->after)
		first++;
	for (unsigned i = first; i < ids->len && !pp->halted &&
	     !pipeline_stopping(pp->opts); i++) {
		if (pp->opts != NULL && pp->opts->progress != NULL)
			pp->opts->progress(i - first, ids->len - first);
		if (!pipeline_proc_start(pp, g_array_index(ids, int64_t, i),
					 error) ||
		    !pipeline_proc_finish(pp, error))
			goto out;
	}
	ok = true;
out:
	g_array_unref(ids);
	return ok;
}

/* After the fetch: what is left, under the lock (waiting for it now). */
bool
pipeline_proc_rest(struct pipeline_proc *pp, GError **error)
{
	if (pp->error != NULL) {
		g_propagate_error(error, g_steal_pointer(&pp->error));
		return false;
	}
	if (pp->lock < 0 &&
	    (pp->lock = pipeline_lock_fd(pp->cfg, true, pp->opts, error)) < 0)
		return pipeline_stopping(pp->opts); /* stopped while waiting */
	return pipeline_process_locked(pp, error);
}

/* The worker in flight (a failed fetch leaves one) finished, the lock
 * released. */
void
pipeline_proc_end(struct pipeline_proc *pp)
{
	g_autoptr(GError) err = NULL;

	if (!pipeline_proc_finish(pp, &err))
		log_error("%s", err->message);
	if (pp->lock >= 0)
		close(pp->lock);
	pp->lock = -1;
	g_clear_error(&pp->error);
}

bool
pipeline_process_pending(const struct intake_config *cfg, struct store *st,
			 const struct pipeline_opts *opts,
			 struct pipeline_stats *stats, GError **error)
{
	struct pipeline_proc pp;
	bool ok;

	pipeline_proc_init(&pp, cfg, st, opts, stats);
	ok = pipeline_proc_rest(&pp, error);
	pipeline_proc_end(&pp);
	return ok;
}
