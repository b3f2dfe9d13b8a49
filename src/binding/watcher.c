/*
 * A Watcher is a file descriptor an event loop can watch: it becomes
 * readable whenever the native object it watches changes (a Ref publishes,
 * a Queue has an item or a free slot, a Lock is released, ...).  The asyncio
 * waits in cohive/_waiting.py are built on it, one fd per waiting task,
 * with no helper thread.
 */
#include "binding.h"

PyObject *cohive_new_watcher(cohive_state *st, ch_head *owner, bool getting)
{
    WatcherObject *self = PyObject_New(WatcherObject, st->Watcher_Type);
    if (self == NULL)
        return NULL;
    self->owner = NULL;
    if (ch_waiter_init_fd(&self->waiter) != 0) {
        Py_DECREF(self);
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    self->owner = owner;
    self->getting = getting;
    ch_incref(ch_from_ptr(owner));
    if (owner->type == CH_REF)
        ch_ref_watch((ch_ref *)owner, &self->waiter);
    else if (owner->type == CH_QUEUE)
        ch_queue_watch((ch_queue *)owner, getting, &self->waiter);
    else
        ch_sync_watch((ch_sync *)owner, &self->waiter);
    return (PyObject *)self;
}

static void close_watcher(WatcherObject *self)
{
    if (self->owner == NULL)
        return;
    if (!ch_named_is_local((ch_named *)self->owner)) { /* a forked child's copy (fork.c): leave it */
        ch_waiter_destroy(&self->waiter);
        self->owner = NULL;
        return;
    }
    if (self->owner->type == CH_REF)
        ch_ref_unwatch((ch_ref *)self->owner, &self->waiter);
    else if (self->owner->type == CH_QUEUE)
        ch_queue_unwatch((ch_queue *)self->owner, self->getting, &self->waiter);
    else
        ch_sync_unwatch((ch_sync *)self->owner, &self->waiter);
    ch_waiter_destroy(&self->waiter);
    ch_decref(ch_from_ptr(self->owner));
    self->owner = NULL;
}

static void Watcher_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    close_watcher((WatcherObject *)self);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static int check_open(WatcherObject *self)
{
    if (self->owner != NULL)
        return 0;
    PyErr_SetString(PyExc_ValueError, "the watcher is closed");
    return -1;
}

static PyObject *Watcher_fileno(PyObject *self, PyObject *unused)
{
    WatcherObject *w = (WatcherObject *)self;
    return check_open(w) < 0 ? NULL : PyLong_FromLong(w->waiter.read_fd);
}

static PyObject *Watcher_drain(PyObject *self, PyObject *unused)
{
    WatcherObject *w = (WatcherObject *)self;
    if (check_open(w) < 0)
        return NULL;
    ch_waiter_drain(&w->waiter);
    Py_RETURN_NONE;
}

static PyObject *Watcher_close(PyObject *self, PyObject *unused)
{
    close_watcher((WatcherObject *)self);
    Py_RETURN_NONE;
}

static PyObject *Watcher_enter(PyObject *self, PyObject *unused) { return Py_NewRef(self); }

static PyObject *Watcher_exit(PyObject *self, PyObject *args)
{
    close_watcher((WatcherObject *)self);
    Py_RETURN_FALSE;
}

static PyMethodDef Watcher_methods[] = {
    {"fileno", Watcher_fileno, METH_NOARGS, "The fd that becomes readable on every change."},
    {"drain", Watcher_drain, METH_NOARGS, "Consume the pending wake-ups, so the fd is quiet again."},
    {"close", Watcher_close, METH_NOARGS, "Stop watching and close the fd."},
    {"__enter__", Watcher_enter, METH_NOARGS, NULL},
    {"__exit__", Watcher_exit, METH_VARARGS, NULL},
    {NULL},
};

static PyType_Slot Watcher_slots[] = {
    {Py_tp_dealloc, Watcher_dealloc},
    {Py_tp_methods, Watcher_methods},
    {0, NULL},
};

static PyType_Spec Watcher_spec = {
    .name = "cohive._cohive.Watcher",
    .basicsize = sizeof(WatcherObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = Watcher_slots,
};

int cohive_add_watcher_type(PyObject *module, cohive_state *st)
{
    st->Watcher_Type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &Watcher_spec, NULL);
    return st->Watcher_Type != NULL ? 0 : -1;
}
