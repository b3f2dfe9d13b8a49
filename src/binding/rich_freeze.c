/*
 * Freezing rich values: dates and times, Decimal, UUID, buffers, and
 * instances of classes that travel by name (enum members, dataclasses,
 * named tuples, classes given to cohive.register).  Layouts: values_layout.h.
 *
 * The first time a type is met in an interpreter, cohive/_types.py
 * (`classify`) says what it is; the answer is cached in st->rich_classes as a
 * capsule holding a rich_class (for instances: the frozen class name and
 * field names, shared by every instance).  The datetime, decimal and enum
 * modules are never imported by cohive for this: a value of those types can
 * only exist once its module is loaded.
 */
#include <math.h>
#include <string.h>

#include "freezer.h"
#include "rich.h"

enum {
    KIND_DATE = 1,
    KIND_DATETIME,
    KIND_TIME,
    KIND_TIMEDELTA,
    KIND_DECIMAL,
    KIND_UUID,
    KIND_INSTANCE,
};

typedef struct {
    int kind;
    int inst_flags; /* CH_INST_* for KIND_INSTANCE */
    ch_val cls;     /* frozen "module:qualname", or CH_NONE */
    ch_val fields;  /* frozen field names, or CH_NONE */
    PyObject *names;  /* the field names as str (dataclass), or NULL */
    PyObject *encode; /* registered classes */
} rich_class;

static const char *const attr_names[A_COUNT] = {"year", "month", "day", "hour", "minute", "second",
                                                "microsecond", "fold", "tzinfo", "days", "seconds",
                                                "microseconds", "int", "_value_", "is_safe",
                                                "_value2member_map_"};

static void rich_class_free(PyObject *capsule)
{
    rich_class *rc = PyCapsule_GetPointer(capsule, "cohive.rich_class");
    if (rc == NULL)
        return;
    ch_decref(rc->cls);
    ch_decref(rc->fields);
    Py_XDECREF(rc->names);
    Py_XDECREF(rc->encode);
    PyMem_Free(rc);
}

PyObject *cohive_rich_attr(cohive_state *st, int which)
{
    if (st->rich_names == NULL) {
        st->rich_names = PyTuple_New(A_COUNT);
        for (int i = 0; st->rich_names != NULL && i < A_COUNT; i++) {
            PyObject *name = PyUnicode_InternFromString(attr_names[i]);
            if (name == NULL)
                Py_CLEAR(st->rich_names);
            else
                PyTuple_SET_ITEM(st->rich_names, i, name);
        }
        if (st->rich_names == NULL)
            return NULL;
    }
    return PyTuple_GET_ITEM(st->rich_names, which);
}

static int get_int(cohive_state *st, PyObject *o, int which, long *out)
{
    PyObject *name = cohive_rich_attr(st, which);
    PyObject *v = name != NULL ? PyObject_GetAttr(o, name) : NULL;
    if (v == NULL)
        return -1;
    *out = PyLong_AsLong(v);
    Py_DECREF(v);
    return *out == -1 && PyErr_Occurred() ? -1 : 0;
}

/* --- classifying types --------------------------------------------------------- */

/* A new reference to the capsule holding a type's rich_class (held while
 * freezing: a registered encode() may call cohive.register, which empties
 * the cache); NULL with no error when cohive cannot share the type. */
static PyObject *classify(freezer *f, PyTypeObject *tp)
{
    cohive_state *st = f->st;
    if (st->rich_classes == NULL && (st->rich_classes = PyDict_New()) == NULL)
        return NULL;
    PyObject *found = PyDict_GetItemWithError(st->rich_classes, (PyObject *)tp);
    if (found != NULL)
        return found == Py_None ? NULL : Py_NewRef(found);
    if (PyErr_Occurred())
        return NULL;
    PyObject *arg = (PyObject *)tp;
    PyObject *answer = cohive_call_helper(st, "classify", &arg, 1);
    if (answer == NULL) { /* refused with a reason (a local class...): give it its path */
        PyObject *exc = PyErr_GetRaisedException();
        if (PyErr_GivenExceptionMatches(exc, PyExc_TypeError)) {
            PyObject *text = PyObject_Str(exc);
            f->unshareable = true; /* a lookup of such a value finds nothing, as for other types */
            if (text != NULL)
                freezer_fail(f, PyExc_TypeError, "%U", text);
            Py_XDECREF(text);
            Py_DECREF(exc);
        } else {
            PyErr_SetRaisedException(exc);
        }
        return NULL;
    }
    PyObject *stored = Py_None;
    if (answer != Py_None) {
        /* (kind, instance flags, class name or None, field names or None, encode or None) */
        int kind, inst_flags;
        PyObject *cls, *names, *encode;
        rich_class *rc = NULL;
        if (!PyArg_ParseTuple(answer, "iiOOO", &kind, &inst_flags, &cls, &names, &encode) ||
            (rc = PyMem_Calloc(1, sizeof(rich_class))) == NULL) {
            if (!PyErr_Occurred())
                PyErr_NoMemory();
            Py_DECREF(answer);
            return NULL;
        }
        *rc = (rich_class){kind, inst_flags, CH_NONE, CH_NONE, NULL, NULL};
        stored = PyCapsule_New(rc, "cohive.rich_class", rich_class_free);
        if (stored == NULL)
            PyMem_Free(rc);
        else if ((cls != Py_None && cohive_freeze(st, cls, "class name", &rc->cls) < 0) ||
                 (names != Py_None && cohive_freeze(st, names, "field names", &rc->fields) < 0))
            Py_CLEAR(stored);
        else {
            rc->names = names != Py_None ? Py_NewRef(names) : NULL;
            rc->encode = encode != Py_None ? Py_NewRef(encode) : NULL;
        }
    }
    Py_DECREF(answer);
    if (stored == NULL || PyDict_SetItem(st->rich_classes, (PyObject *)tp, stored) < 0) {
        Py_XDECREF(stored);
        return NULL;
    }
    return stored != Py_None ? stored : NULL;
}

/* --- freezing ----------------------------------------------------------------------- */

/* (tz kind, zone key or name or None, UTC offset in microseconds or None)
 * for a datetime or time `o` in zone `tz`.  A fixed-offset timezone's answer
 * does not depend on `o` and is cached in st->rich_classes, keyed by the
 * timezone (a type never equals one). */
static PyObject *tz_state(freezer *f, PyObject *o, PyObject *tz)
{
    cohive_state *st = f->st;
    PyObject *r = cohive_rich_readers(st);
    if (r == NULL)
        return NULL;
    bool fixed = Py_TYPE(tz) == (PyTypeObject *)PyTuple_GET_ITEM(r, R_TIMEZONE);
    PyObject *state = fixed ? PyDict_GetItemWithError(st->rich_classes, tz) : NULL;
    if (state != NULL || PyErr_Occurred())
        return Py_XNewRef(state);
    PyObject *args[] = {o, tz};
    state = cohive_call_helper(st, "tz_state", args, 2);
    if (state == NULL) {
        PyObject *type = PyObject_Str((PyObject *)Py_TYPE(tz));
        PyErr_Clear();
        f->unshareable = true;
        if (type != NULL)
            freezer_fail(f, PyExc_TypeError, "a time zone of type %U is not shareable (cohive shares "
                         "datetime.timezone and zoneinfo.ZoneInfo with a key)", type);
        Py_XDECREF(type);
        return NULL;
    }
    if (fixed && PyDict_SetItem(st->rich_classes, tz, state) < 0)
        Py_CLEAR(state);
    return state;
}

static int freeze_time(freezer *f, PyObject *o, int kind, ch_val *out)
{
    static const int flags_of_kind[] = {0, CH_TIME_DATE, CH_TIME_DATETIME, CH_TIME_TIME, CH_TIME_DELTA};
    cohive_state *st = f->st;
    ch_time *t = ch_time_new(flags_of_kind[kind]);
    if (t == NULL)
        return PyErr_NoMemory(), -1;
    long v[8] = {0};
    int rc = 0;
    if (kind == KIND_TIMEDELTA) {
        for (int i = 0; rc == 0 && i < 3; i++)
            rc = get_int(st, o, A_DAYS + i, &v[i]);
        t->days = (int32_t)v[0];
        t->seconds = (int32_t)v[1];
        t->microsecond = (int32_t)v[2];
    } else {
        int first = kind == KIND_TIME ? A_HOUR : A_YEAR, last = kind == KIND_DATE ? A_DAY : A_FOLD;
        for (int i = first; rc == 0 && i <= last; i++)
            rc = get_int(st, o, i, &v[i]);
        t->year = (int32_t)v[A_YEAR];
        t->month = (uint8_t)v[A_MONTH];
        t->day = (uint8_t)v[A_DAY];
        t->hour = (uint8_t)v[A_HOUR];
        t->minute = (uint8_t)v[A_MINUTE];
        t->second = (uint8_t)v[A_SECOND];
        t->microsecond = (int32_t)v[A_MICROSECOND];
        t->fold = (uint8_t)v[A_FOLD];
    }
    PyObject *tz = NULL;
    if (rc == 0 && kind != KIND_DATE && kind != KIND_TIMEDELTA) {
        PyObject *name = cohive_rich_attr(st, A_TZINFO);
        tz = name != NULL ? PyObject_GetAttr(o, name) : NULL;
        rc = tz == NULL ? -1 : 0;
    }
    if (rc == 0 && tz != NULL && tz != Py_None) {
        PyObject *state = tz_state(f, o, tz);
        int tz_kind;
        PyObject *zone, *offset;
        if (state == NULL || !PyArg_ParseTuple(state, "iOO", &tz_kind, &zone, &offset)) {
            rc = -1;
        } else {
            t->tz = (uint8_t)tz_kind;
            if (offset != Py_None) {
                t->has_offset = 1;
                t->offset_us = PyLong_AsLongLong(offset);
                rc = t->offset_us == -1 && PyErr_Occurred() ? -1 : 0;
            }
            if (rc == 0 && zone != Py_None)
                rc = cohive_freeze(st, zone, "time zone", &t->zone);
        }
        Py_XDECREF(state);
    }
    Py_XDECREF(tz);
    if (rc < 0) {
        ch_decref(ch_from_ptr(t));
        return -1;
    }
    *out = ch_from_ptr(t);
    return 0;
}

/* Parses str(Decimal) into sign, kind, digits and exponent. */
static int parse_decimal(const char *s, Py_ssize_t len, int *flags, char *digits, size_t *ndigits, int64_t *exponent)
{
    Py_ssize_t i = 0;
    size_t n = 0;
    int64_t frac = 0, e = 0;
    bool dot = false;
    *flags = CH_DEC_FINITE;
    if (i < len && s[i] == '-') {
        *flags |= CH_DEC_NEGATIVE;
        i++;
    }
    if (i < len && (s[i] == 'I' || s[i] == 'N' || s[i] == 's')) {
        *flags |= s[i] == 'I' ? CH_DEC_INFINITE : s[i] == 'N' ? CH_DEC_NAN : CH_DEC_SNAN;
        i += s[i] == 'I' ? 8 : s[i] == 'N' ? 3 : 4;
        for (; i < len; i++)
            digits[n++] = s[i];
        *ndigits = n;
        *exponent = 0;
        return 0;
    }
    for (; i < len && s[i] != 'E'; i++) {
        if (s[i] == '.') {
            dot = true;
            continue;
        }
        if (n > 0 || s[i] != '0')
            digits[n++] = s[i];
        frac += dot;
    }
    if (n == 0)
        digits[n++] = '0';
    if (i < len && sscanf(s + i + 1, "%lld", (long long *)&e) != 1)
        return -1;
    *ndigits = n;
    *exponent = e - frac;
    return 0;
}

/* The int or float a finite Decimal equals, if any (dict equality needs it). */
static int decimal_number(freezer *f, PyObject *o, int flags, size_t ndigits, int64_t exponent, const char *digits,
                          ch_val *out)
{
    *out = CH_NOVALUE;
    int kind = flags & CH_DEC_KIND_MASK;
    if (kind == CH_DEC_INFINITE) {
        *out = ch_float_new(flags & CH_DEC_NEGATIVE ? -HUGE_VAL : HUGE_VAL);
        return *out == CH_NOVALUE ? (PyErr_NoMemory(), -1) : 0;
    }
    if (kind != CH_DEC_FINITE)
        return 0;
    size_t zeros = 0;
    while (zeros < ndigits && digits[ndigits - 1 - zeros] == '0')
        zeros++;
    bool integral = exponent >= 0 || (int64_t)zeros >= -exponent || (ndigits == 1 && digits[0] == '0');
    if (integral) {
        /* Beyond Python's int-string limit an int would be huge: compare no further. */
        if (exponent + (int64_t)ndigits > 4300)
            return 0;
        PyObject *i = PyNumber_Long(o);
        int rc = i != NULL ? freezer_freeze(f, i, true, out) : -1;
        Py_XDECREF(i);
        return rc;
    }
    /* c * 10**-k equals a binary fraction only if 5**k divides c: settle the
     * common case (prices, measurements) without Python arithmetic. */
    int64_t k = -exponent - (int64_t)zeros;
    if (k <= 26) {
        uint64_t five_k = 1, rem = 0;
        for (int64_t i = 0; i < k; i++)
            five_k *= 5;
        for (size_t i = 0; i < ndigits - zeros; i++)
            rem = (rem * 10 + (uint64_t)(digits[i] - '0')) % five_k;
        if (rem != 0)
            return 0;
    }
    PyObject *fl = PyNumber_Float(o);
    if (fl == NULL)
        return -1;
    int same = PyObject_RichCompareBool(o, fl, Py_EQ); /* Decimal == float is exact */
    if (same > 0)
        *out = ch_float_new(PyFloat_AS_DOUBLE(fl));
    Py_DECREF(fl);
    if (same < 0)
        return -1;
    return same > 0 && *out == CH_NOVALUE ? (PyErr_NoMemory(), -1) : 0;
}

static int freeze_decimal(freezer *f, PyObject *o, ch_val *out)
{
    PyObject *text = PyObject_Str(o);
    if (text == NULL)
        return -1;
    Py_ssize_t len;
    const char *s = PyUnicode_AsUTF8AndSize(text, &len);
    char *digits = s != NULL ? PyMem_Malloc((size_t)len + 1) : NULL;
    int flags, rc = -1;
    size_t ndigits;
    int64_t exponent;
    ch_val number = CH_NOVALUE;
    if (digits == NULL) {
        if (s != NULL)
            PyErr_NoMemory();
    } else if (parse_decimal(s, len, &flags, digits, &ndigits, &exponent) < 0) {
        freezer_fail(f, PyExc_ValueError, "cannot read the Decimal %R", o);
    } else if (decimal_number(f, o, flags, ndigits, exponent, digits, &number) == 0) {
        *out = ch_decimal_new(flags, digits, ndigits, exponent, number);
        rc = *out == CH_NOVALUE ? (PyErr_NoMemory(), -1) : 0;
    }
    PyMem_Free(digits);
    Py_DECREF(text);
    return rc;
}

static int freeze_uuid(freezer *f, PyObject *o, ch_val *out)
{
    PyObject *name = cohive_rich_attr(f->st, A_INT);
    PyObject *i = name != NULL ? PyObject_GetAttr(o, name) : NULL;
    if (i == NULL)
        return -1;
    size_t len;
    unsigned char *le = PyLong_Check(i) ? cohive_long_to_le(i, &len) : NULL;
    Py_DECREF(i);
    if (le == NULL)
        return PyErr_Occurred() ? -1 : freezer_fail(f, PyExc_TypeError, "a UUID whose int is not an int");
    unsigned char be[16] = {0};
    for (size_t k = 0; k < len && k < 16; k++)
        be[15 - k] = le[k];
    PyMem_Free(le);
    *out = ch_uuid_new(be);
    return *out == CH_NOVALUE ? (PyErr_NoMemory(), -1) : 0;
}

static int freeze_instance(freezer *f, PyObject *o, rich_class *rc, bool as_key, ch_val *out)
{
    if (as_key && Py_TYPE(o)->tp_hash == PyObject_HashNotImplemented)
        return freezer_fail_unhashable(f, o);
    if (freezer_enter(f, o) < 0)
        return -1;
    ch_val payload = CH_NOVALUE;
    int result = 0;
    if (rc->inst_flags == CH_INST_DATACLASS || rc->inst_flags == CH_INST_NAMEDTUPLE) {
        bool named_tuple = rc->inst_flags == CH_INST_NAMEDTUPLE;
        Py_ssize_t n = named_tuple ? PyTuple_GET_SIZE(o) : PyTuple_GET_SIZE(rc->names);
        ch_seq *s = ch_seq_new(CH_TUPLE, (uint32_t)n);
        if (s == NULL)
            return PyErr_NoMemory(), -1;
        unsigned depth = 0;
        for (Py_ssize_t i = 0; result == 0 && i < n; i++) {
            PyObject *item;
            if (named_tuple) {
                freezer_step(f, STEP_INDEX, NULL, i);
                item = Py_NewRef(PyTuple_GET_ITEM(o, i));
            } else {
                freezer_step(f, STEP_ATTR, PyTuple_GET_ITEM(rc->names, i), 0);
                item = PyObject_GetAttr(o, PyTuple_GET_ITEM(rc->names, i));
            }
            result = item != NULL ? freezer_freeze(f, item, as_key, &s->items[i]) : -1;
            Py_XDECREF(item);
            if (result == 0 && ch_depth(s->items[i]) > depth)
                depth = ch_depth(s->items[i]);
        }
        s->h.aux = (uint16_t)(depth + 1);
        payload = ch_from_ptr(s);
    } else {
        PyObject *inner;
        if (rc->inst_flags == CH_INST_REGISTERED) {
            inner = PyObject_CallOneArg(rc->encode, o);
        } else {
            PyObject *name = cohive_rich_attr(f->st, A_VALUE);
            inner = name != NULL ? PyObject_GetAttr(o, name) : NULL;
        }
        if (inner != NULL) {
            /* The path names the payload ._value_, for what encode() gave too. */
            freezer_step(f, STEP_ATTR, cohive_rich_attr(f->st, A_VALUE), 0);
            result = freezer_freeze(f, inner, as_key, &payload);
            Py_DECREF(inner);
        } else {
            result = -1;
        }
    }
    if (result < 0) {
        ch_decref(payload);
        return -1;
    }
    f->depth--;
    ch_incref(rc->cls);
    ch_incref(rc->fields);
    *out = ch_instance_new(rc->inst_flags, rc->cls, rc->fields, payload);
    return *out == CH_NOVALUE ? (PyErr_NoMemory(), -1) : 0;
}

static int freeze_buffer(freezer *f, PyObject *o, ch_val *out)
{
    Py_buffer view;
    if (PyObject_GetBuffer(o, &view, PyBUF_FULL_RO) < 0)
        return -1;
    int rc = freezer_check_len(f, view.len, "bytes");
    if (rc == 0) {
        void *data = view.buf, *copy = NULL;
        if (!PyBuffer_IsContiguous(&view, 'C')) {
            data = copy = PyMem_Malloc((size_t)view.len + 1);
            if (copy == NULL || PyBuffer_ToContiguous(copy, &view, view.len, 'C') < 0)
                rc = copy == NULL ? (PyErr_NoMemory(), -1) : -1;
        }
        if (rc == 0) {
            *out = ch_bytes_new(data, (size_t)view.len);
            if (*out == CH_NOVALUE)
                rc = (PyErr_NoMemory(), -1);
            else
                ch_ptr(*out)->flags = CH_BYTES_FROM_BUFFER;
        }
        PyMem_Free(copy);
    }
    PyBuffer_Release(&view);
    return rc;
}

int cohive_freeze_rich(freezer *f, PyObject *o, bool as_key, ch_val *out)
{
    PyTypeObject *tp = Py_TYPE(o);
    if (tp == f->st->FrozenBytes_Type) {
        *out = cohive_share_view(o);
        return *out == CH_NOVALUE ? -1 : 0;
    }
    PyObject *capsule = classify(f, tp);
    if (capsule == NULL) {
        if (PyErr_Occurred())
            return -1;
        if (PyObject_CheckBuffer(o))
            return as_key ? freezer_fail_unhashable(f, o) : freeze_buffer(f, o, out);
        return freezer_fail_unshareable(f, o);
    }
    rich_class *rc = PyCapsule_GetPointer(capsule, "cohive.rich_class");
    int result;
    switch (rc->kind) {
    case KIND_DATE:
    case KIND_DATETIME:
    case KIND_TIME:
    case KIND_TIMEDELTA:
        result = freeze_time(f, o, rc->kind, out);
        break;
    case KIND_DECIMAL:
        result = freeze_decimal(f, o, out);
        break;
    case KIND_UUID:
        result = freeze_uuid(f, o, out);
        break;
    default:
        result = freeze_instance(f, o, rc, as_key, out);
    }
    Py_DECREF(capsule);
    return result;
}

int cohive_forget_rich_classes(cohive_state *st)
{
    if (st->rich_classes != NULL)
        PyDict_Clear(st->rich_classes);
    return 0;
}
