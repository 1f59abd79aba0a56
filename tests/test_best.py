"""The ``best`` engines (``inproc-best``): the reference's answers on inputs chosen to reach
every path they take (dense and compacted ids, raw passthrough and its fallback, the code
point tables), the reference's errors, and the backend that runs them."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

import hybridbench
from hybridbench import WorkloadError
from hybridbench.registry import get_workload, workload_names
from hybridbench.workloads import json_best, json_orders, text_best, text_fast, timeseries
from hybridbench.workloads import timeseries_best as ts_best


def _batch(ts, host, region, cpu, latency) -> bytes:
    return timeseries.encode_batch(np.asarray(ts, np.int64), np.asarray(host, np.uint32),
                                   np.asarray(region, np.uint16),
                                   np.stack([np.asarray(cpu, float), np.asarray(latency, float)]))


def _assert_same_answer(workload: str, payload: bytes) -> bytes:
    wl = get_workload(workload)
    expected = wl.reference(payload)
    output = wl.best(payload)
    wl.verify(payload, output, expected)
    return output


# -- timeseries ---------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("spread", ["dense", "years apart", "extreme timestamps", "big ids"])
def test_timeseries_best_on_every_key_range(spread: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400))
    ts = rng.integers(-200_000, 200_000, n)
    host = rng.integers(0, 20, n)
    region = rng.integers(0, 4, n)
    if spread == "years apart":  # a window span far above the dense table's limit
        ts = ts * 10**9
    elif spread == "extreme timestamps":
        ts = rng.choice([-(2**63), 2**63 - 1, 0, -1], n)
    elif spread == "big ids":  # host ids in the billions, the largest region
        host = rng.choice([0, 2**32 - 1, 2**31, 7], n)
        region = rng.choice([0, 65535], n)
    cpu = rng.normal(40, 30, n).round(1)  # rounded: ties in min, max and p95
    latency = rng.choice([1.0, 2.0, -3.5, 0.0, 1e300, -1e300], n)
    out = _assert_same_answer("timeseries", _batch(ts, host, region, cpu, latency))
    payload = _batch(ts, host, region, cpu, latency)
    want = timeseries.reference(payload)
    # everything but the mean (any summation order) is exact
    got_g, got_h = timeseries.decode_table(out, "best")
    want_g, want_h = timeseries.decode_table(want, "reference")
    for field in ("window", "region", "count", "min_cpu", "max_cpu", "p95_latency_ms"):
        assert (got_g[field] == want_g[field]).all(), field
    assert got_h.tobytes() == want_h.tobytes()


def test_timeseries_best_takes_the_compacting_paths() -> None:
    # a span above the limit compacts (region, window) pairs; huge host ids compact hosts
    ids, size, keys_of = ts_best._group_ids(np.array([3, 0, 3], np.uint16),
                                            np.array([2**40, -5, -5], np.int64))
    assert ids.tolist() == [2, 0, 1] and size == 3
    regions, windows = keys_of(np.arange(3))
    assert regions.tolist() == [0, 3, 3] and windows.tolist() == [-5, -5, 2**40]
    ids, size, keys_of = ts_best._group_ids(np.array([1, 0], np.uint16),
                                            np.array([7, 9], np.int64))
    assert ids.tolist() == [3, 2] and size == 6  # dense: region * span + window - first
    assert [k.tolist() for k in keys_of(ids)] == [[1, 0], [7, 9]]
    ids, names = ts_best._host_ids(np.array([2**32 - 1, 4, 4], np.uint32))
    assert ids.tolist() == [1, 0, 0] and names.tolist() == [4, 2**32 - 1]


def test_timeseries_best_on_the_edges() -> None:
    empty = _batch([], [], [], [], [])
    assert get_workload("timeseries").best(empty) == timeseries.reference(empty)
    one = _batch([-1], [5], [2], [3.5], [7.0])
    assert get_workload("timeseries").best(one) == timeseries.reference(one)


def test_timeseries_best_accepts_finite_values_whose_sum_overflows() -> None:
    # the metrics' sum overflows (the one-pass finiteness check fails), no group's does
    payload = _batch([0, 0, 0], [1, 2, 3], [0, 1, 2], [1e308, 1e308, 1e308], [1e308] * 3)
    _assert_same_answer("timeseries", payload)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_timeseries_best_names_the_first_non_finite_value(bad: float) -> None:
    metrics = np.ones((4, 6))
    metrics[3, 1] = metrics[2, 4] = bad
    payload = timeseries.encode_batch(np.zeros(6, np.int64), np.zeros(6, np.uint32),
                                      np.zeros(6, np.uint16), metrics)
    with pytest.raises(WorkloadError) as reference_error:
        timeseries.reference(payload)
    with pytest.raises(WorkloadError) as best_error:
        get_workload("timeseries").best(payload)
    assert str(best_error.value) == str(reference_error.value)


# -- json ---------------------------------------------------------------------------------------

ORDER = (b'{"id":1,"status":"paid","customer":{"tier":"gold","x":[1]},'
         b'"items":[{"qty":2,"price":2.5,"sku":"A"}],"tags":["A\xc3\x89"]')


@pytest.mark.parametrize("body", [
    b'{"orders":[' + ORDER + b',"tags":["B"]}],"orders":[' + ORDER + b'}]}',  # last key wins
    b'{"orders":[' + ORDER + b',"items":5,"items":[]}]}',
    b'{"orders":[' + ORDER + b',"total":7,"item_count":9,"zz":{"a":null}}],"summary":1}',
    b'{"orders":[' + ORDER + b',"x":1e400}]}',                         # overflow: rejected
    b'{"orders":[' + ORDER + b',"x":1e-400}]}',                        # underflow: 0.0
    b'{"orders":[' + ORDER + b',"x":123456789012345678901234567890}]}',
    b'{"orders":[' + ORDER + b',"x":"\\ud800"}]}',                     # lone surrogate
    b'{"orders":[' + ORDER + b',"x":"\\uDBFF\\uDC00"}]}',              # a valid pair
    b'{"orders":[' + ORDER + b',"x":"\xff"}]}',                        # invalid UTF-8 raw
    b'{"orders":[' + ORDER + b',"id":9223372036854775808}]}',
    b'{"orders":[' + ORDER + b',"id":true}]}',
    b'{"orders":[' + ORDER + b',"x":NaN}]}',
    b'{"orders":[' + ORDER + b'}]} \x00',
    b'\xef\xbb\xbf{"orders":[]}',
    b'  {"orders":[],"meta":{"k":[1,2,{"z":"\\n"}]}}  ',
    b'[1]', b'', b'{"orders":{}}',
])
def test_json_best_answers_and_rejects_like_fast(body: bytes) -> None:
    wl = get_workload("json")
    try:
        want: object = json.loads(wl.fast(body))
    except WorkloadError as exc:
        with pytest.raises(WorkloadError) as got:
            wl.best(body)
        assert str(got.value) == str(exc)
        return
    assert json.loads(wl.best(body)) == want


@pytest.mark.parametrize("size", ["1KB", "64KB", "1MB"])
def test_json_best_does_the_work_itself_on_generated_documents(size: str) -> None:
    def no_fallback(payload: bytes) -> bytes:
        raise AssertionError("fell back to fast")

    payload = hybridbench.make_input("json", size)
    output = json_best.run(payload, no_fallback)
    hybridbench.verify("json", payload, output)


def test_json_best_keeps_unknown_keys_and_raw_values_verbatim() -> None:
    body = (b'{"z":{"deep":[1.50,"\xc3\xa9"]},"orders":[' + ORDER
            + b',"extra":{"n":1.50}}]}')
    out = json_best.run(body, json_orders.fast)
    assert b'"extra":{"n":1.50}' in out and b'"z":{"deep":[1.50,"\xc3\xa9"]}' in out
    document = json.loads(out)
    assert list(document) == ["z", "orders", "summary"]
    assert document["orders"][0]["tags"] == ["aé"] and document["orders"][0]["total"] == 5.0


def test_json_guards_against_a_brute_force_oracle() -> None:
    rng = np.random.default_rng(3)
    alphabet = np.frombuffer(b'a0912eE\\u"d8fF \xc3\xa9\xff\xed\xa0\x80', np.uint8)
    digit_heavy = np.frombuffer(b"0123456789" * 4 + b" e", np.uint8)
    for case in range(4000):
        letters = alphabet if case % 2 else digit_heavy
        body = rng.choice(letters, int(rng.integers(0, 48))).tobytes()
        data = np.frombuffer(body, np.uint8)
        try:
            body.decode()
            valid = True
        except UnicodeDecodeError:
            valid = False
        assert json_best._is_utf8(data) == valid, body
        longest = max(map(len, re.findall(rb"[0-9]+", body)), default=0)
        assert json_best._has_long_digit_run((data - ord("0")) < 10) == (longest >= 19), body
        exponent = re.search(rb"[0-9][eE]", body) is not None
        assert json_best._has_exponent(data, (data - ord("0")) < 10) == exponent, body
        surrogate = re.search(rb"\\u[dD][89a-fA-F]", body) is not None
        assert json_best._has_surrogate_escape(data) == surrogate, body


def test_json_best_is_unavailable_without_msgspec(monkeypatch) -> None:
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    assert "msgspec" in (get_workload("json").best_unavailable() or "")


# -- text ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("size", ["1doc", "16docs", "64docs"])
def test_text_best_is_byte_identical_to_fast(size: str) -> None:
    payload = hybridbench.make_input("text", size)
    assert text_best.run(payload) == text_fast.run(payload)


def test_text_best_tables_are_the_rules() -> None:
    from hybridbench.workloads import text_rules as rules

    table = text_best._normalised()
    mapping = rules.case_map()
    assert all(int(table[a]) == b for a, b in mapping.items())
    unchanged = np.setdiff1d(np.arange(0x110000), np.fromiter(mapping, dtype=np.int64))
    assert (table[unchanged] == unchanged).all()
    assert text_best._class_of().tobytes() == rules.class_table()


def test_text_best_tokens_never_span_documents() -> None:
    from hybridbench.workloads import text_rules as rules

    payload = rules.encode_batch([b"ab", b"", b"cd", "東".encode(), b"e"])
    assert text_best.run(payload) == text_fast.run(payload)


# -- the backend ---------------------------------------------------------------------------------

def test_backend_describes_which_engine_ran_each_workload() -> None:
    with hybridbench.open_backend("inproc-best", workloads=["json", "echo"]) as backend:
        described = backend.describe()
    assert described["workload_engines"]["json"] == get_workload("json").best_engine
    assert "fast" in described["workload_engines"]["echo"]
    assert set(described["workload_engines"]) == {"json", "echo"}
    assert described["profile"]["tuning"] == "tuned"
    assert described["profile"]["incumbent"] is False
    assert described["article_label"] == "Python only (best found)"
    with hybridbench.open_backend("inproc-best") as backend:
        assert set(backend.describe()["workload_engines"]) == set(workload_names())


def test_backend_says_why_a_workload_is_missing(monkeypatch) -> None:
    wl = get_workload("json")
    monkeypatch.setattr(type(wl), "best_unavailable", lambda self: "no msgspec here")
    with hybridbench.open_backend("inproc-best") as backend:
        assert backend.unsupported_reason("json") == "inproc-best: no msgspec here"
        with pytest.raises(hybridbench.UnsupportedError, match="no msgspec here"):
            backend.run("json", hybridbench.make_input("json", "1KB"))


@pytest.mark.parametrize("depth", [128, 500, 1000, 5000])
def test_json_deep_documents_are_answered_or_rejected_never_crash(depth: int) -> None:
    body = b'{"meta":' + b"[" * depth + b"]" * depth + b',"orders":[]}'
    wl = get_workload("json")
    try:
        expected = wl.reference(body)
    except WorkloadError:
        expected = None
    for engine in (wl.fast, wl.best):  # the spec lets an engine reject beyond 128 levels
        try:
            output = engine(body)
        except WorkloadError as exc:
            assert depth > 128 and ("nested too deeply" in str(exc) or "malformed" in str(exc))
            continue
        assert expected is not None
        wl.verify(body, output, expected)


@pytest.mark.parametrize("rows", [True, False], ids=["padded rows", "argsort"])
def test_timeseries_best_p95_on_both_paths(rows: bool, monkeypatch) -> None:
    if not rows:  # no padding allowed: every batch takes the argsort path
        monkeypatch.setattr(ts_best, "_PADDING_PER_POINT", 0)
        monkeypatch.setattr(ts_best, "_DENSE_SLACK", 0)
    rng = np.random.default_rng(11)
    for _ in range(40):
        n = int(rng.integers(1, 2000))
        region = np.where(rng.random(n) < 0.8, 0, rng.integers(0, 50, n))  # one big group
        latency = rng.choice([1.0, 2.0, -1.0, 1e300, -0.0, 0.0], n)
        payload = _batch(rng.integers(0, 300_000, n), rng.integers(0, 9, n), region,
                         rng.normal(0, 1, n), latency)
        got = timeseries.decode_table(ts_best.run(payload), "best")[0]
        want = timeseries.decode_table(timeseries.reference(payload), "reference")[0]
        assert (got["p95_latency_ms"] == want["p95_latency_ms"]).all()
