/*
 * The state of one freeze (convert.c), shared with the code that freezes
 * rich values (rich_freeze.c): the path taken so far, for error messages, and
 * the containers entered, to refuse cycles and excessive nesting.
 */
#ifndef COHIVE_FREEZER_H
#define COHIVE_FREEZER_H

#include "binding.h"

enum step_kind { STEP_ITEM, STEP_INDEX, STEP_KEY, STEP_ELEMENT, STEP_ATTR };

typedef struct {
    enum step_kind kind;
    PyObject *obj; /* the dict key (STEP_ITEM, STEP_KEY), set element or attribute name */
    Py_ssize_t index;
} path_step;

typedef struct {
    cohive_state *st;
    const char *what;
    PyObject *under_key; /* when freezing a map value: its key, for the path */
    int depth;                          /* containers entered so far */
    PyObject *open[CH_MAX_DEPTH];       /* those containers, outermost first */
    path_step path[CH_MAX_DEPTH];       /* the step taken inside each of them */
    bool unshareable;                   /* the error is an unshareable type */
    int nested_dicts;                   /* dicts met inside other containers */
    PyObject *shared_keys;              /* str -> frozen str for those dicts' keys, or NULL */
} freezer;

/* Freezes one value at the current path (convert.c). */
int freezer_freeze(freezer *f, PyObject *o, bool as_key, ch_val *out);
/* Raises exc_type with "<path>: <message>"; returns -1. */
int freezer_fail(freezer *f, PyObject *exc_type, const char *format, ...);
int freezer_fail_unshareable(freezer *f, PyObject *o);
int freezer_fail_unhashable(freezer *f, PyObject *o);
/* Enters a container (refusing cycles and depth beyond CH_MAX_DEPTH); the
 * caller leaves it with f->depth-- once its items are frozen. */
int freezer_enter(freezer *f, PyObject *container);
int freezer_check_len(freezer *f, Py_ssize_t n, const char *unit);

static inline void freezer_step(freezer *f, enum step_kind kind, PyObject *obj, Py_ssize_t index)
{
    f->path[f->depth - 1] = (path_step){kind, obj, index};
}

/* rich_freeze.c: the rich values (dates, decimals, UUIDs, instances, buffers). */
int cohive_freeze_rich(freezer *f, PyObject *o, bool as_key, ch_val *out);

#endif
