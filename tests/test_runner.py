"""The runner's own logic, with stand-in backends (the real ones are tested elsewhere)."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest
from fake_backends import FAKES, KERNEL_NS, REFS, SERVER_RSS, SERVER_RSS_PEAK

import hybridbench
from hybridbench import paired, results, runner, stats
from hybridbench.backend import Backend
from hybridbench.errors import WorkloadError
from hybridbench.results import FAILED, OK, UNAVAILABLE, UNSUPPORTED, WRONG

TINY = dict(duration_s=0.3, rounds=2, warmup_s=0.02, workers=2, breakdown_s=0.02,
            cold_start=False)
TESTS = Path(__file__).resolve().parent


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The stand-ins of fake_backends.py, in this process and in the workers."""
    real_class = runner.open_backend

    def open_backend(name: str, **options: object) -> Backend:
        return FAKES[name](**options) if name in FAKES else real_class(name, **options)

    real_reason = runner.unavailable_reason
    monkeypatch.setattr(runner, "open_backend", open_backend)
    monkeypatch.setattr(runner, "unavailable_reason",
                        lambda n, options=None: FAKES[n].unavailable_reason() if n in FAKES
                        else real_reason(n, options))
    monkeypatch.setattr(runner, "backend_names",
                        lambda: [*hybridbench.backend_names(), *FAKES])
    monkeypatch.setenv("PYTHONPATH", str(TESTS))


def fake_config(**fields: object) -> runner.RunConfig:
    return runner.RunConfig(**{**TINY, "backend_refs": REFS, **fields})


@pytest.mark.slow
def test_real_cells_are_complete() -> None:
    config = runner.RunConfig(workloads=["echo", "json"], backends=["inproc"],
                              sizes={"echo": "64B", "json": "1KB"}, concurrency=[1, 2], **TINY)
    done = runner.run(config)
    assert [(c.workload, c.concurrency) for c in done.cells] == [
        ("echo", 1), ("echo", 2), ("json", 1), ("json", 2)]
    for cell in done.cells:
        assert cell.status == OK and cell.verified and cell.error is None
        # every round made calls and the histogram has samples (how many calls fit in 0.3 s
        # depends on the machine's load, so the count itself is not asserted)
        assert len(cell.rounds) == 4 and cell.workers == 2
        assert cell.samples > 0 and all(r["ops"] > 0 for r in cell.rounds)
        assert len({w["pid"] for w in cell.worker_results}) == 2  # two fresh processes
        assert cell.latency_ns["p50"] <= cell.latency_ns["p99"] <= cell.latency_ns["max"]
        low, high = cell.throughput_ci95
        assert low <= cell.throughput_mean_ops <= high
        pi_low, pi_high = cell.throughput_pi95
        assert pi_low <= low and high <= pi_high  # a repeat run varies more than its mean
        assert cell.interval_method == stats.WORKER_T_METHOD
        assert cell.rss_peak_bytes["client"] >= cell.rss_baseline_bytes["client"] > 0
        assert cell.rss_peak_bytes["server"] is None
        assert cell.cpu_s_per_op["client"] > 0
        assert cell.harness_ns["timer_ns"] > 0 and cell.harness_ns["empty_call_ns"] > 0
        # in process, the kernel is the engine call itself, timed around it
        split = cell.time_split
        assert split["calls"] >= 2 and 0 < split["kernel_ns"] <= split["end_to_end_ns"]
        assert cell.kernel_ns["p50"] > 0 and cell.cpu_affinity["shared"] is None
        load = cell.machine_load
        assert 0 <= load["others_cores"] <= load["others_cores_max"] <= (os.cpu_count() or 1)
    assert done.cells[0].batch_size == 100  # a 64-byte in-process echo: the fixed rule
    assert "1,024 bytes" in done.cells[0].batch_rule
    batched = next(w for w in done.cells[0].warnings
                   if isinstance(w, results.Notice) and w.kind == results.Kind.BATCHED)
    assert batched.message.startswith("batched") and batched.data["batch_size"] == 100
    # the backend's pattern is recorded with the cell, for the report's baseline and words
    assert done.cells[0].backend_info["profile"]["placement"] == "in-process"
    assert done.cells[0].backend_info["profile"]["incumbent"] is True
    assert done.env["python"] and "pil" in done.env
    assert done.env["harness"]["timer_ns"] > 0 and done.env["harness"]["cells_measured"] == 4
    assert done.env["cpu_affinity"]["pinned"] is False


def test_wrong_answer_is_reported_not_timed(fakes: None) -> None:
    cell = runner.run(fake_config(workloads=["echo"], backends=["wrong"], sizes="64B")).cells[0]
    assert cell.status == WRONG and not cell.verified and "differs" in (cell.error or "")
    assert cell.samples == 0 and cell.throughput_ops is None
    assert "worker 1 of 1" in (cell.error or "")  # the first worker's failure stops the cell


def test_a_stale_native_build_is_recorded_as_a_run_warning(
        fakes: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # the judgement itself (mtimes under native/) is tested in test_stale_build.py
    monkeypatch.setattr(runner.native, "stale_build_warning",
                        lambda: "stale native build: lib.so is older than native/x.rs")
    done = runner.run(fake_config(workloads=["echo"], backends=["inproc"], sizes="64B"))
    stale = [w for w in done.warnings if results.Notice.of(w).kind == results.Kind.STALE_BUILD]
    assert [results.Notice.of(w).message for w in stale] == [
        "stale native build: lib.so is older than native/x.rs"]


def test_backend_dying_mid_run_fails_its_cell_only(fakes: None) -> None:
    config = fake_config(workloads=["echo"], backends=["dies", "inproc"], sizes="1KB")
    first, second = runner.run(config).cells
    assert first.status == FAILED and "signal 9" in (first.error or "")
    assert first.verified  # it answered correctly before it died
    assert second.status == OK


def test_crashing_worker_fails_its_cell_with_the_reason(fakes: None) -> None:
    config = fake_config(workloads=["echo"], backends=["crashes", "inproc"], sizes="64B")
    first, second = runner.run(config).cells
    assert first.status == FAILED and "status 3" in (first.error or "")
    assert second.status == OK


@pytest.mark.slow
def test_hanging_worker_is_killed_at_its_timeout(fakes: None) -> None:
    config = fake_config(workloads=["echo"], backends=["hangs"], sizes="64B",
                         worker_timeout_s=4.0)
    cell = runner.run(config).cells[0]
    assert cell.status == FAILED and "timed out after 4 s" in (cell.error or "")


def test_kernel_time_and_self_reported_server_resources(fakes: None) -> None:
    """A backend that times its own kernel and reports its server's figures (a remote target:
    no PID to sample) fills the time split and the server's memory and CPU."""
    config = fake_config(workloads=["echo"], backends=["timed"], sizes="1KB")
    cell = runner.run(config).cells[0]
    assert cell.status == OK and cell.batch_size == 1  # out of process: one by one
    assert cell.kernel_ns["p50"] == pytest.approx(KERNEL_NS, rel=2e-3)
    assert cell.kernel_hdr and stats.decode_histogram(cell.kernel_hdr).get_total_count() > 0
    split = cell.time_split
    assert split["kernel_ns"] == KERNEL_NS
    assert split["crossing_ns"] == pytest.approx(split["end_to_end_ns"] - KERNEL_NS, rel=0.5)
    assert split["client_cpu_ns"] == pytest.approx(cell.cpu_s_per_op["client"] * 1e9)
    assert cell.resource_source == {"client": "process", "server": "self-reported"}
    assert cell.rss_peak_bytes["server"] == SERVER_RSS_PEAK
    assert cell.rss_baseline_bytes["server"] == SERVER_RSS
    # the fake server's CPU grows at half the client's: so must its CPU per op
    ratio = cell.cpu_s_per_op["server"] / cell.cpu_s_per_op["client"]
    assert 0.3 < ratio < 0.7
    assert cell.server_reported["server"]["pid"] == 4242


def test_unsupported_and_unavailable_are_reported_with_reasons(fakes: None) -> None:
    config = fake_config(workloads=["json"], backends=["echo-only", "missing"], sizes="1KB")
    unsupported, unavailable = runner.run(config).cells
    assert unsupported.status == UNSUPPORTED and "'json'" in (unsupported.error or "")
    assert unavailable.status == UNAVAILABLE and "libfoo.so" in (unavailable.error or "")


def test_open_loop_cell(fakes: None) -> None:
    config = fake_config(workloads=["echo"], backends=["echo-only"], sizes="64B", rate=2000)
    cell = runner.run(config).cells[0]
    assert cell.mode == "open" and cell.rate == 2000 and cell.status == OK
    assert cell.batch_size == 1 and cell.unsent == 0
    assert cell.throughput_ops == pytest.approx(2000, rel=0.25)


def test_payload_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.bin"
    path.write_bytes(b"x" * 3000)
    cell_plan = runner.CellPlan("echo", "mine.bin", "inproc", 1, input_path=str(path))
    cell = runner.run_cell(cell_plan, runner.RunConfig(**TINY))
    assert cell.status == OK and cell.payload_bytes == 3000 and cell.size == "mine.bin"
    assert cell.batch_size == 10  # in-process, <= 64 KiB


def test_pinning_places_client_workers_and_is_recorded() -> None:
    from hybridbench import pinning

    cpus = pinning.available_cpus()
    if len(cpus) < 2:
        pytest.skip("pinning needs two CPUs")
    config = runner.RunConfig(workloads=["echo"], backends=["inproc"], sizes="64B", pin=True,
                              **TINY)
    done = runner.run(config)
    placement = done.env["cpu_affinity"]
    assert placement["pinned"] and not set(placement["client"]) & set(placement["server"])
    assert done.cells[0].cpu_affinity["client"] == placement["client"]


def test_interrupt_kills_the_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C while a worker measures: the worker's process group is killed, then the
    KeyboardInterrupt goes on (the runner saves what it has)."""
    import os
    import subprocess

    from hybridbench import manager

    spawned: list[int] = []
    real_poll = subprocess.Popen.poll

    def interrupted(self: subprocess.Popen) -> object:
        # The manager polls its running workers: the first poll is where Ctrl-C lands.
        if not spawned:
            spawned.append(self.pid)
            raise KeyboardInterrupt
        return real_poll(self)

    monkeypatch.setattr(subprocess.Popen, "poll", interrupted)
    spec = runner.worker_spec(runner.CellPlan("echo", "64B", "inproc", 1),
                              runner.RunConfig(**TINY), {"pinned": False})
    with pytest.raises(KeyboardInterrupt):
        manager.run_worker({**spec, "expected_path": "/nonexistent"})
    with pytest.raises(ProcessLookupError):
        os.kill(spawned[0], 0)


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
        ("json", "1MB"), ("image", "5MB"), ("thumbnail", "5MB"), ("timeseries", "100k"),
        ("echo", "64B"), ("echo", "1KB"), ("echo", "64KB"), ("echo", "1MB"), ("echo", "8MB"),
        ("text", "64docs")]


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


def _available(name: str) -> None:
    reason = runner.unavailable_reason(name)
    if reason:
        pytest.skip(f"{name} unavailable: {reason}")


@pytest.mark.parametrize("name", ["ffi", "grpc"])
def test_native_backends_in_workers(name: str) -> None:
    """The real backends, in worker processes: ffi in-process (batched), grpc with a server
    per worker (timed one by one, the server's figures sampled by PID)."""
    _available(name)
    config = runner.RunConfig(workloads=["echo"], backends=[name], sizes="64B", **TINY)
    cell = runner.run(config).cells[0]
    assert cell.status == OK and cell.workers == 2, cell.error
    if name == "grpc":
        assert cell.batch_size == 1 and cell.rss_peak_bytes["server"] > 0
        assert cell.cpu_s_per_op["server"] > 0 and cell.resource_source["server"] == "process"
        assert cell.cpu_affinity["shared"] is True  # not pinned: may share every core
    else:
        assert cell.batch_size == 100 and cell.cpu_affinity["shared"] is None


def test_pinned_grpc_server_runs_on_the_other_cpus() -> None:
    from hybridbench import pinning

    _available("grpc")
    if len(pinning.available_cpus()) < 2:
        pytest.skip("pinning needs two CPUs")
    config = runner.RunConfig(workloads=["echo"], backends=["grpc"], sizes="64B", pin=True,
                              **TINY)
    done = runner.run(config)
    cell, placement = done.cells[0], done.env["cpu_affinity"]
    assert cell.status == OK, cell.error
    assert cell.cpu_affinity["shared"] is False
    assert cell.cpu_affinity["client"] == placement["client"]
    assert list(cell.cpu_affinity["server"].values()) == [placement["server"]]
    assert not any(results.Notice.of(w).kind == results.Kind.SHARED_CPUS for w in done.warnings)


@pytest.mark.slow
def test_workers_of_cells_are_interleaved() -> None:
    """Worker 1 of every cell, then worker 2 of every cell: a cell's workers span the run
    (within a pass, a table's cells in the pass's shuffled order: test_paired.py)."""
    config = runner.RunConfig(workloads=["echo"], backends=["inproc", "inproc-pure"],
                              sizes="64B", **TINY)
    seen: list[tuple[str, int]] = []
    done = runner.run(config, progress=lambda i, total, plan: seen.append((plan.backend, total)))
    assert [total for _, total in seen] == [4] * 4
    assert sorted(b for b, _ in seen[:2]) == sorted(b for b, _ in seen[2:]) == [
        "inproc", "inproc-pure"]
    first, second = ([w["pid"] for w in c.worker_results] for c in done.cells)
    # PIDs grow in spawn order: both cells' first workers before either's second
    first, second = _unwrapped([first, second])
    assert max(first[0], second[0]) < min(first[1], second[1])


def _unwrapped(pids: list[list[int]]) -> list[list[int]]:
    """PIDs in spawn order across a wrap of the kernel's counter (pid_max, 32768 here: CI
    once saw 32758 and 32691 spawned before 358 and 369): when they span more than half the
    range, the small ones come after the wrap."""
    pid_max = int(Path("/proc/sys/kernel/pid_max").read_text())
    flat = [pid for group in pids for pid in group]
    if max(flat) - min(flat) < pid_max // 2:
        return pids
    return [[pid + pid_max if pid < pid_max // 2 else pid for pid in group] for group in pids]


@pytest.mark.slow
def test_interrupt_keeps_cells_with_the_workers_they_had() -> None:
    config = runner.RunConfig(workloads=["echo"], backends=["inproc", "inproc-pure"],
                              sizes="64B", **TINY)

    def interrupt_at_the_last_worker(index: int, total: int, plan: runner.CellPlan) -> None:
        if index == total - 1:
            raise KeyboardInterrupt

    done = runner.run(config, progress=interrupt_at_the_last_worker)
    assert done.config["interrupted"] and any(
        results.Notice.of(w).kind == results.Kind.INTERRUPTED for w in done.warnings)
    # The two cells form a table whose workers take turns: the interrupt came before the
    # second pass's turns began, so both keep the first pass's worker only.
    assert [(c.backend, c.workers, c.status) for c in done.cells] == [
        ("inproc", 1, OK), ("inproc-pure", 1, OK)]
    assert all(c.interval_method == stats.ROUNDS_BOOTSTRAP_METHOD for c in done.cells)
    # the pass both cells completed still pairs them
    assert [c.passes for c in done.comparisons] == [1, 1]

    alone = runner.run(replace(config, turns=False), progress=interrupt_at_the_last_worker)
    last = alone.cells[paired.pass_order(alone.cells, config.seed, 1)[-1]].backend
    assert [(c.backend, c.workers) for c in alone.cells] == [
        (b, 1 if b == last else 2) for b in ("inproc", "inproc-pure")]
