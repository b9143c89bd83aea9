/*
 * reply.h - the replies people read (composed with GMime)
 *
 * Templates are plain UTF-8 text files in template_dir, one per kind:
 * accepted.txt, partial.txt, rejected.txt, unidentified.txt, reminder.txt,
 * too_large.txt.
 * The first line is "Subject: ..." (a template for the subject), then an
 * empty line, then the body.  Placeholders are {{name}}; the list is in
 * the README.  Unknown placeholders are an error (a typo must not reach a
 * unit).
 *
 * Header values taken from a message (subject, addresses) are cleaned of
 * CR, LF and NUL and bounded before they reach a header: nothing from a
 * message can add a header or a recipient.
 */
#ifndef INTAKE_REPLY_H
#define INTAKE_REPLY_H

#include "common.h"
#include "rules.h"

#define REPLY_LOOP_HEADER "X-Intake-Loop"
#define REPLY_SUBJECT_MAX 200 /* bytes of the original subject kept */

struct reply_item {
	const char *name;
	enum item_type type;
	bool accepted;
	const char *reason;   /* refusal reason, or NULL */
	const char *caption;  /* photos: caption or NULL */
	bool late;
	unsigned width, height; /* photos and videos: pixels, 0 if unknown */
};

struct reply_info {
	const char *kind;            /* template: "accepted", "partial",
					"rejected", "unidentified", "reminder",
					"too_large" */
	const char *verdict;         /* X-Intake-Verdict value, or NULL
					(reminders carry none) */
	const char *unit;            /* NULL when unidentified */
	const char *campaign;
	const char *deadline;        /* as people read it, or NULL */
	const struct reply_item *items;
	size_t n_items;
	const char *const *captions_taken; /* "图3：…" lines, NULL-terminated,
					      may be NULL */
	const char *const *notes;    /* extra lines (e.g. DOCX pictures),
					NULL-terminated, may be NULL */
	struct dossier dossier;
	unsigned photo_max;
	unsigned missing;            /* enum missing_flag mask */
	uint64_t size;               /* too_large: the message's bytes */
	uint64_t size_limit;         /* too_large: max_message_bytes */

	/* Envelope and threading. */
	const char *from;            /* full From value of the office */
	const char *from_addr;       /* its address, for the Message-ID */
	const char *to;              /* one address */
	const char *original_subject;
	const char *original_id;     /* without <>, may be NULL */
	const char *original_references; /* may be NULL */
	const char *loop_value;      /* value for X-Intake-Loop */
	int64_t date;                /* Unix seconds for the Date header */
};

/* Renders template_dir/<info->kind>.txt.  subject_r and body_r are
 * newly allocated. */
bool reply_render(const char *template_dir, const struct reply_info *info,
		  char **subject_r, char **body_r, GError **error);

/* bytes as people read a mail size: "152.3 MB" (tenths of MiB, ".0"
 * left out), or "64 KB" below 1 MiB; rounded up or down. */
void reply_format_size(uint64_t bytes, bool round_up, char *buf,
		       size_t size);

/* A new Message-ID (without <>) under the domain of from_addr. */
char *reply_new_message_id(const char *from_addr);

/* The whole RFC 5322 message (CRLF line ends), ready for SMTP.  message_id
 * is the one generated when the reply was queued. */
char *reply_compose(const struct reply_info *info, const char *subject,
		    const char *body, const char *message_id, size_t *len_r,
		    GError **error);

/* A header value made safe: CR, LF, NUL and other controls become spaces,
 * runs collapse, at most max_bytes (cut at a character boundary). */
char *reply_clean_header(const char *value, size_t max_bytes);

/* An address is usable as a recipient: one addr-spec, no controls, no
 * spaces, no '<>,;:"()' outside the local part rules, no encoded word
 * ("=?") in the local part, sane length. */
bool reply_address_ok(const char *addr);

#endif
