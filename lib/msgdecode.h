/*
 * msgdecode.h - message.c's I/O half (internal to the message module)
 *
 * Only message.c and msgdecode.c include this.  struct walk is the state
 * of one message_parse(); everything it points to belongs to that call.
 * Functions that fail fill error (INTAKE_ERROR_LIMIT, INTAKE_ERROR_IO)
 * and return false or NULL.
 */
#ifndef INTAKE_MSGDECODE_H
#define INTAKE_MSGDECODE_H

#include <sys/types.h>

#include <gmime/gmime.h>

#include "common.h"
#include "config.h"
#include "message.h"
#include "rawstore.h"

#define MSG_BODY_MAX (1024 * 1024)	/* body_text, body_html */
#define MSG_TEXT_RAW_MAX (2 * MSG_BODY_MAX) /* raw bytes of one text part */
#define MSG_REPORT_MAX (64 * 1024)	/* delivery-status, rfc822-headers */
#define MSG_LINE_MAX 998		/* header values we keep */

struct walk {
	const struct limits_config *limits;
	GMimeParserOptions *opts;
	struct message *msg;
	const char *work_dir;
	int dir_fd;
	unsigned next_file;	/* part-NNN */
	GPtrArray *files;	/* names created under work_dir */
	uint64_t decoded;	/* bytes decoded so far */
	GString *body;		/* body text being built */
	char *rfc822_id;	/* Message-ID of the bounced message */
	char *dsn_id;		/* Original-Message-ID in the report */
	char *buf;		/* INTAKE_IO_BLOCK bytes */
};

/* Same with INTAKE_ERROR_IO for work_dir/name and errno err; false. */
bool msgdec_io_error(struct walk *w, const char *name, int err,
		     GError **error);

/* One line of UTF-8: control characters become spaces, trimmed, at
 * most max bytes.  NULL for NULL. */
char *msgdec_clean_line(const char *s, size_t max);
/* "type/subtype", lower case. */
char *msgdec_mime_type(GMimeObject *obj);
/* The sender's name for the part, cleaned, or NULL when it has none. */
char *msgdec_part_name(GMimeObject *obj);

/* GMime's parser options for intake (message.c): loose RFC 2047, RFC
 * 2231 and addresses, UTF-8 then GB18030 for undeclared 8-bit text. */
GMimeParserOptions *msg_parser_options(void);
/* The value of header name of obj, unfolded, when it holds a run of
 * base64 encoded words GMime 3.2.13 decodes wrongly, with the run made
 * one word (mimetext_join_b_words()); NULL otherwise. */
char *msgdec_rejoined(GMimeObject *obj, const char *name);

/* Decodes part into a new file under work_dir; *file_r is its name
 * (owned by w->files), sha_r (unless NULL) the SHA-256 of what was
 * written.  msgdec_drop_file() removes such a file. */
bool msgdec_save(struct walk *w, GMimePart *part, const char **file_r,
		 uint64_t *size_r, char sha_r[SHA256_HEX_LEN + 1],
		 GError **error);
void msgdec_drop_file(struct walk *w, const char *name);

/* Appends a struct msg_part for file to w->msg->parts, taking filename
 * (NULL: "附件N.ext" is made up and named is false). */
struct msg_part *msgdec_add_part(struct walk *w, char *filename,
				 const char *type, const char *file,
				 uint64_t size, unsigned fwd);

/* Reads up to max decoded bytes of a text part into *text_r (raw, in
 * the part's charset).  With scan_uu the part is read to its end and
 * uuencoded blocks become parts (depth fwd) instead of text. */
bool msgdec_read_text(struct walk *w, GMimePart *part, size_t max,
		      bool scan_uu, unsigned fwd, GByteArray **text_r,
		      GError **error);

#endif
