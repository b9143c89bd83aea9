/*
 * test_authres.c - Authentication-Results parsing and the trust verdict
 */
#include <string.h>

#include "authres.h"
#include "t.h"

#define ID "mx.example.gov.cn"

struct ar_case {
	const char *label;
	const char *value;
	bool parses;
	const char *authserv_id;
	enum authres_result dmarc, spf, dkim;
	bool trusted; /* with authserv_id ID */
};

static const struct ar_case cases[] = {
	{ "all pass", ID "; spf=pass smtp.mailfrom=a@b.cn; dkim=pass "
	  "header.d=b.cn; dmarc=pass header.from=b.cn", true, ID,
	  AUTHRES_PASS, AUTHRES_PASS, AUTHRES_PASS, true },
	{ "dmarc fail", ID "; spf=pass smtp.mailfrom=b.cn; dkim=none; "
	  "dmarc=fail (p=reject) header.from=fuzhou.gov.cn", true, ID,
	  AUTHRES_FAIL, AUTHRES_PASS, AUTHRES_NONE, false },
	{ "dmarc fail, upper case", "MX.EXAMPLE.GOV.CN; DMARC=FAIL", true,
	  "MX.EXAMPLE.GOV.CN", AUTHRES_FAIL, AUTHRES_ABSENT, AUTHRES_ABSENT,
	  false },
	{ "another server's header", "evil.example; dmarc=fail", true,
	  "evil.example", AUTHRES_FAIL, AUTHRES_ABSENT, AUTHRES_ABSENT, true },
	{ "spf and dkim fail", ID "; spf=fail smtp.mailfrom=x.cn; "
	  "dkim=fail header.d=x.cn", true, ID, AUTHRES_ABSENT, AUTHRES_FAIL,
	  AUTHRES_FAIL, false },
	{ "spf softfail, no signature", ID "; spf=softfail; dkim=none", true,
	  ID, AUTHRES_ABSENT, AUTHRES_SOFTFAIL, AUTHRES_NONE, false },
	{ "spf fail, dkim pass", ID "; spf=fail; dkim=pass header.d=b.cn",
	  true, ID, AUTHRES_ABSENT, AUTHRES_FAIL, AUTHRES_PASS, true },
	{ "spf fail, dkim not checked", ID "; spf=fail", true, ID,
	  AUTHRES_ABSENT, AUTHRES_FAIL, AUTHRES_ABSENT, true },
	{ "spf fail, dkim temperror", ID "; spf=fail; dkim=temperror", true,
	  ID, AUTHRES_ABSENT, AUTHRES_FAIL, AUTHRES_TEMPERROR, true },
	{ "spf pass, dkim fail", ID "; spf=pass; dkim=fail", true, ID,
	  AUTHRES_ABSENT, AUTHRES_PASS, AUTHRES_FAIL, true },
	{ "two signatures, one good", ID "; dkim=fail header.d=x.cn; "
	  "dkim=pass header.d=b.cn; spf=fail", true, ID, AUTHRES_ABSENT,
	  AUTHRES_FAIL, AUTHRES_PASS, true },
	{ "dmarc fail after pass", ID "; dmarc=pass; dmarc=fail", true, ID,
	  AUTHRES_FAIL, AUTHRES_ABSENT, AUTHRES_ABSENT, false },
	{ "version and comments", " " ID " 1 (our server); spf (sender "
	  "policy) = pass (good) smtp.mailfrom=a@b.cn; dkim/1 = fail "
	  "(bad sig; really) header.i=@b.cn; dmarc=none", true, ID,
	  AUTHRES_NONE, AUTHRES_PASS, AUTHRES_FAIL, true },
	{ "semicolon in a quoted reason", ID "; spf=pass reason=\"a; "
	  "dmarc=fail\"; dkim=pass", true, ID, AUTHRES_ABSENT, AUTHRES_PASS,
	  AUTHRES_PASS, true },
	{ "semicolon in a comment", ID "; spf=pass (x; dmarc=fail) "
	  "smtp.mailfrom=b.cn", true, ID, AUTHRES_ABSENT, AUTHRES_PASS,
	  AUTHRES_ABSENT, true },
	{ "nested comment", ID " (a (b; dmarc=fail) c); dkim=pass", true, ID,
	  AUTHRES_ABSENT, AUTHRES_ABSENT, AUTHRES_PASS, true },
	{ "quoted authserv-id", "\"" ID "\"; dmarc=fail", true, ID,
	  AUTHRES_FAIL, AUTHRES_ABSENT, AUTHRES_ABSENT, false },
	{ "no result", ID "; none", true, ID, AUTHRES_ABSENT, AUTHRES_ABSENT,
	  AUTHRES_ABSENT, true },
	{ "only the id", ID, true, ID, AUTHRES_ABSENT, AUTHRES_ABSENT,
	  AUTHRES_ABSENT, true },
	{ "unknown result word", ID "; dmarc=bestguesspass", true, ID,
	  AUTHRES_OTHER, AUTHRES_ABSENT, AUTHRES_ABSENT, true },
	{ "hardfail spelling", ID "; spf=hardfail; dkim=neutral", true, ID,
	  AUTHRES_ABSENT, AUTHRES_FAIL, AUTHRES_NEUTRAL, false },
	{ "other methods ignored", ID "; auth=pass smtp.auth=u; "
	  "iprev=fail policy.iprev=1.2.3.4; arc=fail", true, ID,
	  AUTHRES_ABSENT, AUTHRES_ABSENT, AUTHRES_ABSENT, true },
	{ "folded header", ID ";\r\n\tspf=fail\r\n smtp.mailfrom=x.cn;\r\n"
	  "\tdkim=fail", true, ID, AUTHRES_ABSENT, AUTHRES_FAIL, AUTHRES_FAIL,
	  false },
	{ "empty", "", false, "", AUTHRES_ABSENT, AUTHRES_ABSENT,
	  AUTHRES_ABSENT, true },
	{ "comment only", " (nothing here) ", false, "", AUTHRES_ABSENT,
	  AUTHRES_ABSENT, AUTHRES_ABSENT, true },
	{ "starts with a semicolon", "; dmarc=fail", false, "",
	  AUTHRES_ABSENT, AUTHRES_ABSENT, AUTHRES_ABSENT, true },
	{ "unterminated comment", ID "; dmarc=fail (oops", true, ID,
	  AUTHRES_FAIL, AUTHRES_ABSENT, AUTHRES_ABSENT, false },
	{ "unterminated quote", ID "; spf=pass reason=\"x; dmarc=fail", true,
	  ID, AUTHRES_ABSENT, AUTHRES_PASS, AUTHRES_ABSENT, true },
	{ "method without result", ID "; dmarc=; spf=", true, ID,
	  AUTHRES_ABSENT, AUTHRES_ABSENT, AUTHRES_ABSENT, true },
	{ "trailing backslash in comment", ID "; dmarc=fail (\\", true, ID,
	  AUTHRES_FAIL, AUTHRES_ABSENT, AUTHRES_ABSENT, false },
};

static void
test_cases(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		const struct ar_case *c = &cases[i];
		struct authres ar;
		char name[160];
		bool ok = authres_parse(c->value, &ar);

		g_snprintf(name, sizeof(name), "authres.%s.parses", c->label);
		T_CHECK(name, ok == c->parses);
		g_snprintf(name, sizeof(name), "authres.%s.id", c->label);
		T_STREQ(name, ar.authserv_id, c->authserv_id);
		g_snprintf(name, sizeof(name), "authres.%s.dmarc", c->label);
		T_STREQ(name, authres_result_name(ar.dmarc),
			authres_result_name(c->dmarc));
		g_snprintf(name, sizeof(name), "authres.%s.spf", c->label);
		T_STREQ(name, authres_result_name(ar.spf),
			authres_result_name(c->spf));
		g_snprintf(name, sizeof(name), "authres.%s.dkim", c->label);
		T_STREQ(name, authres_result_name(ar.dkim),
			authres_result_name(c->dkim));
		g_snprintf(name, sizeof(name), "authres.%s.trusted", c->label);
		T_CHECK(name, authres_from_trusted(c->value, ID) == c->trusted);
	}
}

/* What the trust verdict does without a configured server or header. */
static const struct {
	const char *label;
	const char *value;
	const char *authserv_id;
	bool trusted;
} trust_cases[] = {
	{ "no authserv_id", ID "; dmarc=fail", NULL, true },
	{ "empty authserv_id", ID "; dmarc=fail", "", true },
	{ "no header", NULL, ID, true },
	{ "id is a prefix", ID ".evil; dmarc=fail", ID, true },
	{ "id differs in case", "Mx.Example.Gov.Cn; dmarc=fail", ID, false },
};

static void
test_trust(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(trust_cases); i++) {
		char name[160];

		g_snprintf(name, sizeof(name), "authres.trust.%s",
			   trust_cases[i].label);
		T_CHECK(name, authres_from_trusted(trust_cases[i].value,
						   trust_cases[i].authserv_id) ==
				      trust_cases[i].trusted);
	}
}

/* A long id is cut, not overrun; a long method word is cut too. */
static void
test_bounds(void)
{
	g_autofree char *id = g_strnfill(5000, 'a');
	g_autofree char *word = g_strnfill(5000, 'd');
	g_autofree char *v1 = g_strconcat(id, "; dmarc=fail", NULL);
	g_autofree char *v2 = g_strconcat(ID "; ", word, "=fail; dmarc=fail",
					  NULL);
	struct authres ar;

	T_CHECK("authres.long_id.parses", authres_parse(v1, &ar));
	T_INTEQ("authres.long_id.cut", strlen(ar.authserv_id),
		AUTHRES_ID_MAX - 1);
	T_CHECK("authres.long_id.dmarc", ar.dmarc == AUTHRES_FAIL);
	T_CHECK("authres.long_method.parses", authres_parse(v2, &ar));
	T_CHECK("authres.long_method.dmarc", ar.dmarc == AUTHRES_FAIL);
}

int
main(void)
{
	test_cases();
	test_trust();
	test_bounds();
	return t_done();
}
