/*
 * cohive.Ref: a per-interpreter handle on a named native cell (core/ref.h).
 *
 * Blocking waits release the GIL and sleep on a waiter (core/sync.h) that
 * publishers wake; a signal ends the main thread's sleep, so Ctrl-C works.
 * Async waits (cohive/_waiting.py) watch a waiter's fd through the event loop.
 */
#include "binding.h"

#define REF(o) (((RefObject *)(o))->ref)

PyObject *cohive_wrap_ref(cohive_state *st, ch_ref *r)
{
    RefObject *self = PyObject_New(RefObject, st->Ref_Type);
    if (self == NULL) {
        ch_decref(ch_from_ptr(r));
        return NULL;
    }
    self->ref = r;
    return (PyObject *)self;
}

static PyObject *Ref_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"name", "default", NULL};
    PyObject *name, *dflt = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|O:Ref", kwlist, &name, &dflt))
        return NULL;
    cohive_state *st = PyType_GetModuleState(type);
    ch_val native_name, initial;
    if (name == Py_None)
        return PyErr_Format(PyExc_TypeError, "a Ref needs a name (a str)");
    if (cohive_native_name(st, name, "Ref", &native_name) < 0)
        return NULL;
    if (cohive_freeze(st, dflt, "default", &initial) < 0) {
        ch_decref(native_name);
        return NULL;
    }
    ch_ref *r;
    ch_open_result rc = ch_ref_open(native_name, initial, &r);
    ch_decref(native_name);
    ch_decref(initial);
    if (cohive_check_open(st, rc, name, &r->n, "Ref") < 0)
        return NULL;
    return cohive_wrap_ref(st, r);
}

static PyObject *Ref_get(PyObject *self, PyObject *unused)
{
    if (cohive_check_local(self) < 0)
        return NULL;
    uint64_t version;
    ch_val v = ch_ref_get(REF(self), &version);
    PyObject *r = cohive_read(state_of(self), v);
    ch_decref(v);
    return r;
}

static PyObject *Ref_version(PyObject *self, void *unused)
{
    if (cohive_check_local(self) < 0)
        return NULL;
    return PyLong_FromUnsignedLongLong(ch_ref_version(REF(self)));
}

static PyObject *Ref_set(PyObject *self, PyObject *value)
{
    if (cohive_check_local(self) < 0)
        return NULL;
    ch_val v;
    if (cohive_freeze(state_of(self), value, "value", &v) < 0)
        return NULL;
    return PyLong_FromUnsignedLongLong(ch_ref_set(REF(self), v));
}

/* The native word a Python value read from a Ref stands for, for identity:
 * views carry their native object; other values are copies, so an equal
 * frozen value stands in (and only matches an inline or equal word). */
static int identity_word(cohive_state *st, PyObject *obj, ch_val *word, bool *owned)
{
    *owned = false;
    if (Py_TYPE(obj) == st->Map_Type) {
        *word = ch_from_ptr(((MapObject *)obj)->map);
        return cohive_map_ready(st, ((MapObject *)obj)->map);
    }
    if (Py_TYPE(obj) == st->FrozenList_Type) {
        *word = ch_from_ptr(((FrozenListObject *)obj)->seq);
        return 0;
    }
    if (Py_TYPE(obj) == st->Ref_Type) {
        *word = ch_from_ptr(REF(obj));
        return 0;
    }
    if (cohive_freeze(st, obj, "expected", word) < 0)
        return -1;
    *owned = true;
    return 0;
}

static PyObject *Ref_compare_and_set(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (cohive_check_local(self) < 0)
        return NULL;
    if (!cohive_check_nargs("compare_and_set", nargs, 2, 2))
        return NULL;
    cohive_state *st = state_of(self);
    ch_val expected, value;
    bool owned;
    if (identity_word(st, args[0], &expected, &owned) < 0)
        return NULL;
    if (cohive_freeze(st, args[1], "value", &value) < 0) {
        if (owned)
            ch_decref(expected);
        return NULL;
    }
    uint64_t version;
    if (owned && ch_is_ptr(expected)) {
        /* A copied scalar (str, float, tuple...): equal to the current value? */
        ch_val current = ch_ref_get(REF(self), &version);
        bool same = ch_eq(current, expected);
        ch_decref(current);
        version = same ? ch_ref_set_if_version(REF(self), version, value) : 0;
    } else {
        version = ch_ref_set_if_value(REF(self), expected, value);
    }
    if (owned)
        ch_decref(expected);
    if (version == 0)
        ch_decref(value);
    return Py_NewRef(version != 0 ? Py_True : Py_False);
}

static PyObject *Ref_update(PyObject *self, PyObject *args, PyObject *kwargs)
{
    if (cohive_check_local(self) < 0)
        return NULL;
    Py_ssize_t nargs = PyTuple_GET_SIZE(args);
    if (nargs < 1)
        return PyErr_Format(PyExc_TypeError, "update() needs the function to apply");
    PyObject *fn = PyTuple_GET_ITEM(args, 0);
    cohive_state *st = state_of(self);
    for (;;) {
        uint64_t version;
        ch_val current = ch_ref_get(REF(self), &version);
        PyObject *py_current = cohive_read(st, current);
        ch_decref(current);
        if (py_current == NULL)
            return NULL;
        PyObject *call_args = PyTuple_New(nargs);
        if (call_args == NULL) {
            Py_DECREF(py_current);
            return NULL;
        }
        PyTuple_SET_ITEM(call_args, 0, py_current);
        for (Py_ssize_t i = 1; i < nargs; i++)
            PyTuple_SET_ITEM(call_args, i, Py_NewRef(PyTuple_GET_ITEM(args, i)));
        PyObject *result = PyObject_Call(fn, call_args, kwargs);
        Py_DECREF(call_args);
        if (result == NULL)
            return NULL;
        ch_val value;
        int rc = cohive_freeze(st, result, "value", &value);
        Py_DECREF(result);
        if (rc < 0)
            return NULL;
        ch_incref(value); /* one for the cell, one to read back */
        if (ch_ref_set_if_version(REF(self), version, value) != 0) {
            PyObject *published = cohive_read(st, value);
            ch_decref(value);
            return published;
        }
        ch_decref(value); /* someone else published first: try again */
        ch_decref(value);
    }
}

static PyObject *Ref_wait(PyObject *self, PyObject *args, PyObject *kwargs)
{
    if (cohive_check_local(self) < 0)
        return NULL;
    static char *kwlist[] = {"version", "timeout", NULL};
    unsigned long long seen;
    PyObject *timeout = Py_None;
    double deadline;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "K|O:wait", kwlist, &seen, &timeout) ||
        cohive_deadline(timeout, &deadline) < 0)
        return NULL;
    ch_ref *r = REF(self);
    ch_waiter w;
    if (ch_waiter_init_sem(&w) != 0)
        return PyErr_SetFromErrno(PyExc_OSError);
    ch_ref_watch(r, &w); /* before checking, so no publish slips between */
    int rc = 1;
    while (ch_ref_version(r) <= seen && rc == 1)
        rc = cohive_sleep(&w, deadline);
    ch_ref_unwatch(r, &w);
    ch_waiter_destroy(&w);
    if (rc < 0)
        return NULL;
    if (ch_ref_version(r) > seen)
        return Ref_get(self, NULL);
    PyObject *name = cohive_named_name(self, NULL);
    if (name != NULL)
        PyErr_Format(PyExc_TimeoutError, "Ref %R still at version %llu after %R seconds", name, seen, timeout);
    Py_XDECREF(name);
    return NULL;
}

static PyObject *Ref_wait_async(PyObject *self, PyObject *version)
{
    if (cohive_check_local(self) < 0)
        return NULL;
    PyObject *args[] = {self, version};
    return cohive_call_helper(state_of(self), "ref_wait_async", args, 2);
}

static PyObject *Ref_watch(PyObject *self, PyObject *unused)
{
    if (cohive_check_local(self) < 0)
        return NULL;
    return cohive_new_watcher(state_of(self), &REF(self)->n.h, false);
}

static PyObject *Ref_repr(PyObject *self)
{
    if (cohive_check_local(self) < 0)
        return NULL;
    PyObject *name = cohive_named_name(self, NULL);
    PyObject *r = name != NULL ? PyUnicode_FromFormat("cohive.Ref(%R, version=%llu)", name,
                                                      (unsigned long long)ch_ref_version(REF(self)))
                               : NULL;
    Py_XDECREF(name);
    return r;
}

static PyMethodDef Ref_methods[] = {
    {"__class_getitem__", Py_GenericAlias, METH_O | METH_CLASS, "See PEP 585."},
    {"get", Ref_get, METH_NOARGS, "get($self, /)\n--\n\nThe current value, in O(1): a Map comes back as a view."},
    {"set", Ref_set, METH_O,
     "set($self, value, /)\n--\n\nFreeze value and publish it; returns the new version."},
    {"compare_and_set", (PyCFunction)(void (*)(void))Ref_compare_and_set, METH_FASTCALL,
     "compare_and_set($self, expected, value, /)\n--\n\n"
     "Publish value only if the current value is still expected, and say whether it did.\n"
     "Maps and FrozenLists match by identity (the very object get() returned); values that\n"
     "are copied on every read (str, float, tuple, ...) match by equality."},
    {"update", (PyCFunction)(void (*)(void))Ref_update, METH_VARARGS | METH_KEYWORDS,
     "update($self, fn, /, *args, **kwargs)\n--\n\n"
     "Publish fn(current, *args, **kwargs), retrying with the newer value whenever\n"
     "another writer published first; returns what was published."},
    {"wait", (PyCFunction)(void (*)(void))Ref_wait, METH_VARARGS | METH_KEYWORDS,
     "wait($self, /, version, timeout=None)\n--\n\n"
     "Block until the version is greater than version and return the value then current.\n"
     "Releases the GIL; TimeoutError after timeout seconds; Ctrl-C interrupts it."},
    {"wait_async", Ref_wait_async, METH_O,
     "wait_async($self, version, /)\n--\n\nAwaitable form of wait(), woken through the event loop."},
    {"_watch", Ref_watch, METH_NOARGS, NULL},
    {NULL},
};

static PyGetSetDef Ref_getset[] = {
    {"version", Ref_version, NULL, "The number of publishes so far; grows by one on each.", NULL},
    {"name", cohive_named_name, NULL, "The name the cell is registered under.", NULL},
    {NULL},
};

PyDoc_STRVAR(Ref_doc, "Ref(name, default=None)\n--\n\n"
"A named, process-wide mutable cell holding one frozen value.\n\n"
"Every interpreter of the process that opens the same name gets the same cell;\n"
"it is created holding default (frozen) if it does not exist yet, and freed after\n"
"the last handle to it goes.");

static PyType_Slot Ref_slots[] = {
    {Py_tp_doc, (void *)Ref_doc},
    {Py_tp_new, Ref_new},
    {Py_tp_dealloc, cohive_native_dealloc},
    {Py_tp_repr, Ref_repr},
    {Py_tp_hash, cohive_identity_hash},
    {Py_tp_richcompare, cohive_identity_richcompare},
    {Py_tp_methods, Ref_methods},
    {Py_tp_getset, Ref_getset},
    {0, NULL},
};

static PyType_Spec Ref_spec = {
    .name = "cohive.Ref",
    .basicsize = sizeof(RefObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = Ref_slots,
};

int cohive_add_ref_type(PyObject *module, cohive_state *st)
{
    st->Ref_Type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &Ref_spec, NULL);
    if (st->Ref_Type == NULL)
        return -1;
    return PyModule_AddType(module, st->Ref_Type);
}
