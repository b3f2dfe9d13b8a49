/*
 * The shared FIFO (see queue.h).
 *
 * Wake-ups are handed to one waiter at a time: a waiter that was woken is
 * marked `notified` until it tries again, so two puts in a row wake two
 * different consumers, and a consumer that gives up (timeout, Ctrl-C,
 * cancellation) passes its wake-up on.  Nobody is left sleeping while an
 * item (or a free slot) waits for them.
 */
#include <string.h>

#include "queue.h"

static ch_named *make_queue(void *maxsize)
{
    ch_queue *q = ch_new_object(sizeof(ch_queue), CH_QUEUE);
    if (q == NULL)
        return NULL;
    if (ch_mutex_init(&q->lock) != 0) {
        ch_free(q, sizeof(ch_queue));
        return NULL;
    }
    ch_named_init(&q->n);
    q->maxsize = *(uint64_t *)maxsize;
    q->ring = NULL;
    q->cap = q->head = q->count = 0;
    q->closed = false;
    q->spinners = 0;
    q->getters.head = q->putters.head = NULL;
    return &q->n;
}

ch_queue *ch_queue_new(uint64_t maxsize) { return (ch_queue *)make_queue(&maxsize); }

ch_open_result ch_queue_open(ch_val name, uint64_t maxsize, ch_queue **queue)
{
    ch_named *found = NULL;
    ch_open_result rc = ch_named_open(name, CH_QUEUE, make_queue, &maxsize, &found);
    *queue = (ch_queue *)found;
    return rc;
}

/* Under the lock: the ring holds `count` items from `head`; make room. */
static bool grow(ch_queue *q)
{
    size_t cap = q->cap ? 2 * q->cap : 16;
    ch_val *ring = ch_alloc(cap * sizeof(ch_val));
    if (ring == NULL)
        return false;
    for (size_t i = 0; i < q->count; i++)
        ring[i] = q->ring[(q->head + i) % q->cap];
    ch_free(q->ring, q->cap * sizeof(ch_val));
    q->ring = ring;
    q->cap = cap;
    q->head = 0;
    return true;
}

static inline void answered(ch_waiter *w)
{
    if (w != NULL)
        w->notified = false;
}

ch_queue_result ch_queue_try_put(ch_queue *q, ch_val item, ch_waiter *waiter)
{
    ch_queue_result rc = CH_Q_OK;
    ch_mutex_lock(&q->lock);
    answered(waiter);
    if (q->closed)
        rc = CH_Q_CLOSED;
    else if (q->maxsize != 0 && q->count >= q->maxsize)
        rc = CH_Q_FULL;
    else if (q->count == q->cap && !grow(q))
        rc = CH_Q_NO_MEMORY;
    if (rc == CH_Q_OK) {
        q->ring[(q->head + q->count) % q->cap] = item;
        q->count++;
        if (q->spinners == 0) /* a spinning getter will take it, awake already */
            ch_waitlist_wake_one(&q->getters);
    }
    ch_mutex_unlock(&q->lock);
    return rc;
}

/* Under the lock. */
static ch_queue_result take(ch_queue *q, ch_val *item)
{
    if (q->count == 0)
        return q->closed ? CH_Q_CLOSED : CH_Q_EMPTY;
    *item = q->ring[q->head];
    q->head = (q->head + 1) % q->cap;
    q->count--;
    ch_waitlist_wake_one(&q->putters);
    return CH_Q_OK;
}

ch_queue_result ch_queue_try_get(ch_queue *q, ch_val *item, ch_waiter *waiter)
{
    ch_mutex_lock(&q->lock);
    answered(waiter);
    ch_queue_result rc = take(q, item);
    ch_mutex_unlock(&q->lock);
    return rc;
}

ch_queue_result ch_queue_spin_get(ch_queue *q, ch_val *item, double seconds)
{
    ch_spin spin;
    ch_spin_begin(&spin, seconds, -1);
    ch_mutex_lock(&q->lock);
    q->spinners++;
    ch_queue_result rc = take(q, item);
    ch_mutex_unlock(&q->lock);
    while (rc == CH_Q_EMPTY && ch_spin_step(&spin)) {
        /* Peeked at without the lock, so spinning never slows a putter down. */
        if (__atomic_load_n(&q->count, __ATOMIC_RELAXED) == 0 && !__atomic_load_n(&q->closed, __ATOMIC_RELAXED))
            continue;
        ch_mutex_lock(&q->lock);
        rc = take(q, item);
        ch_mutex_unlock(&q->lock);
    }
    ch_mutex_lock(&q->lock);
    q->spinners--;
    if (q->spinners == 0) /* items put while we spun, not taken: a sleeper for each, as the puts would have */
        for (size_t i = 0; i < q->count; i++)
            ch_waitlist_wake_one(&q->getters);
    ch_mutex_unlock(&q->lock);
    return rc;
}

void ch_queue_close(ch_queue *q)
{
    ch_mutex_lock(&q->lock);
    q->closed = true;
    ch_waitlist_wake_all(&q->getters);
    ch_waitlist_wake_all(&q->putters);
    ch_mutex_unlock(&q->lock);
}

size_t ch_queue_size(ch_queue *q)
{
    ch_mutex_lock(&q->lock);
    size_t n = q->count;
    ch_mutex_unlock(&q->lock);
    return n;
}

bool ch_queue_is_closed(ch_queue *q)
{
    ch_mutex_lock(&q->lock);
    bool closed = q->closed;
    ch_mutex_unlock(&q->lock);
    return closed;
}

void ch_queue_watch(ch_queue *q, bool getting, ch_waiter *w)
{
    ch_mutex_lock(&q->lock);
    ch_waitlist_add(getting ? &q->getters : &q->putters, w);
    ch_mutex_unlock(&q->lock);
}

void ch_queue_unwatch(ch_queue *q, bool getting, ch_waiter *w)
{
    ch_mutex_lock(&q->lock);
    ch_waitlist *list = getting ? &q->getters : &q->putters;
    ch_waitlist_remove(list, w);
    bool could_proceed = getting ? q->count > 0 : (q->maxsize == 0 || q->count < q->maxsize);
    if (w->notified && could_proceed) /* leaving with a wake-up meant for us: pass it on */
        ch_waitlist_wake_one(list);
    w->notified = false;
    ch_mutex_unlock(&q->lock);
}

ch_val *ch_queue_items(ch_queue *q, size_t *n)
{
    /* Rotate the ring so the items are contiguous from its start. */
    if (q->count > 0 && q->head != 0) {
        ch_val *ring = ch_alloc(q->cap * sizeof(ch_val));
        if (ring != NULL) {
            for (size_t i = 0; i < q->count; i++)
                ring[i] = q->ring[(q->head + i) % q->cap];
            ch_free(q->ring, q->cap * sizeof(ch_val));
            q->ring = ring;
            q->head = 0;
        } else { /* out of memory: an in-place rotation by single steps */
            for (size_t step = 0; step < q->head; step++) {
                ch_val first = q->ring[0];
                memmove(q->ring, q->ring + 1, (q->cap - 1) * sizeof(ch_val));
                q->ring[q->cap - 1] = first;
            }
            q->head = 0;
        }
    }
    *n = q->count;
    return q->ring;
}

void ch_queue_destroy(ch_queue *q)
{
    ch_free(q->ring, q->cap * sizeof(ch_val));
    ch_mutex_destroy(&q->lock);
}
