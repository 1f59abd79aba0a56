"""Fuzzing with Hypothesis: no input makes a Python engine or the result-file loader fail in
any other way than the one its contract names.

* every registered workload's ``reference``, ``fast`` and ``best``, on arbitrary bytes and on
  mutations of a valid body (its smallest preset): a WorkloadError, or an output that verifies
  against the reference's (so ``fast`` and ``best`` accept exactly what the reference
  accepts), and ``best`` rejects with ``fast``'s message; for ``thumbnail``, whose engines may
  decode at other scales, a mutated body's outputs are compared by size;
* the result-file loader, on arbitrary bytes, arbitrary JSON and mutations of a real result
  file: a ResultFileError, or a loaded result that can be written again.

Brief by default (``FUZZ_EXAMPLES`` cases a test, a few seconds); ``HB_FUZZ_LONG=1`` runs
``LONG_EXAMPLES`` a test, ``HB_FUZZ_EXAMPLES=N`` exactly N (README, "Fuzzing").
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hybridbench import registry, results
from hybridbench.errors import WorkloadError

FUZZ_EXAMPLES = 40
LONG_EXAMPLES = 5_000
EXAMPLES = int(os.environ.get("HB_FUZZ_EXAMPLES")
               or (LONG_EXAMPLES if os.environ.get("HB_FUZZ_LONG") == "1" else FUZZ_EXAMPLES))

FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

WORKLOADS = registry.workload_names()
SAMPLE = Path(__file__).parent / "data" / "sample-results.json"


def _valid_body(workload: str) -> bytes:
    wl = registry.get_workload(workload)
    return wl.make_input(wl.size_names()[0], seed=0)


@st.composite
def mutated(draw: st.DrawFn, body: bytes) -> bytes:
    """``body`` with a few bytes replaced, removed or inserted, or cut short."""
    data = bytearray(body)
    for _ in range(draw(st.integers(1, 8))):
        where = draw(st.integers(0, max(len(data) - 1, 0)))
        # mostly same-length changes: a body of fixed layout (timeseries) then gets past its
        # length check
        action = draw(st.sampled_from(["replace"] * 4 + ["delete", "insert", "truncate"]))
        if action == "replace" and data:
            data[where] = draw(st.integers(0, 255))
        elif action == "delete":
            del data[where:where + draw(st.integers(1, 16))]
        elif action == "insert":
            data[where:where] = draw(st.binary(min_size=1, max_size=16))
        else:
            del data[where:]
    return bytes(data)


def _engines(workload: str) -> list[tuple[str, Any]]:
    """The engines held to the reference: ``fast`` and, where it can run here, ``best``."""
    wl = registry.get_workload(workload)
    engines = [("fast", wl.fast)]
    if not wl.best_unavailable():
        engines.append(("best", wl.best))
    return engines


def _outcome(engine: Any, payload: bytes) -> bytes | str:
    """The engine's output, or the message it rejected the body with (without the object
    addresses some library messages carry, e.g. Pillow's ``<_io.BytesIO object at 0x...>``)."""
    try:
        return engine(payload)
    except WorkloadError as exc:
        return re.sub(r" at 0x[0-9a-f]+", "", str(exc))


#: workloads whose engines may decode at different scales: on a corrupt stream that libjpeg
#: still decodes, the recovered garbage depends on the scale (workloads/thumbnail.py,
#: "Verification"), so on mutated bodies their outputs are compared by size only
SCALE_DEPENDENT_RECOVERY = {"thumbnail"}


def _same_size(workload: str, output: bytes, expected: bytes) -> None:
    from hybridbench.workloads import image

    got, want = image.decode_rgb(output, "output"), image.decode_rgb(expected, "reference")
    assert got.shape == want.shape, f"{workload}: {got.shape} instead of {want.shape}"


def check_engines(workload: str, payload: bytes, mutated: bool = False) -> None:
    """The contract: WorkloadError from every engine, or outputs that verify; ``best``
    rejects with ``fast``'s words."""
    wl = registry.get_workload(workload)
    try:
        expected = wl.reference(payload)
    except WorkloadError:
        expected = None
    if expected is not None:
        wl.verify(payload, expected, expected)
    outcomes = {name: _outcome(engine, payload) for name, engine in _engines(workload)}
    for name, output in outcomes.items():
        if isinstance(output, str):
            assert expected is None, f"{name} rejects a body the reference accepts: {output}"
        else:
            assert expected is not None, f"{name} accepts a body the reference rejects"
            if mutated and workload in SCALE_DEPENDENT_RECOVERY:
                _same_size(workload, output, expected)
            else:
                wl.verify(payload, output, expected)
    if isinstance(outcomes["fast"], str) and "best" in outcomes:
        assert outcomes["best"] == outcomes["fast"], "best and fast reject with other words"


@pytest.mark.parametrize("workload", WORKLOADS)
@FUZZ
@given(payload=st.binary(max_size=4096))
def test_engines_on_arbitrary_bytes(workload: str, payload: bytes) -> None:
    check_engines(workload, payload)


@pytest.mark.parametrize("workload", WORKLOADS)
@FUZZ
@given(data=st.data())
def test_engines_on_mutated_valid_bodies(workload: str, data: st.DataObject) -> None:
    check_engines(workload, data.draw(mutated(_valid_body(workload))), mutated=True)


# -- the result-file loader ---------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**64) | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner,
                                                                 max_size=5),
    max_leaves=30)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON document, the root included."""
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


def _replaced(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    copy = dict(document) if isinstance(document, dict) else list(document)
    copy[head] = _replaced(document[head], rest, value)
    return copy


def check_loads(tmp_path: Path, raw: bytes) -> None:
    """The contract: a ResultFileError, or a result that can be written again."""
    path = tmp_path / "fuzzed.json"
    path.write_bytes(raw)
    try:
        loaded = results.load(path)
    except results.ResultFileError:
        return
    orjson.loads(results.dumps(loaded))


@FUZZ
@given(raw=st.binary(max_size=512))
def test_loader_on_arbitrary_bytes(tmp_path_factory, raw: bytes) -> None:
    check_loads(tmp_path_factory.mktemp("fuzz"), raw)


@FUZZ
@given(document=json_values)
def test_loader_on_arbitrary_json(tmp_path_factory, document: Any) -> None:
    check_loads(tmp_path_factory.mktemp("fuzz"), json.dumps(document).encode())


@FUZZ
@given(data=st.data())
def test_loader_on_mutated_result_files(tmp_path_factory, data: st.DataObject) -> None:
    document = orjson.loads(SAMPLE.read_bytes())
    for _ in range(data.draw(st.integers(1, 3))):
        where = data.draw(st.sampled_from(_paths(document)))
        document = _replaced(document, where, data.draw(json_values))
    check_loads(tmp_path_factory.mktemp("fuzz"), json.dumps(document).encode())
