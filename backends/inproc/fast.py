"""``inproc``: the fastest idiomatic Python - orjson, numpy, pillow-simd - in this process.

The transform logic of ``json`` is the workload module's (plain Python over parsed objects);
what changes is the parser and serializer. ``timeseries`` is vectorised with numpy. ``image``
is the Pillow pipeline of the reference, which is already what idiomatic Python does; the speed
comes from pillow-simd's SIMD resampler and libjpeg-turbo.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import orjson

from hybridbench.backend import Backend
from hybridbench.errors import WorkloadError
from hybridbench.limits import check_payload_size
from hybridbench.workloads import image, json_orders, timeseries
from hybridbench.workloads.timeseries import GROUP, HEADER, HOST, MAGIC_OUT, VERSION, WINDOW_MS


def run_json(payload: bytes) -> bytes:
    check_payload_size("json", len(payload))
    try:
        document = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise WorkloadError(f"json: malformed JSON or invalid UTF-8: {exc}") from None
    return orjson.dumps(json_orders.transform(document))


def run_image(payload: bytes) -> bytes:
    return image.process(image.open_checked(payload))


def _group_starts(*sorted_keys: np.ndarray) -> np.ndarray:
    """Indices where any of the (already sorted) key columns changes value."""
    n = len(sorted_keys[0])
    change = np.zeros(n, dtype=bool)
    change[:1] = True
    for key in sorted_keys:
        change[1:] |= key[1:] != key[:-1]
    return np.flatnonzero(change)


def run_timeseries(payload: bytes) -> bytes:
    n, m = timeseries.parse_header(payload)
    ts = np.frombuffer(payload, "<i8", n, 16)
    host = np.frombuffer(payload, "<u4", n, 16 + 8 * n)
    region = np.frombuffer(payload, "<u2", n, 16 + 12 * n)
    metrics = np.frombuffer(payload, "<f8", n * m, timeseries.metrics_offset(n)).reshape(m, n)
    finite = np.isfinite(metrics)
    if not finite.all():
        metric, point = np.argwhere(~finite)[0]
        raise timeseries.non_finite_error(int(metric), int(point), metrics[metric, point])
    cpu, latency = metrics[0], metrics[1]
    window = ts // WINDOW_MS  # numpy's // floors, like the spec

    order = np.lexsort((latency, window, region))  # by region, window, then latency
    g_region, g_window = region[order], window[order]
    starts = _group_starts(g_region, g_window)
    counts = np.diff(np.append(starts, n))
    g_cpu = cpu[order]
    groups = np.zeros(len(starts), GROUP)
    groups["window"], groups["region"], groups["count"] = g_window[starts], g_region[starts], counts
    if n:
        groups["mean_cpu"] = np.add.reduceat(g_cpu, starts) / counts
        groups["min_cpu"] = np.minimum.reduceat(g_cpu, starts)
        groups["max_cpu"] = np.maximum.reduceat(g_cpu, starts)
        groups["p95_latency_ms"] = latency[order][starts + (95 * counts + 99) // 100 - 1]

    by_host = np.argsort(host, kind="stable")
    h_host = host[by_host]
    h_starts = _group_starts(h_host)
    hosts = np.zeros(len(h_starts), HOST)
    hosts["host"], hosts["count"] = h_host[h_starts], np.diff(np.append(h_starts, n))
    if n:
        hosts["max_cpu"] = np.maximum.reduceat(cpu[by_host], h_starts)
    header = HEADER.pack(MAGIC_OUT, VERSION, 0, len(groups), len(hosts))
    return header + groups.tobytes() + hosts.tobytes()


def run_echo(payload: bytes) -> bytes:
    return payload


_ENGINES: dict[str, Callable[[bytes], bytes]] = {
    "json": run_json, "image": run_image, "timeseries": run_timeseries, "echo": run_echo}


class InprocBackend(Backend):
    name = "inproc"
    summary = "idiomatic fast Python in this process (orjson, numpy, pillow-simd)"

    def call(self, workload: str, payload: bytes) -> bytes:
        return _ENGINES[workload](payload)
