/*
 * The cohive._cohive extension module: multi-phase init, per-module state,
 * safe in isolated subinterpreters with their own GIL (PEP 684) and on
 * free-threaded builds.  Each interpreter gets its own module object and
 * types; only the native values underneath are shared.
 */
#include "../core/classnames.h"
#include "binding.h"

#include "../core/arena.h"

void cohive_native_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    ch_named *obj = (ch_named *)((NativeObject *)self)->native; /* only named types use this */
    if (ch_named_is_local(obj)) /* a forked child leaves its copy alone (fork.c) */
        ch_decref(ch_from_ptr(obj));
    tp->tp_free(self);
    Py_DECREF(tp); /* instances of heap types own a reference to them */
}

static PyObject *freeze_py(PyObject *module, PyObject *obj)
{
    cohive_state *st = PyModule_GetState(module);
    if (Py_TYPE(obj) == st->Map_Type || Py_TYPE(obj) == st->FrozenList_Type)
        return Py_NewRef(obj);
    ch_val v;
    if (cohive_freeze(st, obj, "value", &v) < 0)
        return NULL;
    PyObject *r = cohive_read(st, v);
    ch_decref(v);
    return r;
}

static PyObject *thaw_py(PyObject *module, PyObject *obj)
{
    cohive_state *st = PyModule_GetState(module);
    ch_val v;
    if (cohive_freeze(st, obj, "value", &v) < 0)
        return NULL;
    PyObject *r = cohive_thaw(st, v, NULL);
    ch_decref(v);
    return r;
}

static PyObject *native_bytes(PyObject *module, PyObject *unused) { return PyLong_FromLongLong(ch_native_bytes()); }

static PyObject *hash_py(PyObject *module, PyObject *obj)
{
    ch_val v;
    if (cohive_freeze_key(PyModule_GetState(module), obj, &v) < 0)
        return NULL;
    uint64_t h = ch_hash(v);
    ch_decref(v);
    return PyLong_FromUnsignedLongLong(h);
}

static PyObject *set_hash_mask(PyObject *module, PyObject *mask)
{
    unsigned long long m = PyLong_AsUnsignedLongLong(mask);
    if (m == (unsigned long long)-1 && PyErr_Occurred())
        return NULL;
    uint64_t old = ch_hash_mask;
    ch_hash_mask = m;
    return PyLong_FromUnsignedLongLong(old);
}

static PyObject *map_form(PyObject *module, PyObject *map)
{
    cohive_state *st = PyModule_GetState(module);
    if (Py_TYPE(map) != st->Map_Type)
        return PyErr_Format(PyExc_TypeError, "_map_form() needs a cohive.Map, not %.100s", Py_TYPE(map)->tp_name);
    return PyUnicode_FromString(ch_map_is_record(((MapObject *)map)->map) ? "record" : "hamt");
}

static PyObject *arena_build(PyObject *module, PyObject *size)
{
    size_t n = PyLong_AsSize_t(size);
    if (n == (size_t)-1 && PyErr_Occurred())
        return NULL;
    if (!ch_arena_begin(n))
        return PyErr_Format(PyExc_OSError, "cannot make a test arena of %zu bytes (one per process)", n);
    Py_RETURN_NONE;
}

static PyObject *arena_seal(PyObject *module, PyObject *sealed)
{
    ch_arena_end();
    if (!ch_arena_seal(PyObject_IsTrue(sealed)))
        return PyErr_Format(PyExc_OSError, "no test arena to seal or unseal");
    Py_RETURN_NONE;
}

static PyObject *register_helpers(PyObject *module, PyObject *args, PyObject *kwargs)
{
    cohive_state *st = PyModule_GetState(module);
    if (PyTuple_GET_SIZE(args) != 0 || kwargs == NULL)
        return PyErr_Format(PyExc_TypeError, "_register() takes the helpers as keyword arguments");
    Py_XSETREF(st->helpers, PyDict_Copy(kwargs));
    return st->helpers != NULL ? Py_NewRef(Py_None) : NULL;
}

/* A helper registered as (module name, attribute name) is imported when first
 * called, and kept: every worker interpreter imports cohive, and the modules
 * behind the views and the asyncio waits would add to each one's start. */
static PyObject *loaded_helper(PyObject *helpers, const char *name, PyObject *where)
{
    if (!PyTuple_Check(where) || PyTuple_GET_SIZE(where) != 2)
        return Py_NewRef(where);
    PyObject *module = PyImport_Import(PyTuple_GET_ITEM(where, 0));
    PyObject *helper = module != NULL ? PyObject_GetAttr(module, PyTuple_GET_ITEM(where, 1)) : NULL;
    Py_XDECREF(module);
    if (helper != NULL && PyDict_SetItemString(helpers, name, helper) < 0)
        Py_CLEAR(helper);
    return helper;
}

PyObject *cohive_call_helper(cohive_state *st, const char *name, PyObject *const *args, size_t nargs)
{
    PyObject *where = st->helpers != NULL ? PyDict_GetItemString(st->helpers, name) : NULL;
    if (where == NULL)
        return PyErr_Format(PyExc_RuntimeError, "cohive's Python helpers are not set up (%s): import cohive, "
                            "not cohive._cohive", name);
    Py_INCREF(where); /* loading it replaces it in the dict */
    PyObject *helper = loaded_helper(st->helpers, name, where);
    Py_DECREF(where);
    if (helper == NULL)
        return NULL;
    PyObject *result = PyObject_Vectorcall(helper, args, nargs, NULL);
    Py_DECREF(helper);
    return result;
}

static PyObject *note_class(PyObject *module, PyObject *name)
{
    Py_ssize_t len;
    const char *s = PyUnicode_AsUTF8AndSize(name, &len);
    if (s == NULL)
        return NULL;
    if (!ch_classnames_add(s, (size_t)len))
        return PyErr_NoMemory();
    Py_RETURN_NONE;
}

static PyObject *known_class(PyObject *module, PyObject *name)
{
    Py_ssize_t len;
    const char *s = PyUnicode_AsUTF8AndSize(name, &len);
    return s != NULL ? PyBool_FromLong(ch_classnames_contains(s, (size_t)len)) : NULL;
}

static PyObject *text_py(PyObject *module, PyObject *obj) { return cohive_rich_text(PyModule_GetState(module), obj); }

static PyObject *forget_classes(PyObject *module, PyObject *unused)
{
    cohive_forget_rich_classes(PyModule_GetState(module));
    Py_RETURN_NONE;
}

static PyObject *restore(PyObject *module, PyObject *args)
{
    const char *kind;
    int version;
    PyObject *payload;
    if (!PyArg_ParseTuple(args, "siO:_restore", &kind, &version, &payload))
        return NULL;
    return cohive_restore(PyModule_GetState(module), kind, version, payload);
}

static PyMethodDef module_functions[] = {
    {"freeze", freeze_py, METH_O,
     "freeze(obj, /)\n--\n\nThe frozen, shareable form of obj: dicts become Maps, lists FrozenLists, sets\n"
     "frozensets, recursively. TypeError/ValueError name the path to anything unshareable."},
    {"thaw", thaw_py, METH_O,
     "thaw(obj, /)\n--\n\nPlain Python data for a frozen value: Maps become dicts, FrozenLists lists, and\n"
     "frozen sets sets again (keys and set items stay hashable)."},
    {"native_bytes", native_bytes, METH_NOARGS,
     "native_bytes()\n--\n\nBytes of native memory cohive holds now, in the whole process."},
    {"_hash", hash_py, METH_O, "The stable native hash of a key (for tests)."},
    {"_set_hash_mask", set_hash_mask, METH_O, "Test hook: and every key hash with mask; returns the old mask."},
    {"_map_form", map_form, METH_O, "Test hook: how a Map is stored, 'record' or 'hamt'."},
    {"_arena_build", arena_build, METH_O,
     "Test hook: native memory comes from a fresh arena of this many bytes until _arena_seal."},
    {"_arena_seal", arena_seal, METH_O,
     "Test hook: stop filling the arena and make it read-only (True) or writable (False)."},
    {"_register", (PyCFunction)(void (*)(void))register_helpers, METH_VARARGS | METH_KEYWORDS, NULL},
    {"_restore", restore, METH_VARARGS, "Rebuilds a pickled Map or FrozenList."},
    {"_note_class", note_class, METH_O, "Adds 'module:qualname' to the process-wide set of known classes."},
    {"_known_class", known_class, METH_O, "Whether 'module:qualname' is in the process-wide set of known classes."},
    {"_text", text_py, METH_O, "The core's text for a date, time, timedelta, Decimal or UUID (for tests)."},
    {"_forget_classes", forget_classes, METH_NOARGS, "Forgets how each type freezes (cohive.register changed it)."},
    {NULL},
};

static int module_exec(PyObject *module)
{
    cohive_state *st = PyModule_GetState(module);
    if (cohive_add_map_types(module, st) < 0 || cohive_add_list_type(module, st) < 0 ||
        cohive_add_ref_type(module, st) < 0 || cohive_add_queue_type(module, st) < 0 ||
        cohive_add_sync_types(module, st) < 0 || cohive_add_watcher_type(module, st) < 0 ||
        cohive_add_fork_error(module, st) < 0 || cohive_add_bytes_type(module, st) < 0 ||
        cohive_add_cancel_functions(module) < 0 || cohive_add_stack_functions(module) < 0 ||
        cohive_add_json_functions(module) < 0 || cohive_add_snapshot_functions(module, st) < 0)
        return -1;
    st->restore = PyObject_GetAttrString(module, "_restore");
    if (st->restore == NULL)
        return -1;
    PyObject *in_main = PyInterpreterState_Get() == PyInterpreterState_Main() ? Py_True : Py_False;
    if (PyModule_AddObjectRef(module, "_in_main_interpreter", in_main) < 0)
        return -1;
    return PyModule_AddIntConstant(module, "MAX_DEPTH", CH_MAX_DEPTH);
}

static int module_traverse(PyObject *module, visitproc visit, void *arg)
{
    cohive_state *st = PyModule_GetState(module);
    for (int i = 0; i < COHIVE_SHAPE_MEMOS; i++)
        Py_VISIT(st->shape_memos[i].keys);
    for (int i = 0; i < COHIVE_FIELD_MEMOS; i++)
        Py_VISIT(st->field_memos[i].key);
    Py_VISIT(st->Map_Type);
    Py_VISIT(st->MapMutation_Type);
    Py_VISIT(st->MapIter_Type);
    Py_VISIT(st->FrozenList_Type);
    Py_VISIT(st->Ref_Type);
    Py_VISIT(st->Queue_Type);
    Py_VISIT(st->Empty);
    Py_VISIT(st->Full);
    Py_VISIT(st->QueueClosed);
    Py_VISIT(st->BrokenBarrierError);
    Py_VISIT(st->ForeignProcessError);
    Py_VISIT(st->SnapshotError);
    Py_VISIT(st->Lock_Type);
    Py_VISIT(st->Event_Type);
    Py_VISIT(st->Semaphore_Type);
    Py_VISIT(st->Barrier_Type);
    Py_VISIT(st->Counter_Type);
    Py_VISIT(st->helpers);
    Py_VISIT(st->Watcher_Type);
    Py_VISIT(st->restore);
    Py_VISIT(st->FrozenBytes_Type);
    Py_VISIT(st->rich_classes);
    Py_VISIT(st->rich_readers);
    Py_VISIT(st->rich_loaded);
    Py_VISIT(st->rich_names);
    return 0;
}

static int module_clear(PyObject *module)
{
    cohive_state *st = PyModule_GetState(module);
    for (int i = 0; i < COHIVE_SHAPE_MEMOS; i++)
        Py_CLEAR(st->shape_memos[i].keys);
    for (int i = 0; i < COHIVE_FIELD_MEMOS; i++)
        Py_CLEAR(st->field_memos[i].key);
    while (st->free_map_count > 0)
        PyObject_Free(st->free_maps[--st->free_map_count]);
    Py_CLEAR(st->Map_Type);
    Py_CLEAR(st->MapMutation_Type);
    Py_CLEAR(st->MapIter_Type);
    Py_CLEAR(st->FrozenList_Type);
    Py_CLEAR(st->Ref_Type);
    Py_CLEAR(st->Queue_Type);
    Py_CLEAR(st->Empty);
    Py_CLEAR(st->Full);
    Py_CLEAR(st->QueueClosed);
    Py_CLEAR(st->BrokenBarrierError);
    Py_CLEAR(st->ForeignProcessError);
    Py_CLEAR(st->SnapshotError);
    Py_CLEAR(st->Lock_Type);
    Py_CLEAR(st->Event_Type);
    Py_CLEAR(st->Semaphore_Type);
    Py_CLEAR(st->Barrier_Type);
    Py_CLEAR(st->Counter_Type);
    Py_CLEAR(st->helpers);
    Py_CLEAR(st->Watcher_Type);
    Py_CLEAR(st->restore);
    Py_CLEAR(st->FrozenBytes_Type);
    Py_CLEAR(st->rich_classes);
    Py_CLEAR(st->rich_readers);
    Py_CLEAR(st->rich_loaded);
    Py_CLEAR(st->rich_names);
    return 0;
}

static void module_free(void *module) { module_clear((PyObject *)module); }

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, module_exec},
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#ifdef Py_mod_gil
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL},
};

static PyModuleDef cohive_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "cohive._cohive",
    .m_doc = "cohive's native core: frozen values, the shared Map, Ref cells and Queues.",
    .m_size = sizeof(cohive_state),
    .m_methods = module_functions,
    .m_slots = module_slots,
    .m_traverse = module_traverse,
    .m_clear = module_clear,
    .m_free = module_free,
};

PyMODINIT_FUNC PyInit__cohive(void) { return PyModuleDef_Init(&cohive_module); }
