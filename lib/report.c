/*
 * report.c - intakectl report and [storage] report_path: one HTML page
 *
 * The page is built unit by unit and streamed to a temp file next to the
 * target (at most one unit's section is in memory); then fsync, rename,
 * fsync of the folder, so a browser or a web server never sees half a
 * page.  Thumbnails are made once per photo (by content hash) into
 * <state_dir>/thumbs/ and read back from there on later runs: the daemon
 * may regenerate the page after every cycle.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "export.h"
#include "photo.h"
#include "report.h"
#include "rules.h"

#define REPORT_THUMB_MAX (512 * 1024) /* bytes of one thumbnail read */
#define REPORT_HELD_MAX 200            /* unidentified messages listed */
#define REPORT_TEXT_MAX 2000           /* bytes of one shown text */
#define REPORT_EXPIRY_WARN (3 * 86400) /* links expiring this soon */
#define REPORT_MISSING_MAX 5

static const char report_css[] =
	":root{--ok:#1a7f37;--part:#b35900;--miss:#cf222e;--line:#d0d7de;"
	"--muted:#57606a}\n"
	"*{box-sizing:border-box}\n"
	"body{font-family:\"PingFang SC\",\"Hiragino Sans GB\","
	"\"Microsoft YaHei\",\"Noto Sans CJK SC\",\"Source Han Sans SC\","
	"\"WenQuanYi Micro Hei\",sans-serif;margin:0 auto;max-width:1100px;"
	"padding:24px;color:#1f2328;line-height:1.5}\n"
	"h1{font-size:24px;margin:0 0 4px}\n"
	"h2{font-size:20px;margin:0 0 4px}\n"
	"h3{font-size:15px;margin:14px 0 6px}\n"
	".meta,.muted{color:var(--muted);font-size:13px}\n"
	".totals{display:flex;gap:10px;flex-wrap:wrap;margin:12px 0;"
	"padding:0;list-style:none}\n"
	".totals li{border:1px solid var(--line);border-radius:6px;"
	"padding:4px 10px}\n"
	".totals b{font-size:18px}\n"
	".badge{display:inline-block;font-size:13px;color:#fff;"
	"border-radius:10px;padding:1px 10px;font-weight:normal;"
	"vertical-align:middle;white-space:nowrap}\n"
	".complete{background:var(--ok)}\n"
	".incomplete{background:var(--part)}\n"
	".missing{background:var(--miss)}\n"
	"table{border-collapse:collapse;width:100%;font-size:13px}\n"
	"th,td{border:1px solid var(--line);padding:4px 6px;text-align:left;"
	"vertical-align:top}\n"
	"th{background:#f6f8fa}\n"
	"td.n{text-align:right}\n"
	"section.unit{border-top:2px solid var(--line);margin-top:28px;"
	"padding-top:14px}\n"
	".lack{color:var(--miss)}\n"
	".late{color:var(--part);font-size:12px}\n"
	".gallery{display:flex;flex-wrap:wrap;gap:12px}\n"
	"figure{margin:0;width:246px;border:1px solid var(--line);"
	"border-radius:4px;padding:2px;background:#fff}\n"
	"figure img{display:block;width:100%;height:auto}\n"
	"figcaption{font-size:12px;padding:4px 2px}\n"
	".noimg{height:120px;display:flex;align-items:center;"
	"justify-content:center;color:var(--muted);background:#f6f8fa}\n"
	"ul{margin:0;padding-left:20px}\n"
	".warn{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;"
	"padding:6px 10px;margin:8px 0}\n"
	"a{color:#0969da}\n"
	"@page{size:A4;margin:14mm}\n"
	"@media print{body{max-width:none;padding:0;font-size:10.5pt}"
	"section.unit{break-before:page;border-top:none;margin-top:0}"
	"figure,tr,li{break-inside:avoid}"
	"figure{width:56mm}"
	"table{font-size:9pt}"
	"a{color:inherit;text-decoration:none}"
	".badge,th,.warn,.noimg{-webkit-print-color-adjust:exact;"
	"print-color-adjust:exact}}\n";

void
report_escape(GString *out, const char *s)
{
	g_autofree char *esc = NULL;

	if (s == NULL)
		return;
	esc = g_markup_escape_text(s, -1);
	g_string_append(out, esc);
}

/* A text from a message: valid UTF-8, no controls, bounded, escaped. */
static void
report_text(GString *out, const char *s)
{
	g_autofree char *valid = NULL;
	GString *clean;

	if (s == NULL)
		return;
	valid = g_utf8_make_valid(s, -1);
	clean = g_string_sized_new(strlen(valid));
	for (const char *p = valid; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		size_t n = (size_t)(g_utf8_next_char(p) - p);

		if (clean->len + n > REPORT_TEXT_MAX) {
			g_string_append(clean, "…");
			break;
		}
		/* controls are not allowed in XML, not even escaped */
		if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) ||
		    c == 0xfffe || c == 0xffff)
			g_string_append_c(clean, ' ');
		else
			g_string_append_len(clean, p, (gssize)n);
	}
	report_escape(out, clean->str);
	g_string_free(clean, TRUE);
}

static const char *
report_status_class(enum unit_status s)
{
	return unit_status_name(s); /* complete, incomplete, missing */
}

/*
 * Thumbnails.
 */

struct report_job {
	const struct intake_config *cfg;
	struct store *st;
	const struct report_opts *opts;
	struct report_stats *stats;
	char *thumb_dir;     /* the cache, or a temp dir */
	bool thumb_tmp;      /* thumb_dir is ours to remove */
	unsigned done, total;
	int64_t now;
	FILE *out;
};

static bool
report_sha_ok(const char *sha)
{
	if (sha == NULL || strlen(sha) != 64)
		return false;
	for (const char *p = sha; *p != '\0'; p++)
		if (!g_ascii_isxdigit(*p))
			return false;
	return true;
}

/* The folder for thumbnails: the cache, else a temp folder. */
static void
report_thumb_dir(struct report_job *job)
{
	char *dir = g_build_filename(job->cfg->state_dir, REPORT_THUMB_DIR,
				     NULL);
	struct stat sb;

	if ((mkdir(dir, 0750) == 0 || errno == EEXIST) &&
	    lstat(dir, &sb) == 0 && S_ISDIR(sb.st_mode) &&
	    access(dir, W_OK) == 0) {
		job->thumb_dir = dir;
		return;
	}
	g_free(dir);
	job->thumb_dir = g_dir_make_tmp("intake-report-XXXXXX", NULL);
	job->thumb_tmp = job->thumb_dir != NULL;
}

/* The whole (small) file, or NULL. */
static GBytes *
report_read_small(const char *path)
{
	struct stat sb;
	char *buf;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size <= 0 ||
	    sb.st_size > REPORT_THUMB_MAX) {
		close(fd);
		return NULL;
	}
	buf = g_malloc((size_t)sb.st_size);
	while (got < (size_t)sb.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)sb.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got != (size_t)sb.st_size) {
		g_free(buf);
		return NULL;
	}
	return g_bytes_new_take(buf, got);
}

/* The photo's thumbnail as base64, or NULL when none can be made. */
static char *
report_thumb(struct report_job *job, const struct store_item *it)
{
	g_autofree char *src = NULL, *thumb = NULL, *leaf = NULL;
	g_autoptr(GBytes) data = NULL;
	struct photo_facts facts;
	gsize len = 0;
	const void *bytes;

	if (job->thumb_dir == NULL)
		return NULL;
	src = export_item_source(job->cfg->state_dir, it->path);
	if (src == NULL)
		return NULL;
	leaf = report_sha_ok(it->sha256)
		       ? g_strdup_printf("%s.jpg", it->sha256)
		       : g_strdup_printf("item-%" G_GINT64_FORMAT ".jpg",
					 it->id);
	thumb = g_build_filename(job->thumb_dir, leaf, NULL);
	data = report_read_small(thumb);
	if (data == NULL) {
		g_autoptr(GError) err = NULL;

		memset(&facts, 0, sizeof(facts));
		if (!photo_inspect(src, &job->cfg->limits, thumb, &facts,
				   &err) ||
		    facts.damage != PHOTO_OK || facts.thumb_width == 0)
			return NULL;
		job->stats->thumbs_made++;
		data = report_read_small(thumb);
		if (data == NULL)
			return NULL;
	}
	bytes = g_bytes_get_data(data, &len);
	return g_base64_encode(bytes, len);
}

/* Empties and removes a temp thumbnail folder (flat, ours). */
static void
report_thumb_cleanup(struct report_job *job)
{
	GDir *d;
	const char *name;

	if (!job->thumb_tmp || job->thumb_dir == NULL)
		return;
	d = g_dir_open(job->thumb_dir, 0, NULL);
	if (d != NULL) {
		while ((name = g_dir_read_name(d)) != NULL) {
			g_autofree char *p =
				g_build_filename(job->thumb_dir, name, NULL);

			unlink(p);
		}
		g_dir_close(d);
	}
	rmdir(job->thumb_dir);
}

/*
 * The page.
 */

static void
report_head(struct report_job *job, GString *h,
	    const unsigned counts[3], const struct store_office_counts *oc)
{
	const struct intake_config *cfg = job->cfg;
	g_autofree char *deadline = NULL;
	g_autofree char *now = export_time_text(cfg, job->now);
	const char *campaign = cfg->campaign_name ? cfg->campaign_name : "";

	if (cfg->deadline != NULL)
		deadline = export_time_text(cfg,
					    g_date_time_to_unix(cfg->deadline));
	g_string_append(h, "<!DOCTYPE html>\n"
			   "<html xmlns=\"http://www.w3.org/1999/xhtml\" "
			   "lang=\"zh-CN\" xml:lang=\"zh-CN\">\n<head>\n"
			   "<meta charset=\"utf-8\" />\n"
			   "<meta name=\"viewport\" "
			   "content=\"width=device-width, initial-scale=1\" />\n"
			   "<title>");
	report_text(h, campaign);
	g_string_append(h, "报送情况</title>\n<style>\n");
	g_string_append(h, report_css);
	g_string_append(h, "</style>\n</head>\n<body>\n<header>\n<h1>");
	report_text(h, campaign);
	g_string_append(h, "报送情况</h1>\n<p class=\"meta\">截止时间：");
	report_escape(h, deadline ? deadline : "未设定");
	g_string_append(h, " · 生成于 ");
	report_escape(h, now);
	g_string_append_printf(
		h,
		"</p>\n<ul class=\"totals\">\n"
		"<li>单位 <b>%zu</b></li>\n"
		"<li>已齐全 <b>%u</b></li>\n"
		"<li>不完整 <b>%u</b></li>\n"
		"<li>未报送 <b>%u</b></li>\n"
		"<li>待确定单位的邮件 <b>%u</b></li>\n",
		cfg->n_units, counts[UNIT_COMPLETE], counts[UNIT_INCOMPLETE],
		counts[UNIT_MISSING], oc->unidentified);
	if (oc->failed_messages)
		g_string_append_printf(h, "<li>处理失败的邮件 <b>%u</b></li>\n",
				       oc->failed_messages);
	if (oc->failed_replies)
		g_string_append_printf(h, "<li>发送失败的邮件 <b>%u</b></li>\n",
				       oc->failed_replies);
	g_string_append(h, "</ul>\n");
	if (oc->links_expiring)
		g_string_append_printf(
			h,
			"<p class=\"warn\">有 %u 个大附件链接将在 3 天内过期，"
			"请尽快下载。</p>\n",
			oc->links_expiring);
	if (oc->failed_replies)
		g_string_append(h, "<p class=\"warn\">有回复或提醒未能发出"
				   "（地址无效或被退回），见 intakectl "
				   "messages。</p>\n");
	g_string_append(h, "</header>\n");
}

struct report_unit {
	const struct unit *u;
	struct dossier d;
	enum unit_status s;
	unsigned missing;
	int64_t last;
	GPtrArray *items; /* every item of the unit, sorted */
};

static void
report_unit_clear(struct report_unit *ru)
{
	if (ru->items != NULL)
		g_ptr_array_unref(ru->items);
}

static char *
report_lack(unsigned missing)
{
	const char *labels[REPORT_MISSING_MAX];
	size_t n = rules_missing_labels(missing, labels);

	labels[n] = NULL;
	return g_strjoinv("、", (char **)labels);
}

static void
report_overview(struct report_job *job, GString *h,
		const struct report_unit *units, size_t n)
{
	g_string_append(h, "<h2>总览</h2>\n<table class=\"overview\">\n"
			   "<thead><tr><th>单位</th><th>类别</th><th>状态</th>"
			   "<th>总结</th><th>图片</th><th>视频</th>"
			   "<th>链接</th><th>仍缺</th><th>最近收到</th>"
			   "</tr></thead>\n<tbody>\n");
	for (size_t i = 0; i < n; i++) {
		const struct report_unit *ru = &units[i];
		g_autofree char *lack = report_lack(ru->missing);
		g_autofree char *when = export_time_text(job->cfg, ru->last);

		g_string_append_printf(h, "<tr><td><a href=\"#u%zu\">", i + 1);
		report_text(h, ru->u->name);
		g_string_append(h, "</a></td><td>");
		report_text(h, ru->u->category);
		g_string_append_printf(
			h,
			"</td><td><span class=\"badge %s\">%s</span></td>"
			"<td class=\"n\">%u</td><td class=\"n\">%u/%u%s</td>"
			"<td class=\"n\">%u</td><td class=\"n\">%u</td>"
			"<td class=\"lack\">",
			report_status_class(ru->s), export_status_label(ru->s),
			ru->d.summaries + ru->d.paper_summaries, ru->d.photos,
			job->cfg->rules.photo_max,
			ru->d.photos_uncaptioned ? "（缺说明）" : "",
			ru->d.videos, ru->d.links);
		report_escape(h, lack);
		g_string_append(h, "</td><td>");
		report_escape(h, when);
		if (ru->d.late)
			g_string_append(h, " <span class=\"late\">逾期</span>");
		g_string_append(h, "</td></tr>\n");
	}
	g_string_append(h, "</tbody>\n</table>\n");
}

static void
report_size(GString *h, uint64_t size)
{
	g_autofree char *s = NULL;

	if (size < 1000) {
		g_string_append_printf(h, "%u 字节", (unsigned)size);
		return;
	}
	s = g_format_size(size); /* "216.7 kB" */
	report_escape(h, s);
}

/* " · " between the facts of one line. */
static void
report_sep(GString *h, bool *first)
{
	if (!*first)
		g_string_append(h, " · ");
	*first = false;
}

/* "收到 … · 手工补录 · 逾期" for an item. */
static void
report_received(struct report_job *job, GString *h,
		const struct store_item *it, bool *first)
{
	g_autofree char *when = export_time_text(job->cfg, it->received);

	if (when[0] != '\0') {
		report_sep(h, first);
		g_string_append(h, "收到 ");
		report_escape(h, when);
	}
	if (it->origin != NULL && strcmp(it->origin, "mail") != 0 &&
	    strcmp(it->origin, "duplicate") != 0) {
		report_sep(h, first);
		report_escape(h, export_origin_label(it->origin));
	}
	if (it->late) {
		report_sep(h, first);
		g_string_append(h, "<span class=\"late\">逾期</span>");
	}
}

static void
report_photo(struct report_job *job, GString *h, const struct store_item *it)
{
	g_autofree char *b64 = report_thumb(job, it);
	bool first = true;

	if (job->opts != NULL && job->opts->progress != NULL)
		job->opts->progress(++job->done, job->total, it->name);
	g_string_append(h, "<figure>");
	if (b64 != NULL) {
		g_string_append(h, "<img src=\"data:image/jpeg;base64,");
		g_string_append(h, b64);
		g_string_append(h, "\" alt=\"");
		report_text(h, it->caption ? it->caption : it->name);
		g_string_append(h, "\" />");
		job->stats->photos++;
	} else {
		g_string_append(h, "<div class=\"noimg\">缩略图不可用</div>");
	}
	g_string_append_printf(h, "<figcaption><b>图%u</b>：", it->number);
	if (it->caption != NULL && it->caption[0] != '\0')
		report_text(h, it->caption);
	else
		g_string_append(h, "<span class=\"lack\">缺少文字说明</span>");
	g_string_append(h, "<br /><span class=\"muted\">");
	if (it->width > 0)
		g_string_append_printf(h, "%u×%u · ", it->width, it->height);
	report_size(h, it->size);
	first = false;
	report_received(job, h, it, &first);
	g_string_append(h, "<br />");
	report_text(h, it->name);
	g_string_append(h, "</span></figcaption></figure>\n");
}

static bool
report_link_ok(const char *url)
{
	return url != NULL && (g_ascii_strncasecmp(url, "https://", 8) == 0 ||
			       g_ascii_strncasecmp(url, "http://", 7) == 0);
}

static void
report_list_item(struct report_job *job, GString *h,
		 const struct store_item *it)
{
	bool first = true;

	g_string_append(h, "<li>");
	report_text(h, it->name);
	g_string_append(h, " <span class=\"muted\">");
	if (it->type == ITEM_VIDEO && it->width > 0) {
		report_sep(h, &first);
		g_string_append_printf(h, "%u×%u", it->width, it->height);
	}
	if (it->type == ITEM_VIDEO && it->duration > 0) {
		report_sep(h, &first);
		g_string_append_printf(h, "%.1f 秒", it->duration);
	}
	if (it->type == ITEM_LINK) {
		report_sep(h, &first);
		g_string_append(h, "待办公室下载");
		if (it->expires > 0) {
			g_autofree char *exp =
				export_time_text(job->cfg, it->expires);

			report_sep(h, &first);
			g_string_append(h, "有效期至 ");
			report_escape(h, exp);
		}
	} else if (it->size > 0) {
		report_sep(h, &first);
		report_size(h, it->size);
	}
	report_received(job, h, it, &first);
	if (it->note != NULL) {
		report_sep(h, &first);
		report_text(h, it->note);
	}
	g_string_append(h, "</span>");
	if (it->type == ITEM_LINK && it->url != NULL) {
		g_string_append(h, "<br />");
		if (report_link_ok(it->url)) {
			g_string_append(h, "<a href=\"");
			report_text(h, it->url);
			g_string_append(h, "\">");
			report_text(h, it->url);
			g_string_append(h, "</a>");
		} else {
			report_text(h, it->url);
		}
	}
	g_string_append(h, "</li>\n");
}

/* Active accepted items of a type. */
static unsigned
report_count(const GPtrArray *items, enum item_type type)
{
	unsigned n = 0;

	for (unsigned i = 0; i < items->len; i++) {
		const struct store_item *it = g_ptr_array_index(items, i);

		n += it->accepted && it->state == ITEM_ACTIVE &&
		     it->type == type;
	}
	return n;
}

static void
report_typed_list(struct report_job *job, GString *h, const GPtrArray *items,
		  enum item_type type, const char *title)
{
	unsigned n = report_count(items, type);

	if (n == 0)
		return;
	g_string_append_printf(h, "<h3>%s（%u）</h3>\n<ul>\n", title, n);
	for (unsigned i = 0; i < items->len; i++) {
		const struct store_item *it =
			g_ptr_array_index(items, i);

		if (it->accepted && it->state == ITEM_ACTIVE &&
		    it->type == type)
			report_list_item(job, h, it);
	}
	g_string_append(h, "</ul>\n");
}

static void
report_refused(struct report_job *job, GString *h, const GPtrArray *items)
{
	unsigned refused = 0, gone = 0;

	for (unsigned i = 0; i < items->len; i++) {
		const struct store_item *it = g_ptr_array_index(items, i);

		if (it->state != ITEM_ACTIVE)
			gone++;
		else if (!it->accepted)
			refused++;
	}
	if (refused > 0) {
		g_string_append_printf(
			h,
			"<h3>未收录（%u）</h3>\n<table>\n<thead><tr>"
			"<th>文件</th><th>原因</th><th>收到</th></tr></thead>\n"
			"<tbody>\n",
			refused);
		for (unsigned i = 0; i < items->len; i++) {
			const struct store_item *it = g_ptr_array_index(items, i);
			g_autofree char *when = NULL;

			if (it->state != ITEM_ACTIVE || it->accepted)
				continue;
			when = export_time_text(job->cfg, it->received);
			g_string_append(h, "<tr><td>");
			report_text(h, it->name);
			g_string_append(h, "</td><td>");
			report_text(h, it->reason ? it->reason : "未能收录");
			g_string_append(h, "</td><td>");
			report_escape(h, when);
			g_string_append(h, "</td></tr>\n");
		}
		g_string_append(h, "</tbody>\n</table>\n");
	}
	if (gone == 0)
		return;
	g_string_append_printf(h, "<h3>已替换或撤回（%u）</h3>\n<ul>\n", gone);
	for (unsigned i = 0; i < items->len; i++) {
		const struct store_item *it = g_ptr_array_index(items, i);

		if (it->state == ITEM_ACTIVE)
			continue;
		g_string_append(h, "<li>");
		report_escape(h, export_type_label(it->type));
		g_string_append(h, "“");
		report_text(h, it->name);
		g_string_append(h, "” <span class=\"muted\">");
		report_escape(h, export_item_state_label(it));
		if (it->note != NULL) {
			g_string_append(h, " · ");
			report_text(h, it->note);
		}
		g_string_append(h, "</span></li>\n");
	}
	g_string_append(h, "</ul>\n");
}

static void
report_unit_section(struct report_job *job, GString *h,
		    const struct report_unit *ru, size_t index)
{
	g_autofree char *lack = report_lack(ru->missing);
	g_autofree char *when = export_time_text(job->cfg, ru->last);
	unsigned photos = report_count(ru->items, ITEM_PHOTO);

	g_string_append_printf(h, "<section class=\"unit\" id=\"u%zu\">\n<h2>",
			       index + 1);
	report_text(h, ru->u->name);
	g_string_append_printf(h, " <span class=\"badge %s\">%s</span></h2>\n",
			       report_status_class(ru->s),
			       export_status_label(ru->s));
	g_string_append(h, "<p class=\"meta\">");
	report_text(h, ru->u->category ? ru->u->category : "");
	g_string_append_printf(h, "%s来信 %u 封", ru->u->category ? " · " : "",
			       ru->d.messages);
	if (when[0] != '\0') {
		g_string_append(h, " · 最近收到 ");
		report_escape(h, when);
	}
	if (ru->d.late)
		g_string_append(h, " · <span class=\"late\">有逾期材料</span>");
	g_string_append(h, "</p>\n");
	if (lack[0] != '\0') {
		g_string_append(h, "<p class=\"lack\">仍缺：");
		report_escape(h, lack);
		g_string_append(h, "</p>\n");
	}
	if (ru->items->len == 0) {
		g_string_append(h, "<p class=\"muted\">尚未收到任何材料。</p>\n"
				   "</section>\n");
		return;
	}
	report_typed_list(job, h, ru->items, ITEM_SUMMARY, "活动总结");
	if (photos > 0) {
		g_string_append_printf(h,
				       "<h3>图片（%u/%u）</h3>\n"
				       "<div class=\"gallery\">\n",
				       photos, job->cfg->rules.photo_max);
		for (unsigned i = 0; i < ru->items->len; i++) {
			const struct store_item *it =
				g_ptr_array_index(ru->items, i);

			if (it->accepted && it->state == ITEM_ACTIVE &&
			    it->type == ITEM_PHOTO)
				report_photo(job, h, it);
		}
		g_string_append(h, "</div>\n");
	}
	report_typed_list(job, h, ru->items, ITEM_VIDEO, "视频");
	report_typed_list(job, h, ru->items, ITEM_LINK, "大附件链接");
	report_refused(job, h, ru->items);
	g_string_append(h, "</section>\n");
}

/* Messages held because no unit could be told. */
static bool
report_held(struct report_job *job, GString *h, GError **error)
{
	g_autoptr(GArray) ids = store_messages_in_state(job->st, MSG_HELD,
							 error);
	unsigned shown = 0;

	if (ids == NULL)
		return false;
	if (ids->len == 0)
		return true;
	g_string_append_printf(
		h,
		"<section class=\"unit\" id=\"held\">\n<h2>待确定单位的邮件"
		"（%u）</h2>\n<p class=\"meta\">用 intakectl assign 编号 单位"
		" 归入单位。</p>\n<table>\n<thead><tr><th>编号</th>"
		"<th>发件人</th><th>主题</th><th>收到</th></tr></thead>\n"
		"<tbody>\n",
		ids->len);
	for (unsigned i = 0; i < ids->len && shown < REPORT_HELD_MAX; i++) {
		int64_t id = g_array_index(ids, int64_t, i);
		struct store_message *m = store_message_get(job->st, id, error);
		g_autofree char *when = NULL;

		if (m == NULL) {
			if (error != NULL && *error != NULL)
				return false;
			continue;
		}
		when = export_time_text(job->cfg, m->arrived);
		g_string_append_printf(h,
				       "<tr><td class=\"n\">%" G_GINT64_FORMAT
				       "</td><td>",
				       id);
		report_text(h, m->from_addr);
		g_string_append(h, "</td><td>");
		report_text(h, m->subject);
		g_string_append(h, "</td><td>");
		report_escape(h, when);
		g_string_append(h, "</td></tr>\n");
		store_message_free(m);
		shown++;
	}
	g_string_append(h, "</tbody>\n</table>\n");
	if (ids->len > shown)
		g_string_append_printf(h,
				       "<p class=\"muted\">另有 %u 封未列出。"
				       "</p>\n",
				       ids->len - shown);
	g_string_append(h, "</section>\n");
	return true;
}

/* Appends h to the page and empties it. */
static bool
report_flush(struct report_job *job, GString *h, GError **error)
{
	if (h->len > 0 && fwrite(h->str, 1, h->len, job->out) != h->len) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
			    "writing the report: %s", g_strerror(errno));
		return false;
	}
	job->stats->bytes += h->len;
	g_string_truncate(h, 0);
	return true;
}

/* Loads every unit's facts (the totals come before the sections). */
static bool
report_load(struct report_job *job, struct report_unit *units,
	    unsigned counts[3], GError **error)
{
	const struct intake_config *cfg = job->cfg;

	for (size_t i = 0; i < cfg->n_units; i++) {
		struct report_unit *ru = &units[i];

		ru->u = &cfg->units[i];
		if (!store_dossier(job->st, ru->u->name, &ru->d, error) ||
		    !store_unit_last_received(job->st, ru->u->name, &ru->last,
					      error))
			return false;
		ru->items = store_items_of_unit(job->st, ru->u->name, false,
						error);
		if (ru->items == NULL)
			return false;
		g_ptr_array_sort(ru->items, export_item_cmp);
		ru->s = rules_unit_status(&cfg->rules, &ru->d, &ru->missing);
		counts[ru->s]++;
		job->total += report_count(ru->items, ITEM_PHOTO);
	}
	return true;
}

static bool
report_page(struct report_job *job, GError **error)
{
	const struct intake_config *cfg = job->cfg;
	struct report_unit *units =
		g_new0(struct report_unit, cfg->n_units + 1);
	g_autoptr(GString) h = g_string_sized_new(64 * 1024);
	struct store_office_counts oc;
	unsigned counts[3] = {0, 0, 0};
	bool ok = false;

	if (!report_load(job, units, counts, error) ||
	    !store_office_counts(job->st, job->now - 86400,
				 job->now + REPORT_EXPIRY_WARN, &oc, error))
		goto out;
	report_head(job, h, counts, &oc);
	report_overview(job, h, units, cfg->n_units);
	if (!report_flush(job, h, error))
		goto out;
	for (size_t i = 0; i < cfg->n_units; i++) {
		report_unit_section(job, h, &units[i], i);
		job->stats->units++;
		if (!report_flush(job, h, error))
			goto out;
	}
	if (!report_held(job, h, error))
		goto out;
	g_string_append(h, "</body>\n</html>\n");
	ok = report_flush(job, h, error);
out:
	for (size_t i = 0; i < cfg->n_units; i++)
		report_unit_clear(&units[i]);
	g_free(units);
	return ok;
}

bool
report_write(const struct intake_config *cfg, struct store *st,
	     const char *path, const struct report_opts *opts,
	     struct report_stats *stats_r, GError **error)
{
	struct report_stats stats_local;
	struct report_job job = {0};
	g_autofree char *tmp = g_strdup_printf("%s.XXXXXX", path);
	g_autofree char *dir = g_path_get_dirname(path);
	bool ok = false;
	int fd, dfd;

	job.cfg = cfg;
	job.st = st;
	job.opts = opts;
	job.stats = stats_r != NULL ? stats_r : &stats_local;
	memset(job.stats, 0, sizeof(*job.stats));
	job.now = opts != NULL && opts->now != 0 ? opts->now
						 : (int64_t)time(NULL);
	fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
			    "cannot create %s: %s", tmp, g_strerror(errno));
		return false;
	}
	job.out = fdopen(fd, "w");
	if (job.out == NULL) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
			    "cannot write %s: %s", tmp, g_strerror(errno));
		close(fd);
		unlink(tmp);
		return false;
	}
	report_thumb_dir(&job);
	if (!report_page(&job, error))
		goto out;
	if (fflush(job.out) != 0 || fsync(fileno(job.out)) != 0) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
			    "writing %s: %s", tmp, g_strerror(errno));
		goto out;
	}
	ok = true;
out:
	if (fclose(job.out) != 0 && ok) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
			    "writing %s: %s", tmp, g_strerror(errno));
		ok = false;
	}
	report_thumb_cleanup(&job);
	g_free(job.thumb_dir);
	if (ok && rename(tmp, path) != 0) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
			    "cannot rename %s to %s: %s", tmp, path,
			    g_strerror(errno));
		ok = false;
	}
	if (!ok) {
		unlink(tmp);
		return false;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return true;
}
