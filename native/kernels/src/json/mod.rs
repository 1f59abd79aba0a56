//! `json`: parse a document of orders, drop cancelled ones, add totals, sort, summarise and
//! re-serialize (see `workloads/json_orders.py` for the specification).
//!
//! A single-pass, validating scanner specialised for this document shape, instead of a generic
//! DOM (serde_json's `Value` spent most of the time allocating `String`s and `BTreeMap` nodes
//! for values that are only copied to the output):
//!
//! * the body is scanned once, checking UTF-8 (inside strings; outside them only ASCII is
//!   grammar; on any error an invalid body is reported as not UTF-8 first, as Python decodes
//!   before parsing) and the full RFC 8259 grammar: string escapes (a `\u` escape that
//!   decodes to a lone UTF-16 surrogate is rejected), control characters, the number grammar,
//!   literals, trailing text, and nesting up to [`MAX_DEPTH`] levels;
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
//! The code follows the pipeline's seams, one module each: `scanner` (the JSON grammar: tokens,
//! containers walked with visitors, errors with line and column), `orders` (the visitors that
//! extract orders into the `document` model), `transform` (schema check, totals, order,
//! summary: the `Plan`) and `emit` (the output bytes). [`parse`], [`transform`] and
//! [`serialize`] are public so that the phases can be timed apart
//! (`examples/json_breakdown.rs`).

mod document;
mod emit;
mod orders;
mod scanner;
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
    let document = parse(input)?;
    let plan = transform(&document)?;
    Ok(serialize(&document, &plan))
}

#[cfg(test)]
mod tests;
