/*
 * The boundary between Python objects and native values.
 *
 * freeze: Python -> native.  Walks the value once, building native objects
 * bottom up; on the first problem it releases what it built and raises an
 * error that names the offending type and the path to it, e.g.
 *     value['users'][3]['created']: datetime.datetime is not shareable
 * Built-in containers and scalars are accepted by exact type only, so no
 * __hash__, __eq__ or __iter__ of a user class runs.  Rich values
 * (rich_freeze.c) may run Python code: a dataclass's attribute getters, a
 * registered encode().  That code could change a list or dict being
 * frozen, so the loops below hold each item they freeze and stop with a
 * RuntimeError if the container's size changes.
 *
 * read: native -> Python.  Scalars become fresh objects (a str is one
 * allocation and one memcpy); maps and lists become views of the same
 * native data, kept alive by the handle they were read from (view.c), so
 * reading writes nothing shared; tuples and frozensets are rebuilt, since
 * Python code needs them to be real, hashable tuples and frozensets.
 */
#include <string.h>

#include "freezer.h"

/* --- errors ---------------------------------------------------------------------- */

/* repr(o) for a path, or a placeholder when o is nested too deep to repr
 * (a key tuple nested 10^5 deep): the error being reported is what matters. */
static PyObject *path_repr(PyObject *o)
{
    PyObject *r = PyObject_Repr(o);
    if (r == NULL && PyErr_ExceptionMatches(PyExc_RecursionError)) {
        PyErr_Clear();
        r = PyUnicode_FromFormat("<%s nested too deep to show>", Py_TYPE(o)->tp_name);
    }
    return r;
}

static PyObject *path_part(const char *format, PyObject *o)
{
    PyObject *r = path_repr(o);
    PyObject *part = r != NULL ? PyUnicode_FromFormat(format, r) : NULL;
    Py_XDECREF(r);
    return part;
}

static PyObject *path_text(freezer *f)
{
    PyObject *text = PyUnicode_FromString(f->what);
    if (text != NULL && f->under_key != NULL) {
        PyObject *part = path_part("[%.60U]", f->under_key);
        Py_SETREF(text, part != NULL ? PyUnicode_Concat(text, part) : NULL);
        Py_XDECREF(part);
    }
    for (int i = 0; text != NULL && i < f->depth; i++) {
        path_step *s = &f->path[i];
        PyObject *part;
        switch (s->kind) {
        case STEP_ITEM:
            part = path_part("[%.60U]", s->obj);
            break;
        case STEP_INDEX:
            part = PyUnicode_FromFormat("[%zd]", s->index);
            break;
        case STEP_KEY:
            part = path_part(" key %.60U", s->obj);
            break;
        case STEP_ATTR:
            part = PyUnicode_FromFormat(".%U", s->obj);
            break;
        default:
            part = path_part(" element %.60U", s->obj);
            break;
        }
        if (part == NULL) {
            Py_CLEAR(text);
            break;
        }
        Py_SETREF(text, PyUnicode_Concat(text, part));
        Py_DECREF(part);
    }
    return text;
}

int cohive_vfail_at(PyObject *(*path_of)(void *), void *walk, PyObject *exc_type, const char *format, va_list va)
{
    PyObject *message = PyUnicode_FromFormatV(format, va);
    PyObject *path = message != NULL ? path_of(walk) : NULL;
    if (path != NULL)
        PyErr_Format(exc_type, "%U: %U", path, message);
    Py_XDECREF(path);
    Py_XDECREF(message);
    return -1;
}

static PyObject *freezer_path(void *f) { return path_text(f); }

int freezer_fail(freezer *f, PyObject *exc_type, const char *format, ...)
{
    va_list va;
    va_start(va, format);
    cohive_vfail_at(freezer_path, f, exc_type, format, va);
    va_end(va);
    return -1;
}

static PyObject *type_name(PyTypeObject *tp)
{
    PyObject *qualname = PyType_GetQualName(tp);
    PyObject *module = qualname != NULL ? PyObject_GetAttrString((PyObject *)tp, "__module__") : NULL;
    if (module == NULL) {
        PyErr_Clear();
        return qualname;
    }
    PyObject *name = qualname;
    if (PyUnicode_Check(module) && PyUnicode_CompareWithASCIIString(module, "builtins") != 0)
        name = PyUnicode_FromFormat("%U.%U", module, qualname);
    else
        Py_INCREF(name);
    Py_DECREF(module);
    Py_DECREF(qualname);
    return name;
}

int freezer_fail_unshareable(freezer *f, PyObject *o)
{
    PyObject *name = type_name(Py_TYPE(o));
    if (name == NULL)
        return -1;
    f->unshareable = true;
    freezer_fail(f, PyExc_TypeError, "%U is not shareable (cohive shares None, bool, int, float, complex, str, "
                 "bytes and buffers, tuple, frozenset, dict, list, set, dates and times, Decimal, UUID, enum "
                 "members, dataclasses, named tuples, classes given to cohive.register and cohive objects)", name);
    Py_DECREF(name);
    return -1;
}

/* --- freezing --------------------------------------------------------------------- */

int freezer_enter(freezer *f, PyObject *container)
{
    if (f->depth >= CH_MAX_DEPTH)
        return freezer_fail(f, PyExc_ValueError, "nesting deeper than %d levels", CH_MAX_DEPTH);
    for (int i = 0; i < f->depth; i++)
        if (f->open[i] == container)
            return freezer_fail(f, PyExc_ValueError, "the %s contains itself", Py_TYPE(container)->tp_name);
    f->open[f->depth++] = container;
    return 0;
}

int freezer_check_len(freezer *f, Py_ssize_t n, const char *unit)
{
    if ((uint64_t)n > CH_MAX_LEN)
        return freezer_fail(f, PyExc_ValueError, "%zd %s exceed cohive's limit of %llu", n, unit,
                    (unsigned long long)CH_MAX_LEN);
    return 0;
}

static int freeze_int(freezer *f, PyObject *o, ch_val *out)
{
    int overflow;
    long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (v == -1 && PyErr_Occurred())
        return -1;
    if (!overflow && ch_fits_smallint(v)) {
        *out = ch_smallint(v);
        return 0;
    }
    size_t len;
    unsigned char *le = cohive_long_to_le(o, &len);
    if (le == NULL)
        return -1;
    if (freezer_check_len(f, (Py_ssize_t)len, "bytes of int") < 0) {
        PyMem_Free(le);
        return -1;
    }
    *out = ch_bigint_new(le, len);
    PyMem_Free(le);
    return *out == CH_NOVALUE ? (PyErr_NoMemory(), -1) : 0;
}

static int str_flag(PyObject *o)
{
    if (PyUnicode_IS_ASCII(o))
        return CH_STR_ASCII;
    int kind = PyUnicode_KIND(o);
    return kind == PyUnicode_1BYTE_KIND ? CH_STR_LATIN1 : kind;
}

static int freeze_view(freezer *f, PyObject *view, ch_val *out)
{
    ch_val shared = cohive_share_view(view); /* a heap value, whose depth is at hand */
    if (shared == CH_NOVALUE)
        return -1;
    if (f->depth + ch_depth(shared) > CH_MAX_DEPTH) {
        ch_decref(shared);
        return freezer_fail(f, PyExc_ValueError, "nesting deeper than %d levels", CH_MAX_DEPTH);
    }
    *out = shared;
    return 0;
}

static int freeze_packed_seq(freezer *f, PyObject *o, ch_type type, ch_val *out);

/* A list or tuple: packed into one object when it can be (and is not a
 * key, whose items are frozen as keys), else an object holding its items. */
static int freeze_seq(freezer *f, PyObject *o, ch_type type, ch_val *out, bool as_key, bool packable)
{
    int packed = packable && !as_key ? freeze_packed_seq(f, o, type, out) : 1;
    if (packed <= 0)
        return packed;
    Py_ssize_t n = Py_SIZE(o);
    if (freezer_check_len(f, n, "items") < 0 || freezer_enter(f, o) < 0)
        return -1;
    ch_seq *s = ch_seq_new(type, (uint32_t)n);
    if (s == NULL) {
        f->depth--;
        PyErr_NoMemory();
        return -1;
    }
    unsigned depth = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        freezer_step(f, STEP_INDEX, NULL, i);
        /* Freezing a rich item may run Python code (a registered encode),
         * which could change a list: read each item afresh and hold it. */
        if (Py_SIZE(o) != n) {
            ch_decref(ch_from_ptr(s));
            return freezer_fail(f, PyExc_RuntimeError, "the list changed size while being frozen");
        }
        PyObject *item = Py_NewRef(type == CH_TUPLE ? PyTuple_GET_ITEM(o, i) : PyList_GET_ITEM(o, i));
        int rc = freezer_freeze(f, item, as_key, &s->items[i]);
        Py_DECREF(item);
        if (rc < 0) {
            ch_decref(ch_from_ptr(s));
            return -1; /* the depth no longer matters once failed */
        }
        if (ch_depth(s->items[i]) > depth)
            depth = ch_depth(s->items[i]);
    }
    s->h.aux = (uint16_t)(depth + 1);
    f->depth--;
    *out = as_key ? ch_seq_pack(ch_from_ptr(s)) : ch_from_ptr(s); /* a key: one object when it packs */
    return *out == CH_NOVALUE ? (PyErr_NoMemory(), -1) : 0;
}

static int freeze_set(freezer *f, PyObject *o, ch_val *out)
{
    Py_ssize_t n = PySet_GET_SIZE(o);
    if (freezer_check_len(f, n, "items") < 0 || freezer_enter(f, o) < 0)
        return -1;
    ch_seq *s = ch_seq_new(CH_SET, (uint32_t)n);
    PyObject *it = s != NULL ? PyObject_GetIter(o) : NULL;
    if (it == NULL) {
        if (s == NULL)
            PyErr_NoMemory();
        else
            ch_decref(ch_from_ptr(s));
        return -1;
    }
    unsigned depth = 0;
    PyObject *item;
    for (uint32_t i = 0; i < (uint32_t)n && (item = PyIter_Next(it)) != NULL; i++) {
        freezer_step(f, STEP_ELEMENT, item, 0);
        int rc = freezer_freeze(f, item, true, &s->items[i]);
        Py_DECREF(item);
        if (rc < 0) {
            Py_DECREF(it);
            ch_decref(ch_from_ptr(s));
            return -1;
        }
        if (ch_depth(s->items[i]) > depth)
            depth = ch_depth(s->items[i]);
    }
    Py_DECREF(it);
    s->h.flags = PyFrozenSet_CheckExact(o) ? 0 : CH_SET_FROM_SET;
    s->h.aux = (uint16_t)(depth + 1);
    s = ch_set_finish(s);
    if (s == NULL)
        return PyErr_NoMemory(), -1;
    f->depth--;
    *out = ch_seq_pack(ch_from_ptr(s)); /* one object when it packs */
    return *out == CH_NOVALUE ? (PyErr_NoMemory(), -1) : 0;
}

/* Records in a container (a dict of dicts, a list of dicts) repeat the
 * same keys: from the second dict nested in a container on, keys that are
 * exact strs are frozen once per freeze and shared by reference, so a
 * million records hold their key strings once (a first step towards shapes,
 * see docs/design.md).  Bounded, so that unique keys cost no more than a
 * lookup each. */
#define SHARED_KEYS_MAX 4096

static int freeze_dict_key(freezer *f, PyObject *k, ch_val *out)
{
    if (f->shared_keys == NULL || !PyUnicode_CheckExact(k))
        return freezer_freeze(f, k, true, out);
    PyObject *known = PyDict_GetItemWithError(f->shared_keys, k);
    if (known != NULL) {
        *out = (ch_val)(uintptr_t)PyLong_AsVoidPtr(known);
        ch_incref(*out);
        return 0;
    }
    if (PyErr_Occurred() || freezer_freeze(f, k, true, out) < 0)
        return -1;
    if (PyDict_GET_SIZE(f->shared_keys) < SHARED_KEYS_MAX) {
        PyObject *frozen = PyLong_FromVoidPtr(ch_ptr(*out));
        if (frozen == NULL || PyDict_SetItem(f->shared_keys, k, frozen) < 0) {
            Py_XDECREF(frozen);
            ch_decref(*out);
            return -1;
        }
        Py_DECREF(frozen);
        ch_incref(*out); /* the table's reference, dropped by freezer_done */
    }
    return 0;
}

static void freezer_done(freezer *f)
{
    if (f->shared_keys == NULL)
        return;
    Py_ssize_t pos = 0;
    PyObject *k, *frozen;
    while (PyDict_Next(f->shared_keys, &pos, &k, &frozen))
        ch_decref((ch_val)(uintptr_t)PyLong_AsVoidPtr(frozen));
    Py_CLEAR(f->shared_keys);
}

/* Stack room for the keys of a record being frozen (see freeze_record). */
#define RECORD_KEY_BYTES 2048

/* The shape remembered for a dict whose keys are exactly `keys`, with where
 * each goes, or NULL. */
static ch_shape *remembered_shape(cohive_state *st, PyObject **keys, Py_ssize_t n, uint8_t *positions)
{
    ch_shape *shape = NULL;
    Py_BEGIN_CRITICAL_SECTION(st->Map_Type);
    for (int m = 0; shape == NULL && m < COHIVE_SHAPE_MEMOS; m++) {
        cohive_shape_memo *memo = &st->shape_memos[m];
        if (memo->keys == NULL || PyTuple_GET_SIZE(memo->keys) != n)
            continue;
        Py_ssize_t i = 0;
        while (i < n && PyTuple_GET_ITEM(memo->keys, i) == keys[i])
            i++;
        if (i == n && (shape = ch_shape_take(memo->shape, memo->set_hash, memo->serial)) != NULL)
            memcpy(positions, memo->positions, (size_t)n);
    }
    Py_END_CRITICAL_SECTION();
    return shape;
}

/* Remembers `shape` for dicts with exactly these key objects (best effort). */
static void remember_shape(cohive_state *st, PyObject **keys, Py_ssize_t n, ch_shape *shape, const uint8_t *positions)
{
    PyObject *tuple = PyTuple_New(n);
    if (tuple == NULL) {
        PyErr_Clear();
        return;
    }
    for (Py_ssize_t i = 0; i < n; i++)
        PyTuple_SET_ITEM(tuple, i, Py_NewRef(keys[i]));
    PyObject *old;
    Py_BEGIN_CRITICAL_SECTION(st->Map_Type);
    cohive_shape_memo *memo = &st->shape_memos[st->next_shape_memo++ % COHIVE_SHAPE_MEMOS];
    old = memo->keys;
    memo->keys = tuple;
    memo->shape = shape;
    memo->set_hash = shape->set_hash;
    memo->serial = shape->serial;
    memcpy(memo->positions, positions, (size_t)n);
    Py_END_CRITICAL_SECTION();
    Py_XDECREF(old); /* a tuple of strs: no Python code runs */
}

/* The shape of a dict's str keys and where each goes: remembered from an
 * earlier dict with the same key objects, or found by hashing copies of the
 * keys on the stack.  Returns 0 with a new reference in *out, 1 when the
 * keys do not fit the stack room, -1 with MemoryError. */
static int shape_of_keys(cohive_state *st, PyObject **held, Py_ssize_t n, ch_shape **out, uint8_t *positions)
{
    if ((*out = remembered_shape(st, held, n, positions)) != NULL)
        return 0;
    _Alignas(8) unsigned char room[RECORD_KEY_BYTES];
    size_t used = 0;
    ch_val keys[CH_RECORD_MAX];
    uint64_t hashes[CH_RECORD_MAX];
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *k = held[i];
        size_t len = (size_t)PyUnicode_GET_LENGTH(k), nbytes = len * PyUnicode_KIND(k);
        size_t need = ch_inside_str_bytes(nbytes);
        if (used + need > sizeof room)
            return 1;
        ch_str *probe = (ch_str *)(room + used); /* only compared, never referenced */
        used += need;
        probe->h.type = CH_STR;
        probe->h.flags = (uint8_t)str_flag(k);
        probe->len = (uint32_t)len;
        memcpy(probe->data, PyUnicode_DATA(k), nbytes);
        keys[i] = ch_from_ptr(probe);
        hashes[i] = ch_hash_str(probe->h.flags, probe->data, len);
    }
    int rc = ch_shape_of(keys, hashes, (uint32_t)n, out, positions);
    if (rc < 0)
        PyErr_NoMemory();
    else if (rc == 0)
        remember_shape(st, held, n, *out, positions);
    return rc;
}

/* Records and lists nest inside a record at most this deep; deeper ones
 * are externs.  Bounds measure(), which runs before freezing has refused
 * cycles. */
#define PACK_NESTING 8

/* The most packing a value can take: externs, and bytes of items; and
 * whether it is packed at all or held as an extern (see pack). */
typedef struct {
    bool packed;
    Py_ssize_t externs;
    size_t bytes;
} pack_bound;

#define AS_EXTERN ((pack_bound){false, 1, 3})

/* A list, tuple, set or dict's items added to *b; false when they cannot
 * be packed. */
static bool measure_items(PyObject *o, int level, pack_bound *b);

/* The bound of `o`, `level` containers deep in a record (what pack does
 * with it, measured on the Python objects before anything is frozen). */
static pack_bound measure(PyObject *o, int level)
{
    PyTypeObject *tp = Py_TYPE(o);
    if (tp == &PyUnicode_Type) {
        size_t nbytes = (size_t)PyUnicode_GET_LENGTH(o) * PyUnicode_KIND(o);
        return nbytes <= CH_PACK_STR_BYTES ? (pack_bound){true, 0, 9 + nbytes} : AS_EXTERN;
    }
    if (tp == &PyLong_Type) {
        int overflow;
        long long i = PyLong_AsLongLongAndOverflow(o, &overflow);
        return !overflow && ch_fits_smallint(i) ? (pack_bound){true, 0, 9} : AS_EXTERN;
    }
    if (o == Py_None || o == Py_True || o == Py_False || tp == &PyFloat_Type)
        return (pack_bound){true, 0, 9};
    if (tp == &PyBytes_Type)
        return (size_t)PyBytes_GET_SIZE(o) <= CH_PACK_STR_BYTES ? (pack_bound){true, 0, 5 + (size_t)PyBytes_GET_SIZE(o)}
                                                                : AS_EXTERN;
    pack_bound b = {true, 0, 0};
    if (level >= PACK_NESTING || !measure_items(o, level, &b) || b.bytes > CH_PACK_SEQ_BYTES)
        return AS_EXTERN;
    return b;
}

static bool add(pack_bound *b, PyObject *item, int level)
{
    pack_bound m = measure(item, level + 1);
    b->externs += m.externs;
    b->bytes += m.bytes;
    return b->bytes <= CH_PACK_SEQ_BYTES;
}

static bool measure_items(PyObject *o, int level, pack_bound *b)
{
    PyTypeObject *tp = Py_TYPE(o);
    Py_ssize_t n;
    if (tp == &PyList_Type || tp == &PyTuple_Type) {
        if ((n = Py_SIZE(o)) > CH_PACK_SEQ_MAX)
            return false;
        b->bytes = 3 + 2 * ((size_t)n + 1);
        for (Py_ssize_t i = 0; i < n; i++)
            if (!add(b, tp == &PyList_Type ? PyList_GET_ITEM(o, i) : PyTuple_GET_ITEM(o, i), level))
                return false;
        return true;
    }
    if (tp == &PySet_Type || tp == &PyFrozenSet_Type) {
        if ((n = PySet_GET_SIZE(o)) > CH_PACK_SEQ_MAX)
            return false;
        b->bytes = 3 + 2 * ((size_t)n + 1);
        PyObject *it = PyObject_GetIter(o), *item; /* iterating a set runs no Python code */
        bool fits = it != NULL;
        while (fits && (item = PyIter_Next(it)) != NULL) {
            fits = add(b, item, level);
            Py_DECREF(item);
        }
        Py_XDECREF(it);
        PyErr_Clear(); /* freezing it meets any error again, and reports it */
        return fits;
    }
    if (tp == &PyDict_Type) { /* as a record inside: tag, alignment, header, offsets; its shape an extern */
        if ((n = PyDict_GET_SIZE(o)) > CH_RECORD_MAX)
            return false;
        *b = (pack_bound){true, 1, 1 + 7 + sizeof(ch_record) + 2 * ((size_t)n + 1)};
        Py_ssize_t pos = 0;
        PyObject *k, *v;
        while (PyDict_Next(o, &pos, &k, &v))
            if (!add(b, v, level))
                return false;
        return true;
    }
    return false;
}

/* Packs `o`, `level` containers deep, into the record being built
 * (packed.h), with its depth in *depth: what measure() says packs, in
 * place, anything else frozen as an extern; never more externs or bytes
 * than measure() counts, unless a registered encode changes what is being
 * packed.  Returns 0, -1 with an error, or 1 when the record is out of
 * room (only then). */
static int pack(freezer *f, ch_packer *pk, PyObject *o, int level, unsigned *depth)
{
    PyTypeObject *tp = Py_TYPE(o);
    *depth = 0;
    if (tp == &PyUnicode_Type && ch_pack_str_fits(pk, (size_t)PyUnicode_GET_LENGTH(o) * PyUnicode_KIND(o))) {
        if (ch_pack_str(pk, str_flag(o), PyUnicode_DATA(o), (size_t)PyUnicode_GET_LENGTH(o)) < 0)
            return PyErr_NoMemory(), -1;
        return 0;
    }
    if (tp == &PyLong_Type) {
        int overflow;
        long long i = PyLong_AsLongLongAndOverflow(o, &overflow);
        if (!overflow && ch_fits_smallint(i))
            return ch_pack_int(pk, i) < 0 ? (PyErr_NoMemory(), -1) : 0;
    } else if (o == Py_None || o == Py_True || o == Py_False) {
        return ch_pack_const(pk, o == Py_None ? CH_NONE : o == Py_True ? CH_TRUE : CH_FALSE) < 0 ? (PyErr_NoMemory(), -1) : 0;
    } else if (tp == &PyFloat_Type) {
        return ch_pack_float(pk, PyFloat_AS_DOUBLE(o)) < 0 ? (PyErr_NoMemory(), -1) : 0;
    } else if ((tp == &PyList_Type || tp == &PyTuple_Type) && measure(o, level).packed) {
        Py_ssize_t n = Py_SIZE(o);
        if (freezer_enter(f, o) < 0)
            return -1;
        ch_pack_mark mark = ch_pack_here(pk);
        ch_pack_seq s;
        int rc = ch_pack_seq_begin(pk, &s, tp == &PyList_Type ? CH_LIST : CH_TUPLE, 0, (uint32_t)n) < 0 ? (PyErr_NoMemory(), -1) : 0;
        for (Py_ssize_t i = 0; rc == 0 && i < n; i++) {
            freezer_step(f, STEP_INDEX, NULL, i);
            if (Py_SIZE(o) != n) { /* freezing a rich item ran code that changed the list */
                rc = freezer_fail(f, PyExc_RuntimeError, "the list changed size while being frozen");
                break;
            }
            PyObject *item = Py_NewRef(tp == &PyList_Type ? PyList_GET_ITEM(o, i) : PyTuple_GET_ITEM(o, i));
            unsigned d;
            ch_pack_seq_item(pk, &s);
            rc = pack(f, pk, item, level + 1, &d);
            Py_DECREF(item);
            if (d + 1 > *depth)
                *depth = d + 1;
        }
        if (rc == 0 && !ch_pack_seq_fits(pk, &s))
            rc = 1;
        if (rc != 0) {
            ch_pack_undo(pk, mark);
            *depth = 0;
        }
        if (rc < 0)
            return -1;
        f->depth--;
        if (rc == 0) {
            if (*depth == 0)
                *depth = 1;
            ch_pack_seq_end(pk, &s);
            return 0;
        }
        /* An encode changed it while it was packed: a heap list or tuple, held as an extern. */
        ch_val v;
        if (freeze_seq(f, o, tp == &PyList_Type ? CH_LIST : CH_TUPLE, &v, false, false) < 0)
            return -1;
        *depth = ch_depth(v);
        rc = ch_pack_extern(pk, v);
        return rc < 0 ? (PyErr_NoMemory(), -1) : rc;
    }
    /* Anything else is frozen, then packed when measure() says it may be (a
     * record, a set, bytes) and takes no more externs than it counted, else
     * held as an extern. */
    pack_bound bound = measure(o, level);
    ch_val v;
    if (freezer_freeze(f, o, false, &v) < 0)
        return -1;
    *depth = ch_depth(v);
    int kind = ch_kind(v);
    if (bound.packed && (kind == CH_MAP || kind == CH_SET || kind == CH_BYTES)) {
        ch_pack_mark mark = ch_pack_here(pk);
        int rc = ch_pack_value(pk, v);
        if (rc == 0 && (Py_ssize_t)(pk->nextern - mark.nextern) > bound.externs) {
            ch_pack_undo(pk, mark);
            rc = 1;
        }
        if (rc <= 0) {
            ch_decref(v);
            return rc < 0 ? (PyErr_NoMemory(), -1) : 0;
        }
    }
    int rc = ch_pack_extern(pk, v);
    return rc < 0 ? (PyErr_NoMemory(), -1) : rc;
}

/* A list or tuple frozen on its own as one packed object (packed.h,
 * ch_packed_seq), when measure() says it packs: 0, -1 with an error, or 1
 * (having done nothing) for the heap form. */
static int freeze_packed_seq(freezer *f, PyObject *o, ch_type type, ch_val *out)
{
    pack_bound b = measure(o, 0);
    if (!b.packed || b.externs > CH_PACK_MAX_EXTERNS)
        return 1;
    ch_packer pk;
    ch_packer_init(&pk);
    unsigned depth;
    int rc = pack(f, &pk, o, 0, &depth);
    if (rc == 0 && pk.buf[0] == CH_PK_EXTERN) { /* it did not fit after all (pack's fallback): the heap form */
        *out = pk.externs[0];
        pk.nextern = 0;
    } else if (rc == 0 && (*out = ch_packed_seq_new(&pk, type, 0, (uint16_t)depth)) == CH_NOVALUE) {
        rc = (PyErr_NoMemory(), -1);
    }
    ch_packer_done(&pk);
    return rc;
}

/* A dict of 1..CH_RECORD_MAX exact str keys as a record (map.h), without
 * freezing its keys (shape_of_keys): its values are packed into the record
 * (packed.h), so a record of scalars, strs and small lists of them is one
 * allocation.  Returns 1 for a dict that is not a record (or whose keys do
 * not fit the stack room, or whose values may need more externs or bytes
 * than a record holds), 0, or -1 with an error.  (Only a registered encode
 * that changes what is being packed can make a record overflow once
 * started: its values are then frozen again, as a HAMT's.) */
static int freeze_record(freezer *f, PyObject *o, ch_val *out)
{
    Py_ssize_t n = PyDict_GET_SIZE(o), pos = 0, i = 0;
    if (n < 1 || n > CH_RECORD_MAX)
        return 1;
    PyObject *held[CH_RECORD_MAX], *k, *v;
    pack_bound all = {true, 0, 0};
    while (PyDict_Next(o, &pos, &k, &v)) {
        if (!PyUnicode_CheckExact(k))
            return 1;
        held[i++] = k;
        size_t nbytes;
        if (PyUnicode_CheckExact(v) && (nbytes = (size_t)PyUnicode_GET_LENGTH(v) * PyUnicode_KIND(v)) <= CH_PACK_STR_BYTES) {
            all.bytes += 9 + nbytes; /* measure()'s answer for the commonest value, without the call */
            continue;
        }
        pack_bound b = measure(v, 0);
        all.externs += b.externs;
        all.bytes += b.bytes;
    }
    /* Decided before anything is frozen, so nothing is frozen twice. */
    if (all.externs > CH_PACK_MAX_EXTERNS || all.bytes > CH_PACK_MAX_BYTES)
        return 1;
    ch_shape *shape;
    uint8_t positions[CH_RECORD_MAX];
    int rc = shape_of_keys(f->st, held, n, &shape, positions);
    if (rc != 0)
        return rc;
    /* Packing a rich value may run Python code that changes the dict: its
     * keys are held, and checked against what was hashed. */
    for (i = 0; i < n; i++)
        Py_INCREF(held[i]);
    ch_packer pk;
    ch_packer_init(&pk);
    uint32_t starts[CH_RECORD_MAX];
    unsigned depth = 0;
    pos = 0;
    for (i = 0; rc == 0 && PyDict_Next(o, &pos, &k, &v); i++) {
        if (i == n || PyDict_GET_SIZE(o) != n || k != held[i]) {
            rc = freezer_fail(f, PyExc_RuntimeError, "the dict changed size while being frozen");
            break;
        }
        freezer_step(f, STEP_ITEM, k, 0);
        starts[positions[i]] = (uint32_t)pk.len;
        unsigned d;
        Py_INCREF(v);
        rc = pack(f, &pk, v, 0, &d);
        Py_DECREF(v);
        if (d > depth)
            depth = d;
    }
    if (rc == 0 && i != n) /* an encode emptied it */
        rc = freezer_fail(f, PyExc_RuntimeError, "the dict changed size while being frozen");
    for (i = 0; i < n; i++)
        Py_DECREF(held[i]);
    ch_record *r = NULL;
    if (rc == 0) {
        r = ch_record_from_packer(shape, starts, &pk, (uint16_t)(depth + 1));
        if (r == NULL) {
            PyErr_NoMemory();
            rc = -1;
        }
    } else {
        ch_decref(ch_from_ptr(shape));
    }
    ch_packer_done(&pk);
    if (r == NULL)
        return rc < 0 ? -1 : 1;
    *out = ch_from_ptr(r);
    return 0;
}

static int freeze_dict(freezer *f, PyObject *o, ch_val *out)
{
    if (freezer_enter(f, o) < 0)
        return -1;
    int as_record = freeze_record(f, o, out);
    if (as_record <= 0) {
        if (as_record == 0)
            f->depth--;
        return as_record;
    }
    if (f->depth > 1 && ++f->nested_dicts == 2 && (f->shared_keys = PyDict_New()) == NULL)
        return -1;
    Py_ssize_t size = PyDict_GET_SIZE(o), n = 0;
    ch_entry *entries = PyMem_Malloc((size_t)(size > 0 ? size : 1) * sizeof(ch_entry));
    if (entries == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    unsigned depth = 0;
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    while (PyDict_Next(o, &pos, &k, &v)) {
        ch_entry *e = &entries[n];
        if (n == size || PyDict_GET_SIZE(o) != size) { /* Python code run by freezing changed it */
            freezer_fail(f, PyExc_RuntimeError, "the dict changed size while being frozen");
            goto error;
        }
        Py_INCREF(k);
        Py_INCREF(v);
        freezer_step(f, STEP_KEY, k, 0);
        int rc = freeze_dict_key(f, k, &e->key);
        freezer_step(f, STEP_ITEM, k, 0);
        if (rc == 0 && freezer_freeze(f, v, false, &e->val) < 0) {
            ch_decref(e->key);
            rc = -1;
        }
        Py_DECREF(k);
        Py_DECREF(v);
        if (rc < 0)
            goto error;
        e->hash = ch_hash(e->key);
        n++;
        unsigned d = ch_depth(e->key) > ch_depth(e->val) ? ch_depth(e->key) : ch_depth(e->val);
        if (d > depth)
            depth = d;
    }
    ch_map *m = ch_map_build(entries, (size_t)n, (uint16_t)(depth + 1));
    PyMem_Free(entries);
    if (m == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    f->depth--;
    *out = ch_from_ptr(m);
    return 0;
error:
    for (Py_ssize_t i = 0; i < n; i++) {
        ch_decref(entries[i].key);
        ch_decref(entries[i].val);
    }
    PyMem_Free(entries);
    return -1;
}

int freezer_fail_unhashable(freezer *f, PyObject *o)
{
    return freezer_fail(f, PyExc_TypeError, "unhashable type: '%s' (keys and set items must be hashable)",
                Py_TYPE(o)->tp_name);
}

int freezer_freeze(freezer *f, PyObject *o, bool as_key, ch_val *out)
{
    PyTypeObject *tp = Py_TYPE(o);
    cohive_state *st = f->st;
    if (tp == &PyUnicode_Type) {
        Py_ssize_t len = PyUnicode_GET_LENGTH(o);
        if (freezer_check_len(f, len, "characters") < 0)
            return -1;
        *out = ch_str_new(str_flag(o), PyUnicode_DATA(o), (size_t)len);
    } else if (tp == &PyLong_Type) {
        return freeze_int(f, o, out);
    } else if (o == Py_None || o == Py_True || o == Py_False) {
        *out = o == Py_None ? CH_NONE : o == Py_True ? CH_TRUE : CH_FALSE;
        return 0;
    } else if (tp == &PyFloat_Type) {
        *out = ch_float_new(PyFloat_AS_DOUBLE(o));
    } else if (tp == st->Map_Type) {
        return freeze_view(f, o, out);
    } else if (tp == &PyTuple_Type) {
        return freeze_seq(f, o, CH_TUPLE, out, as_key, true);
    } else if (tp == &PyBytes_Type) {
        Py_ssize_t len = PyBytes_GET_SIZE(o);
        if (freezer_check_len(f, len, "bytes") < 0)
            return -1;
        *out = ch_bytes_new(PyBytes_AS_STRING(o), (size_t)len);
    } else if (tp == st->FrozenList_Type) {
        return freeze_view(f, o, out);
    } else if (tp == &PyList_Type) {
        return as_key ? freezer_fail_unhashable(f, o) : freeze_seq(f, o, CH_LIST, out, false, true);
    } else if (PyDict_Check(o)) {
        return as_key ? freezer_fail_unhashable(f, o) : freeze_dict(f, o, out);
    } else if (tp == &PyFrozenSet_Type) {
        return freeze_set(f, o, out);
    } else if (tp == &PySet_Type) {
        return as_key ? freezer_fail_unhashable(f, o) : freeze_set(f, o, out);
    } else if (tp == st->Ref_Type || tp == st->Queue_Type || tp == st->Lock_Type || tp == st->Event_Type ||
               tp == st->Semaphore_Type || tp == st->Barrier_Type || tp == st->Counter_Type) {
        *out = ch_from_ptr(((NativeObject *)o)->native); /* passed by reference */
        ch_incref(*out);
        return 0;
    } else if (tp == &PyComplex_Type) {
        Py_complex c = PyComplex_AsCComplex(o);
        *out = ch_complex_new(c.real, c.imag);
    } else {
        return cohive_freeze_rich(f, o, as_key, out);
    }
    if (*out == CH_NOVALUE) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

/* Runs a freeze and frees what it kept for its duration. */
static int freezer_run(freezer *f, PyObject *obj, bool as_key, ch_val *out)
{
    int rc = freezer_freeze(f, obj, as_key, out);
    freezer_done(f);
    return rc;
}

int cohive_freeze(cohive_state *st, PyObject *obj, const char *what, ch_val *out)
{
    freezer f = {.st = st, .what = what};
    return freezer_run(&f, obj, false, out);
}

int cohive_freeze_item_value(cohive_state *st, PyObject *key, PyObject *value, ch_val *out)
{
    freezer f = {.st = st, .what = "value", .under_key = key};
    return freezer_run(&f, value, false, out);
}

int cohive_freeze_key(cohive_state *st, PyObject *obj, ch_val *out)
{
    freezer f = {.st = st, .what = "key"};
    return freezer_run(&f, obj, true, out);
}

/* Freezes something only to search for it: an unshareable type is not an
 * error, since nothing frozen can equal it. */
static int probe_freeze(cohive_state *st, PyObject *obj, bool as_key, ch_val *out)
{
    freezer f = {.st = st, .what = as_key ? "key" : "value"};
    if (freezer_run(&f, obj, as_key, out) == 0)
        return 1;
    if (!f.unshareable)
        return -1;
    PyErr_Clear();
    return 0;
}

int cohive_probe(cohive_state *st, PyObject *obj, key_probe *p, uint64_t *hash)
{
    PyTypeObject *tp = Py_TYPE(obj);
    p->owned = false;
    if (tp == &PyUnicode_Type) {
        size_t len = (size_t)PyUnicode_GET_LENGTH(obj), nbytes = len * PyUnicode_KIND(obj);
        if (nbytes <= sizeof p->buf - sizeof(ch_str)) {
            /* A str object on the stack: only ever compared, never referenced. */
            ch_str *s = (ch_str *)p->buf;
            s->h.type = CH_STR;
            s->h.flags = (uint8_t)str_flag(obj);
            s->len = (uint32_t)len;
            memcpy(s->data, PyUnicode_DATA(obj), nbytes);
            p->key = ch_from_ptr(s);
            *hash = ch_hash_str(s->h.flags, s->data, len);
            return 1;
        }
    } else if (tp == &PyLong_Type) {
        int overflow;
        long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
        if (!overflow && ch_fits_smallint(v)) {
            p->key = ch_smallint(v);
            *hash = ch_hash(p->key);
            return 1;
        }
    }
    int rc = probe_freeze(st, obj, true, &p->key);
    if (rc == 1) {
        p->owned = true;
        *hash = ch_hash(p->key);
    }
    return rc;
}

int cohive_probe_value(cohive_state *st, PyObject *obj, ch_val *out) { return probe_freeze(st, obj, false, out); }

void cohive_probe_done(key_probe *p)
{
    if (p->owned)
        ch_decref(p->key);
}

/* --- reading ------------------------------------------------------------------------ */

static const Py_UCS4 max_char_of_flag[] = {0x7f, 0xff, 0xffff, 0, 0x10ffff};

static PyObject *read_seq(cohive_state *st, ch_val v, PyObject *owner,
                          PyObject *(*convert)(cohive_state *, ch_val, PyObject *))
{
    ch_items s = ch_items_of(v);
    PyObject *t = PyTuple_New(s.len);
    for (uint32_t i = 0; t != NULL && i < s.len; i++) {
        PyObject *item = convert(st, ch_items_at(&s, i), owner);
        if (item == NULL)
            Py_CLEAR(t);
        else
            PyTuple_SET_ITEM(t, i, item);
    }
    return t;
}

/* A Map, FrozenList or FrozenBytes read from a value: a view borrowing `o`
 * from `owner`, or, with no owner, a handle taking its own reference. */
static PyObject *read_view(PyTypeObject *type, ch_head *o, PyObject *owner)
{
    if (owner == NULL) {
        ch_val own = ch_unpack(ch_from_ptr(o)); /* a reference, or a copy of a value inside a record */
        if (own == CH_NOVALUE)
            return PyErr_NoMemory();
        o = ch_ptr(own);
    }
    return cohive_new_view(type, o, owner);
}

PyObject *cohive_read_in(cohive_state *st, ch_val v, PyObject *owner)
{
    if (ch_is_smallint(v))
        return PyLong_FromLongLong(ch_smallint_value(v));
    /* Strs, bytes, floats and sequences may be packed in a record (packed.h):
     * read through the accessors that serve both forms. */
    switch (ch_kind(v)) {
    case 0:
        return Py_NewRef(v == CH_TRUE ? Py_True : v == CH_FALSE ? Py_False : Py_None);
    case CH_STR: {
        ch_text t = ch_str_text(v);
        PyObject *r = PyUnicode_New(t.len, max_char_of_flag[t.flags]);
        if (r != NULL)
            memcpy(PyUnicode_DATA(r), t.data, (size_t)t.len * ch_text_width(t));
        return r;
    }
    case CH_BYTES: {
        ch_text t = ch_str_text(v);
        if (t.flags & CH_BYTES_FROM_BUFFER) /* never packed */
            return read_view(st->FrozenBytes_Type, ch_ptr(v), owner);
        return PyBytes_FromStringAndSize((const char *)t.data, t.len);
    }
    case CH_FLOAT:
        return PyFloat_FromDouble(ch_float_of(v));
    case CH_TUPLE:
        return read_seq(st, v, owner, cohive_read_in);
    case CH_SET: {
        PyObject *items = read_seq(st, v, owner, cohive_read_in);
        PyObject *r = items != NULL ? PyFrozenSet_New(items) : NULL;
        Py_XDECREF(items);
        return r;
    }
    case CH_LIST: /* a packed list's view holds the packed word in its native field (frozenlist.c) */
        return read_view(st->FrozenList_Type, (ch_head *)(uintptr_t)v, owner);
    default:
        break;
    }
    ch_head *o = ch_ptr(v);
    switch (o->type) {
    case CH_COMPLEX:
        return PyComplex_FromDoubles(((const ch_complex *)o)->real, ((const ch_complex *)o)->imag);
    case CH_BIGINT:
        return cohive_long_from_le(((const ch_bigint *)o)->data, ((const ch_bigint *)o)->len);
    case CH_MAP:
        return read_view(st->Map_Type, o, owner);
    case CH_REF:
        ch_incref(v);
        return cohive_wrap_ref(st, (ch_ref *)o);
    case CH_QUEUE:
        ch_incref(v);
        return cohive_wrap_queue(st, (ch_queue *)o);
    case CH_LOCK:
    case CH_EVENT:
    case CH_SEMAPHORE:
    case CH_BARRIER:
    case CH_COUNTER:
        ch_incref(v);
        return cohive_wrap_sync(st, (ch_sync *)o);
    case CH_TIME:
    case CH_DECIMAL:
    case CH_UUID:
    case CH_INSTANCE:
        return cohive_read_rich(st, v, cohive_read_in, owner);
    default:
        PyErr_Format(PyExc_SystemError, "cohive: unknown native type %d", o->type);
        return NULL;
    }
}

PyObject *cohive_thaw(cohive_state *st, ch_val v, PyObject *owner)
{
    switch (ch_kind(v)) {
    case CH_MAP: {
        PyObject *d = PyDict_New();
        ch_map_iter it;
        ch_val key, val;
        ch_map_iter_init(&it, (const ch_map *)ch_ptr(v));
        while (d != NULL && ch_map_iter_next(&it, &key, &val)) {
            PyObject *k = cohive_read_in(st, key, owner); /* keys stay hashable */
            PyObject *x = k != NULL ? cohive_thaw(st, val, owner) : NULL;
            if (x == NULL || PyDict_SetItem(d, k, x) < 0)
                Py_CLEAR(d);
            Py_XDECREF(k);
            Py_XDECREF(x);
        }
        return d;
    }
    case CH_LIST: {
        PyObject *items = read_seq(st, v, owner, cohive_thaw);
        PyObject *r = items != NULL ? PySequence_List(items) : NULL;
        Py_XDECREF(items);
        return r;
    }
    case CH_TUPLE:
        return read_seq(st, v, owner, cohive_thaw);
    case CH_SET: {
        PyObject *items = read_seq(st, v, owner, cohive_read_in);
        PyObject *r = NULL;
        if (items != NULL)
            r = ch_items_of(v).flags & CH_SET_FROM_SET ? PySet_New(items) : PyFrozenSet_New(items);
        Py_XDECREF(items);
        return r;
    }
    case CH_INSTANCE:
        return cohive_read_rich(st, v, cohive_thaw, owner);
    default:
        return cohive_read_in(st, v, owner);
    }
}
