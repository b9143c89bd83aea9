/*
 * store_office.c - queries for the office's views: export, the HTML
 * report, reminders and the daily digest
 *
 * Read-mostly; the only writes are a unit's last_reminded (in the
 * caller's transaction, with the reminders it queues).
 */
#include <string.h>

#include "store.h"

bool
store_unit_reminder_info(struct store *st, const char *unit,
			 int64_t *last_reminded_r, char **undeliverable_r,
			 char **learned_r, GError **error)
{
	sqlite3_stmt *stmt = store_prepare(
		st,
		"SELECT COALESCE(last_reminded, 0), undeliverable,"
		" learned_addresses FROM units WHERE name=?",
		error);
	int rc;

	*last_reminded_r = 0;
	*undeliverable_r = NULL;
	*learned_r = NULL;
	if (stmt == NULL)
		return false;
	sqlite3_bind_text(stmt, 1, unit, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		*last_reminded_r = sqlite3_column_int64(stmt, 0);
		*undeliverable_r = store_col_strdup(stmt, 1);
		*learned_r = store_col_strdup(stmt, 2);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_set_error(st, error, "units");
		return false;
	}
	return true;
}

GPtrArray *
store_unit_senders(struct store *st, const char *unit, unsigned max,
		   GError **error)
{
	sqlite3_stmt *stmt = store_prepare(
		st,
		"SELECT lower(from_addr) AS a FROM messages"
		" WHERE unit=? AND kind='submission' AND state='processed'"
		" AND verdict IN ('accepted','partial')"
		" AND from_addr IS NOT NULL AND from_addr<>''"
		" AND untrusted_from=0"
		" GROUP BY a ORDER BY MAX(arrived) DESC, a LIMIT ?",
		error);
	GPtrArray *out;
	int rc;

	if (stmt == NULL)
		return NULL;
	sqlite3_bind_text(stmt, 1, unit, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, max);
	out = g_ptr_array_new_with_free_func(g_free);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		g_ptr_array_add(out, store_col_strdup(stmt, 0));
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		store_set_error(st, error, "senders");
		g_ptr_array_unref(out);
		return NULL;
	}
	return out;
}

bool
store_unit_set_reminded(struct store *st, const char *unit, int64_t when,
			GError **error)
{
	sqlite3_stmt *stmt = store_prepare(
		st,
		"INSERT INTO units(name, last_reminded) VALUES(?1, ?2)"
		" ON CONFLICT(name) DO UPDATE SET last_reminded=?2",
		error);
	bool ok;

	if (stmt == NULL)
		return false;
	sqlite3_bind_text(stmt, 1, unit, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, when);
	ok = store_step_done(st, stmt, error);
	sqlite3_finalize(stmt);
	return ok;
}

/* One integer from a query with up to two integer parameters. */
static bool
store_office_int(struct store *st, const char *sql, int64_t a, int64_t b,
		 int64_t *value_r, GError **error)
{
	sqlite3_stmt *stmt = store_prepare(st, sql, error);
	int rc;

	*value_r = 0;
	if (stmt == NULL)
		return false;
	if (sqlite3_bind_parameter_count(stmt) >= 1)
		sqlite3_bind_int64(stmt, 1, a);
	if (sqlite3_bind_parameter_count(stmt) >= 2)
		sqlite3_bind_int64(stmt, 2, b);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*value_r = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW) {
		store_set_error(st, error, "count");
		return false;
	}
	return true;
}

bool
store_outbox_last_of_kind(struct store *st, const char *kind,
			  int64_t *created_r, GError **error)
{
	sqlite3_stmt *stmt = store_prepare(
		st, "SELECT COALESCE(MAX(created), 0) FROM outbox WHERE kind=?",
		error);
	int rc;

	*created_r = 0;
	if (stmt == NULL)
		return false;
	sqlite3_bind_text(stmt, 1, kind, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*created_r = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW) {
		store_set_error(st, error, "outbox");
		return false;
	}
	return true;
}

bool
store_unit_last_received(struct store *st, const char *unit, int64_t *last_r,
			 GError **error)
{
	sqlite3_stmt *stmt = store_prepare(
		st,
		"SELECT COALESCE(MAX(received), 0) FROM items"
		" WHERE unit=? AND state='active'",
		error);
	int rc;

	*last_r = 0;
	if (stmt == NULL)
		return false;
	sqlite3_bind_text(stmt, 1, unit, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*last_r = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW) {
		store_set_error(st, error, "last received");
		return false;
	}
	return true;
}

bool
store_office_counts(struct store *st, int64_t since, int64_t expiring_before,
		    struct store_office_counts *counts_r, GError **error)
{
	static const char *const sql[] = {
		"SELECT COUNT(*) FROM messages WHERE state='held'"
		" AND verdict='unidentified'",
		"SELECT COUNT(*) FROM messages WHERE state='failed'",
		"SELECT COUNT(*) FROM messages WHERE state='pending'",
		"SELECT COUNT(*) FROM outbox WHERE state='failed'",
		"SELECT COUNT(*) FROM outbox WHERE state='queued'",
		"SELECT COUNT(*) FROM messages WHERE arrived>=?1"
		" AND duplicate_of IS NULL",
		"SELECT COUNT(*) FROM items WHERE type='link' AND accepted=1"
		" AND state='active' AND expires>0 AND expires<?2",
		"SELECT COUNT(*) FROM too_large",
	};
	unsigned *dst[G_N_ELEMENTS(sql)] = {
		&counts_r->unidentified,   &counts_r->failed_messages,
		&counts_r->pending,        &counts_r->failed_replies,
		&counts_r->queued_mail,    &counts_r->received_since,
		&counts_r->links_expiring, &counts_r->too_large,
	};

	memset(counts_r, 0, sizeof(*counts_r));
	for (size_t i = 0; i < G_N_ELEMENTS(sql); i++) {
		int64_t v = 0;

		if (!store_office_int(st, sql[i], since, expiring_before, &v,
				      error))
			return false;
		*dst[i] = (unsigned)v;
	}
	return true;
}
