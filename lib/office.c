/*
 * office.c - status, messages and show, as JSON and as text
 */
#include <json-glib/json-glib.h>
#include <string.h>
#include <time.h>

#include "office.h"
#include "reply.h"
#include "rules.h"

GTimeZone *
office_zone(const struct intake_config *cfg)
{
	if (cfg->deadline != NULL)
		return g_time_zone_ref(g_date_time_get_timezone(cfg->deadline));
	if (cfg->start != NULL)
		return g_time_zone_ref(g_date_time_get_timezone(cfg->start));
	return g_time_zone_new_local();
}

char *
office_time_iso(const struct intake_config *cfg, int64_t t)
{
	g_autoptr(GTimeZone) tz = office_zone(cfg);
	g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc(t);
	g_autoptr(GDateTime) dt = NULL;

	if (utc == NULL)
		return g_strdup("");
	dt = g_date_time_to_timezone(utc, tz);
	return g_date_time_format(dt, "%Y-%m-%dT%H:%M:%S%:z");
}

static char *
office_time_text(const struct intake_config *cfg, int64_t t)
{
	g_autoptr(GTimeZone) tz = office_zone(cfg);
	g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc(t);
	g_autoptr(GDateTime) dt = NULL;

	if (utc == NULL || t == 0)
		return g_strdup("-");
	dt = g_date_time_to_timezone(utc, tz);
	return g_date_time_format(dt, "%Y-%m-%d %H:%M");
}

static void
office_json_out(JsonBuilder *b, GString *out)
{
	g_autoptr(JsonGenerator) gen = json_generator_new();
	g_autoptr(JsonNode) root = json_builder_get_root(b);
	g_autofree char *text = NULL;

	json_generator_set_root(gen, root);
	json_generator_set_pretty(gen, TRUE);
	text = json_generator_to_data(gen, NULL);
	g_string_append(out, text);
	g_string_append_c(out, '\n');
}

static void
office_add_str(JsonBuilder *b, const char *key, const char *value)
{
	json_builder_set_member_name(b, key);
	if (value != NULL)
		json_builder_add_string_value(b, value);
	else
		json_builder_add_null_value(b);
}

static void
office_add_int(JsonBuilder *b, const char *key, int64_t value)
{
	json_builder_set_member_name(b, key);
	json_builder_add_int_value(b, value);
}

/* The unit's latest submission and how many it sent. */
static bool
office_count(struct store *st, const char *sql, int64_t *n_r, GError **error)
{
	sqlite3_stmt *stmt = store_prepare(st, sql, error);

	*n_r = 0;
	if (stmt == NULL)
		return false;
	if (sqlite3_step(stmt) == SQLITE_ROW)
		*n_r = sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return true;
}

static const char *
office_status_label(enum unit_status s)
{
	switch (s) {
	case UNIT_COMPLETE:
		return "已齐全";
	case UNIT_INCOMPLETE:
		return "不完整";
	case UNIT_MISSING:
		break;
	}
	return "未报送";
}

/* Messages too large to download (toolarge.c), as a "too_large" array:
 * who sent what, when, how large, the unit when the header named one,
 * whether the sender was answered. */
static void
office_too_large_json(JsonBuilder *b, const struct intake_config *cfg,
		      const GPtrArray *notes)
{
	json_builder_set_member_name(b, "too_large");
	json_builder_begin_array(b);
	for (guint i = 0; i < notes->len; i++) {
		const struct store_too_large *n = g_ptr_array_index(notes, i);
		g_autofree char *iso = office_time_iso(cfg, n->arrived);

		json_builder_begin_object(b);
		office_add_str(b, "from", n->from_addr);
		office_add_str(b, "subject", n->subject);
		office_add_int(b, "size", (int64_t)n->size);
		office_add_str(b, "unit", n->unit);
		office_add_str(b, "arrived", iso);
		office_add_str(b, "message_id", n->message_id);
		json_builder_set_member_name(b, "replied");
		json_builder_add_boolean_value(b, n->reply_id != NULL);
		json_builder_end_object(b);
	}
	json_builder_end_array(b);
}

/* One line each, under a heading. */
static void
office_too_large_text(GString *out, const struct intake_config *cfg,
		      const GPtrArray *notes)
{
	if (notes->len == 0)
		return;
	g_string_append(out, "过大未下载、留在邮箱中的邮件（已在邮箱中处理并"
			     "删除或移走的，自动不再列出）：\n");
	for (guint i = 0; i < notes->len; i++) {
		const struct store_too_large *n = g_ptr_array_index(notes, i);
		g_autofree char *when = office_time_text(cfg, n->arrived);
		char size[32];

		reply_format_size(n->size, true, size, sizeof(size));
		g_string_append_printf(
			out, "  %s  %s  %s  %s  “%s”  %s\n", when, size,
			n->unit ? n->unit : "单位不明",
			n->from_addr ? n->from_addr : "发件人不明",
			n->subject ? n->subject : "",
			n->reply_id ? "已回复发件人" : "未回复");
	}
}

bool
office_status(const struct intake_config *cfg, struct store *st, bool json,
	      GString *out, GError **error)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autofree char *deadline = NULL;
	int64_t unidentified = 0, failed = 0, failed_replies = 0;
	int64_t expiring = 0, too_large = 0;
	g_autoptr(GPtrArray) notes = NULL;
	g_autofree char *expiring_sql = g_strdup_printf(
		"SELECT COUNT(*) FROM items WHERE type='link' AND accepted=1"
		" AND state='active' AND expires>0 AND expires<%" G_GINT64_FORMAT,
		(int64_t)time(NULL) + 3 * 86400);
	unsigned counts[3] = {0, 0, 0};

	if (!office_count(st,
			  "SELECT COUNT(*) FROM messages WHERE"
			  " verdict='unidentified' AND state='held'",
			  &unidentified, error) ||
	    !office_count(st,
			  "SELECT COUNT(*) FROM messages WHERE state='failed'",
			  &failed, error) ||
	    !office_count(st,
			  "SELECT COUNT(*) FROM outbox WHERE state='failed'",
			  &failed_replies, error) ||
	    !office_count(st, expiring_sql, &expiring, error))
		return false;
	notes = store_too_large_list(st, NULL, NULL, error);
	if (notes == NULL)
		return false;
	too_large = notes->len;
	if (cfg->deadline != NULL)
		deadline = g_date_time_format(cfg->deadline,
					      "%Y-%m-%dT%H:%M:%S%:z");
	json_builder_begin_object(b);
	office_add_str(b, "campaign", cfg->campaign_name);
	office_add_str(b, "deadline", deadline);
	json_builder_set_member_name(b, "units");
	json_builder_begin_array(b);
	if (!json)
		g_string_append_printf(out, "%s\n截止时间：%s\n\n",
				       cfg->campaign_name ? cfg->campaign_name
							  : "",
				       deadline ? deadline : "未设定");
	for (size_t i = 0; i < cfg->n_units; i++) {
		const struct unit *u = &cfg->units[i];
		const char *names[5];
		struct dossier d;
		enum unit_status s;
		unsigned missing = 0;
		int64_t last = 0;
		size_t n;

		if (!store_dossier(st, u->name, &d, error) ||
		    !store_unit_last_received(st, u->name, &last, error))
			return false;
		s = rules_unit_status(&cfg->rules, &d, &missing);
		counts[s]++;
		n = rules_missing_names(missing, names);
		json_builder_begin_object(b);
		office_add_str(b, "name", u->name);
		office_add_str(b, "category", u->category);
		office_add_str(b, "status", unit_status_name(s));
		office_add_int(b, "summaries", d.summaries + d.paper_summaries);
		office_add_int(b, "photos", d.photos);
		office_add_int(b, "photos_uncaptioned", d.photos_uncaptioned);
		office_add_int(b, "videos", d.videos);
		office_add_int(b, "links", d.links);
		json_builder_set_member_name(b, "late");
		json_builder_add_boolean_value(b, d.late);
		office_add_int(b, "messages", d.messages);
		json_builder_set_member_name(b, "missing");
		json_builder_begin_array(b);
		for (size_t k = 0; k < n; k++)
			json_builder_add_string_value(b, names[k]);
		json_builder_end_array(b);
		if (last) {
			g_autofree char *iso = office_time_iso(cfg, last);

			office_add_str(b, "last_received", iso);
		} else {
			office_add_str(b, "last_received", NULL);
		}
		json_builder_end_object(b);
		if (!json) {
			const char *labels[5];
			size_t nl = rules_missing_labels(missing, labels);
			g_autofree char *when = office_time_text(cfg, last);
			g_autofree char *lack = NULL;

			labels[nl] = NULL;
			lack = g_strjoinv("、", (char **)labels);
			g_string_append_printf(
				out,
				"%-6s %s  总结 %u  图片 %u/%u%s  视频 %u%s%s"
				"  最近 %s%s%s\n",
				office_status_label(s), u->name,
				d.summaries + d.paper_summaries, d.photos,
				cfg->rules.photo_max,
				d.photos_uncaptioned ? "（缺说明）" : "",
				d.videos, d.links ? "  链接 " : "",
				d.links ? "待下载" : "", when,
				nl ? "  缺：" : "", nl ? lack : "");
		}
	}
	json_builder_end_array(b);
	office_add_int(b, "unidentified_messages", unidentified);
	office_add_int(b, "failed_messages", failed);
	office_add_int(b, "failed_replies", failed_replies);
	office_add_int(b, "links_expiring", expiring);
	office_add_int(b, "too_large_messages", too_large);
	office_too_large_json(b, cfg, notes);
	json_builder_end_object(b);
	if (json) {
		office_json_out(b, out);
		return true;
	}
	g_string_append_printf(out,
			       "\n已齐全 %u，不完整 %u，未报送 %u；"
			       "待确定单位的邮件 %" G_GINT64_FORMAT "",
			       counts[UNIT_COMPLETE], counts[UNIT_INCOMPLETE],
			       counts[UNIT_MISSING], unidentified);
	if (failed)
		g_string_append_printf(out, "；处理失败的邮件 %" G_GINT64_FORMAT,
				       failed);
	if (failed_replies)
		g_string_append_printf(out, "；发送失败的回复 %" G_GINT64_FORMAT,
				       failed_replies);
	if (expiring)
		g_string_append_printf(out, "；3 天内过期、尚待下载的大附件"
				       "链接 %" G_GINT64_FORMAT, expiring);
	if (too_large)
		g_string_append_printf(out, "；过大未下载、留在邮箱中的邮件 %"
				       G_GINT64_FORMAT, too_large);
	g_string_append(out, "\n");
	office_too_large_text(out, cfg, notes);
	return true;
}

static void
office_item_json(JsonBuilder *b, const struct store_item *it)
{
	json_builder_begin_object(b);
	office_add_int(b, "id", it->id);
	office_add_str(b, "name", it->name);
	office_add_str(b, "type", item_type_name(it->type));
	json_builder_set_member_name(b, "accepted");
	json_builder_add_boolean_value(b, it->accepted);
	office_add_str(b, "reason", it->reason);
	office_add_int(b, "width", it->width);
	office_add_int(b, "height", it->height);
	office_add_str(b, "caption", it->caption);
	office_add_str(b, "url", it->url);
	office_add_str(b, "path", it->path);
	json_builder_set_member_name(b, "late");
	json_builder_add_boolean_value(b, it->late);
	office_add_str(b, "state",
		       it->state == ITEM_ACTIVE     ? "active"
		       : it->state == ITEM_REPLACED ? "replaced"
						    : "withdrawn");
	office_add_str(b, "origin", it->origin);
	json_builder_end_object(b);
}

const char *
office_type_label(enum item_type t)
{
	switch (t) {
	case ITEM_PHOTO:
		return "图片";
	case ITEM_VIDEO:
		return "视频";
	case ITEM_SUMMARY:
		return "总结";
	case ITEM_LINK:
		return "链接";
	case ITEM_OTHER:
		break;
	}
	return "附件";
}

void
office_item_text(GString *out, const struct store_item *it)
{
	office_item_line(out, "    ", it);
}

void
office_item_line(GString *out, const char *indent,
		 const struct store_item *it)
{
	g_string_append_printf(out, "%s[%" G_GINT64_FORMAT "] %s %s %s",
			       indent, it->id, it->accepted ? "✓" : "✗",
			       office_type_label(it->type), it->name);
	if (it->width)
		g_string_append_printf(out, " %u×%u", it->width, it->height);
	if (it->caption)
		g_string_append_printf(out, " 说明：%s", it->caption);
	if (it->late)
		g_string_append(out, " （逾期）");
	if (it->state != ITEM_ACTIVE)
		g_string_append(out, it->state == ITEM_REPLACED ? " （已被更正替换）"
								: " （已撤回）");
	if (it->path && it->origin && strcmp(it->origin, "mail") != 0)
		g_string_append_printf(out, " → %s", it->path);
	if (!it->accepted && it->reason)
		g_string_append_printf(out, "\n%s    %s", indent, it->reason);
	g_string_append_c(out, '\n');
}

/* A duplicate is recorded bare (no kind, sender, subject): it shows its
 * original's. */
bool
office_messages(const struct intake_config *cfg, struct store *st,
		const char *state, bool json, GString *out, GError **error)
{
	sqlite3_stmt *stmt = store_prepare(
		st,
		"SELECT m.id, COALESCE(m.message_id, d.message_id),"
		" COALESCE(m.from_addr, d.from_addr),"
		" COALESCE(m.subject, d.subject), m.arrived,"
		" m.unit, m.state, COALESCE(m.kind, d.kind), m.verdict, m.error,"
		" MAX(m.untrusted_from, COALESCE(d.untrusted_from, 0)),"
		" o.state, o.rcpt, o.last_error FROM messages m"
		" LEFT JOIN messages d ON d.id=m.duplicate_of"
		" LEFT JOIN outbox o ON o.id=(SELECT MAX(id) FROM outbox"
		" WHERE message=m.id AND kind='reply')"
		" WHERE ?1 IS NULL OR m.state=?1 ORDER BY m.id",
		error);
	g_autoptr(JsonBuilder) b = json_builder_new();
	int rc;

	if (stmt == NULL)
		return false;
	sqlite3_bind_text(stmt, 1, state, -1, SQLITE_STATIC);
	json_builder_begin_array(b);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(stmt, 0);
		const char *mid = (const char *)sqlite3_column_text(stmt, 1);
		const char *from = (const char *)sqlite3_column_text(stmt, 2);
		const char *subject = (const char *)sqlite3_column_text(stmt, 3);
		int64_t arrived = sqlite3_column_int64(stmt, 4);
		const char *unit = (const char *)sqlite3_column_text(stmt, 5);
		const char *mstate = (const char *)sqlite3_column_text(stmt, 6);
		const char *kind = (const char *)sqlite3_column_text(stmt, 7);
		const char *verdict = (const char *)sqlite3_column_text(stmt, 8);
		const char *err = (const char *)sqlite3_column_text(stmt, 9);
		bool untrusted = sqlite3_column_int(stmt, 10) != 0;
		const char *rstate = (const char *)sqlite3_column_text(stmt, 11);
		const char *rcpt = (const char *)sqlite3_column_text(stmt, 12);
		const char *rerr = (const char *)sqlite3_column_text(stmt, 13);
		g_autofree char *iso = office_time_iso(cfg, arrived);
		GPtrArray *items = store_items_of_message(st, id, error);

		if (items == NULL) {
			sqlite3_finalize(stmt);
			return false;
		}
		json_builder_begin_object(b);
		office_add_int(b, "id", id);
		office_add_str(b, "message_id", mid);
		office_add_str(b, "from", from);
		office_add_str(b, "subject", subject);
		office_add_str(b, "received", iso);
		office_add_str(b, "unit", unit);
		office_add_str(b, "state", mstate);
		office_add_str(b, "kind", kind);
		office_add_str(b, "verdict", verdict);
		office_add_str(b, "error", err);
		/* the reply: queued, sent or failed (with the server's text) */
		office_add_str(b, "reply_state", rstate);
		office_add_str(b, "reply_to", rcpt);
		office_add_str(b, "reply_error", rerr);
		/* Authentication-Results said the From was forged */
		json_builder_set_member_name(b, "from_trusted");
		json_builder_add_boolean_value(b, !untrusted);
		json_builder_set_member_name(b, "items");
		json_builder_begin_array(b);
		for (unsigned i = 0; i < items->len; i++)
			office_item_json(b, g_ptr_array_index(items, i));
		json_builder_end_array(b);
		json_builder_end_object(b);
		if (!json) {
			g_autofree char *when = office_time_text(cfg, arrived);

			g_string_append_printf(
				out,
				"%" G_GINT64_FORMAT "  %s  %s  %s/%s  %s\n"
				"    发件人 %s  主题 %s\n",
				id, when, mstate ? mstate : "",
				kind ? kind : "-", verdict ? verdict : "-",
				unit ? unit : "（单位未定）",
				from ? from : "-", subject ? subject : "");
			if (untrusted)
				g_string_append(out, "    发件人地址未通过验证"
						"（DMARC/SPF/DKIM），未用于确定单位\n");
			if (err)
				g_string_append_printf(out, "    错误：%s\n",
						       err);
			if (rstate != NULL && strcmp(rstate, "failed") == 0)
				g_string_append_printf(
					out, "    回复 %s 发送失败：%s\n",
					rcpt ? rcpt : "-", rerr ? rerr : "");
			for (unsigned i = 0; i < items->len; i++)
				office_item_text(out,
						 g_ptr_array_index(items, i));
		}
		g_ptr_array_unref(items);
	}
	sqlite3_finalize(stmt);
	json_builder_end_array(b);
	if (rc != SQLITE_DONE) {
		store_set_error(st, error, "messages");
		return false;
	}
	if (json)
		office_json_out(b, out);
	return true;
}

bool
office_show(const struct intake_config *cfg, struct store *st,
	    const char *unit, bool json, GString *out, GError **error)
{
	const struct unit *u = config_find_unit(cfg, unit);
	g_autoptr(JsonBuilder) b = json_builder_new();
	g_autoptr(GPtrArray) items = NULL;
	g_autoptr(GPtrArray) notes = NULL;
	g_autofree char *bounced = NULL, *learned = NULL;
	int64_t reminded = 0;
	const char *names[5];
	struct dossier d;
	enum unit_status s;
	unsigned missing = 0;
	size_t n;

	if (u == NULL) {
		for (size_t i = 0; i < cfg->n_units; i++)
			for (char **a = cfg->units[i].aliases; *a; a++)
				if (strcmp(*a, unit) == 0)
					u = &cfg->units[i];
	}
	if (u == NULL) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_CONFIG,
			    "no unit \"%s\" in %s", unit, cfg->units_file);
		return false;
	}
	if (!store_dossier(st, u->name, &d, error))
		return false;
	items = store_items_of_unit(st, u->name, false, error);
	if (items == NULL)
		return false;
	s = rules_unit_status(&cfg->rules, &d, &missing);
	n = rules_missing_names(missing, names);
	/* addresses our replies bounced from (store_outbox_bounced) */
	if (!store_unit_reminder_info(st, u->name, &reminded, &bounced, &learned,
				      error))
		return false;
	notes = store_too_large_list(st, NULL, u->name, error);
	if (notes == NULL)
		return false;
	if (!json) {
		if (bounced != NULL)
			g_string_append_printf(out, "退信地址（不再发送）：%s\n",
					       bounced);
		const char *labels[5];
		size_t nl = rules_missing_labels(missing, labels);

		labels[nl] = NULL;
		g_string_append_printf(out, "%s（%s）：%s\n", u->name,
				       u->category ? u->category : "",
				       office_status_label(s));
		if (nl) {
			g_autofree char *lack =
				g_strjoinv("、", (char **)labels);

			g_string_append_printf(out, "仍缺：%s\n", lack);
		}
		for (unsigned i = 0; i < items->len; i++)
			office_item_text(out, g_ptr_array_index(items, i));
		office_too_large_text(out, cfg, notes);
		return true;
	}
	json_builder_begin_object(b);
	office_add_str(b, "name", u->name);
	office_add_str(b, "category", u->category);
	office_add_str(b, "status", unit_status_name(s));
	json_builder_set_member_name(b, "missing");
	json_builder_begin_array(b);
	for (size_t k = 0; k < n; k++)
		json_builder_add_string_value(b, names[k]);
	json_builder_end_array(b);
	json_builder_set_member_name(b, "undeliverable");
	json_builder_begin_array(b);
	if (bounced != NULL) {
		g_auto(GStrv) addrs = g_strsplit(bounced, ";", 0);

		for (char **a = addrs; *a != NULL; a++)
			if (**a)
				json_builder_add_string_value(b, *a);
	}
	json_builder_end_array(b);
	json_builder_set_member_name(b, "items");
	json_builder_begin_array(b);
	for (unsigned i = 0; i < items->len; i++)
		office_item_json(b, g_ptr_array_index(items, i));
	json_builder_end_array(b);
	office_too_large_json(b, cfg, notes);
	json_builder_end_object(b);
	office_json_out(b, out);
	return true;
}
