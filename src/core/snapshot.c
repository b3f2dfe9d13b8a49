/*
 * Snapshots: a Map saved to one file, mapped read-only by any process and
 * read in place by the same code that reads heap Maps.
 *
 * The idea
 * --------
 * A saved Map is its native objects written one after another into a file,
 * exactly as they sit in memory (ch_head and all), with two changes:
 *
 *   - every object's count is CH_REFCNT_MAPPED, which ch_incref and
 *     ch_decref skip: nothing ever writes a mapped page, and a mapped object
 *     lives as long as its mapping, whose CH_SNAPSHOT object is counted;
 *   - a word that points at another object holds instead the distance from
 *     the word to it, tagged CH_TAG_REL.  ch_word (object.h), which every
 *     read of a container's word goes through, turns it back into a pointer,
 *     wherever the file is mapped.  So the trie, record and sequence code is
 *     the same for heap and mapped objects: one read path.
 *
 * Records name their key set by a pointer to an interned process shape,
 * which no file can hold.  The file lists its shapes' keys once, at its end;
 * `load` interns them and writes the process shapes into a small private
 * *table* mapped right before the file, and a record's shape word holds the
 * distance to its table slot, tagged CH_TAG_REL_TABLE.  The table is then
 * made read-only too.  So a mapped record reads exactly like a heap one, and
 * compares with heap records of its keys by shape pointer.
 *
 * Layout (docs/format.md has the byte-level format)
 * ------
 *   [header][root map][its subtree, depth first][shape keys]
 *
 * Objects are 8-byte aligned and written depth first: an object, then the
 * subtree of each word it points at, in the order of its words.  So every
 * relative word points forward, exactly at the end of what came before it.
 *
 * Checking, lazily
 * ----------------
 * No file may crash a reader, and a mapped tree is read by code that trusts
 * what it reads, yet `load` must cost O(1).  So `load` checks the header,
 * the shape table and the root's own header and node.  The *whole check* is
 * a checksum, then a walk of the tree that holds every object to what the
 * readers assume (types, sizes within the file, bitmaps, str code units,
 * packed items, offsets inside their record, keys in the trie slots their
 * hashes give, nesting depth) and accepts only the canonical depth-first
 * layout above.  That layout makes the walk linear and finite: a word that
 * points anywhere but at the next unvisited byte is refused, so there are
 * no cycles, overlaps or shared subtrees to visit twice.  It runs once, the
 * first time anything but a lookup reads the loaded Map (binding: the
 * cohive_map_ready gate), or at load with `verify`.  Until then a lookup
 * checks as it goes: ch_hamt_find checks each node and word it reads, and
 * each key and value it meets is checked whole, once (a bit per 8 bytes
 * remembers).  So generic code only ever sees checked objects.
 *
 * Edits of a loaded Map share its mapped nodes as edits of any Map share
 * nodes; the new heap Map holds the snapshot (ch_map.snapshot) so that the
 * mapping outlives them.  Copies of mapped values never take references on
 * mapped objects (copy.c copies them).
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS and pread under -std=c11 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "copy.h"
#include "snapshot.h"
#include "value.h"

#include "snapshot_format.h"

#define HASH_LEVELS 13 /* levels of bitmap nodes; collision nodes sit below them */

/* A 64-bit checksum of `n` bytes, four lanes at a time (about 4 bytes a
 * cycle).  Not cryptographic: it catches bit rot and truncation, while the
 * structural checks are what keep hostile files harmless. */
static uint64_t checksum(const unsigned char *p, size_t n)
{
    const uint64_t k1 = UINT64_C(0x9e3779b97f4a7c15), k2 = UINT64_C(0xc2b2ae3d27d4eb4f);
    uint64_t lane[4] = {k1, k2, ~k1, ~k2};
    size_t i = 0;
    for (; i + 32 <= n; i += 32)
        for (int j = 0; j < 4; j++) {
            uint64_t w;
            memcpy(&w, p + i + 8 * j, 8);
            lane[j] = (lane[j] ^ (w * k2));
            lane[j] = ((lane[j] << 31) | (lane[j] >> 33)) * k1;
        }
    uint64_t h = (uint64_t)n * k1;
    for (int j = 0; j < 4; j++)
        h = (h ^ lane[j]) * k2 + k1;
    for (; i < n; i++)
        h = (h ^ p[i]) * k1;
    return h ^ (h >> 29);
}

uint64_t ch_snapshot_checksum(const unsigned char *file, size_t len)
{
    unsigned char head[CH_SNAPSHOT_HEADER];
    memcpy(head, file, sizeof head);
    memset(head + offsetof(ch_file_header, checksum), 0, sizeof(uint64_t));
    return checksum(head, sizeof head) ^ checksum(file + sizeof head, len - sizeof head);
}

/* --- the registry of live snapshots ---------------------------------------- */

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static ch_snapshot *registry;

/* A child forked while another thread held the lock would wait forever. */
static pthread_once_t fork_handlers_once = PTHREAD_ONCE_INIT;
static void lock_registry(void) { pthread_mutex_lock(&registry_lock); }
static void unlock_registry(void) { pthread_mutex_unlock(&registry_lock); }
static void install_fork_handlers(void) { pthread_atfork(lock_registry, unlock_registry, unlock_registry); }

ch_snapshot *ch_snapshot_holding(const void *p)
{
    ch_snapshot *found = NULL;
    pthread_mutex_lock(&registry_lock);
    for (ch_snapshot *s = registry; s != NULL; s = s->next)
        if ((const unsigned char *)p >= s->file && (const unsigned char *)p < s->file + s->file_len) {
            found = ch_incref_if_alive(&s->h) ? s : NULL; /* whoever reads p holds it alive anyway */
            break;
        }
    pthread_mutex_unlock(&registry_lock);
    return found;
}

static void registry_add(ch_snapshot *s)
{
    pthread_once(&fork_handlers_once, install_fork_handlers);
    pthread_mutex_lock(&registry_lock);
    s->next = registry;
    registry = s;
    pthread_mutex_unlock(&registry_lock);
}

static ch_shape *const *shape_table(const ch_snapshot *s) { return (ch_shape *const *)(const void *)s->region; }

void ch_snapshot_retire(ch_snapshot *s, ch_snapshot **retired)
{
    pthread_mutex_lock(&registry_lock);
    for (ch_snapshot **p = &registry; *p != NULL; p = &(*p)->next)
        if (*p == s) {
            *p = s->next;
            break;
        }
    pthread_mutex_unlock(&registry_lock);
    s->next = *retired;
    *retired = s;
}

void ch_snapshot_destroy(ch_snapshot *s)
{
    for (uint32_t i = 0; i < s->nshapes; i++)
        ch_decref(ch_from_ptr(shape_table(s)[i]));
    munmap(s->region, s->region_len);
    free((void *)s->checked);
    free(atomic_load_explicit(&s->damage, memory_order_relaxed));
    free(s->name);
    ch_free(s, sizeof *s);
}

/* --- checking a file ------------------------------------------------------- */

/* The walk over a mapped file.  Offsets are from the file's first byte;
 * every check of a length is written so that it cannot overflow. */
typedef struct {
    const uint8_t *file;
    size_t len;
    size_t table_bytes;
    ch_shape *const *shapes;
    uint32_t nshapes;
    ch_load_error *err;
    unsigned nesting; /* objects being checked inside one another: bounds the recursion */
} checker;

static bool bad(checker *c, const char *problem, size_t at)
{
    if (c->err->status == CH_LOAD_OK) {
        c->err->status = CH_LOAD_BAD;
        c->err->problem = problem;
        c->err->at = at;
    }
    return false;
}

/* Whether `n` bytes from `at` lie in [at, end). */
static bool fits(size_t at, size_t n, size_t end) { return at <= end && n <= end - at; }

/* The offset a relative word at `word_at` names (wrapping round for the
 * negative distances of shape words). */
static uint64_t target_of(size_t word_at, ch_val v) { return (uint64_t)word_at + (v & ~CH_TAG_MASK); }

/* The trie node that the root or child word at `word_at` names, which must
 * be the next object in order (`next`): its offset in *target. */
static bool trie_word(checker *c, size_t word_at, size_t next, const char *problem, uint64_t *target)
{
    ch_val v;
    memcpy(&v, c->file + word_at, sizeof v);
    *target = target_of(word_at, v);
    if ((v & CH_TAG_MASK) != CH_TAG_REL || *target != next || !fits(*target, sizeof(ch_head), c->len))
        return bad(c, problem, word_at);
    return true;
}

/* A HAMT map's own header: no flags, no snapshot, a depth in range. */
static bool map_header_ok(const ch_map *m)
{
    return m->h.flags == 0 && m->snapshot == CH_NOVALUE && m->h.aux >= 1 && m->h.aux <= CH_MAX_DEPTH;
}

static bool check_text(checker *c, int flags, const uint8_t *data, uint32_t len, size_t at)
{
    uint32_t top = 0;
    for (uint32_t i = 0; i < len; i++) {
        uint32_t unit;
        if (flags == CH_STR_UCS2) {
            uint16_t u;
            memcpy(&u, data + 2 * (size_t)i, 2);
            unit = u;
        } else if (flags == CH_STR_UCS4) {
            memcpy(&unit, data + 4 * (size_t)i, 4);
        } else {
            unit = data[i];
        }
        if (unit > top)
            top = unit;
    }
    /* The narrowest width that holds the text, as CPython and cohive store it. */
    uint32_t lo = flags == CH_STR_ASCII ? 0 : flags == CH_STR_LATIN1 ? 0x80 : flags == CH_STR_UCS2 ? 0x100 : 0x10000;
    uint32_t hi = flags == CH_STR_ASCII ? 0x7f : flags == CH_STR_LATIN1 ? 0xff : flags == CH_STR_UCS2 ? 0xffff : 0x10ffff;
    if (top > hi || (len > 0 && flags != CH_STR_ASCII && top < lo) || (len == 0 && flags != CH_STR_ASCII))
        return bad(c, "a str whose code units do not match its width", at);
    return true;
}

static bool valid_width(int flags) { return flags == CH_STR_ASCII || flags == CH_STR_LATIN1 || flags == CH_STR_UCS2 || flags == CH_STR_UCS4; }

static bool check_object(checker *c, size_t at, size_t *end, unsigned *depth);

/* A big int is one only where no small int holds it, in its fewest bytes
 * (so that equal ints compare and hash equal). */
static bool bigint_canonical(const ch_bigint *b)
{
    if (b->len == 8) {
        int64_t x;
        memcpy(&x, b->data, sizeof x);
        return !ch_fits_smallint(x);
    }
    uint8_t top = b->data[b->len - 1], next = b->data[b->len - 2];
    return !(top == 0x00 && !(next & 0x80)) && !(top == 0xff && (next & 0x80));
}

/* A set's items (already checked) in the order of their hashes, none twice:
 * membership is a binary search by hash. */
static bool set_in_order(checker *c, ch_val set, size_t at)
{
    ch_items items = ch_items_of(set);
    uint64_t prev = 0;
    for (uint32_t i = 0; i < items.len; i++) {
        ch_val x = ch_items_at(&items, i);
        uint64_t h = ch_hash(x);
        if (i > 0 && h < prev)
            return bad(c, "a set out of hash order", at);
        for (uint32_t j = i; j-- > 0 && ch_hash(ch_items_at(&items, j)) == h;)
            if (ch_eq(ch_items_at(&items, j), x))
                return bad(c, "an item twice in a set", at);
        prev = h;
    }
    return true;
}

static bool record_sets_in_order(checker *c, const ch_record *r);

/* The sets packed in the item at `p` (whose externs are checked by now). */
static bool sets_in_order(checker *c, const uint8_t *p)
{
    if (*p == CH_PK_RECORD)
        return record_sets_in_order(c, (const ch_record *)ch_ptr(ch_packed_value(p)));
    if (*p < CH_PK_LIST || *p > CH_PK_FROZENSET || *p == CH_PK_BYTES)
        return true;
    if ((*p == CH_PK_SET || *p == CH_PK_FROZENSET) && !set_in_order(c, ch_packed_word(p), (size_t)(p - c->file)))
        return false;
    for (uint32_t i = 0; i < ch_load_u16(p + 1); i++)
        if (!sets_in_order(c, p + ch_load_u16(p + 3 + 2 * (size_t)i)))
            return false;
    return true;
}

static bool record_sets_in_order(checker *c, const ch_record *r)
{
    for (uint32_t i = 0; i < ch_record_shape(r)->len; i++)
        if (!sets_in_order(c, (const uint8_t *)r + ch_record_offset(r, i)))
            return false;
    return true;
}

/* The word at `word_at` in an object: an immediate, or a pointer to the
 * object starting exactly at *next (whose subtree then moves *next on).
 * `types` is a bit mask of the ch_types allowed there (0: any value);
 * `may_be_empty` allows CH_NOVALUE. */
static bool check_word(checker *c, size_t word_at, size_t *next, unsigned *depth, uint64_t types, bool may_be_empty)
{
    ch_val v;
    memcpy(&v, c->file + word_at, sizeof v);
    *depth = 0;
    switch (v & CH_TAG_MASK) {
    case CH_TAG_PTR:
        if (v == CH_NOVALUE && may_be_empty)
            return true;
        return bad(c, v == 0 ? "a missing value" : "an absolute pointer", word_at);
    case CH_TAG_INT:
        if (types != 0)
            return bad(c, "an int where an object belongs", word_at);
        return true;
    case CH_TAG_CONST:
        if (types != 0 || (v != CH_NONE && v != CH_FALSE && v != CH_TRUE))
            return bad(c, "an unknown constant", word_at);
        return true;
    case CH_TAG_REL: {
        uint64_t target = target_of(word_at, v);
        if (target != *next)
            return bad(c, "a pointer out of order (the file is not depth first)", word_at);
        if (!fits(target, sizeof(ch_head), c->len))
            return bad(c, "a pointer past the end", word_at);
        int type = ((const ch_head *)(c->file + target))->type;
        if (types != 0 && (type >= 64 || !(types & (UINT64_C(1) << type))))
            return bad(c, "an object of the wrong type", target);
        return check_object(c, target, next, depth);
    }
    default:
        return bad(c, "a word with an unknown tag", word_at);
    }
}

#define TYPE(t) (UINT64_C(1) << (t))

/* The shape a record's shape word names in the table, or NULL. */
static const ch_shape *check_shape_word(checker *c, size_t word_at)
{
    ch_val v;
    memcpy(&v, c->file + word_at, sizeof v);
    if ((v & CH_TAG_MASK) != CH_TAG_REL_TABLE) {
        bad(c, "a record without a shape", word_at);
        return NULL;
    }
    /* The slot's offset from the table's start: word + distance + table. */
    uint64_t slot = target_of(word_at, v) + c->table_bytes;
    if (slot % 8 != 0 || slot / 8 >= c->nshapes) {
        bad(c, "a shape outside the table", word_at);
        return NULL;
    }
    return c->shapes[slot / 8];
}

typedef struct {
    size_t lo, hi; /* the externs' words, [lo, hi) */
} extern_words;

static bool check_record_body(checker *c, size_t at, size_t end, bool nested, extern_words ext, unsigned level,
                              size_t *size, unsigned *depth);

/* The packed item at `at`, which must end by `end`; *depth its nesting. */
static bool check_item(checker *c, size_t at, size_t end, extern_words ext, unsigned level, unsigned *depth)
{
    *depth = 0;
    if (at >= end)
        return bad(c, "an item past its end", at);
    if (level > CH_MAX_DEPTH)
        return bad(c, "values nested too deep", at);
    const uint8_t *p = c->file + at;
    uint8_t tag = *p;
    if (tag < 0x80 || tag == CH_PK_NONE || tag == CH_PK_FALSE || tag == CH_PK_TRUE)
        return true;
    if (tag >= CH_PK_ASCII && tag <= CH_PK_ASCII + CH_PK_ASCII_MAX) {
        size_t n = tag - CH_PK_ASCII;
        return fits(at + 1, n, end) ? check_text(c, CH_STR_ASCII, p + 1, (uint32_t)n, at) : bad(c, "a str past its end", at);
    }
    switch (tag) {
    case CH_PK_INT8:
    case CH_PK_INT16:
    case CH_PK_INT32:
        return fits(at, 1 + ((size_t)1 << (tag - CH_PK_INT8)), end) ? true : bad(c, "an int past its end", at);
    case CH_PK_INT64: {
        int64_t x;
        if (!fits(at, 9, end))
            return bad(c, "an int past its end", at);
        memcpy(&x, p + 1, sizeof x);
        return ch_fits_smallint(x) ? true : bad(c, "an int too big to pack", at);
    }
    case CH_PK_FLOAT:
        return fits(at, 9, end) ? true : bad(c, "a float past its end", at);
    case CH_PK_EXTERN: {
        if (!fits(at, 3, end))
            return bad(c, "an extern past its end", at);
        size_t back = ch_load_u16(p + 1);
        if (back > at || at - back < ext.lo || at - back >= ext.hi || (at - back - ext.lo) % 8 != 0)
            return bad(c, "an extern that is not one of its record's", at);
        ch_val v;
        memcpy(&v, c->file + at - back, sizeof v);
        if ((v & CH_TAG_MASK) == CH_TAG_REL_TABLE) /* a nested record's shape, not a value */
            return bad(c, "an extern that is not one of its record's", at);
        return true;
    }
    case CH_PK_STR: {
        uint32_t n;
        if (!fits(at, 6, end))
            return bad(c, "a str past its end", at);
        memcpy(&n, p + 2, sizeof n);
        if (!valid_width(p[1]))
            return bad(c, "a str of an unknown width", at);
        size_t width = p[1] == CH_STR_ASCII ? 1 : p[1], data = (at + 6 + width - 1) & ~(width - 1);
        if (!fits(data, (size_t)n * width, end))
            return bad(c, "a str past its end", at);
        return check_text(c, p[1], c->file + data, n, at);
    }
    case CH_PK_BYTES: {
        uint32_t n;
        if (!fits(at, 5, end))
            return bad(c, "bytes past their end", at);
        memcpy(&n, p + 1, sizeof n);
        return fits(at + 5, n, end) ? true : bad(c, "bytes past their end", at);
    }
    case CH_PK_LIST:
    case CH_PK_TUPLE:
    case CH_PK_SET:
    case CH_PK_FROZENSET: {
        if (!fits(at, 3, end))
            return bad(c, "a sequence past its end", at);
        size_t n = ch_load_u16(p + 1), table = 3 + 2 * (n + 1);
        if (!fits(at, table, end))
            return bad(c, "a sequence past its end", at);
        size_t prev = table;
        for (size_t i = 0; i <= n; i++) {
            size_t o = ch_load_u16(p + 3 + 2 * i);
            if (o < prev || !fits(at, o, end))
                return bad(c, "a sequence whose offsets are out of order", at);
            if (i > 0) {
                unsigned d;
                if (!check_item(c, at + prev, at + o, ext, level + 1, &d))
                    return false;
                if (d + 1 > *depth)
                    *depth = d + 1;
            }
            prev = o;
        }
        if (n == 0)
            *depth = 1;
        return true;
    }
    case CH_PK_RECORD: {
        size_t start = ch_round8(at + 1), size;
        if (!fits(at, start - at, end))
            return bad(c, "a record past its end", at);
        for (size_t i = at + 1; i < start; i++)
            if (c->file[i] != 0)
                return bad(c, "a record misaligned", at);
        return check_record_body(c, start, end, true, ext, level + 1, &size, depth);
    }
    default:
        return bad(c, "an item with an unknown tag", at);
    }
}

/* A record at `at` (nested: inside another record's items, count 0, its
 * externs the outer record's), ending by `end`, `level` records and
 * sequences deep in its block: its header, shape, offset table and items.
 * *size its bytes; externs are checked by the caller. */
static bool check_record_body(checker *c, size_t at, size_t end, bool nested, extern_words ext, unsigned level,
                              size_t *size, unsigned *depth)
{
    if (!fits(at, sizeof(ch_record), end))
        return bad(c, "a record past the end", at);
    const ch_record *r = (const ch_record *)(c->file + at);
    uint32_t refcnt = atomic_load_explicit(&((ch_head *)&r->h)->refcnt, memory_order_relaxed);
    if (r->h.type != CH_MAP || !(r->h.flags & CH_MAP_RECORD) || refcnt != (nested ? 0 : CH_REFCNT_MAPPED))
        return bad(c, "a record with a bad header", at);
    if (r->h.aux > CH_MAX_DEPTH)
        return bad(c, "values nested too deep", at);
    unsigned nextern = ch_record_externs(r);
    if (nested && nextern != 0)
        return bad(c, "a nested record with externs of its own", at);
    const ch_shape *shape = check_shape_word(c, at + offsetof(ch_record, shape));
    if (shape == NULL)
        return false;
    size_t width = r->h.flags & CH_RECORD_WIDE ? 2 : 1, n = shape->len;
    size_t table = sizeof(ch_record) + 8 * (size_t)nextern;
    if (!fits(at, table + width * (n + 1), end))
        return bad(c, "a record's offsets past the end", at);
    if (!nested)
        ext = (extern_words){at + sizeof(ch_record), at + table};
    /* Items follow the table in the order they were packed, not the shape's,
     * so each is checked from its start to the record's end (the last
     * offset); items may not overlap the head, which is all they could
     * confuse. */
    size_t items = table + width * (n + 1), total = ch_record_offset(r, (uint32_t)n);
    if (total < items || !fits(at, total, end))
        return bad(c, "a record whose size is out of range", at);
    unsigned deepest = 0;
    for (size_t i = 0; i < n; i++) {
        size_t o = ch_record_offset(r, (uint32_t)i);
        unsigned d;
        if (o < items || o >= total)
            return bad(c, "a record whose offsets are out of range", at);
        if (!check_item(c, at + o, at + total, ext, level, &d))
            return false;
        if (d > deepest)
            deepest = d;
    }
    if (r->h.aux < deepest + 1)
        return bad(c, "a record nested deeper than it says", at);
    *size = total;
    *depth = r->h.aux;
    return true;
}

/* What a node at `at`, `level` levels down, says of itself: its type for
 * its level, its bitmaps, its size within the file.  *head and *nwords
 * where its words are. */
static bool node_header_ok(checker *c, size_t at, unsigned level, size_t *head, size_t *nwords)
{
    const ch_head *h = (const ch_head *)(c->file + at);
    if (h->refcnt != CH_REFCNT_MAPPED)
        return bad(c, "an object with a bad count", at);
    if (h->type == CH_COLLISION) {
        if (level != HASH_LEVELS || !fits(at, sizeof(ch_collision), c->len))
            return bad(c, "a collision node where none can be", at);
        const ch_collision *col = (const ch_collision *)h;
        if (col->count < 2)
            return bad(c, "a collision node with a bad count or hash", at);
        *nwords = 2 * (size_t)col->count;
        *head = sizeof(ch_collision);
    } else {
        if (h->type != CH_NODE || level >= HASH_LEVELS || !fits(at, sizeof(ch_node), c->len))
            return bad(c, "a trie node where none can be", at);
        const ch_node *n = (const ch_node *)h;
        unsigned npairs = ch_popcount(n->datamap), nchildren = ch_popcount(n->nodemap);
        if ((n->datamap & n->nodemap) != 0 || npairs + nchildren == 0 || (level > 0 && npairs == 1 && nchildren == 0))
            return bad(c, "a trie node with bad bitmaps", at);
        if (level == HASH_LEVELS - 1 && ((n->datamap | n->nodemap) >> 16) != 0)
            return bad(c, "a trie node with bad bitmaps", at); /* 4 hash bits are left at the last level */
        *nwords = 2 * (size_t)npairs + nchildren;
        *head = sizeof(ch_node);
    }
    if (!fits(at, *head + 8 * *nwords, c->len) || h->flags != 0)
        return bad(c, "a trie node past the end", at);
    return true;
}

/* A HAMT node at `at`, `level` levels down, reached by the hash bits
 * `prefix`: its pairs and children, counted into *count. */
static bool check_node(checker *c, size_t at, size_t *next, unsigned level, uint64_t prefix, uint64_t *count,
                       unsigned *depth)
{
    const ch_head *h = (const ch_head *)(c->file + at);
    size_t nwords, head;
    if (!node_header_ok(c, at, level, &head, &nwords))
        return false;
    if (h->type == CH_COLLISION && ((const ch_collision *)h)->hash != prefix)
        return bad(c, "a collision node with a bad count or hash", at);
    *next = at + head + 8 * nwords;
    const ch_val *slot = (const ch_val *)(const void *)(c->file + at + head);
    size_t npairs = h->type == CH_COLLISION ? nwords / 2 : ch_popcount(((const ch_node *)h)->datamap);
    unsigned shift = 5 * level;
    for (size_t i = 0; i < npairs; i++) {
        unsigned dk, dv;
        size_t key_at = at + head + 16 * i;
        if (!check_word(c, key_at, next, &dk, 0, false) || !check_word(c, key_at + 8, next, &dv, 0, false))
            return false;
        uint64_t hash = ch_hash(ch_word(&slot[2 * i]));
        if (h->type == CH_COLLISION ? hash != prefix
                                    : (shift > 0 && (hash & ((UINT64_C(1) << shift) - 1)) != prefix) ||
                                          !(((const ch_node *)h)->datamap & (UINT32_C(1) << ((hash >> shift) & 31))) ||
                                          ch_popcount(((const ch_node *)h)->datamap &
                                                      ((UINT32_C(1) << ((hash >> shift) & 31)) - 1)) != i)
            return bad(c, "a key in the wrong trie slot for its hash", key_at);
        unsigned d = dk > dv ? dk : dv;
        if (d > *depth)
            *depth = d;
    }
    *count += npairs;
    if (h->type == CH_COLLISION) {
        for (size_t i = 0; i < npairs; i++)
            for (size_t j = i + 1; j < npairs; j++)
                if (ch_key_eq(ch_word(&slot[2 * i]), ch_word(&slot[2 * j])))
                    return bad(c, "a key twice in one collision node", at);
        return true;
    }
    uint32_t nodemap = ((const ch_node *)h)->nodemap;
    for (size_t i = npairs * 2; i < nwords; i++) {
        uint64_t target;
        if (!trie_word(c, at + head + 8 * i, *next, "a trie child out of order", &target))
            return false;
        unsigned bit = (unsigned)__builtin_ctz(nodemap);
        nodemap &= nodemap - 1;
        if (!check_node(c, target, next, level + 1, prefix | ((uint64_t)bit << shift), count, depth))
            return false;
    }
    return true;
}

/* The externs of a record or packed sequence: values, depth first, and
 * the shapes of records nested in its items. */
static bool check_externs(checker *c, extern_words ext, size_t *next, unsigned *deepest)
{
    for (size_t w = ext.lo; w < ext.hi; w += 8) {
        unsigned d;
        ch_val v;
        memcpy(&v, c->file + w, sizeof v);
        if ((v & CH_TAG_MASK) == CH_TAG_REL_TABLE) {
            if (check_shape_word(c, w) == NULL)
                return false;
            continue;
        }
        if (!check_word(c, w, next, &d, 0, false))
            return false;
        if (d > *deepest)
            *deepest = d;
    }
    return true;
}

static bool check_object_in(checker *c, size_t at, size_t *end, unsigned *depth);

/* Objects checked inside one another: CH_MAX_DEPTH containers, a leaf, and
 * a leaf's own part (a time's zone, a decimal's number).  Deeper is refused
 * before recursing (each trie level below a map adds a frame too, fourteen
 * at most). */
#define MAX_NESTING (CH_MAX_DEPTH + 2)

static bool check_object(checker *c, size_t at, size_t *end, unsigned *depth)
{
    if (c->nesting >= MAX_NESTING)
        return bad(c, "values nested too deep", at);
    c->nesting++;
    bool ok = check_object_in(c, at, end, depth);
    c->nesting--;
    return ok;
}

static bool check_object_in(checker *c, size_t at, size_t *end, unsigned *depth)
{
    const ch_head *h = (const ch_head *)(c->file + at);
    if (at % 8 != 0 || h->refcnt != CH_REFCNT_MAPPED)
        return bad(c, "an object with a bad count", at);
    size_t size = 0, avail = c->len - at;
    unsigned deepest = 0;
    *depth = 0;
    switch (h->type) {
    case CH_STR:
    case CH_BYTES: {
        if (avail < sizeof(ch_str))
            return bad(c, "a str past the end", at);
        const ch_str *s = (const ch_str *)h;
        bool is_str = h->type == CH_STR;
        if (is_str ? !valid_width(h->flags) : (h->flags & ~CH_BYTES_FROM_BUFFER) != 0)
            return bad(c, "a str of an unknown width", at);
        size_t width = is_str ? ch_str_width(s) : 1;
        if ((avail - sizeof(ch_str)) / width < s->len)
            return bad(c, "a str past the end", at);
        size = sizeof(ch_str) + (size_t)s->len * width;
        if (is_str && !check_text(c, h->flags, s->data, s->len, at))
            return false;
        break;
    }
    case CH_FLOAT:
        size = sizeof(ch_float);
        break;
    case CH_COMPLEX:
        size = sizeof(ch_complex);
        break;
    case CH_UUID:
        size = sizeof(ch_uuid);
        break;
    case CH_BIGINT: {
        const ch_bigint *b = (const ch_bigint *)h;
        if (avail < sizeof(ch_bigint) || avail - sizeof(ch_bigint) < b->len || b->len < 8)
            return bad(c, "a big int past the end", at);
        if (!bigint_canonical(b))
            return bad(c, "a big int not in its one form", at);
        size = sizeof(ch_bigint) + b->len;
        break;
    }
    case CH_TIME: {
        const ch_time *t = (const ch_time *)h;
        if (avail < sizeof(ch_time))
            return bad(c, "a time past the end", at);
        if (h->aux != 0)
            return bad(c, "a value that says it nests", at);
        if (!ch_time_ok(t) || t->has_offset > 1)
            return bad(c, "a date or time out of range", at);
        size_t next = at + ch_round8(sizeof(ch_time));
        unsigned d;
        if (t->zone != CH_NONE && !check_word(c, at + offsetof(ch_time, zone), &next, &d, TYPE(CH_STR), false))
            return false;
        *end = next;
        return true;
    }
    case CH_DECIMAL: {
        const ch_decimal *d = (const ch_decimal *)h;
        if (avail < sizeof(ch_decimal) || avail - sizeof(ch_decimal) < d->ndigits)
            return bad(c, "a decimal past the end", at);
        if (!ch_decimal_ok(h->flags, d->digits, d->ndigits, d->exponent) || h->aux != 0)
            return bad(c, "a decimal with bad parts", at);
        size_t next = at + ch_round8(sizeof(ch_decimal) + d->ndigits);
        unsigned dd;
        if (!ch_is_smallint(d->number) &&
            !check_word(c, at + offsetof(ch_decimal, number), &next, &dd, TYPE(CH_FLOAT) | TYPE(CH_BIGINT), true))
            return false;
        *end = next;
        return true;
    }
    case CH_TUPLE:
    case CH_LIST:
    case CH_SET: {
        if (h->aux > CH_MAX_DEPTH || (h->flags & CH_SET_FROM_SET && h->type != CH_SET) ||
            (h->flags & ~(CH_SEQ_PACKED | CH_SET_FROM_SET)) != 0)
            return bad(c, "a sequence with a bad header", at);
        if (h->flags & CH_SEQ_PACKED) {
            const ch_packed_seq *s = (const ch_packed_seq *)h;
            if (avail < sizeof(ch_packed_seq) || s->size > avail || s->at > s->size ||
                s->at < sizeof(ch_packed_seq) + 8 * (size_t)s->nextern)
                return bad(c, "a packed sequence past the end", at);
            uint8_t want = h->type == CH_LIST ? CH_PK_LIST : h->type == CH_TUPLE ? CH_PK_TUPLE
                           : h->flags & CH_SET_FROM_SET ? CH_PK_SET : CH_PK_FROZENSET;
            if (s->at == s->size || c->file[at + s->at] != want)
                return bad(c, "a packed sequence of the wrong type", at);
            extern_words ext = {at + sizeof(ch_packed_seq), at + sizeof(ch_packed_seq) + 8 * (size_t)s->nextern};
            if (!check_item(c, at + s->at, at + s->size, ext, 1, &deepest))
                return false;
            size_t next = at + ch_round8(s->size);
            unsigned d = 0;
            if (!check_externs(c, ext, &next, &d) || !sets_in_order(c, c->file + at + s->at))
                return false;
            if (deepest < d + 1)
                deepest = d + 1;
            if (h->aux < deepest)
                return bad(c, "a sequence nested deeper than it says", at);
            *end = next;
            *depth = h->aux;
            return true;
        }
        const ch_seq *s = (const ch_seq *)h;
        if (avail < sizeof(ch_seq) || (avail - sizeof(ch_seq)) / 8 < s->len)
            return bad(c, "a sequence past the end", at);
        size_t next = at + sizeof(ch_seq) + 8 * (size_t)s->len;
        if (!check_externs(c, (extern_words){at + sizeof(ch_seq), next}, &next, &deepest))
            return false;
        if (h->type == CH_SET && !set_in_order(c, ch_from_ptr(h), at))
            return false;
        if (h->aux < deepest + 1)
            return bad(c, "a sequence nested deeper than it says", at);
        *end = next;
        *depth = h->aux;
        return true;
    }
    case CH_MAP: {
        if (h->flags & CH_MAP_RECORD) {
            if (!check_record_body(c, at, c->len, false, (extern_words){0, 0}, 1, &size, depth))
                return false;
            const ch_record *r = (const ch_record *)h;
            extern_words ext = {at + sizeof(ch_record), at + sizeof(ch_record) + 8 * (size_t)ch_record_externs(r)};
            size_t next = at + ch_round8(size);
            if (!check_externs(c, ext, &next, &deepest) || !record_sets_in_order(c, r))
                return false;
            if (*depth < deepest + 1)
                return bad(c, "a record nested deeper than it says", at);
            *end = next;
            return true;
        }
        const ch_map *m = (const ch_map *)h;
        if (avail < sizeof(ch_map) || !map_header_ok(m))
            return bad(c, "a map with a bad header", at);
        size_t next = at + sizeof(ch_map);
        uint64_t count = 0, target;
        if (m->root != NULL && (!trie_word(c, at + offsetof(ch_map, root), next, "a map whose root is out of order", &target) ||
                                !check_node(c, target, &next, 0, 0, &count, &deepest)))
            return false;
        if (count != m->count)
            return bad(c, "a map whose count is not its number of keys", at);
        if (h->aux < deepest + 1)
            return bad(c, "a map nested deeper than it says", at);
        *end = next;
        *depth = h->aux;
        return true;
    }
    default:
        return bad(c, "an object of a type snapshots do not hold", at);
    }
    if (size > avail)
        return bad(c, "an object past the end", at);
    if (h->aux != 0) /* ch_depth reads it of any object: only containers nest */
        return bad(c, "a value that says it nests", at);
    *end = at + ch_round8(size);
    return true;
}

/* --- loading ----------------------------------------------------------------- */

static ch_map *fail(ch_load_error *err, ch_load_status status, const char *problem, uint64_t at)
{
    if (err->status == CH_LOAD_OK) {
        err->status = status;
        err->problem = problem;
        err->at = at;
    }
    return NULL;
}

static bool check_header(const ch_file_header *head, uint64_t size, ch_load_error *err)
{
    if (memcmp(head->magic, CH_SNAPSHOT_MAGIC, sizeof CH_SNAPSHOT_MAGIC) != 0)
        return fail(err, CH_LOAD_BAD, "not a cohive snapshot (bad magic)", 0), false;
    if (head->version != CH_SNAPSHOT_VERSION) {
        err->version = head->version;
        return fail(err, CH_LOAD_BAD, "a format version this cohive does not read", offsetof(ch_file_header, version)), false;
    }
    if (head->byte_order != CH_SNAPSHOT_BYTE_ORDER || head->word_size != sizeof(ch_val))
        return fail(err, CH_LOAD_BAD, "saved on a machine of another byte order or word size", 12), false;
    if (head->header_size != CH_SNAPSHOT_HEADER || head->reserved != 0 || head->root_at != CH_SNAPSHOT_HEADER)
        return fail(err, CH_LOAD_BAD, "a bad header", 18), false;
    if (head->file_size != size)
        return fail(err, CH_LOAD_BAD, "the file's size is not the size it was saved with (truncated?)", 24), false;
    if (head->shapes_at < CH_SNAPSHOT_HEADER + sizeof(ch_record) || head->shapes_at > size || head->shapes_at % 8 != 0)
        return fail(err, CH_LOAD_BAD, "a bad offset of the shape table", 32), false;
    if (head->nshapes > CH_SNAPSHOT_MAX_SHAPES || head->table_bytes != ch_table_bytes_for(head->nshapes))
        return fail(err, CH_LOAD_BAD, "a bad number of shapes", 40), false;
    return true;
}

/* Interns the file's shapes into the table (which `c->shapes` points at). */
static bool load_shapes(checker *c, size_t at, ch_shape **table, ch_load_error *err)
{
    for (uint32_t i = 0; i < c->nshapes; i++) {
        uint64_t n;
        if (!fits(at, 8, c->len))
            return fail(err, CH_LOAD_BAD, "the shape table past the end", at), false;
        memcpy(&n, c->file + at, sizeof n);
        if (n == 0 || n > CH_RECORD_MAX)
            return fail(err, CH_LOAD_BAD, "a shape of a bad number of keys", at), false;
        at += 8;
        ch_val keys[CH_RECORD_MAX];
        uint64_t hashes[CH_RECORD_MAX];
        uint8_t positions[CH_RECORD_MAX];
        for (uint64_t k = 0; k < n; k++) {
            unsigned depth;
            size_t next;
            if (!fits(at, sizeof(ch_str), c->len) || ((const ch_head *)(c->file + at))->type != CH_STR)
                return fail(err, CH_LOAD_BAD, "a shape key that is not a str", at), false;
            if (!check_object(c, at, &next, &depth))
                return false;
            keys[k] = ch_from_ptr(c->file + at);
            hashes[k] = ch_hash(keys[k]);
            at = next;
        }
        ch_shape *shape;
        int rc = ch_shape_of(keys, hashes, (uint32_t)n, &shape, positions);
        if (rc < 0)
            return fail(err, CH_LOAD_NOMEM, "out of memory", at), false;
        if (rc > 0)
            return fail(err, CH_LOAD_BAD, "a shape with a repeated key", at), false;
        table[i] = shape;
        for (uint64_t k = 0; k < n; k++)
            if (positions[k] != k)
                return fail(err, CH_LOAD_BAD, "a shape whose keys are out of order", at), false;
    }
    if (at != c->len)
        return fail(err, CH_LOAD_BAD, "bytes after the shape table", at), false;
    return true;
}

static void unload(unsigned char *region, size_t region_len, size_t table_bytes, uint32_t nshapes)
{
    ch_shape *const *table = (ch_shape *const *)(void *)region;
    for (uint32_t i = 0; i < nshapes && table[i] != NULL; i++)
        ch_decref(ch_from_ptr(table[i]));
    munmap(region, region_len);
}

static checker checker_of(const ch_snapshot *s, ch_load_error *err)
{
    return (checker){s->file, s->file_len, (size_t)(s->file - s->region), shape_table(s), s->nshapes, err};
}

/* The root map's own header (its trie is checked later): a map, counted
 * as mapped, whose root word points forward into the file. */
static bool check_root(checker *c, size_t at)
{
    const ch_map *m = (const ch_map *)(c->file + at);
    if (!fits(at, sizeof(ch_map), c->len) || m->h.type != CH_MAP || m->h.refcnt != CH_REFCNT_MAPPED || !map_header_ok(m))
        return bad(c, "a root that is not a Map", at);
    ch_val v = (ch_val)(uintptr_t)m->root;
    size_t word_at = at + offsetof(ch_map, root);
    uint64_t target = target_of(word_at, v);
    /* Every entry takes two words of some node: a count beyond that is a lie
     * len() would tell (and over 2**63, a negative length). */
    if (m->count > c->len / 16)
        return bad(c, "a map that counts more keys than the file holds", at);
    if ((v == CH_NOVALUE) != (m->count == 0) ||
        (v != CH_NOVALUE && ((v & CH_TAG_MASK) != CH_TAG_REL || target <= word_at || !fits(target, sizeof(ch_node), c->len))))
        return bad(c, "a map whose root is out of order", word_at);
    size_t head, nwords; /* the root node is read as soon as the Map is freed (its count) */
    return v == CH_NOVALUE || node_header_ok(c, target, 0, &head, &nwords);
}

static bool check_whole(checker *c, uint64_t checksum, size_t shapes_at)
{
    size_t end;
    unsigned depth;
    if (ch_snapshot_checksum(c->file, c->len) != checksum)
        return bad(c, "the checksum does not match (the file is damaged)", offsetof(ch_file_header, checksum));
    if (!check_object(c, CH_SNAPSHOT_HEADER, &end, &depth))
        return false;
    return end == shapes_at ? true : bad(c, "bytes between the tree and the shape table", end);
}

static int state_of(ch_snapshot *s) { return atomic_load_explicit(&s->state, memory_order_acquire); }

/* What the snapshot was found damaged by, once its state says DAMAGED. */
static void damage_of(ch_snapshot *s, ch_load_error *err) { *err = *atomic_load_explicit(&s->damage, memory_order_acquire); }

/* Settles a lazy snapshot as sound, or as damaged as *err says: the first
 * damage found is kept (before the state says so, so that no reader waits
 * for it), the first thread to settle decides, and every later read sees
 * that outcome.  Whether it is sound. */
static bool settle(ch_snapshot *s, bool sound, ch_load_error *err)
{
    if (!sound) {
        ch_load_error *found = malloc(sizeof *found), *none = NULL;
        if (found == NULL)
            return false; /* this reader gets its error; the snapshot stays as it was */
        *found = *err;
        if (!atomic_compare_exchange_strong_explicit(&s->damage, &none, found, memory_order_acq_rel, memory_order_acquire))
            free(found);
    }
    int lazy = CH_SNAPSHOT_LAZY;
    atomic_compare_exchange_strong_explicit(&s->state, &lazy, sound ? CH_SNAPSHOT_CHECKED : CH_SNAPSHOT_DAMAGED,
                                            memory_order_acq_rel, memory_order_acquire);
    if (state_of(s) == CH_SNAPSHOT_DAMAGED) {
        damage_of(s, err);
        return false;
    }
    return sound;
}

bool ch_snapshot_check(ch_snapshot *s, ch_load_error *err)
{
    memset(err, 0, sizeof *err);
    int state = state_of(s);
    if (state == CH_SNAPSHOT_DAMAGED)
        damage_of(s, err);
    if (state != CH_SNAPSHOT_LAZY)
        return state == CH_SNAPSHOT_CHECKED;
    ch_file_header head;
    memcpy(&head, s->file, sizeof head);
    checker c = checker_of(s, err);
    return settle(s, check_whole(&c, head.checksum, s->shapes_at), err);
}

/* --- lookups in a trie not checked whole --------------------------------------- */

struct ch_lazy_check {
    checker c;
    ch_snapshot *s;
};

static size_t offset_in(const ch_lazy_check *k, const void *p) { return (size_t)((const uint8_t *)p - k->c.file); }

bool ch_lazy_node(ch_lazy_check *k, const ch_head *node, unsigned level)
{
    size_t head, nwords; /* reached by a checked word: its header is in the file */
    return node_header_ok(&k->c, offset_in(k, node), level, &head, &nwords);
}

/* Whether the value (or key) at `at` has been checked whole; else checks
 * it now and remembers.  Checking is idempotent, so two threads checking
 * the same value at once only repeat work. */
static bool value_ok(ch_lazy_check *k, size_t at)
{
    _Atomic uint8_t *bits = &k->s->checked[at / 64];
    uint8_t bit = (uint8_t)(1u << (at / 8 % 8));
    if (atomic_load_explicit(bits, memory_order_acquire) & bit)
        return true;
    size_t end;
    unsigned depth;
    if (!check_object(&k->c, at, &end, &depth))
        return false;
    atomic_fetch_or_explicit(bits, bit, memory_order_release);
    return true;
}

bool ch_lazy_word(ch_lazy_check *k, const ch_val *word, bool is_child)
{
    size_t at = offset_in(k, word);
    ch_val v = *word;
    switch (v & CH_TAG_MASK) {
    case CH_TAG_INT:
        return is_child ? bad(&k->c, "an int where a trie node belongs", at) : true;
    case CH_TAG_CONST:
        return !is_child && (v == CH_NONE || v == CH_FALSE || v == CH_TRUE) ? true : bad(&k->c, "an unknown constant", at);
    case CH_TAG_REL: {
        uint64_t target = target_of(at, v);
        if (target <= at || !fits(target, sizeof(ch_head), k->c.len))
            return bad(&k->c, "a pointer out of order (the file is not depth first)", at);
        return is_child || value_ok(k, target);
    }
    default:
        return bad(&k->c, v == 0 ? "a missing value" : "a word with an unknown tag", at);
    }
}

ch_val ch_snapshot_find(ch_snapshot *s, const ch_map *m, ch_val key, uint64_t hash, ch_load_error *err)
{
    memset(err, 0, sizeof *err);
    if (state_of(s) == CH_SNAPSHOT_DAMAGED) {
        damage_of(s, err);
        return CH_NOVALUE;
    }
    ch_lazy_check k = {checker_of(s, err), s};
    ch_val v = ch_hamt_find(ch_map_root(m), key, hash, &k);
    if (err->status != CH_LOAD_OK)
        settle(s, false, err);
    return v;
}

/* --- loading ----------------------------------------------------------------- */

/* Address space for the shape table and the file right after it: the
 * table mapped writable, the file's part left for the caller. */
static unsigned char *reserve(const ch_file_header *head, ch_load_error *err)
{
    size_t table_bytes = head->table_bytes, region_len = table_bytes + (size_t)head->file_size;
    unsigned char *region = mmap(NULL, region_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (region == MAP_FAILED)
        return fail(err, errno == ENOMEM ? CH_LOAD_NOMEM : CH_LOAD_OS, "mmap", 0), NULL;
    if (table_bytes > 0 &&
        mmap(region, table_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED) {
        int e = errno;
        munmap(region, region_len);
        errno = e;
        return fail(err, CH_LOAD_OS, "mmap", 0), NULL;
    }
    return region;
}

static ch_map *open_region(unsigned char *region, const ch_file_header *head, const char *name, bool verify,
                           ch_load_error *err);

ch_map *ch_snapshot_load_fd(int fd, const char *name, bool verify, ch_load_error *err)
{
    memset(err, 0, sizeof *err);
    struct stat st;
    if (fstat(fd, &st) != 0)
        return fail(err, CH_LOAD_OS, "fstat", 0);
    ch_file_header head;
    if ((uint64_t)st.st_size < sizeof head)
        return fail(err, CH_LOAD_BAD, "too short for a snapshot header", (uint64_t)st.st_size);
    ssize_t got = pread(fd, &head, sizeof head, 0);
    if (got < 0)
        return fail(err, CH_LOAD_OS, "read", 0);
    if ((size_t)got != sizeof head)
        return fail(err, CH_LOAD_BAD, "too short for a snapshot header", (uint64_t)got);
    if (!check_header(&head, (uint64_t)st.st_size, err))
        return NULL;
    unsigned char *region = reserve(&head, err);
    if (region == NULL)
        return NULL;
    if (mmap(region + head.table_bytes, (size_t)head.file_size, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED) {
        int e = errno;
        munmap(region, head.table_bytes + (size_t)head.file_size);
        errno = e;
        return fail(err, CH_LOAD_OS, "mmap", 0);
    }
    return open_region(region, &head, name, verify, err);
}

ch_map *ch_snapshot_load_bytes(const void *data, size_t len, const char *name, ch_load_error *err)
{
    memset(err, 0, sizeof *err);
    ch_file_header head;
    if (len < sizeof head)
        return fail(err, CH_LOAD_BAD, "too short for a snapshot header", len);
    memcpy(&head, data, sizeof head);
    if (!check_header(&head, len, err))
        return NULL;
    unsigned char *region = reserve(&head, err);
    if (region == NULL)
        return NULL;
    unsigned char *file = region + head.table_bytes;
    if (mprotect(file, len, PROT_READ | PROT_WRITE) != 0) {
        munmap(region, head.table_bytes + len);
        return fail(err, CH_LOAD_NOMEM, "out of memory", 0);
    }
    memcpy(file, data, len);
    mprotect(file, len, PROT_READ); /* read-only like a file's pages: nothing may write them */
    return open_region(region, &head, name, true, err);
}

static ch_map *open_region(unsigned char *region, const ch_file_header *hp, const char *name, bool verify,
                           ch_load_error *err)
{
    ch_file_header head = *hp;
    size_t table_bytes = head.table_bytes, len = (size_t)head.file_size, region_len = table_bytes + len;
    const uint8_t *file = region + table_bytes;
    checker c = {file, len, table_bytes, (ch_shape *const *)(void *)region, head.nshapes, err};
    ch_snapshot *snap = NULL;
    const ch_map *root = (const ch_map *)(file + head.root_at);
    bool is_record = root->h.type == CH_MAP && (root->h.flags & CH_MAP_RECORD);
    if (load_shapes(&c, head.shapes_at, (ch_shape **)(void *)region, err)) {
        if (table_bytes > 0)
            mprotect(region, table_bytes, PROT_READ);
        /* A root that is not a record must be a map whatever else is checked:
         * it becomes the loaded Map's root. */
        bool sound = is_record ? check_whole(&c, head.checksum, head.shapes_at)
                               : check_root(&c, head.root_at) && (!verify || check_whole(&c, head.checksum, head.shapes_at));
        if (sound) {
            snap = ch_new_object(sizeof *snap, CH_SNAPSHOT);
            _Atomic uint8_t *checked = snap != NULL ? calloc(len / 64 + 1, 1) : NULL; /* zero pages, mapped on use */
            char *copy = checked != NULL ? strdup(name) : NULL;
            if (copy == NULL) {
                free((void *)checked);
                ch_free(snap, sizeof *snap);
                snap = NULL;
                fail(err, CH_LOAD_NOMEM, "out of memory", 0);
            } else {
                snap->checked = checked;
                snap->name = copy;
            }
        }
    }
    if (snap == NULL) {
        unload(region, region_len, table_bytes, head.nshapes);
        return NULL;
    }
    snap->nshapes = head.nshapes;
    atomic_init(&snap->state, verify || is_record ? CH_SNAPSHOT_CHECKED : CH_SNAPSHOT_LAZY);
    snap->region = region;
    snap->region_len = region_len;
    snap->file = file;
    snap->file_len = len;
    snap->shapes_at = head.shapes_at;
    atomic_init(&snap->damage, NULL);
    registry_add(snap);
    ch_map *result;
    if (is_record) { /* a heap copy of the record; its big externs hold the mapping, if any */
        ch_val copy = ch_copy_or_share(ch_from_ptr(root), CH_COPY_LIMIT);
        result = copy != CH_NOVALUE ? (ch_map *)ch_ptr(copy) : NULL;
        ch_decref(ch_from_ptr(snap));
    } else {
        result = ch_map_new((ch_node *)ch_map_root(root), root->count, root->h.aux);
        if (result != NULL) {
            result->snapshot = ch_from_ptr(snap);
            result->h.flags = CH_MAP_LOADED;
        }
        else
            ch_decref(ch_from_ptr(snap));
    }
    return result != NULL ? result : fail(err, CH_LOAD_NOMEM, "out of memory", 0);
}
