/*
 * office.h - what intakectl shows the office (status, messages, show)
 *
 * Builds the JSON of DESIGN.md §6 with json-glib, and the same facts as
 * plain text for a person.  Times are shown in the campaign's time zone
 * (that of [campaign] deadline or start), ISO 8601 in JSON.
 */
#ifndef INTAKE_OFFICE_H
#define INTAKE_OFFICE_H

#include "common.h"
#include "config.h"
#include "store.h"

bool office_status(const struct intake_config *cfg, struct store *st,
		   bool json, GString *out, GError **error);
/* state: "pending", "processed", "held", "failed" or NULL for all. */
bool office_messages(const struct intake_config *cfg, struct store *st,
		     const char *state, bool json, GString *out,
		     GError **error);
bool office_show(const struct intake_config *cfg, struct store *st,
		 const char *unit, bool json, GString *out, GError **error);

/* ISO 8601 in the campaign's zone (newly allocated). */
char *office_time_iso(const struct intake_config *cfg, int64_t t);

#endif
