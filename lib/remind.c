/*
 * remind.c - intakectl remind: reminders to units, the office's digest
 *
 * For each unit of units.conf, in order, in ONE transaction per unit
 * (BEGIN IMMEDIATE, so intaked and a second intakectl never both remind
 * a unit on the same day): last_reminded is read again, the reminders
 * are queued in the outbox, last_reminded is set, COMMIT.  intaked sends
 * the outbox.  The digest is queued the same way, after the reminders,
 * so it can say how many units were reminded.
 */
#include <string.h>
#include <time.h>

#include "export.h"
#include "remind.h"
#include "reply.h"

#define REMIND_LEARNED_MAX 20 /* senders of a unit considered */
#define REMIND_MISSING_MAX 5
#define REMIND_RULE "────────────────────────────────────────"

/*
 * Pure parts.
 */

static bool
remind_listed(const char *list, const char *addr)
{
	g_auto(GStrv) parts = NULL;

	if (list == NULL || *list == '\0')
		return false;
	parts = g_strsplit(list, ";", -1);
	for (char **p = parts; *p != NULL; p++) {
		g_autofree char *one = g_ascii_strdown(g_strstrip(*p), -1);

		if (strcmp(one, addr) == 0)
			return true;
	}
	return false;
}

static void
remind_add_rcpt(GPtrArray *out, const char *addr, const char *undeliverable,
		const char *own, unsigned max)
{
	g_autofree char *low = NULL;

	if (addr == NULL || out->len >= max)
		return;
	low = g_ascii_strdown(addr, -1);
	g_strstrip(low);
	if (!reply_address_ok(low) || remind_listed(undeliverable, low) ||
	    (own != NULL && g_ascii_strcasecmp(own, low) == 0))
		return;
	for (unsigned i = 0; i < out->len; i++)
		if (strcmp(g_ptr_array_index(out, i), low) == 0)
			return;
	g_ptr_array_add(out, g_steal_pointer(&low));
}

GPtrArray *
remind_recipients(const char *const *registered, const GPtrArray *learned,
		  const char *undeliverable, const char *own, unsigned max)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

	for (size_t i = 0; registered != NULL && registered[i] != NULL; i++)
		remind_add_rcpt(out, registered[i], undeliverable, own, max);
	for (unsigned i = 0; learned != NULL && i < learned->len; i++)
		remind_add_rcpt(out, g_ptr_array_index(learned, i),
				undeliverable, own, max);
	return out;
}

bool
remind_same_day(GTimeZone *tz, int64_t a, int64_t b)
{
	g_autoptr(GDateTime) ua = g_date_time_new_from_unix_utc(a);
	g_autoptr(GDateTime) ub = g_date_time_new_from_unix_utc(b);
	g_autoptr(GDateTime) la = NULL;
	g_autoptr(GDateTime) lb = NULL;

	if (ua == NULL || ub == NULL)
		return false;
	la = g_date_time_to_timezone(ua, tz);
	lb = g_date_time_to_timezone(ub, tz);
	return g_date_time_get_year(la) == g_date_time_get_year(lb) &&
	       g_date_time_get_day_of_year(la) ==
		       g_date_time_get_day_of_year(lb);
}

static char *
remind_lack(unsigned missing, unsigned uncaptioned)
{
	const char *labels[REMIND_MISSING_MAX];
	size_t n = rules_missing_labels(missing, labels);
	GString *out = g_string_new(NULL);

	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			g_string_append(out, "、");
		g_string_append(out, labels[i]);
		if ((missing & MISSING_CAPTIONS) != 0 && uncaptioned > 0 &&
		    strcmp(labels[i], "图片说明") == 0)
			g_string_append_printf(out, "（%u 张）", uncaptioned);
	}
	return g_string_free(out, FALSE);
}

char *
remind_digest_subject(const struct remind_digest *dg)
{
	unsigned counts[3] = {0, 0, 0};

	for (size_t i = 0; i < dg->n_units; i++)
		counts[dg->units[i].status]++;
	return g_strdup_printf("【日报】%s报送情况 %s：已齐全 %u，不完整 %u，"
			       "未报送 %u",
			       dg->campaign ? dg->campaign : "",
			       dg->date ? dg->date : "",
			       counts[UNIT_COMPLETE], counts[UNIT_INCOMPLETE],
			       counts[UNIT_MISSING]);
}

/* The units of one status, a line each. */
static void
remind_digest_group(GString *out, const struct remind_digest *dg,
		    enum unit_status s, const char *title)
{
	unsigned n = 0;

	for (size_t i = 0; i < dg->n_units; i++)
		n += dg->units[i].status == s;
	if (n == 0)
		return;
	g_string_append_printf(out, "\n%s（%u）：\n", title, n);
	for (size_t i = 0; i < dg->n_units; i++) {
		const struct remind_digest_unit *u = &dg->units[i];
		g_autofree char *lack = NULL;

		if (u->status != s)
			continue;
		g_string_append_printf(out, "  %s", u->name);
		if (s == UNIT_INCOMPLETE) {
			lack = remind_lack(u->missing, u->photos_uncaptioned);
			if (lack[0] != '\0')
				g_string_append_printf(out, "：仍缺%s", lack);
		}
		if (u->late)
			g_string_append(out, "（有逾期材料）");
		g_string_append_c(out, '\n');
	}
}

char *
remind_digest_body(const struct remind_digest *dg)
{
	const struct store_office_counts *c = &dg->counts;
	unsigned counts[3] = {0, 0, 0};
	GString *out = g_string_new(NULL);
	bool todo;

	for (size_t i = 0; i < dg->n_units; i++)
		counts[dg->units[i].status]++;
	g_string_append_printf(out, "%s报送情况日报（%s）\n",
			       dg->campaign ? dg->campaign : "",
			       dg->date ? dg->date : "");
	g_string_append_printf(out, "截止时间：%s\n\n",
			       dg->deadline ? dg->deadline : "未设定");
	g_string_append_printf(out,
			       "共 %zu 个单位：已齐全 %u，不完整 %u，"
			       "未报送 %u。\n过去 24 小时收到邮件 %u 封。\n",
			       dg->n_units, counts[UNIT_COMPLETE],
			       counts[UNIT_INCOMPLETE], counts[UNIT_MISSING],
			       c->received_since);
	if (dg->reminded > 0)
		g_string_append_printf(out, "今日已向 %u 个单位发送提醒。\n",
				       dg->reminded);
	remind_digest_group(out, dg, UNIT_INCOMPLETE, "不完整");
	remind_digest_group(out, dg, UNIT_MISSING, "未报送");
	remind_digest_group(out, dg, UNIT_COMPLETE, "已齐全");
	todo = c->unidentified || c->failed_messages || c->failed_replies ||
	       c->links_expiring || c->pending || c->too_large;
	if (todo) {
		g_string_append(out, "\n需要处理：\n");
		if (c->unidentified)
			g_string_append_printf(
				out,
				"  待确定单位的邮件 %u 封（intakectl messages "
				"--state held 查看，intakectl assign 编号 单位 "
				"归入）\n",
				c->unidentified);
		if (c->failed_messages)
			g_string_append_printf(
				out,
				"  处理失败的邮件 %u 封（intakectl messages "
				"--state failed）\n",
				c->failed_messages);
		if (c->pending)
			g_string_append_printf(out, "  尚未处理的邮件 %u 封\n",
					       c->pending);
		if (c->failed_replies)
			g_string_append_printf(
				out, "  未能发出的回复或提醒 %u 封\n",
				c->failed_replies);
		if (c->links_expiring)
			g_string_append_printf(
				out,
				"  3 天内过期、尚待下载的大附件链接 %u 个\n",
				c->links_expiring);
		if (c->too_large)
			g_string_append_printf(
				out,
				"  超过大小上限、未下载的邮件 %u 封（留在邮箱"
				"中，可回复的发件人已收到自动回复；intakectl status "
				"列出发件人和主题，需要时在邮箱中查看并用 "
				"intakectl add 登记其附件）\n",
				c->too_large);
	}
	g_string_append(out, "\n（本邮件由 intake 自动生成，请勿回复。）\n");
	return g_string_free(out, FALSE);
}

/*
 * With the store.
 */

static GTimeZone *
remind_zone(const struct intake_config *cfg)
{
	if (cfg->deadline != NULL)
		return g_time_zone_ref(g_date_time_get_timezone(cfg->deadline));
	if (cfg->start != NULL)
		return g_time_zone_ref(g_date_time_get_timezone(cfg->start));
	return g_time_zone_new_local();
}

static const char *
remind_from(const struct intake_config *cfg)
{
	return cfg->smtp_from ? cfg->smtp_from : cfg->mailbox_user;
}

static const char *
remind_from_addr(const struct intake_config *cfg)
{
	return cfg->smtp_from_addr ? cfg->smtp_from_addr : cfg->mailbox_user;
}

static char *
remind_deadline_text(const struct intake_config *cfg)
{
	if (cfg->deadline == NULL)
		return NULL;
	return g_date_time_format(cfg->deadline, "%Y年%m月%d日 %H:%M");
}

/* A mail as a person reads it (dry run). */
static void
remind_show(GString *out, const struct intake_config *cfg, const char *to,
	    const char *subject, const char *body)
{
	g_string_append_printf(out, "From: %s\nTo: %s\nSubject: %s\n\n%s",
			       remind_from(cfg), to, subject, body);
	if (body[0] != '\0' && body[strlen(body) - 1] != '\n')
		g_string_append_c(out, '\n');
	g_string_append(out, REMIND_RULE "\n");
}

/* Composes and queues one mail (in the caller's transaction). */
static bool
remind_queue(struct store *st, const struct reply_info *info,
	     const char *unit, const char *kind, const char *subject,
	     const char *body, int64_t now, GError **error)
{
	g_autofree char *rfc_id = reply_new_message_id(info->from_addr);
	g_autofree char *data = NULL;
	size_t len = 0;

	data = reply_compose(info, subject, body, rfc_id, &len, error);
	if (data == NULL)
		return false;
	return store_outbox_add(st, 0, unit, kind, rfc_id, info->to, NULL,
				data, len, now, error);
}

struct remind_job {
	const struct intake_config *cfg;
	struct store *st;
	bool dry_run;
	int64_t now;
	GTimeZone *tz;
	GString *out;
	struct remind_stats *stats;
};

/* The unit's recipients (registered, learned, less undeliverable). */
static GPtrArray *
remind_unit_rcpts(struct remind_job *job, const struct unit *u,
		  const char *undeliverable, const char *learned_col,
		  GError **error)
{
	g_autoptr(GPtrArray) learned =
		store_unit_senders(job->st, u->name, REMIND_LEARNED_MAX, error);

	if (learned == NULL)
		return NULL;
	if (learned_col != NULL) {
		g_auto(GStrv) more = g_strsplit(learned_col, ";", -1);

		for (char **p = more; *p != NULL; p++)
			if (learned->len < REMIND_LEARNED_MAX * 2)
				g_ptr_array_add(learned,
						g_strdup(g_strstrip(*p)));
	}
	return remind_recipients((const char *const *)u->addresses, learned,
				 undeliverable, remind_from_addr(job->cfg),
				 REMIND_RCPT_MAX);
}

/* One unit: inside its own transaction unless dry run. */
static bool
remind_unit(struct remind_job *job, const struct unit *u,
	    const struct dossier *d, unsigned missing, GError **error)
{
	const struct intake_config *cfg = job->cfg;
	g_autofree char *undeliverable = NULL, *learned = NULL;
	g_autofree char *subject = NULL, *body = NULL, *deadline = NULL;
	g_autoptr(GPtrArray) rcpts = NULL;
	struct reply_info info = {0};
	int64_t last = 0;
	bool in_tx = false;

	if (!job->dry_run) {
		if (!store_begin(job->st, error))
			return false;
		in_tx = true;
	}
	if (!store_unit_reminder_info(job->st, u->name, &last, &undeliverable,
				      &learned, error))
		goto fail;
	if (last != 0 && remind_same_day(job->tz, last, job->now)) {
		g_string_append_printf(job->out, "%s：今天已提醒过，跳过\n",
				       u->name);
		job->stats->today++;
		goto done;
	}
	rcpts = remind_unit_rcpts(job, u, undeliverable, learned, error);
	if (rcpts == NULL)
		goto fail;
	if (rcpts->len == 0) {
		g_string_append_printf(job->out,
				       "%s：没有可用的邮箱地址（units.conf 的 "
				       "addresses 为空或已退信），未提醒\n",
				       u->name);
		job->stats->no_address++;
		goto done;
	}
	deadline = remind_deadline_text(cfg);
	info.kind = "reminder";
	info.unit = u->name;
	info.campaign = cfg->campaign_name;
	info.deadline = deadline;
	info.dossier = *d;
	info.photo_max = cfg->rules.photo_max;
	info.missing = missing;
	info.from = remind_from(cfg);
	info.from_addr = remind_from_addr(cfg);
	info.loop_value = info.from_addr;
	info.date = job->now;
	if (!reply_render(cfg->template_dir, &info, &subject, &body, error))
		goto fail;
	for (unsigned i = 0; i < rcpts->len; i++) {
		info.to = g_ptr_array_index(rcpts, i);
		if (job->dry_run) {
			remind_show(job->out, cfg, info.to, subject, body);
		} else if (!remind_queue(job->st, &info, u->name,
					 "reminder", subject, body, job->now,
					 error)) {
			goto fail;
		}
		job->stats->mails++;
	}
	if (!job->dry_run) {
		if (!store_unit_set_reminded(job->st, u->name, job->now, error))
			goto fail;
		g_string_append_printf(job->out, "%s：已排队提醒", u->name);
		for (unsigned i = 0; i < rcpts->len; i++)
			g_string_append_printf(job->out, "%s%s",
					       i > 0 ? "、" : " ",
					       (char *)g_ptr_array_index(rcpts,
									 i));
		g_string_append_c(job->out, '\n');
	}
	job->stats->units++;
done:
	if (in_tx)
		return store_commit(job->st, error);
	return true;
fail:
	if (in_tx)
		store_rollback(job->st);
	return false;
}

/* The digest's facts, from the store. */
static bool
remind_digest_facts(const struct intake_config *cfg, struct store *st,
		    int64_t now, struct remind_digest_unit *units,
		    struct store_office_counts *counts_r, GError **error)
{
	for (size_t i = 0; i < cfg->n_units; i++) {
		struct dossier d;

		if (!store_dossier(st, cfg->units[i].name, &d, error))
			return false;
		units[i].name = cfg->units[i].name;
		units[i].status = rules_unit_status(&cfg->rules, &d,
						    &units[i].missing);
		units[i].photos_uncaptioned = d.photos_uncaptioned;
		units[i].late = d.late;
	}
	return store_office_counts(st, now - 86400, now + 3 * 86400, counts_r,
				   error);
}

/* Builds the digest and queues it (or shows it); *done_r false when one
 * was already queued today. */
static bool
remind_digest(const struct intake_config *cfg, struct store *st, int64_t now,
	      unsigned reminded, bool dry_run, GString *out, bool *done_r,
	      GError **error)
{
	g_autoptr(GTimeZone) tz = remind_zone(cfg);
	g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc(now);
	g_autoptr(GDateTime) local = NULL;
	g_autofree struct remind_digest_unit *units =
		g_new0(struct remind_digest_unit, cfg->n_units + 1);
	g_autofree char *date = NULL, *deadline = NULL;
	g_autofree char *subject = NULL, *body = NULL;
	struct remind_digest dg = {0};
	struct reply_info info = {0};
	int64_t last = 0;
	bool in_tx = false;

	*done_r = false;
	if (utc == NULL) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
			    "the time %" G_GINT64_FORMAT " is out of range",
			    now);
		return false;
	}
	local = g_date_time_to_timezone(utc, tz);
	if (!dry_run) {
		if (!store_begin(st, error))
			return false;
		in_tx = true;
	}
	if (!store_outbox_last_of_kind(st, "digest", &last, error))
		goto fail;
	if (last != 0 && remind_same_day(tz, last, now)) {
		if (in_tx)
			store_rollback(st);
		return true;
	}
	if (!remind_digest_facts(cfg, st, now, units, &dg.counts, error))
		goto fail;
	date = g_date_time_format(local, "%Y-%m-%d");
	if (cfg->deadline != NULL)
		deadline = export_time_text(cfg,
					    g_date_time_to_unix(cfg->deadline));
	dg.campaign = cfg->campaign_name;
	dg.date = date;
	dg.deadline = deadline;
	dg.units = units;
	dg.n_units = cfg->n_units;
	dg.reminded = reminded;
	subject = remind_digest_subject(&dg);
	body = remind_digest_body(&dg);
	info.kind = "digest";
	info.from = remind_from(cfg);
	info.from_addr = remind_from_addr(cfg);
	info.to = cfg->digest_to;
	info.loop_value = info.from_addr;
	info.date = now;
	if (dry_run) {
		remind_show(out, cfg, cfg->digest_to, subject, body);
	} else {
		if (!remind_queue(st, &info, NULL, "digest", subject, body,
				  now, error) ||
		    !store_commit(st, error))
			goto fail;
		g_string_append_printf(out, "日报：已排队发往 %s\n",
				       cfg->digest_to);
	}
	*done_r = true;
	return true;
fail:
	if (in_tx)
		store_rollback(st);
	return false;
}

static bool
remind_closed(const struct intake_config *cfg, int64_t now)
{
	int64_t deadline;

	if (cfg->deadline == NULL || cfg->late_policy != LATE_REFUSE)
		return false;
	deadline = g_date_time_to_unix(cfg->deadline);
	return rules_is_late(now, deadline, cfg->grace_seconds);
}

bool
remind_run(const struct intake_config *cfg, struct store *st,
	   const struct remind_opts *opts, GString *out,
	   struct remind_stats *stats_r, GError **error)
{
	struct remind_stats stats_local;
	struct remind_job job = {0};
	g_autoptr(GTimeZone) tz = remind_zone(cfg);
	bool done = false;

	job.cfg = cfg;
	job.st = st;
	job.dry_run = opts != NULL && opts->dry_run;
	job.now = opts != NULL && opts->now != 0 ? opts->now
						 : (int64_t)time(NULL);
	job.tz = tz;
	job.out = out;
	job.stats = stats_r != NULL ? stats_r : &stats_local;
	memset(job.stats, 0, sizeof(*job.stats));
	if (remind_closed(cfg, job.now)) {
		g_string_append(out, "截止时间已过，逾期材料不予收录"
				     "（late_policy = refuse）：不再提醒。\n");
	} else {
		for (size_t i = 0; i < cfg->n_units; i++) {
			const struct unit *u = &cfg->units[i];
			struct dossier d;
			unsigned missing = 0;

			if (!store_dossier(st, u->name, &d, error))
				return false;
			if (rules_unit_status(&cfg->rules, &d, &missing) ==
			    UNIT_COMPLETE) {
				job.stats->complete++;
				continue;
			}
			if (!remind_unit(&job, u, &d, missing, error))
				return false;
		}
	}
	if (cfg->digest_to == NULL)
		return true;
	if (!remind_digest(cfg, st, job.now, job.stats->units, job.dry_run,
			   out, &done, error))
		return false;
	job.stats->digest = done;
	job.stats->digest_today = !done;
	if (!done)
		g_string_append(out, "日报：今天已发送过，跳过\n");
	return true;
}

bool
remind_digest_due(const struct intake_config *cfg, struct store *st,
		  int64_t now, bool *queued_r, GError **error)
{
	g_autoptr(GTimeZone) tz = remind_zone(cfg);
	g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc(now);
	g_autoptr(GDateTime) local = NULL;
	g_autoptr(GString) sink = g_string_new(NULL);
	bool done = false;

	if (queued_r != NULL)
		*queued_r = false;
	if (cfg->digest_to == NULL || utc == NULL)
		return true;
	local = g_date_time_to_timezone(utc, tz);
	if (g_date_time_get_hour(local) < REMIND_DIGEST_HOUR)
		return true;
	if (!remind_digest(cfg, st, now, 0, false, sink, &done, error))
		return false;
	if (queued_r != NULL)
		*queued_r = done;
	return true;
}
