/*
 * Lock, Event, Semaphore, Barrier and Counter, shared by every interpreter
 * and thread of the process.
 *
 * One struct serves all five (each with its own type tag, so a name opened
 * as a Lock cannot be reopened as an Event).  The state sits under a mutex;
 * callers that must wait sleep on the waitlist (sync.h) and retry, exactly
 * as queue waiters do.  Counter needs no mutex: it is one atomic integer.
 */
#ifndef COHIVE_CORE_PRIMITIVES_H
#define COHIVE_CORE_PRIMITIVES_H

#include "named.h"
#include "sync.h"

typedef struct {
    ch_named n; /* CH_LOCK ... CH_COUNTER */
    ch_mutex lock;
    int64_t value;            /* Lock: 1 if held; Event: 1 if set; Semaphore: the count */
    _Atomic int64_t counter;  /* Counter */
    uint32_t parties, count;  /* Barrier: how many must arrive, how many have */
    uint64_t generation;      /* Barrier: bumped each time it lets a group through */
    uint64_t reset_generation; /* Barrier: 1 + the generation a reset broke, or 0 */
    bool broken;              /* Barrier: aborted or timed out until reset */
    ch_waitlist waiters;
} ch_sync;

typedef struct {
    int64_t value;    /* initial value (Semaphore, Counter) */
    uint32_t parties; /* Barrier */
} ch_sync_init;

/* Anonymous when name is CH_NONE; otherwise see ch_named_open. */
ch_open_result ch_sync_open(ch_val name, ch_type type, ch_sync_init init, ch_sync **out);

/* The "try" operations never block; each answers `waiter`'s pending
 * wake-up (NULL when the caller is not waiting). */
bool ch_lock_try_acquire(ch_sync *s, ch_waiter *waiter);
bool ch_lock_release(ch_sync *s); /* false if it was not held */
bool ch_lock_is_held(ch_sync *s);

bool ch_semaphore_try_acquire(ch_sync *s, ch_waiter *waiter);
void ch_semaphore_release(ch_sync *s, int64_t n);
int64_t ch_semaphore_value(ch_sync *s);

void ch_event_set(ch_sync *s);
void ch_event_clear(ch_sync *s);
bool ch_event_is_set(ch_sync *s, ch_waiter *waiter);

typedef enum { CH_BARRIER_WAITING, CH_BARRIER_PASSED, CH_BARRIER_BROKEN } ch_barrier_state;
/* Arrives at the barrier: the arrival index, and the generation to wait
 * for; PASSED at once for the last party, BROKEN if it is broken. */
ch_barrier_state ch_barrier_arrive(ch_sync *s, uint32_t *index, uint64_t *generation);
ch_barrier_state ch_barrier_check(ch_sync *s, uint64_t generation, ch_waiter *waiter);
void ch_barrier_abort(ch_sync *s); /* breaks it: waiters and later arrivals fail */
void ch_barrier_reset(ch_sync *s); /* back to empty; current waiters fail */
void ch_barrier_state_of(ch_sync *s, uint32_t *waiting, bool *broken);

int64_t ch_counter_add(ch_sync *s, int64_t n); /* the new value */
int64_t ch_counter_get(ch_sync *s);
bool ch_counter_compare_and_set(ch_sync *s, int64_t expected, int64_t value);

void ch_sync_watch(ch_sync *s, ch_waiter *w);
void ch_sync_unwatch(ch_sync *s, ch_waiter *w); /* passes on a wake-up it did not use */

void ch_sync_destroy(ch_sync *s); /* called by ch_release */

#endif
