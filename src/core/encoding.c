/*
 * The byte encoding of frozen values (see encoding.h for the layout).
 *
 * Both directions recurse once per nesting level, which frozen values bound
 * at CH_MAX_DEPTH; the decoder enforces the same bound on its input.
 */
#include <stdlib.h>
#include <string.h>

#include "encoding.h"
#include "map.h"
#include "value.h"

enum {
    T_NONE, T_FALSE, T_TRUE, T_INT, T_STR, T_BYTES, T_FLOAT, T_COMPLEX, T_BIGINT, T_TUPLE, T_LIST, T_SET, T_MAP,
    T_TIME, T_DECIMAL, T_UUID, T_INSTANCE, T_ABSENT,
};

/* --- encoding ------------------------------------------------------------------ */

typedef struct {
    unsigned char *buf;
    size_t len, cap;
    ch_code_result rc;
} writer;

static void put(writer *w, const void *data, size_t n)
{
    if (w->rc != CH_CODE_OK)
        return;
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap < w->len + n)
            cap *= 2;
        unsigned char *bigger = realloc(w->buf, cap);
        if (bigger == NULL) {
            w->rc = CH_CODE_NO_MEMORY;
            return;
        }
        w->buf = bigger;
        w->cap = cap;
    }
    memcpy(w->buf + w->len, data, n);
    w->len += n;
}

static void put_u8(writer *w, unsigned x) { put(w, &(uint8_t){(uint8_t)x}, 1); }
static void put_u32(writer *w, uint32_t x) { put(w, &x, 4); } /* little endian machines only (hash.h) */
static void put_u64(writer *w, uint64_t x) { put(w, &x, 8); }

static void encode(writer *w, ch_val v)
{
    if (w->rc != CH_CODE_OK)
        return;
    if (v == CH_NOVALUE) {
        put_u8(w, T_ABSENT);
        return;
    }
    if (ch_is_smallint(v)) {
        put_u8(w, T_INT);
        put_u64(w, (uint64_t)ch_smallint_value(v));
        return;
    }
    switch (ch_kind(v)) {
    case 0:
        put_u8(w, v == CH_TRUE ? T_TRUE : v == CH_FALSE ? T_FALSE : T_NONE);
        return;
    case CH_STR:
    case CH_BYTES: {
        ch_text t = ch_str_text(v);
        put_u8(w, ch_kind(v) == CH_STR ? T_STR : T_BYTES);
        put_u8(w, (unsigned)t.flags);
        put_u32(w, t.len);
        put(w, t.data, (size_t)t.len * (ch_kind(v) == CH_STR ? ch_text_width(t) : 1));
        return;
    }
    case CH_FLOAT:
        put_u8(w, T_FLOAT);
        put(w, &(double){ch_float_of(v)}, 8);
        return;
    case CH_TUPLE:
    case CH_LIST:
    case CH_SET: {
        ch_items s = ch_items_of(v);
        put_u8(w, s.type == CH_TUPLE ? T_TUPLE : s.type == CH_LIST ? T_LIST : T_SET);
        if (s.type == CH_SET)
            put_u8(w, (unsigned)s.flags);
        put_u32(w, s.len);
        for (uint32_t i = 0; i < s.len; i++)
            encode(w, ch_items_at(&s, i));
        return;
    }
    default:
        break;
    }
    const ch_head *o = ch_ptr(v); /* packed values are all above */
    switch (o->type) {
    case CH_COMPLEX:
        put_u8(w, T_COMPLEX);
        put(w, &((const ch_complex *)o)->real, 8);
        put(w, &((const ch_complex *)o)->imag, 8);
        break;
    case CH_BIGINT:
        put_u8(w, T_BIGINT);
        put_u32(w, ((const ch_bigint *)o)->len);
        put(w, ((const ch_bigint *)o)->data, ((const ch_bigint *)o)->len);
        break;
    case CH_MAP: {
        const ch_map *m = (const ch_map *)o;
        ch_map_iter it;
        ch_val key, val;
        put_u8(w, T_MAP);
        put_u64(w, ch_map_count(m));
        ch_map_iter_init(&it, m);
        while (ch_map_iter_next(&it, &key, &val)) {
            encode(w, key);
            encode(w, val);
        }
        break;
    }
    case CH_TIME: {
        const ch_time *t = (const ch_time *)o;
        uint8_t small[9] = {o->flags, t->tz, t->fold, t->has_offset, t->month, t->day, t->hour, t->minute, t->second};
        put_u8(w, T_TIME);
        put(w, small, sizeof small);
        put_u32(w, (uint32_t)t->year);
        put_u32(w, (uint32_t)t->days);
        put_u32(w, (uint32_t)t->seconds);
        put_u32(w, (uint32_t)t->microsecond);
        put_u64(w, (uint64_t)t->offset_us);
        encode(w, ch_word(&t->zone));
        break;
    }
    case CH_DECIMAL: {
        const ch_decimal *d = (const ch_decimal *)o;
        put_u8(w, T_DECIMAL);
        put_u8(w, o->flags);
        put_u64(w, (uint64_t)d->exponent);
        put_u32(w, d->ndigits);
        put(w, d->digits, d->ndigits);
        encode(w, ch_word(&d->number));
        break;
    }
    case CH_UUID:
        put_u8(w, T_UUID);
        put(w, ((const ch_uuid *)o)->bytes, 16);
        break;
    case CH_INSTANCE: {
        const ch_instance *x = (const ch_instance *)o;
        put_u8(w, T_INSTANCE);
        put_u8(w, o->flags);
        encode(w, x->cls);
        encode(w, x->fields);
        encode(w, x->payload);
        break;
    }
    default:
        w->rc = CH_CODE_NAMED;
    }
}

ch_code_result ch_encode(ch_val v, unsigned char **out, size_t *len)
{
    writer w = {NULL, 0, 0, CH_CODE_OK};
    encode(&w, v);
    if (w.rc != CH_CODE_OK) {
        free(w.buf);
        return w.rc;
    }
    *out = w.buf;
    *len = w.len;
    return CH_CODE_OK;
}

/* --- decoding ------------------------------------------------------------------- */

typedef struct {
    const unsigned char *start, *p, *end;
    int depth;
    ch_class_check check;
    void *arg;
} reader;

static bool take(reader *r, void *dst, size_t n)
{
    if ((size_t)(r->end - r->p) < n)
        return false;
    memcpy(dst, r->p, n);
    r->p += n;
    return true;
}

static bool take_u8(reader *r, uint8_t *x) { return take(r, x, 1); }
static bool take_u32(reader *r, uint32_t *x) { return take(r, x, 4); }
static bool take_u64(reader *r, uint64_t *x) { return take(r, x, 8); }

static ch_code_result decode(reader *r, ch_val *out);

static int str_flag_for(const unsigned char *data, uint32_t len, int flag)
{
    uint32_t max = 0;
    for (uint32_t i = 0; i < len; i++) {
        uint32_t c = flag <= CH_STR_LATIN1 ? data[i] : flag == CH_STR_UCS2 ? ((const uint16_t *)data)[i]
                                                                               : ((const uint32_t *)data)[i];
        if (c > max)
            max = c;
    }
    if (max > 0x10ffff)
        return -1;
    return max < 0x80 ? CH_STR_ASCII : max < 0x100 ? CH_STR_LATIN1 : max < 0x10000 ? CH_STR_UCS2 : CH_STR_UCS4;
}

static ch_code_result decode_str(reader *r, uint8_t tag, ch_val *out)
{
    uint8_t flag;
    uint32_t len;
    if (!take_u8(r, &flag) || !take_u32(r, &len))
        return CH_CODE_MALFORMED;
    size_t width = tag == T_BYTES || flag == CH_STR_ASCII ? 1 : flag;
    if ((tag == T_STR && flag != 0 && flag != 1 && flag != 2 && flag != 4) || (tag == T_BYTES && flag > 1) ||
        (size_t)(r->end - r->p) / width < len)
        return CH_CODE_MALFORMED;
    const unsigned char *data = r->p;
    r->p += (size_t)len * width;
    if (tag == T_BYTES) {
        *out = ch_bytes_new(data, len);
        if (*out != CH_NOVALUE)
            ch_ptr(*out)->flags = flag;
        return *out == CH_NOVALUE ? CH_CODE_NO_MEMORY : CH_CODE_OK;
    }
    /* A str must be in its narrowest width: equality compares widths. */
    unsigned char *aligned = malloc((size_t)len * width + 1);
    if (aligned == NULL)
        return CH_CODE_NO_MEMORY;
    memcpy(aligned, data, (size_t)len * width);
    ch_code_result rc = CH_CODE_MALFORMED;
    if (str_flag_for(aligned, len, flag) == flag) {
        *out = ch_str_new(flag, aligned, len);
        rc = *out == CH_NOVALUE ? CH_CODE_NO_MEMORY : CH_CODE_OK;
    }
    free(aligned);
    return rc;
}

static ch_code_result decode_bigint(reader *r, ch_val *out)
{
    uint32_t len;
    if (!take_u32(r, &len) || len == 0 || (size_t)(r->end - r->p) < len)
        return CH_CODE_MALFORMED;
    const unsigned char *b = r->p;
    r->p += len;
    while (len > 1 && ((b[len - 1] == 0 && !(b[len - 2] & 0x80)) || (b[len - 1] == 0xff && (b[len - 2] & 0x80))))
        len--;
    if (len <= 8) { /* canonical: what fits is a small int */
        uint64_t u = b[len - 1] & 0x80 ? UINT64_MAX : 0;
        for (uint32_t i = 0; i < len; i++)
            u = (u & ~((uint64_t)0xff << (8 * i))) | ((uint64_t)b[i] << (8 * i));
        if (ch_fits_smallint((int64_t)u)) {
            *out = ch_smallint((int64_t)u);
            return CH_CODE_OK;
        }
    }
    *out = ch_bigint_new(b, len);
    return *out == CH_NOVALUE ? CH_CODE_NO_MEMORY : CH_CODE_OK;
}

static ch_code_result decode_seq(reader *r, uint8_t tag, ch_val *out)
{
    uint8_t flag = 0;
    uint32_t n;
    if ((tag == T_SET && (!take_u8(r, &flag) || flag > CH_SET_FROM_SET)) || !take_u32(r, &n) ||
        (size_t)(r->end - r->p) < n)
        return CH_CODE_MALFORMED;
    ch_seq *s = ch_seq_new(tag == T_TUPLE ? CH_TUPLE : tag == T_LIST ? CH_LIST : CH_SET, n);
    if (s == NULL)
        return CH_CODE_NO_MEMORY;
    unsigned depth = 0;
    for (uint32_t i = 0; i < n; i++) {
        ch_code_result rc = decode(r, &s->items[i]);
        if (rc != CH_CODE_OK) {
            s->items[i] = CH_NONE;
            ch_decref(ch_from_ptr(s));
            return rc;
        }
        if (ch_depth(s->items[i]) > depth)
            depth = ch_depth(s->items[i]);
    }
    s->h.flags = flag;
    s->h.aux = (uint16_t)(depth + 1);
    if (tag == T_SET && (s = ch_set_finish(s)) == NULL)
        return CH_CODE_NO_MEMORY;
    *out = ch_from_ptr(s);
    return CH_CODE_OK;
}

static ch_code_result decode_map(reader *r, ch_val *out)
{
    uint64_t n;
    if (!take_u64(r, &n) || n > (uint64_t)(r->end - r->p) / 2)
        return CH_CODE_MALFORMED;
    ch_entry *entries = malloc((size_t)(n ? n : 1) * sizeof(ch_entry));
    if (entries == NULL)
        return CH_CODE_NO_MEMORY;
    ch_code_result rc = CH_CODE_OK;
    unsigned depth = 0;
    size_t done = 0;
    for (; done < n && rc == CH_CODE_OK; done++) {
        ch_entry *e = &entries[done];
        rc = decode(r, &e->key);
        if (rc == CH_CODE_OK && (rc = decode(r, &e->val)) != CH_CODE_OK)
            ch_decref(e->key);
        if (rc != CH_CODE_OK)
            break;
        e->hash = ch_hash(e->key);
        unsigned d = ch_depth(e->key) > ch_depth(e->val) ? ch_depth(e->key) : ch_depth(e->val);
        if (d > depth)
            depth = d;
    }
    if (rc != CH_CODE_OK) {
        for (size_t i = 0; i < done; i++) {
            ch_decref(entries[i].key);
            ch_decref(entries[i].val);
        }
        free(entries);
        return rc;
    }
    ch_map *m = ch_map_build(entries, (size_t)n, (uint16_t)(depth + 1));
    free(entries);
    if (m == NULL)
        return CH_CODE_NO_MEMORY;
    *out = ch_from_ptr(m);
    return CH_CODE_OK;
}

static ch_code_result decode_time(reader *r, ch_val *out)
{
    uint8_t small[9];
    uint32_t year, days, seconds, us;
    uint64_t offset;
    if (!take(r, small, sizeof small) || !take_u32(r, &year) || !take_u32(r, &days) || !take_u32(r, &seconds) ||
        !take_u32(r, &us) || !take_u64(r, &offset) || small[0] < CH_TIME_DATE || small[0] > CH_TIME_DELTA ||
        small[1] > CH_TZ_ZONE)
        return CH_CODE_MALFORMED;
    ch_time *t = ch_time_new(small[0]);
    if (t == NULL)
        return CH_CODE_NO_MEMORY;
    t->tz = small[1];
    t->fold = small[2];
    t->has_offset = small[3] != 0;
    t->month = small[4];
    t->day = small[5];
    t->hour = small[6];
    t->minute = small[7];
    t->second = small[8];
    t->year = (int32_t)year;
    t->days = (int32_t)days;
    t->seconds = (int32_t)seconds;
    t->microsecond = (int32_t)us;
    t->offset_us = (int64_t)offset;
    ch_code_result rc = decode(r, &t->zone);
    if (rc == CH_CODE_OK && ((t->zone != CH_NONE && ch_type_of(t->zone) != CH_STR) || !ch_time_ok(t)))
        rc = CH_CODE_MALFORMED;
    if (rc != CH_CODE_OK) {
        ch_decref(ch_from_ptr(t)); /* a zone that failed to decode is CH_NOVALUE: nothing to free */
        return rc;
    }
    *out = ch_from_ptr(t);
    return CH_CODE_OK;
}

static ch_code_result decode_decimal(reader *r, ch_val *out)
{
    uint8_t flags;
    uint64_t exponent;
    uint32_t n;
    if (!take_u8(r, &flags) || !take_u64(r, &exponent) || !take_u32(r, &n) || (size_t)(r->end - r->p) < n)
        return CH_CODE_MALFORMED;
    const char *digits = (const char *)r->p;
    r->p += n;
    if (!ch_decimal_ok(flags, digits, n, (int64_t)exponent))
        return CH_CODE_MALFORMED;
    ch_val number;
    ch_code_result rc = decode(r, &number);
    if (rc != CH_CODE_OK)
        return rc;
    int number_type = ch_type_of(number);
    if (number != CH_NOVALUE && !ch_is_smallint(number) && number_type != CH_BIGINT && number_type != CH_FLOAT) {
        ch_decref(number);
        return CH_CODE_MALFORMED;
    }
    *out = ch_decimal_new(flags, digits, n, (int64_t)exponent, number);
    return *out == CH_NOVALUE ? CH_CODE_NO_MEMORY : CH_CODE_OK;
}

static bool names_ok(ch_val fields)
{
    if (fields == CH_NONE)
        return true;
    if (ch_type_of(fields) != CH_TUPLE)
        return false;
    const ch_seq *s = (const ch_seq *)ch_ptr(fields);
    for (uint32_t i = 0; i < s->len; i++)
        if (ch_type_of(s->items[i]) != CH_STR)
            return false;
    return true;
}

static ch_code_result decode_instance(reader *r, ch_val *out)
{
    uint8_t flags;
    if (!take_u8(r, &flags) || flags < CH_INST_ENUM || flags > CH_INST_REGISTERED)
        return CH_CODE_MALFORMED;
    ch_val cls = CH_NOVALUE, fields = CH_NOVALUE, payload = CH_NOVALUE;
    ch_code_result rc = decode(r, &cls);
    if (rc == CH_CODE_OK && ch_type_of(cls) != CH_STR)
        rc = CH_CODE_MALFORMED;
    if (rc == CH_CODE_OK && !r->check(cls, r->arg))
        rc = CH_CODE_REFUSED; /* before reading further: nothing else refers to it */
    if (rc == CH_CODE_OK && (rc = decode(r, &fields)) == CH_CODE_OK && !names_ok(fields))
        rc = CH_CODE_MALFORMED;
    if (rc == CH_CODE_OK && (rc = decode(r, &payload)) == CH_CODE_OK &&
        (flags == CH_INST_DATACLASS || flags == CH_INST_NAMEDTUPLE) && ch_type_of(payload) != CH_TUPLE)
        rc = CH_CODE_MALFORMED;
    if (rc != CH_CODE_OK) {
        ch_decref(cls);
        ch_decref(fields);
        ch_decref(payload);
        return rc;
    }
    *out = ch_instance_new(flags, cls, fields, payload);
    return *out == CH_NOVALUE ? CH_CODE_NO_MEMORY : CH_CODE_OK;
}

static ch_code_result decode(reader *r, ch_val *out)
{
    uint8_t tag;
    *out = CH_NOVALUE;
    if (!take_u8(r, &tag))
        return CH_CODE_MALFORMED;
    switch (tag) {
    case T_NONE:
        *out = CH_NONE;
        return CH_CODE_OK;
    case T_FALSE:
    case T_TRUE:
        *out = tag == T_TRUE ? CH_TRUE : CH_FALSE;
        return CH_CODE_OK;
    case T_ABSENT:
        return CH_CODE_OK;
    case T_INT: {
        uint64_t u;
        if (!take_u64(r, &u) || !ch_fits_smallint((int64_t)u))
            return CH_CODE_MALFORMED;
        *out = ch_smallint((int64_t)u);
        return CH_CODE_OK;
    }
    case T_STR:
    case T_BYTES:
        return decode_str(r, tag, out);
    case T_FLOAT:
    case T_COMPLEX: {
        double x[2];
        if (!take(r, x, tag == T_FLOAT ? 8 : 16))
            return CH_CODE_MALFORMED;
        *out = tag == T_FLOAT ? ch_float_new(x[0]) : ch_complex_new(x[0], x[1]);
        return *out == CH_NOVALUE ? CH_CODE_NO_MEMORY : CH_CODE_OK;
    }
    case T_BIGINT:
        return decode_bigint(r, out);
    case T_UUID: {
        unsigned char b[16];
        if (!take(r, b, 16))
            return CH_CODE_MALFORMED;
        *out = ch_uuid_new(b);
        return *out == CH_NOVALUE ? CH_CODE_NO_MEMORY : CH_CODE_OK;
    }
    default:
        break;
    }
    if (tag > T_ABSENT || r->depth >= CH_MAX_DEPTH)
        return CH_CODE_MALFORMED;
    r->depth++;
    ch_code_result rc;
    switch (tag) {
    case T_TUPLE:
    case T_LIST:
    case T_SET:
        rc = decode_seq(r, tag, out);
        break;
    case T_MAP:
        rc = decode_map(r, out);
        break;
    case T_TIME:
        rc = decode_time(r, out);
        break;
    case T_DECIMAL:
        rc = decode_decimal(r, out);
        break;
    default:
        rc = decode_instance(r, out);
    }
    r->depth--;
    return rc;
}

ch_code_result ch_decode(const unsigned char *data, size_t len, ch_class_check check, void *arg, ch_val *out,
                         size_t *where)
{
    reader r = {data, data, data + len, 0, check, arg};
    ch_code_result rc = decode(&r, out);
    if (rc == CH_CODE_OK && r.p != r.end) {
        ch_decref(*out);
        rc = CH_CODE_MALFORMED;
    }
    *where = (size_t)(r.p - r.start);
    return rc;
}
