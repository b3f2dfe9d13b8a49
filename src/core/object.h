/*
 * cohive native object model -- plain C11, no Python.h.
 *
 * Everything cohive shares lives in process-wide memory owned by no
 * interpreter.  A frozen value is one 64-bit word, `ch_val`:
 *
 *   low 3 bits   meaning
 *   ---------    -------------------------------------------------------
 *   000          pointer to a heap object (8-byte aligned); 0 is "no value"
 *   001          small int: the upper 61 bits, signed
 *   010          constant: None, False or True
 *   011          a packed value inside a record (packed.h)
 *   100, 101     only in a snapshot file's containers: a position-
 *                independent pointer (ch_word, snapshot.h)
 *
 * Heap objects start with `ch_head`: an atomic reference count, a type tag,
 * a per-type flag byte and a 16-bit "aux" field (nesting depth for
 * containers).  Reference counts are atomic so that any thread of any
 * interpreter may hold and drop references without a GIL.
 *
 * Canonical forms keep equality structural and cheap: an int that fits in
 * 61 bits is always a small int (never a CH_BIGINT), a str is stored in the
 * narrowest width CPython would use, and so on.
 */
#ifndef COHIVE_CORE_OBJECT_H
#define COHIVE_CORE_OBJECT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t ch_val;

#define CH_TAG_MASK ((ch_val)7)
#define CH_TAG_PTR ((ch_val)0)
#define CH_TAG_INT ((ch_val)1)
#define CH_TAG_CONST ((ch_val)2)
/* A word of a container mapped from a snapshot file holds its target as a
 * byte distance from the word itself (a multiple of 8) plus one of these
 * tags: the target is the value, or (only for a record's shape) the word
 * at the target is, a process shape the snapshot's table holds. */
#define CH_TAG_REL ((ch_val)4)
#define CH_TAG_REL_TABLE ((ch_val)5)

#define CH_NOVALUE ((ch_val)0)
#define CH_NONE ((ch_val)(CH_TAG_CONST | (0u << 3)))
#define CH_FALSE ((ch_val)(CH_TAG_CONST | (1u << 3)))
#define CH_TRUE ((ch_val)(CH_TAG_CONST | (2u << 3)))

#define CH_SMALLINT_MIN (-(INT64_C(1) << 60))
#define CH_SMALLINT_MAX ((INT64_C(1) << 60) - 1)

/* Containers nest at most this deep; recursion over values is bounded by it. */
#define CH_MAX_DEPTH 256

/* str, bytes, tuple and list lengths are stored in 32 bits. */
#define CH_MAX_LEN UINT32_MAX

typedef enum {
    CH_STR = 1,
    CH_BYTES,
    CH_FLOAT,
    CH_COMPLEX,
    CH_BIGINT,
    CH_TUPLE,
    CH_LIST,
    CH_SET,
    CH_MAP,
    CH_NODE,      /* HAMT bitmap node (see hamt.c) */
    CH_COLLISION, /* HAMT node for keys whose 64-bit hashes are equal */
    CH_REF,       /* a named mutable cell (ref.h) */
    CH_QUEUE,     /* a FIFO between interpreters (queue.h) */
    CH_LOCK,      /* synchronisation primitives (primitives.h) */
    CH_EVENT,
    CH_SEMAPHORE,
    CH_BARRIER,
    CH_COUNTER,
    CH_TIME,      /* date, datetime, time, timedelta (values_layout.h) */
    CH_DECIMAL,   /* decimal.Decimal */
    CH_UUID,      /* uuid.UUID */
    CH_INSTANCE,  /* an object of a class named by module and qualname */
    CH_SHAPE,     /* the interned key set of records (shape.h) */
    CH_SNAPSHOT,  /* a mapped snapshot file (snapshot.h) */
} ch_type;

typedef struct {
    _Atomic uint32_t refcnt;
    uint8_t type;
    uint8_t flags;
    uint16_t aux;
} ch_head;

/* str flags: the code unit width CPython uses, with ASCII told apart. */
enum { CH_STR_ASCII = 0, CH_STR_LATIN1 = 1, CH_STR_UCS2 = 2, CH_STR_UCS4 = 4 };
/* set flags: remembers whether the value was a set (thaw gives a set back). */
enum { CH_SET_FROM_SET = 1 };
/* map flags: a record, the compact form of a small dict with str keys (map.h). */
enum { CH_MAP_RECORD = 1 };
/* bytes flags: frozen from a buffer (bytearray, memoryview, array...): read
 * back as a zero-copy cohive.FrozenBytes rather than a bytes copy. */
enum { CH_BYTES_FROM_BUFFER = 1 };

typedef struct {
    ch_head h;
    uint32_t len; /* code units (str) or bytes */
    unsigned char data[];
} ch_str; /* also CH_BYTES */

typedef struct {
    ch_head h;
    double value;
} ch_float;

typedef struct {
    ch_head h;
    double real, imag;
} ch_complex;

typedef struct {
    ch_head h;
    uint32_t len;         /* bytes of two's complement, little endian, minimal */
    unsigned char data[];
} ch_bigint;

typedef struct {
    ch_head h;
    uint32_t len;
    uint32_t _pad;
    ch_val items[];
} ch_seq; /* CH_TUPLE, CH_LIST and CH_SET (set items sorted by hash) */

typedef struct ch_node ch_node;

typedef struct {
    ch_head h;
    uint64_t count;
    ch_node *root;   /* NULL when empty */
    ch_val snapshot; /* the mapped snapshot (a CH_SNAPSHOT) whose nodes `root`
                        may share, or CH_NOVALUE: it keeps them mapped */
} ch_map;

#include "values_layout.h"

/* --- tagged words -------------------------------------------------------- */

static inline bool ch_is_ptr(ch_val v) { return (v & CH_TAG_MASK) == CH_TAG_PTR && v != 0; }
static inline bool ch_is_smallint(ch_val v) { return (v & CH_TAG_MASK) == CH_TAG_INT; }
static inline ch_head *ch_ptr(ch_val v) { return (ch_head *)(uintptr_t)v; }
static inline ch_val ch_from_ptr(const void *p) { return (ch_val)(uintptr_t)p; }
static inline int64_t ch_smallint_value(ch_val v) { return (int64_t)v >> 3; }
static inline ch_val ch_smallint(int64_t i) { return ((uint64_t)i << 3) | CH_TAG_INT; }
static inline bool ch_fits_smallint(int64_t i) { return i >= CH_SMALLINT_MIN && i <= CH_SMALLINT_MAX; }

static inline unsigned ch_popcount(uint32_t x)
{
#if defined(__POPCNT__) || defined(__ARM_NEON) || defined(__aarch64__)
    return (unsigned)__builtin_popcount(x);
#else /* without a popcount instruction the builtin is a slow library call */
    x = x - ((x >> 1) & 0x55555555u);
    x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
    return (((x + (x >> 4)) & 0x0f0f0f0fu) * 0x01010101u) >> 24;
#endif
}

static inline int ch_type_of(ch_val v) { return ch_is_ptr(v) ? ch_ptr(v)->type : 0; }

/* The value a container's word holds: the word itself, or for a container
 * mapped from a snapshot the object its relative word points at.  Every
 * read of a container's word goes through here, so the same code reads
 * heap and mapped containers (docs/design.md, "Mapped snapshots"). */
static inline ch_val ch_word(const ch_val *w)
{
    ch_val v = *w;
    if ((v & CH_TAG_MASK) >= CH_TAG_REL) {
        uintptr_t target = (uintptr_t)w + (uintptr_t)(v & ~CH_TAG_MASK);
        v = (v & CH_TAG_MASK) == CH_TAG_REL ? (ch_val)target : *(const ch_val *)target;
    }
    return v;
}

/* --- memory: every native byte is counted -------------------------------- */

void *ch_alloc(size_t size);            /* NULL on failure */
void ch_free(void *p, size_t size);     /* size must be what was allocated */
void *ch_realloc(void *p, size_t old_size, size_t new_size);
int64_t ch_native_bytes(void);          /* bytes currently allocated */
/* Moves `bytes` of an allocation in (+) or out (-) of the count: for memory
 * a cache keeps for reuse, which holds no value (shape.c). */
void ch_count_bytes(int64_t bytes);

/* ch_alloc that never uses the test arena (arena.h): for process-wide
 * objects such as shapes, which any later build may take references on. */
void *ch_alloc_outside_arena(size_t size);

/* Grows the malloc'd scratch array *buf (of *cap items of `size` bytes,
 * not counted as native memory) to hold `need` items, doubling; false when
 * out of memory (*buf is then as it was). */
bool ch_grow_scratch(void **buf, size_t *cap, size_t need, size_t size);

/* Allocate a heap object with refcount 1. */
void *ch_new_object(size_t size, ch_type type);

/* Size in bytes of a live heap object (what ch_free needs). */
size_t ch_object_size(const ch_head *o);

/* The words of `o` that hold references (*n of them), or NULL. */
ch_val *ch_owned_words(ch_head *o, size_t *n);

/* --- reference counting ---------------------------------------------------- */

/* The count of every object in a mapped snapshot: such an object lives as
 * long as its mapping, whose CH_SNAPSHOT object is counted instead, and its
 * read-only page must never be written. */
#define CH_REFCNT_MAPPED UINT32_MAX

static inline bool ch_is_mapped(const ch_head *o)
{
    return atomic_load_explicit(&((ch_head *)o)->refcnt, memory_order_relaxed) == CH_REFCNT_MAPPED;
}

static inline void ch_incref(ch_val v)
{
    if (ch_is_ptr(v) && !ch_is_mapped(ch_ptr(v)))
        atomic_fetch_add_explicit(&ch_ptr(v)->refcnt, 1, memory_order_relaxed);
}

/* Takes a reference unless the count already reached zero (the object is
 * being freed): for registries that list objects without owning them. */
static inline bool ch_incref_if_alive(ch_head *o)
{
    uint32_t n = atomic_load_explicit(&o->refcnt, memory_order_relaxed);
    while (n != 0)
        if (atomic_compare_exchange_weak_explicit(&o->refcnt, &n, n + 1, memory_order_acquire, memory_order_relaxed))
            return true;
    return false;
}

/* Frees `o` and everything only it kept alive, without recursion. */
void ch_release(ch_head *o);

static inline void ch_decref(ch_val v)
{
    if (ch_is_ptr(v) && !ch_is_mapped(ch_ptr(v))) {
        ch_head *o = ch_ptr(v);
        if (atomic_fetch_sub_explicit(&o->refcnt, 1, memory_order_release) == 1) {
            atomic_thread_fence(memory_order_acquire);
            ch_release(o);
        }
    }
}

/* True when the caller's reference is the only one, so it may edit in place. */
static inline bool ch_is_unique(const ch_head *o)
{
    return atomic_load_explicit(&((ch_head *)o)->refcnt, memory_order_acquire) == 1;
}

#endif
