/*
 * source.c - picks the message source that [mailbox] url names
 *
 * imaps://host[:port]/MAILBOX and imap://host[:port]/MAILBOX go to the
 * IMAP driver (imap.c), maildir:/path to the Maildir driver (maildir.c).
 * The URL is checked here, so that `intaked --check-config` catches a bad
 * one before anything connects; the drivers connect in open().
 */
#include <curl/curl.h>
#include <string.h>

#include "config.h"
#include "source.h"

void
source_msg_free(struct source_msg *msg)
{
	if (msg == NULL)
		return;
	g_free(msg->key);
	g_free(msg->flags);
	g_free(msg);
}

/* "FILE: [mailbox] url: "URL" WHY"; the URL is left out when it has an
 * "@": it may hold a password. */
static void
url_error(const struct intake_config *cfg, GError **error, const char *why)
{
	const char *url = cfg->mailbox_url ? cfg->mailbox_url : "";
	bool show = strchr(url, '@') == NULL;

	g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_CONFIG,
		    "%s%s[mailbox] url: %s%s%s%s", cfg->path ? cfg->path : "",
		    cfg->path ? ": " : "", show ? "\"" : "", show ? url : "",
		    show ? "\" " : "", why);
}

/* An IMAP URL needs a host, and has no credentials, query or fragment:
 * the user and password have keys of their own. */
static bool
check_imap_url(const struct intake_config *cfg, GError **error)
{
	CURLU *u = curl_url();
	char *part = NULL;
	bool ok = false;

	if (u == NULL) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_FATAL,
			    "out of memory");
		return false;
	}
	/* curl would read imaps:///INBOX as the host INBOX */
	if (strstr(cfg->mailbox_url, ":///") != NULL) {
		url_error(cfg, error, "has no host name");
		goto out;
	}
	if (curl_url_set(u, CURLUPART_URL, cfg->mailbox_url, 0) != CURLUE_OK) {
		url_error(cfg, error, "is not a valid URL");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_HOST, &part, 0) != CURLUE_OK ||
	    *part == '\0') {
		url_error(cfg, error, "has no host name");
		goto out;
	}
	curl_free(part);
	part = NULL;
	if (curl_url_get(u, CURLUPART_USER, &part, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PASSWORD, &part, 0) == CURLUE_OK) {
		url_error(cfg, error, "has a user or password in it; "
			  "set username and password_file instead");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_QUERY, &part, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_FRAGMENT, &part, 0) == CURLUE_OK) {
		url_error(cfg, error, "has a query or fragment; give only "
			  "imaps://host[:port]/MAILBOX");
		goto out;
	}
	ok = true;
out:
	curl_free(part);
	curl_url_cleanup(u);
	return ok;
}

struct source *
source_new(const struct intake_config *cfg, GError **error)
{
	const char *url = cfg->mailbox_url;
	const struct source_ops *ops;
	struct source *src;

	if (url == NULL || *url == '\0') {
		url_error(cfg, error, "is not set");
		return NULL;
	}
	if (g_ascii_strncasecmp(url, "imaps://", 8) == 0 ||
	    g_ascii_strncasecmp(url, "imap://", 7) == 0) {
		if (!check_imap_url(cfg, error))
			return NULL;
		ops = &imap_source_ops;
	} else if (g_ascii_strncasecmp(url, "maildir:", 8) == 0) {
		if (url[8] == '\0') {
			url_error(cfg, error, "names no directory");
			return NULL;
		}
		ops = &maildir_source_ops;
	} else {
		url_error(cfg, error, "has an unknown scheme; use imaps://, "
			  "imap:// (STARTTLS) or maildir:");
		return NULL;
	}
	src = g_new0(struct source, 1);
	src->ops = ops;
	src->cfg = cfg;
	return src;
}

void
source_free(struct source *src)
{
	if (src == NULL)
		return;
	if (src->ops != NULL && src->ops->close != NULL)
		src->ops->close(src);
	g_free(src);
}
