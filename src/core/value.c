/*
 * Frozen values (see value.h and object.h for the layout).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hamt.h"
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
    if (ch_type_of(v) == CH_SET) {
        const ch_seq *s = (const ch_seq *)ch_ptr(v);
        for (uint32_t i = 0; i < s->len; i++)
            sum += ch_mix64(hash_raw(s->items[i]));
        return ch_mix64(sum ^ CH_SEED_SET ^ s->len);
    }
    const ch_map *m = (const ch_map *)ch_ptr(v);
    ch_hamt_iter it;
    ch_val key, val;
    ch_hamt_iter_init(&it, m->root);
    while (ch_hamt_iter_next(&it, &key, &val))
        sum += ch_mix64(hash_raw(key) ^ ch_mix64(hash_raw(val) + CH_SEED_MAP));
    return ch_mix64(sum ^ CH_SEED_MAP ^ m->count);
}

static uint64_t hash_raw(ch_val v)
{
    if (ch_is_smallint(v))
        return ch_hash_number(ch_numres_int64(ch_smallint_value(v)));
    if (v == CH_TRUE)
        return ch_hash_number(1);
    if (v == CH_FALSE)
        return ch_hash_number(0);
    if (!ch_is_ptr(v))
        return ch_mix64(v ^ CH_SEED_CONST);
    const ch_head *o = ch_ptr(v);
    switch (o->type) {
    case CH_STR: {
        const ch_str *s = (const ch_str *)o;
        return ch_hash_bytes(s->data, (size_t)s->len * ch_str_width(s), CH_SEED_STR);
    }
    case CH_BYTES: {
        const ch_str *s = (const ch_str *)o;
        return ch_hash_bytes(s->data, s->len, CH_SEED_BYTES);
    }
    case CH_FLOAT:
        return ch_hash_number(ch_numres_double(((const ch_float *)o)->value));
    case CH_COMPLEX:
        return ch_hash_complex(((const ch_complex *)o)->real, ((const ch_complex *)o)->imag);
    case CH_BIGINT:
        return ch_hash_number(ch_numres_bigint(((const ch_bigint *)o)->data, ((const ch_bigint *)o)->len));
    case CH_TUPLE:
    case CH_LIST: {
        const ch_seq *s = (const ch_seq *)o;
        uint64_t h = (o->type == CH_TUPLE ? CH_SEED_TUPLE : CH_SEED_LIST) ^ s->len;
        for (uint32_t i = 0; i < s->len; i++)
            h = ch_hash_seq_step(h, hash_raw(s->items[i]));
        return ch_mix64(h);
    }
    case CH_SET:
    case CH_MAP:
        return hash_entries_commutative(v);
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
    } else if (ch_is_ptr(v)) {
        const ch_head *o = ch_ptr(v);
        if (o->type == CH_FLOAT) {
            n.kind = NUM_FLOAT;
            n.re = ((const ch_float *)o)->value;
        } else if (o->type == CH_COMPLEX) {
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

static bool set_contains(const ch_seq *set, ch_val item)
{
    uint64_t h = ch_hash(item);
    uint32_t lo = 0, hi = set->len;
    while (lo < hi) { /* first index whose hash is >= h */
        uint32_t mid = lo + (hi - lo) / 2;
        if (ch_hash(set->items[mid]) < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < set->len && ch_hash(set->items[lo]) == h; lo++)
        if (ch_eq(set->items[lo], item))
            return true;
    return false;
}

static bool map_eq(const ch_map *a, const ch_map *b)
{
    if (a->count != b->count)
        return false;
    if (a->root == b->root)
        return true;
    ch_hamt_iter it;
    ch_val key, val;
    ch_hamt_iter_init(&it, a->root);
    while (ch_hamt_iter_next(&it, &key, &val)) {
        ch_val other = ch_hamt_get(b->root, key, ch_hash(key));
        if (other == CH_NOVALUE || !ch_eq(val, other))
            return false;
    }
    return true;
}

bool ch_eq(ch_val a, ch_val b)
{
    if (a == b)
        return true;
    number na = as_number(a);
    if (na.kind != NUM_NO) {
        number nb = as_number(b);
        return nb.kind != NUM_NO && number_eq(&na, &nb);
    }
    if (!ch_is_ptr(a) || !ch_is_ptr(b))
        return false;
    const ch_head *x = ch_ptr(a), *y = ch_ptr(b);
    if (x->type != y->type)
        return false;
    switch (x->type) {
    case CH_STR:
    case CH_BYTES: {
        const ch_str *s = (const ch_str *)x, *t = (const ch_str *)y;
        return s->len == t->len && x->flags == y->flags &&
               memcmp(s->data, t->data, (size_t)s->len * (x->type == CH_STR ? ch_str_width(s) : 1)) == 0;
    }
    case CH_TUPLE:
    case CH_LIST: {
        const ch_seq *s = (const ch_seq *)x, *t = (const ch_seq *)y;
        if (s->len != t->len)
            return false;
        for (uint32_t i = 0; i < s->len; i++)
            if (!ch_eq(s->items[i], t->items[i]))
                return false;
        return true;
    }
    case CH_SET: {
        const ch_seq *s = (const ch_seq *)x, *t = (const ch_seq *)y;
        if (s->len != t->len)
            return false;
        for (uint32_t i = 0; i < s->len; i++)
            if (!set_contains(t, s->items[i]))
                return false;
        return true;
    }
    case CH_MAP:
        return map_eq((const ch_map *)x, (const ch_map *)y);
    default:
        return false;
    }
}
