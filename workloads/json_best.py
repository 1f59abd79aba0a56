"""The ``json`` workload's best Python engine (what ``inproc-best`` runs): msgspec.

Most of a document is passed through untouched (items, shipping, notes, ``meta``), so this
engine never turns it into Python objects: msgspec keeps every order's values as
``msgspec.Raw`` (the exact bytes of the input) and writes them back verbatim, and decodes
only the fields the transform reads, into typed ``msgspec.Struct`` s whose other fields are
skipped by the parser.

Two msgspec passes over the orders, each one call:

1. *typed*: ``list[Order]`` (``id: int``, ``status: str``, ``customer: Customer(tier: str)``,
   ``items: list[Item(qty, price: float)]``, ``tags: list[str]``). msgspec is strict
   (no bool for a number or an integer, no float for an integer), so this pass is also the
   schema check of every order, cancelled ones included;
2. *raw*: ``list[dict[str, Raw]]``: each order's keys, in input order, duplicates resolved
   last-wins like the typed pass, with the values as raw bytes. A kept order is written back as
   that dict with ``tags`` replaced and ``total`` and ``item_count`` set, so unknown keys and
   their values come out as they came in.

msgspec does not validate what it skips or keeps raw, so four guards on the whole body come
first (numpy masks over its bytes), and anything they flag runs ``fast`` (orjson) instead,
which gives the reference's answer or its error: the body must be valid UTF-8 (only its
non-ASCII runs are decoded); it must not contain a ``\\u`` escape of a UTF-16 surrogate
(``\\uD8``..``\\uDF``: a lone one must be rejected), a digit followed by ``e``/``E`` (a
passed-through ``1e400`` must be rejected) or 19 digits in a row (an integer beyond 64 bits is
orjson's to judge). The guards also flag some harmless bodies (a string holding ``"1e5"``, a
``\\u00e9`` escape): those take the slower, equally correct path. Any msgspec error (a
document nested deeper than the interpreter's recursion limit included) and an ``id`` outside
the signed 64-bit range also fall back to ``fast``, so every invalid body is rejected with
exactly ``fast``'s message.

Measured at 1MB on the 2-vCPU machine shared with four other jobs (load ~4.6), interleaved,
median process CPU time of 40 calls each (wall time was too disturbed by the load), every
output verified:

* ``fast`` (``inproc``: orjson loads, the transform on dicts, orjson dumps): 40.4 ms;
* this engine: 20.8 ms (1.9x), of which its three decodes take 10.4 ms and the guards 2.3 ms
  (over four such runs in an hour the ratio ranged from 1.6x to 1.9x);
* msgspec without types (``msgspec.json.decode``, the same dict transform, ``encode``):
  42.9 ms, no faster than orjson: the win is in not building the passed-through values;
* one raw pass first, then each needed field of every order joined into one array and
  decoded typed (five calls): 11.7 ms of decoding against 10.4 ms for the two passes here;
* (an earlier, wall-clock run at load ~5.5: ``fast`` 25.1 ms, this engine before its loop was
  tightened 14.7 ms; the number guards as ``bytes.translate`` plus substring searches took
  6.9 ms there, against 1.7 ms for all four guards as numpy masks);
* the lead's first attempt for issue 13, one msgspec call per field of every order, as the
  issue's brief reports it: 235 ms against orjson's 150 ms on a loaded machine, which is why
  the fields of all orders are decoded by two calls here.
"""

from __future__ import annotations

import functools
import math
import operator

import msgspec
import numpy as np

from hybridbench.limits import check_payload_size
from hybridbench.workloads.json_orders import check_summary

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
#: more digits in a row than any 64-bit integer has: orjson's to judge
_LONG_DIGIT_RUN = 19
_BACKSLASH, _U, _D = ord("\\"), ord("u"), ord("d")
_LOWER_E = ord("e")
#: the spec's order: total descending, then id ascending (a stable sort, like the reference's)
_BY_TOTAL_THEN_ID = operator.itemgetter(0, 1)
_SURROGATE_SECOND = np.frombuffer(b"89abcdefABCDEF", np.uint8)


class Item(msgspec.Struct):
    # msgspec reads an integer into a float field as float(integer) does (correctly rounded)
    # and refuses booleans, so the schema check and the spec's float(qty) are one step
    qty: float
    price: float


class Customer(msgspec.Struct):
    tier: str


class Order(msgspec.Struct):
    id: int
    status: str
    customer: Customer
    items: list[Item]
    tags: list[str]


class Document(msgspec.Struct):
    orders: msgspec.Raw


class Fallback(Exception):
    """This body is ``fast``'s to answer (invalid, or outside what the guards vouch for)."""


@functools.cache
def _decoders() -> tuple[msgspec.json.Decoder, ...]:
    return (msgspec.json.Decoder(dict[str, msgspec.Raw]), msgspec.json.Decoder(list[Order]),
            msgspec.json.Decoder(list[dict[str, msgspec.Raw]]))


def _check_guards(payload: bytes) -> None:
    """Raise ``Fallback`` unless msgspec's raw passthrough is safe for this body."""
    data = np.frombuffer(payload, np.uint8)
    digit = (data - ord("0")) < 10  # uint8 arithmetic: bytes below "0" wrap round to >= 208
    if (not _is_utf8(data) or _has_exponent(data, digit) or _has_long_digit_run(digit)
            or _has_surrogate_escape(data)):
        raise Fallback


def _is_utf8(data: np.ndarray) -> bool:
    """Whether the body is valid UTF-8, decoding only its non-ASCII bytes: every byte of a
    multi-byte sequence is >= 0x80, so the body is valid exactly when each maximal run of such
    bytes is; the runs are decoded at once, each followed by the ASCII byte that ended it."""
    high = data >= 0x80
    if not high.any():
        return True
    keep = high.copy()
    keep[1:] |= high[:-1]
    try:
        data[keep].tobytes().decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _has_exponent(data: np.ndarray, digit: np.ndarray) -> bool:
    """A digit followed by ``e`` or ``E`` (in JSON an exponent always follows a digit)."""
    return bool((digit[:-1] & ((data[1:] | 0x20) == _LOWER_E)).any())


def _has_long_digit_run(digit: np.ndarray) -> bool:
    """``_LONG_DIGIT_RUN`` digits in a row: ``run[i]`` says ``width`` digits start at ``i``,
    doubled by shifted ANDs (a few passes over the body instead of a pass per run)."""
    run, width = digit, 1
    while width < _LONG_DIGIT_RUN:
        step = min(width, _LONG_DIGIT_RUN - width)
        run, width = run[:-step] & run[step:], width + step
    return bool(run.any())


def _has_surrogate_escape(data: np.ndarray) -> bool:
    """``\\uD800``..``\\uDFFF`` (either case) anywhere; an escaped backslash followed by
    such text is flagged too, which only costs the slower path."""
    at = np.flatnonzero(data[:-3] == _BACKSLASH)
    if not len(at):
        return False
    return bool(((data[at + 1] == _U) & ((data[at + 2] | 0x20) == _D)
                 & np.isin(data[at + 3], _SURROGATE_SECOND)).any())


def _transform(payload: bytes) -> bytes:
    top_decoder, typed_decoder, raw_decoder = _decoders()
    top = top_decoder.decode(payload)
    if "orders" not in top:
        raise Fallback
    orders_json = top["orders"]
    typed = typed_decoder.decode(orders_json)
    raw = raw_decoder.decode(orders_json)
    kept: list[tuple[float, int, str, dict[str, object]]] = []
    for order, fields in zip(typed, raw, strict=True):
        if not _INT64_MIN <= order.id <= _INT64_MAX:
            raise Fallback
        if order.status == "cancelled":
            continue
        total = 0.0
        for item in order.items:  # in item order, from 0.0, as the spec fixes it
            total += item.qty * item.price
        if not math.isfinite(total):
            raise Fallback  # `fast` names the order in the spec's words
        fields["total"] = total
        fields["item_count"] = len(order.items)
        fields["tags"] = list(map(str.lower, order.tags))
        kept.append((-total, order.id, order.customer.tier, fields))
    kept.sort(key=_BY_TOTAL_THEN_ID)
    revenue = 0.0
    by_tier: dict[str, float] = {}
    for negative_total, _, tier, _ in kept:
        revenue -= negative_total
        by_tier[tier] = by_tier.get(tier, 0.0) - negative_total
    check_summary(revenue, by_tier)  # the same sums in the same order as `fast`'s
    top["orders"] = [entry[3] for entry in kept]
    top["summary"] = {"count": len(kept), "revenue": revenue, "revenue_by_tier": by_tier}
    return msgspec.json.encode(top)


def run(payload: bytes, fast) -> bytes:  # type: ignore[no-untyped-def]
    """The answer for ``payload``; ``fast`` (the orjson engine) answers what this cannot."""
    check_payload_size("json", len(payload))
    try:
        _check_guards(payload)
        return _transform(payload)
    except (Fallback, msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        # RecursionError: msgspec guards its stack with the interpreter's recursion limit
        return fast(payload)
