"""Build the Go engine's server into the package, as setup.py's build_py step does.

    python scripts/build_go.py

`make install` builds hybridbench with HYBRIDBENCH_SKIP_GO=separate and runs this, so that the
Go build is a timed stage of its own (run beside the Rust build, whose pip step reinstalls
hybridbench's metadata: so the version comes from pyproject.toml, not from the installed
package). The same `backends/grpc/_gobuild.py` does the work, with that version stamped in, as
in a pip build; without `go` on PATH (or on
a failed build) it writes why, which `grpc-go` reports as its unavailability.
"""

from __future__ import annotations

import importlib.util
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOBUILD = ROOT / "backends" / "grpc" / "_gobuild.py"

if __name__ == "__main__":
    spec = importlib.util.spec_from_file_location("_hybridbench_gobuild", GOBUILD)
    assert spec is not None and spec.loader is not None
    gobuild = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gobuild)
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    built = gobuild.build(version=version)
    print(built or gobuild.problem_path().read_text().strip())
    sys.exit(0)  # optional, as in setup.py: the reason is recorded, the install goes on
