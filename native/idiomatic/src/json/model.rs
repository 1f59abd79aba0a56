//! The document as typed structs (`serde` derive). Fields the transform reads are typed; every
//! other key of an object lands in its `rest` map (`#[serde(flatten)]`; with serde_json's
//! `preserve_order` in input order) and is written back unchanged.

use std::collections::BTreeMap;

use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Number, Value};

/// The input document: the orders, and every other top-level key.
#[derive(Deserialize)]
pub struct Input {
    pub orders: Vec<Order>,
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

#[derive(Deserialize, Serialize)]
pub struct Order {
    pub id: i64,
    pub status: String,
    pub customer: Customer,
    pub items: Vec<Item>,
    pub tags: Vec<String>,
    /// Computed by the transform; a `total` the input had is dropped, not passed through.
    #[serde(default, deserialize_with = "replaced")]
    pub total: f64,
    /// Computed by the transform, like `total`.
    #[serde(default, deserialize_with = "replaced")]
    pub item_count: usize,
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

#[derive(Deserialize, Serialize)]
pub struct Customer {
    pub tier: String,
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

#[derive(Deserialize, Serialize)]
pub struct Item {
    /// `Number`, not `f64`: an integer quantity is written back as the integer it was.
    pub qty: Number,
    pub price: Number,
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

#[derive(Serialize)]
pub struct Summary {
    pub count: usize,
    pub revenue: f64,
    pub revenue_by_tier: BTreeMap<String, f64>,
}

/// The output document: the input's other top-level keys, the kept orders and the summary.
#[derive(Serialize)]
pub struct Output {
    #[serde(flatten)]
    pub rest: Map<String, Value>,
    pub orders: Vec<Order>,
    pub summary: Summary,
}

/// A key whose input value the transform replaces: read and ignored.
fn replaced<'de, D: Deserializer<'de>, T: Default>(deserializer: D) -> Result<T, D::Error> {
    IgnoredAny::deserialize(deserializer)?;
    Ok(T::default())
}
