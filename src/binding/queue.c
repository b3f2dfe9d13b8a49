/*
 * cohive.Queue: a per-interpreter handle on a native FIFO (core/queue.h).
 *
 * Items are frozen on put, before anything is enqueued, and travel by
 * reference.  Blocking calls sleep on a waiter (core/sync.h) with the GIL
 * released; asyncio calls (cohive/_waiting.py) watch its fd and retry with
 * _try_get/_try_put, which never block.
 */
#include "binding.h"

#define QUEUE(o) (((QueueObject *)(o))->queue)

PyObject *cohive_wrap_queue(cohive_state *st, ch_queue *q)
{
    QueueObject *self = PyObject_New(QueueObject, st->Queue_Type);
    if (self == NULL) {
        ch_decref(ch_from_ptr(q));
        return NULL;
    }
    self->queue = q;
    return (PyObject *)self;
}

static PyObject *Queue_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"maxsize", "name", NULL};
    Py_ssize_t maxsize = 0;
    PyObject *name = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|n$O:Queue", kwlist, &maxsize, &name))
        return NULL;
    cohive_state *st = PyType_GetModuleState(type);
    uint64_t bound = maxsize > 0 ? (uint64_t)maxsize : 0; /* as queue.Queue: <= 0 is unbounded */
    if (name == Py_None) {
        ch_queue *q = ch_queue_new(bound);
        return q != NULL ? cohive_wrap_queue(st, q) : PyErr_NoMemory();
    }
    ch_val native_name;
    if (cohive_native_name(st, name, "Queue", &native_name) < 0)
        return NULL;
    ch_queue *q;
    ch_open_result rc = ch_queue_open(native_name, bound, &q);
    ch_decref(native_name);
    if (cohive_check_open(st, rc, name, &q->n, "Queue") < 0)
        return NULL;
    return cohive_wrap_queue(st, q);
}

static PyObject *raise_closed(cohive_state *st)
{
    PyErr_SetString(st->QueueClosed, "the queue is closed");
    return NULL;
}

/* The blocking core of put and get: try, then sleep on a waiter until the
 * attempt succeeds, the deadline passes or a signal handler raises. */
static ch_queue_result attempt(ch_queue *q, bool getting, ch_val *item)
{
    return getting ? ch_queue_try_get(q, item, NULL) : ch_queue_try_put(q, *item, NULL);
}

static int wait_and_attempt(ch_queue *q, bool getting, ch_val *item, double deadline, ch_queue_result *rc)
{
    ch_waiter w;
    if (ch_waiter_init_sem(&w) != 0) {
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    ch_queue_watch(q, getting, &w);
    ch_queue_result busy = getting ? CH_Q_EMPTY : CH_Q_FULL;
    int slept = 1;
    for (;;) {
        *rc = getting ? ch_queue_try_get(q, item, &w) : ch_queue_try_put(q, *item, &w);
        if (*rc != busy || slept == 0)
            break;
        slept = cohive_sleep(&w, deadline);
        if (slept < 0)
            break;
    }
    ch_queue_unwatch(q, getting, &w);
    ch_waiter_destroy(&w);
    return slept < 0 ? -1 : 0;
}

static int parse_block_timeout(PyObject *args, PyObject *kwargs, char **kwlist, const char *format,
                               PyObject **item, int *block, double *deadline)
{
    PyObject *timeout = Py_None;
    *block = 1;
    int ok = item != NULL ? PyArg_ParseTupleAndKeywords(args, kwargs, format, kwlist, item, block, &timeout)
                          : PyArg_ParseTupleAndKeywords(args, kwargs, format, kwlist, block, &timeout);
    if (!ok)
        return -1;
    if (!*block)
        timeout = Py_None; /* as queue.Queue: a non-blocking call ignores the timeout */
    return cohive_deadline(timeout, deadline);
}

static PyObject *do_get(PyObject *self, int block, double deadline)
{
    if (cohive_check_local(self) < 0)
        return NULL;
    cohive_state *st = state_of(self);
    ch_val item;
    ch_queue_result rc = attempt(QUEUE(self), true, &item);
    if (rc == CH_Q_EMPTY && block && wait_and_attempt(QUEUE(self), true, &item, deadline, &rc) < 0)
        return NULL;
    if (rc == CH_Q_EMPTY)
        return cohive_raise_stdlib(&st->Empty, "queue", "Empty", NULL);
    if (rc == CH_Q_CLOSED)
        return raise_closed(st);
    PyObject *r = cohive_read(st, item);
    ch_decref(item);
    return r;
}

static PyObject *do_put(PyObject *self, PyObject *value, int block, double deadline)
{
    if (cohive_check_local(self) < 0)
        return NULL;
    cohive_state *st = state_of(self);
    ch_val item;
    if (cohive_freeze(st, value, "item", &item) < 0)
        return NULL;
    ch_queue_result rc = attempt(QUEUE(self), false, &item);
    if (rc == CH_Q_FULL && block && wait_and_attempt(QUEUE(self), false, &item, deadline, &rc) < 0) {
        ch_decref(item);
        return NULL;
    }
    if (rc == CH_Q_OK)
        Py_RETURN_NONE;
    ch_decref(item);
    if (rc == CH_Q_FULL)
        cohive_raise_stdlib(&st->Full, "queue", "Full", NULL);
    else if (rc == CH_Q_CLOSED)
        raise_closed(st);
    else
        PyErr_NoMemory();
    return NULL;
}

static PyObject *Queue_get(PyObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"block", "timeout", NULL};
    int block;
    double deadline;
    if (parse_block_timeout(args, kwargs, kwlist, "|pO:get", NULL, &block, &deadline) < 0)
        return NULL;
    return do_get(self, block, deadline);
}

static PyObject *Queue_put(PyObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"item", "block", "timeout", NULL};
    PyObject *item;
    int block;
    double deadline;
    if (parse_block_timeout(args, kwargs, kwlist, "O|pO:put", &item, &block, &deadline) < 0)
        return NULL;
    return do_put(self, item, block, deadline);
}

static PyObject *Queue_get_nowait(PyObject *self, PyObject *unused) { return do_get(self, 0, -1); }

static PyObject *Queue_put_nowait(PyObject *self, PyObject *item) { return do_put(self, item, 0, -1); }

/* For the asyncio side: one attempt, never blocking.  The watcher (or None)
 * has its pending wake-up answered; `busy` is returned when it must wait. */
static ch_waiter *waiter_arg(PyObject *self, PyObject *obj, bool *ok)
{
    *ok = true;
    if (obj == Py_None)
        return NULL;
    if (Py_TYPE(obj) == state_of(self)->Watcher_Type)
        return &((WatcherObject *)obj)->waiter;
    PyErr_Format(PyExc_TypeError, "expected a watcher or None, not %.100s", Py_TYPE(obj)->tp_name);
    *ok = false;
    return NULL;
}


static PyObject *Queue_try_get(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (cohive_check_local(self) < 0)
        return NULL;
    if (!cohive_check_nargs("_try_get", nargs, 2, 3))
        return NULL;
    bool ok;
    ch_waiter *w = waiter_arg(self, args[0], &ok);
    if (!ok)
        return NULL;
    double seconds = 0;
    if (nargs > 2) {
        seconds = PyFloat_AsDouble(args[2]);
        if (seconds == -1 && PyErr_Occurred())
            return NULL;
    }
    ch_val item;
    ch_queue_result rc = ch_queue_try_get(QUEUE(self), &item, w);
    if (rc == CH_Q_EMPTY && seconds > 0) {
        /* Spin (GIL released) for a reply that comes that soon: it then costs
         * no thread wake-up here, nor an fd registration for an event loop. */
        Py_BEGIN_ALLOW_THREADS
        rc = ch_queue_spin_get(QUEUE(self), &item, seconds);
        Py_END_ALLOW_THREADS
    }
    if (rc == CH_Q_EMPTY)
        return Py_NewRef(args[1]);
    if (rc == CH_Q_CLOSED)
        return raise_closed(state_of(self));
    PyObject *r = cohive_read(state_of(self), item);
    ch_decref(item);
    return r;
}

static PyObject *Queue_try_put(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (cohive_check_local(self) < 0)
        return NULL;
    if (!cohive_check_nargs("_try_put", nargs, 2, 2))
        return NULL;
    bool ok;
    ch_waiter *w = waiter_arg(self, args[1], &ok);
    if (!ok)
        return NULL;
    ch_val item;
    if (cohive_freeze(state_of(self), args[0], "item", &item) < 0)
        return NULL;
    ch_queue_result rc = ch_queue_try_put(QUEUE(self), item, w);
    if (rc == CH_Q_OK)
        Py_RETURN_TRUE;
    ch_decref(item);
    if (rc == CH_Q_FULL)
        Py_RETURN_FALSE;
    return rc == CH_Q_CLOSED ? raise_closed(state_of(self)) : PyErr_NoMemory();
}

static PyObject *Queue_watch(PyObject *self, PyObject *getting)
{
    if (cohive_check_local(self) < 0)
        return NULL;
    int g = PyObject_IsTrue(getting);
    return g < 0 ? NULL : cohive_new_watcher(state_of(self), &QUEUE(self)->n.h, g);
}

static PyObject *Queue_get_async(PyObject *self, PyObject *unused)
{
    if (cohive_check_local(self) < 0)
        return NULL;
    return cohive_call_helper(state_of(self), "queue_get_async", &self, 1);
}

static PyObject *Queue_put_async(PyObject *self, PyObject *item)
{
    if (cohive_check_local(self) < 0)
        return NULL;
    PyObject *args[] = {self, item};
    return cohive_call_helper(state_of(self), "queue_put_async", args, 2);
}

static PyObject *Queue_aiter(PyObject *self)
{
    if (cohive_check_local(self) < 0)
        return NULL;
    return cohive_call_helper(state_of(self), "queue_aiter", &self, 1);
}

static PyObject *Queue_next(PyObject *self)
{
    PyObject *item = do_get(self, 1, -1);
    if (item == NULL && PyErr_ExceptionMatches(state_of(self)->QueueClosed))
        PyErr_Clear(); /* closed and drained: the iteration ends */
    return item;
}

static PyObject *Queue_close(PyObject *self, PyObject *unused)
{
    if (cohive_check_local(self) < 0)
        return NULL;
    ch_queue_close(QUEUE(self));
    Py_RETURN_NONE;
}

static PyObject *Queue_qsize(PyObject *self, PyObject *unused)
{
    if (cohive_check_local(self) < 0)
        return NULL;
    return PyLong_FromSize_t(ch_queue_size(QUEUE(self)));
}

static PyObject *Queue_empty(PyObject *self, PyObject *unused)
{
    if (cohive_check_local(self) < 0)
        return NULL;
    return PyBool_FromLong(ch_queue_size(QUEUE(self)) == 0);
}

static PyObject *Queue_full(PyObject *self, PyObject *unused)
{
    if (cohive_check_local(self) < 0)
        return NULL;
    ch_queue *q = QUEUE(self);
    return PyBool_FromLong(q->maxsize != 0 && ch_queue_size(q) >= q->maxsize);
}

static PyObject *Queue_maxsize(PyObject *self, void *unused)
{
    if (cohive_check_local(self) < 0)
        return NULL;
    return PyLong_FromUnsignedLongLong(QUEUE(self)->maxsize);
}

static PyObject *Queue_closed(PyObject *self, void *unused)
{
    if (cohive_check_local(self) < 0)
        return NULL;
    return PyBool_FromLong(ch_queue_is_closed(QUEUE(self)));
}

static PyObject *Queue_repr(PyObject *self)
{
    if (cohive_check_local(self) < 0)
        return NULL;
    ch_queue *q = QUEUE(self);
    PyObject *name = cohive_named_name(self, NULL);
    PyObject *r = name == NULL ? NULL
                               : PyUnicode_FromFormat("<cohive.Queue name=%R maxsize=%llu size=%zu%s>", name,
                                                      (unsigned long long)q->maxsize, ch_queue_size(q),
                                                      ch_queue_is_closed(q) ? " closed" : "");
    Py_XDECREF(name);
    return r;
}

static PyMethodDef Queue_methods[] = {
    {"__class_getitem__", Py_GenericAlias, METH_O | METH_CLASS, "See PEP 585."},
    {"put", (PyCFunction)(void (*)(void))Queue_put, METH_VARARGS | METH_KEYWORDS,
     "put($self, /, item, block=True, timeout=None)\n--\n\n"
     "Freeze item and append it, waiting for a free slot if the queue is bounded and full.\n"
     "queue.Full if none came in time (or at once, with block=False); QueueClosed if closed."},
    {"get", (PyCFunction)(void (*)(void))Queue_get, METH_VARARGS | METH_KEYWORDS,
     "get($self, /, block=True, timeout=None)\n--\n\n"
     "Remove and return the oldest item, waiting for one if the queue is empty.\n"
     "queue.Empty if none came in time; QueueClosed once the queue is closed and drained."},
    {"put_nowait", Queue_put_nowait, METH_O, "put_nowait($self, item, /)\n--\n\nput(item, block=False)."},
    {"get_nowait", Queue_get_nowait, METH_NOARGS, "get_nowait($self, /)\n--\n\nget(block=False)."},
    {"get_async", Queue_get_async, METH_NOARGS,
     "get_async($self, /)\n--\n\nAwaitable get(); cancelling it never loses an item."},
    {"put_async", Queue_put_async, METH_O,
     "put_async($self, item, /)\n--\n\nAwaitable put(); cancelled, it has enqueued the whole item or nothing."},
    {"close", Queue_close, METH_NOARGS,
     "close($self, /)\n--\n\nRefuse further puts; gets drain what is left, then raise QueueClosed.\n"
     "Wakes every blocked caller."},
    {"qsize", Queue_qsize, METH_NOARGS, "qsize($self, /)\n--\n\nThe number of items now queued."},
    {"empty", Queue_empty, METH_NOARGS, "empty($self, /)\n--\n\nWhether no item is queued now."},
    {"full", Queue_full, METH_NOARGS, "full($self, /)\n--\n\nWhether a bounded queue is at its maxsize now."},
    {"_try_get", (PyCFunction)(void (*)(void))Queue_try_get, METH_FASTCALL, NULL},
    {"_try_put", (PyCFunction)(void (*)(void))Queue_try_put, METH_FASTCALL, NULL},
    {"_watch", Queue_watch, METH_O, NULL},
    {NULL},
};

static PyGetSetDef Queue_getset[] = {
    {"maxsize", Queue_maxsize, NULL, "The bound on queued items; 0 for none.", NULL},
    {"name", cohive_named_name, NULL, "The registered name, or None for an anonymous queue.", NULL},
    {"closed", Queue_closed, NULL, "Whether close() was called.", NULL},
    {NULL},
};

PyDoc_STRVAR(Queue_doc, "Queue(maxsize=0, *, name=None)\n--\n\n"
"A multi-producer, multi-consumer FIFO shared by every interpreter and thread of\n"
"the process. Items are frozen on put and travel by reference (a Map in O(1)).\n"
"A named queue is opened by name from any interpreter; an anonymous one travels\n"
"inside frozen values. Iterating (sync or async) yields items until it is closed\n"
"and drained.");

static PyType_Slot Queue_slots[] = {
    {Py_tp_doc, (void *)Queue_doc},
    {Py_tp_new, Queue_new},
    {Py_tp_dealloc, cohive_native_dealloc},
    {Py_tp_repr, Queue_repr},
    {Py_tp_hash, cohive_identity_hash},
    {Py_tp_richcompare, cohive_identity_richcompare},
    {Py_tp_iter, PyObject_SelfIter},
    {Py_tp_iternext, Queue_next},
    {Py_am_aiter, Queue_aiter},
    {Py_tp_methods, Queue_methods},
    {Py_tp_getset, Queue_getset},
    {0, NULL},
};

static PyType_Spec Queue_spec = {
    .name = "cohive.Queue",
    .basicsize = sizeof(QueueObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = Queue_slots,
};

int cohive_add_queue_type(PyObject *module, cohive_state *st)
{
    st->QueueClosed = PyErr_NewExceptionWithDoc(
        "cohive.QueueClosed", "The queue was closed: no more puts, and gets once it is drained.", NULL, NULL);
    if (st->QueueClosed == NULL || PyModule_AddObjectRef(module, "QueueClosed", st->QueueClosed) < 0)
        return -1;
    st->Queue_Type = (PyTypeObject *)PyType_FromModuleAndSpec(module, &Queue_spec, NULL);
    if (st->Queue_Type == NULL)
        return -1;
    return PyModule_AddType(module, st->Queue_Type);
}
