/*
 * Optional compiled twin of the per-message hot path (issue 17):
 *
 *   read_message  - wsproto_cb.core.whole_message.read_message_python
 *   build_frame   - wsproto_cb.core.frames.build_frame_python
 *   PayloadBuilder - wsproto_cb.core.message_buffer.PayloadBuilderPython
 *
 * The pure-Python functions are the reference that defines behaviour; these
 * give the same results (tests/core/test_wire_speedups.py runs the same cases
 * against both, and hypothesis compares them on random frame streams).
 * WSPROTO_CB_NO_SPEEDUPS=1 makes the package ignore this module.
 *
 * read_message only ever *declines* what is unusual: it returns None for
 * anything but one complete, final, uncompressed text or binary frame that
 * breaks no rule, and the connection's Python parser then handles those
 * bytes (and raises the RFC's close code when they are wrong).  So no
 * protocol error, close code or limit is decided here.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#include "_xor.h"
#include "_utf8.h"

/* mask_rule values (whole_message.MASK_*) */
#define MASK_FORBIDDEN 0
#define MASK_REQUIRED 1
#define MASK_OPTIONAL 2

PyDoc_STRVAR(read_message_doc,
"read_message(buf, pos, mask_rule, max_frame, max_message, check_utf8)\n"
"-> (payload, is_binary, end) or None\n\n"
"The whole single-frame message at buf[pos:], unmasked and (text) validated,\n"
"or None when the bytes there are anything else (see the module comment).");

static PyObject *
read_message(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer view;
    Py_ssize_t pos, avail, header, end;
    long mask_rule;
    unsigned long long length;
    long long max_frame, max_message;
    int check_utf8, masked, is_binary;
    const unsigned char *p;
    PyObject *payload = NULL, *result = NULL;

    (void)self;
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError, "read_message takes exactly 6 arguments");
        return NULL;
    }
    pos = PyLong_AsSsize_t(args[1]);
    if (pos == -1 && PyErr_Occurred()) {
        return NULL;
    }
    mask_rule = PyLong_AsLong(args[2]);
    if (mask_rule == -1 && PyErr_Occurred()) {
        return NULL;
    }
    max_frame = PyLong_AsLongLong(args[3]);
    if (max_frame == -1 && PyErr_Occurred()) {
        return NULL;
    }
    max_message = PyLong_AsLongLong(args[4]);
    if (max_message == -1 && PyErr_Occurred()) {
        return NULL;
    }
    check_utf8 = PyObject_IsTrue(args[5]);
    if (check_utf8 < 0) {
        return NULL;
    }
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    if (pos < 0 || pos > view.len) {
        PyErr_SetString(PyExc_ValueError, "pos is outside the buffer");
        goto done;
    }
    p = (const unsigned char *)view.buf + pos;
    avail = view.len - pos;

    /* Fallback: an incomplete header. */
    if (avail < 2) {
        goto decline;
    }
    /* Fallback: not FIN + text/binary with RSV clear, i.e. fragments,
       continuations, control frames, compressed (RSV1) frames, reserved
       opcodes and RSV bits: each has rules the Python parser owns. */
    if (p[0] != 0x81 && p[0] != 0x82) {
        goto decline;
    }
    is_binary = p[0] == 0x82;
    masked = (p[1] & 0x80) != 0;
    length = p[1] & 0x7F;
    header = 2;
    if (length == 126) {
        if (avail < 4) {
            goto decline;
        }
        length = ((unsigned long long)p[2] << 8) | p[3];
        header = 4;
        /* Fallback: a non-minimal length is a protocol error (1002). */
        if (length < 126) {
            goto decline;
        }
    }
    else if (length == 127) {
        int k;
        if (avail < 10) {
            goto decline;
        }
        length = 0;
        for (k = 2; k < 10; k++) {
            length = (length << 8) | p[k];
        }
        header = 10;
        /* Fallback: the top bit set or a non-minimal length (1002). */
        if ((length >> 63) || length <= 0xFFFF) {
            goto decline;
        }
    }
    /* Fallback: a frame or message over its limit (1009).  One final frame is
       the whole message, so its wire size (the first header is free) is its
       length and the 2x wire bound cannot be reached first. */
    /* (length < 2**63 here, so the signed comparison is exact; a negative
       limit declines everything, as in the Python reference) */
    if ((max_frame && (long long)length > max_frame)
        || (max_message && (long long)length > max_message)) {
        goto decline;
    }
    /* Fallback: masking the connection's rules forbid (1002). */
    if (masked ? mask_rule == MASK_FORBIDDEN : mask_rule == MASK_REQUIRED) {
        goto decline;
    }
    if (masked) {
        header += 4;
    }
    /* Fallback: the payload has not all arrived (the parser delivers it in
       pieces as it comes). */
    if (avail < header || (unsigned long long)(avail - header) < length) {
        goto decline;
    }
    end = pos + header + (Py_ssize_t)length;

    if (masked) {
        payload = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)length);
        if (payload == NULL) {
            goto done;
        }
        xor_mask(p + header, (unsigned char *)PyBytes_AS_STRING(payload),
                 (Py_ssize_t)length, p + header - 4, 0);
    }
    else {
        payload = PyBytes_FromStringAndSize((const char *)p + header, (Py_ssize_t)length);
        if (payload == NULL) {
            goto done;
        }
    }
    /* Fallback: invalid UTF-8 in a text message (1007). */
    if (!is_binary && check_utf8
        && !utf8_is_valid((const unsigned char *)PyBytes_AS_STRING(payload),
                          PyBytes_GET_SIZE(payload))) {
        Py_DECREF(payload);
        goto decline;
    }
    result = Py_BuildValue("(NOn)", payload, is_binary ? Py_True : Py_False, end);
    goto done;

decline:
    result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&view);
    return result;
}

PyDoc_STRVAR(build_frame_doc,
"build_frame(opcode, payload, fin=True, rsv=0, mask=None) -> bytes\n\n"
"A complete frame in one allocation; a 4-byte mask masks the payload.");

static PyObject *
build_frame(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer payload, mask;
    long opcode, rsv = 0;
    int fin = 1, b0;
    Py_ssize_t header, length;
    unsigned char *out;
    PyObject *result = NULL;
    int have_mask = 0;

    (void)self;
    if (nargs < 2 || nargs > 5) {
        PyErr_SetString(PyExc_TypeError, "build_frame takes 2 to 5 arguments");
        return NULL;
    }
    opcode = PyLong_AsLong(args[0]);
    if (opcode == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (nargs > 2 && (fin = PyObject_IsTrue(args[2])) < 0) {
        return NULL;
    }
    if (nargs > 3) {
        rsv = PyLong_AsLong(args[3]);
        if (rsv == -1 && PyErr_Occurred()) {
            return NULL;
        }
    }
    if (opcode < 0 || opcode > 0xF || rsv < 0 || rsv > 0x7) {
        PyErr_Format(PyExc_ValueError, "opcode %ld or rsv %ld out of range", opcode, rsv);
        return NULL;
    }
    b0 = (fin ? 0x80 : 0) | (int)(rsv << 4) | (int)opcode;
    if (PyObject_GetBuffer(args[1], &payload, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    if (nargs > 4 && args[4] != Py_None) {
        if (PyObject_GetBuffer(args[4], &mask, PyBUF_SIMPLE) < 0) {
            PyBuffer_Release(&payload);
            return NULL;
        }
        have_mask = 1;
        if (mask.len != 4) {
            PyErr_Format(PyExc_ValueError, "mask must be exactly 4 bytes, got %zd", mask.len);
            goto done;
        }
    }
    length = payload.len;
    header = length < 126 ? 2 : length <= 0xFFFF ? 4 : 10;
    result = PyBytes_FromStringAndSize(NULL, header + (have_mask ? 4 : 0) + length);
    if (result == NULL) {
        goto done;
    }
    out = (unsigned char *)PyBytes_AS_STRING(result);
    out[0] = (unsigned char)b0;
    if (header == 2) {
        out[1] = (unsigned char)length;
    }
    else if (header == 4) {
        out[1] = 126;
        out[2] = (unsigned char)(length >> 8);
        out[3] = (unsigned char)length;
    }
    else {
        unsigned long long n = (unsigned long long)length;
        int k;
        out[1] = 127;
        for (k = 9; k >= 2; k--) {
            out[k] = (unsigned char)n;
            n >>= 8;
        }
    }
    if (have_mask) {
        out[1] |= 0x80;
        memcpy(out + header, mask.buf, 4);
        xor_mask((const unsigned char *)payload.buf, out + header + 4, length,
                 (const unsigned char *)mask.buf, 0);
    }
    else if (length) {
        memcpy(out + header, payload.buf, (size_t)length);
    }

done:
    if (have_mask) {
        PyBuffer_Release(&mask);
    }
    PyBuffer_Release(&payload);
    return result;
}

/*
 * PayloadBuilder: a bytes object of a size known in advance, filled piece by
 * piece and handed out once, whole, without the copy a join would make.
 * The bytes object is private to the builder until take() returns it, so
 * writing into it is safe: nobody can see (or hash) it half-filled.
 */
typedef struct {
    PyObject_HEAD
    PyObject *data;        /* bytes of the full size; NULL once taken */
    Py_ssize_t filled;
} PayloadBuilderObject;

static PyObject *
payload_builder_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    Py_ssize_t size;
    PayloadBuilderObject *self;

    if (kwargs != NULL && PyDict_GET_SIZE(kwargs)) {
        PyErr_SetString(PyExc_TypeError, "PayloadBuilder takes no keyword arguments");
        return NULL;
    }
    if (!PyArg_ParseTuple(args, "n:PayloadBuilder", &size)) {
        return NULL;
    }
    if (size < 0) {
        PyErr_Format(PyExc_ValueError, "size must not be negative, not %zd", size);
        return NULL;
    }
    self = (PayloadBuilderObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    /* uninitialised: pages are touched only as data is appended */
    self->data = PyBytes_FromStringAndSize(NULL, size);
    if (self->data == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    self->filled = 0;
    return (PyObject *)self;
}

static void
payload_builder_dealloc(PayloadBuilderObject *self)
{
    PyTypeObject *type = Py_TYPE(self);
    Py_CLEAR(self->data);
    type->tp_free((PyObject *)self);
    Py_DECREF(type);
}

static int
payload_builder_check(PayloadBuilderObject *self)
{
    if (self->data == NULL) {
        PyErr_SetString(PyExc_ValueError, "the payload was taken already");
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(payload_builder_append_doc,
"append(data) -> None\n\n"
"Copy data in after what is there; ValueError if it does not fit.");

static PyObject *
payload_builder_append(PayloadBuilderObject *self, PyObject *arg)
{
    Py_buffer data;
    Py_ssize_t room;

    if (payload_builder_check(self) < 0) {
        return NULL;
    }
    if (PyObject_GetBuffer(arg, &data, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    room = PyBytes_GET_SIZE(self->data) - self->filled;
    if (data.len > room) {
        PyErr_Format(PyExc_ValueError, "%zd bytes given but only %zd are left", data.len, room);
        PyBuffer_Release(&data);
        return NULL;
    }
    if (data.len) {
        memcpy(PyBytes_AS_STRING(self->data) + self->filled, data.buf, (size_t)data.len);
        self->filled += data.len;
    }
    PyBuffer_Release(&data);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(payload_builder_take_doc,
"take() -> bytes\n\n"
"The bytes appended: the object itself when full, else a copy of the part\n"
"filled.  The builder is then spent.");

static PyObject *
payload_builder_take(PayloadBuilderObject *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *result;

    if (payload_builder_check(self) < 0) {
        return NULL;
    }
    if (self->filled == PyBytes_GET_SIZE(self->data)) {
        result = self->data;  /* (the builder's reference passes to the caller) */
        self->data = NULL;
        return result;
    }
    result = PyBytes_FromStringAndSize(PyBytes_AS_STRING(self->data), self->filled);
    Py_CLEAR(self->data);
    return result;
}

static PyObject *
payload_builder_get_remaining(PayloadBuilderObject *self, void *Py_UNUSED(closure))
{
    if (self->data == NULL) {
        return PyLong_FromLong(0);
    }
    return PyLong_FromSsize_t(PyBytes_GET_SIZE(self->data) - self->filled);
}

static Py_ssize_t
payload_builder_len(PayloadBuilderObject *self)
{
    return self->data == NULL ? 0 : self->filled;
}

static PyMethodDef payload_builder_methods[] = {
    {"append", (PyCFunction)payload_builder_append, METH_O, payload_builder_append_doc},
    {"take", (PyCFunction)payload_builder_take, METH_NOARGS, payload_builder_take_doc},
    {NULL, NULL, 0, NULL}
};

static PyGetSetDef payload_builder_getset[] = {
    {"remaining", (getter)payload_builder_get_remaining, NULL,
     "bytes still to append before it is full (0 once taken)", NULL},
    {NULL, NULL, NULL, NULL, NULL}
};

PyDoc_STRVAR(payload_builder_doc,
"PayloadBuilder(size)\n\n"
"A payload of a known size, assembled by append() and returned by take()\n"
"without a final copy when it is full.");

static PyType_Slot payload_builder_slots[] = {
    {Py_tp_new, payload_builder_new},
    {Py_tp_dealloc, payload_builder_dealloc},
    {Py_tp_methods, payload_builder_methods},
    {Py_tp_getset, payload_builder_getset},
    {Py_sq_length, payload_builder_len},
    {Py_tp_doc, (void *)payload_builder_doc},
    {0, NULL}
};

static PyType_Spec payload_builder_spec = {
    "wsproto_cb.core._wire.PayloadBuilder",
    sizeof(PayloadBuilderObject),
    0,
    Py_TPFLAGS_DEFAULT,
    payload_builder_slots
};

static int
wire_exec(PyObject *module)
{
    PyObject *type = PyType_FromModuleAndSpec(module, &payload_builder_spec, NULL);
    if (type == NULL) {
        return -1;
    }
    if (PyModule_AddObject(module, "PayloadBuilder", type) < 0) {
        Py_DECREF(type);
        return -1;
    }
    return 0;
}

static PyMethodDef wire_methods[] = {
    {"read_message", (PyCFunction)(void (*)(void))read_message, METH_FASTCALL, read_message_doc},
    {"build_frame", (PyCFunction)(void (*)(void))build_frame, METH_FASTCALL, build_frame_doc},
    {NULL, NULL, 0, NULL}
};

static PyModuleDef_Slot wire_slots[] = {
    {Py_mod_exec, wire_exec},
#ifdef Py_mod_multiple_interpreters
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
#ifdef Py_mod_gil
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL}
};

static struct PyModuleDef wire_module = {
    PyModuleDef_HEAD_INIT,
    "wsproto_cb.core._wire",
    "C twin of the per-message receive and send path (optional).",
    0,
    wire_methods,
    wire_slots,
    NULL,
    NULL,
    NULL
};

PyMODINIT_FUNC
PyInit__wire(void)
{
    return PyModuleDef_Init(&wire_module);
}
