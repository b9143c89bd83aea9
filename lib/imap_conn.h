/*
 * imap_conn.h - the IMAP driver's connection to its server (imap_conn.c)
 *
 * Private to the IMAP driver: imap.c (list, fetch, mark) talks to the
 * server only through these functions, which own the libcurl handle, the
 * CAPABILITY/ID handshake, reconnection, the server lines kept for error
 * messages and the mapping of failures to GErrors.  See imap.c for the
 * whole picture.
 *
 * struct imap_conn belongs to whoever called imap_conn_new() and is freed
 * with imap_conn_free().
 */
#ifndef INTAKE_IMAP_CONN_H
#define INTAKE_IMAP_CONN_H

#include <curl/curl.h>

#include "source.h"

struct intake_config;
struct imap_conn;

/* Called with each untagged line of a custom command's response. */
typedef bool (*imap_conn_line_fn)(struct imap_conn *im, const char *line,
				  size_t len, void *ctx, GError **error);

struct imap_conn {
	const struct intake_config *cfg;
	CURL *curl;
	char errbuf[CURL_ERROR_SIZE];
	char *where;        /* "host:port", for messages */
	char *server_url;   /* "imaps://host:port/" */
	char *mailbox;      /* as configured (UTF-8), for messages */
	char *mailbox_path; /* modified UTF-7, percent-encoded */
	char *mailbox_url;  /* server_url + mailbox_path [";UIDVALIDITY=v"] */
	char **caps;        /* after login */
	uint32_t uidvalidity;      /* of the mailbox as selected */
	uint32_t seen_uidvalidity; /* last [UIDVALIDITY n] in any response */
	uint32_t exists;           /* messages in the selected mailbox */
	bool handshake_needed;
	bool identified;           /* ID sent on the current connection */

	/* the current request */
	imap_conn_line_fn on_line;
	void *line_ctx;
	GString *line;      /* body line being assembled */
	GString *hline;     /* header line being assembled */
	GError *cb_error;   /* why a callback stopped the transfer */
	source_sink_fn sink;
	void *sink_ctx;
	uint64_t received;
	uint64_t max_bytes;
	uint64_t drain_limit;
	char *tagged;       /* last tagged NO or BAD, sanitised */
	char status[4];     /* its NO/BAD */
	char code[32];      /* its response code, "TRYCREATE" */
	char *untagged_no;  /* last "* NO/BAD/BYE", sanitised */

	/* a header literal being captured (imap_conn_req.literal) */
	GByteArray *literal;
	size_t literal_max;     /* bytes appended at most */
	uint32_t literal_uid;
	bool literal_seen;      /* its FETCH line came */
	uint64_t literal_size;  /* as announced */
	uint64_t literal_left;  /* not yet read: >0 after the request means
				   the response ended inside the literal */
};

/* A request: a custom command (lines to on_line) or a download (sink). */
struct imap_conn_req {
	const char *url;
	const char *command; /* NULL: the URL's own FETCH */
	imap_conn_line_fn on_line;
	void *ctx;
	source_sink_fn sink;
	void *sink_ctx;
	/* A custom UID FETCH of BODY.PEEK[HEADER]: libcurl cannot read the
	 * literal of a custom command, it passes its lines to the header
	 * stream, where the literal announced for literal_uid (see
	 * imapparse_header_literal) is appended to literal, at most
	 * literal_max bytes.  Its lines are not taken as server lines. */
	GByteArray *literal;
	size_t literal_max;
	uint32_t literal_uid;
	/* close the connection after this request */
	bool forbid_reuse;
};

/* Parses cfg->mailbox_url and sets up the handle; connects nothing. */
struct imap_conn *imap_conn_new(const struct intake_config *cfg,
				GError **error);
/* Sends LOGOUT when connected; NULL is fine. */
void imap_conn_free(struct imap_conn *im);

/* Logs in (CAPABILITY, ID when offered), then has curl SELECT the
 * mailbox and keeps its UIDVALIDITY, which every later mailbox URL
 * carries as a guard. */
bool imap_conn_open(struct imap_conn *im, uint32_t *uidvalidity_r,
		    GError **error);

/* One request, with the handshake redone first when the connection was
 * lost, and tried once more when it failed on a stale connection.  what
 * names it in error messages.  A callback's error (im->cb_error) is
 * passed on as it is. */
bool imap_conn_request(struct imap_conn *im, const struct imap_conn_req *req,
		       const char *what, GError **error);

/* A custom command on the selected mailbox; its untagged lines go to
 * on_line (may be NULL). */
bool imap_conn_command(struct imap_conn *im, const char *command,
		       imap_conn_line_fn on_line, void *ctx, GError **error);

/* A folder name as sent: modified UTF-7, unless it already is (canonical,
 * with an "&...-" in it). */
char *imap_conn_wire_name(const char *name, GError **error);

/* A server line fit for a message: bounded, valid UTF-8, no controls. */
char *imap_conn_sanitise(const char *line, size_t len);

#endif
