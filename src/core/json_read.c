/*
 * JSON text (UTF-8) straight into frozen values, with no Python objects.
 *
 * A recursive descent parser that accepts exactly what json.loads accepts
 * (including NaN, Infinity and -Infinity) and builds what it would build,
 * frozen: objects become maps, arrays lists, numbers ints (any size) or
 * floats, strings strs in the narrowest width CPython would pick, with
 * escapes and \uD83D\uDE00-style surrogate pairs decoded as json.loads
 * decodes them.  Error messages and positions follow json.loads too.
 *
 * Items of the containers being parsed wait on two stacks, one of values
 * (arrays) and one of key/value entries (objects), shared by all levels: a
 * nested container is finished, and its items popped, before its parent
 * pushes it.  A finished array is one exact-size list; a finished object is
 * one bulk ch_hamt_build over its entries, after the last of any duplicate
 * keys has replaced the earlier ones.  Short keys are shared through a small
 * cache, since records repeat them.  On failure everything still on the
 * stacks is released.  Recursion is bounded by CH_MAX_DEPTH, deeper nesting
 * is refused as the rest of cohive refuses it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "float_text.h"
#include "map.h"
#include "int_text.h"
#include "json.h"
#include "value.h"

#define KEY_CACHE 256      /* slots, a power of two */
#define KEY_CACHE_LEN 64   /* longer keys are not cached */

typedef struct {
    const unsigned char *p, *begin, *end;
    const ch_json_hooks *hooks;
    ch_json_parse_error *err;
    size_t int_limit;
    bool have_limit;
    ch_val *vals; /* items of the arrays being parsed */
    size_t nvals, cap_vals;
    ch_entry *entries; /* entries of the objects being parsed */
    size_t nentries, cap_entries;
    uint32_t *units; /* code points of the string being decoded */
    size_t cap_units;
    /* Recent short object keys, by hash: records repeat their keys, and one
     * shared str (a reference each) saves an allocation and a hash apiece. */
    struct {
        ch_val key; /* CH_NOVALUE when empty */
        uint64_t hash;
    } keys[KEY_CACHE];
} parser;

static ch_val fail_at(parser *ps, const char *message, const unsigned char *at)
{
    ps->err->message = message;
    ps->err->pos = (size_t)(at - ps->begin);
    return CH_NOVALUE;
}

static ch_val no_memory(parser *ps)
{
    ps->err->no_memory = true;
    return fail_at(ps, "out of memory", ps->p);
}


static inline void skip_space(parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t'))
        ps->p++;
}

static ch_val parse_value(parser *ps, unsigned depth);

/* --- strings ------------------------------------------------------------------ */

/* Bytes a string may hold as they are: printable ASCII but '"' and '\\'. */
static inline bool is_plain(unsigned c) { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\'; }

static int hex_value(const unsigned char *s)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int c = s[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
            d = (c | 0x20) - 'a' + 10;
        else
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* One UTF-8 sequence at s (lead byte >= 0x80); surrogates are accepted, as
 * 'surrogatepass' writes them.  Returns its length, 0 if invalid. */
static int decode_utf8(const unsigned char *s, const unsigned char *end, uint32_t *out)
{
    unsigned c = s[0];
    int n;
    unsigned lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
    } else
        return 0;
    if (end - s < n || s[1] < lo || s[1] > hi)
        return 0;
    uint32_t cp = c & (0x7f >> n);
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    *out = cp;
    return n;
}

/* A frozen str of n code points in the narrowest width that holds `max`. */
static ch_val str_from_units(const uint32_t *units, size_t n, uint32_t max)
{
    int flag = max < 0x80 ? CH_STR_ASCII : max < 0x100 ? CH_STR_LATIN1 : max < 0x10000 ? CH_STR_UCS2 : CH_STR_UCS4;
    size_t width = flag == CH_STR_ASCII ? 1 : (size_t)flag;
    ch_str *s = ch_new_object(sizeof(ch_str) + n * width, CH_STR);
    if (s == NULL)
        return CH_NOVALUE;
    s->h.flags = (uint8_t)flag;
    s->len = (uint32_t)n;
    for (size_t i = 0; i < n; i++) {
        if (width == 1)
            s->data[i] = (unsigned char)units[i];
        else if (width == 2)
            ((uint16_t *)s->data)[i] = (uint16_t)units[i];
        else
            ((uint32_t *)s->data)[i] = units[i];
    }
    return ch_from_ptr(s);
}

static ch_val parse_string(parser *ps)
{
    const unsigned char *quote = ps->p, *s = quote + 1, *end = ps->end;
    while (s < end && is_plain(*s))
        s++;
    if (s < end && *s == '"') { /* plain ASCII, the common case: no decoding */
        if ((size_t)(s - quote - 1) > CH_MAX_LEN)
            return fail_at(ps, "str longer than cohive's limit", quote);
        ch_val v = ch_str_new(CH_STR_ASCII, quote + 1, (size_t)(s - quote - 1));
        ps->p = s + 1;
        return v != CH_NOVALUE ? v : no_memory(ps);
    }
    size_t n = 0;
    uint32_t max = 0;
    for (s = quote + 1;;) {
        if (!ch_grow_scratch((void **)&ps->units, &ps->cap_units, n + 1, sizeof(uint32_t)))
            return no_memory(ps);
        if (s >= end)
            return fail_at(ps, "Unterminated string starting at", quote);
        uint32_t c = *s;
        if (c == '"')
            break;
        if (c == '\\') {
            if (s + 1 >= end)
                return fail_at(ps, "Unterminated string starting at", quote);
            switch (s[1]) {
            case '"':
            case '\\':
            case '/':
                c = s[1];
                break;
            case 'b':
                c = '\b';
                break;
            case 'f':
                c = '\f';
                break;
            case 'n':
                c = '\n';
                break;
            case 'r':
                c = '\r';
                break;
            case 't':
                c = '\t';
                break;
            case 'u': {
                int u = end - s >= 6 ? hex_value(s + 2) : -1;
                if (u < 0)
                    return fail_at(ps, "Invalid \\uXXXX escape", s + 1);
                c = (uint32_t)u;
                if (c >= 0xd800 && c <= 0xdbff && end - s >= 12 && s[6] == '\\' && s[7] == 'u') {
                    int low = hex_value(s + 8); /* a pair joins; a lone half stays as it is */
                    if (low >= 0xdc00 && low <= 0xdfff) {
                        c = 0x10000 + ((c - 0xd800) << 10) + ((uint32_t)low - 0xdc00);
                        s += 6;
                    }
                }
                s += 4;
                break;
            }
            default:
                return fail_at(ps, "Invalid \\escape", s);
            }
            s += 2;
        } else if (c < 0x20) {
            return fail_at(ps, "Invalid control character at", s);
        } else if (c < 0x80) {
            s++;
        } else {
            int len = decode_utf8(s, end, &c);
            if (len == 0)
                return fail_at(ps, "Invalid UTF-8", s);
            s += len;
        }
        if (c > max)
            max = c;
        ps->units[n++] = c;
    }
    if (n > CH_MAX_LEN)
        return fail_at(ps, "str longer than cohive's limit", quote);
    ps->p = s + 1;
    ch_val v = str_from_units(ps->units, n, max);
    return v != CH_NOVALUE ? v : no_memory(ps);
}

/* --- numbers ---------------------------------------------------------------------- */

static const double exact_powers_of_ten[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                             1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                             1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static inline bool is_digit(const unsigned char *p, const unsigned char *end) { return p < end && *p >= '0' && *p <= '9'; }

static ch_val parse_number(parser *ps)
{
    const unsigned char *start = ps->p, *p = start, *end = ps->end;
    bool negative = *p == '-';
    if (negative)
        p++;
    const unsigned char *digits = p;
    if (!is_digit(p, end))
        return fail_at(ps, "Expecting value", start);
    if (*p == '0')
        p++; /* a leading zero stands alone: "01" is 0 followed by extra data */
    else
        while (is_digit(p, end))
            p++;
    size_t int_digits = (size_t)(p - digits), frac_digits = 0;
    const unsigned char *frac = NULL;
    if (p + 1 < end && *p == '.' && is_digit(p + 1, end)) {
        frac = ++p;
        while (is_digit(p, end))
            p++;
        frac_digits = (size_t)(p - frac);
    }
    bool has_exp = false;
    int64_t exp = 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        const unsigned char *q = p + 1;
        bool exp_negative = q < end && *q == '-';
        if (q < end && (*q == '-' || *q == '+'))
            q++;
        if (is_digit(q, end)) { /* else the number ends before the 'e', as in json.loads */
            has_exp = true;
            while (is_digit(q, end)) {
                if (exp < 100000000)
                    exp = exp * 10 + (*q - '0');
                q++;
            }
            if (exp_negative)
                exp = -exp;
            p = q;
        }
    }
    ps->p = p;
    if (frac == NULL && !has_exp) {
        if (!ps->have_limit) {
            ps->int_limit = ps->hooks->int_digit_limit();
            ps->have_limit = true;
        }
        if (ps->int_limit != 0 && int_digits > ps->int_limit) {
            ps->err->int_digits = int_digits;
            ps->err->int_limit = ps->int_limit;
            return fail_at(ps, "int too long", start);
        }
        ch_val v = ch_int_from_text((const char *)digits, int_digits, negative);
        return v != CH_NOVALUE ? v : no_memory(ps);
    }
    double x;
    int64_t exp10 = exp - (int64_t)frac_digits;
    uint64_t m = 0;
    if (int_digits + frac_digits <= 19) {
        for (const unsigned char *q = digits; q < digits + int_digits; q++)
            m = m * 10 + (uint64_t)(*q - '0');
        for (size_t i = 0; i < frac_digits; i++)
            m = m * 10 + (uint64_t)(frac[i] - '0');
    }
    if (int_digits + frac_digits <= 15 && exp10 >= -22 && exp10 <= 22) {
        /* Both the digits and the power of ten are exact doubles, so one
         * multiplication or division rounds correctly (Clinger's fast path). */
        x = exp10 < 0 ? (double)m / exact_powers_of_ten[-exp10] : (double)m * exact_powers_of_ten[exp10];
    } else if (int_digits + frac_digits > 19 || exp10 < -21 || exp10 > 19 ||
               !ch_decimal_to_double(m, (int)exp10, &x)) {
        x = ps->hooks->parse_double((const char *)start, (size_t)(p - start));
        negative = false; /* the text had the sign */
    }
    if (negative)
        x = -x;
    ch_val v = ch_float_new(x);
    return v != CH_NOVALUE ? v : no_memory(ps);
}

/* --- containers --------------------------------------------------------------------- */

/* At the opening bracket of a container `depth` deep: -1 when too deep,
 * 0 when `closer` follows at once (an empty container, consumed), else 1. */
static int open_container(parser *ps, unsigned depth, char closer)
{
    if (depth > CH_MAX_DEPTH) {
        fail_at(ps, "nesting deeper than cohive.MAX_DEPTH (256) levels", ps->p);
        return -1;
    }
    ps->p++;
    skip_space(ps);
    if (ps->p < ps->end && *ps->p == (unsigned char)closer) {
        ps->p++;
        return 0;
    }
    return 1;
}

/* After an item of an array or object: 1 when a ',' says another follows,
 * 0 when `closer` ends the container, -1 on error. */
static int after_item(parser *ps, char closer, const char *trailing_comma)
{
    skip_space(ps);
    if (ps->p < ps->end && *ps->p == ',') {
        const unsigned char *comma = ps->p++;
        skip_space(ps);
        if (ps->p < ps->end && *ps->p == (unsigned char)closer) {
            fail_at(ps, trailing_comma, comma);
            return -1;
        }
        return 1;
    }
    if (ps->p < ps->end && *ps->p == (unsigned char)closer) {
        ps->p++;
        return 0;
    }
    fail_at(ps, "Expecting ',' delimiter", ps->p);
    return -1;
}

static ch_val parse_array(parser *ps, unsigned depth)
{
    int items = open_container(ps, depth, ']');
    if (items < 0)
        return CH_NOVALUE;
    size_t base = ps->nvals;
    unsigned deepest = 0;
    if (items) {
        for (;;) {
            ch_val item = parse_value(ps, depth);
            if (item == CH_NOVALUE)
                return CH_NOVALUE;
            if (!ch_grow_scratch((void **)&ps->vals, &ps->cap_vals, ps->nvals + 1, sizeof(ch_val))) {
                ch_decref(item);
                return no_memory(ps);
            }
            ps->vals[ps->nvals++] = item;
            if (ch_depth(item) > deepest)
                deepest = ch_depth(item);
            int next = after_item(ps, ']', "Illegal trailing comma before end of array");
            if (next < 0)
                return CH_NOVALUE;
            if (next == 0)
                break;
        }
    }
    size_t n = ps->nvals - base;
    if (n > CH_MAX_LEN)
        return fail_at(ps, "array longer than cohive's limit", ps->p);
    ch_seq *list = ch_seq_new(CH_LIST, (uint32_t)n);
    if (list == NULL)
        return no_memory(ps);
    if (n > 0) /* the stack may not exist yet */
        memcpy(list->items, ps->vals + base, n * sizeof(ch_val));
    ps->nvals = base;
    list->h.aux = (uint16_t)(deepest + 1);
    return ch_from_ptr(list);
}

/* Entry i replaces the earlier entry j with an equal key: j keeps its key
 * and takes i's value (as a dict does), and i is dropped. */
static void replace_earlier(ch_entry *e, size_t j, size_t i)
{
    ch_decref(e[j].val);
    e[j].val = e[i].val;
    ch_decref(e[i].key);
    e[i].key = CH_NOVALUE;
}

/* Drops every entry of e[0..n) whose key comes again later (the last
 * value wins); returns how many entries remain, in order. */
static size_t drop_duplicate_keys(ch_entry *e, size_t n, bool *no_mem)
{
    if (n < 2)
        return n;
    size_t dropped = 0;
    if (n <= 16) {
        for (size_t i = 1; i < n; i++)
            for (size_t j = 0; j < i; j++)
                if (e[j].key != CH_NOVALUE && e[j].hash == e[i].hash && ch_key_eq(e[j].key, e[i].key)) {
                    replace_earlier(e, j, i);
                    dropped++;
                    break;
                }
    } else {
        size_t size = 32;
        while (size < 2 * n)
            size *= 2;
        uint32_t *table = malloc(size * sizeof(uint32_t)); /* entry index + 1, 0 when free */
        if (table == NULL) {
            *no_mem = true;
            return n;
        }
        memset(table, 0, size * sizeof(uint32_t));
        for (size_t i = 0; i < n; i++) {
            size_t slot = (size_t)e[i].hash & (size - 1);
            for (; table[slot] != 0; slot = (slot + 1) & (size - 1)) {
                size_t j = table[slot] - 1;
                if (e[j].hash == e[i].hash && ch_key_eq(e[j].key, e[i].key))
                    break;
            }
            if (table[slot] == 0) {
                table[slot] = (uint32_t)(i + 1);
            } else {
                replace_earlier(e, table[slot] - 1, i);
                dropped++;
            }
        }
        free(table);
    }
    if (dropped == 0)
        return n;
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        if (e[i].key != CH_NOVALUE)
            e[kept++] = e[i];
    return kept;
}

/* An object key at ps->p, with its hash: a plain short key comes from (or
 * goes into) the key cache; any other is parsed as a string. */
static ch_val parse_key(parser *ps, uint64_t *hash)
{
    const unsigned char *s = ps->p + 1, *end = ps->end;
    while (s < end && is_plain(*s))
        s++;
    size_t len = (size_t)(s - ps->p - 1);
    if (s >= end || *s != '"' || len > KEY_CACHE_LEN) {
        ch_val key = parse_string(ps);
        if (key != CH_NOVALUE)
            *hash = ch_hash(key);
        return key;
    }
    *hash = ch_hash_str(CH_STR_ASCII, ps->p + 1, len);
    ch_val *slot = &ps->keys[*hash & (KEY_CACHE - 1)].key;
    const ch_str *cached = *slot != CH_NOVALUE ? (const ch_str *)ch_ptr(*slot) : NULL;
    if (cached != NULL && ps->keys[*hash & (KEY_CACHE - 1)].hash == *hash && cached->h.flags == CH_STR_ASCII &&
        cached->len == len && memcmp(cached->data, ps->p + 1, len) == 0) {
        ps->p = s + 1;
        ch_incref(*slot);
        return *slot;
    }
    ch_val key = parse_string(ps);
    if (key != CH_NOVALUE) {
        ch_decref(*slot);
        ch_incref(key);
        *slot = key;
        ps->keys[*hash & (KEY_CACHE - 1)].hash = *hash;
    }
    return key;
}

static ch_val parse_object(parser *ps, unsigned depth)
{
    int items = open_container(ps, depth, '}');
    if (items < 0)
        return CH_NOVALUE;
    size_t base = ps->nentries;
    unsigned deepest = 0;
    if (items) {
        for (;;) {
            if (ps->p >= ps->end || *ps->p != '"')
                return fail_at(ps, "Expecting property name enclosed in double quotes", ps->p);
            uint64_t hash;
            ch_val key = parse_key(ps, &hash);
            if (key == CH_NOVALUE)
                return CH_NOVALUE;
            skip_space(ps);
            if (ps->p >= ps->end || *ps->p != ':') {
                ch_decref(key);
                return fail_at(ps, "Expecting ':' delimiter", ps->p);
            }
            ps->p++;
            ch_val val = parse_value(ps, depth);
            if (val == CH_NOVALUE || !ch_grow_scratch((void **)&ps->entries, &ps->cap_entries, ps->nentries + 1,
                                           sizeof(ch_entry))) {
                ch_decref(key);
                if (val == CH_NOVALUE)
                    return CH_NOVALUE;
                ch_decref(val);
                return no_memory(ps);
            }
            ps->entries[ps->nentries++] = (ch_entry){hash, key, val};
            if (ch_depth(val) > deepest)
                deepest = ch_depth(val);
            int next = after_item(ps, '}', "Illegal trailing comma before end of object");
            if (next < 0)
                return CH_NOVALUE;
            if (next == 0)
                break;
        }
    }
    bool no_mem = false;
    size_t n = drop_duplicate_keys(ps->entries + base, ps->nentries - base, &no_mem);
    if (no_mem)
        return no_memory(ps);
    ch_map *m = ch_map_build(ps->entries + base, n, (uint16_t)(deepest + 1)); /* takes the entries */
    ps->nentries = base;
    if (m == NULL)
        return no_memory(ps);
    return ch_from_ptr(m);
}

/* --- values --------------------------------------------------------------------------- */

static bool take_word(parser *ps, const char *word, size_t len)
{
    if ((size_t)(ps->end - ps->p) < len || memcmp(ps->p, word, len) != 0)
        return false;
    ps->p += len;
    return true;
}

static ch_val float_value(parser *ps, double x)
{
    ch_val v = ch_float_new(x);
    return v != CH_NOVALUE ? v : no_memory(ps);
}

static ch_val parse_value(parser *ps, unsigned depth)
{
    skip_space(ps);
    if (ps->p >= ps->end)
        return fail_at(ps, "Expecting value", ps->p);
    switch (*ps->p) {
    case '"':
        return parse_string(ps);
    case '{':
        return parse_object(ps, depth + 1);
    case '[':
        return parse_array(ps, depth + 1);
    case 't':
        if (take_word(ps, "true", 4))
            return CH_TRUE;
        break;
    case 'f':
        if (take_word(ps, "false", 5))
            return CH_FALSE;
        break;
    case 'n':
        if (take_word(ps, "null", 4))
            return CH_NONE;
        break;
    case 'N':
        if (take_word(ps, "NaN", 3))
            return float_value(ps, (double)NAN);
        break;
    case 'I':
        if (take_word(ps, "Infinity", 8))
            return float_value(ps, (double)INFINITY);
        break;
    case '-':
        if (take_word(ps, "-Infinity", 9))
            return float_value(ps, -(double)INFINITY);
        return parse_number(ps);
    default:
        if (*ps->p >= '0' && *ps->p <= '9')
            return parse_number(ps);
    }
    return fail_at(ps, "Expecting value", ps->p);
}

ch_val ch_json_parse(const unsigned char *data, size_t len, const ch_json_hooks *hooks, ch_json_parse_error *err)
{
    *err = (ch_json_parse_error){NULL, 0, 0, 0, false};
    parser ps = {.p = data, .begin = data, .end = data + len, .hooks = hooks, .err = err};
    ch_val v = parse_value(&ps, 0);
    if (v != CH_NOVALUE) {
        skip_space(&ps);
        if (ps.p != ps.end) {
            ch_decref(v);
            v = fail_at(&ps, "Extra data", ps.p);
        }
    }
    for (size_t i = 0; i < ps.nvals; i++) /* what a failure left half built */
        ch_decref(ps.vals[i]);
    for (size_t i = 0; i < ps.nentries; i++) {
        ch_decref(ps.entries[i].key);
        ch_decref(ps.entries[i].val);
    }
    for (size_t i = 0; i < KEY_CACHE; i++)
        ch_decref(ps.keys[i].key);
    free(ps.vals);
    free(ps.entries);
    free(ps.units);
    return v;
}
