//! The schema check of one order, on the parsed `Value`, in the specification's order and with
//! its messages (`orders[3].items[0].qty: expected a number`). serde's derive errors ("invalid
//! type: string \"2\", expected i64") name neither the path nor the rule, and stop at the first
//! bad field in document order rather than the specification's, hence this check before the
//! typed conversion.

use serde_json::{Map, Value};

use crate::{KernelError, Result};

/// 2^63: an integral double of at least this magnitude is outside the 64-bit range.
const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;

/// Check `orders[index]`; the error names the first offending field.
pub fn check_order(order: &Value, index: usize) -> Result<()> {
    let bad =
        |field: &str, what: &str| KernelError::invalid(format!("orders[{index}]{field}: {what}"));
    let Value::Object(order) = order else {
        return Err(bad("", "expected an object"));
    };
    check_id(order.get("id")).map_err(|what| bad(".id", what))?;
    if !order.get("status").is_some_and(Value::is_string) {
        return Err(bad(".status", "expected a string"));
    }
    let Some(Value::Object(customer)) = order.get("customer") else {
        return Err(bad(".customer", "expected an object"));
    };
    if !customer.get("tier").is_some_and(Value::is_string) {
        return Err(bad(".customer.tier", "expected a string"));
    }
    let Some(Value::Array(items)) = order.get("items") else {
        return Err(bad(".items", "expected an array"));
    };
    for (j, item) in items.iter().enumerate() {
        check_item(item).map_err(|(field, what)| bad(&format!(".items[{j}]{field}"), what))?;
    }
    let Some(Value::Array(tags)) = order.get("tags") else {
        return Err(bad(".tags", "expected an array"));
    };
    if let Some(j) = tags.iter().position(|tag| !tag.is_string()) {
        return Err(bad(&format!(".tags[{j}]"), "expected a string"));
    }
    Ok(())
}

/// An integer within the signed 64-bit range (not a boolean, not a float).
///
/// serde_json (without `arbitrary_precision`) reads an integer literal beyond the 64-bit range
/// as a double, so an integral double of magnitude 2^63 or more is reported as out of range: a
/// float literal such as `1e19` gets that message too, where the reference says "expected an
/// integer" (both reject).
fn check_id(id: Option<&Value>) -> std::result::Result<(), &'static str> {
    match id {
        Some(Value::Number(n)) if n.is_i64() => Ok(()),
        Some(Value::Number(n)) if n.is_u64() => Err("integer out of the 64-bit range"),
        Some(Value::Number(n))
            if n.as_f64()
                .is_some_and(|x| x.fract() == 0.0 && x.abs() >= TWO_POW_63) =>
        {
            Err("integer out of the 64-bit range")
        }
        _ => Err("expected an integer"),
    }
}

/// An object whose `qty` and `price` are numbers; the error is (field, what is wrong).
fn check_item(item: &Value) -> std::result::Result<(), (&'static str, &'static str)> {
    let Value::Object(item) = item else {
        return Err(("", "expected an object"));
    };
    for (field, key) in [(".qty", "qty"), (".price", "price")] {
        if !is_number(item, key) {
            return Err((field, "expected a number"));
        }
    }
    Ok(())
}

fn is_number(object: &Map<String, Value>, key: &str) -> bool {
    object.get(key).is_some_and(Value::is_number)
}
