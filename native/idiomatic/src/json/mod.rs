//! `json`: parse a document of orders, drop cancelled ones, add totals, sort, summarise and
//! re-serialize (see `workloads/json_orders.py` for the specification).
//!
//! Idiomatic serde: the body is deserialized straight into the typed structs of [`model`]
//! (`#[derive(Deserialize, Serialize)]`), whose `#[serde(flatten)]` maps carry the unknown keys
//! through; the output is `serde_json::to_vec` of a typed [`Output`](model::Output). A document
//! the derive refuses is read again into a `serde_json::Value`: that finds the specification's
//! message ([`schema`] checks each order in the reference's order; serde's own errors name
//! neither the path nor the rule and stop at the first bad field in document order), and reads
//! duplicate keys as the specification does (the last wins; the derive refuses a duplicate
//! field), after which the orders are converted from the `Value` into the same structs. On the
//! generated documents the `Value` path never runs; it was the only path first, at about twice
//! the time per document (its DOM, then flatten's buffering of every order a second time).
//!
//! Depth: serde_json stops at 127 levels of nesting and the specification asks for at least
//! 128, so a document that hits that limit is parsed again without it when its nesting is at
//! most [`MAX_DEPTH`] (counted first: the recursion must stay well within a thread's stack).

mod model;
mod schema;

use std::cmp::Ordering;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::{check_payload_size, KernelError, Result};
use model::{Input, Order, Output, Summary};

/// Deepest nesting accepted (the specification asks for at least 128).
pub const MAX_DEPTH: usize = 1024;

pub fn run(input: &[u8]) -> Result<Vec<u8>> {
    check_payload_size("json", input.len())?;
    let text = std::str::from_utf8(input)
        .map_err(|e| KernelError::invalid(format!("json: input is not valid UTF-8: {e}")))?;
    // The typed structs straight from the text; any error (a schema violation, a duplicate
    // field, bad JSON...) is found again on the `Value`, for the reference's message or for
    // the last-wins reading of duplicate keys.
    let (mut top, orders) = match serde_json::from_str::<Input>(text) {
        Ok(input) => (input.rest, input.orders),
        Err(_) => from_value(text)?,
    };
    let orders = kept_orders(orders)?;
    let summary = summarize(&orders);
    // JSON has no infinity: the spec rejects a sum of finite totals that overflowed
    if !summary.revenue.is_finite() {
        return Err(out_of_range("summary.revenue"));
    }
    if !summary.revenue_by_tier.values().all(|v| v.is_finite()) {
        return Err(out_of_range("summary.revenue_by_tier"));
    }
    top.shift_remove("summary");
    let output = Output {
        rest: top,
        orders,
        summary,
    };
    serde_json::to_vec(&output)
        .map_err(|e| KernelError::internal(format!("json: cannot serialize the output: {e}")))
}

/// The slow path: parse into a `Value`, check every order with the reference's messages, then
/// convert each into the typed structs.
fn from_value(text: &str) -> Result<(Map<String, Value>, Vec<Order>)> {
    let Value::Object(mut top) = parse(text)? else {
        return Err(shape_error());
    };
    let Some(Value::Array(orders)) = top.shift_remove("orders") else {
        return Err(shape_error());
    };
    let mut typed = Vec::with_capacity(orders.len());
    for (index, value) in orders.into_iter().enumerate() {
        schema::check_order(&value, index)?;
        typed.push(Order::deserialize(value).map_err(|e| {
            KernelError::internal(format!(
                "json: orders[{index}] passed the schema check: {e}"
            ))
        })?);
    }
    Ok((top, typed))
}

fn shape_error() -> KernelError {
    KernelError::invalid("expected a JSON object with an 'orders' array at the top level")
}

fn out_of_range(what: &str) -> KernelError {
    KernelError::invalid(format!(
        "{what}: a number is out of range (overflows a double)"
    ))
}

/// Drop the cancelled orders, compute the totals; in output order.
fn kept_orders(orders: Vec<Order>) -> Result<Vec<Order>> {
    let mut kept = Vec::with_capacity(orders.len());
    for (index, mut order) in orders.into_iter().enumerate() {
        if order.status == "cancelled" {
            continue;
        }
        // In item order, from 0.0, multiply then add (Rust never fuses them into an FMA).
        order.total = order.items.iter().fold(0.0, |total, item| {
            total + item.qty.as_f64().unwrap_or(f64::NAN) * item.price.as_f64().unwrap_or(f64::NAN)
        });
        if !order.total.is_finite() {
            return Err(out_of_range(&format!("orders[{index}].total")));
        }
        order.item_count = order.items.len();
        for tag in &mut order.tags {
            *tag = tag.to_lowercase();
        }
        kept.push(order);
    }
    kept.sort_by(|a, b| {
        b.total
            .partial_cmp(&a.total)
            .unwrap_or(Ordering::Equal)
            .then(a.id.cmp(&b.id))
    });
    Ok(kept)
}

fn summarize(orders: &[Order]) -> Summary {
    let mut summary = Summary {
        count: orders.len(),
        revenue: 0.0,
        revenue_by_tier: Default::default(),
    };
    for order in orders {
        summary.revenue += order.total;
        *summary
            .revenue_by_tier
            .entry(order.customer.tier.clone())
            .or_insert(0.0) += order.total;
    }
    summary
}

fn parse(text: &str) -> Result<Value> {
    match serde_json::from_str(text) {
        Err(e) if e.to_string().starts_with("recursion limit exceeded") => parse_deep(text),
        parsed => parsed.map_err(parse_error),
    }
}

/// A document deeper than serde_json's default limit: parsed without it, if not too deep.
fn parse_deep(text: &str) -> Result<Value> {
    if nesting_depth(text) > MAX_DEPTH {
        return Err(KernelError::invalid(format!(
            "json: document nested too deeply (more than {MAX_DEPTH} levels)"
        )));
    }
    let mut deserializer = serde_json::Deserializer::from_str(text);
    deserializer.disable_recursion_limit();
    let value = Value::deserialize(&mut deserializer).map_err(parse_error)?;
    deserializer.end().map_err(parse_error)?;
    Ok(value)
}

/// The deepest nesting of arrays and objects, brackets inside strings not counted.
fn nesting_depth(text: &str) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0, false, false);
    for byte in text.bytes() {
        match (in_string, escaped, byte) {
            (true, true, _) => escaped = false,
            (true, false, b'\\') => escaped = true,
            (true, false, b'"') | (false, _, b'"') => in_string = !in_string,
            (false, _, b'[' | b'{') => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            (false, _, b']' | b'}') => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// serde_json's error, worded as the reference words it. serde_json has no public error code,
/// so its messages are matched (a unit test pins each of them).
fn parse_error(e: serde_json::Error) -> KernelError {
    let text = e.to_string();
    let at = format!("at line {} column {}", e.line(), e.column());
    let message = if text.starts_with("lone leading surrogate")
        || text.starts_with("unexpected end of hex escape")
    {
        format!("json: document contains a lone UTF-16 surrogate escape {at}")
    } else if text.starts_with("number out of range") {
        format!("json: a number is out of range (overflows a double) {at}")
    } else {
        format!("json: malformed JSON: {text}")
    };
    KernelError::invalid(message)
}

#[cfg(test)]
mod tests;
