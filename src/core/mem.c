/*
 * Native memory: malloc with a process-wide count of the bytes held.
 *
 * The count is how tests prove that memory returns to its baseline after a
 * workload, in every interpreter, without trusting a leak checker.  It is
 * striped: a thread adds to one of several cache-line-sized slots, chosen
 * from its stack address (threads' stacks lie megabytes apart; no
 * thread-local lookup needed), so a producer and a consumer on different
 * cores do not fight over one counter.  Reading sums the slots.
 */
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "object.h"

#define STRIPES 64

static struct {
    _Alignas(64) _Atomic int64_t bytes;
} stripes[STRIPES];

static inline void count(int64_t bytes)
{
    char here;
    uintptr_t stack = (uintptr_t)&here >> 20; /* the same for a thread's shallow and deep calls */
    unsigned i = (unsigned)((stack ^ (stack >> 6)) % STRIPES);
    atomic_fetch_add_explicit(&stripes[i].bytes, bytes, memory_order_relaxed);
}

void *ch_alloc(size_t size)
{
    void *p = ch_arena_allocating ? ch_arena_alloc(size) : NULL;
    if (p == NULL)
        p = malloc(size);
    if (p != NULL)
        count((int64_t)size);
    return p;
}

void *ch_alloc_outside_arena(size_t size)
{
    void *p = malloc(size);
    if (p != NULL)
        count((int64_t)size);
    return p;
}

void ch_free(void *p, size_t size)
{
    if (p == NULL)
        return;
    count(-(int64_t)size);
    if (!ch_arena_holds(p))
        free(p);
}

void *ch_realloc(void *p, size_t old_size, size_t new_size)
{
    if (ch_arena_holds(p)) { /* the test arena cannot resize in place: move */
        void *q = ch_arena_allocating ? ch_arena_alloc(new_size) : NULL;
        if (q == NULL)
            q = malloc(new_size);
        if (q != NULL) {
            memcpy(q, p, old_size < new_size ? old_size : new_size);
            count((int64_t)new_size - (int64_t)old_size);
        }
        return q;
    }
    void *q = realloc(p, new_size);
    if (q != NULL)
        count((int64_t)new_size - (int64_t)old_size);
    return q;
}

void ch_count_bytes(int64_t bytes) { count(bytes); }

int64_t ch_native_bytes(void)
{
    int64_t sum = 0;
    for (int i = 0; i < STRIPES; i++)
        sum += atomic_load_explicit(&stripes[i].bytes, memory_order_relaxed);
    return sum;
}
bool ch_grow_scratch(void **buf, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return true;
    size_t n = *cap < 64 ? 64 : *cap;
    while (n < need)
        n *= 2;
    void *p = realloc(*buf, n * size);
    if (p == NULL)
        return false;
    *buf = p;
    *cap = n;
    return true;
}

void *ch_new_object(size_t size, ch_type type)
{
    ch_head *o = ch_alloc(size);
    if (o == NULL)
        return NULL;
    atomic_init(&o->refcnt, 1);
    o->type = (uint8_t)type;
    o->flags = 0;
    o->aux = 0;
    return o;
}
