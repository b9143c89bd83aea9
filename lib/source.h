/*
 * source.h - where messages come from (the "driver" interface, as in
 * mbsync's driver.h)
 *
 * Two implementations: IMAP over libcurl (imap.c) and Maildir
 * (maildir.c); plain files (intakectl import, in pipeline.c) are read
 * directly and are not a source.  The pipeline talks to a source only
 * through struct source_ops, so that a Maildir and an IMAP server are
 * interchangeable in tests and benchmarks.
 *
 * All memory belongs to the driver's user unless stated otherwise:
 * struct source_msg arrays returned by list() are freed by the caller with
 * g_ptr_array_unref() (the array owns its elements).
 */
#ifndef INTAKE_SOURCE_H
#define INTAKE_SOURCE_H

#include "common.h"

struct intake_config;

/* One message on the server, as listed before it is downloaded. */
struct source_msg {
	char *key;            /* IMAP: the UID in decimal; Maildir: base name */
	uint32_t uid;         /* IMAP UID; Maildir: 0 */
	char *flags;          /* "\\Seen \\Flagged", as the server said */
	bool seen;            /* \Seen was set before we touched it */
	int64_t internaldate; /* arrival, Unix seconds (Maildir: mtime) */
	uint64_t size;        /* RFC822.SIZE / file size */
};
void source_msg_free(struct source_msg *msg);

/* Where a source stands: which messages were already committed. */
struct source_cursor {
	uint32_t uidvalidity; /* 0 when unknown (first run) or Maildir */
	uint32_t last_uid;    /* highest UID committed under uidvalidity */
};

/* Called with each block of the message while it is fetched; returns
 * false (and sets error) to abort the transfer. */
typedef bool (*source_sink_fn)(const void *buf, size_t len, void *ctx,
			       GError **error);

struct source;

#define SOURCE_PRESENT_MAX 1000 /* keys one present() call checks */

struct source_ops {
	const char *name; /* "imap", "maildir" */
	/* Connects and selects the mailbox; reports its UIDVALIDITY.  One
	 * connection is reused until close(). */
	bool (*open)(struct source *src, uint32_t *uidvalidity_r,
		     GError **error);
	/* Messages after cursor, in UID order, whose arrival is at or after
	 * since (0: all).  When cursor->uidvalidity differs from the
	 * mailbox's, every message is listed (the caller deduplicates by
	 * content hash).  FLAGS, INTERNALDATE and RFC822.SIZE are read
	 * before anything is downloaded. */
	bool (*list)(struct source *src, const struct source_cursor *cursor,
		     int64_t since, GPtrArray **msgs_r, GError **error);
	/* Streams the raw message into sink. */
	bool (*fetch)(struct source *src, const struct source_msg *msg,
		      source_sink_fn sink, void *ctx, GError **error);
	/* Appends the message's header block (up to and including the
	 * empty line that ends it) to header, at most [limits]
	 * max_header_bytes of it, without downloading the body and without
	 * changing any flag (IMAP: BODY.PEEK[HEADER]).  For a message too
	 * large to fetch (toolarge.c).  A message no longer there fails
	 * with INTAKE_ERROR_MESSAGE. */
	bool (*fetch_header)(struct source *src, const struct source_msg *msg,
			     GByteArray *header, GError **error);
	/* Which of keys (char *) are still in the mailbox: *present_r is a
	 * set of the present ones (keys not copied; they must outlive it).
	 * At most SOURCE_PRESENT_MAX keys. */
	bool (*present)(struct source *src, GPtrArray *keys,
			GHashTable **present_r, GError **error);
	/* Clears \Seen that the fetch set (IMAP's BODY[] sets it). */
	bool (*restore_seen)(struct source *src, const char *key,
			     GError **error);
	/* After commit: flag or move the message as [mailbox] mark says. */
	bool (*mark)(struct source *src, const char *key, GError **error);
	void (*close)(struct source *src);
};

struct source {
	const struct source_ops *ops;
	const struct intake_config *cfg; /* not owned */
	void *priv;                      /* the driver's own state */
};

/* Creates the source that cfg->mailbox_url names (imap:, imaps:,
 * maildir:).  Not yet connected.  Free with source_free(). */
struct source *source_new(const struct intake_config *cfg, GError **error);
void source_free(struct source *src);

/* The implementations, for source_new(). */
extern const struct source_ops imap_source_ops;
extern const struct source_ops maildir_source_ops;

#endif
