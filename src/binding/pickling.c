/*
 * Pickling Maps and FrozenLists.
 *
 * Format version 3 pickles a Map as its snapshot file's bytes (snapshot.h,
 * docs/format.md): the same encoding as Map.save, one buffer that protocol
 * 5 passes out of band, loaded into private read-only memory and checked
 * whole.  A Map holding class instances, and every FrozenList, use version 2.
 *
 * Format version 2 pickles the native value as one bytes object
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
#define PICKLE_SNAPSHOT 3

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

PyObject *cohive_reduce_map(PyObject *self, bool out_of_band)
{
    cohive_state *st = state_of(self);
    ch_saved saved;
    int status = cohive_encode_snapshot(self, &saved);
    if (status == CH_SAVE_UNSUPPORTED) /* class instances go by name (format 2); named objects are refused there */
        return cohive_reduce(self, "Map", ch_from_ptr(((MapObject *)self)->map));
    if (status != CH_SAVE_OK)
        return status < 0 ? NULL : PyErr_NoMemory();
    PyObject *payload = PyBytes_FromStringAndSize((const char *)saved.data, (Py_ssize_t)saved.len);
    free(saved.data);
    if (payload != NULL && out_of_band) { /* one buffer the pickler may pass out of band (protocol 5) */
        PyObject *buffer = PyPickleBuffer_FromObject(payload);
        Py_SETREF(payload, buffer);
    }
    return payload != NULL ? Py_BuildValue("O(siN)", st->restore, "Map", PICKLE_SNAPSHOT, payload) : NULL;
}

static PyObject *restore_snapshot(cohive_state *st, PyObject *payload)
{
    Py_buffer view;
    if (PyObject_GetBuffer(payload, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    ch_load_error err;
    ch_map *m;
    Py_BEGIN_ALLOW_THREADS
    m = ch_snapshot_load_bytes(view.buf, (size_t)view.len, "a pickled cohive Map", &err);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    if (m == NULL)
        return cohive_snapshot_error(st, "a pickled cohive Map", &err), NULL;
    return cohive_wrap_map(st, m);
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
    if (version == PICKLE_SNAPSHOT && type == CH_MAP)
        return restore_snapshot(st, payload);
    if (version == 1) /* the items, as Python objects */
        return PyObject_CallOneArg((PyObject *)(type == CH_MAP ? st->Map_Type : st->FrozenList_Type), payload);
    return PyErr_Format(PyExc_ValueError,
                        "cannot load a cohive %s pickled in format version %d: this cohive reads versions 1, %d and "
                        "(for Maps) %d", kind, version, PICKLE_VERSION, PICKLE_SNAPSHOT);
}
