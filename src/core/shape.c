/*
 * The process-wide table of shapes (shape.h).
 *
 * A record (map.h) stores only its values; the keys live once in its shape,
 * shared by every record with the same key set, in any interpreter.  The
 * table is a fixed array of hash chains under one mutex, keyed by an
 * order-free hash of the key set, so a dict with the same keys in another
 * order finds the same shape.  It holds shapes weakly: records own the
 * references, and a shape whose count reaches zero is unlisted by
 * ch_release (ch_shape_forget) before its keys go, so the native byte count
 * returns to its baseline.  A lookup that meets a listed shape whose count
 * is already zero skips it (ch_incref_if_alive) and makes a new one; the
 * dying one unlists itself by address.
 *
 * A shape's key order is the order a HAMT of the same keys iterates in, so
 * that a record and a HAMT Map with the same items iterate alike, as
 * docs/semantics.md promises for equal Maps.  It is found once, when the
 * shape is made, by building that HAMT.
 *
 * A shape and its own copies of the keys are allocated outside the test
 * arena: records built or edited later take references on them, which must
 * not write a sealed page.
 */
#include <pthread.h>
#include <string.h>

#include "hamt.h"
#include "shape.h"

_Static_assert(offsetof(ch_shape, keys) == 64, "a shape's read-only part starts on its own cache line");

#define BUCKETS 1024

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static ch_shape *table[BUCKETS];
static pthread_once_t fork_handlers_once = PTHREAD_ONCE_INIT;

/* A child must not inherit the lock held by a thread that is not there. */
static void lock_table(void) { pthread_mutex_lock(&table_lock); }
static void unlock_table(void) { pthread_mutex_unlock(&table_lock); }
static void install_fork_handlers(void) { pthread_atfork(lock_table, unlock_table, unlock_table); }

static uint64_t set_hash_of(const uint64_t *hashes, uint32_t n)
{
    uint64_t sum = 0;
    for (uint32_t i = 0; i < n; i++)
        sum += ch_mix64(hashes[i]);
    return ch_mix64(sum ^ n);
}

/* Whether `s` holds exactly the n distinct keys. */
static bool holds_exactly(const ch_shape *s, const ch_val *keys, const uint64_t *hashes, uint32_t n)
{
    if (s->len != n || s->hash_mask != ch_hash_mask)
        return false;
    uint64_t seen = 0;
    for (uint32_t i = 0; i < n; i++) {
        int p = ch_shape_position(s, keys[i], hashes[i]);
        if (p < 0 || (seen >> p & 1))
            return false;
        seen |= (uint64_t)1 << p;
    }
    return true;
}

/* A copy of the str `key` outside the test arena, or CH_NOVALUE.  Only the
 * type, flags, length and data of `key` are read: it may be a probe. */
static ch_val own_copy(ch_val key)
{
    const ch_str *s = (const ch_str *)ch_ptr(key);
    size_t nbytes = (size_t)s->len * ch_str_width(s);
    ch_str *copy = ch_alloc_outside_arena(sizeof(ch_str) + nbytes);
    if (copy == NULL)
        return CH_NOVALUE;
    atomic_init(&copy->h.refcnt, 1);
    copy->h.type = CH_STR;
    copy->h.flags = s->h.flags;
    copy->h.aux = 0;
    copy->len = s->len;
    memcpy(copy->data, s->data, nbytes);
    return ch_from_ptr(copy);
}

/* A new shape of the n keys, or NULL (*duplicate says whether two keys were
 * equal).  Runs under the table lock; shapes are made rarely. */
static ch_shape *make_shape(const ch_val *keys, uint32_t n, uint64_t set_hash, bool *duplicate)
{
    ch_entry entries[CH_RECORD_MAX];
    uint32_t copied = 0;
    for (; copied < n; copied++) {
        ch_val own = own_copy(keys[copied]);
        if (own == CH_NOVALUE)
            break;
        entries[copied] = (ch_entry){ch_hash(own), own, CH_NONE};
    }
    ch_node *root = NULL;
    uint64_t count = 0;
    *duplicate = false;
    if (copied < n) {
        while (copied > 0)
            ch_decref(entries[--copied].key);
        return NULL;
    }
    if (ch_hamt_build(entries, n, &root, &count) < 0)
        return NULL;
    uint32_t slots = 2;
    while (slots < 2 * n)
        slots *= 2;
    size_t size = sizeof(ch_shape) + (size_t)n * (sizeof(ch_val) + sizeof(uint64_t)) + slots;
    ch_shape *s = count == n ? ch_alloc_outside_arena(size) : NULL;
    if (s == NULL) {
        *duplicate = count != n;
        ch_decref(ch_from_ptr(root));
        return NULL;
    }
    memset(s, 0, size);
    atomic_init(&s->h.refcnt, 1);
    s->h.type = CH_SHAPE;
    s->len = n;
    s->slots = slots;
    s->set_hash = set_hash;
    s->hash_mask = ch_hash_mask;
    uint64_t *hashes = (uint64_t *)ch_shape_hashes(s);
    uint8_t *index = (uint8_t *)ch_shape_index(s);
    ch_hamt_iter it;
    ch_val key, unused;
    uint32_t p = 0;
    ch_hamt_iter_init(&it, root);
    while (ch_hamt_iter_next(&it, &key, &unused)) {
        ch_incref(key); /* the tree's reference goes with the tree */
        s->keys[p] = key;
        hashes[p] = ch_hash(key);
        uint32_t i = (uint32_t)hashes[p] & (slots - 1);
        while (index[i] != 0)
            i = (i + 1) & (slots - 1);
        index[i] = (uint8_t)(p + 1);
        p++;
    }
    ch_decref(ch_from_ptr(root));
    return s;
}

int ch_shape_of(const ch_val *keys, const uint64_t *hashes, uint32_t n, bool make, ch_shape **out)
{
    pthread_once(&fork_handlers_once, install_fork_handlers);
    uint64_t set_hash = set_hash_of(hashes, n);
    ch_shape **bucket = &table[set_hash % BUCKETS];
    *out = NULL;
    pthread_mutex_lock(&table_lock);
    for (ch_shape *s = *bucket; s != NULL; s = s->next) {
        if (s->set_hash == set_hash && holds_exactly(s, keys, hashes, n) && ch_incref_if_alive(&s->h)) {
            pthread_mutex_unlock(&table_lock);
            *out = s;
            return 0;
        }
    }
    if (!make) {
        pthread_mutex_unlock(&table_lock);
        return 1;
    }
    bool duplicate;
    ch_shape *s = make_shape(keys, n, set_hash, &duplicate);
    if (s != NULL) {
        s->next = *bucket; /* a dying shape with the same keys may still be listed */
        *bucket = s;
    }
    pthread_mutex_unlock(&table_lock);
    *out = s;
    return s != NULL ? 0 : duplicate ? 1 : -1;
}

void ch_shape_forget(ch_shape *s)
{
    pthread_mutex_lock(&table_lock);
    for (ch_shape **p = &table[s->set_hash % BUCKETS]; *p != NULL; p = &(*p)->next) {
        if (*p == s) {
            *p = s->next;
            break;
        }
    }
    pthread_mutex_unlock(&table_lock);
}
