/*
 * reply_queue.c - a reply of the office, completed, composed and queued
 *
 * What every mail of the office to a unit has in common, whatever
 * prompted it (a processed message, one too large to download, an item
 * entered by hand): the campaign and its deadline, where the unit stands,
 * the envelope; then the template, GMime, and the outbox.
 */
#include <time.h>

#include "reply_queue.h"

bool
reply_queue(const struct intake_config *cfg, struct store *st,
	    struct reply_info *info, const struct unit *unit, const char *to,
	    int64_t message, char **rfc_id_r, GError **error)
{
	g_autofree char *deadline = NULL, *subject = NULL, *body = NULL;
	g_autofree char *rfc_id = NULL, *data = NULL;
	size_t len = 0;

	if (cfg->deadline != NULL)
		deadline = g_date_time_format(cfg->deadline,
					      "%Y年%m月%d日 %H:%M");
	info->unit = unit ? unit->name : NULL;
	info->campaign = cfg->campaign_name;
	info->deadline = deadline;
	if (unit != NULL) {
		if (!store_dossier(st, unit->name, &info->dossier, error))
			return false;
		rules_unit_status(&cfg->rules, &info->dossier, &info->missing);
	}
	info->photo_max = cfg->rules.photo_max;
	info->from = cfg->smtp_from;
	info->from_addr = cfg->smtp_from_addr;
	info->to = to;
	info->loop_value = info->from_addr;
	info->date = (int64_t)time(NULL);
	if (!reply_render(cfg->template_dir, info, &subject, &body, error))
		return false;
	rfc_id = reply_new_message_id(info->from_addr);
	data = reply_compose(info, subject, body, rfc_id, &len, error);
	if (data == NULL ||
	    !store_outbox_add(st, message, info->unit, "reply", rfc_id, to,
			      info->verdict, data, len, info->date, error))
		return false;
	if (rfc_id_r != NULL)
		*rfc_id_r = g_steal_pointer(&rfc_id);
	return true;
}
