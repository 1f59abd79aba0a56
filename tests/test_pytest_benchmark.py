"""Every workload through every backend with pytest-benchmark's ``benchmark`` fixture.

In the normal test run benchmarks are disabled (``--benchmark-disable`` in pyproject), so each
runs once as a test of the integration. To measure and render the same report as
``hybridbench run``::

    pytest tests/test_pytest_benchmark.py --benchmark-enable \\
        --benchmark-json=results/pytest-benchmark.json
    hybridbench report results/pytest-benchmark.json -o reports/pytest-benchmark.html
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import hybridbench
from hybridbench.backend import Backend
from hybridbench.registry import backend_names, get_workload, unavailable_reason, workload_names

WORKLOADS = workload_names()


@pytest.fixture(scope="module", params=backend_names())
def started(request: pytest.FixtureRequest) -> Iterator[Backend]:
    reason = unavailable_reason(request.param)
    if reason:
        pytest.skip(f"{request.param} unavailable: {reason}")
    with hybridbench.open_backend(request.param) as backend:
        yield backend


@pytest.mark.parametrize("workload", WORKLOADS)
def test_backend(benchmark, started: Backend, workload: str) -> None:
    reason = started.unsupported_reason(workload)
    if reason:
        pytest.skip(reason)
    size = get_workload(workload).size_names()[0]
    payload = hybridbench.make_input(workload, size)
    benchmark.group = workload
    benchmark.extra_info.update(workload=workload, backend=started.name, size=size,
                                payload_bytes=len(payload))
    output = benchmark(started.run, workload, payload)
    hybridbench.verify(workload, payload, output)
    benchmark.extra_info["verified"] = True
