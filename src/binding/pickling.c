/*
 * Pickling Maps and FrozenLists.
 *
 * Format version 2 (this one) pickles the native value as one bytes object
 * in cohive's own encoding (src/core/encoding.h), so a pickle never names a
 * Python class to import: a frozen dataclass, enum member or registered
 * class appears in it only as the class's name.  Loading checks every such
 * name against the process-wide set of classes frozen, registered or
 * allowed here (cohive.allow) before anything is rebuilt, and imports
 * nothing: data from outside the process is data, not code.
 *
 * Version 1 (a list of items, or of (key, value) pairs) is still read.
 */
#include "../core/classnames.h"
#include "../core/encoding.h"
#include "binding.h"

#define PICKLE_VERSION 2

PyObject *cohive_reduce(PyObject *self, const char *kind, ch_val v)
{
    unsigned char *data;
    size_t len;
    ch_code_result rc = ch_encode(v, &data, &len);
    if (rc == CH_CODE_NAMED)
        return PyErr_Format(PyExc_TypeError, "cannot pickle a %s that holds a Ref, Queue, lock or other named "
                            "cohive object: those exist only within one process", kind);
    if (rc != CH_CODE_OK)
        return PyErr_NoMemory();
    PyObject *payload = PyBytes_FromStringAndSize((const char *)data, (Py_ssize_t)len);
    free(data);
    return payload != NULL ? Py_BuildValue("O(siN)", state_of(self)->restore, kind, PICKLE_VERSION, payload) : NULL;
}

typedef struct {
    cohive_state *st;
    PyObject *refused; /* the first class name refused */
} class_check;

static bool known_class(ch_val name, void *arg)
{
    class_check *c = arg;
    PyObject *text = cohive_read(c->st, name);
    Py_ssize_t len;
    const char *s = text != NULL ? PyUnicode_AsUTF8AndSize(text, &len) : NULL;
    bool known = s != NULL && ch_classnames_contains(s, (size_t)len);
    PyErr_Clear();
    if (!known && c->refused == NULL)
        c->refused = Py_NewRef(text != NULL ? text : Py_None);
    Py_XDECREF(text);
    return known;
}

static PyObject *unpickling_error(void)
{
    PyObject *pickle = PyImport_ImportModule("pickle");
    PyObject *error = pickle != NULL ? PyObject_GetAttrString(pickle, "UnpicklingError") : NULL;
    Py_XDECREF(pickle);
    return error;
}

static PyObject *restore_v2(cohive_state *st, const char *kind, int type, PyObject *payload)
{
    if (!PyBytes_Check(payload))
        return PyErr_Format(PyExc_ValueError, "cannot load a pickled cohive %s: its payload is not bytes", kind);
    class_check check = {st, NULL};
    ch_val v;
    size_t where;
    ch_code_result rc = ch_decode((const unsigned char *)PyBytes_AS_STRING(payload), (size_t)PyBytes_GET_SIZE(payload),
                                  known_class, &check, &v, &where);
    if (rc == CH_CODE_OK && ch_type_of(v) != type) {
        ch_decref(v);
        rc = CH_CODE_MALFORMED;
        where = 0;
    }
    if (rc == CH_CODE_OK) {
        Py_XDECREF(check.refused);
        return type == CH_MAP ? cohive_wrap_map(st, (ch_map *)ch_ptr(v)) : cohive_wrap_list(st, (ch_seq *)ch_ptr(v));
    }
    if (rc == CH_CODE_REFUSED) {
        PyObject *error = unpickling_error();
        if (error != NULL) {
            PyErr_Format(error, "the pickled cohive %s names the class %R, which this process has not frozen, "
                         "registered or allowed; cohive imports no module for data from outside the process: "
                         "call cohive.allow(%R) first if you trust it", kind, check.refused, check.refused);
            Py_DECREF(error);
        }
    } else if (rc == CH_CODE_MALFORMED) {
        PyErr_Format(PyExc_ValueError, "cannot load a pickled cohive %s: malformed data at byte %zu", kind, where);
    } else {
        PyErr_NoMemory();
    }
    Py_XDECREF(check.refused);
    return NULL;
}

PyObject *cohive_restore(cohive_state *st, const char *kind, int version, PyObject *payload)
{
    int type = strcmp(kind, "Map") == 0 ? CH_MAP : strcmp(kind, "FrozenList") == 0 ? CH_LIST : 0;
    if (type == 0)
        return PyErr_Format(PyExc_ValueError, "cannot load a pickled cohive %s: unknown kind", kind);
    if (version == PICKLE_VERSION)
        return restore_v2(st, kind, type, payload);
    if (version == 1) /* the items, as Python objects */
        return PyObject_CallOneArg((PyObject *)(type == CH_MAP ? st->Map_Type : st->FrozenList_Type), payload);
    return PyErr_Format(PyExc_ValueError,
                        "cannot load a cohive %s pickled in format version %d: this cohive reads versions 1 and %d",
                        kind, version, PICKLE_VERSION);
}
