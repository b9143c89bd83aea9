/*
 * rawstore.h - content-addressed raw messages: <state_dir>/raw/<aa>/<sha256>.eml
 *
 * A message is spooled to <state_dir>/tmp/ while it arrives and hashed
 * (SHA-256, OpenSSL EVP) as the bytes pass; rawstore_spool_commit() then
 * fsyncs it, renames it to its hash name and fsyncs the directory.  Only
 * after that does the caller record it in the database: from then on it can
 * always be reprocessed.  A raw file is never rewritten; committing a
 * message whose hash already exists just drops the spool file.
 */
#ifndef INTAKE_RAWSTORE_H
#define INTAKE_RAWSTORE_H

#include "common.h"

#define SHA256_HEX_LEN 64

struct raw_spool;

/* Opens a new spool file under state_dir/tmp (created as needed).
 * max_bytes bounds the message (0: unbounded); writing past it fails with
 * INTAKE_ERROR_LIMIT. */
struct raw_spool *rawstore_spool_new(const char *state_dir,
				     uint64_t max_bytes, GError **error);
/* Appends and hashes; usable directly as a source_sink_fn. */
bool rawstore_spool_write(const void *buf, size_t len, void *spool,
			  GError **error);
uint64_t rawstore_spool_size(const struct raw_spool *spool);
/* fsync, rename into raw/, fsync the directory.  Fills sha_r (64 hex
 * digits + NUL).  Frees the spool whatever happens. */
bool rawstore_spool_commit(struct raw_spool *spool,
			   char sha_r[SHA256_HEX_LEN + 1], GError **error);
/* Removes the spool file and frees the spool. */
void rawstore_spool_abort(struct raw_spool *spool);

/* state_dir/raw/aa/<sha>.eml (newly allocated); NULL when sha is not 64
 * lower-case hex digits. */
char *rawstore_path(const char *state_dir, const char *sha);

/* SHA-256 of a whole file, streamed; for items and for verification. */
bool rawstore_hash_file(const char *path, char sha_r[SHA256_HEX_LEN + 1],
			GError **error);

/* SHA-256 of bytes as they pass, so that an item decoded to a file is
 * hashed on the way and never read again.  rawstore_hash_finish() fills
 * sha_r and frees the hash, whatever happens; rawstore_hash_free() drops
 * an unfinished one (NULL is fine). */
struct raw_hash;
struct raw_hash *rawstore_hash_new(GError **error);
bool rawstore_hash_update(struct raw_hash *hash, const void *buf, size_t len,
			  GError **error);
bool rawstore_hash_finish(struct raw_hash *hash,
			  char sha_r[SHA256_HEX_LEN + 1], GError **error);
void rawstore_hash_free(struct raw_hash *hash);

/* Removes spool files left by a crash (state_dir/tmp/spool-*); a spool
 * still being written (it holds an flock) is left alone. */
void rawstore_cleanup(const char *state_dir);

#endif
