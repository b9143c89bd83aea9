/*
 * test_roster.c - which unit sent a message, on a units table like the
 * office's units.conf
 */
#include "config.h"
#include "roster.h"
#include "t.h"

static const struct {
	const char *name, *category, *aliases, *addresses;
} unit_specs[] = {
	/* 0 */ { "福州市市场监督管理局", "设区市", "福州市局;福州市市场监管局",
		  "fzscjgj@fuzhou.gov.cn;someone@qq.com" },
	/* 1 */ { "厦门市市场监督管理局", "设区市", "厦门市局;厦门市市场监管局",
		  "xmscjgj@xm.gov.cn" },
	/* 2 */ { "平潭综合实验区市场监督管理局", "设区市",
		  "平潭市场监管局;;平潭局", "pt@pingtan.gov.cn" },
	/* 3 */ { "省工商联", "省直有关部门", "福建省工商业联合会",
		  "fjgsl@163.com" },
	/* 4 */ { "省市场监督管理局", "省直有关部门", "省市场监管局", "" },
	/* 5 */ { "省市场监督管理局质量发展处", "省直有关部门", "质量发展处",
		  "zlfzc@fjamr.gov.cn" },
	/* 6 */ { "福建省计量科学研究院", "直属单位", "省计量院;FJJL",
		  "jly@fjjl.cn;shared@qq.com" },
	/* 7 */ { "福建省标准化研究院", "直属单位", "省标准院",
		  "shared@qq.com" },
};

static const char *const files_fuzhou[] = { "IMG_1.jpg", "福州市局总结.docx",
					    NULL };
static const char *const files_jiliang[] = { "IMG_1.jpg",
					     "省计量院质量月活动总结.docx",
					     NULL };
static const char *const files_two[] = { "福州市局总结.docx",
					 "厦门市局图片.jpg", NULL };
static const char *const files_none[] = { "IMG_1.jpg", "总结.docx", NULL };

static const struct {
	const char *label;
	const char *subject, *from, *reply_to, *body;
	const char *const *files;
	bool untrusted;
	int unit;
	enum roster_how how;
} cases[] = {
	{ "full name in subject", "福州市市场监督管理局质量月活动总结",
	  NULL, NULL, NULL, NULL, false, 0, ROSTER_SUBJECT },
	{ "alias in subject", "【福州市局】质量月材料", NULL, NULL, NULL,
	  NULL, false, 0, ROSTER_SUBJECT },
	{ "spaces in subject", "福州市 市场监督管理局 报送", NULL, NULL,
	  NULL, NULL, false, 0, ROSTER_SUBJECT },
	{ "reply subject", "回复：平潭市场监管局质量月活动情况", NULL, NULL,
	  NULL, NULL, false, 2, ROSTER_SUBJECT },
	{ "two units in subject", "厦门市市场监督管理局、福州市局联合活动",
	  NULL, NULL, NULL, NULL, false, -1, ROSTER_AMBIGUOUS },
	{ "longer name contains shorter",
	  "省市场监督管理局质量发展处活动总结", NULL, NULL, NULL, NULL,
	  false, 5, ROSTER_SUBJECT },
	{ "shorter name alone", "省市场监督管理局质量月图片", NULL, NULL,
	  NULL, NULL, false, 4, ROSTER_SUBJECT },
	{ "both, apart", "省市场监督管理局转质量发展处材料", NULL, NULL, NULL,
	  NULL, false, -1, ROSTER_AMBIGUOUS },
	{ "alias of the longer name", "质量发展处质量月活动总结", NULL, NULL,
	  NULL, NULL, false, 5, ROSTER_SUBJECT },
	{ "subject beats address", "厦门市局质量月材料",
	  "fzscjgj@fuzhou.gov.cn", NULL, NULL, NULL, false, 1,
	  ROSTER_SUBJECT },
	{ "From address", "质量月活动材料", "fjgsl@163.com", NULL, NULL, NULL,
	  false, 3, ROSTER_ADDRESS },
	{ "From address, upper case", "质量月活动材料", "FJGSL@163.COM", NULL,
	  NULL, NULL, false, 3, ROSTER_ADDRESS },
	{ "From failed DMARC", "质量月活动材料", "fjgsl@163.com", NULL, NULL,
	  NULL, true, -1, ROSTER_NONE },
	{ "Reply-To address", "质量月", "someone@163.com",
	  "xmscjgj@xm.gov.cn", NULL, NULL, false, 1, ROSTER_ADDRESS },
	{ "From and Reply-To of two units", "质量月", "fjgsl@163.com",
	  "xmscjgj@xm.gov.cn", NULL, NULL, false, -1, ROSTER_AMBIGUOUS },
	{ "shared address", "质量月活动", "shared@qq.com", NULL, NULL, NULL,
	  false, -1, ROSTER_AMBIGUOUS },
	{ "shared address, name in subject", "省标准院质量月活动",
	  "shared@qq.com", NULL, NULL, NULL, false, 7, ROSTER_SUBJECT },
	{ "address beats body", "质量月", "fzscjgj@fuzhou.gov.cn", NULL,
	  "厦门市市场监督管理局", NULL, false, 0, ROSTER_ADDRESS },
	{ "name in body", "质量月活动材料", "x@qq.com", NULL,
	  "各位领导好：\n现报送平潭综合实验区市场监督管理局质量月活动材料，"
	  "请查收。", NULL, false, 2, ROSTER_BODY },
	{ "two names in body", "质量月活动材料", NULL, NULL,
	  "福州市局和厦门市局联合开展活动", NULL, false, -1,
	  ROSTER_AMBIGUOUS },
	{ "name in a file name", "质量月活动材料", NULL, NULL, "请查收",
	  files_jiliang, false, 6, ROSTER_FILENAME },
	{ "names in two file names", "质量月", NULL, NULL, NULL, files_two,
	  false, -1, ROSTER_AMBIGUOUS },
	{ "body beats file names", "质量月", NULL, NULL, "福建省工商业联合会",
	  files_fuzhou, false, 3, ROSTER_BODY },
	{ "nothing", "质量月活动材料", "x@qq.com", NULL, "请查收",
	  files_none, false, -1, ROSTER_NONE },
	{ "empty query", NULL, NULL, NULL, NULL, NULL, false, -1,
	  ROSTER_NONE },
	{ "ASCII alias, any case", "fjjl 质量月", NULL, NULL, NULL, NULL,
	  false, 6, ROSTER_SUBJECT },
	{ "full-width alias", "ＦＪＪＬ质量月", NULL, NULL, NULL, NULL, false,
	  6, ROSTER_SUBJECT },
	{ "empty alias matches nothing", "质量月", NULL, NULL, "随便", NULL,
	  false, -1, ROSTER_NONE },
};

static struct unit *
units_new(size_t *n_r)
{
	size_t i, n = G_N_ELEMENTS(unit_specs);
	struct unit *units = g_new0(struct unit, n);

	for (i = 0; i < n; i++) {
		units[i].name = g_strdup(unit_specs[i].name);
		units[i].category = g_strdup(unit_specs[i].category);
		units[i].aliases = g_strsplit(unit_specs[i].aliases, ";", -1);
		units[i].addresses = g_strsplit(unit_specs[i].addresses, ";",
						-1);
	}
	*n_r = n;
	return units;
}

static void
units_free(struct unit *units, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		g_free(units[i].name);
		g_free(units[i].category);
		g_strfreev(units[i].aliases);
		g_strfreev(units[i].addresses);
	}
	g_free(units);
}

static void
test_cases(const struct unit *units, size_t n)
{
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct roster_query q = {
			.subject = cases[i].subject,
			.from_addr = cases[i].from,
			.reply_to = cases[i].reply_to,
			.body = cases[i].body,
			.filenames = cases[i].files,
			.trust_address = !cases[i].untrusted,
		};
		enum roster_how how = ROSTER_FILENAME;
		g_autofree char *label = g_strdup_printf("identify %s",
							 cases[i].label);
		int got = roster_identify(units, n, &q, &how);

		T_INTEQ(label, got, cases[i].unit);
		T_STREQ(label, roster_how_name(how),
			roster_how_name(cases[i].how));
	}
}

/* A long body costs linear time, even when every occurrence of a name is
 * inside a longer one. */
static void
test_long_body(const struct unit *units, size_t n)
{
	g_autoptr(GString) body = g_string_new(NULL);
	struct roster_query q = { .subject = "质量月", .trust_address = true };
	enum roster_how how;
	gint64 start;
	int got;

	while (body->len < 100 * 1024)
		g_string_append(body, "省市场监督管理局质量发展处 ");
	q.body = body->str;
	start = g_get_monotonic_time();
	got = roster_identify(units, n, &q, &how);
	T_INTEQ("long body unit", got, 5);
	T_STREQ("long body how", roster_how_name(how), "body");
	T_CHECK("long body in under a second",
		g_get_monotonic_time() - start < G_USEC_PER_SEC);
}

static void
test_names(void)
{
	static const struct {
		enum roster_how how;
		const char *name;
	} names[] = {
		{ ROSTER_NONE, "none" },       { ROSTER_AMBIGUOUS, "ambiguous" },
		{ ROSTER_SUBJECT, "subject" }, { ROSTER_ADDRESS, "address" },
		{ ROSTER_BODY, "body" },       { ROSTER_FILENAME, "filename" },
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(names); i++)
		T_STREQ("how name", roster_how_name(names[i].how),
			names[i].name);
}

int
main(void)
{
	struct roster_query q = { .subject = "福州市局" };
	enum roster_how how = ROSTER_SUBJECT;
	struct unit *units;
	size_t n;

	units = units_new(&n);
	test_cases(units, n);
	test_long_body(units, n);
	T_INTEQ("no units", roster_identify(units, 0, &q, &how), -1);
	T_STREQ("no units how", roster_how_name(how), "none");
	units_free(units, n);
	test_names();
	return t_done();
}
