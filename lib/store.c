/*
 * store.c - SQLite: connection, schema and migrations, messages, cursor
 *
 * Items, the outbox and the notes of messages too large to download are
 * in store_items.c, store_outbox.c and store_toolarge.c.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "store.h"

struct store {
	sqlite3 *db;
};

#define STORE_WAL_TRIES 200        /* x STORE_WAL_PAUSE_US: 10 s at most */
#define STORE_WAL_PAUSE_US 50000

/*
 * The schema.  Version 1.  Each later version adds a migration step to
 * store_migrate() and bumps STORE_SCHEMA_VERSION; a file written by a
 * newer intake is refused rather than damaged.
 */
static const char *const store_schema_v1 =
	"CREATE TABLE cursor ("
	"  mailbox TEXT PRIMARY KEY,"
	"  uidvalidity INTEGER NOT NULL,"
	"  last_uid INTEGER NOT NULL);"
	"CREATE TABLE messages ("
	"  id INTEGER PRIMARY KEY,"
	"  sha256 TEXT NOT NULL,"
	"  source TEXT NOT NULL,"
	"  mailbox TEXT,"
	"  uidvalidity INTEGER NOT NULL DEFAULT 0,"
	"  source_key TEXT NOT NULL,"
	"  server_flags TEXT,"
	"  arrived INTEGER NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  restore_seen INTEGER NOT NULL DEFAULT 0,"
	"  mark_pending INTEGER NOT NULL DEFAULT 0,"
	"  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN"
	"    ('pending','processed','held','failed')),"
	"  kind TEXT,"
	"  verdict TEXT,"
	"  unit TEXT,"
	"  unit_how TEXT,"
	"  message_id TEXT,"
	"  from_addr TEXT,"
	"  from_name TEXT,"
	"  reply_to TEXT,"
	"  subject TEXT,"
	"  date_hdr TEXT,"
	"  untrusted_from INTEGER NOT NULL DEFAULT 0,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  error TEXT,"
	"  duplicate_of INTEGER REFERENCES messages(id),"
	"  recorded INTEGER NOT NULL,"
	"  processed INTEGER,"
	"  UNIQUE (mailbox, uidvalidity, source_key));"
	"CREATE INDEX messages_sha ON messages(sha256);"
	"CREATE INDEX messages_state ON messages(state);"
	"CREATE TABLE units ("
	"  name TEXT PRIMARY KEY,"
	"  learned_addresses TEXT,"
	"  undeliverable TEXT,"
	"  last_reminded INTEGER);"
	"CREATE TABLE items ("
	"  id INTEGER PRIMARY KEY,"
	"  message INTEGER REFERENCES messages(id),"
	"  unit TEXT,"
	"  name TEXT NOT NULL,"
	"  type TEXT NOT NULL,"
	"  accepted INTEGER NOT NULL,"
	"  reason TEXT,"
	"  sha256 TEXT,"
	"  size INTEGER NOT NULL DEFAULT 0,"
	"  width INTEGER NOT NULL DEFAULT 0,"
	"  height INTEGER NOT NULL DEFAULT 0,"
	"  duration REAL NOT NULL DEFAULT 0,"
	"  codec TEXT,"
	"  caption TEXT,"
	"  url TEXT,"
	"  path TEXT,"
	"  number INTEGER NOT NULL DEFAULT 0,"
	"  late INTEGER NOT NULL DEFAULT 0,"
	"  origin TEXT NOT NULL DEFAULT 'mail',"
	"  state TEXT NOT NULL DEFAULT 'active' CHECK (state IN"
	"    ('active','replaced','withdrawn')),"
	"  received INTEGER NOT NULL);"
	"CREATE INDEX items_message ON items(message);"
	"CREATE INDEX items_unit ON items(unit, type, state);"
	"CREATE TABLE outbox ("
	"  id INTEGER PRIMARY KEY,"
	"  message INTEGER REFERENCES messages(id),"
	"  unit TEXT,"
	"  kind TEXT NOT NULL,"
	"  rfc_id TEXT NOT NULL UNIQUE,"
	"  rcpt TEXT NOT NULL,"
	"  verdict TEXT,"
	"  data BLOB NOT NULL,"
	"  state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN"
	"    ('queued','sent','failed')),"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_attempt INTEGER NOT NULL,"
	"  last_code INTEGER,"
	"  last_error TEXT,"
	"  created INTEGER NOT NULL,"
	"  sent INTEGER);"
	"CREATE INDEX outbox_state ON outbox(state, next_attempt);"
	"CREATE INDEX outbox_rcpt ON outbox(rcpt, created);";

/*
 * Version 2: items remember who added them by hand and a note (intakectl
 * add, receive, withdraw), and when a large-file link expires.
 */
static const char *const store_schema_v2 =
	"ALTER TABLE items ADD COLUMN note TEXT;"
	"ALTER TABLE items ADD COLUMN added_by TEXT;"
	"ALTER TABLE items ADD COLUMN expires INTEGER NOT NULL DEFAULT 0;";

/*
 * Version 3: \Seen restores owed for messages being downloaded.  IMAP's
 * BODY[] sets \Seen before the message is recorded; a note made before
 * the download (and dropped in the transaction that records the message)
 * lets the next start restore \Seen when the daemon died in between.
 */
static const char *const store_schema_v3 =
	"CREATE TABLE seen_owed ("
	"  mailbox TEXT NOT NULL,"
	"  uidvalidity INTEGER NOT NULL,"
	"  source_key TEXT NOT NULL,"
	"  PRIMARY KEY (mailbox, uidvalidity, source_key));";

/*
 * Version 4: messages too large to download, noted so that the office
 * sees them (intakectl status) and the log names each once.
 */
static const char *const store_schema_v4 =
	"CREATE TABLE too_large ("
	"  mailbox TEXT NOT NULL,"
	"  uidvalidity INTEGER NOT NULL,"
	"  source_key TEXT NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  arrived INTEGER NOT NULL,"
	"  noted INTEGER NOT NULL,"
	"  PRIMARY KEY (mailbox, uidvalidity, source_key));";

/*
 * Version 5: what the header of a message too large to download says
 * (read with BODY.PEEK[HEADER], toolarge.c), for the office, and the
 * Message-ID of the one reply its sender was sent.  Notes made before
 * have NULL there: their header was never read.
 */
static const char *const store_schema_v5 =
	"ALTER TABLE too_large ADD COLUMN from_addr TEXT;"
	"ALTER TABLE too_large ADD COLUMN subject TEXT;"
	"ALTER TABLE too_large ADD COLUMN unit TEXT;"
	"ALTER TABLE too_large ADD COLUMN message_id TEXT;"
	"ALTER TABLE too_large ADD COLUMN reply_id TEXT;";

void
store_set_error(struct store *st, GError **error, const char *what)
{
	g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO, "database: %s: %s",
		    what, sqlite3_errmsg(st->db));
}

bool
store_exec(struct store *st, const char *sql, GError **error)
{
	char *msg = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
			    "database: %s", msg ? msg : "error");
		sqlite3_free(msg);
		return false;
	}
	return true;
}

sqlite3_stmt *
store_prepare(struct store *st, const char *sql, GError **error)
{
	sqlite3_stmt *stmt = NULL;

	if (sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		store_set_error(st, error, "prepare");
		return NULL;
	}
	return stmt;
}

bool
store_step_done(struct store *st, sqlite3_stmt *stmt, GError **error)
{
	int rc = sqlite3_step(stmt);

	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		store_set_error(st, error, "step");
		return false;
	}
	return true;
}

char *
store_col_strdup(sqlite3_stmt *stmt, int col)
{
	const unsigned char *t = sqlite3_column_text(stmt, col);

	return t ? g_strdup((const char *)t) : NULL;
}

bool
store_begin(struct store *st, GError **error)
{
	return store_exec(st, "BEGIN IMMEDIATE", error);
}

bool
store_commit(struct store *st, GError **error)
{
	return store_exec(st, "COMMIT", error);
}

void
store_rollback(struct store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

sqlite3 *
store_db(struct store *st)
{
	return st->db;
}

static bool
store_pragma_int(struct store *st, const char *sql, int *value_r,
		 GError **error)
{
	sqlite3_stmt *stmt = store_prepare(st, sql, error);
	bool ok = false;

	if (stmt == NULL)
		return false;
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		*value_r = sqlite3_column_int(stmt, 0);
		ok = true;
	} else {
		store_set_error(st, error, sql);
	}
	sqlite3_finalize(stmt);
	return ok;
}

static bool
store_migrate(struct store *st, GError **error)
{
	int version = 0;

	if (!store_pragma_int(st, "PRAGMA user_version", &version, error))
		return false;
	if (version == STORE_SCHEMA_VERSION)
		return true;
	if (!store_begin(st, error))
		return false;
	/* Again under the write lock: another process (intakectl beside an
	 * intaked starting on a new state directory) may have migrated the
	 * file meanwhile. */
	if (!store_pragma_int(st, "PRAGMA user_version", &version, error))
		goto fail;
	if (version > STORE_SCHEMA_VERSION) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_FATAL,
			    "database schema version %d is newer than this "
			    "intake (%d): upgrade intake",
			    version, STORE_SCHEMA_VERSION);
		goto fail;
	}
	/* Each step takes the schema one version forward. */
	if (version < 1 && !store_exec(st, store_schema_v1, error))
		goto fail;
	if (version < 2 && !store_exec(st, store_schema_v2, error))
		goto fail;
	if (version < 3 && !store_exec(st, store_schema_v3, error))
		goto fail;
	if (version < 4 && !store_exec(st, store_schema_v4, error))
		goto fail;
	if (version < 5 && !store_exec(st, store_schema_v5, error))
		goto fail;
	if (version < STORE_SCHEMA_VERSION &&
	    !store_exec(st, "PRAGMA user_version = "
			G_STRINGIFY(STORE_SCHEMA_VERSION), error))
		goto fail;
	return store_commit(st, error);
fail:
	store_rollback(st);
	return false;
}

struct store *
store_open(const char *state_dir, GError **error)
{
	g_autofree char *path = g_build_filename(state_dir, "intake.db", NULL);
	struct store *st = g_new0(struct store, 1);
	char *mode = NULL;
	sqlite3_stmt *stmt;

	if (g_mkdir_with_parents(state_dir, 0750) != 0) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
			    "cannot create %s: %s", state_dir,
			    g_strerror(errno));
		g_free(st);
		return NULL;
	}
	if (sqlite3_open_v2(path, &st->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				    SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
			    "cannot open %s: %s", path,
			    st->db ? sqlite3_errmsg(st->db) : "out of memory");
		store_close(st);
		return NULL;
	}
	sqlite3_busy_timeout(st->db, 30000);
	stmt = store_prepare(st, "PRAGMA journal_mode=WAL", error);
	if (stmt == NULL)
		goto fail;
	/* Switching a new file to WAL needs it to itself; SQLite says BUSY
	 * without waiting when another process opens it at the same moment
	 * (intakectl beside a first intaked): try again a little later. */
	for (int i = 0; i < STORE_WAL_TRIES; i++) {
		int rc = sqlite3_step(stmt);

		if (rc == SQLITE_ROW) {
			mode = g_strdup(
				(const char *)sqlite3_column_text(stmt, 0));
			break;
		}
		sqlite3_reset(stmt);
		if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
			break;
		g_usleep(STORE_WAL_PAUSE_US);
	}
	sqlite3_finalize(stmt);
	if (mode == NULL || g_ascii_strcasecmp(mode, "wal") != 0) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
			    "%s: cannot switch to WAL mode (got %s)", path,
			    mode ? mode : "nothing");
		g_free(mode);
		goto fail;
	}
	g_free(mode);
	if (!store_exec(st,
			"PRAGMA synchronous=FULL;"
			"PRAGMA foreign_keys=ON;",
			error))
		goto fail;
	if (!store_migrate(st, error))
		goto fail;
	return st;
fail:
	g_prefix_error(error, "%s: ", path);
	store_close(st);
	return NULL;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	sqlite3_close_v2(st->db);
	g_free(st);
}

/* ---- cursor ---- */

bool
store_cursor_get(struct store *st, const char *mailbox,
		 struct source_cursor *cur_r, GError **error)
{
	sqlite3_stmt *stmt = store_prepare(
		st, "SELECT uidvalidity, last_uid FROM cursor WHERE mailbox=?",
		error);
	int rc;

	if (stmt == NULL)
		return false;
	memset(cur_r, 0, sizeof(*cur_r));
	sqlite3_bind_text(stmt, 1, mailbox, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		cur_r->uidvalidity = (uint32_t)sqlite3_column_int64(stmt, 0);
		cur_r->last_uid = (uint32_t)sqlite3_column_int64(stmt, 1);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_set_error(st, error, "cursor");
		return false;
	}
	return true;
}

bool
store_cursor_set(struct store *st, const char *mailbox,
		 const struct source_cursor *cur, GError **error)
{
	sqlite3_stmt *stmt = store_prepare(
		st,
		"INSERT INTO cursor(mailbox, uidvalidity, last_uid) "
		"VALUES(?,?,?) ON CONFLICT(mailbox) DO UPDATE SET "
		"uidvalidity=excluded.uidvalidity, last_uid=excluded.last_uid",
		error);
	bool ok;

	if (stmt == NULL)
		return false;
	sqlite3_bind_text(stmt, 1, mailbox, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, cur->uidvalidity);
	sqlite3_bind_int64(stmt, 3, cur->last_uid);
	ok = store_step_done(st, stmt, error);
	sqlite3_finalize(stmt);
	return ok;
}

/* ---- messages ---- */

const char *
msg_state_name(enum msg_state s)
{
	switch (s) {
	case MSG_PENDING:
		return "pending";
	case MSG_PROCESSED:
		return "processed";
	case MSG_HELD:
		return "held";
	case MSG_FAILED:
		break;
	}
	return "failed";
}

static enum msg_state
msg_state_parse(const char *s)
{
	if (s == NULL || strcmp(s, "pending") == 0)
		return MSG_PENDING;
	if (strcmp(s, "processed") == 0)
		return MSG_PROCESSED;
	if (strcmp(s, "held") == 0)
		return MSG_HELD;
	return MSG_FAILED;
}

bool
store_message_known(struct store *st, const char *mailbox,
		    uint32_t uidvalidity, const char *key, bool *known_r,
		    GError **error)
{
	return store_key_exists(st,
				"SELECT 1 FROM messages WHERE mailbox IS ? AND"
				" uidvalidity=? AND source_key=?",
				mailbox, uidvalidity, key, known_r, error);
}

/* A message with this content from this mailbox under an older
 * UIDVALIDITY: the mailbox was recreated and this is the same message. */
static bool
store_message_rekey(struct store *st, const struct store_arrival *a,
		    int64_t *id_r, GError **error)
{
	sqlite3_stmt *stmt = store_prepare(
		st,
		"SELECT id FROM messages WHERE sha256=? AND mailbox IS ? "
		"AND uidvalidity<>? ORDER BY id LIMIT 1",
		error);
	int rc;

	*id_r = 0;
	if (stmt == NULL)
		return false;
	sqlite3_bind_text(stmt, 1, a->sha256, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, a->mailbox, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, a->uidvalidity);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*id_r = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_set_error(st, error, "message lookup");
		return false;
	}
	if (*id_r == 0)
		return true;
	stmt = store_prepare(st,
			     "UPDATE messages SET uidvalidity=?, source_key=?,"
			     " restore_seen=? WHERE id=?",
			     error);
	if (stmt == NULL)
		return false;
	sqlite3_bind_int64(stmt, 1, a->uidvalidity);
	sqlite3_bind_text(stmt, 2, a->key, -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 3, a->restore_seen);
	sqlite3_bind_int64(stmt, 4, *id_r);
	rc = store_step_done(st, stmt, error);
	sqlite3_finalize(stmt);
	return rc;
}

static bool
store_message_first_with(struct store *st, const char *sha, int64_t *id_r,
			 GError **error)
{
	sqlite3_stmt *stmt = store_prepare(
		st,
		"SELECT id FROM messages WHERE sha256=? AND duplicate_of IS NULL"
		" ORDER BY id LIMIT 1",
		error);
	int rc;

	*id_r = 0;
	if (stmt == NULL)
		return false;
	sqlite3_bind_text(stmt, 1, sha, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*id_r = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_set_error(st, error, "message lookup");
		return false;
	}
	return true;
}

bool
store_message_record(struct store *st, const struct store_arrival *a,
		     int64_t *id_r, char *outcome_r, GError **error)
{
	sqlite3_stmt *stmt;
	int64_t earlier = 0;
	bool ok;

	if (a->mailbox != NULL) {
		if (!store_message_rekey(st, a, id_r, error))
			return false;
		if (*id_r != 0) {
			*outcome_r = 'r';
			return true;
		}
	}
	if (!store_message_first_with(st, a->sha256, &earlier, error))
		return false;
	stmt = store_prepare(
		st,
		"INSERT INTO messages(sha256, source, mailbox, uidvalidity,"
		" source_key, server_flags, arrived, size, restore_seen, state,"
		" verdict, duplicate_of, recorded, processed)"
		" VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
		error);
	if (stmt == NULL)
		return false;
	sqlite3_bind_text(stmt, 1, a->sha256, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, a->source, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, a->mailbox, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 4, a->uidvalidity);
	sqlite3_bind_text(stmt, 5, a->key, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 6, a->flags, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 7, a->arrived);
	sqlite3_bind_int64(stmt, 8, (sqlite3_int64)a->size);
	sqlite3_bind_int(stmt, 9, a->restore_seen);
	sqlite3_bind_text(stmt, 10, earlier ? "processed" : "pending", -1,
			  SQLITE_STATIC);
	if (earlier) {
		sqlite3_bind_text(stmt, 11, "duplicate", -1, SQLITE_STATIC);
		sqlite3_bind_int64(stmt, 12, earlier);
		sqlite3_bind_int64(stmt, 14, (sqlite3_int64)time(NULL));
	}
	sqlite3_bind_int64(stmt, 13, (sqlite3_int64)time(NULL));
	ok = store_step_done(st, stmt, error);
	sqlite3_finalize(stmt);
	if (!ok)
		return false;
	*id_r = sqlite3_last_insert_rowid(st->db);
	*outcome_r = earlier ? 'd' : 'n';
	return true;
}

void
store_message_free(struct store_message *m)
{
	if (m == NULL)
		return;
	g_free(m->sha256);
	g_free(m->source);
	g_free(m->mailbox);
	g_free(m->key);
	g_free(m->kind);
	g_free(m->verdict);
	g_free(m->unit);
	g_free(m->message_id);
	g_free(m->from_addr);
	g_free(m->subject);
	g_free(m->error);
	g_free(m);
}

struct store_message *
store_message_get(struct store *st, int64_t id, GError **error)
{
	sqlite3_stmt *stmt = store_prepare(
		st,
		"SELECT id, sha256, source, mailbox, source_key, arrived, size,"
		" state, kind, verdict, unit, message_id, from_addr, subject,"
		" attempts, error, restore_seen, mark_pending, duplicate_of"
		" FROM messages WHERE id=?",
		error);
	struct store_message *m = NULL;
	int rc;

	if (stmt == NULL)
		return NULL;
	sqlite3_bind_int64(stmt, 1, id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		m = g_new0(struct store_message, 1);
		m->id = sqlite3_column_int64(stmt, 0);
		m->sha256 = store_col_strdup(stmt, 1);
		m->source = store_col_strdup(stmt, 2);
		m->mailbox = store_col_strdup(stmt, 3);
		m->key = store_col_strdup(stmt, 4);
		m->arrived = sqlite3_column_int64(stmt, 5);
		m->size = (uint64_t)sqlite3_column_int64(stmt, 6);
		m->state = msg_state_parse(
			(const char *)sqlite3_column_text(stmt, 7));
		m->kind = store_col_strdup(stmt, 8);
		m->verdict = store_col_strdup(stmt, 9);
		m->unit = store_col_strdup(stmt, 10);
		m->message_id = store_col_strdup(stmt, 11);
		m->from_addr = store_col_strdup(stmt, 12);
		m->subject = store_col_strdup(stmt, 13);
		m->attempts = (unsigned)sqlite3_column_int(stmt, 14);
		m->error = store_col_strdup(stmt, 15);
		m->restore_seen = sqlite3_column_int(stmt, 16) != 0;
		m->mark_pending = sqlite3_column_int(stmt, 17) != 0;
		m->duplicate_of = sqlite3_column_int64(stmt, 18);
	} else if (rc != SQLITE_DONE) {
		store_set_error(st, error, "message");
	}
	sqlite3_finalize(stmt);
	return m;
}

static GArray *
store_ids(struct store *st, sqlite3_stmt *stmt, GError **error)
{
	GArray *ids = g_array_new(FALSE, FALSE, sizeof(int64_t));
	int rc;

	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(stmt, 0);

		g_array_append_val(ids, id);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		store_set_error(st, error, "list");
		g_array_unref(ids);
		return NULL;
	}
	return ids;
}

GArray *
store_messages_in_state(struct store *st, enum msg_state s, GError **error)
{
	sqlite3_stmt *stmt = store_prepare(
		st, "SELECT id FROM messages WHERE state=? ORDER BY id", error);

	if (stmt == NULL)
		return NULL;
	sqlite3_bind_text(stmt, 1, msg_state_name(s), -1, SQLITE_STATIC);
	return store_ids(st, stmt, error);
}

/* column is one of our own names, never from input. */
static bool
store_flag_column_ok(const char *column)
{
	return strcmp(column, "restore_seen") == 0 ||
	       strcmp(column, "mark_pending") == 0;
}

GArray *
store_messages_flagged(struct store *st, const char *column, GError **error)
{
	g_autofree char *sql = NULL;
	sqlite3_stmt *stmt;

	g_return_val_if_fail(store_flag_column_ok(column), NULL);
	sql = g_strdup_printf("SELECT id FROM messages WHERE %s=1 ORDER BY id",
			      column);
	stmt = store_prepare(st, sql, error);
	if (stmt == NULL)
		return NULL;
	return store_ids(st, stmt, error);
}

bool
store_message_clear_flag(struct store *st, int64_t id, const char *column,
			 GError **error)
{
	g_autofree char *sql = NULL;
	sqlite3_stmt *stmt;
	bool ok;

	g_return_val_if_fail(store_flag_column_ok(column), false);
	sql = g_strdup_printf("UPDATE messages SET %s=0 WHERE id=?", column);
	stmt = store_prepare(st, sql, error);
	if (stmt == NULL)
		return false;
	sqlite3_bind_int64(stmt, 1, id);
	ok = store_step_done(st, stmt, error);
	sqlite3_finalize(stmt);
	return ok;
}

bool
store_message_attempt(struct store *st, int64_t id, unsigned *attempts_r,
		      GError **error)
{
	sqlite3_stmt *stmt = store_prepare(
		st,
		"UPDATE messages SET attempts=attempts+1 WHERE id=?"
		" RETURNING attempts",
		error);
	int rc;

	if (stmt == NULL)
		return false;
	sqlite3_bind_int64(stmt, 1, id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		*attempts_r = (unsigned)sqlite3_column_int(stmt, 0);
		/* the statement ends, and in autocommit commits, only with
		 * SQLITE_DONE: the count must be durable before the worker */
		rc = sqlite3_step(stmt);
	} else if (rc == SQLITE_DONE) {
		sqlite3_finalize(stmt);
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
			    "database: attempt: no message %" G_GINT64_FORMAT,
			    id);
		return false;
	}
	if (rc != SQLITE_DONE) {
		store_set_error(st, error, "attempt");
		sqlite3_finalize(stmt);
		return false;
	}
	sqlite3_finalize(stmt);
	return true;
}

bool
store_message_unattempt(struct store *st, int64_t id, GError **error)
{
	sqlite3_stmt *stmt = store_prepare(
		st,
		"UPDATE messages SET attempts=MAX(attempts-1, 0) WHERE id=?",
		error);
	bool ok;

	if (stmt == NULL)
		return false;
	sqlite3_bind_int64(stmt, 1, id);
	ok = store_step_done(st, stmt, error);
	sqlite3_finalize(stmt);
	return ok;
}

bool
store_message_fail(struct store *st, int64_t id, const char *error_text,
		   GError **error)
{
	sqlite3_stmt *stmt = store_prepare(
		st,
		"UPDATE messages SET state='failed', error=?, processed=?"
		" WHERE id=? AND state='pending'",
		error);
	bool ok;

	if (stmt == NULL)
		return false;
	sqlite3_bind_text(stmt, 1, error_text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, (sqlite3_int64)time(NULL));
	sqlite3_bind_int64(stmt, 3, id);
	ok = store_step_done(st, stmt, error);
	sqlite3_finalize(stmt);
	return ok;
}

bool
store_message_set_result(struct store *st, int64_t id,
			 const struct store_result *r, GError **error)
{
	sqlite3_stmt *stmt = store_prepare(
		st,
		"UPDATE messages SET state=?, kind=?, verdict=?, unit=?,"
		" unit_how=?, message_id=?, from_addr=?, from_name=?,"
		" reply_to=?, subject=?, date_hdr=?, untrusted_from=?,"
		" mark_pending=?, error=?, processed=? WHERE id=?",
		error);
	bool ok;

	if (stmt == NULL)
		return false;
	sqlite3_bind_text(stmt, 1, msg_state_name(r->state), -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, r->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 3, r->verdict, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 4, r->unit, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 5, r->unit_how, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 6, r->message_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 7, r->from_addr, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 8, r->from_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 9, r->reply_to, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 10, r->subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 11, r->date_hdr, -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 12, r->untrusted_from);
	sqlite3_bind_int(stmt, 13, r->mark_pending);
	sqlite3_bind_text(stmt, 14, r->error, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 15, (sqlite3_int64)time(NULL));
	sqlite3_bind_int64(stmt, 16, id);
	ok = store_step_done(st, stmt, error);
	sqlite3_finalize(stmt);
	return ok;
}

bool
store_message_requeue(struct store *st, int64_t id, const char *unit,
		      GError **error)
{
	sqlite3_stmt *stmt = store_prepare(
		st,
		"UPDATE messages SET state='pending', attempts=0, error=NULL,"
		" unit=COALESCE(?, unit), unit_how=CASE WHEN ? IS NULL THEN"
		" unit_how ELSE 'assigned' END WHERE id=?",
		error);
	bool ok;

	if (stmt == NULL)
		return false;
	sqlite3_bind_text(stmt, 1, unit, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, unit, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 3, id);
	ok = store_step_done(st, stmt, error);
	sqlite3_finalize(stmt);
	return ok;
}

/* ---- notes kept by mailbox, UIDVALIDITY and key ---- */

bool
store_key_exec(struct store *st, const char *sql, const char *mailbox,
	       uint32_t uidvalidity, const char *key, GError **error)
{
	sqlite3_stmt *stmt = store_prepare(st, sql, error);
	bool ok;

	if (stmt == NULL)
		return false;
	sqlite3_bind_text(stmt, 1, mailbox, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, uidvalidity);
	if (key != NULL)
		sqlite3_bind_text(stmt, 3, key, -1, SQLITE_STATIC);
	ok = store_step_done(st, stmt, error);
	sqlite3_finalize(stmt);
	return ok;
}

bool
store_key_exists(struct store *st, const char *sql, const char *mailbox,
		 uint32_t uidvalidity, const char *key, bool *known_r,
		 GError **error)
{
	sqlite3_stmt *stmt = store_prepare(st, sql, error);
	int rc;

	if (stmt == NULL)
		return false;
	sqlite3_bind_text(stmt, 1, mailbox, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, uidvalidity);
	sqlite3_bind_text(stmt, 3, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_set_error(st, error, "lookup");
		return false;
	}
	*known_r = rc == SQLITE_ROW;
	return true;
}

/* ---- \Seen restores owed ---- */

bool
store_seen_owe(struct store *st, const char *mailbox, uint32_t uidvalidity,
	       const char *key, GError **error)
{
	return store_key_exec(st,
			      "INSERT OR IGNORE INTO seen_owed(mailbox,"
			      " uidvalidity, source_key) VALUES(?,?,?)",
			      mailbox, uidvalidity, key, error);
}

bool
store_seen_paid(struct store *st, const char *mailbox, uint32_t uidvalidity,
		const char *key, GError **error)
{
	return store_key_exec(st,
			      "DELETE FROM seen_owed WHERE mailbox=? AND"
			      " uidvalidity=? AND source_key=?",
			      mailbox, uidvalidity, key, error);
}

GPtrArray *
store_seen_owed(struct store *st, const char *mailbox, uint32_t uidvalidity,
		GError **error)
{
	sqlite3_stmt *stmt;
	GPtrArray *keys;
	int rc;

	if (!store_key_exec(st,
			    "DELETE FROM seen_owed WHERE mailbox=? AND"
			    " uidvalidity<>?",
			    mailbox, uidvalidity, NULL, error))
		return NULL;
	stmt = store_prepare(st,
			     "SELECT source_key FROM seen_owed WHERE mailbox=?"
			     " AND uidvalidity=? ORDER BY rowid",
			     error);
	if (stmt == NULL)
		return NULL;
	sqlite3_bind_text(stmt, 1, mailbox, -1, SQLITE_STATIC);
	sqlite3_bind_int64(stmt, 2, uidvalidity);
	keys = g_ptr_array_new_with_free_func(g_free);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		g_ptr_array_add(keys, store_col_strdup(stmt, 0));
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		store_set_error(st, error, "seen_owed");
		g_ptr_array_unref(keys);
		return NULL;
	}
	return keys;
}

/* ---- dossiers ---- */

bool
store_dossier(struct store *st, const char *unit, struct dossier *d_r,
	      GError **error)
{
	sqlite3_stmt *stmt = store_prepare(
		st,
		"SELECT"
		" SUM(type='summary' AND origin<>'paper'),"
		" SUM(type='summary' AND origin='paper'),"
		" SUM(type='photo'),"
		" SUM(type='photo' AND (caption IS NULL OR caption='')),"
		" SUM(type='video'),"
		" SUM(type='link'),"
		" SUM(late)"
		" FROM items WHERE unit=? AND accepted=1 AND state='active'",
		error);
	int rc;

	memset(d_r, 0, sizeof(*d_r));
	if (stmt == NULL)
		return false;
	sqlite3_bind_text(stmt, 1, unit, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		d_r->summaries = (unsigned)sqlite3_column_int(stmt, 0);
		d_r->paper_summaries = (unsigned)sqlite3_column_int(stmt, 1);
		d_r->photos = (unsigned)sqlite3_column_int(stmt, 2);
		d_r->photos_uncaptioned = (unsigned)sqlite3_column_int(stmt, 3);
		d_r->videos = (unsigned)sqlite3_column_int(stmt, 4);
		d_r->links = (unsigned)sqlite3_column_int(stmt, 5);
		d_r->late = sqlite3_column_int(stmt, 6) > 0;
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_ROW) {
		store_set_error(st, error, "dossier");
		return false;
	}
	stmt = store_prepare(st,
			     "SELECT COUNT(*) FROM messages WHERE unit=? AND"
			     " kind='submission' AND state='processed'",
			     error);
	if (stmt == NULL)
		return false;
	sqlite3_bind_text(stmt, 1, unit, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		d_r->messages = (unsigned)sqlite3_column_int(stmt, 0);
	sqlite3_finalize(stmt);
	return true;
}
