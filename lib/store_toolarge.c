/*
 * store_toolarge.c - notes of messages too large to download
 *
 * One row a message left in the mailbox for being over max_message_bytes
 * (toolarge.c), by mailbox, UIDVALIDITY and key: what its header said and
 * the Message-ID of the reply it got, if any.  Notes of another
 * UIDVALIDITY name UIDs that mean nothing now and go with the next note.
 */
#include <string.h>
#include <time.h>

#include "store.h"

void
store_too_large_free(struct store_too_large *n)
{
	if (n == NULL)
		return;
	g_free(n->mailbox);
	g_free(n->key);
	g_free(n->from_addr);
	g_free(n->subject);
	g_free(n->unit);
	g_free(n->message_id);
	g_free(n->reply_id);
	g_free(n);
}

bool
store_too_large_known(struct store *st, const char *mailbox,
		      uint32_t uidvalidity, const char *key, bool *known_r,
		      GError **error)
{
	return store_key_exists(st,
				"SELECT 1 FROM too_large WHERE mailbox=? AND"
				" uidvalidity=? AND source_key=?",
				mailbox, uidvalidity, key, known_r, error);
}

bool
store_too_large_replied(struct store *st, const char *mailbox,
			const char *message_id, uint64_t size,
			char **reply_id_r, GError **error)
{
	sqlite3_stmt *stmt = store_prepare(
		st,
		"SELECT reply_id FROM too_large WHERE mailbox=? AND"
		" message_id=? AND size=? AND reply_id IS NOT NULL LIMIT 1",
		error);
	int rc;

	*reply_id_r = NULL;
	if (stmt == NULL)
		return false;
	sqlite3_bind_text(stmt, 1, mailbox, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, message_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, (sqlite3_int64)size);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*reply_id_r = store_col_strdup(stmt, 0);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_set_error(st, error, "too_large");
		return false;
	}
	return true;
}

bool
store_too_large_note(struct store *st, const struct store_too_large *n,
		     bool *new_r, GError **error)
{
	sqlite3_stmt *stmt;
	bool ok;

	*new_r = false;
	/* notes under another UIDVALIDITY name UIDs that mean nothing now */
	if (!store_key_exec(st,
			    "DELETE FROM too_large WHERE mailbox=? AND"
			    " uidvalidity<>?",
			    n->mailbox, n->uidvalidity, NULL, error))
		return false;
	stmt = store_prepare(st,
			     "INSERT OR IGNORE INTO too_large(mailbox,"
			     " uidvalidity, source_key, size, arrived, noted,"
			     " from_addr, subject, unit, message_id, reply_id)"
			     " VALUES(?,?,?,?,?,?,?,?,?,?,?)",
			     error);
	if (stmt == NULL)
		return false;
	sqlite3_bind_text(stmt, 1, n->mailbox, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, n->uidvalidity);
	sqlite3_bind_text(stmt, 3, n->key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 4, (sqlite3_int64)n->size);
	sqlite3_bind_int64(stmt, 5, n->arrived);
	sqlite3_bind_int64(stmt, 6, n->noted ? n->noted : (int64_t)time(NULL));
	sqlite3_bind_text(stmt, 7, n->from_addr, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 8, n->subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 9, n->unit, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 10, n->message_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 11, n->reply_id, -1, SQLITE_STATIC);
	ok = store_step_done(st, stmt, error);
	*new_r = ok && sqlite3_changes(sqlite3_db_handle(stmt)) > 0;
	sqlite3_finalize(stmt);
	return ok;
}

GPtrArray *
store_too_large_list(struct store *st, const char *mailbox, const char *unit,
		     GError **error)
{
	sqlite3_stmt *stmt = store_prepare(
		st,
		"SELECT mailbox, uidvalidity, source_key, size, arrived, noted,"
		" from_addr, subject, unit, message_id, reply_id FROM too_large"
		" WHERE (?1 IS NULL OR mailbox=?1) AND (?2 IS NULL OR unit=?2)"
		" ORDER BY arrived, source_key",
		error);
	GPtrArray *notes;
	int rc;

	if (stmt == NULL)
		return NULL;
	sqlite3_bind_text(stmt, 1, mailbox, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, unit, -1, SQLITE_STATIC);
	notes = g_ptr_array_new_with_free_func(
		(GDestroyNotify)store_too_large_free);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct store_too_large *n = g_new0(struct store_too_large, 1);

		n->mailbox = store_col_strdup(stmt, 0);
		n->uidvalidity = (uint32_t)sqlite3_column_int64(stmt, 1);
		n->key = store_col_strdup(stmt, 2);
		n->size = (uint64_t)sqlite3_column_int64(stmt, 3);
		n->arrived = sqlite3_column_int64(stmt, 4);
		n->noted = sqlite3_column_int64(stmt, 5);
		n->from_addr = store_col_strdup(stmt, 6);
		n->subject = store_col_strdup(stmt, 7);
		n->unit = store_col_strdup(stmt, 8);
		n->message_id = store_col_strdup(stmt, 9);
		n->reply_id = store_col_strdup(stmt, 10);
		g_ptr_array_add(notes, n);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		store_set_error(st, error, "too_large");
		g_ptr_array_unref(notes);
		return NULL;
	}
	return notes;
}

bool
store_too_large_forget(struct store *st, const char *mailbox,
		       uint32_t uidvalidity, const char *key, GError **error)
{
	return store_key_exec(st,
			      "DELETE FROM too_large WHERE mailbox=? AND"
			      " uidvalidity=? AND source_key=?",
			      mailbox, uidvalidity, key, error);
}
