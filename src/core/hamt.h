/*
 * The persistent hash array mapped trie behind cohive.Map (see hamt.c).
 */
#ifndef COHIVE_CORE_HAMT_H
#define COHIVE_CORE_HAMT_H

#include "object.h"

/* A bitmap node: `datamap` marks slots holding a key/value pair inline,
 * `nodemap` slots holding a child node.  `slot` holds the pairs first
 * (2 words each, in bit order), then the child pointers (in bit order). */
struct ch_node {
    ch_head h;
    uint32_t datamap;
    uint32_t nodemap;
    ch_val slot[];
};

/* All keys of a collision node share one full 64-bit hash. */
typedef struct {
    ch_head h;
    uint32_t count;
    uint32_t _pad;
    uint64_t hash;
    ch_val slot[]; /* count key/value pairs */
} ch_collision;

size_t ch_node_size(const ch_node *n);
size_t ch_collision_size(const ch_collision *c);

/* Value stored under `key` (whose hash is `hash`), or CH_NOVALUE. */
ch_val ch_hamt_get(const ch_node *root, ch_val key, uint64_t hash);

/* A lookup in a mapped trie that has not been checked whole checks what it
 * reads as it goes (snapshot.c): each node it visits, at its level, and
 * each word it follows (a child's, or a key's or value's, whose object is
 * then checked whole).  False when the file is damaged there. */
typedef struct ch_lazy_check ch_lazy_check;
bool ch_lazy_node(ch_lazy_check *check, const ch_head *node, unsigned level);
bool ch_lazy_word(ch_lazy_check *check, const ch_val *word, bool is_child);
/* ch_hamt_get, checking with `check` unless it is NULL: CH_NOVALUE also
 * when a check failed (which `check` then says). */
ch_val ch_hamt_find(const ch_node *root, ch_val key, uint64_t hash, ch_lazy_check *check);

/* Both edit functions take `*root` as an owned reference (NULL when empty)
 * and replace it with the new root.  Nodes whose only reference is held
 * along the path are edited in place; shared nodes are copied first, so a
 * shared tree is never changed.  Return 0, or -1 when out of memory (the
 * tree then still means what it meant before).
 *
 * ch_hamt_set steals `key` and `val` on success.  When an equal key is
 * already present its original key is kept (as dict does) and *added is 0.
 */
int ch_hamt_set(ch_node **root, ch_val key, uint64_t hash, ch_val val, int *added);

/* Builds a whole tree at once from `n` entries, faster than n inserts: each
 * level is one stable partition of the entries, each node one exact-size
 * allocation.  Steals every key and value; of entries with equal keys one
 * is kept (a dict given to Map() has such keys only when it holds several
 * NaNs with the same bits).  On success sets *root and *count and returns 0;
 * out of memory it releases everything and returns -1.  `entries` is
 * reordered. */
typedef struct {
    uint64_t hash;
    ch_val key, val;
} ch_entry;
int ch_hamt_build(ch_entry *entries, size_t n, ch_node **root, uint64_t *count);

/* Drops the references of n entries' keys and values. */
void ch_entries_release(const ch_entry *e, size_t n);

/* Removes `key`; *removed says whether it was there. */
int ch_hamt_delete(ch_node **root, ch_val key, uint64_t hash, int *removed);

/* Depth-first iteration in hash order, which is the same in every process. */
#define CH_HAMT_MAX_LEVELS 15
typedef struct {
    const ch_head *node[CH_HAMT_MAX_LEVELS];
    uint32_t pos[CH_HAMT_MAX_LEVELS];
    int depth;
} ch_hamt_iter;

void ch_hamt_iter_init(ch_hamt_iter *it, const ch_node *root);
/* Borrowed key and value of the next entry; false at the end. */
bool ch_hamt_iter_next(ch_hamt_iter *it, ch_val *key, ch_val *val);

/* --- maps ------------------------------------------------------------------ */

/* A new map object holding `root` (the reference is stolen), or NULL. */
ch_map *ch_map_new(ch_node *root, uint64_t count, uint16_t depth);

#endif
