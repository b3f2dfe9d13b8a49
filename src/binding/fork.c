/*
 * Named objects across fork.
 *
 * A Ref, Queue, Lock, ... lives in the process that made it.  A child made
 * by fork() inherits a private copy of its memory: a put there would reach
 * nobody, and its mutex or waitlist may belong to a thread that only exists
 * in the parent (locking it can hang or make glibc abort).  So every method
 * of a named object starts with cohive_check_local, which raises
 * cohive.ForeignProcessError naming the object and its process, and
 * releasing a handle in the child leaves the copy alone (module.c,
 * src/core/release.c).
 */
#include "binding.h"

int cohive_raise_foreign(PyObject *self)
{
    ch_named *obj = (ch_named *)((NativeObject *)self)->native;
    PyObject *name = cohive_read(state_of(self), obj->name);
    if (name != NULL)
        PyErr_Format(state_of(self)->ForeignProcessError,
                     "cohive.%s %R belongs to process %lld; this is process %lld, forked from it: named objects "
                     "work only in the process that made them (make them after forking, or in each process)",
                     kind_name(obj->h.type), name, (long long)obj->pid, (long long)ch_process_id());
    Py_XDECREF(name);
    return -1;
}

int cohive_add_fork_error(PyObject *module, cohive_state *st)
{
    st->ForeignProcessError = PyErr_NewExceptionWithDoc(
        "cohive.ForeignProcessError",
        "A named object (Ref, Queue, Lock, ...) was used in a process other than the one that made it, "
        "such as a child made by fork().",
        PyExc_RuntimeError, NULL);
    if (st->ForeignProcessError == NULL)
        return -1;
    return PyModule_AddObjectRef(module, "ForeignProcessError", st->ForeignProcessError);
}
