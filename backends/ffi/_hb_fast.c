/* _hb_fast: one CPython call that runs a kernel library's hb_run_into and returns the output.
 *
 * The per-call hot path of backends/ffi. Through cffi, echo 64B cost ~0.55 us per call in
 * Python: the cffi trampoline with seven arguments (~0.18 us, GIL released), reading out->len
 * (~0.03), ffi.unpack into bytes (~0.07), the thread's buffers from a threading.local (~0.03)
 * and the Python around them. Here the same work is one METH_FASTCALL function: it takes the
 * library's function pointers (addresses, as cffi's path does), releases the GIL around
 * hb_run_into exactly as cffi does, and builds the bytes itself (one copy, as ffi.unpack).
 *
 * run_into(run_address, free_address, workload_id, payload: bytes)
 *   -> bytes (HB_OK)  |  (code, message: bytes) (any other status code)
 *
 * Small outputs (<= HB_FAST_SMALL bytes) land in a per-thread buffer (each thread its own: the
 * GIL is released during the call); larger ones and error messages come back in an hb_buffer
 * that is copied into bytes and released with the library's hb_buffer_free. The library stays
 * mapped for the life of the process (backends/ffi never unloads one), so the addresses do too.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>

#include "hybridbench.h"

/* as SMALL_OUTPUT in backends/ffi/__init__.py */
#define HB_FAST_SMALL (64 * 1024)

typedef int32_t (*hb_run_into_fn)(uint32_t, const uint8_t *, size_t, char *, size_t,
                                  hb_buffer *);
typedef void (*hb_buffer_free_fn)(hb_buffer *);

/* This thread's output buffer: a thread-local pointer (no lookup on the hot path), and a
 * pthread key whose destructor frees it when the thread ends. */
static __thread char *small_buffer;
static pthread_key_t small_key;

static char *thread_buffer(void) {
    if (small_buffer == NULL) {
        char *buf = PyMem_RawMalloc(HB_FAST_SMALL);
        if (buf == NULL || pthread_setspecific(small_key, buf) != 0) {
            PyMem_RawFree(buf);
            return NULL;
        }
        small_buffer = buf;
    }
    return small_buffer;
}

static void free_thread_buffer(void *buf) { PyMem_RawFree(buf); }

/* A function address passed from Python (an int), or NULL with an exception set. */
static void *address(PyObject *value) {
    void *fn = PyLong_AsVoidPtr(value);
    if (fn == NULL && !PyErr_Occurred()) {
        PyErr_SetString(PyExc_ValueError, "_hb_fast: null function address");
    }
    return fn;
}

/* The result of a call whose output or message the library handed over in `out`: copied
 * into bytes, then released by the library. */
static PyObject *take(int32_t code, hb_buffer *out, hb_buffer_free_fn buffer_free) {
    PyObject *data = PyBytes_FromStringAndSize(out->len ? (const char *)out->ptr : NULL,
                                               (Py_ssize_t)out->len);
    buffer_free(out);
    if (data == NULL || code == HB_OK) {
        return data;
    }
    return Py_BuildValue("(iN)", (int)code, data);
}

static PyObject *run_into(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    (void)module;
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError,
                        "run_into(run_address, free_address, workload_id, payload)");
        return NULL;
    }
    hb_run_into_fn run = (hb_run_into_fn)address(args[0]);
    if (run == NULL) {
        return NULL;
    }
    hb_buffer_free_fn buffer_free = (hb_buffer_free_fn)address(args[1]);
    if (buffer_free == NULL) {
        return NULL;
    }
    unsigned long workload = PyLong_AsUnsignedLong(args[2]);
    if (workload == (unsigned long)-1 && PyErr_Occurred()) {
        return NULL;
    }
    if (workload > UINT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "_hb_fast: workload id above 2^32 - 1");
        return NULL;
    }
    /* exactly bytes: immutable, so the GIL can be released while the library reads it */
    if (!PyBytes_CheckExact(args[3])) {
        PyErr_SetString(PyExc_TypeError, "_hb_fast: the payload must be bytes");
        return NULL;
    }
    char *small = thread_buffer();
    if (small == NULL) {
        return PyErr_NoMemory();
    }
    const uint8_t *input = (const uint8_t *)PyBytes_AS_STRING(args[3]);
    size_t len = (size_t)PyBytes_GET_SIZE(args[3]);
    hb_buffer out = {NULL, 0, 0};
    int32_t code;
    Py_BEGIN_ALLOW_THREADS
    code = run((uint32_t)workload, input, len, small, HB_FAST_SMALL, &out);
    Py_END_ALLOW_THREADS
    if (code == HB_OK && out.len <= HB_FAST_SMALL) {
        return PyBytes_FromStringAndSize(small, (Py_ssize_t)out.len);
    }
    return take(code, &out, buffer_free);
}

static PyMethodDef methods[] = {
    {"run_into", (PyCFunction)(void (*)(void))run_into, METH_FASTCALL,
     "run_into(run_address, free_address, workload_id, payload) -> bytes | (code, message)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "_hb_fast",
    "hb_run_into in one CPython call (the hot path of backends/ffi)", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__hb_fast(void) {
    if (pthread_key_create(&small_key, free_thread_buffer) != 0) {
        PyErr_SetString(PyExc_OSError, "_hb_fast: pthread_key_create failed");
        return NULL;
    }
    PyObject *module = PyModule_Create(&module_def);
    if (module == NULL) {
        return NULL;
    }
    if (PyModule_AddIntConstant(module, "SMALL_OUTPUT", HB_FAST_SMALL) != 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
