"""``hybridbench ab``: the regression gate of two builds (issue 26).

The end-to-end test builds a plug-in made with ``hybridbench new`` once (tests/ab_kernel.py),
its kernel's work set in copies of the library: three times the work must fail the gate, an
identical copy must pass it, and a copy that counts nothing (a wrong answer) must fail it as
broken. Nothing here depends on the machine's speed: 3x is far beyond any noise, and the 5%
and 10% figures of the issue are measured by hand (README "Regression gate").
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hybridbench import ab, cli, runner
from hybridbench.backends.builtin_native import library_path, server_path
from hybridbench.results import OK, Comparison, Results

ROOT = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent
#: a short gate whose verdicts are certain: five passes (a pass is one worker of each build,
#: so ``--workers`` sets them; ``--rounds`` only sets the rounds a pass's median takes), for a
#: t-interval of 4 degrees of freedom (2.78 s.e.) rather than 2 (4.30 s.e.), and slowed builds
#: doing 6x the work. With three passes a 2.6x slowdown read "unchanged" (95% CI 0.93-7.3) at
#: load 8, and a 2.2x one "slower" by only 1.100-4.60 at load 3.8 (stop 39's CI); two rounds
#: of 0.4 s a pass keep the run as short as three passes of five rounds were
QUICK = ["--duration", "0.4", "--workers", "5", "--rounds", "2"]
#: the slowed builds' work, in multiples of the plain build's
SLOWED = 6


# -- verdicts and exit status, from made-up ratios ----------------------------------------------

@pytest.mark.parametrize(("interval", "expected"), [
    ((1.02, 1.08), ab.SLOWER), ((0.90, 0.99), ab.FASTER), ((0.98, 1.03), ab.UNCHANGED),
    ((1.0, 1.1), ab.UNCHANGED), ((float("nan"), float("nan")), ab.UNTESTED), (None, ab.UNTESTED)])
def test_the_verdict_is_where_the_whole_interval_lies(interval, expected) -> None:
    assert ab.verdict(interval) == expected


def _verdict(ratio: float, low: float, high: float, broken: str | None = None
             ) -> ab.CellVerdict:
    item = ab.CellVerdict("json", "64KB", ab.NEW, ratio, (low, high), 6, ab.verdict((low, high)))
    item.broken = broken
    return item


def test_a_regression_is_an_interval_entirely_beyond_the_threshold() -> None:
    assert ab.is_regression(_verdict(1.20, 1.15, 1.25), 0.10)
    # slower, but the interval reaches below +10%: not sure it is more than 10%
    assert not ab.is_regression(_verdict(1.12, 1.05, 1.19), 0.10)
    assert ab.is_regression(_verdict(1.12, 1.05, 1.19), 0.0)  # any sure slowdown at 0%
    assert not ab.is_regression(_verdict(0.8, 0.7, 0.9), 0.0)
    assert not ab.is_regression(_verdict(1.0, 0.95, 1.05), 0.0)
    assert ab.is_regression(_verdict(1.0, 0.95, 1.05, broken="NEW: wrong"), 0.10)


def test_the_gate_fails_on_regressions_and_broken_cells_only() -> None:
    fine = ab.Outcome([_verdict(1.01, 0.99, 1.03), _verdict(1.08, 1.02, 1.14)], [], None, 0.10)
    assert fine.exit_status == 0 and fine.lines()[-1] == "gate: pass (2 cells)"
    bad = ab.Outcome([_verdict(1.3, 1.2, 1.4), _verdict(1.0, 0.99, 1.01)], [], None, 0.10)
    assert bad.exit_status == 1 and bad.failures == [bad.verdicts[0]]
    assert "REGRESSION" in bad.lines()[0] and bad.lines()[-1].startswith("gate: FAIL: 1 of 2")
    # without a threshold a slowdown is reported, not failed; a broken build always fails
    assert ab.Outcome([_verdict(1.3, 1.2, 1.4)], [], None, None).exit_status == 0
    broken = ab.Outcome([_verdict(1.0, 0.9, 1.1, broken="NEW: wrong: differs")], [], None, None)
    assert broken.exit_status == 1 and "BROKEN" in broken.lines()[0]
    assert ab.Outcome([], [], None, None).exit_status == 1  # nothing compared is no pass


def _comparison(backend: str, baseline: str, ratio: float, ci: list[float],
                passes: list[float]) -> Comparison:
    return Comparison(workload="json", size="64KB", backend=backend, baseline=baseline,
                      ratio=ratio, ratio_ci95=ci, passes=len(passes), pass_ratios=passes)


def test_verdicts_read_the_stored_comparison_as_new_time_over_base_time() -> None:
    from hybridbench.results import Cell

    cells = [Cell(workload="json", size="64KB", backend=b, concurrency=1, mode="closed",
                  rate=None, payload_bytes=1, status=OK) for b in (ab.BASE, ab.NEW, ab.AGAIN)]
    done = Results(env={}, cells=cells, comparisons=[
        # throughput of base / throughput of new: 1.25 = NEW takes 25% longer
        _comparison(ab.BASE, ab.NEW, 1.25, [1.2, 1.3], [1.2, 1.25, 1.3]),
        _comparison(ab.NEW, ab.BASE, 0.8, [0.77, 0.83], [0.83, 0.8, 0.77]),
        _comparison(ab.BASE, ab.AGAIN, 1.01, [0.97, 1.05], [0.98, 1.01, 1.04])])
    outcome = ab.judge(done, 0.10, with_new=True, aa=True)
    (found,) = outcome.verdicts
    assert (found.time_ratio, found.ci95, found.verdict) == (1.25, (1.2, 1.3), ab.SLOWER)
    assert outcome.exit_status == 1
    (again,) = outcome.aa
    assert again.verdict == ab.UNCHANGED
    assert outcome.calibration is not None and outcome.calibration.false_alarms == 0
    assert outcome.calibration.detectable_median == pytest.approx(
        ab.detectable_change([0.98, 1.01, 1.04]))


def test_the_detectable_change_follows_the_passes_spread() -> None:
    tight = ab.detectable_change([1.0, 1.01, 0.99, 1.0, 1.01, 0.99])
    loose = ab.detectable_change([1.0, 1.05, 0.95, 1.0, 1.05, 0.95])
    assert tight is not None and loose is not None and 0 < tight < loose
    assert ab.detectable_change([1.0]) is None
    # more passes with the same spread detect less
    more = ab.detectable_change([1.0, 1.01, 0.99] * 4)
    assert more is not None and more < tight


# -- bad input: a clear error, exit 2, never a traceback ---------------------------------------

def _gate(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = cli.main(["ab", *args])
    return status, capsys.readouterr().out


def test_bad_builds_are_refused_with_the_reason(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    library = library_path()
    text = tmp_path / "notes.so"
    text.write_text("not a library")
    fake = tmp_path / "fake.so"
    shutil.copyfile(sys.executable, fake)  # an ELF file named .so without the C ABI
    wheel = tmp_path / "plugin-0.1-py3-none-any.whl"
    wheel.write_bytes(b"PK")
    cases = [
        ([str(tmp_path / "missing.so"), str(library)], "BASE", "no such file"),
        ([str(library), str(text)], "NEW", "no ELF or Mach-O header"),
        ([str(library), str(fake)], "NEW", "not a hybridbench C-ABI kernel library"),
        ([str(tmp_path), str(library)], "BASE", "without pyproject.toml or setup.py"),
        ([str(library), str(wheel)], "NEW", "same kind"),
        ([str(wheel), str(wheel)], "BASE", "pip could not install it"),
        ([str(tmp_path / "gone.whl"), str(wheel)], "BASE", "no such wheel"),
        ([str(library), str(server_path())], "NEW", "same kind"),
        ([str(library)], "", "needs NEW"),
        ([str(library), str(library), "-w", "nosuch"], "", "unknown workload 'nosuch'"),
        ([str(library), str(library), "-w", "echo", "--size", "9ZB"], "", "9ZB"),
    ]
    for args, who, message in cases:
        status, out = _gate(args, capsys)
        assert status == 2 and message in out and who in out, (args, out)
        assert "Traceback" not in out


# -- real builds, real workers ------------------------------------------------------------------

@pytest.mark.slow
def test_two_cells_of_one_backend_kind_share_a_table_with_their_own_options(
        tmp_path: Path) -> None:
    """The runner's labels: ``base`` and ``new`` run ``ffi``, each on its own library file,
    in turns, and are compared with each other; cold start and plan follow the label."""
    copy = shutil.copyfile(library_path(), tmp_path / "copy.so")
    base = ab.detect("BASE", library_path())
    new = ab.detect("NEW", copy)
    config = ab.config_for(base, new, ["echo"], "64B", duration_s=0.4, workers=2, rounds=2)
    config.cold_start = True
    done = runner.run(config)
    cells = {c.backend: c for c in done.cells}
    assert set(cells) == {ab.BASE, ab.NEW}
    for label, path in ((ab.BASE, library_path()), (ab.NEW, copy)):
        cell = cells[label]
        assert cell.status == OK and cell.verified, cell.error
        assert cell.backend_info["libraries"][0]["path"] == str(Path(path).resolve())
        assert all(w["in_turns"] for w in cell.worker_results)
        assert cell.cold_start_s is not None
    assert {(c.backend, c.baseline) for c in done.comparisons} == {
        (ab.BASE, ab.NEW), (ab.NEW, ab.BASE)}


@pytest.mark.slow
def test_two_server_binaries_are_gated_through_grpc(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    copy = tmp_path / "server-copy"
    shutil.copyfile(server_path(), copy)
    copy.chmod(0o755)
    out_file = tmp_path / "ab.json"
    status, out = _gate([str(server_path()), str(copy), "-w", "echo", "--size", "64B",
                         "--fail-on-regression", "50", "-o", str(out_file), *QUICK], capsys)
    assert status == 0, out
    saved = json.loads(out_file.read_text())
    assert saved["config"]["ab"]["kind"] == "server"
    assert {c["backend"] for c in saved["cells"]} == {ab.BASE, ab.NEW}
    for cell in saved["cells"]:
        assert cell["status"] == OK and cell["backend_info"]["server_pid"]
    assert "echo 64B: NEW/BASE time" in out


def _plugin_env(site: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(TESTS)])}


def _cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hybridbench.cli", *args], env=env,
                          capture_output=True, text=True, timeout=600, cwd=cwd)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("cargo") is None, reason="cargo is not on PATH")
def test_the_gate_fails_a_slowed_build_and_passes_an_identical_copy(tmp_path: Path) -> None:
    """Done-when of issue 26, with a plug-in made by ``hybridbench new``."""
    import ab_kernel

    plugin = ab_kernel.build(tmp_path)
    same = shutil.copyfile(plugin.library, tmp_path / "same.so")
    slowed = ab_kernel.with_work(plugin.library, SLOWED * ab_kernel.PLAIN, tmp_path / "slow.so")
    wrong = ab_kernel.with_work(plugin.library, 0, tmp_path / "wrong.so")
    env = _plugin_env(plugin.site)
    gate = ["-w", ab_kernel.NAME, "--size", "64KB", "--fail-on-regression", "10", *QUICK]

    slow = _cli(["ab", str(plugin.library), str(slowed), "-o", "slow.json", *gate], env,
                tmp_path)
    assert slow.returncode == 1, slow.stdout[-3000:] + slow.stderr[-2000:]
    assert "REGRESSION" in slow.stdout and "gate: FAIL" in slow.stdout
    (found,) = json.loads((tmp_path / "slow.json").read_text())["config"]["ab"]["verdicts"]
    assert found["verdict"] == ab.SLOWER and found["ci95"][0] > 1.10

    equal = _cli(["ab", str(plugin.library), str(same), "-o", "same.json", *gate], env,
                 tmp_path)
    assert equal.returncode == 0, equal.stdout[-3000:] + equal.stderr[-2000:]
    assert "gate: pass (1 cells)" in equal.stdout

    broken = _cli(["ab", str(plugin.library), str(wrong), "-o", "wrong.json", *gate], env,
                  tmp_path)
    assert broken.returncode == 1, broken.stdout[-3000:]
    assert "BROKEN: NEW: wrong" in broken.stdout and "differs from the reference" in \
        broken.stdout

    # the file is a normal results file: report renders it against BASE, compare reads it
    report = _cli(["report", "slow.json", "-o", "slow.html", "--terminal"], env, tmp_path)
    assert report.returncode == 0, report.stdout[-3000:] + report.stderr[-2000:]
    assert (tmp_path / "slow.html").is_file()
    compared = _cli(["compare", "same.json", "slow.json"], env, tmp_path)
    assert compared.returncode == 0, compared.stdout[-3000:] + compared.stderr[-2000:]
    assert "abgate 64KB new" in compared.stdout


def _plugin_project(tmp: Path, name: str, slower: bool) -> Path:
    """A plug-in project made by ``hybridbench new``; ``slower``: its fast Python engine
    counts the words ``SLOWED`` times (a build doing that many times the work, with the same
    answer)."""
    from hybridbench import scaffold

    project = scaffold.create("abpy", tmp / name)
    if slower:
        engine = project / "abpy" / "workload.py"
        text = engine.read_text()
        old = "    return _format(Counter(_WORD.findall(payload.lower())))\n"
        assert old in text, "the scaffold's fast engine changed: update this test"
        engine.write_text(text.replace(old, f"    for _ in range({SLOWED - 1}):\n"
                                            "        Counter(_WORD.findall(payload.lower()))\n"
                                       + old))
    return project


@pytest.mark.slow
def test_the_gate_compares_two_python_plugin_installs(tmp_path: Path) -> None:
    """BASE and NEW as plug-in project directories: each installed into its own directory,
    its workers running its own code; the slower one fails the gate, a copy passes."""
    base = _plugin_project(tmp_path, "base", slower=False)
    slowed = _plugin_project(tmp_path, "slow", slower=True)
    same = _plugin_project(tmp_path, "same", slower=False)
    # no cargo: pip installs the Python parts only (the Rust extension is optional)
    import ab_kernel

    env = {**os.environ, "PATH": ab_kernel._without_cargo(os.environ.get("PATH", "")),
           "PYTHONPATH": str(TESTS)}
    # more passes than QUICK's 5: the slowed engine reads 5-7x, but a pass is the median of
    # two 40 ms rounds, which one stall on a loaded CI machine distorts; with 4 degrees of
    # freedom such a pass stretched the t interval to 0.65-11.6 ("unchanged") once. 9 passes
    # narrow the t quantile (2.78 -> 2.31) and the standard error by a third
    gate = ["-w", "abpy", "--size", "abpy=64KB", "--fail-on-regression", "10",
            "--duration", "0.4", "--workers", "9", "--rounds", "2"]
    slow = _cli(["ab", str(base), str(slowed), "-o", "slow.json", *gate], env, tmp_path)
    assert slow.returncode == 1, slow.stdout[-3000:] + slow.stderr[-2000:]
    assert "REGRESSION" in slow.stdout
    saved = json.loads((tmp_path / "slow.json").read_text())
    assert saved["config"]["ab"]["kind"] == "plugin"
    (found,) = saved["config"]["ab"]["verdicts"]
    assert found["verdict"] == ab.SLOWER and found["ci95"][0] > 1.10
    equal = _cli(["ab", str(base), str(same), "-o", "same.json", "--aa", *gate], env, tmp_path)
    assert equal.returncode == 0, equal.stdout[-3000:] + equal.stderr[-2000:]
    assert "gate: pass (1 cells)" in equal.stdout


def test_all_sizes_plans_a_table_per_size_up_to_the_default() -> None:
    base = ab.detect("BASE", library_path())
    with ab.copy_for_aa(base) as again:
        assert again.path != base.path and again.path.read_bytes() == base.path.read_bytes()
        config = ab.config_for(base, base, ["json", "echo"], None, again)
        assert config.backend_options[ab.AGAIN] == {"library": str(again.path)}
    assert not again.path.exists()
    plans = ab.plan_all_sizes(config)
    assert [(p.workload, p.size) for p in plans if p.backend == ab.BASE] == [
        ("json", "1KB"), ("json", "64KB"), ("json", "1MB"), ("echo", "64B"), ("echo", "1KB")]
    assert {p.backend for p in plans} == {ab.BASE, ab.NEW, ab.AGAIN}
