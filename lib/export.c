/*
 * export.c - intakectl export: unit folders, 汇总表.xlsx and 汇总表.csv
 *
 * The order, for a DIR that may be read while it is written:
 *   1. DIR is checked (not inside state_dir; empty unless --force) and
 *      created;
 *   2. the workbook and the CSV are opened under temp names;
 *   3. unit by unit, in units.conf order: the folder, the active accepted
 *      items linked or copied (each through a temp name, renamed over the
 *      final one), one table row per item;
 *   4. the workbook is closed and the CSV flushed, both renamed into
 *      place: once 汇总表.* are there, everything they list is there.
 * Folder and file names go through filing_sanitize() and every file is
 * opened relative to a directory fd with O_NOFOLLOW.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xlsxwriter.h>

#include "export.h"
#include "office.h"
#include "filing.h"
#include "reply.h"

#define EXPORT_SUFFIX_MAX 999 /* "name-2.jpg" ... */
#define EXPORT_TMP_TRIES 100
#define EXPORT_MISSING_MAX 5  /* labels of what a unit lacks */
#define EXPORT_CREATE (O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC)

/*
 * Labels and times.
 */

char *
export_time_text(const struct intake_config *cfg, int64_t t)
{
	g_autoptr(GTimeZone) tz = NULL;
	g_autoptr(GDateTime) utc = NULL;
	g_autoptr(GDateTime) dt = NULL;

	if (t == 0)
		return g_strdup("");
	utc = g_date_time_new_from_unix_utc(t);
	if (utc == NULL)
		return g_strdup("");
	tz = office_zone(cfg);
	dt = g_date_time_to_timezone(utc, tz);
	return g_date_time_format(dt, "%Y-%m-%d %H:%M");
}

const char *
export_status_label(enum unit_status s)
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

const char *
export_type_label(enum item_type t)
{
	switch (t) {
	case ITEM_PHOTO:
		return "图片";
	case ITEM_VIDEO:
		return "视频";
	case ITEM_SUMMARY:
		return "总结";
	case ITEM_LINK:
		return "大附件链接";
	case ITEM_OTHER:
		break;
	}
	return "其他";
}

const char *
export_origin_label(const char *origin)
{
	if (origin == NULL || strcmp(origin, "mail") == 0)
		return "邮件";
	if (strcmp(origin, "manual") == 0)
		return "手工补录";
	if (strcmp(origin, "paper") == 0)
		return "纸质";
	if (strcmp(origin, "duplicate") == 0)
		return "邮件（重复）";
	return origin;
}

const char *
export_item_state_label(const struct store_item *it)
{
	if (it->state == ITEM_REPLACED)
		return "已被更正替换";
	if (it->state == ITEM_WITHDRAWN)
		return "已撤回";
	if (!it->accepted)
		return "未收录";
	if (it->type == ITEM_LINK)
		return "已登记，待下载";
	return "已收录";
}

char *
export_item_source(const char *state_dir, const char *relpath)
{
	g_auto(GStrv) parts = NULL;

	if (relpath == NULL || relpath[0] == '\0' || relpath[0] == '/')
		return NULL;
	parts = g_strsplit(relpath, "/", -1);
	for (char **p = parts; *p != NULL; p++)
		if (strcmp(*p, "..") == 0 || strcmp(*p, ".") == 0 ||
		    (*p)[0] == '\0')
			return NULL;
	return g_build_filename(state_dir, relpath, NULL);
}

static int
export_type_rank(enum item_type t)
{
	switch (t) {
	case ITEM_SUMMARY:
		return 0;
	case ITEM_PHOTO:
		return 1;
	case ITEM_VIDEO:
		return 2;
	case ITEM_LINK:
		return 3;
	case ITEM_OTHER:
		break;
	}
	return 4;
}

static bool
export_item_held(const struct store_item *it)
{
	return it->accepted && it->state == ITEM_ACTIVE;
}

int
export_item_cmp(const void *a, const void *b)
{
	const struct store_item *x = *(const struct store_item *const *)a;
	const struct store_item *y = *(const struct store_item *const *)b;
	bool hx = export_item_held(x), hy = export_item_held(y);

	if (hx != hy)
		return hx ? -1 : 1;
	if (hx) {
		int rx = export_type_rank(x->type);
		int ry = export_type_rank(y->type);

		if (rx != ry)
			return rx < ry ? -1 : 1;
		if (x->type == ITEM_PHOTO && x->number != y->number)
			return x->number < y->number ? -1 : 1;
	}
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return 0;
}

/*
 * The item table (pure).
 */

enum export_col {
	COL_UNIT,
	COL_CATEGORY,
	COL_UNIT_STATUS,
	COL_TYPE,
	COL_NAME,
	COL_FILE,
	COL_CAPTION,
	COL_STATE,
	COL_REASON,
	COL_PIXELS,
	COL_DURATION,
	COL_SIZE,
	COL_RECEIVED,
	COL_LATE,
	COL_ORIGIN,
	COL_MESSAGE,
	COL_ITEM,
	COL_URL,
	COL_NOTE,
};

static const struct {
	const char *title;
	bool numeric;
	unsigned width; /* in the workbook, characters */
} export_cols[EXPORT_COLUMNS] = {
	[COL_UNIT] = {"单位", false, 28},
	[COL_CATEGORY] = {"类别", false, 12},
	[COL_UNIT_STATUS] = {"单位状态", false, 9},
	[COL_TYPE] = {"类型", false, 9},
	[COL_NAME] = {"原文件名", false, 30},
	[COL_FILE] = {"导出文件", false, 40},
	[COL_CAPTION] = {"图片说明", false, 24},
	[COL_STATE] = {"状态", false, 12},
	[COL_REASON] = {"未收录原因", false, 40},
	[COL_PIXELS] = {"分辨率", false, 11},
	[COL_DURATION] = {"时长（秒）", true, 9},
	[COL_SIZE] = {"文件大小（字节）", true, 14},
	[COL_RECEIVED] = {"收到时间", false, 17},
	[COL_LATE] = {"逾期", false, 6},
	[COL_ORIGIN] = {"来源", false, 10},
	[COL_MESSAGE] = {"邮件编号", true, 8},
	[COL_ITEM] = {"条目编号", true, 8},
	[COL_URL] = {"链接", false, 30},
	[COL_NOTE] = {"备注", false, 20},
};

const char *
export_column_title(unsigned col)
{
	return col < EXPORT_COLUMNS ? export_cols[col].title : NULL;
}

bool
export_column_numeric(unsigned col)
{
	return col < EXPORT_COLUMNS && export_cols[col].numeric;
}

static char *
export_text(const char *s)
{
	return reply_clean_header(s, EXPORT_CELL_MAX);
}

void
export_row_cells(const struct export_row *row, char *cells_r[EXPORT_COLUMNS])
{
	const struct store_item *it = row->item;

	cells_r[COL_UNIT] = export_text(row->unit);
	cells_r[COL_CATEGORY] = export_text(row->category);
	cells_r[COL_UNIT_STATUS] = export_text(row->unit_status);
	if (it == NULL) {
		for (unsigned i = COL_TYPE; i < EXPORT_COLUMNS; i++)
			cells_r[i] = g_strdup("");
		return;
	}
	cells_r[COL_TYPE] = g_strdup(it->origin != NULL &&
					     strcmp(it->origin, "paper") == 0 &&
					     it->type == ITEM_SUMMARY
				     ? "总结（纸质）"
				     : export_type_label(it->type));
	cells_r[COL_NAME] = export_text(it->name);
	cells_r[COL_FILE] = export_text(row->file);
	cells_r[COL_CAPTION] = export_text(it->caption);
	cells_r[COL_STATE] = g_strdup(export_item_state_label(it));
	cells_r[COL_REASON] = export_text(it->accepted ? NULL : it->reason);
	cells_r[COL_PIXELS] = it->width > 0 && it->height > 0
				      ? g_strdup_printf("%u×%u", it->width,
							it->height)
				      : g_strdup("");
	if (it->duration > 0) {
		char buf[G_ASCII_DTOSTR_BUF_SIZE];

		g_ascii_formatd(buf, sizeof(buf), "%.1f", it->duration);
		cells_r[COL_DURATION] = g_strdup(buf);
	} else {
		cells_r[COL_DURATION] = g_strdup("");
	}
	cells_r[COL_SIZE] = it->size > 0 ? g_strdup_printf("%" G_GUINT64_FORMAT,
							   it->size)
					 : g_strdup("");
	cells_r[COL_RECEIVED] = export_text(row->received);
	cells_r[COL_LATE] = g_strdup(it->late ? "逾期" : "");
	cells_r[COL_ORIGIN] = g_strdup(export_origin_label(it->origin));
	cells_r[COL_MESSAGE] =
		it->message > 0
			? g_strdup_printf("%" G_GINT64_FORMAT, it->message)
			: g_strdup("");
	cells_r[COL_ITEM] = g_strdup_printf("%" G_GINT64_FORMAT, it->id);
	cells_r[COL_URL] = export_text(it->url);
	cells_r[COL_NOTE] = export_text(it->note);
}

void
export_csv_field(GString *out, const char *value, bool numeric)
{
	const char *v = value != NULL ? value : "";
	bool formula = !numeric && v[0] != '\0' && strchr("=+-@\t\r", v[0]);
	bool quote = formula || strpbrk(v, ",\"\r\n") != NULL;

	if (!quote) {
		g_string_append(out, v);
		return;
	}
	g_string_append_c(out, '"');
	if (formula)
		g_string_append_c(out, '\'');
	for (const char *p = v; *p != '\0'; p++) {
		if (*p == '"')
			g_string_append_c(out, '"');
		g_string_append_c(out, *p);
	}
	g_string_append_c(out, '"');
}

void
export_csv_record(GString *out, char *const *cells, const bool *numeric,
		  size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			g_string_append_c(out, ',');
		export_csv_field(out, cells[i], numeric != NULL && numeric[i]);
	}
	g_string_append(out, "\r\n");
}

char *
export_file_name(const struct store_item *it)
{
	g_autofree char *raw = NULL;

	if (it->type == ITEM_PHOTO && it->number > 0) {
		g_autofree char *caption =
			reply_clean_header(it->caption, FILING_NAME_MAX);

		raw = caption[0] != '\0'
			      ? g_strdup_printf("%02u-%s.jpg", it->number,
						caption)
			      : g_strdup_printf("%02u.jpg", it->number);
	} else if (it->path != NULL) {
		raw = g_path_get_basename(it->path);
	} else {
		raw = g_strdup(it->name);
	}
	return filing_sanitize(raw, FILING_NAME_MAX);
}

char *
export_unique_name(GHashTable *used, const char *name)
{
	const char *dot = strrchr(name, '.');
	g_autofree char *stem = NULL;
	const char *ext;

	if (!g_hash_table_contains(used, name)) {
		g_hash_table_add(used, g_strdup(name));
		return g_strdup(name);
	}
	if (dot == NULL || dot == name)
		dot = name + strlen(name);
	stem = g_strndup(name, (gsize)(dot - name));
	ext = dot;
	for (unsigned n = 2; n <= EXPORT_SUFFIX_MAX; n++) {
		g_autofree char *raw = g_strdup_printf("%s-%u%s", stem, n, ext);
		char *cand = filing_sanitize(raw, FILING_NAME_MAX);

		if (!g_hash_table_contains(used, cand)) {
			g_hash_table_add(used, g_strdup(cand));
			return cand;
		}
		g_free(cand);
	}
	return NULL;
}

/*
 * Files.
 */

static void
export_errno(GError **error, int e, const char *what, const char *path)
{
	g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO, "%s %s: %s", what,
		    path, g_strerror(e));
}

/* A unique ".export-<random>" name in dfd. */
static void
export_tmp_name(char *buf, size_t size)
{
	g_snprintf(buf, size, ".export-%08x%08x", g_random_int(),
		   g_random_int());
}

static bool
export_write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

/* Copies src into a new temp file in dfd (its name in tmp). */
static bool
export_copy(int dfd, int src, char *tmp, size_t tmp_size, GError **error)
{
	g_autofree char *buf = g_malloc(INTAKE_IO_BLOCK);
	int fd = -1, e = 0;

	for (int i = 0; fd < 0 && i < EXPORT_TMP_TRIES; i++) {
		export_tmp_name(tmp, tmp_size);
		fd = openat(dfd, tmp, EXPORT_CREATE, 0644);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		export_errno(error, errno, "cannot create", tmp);
		return false;
	}
	for (;;) {
		ssize_t n = read(src, buf, INTAKE_IO_BLOCK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || (n > 0 && !export_write_all(fd, buf, (size_t)n))) {
			e = errno ? errno : EIO;
			break;
		}
		if (n == 0)
			break;
	}
	if (close(fd) != 0 && e == 0)
		e = errno;
	if (e != 0) {
		unlinkat(dfd, tmp, 0);
		export_errno(error, e, "cannot copy into", tmp);
		return false;
	}
	return true;
}

/*
 * Places src_path as name in dfd: a hard link when allowed and possible,
 * else a copy; through a temp name renamed over name.  *linked_r says
 * which.
 */
static bool
export_place(int dfd, const char *src_path, const char *name, bool copy,
	     bool *linked_r, uint64_t *size_r, GError **error)
{
	char tmp[64];
	struct stat sb;
	int src, e = 0;
	bool ok = false;

	*linked_r = false;
	src = open(src_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (src < 0 || fstat(src, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		export_errno(error, src < 0 ? errno : EINVAL,
			     "not a readable regular file:", src_path);
		goto out;
	}
	*size_r = (uint64_t)sb.st_size;
	for (int i = 0; !copy && i < EXPORT_TMP_TRIES; i++) {
		g_autofree char *fdpath = g_strdup_printf("/proc/self/fd/%d",
							  src);

		export_tmp_name(tmp, sizeof(tmp));
		/* the opened file itself: no second lookup of src_path */
		if (linkat(AT_FDCWD, fdpath, dfd, tmp,
			   AT_SYMLINK_FOLLOW) == 0) {
			*linked_r = true;
			break;
		}
		e = errno;
		if (e != EEXIST)
			break;
	}
	if (!*linked_r && !export_copy(dfd, src, tmp, sizeof(tmp), error))
		goto out;
	if (renameat(dfd, tmp, dfd, name) != 0) {
		e = errno;
		unlinkat(dfd, tmp, 0);
		export_errno(error, e, "cannot rename into", name);
		goto out;
	}
	ok = true;
out:
	if (src >= 0)
		close(src);
	return ok;
}

/* mkdirat + openat(O_NOFOLLOW) of one component. */
static int
export_subdir(int dfd, const char *name, const char *shown, GError **error)
{
	int fd;

	if (mkdirat(dfd, name, 0755) != 0 && errno != EEXIST) {
		export_errno(error, errno, "cannot create", shown);
		return -1;
	}
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		export_errno(error, errno, "cannot open folder", shown);
	return fd;
}

/* The absolute path dir will have: its longest existing ancestor
 * resolved by realpath() (links and ".." as the kernel sees them), then
 * the rest, which may hold no ".." (NULL then). */
static char *
export_resolve(const char *dir)
{
	g_autofree char *cwd = g_get_current_dir();
	g_autofree char *head = g_path_is_absolute(dir)
					? g_strdup(dir)
					: g_build_filename(cwd, dir, NULL);
	g_autoptr(GString) tail = g_string_new(NULL);
	g_autofree char *real = NULL;

	for (unsigned depth = 0; depth < 256; depth++) {
		g_autofree char *base = NULL, *parent = NULL;

		real = realpath(head, NULL);
		if (real != NULL)
			break;
		if (strcmp(head, "/") == 0)
			return NULL;
		base = g_path_get_basename(head);
		if (strcmp(base, "..") == 0)
			return NULL;
		if (strcmp(base, ".") != 0) {
			g_string_prepend(tail, base);
			g_string_prepend_c(tail, '/');
		}
		parent = g_path_get_dirname(head);
		g_free(head);
		head = g_steal_pointer(&parent);
	}
	if (real == NULL)
		return NULL;
	return g_strconcat(strcmp(real, "/") == 0 ? "" : real, tail->str,
			   NULL);
}

static bool
export_inside(const char *path, const char *top)
{
	size_t n = strlen(top);

	return strcmp(path, top) == 0 ||
	       (strncmp(path, top, n) == 0 && (path[n] == '/' || n == 1));
}

/* DIR: refused inside state_dir, or not empty without force; created. */
static int
export_open_dir(const char *state_dir, const char *dir, bool force,
		GError **error)
{
	g_autofree char *real_state = realpath(state_dir, NULL);
	g_autofree char *real_dir = export_resolve(dir);
	GDir *d;
	int fd;

	if (real_dir == NULL) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_CONFIG,
			    "%s: cannot tell where that is", dir);
		return -1;
	}
	if (real_state != NULL && export_inside(real_dir, real_state)) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_CONFIG,
			    "%s is inside the state directory %s: export "
			    "somewhere else", dir, state_dir);
		return -1;
	}
	if (g_mkdir_with_parents(dir, 0755) != 0) {
		export_errno(error, errno, "cannot create", dir);
		return -1;
	}
	d = g_dir_open(dir, 0, NULL);
	if (d == NULL) {
		export_errno(error, errno, "cannot read", dir);
		return -1;
	}
	if (g_dir_read_name(d) != NULL && !force) {
		g_dir_close(d);
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_CONFIG,
			    "%s exists and is not empty: choose a new folder, "
			    "or use --force to write into it", dir);
		return -1;
	}
	g_dir_close(d);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		export_errno(error, errno, "cannot open", dir);
	return fd;
}

/*
 * The workbook.
 */

struct export_book {
	lxw_workbook *wb;
	lxw_worksheet *units;
	lxw_worksheet *items;
	lxw_format *head;
	lxw_error err;     /* the first error */
	lxw_row_t unit_row, item_row;
};

static void
export_book_check(struct export_book *b, lxw_error e)
{
	if (e != LXW_NO_ERROR && b->err == LXW_NO_ERROR)
		b->err = e;
}

static const char *const export_unit_titles[] = {
	"单位", "类别", "状态", "活动总结", "图片", "缺说明的图片", "视频",
	"大附件链接", "逾期", "来信", "仍缺", "最近收到",
};

static bool
export_book_open(struct export_book *b, const char *path, GError **error)
{
	memset(b, 0, sizeof(*b));
	b->wb = workbook_new(path);
	if (b->wb == NULL) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
			    "cannot create the workbook %s", path);
		return false;
	}
	b->units = workbook_add_worksheet(b->wb, "单位");
	b->items = workbook_add_worksheet(b->wb, "明细");
	b->head = workbook_add_format(b->wb);
	if (b->units == NULL || b->items == NULL || b->head == NULL) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
			    "cannot add sheets to the workbook %s", path);
		return false;
	}
	format_set_bold(b->head);
	for (unsigned c = 0; c < G_N_ELEMENTS(export_unit_titles); c++)
		export_book_check(b, worksheet_write_string(
					     b->units, 0, (lxw_col_t)c,
					     export_unit_titles[c], b->head));
	export_book_check(b, worksheet_set_column(b->units, 0, 0, 28, NULL));
	export_book_check(b, worksheet_set_column(b->units, 10, 10, 30, NULL));
	export_book_check(b, worksheet_set_column(b->units, 11, 11, 17, NULL));
	worksheet_freeze_panes(b->units, 1, 1);
	for (unsigned c = 0; c < EXPORT_COLUMNS; c++) {
		export_book_check(b, worksheet_write_string(
					     b->items, 0, (lxw_col_t)c,
					     export_cols[c].title, b->head));
		export_book_check(b, worksheet_set_column(
					     b->items, (lxw_col_t)c,
					     (lxw_col_t)c, export_cols[c].width,
					     NULL));
	}
	worksheet_freeze_panes(b->items, 1, 1);
	b->unit_row = b->item_row = 1;
	return true;
}

static void
export_book_cell(struct export_book *b, lxw_worksheet *ws, lxw_row_t row,
		 lxw_col_t col, const char *text, bool numeric)
{
	if (text == NULL || text[0] == '\0')
		return;
	if (numeric)
		export_book_check(b, worksheet_write_number(
					     ws, row, col,
					     g_ascii_strtod(text, NULL), NULL));
	else
		export_book_check(b, worksheet_write_string(ws, row, col, text,
							    NULL));
}

/* Closes (and frees) the workbook; false with an error if any write or
 * the close failed. */
static bool
export_book_close(struct export_book *b, const char *path, GError **error)
{
	lxw_error e;

	if (b->wb == NULL)
		return false;
	if (b->item_row > 1)
		export_book_check(b, worksheet_autofilter(
					     b->items, 0, 0, b->item_row - 1,
					     EXPORT_COLUMNS - 1));
	e = workbook_close(b->wb);
	b->wb = NULL;
	export_book_check(b, e);
	if (b->err != LXW_NO_ERROR) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
			    "writing the workbook %s: %s", path,
			    lxw_strerror(b->err));
		return false;
	}
	return true;
}

/*
 * One run.
 */

struct export_job {
	const struct intake_config *cfg;
	struct store *st;
	const struct export_opts *opts;
	struct export_stats *stats;
	int dfd;
	struct export_book book;
	GString *csv;
	bool numeric[EXPORT_COLUMNS];
	unsigned done, total;
};

static void
export_unit_sheet_row(struct export_job *job, const struct unit *u,
		      const struct dossier *d, enum unit_status s,
		      unsigned missing, int64_t last)
{
	struct export_book *b = &job->book;
	const char *labels[EXPORT_MISSING_MAX];
	size_t nl = rules_missing_labels(missing, labels);
	g_autofree char *lack = NULL, *when = export_time_text(job->cfg, last);
	const unsigned counts[] = {
		d->summaries + d->paper_summaries, d->photos,
		d->photos_uncaptioned, d->videos, d->links,
	};
	lxw_row_t r = b->unit_row++;

	labels[nl] = NULL;
	lack = g_strjoinv("、", (char **)labels);
	export_book_cell(b, b->units, r, 0, u->name, false);
	export_book_cell(b, b->units, r, 1, u->category, false);
	export_book_cell(b, b->units, r, 2, export_status_label(s), false);
	for (unsigned i = 0; i < G_N_ELEMENTS(counts); i++)
		export_book_check(b, worksheet_write_number(
					     b->units, r, (lxw_col_t)(3 + i),
					     counts[i], NULL));
	export_book_cell(b, b->units, r, 8, d->late ? "逾期" : "", false);
	export_book_check(b, worksheet_write_number(b->units, r, 9,
						    d->messages, NULL));
	export_book_cell(b, b->units, r, 10, lack, false);
	export_book_cell(b, b->units, r, 11, when, false);
}

static void
export_item_row(struct export_job *job, const struct export_row *row)
{
	struct export_book *b = &job->book;
	char *cells[EXPORT_COLUMNS];
	lxw_row_t r = b->item_row++;

	export_row_cells(row, cells);
	for (unsigned c = 0; c < EXPORT_COLUMNS; c++)
		export_book_cell(b, b->items, r, (lxw_col_t)c, cells[c],
				 job->numeric[c]);
	export_csv_record(job->csv, cells, job->numeric, EXPORT_COLUMNS);
	for (unsigned c = 0; c < EXPORT_COLUMNS; c++)
		g_free(cells[c]);
	job->stats->rows++;
}

/* Places one item's file in the unit's folder; *file_r the path inside
 * DIR ("<unit>/<subdir>/<name>"). */
static bool
export_item_file(struct export_job *job, int unit_fd, const char *unit_dir,
		 GHashTable *const used[ITEM_OTHER + 1],
		 const struct store_item *it, char **file_r, GError **error)
{
	const char *subdir = filing_subdir(it->type);
	g_autofree char *src = NULL, *name = NULL, *unique = NULL;
	g_autofree char *shown = NULL;
	uint64_t size = 0;
	bool linked = false;
	int sfd;

	*file_r = NULL;
	if (!export_item_held(it) || subdir == NULL || it->path == NULL)
		return true;
	src = export_item_source(job->cfg->state_dir, it->path);
	if (src == NULL) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
			    "item %" G_GINT64_FORMAT ": unusable path \"%s\"",
			    it->id, it->path);
		return false;
	}
	name = export_file_name(it);
	unique = export_unique_name(used[it->type], name);
	if (unique == NULL) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
			    "%s/%s/%s: too many files of that name", unit_dir,
			    subdir, name);
		return false;
	}
	shown = g_strdup_printf("%s/%s/%s", unit_dir, subdir, unique);
	sfd = export_subdir(unit_fd, subdir, shown, error);
	if (sfd < 0)
		return false;
	if (!export_place(sfd, src, unique, job->opts->copy, &linked, &size,
			  error)) {
		g_prefix_error(error, "%s: ", shown);
		close(sfd);
		return false;
	}
	close(sfd);
	job->stats->files++;
	job->stats->linked += linked;
	job->stats->bytes += size;
	*file_r = g_steal_pointer(&shown);
	return true;
}

static bool
export_unit(struct export_job *job, const struct unit *u, GPtrArray *items,
	    GError **error)
{
	g_autofree char *unit_dir = filing_sanitize(u->name, FILING_NAME_MAX);
	GHashTable *used[ITEM_OTHER + 1];
	struct export_row row = {0};
	bool ok = false;
	struct dossier d;
	enum unit_status s;
	unsigned missing = 0;
	int64_t last = 0;
	int ufd;

	if (!store_dossier(job->st, u->name, &d, error) ||
	    !store_unit_last_received(job->st, u->name, &last, error))
		return false;
	s = rules_unit_status(&job->cfg->rules, &d, &missing);
	export_unit_sheet_row(job, u, &d, s, missing, last);
	ufd = export_subdir(job->dfd, unit_dir, unit_dir, error);
	if (ufd < 0)
		return false;
	/* names taken, per subfolder */
	for (unsigned t = 0; t <= ITEM_OTHER; t++)
		used[t] = g_hash_table_new_full(g_str_hash, g_str_equal,
						g_free, NULL);
	job->stats->units++;
	row.unit = u->name;
	row.category = u->category;
	row.unit_status = export_status_label(s);
	if (items->len == 0)
		export_item_row(job, &row);
	for (unsigned i = 0; i < items->len; i++) {
		const struct store_item *it = g_ptr_array_index(items, i);
		g_autofree char *file = NULL, *received = NULL;

		if (!export_item_file(job, ufd, unit_dir, used, it, &file,
				      error))
			goto out;
		if (file != NULL && job->opts->progress != NULL)
			job->opts->progress(++job->done, job->total, file);
		received = export_time_text(job->cfg, it->received);
		row.item = it;
		row.file = file;
		row.received = received;
		export_item_row(job, &row);
	}
	ok = true;
out:
	for (unsigned t = 0; t <= ITEM_OTHER; t++)
		g_hash_table_unref(used[t]);
	close(ufd);
	return ok;
}

/* Writes the CSV to a temp file in DIR (its name in tmp). */
static bool
export_write_csv(int dfd, const GString *csv, char *tmp, size_t tmp_size,
		 GError **error)
{
	int fd = -1, e = 0;

	for (int i = 0; fd < 0 && i < EXPORT_TMP_TRIES; i++) {
		export_tmp_name(tmp, tmp_size);
		fd = openat(dfd, tmp, EXPORT_CREATE, 0644);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		export_errno(error, errno, "cannot create", tmp);
		return false;
	}
	if (!export_write_all(fd, csv->str, csv->len) || fsync(fd) != 0)
		e = errno ? errno : EIO;
	if (close(fd) != 0 && e == 0)
		e = errno;
	if (e != 0) {
		unlinkat(dfd, tmp, 0);
		export_errno(error, e, "cannot write", EXPORT_CSV);
		return false;
	}
	return true;
}

bool
export_run(const struct intake_config *cfg, struct store *st, const char *dir,
	   const struct export_opts *opts, struct export_stats *stats_r,
	   GError **error)
{
	struct export_job job = {0};
	g_autoptr(GPtrArray) units = g_ptr_array_new_with_free_func(
		(GDestroyNotify)g_ptr_array_unref);
	g_autofree char *book_tmp = NULL, *book_path = NULL;
	char book_name[64], csv_tmp[64] = "";
	bool ok = false;

	memset(stats_r, 0, sizeof(*stats_r));
	job.cfg = cfg;
	job.st = st;
	job.opts = opts;
	job.stats = stats_r;
	job.dfd = -1;
	for (unsigned c = 0; c < EXPORT_COLUMNS; c++)
		job.numeric[c] = export_cols[c].numeric;
	/* every unit's items first: the total for the progress line */
	for (size_t i = 0; i < cfg->n_units; i++) {
		const char *name = cfg->units[i].name;
		GPtrArray *items = store_items_of_unit(st, name, false, error);

		if (items == NULL)
			return false;
		g_ptr_array_sort(items, export_item_cmp);
		for (unsigned k = 0; k < items->len; k++) {
			const struct store_item *it =
				g_ptr_array_index(items, k);

			job.total += export_item_held(it) && it->path != NULL &&
				     filing_subdir(it->type) != NULL;
		}
		g_ptr_array_add(units, items);
	}
	job.dfd = export_open_dir(cfg->state_dir, dir, opts->force, error);
	if (job.dfd < 0)
		return false;
	export_tmp_name(book_name, sizeof(book_name));
	book_tmp = g_build_filename(dir, book_name, NULL);
	book_path = g_build_filename(dir, EXPORT_XLSX, NULL);
	if (!export_book_open(&job.book, book_tmp, error))
		goto out;
	job.csv = g_string_new("\xef\xbb\xbf");
	{
		char *titles[EXPORT_COLUMNS];

		for (unsigned c = 0; c < EXPORT_COLUMNS; c++)
			titles[c] = (char *)export_cols[c].title;
		export_csv_record(job.csv, titles, NULL, EXPORT_COLUMNS);
	}
	for (size_t i = 0; i < cfg->n_units; i++)
		if (!export_unit(&job, &cfg->units[i],
				 g_ptr_array_index(units, i), error))
			goto out;
	if (!export_book_close(&job.book, book_tmp, error))
		goto out;
	if (!export_write_csv(job.dfd, job.csv, csv_tmp, sizeof(csv_tmp),
			      error))
		goto out;
	if (rename(book_tmp, book_path) != 0) {
		export_errno(error, errno, "cannot rename into", book_path);
		goto out;
	}
	if (renameat(job.dfd, csv_tmp, job.dfd, EXPORT_CSV) != 0) {
		export_errno(error, errno, "cannot rename into", EXPORT_CSV);
		goto out;
	}
	csv_tmp[0] = '\0';
	if (fsync(job.dfd) != 0) {
		export_errno(error, errno, "cannot sync", dir);
		goto out;
	}
	ok = true;
out:
	if (job.book.wb != NULL)
		workbook_close(job.book.wb);
	if (!ok) {
		unlink(book_tmp);
		if (csv_tmp[0] != '\0')
			unlinkat(job.dfd, csv_tmp, 0);
	}
	if (job.csv != NULL)
		g_string_free(job.csv, TRUE);
	close(job.dfd);
	return ok;
}
