/*
 * test_manual.c - the pure part of intakectl add/receive/withdraw: dates
 * as the office types them, who is at the keyboard, the note kept with an
 * item, units by name or alias, and the unit-dependent decisions on
 * added files (numbers, duplicates, the limit, lateness, captions)
 */
#include "manual.h"
#include "t.h"

#define NOW 1665540000        /* 2022-10-12T10:00:00+08:00 */
#define DEADLINE 1665417599   /* 2022-10-10T23:59:59+08:00 */

static const struct time_case {
	const char *text;
	bool ok;
	int64_t want;
} time_cases[] = {
	{"2022-10-09", true, 1665244800},
	{" 2022-10-09 ", true, 1665244800},
	{"2022-10-09 15:00", true, 1665298800},
	{"2022-10-09T15:00", true, 1665298800},
	{"2022-10-09 15:00:30", true, 1665298830},
	{"2022-10-09T15:00:30", true, 1665298830},
	{"2022-10-09T15:00:00+08:00", true, 1665298800},
	{"2022-10-09 15:00:30+00:00", true, 1665327630},
	{"2022-10-09T07:00:00Z", true, 1665298800},
	{"2022-10-12T10:04", true, 1665540240},
	{"2022-10-12T10:06", false, 0},   /* in the future */
	{"2023-01-01", false, 0},         /* in the future */
	{"2022-13-01", false, 0},
	{"2022-02-30", false, 0},
	{"2022-10-09 25:00", false, 0},
	{"2022-10-09 15:60", false, 0},
	{"2022-10-9", false, 0},
	{"2022/10/09", false, 0},
	{"yesterday", false, 0},
	{"", false, 0},
	{"2022-10-09 15", false, 0},
	{"2022-10-09x15:00", false, 0},
	{"２０２２-10-09", false, 0},
};

static void
test_parse_time(void)
{
	GTimeZone *zone = g_time_zone_new_identifier("+08:00");

	for (size_t i = 0; i < G_N_ELEMENTS(time_cases); i++) {
		const struct time_case *c = &time_cases[i];
		g_autofree char *name = g_strdup_printf("time \"%s\"", c->text);
		GError *err = NULL;
		int64_t t = 0;
		bool ok = manual_parse_time(c->text, zone, NOW, &t, &err);

		T_INTEQ(name, ok, c->ok);
		if (c->ok)
			T_INTEQ(name, t, c->want);
		else
			T_CHECK(name, err != NULL &&
				      err->code == INTAKE_ERROR_CONFIG &&
				      strstr(err->message, "\"") != NULL);
		g_clear_error(&err);
	}
	g_time_zone_unref(zone);
}

static const struct who_case {
	const char *sudo_user, *login;
	unsigned long uid;
	const char *want;
} who_cases[] = {
	{"alice", "root", 0, "alice"},
	{NULL, "bob", 1000, "bob"},
	{"", "bob", 1000, "bob"},
	{"a b", "bob", 1000, "bob"},
	{"x\ty", NULL, 7, "uid 7"},
	{NULL, NULL, 42, "uid 42"},
	{"张三", NULL, 0, "张三"},
	{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	 "root", 0, "root"},
	{"\xff\xfe", "root", 0, "root"},
};

static const struct note_case {
	const char *entered;
	int64_t link;
	const char *text;
	const char *want;
} note_cases[] = {
	{"2022-10-12 09:30", 0, NULL, "登记于 2022-10-12 09:30"},
	{"2022-10-12 09:30", 5, NULL,
	 "登记于 2022-10-12 09:30；下载自大附件链接（条目 5）"},
	{"2022-10-12 09:30", 0, "邮寄收到",
	 "登记于 2022-10-12 09:30；邮寄收到"},
	{"2022-10-12 09:30", 0, "", "登记于 2022-10-12 09:30"},
	{NULL, 0, NULL, NULL},
	{NULL, 0, "x", "x"},
	{"", 3, NULL, "下载自大附件链接（条目 3）"},
};

static void
test_who_and_note(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(who_cases); i++) {
		const struct who_case *c = &who_cases[i];
		g_autofree char *got =
			manual_who(c->sudo_user, c->login, c->uid);
		g_autofree char *name = g_strdup_printf("who %zu", i);

		T_STREQ(name, got, c->want);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(note_cases); i++) {
		const struct note_case *c = &note_cases[i];
		g_autofree char *got =
			manual_note(c->entered, c->link, c->text);
		g_autofree char *name = g_strdup_printf("note %zu", i);

		T_STREQ(name, got, c->want);
	}
}

static void
test_find_unit(void)
{
	char *fz_aliases[] = {"福州市局", "福州市市场监管局", NULL};
	char *xm_aliases[] = {"厦门市局", NULL};
	char *none[] = {NULL};
	struct unit units[] = {
		{"福州市市场监督管理局", "设区市", fz_aliases, none},
		{"厦门市市场监督管理局", "设区市", xm_aliases, none},
	};
	struct intake_config cfg = {0};
	static const struct {
		const char *name;
		int want; /* index, -1: none */
	} cases[] = {
		{"福州市市场监督管理局", 0}, {"福州市局", 0},
		{"福州市市场监管局", 0},     {"厦门市局", 1},
		{"福州", -1},                {"", -1},
		{"厦门市市场监督管理局 ", -1},
	};

	cfg.units = units;
	cfg.n_units = G_N_ELEMENTS(units);
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		const struct unit *u = manual_find_unit(&cfg, cases[i].name);
		g_autofree char *name =
			g_strdup_printf("unit \"%s\"", cases[i].name);

		T_CHECK(name, cases[i].want < 0 ? u == NULL
						: u == &units[cases[i].want]);
	}
}

/* ---- manual_decide ---- */

#define HELD_MAX 8
#define BATCH_MAX 4

struct d_item {
	enum item_type type;
	const char *name;
	const char *sha;
	bool ok;            /* accepted by content */
};

struct d_want {
	bool accepted;
	unsigned number;
	bool late;
	const char *caption;
	const char *reason; /* NULL: none */
};

static const struct decide_case {
	const char *label;
	enum late_policy policy;
	unsigned grace;
	int64_t received;
	unsigned n_held;
	struct {
		unsigned number;
		const char *sha;
	} held[HELD_MAX];
	unsigned n_items;
	struct d_item items[BATCH_MAX];
	struct d_want want[BATCH_MAX];
	unsigned accepted, refused;
} decide_cases[] = {
	{"first photo is 1", LATE_ACCEPT, 0, DEADLINE - 60, 0, {{0, NULL}},
	 1, {{ITEM_PHOTO, "IMG_0001.jpg", "a", true}},
	 {{true, 1, false, NULL, NULL}}, 1, 0},
	{"the smallest free number", LATE_ACCEPT, 0, DEADLINE - 60, 3,
	 {{1, "h1"}, {2, "h2"}, {4, "h4"}},
	 2, {{ITEM_PHOTO, "开幕式.jpg", "a", true},
	     {ITEM_PHOTO, "IMG_0002.jpg", "b", true}},
	 {{true, 3, false, "开幕式", NULL}, {true, 5, false, NULL, NULL}},
	 2, 0},
	{"duplicate of a held photo", LATE_ACCEPT, 0, DEADLINE - 60, 1,
	 {{1, "a"}},
	 1, {{ITEM_PHOTO, "IMG_0002.jpg", "a", true}},
	 {{false, 0, false, NULL,
	   "图片“IMG_0002.jpg”与已收到的图片“held.jpg”内容相同，不重复收录"}},
	 0, 0},
	{"duplicate within the batch", LATE_ACCEPT, 0, DEADLINE - 60, 0,
	 {{0, NULL}},
	 2, {{ITEM_VIDEO, "a.mp4", "v", true},
	     {ITEM_VIDEO, "b.mp4", "v", true}},
	 {{true, 0, false, NULL, NULL},
	  {false, 0, false, NULL,
	   "“b.mp4”与已收到的“a.mp4”内容相同，不重复收录"}},
	 1, 0},
	{"the photo limit", LATE_ACCEPT, 0, DEADLINE - 60, 6,
	 {{1, "h1"}, {2, "h2"}, {3, "h3"}, {4, "h4"}, {5, "h5"}, {6, "h6"}},
	 2, {{ITEM_PHOTO, "宣传活动.jpg", "a", true},
	     {ITEM_SUMMARY, "总结.pdf", "s", true}},
	 {{false, 0, false, "宣传活动",
	   "已收录 6 张图片，达到通知要求的上限 6 张，图片“宣传活动.jpg”未收录"},
	  {true, 0, false, NULL, NULL}},
	 1, 1},
	{"a freed place is taken", LATE_ACCEPT, 0, DEADLINE - 60, 5,
	 {{1, "h1"}, {2, "h2"}, {4, "h4"}, {5, "h5"}, {6, "h6"}},
	 2, {{ITEM_PHOTO, "补拍.jpg", "a", true},
	     {ITEM_PHOTO, "再补.jpg", "b", true}},
	 {{true, 3, false, "补拍", NULL},
	  {false, 0, false, "再补",
	   "已收录 6 张图片，达到通知要求的上限 6 张，图片“再补.jpg”未收录"}},
	 1, 1},
	{"late, accepted and flagged", LATE_ACCEPT, 0, DEADLINE + 1, 0,
	 {{0, NULL}},
	 1, {{ITEM_SUMMARY, "总结.pdf", "s", true}},
	 {{true, 0, true, NULL, NULL}}, 1, 0},
	{"at the deadline is in time", LATE_REFUSE, 0, DEADLINE, 0,
	 {{0, NULL}},
	 1, {{ITEM_SUMMARY, "总结.pdf", "s", true}},
	 {{true, 0, false, NULL, NULL}}, 1, 0},
	{"within the grace", LATE_REFUSE, 3600, DEADLINE + 3600, 0,
	 {{0, NULL}},
	 1, {{ITEM_SUMMARY, "总结.pdf", "s", true}},
	 {{true, 0, false, NULL, NULL}}, 1, 0},
	{"late, refused", LATE_REFUSE, 0, DEADLINE + 1, 0, {{0, NULL}},
	 2, {{ITEM_PHOTO, "现场.jpg", "a", true},
	     {ITEM_PHOTO, "IMG_9.jpg", "b", false}},
	 {{false, 0, false, "现场",
	   "附件“现场.jpg”于截止时间 2022-10-10 23:59 之后收到，未收录"},
	  {false, 0, false, NULL, "content"}},
	 0, 2},
	{"refused by content takes no number", LATE_ACCEPT, 0, DEADLINE - 60,
	 0, {{0, NULL}},
	 2, {{ITEM_PHOTO, "小图.jpg", "a", false},
	     {ITEM_PHOTO, "大图.jpg", "b", true}},
	 {{false, 0, false, "小图", "content"},
	  {true, 1, false, "大图", NULL}},
	 1, 1},
	{"a refused twin is no duplicate", LATE_ACCEPT, 0, DEADLINE - 60, 0,
	 {{0, NULL}},
	 2, {{ITEM_OTHER, "a.exe", "x", false},
	     {ITEM_SUMMARY, "a.txt", "x", true}},
	 {{false, 0, false, NULL, "content"}, {true, 0, false, NULL, NULL}},
	 1, 1},
};

static void
test_decide(void)
{
	struct intake_config cfg = {0};

	config_rules_defaults(&cfg.rules);
	cfg.deadline =
		g_date_time_new_from_iso8601("2022-10-10T23:59:59+08:00", NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(decide_cases); i++) {
		const struct decide_case *c = &decide_cases[i];
		g_autoptr(GPtrArray) held = g_ptr_array_new_with_free_func(
			(GDestroyNotify)store_item_free);
		g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func(
			(GDestroyNotify)check_item_free);
		unsigned accepted = 99, refused = 99;
		char name[160];

		cfg.late_policy = c->policy;
		cfg.grace_seconds = c->grace;
		for (unsigned k = 0; k < c->n_held; k++) {
			struct store_item *it = g_new0(struct store_item, 1);

			it->type = ITEM_PHOTO;
			it->name = g_strdup("held.jpg");
			it->sha256 = g_strdup(c->held[k].sha);
			it->number = c->held[k].number;
			it->accepted = true;
			g_ptr_array_add(held, it);
		}
		for (unsigned k = 0; k < c->n_items; k++) {
			struct check_item *ci = g_new0(struct check_item, 1);

			ci->it.type = c->items[k].type;
			ci->it.name = g_strdup(c->items[k].name);
			ci->it.sha256 = g_strdup(c->items[k].sha);
			ci->it.accepted = c->items[k].ok;
			if (!c->items[k].ok)
				ci->it.reason = g_strdup("content");
			g_ptr_array_add(items, ci);
		}
		manual_decide(&cfg, held, items, c->received, &accepted,
			      &refused);
		for (unsigned k = 0; k < c->n_items; k++) {
			const struct check_item *ci =
				g_ptr_array_index(items, k);
			const struct d_want *w = &c->want[k];

			g_snprintf(name, sizeof(name), "decide %s: %u accepted",
				   c->label, k);
			T_INTEQ(name, ci->it.accepted, w->accepted);
			g_snprintf(name, sizeof(name), "decide %s: %u number",
				   c->label, k);
			T_INTEQ(name, ci->it.number, w->number);
			g_snprintf(name, sizeof(name), "decide %s: %u late",
				   c->label, k);
			T_INTEQ(name, ci->it.late, w->late);
			g_snprintf(name, sizeof(name), "decide %s: %u caption",
				   c->label, k);
			T_STREQ(name, ci->it.caption, w->caption);
			g_snprintf(name, sizeof(name), "decide %s: %u reason",
				   c->label, k);
			T_STREQ(name, ci->it.reason, w->reason);
			g_snprintf(name, sizeof(name), "decide %s: %u received",
				   c->label, k);
			T_INTEQ(name, ci->it.received, c->received);
		}
		g_snprintf(name, sizeof(name), "decide %s: counts", c->label);
		T_CHECK(name, accepted == c->accepted && refused == c->refused);
	}
	g_date_time_unref(cfg.deadline);
}

int
main(void)
{
	test_parse_time();
	test_who_and_note();
	test_find_unit();
	test_decide();
	return t_done();
}
