/* hybridbench C ABI: the Rust kernels of hybridbench (native/ffi, crate hybridbench-ffi).
 *
 * Hand-written; native/ffi/tests/abi.rs and tests/test_native_header.py check that it matches
 * the library. Every function is thread-safe and never lets a Rust panic escape.
 *
 * Status codes of hb_run: 0 ok, 1 invalid input, 2 unsupported or unknown workload,
 * 3 internal error (including a caught panic). */
#ifndef HYBRIDBENCH_H
#define HYBRIDBENCH_H

#include <stddef.h>
#include <stdint.h>

#define HB_OK 0
#define HB_INVALID_INPUT 1
#define HB_UNSUPPORTED 2
#define HB_INTERNAL 3

/* Workload ids of hb_run_into. */
#define HB_WORKLOAD_ECHO 0
#define HB_WORKLOAD_JSON 1
#define HB_WORKLOAD_IMAGE 2
#define HB_WORKLOAD_TIMESERIES 3

/* A byte buffer allocated by the library; release it with hb_buffer_free, exactly once. */
typedef struct hb_buffer {
    uint8_t *ptr; /* NULL when empty */
    size_t len;   /* bytes used */
    size_t cap;   /* bytes allocated (the library needs it to free) */
} hb_buffer;

/* The library version, a static NUL-terminated string (never freed). */
const char *hb_version(void);

/* The largest input any workload accepts, in bytes (64 MiB). */
size_t hb_max_payload(void);

/* Run `workload` (wl_len bytes of UTF-8, no NUL needed) on `len` bytes at `input` (borrowed,
 * may be NULL when len is 0). *out and *err are always overwritten: on 0, *out holds the
 * response and *err is empty; otherwise *out is empty and *err holds a UTF-8 message.
 * Release both with hb_buffer_free. */
int32_t hb_run(const char *workload, size_t wl_len, const uint8_t *input, size_t len,
               hb_buffer *out, hb_buffer *err);

/* hb_run with the workload as an HB_WORKLOAD_* id and a caller buffer for small outputs (the
 * per-call fast path). On 0: if the output is at most dst_cap bytes it is copied to dst,
 * out->ptr is NULL and out->len is its length; otherwise *out holds it as with hb_run. So the
 * output is in dst exactly when out->len <= dst_cap. On failure *out holds a UTF-8 message.
 * Release *out with hb_buffer_free (a no-op when out->ptr is NULL). dst may be NULL when
 * dst_cap is 0 and must not overlap input. */
int32_t hb_run_into(uint32_t workload, const uint8_t *input, size_t len, char *dst,
                    size_t dst_cap, hb_buffer *out);

/* Release a buffer filled by hb_run and reset it to empty; NULL or empty is a no-op. */
void hb_buffer_free(hb_buffer *buf);

#endif /* HYBRIDBENCH_H */
