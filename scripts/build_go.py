"""Build the Go engine's server into the package, as setup.py's build_py step does.

    python scripts/build_go.py

`make install` builds hybridbench with HYBRIDBENCH_SKIP_GO=1 and then runs this, so that the
Go build is a timed stage of its own. The same `backends/grpc/_gobuild.py` does the work, with
the installed hybridbench's version stamped in, as in a pip build; without `go` on PATH (or on
a failed build) it writes why, which `grpc-go` reports as its unavailability.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import sys
from pathlib import Path

GOBUILD = Path(__file__).resolve().parent.parent / "backends" / "grpc" / "_gobuild.py"

if __name__ == "__main__":
    spec = importlib.util.spec_from_file_location("_hybridbench_gobuild", GOBUILD)
    assert spec is not None and spec.loader is not None
    gobuild = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gobuild)
    built = gobuild.build(version=importlib.metadata.version("hybridbench"))
    print(built or gobuild.problem_path().read_text().strip())
    sys.exit(0)  # optional, as in setup.py: the reason is recorded, the install goes on
