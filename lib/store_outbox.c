/*
 * store_outbox.c - the outbox: replies and reminders waiting to be sent
 *
 * A reply is queued in the same transaction as the filing it reports, with
 * the Message-ID it will carry, so a retried send is recognisably the same
 * mail.  Temporary failures back off exponentially (1 minute, doubling, at
 * most an hour); permanent failures keep the server's text for the office.
 */
#include <string.h>

#include "store.h"

#define OUTBOX_BACKOFF_FIRST 60
#define OUTBOX_BACKOFF_MAX 3600

void
store_outbox_free(struct store_outbox *o)
{
	if (o == NULL)
		return;
	g_free(o->rfc_id);
	g_free(o->rcpt);
	g_free(o->data);
	g_free(o);
}

bool
store_outbox_add(struct store *st, int64_t message, const char *unit,
		 const char *kind, const char *rfc_id, const char *rcpt,
		 const char *verdict, const char *data, size_t len, int64_t now,
		 GError **error)
{
	sqlite3_stmt *stmt = store_prepare(
		st,
		"INSERT INTO outbox(message, unit, kind, rfc_id, rcpt, verdict,"
		" data, next_attempt, created) VALUES(?,?,?,?,?,?,?,?,?)",
		error);
	bool ok;

	if (stmt == NULL)
		return false;
	if (message)
		sqlite3_bind_int64(stmt, 1, message);
	else
		sqlite3_bind_null(stmt, 1);
	sqlite3_bind_text(stmt, 2, unit, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, rfc_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 5, rcpt, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 6, verdict, -1, SQLITE_STATIC);
	sqlite3_bind_blob64(stmt, 7, data, len, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 8, now);
	sqlite3_bind_int64(stmt, 9, now);
	ok = store_step_done(st, stmt, error);
	sqlite3_finalize(stmt);
	return ok;
}

GPtrArray *
store_outbox_due(struct store *st, int64_t now, GError **error)
{
	sqlite3_stmt *stmt = store_prepare(
		st,
		"SELECT id, COALESCE(message, 0), rfc_id, rcpt, data, attempts"
		" FROM outbox WHERE state='queued' AND next_attempt<=?"
		" ORDER BY id",
		error);
	GPtrArray *due;
	int rc;

	if (stmt == NULL)
		return NULL;
	sqlite3_bind_int64(stmt, 1, now);
	due = g_ptr_array_new_with_free_func((GDestroyNotify)store_outbox_free);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct store_outbox *o = g_new0(struct store_outbox, 1);
		const void *blob = sqlite3_column_blob(stmt, 4);

		o->id = sqlite3_column_int64(stmt, 0);
		o->message = sqlite3_column_int64(stmt, 1);
		o->rfc_id = store_col_strdup(stmt, 2);
		o->rcpt = store_col_strdup(stmt, 3);
		o->len = (size_t)sqlite3_column_bytes(stmt, 4);
		o->data = g_malloc(o->len + 1);
		if (o->len)
			memcpy(o->data, blob, o->len);
		o->data[o->len] = '\0';
		o->attempts = (unsigned)sqlite3_column_int(stmt, 5);
		g_ptr_array_add(due, o);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		store_set_error(st, error, "outbox");
		g_ptr_array_unref(due);
		return NULL;
	}
	return due;
}

static bool
store_outbox_update(struct store *st, const char *sql, int64_t id,
		    int64_t a, long code, const char *text, GError **error)
{
	sqlite3_stmt *stmt = store_prepare(st, sql, error);
	bool ok;

	if (stmt == NULL)
		return false;
	sqlite3_bind_int64(stmt, 1, a);
	sqlite3_bind_int64(stmt, 2, code);
	if (text != NULL)
		sqlite3_bind_text(stmt, 3, text, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(stmt, 3);
	sqlite3_bind_int64(stmt, 4, id);
	ok = store_step_done(st, stmt, error);
	sqlite3_finalize(stmt);
	return ok;
}

bool
store_outbox_sent(struct store *st, int64_t id, int64_t now, GError **error)
{
	return store_outbox_update(
		st,
		"UPDATE outbox SET state='sent', sent=?1, attempts=attempts+1,"
		" last_code=?2, last_error=?3 WHERE id=?4",
		id, now, 250, NULL, error);
}

bool
store_outbox_retry(struct store *st, int64_t id, unsigned attempts,
		   int64_t now, long code, const char *text, GError **error)
{
	int64_t delay = OUTBOX_BACKOFF_FIRST;

	for (unsigned i = 0; i < attempts && delay < OUTBOX_BACKOFF_MAX; i++)
		delay *= 2;
	if (delay > OUTBOX_BACKOFF_MAX)
		delay = OUTBOX_BACKOFF_MAX;
	return store_outbox_update(
		st,
		"UPDATE outbox SET next_attempt=?1, attempts=attempts+1,"
		" last_code=?2, last_error=?3 WHERE id=?4",
		id, now + delay, code, text, error);
}

bool
store_outbox_failed(struct store *st, int64_t id, long code, const char *text,
		    GError **error)
{
	return store_outbox_update(
		st,
		"UPDATE outbox SET state='failed', attempts=attempts+1,"
		" next_attempt=?1, last_code=?2, last_error=?3 WHERE id=?4",
		id, 0, code, text, error);
}

bool
store_outbox_count_to(struct store *st, const char *rcpt, int64_t since,
		      unsigned *count_r, GError **error)
{
	sqlite3_stmt *stmt = store_prepare(
		st,
		"SELECT COUNT(*) FROM outbox WHERE rcpt=? AND created>=?"
		" AND kind='reply'",
		error);
	int rc;

	if (stmt == NULL)
		return false;
	sqlite3_bind_text(stmt, 1, rcpt, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, since);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*count_r = (unsigned)sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW) {
		store_set_error(st, error, "outbox count");
		return false;
	}
	return true;
}

bool
store_outbox_bounced(struct store *st, const char *rfc_id, const char *why,
		     bool *matched_r, GError **error)
{
	sqlite3_stmt *stmt = store_prepare(
		st,
		"UPDATE outbox SET state='failed', last_error=? WHERE rfc_id=?"
		" RETURNING rcpt, unit",
		error);
	g_autofree char *rcpt = NULL;
	g_autofree char *unit = NULL;
	int rc;

	*matched_r = false;
	if (stmt == NULL)
		return false;
	sqlite3_bind_text(stmt, 1, why, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, rfc_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		rcpt = store_col_strdup(stmt, 0);
		unit = store_col_strdup(stmt, 1);
		sqlite3_step(stmt);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_set_error(st, error, "bounce");
		return false;
	}
	if (rc == SQLITE_DONE)
		return true;
	*matched_r = true;
	if (unit == NULL)
		return true;
	/* The address is undeliverable: remembered with the unit. */
	stmt = store_prepare(
		st,
		"INSERT INTO units(name, undeliverable) VALUES(?1, ?2)"
		" ON CONFLICT(name) DO UPDATE SET undeliverable ="
		" CASE WHEN undeliverable IS NULL OR undeliverable='' THEN ?2"
		" WHEN instr(';' || undeliverable || ';', ';' || ?2 || ';') > 0"
		" THEN undeliverable ELSE undeliverable || ';' || ?2 END",
		error);
	if (stmt == NULL)
		return false;
	sqlite3_bind_text(stmt, 1, unit, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, rcpt, -1, SQLITE_STATIC);
	rc = store_step_done(st, stmt, error);
	sqlite3_finalize(stmt);
	return rc;
}
