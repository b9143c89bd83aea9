/*
 * toolarge.h - messages too large to download: who sent them, one reply
 *
 * A message over [limits] max_message_bytes (by RFC822.SIZE or the
 * Maildir file's size) is never downloaded.  Its header block alone is
 * read (source_ops.fetch_header: BODY.PEEK[HEADER], no \Seen), parsed
 * with GMime (message_parse_header), classified (RFC 3834) and
 * identified as process.c does it, and noted in table too_large with its
 * From, Subject, unit and Message-ID; in the same transaction ONE reply
 * (template too_large.txt) is queued to its sender, saying it was not
 * received and how to send large videos.  The note is the memory that
 * the reply was sent: the message is never answered twice.  A note goes
 * when the message has left the mailbox (toolarge_prune): the office
 * dealt with it in its mail client.
 */
#ifndef INTAKE_TOOLARGE_H
#define INTAKE_TOOLARGE_H

#include "common.h"

struct intake_config;
struct source;
struct source_msg;
struct store;

/* The header block at the start of buf: its length up to and including
 * the empty line that ends it (*complete_r true), or, when buf holds no
 * empty line, up to the end of its last whole line (*complete_r false).
 * Lines end in LF or CRLF. */
size_t toolarge_header_len(const guint8 *buf, size_t len, bool *complete_r);

/* The message sm of the mailbox is too large (why: the source's error,
 * for the log).  Noted once: a message noted already costs nothing.
 * False only when the database or the disk fails; a header that cannot
 * be read (whatever the server or the connection did) is noted without
 * it, and nobody is answered: nothing about one message may hold up the
 * mailbox's later messages. */
bool toolarge_note(const struct intake_config *cfg, struct store *st,
		   struct source *src, const char *mailbox,
		   uint32_t uidvalidity, const struct source_msg *sm,
		   const char *why, GError **error);

/* Drops the notes of messages no longer in the mailbox.  Failures are
 * logged: the notes stay until the next cycle. */
void toolarge_prune(struct store *st, struct source *src, const char *mailbox,
		    uint32_t uidvalidity);

#endif
