/*
 * smtp.h - sending one message over SMTP with libcurl
 *
 * smtps:// is implicit TLS; smtp:// requires STARTTLS (CURLUSESSL_ALL)
 * unless allow_insecure.  Certificates are always verified (ca_file adds
 * a CA bundle).  With a user configured, a server that does not
 * authenticate us is an error, not a success (libcurl skips AUTH
 * silently when the server does not offer it).
 *
 * The outcome says whether to retry: a 4xx reply or a lost connection is
 * temporary, a 5xx is permanent (Chinese providers use 5xx for content
 * rejections, 163's "554 DT:SPM").  libcurl reports a rejection at end
 * of DATA as CURLE_WEIRD_SERVER_REPLY; the response code tells which.
 */
#ifndef INTAKE_SMTP_H
#define INTAKE_SMTP_H

#include "common.h"

struct intake_config;

enum smtp_outcome {
	SMTP_SENT,
	SMTP_TEMPFAIL, /* retry later */
	SMTP_PERMFAIL, /* give up; record the server's text */
};

struct smtp_result {
	enum smtp_outcome outcome;
	long code;          /* last SMTP response code, 0 if none */
	char text[512];     /* the server's reply or libcurl's error */
};

struct smtp_session;

/* One connection, reused for every message of a cycle. */
struct smtp_session *smtp_session_new(const struct intake_config *cfg);
void smtp_session_free(struct smtp_session *s);

/* Sends data (a whole RFC 5322 message, CRLF) from envelope_from to rcpt.
 * Every address is checked for CR, LF and NUL before libcurl sees it.
 * Always fills r; returns r->outcome == SMTP_SENT. */
bool smtp_send(struct smtp_session *s, const char *envelope_from,
	       const char *rcpt, const char *data, size_t len,
	       struct smtp_result *r);

/* Logs in and reports capabilities (intaked --test-login). */
bool smtp_test_login(const struct intake_config *cfg, GString *report,
		     GError **error);

#endif
