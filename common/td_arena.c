#include "td_arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct td_arena_block {
    td_arena_block *next;
    size_t size;
    size_t off;
    unsigned char *data;
};

void td_arena_init(td_arena *a, size_t block_size, size_t limit)
{
    memset(a, 0, sizeof *a);
    a->block_size = block_size ? block_size : (size_t)1 << 20;
    a->limit = limit;
}

static td_arena_block *arena_new_block(td_arena *a, size_t min_size)
{
    size_t size = a->block_size > min_size ? a->block_size : min_size;
    if (a->limit && a->reserved + size > a->limit) {
        td_fail(TD_ERR_NOMEM, "arena limit of %zu bytes exceeded (asked %zu more)", a->limit, size);
        return NULL;
    }
    td_arena_block *b = malloc(sizeof *b);
    void *data = NULL;
    if (!b || posix_memalign(&data, 4096, size) != 0) {
        free(b);
        td_fail(TD_ERR_NOMEM, "out of memory allocating an arena block of %zu bytes", size);
        return NULL;
    }
    memset(data, 0, size);
    b->data = data;
    b->size = size;
    b->off = 0;
    b->next = a->head;
    a->head = b;
    a->reserved += size;
    return b;
}

void *td_arena_alloc(td_arena *a, size_t bytes, size_t align)
{
    if (align == 0)
        align = 16;
    if ((align & (align - 1)) != 0 || align > 4096) {
        td_fail(TD_ERR_INTERNAL, "arena alignment %zu is not a power of two <= 4096", align);
        return NULL;
    }
    td_arena_block *b = a->head;
    size_t off = b ? (b->off + align - 1) & ~(align - 1) : 0;
    if (!b || off + bytes > b->size) {
        b = arena_new_block(a, bytes + align);
        if (!b)
            return NULL;
        off = 0;
    }
    void *p = b->data + off;
    b->off = off + bytes;
    a->used += bytes;
    return p;
}

float *td_arena_floats(td_arena *a, size_t n)
{
    return td_arena_alloc(a, n * sizeof(float), 64);
}

void td_arena_reset(td_arena *a)
{
    td_arena_block *b = a->head;
    while (b && b->next) {
        td_arena_block *next = b->next;
        a->reserved -= b->size;
        free(b->data);
        free(b);
        b = next;
    }
    a->head = b;
    if (b) {
        memset(b->data, 0, b->size);
        b->off = 0;
    }
    a->used = 0;
}

void td_arena_free(td_arena *a)
{
    td_arena_block *b = a->head;
    while (b) {
        td_arena_block *next = b->next;
        free(b->data);
        free(b);
        b = next;
    }
    memset(a, 0, sizeof *a);
}
