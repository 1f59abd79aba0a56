"""Interleaved A/B of C-ABI kernel libraries: each library's own kernel time (hb_last_kernel_ns).

    python scripts/ab_kernels.py OLD.so NEW.so [-w json,timeseries,image] [-n CALLS]

Loads every library side by side (ctypes, RTLD_LOCAL: their identical hb_* names do not
collide), checks that they give byte-identical output on each workload's default input (or
says they differ), then alternates calls library by library and prints min / P50 per library
and the ratio of P50s. The kernel time is measured inside the library (the C ABI's kernel
timing), so the ctypes crossing does not count. A loaded machine moves both columns alike.
"""

from __future__ import annotations

import argparse
import ctypes
import statistics

import hybridbench


class Buffer(ctypes.Structure):
    _fields_ = [("ptr", ctypes.POINTER(ctypes.c_uint8)), ("len", ctypes.c_size_t),
                ("cap", ctypes.c_size_t)]


class Library:
    def __init__(self, path: str) -> None:
        self.path = path
        self.lib = ctypes.CDLL(path, mode=ctypes.RTLD_LOCAL)
        self.lib.hb_version.restype = ctypes.c_char_p
        self.lib.hb_last_kernel_ns.restype = ctypes.c_uint64
        self.lib.hb_set_kernel_timing(1)
        self.version = self.lib.hb_version().decode()

    def run(self, workload: str, payload: bytes) -> tuple[bytes, int]:
        out, err = Buffer(), Buffer()
        name = workload.encode()
        status = self.lib.hb_run(name, len(name), payload, len(payload), ctypes.byref(out),
                                 ctypes.byref(err))
        ns = self.lib.hb_last_kernel_ns()
        if status != 0:
            message = ctypes.string_at(err.ptr, err.len).decode()
            self.lib.hb_buffer_free(ctypes.byref(err))
            raise RuntimeError(f"{self.path}: {workload}: {message}")
        data = ctypes.string_at(out.ptr, out.len)
        self.lib.hb_buffer_free(ctypes.byref(out))
        return data, ns


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("libraries", nargs="+")
    parser.add_argument("-w", "--workloads", default="json,timeseries,image")
    parser.add_argument("-n", "--calls", type=int, default=200)
    parser.add_argument("--size", default=None)
    args = parser.parse_args()
    libs = [Library(p) for p in args.libraries]
    for workload in args.workloads.split(","):
        payload = hybridbench.make_input(workload, args.size) if args.size else \
            hybridbench.make_input(workload)
        outputs = [lib.run(workload, payload)[0] for lib in libs]
        same = all(o == outputs[0] for o in outputs)
        for output in outputs:
            hybridbench.verify(workload, payload, output)
        times: list[list[int]] = [[] for _ in libs]
        for _ in range(args.calls):
            for i, lib in enumerate(libs):
                times[i].append(lib.run(workload, payload)[1])
        print(f"{workload} ({len(payload):,} B), outputs "
              f"{'byte-identical' if same else 'DIFFER (each verified)'}:")
        base = statistics.median(times[0])
        for lib, ts in zip(libs, times, strict=True):
            p50 = statistics.median(ts)
            print(f"  {lib.version:<24} min {min(ts) / 1e6:8.3f} ms  P50 {p50 / 1e6:8.3f} ms  "
                  f"P50 ratio {p50 / base:5.2f}  {lib.path}")


if __name__ == "__main__":
    main()
