/*
 * toolarge.c - messages too large to download: who sent them, one reply
 *
 * toolarge_note(), for a message the source refused to fetch:
 *   1. already noted (under this UIDVALIDITY): nothing, not even a log
 *      line (the newest message is listed again every cycle);
 *   2. its header block, at most max_header_bytes, from the source
 *      (fetch_header: BODY.PEEK[HEADER] sets no \Seen), parsed with
 *      GMime, classified and identified as process.c does it (RFC 3834
 *      auto mail, sender trust from Authentication-Results, the unit from
 *      subject and address);
 *   3. ONE transaction: the reply queued, when one is due, and the note.
 * The reply is due when the mail is not automatic, the sender is a
 * usable address other than ours, the mail is campaign mail (its unit
 * is known or its subject has a campaign keyword: spam must not cause
 * backscatter, as for unidentified mail in process.c), no reply went out
 * for the same Message-ID and size before (the mailbox may have been
 * recreated, its UIDs renewed) and the sender has had fewer than
 * replies_per_sender replies in the last 24 hours.
 *
 * The reply has no messages row (outbox.message is NULL, as for
 * reminders and intakectl's replies): a messages row means a raw file
 * to process, and this message was never downloaded.  The note keeps the
 * reply's Message-ID (reply_id) instead.  Everything else treats it as a
 * reply: kind "reply" (it counts against replies_per_sender), verdict
 * "rejected" (X-Intake-Verdict), the unit when known (a bounce of it
 * marks the address undeliverable for that unit, store_outbox_bounced
 * matching by Message-ID), In-Reply-To/References from the header.  As
 * for reminders, intakectl resend (which takes a message id) does not
 * reach it, and intakectl messages does not list it; a reply that failed
 * for good is counted in status's failed_replies.
 */
#include <string.h>
#include <time.h>

#include "authres.h"
#include "classify.h"
#include "config.h"
#include "log.h"
#include "message.h"
#include "reply.h"
#include "reply_queue.h"
#include "roster.h"
#include "rules.h"
#include "source.h"
#include "store.h"
#include "toolarge.h"

size_t
toolarge_header_len(const guint8 *buf, size_t len, bool *complete_r)
{
	size_t line_end = 0; /* past the last whole line */

	*complete_r = false;
	for (size_t i = 0; i < len; i++) {
		size_t start = line_end;

		if (buf[i] != '\n')
			continue;
		line_end = i + 1;
		/* an empty line: "\n" or "\r\n" alone */
		if (i == start || (i == start + 1 && buf[start] == '\r')) {
			*complete_r = true;
			return line_end;
		}
	}
	return line_end;
}

/* The unit the header names, as proc_identify() finds it (there are no
 * file names and no body to look at). */
static const struct unit *
toolarge_identify(const struct intake_config *cfg, const struct message *msg,
		  enum roster_how *how_r)
{
	struct roster_query q = {0};
	int idx;

	q.subject = msg->subject;
	q.from_addr = msg->from_addr;
	q.reply_to = msg->reply_to;
	q.trust_address = authres_from_trusted(msg->authentication_results,
					       cfg->authserv_id);
	idx = roster_identify(cfg->units, cfg->n_units, &q, how_r);
	return idx >= 0 ? &cfg->units[idx] : NULL;
}

/* The reply's address, or NULL when none is due (the log says why). */
static const char *
toolarge_reply_to(const struct intake_config *cfg, const struct message *msg,
		  const struct unit *unit, const char *label)
{
	const char *why = NULL;
	/* a Reply-To says where replies go: one we cannot use means no
	 * reply (not a guess at From) */
	const char *to = msg->reply_to ? msg->reply_to : msg->from_addr;
	enum msg_kind kind = classify_headers(msg, cfg->smtp_from_addr, &why);

	if (cfg->smtp_from == NULL)
		return NULL; /* no [smtp]: this intake does not reply */
	if (kind == KIND_AUTO || kind == KIND_BOUNCE) {
		log_info("%s: %s (%s), no reply", label, msg_kind_name(kind),
			 why ? why : "");
		return NULL;
	}
	if (unit == NULL &&
	    !classify_has_keyword(msg->subject,
				  (const char *const *)cfg->keywords)) {
		log_info("%s: neither a unit nor a campaign keyword in the "
			 "header, no reply", label);
		return NULL;
	}
	if (to == NULL || !reply_address_ok(to)) {
		log_warn("%s: no usable reply address", label);
		return NULL;
	}
	if (cfg->smtp_from_addr != NULL &&
	    g_ascii_strcasecmp(to, cfg->smtp_from_addr) == 0)
		return NULL;
	return to;
}

/* Renders and queues the reply in the open transaction; *rfc_id_r is its
 * Message-ID, NULL when the sender's daily limit was reached. */
static bool
toolarge_queue_reply(const struct intake_config *cfg, struct store *st,
		     const struct message *msg, const struct unit *unit,
		     const char *to, uint64_t size, const char *label,
		     char **rfc_id_r, GError **error)
{
	g_autoptr(GError) err = NULL;
	struct reply_info info = {0};
	unsigned sent_today = 0;

	*rfc_id_r = NULL;
	if (!store_outbox_count_to(st, to, (int64_t)time(NULL) - 86400,
				   &sent_today, error))
		return false;
	if (sent_today >= cfg->limits.replies_per_sender) {
		log_warn("%s: %u replies to %s today, not replying again",
			 label, sent_today, to);
		return true;
	}
	info.kind = "too_large";
	info.verdict = "rejected";
	info.size = size;
	info.size_limit = cfg->limits.max_message_bytes;
	info.original_subject = msg->subject;
	info.original_id = msg->message_id;
	info.original_references = msg->references;
	if (reply_queue(cfg, st, &info, unit, to, 0, rfc_id_r, &err))
		return true;
	/* the database failed: the cycle stops */
	if (err->code == INTAKE_ERROR_IO) {
		g_propagate_error(error, g_steal_pointer(&err));
		return false;
	}
	/* a template_dir from before too_large.txt existed must not stop
	 * the mailbox's later messages: noted, not answered */
	log_error("%s: no reply: %s", label, err->message);
	return true;
}

/* The header block, parsed; NULL (logged) when it cannot be had for this
 * message.  False only for local failures (database, disk). */
static bool
toolarge_header(const struct intake_config *cfg, struct source *src,
		const struct source_msg *sm, const char *label,
		struct message **msg_r, GError **error)
{
	g_autoptr(GByteArray) header = g_byte_array_new();
	g_autoptr(GError) err = NULL;
	bool complete;
	size_t len;

	*msg_r = NULL;
	if (src->ops->fetch_header == NULL)
		return true;
	if (!src->ops->fetch_header(src, sm, header, &err)) {
		/* only local failures stop the cycle: a header that makes
		 * the server or libcurl fail would do so every cycle, and
		 * hold up every later message of the mailbox */
		if (err->code == INTAKE_ERROR_IO ||
		    err->code == INTAKE_ERROR_FATAL) {
			g_propagate_error(error, g_steal_pointer(&err));
			return false;
		}
		log_warn("%s: cannot read its header: %s", label,
			 err->message);
		return true;
	}
	/* cut at max_header_bytes: the whole lines only */
	len = toolarge_header_len(header->data, header->len, &complete);
	if (!complete)
		log_warn("%s: header longer than max_header_bytes (%"
			 G_GUINT64_FORMAT "), read in part", label,
			 cfg->limits.max_header_bytes);
	if (len == 0) {
		log_warn("%s: empty header", label);
		return true;
	}
	*msg_r = message_parse_header(header->data, len, &err);
	if (*msg_r == NULL)
		log_warn("%s: %s", label, err->message);
	return true;
}

bool
toolarge_note(const struct intake_config *cfg, struct store *st,
	      struct source *src, const char *mailbox, uint32_t uidvalidity,
	      const struct source_msg *sm, const char *why, GError **error)
{
	g_autofree char *label = g_strdup_printf("%s %s", mailbox, sm->key);
	g_autofree char *rfc_id = NULL;
	struct store_too_large n = {0};
	struct message *msg = NULL;
	const struct unit *unit = NULL;
	enum roster_how how = ROSTER_NONE;
	const char *to = NULL;
	bool known = false, replied = false, fresh = false, ok = false;

	if (!store_too_large_known(st, mailbox, uidvalidity, sm->key, &known,
				   error))
		return false;
	if (known)
		return true;
	log_error("%s: %s", label, why);
	if (!toolarge_header(cfg, src, sm, label, &msg, error))
		return false;
	if (msg != NULL) {
		unit = toolarge_identify(cfg, msg, &how);
		to = toolarge_reply_to(cfg, msg, unit, label);
	}
	n.mailbox = (char *)mailbox;
	n.uidvalidity = uidvalidity;
	n.key = sm->key;
	n.size = sm->size;
	n.arrived = sm->internaldate ? sm->internaldate : (int64_t)time(NULL);
	if (msg != NULL) {
		n.from_addr = msg->from_addr;
		n.subject = msg->subject;
		n.unit = unit ? unit->name : NULL;
		n.message_id = msg->message_id;
	}
	if (!store_begin(st, error))
		goto out;
	if (to != NULL && msg->message_id != NULL &&
	    !store_too_large_replied(st, mailbox, msg->message_id, sm->size,
				     &rfc_id, error))
		goto fail;
	if (rfc_id != NULL) {
		log_info("%s: <%s> was answered before, not again", label,
			 msg->message_id);
		replied = true;
	} else if (to != NULL &&
		 !toolarge_queue_reply(cfg, st, msg, unit, to, sm->size, label,
				       &rfc_id, error))
		goto fail;
	n.reply_id = rfc_id;
	if (!store_too_large_note(st, &n, &fresh, error) ||
	    !store_commit(st, error))
		goto fail;
	log_info("%s: too large, left in the mailbox: from %s, unit %s (%s)%s"
		 "%s", label,
		 n.from_addr ? n.from_addr : "(unknown)",
		 n.unit ? n.unit : "(unknown)", roster_how_name(how),
		 rfc_id && !replied ? ", reply queued to " : ", no reply",
		 rfc_id && !replied ? to : "");
	ok = true;
	goto out;
fail:
	store_rollback(st);
out:
	if (msg != NULL)
		message_free(msg);
	return ok;
}

void
toolarge_prune(struct store *st, struct source *src, const char *mailbox,
	       uint32_t uidvalidity)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(GPtrArray) notes = NULL;
	g_autoptr(GPtrArray) keys = NULL;
	g_autoptr(GHashTable) present = NULL;

	if (src->ops->present == NULL)
		return;
	notes = store_too_large_list(st, mailbox, NULL, &err);
	if (notes == NULL)
		goto fail;
	keys = g_ptr_array_new();
	for (guint i = 0; i < notes->len; i++) {
		struct store_too_large *n = g_ptr_array_index(notes, i);

		/* the ones of another UIDVALIDITY go with the next note */
		if (n->uidvalidity == uidvalidity &&
		    keys->len < SOURCE_PRESENT_MAX)
			g_ptr_array_add(keys, n->key);
	}
	if (keys->len == 0)
		return;
	if (!src->ops->present(src, keys, &present, &err))
		goto fail;
	for (guint i = 0; i < keys->len; i++) {
		const char *key = g_ptr_array_index(keys, i);

		if (g_hash_table_contains(present, key))
			continue;
		if (!store_too_large_forget(st, mailbox, uidvalidity, key,
					    &err))
			goto fail;
		log_info("%s %s: the message too large to download has left "
			 "the mailbox; its note is dropped", mailbox, key);
	}
	return;
fail:
	log_warn("%s: messages too large to download: %s", mailbox,
		 err->message);
}
