"""``make test``'s cargo test profile for the plug-in crate test_scaffold.py builds.

native/Cargo.toml's ``[profile.release-tests]`` (the release profile without LTO, incremental)
given to a crate that does not define it: cargo reads a profile from
``CARGO_PROFILE_<NAME>_<KEY>`` and setuptools-rust passes ``SETUPTOOLS_RUST_CARGO_PROFILE`` to
cargo as ``--profile``. Built in hybridbench's target directory, such a crate shares the
dependencies of ``make test``'s cargo test instead of relinking them with fat LTO.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: the profile's name, and its directory under the target directory
NAME = "release-tests"


def env() -> dict[str, str]:
    profile = tomllib.loads((ROOT / "native" / "Cargo.toml").read_text())["profile"][NAME]
    prefix = "CARGO_PROFILE_" + NAME.upper().replace("-", "_") + "_"
    variables = {prefix + key.upper().replace("-", "_"):
                 str(value).lower() if isinstance(value, bool) else str(value)
                 for key, value in profile.items()}
    return {**variables, "SETUPTOOLS_RUST_CARGO_PROFILE": NAME}
