/*
 * cohive.Map, cohive.MapMutation and their iterator.
 *
 * A Map object is a thin per-interpreter handle on a native ch_map; every
 * operation that "changes" it builds a new ch_map sharing all untouched
 * nodes.  All edits go through `map_edit`, which owns a root reference and
 * lets the HAMT edit private nodes in place (see src/core/hamt.c).
 */
#include "binding.h"

/* --- edits ---------------------------------------------------------------------- */

typedef struct {
    ch_node *root;   /* owned reference, NULL when empty */
    ch_val snapshot; /* owned reference to the snapshot whose mapped nodes
                        `root` shares, or CH_NOVALUE (ch_map.snapshot) */
    uint64_t count;
    uint16_t depth;
} map_edit;

/* The snapshot a trie edit of `m` shares nodes of: a new reference, or
 * CH_NOVALUE (records are edited as fresh tries of copied entries). */
static ch_val snapshot_of(const ch_map *m)
{
    if (ch_map_is_record(m))
        return CH_NOVALUE;
    if (ch_is_mapped(&m->h))
        return ch_from_ptr(ch_snapshot_holding(m));
    ch_incref(m->snapshot);
    return m->snapshot;
}

/* An edit of `m` (NULL: of an empty map); a record is edited as a HAMT of
 * its entries.  -1 with MemoryError, or SnapshotError for a damaged
 * snapshot (an edit reads more than a lookup checks: the whole of it is
 * checked first). */
static int edit_begin(cohive_state *st, map_edit *e, const ch_map *m)
{
    e->root = NULL;
    e->snapshot = CH_NOVALUE;
    if (m != NULL && cohive_map_ready(st, m) < 0)
        return -1;
    e->snapshot = m != NULL ? snapshot_of(m) : CH_NOVALUE;
    e->count = m != NULL ? ch_map_count(m) : 0;
    e->depth = m != NULL ? m->h.aux : 1;
    if (m != NULL && ch_map_hamt_root(m, &e->root) < 0) {
        e->root = NULL;
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

/* The edit's tree as a map to look things up in (a HAMT, never a record). */
static ch_map edit_tree(const map_edit *e) { return (ch_map){.count = e->count, .root = e->root}; }

static void edit_discard(map_edit *e)
{
    ch_decref(ch_from_ptr(e->root));
    ch_decref(e->snapshot);
    e->root = NULL;
    e->snapshot = CH_NOVALUE;
}

/* The finished map; the edit's references move into it. */
static ch_map *edit_end(map_edit *e)
{
    ch_map *m = ch_map_new(e->root, e->count, e->depth);
    if (m == NULL) {
        edit_discard(e);
        PyErr_NoMemory();
        return NULL;
    }
    m->snapshot = e->snapshot;
    e->root = NULL;
    e->snapshot = CH_NOVALUE;
    return m;
}

/* Steals key and val, whatever happens. */
static int edit_set_native(map_edit *e, ch_val key, uint64_t hash, ch_val val)
{
    unsigned depth = 1 + (ch_depth(key) > ch_depth(val) ? ch_depth(key) : ch_depth(val));
    int added;
    if (depth > CH_MAX_DEPTH) {
        PyErr_Format(PyExc_ValueError, "value: nesting deeper than %d levels", CH_MAX_DEPTH);
        goto error;
    }
    if (ch_hamt_set(&e->root, key, hash, val, &added) < 0) {
        PyErr_NoMemory();
        goto error;
    }
    e->count += (uint64_t)added;
    if (depth > e->depth)
        e->depth = (uint16_t)depth;
    return 0;
error:
    ch_decref(key);
    ch_decref(val);
    return -1;
}

static int edit_set(cohive_state *st, map_edit *e, PyObject *k, PyObject *v)
{
    ch_val key, val;
    if (cohive_freeze_key(st, k, &key) < 0)
        return -1;
    if (cohive_freeze_item_value(st, k, v, &val) < 0) {
        ch_decref(key);
        return -1;
    }
    return edit_set_native(e, key, ch_hash(key), val);
}

/* 1 when removed, 0 when absent (no exception set), -1 on error. */
static int edit_delete(cohive_state *st, map_edit *e, PyObject *k)
{
    key_probe p;
    uint64_t hash;
    int rc = cohive_probe(st, k, &p, &hash);
    if (rc <= 0)
        return rc;
    int removed;
    rc = ch_hamt_delete(&e->root, p.key, hash, &removed);
    cohive_probe_done(&p);
    if (rc < 0)
        return PyErr_NoMemory(), -1;
    e->count -= (uint64_t)removed;
    return removed;
}

static int edit_update_from(cohive_state *st, map_edit *e, PyObject *col)
{
    if (Py_TYPE(col) == st->Map_Type) {
        /* The items are shared by reference: from a private copy when col is
         * a small view, so that nothing col shares is written (view.c). */
        ch_val source = cohive_share_view(col);
        if (source == CH_NOVALUE)
            return -1;
        const ch_map *from = (const ch_map *)ch_ptr(source);
        ch_map_iter it;
        ch_val key, val;
        int rc = 0;
        ch_map_iter_init(&it, from);
        while (rc == 0 && ch_map_iter_next(&it, &key, &val)) {
            uint64_t hash = ch_hash(key);
            if ((key = ch_map_key_ref(from, key)) == CH_NOVALUE) {
                PyErr_NoMemory();
                rc = -1;
                break;
            }
            if ((val = ch_unpack(val)) == CH_NOVALUE) {
                ch_decref(key);
                PyErr_NoMemory();
                rc = -1;
                break;
            }
            rc = edit_set_native(e, key, hash, val);
        }
        ch_decref(source);
        return rc;
    }
    if (PyDict_Check(col)) {
        /* Freezing may run Python code or release the GIL (a loaded Map is
         * checked whole): hold what is borrowed from a dict that may change. */
        Py_ssize_t pos = 0;
        PyObject *k, *v;
        while (PyDict_Next(col, &pos, &k, &v)) {
            Py_INCREF(k);
            Py_INCREF(v);
            int rc = edit_set(st, e, k, v);
            Py_DECREF(k);
            Py_DECREF(v);
            if (rc < 0)
                return -1;
        }
        return 0;
    }
    int has_keys = cohive_has_attr(col, "keys");
    if (has_keys < 0)
        return -1;
    if (has_keys) {
        PyObject *keys = PyMapping_Keys(col);
        if (keys == NULL)
            return -1;
        int rc = 0;
        for (Py_ssize_t i = 0; rc == 0 && i < PyList_GET_SIZE(keys); i++) {
            PyObject *k = PyList_GET_ITEM(keys, i);
            PyObject *v = PyObject_GetItem(col, k);
            rc = v != NULL ? edit_set(st, e, k, v) : -1;
            Py_XDECREF(v);
        }
        Py_DECREF(keys);
        return rc;
    }
    PyObject *it = PyObject_GetIter(col);
    if (it == NULL)
        return -1;
    PyObject *item;
    for (Py_ssize_t i = 0; (item = PyIter_Next(it)) != NULL; i++) {
        PyObject *pair = PySequence_Fast(item, "");
        int rc = -1;
        if (pair == NULL)
            PyErr_Format(PyExc_TypeError, "cannot convert map update sequence element #%zd (%.100s) to a sequence",
                         i, Py_TYPE(item)->tp_name);
        else if (PySequence_Fast_GET_SIZE(pair) != 2)
            PyErr_Format(PyExc_ValueError, "map update sequence element #%zd has length %zd; 2 is required", i,
                         PySequence_Fast_GET_SIZE(pair));
        else {
            PyObject *k = Py_NewRef(PySequence_Fast_GET_ITEM(pair, 0)), *v = Py_NewRef(PySequence_Fast_GET_ITEM(pair, 1));
            rc = edit_set(st, e, k, v); /* held: the pair may be a list that changes meanwhile */
            Py_DECREF(k);
            Py_DECREF(v);
        }
        Py_XDECREF(pair);
        Py_DECREF(item);
        if (rc < 0) {
            Py_DECREF(it);
            return -1;
        }
    }
    Py_DECREF(it);
    return PyErr_Occurred() ? -1 : 0;
}

/* update(col=(), **kw) as one step: on error the edit is as it was before. */
static int edit_update(cohive_state *st, map_edit *e, PyObject *args, PyObject *kwargs, const char *name)
{
    PyObject *col = NULL;
    if (!PyArg_UnpackTuple(args, name, 0, 1, &col))
        return -1;
    map_edit before = *e;
    ch_incref(ch_from_ptr(before.root)); /* shared now, so nothing is edited in place */
    ch_incref(before.snapshot);
    if ((col != NULL && edit_update_from(st, e, col) < 0) ||
        (kwargs != NULL && edit_update_from(st, e, kwargs) < 0)) {
        edit_discard(e);
        *e = before;
        return -1;
    }
    edit_discard(&before);
    return 0;
}

/* --- lookups ---------------------------------------------------------------------- */

/* The position of str `k` in `shape` (-1 when not in it), remembered in a
 * field memo (binding.h).  1 on success, -1 on error.  Free-threaded
 * builds have no memo: two threads would fill one at once. */
static int field_position(cohive_state *st, const ch_shape *shape, PyObject *k, int *position)
{
#ifndef Py_GIL_DISABLED
    cohive_field_memo *memo = &st->field_memos[((uintptr_t)k >> 4) % COHIVE_FIELD_MEMOS];
    if (memo->key == k && memo->shape == shape && memo->serial == shape->serial) {
        *position = memo->position;
        return 1;
    }
#endif
    key_probe p;
    uint64_t hash;
    int rc = cohive_probe(st, k, &p, &hash);
    if (rc < 0)
        return -1;
    *position = rc > 0 ? ch_shape_position(shape, p.key, hash) : -1;
    if (rc > 0)
        cohive_probe_done(&p);
#ifndef Py_GIL_DISABLED
    Py_XSETREF(memo->key, Py_NewRef(k)); /* releasing a str runs no code */
    memo->shape = shape;
    memo->serial = shape->serial;
    memo->position = *position;
#endif
    return 1;
}

/* 1 and *out when found, 0 when absent, -1 on error. */
static int lookup(cohive_state *st, const ch_map *m, PyObject *k, ch_val *out)
{
    if (ch_map_is_record(m) && Py_TYPE(k) == &PyUnicode_Type) {
        const ch_record *r = ch_as_record(m);
        int position;
        if (field_position(st, ch_record_shape(r), k, &position) < 0)
            return -1;
        if (position < 0)
            return 0;
        *out = ch_record_value(r, (uint32_t)position);
        return 1;
    }
    key_probe p;
    uint64_t hash;
    int rc = cohive_probe(st, k, &p, &hash);
    if (rc <= 0)
        return rc;
    rc = cohive_map_find(st, m, p.key, hash, out);
    cohive_probe_done(&p);
    return rc < 0 ? -1 : *out != CH_NOVALUE;
}

static void set_key_error(PyObject *k)
{
    PyObject *args = PyTuple_Pack(1, k); /* so a tuple key is not taken as the args */
    if (args != NULL) {
        PyErr_SetObject(PyExc_KeyError, args);
        Py_DECREF(args);
    }
}

/* `owner` as for cohive_read_in. */
static PyObject *get_or_default(cohive_state *st, const ch_map *m, PyObject *owner, PyObject *k, PyObject *dflt)
{
    ch_val v;
    int rc = lookup(st, m, k, &v);
    if (rc < 0)
        return NULL;
    return rc ? cohive_read_in(st, v, owner) : Py_NewRef(dflt);
}

/* --- Map ---------------------------------------------------------------------------- */

PyObject *cohive_wrap_map(cohive_state *st, ch_map *m) { return cohive_new_view(st->Map_Type, &m->h, NULL); }

static PyObject *wrap_edit(cohive_state *st, map_edit *e)
{
    ch_map *m = edit_end(e);
    return m != NULL ? cohive_wrap_map(st, m) : NULL;
}

#define MAP(o) (((MapObject *)(o))->map)

static PyObject *Map_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    cohive_state *st = PyType_GetModuleState(type);
    Py_ssize_t nargs = PyTuple_GET_SIZE(args);
    PyObject *col = nargs == 1 ? PyTuple_GET_ITEM(args, 0) : NULL;
    bool no_kwargs = kwargs == NULL || PyDict_GET_SIZE(kwargs) == 0;
    if (col != NULL && no_kwargs) {
        if (Py_TYPE(col) == type)
            return Py_NewRef(col);
        if (PyDict_CheckExact(col)) { /* the fast path: one freeze builds it */
            ch_val v;
            if (cohive_freeze(st, col, "value", &v) < 0)
                return NULL;
            return cohive_wrap_map(st, (ch_map *)ch_ptr(v));
        }
    }
    map_edit e;
    edit_begin(st, &e, NULL); /* an empty map: nothing to allocate */
    if (edit_update(st, &e, args, kwargs, "Map") < 0) {
        edit_discard(&e);
        return NULL;
    }
    return wrap_edit(st, &e);
}

static Py_ssize_t Map_len(PyObject *self) { return (Py_ssize_t)ch_map_count(MAP(self)); }

static PyObject *Map_subscript(PyObject *self, PyObject *k)
{
    cohive_state *st = state_of(self);
    ch_val v;
    int rc = lookup(st, MAP(self), k, &v);
    if (rc > 0)
        return cohive_read_in(st, v, cohive_anchor(self));
    if (rc == 0)
        set_key_error(k);
    return NULL;
}

static int Map_contains(PyObject *self, PyObject *k)
{
    ch_val v;
    return lookup(state_of(self), MAP(self), k, &v);
}

static PyObject *Map_get(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (!cohive_check_nargs("get", nargs, 1, 2))
        return NULL;
    return get_or_default(state_of(self), MAP(self), cohive_anchor(self), args[0], nargs > 1 ? args[1] : Py_None);
}

static PyObject *Map_set(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (!cohive_check_nargs("set", nargs, 2, 2))
        return NULL;
    cohive_state *st = state_of(self);
    map_edit e;
    if (edit_begin(state_of(self), &e, MAP(self)) < 0)
        return NULL;
    if (edit_set(st, &e, args[0], args[1]) < 0) {
        edit_discard(&e);
        return NULL;
    }
    return wrap_edit(st, &e);
}

static PyObject *Map_delete(PyObject *self, PyObject *k)
{
    cohive_state *st = state_of(self);
    map_edit e;
    if (edit_begin(state_of(self), &e, MAP(self)) < 0)
        return NULL;
    int rc = edit_delete(st, &e, k);
    if (rc <= 0) {
        if (rc == 0)
            set_key_error(k);
        edit_discard(&e);
        return NULL;
    }
    return wrap_edit(st, &e);
}

static PyObject *Map_update(PyObject *self, PyObject *args, PyObject *kwargs)
{
    cohive_state *st = state_of(self);
    map_edit e;
    if (edit_begin(state_of(self), &e, MAP(self)) < 0)
        return NULL;
    if (edit_update(st, &e, args, kwargs, "update") < 0) {
        edit_discard(&e);
        return NULL;
    }
    return wrap_edit(st, &e);
}

static PyObject *Map_or(PyObject *a, PyObject *b)
{
    /* Called when either side is a Map; the other side must be a Map or a dict. */
    bool left_is_map = PyType_GetSlot(Py_TYPE(a), Py_nb_or) == (void *)Map_or;
    PyObject *map = left_is_map ? a : b, *other = left_is_map ? b : a;
    cohive_state *st = state_of(map);
    if (Py_TYPE(other) != st->Map_Type && !PyDict_Check(other))
        Py_RETURN_NOTIMPLEMENTED;
    map_edit e;
    if (edit_begin(st, &e, left_is_map ? MAP(a) : NULL) < 0)
        return NULL;
    if ((!left_is_map && edit_update_from(st, &e, a) < 0) || edit_update_from(st, &e, b) < 0) {
        edit_discard(&e);
        return NULL;
    }
    return wrap_edit(st, &e);
}

static PyObject *mapping_eq_dict(cohive_state *st, const ch_map *m, PyObject *owner, PyObject *d)
{
    if ((uint64_t)PyDict_GET_SIZE(d) != ch_map_count(m))
        Py_RETURN_FALSE;
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    while (PyDict_Next(d, &pos, &k, &v)) {
        ch_val mine;
        Py_INCREF(k);
        Py_INCREF(v);
        int rc = lookup(st, m, k, &mine);
        PyObject *x = rc > 0 ? cohive_read_in(st, mine, owner) : NULL;
        if (x != NULL)
            rc = PyObject_RichCompareBool(x, v, Py_EQ);
        else if (rc > 0)
            rc = -1;
        Py_XDECREF(x);
        Py_DECREF(k);
        Py_DECREF(v);
        if (rc <= 0)
            return rc < 0 ? NULL : Py_NewRef(Py_False);
    }
    Py_RETURN_TRUE;
}

static PyObject *Map_richcompare(PyObject *self, PyObject *other, int op)
{
    if (op != Py_EQ && op != Py_NE)
        Py_RETURN_NOTIMPLEMENTED;
    cohive_state *st = state_of(self);
    PyObject *eq;
    if (Py_TYPE(other) == st->Map_Type) {
        if (cohive_map_ready(st, MAP(self)) < 0 || cohive_map_ready(st, MAP(other)) < 0)
            return NULL;
        eq = Py_NewRef(ch_eq(ch_from_ptr(MAP(self)), ch_from_ptr(MAP(other))) ? Py_True : Py_False);
    }
    else if (PyDict_Check(other))
        eq = mapping_eq_dict(st, MAP(self), cohive_anchor(self), other);
    else
        Py_RETURN_NOTIMPLEMENTED;
    if (eq == NULL || op == Py_EQ)
        return eq;
    PyObject *ne = eq == Py_True ? Py_False : Py_True;
    Py_DECREF(eq);
    return Py_NewRef(ne);
}

static Py_hash_t Map_hash(PyObject *self)
{
    MapObject *m = (MapObject *)self;
    if (m->hash == -1 && cohive_map_ready(state_of(self), m->map) == 0)
        m->hash = cohive_py_hash(ch_hash(ch_from_ptr(m->map)));
    return m->hash;
}

static PyObject *Map_repr(PyObject *self)
{
    cohive_state *st = state_of(self);
    if (cohive_map_ready(st, MAP(self)) < 0)
        return NULL;
    PyObject *parts = PyList_New(0);
    if (parts == NULL)
        return NULL;
    ch_map_iter it;
    ch_val key, val;
    PyObject *owner = cohive_anchor(self);
    ch_map_iter_init(&it, MAP(self));
    while (ch_map_iter_next(&it, &key, &val)) {
        PyObject *k = cohive_read_in(st, key, owner);
        PyObject *v = k != NULL ? cohive_read_in(st, val, owner) : NULL;
        PyObject *part = v != NULL ? PyUnicode_FromFormat("%R: %R", k, v) : NULL;
        Py_XDECREF(k);
        Py_XDECREF(v);
        if (part == NULL || PyList_Append(parts, part) < 0) {
            Py_XDECREF(part);
            Py_DECREF(parts);
            return NULL;
        }
        Py_DECREF(part);
    }
    PyObject *sep = PyUnicode_FromString(", ");
    PyObject *body = sep != NULL ? PyUnicode_Join(sep, parts) : NULL;
    PyObject *r = body != NULL ? PyUnicode_FromFormat("cohive.Map({%U})", body) : NULL;
    Py_XDECREF(sep);
    Py_XDECREF(body);
    Py_DECREF(parts);
    return r;
}

/* --- iteration ---------------------------------------------------------------------- */

enum iter_kind { ITER_KEYS, ITER_VALUES, ITER_ITEMS };

typedef struct {
    PyObject_HEAD
    ch_map *map;
    PyObject *owner; /* the Map's anchor: keeps the tree alive while iterating */
    ch_map_iter it;
    enum iter_kind kind;
} MapIterObject;

_Static_assert(offsetof(MapIterObject, map) == offsetof(ViewObject, native), "MapIterator layout");
_Static_assert(offsetof(MapIterObject, owner) == offsetof(ViewObject, owner), "MapIterator layout");

static PyObject *new_iter(PyObject *self, enum iter_kind kind)
{
    cohive_state *st = state_of(self);
    if (cohive_map_ready(st, MAP(self)) < 0)
        return NULL;
    MapIterObject *it = PyObject_New(MapIterObject, st->MapIter_Type);
    if (it == NULL)
        return NULL;
    it->map = MAP(self);
    it->owner = Py_NewRef(cohive_anchor(self));
    ch_map_iter_init(&it->it, it->map);
    it->kind = kind;
    return (PyObject *)it;
}

static PyObject *MapIter_next(PyObject *self)
{
    MapIterObject *it = (MapIterObject *)self;
    cohive_state *st = state_of(self);
    ch_val key, val;
    if (!ch_map_iter_next(&it->it, &key, &val))
        return NULL;
    switch (it->kind) {
    case ITER_KEYS:
        return cohive_read_in(st, key, it->owner);
    case ITER_VALUES:
        return cohive_read_in(st, val, it->owner);
    default: {
        PyObject *k = cohive_read_in(st, key, it->owner);
        PyObject *v = k != NULL ? cohive_read_in(st, val, it->owner) : NULL;
        PyObject *pair = v != NULL ? PyTuple_Pack(2, k, v) : NULL;
        Py_XDECREF(k);
        Py_XDECREF(v);
        return pair;
    }
    }
}

static PyObject *Map_iter(PyObject *self) { return new_iter(self, ITER_KEYS); }
static PyObject *Map_iter_values(PyObject *self, PyObject *unused) { return new_iter(self, ITER_VALUES); }
static PyObject *Map_iter_items(PyObject *self, PyObject *unused) { return new_iter(self, ITER_ITEMS); }

static PyObject *Map_keys(PyObject *self, PyObject *unused)
{
    return cohive_call_helper(state_of(self), "keys_view", &self, 1);
}

static PyObject *Map_values(PyObject *self, PyObject *unused)
{
    return cohive_call_helper(state_of(self), "values_view", &self, 1);
}

static PyObject *Map_items(PyObject *self, PyObject *unused)
{
    return cohive_call_helper(state_of(self), "items_view", &self, 1);
}

/* --- copying, pickling, thawing ---------------------------------------------------- */

static PyObject *Map_copy(PyObject *self, PyObject *unused) { return Py_NewRef(self); }

/* Format 2, as before snapshots: pickle itself calls __reduce_ex__. */
static PyObject *Map_reduce(PyObject *self, PyObject *unused)
{
    if (cohive_map_ready(state_of(self), MAP(self)) < 0)
        return NULL;
    return cohive_reduce(self, "Map", ch_from_ptr(MAP(self)));
}

static PyObject *Map_reduce_ex(PyObject *self, PyObject *protocol)
{
    long p = PyLong_AsLong(protocol);
    return p == -1 && PyErr_Occurred() ? NULL : cohive_reduce_map(self, p >= 5);
}

static PyObject *Map_thaw(PyObject *self, PyObject *unused)
{
    if (cohive_map_ready(state_of(self), MAP(self)) < 0)
        return NULL;
    return cohive_thaw(state_of(self), ch_from_ptr(MAP(self)), cohive_anchor(self));
}

static PyObject *Map_mutate(PyObject *self, PyObject *unused);

static PyMethodDef Map_methods[] = {
    {"get", (PyCFunction)(void (*)(void))Map_get, METH_FASTCALL,
     "get($self, key, default=None, /)\n--\n\nThe value for key if present, else default."},
    {"set", (PyCFunction)(void (*)(void))Map_set, METH_FASTCALL,
     "set($self, key, value, /)\n--\n\nA new Map with key set to value (frozen); this Map is unchanged. O(log n)."},
    {"delete", Map_delete, METH_O,
     "delete($self, key, /)\n--\n\nA new Map without key; KeyError if key is absent. O(log n)."},
    {"update", (PyCFunction)(void (*)(void))Map_update, METH_VARARGS | METH_KEYWORDS,
     "update($self, col=(), /, **kw)\n--\n\nA new Map with the items of a mapping or iterable of pairs, and kw, added."},
    {"mutate", Map_mutate, METH_NOARGS,
     "mutate($self, /)\n--\n\nA MapMutation for making many edits and finishing them into one new Map."},
    {"keys", Map_keys, METH_NOARGS, "keys($self, /)\n--\n\nA set-like view of the keys."},
    {"values", Map_values, METH_NOARGS, "values($self, /)\n--\n\nA view of the values."},
    {"items", Map_items, METH_NOARGS, "items($self, /)\n--\n\nA set-like view of the (key, value) pairs."},
    {"_iter_values", Map_iter_values, METH_NOARGS, NULL},
    {"_iter_items", Map_iter_items, METH_NOARGS, NULL},
    {"thaw", Map_thaw, METH_NOARGS,
     "thaw($self, /)\n--\n\nA plain dict, with nested Maps, lists and sets thawed too."},
    {"__copy__", Map_copy, METH_NOARGS, "Maps are immutable: the copy is the Map itself. O(1)."},
    {"__deepcopy__", Map_copy, METH_O, "Maps are immutable: the copy is the Map itself. O(1)."},
    {"save", cohive_map_save, METH_O,
     "save($self, path, /)\n--\n\nWrites this Map to a snapshot file at path, atomically (a new file renamed\n"
     "over path), for cohive.load in any process. TypeError names the path to a value\n"
     "snapshots cannot hold; OSError when path cannot be written."},
    {"__reduce__", Map_reduce, METH_NOARGS, NULL},
    {"__reduce_ex__", Map_reduce_ex, METH_O, NULL},
    {"__class_getitem__", Py_GenericAlias, METH_O | METH_CLASS, "See PEP 585."},
    {NULL},
};

PyDoc_STRVAR(Map_doc, "Map(col=(), /, **kw)\n--\n\n"
"An immutable mapping shared across interpreters.\n\n"
"Keys and values are frozen on the way in (dict -> Map, list -> FrozenList,\n"
"set -> frozenset, recursively) and live in native memory owned by no\n"
"interpreter. set/delete/update return new Maps in O(log n), sharing\n"
"structure with this one; copying is O(1). Keys compare as in dict.\n\n"
"Iteration follows the keys' hashes, not insertion order (the same order in\n"
"every interpreter and process); sort the keys where order matters.");

static PyType_Slot Map_slots[] = {
    {Py_tp_doc, (void *)Map_doc},
    {Py_tp_new, Map_new},
    {Py_tp_dealloc, cohive_view_dealloc},
    {Py_tp_repr, Map_repr},
    {Py_tp_hash, Map_hash},
    {Py_tp_richcompare, Map_richcompare},
    {Py_tp_iter, Map_iter},
    {Py_tp_methods, Map_methods},
    {Py_mp_length, Map_len},
    {Py_mp_subscript, Map_subscript},
    {Py_sq_length, Map_len},
    {Py_sq_contains, Map_contains},
    {Py_nb_or, Map_or},
    {0, NULL},
};

static PyType_Spec Map_spec = {
    .name = "cohive.Map",
    .basicsize = sizeof(MapObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_MAPPING,
    .slots = Map_slots,
};

static PyType_Slot MapIter_slots[] = {
    {Py_tp_dealloc, cohive_view_dealloc},
    {Py_tp_iter, PyObject_SelfIter},
    {Py_tp_iternext, MapIter_next},
    {0, NULL},
};

static PyType_Spec MapIter_spec = {
    .name = "cohive._cohive.MapIterator",
    .basicsize = sizeof(MapIterObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = MapIter_slots,
};

/* --- MapMutation ---------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    map_edit edit;
    bool finished;
} MutationObject;

#define EDIT(o) (&((MutationObject *)(o))->edit)

static PyObject *Map_mutate(PyObject *self, PyObject *unused)
{
    MutationObject *m = PyObject_New(MutationObject, state_of(self)->MapMutation_Type);
    if (m == NULL)
        return NULL;
    m->finished = false;
    if (edit_begin(state_of(self), &m->edit, MAP(self)) < 0) {
        Py_DECREF(m); /* its dealloc discards the empty edit */
        return NULL;
    }
    return (PyObject *)m;
}

static void Mutation_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    edit_discard(EDIT(self));
    tp->tp_free(self);
    Py_DECREF(tp);
}

static int check_open(PyObject *self)
{
    if (((MutationObject *)self)->finished) {
        PyErr_SetString(PyExc_ValueError, "this MapMutation has been finished");
        return -1;
    }
    return 0;
}

static int Mutation_ass_subscript(PyObject *self, PyObject *k, PyObject *v)
{
    int rc = -1;
    Py_BEGIN_CRITICAL_SECTION(self);
    if (check_open(self) == 0) {
        if (v != NULL) {
            rc = edit_set(state_of(self), EDIT(self), k, v);
        } else {
            rc = edit_delete(state_of(self), EDIT(self), k);
            if (rc == 0)
                set_key_error(k);
            rc = rc > 0 ? 0 : -1;
        }
    }
    Py_END_CRITICAL_SECTION();
    return rc;
}

static PyObject *Mutation_set(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (!cohive_check_nargs("set", nargs, 2, 2))
        return NULL;
    return Mutation_ass_subscript(self, args[0], args[1]) < 0 ? NULL : Py_NewRef(Py_None);
}

static PyObject *Mutation_delete(PyObject *self, PyObject *k)
{
    return Mutation_ass_subscript(self, k, NULL) < 0 ? NULL : Py_NewRef(Py_None);
}

static PyObject *Mutation_pop(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (!cohive_check_nargs("pop", nargs, 1, 2))
        return NULL;
    PyObject *result = NULL;
    Py_BEGIN_CRITICAL_SECTION(self);
    if (check_open(self) == 0) {
        cohive_state *st = state_of(self);
        ch_val v;
        ch_map tree = edit_tree(EDIT(self));
        int rc = lookup(st, &tree, args[0], &v);
        if (rc > 0) {
            result = cohive_read(st, v);
            if (result != NULL && edit_delete(st, EDIT(self), args[0]) < 0)
                Py_CLEAR(result);
        } else if (rc == 0) {
            if (nargs > 1)
                result = Py_NewRef(args[1]);
            else
                set_key_error(args[0]);
        }
    }
    Py_END_CRITICAL_SECTION();
    return result;
}

static PyObject *Mutation_update(PyObject *self, PyObject *args, PyObject *kwargs)
{
    int rc = -1;
    Py_BEGIN_CRITICAL_SECTION(self);
    if (check_open(self) == 0)
        rc = edit_update(state_of(self), EDIT(self), args, kwargs, "update");
    Py_END_CRITICAL_SECTION();
    return rc < 0 ? NULL : Py_NewRef(Py_None);
}

static PyObject *Mutation_finish(PyObject *self, PyObject *unused)
{
    PyObject *result;
    Py_BEGIN_CRITICAL_SECTION(self);
    map_edit *e = EDIT(self);
    ch_map *m = ch_map_new(e->root, e->count, e->depth);
    if (m == NULL) {
        result = PyErr_NoMemory();
    } else {
        ch_incref(ch_from_ptr(e->root)); /* shared with the Map from now on */
        ch_incref(e->snapshot);
        m->snapshot = e->snapshot;
        ((MutationObject *)self)->finished = true;
        result = cohive_wrap_map(state_of(self), m);
    }
    Py_END_CRITICAL_SECTION();
    return result;
}

static PyObject *Mutation_enter(PyObject *self, PyObject *unused) { return Py_NewRef(self); }

static PyObject *Mutation_exit(PyObject *self, PyObject *args)
{
    ((MutationObject *)self)->finished = true;
    Py_RETURN_FALSE;
}

static PyObject *Mutation_subscript(PyObject *self, PyObject *k)
{
    cohive_state *st = state_of(self);
    ch_val v;
    ch_map tree = edit_tree(EDIT(self));
    int rc = lookup(st, &tree, k, &v);
    if (rc > 0)
        return cohive_read(st, v);
    if (rc == 0)
        set_key_error(k);
    return NULL;
}

static PyObject *Mutation_get(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (!cohive_check_nargs("get", nargs, 1, 2))
        return NULL;
    ch_map tree = edit_tree(EDIT(self));
    return get_or_default(state_of(self), &tree, NULL, args[0], nargs > 1 ? args[1] : Py_None);
}

static int Mutation_contains(PyObject *self, PyObject *k)
{
    ch_val v;
    ch_map tree = edit_tree(EDIT(self));
    return lookup(state_of(self), &tree, k, &v);
}

static Py_ssize_t Mutation_len(PyObject *self) { return (Py_ssize_t)EDIT(self)->count; }

static PyMethodDef Mutation_methods[] = {
    {"set", (PyCFunction)(void (*)(void))Mutation_set, METH_FASTCALL, "set($self, key, value, /)\n--\n\nSet key to value."},
    {"delete", Mutation_delete, METH_O, "delete($self, key, /)\n--\n\nRemove key; KeyError if absent."},
    {"pop", (PyCFunction)(void (*)(void))Mutation_pop, METH_FASTCALL,
     "pop($self, key, default=<unrepresentable>, /)\n--\n\nRemove key and return its value (or default)."},
    {"update", (PyCFunction)(void (*)(void))Mutation_update, METH_VARARGS | METH_KEYWORDS,
     "update($self, col=(), /, **kw)\n--\n\nSet every item of a mapping or iterable of pairs, and kw, all or none."},
    {"get", (PyCFunction)(void (*)(void))Mutation_get, METH_FASTCALL, "get($self, key, default=None, /)\n--\n\nThe value for key if present, else default."},
    {"finish", Mutation_finish, METH_NOARGS,
     "finish($self, /)\n--\n\nThe edited Map. The mutation accepts no more edits afterwards."},
    {"__enter__", Mutation_enter, METH_NOARGS, NULL},
    {"__exit__", Mutation_exit, METH_VARARGS, NULL},
    {NULL},
};

static PyType_Slot Mutation_slots[] = {
    {Py_tp_doc, (void *)"A batch of edits to a Map; finish() returns the new Map. Made by Map.mutate()."},
    {Py_tp_dealloc, Mutation_dealloc},
    {Py_tp_methods, Mutation_methods},
    {Py_tp_hash, PyObject_HashNotImplemented},
    {Py_mp_length, Mutation_len},
    {Py_mp_subscript, Mutation_subscript},
    {Py_mp_ass_subscript, Mutation_ass_subscript},
    {Py_sq_contains, Mutation_contains},
    {0, NULL},
};

static PyType_Spec Mutation_spec = {
    .name = "cohive.MapMutation",
    .basicsize = sizeof(MutationObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = Mutation_slots,
};

/* --- registration -------------------------------------------------------------------- */

static PyTypeObject *add_type(PyObject *module, PyType_Spec *spec)
{
    PyTypeObject *tp = (PyTypeObject *)PyType_FromModuleAndSpec(module, spec, NULL);
    if (tp != NULL && PyModule_AddType(module, tp) < 0)
        Py_CLEAR(tp);
    return tp;
}

int cohive_add_map_types(PyObject *module, cohive_state *st)
{
    st->Map_Type = add_type(module, &Map_spec);
    st->MapMutation_Type = st->Map_Type ? add_type(module, &Mutation_spec) : NULL;
    st->MapIter_Type = st->MapMutation_Type ? add_type(module, &MapIter_spec) : NULL;
    return st->MapIter_Type != NULL ? 0 : -1;
}
