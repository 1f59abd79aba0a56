"""Page faults on record: the kernel's counters, a real worker's faults per call, the
allocator-sensitive warning, and the servers' own report through ``Resources``."""

from __future__ import annotations

import mmap
import os

import pytest
from fake_backends import FRESH_PAGES
from test_runner import fake_config, fakes  # noqa: F401  (the fixture)

from hybridbench import runner, thresholds
from hybridbench.resources import page_faults
from hybridbench.results import OK, Kind


def test_touching_fresh_pages_counts_one_minor_fault_each() -> None:
    before = page_faults(os.getpid())
    block = mmap.mmap(-1, 512 * mmap.PAGESIZE)
    for offset in range(0, len(block), mmap.PAGESIZE):
        block[offset] = 1
    after = page_faults(os.getpid())
    block.close()
    assert before is not None and after is not None
    assert after[0] - before[0] >= 512


def test_a_vanished_process_has_no_counters() -> None:
    assert page_faults(2**22 + 12345) is None


@pytest.mark.usefixtures("fakes")
def test_a_worker_records_faults_per_call_and_flags_the_cell() -> None:
    cell = runner.run_cell(runner.CellPlan("echo", "64B", "fresh-pages", 1),
                           fake_config(workers=1))
    assert cell.status == OK, cell.error
    per_call = cell.minor_faults_per_op["client"]
    # every call maps FRESH_PAGES new pages; the loop's own allocations add a few
    assert per_call is not None and FRESH_PAGES <= per_call < FRESH_PAGES * 1.5
    assert cell.major_faults_per_op["client"] is not None
    assert FRESH_PAGES > thresholds.FAULTS_PER_CALL and cell.has(Kind.ALLOCATOR_SENSITIVE)
    assert cell.allocator == "glibc" and cell.allocator_roles["client"].startswith("glibc")


@pytest.mark.usefixtures("fakes")
def test_a_call_that_reuses_its_memory_is_not_flagged() -> None:
    cell = runner.run_cell(runner.CellPlan("echo", "64B", "echo-only", 1),
                           fake_config(workers=1))
    assert cell.status == OK, cell.error
    per_call = cell.minor_faults_per_op["client"]
    assert per_call is not None and per_call < thresholds.FAULTS_PER_CALL
    assert not cell.has(Kind.ALLOCATOR_SENSITIVE)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["grpc", "grpc-py", "grpc-go"])
def test_every_server_reports_its_own_faults(name: str) -> None:
    from hybridbench.registry import open_backend, unavailable_reason

    reason = unavailable_reason(name)
    if reason:
        pytest.skip(reason)
    backend = open_backend(name, workloads=["echo"])
    backend.start()
    try:
        before = backend.server_resources()["server"]
        for _ in range(20):
            backend.run("echo", b"x" * 65536)
        after = backend.server_resources()["server"]
    finally:
        backend.stop()
    assert before["minor_faults"] > 0  # a running server has faulted in its code and stack
    assert after["minor_faults"] >= before["minor_faults"]
    assert after["major_faults"] >= 0
