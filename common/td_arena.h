/* Arena allocator: one per network (parameters, gradients, optimizer state,
 * activations). Allocations are never freed one by one; blocks are chained so earlier
 * pointers stay valid as the arena grows. */
#ifndef TD_ARENA_H
#define TD_ARENA_H

#include "td_status.h"

#include <stddef.h>

typedef struct td_arena_block td_arena_block;

typedef struct td_arena {
    td_arena_block *head;
    size_t block_size; /* default size of new blocks */
    size_t used;       /* bytes handed out (for reports) */
    size_t reserved;   /* bytes obtained from the system */
    size_t limit;      /* 0 = unlimited; else TD_ERR_NOMEM past it */
} td_arena;

void td_arena_init(td_arena *a, size_t block_size, size_t limit);
/* Zeroed memory aligned to align (a power of two, at most 4096), or NULL with the error set. */
void *td_arena_alloc(td_arena *a, size_t bytes, size_t align);
/* Typed helper: n floats, 64-byte aligned (SIMD friendly). */
float *td_arena_floats(td_arena *a, size_t n);
void td_arena_reset(td_arena *a); /* forget allocations, keep the first block */
void td_arena_free(td_arena *a);

#endif
