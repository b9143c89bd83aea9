/*
 * store.h - the database: SQLite in WAL mode, synchronous=FULL
 *
 * One file, <state_dir>/intake.db.  The schema carries a version
 * (PRAGMA user_version) and store_open() migrates older files forward.
 * Foreign keys are on; every connection waits for a busy database
 * (intakectl runs beside intaked).
 *
 * Tables: cursor (per mailbox: UIDVALIDITY and the highest committed UID),
 * messages (every fetched message, its state and verdict), items (every
 * attachment or link of a message, accepted or refused, and the items the
 * office added by hand), units (learned addresses, reminders), outbox
 * (replies and reminders, queued in the same transaction as the filing).
 *
 * A connection belongs to one process: a forked worker opens its own.
 * Strings returned in structs belong to the caller (the _free functions).
 */
#ifndef INTAKE_STORE_H
#define INTAKE_STORE_H

#include <sqlite3.h>

#include "common.h"
#include "rules.h"
#include "source.h"

#define STORE_SCHEMA_VERSION 5

struct store;

struct store *store_open(const char *state_dir, GError **error);
void store_close(struct store *st);
sqlite3 *store_db(struct store *st);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. */
bool store_begin(struct store *st, GError **error);
bool store_commit(struct store *st, GError **error);
void store_rollback(struct store *st);

/* Runs one statement with no result; for small updates. */
bool store_exec(struct store *st, const char *sql, GError **error);

/* Prepares sql (cached per connection is not needed: intake's volume is
 * small).  On failure sets error naming the statement. */
sqlite3_stmt *store_prepare(struct store *st, const char *sql,
			    GError **error);
/* Steps a statement expected to finish (SQLITE_DONE). */
bool store_step_done(struct store *st, sqlite3_stmt *stmt, GError **error);
/* Sets error from the connection's last error, with a context. */
void store_set_error(struct store *st, GError **error, const char *what);

/* Column text duplicated (NULL stays NULL). */
char *store_col_strdup(sqlite3_stmt *stmt, int col);
/* One statement whose parameters are (mailbox, uidvalidity) or (mailbox,
 * uidvalidity, key). */
bool store_key_exec(struct store *st, const char *sql, const char *mailbox,
		    uint32_t uidvalidity, const char *key, GError **error);
/* Whether a query with the parameters (mailbox, uidvalidity, key) has a
 * row. */
bool store_key_exists(struct store *st, const char *sql, const char *mailbox,
		      uint32_t uidvalidity, const char *key, bool *known_r,
		      GError **error);

/* ---- cursor ---- */
bool store_cursor_get(struct store *st, const char *mailbox,
		      struct source_cursor *cur_r, GError **error);
bool store_cursor_set(struct store *st, const char *mailbox,
		      const struct source_cursor *cur, GError **error);

/* ---- messages ---- */
enum msg_state {
	MSG_PENDING,
	MSG_PROCESSED,
	MSG_HELD,
	MSG_FAILED,
};
const char *msg_state_name(enum msg_state s);

/* What is known of a message when it is recorded (before parsing). */
struct store_arrival {
	const char *sha256;
	const char *source;      /* "imap", "maildir", "import" */
	const char *mailbox;     /* mailbox URL, NULL for import */
	uint32_t uidvalidity;
	const char *key;         /* UID, Maildir name, file name */
	const char *flags;
	bool restore_seen;       /* \Seen was set by our fetch */
	int64_t arrived;         /* INTERNALDATE / mtime / now */
	uint64_t size;
};

/* True when the mailbox already has a message recorded under key. */
bool store_message_known(struct store *st, const char *mailbox,
			 uint32_t uidvalidity, const char *key,
			 bool *known_r, GError **error);

/* Records a fetched message (in the caller's transaction).  A message
 * whose content is already recorded from the same mailbox under an older
 * UIDVALIDITY is re-keyed, not added (*outcome_r 'r'); another copy of
 * recorded content is a duplicate ('d', state processed, verdict
 * duplicate); otherwise a new pending message ('n').  id_r: the row. */
bool store_message_record(struct store *st, const struct store_arrival *a,
			  int64_t *id_r, char *outcome_r, GError **error);

/* The message's row as the pipeline and intakectl need it. */
struct store_message {
	int64_t id;
	char *sha256;
	char *source;
	char *mailbox;
	char *key;
	int64_t arrived;
	uint64_t size;
	enum msg_state state;
	char *kind;
	char *verdict;
	char *unit;
	char *message_id;
	char *from_addr;
	char *subject;
	unsigned attempts;
	char *error;
	bool restore_seen;
	bool mark_pending;
	int64_t duplicate_of; /* the original of a byte-identical copy, or 0 */
};
void store_message_free(struct store_message *m);
/* NULL with no error when there is no such message. */
struct store_message *store_message_get(struct store *st, int64_t id,
					GError **error);

/* ids (int64_t, in a GArray) of messages in a state, oldest first. */
GArray *store_messages_in_state(struct store *st, enum msg_state s,
				GError **error);
/* ids with pending \Seen restores / pending marks. */
GArray *store_messages_flagged(struct store *st, const char *column,
			       GError **error);
bool store_message_clear_flag(struct store *st, int64_t id,
			      const char *column, GError **error);

/* Counts one attempt durably (its own transaction) and returns the
 * new count. */
bool store_message_attempt(struct store *st, int64_t id,
			   unsigned *attempts_r, GError **error);
/* Gives an attempt back (own transaction): it failed for a local reason,
 * such as a full disk, that is no fault of the message. */
bool store_message_unattempt(struct store *st, int64_t id, GError **error);
/* Marks a pending message failed with its error (own transaction); one
 * in another state (processed by a worker that died after its commit)
 * is left as it is. */
bool store_message_fail(struct store *st, int64_t id, const char *error_text,
			GError **error);
/* What processing decided, recorded with the message. */
struct store_result {
	enum msg_state state;
	const char *kind;      /* msg_kind_name() */
	const char *verdict;   /* verdict_name() */
	const char *unit;      /* NULL: unknown */
	const char *unit_how;  /* roster_how_name(), "assigned" */
	const char *message_id;
	const char *from_addr;
	const char *from_name;
	const char *reply_to;
	const char *subject;
	const char *date_hdr;
	bool untrusted_from;
	bool mark_pending;     /* flag/move it on the server */
	const char *error;     /* a note for the office, or NULL */
};
bool store_message_set_result(struct store *st, int64_t id,
			      const struct store_result *r, GError **error);

/* Back to pending (reprocess, assign). */
bool store_message_requeue(struct store *st, int64_t id, const char *unit,
			   GError **error);

/* ---- \Seen restores owed (IMAP's BODY[] sets \Seen before the message
 * is recorded) ---- */
/* Notes, before the download, that key's \Seen must be cleared again. */
bool store_seen_owe(struct store *st, const char *mailbox,
		    uint32_t uidvalidity, const char *key, GError **error);
/* Drops the note: restored, or recorded with restore_seen. */
bool store_seen_paid(struct store *st, const char *mailbox,
		     uint32_t uidvalidity, const char *key, GError **error);
/* The keys owed under uidvalidity (char *; the array frees); notes under
 * another UIDVALIDITY are dropped, their UIDs mean nothing any more. */
GPtrArray *store_seen_owed(struct store *st, const char *mailbox,
			   uint32_t uidvalidity, GError **error);

/* ---- messages too large to download (over max_message_bytes by their
 * RFC822.SIZE or file size): left on the server for the office, their
 * sender answered once (toolarge.c) ---- */
struct store_too_large {
	char *mailbox;
	uint32_t uidvalidity;
	char *key;
	uint64_t size;
	int64_t arrived;
	int64_t noted;       /* 0 when noting: now */
	/* from the header; NULL when it could not be read */
	char *from_addr;
	char *subject;
	char *unit;          /* identified from the header, or NULL */
	char *message_id;    /* without <> */
	char *reply_id;      /* Message-ID of the reply queued, or NULL */
};
void store_too_large_free(struct store_too_large *n);
/* Whether the message is noted already (under this UIDVALIDITY). */
bool store_too_large_known(struct store *st, const char *mailbox,
			   uint32_t uidvalidity, const char *key,
			   bool *known_r, GError **error);
/* The reply's Message-ID when a note of the mailbox, under any
 * UIDVALIDITY, has this Message-ID and size and was answered (else NULL):
 * the same message listed again after the mailbox was recreated is not
 * answered twice, and its new note carries the reply on. */
bool store_too_large_replied(struct store *st, const char *mailbox,
			     const char *message_id, uint64_t size,
			     char **reply_id_r, GError **error);
/* Notes one; *new_r: not noted before, so worth a log line.  Notes under
 * another UIDVALIDITY of the mailbox are dropped. */
bool store_too_large_note(struct store *st, const struct store_too_large *n,
			  bool *new_r, GError **error);
/* The notes (struct store_too_large *; the array frees), of one mailbox
 * and/or unit when not NULL, oldest arrival first. */
GPtrArray *store_too_large_list(struct store *st, const char *mailbox,
				const char *unit, GError **error);
/* Drops a note: the message is no longer in the mailbox. */
bool store_too_large_forget(struct store *st, const char *mailbox,
			    uint32_t uidvalidity, const char *key,
			    GError **error);

/* ---- outbox ---- */
struct store_outbox {
	int64_t id;
	int64_t message;     /* 0 when not tied to a message */
	char *rfc_id;        /* Message-ID without <> */
	char *rcpt;
	char *data;
	size_t len;
	unsigned attempts;
};
void store_outbox_free(struct store_outbox *o);

bool store_outbox_add(struct store *st, int64_t message, const char *unit,
		      const char *kind, const char *rfc_id, const char *rcpt,
		      const char *verdict, const char *data, size_t len,
		      int64_t now, GError **error);
/* Queued mail due at now (struct store_outbox *; the array frees). */
GPtrArray *store_outbox_due(struct store *st, int64_t now, GError **error);
bool store_outbox_sent(struct store *st, int64_t id, int64_t now,
		       GError **error);
/* A temporary failure: next attempt after a capped exponential backoff
 * (1 min, 2, 4, ... 1 h).  A permanent one: failed with the text. */
bool store_outbox_retry(struct store *st, int64_t id, unsigned attempts,
			int64_t now, long code, const char *text,
			GError **error);
bool store_outbox_failed(struct store *st, int64_t id, long code,
			 const char *text, GError **error);
/* Replies sent or queued to rcpt since since. */
bool store_outbox_count_to(struct store *st, const char *rcpt,
			   int64_t since, unsigned *count_r, GError **error);
/* Matches a bounce: the outbox row whose Message-ID is rfc_id is marked
 * failed and its recipient undeliverable.  *matched_r false when none. */
bool store_outbox_bounced(struct store *st, const char *rfc_id,
			  const char *why, bool *matched_r, GError **error);

/* ---- items ---- */
enum item_state {
	ITEM_ACTIVE,
	ITEM_REPLACED,  /* superseded by a correction (更正/替换) */
	ITEM_WITHDRAWN, /* removed by the office */
};

struct store_item {
	int64_t id;
	int64_t message;     /* 0: added by the office */
	char *unit;          /* NULL while the unit is unknown */
	char *name;          /* as sent */
	enum item_type type;
	bool accepted;
	char *reason;        /* refusal reason */
	char *sha256;
	uint64_t size;
	unsigned width, height;
	double duration;
	char *codec;
	char *caption;
	char *url;           /* links */
	char *path;          /* relative to state_dir, when filed */
	unsigned number;     /* photos: the unit's photo number */
	bool late;
	char *origin;        /* "mail", "manual", "paper" */
	enum item_state state;
	int64_t received;
	int64_t expires;     /* links: when the download expires, or 0 */
	char *note;          /* the office's note (intakectl), or NULL */
	char *added_by;      /* who added it by hand, or NULL */
};
void store_item_free(struct store_item *it);
void store_item_clear(struct store_item *it);

/* Inserts it (it->id is set). */
bool store_item_add(struct store *st, struct store_item *it, GError **error);
/* Items of a message, or of a unit (active and accepted only when
 * active_only), in id order (struct store_item *; the array frees). */
GPtrArray *store_items_of_message(struct store *st, int64_t message,
				  GError **error);
GPtrArray *store_items_of_unit(struct store *st, const char *unit,
			       bool active_only, GError **error);
struct store_item *store_item_get(struct store *st, int64_t id,
				  GError **error);
bool store_item_set_caption(struct store *st, int64_t id, const char *caption,
			    const char *path, GError **error);
bool store_item_set_state(struct store *st, int64_t id, enum item_state s,
			  const char *path, GError **error);
/* Deletes a message's items (before it is processed again). */
bool store_items_delete_of_message(struct store *st, int64_t message,
				   GError **error);
/* Items replaced or withdrawn whose file has not been moved into the
 * unit's .withdrawn/ yet (a crash after the commit that decided it). */
GPtrArray *store_items_not_aside(struct store *st, GError **error);
/* Every path the database knows (for filing_cleanup): a set of strings. */
GHashTable *store_known_paths(struct store *st, GError **error);

/* ---- dossiers ---- */
bool store_dossier(struct store *st, const char *unit, struct dossier *d_r,
		   GError **error);

/* ---- manual additions (store_manual.c: intakectl add, receive,
 * withdraw) ---- */
/* Replaces an item's note (NULL clears it). */
bool store_item_set_note(struct store *st, int64_t id, const char *note,
			 GError **error);
/* The reply address (Reply-To, else From) of the unit's latest processed
 * submission; *addr_r NULL when it has none. */
bool store_unit_last_sender(struct store *st, const char *unit,
			    char **addr_r, GError **error);

/* ---- the office's views (store_office.c: export, report, remind) ---- */
/* A unit's reminder bookkeeping from the units table: when it was last
 * reminded (0: never) and its undeliverable and learned addresses
 * (';'-separated, NULL when none). */
bool store_unit_reminder_info(struct store *st, const char *unit,
			      int64_t *last_reminded_r, char **undeliverable_r,
			      char **learned_r, GError **error);
/* Distinct lower-cased From addresses of the unit's processed, accepted
 * or partly accepted submissions, most recent first, at most max
 * (char *; the array frees). */
GPtrArray *store_unit_senders(struct store *st, const char *unit,
			      unsigned max, GError **error);
bool store_unit_set_reminded(struct store *st, const char *unit,
			     int64_t when, GError **error);
/* The newest created time of outbox mail of a kind ("digest"), or 0. */
bool store_outbox_last_of_kind(struct store *st, const char *kind,
			       int64_t *created_r, GError **error);
/* The latest received time of the unit's active items, mailed or entered
 * by hand (add, receive --paper), or 0. */
bool store_unit_last_received(struct store *st, const char *unit,
			      int64_t *last_r, GError **error);
/* Counts for the office's report and digest. */
struct store_office_counts {
	unsigned unidentified;    /* held, unit unknown */
	unsigned failed_messages; /* given up */
	unsigned pending;         /* not processed yet */
	unsigned failed_replies;  /* outbox mail that failed for good */
	unsigned queued_mail;     /* outbox mail waiting */
	unsigned received_since;  /* messages arrived at or after since */
	unsigned links_expiring;  /* active links expiring before a time */
	unsigned too_large;       /* left on the server: over the limit */
};
bool store_office_counts(struct store *st, int64_t since,
			 int64_t expiring_before,
			 struct store_office_counts *counts_r, GError **error);

#endif
