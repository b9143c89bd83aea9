/*
 * imap.c - an IMAP mailbox as a message source, over libcurl
 *
 * One easy handle, so one connection, serves the whole session
 * (DESIGN.md §3 "IMAP manners", RECIPES.md §2):
 *
 *   open     CAPABILITY on the server URL (imaps://host:port/, no mailbox:
 *            curl logs in but selects nothing), then ID when the server
 *            advertises it (163 and 126 refuse SELECT without it), then
 *            NOOP on the mailbox URL, for which curl SELECTs; the SELECT's
 *            "* OK [UIDVALIDITY n]" is read from the header stream.  From
 *            then on every mailbox URL carries ";UIDVALIDITY=n", so that
 *            curl refuses a re-SELECT (after a reconnection) of a mailbox
 *            that was recreated meanwhile.
 *   list     UID SEARCH in windows of message sequence numbers, from the
 *            top down ("UID SEARCH a:b UID n:*", + SINCE when asked), then
 *            UID FETCH n,m,... (UID FLAGS INTERNALDATE RFC822.SIZE) in
 *            small batches.  After each window, a one-message probe of
 *            the sequence number below it: once that message's UID is
 *            below n, so are all lower ones, and an incremental poll costs
 *            two small SEARCHes.  Top down, so that an EXPUNGE by another
 *            client can only move a message into a window not yet
 *            searched.  UIDs below n (UID n:* always matches the highest
 *            UID) and arrivals before since are dropped on our side.
 *   fetch    the URL ".../MAILBOX;UIDVALIDITY=v;UID=n": curl sends UID
 *            FETCH n BODY[] and writes the literal to us.  Refused before
 *            it starts when RFC822.SIZE is over max_message_bytes; if more
 *            than that arrives anyway, or the sink fails, the rest is read
 *            and dropped (up to 1 MiB past the limit) so that the FETCH
 *            ends cleanly and the \Seen it sets is in place before
 *            restore_seen() clears it with UID STORE -FLAGS.SILENT.
 *   mark     UID STORE +FLAGS.SILENT (keyword), or UID MOVE, or UID COPY +
 *            \Deleted + UID EXPUNGE (UIDPLUS); never a bare EXPUNGE.  A
 *            NO [TRYCREATE] creates the folder and tries once more.
 *
 * Windows and small batches, because of two limits of Debian 12's
 * libcurl 7.88.1 (both measured against Dovecot): it silently cuts a
 * server line longer than half its receive buffer (a SEARCH of 12000
 * UIDs came back as 1418), and for every line of a response it counts
 * the rest of the chunk it was read in again, failing the request past
 * 300 KB ("Too large response headers") -- with 16 KB TLS records that is
 * ~37 lines.  So the buffer is 512 KiB (SEARCH lines up to 256 KiB come
 * whole), a window is 5000 messages (< 56 KB of UIDs) and a UID FETCH
 * asks for 20 messages.  A flood of unsolicited lines (another client
 * expunged thousands) fails one request; it is retried on a fresh
 * connection, whose SELECT starts clean.
 *
 * Folder names in the URL and in mark = move:FOLDER are UTF-8 and sent in
 * modified UTF-7 (a name that already is canonical modified UTF-7 with
 * "&...-" in it is taken as it is).  The server's lines all pass through
 * the header callback: the last tagged NO or BAD and the last untagged
 * NO/BAD/BYE are kept (bounded) for error messages; EXISTS and EXPUNGE
 * keep the message count.  After a failed command curl drops the
 * connection; the next request connects again and repeats CAPABILITY and
 * ID first.  A request that fails on a stale reused connection is tried
 * once more.  The password goes to curl only and is never logged.
 */
#include <curl/curl.h>
#include <inttypes.h>
#include <string.h>

#include "config.h"
#include "imapparse.h"
#include "source.h"

#define IMAP_SEARCH_WINDOW 5000      /* messages per UID SEARCH */
#define IMAP_FETCH_BATCH 20          /* UIDs per UID FETCH */
#define IMAP_MAX_LIST 1000000        /* UIDs one list() returns at most */
#define IMAP_BUFFER_SIZE (512 * 1024) /* libcurl's maximum */
#define IMAP_DIAG_BYTES 400          /* of a server line kept for errors */
#define IMAP_HEADER_LINE 4096        /* header lines parsed up to this */
#define IMAP_DRAIN_SLACK (1024 * 1024) /* read past a refusal, at most */

struct imap;

/* Called with each untagged line of a custom command's response. */
typedef bool (*imap_line_fn)(struct imap *im, const char *line, size_t len,
			     void *ctx, GError **error);

struct imap {
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
	imap_line_fn on_line;
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
};

/* A request: a custom command (lines to on_line) or a download (sink). */
struct imap_req {
	const char *url;
	const char *command; /* NULL: the URL's own FETCH */
	imap_line_fn on_line;
	void *ctx;
	source_sink_fn sink;
	void *sink_ctx;
};

static struct imap *
imap_get(struct source *src, GError **error)
{
	if (src->priv == NULL)
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_CONNECTION,
			    "IMAP source is not open");
	return src->priv;
}

/* ---- server lines ------------------------------------------------------ */

/* A server line fit for an error message: at most IMAP_DIAG_BYTES, valid
 * UTF-8, no control characters. */
static char *
imap_sanitise(const char *line, size_t len)
{
	char *s;

	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len > IMAP_DIAG_BYTES)
		len = IMAP_DIAG_BYTES;
	s = g_utf8_make_valid(line, (gssize)len);
	for (char *p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return s;
}

static void
imap_server_line(struct imap *im, const char *line, size_t len)
{
	char status[sizeof(im->status)], code[sizeof(im->code)];
	uint32_t n;

	if (imapparse_uidvalidity(line, len, &n))
		im->seen_uidvalidity = n;
	else if (imapparse_exists(line, len, &n))
		im->exists = n;
	else if (imapparse_expunge(line, len, &n) && im->exists > 0)
		im->exists--;
	if (imapparse_tagged(line, len, status, sizeof(status), code,
			     sizeof(code))) {
		/* the refusal, not the OK of the LOGOUT that curl sends
		 * after it */
		if (strcmp(status, "OK") == 0)
			return;
		memcpy(im->status, status, sizeof(im->status));
		memcpy(im->code, code, sizeof(im->code));
		g_free(im->tagged);
		im->tagged = imap_sanitise(line, len);
	} else if (len > 4 && (g_ascii_strncasecmp(line, "* NO", 4) == 0 ||
			       g_ascii_strncasecmp(line, "* BAD", 5) == 0 ||
			       g_ascii_strncasecmp(line, "* BYE", 5) == 0)) {
		g_free(im->untagged_no);
		im->untagged_no = imap_sanitise(line, len);
	}
}

/* Every line the server sends; curl gives them one at a time, but this
 * does not rely on it.  Lines are parsed up to IMAP_HEADER_LINE bytes
 * (the longer ones carry nothing we read from this stream). */
static size_t
imap_header_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	struct imap *im = arg;
	size_t len = size * nitems;

	for (size_t i = 0; i < len;) {
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (buf + i)) + 1 : len - i;

		if (im->hline->len < IMAP_HEADER_LINE)
			g_string_append_len(im->hline, buf + i,
					    MIN(n, IMAP_HEADER_LINE -
						       im->hline->len));
		if (nl != NULL) {
			imap_server_line(im, im->hline->str, im->hline->len);
			g_string_truncate(im->hline, 0);
		}
		i += n;
	}
	return len;
}

/* The untagged lines of a custom command, split into lines. */
static size_t
imap_lines_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	struct imap *im = arg;
	size_t len = size * nitems;

	for (size_t i = 0; i < len;) {
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (buf + i)) + 1 : len - i;

		if (im->line->len + n > IMAPPARSE_MAX_LINE) {
			g_set_error(&im->cb_error, INTAKE_ERROR,
				    INTAKE_ERROR_TEMPORARY,
				    "IMAP server %s sent a line longer than "
				    "%d bytes", im->where, IMAPPARSE_MAX_LINE);
			return 0;
		}
		g_string_append_len(im->line, buf + i, n);
		i += n;
		if (nl == NULL)
			break;
		if (im->on_line != NULL &&
		    !im->on_line(im, im->line->str, im->line->len,
				 im->line_ctx, &im->cb_error))
			return 0;
		g_string_truncate(im->line, 0);
	}
	return len;
}

/* The message, as curl downloads it.  Once the sink failed or the limit
 * was passed, the rest is read and dropped, up to drain_limit: the FETCH
 * then completes on this connection, so that the \Seen it sets is there
 * before our UID STORE -FLAGS (cut short, the server's session may set
 * it after we cleared it from a new connection). */
static size_t
imap_sink_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	struct imap *im = arg;
	size_t len = size * nitems;

	im->received += len;
	if (im->cb_error != NULL)
		return im->received > im->drain_limit ? 0 : len;
	if (im->max_bytes != 0 && im->received > im->max_bytes) {
		g_set_error(&im->cb_error, INTAKE_ERROR, INTAKE_ERROR_LIMIT,
			    "more than max_message_bytes (%" G_GUINT64_FORMAT
			    ") arrived; download stopped", im->max_bytes);
		return im->received > im->drain_limit ? 0 : len;
	}
	if (!im->sink(buf, len, im->sink_ctx, &im->cb_error))
		return im->received > im->drain_limit ? 0 : len;
	return len;
}

/* ---- errors ------------------------------------------------------------ */

static const char *
imap_server_said(const struct imap *im)
{
	if (im->tagged != NULL)
		return im->tagged;
	if (im->untagged_no != NULL)
		return im->untagged_no;
	return NULL;
}

/* What a failed request means, as a GError whose code says how far it
 * reaches.  what: the command or action, for the message. */
static void
imap_set_error(struct imap *im, CURLcode rc, const char *what,
	       GError **error)
{
	const char *said = imap_server_said(im);
	const char *detail = im->errbuf[0] ? im->errbuf
					   : curl_easy_strerror(rc);
	g_autofree char *server = said ? g_strdup_printf(" (server said: %s)",
							 said)
				       : g_strdup("");

	switch (rc) {
	case CURLE_LOGIN_DENIED:
		if (g_str_has_prefix(im->errbuf, "Select failed")) {
			g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_PERMANENT,
				    "IMAP server %s refused to open mailbox "
				    "\"%s\"%s", im->where, im->mailbox, server);
			return;
		}
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_AUTH,
			    "IMAP login as \"%s\" on %s was refused%s. QQ Mail "
			    "and 163 need the mailbox's authorization code "
			    "(授权码), not the web password: turn on IMAP in "
			    "the web mailbox's settings, generate an "
			    "authorization code there and put it in "
			    "password_file", im->cfg->mailbox_user
			    ? im->cfg->mailbox_user : "", im->where, server);
		return;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_CONNECTION,
			    "TLS with IMAP server %s failed: its certificate "
			    "could not be verified (%s); for a private CA set "
			    "[mailbox] ca_file", im->where, detail);
		return;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_SSL_CRL_BADFILE:
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_CONNECTION,
			    "TLS with IMAP server %s failed: %s", im->where,
			    detail);
		return;
	case CURLE_USE_SSL_FAILED:
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_CONNECTION,
			    "IMAP server %s does not offer STARTTLS; use "
			    "imaps:// (port 993)", im->where);
		return;
	case CURLE_QUOTE_ERROR: {
		bool busy = strcmp(im->code, "UNAVAILABLE") == 0 ||
			    strcmp(im->code, "INUSE") == 0 ||
			    strcmp(im->code, "LIMIT") == 0 ||
			    strcmp(im->code, "SERVERBUG") == 0;

		g_set_error(error, INTAKE_ERROR,
			    busy ? INTAKE_ERROR_TEMPORARY
				 : INTAKE_ERROR_PERMANENT,
			    "IMAP server %s refused %s%s", im->where, what,
			    server);
		return;
	}
	case CURLE_REMOTE_FILE_NOT_FOUND:
		if (strstr(im->errbuf, "UIDVALIDITY") != NULL)
			g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_TEMPORARY,
				    "mailbox \"%s\" on %s has a new UIDVALIDITY "
				    "(it was recreated); it will be listed "
				    "again", im->mailbox, im->where);
		else
			g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_MESSAGE,
				    "%s: no such message in \"%s\" on %s "
				    "(expunged?)", what, im->mailbox,
				    im->where);
		return;
	case CURLE_OUT_OF_MEMORY:
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_FATAL,
			    "out of memory");
		return;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_CONFIG,
			    "[mailbox] url: %s", detail);
		return;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_CONNECTION,
			    "cannot connect to IMAP server %s: %s", im->where,
			    detail);
		return;
	case CURLE_OPERATION_TIMEDOUT:
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_CONNECTION,
			    "IMAP server %s did not answer in time during %s: "
			    "%s", im->where, what, detail);
		return;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_CONNECTION,
			    "connection to IMAP server %s lost during %s: %s%s",
			    im->where, what, detail, server);
		return;
	default:
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_CONNECTION,
			    "IMAP server %s: %s failed: %s%s", im->where, what,
			    detail, server);
		return;
	}
}

/* ---- requests ---------------------------------------------------------- */

static void
imap_reset_request(struct imap *im)
{
	im->errbuf[0] = '\0';
	g_string_truncate(im->line, 0);
	g_string_truncate(im->hline, 0);
	g_clear_error(&im->cb_error);
	g_clear_pointer(&im->tagged, g_free);
	g_clear_pointer(&im->untagged_no, g_free);
	im->status[0] = '\0';
	im->code[0] = '\0';
	im->received = 0;
}

/* One curl_easy_perform(); new_conn_r says whether it connected anew. */
static CURLcode
imap_perform(struct imap *im, const struct imap_req *req, bool *new_conn_r)
{
	long connects = 0;
	CURLcode rc;

	imap_reset_request(im);
	im->on_line = req->on_line;
	im->line_ctx = req->ctx;
	im->sink = req->sink;
	im->sink_ctx = req->sink_ctx;
	curl_easy_setopt(im->curl, CURLOPT_URL, req->url);
	curl_easy_setopt(im->curl, CURLOPT_CUSTOMREQUEST, req->command);
	curl_easy_setopt(im->curl, CURLOPT_WRITEFUNCTION,
			 req->sink ? imap_sink_cb : imap_lines_cb);
	rc = curl_easy_perform(im->curl);
	curl_easy_getinfo(im->curl, CURLINFO_NUM_CONNECTS, &connects);
	*new_conn_r = connects > 0;
	if (connects > 0)
		im->identified = false;
	if (rc != CURLE_OK)
		im->handshake_needed = true;
	return rc;
}

static bool
imap_caps_line(struct imap *im, const char *line, size_t len, void *ctx,
	       GError **error)
{
	char ***caps = ctx;
	char **got = imapparse_capability(line, len);

	(void)im;
	(void)error;
	if (got != NULL) {
		g_strfreev(*caps);
		*caps = got;
	}
	return true;
}

/* CAPABILITY, then ID on a connection that has not had it. */
static bool
imap_handshake(struct imap *im, GError **error)
{
	struct imap_req req = {
		.url = im->server_url,
		.command = "CAPABILITY",
		.on_line = imap_caps_line,
	};
	char **caps = NULL;
	bool new_conn;
	CURLcode rc;

	req.ctx = &caps;
	rc = imap_perform(im, &req, &new_conn);
	if (rc != CURLE_OK) {
		g_strfreev(caps);
		imap_set_error(im, rc, "CAPABILITY", error);
		return false;
	}
	if (caps != NULL) {
		g_strfreev(im->caps);
		im->caps = caps;
	}
	if (!im->identified && imapparse_has_capability(im->caps, "ID")) {
		struct imap_req id = {
			.url = im->server_url,
			.command = "ID (\"name\" \"intake\" \"version\" \""
				   INTAKE_VERSION "\")",
		};

		rc = imap_perform(im, &id, &new_conn);
		if (rc != CURLE_OK) {
			imap_set_error(im, rc, "ID", error);
			return false;
		}
	}
	im->identified = true;
	im->handshake_needed = false;
	return true;
}

/* Whether a failed request is worth one more try on a new connection:
 * the reused one had gone stale, or curl connected again by itself and
 * SELECTed before our ID. */
static bool
imap_retryable(const struct imap *im, CURLcode rc, bool new_conn)
{
	if (im->cb_error != NULL || im->received > 0)
		return false;
	if (!new_conn)
		return rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR ||
		       rc == CURLE_GOT_NOTHING;
	return rc == CURLE_LOGIN_DENIED &&
	       g_str_has_prefix(im->errbuf, "Select failed") &&
	       imapparse_has_capability(im->caps, "ID");
}

/* A request with the handshake redone when needed; what names it in
 * error messages. */
static bool
imap_request(struct imap *im, const struct imap_req *req, const char *what,
	     GError **error)
{
	for (int attempt = 0;; attempt++) {
		bool new_conn = false;
		CURLcode rc;

		if ((im->handshake_needed || !im->identified) &&
		    !imap_handshake(im, error))
			return false;
		rc = imap_perform(im, req, &new_conn);
		if (rc == CURLE_OK && im->cb_error == NULL)
			return true;
		if (attempt == 0 && imap_retryable(im, rc, new_conn))
			continue;
		if (im->cb_error != NULL) {
			g_propagate_error(error, g_steal_pointer(&im->cb_error));
			return false;
		}
		imap_set_error(im, rc, what, error);
		return false;
	}
}

/* A custom command on the selected mailbox. */
static bool
imap_command(struct imap *im, const char *command, imap_line_fn on_line,
	     void *ctx, GError **error)
{
	struct imap_req req = {
		.url = im->mailbox_url,
		.command = command,
		.on_line = on_line,
		.ctx = ctx,
	};
	g_autofree char *what = g_strdup_printf("\"%s\"", command);

	return imap_request(im, &req, what, error);
}

/* ---- open and close ---------------------------------------------------- */

/* The name as sent: modified UTF-7, unless it already is (canonical, with
 * an "&...-" in it). */
static char *
imap_wire_name(const char *name, GError **error)
{
	g_autofree char *decoded = NULL;

	if (strchr(name, '&') != NULL) {
		decoded = imapparse_mutf7_decode(name, NULL);
		if (decoded != NULL && strcmp(decoded, name) != 0)
			return g_strdup(name);
	}
	return imapparse_mutf7_encode(name, error);
}

static bool
imap_parse_url(struct imap *im, GError **error)
{
	const struct intake_config *cfg = im->cfg;
	g_autofree char *wire = NULL;
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
	CURLU *u = curl_url();
	bool ok = false;

	if (u == NULL ||
	    curl_url_set(u, CURLUPART_URL, cfg->mailbox_url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) !=
		    CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &path, CURLU_URLDECODE) !=
		    CURLUE_OK) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_CONFIG,
			    "[mailbox] url: \"%s\" is not a valid IMAP URL",
			    cfg->mailbox_url);
		goto out;
	}
	im->mailbox = g_strdup(path[0] == '/' ? path + 1 : path);
	if (im->mailbox[0] == '\0') {
		g_free(im->mailbox);
		im->mailbox = g_strdup("INBOX");
	}
	wire = imap_wire_name(im->mailbox, error);
	if (wire == NULL) {
		g_prefix_error(error, "[mailbox] url: ");
		goto out;
	}
	im->mailbox_path = g_uri_escape_string(wire, "/", FALSE);
	im->where = g_strdup_printf("%s:%s", host, port);
	im->server_url = g_strdup_printf("%s://%s:%s/", scheme, host, port);
	im->mailbox_url = g_strconcat(im->server_url, im->mailbox_path, NULL);
	ok = true;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_url_cleanup(u);
	return ok;
}

static bool
imap_setup_curl(struct imap *im, GError **error)
{
	const struct intake_config *cfg = im->cfg;
	CURL *c = curl_easy_init();

	if (c == NULL) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_FATAL,
			    "curl_easy_init failed");
		return false;
	}
	im->curl = c;
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, im->errbuf);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "imap,imaps");
	curl_easy_setopt(c, CURLOPT_USE_SSL, cfg->allow_insecure
			 ? (long)CURLUSESSL_TRY : (long)CURLUSESSL_ALL);
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (cfg->mailbox_ca_file != NULL && cfg->mailbox_ca_file[0] != '\0')
		curl_easy_setopt(c, CURLOPT_CAINFO, cfg->mailbox_ca_file);
	curl_easy_setopt(c, CURLOPT_USERNAME,
			 cfg->mailbox_user ? cfg->mailbox_user : "");
	curl_easy_setopt(c, CURLOPT_PASSWORD,
			 cfg->mailbox_password ? cfg->mailbox_password : "");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 120L);
	curl_easy_setopt(c, CURLOPT_SERVER_RESPONSE_TIMEOUT, 120L);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_MAXCONNECTS, 1L);
	curl_easy_setopt(c, CURLOPT_BUFFERSIZE, (long)IMAP_BUFFER_SIZE);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, imap_header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, im);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, im);
	return true;
}

static void
imap_close(struct source *src)
{
	struct imap *im = src->priv;

	if (im == NULL)
		return;
	if (im->curl != NULL)
		curl_easy_cleanup(im->curl); /* sends LOGOUT */
	g_free(im->where);
	g_free(im->server_url);
	g_free(im->mailbox);
	g_free(im->mailbox_path);
	g_free(im->mailbox_url);
	g_strfreev(im->caps);
	g_string_free(im->line, TRUE);
	g_string_free(im->hline, TRUE);
	g_clear_error(&im->cb_error);
	g_free(im->tagged);
	g_free(im->untagged_no);
	g_free(im);
	src->priv = NULL;
}

static bool
imap_open(struct source *src, uint32_t *uidvalidity_r, GError **error)
{
	struct imap *im;
	g_autofree char *what = NULL;
	struct imap_req select = { .command = "NOOP" };

	imap_close(src);
	im = g_new0(struct imap, 1);
	src->priv = im;
	im->cfg = src->cfg;
	im->line = g_string_new(NULL);
	im->hline = g_string_new(NULL);
	if (!imap_parse_url(im, error) || !imap_setup_curl(im, error) ||
	    !imap_handshake(im, error))
		return false;
	/* curl SELECTs the mailbox before the NOOP */
	select.url = im->mailbox_url;
	im->seen_uidvalidity = 0;
	what = g_strdup_printf("selecting \"%s\"", im->mailbox);
	if (!imap_request(im, &select, what, error))
		return false;
	if (im->seen_uidvalidity == 0) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_PERMANENT,
			    "IMAP server %s did not say the UIDVALIDITY of "
			    "\"%s\"", im->where, im->mailbox);
		return false;
	}
	im->uidvalidity = im->seen_uidvalidity;
	g_free(im->mailbox_url);
	im->mailbox_url = g_strdup_printf("%s%s;UIDVALIDITY=%" PRIu32,
					  im->server_url, im->mailbox_path,
					  im->uidvalidity);
	*uidvalidity_r = im->uidvalidity;
	return true;
}

/* ---- list -------------------------------------------------------------- */

static bool
imap_search_line(struct imap *im, const char *line, size_t len, void *ctx,
		 GError **error)
{
	GArray *uids = ctx;

	if (len < 8 || g_ascii_strncasecmp(line, "* SEARCH", 8) != 0)
		return true; /* EXISTS, EXPUNGE and such */
	if (imapparse_search(line, len, uids, IMAP_MAX_LIST - uids->len))
		return true;
	if (uids->len >= IMAP_MAX_LIST)
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_LIMIT,
			    "mailbox \"%s\" has more than %d messages to "
			    "list", im->mailbox, IMAP_MAX_LIST);
	else
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_TEMPORARY,
			    "IMAP server %s sent a SEARCH response that "
			    "cannot be read", im->where);
	return false;
}

/* UID SEARCH "seqset UID start:*" [SINCE date]. */
static bool
imap_search(struct imap *im, const char *seqset, uint32_t start,
	    const char *since, GArray *uids, GError **error)
{
	g_autofree char *cmd = g_strdup_printf(
		"UID SEARCH %s UID %" PRIu32 ":*%s%s", seqset, start,
		since ? " SINCE " : "", since ? since : "");

	return imap_command(im, cmd, imap_search_line, uids, error);
}

/* The UIDs from start up, in windows from the top down (see the top of
 * this file). */
static bool
imap_search_all(struct imap *im, uint32_t start, int64_t since,
		GArray *uids, GError **error)
{
	char date[16];
	const char *since_arg = NULL;
	uint32_t high;

	if (since != 0) {
		/* SINCE compares dates in the server's time zone: a day
		 * early, then precisely on INTERNALDATE */
		if (!imapparse_search_date(since - 86400, date, sizeof(date))) {
			g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_CONFIG,
				    "start date out of range");
			return false;
		}
		since_arg = date;
	}
	/* NOOP: the server tells us of messages that arrived since */
	if (!imap_command(im, "NOOP", NULL, NULL, error))
		return false;
	high = im->exists;
	for (bool top = true; high > 0; top = false) {
		uint32_t low = high > IMAP_SEARCH_WINDOW
				       ? high - IMAP_SEARCH_WINDOW + 1 : 1;
		g_autofree char *set = NULL;
		g_autoptr(GArray) probe = NULL;
		char below[16];

		if (top)
			set = g_strdup_printf("%" PRIu32 ":*", low);
		else
			set = g_strdup_printf("%" PRIu32 ":%" PRIu32, low,
					      high);
		if (!imap_search(im, set, start, since_arg, uids, error))
			return false;
		if (low == 1)
			break;
		if (start > 1) {
			/* the message below this window: below start, so
			 * are all the ones under it */
			probe = g_array_new(FALSE, FALSE, sizeof(uint32_t));
			g_snprintf(below, sizeof(below), "%" PRIu32, low - 1);
			if (!imap_search(im, below, start, NULL, probe, error))
				return false;
			if (probe->len == 0 ||
			    g_array_index(probe, uint32_t, 0) < start)
				break;
		}
		high = low - 1;
	}
	return true;
}

struct imap_fetch_ctx {
	GHashTable *want; /* uid -> struct source_msg *, not owned */
};

static bool
imap_fetch_line(struct imap *im, const char *line, size_t len, void *ctx,
		GError **error)
{
	struct imap_fetch_ctx *fc = ctx;
	struct imapparse_fetch f;
	struct source_msg *msg;

	if (!imapparse_is_fetch(line, len))
		return true;
	if (!imapparse_fetch(line, len, &f)) {
		g_autofree char *shown = imap_sanitise(line, MIN(len, 120));

		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_TEMPORARY,
			    "IMAP server %s sent a FETCH response that cannot "
			    "be read: %s", im->where, shown);
		return false;
	}
	msg = f.uid ? g_hash_table_lookup(fc->want, GUINT_TO_POINTER(f.uid))
		    : NULL;
	/* ours, with everything we asked for, and the first of its kind */
	if (msg != NULL && msg->flags == NULL && f.flags != NULL &&
	    f.has_internaldate && f.has_size) {
		msg->flags = g_steal_pointer(&f.flags);
		msg->seen = f.seen;
		msg->internaldate = f.internaldate;
		msg->size = f.size;
	}
	imapparse_fetch_clear(&f);
	return true;
}

/* FLAGS, INTERNALDATE and RFC822.SIZE of n UIDs into msgs[]. */
static bool
imap_fetch_meta(struct imap *im, const uint32_t *uids, size_t n,
		struct source_msg **msgs, GError **error)
{
	g_autoptr(GHashTable) want = g_hash_table_new(NULL, NULL);
	struct imap_fetch_ctx fc = { want };
	g_autofree char *set = imapparse_uid_set(uids, n);
	g_autofree char *cmd = g_strdup_printf(
		"UID FETCH %s (UID FLAGS INTERNALDATE RFC822.SIZE)", set);

	for (size_t i = 0; i < n; i++)
		g_hash_table_insert(want, GUINT_TO_POINTER(uids[i]), msgs[i]);
	if (!imap_command(im, cmd, imap_fetch_line, &fc, error))
		return false;
	for (size_t i = 0; i < n; i++) {
		/* expunged between SEARCH and FETCH, or the server hid it:
		 * list again next time rather than skip it */
		if (msgs[i]->flags == NULL) {
			g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_TEMPORARY,
				    "IMAP server %s gave no FLAGS, "
				    "INTERNALDATE and RFC822.SIZE for UID %"
				    PRIu32, im->where, uids[i]);
			return false;
		}
	}
	return true;
}

static gint
imap_uid_cmp(gconstpointer a, gconstpointer b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static bool
imap_list(struct source *src, const struct source_cursor *cursor,
	  int64_t since, GPtrArray **msgs_r, GError **error)
{
	struct imap *im = imap_get(src, error);
	g_autoptr(GArray) found = NULL;
	g_autoptr(GArray) uids = NULL;
	g_autoptr(GPtrArray) all = NULL;
	g_autoptr(GPtrArray) msgs = NULL;
	uint32_t start = 1;

	if (im == NULL)
		return false;
	if (cursor != NULL && cursor->uidvalidity != 0 &&
	    cursor->uidvalidity == im->uidvalidity) {
		if (cursor->last_uid == UINT32_MAX) {
			*msgs_r = g_ptr_array_new_with_free_func(
				(GDestroyNotify)source_msg_free);
			return true;
		}
		start = cursor->last_uid + 1;
	}
	found = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	if (!imap_search_all(im, start, since, found, error))
		return false;
	g_array_sort(found, imap_uid_cmp);
	/* UID n:* matches the highest UID even below n; windows may meet */
	uids = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	for (guint i = 0; i < found->len; i++) {
		uint32_t uid = g_array_index(found, uint32_t, i);

		if (uid >= start &&
		    (uids->len == 0 ||
		     g_array_index(uids, uint32_t, uids->len - 1) != uid))
			g_array_append_val(uids, uid);
	}
	all = g_ptr_array_new_with_free_func((GDestroyNotify)source_msg_free);
	for (guint i = 0; i < uids->len; i++) {
		struct source_msg *msg = g_new0(struct source_msg, 1);

		msg->uid = g_array_index(uids, uint32_t, i);
		msg->key = g_strdup_printf("%" PRIu32, msg->uid);
		g_ptr_array_add(all, msg);
	}
	for (guint i = 0; i < uids->len; i += IMAP_FETCH_BATCH) {
		size_t n = MIN(IMAP_FETCH_BATCH, uids->len - i);

		if (!imap_fetch_meta(im, &g_array_index(uids, uint32_t, i), n,
				     (struct source_msg **)all->pdata + i,
				     error))
			return false;
	}
	msgs = g_ptr_array_new_with_free_func((GDestroyNotify)source_msg_free);
	for (guint i = 0; i < all->len; i++) {
		struct source_msg *msg = all->pdata[i];

		if (since != 0 && msg->internaldate < since)
			continue;
		all->pdata[i] = NULL;
		g_ptr_array_add(msgs, msg);
	}
	*msgs_r = g_steal_pointer(&msgs);
	return true;
}

/* ---- fetch, restore_seen, mark ------------------------------------------ */

static bool
imap_key_uid(const char *key, uint32_t *uid_r, GError **error)
{
	guint64 v;

	if (!g_ascii_string_to_unsigned(key, 10, 1, UINT32_MAX, &v, NULL)) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_MESSAGE,
			    "\"%s\" is not an IMAP UID", key);
		return false;
	}
	*uid_r = (uint32_t)v;
	return true;
}

static bool
imap_fetch(struct source *src, const struct source_msg *msg,
	   source_sink_fn sink, void *ctx, GError **error)
{
	struct imap *im = imap_get(src, error);
	uint64_t max = src->cfg->limits.max_message_bytes;
	g_autofree char *url = NULL;
	g_autofree char *what = NULL;
	uint32_t uid = msg->uid;
	struct imap_req req = { .sink = sink, .sink_ctx = ctx };
	bool ok;

	if (im == NULL || (uid == 0 && !imap_key_uid(msg->key, &uid, error)))
		return false;
	if (max != 0 && msg->size > max) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_LIMIT,
			    "message UID %" PRIu32 " is %" G_GUINT64_FORMAT
			    " bytes, more than max_message_bytes (%"
			    G_GUINT64_FORMAT "); not downloaded", uid,
			    msg->size, max);
		return false;
	}
	url = g_strdup_printf("%s;UID=%" PRIu32, im->mailbox_url, uid);
	what = g_strdup_printf("fetching UID %" PRIu32, uid);
	req.url = url;
	im->max_bytes = max;
	im->drain_limit = MAX(max, msg->size) + IMAP_DRAIN_SLACK;
	ok = imap_request(im, &req, what, error);
	im->max_bytes = 0;
	if (!ok && error != NULL && *error != NULL &&
	    (*error)->code == INTAKE_ERROR_LIMIT)
		g_prefix_error(error, "message UID %" PRIu32 ": ", uid);
	return ok;
}

static bool
imap_restore_seen(struct source *src, const char *key, GError **error)
{
	struct imap *im = imap_get(src, error);
	g_autofree char *cmd = NULL;
	uint32_t uid;

	if (im == NULL || !imap_key_uid(key, &uid, error))
		return false;
	cmd = g_strdup_printf("UID STORE %" PRIu32 " -FLAGS.SILENT (\\Seen)",
			      uid);
	return imap_command(im, cmd, NULL, NULL, error);
}

static bool
imap_mark_flag(struct imap *im, uint32_t uid, GError **error)
{
	const char *flag = im->cfg->mark_arg && im->cfg->mark_arg[0]
				   ? im->cfg->mark_arg : "$Filed";
	g_autofree char *cmd = NULL;

	if (!imapparse_is_flag(flag) || g_ascii_strcasecmp(flag, "\\Deleted")
					     == 0 ||
	    g_ascii_strcasecmp(flag, "\\Recent") == 0) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_CONFIG,
			    "[mailbox] mark: \"%s\" cannot be set as a flag",
			    flag);
		return false;
	}
	cmd = g_strdup_printf("UID STORE %" PRIu32 " +FLAGS.SILENT (%s)", uid,
			      flag);
	return imap_command(im, cmd, NULL, NULL, error);
}

/* UID MOVE, or COPY: the one step that can meet a missing folder. */
static bool
imap_move_step(struct imap *im, const char *cmd, const char *quoted,
	       GError **error)
{
	g_autoptr(GError) err = NULL;
	g_autofree char *create = NULL;

	if (imap_command(im, cmd, NULL, NULL, &err))
		return true;
	if (err->code != INTAKE_ERROR_PERMANENT ||
	    strcmp(im->code, "TRYCREATE") != 0) {
		g_propagate_error(error, g_steal_pointer(&err));
		return false;
	}
	create = g_strdup_printf("CREATE %s", quoted);
	return imap_command(im, create, NULL, NULL, error) &&
	       imap_command(im, cmd, NULL, NULL, error);
}

static bool
imap_mark_move(struct imap *im, uint32_t uid, GError **error)
{
	const char *folder = im->cfg->mark_arg;
	g_autofree char *wire = NULL;
	g_autofree char *quoted = NULL;
	g_autofree char *cmd = NULL;

	if (folder == NULL || folder[0] == '\0') {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_CONFIG,
			    "[mailbox] mark: move needs a folder");
		return false;
	}
	wire = imap_wire_name(folder, error);
	if (wire == NULL)
		return false;
	quoted = imapparse_quote(wire);
	if (quoted == NULL) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_CONFIG,
			    "[mailbox] mark: folder \"%s\" has control "
			    "characters", folder);
		return false;
	}
	if (imapparse_has_capability(im->caps, "MOVE")) {
		cmd = g_strdup_printf("UID MOVE %" PRIu32 " %s", uid, quoted);
		return imap_move_step(im, cmd, quoted, error);
	}
	cmd = g_strdup_printf("UID COPY %" PRIu32 " %s", uid, quoted);
	if (!imap_move_step(im, cmd, quoted, error))
		return false;
	g_free(cmd);
	cmd = g_strdup_printf("UID STORE %" PRIu32 " +FLAGS.SILENT "
			      "(\\Deleted)", uid);
	if (!imap_command(im, cmd, NULL, NULL, error))
		return false;
	/* without UIDPLUS the copy stays flagged \Deleted: a bare EXPUNGE
	 * would also remove what the office deleted and did not expunge */
	if (!imapparse_has_capability(im->caps, "UIDPLUS"))
		return true;
	g_free(cmd);
	cmd = g_strdup_printf("UID EXPUNGE %" PRIu32, uid);
	return imap_command(im, cmd, NULL, NULL, error);
}

static bool
imap_mark(struct source *src, const char *key, GError **error)
{
	struct imap *im;
	uint32_t uid;

	if (src->cfg->mark == MARK_NONE)
		return true;
	im = imap_get(src, error);
	if (im == NULL || !imap_key_uid(key, &uid, error))
		return false;
	if (src->cfg->mark == MARK_FLAG)
		return imap_mark_flag(im, uid, error);
	return imap_mark_move(im, uid, error);
}

const struct source_ops imap_source_ops = {
	.name = "imap",
	.open = imap_open,
	.list = imap_list,
	.fetch = imap_fetch,
	.restore_seen = imap_restore_seen,
	.mark = imap_mark,
	.close = imap_close,
};
