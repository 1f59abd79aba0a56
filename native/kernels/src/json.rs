//! `json`: parse a document of orders, drop cancelled ones, add totals, sort, summarise and
//! re-serialize (see `workloads/json_orders.py` for the specification).
//!
//! The document is parsed into a generic [`serde_json::Value`] so that unknown keys survive.
//! serde_json rejects `NaN`/`Infinity` literals, invalid UTF-8 and escapes that decode to a lone
//! UTF-16 surrogate, as the specification asks. Its own recursion guard (128 levels, which
//! refuses a document of exactly 128) is replaced by [`check_depth`], which accepts up to
//! [`MAX_DEPTH`] levels and rejects deeper documents before parsing, so the parser's stack is
//! bounded.

use std::cmp::Ordering;

use serde::Deserialize;
use serde_json::{Map, Number, Value};

use crate::{check_payload_size, KernelError, Result};

/// Deepest nesting accepted (the specification asks for at least 128; orjson allows 1024).
pub const MAX_DEPTH: usize = 1024;

pub fn run(input: &[u8]) -> Result<Vec<u8>> {
    check_payload_size("json", input.len())?;
    let document = parse(input)?;
    let document = transform(document)?;
    serde_json::to_vec(&document)
        .map_err(|e| KernelError::internal(format!("json: cannot serialize the output: {e}")))
}

/// Parse a body into a generic value, with the error messages of the specification.
pub fn parse(input: &[u8]) -> Result<Value> {
    check_depth(input)?;
    let mut de = serde_json::Deserializer::from_slice(input);
    de.disable_recursion_limit();
    let parsed = Value::deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    parsed.map_err(|e| {
        if let Err(utf8) = std::str::from_utf8(input) {
            return KernelError::invalid(format!("json: input is not valid UTF-8: {utf8}"));
        }
        let text = e.to_string();
        // serde_json reports a leading surrogate without a trailing one as "unexpected end
        // of hex escape" and a trailing one alone as "lone leading surrogate in hex escape"
        if text.contains("surrogate") || text.contains("end of hex escape") {
            KernelError::invalid(format!(
                "json: document contains a lone UTF-16 surrogate escape ({text})"
            ))
        } else {
            KernelError::invalid(format!("json: malformed JSON: {text}"))
        }
    })
}

/// Reject documents nested deeper than [`MAX_DEPTH`] (brackets inside strings do not count).
/// Malformed text is left for the parser to report.
fn check_depth(input: &[u8]) -> Result<()> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut i = 0;
    while i < input.len() {
        let b = input[i];
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
        } else {
            match b {
                b'"' => in_string = true,
                b'[' | b'{' => {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return Err(KernelError::invalid(format!(
                            "json: document nested too deeply (more than {MAX_DEPTH} levels)"
                        )));
                    }
                }
                b']' | b'}' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        i += 1;
    }
    Ok(())
}

fn is_number(v: Option<&Value>) -> bool {
    matches!(v, Some(Value::Number(_)))
}

fn as_f64(v: &Value) -> f64 {
    match v {
        Value::Number(n) => number_f64(n),
        _ => 0.0,
    }
}

fn number_f64(n: &Number) -> f64 {
    if let Some(i) = n.as_i64() {
        i as f64
    } else if let Some(u) = n.as_u64() {
        u as f64
    } else {
        n.as_f64().unwrap_or(f64::NAN)
    }
}

/// Check `orders[index]` against the schema; the error names the first offending field.
fn check_order(order: &Value, index: usize) -> Result<i64> {
    let bad = |field: &str, what: &str| {
        Err(KernelError::invalid(format!(
            "orders[{index}]{field}: {what}"
        )))
    };
    let Value::Object(order) = order else {
        return bad("", "expected an object");
    };
    let id = match order.get("id") {
        Some(Value::Number(n)) if n.is_i64() => n.as_i64().unwrap_or_default(),
        Some(Value::Number(n)) if n.is_u64() => {
            return bad(".id", "integer out of the 64-bit range");
        }
        _ => return bad(".id", "expected an integer"),
    };
    if !matches!(order.get("status"), Some(Value::String(_))) {
        return bad(".status", "expected a string");
    }
    let Some(Value::Object(customer)) = order.get("customer") else {
        return bad(".customer", "expected an object");
    };
    if !matches!(customer.get("tier"), Some(Value::String(_))) {
        return bad(".customer.tier", "expected a string");
    }
    let Some(Value::Array(items)) = order.get("items") else {
        return bad(".items", "expected an array");
    };
    for (j, item) in items.iter().enumerate() {
        let Value::Object(item) = item else {
            return bad(&format!(".items[{j}]"), "expected an object");
        };
        for key in ["qty", "price"] {
            if !is_number(item.get(key)) {
                return bad(&format!(".items[{j}].{key}"), "expected a number");
            }
        }
    }
    let Some(Value::Array(tags)) = order.get("tags") else {
        return bad(".tags", "expected an array");
    };
    for (j, tag) in tags.iter().enumerate() {
        if !tag.is_string() {
            return bad(&format!(".tags[{j}]"), "expected a string");
        }
    }
    Ok(id)
}

struct Kept {
    total: f64,
    id: i64,
    order: Map<String, Value>,
}

/// Apply the transform to a parsed, not yet validated document.
pub fn transform(document: Value) -> Result<Value> {
    let shape_error =
        || KernelError::invalid("expected a JSON object with an 'orders' array at the top level");
    let Value::Object(mut document) = document else {
        return Err(shape_error());
    };
    let orders = match document.remove("orders") {
        Some(Value::Array(orders)) => orders,
        _ => return Err(shape_error()),
    };
    let mut kept = Vec::with_capacity(orders.len());
    for (index, order) in orders.into_iter().enumerate() {
        let id = check_order(&order, index)?;
        let Value::Object(mut order) = order else {
            unreachable!("checked above")
        };
        if matches!(order.get("status"), Some(Value::String(s)) if s == "cancelled") {
            continue;
        }
        let mut total = 0.0f64;
        let mut item_count = 0usize;
        if let Some(Value::Array(items)) = order.get("items") {
            item_count = items.len();
            for item in items {
                // Two separate roundings (multiply, then add): Rust never contracts into FMA.
                let product = as_f64(&item["qty"]) * as_f64(&item["price"]);
                total += product;
            }
        }
        if let Some(Value::Array(tags)) = order.get_mut("tags") {
            for tag in tags.iter_mut() {
                if let Value::String(s) = tag {
                    if s.bytes().any(|b| b.is_ascii_uppercase() || b >= 0x80) {
                        *s = s.to_lowercase();
                    }
                }
            }
        }
        order.insert("total".to_owned(), float_value(total));
        order.insert("item_count".to_owned(), Value::from(item_count));
        kept.push(Kept { total, id, order });
    }
    kept.sort_by(|a, b| {
        b.total
            .partial_cmp(&a.total)
            .unwrap_or(Ordering::Equal)
            .then(a.id.cmp(&b.id))
    });

    let mut revenue = 0.0f64;
    let mut by_tier: Vec<(String, f64)> = Vec::new();
    for k in &kept {
        revenue += k.total;
        let tier = match k.order.get("customer").and_then(|c| c.get("tier")) {
            Some(Value::String(t)) => t.as_str(),
            _ => unreachable!("checked above"),
        };
        match by_tier.iter_mut().find(|(t, _)| t == tier) {
            Some((_, sum)) => *sum += k.total,
            None => by_tier.push((tier.to_owned(), k.total)),
        }
    }
    let count = kept.len();
    let orders: Vec<Value> = kept.into_iter().map(|k| Value::Object(k.order)).collect();
    let mut tiers = Map::new();
    for (tier, sum) in by_tier {
        tiers.insert(tier, float_value(sum));
    }
    let mut summary = Map::new();
    summary.insert("count".to_owned(), Value::from(count));
    summary.insert("revenue".to_owned(), float_value(revenue));
    summary.insert("revenue_by_tier".to_owned(), Value::Object(tiers));
    document.insert("orders".to_owned(), Value::Array(orders));
    document.insert("summary".to_owned(), Value::Object(summary));
    Ok(Value::Object(document))
}

/// A float as JSON; a non-finite total (only reachable with absurd inputs) becomes `null`.
fn float_value(x: f64) -> Value {
    Number::from_f64(x).map_or(Value::Null, Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn run_str(s: &str) -> Result<Value> {
        run(s.as_bytes()).map(|out| serde_json::from_slice(&out).unwrap())
    }

    fn err(s: &[u8]) -> String {
        let e = run(s).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidInput);
        e.message
    }

    const DOC: &str = r#"{"meta":{"x":1},"extra":[1,2],"summary":"old","orders":[
      {"id":2,"status":"paid","customer":{"id":1,"tier":"gold"},"items":[
         {"qty":2,"price":1.5},{"qty":1,"price":0.25}],"tags":["Gift","ÉCOLE","ΔΕΛΤΑ"],"k":null},
      {"id":1,"status":"new","customer":{"tier":"silver"},"items":[
         {"qty":2,"price":1.5},{"qty":1,"price":0.25}],"tags":[]},
      {"id":3,"status":"cancelled","customer":{"tier":"gold"},"items":[{"qty":9,"price":9}],
       "tags":[]},
      {"id":4,"status":"paid","customer":{"tier":"gold"},"items":[],"tags":["X"]}]}"#;

    #[test]
    fn transforms_the_document() {
        let v = run_str(DOC).unwrap();
        let orders = v["orders"].as_array().unwrap();
        let ids: Vec<i64> = orders.iter().map(|o| o["id"].as_i64().unwrap()).collect();
        assert_eq!(ids, [1, 2, 4]); // equal totals ordered by id, cancelled dropped
        assert_eq!(orders[1]["total"], 3.25);
        assert_eq!(orders[1]["item_count"], 2);
        assert_eq!(
            orders[1]["tags"],
            serde_json::json!(["gift", "école", "δελτα"])
        );
        assert_eq!(orders[1]["k"], Value::Null);
        assert_eq!(orders[2]["total"], 0.0);
        assert_eq!(v["meta"]["x"], 1);
        assert_eq!(v["extra"], serde_json::json!([1, 2]));
        assert_eq!(
            v["summary"],
            serde_json::json!({"count":3,"revenue":6.5,
                               "revenue_by_tier":{"gold":3.25,"silver":3.25}})
        );
    }

    #[test]
    fn total_is_left_to_right_without_fma() {
        let doc = r#"{"orders":[{"id":1,"status":"x","customer":{"tier":"t"},"tags":[],
            "items":[{"qty":0.1,"price":0.7},{"qty":3,"price":0.1},{"qty":1e-17,"price":1}]}]}"#;
        let v = run_str(doc).unwrap();
        let want: f64 = ((0.0 + 0.1 * 0.7) + 3.0 * 0.1) + 1e-17 * 1.0;
        assert_eq!(
            v["orders"][0]["total"].as_f64().unwrap().to_bits(),
            want.to_bits()
        );
    }

    #[test]
    fn rejects_bad_input_with_a_message() {
        assert!(err(b"{\"orders\": [").starts_with("json: malformed JSON"));
        assert!(err(b"{\"orders\": [NaN]}").starts_with("json: malformed JSON"));
        assert!(err(b"{\"orders\": [], \"a\": \"\xff\"}").contains("not valid UTF-8"));
        let lone = err(br#"{"orders": [], "a": "\ud800"}"#);
        assert!(lone.contains("lone UTF-16 surrogate"), "{lone}");
        assert!(err(br#"{"orders": [], "a": "\udc00x"}"#).contains("lone UTF-16 surrogate"));
        assert!(run(br#"{"orders": [], "a": "\ud83d\ude00"}"#).is_ok());
        assert_eq!(
            err(b"[1]"),
            "expected a JSON object with an 'orders' array at the top level"
        );
        assert_eq!(err(br#"{"orders": [1]}"#), "orders[0]: expected an object");
        let order = |body: &str| {
            format!(
                r#"{{"orders": [{{"id":1,"status":"s","customer":{{"tier":"g"}},"items":[],"tags":[]}}, {body}]}}"#
            )
        };
        let cases = [
            (r#"{"id":true}"#, "orders[1].id: expected an integer"),
            (r#"{"id":1.0}"#, "orders[1].id: expected an integer"),
            (
                r#"{"id":9223372036854775808}"#,
                "orders[1].id: integer out of the 64-bit range",
            ),
            (
                r#"{"id":1,"status":3}"#,
                "orders[1].status: expected a string",
            ),
            (
                r#"{"id":1,"status":"s","customer":[]}"#,
                "orders[1].customer: expected an object",
            ),
            (
                r#"{"id":1,"status":"s","customer":{}}"#,
                "orders[1].customer.tier: expected a string",
            ),
            (
                r#"{"id":1,"status":"s","customer":{"tier":"g"},"items":{}}"#,
                "orders[1].items: expected an array",
            ),
            (
                r#"{"id":1,"status":"s","customer":{"tier":"g"},"items":[{"qty":"2","price":1}]}"#,
                "orders[1].items[0].qty: expected a number",
            ),
            (
                r#"{"id":1,"status":"s","customer":{"tier":"g"},"items":[{"qty":2,"price":false}]}"#,
                "orders[1].items[0].price: expected a number",
            ),
            (
                r#"{"id":1,"status":"cancelled","customer":{"tier":"g"},"items":[],"tags":[1]}"#,
                "orders[1].tags[0]: expected a string",
            ),
        ];
        for (body, want) in cases {
            assert_eq!(err(order(body).as_bytes()), want, "{body}");
        }
    }

    #[test]
    fn nesting_depth() {
        let deep = |n: usize| {
            format!(
                r#"{{"orders":[],"d":{}1{}}}"#,
                "[".repeat(n - 1),
                "]".repeat(n - 1)
            )
        };
        assert!(run(deep(128).as_bytes()).is_ok());
        assert!(run(deep(MAX_DEPTH).as_bytes()).is_ok());
        assert!(err(deep(MAX_DEPTH + 1).as_bytes()).contains("nested too deeply"));
        // brackets inside strings do not count
        let s = format!(
            r#"{{"orders":[],"s":"{}\"{}"}}"#,
            "[".repeat(2000),
            "{".repeat(5)
        );
        assert!(run(s.as_bytes()).is_ok());
    }

    #[test]
    fn duplicate_keys_last_wins() {
        let v = run_str(r#"{"orders":[],"a":1,"a":2}"#).unwrap();
        assert_eq!(v["a"], 2);
    }
}
