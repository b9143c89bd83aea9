/*
 * config_keyfile.c - reading checked values from a GKeyFile (config_int.h)
 *
 * Shared by intake.conf (config.c) and units.conf (config_units.c).  A
 * file is read whole (at most CONFIG_FILE_MAX bytes), must be UTF-8, and
 * is refused when a group appears twice (GKeyFile would merge the two
 * silently) or a key is localised ("name[zh_CN]", which GKeyFile hides
 * from g_key_file_get_keys()).
 *
 * Password files: a regular file, not accessible to group or others,
 * non-empty, at most CONFIG_SECRET_MAX bytes, one line; one trailing LF
 * or CRLF is removed.  Under systemd, when password_file is not set and
 * $CREDENTIALS_DIRECTORY is, $CREDENTIALS_DIRECTORY/imap (resp. /smtp)
 * is read with the same checks.  Buffers that held a password are
 * cleared.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_int.h"

#define CONFIG_SECRET_MAX 1024 /* bytes of a password file */
#define CONFIG_ADDRESS_MAX 254 /* bytes of an address (RFC 5321) */

void
config_error(GError **error, const char *file, const char *group,
	     const char *key, const char *fmt, ...)
{
	g_autofree char *what = NULL;
	va_list ap;

	va_start(ap, fmt);
	what = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (group && key)
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_CONFIG,
			    "%s: [%s] %s: %s", file, group, key, what);
	else if (group)
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_CONFIG,
			    "%s: [%s]: %s", file, group, what);
	else
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_CONFIG,
			    "%s: %s", file, what);
}

void
config_warn(struct intake_config *cfg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	g_ptr_array_add(cfg->warnings, g_strdup_vprintf(fmt, ap));
	va_end(ap);
}

static bool
has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

bool
config_in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (strcmp(*list, s) == 0)
			return true;
	return false;
}

/* Reads path (bounded), refuses duplicate groups, parses it. */
bool
config_file_open(struct config_file *f, const char *path, GError **error)
{
	g_autofree char *text = NULL;
	g_autofree char *abs = NULL;
	g_autoptr(GHashTable) seen = NULL;
	g_autoptr(GError) err = NULL;
	g_auto(GStrv) lines = NULL;
	const char *group = NULL;
	struct stat st;
	gsize len = 0;

	f->path = path;
	if (stat(path, &st) == 0 && (uint64_t)st.st_size > CONFIG_FILE_MAX) {
		config_error(error, path, NULL, NULL,
			     "larger than %d bytes", CONFIG_FILE_MAX);
		return false;
	}
	if (!g_file_get_contents(path, &text, &len, &err)) {
		config_error(error, path, NULL, NULL, "cannot read: %s",
			     err->message);
		return false;
	}
	if (!g_utf8_validate(text, (gssize)len, NULL)) {
		config_error(error, path, NULL, NULL, "not valid UTF-8");
		return false;
	}
	/* GKeyFile merges a repeated group silently, and hides localised
	 * keys ("name[zh_CN]") from g_key_file_get_keys(): refuse both. */
	seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	lines = g_strsplit(text, "\n", -1);
	for (char **l = lines; *l; l++) {
		char *s = g_strstrip(*l);
		size_t n = strlen(s);
		const char *eq = strchr(s, '=');

		if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
			s[n - 1] = '\0';
			group = s + 1;
			if (!g_hash_table_add(seen, g_strdup(group))) {
				config_error(error, path, group, NULL,
					     "the group appears twice");
				return false;
			}
		} else if (s[0] != '#' && eq &&
			   memchr(s, '[', (size_t)(eq - s))) {
			g_autofree char *key = g_strndup(s, (size_t)(eq - s));

			config_error(error, path, group ? group : "?",
				     g_strstrip(key), "unknown key (localised "
				     "keys are not supported)");
			return false;
		}
	}
	f->kf = g_key_file_new();
	if (!g_key_file_load_from_data(f->kf, text, len, G_KEY_FILE_NONE,
				       &err)) {
		config_error(error, path, NULL, NULL, "%s", err->message);
		return false;
	}
	abs = g_canonicalize_filename(path, NULL);
	f->dir = g_path_get_dirname(abs);
	return true;
}

void
config_file_close(struct config_file *f)
{
	g_clear_pointer(&f->kf, g_key_file_free);
	g_clear_pointer(&f->dir, g_free);
}

/* *value_r: the stripped value, or NULL when absent or empty. */
bool
config_string(struct config_file *f, const char *group, const char *key,
	      char **value_r, GError **error)
{
	g_autoptr(GError) err = NULL;
	char *v;

	*value_r = NULL;
	if (!g_key_file_has_key(f->kf, group, key, NULL))
		return true;
	v = g_key_file_get_string(f->kf, group, key, &err);
	if (!v) {
		config_error(error, f->path, group, key, "%s", err->message);
		return false;
	}
	g_strstrip(v);
	if (has_control(v)) {
		g_free(v);
		config_error(error, f->path, group, key,
			     "contains a control character");
		return false;
	}
	if (*v == '\0')
		g_free(v);
	else
		*value_r = v;
	return true;
}

bool
config_required(struct config_file *f, const char *group, const char *key,
		char **value_r, GError **error)
{
	if (!config_string(f, group, key, value_r, error))
		return false;
	if (!*value_r) {
		config_error(error, f->path, group, key, "missing (required)");
		return false;
	}
	return true;
}

/* Keeps *value_r (the default) when the key is not set. */
bool
config_uint(struct config_file *f, const char *group, const char *key,
	    uint64_t min, uint64_t max, uint64_t *value_r, GError **error)
{
	g_autofree char *v = NULL;
	guint64 n;

	if (!config_string(f, group, key, &v, error))
		return false;
	if (!v)
		return true;
	for (const char *p = v; *p; p++) {
		if (!g_ascii_isdigit(*p)) {
			config_error(error, f->path, group, key,
				     "\"%s\" is not a whole number", v);
			return false;
		}
	}
	if (!g_ascii_string_to_unsigned(v, 10, min, max, &n, NULL)) {
		config_error(error, f->path, group, key,
			     "%s is out of range (%" G_GUINT64_FORMAT " to %"
			     G_GUINT64_FORMAT ")", v, (guint64)min,
			     (guint64)max);
		return false;
	}
	*value_r = n;
	return true;
}

bool
config_nums(struct config_file *f, const char *group,
	    const struct config_num *nums, size_t n_nums, void *base,
	    GError **error)
{
	for (size_t i = 0; i < n_nums; i++) {
		char *field = (char *)base + nums[i].offset;
		uint64_t v;

		if (nums[i].size == sizeof(uint64_t)) {
			memcpy(&v, field, sizeof(v));
		} else {
			unsigned u;

			memcpy(&u, field, sizeof(u));
			v = u;
		}
		if (!config_uint(f, group, nums[i].key, nums[i].min,
				 nums[i].max, &v, error))
			return false;
		if (nums[i].size == sizeof(uint64_t)) {
			memcpy(field, &v, sizeof(v));
		} else {
			unsigned u = (unsigned)v;

			memcpy(field, &u, sizeof(u));
		}
	}
	return true;
}

bool
config_bool(struct config_file *f, const char *group, const char *key,
	    bool *value_r, GError **error)
{
	g_autofree char *v = NULL;

	if (!config_string(f, group, key, &v, error))
		return false;
	if (!v)
		return true;
	if (strcmp(v, "true") == 0) {
		*value_r = true;
	} else if (strcmp(v, "false") == 0) {
		*value_r = false;
	} else {
		config_error(error, f->path, group, key,
			     "\"%s\" is not true or false", v);
		return false;
	}
	return true;
}

/* Index of the value in choices; keeps *index_r when not set. */
bool
config_choice(struct config_file *f, const char *group, const char *key,
	      const char *const *choices, int *index_r, GError **error)
{
	g_autofree char *v = NULL;
	g_autofree char *all = NULL;

	if (!config_string(f, group, key, &v, error))
		return false;
	if (!v)
		return true;
	for (int i = 0; choices[i]; i++) {
		if (strcmp(choices[i], v) == 0) {
			*index_r = i;
			return true;
		}
	}
	all = g_strjoinv(" or ", (char **)choices);
	config_error(error, f->path, group, key, "\"%s\" is not %s", v, all);
	return false;
}

/* A path, relative ones resolved against base (NULL: must be absolute). */
bool
config_path(struct config_file *f, const char *group, const char *key,
	    const char *base, char **value_r, GError **error)
{
	g_autofree char *v = NULL;

	if (!config_string(f, group, key, &v, error))
		return false;
	if (!v)
		return true;
	if (!g_path_is_absolute(v) && !base) {
		config_error(error, f->path, group, key,
			     "\"%s\" is not an absolute path", v);
		return false;
	}
	g_free(*value_r);
	*value_r = g_canonicalize_filename(v, base);
	return true;
}

/* An optional file that must exist (CA bundles). */
bool
config_existing_file(struct config_file *f, const char *group, const char *key,
		     char **value_r, GError **error)
{
	struct stat st;

	if (!config_path(f, group, key, f->dir, value_r, error))
		return false;
	if (!*value_r)
		return true;
	if (stat(*value_r, &st) != 0) {
		config_error(error, f->path, group, key, "%s: %s", *value_r,
			     g_strerror(errno));
		return false;
	}
	if (!S_ISREG(st.st_mode)) {
		config_error(error, f->path, group, key,
			     "%s is not a regular file", *value_r);
		return false;
	}
	return true;
}

/* A ';' separated list: items trimmed, empty ones dropped. */
bool
config_list(struct config_file *f, const char *group, const char *key,
	    char ***list_r, GError **error)
{
	g_autofree char *v = NULL;
	g_auto(GStrv) parts = NULL;
	g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);

	if (!config_string(f, group, key, &v, error))
		return false;
	if (v) {
		parts = g_strsplit(v, ";", -1);
		for (char **p = parts; *p; p++) {
			g_strstrip(*p);
			if (**p == '\0')
				continue;
			if (out->len >= CONFIG_LIST_MAX) {
				config_error(error, f->path, group, key,
					     "more than %d items",
					     CONFIG_LIST_MAX);
				return false;
			}
			g_ptr_array_add(out, g_strdup(*p));
		}
	}
	g_ptr_array_add(out, NULL);
	g_strfreev(*list_r);
	*list_r = (char **)g_ptr_array_free(g_steal_pointer(&out), FALSE);
	return true;
}

/* local@domain: exactly one '@', both sides non-empty, no spaces,
 * controls or address punctuation. */
bool
config_address_ok(const char *a)
{
	const char *at = strchr(a, '@');

	if (!at || at == a || at[1] == '\0' || strchr(at + 1, '@'))
		return false;
	if (strlen(a) > CONFIG_ADDRESS_MAX)
		return false;
	for (const unsigned char *p = (const unsigned char *)a; *p; p++)
		if (*p <= 0x20 || *p == 0x7f || strchr("<>,;:\"()[]\\", *p))
			return false;
	return true;
}

/* Reads a password file: regular, private, non-empty, bounded. */
static bool
cfg_read_secret(const char *path, char **secret_r, char **why_r)
{
	char buf[CONFIG_SECRET_MAX + 1];
	size_t len = 0;
	struct stat st;
	bool ok = false;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		*why_r = g_strdup_printf("%s: %s", path, g_strerror(errno));
		return false;
	}
	if (fstat(fd, &st) != 0) {
		*why_r = g_strdup_printf("%s: %s", path, g_strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		*why_r = g_strdup_printf("%s is not a regular file", path);
		goto out;
	}
	if (st.st_mode & 077) {
		*why_r = g_strdup_printf("%s is accessible to group or others "
					 "(mode %04o): chmod 600 it", path,
					 (unsigned)(st.st_mode & 07777));
		goto out;
	}
	while (len < sizeof(buf)) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*why_r = g_strdup_printf("%s: %s", path,
						 g_strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > CONFIG_SECRET_MAX) {
		*why_r = g_strdup_printf("%s is larger than %d bytes", path,
					 CONFIG_SECRET_MAX);
		goto out;
	}
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	if (len == 0) {
		*why_r = g_strdup_printf("%s is empty", path);
		goto out;
	}
	if (memchr(buf, '\n', len) || memchr(buf, '\r', len) ||
	    memchr(buf, '\0', len)) {
		*why_r = g_strdup_printf("%s has more than one line", path);
		goto out;
	}
	*secret_r = g_strndup(buf, len);
	ok = true;
out:
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	return ok;
}

/* password_file, or $CREDENTIALS_DIRECTORY/<cred> under systemd. */
bool
config_password(struct config_file *f, const char *group, const char *cred,
		char **password_r, GError **error)
{
	g_autofree char *file = NULL;
	g_autofree char *why = NULL;
	const char *credir;

	if (!config_path(f, group, "password_file", f->dir, &file, error))
		return false;
	if (f->no_secrets)
		return true;
	if (!file) {
		credir = g_getenv("CREDENTIALS_DIRECTORY");
		if (!credir || !*credir) {
			config_error(error, f->path, group, "password_file",
				     "missing (required with a username; or "
				     "set $CREDENTIALS_DIRECTORY/%s)", cred);
			return false;
		}
		file = g_build_filename(credir, cred, NULL);
		if (!cfg_read_secret(file, password_r, &why)) {
			config_error(error, f->path, group, "password_file",
				     "not set, and $CREDENTIALS_DIRECTORY/%s: "
				     "%s", cred, why);
			return false;
		}
		return true;
	}
	if (!cfg_read_secret(file, password_r, &why)) {
		config_error(error, f->path, group, "password_file", "%s",
			     why);
		return false;
	}
	return true;
}
