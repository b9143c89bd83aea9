/*
 * test_decide.c - the names items take in a unit's folder, and what
 * decide_items() records of a duplicate (its other rules are tested
 * through manual_decide() by test_manual.c)
 */
#include "decide.h"
#include "t.h"

#define UNIT "福州市市场监督管理局"
#define DIR "units/" UNIT

static const struct photo_name_case {
	unsigned number;
	const char *caption;
	const char *want;
} photo_name_cases[] = {
	{1, NULL, "01.jpg"},
	{2, "", "02.jpg"},
	{3, "开幕式现场", "03-开幕式现场.jpg"},
	{12, "x", "12-x.jpg"},
	{100, "百", "100-百.jpg"},
};

static const struct plain_name_case {
	const char *label;
	const char *held_path;     /* NULL: nothing held */
	const char *earlier_path;  /* an earlier item of the batch, or NULL */
	enum item_type type;
	const char *name;
	const char *want;
} plain_name_cases[] = {
	{"free", NULL, NULL, ITEM_SUMMARY, "总结.pdf", "总结.pdf"},
	{"held by another", DIR "/总结/总结.pdf", NULL, ITEM_SUMMARY,
	 "总结.pdf", "总结-7-2.pdf"},
	{"taken earlier in the batch", NULL, DIR "/视频/a.mp4", ITEM_VIDEO,
	 "a.mp4", "a-7-2.mp4"},
	{"same name, other folder", DIR "/视频/总结.pdf", NULL, ITEM_SUMMARY,
	 "总结.pdf", "总结.pdf"},
	{"no extension", DIR "/总结/总结", NULL, ITEM_SUMMARY, "总结",
	 "总结-7-2"},
	{"sanitised before compared", DIR "/总结/_CON.pdf", NULL, ITEM_SUMMARY,
	 "CON.pdf", "_CON-7-2.pdf"},
};

static struct check_item *
item(enum item_type type, const char *name, const char *path,
     const char *sha, bool accepted)
{
	struct check_item *ci = g_new0(struct check_item, 1);

	ci->it.type = type;
	ci->it.name = g_strdup(name);
	ci->it.path = g_strdup(path);
	ci->it.sha256 = g_strdup(sha);
	ci->it.accepted = accepted;
	return ci;
}

static void
test_names(void)
{
	char label[160];

	for (size_t i = 0; i < G_N_ELEMENTS(photo_name_cases); i++) {
		const struct photo_name_case *c = &photo_name_cases[i];
		g_autofree char *got =
			decide_photo_name(c->number, c->caption);

		g_snprintf(label, sizeof(label), "photo name %s", c->want);
		T_STREQ(label, got, c->want);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(plain_name_cases); i++) {
		const struct plain_name_case *c = &plain_name_cases[i];
		g_autoptr(GPtrArray) held = g_ptr_array_new_with_free_func(
			(GDestroyNotify)store_item_free);
		g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func(
			(GDestroyNotify)check_item_free);
		g_autofree char *got = NULL;

		if (c->held_path != NULL) {
			struct store_item *it = g_new0(struct store_item, 1);

			it->type = c->type;
			it->path = g_strdup(c->held_path);
			g_ptr_array_add(held, it);
		}
		g_ptr_array_add(items, item(c->type, "earlier", c->earlier_path,
					    "e", true));
		g_ptr_array_add(items, item(c->type, c->name, NULL, "n", true));
		got = decide_plain_name(UNIT, held, items, 1, "-7-2");
		g_snprintf(label, sizeof(label), "plain name %s", c->label);
		T_STREQ(label, got, c->want);
	}
}

/* A duplicate is refused, takes no number, is not late and not counted;
 * its origin says why. */
static void
test_duplicate(void)
{
	struct intake_config cfg = {0};
	g_autoptr(GPtrArray) held = g_ptr_array_new_with_free_func(
		(GDestroyNotify)store_item_free);
	g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func(
		(GDestroyNotify)check_item_free);
	struct store_item *h = g_new0(struct store_item, 1);
	const struct check_item *dup, *fresh;
	unsigned accepted = 99, refused = 99;

	config_rules_defaults(&cfg.rules);
	cfg.deadline =
		g_date_time_new_from_iso8601("2022-10-10T23:59:59+08:00", NULL);
	h->type = ITEM_PHOTO;
	h->name = g_strdup("held.jpg");
	h->sha256 = g_strdup("same");
	h->number = 1;
	g_ptr_array_add(held, h);
	g_ptr_array_add(items, item(ITEM_PHOTO, "again.jpg", NULL, "same",
				    true));
	g_ptr_array_add(items, item(ITEM_PHOTO, "new.jpg", NULL, "new", true));
	/* late: the duplicate still is not */
	decide_items(&cfg, held, items, 1665417599 + 60, &accepted, &refused);
	dup = g_ptr_array_index(items, 0);
	fresh = g_ptr_array_index(items, 1);
	T_CHECK("duplicate refused", !dup->it.accepted);
	T_STREQ("duplicate origin", dup->it.origin, "duplicate");
	T_INTEQ("duplicate number", dup->it.number, 0);
	T_CHECK("duplicate not late", !dup->it.late);
	T_STREQ("duplicate reason", dup->it.reason,
		"图片“again.jpg”与已收到的图片“held.jpg”内容相同，不重复收录");
	T_CHECK("fresh accepted", fresh->it.accepted);
	T_INTEQ("fresh number", fresh->it.number, 2);
	T_CHECK("fresh late", fresh->it.late);
	T_STREQ("fresh origin", fresh->it.origin, NULL);
	T_INTEQ("accepted", accepted, 1);
	T_INTEQ("refused", refused, 0);
	g_date_time_unref(cfg.deadline);
}

int
main(void)
{
	test_names();
	test_duplicate();
	return t_done();
}
