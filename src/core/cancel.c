/*
 * Cancel scopes (see cancel.h).
 */
#include "cancel.h"

#include "object.h"

typedef struct scope {
    struct scope *next;
    uint64_t id, parent;
    bool cancelled;
    ch_cancel_sleeper *sleepers;
} scope;

static pthread_mutex_t scopes_lock = PTHREAD_MUTEX_INITIALIZER;
static scope *scopes;
static uint64_t last_id;
static _Thread_local uint64_t current;

static scope *find(uint64_t id)
{
    for (scope *s = scopes; s != NULL; s = s->next)
        if (s->id == id)
            return s;
    return NULL;
}

/* Under the lock: a freed scope, or one inside a cancelled one, is cancelled. */
static bool cancelled(uint64_t id)
{
    for (int depth = 0; id != 0 && depth < 1000; depth++) {
        scope *s = find(id);
        if (s == NULL || s->cancelled)
            return true;
        id = s->parent;
    }
    return false;
}

static bool inside(uint64_t id, uint64_t outer)
{
    for (int depth = 0; id != 0 && depth < 1000; depth++) {
        if (id == outer)
            return true;
        scope *s = find(id);
        if (s == NULL)
            return false;
        id = s->parent;
    }
    return false;
}

uint64_t ch_cancel_new(uint64_t parent)
{
    scope *s = ch_alloc(sizeof *s);
    if (s == NULL)
        return 0;
    pthread_mutex_lock(&scopes_lock);
    *s = (scope){.next = scopes, .id = ++last_id, .parent = parent};
    scopes = s;
    pthread_mutex_unlock(&scopes_lock);
    return s->id;
}

bool ch_cancel_cancel(uint64_t id)
{
    pthread_mutex_lock(&scopes_lock);
    scope *target = find(id);
    if (target != NULL) {
        target->cancelled = true;
        for (scope *s = scopes; s != NULL; s = s->next)
            if (inside(s->id, id))
                for (ch_cancel_sleeper *p = s->sleepers; p != NULL; p = p->next)
                    ch_waiter_interrupt(p->waiter);
    }
    pthread_mutex_unlock(&scopes_lock);
    return target != NULL;
}

void ch_cancel_free(uint64_t id)
{
    pthread_mutex_lock(&scopes_lock);
    for (scope **link = &scopes; *link != NULL; link = &(*link)->next) {
        scope *s = *link;
        if (s->id == id) {
            *link = s->next;
            /* Whoever still sleeps in it must notice that it is gone: woken,
             * it finds no scope of its id (ids are never reused) and unlinks
             * nothing.  Its record is not written here: once woken it may
             * leave without the lock, and the record lives on its stack. */
            for (ch_cancel_sleeper *p = s->sleepers; p != NULL; p = p->next)
                ch_waiter_interrupt(p->waiter);
            ch_free(s, sizeof *s);
            break;
        }
    }
    pthread_mutex_unlock(&scopes_lock);
}

uint64_t ch_cancel_enter(uint64_t id)
{
    uint64_t previous = current;
    current = id;
    return previous;
}

uint64_t ch_cancel_current(void) { return current; }

bool ch_cancel_sleep_begin(ch_cancel_sleeper *sleeper, ch_waiter *w)
{
    sleeper->scope = 0;
    if (current == 0)
        return true;
    pthread_mutex_lock(&scopes_lock);
    bool ok = !cancelled(current);
    if (ok) {
        scope *s = find(current);
        *sleeper = (ch_cancel_sleeper){.next = s->sleepers, .waiter = w, .scope = current};
        s->sleepers = sleeper;
    }
    pthread_mutex_unlock(&scopes_lock);
    return ok;
}

void ch_cancel_sleep_end(ch_cancel_sleeper *sleeper)
{
    if (sleeper->scope == 0)
        return;
    pthread_mutex_lock(&scopes_lock);
    scope *s = find(sleeper->scope);
    if (s != NULL)
        for (ch_cancel_sleeper **link = &s->sleepers; *link != NULL; link = &(*link)->next)
            if (*link == sleeper) {
                *link = sleeper->next;
                break;
            }
    pthread_mutex_unlock(&scopes_lock);
}
