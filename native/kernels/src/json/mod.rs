//! `json`: parse a document of orders, drop cancelled ones, add totals, sort, summarise and
//! re-serialize (see `workloads/json_orders.py` for the specification).
//!
//! A single-pass, validating scanner specialised for this document shape, instead of a generic
//! DOM (serde_json's `Value` spent most of the time allocating `String`s and `BTreeMap` nodes
//! for values that are only copied to the output):
//!
//! * the body's UTF-8 is checked whole first (`simdutf8`; an invalid body is reported as not
//!   UTF-8 whatever else is wrong, as Python decodes before parsing), then it is scanned once,
//!   checking the full RFC 8259 grammar: string escapes (a `\u` escape that decodes to a lone
//!   UTF-16 surrogate is rejected), control characters, the number grammar, literals, trailing
//!   text, and nesting up to [`MAX_DEPTH`] levels;
//! * of each order only the fields the transform needs are decoded (`id`, `status`,
//!   `customer.tier`, `items[].qty`/`price`, `tags`); every other value is kept as a span of the
//!   input and copied to the output verbatim (stripped of insignificant whitespace when it has
//!   any), so unknown keys pass through untouched;
//! * validation runs after the whole body parsed (a malformed body wins over a schema error, as
//!   in Python), on every order including cancelled ones, with the reference's messages;
//! * duplicate keys of the top-level object and of orders, customers and items: the last one
//!   wins. Deeper objects are copied verbatim, duplicates included (any reader that applies
//!   "last wins", as the specification does, sees the same value);
//! * floats are parsed correctly rounded (`str::parse::<f64>`), totals summed left to right
//!   without FMA, and written shortest-round-trip (`zmij`, the formatter serde_json uses).
//!
//! ## Tuning (issue 13: "SIMD structural scanning, target <= 2 ms at 1 MB")
//!
//! Each step keeps the output byte-identical and every error message identical (checked by
//! running the previous library and the new one on 20,000 mutated, pretty-printed, escaped,
//! reordered and duplicate-key documents, and 6,000 with random `qty`/`price` literals).
//! Figures: `examples/json_breakdown.rs` on the 1 MB input (min of 200; a loaded 2-core
//! machine, so only the ratios within one run mean much), then the kernel's own time from
//! `scripts/ab_kernels.py BEFORE.so AFTER.so -w json -n 150` (interleaved).
//!
//! | step | parse / serialize / run, min ms | ab_kernels min, P50 ratio |
//! |---|---|---|
//! | before | 4.19 / 1.48 / 6.19 | - |
//! | whole-body UTF-8 by `simdutf8` instead of one `str::from_utf8` per sequence in strings; SSE2 string-stop search (`stops.rs`); exact-decimal fast path for `qty`/`price`; key fingerprints skip the duplicate-key search; tight member runs copied in one piece; tiers found by a linear scan | 3.59 / 1.23 / 5.26 | 4.45 -> 3.95 ms, 0.93 |
//! | strings without escapes found inline (no call, no `Result` through memory); vector capacities from the body size (growing by doubling copied the members again, and the kernel's page faults left the profile); ASCII tags lowercased while copied | 2.69 / 0.50 / 3.40 | 8.86 -> 5.92 ms, 0.78 |
//! | scalars skipped inline, only containers cost a call | 2.47 / 0.44 / 3.20 | 4.70 -> 3.41 ms, 0.68 |
//! | `string_rest` returns only the escape flag (the end is read from `pos`), so no `Str` goes through a stack slot: its fields were stored one by one and read back as one 16-byte load, a store-forwarding stall on every key (24% of `items` in `perf annotate`) | 2.16 / 0.52 / 3.00 | 3.52 -> 3.04 ms, 0.88 (64 KB 0.97, 8 MB 0.82) |
//!
//! Tried and dropped: digit runs of numbers found 8 bytes at a time (SWAR) instead of byte by
//! byte: slower (P50 ratio 0.98 against 0.88 without it, same run), the runs being 1-3 digits.
//!
//! Not reached: the 2 ms target. What is left is the token-by-token walk itself (items, skips
//! and number validation are most of the profile). The next step is a simdjson-style stage 1
//! (a bitmask of structural characters and string spans over 64-byte blocks, AVX2 with a
//! scalar fallback) feeding the same visitors, with today's scanner kept as the exact path
//! that re-runs on any detected error (tried in round two, below: slower). Not tried, for time: `simd-json` and `sonic-rs` (both
//! build a tape or DOM of every value, including most of the body, which this kernel only
//! copies, and their error texts and positions differ from the reference's, so the exact
//! scanner would still run on every rejected body); `memchr::memchr3` for the string search
//! (it cannot find control characters, which must stop a string too).
//!
//! ## Tuning, round two (issue 28: "json 1 MB at most 1.0 ms of the kernel's own time, idle")
//!
//! Same checks (`scripts/json_differential.py OLD.so NEW.so`: 20,000 mutated, pretty-printed,
//! escaped, reordered, duplicate-key and deeply nested documents and 6,000 with random
//! `qty`/`price` literals, same status and same output or error bytes; 0 differences for each
//! kept step, and for the final library with a second seed). Figures: `json_breakdown` min of
//! 300, the round's baseline and its end run alternately (load 2.9-3.1); ab_kernels
//! `-n 300`, P50 ratio against the round's baseline unless said, load average beside it.
//!
//! | step | parse / serialize / run, min ms | ab_kernels P50 ratio (load) |
//! |---|---|---|
//! | before | 1.19 / 0.26 / 1.53 | - |
//! | containers that are only copied (`shipping`, `dims_cm`, `meta`...) skipped by one loop with an explicit stack (`skip.rs`), the exact walk only for what it does not take | not timed apart (load 6) | 0.96, 0.95 (5.6); 0.95 (4.3) |
//! | order keys fingerprinted by length, first and last byte (the loop over up to 8 bytes ended at a different count per key); non-ASCII tags lowercased once per distinct tag per call (`str::to_lowercase` and its allocation were 3%) | 1.10 / 0.20 / 1.41 | 0.90, 0.92, 0.91 (4.3); 0.96 of the step before, same run; 64 KB 0.90 (4.2), 8 MB 0.93 (`-n 100`, 4.1) |
//!
//! Tried and dropped (ratios against the round's baseline, same run):
//! * a simdjson-style structural index (stage 1 over 64-byte blocks, AVX2 with runtime
//!   detection and a portable fallback, both quotes of each string, structurals and scalar
//!   starts; the scanner read each token's position from it, checked it against the bytes
//!   and re-ran exactly on any disagreement): 1.34 (3.4). Stage 1 alone took 21% of the
//!   profile, and the visitors did not get faster (`items` 0.43 -> 0.40 ms): the cost is not
//!   the dependency of each token's position on the previous one, so a faster stage 1 would
//!   not have paid either (branch's commit 0d81338);
//! * numbers measured by bit scans of a 16-byte digit mask instead of digit loops: in
//!   `number` 1.06 (2.8); in the fast skip, min 1.60 against 1.56 ms without (5.3);
//! * `number` always inlined with its rare cases out of line: 0.98 with the digit mask or
//!   with the byte loop (3.0), noise;
//! * the fast skip as a `match` on a state variable: 0.99 against 0.96 for the two loops
//!   (4.7), an indirect jump per token;
//! * `qty`/`price` validated and converted in one pass, inlined: 0.98 of the kept step before
//!   it (9.1), under the 0.97 bar;
//! * output buffer reuse: the page faults it would save are not there (`perf stat` on the
//!   Python A/B loop: about one per call; glibc reuses the freed blocks).
//!
//! Where the time goes now (`perf record` of `json_breakdown`, kernel only): `items` 27%,
//! `skip_container` with the fast skip 17%, the orders' and top-level members (`parse`) 10%,
//! `serialize` 8%, `upsert` 6%, `number` 5%, `memmove` 4%, `customer_tier` 4%, the sort 4%,
//! UTF-8 3%, `transform` 3%, `tags` 2%. Removing `shipping` or `dims_cm` from the 1 MB input
//! saved 0.23 and 0.26 ms of 1.67 before the round (not interleaved, load 2.8), yet the fast
//! skip, which removed the walk's calls and `Result`s around their values, won 4-5%: the
//! values themselves cost more than walking them.
//!
//! Not reached: 1.0 ms (1.41 ms min at load 2.9). Left: the per-value work itself (the index
//! experiment removed the dependency between token positions and won nothing; page faults
//! are not a cost); a next step would have to validate copied containers without visiting
//! their values one by one.
//!
//! ## Round three (issue 28): page faults
//!
//! Under the harness's default allocator state (`glibc`: glibc's initial 128 KiB mmap
//! threshold) the kernel took 2.7 ms at 1 MB with 746 minor page faults per call (1.5 ms, 0
//! faults under `glibc-tuned`): the document's vectors and the output were fresh mmap'd pages
//! every call. Now the vectors are kept per thread (`scratch`) and the output is built in
//! `hybridbench_sdk::output_buffer` (the allocation `hb_buffer_free` released on this thread):
//! kernel 2.74-2.83 -> 1.51-1.67 ms, 746 -> ~250 faults per call (the rest are the Python
//! binding's copy of the output), unchanged in a warm heap (ab_kernels P50 1.01). Then the
//! kept orders are sorted by one integer key with an unstable sort (`transform`): ab_kernels
//! P50 0.97, 0.96 (load 3.3). Figures, commands and loads: `native/README.md`, "json: tuning
//! record (issue 28, round three)". Still not reached: 1.0 ms (1.42 ms min at load 3.3).
//!
//! ## Round four (issue 28): flat arrays of numbers, and the floor
//!
//! A flat array of plain numbers (`dims_cm`, each of `parcels`) is validated and skipped from
//! the byte-class bit masks of one 32-byte window (`flat_numbers`): ab_kernels P50 0.94, 0.94.
//! Five other steps were tried and dropped (0.99-1.00). Against the same file on the same
//! machine, the kernel's whole job (1.35 ms) takes about serde_json's validating pass alone
//! (1.11 ms) and 1.6x simdjson's DOM parse (0.83 ms, AVX-512). Figures and commands:
//! `native/README.md`, "json: tuning record (issue 28, round four) and the floor". Still not
//! reached: 1.0 ms, which would take a simdjson-class parse plus this kernel's transform and
//! output (about 0.28 ms).
//!
//! ## Round five (issue 28): predicted keys, then fewer instructions
//!
//! The objects of one place (every item, every order, every customer) have the same keys in
//! the same order, so each member's separator and key are first compared with the token the
//! previous object of that place had at the same index (`key_order`, as Jackson's
//! `nextFieldName`): a match moves the position by a constant, where a key found by a byte
//! search put that search's latency on the chain from one token to the next. That step won 6%;
//! after it the kernel ran at about 4 instructions a cycle (3.55 GHz, 17.6 million
//! instructions a call), and two steps dropped in round four for winning nothing (numbers by
//! a digit mask, whitespace by one test) won 3% each: with the chain shortened, instructions
//! were what was left. ab_kernels P50 ratios, each against the step before it, both orders:
//!
//! | step | P50 ratio, both orders |
//! |---|---|
//! | keys predicted (items, orders, customers) | 0.95, 0.94 (64 KB 0.95, 8 MB 0.96) |
//! | `qty` and `price` by a digit mask and SWAR (`plain_number`) | 0.97, 0.97 |
//! | whitespace by one test, the run out of line | 0.97, 0.97 |
//! | the `,` in the predicted token, the object's end one test | 0.98, 0.98 |
//! | the token compared as two masked words, not a shifted `u128` | 0.98, 0.98 |
//! | an order's `id` from its validated digits, not `str::parse` | 0.99, 0.99 |
//!
//! The round: P50 1.346 -> 1.129 ms (0.84; min 1.321 -> 1.106), 64 KB 0.83, 8 MB 0.86, 15.5
//! million instructions a call (callgrind) from 19.1. Same checks as before for every step
//! (`json_differential.py`, 0 differences on 26,000-80,000 cases a seed, several seeds; the
//! proptest fuzz). Tried and dropped: the number's end from one mask of its bytes (1.01),
//! `upsert` inlined (1.00), prefetching the members and text of the orders written next
//! (1.00), the visitor's key decision kept per predicted key (1.00), a flat array of numbers
//! checked before the container skip's call (0.99), an item filled in place in its vector
//! (1.01), the whole kernel built for x86-64-v3 at run time (1.00: its visitors are separate
//! functions, so they kept the baseline build). Not reached: 1.0 ms. Against the same file
//! (load 0.7): the kernel 1.098 ms P50, serde_json's validation alone 1.062 ms median,
//! simdjson's DOM parse 0.815 ms.
//!
//! ## Round six (issue 28): failed store forwards, then the skipped objects' keys
//!
//! `perf annotate` of round five's library showed two loads collecting far more samples than
//! their instructions: each was a copy of a value the compiler had built field by field on the
//! stack and read back by wider loads spanning two of its stores (a failed store forward, some
//! ten cycles, per item and per order member). Both came from how a value reached its vector,
//! not from the work. ab_kernels P50 ratios, each against the step before it, both orders:
//!
//! | step | P50 ratio, both orders |
//! |---|---|
//! | an order's key known to differ from its earlier keys (`KeyOrder::unique`) pushed with no duplicate search or fingerprint | 0.99, 0.98 |
//! | an item pushed where it is parsed, not moved out through a `Result<Item>` (whose error variant overlaps the bytes after the item's `bool`: two overlapping 4-byte copies) | 0.97, 0.97 |
//! | an order's `Member` made in each branch, not once for both (`upsert` takes it by reference, so it was built on the stack and copied from there into the vector) | 0.99, 0.98 |
//! | `plain_number`'s end first, from one mask of digits, `.` and `-` | 0.99, 0.98 |
//! | a `Member`'s spans as `u32` offsets: 20 bytes, not 48 (626 -> 260 KB of members for 1 MB) | 1.00, 0.99 |
//! | the keys of skipped objects (`shipping`, its `address`) predicted per level (`skip::SkippedKeys`) | 0.96, 0.96 |
//!
//! Also kept, for fewer instructions at no time cost (1.00, 1.00): `Parser::is`
//! compares an escaped string out of line from its span (a call taking the `Str` made every
//! inlined comparison store its key on the stack). The round: P50 1.127 -> 0.997 ms and 1.130 ->
//! 1.003 (0.88, 0.89; min 1.109 -> 0.981), 64 KB 0.88, 8 MB 0.87, callgrind 15.5 -> 13.9
//! million instructions a call. Tried and dropped (against the step before): the price's
//! division as a multiplication (a timing probe, wrong rounding: 1.00, so the division costs
//! nothing), a member written into reserved room (1.01), prefetching the input of the order
//! written two ahead (1.03), the tier lookup without `memcmp` (1.00), the flat-array check
//! before the container skip's call (1.02), `Parser::number` by `plain_number`'s masks (1.02;
//! splitting `plain_number` alone 1.06), a predicted length for string values checked instead
//! of searched (1.18: every string read paid for the hint), each key's field learnt with its
//! prediction so a predicted key needs no name compare (1.11, 1.05 with the inlining of
//! before forced back), tags pushed where parsed (1.01), the status and id visitors always
//! inlined (1.00), short output pieces by overlapping word copies instead of `memcpy` calls
//! (1.00, 0.99: unsafe code for noise). Where the time goes now (`perf`, 3,000 calls):
//! `items` 25%, the orders' own members 15-19%, the container skip 11%, `serialize` 8% and
//! `memmove` 7% (the output's copies of the input), `customer_tier` 5%, UTF-8 validation 3%,
//! `transform` 3%, the totals' formatting 2.5%. Each library alone (`ab_kernels.py LIB`, load
//! 0.7): P50 1.105 and 1.119 ms before the round, 0.961 and 0.964 after, min 0.931: the
//! issue's 1.0 ms, on this host (interleaved with another library, the caches are shared).
//!
//! The code follows the pipeline's seams, one module each: `scanner` (the JSON grammar: tokens,
//! containers walked with visitors, errors with line and column; its byte searches in `stops`,
//! the fast skip of copied containers in `skip`, flat arrays of numbers in `flat_numbers`,
//! short plain numbers in `plain_number`, predicted keys in `key_order`, and those of the
//! skipped objects in `skip`; the
//! document's vectors kept per thread in `scratch`), `orders` (the visitors that extract
//! orders into the `document` model), `transform` (schema check, totals, order, summary: the
//! `Plan`) and `emit` (the output bytes). [`parse`], [`transform`] and
//! [`serialize`] are public so that the phases can be timed apart
//! (`examples/json_breakdown.rs`).

mod document;
mod emit;
mod flat_numbers;
mod key_order;
mod orders;
mod plain_number;
mod scanner;
mod scratch;
mod skip;
mod stops;
mod transform;

pub use document::{Document, Plan};
pub use emit::serialize;
pub use orders::parse;
pub use transform::transform;

use crate::{check_payload_size, Result};

/// Deepest nesting accepted (the specification asks for at least 128; orjson allows 1024).
pub const MAX_DEPTH: usize = 1024;

pub fn run(input: &[u8]) -> Result<Vec<u8>> {
    check_payload_size("json", input.len())?;
    // the document's vectors are this thread's (`scratch`), given back on errors too
    scratch::with_buffers(|buffers| {
        let mut document = Document::new(input, std::mem::take(buffers));
        let result = orders::parse_into(&mut document).and_then(|()| {
            let plan = transform(&document)?;
            Ok(serialize(&document, &plan))
        });
        *buffers = document.into_buffers();
        result
    })
}

#[cfg(test)]
mod tests;
