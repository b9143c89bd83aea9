/*
 * manual_ops.c - intakectl add, receive and withdraw: files added by
 * hand, paper summaries, withdrawals; the sweep after assign and
 * reprocess (manual.h)
 *
 * The durable order of each operation is written where it happens; it
 * is process.c's: files, then one transaction, then (withdraw) the move
 * aside of a file the database no longer counts.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "decide.h"
#include "filing.h"
#include "log.h"
#include "manual.h"
#include "pipeline.h"
#include "reply.h"
#include "reply_queue.h"

void
manual_result_free(struct manual_result *r)
{
	if (r == NULL)
		return;
	g_free(r->unit);
	if (r->items != NULL)
		g_ptr_array_unref(r->items);
	g_free(r->notified);
	g_free(r);
}

static char *
manual_time_text(const struct intake_config *cfg, int64_t t)
{
	g_autoptr(GTimeZone) tz = manual_zone(cfg);
	g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc(t);
	g_autoptr(GDateTime) dt = NULL;

	if (utc == NULL)
		return g_strdup("?");
	dt = g_date_time_to_timezone(utc, tz);
	return g_date_time_format(dt, "%Y-%m-%d %H:%M");
}

static const char *
manual_state_text(enum item_state s)
{
	return s == ITEM_REPLACED ? "replaced" : "withdrawn";
}

/* Where a notification goes: the unit's first registered address, else
 * the sender of its latest submission. */
static bool
manual_rcpt(const struct intake_config *cfg, struct store *st,
	    const struct unit *u, char **rcpt_r, GError **error)
{
	*rcpt_r = NULL;
	if (cfg->smtp_from == NULL || cfg->smtp_from_addr == NULL)
		return intake_fail(error, INTAKE_ERROR_CONFIG, "%s",
				   "--notify: this intake sends no mail "
				   "(no [smtp] in its configuration)");
	for (char **a = u->addresses; *a != NULL; a++) {
		if (reply_address_ok(*a)) {
			*rcpt_r = g_strdup(*a);
			return true;
		}
	}
	if (!store_unit_last_sender(st, u->name, rcpt_r, error))
		return false;
	if (*rcpt_r != NULL && !reply_address_ok(*rcpt_r))
		g_clear_pointer(rcpt_r, g_free);
	if (*rcpt_r == NULL)
		return intake_fail(error, INTAKE_ERROR_CONFIG,
				   "%s has no address to notify: list one "
				   "under addresses in the units file, or "
				   "leave out --notify", u->name);
	return *rcpt_r != NULL;
}

/* What the reply threads to and says beyond the items. */
struct manual_reply {
	const struct store_message *orig; /* the link's message, or NULL */
	const char *note;                 /* one extra line, or NULL */
};

/* The usual itemised reply, queued in the open transaction.  items:
 * struct store_item * (borrowed). */
static bool
manual_queue_reply(const struct intake_config *cfg, struct store *st,
		   const struct unit *u, const char *rcpt,
		   const GPtrArray *items, enum verdict v,
		   const struct manual_reply *mr, GError **error)
{
	g_autofree struct reply_item *ri = g_new0(struct reply_item,
						  items->len + 1);
	g_autofree char *orig_subject = NULL;
	const char *notes[2] = {mr->note, NULL};
	struct reply_info info = {0};

	for (unsigned i = 0; i < items->len; i++) {
		const struct store_item *it = g_ptr_array_index(items, i);

		ri[i].name = it->name;
		ri[i].type = it->type;
		ri[i].accepted = it->accepted;
		ri[i].reason = it->reason;
		ri[i].caption = it->caption;
		ri[i].late = it->late;
		ri[i].width = it->width;
		ri[i].height = it->height;
	}
	if (mr->orig != NULL && mr->orig->subject != NULL)
		orig_subject = g_strdup(mr->orig->subject);
	else
		orig_subject = g_strdup_printf(
			"%s材料", cfg->campaign_name ? cfg->campaign_name : "报送");
	info.kind = verdict_name(v);
	info.verdict = verdict_name(v);
	info.items = ri;
	info.n_items = items->len;
	info.notes = notes;
	info.original_subject = orig_subject;
	info.original_id = mr->orig ? mr->orig->message_id : NULL;
	return reply_queue(cfg, st, &info, u, rcpt, 0, NULL, error);
}

/* ---- add ---- */

/* Everything one manual_add() works with. */
struct manual_add {
	const struct intake_config *cfg;
	struct store *st;
	const struct manual_request *req;
	const struct unit *unit;
	struct store_item *link;     /* the link to fulfil, or NULL */
	struct store_message *orig;  /* the link's message, or NULL */
	char *rcpt;                  /* notify: the address */
	char *work_dir;
	GPtrArray *items;            /* struct check_item * */
	GPtrArray *held;             /* struct store_item * */
	GPtrArray *placed;           /* char *: files filed (relpaths) */
	int64_t received;
	unsigned accepted, refused;
};

static void
manual_add_clear(struct manual_add *a)
{
	store_item_free(a->link);
	store_message_free(a->orig);
	g_free(a->rcpt);
	if (a->work_dir != NULL) {
		work_rmtree(a->work_dir);
		g_free(a->work_dir);
	}
	if (a->items != NULL)
		g_ptr_array_unref(a->items);
	if (a->held != NULL)
		g_ptr_array_unref(a->held);
	if (a->placed != NULL)
		g_ptr_array_unref(a->placed);
}

/* The link item must be this unit's, a link, and still waiting. */
static bool
manual_load_link(struct manual_add *a, int64_t id, GError **error)
{
	GError *err = NULL;

	a->link = store_item_get(a->st, id, &err);
	if (a->link == NULL) {
		if (err != NULL)
			g_propagate_error(error, err);
		else
			(void)intake_fail(error, INTAKE_ERROR_CONFIG,
					  "no item %" G_GINT64_FORMAT, id);
		return false;
	}
	if (a->link->type != ITEM_LINK)
		return intake_fail(error, INTAKE_ERROR_CONFIG,
				   "item %" G_GINT64_FORMAT " is a %s, not a "
				   "large-file link", id,
				   item_type_name(a->link->type));
	if (g_strcmp0(a->link->unit, a->unit->name) != 0)
		return intake_fail(error, INTAKE_ERROR_CONFIG,
				   "item %" G_GINT64_FORMAT " belongs to %s, "
				   "not to %s", id,
				   a->link->unit ? a->link->unit
						 : "no unit yet",
				   a->unit->name);
	if (a->link->state != ITEM_ACTIVE)
		return intake_fail(error, INTAKE_ERROR_CONFIG,
				   "link %" G_GINT64_FORMAT " is %s already",
				   id, manual_state_text(a->link->state));
	if (a->link->message != 0) {
		a->orig = store_message_get(a->st, a->link->message, &err);
		if (err != NULL) {
			g_propagate_error(error, err);
			return false;
		}
	}
	return true;
}

/* Each file checked by content, in a work directory of its own. */
static bool
manual_check_files(struct manual_add *a, const char *const *files,
		   GError **error)
{
	char leaf[48];

	g_snprintf(leaf, sizeof(leaf), "manual-%ld", (long)getpid());
	a->work_dir = g_build_filename(a->cfg->state_dir, "work", leaf, NULL);
	work_rmtree(a->work_dir);
	for (unsigned i = 0; files[i] != NULL; i++) {
		g_autofree char *name = g_path_get_basename(files[i]);
		g_autofree char *sub = NULL;
		GPtrArray *got;
		char num[16];

		g_snprintf(num, sizeof(num), "%u", i);
		sub = g_build_filename(a->work_dir, num, NULL);
		if (g_mkdir_with_parents(sub, 0700) != 0) {
			g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
				    "cannot create %s: %s", sub,
				    g_strerror(errno));
			return false;
		}
		got = check_path(a->cfg, name, files[i], sub, error);
		if (got == NULL) {
			g_prefix_error(error, "%s: ", files[i]);
			return false;
		}
		/* the batch takes the items over */
		for (unsigned k = 0; k < got->len; k++)
			g_ptr_array_add(a->items, got->pdata[k]);
		g_ptr_array_set_free_func(got, NULL);
		g_ptr_array_unref(got);
	}
	return true;
}

/* A summary's or video's name that no held item or earlier one of the
 * batch has: the sanitised original, else with its hash's start. */
static char *
manual_plain_name(const struct manual_add *a, const struct check_item *ci,
		  unsigned index)
{
	g_autofree char *suffix =
		g_strdup_printf("-%.12s", ci->it.sha256 ? ci->it.sha256 : "x");

	return decide_plain_name(a->unit->name, a->held, a->items, index,
				 suffix);
}

/*
 * Durable step 1: accepted items into the unit's folder (temp, fsync,
 * rename, fsync dir: filing_put).  Nothing here is known to the database
 * yet; what is placed is remembered so that a failure removes it.
 */
static bool
manual_file_items(struct manual_add *a, GError **error)
{
	for (unsigned i = 0; i < a->items->len; i++) {
		struct check_item *ci = g_ptr_array_index(a->items, i);
		const char *subdir = filing_subdir(ci->it.type);
		g_autofree char *name = NULL;

		if (!ci->it.accepted || subdir == NULL)
			continue;
		if (ci->it.type == ITEM_PHOTO)
			name = decide_photo_name(ci->it.number, ci->it.caption);
		else
			name = manual_plain_name(a, ci, i);
		if (!filing_put(a->cfg->state_dir, a->unit->name, subdir, name,
				ci->src, &ci->it.path, error))
			return false;
		g_ptr_array_add(a->placed, g_strdup(ci->it.path));
	}
	return true;
}

/* Durable step 2: ONE transaction for the items, the fulfilled link and
 * the queued reply. */
static bool
manual_add_commit(struct manual_add *a, enum verdict v, GError **error)
{
	g_autoptr(GPtrArray) recorded = g_ptr_array_new();
	g_autofree char *entered = manual_time_text(a->cfg, a->req->now);
	g_autofree char *note =
		manual_note(entered, a->link ? a->link->id : 0, NULL);
	g_autofree char *link_note = NULL;
	g_autofree char *reply_note = NULL;
	struct manual_reply mr = {a->orig, NULL};

	if (!store_begin(a->st, error))
		return false;
	for (unsigned i = 0; i < a->items->len; i++) {
		struct check_item *ci = g_ptr_array_index(a->items, i);

		ci->it.message = 0;
		g_free(ci->it.unit);
		ci->it.unit = g_strdup(a->unit->name);
		g_free(ci->it.origin);
		ci->it.origin = g_strdup("manual");
		g_free(ci->it.added_by);
		ci->it.added_by = g_strdup(a->req->who);
		g_free(ci->it.note);
		ci->it.note = g_strdup(note);
		ci->it.state = ITEM_ACTIVE;
		if (!store_item_add(a->st, &ci->it, error))
			goto fail;
		g_ptr_array_add(recorded, &ci->it);
	}
	if (a->link != NULL) {
		struct check_item *first = g_ptr_array_index(a->items, 0);

		link_note = g_strdup_printf(
			"%s 由办公室下载，登记为条目 %" G_GINT64_FORMAT,
			entered, first->it.id);
		if (a->link->note != NULL && *a->link->note != '\0') {
			char *both = g_strdup_printf("%s；%s", a->link->note,
						     link_note);

			g_free(link_note);
			link_note = both;
		}
		if (!store_item_set_state(a->st, a->link->id, ITEM_REPLACED,
					  NULL, error) ||
		    !store_item_set_note(a->st, a->link->id, link_note, error))
			goto fail;
		reply_note = g_strdup_printf("你单位以大附件链接发送的“%s”"
					     "已由办公室下载并登记。",
					     a->link->name);
		mr.note = reply_note;
	}
	if (a->rcpt != NULL &&
	    !manual_queue_reply(a->cfg, a->st, a->unit, a->rcpt, recorded, v,
				&mr, error))
		goto fail;
	return store_commit(a->st, error);
fail:
	store_rollback(a->st);
	return false;
}

/* The checked items as recorded, for the caller. */
static GPtrArray *
manual_steal_items(GPtrArray *items)
{
	GPtrArray *out =
		g_ptr_array_new_with_free_func((GDestroyNotify)store_item_free);

	for (unsigned i = 0; i < items->len; i++) {
		struct check_item *ci = g_ptr_array_index(items, i);
		struct store_item *it = g_new(struct store_item, 1);

		*it = ci->it;
		memset(&ci->it, 0, sizeof(ci->it));
		g_ptr_array_add(out, it);
	}
	return out;
}

static void
manual_unplace(const struct intake_config *cfg, GPtrArray *placed)
{
	for (unsigned i = 0; i < placed->len; i++) {
		g_autofree char *p = g_build_filename(
			cfg->state_dir,
			(const char *)g_ptr_array_index(placed, i), NULL);

		unlink(p);
	}
}

bool
manual_add(const struct intake_config *cfg, struct store *st,
	   const struct manual_request *req, const char *const *files,
	   int64_t link, struct manual_result **result_r, GError **error)
{
	struct manual_add a = {0};
	struct manual_result *r;
	enum verdict v;
	bool committed = false;
	int lock = -1;

	*result_r = NULL;
	a.cfg = cfg;
	a.st = st;
	a.req = req;
	a.unit = manual_find_unit(cfg, req->unit);
	if (a.unit == NULL)
		return intake_fail(error, INTAKE_ERROR_CONFIG,
				   "no unit \"%s\" in %s", req->unit,
				   cfg->units_file);
	if (files == NULL || files[0] == NULL)
		return intake_fail(error, INTAKE_ERROR_CONFIG, "%s",
				   "no file to add");
	a.items = g_ptr_array_new_with_free_func(
		(GDestroyNotify)check_item_free);
	a.placed = g_ptr_array_new_with_free_func(g_free);
	/* nobody else numbers this unit's photos from here to the commit */
	lock = pipeline_lock(cfg, error);
	if (lock < 0)
		goto out;
	if (link != 0 && !manual_load_link(&a, link, error))
		goto out;
	a.received = req->received ? req->received
		     : a.link       ? a.link->received
				    : req->now;
	if (req->notify && !manual_rcpt(cfg, st, a.unit, &a.rcpt, error))
		goto out;
	if (!manual_check_files(&a, files, error))
		goto out;
	a.held = store_items_of_unit(st, a.unit->name, true, error);
	if (a.held == NULL)
		goto out;
	manual_decide(cfg, a.held, a.items, a.received, &a.accepted,
		      &a.refused);
	v = rules_message_verdict(a.accepted, a.refused);
	if (!manual_file_items(&a, error))
		goto out;
	if (!manual_add_commit(&a, v, error))
		goto out;
	committed = true;
	r = g_new0(struct manual_result, 1);
	r->unit = g_strdup(a.unit->name);
	r->items = manual_steal_items(a.items);
	r->link = a.link ? a.link->id : 0;
	r->verdict = v;
	r->notified = g_steal_pointer(&a.rcpt);
	*result_r = r;
out:
	if (!committed)
		manual_unplace(cfg, a.placed);
	if (lock >= 0)
		close(lock);
	manual_add_clear(&a);
	return committed;
}

/* ---- receive ---- */

bool
manual_receive_paper(const struct intake_config *cfg, struct store *st,
		     const struct manual_request *req, const char *note,
		     struct manual_result **result_r, GError **error)
{
	const struct unit *u = manual_find_unit(cfg, req->unit);
	int64_t deadline = cfg->deadline ? g_date_time_to_unix(cfg->deadline)
					 : 0;
	g_autofree char *entered = NULL, *rcpt = NULL;
	g_autofree char *deadline_text = NULL;
	g_autoptr(GPtrArray) items = NULL;
	struct manual_reply mr = {NULL, "办公室已收到你单位报送的纸质版活动总结。"};
	struct store_item *it;
	struct manual_result *r;
	bool late;
	int lock;

	*result_r = NULL;
	if (u == NULL)
		return intake_fail(error, INTAKE_ERROR_CONFIG,
				   "no unit \"%s\" in %s", req->unit,
				   cfg->units_file);
	items = g_ptr_array_new_with_free_func((GDestroyNotify)store_item_free);
	it = g_new0(struct store_item, 1);
	g_ptr_array_add(items, it);
	entered = manual_time_text(cfg, req->now);
	it->unit = g_strdup(u->name);
	it->name = g_strdup(MANUAL_PAPER_NAME);
	it->type = ITEM_SUMMARY;
	it->origin = g_strdup("paper");
	it->added_by = g_strdup(req->who);
	it->note = manual_note(entered, 0, note);
	it->received = req->received ? req->received : req->now;
	it->accepted = true;
	late = rules_is_late(it->received, deadline, cfg->grace_seconds);
	if (late && cfg->late_policy == LATE_REFUSE) {
		if (cfg->deadline != NULL)
			deadline_text = g_date_time_format(cfg->deadline,
							   "%Y-%m-%d %H:%M");
		it->accepted = false;
		it->reason = rules_late_reason(it->name, deadline_text);
		mr.note = NULL;
	} else {
		it->late = late;
	}

	lock = pipeline_lock(cfg, error);
	if (lock < 0)
		return false;
	if (req->notify && !manual_rcpt(cfg, st, u, &rcpt, error))
		goto fail;
	/* one transaction: the item and the queued reply */
	if (!store_begin(st, error))
		goto fail;
	if (!store_item_add(st, it, error))
		goto rollback;
	if (rcpt != NULL &&
	    !manual_queue_reply(cfg, st, u, rcpt, items,
				it->accepted ? VERDICT_ACCEPTED
					     : VERDICT_REJECTED,
				&mr, error))
		goto rollback;
	if (!store_commit(st, error))
		goto fail;
	close(lock);
	r = g_new0(struct manual_result, 1);
	r->unit = g_strdup(u->name);
	r->items = g_steal_pointer(&items);
	r->verdict = it->accepted ? VERDICT_ACCEPTED : VERDICT_REJECTED;
	r->notified = g_steal_pointer(&rcpt);
	*result_r = r;
	return true;
rollback:
	store_rollback(st);
fail:
	close(lock);
	return false;
}

/* ---- withdraw ---- */

static bool
manual_is_aside(const char *path)
{
	return path != NULL && strstr(path, "/.withdrawn/") != NULL;
}

bool
manual_withdraw(const struct intake_config *cfg, struct store *st,
		int64_t id, const char *reason, const char *who, int64_t now,
		struct store_item **item_r, GError **error)
{
	g_autofree char *when = manual_time_text(cfg, now);
	g_autofree char *line = NULL, *note = NULL, *aside = NULL;
	struct store_item *it = NULL;
	GError *err = NULL;
	bool ok = false;
	int lock;

	if (item_r != NULL)
		*item_r = NULL;
	lock = pipeline_lock(cfg, error);
	if (lock < 0)
		return false;
	it = store_item_get(st, id, &err);
	if (it == NULL) {
		if (err != NULL)
			g_propagate_error(error, err);
		else
			(void)intake_fail(error, INTAKE_ERROR_CONFIG,
					  "no item %" G_GINT64_FORMAT, id);
		goto out;
	}
	if (it->state == ITEM_REPLACED) {
		(void)intake_fail(error, INTAKE_ERROR_CONFIG,
				  "item %" G_GINT64_FORMAT " (%s) was "
				  "replaced already: nothing to withdraw",
				  id, it->name);
		goto out;
	}
	if (it->state == ITEM_WITHDRAWN &&
	    (it->path == NULL || manual_is_aside(it->path))) {
		(void)intake_fail(error, INTAKE_ERROR_CONFIG,
				  "item %" G_GINT64_FORMAT " (%s) is "
				  "withdrawn already", id, it->name);
		goto out;
	}
	if (it->state == ITEM_ACTIVE && !it->accepted) {
		(void)intake_fail(error, INTAKE_ERROR_CONFIG,
				  "item %" G_GINT64_FORMAT " (%s) was not "
				  "accepted: nothing to withdraw", id,
				  it->name);
		goto out;
	}
	if (it->state == ITEM_ACTIVE) {
		/* Step 1: no longer counted (the file stays known). */
		line = g_strdup_printf("%s 由 %s 撤回：%s", when, who,
				       reason && *reason ? reason
							 : "办公室撤回");
		note = it->note && *it->note
			       ? g_strdup_printf("%s；%s", it->note, line)
			       : g_strdup(line);
		if (!store_begin(st, error))
			goto out;
		if (!store_item_set_state(st, id, ITEM_WITHDRAWN, NULL,
					  error) ||
		    !store_item_set_note(st, id, note, error) ||
		    !store_commit(st, error)) {
			store_rollback(st);
			goto out;
		}
		it->state = ITEM_WITHDRAWN;
		g_free(it->note);
		it->note = g_steal_pointer(&note);
	}
	/* Step 2: the file moved aside, then its new place recorded; a
	 * crash in between is redone by withdrawing again. */
	if (it->path != NULL && !manual_is_aside(it->path)) {
		if (!filing_move_aside(cfg->state_dir, it->path, &aside,
				       error) ||
		    !store_item_set_state(st, id, ITEM_WITHDRAWN, aside,
					  error)) {
			g_prefix_error(error,
				       "item %" G_GINT64_FORMAT " is withdrawn "
				       "but its file is still in place (run "
				       "withdraw again): ", id);
			goto out;
		}
		g_free(it->path);
		it->path = g_steal_pointer(&aside);
	}
	ok = true;
out:
	close(lock);
	if (ok && item_r != NULL)
		*item_r = it;
	else
		store_item_free(it);
	return ok;
}

/* ---- after assign and reprocess ---- */

/*
 * Under the process lock, as pipeline_recover(): nobody files now, so
 * every file under units/ that no committed item owns is a left-over.
 * An item whose move into .withdrawn/ was cut short (a crash in step 3)
 * would have its moved file taken for one: then nothing is removed, and
 * intaked's start-up recovery finishes the move first.
 */
int
manual_sweep(const struct intake_config *cfg, struct store *st,
	     GError **error)
{
	GPtrArray *unsettled = NULL;
	GHashTable *known = NULL;
	int removed = -1;
	int lock = pipeline_lock(cfg, error);

	if (lock < 0)
		return -1;
	unsettled = store_items_not_aside(st, error);
	if (unsettled == NULL)
		goto out;
	if (unsettled->len > 0) {
		log_warn("%u replaced or withdrawn file(s) not yet moved "
			 "aside: left-over files are removed when intaked "
			 "next starts", unsettled->len);
		removed = 0;
		goto out;
	}
	known = store_known_paths(st, error);
	if (known == NULL)
		goto out;
	removed = filing_cleanup(cfg->state_dir, known, error);
out:
	if (known != NULL)
		g_hash_table_unref(known);
	if (unsettled != NULL)
		g_ptr_array_unref(unsettled);
	close(lock);
	return removed;
}
