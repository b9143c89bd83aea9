/*
 * export.h - everything received, sorted by unit, ready to forward
 *
 * export_run() writes DIR in the layout of DESIGN.md §8:
 *
 *   DIR/<unit>/总结/<file>
 *   DIR/<unit>/图片/<nn>-<caption>.jpg
 *   DIR/<unit>/视频/<file>
 *   DIR/汇总表.xlsx     sheet 单位: one row per unit of units.conf;
 *                       sheet 明细: one row per item (and one per unit
 *                       that has none), the same table as the CSV
 *   DIR/汇总表.csv      the item table, UTF-8 with a BOM, CRLF (Excel)
 *
 * Every unit of units.conf gets its folder, named as in units.conf and
 * made Windows-safe by filing_sanitize(); only active accepted items are
 * copied.  Files are hard-linked when DIR is on the state directory's
 * file system (treat them as read-only), else copied; nothing is moved.
 * A DIR that exists and is not empty is refused unless opts->force: then
 * files of the same name are replaced and nothing else is removed.  A DIR
 * inside state_dir is always refused (filing_cleanup() owns units/).
 * The tables are written to temp files and renamed into place last.
 *
 * The helpers below are shared with report.c and remind.c; the row and
 * CSV functions are pure (tested with plain structs).  Strings returned
 * are newly allocated unless the comment says "static".
 */
#ifndef INTAKE_EXPORT_H
#define INTAKE_EXPORT_H

#include "common.h"
#include "config.h"
#include "rules.h"
#include "store.h"

#define EXPORT_XLSX "汇总表.xlsx"
#define EXPORT_CSV "汇总表.csv"
#define EXPORT_COLUMNS 19 /* of the item table */
#define EXPORT_CELL_MAX 32000 /* bytes of one cell (Excel: 32767 chars) */

struct export_opts {
	bool force;  /* write into a DIR that is not empty */
	bool copy;   /* always copy, never hard-link */
	/* called after each file (done of total), or NULL */
	void (*progress)(unsigned done, unsigned total, const char *what);
};

struct export_stats {
	unsigned units;   /* unit folders */
	unsigned rows;    /* rows of the item table */
	unsigned files;   /* files placed */
	unsigned linked;  /* of which hard links */
	uint64_t bytes;   /* their size */
};

bool export_run(const struct intake_config *cfg, struct store *st,
		const char *dir, const struct export_opts *opts,
		struct export_stats *stats_r, GError **error);

/* ---- shared with report.c and remind.c ---- */

/* "2022-09-30 10:12" in the campaign's zone (that of deadline or start,
 * else local time); "" for 0. */
char *export_time_text(const struct intake_config *cfg, int64_t t);
/* Static Chinese labels. */
const char *export_status_label(enum unit_status s);  /* 已齐全 ... */
const char *export_type_label(enum item_type t);      /* 总结 图片 ... */
const char *export_origin_label(const char *origin);  /* 邮件 ... */
const char *export_item_state_label(const struct store_item *it);
/* state_dir/relpath when relpath is a plain relative path (no "..", not
 * absolute); NULL otherwise. */
char *export_item_source(const char *state_dir, const char *relpath);
/* Active accepted items first (summaries, photos by number, videos,
 * links), then the rest by id: a qsort comparator on struct store_item
 * ** (GPtrArray). */
int export_item_cmp(const void *a, const void *b);

/* ---- pure ---- */

/* What one row of the item table says. */
struct export_row {
	const char *unit;
	const char *category;
	const char *unit_status;       /* export_status_label() */
	const struct store_item *item; /* NULL: the unit has no items */
	const char *file;              /* path inside DIR, or NULL */
	const char *received;          /* export_time_text() */
};

const char *export_column_title(unsigned col);
/* True for the columns written as numbers in the workbook. */
bool export_column_numeric(unsigned col);
/* Fills cells_r (EXPORT_COLUMNS strings, g_free each; "" when empty),
 * every text cleaned of controls and bounded to EXPORT_CELL_MAX. */
void export_row_cells(const struct export_row *row,
		      char *cells_r[EXPORT_COLUMNS]);
/* One CSV field (RFC 4180 quoting).  A text field starting with = + -
 * @ or a tab gets a leading apostrophe so no spreadsheet reads it as a
 * formula. */
void export_csv_field(GString *out, const char *value, bool numeric);
/* A whole record: fields separated by commas, ended by CRLF; numeric
 * (may be NULL) says which fields are numbers. */
void export_csv_record(GString *out, char *const *cells,
		       const bool *numeric, size_t n);

/* The item's file name in the export: photos "<nn>-<caption>.jpg" (or
 * "<nn>.jpg" uncaptioned), others the filed name; sanitised. */
char *export_file_name(const struct store_item *it);
/* name, or "stem-2.ext", "stem-3.ext"... the first not in used (a set
 * of strings, which gets the result added); NULL after 999 tries. */
char *export_unique_name(GHashTable *used, const char *name);

#endif
