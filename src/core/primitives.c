/*
 * Lock, Event, Semaphore, Barrier and Counter (see primitives.h).
 *
 * Lock and Semaphore hand each freed unit to one waiter at a time (a waiter
 * woken but leaving unserved passes the wake-up on, as in queue.c); Event
 * and Barrier wake everyone, since everyone may proceed.
 */
#include "primitives.h"

/* ch_named_open makes objects through one function and one argument. */
typedef struct {
    ch_sync_init init;
    ch_type type;
} make_args;

static ch_named *make_sync(void *arg)
{
    const make_args *a = arg;
    ch_sync *s = ch_new_object(sizeof(ch_sync), a->type);
    if (s == NULL)
        return NULL;
    if (ch_mutex_init(&s->lock) != 0) {
        ch_free(s, sizeof(ch_sync));
        return NULL;
    }
    ch_named_init(&s->n);
    s->value = a->init.value;
    atomic_init(&s->counter, a->init.value);
    s->parties = a->init.parties;
    s->count = 0;
    s->generation = 0;
    s->reset_generation = 0;
    s->broken = false;
    s->waiters.head = NULL;
    return &s->n;
}

ch_open_result ch_sync_open(ch_val name, ch_type type, ch_sync_init init, ch_sync **out)
{
    make_args args = {init, type};
    if (name == CH_NONE) {
        *out = (ch_sync *)make_sync(&args);
        return *out != NULL ? CH_CREATED : CH_NO_MEMORY;
    }
    ch_named *found = NULL;
    ch_open_result rc = ch_named_open(name, type, make_sync, &args, &found);
    *out = (ch_sync *)found;
    return rc;
}

static inline void answered(ch_waiter *w)
{
    if (w != NULL)
        w->notified = false;
}

/* --- Lock and Semaphore -------------------------------------------------------------- */

bool ch_lock_try_acquire(ch_sync *s, ch_waiter *waiter)
{
    ch_mutex_lock(&s->lock);
    answered(waiter);
    bool acquired = s->value == 0;
    if (acquired)
        s->value = 1;
    ch_mutex_unlock(&s->lock);
    return acquired;
}

bool ch_lock_release(ch_sync *s)
{
    ch_mutex_lock(&s->lock);
    bool held = s->value != 0;
    if (held) {
        s->value = 0;
        ch_waitlist_wake_one(&s->waiters);
    }
    ch_mutex_unlock(&s->lock);
    return held;
}

bool ch_lock_is_held(ch_sync *s)
{
    ch_mutex_lock(&s->lock);
    bool held = s->value != 0;
    ch_mutex_unlock(&s->lock);
    return held;
}

bool ch_semaphore_try_acquire(ch_sync *s, ch_waiter *waiter)
{
    ch_mutex_lock(&s->lock);
    answered(waiter);
    bool acquired = s->value > 0;
    if (acquired)
        s->value--;
    ch_mutex_unlock(&s->lock);
    return acquired;
}

void ch_semaphore_release(ch_sync *s, int64_t n)
{
    ch_mutex_lock(&s->lock);
    s->value += n;
    for (int64_t i = 0; i < n; i++)
        ch_waitlist_wake_one(&s->waiters);
    ch_mutex_unlock(&s->lock);
}

int64_t ch_semaphore_value(ch_sync *s)
{
    ch_mutex_lock(&s->lock);
    int64_t v = s->value;
    ch_mutex_unlock(&s->lock);
    return v;
}

/* --- Event ----------------------------------------------------------------------------- */

void ch_event_set(ch_sync *s)
{
    ch_mutex_lock(&s->lock);
    s->value = 1;
    ch_waitlist_wake_all(&s->waiters);
    ch_mutex_unlock(&s->lock);
}

void ch_event_clear(ch_sync *s)
{
    ch_mutex_lock(&s->lock);
    s->value = 0;
    ch_mutex_unlock(&s->lock);
}

bool ch_event_is_set(ch_sync *s, ch_waiter *waiter)
{
    ch_mutex_lock(&s->lock);
    answered(waiter);
    bool set = s->value != 0;
    ch_mutex_unlock(&s->lock);
    return set;
}

/* --- Barrier --------------------------------------------------------------------------- */

ch_barrier_state ch_barrier_arrive(ch_sync *s, uint32_t *index, uint64_t *generation)
{
    ch_barrier_state state = CH_BARRIER_WAITING;
    ch_mutex_lock(&s->lock);
    if (s->broken) {
        state = CH_BARRIER_BROKEN;
    } else {
        *index = s->count++;
        *generation = s->generation;
        if (s->count == s->parties) { /* the last one: let the group through */
            s->count = 0;
            s->generation++;
            ch_waitlist_wake_all(&s->waiters);
            state = CH_BARRIER_PASSED;
        }
    }
    ch_mutex_unlock(&s->lock);
    return state;
}

ch_barrier_state ch_barrier_check(ch_sync *s, uint64_t generation, ch_waiter *waiter)
{
    ch_mutex_lock(&s->lock);
    answered(waiter);
    ch_barrier_state state = CH_BARRIER_WAITING;
    if (s->generation != generation)
        state = s->reset_generation == generation + 1 ? CH_BARRIER_BROKEN : CH_BARRIER_PASSED;
    else if (s->broken)
        state = CH_BARRIER_BROKEN;
    ch_mutex_unlock(&s->lock);
    return state;
}

void ch_barrier_abort(ch_sync *s)
{
    ch_mutex_lock(&s->lock);
    s->broken = true;
    ch_waitlist_wake_all(&s->waiters);
    ch_mutex_unlock(&s->lock);
}

void ch_barrier_reset(ch_sync *s)
{
    ch_mutex_lock(&s->lock);
    if (s->count > 0) { /* those waiting now see their generation end broken */
        s->reset_generation = s->generation + 1;
        s->generation++;
    }
    s->count = 0;
    s->broken = false;
    ch_waitlist_wake_all(&s->waiters);
    ch_mutex_unlock(&s->lock);
}

void ch_barrier_state_of(ch_sync *s, uint32_t *waiting, bool *broken)
{
    ch_mutex_lock(&s->lock);
    *waiting = s->count;
    *broken = s->broken;
    ch_mutex_unlock(&s->lock);
}

/* --- Counter --------------------------------------------------------------------------- */

int64_t ch_counter_add(ch_sync *s, int64_t n)
{
    return atomic_fetch_add_explicit(&s->counter, n, memory_order_acq_rel) + n;
}

int64_t ch_counter_get(ch_sync *s) { return atomic_load_explicit(&s->counter, memory_order_acquire); }

bool ch_counter_compare_and_set(ch_sync *s, int64_t expected, int64_t value)
{
    return atomic_compare_exchange_strong_explicit(&s->counter, &expected, value, memory_order_acq_rel,
                                                   memory_order_acquire);
}

/* --- waiting ----------------------------------------------------------------------------- */

void ch_sync_watch(ch_sync *s, ch_waiter *w)
{
    ch_mutex_lock(&s->lock);
    ch_waitlist_add(&s->waiters, w);
    ch_mutex_unlock(&s->lock);
}

void ch_sync_unwatch(ch_sync *s, ch_waiter *w)
{
    ch_mutex_lock(&s->lock);
    ch_waitlist_remove(&s->waiters, w);
    bool unit_free = (s->n.h.type == CH_LOCK && s->value == 0) || (s->n.h.type == CH_SEMAPHORE && s->value > 0);
    if (w->notified && unit_free) /* a wake-up meant for us, unused: pass it on */
        ch_waitlist_wake_one(&s->waiters);
    w->notified = false;
    ch_mutex_unlock(&s->lock);
}

void ch_sync_destroy(ch_sync *s) { ch_mutex_destroy(&s->lock); }
