/*
 * config_int.h - what config.c and config_units.c share: a checked
 * GKeyFile and the readers of its values (config_keyfile.c)
 *
 * Not for other modules: they use config.h.  Every reader fills the
 * error as "file: [group] key: what is wrong" (INTAKE_ERROR_CONFIG) and
 * treats an absent or empty value as "not set", leaving *value_r as it
 * was (the default).
 */
#ifndef INTAKE_CONFIG_INT_H
#define INTAKE_CONFIG_INT_H

#include "config.h"

#define CONFIG_FILE_MAX (4 * 1024 * 1024) /* bytes of a config file */
#define CONFIG_LIST_MAX 500               /* items in one ';' list */

struct config_file {
	const char *path; /* as given, for messages */
	char *dir;        /* absolute directory of path */
	GKeyFile *kf;
	bool no_secrets;  /* CONFIG_NO_SECRETS: password files not read */
};

/* A numeric key stored in a struct (rules_config, limits_config). */
struct config_num {
	const char *key;
	size_t offset;
	size_t size; /* sizeof(unsigned) or sizeof(uint64_t) */
	uint64_t min, max;
};

/* "file: [group] key: what", "file: [group]: what" or "file: what". */
void config_error(GError **error, const char *file, const char *group,
		  const char *key, const char *fmt, ...) G_GNUC_PRINTF(5, 6);
/* Adds a warning to cfg->warnings; it names the file itself. */
void config_warn(struct intake_config *cfg, const char *fmt, ...)
	G_GNUC_PRINTF(2, 3);
bool config_in_list(const char *const *list, const char *s);

/* Reads path (bounded, UTF-8), refuses repeated groups and localised
 * keys, parses it.  config_file_close() in every case. */
bool config_file_open(struct config_file *f, const char *path,
		      GError **error);
void config_file_close(struct config_file *f);

/* The stripped value without control characters; NULL when unset. */
bool config_string(struct config_file *f, const char *group,
		   const char *key, char **value_r, GError **error);
bool config_required(struct config_file *f, const char *group,
		     const char *key, char **value_r, GError **error);
/* Digits only, in [min, max]. */
bool config_uint(struct config_file *f, const char *group, const char *key,
		 uint64_t min, uint64_t max, uint64_t *value_r,
		 GError **error);
/* Every key of nums into the struct at base. */
bool config_nums(struct config_file *f, const char *group,
		 const struct config_num *nums, size_t n_nums, void *base,
		 GError **error);
/* "true" or "false", nothing else. */
bool config_bool(struct config_file *f, const char *group, const char *key,
		 bool *value_r, GError **error);
/* The index of the value in the NULL-terminated choices. */
bool config_choice(struct config_file *f, const char *group,
		   const char *key, const char *const *choices, int *index_r,
		   GError **error);
/* A path; a relative one is resolved against base (NULL: refused). */
bool config_path(struct config_file *f, const char *group, const char *key,
		 const char *base, char **value_r, GError **error);
/* A path (relative to the file's directory) that must be a regular
 * file. */
bool config_existing_file(struct config_file *f, const char *group,
			  const char *key, char **value_r, GError **error);
/* A ';' separated list, items trimmed, empty ones dropped; *list_r is
 * replaced (never NULL afterwards). */
bool config_list(struct config_file *f, const char *group, const char *key,
		 char ***list_r, GError **error);
/* local@domain: one '@', no spaces, controls or address punctuation. */
bool config_address_ok(const char *addr);
/* [group] password_file, or $CREDENTIALS_DIRECTORY/<cred>. */
bool config_password(struct config_file *f, const char *group,
		     const char *cred, char **password_r, GError **error);

/* Frees n units and the array. */
void config_units_free(struct unit *units, size_t n);

#endif
