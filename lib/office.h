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

/* The campaign's time zone (that of deadline, else start, else local);
 * the caller unrefs it. */
GTimeZone *office_zone(const struct intake_config *cfg);
/* "图片", "视频", "总结", "链接", "附件". */
const char *office_type_label(enum item_type t);
/* One item as a line for a person: [id] ✓/✗ type name size caption
 * lateness state, and the refusal reason on a line of its own. */
void office_item_line(GString *out, const char *indent,
		      const struct store_item *it);
void office_item_text(GString *out, const struct store_item *it);

/* ISO 8601 in the campaign's zone (newly allocated). */
char *office_time_iso(const struct intake_config *cfg, int64_t t);

#endif
