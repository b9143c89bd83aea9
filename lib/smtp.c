/*
 * smtp.c - sending one message over SMTP with libcurl
 *
 * One easy handle per session, so libcurl keeps the connection (EHLO,
 * STARTTLS and AUTH once) across the messages of a cycle.  The URL's path
 * is the EHLO name ([smtp] helo, default "localhost").
 *
 * libcurl says little about the dialogue, so the session watches it
 * through CURLOPT_DEBUGFUNCTION (on with CURLOPT_VERBOSE; nothing is
 * printed): the commands sent (verbs only: AUTH lines carry the
 * credentials and are never kept), the replies received (their codes and
 * the server's last text, the EHLO capabilities), and through
 * CURLOPT_SOCKOPTFUNCTION every new connection.
 *
 * Authentication.  With a user configured, libcurl skips AUTH silently
 * when the server does not advertise it, and reports success.  So:
 *   1. before the first message on a connection not known to be
 *      authenticated, a NOOP request (CURLOPT_CUSTOMREQUEST, no
 *      recipient) connects, says EHLO, STARTTLS and AUTH; no 235 reply to
 *      our AUTH means no MAIL FROM is ever sent;
 *   2. should libcurl open a new connection for the message itself (the
 *      old one died), the read callback is the gate: it is first called
 *      after the server's 354, and it aborts the transfer unless this
 *      connection authenticated.  Aborted in DATA, the message is never
 *      completed with "." and never delivered.
 *
 * Outcomes.  CURLE_OK is sent.  A 4xx reply, a lost or refused
 * connection, a timeout or a TLS failure is temporary; a 5xx reply is
 * permanent, with the server's text (a rejection at the end of DATA comes
 * as CURLE_WEIRD_SERVER_REPLY: the reply's code tells which).  A refused
 * login (535) and a server that never authenticated us are permanent.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "config.h"
#include "smtp.h"

#define SMTP_CONNECT_TIMEOUT 30  /* seconds to connect (and EHLO, TLS) */
#define SMTP_RESPONSE_TIMEOUT 60 /* seconds for any one reply */
#define SMTP_LOW_SPEED_TIME 60   /* abort below SMTP_LOW_SPEED_LIMIT... */
#define SMTP_LOW_SPEED_LIMIT 16  /* ...bytes a second for that long */
#define SMTP_TOTAL_TIMEOUT 600   /* hard ceiling for one transfer */
#define SMTP_ADDR_MAX 254        /* RFC 5321 path minus the brackets */
#define SMTP_HELO_MAX 255
#define SMTP_REPLY_MAX 2048      /* bytes of server text kept */
#define SMTP_CAPS_MAX 1024       /* bytes of EHLO capabilities kept */

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CURLU, curl_url_cleanup)

struct smtp_session {
	CURL *curl;
	char *url;          /* with the EHLO name as its path */
	char *user;         /* NULL: no authentication */
	char *password;
	bool implicit_tls;  /* smtps:// */
	char *setup_error;  /* why this session cannot send, or NULL */
	char errbuf[CURL_ERROR_SIZE];

	/* The current connection, as the debug callback saw it. */
	bool authenticated; /* a 235 answered our AUTH */
	bool auth_offered;  /* the last EHLO listed AUTH */
	bool starttls;      /* a 220 answered our STARTTLS */
	char tls_info[128]; /* libcurl's "SSL connection using ..." */
	GString *caps;      /* the last EHLO's capabilities */
	unsigned ehlo_line; /* lines of the current EHLO reply so far */

	/* The current transfer. */
	char verb[12];      /* last command sent: EHLO, AUTH, MAIL, ... */
	bool quitting;      /* QUIT sent: its reply is not the outcome */
	long code;          /* last reply's code, 0 if none */
	GString *reply;     /* last reply's text (continuations joined) */
	bool reply_done;    /* the next line starts a new reply */
	bool gate_closed;   /* the read callback refused: no AUTH */
	bool fresh;         /* the last transfer failed: reconnect */
	bool new_conn;      /* this transfer opened a connection */
	bool data_started;  /* DATA was sent in this transfer */
	const char *data;
	size_t len, pos;
};

/*
 * Watching the dialogue.
 */

/* A new connection (a socket was just made): forget the old one's
 * state. */
static int
smtp_sockopt(void *arg, curl_socket_t fd, curlsocktype purpose)
{
	struct smtp_session *s = arg;

	(void)fd;
	(void)purpose;
	s->new_conn = true;
	s->authenticated = false;
	s->auth_offered = false;
	s->starttls = false;
	s->tls_info[0] = '\0';
	g_string_truncate(s->caps, 0);
	return CURL_SOCKOPT_OK;
}

/* One command sent.  Only the verb is kept, and only a known one: AUTH
 * lines and their continuations carry the credentials. */
static void
smtp_saw_command(struct smtp_session *s, const char *data, size_t size)
{
	static const char *const verbs[] = {
		"EHLO", "HELO", "STARTTLS", "AUTH", "MAIL", "RCPT",
		"DATA", "QUIT", "NOOP", "RSET", "VRFY", "EXPN", NULL,
	};
	size_t n = 0, i;

	while (n < size && n < sizeof(s->verb) - 1 &&
	       g_ascii_isalpha(data[n]))
		n++;
	s->verb[0] = '\0';
	for (i = 0; verbs[i] != NULL; i++) {
		if (strlen(verbs[i]) == n &&
		    g_ascii_strncasecmp(data, verbs[i], n) == 0) {
			memcpy(s->verb, verbs[i], n + 1);
			break;
		}
	}
	if (strcmp(s->verb, "EHLO") == 0 || strcmp(s->verb, "HELO") == 0) {
		/* RFC 3207: after STARTTLS everything learnt is forgotten */
		s->authenticated = false;
		s->auth_offered = false;
		g_string_truncate(s->caps, 0);
		s->ehlo_line = 0;
	} else if (strcmp(s->verb, "QUIT") == 0) {
		s->quitting = true;
	} else if (strcmp(s->verb, "DATA") == 0) {
		s->data_started = true;
	}
}

/* Appends text to a GString, controls as spaces, at most max bytes. */
static void
smtp_append_clean(GString *out, const char *text, size_t len, size_t max)
{
	size_t i;

	for (i = 0; i < len && out->len < max; i++) {
		unsigned char c = (unsigned char)text[i];

		g_string_append_c(out, c < 0x20 || c == 0x7f ? ' ' : (char)c);
	}
}

/* One reply line received ("250-SIZE 1000\r\n"). */
static void
smtp_saw_line(struct smtp_session *s, const char *line, size_t len)
{
	long code;
	char sep;

	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (s->quitting || len < 3 || !g_ascii_isdigit(line[0]) ||
	    !g_ascii_isdigit(line[1]) || !g_ascii_isdigit(line[2]))
		return;
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	sep = len > 3 ? line[3] : ' ';
	if (s->reply_done) {
		g_string_truncate(s->reply, 0);
		s->reply_done = false;
	} else if (s->reply->len > 0) {
		g_string_append_c(s->reply, ' ');
	}
	if (len > 4)
		smtp_append_clean(s->reply, line + 4, len - 4, SMTP_REPLY_MAX);
	if (strcmp(s->verb, "EHLO") == 0 && code == 250) {
		/* the first line names the server; then one capability each */
		if (s->ehlo_line++ > 0 && len > 4) {
			if (g_ascii_strncasecmp(line + 4, "AUTH", 4) == 0 &&
			    (len == 8 || line[8] == ' ' || line[8] == '='))
				s->auth_offered = true;
			if (s->caps->len > 0)
				g_string_append(s->caps, ", ");
			smtp_append_clean(s->caps, line + 4, len - 4,
					  SMTP_CAPS_MAX);
		}
	}
	if (sep == '-')
		return;
	s->reply_done = true;
	s->code = code;
	if (code == 235)
		s->authenticated = true;
	if (code == 220 && strcmp(s->verb, "STARTTLS") == 0)
		s->starttls = true;
}

static int
smtp_debug(CURL *h, curl_infotype type, char *data, size_t size, void *arg)
{
	struct smtp_session *s = arg;
	static const char tls_text[] = "SSL connection using ";

	(void)h;
	switch (type) {
	case CURLINFO_HEADER_OUT:
		smtp_saw_command(s, data, size);
		break;
	case CURLINFO_HEADER_IN:
		while (size > 0) {
			const char *nl = memchr(data, '\n', size);
			size_t n = nl != NULL ? (size_t)(nl - data) + 1 : size;

			smtp_saw_line(s, data, n);
			data += n;
			size -= n;
		}
		break;
	case CURLINFO_TEXT:
		if (size > sizeof(tls_text) - 1 &&
		    memcmp(data, tls_text, sizeof(tls_text) - 1) == 0) {
			size_t n = MIN(size - (sizeof(tls_text) - 1),
				       sizeof(s->tls_info) - 1);

			memcpy(s->tls_info, data + sizeof(tls_text) - 1, n);
			s->tls_info[n] = '\0';
			g_strchomp(s->tls_info);
		}
		break;
	default:
		break;
	}
	return 0;
}

/* Reply bodies (a NOOP's answer) are not wanted. */
static size_t
smtp_discard(char *ptr, size_t size, size_t nmemb, void *arg)
{
	(void)ptr;
	(void)arg;
	return size * nmemb;
}

/* The upload, and the gate (see the top of the file). */
static size_t
smtp_read(char *buf, size_t size, size_t nitems, void *arg)
{
	struct smtp_session *s = arg;
	size_t n = MIN(size * nitems, s->len - s->pos);

	if (s->user != NULL && !s->authenticated) {
		s->gate_closed = true;
		return CURL_READFUNC_ABORT;
	}
	memcpy(buf, s->data + s->pos, n);
	s->pos += n;
	return n;
}

/*
 * Results.
 */

static void smtp_set(struct smtp_result *r, enum smtp_outcome outcome,
		     long code, const char *fmt, ...) G_GNUC_PRINTF(4, 5);

/* Fills r; the text is made valid UTF-8 and cut at a character boundary
 * to fit. */
static void
smtp_set(struct smtp_result *r, enum smtp_outcome outcome, long code,
	 const char *fmt, ...)
{
	g_autofree char *raw = NULL, *valid = NULL;
	const char *end;
	va_list ap;

	va_start(ap, fmt);
	raw = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	valid = g_utf8_make_valid(raw, -1);
	if (strlen(valid) >= sizeof(r->text)) {
		g_utf8_validate(valid, sizeof(r->text) - 1, &end);
		valid[end - valid] = '\0';
	}
	r->outcome = outcome;
	r->code = code;
	g_strlcpy(r->text, valid, sizeof(r->text));
}

static bool
smtp_is_tls_error(CURLcode rc)
{
	switch (rc) {
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_USE_SSL_FAILED:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
		return true;
	default:
		return false;
	}
}

static bool
smtp_is_config_error(CURLcode rc)
{
	switch (rc) {
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_NOT_BUILT_IN:
	case CURLE_BAD_FUNCTION_ARGUMENT:
	case CURLE_UNKNOWN_OPTION:
		return true;
	default:
		return false;
	}
}

/* What libcurl said, for texts: its error buffer or its code's name. */
static const char *
smtp_curl_text(struct smtp_session *s, CURLcode rc)
{
	return s->errbuf[0] != '\0' ? s->errbuf : curl_easy_strerror(rc);
}

static void
smtp_classify(struct smtp_session *s, CURLcode rc, struct smtp_result *r)
{
	long code = s->code;
	const char *reply = s->reply->str;

	if (code == 0)
		curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code);
	if (rc == CURLE_OK) {
		smtp_set(r, SMTP_SENT, code, "%ld %s", code, reply);
	} else if (s->gate_closed) {
		smtp_set(r, SMTP_PERMFAIL, code,
			 "server did not authenticate us (no AUTH offered on "
			 "a new connection); the message was not sent");
	} else if (rc == CURLE_LOGIN_DENIED && code >= 400 && code < 500) {
		smtp_set(r, SMTP_TEMPFAIL, code,
			 "login failed for now: %ld %s", code, reply);
	} else if (rc == CURLE_LOGIN_DENIED && code >= 500 && code < 600) {
		smtp_set(r, SMTP_PERMFAIL, code,
			 "login refused: %ld %s; QQ Mail and 163 need the "
			 "mailbox's authorization code (授权码), not the web "
			 "password", code, reply);
	} else if (rc == CURLE_LOGIN_DENIED) {
		smtp_set(r, SMTP_PERMFAIL, code,
			 "login failed: no authentication mechanism in common "
			 "with the server (%s)", smtp_curl_text(s, rc));
	} else if (code >= 500 && code < 600) {
		smtp_set(r, SMTP_PERMFAIL, code, "%ld %s", code, reply);
	} else if (code >= 400 && code < 500) {
		smtp_set(r, SMTP_TEMPFAIL, code, "%ld %s", code, reply);
	} else if (rc == CURLE_USE_SSL_FAILED) {
		smtp_set(r, SMTP_TEMPFAIL, code,
			 "the server does not offer STARTTLS, which smtp:// "
			 "requires (unless allow_insecure); use smtps:// or a "
			 "server with STARTTLS");
	} else if (smtp_is_tls_error(rc)) {
		smtp_set(r, SMTP_TEMPFAIL, code, "TLS failed: %s",
			 smtp_curl_text(s, rc));
	} else if (smtp_is_config_error(rc)) {
		smtp_set(r, SMTP_PERMFAIL, code, "cannot send: %s",
			 smtp_curl_text(s, rc));
	} else {
		/* connection refused or lost, timeout, nothing received,
		 * out of memory: try again later */
		if (reply[0] != '\0')
			smtp_set(r, SMTP_TEMPFAIL, code,
				 "%s (the server's last reply: %ld %s)",
				 smtp_curl_text(s, rc), code, reply);
		else
			smtp_set(r, SMTP_TEMPFAIL, code, "%s",
				 smtp_curl_text(s, rc));
	}
}

/*
 * The session.
 */

/* The EHLO name: a domain or an address literal, nothing a URL path or
 * a command line could misread. */
static bool
smtp_helo_ok(const char *helo)
{
	size_t len = strlen(helo), i;

	if (len == 0 || len > SMTP_HELO_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (!g_ascii_isalnum(helo[i]) &&
		    strchr(".-[]:", helo[i]) == NULL)
			return false;
	return true;
}

/* The configured URL with the EHLO name as its path and no credentials,
 * query or fragment; NULL and *error_r on a bad URL. */
static char *
smtp_build_url(const struct intake_config *cfg, bool *implicit_tls_r,
	       char **error_r)
{
	g_autoptr(CURLU) u = curl_url();
	const char *helo = cfg->smtp_helo != NULL ? cfg->smtp_helo
						   : "localhost";
	g_autofree char *path = NULL;
	char *scheme = NULL, *url = NULL, *result = NULL;

	if (u == NULL) {
		*error_r = g_strdup("out of memory");
		return NULL;
	}
	if (cfg->smtp_url == NULL ||
	    curl_url_set(u, CURLUPART_URL, cfg->smtp_url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
		*error_r = g_strdup("[smtp] url is not a URL");
		goto out;
	}
	if (strcmp(scheme, "smtp") != 0 && strcmp(scheme, "smtps") != 0) {
		*error_r = g_strdup_printf("[smtp] url: scheme \"%s\" is "
					   "neither smtp nor smtps", scheme);
		goto out;
	}
	if (!smtp_helo_ok(helo)) {
		*error_r = g_strdup("[smtp] helo is not a host name");
		goto out;
	}
	*implicit_tls_r = strcmp(scheme, "smtps") == 0;
	path = g_strconcat("/", helo, NULL);
	if (curl_url_set(u, CURLUPART_PATH, path, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_USER, NULL, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_OPTIONS, NULL, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_QUERY, NULL, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK) {
		*error_r = g_strdup("[smtp] url cannot take the EHLO name");
		goto out;
	}
	result = g_strdup(url);
out:
	curl_free(scheme);
	curl_free(url);
	return result;
}

struct smtp_session *
smtp_session_new(const struct intake_config *cfg)
{
	struct smtp_session *s = g_new0(struct smtp_session, 1);
	CURL *h;

	s->curl = h = curl_easy_init();
	if (h == NULL) {
		g_free(s);
		return NULL;
	}
	s->caps = g_string_new(NULL);
	s->reply = g_string_new(NULL);
	s->reply_done = true;
	s->url = smtp_build_url(cfg, &s->implicit_tls, &s->setup_error);
	if (cfg->smtp_user != NULL && cfg->smtp_user[0] != '\0') {
		s->user = g_strdup(cfg->smtp_user);
		s->password = g_strdup(cfg->smtp_password != NULL
					       ? cfg->smtp_password
					       : "");
	}
	if (s->url == NULL)
		return s;

	curl_easy_setopt(h, CURLOPT_URL, s->url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(h, CURLOPT_USE_SSL, cfg->allow_insecure
						     ? (long)CURLUSESSL_TRY
						     : (long)CURLUSESSL_ALL);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (cfg->smtp_ca_file != NULL && cfg->smtp_ca_file[0] != '\0')
		curl_easy_setopt(h, CURLOPT_CAINFO, cfg->smtp_ca_file);
	if (s->user != NULL) {
		curl_easy_setopt(h, CURLOPT_USERNAME, s->user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, s->password);
	}
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT,
			 (long)SMTP_CONNECT_TIMEOUT);
	curl_easy_setopt(h, CURLOPT_SERVER_RESPONSE_TIMEOUT,
			 (long)SMTP_RESPONSE_TIMEOUT);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT,
			 (long)SMTP_LOW_SPEED_LIMIT);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)SMTP_LOW_SPEED_TIME);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)SMTP_TOTAL_TIMEOUT);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, s->errbuf);
	curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
	curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, smtp_debug);
	curl_easy_setopt(h, CURLOPT_DEBUGDATA, s);
	curl_easy_setopt(h, CURLOPT_SOCKOPTFUNCTION, smtp_sockopt);
	curl_easy_setopt(h, CURLOPT_SOCKOPTDATA, s);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, smtp_discard);
	curl_easy_setopt(h, CURLOPT_READFUNCTION, smtp_read);
	curl_easy_setopt(h, CURLOPT_READDATA, s);
	return s;
}

void
smtp_session_free(struct smtp_session *s)
{
	if (s == NULL)
		return;
	/* first: closing the connection sends QUIT through the callbacks */
	curl_easy_cleanup(s->curl);
	if (s->password != NULL) {
		explicit_bzero(s->password, strlen(s->password));
		g_free(s->password);
	}
	g_free(s->user);
	g_free(s->url);
	g_free(s->setup_error);
	g_string_free(s->caps, TRUE);
	g_string_free(s->reply, TRUE);
	g_free(s);
}

static CURLcode
smtp_perform_once(struct smtp_session *s)
{
	CURLcode rc;

	s->code = 0;
	g_string_truncate(s->reply, 0);
	s->reply_done = true;
	s->quitting = false;
	s->gate_closed = false;
	s->new_conn = false;
	s->data_started = false;
	s->errbuf[0] = '\0';
	if (s->fresh)
		curl_easy_setopt(s->curl, CURLOPT_FRESH_CONNECT, 1L);
	rc = curl_easy_perform(s->curl);
	if (s->fresh)
		curl_easy_setopt(s->curl, CURLOPT_FRESH_CONNECT, 0L);
	s->fresh = false;
	if (rc != CURLE_OK) {
		/* libcurl may keep the connection (it does after a 4xx or 5xx
		 * at the end of DATA) or close it: either way it is no longer
		 * known to be authenticated, and a NOOP probe on a kept one
		 * would see no 235.  The next transfer starts afresh. */
		s->authenticated = false;
		s->fresh = true;
	}
	return rc;
}

/* A kept connection the server closed while idle (most do after a
 * minute or so) still looks alive to libcurl when the server's 421 or
 * TLS close_notify is waiting in the socket: the next command fails.
 * When that happens on a reused connection before DATA, nothing was
 * sent, so the transfer is tried once more on a new connection. */
static CURLcode
smtp_perform(struct smtp_session *s)
{
	CURLcode rc = smtp_perform_once(s);

	/* libcurl says CURLE_SEND_ERROR for a refused RCPT too: a server
	 * that answered (other than 421) is alive and meant it */
	if (rc != CURLE_OK && !s->new_conn && !s->data_started &&
	    !s->gate_closed && (s->code == 0 || s->code == 421) &&
	    (rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR ||
	     rc == CURLE_GOT_NOTHING || s->code == 421)) {
		curl_easy_setopt(s->curl, CURLOPT_FRESH_CONNECT, 1L);
		rc = smtp_perform_once(s);
		curl_easy_setopt(s->curl, CURLOPT_FRESH_CONNECT, 0L);
	}
	return rc;
}

/* Connects (or reuses the connection), says EHLO, STARTTLS and AUTH as
 * needed, then NOOP: no message, no MAIL FROM. */
static CURLcode
smtp_probe(struct smtp_session *s)
{
	CURLcode rc;

	curl_easy_setopt(s->curl, CURLOPT_UPLOAD, 0L);
	curl_easy_setopt(s->curl, CURLOPT_MAIL_RCPT, NULL);
	curl_easy_setopt(s->curl, CURLOPT_CUSTOMREQUEST, "NOOP");
	rc = smtp_perform(s);
	curl_easy_setopt(s->curl, CURLOPT_CUSTOMREQUEST, NULL);
	return rc;
}

/* Why an envelope address cannot be given to libcurl, or NULL.  (A NUL
 * ends the C string: nothing after one can reach libcurl.) */
static const char *
smtp_address_problem(const char *addr)
{
	const char *p;

	if (addr == NULL || addr[0] == '\0')
		return "is empty";
	if (strlen(addr) > SMTP_ADDR_MAX)
		return "is longer than 254 bytes";
	for (p = addr; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '\r' || c == '\n')
			return "contains CR or LF";
		if (c < 0x20 || c == 0x7f)
			return "contains a control character";
		if (c == ' ')
			return "contains a space";
		if (c == '<' || c == '>')
			return "contains '<' or '>'";
	}
	if (strchr(addr, '@') == NULL)
		return "has no '@'";
	if (!g_utf8_validate(addr, -1, NULL))
		return "is not valid UTF-8";
	return NULL;
}

/* An address for a message text: controls shown as '?', bounded. */
static char *
smtp_shown(const char *addr)
{
	GString *out = g_string_new(NULL);

	if (addr != NULL)
		smtp_append_clean(out, addr, strlen(addr), 80);
	g_strdelimit(out->str, " ", '?');
	return g_string_free(out, FALSE);
}

static bool
smtp_check_address(const char *what, const char *addr,
		   struct smtp_result *r)
{
	const char *problem = smtp_address_problem(addr);
	g_autofree char *shown = NULL;

	if (problem == NULL)
		return true;
	shown = smtp_shown(addr);
	smtp_set(r, SMTP_PERMFAIL, 0, "%s \"%s\" %s: not sent", what, shown,
		 problem);
	return false;
}

bool
smtp_send(struct smtp_session *s, const char *envelope_from,
	  const char *rcpt, const char *data, size_t len,
	  struct smtp_result *r)
{
	struct curl_slist *rcpts = NULL;
	CURLcode rc;

	memset(r, 0, sizeof(*r));
	if (s == NULL) {
		smtp_set(r, SMTP_TEMPFAIL, 0, "no SMTP session (libcurl "
			 "could not be initialised)");
		return false;
	}
	if (s->setup_error != NULL) {
		smtp_set(r, SMTP_PERMFAIL, 0, "%s", s->setup_error);
		return false;
	}
	if (!smtp_check_address("envelope sender", envelope_from, r) ||
	    !smtp_check_address("recipient", rcpt, r))
		return false;

	if (s->user != NULL && !s->authenticated) {
		rc = smtp_probe(s);
		if (rc != CURLE_OK) {
			smtp_classify(s, rc, r);
			return false;
		}
		if (!s->authenticated) {
			smtp_set(r, SMTP_PERMFAIL, s->code,
				 "server did not authenticate us: it offers "
				 "%s; the message was not sent",
				 s->auth_offered ? "AUTH but did not accept it"
						 : "no AUTH (after TLS)");
			return false;
		}
	}

	rcpts = curl_slist_append(NULL, rcpt);
	if (rcpts == NULL) {
		smtp_set(r, SMTP_TEMPFAIL, 0, "out of memory");
		return false;
	}
	s->data = data;
	s->len = len;
	s->pos = 0;
	curl_easy_setopt(s->curl, CURLOPT_MAIL_FROM, envelope_from);
	curl_easy_setopt(s->curl, CURLOPT_MAIL_RCPT, rcpts);
	curl_easy_setopt(s->curl, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(s->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	rc = smtp_perform(s);
	curl_easy_setopt(s->curl, CURLOPT_MAIL_RCPT, NULL);
	curl_slist_free_all(rcpts);
	s->data = NULL;
	s->len = s->pos = 0;
	smtp_classify(s, rc, r);
	return r->outcome == SMTP_SENT;
}

bool
smtp_test_login(const struct intake_config *cfg, GString *report,
		GError **error)
{
	struct smtp_session *s = NULL;
	struct smtp_result r;
	CURLcode rc;
	bool ok = false;

	if (cfg->smtp_url == NULL) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_CONFIG,
			    "[smtp] url is not set: no replies are sent");
		return false;
	}
	s = smtp_session_new(cfg);
	if (s == NULL) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_FATAL,
			    "cannot initialise libcurl");
		return false;
	}
	if (s->setup_error != NULL) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_CONFIG, "%s",
			    s->setup_error);
		goto out;
	}
	rc = smtp_probe(s);
	g_string_append_printf(report, "smtp: %s\n", s->url);
	if (s->implicit_tls || s->starttls)
		g_string_append_printf(report, "  tls: %s%s%s%s\n",
				       s->implicit_tls ? "implicit (smtps)"
						       : "STARTTLS",
				       s->tls_info[0] != '\0' ? " (" : "",
				       s->tls_info,
				       s->tls_info[0] != '\0' ? ")" : "");
	else if (rc == CURLE_OK)
		g_string_append(report, "  tls: none (allow_insecure)\n");
	if (s->caps->len > 0)
		g_string_append_printf(report, "  capabilities: %s\n",
				       s->caps->str);
	if (rc != CURLE_OK) {
		smtp_classify(s, rc, &r);
		g_string_append_printf(report, "  failed: %s\n", r.text);
		g_set_error(error, INTAKE_ERROR,
			    rc == CURLE_LOGIN_DENIED ? INTAKE_ERROR_AUTH
			    : r.outcome == SMTP_TEMPFAIL
				    ? INTAKE_ERROR_CONNECTION
				    : INTAKE_ERROR_PERMANENT,
			    "SMTP %s: %s", s->url, r.text);
		goto out;
	}
	if (s->user == NULL) {
		g_string_append(report, "  login: none (no username)\n");
	} else if (s->authenticated) {
		g_string_append_printf(report,
				       "  login: authenticated as %s\n",
				       s->user);
	} else {
		g_string_append_printf(report, "  login: NOT authenticated: "
				       "the server offers %s\n",
				       s->auth_offered ? "AUTH but did not "
							 "accept it"
						       : "no AUTH");
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_AUTH,
			    "SMTP %s: the server did not authenticate us "
			    "(it offers %s)", s->url,
			    s->auth_offered ? "AUTH but did not accept it"
					    : "no AUTH");
		goto out;
	}
	ok = true;
out:
	smtp_session_free(s);
	return ok;
}
