/*
 * Every difference between the CPython versions cohive supports lives here.
 */
#ifndef COHIVE_BINDING_COMPAT_H
#define COHIVE_BINDING_COMPAT_H

#include <Python.h>

/* Critical sections lock an object on free-threaded builds; with a GIL they
 * compile to nothing.  3.12 has neither. */
#ifndef Py_BEGIN_CRITICAL_SECTION
#define Py_BEGIN_CRITICAL_SECTION(op) {
#define Py_END_CRITICAL_SECTION() }
#endif

/* 1 if obj has the attribute, 0 if not, -1 with an exception on error. */
static inline int cohive_has_attr(PyObject *obj, const char *name)
{
#if PY_VERSION_HEX >= 0x030D0000
    return PyObject_HasAttrStringWithError(obj, name);
#else
    PyObject *value = PyObject_GetAttrString(obj, name);
    if (value != NULL) {
        Py_DECREF(value);
        return 1;
    }
    if (!PyErr_ExceptionMatches(PyExc_AttributeError))
        return -1;
    PyErr_Clear();
    return 0;
#endif
}

/* An int as minimal little-endian two's complement, in a PyMem buffer. */
static inline unsigned char *cohive_long_to_le(PyObject *o, size_t *len)
{
#if PY_VERSION_HEX >= 0x030D0000
    Py_ssize_t n = PyLong_AsNativeBytes(o, NULL, 0, Py_ASNATIVEBYTES_LITTLE_ENDIAN);
    if (n < 0)
        return NULL;
    unsigned char *buf = PyMem_Malloc((size_t)n);
    if (buf == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    if (PyLong_AsNativeBytes(o, buf, n, Py_ASNATIVEBYTES_LITTLE_ENDIAN) < 0) {
        PyMem_Free(buf);
        return NULL;
    }
#else
    size_t bits = _PyLong_NumBits(o);
    if (bits == (size_t)-1 && PyErr_Occurred())
        return NULL;
    Py_ssize_t n = (Py_ssize_t)(bits / 8 + 1);
    unsigned char *buf = PyMem_Malloc((size_t)n);
    if (buf == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    if (_PyLong_AsByteArray((PyLongObject *)o, buf, (size_t)n, 1, 1) < 0) {
        PyMem_Free(buf);
        return NULL;
    }
#endif
    /* Drop sign-extension bytes the top byte does not need. */
    while (n > 1 && ((buf[n - 1] == 0x00 && !(buf[n - 2] & 0x80)) || (buf[n - 1] == 0xff && (buf[n - 2] & 0x80))))
        n--;
    *len = (size_t)n;
    return buf;
}

static inline PyObject *cohive_long_from_le(const unsigned char *buf, size_t len)
{
#if PY_VERSION_HEX >= 0x030D0000
    return PyLong_FromNativeBytes(buf, len, Py_ASNATIVEBYTES_LITTLE_ENDIAN);
#else
    return _PyLong_FromByteArray(buf, len, 1, 1);
#endif
}

#endif
