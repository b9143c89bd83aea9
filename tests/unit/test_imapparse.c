/*
 * test_imapparse.c - the IMAP line parsers, table-driven, hostile lines
 * included (overflow, NUL, literals, unbalanced lists, repeated items)
 */
#include <stdlib.h>

#include "imapparse.h"
#include "t.h"

/* ---- SEARCH ---------------------------------------------------------- */

static const struct search_case {
	const char *name;
	const char *line;
	bool ok;
	const char *uids; /* space-separated, as expected */
	size_t max;       /* 0: 1000 */
} search_cases[] = {
	{ "search/plain", "* SEARCH 2 84 882\r\n", true, "2 84 882", 0 },
	{ "search/empty", "* SEARCH\r\n", true, "", 0 },
	{ "search/no-crlf", "* SEARCH 7", true, "7", 0 },
	{ "search/lowercase", "* search 1 2", true, "1 2", 0 },
	{ "search/modseq", "* SEARCH 3 4 (MODSEQ 917162500)", true, "3 4", 0 },
	{ "search/max-uid", "* SEARCH 4294967295", true, "4294967295", 0 },
	{ "search/overflow", "* SEARCH 1 4294967296", false, "", 0 },
	{ "search/huge", "* SEARCH 99999999999999999999999", false, "", 0 },
	{ "search/zero", "* SEARCH 0", false, "", 0 },
	{ "search/negative", "* SEARCH -1", false, "", 0 },
	{ "search/double-space", "* SEARCH 1  2", false, "", 0 },
	{ "search/trailing-space", "* SEARCH 1 ", false, "", 0 },
	{ "search/garbage", "* SEARCH 1 x", false, "", 0 },
	{ "search/not-search", "* 3 EXISTS", false, "", 0 },
	{ "search/esearch", "* ESEARCH (TAG \"A1\") UID ALL 1:3", false, "",
	  0 },
	{ "search/tagged", "A1 SEARCH 1", false, "", 0 },
	{ "search/over-max", "* SEARCH 1 2 3", false, "", 2 },
	{ "search/at-max", "* SEARCH 1 2", true, "1 2", 2 },
	{ "search/modseq-not-last", "* SEARCH 1 (MODSEQ 5) 2", false, "", 0 },
	{ "search/modseq-open", "* SEARCH 1 (MODSEQ 5", false, "", 0 },
	{ "search/bare-cr-inside", "* SEARCH 1\r2", false, "", 0 },
};

static void
test_search(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(search_cases); i++) {
		const struct search_case *c = &search_cases[i];
		g_autoptr(GArray) uids = g_array_new(FALSE, FALSE,
						     sizeof(uint32_t));
		g_autoptr(GString) got = g_string_new(NULL);
		uint32_t sentinel = 42;
		bool ok;

		g_array_append_val(uids, sentinel);
		ok = imapparse_search(c->line, strlen(c->line), uids,
				      c->max ? c->max : 1000);
		T_CHECK(c->name, ok == c->ok);
		for (guint j = 1; j < uids->len; j++)
			g_string_append_printf(
				got, "%s%u", j > 1 ? " " : "",
				g_array_index(uids, uint32_t, j));
		T_STREQ(c->name, got->str, c->uids);
		T_INTEQ(c->name, g_array_index(uids, uint32_t, 0), 42);
	}
}

/* A line with a NUL in the middle: cannot be written as a C literal. */
static void
test_search_nul(void)
{
	static const char line[] = "* SEARCH 1\0 2";
	g_autoptr(GArray) uids = g_array_new(FALSE, FALSE, sizeof(uint32_t));

	T_CHECK("search/nul", !imapparse_search(line, sizeof(line) - 1, uids,
						  1000));
	T_INTEQ("search/nul-nothing", uids->len, 0);
}

/* ---- FETCH ----------------------------------------------------------- */

static const struct fetch_case {
	const char *name;
	const char *line;
	bool ok;
	uint32_t seq, uid;
	const char *flags;
	bool seen;
	int64_t date; /* -1: none */
	int64_t size; /* -1: none */
	bool not_fetch; /* imapparse_is_fetch() says no */
} fetch_cases[] = {
	{ "fetch/full",
	  "* 12 FETCH (UID 34 FLAGS (\\Seen) INTERNALDATE "
	  "\"17-Jul-1996 02:44:25 -0700\" RFC822.SIZE 4286)\r\n",
	  true, 12, 34, "\\Seen", true, 837596665, 4286, false },
	{ "fetch/dovecot-order",
	  "* 1 FETCH (UID 1 FLAGS (\\Recent) INTERNALDATE "
	  "\"28-Nov-2026 14:22:20 +0000\" RFC822.SIZE 23)",
	  true, 1, 1, "\\Recent", false, 1795875740, 23, false },
	{ "fetch/other-order",
	  "* 3 FETCH (RFC822.SIZE 10 INTERNALDATE \" 1-Jan-2000 00:00:00 "
	  "+0000\" FLAGS () UID 9)",
	  true, 3, 9, "", false, 946684800, 10, false },
	{ "fetch/keywords",
	  "* 2 FETCH (UID 5 FLAGS (\\Seen \\Flagged $Filed NonJunk))",
	  true, 2, 5, "\\Seen \\Flagged $Filed NonJunk", true, -1, -1, false },
	{ "fetch/seen-lowercase", "* 2 FETCH (UID 5 FLAGS (\\seen))",
	  true, 2, 5, "\\seen", true, -1, -1, false },
	{ "fetch/seen-prefix-only", "* 2 FETCH (UID 5 FLAGS (\\Seenx))",
	  true, 2, 5, "\\Seenx", false, -1, -1, false },
	{ "fetch/unsolicited-flags", "* 4 FETCH (FLAGS (\\Deleted))",
	  true, 4, 0, "\\Deleted", false, -1, -1, false },
	{ "fetch/modseq", "* 4 FETCH (UID 8 MODSEQ (12345) RFC822.SIZE 1)",
	  true, 4, 8, NULL, false, -1, 1, false },
	{ "fetch/size-64bit", "* 4 FETCH (UID 8 RFC822.SIZE 5000000000)",
	  true, 4, 8, NULL, false, -1, 5000000000, false },
	{ "fetch/lowercase", "* 4 fetch (uid 8 rfc822.size 1)",
	  true, 4, 8, NULL, false, -1, 1, false },
	{ "fetch/east-zone",
	  "* 1 FETCH (UID 1 INTERNALDATE \"01-Oct-2022 08:00:00 +0800\")",
	  true, 1, 1, NULL, false, 1664582400, -1, false },
	/* hostile or malformed */
	{ "fetch/uid-overflow", "* 1 FETCH (UID 4294967296)",
	  false, 0, 0, NULL, false, -1, -1, false },
	{ "fetch/uid-zero", "* 1 FETCH (UID 0)", false, 0, 0, NULL, false,
	  -1, -1, false },
	{ "fetch/seq-zero", "* 0 FETCH (UID 1)", false, 0, 0, NULL, false,
	  -1, -1, true },
	{ "fetch/size-overflow",
	  "* 1 FETCH (UID 1 RFC822.SIZE 99999999999999999999)",
	  false, 0, 0, NULL, false, -1, -1, false },
	{ "fetch/size-negative", "* 1 FETCH (UID 1 RFC822.SIZE -5)",
	  false, 0, 0, NULL, false, -1, -1, false },
	{ "fetch/uid-twice", "* 1 FETCH (UID 1 UID 2)",
	  false, 0, 0, NULL, false, -1, -1, false },
	{ "fetch/literal", "* 1 FETCH (UID 1 BODY[] {161}",
	  false, 0, 0, NULL, false, -1, -1, false },
	{ "fetch/unknown-item", "* 1 FETCH (UID 1 ENVELOPE NIL)",
	  false, 0, 0, NULL, false, -1, -1, false },
	{ "fetch/unclosed", "* 1 FETCH (UID 1 FLAGS (\\Seen)",
	  false, 0, 0, NULL, false, -1, -1, false },
	{ "fetch/flags-unclosed", "* 1 FETCH (UID 1 FLAGS (\\Seen",
	  false, 0, 0, NULL, false, -1, -1, false },
	{ "fetch/flags-nested", "* 1 FETCH (FLAGS ((\\Seen)))",
	  false, 0, 0, NULL, false, -1, -1, false },
	{ "fetch/flags-backslash", "* 1 FETCH (FLAGS (\\))",
	  false, 0, 0, NULL, false, -1, -1, false },
	{ "fetch/flags-quote", "* 1 FETCH (FLAGS (\"x\"))",
	  false, 0, 0, NULL, false, -1, -1, false },
	{ "fetch/flags-double-space", "* 1 FETCH (FLAGS (a  b))",
	  false, 0, 0, NULL, false, -1, -1, false },
	{ "fetch/trailing", "* 1 FETCH (UID 1) x",
	  false, 0, 0, NULL, false, -1, -1, false },
	{ "fetch/empty", "* 1 FETCH ()", false, 0, 0, NULL, false, -1, -1,
	  false },
	{ "fetch/no-list", "* 1 FETCH", false, 0, 0, NULL, false, -1, -1,
	  false },
	{ "fetch/date-feb-31",
	  "* 1 FETCH (INTERNALDATE \"31-Feb-2020 00:00:00 +0000\")",
	  false, 0, 0, NULL, false, -1, -1, false },
	{ "fetch/date-unquoted",
	  "* 1 FETCH (INTERNALDATE 1-Feb-2020)",
	  false, 0, 0, NULL, false, -1, -1, false },
	{ "fetch/date-unterminated",
	  "* 1 FETCH (INTERNALDATE \"01-Feb-2020 00:00:00 +0000)",
	  false, 0, 0, NULL, false, -1, -1, false },
	{ "fetch/not-fetch", "* 1 EXISTS", false, 0, 0, NULL, false, -1, -1,
	  true },
	{ "fetch/tagged", "A1 1 FETCH (UID 1)",
	  false, 0, 0, NULL, false, -1, -1, true },
	{ "fetch/fetched", "* 1 FETCHED (UID 1)",
	  false, 0, 0, NULL, false, -1, -1, true },
};

static void
test_fetch(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(fetch_cases); i++) {
		const struct fetch_case *c = &fetch_cases[i];
		struct imapparse_fetch f;
		bool ok = imapparse_fetch(c->line, strlen(c->line), &f);

		T_CHECK(c->name, ok == c->ok);
		T_CHECK(c->name, imapparse_is_fetch(c->line, strlen(c->line)) ==
					 !c->not_fetch);
		if (!c->ok) {
			T_CHECK(c->name, f.flags == NULL && f.uid == 0);
			continue;
		}
		T_INTEQ(c->name, f.seq, c->seq);
		T_INTEQ(c->name, f.uid, c->uid);
		T_STREQ(c->name, f.flags, c->flags);
		T_CHECK(c->name, f.seen == c->seen);
		T_CHECK(c->name, f.has_internaldate == (c->date != -1));
		if (c->date != -1)
			T_INTEQ(c->name, f.internaldate, c->date);
		T_CHECK(c->name, f.has_size == (c->size != -1));
		if (c->size != -1)
			T_INTEQ(c->name, f.size, c->size);
		imapparse_fetch_clear(&f);
	}
}

/* Too many flags: a hostile server cannot make us collect unbounded. */
static void
test_fetch_many_flags(void)
{
	g_autoptr(GString) line = g_string_new("* 1 FETCH (UID 1 FLAGS (");
	struct imapparse_fetch f;

	for (int i = 0; i < 300; i++)
		g_string_append_printf(line, "%sk%d", i ? " " : "", i);
	g_string_append(line, "))");
	T_CHECK("fetch/too-many-flags",
		!imapparse_fetch(line->str, line->len, &f));
}

/* ---- small untagged responses ---------------------------------------- */

static const struct number_case {
	const char *name;
	int kind; /* 0 UIDVALIDITY, 1 EXISTS, 2 EXPUNGE */
	const char *line;
	bool ok;
	uint32_t value;
} number_cases[] = {
	{ "uidvalidity/ok", 0, "* OK [UIDVALIDITY 3857529045] UIDs valid\r\n",
	  true, 3857529045u },
	{ "uidvalidity/no-text", 0, "* OK [UIDVALIDITY 1]", true, 1 },
	{ "uidvalidity/zero", 0, "* OK [UIDVALIDITY 0]", false, 0 },
	{ "uidvalidity/overflow", 0, "* OK [UIDVALIDITY 4294967296]", false,
	  0 },
	{ "uidvalidity/unclosed", 0, "* OK [UIDVALIDITY 5", false, 0 },
	{ "uidvalidity/uidnext", 0, "* OK [UIDNEXT 5] x", false, 0 },
	{ "uidvalidity/tagged", 0, "A3 OK [UIDVALIDITY 5] x", false, 0 },
	{ "exists/ok", 1, "* 23 EXISTS\r\n", true, 23 },
	{ "exists/zero", 1, "* 0 EXISTS", true, 0 },
	{ "exists/trailing", 1, "* 23 EXISTS x", false, 0 },
	{ "exists/recent", 1, "* 23 RECENT", false, 0 },
	{ "exists/overflow", 1, "* 4294967296 EXISTS", false, 0 },
	{ "expunge/ok", 2, "* 5 EXPUNGE", true, 5 },
	{ "expunge/zero", 2, "* 0 EXPUNGE", false, 0 },
};

static void
test_numbers(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(number_cases); i++) {
		const struct number_case *c = &number_cases[i];
		uint32_t v = 0;
		bool ok;

		if (c->kind == 0)
			ok = imapparse_uidvalidity(c->line, strlen(c->line),
						   &v);
		else if (c->kind == 1)
			ok = imapparse_exists(c->line, strlen(c->line), &v);
		else
			ok = imapparse_expunge(c->line, strlen(c->line), &v);
		T_CHECK(c->name, ok == c->ok);
		if (c->ok)
			T_INTEQ(c->name, v, c->value);
	}
}

/* ---- CAPABILITY ------------------------------------------------------ */

static const struct cap_case {
	const char *name;
	const char *line;
	const char *caps; /* joined with " ", NULL: none */
} cap_cases[] = {
	{ "cap/untagged", "* CAPABILITY IMAP4rev1 ID MOVE UIDPLUS\r\n",
	  "IMAP4REV1 ID MOVE UIDPLUS" },
	{ "cap/auth", "* CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR",
	  "IMAP4REV1 AUTH=PLAIN SASL-IR" },
	{ "cap/ok-code", "* OK [CAPABILITY IMAP4rev1 STARTTLS] ready",
	  "IMAP4REV1 STARTTLS" },
	{ "cap/tagged-code", "A1 OK [CAPABILITY IMAP4rev1 MOVE] Logged in",
	  "IMAP4REV1 MOVE" },
	{ "cap/empty", "* CAPABILITY", NULL },
	{ "cap/double-space", "* CAPABILITY A  B", NULL },
	{ "cap/unclosed-code", "* OK [CAPABILITY A B", NULL },
	{ "cap/other", "* OK [UIDVALIDITY 5]", NULL },
	{ "cap/no-tag", " OK [CAPABILITY A]", NULL },
	{ "cap/paren", "* CAPABILITY A (B)", NULL },
};

static void
test_capability(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(cap_cases); i++) {
		const struct cap_case *c = &cap_cases[i];
		g_auto(GStrv) caps = imapparse_capability(c->line,
							  strlen(c->line));
		g_autofree char *joined = caps ? g_strjoinv(" ", caps) : NULL;

		T_STREQ(c->name, joined, c->caps);
	}
	{
		static const char line[] = "* CAPABILITY IMAP4rev1 Move ID";
		g_auto(GStrv) caps = imapparse_capability(line,
							  sizeof(line) - 1);

		T_CHECK("cap/has-move", imapparse_has_capability(caps, "MOVE"));
		T_CHECK("cap/has-id", imapparse_has_capability(caps, "id"));
		T_CHECK("cap/no-uidplus",
			!imapparse_has_capability(caps, "UIDPLUS"));
		T_CHECK("cap/null", !imapparse_has_capability(NULL, "ID"));
	}
}

/* ---- dates ----------------------------------------------------------- */

static const struct date_case {
	const char *name;
	const char *s;
	bool ok;
	int64_t t;
} date_cases[] = {
	{ "date/rfc", "17-Jul-1996 02:44:25 -0700", true, 837596665 },
	{ "date/space-day", " 1-Jan-2000 00:00:00 +0000", true, 946684800 },
	{ "date/one-digit-day", "1-Jan-2000 00:00:00 +0000", true, 946684800 },
	{ "date/plus-0800", "10-Oct-2022 23:59:59 +0800", true, 1665417599 },
	{ "date/leap-day", "29-Feb-2024 12:00:00 +0000", true, 1709208000 },
	{ "date/month-case", "29-FEB-2024 12:00:00 +0000", true, 1709208000 },
	{ "date/not-leap", "29-Feb-2023 12:00:00 +0000", false, 0 },
	{ "date/bad-month", "01-Foo-2023 12:00:00 +0000", false, 0 },
	{ "date/hour-24", "01-Jan-2023 24:00:00 +0000", false, 0 },
	{ "date/sec-60", "01-Jan-2023 23:59:60 +0000", false, 0 },
	{ "date/no-zone", "01-Jan-2023 23:59:59", false, 0 },
	{ "date/bad-zone", "01-Jan-2023 23:59:59 0000", false, 0 },
	{ "date/zone-min-60", "01-Jan-2023 23:59:59 +0060", false, 0 },
	{ "date/two-digit-year", "01-Jan-23 23:59:59 +0000", false, 0 },
	{ "date/trailing", "01-Jan-2023 23:59:59 +0000x", false, 0 },
	{ "date/three-digit-day", "001-Jan-2023 23:59:59 +0000", false, 0 },
	{ "date/empty", "", false, 0 },
};

static void
test_dates(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(date_cases); i++) {
		const struct date_case *c = &date_cases[i];
		int64_t t = 0;
		bool ok = imapparse_date_time(c->s, strlen(c->s), &t);

		T_CHECK(c->name, ok == c->ok);
		if (c->ok)
			T_INTEQ(c->name, t, c->t);
	}
}

static const struct sdate_case {
	const char *name;
	int64_t t;
	const char *want;
} sdate_cases[] = {
	{ "sdate/epoch", 0, "1-Jan-1970" },
	{ "sdate/oct", 1664582400, "1-Oct-2022" },
	{ "sdate/dec-end", 1704067199, "31-Dec-2023" },
};

static void
test_search_dates(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(sdate_cases); i++) {
		char buf[16];

		T_CHECK(sdate_cases[i].name,
			imapparse_search_date(sdate_cases[i].t, buf,
					      sizeof(buf)));
		T_STREQ(sdate_cases[i].name, buf, sdate_cases[i].want);
	}
	{
		char small[5];

		T_CHECK("sdate/too-small",
			!imapparse_search_date(0, small, sizeof(small)));
	}
}

/* ---- modified UTF-7, quoting, flags, sets ---------------------------- */

static const struct mutf7_case {
	const char *name;
	const char *utf8;
	const char *mutf7;
} mutf7_cases[] = {
	{ "mutf7/ascii", "Archive", "Archive" },
	{ "mutf7/chinese", "其他文件夹", "&UXZO1mWHTvZZOQ-" },
	{ "mutf7/ampersand", "A&B", "A&-B" },
	{ "mutf7/mixed", "已归档/2022", "&XfJfUmhj-/2022" },
	{ "mutf7/rfc-example", "~peter/mail/台北/日本語",
	  "~peter/mail/&U,BTFw-/&ZeVnLIqe-" },
};

static void
test_mutf7(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(mutf7_cases); i++) {
		const struct mutf7_case *c = &mutf7_cases[i];
		g_autoptr(GError) error = NULL;
		g_autofree char *enc = imapparse_mutf7_encode(c->utf8, &error);
		g_autofree char *dec = imapparse_mutf7_decode(c->mutf7, &error);

		T_STREQ(c->name, enc, c->mutf7);
		T_STREQ(c->name, dec, c->utf8);
	}
	{
		static const char *const bad_enc[] = { "\xff\xfe", "a\xc3" };
		static const char *const bad_dec[] = {
			"&Jjo", "\xe5\x85\xb6", "a\tb", "&-&", "&AGE-",
			"&ZeVnLIqe",
		};

		for (size_t i = 0; i < G_N_ELEMENTS(bad_enc); i++) {
			g_autoptr(GError) error = NULL;
			g_autofree char *s = imapparse_mutf7_encode(bad_enc[i],
								   &error);
			T_CHECK("mutf7/bad-utf8", s == NULL && error != NULL &&
				error->code == INTAKE_ERROR_CONFIG);
		}
		for (size_t i = 0; i < G_N_ELEMENTS(bad_dec); i++) {
			g_autoptr(GError) error = NULL;
			g_autofree char *s = imapparse_mutf7_decode(bad_dec[i],
								   &error);
			T_CHECK("mutf7/bad-mutf7", s == NULL && error != NULL);
		}
	}
}

static const struct quote_case {
	const char *name;
	const char *s;
	const char *want;
} quote_cases[] = {
	{ "quote/plain", "INBOX", "\"INBOX\"" },
	{ "quote/space", "My Box", "\"My Box\"" },
	{ "quote/escapes", "a\"b\\c", "\"a\\\"b\\\\c\"" },
	{ "quote/empty", "", "\"\"" },
	{ "quote/crlf", "a\r\nb", NULL },
	{ "quote/lf", "a\nUID EXPUNGE", NULL },
	{ "quote/8bit", "其他", NULL },
	{ "quote/del", "a\x7f", NULL },
};

static void
test_quote(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(quote_cases); i++) {
		g_autofree char *q = imapparse_quote(quote_cases[i].s);

		T_STREQ(quote_cases[i].name, q, quote_cases[i].want);
	}
}

static const struct flag_case {
	const char *name;
	const char *s;
	bool ok;
} flag_cases[] = {
	{ "flag/keyword", "$Filed", true },
	{ "flag/system", "\\Flagged", true },
	{ "flag/empty", "", false },
	{ "flag/backslash", "\\", false },
	{ "flag/space", "a b", false },
	{ "flag/paren", "a)", false },
	{ "flag/bracket", "a]", false },
	{ "flag/star", "\\*", false },
	{ "flag/crlf", "a\r\n", false },
	{ "flag/8bit", "已处理", false },
	{ "flag/double-backslash", "\\\\x", false },
	{ "flag/long",
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	  false },
};

static void
test_flags(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(flag_cases); i++)
		T_CHECK(flag_cases[i].name,
			imapparse_is_flag(flag_cases[i].s) == flag_cases[i].ok);
}

static const struct set_case {
	const char *name;
	uint32_t uids[8];
	size_t n;
	const char *want;
} set_cases[] = {
	{ "set/none", { 0 }, 0, NULL },
	{ "set/one", { 5 }, 1, "5" },
	{ "set/runs", { 1, 2, 3, 5, 7, 8 }, 6, "1:3,5,7:8" },
	{ "set/singles", { 1, 3, 5 }, 3, "1,3,5" },
	{ "set/max", { 4294967294u, 4294967295u }, 2, "4294967294:4294967295" },
};

static void
test_sets(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(set_cases); i++) {
		g_autofree char *s = imapparse_uid_set(set_cases[i].uids,
						       set_cases[i].n);

		T_STREQ(set_cases[i].name, s, set_cases[i].want);
	}
}

static const struct tagged_case {
	const char *name;
	const char *line;
	bool ok;
	const char *status, *code;
} tagged_cases[] = {
	{ "tagged/ok", "A004 OK Completed\r\n", true, "OK", "" },
	{ "tagged/no-code", "A005 NO [TRYCREATE] Mailbox doesn't exist: X",
	  true, "NO", "TRYCREATE" },
	{ "tagged/bad", "B12 BAD Error in IMAP command", true, "BAD", "" },
	{ "tagged/lower", "A1 no [UNAVAILABLE] busy", true, "NO",
	  "UNAVAILABLE" },
	{ "tagged/bare", "A1 OK", true, "OK", "" },
	{ "tagged/untagged", "* NO [ALERT] x", false, NULL, NULL },
	{ "tagged/continuation", "+ go ahead", false, NULL, NULL },
	{ "tagged/other-word", "A1 FETCH x", false, NULL, NULL },
	{ "tagged/okay", "A1 OKAY", false, NULL, NULL },
	{ "tagged/empty", "", false, NULL, NULL },
};

static void
test_tagged(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(tagged_cases); i++) {
		const struct tagged_case *c = &tagged_cases[i];
		char status[4], code[32];
		bool ok = imapparse_tagged(c->line, strlen(c->line), status,
					   sizeof(status), code, sizeof(code));

		T_CHECK(c->name, ok == c->ok);
		if (c->ok) {
			T_STREQ(c->name, status, c->status);
			T_STREQ(c->name, code, c->code);
		}
	}
}

/* ---- header literals (UID FETCH n BODY.PEEK[HEADER]) ------------------ */

static const struct literal_case {
	const char *name;
	const char *line;
	bool ok;
	uint32_t uid;
	uint64_t size;
} literal_cases[] = {
	{ "literal/dovecot", "* 1 FETCH (UID 5 BODY[HEADER]<0> {4096}\r\n",
	  true, 5, 4096 },
	{ "literal/no-origin", "* 3 FETCH (UID 7 BODY[HEADER] {342}", true, 7,
	  342 },
	{ "literal/no-uid", "* 3 FETCH (BODY[HEADER] {342}", true, 0, 342 },
	{ "literal/flags-first",
	  "* 3 FETCH (UID 7 FLAGS (\\Seen) BODY[HEADER]<4096> {10}", true, 7,
	  10 },
	{ "literal/lowercase", "* 3 fetch (uid 7 body[header] {1}", true, 7,
	  1 },
	{ "literal/zero", "* 3 FETCH (UID 7 BODY[HEADER]<8192> {0}", true, 7,
	  0 },
	{ "literal/quoted", "* 3 FETCH (UID 7 BODY[HEADER]<8192> \"\"", false,
	  0, 0 },
	{ "literal/nil", "* 3 FETCH (UID 7 BODY[HEADER] NIL", false, 0, 0 },
	{ "literal/other-section", "* 3 FETCH (UID 7 BODY[TEXT] {10}", false,
	  0, 0 },
	{ "literal/body", "* 3 FETCH (UID 7 BODY[] {10}", false, 0, 0 },
	{ "literal/not-last", "* 3 FETCH (UID 7 BODY[HEADER] {10} x", false,
	  0, 0 },
	{ "literal/huge", "* 3 FETCH (UID 7 BODY[HEADER] {99999999999}",
	  false, 0, 0 },
	{ "literal/bad-origin", "* 3 FETCH (UID 7 BODY[HEADER]<x> {10}", false,
	  0, 0 },
	{ "literal/unknown-item", "* 3 FETCH (FOO 1 BODY[HEADER] {10}", false,
	  0, 0 },
	{ "literal/tagged", "A5 FETCH (UID 7 BODY[HEADER] {10}", false, 0, 0 },
	{ "literal/no-brace-end", "* 3 FETCH (UID 7 BODY[HEADER] {10", false,
	  0, 0 },
	{ "literal/zero-uid", "* 3 FETCH (UID 0 BODY[HEADER] {10}", false, 0,
	  0 },
};

static void
test_header_literal(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(literal_cases); i++) {
		const struct literal_case *c = &literal_cases[i];
		uint32_t uid = 99;
		uint64_t size = 99;
		bool ok = imapparse_header_literal(c->line, strlen(c->line),
						   &uid, &size);

		T_CHECK(c->name, ok == c->ok);
		if (c->ok) {
			T_INTEQ(c->name, uid, c->uid);
			T_INTEQ(c->name, size, c->size);
		}
	}
}

int
main(void)
{
	test_search();
	test_search_nul();
	test_fetch();
	test_fetch_many_flags();
	test_numbers();
	test_capability();
	test_dates();
	test_search_dates();
	test_mutf7();
	test_quote();
	test_flags();
	test_sets();
	test_tagged();
	test_header_literal();
	return t_done();
}
