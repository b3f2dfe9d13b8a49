/*
 * Where is a stuck worker?  The Python stack of the threads of another
 * interpreter, read from outside it.
 *
 * A worker interpreter announces itself (its id and PyInterpreterState)
 * when its worker starts, and its host thread forgets it just before
 * destroying it.  Reading a stack looks the id up, then -- from the calling thread,
 * with a thread state made for that interpreter -- takes its GIL and walks
 * the frames of every other thread there, formatting them as a traceback
 * does.  The registry's mutex is held throughout, so the interpreter cannot
 * be destroyed meanwhile (its host must forget it first, and cannot while
 * we hold the mutex; it does not hold that interpreter's GIL while it
 * waits, so we cannot deadlock with it).  Only the public C API is used.
 */
#include "binding.h"

typedef struct known {
    struct known *next;
    int64_t id;
    PyInterpreterState *interp;
} known;

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static known *registry;

/* Registers the calling interpreter (once: a pooled one announces itself
 * at the start of every use); its id. */
static PyObject *announce(PyObject *module, PyObject *unused)
{
    PyInterpreterState *interp = PyInterpreterState_Get();
    int64_t id = PyInterpreterState_GetID(interp);
    known *k = PyMem_RawMalloc(sizeof *k);
    if (k == NULL)
        return PyErr_NoMemory();
    *k = (known){.id = id, .interp = interp};
    known *found;
    /* Without our GIL, as in forget: an inspection holds the lock while it
     * waits for an interpreter's GIL, which could be ours. */
    Py_BEGIN_ALLOW_THREADS
    pthread_mutex_lock(&registry_lock);
    found = registry;
    while (found != NULL && found->id != id)
        found = found->next;
    if (found == NULL) {
        k->next = registry;
        registry = k;
    }
    pthread_mutex_unlock(&registry_lock);
    Py_END_ALLOW_THREADS
    if (found != NULL)
        PyMem_RawFree(k);
    return PyLong_FromLongLong(id);
}

static PyObject *forget(PyObject *module, PyObject *arg)
{
    long long id = PyLong_AsLongLong(arg);
    if (id == -1 && PyErr_Occurred())
        return NULL;
    known *gone = NULL;
    Py_BEGIN_ALLOW_THREADS /* an inspection may hold the lock a while */
    pthread_mutex_lock(&registry_lock);
    for (known **link = &registry; *link != NULL; link = &(*link)->next)
        if ((*link)->id == id) {
            gone = *link;
            *link = gone->next;
            break;
        }
    pthread_mutex_unlock(&registry_lock);
    Py_END_ALLOW_THREADS
    PyMem_RawFree(gone);
    Py_RETURN_NONE;
}

static PyObject *interpreter_id(PyObject *module, PyObject *unused)
{
    return PyLong_FromLongLong(PyInterpreterState_GetID(PyInterpreterState_Get()));
}

/* A growing C string: the text cannot be a Python object until we are back
 * in the caller's interpreter. */
typedef struct {
    char *text;
    size_t len, cap;
    bool failed;
} buffer;

static void append(buffer *b, const char *s)
{
    size_t n = strlen(s);
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->cap + n + 1) * 2;
        char *text = PyMem_RawRealloc(b->text, cap);
        if (text == NULL) {
            b->failed = true;
            return;
        }
        b->text = text;
        b->cap = cap;
    }
    memcpy(b->text + b->len, s, n + 1);
    b->len += n;
}

static void append_str_attr(buffer *b, PyObject *obj, const char *attr)
{
    PyObject *value = PyObject_GetAttrString(obj, attr);
    const char *s = value != NULL && PyUnicode_Check(value) ? PyUnicode_AsUTF8(value) : NULL;
    append(b, s != NULL ? s : "?");
    Py_XDECREF(value);
    PyErr_Clear();
}

#define MAX_FRAMES 64

/* Under the other interpreter's GIL: its threads' stacks, outermost call first. */
static void format_threads(PyInterpreterState *interp, PyThreadState *self, buffer *b)
{
    for (PyThreadState *t = PyInterpreterState_ThreadHead(interp); t != NULL; t = PyThreadState_Next(t)) {
        if (t == self)
            continue;
        PyFrameObject *frames[MAX_FRAMES];
        int n = 0;
        for (PyFrameObject *f = PyThreadState_GetFrame(t); f != NULL;) {
            if (n == MAX_FRAMES) {
                Py_DECREF(f);
                break;
            }
            frames[n++] = f;
            f = PyFrame_GetBack(f);
        }
        if (n == 0)
            continue;
        append(b, "Stack (most recent call last):\n");
        for (int i = n - 1; i >= 0; i--) {
            PyCodeObject *code = PyFrame_GetCode(frames[i]);
            char line[32];
            snprintf(line, sizeof line, "\", line %d, in ", PyFrame_GetLineNumber(frames[i]));
            append(b, "  File \"");
            append_str_attr(b, (PyObject *)code, "co_filename");
            append(b, line);
            append_str_attr(b, (PyObject *)code, "co_name");
            append(b, "\n");
            Py_DECREF(code);
            Py_DECREF(frames[i]);
        }
    }
}

static PyObject *interpreter_stack(PyObject *module, PyObject *arg)
{
    long long id = PyLong_AsLongLong(arg);
    if (id == -1 && PyErr_Occurred())
        return NULL;
    buffer b = {0};
    bool found = false;
    PyThreadState *caller = PyEval_SaveThread();
    pthread_mutex_lock(&registry_lock);
    for (known *k = registry; k != NULL; k = k->next) {
        if (k->id != id || k->interp == PyThreadState_GetInterpreter(caller))
            continue;
        found = true;
        PyThreadState *visitor = PyThreadState_New(k->interp);
        if (visitor == NULL) {
            b.failed = true;
            break;
        }
        PyEval_RestoreThread(visitor); /* waits for that interpreter's GIL */
        format_threads(k->interp, visitor, &b);
        PyThreadState_Clear(visitor);
        PyThreadState_DeleteCurrent();
        break;
    }
    pthread_mutex_unlock(&registry_lock);
    PyEval_RestoreThread(caller);
    PyObject *result = !found ? Py_NewRef(Py_None)
                       : b.failed ? PyErr_NoMemory()
                                  : PyUnicode_DecodeUTF8(b.text != NULL ? b.text : "", (Py_ssize_t)b.len, "replace");
    PyMem_RawFree(b.text);
    return result;
}

static PyMethodDef stack_functions[] = {
    {"_announce_interpreter", announce, METH_NOARGS, "Registers the calling interpreter for _interpreter_stack."},
    {"_forget_interpreter", forget, METH_O, "Unregisters an interpreter about to be destroyed."},
    {"_interpreter_id", interpreter_id, METH_NOARGS, "The calling interpreter's id."},
    {"_interpreter_stack", interpreter_stack, METH_O,
     "The Python stacks of the threads running in another (announced) interpreter, or None."},
    {NULL},
};

int cohive_add_stack_functions(PyObject *module) { return PyModule_AddFunctions(module, stack_functions); }
