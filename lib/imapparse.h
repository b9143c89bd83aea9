/*
 * imapparse.h - pure parsing (and a little building) of IMAP syntax
 *
 * The IMAP driver (imap.c) hands the server's lines to these functions;
 * nothing here does I/O, so every function is tested with plain strings
 * (tests/unit/test_imapparse.c), hostile ones included.
 *
 * Lines are given as (line, len) and may or may not end in CRLF; a NUL
 * byte inside a line makes it invalid.  Every parser is bounded by the
 * line it is given and refuses what does not follow RFC 3501's grammar
 * instead of guessing.
 *
 * Strings returned belong to the caller (g_free / g_strfreev).
 */
#ifndef INTAKE_IMAPPARSE_H
#define INTAKE_IMAPPARSE_H

#include "common.h"

/* Longest server line the driver accepts (a SEARCH over 5000 UIDs is
 * ~55 KB). */
#define IMAPPARSE_MAX_LINE (256 * 1024)

/* "* SEARCH 2 84 882": appends each UID to uids (a GArray of uint32_t).
 * An empty result ("* SEARCH") is valid; a CONDSTORE "(MODSEQ n)" at
 * the end is skipped.  Returns false when the line is not a SEARCH
 * response, a number is not a non-zero 32-bit number, or uids would
 * grow beyond max entries (nothing is appended then). */
bool imapparse_search(const char *line, size_t len, GArray *uids,
		      size_t max);

/* One "* n FETCH (...)" response.  The has_ fields say which items the
 * line had; flags is NULL when it had no FLAGS. */
struct imapparse_fetch {
	uint32_t seq;          /* message sequence number */
	uint32_t uid;          /* 0 when the line had no UID */
	char *flags;           /* "\\Seen $Filed": space-separated */
	bool seen;             /* \Seen among the flags */
	bool has_internaldate;
	int64_t internaldate;  /* Unix seconds */
	bool has_size;
	uint64_t size;         /* RFC822.SIZE */
};

/* Parses a FETCH response with any of UID, FLAGS, INTERNALDATE,
 * RFC822.SIZE and MODSEQ, in any order.  Other items, literals, a
 * repeated item, or anything malformed make it return false.  On success
 * fetch_r is filled (free its flags with imapparse_fetch_clear()); on
 * failure it is left cleared. */
bool imapparse_fetch(const char *line, size_t len,
		     struct imapparse_fetch *fetch_r);
void imapparse_fetch_clear(struct imapparse_fetch *fetch);

/* Largest literal imapparse_header_literal() accepts. */
#define IMAPPARSE_MAX_LITERAL (1024 * 1024 * 1024)

/* "* 3 FETCH (UID 7 BODY[HEADER]<0> {342}": the line that announces the
 * header block of a message (UID FETCH n BODY.PEEK[HEADER]<o.n>) as a
 * literal.  UID, FLAGS and MODSEQ may come before it; the origin "<o>"
 * is optional; the literal must end the line.  *uid_r is 0 when the line
 * has no UID.  False for anything else (a quoted string or NIL instead
 * of a literal, other items, a literal over IMAPPARSE_MAX_LITERAL). */
bool imapparse_header_literal(const char *line, size_t len, uint32_t *uid_r,
			      uint64_t *size_r);

/* Whether line is an untagged "* n FETCH" (so that a caller can tell a
 * FETCH it cannot parse from other untagged data). */
bool imapparse_is_fetch(const char *line, size_t len);

/* "* OK [UIDVALIDITY 3857529045] UIDs valid" -> 3857529045. */
bool imapparse_uidvalidity(const char *line, size_t len,
			   uint32_t *uidvalidity_r);

/* "* 23 EXISTS" -> 23;  "* 5 EXPUNGE" -> 5. */
bool imapparse_exists(const char *line, size_t len, uint32_t *exists_r);
bool imapparse_expunge(const char *line, size_t len, uint32_t *seq_r);

/* "* CAPABILITY IMAP4rev1 ID MOVE", or a CAPABILITY response code in an
 * OK line ("* OK [CAPABILITY ...]", "A1 OK [CAPABILITY ...] Logged in"):
 * the capability names, upper-cased, NULL-terminated; NULL when the
 * line has none. */
char **imapparse_capability(const char *line, size_t len);
/* Case-insensitive lookup in what imapparse_capability() returned. */
bool imapparse_has_capability(char *const *caps, const char *name);

/* An IMAP date-time, "17-Jul-1996 02:44:25 -0700" (the day may be
 * space-padded), to Unix seconds. */
bool imapparse_date_time(const char *s, size_t len, int64_t *time_r);

/* A date for SEARCH SINCE, "1-Oct-2022", of the UTC day of t.  Writes at
 * most size bytes; false when t is out of range. */
bool imapparse_search_date(int64_t t, char *buf, size_t size);

/* Folder names: UTF-8 <-> modified UTF-7 (RFC 3501 §5.1.3), via iconv's
 * "UTF-7-IMAP".  NULL + error (INTAKE_ERROR_CONFIG) on invalid input. */
char *imapparse_mutf7_encode(const char *utf8, GError **error);
char *imapparse_mutf7_decode(const char *mutf7, GError **error);

/* s as an IMAP quoted string ("a \"b\""), or NULL when s cannot be one
 * (control characters, 8-bit bytes: encode folder names first). */
char *imapparse_quote(const char *s);

/* Whether s is a flag for STORE: a keyword atom ("$Filed") or a system
 * flag ("\\Flagged"), at most 128 bytes, no atom-specials. */
bool imapparse_is_flag(const char *s);

/* A sequence set for sorted, distinct UIDs: {1,2,3,5,7,8} -> "1:3,5,7:8".
 * NULL for n == 0. */
char *imapparse_uid_set(const uint32_t *uids, size_t n);

/* A tagged completion, "A004 NO [TRYCREATE] No such mailbox": true,
 * with its status ("OK", "NO" or "BAD") and the name of its response code
 * ("TRYCREATE"; "" when there is none) copied NUL-terminated into the
 * buffers, truncated to their sizes.  False for untagged ("*") and
 * continuation ("+") lines and anything malformed. */
bool imapparse_tagged(const char *line, size_t len, char *status,
		      size_t status_size, char *code, size_t code_size);

#endif
