/*
 * The read-only test arena (see arena.h): a bump allocator over one
 * anonymous mapping.  The arena is never unmapped, since objects in it may
 * live until the process exits; a test process makes one.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS under -std=c11 */
#include "arena.h"

#if defined(__unix__) || defined(__APPLE__)
#include <sys/mman.h>
#define HAVE_MMAP 1
#endif

bool ch_arena_allocating;
char *ch_arena_base;
size_t ch_arena_capacity;
static size_t used;

bool ch_arena_begin(size_t size)
{
#ifdef HAVE_MMAP
    if (ch_arena_base != NULL)
        return false;
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return false;
    ch_arena_base = p;
    ch_arena_capacity = size;
    used = 0;
    ch_arena_allocating = true;
    return true;
#else
    (void)size;
    return false;
#endif
}

void ch_arena_end(void) { ch_arena_allocating = false; }

bool ch_arena_seal(bool sealed)
{
#ifdef HAVE_MMAP
    return ch_arena_base != NULL && mprotect(ch_arena_base, ch_arena_capacity, sealed ? PROT_READ : PROT_READ | PROT_WRITE) == 0;
#else
    (void)sealed;
    return false;
#endif
}

void *ch_arena_alloc(size_t size)
{
    size = (size + 15) & ~(size_t)15;
    if (ch_arena_capacity - used < size)
        return NULL;
    void *p = ch_arena_base + used;
    used += size;
    return p;
}

