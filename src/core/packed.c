/*
 * Packed values (packed.h): the items a record's fields are made of.
 *
 * An item is a tag byte and a payload, unaligned, read in place:
 *
 *   0x00..0x7f   the int itself (ages, counts, flags: most record ints)
 *   0x80..0x82   None, False, True
 *   0x83..0x86   an int in 1, 2, 4 or 8 bytes (small ints only: bigger ones
 *                are extern big ints)
 *   0x87         a float, 8 bytes
 *   0x88         an extern: a u16, how far back the record's word holding it
 *                is (so an item needs no base address to be read)
 *   0x89         a str: its flag byte, a u32 length in code units, the units
 *                (2- and 4-byte units start at a multiple of their size:
 *                zero bytes pad the length up to it)
 *   0x8a, 0x8b   a list, a tuple: a u16 count n, then n + 1 u16 offsets from
 *                the tag byte (where each item starts and where the last
 *                ends), then the items
 *   0x8d         bytes: a u32 length, then the bytes
 *   0x8e, 0x8f   a set, a frozenset: as a list, its items in hash order
 *   0x8c         a record: zero bytes up to a multiple of 8, then a record
 *                object (map.h) whose count is 0 and whose externs are
 *                the outer record's, so reading it is reading a record
 *   0xa0..0xbf   an ASCII str of 0..31 characters, then its bytes
 *
 * So the 5-field record `{"name": "user 7", "email": "user7@example.com",
 * "age": 27, "active": False, "tags": ["t0", "g7"]}` is 7 + 18 + 1 + 1 + 13
 * bytes of items after a 22-byte head (record header, shape, offset table),
 * where slots of 8-byte words and separate objects took 200.  Sequences
 * carry offsets so that item i is found in O(1); the offsets are relative,
 * so a packed value can be copied or, later, mapped from a file as it is.
 */
#include <stdlib.h>

#include "copy.h"
#include "map.h"
#include "packed.h"
#include "value.h"

static int pack_item(ch_packer *pk, const uint8_t *p);

/* --- reading ----------------------------------------------------------------- */

static ch_val share(ch_val v, void *unused)
{
    if (ch_is_ptr(v) && ch_is_mapped(ch_ptr(v))) /* never a reference on a mapped page (copy.h) */
        return ch_copy_or_share(v, CH_COPY_LIMIT);
    ch_incref(v);
    return v;
}

ch_val ch_unpack(ch_val v) { return ch_unpack_with(v, share, NULL); }

/* A record on its own equal to `r`, a record inside another: its items as
 * they are (pack_item), so it takes the externs it took inside. */
static ch_val repack_record(const ch_record *r, ch_val (*keep)(ch_val, void *), void *ctx)
{
    ch_packer pk;
    ch_packer_init_with(&pk, keep, ctx);
    ch_shape *shape = (ch_shape *)ch_record_shape(r);
    uint32_t starts[CH_RECORD_MAX];
    int rc = 0;
    for (uint32_t i = 0; rc == 0 && i < shape->len; i++) {
        starts[i] = (uint32_t)pk.len;
        rc = pack_item(&pk, (const uint8_t *)r + ch_record_offset(r, i));
    }
    ch_map *copy = NULL;
    if (rc == 0) {
        ch_incref(ch_from_ptr(shape));
        copy = (ch_map *)ch_record_from_packer(shape, starts, &pk, r->h.aux);
    }
    ch_packer_done(&pk);
    if (rc == 1) { /* items placed otherwise than inside no longer fit: the same entries as a HAMT */
        ch_node *root;
        if (ch_map_hamt_root_with((const ch_map *)r, &root, keep, ctx) == 0 &&
            (copy = ch_map_new(root, shape->len, r->h.aux)) == NULL)
            ch_decref(ch_from_ptr(root));
    }
    return copy != NULL ? ch_from_ptr(copy) : CH_NOVALUE;
}

ch_val ch_repack(ch_val v, ch_val (*keep)(ch_val, void *), void *ctx)
{
    const ch_head *o = ch_ptr(v);
    if (o->type == CH_MAP)
        return repack_record((const ch_record *)o, keep, ctx);
    const ch_packed_seq *s = (const ch_packed_seq *)o;
    ch_packer pk;
    ch_packer_init_with(&pk, keep, ctx);
    ch_val copy = CH_NOVALUE;
    int rc = pack_item(&pk, (const uint8_t *)s + s->at);
    if (rc == 0)
        copy = ch_packed_seq_new(&pk, o->type, o->flags & ~CH_SEQ_PACKED, o->aux);
    ch_packer_done(&pk);
    if (rc == 1) /* no longer fits packed: a heap sequence */
        copy = ch_unpack_with(ch_packed_word((const uint8_t *)s + s->at), keep, ctx);
    return copy;
}

ch_val ch_unpack_with(ch_val v, ch_val (*keep)(ch_val, void *), void *ctx)
{
    if (!ch_is_inside(v))
        return keep(v, ctx);
    if (!ch_is_packed(v))
        return repack_record((const ch_record *)ch_ptr(v), keep, ctx);
    switch (ch_kind(v)) {
    case CH_FLOAT:
        return ch_float_new(ch_float_of(v));
    case CH_STR: {
        ch_text t = ch_str_text(v);
        return ch_str_new(t.flags, t.data, t.len);
    }
    case CH_BYTES: {
        ch_text t = ch_str_text(v);
        return ch_bytes_new(t.data, t.len);
    }
    default: { /* the items of a set keep their order: their hashes are the same */
        ch_items items = ch_items_of(v);
        ch_seq *s = ch_seq_new((ch_type)items.type, items.len);
        if (s == NULL)
            return CH_NOVALUE;
        s->h.flags = (uint8_t)items.flags;
        unsigned depth = 0;
        for (uint32_t i = 0; i < items.len; i++) {
            ch_val item = ch_unpack_with(ch_items_at(&items, i), keep, ctx);
            if (item == CH_NOVALUE) {
                ch_decref(ch_from_ptr(s));
                return CH_NOVALUE;
            }
            s->items[i] = item;
            if (ch_depth(item) > depth)
                depth = ch_depth(item);
        }
        s->h.aux = (uint16_t)(depth + 1);
        return ch_from_ptr(s);
    }
    }
}

/* --- writing ----------------------------------------------------------------- */

void ch_packer_init_with(ch_packer *pk, ch_val (*keep)(ch_val, void *), void *ctx)
{
    pk->buf = pk->room;
    pk->len = 0;
    pk->cap = sizeof pk->room;
    pk->nextern = 0;
    pk->align = 1;
    pk->keep = keep;
    pk->keep_ctx = ctx;
}

void ch_packer_init(ch_packer *pk) { ch_packer_init_with(pk, share, NULL); }

void ch_pack_undo(ch_packer *pk, ch_pack_mark mark)
{
    while (pk->nextern > mark.nextern)
        ch_decref(pk->externs[--pk->nextern]);
    pk->len = mark.len;
}

void ch_packer_done(ch_packer *pk)
{
    ch_pack_undo(pk, (ch_pack_mark){0, 0});
    if (pk->buf != pk->room)
        free(pk->buf);
    pk->buf = pk->room;
}

/* Room for `n` more bytes at the end; their address, or NULL. */
static uint8_t *grow(ch_packer *pk, size_t n)
{
    if (pk->len + n > pk->cap) {
        size_t cap = pk->cap * 2 > pk->len + n ? pk->cap * 2 : pk->len + n;
        uint8_t *buf = pk->buf == pk->room ? malloc(cap) : realloc(pk->buf, cap);
        if (buf == NULL)
            return NULL;
        if (pk->buf == pk->room)
            memcpy(buf, pk->room, pk->len);
        pk->buf = buf;
        pk->cap = cap;
    }
    uint8_t *at = pk->buf + pk->len;
    pk->len += n;
    return at;
}

static int put(ch_packer *pk, uint8_t tag, const void *payload, size_t n)
{
    uint8_t *at = grow(pk, 1 + n);
    if (at == NULL)
        return -1;
    *at = tag;
    if (n > 0)
        memcpy(at + 1, payload, n);
    return 0;
}

int ch_pack_int(ch_packer *pk, int64_t i)
{
    if (i >= 0 && i < 0x80)
        return put(pk, (uint8_t)i, NULL, 0);
    if (i >= INT8_MIN && i <= INT8_MAX) {
        int8_t x = (int8_t)i;
        return put(pk, CH_PK_INT8, &x, 1);
    }
    if (i >= INT16_MIN && i <= INT16_MAX) {
        int16_t x = (int16_t)i;
        return put(pk, CH_PK_INT16, &x, 2);
    }
    if (i >= INT32_MIN && i <= INT32_MAX) {
        int32_t x = (int32_t)i;
        return put(pk, CH_PK_INT32, &x, 4);
    }
    return put(pk, CH_PK_INT64, &i, 8);
}

int ch_pack_const(ch_packer *pk, ch_val v)
{
    return put(pk, v == CH_NONE ? CH_PK_NONE : v == CH_TRUE ? CH_PK_TRUE : CH_PK_FALSE, NULL, 0);
}

int ch_pack_float(ch_packer *pk, double d) { return put(pk, CH_PK_FLOAT, &d, sizeof d); }

int ch_pack_str_any(ch_packer *pk, int flags, const void *data, size_t len)
{
    size_t nbytes = len * (flags == CH_STR_ASCII ? 1 : (size_t)flags);
    if (flags == CH_STR_ASCII && len <= CH_PK_ASCII_MAX)
        return put(pk, (uint8_t)(CH_PK_ASCII + len), data, len);
    /* Code units wider than a byte are aligned for their readers, by zero
     * bytes after the length: the record starts its items at a multiple of
     * 4 (ch_record_from_packer), so an offset here is one in memory. */
    size_t width = flags == CH_STR_ASCII ? 1 : (size_t)flags, pad = (width - (pk->len + 6) % width) % width;
    if (width > 1 && pk->align < 4)
        pk->align = 4;
    uint8_t *at = grow(pk, 6 + pad + nbytes);
    if (at == NULL)
        return -1;
    uint32_t n = (uint32_t)len;
    at[0] = CH_PK_STR;
    at[1] = (uint8_t)flags;
    memcpy(at + 2, &n, sizeof n);
    memset(at + 6, 0, pad);
    memcpy(at + 6 + pad, data, nbytes);
    return 0;
}

int ch_pack_bytes(ch_packer *pk, const void *data, size_t len)
{
    uint8_t *at = grow(pk, 5 + len);
    if (at == NULL)
        return -1;
    uint32_t n = (uint32_t)len;
    at[0] = CH_PK_BYTES;
    memcpy(at + 1, &n, sizeof n);
    memcpy(at + 5, data, len);
    return 0;
}

int ch_pack_extern(ch_packer *pk, ch_val v)
{
    if (pk->nextern == CH_PACK_MAX_EXTERNS) {
        ch_decref(v);
        return 1;
    }
    if (put(pk, CH_PK_EXTERN, "\0\0", 2) < 0) { /* the distance is known once the record is laid out */
        ch_decref(v);
        return -1;
    }
    pk->extern_at[pk->nextern] = (uint16_t)(pk->len - 3);
    pk->externs[pk->nextern++] = v;
    return 0;
}

/* Makes the record own `v` (stolen) with no item referring to it. */
static int own(ch_packer *pk, ch_val v)
{
    if (pk->nextern == CH_PACK_MAX_EXTERNS) {
        ch_decref(v);
        return 1;
    }
    pk->extern_at[pk->nextern] = CH_PACK_OWNED;
    pk->externs[pk->nextern++] = v;
    return 0;
}

int ch_pack_seq_begin(ch_packer *pk, ch_pack_seq *s, int type, int flags, uint32_t n)
{
    s->start = pk->len;
    s->nextern = pk->nextern;
    s->n = n;
    s->i = 0;
    uint8_t *at = grow(pk, 3 + 2 * ((size_t)n + 1));
    if (at == NULL)
        return -1;
    uint16_t count = (uint16_t)n;
    at[0] = type == CH_LIST    ? CH_PK_LIST
            : type == CH_TUPLE ? CH_PK_TUPLE
            : flags & CH_SET_FROM_SET ? CH_PK_SET
                                      : CH_PK_FROZENSET;
    memcpy(at + 1, &count, sizeof count);
    return 0;
}

static void set_offset(ch_packer *pk, ch_pack_seq *s, uint32_t i)
{
    uint16_t offset = (uint16_t)(pk->len - s->start);
    memcpy(pk->buf + s->start + 3 + 2 * (size_t)i, &offset, sizeof offset);
}

void ch_pack_seq_item(ch_packer *pk, ch_pack_seq *s) { set_offset(pk, s, s->i++); }

void ch_pack_seq_end(ch_packer *pk, ch_pack_seq *s) { set_offset(pk, s, s->n); }

/* A list, tuple or set (heap or packed), item by item; 1 when it does not fit. */
static int pack_seq(ch_packer *pk, ch_val v)
{
    ch_items items = ch_items_of(v);
    ch_pack_mark mark = ch_pack_here(pk);
    ch_pack_seq s;
    int rc = ch_pack_seq_begin(pk, &s, items.type, items.flags, items.len);
    for (uint32_t i = 0; rc == 0 && i < items.len; i++) {
        ch_pack_seq_item(pk, &s);
        rc = ch_pack_value(pk, ch_items_at(&items, i));
    }
    if (rc == 0 && !ch_pack_seq_fits(pk, &s))
        rc = 1;
    if (rc != 0)
        ch_pack_undo(pk, mark);
    else
        ch_pack_seq_end(pk, &s);
    return rc;
}

/* A record's fields, item by item as they are (pack_item), behind its
 * header at `start`; 0, -1 or 1 as ch_pack_record. */
static int pack_record_items(ch_packer *pk, const ch_record *src, size_t start)
{
    uint32_t n = ch_record_shape(src)->len;
    int rc = 0;
    for (uint32_t i = 0; rc == 0 && i <= n; i++) {
        uint16_t at = (uint16_t)(pk->len - start);
        memcpy(pk->buf + start + sizeof(ch_record) + 2 * (size_t)i, &at, sizeof at);
        if (i < n)
            rc = pack_item(pk, (const uint8_t *)src + ch_record_offset(src, i));
    }
    return rc;
}

int ch_pack_record(ch_packer *pk, const ch_head *o)
{
    const ch_record *src = (const ch_record *)o;
    uint32_t n = ch_record_shape(src)->len;
    ch_pack_mark mark = ch_pack_here(pk);
    size_t pad = (8 - (pk->len + 1) % 8) % 8;
    if (grow(pk, 1 + pad + sizeof(ch_record) + 2 * ((size_t)n + 1)) == NULL)
        return -1;
    pk->align = 8; /* the record object must sit at a multiple of 8 in memory */
    size_t start = mark.len + 1 + pad;
    pk->buf[mark.len] = CH_PK_RECORD;
    memset(pk->buf + mark.len + 1, 0, pad);
    ch_val shape = ch_from_ptr(ch_record_shape(src));
    ch_record head = {{0, CH_MAP, CH_MAP_RECORD | CH_RECORD_WIDE, src->h.aux}, shape};
    memcpy(pk->buf + start, &head, sizeof head); /* count 0: inside this record (ch_is_inside) */
    ch_incref(shape);
    int rc = own(pk, shape);
    if (rc == 0)
        rc = pack_record_items(pk, src, start);
    if (rc == 0 && (pk->len - start > CH_PACK_SEQ_BYTES || pk->len > CH_PACK_MAX_BYTES))
        rc = 1;
    if (rc != 0)
        ch_pack_undo(pk, mark);
    return rc;
}

/* The item at `p` as it is: an extern stays an extern (made by `keep`),
 * a container keeps its items' forms, so a copy takes exactly the externs
 * its original took. */
static int pack_item(ch_packer *pk, const uint8_t *p)
{
    switch (*p) {
    case CH_PK_EXTERN: {
        if (pk->nextern == CH_PACK_MAX_EXTERNS)
            return 1;
        ch_val ref = pk->keep(ch_packed_value(p), pk->keep_ctx);
        return ref == CH_NOVALUE ? -1 : ch_pack_extern(pk, ref);
    }
    case CH_PK_RECORD:
        return ch_pack_record(pk, ch_ptr(ch_packed_value(p)));
    case CH_PK_LIST:
    case CH_PK_TUPLE:
    case CH_PK_SET:
    case CH_PK_FROZENSET: {
        ch_items items = ch_items_of(ch_packed_word(p));
        ch_pack_mark mark = ch_pack_here(pk);
        ch_pack_seq s;
        int rc = ch_pack_seq_begin(pk, &s, items.type, items.flags, items.len);
        for (uint32_t i = 0; rc == 0 && i < items.len; i++) {
            ch_pack_seq_item(pk, &s);
            rc = pack_item(pk, p + ch_load_u16(p + 3 + 2 * (size_t)i));
        }
        if (rc != 0)
            ch_pack_undo(pk, mark);
        else
            ch_pack_seq_end(pk, &s);
        return rc;
    }
    default: /* a scalar, str, bytes or float */
        return ch_pack_value(pk, ch_packed_value(p));
    }
}

void ch_pack_place(ch_packer *pk, uint8_t *object, size_t head, ch_val *words)
{
    memcpy(object + head, pk->buf, pk->len);
    for (unsigned j = 0; j < pk->nextern; j++) { /* each extern item: how far back its word is */
        words[j] = pk->externs[j];
        if (pk->extern_at[j] == CH_PACK_OWNED)
            continue;
        size_t item = head + pk->extern_at[j], word = (size_t)((uint8_t *)&words[j] - object);
        memcpy(object + item + 1, &(uint16_t){(uint16_t)(item - word)}, 2);
    }
    pk->nextern = 0; /* the object's now */
}

ch_val ch_packed_seq_new(ch_packer *pk, int type, int flags, uint16_t depth)
{
    size_t words = sizeof(ch_packed_seq) + pk->nextern * sizeof(ch_val);
    size_t head = (words + pk->align - 1) & ~(size_t)(pk->align - 1);
    ch_packed_seq *s = ch_new_object(head + pk->len, (ch_type)type);
    if (s == NULL)
        return CH_NOVALUE;
    memset((uint8_t *)s + words, 0, head - words); /* saved as it is (snapshots): no stray bytes */
    s->h.flags = (uint8_t)(flags | CH_SEQ_PACKED);
    s->h.aux = depth;
    s->size = (uint32_t)(head + pk->len);
    s->nextern = (uint16_t)pk->nextern;
    s->at = (uint16_t)head;
    ch_pack_place(pk, (uint8_t *)s, head, s->ext);
    return ch_from_ptr(s);
}

ch_val ch_seq_pack(ch_val v)
{
    const ch_seq *src = (const ch_seq *)ch_ptr(v);
    if (src->len > CH_PACK_SEQ_MAX)
        return v;
    ch_packer pk;
    ch_packer_init(&pk);
    ch_val out = v;
    if (pack_seq(&pk, v) == 0) {
        out = ch_packed_seq_new(&pk, src->h.type, src->h.flags, src->h.aux);
        ch_decref(v);
    }
    ch_packer_done(&pk);
    return out;
}

int ch_pack_value(ch_packer *pk, ch_val v)
{
    if (ch_is_smallint(v))
        return ch_pack_int(pk, ch_smallint_value(v));
    switch (ch_kind(v)) {
    case 0:
        return ch_pack_const(pk, v);
    case CH_FLOAT:
        return ch_pack_float(pk, ch_float_of(v));
    case CH_STR: {
        ch_text t = ch_str_text(v);
        if (ch_pack_str_fits(pk, (size_t)t.len * ch_text_width(t)))
            return ch_pack_str(pk, t.flags, t.data, t.len);
        break;
    }
    case CH_BYTES: {
        ch_text t = ch_str_text(v);
        if (!(t.flags & CH_BYTES_FROM_BUFFER) && t.len <= CH_PACK_STR_BYTES && pk->len + 5 + t.len <= CH_PACK_MAX_BYTES)
            return ch_pack_bytes(pk, t.data, t.len);
        break;
    }
    case CH_LIST:
    case CH_TUPLE:
    case CH_SET:
        if (ch_items_of(v).len <= CH_PACK_SEQ_MAX) {
            int rc = pack_seq(pk, v);
            if (rc <= 0)
                return rc;
        }
        break;
    case CH_MAP:
        if (ch_map_is_record((const ch_map *)ch_ptr(v))) {
            int rc = ch_pack_record(pk, ch_ptr(v));
            if (rc <= 0)
                return rc;
        }
        break;
    default:
        break;
    }
    if (pk->nextern == CH_PACK_MAX_EXTERNS)
        return 1;
    ch_val ref = ch_is_inside(v) ? ch_unpack_with(v, pk->keep, pk->keep_ctx) : pk->keep(v, pk->keep_ctx);
    return ref == CH_NOVALUE ? -1 : ch_pack_extern(pk, ref);
}
