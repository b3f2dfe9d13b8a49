/*
 * The registry of named objects (see named.h): a fixed table of hash chains
 * under one mutex.
 */
#include <pthread.h>

#include "named.h"
#include "value.h"

#define BUCKETS 256

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static ch_named *registry[BUCKETS];

static bool try_incref(ch_head *o)
{
    uint32_t n = atomic_load_explicit(&o->refcnt, memory_order_relaxed);
    while (n != 0)
        if (atomic_compare_exchange_weak_explicit(&o->refcnt, &n, n + 1, memory_order_acquire, memory_order_relaxed))
            return true;
    return false;
}

ch_open_result ch_named_open(ch_val name, ch_type type, ch_named *(*make)(void *), void *arg, ch_named **found)
{
    ch_named **bucket = &registry[ch_hash(name) % BUCKETS];
    pthread_mutex_lock(&registry_lock);
    for (ch_named *o = *bucket; o != NULL; o = o->next) {
        if (ch_eq(o->name, name) && try_incref(&o->h)) {
            pthread_mutex_unlock(&registry_lock);
            *found = o;
            return o->h.type == type ? CH_OPENED : CH_WRONG_TYPE;
        }
    }
    ch_named *o = make(arg);
    if (o == NULL) {
        pthread_mutex_unlock(&registry_lock);
        return CH_NO_MEMORY;
    }
    o->name = name;
    ch_incref(name);
    o->next = *bucket; /* a dying object of the same name may still be listed */
    *bucket = o;
    pthread_mutex_unlock(&registry_lock);
    *found = o;
    return CH_CREATED;
}

void ch_named_forget(ch_named *obj)
{
    if (obj->name == CH_NONE)
        return;
    pthread_mutex_lock(&registry_lock);
    for (ch_named **p = &registry[ch_hash(obj->name) % BUCKETS]; *p != NULL; p = &(*p)->next) {
        if (*p == obj) {
            *p = obj->next;
            break;
        }
    }
    pthread_mutex_unlock(&registry_lock);
    ch_decref(obj->name); /* a str: releasing it never recurses */
    obj->name = CH_NONE;
}
