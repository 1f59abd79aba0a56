use serde_json::{json, Value};

use super::{run, MAX_DEPTH};
use crate::ErrorKind;

fn transform(input: &str) -> Value {
    serde_json::from_slice(&run(input.as_bytes()).unwrap()).unwrap()
}

fn err(input: &[u8]) -> String {
    let e = run(input).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidInput, "{}", e.message);
    e.message
}

fn order(fields: Value) -> Value {
    let mut order = json!({"id": 1, "status": "paid", "customer": {"tier": "gold"},
                           "items": [{"qty": 1, "price": 2.0}], "tags": []});
    for (key, value) in fields.as_object().unwrap() {
        order[key] = value.clone();
    }
    order
}

fn with_orders(orders: Vec<Value>) -> Vec<u8> {
    serde_json::to_vec(&json!({ "orders": orders })).unwrap()
}

#[test]
fn transforms_sorts_and_summarises() {
    let out = transform(
        r#"{"meta": {"k": [1, {"x": null}]}, "summary": 5, "orders": [
            {"id": 2, "status": "paid", "customer": {"tier": "gold", "n": "A"},
             "items": [{"qty": 2, "price": 1.5, "sku": "s"}], "tags": ["ÉCOLE"], "total": "old"},
            {"id": 9, "status": "cancelled", "customer": {"tier": "x"}, "items": [], "tags": []},
            {"id": 1, "status": "new", "customer": {"tier": "silver"},
             "items": [{"qty": 1, "price": 3.0}], "tags": [], "extra": true}]}"#,
    );
    assert_eq!(out["meta"], json!({"k": [1, {"x": null}]}));
    let ids: Vec<_> = out["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].clone())
        .collect();
    assert_eq!(ids, [json!(1), json!(2)]); // equal totals 3.0: by id
    let first = &out["orders"][1];
    assert_eq!(first["total"], json!(3.0));
    assert_eq!(first["item_count"], json!(1));
    assert_eq!(first["tags"], json!(["école"]));
    assert_eq!(
        first["items"],
        json!([{"qty": 2, "price": 1.5, "sku": "s"}])
    );
    assert_eq!(first["customer"], json!({"tier": "gold", "n": "A"}));
    assert_eq!(out["orders"][0]["extra"], json!(true));
    assert_eq!(
        out["summary"],
        json!({"count": 2, "revenue": 6.0, "revenue_by_tier": {"gold": 3.0, "silver": 3.0}})
    );
}

#[test]
fn duplicate_keys_last_one_wins() {
    let out = transform(
        r#"{"orders": [1], "orders": [{"id": 1, "id": 7, "status": "cancelled",
            "status": "paid", "customer": {"tier": "a", "tier": "b"},
            "items": [{"qty": 1, "price": 1, "qty": 4}], "tags": []}]}"#,
    );
    assert_eq!(out["orders"][0]["id"], json!(7));
    assert_eq!(out["orders"][0]["total"], json!(4.0));
    assert_eq!(out["summary"]["revenue_by_tier"], json!({"b": 4.0}));
}

#[test]
fn schema_errors_name_the_field_in_the_specifications_order() {
    let cases = [
        (
            json!({"items": [{"qty": "2", "price": 1.0}]}),
            "orders[1].items[0].qty: expected a number",
        ),
        (
            json!({"items": [{"qty": 1, "price": null}], "status": "cancelled"}),
            "orders[1].items[0].price: expected a number",
        ),
        (json!({"id": true}), "orders[1].id: expected an integer"),
        (json!({"id": 1.0}), "orders[1].id: expected an integer"),
        (
            json!({"status": 3, "id": "x"}),
            "orders[1].id: expected an integer",
        ),
        (json!({"status": 3}), "orders[1].status: expected a string"),
        (
            json!({"customer": []}),
            "orders[1].customer: expected an object",
        ),
        (
            json!({"customer": {"tier": 1}}),
            "orders[1].customer.tier: expected a string",
        ),
        (json!({"items": {}}), "orders[1].items: expected an array"),
        (
            json!({"items": [1]}),
            "orders[1].items[0]: expected an object",
        ),
        (json!({"tags": "x"}), "orders[1].tags: expected an array"),
        (
            json!({"tags": ["A", 3]}),
            "orders[1].tags[1]: expected a string",
        ),
    ];
    for (fields, message) in cases {
        assert_eq!(
            err(&with_orders(vec![order(json!({})), order(fields)])),
            message
        );
    }
    assert_eq!(
        err(&with_orders(vec![json!(3)])),
        "orders[0]: expected an object"
    );
    for big in [
        "18446744073709551616",
        "-9223372036854775809",
        "1000000000000000000000000000000",
    ] {
        let body = format!(r#"{{"orders": [{{"id": {big}}}]}}"#);
        assert_eq!(
            err(body.as_bytes()),
            "orders[0].id: integer out of the 64-bit range"
        );
    }
    assert!(
        run(br#"{"orders": [{"id": -9223372036854775808, "status": "a",
        "customer": {"tier": "t"}, "items": [], "tags": []}]}"#)
        .is_ok()
    );
}

#[test]
fn syntax_errors_are_worded_as_the_reference_words_them() {
    for (body, start) in [
        (
            &b"[1, 2]"[..],
            "expected a JSON object with an 'orders' array",
        ),
        (
            b"{\"orders\": 5}",
            "expected a JSON object with an 'orders' array",
        ),
        (b"{\"orders\": [", "json: malformed JSON: EOF while parsing"),
        (
            b"{\"orders\": [], \"x\": NaN}",
            "json: malformed JSON: expected value",
        ),
        (
            b"{\"orders\": [], \"x\": 01}",
            "json: malformed JSON: invalid number",
        ),
        (
            b"{\"orders\": []} x",
            "json: malformed JSON: trailing characters",
        ),
        (
            b"{\"orders\": [], \"x\": \"a\x01\"}",
            "json: malformed JSON: control character",
        ),
        (
            b"{\"orders\": [], \"x\": \"\xff\xfe\"}",
            "json: input is not valid UTF-8",
        ),
        (
            b"{\"orders\": [], \"x\": \"\\ud800\"}",
            "json: document contains a lone UTF-16",
        ),
        (
            b"{\"orders\": [], \"x\": \"\\udc00\"}",
            "json: document contains a lone UTF-16",
        ),
        (
            b"{\"orders\": [], \"x\": \"\\ud800\\u0041\"}",
            "json: document contains a lone UTF-16",
        ),
        (
            b"{\"orders\": [], \"x\": [1.5, 2e400]}",
            "json: a number is out of range",
        ),
    ] {
        let message = err(body);
        assert!(
            message.starts_with(start),
            "{message:?} for {:?}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn underflow_reads_as_zero() {
    let out = transform(
        r#"{"orders": [{"id": 1, "status": "a", "customer": {"tier": "t"},
            "items": [{"qty": 1e-400, "price": 2}], "tags": []}]}"#,
    );
    assert_eq!(out["orders"][0]["total"], json!(0.0));
}

fn nested(levels: usize) -> String {
    format!(
        r#"{{"orders": [], "deep": {}1{}}}"#,
        "[".repeat(levels - 1),
        "]".repeat(levels - 1)
    )
}

#[test]
fn nesting_up_to_the_limit_is_accepted() {
    // levels counted with the top-level object; serde_json alone stops at 127
    for levels in [127, 128, 129, MAX_DEPTH] {
        assert!(run(nested(levels).as_bytes()).is_ok(), "{levels} levels");
    }
    assert!(err(nested(MAX_DEPTH + 1).as_bytes()).contains("nested too deeply"));
    let bomb = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(err(bomb.as_bytes()).contains("nested too deeply"));
    // brackets inside strings do not count
    let quoted = format!(
        r#"{{"orders": [], "s": "{}", "d": {}1{}}}"#,
        "[".repeat(5000),
        "[".repeat(200),
        "]".repeat(200)
    );
    assert!(run(quoted.as_bytes()).is_ok());
}

#[test]
fn output_is_compact() {
    let out = String::from_utf8(run(&with_orders(vec![order(json!({"note": "a b"}))])).unwrap());
    assert!(!out.unwrap().replace("a b", "").contains([' ', '\n']));
}

#[test]
fn a_total_that_overflows_is_rejected_as_the_reference_rejects_it() {
    let overflow = order(json!({"items": [{"qty": 1e308, "price": 10}]}));
    let cancelled = order(json!({"status": "cancelled"}));
    assert_eq!(
        err(&with_orders(vec![cancelled, overflow])),
        "orders[1].total: a number is out of range (overflows a double)"
    );
    // two finite totals whose sum overflows
    let big = order(json!({"items": [{"qty": 1e308, "price": 1}]}));
    assert_eq!(
        err(&with_orders(vec![big.clone(), big])),
        "summary.revenue: a number is out of range (overflows a double)"
    );
}
