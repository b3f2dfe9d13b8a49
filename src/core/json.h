/*
 * JSON straight from and into frozen values (json_write.c, json_read.c).
 *
 * The output is what json.dumps(thaw(v), separators=(",", ":"),
 * ensure_ascii=False) gives, encoded in UTF-8; the parser accepts what
 * json.loads accepts and builds the same values, frozen.  The few things
 * plain C cannot do exactly as CPython does (the shortest repr of a float,
 * correctly rounded parsing of long floats, the int digit limit) come from
 * hooks the binding supplies.
 */
#ifndef COHIVE_CORE_JSON_H
#define COHIVE_CORE_JSON_H

#include "object.h"

typedef struct {
    /* repr(x) of a finite double into out[32]; its length, 0 on failure. */
    size_t (*format_double)(double x, char *out);
    /* float(text) of a valid JSON number that is not an int. */
    double (*parse_double)(const char *text, size_t len);
    /* The most digits an int may have in text (0: no limit), as int() allows. */
    size_t (*int_digit_limit)(void);
} ch_json_hooks;

typedef enum {
    CH_JSON_OK,
    CH_JSON_NO_MEMORY,
    CH_JSON_UNSUPPORTED,  /* `offender` has no JSON form (bytes, set, ...) */
    CH_JSON_BAD_KEY,      /* a map key `offender` is not str, int, float, bool or None */
    CH_JSON_UNSORTABLE,   /* sort_keys met keys `offender` and `other` that do not compare */
    CH_JSON_INT_TOO_LONG, /* an int `offender` has more digits than the limit */
} ch_json_status;

/* One step into a container on the way to an error: a map key or an index. */
typedef struct {
    ch_val key; /* borrowed; CH_NOVALUE for an index */
    uint32_t index;
} ch_json_step;

typedef struct {
    unsigned char *data; /* the output so far, `len` of `cap` bytes: `first`, then ch_alloc'd */
    size_t len, cap;
    unsigned char first[2048]; /* small documents need no allocation */
    const ch_json_hooks *hooks;
    bool sort_keys;
    size_t int_digit_limit; /* asked of the hooks on the first big int */
    bool have_limit;
    /* After a failure: what failed, and where (steps from the value given
     * to ch_json_write_value, `depth` of them). */
    ch_json_status status;
    ch_val offender, other; /* borrowed */
    size_t int_digits;
    int depth;
    ch_json_step path[CH_MAX_DEPTH];
} ch_json_writer;

void ch_json_writer_init(ch_json_writer *w, const ch_json_hooks *hooks, bool sort_keys);
void ch_json_writer_free(ch_json_writer *w);

/* Each returns 0, or -1 with w->status set. */
int ch_json_write_value(ch_json_writer *w, ch_val v);
int ch_json_write_key(ch_json_writer *w, ch_val key); /* the key as a JSON string, then ':' */
int ch_json_write_str(ch_json_writer *w, int str_flag, const void *data, size_t len);
int ch_json_write_int64(ch_json_writer *w, int64_t v);
int ch_json_write_bigint(ch_json_writer *w, ch_val big); /* a CH_BIGINT */
int ch_json_write_double(ch_json_writer *w, double x);
int ch_json_write_raw(ch_json_writer *w, const char *text, size_t len);

/* --- parsing ------------------------------------------------------------------ */

typedef struct {
    const char *message; /* static text, like json.loads's ("Expecting value") */
    size_t pos;          /* byte offset into the input */
    size_t int_digits;   /* for "int too long": how many it had */
    size_t int_limit;
    bool no_memory;
} ch_json_parse_error;

/* The frozen value of the UTF-8 document data[0..len) (a new reference), or
 * CH_NOVALUE with *err set.  Objects become maps (the last of duplicate keys
 * wins), arrays lists.  Lone surrogates may appear UTF-8 encoded, as
 * Python's 'surrogatepass' writes them. */
ch_val ch_json_parse(const unsigned char *data, size_t len, const ch_json_hooks *hooks, ch_json_parse_error *err);

#endif
