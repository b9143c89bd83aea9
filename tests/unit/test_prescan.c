/*
 * test_prescan.c - prescan_message(): the limits before parsing
 *
 * Each case is a message built in memory, written to a temporary file
 * and scanned with small limits: where the headers start, or which limit
 * refuses it (a word of the Chinese reason).
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "prescan.h"
#include "t.h"

enum shape {
	PLAIN,        /* the text as it is */
	PARTS,        /* a multipart with n parts of one short header each */
	FORWARDS,     /* n forwarded messages, each with a 40-byte header */
	DASHES,       /* a text body of n lines "--x" */
};

static const struct {
	const char *label;
	enum shape shape;
	const char *text;      /* PLAIN */
	unsigned n;
	uint64_t max_message, max_header;
	unsigned max_parts;
	off_t start;           /* where the headers begin */
	const char *refused;   /* NULL: passes; else a word of the reason */
} cases[] = {
	{ "plain", PLAIN, "From: a@b\nSubject: x\n\nbody\n", 0, 1000, 100,
	  10, 0, NULL },
	{ "blank lines before the headers", PLAIN,
	  "  \n\t\r\nFrom: a@b\n\nbody\n", 0, 1000, 100, 10, 6, NULL },
	{ "an empty first line stays", PLAIN, "\nFrom: a@b\n\nbody\n", 0,
	  1000, 100, 10, 0, NULL },
	{ "a CRLF first line stays", PLAIN, "\r\nFrom: a@b\r\n\r\nbody\r\n", 0,
	  1000, 100, 10, 0, NULL },
	{ "at max_message_bytes", PLAIN, "From: a@b\n\n12345678\n", 0, 20, 100,
	  10, 0, NULL },
	{ "over max_message_bytes", PLAIN, "From: a@b\n\n123456789\n", 0, 20,
	  100, 10, 0, "max_message_bytes" },
	{ "header over max_header_bytes", PLAIN,
	  "From: a@b\nSubject: 0123456789012345678901234567890123456789\n\n"
	  "body\n", 0, 1000, 40, 10, 0, "max_header_bytes" },
	{ "a long body is not header", PLAIN,
	  "From: a@b\n\n0123456789012345678901234567890123456789\n", 0, 1000,
	  40, 10, 0, NULL },
	{ "part headers within the limit", PARTS, NULL, 3, 10000, 400, 10, 0,
	  NULL },
	{ "part headers add up", PARTS, NULL, 30, 10000, 400, 100, 0,
	  "max_header_bytes" },
	{ "forwarded headers add up", FORWARDS, NULL, 7, 10000, 400, 100, 0,
	  "max_header_bytes" },
	{ "forwarded headers within the limit", FORWARDS, NULL, 2, 10000, 400,
	  100, 0, NULL },
	{ "boundaries at the slack", DASHES, NULL, 2 * 10 + 64, 100000, 400,
	  10, 0, NULL },
	{ "boundaries over max_parts", DASHES, NULL, 2 * 10 + 65, 100000, 400,
	  10, 0, "max_parts" },
};

static GString *
build(unsigned i)
{
	GString *s = g_string_new(NULL);

	switch (cases[i].shape) {
	case PLAIN:
		g_string_append(s, cases[i].text);
		break;
	case PARTS:
		g_string_append(s, "From: a@b\nContent-Type: multipart/mixed;"
				   " boundary=b\n\n");
		for (unsigned k = 0; k < cases[i].n; k++)
			g_string_append(s, "--b\nContent-Type: text/plain\n\n"
					   "text\n");
		g_string_append(s, "--b--\n");
		break;
	case FORWARDS:
		g_string_append(s, "From: a@b\nContent-Type: multipart/mixed;"
				   " boundary=b\n\n");
		for (unsigned k = 0; k < cases[i].n; k++)
			g_string_append(s, "--b\nContent-Type: message/rfc822"
					   "\n\nFrom: forwarded@example.cn\n"
					   "To: x\n\ntext\n");
		g_string_append(s, "--b--\n");
		break;
	case DASHES:
		g_string_append(s, "From: a@b\n\n");
		for (unsigned k = 0; k < cases[i].n; k++)
			g_string_append(s, "--x\n");
		break;
	}
	return s;
}

static void
run(unsigned i, char *buf)
{
	const char *name = cases[i].label;
	g_autoptr(GString) text = build(i);
	g_autoptr(GError) err = NULL;
	g_autofree char *path = NULL;
	struct limits_config lim;
	off_t start = -1;
	char where[8];
	bool ok;
	int fd;

	config_limits_defaults(&lim);
	lim.max_message_bytes = cases[i].max_message;
	lim.max_header_bytes = cases[i].max_header;
	lim.max_parts = cases[i].max_parts;
	fd = g_file_open_tmp("test_prescan-XXXXXX", &path, NULL);
	ok = fd >= 0 && write(fd, text->str, text->len) ==
				(ssize_t)text->len &&
	     lseek(fd, 0, SEEK_SET) == 0;
	T_CHECK(name, ok);
	if (!ok)
		goto out;
	ok = prescan_message(fd, path, &lim, buf, &start, &err);
	if (cases[i].refused == NULL) {
		T_CHECK(name, ok && err == NULL);
		T_INTEQ(name, start, cases[i].start);
		/* fd is left where the headers begin */
		T_INTEQ(name, read(fd, where, 5), 5);
		T_CHECK(name, memcmp(where, text->str + cases[i].start, 5) ==
				      0);
	} else {
		T_CHECK(name, !ok && err != NULL &&
				      err->code == INTAKE_ERROR_LIMIT);
		T_CHECK(name, err != NULL &&
				      strstr(err->message, cases[i].refused) !=
					      NULL);
	}
out:
	if (fd >= 0)
		close(fd);
	if (path != NULL)
		unlink(path);
}

int
main(void)
{
	char *buf = g_malloc(INTAKE_IO_BLOCK);
	g_autoptr(GError) err = NULL;
	struct limits_config lim;
	off_t start;
	int dir;

	for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++)
		run(i, buf);

	config_limits_defaults(&lim);
	dir = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	T_CHECK("a directory is no message",
		dir >= 0 &&
			!prescan_message(dir, "/", &lim, buf, &start, &err) &&
			err != NULL && err->code == INTAKE_ERROR_IO);
	if (dir >= 0)
		close(dir);
	g_free(buf);
	return t_done();
}
