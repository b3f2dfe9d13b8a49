/*
 * Packed values: the byte encoding of a record's fields (see packed.c).
 *
 * A record (map.h) stores its values as a run of *items*, each a tag byte
 * and its payload, read in place.  Reading one gives a ch_val: small ints,
 * None and booleans as the usual immediate words, a heap object the record
 * holds (an *extern*) as its pointer, and anything else -- a str, a float,
 * a list or tuple -- as a *packed* word: tag 011 with the item's address
 * above it.  A packed word is borrowed from the record that holds the item
 * and is never stored: whatever keeps a value beyond the read calls
 * ch_unpack (or ch_copy_or_share) for a heap equivalent.
 *
 * Code that takes apart a value that may be packed goes through the
 * accessors below (ch_kind, ch_str_text, ch_float_of, ch_items), which serve
 * heap and packed values alike.
 */
#ifndef COHIVE_CORE_PACKED_H
#define COHIVE_CORE_PACKED_H

#include <string.h>

#include "object.h"

#define CH_TAG_PACKED ((ch_val)3)

/* Item tags.  0x00..0x7f are the ints 0..127 themselves. */
enum {
    CH_PK_NONE = 0x80,
    CH_PK_FALSE = 0x81,
    CH_PK_TRUE = 0x82,
    CH_PK_INT8 = 0x83, /* then the int, little endian, in 1, 2, 4 or 8 bytes */
    CH_PK_INT16 = 0x84,
    CH_PK_INT32 = 0x85,
    CH_PK_INT64 = 0x86,
    CH_PK_FLOAT = 0x87,  /* then 8 bytes of double */
    CH_PK_EXTERN = 0x88, /* then a u16: how many bytes back the extern's word is */
    CH_PK_STR = 0x89,    /* then the str flag byte, a u32 length, the code units
                            (aligned to their width: latin1 is width 1) */
    CH_PK_LIST = 0x8a,   /* then a u16 count n and n + 1 u16 offsets from the tag */
    CH_PK_TUPLE = 0x8b,  /*   byte: where each item starts, and where the last ends */
    CH_PK_RECORD = 0x8c, /* then zero bytes to a multiple of 8, then a record (map.h) */
    CH_PK_BYTES = 0x8d,  /* then a u32 length and the bytes */
    CH_PK_SET = 0x8e,    /* a set, a frozenset: as a list, the items in the order */
    CH_PK_FROZENSET = 0x8f, /*   of their hashes (as a heap set's) */
    CH_PK_ASCII = 0xa0,  /* 0xa0 + length (0..31), then that many ASCII bytes */
    CH_PK_ASCII_MAX = 31,
};

static inline bool ch_is_packed(ch_val v) { return (v & CH_TAG_MASK) == CH_TAG_PACKED; }
static inline const uint8_t *ch_packed_item(ch_val v) { return (const uint8_t *)(uintptr_t)(v >> 3); }
static inline ch_val ch_packed_word(const uint8_t *item) { return ((ch_val)(uintptr_t)item << 3) | CH_TAG_PACKED; }

static inline uint16_t ch_load_u16(const uint8_t *p)
{
    uint16_t x;
    memcpy(&x, p, sizeof x);
    return x;
}

/* The value of the item at `p`: an immediate word, a borrowed extern, or a
 * packed word. */
static inline ch_val ch_packed_value(const uint8_t *p)
{
    uint8_t tag = *p;
    if (tag < 0x80)
        return ((ch_val)tag << 3) | CH_TAG_INT;
    switch (tag) {
    case CH_PK_NONE:
        return CH_NONE;
    case CH_PK_FALSE:
        return CH_FALSE;
    case CH_PK_TRUE:
        return CH_TRUE;
    case CH_PK_INT8:
        return ((ch_val)(int64_t)(int8_t)p[1] << 3) | CH_TAG_INT;
    case CH_PK_INT16: {
        int16_t x;
        memcpy(&x, p + 1, sizeof x);
        return ((ch_val)(int64_t)x << 3) | CH_TAG_INT;
    }
    case CH_PK_INT32: {
        int32_t x;
        memcpy(&x, p + 1, sizeof x);
        return ((ch_val)(int64_t)x << 3) | CH_TAG_INT;
    }
    case CH_PK_INT64: {
        int64_t x;
        memcpy(&x, p + 1, sizeof x);
        return ((ch_val)x << 3) | CH_TAG_INT;
    }
    case CH_PK_EXTERN: /* the word is one of the record's externs, so aligned */
        return ch_word((const ch_val *)(const void *)(p - ch_load_u16(p + 1)));
    case CH_PK_RECORD: /* a record object inside this one: a pointer, but never counted */
        return (ch_val)(((uintptr_t)p + 8) & ~(uintptr_t)7);
    default:
        return ch_packed_word(p);
    }
}

/* The type of any value: a heap object's, or the one a packed item stands
 * for (CH_STR, CH_BYTES, CH_FLOAT, CH_LIST, CH_TUPLE or CH_SET); 0 for
 * immediates. */
static inline int ch_kind(ch_val v)
{
    if (ch_is_packed(v)) {
        switch (*ch_packed_item(v)) {
        case CH_PK_FLOAT:
            return CH_FLOAT;
        case CH_PK_LIST:
            return CH_LIST;
        case CH_PK_TUPLE:
            return CH_TUPLE;
        case CH_PK_BYTES:
            return CH_BYTES;
        case CH_PK_SET:
        case CH_PK_FROZENSET:
            return CH_SET;
        default:
            return CH_STR;
        }
    }
    return ch_is_ptr(v) ? ch_ptr(v)->type : 0;
}

/* A str's (or bytes') code units: `flags` as ch_str's, `len` code units. */
typedef struct {
    int flags;
    uint32_t len;
    const unsigned char *data;
} ch_text;

static inline unsigned ch_text_width(ch_text t) { return t.flags == CH_STR_ASCII ? 1 : (unsigned)t.flags; }

/* The text of a str or bytes value, heap or packed (a bytes' flags are its
 * heap flags, 0 when packed). */
static inline ch_text ch_str_text(ch_val v)
{
    if (ch_is_packed(v)) {
        const uint8_t *p = ch_packed_item(v);
        uint32_t len;
        if (*p == CH_PK_BYTES) {
            memcpy(&len, p + 1, sizeof len);
            return (ch_text){0, len, p + 5};
        }
        if (*p != CH_PK_STR)
            return (ch_text){CH_STR_ASCII, (uint32_t)(*p - CH_PK_ASCII), p + 1};
        memcpy(&len, p + 2, sizeof len);
        uintptr_t data = (uintptr_t)(p + 6), width = p[1] == CH_STR_ASCII ? 1 : p[1];
        return (ch_text){p[1], len, (const unsigned char *)((data + width - 1) & ~(width - 1))};
    }
    const ch_str *s = (const ch_str *)ch_ptr(v);
    return (ch_text){s->h.flags, s->len, s->data};
}

/* The value of a float, heap or packed. */
static inline double ch_float_of(ch_val v)
{
    if (!ch_is_packed(v))
        return ((const ch_float *)ch_ptr(v))->value;
    double d;
    memcpy(&d, ch_packed_item(v) + 1, sizeof d);
    return d;
}

/* A list, tuple or set frozen on its own, packed (ch_seq_pack): one object
 * holding the externs of its items and one packed sequence item.  Its
 * flags add CH_SEQ_PACKED to a set's CH_SET_FROM_SET. */
enum { CH_SEQ_PACKED = 0x80 };

/* A record or packed sequence: an object whose items lie inside it. */
static inline bool ch_is_packed_object(const ch_head *o)
{
    return (o->type == CH_MAP && (o->flags & CH_MAP_RECORD)) ||
           ((o->type == CH_LIST || o->type == CH_TUPLE || o->type == CH_SET) && (o->flags & CH_SEQ_PACKED));
}

typedef struct {
    ch_head h;        /* CH_LIST, CH_TUPLE or CH_SET */
    uint32_t size;    /* bytes of the whole object */
    uint16_t nextern;
    uint16_t at;      /* where the packed sequence item starts */
    ch_val ext[];
} ch_packed_seq;

/* The items of a tuple, list or set, heap or packed. */
typedef struct {
    int type;
    int flags; /* a set's CH_SET_FROM_SET */
    uint32_t len;
    const ch_val *heap;   /* a heap sequence's items, or NULL */
    const uint8_t *packed; /* a packed one's tag byte */
} ch_items;

static inline ch_items ch_items_of(ch_val v)
{
    if (ch_is_packed(v)) {
        const uint8_t *p = ch_packed_item(v);
        int type = *p == CH_PK_LIST ? CH_LIST : *p == CH_PK_TUPLE ? CH_TUPLE : CH_SET;
        return (ch_items){type, *p == CH_PK_SET ? CH_SET_FROM_SET : 0, ch_load_u16(p + 1), NULL, p};
    }
    const ch_seq *s = (const ch_seq *)ch_ptr(v);
    if (s->h.flags & CH_SEQ_PACKED)
        return ch_items_of(ch_packed_word((const uint8_t *)s + ((const ch_packed_seq *)s)->at));
    return (ch_items){s->h.type, s->h.flags, s->len, s->items, NULL};
}

static inline ch_val ch_items_at(const ch_items *s, uint32_t i)
{
    if (s->heap != NULL)
        return ch_word(&s->heap[i]);
    return ch_packed_value(s->packed + ch_load_u16(s->packed + 3 + 2 * (size_t)i));
}

/* Whether `v` lives inside a record: a packed word, or a record nested in
 * another (never reference counted, so never to be stored as it is). */
static inline bool ch_is_inside(ch_val v)
{
    return ch_is_packed(v) ||
           (ch_is_ptr(v) && atomic_load_explicit(&ch_ptr(v)->refcnt, memory_order_relaxed) == 0);
}

/* A new reference to a heap value equal to `v` (for a value inside a
 * record a copy, for anything else `v` itself); CH_NOVALUE when out of
 * memory. */
ch_val ch_unpack(ch_val v);
/* The same, with `keep(x, ctx)` making the reference for every value that
 * is not packed (the externs and immediates inside `v`, or `v` itself). */
ch_val ch_unpack_with(ch_val v, ch_val (*keep)(ch_val, void *), void *ctx);

/* A new heap copy of the record or packed sequence object `v` (a mapped
 * one: its nested records' shape words are relative), its externs made by
 * `keep`; CH_NOVALUE when out of memory. */
ch_val ch_repack(ch_val v, ch_val (*keep)(ch_val, void *), void *ctx);

/* --- writing ---------------------------------------------------------------- */

/* Packs items into a growing buffer, collecting the externs they refer to;
 * map.c makes a record of the result (ch_record_from_packer).  Every
 * function returns 0, or -1 when out of memory (the packer is then failed,
 * and ch_packer_done still releases it). */
#define CH_PACK_MAX_EXTERNS 63
/* The items' bytes that packing checks against (strs, bytes, lists, sets,
 * records), leaving room within 16-bit offsets for the record's head and
 * for what is packed unchecked after the last check: a scalar or extern
 * reference per field at most. */
#define CH_PACK_MAX_BYTES (0xffff - 2048)
#define CH_PACK_HEAD_MAX (16 + 8 * 63 + 2 * 65 + 7)
_Static_assert(CH_PACK_MAX_BYTES + 64 * 9 + CH_PACK_HEAD_MAX <= 0xffff, "a record's offsets fit 16 bits");
/* Strs of more code unit bytes, and lists and tuples that would pack to
 * more bytes, stay heap objects (externs).  A list read from a record is
 * copied wherever it is stored, so packed ones stay small enough to copy
 * (copy.h); a big str is read by copying its text anyway. */
#define CH_PACK_STR_BYTES 512
#define CH_PACK_SEQ_BYTES 4096

typedef struct {
    uint8_t *buf;
    size_t len, cap;
    ch_val externs[CH_PACK_MAX_EXTERNS]; /* owned */
    uint16_t extern_at[CH_PACK_MAX_EXTERNS]; /* where each one's reference was written, or CH_PACK_OWNED */
    unsigned nextern;
    unsigned align; /* what the buffer's offsets are aligned for: 1, 4 (wide code units), 8 (records) */
    ch_val (*keep)(ch_val, void *); /* makes the reference of a value packed as an extern */
    void *keep_ctx;
    _Alignas(8) uint8_t room[512]; /* the buffer, until it needs more */
} ch_packer;

#define CH_PACK_OWNED 0xffff

/* A packer whose externs take a reference (share); ch_packer_init_with
 * makes them with `keep` instead. */
void ch_packer_init(ch_packer *pk);
void ch_packer_init_with(ch_packer *pk, ch_val (*keep)(ch_val, void *), void *ctx);
void ch_packer_done(ch_packer *pk); /* releases the buffer and the externs */

/* `i` must be a small int (ch_fits_smallint); bigger ones are extern big ints. */
int ch_pack_int(ch_packer *pk, int64_t i);
int ch_pack_const(ch_packer *pk, ch_val v); /* None, False or True */
int ch_pack_float(ch_packer *pk, double d);
int ch_pack_str_any(ch_packer *pk, int flags, const void *data, size_t len);
/* A str; short ASCII ones (most record fields) written here, without a call. */
static inline int ch_pack_str(ch_packer *pk, int flags, const void *data, size_t len)
{
    if (flags != CH_STR_ASCII || len > CH_PK_ASCII_MAX || pk->len + 1 + len > pk->cap)
        return ch_pack_str_any(pk, flags, data, len);
    uint8_t *at = pk->buf + pk->len;
    at[0] = (uint8_t)(CH_PK_ASCII + len);
    memcpy(at + 1, data, len);
    pk->len += 1 + len;
    return 0;
}
int ch_pack_bytes(ch_packer *pk, const void *data, size_t len); /* len at most CH_PACK_STR_BYTES */
/* An extern: steals the reference.  Returns 1 (having released it) when the
 * packer already holds CH_PACK_MAX_EXTERNS. */
int ch_pack_extern(ch_packer *pk, ch_val v);
/* Any value (heap, packed or inside a record): immediates, floats and strs
 * that fit packed, lists, tuples and records of at most CH_PACK_SEQ_MAX
 * items packed item by item when they fit in CH_PACK_SEQ_BYTES, the rest
 * externs (made by the packer's `keep`).  Returns 1 when the packer holds
 * CH_PACK_MAX_EXTERNS externs already, having written nothing. */
int ch_pack_value(ch_packer *pk, ch_val v);

/* Sequences: begin, then pack each item at the packer's offset `at` reports,
 * then end.  A sequence that does not fit is undone with ch_pack_undo. */
#define CH_PACK_SEQ_MAX 64
typedef struct {
    size_t start;
    unsigned nextern;
    uint32_t n, i;
} ch_pack_seq;

/* `type` CH_LIST, CH_TUPLE or CH_SET (with `flags` its CH_SET_FROM_SET). */
int ch_pack_seq_begin(ch_packer *pk, ch_pack_seq *s, int type, int flags, uint32_t n);
void ch_pack_seq_item(ch_packer *pk, ch_pack_seq *s); /* before each item */
void ch_pack_seq_end(ch_packer *pk, ch_pack_seq *s);

/* A record packed inside the one being built, from a record `r` (heap or
 * inside another): its items copied as they are (externs stay externs, made
 * by the packer's `keep`), its shape owned by the outer record.  0, -1 out
 * of memory, or 1 when it does not fit (nothing written). */
int ch_pack_record(ch_packer *pk, const ch_head *r);

/* Moves what the packer holds into `object`: its bytes to `head`, its
 * externs to `words` (the object's owned words), with each extern item's
 * distance back to its word. */
void ch_pack_place(ch_packer *pk, uint8_t *object, size_t head, ch_val *words);

/* A packed list, tuple or set object (ch_packed_seq) of the one sequence
 * item the packer holds, taking its externs; CH_NOVALUE out of memory. */
ch_val ch_packed_seq_new(ch_packer *pk, int type, int flags, uint16_t depth);

/* `v`, a heap list, tuple or set, packed into one object (a new reference,
 * `v`'s dropped), or `v` itself when it does not pack; CH_NOVALUE when out
 * of memory (`v` dropped). */
ch_val ch_seq_pack(ch_val v);

/* Where the packer stands, to go back to it (dropping externs taken since). */
typedef struct {
    size_t len;
    unsigned nextern;
} ch_pack_mark;

static inline ch_pack_mark ch_pack_here(const ch_packer *pk) { return (ch_pack_mark){pk->len, pk->nextern}; }
void ch_pack_undo(ch_packer *pk, ch_pack_mark mark);

/* Whether a str of `nbytes` code unit bytes is packed (else it is an extern). */
static inline bool ch_pack_str_fits(const ch_packer *pk, size_t nbytes)
{
    return nbytes <= CH_PACK_STR_BYTES && pk->len + 9 + nbytes <= CH_PACK_MAX_BYTES;
}

/* Whether the sequence `s` just packed may stay packed. */
static inline bool ch_pack_seq_fits(const ch_packer *pk, const ch_pack_seq *s)
{
    return pk->len - s->start <= CH_PACK_SEQ_BYTES && pk->len <= CH_PACK_MAX_BYTES;
}

#endif
