/*
 * Queue: a multi-producer, multi-consumer FIFO of frozen values shared by
 * every interpreter and thread of the process.
 *
 * Items are held in a ring buffer under the queue's mutex; an item moves in
 * and out by reference, so a big Map travels in O(1).  Waiting consumers
 * and producers sit on two waitlists (sync.h); a put wakes one consumer, a
 * get wakes one producer, close wakes everyone.
 */
#ifndef COHIVE_CORE_QUEUE_H
#define COHIVE_CORE_QUEUE_H

#include "named.h"
#include "sync.h"

typedef struct ch_queue {
    ch_named n; /* CH_QUEUE; anonymous queues have the name None */
    ch_mutex lock;
    uint64_t maxsize; /* 0: unbounded */
    ch_val *ring;     /* capacity `cap`, items from `head`, `count` of them */
    size_t cap, head, count;
    bool closed;
    unsigned spinners; /* getters in ch_queue_spin_get: a put wakes no sleeper for them */
    ch_waitlist getters, putters;
} ch_queue;

typedef enum { CH_Q_OK, CH_Q_EMPTY, CH_Q_FULL, CH_Q_CLOSED, CH_Q_NO_MEMORY } ch_queue_result;

ch_queue *ch_queue_new(uint64_t maxsize); /* anonymous */
ch_open_result ch_queue_open(ch_val name, uint64_t maxsize, ch_queue **queue);

/* Both take `waiter` (may be NULL): the caller's waiter, whose pending
 * wake-up this attempt answers.  put steals `item` on CH_Q_OK only. */
ch_queue_result ch_queue_try_put(ch_queue *q, ch_val item, ch_waiter *waiter);
ch_queue_result ch_queue_try_get(ch_queue *q, ch_val *item, ch_waiter *waiter);

/* A get that spins up to `seconds` for an item (the caller releases the GIL),
 * never sleeping.  While it spins a put hands the item to it instead of
 * waking a sleeping getter, a thread wake-up of tens of microseconds; what
 * it leaves behind it passes on.  CH_Q_EMPTY when none came in time. */
ch_queue_result ch_queue_spin_get(ch_queue *q, ch_val *item, double seconds);

void ch_queue_close(ch_queue *q);
size_t ch_queue_size(ch_queue *q);
bool ch_queue_is_closed(ch_queue *q);

/* Waiting: `getting` picks the consumers' or producers' list.  Leaving
 * passes a wake-up on if another waiter could now proceed. */
void ch_queue_watch(ch_queue *q, bool getting, ch_waiter *w);
void ch_queue_unwatch(ch_queue *q, bool getting, ch_waiter *w);

/* Called by ch_release: the items, laid out contiguously, and the ring. */
ch_val *ch_queue_items(ch_queue *q, size_t *n);
void ch_queue_destroy(ch_queue *q);

#endif
