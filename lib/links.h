/*
 * links.h - large files sent as links (pure: no I/O)
 *
 * QQ Mail's 超大附件, 163's large attachments and Baidu Netdisk shares
 * arrive as links in the body, not as attachments.  links_find() scans a
 * plain-text body (and the href values of an HTML body) for them and
 * reads what the provider writes around each link: the file name, its
 * size, the expiry and the extraction code (提取码).
 *
 * Recognised (DESIGN.md §4):
 *   https://mail.qq.com/cgi-bin/ftnExs_download?...   QQ Mail 超大附件
 *   https://wx.mail.qq.com/ftn/download?...           QQ Mail (new UI)
 *   https://mail.163.com/large-attachment-download/... 163 (and 126, yeah)
 *   https://pan.baidu.com/s/...                        Baidu Netdisk
 * plus any extra URL prefixes the caller passes.
 */
#ifndef INTAKE_LINKS_H
#define INTAKE_LINKS_H

#include "common.h"

#define LINKS_MAX 50 /* links read from one message at the most */

struct link_ref {
	char *url;
	char *provider;  /* "QQ邮箱超大附件", "网易邮箱超大附件", "百度网盘" */
	char *filename;  /* as shown near the link, or NULL */
	char *size;      /* as shown, "1.2G", or NULL */
	char *code;      /* 提取码, or NULL */
	int64_t expires; /* Unix seconds, 0 when not shown */
};
void link_ref_free(struct link_ref *ref);

/* Links in text (struct link_ref *, the array frees them; never NULL),
 * each URL once.  tz: the zone for dates shown without one (the
 * campaign's; NULL: UTC+8, where the providers write them).
 * extra_prefixes: NULL-terminated, may be NULL. */
GPtrArray *links_find(const char *text, const char *html,
		      const char *const *extra_prefixes, GTimeZone *tz);

#endif
