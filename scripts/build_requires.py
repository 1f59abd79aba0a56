"""Print the build requirements of pyproject.toml's [build-system], one argument each.

    pip install $(python scripts/build_requires.py)

`make install` puts them into the venv so that it can build hybridbench without pip's build
isolation (a fresh environment filled with them for every build); read from pyproject.toml so
that the list is written in one place.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"

if __name__ == "__main__":
    requires = tomllib.loads(PYPROJECT.read_text())["build-system"]["requires"]
    # no spaces in a requirement: the shell splits this output into one argument each
    print(" ".join(requires))
