//! The transform: the schema check of every order, the kept orders in output order with their
//! totals, and the summary. Reads the [`Document`]; no parsing, no output.

use std::borrow::Cow;
use std::collections::HashMap;

use super::document::{Document, Id, Order, Plan};
use super::orders::shape_error;
use crate::{KernelError, Result};

/// Check `orders[index]` against the schema; the error names the first offending field.
fn check_order(doc: &Document, o: &Order, index: usize) -> Result<i64> {
    let bad = |field: &str, what: &str| {
        Err(KernelError::invalid(format!(
            "orders[{index}]{field}: {what}"
        )))
    };
    if !o.object {
        return bad("", "expected an object");
    }
    let id = match o.id {
        Id::Int(id) => id,
        Id::OutOfRange => return bad(".id", "integer out of the 64-bit range"),
        Id::NotInt => return bad(".id", "expected an integer"),
    };
    if o.status.is_none() {
        return bad(".status", "expected a string");
    }
    if !o.customer {
        return bad(".customer", "expected an object");
    }
    if o.tier.is_none() {
        return bad(".customer.tier", "expected a string");
    }
    let Some(items) = &o.items else {
        return bad(".items", "expected an array");
    };
    for (j, item) in doc.items[items.clone()].iter().enumerate() {
        if !item.object {
            return bad(&format!(".items[{j}]"), "expected an object");
        }
        if item.qty.is_none() {
            return bad(&format!(".items[{j}].qty"), "expected a number");
        }
        if item.price.is_none() {
            return bad(&format!(".items[{j}].price"), "expected a number");
        }
    }
    let Some(tags) = &o.tags else {
        return bad(".tags", "expected an array");
    };
    if let Some(j) = doc.tags[tags.clone()].iter().position(Option::is_none) {
        return bad(&format!(".tags[{j}]"), "expected a string");
    }
    Ok(id)
}

/// A computed number (a total, a sum of totals) that left the double range.
fn out_of_range(what: &str) -> KernelError {
    KernelError::invalid(format!(
        "{what}: a number is out of range (overflows a double)"
    ))
}

/// Up to this many distinct tiers, a tier is found by comparing it with each (documents have a
/// handful: cheaper than hashing it once per kept order); past it, through a hash map.
const LINEAR_TIERS: usize = 16;

fn tier_position(
    by_tier: &[(String, f64)],
    index: &HashMap<Cow<str>, usize>,
    tier: &str,
) -> Option<usize> {
    if by_tier.len() <= LINEAR_TIERS {
        by_tier.iter().position(|(name, _)| name == tier)
    } else {
        index.get(tier).copied()
    }
}

/// An order key for a finite total that sorts larger totals first. Totals are never `-0.0`
/// (the sum starts at `+0.0`, and `x + y` is `-0.0` only when both are), so the bit order
/// agrees with `partial_cmp`.
fn descending(total: f64) -> u64 {
    let bits = total.to_bits();
    let ascending = if bits >> 63 == 1 {
        !bits
    } else {
        bits | 1 << 63
    };
    !ascending
}

/// Validate every order and compute the kept orders, their order and the summary.
pub fn transform(doc: &Document) -> Result<Plan> {
    let orders = doc.orders.clone().ok_or_else(shape_error)?;
    let mut kept = Vec::with_capacity(orders.len());
    for (index, o) in doc.order_list[orders.clone()].iter().enumerate() {
        let id = check_order(doc, o, index)?;
        if o.status == Some(true) {
            continue;
        }
        let mut total = 0.0f64;
        for item in &doc.items[o.items.clone().expect("checked")] {
            // Two separate roundings (multiply, then add): Rust never contracts into FMA.
            let product = item.qty.expect("checked") * item.price.expect("checked");
            total += product;
        }
        if !total.is_finite() {
            return Err(out_of_range(&format!("orders[{index}].total")));
        }
        kept.push((orders.start + index, total, id));
    }
    // by total descending, then id; equal pairs keep their input order (the index). One
    // integer key per order and an unstable sort: the stable sort with `partial_cmp` was 3.4%
    // of the kernel's profile
    kept.sort_unstable_by_key(|&(i, total, id)| (descending(total), id, i));
    let mut revenue = 0.0f64;
    let mut by_tier: Vec<(String, f64)> = Vec::new();
    let mut tier_index: HashMap<Cow<str>, usize> = HashMap::new();
    for &(i, total, _) in &kept {
        revenue += total;
        let tier = doc.order_list[i].tier.expect("checked").text(doc.input);
        match tier_position(&by_tier, &tier_index, &tier) {
            Some(t) => by_tier[t].1 += total,
            None => {
                if by_tier.len() >= LINEAR_TIERS {
                    if tier_index.is_empty() {
                        let named = by_tier.iter().enumerate();
                        tier_index
                            .extend(named.map(|(t, (name, _))| (Cow::Owned(name.clone()), t)));
                    }
                    tier_index.insert(tier.clone(), by_tier.len());
                }
                by_tier.push((tier.into_owned(), total));
            }
        }
    }
    // JSON has no infinity: finite totals whose sum overflowed are rejected (the spec's words)
    if !revenue.is_finite() {
        return Err(out_of_range("summary.revenue"));
    }
    if !by_tier.iter().all(|(_, sum)| sum.is_finite()) {
        return Err(out_of_range("summary.revenue_by_tier"));
    }
    Ok(Plan {
        kept: kept.into_iter().map(|(i, total, _)| (i, total)).collect(),
        revenue,
        by_tier,
    })
}
