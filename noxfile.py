"""nox sessions: tests, lint, one benchmark session per backend, the report, and asv.

    nox -s tests                 # the test suite
    nox -s lint                  # ruff + mypy, as `make lint` runs them
    nox -s bench-ffi -- --quick  # one backend on every workload; extra args go to `hybridbench run`
    nox -s report                # every results/*.json into reports/all.html
    nox -s asv -- run --quick    # asv in its own environments
    nox -s asv -- continuous main HEAD   # a branch against main

Each session installs what it needs itself, pillow-simd last wherever PIL is used: anything
depending on plain "pillow" (matplotlib does) would otherwise replace it (DESIGN.md).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import nox

nox.options.sessions = ["tests", "lint"]
nox.options.reuse_existing_virtualenvs = True
PYTHON = "3.11"
PYPROJECT = tomllib.loads((Path(__file__).parent / "pyproject.toml").read_text("utf-8"))


def registered_backends() -> list[str]:
    """The backends pyproject.toml registers (the registry's entry points, read from the file:
    nox runs before hybridbench is installed), so that a new backend gets its session."""
    return list(PYPROJECT["project"]["entry-points"]["hybridbench.backends"])


BACKENDS = registered_backends()
#: backends that need no Rust: their sessions skip the Rust build (the Go server of grpc-go is
#: built by every install that finds `go` on PATH); tests/test_noxfile.py checks they exist
PYTHON_ONLY = {"inproc", "inproc-best", "inproc-pure", "grpc-go"}


def install(session: nox.Session, *extras: str, native: bool = True) -> None:
    env = {} if native else {"HYBRIDBENCH_SKIP_NATIVE": "1"}
    target = f".[{','.join(extras)}]" if extras else "."
    session.install("-e", target, env=env)
    session.install("--force-reinstall", "--no-deps", "--no-cache-dir", "pillow-simd")


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    install(session, "dev")
    session.run("pytest", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    install(session, "dev")
    # the same checks as `make lint`'s Python part: mypy's files are pyproject's [tool.mypy]
    session.run("ruff", "check", ".")
    session.run("mypy")


def _bench(session: nox.Session, backend: str) -> None:
    install(session, native=backend not in PYTHON_ONLY)
    session.run("hybridbench", "run", "-b", backend, "-o", f"results/{backend}.json",
                "--report", f"reports/{backend}.html", *session.posargs)


for _name in BACKENDS:
    nox.session(python=PYTHON, name=f"bench-{_name}")(
        lambda session, _backend=_name: _bench(session, _backend))


@nox.session(python=PYTHON)
def report(session: nox.Session) -> None:
    install(session, native=False)
    import glob

    files = sorted(glob.glob("results/*.json"))
    if not files:
        session.error("no results/*.json yet: run a bench-* session first")
    session.run("hybridbench", "report", *files, "-o", "reports/all.html",
                "--markdown", "reports/summary.md")


@nox.session(python=PYTHON)
def asv(session: nox.Session) -> None:
    session.install("asv", "virtualenv")
    session.run("asv", "machine", "--yes")
    session.run("asv", *(session.posargs or ["run", "--quick"]))
