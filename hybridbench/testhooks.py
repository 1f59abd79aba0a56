"""A test-only way to stop the harness at a named phase, so that a test can send a signal at
exactly that moment instead of sleeping and hoping.

``HYBRIDBENCH_TEST_PAUSE`` holds a JSON object ``{PHASE: MARKER_PATH, ...}``. A process that
reaches a listed phase writes its PID to the marker file and waits until the test deletes it
(at most ``MAX_PAUSE_S``), once per phase. Unset, as everywhere outside the tests, ``pause``
is one environment look-up. The phases:

* ``worker done``: the runner, after the first worker of the run returned its figures;
* ``cold-start``: the cold-start child, inside its timed span (after ``start()``);
* ``write NAME``: a file named NAME written in full to its temporary name, before the
  rename that makes it visible (``results.write_atomic``).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

ENV = "HYBRIDBENCH_TEST_PAUSE"
MAX_PAUSE_S = 60.0

_paused: set[str] = set()


def pause(phase: str) -> None:
    """Wait here while the test acts, if the test asked for this phase."""
    spec = os.environ.get(ENV)
    if not spec or phase in _paused:
        return
    marker = json.loads(spec).get(phase)
    if marker is None:
        return
    _paused.add(phase)
    path = Path(marker)
    path.write_text(str(os.getpid()))
    deadline = time.monotonic() + MAX_PAUSE_S
    while path.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
