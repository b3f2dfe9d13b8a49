/*
 * Frozen values (see value.h and object.h for the layout).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "map.h"
#include "packed.h"
#include "named.h"
#include "value.h"

/* --- constructors ------------------------------------------------------------ */

static ch_val new_blob(ch_type type, int flags, const void *data, size_t nbytes, uint32_t len)
{
    ch_str *s = ch_new_object(sizeof(ch_str) + nbytes, type);
    if (s == NULL)
        return CH_NOVALUE;
    s->h.flags = (uint8_t)flags;
    s->len = len;
    memcpy(s->data, data, nbytes);
    return ch_from_ptr(s);
}

ch_val ch_str_new(int str_flag, const void *data, size_t len)
{
    size_t width = str_flag == CH_STR_ASCII ? 1 : (size_t)str_flag;
    return new_blob(CH_STR, str_flag, data, len * width, (uint32_t)len);
}

ch_val ch_bytes_new(const void *data, size_t len) { return new_blob(CH_BYTES, 0, data, len, (uint32_t)len); }

ch_val ch_float_new(double value)
{
    ch_float *f = ch_new_object(sizeof(ch_float), CH_FLOAT);
    if (f == NULL)
        return CH_NOVALUE;
    f->value = value;
    return ch_from_ptr(f);
}

ch_val ch_complex_new(double real, double imag)
{
    ch_complex *c = ch_new_object(sizeof(ch_complex), CH_COMPLEX);
    if (c == NULL)
        return CH_NOVALUE;
    c->real = real;
    c->imag = imag;
    return ch_from_ptr(c);
}

ch_val ch_bigint_new(const unsigned char *le, size_t len)
{
    ch_bigint *b = ch_new_object(sizeof(ch_bigint) + len, CH_BIGINT);
    if (b == NULL)
        return CH_NOVALUE;
    b->len = (uint32_t)len;
    memcpy(b->data, le, len);
    return ch_from_ptr(b);
}

ch_time *ch_time_new(int flags)
{
    ch_time *t = ch_new_object(sizeof(ch_time), CH_TIME);
    if (t == NULL)
        return NULL;
    memset((char *)t + sizeof(ch_head), 0, sizeof(ch_time) - sizeof(ch_head));
    t->h.flags = (uint8_t)flags;
    t->zone = CH_NONE;
    return t;
}

static int days_in_month(int32_t year, unsigned month)
{
    static const uint8_t days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    return month == 2 && leap ? 29 : days[month - 1];
}

bool ch_time_ok(const ch_time *t)
{
    if (t->h.flags < CH_TIME_DATE || t->h.flags > CH_TIME_DELTA || t->tz > CH_TZ_ZONE)
        return false;
    if (t->h.flags == CH_TIME_DELTA)
        return t->days >= -999999999 && t->days <= 999999999 && t->seconds >= 0 && t->seconds < 86400 &&
               t->microsecond >= 0 && t->microsecond < 1000000;
    /* A date as Python's constructors accept it (a time has none). */
    if (t->h.flags != CH_TIME_TIME &&
        (t->year < 1 || t->year > 9999 || t->month < 1 || t->month > 12 || t->day < 1 ||
         t->day > days_in_month(t->year, t->month)))
        return false;
    return t->hour < 24 && t->minute < 60 && t->second < 60 && t->microsecond >= 0 && t->microsecond < 1000000 &&
           t->fold <= 1 && t->offset_us > -86400000000LL && t->offset_us < 86400000000LL;
}

bool ch_decimal_ok(int flags, const char *digits, size_t n, int64_t exponent)
{
    if (flags < 0 || flags > (CH_DEC_KIND_MASK | CH_DEC_NEGATIVE))
        return false;
    /* Decimal exponents stay within +-10**18; beyond 2**62 arithmetic on them could overflow. */
    if (exponent > (INT64_C(1) << 62) || exponent < -(INT64_C(1) << 62))
        return false;
    for (size_t i = 0; i < n; i++)
        if (digits[i] < '0' || digits[i] > '9')
            return false;
    /* A finite coefficient has digits and no leading zero (but "0"), an
     * infinity none, a NaN payload no leading zero. */
    int kind = flags & CH_DEC_KIND_MASK;
    return !((kind == CH_DEC_FINITE && (n == 0 || (n > 1 && digits[0] == '0'))) || (kind == CH_DEC_INFINITE && n != 0) ||
             (kind >= CH_DEC_NAN && n > 0 && digits[0] == '0'));
}

ch_val ch_decimal_new(int flags, const char *digits, size_t ndigits, int64_t exponent, ch_val number)
{
    ch_decimal *d = ch_new_object(sizeof(ch_decimal) + ndigits, CH_DECIMAL);
    if (d == NULL) {
        ch_decref(number);
        return CH_NOVALUE;
    }
    d->h.flags = (uint8_t)flags;
    d->number = number;
    d->exponent = exponent;
    d->ndigits = (uint32_t)ndigits;
    memcpy(d->digits, digits, ndigits);
    /* The struct's tail padding lies after the digits: saved as it is (snapshots), so no stray bytes. */
    memset(d->digits + ndigits, 0, sizeof(ch_decimal) - offsetof(ch_decimal, digits));
    return ch_from_ptr(d);
}

ch_val ch_uuid_new(const unsigned char bytes[16])
{
    ch_uuid *u = ch_new_object(sizeof(ch_uuid), CH_UUID);
    if (u == NULL)
        return CH_NOVALUE;
    memcpy(u->bytes, bytes, 16);
    return ch_from_ptr(u);
}

ch_val ch_instance_new(int flags, ch_val cls, ch_val fields, ch_val payload)
{
    ch_instance *o = ch_new_object(sizeof(ch_instance), CH_INSTANCE);
    if (o == NULL) {
        ch_decref(cls);
        ch_decref(fields);
        ch_decref(payload);
        return CH_NOVALUE;
    }
    o->h.flags = (uint8_t)flags;
    o->h.aux = (uint16_t)(ch_depth(payload) + 1);
    o->cls = cls;
    o->fields = fields;
    o->payload = payload;
    return ch_from_ptr(o);
}

/* Python's Decimal.__str__ (to_sci_string), from the digits and exponent. */
size_t ch_decimal_to_str(const ch_decimal *d, char *buf, size_t cap)
{
    char head[32];
    size_t n = 0, nd = d->ndigits;
    int kind = d->h.flags & CH_DEC_KIND_MASK;
#define PUT(c)                                                                                     \
    do {                                                                                           \
        if (n < cap)                                                                               \
            buf[n] = (c);                                                                          \
        n++;                                                                                       \
    } while (0)
    if (d->h.flags & CH_DEC_NEGATIVE)
        PUT('-');
    if (kind != CH_DEC_FINITE) {
        const char *word = kind == CH_DEC_INFINITE ? "Infinity" : kind == CH_DEC_NAN ? "NaN" : "sNaN";
        for (const char *c = word; *c; c++)
            PUT(*c);
        for (size_t i = 0; kind != CH_DEC_INFINITE && i < nd; i++)
            PUT(d->digits[i]);
        return n;
    }
    int64_t left = d->exponent + (int64_t)nd; /* digits left of the point */
    int64_t dot = d->exponent <= 0 && left > -6 ? left : 1;
    if (dot <= 0) {
        PUT('0');
        PUT('.');
        for (int64_t i = 0; i < -dot; i++)
            PUT('0');
        for (size_t i = 0; i < nd; i++)
            PUT(d->digits[i]);
    } else if ((uint64_t)dot >= nd) {
        for (size_t i = 0; i < nd; i++)
            PUT(d->digits[i]);
        for (int64_t i = (int64_t)nd; i < dot; i++)
            PUT('0');
    } else {
        for (size_t i = 0; i < nd; i++) {
            if (i == (size_t)dot)
                PUT('.');
            PUT(d->digits[i]);
        }
    }
    if (left != dot) {
        int len = snprintf(head, sizeof head, "E%+lld", (long long)(left - dot));
        for (int i = 0; i < len; i++)
            PUT(head[i]);
    }
#undef PUT
    return n;
}

/* snprintf into buf at *n, counting what does not fit (as ch_decimal_to_str). */
static void append(char *buf, size_t cap, size_t *n, const char *format, ...)
{
    char tmp[64];
    va_list va;
    va_start(va, format);
    int len = vsnprintf(tmp, sizeof tmp, format, va);
    va_end(va);
    for (int i = 0; i < len; i++, (*n)++)
        if (*n < cap)
            buf[*n] = tmp[i];
}

static void append_clock(char *buf, size_t cap, size_t *n, int h, int m, int s, int us)
{
    append(buf, cap, n, "%02d:%02d:%02d", h, m, s);
    if (us)
        append(buf, cap, n, ".%06d", us);
}

size_t ch_time_to_str(const ch_time *t, char *buf, size_t cap)
{
    size_t n = 0;
    if (t->h.flags == CH_TIME_DELTA) { /* str(timedelta) */
        int s = t->seconds;
        if (t->days)
            append(buf, cap, &n, "%d day%s, ", t->days, t->days == 1 || t->days == -1 ? "" : "s");
        append(buf, cap, &n, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
        if (t->microsecond)
            append(buf, cap, &n, ".%06d", t->microsecond);
        return n;
    }
    if (t->h.flags != CH_TIME_TIME)
        append(buf, cap, &n, "%04d-%02d-%02d", t->year, t->month, t->day);
    if (t->h.flags == CH_TIME_DATE)
        return n;
    if (t->h.flags == CH_TIME_DATETIME)
        append(buf, cap, &n, "T");
    append_clock(buf, cap, &n, t->hour, t->minute, t->second, t->microsecond);
    if (t->has_offset) {
        int64_t off = t->offset_us < 0 ? -t->offset_us : t->offset_us;
        int64_t secs = off / 1000000;
        append(buf, cap, &n, "%c%02d:%02d", t->offset_us < 0 ? '-' : '+', (int)(secs / 3600), (int)(secs / 60 % 60));
        if (secs % 60 || off % 1000000)
            append(buf, cap, &n, ":%02d", (int)(secs % 60));
        if (off % 1000000)
            append(buf, cap, &n, ".%06d", (int)(off % 1000000));
    }
    return n;
}

size_t ch_uuid_to_str(const ch_uuid *u, char *buf, size_t cap)
{
    size_t n = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            append(buf, cap, &n, "-");
        append(buf, cap, &n, "%02x", u->bytes[i]);
    }
    return n;
}

ch_seq *ch_seq_new(ch_type type, uint32_t len)
{
    ch_seq *s = ch_new_object(sizeof(ch_seq) + (size_t)len * sizeof(ch_val), type);
    if (s == NULL)
        return NULL;
    s->len = len;
    s->_pad = 0;
    for (uint32_t i = 0; i < len; i++)
        s->items[i] = CH_NONE;
    return s;
}

typedef struct {
    uint64_t hash;
    ch_val item;
} hashed_item;

static int compare_hashed(const void *a, const void *b)
{
    uint64_t x = ((const hashed_item *)a)->hash, y = ((const hashed_item *)b)->hash;
    return x < y ? -1 : x > y;
}

ch_seq *ch_set_finish(ch_seq *set)
{
    uint32_t n = set->len;
    if (n < 2)
        return set;
    hashed_item *tmp = malloc(n * sizeof(hashed_item));
    if (tmp == NULL) {
        ch_decref(ch_from_ptr(set));
        return NULL;
    }
    for (uint32_t i = 0; i < n; i++)
        tmp[i] = (hashed_item){ch_hash(set->items[i]), set->items[i]};
    qsort(tmp, n, sizeof(hashed_item), compare_hashed);
    /* Equal items have equal hashes, so duplicates sit in the same run. */
    uint32_t kept = 0;
    for (uint32_t i = 0; i < n; i++) {
        bool duplicate = false;
        for (uint32_t j = kept; j-- > 0 && tmp[j].hash == tmp[i].hash;)
            if (ch_eq(tmp[j].item, tmp[i].item)) {
                duplicate = true;
                break;
            }
        if (duplicate)
            ch_decref(tmp[i].item);
        else
            tmp[kept++] = tmp[i];
    }
    for (uint32_t i = 0; i < kept; i++)
        set->items[i] = tmp[i].item;
    free(tmp);
    if (kept < n) {
        size_t old_size = sizeof(ch_seq) + (size_t)n * sizeof(ch_val);
        set->len = kept;
        ch_seq *smaller = ch_realloc(set, old_size, sizeof(ch_seq) + (size_t)kept * sizeof(ch_val));
        if (smaller != NULL)
            set = smaller;
        else
            set->len = n; /* keep the size accounting right; the tail is None */
        for (uint32_t i = kept; i < set->len; i++)
            set->items[i] = CH_NONE;
    }
    return set;
}

/* --- hashing ------------------------------------------------------------------ */

static uint64_t hash_raw(ch_val v);

static uint64_t hash_entries_commutative(ch_val v)
{
    /* Sets and maps: a sum of scrambled item hashes, so order never matters. */
    uint64_t sum = 0;
    if (ch_kind(v) == CH_SET) {
        ch_items s = ch_items_of(v);
        for (uint32_t i = 0; i < s.len; i++)
            sum += ch_mix64(hash_raw(ch_items_at(&s, i)));
        return ch_mix64(sum ^ CH_SEED_SET ^ s.len);
    }
    const ch_map *m = (const ch_map *)ch_ptr(v);
    ch_map_iter it;
    ch_val key, val;
    ch_map_iter_init(&it, m);
    while (ch_map_iter_next(&it, &key, &val))
        sum += ch_mix64(hash_raw(key) ^ ch_mix64(hash_raw(val) + CH_SEED_MAP));
    return ch_mix64(sum ^ CH_SEED_MAP ^ ch_map_count(m));
}

/* Values that are equal to something simpler, as in Python: a Decimal to
 * the int or float it equals, an IntEnum/StrEnum member to its value, a
 * named tuple to its tuple.  Equality and hashing look through them. */
static ch_val unwrap(ch_val v)
{
    for (;;) {
        int type = ch_type_of(v);
        if (type == CH_DECIMAL && ((const ch_decimal *)ch_ptr(v))->number != CH_NOVALUE)
            v = ch_word(&((const ch_decimal *)ch_ptr(v))->number);
        else if (type == CH_INSTANCE &&
                 (ch_ptr(v)->flags == CH_INST_ENUM_VALUE || ch_ptr(v)->flags == CH_INST_NAMEDTUPLE))
            v = ((const ch_instance *)ch_ptr(v))->payload;
        else
            return v;
    }
}

/* A Decimal without an equal int or float: its digits without trailing
 * zeros (Decimal('1.50') == Decimal('1.5')) and the exponent that goes with
 * them.  NaNs keep their payload as is. */
static size_t decimal_significant(const ch_decimal *d, int64_t *exponent)
{
    size_t n = d->ndigits;
    *exponent = d->exponent;
    if ((d->h.flags & CH_DEC_KIND_MASK) != CH_DEC_FINITE)
        return n;
    while (n > 1 && d->digits[n - 1] == '0') {
        n--;
        (*exponent)++;
    }
    return n;
}

/* Days since 0001-01-01 style ordinal arithmetic (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe;
}

/* Microseconds since an epoch: the wall clock, or the UTC instant when the
 * value has an offset (aware datetimes compare by instant). */
static int64_t time_micros(const ch_time *t)
{
    int64_t day = t->h.flags == CH_TIME_DATETIME ? days_from_civil(t->year, t->month, t->day) : 0;
    int64_t secs = day * 86400 + t->hour * 3600 + t->minute * 60 + t->second;
    int64_t us = secs * 1000000 + t->microsecond;
    return t->has_offset ? us - t->offset_us : us;
}

static uint64_t hash_time(const ch_time *t)
{
    uint64_t h = CH_SEED_TIME ^ t->h.flags;
    switch (t->h.flags) {
    case CH_TIME_DATE:
        h = ch_hash_seq_step(h, (uint64_t)days_from_civil(t->year, t->month, t->day));
        break;
    case CH_TIME_DELTA:
        h = ch_hash_seq_step(h, (uint64_t)((int64_t)t->days * 86400 + t->seconds) * 1000000 + (uint64_t)t->microsecond);
        break;
    default:
        h = ch_hash_seq_step(h ^ t->has_offset, (uint64_t)time_micros(t));
    }
    return ch_mix64(h);
}

static bool time_eq(const ch_time *a, const ch_time *b)
{
    if (a->h.flags != b->h.flags)
        return false;
    switch (a->h.flags) {
    case CH_TIME_DATE:
        return a->year == b->year && a->month == b->month && a->day == b->day;
    case CH_TIME_DELTA:
        return a->days == b->days && a->seconds == b->seconds && a->microsecond == b->microsecond;
    default: /* naive never equals aware; fold never matters */
        return a->has_offset == b->has_offset && time_micros(a) == time_micros(b);
    }
}

static uint64_t hash_raw(ch_val v)
{
    v = unwrap(v);
    if (ch_is_smallint(v))
        return ch_hash_number(ch_numres_int64(ch_smallint_value(v)));
    if (v == CH_TRUE)
        return ch_hash_number(1);
    if (v == CH_FALSE)
        return ch_hash_number(0);
    if (!ch_is_ptr(v) && !ch_is_packed(v))
        return ch_mix64(v ^ CH_SEED_CONST);
    switch (ch_kind(v)) {
    case CH_STR: {
        ch_text t = ch_str_text(v);
        return ch_hash_bytes(t.data, (size_t)t.len * ch_text_width(t), CH_SEED_STR);
    }
    case CH_BYTES: {
        ch_text t = ch_str_text(v);
        return ch_hash_bytes(t.data, t.len, CH_SEED_BYTES);
    }
    case CH_FLOAT:
        return ch_hash_number(ch_numres_double(ch_float_of(v)));
    case CH_SET:
    case CH_MAP:
        return hash_entries_commutative(v);
    case CH_TUPLE:
    case CH_LIST: {
        ch_items s = ch_items_of(v);
        uint64_t h = (s.type == CH_TUPLE ? CH_SEED_TUPLE : CH_SEED_LIST) ^ s.len;
        for (uint32_t i = 0; i < s.len; i++)
            h = ch_hash_seq_step(h, hash_raw(ch_items_at(&s, i)));
        return ch_mix64(h);
    }
    default:
        break;
    }
    const ch_head *o = ch_ptr(v); /* packed values are all above */
    switch (o->type) {
    case CH_COMPLEX:
        return ch_hash_complex(((const ch_complex *)o)->real, ((const ch_complex *)o)->imag);
    case CH_BIGINT:
        return ch_hash_number(ch_numres_bigint(((const ch_bigint *)o)->data, ((const ch_bigint *)o)->len));
    case CH_REF: /* equal only to itself: its name, or its address, will do */
    case CH_QUEUE:
    case CH_LOCK:
    case CH_EVENT:
    case CH_SEMAPHORE:
    case CH_BARRIER:
    case CH_COUNTER: {
        ch_val name = ((const ch_named *)o)->name;
        return ch_mix64((name != CH_NONE ? hash_raw(name) : (uint64_t)(uintptr_t)o) ^ CH_SEED_CONST);
    }
    case CH_TIME:
        return hash_time((const ch_time *)o);
    case CH_DECIMAL: { /* only those equal to no int or float get here */
        const ch_decimal *d = (const ch_decimal *)o;
        int64_t exponent;
        size_t n = decimal_significant(d, &exponent);
        return ch_hash_bytes(d->digits, n, CH_SEED_DECIMAL ^ d->h.flags ^ ch_mix64((uint64_t)exponent));
    }
    case CH_UUID:
        return ch_hash_bytes(((const ch_uuid *)o)->bytes, 16, CH_SEED_UUID);
    case CH_INSTANCE: {
        const ch_instance *x = (const ch_instance *)o;
        return ch_mix64(ch_hash_seq_step(hash_raw(x->cls) ^ CH_SEED_INSTANCE ^ o->flags, hash_raw(x->payload)));
    }
    default:
        return 0;
    }
}

uint64_t ch_hash(ch_val v) { return hash_raw(v) & ch_hash_mask; }

uint64_t ch_hash_str(int str_flag, const void *data, size_t len)
{
    size_t width = str_flag == CH_STR_ASCII ? 1 : (size_t)str_flag;
    return ch_hash_bytes(data, len * width, CH_SEED_STR) & ch_hash_mask;
}

/* --- equality ------------------------------------------------------------------ */

typedef enum { NUM_NO, NUM_INT, NUM_BIG, NUM_FLOAT, NUM_COMPLEX } num_kind;

typedef struct {
    num_kind kind;
    int64_t i;
    double re, im;
    const ch_bigint *big;
} number;

static number as_number(ch_val v)
{
    number n = {NUM_NO, 0, 0.0, 0.0, NULL};
    if (ch_is_smallint(v)) {
        n.kind = NUM_INT;
        n.i = ch_smallint_value(v);
    } else if (v == CH_TRUE || v == CH_FALSE) {
        n.kind = NUM_INT;
        n.i = v == CH_TRUE;
    } else if (ch_kind(v) == CH_FLOAT) {
        n.kind = NUM_FLOAT;
        n.re = ch_float_of(v);
    } else if (ch_is_ptr(v)) {
        const ch_head *o = ch_ptr(v);
        if (o->type == CH_COMPLEX) {
            const ch_complex *c = (const ch_complex *)o;
            n.kind = c->imag == 0.0 ? NUM_FLOAT : NUM_COMPLEX; /* x+0j == x */
            n.re = c->real;
            n.im = c->imag;
        } else if (o->type == CH_BIGINT) {
            n.kind = NUM_BIG;
            n.big = (const ch_bigint *)o;
        }
    }
    return n;
}

static bool float_eq(double a, double b)
{
    if (a == b)
        return true;
    return isnan(a) && isnan(b) && memcmp(&a, &b, sizeof a) == 0;
}

static bool float_eq_int(double f, int64_t i)
{
    /* 2**63 is exact as a double; below it every integral double fits int64. */
    return f == floor(f) && fabs(f) < 9223372036854775808.0 && (int64_t)f == i;
}

/* Whether a big int equals the double d (which is then integral and large). */
static bool float_eq_big(double d, const ch_bigint *b)
{
    if (!isfinite(d) || d != floor(d))
        return false;
    int e;
    double m = frexp(fabs(d), &e);
    uint64_t mant = (uint64_t)ldexp(m, 53);
    int shift = e - 53; /* |d| = mant << shift; shift > 0 since |d| >= 2**60 */
    if (shift < 0)
        return false; /* small enough to be a small int, never a big int */
    /* Write d in minimal two's complement and compare bytes. */
    size_t nbytes = (size_t)(e / 8) + 2;
    if (b->len > nbytes)
        return false;
    unsigned char *buf = calloc(nbytes, 1);
    if (buf == NULL)
        return false;
    for (int bit = 0; bit < 53; bit++)
        if (mant >> bit & 1)
            buf[(bit + shift) / 8] |= (unsigned char)(1u << ((bit + shift) % 8));
    if (d < 0) {
        unsigned carry = 1;
        for (size_t i = 0; i < nbytes; i++) {
            unsigned x = (unsigned)(uint8_t)~buf[i] + carry;
            buf[i] = (unsigned char)x;
            carry = x >> 8;
        }
    }
    size_t len = nbytes;
    while (len > 1 && ((buf[len - 1] == 0 && !(buf[len - 2] & 0x80)) ||
                       (buf[len - 1] == 0xff && (buf[len - 2] & 0x80))))
        len--;
    bool equal = len == b->len && memcmp(buf, b->data, len) == 0;
    free(buf);
    return equal;
}

static bool number_eq(const number *a, const number *b)
{
    if (a->kind > b->kind)
        return number_eq(b, a);
    switch (a->kind) {
    case NUM_INT:
        switch (b->kind) {
        case NUM_INT:
            return a->i == b->i;
        case NUM_FLOAT:
            return float_eq_int(b->re, a->i);
        default:
            return false; /* a canonical big int never equals a small one */
        }
    case NUM_BIG:
        if (b->kind == NUM_BIG)
            return a->big->len == b->big->len && memcmp(a->big->data, b->big->data, a->big->len) == 0;
        return b->kind == NUM_FLOAT && float_eq_big(b->re, a->big);
    case NUM_FLOAT:
        return b->kind == NUM_FLOAT && float_eq(a->re, b->re);
    case NUM_COMPLEX:
        return float_eq(a->re, b->re) && float_eq(a->im, b->im);
    default:
        return false;
    }
}

static bool set_contains(const ch_items *set, ch_val item)
{
    uint64_t h = ch_hash(item);
    uint32_t lo = 0, hi = set->len;
    while (lo < hi) { /* first index whose hash is >= h */
        uint32_t mid = lo + (hi - lo) / 2;
        if (ch_hash(ch_items_at(set, mid)) < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < set->len && ch_hash(ch_items_at(set, lo)) == h; lo++)
        if (ch_eq(ch_items_at(set, lo), item))
            return true;
    return false;
}

static bool map_eq(const ch_map *a, const ch_map *b)
{
    if (ch_map_count(a) != ch_map_count(b))
        return false;
    if (ch_map_is_record(a) && ch_map_is_record(b) && ch_record_shape(ch_as_record(a)) == ch_record_shape(ch_as_record(b))) {
        const ch_record *r = ch_as_record(a), *s = ch_as_record(b); /* one shape: slot by slot */
        for (uint64_t i = 0; i < ch_map_count(a); i++)
            if (!ch_eq(ch_record_value(r, (uint32_t)i), ch_record_value(s, (uint32_t)i)))
                return false;
        return true;
    }
    if (!ch_map_is_record(a) && !ch_map_is_record(b) && ch_map_root(a) == ch_map_root(b))
        return true;
    ch_map_iter it;
    ch_val key, val;
    ch_map_iter_init(&it, a);
    while (ch_map_iter_next(&it, &key, &val)) {
        ch_val other = ch_map_get(b, key, ch_hash(key));
        if (other == CH_NOVALUE || !ch_eq(val, other))
            return false;
    }
    return true;
}

bool ch_eq(ch_val a, ch_val b)
{
    if (a == b)
        return true;
    a = unwrap(a);
    b = unwrap(b);
    if (a == b)
        return true;
    number na = as_number(a);
    if (na.kind != NUM_NO) {
        number nb = as_number(b);
        return nb.kind != NUM_NO && number_eq(&na, &nb);
    }
    int kind = ch_kind(a);
    if (kind == 0 || kind != ch_kind(b))
        return false;
    switch (kind) {
    case CH_STR: {
        ch_text s = ch_str_text(a), t = ch_str_text(b);
        return s.len == t.len && s.flags == t.flags && memcmp(s.data, t.data, (size_t)s.len * ch_text_width(s)) == 0;
    }
    case CH_BYTES: { /* bytes from a buffer equal bytes, as bytearray does */
        ch_text s = ch_str_text(a), t = ch_str_text(b);
        return s.len == t.len && memcmp(s.data, t.data, s.len) == 0;
    }
    case CH_TUPLE:
    case CH_LIST: {
        ch_items s = ch_items_of(a), t = ch_items_of(b);
        if (s.len != t.len)
            return false;
        for (uint32_t i = 0; i < s.len; i++)
            if (!ch_eq(ch_items_at(&s, i), ch_items_at(&t, i)))
                return false;
        return true;
    }
    case CH_SET: {
        ch_items s = ch_items_of(a), t = ch_items_of(b);
        if (s.len != t.len)
            return false;
        for (uint32_t i = 0; i < s.len; i++)
            if (!set_contains(&t, ch_items_at(&s, i)))
                return false;
        return true;
    }
    default:
        break;
    }
    const ch_head *x = ch_ptr(a), *y = ch_ptr(b); /* packed values are all above */
    switch (kind) {
    case CH_TIME:
        return time_eq((const ch_time *)x, (const ch_time *)y);
    case CH_DECIMAL: { /* neither equals an int or float (unwrap) */
        const ch_decimal *d = (const ch_decimal *)x, *e = (const ch_decimal *)y;
        int64_t xd, ye;
        size_t n = decimal_significant(d, &xd), m = decimal_significant(e, &ye);
        if (x->flags != y->flags || n != m || memcmp(d->digits, e->digits, n) != 0)
            return false;
        return (x->flags & CH_DEC_KIND_MASK) != CH_DEC_FINITE || xd == ye;
    }
    case CH_UUID:
        return memcmp(((const ch_uuid *)x)->bytes, ((const ch_uuid *)y)->bytes, 16) == 0;
    case CH_INSTANCE: {
        const ch_instance *s = (const ch_instance *)x, *t = (const ch_instance *)y;
        return x->flags == y->flags && ch_eq(s->cls, t->cls) && ch_eq(s->payload, t->payload);
    }
    case CH_MAP:
        return map_eq((const ch_map *)x, (const ch_map *)y);
    default:
        return false;
    }
}
