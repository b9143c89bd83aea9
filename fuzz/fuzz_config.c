/*
 * fuzz_config.c - intake.conf: config_load() on the input
 *
 * The input is written as intake.conf into a directory that also holds
 * a valid units.conf and the password files imap.secret and smtp.secret
 * (mode 0600), so that a configuration naming them (as
 * tests/fixtures/config/intake.conf does) loads completely.
 */
#include "config.h"
#include "fuzz.h"

static const char fz_units[] =
	"[福州市市场监督管理局]\n"
	"category = 设区市\n"
	"aliases = 福州市局;福州市市场监管局\n"
	"addresses = fz@fuzhou.example.cn;someone@qq.com\n"
	"\n"
	"[福建省计量科学研究院]\n"
	"category = 直属单位\n"
	"aliases = 省计量院\n"
	"addresses = jly@example.cn\n";

static bool fz_ready;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(GError) err = NULL;
	g_autofree char *path = NULL;
	struct intake_config *cfg;

	if (!fz_ready) {
		g_free(fuzz_write("units.conf", (const uint8_t *)fz_units,
				  sizeof(fz_units) - 1));
		g_free(fuzz_write("imap.secret", (const uint8_t *)"pw\n", 3));
		g_free(fuzz_write("smtp.secret", (const uint8_t *)"pw\n", 3));
		fz_ready = true;
	}
	path = fuzz_write("intake.conf", data, size);
	cfg = config_load(path, &err);
	config_free(cfg);
	return 0;
}
