/*
 * imap.c - an IMAP mailbox as a message source, over libcurl
 *
 * One easy handle, so one connection, serves the whole session
 * (DESIGN.md §3 "IMAP manners", RECIPES.md §2):
 *
 *   open     CAPABILITY on the server URL (imaps://host:port/, no mailbox:
 *            curl logs in but selects nothing), then ID when the server
 *            advertises it (163 and 126 refuse SELECT without it), then
 *            NOOP on the mailbox URL, for which curl SELECTs; the SELECT's
 *            "* OK [UIDVALIDITY n]" is read from the header stream.  From
 *            then on every mailbox URL carries ";UIDVALIDITY=n", so that
 *            curl refuses a re-SELECT (after a reconnection) of a mailbox
 *            that was recreated meanwhile.
 *   list     UID SEARCH in windows of message sequence numbers, from the
 *            top down ("UID SEARCH a:b UID n:*", + SINCE when asked), then
 *            UID FETCH n,m,... (UID FLAGS INTERNALDATE RFC822.SIZE) in
 *            small batches.  After each window, a one-message probe of
 *            the sequence number below it: once that message's UID is
 *            below n, so are all lower ones, and an incremental poll costs
 *            two small SEARCHes.  Top down, so that an EXPUNGE by another
 *            client can only move a message into a window not yet
 *            searched.  UIDs below n (UID n:* always matches the highest
 *            UID) and arrivals before since are dropped on our side.
 *   fetch    the URL ".../MAILBOX;UIDVALIDITY=v;UID=n": curl sends UID
 *            FETCH n BODY[] and writes the literal to us.  Refused before
 *            it starts when RFC822.SIZE is over max_message_bytes; if more
 *            than that arrives anyway, or the sink fails, the rest is read
 *            and dropped (up to 1 MiB past the limit) so that the FETCH
 *            ends cleanly and the \Seen it sets is in place before
 *            restore_seen() clears it with UID STORE -FLAGS.SILENT.
 *   fetch_header  for a message over max_message_bytes: UID FETCH n
 *            BODY.PEEK[HEADER]<o.65536> (PEEK: no \Seen), chunk by chunk
 *            up to max_header_bytes, the literal read from the header
 *            stream (imap_conn.c); a response that ends inside the
 *            literal closes the connection.
 *   present  UID SEARCH UID set: which noted UIDs are still there.
 *   mark     UID STORE +FLAGS.SILENT (keyword), or UID MOVE, or UID COPY +
 *            \Deleted + UID EXPUNGE (UIDPLUS); never a bare EXPUNGE.  A
 *            NO [TRYCREATE] creates the folder and tries once more.
 *
 * Windows and small batches, because of two limits of Debian 12's
 * libcurl 7.88.1 (both measured against Dovecot): it silently cuts a
 * server line longer than half its receive buffer (a SEARCH of 12000
 * UIDs came back as 1418), and for every line of a response it counts
 * the rest of the chunk it was read in again, failing the request past
 * 300 KB ("Too large response headers") -- with 16 KB TLS records that is
 * ~37 lines.  So the buffer is 512 KiB (SEARCH lines up to 256 KiB come
 * whole), a window is 5000 messages (< 56 KB of UIDs) and a UID FETCH
 * asks for 20 messages.  A flood of unsolicited lines (another client
 * expunged thousands) fails one request; it is retried on a fresh
 * connection, whose SELECT starts clean.
 *
 * Folder names in the URL and in mark = move:FOLDER are UTF-8 and sent in
 * modified UTF-7 (a name that already is canonical modified UTF-7 with
 * "&...-" in it is taken as it is).  The connection itself -- libcurl,
 * handshake, reconnection, error messages -- is imap_conn.c.
 */
#include <inttypes.h>
#include <string.h>

#include "config.h"
#include "imap_conn.h"
#include "imapparse.h"
#include "source.h"

#define IMAP_SEARCH_WINDOW 5000        /* messages per UID SEARCH */
#define IMAP_FETCH_BATCH 20            /* UIDs per UID FETCH */
#define IMAP_MAX_LIST 1000000          /* UIDs one list() returns at most */
#define IMAP_DRAIN_SLACK (1024 * 1024) /* read past a refusal, at most */
#define IMAP_HEADER_CHUNK (64 * 1024)  /* header bytes per UID FETCH */

static struct imap_conn *
imap_get(struct source *src, GError **error)
{
	if (src->priv == NULL)
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_CONNECTION,
			    "IMAP source is not open");
	return src->priv;
}

static void
imap_close(struct source *src)
{
	imap_conn_free(src->priv);
	src->priv = NULL;
}

static bool
imap_open(struct source *src, uint32_t *uidvalidity_r, GError **error)
{
	imap_close(src);
	src->priv = imap_conn_new(src->cfg, error);
	return src->priv != NULL &&
	       imap_conn_open(src->priv, uidvalidity_r, error);
}

/* ---- list -------------------------------------------------------------- */

static bool
imap_search_line(struct imap_conn *im, const char *line, size_t len, void *ctx,
		 GError **error)
{
	GArray *uids = ctx;

	if (len < 8 || g_ascii_strncasecmp(line, "* SEARCH", 8) != 0)
		return true; /* EXISTS, EXPUNGE and such */
	if (imapparse_search(line, len, uids, IMAP_MAX_LIST - uids->len))
		return true;
	if (uids->len >= IMAP_MAX_LIST)
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_LIMIT,
			    "mailbox \"%s\" has more than %d messages to "
			    "list", im->mailbox, IMAP_MAX_LIST);
	else
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_TEMPORARY,
			    "IMAP server %s sent a SEARCH response that "
			    "cannot be read", im->where);
	return false;
}

/* UID SEARCH "seqset UID start:*" [SINCE date]. */
static bool
imap_search(struct imap_conn *im, const char *seqset, uint32_t start,
	    const char *since, GArray *uids, GError **error)
{
	g_autofree char *cmd = g_strdup_printf(
		"UID SEARCH %s UID %" PRIu32 ":*%s%s", seqset, start,
		since ? " SINCE " : "", since ? since : "");

	return imap_conn_command(im, cmd, imap_search_line, uids, error);
}

/* The UIDs from start up, in windows from the top down (see the top of
 * this file). */
static bool
imap_search_all(struct imap_conn *im, uint32_t start, int64_t since,
		GArray *uids, GError **error)
{
	char date[16];
	const char *since_arg = NULL;
	uint32_t high;

	if (since != 0) {
		/* SINCE compares dates in the server's time zone: a day
		 * early, then precisely on INTERNALDATE */
		if (!imapparse_search_date(since - 86400, date, sizeof(date))) {
			g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_CONFIG,
				    "start date out of range");
			return false;
		}
		since_arg = date;
	}
	/* NOOP: the server tells us of messages that arrived since */
	if (!imap_conn_command(im, "NOOP", NULL, NULL, error))
		return false;
	high = im->exists;
	for (bool top = true; high > 0; top = false) {
		uint32_t low = high > IMAP_SEARCH_WINDOW
				       ? high - IMAP_SEARCH_WINDOW + 1 : 1;
		g_autofree char *set = NULL;
		g_autoptr(GArray) probe = NULL;
		char below[16];

		if (top)
			set = g_strdup_printf("%" PRIu32 ":*", low);
		else
			set = g_strdup_printf("%" PRIu32 ":%" PRIu32, low,
					      high);
		if (!imap_search(im, set, start, since_arg, uids, error))
			return false;
		if (low == 1)
			break;
		if (start > 1) {
			/* the message below this window: below start, so
			 * are all the ones under it */
			probe = g_array_new(FALSE, FALSE, sizeof(uint32_t));
			g_snprintf(below, sizeof(below), "%" PRIu32, low - 1);
			if (!imap_search(im, below, start, NULL, probe, error))
				return false;
			if (probe->len == 0 ||
			    g_array_index(probe, uint32_t, 0) < start)
				break;
		}
		high = low - 1;
	}
	return true;
}

struct imap_fetch_ctx {
	GHashTable *want; /* uid -> struct source_msg *, not owned */
};

static bool
imap_fetch_line(struct imap_conn *im, const char *line, size_t len, void *ctx,
		GError **error)
{
	struct imap_fetch_ctx *fc = ctx;
	struct imapparse_fetch f;
	struct source_msg *msg;

	if (!imapparse_is_fetch(line, len))
		return true;
	if (!imapparse_fetch(line, len, &f)) {
		g_autofree char *shown = imap_conn_sanitise(line,
							    MIN(len, 120));

		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_TEMPORARY,
			    "IMAP server %s sent a FETCH response that cannot "
			    "be read: %s", im->where, shown);
		return false;
	}
	msg = f.uid ? g_hash_table_lookup(fc->want, GUINT_TO_POINTER(f.uid))
		    : NULL;
	/* ours, with everything we asked for, and the first of its kind */
	if (msg != NULL && msg->flags == NULL && f.flags != NULL &&
	    f.has_internaldate && f.has_size) {
		msg->flags = g_steal_pointer(&f.flags);
		msg->seen = f.seen;
		msg->internaldate = f.internaldate;
		msg->size = f.size;
	}
	imapparse_fetch_clear(&f);
	return true;
}

/* FLAGS, INTERNALDATE and RFC822.SIZE of n UIDs into msgs[]. */
static bool
imap_fetch_meta(struct imap_conn *im, const uint32_t *uids, size_t n,
		struct source_msg **msgs, GError **error)
{
	g_autoptr(GHashTable) want = g_hash_table_new(NULL, NULL);
	struct imap_fetch_ctx fc = { want };
	g_autofree char *set = imapparse_uid_set(uids, n);
	g_autofree char *cmd = g_strdup_printf(
		"UID FETCH %s (UID FLAGS INTERNALDATE RFC822.SIZE)", set);

	for (size_t i = 0; i < n; i++)
		g_hash_table_insert(want, GUINT_TO_POINTER(uids[i]), msgs[i]);
	if (!imap_conn_command(im, cmd, imap_fetch_line, &fc, error))
		return false;
	for (size_t i = 0; i < n; i++) {
		/* expunged between SEARCH and FETCH, or the server hid it:
		 * list again next time rather than skip it */
		if (msgs[i]->flags == NULL) {
			g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_TEMPORARY,
				    "IMAP server %s gave no FLAGS, "
				    "INTERNALDATE and RFC822.SIZE for UID %"
				    PRIu32, im->where, uids[i]);
			return false;
		}
	}
	return true;
}

static gint
imap_uid_cmp(gconstpointer a, gconstpointer b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static bool
imap_list(struct source *src, const struct source_cursor *cursor,
	  int64_t since, GPtrArray **msgs_r, GError **error)
{
	struct imap_conn *im = imap_get(src, error);
	g_autoptr(GArray) found = NULL;
	g_autoptr(GArray) uids = NULL;
	g_autoptr(GPtrArray) all = NULL;
	g_autoptr(GPtrArray) msgs = NULL;
	uint32_t start = 1;

	if (im == NULL)
		return false;
	if (cursor != NULL && cursor->uidvalidity != 0 &&
	    cursor->uidvalidity == im->uidvalidity) {
		if (cursor->last_uid == UINT32_MAX) {
			*msgs_r = g_ptr_array_new_with_free_func(
				(GDestroyNotify)source_msg_free);
			return true;
		}
		start = cursor->last_uid + 1;
	}
	found = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	if (!imap_search_all(im, start, since, found, error))
		return false;
	g_array_sort(found, imap_uid_cmp);
	/* UID n:* matches the highest UID even below n; windows may meet */
	uids = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	for (guint i = 0; i < found->len; i++) {
		uint32_t uid = g_array_index(found, uint32_t, i);

		if (uid >= start &&
		    (uids->len == 0 ||
		     g_array_index(uids, uint32_t, uids->len - 1) != uid))
			g_array_append_val(uids, uid);
	}
	all = g_ptr_array_new_with_free_func((GDestroyNotify)source_msg_free);
	for (guint i = 0; i < uids->len; i++) {
		struct source_msg *msg = g_new0(struct source_msg, 1);

		msg->uid = g_array_index(uids, uint32_t, i);
		msg->key = g_strdup_printf("%" PRIu32, msg->uid);
		g_ptr_array_add(all, msg);
	}
	for (guint i = 0; i < uids->len; i += IMAP_FETCH_BATCH) {
		size_t n = MIN(IMAP_FETCH_BATCH, uids->len - i);

		if (!imap_fetch_meta(im, &g_array_index(uids, uint32_t, i), n,
				     (struct source_msg **)all->pdata + i,
				     error))
			return false;
	}
	msgs = g_ptr_array_new_with_free_func((GDestroyNotify)source_msg_free);
	for (guint i = 0; i < all->len; i++) {
		struct source_msg *msg = all->pdata[i];

		if (since != 0 && msg->internaldate < since)
			continue;
		all->pdata[i] = NULL;
		g_ptr_array_add(msgs, msg);
	}
	*msgs_r = g_steal_pointer(&msgs);
	return true;
}

/* ---- fetch, restore_seen, mark ------------------------------------------ */

static bool
imap_key_uid(const char *key, uint32_t *uid_r, GError **error)
{
	guint64 v;

	if (!g_ascii_string_to_unsigned(key, 10, 1, UINT32_MAX, &v, NULL)) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_MESSAGE,
			    "\"%s\" is not an IMAP UID", key);
		return false;
	}
	*uid_r = (uint32_t)v;
	return true;
}

static bool
imap_fetch(struct source *src, const struct source_msg *msg,
	   source_sink_fn sink, void *ctx, GError **error)
{
	struct imap_conn *im = imap_get(src, error);
	uint64_t max = src->cfg->limits.max_message_bytes;
	g_autofree char *url = NULL;
	g_autofree char *what = NULL;
	uint32_t uid = msg->uid;
	struct imap_conn_req req = { .sink = sink, .sink_ctx = ctx };
	bool ok;

	if (im == NULL || (uid == 0 && !imap_key_uid(msg->key, &uid, error)))
		return false;
	if (max != 0 && msg->size > max) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_LIMIT,
			    "message UID %" PRIu32 " is %" G_GUINT64_FORMAT
			    " bytes, more than max_message_bytes (%"
			    G_GUINT64_FORMAT "); not downloaded", uid,
			    msg->size, max);
		return false;
	}
	url = g_strdup_printf("%s;UID=%" PRIu32, im->mailbox_url, uid);
	what = g_strdup_printf("fetching UID %" PRIu32, uid);
	req.url = url;
	im->max_bytes = max;
	im->drain_limit = MAX(max, msg->size) + IMAP_DRAIN_SLACK;
	ok = imap_conn_request(im, &req, what, error);
	im->max_bytes = 0;
	if (!ok && error != NULL && *error != NULL &&
	    (*error)->code == INTAKE_ERROR_LIMIT)
		g_prefix_error(error, "message UID %" PRIu32 ": ", uid);
	return ok;
}

/* A request whose header literal came only in part: the response ended
 * inside it, so a line of the literal was taken for the command's end
 * (libcurl reads a custom command's response as lines).  What is left of
 * it must not reach the next command: the connection is closed. */
static void
imap_drop_connection(struct imap_conn *im)
{
	struct imap_conn_req req = {
		.url = im->mailbox_url,
		.command = "NOOP",
		.forbid_reuse = true,
	};

	imap_conn_request(im, &req, "NOOP", NULL);
}

/* UID FETCH n BODY.PEEK[HEADER]<o.IMAP_HEADER_CHUNK>, chunk by chunk:
 * PEEK sets no flag.  In chunks, because the literal comes through
 * libcurl's header stream, which 7.88 limits to 300 KB a response
 * (measured against Dovecot: a 370 KB header fails with "Too large
 * response headers"); 64 KiB is one request for any usual header. */
static bool
imap_fetch_header(struct source *src, const struct source_msg *msg,
		  GByteArray *header, GError **error)
{
	struct imap_conn *im = imap_get(src, error);
	uint64_t max = src->cfg->limits.max_header_bytes;
	uint32_t uid = msg->uid;
	uint64_t offset = 0;

	if (im == NULL || (uid == 0 && !imap_key_uid(msg->key, &uid, error)))
		return false;
	while (offset < max) {
		size_t chunk = (size_t)MIN((uint64_t)IMAP_HEADER_CHUNK,
					   max - offset);
		g_autofree char *cmd = g_strdup_printf(
			"UID FETCH %" PRIu32 " BODY.PEEK[HEADER]<%"
			G_GUINT64_FORMAT ".%zu>", uid, offset, chunk);
		g_autofree char *what = g_strdup_printf(
			"fetching the header of UID %" PRIu32, uid);
		struct imap_conn_req req = {
			.url = im->mailbox_url,
			.command = cmd,
			.literal = header,
			.literal_max = header->len + chunk,
			.literal_uid = uid,
		};
		bool ok = imap_conn_request(im, &req, what, error);
		uint64_t got = im->literal_size;

		if (im->literal_left > 0) {
			imap_drop_connection(im);
			if (ok)
				g_set_error(error, INTAKE_ERROR,
					    INTAKE_ERROR_MESSAGE,
					    "IMAP server %s: the header of "
					    "UID %" PRIu32 " ended early", im->where,
					    uid);
			return false;
		}
		if (!ok)
			return false;
		if (!im->literal_seen) {
			/* past the end (an empty string), or expunged */
			if (offset > 0)
				break;
			g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_MESSAGE,
				    "IMAP server %s gave no header for UID %"
				    PRIu32 " (expunged?)", im->where, uid);
			return false;
		}
		offset += got;
		if (got < chunk)
			break;
	}
	return true;
}

/* UID SEARCH UID set: the noted UIDs still there. */
static bool
imap_present(struct source *src, GPtrArray *keys, GHashTable **present_r,
	     GError **error)
{
	struct imap_conn *im = imap_get(src, error);
	g_autoptr(GArray) uids = NULL;
	g_autoptr(GArray) found = NULL;
	g_autoptr(GHashTable) want = NULL;
	g_autoptr(GHashTable) present = NULL;
	g_autofree char *set = NULL;
	g_autofree char *cmd = NULL;

	if (im == NULL)
		return false;
	g_return_val_if_fail(keys->len <= SOURCE_PRESENT_MAX, false);
	present = g_hash_table_new(g_str_hash, g_str_equal);
	want = g_hash_table_new(NULL, NULL);
	uids = g_array_new(FALSE, FALSE, sizeof(uint32_t));
	for (guint i = 0; i < keys->len; i++) {
		const char *key = g_ptr_array_index(keys, i);
		uint32_t uid;

		if (!imap_key_uid(key, &uid, NULL) ||
		    g_hash_table_contains(want, GUINT_TO_POINTER(uid)))
			continue;
		g_hash_table_insert(want, GUINT_TO_POINTER(uid), (char *)key);
		g_array_append_val(uids, uid);
	}
	if (uids->len > 0) {
		g_array_sort(uids, imap_uid_cmp);
		set = imapparse_uid_set((const uint32_t *)(void *)uids->data,
					uids->len);
		cmd = g_strdup_printf("UID SEARCH UID %s", set);
		found = g_array_new(FALSE, FALSE, sizeof(uint32_t));
		if (!imap_conn_command(im, cmd, imap_search_line, found,
				       error))
			return false;
		for (guint i = 0; i < found->len; i++) {
			const char *key = g_hash_table_lookup(
				want, GUINT_TO_POINTER(g_array_index(
					      found, uint32_t, i)));

			if (key != NULL)
				g_hash_table_add(present, (char *)key);
		}
	}
	*present_r = g_steal_pointer(&present);
	return true;
}

static bool
imap_restore_seen(struct source *src, const char *key, GError **error)
{
	struct imap_conn *im = imap_get(src, error);
	g_autofree char *cmd = NULL;
	uint32_t uid;

	if (im == NULL || !imap_key_uid(key, &uid, error))
		return false;
	cmd = g_strdup_printf("UID STORE %" PRIu32 " -FLAGS.SILENT (\\Seen)",
			      uid);
	return imap_conn_command(im, cmd, NULL, NULL, error);
}

static bool
imap_mark_flag(struct imap_conn *im, uint32_t uid, GError **error)
{
	const char *flag = im->cfg->mark_arg && im->cfg->mark_arg[0]
				   ? im->cfg->mark_arg : "$Filed";
	g_autofree char *cmd = NULL;

	if (!imapparse_is_flag(flag) || g_ascii_strcasecmp(flag, "\\Deleted")
					     == 0 ||
	    g_ascii_strcasecmp(flag, "\\Recent") == 0) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_CONFIG,
			    "[mailbox] mark: \"%s\" cannot be set as a flag",
			    flag);
		return false;
	}
	cmd = g_strdup_printf("UID STORE %" PRIu32 " +FLAGS.SILENT (%s)", uid,
			      flag);
	return imap_conn_command(im, cmd, NULL, NULL, error);
}

/* UID MOVE, or COPY: the one step that can meet a missing folder. */
static bool
imap_move_step(struct imap_conn *im, const char *cmd, const char *quoted,
	       GError **error)
{
	g_autoptr(GError) err = NULL;
	g_autofree char *create = NULL;

	if (imap_conn_command(im, cmd, NULL, NULL, &err))
		return true;
	if (err->code != INTAKE_ERROR_PERMANENT ||
	    strcmp(im->code, "TRYCREATE") != 0) {
		g_propagate_error(error, g_steal_pointer(&err));
		return false;
	}
	create = g_strdup_printf("CREATE %s", quoted);
	return imap_conn_command(im, create, NULL, NULL, error) &&
	       imap_conn_command(im, cmd, NULL, NULL, error);
}

static bool
imap_mark_move(struct imap_conn *im, uint32_t uid, GError **error)
{
	const char *folder = im->cfg->mark_arg;
	g_autofree char *wire = NULL;
	g_autofree char *quoted = NULL;
	g_autofree char *cmd = NULL;

	if (folder == NULL || folder[0] == '\0') {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_CONFIG,
			    "[mailbox] mark: move needs a folder");
		return false;
	}
	wire = imap_conn_wire_name(folder, error);
	if (wire == NULL)
		return false;
	quoted = imapparse_quote(wire);
	if (quoted == NULL) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_CONFIG,
			    "[mailbox] mark: folder \"%s\" has control "
			    "characters", folder);
		return false;
	}
	if (imapparse_has_capability(im->caps, "MOVE")) {
		cmd = g_strdup_printf("UID MOVE %" PRIu32 " %s", uid, quoted);
		return imap_move_step(im, cmd, quoted, error);
	}
	cmd = g_strdup_printf("UID COPY %" PRIu32 " %s", uid, quoted);
	if (!imap_move_step(im, cmd, quoted, error))
		return false;
	g_free(cmd);
	cmd = g_strdup_printf("UID STORE %" PRIu32 " +FLAGS.SILENT "
			      "(\\Deleted)", uid);
	if (!imap_conn_command(im, cmd, NULL, NULL, error))
		return false;
	/* without UIDPLUS the copy stays flagged \Deleted: a bare EXPUNGE
	 * would also remove what the office deleted and did not expunge */
	if (!imapparse_has_capability(im->caps, "UIDPLUS"))
		return true;
	g_free(cmd);
	cmd = g_strdup_printf("UID EXPUNGE %" PRIu32, uid);
	return imap_conn_command(im, cmd, NULL, NULL, error);
}

static bool
imap_mark(struct source *src, const char *key, GError **error)
{
	struct imap_conn *im;
	uint32_t uid;

	if (src->cfg->mark == MARK_NONE)
		return true;
	im = imap_get(src, error);
	if (im == NULL || !imap_key_uid(key, &uid, error))
		return false;
	if (src->cfg->mark == MARK_FLAG)
		return imap_mark_flag(im, uid, error);
	return imap_mark_move(im, uid, error);
}

const struct source_ops imap_source_ops = {
	.name = "imap",
	.open = imap_open,
	.list = imap_list,
	.fetch = imap_fetch,
	.fetch_header = imap_fetch_header,
	.present = imap_present,
	.restore_seen = imap_restore_seen,
	.mark = imap_mark,
	.close = imap_close,
};
