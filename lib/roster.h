/*
 * roster.h - which unit sent this? (pure: no I/O)
 *
 * In order: the unit's name or an alias in the subject; else a registered
 * address (From or Reply-To); else names or aliases in the body or the
 * attachments' file names.  Two different units at the same level means
 * unidentified: a guess would file one unit's photos under another's name.
 */
#ifndef INTAKE_ROSTER_H
#define INTAKE_ROSTER_H

#include "common.h"

struct unit;

enum roster_how {
	ROSTER_NONE,      /* no unit found */
	ROSTER_AMBIGUOUS, /* two or more units at the deciding level */
	ROSTER_SUBJECT,
	ROSTER_ADDRESS,
	ROSTER_BODY,
	ROSTER_FILENAME,
};

struct roster_query {
	const char *subject;
	const char *from_addr;   /* lower case, may be NULL */
	const char *reply_to;    /* lower case, may be NULL */
	const char *body;        /* may be NULL */
	const char *const *filenames; /* NULL-terminated, may be NULL */
	bool trust_address;      /* false: From failed DMARC, ignore it */
};

/* Index into units, or -1 with how_r ROSTER_NONE / ROSTER_AMBIGUOUS. */
int roster_identify(const struct unit *units, size_t n_units,
		    const struct roster_query *q, enum roster_how *how_r);
const char *roster_how_name(enum roster_how how);

#endif
