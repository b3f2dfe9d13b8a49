/*
 * The hash array mapped trie (HAMT) behind cohive.Map.
 *
 * What it is
 * ----------
 * A map from keys to values stored as a tree of small nodes, indexed by the
 * key's 64-bit hash (hash.c).  The hash is read five bits at a time: the
 * root uses bits 0-4, its children bits 5-9, and so on.  Each node has 32
 * possible slots, one per value of those five bits, and stores only the
 * slots in use, packed, with two 32-bit bitmaps saying which are which:
 *
 *   datamap  slot holds one key/value pair inline
 *   nodemap  slot holds a child node (several keys share these five bits)
 *
 *   +--------+---------+---------+-----+-----+-----+-----+-------+-------+
 *   | header | datamap | nodemap | k_0 | v_0 | k_1 | v_1 | child | child |
 *   +--------+---------+---------+-----+-----+-----+-----+-------+-------+
 *
 * The position of slot `bit` among the pairs is popcount(datamap & (bit-1)),
 * and likewise among the children.  Keeping pairs and children in separate
 * regions (the "CHAMP" layout) means a child costs one word instead of two,
 * and iteration visits all pairs of a node before descending.  With random
 * hashes a million keys need about four levels.
 *
 * After 13 levels (65 bits) the hash is used up: keys whose full 64-bit
 * hashes are equal live together in a collision node, a plain array of
 * pairs searched linearly.  Only a deliberately weakened hash (the test
 * hook ch_hash_mask) makes these common.
 *
 * Canonical shape
 * ---------------
 * A node other than the root never holds a single pair and nothing else:
 * when a deletion leaves a child like that, its pair moves up into the
 * parent (repeatedly, so chains collapse).  Two maps with the same keys
 * therefore have similar, compact shapes whatever the order of edits.
 *
 * Persistence and in-place editing
 * --------------------------------
 * Nodes are immutable once shared.  An edit walks from the root to the
 * affected slot and copies each node on the way ("path copying"); everything
 * else is shared between the old and new version, so set and delete cost
 * O(log n) time and memory, and copying a map costs nothing.
 *
 * A node whose reference count is one, reached through a path of such
 * nodes, is seen by nobody but the editor, so it is edited in place instead.
 * That single rule makes bulk building (Map(dict), MapMutation) fast without
 * any notion of "transient" ownership: a tree freshly built by one editor is
 * all count-one nodes; once it is published as a Map (count two), the next
 * edit copies again.  Copying a node increments the counts of everything it
 * points to, so below a copied node nothing looks unique any more.
 *
 * Bulk building
 * -------------
 * Map(dict) knows all its entries up front, so ch_hamt_build builds the
 * tree top down instead: the entries are partitioned in place by their
 * first five hash bits into 32 buckets, a bucket of one entry
 * becomes an inline pair, a bigger bucket a child built the same way from
 * the next five bits.  Every node is allocated once, at its final size.
 *
 * Lookup and the memory it touches
 * ---------------------------------
 * In a big map every level below the first two or three is a cache miss,
 * and a node bigger than a cache line costs two in a row: its header, for
 * the bitmaps, then the line holding the wanted slot, whose position the
 * bitmaps give.  A lookup therefore prefetches a child's first few lines
 * together as soon as it has the pointer (about 10% faster reads of a
 * million keys); prefetching never writes, so reads stay zero-write.
 *
 * Nothing here recurses deeper than the 14 levels of the tree.
 */
#include <string.h>

#include "hamt.h"
#include "value.h"

#define BITS_PER_LEVEL 5
#define HASH_BITS 64

static inline uint32_t bit_for(uint64_t hash, unsigned shift)
{
    return (uint32_t)1 << ((hash >> shift) & 31);
}

/* A lookup fetches this many 64-byte lines after a node's first: 320
 * bytes in all, a node of 32 children (272) or of up to 19 pairs. */
#define PREFETCH_LINES 4
#if defined(__GNUC__) || defined(__clang__)
#define prefetch(p) __builtin_prefetch(p)
#else
#define prefetch(p) ((void)(p))
#endif

static inline unsigned index_below(uint32_t map, uint32_t bit) { return ch_popcount(map & (bit - 1)); }

static inline size_t node_bytes(unsigned npairs, unsigned nchildren)
{
    return sizeof(ch_node) + (2 * (size_t)npairs + nchildren) * sizeof(ch_val);
}

size_t ch_node_size(const ch_node *n) { return node_bytes(ch_popcount(n->datamap), ch_popcount(n->nodemap)); }

size_t ch_collision_size(const ch_collision *c)
{
    return sizeof(ch_collision) + 2 * (size_t)c->count * sizeof(ch_val);
}

static ch_node *node_alloc(uint32_t datamap, uint32_t nodemap)
{
    ch_node *n = ch_new_object(node_bytes(ch_popcount(datamap), ch_popcount(nodemap)), CH_NODE);
    if (n != NULL) {
        n->datamap = datamap;
        n->nodemap = nodemap;
    }
    return n;
}

static ch_collision *collision_alloc(uint64_t hash, uint32_t count)
{
    ch_collision *c = ch_new_object(sizeof(ch_collision) + 2 * (size_t)count * sizeof(ch_val), CH_COLLISION);
    if (c != NULL) {
        c->count = count;
        c->_pad = 0;
        c->hash = hash;
    }
    return c;
}

/* Frees a node's memory without touching what it points to (the references
 * were moved elsewhere). */
static void forget(ch_head *o) { ch_free(o, ch_object_size(o)); }

/* --- lookup -------------------------------------------------------------------- */

/* With `check` (a snapshot's trie not yet checked whole, snapshot.c), each
 * node is checked before its bitmaps are trusted and each word before it is
 * followed; a failed check ends the lookup with CH_NOVALUE. */
#define CHECKED(call) (check == NULL || (call))

#if defined(__GNUC__) || defined(__clang__)
#define ALWAYS_INLINE __attribute__((always_inline)) inline
#else
#define ALWAYS_INLINE inline
#endif

/* Written once, compiled twice: without checks (check NULL, folded away)
 * for every heap or checked trie, and with them. */
static ALWAYS_INLINE ch_val find(const ch_node *root, ch_val key, uint64_t hash, ch_lazy_check *check)
{
    const ch_head *h = (const ch_head *)root;
    unsigned shift = 0;
    while (h != NULL) {
        if (!CHECKED(ch_lazy_node(check, h, shift / BITS_PER_LEVEL)))
            return CH_NOVALUE;
        if (h->type == CH_COLLISION) {
            const ch_collision *c = (const ch_collision *)h;
            for (uint32_t i = 0; c->hash == hash && i < c->count; i++) {
                if (!CHECKED(ch_lazy_word(check, &c->slot[2 * i], false)))
                    return CH_NOVALUE;
                if (ch_key_eq(ch_word(&c->slot[2 * i]), key))
                    return CHECKED(ch_lazy_word(check, &c->slot[2 * i + 1], false)) ? ch_word(&c->slot[2 * i + 1])
                                                                                    : CH_NOVALUE;
            }
            return CH_NOVALUE;
        }
        const ch_node *n = (const ch_node *)h;
        uint32_t bit = bit_for(hash, shift);
        if (n->datamap & bit) {
            unsigned i = index_below(n->datamap, bit);
            if (!CHECKED(ch_lazy_word(check, &n->slot[2 * i], false)) || !ch_key_eq(ch_word(&n->slot[2 * i]), key))
                return CH_NOVALUE;
            return CHECKED(ch_lazy_word(check, &n->slot[2 * i + 1], false)) ? ch_word(&n->slot[2 * i + 1]) : CH_NOVALUE;
        }
        if (!(n->nodemap & bit))
            return CH_NOVALUE;
        const ch_val *child = &n->slot[2 * ch_popcount(n->datamap) + index_below(n->nodemap, bit)];
        if (!CHECKED(ch_lazy_word(check, child, true)))
            return CH_NOVALUE;
        h = ch_ptr(ch_word(child));
        shift += BITS_PER_LEVEL;
        /* Which of the child's slots is wanted is known only once its
         * header's bitmaps arrive; fetching its next lines meanwhile turns
         * two cache misses in a row into two at once (see the top). */
        for (unsigned line = 1; line <= PREFETCH_LINES; line++)
            prefetch((const char *)h + 64 * line);
    }
    return CH_NOVALUE;
}

ch_val ch_hamt_get(const ch_node *root, ch_val key, uint64_t hash) { return find(root, key, hash, NULL); }

ch_val ch_hamt_find(const ch_node *root, ch_val key, uint64_t hash, ch_lazy_check *check)
{
    return find(root, key, hash, check);
}

/* --- making a node private to the editor ---------------------------------------- */

/* Replaces the owned reference *slot with a private copy unless it is private
 * already (a copy of a mapped node holds its words as pointers: ch_word).
 * Returns the node, or NULL when out of memory. */
static ch_head *make_private(ch_val *slot)
{
    ch_head *o = ch_ptr(*slot);
    if (ch_is_unique(o))
        return o;
    size_t size = ch_object_size(o);
    ch_head *copy = ch_alloc(size);
    if (copy == NULL)
        return NULL;
    memcpy(copy, o, size);
    atomic_init(&copy->refcnt, 1);
    size_t nwords = (size - (o->type == CH_NODE ? sizeof(ch_node) : sizeof(ch_collision))) / sizeof(ch_val);
    ch_val *words = (ch_val *)((char *)copy + size) - nwords;
    const ch_val *from = (const ch_val *)((const char *)o + size) - nwords;
    for (size_t i = 0; i < nwords; i++) {
        words[i] = ch_word(&from[i]);
        ch_incref(words[i]);
    }
    *slot = ch_from_ptr(copy);
    ch_decref(ch_from_ptr(o));
    return copy;
}

/* --- insertion ------------------------------------------------------------------- */

/* A subtree holding two pairs whose hashes agree below `shift`. */
static ch_head *subtree_of_two(unsigned shift, uint64_t h1, ch_val k1, ch_val v1, uint64_t h2, ch_val k2,
                               ch_val v2)
{
    if (shift >= HASH_BITS) {
        ch_collision *c = collision_alloc(h1, 2);
        if (c == NULL)
            return NULL;
        c->slot[0] = k1, c->slot[1] = v1, c->slot[2] = k2, c->slot[3] = v2;
        return &c->h;
    }
    uint32_t b1 = bit_for(h1, shift), b2 = bit_for(h2, shift);
    if (b1 == b2) {
        ch_head *child = subtree_of_two(shift + BITS_PER_LEVEL, h1, k1, v1, h2, k2, v2);
        if (child == NULL)
            return NULL;
        ch_node *n = node_alloc(0, b1);
        if (n == NULL) {
            forget(child); /* its pairs still belong to the caller */
            return NULL;
        }
        n->slot[0] = ch_from_ptr(child);
        return &n->h;
    }
    ch_node *n = node_alloc(b1 | b2, 0);
    if (n == NULL)
        return NULL;
    int first = b1 < b2 ? 0 : 2;
    n->slot[first] = k1, n->slot[first + 1] = v1;
    n->slot[2 - first] = k2, n->slot[3 - first] = v2;
    return &n->h;
}

static int collision_set(ch_val *slot, ch_val key, ch_val val, int *added)
{
    ch_collision *c = (ch_collision *)make_private(slot);
    if (c == NULL)
        return -1;
    for (uint32_t i = 0; i < c->count; i++) {
        if (ch_key_eq(c->slot[2 * i], key)) {
            ch_val old = c->slot[2 * i + 1];
            c->slot[2 * i + 1] = val;
            ch_decref(old);
            ch_decref(key);
            *added = 0;
            return 0;
        }
    }
    size_t old_size = ch_collision_size(c);
    ch_collision *bigger = ch_realloc(c, old_size, old_size + 2 * sizeof(ch_val));
    if (bigger == NULL)
        return -1;
    bigger->slot[2 * bigger->count] = key;
    bigger->slot[2 * bigger->count + 1] = val;
    bigger->count++;
    *slot = ch_from_ptr(bigger);
    *added = 1;
    return 0;
}

static int node_set(ch_val *slot, unsigned shift, uint64_t hash, ch_val key, ch_val val, int *added)
{
    if (ch_ptr(*slot)->type == CH_COLLISION)
        return collision_set(slot, key, val, added);
    ch_node *n = (ch_node *)make_private(slot);
    if (n == NULL)
        return -1;
    uint32_t bit = bit_for(hash, shift);
    unsigned npairs = ch_popcount(n->datamap), nchildren = ch_popcount(n->nodemap);

    if (n->nodemap & bit)
        return node_set(&n->slot[2 * npairs + index_below(n->nodemap, bit)], shift + BITS_PER_LEVEL, hash, key,
                        val, added);

    if (n->datamap & bit) {
        unsigned i = index_below(n->datamap, bit);
        ch_val old_key = n->slot[2 * i], old_val = n->slot[2 * i + 1];
        if (ch_key_eq(old_key, key)) {
            n->slot[2 * i + 1] = val;
            ch_decref(old_val);
            ch_decref(key);
            *added = 0;
            return 0;
        }
        /* Two keys share this slot: push both one level down. */
        ch_head *child =
            subtree_of_two(shift + BITS_PER_LEVEL, ch_hash(old_key), old_key, old_val, hash, key, val);
        if (child == NULL)
            return -1;
        ch_node *m = node_alloc(n->datamap & ~bit, n->nodemap | bit);
        if (m == NULL) {
            forget(child);
            return -1;
        }
        unsigned j = index_below(m->nodemap, bit);
        memcpy(m->slot, n->slot, 2 * i * sizeof(ch_val));
        memcpy(m->slot + 2 * i, n->slot + 2 * i + 2, (2 * (npairs - i - 1) + j) * sizeof(ch_val));
        m->slot[2 * (npairs - 1) + j] = ch_from_ptr(child);
        memcpy(m->slot + 2 * (npairs - 1) + j + 1, n->slot + 2 * npairs + j, (nchildren - j) * sizeof(ch_val));
        forget(&n->h);
        *slot = ch_from_ptr(m);
        *added = 1;
        return 0;
    }

    /* A free slot: store the pair inline. */
    ch_node *m = node_alloc(n->datamap | bit, n->nodemap);
    if (m == NULL)
        return -1;
    unsigned i = index_below(n->datamap, bit);
    memcpy(m->slot, n->slot, 2 * i * sizeof(ch_val));
    m->slot[2 * i] = key;
    m->slot[2 * i + 1] = val;
    memcpy(m->slot + 2 * i + 2, n->slot + 2 * i, (2 * (npairs - i) + nchildren) * sizeof(ch_val));
    forget(&n->h);
    *slot = ch_from_ptr(m);
    *added = 1;
    return 0;
}

int ch_hamt_set(ch_node **root, ch_val key, uint64_t hash, ch_val val, int *added)
{
    if (*root == NULL) {
        ch_node *n = node_alloc(bit_for(hash, 0), 0);
        if (n == NULL)
            return -1;
        n->slot[0] = key;
        n->slot[1] = val;
        *root = n;
        *added = 1;
        return 0;
    }
    ch_val slot = ch_from_ptr(*root);
    int rc = node_set(&slot, 0, hash, key, val, added);
    *root = (ch_node *)ch_ptr(slot);
    return rc;
}

/* --- bulk building ---------------------------------------------------------------- */

void ch_entries_release(const ch_entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ch_decref(e[i].key);
        ch_decref(e[i].val);
    }
}

/* Entries with equal full hashes: merge equal keys, then one pair or a
 * collision node. */
static int build_collision(ch_entry *e, size_t n, ch_head **out, ch_entry *lone, uint64_t *count)
{
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (j < kept && !ch_key_eq(e[j].key, e[i].key))
            j++;
        if (j < kept) { /* a repeated key (NaNs with equal bits): keep one pair */
            ch_decref(e[i].key);
            ch_decref(e[j].val);
            e[j].val = e[i].val;
        } else {
            e[kept++] = e[i];
        }
    }
    *count += kept;
    if (kept == 1) {
        *lone = e[0];
        return 1;
    }
    ch_collision *c = collision_alloc(e[0].hash, (uint32_t)kept);
    if (c == NULL) {
        ch_entries_release(e, kept);
        *count -= kept;
        return -1;
    }
    for (size_t i = 0; i < kept; i++) {
        c->slot[2 * i] = e[i].key;
        c->slot[2 * i + 1] = e[i].val;
    }
    *out = &c->h;
    return 0;
}

static inline unsigned slot_at(const ch_entry *x, unsigned shift) { return (unsigned)((x->hash >> shift) & 31); }

/* Most nodes below the root get a handful of entries: an insertion sort by
 * slot beats clearing and scanning 32 buckets for them. */
#define SMALL_PARTITION 16

static void sort_small(ch_entry *e, size_t n, unsigned shift)
{
    for (size_t i = 1; i < n; i++) {
        ch_entry x = e[i];
        unsigned t = slot_at(&x, shift);
        size_t j = i;
        for (; j > 0 && slot_at(&e[j - 1], shift) > t; j--)
            e[j] = e[j - 1];
        e[j] = x;
    }
}

/* Reorders e[0..n) in place so that entries sharing the five hash bits at
 * `shift` are contiguous, in bucket order (an American flag sort: each
 * entry is swapped straight into its bucket). */
static void partition(ch_entry *e, size_t n, unsigned shift)
{
    size_t start[33];
    memset(start, 0, 33 * sizeof(size_t));
    for (size_t i = 0; i < n; i++)
        start[slot_at(&e[i], shift) + 1]++;
    for (int b = 0; b < 32; b++)
        start[b + 1] += start[b];
    size_t next[32];
    memcpy(next, start, sizeof next);
    for (int b = 0; b < 32; b++) {
        while (next[b] < start[b + 1]) {
            ch_entry x = e[next[b]];
            unsigned t = slot_at(&x, shift);
            while (t != (unsigned)b) { /* carry x to its bucket, picking up what was there */
                ch_entry y = e[next[t]];
                e[next[t]++] = x;
                x = y;
                t = slot_at(&x, shift);
            }
            e[next[b]++] = x;
        }
    }
}

/* Builds the subtree of e[0..n), n >= 1, whose hashes agree below `shift`.
 * Returns 0 with a node in *out, 1 when everything merged into the single
 * pair *lone (which the parent then holds inline), or -1 when out of memory
 * (every entry of the range released). */
static int build_level(ch_entry *e, size_t n, unsigned shift, ch_head **out, ch_entry *lone, uint64_t *count)
{
    if (n == 1) {
        *lone = e[0];
        *count += 1;
        return 1;
    }
    if (shift >= HASH_BITS)
        return build_collision(e, n, out, lone, count);

    if (n <= SMALL_PARTITION)
        sort_small(e, n, shift);
    else
        partition(e, n, shift);
    /* Build each bucket: the runs of entries with the same slot. */
    ch_entry pairs[32];
    ch_val children[32];
    uint32_t datamap = 0, nodemap = 0;
    unsigned npairs = 0, nchildren = 0;
    for (size_t first = 0, end; first < n; first = end) {
        unsigned b = slot_at(&e[first], shift);
        for (end = first + 1; end < n && slot_at(&e[end], shift) == b; end++)
            ;
        ch_head *child = NULL;
        ch_entry pair;
        int rc = build_level(e + first, end - first, shift + BITS_PER_LEVEL, &child, &pair, count);
        if (rc < 0) {
            ch_entries_release(pairs, npairs);
            for (unsigned i = 0; i < nchildren; i++)
                ch_decref(children[i]);
            ch_entries_release(e + end, n - end);
            return -1;
        }
        if (rc == 1) {
            datamap |= (uint32_t)1 << b;
            pairs[npairs++] = pair;
        } else {
            nodemap |= (uint32_t)1 << b;
            children[nchildren++] = ch_from_ptr(child);
        }
    }
    if (npairs == 1 && nchildren == 0) { /* everything merged into one key */
        *lone = pairs[0];
        return 1;
    }
    ch_node *node = node_alloc(datamap, nodemap);
    if (node == NULL) {
        ch_entries_release(pairs, npairs);
        for (unsigned i = 0; i < nchildren; i++)
            ch_decref(children[i]);
        return -1;
    }
    for (unsigned i = 0; i < npairs; i++) {
        node->slot[2 * i] = pairs[i].key;
        node->slot[2 * i + 1] = pairs[i].val;
    }
    memcpy(node->slot + 2 * npairs, children, nchildren * sizeof(ch_val));
    *out = &node->h;
    return 0;
}

int ch_hamt_build(ch_entry *entries, size_t n, ch_node **root, uint64_t *count)
{
    *root = NULL;
    *count = 0;
    if (n == 0)
        return 0;
    ch_head *node = NULL;
    ch_entry lone;
    int rc = build_level(entries, n, 0, &node, &lone, count);
    if (rc < 0) {
        *count = 0;
        return -1;
    }
    if (rc == 1) { /* a root always is a node, even for one pair */
        ch_node *single = node_alloc(bit_for(lone.hash, 0), 0);
        if (single == NULL) {
            ch_entries_release(&lone, 1);
            *count = 0;
            return -1;
        }
        single->slot[0] = lone.key;
        single->slot[1] = lone.val;
        node = &single->h;
    }
    *root = (ch_node *)node;
    return 0;
}

/* --- deletion -------------------------------------------------------------------- */

/* If the private node in *slot is down to a single pair, hand the pair out
 * and free the node, so the parent can hold the pair inline. */
static bool take_lone_pair(ch_val slot, ch_val *key, ch_val *val)
{
    ch_head *o = ch_ptr(slot);
    if (o->type == CH_COLLISION) {
        ch_collision *c = (ch_collision *)o;
        if (c->count != 1)
            return false;
        *key = c->slot[0], *val = c->slot[1];
    } else {
        ch_node *n = (ch_node *)o;
        if (n->nodemap != 0 || ch_popcount(n->datamap) != 1)
            return false;
        *key = n->slot[0], *val = n->slot[1];
    }
    forget(o);
    return true;
}

static int collision_delete(ch_val *slot, ch_val key)
{
    ch_collision *c = (ch_collision *)ch_ptr(*slot);
    uint32_t i = 0;
    while (i < c->count && !ch_eq(ch_word(&c->slot[2 * i]), key))
        i++;
    if (i == c->count)
        return 0;
    ch_collision *m = collision_alloc(c->hash, c->count - 1);
    if (m == NULL)
        return -1;
    bool shared = !ch_is_unique(&c->h);
    for (uint32_t from = 0, to = 0; from < c->count; from++) {
        if (from == i)
            continue;
        m->slot[2 * to] = ch_word(&c->slot[2 * from]);
        m->slot[2 * to + 1] = ch_word(&c->slot[2 * from + 1]);
        if (shared) {
            ch_incref(m->slot[2 * to]);
            ch_incref(m->slot[2 * to + 1]);
        }
        to++;
    }
    if (shared) {
        ch_decref(ch_from_ptr(c));
    } else {
        ch_decref(c->slot[2 * i]);
        ch_decref(c->slot[2 * i + 1]);
        forget(&c->h);
    }
    *slot = ch_from_ptr(m);
    return 0;
}

/* Deletes a key known to be present below *slot. */
static int node_delete(ch_val *slot, unsigned shift, uint64_t hash, ch_val key)
{
    if (ch_ptr(*slot)->type == CH_COLLISION)
        return collision_delete(slot, key);
    ch_node *n = (ch_node *)make_private(slot);
    if (n == NULL)
        return -1;
    uint32_t bit = bit_for(hash, shift);
    unsigned npairs = ch_popcount(n->datamap), nchildren = ch_popcount(n->nodemap);

    if (n->datamap & bit) {
        unsigned i = index_below(n->datamap, bit);
        ch_val old_key = n->slot[2 * i], old_val = n->slot[2 * i + 1];
        if (npairs == 1 && nchildren == 0) { /* only the root can get here */
            forget(&n->h);
            *slot = CH_NOVALUE;
        } else {
            ch_node *m = node_alloc(n->datamap & ~bit, n->nodemap);
            if (m == NULL)
                return -1;
            memcpy(m->slot, n->slot, 2 * i * sizeof(ch_val));
            memcpy(m->slot + 2 * i, n->slot + 2 * i + 2, (2 * (npairs - i - 1) + nchildren) * sizeof(ch_val));
            forget(&n->h);
            *slot = ch_from_ptr(m);
        }
        ch_decref(old_key);
        ch_decref(old_val);
        return 0;
    }

    unsigned j = index_below(n->nodemap, bit);
    ch_val *child = &n->slot[2 * npairs + j];
    if (node_delete(child, shift + BITS_PER_LEVEL, hash, key) < 0)
        return -1;
    ch_val lone_key, lone_val;
    if (!take_lone_pair(*child, &lone_key, &lone_val))
        return 0;
    /* The child shrank to one pair: hold that pair inline here instead. */
    ch_node *m = node_alloc(n->datamap | bit, n->nodemap & ~bit);
    if (m == NULL) {
        /* Keep the tree valid: put the pair back in a fresh one-pair child. */
        ch_node *again = node_alloc(bit_for(ch_hash(lone_key), shift + BITS_PER_LEVEL), 0);
        if (again == NULL)
            return -1; /* unreachable in practice: a same-size block was just freed */
        again->slot[0] = lone_key, again->slot[1] = lone_val;
        *child = ch_from_ptr(again);
        return 0;
    }
    unsigned i = index_below(m->datamap, bit);
    memcpy(m->slot, n->slot, 2 * i * sizeof(ch_val));
    m->slot[2 * i] = lone_key;
    m->slot[2 * i + 1] = lone_val;
    memcpy(m->slot + 2 * i + 2, n->slot + 2 * i, (2 * (npairs - i) + j) * sizeof(ch_val));
    memcpy(m->slot + 2 * (npairs + 1) + j, n->slot + 2 * npairs + j + 1, (nchildren - j - 1) * sizeof(ch_val));
    forget(&n->h);
    *slot = ch_from_ptr(m);
    return 0;
}

int ch_hamt_delete(ch_node **root, ch_val key, uint64_t hash, int *removed)
{
    /* Look first, so that deleting a missing key copies nothing. */
    *removed = ch_hamt_get(*root, key, hash) != CH_NOVALUE;
    if (!*removed)
        return 0;
    ch_val slot = ch_from_ptr(*root);
    int rc = node_delete(&slot, 0, hash, key);
    *root = (ch_node *)ch_ptr(slot);
    if (rc < 0)
        *removed = 0;
    return rc;
}

/* --- iteration ------------------------------------------------------------------- */

void ch_hamt_iter_init(ch_hamt_iter *it, const ch_node *root)
{
    it->depth = root != NULL ? 0 : -1;
    it->node[0] = (const ch_head *)root;
    it->pos[0] = 0;
}

bool ch_hamt_iter_next(ch_hamt_iter *it, ch_val *key, ch_val *val)
{
    while (it->depth >= 0) {
        const ch_head *h = it->node[it->depth];
        uint32_t p = it->pos[it->depth]++;
        const ch_val *slot;
        uint32_t npairs, nchildren;
        if (h->type == CH_COLLISION) {
            slot = ((const ch_collision *)h)->slot;
            npairs = ((const ch_collision *)h)->count;
            nchildren = 0;
        } else {
            slot = ((const ch_node *)h)->slot;
            npairs = ch_popcount(((const ch_node *)h)->datamap);
            nchildren = ch_popcount(((const ch_node *)h)->nodemap);
        }
        if (p < npairs) {
            *key = ch_word(&slot[2 * p]);
            *val = ch_word(&slot[2 * p + 1]);
            return true;
        }
        if (p < npairs + nchildren) {
            it->depth++;
            it->node[it->depth] = ch_ptr(ch_word(&slot[2 * npairs + (p - npairs)]));
            it->pos[it->depth] = 0;
            continue;
        }
        it->depth--;
    }
    return false;
}

/* --- maps -------------------------------------------------------------------------- */

ch_map *ch_map_new(ch_node *root, uint64_t count, uint16_t depth)
{
    ch_map *m = ch_new_object(sizeof(ch_map), CH_MAP);
    if (m == NULL)
        return NULL;
    m->count = count;
    m->root = root;
    m->snapshot = CH_NOVALUE;
    m->h.aux = depth;
    return m;
}
