/*
 * decide.c - a unit's new items decided against what it already holds
 * (decide.h)
 *
 * Pure: tested by tests/unit/test_decide.c, and through manual_decide()
 * by tests/unit/test_manual.c.
 */
#include <string.h>

#include "decide.h"
#include "filing.h"
#include "rules.h"

unsigned
decide_count(const GPtrArray *held, enum item_type type)
{
	unsigned n = 0;

	for (unsigned i = 0; i < held->len; i++) {
		const struct store_item *it = g_ptr_array_index(held, i);

		n += it->type == type;
	}
	return n;
}

/* Is photo number n taken by a held photo or an accepted one of the
 * batch? */
static bool
decide_number_used(const GPtrArray *held, const GPtrArray *items,
		   unsigned n)
{
	for (unsigned i = 0; i < held->len; i++) {
		const struct store_item *it = g_ptr_array_index(held, i);

		if (it->type == ITEM_PHOTO && it->number == n)
			return true;
	}
	for (unsigned i = 0; i < items->len; i++) {
		const struct check_item *ci = g_ptr_array_index(items, i);

		if (ci->it.type == ITEM_PHOTO && ci->it.accepted &&
		    ci->it.number == n)
			return true;
	}
	return false;
}

/* The smallest number no held or batch photo has (always found: there
 * are only so many photos). */
static unsigned
decide_free_number(const GPtrArray *held, const GPtrArray *items)
{
	unsigned n = 1;

	while (n <= held->len + items->len &&
	       decide_number_used(held, items, n))
		n++;
	return n;
}

/* The name of an earlier item with the same content: held, or accepted
 * before index. */
static const char *
decide_same_as(const GPtrArray *held, const GPtrArray *items,
	       unsigned index)
{
	const struct check_item *ci = g_ptr_array_index(items, index);

	if (ci->it.sha256 == NULL)
		return NULL;
	for (unsigned i = 0; i < held->len; i++) {
		const struct store_item *it = g_ptr_array_index(held, i);

		if (g_strcmp0(it->sha256, ci->it.sha256) == 0)
			return it->name;
	}
	for (unsigned i = 0; i < index; i++) {
		const struct check_item *cj = g_ptr_array_index(items, i);

		if (cj->it.accepted &&
		    g_strcmp0(cj->it.sha256, ci->it.sha256) == 0)
			return cj->it.name;
	}
	return NULL;
}

static void
decide_refuse(struct check_item *ci, char *reason)
{
	ci->it.accepted = false;
	ci->it.number = 0;
	g_free(ci->it.reason);
	ci->it.reason = reason;
}

void
decide_items(const struct intake_config *cfg, const GPtrArray *held,
	     GPtrArray *items, int64_t received, unsigned *accepted_r,
	     unsigned *refused_r)
{
	int64_t deadline = cfg->deadline ? g_date_time_to_unix(cfg->deadline)
					 : 0;
	bool late = rules_is_late(received, deadline, cfg->grace_seconds);
	g_autofree char *deadline_text =
		cfg->deadline ? g_date_time_format(cfg->deadline,
						   "%Y-%m-%d %H:%M")
			      : NULL;
	unsigned photos = decide_count(held, ITEM_PHOTO);

	*accepted_r = *refused_r = 0;
	for (unsigned i = 0; i < items->len; i++) {
		struct check_item *ci = g_ptr_array_index(items, i);
		const char *same;

		ci->it.received = received;
		ci->it.late = false;
		if (!ci->it.accepted) {
			(*refused_r)++;
			continue;
		}
		same = decide_same_as(held, items, i);
		if (same != NULL) {
			/* not a fault of the unit: the office has it */
			decide_refuse(ci, ci->it.type == ITEM_PHOTO
						  ? rules_photo_duplicate_reason(
							    ci->it.name, same)
						  : g_strdup_printf(
							    "“%s”与已收到的“%s”"
							    "内容相同，不重复收录",
							    ci->it.name, same));
			g_free(ci->it.origin);
			ci->it.origin = g_strdup("duplicate");
			continue;
		}
		if (late && cfg->late_policy == LATE_REFUSE) {
			decide_refuse(ci, rules_late_reason(ci->it.name,
							    deadline_text));
			(*refused_r)++;
			continue;
		}
		ci->it.late = late;
		if (ci->it.type == ITEM_PHOTO) {
			char *why = NULL;

			if (!rules_photo_room(&cfg->rules, ci->it.name, photos,
					      &why)) {
				decide_refuse(ci, why);
				(*refused_r)++;
				continue;
			}
			photos++;
			ci->it.number = decide_free_number(held, items);
		}
		(*accepted_r)++;
	}
}

char *
decide_photo_name(unsigned number, const char *caption)
{
	if (caption == NULL || *caption == '\0')
		return g_strdup_printf("%02u.jpg", number);
	return g_strdup_printf("%02u-%s.jpg", number, caption);
}

char *
decide_plain_name(const char *unit, const GPtrArray *held,
		  const GPtrArray *items, unsigned index, const char *suffix)
{
	const struct check_item *ci = g_ptr_array_index(items, index);
	g_autofree char *clean = filing_sanitize(ci->it.name, FILING_NAME_MAX);
	g_autofree char *dir = filing_sanitize(unit, FILING_NAME_MAX);
	g_autofree char *rel = g_build_filename(
		"units", dir, filing_subdir(ci->it.type), clean, NULL);
	g_autofree char *stem = NULL;
	const char *dot;

	for (unsigned i = 0; i < held->len; i++) {
		const struct store_item *it = g_ptr_array_index(held, i);

		if (g_strcmp0(it->path, rel) == 0)
			goto taken;
	}
	for (unsigned i = 0; i < index; i++) {
		const struct check_item *cj = g_ptr_array_index(items, i);

		if (g_strcmp0(cj->it.path, rel) == 0)
			goto taken;
	}
	return g_steal_pointer(&clean);
taken:
	dot = strrchr(clean, '.');
	stem = dot ? g_strndup(clean, (gsize)(dot - clean)) : g_strdup(clean);
	return g_strdup_printf("%s%s%s", stem, suffix, dot ? dot : "");
}
