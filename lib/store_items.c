/*
 * store_items.c - items: every attachment or link of a message, and what
 * the office added by hand
 */
#include <string.h>

#include "store.h"

#define ITEM_COLUMNS                                                       \
	"id, message, unit, name, type, accepted, reason, sha256, size,"   \
	" width, height, duration, codec, caption, url, path, number, late," \
	" origin, state, received, expires, note, added_by"

static const char *
item_state_name(enum item_state s)
{
	switch (s) {
	case ITEM_ACTIVE:
		return "active";
	case ITEM_REPLACED:
		return "replaced";
	case ITEM_WITHDRAWN:
		break;
	}
	return "withdrawn";
}

static enum item_type
item_type_parse(const char *s)
{
	static const enum item_type types[] = {ITEM_PHOTO, ITEM_VIDEO,
					       ITEM_SUMMARY, ITEM_LINK};

	for (size_t i = 0; s != NULL && i < G_N_ELEMENTS(types); i++)
		if (strcmp(s, item_type_name(types[i])) == 0)
			return types[i];
	return ITEM_OTHER;
}

void
store_item_clear(struct store_item *it)
{
	g_free(it->unit);
	g_free(it->name);
	g_free(it->reason);
	g_free(it->sha256);
	g_free(it->codec);
	g_free(it->caption);
	g_free(it->url);
	g_free(it->path);
	g_free(it->origin);
	g_free(it->note);
	g_free(it->added_by);
	memset(it, 0, sizeof(*it));
}

void
store_item_free(struct store_item *it)
{
	if (it == NULL)
		return;
	store_item_clear(it);
	g_free(it);
}

static void
store_bind_opt_text(sqlite3_stmt *stmt, int col, const char *s)
{
	if (s != NULL)
		sqlite3_bind_text(stmt, col, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(stmt, col);
}

bool
store_item_add(struct store *st, struct store_item *it, GError **error)
{
	sqlite3_stmt *stmt = store_prepare(
		st,
		"INSERT INTO items(message, unit, name, type, accepted, reason,"
		" sha256, size, width, height, duration, codec, caption, url,"
		" path, number, late, origin, state, received, expires, note,"
		" added_by)"
		" VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
		error);
	bool ok;

	if (stmt == NULL)
		return false;
	if (it->message)
		sqlite3_bind_int64(stmt, 1, it->message);
	else
		sqlite3_bind_null(stmt, 1);
	store_bind_opt_text(stmt, 2, it->unit);
	sqlite3_bind_text(stmt, 3, it->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, item_type_name(it->type), -1,
			  SQLITE_STATIC);
	sqlite3_bind_int(stmt, 5, it->accepted);
	store_bind_opt_text(stmt, 6, it->reason);
	store_bind_opt_text(stmt, 7, it->sha256);
	sqlite3_bind_int64(stmt, 8, (sqlite3_int64)it->size);
	sqlite3_bind_int(stmt, 9, (int)it->width);
	sqlite3_bind_int(stmt, 10, (int)it->height);
	sqlite3_bind_double(stmt, 11, it->duration);
	store_bind_opt_text(stmt, 12, it->codec);
	store_bind_opt_text(stmt, 13, it->caption);
	store_bind_opt_text(stmt, 14, it->url);
	store_bind_opt_text(stmt, 15, it->path);
	sqlite3_bind_int(stmt, 16, (int)it->number);
	sqlite3_bind_int(stmt, 17, it->late);
	sqlite3_bind_text(stmt, 18, it->origin ? it->origin : "mail", -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(stmt, 19, item_state_name(it->state), -1,
			  SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 20, it->received);
	sqlite3_bind_int64(stmt, 21, it->expires);
	store_bind_opt_text(stmt, 22, it->note);
	store_bind_opt_text(stmt, 23, it->added_by);
	ok = store_step_done(st, stmt, error);
	sqlite3_finalize(stmt);
	if (ok)
		it->id = sqlite3_last_insert_rowid(store_db(st));
	return ok;
}

static struct store_item *
store_item_from_row(sqlite3_stmt *stmt)
{
	struct store_item *it = g_new0(struct store_item, 1);
	const char *state = (const char *)sqlite3_column_text(stmt, 19);

	it->id = sqlite3_column_int64(stmt, 0);
	it->message = sqlite3_column_int64(stmt, 1);
	it->unit = store_col_strdup(stmt, 2);
	it->name = store_col_strdup(stmt, 3);
	it->type = item_type_parse((const char *)sqlite3_column_text(stmt, 4));
	it->accepted = sqlite3_column_int(stmt, 5) != 0;
	it->reason = store_col_strdup(stmt, 6);
	it->sha256 = store_col_strdup(stmt, 7);
	it->size = (uint64_t)sqlite3_column_int64(stmt, 8);
	it->width = (unsigned)sqlite3_column_int(stmt, 9);
	it->height = (unsigned)sqlite3_column_int(stmt, 10);
	it->duration = sqlite3_column_double(stmt, 11);
	it->codec = store_col_strdup(stmt, 12);
	it->caption = store_col_strdup(stmt, 13);
	it->url = store_col_strdup(stmt, 14);
	it->path = store_col_strdup(stmt, 15);
	it->number = (unsigned)sqlite3_column_int(stmt, 16);
	it->late = sqlite3_column_int(stmt, 17) != 0;
	it->origin = store_col_strdup(stmt, 18);
	if (state != NULL && strcmp(state, "replaced") == 0)
		it->state = ITEM_REPLACED;
	else if (state != NULL && strcmp(state, "withdrawn") == 0)
		it->state = ITEM_WITHDRAWN;
	else
		it->state = ITEM_ACTIVE;
	it->received = sqlite3_column_int64(stmt, 20);
	it->expires = sqlite3_column_int64(stmt, 21);
	it->note = store_col_strdup(stmt, 22);
	it->added_by = store_col_strdup(stmt, 23);
	return it;
}

static GPtrArray *
store_items_query(struct store *st, sqlite3_stmt *stmt, GError **error)
{
	GPtrArray *items =
		g_ptr_array_new_with_free_func((GDestroyNotify)store_item_free);
	int rc;

	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		g_ptr_array_add(items, store_item_from_row(stmt));
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		store_set_error(st, error, "items");
		g_ptr_array_unref(items);
		return NULL;
	}
	return items;
}

GPtrArray *
store_items_of_message(struct store *st, int64_t message, GError **error)
{
	sqlite3_stmt *stmt = store_prepare(
		st,
		"SELECT " ITEM_COLUMNS " FROM items WHERE message=? ORDER BY id",
		error);

	if (stmt == NULL)
		return NULL;
	sqlite3_bind_int64(stmt, 1, message);
	return store_items_query(st, stmt, error);
}

GPtrArray *
store_items_of_unit(struct store *st, const char *unit, bool active_only,
		    GError **error)
{
	sqlite3_stmt *stmt = store_prepare(
		st,
		active_only ? "SELECT " ITEM_COLUMNS " FROM items WHERE unit=?"
			      " AND accepted=1 AND state='active' ORDER BY id"
			    : "SELECT " ITEM_COLUMNS " FROM items WHERE unit=?"
			      " ORDER BY id",
		error);

	if (stmt == NULL)
		return NULL;
	sqlite3_bind_text(stmt, 1, unit, -1, SQLITE_STATIC);
	return store_items_query(st, stmt, error);
}

struct store_item *
store_item_get(struct store *st, int64_t id, GError **error)
{
	sqlite3_stmt *stmt = store_prepare(
		st, "SELECT " ITEM_COLUMNS " FROM items WHERE id=?", error);
	struct store_item *it = NULL;
	int rc;

	if (stmt == NULL)
		return NULL;
	sqlite3_bind_int64(stmt, 1, id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		it = store_item_from_row(stmt);
	else if (rc != SQLITE_DONE)
		store_set_error(st, error, "item");
	sqlite3_finalize(stmt);
	return it;
}

bool
store_item_set_caption(struct store *st, int64_t id, const char *caption,
		       const char *path, GError **error)
{
	sqlite3_stmt *stmt = store_prepare(
		st, "UPDATE items SET caption=?, path=COALESCE(?, path) WHERE id=?",
		error);
	bool ok;

	if (stmt == NULL)
		return false;
	store_bind_opt_text(stmt, 1, caption);
	store_bind_opt_text(stmt, 2, path);
	sqlite3_bind_int64(stmt, 3, id);
	ok = store_step_done(st, stmt, error);
	sqlite3_finalize(stmt);
	return ok;
}

bool
store_item_set_state(struct store *st, int64_t id, enum item_state s,
		     const char *path, GError **error)
{
	sqlite3_stmt *stmt = store_prepare(
		st, "UPDATE items SET state=?, path=COALESCE(?, path) WHERE id=?",
		error);
	bool ok;

	if (stmt == NULL)
		return false;
	sqlite3_bind_text(stmt, 1, item_state_name(s), -1, SQLITE_STATIC);
	store_bind_opt_text(stmt, 2, path);
	sqlite3_bind_int64(stmt, 3, id);
	ok = store_step_done(st, stmt, error);
	sqlite3_finalize(stmt);
	return ok;
}

bool
store_items_delete_of_message(struct store *st, int64_t message,
			      GError **error)
{
	sqlite3_stmt *stmt =
		store_prepare(st, "DELETE FROM items WHERE message=?", error);
	bool ok;

	if (stmt == NULL)
		return false;
	sqlite3_bind_int64(stmt, 1, message);
	ok = store_step_done(st, stmt, error);
	sqlite3_finalize(stmt);
	return ok;
}

GPtrArray *
store_items_not_aside(struct store *st, GError **error)
{
	sqlite3_stmt *stmt = store_prepare(
		st,
		"SELECT " ITEM_COLUMNS " FROM items WHERE state<>'active' AND"
		" path IS NOT NULL AND instr(path, '/.withdrawn/')=0"
		" ORDER BY id",
		error);

	if (stmt == NULL)
		return NULL;
	return store_items_query(st, stmt, error);
}

GHashTable *
store_known_paths(struct store *st, GError **error)
{
	sqlite3_stmt *stmt = store_prepare(
		st, "SELECT path FROM items WHERE path IS NOT NULL", error);
	GHashTable *set;
	int rc;

	if (stmt == NULL)
		return NULL;
	set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		g_hash_table_add(set, store_col_strdup(stmt, 0));
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		store_set_error(st, error, "paths");
		g_hash_table_unref(set);
		return NULL;
	}
	return set;
}
