/* wsproto_cb._sendnow: one non-blocking send(2) on a socket's fd.
 *
 * Both runtimes write straight to a plain socket while their transport has
 * nothing queued (wsproto_cb/direct_send.py; asyncio/_direct.py and
 * twisted/_writethrough.py say when it applies).  From C that costs one
 * call and one system call: the transports' write() (uvloop, asyncio) and
 * Python's socket.send (Twisted) add their bookkeeping around the same send
 * (docs/performance.md).  Optional: without it the runtimes fall back to
 * the transport or socket.send.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <limits.h>
#include <sys/socket.h>
#include <sys/types.h>

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0 /* (CPython ignores SIGPIPE anyway) */
#endif

/* Below this, the GIL stays held: a short non-blocking send is quicker than
 * handing the GIL over and taking it back. */
#define RELEASE_GIL_FROM (64 * 1024)

PyDoc_STRVAR(send_now_doc,
             "send_now(fd, data) -> int\n\n"
             "Send ``data`` (any contiguous buffer) on socket ``fd`` without\n"
             "blocking; return how many bytes the kernel took.  0 for a full\n"
             "socket buffer or any error: the caller then writes the rest\n"
             "through the transport, which meets the error itself.");

static PyObject *
send_now(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "send_now(fd, data) takes 2 arguments");
        return NULL;
    }
    long fd = PyLong_AsLong(args[0]);
    if (fd == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (fd < 0 || fd > INT_MAX) {
        return PyLong_FromLong(0);
    }
    Py_buffer view;
    if (PyObject_GetBuffer(args[1], &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    ssize_t sent;
    if (view.len >= RELEASE_GIL_FROM) {
        Py_BEGIN_ALLOW_THREADS
        sent = send((int)fd, view.buf, (size_t)view.len, MSG_NOSIGNAL | MSG_DONTWAIT);
        Py_END_ALLOW_THREADS
    }
    else {
        sent = send((int)fd, view.buf, (size_t)view.len, MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    PyBuffer_Release(&view);
    if (sent < 0) {
        sent = 0; /* EAGAIN, EINTR, or an error the transport will report */
    }
    return PyLong_FromSsize_t(sent);
}

static PyMethodDef sendnow_methods[] = {
    {"send_now", (PyCFunction)(void (*)(void))send_now, METH_FASTCALL, send_now_doc},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot sendnow_slots[] = {
#ifdef Py_mod_multiple_interpreters
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
#ifdef Py_mod_gil
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL},
};

static struct PyModuleDef sendnow_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "wsproto_cb._sendnow",
    .m_doc = "One non-blocking send(2) for the runtimes' direct writes (see direct_send.py).",
    .m_size = 0,
    .m_methods = sendnow_methods,
    .m_slots = sendnow_slots,
};

PyMODINIT_FUNC
PyInit__sendnow(void)
{
    return PyModuleDef_Init(&sendnow_module);
}
