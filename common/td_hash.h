/* Stable 64-bit hashing (XXH64 from libxxhash): the identity of networks, accelerator
 * configs and candidates. Values are stable across runs, machines and releases. */
#ifndef TD_HASH_H
#define TD_HASH_H

#include "td_status.h"

#include <stddef.h>
#include <stdint.h>

uint64_t td_hash64(const void *data, size_t len, uint64_t seed);

typedef struct td_hasher {
    void *state; /* XXH64_state_t* */
} td_hasher;

td_status td_hasher_init(td_hasher *h, uint64_t seed);
void td_hasher_free(td_hasher *h);
void td_hasher_bytes(td_hasher *h, const void *data, size_t len);
/* Integers are hashed as little-endian 8-byte values, strings with their length, so
 * that ("ab","c") and ("a","bc") differ. */
void td_hasher_i64(td_hasher *h, int64_t v);
void td_hasher_f64(td_hasher *h, double v);
void td_hasher_str(td_hasher *h, const char *s);
uint64_t td_hasher_digest(const td_hasher *h);

/* 16 lowercase hex digits plus NUL. */
void td_hash_hex(uint64_t h, char out[17]);
/* Parses 16 hex digits; returns TD_ERR_PARSE otherwise. */
td_status td_hash_parse(const char *hex, uint64_t *out);

#endif
