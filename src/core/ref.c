/*
 * Named cells and their registry (see ref.h).
 *
 * The registry is a fixed table of hash chains under one mutex; it holds no
 * references.  A lookup that meets a cell whose count already reached zero
 * (its owner is about to unregister and free it) must not revive it, so
 * lookups only "try" to increment: a count of zero means "not there".
 */
#include "ref.h"
#include "value.h"

#define BUCKETS 256

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static ch_ref *registry[BUCKETS];

static bool try_incref(ch_head *o)
{
    uint32_t n = atomic_load_explicit(&o->refcnt, memory_order_relaxed);
    while (n != 0)
        if (atomic_compare_exchange_weak_explicit(&o->refcnt, &n, n + 1, memory_order_acquire, memory_order_relaxed))
            return true;
    return false;
}

ch_ref *ch_ref_open(ch_val name, ch_val initial, bool *created)
{
    ch_ref **bucket = &registry[ch_hash(name) % BUCKETS];
    pthread_mutex_lock(&registry_lock);
    for (ch_ref *r = *bucket; r != NULL; r = r->next) {
        if (ch_eq(r->name, name) && try_incref(&r->h)) {
            pthread_mutex_unlock(&registry_lock);
            *created = false;
            return r;
        }
    }
    ch_ref *r = ch_new_object(sizeof(ch_ref), CH_REF);
    if (r == NULL || ch_mutex_init(&r->lock) != 0) {
        pthread_mutex_unlock(&registry_lock);
        if (r != NULL)
            ch_free(r, sizeof(ch_ref));
        return NULL;
    }
    atomic_init(&r->version, 0);
    r->value = initial;
    ch_incref(initial);
    r->name = name;
    ch_incref(name);
    r->waiters.head = NULL;
    r->next = *bucket; /* a dying cell of the same name may still be listed */
    *bucket = r;
    pthread_mutex_unlock(&registry_lock);
    *created = true;
    return r;
}

void ch_ref_forget(ch_ref *r)
{
    pthread_mutex_lock(&registry_lock);
    for (ch_ref **p = &registry[ch_hash(r->name) % BUCKETS]; *p != NULL; p = &(*p)->next) {
        if (*p == r) {
            *p = r->next;
            break;
        }
    }
    pthread_mutex_unlock(&registry_lock);
    ch_mutex_destroy(&r->lock);
}

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
