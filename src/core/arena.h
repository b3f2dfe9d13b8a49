/*
 * A test mode that proves reads write nothing: native memory allocated while
 * the arena is on comes from one private mapping, which can then be sealed
 * read-only, so the first write to it (a reference count, a cache, a lock)
 * faults where it happens instead of passing unnoticed.
 *
 * Only for tests: it is switched on and off by one thread while no other
 * thread allocates natively.  Memory freed inside the arena is not reused.
 */
#ifndef COHIVE_CORE_ARENA_H
#define COHIVE_CORE_ARENA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Starts allocating from a fresh arena of `capacity` bytes (false when the
 * platform has no mmap or it failed, or an arena is already on). */
bool ch_arena_begin(size_t capacity);
/* Stops allocating from the arena; what was built there stays. */
void ch_arena_end(void);
/* Makes the arena read-only (true) or writable again (false). */
bool ch_arena_seal(bool sealed);

/* Used by mem.c on every allocation, so the checks are inline. */
extern bool ch_arena_allocating;
extern char *ch_arena_base;
extern size_t ch_arena_capacity;

/* Memory from the arena, or NULL when it is full. */
void *ch_arena_alloc(size_t size);

static inline bool ch_arena_holds(const void *p)
{
    /* false while there is no arena: the capacity is 0 */
    return (uintptr_t)p - (uintptr_t)ch_arena_base < ch_arena_capacity;
}

#endif
