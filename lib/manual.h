/*
 * manual.h - what arrives outside the mailbox (intakectl add, receive,
 * withdraw; DESIGN.md §4, §6)
 *
 * manual_add() files files the office obtained another way (a video
 * downloaded from a QQ 超大附件 link, a scan of the paper summary, photos
 * from a USB stick) through exactly the checks, naming and storage of
 * mailed items: content checks (check_path), duplicates by SHA-256, the
 * photo limit, photo numbers (the smallest not held by the unit's active
 * accepted photos), captions from descriptive file names, lateness against
 * the deadline with late_policy.  Items are recorded with origin "manual",
 * who added them (added_by) and a note saying when they were entered.
 * With a link item it fulfils the link, whatever the files' verdicts
 * (the download is done): the link becomes 'replaced', no longer waiting
 * for the office, and the new items' note names it.  Lateness is then
 * judged by the link's arrival unless a received time is given.
 *
 * manual_receive_paper() records a paper summary: an item of type summary,
 * origin "paper", with no file; the dossier counts it.
 *
 * manual_withdraw() takes an item filed by mistake out of the dossier:
 * state 'withdrawn', its file moved into units/<unit>/.withdrawn/ (kept).
 * Its place is free; nothing refused earlier is promoted.
 *
 * The durable order is process.h's: files are placed (filing_put) before
 * ONE transaction records the items, the fulfilled link and the queued
 * reply; a crash in between leaves files no item owns, which start-up
 * recovery removes.  Each holds the processing lock (pipeline_lock) so
 * that a running intaked does not number photos at the same time.  No
 * mail is sent: with notify the usual itemised reply is queued for the
 * unit's first registered address (else the sender of its latest
 * submission) and intaked sends it.
 *
 * A request the office must correct (an unknown unit or item, an item of
 * the wrong kind or state, notify with no address or no [smtp]) fails
 * with INTAKE_ERROR_CONFIG, as office_show's unknown unit does:
 * intakectl exits 2.  Results belong to the caller.
 *
 * The pure helpers are in manual.c, the three operations in manual_ops.c.
 */
#ifndef INTAKE_MANUAL_H
#define INTAKE_MANUAL_H

#include "check.h"
#include "common.h"
#include "config.h"
#include "rules.h"
#include "store.h"

#define MANUAL_WHO_MAX 64 /* bytes of a user name kept */
#define MANUAL_PAPER_NAME "纸质版活动总结"

struct manual_request {
	const char *unit;   /* a unit's name or alias */
	int64_t received;   /* when it arrived; 0: now (with a link: the
			       link's own arrival) */
	const char *who;    /* the office user */
	int64_t now;        /* when it is entered */
	bool notify;        /* queue the usual reply to the unit */
};

struct manual_result {
	char *unit;         /* the unit's name as in units.conf */
	GPtrArray *items;   /* struct store_item *, as recorded (ids set) */
	int64_t link;       /* the link item fulfilled, or 0 */
	enum verdict verdict;
	char *notified;     /* where the queued reply goes, or NULL */
};
void manual_result_free(struct manual_result *r);

/* files: NULL-terminated paths, at least one. link: a link item's id to
 * fulfil, or 0. */
bool manual_add(const struct intake_config *cfg, struct store *st,
		const struct manual_request *req, const char *const *files,
		int64_t link, struct manual_result **result_r, GError **error);

/* note: the office's remark (may be NULL). */
bool manual_receive_paper(const struct intake_config *cfg, struct store *st,
			  const struct manual_request *req, const char *note,
			  struct manual_result **result_r, GError **error);

/* reason may be NULL.  item_r (optional): the item as it is now.  A
 * withdrawn item whose file is still in place (a crash, a failed move)
 * is moved aside again. */
bool manual_withdraw(const struct intake_config *cfg, struct store *st,
		     int64_t id, const char *reason, const char *who,
		     int64_t now, struct store_item **item_r, GError **error);

/* After assign or reprocess: removes from units/ the files no item owns
 * any more (a message filed again under another unit or name leaves its
 * old files behind), under the processing lock.  How many, -1 on error. */
int manual_sweep(const struct intake_config *cfg, struct store *st,
		 GError **error);

/* ---- pure helpers (no I/O) ---- */

/* The unit called name, or one of whose aliases name is; NULL if none. */
const struct unit *manual_find_unit(const struct intake_config *cfg,
				    const char *name);

/* The campaign's zone: that of the deadline, else the start, else local. */
GTimeZone *manual_zone(const struct intake_config *cfg);

/* YYYY-MM-DD (the start of that day), YYYY-MM-DD HH:MM, or ISO 8601
 * (with 'T' or a space, seconds, an optional zone); without a zone in
 * zone.  A time more than five minutes after now is refused. */
bool manual_parse_time(const char *text, GTimeZone *zone, int64_t now,
		       int64_t *t_r, GError **error);

/* Who is at the keyboard: sudo_user (sudo's $SUDO_USER) when it is a
 * sane name, else login, else "uid N". */
char *manual_who(const char *sudo_user, const char *login, unsigned long uid);

/* The note recorded with an added item: "登记于 <entered>", the link it
 * fulfils, the office's text, joined by "；". */
char *manual_note(const char *entered, int64_t link, const char *text);

/*
 * The unit-dependent rules for items (struct check_item *) checked by
 * content, against held (struct store_item *, the unit's active accepted
 * items): photo captions from file names, then decide_items() as for
 * mail (duplicates, lateness of received, the photo limit, numbers).
 * Counts the accepted and refused items.
 */
void manual_decide(const struct intake_config *cfg, const GPtrArray *held,
		   GPtrArray *items, int64_t received, unsigned *accepted_r,
		   unsigned *refused_r);

/* ---- impure ---- */

/* manual_who() for this process ($SUDO_USER, getpwuid_r(getuid())). */
char *manual_current_user(void);

#endif
