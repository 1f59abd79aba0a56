"""``hybridbench new``: the project it writes, and where it finds the SDK it builds on.

The end-to-end test (the scaffolded crate built, installed, its own tests run and measured on
inproc, ffi, grpc and grpc-py) is tests/test_wheel.py's: it scaffolds from the SDK copy an
installed wheel carries, which is how a user outside the checkout gets it, and building one
plug-in once keeps ``make test`` within its budget (issue 22). The build reuses hybridbench's
cargo target directory with the template's release profile, hybridbench's own (no LTO, checked
equal in ``test_the_project_is_complete_and_filled_in``), so only the SDK and the plug-in crate
compile.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from hybridbench import cli, scaffold
from hybridbench.scaffold import Names, ScaffoldError, _sources

ROOT = Path(__file__).resolve().parent.parent


def test_names_follow_from_the_workload_name():
    names = Names.of("word-count")
    assert (names.package, names.crate, names.lib, names.server) == (
        "word_count", "word-count-kernels", "word_count_kernels", "word-count-server")


@pytest.mark.parametrize("bad", ["", "X", "1abc", "a", "a--b", "ab-", "ab c", "ab_c", "é" * 3,
                                 "a" * 40, "../x"])
def test_bad_names_are_refused_with_the_rule(bad):
    with pytest.raises(ScaffoldError, match="invalid name"):
        Names.of(bad)


def test_the_project_is_complete_and_filled_in(tmp_path):
    target = scaffold.create("wordfreq", tmp_path / "wf")
    files = {str(p.relative_to(target)) for p in target.rglob("*") if p.is_file()}
    assert {"pyproject.toml", "setup.py", "README.md", "wordfreq/__init__.py",
            "wordfreq/workload.py", "wordfreq/native.py", "rust/Cargo.toml", "rust/Cargo.lock",
            "rust/src/lib.rs", "rust/src/bin/server.rs", "tests/test_wordfreq.py"} <= files
    for name in files:
        text = (target / name).read_text()
        assert "${" not in text and "__pkg__" not in text, name
    assert f'path = "{scaffold.sdk_dir()}"' in (target / "rust" / "Cargo.toml").read_text()
    # the plug-in ships with hybridbench's own release profile (and so shares its build);
    # hybridbench's per-package settings name crates only its idiomatic library depends on
    ours = tomllib.loads((ROOT / "native" / "Cargo.toml").read_text())["profile"]["release"]
    ours.pop("package", None)
    theirs = tomllib.loads((target / "rust" / "Cargo.toml").read_text())["profile"]
    assert theirs["release"] == ours
    for name in files:
        if name.endswith(".py"):
            compile((target / name).read_text(), name, "exec")


def test_an_existing_directory_is_not_overwritten(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(ScaffoldError, match="not empty"):
        scaffold.create("wordfreq", tmp_path)
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_cli_new_reports_errors_without_a_traceback(tmp_path, capsys):
    assert cli.main(["new", "Bad_Name", "--dir", str(tmp_path / "x")]) == 2
    assert "invalid name" in capsys.readouterr().out
    assert cli.main(["new", "okname", "--dir", str(tmp_path / "y")]) == 0
    assert "pip install -e" in capsys.readouterr().out


def test_the_example_workload_agrees_with_itself(tmp_path):
    """The Python engines of the template agree on generated and awkward inputs (the Rust
    twin is checked against them in the end-to-end test)."""
    target = scaffold.create("wordfreq", tmp_path / "wf")
    sys.path.insert(0, str(target))
    try:
        from wordfreq import workload  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(target))
    wl = workload.WORKLOAD
    for size in wl.size_names():
        payload = wl.make_input(size)
        assert abs(len(payload) - workload.SIZES[size]) < 20
        assert wl.fast(payload) == wl.reference(payload) != b""
    for payload in [b"", b"A a a\tB b", "Straße 42 café".encode(), b"x" * 10_000]:
        assert wl.fast(payload) == wl.reference(payload)
    with pytest.raises(ValueError, match=r"not valid UTF-8 \(at byte 2\)"):
        wl.reference(b"ab\xe2\x82")
    sys.modules.pop("wordfreq.workload", None)
    sys.modules.pop("wordfreq", None)


# -- where the Rust sources come from: the checkout, or the package's own copy ------------------

def _features_by_package(manifest: Path, *packages: str) -> dict[str, set[str]]:
    """{"name version": {its feature sets}} of what ``cargo build`` of ``packages`` (default:
    the manifest's) compiles, build dependencies included, from ``cargo tree`` (no build)."""
    selected = [arg for package in packages for arg in ("-p", package)]
    tree = subprocess.run(["cargo", "tree", "--offline", "--manifest-path", str(manifest),
                           *selected, "-e", "normal,build", "--prefix", "none",
                           "--format", "{p}|{f}"],
                          capture_output=True, text=True, timeout=120)
    assert tree.returncode == 0, tree.stderr[-3000:]
    found: dict[str, set[str]] = {}
    for line in tree.stdout.splitlines():
        package, _, features = line.partition("|")
        name_version = " ".join(package.split()[:2])
        found.setdefault(name_version, set()).add(features.split(" (")[0])
    return found


@pytest.mark.skipif(shutil.which("cargo") is None, reason="cargo is not on PATH")
def test_a_plugin_compiles_its_dependencies_as_the_install_does(tmp_path):
    """Every crate a plug-in's build shares with the install's (kernels and idiomatic) gets the
    same features, hence the same compiled unit: a plug-in built in hybridbench's target
    directory compiles only itself and the SDK. A feature the kernel crates turn on and the
    SDK does not ask for (native/sdk/Cargo.toml lists them) shows here by name."""
    project = scaffold.create("sharing", tmp_path / "sharing")
    plugin = _features_by_package(project / "rust" / "Cargo.toml")
    install = _features_by_package(ROOT / "native" / "Cargo.toml", "hybridbench-kernels",
                                   "hybridbench-idiomatic")
    differ = {package: (features, install[package]) for package, features in plugin.items()
              if package in install and features != install[package]}
    assert not differ, f"a plug-in compiles these with other features than the install: {differ}"
    assert set(plugin) - set(install) == {"sharing-kernels v0.1.0"}


def test_a_checkout_finds_its_own_sources():
    assert scaffold.sources_root() in (ROOT, ROOT / "hybridbench" / _sources.PACKAGED_DIR)
    assert (scaffold.sdk_dir() / "Cargo.toml").is_file()


def test_the_packaged_copy_has_the_checkout_layout_and_stands_alone(tmp_path):
    copy = tmp_path / "data"
    written = _sources.copy_into(ROOT, copy)
    relative = {p.relative_to(copy) for p in written}
    assert {_sources.SDK / "Cargo.toml", _sources.SDK / "build.rs", _sources.HEADER,
            _sources.LOCKFILE, _sources.PROTO, _sources.SDK / "src" / "lib.rs"} <= relative
    assert not any(part in {"tests", "target"} for path in relative for part in path.parts)
    assert (copy / _sources.HEADER).read_bytes() == (ROOT / _sources.HEADER).read_bytes()
    manifest = tomllib.loads((copy / _sources.SDK / "Cargo.toml").read_text())
    workspace = tomllib.loads((ROOT / "native" / "Cargo.toml").read_text())
    for key in ("version", "edition", "license"):
        assert manifest["package"][key] == workspace["workspace"]["package"][key]
    # the build script finds the proto the way it does in a checkout
    assert (copy / _sources.SDK / "../../proto/hybridbench.proto").resolve().is_file()
    if shutil.which("cargo"):
        meta = subprocess.run(["cargo", "metadata", "--no-deps", "--offline", "--format-version",
                               "1", "--manifest-path", str(copy / _sources.SDK / "Cargo.toml")],
                              capture_output=True, text=True, timeout=60)
        assert meta.returncode == 0, meta.stderr
        (package,) = json.loads(meta.stdout)["packages"]
        assert (package["name"], package["version"]) == ("hybridbench-sdk", "0.1.0")


def test_the_packaged_copy_comes_first_and_scaffolds(tmp_path, monkeypatch):
    """An installed wheel: the copy inside the package is what a new project builds on."""
    copy = tmp_path / "data"
    _sources.copy_into(ROOT, copy)
    monkeypatch.setattr(scaffold, "_packaged_root", lambda: copy)
    assert scaffold.sdk_dir() == copy / _sources.SDK
    target = scaffold.create("wordfreq", tmp_path / "wf")
    assert f'path = "{copy / _sources.SDK}"' in (target / "rust" / "Cargo.toml").read_text()
    assert (target / "rust" / "Cargo.lock").read_text() == (copy / _sources.LOCKFILE).read_text()


def test_without_the_sdk_new_says_where_it_looked(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(scaffold, "_packaged_root", lambda: tmp_path / "data")
    monkeypatch.setattr(scaffold, "_checkout_root", lambda: tmp_path / "checkout")
    with pytest.raises(ScaffoldError, match=r"the Rust SDK crate is in neither .*data/native/sdk "
                                            r"nor .*checkout/native/sdk"):
        scaffold.sdk_dir()
    assert cli.main(["new", "okname", "--dir", str(tmp_path / "y")]) == 2
    assert "the Rust SDK crate is in neither" in capsys.readouterr().out


def test_a_manifest_field_the_workspace_lacks_is_named():
    manifest = '[package]\nname = "x"\nversion.workspace = true\nreadme.workspace = true\n'
    workspace = '[workspace.package]\nversion = "1.2.3"\n'
    with pytest.raises(_sources.SourcesError, match="inherits readme"):
        _sources.standalone_manifest(manifest, workspace)
    fixed = _sources.standalone_manifest(manifest.replace("readme.workspace = true\n", ""),
                                         workspace)
    assert tomllib.loads(fixed)["package"]["version"] == "1.2.3"


# -- end to end: build, install, test, measure --------------------------------------------------
