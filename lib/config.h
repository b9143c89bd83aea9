/*
 * config.h - intake.conf and units.conf (GKeyFile), DESIGN.md §5
 *
 * config_load() reads intake.conf, the password files it names and the
 * units file, and checks every value.  Any error names the file, the
 * group and the key and says what is wrong, e.g.
 *   /etc/intake/intake.conf: [rules] photo_max: "six" is not a number
 * and the whole load fails: the daemon refuses to start on any error.
 * Warnings (things that work but are probably wrong, such as an SMTP
 * "from" that differs from the SMTP login, which QQ refuses) are added to
 * config->warnings.
 *
 * The returned struct intake_config belongs to the caller:
 * config_free() releases it and every string inside.
 */
#ifndef INTAKE_CONFIG_H
#define INTAKE_CONFIG_H

#include "common.h"

struct unit {
	char *name;       /* group name in units.conf, exactly */
	char *category;   /* 设区市, 省直有关部门, 直属单位, ... (may be NULL) */
	char **aliases;   /* NULL-terminated, never NULL */
	char **addresses; /* NULL-terminated, lower-cased, never NULL */
};

enum late_policy {
	LATE_ACCEPT, /* accept and flag as late (default) */
	LATE_REFUSE,
};

enum mark_mode {
	MARK_NONE,
	MARK_FLAG, /* set the keyword mark_flag */
	MARK_MOVE, /* move to mark_folder */
};

/* [rules]: what the notice asks; defaults in DESIGN.md §4. */
struct rules_config {
	unsigned photo_max;       /* 6 */
	unsigned photo_min_long;  /* 1024 */
	unsigned photo_min_short; /* 768 */
	bool caption_required;    /* photo_caption = required|optional */
	unsigned video_min_short; /* 720 */
	bool video_required;      /* false */
	bool summary_required;    /* true */
	char **link_prefixes;     /* URL prefixes of large-file links beyond
				     the built-in providers (links.h);
				     NULL-terminated, NULL when not set */
};

/* [limits]: bounds for untrusted input; every one has a safe default. */
struct limits_config {
	uint64_t max_message_bytes;   /* 100 MiB */
	uint64_t max_header_bytes;    /* 1 MiB: all header lines together */
	unsigned max_parts;           /* 500 MIME parts */
	unsigned max_depth;           /* 20 levels of nesting */
	uint64_t max_decoded_bytes;   /* 1 GiB decoded from one message */
	unsigned max_archive_members; /* 200 */
	uint64_t max_archive_bytes;   /* 1 GiB expanded */
	unsigned max_archive_ratio;   /* 100: expanded / compressed */
	uint64_t max_photo_pixels;    /* 100 megapixels */
	unsigned max_jpeg_scans;      /* 100 progressive scans */
	uint64_t max_jpeg_memory;     /* 256 MiB for libjpeg */
	unsigned video_probe_seconds; /* 20 */
	unsigned worker_seconds;      /* 300: one message's worker */
	uint64_t worker_memory;       /* 1 GiB address space */
	unsigned max_attempts;        /* 3, then the message is failed */
	unsigned replies_per_sender;  /* 20 replies a sender a day */
};

struct intake_config {
	char *path;           /* intake.conf as given */

	/* [mailbox] */
	char *mailbox_url;    /* imaps://, imap:// or maildir:/path */
	char *mailbox_user;
	char *mailbox_password; /* read from password_file; never logged */
	char *mailbox_ca_file;  /* NULL: the system store */
	unsigned poll_interval; /* seconds, default 60 */
	enum mark_mode mark;
	char *mark_arg;         /* keyword for flag (default $Filed), folder */
	bool allow_insecure;    /* allow imap:// and smtp:// without TLS */
	char *authserv_id;      /* whose Authentication-Results to believe
				   (authres.h); NULL: nobody's */

	/* [smtp]; smtp_url NULL: this intake sends no replies */
	char *smtp_url;
	char *smtp_user;
	char *smtp_password;
	char *smtp_from;       /* full From header value */
	char *smtp_from_addr;  /* the address part of smtp_from */
	char *smtp_ca_file;
	char *smtp_helo;       /* EHLO name, default "localhost" */

	/* [campaign] */
	char *campaign_name;
	GDateTime *start;      /* NULL: the whole mailbox */
	GDateTime *deadline;   /* NULL: no deadline */
	unsigned grace_seconds;
	char **keywords;       /* NULL-terminated, never NULL */
	enum late_policy late_policy;
	char *digest_to;       /* optional daily digest address */

	struct rules_config rules;

	/* [storage] */
	char *state_dir;
	char *units_file;
	char *template_dir;
	char *report_path;     /* optional */

	struct limits_config limits;

	/* units.conf */
	struct unit *units;
	size_t n_units;

	GPtrArray *warnings;   /* char *, never NULL */
};

/* Defaults for [rules] and [limits], for tests and for config_load(). */
void config_rules_defaults(struct rules_config *rules);
void config_limits_defaults(struct limits_config *limits);

/* Loads path (intake.conf) and the units file it names.  NULL + error
 * (INTAKE_ERROR_CONFIG) naming file, group and key on any problem. */
struct intake_config *config_load(const char *path, GError **error);

/* config_load() with flags: CONFIG_NO_SECRETS skips reading the password
 * files (intakectl never logs in; under systemd the passwords are
 * credentials only the service sees). */
#define CONFIG_NO_SECRETS 1u
struct intake_config *config_load_flags(const char *path, unsigned flags,
					GError **error);

/* Loads only a units file into cfg->units (replacing them). */
bool config_load_units(struct intake_config *cfg, const char *path,
		       GError **error);

void config_free(struct intake_config *cfg);

/* The unit called name (exact), or NULL. */
const struct unit *config_find_unit(const struct intake_config *cfg,
				    const char *name);

#endif
