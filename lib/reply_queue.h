/*
 * reply_queue.h - a reply of the office, completed, composed and queued
 */
#ifndef INTAKE_REPLY_QUEUE_H
#define INTAKE_REPLY_QUEUE_H

#include "config.h"
#include "reply.h"
#include "store.h"

/*
 * Completes info for a mail of the office to `to` about unit (NULL: not
 * known): the campaign, the deadline, the unit's dossier and what it
 * still lacks, the photo limit, the sender, the loop header and the date;
 * renders it from its template, composes it and queues it in the open
 * transaction, tied to message (0: none).  The kind, verdict, items,
 * captions, notes, original_* and size fields are the caller's.
 * *rfc_id_r (unless NULL) is its Message-ID.  A template or composing
 * failure is INTAKE_ERROR_CONFIG or INTAKE_ERROR_MESSAGE, the database's
 * INTAKE_ERROR_IO.
 */
bool reply_queue(const struct intake_config *cfg, struct store *st,
		 struct reply_info *info, const struct unit *unit,
		 const char *to, int64_t message, char **rfc_id_r,
		 GError **error);

#endif
