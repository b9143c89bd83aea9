/*
 * source-dump.c - drives a message source (imap.c, maildir.c) by hand
 *
 * SYNOPSIS
 *   source-dump [options] URL USER PASSFILE CAFILE [LASTUID UIDVALIDITY]
 *
 * DESCRIPTION
 *   Opens the source that URL names (imaps://, imap://, maildir:),
 *   lists the messages after the cursor (LASTUID under UIDVALIDITY; none:
 *   all), fetches each one, restores \Seen on those that were unseen
 *   (after a failed fetch too), and marks them when --mark says so.
 *   PASSFILE holds the password (its trailing newline is dropped); CAFILE
 *   "-" means the system store; USER and PASSFILE are "-" for a Maildir.
 *   Output, one tab-separated line each:
 *
 *     uidvalidity  N
 *     msg    key=K uid=N flags=F seen=0|1 internaldate=T size=N
 *            sha256=HEX|- bytes=N
 *     error  key=K code=NAME message=TEXT     (that message failed)
 *     count  N
 *
 *   Options: --out DIR (write each message to DIR/KEY.eml), --no-fetch,
 *   --no-restore, --max-bytes N, --since UNIXTIME, --mark flag[:KW] or
 *   move:FOLDER, --insecure (allow_insecure), --ignore-size (pretend
 *   RFC822.SIZE is 0, to test the limit during the download), --wait
 *   (after open, wait for a line on stdin: lets a test stop the server).
 *
 * DIAGNOSTICS
 *   Exit 0 when every message went well, 1 on any failure (the GError's
 *   message on stderr, or an error line), 2 for usage and configuration
 *   errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "source.h"

static const char *const code_names[] = {
	[INTAKE_ERROR_ITEM] = "item",
	[INTAKE_ERROR_MESSAGE] = "message",
	[INTAKE_ERROR_LIMIT] = "limit",
	[INTAKE_ERROR_TEMPORARY] = "temporary",
	[INTAKE_ERROR_CONNECTION] = "connection",
	[INTAKE_ERROR_AUTH] = "auth",
	[INTAKE_ERROR_PERMANENT] = "permanent",
	[INTAKE_ERROR_CONFIG] = "config",
	[INTAKE_ERROR_IO] = "io",
	[INTAKE_ERROR_FATAL] = "fatal",
};

static const char *
code_name(const GError *error)
{
	if (error->domain == INTAKE_ERROR && error->code >= 0 &&
	    (size_t)error->code < G_N_ELEMENTS(code_names))
		return code_names[error->code];
	return "other";
}

struct dump_sink {
	GChecksum *sha;
	int fd;
	uint64_t bytes;
};

static bool
dump_sink(const void *buf, size_t len, void *ctx, GError **error)
{
	struct dump_sink *ds = ctx;
	const char *p = buf;

	g_checksum_update(ds->sha, buf, (gssize)len);
	ds->bytes += len;
	while (ds->fd >= 0 && len > 0) {
		ssize_t n = write(ds->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
				    "write: %s", g_strerror(errno));
			return false;
		}
		p += n;
		len -= (size_t)n;
	}
	return true;
}

static void
print_error(const char *key, const GError *error)
{
	g_autofree char *msg = g_strdup(error->message);

	g_strdelimit(msg, "\t\n", ' ');
	printf("error\tkey=%s\tcode=%s\tmessage=%s\n", key, code_name(error),
	       msg);
}

/* Fetch (into out_dir when set), restore \Seen, mark: one message. */
static bool
dump_one(struct source *src, struct source_msg *msg, const char *out_dir,
	 bool fetch, bool restore, bool ignore_size)
{
	g_autoptr(GError) error = NULL;
	struct dump_sink ds = { NULL, -1, 0 };
	const char *sha = "-";
	bool ok = false;

	if (fetch) {
		uint64_t size = msg->size;

		if (strchr(msg->key, '/') != NULL || msg->key[0] == '.') {
			g_set_error(&error, INTAKE_ERROR, INTAKE_ERROR_MESSAGE,
				    "unsafe key");
			goto out;
		}
		ds.sha = g_checksum_new(G_CHECKSUM_SHA256);
		if (out_dir != NULL) {
			g_autofree char *name = g_strdup_printf("%s.eml",
								msg->key);
			g_autofree char *path = g_build_filename(out_dir, name,
								 NULL);

			ds.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC |
						   O_CLOEXEC | O_NOFOLLOW,
				     0644);
			if (ds.fd < 0) {
				g_set_error(&error, INTAKE_ERROR,
					    INTAKE_ERROR_IO, "%s: %s", path,
					    g_strerror(errno));
				goto out;
			}
		}
		if (ignore_size)
			msg->size = 0;
		ok = src->ops->fetch(src, msg, dump_sink, &ds, &error);
		msg->size = size;
		/* also after a failed fetch: it may have set \Seen before
		 * it stopped (a no-op when it never started) */
		if (restore && !msg->seen) {
			g_autoptr(GError) rerr = NULL;

			if (!src->ops->restore_seen(src, msg->key, &rerr)) {
				ok = false;
				if (error == NULL)
					error = g_steal_pointer(&rerr);
			}
		}
		if (!ok)
			goto out;
		sha = g_checksum_get_string(ds.sha);
	}
	ok = src->ops->mark(src, msg->key, &error);
out:
	printf("msg\tkey=%s\tuid=%" PRIu32 "\tflags=%s\tseen=%d\t"
	       "internaldate=%" PRId64 "\tsize=%" PRIu64 "\tsha256=%s\t"
	       "bytes=%" PRIu64 "\n", msg->key, msg->uid,
	       msg->flags ? msg->flags : "", msg->seen ? 1 : 0,
	       msg->internaldate, msg->size, ok ? sha : "-", ds.bytes);
	if (error != NULL)
		print_error(msg->key, error);
	if (ds.fd >= 0)
		close(ds.fd);
	if (ds.sha != NULL)
		g_checksum_free(ds.sha);
	return ok;
}

static bool
parse_mark(const char *s, struct intake_config *cfg)
{
	if (s == NULL || strcmp(s, "none") == 0) {
		cfg->mark = MARK_NONE;
	} else if (strcmp(s, "flag") == 0) {
		cfg->mark = MARK_FLAG;
	} else if (g_str_has_prefix(s, "flag:")) {
		cfg->mark = MARK_FLAG;
		cfg->mark_arg = g_strdup(s + 5);
	} else if (g_str_has_prefix(s, "move:")) {
		cfg->mark = MARK_MOVE;
		cfg->mark_arg = g_strdup(s + 5);
	} else {
		return false;
	}
	return true;
}

static char *
read_password(const char *path, GError **error)
{
	char *text = NULL;

	if (strcmp(path, "-") == 0)
		return g_strdup("");
	if (!g_file_get_contents(path, &text, NULL, error))
		return NULL;
	text[strcspn(text, "\r\n")] = '\0';
	return text;
}

static int
usage(GOptionContext *ctx, const char *why)
{
	g_autofree char *help = g_option_context_get_help(ctx, TRUE, NULL);

	fprintf(stderr, "source-dump: %s\n%s", why, help);
	return 2;
}

int
main(int argc, char **argv)
{
	g_autofree char *out_dir = NULL, *mark = NULL;
	gboolean no_fetch = FALSE, no_restore = FALSE, insecure = FALSE;
	gboolean ignore_size = FALSE, wait_stdin = FALSE;
	gint64 max_bytes = 100 * 1024 * 1024, since = 0;
	GOptionEntry entries[] = {
		{ "out", 0, 0, G_OPTION_ARG_FILENAME, &out_dir,
		  "write each message to DIR/KEY.eml", "DIR" },
		{ "no-fetch", 0, 0, G_OPTION_ARG_NONE, &no_fetch,
		  "list only", NULL },
		{ "no-restore", 0, 0, G_OPTION_ARG_NONE, &no_restore,
		  "leave \\Seen as the fetch set it", NULL },
		{ "max-bytes", 0, 0, G_OPTION_ARG_INT64, &max_bytes,
		  "max_message_bytes (0: none)", "N" },
		{ "since", 0, 0, G_OPTION_ARG_INT64, &since,
		  "only arrivals at or after this Unix time", "T" },
		{ "mark", 0, 0, G_OPTION_ARG_FILENAME, &mark,
		  "none, flag[:KEYWORD] or move:FOLDER", "MARK" },
		{ "insecure", 0, 0, G_OPTION_ARG_NONE, &insecure,
		  "allow imap:// without STARTTLS", NULL },
		{ "ignore-size", 0, 0, G_OPTION_ARG_NONE, &ignore_size,
		  "pretend RFC822.SIZE is 0", NULL },
		{ "wait", 0, 0, G_OPTION_ARG_NONE, &wait_stdin,
		  "after open, wait for a line on stdin", NULL },
		G_OPTION_ENTRY_NULL,
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new(
		"URL USER PASSFILE CAFILE [LASTUID UIDVALIDITY]");
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) msgs = NULL;
	struct intake_config cfg = { 0 };
	struct source_cursor cursor = { 0, 0 };
	struct source *src = NULL;
	uint32_t uidvalidity = 0;
	int status = 1;

	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &error))
		return usage(ctx, error->message);
	if (argc != 5 && argc != 7)
		return usage(ctx, "wrong number of arguments");
	if (!parse_mark(mark, &cfg))
		return usage(ctx, "--mark: none, flag[:KW] or move:FOLDER");
	if (argc == 7) {
		guint64 v;

		if (!g_ascii_string_to_unsigned(argv[5], 10, 0, UINT32_MAX, &v,
						NULL))
			return usage(ctx, "LASTUID is not a number");
		cursor.last_uid = (uint32_t)v;
		if (!g_ascii_string_to_unsigned(argv[6], 10, 0, UINT32_MAX, &v,
						NULL))
			return usage(ctx, "UIDVALIDITY is not a number");
		cursor.uidvalidity = (uint32_t)v;
	}
	cfg.mailbox_url = argv[1];
	cfg.mailbox_user = strcmp(argv[2], "-") == 0 ? NULL : argv[2];
	cfg.mailbox_ca_file = strcmp(argv[4], "-") == 0 ? NULL : argv[4];
	cfg.allow_insecure = insecure;
	cfg.limits.max_message_bytes = (uint64_t)MAX(max_bytes, 0);
	cfg.mailbox_password = read_password(argv[3], &error);
	if (cfg.mailbox_password == NULL) {
		fprintf(stderr, "source-dump: %s\n", error->message);
		status = 2;
		goto out;
	}
	src = source_new(&cfg, &error);
	if (src == NULL || !src->ops->open(src, &uidvalidity, &error))
		goto fail;
	printf("uidvalidity\t%" PRIu32 "\n", uidvalidity);
	fflush(stdout);
	if (wait_stdin) {
		char line[16];

		if (fgets(line, sizeof(line), stdin) == NULL)
			goto out;
	}
	if (!src->ops->list(src, &cursor, since, &msgs, &error))
		goto fail;
	status = 0;
	for (guint i = 0; i < msgs->len; i++)
		if (!dump_one(src, msgs->pdata[i], out_dir, !no_fetch,
			      !no_restore, ignore_size))
			status = 1;
	printf("count\t%u\n", msgs->len);
	goto out;
fail:
	fprintf(stderr, "source-dump: %s\n", error->message);
	printf("fatal\tcode=%s\n", code_name(error));
	status = error->code == INTAKE_ERROR_CONFIG ? 2 : 1;
out:
	source_free(src);
	g_free(cfg.mailbox_password);
	g_free(cfg.mark_arg);
	return status;
}
