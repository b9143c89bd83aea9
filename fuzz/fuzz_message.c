/*
 * fuzz_message.c - a message, as intaked reads one: parse, classify, check
 *
 * The input is a raw message.  It is written to a file and goes through
 * what a worker does with a fetched message before anything touches the
 * database: message_parse() (GMime, parts decoded to files),
 * classify_headers(), check_message() (libmagic, libjpeg, libavformat and
 * libarchive on every decoded part), then the pure readers of the result:
 * captions, links, Authentication-Results, the unit roster.  The
 * configuration is built by hand from the defaults of [rules] and
 * [limits], as config_load() would leave it.
 */
#include <string.h>

#include "authres.h"
#include "caption.h"
#include "check.h"
#include "classify.h"
#include "config.h"
#include "fuzz.h"
#include "links.h"
#include "message.h"
#include "roster.h"

static struct intake_config *fz_cfg;
static struct unit fz_units[2];
static char *fz_raw_name;

static void
fz_unit(struct unit *u, const char *name, const char *alias,
	const char *addr)
{
	u->name = g_strdup(name);
	u->aliases = g_new0(char *, 2);
	u->aliases[0] = g_strdup(alias);
	u->addresses = g_new0(char *, 2);
	u->addresses[0] = g_strdup(addr);
}

static void
fz_setup(void)
{
	static const char *const keywords[] = { "质量月", "活动总结", NULL };

	fz_cfg = g_new0(struct intake_config, 1);
	config_rules_defaults(&fz_cfg->rules);
	config_limits_defaults(&fz_cfg->limits);
	fz_cfg->keywords = g_strdupv((char **)keywords);
	fz_cfg->smtp_from_addr = g_strdup("7263441@qq.com");
	fz_cfg->authserv_id = g_strdup("mx.qq.com");
	fz_unit(&fz_units[0], "福州市市场监督管理局", "福州市局",
		"fz@fuzhou.example.cn");
	fz_unit(&fz_units[1], "厦门市市场监督管理局", "厦门市局",
		"xm@xiamen.example.cn");
	fz_cfg->units = fz_units;
	fz_cfg->n_units = G_N_ELEMENTS(fz_units);
	fz_raw_name = g_strdup("message.eml");
	message_init();
}

/* What process.c reads from a parsed message, short of the database. */
static void
fz_read(const struct message *msg, const GPtrArray *items)
{
	g_autoptr(GPtrArray) names = g_ptr_array_new();
	g_autoptr(GPtrArray) refs = caption_parse_body(msg->body_text);
	g_autofree struct caption_photo *photos =
		g_new0(struct caption_photo, items->len + 1);
	struct roster_query q = { 0 };
	enum roster_how how;
	size_t n = 0;

	for (unsigned i = 0; i < msg->parts->len; i++) {
		const struct msg_part *mp = g_ptr_array_index(msg->parts, i);

		g_ptr_array_add(names, mp->filename);
	}
	g_ptr_array_add(names, NULL);
	for (unsigned i = 0; i < items->len; i++) {
		const struct check_item *ci = g_ptr_array_index(items, i);

		if (ci->it.type != ITEM_PHOTO)
			continue;
		photos[n].name = ci->it.name;
		photos[n].number = (unsigned)n + 1;
		n++;
	}
	g_ptr_array_unref(links_find(msg->body_text, msg->body_html, NULL,
				     NULL));
	caption_match(photos, n, refs);
	for (size_t i = 0; i < n; i++)
		g_free(photos[i].caption);
	q.subject = msg->subject;
	q.from_addr = msg->from_addr;
	q.reply_to = msg->reply_to;
	q.body = msg->body_text;
	q.filenames = (const char *const *)names->pdata;
	q.trust_address = authres_from_trusted(msg->authentication_results,
					       fz_cfg->authserv_id);
	roster_identify(fz_cfg->units, fz_cfg->n_units, &q, &how);
	classify_final(items->len,
		       classify_has_keyword(msg->subject,
					    (const char *const *)fz_cfg->keywords),
		       false);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(GError) err = NULL;
	g_autofree char *raw = NULL, *work = NULL;
	struct message *msg;
	GPtrArray *items;
	const char *why = NULL;

	if (fz_cfg == NULL)
		fz_setup();
	raw = fuzz_write(fz_raw_name, data, size);
	work = fuzz_subdir("work");
	msg = message_parse(raw, work, &fz_cfg->limits, &err);
	if (msg == NULL)
		goto out;
	classify_headers(msg, fz_cfg->smtp_from_addr, &why);
	items = check_message(fz_cfg, msg, work, &err);
	if (items != NULL) {
		fz_read(msg, items);
		g_ptr_array_unref(items);
	}
	message_free(msg);
out:
	fuzz_empty(work);
	return 0;
}
