/*
 * Frozen values to JSON text, in UTF-8, without touching Python objects.
 *
 * The output matches json.dumps(thaw(v), separators=(",", ":"),
 * ensure_ascii=False).encode():
 *   - maps become objects, in the map's own (hash) order, which is also
 *     thaw's order, or sorted by key with sort_keys; lists and tuples become
 *     arrays;
 *   - keys: str as is; int, float, True/False/None as json.dumps writes
 *     them ("1", "1.5", "true", "null"); any other key is refused;
 *   - str: '"' and '\\' and the control characters below U+0020 escaped
 *     (\n \r \t \b \f short, the rest \u00XX), everything else as UTF-8.
 *     A lone surrogate, which UTF-8 cannot hold, is written as \uXXXX;
 *   - floats as repr(float) (float_text.c, else a hook), NaN and infinities as json.dumps's
 *     default (allow_nan=True) writes them: NaN, Infinity, -Infinity;
 *   - ints of any size in decimal, up to the interpreter's digit limit;
 *   - rich values (values_layout.h): dates, datetimes, times and
 *     timedeltas as strings of isoformat() (str() for a timedelta), Decimals
 *     and UUIDs as strings of str(); as keys too; enum members as their
 *     values (keys too), named tuples as arrays, dataclasses as objects of
 *     their fields, registered classes as what their encode returned.
 *
 * Recursion follows the value's nesting, which freezing bounds by
 * CH_MAX_DEPTH, and the path of steps taken is kept for error messages.
 *
 * Adding a value kind: one case in write_value's switch (and, if the kind
 * may be a JSON object key, in write_key).  Kinds without a case are refused
 * as CH_JSON_UNSUPPORTED, which the binding reports as a TypeError naming
 * the type.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "float_text.h"
#include "map.h"
#include "int_text.h"
#include "json.h"
#include "value.h"

void ch_json_writer_init(ch_json_writer *w, const ch_json_hooks *hooks, bool sort_keys)
{
    w->data = w->first;
    w->len = 0;
    w->cap = sizeof w->first;
    w->hooks = hooks;
    w->sort_keys = sort_keys;
    w->have_limit = false;
    w->int_digit_limit = 0;
    w->status = CH_JSON_OK;
    w->offender = w->other = CH_NOVALUE;
    w->int_digits = 0;
    w->depth = 0;
}

void ch_json_writer_free(ch_json_writer *w)
{
    if (w->data != w->first)
        ch_free(w->data, w->cap);
    w->data = w->first;
    w->len = 0;
    w->cap = sizeof w->first;
}

static int fail(ch_json_writer *w, ch_json_status status, ch_val offender)
{
    w->status = status;
    w->offender = offender;
    return -1;
}

/* Room for `n` more bytes at w->data + w->len. */
static inline int reserve(ch_json_writer *w, size_t n)
{
    if (w->cap - w->len >= n)
        return 0;
    size_t cap = w->cap;
    while (cap - w->len < n)
        cap *= 2;
    unsigned char *data = w->data != w->first ? ch_realloc(w->data, w->cap, cap) : ch_alloc(cap);
    if (data == NULL)
        return fail(w, CH_JSON_NO_MEMORY, CH_NOVALUE);
    if (w->data == w->first)
        memcpy(data, w->first, w->len);
    w->data = data;
    w->cap = cap;
    return 0;
}

int ch_json_write_raw(ch_json_writer *w, const char *text, size_t len)
{
    if (reserve(w, len) < 0)
        return -1;
    memcpy(w->data + w->len, text, len);
    w->len += len;
    return 0;
}

static inline int put(ch_json_writer *w, char c)
{
    if (reserve(w, 1) < 0)
        return -1;
    w->data[w->len++] = (unsigned char)c;
    return 0;
}

/* --- strings ----------------------------------------------------------------------- */

/* For each ASCII byte: 0 when it is written as is, else the letter of its
 * short escape, or 'u' for \u00XX. */
static const char escape_of[128] = {
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'b', 't', 'n', 'u', 'f', 'r', 'u', 'u',
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
    0,   0,   '"', 0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   '\\', 0,  0,   0,
};

static const char hex_digit[] = "0123456789abcdef";

/* Writes one code point (escaped as needed) at p; returns the end. */
static inline unsigned char *put_char(unsigned char *p, uint32_t c)
{
    if (c < 0x80) {
        char e = escape_of[c];
        if (e == 0) {
            *p++ = (unsigned char)c;
        } else if (e != 'u') {
            *p++ = '\\';
            *p++ = (unsigned char)e;
        } else {
            memcpy(p, "\\u00", 4);
            p[4] = (unsigned char)hex_digit[c >> 4];
            p[5] = (unsigned char)hex_digit[c & 15];
            p += 6;
        }
    } else if (c < 0x800) {
        *p++ = (unsigned char)(0xc0 | (c >> 6));
        *p++ = (unsigned char)(0x80 | (c & 0x3f));
    } else if (c >= 0xd800 && c <= 0xdfff) { /* a lone surrogate: no UTF-8 form */
        *p++ = '\\';
        *p++ = 'u';
        for (int shift = 12; shift >= 0; shift -= 4)
            *p++ = (unsigned char)hex_digit[(c >> shift) & 15];
    } else if (c < 0x10000) {
        *p++ = (unsigned char)(0xe0 | (c >> 12));
        *p++ = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
        *p++ = (unsigned char)(0x80 | (c & 0x3f));
    } else {
        *p++ = (unsigned char)(0xf0 | (c >> 18));
        *p++ = (unsigned char)(0x80 | ((c >> 12) & 0x3f));
        *p++ = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
        *p++ = (unsigned char)(0x80 | (c & 0x3f));
    }
    return p;
}

/* Whether any of the 8 bytes in `word` is 0x80 or more, below 0x20, '"' or
 * '\\' (the exact "some byte is zero / less than n" tests on whole words). */
static inline bool needs_care(uint64_t word)
{
    const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
    uint64_t quote = word ^ (ones * '"'), backslash = word ^ (ones * '\\');
    uint64_t below_space = (word - ones * 0x20) & ~word;
    uint64_t zero_quote = (quote - ones) & ~quote, zero_backslash = (backslash - ones) & ~backslash;
    return ((word | below_space | zero_quote | zero_backslash) & highs) != 0;
}

/* Code units per pass: each is at most 6 bytes of output, reserved up front. */
#define STR_PASS 4096

int ch_json_write_str(ch_json_writer *w, int str_flag, const void *data, size_t len)
{
    /* Both quotes and each pass's worst case (6 bytes a code unit) reserved at once. */
    if (reserve(w, 6 * (len < STR_PASS ? len : STR_PASS) + 2) < 0)
        return -1;
    w->data[w->len++] = '"';
    for (size_t done = 0; done < len;) {
        size_t n = len - done < STR_PASS ? len - done : STR_PASS;
        if (reserve(w, 6 * n + 1) < 0)
            return -1;
        unsigned char *p = w->data + w->len;
        if (str_flag == CH_STR_ASCII || str_flag == CH_STR_LATIN1) {
            const unsigned char *s = (const unsigned char *)data + done, *end = s + n;
            while (s < end) {
                /* Eight bytes at a time while none needs escaping or encoding. */
                uint64_t word;
                while (end - s >= 8 && (memcpy(&word, s, 8), !needs_care(word))) {
                    memcpy(p, &word, 8);
                    p += 8;
                    s += 8;
                }
                /* Then the block that does (or the tail) one byte at a time. */
                for (const unsigned char *stop = end - s >= 8 ? s + 8 : end; s < stop; s++)
                    p = *s < 0x80 && escape_of[*s] == 0 ? (*p = *s, p + 1) : put_char(p, *s);
            }
        } else if (str_flag == CH_STR_UCS2) {
            const uint16_t *s = (const uint16_t *)data + done;
            for (size_t i = 0; i < n; i++)
                p = put_char(p, s[i]);
        } else {
            const uint32_t *s = (const uint32_t *)data + done;
            for (size_t i = 0; i < n; i++)
                p = put_char(p, s[i]);
        }
        w->len = (size_t)(p - w->data);
        done += n;
    }
    w->data[w->len++] = '"'; /* reserved with the last pass */
    return 0;
}

static int write_str_value(ch_json_writer *w, ch_val v)
{
    ch_text t = ch_str_text(v);
    return ch_json_write_str(w, t.flags, t.data, t.len);
}

/* --- numbers ------------------------------------------------------------------------ */

int ch_json_write_int64(ch_json_writer *w, int64_t v)
{
    if (reserve(w, 20) < 0)
        return -1;
    w->len += ch_int64_to_text(v, (char *)w->data + w->len);
    return 0;
}

int ch_json_write_bigint(ch_json_writer *w, ch_val big)
{
    const ch_bigint *b = (const ch_bigint *)ch_ptr(big);
    if (!w->have_limit) {
        w->int_digit_limit = w->hooks->int_digit_limit();
        w->have_limit = true;
    }
    size_t max = ch_int_text_max(b->len);
    if (reserve(w, max) < 0)
        return -1;
    char *out = (char *)w->data + w->len;
    size_t n = ch_int_to_text(b->data, b->len, out);
    if (n == 0)
        return fail(w, CH_JSON_NO_MEMORY, CH_NOVALUE);
    size_t digits = n - (out[0] == '-');
    if (w->int_digit_limit != 0 && digits > w->int_digit_limit) {
        w->int_digits = digits;
        return fail(w, CH_JSON_INT_TOO_LONG, big);
    }
    w->len += n;
    return 0;
}

int ch_json_write_double(ch_json_writer *w, double x)
{
    if (isnan(x))
        return ch_json_write_raw(w, "NaN", 3);
    if (isinf(x))
        return x > 0 ? ch_json_write_raw(w, "Infinity", 8) : ch_json_write_raw(w, "-Infinity", 9);
    if (reserve(w, 32) < 0)
        return -1;
    size_t n = ch_float_repr_common(x, (char *)w->data + w->len);
    if (n == 0)
        n = w->hooks->format_double(x, (char *)w->data + w->len);
    if (n == 0)
        return fail(w, CH_JSON_NO_MEMORY, CH_NOVALUE);
    w->len += n;
    return 0;
}

/* --- rich values: dates, times, Decimals and UUIDs as strings ------------------------ */

static size_t text_of(const ch_head *o, char *buf, size_t cap)
{
    switch (o->type) {
    case CH_TIME:
        return ch_time_to_str((const ch_time *)o, buf, cap);
    case CH_DECIMAL:
        return ch_decimal_to_str((const ch_decimal *)o, buf, cap);
    default:
        return ch_uuid_to_str((const ch_uuid *)o, buf, cap);
    }
}

/* Their text (isoformat(), str()) as a JSON string: ASCII, so written as is. */
static int write_text_of(ch_json_writer *w, const ch_head *o)
{
    char local[96];
    size_t n = text_of(o, NULL, 0);
    char *buf = n <= sizeof local ? local : malloc(n);
    if (buf == NULL)
        return fail(w, CH_JSON_NO_MEMORY, CH_NOVALUE);
    text_of(o, buf, n);
    int rc = ch_json_write_str(w, CH_STR_ASCII, buf, n);
    if (buf != local)
        free(buf);
    return rc;
}

static bool is_text_kind(int type) { return type == CH_TIME || type == CH_DECIMAL || type == CH_UUID; }

static bool is_enum(ch_val v)
{
    if (ch_type_of(v) != CH_INSTANCE)
        return false;
    int kind = ch_ptr(v)->flags;
    return kind == CH_INST_ENUM || kind == CH_INST_ENUM_VALUE;
}

/* --- containers -------------------------------------------------------------------- */

static int write_value(ch_json_writer *w, ch_val v);

int ch_json_write_key(ch_json_writer *w, ch_val key)
{
    int rc;
    if (ch_kind(key) == CH_STR) { /* (a dataclass's field names may be packed) */
        rc = write_str_value(w, key);
    } else if (key == CH_TRUE || key == CH_FALSE || key == CH_NONE) {
        rc = ch_json_write_raw(w, key == CH_TRUE ? "\"true\"" : key == CH_FALSE ? "\"false\"" : "\"null\"",
                               key == CH_TRUE ? 6 : key == CH_FALSE ? 7 : 6);
    } else if (ch_is_smallint(key) || ch_type_of(key) == CH_BIGINT || ch_type_of(key) == CH_FLOAT) {
        rc = put(w, '"');
        if (rc == 0)
            rc = write_value(w, key);
        if (rc == 0)
            rc = put(w, '"');
    } else if (is_text_kind(ch_type_of(key))) { /* a date, UUID or Decimal key: its text */
        rc = write_text_of(w, ch_ptr(key));
    } else if (is_enum(key)) { /* an enum member: its value's key */
        return ch_json_write_key(w, ((const ch_instance *)ch_ptr(key))->payload);
    } else {
        return fail(w, CH_JSON_BAD_KEY, key);
    }
    return rc < 0 ? -1 : put(w, ':');
}

static int write_array(ch_json_writer *w, ch_val v)
{
    if (put(w, '[') < 0)
        return -1;
    int d = w->depth++;
    ch_items s = ch_items_of(v);
    for (uint32_t i = 0; i < s.len; i++) {
        w->path[d] = (ch_json_step){CH_NOVALUE, i};
        if ((i > 0 && put(w, ',') < 0) || write_value(w, ch_items_at(&s, i)) < 0)
            return -1;
    }
    w->depth--;
    return put(w, ']');
}

/* sort_keys orders keys as Python's sorted() would: strs by code point,
 * numbers (bool, int, float) by value.  Keys of both kinds, or None among
 * several keys, do not compare in Python either. */
enum key_class { KEY_STR, KEY_NUMBER, KEY_OTHER };

static enum key_class class_of(ch_val key)
{
    if (ch_kind(key) == CH_STR)
        return KEY_STR;
    if (ch_is_smallint(key) || key == CH_TRUE || key == CH_FALSE || ch_type_of(key) == CH_FLOAT ||
        ch_type_of(key) == CH_BIGINT)
        return KEY_NUMBER;
    return KEY_OTHER;
}

static inline uint32_t unit_at(ch_text s, size_t i)
{
    switch (ch_text_width(s)) {
    case 1:
        return s.data[i];
    case 2:
        return ((const uint16_t *)s.data)[i];
    default:
        return ((const uint32_t *)s.data)[i];
    }
}

static long double number_of(ch_val v)
{
    if (ch_is_smallint(v))
        return (long double)ch_smallint_value(v);
    if (v == CH_TRUE || v == CH_FALSE)
        return v == CH_TRUE;
    if (ch_type_of(v) == CH_FLOAT)
        return ((const ch_float *)ch_ptr(v))->value;
    /* A big int: signed top byte, then the lower bytes, most significant first. */
    const ch_bigint *b = (const ch_bigint *)ch_ptr(v);
    long double x = (int8_t)b->data[b->len - 1];
    for (size_t i = b->len - 1; i-- > 0;)
        x = x * 256.0L + b->data[i];
    return x;
}

static int compare_keys(const void *pa, const void *pb)
{
    ch_val a = ((const ch_val *)pa)[0], b = ((const ch_val *)pb)[0];
    if (class_of(a) == KEY_STR) {
        ch_text s = ch_str_text(a), t = ch_str_text(b);
        size_t n = s.len < t.len ? s.len : t.len;
        for (size_t i = 0; i < n; i++) {
            uint32_t x = unit_at(s, i), y = unit_at(t, i);
            if (x != y)
                return x < y ? -1 : 1;
        }
        return s.len < t.len ? -1 : s.len > t.len;
    }
    long double x = number_of(a), y = number_of(b);
    return x < y ? -1 : x > y;
}

static int write_entry(ch_json_writer *w, int d, bool first, ch_val key, ch_val val)
{
    if ((!first && put(w, ',') < 0) || ch_json_write_key(w, key) < 0) {
        w->depth = d; /* a key's error belongs to its map */
        return -1;
    }
    w->path[d] = (ch_json_step){key, 0};
    return write_value(w, val);
}

static int write_sorted_entries(ch_json_writer *w, int d, const ch_map *m)
{
    ch_val *pairs = malloc((size_t)ch_map_count(m) * 2 * sizeof(ch_val));
    if (pairs == NULL)
        return fail(w, CH_JSON_NO_MEMORY, CH_NOVALUE);
    ch_map_iter it;
    size_t n = 0;
    ch_map_iter_init(&it, m);
    while (ch_map_iter_next(&it, &pairs[2 * n], &pairs[2 * n + 1]))
        n++;
    for (size_t i = 1; i < n; i++) {
        enum key_class c = class_of(pairs[0]);
        if (c == KEY_OTHER || class_of(pairs[2 * i]) != c) {
            w->other = c == KEY_OTHER ? pairs[2] : pairs[0];
            fail(w, CH_JSON_UNSORTABLE, c == KEY_OTHER ? pairs[0] : pairs[2 * i]);
            w->depth = d;
            free(pairs);
            return -1;
        }
    }
    qsort(pairs, n, 2 * sizeof(ch_val), compare_keys);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = write_entry(w, d, i == 0, pairs[2 * i], pairs[2 * i + 1]);
    free(pairs);
    return rc;
}

/* A dataclass as the object of its fields, in field order (sorted with sort_keys). */
static int write_dataclass(ch_json_writer *w, const ch_instance *x)
{
    ch_items names = ch_items_of(x->fields), values = ch_items_of(x->payload);
    if (names.len < values.len) /* (a decoded pickle is not trusted to match them) */
        values.len = names.len;
    ch_val *pairs = malloc(((size_t)values.len + 1) * 2 * sizeof(ch_val));
    if (pairs == NULL)
        return fail(w, CH_JSON_NO_MEMORY, CH_NOVALUE);
    for (uint32_t i = 0; i < values.len; i++) {
        pairs[2 * i] = ch_items_at(&names, i);
        pairs[2 * i + 1] = ch_items_at(&values, i);
    }
    if (w->sort_keys)
        qsort(pairs, values.len, 2 * sizeof(ch_val), compare_keys); /* field names are strs */
    int rc = put(w, '{');
    int d = w->depth++;
    for (uint32_t i = 0; rc == 0 && i < values.len; i++)
        rc = write_entry(w, d, i == 0, pairs[2 * i], pairs[2 * i + 1]);
    free(pairs);
    if (rc < 0)
        return -1;
    w->depth--;
    return put(w, '}');
}

/* Enum members as their values, named tuples as arrays, registered
 * classes as what their encode gave, dataclasses as objects. */
static int write_instance(ch_json_writer *w, const ch_instance *x)
{
    if (x->h.flags == CH_INST_DATACLASS)
        return write_dataclass(w, x);
    return write_value(w, x->payload);
}

static int write_object(ch_json_writer *w, const ch_map *m)
{
    if (put(w, '{') < 0)
        return -1;
    int d = w->depth++;
    if (w->sort_keys && ch_map_count(m) > 1) {
        if (write_sorted_entries(w, d, m) < 0)
            return -1;
    } else {
        ch_map_iter it;
        ch_val key, val;
        bool first = true;
        ch_map_iter_init(&it, m);
        while (ch_map_iter_next(&it, &key, &val)) {
            if (write_entry(w, d, first, key, val) < 0)
                return -1;
            first = false;
        }
    }
    w->depth--;
    return put(w, '}');
}

/* The one switch over value kinds: a new kind with a JSON form is one case. */
static int write_value(ch_json_writer *w, ch_val v)
{
    if (ch_is_smallint(v))
        return ch_json_write_int64(w, ch_smallint_value(v));
    if (v == CH_NONE)
        return ch_json_write_raw(w, "null", 4);
    if (v == CH_TRUE)
        return ch_json_write_raw(w, "true", 4);
    if (v == CH_FALSE)
        return ch_json_write_raw(w, "false", 5);
    switch (ch_kind(v)) {
    case 0:
    case CH_BYTES: /* json.dumps refuses them too */
    case CH_SET:
        return fail(w, CH_JSON_UNSUPPORTED, v);
    case CH_STR:
        return write_str_value(w, v);
    case CH_FLOAT:
        return ch_json_write_double(w, ch_float_of(v));
    case CH_LIST:
    case CH_TUPLE:
        return write_array(w, v);
    default:
        break;
    }
    const ch_head *o = ch_ptr(v); /* packed values are all above */
    switch (o->type) {
    case CH_BIGINT:
        return ch_json_write_bigint(w, v);
    case CH_MAP:
        return write_object(w, (const ch_map *)o);
    case CH_TIME:
    case CH_DECIMAL:
    case CH_UUID:
        return write_text_of(w, o);
    case CH_INSTANCE:
        return write_instance(w, (const ch_instance *)o);
    default: /* bytes, complex, sets, Refs, Queues, ...: json.dumps refuses them too */
        return fail(w, CH_JSON_UNSUPPORTED, v);
    }
}

int ch_json_write_value(ch_json_writer *w, ch_val v)
{
    w->depth = 0;
    return write_value(w, v);
}
