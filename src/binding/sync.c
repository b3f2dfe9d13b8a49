/*
 * cohive.Lock, Event, Semaphore, Barrier and Counter: per-interpreter
 * handles on native primitives (core/primitives.h), named or passed inside
 * frozen values, with the errors threading users expect.
 *
 * Every blocking call is "try, then sleep on a waiter and retry" (block_on),
 * with the GIL released and Ctrl-C let through; the asyncio forms in
 * cohive/_waiting.py do the same through a Watcher's fd and the _try methods.
 */
#include "binding.h"

typedef struct {
    PyObject_HEAD
    ch_sync *sync;
    double timeout; /* Barrier: the default timeout, or -1 */
} SyncObject;

_Static_assert(offsetof(SyncObject, sync) == offsetof(NativeObject, native), "primitive layout");

#define SYNC(o) (((SyncObject *)(o))->sync)

static PyTypeObject *type_for(cohive_state *st, int type)
{
    switch (type) {
    case CH_LOCK:
        return st->Lock_Type;
    case CH_EVENT:
        return st->Event_Type;
    case CH_SEMAPHORE:
        return st->Semaphore_Type;
    case CH_BARRIER:
        return st->Barrier_Type;
    default:
        return st->Counter_Type;
    }
}

PyObject *cohive_wrap_sync(cohive_state *st, ch_sync *s)
{
    SyncObject *self = PyObject_New(SyncObject, type_for(st, s->n.h.type));
    if (self == NULL) {
        ch_decref(ch_from_ptr(s));
        return NULL;
    }
    self->sync = s;
    self->timeout = -1;
    return (PyObject *)self;
}

/* Opens (name is a str) or creates (name is None) the primitive. */
static PyObject *open_sync(PyTypeObject *type, ch_type kind, PyObject *name, ch_sync_init init)
{
    cohive_state *st = PyType_GetModuleState(type);
    ch_val native_name;
    if (cohive_native_name(st, name, kind_name(kind), &native_name) < 0)
        return NULL;
    ch_sync *s;
    ch_open_result rc = ch_sync_open(native_name, kind, init, &s);
    ch_decref(native_name);
    if (cohive_check_open(st, rc, name, s != NULL ? &s->n : NULL, kind_name(kind)) < 0)
        return NULL;
    return cohive_wrap_sync(st, s);
}

/* --- blocking ------------------------------------------------------------------------ */

/* >0 done, 0 must wait, <0 can never succeed (a broken barrier) */
typedef int (*attempt_fn)(ch_sync *s, ch_waiter *w, uint64_t arg);

/* 1 done, 0 timed out, -1 exception (a signal handler raised), -2 failed for good */
static int block_on(ch_sync *s, attempt_fn attempt, uint64_t arg, double deadline)
{
    ch_waiter w;
    if (ch_waiter_init_sem(&w) != 0) {
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    ch_sync_watch(s, &w);
    int r, slept = 1;
    for (;;) {
        r = attempt(s, &w, arg);
        if (r != 0 || slept == 0)
            break;
        slept = cohive_sleep(&w, deadline);
        if (slept < 0)
            break;
    }
    ch_sync_unwatch(s, &w);
    ch_waiter_destroy(&w);
    if (r == 0 && slept < 0)
        return -1;
    return r > 0 ? 1 : r < 0 ? -2 : 0;
}

static int attempt_lock(ch_sync *s, ch_waiter *w, uint64_t arg) { return ch_lock_try_acquire(s, w); }
static int attempt_semaphore(ch_sync *s, ch_waiter *w, uint64_t arg) { return ch_semaphore_try_acquire(s, w); }
static int attempt_event(ch_sync *s, ch_waiter *w, uint64_t arg) { return ch_event_is_set(s, w); }

static int attempt_barrier(ch_sync *s, ch_waiter *w, uint64_t generation)
{
    ch_barrier_state state = ch_barrier_check(s, generation, w);
    return state == CH_BARRIER_PASSED ? 1 : state == CH_BARRIER_BROKEN ? -1 : 0;
}

/* acquire(blocking, timeout) for Lock (-1 means forever) and Semaphore (None does). */
static PyObject *acquire(PyObject *self, PyObject *args, PyObject *kwargs, bool lock)
{
    if (cohive_check_local(self) < 0)
        return NULL;
    static char *kwlist[] = {"blocking", "timeout", NULL};
    int blocking = 1;
    PyObject *timeout = lock ? NULL : Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|pO:acquire", kwlist, &blocking, &timeout))
        return NULL;
    double seconds = -1;
    if (timeout != NULL && timeout != Py_None) {
        seconds = PyFloat_AsDouble(timeout);
        if (seconds == -1 && PyErr_Occurred())
            return NULL;
    }
    bool forever = timeout == NULL || timeout == Py_None || (lock && seconds == -1);
    if (!blocking && !forever)
        return PyErr_Format(PyExc_ValueError, "can't specify a timeout for a non-blocking call");
    if (!forever && (seconds < 0 || seconds != seconds))
        return PyErr_Format(PyExc_ValueError, "timeout value must be a non-negative number");
    attempt_fn attempt = lock ? attempt_lock : attempt_semaphore;
    if (attempt(SYNC(self), NULL, 0))
        Py_RETURN_TRUE;
    if (!blocking)
        Py_RETURN_FALSE;
    int r = block_on(SYNC(self), attempt, 0, forever ? -1 : ch_monotonic() + seconds);
    return r < 0 ? NULL : PyBool_FromLong(r);
}

/* --- shared methods -------------------------------------------------------------------- */

static PyObject *Sync_watch(PyObject *self, PyObject *unused)
{
    if (cohive_check_local(self) < 0)
        return NULL;
    return cohive_new_watcher(state_of(self), &SYNC(self)->n.h, false);
}

static PyObject *Sync_repr(PyObject *self)
{
    if (cohive_check_local(self) < 0)
        return NULL;
    PyObject *name = cohive_named_name(self, NULL);
    PyObject *r = name != NULL ? PyUnicode_FromFormat("<cohive.%s name=%R>", kind_name(SYNC(self)->n.h.type), name)
                               : NULL;
    Py_XDECREF(name);
    return r;
}

static PyObject *call_async(PyObject *self, const char *helper)
{
    if (cohive_check_local(self) < 0)
        return NULL;
    return cohive_call_helper(state_of(self), helper, &self, 1);
}

static PyObject *Sync_acquire_async(PyObject *self, PyObject *unused) { return call_async(self, "acquire_async"); }
static PyObject *Sync_wait_async(PyObject *self, PyObject *unused) { return call_async(self, "wait_async"); }
static PyObject *Sync_aexit(PyObject *self, PyObject *args) { return call_async(self, "release_async"); }

static PyObject *Sync_try(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (cohive_check_local(self) < 0)
        return NULL;
    /* One non-blocking attempt for the asyncio side: _try(watcher[, generation]). */
    if (!cohive_check_nargs("_try", nargs, 1, 2))
        return NULL;
    cohive_state *st = state_of(self);
    if (Py_TYPE(args[0]) != st->Watcher_Type)
        return PyErr_Format(PyExc_TypeError, "expected a watcher, not %.100s", Py_TYPE(args[0])->tp_name);
    ch_waiter *w = &((WatcherObject *)args[0])->waiter;
    ch_sync *s = SYNC(self);
    int r;
    switch (s->n.h.type) {
    case CH_LOCK:
        r = attempt_lock(s, w, 0);
        break;
    case CH_SEMAPHORE:
        r = attempt_semaphore(s, w, 0);
        break;
    case CH_EVENT:
        r = attempt_event(s, w, 0);
        break;
    default: {
        unsigned long long generation = nargs > 1 ? PyLong_AsUnsignedLongLong(args[1]) : 0;
        if (generation == (unsigned long long)-1 && PyErr_Occurred())
            return NULL;
        r = attempt_barrier(s, w, generation);
        if (r < 0)
            return cohive_raise_stdlib(&st->BrokenBarrierError, "threading", "BrokenBarrierError",
                                       "the barrier is broken");
    }
    }
    return PyBool_FromLong(r > 0);
}

#define SHARED_METHODS                                                                                            \
    {"_watch", Sync_watch, METH_NOARGS, NULL}, {"_try", (PyCFunction)(void (*)(void))Sync_try, METH_FASTCALL, NULL}

static PyGetSetDef Sync_getset[] = {
    {"name", cohive_named_name, NULL, "The registered name, or None for an anonymous primitive.", NULL},
    {NULL},
};

/* --- Lock ------------------------------------------------------------------------------- */

static PyObject *Lock_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"name", NULL};
    PyObject *name = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|$O:Lock", kwlist, &name))
        return NULL;
    return open_sync(type, CH_LOCK, name, (ch_sync_init){0, 0});
}

static PyObject *Lock_acquire(PyObject *self, PyObject *args, PyObject *kwargs) { return acquire(self, args, kwargs, true); }

static PyObject *Lock_release(PyObject *self, PyObject *unused)
{
    if (cohive_check_local(self) < 0)
        return NULL;
    if (!ch_lock_release(SYNC(self)))
        return PyErr_Format(PyExc_RuntimeError, "release unlocked lock");
    Py_RETURN_NONE;
}

static PyObject *Lock_locked(PyObject *self, PyObject *unused)
{
    if (cohive_check_local(self) < 0)
        return NULL;
    return PyBool_FromLong(ch_lock_is_held(SYNC(self)));
}

/* __enter__ of Lock and Semaphore: acquire(), blocking with no timeout. */
static PyObject *acquire_forever(PyObject *self, bool lock)
{
    PyObject *args = PyTuple_New(0);
    PyObject *r = args != NULL ? acquire(self, args, NULL, lock) : NULL;
    Py_XDECREF(args);
    return r;
}

static PyObject *Lock_enter(PyObject *self, PyObject *unused) { return acquire_forever(self, true); }

static PyObject *Lock_exit(PyObject *self, PyObject *args)
{
    PyObject *r = Lock_release(self, NULL);
    Py_XDECREF(r);
    return r != NULL ? Py_NewRef(Py_False) : NULL;
}

static PyMethodDef Lock_methods[] = {
    {"acquire", (PyCFunction)(void (*)(void))Lock_acquire, METH_VARARGS | METH_KEYWORDS,
     "acquire($self, /, blocking=True, timeout=-1)\n--\n\n"
     "Acquire the lock, waiting up to timeout seconds (-1: forever); whether it was acquired."},
    {"release", Lock_release, METH_NOARGS,
     "release($self, /)\n--\n\nRelease the lock (from any thread or interpreter); RuntimeError if unlocked."},
    {"locked", Lock_locked, METH_NOARGS, "locked($self, /)\n--\n\nWhether the lock is held."},
    {"acquire_async", Sync_acquire_async, METH_NOARGS, "acquire_async($self, /)\n--\n\nAwaitable acquire()."},
    {"__enter__", Lock_enter, METH_NOARGS, NULL},
    {"__exit__", Lock_exit, METH_VARARGS, NULL},
    {"__aenter__", Sync_acquire_async, METH_NOARGS, NULL},
    {"__aexit__", Sync_aexit, METH_VARARGS, NULL},
    SHARED_METHODS,
    {NULL},
};

/* --- Semaphore --------------------------------------------------------------------------- */

static PyObject *Semaphore_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"value", "name", NULL};
    long long value = 1;
    PyObject *name = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|L$O:Semaphore", kwlist, &value, &name))
        return NULL;
    if (value < 0)
        return PyErr_Format(PyExc_ValueError, "semaphore initial value must be >= 0, not %lld", value);
    return open_sync(type, CH_SEMAPHORE, name, (ch_sync_init){value, 0});
}

static PyObject *Semaphore_acquire(PyObject *self, PyObject *args, PyObject *kwargs)
{
    return acquire(self, args, kwargs, false);
}

static PyObject *Semaphore_release(PyObject *self, PyObject *args, PyObject *kwargs)
{
    if (cohive_check_local(self) < 0)
        return NULL;
    static char *kwlist[] = {"n", NULL};
    long long n = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|L:release", kwlist, &n))
        return NULL;
    if (n < 1)
        return PyErr_Format(PyExc_ValueError, "n must be one or more, not %lld", n);
    ch_semaphore_release(SYNC(self), n);
    Py_RETURN_NONE;
}

static PyObject *Semaphore_value(PyObject *self, void *unused)
{
    if (cohive_check_local(self) < 0)
        return NULL;
    return PyLong_FromLongLong(ch_semaphore_value(SYNC(self)));
}

static PyObject *Semaphore_enter(PyObject *self, PyObject *unused) { return acquire_forever(self, false); }

static PyObject *Semaphore_exit(PyObject *self, PyObject *args)
{
    if (cohive_check_local(self) < 0)
        return NULL;
    ch_semaphore_release(SYNC(self), 1);
    Py_RETURN_FALSE;
}

static PyMethodDef Semaphore_methods[] = {
    {"acquire", (PyCFunction)(void (*)(void))Semaphore_acquire, METH_VARARGS | METH_KEYWORDS,
     "acquire($self, /, blocking=True, timeout=None)\n--\n\n"
     "Take one unit, waiting up to timeout seconds (None: forever); whether one was taken."},
    {"release", (PyCFunction)(void (*)(void))Semaphore_release, METH_VARARGS | METH_KEYWORDS,
     "release($self, /, n=1)\n--\n\nGive n units back, waking as many waiters."},
    {"acquire_async", Sync_acquire_async, METH_NOARGS, "acquire_async($self, /)\n--\n\nAwaitable acquire()."},
    {"__enter__", Semaphore_enter, METH_NOARGS, NULL},
    {"__exit__", Semaphore_exit, METH_VARARGS, NULL},
    {"__aenter__", Sync_acquire_async, METH_NOARGS, NULL},
    {"__aexit__", Sync_aexit, METH_VARARGS, NULL},
    SHARED_METHODS,
    {NULL},
};

static PyGetSetDef Semaphore_getset[] = {
    {"name", cohive_named_name, NULL, "The registered name, or None.", NULL},
    {"value", Semaphore_value, NULL, "The units available now.", NULL},
    {NULL},
};

/* --- Event ----------------------------------------------------------------------------------- */

static PyObject *Event_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"name", NULL};
    PyObject *name = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|$O:Event", kwlist, &name))
        return NULL;
    return open_sync(type, CH_EVENT, name, (ch_sync_init){0, 0});
}

static PyObject *Event_set(PyObject *self, PyObject *unused)
{
    if (cohive_check_local(self) < 0)
        return NULL;
    ch_event_set(SYNC(self));
    Py_RETURN_NONE;
}

static PyObject *Event_clear(PyObject *self, PyObject *unused)
{
    if (cohive_check_local(self) < 0)
        return NULL;
    ch_event_clear(SYNC(self));
    Py_RETURN_NONE;
}

static PyObject *Event_is_set(PyObject *self, PyObject *unused)
{
    if (cohive_check_local(self) < 0)
        return NULL;
    return PyBool_FromLong(ch_event_is_set(SYNC(self), NULL));
}

static PyObject *Event_wait(PyObject *self, PyObject *args, PyObject *kwargs)
{
    if (cohive_check_local(self) < 0)
        return NULL;
    static char *kwlist[] = {"timeout", NULL};
    PyObject *timeout = Py_None;
    double deadline;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O:wait", kwlist, &timeout) ||
        cohive_deadline(timeout, &deadline) < 0)
        return NULL;
    if (ch_event_is_set(SYNC(self), NULL))
        Py_RETURN_TRUE;
    int r = block_on(SYNC(self), attempt_event, 0, deadline);
    return r < 0 ? NULL : PyBool_FromLong(r);
}

static PyMethodDef Event_methods[] = {
    {"set", Event_set, METH_NOARGS, "set($self, /)\n--\n\nSet the flag and wake every waiter."},
    {"clear", Event_clear, METH_NOARGS, "clear($self, /)\n--\n\nReset the flag."},
    {"is_set", Event_is_set, METH_NOARGS, "is_set($self, /)\n--\n\nWhether the flag is set."},
    {"wait", (PyCFunction)(void (*)(void))Event_wait, METH_VARARGS | METH_KEYWORDS,
     "wait($self, /, timeout=None)\n--\n\nBlock until the flag is set; whether it is (False on timeout)."},
    {"wait_async", Sync_wait_async, METH_NOARGS, "wait_async($self, /)\n--\n\nAwaitable wait() (no timeout)."},
    SHARED_METHODS,
    {NULL},
};

/* --- Barrier ----------------------------------------------------------------------------------- */

static PyObject *Barrier_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"parties", "timeout", "name", NULL};
    long long parties;
    PyObject *timeout = Py_None, *name = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "L|O$O:Barrier", kwlist, &parties, &timeout, &name))
        return NULL;
    if (parties < 1 || parties > UINT32_MAX)
        return PyErr_Format(PyExc_ValueError, "parties must be a positive number, not %lld", parties);
    double seconds = -1;
    if (timeout != Py_None && ((seconds = PyFloat_AsDouble(timeout)) == -1 && PyErr_Occurred()))
        return NULL;
    if (timeout != Py_None && (seconds < 0 || seconds != seconds))
        return PyErr_Format(PyExc_ValueError, "timeout must be a non-negative number or None, not %R", timeout);
    PyObject *self = open_sync(type, CH_BARRIER, name, (ch_sync_init){0, (uint32_t)parties});
    if (self != NULL)
        ((SyncObject *)self)->timeout = seconds;
    return self;
}

static PyObject *broken(PyObject *self)
{
    return cohive_raise_stdlib(&state_of(self)->BrokenBarrierError, "threading", "BrokenBarrierError",
                               "the barrier is broken");
}

static PyObject *Barrier_wait(PyObject *self, PyObject *args, PyObject *kwargs)
{
    if (cohive_check_local(self) < 0)
        return NULL;
    static char *kwlist[] = {"timeout", NULL};
    PyObject *timeout = Py_None;
    double deadline;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O:wait", kwlist, &timeout))
        return NULL;
    if (timeout == Py_None && ((SyncObject *)self)->timeout >= 0) {
        deadline = ch_monotonic() + ((SyncObject *)self)->timeout;
    } else if (cohive_deadline(timeout, &deadline) < 0) {
        return NULL;
    }
    uint32_t index;
    uint64_t generation;
    ch_barrier_state state = ch_barrier_arrive(SYNC(self), &index, &generation);
    if (state == CH_BARRIER_BROKEN)
        return broken(self);
    if (state == CH_BARRIER_WAITING) {
        int r = block_on(SYNC(self), attempt_barrier, generation, deadline);
        if (r == 0 || r == -1) /* timed out or interrupted: break it, as threading does */
            ch_barrier_abort(SYNC(self));
        if (r == -1)
            return NULL;
        if (r != 1)
            return broken(self);
    }
    return PyLong_FromUnsignedLong(index);
}

static PyObject *Barrier_arrive(PyObject *self, PyObject *unused)
{
    if (cohive_check_local(self) < 0)
        return NULL;
    /* For wait_async: (index, generation to wait for, or None if passed). */
    uint32_t index;
    uint64_t generation;
    ch_barrier_state state = ch_barrier_arrive(SYNC(self), &index, &generation);
    if (state == CH_BARRIER_BROKEN)
        return broken(self);
    if (state == CH_BARRIER_PASSED)
        return Py_BuildValue("(IO)", index, Py_None);
    return Py_BuildValue("(IK)", index, (unsigned long long)generation);
}

static PyObject *Barrier_abort(PyObject *self, PyObject *unused)
{
    if (cohive_check_local(self) < 0)
        return NULL;
    ch_barrier_abort(SYNC(self));
    Py_RETURN_NONE;
}

static PyObject *Barrier_reset(PyObject *self, PyObject *unused)
{
    if (cohive_check_local(self) < 0)
        return NULL;
    ch_barrier_reset(SYNC(self));
    Py_RETURN_NONE;
}

static PyObject *Barrier_parties(PyObject *self, void *unused)
{
    if (cohive_check_local(self) < 0)
        return NULL;
    return PyLong_FromUnsignedLong(SYNC(self)->parties);
}

static PyObject *Barrier_n_waiting(PyObject *self, void *unused)
{
    if (cohive_check_local(self) < 0)
        return NULL;
    uint32_t waiting;
    bool is_broken;
    ch_barrier_state_of(SYNC(self), &waiting, &is_broken);
    return PyLong_FromUnsignedLong(waiting);
}

static PyObject *Barrier_broken(PyObject *self, void *unused)
{
    if (cohive_check_local(self) < 0)
        return NULL;
    uint32_t waiting;
    bool is_broken;
    ch_barrier_state_of(SYNC(self), &waiting, &is_broken);
    return PyBool_FromLong(is_broken);
}

static PyMethodDef Barrier_methods[] = {
    {"wait", (PyCFunction)(void (*)(void))Barrier_wait, METH_VARARGS | METH_KEYWORDS,
     "wait($self, /, timeout=None)\n--\n\n"
     "Wait until all parties have arrived; returns this caller's arrival index.\n"
     "threading.BrokenBarrierError if the barrier is or becomes broken (a timeout breaks it)."},
    {"wait_async", Sync_wait_async, METH_NOARGS,
     "wait_async($self, /)\n--\n\nAwaitable wait(); cancelling it breaks the barrier for the others."},
    {"abort", Barrier_abort, METH_NOARGS, "abort($self, /)\n--\n\nBreak the barrier: every waiter fails."},
    {"reset", Barrier_reset, METH_NOARGS,
     "reset($self, /)\n--\n\nBack to empty and unbroken; callers waiting now get BrokenBarrierError."},
    {"_arrive", Barrier_arrive, METH_NOARGS, NULL},
    SHARED_METHODS,
    {NULL},
};

static PyGetSetDef Barrier_getset[] = {
    {"name", cohive_named_name, NULL, "The registered name, or None.", NULL},
    {"parties", Barrier_parties, NULL, "How many must arrive.", NULL},
    {"n_waiting", Barrier_n_waiting, NULL, "How many are waiting now.", NULL},
    {"broken", Barrier_broken, NULL, "Whether the barrier is broken.", NULL},
    {NULL},
};

/* --- Counter --------------------------------------------------------------------------------------- */

static PyObject *Counter_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"value", "name", NULL};
    long long value = 0;
    PyObject *name = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|L$O:Counter", kwlist, &value, &name))
        return NULL;
    return open_sync(type, CH_COUNTER, name, (ch_sync_init){value, 0});
}

static PyObject *Counter_add(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (cohive_check_local(self) < 0)
        return NULL;
    if (!cohive_check_nargs("add", nargs, 0, 1))
        return NULL;
    long long n = nargs ? PyLong_AsLongLong(args[0]) : 1;
    if (n == -1 && PyErr_Occurred())
        return NULL;
    return PyLong_FromLongLong(ch_counter_add(SYNC(self), n));
}

static PyObject *Counter_get(PyObject *self, PyObject *unused)
{
    if (cohive_check_local(self) < 0)
        return NULL;
    return PyLong_FromLongLong(ch_counter_get(SYNC(self)));
}

static PyObject *Counter_compare_and_set(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (cohive_check_local(self) < 0)
        return NULL;
    if (!cohive_check_nargs("compare_and_set", nargs, 2, 2))
        return NULL;
    long long expected = PyLong_AsLongLong(args[0]), value;
    if ((expected == -1 && PyErr_Occurred()) || ((value = PyLong_AsLongLong(args[1])) == -1 && PyErr_Occurred()))
        return NULL;
    return PyBool_FromLong(ch_counter_compare_and_set(SYNC(self), expected, value));
}

static PyObject *Counter_repr(PyObject *self)
{
    if (cohive_check_local(self) < 0)
        return NULL;
    PyObject *name = cohive_named_name(self, NULL);
    PyObject *r = name != NULL ? PyUnicode_FromFormat("<cohive.Counter name=%R value=%lld>", name,
                                                      (long long)ch_counter_get(SYNC(self)))
                               : NULL;
    Py_XDECREF(name);
    return r;
}

static PyMethodDef Counter_methods[] = {
    {"add", (PyCFunction)(void (*)(void))Counter_add, METH_FASTCALL,
     "add($self, n=1, /)\n--\n\nAtomically add n (64-bit, wrapping); returns the new value."},
    {"get", Counter_get, METH_NOARGS, "get($self, /)\n--\n\nThe current value."},
    {"compare_and_set", (PyCFunction)(void (*)(void))Counter_compare_and_set, METH_FASTCALL,
     "compare_and_set($self, expected, value, /)\n--\n\nSet value if the counter is expected; whether it did."},
    {NULL},
};

/* --- types ------------------------------------------------------------------------------------------- */

#define SYNC_SPEC(kind, doc, ...)                                                                   \
    static PyType_Slot kind##_slots[] = {                                                                      \
        {Py_tp_doc, (void *)doc},                                                                              \
        {Py_tp_new, kind##_new},                                                                               \
        {Py_tp_dealloc, cohive_native_dealloc},                                                                \
        {Py_tp_hash, cohive_identity_hash},                                                                               \
        {Py_tp_richcompare, cohive_identity_richcompare},                                                                 \
        {Py_tp_methods, kind##_methods},                                                                       \
        __VA_ARGS__{0, NULL},                                                                                  \
    };                                                                                                         \
    static PyType_Spec kind##_spec = {                                                                         \
        .name = "cohive." #kind,                                                                               \
        .basicsize = sizeof(SyncObject),                                                                       \
        .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE,                                                \
        .slots = kind##_slots,                                                                                 \
    };

SYNC_SPEC(Lock, "Lock(*, name=None)\n--\n\nA lock shared by every interpreter and thread; like threading.Lock.",
          {Py_tp_repr, Sync_repr}, {Py_tp_getset, Sync_getset}, )
SYNC_SPEC(Event, "Event(*, name=None)\n--\n\nA flag shared by every interpreter and thread; like threading.Event.",
          {Py_tp_repr, Sync_repr}, {Py_tp_getset, Sync_getset}, )
SYNC_SPEC(Semaphore,
          "Semaphore(value=1, *, name=None)\n--\n\nA counting semaphore shared by every interpreter and thread; "
          "like threading.Semaphore.",
          {Py_tp_repr, Sync_repr}, {Py_tp_getset, Semaphore_getset}, )
SYNC_SPEC(Barrier,
          "Barrier(parties, timeout=None, *, name=None)\n--\n\nA barrier for parties callers in any interpreters; "
          "like threading.Barrier.",
          {Py_tp_repr, Sync_repr}, {Py_tp_getset, Barrier_getset}, )
SYNC_SPEC(Counter, "Counter(value=0, *, name=None)\n--\n\nAn atomic 64-bit integer shared by every interpreter.",
          {Py_tp_repr, Counter_repr}, {Py_tp_getset, Sync_getset}, )

int cohive_add_sync_types(PyObject *module, cohive_state *st)
{
    PyType_Spec *specs[] = {&Lock_spec, &Event_spec, &Semaphore_spec, &Barrier_spec, &Counter_spec};
    PyTypeObject **slots[] = {&st->Lock_Type, &st->Event_Type, &st->Semaphore_Type, &st->Barrier_Type,
                              &st->Counter_Type};
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        *slots[i] = (PyTypeObject *)PyType_FromModuleAndSpec(module, specs[i], NULL);
        if (*slots[i] == NULL || PyModule_AddType(module, *slots[i]) < 0)
            return -1;
    }
    return 0;
}
