#include "td_hash.h"

#include <stdio.h>
#include <string.h>
#include <xxhash.h>

uint64_t td_hash64(const void *data, size_t len, uint64_t seed)
{
    return (uint64_t)XXH64(data, len, (XXH64_hash_t)seed);
}

td_status td_hasher_init(td_hasher *h, uint64_t seed)
{
    XXH64_state_t *s = XXH64_createState();
    if (!s)
        return td_fail(TD_ERR_NOMEM, "cannot allocate a hash state");
    XXH64_reset(s, (XXH64_hash_t)seed);
    h->state = s;
    return TD_OK;
}

void td_hasher_free(td_hasher *h)
{
    if (h->state)
        XXH64_freeState((XXH64_state_t *)h->state);
    h->state = NULL;
}

void td_hasher_bytes(td_hasher *h, const void *data, size_t len)
{
    XXH64_update((XXH64_state_t *)h->state, data, len);
}

void td_hasher_i64(td_hasher *h, int64_t v)
{
    unsigned char b[8];
    uint64_t u = (uint64_t)v;
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(u >> (8 * i));
    td_hasher_bytes(h, b, sizeof b);
}

void td_hasher_f64(td_hasher *h, double v)
{
    int64_t bits;
    if (v == 0.0)
        v = 0.0; /* -0.0 and 0.0 hash alike */
    memcpy(&bits, &v, sizeof bits);
    td_hasher_i64(h, bits);
}

void td_hasher_str(td_hasher *h, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    td_hasher_i64(h, (int64_t)n);
    if (n)
        td_hasher_bytes(h, s, n);
}

uint64_t td_hasher_digest(const td_hasher *h)
{
    return (uint64_t)XXH64_digest((const XXH64_state_t *)h->state);
}

void td_hash_hex(uint64_t h, char out[17])
{
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

td_status td_hash_parse(const char *hex, uint64_t *out)
{
    uint64_t v = 0;
    if (!hex || strlen(hex) != 16)
        return td_fail(TD_ERR_PARSE, "'%s' is not a 16-digit hex hash", hex ? hex : "(null)");
    for (int i = 0; i < 16; i++) {
        char c = hex[i];
        int d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return td_fail(TD_ERR_PARSE, "'%s' is not a 16-digit hex hash", hex);
        v = (v << 4) | (uint64_t)d;
    }
    *out = v;
    return TD_OK;
}
