/*
 * pipeline.c - one cycle: discover, fetch, process, reply, mark
 *
 * The durable order (DESIGN.md §3), and where each step is done:
 *   fetch    pipeline_fetch_one(): a \Seen restore owed is noted first
 *            (IMAP's BODY[] sets \Seen on an unseen message); the message
 *            is spooled while it is hashed, fsynced, renamed into raw/
 *            and raw/<aa>/ fsynced (rawstore_spool_commit); only then ONE
 *            transaction records it, moves the cursor and drops the note.
 *   process  pipeline_proc_start() (pipeline_proc.c): the attempt is
 *            counted in its own transaction before the worker starts; the
 *            worker (process_message, process.h) files items with temp +
 *            fsync + rename + fsync of the folder, then commits items,
 *            dossier, queued reply and the message's state in ONE
 *            transaction.
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
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "filing.h"
#include "log.h"
#include "pipeline.h"
#include "pipeline_proc.h"
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
