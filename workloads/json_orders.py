"""``json``: parse, transform and re-serialize a document of orders with nested arrays.

This docstring is the specification. Every backend (Python, Rust, anything plugged in) computes
exactly this; nobody should need to read the code below to implement it.

Input
-----
UTF-8 JSON text (RFC 8259; ``NaN``/``Infinity`` literals are not JSON and are rejected)::

    {"meta": {...anything...},                       # optional; any other top-level keys too
     "orders": [
       {"id": 17,                                    # integer, fits in a signed 64-bit int
        "status": "paid",                            # string; "cancelled" orders are dropped
        "customer": {"id": 4, "name": "...", "tier": "gold"},   # object; "tier" is a string
        "created": "2026-01-01T10:00:00Z",           # passed through
        "items": [{"sku": "SKU-000001", "qty": 2, "price": 9.99,
                   "dims_cm": [10.0, 4.5, 3.0]}, ...],          # array of objects
        "tags": ["Gift", "Express"],                 # array of strings
        ...any other keys, passed through unchanged...},
       ...]}

Validation (every order, cancelled ones included; any violation is a ``WorkloadError`` whose
message names the problem, e.g. ``orders[3].items[0].qty: expected a number``):

* the body is valid UTF-8 and valid JSON; the top level is an object with an ``orders`` array;
* each order is an object with ``id`` an integer (not a boolean, not a float, within
  [-2**63, 2**63-1]), ``status`` a string, ``customer`` an object whose ``tier`` is a string,
  ``items`` an array of objects each with ``qty`` and ``price`` numbers (integers or floats, not
  booleans), and ``tags`` an array of strings;
* the body is at most 64 MiB (``hybridbench.limits.MAX_PAYLOAD_BYTES``).

Numbers: a number whose magnitude overflows an IEEE-754 double (``1e400``) is rejected
wherever it appears; one that underflows (``1e-400``) reads as 0.0. A computed number that
leaves the double range (finite ``qty`` and ``price`` whose product or sum overflows) is
rejected too, after the order's schema check, naming it: ``orders[i].total: a number is out of
range (overflows a double)``, then ``summary.revenue: ...`` and ``summary.revenue_by_tier:
...`` for the sums of finite totals; JSON has no infinity to write.
Strings: escapes that decode to a lone UTF-16 surrogate (``"\\ud800"``) are rejected.
Nesting depth: at least 128 levels must be accepted; deeper documents may be rejected with a
``WorkloadError``, because every parser guards its stack differently (CPython's recursion limit,
orjson's 1024 levels, serde_json's 128). Generated documents are 5 levels deep. Duplicate keys:
the last one wins.

Transform
---------
1. Drop every order whose ``status`` is exactly ``"cancelled"``.
2. For each remaining order:

   * ``total`` = sum of ``float(qty) * float(price)`` over its items, **in item order, left to
     right, starting from 0.0**, in IEEE-754 double precision without fused multiply-add. This
     makes ``total`` bit-identical in every language, so the sort below is deterministic;
   * ``item_count`` = the number of entries in ``items`` (not the sum of quantities);
   * ``tags`` = each tag lowercased with Unicode default case mapping (Python ``str.lower``,
     Rust ``str::to_lowercase``);
   * every other key is kept as it was (``items`` included, unchanged).

3. Sort the orders by ``total`` descending; equal totals by ``id`` ascending.
4. ``summary`` = ``{"count": number of kept orders, "revenue": sum of their totals,
   "revenue_by_tier": {tier: sum of totals of the kept orders with that tier}}``; sums run over
   the orders in output order. ``revenue_by_tier`` has exactly the tiers of the kept orders.

Output
------
Compact JSON (no insignificant whitespace), UTF-8: the input's top-level object with ``orders``
replaced by the transformed list and a ``summary`` key added (replacing any existing one). Key
order inside objects is free; floats are written in any form that round-trips (shortest repr is
what the built-in engines use).

Verification
------------
Structural: the output parses; objects have the same keys; arrays have the same length and order;
strings, integers and booleans are equal; floats agree to a relative 1e-9 (absolute 1e-9 near
zero). So the order sequence (by id) must match the reference exactly.

Sizes
-----
``1KB``, ``64KB``, ``1MB`` (default), ``8MB``: the generated document is within 15% of the named
size (KB = 1024 bytes, MB = 1024**2 bytes). About 10% of orders are cancelled, and every 25th
order repeats the items of the one before it, so ties in ``total`` exercise the ``id`` tie-break.
"""

from __future__ import annotations

import importlib.util
import json
import math
import random
from typing import Any

import orjson

from hybridbench.errors import VerificationError, WorkloadError
from hybridbench.limits import check_payload_size, oversized_body
from hybridbench.workload import BadInput, SizePreset, Workload

_TARGET_BYTES = {"1KB": 1024, "64KB": 64 * 1024, "1MB": 1024**2, "8MB": 8 * 1024**2}
_TAGS = ["Gift", "EXPRESS", "Fragile", "Bulk", "B2B", "Promo", "Überweisung", "ÉCOLE",
         "International", "Priority", "Repeat-Customer", "ΔΕΛΤΑ"]
_TIERS = ["gold", "silver", "bronze"]
_TIER_WEIGHTS = [1, 3, 6]
_STATUSES = ["new", "paid", "shipped", "cancelled"]
_STATUS_WEIGHTS = [3, 4, 2, 1]
_NAMES = ["Ada", "Grace", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances", "Zoë",
          "José", "Søren", "李"]
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1

# -- input generation -------------------------------------------------------------------------


def _make_items(rng: random.Random) -> list[dict[str, Any]]:
    return [
        {
            "sku": f"SKU-{rng.randrange(1_000_000):06d}",
            "qty": rng.randint(1, 12),
            "price": round(rng.uniform(0.5, 500.0), 2),
            "dims_cm": [round(rng.uniform(1, 80), 1) for _ in range(3)],
            "gift_wrap": rng.random() < 0.1,
        }
        for _ in range(rng.randint(1, 7))
    ]


def _make_order(rng: random.Random, order_id: int, previous: dict[str, Any] | None) -> dict:
    items = previous["items"] if previous is not None and order_id % 25 == 0 else _make_items(rng)
    return {
        "id": order_id,
        "status": rng.choices(_STATUSES, _STATUS_WEIGHTS)[0],
        "customer": {
            "id": rng.randrange(1, 50_000),
            "name": f"{rng.choice(_NAMES)} {rng.choice(_NAMES)}son",
            "tier": rng.choices(_TIERS, _TIER_WEIGHTS)[0],
        },
        "created": f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T"
        f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00Z",
        "items": items,
        "tags": rng.sample(_TAGS, rng.randint(0, 4)),
        "shipping": {
            "method": rng.choice(["ground", "air", "pickup"]),
            "address": {"city": rng.choice(["Lyon", "Kraków", "Osaka", "Austin"]),
                        "zip": f"{rng.randrange(100000):05d}"},
            "parcels": [[rng.randint(1, 5), round(rng.uniform(0.1, 30), 3)]
                        for _ in range(rng.randint(1, 3))],
        },
        "note": None if rng.random() < 0.7 else "Leave at door \"back\"\n\u2014 thanks",
    }


def generate(size: str, seed: int) -> bytes:
    """A document whose compact UTF-8 encoding is within a few percent of the preset's size."""
    target = _TARGET_BYTES[size]
    rng = random.Random(f"json/{size}/{seed}")
    head: dict[str, Any] = {"meta": {"generator": "hybridbench", "seed": seed, "size": size},
                            "orders": []}
    used = len(_dumps(head))
    orders: list[dict[str, Any]] = []
    previous = None
    while True:
        order = _make_order(rng, len(orders) + 1, previous)
        cost = len(_dumps(order)) + 1  # +1 for the comma
        if orders and used + cost > target:
            break
        orders.append(order)
        used += cost
        previous = order
    head["orders"] = orders
    return _dumps(head)


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


# -- validation shared by the Python engines ----------------------------------------------------


def _is_number(value: object) -> bool:
    return type(value) in (int, float)


def check_order(order: object, index: int) -> None:
    """Raise WorkloadError naming the first field of ``orders[index]`` that breaks the schema."""
    where = f"orders[{index}]"
    if not isinstance(order, dict):
        raise WorkloadError(f"{where}: expected an object")
    order_id = order.get("id")
    if type(order_id) is not int:
        raise WorkloadError(f"{where}.id: expected an integer")
    if not _INT64_MIN <= order_id <= _INT64_MAX:
        raise WorkloadError(f"{where}.id: integer out of the 64-bit range")
    if not isinstance(order.get("status"), str):
        raise WorkloadError(f"{where}.status: expected a string")
    customer = order.get("customer")
    if not isinstance(customer, dict):
        raise WorkloadError(f"{where}.customer: expected an object")
    if not isinstance(customer.get("tier"), str):
        raise WorkloadError(f"{where}.customer.tier: expected a string")
    items = order.get("items")
    if not isinstance(items, list):
        raise WorkloadError(f"{where}.items: expected an array")
    for j, item in enumerate(items):
        if not isinstance(item, dict):
            raise WorkloadError(f"{where}.items[{j}]: expected an object")
        for key in ("qty", "price"):
            if not _is_number(item.get(key)):
                raise WorkloadError(f"{where}.items[{j}].{key}: expected a number")
    tags = order.get("tags")
    if not isinstance(tags, list):
        raise WorkloadError(f"{where}.tags: expected an array")
    for j, tag in enumerate(tags):
        if not isinstance(tag, str):
            raise WorkloadError(f"{where}.tags[{j}]: expected a string")


def orders_of(document: object) -> list:
    if not isinstance(document, dict) or not isinstance(document.get("orders"), list):
        raise WorkloadError("expected a JSON object with an 'orders' array at the top level")
    return document["orders"]


def transform(document: dict) -> dict:
    """Apply the transform to a parsed, not yet validated document (in place) and return it."""
    kept = []
    for index, order in enumerate(orders_of(document)):
        check_order(order, index)
        if order["status"] == "cancelled":
            continue
        total = 0.0
        try:
            for item in order["items"]:
                total += float(item["qty"]) * float(item["price"])
        except OverflowError:  # an integer of 309+ digits does not fit a double
            raise WorkloadError(f"orders[{index}].items: a number is out of range "
                                "(overflows a double)") from None
        if not math.isfinite(total):
            raise out_of_range(f"orders[{index}].total")
        order["total"] = total
        order["item_count"] = len(order["items"])
        order["tags"] = [tag.lower() for tag in order["tags"]]
        kept.append(order)
    kept.sort(key=lambda o: (-o["total"], o["id"]))
    revenue = 0.0
    by_tier: dict[str, float] = {}
    for order in kept:
        revenue += order["total"]
        tier = order["customer"]["tier"]
        by_tier[tier] = by_tier.get(tier, 0.0) + order["total"]
    check_summary(revenue, by_tier)
    document["orders"] = kept
    document["summary"] = {"count": len(kept), "revenue": revenue, "revenue_by_tier": by_tier}
    return document


def out_of_range(where: str) -> WorkloadError:
    """A computed number (a total, a sum of totals) that left the double range."""
    return WorkloadError(f"{where}: a number is out of range (overflows a double)")


def check_summary(revenue: float, by_tier: dict[str, float]) -> None:
    """Reject a revenue or a tier's sum that overflowed (finite totals can sum past the range;
    a sum that met an infinite total is never finite, so the totals need no second look)."""
    if not math.isfinite(revenue):
        raise out_of_range("summary.revenue")
    if not all(map(math.isfinite, by_tier.values())):
        raise out_of_range("summary.revenue_by_tier")


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


def reference(payload: bytes) -> bytes:
    """The reference engine: standard library ``json`` (this is what ``inproc-pure`` runs)."""
    check_payload_size("json", len(payload))
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WorkloadError(f"json: input is not valid UTF-8: {exc}") from None
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise WorkloadError("json: document nested too deeply") from None
    except ValueError as exc:
        raise WorkloadError(f"json: malformed JSON: {exc}") from None
    transformed = transform(document)
    try:
        return _dumps(transformed)
    except UnicodeEncodeError:  # "\ud800" parses in Python but is not encodable text
        raise WorkloadError("json: document contains a lone UTF-16 surrogate escape") from None
    except ValueError:  # json.loads turns 1e400 into inf, which is not JSON
        raise WorkloadError("json: a number is out of range (overflows a double)") from None


# -- verification ---------------------------------------------------------------------------------


def fast(payload: bytes) -> bytes:
    """The ``inproc`` engine: the same transform, parsed and serialized by orjson."""
    check_payload_size("json", len(payload))
    try:
        document = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise WorkloadError(f"json: malformed JSON or invalid UTF-8: {exc}") from None
    try:
        return orjson.dumps(transform(document))
    except TypeError:  # orjson writes at most 254 levels (it reads 1024): a TypeError
        raise WorkloadError("json: document nested too deeply") from None


def _compare(got: Any, want: Any, path: str) -> None:
    if isinstance(want, float) or (isinstance(got, float) and _is_number(want)):
        if not _is_number(got) or not math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9):
            raise VerificationError(f"{path}: got {got!r}, expected {want!r}")
    elif isinstance(want, dict):
        if not isinstance(got, dict):
            raise VerificationError(f"{path}: expected an object, got {type(got).__name__}")
        if got.keys() != want.keys():
            missing = sorted(want.keys() - got.keys())
            extra = sorted(got.keys() - want.keys())
            raise VerificationError(f"{path}: keys differ (missing {missing}, extra {extra})")
        for key, value in want.items():
            _compare(got[key], value, f"{path}.{key}")
    elif isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            raise VerificationError(f"{path}: expected an array of {len(want)} entries")
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            _compare(g, w, f"{path}[{i}]")
    elif type(got) is not type(want) or got != want:
        raise VerificationError(f"{path}: got {got!r}, expected {want!r}")


class JsonWorkload(Workload):
    name = "json"
    summary = "parse orders, drop cancelled, totals, sort, summary, re-serialize"
    sizes = tuple(SizePreset(n, f"~{n} document") for n in _TARGET_BYTES)
    default_size = "1MB"
    rank = 1
    best_engine = "msgspec: typed fields, the rest passed through raw (orjson fallback)"

    def generate(self, size: str, seed: int) -> bytes:
        return generate(size, seed)

    def reference(self, payload: bytes) -> bytes:
        return reference(payload)

    def fast(self, payload: bytes) -> bytes:
        return fast(payload)

    def best(self, payload: bytes) -> bytes:
        from hybridbench.workloads import json_best  # only inproc-best needs msgspec

        return json_best.run(payload, fast)

    def best_unavailable(self) -> str | None:
        if importlib.util.find_spec("msgspec") is None:
            return "msgspec is not installed (pip install msgspec)"
        return None

    def bad_inputs(self) -> list[BadInput]:
        return [
            ("json-malformed", b'{"orders": [', r"(?i)json|EOF|unexpected|malformed"),
            ("json-invalid-utf8", b'{"orders": [], "x": "\xff\xfe"}', r"(?i)utf-?8"),
            ("json-not-object", b"[1, 2, 3]", r"orders"),
            ("json-orders-not-array", b'{"orders": 5}', r"orders"),
            ("json-qty-string",
             b'{"orders": [{"id": 1, "status": "new", "customer": {"tier": "gold"}, '
             b'"items": [{"qty": "2", "price": 1.5}], "tags": []}]}', r"qty"),
            ("json-id-float",
             b'{"orders": [{"id": 1.5, "status": "new", "customer": {"tier": "gold"}, '
             b'"items": [], "tags": []}]}', r"id"),
            ("json-price-bool",
             b'{"orders": [{"id": 1, "status": "new", "customer": {"tier": "gold"}, '
             b'"items": [{"qty": 1, "price": true}], "tags": []}]}', r"price"),
            ("json-nan-literal", b'{"orders": [], "x": NaN}', r"(?i)nan|json|invalid|expected"),
            ("json-number-overflow", b'{"orders": [], "x": [1.5, 2e400]}',
             r"(?i)range|infinity"),
            ("json-lone-surrogate",
             b'{"orders": [{"id": 1, "status": "new", "customer": {"tier": "gold"}, '
             b'"items": [], "tags": ["\\ud800"]}]}', r"(?i)surrogate|unicode|utf|escape|json"),
            ("json-too-deep", b"[" * 100_000 + b"]" * 100_000,
             r"(?i)deep|recursion|depth|nest"),
            ("json-oversized", oversized_body(), r"limit"),
        ]

    def verify(self, payload: bytes, output: bytes, expected: bytes) -> None:
        try:
            got = json.loads(output)
        except ValueError as exc:
            raise VerificationError(f"json: output is not valid JSON: {exc}") from None
        _compare(got, json.loads(expected), "$")


WORKLOAD = JsonWorkload()
