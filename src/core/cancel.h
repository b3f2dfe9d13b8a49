/*
 * Cancel scopes: how a stopping Hive or Executor wakes its workers out of
 * cohive's own blocking calls.
 *
 * A scope is a process-wide flag with an id (a plain integer, so any
 * interpreter can name it).  A thread enters a scope while it runs a
 * worker; every blocking sleep of that thread (cohive_sleep) lists its
 * waiter on the scope for as long as it sleeps.  Cancelling the scope marks
 * it and interrupts each listed waiter -- and those of scopes opened inside
 * it (a worker's own Hive), however deep -- and the sleeper, finding its
 * scope cancelled, gives up.  A scope that was freed while a thread still
 * runs in it counts as cancelled.
 *
 * The scopes form a short list under one mutex: there are as many as live
 * Hives and Executors, and a sleep only takes the mutex when its thread is
 * in a scope.
 */
#ifndef COHIVE_CORE_CANCEL_H
#define COHIVE_CORE_CANCEL_H

#include <stdbool.h>
#include <stdint.h>

#include "sync.h"

/* A new scope inside `parent` (0: none); its id, or 0 when out of memory. */
uint64_t ch_cancel_new(uint64_t parent);
/* Cancels a scope and wakes its sleepers and its inner scopes' sleepers;
 * false if there is no such scope. */
bool ch_cancel_cancel(uint64_t id);
void ch_cancel_free(uint64_t id);

/* The calling thread now runs in scope `id` (0: none); the previous one. */
uint64_t ch_cancel_enter(uint64_t id);
uint64_t ch_cancel_current(void);

/* One sleep of the calling thread, listed on its scope. */
typedef struct ch_cancel_sleeper {
    struct ch_cancel_sleeper *next;
    ch_waiter *waiter;
    uint64_t scope; /* 0: the thread is in no scope, nothing listed */
} ch_cancel_sleeper;

/* Lists w before it sleeps; false (nothing listed) if already cancelled. */
bool ch_cancel_sleep_begin(ch_cancel_sleeper *s, ch_waiter *w);
/* Unlists it after the sleep. */
void ch_cancel_sleep_end(ch_cancel_sleeper *s);

#endif
