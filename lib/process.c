/*
 * process.c - one message: parse, classify, identify, decide, file, commit
 *
 * The order of durable steps is the one process.h states; it is repeated
 * at the place where each step happens:
 *   proc_file_items()        step 1, files before the commit;
 *   proc_commit_submission() step 2, ONE transaction (also
 *                            proc_commit_ignored, proc_commit_unidentified);
 *   proc_after_commit()      step 3, old names removed, replaced files moved
 *                            into .withdrawn/, stand-in names settled.
 * A file is never placed over a name the database knows: an item whose
 * name still belongs to an item it replaces (a correction resending
 * "活动总结.pdf") is filed under a stand-in name, and takes its own name in
 * step 3, once the old file has moved aside.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "authres.h"
#include "caption.h"
#include "check.h"
#include "classify.h"
#include "decide.h"
#include "filing.h"
#include "links.h"
#include "log.h"
#include "message.h"
#include "process.h"
#include "rawstore.h"
#include "reply.h"
#include "reply_queue.h"
#include "roster.h"
#include "rules.h"
#include "store.h"

/* Everything one run of process_message() works with. */
struct proc {
	const struct intake_config *cfg;
	int64_t started;        /* g_get_monotonic_time() at the start */
	struct store *st;
	struct store_message *row;
	struct message *msg;
	char *work_dir;
	GPtrArray *items;       /* struct check_item * */
	GPtrArray *refs;        /* struct caption_ref * */
	const struct unit *unit;
	enum roster_how how;
	bool from_trusted;      /* the receiving server vouches for From */
	enum msg_kind kind;
	bool keyword;
	GPtrArray *held;        /* the unit's active accepted items */
	GPtrArray *renamed;     /* old relpaths to unlink after commit */
	GPtrArray *caption_updates; /* struct store_item * (held, updated) */
	GPtrArray *captions_taken;  /* char *, for the reply */
	GPtrArray *notes;       /* char *, for the reply */
	GPtrArray *settle;      /* struct proc_settle *, after the commit */
	unsigned accepted, refused;
};

/* An item filed under a stand-in name because its own name still belongs
 * to an item it replaces. */
struct proc_settle {
	struct check_item *ci; /* not owned */
	char *name;            /* the name it takes after the commit */
};

static void
proc_settle_free(struct proc_settle *ps)
{
	g_free(ps->name);
	g_free(ps);
}

static void
proc_clear(struct proc *p)
{
	store_message_free(p->row);
	if (p->msg != NULL)
		message_free(p->msg);
	g_free(p->work_dir);
	if (p->items != NULL)
		g_ptr_array_unref(p->items);
	if (p->refs != NULL)
		g_ptr_array_unref(p->refs);
	if (p->held != NULL)
		g_ptr_array_unref(p->held);
	if (p->renamed != NULL)
		g_ptr_array_unref(p->renamed);
	if (p->caption_updates != NULL)
		g_ptr_array_unref(p->caption_updates);
	if (p->captions_taken != NULL)
		g_ptr_array_unref(p->captions_taken);
	if (p->notes != NULL)
		g_ptr_array_unref(p->notes);
	if (p->settle != NULL)
		g_ptr_array_unref(p->settle);
	store_close(p->st);
}

/* <state_dir>/work/<id>, emptied. */
static char *
proc_work_dir(const struct intake_config *cfg, int64_t id, GError **error)
{
	char leaf[32];
	char *dir;

	g_snprintf(leaf, sizeof(leaf), "%" G_GINT64_FORMAT, id);
	dir = g_build_filename(cfg->state_dir, "work", leaf, NULL);
	work_rmtree(dir);
	if (g_mkdir_with_parents(dir, 0700) != 0) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
			    "cannot create %s: %s", dir, g_strerror(errno));
		g_free(dir);
		return NULL;
	}
	return dir;
}

static bool
proc_subject_has(const char *subject, const char *word)
{
	return subject != NULL && strstr(subject, word) != NULL;
}

/* Campaign words anywhere a person would write them. */
static bool
proc_has_keyword(const struct proc *p)
{
	const char *const *kw = (const char *const *)p->cfg->keywords;

	if (classify_has_keyword(p->msg->subject, kw) ||
	    classify_has_keyword(p->msg->body_text, kw))
		return true;
	for (unsigned i = 0; i < p->msg->parts->len; i++) {
		const struct msg_part *mp = g_ptr_array_index(p->msg->parts, i);

		if (classify_has_keyword(mp->filename, kw))
			return true;
	}
	return false;
}

static void
proc_identify(struct proc *p)
{
	const struct intake_config *cfg = p->cfg;
	g_autoptr(GPtrArray) names = g_ptr_array_new();
	struct roster_query q = {0};
	int idx;

	if (!p->from_trusted)
		log_info("message %" G_GINT64_FORMAT ": From %s failed the "
			 "checks of %s: not used to identify the unit",
			 p->row->id,
			 p->msg->from_addr ? p->msg->from_addr : "(none)",
			 cfg->authserv_id);
	if (p->row->unit != NULL) {
		/* assigned by the office (intakectl assign) */
		p->unit = config_find_unit(cfg, p->row->unit);
		if (p->unit != NULL) {
			p->how = ROSTER_SUBJECT;
			return;
		}
	}
	for (unsigned i = 0; i < p->msg->parts->len; i++) {
		const struct msg_part *mp = g_ptr_array_index(p->msg->parts, i);

		g_ptr_array_add(names, mp->filename);
	}
	g_ptr_array_add(names, NULL);
	q.subject = p->msg->subject;
	q.from_addr = p->msg->from_addr;
	q.reply_to = p->msg->reply_to;
	q.body = p->msg->body_text;
	q.filenames = (const char *const *)names->pdata;
	q.trust_address = p->from_trusted;
	idx = roster_identify(cfg->units, cfg->n_units, &q, &p->how);
	if (idx < 0 && p->how == ROSTER_NONE &&
	    p->msg->forward_subject != NULL) {
		/* a forward: the inner message may name the unit */
		g_autofree char *both = g_strconcat(
			q.subject ? q.subject : "", " ",
			p->msg->forward_subject, NULL);

		q.subject = both;
		idx = roster_identify(cfg->units, cfg->n_units, &q, &p->how);
	}
	p->unit = idx >= 0 ? &cfg->units[idx] : NULL;
}

static bool
proc_is_photo(const struct check_item *ci)
{
	return ci->it.type == ITEM_PHOTO;
}

/* Captions for filed photos, from a message that brings no photos. */
static void
proc_caption_held(struct proc *p)
{
	g_autofree struct caption_photo *cp = NULL;
	g_autoptr(GPtrArray) photos = g_ptr_array_new();

	for (unsigned i = 0; i < p->held->len; i++) {
		struct store_item *it = g_ptr_array_index(p->held, i);

		if (it->type == ITEM_PHOTO)
			g_ptr_array_add(photos, it);
	}
	if (photos->len == 0 || p->refs->len == 0)
		return;
	cp = g_new0(struct caption_photo, photos->len);
	for (unsigned i = 0; i < photos->len; i++) {
		struct store_item *it = g_ptr_array_index(photos, i);

		cp[i].name = it->name;
		cp[i].number = it->number;
		cp[i].caption = g_strdup(it->caption);
	}
	caption_match(cp, photos->len, p->refs);
	/* A photo's caption changes only when a body line names it. */
	for (unsigned i = 0; i < photos->len; i++) {
		struct store_item *it = g_ptr_array_index(photos, i);

		if (cp[i].caption != NULL &&
		    g_strcmp0(cp[i].caption, it->caption) != 0) {
			g_free(it->caption);
			it->caption = g_steal_pointer(&cp[i].caption);
			g_ptr_array_add(p->caption_updates, it);
			g_ptr_array_add(p->captions_taken,
					g_strdup_printf("图%u：%s", it->number,
							it->caption));
		}
		g_free(cp[i].caption);
	}
}

/*
 * Large files sent as links (QQ 超大附件, 163, Baidu Netdisk) become link
 * items: recorded for the office to download, identified by the URL's
 * hash so the same link sent twice is one item.
 */
static void
proc_add_links(struct proc *p)
{
	g_autoptr(GTimeZone) tz =
		p->cfg->deadline
			? g_time_zone_ref(g_date_time_get_timezone(p->cfg->deadline))
			: NULL;
	GPtrArray *links = links_find(
		p->msg->body_text, p->msg->body_html,
		(const char *const *)p->cfg->rules.link_prefixes, tz);

	for (unsigned i = 0; i < links->len; i++) {
		const struct link_ref *l = g_ptr_array_index(links, i);
		struct check_item *ci = g_new0(struct check_item, 1);
		GString *note = g_string_new(l->provider);

		ci->it.type = ITEM_LINK;
		ci->it.accepted = true;
		ci->it.name = g_strdup(l->filename ? l->filename : l->provider);
		ci->it.url = g_strdup(l->url);
		ci->it.sha256 = g_compute_checksum_for_string(G_CHECKSUM_SHA256,
							      l->url, -1);
		ci->it.expires = l->expires;
		if (l->size != NULL)
			g_string_append_printf(note, "，大小 %s", l->size);
		if (l->code != NULL)
			g_string_append_printf(note, "，提取码 %s", l->code);
		ci->it.note = g_string_free(note, FALSE);
		ci->ext = g_strdup("");
		g_ptr_array_add(p->items, ci);
	}
	g_ptr_array_unref(links);
}

static bool
proc_has_photos(const struct proc *p)
{
	for (unsigned i = 0; i < p->items->len; i++) {
		const struct check_item *ci = g_ptr_array_index(p->items, i);

		if (ci->it.type == ITEM_PHOTO)
			return true;
	}
	return false;
}

/* Captions for this message's own photos. */
static void
proc_caption_own(struct proc *p)
{
	g_autofree struct caption_photo *cp = NULL;
	g_autoptr(GPtrArray) photos = g_ptr_array_new();

	for (unsigned i = 0; i < p->items->len; i++) {
		struct check_item *ci = g_ptr_array_index(p->items, i);

		if (proc_is_photo(ci))
			g_ptr_array_add(photos, ci);
	}
	if (photos->len == 0)
		return;
	cp = g_new0(struct caption_photo, photos->len);
	for (unsigned i = 0; i < photos->len; i++) {
		struct check_item *ci = g_ptr_array_index(photos, i);

		cp[i].name = ci->it.name;
		cp[i].number = i + 1;
	}
	caption_match(cp, photos->len, p->refs);
	for (unsigned i = 0; i < photos->len; i++) {
		struct check_item *ci = g_ptr_array_index(photos, i);

		g_free(ci->it.caption);
		ci->it.caption = cp[i].caption;
	}
}

/*
 * A correction (更正 or 替换 in the subject) replaces the unit's earlier
 * items of the kinds this message brings; history is kept (state
 * 'replaced', the file moved aside).
 */
static bool
proc_corrections(struct proc *p, GPtrArray *replaced, GError **error)
{
	bool kinds[ITEM_OTHER + 1] = {false};
	GPtrArray *keep;

	if (!proc_subject_has(p->msg->subject, "更正") &&
	    !proc_subject_has(p->msg->subject, "替换"))
		return true;
	for (unsigned i = 0; i < p->items->len; i++) {
		const struct check_item *ci = g_ptr_array_index(p->items, i);

		if (ci->it.accepted)
			kinds[ci->it.type] = true;
	}
	keep = g_ptr_array_new_with_free_func((GDestroyNotify)store_item_free);
	for (unsigned i = 0; i < p->held->len; i++) {
		struct store_item *it = g_ptr_array_index(p->held, i);

		if (kinds[it->type] && it->type != ITEM_LINK)
			g_ptr_array_add(replaced, it);
		else
			g_ptr_array_add(keep, it);
		p->held->pdata[i] = NULL;
	}
	g_ptr_array_set_free_func(p->held, NULL);
	g_ptr_array_unref(p->held);
	p->held = keep;
	(void)error;
	return true;
}

/* The unit-dependent rules: duplicates, the photo limit, lateness. */
static void
proc_decide(struct proc *p)
{
	decide_items(p->cfg, p->held, p->items, p->row->arrived, &p->accepted,
		     &p->refused);
	for (unsigned i = 0; i < p->items->len; i++) {
		struct check_item *ci = g_ptr_array_index(p->items, i);

		if (ci->it.accepted && ci->docx_has_media &&
		    decide_count(p->held, ITEM_PHOTO) == 0) {
			bool own_photos = false;

			for (unsigned j = 0; j < p->items->len; j++) {
				struct check_item *cj =
					g_ptr_array_index(p->items, j);

				own_photos |= cj->it.type == ITEM_PHOTO;
			}
			if (!own_photos)
				g_ptr_array_add(
					p->notes,
					g_strdup_printf(
						"“%s”中插有图片；图片请以 JPG "
						"格式作为单独的附件发送，"
						"并配简要文字说明。",
						ci->it.name));
		}
	}
}

/* A final name for a summary or video that no other item of the unit
 * holds: the sanitised original, else with the message and index. */
static char *
proc_plain_name(const struct proc *p, unsigned index)
{
	g_autofree char *suffix = g_strdup_printf(
		"-%" G_GINT64_FORMAT "-%u", p->row->id, index + 1);

	return decide_plain_name(p->unit->name, p->held, p->items, index,
				 suffix);
}

/* Whether units/<unit>/<subdir>/<name>, as filing_put() will name it, is
 * the file of an item that this message replaces. */
static bool
proc_name_replaced(const struct proc *p, const GPtrArray *replaced,
		   const char *subdir, const char *name)
{
	g_autofree char *unit = filing_sanitize(p->unit->name, FILING_NAME_MAX);
	g_autofree char *clean = filing_sanitize(name, FILING_NAME_MAX);
	g_autofree char *rel = g_build_filename("units", unit, subdir, clean,
						NULL);

	for (unsigned i = 0; i < replaced->len; i++) {
		const struct store_item *it = g_ptr_array_index(replaced, i);

		if (g_strcmp0(it->path, rel) == 0)
			return true;
	}
	return false;
}

/* "<stem>-<message>-<n><ext>": a name no other item of the unit holds. */
static char *
proc_standin_name(const struct proc *p, const char *name, unsigned index)
{
	const char *dot = strrchr(name, '.');
	g_autofree char *stem =
		dot ? g_strndup(name, (gsize)(dot - name)) : g_strdup(name);

	return g_strdup_printf("%s-%" G_GINT64_FORMAT "-%u%s", stem,
			       p->row->id, index + 1, dot ? dot : "");
}

/*
 * Durable step 1: accepted items into the unit's folder (temp, fsync,
 * rename, fsync dir: filing_put), renamed photos linked under their new
 * name.  Nothing here is known to the database yet, and nothing the
 * database knows is replaced: a name still held by an item this message
 * replaces is not taken before the commit (a crash would leave that
 * item's file with the new content), a stand-in name is.
 */
static bool
proc_file_items(struct proc *p, const GPtrArray *replaced, GError **error)
{
	for (unsigned i = 0; i < p->items->len; i++) {
		struct check_item *ci = g_ptr_array_index(p->items, i);
		g_autofree char *name = NULL;
		const char *subdir = filing_subdir(ci->it.type);

		if (!ci->it.accepted || subdir == NULL)
			continue;
		if (ci->it.type == ITEM_PHOTO)
			name = decide_photo_name(ci->it.number, ci->it.caption);
		else
			name = proc_plain_name(p, i);
		if (proc_name_replaced(p, replaced, subdir, name)) {
			struct proc_settle *ps = g_new0(struct proc_settle, 1);

			ps->ci = ci;
			ps->name = g_steal_pointer(&name);
			name = proc_standin_name(p, ps->name, i);
			g_ptr_array_add(p->settle, ps);
		}
		if (!filing_put(p->cfg->state_dir, p->unit->name, subdir, name,
				ci->src, &ci->it.path, error))
			return false;
	}
	for (unsigned i = 0; i < p->caption_updates->len; i++) {
		struct store_item *it = g_ptr_array_index(p->caption_updates, i);
		g_autofree char *name = decide_photo_name(it->number, it->caption);
		g_autofree char *src = NULL;
		char *rel = NULL;

		if (it->path == NULL)
			continue;
		src = g_build_filename(p->cfg->state_dir, it->path, NULL);
		if (!filing_put(p->cfg->state_dir, p->unit->name, "图片", name,
				src, &rel, error))
			return false;
		if (g_strcmp0(rel, it->path) != 0)
			g_ptr_array_add(p->renamed, it->path);
		else
			g_free(it->path);
		it->path = rel;
	}
	return true;
}

static const char *
proc_verdict_kind(enum verdict v)
{
	return verdict_name(v);
}

/* The reply, rendered and composed, queued in the open transaction. */
static bool
proc_queue_reply(struct proc *p, enum verdict v, GError **error)
{
	const struct intake_config *cfg = p->cfg;
	/* a Reply-To says where replies go: one we cannot use means no
	 * reply (not a guess at From) */
	const char *to = p->msg->reply_to ? p->msg->reply_to
					  : p->msg->from_addr;
	g_autofree struct reply_item *ri = NULL;
	struct reply_info info = {0};
	unsigned sent_today = 0;

	if (cfg->smtp_from == NULL)
		return true; /* no [smtp]: this intake does not reply */
	if (to == NULL || !reply_address_ok(to)) {
		log_warn("message %" G_GINT64_FORMAT ": no usable reply address",
			 p->row->id);
		return true;
	}
	if (cfg->smtp_from_addr != NULL &&
	    g_ascii_strcasecmp(to, cfg->smtp_from_addr) == 0)
		return true;
	if (!store_outbox_count_to(p->st, to, (int64_t)time(NULL) - 86400,
				   &sent_today, error))
		return false;
	if (sent_today >= cfg->limits.replies_per_sender) {
		log_warn("message %" G_GINT64_FORMAT ": %u replies to %s today,"
			 " not replying again", p->row->id, sent_today, to);
		return true;
	}
	ri = g_new0(struct reply_item, p->items->len + 1);
	for (unsigned i = 0; i < p->items->len; i++) {
		const struct check_item *ci = g_ptr_array_index(p->items, i);

		ri[i].name = ci->it.name;
		ri[i].type = ci->it.type;
		ri[i].accepted = ci->it.accepted;
		ri[i].reason = ci->it.reason;
		ri[i].caption = ci->it.caption;
		ri[i].late = ci->it.late;
		ri[i].width = ci->it.width;
		ri[i].height = ci->it.height;
	}
	g_ptr_array_add(p->captions_taken, NULL);
	g_ptr_array_add(p->notes, NULL);
	info.kind = proc_verdict_kind(v);
	info.verdict = verdict_name(v);
	info.items = ri;
	info.n_items = p->items->len;
	info.captions_taken = (const char *const *)p->captions_taken->pdata;
	info.notes = (const char *const *)p->notes->pdata;
	info.original_subject = p->msg->subject;
	info.original_id = p->msg->message_id;
	info.original_references = p->msg->references;
	return reply_queue(cfg, p->st, &info, p->unit, to, p->row->id, NULL,
			   error);
}

/* A message processed again (reprocess, assign) is answered again only
 * when its verdict changed: the sender has the earlier reply already. */
static bool
proc_reply_due(const struct proc *p, enum verdict v)
{
	return p->row->verdict == NULL ||
	       strcmp(p->row->verdict, verdict_name(v)) != 0;
}

static void
proc_result_headers(const struct proc *p, struct store_result *r)
{
	r->message_id = p->msg->message_id;
	r->from_addr = p->msg->from_addr;
	r->from_name = p->msg->from_name;
	r->reply_to = p->msg->reply_to;
	r->subject = p->msg->subject;
	r->date_hdr = p->msg->date;
	r->untrusted_from = !p->from_trusted;
}

/* Not a submission: recorded, left alone on the server, no reply. */
static bool
proc_commit_ignored(struct proc *p, GError **error)
{
	struct store_result r = {0};
	bool matched = false;

	r.state = MSG_PROCESSED;
	r.kind = msg_kind_name(p->kind);
	r.verdict = verdict_name(VERDICT_IGNORED);
	r.unit = p->unit ? p->unit->name : NULL;
	r.unit_how = p->unit ? roster_how_name(p->how) : NULL;
	proc_result_headers(p, &r);
	if (!store_begin(p->st, error))
		return false;
	if (p->kind == KIND_BOUNCE && p->msg->report_original_id != NULL) {
		g_autofree char *why = g_strdup_printf(
			"退信：%s", p->msg->subject ? p->msg->subject : "");

		if (!store_outbox_bounced(p->st, p->msg->report_original_id,
					  why, &matched, error))
			goto fail;
		if (matched)
			r.error = "bounce of one of our replies";
	}
	if (!store_items_delete_of_message(p->st, p->row->id, error) ||
	    !store_message_set_result(p->st, p->row->id, &r, error))
		goto fail;
	return store_commit(p->st, error);
fail:
	store_rollback(p->st);
	return false;
}

/* The unit could not be told: held for the office (intakectl assign). */
static bool
proc_commit_unidentified(struct proc *p, GError **error)
{
	struct store_result r = {0};

	r.state = MSG_HELD;
	r.kind = msg_kind_name(KIND_SUBMISSION);
	r.verdict = verdict_name(VERDICT_UNIDENTIFIED);
	r.unit_how = roster_how_name(p->how);
	proc_result_headers(p, &r);
	if (!store_begin(p->st, error))
		return false;
	if (!store_items_delete_of_message(p->st, p->row->id, error))
		goto fail;
	for (unsigned i = 0; i < p->items->len; i++) {
		struct check_item *ci = g_ptr_array_index(p->items, i);

		ci->it.message = p->row->id;
		ci->it.received = p->row->arrived;
		/* facts are kept; nothing is filed without a unit */
		ci->it.accepted = false;
		if (ci->it.reason == NULL)
			ci->it.reason = g_strdup("无法确定报送单位，暂未收录");
		if (!store_item_add(p->st, &ci->it, error))
			goto fail;
	}
	/* Spam must not cause backscatter: only campaign mail is answered. */
	if (p->keyword && proc_reply_due(p, VERDICT_UNIDENTIFIED) &&
	    !proc_queue_reply(p, VERDICT_UNIDENTIFIED, error))
		goto fail;
	if (!store_message_set_result(p->st, p->row->id, &r, error))
		goto fail;
	return store_commit(p->st, error);
fail:
	store_rollback(p->st);
	return false;
}

/* Durable step 2: ONE transaction for everything the message changes. */
static bool
proc_commit_submission(struct proc *p, GPtrArray *replaced, GError **error)
{
	struct store_result r = {0};
	enum verdict v;

	v = rules_message_verdict(p->accepted, p->refused);
	if (p->items->len == 0 || (p->accepted == 0 && p->refused == 0))
		v = p->captions_taken->len > 0 ? VERDICT_ACCEPTED
					       : VERDICT_REJECTED;
	if (p->items->len == 0 && p->captions_taken->len == 0)
		/* the attachments were forgotten: say so, not nothing */
		g_ptr_array_add(p->notes,
				g_strdup("本邮件未带任何附件。活动总结、视频和"
					 "图片请作为附件发送；超过邮箱限制的"
					 "视频可用超大附件或网盘链接发送。"));
	r.state = MSG_PROCESSED;
	r.kind = msg_kind_name(KIND_SUBMISSION);
	r.verdict = verdict_name(v);
	r.unit = p->unit->name;
	r.unit_how = roster_how_name(p->how);
	r.mark_pending = p->cfg->mark != MARK_NONE;
	proc_result_headers(p, &r);

	if (!store_begin(p->st, error))
		return false;
	if (!store_items_delete_of_message(p->st, p->row->id, error))
		goto fail;
	for (unsigned i = 0; i < replaced->len; i++) {
		struct store_item *it = g_ptr_array_index(replaced, i);

		if (!store_item_set_state(p->st, it->id, ITEM_REPLACED, NULL,
					  error))
			goto fail;
	}
	for (unsigned i = 0; i < p->items->len; i++) {
		struct check_item *ci = g_ptr_array_index(p->items, i);

		ci->it.message = p->row->id;
		g_free(ci->it.unit);
		ci->it.unit = g_strdup(p->unit->name);
		if (!store_item_add(p->st, &ci->it, error))
			goto fail;
	}
	for (unsigned i = 0; i < p->caption_updates->len; i++) {
		struct store_item *it = g_ptr_array_index(p->caption_updates, i);

		if (!store_item_set_caption(p->st, it->id, it->caption,
					    it->path, error))
			goto fail;
	}
	if (proc_reply_due(p, v) && !proc_queue_reply(p, v, error))
		goto fail;
	if (!store_message_set_result(p->st, p->row->id, &r, error))
		goto fail;
	if (!store_commit(p->st, error))
		return false;
	log_info("message %" G_GINT64_FORMAT " <%s>: unit %s, %s, %u accepted,"
		 " %u refused, %.2f s", p->row->id,
		 p->msg->message_id ? p->msg->message_id : "",
		 p->unit->name, verdict_name(v), p->accepted, p->refused,
		 (double)(g_get_monotonic_time() - p->started) / 1e6);
	return true;
fail:
	store_rollback(p->st);
	return false;
}

/*
 * A stand-in name given up for the item's own name, now free (every item
 * that had it is moved aside, and recorded there): the file is
 * linked under its name, the new path committed, the stand-in unlinked.  A
 * crash between these steps leaves one of the two names unknown to the
 * database, which pipeline_recover() removes; the other is the item's.
 */
static void
proc_settle(struct proc *p, const GPtrArray *replaced,
	    const struct proc_settle *ps)
{
	struct check_item *ci = ps->ci;
	g_autofree char *standin =
		g_build_filename(p->cfg->state_dir, ci->it.path, NULL);
	g_autofree char *unit = filing_sanitize(p->unit->name, FILING_NAME_MAX);
	g_autofree char *clean = filing_sanitize(ps->name, FILING_NAME_MAX);
	const char *subdir = filing_subdir(ci->it.type);
	g_autofree char *full = g_build_filename(p->cfg->state_dir, "units",
						 unit, subdir, clean, NULL);
	g_autofree char *rel = NULL;
	g_autoptr(GError) err = NULL;

	if (proc_name_replaced(p, replaced, subdir, ps->name) ||
	    g_file_test(full, G_FILE_TEST_EXISTS)) {
		/* the replaced file could not be moved aside, or its new
		 * place not recorded: the item keeps its stand-in name */
		log_warn("message %" G_GINT64_FORMAT ": %s keeps the name %s:"
			 " %s is still taken", p->row->id, ci->it.name,
			 ci->it.path, ps->name);
		return;
	}
	g_clear_pointer(&full, g_free);
	if (!filing_put(p->cfg->state_dir, p->unit->name, subdir, ps->name,
			standin, &rel, &err)) {
		log_warn("message %" G_GINT64_FORMAT ": %s keeps the name %s: "
			 "%s", p->row->id, ci->it.name, ci->it.path,
			 err->message);
		return;
	}
	if (!store_item_set_state(p->st, ci->it.id, ITEM_ACTIVE, rel, &err)) {
		log_warn("message %" G_GINT64_FORMAT ": %s keeps the name %s: "
			 "%s", p->row->id, ci->it.name, ci->it.path,
			 err->message);
		full = g_build_filename(p->cfg->state_dir, rel, NULL);
		unlink(full);
		return;
	}
	unlink(standin);
	g_free(ci->it.path);
	ci->it.path = g_steal_pointer(&rel);
}

/* Step 3, after the commit: names the database no longer knows, files
 * of replaced items moved aside (pipeline_recover() finishes this after a
 * crash), stand-in names settled. */
static void
proc_after_commit(struct proc *p, GPtrArray *replaced)
{
	for (unsigned i = 0; i < p->renamed->len; i++) {
		g_autofree char *old = g_build_filename(
			p->cfg->state_dir,
			(const char *)g_ptr_array_index(p->renamed, i), NULL);

		unlink(old);
	}
	for (unsigned i = 0; i < replaced->len; i++) {
		struct store_item *it = g_ptr_array_index(replaced, i);
		g_autoptr(GError) err = NULL;
		char *aside = NULL;

		if (it->path == NULL)
			continue;
		if (!filing_move_aside(p->cfg->state_dir, it->path, &aside,
				       &err)) {
			log_warn("cannot move %s aside: %s", it->path,
				 err->message);
			continue;
		}
		/* the history keeps the file where it now is */
		if (!store_item_set_state(p->st, it->id, ITEM_REPLACED, aside,
					  &err)) {
			log_warn("cannot record %s: %s", aside, err->message);
			g_free(aside);
			continue;
		}
		g_free(it->path);
		it->path = aside;
	}
	for (unsigned i = 0; i < p->settle->len; i++)
		proc_settle(p, replaced, g_ptr_array_index(p->settle, i));
}

bool
process_message(const struct intake_config *cfg, int64_t id, GError **error)
{
	struct proc p = {0};
	g_autofree char *raw = NULL;
	g_autoptr(GPtrArray) replaced =
		g_ptr_array_new_with_free_func((GDestroyNotify)store_item_free);
	const char *why = NULL;
	bool ok = false;

	p.cfg = cfg;
	p.started = g_get_monotonic_time();
	p.renamed = g_ptr_array_new_with_free_func(g_free);
	p.caption_updates = g_ptr_array_new();
	p.captions_taken = g_ptr_array_new_with_free_func(g_free);
	p.notes = g_ptr_array_new_with_free_func(g_free);
	p.settle = g_ptr_array_new_with_free_func(
		(GDestroyNotify)proc_settle_free);
	p.st = store_open(cfg->state_dir, error);
	if (p.st == NULL)
		goto out;
	p.row = store_message_get(p.st, id, error);
	if (p.row == NULL) {
		if (error != NULL && *error == NULL)
			g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_MESSAGE,
				    "no message %" G_GINT64_FORMAT, id);
		goto out;
	}
	if (p.row->state != MSG_PENDING) {
		/* another process got to it first */
		ok = true;
		goto out;
	}
	raw = rawstore_path(cfg->state_dir, p.row->sha256);
	p.work_dir = proc_work_dir(cfg, id, error);
	if (p.work_dir == NULL)
		goto out;
	p.msg = message_parse(raw, p.work_dir, &cfg->limits, error);
	if (p.msg == NULL)
		goto out;
	/* Only the receiving server's word counts: a failed DMARC (or SPF
	 * and DKIM both failed) means anyone could have written this From;
	 * recorded for every message, the ignored ones too */
	p.from_trusted = authres_from_trusted(p.msg->authentication_results,
					      cfg->authserv_id);

	p.kind = classify_headers(p.msg, cfg->smtp_from_addr, &why);
	if (p.kind == KIND_AUTO || p.kind == KIND_BOUNCE) {
		log_info("message %" G_GINT64_FORMAT ": %s (%s), no reply", id,
			 msg_kind_name(p.kind), why ? why : "");
		ok = proc_commit_ignored(&p, error);
		goto out;
	}
	p.items = check_message(cfg, p.msg, p.work_dir, error);
	if (p.items == NULL)
		goto out;
	proc_add_links(&p);
	p.refs = caption_parse_body(p.msg->body_text);
	proc_identify(&p);
	p.keyword = proc_has_keyword(&p);
	if (p.unit != NULL) {
		p.held = store_items_of_unit(p.st, p.unit->name, true, error);
		if (p.held == NULL)
			goto out;
		/* processed again: its own earlier items are not "held" */
		for (unsigned i = p.held->len; i-- > 0;) {
			struct store_item *it = g_ptr_array_index(p.held, i);

			if (it->message == id)
				g_ptr_array_remove_index(p.held, i);
		}
		if (!proc_has_photos(&p))
			proc_caption_held(&p);
	}
	p.kind = classify_final(p.items->len, p.keyword,
				p.captions_taken->len > 0);
	if (p.kind == KIND_OTHER) {
		log_info("message %" G_GINT64_FORMAT ": not a submission", id);
		ok = proc_commit_ignored(&p, error);
		goto out;
	}
	if (p.unit == NULL) {
		log_info("message %" G_GINT64_FORMAT ": unit unidentified (%s)",
			 id, roster_how_name(p.how));
		ok = proc_commit_unidentified(&p, error);
		goto out;
	}
	proc_caption_own(&p);
	if (!proc_corrections(&p, replaced, error))
		goto out;
	proc_decide(&p);
	if (!proc_file_items(&p, replaced, error))
		goto out;
	if (!proc_commit_submission(&p, replaced, error))
		goto out;
	proc_after_commit(&p, replaced);
	ok = true;
out:
	if (p.work_dir != NULL)
		work_rmtree(p.work_dir);
	proc_clear(&p);
	return ok;
}
