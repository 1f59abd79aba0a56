/* hybridbench C ABI v2: the C-ABI library of a hybridbench kernel crate (built with
 * native/sdk, crate hybridbench-sdk; e.g. native/kernels, the built-in workloads).
 *
 * Hand-written; native/sdk tests and tests/test_native_header.py check that it matches the
 * exports that hybridbench_sdk::kernels! expands. Every function is thread-safe and never lets
 * a Rust panic escape.
 *
 * Workloads are not listed here: hb_workloads() says which ones a library implements.
 *
 * Status codes of hb_run and hb_run_into: 0 ok, 1 invalid input, 2 unsupported or unknown
 * workload, 3 internal error (including a caught panic, whose message quotes it). */
#ifndef HYBRIDBENCH_H
#define HYBRIDBENCH_H

#include <stddef.h>
#include <stdint.h>

#define HB_OK 0
#define HB_INVALID_INPUT 1
#define HB_UNSUPPORTED 2
#define HB_INTERNAL 3

/* The version of this header; compare with hb_abi_version() before anything else. */
#define HB_ABI_VERSION 2

/* A byte buffer allocated by the library; release it with hb_buffer_free, exactly once. */
typedef struct hb_buffer {
    uint8_t *ptr; /* NULL when empty */
    size_t len;   /* bytes used */
    size_t cap;   /* bytes allocated (the library needs it to free) */
} hb_buffer;

/* HB_ABI_VERSION of the library. */
uint32_t hb_abi_version(void);

/* The kernel crate's version, a static NUL-terminated string (never freed). */
const char *hb_version(void);

/* The kernel crate's package name (e.g. "hybridbench-kernels"), a static string. */
const char *hb_library_name(void);

/* The largest input any workload accepts, in bytes (64 MiB). */
size_t hb_max_payload(void);

/* The workloads this library implements: names separated by '\n' (no trailing newline),
 * static NUL-terminated string; the id of a workload for hb_run_into is its 0-based position. */
const char *hb_workloads(void);

/* Run `workload` (wl_len bytes of UTF-8, no NUL needed) on `len` bytes at `input` (borrowed,
 * may be NULL when len is 0). *out and *err are always overwritten: on 0, *out holds the
 * response and *err is empty; otherwise *out is empty and *err holds a UTF-8 message.
 * Release both with hb_buffer_free. */
int32_t hb_run(const char *workload, size_t wl_len, const uint8_t *input, size_t len,
               hb_buffer *out, hb_buffer *err);

/* hb_run with the workload as its id (position in hb_workloads()) and a caller buffer for
 * small outputs (the per-call fast path). On 0: if the output is at most dst_cap bytes it is
 * in dst, out->ptr is NULL and out->len is its length; otherwise *out holds it as with hb_run.
 * So the output is in dst exactly when out->len <= dst_cap. On failure *out holds a UTF-8
 * message; an id out of range is HB_UNSUPPORTED, naming the known workloads. Release *out
 * with hb_buffer_free (a no-op when out->ptr is NULL). dst may be NULL when dst_cap is 0 and
 * must not overlap input. */
int32_t hb_run_into(uint32_t workload_id, const uint8_t *input, size_t len, char *dst,
                    size_t dst_cap, hb_buffer *out);

/* Kernel timing: off by default (no clock read on the hot path). When enabled (process-wide),
 * every hb_run/hb_run_into records the wall-clock nanoseconds spent inside the kernel function
 * itself (not the boundary, not the copy into dst) in a thread-local that hb_last_kernel_ns
 * returns (0 before any timed call on this thread). */
void hb_set_kernel_timing(int32_t enabled);
uint64_t hb_last_kernel_ns(void);

/* Release a buffer filled by hb_run or hb_run_into and reset it to empty; NULL or empty is a
 * no-op. */
void hb_buffer_free(hb_buffer *buf);

#endif /* HYBRIDBENCH_H */
