"""`cargo test` with its time split by stage: the build of the test binaries, then each crate's.

    python3 scripts/cargo_tests.py [CARGO TEST ARGS...]     # run from native/
    python3 scripts/cargo_tests.py --build-only [ARGS...]  # the test binaries only

One `cargo test ARGS --no-run` builds every test binary (one invocation: one dependency
graph, as the install's build), then `cargo test ARGS` runs them exactly as cargo does (same
binaries, environment and working directory; the output is cargo's own). The time between
cargo's "Running" lines is charged to the crate that owns the binary (from the build's JSON
messages), and each crate becomes a stage of scripts/stages.py (printed, and recorded when
$HYBRIDBENCH_STAGES is set). Exits with cargo's code.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import stages  # a sibling script, not a package

RUNNING = re.compile(r"^\s*Running .*\((?P<path>[^)]+)\)\s*$")


def package_name(message: dict) -> str:
    """The package of a cargo message: `path+file:///...#name@0.1.0` or `name 0.1.0 (...)`."""
    package_id = message["package_id"]
    if "#" in package_id:
        return package_id.rsplit("#", 1)[1].split("@")[0]
    return package_id.split()[0]


def build(args: list[str], stage: str = "cargo test: build") -> tuple[int, dict[str, str]]:
    """Build the test binaries; return cargo's code and {binary file name: package}."""
    load, start, started = stages.load_average(), time.monotonic(), time.time()
    done = subprocess.run(["cargo", "test", *args, "--no-run",
                           "--message-format=json-render-diagnostics"],
                          stdout=subprocess.PIPE, text=True)
    owners = {}
    for line in done.stdout.splitlines():
        message = json.loads(line) if line.startswith("{") else {}
        if message.get("reason") == "compiler-artifact" and message.get("executable"):
            owners[Path(message["executable"]).name] = package_name(message)
    seconds = time.monotonic() - start
    stages.record(stage, seconds, load, done.returncode, started)
    print(f"==> stage {stage}: {seconds:.1f} s (load {load:.2f} at start)", flush=True)
    return done.returncode, owners


def run(args: list[str], owners: dict[str, str]) -> int:
    spent: dict[str, float] = {}
    loads: dict[str, float] = {}
    began: dict[str, float] = {}
    current, since = "cargo test: start", time.monotonic()
    loads[current], began[current] = stages.load_average(), time.time()
    proc = subprocess.Popen(["cargo", "test", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, bufsize=1)
    assert proc.stdout is not None
    for line in proc.stdout:
        sys.stdout.write(line)
        found = RUNNING.match(line)
        if found:
            now = time.monotonic()
            spent[current] = spent.get(current, 0.0) + now - since
            owner = owners.get(Path(found["path"]).name, "other")
            current, since = f"cargo test: {owner}", now
            loads.setdefault(current, stages.load_average())
            began.setdefault(current, time.time())
    code = proc.wait()
    spent[current] = spent.get(current, 0.0) + time.monotonic() - since
    for name, seconds in spent.items():
        stages.record(name, seconds, loads[name], code, began[name])
        print(f"==> stage {name}: {seconds:.1f} s (load {loads[name]:.2f} at start)")
    return code


def main() -> int:
    args = sys.argv[1:]
    if args[:1] == ["--build-only"]:
        # `make test` runs this beside pytest at the lowest priority (Makefile): the build
        # takes the CPU that pytest's waiting tests leave, and the run afterwards finds it done
        return build(args[1:], "cargo test: build (beside pytest)")[0]
    code, owners = build(args)
    if code != 0:
        print(f"cargo_tests: building the test binaries failed (exit {code})", file=sys.stderr)
        return code
    return run(args, owners)


if __name__ == "__main__":
    sys.exit(main())
