/*
 * Named cells (see ref.h).
 */
#include "ref.h"
#include "value.h"

static ch_named *make_ref(void *initial)
{
    ch_ref *r = ch_new_object(sizeof(ch_ref), CH_REF);
    if (r == NULL)
        return NULL;
    if (ch_mutex_init(&r->lock) != 0) {
        ch_free(r, sizeof(ch_ref));
        return NULL;
    }
    ch_named_init(&r->n);
    atomic_init(&r->version, 0);
    r->value = *(ch_val *)initial;
    ch_incref(r->value);
    r->waiters.head = NULL;
    return &r->n;
}

ch_open_result ch_ref_open(ch_val name, ch_val initial, ch_ref **ref)
{
    ch_named *found = NULL;
    ch_open_result rc = ch_named_open(name, CH_REF, make_ref, &initial, &found);
    *ref = (ch_ref *)found;
    return rc;
}

void ch_ref_destroy(ch_ref *r) { ch_mutex_destroy(&r->lock); }

ch_val ch_ref_get(ch_ref *r, uint64_t *version)
{
    ch_mutex_lock(&r->lock);
    ch_val v = r->value;
    ch_incref(v);
    *version = atomic_load_explicit(&r->version, memory_order_relaxed);
    ch_mutex_unlock(&r->lock);
    return v;
}

/* Under the lock: swap in the value, bump the version, wake the waiters. */
static uint64_t publish_locked(ch_ref *r, ch_val value, ch_val *old)
{
    *old = r->value;
    r->value = value;
    uint64_t v = atomic_fetch_add_explicit(&r->version, 1, memory_order_release) + 1;
    ch_waitlist_wake_all(&r->waiters);
    return v;
}

uint64_t ch_ref_set(ch_ref *r, ch_val value)
{
    ch_val old;
    ch_mutex_lock(&r->lock);
    uint64_t v = publish_locked(r, value, &old);
    ch_mutex_unlock(&r->lock);
    ch_decref(old); /* outside the lock: freeing a big map takes a while */
    return v;
}

uint64_t ch_ref_set_if_version(ch_ref *r, uint64_t expected_version, ch_val value)
{
    ch_val old = CH_NOVALUE;
    uint64_t v = 0;
    ch_mutex_lock(&r->lock);
    if (atomic_load_explicit(&r->version, memory_order_relaxed) == expected_version)
        v = publish_locked(r, value, &old);
    ch_mutex_unlock(&r->lock);
    ch_decref(old);
    return v;
}

uint64_t ch_ref_set_if_value(ch_ref *r, ch_val expected, ch_val value)
{
    ch_val old = CH_NOVALUE;
    uint64_t v = 0;
    ch_mutex_lock(&r->lock);
    if (r->value == expected)
        v = publish_locked(r, value, &old);
    ch_mutex_unlock(&r->lock);
    ch_decref(old);
    return v;
}

void ch_ref_watch(ch_ref *r, ch_waiter *w)
{
    ch_mutex_lock(&r->lock);
    ch_waitlist_add(&r->waiters, w);
    ch_mutex_unlock(&r->lock);
}

void ch_ref_unwatch(ch_ref *r, ch_waiter *w)
{
    ch_mutex_lock(&r->lock);
    ch_waitlist_remove(&r->waiters, w);
    ch_mutex_unlock(&r->lock);
}
