/*
 * Cancel scopes from Python (src/core/cancel.h), and the blocking sleep that
 * honours them: a worker's cohive calls raise cohive.WorkerStopped once the
 * Hive or Executor it runs for stops.
 */
#include "binding.h"

#include "../core/cancel.h"

static int raise_stopped(void)
{
    PyObject *stopped = NULL; /* looked up each time: rare, and no module state to keep it in */
    cohive_raise_stdlib(&stopped, "cohive", "WorkerStopped", "the Hive or Executor this worker runs for is stopping");
    Py_XDECREF(stopped);
    return -1;
}

/* A cancelled sleep returns as if woken: the caller tries once more (the
 * queue may have been closed just before the scope was cancelled, and the
 * closing should win), and only a call that would sleep again raises. */
int cohive_sleep(ch_waiter *w, double deadline)
{
    ch_cancel_sleeper sleeper;
    if (!ch_cancel_sleep_begin(&sleeper, w))
        return raise_stopped();
    int rc = cohive_sleep_uncancelled(w, deadline);
    ch_cancel_sleep_end(&sleeper);
    return rc;
}

static int scope_id(PyObject *arg, uint64_t *id)
{
    unsigned long long v = PyLong_AsUnsignedLongLong(arg);
    if (v == (unsigned long long)-1 && PyErr_Occurred())
        return -1;
    *id = v;
    return 0;
}

static PyObject *new_scope(PyObject *module, PyObject *unused)
{
    uint64_t id = ch_cancel_new(ch_cancel_current());
    return id != 0 ? PyLong_FromUnsignedLongLong(id) : PyErr_NoMemory();
}

static PyObject *cancel_scope(PyObject *module, PyObject *arg)
{
    uint64_t id;
    if (scope_id(arg, &id) < 0)
        return NULL;
    return PyBool_FromLong(ch_cancel_cancel(id));
}

static PyObject *free_scope(PyObject *module, PyObject *arg)
{
    uint64_t id;
    if (scope_id(arg, &id) < 0)
        return NULL;
    ch_cancel_free(id);
    Py_RETURN_NONE;
}

static PyObject *enter_scope(PyObject *module, PyObject *arg)
{
    uint64_t id;
    if (scope_id(arg, &id) < 0)
        return NULL;
    return PyLong_FromUnsignedLongLong(ch_cancel_enter(id));
}

static PyMethodDef cancel_functions[] = {
    {"_new_scope", new_scope, METH_NOARGS, "A new cancel scope inside the calling thread's; its id."},
    {"_cancel_scope", cancel_scope, METH_O, "Cancels a scope, waking its workers' cohive calls."},
    {"_free_scope", free_scope, METH_O, "Forgets a scope (threads still in it see it cancelled)."},
    {"_enter_scope", enter_scope, METH_O, "The calling thread now runs in a scope (0: none); the previous."},
    {NULL},
};

int cohive_add_cancel_functions(PyObject *module) { return PyModule_AddFunctions(module, cancel_functions); }
