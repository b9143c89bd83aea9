/*
 * report.h - the office's report: one self-contained HTML page
 *
 * report_write() writes the whole campaign on one page, in Chinese: the
 * totals, an overview table of every unit of units.conf, then a section
 * per unit (its state, what it lacks, summaries, a gallery of photo
 * thumbnails with captions and sizes, videos, links, refused items with
 * their reasons, items replaced or withdrawn), and the messages still
 * waiting for a unit.  Thumbnails about 240 px wide come from
 * photo_inspect()'s scaled decode and are inlined as data: URIs, so the
 * page opens offline in any browser and stays small; they are cached in
 * <state_dir>/thumbs/<sha256>.jpg.  The page is XHTML-compatible HTML5
 * (void elements closed, only XML's entities); every text goes through
 * g_markup_escape_text().  Print CSS puts each unit on a page of its own.
 *
 * The file is written atomically: a temp file next to path, fsync,
 * rename, fsync of the folder.
 */
#ifndef INTAKE_REPORT_H
#define INTAKE_REPORT_H

#include "common.h"
#include "config.h"
#include "store.h"

#define REPORT_THUMB_DIR "thumbs"

struct report_opts {
	int64_t now; /* "generated at"; 0: the current time */
	/* called after each photo (done of total), or NULL */
	void (*progress)(unsigned done, unsigned total, const char *what);
};

struct report_stats {
	unsigned units;
	unsigned photos;     /* thumbnails shown */
	unsigned thumbs_made; /* not found in the cache */
	uint64_t bytes;      /* size of the page */
};

/* opts and stats_r may be NULL. */
bool report_write(const struct intake_config *cfg, struct store *st,
		  const char *path, const struct report_opts *opts,
		  struct report_stats *stats_r, GError **error);

/* The text of s escaped for HTML (g_markup_escape_text), NULL as "",
 * appended to out.  Pure. */
void report_escape(GString *out, const char *s);

#endif
