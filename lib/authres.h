/*
 * authres.h - Authentication-Results (RFC 8601), read to trust a From
 *
 * A receiving server that checks SPF, DKIM and DMARC writes its verdicts
 * into an Authentication-Results header under its own name, the
 * authserv-id.  Only the header of the server we trust ([mailbox]
 * authserv_id) means anything: anyone can write such a header into the
 * mail they send.  authres_parse() reads one header value (pure: no
 * I/O, bounded); authres_from_trusted() says whether the From address
 * may identify a unit and be learned for it.
 */
#ifndef INTAKE_AUTHRES_H
#define INTAKE_AUTHRES_H

#include "common.h"

#define AUTHRES_ID_MAX 256 /* bytes of an authserv-id we keep */

enum authres_result {
	AUTHRES_ABSENT,    /* the method is not in the header */
	AUTHRES_PASS,
	AUTHRES_FAIL,
	AUTHRES_SOFTFAIL,  /* spf */
	AUTHRES_NEUTRAL,
	AUTHRES_NONE,      /* checked: nothing to check (no signature) */
	AUTHRES_TEMPERROR,
	AUTHRES_PERMERROR,
	AUTHRES_POLICY,    /* dkim: valid, but refused by local policy */
	AUTHRES_OTHER,     /* a result word we do not know */
};
const char *authres_result_name(enum authres_result r); /* "pass", ... */

struct authres {
	char authserv_id[AUTHRES_ID_MAX]; /* as written, without comments */
	enum authres_result dmarc;        /* "fail" wins over others */
	enum authres_result spf;          /* the first spf result */
	enum authres_result dkim;         /* "pass" wins: any good signature */
};

/* Parses one Authentication-Results value (after "Authentication-
 * Results:").  False when it has no authserv-id (empty, a comment only,
 * a stray ';'); methods it cannot read are skipped. */
bool authres_parse(const char *value, struct authres *ar_r);

/* False when value is written by authserv_id (compared without regard
 * to ASCII case) and says dmarc=fail, or says that SPF failed
 * (fail or softfail) and no DKIM signature passed although DKIM was
 * checked.  True otherwise: no header, another server's header, or no
 * authserv_id configured (NULL or ""), since nothing can be told then. */
bool authres_from_trusted(const char *value, const char *authserv_id);

#endif
