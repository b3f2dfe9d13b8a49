/*
 * The set of known class names (see classnames.h): an open-addressing hash
 * table of malloc'd strings under one mutex.  It is small (one entry per
 * class) and consulted only when freezing a class for the first time in an
 * interpreter and when loading outside data.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "classnames.h"
#include "hash.h"

typedef struct {
    uint64_t hash;
    size_t len;
    char *name; /* NULL: empty slot */
} entry;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static entry *table;
static size_t capacity, count; /* capacity is a power of two */

static entry *slot_for(entry *t, size_t cap, uint64_t hash, const char *name, size_t len)
{
    for (size_t i = hash & (cap - 1);; i = (i + 1) & (cap - 1))
        if (t[i].name == NULL || (t[i].hash == hash && t[i].len == len && memcmp(t[i].name, name, len) == 0))
            return &t[i];
}

static bool grow(void)
{
    size_t cap = capacity ? capacity * 2 : 64;
    entry *t = calloc(cap, sizeof(entry));
    if (t == NULL)
        return false;
    for (size_t i = 0; i < capacity; i++)
        if (table[i].name != NULL)
            *slot_for(t, cap, table[i].hash, table[i].name, table[i].len) = table[i];
    free(table);
    table = t;
    capacity = cap;
    return true;
}

bool ch_classnames_add(const char *name, size_t len)
{
    uint64_t hash = ch_hash_bytes(name, len, 0);
    bool ok = true;
    pthread_mutex_lock(&lock);
    if (2 * (count + 1) > capacity)
        ok = grow();
    entry *e = ok ? slot_for(table, capacity, hash, name, len) : NULL;
    if (e != NULL && e->name == NULL) {
        e->name = malloc(len + 1);
        if (e->name == NULL) {
            ok = false;
        } else {
            memcpy(e->name, name, len);
            e->name[len] = 0;
            e->hash = hash;
            e->len = len;
            count++;
        }
    }
    pthread_mutex_unlock(&lock);
    return ok;
}

bool ch_classnames_contains(const char *name, size_t len)
{
    uint64_t hash = ch_hash_bytes(name, len, 0);
    pthread_mutex_lock(&lock);
    bool found = capacity > 0 && slot_for(table, capacity, hash, name, len)->name != NULL;
    pthread_mutex_unlock(&lock);
    return found;
}
