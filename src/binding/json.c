/*
 * cohive.to_json and cohive.from_json: the Python side of src/core/json*.c.
 *
 * to_json walks plain Python containers itself (dict, list, tuple and their
 * subclasses, in their own order, as json.dumps does) and hands frozen
 * values -- a Map, a FrozenList, or anything else after freezing it -- to
 * the native writer, which never touches a Python object.  Errors name the
 * path to the offending value through both kinds of container.
 *
 * from_json takes str or any bytes-like object (bytes in UTF-8, UTF-16 or
 * UTF-32, as json.loads detects them) and parses it natively into frozen
 * values; malformed input raises json.JSONDecodeError (a ValueError) with
 * the position, line and column, as json.loads does.
 *
 * The hooks give the core what only CPython does exactly: repr(float),
 * float(str) and the int digit limit of int()/str().
 */
#include "../core/json.h"
#include "binding.h"

/* --- hooks ------------------------------------------------------------------------- */

static size_t format_double(double x, char *out)
{
    char *text = PyOS_double_to_string(x, 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
    if (text == NULL)
        return 0;
    size_t n = strlen(text);
    if (n >= 32) { /* never: repr of a double is at most 24 characters */
        PyMem_Free(text);
        PyErr_SetString(PyExc_SystemError, "cohive: unexpected float repr length");
        return 0;
    }
    memcpy(out, text, n);
    PyMem_Free(text);
    return n;
}

static double parse_double(const char *text, size_t len)
{
    char small[64];
    char *buf = len < sizeof small ? small : PyMem_Malloc(len + 1);
    if (buf == NULL) {
        PyErr_NoMemory();
        return 0.0;
    }
    memcpy(buf, text, len);
    buf[len] = '\0';
    double x = PyOS_string_to_double(buf, NULL, NULL); /* float(text); overflow gives +-inf */
    if (buf != small)
        PyMem_Free(buf);
    return x;
}

static size_t int_digit_limit(void)
{
    PyObject *get = PySys_GetObject("get_int_max_str_digits"); /* borrowed */
    PyObject *limit = get != NULL ? PyObject_CallNoArgs(get) : NULL;
    size_t n = limit != NULL ? PyLong_AsSize_t(limit) : (size_t)-1;
    Py_XDECREF(limit);
    if (n == (size_t)-1) {
        PyErr_Clear();
        return 4300; /* CPython's default */
    }
    return n;
}

static const ch_json_hooks hooks = {format_double, parse_double, int_digit_limit};

/* --- to_json --------------------------------------------------------------------------- */

typedef struct {
    cohive_state *st;
    int depth;                    /* Python containers entered */
    PyObject *open[CH_MAX_DEPTH]; /* those containers */
    PyObject *key[CH_MAX_DEPTH];  /* the dict key taken in each, or NULL for an index */
    Py_ssize_t index[CH_MAX_DEPTH];
    bool in_native; /* the error happened inside a native value: w.path continues the path */
    ch_json_writer w;
} encoder;

static PyObject *path_text(encoder *e)
{
    PyObject *text = PyUnicode_FromString("value");
    for (int i = 0; text != NULL && i < e->depth; i++) {
        PyObject *part = e->key[i] != NULL ? PyUnicode_FromFormat("[%.60R]", e->key[i])
                                           : PyUnicode_FromFormat("[%zd]", e->index[i]);
        if (part != NULL)
            PyUnicode_Append(&text, part);
        else
            Py_CLEAR(text);
        Py_XDECREF(part);
    }
    for (int i = 0; e->in_native && text != NULL && i < e->w.depth; i++) {
        ch_json_step *s = &e->w.path[i];
        PyObject *key = s->key != CH_NOVALUE ? cohive_read(e->st, s->key) : NULL;
        PyObject *part = NULL;
        if (s->key == CH_NOVALUE)
            part = PyUnicode_FromFormat("[%u]", s->index);
        else if (key != NULL)
            part = PyUnicode_FromFormat("[%.60R]", key);
        Py_XDECREF(key);
        if (part != NULL)
            PyUnicode_Append(&text, part);
        else
            Py_CLEAR(text);
        Py_XDECREF(part);
    }
    return text;
}

static PyObject *encoder_path(void *e) { return path_text(e); }

static int fail(encoder *e, PyObject *exc_type, const char *format, ...)
{
    va_list va;
    va_start(va, format);
    cohive_vfail_at(encoder_path, e, exc_type, format, va);
    va_end(va);
    return -1;
}

/* The Python type name of a native value, for messages. */
static const char *native_type_name(encoder *e, ch_val v, PyObject **holder)
{
    *holder = cohive_thaw(e->st, v, NULL);
    return *holder != NULL ? Py_TYPE(*holder)->tp_name : NULL;
}

/* Raises the exception for the writer's failure. */
static int writer_failed(encoder *e)
{
    ch_json_writer *w = &e->w;
    PyObject *holder = NULL, *other = NULL;
    const char *name;
    if (PyErr_Occurred()) /* a hook failed */
        return -1;
    switch (w->status) {
    case CH_JSON_UNSUPPORTED:
        if ((name = native_type_name(e, w->offender, &holder)) != NULL)
            fail(e, PyExc_TypeError, "Object of type %s is not JSON serializable", name);
        break;
    case CH_JSON_BAD_KEY:
        if ((name = native_type_name(e, w->offender, &holder)) != NULL)
            fail(e, PyExc_TypeError, "keys must be str, int, float, bool or None, not %s", name);
        break;
    case CH_JSON_UNSORTABLE:
        holder = cohive_read(e->st, w->offender);
        other = holder != NULL ? cohive_read(e->st, w->other) : NULL;
        if (other != NULL)
            fail(e, PyExc_TypeError, "sort_keys cannot order the keys %.60R and %.60R ('<' not supported "
                 "between instances of '%s' and '%s')", holder, other, Py_TYPE(holder)->tp_name,
                 Py_TYPE(other)->tp_name);
        break;
    case CH_JSON_INT_TOO_LONG:
        fail(e, PyExc_ValueError, "Exceeds the limit (%zu digits) for integer string conversion: value has %zu "
             "digits; use sys.set_int_max_str_digits() to increase the limit", w->int_digit_limit, w->int_digits);
        break;
    default:
        PyErr_NoMemory();
    }
    Py_XDECREF(holder);
    Py_XDECREF(other);
    return -1;
}

static int write_native(encoder *e, ch_val v)
{
    if (ch_json_write_value(&e->w, v) == 0)
        return 0;
    e->in_native = true;
    return writer_failed(e);
}

/* For the writer's own number and key rules: the native form of a Python
 * int, float, bool or None (subclasses included, as json.dumps takes them). */
static int scalar_to_native(cohive_state *st, PyObject *o, ch_val *out)
{
    if (o == Py_None || o == Py_True || o == Py_False) {
        *out = o == Py_None ? CH_NONE : o == Py_True ? CH_TRUE : CH_FALSE;
        return 0;
    }
    if (PyFloat_Check(o)) {
        *out = ch_float_new(PyFloat_AS_DOUBLE(o));
        return *out == CH_NOVALUE ? (PyErr_NoMemory(), -1) : 0;
    }
    /* int's own unary plus gives an exact int of an int subclass's value,
     * whatever the subclass overrides. */
    PyObject *exact = PyLong_CheckExact(o) || !PyLong_Check(o) ? Py_NewRef(o) : PyLong_Type.tp_as_number->nb_positive(o);
    int rc = exact != NULL ? cohive_freeze(st, exact, "value", out) : -1;
    Py_XDECREF(exact);
    return rc;
}

static int write_py(encoder *e, PyObject *o);

static int enter(encoder *e, PyObject *container)
{
    if (e->depth >= CH_MAX_DEPTH)
        return fail(e, PyExc_ValueError, "nesting deeper than %d levels", CH_MAX_DEPTH);
    for (int i = 0; i < e->depth; i++)
        if (e->open[i] == container)
            return fail(e, PyExc_ValueError, "Circular reference detected");
    e->open[e->depth++] = container;
    return 0;
}

static int write_key(encoder *e, PyObject *key)
{
    if (PyUnicode_Check(key)) {
        if (ch_json_write_str(&e->w, PyUnicode_IS_ASCII(key) ? CH_STR_ASCII : (int)PyUnicode_KIND(key),
                              PyUnicode_DATA(key), (size_t)PyUnicode_GET_LENGTH(key)) < 0 ||
            ch_json_write_raw(&e->w, ":", 1) < 0)
            return writer_failed(e);
        return 0;
    }
    /* Numbers and None, and the rich keys with a JSON form (dates, UUIDs,
     * Decimals, enum members), go through their frozen form. */
    ch_val native;
    if (scalar_to_native(e->st, key, &native) < 0) {
        if (!PyErr_ExceptionMatches(PyExc_TypeError))
            return -1;
        PyErr_Clear();
        return fail(e, PyExc_TypeError, "keys must be str, int, float, bool or None, not %s", Py_TYPE(key)->tp_name);
    }
    int rc = ch_json_write_key(&e->w, native) < 0 ? writer_failed(e) : 0; /* names the key before it goes */
    ch_decref(native);
    return rc;
}

static int write_dict(encoder *e, PyObject *dict)
{
    if (enter(e, dict) < 0)
        return -1;
    int d = e->depth - 1;
    if (ch_json_write_raw(&e->w, "{", 1) < 0)
        return writer_failed(e);
    PyObject *keys = NULL;
    if (e->w.sort_keys && PyDict_GET_SIZE(dict) > 1) {
        keys = PyDict_Keys(dict);
        if (keys == NULL || PyList_Sort(keys) < 0) {
            Py_XDECREF(keys);
            return -1;
        }
    }
    Py_ssize_t pos = 0, i = 0;
    PyObject *key, *value;
    int rc = 0;
    while (rc == 0) {
        if (keys != NULL) {
            if (i == PyList_GET_SIZE(keys))
                break;
            key = PyList_GET_ITEM(keys, i);
            value = PyDict_GetItemWithError(dict, key);
            if (value == NULL) {
                if (!PyErr_Occurred())
                    PyErr_SetString(PyExc_RuntimeError, "dictionary changed size during iteration");
                rc = -1;
                break;
            }
        } else if (!PyDict_Next(dict, &pos, &key, &value)) {
            break;
        }
        /* Held: sorting may have run Python code (a key's __lt__) that can
         * change containers, so nothing borrowed is trusted across a write. */
        Py_INCREF(key);
        Py_INCREF(value);
        e->depth = d; /* a key's error belongs to its dict */
        if (i++ > 0 && ch_json_write_raw(&e->w, ",", 1) < 0)
            rc = writer_failed(e);
        else if (write_key(e, key) < 0)
            rc = -1;
        e->depth = d + 1;
        e->key[d] = key;
        if (rc == 0 && write_py(e, value) < 0)
            rc = -1;
        Py_DECREF(key);
        Py_DECREF(value);
    }
    Py_XDECREF(keys);
    if (rc < 0)
        return -1;
    e->depth--;
    return ch_json_write_raw(&e->w, "}", 1) < 0 ? writer_failed(e) : 0;
}

static int write_sequence(encoder *e, PyObject *seq)
{
    if (enter(e, seq) < 0)
        return -1;
    int d = e->depth - 1;
    e->key[d] = NULL;
    if (ch_json_write_raw(&e->w, "[", 1) < 0)
        return writer_failed(e);
    /* The size is read again each step and each item held while written:
     * sort_keys may run a key's __lt__, which could change a list. */
    for (Py_ssize_t i = 0; i < Py_SIZE(seq); i++) {
        e->index[d] = i;
        if (i > 0 && ch_json_write_raw(&e->w, ",", 1) < 0)
            return writer_failed(e);
        PyObject *item = Py_NewRef(PyList_Check(seq) ? PyList_GET_ITEM(seq, i) : PyTuple_GET_ITEM(seq, i));
        int rc = write_py(e, item);
        Py_DECREF(item);
        if (rc < 0)
            return -1;
    }
    e->depth--;
    return ch_json_write_raw(&e->w, "]", 1) < 0 ? writer_failed(e) : 0;
}

static int write_py(encoder *e, PyObject *o)
{
    PyTypeObject *tp = Py_TYPE(o);
    int rc;
    if (PyUnicode_Check(o)) {
        rc = ch_json_write_str(&e->w, PyUnicode_IS_ASCII(o) ? CH_STR_ASCII : (int)PyUnicode_KIND(o),
                               PyUnicode_DATA(o), (size_t)PyUnicode_GET_LENGTH(o));
    } else if (o == Py_None || o == Py_True || o == Py_False) {
        rc = ch_json_write_raw(&e->w, o == Py_None ? "null" : o == Py_True ? "true" : "false",
                               o == Py_False ? 5 : 4);
    } else if (PyFloat_Check(o)) {
        rc = ch_json_write_double(&e->w, PyFloat_AS_DOUBLE(o));
    } else if (PyLong_Check(o)) {
        int overflow;
        long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
        if (v == -1 && PyErr_Occurred())
            return -1;
        if (!overflow)
            rc = ch_json_write_int64(&e->w, v);
        else {
            ch_val big;
            if (scalar_to_native(e->st, o, &big) < 0)
                return -1;
            rc = write_native(e, big);
            ch_decref(big);
            return rc;
        }
    } else if (PyDict_Check(o)) {
        return write_dict(e, o);
    } else if (PyList_Check(o) || PyTuple_Check(o)) {
        return write_sequence(e, o);
    } else if (tp == e->st->Map_Type || tp == e->st->FrozenList_Type) {
        if (tp == e->st->Map_Type && cohive_map_ready(e->st, ((MapObject *)o)->map) < 0)
            return -1;
        return write_native(e, ch_from_ptr(((NativeObject *)o)->native));
    } else {
        /* Everything else is written as its frozen form: the native writer
         * decides what has a JSON form. */
        ch_val v;
        if (cohive_freeze(e->st, o, "value", &v) < 0) {
            if (!PyErr_ExceptionMatches(PyExc_TypeError))
                return -1;
            PyErr_Clear();
            return fail(e, PyExc_TypeError, "Object of type %s is not JSON serializable", tp->tp_name);
        }
        rc = write_native(e, v);
        ch_decref(v);
        return rc;
    }
    return rc < 0 ? writer_failed(e) : 0;
}

static PyObject *to_json(PyObject *module, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    int sort_keys = 0;
    if (!cohive_check_nargs("to_json", nargs, 1, 1))
        return NULL;
    for (Py_ssize_t i = 0; kwnames != NULL && i < PyTuple_GET_SIZE(kwnames); i++) {
        PyObject *name = PyTuple_GET_ITEM(kwnames, i);
        if (PyUnicode_CompareWithASCIIString(name, "sort_keys") != 0)
            return PyErr_Format(PyExc_TypeError, "to_json() got an unexpected keyword argument '%U'", name);
        if ((sort_keys = PyObject_IsTrue(args[nargs + i])) < 0)
            return NULL;
    }
    encoder e; /* about 10 KB of path arrays, on the stack: only what is used is touched */
    e.st = PyModule_GetState(module);
    e.depth = 0;
    e.in_native = false;
    ch_json_writer_init(&e.w, &hooks, sort_keys);
    PyObject *result = NULL;
    if (write_py(&e, args[0]) == 0)
        result = PyBytes_FromStringAndSize((const char *)e.w.data, (Py_ssize_t)e.w.len);
    ch_json_writer_free(&e.w);
    return result;
}

/* --- from_json --------------------------------------------------------------------------- */

/* Raises json.JSONDecodeError(message, document, pos) for a byte offset
 * into the UTF-8 text; JSONDecodeError counts characters, so does this. */
static void raise_decode_error(const char *message, PyObject *doc, const unsigned char *text, size_t byte_pos)
{
    Py_ssize_t pos = 0;
    for (size_t i = 0; i < byte_pos; i++)
        pos += (text[i] & 0xc0) != 0x80; /* a lead byte starts each character */
    PyObject *decoder = PyImport_ImportModule("json.decoder");
    PyObject *error_type = decoder != NULL ? PyObject_GetAttrString(decoder, "JSONDecodeError") : NULL;
    PyObject *exc = error_type != NULL ? PyObject_CallFunction(error_type, "sOn", message, doc, pos) : NULL;
    if (exc != NULL)
        PyErr_SetObject(error_type, exc);
    Py_XDECREF(exc);
    Py_XDECREF(error_type);
    Py_XDECREF(decoder);
}

/* The input as UTF-8 text: a str's own UTF-8 (with 'surrogatepass' for
 * lone surrogates), or bytes as json.loads reads them. */
typedef struct {
    const unsigned char *text;
    size_t len;
    Py_buffer view;      /* held while parsing bytes-like input */
    PyObject *owned;     /* UTF-8 bytes made here, if any */
} json_input;

static void input_release(json_input *in)
{
    if (in->view.obj != NULL)
        PyBuffer_Release(&in->view);
    Py_XDECREF(in->owned);
}

static int input_from_str(json_input *in, PyObject *str)
{
    Py_ssize_t len;
    const char *utf8 = PyUnicode_AsUTF8AndSize(str, &len);
    if (utf8 == NULL) {
        PyErr_Clear();
        in->owned = PyUnicode_AsEncodedString(str, "utf-8", "surrogatepass");
        if (in->owned == NULL)
            return -1;
        utf8 = PyBytes_AS_STRING(in->owned);
        len = PyBytes_GET_SIZE(in->owned);
    }
    in->text = (const unsigned char *)utf8;
    in->len = (size_t)len;
    return 0;
}

static int input_from(json_input *in, PyObject *data)
{
    memset(in, 0, sizeof *in);
    if (PyUnicode_Check(data))
        return input_from_str(in, data);
    if (!PyObject_CheckBuffer(data)) {
        PyErr_Format(PyExc_TypeError, "from_json() argument must be str, bytes or bytearray, not %s",
                     Py_TYPE(data)->tp_name);
        return -1;
    }
    if (PyObject_GetBuffer(data, &in->view, PyBUF_SIMPLE) < 0)
        return -1;
    const unsigned char *b = in->view.buf;
    size_t n = (size_t)in->view.len;
    if (n >= 2 && (b[0] == 0 || b[1] == 0 || (b[0] == 0xff && b[1] == 0xfe) || (b[0] == 0xfe && b[1] == 0xff))) {
        /* UTF-16 or UTF-32: let json pick the codec, then parse the str. */
        PyObject *json = PyImport_ImportModule("json");
        PyObject *encoding = json != NULL ? PyObject_CallMethod(json, "detect_encoding", "O", data) : NULL;
        const char *name = encoding != NULL ? PyUnicode_AsUTF8(encoding) : NULL;
        PyObject *str = name != NULL ? PyUnicode_Decode((const char *)b, (Py_ssize_t)n, name, "surrogatepass") : NULL;
        Py_XDECREF(encoding);
        Py_XDECREF(json);
        PyBuffer_Release(&in->view);
        if (str == NULL)
            return -1;
        int rc = input_from_str(in, str);
        if (rc == 0 && in->owned == NULL) /* keep the str that owns the UTF-8 */
            in->owned = Py_NewRef(str);
        Py_DECREF(str);
        return rc;
    }
    if (n >= 3 && b[0] == 0xef && b[1] == 0xbb && b[2] == 0xbf) { /* 'utf-8-sig' */
        b += 3;
        n -= 3;
    }
    in->text = b;
    in->len = n;
    return 0;
}

static PyObject *from_json(PyObject *module, PyObject *data)
{
    if (PyUnicode_Check(data) && PyUnicode_GET_LENGTH(data) > 0 && PyUnicode_READ_CHAR(data, 0) == 0xfeff) {
        raise_decode_error("Unexpected UTF-8 BOM (decode using utf-8-sig)", data, NULL, 0); /* as json.loads */
        return NULL;
    }
    json_input in;
    if (input_from(&in, data) < 0)
        return NULL;
    ch_json_parse_error err;
    ch_val v = ch_json_parse(in.text, in.len, &hooks, &err);
    PyObject *result = NULL;
    if (v != CH_NOVALUE && PyErr_Occurred()) { /* a hook failed */
        ch_decref(v);
    } else if (v != CH_NOVALUE) {
        result = cohive_read(PyModule_GetState(module), v);
        ch_decref(v);
    } else if (err.no_memory) {
        if (!PyErr_Occurred())
            PyErr_NoMemory();
    } else {
        PyObject *doc = PyUnicode_Check(data) ? Py_NewRef(data)
                                              : PyUnicode_DecodeUTF8((const char *)in.text, (Py_ssize_t)in.len,
                                                                     "surrogatepass");
        if (doc == NULL) { /* invalid UTF-8 somewhere: a close enough text for the position */
            PyErr_Clear();
            doc = PyUnicode_DecodeUTF8((const char *)in.text, (Py_ssize_t)in.len, "replace");
        }
        PyObject *message = NULL;
        if (doc != NULL && err.int_limit != 0)
            message = PyUnicode_FromFormat("Exceeds the limit (%zu digits) for integer string conversion: value "
                                           "has %zu digits; use sys.set_int_max_str_digits() to increase the "
                                           "limit", err.int_limit, err.int_digits);
        const char *text = message != NULL ? PyUnicode_AsUTF8(message) : err.message;
        if (doc != NULL && text != NULL)
            raise_decode_error(text, doc, in.text, err.pos);
        Py_XDECREF(message);
        Py_XDECREF(doc);
    }
    input_release(&in);
    return result;
}

static PyMethodDef json_functions[] = {
    {"to_json", (PyCFunction)(void (*)(void))to_json, METH_FASTCALL | METH_KEYWORDS,
     "to_json(value, /, *, sort_keys=False)\n--\n\n"
     "The JSON text of value, as UTF-8 bytes: what json.dumps(cohive.thaw(value),\n"
     "separators=(',', ':'), ensure_ascii=False).encode() gives, written straight from\n"
     "the native values. Plain dicts, lists and tuples are written in their own order,\n"
     "Maps in theirs (the order thaw gives). TypeError names the path to a value or key\n"
     "JSON cannot hold."},
    {"from_json", from_json, METH_O,
     "from_json(data, /)\n--\n\n"
     "The frozen value of a JSON document (str, or bytes-like in UTF-8, -16 or -32):\n"
     "objects become Maps, arrays FrozenLists, built natively without Python dicts.\n"
     "Accepts and decodes what json.loads does; malformed input raises\n"
     "json.JSONDecodeError (a ValueError) with the position."},
    {NULL},
};

int cohive_add_json_functions(PyObject *module) { return PyModule_AddFunctions(module, json_functions); }
