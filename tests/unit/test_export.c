/*
 * test_export.c - the export's pure parts: CSV quoting (formulas
 * defused), the item table's cells, file names in the export, unique
 * names, the order of items, safe source paths, times
 */
#include <stdlib.h>

#include "export.h"
#include "t.h"

static const struct csv_case {
	const char *label;
	const char *value;
	bool numeric;
	const char *want;
} csv_cases[] = {
	{"plain", "活动总结.pdf", false, "活动总结.pdf"},
	{"empty", "", false, ""},
	{"null", NULL, false, ""},
	{"comma", "a,b", false, "\"a,b\""},
	{"quote", "say \"hi\"", false, "\"say \"\"hi\"\"\""},
	{"newline", "a\nb", false, "\"a\nb\""},
	{"cr", "a\rb", false, "\"a\rb\""},
	{"formula =", "=1+2", false, "\"'=1+2\""},
	{"formula +", "+86 591", false, "\"'+86 591\""},
	{"formula -", "-5", false, "\"'-5\""},
	{"formula @", "@SUM(A1)", false, "\"'@SUM(A1)\""},
	{"formula tab", "\tx", false, "\"'\tx\""},
	{"formula with quote", "=\"x\"", false, "\"'=\"\"x\"\"\""},
	{"number", "12345", true, "12345"},
	{"negative number", "-5", true, "-5"},
	{"equals inside", "a=b", false, "a=b"},
};

static void
test_csv(void)
{
	char *cells[3] = {"a", "1", "b,c"};
	const bool numeric[3] = {false, true, false};
	GString *out = g_string_new(NULL);

	for (size_t i = 0; i < G_N_ELEMENTS(csv_cases); i++) {
		const struct csv_case *c = &csv_cases[i];
		char name[80];

		g_string_truncate(out, 0);
		export_csv_field(out, c->value, c->numeric);
		g_snprintf(name, sizeof(name), "csv.%s", c->label);
		T_STREQ(name, out->str, c->want);
	}
	g_string_truncate(out, 0);
	export_csv_record(out, cells, numeric, 3);
	T_STREQ("csv.record", out->str, "a,1,\"b,c\"\r\n");
	g_string_truncate(out, 0);
	export_csv_record(out, cells, NULL, 2);
	T_STREQ("csv.record_no_numeric", out->str, "a,1\r\n");
	g_string_free(out, TRUE);
}

static const struct name_case {
	const char *label;
	enum item_type type;
	unsigned number;
	const char *caption, *path, *name;
	const char *want;
} name_cases[] = {
	{"photo captioned", ITEM_PHOTO, 1, "质量月启动仪式",
	 "units/u/图片/01-质量月启动仪式.jpg", "IMG_1.jpg",
	 "01-质量月启动仪式.jpg"},
	{"photo uncaptioned", ITEM_PHOTO, 2, NULL, "units/u/图片/02.jpg",
	 "IMG_2.jpg", "02.jpg"},
	{"photo empty caption", ITEM_PHOTO, 3, "", NULL, "IMG_3.jpg",
	 "03.jpg"},
	{"photo caption with a slash", ITEM_PHOTO, 4, "宣传/咨询<现场>", NULL,
	 "x.jpg", "04-宣传咨询_现场_.jpg"},
	{"photo caption with a newline", ITEM_PHOTO, 5, "第一行\n第二行", NULL,
	 "x.jpg", "05-第一行 第二行.jpg"},
	{"photo number 12", ITEM_PHOTO, 12, "x", NULL, "x.jpg", "12-x.jpg"},
	{"photo without number", ITEM_PHOTO, 0, "x", "units/u/图片/a.jpg",
	 "a.jpg", "a.jpg"},
	{"summary filed", ITEM_SUMMARY, 0, NULL, "units/u/总结/活动总结.pdf",
	 "活动总结.pdf", "活动总结.pdf"},
	{"summary renamed when filed", ITEM_SUMMARY, 0, NULL,
	 "units/u/总结/总结-7-2.pdf", "总结.pdf", "总结-7-2.pdf"},
	{"paper summary", ITEM_SUMMARY, 0, NULL, NULL, "纸质总结",
	 "纸质总结"},
	{"name with a path", ITEM_VIDEO, 0, NULL, NULL, "../../etc/passwd",
	 "etcpasswd"},
	{"reserved name", ITEM_VIDEO, 0, NULL, NULL, "CON.mp4", "_CON.mp4"},
};

static void
test_file_names(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(name_cases); i++) {
		const struct name_case *c = &name_cases[i];
		struct store_item it = {0};
		char name[80];
		char *got;

		it.type = c->type;
		it.number = c->number;
		it.caption = (char *)c->caption;
		it.path = (char *)c->path;
		it.name = (char *)c->name;
		got = export_file_name(&it);
		g_snprintf(name, sizeof(name), "name.%s", c->label);
		T_STREQ(name, got, c->want);
		g_free(got);
	}
}

static void
test_unique(void)
{
	static const struct {
		const char *name, *want;
	} seq[] = {
		{"a.pdf", "a.pdf"},     {"a.pdf", "a-2.pdf"},
		{"a.pdf", "a-3.pdf"},   {"a-2.pdf", "a-2-2.pdf"},
		{"b", "b"},             {"b", "b-2"},
		{"01-说明.jpg", "01-说明.jpg"},
		{"01-说明.jpg", "01-说明-2.jpg"},
	};
	GHashTable *used =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	char *got;
	unsigned n;

	for (size_t i = 0; i < G_N_ELEMENTS(seq); i++) {
		char name[80];

		got = export_unique_name(used, seq[i].name);
		g_snprintf(name, sizeof(name), "unique.%zu.%s", i,
			   seq[i].name);
		T_STREQ(name, got, seq[i].want);
		g_free(got);
	}
	/* bounded: the 1000th copy of a name has no place */
	for (n = 0; n < 1000; n++) {
		got = export_unique_name(used, "c.jpg");
		if (got == NULL)
			break;
		g_free(got);
	}
	T_INTEQ("unique.bounded", n, 999);
	g_hash_table_unref(used);
}

static const struct cells_case {
	const char *label;
	struct store_item it;
	const char *file;
	/* column: want */
	struct {
		unsigned col;
		const char *want;
	} want[8];
} cells_cases[] = {
	{"accepted photo",
	 {.id = 9, .message = 7, .name = "IMG_1.jpg", .type = ITEM_PHOTO,
	  .accepted = true, .size = 12345, .width = 1024, .height = 768,
	  .caption = "启动仪式", .number = 1, .late = true, .origin = "mail",
	  .state = ITEM_ACTIVE},
	 "u/图片/01-启动仪式.jpg",
	 {{3, "图片"}, {5, "u/图片/01-启动仪式.jpg"}, {6, "启动仪式"},
	  {7, "已收录"}, {9, "1024×768"}, {11, "12345"}, {13, "逾期"},
	  {15, "7"}}},
	{"refused photo",
	 {.id = 10, .message = 7, .name = "小图.jpg", .type = ITEM_PHOTO,
	  .accepted = false, .reason = "分辨率为 800×600", .width = 800,
	  .height = 600, .origin = "mail", .state = ITEM_ACTIVE},
	 NULL,
	 {{5, ""}, {7, "未收录"}, {8, "分辨率为 800×600"}, {13, ""},
	  {14, "邮件"}, {16, "10"}}},
	{"accepted with a reason kept",
	 {.id = 11, .name = "a.pdf", .type = ITEM_SUMMARY, .accepted = true,
	  .reason = "x", .origin = "manual", .state = ITEM_ACTIVE},
	 NULL, {{8, ""}, {14, "手工补录"}, {15, ""}}},
	{"paper summary",
	 {.id = 12, .name = "纸质总结", .type = ITEM_SUMMARY,
	  .accepted = true, .origin = "paper", .note = "9月30日收到",
	  .state = ITEM_ACTIVE},
	 NULL, {{3, "总结（纸质）"}, {14, "纸质"}, {18, "9月30日收到"},
		{11, ""}}},
	{"video",
	 {.id = 13, .name = "v.mp4", .type = ITEM_VIDEO, .accepted = true,
	  .width = 1280, .height = 720, .duration = 12.345, .size = 1,
	  .origin = "mail", .state = ITEM_ACTIVE},
	 NULL, {{3, "视频"}, {9, "1280×720"}, {10, "12.3"}}},
	{"link",
	 {.id = 14, .name = "大视频.mp4", .type = ITEM_LINK, .accepted = true,
	  .url = "https://mail.qq.com/cgi-bin/ftnExs_download?k=1",
	  .origin = "mail", .state = ITEM_ACTIVE},
	 NULL,
	 {{3, "大附件链接"}, {7, "已登记，待下载"},
	  {17, "https://mail.qq.com/cgi-bin/ftnExs_download?k=1"}}},
	{"replaced",
	 {.id = 15, .name = "旧.jpg", .type = ITEM_PHOTO, .accepted = true,
	  .origin = "mail", .state = ITEM_REPLACED},
	 NULL, {{7, "已被更正替换"}}},
	{"withdrawn",
	 {.id = 16, .name = "错.jpg", .type = ITEM_PHOTO, .accepted = true,
	  .origin = "mail", .state = ITEM_WITHDRAWN},
	 NULL, {{7, "已撤回"}}},
	{"duplicate",
	 {.id = 17, .name = "again.jpg", .type = ITEM_PHOTO,
	  .accepted = false, .reason = "重复", .origin = "duplicate",
	  .state = ITEM_ACTIVE},
	 NULL, {{14, "邮件（重复）"}, {8, "重复"}}},
	{"controls cleaned",
	 {.id = 18, .name = "a\x01" "b\r\nc.pdf", .type = ITEM_SUMMARY,
	  .accepted = true, .origin = "mail", .state = ITEM_ACTIVE},
	 NULL, {{4, "a b c.pdf"}}},
};

static void
test_cells(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(cells_cases); i++) {
		const struct cells_case *c = &cells_cases[i];
		struct export_row row = {"单位甲", "设区市", "不完整", &c->it,
					 c->file, "2022-09-28 09:53"};
		char *cells[EXPORT_COLUMNS];

		export_row_cells(&row, cells);
		for (size_t k = 0; k < G_N_ELEMENTS(c->want); k++) {
			char name[120];

			if (c->want[k].want == NULL)
				break;
			g_snprintf(name, sizeof(name), "cells.%s.%s", c->label,
				   export_column_title(c->want[k].col));
			T_STREQ(name, cells[c->want[k].col], c->want[k].want);
		}
		for (unsigned k = 0; k < EXPORT_COLUMNS; k++)
			g_free(cells[k]);
	}
	{
		struct export_row row = {"单位乙", NULL, "未报送", NULL, NULL,
					 NULL};
		char *cells[EXPORT_COLUMNS];
		unsigned empty = 0;

		export_row_cells(&row, cells);
		T_STREQ("cells.no_items.unit", cells[0], "单位乙");
		T_STREQ("cells.no_items.category", cells[1], "");
		T_STREQ("cells.no_items.status", cells[2], "未报送");
		for (unsigned k = 3; k < EXPORT_COLUMNS; k++)
			empty += cells[k][0] == '\0';
		T_INTEQ("cells.no_items.empty", empty, EXPORT_COLUMNS - 3);
		for (unsigned k = 0; k < EXPORT_COLUMNS; k++)
			g_free(cells[k]);
	}
	T_STREQ("columns.first", export_column_title(0), "单位");
	T_CHECK("columns.out_of_range",
		export_column_title(EXPORT_COLUMNS) == NULL);
	T_CHECK("columns.size_numeric", export_column_numeric(11));
	T_CHECK("columns.name_text", !export_column_numeric(4));
}

static void
test_order(void)
{
	/* id, type, accepted, state, number: shuffled */
	static const struct {
		int64_t id;
		enum item_type type;
		bool accepted;
		enum item_state state;
		unsigned number;
	} items[] = {
		{1, ITEM_PHOTO, false, ITEM_ACTIVE, 0},
		{2, ITEM_PHOTO, true, ITEM_ACTIVE, 2},
		{3, ITEM_VIDEO, true, ITEM_ACTIVE, 0},
		{4, ITEM_SUMMARY, true, ITEM_REPLACED, 0},
		{5, ITEM_PHOTO, true, ITEM_ACTIVE, 1},
		{6, ITEM_LINK, true, ITEM_ACTIVE, 0},
		{7, ITEM_SUMMARY, true, ITEM_ACTIVE, 0},
		{8, ITEM_OTHER, false, ITEM_ACTIVE, 0},
	};
	static const int64_t want[] = {7, 5, 2, 3, 6, 1, 4, 8};
	struct store_item its[G_N_ELEMENTS(items)];
	GPtrArray *arr = g_ptr_array_new();
	GString *got = g_string_new(NULL), *exp = g_string_new(NULL);

	memset(its, 0, sizeof(its));
	for (size_t i = 0; i < G_N_ELEMENTS(items); i++) {
		its[i].id = items[i].id;
		its[i].type = items[i].type;
		its[i].accepted = items[i].accepted;
		its[i].state = items[i].state;
		its[i].number = items[i].number;
		g_ptr_array_add(arr, &its[i]);
	}
	g_ptr_array_sort(arr, export_item_cmp);
	for (unsigned i = 0; i < arr->len; i++) {
		const struct store_item *it = g_ptr_array_index(arr, i);

		g_string_append_printf(got, "%" G_GINT64_FORMAT " ", it->id);
		g_string_append_printf(exp, "%" G_GINT64_FORMAT " ", want[i]);
	}
	T_STREQ("order", got->str, exp->str);
	g_string_free(got, TRUE);
	g_string_free(exp, TRUE);
	g_ptr_array_unref(arr);
}

static void
test_source(void)
{
	static const struct {
		const char *rel, *want;
	} cases[] = {
		{"units/u/图片/01.jpg", "/s/units/u/图片/01.jpg"},
		{"../etc/passwd", NULL},
		{"units/../../x", NULL},
		{"/etc/passwd", NULL},
		{"units//x", NULL},
		{"units/./x", NULL},
		{"", NULL},
		{NULL, NULL},
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		char name[80];
		char *got = export_item_source("/s", cases[i].rel);

		g_snprintf(name, sizeof(name), "source.%zu.%s", i,
			   cases[i].rel ? cases[i].rel : "(null)");
		T_STREQ(name, got, cases[i].want);
		g_free(got);
	}
}

static void
test_time(void)
{
	struct intake_config cfg = {0};
	GTimeZone *tz = g_time_zone_new_identifier("+08:00");
	char *s;

	cfg.deadline = g_date_time_new(tz, 2022, 10, 10, 23, 59, 59);
	s = export_time_text(&cfg, 1664330000);
	T_STREQ("time.campaign_zone", s, "2022-09-28 09:53");
	g_free(s);
	s = export_time_text(&cfg, 0);
	T_STREQ("time.zero", s, "");
	g_free(s);
	g_date_time_unref(cfg.deadline);
	g_time_zone_unref(tz);
	T_STREQ("label.complete", export_status_label(UNIT_COMPLETE), "已齐全");
	T_STREQ("label.missing", export_status_label(UNIT_MISSING), "未报送");
	T_STREQ("label.origin_null", export_origin_label(NULL), "邮件");
	T_STREQ("label.origin_paper", export_origin_label("paper"), "纸质");
	T_STREQ("label.type_other", export_type_label(ITEM_OTHER), "其他");
}

int
main(void)
{
	test_csv();
	test_file_names();
	test_unique();
	test_cells();
	test_order();
	test_source();
	test_time();
	return t_done();
}
