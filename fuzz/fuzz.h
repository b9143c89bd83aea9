/*
 * fuzz.h - what the libFuzzer harnesses share (util.c)
 *
 * Every harness defines LLVMFuzzerTestOneInput().  Built with
 * -fsanitize=fuzzer it is a libFuzzer program (make fuzz); linked with
 * replay.c instead it is a test program that runs the harness once over
 * each file of fuzz/regressions/<name>/ (make check), so every input that
 * once crashed stays a test under the sanitizers.
 *
 * The harnesses work in one private temporary directory (fuzz_dir()),
 * removed at exit.  Paths returned belong to the caller (g_free).
 */
#ifndef INTAKE_FUZZ_H
#define INTAKE_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The harness's temporary directory, made on first use (aborts when it
 * cannot be made: nothing can be fuzzed then). */
const char *fuzz_dir(void);
/* fuzz_dir()/name holding data, mode 0600; aborts on a write error. */
char *fuzz_write(const char *name, const uint8_t *data, size_t size);
/* fuzz_dir()/name as an empty directory (made, or emptied). */
char *fuzz_subdir(const char *name);
/* Removes everything under dir, never following a symlink. */
void fuzz_empty(const char *dir);

#endif
