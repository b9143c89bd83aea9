/*
 * imap_conn.c - the IMAP driver's connection: libcurl, handshake, errors
 *
 * One easy handle, so one connection, for the whole session.  The first
 * request goes to the server URL with no mailbox (curl logs in, selects
 * nothing): CAPABILITY, then ID when offered (163 and 126 refuse SELECT
 * without it).  imap_conn_open() then has curl SELECT the mailbox (a NOOP
 * on the mailbox URL) and reads "* OK [UIDVALIDITY n]" from the header
 * stream; from then on every mailbox URL carries ";UIDVALIDITY=n", so a
 * re-SELECT after a reconnection fails if the mailbox was recreated.
 *
 * Every server line passes through the header callback: the last tagged
 * NO or BAD and the last untagged NO/BAD/BYE are kept (bounded,
 * sanitised) for error messages, EXISTS and EXPUNGE keep the message
 * count.  A header literal (UID FETCH n BODY.PEEK[HEADER], which curl
 * cannot read as a literal for a custom command) is taken from this
 * stream by its announced length.  The untagged lines of a custom
 * command also arrive as the body:
 * they are split into lines (at most IMAPPARSE_MAX_LINE) for the
 * caller's line function.
 *
 * After a failed command curl drops the connection: the next request
 * connects again and redoes CAPABILITY and ID first.  A request that
 * fails on a stale reused connection, or on a connection that curl made
 * by itself and SELECTed on before our ID, is tried once more.
 *
 * Receive buffer: 512 KiB, libcurl's maximum, because libcurl 7.88 cuts
 * a line longer than half of it (see imap.c).  Timeouts: 30 s to
 * connect, and a transfer below 1 byte/s for 120 s is abandoned, so a
 * dead server cannot hang the daemon.  TLS is always verified;
 * imap:// requires STARTTLS unless allow_insecure.  The password goes to
 * curl only and is never logged.
 */
#include <curl/curl.h>
#include <inttypes.h>
#include <string.h>

#include "config.h"
#include "imap_conn.h"
#include "imapparse.h"

#define IMAP_CONN_BUFFER_SIZE (512 * 1024) /* libcurl's maximum */
#define IMAP_CONN_DIAG_BYTES 400   /* of a server line, for messages */
#define IMAP_CONN_HEADER_LINE 4096 /* header lines parsed up to this */

/* ---- server lines ------------------------------------------------------ */

/* A server line fit for an error message: at most IMAP_CONN_DIAG_BYTES, valid
 * UTF-8, no control characters. */
char *
imap_conn_sanitise(const char *line, size_t len)
{
	char *s;

	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len > IMAP_CONN_DIAG_BYTES)
		len = IMAP_CONN_DIAG_BYTES;
	s = g_utf8_make_valid(line, (gssize)len);
	for (char *p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return s;
}

static void
imap_server_line(struct imap_conn *im, const char *line, size_t len)
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
		im->tagged = imap_conn_sanitise(line, len);
	} else if (len > 4 && (g_ascii_strncasecmp(line, "* NO", 4) == 0 ||
			       g_ascii_strncasecmp(line, "* BAD", 5) == 0 ||
			       g_ascii_strncasecmp(line, "* BYE", 5) == 0)) {
		g_free(im->untagged_no);
		im->untagged_no = imap_conn_sanitise(line, len);
	}
}

/* The FETCH line that announces the header literal being captured. */
static void
imap_literal_line(struct imap_conn *im, const char *line, size_t len)
{
	uint32_t uid;
	uint64_t size;

	if (im->literal == NULL || im->literal_seen ||
	    !imapparse_header_literal(line, len, &uid, &size) ||
	    (uid != 0 && uid != im->literal_uid))
		return;
	im->literal_seen = true;
	im->literal_size = size;
	im->literal_left = size;
}

/* Every line the server sends; curl gives them one at a time, but this
 * does not rely on it.  Lines are parsed up to IMAP_CONN_HEADER_LINE bytes
 * (the longer ones carry nothing we read from this stream).  The bytes of
 * a header literal being captured are the literal's, not lines. */
static size_t
imap_header_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	struct imap_conn *im = arg;
	size_t len = size * nitems;

	for (size_t i = 0; i < len;) {
		const char *nl;
		size_t n;

		if (im->literal_left > 0) {
			/* the literal's bytes, whatever lines they make */
			n = (size_t)MIN(im->literal_left, (uint64_t)(len - i));
			if (im->literal != NULL &&
			    im->literal->len < im->literal_max)
				g_byte_array_append(
					im->literal, (const guint8 *)buf + i,
					(guint)MIN(n, im->literal_max -
							  im->literal->len));
			im->literal_left -= n;
			i += n;
			continue;
		}
		nl = memchr(buf + i, '\n', len - i);
		n = nl ? (size_t)(nl - (buf + i)) + 1 : len - i;
		if (im->hline->len < IMAP_CONN_HEADER_LINE)
			g_string_append_len(im->hline, buf + i,
					    MIN(n, IMAP_CONN_HEADER_LINE -
						       im->hline->len));
		if (nl != NULL) {
			imap_server_line(im, im->hline->str, im->hline->len);
			imap_literal_line(im, im->hline->str, im->hline->len);
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
	struct imap_conn *im = arg;
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
	struct imap_conn *im = arg;
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
imap_server_said(const struct imap_conn *im)
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
imap_set_error(struct imap_conn *im, CURLcode rc, const char *what,
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
				    "mailbox \"%s\" on %s has a new "
				    "UIDVALIDITY (it was recreated); it will "
				    "be listed again", im->mailbox, im->where);
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
imap_reset_request(struct imap_conn *im)
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
	im->literal = NULL;
	im->literal_max = 0;
	im->literal_uid = 0;
	im->literal_seen = false;
	im->literal_size = 0;
	im->literal_left = 0;
}

/* One curl_easy_perform(); new_conn_r says whether it connected anew. */
static CURLcode
imap_perform(struct imap_conn *im, const struct imap_conn_req *req,
	     bool *new_conn_r)
{
	long connects = 0;
	CURLcode rc;

	imap_reset_request(im);
	im->on_line = req->on_line;
	im->line_ctx = req->ctx;
	im->sink = req->sink;
	im->sink_ctx = req->sink_ctx;
	im->literal = req->literal;
	im->literal_max = req->literal_max;
	im->literal_uid = req->literal_uid;
	curl_easy_setopt(im->curl, CURLOPT_FORBID_REUSE,
			 req->forbid_reuse ? 1L : 0L);
	curl_easy_setopt(im->curl, CURLOPT_URL, req->url);
	curl_easy_setopt(im->curl, CURLOPT_CUSTOMREQUEST, req->command);
	curl_easy_setopt(im->curl, CURLOPT_WRITEFUNCTION,
			 req->sink ? imap_sink_cb : imap_lines_cb);
	rc = curl_easy_perform(im->curl);
	/* the caller's array; what came (literal_seen, _size, _left) stays
	 * for the caller to read */
	im->literal = NULL;
	curl_easy_getinfo(im->curl, CURLINFO_NUM_CONNECTS, &connects);
	*new_conn_r = connects > 0;
	if (connects > 0)
		im->identified = false;
	if (rc != CURLE_OK || req->forbid_reuse)
		im->handshake_needed = true;
	return rc;
}

static bool
imap_caps_line(struct imap_conn *im, const char *line, size_t len, void *ctx,
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
imap_handshake(struct imap_conn *im, GError **error)
{
	struct imap_conn_req req = {
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
		struct imap_conn_req id = {
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
imap_retryable(const struct imap_conn *im, CURLcode rc, bool new_conn)
{
	if (im->cb_error != NULL || im->received > 0 || im->literal_seen)
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
bool
imap_conn_request(struct imap_conn *im, const struct imap_conn_req *req,
		  const char *what, GError **error)
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
			g_propagate_error(error,
					  g_steal_pointer(&im->cb_error));
			return false;
		}
		imap_set_error(im, rc, what, error);
		return false;
	}
}

/* A custom command on the selected mailbox. */
bool
imap_conn_command(struct imap_conn *im, const char *command,
		  imap_conn_line_fn on_line, void *ctx, GError **error)
{
	struct imap_conn_req req = {
		.url = im->mailbox_url,
		.command = command,
		.on_line = on_line,
		.ctx = ctx,
	};
	g_autofree char *what = g_strdup_printf("\"%s\"", command);

	return imap_conn_request(im, &req, what, error);
}

/* ---- open and close ---------------------------------------------------- */

/* The name as sent: modified UTF-7, unless it already is (canonical, with
 * an "&...-" in it). */
char *
imap_conn_wire_name(const char *name, GError **error)
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
imap_parse_url(struct imap_conn *im, GError **error)
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
	wire = imap_conn_wire_name(im->mailbox, error);
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
imap_setup_curl(struct imap_conn *im, GError **error)
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
	curl_easy_setopt(c, CURLOPT_BUFFERSIZE, (long)IMAP_CONN_BUFFER_SIZE);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, imap_header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, im);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, im);
	return true;
}

void
imap_conn_free(struct imap_conn *im)
{
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
}

struct imap_conn *
imap_conn_new(const struct intake_config *cfg, GError **error)
{
	struct imap_conn *im = g_new0(struct imap_conn, 1);

	im->cfg = cfg;
	im->line = g_string_new(NULL);
	im->hline = g_string_new(NULL);
	if (!imap_parse_url(im, error) || !imap_setup_curl(im, error)) {
		imap_conn_free(im);
		return NULL;
	}
	return im;
}

bool
imap_conn_open(struct imap_conn *im, uint32_t *uidvalidity_r,
	       GError **error)
{
	g_autofree char *what = NULL;
	struct imap_conn_req select = { .command = "NOOP" };

	if (!imap_handshake(im, error))
		return false;
	/* curl SELECTs the mailbox before the NOOP */
	select.url = im->mailbox_url;
	im->seen_uidvalidity = 0;
	what = g_strdup_printf("selecting \"%s\"", im->mailbox);
	if (!imap_conn_request(im, &select, what, error))
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
