/*
 * test_remind.c - reminders' pure parts: who gets one, what "today"
 * means in the campaign's zone, the digest's subject and body
 */
#include "remind.h"
#include "t.h"

static const struct rcpt_case {
	const char *label;
	const char *registered[4];
	const char *learned[4];
	const char *undeliverable;
	const char *own;
	unsigned max;
	const char *want; /* joined with ' ' */
} rcpt_cases[] = {
	{"registered then learned", {"fz@fuzhou.gov.cn", NULL},
	 {"someone@qq.com", NULL}, NULL, NULL, 10,
	 "fz@fuzhou.gov.cn someone@qq.com"},
	{"lower-cased once", {"FZ@Fuzhou.gov.cn", NULL},
	 {"fz@fuzhou.gov.cn", "Someone@QQ.com", "someone@qq.com"}, NULL, NULL,
	 10, "fz@fuzhou.gov.cn someone@qq.com"},
	{"undeliverable dropped", {"a@x.cn", "b@y.cn", NULL}, {"c@z.cn", NULL},
	 "B@y.cn; d@w.cn", NULL, 10, "a@x.cn c@z.cn"},
	{"own address dropped", {"a@x.cn", NULL}, {"7263441@qq.com", NULL},
	 NULL, "7263441@QQ.com", 10, "a@x.cn"},
	{"unusable dropped", {"not an address", "a@x.cn", NULL},
	 {"b@", "c@z.cn\r\nBcc: e@v.cn", NULL}, NULL, NULL, 10, "a@x.cn"},
	{"bounded", {"a@x.cn", "b@x.cn", "c@x.cn", NULL}, {"d@x.cn", NULL},
	 NULL, NULL, 2, "a@x.cn b@x.cn"},
	{"nothing", {NULL}, {NULL}, NULL, NULL, 10, ""},
	{"all undeliverable", {"a@x.cn", NULL}, {NULL}, "a@x.cn", NULL, 10,
	 ""},
};

static void
test_recipients(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(rcpt_cases); i++) {
		const struct rcpt_case *c = &rcpt_cases[i];
		GPtrArray *learned = g_ptr_array_new();
		GPtrArray *got;
		GString *s = g_string_new(NULL);
		char name[80];

		for (size_t k = 0; c->learned[k] != NULL; k++)
			g_ptr_array_add(learned, (char *)c->learned[k]);
		got = remind_recipients(c->registered, learned,
					c->undeliverable, c->own, c->max);
		for (unsigned k = 0; k < got->len; k++) {
			const char *a = g_ptr_array_index(got, k);

			g_string_append_printf(s, "%s%s", k ? " " : "", a);
		}
		g_snprintf(name, sizeof(name), "rcpt.%s", c->label);
		T_STREQ(name, s->str, c->want);
		g_string_free(s, TRUE);
		g_ptr_array_unref(got);
		g_ptr_array_unref(learned);
	}
	{
		GPtrArray *got = remind_recipients(NULL, NULL, NULL, NULL, 10);

		T_INTEQ("rcpt.null_lists", got->len, 0);
		g_ptr_array_unref(got);
	}
}

static const struct day_case {
	const char *label;
	int64_t a, b;
	bool same;
} day_cases[] = {
	/* 1664380740 = 2022-09-28 23:59 +08:00 */
	{"same minute", 1664380740, 1664380740, true},
	{"across local midnight", 1664380740, 1664380860, false},
	{"same local day, different UTC days", 1664294460, 1664380740, true},
	{"a day apart", 1664330000, 1664330000 + 86400, false},
	{"a year apart", 1664330000, 1664330000 + 365 * 86400, false},
};

static void
test_same_day(void)
{
	GTimeZone *tz = g_time_zone_new_identifier("+08:00");

	for (size_t i = 0; i < G_N_ELEMENTS(day_cases); i++) {
		char name[80];

		g_snprintf(name, sizeof(name), "day.%s", day_cases[i].label);
		T_CHECK(name, remind_same_day(tz, day_cases[i].a,
					      day_cases[i].b) ==
				      day_cases[i].same);
	}
	g_time_zone_unref(tz);
}

static const struct remind_digest_unit digest_units[] = {
	{"福州市市场监督管理局", UNIT_COMPLETE, 0, 0, false},
	{"漳州市市场监督管理局", UNIT_INCOMPLETE,
	 MISSING_SUMMARY | MISSING_CAPTIONS, 2, false},
	{"莆田市市场监督管理局", UNIT_INCOMPLETE, MISSING_PHOTOS, 0, true},
	{"平潭综合实验区市场监督管理局", UNIT_MISSING,
	 MISSING_SUMMARY | MISSING_PHOTOS, 0, false},
};

static const struct digest_case {
	const char *label;
	struct store_office_counts counts;
	unsigned reminded;
	const char *has[6];
	const char *lacks[3];
} digest_cases[] = {
	{"quiet day", {0}, 0,
	 {"共 4 个单位：已齐全 1，不完整 2，未报送 1。",
	  "截止时间：2022-10-10 23:59",
	  "  漳州市市场监督管理局：仍缺活动总结、图片说明（2 张）\n",
	  "  莆田市市场监督管理局：仍缺图片（有逾期材料）\n",
	  "未报送（1）：\n  平潭综合实验区市场监督管理局\n",
	  "过去 24 小时收到邮件 0 封"},
	 {"需要处理", "今日已向", NULL}},
	{"work to do", {.unidentified = 2, .failed_replies = 1,
			.links_expiring = 3, .received_since = 5},
	 3,
	 {"需要处理：", "待确定单位的邮件 2 封", "未能发出的回复或提醒 1 封",
	  "大附件链接 3 个", "今日已向 3 个单位发送提醒。",
	  "过去 24 小时收到邮件 5 封"},
	 {"处理失败的邮件", "尚未处理的邮件", NULL}},
	{"only a message too large", {.too_large = 1}, 0,
	 {"需要处理：", "超过大小上限、未下载的邮件 1 封", NULL},
	 {"处理失败的邮件", "大附件链接", NULL}},
};

static void
test_digest(void)
{
	struct remind_digest dg = {0};
	char *subject;

	dg.campaign = "2022年“质量月”活动";
	dg.date = "2022-09-30";
	dg.deadline = "2022-10-10 23:59";
	dg.units = digest_units;
	dg.n_units = G_N_ELEMENTS(digest_units);
	subject = remind_digest_subject(&dg);
	T_STREQ("digest.subject", subject,
		"【日报】2022年“质量月”活动报送情况 2022-09-30："
		"已齐全 1，不完整 2，未报送 1");
	g_free(subject);
	for (size_t i = 0; i < G_N_ELEMENTS(digest_cases); i++) {
		const struct digest_case *c = &digest_cases[i];
		char *body;

		dg.counts = c->counts;
		dg.reminded = c->reminded;
		body = remind_digest_body(&dg);
		for (size_t k = 0; k < G_N_ELEMENTS(c->has) && c->has[k]; k++) {
			char name[160];

			g_snprintf(name, sizeof(name), "digest.%s.has.%zu",
				   c->label, k);
			T_CHECK(name, strstr(body, c->has[k]) != NULL);
		}
		for (size_t k = 0; c->lacks[k] != NULL; k++) {
			char name[160];

			g_snprintf(name, sizeof(name), "digest.%s.lacks.%zu",
				   c->label, k);
			T_CHECK(name, strstr(body, c->lacks[k]) == NULL);
		}
		T_CHECK("digest.utf8", g_utf8_validate(body, -1, NULL));
		g_free(body);
	}
	/* the order: incomplete first, then missing, then complete */
	{
		char *body = remind_digest_body(&dg);
		const char *a = strstr(body, "不完整（2）");
		const char *b = strstr(body, "未报送（1）");
		const char *c = strstr(body, "已齐全（1）");

		T_CHECK("digest.order", a && b && c && a < b && b < c);
		g_free(body);
	}
}

int
main(void)
{
	test_recipients();
	test_same_day();
	test_digest();
	return t_done();
}
