/*
 * Blocking for the native core: a mutex, and waiters that publishers wake.
 *
 * A waiter sits on the waitlist of the object it waits for, guarded by that
 * object's mutex; a publisher wakes all of them (or one) and each re-checks
 * its own condition.  A waiter counts the wake-ups not yet taken, under its
 * own small mutex, and is one of two kinds:
 *
 *  - a thread blocked in a call (CH_WAITER_SEM, a counting semaphore built
 *    from a mutex and a condition variable) sleeps on the condition
 *    variable.  A condition variable ignores signals, so a thread that must
 *    run Python's signal handlers (Ctrl-C in the main thread) sleeps with
 *    ch_waiter_sleep_interruptible instead: it gives the waiter a file
 *    descriptor and sleeps in poll(), which a signal does interrupt;
 *  - an event loop's waiter (CH_WAITER_FD) has that descriptor from the
 *    start, for the loop to watch.
 *
 * The descriptor is an eventfd on Linux and a non-blocking pipe elsewhere
 * (or on Linux with COHIVE_WAITER_PIPES=1 in the environment, so the test
 * suite covers the fallback).  Only what every POSIX system has is used:
 * pthread mutexes and condition variables, pipe, poll.  Nothing here polls
 * on a timer: a sleeping waiter uses no CPU until it is woken.
 */
#ifndef COHIVE_CORE_SYNC_H
#define COHIVE_CORE_SYNC_H

#include <pthread.h>
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
    pthread_mutex_t mutex; /* guards posts and the fds being opened */
    pthread_cond_t cond;
    unsigned posts;        /* wake-ups not yet taken by the sleeper */
    int read_fd, write_fd; /* -1 until needed; equal for an eventfd */
} ch_waiter;

typedef struct {
    ch_waiter *head;
} ch_waitlist;

/* Both return 0, or -1 with errno set. */
int ch_waiter_init_sem(ch_waiter *w);
int ch_waiter_init_fd(ch_waiter *w);
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
 * costs no thread wake-up, and an idle waiter still uses no CPU. */
bool ch_waiter_spin(ch_waiter *w, double deadline);

/* Sleeps on a semaphore waiter until woken or until the monotonic deadline
 * (seconds since an arbitrary epoch; negative: none).  Never CH_INTERRUPTED. */
ch_sleep_result ch_waiter_sleep(ch_waiter *w, double deadline);

/* The same, but a signal delivered to this thread ends the sleep too
 * (CH_INTERRUPTED), so its handler can run.  Opens the waiter's fd if it
 * has none yet. */
ch_sleep_result ch_waiter_sleep_interruptible(ch_waiter *w, double deadline);

/* Wakes a sleeping waiter without marking it notified: for a reason of
 * its own (a cancel scope, cancel.h), not its owner's. */
void ch_waiter_interrupt(ch_waiter *w);

/* Empties an fd waiter after the event loop saw it readable. */
void ch_waiter_drain(ch_waiter *w);

/* A bounded busy wait (sync.c says how it spins, and when it does not):
 * begin, then check for what is awaited before each step; a step waits a
 * little and returns false once the spin is over. */
typedef struct {
    double until;
} ch_spin;
void ch_spin_begin(ch_spin *s, double seconds, double deadline);
bool ch_spin_step(ch_spin *s);

/* CLOCK_MONOTONIC in seconds. */
double ch_monotonic(void);

#endif
