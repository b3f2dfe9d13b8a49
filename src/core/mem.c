/*
 * Native memory: malloc with a process-wide byte counter.
 *
 * The counter is how tests prove that memory returns to its baseline after a
 * workload, in every interpreter, without trusting a leak checker.
 */
#include <stdlib.h>
#include <string.h>

#include "object.h"

static _Atomic int64_t native_bytes;
static _Atomic int64_t native_blocks;

void *ch_alloc(size_t size)
{
    void *p = malloc(size);
    if (p != NULL) {
        atomic_fetch_add_explicit(&native_bytes, (int64_t)size, memory_order_relaxed);
        atomic_fetch_add_explicit(&native_blocks, 1, memory_order_relaxed);
    }
    return p;
}

void ch_free(void *p, size_t size)
{
    if (p == NULL)
        return;
    atomic_fetch_sub_explicit(&native_bytes, (int64_t)size, memory_order_relaxed);
    atomic_fetch_sub_explicit(&native_blocks, 1, memory_order_relaxed);
    free(p);
}

void *ch_realloc(void *p, size_t old_size, size_t new_size)
{
    void *q = realloc(p, new_size);
    if (q != NULL)
        atomic_fetch_add_explicit(&native_bytes, (int64_t)new_size - (int64_t)old_size,
                                  memory_order_relaxed);
    return q;
}

int64_t ch_native_bytes(void) { return atomic_load_explicit(&native_bytes, memory_order_relaxed); }

int64_t ch_native_blocks(void) { return atomic_load_explicit(&native_blocks, memory_order_relaxed); }

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
