/*
 * config_units.c - units.conf: the units expected to answer (GKeyFile)
 *
 * One group per unit; its name is the unit's full name and must be
 * usable unchanged as a folder name (filing_sanitize() leaves it as it
 * is).  Keys: category, aliases and addresses (';' separated); any other
 * key is an error.  Unit names and aliases, compared after NFKC and case
 * folding, must be unique across units: a name that could mean two units
 * is an error naming both.  Addresses are lower-cased; an address listed
 * for two units is only a warning (mail from it cannot tell the unit, the
 * subject still can).
 */
#include <string.h>

#include "config_int.h"
#include "filing.h"

#define CONFIG_UNITS_MAX 10000 /* groups in units.conf */

static const char *const unit_keys[] = {
	"category", "aliases", "addresses", NULL
};

/* Aliases and names are compared as NFKC, case-folded. */
static char *
unit_fold(const char *s)
{
	g_autofree char *n = g_utf8_normalize(s, -1, G_NORMALIZE_NFKC);

	return g_utf8_casefold(n ? n : s, -1);
}

static void
unit_clear(struct unit *u)
{
	g_free(u->name);
	g_free(u->category);
	g_strfreev(u->aliases);
	g_strfreev(u->addresses);
}

void
config_units_free(struct unit *units, size_t n)
{
	for (size_t i = 0; i < n; i++)
		unit_clear(&units[i]);
	g_free(units);
}

/* Registers name (or an alias) of unit; refuses one that another unit
 * already uses. */
static bool
unit_claim(struct config_file *f, GHashTable *names, const char *unit,
	   const char *key, const char *name, GError **error)
{
	char *folded = unit_fold(name);
	const char *owner = g_hash_table_lookup(names, folded);

	if (owner && strcmp(owner, unit) != 0) {
		config_error(error, f->path, unit, key,
			     "\"%s\" is also a name or alias of [%s]", name,
			     owner);
		g_free(folded);
		return false;
	}
	g_hash_table_replace(names, folded, (char *)unit);
	return true;
}

static bool
unit_load(struct config_file *f, const char *group, struct unit *u,
	  GHashTable *names, GError **error)
{
	g_auto(GStrv) keys = g_key_file_get_keys(f->kf, group, NULL, NULL);
	g_autofree char *safe = filing_sanitize(group, FILING_NAME_MAX);

	u->name = g_strdup(group);
	u->aliases = g_new0(char *, 1);
	u->addresses = g_new0(char *, 1);
	if (strcmp(safe, group) != 0) {
		config_error(error, f->path, group, NULL,
			     "the unit name cannot be a folder name (it would "
			     "become \"%s\")", safe);
		return false;
	}
	for (char **k = keys; k && *k; k++) {
		if (!config_in_list(unit_keys, *k)) {
			config_error(error, f->path, group, *k,
				     "unknown key (known: category, aliases, "
				     "addresses)");
			return false;
		}
	}
	if (!config_string(f, group, "category", &u->category, error) ||
	    !config_list(f, group, "aliases", &u->aliases, error) ||
	    !config_list(f, group, "addresses", &u->addresses, error) ||
	    !unit_claim(f, names, group, "aliases", group, error))
		return false;
	for (char **a = u->aliases; *a; a++)
		if (!unit_claim(f, names, group, "aliases", *a, error))
			return false;
	for (char **a = u->addresses; *a; a++) {
		char *low;

		if (!config_address_ok(*a)) {
			config_error(error, f->path, group, "addresses",
				     "\"%s\" is not an address "
				     "(user@host)", *a);
			return false;
		}
		low = g_ascii_strdown(*a, -1);
		g_free(*a);
		*a = low;
	}
	return true;
}

bool
config_load_units(struct intake_config *cfg, const char *path,
		  GError **error)
{
	g_autoptr(GHashTable) names = NULL;
	g_autoptr(GHashTable) addrs = NULL;
	g_auto(GStrv) groups = NULL;
	struct config_file f = { 0 };
	struct unit *units = NULL;
	gsize n = 0, i;
	bool ok = false;

	if (!cfg->warnings)
		cfg->warnings = g_ptr_array_new_with_free_func(g_free);
	if (!config_file_open(&f, path, error))
		goto out;
	groups = g_key_file_get_groups(f.kf, &n);
	if (n == 0) {
		config_error(error, path, NULL, NULL,
			     "no units (one [group] per unit is needed)");
		goto out;
	}
	if (n > CONFIG_UNITS_MAX) {
		config_error(error, path, NULL, NULL, "more than %d units",
			     CONFIG_UNITS_MAX);
		goto out;
	}
	names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	addrs = g_hash_table_new(g_str_hash, g_str_equal);
	units = g_new0(struct unit, n);
	for (i = 0; i < n; i++)
		if (!unit_load(&f, groups[i], &units[i], names, error))
			goto out;
	for (i = 0; i < n; i++) {
		for (char **a = units[i].addresses; *a; a++) {
			const char *owner = g_hash_table_lookup(addrs, *a);

			if (owner && strcmp(owner, units[i].name) != 0)
				config_warn(cfg, "%s: [%s] addresses: %s is "
					    "also an address of [%s]; mail "
					    "from it cannot tell the unit",
					    path, units[i].name, *a, owner);
			else
				g_hash_table_insert(addrs, *a, units[i].name);
		}
	}
	config_units_free(cfg->units, cfg->n_units);
	cfg->units = g_steal_pointer(&units);
	cfg->n_units = n;
	ok = true;
out:
	if (units)
		config_units_free(units, n);
	config_file_close(&f);
	return ok;
}

const struct unit *
config_find_unit(const struct intake_config *cfg, const char *name)
{
	if (!cfg || !name)
		return NULL;
	for (size_t i = 0; i < cfg->n_units; i++)
		if (strcmp(cfg->units[i].name, name) == 0)
			return &cfg->units[i];
	return NULL;
}
