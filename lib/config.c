/*
 * config.c - intake.conf (GKeyFile), DESIGN.md §5
 *
 * Every value is checked, and so is every name: an unknown group or key
 * is an error, because a typo must not be silently ignored.  Every error
 * names the file, the group and the key and says what is wrong:
 *   /etc/intake/intake.conf: [rules] photo_max: "six" is not a whole number
 * A group that appears twice is an error too (GKeyFile would merge the
 * two quietly).  Empty values ("ca_file =") mean "not set".  The module
 * is three files: this one (intake.conf's groups), config_keyfile.c
 * (reading checked values, password files) and config_units.c
 * (units.conf).
 *
 * Conventions chosen here (DESIGN.md is silent on them):
 *   - units_file, template_dir, password_file and ca_file may be relative:
 *     they are resolved against the directory of intake.conf;
 *     report_path is resolved against state_dir (it is output).
 *   - [campaign] grace is whole seconds, or a number with a unit:
 *     "90s", "30m", "2h", "1d"; at most 90 days.
 *   - [campaign] name is optional (default: empty).
 *   - Dates need an explicit UTC offset: "2022-10-10T23:59:59+08:00".
 *   - Without [smtp] url no replies are composed or sent; any other [smtp] key
 *     without a url is an error (the url was probably forgotten).
 *   - mark = flag sets the keyword $Filed; flag:KEYWORD takes an IMAP
 *     atom (or a system flag such as \Flagged); move:FOLDER any folder
 *     name without control characters.
 *   - [rules] link_prefixes: http:// or https:// URL prefixes with a host
 *     (printable ASCII, no user name); links.c matches them at a host
 *     boundary, so a prefix without a path still cannot be fooled by
 *     "https://host.evil.example/".
 *   - Cross-checks that are errors: photo_min_short <= photo_min_long,
 *     max_header_bytes <= max_message_bytes, start < deadline.  Ones that
 *     are only warnings (tests shrink the worker on purpose):
 *     max_jpeg_memory < worker_memory, video_probe_seconds <
 *     worker_seconds.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gmime/gmime.h>

#include "config_int.h"

#define CFG_GRACE_MAX (90u * 86400u) /* seconds */
#define CFG_LINK_PREFIX_MAX 1024      /* bytes of a link prefix */

#define CFG_NUM(type, field, lo, hi)                                   \
	{ #field, offsetof(struct type, field),                        \
	  sizeof(((struct type *)0)->field), (lo), (hi) }

static const struct config_num rules_nums[] = {
	CFG_NUM(rules_config, photo_max, 1, 1000),
	CFG_NUM(rules_config, photo_min_long, 1, 65535),
	CFG_NUM(rules_config, photo_min_short, 1, 65535),
	CFG_NUM(rules_config, video_min_short, 1, 65535),
};

#define KIB 1024ull
#define MIB (1024ull * 1024)
#define GIB (1024ull * 1024 * 1024)
#define TIB (1024ull * GIB)

static const struct config_num limits_nums[] = {
	CFG_NUM(limits_config, max_message_bytes, 1 * KIB, 1 * TIB),
	CFG_NUM(limits_config, max_header_bytes, 1 * KIB, 1 * GIB),
	CFG_NUM(limits_config, max_parts, 1, 1000000),
	CFG_NUM(limits_config, max_depth, 1, 1000),
	CFG_NUM(limits_config, max_decoded_bytes, 1 * KIB, 4 * TIB),
	CFG_NUM(limits_config, max_archive_members, 1, 1000000),
	CFG_NUM(limits_config, max_archive_bytes, 1 * KIB, 4 * TIB),
	CFG_NUM(limits_config, max_archive_ratio, 1, 1000000),
	CFG_NUM(limits_config, max_photo_pixels, 1, 65535ull * 65535ull),
	CFG_NUM(limits_config, max_jpeg_scans, 1, 100000),
	CFG_NUM(limits_config, max_jpeg_memory, 1 * MIB, 1 * TIB),
	CFG_NUM(limits_config, video_probe_seconds, 1, 3600),
	CFG_NUM(limits_config, worker_seconds, 1, 86400),
	CFG_NUM(limits_config, worker_memory, 64 * MIB, 16 * TIB),
	CFG_NUM(limits_config, max_attempts, 1, 100),
	CFG_NUM(limits_config, replies_per_sender, 1, 100000),
};

static const char *const mailbox_keys[] = {
	"url", "username", "password_file", "ca_file", "poll_interval",
	"mark", "allow_insecure", "authserv_id", NULL
};
static const char *const smtp_keys[] = {
	"url", "username", "password_file", "from", "ca_file", "helo", NULL
};
static const char *const campaign_keys[] = {
	"name", "start", "deadline", "grace", "keywords", "late_policy",
	"digest_to", NULL
};
static const char *const rules_keys[] = {
	"photo_caption", "video_required", "summary_required",
	"link_prefixes", NULL
};
static const char *const storage_keys[] = {
	"state_dir", "units_file", "template_dir", "report_path", NULL
};
static const char *const no_keys[] = { NULL };

struct cfg_group {
	const char *name;
	const char *const *keys;
	const struct config_num *nums;
	size_t n_nums;
};

static const struct cfg_group intake_groups[] = {
	{ "mailbox", mailbox_keys, NULL, 0 },
	{ "smtp", smtp_keys, NULL, 0 },
	{ "campaign", campaign_keys, NULL, 0 },
	{ "rules", rules_keys, rules_nums, G_N_ELEMENTS(rules_nums) },
	{ "storage", storage_keys, NULL, 0 },
	{ "limits", no_keys, limits_nums, G_N_ELEMENTS(limits_nums) },
};

void
config_rules_defaults(struct rules_config *rules)
{
	rules->photo_max = 6;
	rules->photo_min_long = 1024;
	rules->photo_min_short = 768;
	rules->caption_required = true;
	rules->video_min_short = 720;
	rules->video_required = false;
	rules->summary_required = true;
	rules->link_prefixes = NULL;
}

void
config_limits_defaults(struct limits_config *limits)
{
	limits->max_message_bytes = 100 * MIB;
	limits->max_header_bytes = 1 * MIB;
	limits->max_parts = 500;
	limits->max_depth = 20;
	limits->max_decoded_bytes = 1 * GIB;
	limits->max_archive_members = 200;
	limits->max_archive_bytes = 1 * GIB;
	limits->max_archive_ratio = 100;
	limits->max_photo_pixels = 100000000;
	limits->max_jpeg_scans = 100;
	limits->max_jpeg_memory = 256 * MIB;
	limits->video_probe_seconds = 20;
	limits->worker_seconds = 300;
	limits->worker_memory = 1 * GIB;
	limits->max_attempts = 3;
	limits->replies_per_sender = 20;
}

static void
cfg_unknown_key(struct config_file *f, const struct cfg_group *grp,
		const char *key, GError **error)
{
	g_autoptr(GString) all = g_string_new(NULL);

	for (const char *const *k = grp->keys; *k; k++)
		g_string_append_printf(all, "%s%s", all->len ? ", " : "", *k);
	for (size_t i = 0; i < grp->n_nums; i++)
		g_string_append_printf(all, "%s%s", all->len ? ", " : "",
				       grp->nums[i].key);
	config_error(error, f->path, grp->name, key, "unknown key (known: %s)",
		     all->str);
}

/* Refuses unknown groups and keys. */
static bool
cfg_check_names(struct config_file *f, GError **error)
{
	g_auto(GStrv) groups = g_key_file_get_groups(f->kf, NULL);

	for (char **g = groups; *g; g++) {
		const struct cfg_group *grp = NULL;
		g_auto(GStrv) keys = NULL;

		for (size_t i = 0; i < G_N_ELEMENTS(intake_groups); i++)
			if (strcmp(intake_groups[i].name, *g) == 0)
				grp = &intake_groups[i];
		if (!grp) {
			config_error(error, f->path, *g, NULL,
				     "unknown group (known: mailbox, smtp, "
				     "campaign, rules, storage, limits)");
			return false;
		}
		keys = g_key_file_get_keys(f->kf, *g, NULL, NULL);
		for (char **k = keys; k && *k; k++) {
			bool known = config_in_list(grp->keys, *k);

			for (size_t i = 0; !known && i < grp->n_nums; i++)
				known = strcmp(grp->nums[i].key, *k) == 0;
			if (!known) {
				cfg_unknown_key(f, grp, *k, error);
				return false;
			}
		}
	}
	return true;
}

/* scheme://host..., or maildir:/path; no credentials or spaces. */
static bool
cfg_url(struct config_file *f, const char *group, const char *url,
	const char *const *schemes, GError **error)
{
	g_autofree char *all = NULL;
	const char *rest = NULL;
	size_t host_len;

	for (const char *const *s = schemes; *s; s++)
		if (g_str_has_prefix(url, *s))
			rest = url + strlen(*s);
	if (!rest) {
		all = g_strjoinv(", ", (char **)schemes);
		config_error(error, f->path, group, "url",
			     "\"%s\" does not start with %s", url, all);
		return false;
	}
	if (strchr(url, ' ')) {
		config_error(error, f->path, group, "url",
			     "\"%s\" contains a space", url);
		return false;
	}
	if (g_str_has_prefix(url, "maildir:")) {
		if (*rest != '/') {
			config_error(error, f->path, group, "url",
				     "\"%s\": the maildir path must be "
				     "absolute (maildir:/path)", url);
			return false;
		}
		return true;
	}
	host_len = strcspn(rest, "/?#");
	if (host_len == 0 || rest[0] == ':') {
		config_error(error, f->path, group, "url",
			     "\"%s\" has no host name", url);
		return false;
	}
	if (memchr(rest, '@', host_len)) {
		config_error(error, f->path, group, "url",
			     "\"%s\" contains a user name: use username and "
			     "password_file", url);
		return false;
	}
	return true;
}

/* none | flag | flag:KEYWORD | move:FOLDER */
static bool
cfg_mark(struct config_file *f, struct intake_config *cfg, GError **error)
{
	g_autofree char *v = NULL;
	const char *arg;

	if (!config_string(f, "mailbox", "mark", &v, error))
		return false;
	if (!v || strcmp(v, "none") == 0) {
		cfg->mark = MARK_NONE;
		return true;
	}
	if (strcmp(v, "flag") == 0) {
		cfg->mark = MARK_FLAG;
		cfg->mark_arg = g_strdup("$Filed");
		return true;
	}
	if (g_str_has_prefix(v, "flag:")) {
		arg = v + 5;
		/* an IMAP atom, optionally a system flag (\Flagged) */
		if (*arg == '\\')
			arg++;
		if (*arg == '\0' || strlen(arg) > 64)
			goto bad_keyword;
		for (const char *p = arg; *p; p++)
			if (*p <= 0x20 || *p >= 0x7f ||
			    strchr("(){%*\"\\]", *p))
				goto bad_keyword;
		cfg->mark = MARK_FLAG;
		cfg->mark_arg = g_strdup(v + 5);
		return true;
	}
	if (g_str_has_prefix(v, "move:")) {
		arg = v + 5;
		if (*arg == '\0' || strlen(arg) > 255) {
			config_error(error, f->path, "mailbox", "mark",
				     "\"%s\": the folder name is empty or "
				     "longer than 255 bytes", v);
			return false;
		}
		cfg->mark = MARK_MOVE;
		cfg->mark_arg = g_strdup(arg);
		return true;
	}
	config_error(error, f->path, "mailbox", "mark",
		     "\"%s\" is not none, flag, flag:KEYWORD or "
		     "move:FOLDER", v);
	return false;
bad_keyword:
	config_error(error, f->path, "mailbox", "mark",
		     "\"%s\": the keyword must be 1-64 printable ASCII "
		     "characters without spaces or ( ) { %% * \" \\ ]", v);
	return false;
}

/* The receiving server's name in Authentication-Results (RFC 8601
 * authserv-id, usually a host name): printable ASCII, no spaces, no ';'. */
static bool
cfg_authserv_id(struct config_file *f, struct intake_config *cfg,
		GError **error)
{
	const char *p;

	if (!config_string(f, "mailbox", "authserv_id", &cfg->authserv_id,
			   error))
		return false;
	if (cfg->authserv_id == NULL)
		return true;
	for (p = cfg->authserv_id; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f ||
		    strchr("()<>,;\\\"/?=", *p) != NULL)
			break;
	if (*p == '\0' && p - cfg->authserv_id < 256)
		return true;
	config_error(error, f->path, "mailbox", "authserv_id",
		     "\"%s\" is not a server name as Authentication-Results "
		     "writes it (e.g. mx.example.com)", cfg->authserv_id);
	return false;
}

static bool
cfg_mailbox(struct config_file *f, struct intake_config *cfg, GError **error)
{
	static const char *const schemes[] = {
		"imaps://", "imap://", "maildir:", NULL
	};
	g_autofree char *pwfile = NULL;
	uint64_t poll = cfg->poll_interval;

	if (!config_required(f, "mailbox", "url", &cfg->mailbox_url, error) ||
	    !cfg_url(f, "mailbox", cfg->mailbox_url, schemes, error) ||
	    !config_string(f, "mailbox", "username", &cfg->mailbox_user,
			   error))
		return false;
	if (!g_str_has_prefix(cfg->mailbox_url, "maildir:") &&
	    !cfg->mailbox_user) {
		config_error(error, f->path, "mailbox", "username",
			     "missing (required for an IMAP url)");
		return false;
	}
	if (cfg->mailbox_user) {
		if (!config_password(f, "mailbox", "imap",
				     &cfg->mailbox_password, error))
			return false;
	} else {
		if (!config_string(f, "mailbox", "password_file", &pwfile,
				   error))
			return false;
		if (pwfile)
			config_warn(cfg, "%s: [mailbox] password_file: "
				    "ignored without a username", f->path);
	}
	if (!config_existing_file(f, "mailbox", "ca_file",
				  &cfg->mailbox_ca_file, error) ||
	    !config_uint(f, "mailbox", "poll_interval", 10, 86400, &poll,
			 error) ||
	    !cfg_mark(f, cfg, error) ||
	    !config_bool(f, "mailbox", "allow_insecure", &cfg->allow_insecure,
			 error) ||
	    !cfg_authserv_id(f, cfg, error))
		return false;
	cfg->poll_interval = (unsigned)poll;
	return true;
}

/* The address of a From value, lower case (GMime's parser). */
static bool
cfg_from(struct config_file *f, struct intake_config *cfg, GError **error)
{
	InternetAddressList *list;
	InternetAddress *ia;
	const char *addr;
	bool ok = false;

	g_mime_init();
	list = internet_address_list_parse(NULL, cfg->smtp_from);
	if (!list || internet_address_list_length(list) != 1 ||
	    !INTERNET_ADDRESS_IS_MAILBOX(
		    ia = internet_address_list_get_address(list, 0))) {
		config_error(error, f->path, "smtp", "from",
			     "\"%s\" is not one address (Name <user@host>)",
			     cfg->smtp_from);
		goto out;
	}
	addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
	if (!addr || !config_address_ok(addr)) {
		config_error(error, f->path, "smtp", "from",
			     "\"%s\" has no valid address (user@host)",
			     cfg->smtp_from);
		goto out;
	}
	cfg->smtp_from_addr = g_ascii_strdown(addr, -1);
	ok = true;
out:
	if (list)
		g_object_unref(list);
	return ok;
}

static bool
cfg_smtp(struct config_file *f, struct intake_config *cfg, GError **error)
{
	static const char *const schemes[] = { "smtps://", "smtp://", NULL };
	g_autofree char *helo = NULL;

	cfg->smtp_helo = g_strdup("localhost");
	if (!config_string(f, "smtp", "url", &cfg->smtp_url, error))
		return false;
	if (!cfg->smtp_url) {
		g_auto(GStrv) keys =
			g_key_file_get_keys(f->kf, "smtp", NULL, NULL);

		for (char **k = keys; k && *k; k++) {
			g_autofree char *v = NULL;

			if (!config_string(f, "smtp", *k, &v, error))
				return false;
			if (v) {
				config_error(error, f->path, "smtp", "url",
					     "missing, but [smtp] %s is set "
					     "(without a url replies are only "
					     "queued)", *k);
				return false;
			}
		}
		return true;
	}
	if (!cfg_url(f, "smtp", cfg->smtp_url, schemes, error) ||
	    !config_string(f, "smtp", "username", &cfg->smtp_user, error))
		return false;
	if (cfg->smtp_user &&
	    !config_password(f, "smtp", "smtp", &cfg->smtp_password, error))
		return false;
	if (!config_required(f, "smtp", "from", &cfg->smtp_from, error) ||
	    !cfg_from(f, cfg, error) ||
	    !config_existing_file(f, "smtp", "ca_file", &cfg->smtp_ca_file,
				  error) ||
	    !config_string(f, "smtp", "helo", &helo, error))
		return false;
	if (helo) {
		if (strlen(helo) > 255 ||
		    strspn(helo, "abcdefghijklmnopqrstuvwxyz"
				 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-[]:")
			    != strlen(helo)) {
			config_error(error, f->path, "smtp", "helo",
				     "\"%s\" is not a host name", helo);
			return false;
		}
		g_free(cfg->smtp_helo);
		cfg->smtp_helo = g_steal_pointer(&helo);
	}
	if (cfg->smtp_user &&
	    g_ascii_strcasecmp(cfg->smtp_user, cfg->smtp_from_addr) != 0)
		config_warn(cfg, "%s: [smtp] from: the address %s differs "
			    "from [smtp] username %s; QQ Mail and others "
			    "refuse this (501 mail from address must be same "
			    "as authorization user)", f->path,
			    cfg->smtp_from_addr, cfg->smtp_user);
	return true;
}

static bool
cfg_date(struct config_file *f, const char *key, GDateTime **date_r,
	 GError **error)
{
	g_autofree char *v = NULL;
	g_autoptr(GTimeZone) utc = NULL;
	g_autoptr(GDateTime) naive = NULL;

	if (!config_string(f, "campaign", key, &v, error))
		return false;
	if (!v)
		return true;
	*date_r = g_date_time_new_from_iso8601(v, NULL);
	if (*date_r)
		return true;
	utc = g_time_zone_new_utc();
	naive = g_date_time_new_from_iso8601(v, utc);
	if (naive)
		config_error(error, f->path, "campaign", key,
			     "\"%s\" has no UTC offset: add one, e.g. +08:00 "
			     "(2022-10-10T23:59:59+08:00)", v);
	else
		config_error(error, f->path, "campaign", key,
			     "\"%s\" is not an ISO 8601 date and time "
			     "(2022-10-10T23:59:59+08:00)", v);
	return false;
}

/* Seconds, or a number with s, m, h or d. */
static bool
cfg_grace(struct config_file *f, struct intake_config *cfg, GError **error)
{
	g_autofree char *given = NULL;
	g_autofree char *v = NULL;
	guint64 n, unit = 1;
	size_t digits;

	if (!config_string(f, "campaign", "grace", &given, error))
		return false;
	if (!given)
		return true;
	v = g_strdup(given);
	digits = strspn(v, "0123456789");
	if (digits > 0 && v[digits] != '\0' && v[digits + 1] == '\0') {
		switch (v[digits]) {
		case 's':
			unit = 1;
			break;
		case 'm':
			unit = 60;
			break;
		case 'h':
			unit = 3600;
			break;
		case 'd':
			unit = 86400;
			break;
		default:
			digits = 0;
			break;
		}
		if (digits)
			v[digits] = '\0';
	}
	if (digits == 0 || v[digits] != '\0' ||
	    !g_ascii_string_to_unsigned(v, 10, 0, CFG_GRACE_MAX, &n, NULL) ||
	    n * unit > CFG_GRACE_MAX) {
		config_error(error, f->path, "campaign", "grace",
			     "\"%s\" is not a duration of at most 90 days "
			     "(seconds, or e.g. 30m, 2h, 1d)", given);
		return false;
	}
	cfg->grace_seconds = (unsigned)(n * unit);
	return true;
}

static bool
cfg_campaign(struct config_file *f, struct intake_config *cfg, GError **error)
{
	static const char *const policies[] = { "accept", "refuse", NULL };
	int policy = 0;
	char *low;

	if (!config_string(f, "campaign", "name", &cfg->campaign_name,
			   error) ||
	    !cfg_date(f, "start", &cfg->start, error) ||
	    !cfg_date(f, "deadline", &cfg->deadline, error))
		return false;
	if (!cfg->campaign_name)
		cfg->campaign_name = g_strdup("");
	if (cfg->start && cfg->deadline &&
	    g_date_time_compare(cfg->start, cfg->deadline) >= 0) {
		g_autofree char *d = g_date_time_format(cfg->deadline,
							"%Y-%m-%dT%H:%M:%S%:z");

		config_error(error, f->path, "campaign", "deadline",
			     "%s is not after [campaign] start", d);
		return false;
	}
	if (!cfg_grace(f, cfg, error) ||
	    !config_list(f, "campaign", "keywords", &cfg->keywords, error) ||
	    !config_choice(f, "campaign", "late_policy", policies, &policy,
			   error) ||
	    !config_string(f, "campaign", "digest_to", &cfg->digest_to, error))
		return false;
	cfg->late_policy = policy == 1 ? LATE_REFUSE : LATE_ACCEPT;
	if (!cfg->digest_to)
		return true;
	if (!config_address_ok(cfg->digest_to)) {
		config_error(error, f->path, "campaign", "digest_to",
			     "\"%s\" is not an address (user@host)",
			     cfg->digest_to);
		return false;
	}
	low = g_ascii_strdown(cfg->digest_to, -1);
	g_free(cfg->digest_to);
	cfg->digest_to = low;
	return true;
}

/* One [rules] link_prefixes item: http(s)://host[:port][/path...], as
 * links.c can match it (printable ASCII, none of the characters that end
 * a link in a body), no user name. */
static bool
cfg_link_prefix(struct config_file *f, const char *v, GError **error)
{
	const char *rest = NULL;
	size_t host_len;

	if (g_str_has_prefix(v, "https://"))
		rest = v + strlen("https://");
	else if (g_str_has_prefix(v, "http://"))
		rest = v + strlen("http://");
	if (!rest) {
		config_error(error, f->path, "rules", "link_prefixes",
			     "\"%s\" does not start with https:// or http://",
			     v);
		return false;
	}
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || strchr("\"'<>()", *p)) {
			config_error(error, f->path, "rules", "link_prefixes",
				     "\"%s\" contains a character that cannot "
				     "be in a link (space, quote, <>, () or "
				     "non-ASCII: percent-encode it)", v);
			return false;
		}
	if (strlen(v) > CFG_LINK_PREFIX_MAX) {
		config_error(error, f->path, "rules", "link_prefixes",
			     "\"%.40s…\" is longer than %d bytes", v,
			     CFG_LINK_PREFIX_MAX);
		return false;
	}
	host_len = strcspn(rest, "/?#");
	if (host_len == 0 || rest[0] == ':') {
		config_error(error, f->path, "rules", "link_prefixes",
			     "\"%s\" has no host name", v);
		return false;
	}
	if (memchr(rest, '@', host_len)) {
		config_error(error, f->path, "rules", "link_prefixes",
			     "\"%s\" contains a user name", v);
		return false;
	}
	if (strspn(rest, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789.-:[]") < host_len) {
		config_error(error, f->path, "rules", "link_prefixes",
			     "\"%s\" has an invalid host name", v);
		return false;
	}
	return true;
}

static bool
cfg_rules(struct config_file *f, struct intake_config *cfg, GError **error)
{
	static const char *const captions[] = {
		"required", "optional", NULL
	};
	struct rules_config *r = &cfg->rules;
	int caption = r->caption_required ? 0 : 1;

	if (!config_nums(f, "rules", rules_nums, G_N_ELEMENTS(rules_nums), r,
			 error) ||
	    !config_choice(f, "rules", "photo_caption", captions, &caption,
			   error) ||
	    !config_bool(f, "rules", "video_required", &r->video_required,
			 error) ||
	    !config_bool(f, "rules", "summary_required", &r->summary_required,
			 error) ||
	    !config_list(f, "rules", "link_prefixes", &r->link_prefixes,
			 error))
		return false;
	for (char **p = r->link_prefixes; *p; p++)
		if (!cfg_link_prefix(f, *p, error))
			return false;
	if (r->link_prefixes[0] == NULL)
		g_clear_pointer(&r->link_prefixes, g_strfreev);
	r->caption_required = caption == 0;
	if (r->photo_min_short > r->photo_min_long) {
		config_error(error, f->path, "rules", "photo_min_short",
			     "%u is larger than photo_min_long (%u)",
			     r->photo_min_short, r->photo_min_long);
		return false;
	}
	return true;
}

static bool
cfg_limits(struct config_file *f, struct intake_config *cfg, GError **error)
{
	struct limits_config *l = &cfg->limits;

	if (!config_nums(f, "limits", limits_nums, G_N_ELEMENTS(limits_nums),
			 l, error))
		return false;
	if (l->max_header_bytes > l->max_message_bytes) {
		config_error(error, f->path, "limits", "max_header_bytes",
			     "%" G_GUINT64_FORMAT " is larger than "
			     "max_message_bytes (%" G_GUINT64_FORMAT ")",
			     (guint64)l->max_header_bytes,
			     (guint64)l->max_message_bytes);
		return false;
	}
	/* Not errors: tests shorten the worker's limits on purpose. */
	if (l->max_jpeg_memory >= l->worker_memory)
		config_warn(cfg, "%s: [limits] max_jpeg_memory: %"
			    G_GUINT64_FORMAT " does not fit in worker_memory "
			    "(%" G_GUINT64_FORMAT ")", f->path,
			    (guint64)l->max_jpeg_memory,
			    (guint64)l->worker_memory);
	if (l->video_probe_seconds >= l->worker_seconds)
		config_warn(cfg, "%s: [limits] video_probe_seconds: %u "
			    "does not fit in worker_seconds (%u)", f->path,
			    l->video_probe_seconds, l->worker_seconds);
	return true;
}

static bool
cfg_storage(struct config_file *f, struct intake_config *cfg, GError **error)
{
	g_autofree char *dir = NULL;

	if (!config_required(f, "storage", "state_dir", &dir, error))
		return false;
	if (!g_path_is_absolute(dir)) {
		config_error(error, f->path, "storage", "state_dir",
			     "\"%s\" is not an absolute path", dir);
		return false;
	}
	cfg->state_dir = g_canonicalize_filename(dir, NULL);
	cfg->units_file = g_strdup("/etc/intake/units.conf");
	cfg->template_dir = g_strdup("/etc/intake/templates");
	return config_path(f, "storage", "units_file", f->dir,
			   &cfg->units_file, error) &&
	       config_path(f, "storage", "template_dir", f->dir,
			   &cfg->template_dir, error) &&
	       config_path(f, "storage", "report_path", cfg->state_dir,
			   &cfg->report_path, error);
}

static struct intake_config *
config_new(const char *path)
{
	struct intake_config *cfg = g_new0(struct intake_config, 1);

	cfg->path = g_strdup(path);
	cfg->poll_interval = 60;
	cfg->mark = MARK_NONE;
	cfg->late_policy = LATE_ACCEPT;
	cfg->keywords = g_new0(char *, 1);
	cfg->warnings = g_ptr_array_new_with_free_func(g_free);
	config_rules_defaults(&cfg->rules);
	config_limits_defaults(&cfg->limits);
	return cfg;
}

struct intake_config *
config_load(const char *path, GError **error)
{
	return config_load_flags(path, 0, error);
}

struct intake_config *
config_load_flags(const char *path, unsigned flags, GError **error)
{
	struct intake_config *cfg = config_new(path);
	struct config_file f = { 0 };
	bool ok = false;

	if (!config_file_open(&f, path, error))
		goto out;
	f.no_secrets = (flags & CONFIG_NO_SECRETS) != 0;
	if (!cfg_check_names(&f, error))
		goto out;
	if (!g_key_file_has_group(f.kf, "mailbox")) {
		config_error(error, path, "mailbox", "url",
			     "missing (required)");
		goto out;
	}
	if (!g_key_file_has_group(f.kf, "storage")) {
		config_error(error, path, "storage", "state_dir",
			     "missing (required)");
		goto out;
	}
	if (!cfg_mailbox(&f, cfg, error) || !cfg_smtp(&f, cfg, error) ||
	    !cfg_campaign(&f, cfg, error) || !cfg_rules(&f, cfg, error) ||
	    !cfg_storage(&f, cfg, error) || !cfg_limits(&f, cfg, error))
		goto out;
	if (access(cfg->units_file, R_OK) != 0) {
		config_error(error, path, "storage", "units_file", "%s: %s",
			     cfg->units_file, g_strerror(errno));
		goto out;
	}
	ok = config_load_units(cfg, cfg->units_file, error);
out:
	config_file_close(&f);
	if (!ok)
		g_clear_pointer(&cfg, config_free);
	return cfg;
}

static void
secret_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		g_free(s);
	}
}

void
config_free(struct intake_config *cfg)
{
	if (!cfg)
		return;
	g_free(cfg->path);
	g_free(cfg->mailbox_url);
	g_free(cfg->mailbox_user);
	secret_free(cfg->mailbox_password);
	g_free(cfg->mailbox_ca_file);
	g_free(cfg->mark_arg);
	g_free(cfg->authserv_id);
	g_free(cfg->smtp_url);
	g_free(cfg->smtp_user);
	secret_free(cfg->smtp_password);
	g_free(cfg->smtp_from);
	g_free(cfg->smtp_from_addr);
	g_free(cfg->smtp_ca_file);
	g_free(cfg->smtp_helo);
	g_free(cfg->campaign_name);
	if (cfg->start)
		g_date_time_unref(cfg->start);
	if (cfg->deadline)
		g_date_time_unref(cfg->deadline);
	g_strfreev(cfg->keywords);
	g_free(cfg->digest_to);
	g_strfreev(cfg->rules.link_prefixes);
	g_free(cfg->state_dir);
	g_free(cfg->units_file);
	g_free(cfg->template_dir);
	g_free(cfg->report_path);
	config_units_free(cfg->units, cfg->n_units);
	if (cfg->warnings)
		g_ptr_array_unref(cfg->warnings);
	g_free(cfg);
}
