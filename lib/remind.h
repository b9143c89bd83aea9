/*
 * remind.h - reminders to units that lack something, and the office's
 * daily digest
 *
 * remind_run() mails every unit whose status is missing or incomplete
 * what it still lacks and the deadline (template reminder.txt), at most
 * once a calendar day per unit (units.last_reminded, the day taken in
 * the campaign's time zone).  Recipients: the unit's addresses in
 * units.conf and the senders of its accepted submissions, less the
 * addresses marked undeliverable (bounces) and our own.  One mail per
 * address, queued in the outbox (kind "reminder") in one transaction
 * with the unit's last_reminded; intaked sends it.  With [campaign]
 * digest_to set, a digest of the status goes to the office (kind
 * "digest"), at most once a calendar day.  A dry run queues nothing and
 * records nothing: it prints each mail as a person reads it.
 *
 * Once the deadline (and grace) has passed and late_policy is refuse,
 * nobody is reminded: what they would send is refused anyway.
 */
#ifndef INTAKE_REMIND_H
#define INTAKE_REMIND_H

#include "common.h"
#include "config.h"
#include "rules.h"
#include "store.h"

#define REMIND_RCPT_MAX 10    /* addresses reminded per unit */
#define REMIND_DIGEST_HOUR 8  /* remind_digest_due(): not before 08:00 */

struct remind_opts {
	bool dry_run;
	int64_t now;   /* 0: the current time */
};

struct remind_stats {
	unsigned units;        /* units reminded (or shown, dry run) */
	unsigned mails;        /* reminders queued (or shown) */
	unsigned complete;     /* units that need no reminder */
	unsigned today;        /* skipped: already reminded today */
	unsigned no_address;   /* skipped: no usable address */
	bool digest;           /* the digest was queued (or shown) */
	bool digest_today;     /* skipped: a digest went out today */
};

/* Reminders and the digest; what was done (or the mails, dry run) is
 * appended to out as text for a person.  opts and stats_r may be
 * NULL. */
bool remind_run(const struct intake_config *cfg, struct store *st,
		const struct remind_opts *opts, GString *out,
		struct remind_stats *stats_r, GError **error);

/* For intaked's cycle: queues the daily digest when digest_to is set, it
 * is REMIND_DIGEST_HOUR or later in the campaign's zone and none was
 * queued today.  *queued_r (may be NULL) says whether it did. */
bool remind_digest_due(const struct intake_config *cfg, struct store *st,
		       int64_t now, bool *queued_r, GError **error);

/* ---- pure ---- */

/* Who gets a unit's reminder: registered (NULL-terminated, may be NULL)
 * then learned (char *, may be NULL), lower-cased, each once, usable
 * (reply_address_ok), not in undeliverable (';'-separated, may be NULL),
 * not own (may be NULL); at most max.  A new array of char *. */
GPtrArray *remind_recipients(const char *const *registered,
			     const GPtrArray *learned,
			     const char *undeliverable, const char *own,
			     unsigned max);

/* Whether a and b (Unix seconds) fall on the same calendar day in tz. */
bool remind_same_day(GTimeZone *tz, int64_t a, int64_t b);

/* One unit's line in the digest. */
struct remind_digest_unit {
	const char *name;
	enum unit_status status;
	unsigned missing;            /* enum missing_flag mask */
	unsigned photos_uncaptioned;
	bool late;
};

struct remind_digest {
	const char *campaign;
	const char *date;            /* the day, "2022-09-30" */
	const char *deadline;        /* as people read it, or NULL */
	const struct remind_digest_unit *units;
	size_t n_units;
	struct store_office_counts counts; /* received_since: last 24 h */
	unsigned reminded;           /* units reminded in this run */
};

char *remind_digest_subject(const struct remind_digest *dg);
char *remind_digest_body(const struct remind_digest *dg);

#endif
