/*
 * Map.save(path) and cohive.load(path): snapshot files (src/core/snapshot.c)
 * on disk, written atomically, mapped read-only.
 */
#include "binding.h" /* Python.h first: it sets the POSIX feature macros */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *type_name(int type)
{
    switch (type) {
    case CH_REF:
        return "a cohive.Ref";
    case CH_QUEUE:
        return "a cohive.Queue";
    case CH_LOCK:
    case CH_EVENT:
    case CH_SEMAPHORE:
    case CH_BARRIER:
    case CH_COUNTER:
        return "a cohive synchronisation primitive";
    case CH_INSTANCE:
        return "a class instance (dataclass, enum, named tuple or registered class)";
    case CH_SHAPE:
        return "more distinct key sets than a snapshot holds";
    default:
        return "a value";
    }
}

/* "['users'][3]['friend']": where the value that cannot be saved is. */
static PyObject *path_text(cohive_state *st, const ch_saved *saved)
{
    PyObject *parts = PyList_New(0);
    unsigned n = saved->depth < CH_SAVE_PATH ? saved->depth : CH_SAVE_PATH;
    for (unsigned i = 0; parts != NULL && i < n; i++) {
        const ch_save_step *s = &saved->path[i];
        PyObject *key = s->is_index ? NULL : cohive_read(st, s->step);
        PyObject *part = s->is_index ? PyUnicode_FromFormat("[%lld]", (long long)ch_smallint_value(s->step))
                         : key != NULL ? PyUnicode_FromFormat("[%R]", key)
                                       : NULL;
        Py_XDECREF(key);
        if (part == NULL || PyList_Append(parts, part) < 0)
            Py_CLEAR(parts);
        Py_XDECREF(part);
    }
    if (parts != NULL && saved->depth > CH_SAVE_PATH) {
        PyObject *more = PyUnicode_FromString("...");
        if (more == NULL || PyList_Append(parts, more) < 0)
            Py_CLEAR(parts);
        Py_XDECREF(more);
    }
    if (parts == NULL)
        return NULL;
    PyObject *empty = PyUnicode_FromString("");
    PyObject *text = empty != NULL ? PyUnicode_Join(empty, parts) : NULL;
    Py_XDECREF(empty);
    Py_DECREF(parts);
    return text;
}

/* Writes `data` to a new file beside `path`, then renames it over `path`:
 * a reader sees the old file or the new one, never part of one.  0, or -1
 * with errno (and no file left behind). */
static int write_atomically(const char *path, const unsigned char *data, size_t len)
{
    size_t n = strlen(path);
    char *tmp = malloc(n + sizeof ".tmp-XXXXXX");
    if (tmp == NULL) {
        errno = ENOMEM;
        return -1;
    }
    memcpy(tmp, path, n);
    memcpy(tmp + n, ".tmp-XXXXXX", sizeof ".tmp-XXXXXX");
    int fd = mkstemp(tmp);
    if (fd < 0) {
        free(tmp);
        return -1;
    }
    int rc = fchmod(fd, 0644);
    for (size_t done = 0; rc == 0 && done < len;) {
        ssize_t w = write(fd, data + done, len - done);
        if (w < 0 && errno != EINTR)
            rc = -1;
        else if (w > 0)
            done += (size_t)w;
    }
    if (rc == 0)
        rc = fsync(fd);
    int e = errno;
    if (close(fd) != 0 && rc == 0) {
        rc = -1;
        e = errno;
    }
    if (rc == 0 && rename(tmp, path) != 0) {
        rc = -1;
        e = errno;
    }
    if (rc != 0)
        unlink(tmp);
    free(tmp);
    errno = e;
    return rc;
}

int cohive_encode_snapshot(PyObject *map, ch_saved *out)
{
    const ch_map *m = ((MapObject *)map)->map;
    if (cohive_map_ready(PyType_GetModuleState(Py_TYPE(map)), m) < 0)
        return -1;
    ch_save_status status;
    Py_BEGIN_ALLOW_THREADS
    status = ch_snapshot_encode(m, out);
    Py_END_ALLOW_THREADS
    return (int)status;
}

PyObject *cohive_map_save(PyObject *self, PyObject *path_arg)
{
    cohive_state *st = PyType_GetModuleState(Py_TYPE(self));
    PyObject *path = NULL;
    if (!PyUnicode_FSConverter(path_arg, &path))
        return NULL;
    ch_saved saved;
    int status = cohive_encode_snapshot(self, &saved);
    PyObject *result = NULL; /* also when status < 0: SnapshotError */
    if (status == CH_SAVE_NOMEM) {
        PyErr_NoMemory();
    } else if (status == CH_SAVE_UNSUPPORTED) {
        PyObject *where = path_text(st, &saved);
        if (where != NULL)
            PyErr_Format(PyExc_TypeError,
                         "Map.save: cannot save %s at m%U: snapshots hold plain values (maps, lists, tuples, sets, "
                         "strs, bytes, numbers, dates, decimals, UUIDs), not named objects or class instances",
                         type_name(saved.bad_type), where);
        Py_XDECREF(where);
    } else if (status == CH_SAVE_OK) {
        int rc, e;
        Py_BEGIN_ALLOW_THREADS
        rc = write_atomically(PyBytes_AS_STRING(path), saved.data, saved.len);
        e = errno;
        Py_END_ALLOW_THREADS
        free(saved.data);
        errno = e;
        result = rc == 0 ? Py_NewRef(Py_None) : PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, path_arg);
    }
    Py_DECREF(path);
    return result;
}

int cohive_snapshot_error(cohive_state *st, const char *name, const ch_load_error *err)
{
    if (err->status == CH_LOAD_NOMEM) {
        PyErr_NoMemory();
        return -1;
    }
    PyObject *path = PyUnicode_DecodeFSDefault(name);
    if (path == NULL)
        return -1;
    if (err->version != 0)
        PyErr_Format(st->SnapshotError, "%R is a snapshot of format version %u; this cohive reads version %d", path,
                     err->version, CH_SNAPSHOT_VERSION);
    else
        PyErr_Format(st->SnapshotError, "%R is not a valid snapshot: %s (at byte %llu)", path, err->problem,
                     (unsigned long long)err->at);
    Py_DECREF(path);
    return -1;
}

int cohive_map_ready(cohive_state *st, const ch_map *m)
{
    ch_snapshot *s = ch_snapshot_lazy(m);
    if (s == NULL)
        return 0;
    ch_load_error err;
    bool sound;
    /* Held while the GIL is released: another thread may drop the last Map
     * over it meanwhile (one borrowed from a dict it clears, say). */
    ch_incref(ch_from_ptr(s));
    Py_BEGIN_ALLOW_THREADS
    sound = ch_snapshot_check(s, &err);
    Py_END_ALLOW_THREADS
    int rc = sound ? 0 : cohive_snapshot_error(st, s->name, &err);
    ch_decref(ch_from_ptr(s));
    return rc;
}

int cohive_map_find(cohive_state *st, const ch_map *m, ch_val key, uint64_t hash, ch_val *out)
{
    ch_snapshot *s = ch_snapshot_lazy(m);
    if (s == NULL) {
        *out = ch_map_get(m, key, hash);
        return 0;
    }
    ch_load_error err;
    *out = ch_snapshot_find(s, m, key, hash, &err);
    return err.status == CH_LOAD_OK ? 0 : cohive_snapshot_error(st, s->name, &err);
}

static PyObject *load(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"", "verify", NULL};
    cohive_state *st = PyModule_GetState(module);
    PyObject *path_arg, *path = NULL;
    int verify = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|$p:load", keywords, &path_arg, &verify) ||
        !PyUnicode_FSConverter(path_arg, &path))
        return NULL;
    const char *name = PyBytes_AS_STRING(path);
    int fd;
    Py_BEGIN_ALLOW_THREADS
    fd = open(name, O_RDONLY | O_CLOEXEC);
    Py_END_ALLOW_THREADS
    if (fd < 0) {
        Py_DECREF(path);
        return PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, path_arg);
    }
    ch_load_error err;
    ch_map *m;
    int e;
    Py_BEGIN_ALLOW_THREADS
    m = ch_snapshot_load_fd(fd, name, verify, &err);
    e = errno;
    close(fd);
    Py_END_ALLOW_THREADS
    PyObject *result = NULL;
    if (m != NULL) {
        result = cohive_wrap_map(st, m);
    } else if (err.status == CH_LOAD_OS) {
        errno = e;
        PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, path_arg);
    } else {
        cohive_snapshot_error(st, name, &err);
    }
    Py_DECREF(path);
    return result;
}

static PyObject *checksum(PyObject *module, PyObject *file)
{
    if (!PyBytes_Check(file) || PyBytes_GET_SIZE(file) < CH_SNAPSHOT_HEADER)
        return PyErr_Format(PyExc_ValueError, "a snapshot file's bytes, at least %d of them", CH_SNAPSHOT_HEADER);
    uint64_t sum = ch_snapshot_checksum((const unsigned char *)PyBytes_AS_STRING(file), (size_t)PyBytes_GET_SIZE(file));
    return PyBytes_FromStringAndSize((const char *)&sum, sizeof sum);
}

static PyMethodDef functions[] = {
    {"load", (PyCFunction)(void (*)(void))load, METH_VARARGS | METH_KEYWORDS,
     "load(path, /, *, verify=False)\n--\n\nThe Map saved in the snapshot file at path (Map.save), mapped read-only\n"
     "in O(1): its pages are shared with every process that loads the same file.\n"
     "Lookups check what they read as they go; anything else first checks the whole\n"
     "file once (verify=True does that now). SnapshotError says what is wrong with a\n"
     "damaged file, at load or at the read that finds it."},
    {"_snapshot_checksum", checksum, METH_O, "Test hook: the checksum a snapshot file's header holds."},
    {NULL},
};

int cohive_add_snapshot_functions(PyObject *module, cohive_state *st)
{
    st->SnapshotError = PyErr_NewExceptionWithDoc(
        "cohive.SnapshotError", "A snapshot file is damaged, truncated or of a format this cohive does not read.",
        PyExc_ValueError, NULL);
    if (st->SnapshotError == NULL || PyModule_AddObjectRef(module, "SnapshotError", st->SnapshotError) < 0)
        return -1;
    return PyModule_AddFunctions(module, functions);
}
