/*
 * Views: Maps and FrozenLists that borrow their native data.
 *
 * Reading a nested Map or list out of a Map must not take a native
 * reference: that would be an atomic write to memory shared by every reader
 * (and by every forked child, page by page).  A view instead holds a Python
 * reference to the owning handle it was read from, which holds the native
 * reference for the whole tree; frozen values never change, so everything
 * reachable from that tree stays alive with it.  See docs/design.md,
 * "Memory layout".
 */
#include "binding.h"

#include "../core/copy.h"

/* A Map object from the state's free list, or NULL: only with a GIL,
 * which the list relies on, and without the debug build's list of all
 * objects, which a reused object would have to leave and rejoin. */
static PyObject *reuse_map(PyTypeObject *tp)
{
#if !defined(Py_GIL_DISABLED) && !defined(Py_TRACE_REFS)
    cohive_state *st = PyType_GetModuleState(tp);
    if (tp == st->Map_Type && st->free_map_count > 0)
        return PyObject_Init(st->free_maps[--st->free_map_count], tp);
#endif
    return NULL;
}

/* Keeps a dead Map object for reuse_map; false when it cannot. */
static bool keep_map(PyObject *self, PyTypeObject *tp)
{
#if !defined(Py_GIL_DISABLED) && !defined(Py_TRACE_REFS)
    cohive_state *st = PyType_GetModuleState(tp);
    if (tp == st->Map_Type && st->free_map_count < COHIVE_FREE_MAPS) {
        st->free_maps[st->free_map_count++] = self;
        return true;
    }
#endif
    return false;
}

PyObject *cohive_new_view(PyTypeObject *tp, ch_head *native, PyObject *owner)
{
    ViewObject *self = (ViewObject *)reuse_map(tp);
    if (self == NULL)
        self = PyObject_New(ViewObject, tp);
    if (self == NULL) {
        if (owner == NULL)
            ch_decref(ch_from_ptr(native));
        return NULL;
    }
    self->native = native;
    self->owner = Py_XNewRef(owner);
    self->hash = -1;
    return (PyObject *)self;
}

void cohive_view_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    ViewObject *view = (ViewObject *)self;
    if (view->owner != NULL)
        Py_DECREF(view->owner);
    else
        ch_decref(ch_from_ptr(view->native));
    if (!keep_map(self, tp))
        tp->tp_free(self);
    Py_DECREF(tp); /* instances of heap types own a reference to them */
}

ch_val cohive_share_view(PyObject *self)
{
    ViewObject *view = (ViewObject *)self;
    ch_val v = ch_from_ptr(view->native);
    /* Whatever stores it may read all of it: a loaded Map is checked whole first. */
    cohive_state *st = PyType_GetModuleState(Py_TYPE(self));
    if (Py_TYPE(self) == st->Map_Type && cohive_map_ready(st, (ch_map *)view->native) < 0)
        return CH_NOVALUE;
    if (view->owner == NULL) { /* an owning handle shares its object by reference, in O(1) */
        ch_incref(v);
        return v;
    }
    ch_val shared = ch_copy_or_share(v, CH_COPY_LIMIT);
    if (shared == CH_NOVALUE)
        PyErr_NoMemory();
    return shared;
}
