/*
 * cohive.FrozenList: what a list becomes once frozen.  A read-only sequence
 * viewing native items; reading an item converts just that item.
 */
#include "binding.h"

#include "../core/copy.h"

/* A FrozenList's list: a heap CH_LIST, or, for a list packed in a record,
 * the packed word (packed.h), held in the same field. */
#define VALUE(o) ch_from_ptr(((FrozenListObject *)(o))->seq)

static inline ch_items items_of(PyObject *self) { return ch_items_of(VALUE(self)); }

PyObject *cohive_wrap_list(cohive_state *st, ch_seq *s) { return cohive_new_view(st->FrozenList_Type, &s->h, NULL); }

static PyObject *FrozenList_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyObject *iterable = NULL;
    if ((kwargs != NULL && PyDict_GET_SIZE(kwargs) != 0) || !PyArg_UnpackTuple(args, "FrozenList", 0, 1, &iterable)) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_TypeError, "FrozenList() takes no keyword arguments");
        return NULL;
    }
    if (iterable != NULL && Py_TYPE(iterable) == type)
        return Py_NewRef(iterable);
    cohive_state *st = PyType_GetModuleState(type);
    PyObject *list = iterable != NULL ? PySequence_List(iterable) : PyList_New(0);
    if (list == NULL)
        return NULL;
    ch_val v;
    int rc = cohive_freeze(st, list, "value", &v);
    Py_DECREF(list);
    return rc < 0 ? NULL : cohive_wrap_list(st, (ch_seq *)ch_ptr(v));
}

static Py_ssize_t FrozenList_len(PyObject *self) { return items_of(self).len; }

static PyObject *FrozenList_item(PyObject *self, Py_ssize_t i)
{
    ch_items s = items_of(self);
    if (i < 0 || i >= (Py_ssize_t)s.len) {
        PyErr_SetString(PyExc_IndexError, "FrozenList index out of range");
        return NULL;
    }
    return cohive_read_in(state_of(self), ch_items_at(&s, (uint32_t)i), cohive_anchor(self));
}

static PyObject *FrozenList_subscript(PyObject *self, PyObject *key)
{
    if (PyIndex_Check(key)) {
        Py_ssize_t i = PyNumber_AsSsize_t(key, PyExc_IndexError);
        if (i == -1 && PyErr_Occurred())
            return NULL;
        return FrozenList_item(self, i < 0 ? i + FrozenList_len(self) : i);
    }
    if (!PySlice_Check(key))
        return PyErr_Format(PyExc_TypeError, "FrozenList indices must be integers or slices, not %.200s",
                            Py_TYPE(key)->tp_name);
    Py_ssize_t start, stop, step;
    if (PySlice_Unpack(key, &start, &stop, &step) < 0)
        return NULL;
    ch_items s = items_of(self);
    Py_ssize_t n = PySlice_AdjustIndices(s.len, &start, &stop, step);
    if (n == (Py_ssize_t)s.len && step == 1)
        return Py_NewRef(self);
    ch_seq *part = ch_seq_new(CH_LIST, (uint32_t)n);
    if (part == NULL)
        return PyErr_NoMemory();
    bool view = ((FrozenListObject *)self)->owner != NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        ch_val item = ch_items_at(&s, (uint32_t)(start + i * step));
        if (view) /* as when storing a view: write nothing the items share */
            item = ch_copy_or_share(item, CH_COPY_LIMIT);
        else /* a reference, or a copy of an item packed inside the list */
            item = ch_unpack(item);
        if (item == CH_NOVALUE) {
            part->len = (uint32_t)i; /* release only what was filled */
            ch_decref(ch_from_ptr(part));
            return PyErr_NoMemory();
        }
        part->items[i] = item;
    }
    unsigned depth = 0;
    for (Py_ssize_t i = 0; i < n; i++)
        if (ch_depth(part->items[i]) > depth)
            depth = ch_depth(part->items[i]);
    part->h.aux = (uint16_t)(depth + 1);
    return cohive_wrap_list(state_of(self), part);
}

/* Runs `found(i)` style searches natively: 1 with *index, 0 if absent. */
static int find(PyObject *self, PyObject *x, Py_ssize_t start, Py_ssize_t stop, Py_ssize_t *index, Py_ssize_t *count)
{
    ch_val v;
    int rc = cohive_probe_value(state_of(self), x, &v);
    if (rc <= 0)
        return rc;
    ch_items s = items_of(self);
    Py_ssize_t n = s.len;
    if (start < 0)
        start = start + n < 0 ? 0 : start + n;
    if (stop < 0)
        stop = stop + n < 0 ? 0 : stop + n;
    if (stop > n)
        stop = n;
    int result = 0;
    for (Py_ssize_t i = start; i < stop; i++) {
        if (ch_eq(ch_items_at(&s, (uint32_t)i), v)) {
            result = 1;
            if (count == NULL) {
                *index = i;
                break;
            }
            (*count)++;
        }
    }
    ch_decref(v);
    return result;
}

static int FrozenList_contains(PyObject *self, PyObject *x)
{
    Py_ssize_t i;
    return find(self, x, 0, PY_SSIZE_T_MAX, &i, NULL);
}

static PyObject *FrozenList_index(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    Py_ssize_t start = 0, stop = PY_SSIZE_T_MAX, i;
    if (!cohive_check_nargs("index", nargs, 1, 3))
        return NULL;
    if (nargs > 1 && (start = PyNumber_AsSsize_t(args[1], NULL)) == -1 && PyErr_Occurred())
        return NULL;
    if (nargs > 2 && (stop = PyNumber_AsSsize_t(args[2], NULL)) == -1 && PyErr_Occurred())
        return NULL;
    int rc = find(self, args[0], start, stop, &i, NULL);
    if (rc < 0)
        return NULL;
    if (rc == 0)
        return PyErr_Format(PyExc_ValueError, "%.60R is not in FrozenList", args[0]);
    return PyLong_FromSsize_t(i);
}

static PyObject *FrozenList_count(PyObject *self, PyObject *x)
{
    Py_ssize_t i, count = 0;
    return find(self, x, 0, PY_SSIZE_T_MAX, &i, &count) < 0 ? NULL : PyLong_FromSsize_t(count);
}

static PyObject *FrozenList_richcompare(PyObject *self, PyObject *other, int op)
{
    cohive_state *st = state_of(self);
    bool other_frozen = Py_TYPE(other) == st->FrozenList_Type;
    if (!other_frozen && !PyList_Check(other))
        Py_RETURN_NOTIMPLEMENTED;
    if (other_frozen && (op == Py_EQ || op == Py_NE)) {
        bool eq = ch_eq(VALUE(self), VALUE(other));
        return Py_NewRef(eq == (op == Py_EQ) ? Py_True : Py_False);
    }
    /* As list compares: find the first differing item, then compare it. */
    Py_ssize_t n1 = FrozenList_len(self), n2 = PyObject_Length(other);
    if (n2 < 0)
        return NULL;
    if ((op == Py_EQ || op == Py_NE) && n1 != n2)
        return Py_NewRef(op == Py_NE ? Py_True : Py_False);
    for (Py_ssize_t i = 0; i < n1 && i < n2; i++) {
        PyObject *a = FrozenList_item(self, i);
        PyObject *b = a != NULL ? PySequence_GetItem(other, i) : NULL;
        int eq = b != NULL ? PyObject_RichCompareBool(a, b, Py_EQ) : -1;
        PyObject *result = NULL;
        if (eq == 0)
            result = op == Py_EQ ? Py_NewRef(Py_False) : op == Py_NE ? Py_NewRef(Py_True) : PyObject_RichCompare(a, b, op);
        Py_XDECREF(a);
        Py_XDECREF(b);
        if (eq != 1)
            return result;
    }
    Py_RETURN_RICHCOMPARE(n1, n2, op);
}

static Py_hash_t FrozenList_hash(PyObject *self)
{
    FrozenListObject *fl = (FrozenListObject *)self;
    if (fl->hash == -1)
        fl->hash = cohive_py_hash(ch_hash(VALUE(self)));
    return fl->hash;
}

static PyObject *FrozenList_repr(PyObject *self)
{
    PyObject *list = PySequence_List(self);
    PyObject *r = list != NULL ? PyUnicode_FromFormat("cohive.FrozenList(%R)", list) : NULL;
    Py_XDECREF(list);
    return r;
}

static PyObject *FrozenList_copy(PyObject *self, PyObject *unused) { return Py_NewRef(self); }

static PyObject *FrozenList_reduce(PyObject *self, PyObject *unused)
{
    return cohive_reduce(self, "FrozenList", VALUE(self));
}

static PyObject *FrozenList_thaw(PyObject *self, PyObject *unused)
{
    return cohive_thaw(state_of(self), VALUE(self), cohive_anchor(self));
}

static PyMethodDef FrozenList_methods[] = {
    {"index", (PyCFunction)(void (*)(void))FrozenList_index, METH_FASTCALL,
     "index($self, value, start=0, stop=sys.maxsize, /)\n--\n\nFirst index of value; ValueError if absent."},
    {"count", FrozenList_count, METH_O, "count($self, value, /)\n--\n\nNumber of occurrences of value."},
    {"thaw", FrozenList_thaw, METH_NOARGS, "thaw($self, /)\n--\n\nA plain list, with nested values thawed too."},
    {"__copy__", FrozenList_copy, METH_NOARGS, NULL},
    {"__deepcopy__", FrozenList_copy, METH_O, NULL},
    {"__reduce__", FrozenList_reduce, METH_NOARGS, NULL},
    {"__class_getitem__", Py_GenericAlias, METH_O | METH_CLASS, "See PEP 585."},
    {NULL},
};

PyDoc_STRVAR(FrozenList_doc, "FrozenList(iterable=(), /)\n--\n\n"
"An immutable sequence shared across interpreters: what a list becomes when\n"
"cohive freezes it. Compares equal to a list with equal items.");

static PyType_Slot FrozenList_slots[] = {
    {Py_tp_doc, (void *)FrozenList_doc},
    {Py_tp_new, FrozenList_new},
    {Py_tp_dealloc, cohive_view_dealloc},
    {Py_tp_repr, FrozenList_repr},
    {Py_tp_hash, FrozenList_hash},
    {Py_tp_richcompare, FrozenList_richcompare},
    {Py_tp_iter, PySeqIter_New},
    {Py_tp_methods, FrozenList_methods},
    {Py_sq_length, FrozenList_len},
    {Py_sq_item, FrozenList_item},
    {Py_sq_contains, FrozenList_contains},
    {Py_mp_length, FrozenList_len},
    {Py_mp_subscript, FrozenList_subscript},
    {0, NULL},
};

static PyType_Spec FrozenList_spec = {
    .name = "cohive.FrozenList",
    .basicsize = sizeof(FrozenListObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_SEQUENCE,
    .slots = FrozenList_slots,
};

int cohive_add_list_type(PyObject *module, cohive_state *st)
{
    st->FrozenList_Type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &FrozenList_spec, NULL);
    if (st->FrozenList_Type == NULL)
        return -1;
    return PyModule_AddType(module, st->FrozenList_Type);
}
