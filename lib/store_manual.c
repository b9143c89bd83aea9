/*
 * store_manual.c - what intakectl add, receive and withdraw need of the
 * database beyond store_items.c: an item's note, and where a unit's mail
 * comes from when units.conf lists no address
 */
#include "store.h"

bool
store_item_set_note(struct store *st, int64_t id, const char *note,
		    GError **error)
{
	sqlite3_stmt *stmt =
		store_prepare(st, "UPDATE items SET note=? WHERE id=?", error);
	bool ok;

	if (stmt == NULL)
		return false;
	if (note != NULL)
		sqlite3_bind_text(stmt, 1, note, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(stmt, 1);
	sqlite3_bind_int64(stmt, 2, id);
	ok = store_step_done(st, stmt, error);
	sqlite3_finalize(stmt);
	return ok;
}

bool
store_unit_last_sender(struct store *st, const char *unit, char **addr_r,
		       GError **error)
{
	sqlite3_stmt *stmt = store_prepare(
		st,
		"SELECT COALESCE(reply_to, from_addr) FROM messages"
		" WHERE unit=? AND kind='submission' AND state='processed'"
		" AND COALESCE(reply_to, from_addr) IS NOT NULL"
		" ORDER BY arrived DESC, id DESC LIMIT 1",
		error);
	int rc;

	*addr_r = NULL;
	if (stmt == NULL)
		return false;
	sqlite3_bind_text(stmt, 1, unit, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*addr_r = store_col_strdup(stmt, 0);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_set_error(st, error, "unit sender");
		return false;
	}
	return true;
}
