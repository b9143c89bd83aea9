/*
 * test_report.c - the report's escaping, and a whole page from a small
 * store: tags balance, one thumbnail per photo, texts escaped, written
 * atomically
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report.h"
#include "t.h"

static const struct esc_case {
	const char *label, *in, *want;
} esc_cases[] = {
	{"plain", "质量月启动仪式", "质量月启动仪式"},
	{"markup", "<script>alert(1)</script>",
	 "&lt;script&gt;alert(1)&lt;/script&gt;"},
	{"ampersand", "A&B", "A&amp;B"},
	{"quotes", "\"x\" 'y'", "&quot;x&quot; &apos;y&apos;"},
	{"null", NULL, ""},
	{"empty", "", ""},
};

static void
test_escape(void)
{
	GString *out = g_string_new(NULL);

	for (size_t i = 0; i < G_N_ELEMENTS(esc_cases); i++) {
		char name[80];

		g_string_truncate(out, 0);
		report_escape(out, esc_cases[i].in);
		g_snprintf(name, sizeof(name), "escape.%s", esc_cases[i].label);
		T_STREQ(name, out->str, esc_cases[i].want);
	}
	g_string_free(out, TRUE);
}

/* Counts "<tag" openings and "</tag>" closings of a few containers. */
static void
check_balance(const char *page)
{
	static const char *const tags[] = {"html", "head", "body", "section",
					   "table", "tr", "td", "figure",
					   "ul", "li", "p", "h2"};

	for (size_t i = 0; i < G_N_ELEMENTS(tags); i++) {
		char open[16], close[16], name[40];
		unsigned no = 0, nc = 0;

		g_snprintf(open, sizeof(open), "<%s", tags[i]);
		g_snprintf(close, sizeof(close), "</%s>", tags[i]);
		for (const char *p = page; (p = strstr(p, open)) != NULL; p++)
			if (p[strlen(open)] == '>' || p[strlen(open)] == ' ')
				no++;
		for (const char *p = page; (p = strstr(p, close)) != NULL; p++)
			nc++;
		g_snprintf(name, sizeof(name), "page.balance.%s", tags[i]);
		T_CHECK(name, no == nc && no > 0);
	}
}

static void
add_item(struct store *st, const char *unit, const char *name,
	 enum item_type type, bool accepted, const char *caption,
	 const char *reason, unsigned number)
{
	struct store_item it = {0};
	GError *err = NULL;

	it.unit = (char *)unit;
	it.name = (char *)name;
	it.type = type;
	it.accepted = accepted;
	it.caption = (char *)caption;
	it.reason = (char *)reason;
	it.number = number;
	it.origin = (char *)"mail";
	it.received = 1664330000;
	it.width = accepted ? 1024 : 800;
	it.height = accepted ? 768 : 600;
	it.size = 1000;
	if (type == ITEM_PHOTO && accepted)
		it.path = g_strdup_printf("units/%s/图片/%02u.jpg", unit,
					  number);
	if (!store_item_add(st, &it, &err)) {
		fprintf(stderr, "store_item_add: %s\n", err->message);
		exit(1);
	}
	g_free(it.path);
}

/* A JPEG of w x h made by cjpeg (libjpeg-turbo-progs). */
static bool
make_jpeg(const char *path, unsigned w, unsigned h)
{
	g_autofree char *ppm = g_strdup_printf("%s.ppm", path);
	g_autofree char *cmd = NULL;
	FILE *f = fopen(ppm, "wb");

	if (f == NULL)
		return false;
	fprintf(f, "P6\n%u %u\n255\n", w, h);
	for (unsigned y = 0; y < h; y++)
		for (unsigned x = 0; x < w; x++) {
			fputc((int)(x & 0xff), f);
			fputc((int)(y & 0xff), f);
			fputc((int)((x + y) & 0xff), f);
		}
	fclose(f);
	cmd = g_strdup_printf("cjpeg -quality 85 -outfile '%s' '%s'", path,
			      ppm);
	if (system(cmd) != 0)
		return false;
	unlink(ppm);
	return true;
}

static void
test_page(void)
{
	g_autofree char *dir = g_dir_make_tmp("test-report-XXXXXX", NULL);
	g_autofree char *photos = NULL, *path = NULL, *page = NULL;
	g_autofree char *p1 = NULL, *p2 = NULL;
	struct intake_config cfg = {0};
	struct unit units[3] = {{0}};
	char *none[] = {NULL};
	struct report_stats stats;
	struct store *st;
	GError *err = NULL;
	gsize len = 0;
	bool ok;

	units[0].name = (char *)"甲单位";
	units[0].category = (char *)"设区市";
	units[1].name = (char *)"乙<单位>";
	for (int i = 0; i < 2; i++) {
		units[i].aliases = none;
		units[i].addresses = none;
	}
	cfg.state_dir = dir;
	cfg.campaign_name = (char *)"质量月&活动";
	cfg.units = units;
	cfg.n_units = 2;
	config_rules_defaults(&cfg.rules);
	config_limits_defaults(&cfg.limits);
	st = store_open(dir, &err);
	if (st == NULL) {
		fprintf(stderr, "store_open: %s\n", err->message);
		exit(1);
	}
	photos = g_build_filename(dir, "units", "甲单位", "图片", NULL);
	g_mkdir_with_parents(photos, 0755);
	p1 = g_build_filename(photos, "01.jpg", NULL);
	p2 = g_build_filename(photos, "02.jpg", NULL);
	T_CHECK("page.fixture", make_jpeg(p1, 1024, 768) &&
					make_jpeg(p2, 768, 1024));
	add_item(st, "甲单位", "a.jpg", ITEM_PHOTO, true, "说明<一>", NULL, 1);
	add_item(st, "甲单位", "b.jpg", ITEM_PHOTO, true, NULL, NULL, 2);
	add_item(st, "甲单位", "c.jpg", ITEM_PHOTO, false, NULL,
		 "分辨率为 800×600 & 太小", 0);
	add_item(st, "甲单位", "总结.pdf", ITEM_SUMMARY, true, NULL, NULL, 0);

	path = g_build_filename(dir, "r.html", NULL);
	ok = report_write(&cfg, st, path, NULL, &stats, &err);
	T_CHECK("page.written", ok);
	if (!ok) {
		fprintf(stderr, "report_write: %s\n", err->message);
		g_clear_error(&err);
	}
	T_INTEQ("page.units", stats.units, 2);
	T_INTEQ("page.photos", stats.photos, 2);
	T_INTEQ("page.thumbs_made", stats.thumbs_made, 2);
	T_CHECK("page.read", g_file_get_contents(path, &page, &len, NULL));
	if (page == NULL)
		page = g_strdup("");
	T_INTEQ("page.bytes", stats.bytes, len);
	{
		unsigned n = 0;

		for (const char *p = page;
		     (p = strstr(p, "<img src=\"data:image/jpeg;base64,/9j/"));
		     p++)
			n++;
		T_INTEQ("page.thumbnails", n, 2);
	}
	T_CHECK("page.escaped_caption", strstr(page, "说明&lt;一&gt;") != NULL);
	T_CHECK("page.escaped_unit", strstr(page, "乙&lt;单位&gt;") != NULL &&
					     strstr(page, "乙<单位>") == NULL);
	T_CHECK("page.escaped_campaign",
		strstr(page, "<title>质量月&amp;活动报送情况</title>") != NULL);
	T_CHECK("page.reason",
		strstr(page, "分辨率为 800×600 &amp; 太小") != NULL);
	T_CHECK("page.uncaptioned", strstr(page, "缺少文字说明") != NULL);
	T_CHECK("page.missing_unit", strstr(page, "尚未收到任何材料") != NULL);
	T_CHECK("page.ends", g_str_has_suffix(page, "</html>\n"));
	check_balance(page);

	/* again: thumbnails from the cache, the same size of page */
	ok = report_write(&cfg, st, path, NULL, &stats, &err);
	T_CHECK("again.written", ok);
	g_clear_error(&err);
	T_INTEQ("again.thumbs_made", stats.thumbs_made, 0);
	T_INTEQ("again.photos", stats.photos, 2);
	{
		GDir *d = g_dir_open(dir, 0, NULL);
		const char *n;
		unsigned temps = 0;

		while (d != NULL && (n = g_dir_read_name(d)) != NULL)
			temps += g_str_has_prefix(n, "r.html.");
		if (d != NULL)
			g_dir_close(d);
		T_INTEQ("again.no_temp_files", temps, 0);
	}
	/* a folder that does not exist: an error, nothing left behind */
	{
		g_autofree char *bad =
			g_build_filename(dir, "nope", "r.html", NULL);

		T_CHECK("bad_dir.fails",
			!report_write(&cfg, st, bad, NULL, NULL, &err) &&
				err != NULL);
		g_clear_error(&err);
	}
	store_close(st);
	{
		g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);

		T_CHECK("cleanup", system(cmd) == 0);
	}
}

int
main(void)
{
	test_escape();
	test_page();
	return t_done();
}
