/*
 * test_corpus.c - message_parse() over every file of the shared corpus
 *
 * Every file under $INTAKE_SHARED/corpus/mime (default ../shared, seen
 * from the repository's top, where tests/run starts us) is parsed in a
 * forked child with a 10 s alarm and a fresh work dir, so that a crash
 * or a hang is caught and named instead of ending the test.  Under
 * "make sanitize" (INTAKE_SANITIZE set) the child execs this program
 * again ("--one FILE WORK_DIR"), so that LeakSanitizer checks a fresh
 * process that did nothing but the parse.  A file
 * must either parse, with its invariants holding (UTF-8 text, every
 * part's file present with the size it claims, paths inside work_dir),
 * or be refused with a GError.
 *
 * Output: one PASS line per source directory, a FAIL line per file that
 * crashed, hung or broke an invariant, and one check of how often our
 * attachment names agree with stalwart-mail-parser's expectations (the
 * .json beside each of its .eml files) over the messages that carry
 * named attachments; the disagreements go to stderr.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-glib/json-glib.h>

#include "config.h"
#include "message.h"
#include "t.h"

#define CORPUS_ALARM 10		/* seconds per file */
#define CORPUS_DEPTH 8		/* directory levels walked */
#define CORPUS_NAMES_MAX (256 * 1024) /* child's report, bytes */
#define AGREE_THRESHOLD 95.0

enum child_status {
	CHILD_PARSED = 0,
	CHILD_REFUSED = 3,
	CHILD_BROKEN = 4,	/* parsed, but an invariant does not hold */
};

struct dir_tally {
	unsigned files, parsed, refused, bad;
};

struct agree_tally {
	unsigned messages, agree;
};

/* ---- the child ---------------------------------------------------- */

static bool
utf8_ok(const char *s)
{
	return s != NULL && g_utf8_validate(s, -1, NULL);
}

/* Checks what every parse must give; writes the depth-0 names, one a
 * line, to out. */
static int
child_check(const struct message *m, const char *work, FILE *out)
{
	size_t wlen = strlen(work);

	if (!utf8_ok(m->body_text) || !utf8_ok(m->subject) ||
	    (m->body_html != NULL && !utf8_ok(m->body_html)) ||
	    m->parts == NULL || m->content_type == NULL)
		return CHILD_BROKEN;
	for (unsigned i = 0; i < m->parts->len; i++) {
		const struct msg_part *p = g_ptr_array_index(m->parts, i);
		struct stat st;

		if (!utf8_ok(p->filename) || *p->filename == '\0' ||
		    strchr(p->filename, '/') != NULL || p->path == NULL ||
		    strncmp(p->path, work, wlen) != 0 ||
		    strstr(p->path + wlen, "..") != NULL ||
		    stat(p->path, &st) != 0 ||
		    (uint64_t)st.st_size != p->size || p->content_type == NULL)
			return CHILD_BROKEN;
		if (p->depth == 0 && p->named)
			fprintf(out, "%s\n", p->filename);
	}
	return CHILD_PARSED;
}

/* test_corpus --one FILE WORK_DIR: the child, in a fresh process image
 * (so that a sanitizer's leak check sees only what the parse left). */
static int
child_run(const char *path, const char *work)
{
	struct limits_config lim;
	struct message *m;
	GError *err = NULL;
	FILE *out = stdout;
	int status;

	message_init();
	config_limits_defaults(&lim);
	m = message_parse(path, work, &lim, &err);
	if (m == NULL) {
		status = err != NULL ? CHILD_REFUSED : CHILD_BROKEN;
		fprintf(stderr, "refused %s: %s\n", path,
			err != NULL ? err->message : "(no error set)");
		g_clear_error(&err);
	} else {
		status = child_check(m, work, out);
		message_free(m);
	}
	fflush(out);
	return status;
}

/* ---- the parent --------------------------------------------------- */

/* For g_ptr_array_sort(), which passes pointers to the elements. */
static int
ptr_strcmp(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
remove_dir(const char *dir)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *name;

	while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
		char *p = g_build_filename(dir, name, NULL);

		unlink(p);
		g_free(p);
	}
	if (d != NULL)
		g_dir_close(d);
	rmdir(dir);
}

/* Parses path in a child; returns the child's status (or -signal) and
 * the names it reported in *names_r. */
static int
parse_in_child(const char *path, char **names_r)
{
	char *work = g_dir_make_tmp("intake-corpus-XXXXXX", NULL);
	GString *names;
	int fds[2], wstatus = 0, result;
	pid_t pid;
	char buf[4096];
	ssize_t n;

	*names_r = NULL;
	if (work == NULL || pipe(fds) < 0) {
		if (work != NULL)
			rmdir(work);
		g_free(work);
		return -1000;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		char *argv[] = { "test_corpus", "--one", (char *)path, work,
				 NULL };

		close(fds[0]);
		if (dup2(fds[1], STDOUT_FILENO) < 0)
			_exit(127);
		alarm(CORPUS_ALARM);	/* survives the exec */
		if (getenv("INTAKE_SANITIZE") != NULL)
			execv("/proc/self/exe", argv);
		/* no exec (faster): _exit, as the parent's memory is here */
		_exit(child_run(path, work));
	}
	names = g_string_new(NULL);
	close(fds[1]);
	while (pid > 0 && (n = read(fds[0], buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (names->len < CORPUS_NAMES_MAX)
			g_string_append_len(names, buf, n);
	}
	close(fds[0]);
	while (pid > 0 && waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
		;
	if (pid < 0)
		result = -1000;
	else if (WIFSIGNALED(wstatus))
		result = -WTERMSIG(wstatus);
	else
		result = WEXITSTATUS(wstatus);
	remove_dir(work);
	g_free(work);
	*names_r = g_string_free(names, FALSE);
	return result;
}

/* Files under dir, recursively, sorted; symlinks are not followed. */
static void
list_files(const char *dir, unsigned depth, GPtrArray *out)
{
	GDir *d;
	const char *name;
	GPtrArray *here;

	if (depth > CORPUS_DEPTH)
		return;
	d = g_dir_open(dir, 0, NULL);
	if (d == NULL)
		return;
	here = g_ptr_array_new_with_free_func(g_free);
	while ((name = g_dir_read_name(d)) != NULL)
		g_ptr_array_add(here, g_build_filename(dir, name, NULL));
	g_dir_close(d);
	g_ptr_array_sort(here, ptr_strcmp);
	for (guint i = 0; i < here->len; i++) {
		const char *p = g_ptr_array_index(here, i);
		struct stat st;

		if (lstat(p, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode))
			list_files(p, depth + 1, out);
		else if (S_ISREG(st.st_mode))
			g_ptr_array_add(out, g_strdup(p));
	}
	g_ptr_array_unref(here);
}

/* ---- stalwart-mail-parser's expectations ---------------------------- */

static const char *
json_attr(JsonObject *header_value, const char *attr)
{
	JsonObject *ct;
	JsonArray *attrs;
	JsonNode *node;

	if (header_value == NULL ||
	    !json_object_has_member(header_value, "ContentType"))
		return NULL;
	ct = json_object_get_object_member(header_value, "ContentType");
	node = ct ? json_object_get_member(ct, "attributes") : NULL;
	if (node == NULL || !JSON_NODE_HOLDS_ARRAY(node))
		return NULL;
	attrs = json_node_get_array(node);
	for (guint i = 0; i < json_array_get_length(attrs); i++) {
		JsonObject *a = json_array_get_object_element(attrs, i);

		if (a != NULL &&
		    g_strcmp0(json_object_get_string_member(a, "name"),
			      attr) == 0)
			return json_object_get_string_member(a, "value");
	}
	return NULL;
}

static JsonObject *
json_header(JsonObject *part, const char *name)
{
	JsonArray *headers = json_object_get_array_member(part, "headers");

	for (guint i = 0; headers && i < json_array_get_length(headers); i++) {
		JsonObject *h = json_array_get_object_element(headers, i);
		JsonNode *v;

		if (h == NULL ||
		    g_strcmp0(json_object_get_string_member(h, "name"),
			      name) != 0)
			continue;
		v = json_object_get_member(h, "value");
		return v != NULL && JSON_NODE_HOLDS_OBJECT(v) ?
			       json_node_get_object(v) : NULL;
	}
	return NULL;
}

/* The JSON's media type of a part, "type/subtype" lower case, or NULL. */
static char *
json_type(JsonObject *part)
{
	JsonObject *v = json_header(part, "content_type"), *ct;
	const char *type, *sub;
	char *both, *lower;

	if (v == NULL || !json_object_has_member(v, "ContentType"))
		return NULL;
	ct = json_object_get_object_member(v, "ContentType");
	type = ct ? json_object_get_string_member(ct, "c_type") : NULL;
	if (type == NULL)
		return NULL;
	sub = json_object_get_null_member(ct, "c_subtype") ? NULL :
		json_object_get_string_member(ct, "c_subtype");
	both = g_strdup_printf("%s/%s", type, sub ? sub : "");
	lower = g_ascii_strdown(both, -1);
	g_free(both);
	return lower;
}

/* What stalwart calls an attachment and we do not, by design: message
 * parts (we descend into forwarded messages; external-body and partial
 * are not files) and signatures (protocol, not content). */
static bool
json_not_compared(JsonObject *part)
{
	static const char *const protocol[] = {
		"application/pgp-signature", "application/pkcs7-signature",
		"application/x-pkcs7-signature",
	};
	JsonObject *body = json_object_get_object_member(part, "body");
	char *type = json_type(part);
	bool skip = body == NULL || json_object_has_member(body, "Message") ||
		    (type != NULL && (g_str_has_prefix(type, "message/") ||
				      g_str_has_prefix(type, "multipart/")));

	for (size_t i = 0; type != NULL && i < G_N_ELEMENTS(protocol); i++)
		skip = skip || strcmp(type, protocol[i]) == 0;
	g_free(type);
	return skip;
}

/* The names stalwart gives the top-level attachments that have one,
 * the kinds json_not_compared() names left out; sorted. */
static GPtrArray *
stalwart_names(const char *json_path)
{
	JsonParser *parser = json_parser_new();
	GPtrArray *names = NULL;
	JsonObject *root;
	JsonArray *att, *parts;

	if (!json_parser_load_from_file(parser, json_path, NULL))
		goto out;
	root = json_node_get_object(json_parser_get_root(parser));
	att = root ? json_object_get_array_member(root, "attachments") : NULL;
	parts = root ? json_object_get_array_member(root, "parts") : NULL;
	if (att == NULL || parts == NULL)
		goto out;
	names = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < json_array_get_length(att); i++) {
		guint idx = (guint)json_array_get_int_element(att, i);
		JsonObject *part;
		const char *name;

		if (idx >= json_array_get_length(parts))
			continue;
		part = json_array_get_object_element(parts, idx);
		if (part == NULL || json_not_compared(part))
			continue;
		name = json_attr(json_header(part, "content_disposition"),
				 "filename");
		if (name == NULL)
			name = json_attr(json_header(part, "content_type"),
					 "name");
		if (name != NULL && *name != '\0')
			g_ptr_array_add(names, g_strdup(name));
	}
	g_ptr_array_sort(names, ptr_strcmp);
out:
	g_object_unref(parser);
	return names;
}

/* Equal, where stalwart's U+FFFD (an 8-bit byte it could not decode)
 * stands for what our fallback charset made of it: one character of
 * ours, which may also have taken the byte after it when GB18030 read
 * the two as one double-byte character (Latin-1 "Frösche" reads as
 * "Fr鰏che").  depth bounds the backtracking. */
static bool
name_matches(const char *ours, const char *theirs, unsigned depth)
{
	while (*ours != '\0' && *theirs != '\0') {
		gunichar t = g_utf8_get_char(theirs);

		if (t == 0xfffd) {
			const char *one = g_utf8_next_char(ours);
			const char *rest = g_utf8_next_char(theirs);

			if (depth > 8)
				return false;
			return name_matches(one, rest, depth + 1) ||
			       (*rest != '\0' &&
				name_matches(one, g_utf8_next_char(rest),
					     depth + 1));
		}
		if (t != g_utf8_get_char(ours))
			return false;
		ours = g_utf8_next_char(ours);
		theirs = g_utf8_next_char(theirs);
	}
	return *ours == '\0' && *theirs == '\0';
}

static void
compare_stalwart(const char *eml, const char *names, struct agree_tally *t)
{
	char *json = g_strdup_printf("%.*s.json", (int)(strlen(eml) - 4), eml);
	GPtrArray *theirs, *ours;
	char **lines;
	bool same;

	theirs = stalwart_names(json);
	if (theirs == NULL) {
		g_free(json);
		return;
	}
	ours = g_ptr_array_new();
	lines = g_strsplit(names, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++)
		if (*lines[i] != '\0')
			g_ptr_array_add(ours, lines[i]);
	g_ptr_array_sort(ours, ptr_strcmp);
	if (ours->len > 0 || theirs->len > 0) {
		same = ours->len == theirs->len;
		for (guint i = 0; same && i < ours->len; i++)
			same = name_matches(g_ptr_array_index(ours, i),
					    g_ptr_array_index(theirs, i), 0);
		t->messages++;
		if (same) {
			t->agree++;
		} else {
			fprintf(stderr, "disagree %s:\n  ours:", eml);
			for (guint i = 0; i < ours->len; i++)
				fprintf(stderr, " [%s]",
					(char *)g_ptr_array_index(ours, i));
			fprintf(stderr, "\n  stalwart:");
			for (guint i = 0; i < theirs->len; i++)
				fprintf(stderr, " [%s]",
					(char *)g_ptr_array_index(theirs, i));
			fprintf(stderr, "\n");
		}
	}
	g_strfreev(lines);
	g_ptr_array_unref(ours);
	g_ptr_array_unref(theirs);
	g_free(json);
}

static void
run_source(const char *mime_dir, const char *source, struct agree_tally *agree)
{
	char *dir = g_build_filename(mime_dir, source, NULL);
	GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
	struct dir_tally t = { 0 };
	bool stalwart = strcmp(source, "stalwart-mail-parser") == 0;
	char line[512];

	list_files(dir, 0, files);
	for (guint i = 0; i < files->len; i++) {
		const char *path = g_ptr_array_index(files, i);
		const char *rel = path + strlen(mime_dir) + 1;
		char *names = NULL;
		int r = parse_in_child(path, &names);

		t.files++;
		if (r == CHILD_PARSED) {
			t.parsed++;
			if (stalwart && g_str_has_suffix(path, ".eml"))
				compare_stalwart(path, names, agree);
		} else if (r == CHILD_REFUSED) {
			t.refused++;
		} else {
			t.bad++;
			g_snprintf(line, sizeof(line), "corpus %s", rel);
			if (r == -SIGALRM)
				t_report(line, 0, __FILE__, __LINE__,
					 "hung (alarm after 10 s)");
			else if (r < 0 && r > -1000)
				t_report(line, 0, __FILE__, __LINE__,
					 strsignal(-r));
			else if (r == CHILD_BROKEN)
				t_report(line, 0, __FILE__, __LINE__,
					 "parsed, but an invariant is broken");
			else
				t_report(line, 0, __FILE__, __LINE__,
					 "child failed (sanitizer report?)");
		}
		g_free(names);
	}
	if (t.bad == 0) {
		g_snprintf(line, sizeof(line),
			   "corpus %s: %u files, %u parsed, %u refused", source,
			   t.files, t.parsed, t.refused);
		T_CHECK(line, t.files > 0);
	}
	g_ptr_array_unref(files);
	g_free(dir);
}

int
main(int argc, char **argv)
{
	const char *shared = getenv("INTAKE_SHARED");
	char *mime_dir;
	struct agree_tally agree = { 0 };
	GPtrArray *sources;
	GDir *d;
	const char *name;
	char line[256];
	double pct;

	if (argc == 4 && strcmp(argv[1], "--one") == 0)
		return child_run(argv[2], argv[3]);
	mime_dir = g_build_filename(shared ? shared : "../shared", "corpus",
				    "mime", NULL);
	sources = g_ptr_array_new_with_free_func(g_free);
	d = g_dir_open(mime_dir, 0, NULL);
	if (d == NULL) {
		printf("FAIL corpus: not found (%s)\n", mime_dir);
		g_ptr_array_unref(sources);
		g_free(mime_dir);
		return 1;
	}
	while ((name = g_dir_read_name(d)) != NULL) {
		char *p = g_build_filename(mime_dir, name, NULL);

		if (g_file_test(p, G_FILE_TEST_IS_DIR))
			g_ptr_array_add(sources, g_strdup(name));
		g_free(p);
	}
	g_dir_close(d);
	g_ptr_array_sort(sources, ptr_strcmp);
	for (guint i = 0; i < sources->len; i++)
		run_source(mime_dir, g_ptr_array_index(sources, i), &agree);

	pct = agree.messages ? 100.0 * agree.agree / agree.messages : 0.0;
	g_snprintf(line, sizeof(line),
		   "corpus stalwart attachment names agree: %u of %u messages "
		   "(%.1f%%, need %.0f%%)", agree.agree, agree.messages, pct,
		   AGREE_THRESHOLD);
	T_CHECK(line, agree.messages > 0 && pct >= AGREE_THRESHOLD);
	g_ptr_array_unref(sources);
	g_free(mime_dir);
	return t_done();
}
