/*
 * The registry of named objects (see named.h): a fixed table of hash chains
 * under one mutex, held across fork so that a child never inherits it
 * locked; and the process id named objects are stamped with, refreshed in
 * a forked child.
 */
#define _POSIX_C_SOURCE 200809L /* getpid under -std=c11 */
#include <pthread.h>
#include <unistd.h>

#include "named.h"
#include "value.h"

#define BUCKETS 256

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static ch_named *registry[BUCKETS];

_Atomic int64_t ch_pid_now;
static pthread_once_t fork_handlers_once = PTHREAD_ONCE_INIT;

static void before_fork(void) { pthread_mutex_lock(&registry_lock); }
static void after_fork_in_parent(void) { pthread_mutex_unlock(&registry_lock); }
static void after_fork_in_child(void)
{
    atomic_store_explicit(&ch_pid_now, (int64_t)getpid(), memory_order_relaxed);
    pthread_mutex_unlock(&registry_lock);
}

static void install_fork_handlers(void)
{
    atomic_store_explicit(&ch_pid_now, (int64_t)getpid(), memory_order_relaxed);
    pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child);
}

int64_t ch_process_id_slow(void)
{
    pthread_once(&fork_handlers_once, install_fork_handlers);
    return atomic_load_explicit(&ch_pid_now, memory_order_relaxed);
}

void ch_named_init(ch_named *obj)
{
    obj->name = CH_NONE;
    obj->next = NULL;
    obj->pid = ch_process_id();
}

ch_open_result ch_named_open(ch_val name, ch_type type, ch_named *(*make)(void *), void *arg, ch_named **found)
{
    ch_named **bucket = &registry[ch_hash(name) % BUCKETS];
    pthread_mutex_lock(&registry_lock);
    for (ch_named *o = *bucket; o != NULL; o = o->next) {
        if (!ch_eq(o->name, name))
            continue;
        if (!ch_named_is_local(o)) { /* inherited through fork: it lives on in its own process */
            pthread_mutex_unlock(&registry_lock);
            *found = o;
            return CH_FOREIGN;
        }
        if (ch_incref_if_alive(&o->h)) {
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
