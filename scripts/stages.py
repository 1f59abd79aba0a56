"""Where the time of `make install`, `make test`, `make lint` and `.ci/run` goes: a stage table.

    python3 scripts/stages.py run NAME -- COMMAND...    # run one stage, time it
    python3 scripts/stages.py table [--started EPOCH] [--budget-s N] [--junit FILE]

`run` runs COMMAND, prints "==> stage NAME: S s (load L at start)" and, when $HYBRIDBENCH_STAGES
names a file, appends a row to it (stage, seconds, the 1-minute load average at its start, exit
code, start time); it exits with COMMAND's code. `table` prints that file as a table (stages in
the order they started, with the offset of each start, since some run side by side: the
install's Go and pillow-simd stages beside its Rust build), the whole run's time (from
--started, the run's start), and the pytest files that took the most test time, with their
CPU (from --junit);
with --budget-s it exits 1, with a message saying by how much, when the whole run took longer.
The load average is there because a busy machine stretches every stage: compare tables taken at
similar loads, or use ratios of stages measured side by side.

Standard library only: the install's first stages run before the virtual environment exists.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

ENV = "HYBRIDBENCH_STAGES"
#: pytest files listed under the table (the slowest by summed test time)
TOP_FILES = 12
#: the JUnit property tests/conftest.py gives each test: its CPU seconds
CPU_PROPERTY = "cpu_s"


def load_average() -> float:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return os.getloadavg()[0]


Row = tuple[str, float, float, int, float]


def record(name: str, seconds: float, load: float, code: int, started: float) -> None:
    """Append one row to $HYBRIDBENCH_STAGES (nothing when it is not set). One short write
    in append mode: stages running side by side do not interleave their rows."""
    path = os.environ.get(ENV)
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(f"{name}\t{seconds:.1f}\t{load:.2f}\t{code}\t{started:.3f}\n")


def run(name: str, command: list[str]) -> int:
    load, start, started = load_average(), time.monotonic(), time.time()
    try:
        code = subprocess.call(command)
    except OSError as exc:
        print(f"stages: cannot run {command[0]!r}: {exc}", file=sys.stderr)
        code = 127
    seconds = time.monotonic() - start
    record(name, seconds, load, code, started)
    status = "" if code == 0 else f", FAILED (exit {code})"
    print(f"==> stage {name}: {seconds:.1f} s (load {load:.2f} at start){status}", flush=True)
    return code


def read_rows(path: Path) -> list[Row]:
    """The rows in the order their stages started."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        name, seconds, load, code, started = line.split("\t")
        rows.append((name, float(seconds), float(load), int(code), float(started)))
    return sorted(rows, key=lambda r: r[4])


def pytest_files(junit: Path) -> list[tuple[str, float, float | None, int]]:
    """(file, summed test seconds, summed CPU seconds or None, tests) per test file, slowest
    first. Under xdist the sums are spread over the workers, so the seconds are more than the
    file's share of the wall time; the CPU is what tests/conftest.py records per test (its
    ``cpu_s`` property: the test process's and the processes it waited for)."""
    root = ET.parse(junit).getroot()
    seconds: dict[str, float] = defaultdict(float)
    cpu: dict[str, float] = defaultdict(float)
    count: dict[str, int] = defaultdict(int)
    for case in root.iter("testcase"):
        module = (case.get("classname") or "?").split(".")
        name = "/".join(module[:2]) + ".py" if module[0] == "tests" else ".".join(module)
        seconds[name] += float(case.get("time") or 0)
        count[name] += 1
        for prop in case.iter("property"):
            if prop.get("name") == CPU_PROPERTY:
                cpu[name] += float(prop.get("value") or 0)
    return sorted(((f, s, cpu.get(f), count[f]) for f, s in seconds.items()),
                  key=lambda r: -r[1])


def table(rows: list[Row], started: float | None, budget: float | None,
          junit: Path | None) -> int:
    width = max([len(r[0]) for r in rows] + [len("(sum of stages)")])
    origin = started if started else min((r[4] for r in rows), default=0.0)
    print(f"{'stage':<{width}}  {'seconds':>8}  {'from':>7}  {'load':>5}  status")
    for name, seconds, load, code, begun in rows:
        print(f"{name:<{width}}  {seconds:8.1f}  {begun - origin:7.0f}  {load:5.2f}  "
              f"{'ok' if code == 0 else code}")
    staged = sum(r[1] for r in rows)
    total = time.time() - started if started else staged
    print(f"{'(sum of stages)':<{width}}  {staged:8.1f}  (side-by-side stages overlap)")
    print(f"{'whole run':<{width}}  {total:8.1f}  load now {load_average():.2f}, "
          f"{os.cpu_count()} cores")
    if junit and junit.is_file():
        print(f"\npytest files by summed test time (top {TOP_FILES}; xdist workers overlap), "
              "with their CPU:")
        for name, seconds, used, n in pytest_files(junit)[:TOP_FILES]:
            cpu = f"{used:8.1f} s CPU" if used is not None else f"{'-':>8}       "
            print(f"  {seconds:8.1f} s  {cpu}  {n:5d} tests  {name}")
    if budget is not None and total > budget:
        print(f"\nBUDGET EXCEEDED: the whole run took {total:.0f} s, over the budget of "
              f"{budget:.0f} s by {total - budget:.0f} s (the stage table above says where). "
              "New work pays for its own time: make it faster, or move a check out of "
              "`make test` and name it in README \"Tests\" with its command.", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="run one stage")
    p_run.add_argument("name")
    p_run.add_argument("argv", nargs=argparse.REMAINDER)
    p_table = sub.add_parser("table", help="print the stage table")
    p_table.add_argument("--file", type=Path, default=os.environ.get(ENV))
    p_table.add_argument("--started", type=float, help="the run's start (seconds since epoch)")
    p_table.add_argument("--budget-s", type=float, help="fail when the whole run took longer")
    p_table.add_argument("--junit", type=Path, help="pytest's JUnit XML report")
    args = parser.parse_args(argv)
    if args.command == "run":
        command = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
        if not command:
            parser.error("run: no command after the stage name")
        return run(args.name, command)
    if args.file is None or not args.file.is_file():
        parser.error(f"table: no stage file (--file or ${ENV}); got {args.file}")
    return table(read_rows(args.file), args.started, args.budget_s, args.junit)


if __name__ == "__main__":
    sys.exit(main())
