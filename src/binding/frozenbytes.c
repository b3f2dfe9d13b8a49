/*
 * cohive.FrozenBytes: what a bytearray, memoryview, array.array or any other
 * buffer becomes once frozen.  It exposes the native bytes themselves
 * through the buffer protocol, read-only, so memoryview(v) or
 * numpy.frombuffer(v) read them without a copy; a memoryview keeps the
 * FrozenBytes (and so the native bytes) alive.  It compares and hashes like
 * the bytes with the same content.
 */
#include "binding.h"

/* A view like Map and FrozenList (ViewObject): read from a Map it borrows
 * the native bytes from its owner, so reading writes nothing shared. */
typedef struct {
    PyObject_HEAD
    ch_str *bytes; /* a CH_BYTES */
    PyObject *owner;
    Py_hash_t hash;
} FrozenBytesObject;

_Static_assert(offsetof(FrozenBytesObject, bytes) == offsetof(ViewObject, native), "FrozenBytes layout");
_Static_assert(offsetof(FrozenBytesObject, owner) == offsetof(ViewObject, owner), "FrozenBytes layout");
_Static_assert(offsetof(FrozenBytesObject, hash) == offsetof(ViewObject, hash), "FrozenBytes layout");

#define BYTES(o) (((FrozenBytesObject *)(o))->bytes)

static PyObject *FrozenBytes_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyObject *source;
    if ((kwargs != NULL && PyDict_GET_SIZE(kwargs) != 0) || !PyArg_UnpackTuple(args, "FrozenBytes", 1, 1, &source)) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_TypeError, "FrozenBytes() takes no keyword arguments");
        return NULL;
    }
    if (Py_TYPE(source) == type)
        return Py_NewRef(source);
    if (!PyObject_CheckBuffer(source))
        return PyErr_Format(PyExc_TypeError, "FrozenBytes() needs a bytes-like object, not %.100s",
                            Py_TYPE(source)->tp_name);
    cohive_state *st = PyType_GetModuleState(type);
    ch_val v;
    if (cohive_freeze(st, source, "value", &v) < 0)
        return NULL;
    if (ch_type_of(v) != CH_BYTES) { /* a registered class that also has a buffer */
        ch_decref(v);
        return PyErr_Format(PyExc_TypeError, "FrozenBytes() needs a bytes-like object, not %.100s",
                            Py_TYPE(source)->tp_name);
    }
    ch_ptr(v)->flags = CH_BYTES_FROM_BUFFER; /* a new CH_BYTES: bytes are copied when frozen */
    return cohive_new_view(st->FrozenBytes_Type, ch_ptr(v), NULL);
}

static int FrozenBytes_getbuffer(PyObject *self, Py_buffer *view, int flags)
{
    return PyBuffer_FillInfo(view, self, BYTES(self)->data, BYTES(self)->len, 1, flags);
}

static Py_ssize_t FrozenBytes_len(PyObject *self) { return BYTES(self)->len; }

static PyObject *FrozenBytes_bytes(PyObject *self, PyObject *unused)
{
    return PyBytes_FromStringAndSize((const char *)BYTES(self)->data, BYTES(self)->len);
}

static Py_hash_t FrozenBytes_hash(PyObject *self)
{
    FrozenBytesObject *fb = (FrozenBytesObject *)self;
    if (fb->hash == -1) { /* as bytes hash, so that a FrozenBytes finds an equal bytes key in a dict */
        PyObject *b = FrozenBytes_bytes(self, NULL);
        fb->hash = b != NULL ? PyObject_Hash(b) : -1;
        Py_XDECREF(b);
    }
    return fb->hash;
}

static PyObject *FrozenBytes_richcompare(PyObject *self, PyObject *other, int op)
{
    if ((op != Py_EQ && op != Py_NE) || !PyObject_CheckBuffer(other))
        Py_RETURN_NOTIMPLEMENTED;
    Py_buffer view;
    if (PyObject_GetBuffer(other, &view, PyBUF_SIMPLE) < 0) {
        PyErr_Clear();
        Py_RETURN_NOTIMPLEMENTED;
    }
    bool equal = view.len == (Py_ssize_t)BYTES(self)->len && memcmp(view.buf, BYTES(self)->data, (size_t)view.len) == 0;
    PyBuffer_Release(&view);
    return PyBool_FromLong(equal == (op == Py_EQ));
}

static PyObject *FrozenBytes_subscript(PyObject *self, PyObject *key)
{
    if (PyIndex_Check(key)) {
        Py_ssize_t i = PyNumber_AsSsize_t(key, PyExc_IndexError);
        if (i == -1 && PyErr_Occurred())
            return NULL;
        if (i < 0)
            i += BYTES(self)->len;
        if (i < 0 || i >= (Py_ssize_t)BYTES(self)->len)
            return PyErr_Format(PyExc_IndexError, "FrozenBytes index out of range");
        return PyLong_FromLong(BYTES(self)->data[i]);
    }
    PyObject *view = PyMemoryView_FromObject(self); /* slices: as bytes, through a view */
    PyObject *part = view != NULL ? PyObject_GetItem(view, key) : NULL;
    PyObject *r = part != NULL ? PyBytes_FromObject(part) : NULL;
    Py_XDECREF(part);
    if (view != NULL)
        Py_XDECREF(PyObject_CallMethod(view, "release", NULL));
    Py_XDECREF(view);
    return r;
}

static PyObject *FrozenBytes_repr(PyObject *self)
{
    PyObject *b = FrozenBytes_bytes(self, NULL);
    PyObject *r = b != NULL ? PyUnicode_FromFormat("cohive.FrozenBytes(%R)", b) : NULL;
    Py_XDECREF(b);
    return r;
}

static PyObject *FrozenBytes_reduce(PyObject *self, PyObject *unused)
{
    return Py_BuildValue("O(N)", (PyObject *)Py_TYPE(self), FrozenBytes_bytes(self, NULL));
}

static PyObject *FrozenBytes_copy(PyObject *self, PyObject *unused) { return Py_NewRef(self); }

static PyMethodDef FrozenBytes_methods[] = {
    {"__bytes__", FrozenBytes_bytes, METH_NOARGS, "A bytes copy."},
    {"__reduce__", FrozenBytes_reduce, METH_NOARGS, NULL},
    {"__copy__", FrozenBytes_copy, METH_NOARGS, NULL},
    {"__deepcopy__", FrozenBytes_copy, METH_O, NULL},
    {NULL},
};

PyDoc_STRVAR(FrozenBytes_doc, "FrozenBytes(data, /)\n--\n\n"
"Immutable bytes shared across interpreters: what a bytearray, memoryview or\n"
"other buffer becomes when cohive freezes it. memoryview(v) reads the shared\n"
"bytes without a copy; compares and hashes like bytes with the same content.");

static PyType_Slot FrozenBytes_slots[] = {
    {Py_tp_doc, (void *)FrozenBytes_doc},
    {Py_tp_new, FrozenBytes_new},
    {Py_tp_dealloc, cohive_view_dealloc},
    {Py_tp_repr, FrozenBytes_repr},
    {Py_tp_hash, FrozenBytes_hash},
    {Py_tp_richcompare, FrozenBytes_richcompare},
    {Py_tp_methods, FrozenBytes_methods},
    {Py_bf_getbuffer, FrozenBytes_getbuffer},
    {Py_sq_length, FrozenBytes_len},
    {Py_mp_length, FrozenBytes_len},
    {Py_mp_subscript, FrozenBytes_subscript},
    {0, NULL},
};

static PyType_Spec FrozenBytes_spec = {
    .name = "cohive.FrozenBytes",
    .basicsize = sizeof(FrozenBytesObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = FrozenBytes_slots,
};

int cohive_add_bytes_type(PyObject *module, cohive_state *st)
{
    st->FrozenBytes_Type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &FrozenBytes_spec, NULL);
    if (st->FrozenBytes_Type == NULL)
        return -1;
    return PyModule_AddType(module, st->FrozenBytes_Type);
}
