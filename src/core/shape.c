/*
 * The process-wide table of shapes (shape.h).
 *
 * A record (map.h) stores only its values; the keys live once in its shape,
 * shared by every record with the same key set, in any interpreter.  The
 * table is a fixed array of hash chains under one mutex, keyed by an
 * order-free hash of the key set, so a dict with the same keys in another
 * order finds the same shape.  Records own the references.  A shape whose
 * count reaches zero becomes *dormant* (ch_shape_release): it stays listed,
 * in a ring of the last DORMANT such shapes, and its bytes leave the native
 * byte count, which so returns to its baseline; a lookup revives it, and
 * the ring frees the oldest when it is full.  A lookup that meets a shape
 * whose count reached zero but which is not dormant yet skips it and makes
 * a new one; the old one then waits in the ring.
 *
 * A shape's key order is the order a HAMT of the same keys iterates in, so
 * that a record and a HAMT Map with the same items iterate alike, as
 * docs/semantics.md promises for equal Maps.  It is computed from the
 * hashes when the shape is made (hamt_order).
 *
 * A shape is one allocation, its keys included, so making one when a key
 * set comes back after its last record died costs one malloc.  It is
 * allocated outside the test arena: records built later take references
 * on it, which must not write a sealed page.
 */
#include <pthread.h>
#include <string.h>

#include "shape.h"

_Static_assert(offsetof(ch_shape, keys) == 64, "a shape's read-only part starts on its own cache line");

#define BUCKETS 1024

/* Shapes no record uses stay listed for reuse, the last DORMANT of them:
 * a stream of messages that each die before the next is built would
 * otherwise make and free its shape every time. */
#define DORMANT 64

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static ch_shape *table[BUCKETS];
static ch_shape *dormant[DORMANT]; /* a ring; NULL where a shape was revived */
static uint32_t dormant_next;
static uint64_t serials; /* the last shape's serial number */
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

/* Whether `s` holds exactly the n distinct keys; if so, where each is. */
static bool holds_exactly(const ch_shape *s, const ch_val *keys, const uint64_t *hashes, uint32_t n,
                          uint8_t *positions)
{
    if (s->len != n || s->hash_mask != ch_hash_mask)
        return false;
    uint64_t seen = 0;
    for (uint32_t i = 0; i < n; i++) {
        int p = ch_shape_position(s, keys[i], hashes[i]);
        if (p < 0 || (seen >> p & 1))
            return false;
        seen |= (uint64_t)1 << p;
        positions[i] = (uint8_t)p;
    }
    return true;
}

/* The index of the lowest set bit of x (x != 0). */
static inline unsigned lowest_bit(uint32_t x) { return ch_popcount((x & (0u - x)) - 1); }

/* Appends idx[0..n) to out in the order a HAMT of their hashes iterates
 * (hamt.c): at each level the keys alone in their five hash bits first, in
 * bit order, then the groups that share them, each ordered the same way one
 * level down; keys whose whole hashes are equal keep their order.  Recursion
 * is bounded by the 14 levels of a HAMT. */
static void hamt_order(const uint64_t *hashes, const uint8_t *idx, uint32_t n, unsigned shift, uint8_t *out,
                       uint32_t *emitted)
{
    if (n == 1 || shift >= 64) {
        for (uint32_t i = 0; i < n; i++)
            out[(*emitted)++] = idx[i];
        return;
    }
    uint32_t once = 0, more = 0; /* five-bit values met once, and more than once */
    uint8_t last[32];
    for (uint32_t i = 0; i < n; i++) {
        unsigned bits = (hashes[idx[i]] >> shift) & 31;
        more |= once & (uint32_t)1 << bits;
        once |= (uint32_t)1 << bits;
        last[bits] = idx[i];
    }
    for (uint32_t alone = once & ~more; alone != 0; alone &= alone - 1)
        out[(*emitted)++] = last[lowest_bit(alone)];
    for (; more != 0; more &= more - 1) {
        unsigned bits = lowest_bit(more);
        uint8_t group[CH_RECORD_MAX];
        uint32_t m = 0;
        for (uint32_t i = 0; i < n; i++)
            if (((hashes[idx[i]] >> shift) & 31) == bits)
                group[m++] = idx[i];
        hamt_order(hashes, group, m, shift + 5, out, emitted);
    }
}

static size_t str_bytes(const ch_str *s) { return ch_inside_str_bytes((size_t)s->len * ch_str_width(s)); }

/* A new shape of the n keys, or NULL (*duplicate says whether two keys were
 * equal).  Runs under the table lock. */
static ch_shape *make_shape(const ch_val *keys, const uint64_t *hashes, uint32_t n, uint64_t set_hash,
                            uint8_t *positions, bool *duplicate)
{
    uint8_t idx[CH_RECORD_MAX], order[CH_RECORD_MAX];
    uint32_t emitted = 0;
    for (uint32_t i = 0; i < n; i++)
        idx[i] = (uint8_t)i;
    hamt_order(hashes, idx, n, 0, order, &emitted);
    /* Equal keys have equal hashes, which the order puts side by side. */
    *duplicate = false;
    for (uint32_t i = 1; i < n; i++)
        for (uint32_t j = i; j-- > 0 && hashes[order[j]] == hashes[order[i]];)
            if (ch_key_eq(keys[order[j]], keys[order[i]])) {
                *duplicate = true;
                return NULL;
            }
    uint32_t slots = 2;
    while (slots < 2 * n)
        slots *= 2;
    size_t size = sizeof(ch_shape) + (size_t)n * (sizeof(ch_val) + sizeof(uint64_t)) + slots;
    size = (size + 7) & ~(size_t)7;
    size_t strs_at = size;
    for (uint32_t i = 0; i < n; i++)
        size += str_bytes((const ch_str *)ch_ptr(keys[i]));
    ch_shape *s = ch_alloc_outside_arena(size);
    if (s == NULL)
        return NULL;
    memset(s, 0, size);
    atomic_init(&s->h.refcnt, 1);
    s->h.type = CH_SHAPE;
    s->len = n;
    s->slots = slots;
    s->set_hash = set_hash;
    s->hash_mask = ch_hash_mask;
    s->size = size;
    s->serial = ++serials;
    uint64_t *own_hashes = (uint64_t *)ch_shape_hashes(s);
    uint8_t *index = (uint8_t *)ch_shape_index(s);
    char *at = (char *)s + strs_at;
    for (uint32_t p = 0; p < n; p++) {
        const ch_str *key = (const ch_str *)ch_ptr(keys[order[p]]);
        ch_str *copy = (ch_str *)at; /* only the type, flags, length and data of `key` are read: it may be a probe */
        at += str_bytes(key);
        atomic_init(&copy->h.refcnt, 1); /* never changed: the shape owns it */
        copy->h.type = CH_STR;
        copy->h.flags = key->h.flags;
        copy->len = key->len;
        memcpy(copy->data, key->data, (size_t)key->len * ch_str_width(key));
        s->keys[p] = ch_from_ptr(copy);
        own_hashes[p] = hashes[order[p]];
        positions[order[p]] = (uint8_t)p;
        uint32_t i = (uint32_t)own_hashes[p] & (slots - 1);
        while (index[i] != 0)
            i = (i + 1) & (slots - 1);
        index[i] = (uint8_t)(p + 1);
    }
    return s;
}

/* A new reference to the listed shape `s`, unless its count reached zero
 * and it is not dormant yet (it is on its way to the ring).  Under the
 * table lock, the only place a dormant shape's count can rise from zero. */
static bool take(ch_shape *s)
{
    if (!s->dormant)
        return ch_incref_if_alive(&s->h);
    s->dormant = 0;
    dormant[s->ring] = NULL;
    atomic_store_explicit(&s->h.refcnt, 1, memory_order_relaxed);
    ch_count_bytes((int64_t)s->size);
    return true;
}

ch_shape *ch_shape_take(ch_shape *s, uint64_t set_hash, uint64_t serial)
{
    ch_shape *taken = NULL;
    pthread_mutex_lock(&table_lock);
    for (ch_shape *listed = table[set_hash % BUCKETS]; listed != NULL; listed = listed->next)
        if (listed == s) { /* listed, so not freed: its fields can be read */
            if (s->serial == serial && s->hash_mask == ch_hash_mask && take(s))
                taken = s;
            break;
        }
    pthread_mutex_unlock(&table_lock);
    return taken;
}

int ch_shape_of(const ch_val *keys, const uint64_t *hashes, uint32_t n, ch_shape **out, uint8_t *positions)
{
    pthread_once(&fork_handlers_once, install_fork_handlers);
    uint64_t set_hash = set_hash_of(hashes, n);
    ch_shape **bucket = &table[set_hash % BUCKETS];
    pthread_mutex_lock(&table_lock);
    for (ch_shape *s = *bucket; s != NULL; s = s->next) {
        if (s->set_hash == set_hash && holds_exactly(s, keys, hashes, n, positions) && take(s)) {
            pthread_mutex_unlock(&table_lock);
            *out = s;
            return 0;
        }
    }
    bool duplicate;
    ch_shape *s = make_shape(keys, hashes, n, set_hash, positions, &duplicate);
    if (s != NULL) {
        s->next = *bucket; /* a dying shape with the same keys may still be listed */
        *bucket = s;
    }
    pthread_mutex_unlock(&table_lock);
    *out = s;
    return s != NULL ? 0 : duplicate ? 1 : -1;
}

/* Unlists `s`; under the table lock. */
static void unlist(ch_shape *s)
{
    for (ch_shape **p = &table[s->set_hash % BUCKETS]; *p != NULL; p = &(*p)->next) {
        if (*p == s) {
            *p = s->next;
            return;
        }
    }
}

void ch_shape_release(ch_shape *s)
{
    pthread_mutex_lock(&table_lock);
    s->dormant = 1;
    ch_count_bytes(-(int64_t)s->size);
    ch_shape *evicted = dormant[dormant_next]; /* the oldest still dormant, or NULL */
    if (evicted != NULL)
        unlist(evicted);
    dormant[dormant_next] = s;
    s->ring = dormant_next;
    dormant_next = (dormant_next + 1) % DORMANT;
    pthread_mutex_unlock(&table_lock);
    if (evicted != NULL) {
        ch_count_bytes((int64_t)evicted->size);
        ch_free(evicted, evicted->size);
    }
}
