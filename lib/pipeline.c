/*
 * pipeline.c - one cycle: discover, fetch, process, reply, mark
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "filing.h"
#include "log.h"
#include "pipeline.h"
#include "process.h"
#include "rawstore.h"
#include "smtp.h"
#include "source.h"
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

/* Removes <state_dir>/work/ left by a worker that died. */
static void
pipeline_rmtree(const char *path, unsigned depth)
{
	GDir *d;
	const char *name;

	if (depth > 8)
		return;
	d = g_dir_open(path, 0, NULL);
	if (d != NULL) {
		while ((name = g_dir_read_name(d)) != NULL) {
			g_autofree char *child = g_build_filename(path, name, NULL);

			if (g_file_test(child, G_FILE_TEST_IS_DIR) &&
			    !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
				pipeline_rmtree(child, depth + 1);
			else
				unlink(child);
		}
		g_dir_close(d);
	}
	rmdir(path);
}

bool
pipeline_recover(const struct intake_config *cfg, struct store *st,
		 GError **error)
{
	g_autofree char *work = g_build_filename(cfg->state_dir, "work", NULL);
	GHashTable *known;
	int removed;

	rawstore_cleanup(cfg->state_dir);
	pipeline_rmtree(work, 0);
	known = store_known_paths(st, error);
	if (known == NULL)
		return false;
	removed = filing_cleanup(cfg->state_dir, known, error);
	g_hash_table_unref(known);
	if (removed < 0)
		return false;
	if (removed > 0)
		log_warn("recovery: removed %d file(s) under units/ that no "
			 "committed message owns", removed);
	return true;
}

/*
 * Fetch one message: spool (hashing as it arrives), fsync, rename into
 * raw/, fsync the directory (rawstore_spool_commit), and only then record
 * it, with the cursor, in one transaction.  From here it can always be
 * processed again from raw/.
 */
static bool
pipeline_fetch_one(const struct intake_config *cfg, struct store *st,
		   struct source *src, const char *mailbox,
		   uint32_t uidvalidity, const struct source_msg *sm,
		   struct pipeline_stats *stats, GError **error)
{
	struct raw_spool *spool;
	char sha[SHA256_HEX_LEN + 1];
	struct store_arrival a = {0};
	struct source_cursor cur = {uidvalidity, sm->uid};
	struct source_cursor old;
	int64_t id = 0;
	char outcome = 0;

	spool = rawstore_spool_new(cfg->state_dir, cfg->limits.max_message_bytes,
				   error);
	if (spool == NULL)
		return false;
	if (!src->ops->fetch(src, sm, rawstore_spool_write, spool, error)) {
		rawstore_spool_abort(spool);
		/* a partial BODY[] may have set \Seen on an unseen message */
		if (!sm->seen && strcmp(src->ops->name, "imap") == 0)
			src->ops->restore_seen(src, sm->key, NULL);
		return false;
	}
	if (!rawstore_spool_commit(spool, sha, error))
		return false;

	a.sha256 = sha;
	a.source = src->ops->name;
	a.mailbox = mailbox;
	a.uidvalidity = uidvalidity;
	a.key = sm->key;
	a.flags = sm->flags;
	/* IMAP's BODY[] set \Seen on a message that was unseen */
	a.restore_seen = !sm->seen && strcmp(src->ops->name, "imap") == 0;
	a.arrived = sm->internaldate ? sm->internaldate : (int64_t)time(NULL);
	a.size = sm->size;
	if (!store_begin(st, error))
		return false;
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
	if (!store_commit(st, error))
		return false;
	if (outcome == 'd') {
		stats->duplicates++;
		log_info("message %" G_GINT64_FORMAT ": %s is a byte-identical "
			 "redelivery, no reply", id, sm->key);
	} else if (outcome == 'n') {
		stats->fetched++;
		log_debug("message %" G_GINT64_FORMAT ": fetched %s (%s)", id,
			  sm->key, sha);
	}
	if (a.restore_seen) {
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
	return false;
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
	       struct pipeline_stats *stats, GError **error)
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
		if (!pipeline_fetch_one(cfg, st, src, mailbox, uidvalidity, sm,
					stats, &err)) {
			if (err->code == INTAKE_ERROR_LIMIT) {
				/* too large to download: the office decides */
				log_error("%s %s: %s", mailbox, sm->key,
					  err->message);
				continue;
			}
			g_propagate_error(error, g_steal_pointer(&err));
			return false;
		}
	}
	return true;
}

static bool pipeline_process_locked(const struct intake_config *cfg,
				    struct store *st,
				    const struct pipeline_opts *opts,
				    struct pipeline_stats *stats,
				    GError **error);

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
 * that no message is processed by two at once.
 */
int
pipeline_lock(const struct intake_config *cfg, GError **error)
{
	g_autofree char *path =
		g_build_filename(cfg->state_dir, "process.lock", NULL);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);

	if (fd < 0 || flock(fd, LOCK_EX) != 0) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
			    "cannot lock %s: %s", path, g_strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

bool
pipeline_process_pending(const struct intake_config *cfg, struct store *st,
			 const struct pipeline_opts *opts,
			 struct pipeline_stats *stats, GError **error)
{
	int lock = pipeline_lock(cfg, error);
	bool ok;

	if (lock < 0)
		return false;
	ok = pipeline_process_locked(cfg, st, opts, stats, error);
	close(lock);
	return ok;
}

static bool
pipeline_process_locked(const struct intake_config *cfg, struct store *st,
			const struct pipeline_opts *opts,
			struct pipeline_stats *stats, GError **error)
{
	GArray *ids = store_messages_in_state(st, MSG_PENDING, error);

	if (ids == NULL)
		return false;
	for (unsigned i = 0; i < ids->len && !pipeline_stopping(opts); i++) {
		struct pipeline_job job = {cfg, g_array_index(ids, int64_t, i)};
		g_autofree char *why = NULL;
		enum worker_status ws;
		unsigned attempts = 0;

		/* the attempt is counted durably before the worker starts */
		if (!store_message_attempt(st, job.id, &attempts, error))
			goto fail;
		if (attempts > cfg->limits.max_attempts) {
			if (!store_message_fail(st, job.id,
						"gave up after repeated "
						"failed attempts", error))
				goto fail;
			stats->failed++;
			continue;
		}
		pipeline_tick(opts);
		ws = worker_run(pipeline_job_run, &job,
				cfg->limits.worker_seconds,
				cfg->limits.worker_memory, &why);
		if (ws == WORKER_OK) {
			stats->processed++;
			continue;
		}
		log_error("message %" G_GINT64_FORMAT ": attempt %u of %u: %s",
			  job.id, attempts, cfg->limits.max_attempts,
			  why ? why : "failed");
		if (attempts >= cfg->limits.max_attempts) {
			if (!store_message_fail(st, job.id, why, error))
				goto fail;
			stats->failed++;
		}
	}
	g_array_unref(ids);
	return true;
fail:
	g_array_unref(ids);
	return false;
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
	struct source *src;
	bool ok = true;

	memset(stats, 0, sizeof(*stats));
	src = source_new(cfg, error);
	if (src == NULL)
		return false;
	if (!pipeline_fetch(cfg, st, src, opts, stats, &serr)) {
		if (serr->code == INTAKE_ERROR_IO ||
		    serr->code == INTAKE_ERROR_FATAL) {
			g_propagate_error(error, g_steal_pointer(&serr));
			source_free(src);
			return false;
		}
		log_error("%s", serr->message);
		g_strlcpy(stats->source_error, serr->message,
			  sizeof(stats->source_error));
		stats->source_ok = false;
	}
	if (!pipeline_process_pending(cfg, st, opts, stats, error))
		ok = false;
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
