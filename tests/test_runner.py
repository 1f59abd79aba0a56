"""The runner's own logic, with stand-in backends (the real ones are tested elsewhere)."""

from __future__ import annotations

from typing import ClassVar

import pytest

import hybridbench
from hybridbench import runner
from hybridbench.backend import Backend
from hybridbench.errors import BackendError, WorkloadError
from hybridbench.results import FAILED, OK, UNAVAILABLE, UNSUPPORTED, WRONG

TINY = dict(duration_s=0.15, rounds=3, warmup_s=0.02, cold_start=False)


class Wrong(Backend):
    name = "wrong"
    calls = 0

    def call(self, workload: str, payload: bytes) -> bytes:
        Wrong.calls += 1
        return payload[:-1]


class DiesMidRun(Backend):
    name = "dies"
    calls = 0

    def call(self, workload: str, payload: bytes) -> bytes:
        DiesMidRun.calls += 1
        if DiesMidRun.calls > 50:
            raise BackendError("server exited with signal 9")
        return payload


class EchoOnly(Backend):
    name = "echo-only"
    workloads: ClassVar[frozenset[str]] = frozenset({"echo"})

    def call(self, workload: str, payload: bytes) -> bytes:
        return bytes(payload)


class Missing(Backend):
    name = "missing"

    @classmethod
    def unavailable_reason(cls) -> str | None:
        return "libfoo.so is not built"

    def call(self, workload: str, payload: bytes) -> bytes:
        raise AssertionError("never called")


FAKES = {cls.name: cls for cls in (Wrong, DiesMidRun, EchoOnly, Missing)}


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> None:
    real_class = runner.open_backend

    def open_backend(name: str, **options: object) -> Backend:
        return FAKES[name](**options) if name in FAKES else real_class(name, **options)

    real_reason = runner.unavailable_reason
    monkeypatch.setattr(runner, "open_backend", open_backend)
    monkeypatch.setattr(runner, "unavailable_reason",
                        lambda n: FAKES[n].unavailable_reason() if n in FAKES else real_reason(n))
    monkeypatch.setattr(runner, "backend_names",
                        lambda: [*hybridbench.backend_names(), *FAKES])


def test_real_cells_are_complete() -> None:
    config = runner.RunConfig(workloads=["echo", "json"], backends=["inproc"],
                              sizes={"echo": "64B", "json": "1KB"}, concurrency=[1, 2], **TINY)
    done = runner.run(config)
    assert [(c.workload, c.concurrency) for c in done.cells] == [
        ("echo", 1), ("echo", 2), ("json", 1), ("json", 2)]
    for cell in done.cells:
        assert cell.status == OK and cell.verified and cell.error is None
        assert cell.samples > 100 and len(cell.rounds) == 3
        assert cell.latency_ns["p50"] <= cell.latency_ns["p99"] <= cell.latency_ns["max"]
        low, high = cell.throughput_ci95
        assert low <= cell.throughput_ops <= high
        assert cell.rss_peak_bytes["client"] >= cell.rss_baseline_bytes["client"] > 0
        assert cell.rss_peak_bytes["server"] is None
        assert cell.cpu_s_per_op["client"] > 0
    assert done.cells[0].batch_size > 1  # a 64-byte in-process echo takes < 1 µs
    assert any("batches" in w for w in done.cells[0].warnings)
    assert done.env["python"] and "pil" in done.env


def test_wrong_answer_is_reported_not_timed(fakes: None) -> None:
    Wrong.calls = 0
    cell = runner.run(runner.RunConfig(workloads=["echo"], backends=["wrong"], sizes="64B",
                                       **TINY)).cells[0]
    assert cell.status == WRONG and not cell.verified and "differs" in (cell.error or "")
    assert Wrong.calls == 1 and cell.samples == 0 and cell.throughput_ops is None


def test_backend_dying_mid_run_fails_its_cell_only(fakes: None) -> None:
    DiesMidRun.calls = 0
    config = runner.RunConfig(workloads=["echo"], backends=["dies", "inproc"], sizes="1KB", **TINY)
    first, second = runner.run(config).cells
    assert first.status == FAILED and "signal 9" in (first.error or "")
    assert first.verified  # it answered correctly before it died
    assert second.status == OK


def test_unsupported_and_unavailable_are_reported_with_reasons(fakes: None) -> None:
    config = runner.RunConfig(workloads=["json"], backends=["echo-only", "missing"],
                              sizes="1KB", **TINY)
    unsupported, unavailable = runner.run(config).cells
    assert unsupported.status == UNSUPPORTED and "'json'" in (unsupported.error or "")
    assert unavailable.status == UNAVAILABLE and "libfoo.so" in (unavailable.error or "")


def test_open_loop_cell(fakes: None) -> None:
    config = runner.RunConfig(workloads=["echo"], backends=["echo-only"], sizes="64B", rate=2000,
                              **TINY)
    cell = runner.run(config).cells[0]
    assert cell.mode == "open" and cell.rate == 2000 and cell.status == OK
    assert cell.batch_size == 1 and cell.unsent == 0
    assert cell.throughput_ops == pytest.approx(2000, rel=0.25)


def test_bad_names_fail_before_anything_runs() -> None:
    with pytest.raises(WorkloadError, match="unknown workload 'xml'"):
        runner.plan(runner.RunConfig(workloads=["xml"]))
    with pytest.raises(WorkloadError, match="unknown backend 'cuda'"):
        runner.plan(runner.RunConfig(backends=["cuda"]))
    with pytest.raises(WorkloadError, match=r"no size '1MB'.*small, medium, 5MB"):
        runner.plan(runner.RunConfig(workloads=["image"], sizes="1MB"))


def test_default_plan_sweeps_echo_and_uses_default_sizes() -> None:
    cells = runner.plan(runner.RunConfig(backends=["inproc"]))
    assert [(c.workload, c.size) for c in cells] == [
        ("json", "1MB"), ("image", "5MB"), ("timeseries", "100k"), ("echo", "64B"),
        ("echo", "1KB"), ("echo", "64KB"), ("echo", "1MB"), ("echo", "8MB")]


def test_cold_start_is_measured_in_a_fresh_process() -> None:
    config = runner.RunConfig(workloads=["json"], backends=["inproc"], sizes="1KB",
                              **{**TINY, "cold_start": True})
    cell = runner.run(config).cells[0]
    assert cell.cold_start_s is not None and 0 < cell.cold_start_s < 30


def test_peak_rss_catches_a_short_spike_in_the_client() -> None:
    """A 200 MiB allocation that lives for a millisecond still shows in the cell's peak."""
    from hybridbench.resources import ResourceMonitor

    with ResourceMonitor({"client": __import__("os").getpid()}) as monitor:
        spike = bytearray(200 * 1024 * 1024)
        spike[::4096] = b"x" * len(spike[::4096])  # touch every page
        del spike
    usage = monitor.usage
    assert usage.rss_peak_bytes["client"] - usage.rss_baseline_bytes["client"] > 190 * 2**20
