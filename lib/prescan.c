/*
 * prescan.c - the raw message against the limits, before GMime sees it
 *
 * One pass over the file, in blocks, keeping only counters: its size,
 * its header lines and the lines that could be MIME boundaries.  Header
 * lines are the top-level header block, the block after each line that
 * looks like a boundary (a part's header), and the block after a header
 * block that names message/rfc822 or message/global (a forwarded
 * message's header): max_header_bytes bounds them all together, as
 * GMime keeps every one in memory (two million short part headers in
 * 27 MB take it 1.1 GB).  Lines of white space before the headers (some
 * exports have them; GMime gives up on them) are skipped: *start_r is
 * where the headers begin.  An empty first line stays: it is a message
 * without headers.
 *
 * Lines starting "--" and a non-space count as boundaries, up to twice
 * max_parts plus PRESCAN_BOUNDARY_SLACK (a boundary opens and the last
 * one closes; some "--" lines are just text).
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prescan.h"

#define PRESCAN_BOUNDARY_SLACK 64	/* "--" lines that are not MIME */
#define PRESCAN_LEADING_MAX (64 * 1024)	/* blank lines before the headers */

/* Whether the bytes, fed in order, spell "message/rfc822" or
 * "message/global" (any case): *state keeps the progress between calls. */
static bool
prescan_nested(const char *p, size_t n, unsigned *state)
{
	static const char head[] = "message/";
	static const char *const tails[] = { "rfc822", "global" };
	bool found = false;

	for (size_t i = 0; i < n; i++) {
		char c = g_ascii_tolower(p[i]);
		unsigned k = *state & 0xff, t = *state >> 8;

		if (k < sizeof(head) - 1) {
			k = c == head[k] ? k + 1 : c == head[0];
			*state = k;
			continue;
		}
		/* past "message/": t is 1 + the tail being matched */
		if (t == 0)
			t = c == 'r' ? 1 : c == 'g' ? 2 : 0;
		if (t != 0 && c == tails[t - 1][k - (sizeof(head) - 1)]) {
			k++;
			if (k - (sizeof(head) - 1) == strlen(tails[t - 1])) {
				found = true;
				k = 0;
				t = 0;
			}
		} else {
			k = c == head[0];
			t = 0;
		}
		*state = k | (t << 8);
	}
	return found;
}

bool
prescan_message(int fd, const char *path, const struct limits_config *lim,
	       char *buf, off_t *start_r, GError **error)
{
	uint64_t header = 0, dashes = 0, max_dashes, offset = 0;
	size_t line_len = 0;
	char prefix[3] = { 0 };
	bool in_header = true, leading = true, blank = true;
	bool in_part = false, nested = false;
	unsigned match = 0;
	struct stat st;

	*start_r = 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
			    "%s: not a readable regular file", path);
		return false;
	}
	if ((uint64_t)st.st_size > lim->max_message_bytes)
		return intake_fail(error, INTAKE_ERROR_LIMIT,
				   "邮件大小 %" G_GUINT64_FORMAT " 字节，超过上限 %"
				   G_GUINT64_FORMAT " 字节（[limits] "
				   "max_message_bytes）",
				   (uint64_t)st.st_size, lim->max_message_bytes);
	max_dashes = (uint64_t)lim->max_parts * 2 + PRESCAN_BOUNDARY_SLACK;
	for (;;) {
		ssize_t n = read(fd, buf, INTAKE_IO_BLOCK);
		const char *p, *end;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
				    "%s: %s", path, g_strerror(errno));
			return false;
		}
		if (n == 0)
			break;
		for (p = buf, end = buf + n; p < end;) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			const char *next = nl != NULL ? nl + 1 : end;
			size_t i;

			for (i = 0; line_len + i < 3 && p + i < next; i++)
				prefix[line_len + i] = p[i];
			for (i = 0; leading && blank && p + i < next; i++)
				blank = g_ascii_isspace(p[i]);
			line_len += (size_t)(next - p);
			offset += (uint64_t)(next - p);
			if ((in_header && !(leading && blank)) || in_part) {
				header += (uint64_t)(next - p);
				nested |= prescan_nested(p, (size_t)(next - p),
							 &match);
			}
			p = next;
			if (nl != NULL && leading && blank && line_len > 1 &&
			    !(line_len == 2 && prefix[0] == '\r') &&
			    offset <= PRESCAN_LEADING_MAX) {
				*start_r = (off_t)offset;
				line_len = 0;
				continue;
			}
			if (nl != NULL && leading) {
				leading = false;
				header = line_len;
			}
			if ((in_header || in_part) &&
			    header > lim->max_header_bytes)
				return intake_fail(error, INTAKE_ERROR_LIMIT,
					"邮件头超过 %" G_GUINT64_FORMAT " 字节"
					"（[limits] max_header_bytes）",
					lim->max_header_bytes);
			if (nl == NULL)
				break;
			if ((in_header || in_part) &&
			    (line_len == 1 ||
			     (line_len == 2 && prefix[0] == '\r'))) {
				/* the end of a header block; a forwarded
				 * message's header block may follow */
				in_header = false;
				in_part = nested;
				nested = false;
				match = 0;
			}
			if (line_len >= 3 && prefix[0] == '-' &&
			    prefix[1] == '-' && !g_ascii_isspace(prefix[2])) {
				dashes++;
				if (!in_header && !in_part) {
					in_part = true;
					match = 0;
				}
			}
			line_len = 0;
		}
		if (dashes > max_dashes)
			return intake_fail(error, INTAKE_ERROR_LIMIT,
					   "邮件的 MIME 部分超过 %u 个（[limits] "
					   "max_parts）", lim->max_parts);
	}
	if (lseek(fd, *start_r, SEEK_SET) < 0) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO, "%s: %s",
			    path, g_strerror(errno));
		return false;
	}
	return true;
}
