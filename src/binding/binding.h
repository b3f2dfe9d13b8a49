/*
 * The CPython binding: Python objects on one side, native values on the
 * other.  Each interpreter has its own module object, types and state;
 * only native values (src/core) are shared between interpreters.
 */
#ifndef COHIVE_BINDING_H
#define COHIVE_BINDING_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "../core/map.h"
#include "../core/snapshot.h"
#include "../core/primitives.h"
#include "../core/queue.h"
#include "../core/ref.h"
#include "../core/sync.h"
#include "../core/value.h"
#include "compat.h"

/* The shape of a record recently frozen in this interpreter, found again by
 * the identity of the dict's key objects (convert.c, freeze_record). */
#define COHIVE_SHAPE_MEMOS 8
typedef struct {
    PyObject *keys;  /* a tuple of the dict's keys in its order; NULL when unused */
    ch_shape *shape; /* no reference: ch_shape_take tells whether it is still there */
    uint64_t set_hash, serial;
    uint8_t positions[CH_RECORD_MAX];
} cohive_shape_memo;

/* Where a str key sits in the records of one shape, found again by the
 * key object's identity (map.c, field_position): `m[k]["age"]` in a loop
 * then hashes and probes nothing for "age".  It holds a reference to the
 * key, so that no other object takes its address, and none to the shape,
 * which its serial number names. */
#define COHIVE_FIELD_MEMOS 16
typedef struct {
    PyObject *key; /* an exact str; NULL when unused */
    const ch_shape *shape;
    uint64_t serial;
    int position; /* -1: not in the shape */
} cohive_field_memo;

/* Freed Map objects kept for the next (view.c): reading m[k]["age"] makes
 * and frees one each time. */
#define COHIVE_FREE_MAPS 16

typedef struct {
    PyTypeObject *Map_Type;
    PyTypeObject *MapMutation_Type;
    PyTypeObject *MapIter_Type;
    PyTypeObject *FrozenList_Type;
    PyTypeObject *Ref_Type;
    PyTypeObject *Queue_Type;
    PyTypeObject *Watcher_Type;
    PyTypeObject *Lock_Type, *Event_Type, *Semaphore_Type, *Barrier_Type, *Counter_Type;
    PyObject *Empty, *Full, *QueueClosed; /* queue.Empty, queue.Full, cohive.QueueClosed */
    PyObject *BrokenBarrierError;         /* threading.BrokenBarrierError; these two stdlib ones set on first raise */
    PyObject *ForeignProcessError;        /* cohive.ForeignProcessError */
    PyObject *SnapshotError;              /* cohive.SnapshotError */
    /* Python helpers the cohive package registers by name (cohive/__init__.py):
     * the collections.abc views of a Map, the asyncio forms of waits, how rich
     * values freeze; each given as (module, attribute) and imported on first call. */
    PyObject *helpers;
    PyObject *restore; /* cohive._cohive._restore, for pickling */
    /* Rich values (rich_freeze.c, rich_read.c), all made on first use: how each type freezes;
     * what rebuilds read values, and what was rebuilt once (classes by
     * name, time zones); interned attribute names. */
    PyTypeObject *FrozenBytes_Type;
    PyObject *rich_classes, *rich_readers, *rich_loaded, *rich_names;
    cohive_shape_memo shape_memos[COHIVE_SHAPE_MEMOS]; /* guarded by a critical section on Map_Type */
    unsigned next_shape_memo;
    cohive_field_memo field_memos[COHIVE_FIELD_MEMOS]; /* by the key's address; unused without a GIL */
    PyObject *free_maps[COHIVE_FREE_MAPS]; /* unused without a GIL */
    int free_map_count;
} cohive_state;

/* Every cohive object that wraps a native value holds its reference first,
 * so one dealloc (cohive_native_dealloc) serves them all. */
typedef struct {
    PyObject_HEAD
    ch_head *native;
} NativeObject;

void cohive_native_dealloc(PyObject *self);

/* A Map or FrozenList either owns a native reference (owner NULL) or is a
 * view: it borrows the native object from `owner`, the owning handle it was
 * read from (directly or through other views), and keeps that handle alive
 * with a Python reference.  Reading through views so writes no byte of
 * shared memory (see docs/design.md, "Memory layout"). */
typedef struct {
    PyObject_HEAD
    ch_head *native;
    PyObject *owner;
    Py_hash_t hash; /* -1 until computed */
} ViewObject;

/* The object that keeps a view's native data alive: its owner, or itself. */
static inline PyObject *cohive_anchor(PyObject *view)
{
    PyObject *owner = ((ViewObject *)view)->owner;
    return owner != NULL ? owner : view;
}

/* A Map or FrozenList (`tp`) on `native`: with owner NULL it steals the
 * reference to `native`, otherwise it is a view kept alive by `owner`. */
PyObject *cohive_new_view(PyTypeObject *tp, ch_head *native, PyObject *owner);
/* Releases whichever reference a ViewObject holds. */
void cohive_view_dealloc(PyObject *self);

typedef struct {
    PyObject_HEAD
    ch_map *map;
    PyObject *owner;
    Py_hash_t hash; /* -1 until computed */
} MapObject;

typedef struct {
    PyObject_HEAD
    ch_seq *seq; /* a CH_LIST, or the packed word of a list in a record (frozenlist.c) */
    PyObject *owner;
    Py_hash_t hash;
} FrozenListObject;

typedef struct {
    PyObject_HEAD
    ch_ref *ref;
} RefObject;

typedef struct {
    PyObject_HEAD
    ch_queue *queue;
} QueueObject;

_Static_assert(offsetof(QueueObject, queue) == offsetof(NativeObject, native), "Queue layout");
_Static_assert(offsetof(MapObject, map) == offsetof(ViewObject, native), "Map layout");
_Static_assert(offsetof(MapObject, owner) == offsetof(ViewObject, owner), "Map layout");
_Static_assert(offsetof(MapObject, hash) == offsetof(ViewObject, hash), "Map layout");
_Static_assert(offsetof(FrozenListObject, seq) == offsetof(ViewObject, native), "FrozenList layout");
_Static_assert(offsetof(FrozenListObject, owner) == offsetof(ViewObject, owner), "FrozenList layout");
_Static_assert(offsetof(FrozenListObject, hash) == offsetof(ViewObject, hash), "FrozenList layout");
_Static_assert(offsetof(RefObject, ref) == offsetof(NativeObject, native), "Ref layout");

static inline cohive_state *state_of(PyObject *self)
{
    /* cohive's types are not subclassable, so the type knows its module. */
    return (cohive_state *)PyType_GetModuleState(Py_TYPE(self));
}

/* --- convert.c: the boundary ------------------------------------------------ */

/* Freezes `obj` into a new native reference.  `what` names it in errors
 * ("value", "key", ...).  On error sets TypeError/ValueError naming the
 * offending type and its path inside `obj`, and stores nothing. */
int cohive_freeze(cohive_state *st, PyObject *obj, const char *what, ch_val *out);
/* The same for the value stored under `key`; error paths start value[key]. */
int cohive_freeze_item_value(cohive_state *st, PyObject *key, PyObject *value, ch_val *out);
/* The same for a map key: unhashable containers (list, dict, set) are refused. */
int cohive_freeze_key(cohive_state *st, PyObject *obj, ch_val *out);

/* Raises exc_type("<path>: <message>"), the path made by path_of(walk); returns -1. */
int cohive_vfail_at(PyObject *(*path_of)(void *), void *walk, PyObject *exc_type, const char *format, va_list va);

/* The native form of a key about to be looked up, without allocating for
 * the common cases (str, int).  Returns 1 with *key and *hash set, 0 when
 * the key cannot be in any map (an unshareable type), -1 on error (an
 * unhashable key).  Pair every 1 with cohive_probe_done. */
typedef struct {
    ch_val key;
    bool owned;
    _Alignas(8) unsigned char buf[sizeof(ch_str) + 120];
} key_probe;
int cohive_probe(cohive_state *st, PyObject *obj, key_probe *p, uint64_t *hash);
void cohive_probe_done(key_probe *p);
/* The native form of a value to search for: 1 with a new reference in *out,
 * 0 when no frozen value can equal it (an unshareable type), -1 on error. */
int cohive_probe_value(cohive_state *st, PyObject *obj, ch_val *out);

/* The Python object for a native value: a new scalar, a tuple or frozenset
 * of read items, or a Map/FrozenList sharing the native data.  `owner` is
 * the handle keeping `v` alive (cohive_anchor of the object read from):
 * Maps and FrozenLists read become views of it and write nothing shared.
 * With owner NULL they take their own native reference instead, for values
 * whose holder may let go of them (a MapMutation's private tree). */
PyObject *cohive_read_in(cohive_state *st, ch_val v, PyObject *owner);
static inline PyObject *cohive_read(cohive_state *st, ch_val v) { return cohive_read_in(st, v, NULL); }
/* Plain Python data: dict, list, set (keys and set items stay hashable);
 * `owner` as for cohive_read_in (hashable keys may be views). */
PyObject *cohive_thaw(cohive_state *st, ch_val v, PyObject *owner);

/* A native reference for a view being stored somewhere that outlives it
 * (a Map, Ref, Queue): a private copy when the value is small, so nothing
 * shared is written; otherwise one reference on the shared object. */
ch_val cohive_share_view(PyObject *view); /* CH_NOVALUE with MemoryError */
/* rich_read.c: a date/time, Decimal, UUID or instance; `convert` reads the
 * instance's payload (cohive_read_in or cohive_thaw) with `owner`. */
typedef PyObject *(*cohive_reader)(cohive_state *st, ch_val v, PyObject *owner);
PyObject *cohive_read_rich(cohive_state *st, ch_val v, cohive_reader convert, PyObject *owner);
/* The core's text for a date/time, Decimal or UUID (cohive._cohive._text). */
PyObject *cohive_rich_text(cohive_state *st, PyObject *obj);
/* Forgets how types freeze (after cohive.register changes the answer). */
int cohive_forget_rich_classes(cohive_state *st);

/* --- pickling.c -------------------------------------------------------------- */

/* __reduce__ of a Map or FrozenList (kind "Map", "FrozenList") holding v. */
PyObject *cohive_reduce(PyObject *self, const char *kind, ch_val v);
/* What cohive._cohive._restore(kind, version, payload) returns. */
PyObject *cohive_restore(cohive_state *st, const char *kind, int version, PyObject *payload);

/* --- views ------------------------------------------------------------------- */

PyObject *cohive_wrap_map(cohive_state *st, ch_map *m);       /* steals m */
PyObject *cohive_wrap_list(cohive_state *st, ch_seq *s);      /* steals s */
PyObject *cohive_wrap_ref(cohive_state *st, ch_ref *r);      /* steals r */
PyObject *cohive_wrap_queue(cohive_state *st, ch_queue *q);  /* steals q */
PyObject *cohive_wrap_sync(cohive_state *st, ch_sync *s);    /* steals s */
int cohive_add_bytes_type(PyObject *module, cohive_state *st);
int cohive_add_map_types(PyObject *module, cohive_state *st);
int cohive_add_list_type(PyObject *module, cohive_state *st);
int cohive_add_ref_type(PyObject *module, cohive_state *st);
int cohive_add_queue_type(PyObject *module, cohive_state *st);
int cohive_add_sync_types(PyObject *module, cohive_state *st);
int cohive_add_watcher_type(PyObject *module, cohive_state *st);
int cohive_add_json_functions(PyObject *module); /* to_json, from_json (json.c) */
/* cohive.load and cohive.SnapshotError; Map.save (snapshot.c) */
int cohive_add_snapshot_functions(PyObject *module, cohive_state *st);
PyObject *cohive_map_save(PyObject *self, PyObject *path);
/* 0 when any code may read `m`: a map of a snapshot whose trie has not been
 * checked whole is checked now (once); -1 with SnapshotError. */
int cohive_map_ready(cohive_state *st, const ch_map *m);
/* ch_map_get, checking as it reads when `m` is such a map: 0 with *out
 * (CH_NOVALUE when absent), or -1 with SnapshotError. */
int cohive_map_find(cohive_state *st, const ch_map *m, ch_val key, uint64_t hash, ch_val *out);
/* Raises what `err` says of the snapshot `name` (a file system path as
 * bytes, or what else it is); returns -1. */
int cohive_snapshot_error(cohive_state *st, const char *name, const ch_load_error *err);
/* Map.__reduce_ex__: a Map pickles as its snapshot file's bytes (format 3),
 * as a PickleBuffer when `out_of_band` (protocol 5); one holding class
 * instances as format 2. */
PyObject *cohive_reduce_map(PyObject *self, bool out_of_band);
/* The snapshot file of the Map `map` (ch_snapshot_encode, the GIL
 * released): a ch_save_status, or -1 with SnapshotError when `map` is a
 * damaged snapshot. */
int cohive_encode_snapshot(PyObject *map, ch_saved *out);

/* --- waiting ------------------------------------------------------------------ */

/* The monotonic deadline for a timeout (None: -1, no deadline). */
int cohive_deadline(PyObject *timeout, double *deadline);

/* Sleeps on a semaphore waiter with the GIL released, running signal
 * handlers when a signal interrupts: 1 woken, 0 timed out, -1 exception. */
int cohive_sleep(ch_waiter *w, double deadline);
/* cohive_sleep for a thread outside any cancel scope (waiting.c); the one
 * above (cancel.c) also raises cohive.WorkerStopped when the thread's
 * scope is cancelled. */
int cohive_sleep_uncancelled(ch_waiter *w, double deadline);
/* Raises the exception module.name (queue.Empty, threading.BrokenBarrierError, cohive.WorkerStopped),
 * looked up into *slot on first use; returns NULL. */
PyObject *cohive_raise_stdlib(PyObject **slot, const char *module, const char *name, const char *message);
int cohive_add_cancel_functions(PyObject *module);
int cohive_add_stack_functions(PyObject *module); /* stack.c: where a stuck worker is */

/* --- fork.c: named objects belong to their process ------------------------------ */

int cohive_add_fork_error(PyObject *module, cohive_state *st);
/* Raises ForeignProcessError for the named object `self`; returns -1. */
int cohive_raise_foreign(PyObject *self);
/* Every method of a named object starts with this: 0 in the process that
 * made the object, else -1 with ForeignProcessError. */
static inline int cohive_check_local(PyObject *self)
{
    return ch_named_is_local((ch_named *)((NativeObject *)self)->native) ? 0 : cohive_raise_foreign(self);
}

/* "Ref", "Queue", "Lock", ...: the Python name of a named native type. */
const char *kind_name(int type);

/* The native form of a name for a named object (None stays None); a
 * TypeError naming `kind` if it is not a str. */
int cohive_native_name(cohive_state *st, PyObject *name, const char *kind, ch_val *out);

/* Turns a failed ch_named_open into TypeError/MemoryError (0 if it did not fail). */
int cohive_check_open(cohive_state *st, ch_open_result rc, PyObject *name, ch_named *found, const char *wanted);

/* Shared by the named types: the `name` getter, and equality/hash by the
 * identity of the native object (two handles on one Queue are equal). */
PyObject *cohive_named_name(PyObject *self, void *unused);
PyObject *cohive_identity_richcompare(PyObject *self, PyObject *other, int op);
Py_hash_t cohive_identity_hash(PyObject *self);

/* A Watcher: an fd an event loop can watch.  On a Ref it is woken on every
 * publish; on a Queue, like a blocked get (getting) or put. */
typedef struct {
    PyObject_HEAD
    ch_waiter waiter; /* listed on the owner while open */
    ch_head *owner;   /* a CH_REF, CH_QUEUE or primitive, owned; NULL once closed */
    bool getting;
} WatcherObject;

PyObject *cohive_new_watcher(cohive_state *st, ch_head *owner, bool getting);

/* For METH_FASTCALL methods: are there between min and max arguments? */
static inline bool cohive_check_nargs(const char *name, Py_ssize_t nargs, Py_ssize_t min, Py_ssize_t max)
{
    if (nargs >= min && nargs <= max)
        return true;
    if (min == max)
        PyErr_Format(PyExc_TypeError, "%s() takes exactly %zd arguments (%zd given)", name, min, nargs);
    else
        PyErr_Format(PyExc_TypeError, "%s() takes from %zd to %zd arguments (%zd given)", name, min, max, nargs);
    return false;
}

/* Calls the Python helper registered under `name` with the given arguments. */
PyObject *cohive_call_helper(cohive_state *st, const char *name, PyObject *const *args, size_t nargs);

/* Py_hash_t for a native hash (never -1). */
static inline Py_hash_t cohive_py_hash(uint64_t h)
{
    Py_hash_t r = (Py_hash_t)h;
    return r == -1 ? -2 : r;
}

#endif
