/*
 * classify.h - what kind of mail is this? (pure: no I/O)
 *
 * classify_headers() looks only at headers (RFC 3834 and the usual
 * practice): auto-generated mail, bounces and mail loops are never
 * answered.  classify_final() decides, once the items are known, whether
 * a message that is not auto-generated is a submission or just "other"
 * (ordinary office mail, newsletters, spam): no candidate item, no
 * campaign keyword and no captions for filed photos.
 */
#ifndef INTAKE_CLASSIFY_H
#define INTAKE_CLASSIFY_H

#include "common.h"

struct message;

enum msg_kind {
	KIND_SUBMISSION,
	KIND_AUTO,
	KIND_BOUNCE,
	KIND_OTHER,
};
const char *msg_kind_name(enum msg_kind kind);

/* KIND_AUTO, KIND_BOUNCE or KIND_SUBMISSION (a candidate).  own_address
 * is the mailbox's own address (lower case), may be NULL.  why_r, when
 * not NULL, gets a static English phrase for the log. */
enum msg_kind classify_headers(const struct message *msg,
			       const char *own_address, const char **why_r);

/* True when text mentions any keyword (case-insensitive for ASCII). */
bool classify_has_keyword(const char *text, const char *const *keywords);

/* KIND_SUBMISSION or KIND_OTHER, for a candidate. */
enum msg_kind classify_final(unsigned candidate_items, bool has_keyword,
			     bool has_captions_for_filed);

#endif
