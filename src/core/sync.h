/*
 * Blocking for the native core: a mutex, and waiters that publishers wake.
 *
 * A waiter is either a semaphore, for a thread blocked in a call (sem_wait
 * returns on a signal, so the caller can run Python's signal handlers and
 * Ctrl-C works), or a file descriptor, for an event loop to watch.  Waiters
 * sit on the waitlist of the object they wait for, guarded by its mutex; a
 * publisher wakes all of them and each re-checks its own condition.
 * Nothing here polls.  POSIX: pthreads, semaphores, eventfd (or a pipe).
 */
#ifndef COHIVE_CORE_SYNC_H
#define COHIVE_CORE_SYNC_H

#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stdint.h>

typedef pthread_mutex_t ch_mutex;

static inline int ch_mutex_init(ch_mutex *m) { return pthread_mutex_init(m, NULL); }
static inline void ch_mutex_lock(ch_mutex *m) { pthread_mutex_lock(m); }
static inline void ch_mutex_unlock(ch_mutex *m) { pthread_mutex_unlock(m); }
static inline void ch_mutex_destroy(ch_mutex *m) { pthread_mutex_destroy(m); }

typedef enum { CH_WAITER_SEM, CH_WAITER_FD } ch_waiter_kind;

typedef struct ch_waiter {
    struct ch_waiter *prev, *next; /* on a waitlist, or both NULL */
    bool listed;
    bool notified; /* woken and not yet answered (see queue.c) */
    ch_waiter_kind kind;
    sem_t sem;
    int read_fd, write_fd; /* equal for an eventfd */
} ch_waiter;

typedef struct {
    ch_waiter *head;
} ch_waitlist;

int ch_waiter_init_sem(ch_waiter *w);
int ch_waiter_init_fd(ch_waiter *w); /* -1 with errno set on failure */
void ch_waiter_destroy(ch_waiter *w);

/* Under the owner's mutex. */
void ch_waitlist_add(ch_waitlist *list, ch_waiter *w);
void ch_waitlist_remove(ch_waitlist *list, ch_waiter *w);
void ch_waitlist_wake_all(ch_waitlist *list);
/* Wakes the first waiter not already woken (one item for one consumer). */
void ch_waitlist_wake_one(ch_waitlist *list);

typedef enum { CH_WOKEN, CH_TIMED_OUT, CH_INTERRUPTED } ch_sleep_result;

/* Spins briefly (at most ~50 us, never past the deadline) for a wake-up;
 * whether one came.  Callers spin first, then sleep: a quick reply then
 * costs no futex wake-up, and an idle waiter still uses no CPU. */
bool ch_waiter_spin(ch_waiter *w, double deadline);

/* Sleeps on a semaphore waiter until woken, until the monotonic deadline
 * (seconds since an arbitrary epoch; negative: none) or until a signal. */
ch_sleep_result ch_waiter_sleep(ch_waiter *w, double deadline);

/* Wakes a sleeping waiter without marking it notified: for a reason of
 * its own (a cancel scope, cancel.h), not its owner's. */
void ch_waiter_interrupt(ch_waiter *w);

/* Empties an fd waiter after the event loop saw it readable. */
void ch_waiter_drain(ch_waiter *w);

/* CLOCK_MONOTONIC in seconds. */
double ch_monotonic(void);

#endif
