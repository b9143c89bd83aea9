/*
 * pipeline.c - one cycle: discover, fetch, process, reply, mark
 *
 * The durable order (DESIGN.md §3), and where each step is done:
 *   fetch    pipeline_fetch_one(): a \Seen restore owed is noted first
 *            (IMAP's BODY[] sets \Seen on an unseen message); the message
 *            is spooled while it is hashed, fsynced, renamed into raw/
 *            and raw/<aa>/ fsynced (rawstore_spool_commit); only then ONE
 *            transaction records it, moves the cursor and drops the note.
 *   process  pipeline_proc_start(): the attempt is counted in its own
 *            transaction before the worker starts; the worker
 *            (process_message, process.h) files items with temp + fsync +
 *            rename + fsync of the folder, then commits items, dossier,
 *            queued reply and the message's state in ONE transaction.
 *            Only recorded messages are processed, one worker at a time,
 *            in the order they were recorded; the worker of message N runs
 *            while N+1 is fetched (pipeline_proc_beside).
 *   reply    pipeline_send_outbox(): only committed mail is sent; a crash
 *            between the server's 250 and store_outbox_sent() sends that
 *            one reply again (the only duplicate the design allows).
 *   mark     pipeline_replay_flags(): only after the commit, from the
 *            mark_pending column, so a crash before it is redone.
 * A crash anywhere leaves work that pipeline_recover() and the next cycle
 * finish: spool and temp files and work/ are removed, unfinished moves
 * into .withdrawn/ are completed, files under units/ that no item owns are
 * removed, and owed \Seen restores are replayed when the mailbox opens.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "filing.h"
#include "log.h"
#include "pipeline.h"
#include "process.h"
#include "rawstore.h"
#include "smtp.h"
#include "source.h"
#include "toolarge.h"
#include "worker.h"

char *
pipeline_mailbox_key(const struct intake_config *cfg)
{
	/* credentials never appear in the URL (they come from files) */
	return g_strdup(cfg->mailbox_url);
}

static bool
pipeline_stopping(const struct pipeline_opts *opts)
{
	return opts != NULL && opts->stop != NULL && *opts->stop;
}

static void
pipeline_tick(const struct pipeline_opts *opts)
{
	if (opts != NULL && opts->tick != NULL)
		opts->tick();
}

/*
 * An item replaced or withdrawn by a committed transaction whose file was
 * not yet moved into .withdrawn/ (process.c and intakectl withdraw move it
 * after the commit, then record the new place): move it now, or, when the
 * move was done and only its record is missing, find the file by its hash
 * among the files of .withdrawn/ that no item owns.  Must run before
 * filing_cleanup(), which would remove that file as unknown.
 */
static bool
pipeline_find_aside(const struct intake_config *cfg, GHashTable *known,
		    const struct store_item *it, char **aside_r)
{
	g_autofree char *folder = g_path_get_dirname(it->path);
	g_autofree char *unit = g_path_get_dirname(folder); /* units/<u> */
	g_autofree char *rel = g_build_filename(unit, ".withdrawn", NULL);
	g_autofree char *dir = g_build_filename(cfg->state_dir, rel, NULL);
	const char *name;
	GDir *d;

	if (it->sha256 == NULL || !g_str_has_prefix(unit, "units/") ||
	    (d = g_dir_open(dir, 0, NULL)) == NULL)
		return false;
	while ((name = g_dir_read_name(d)) != NULL) {
		g_autofree char *cand = g_build_filename(rel, name, NULL);
		g_autofree char *path = g_build_filename(dir, name, NULL);
		char sha[SHA256_HEX_LEN + 1];

		if (g_hash_table_contains(known, cand) ||
		    !g_file_test(path, G_FILE_TEST_IS_REGULAR) ||
		    g_file_test(path, G_FILE_TEST_IS_SYMLINK) ||
		    !rawstore_hash_file(path, sha, NULL) ||
		    strcmp(sha, it->sha256) != 0)
			continue;
		*aside_r = g_steal_pointer(&cand);
		break;
	}
	g_dir_close(d);
	return *aside_r != NULL;
}

static bool
pipeline_finish_asides(const struct intake_config *cfg, struct store *st,
		       GError **error)
{
	GPtrArray *items = store_items_not_aside(st, error);
	GHashTable *known;

	if (items == NULL)
		return false;
	known = items->len ? store_known_paths(st, error) : NULL;
	if (items->len && known == NULL) {
		g_ptr_array_unref(items);
		return false;
	}
	for (unsigned i = 0; i < items->len; i++) {
		const struct store_item *it = g_ptr_array_index(items, i);
		g_autofree char *full = g_build_filename(cfg->state_dir,
							 it->path, NULL);
		g_autoptr(GError) err = NULL;
		char *aside = NULL;

		if (g_file_test(full, G_FILE_TEST_EXISTS)) {
			if (!filing_move_aside(cfg->state_dir, it->path,
					       &aside, &err)) {
				log_warn("recovery: item %" G_GINT64_FORMAT
					 ": %s", it->id, err->message);
				continue;
			}
		} else if (!pipeline_find_aside(cfg, known, it, &aside)) {
			log_warn("recovery: item %" G_GINT64_FORMAT ": %s is "
				 "missing", it->id, it->path);
			continue;
		}
		if (!store_item_set_state(st, it->id, it->state, aside,
					  &err)) {
			log_warn("recovery: item %" G_GINT64_FORMAT ": %s",
				 it->id, err->message);
		} else {
			log_info("recovery: item %" G_GINT64_FORMAT " moved "
				 "aside to %s", it->id, aside);
			g_hash_table_add(known, g_strdup(aside));
		}
		g_free(aside);
	}
	if (known != NULL)
		g_hash_table_unref(known);
	g_ptr_array_unref(items);
	return true;
}

/*
 * Under the process lock: intakectl (import, assign, reprocess, add,
 * withdraw) may be filing right now, and its files are not committed yet.
 */
bool
pipeline_recover(const struct intake_config *cfg, struct store *st,
		 GError **error)
{
	g_autofree char *work = g_build_filename(cfg->state_dir, "work", NULL);
	GHashTable *known = NULL;
	int removed = -1;
	int lock = pipeline_lock(cfg, error);

	if (lock < 0)
		return false;
	rawstore_cleanup(cfg->state_dir);
	work_rmtree(work);
	if (!pipeline_finish_asides(cfg, st, error))
		goto out;
	known = store_known_paths(st, error);
	if (known == NULL)
		goto out;
	removed = filing_cleanup(cfg->state_dir, known, error);
	g_hash_table_unref(known);
	if (removed > 0)
		log_warn("recovery: removed %d file(s) under units/ that no "
			 "committed message owns", removed);
out:
	close(lock);
	return removed >= 0;
}

/*
 * Processing: every pending message in a forked worker, one at a time,
 * in id order (the order they were recorded in, so UID order), each taken
 * once per cycle.  During the fetch it runs beside the downloads: before
 * each download the worker in flight is finished and its result recorded,
 * then the next pending message is started (pipeline_proc_beside); what
 * is left is processed after the fetch (pipeline_process_locked).
 */
struct pipeline_proc {
	const struct intake_config *cfg;
	struct store *st;
	const struct pipeline_opts *opts;
	struct pipeline_stats *stats;
	int lock;            /* process.lock, or -1 until needed */
	int64_t after;       /* messages up to this id were taken */
	struct worker *busy; /* the worker in flight, or NULL */
	int64_t busy_id;
	unsigned attempts;   /* busy_id's attempt, counted */
	uint64_t need;       /* the room busy_id needs */
	bool halted;         /* disk full: nothing more this cycle */
	GError *error;       /* the local state failed beside the fetch */
};

static void pipeline_proc_beside(struct pipeline_proc *pp);

/* The sink of a download: the spool, and systemd's watchdog told now and
 * then, since a large message on a slow line takes a while; the worker
 * processing the previous message is polled, so that its wall-clock limit
 * holds during a long download. */
struct pipeline_sink {
	struct raw_spool *spool;
	const struct pipeline_opts *opts;
	struct worker *busy;
	gint64 last_tick, last_poll;
};

#define PIPELINE_TICK_USEC (5 * G_USEC_PER_SEC)
#define PIPELINE_POLL_USEC (G_USEC_PER_SEC / 10)

static bool
pipeline_sink_write(const void *buf, size_t len, void *ctx, GError **error)
{
	struct pipeline_sink *sk = ctx;
	gint64 now = g_get_monotonic_time();

	if (now - sk->last_tick >= PIPELINE_TICK_USEC) {
		sk->last_tick = now;
		pipeline_tick(sk->opts);
	}
	if (sk->busy != NULL && now - sk->last_poll >= PIPELINE_POLL_USEC) {
		sk->last_poll = now;
		if (worker_poll(sk->busy))
			sk->busy = NULL; /* done: finished before the next */
	}
	return rawstore_spool_write(buf, len, sk->spool, error);
}

/* IMAP's BODY[] sets \Seen: restored for a message that was unseen. */
static bool
pipeline_sets_seen(const struct source *src, const struct source_msg *sm)
{
	return !sm->seen && strcmp(src->ops->name, "imap") == 0;
}

/* Restores \Seen after a download that did not get recorded; the note
 * stays (and the next start replays it) when the server cannot be told. */
static void
pipeline_unsee(struct store *st, struct source *src, const char *mailbox,
	       uint32_t uidvalidity, const char *key)
{
	g_autoptr(GError) err = NULL;

	if (src->ops->restore_seen(src, key, &err))
		store_seen_paid(st, mailbox, uidvalidity, key, NULL);
	else
		log_warn("%s %s: cannot restore \\Seen yet: %s", mailbox,
			 key, err->message);
}

/*
 * Fetch one message, in this order:
 *   1. when the download will set \Seen, note that it is owed (its own
 *      transaction): a crash before 4 restores it at the next start;
 *   2. spool (hashing as it arrives), fsync, rename into raw/, fsync the
 *      directory (rawstore_spool_commit);
 *   3. ONE transaction: the message, the cursor, the note dropped (the
 *      message's own restore_seen takes over);
 *   4. \Seen restored, restore_seen cleared (replayed at start-up when
 *      the daemon stops in between).
 * From 3 on the message can always be processed again from raw/.
 */
static bool
pipeline_fetch_one(const struct intake_config *cfg, struct store *st,
		   struct source *src, const char *mailbox,
		   uint32_t uidvalidity, const struct source_msg *sm,
		   const struct pipeline_opts *opts, struct worker *busy,
		   struct pipeline_stats *stats, GError **error)
{
	struct pipeline_sink sink = {0};
	char sha[SHA256_HEX_LEN + 1];
	struct store_arrival a = {0};
	struct source_cursor cur = {uidvalidity, sm->uid};
	struct source_cursor old;
	bool owed = pipeline_sets_seen(src, sm);
	int64_t id = 0;
	char outcome = 0;

	if (owed && !store_seen_owe(st, mailbox, uidvalidity, sm->key, error))
		return false;
	sink.spool = rawstore_spool_new(cfg->state_dir,
					cfg->limits.max_message_bytes, error);
	sink.opts = opts;
	sink.busy = busy;
	sink.last_tick = sink.last_poll = g_get_monotonic_time();
	if (sink.spool == NULL)
		goto unsee;
	if (!src->ops->fetch(src, sm, pipeline_sink_write, &sink, error)) {
		rawstore_spool_abort(sink.spool);
		goto unsee;
	}
	if (!rawstore_spool_commit(sink.spool, sha, error))
		goto unsee;

	a.sha256 = sha;
	a.source = src->ops->name;
	a.mailbox = mailbox;
	a.uidvalidity = uidvalidity;
	a.key = sm->key;
	a.flags = sm->flags;
	a.restore_seen = owed;
	a.arrived = sm->internaldate ? sm->internaldate : (int64_t)time(NULL);
	a.size = sm->size;
	if (!store_begin(st, error))
		goto unsee;
	if (!store_message_record(st, &a, &id, &outcome, error))
		goto fail;
	if (sm->uid != 0) {
		if (!store_cursor_get(st, mailbox, &old, error))
			goto fail;
		if (old.uidvalidity == uidvalidity && old.last_uid > cur.last_uid)
			cur.last_uid = old.last_uid;
		if (!store_cursor_set(st, mailbox, &cur, error))
			goto fail;
	}
	if (owed &&
	    !store_seen_paid(st, mailbox, uidvalidity, sm->key, error))
		goto fail;
	if (!store_commit(st, error))
		goto fail;
	if (outcome == 'd') {
		stats->duplicates++;
		log_info("message %" G_GINT64_FORMAT ": %s is a byte-identical "
			 "redelivery, no reply", id, sm->key);
	} else if (outcome == 'n') {
		stats->fetched++;
		log_debug("message %" G_GINT64_FORMAT ": fetched %s (%s)", id,
			  sm->key, sha);
	}
	if (owed) {
		g_autoptr(GError) err = NULL;

		if (src->ops->restore_seen(src, sm->key, &err))
			store_message_clear_flag(st, id, "restore_seen", NULL);
		else
			log_warn("message %" G_GINT64_FORMAT ": cannot restore "
				 "\\Seen: %s", id, err->message);
	}
	return true;
fail:
	store_rollback(st);
unsee:
	/* a partial or unrecorded BODY[] may have set \Seen */
	if (owed)
		pipeline_unsee(st, src, mailbox, uidvalidity, sm->key);
	return false;
}

/* \Seen restores owed for downloads that were never recorded. */
static void
pipeline_replay_owed(struct store *st, struct source *src,
		     const char *mailbox, uint32_t uidvalidity)
{
	g_autoptr(GError) err = NULL;
	GPtrArray *keys = store_seen_owed(st, mailbox, uidvalidity, &err);

	if (keys == NULL) {
		log_error("%s", err->message);
		return;
	}
	for (unsigned i = 0; i < keys->len; i++) {
		const char *key = g_ptr_array_index(keys, i);

		log_info("%s %s: restoring \\Seen set by a download that was "
			 "not recorded", mailbox, key);
		pipeline_unsee(st, src, mailbox, uidvalidity, key);
	}
	g_ptr_array_unref(keys);
}

/* Pending \Seen restores and marks, from this run or an earlier one. */
static void
pipeline_replay_flags(const struct intake_config *cfg, struct store *st,
		      struct source *src, bool marks)
{
	const char *column = marks ? "mark_pending" : "restore_seen";
	g_autoptr(GError) err = NULL;
	GArray *ids = store_messages_flagged(st, column, &err);

	if (ids == NULL) {
		log_error("%s", err->message);
		return;
	}
	for (unsigned i = 0; i < ids->len; i++) {
		int64_t id = g_array_index(ids, int64_t, i);
		struct store_message *m = store_message_get(st, id, NULL);
		g_autoptr(GError) e = NULL;
		bool ok;

		if (m == NULL)
			continue;
		if (g_strcmp0(m->mailbox, cfg->mailbox_url) != 0) {
			store_message_free(m);
			continue;
		}
		ok = marks ? src->ops->mark(src, m->key, &e)
			   : src->ops->restore_seen(src, m->key, &e);
		if (ok)
			store_message_clear_flag(st, id, column, NULL);
		else
			log_warn("message %" G_GINT64_FORMAT ": %s: %s", id,
				 marks ? "mark" : "restore \\Seen",
				 e->message);
		store_message_free(m);
	}
	g_array_unref(ids);
}

static bool
pipeline_fetch(const struct intake_config *cfg, struct store *st,
	       struct source *src, const struct pipeline_opts *opts,
	       struct pipeline_proc *pp, struct pipeline_stats *stats,
	       GError **error)
{
	g_autofree char *mailbox = pipeline_mailbox_key(cfg);
	g_autoptr(GPtrArray) msgs = NULL;
	struct source_cursor cur;
	uint32_t uidvalidity = 0;
	int64_t since = 0;

	if (!src->ops->open(src, &uidvalidity, error))
		return false;
	stats->source_ok = true;
	pipeline_replay_flags(cfg, st, src, false);
	pipeline_replay_owed(st, src, mailbox, uidvalidity);
	if (!store_cursor_get(st, mailbox, &cur, error))
		return false;
	if (cur.uidvalidity != 0 && cur.uidvalidity != uidvalidity)
		log_warn("%s: UIDVALIDITY changed from %u to %u: listing the "
			 "whole mailbox again (known content is recognised "
			 "by its hash)", mailbox, cur.uidvalidity, uidvalidity);
	if (cfg->start != NULL)
		since = g_date_time_to_unix(cfg->start);
	if (!src->ops->list(src, &cur, since, &msgs, error))
		return false;
	/* notes of messages the office has taken out of the mailbox */
	toolarge_prune(st, src, mailbox, uidvalidity);
	for (unsigned i = 0; i < msgs->len && !pipeline_stopping(opts); i++) {
		const struct source_msg *sm = g_ptr_array_index(msgs, i);
		g_autoptr(GError) err = NULL;
		bool known = false;

		if (!store_message_known(st, mailbox, uidvalidity, sm->key,
					 &known, error))
			return false;
		if (known)
			continue;
		pipeline_tick(opts);
		pipeline_proc_beside(pp);
		/* a stop requested while the previous worker ran: no more
		 * downloads */
		if (pipeline_stopping(opts))
			break;
		if (!pipeline_fetch_one(cfg, st, src, mailbox, uidvalidity, sm,
					opts, pp->busy, stats, &err)) {
			if (err->code == INTAKE_ERROR_LIMIT) {
				/* too large to download: left on the server,
				 * its header read, noted for the office,
				 * its sender answered, logged once */
				if (!toolarge_note(cfg, st, src, mailbox,
						   uidvalidity, sm,
						   err->message, error))
					return false;
				continue;
			}
			g_propagate_error(error, g_steal_pointer(&err));
			return false;
		}
	}
	return true;
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

static void
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
static void
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
static bool
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
static void
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

bool
pipeline_send_outbox(const struct intake_config *cfg, struct store *st,
		     struct pipeline_stats *stats, GError **error)
{
	GPtrArray *due;
	struct smtp_session *s;
	bool ok = true;

	if (cfg->smtp_url == NULL)
		return true;
	due = store_outbox_due(st, (int64_t)time(NULL), error);
	if (due == NULL)
		return false;
	if (due->len == 0) {
		g_ptr_array_unref(due);
		return true;
	}
	s = smtp_session_new(cfg);
	for (unsigned i = 0; i < due->len; i++) {
		const struct store_outbox *o = g_ptr_array_index(due, i);
		struct smtp_result r;
		int64_t now;

		smtp_send(s, cfg->smtp_from_addr, o->rcpt, o->data, o->len, &r);
		now = (int64_t)time(NULL);
		switch (r.outcome) {
		case SMTP_SENT:
			ok = store_outbox_sent(st, o->id, now, error);
			stats->sent++;
			log_info("reply <%s> to %s sent", o->rfc_id, o->rcpt);
			break;
		case SMTP_TEMPFAIL:
			ok = store_outbox_retry(st, o->id, o->attempts, now,
						r.code, r.text, error);
			log_warn("reply <%s> to %s deferred: %s", o->rfc_id,
				 o->rcpt, r.text);
			break;
		default:
			ok = store_outbox_failed(st, o->id, r.code, r.text,
						 error);
			stats->send_failed++;
			log_error("reply <%s> to %s failed: %s", o->rfc_id,
				  o->rcpt, r.text);
			break;
		}
		if (!ok)
			break;
		/* one unreachable server: the rest wait for the next cycle */
		if (r.outcome == SMTP_TEMPFAIL && r.code == 0)
			break;
	}
	smtp_session_free(s);
	g_ptr_array_unref(due);
	return ok;
}

bool
pipeline_cycle(const struct intake_config *cfg, struct store *st,
	       const struct pipeline_opts *opts, struct pipeline_stats *stats,
	       GError **error)
{
	g_autoptr(GError) serr = NULL;
	struct pipeline_proc pp;
	struct source *src;
	bool ok = true;

	memset(stats, 0, sizeof(*stats));
	src = source_new(cfg, error);
	if (src == NULL)
		return false;
	pipeline_proc_init(&pp, cfg, st, opts, stats);
	if (!pipeline_fetch(cfg, st, src, opts, &pp, stats, &serr)) {
		if (serr->code == INTAKE_ERROR_IO ||
		    serr->code == INTAKE_ERROR_FATAL) {
			g_propagate_error(error, g_steal_pointer(&serr));
			pipeline_proc_end(&pp);
			source_free(src);
			return false;
		}
		log_error("%s", serr->message);
		g_strlcpy(stats->source_error, serr->message,
			  sizeof(stats->source_error));
		stats->source_ok = false;
	}
	if (!pipeline_proc_rest(&pp, error))
		ok = false;
	pipeline_proc_end(&pp);
	if (ok && stats->source_ok && !opts->dry_run)
		pipeline_replay_flags(cfg, st, src, true);
	source_free(src);
	if (ok && !opts->dry_run && !pipeline_stopping(opts))
		ok = pipeline_send_outbox(cfg, st, stats, error);
	return ok;
}

bool
pipeline_import_file(const struct intake_config *cfg, struct store *st,
		     const char *path, int64_t *id_r, char *outcome_r,
		     GError **error)
{
	unsigned char buf[INTAKE_IO_BLOCK];
	char sha[SHA256_HEX_LEN + 1];
	struct store_arrival a = {0};
	struct raw_spool *spool;
	struct stat sb;
	FILE *f;
	size_t n;

	f = fopen(path, "rb");
	if (f == NULL) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO, "%s: %s",
			    path, g_strerror(errno));
		return false;
	}
	if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
			    "%s: not a regular file", path);
		fclose(f);
		return false;
	}
	spool = rawstore_spool_new(cfg->state_dir, cfg->limits.max_message_bytes,
				   error);
	if (spool == NULL) {
		fclose(f);
		return false;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		if (!rawstore_spool_write(buf, n, spool, error)) {
			rawstore_spool_abort(spool);
			fclose(f);
			return false;
		}
	}
	if (ferror(f)) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO, "%s: %s",
			    path, g_strerror(errno));
		rawstore_spool_abort(spool);
		fclose(f);
		return false;
	}
	fclose(f);
	if (!rawstore_spool_commit(spool, sha, error))
		return false;
	a.sha256 = sha;
	a.source = "import";
	a.mailbox = NULL;
	a.key = sha; /* the same file imported twice is one message */
	a.arrived = (int64_t)time(NULL);
	a.size = (uint64_t)sb.st_size;
	if (!store_begin(st, error))
		return false;
	if (!store_message_record(st, &a, id_r, outcome_r, error)) {
		store_rollback(st);
		return false;
	}
	return store_commit(st, error);
}
