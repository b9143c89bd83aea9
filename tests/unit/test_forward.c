/*
 * test_forward.c - message_parse(): the Subject of an inline forward in
 * the body (struct message forward_subject)
 *
 * Each case is a small raw message written to a temporary file.
 */
#include <unistd.h>

#include "config.h"
#include "fixtures.h"
#include "message.h"

static const struct {
	const char *name;
	const char *raw;
	const char *want;	/* forward_subject, or NULL */
} cases[] = {
	{ "163 转发的邮件",
	  "Subject: =?UTF-8?B?6L2s5Y+R77ya?=\r\n"
	  "From: a@163.com\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n"
	  "请查收\r\n\r\n-------- 转发的邮件 --------\r\n"
	  "发件人：张三 <z@126.com>\r\n发送日期：2026-11-20 10:00\r\n"
	  "收件人：b@163.com\r\n主题：城东社区 活动总结\r\n\r\n正文\r\n",
	  "城东社区 活动总结" },
	{ "QQ 原始邮件, GB18030 body",
	  "Subject: Fw\r\nFrom: a@qq.com\r\n"
	  "Content-Type: text/plain; charset=GB2312\r\n\r\n"
	  "\xc7\xeb\xb2\xe9\xca\xd5\r\n"
	  "------------------ \xd4\xad\xca\xbc\xd3\xca\xbc\xfe ------------------\r\n"
	  "\xb7\xa2\xbc\xfe\xc8\xcb: \"x\"<x@qq.com>;\r\n"
	  "\xd6\xf7\xcc\xe2: \xb3\xc7\xce\xf7\xc9\xe7\xc7\xf8\r\n\r\n",
	  "城西社区" },
	{ "Outlook Original Message, quoted",
	  "Subject: FW: hello\r\nFrom: a@example.com\r\n\r\n"
	  "see below\r\n> -----Original Message-----\r\n"
	  "> From: Li Si <l@example.com>\r\n> Sent: Friday\r\n"
	  "> To: b@example.com\r\n> Subject: Riverside unit report\r\n",
	  "Riverside unit report" },
	{ "Thunderbird Forwarded Message",
	  "Subject: Fwd\r\nFrom: a@example.com\r\n\r\n"
	  "-------- Forwarded Message --------\r\n"
	  "Subject: \tspring photos \r\nDate: Mon\r\nFrom: x@example.com\r\n",
	  "spring photos" },
	{ "no forward", "Subject: plain\r\nFrom: a@example.com\r\n\r\n"
	  "主题：这不是转发\r\n", NULL },
	{ "separator without a subject line nearby",
	  "Subject: x\r\nFrom: a@example.com\r\n\r\n"
	  "-------- 转发的邮件 --------\r\n1\r\n2\r\n3\r\n4\r\n5\r\n6\r\n7\r\n"
	  "8\r\n9\r\n10\r\n11\r\n12\r\n13\r\nSubject: too far\r\n", NULL },
};

int
main(void)
{
	struct limits_config lim;

	config_limits_defaults(&lim);
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *dir = g_dir_make_tmp("intake-fwd-XXXXXX",
						      NULL);
		g_autofree char *raw = g_build_filename(dir, "raw.eml", NULL);
		g_autofree char *work = g_build_filename(dir, "work", NULL);
		g_autofree char *name = g_strdup_printf("forward: %s",
							cases[i].name);
		struct message *msg = NULL;
		GError *err = NULL;

		if (g_file_set_contents(raw, cases[i].raw, -1, NULL) &&
		    g_mkdir(work, 0700) == 0)
			msg = message_parse(raw, work, &lim, &err);
		T_CHECK("forward: parsed", msg != NULL);
		if (msg != NULL)
			T_STREQ(name, msg->forward_subject, cases[i].want);
		message_free(msg);
		g_clear_error(&err);
		fixtures_remove(dir);
	}
	return t_done();
}
