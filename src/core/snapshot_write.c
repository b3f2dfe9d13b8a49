/*
 * Saving a Map as a snapshot file (snapshot.h; docs/format.md): its native
 * objects copied depth first into one buffer, counts set to
 * CH_REFCNT_MAPPED, pointer words rewritten as distances (CH_TAG_REL), and
 * shape words as distances to the shape table the loader maps before the
 * file (CH_TAG_REL_TABLE), patched once the table's size is known.
 */
#include <stdlib.h>
#include <string.h>

#include "named.h"
#include "snapshot_format.h"
#include "value.h"

/* --- saving ------------------------------------------------------------------ */

typedef struct {
    ch_saved *out;
    size_t cap;
    /* The shapes met so far, in the order the file lists them, and an
     * open-addressed index from shape pointer to position + 1. */
    const ch_shape **shapes;
    uint32_t nshapes, shapes_cap;
    uint32_t *index;
    size_t index_slots;
    /* The offsets of shape words, patched once the table's size is known. */
    uint64_t *shape_words;
    size_t nshape_words, shape_words_cap;
    unsigned depth;
} writer;


/* Appends `n` bytes (zero padded to 8); their offset, or SIZE_MAX. */
static size_t put(writer *w, const void *data, size_t n)
{
    size_t at = w->out->len, end = at + ch_round8(n);
    if (!ch_grow_scratch((void **)&w->out->data, &w->cap, end, 1))
        return SIZE_MAX;
    memcpy(w->out->data + at, data, n);
    memset(w->out->data + at + n, 0, end - at - n);
    w->out->len = end;
    return at;
}

static void put_word(writer *w, size_t at, ch_val v) { memcpy(w->out->data + at, &v, sizeof v); }

static void set_mapped(writer *w, size_t at)
{
    uint32_t mapped = CH_REFCNT_MAPPED;
    memcpy(w->out->data + at + offsetof(ch_head, refcnt), &mapped, sizeof mapped);
}

/* The table position of `s`, adding it when new; -1 when out of memory. */
static int64_t shape_position(writer *w, const ch_shape *s)
{
    if (2 * ((size_t)w->nshapes + 1) > w->index_slots) {
        size_t slots = w->index_slots ? 2 * w->index_slots : 64;
        uint32_t *index = calloc(slots, sizeof *index);
        if (index == NULL)
            return -1;
        for (uint32_t i = 0; i < w->nshapes; i++) {
            size_t h = ((uintptr_t)w->shapes[i] >> 3) & (slots - 1);
            while (index[h] != 0)
                h = (h + 1) & (slots - 1);
            index[h] = i + 1;
        }
        free(w->index);
        w->index = index;
        w->index_slots = slots;
    }
    size_t h = ((uintptr_t)s >> 3) & (w->index_slots - 1);
    for (; w->index[h] != 0; h = (h + 1) & (w->index_slots - 1))
        if (w->shapes[w->index[h] - 1] == s)
            return w->index[h] - 1;
    size_t cap = w->shapes_cap;
    if (!ch_grow_scratch((void **)&w->shapes, &cap, (size_t)w->nshapes + 1, sizeof *w->shapes))
        return -1;
    w->shapes_cap = (uint32_t)cap;
    w->shapes[w->nshapes] = s;
    w->index[h] = ++w->nshapes;
    return w->nshapes - 1;
}

/* Notes that the word at `at` names shape `s` (patched at the end). */
static int shape_word(writer *w, size_t at, const ch_shape *s)
{
    int64_t pos = shape_position(w, s);
    if (pos < 0 || !ch_grow_scratch((void **)&w->shape_words, &w->shape_words_cap, w->nshape_words + 1, sizeof(uint64_t)))
        return -1;
    put_word(w, at, (ch_val)pos); /* the position, until the table's size is known */
    w->shape_words[w->nshape_words++] = at;
    return 0;
}

/* The records nested in the items at p[0..end) of the record copied at
 * `base` in the file: their shape words are the process's, to be renamed. */
static int nested_shapes(writer *w, const uint8_t *p, const uint8_t *src, size_t base);

static int item_shapes(writer *w, const uint8_t *item, const uint8_t *src, size_t base)
{
    if (*item == CH_PK_RECORD) {
        const ch_record *r = (const ch_record *)ch_ptr(ch_packed_value(item));
        size_t at = base + (size_t)((const uint8_t *)&r->shape - src);
        if (shape_word(w, at, ch_record_shape(r)) < 0)
            return -1;
        for (uint32_t i = 0; i < ch_record_shape(r)->len; i++)
            if (item_shapes(w, (const uint8_t *)r + ch_record_offset(r, i), src, base) < 0)
                return -1;
        return 0;
    }
    return nested_shapes(w, item, src, base);
}

static int nested_shapes(writer *w, const uint8_t *item, const uint8_t *src, size_t base)
{
    if (*item < CH_PK_LIST || *item > CH_PK_FROZENSET || *item == CH_PK_RECORD || *item == CH_PK_BYTES)
        return 0;
    uint16_t n = ch_load_u16(item + 1);
    for (uint32_t i = 0; i < n; i++)
        if (item_shapes(w, item + ch_load_u16(item + 3 + 2 * (size_t)i), src, base) < 0)
            return -1;
    return 0;
}

static ch_save_status unsupported(writer *w, int type)
{
    w->out->bad_type = type;
    return CH_SAVE_UNSUPPORTED;
}

static void push_step(writer *w, ch_val step, bool is_index)
{
    if (w->depth < CH_SAVE_PATH)
        w->out->path[w->depth] = (ch_save_step){step, is_index};
    w->depth++;
}

/* Where in the items at `p` the extern item whose word is `word` is: its
 * steps (keys, indexes) appended to steps[*n...]; false when not there. */
static bool find_extern(const uint8_t *p, const uint8_t *word, ch_save_step *steps, unsigned *n);

static bool find_in_record(const ch_record *r, const uint8_t *word, ch_save_step *steps, unsigned *n)
{
    const ch_shape *s = ch_record_shape(r);
    for (uint32_t i = 0; i < s->len; i++) {
        steps[*n] = (ch_save_step){s->keys[i], false};
        ++*n;
        if (*n < CH_SAVE_PATH && find_extern((const uint8_t *)r + ch_record_offset(r, i), word, steps, n))
            return true;
        --*n;
    }
    return false;
}

static bool find_extern(const uint8_t *p, const uint8_t *word, ch_save_step *steps, unsigned *n)
{
    if (*p == CH_PK_EXTERN)
        return p - ch_load_u16(p + 1) == word;
    if (*p == CH_PK_RECORD)
        return find_in_record((const ch_record *)ch_ptr(ch_packed_value(p)), word, steps, n);
    if (*p < CH_PK_LIST || *p > CH_PK_FROZENSET || *p == CH_PK_BYTES)
        return false;
    for (uint32_t i = 0; i < ch_load_u16(p + 1); i++) {
        steps[*n] = (ch_save_step){ch_smallint(i), true};
        ++*n;
        if (*n < CH_SAVE_PATH && find_extern(p + ch_load_u16(p + 3 + 2 * (size_t)i), word, steps, n))
            return true;
        --*n;
    }
    return false;
}

/* Puts the steps from the record or packed sequence `o` to its extern
 * `word` before the steps the failed extern recorded (which start at
 * `base`). */
static void steps_to_extern(writer *w, const ch_head *o, const ch_val *word, unsigned base)
{
    ch_save_step steps[CH_SAVE_PATH];
    unsigned k = 0;
    const uint8_t *target = (const uint8_t *)word;
    if (o->type == CH_MAP)
        find_in_record((const ch_record *)o, target, steps, &k);
    else
        find_extern((const uint8_t *)o + ((const ch_packed_seq *)o)->at, target, steps, &k);
    ch_save_step *path = w->out->path;
    for (unsigned i = CH_SAVE_PATH; i-- > base + k;) /* the child's steps move up */
        if (i - k < w->depth && i - k >= base)
            path[i] = path[i - k];
    for (unsigned i = 0; i < k && base + i < CH_SAVE_PATH; i++)
        path[base + i] = steps[i];
    w->depth += k;
}

static ch_save_status emit(writer *w, ch_val v, size_t *at);

/* Writes word i of the object copied at `obj` (its source `src`): an
 * immediate as it is, a pointer as the distance to the subtree emitted
 * next. */
static ch_save_status emit_word(writer *w, size_t word_at, ch_val v)
{
    if (!ch_is_ptr(v)) {
        put_word(w, word_at, v);
        return CH_SAVE_OK;
    }
    size_t child;
    ch_save_status st = emit(w, v, &child);
    if (st == CH_SAVE_OK)
        put_word(w, word_at, (ch_val)(child - word_at) | CH_TAG_REL);
    return st;
}

static ch_save_status emit(writer *w, ch_val v, size_t *at)
{
    ch_head *o = ch_ptr(v);
    if (ch_type_is_named(o->type) || o->type == CH_INSTANCE || o->type == CH_SHAPE || o->type == CH_SNAPSHOT)
        return unsupported(w, o->type);
    size_t size = ch_object_size(o);
    size_t off = put(w, o, size);
    if (off == SIZE_MAX)
        return CH_SAVE_NOMEM;
    *at = off;
    set_mapped(w, off);
    size_t n;
    ch_val *words = ch_owned_words(o, &n);
    bool packed = ch_is_packed_object(o);
    if (o->type == CH_MAP && !packed) {
        w->out->data[off + offsetof(ch_head, flags)] = 0; /* not CH_MAP_LOADED: a file's maps are plain */
        put_word(w, off + offsetof(ch_map, snapshot), CH_NOVALUE);
        n = 1; /* the root; the snapshot word stays empty */
    } else if (o->type == CH_MAP) {
        const ch_record *r = (const ch_record *)o;
        for (uint32_t i = 0; i < ch_record_shape(r)->len; i++)
            if (item_shapes(w, (const uint8_t *)r + ch_record_offset(r, i), (const uint8_t *)o, off) < 0)
                return CH_SAVE_NOMEM;
    } else if (packed) {
        const ch_packed_seq *s = (const ch_packed_seq *)o;
        if (nested_shapes(w, (const uint8_t *)s + s->at, (const uint8_t *)o, off) < 0)
            return CH_SAVE_NOMEM;
    }
    bool keyed = o->type == CH_NODE || o->type == CH_COLLISION;
    bool is_item = !keyed && !packed && o->type != CH_MAP && o->type != CH_TIME && o->type != CH_DECIMAL;
    size_t pairs = o->type == CH_NODE ? 2 * (size_t)ch_popcount(((const ch_node *)o)->datamap) : keyed ? n : 0;
    for (size_t i = 0; i < n; i++) {
        size_t word_at = off + (size_t)((const char *)&words[i] - (const char *)o);
        bool is_value = i < pairs && i % 2 == 1;
        ch_val child = ch_word(&words[i]);
        if (ch_type_of(child) == CH_SHAPE) { /* a record's own, or a nested record's that it owns */
            if (shape_word(w, word_at, (const ch_shape *)ch_ptr(child)) < 0)
                return CH_SAVE_NOMEM;
            continue;
        }
        if (is_value)
            push_step(w, ch_word(&words[i - 1]), false);
        else if (is_item)
            push_step(w, ch_smallint((int64_t)i), true);
        unsigned base = w->depth;
        ch_save_status st = emit_word(w, word_at, child);
        if (st == CH_SAVE_UNSUPPORTED && packed)
            steps_to_extern(w, o, &words[i], base);
        if (st != CH_SAVE_OK)
            return st;
        if (is_value || is_item)
            w->depth--;
    }
    return CH_SAVE_OK;
}

/* The shape table: each shape's key count, then its keys as str objects. */
static ch_save_status emit_shapes(writer *w)
{
    for (uint32_t i = 0; i < w->nshapes; i++) {
        const ch_shape *s = w->shapes[i];
        uint64_t n = s->len;
        if (put(w, &n, sizeof n) == SIZE_MAX)
            return CH_SAVE_NOMEM;
        for (uint32_t k = 0; k < s->len; k++) {
            const ch_head *key = ch_ptr(s->keys[k]);
            size_t at = put(w, key, ch_object_size(key));
            if (at == SIZE_MAX)
                return CH_SAVE_NOMEM;
            set_mapped(w, at);
        }
    }
    return CH_SAVE_OK;
}

static ch_save_status encode(const ch_map *m, ch_saved *out)
{
    memset(out, 0, sizeof *out);
    writer w = {.out = out};
    ch_file_header head = {.version = CH_SNAPSHOT_VERSION,
                        .byte_order = CH_SNAPSHOT_BYTE_ORDER,
                        .word_size = sizeof(ch_val),
                        .header_size = CH_SNAPSHOT_HEADER,
                        .root_at = CH_SNAPSHOT_HEADER};
    memcpy(head.magic, CH_SNAPSHOT_MAGIC, sizeof CH_SNAPSHOT_MAGIC);
    size_t root;
    ch_save_status st = put(&w, &head, sizeof head) == SIZE_MAX ? CH_SAVE_NOMEM : emit(&w, ch_from_ptr(m), &root);
    head.shapes_at = out->len;
    if (st == CH_SAVE_OK)
        st = emit_shapes(&w);
    if (st == CH_SAVE_OK && w.nshapes > CH_SNAPSHOT_MAX_SHAPES)
        st = unsupported(&w, CH_SHAPE);
    if (st == CH_SAVE_OK) {
        size_t table = ch_table_bytes_for(w.nshapes);
        for (size_t i = 0; i < w.nshape_words; i++) {
            size_t at = w.shape_words[i];
            ch_val pos;
            memcpy(&pos, out->data + at, sizeof pos);
            int64_t distance = -(int64_t)table + 8 * (int64_t)pos - (int64_t)at;
            put_word(&w, at, (ch_val)distance | CH_TAG_REL_TABLE);
        }
        head.file_size = out->len;
        head.nshapes = w.nshapes;
        head.table_bytes = (uint32_t)table;
        memcpy(out->data, &head, sizeof head);
        head.checksum = ch_snapshot_checksum(out->data, out->len);
        memcpy(out->data, &head, sizeof head);
    }
    free(w.shapes);
    free(w.index);
    free(w.shape_words);
    out->status = st;
    out->depth = w.depth;
    if (st != CH_SAVE_OK) {
        free(out->data);
        out->data = NULL;
        out->len = 0;
    }
    return st;
}

ch_save_status ch_snapshot_encode(const ch_map *m, ch_saved *out)
{
    if (!ch_is_inside(ch_from_ptr(m)))
        return encode(m, out);
    /* A record nested in another names its externs in the outer one: saved
     * on its own, it is first a record of its own. */
    ch_val own = ch_unpack(ch_from_ptr(m));
    if (own == CH_NOVALUE) {
        memset(out, 0, sizeof *out);
        return out->status = CH_SAVE_NOMEM;
    }
    ch_save_status st = encode((const ch_map *)ch_ptr(own), out);
    ch_decref(own);
    return st;
}

