/*
 * Waiting from Python: blocking sleeps that release the GIL and let Ctrl-C
 * through, timeouts as queue.Queue takes them; and what named objects share:
 * opening them, their name, identity equality and hash.
 */
#include "binding.h"

int cohive_deadline(PyObject *timeout, double *deadline)
{
    *deadline = -1;
    if (timeout == Py_None)
        return 0;
    double t = PyFloat_AsDouble(timeout);
    if (t == -1 && PyErr_Occurred())
        return -1;
    if (t < 0 || t != t) {
        PyErr_Format(PyExc_ValueError, "timeout must be a non-negative number or None, not %R", timeout);
        return -1;
    }
    *deadline = ch_monotonic() + t;
    return 0;
}

/* Whether this is the thread Python runs signal handlers in (the main
 * thread of the main interpreter): only it needs its sleeps to end on a
 * signal.  Its ident is looked up once, in the main interpreter. */
static int in_signal_thread(void)
{
    static unsigned long main_ident; /* 0: not looked up yet */
    if (PyInterpreterState_Get() != PyInterpreterState_Main())
        return 0;
    if (main_ident == 0) {
        PyObject *threading = PyImport_ImportModule("threading");
        if (threading == NULL)
            return -1;
        PyObject *main = PyObject_CallMethod(threading, "main_thread", NULL);
        Py_DECREF(threading);
        PyObject *ident = main == NULL ? NULL : PyObject_GetAttrString(main, "ident");
        Py_XDECREF(main);
        if (ident == NULL)
            return -1;
        main_ident = PyLong_AsUnsignedLong(ident);
        Py_DECREF(ident);
        if (PyErr_Occurred())
            return -1;
    }
    return PyThread_get_thread_ident() == main_ident;
}

/* Seconds the signal thread sleeps at most before it looks for signals. */
#define SIGNAL_SLICE 0.05

int cohive_sleep_uncancelled(ch_waiter *w, double deadline)
{
    int interruptible = in_signal_thread();
    if (interruptible < 0)
        return -1;
    bool woken;
    Py_BEGIN_ALLOW_THREADS
    woken = ch_waiter_spin(w, deadline);
    Py_END_ALLOW_THREADS
    if (woken)
        return 1;
    if (PyErr_CheckSignals() < 0) /* a Ctrl-C that came while spinning */
        return -1;
    for (;;) {
        ch_sleep_result rc;
        /* A signal that arrives after the check above but before the sleep
         * begins would not interrupt it: the signal thread sleeps in slices,
         * so such a Ctrl-C is seen within one slice (an idle main thread
         * wakes SIGNAL_SLICE apart; other threads sleep until woken). */
        double slice = interruptible ? ch_monotonic() + SIGNAL_SLICE : deadline;
        bool sliced = interruptible && (deadline < 0 || slice < deadline);
        Py_BEGIN_ALLOW_THREADS
        rc = interruptible ? ch_waiter_sleep_interruptible(w, sliced ? slice : deadline) : ch_waiter_sleep(w, deadline);
        Py_END_ALLOW_THREADS
        if (rc == CH_WOKEN)
            return 1;
        if (rc == CH_TIMED_OUT && !sliced)
            return 0;
        if (PyErr_CheckSignals() < 0) /* Ctrl-C lands here, in the main thread */
            return -1;
    }
}

/* Looked up when first raised, not at import: importing queue and threading
 * would cost every worker interpreter ~2 ms at start, for errors most never see. */
PyObject *cohive_raise_stdlib(PyObject **slot, const char *module, const char *name, const char *message)
{
    if (*slot == NULL) {
        PyObject *found = PyImport_ImportModule(module);
        if (found == NULL)
            return NULL;
        *slot = PyObject_GetAttrString(found, name);
        Py_DECREF(found);
        if (*slot == NULL)
            return NULL;
    }
    if (message == NULL)
        PyErr_SetNone(*slot);
    else
        PyErr_SetString(*slot, message);
    return NULL;
}

const char *kind_name(int type)
{
    switch (type) {
    case CH_REF:
        return "Ref";
    case CH_QUEUE:
        return "Queue";
    case CH_LOCK:
        return "Lock";
    case CH_EVENT:
        return "Event";
    case CH_SEMAPHORE:
        return "Semaphore";
    case CH_BARRIER:
        return "Barrier";
    default:
        return "Counter";
    }
}

int cohive_native_name(cohive_state *st, PyObject *name, const char *kind, ch_val *out)
{
    *out = CH_NONE;
    if (name == Py_None)
        return 0;
    if (!PyUnicode_CheckExact(name)) {
        PyErr_Format(PyExc_TypeError, "%s name must be a str, not %.100s", kind, Py_TYPE(name)->tp_name);
        return -1;
    }
    return cohive_freeze(st, name, "name", out);
}

int cohive_check_open(cohive_state *st, ch_open_result rc, PyObject *name, ch_named *found, const char *wanted)
{
    if (rc == CH_OPENED || rc == CH_CREATED)
        return 0;
    if (rc == CH_NO_MEMORY) {
        PyErr_NoMemory();
        return -1;
    }
    if (rc == CH_FOREIGN) {
        PyErr_Format(st->ForeignProcessError,
                     "the name %R belongs to a cohive.%s of process %lld; this is process %lld, forked from it: "
                     "named objects work only in the process that made them", name, kind_name(found->h.type),
                     (long long)found->pid, (long long)ch_process_id());
        return -1;
    }
    PyErr_Format(PyExc_TypeError, "the name %R belongs to a cohive.%s, not a cohive.%s", name,
                 kind_name(found->h.type), wanted);
    ch_decref(ch_from_ptr(found));
    return -1;
}

/* --- what every named object (Ref, Queue, Lock, ...) shares ----------------------- */

PyObject *cohive_named_name(PyObject *self, void *unused)
{
    return cohive_read(state_of(self), ((ch_named *)((NativeObject *)self)->native)->name);
}

PyObject *cohive_identity_richcompare(PyObject *self, PyObject *other, int op)
{
    /* Two handles are equal when they hold the same native object. */
    if (Py_TYPE(other) != Py_TYPE(self) || (op != Py_EQ && op != Py_NE))
        Py_RETURN_NOTIMPLEMENTED;
    bool same = ((NativeObject *)self)->native == ((NativeObject *)other)->native;
    return Py_NewRef(same == (op == Py_EQ) ? Py_True : Py_False);
}

Py_hash_t cohive_identity_hash(PyObject *self)
{
    return cohive_py_hash(ch_hash(ch_from_ptr(((NativeObject *)self)->native)));
}
