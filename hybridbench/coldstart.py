"""Cold start, measured in a fresh interpreter so that nothing is already loaded or warm.

The parent writes the payload to a file and runs ``python -m hybridbench.coldstart SPEC``;
the child resolves the backend class, then times ``start()`` (dlopen, or server spawn) up to
the first answer, verifies that answer, and prints one JSON line. Interpreter start-up and
imports of hybridbench itself are outside the timed span; importing the backend's own
extension modules happens in ``start()`` for the built-ins, and so is inside it.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from hybridbench import allocators

TIMEOUT_S = 120.0


def measure(backend: str, workload: str, payload: bytes, options: dict[str, Any],
            allocator: str | None = None) -> float:
    """Seconds from ``start()`` to the first verified answer; raises RuntimeError on failure.
    Under ``allocator`` (``hybridbench.allocators``), as the cell's workers and servers ran:
    a fresh process's heap is part of what a cold start costs."""
    with tempfile.NamedTemporaryFile(prefix="hb-cold-", suffix=".bin", delete=False) as handle:
        handle.write(payload)
        payload_file = handle.name
    spec = json.dumps({"backend": backend, "workload": workload, "payload_file": payload_file,
                       "options": options})
    try:
        # A session of its own, so that a hung child and anything it spawned can be killed.
        env = allocators.child_env(allocator) if allocator else None
        child = subprocess.Popen([sys.executable, "-m", "hybridbench.coldstart", spec],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 start_new_session=True, env=env)
        try:
            out, err = child.communicate(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            _kill_group(child)
            raise RuntimeError(f"cold start did not finish within {TIMEOUT_S:.0f} s") from None
        except BaseException:
            # Ctrl-C or SIGTERM: kill the child's group, then let the interrupt go on.
            _kill_group(child)
            raise
    finally:
        Path(payload_file).unlink(missing_ok=True)
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if child.returncode != 0 or not lines:
        tail = (err.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"cold start child failed (exit {child.returncode}): {tail}")
    report = json.loads(lines[-1])
    if report.get("error"):
        raise RuntimeError(f"cold start: {report['error']}")
    if allocator and str(report.get("allocator")).startswith("NOT "):
        raise RuntimeError(f"cold start did not run under {allocator}: {report['allocator']}")
    return float(report["cold_start_s"])


def _kill_group(child: subprocess.Popen[str]) -> None:
    """Kill the child's process group and reap the child, if anything is left of it.

    An interrupt in the last moments of a measurement can arrive after the child exited and
    was reaped: ``killpg`` then raises ProcessLookupError, which must not replace the
    interrupt being handled (the runner saves the cells measured so far on KeyboardInterrupt).
    """
    with contextlib.suppress(ProcessLookupError):  # the whole group is gone already
        os.killpg(child.pid, signal.SIGKILL)
    child.communicate()


def _child(spec: dict[str, Any]) -> dict[str, Any]:
    import hybridbench
    from hybridbench import testhooks
    from hybridbench.registry import backend_class

    payload = Path(spec["payload_file"]).read_bytes()
    cls = backend_class(spec["backend"])
    backend = cls(**spec["options"])
    try:
        t0 = time.perf_counter()
        backend.start()
        testhooks.pause("cold-start")
        output = backend.run(spec["workload"], payload)
        elapsed = time.perf_counter() - t0
        hybridbench.verify(spec["workload"], payload, output)
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    finally:
        backend.stop()
    name = os.environ.get(allocators.ENV_NAME)
    return {"cold_start_s": elapsed, "error": None,
            "allocator": allocators.check_process(os.getpid(), name) if name else None}


if __name__ == "__main__":
    print(json.dumps(_child(json.loads(sys.argv[1]))), flush=True)
