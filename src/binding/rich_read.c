/*
 * Reading rich values (see rich_freeze.c for freezing them): the classes
 * are looked up in the reader's interpreter, lazily (`rich_readers` in
 * cohive/_types.py), and instances are rebuilt here the way pickle rebuilds
 * them, without calling __init__; a class is imported by name once per
 * interpreter.
 */
#include <string.h>

#include "rich.h"

PyObject *cohive_rich_readers(cohive_state *st)
{
    if (st->rich_readers == NULL) {
        PyObject *r = cohive_call_helper(st, "rich_readers", NULL, 0);
        if (r == NULL)
            return NULL;
        if (!PyTuple_Check(r) || PyTuple_GET_SIZE(r) != R_COUNT) {
            Py_DECREF(r);
            return PyErr_Format(PyExc_SystemError, "cohive: rich_readers() gave a bad answer");
        }
        st->rich_readers = r;
    }
    return st->rich_readers;
}

/* The reader's cache (st->rich_loaded) of what it rebuilt once: time zones,
 * keyed by (kind, zone, offset), and classes, keyed by class name. */
static PyObject *loaded(cohive_state *st, PyObject *key)
{
    if (st->rich_loaded == NULL && (st->rich_loaded = PyDict_New()) == NULL)
        return NULL;
    return PyDict_GetItemWithError(st->rich_loaded, key);
}

static PyObject *read_tz(cohive_state *st, PyObject *r, const ch_time *t)
{
    PyObject *zone = cohive_read(st, ch_word(&t->zone));
    PyObject *offset = t->has_offset ? PyLong_FromLongLong(t->offset_us) : Py_NewRef(Py_None);
    PyObject *tz_kind = PyLong_FromLong(t->tz);
    PyObject *key = zone != NULL && offset != NULL && tz_kind != NULL ? PyTuple_Pack(3, tz_kind, zone, offset) : NULL;
    Py_XDECREF(zone);
    Py_XDECREF(offset);
    Py_XDECREF(tz_kind);
    if (key == NULL)
        return NULL;
    PyObject *tz = loaded(st, key);
    if (tz != NULL || PyErr_Occurred()) {
        Py_DECREF(key);
        return Py_XNewRef(tz);
    }
    tz = PyObject_Call(PyTuple_GET_ITEM(r, R_TZ), key, NULL);
    if (tz != NULL && PyDict_SetItem(st->rich_loaded, key, tz) < 0)
        Py_CLEAR(tz);
    Py_DECREF(key);
    return tz;
}

static PyObject *read_time(cohive_state *st, PyObject *r, const ch_time *t)
{
    PyObject *args[9] = {NULL};
    PyObject *result = NULL, *kwnames = NULL;
    size_t n = 0;
    switch (t->h.flags) {
    case CH_TIME_DELTA:
        args[n++] = PyLong_FromLong(t->days);
        args[n++] = PyLong_FromLong(t->seconds);
        args[n++] = PyLong_FromLong(t->microsecond);
        break;
    case CH_TIME_DATE:
    case CH_TIME_DATETIME:
        args[n++] = PyLong_FromLong(t->year);
        args[n++] = PyLong_FromLong(t->month);
        args[n++] = PyLong_FromLong(t->day);
        if (t->h.flags == CH_TIME_DATE)
            break;
        /* fall through */
    default:
        args[n++] = PyLong_FromLong(t->hour);
        args[n++] = PyLong_FromLong(t->minute);
        args[n++] = PyLong_FromLong(t->second);
        args[n++] = PyLong_FromLong(t->microsecond);
        if (t->tz == CH_TZ_NAIVE) {
            args[n++] = Py_NewRef(Py_None);
        } else {
            args[n++] = read_tz(st, r, t);
        }
        args[n++] = PyLong_FromLong(t->fold);
        kwnames = PyTuple_GET_ITEM(r, R_FOLD_KW);
    }
    bool ok = true;
    for (size_t i = 0; i < n; i++)
        ok = ok && args[i] != NULL;
    if (ok) {
        int which = t->h.flags == CH_TIME_DATE ? R_DATE : t->h.flags == CH_TIME_DATETIME ? R_DATETIME
                    : t->h.flags == CH_TIME_TIME                                           ? R_TIME
                                                                                           : R_TIMEDELTA;
        size_t positional = kwnames != NULL ? n - 1 : n;
        result = PyObject_Vectorcall(PyTuple_GET_ITEM(r, which), args, positional, kwnames);
    }
    for (size_t i = 0; i < n; i++)
        Py_XDECREF(args[i]);
    return result;
}

static PyObject *read_decimal(PyObject *r, const ch_decimal *d)
{
    size_t len = ch_decimal_to_str(d, NULL, 0);
    char *buf = PyMem_Malloc(len + 1);
    if (buf == NULL)
        return PyErr_NoMemory();
    ch_decimal_to_str(d, buf, len);
    PyObject *text = PyUnicode_FromStringAndSize(buf, (Py_ssize_t)len);
    PyMem_Free(buf);
    PyObject *result = text != NULL ? PyObject_CallOneArg(PyTuple_GET_ITEM(r, R_DECIMAL), text) : NULL;
    Py_XDECREF(text);
    return result;
}

/* A UUID made as pickle makes one: no __init__, its two slots set. */
static PyObject *read_uuid(cohive_state *st, PyObject *r, const ch_uuid *u)
{
    unsigned char le[17] = {0};
    for (int k = 0; k < 16; k++)
        le[k] = u->bytes[15 - k];
    PyObject *i = cohive_long_from_le(le, sizeof le);
    PyTypeObject *uuid = (PyTypeObject *)PyTuple_GET_ITEM(r, R_UUID);
    PyObject *empty = PyTuple_New(0);
    PyObject *obj = i != NULL && empty != NULL ? uuid->tp_new(uuid, empty, NULL) : NULL;
    if (obj != NULL && (PyObject_GenericSetAttr(obj, cohive_rich_attr(st, A_INT), i) < 0 ||
                        PyObject_GenericSetAttr(obj, cohive_rich_attr(st, A_IS_SAFE), PyTuple_GET_ITEM(r, R_UUID_UNKNOWN)) < 0))
        Py_CLEAR(obj);
    Py_XDECREF(i);
    Py_XDECREF(empty);
    return obj;
}

/* (class, extra) for a class name: extra is an enum's value-to-member
 * dict, or the field names of a dataclass or named tuple. */
static PyObject *loaded_class(cohive_state *st, PyObject *r, PyObject *name, const ch_instance *x)
{
    PyObject *entry = loaded(st, name);
    if (entry != NULL || PyErr_Occurred())
        return entry;
    PyObject *cls = PyObject_CallOneArg(PyTuple_GET_ITEM(r, R_LOAD_CLASS), name);
    if (cls == NULL)
        return NULL;
    PyObject *extra;
    if (x->h.flags == CH_INST_ENUM || x->h.flags == CH_INST_ENUM_VALUE) {
        extra = PyObject_GetAttr(cls, cohive_rich_attr(st, A_VALUE2MEMBER)); /* every Enum class has it */
        if (extra == NULL) {
            PyErr_Clear();
            extra = Py_NewRef(Py_None);
        }
    } else {
        extra = cohive_read(st, x->fields);
    }
    entry = extra != NULL ? PyTuple_Pack(2, cls, extra) : NULL;
    Py_DECREF(cls);
    Py_XDECREF(extra);
    if (entry == NULL || PyDict_SetItem(st->rich_loaded, name, entry) < 0) {
        Py_XDECREF(entry);
        return NULL;
    }
    Py_DECREF(entry); /* the dict holds it */
    return entry;
}

/* A dataclass made as pickle makes one: cls.__new__(cls), then each field
 * set with object.__setattr__ (frozen dataclasses refuse setattr). */
static PyObject *read_dataclass(cohive_state *st, PyObject *cls, PyObject *names, ch_val payload,
                                cohive_reader convert, PyObject *owner)
{
    ch_items values = ch_items_of(payload);
    if (!PyType_Check(cls) || !PyTuple_Check(names) || PyTuple_GET_SIZE(names) != (Py_ssize_t)values.len)
        return PyErr_Format(PyExc_TypeError, "cannot rebuild a %R: its fields have changed", cls);
    newfunc make = ((PyTypeObject *)cls)->tp_new;
    if (make == NULL)
        return PyErr_Format(PyExc_TypeError, "cannot rebuild a %R: it cannot be instantiated", cls);
    PyObject *empty = PyTuple_New(0);
    PyObject *obj = empty != NULL ? make((PyTypeObject *)cls, empty, NULL) : NULL;
    Py_XDECREF(empty);
    for (uint32_t i = 0; obj != NULL && i < values.len; i++) {
        PyObject *value = convert(st, ch_items_at(&values, i), owner);
        if (value == NULL || PyObject_GenericSetAttr(obj, PyTuple_GET_ITEM(names, i), value) < 0)
            Py_CLEAR(obj);
        Py_XDECREF(value);
    }
    return obj;
}

static PyObject *read_instance(cohive_state *st, PyObject *r, const ch_instance *x,
                               cohive_reader convert, PyObject *owner)
{
    PyObject *name = cohive_read(st, x->cls);
    if (name == NULL)
        return NULL;
    PyObject *result = NULL, *payload = NULL;
    if (x->h.flags == CH_INST_REGISTERED) {
        PyObject *decode = PyObject_CallOneArg(PyTuple_GET_ITEM(r, R_DECODER), name);
        payload = decode != NULL ? convert(st, x->payload, owner) : NULL;
        result = payload != NULL ? PyObject_CallOneArg(decode, payload) : NULL;
        Py_XDECREF(decode);
        goto done;
    }
    PyObject *entry = Py_XNewRef(loaded_class(st, r, name, x)); /* held: reading the payload may run code */
    if (entry == NULL)
        goto done;
    PyObject *cls = PyTuple_GET_ITEM(entry, 0), *extra = PyTuple_GET_ITEM(entry, 1);
    if (x->h.flags == CH_INST_DATACLASS) {
        result = read_dataclass(st, cls, extra, x->payload, convert, owner);
    } else if (x->h.flags == CH_INST_NAMEDTUPLE) {
        payload = convert(st, x->payload, owner);
        PyObject *args = payload != NULL ? PyTuple_Pack(1, payload) : NULL;
        if (args != NULL && PyType_Check(cls) && PyType_IsSubtype((PyTypeObject *)cls, &PyTuple_Type))
            result = PyTuple_Type.tp_new((PyTypeObject *)cls, args, NULL); /* tuple.__new__(cls, items) */
        else if (args != NULL)
            PyErr_Format(PyExc_TypeError, "cannot rebuild a %R: it is no longer a named tuple", cls);
        Py_XDECREF(args);
    } else if (!PyDict_Check(extra)) { /* never call a class that is not an enum with outside data */
        PyErr_Format(PyExc_TypeError, "cannot rebuild a %R member: it is not an enum", cls);
    } else { /* an enum member, by value (read, not thawed: it is looked up) */
        payload = cohive_read(st, x->payload);
        result = payload != NULL ? PyDict_GetItemWithError(extra, payload) : NULL;
        if (result != NULL)
            Py_INCREF(result);
        else if (payload != NULL) {
            PyErr_Clear(); /* unhashable or absent from the map: Enum's own lookup */
            result = PyObject_CallOneArg(cls, payload);
        }
    }
    Py_DECREF(entry);
done:
    Py_DECREF(name);
    Py_XDECREF(payload);
    return result;
}

PyObject *cohive_read_rich(cohive_state *st, ch_val v, cohive_reader convert, PyObject *owner)
{
    PyObject *r = cohive_rich_readers(st);
    if (r == NULL)
        return NULL;
    const ch_head *o = ch_ptr(v);
    switch (o->type) {
    case CH_TIME:
        return read_time(st, r, (const ch_time *)o);
    case CH_DECIMAL:
        return read_decimal(r, (const ch_decimal *)o);
    case CH_UUID:
        return read_uuid(st, r, (const ch_uuid *)o);
    default:
        return read_instance(st, r, (const ch_instance *)o, convert, owner);
    }
}

/* The text the core writes for a date/time, Decimal or UUID (what JSON
 * gives them): cohive._cohive._text, for tests. */
PyObject *cohive_rich_text(cohive_state *st, PyObject *obj)
{
    ch_val v;
    if (cohive_freeze(st, obj, "value", &v) < 0)
        return NULL;
    int type = ch_type_of(v);
    const void *o = ch_is_ptr(v) ? ch_ptr(v) : NULL;
    size_t len = type == CH_TIME ? ch_time_to_str(o, NULL, 0) : type == CH_UUID ? ch_uuid_to_str(o, NULL, 0)
                 : type == CH_DECIMAL                          ? ch_decimal_to_str(o, NULL, 0)
                                                               : 0;
    PyObject *text = NULL;
    char *buf = len > 0 ? PyMem_Malloc(len) : NULL;
    if (len == 0)
        PyErr_Format(PyExc_TypeError, "_text() takes a date, time, timedelta, Decimal or UUID");
    else if (buf == NULL)
        PyErr_NoMemory();
    else {
        if (type == CH_TIME)
            ch_time_to_str(o, buf, len);
        else if (type == CH_UUID)
            ch_uuid_to_str(o, buf, len);
        else
            ch_decimal_to_str(o, buf, len);
        text = PyUnicode_FromStringAndSize(buf, (Py_ssize_t)len);
    }
    PyMem_Free(buf);
    ch_decref(v);
    return text;
}
