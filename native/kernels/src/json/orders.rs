//! Order extraction: builds the [`Document`] while the scanner walks the body.
//!
//! The top-level object's members and each order's members are recorded as spans (to be
//! copied to the output); only the fields the transform needs are decoded: `id`, `status`,
//! `customer.tier`, `items[].qty`/`price` and `tags`. Every function here takes the parser at
//! the first byte of a value and leaves it after that value; a value of the wrong type is
//! skipped (validated, not decoded) and recorded as such for the schema check.

use std::borrow::Cow;
use std::ops::Range;

use super::document::{Buffers, Document, Id, Item, Kind, Member, Order};
use super::key_order::KeyOrder;
use super::scanner::{integer, malformed_at, Parser, Str};
use crate::{KernelError, Result};

/// Parse and validate the grammar of a body; the schema is checked by
/// [`transform`](super::transform).
pub fn parse(input: &[u8]) -> Result<Document<'_>> {
    let mut doc = Document::new(input, Buffers::default());
    parse_into(&mut doc)?;
    Ok(doc)
}

/// [`parse`] into `doc`, an empty [`Document`] (whose vectors may have been used before).
pub(super) fn parse_into(doc: &mut Document) -> Result<()> {
    let input = doc.input;
    // Python decodes the whole body before parsing, so an invalid body is reported as such
    // first, whatever else is wrong. `simdutf8` only says whether it is valid; the standard
    // library's error (with the position) makes the message.
    if simdutf8::basic::from_utf8(input).is_err() {
        let utf8 = std::str::from_utf8(input).expect_err("simdutf8 and std agree");
        return Err(KernelError::invalid(format!(
            "json: input is not valid UTF-8: {utf8}"
        )));
    }
    scan(doc)
}

pub(super) fn shape_error() -> KernelError {
    KernelError::invalid("expected a JSON object with an 'orders' array at the top level")
}

fn scan(doc: &mut Document) -> Result<()> {
    let input = doc.input;
    let mut p = Parser::new(input);
    p.ws();
    if p.peek() == b'{' {
        let mut top = Vec::new();
        let mut keys = KeySet::default();
        let mut shapes = Shapes::default();
        p.object(1, |p, key, depth| {
            top_member(p, doc, &mut shapes, &mut top, &mut keys, key, depth)
        })?;
        let from = doc.members.len();
        doc.members.extend(top);
        doc.top = from..doc.members.len();
    } else {
        p.skip(0)?;
        doc.orders = None;
    }
    p.ws();
    if p.pos != input.len() {
        return Err(malformed_at(input, p.pos, "trailing characters"));
    }
    Ok(())
}

// `#[inline]` on the visitors below: the scanner's containers call them once per member or
// element, as the closures they replaced were inlined into its loops.

/// A member of the top-level object: `orders` is extracted, `summary` will be replaced, the
/// rest is copied.
#[inline]
fn top_member(
    p: &mut Parser,
    doc: &mut Document,
    shapes: &mut Shapes,
    top: &mut Vec<Member>,
    keys: &mut KeySet,
    key: Str,
    depth: usize,
) -> Result<()> {
    let start = p.pos;
    let runs = p.ws_runs;
    let kind = if p.is(key, "orders") {
        if p.peek() == b'[' {
            doc.orders = Some(parse_orders(p, doc, shapes, depth)?);
        } else {
            doc.orders = None;
            p.skip(depth)?;
        }
        Kind::Orders
    } else {
        p.skip(depth)?;
        if p.is(key, "summary") {
            Kind::Summary
        } else {
            Kind::Other
        }
    };
    let m = Member::new(key, start..p.pos, runs == p.ws_runs, kind);
    upsert(p, top, 0, keys, m);
    Ok(())
}

/// The predicted keys ([`KeyOrder`]) of the objects of each place the extraction walks.
#[derive(Default)]
struct Shapes {
    order: KeyOrder,
    inner: InnerShapes,
}

/// The predicted keys of the objects inside an order.
#[derive(Default)]
struct InnerShapes {
    customer: KeyOrder,
    item: KeyOrder,
}

/// The keys of one object seen so far, as a 64-bit set of key fingerprints: a key whose bit
/// is not set cannot be a duplicate, so most members are inserted without searching the
/// object's earlier members. Once a key with escapes is seen, every key is searched for (its
/// raw bytes are not its text), and so once a member was added without its fingerprint.
#[derive(Default)]
struct KeySet {
    fingerprints: u64,
    escaped: bool,
    incomplete: bool,
}

impl KeySet {
    /// Whether `key` may already be in the set (and add it).
    #[inline]
    fn may_contain(&mut self, raw: &[u8], escaped: bool) -> bool {
        self.escaped |= escaped;
        // length, first and last byte: no loop (a loop over the first 8 bytes ended at a
        // different count for each key, a mispredicted exit per member), and the keys of an
        // order (`id`, `status`, `customer`, `created`, `items`, `tags`...) all differ in them
        let (first, last) = (raw.first().copied(), raw.last().copied());
        let h = raw.len() as u64
            | u64::from(first.unwrap_or(0)) << 8
            | u64::from(last.unwrap_or(0)) << 16;
        let bit = 1u64 << (h.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58);
        let seen = self.fingerprints & bit != 0;
        self.fingerprints |= bit;
        seen || self.escaped || self.incomplete
    }
}

/// Insert `m` into `members[from..]`, replacing the value of an existing equal key (the last
/// duplicate wins, at the first one's position).
#[inline]
fn upsert(p: &Parser, members: &mut Vec<Member>, from: usize, keys: &mut KeySet, m: Member) {
    let raw = |s: Str| &p.b[s.start..s.end];
    if !keys.may_contain(raw(m.key()), m.key().escaped) {
        members.push(m);
        return;
    }
    let existing = members[from..].iter_mut().find(|old| {
        let (old, new) = (old.key(), m.key());
        if old.escaped || new.escaped {
            p.text(old) == p.text(new)
        } else {
            raw(old) == raw(new)
        }
    });
    match existing {
        Some(old) => *old = m,
        None => members.push(m),
    }
}

/// The `orders` array at `[`: its elements as the range of `doc.order_list` they fill.
fn parse_orders(
    p: &mut Parser,
    doc: &mut Document,
    shapes: &mut Shapes,
    depth: usize,
) -> Result<Range<usize>> {
    let first = doc.order_list.len();
    p.array(depth + 1, |p, depth| {
        let order = if p.peek() == b'{' {
            parse_order(p, doc, shapes, depth)?
        } else {
            p.skip(depth)?;
            Order::new(false)
        };
        doc.order_list.push(order);
        Ok(())
    })?;
    Ok(first..doc.order_list.len())
}

/// One order at `{`: its members go to `doc.members` (the last of duplicate keys wins).
#[inline]
fn parse_order(
    p: &mut Parser,
    doc: &mut Document,
    shapes: &mut Shapes,
    depth: usize,
) -> Result<Order> {
    let from = doc.members.len();
    let mut order = Order::new(true);
    let mut keys = KeySet::default();
    let Shapes {
        order: order_keys,
        inner,
    } = shapes;
    p.object_keyed(depth + 1, order_keys, |p, key, unique, depth| {
        order_member(
            p,
            doc,
            inner,
            &mut order,
            from,
            &mut keys,
            (key, unique),
            depth,
        )
    })?;
    order.members = from..doc.members.len();
    Ok(order)
}

/// A member of an order: decodes the fields the transform reads, records the member's span.
#[inline]
#[allow(clippy::too_many_arguments)]
fn order_member(
    p: &mut Parser,
    doc: &mut Document,
    shapes: &mut InnerShapes,
    o: &mut Order,
    from: usize,
    keys: &mut KeySet,
    (key, unique): (Str, bool),
    depth: usize,
) -> Result<()> {
    let start = p.pos;
    let runs = p.ws_runs;
    // raw bytes when the key has no escapes (the common case: no decoding, no allocation)
    let name: Cow<[u8]> = if key.escaped {
        Cow::Owned(p.text(key).into_owned().into_bytes())
    } else {
        Cow::Borrowed(&p.b[key.start..key.end])
    };
    let kind = match &*name {
        b"id" => {
            o.id = order_id(p, depth)?;
            Kind::Other
        }
        b"status" => {
            o.status = order_status(p, depth)?;
            Kind::Other
        }
        b"customer" => {
            (o.customer, o.tier) = customer_tier(p, &mut shapes.customer, depth)?;
            Kind::Other
        }
        b"items" => {
            o.items = items(p, &mut doc.items, &mut shapes.item, depth)?;
            Kind::Other
        }
        b"tags" => {
            o.tags = tags(p, &mut doc.tags, depth)?;
            Kind::Tags
        }
        b"total" | b"item_count" => {
            p.skip(depth)?;
            Kind::Replaced
        }
        _ => {
            p.skip(depth)?;
            Kind::Other
        }
    };
    // made in each branch: made once, it was built on the stack for `upsert` (which takes it by
    // reference) and copied from there by 16-byte loads spanning two 8-byte stores each, a
    // failed store forward per member (30% of `parse_into`'s samples, on that load)
    let m = || Member::new(key, start..p.pos, runs == p.ws_runs, kind);
    if unique {
        // no earlier member can have this key: no search, no fingerprint (so a later key that
        // is not known to be unique searches them all)
        keys.incomplete = true;
        doc.members.push(m());
    } else {
        upsert(p, &mut doc.members, from, keys, m());
    }
    Ok(())
}

/// `id`: an integer literal within 64 bits, or why not.
#[inline]
fn order_id(p: &mut Parser, depth: usize) -> Result<Id> {
    let start = p.pos;
    if !matches!(p.peek(), b'-' | b'0'..=b'9') {
        p.skip(depth)?;
        return Ok(Id::NotInt);
    }
    if !p.number()? {
        return Ok(Id::NotInt);
    }
    Ok(integer(&p.b[start..p.pos]).map_or(Id::OutOfRange, Id::Int))
}

/// `status`: whether it is `"cancelled"` (`None`: not a string).
#[inline]
fn order_status(p: &mut Parser, depth: usize) -> Result<Option<bool>> {
    if p.peek() != b'"' {
        p.skip(depth)?;
        return Ok(None);
    }
    let s = p.string()?;
    Ok(Some(p.is(s, "cancelled")))
}

/// `customer`: whether it is an object, and its `tier` string.
#[inline]
fn customer_tier(p: &mut Parser, keys: &mut KeyOrder, depth: usize) -> Result<(bool, Option<Str>)> {
    if p.peek() != b'{' {
        p.skip(depth)?;
        return Ok((false, None));
    }
    let mut tier = None;
    p.object_keyed(depth + 1, keys, |p, key, _, depth| {
        customer_member(p, key, depth, &mut tier)
    })?;
    Ok((true, tier))
}

#[inline]
fn customer_member(p: &mut Parser, key: Str, depth: usize, tier: &mut Option<Str>) -> Result<()> {
    if p.is(key, "tier") {
        *tier = None;
        if p.peek() == b'"' {
            *tier = Some(p.string()?);
            return Ok(());
        }
    }
    p.skip(depth)
}

/// `items`: its elements appended to `items`, as the range they fill (`None`: not an array).
#[inline]
fn items(
    p: &mut Parser,
    items: &mut Vec<Item>,
    keys: &mut KeyOrder,
    depth: usize,
) -> Result<Option<Range<usize>>> {
    if p.peek() != b'[' {
        p.skip(depth)?;
        return Ok(None);
    }
    let first = items.len();
    p.array(depth + 1, |p, depth| item(p, keys, depth, items))?;
    Ok(Some(first..items.len()))
}

/// An element of `items`, appended to them. Pushed here, not returned: moved through a
/// `Result<Item>`, whose error variant overlaps the bytes after the item's `bool`, those
/// bytes were copied by two overlapping 4-byte stores and loads, a failed store forward
/// (8% of this function's samples).
#[inline]
fn item(p: &mut Parser, keys: &mut KeyOrder, depth: usize, items: &mut Vec<Item>) -> Result<()> {
    let mut item = Item {
        object: false,
        qty: None,
        price: None,
    };
    if p.peek() == b'{' {
        item.object = true;
        p.object_keyed(depth + 1, keys, |p, key, _, depth| {
            item_member(p, key, depth, &mut item)
        })?;
    } else {
        p.skip(depth)?;
    }
    items.push(item);
    Ok(())
}

/// A member of an item: `qty` and `price` are decoded as floats, the rest skipped.
#[inline]
fn item_member(p: &mut Parser, key: Str, depth: usize, item: &mut Item) -> Result<()> {
    let slot = if p.is(key, "qty") {
        &mut item.qty
    } else if p.is(key, "price") {
        &mut item.price
    } else {
        return p.skip(depth);
    };
    *slot = None;
    if matches!(p.peek(), b'-' | b'0'..=b'9') {
        *slot = Some(p.number_f64()?);
        Ok(())
    } else {
        p.skip(depth)
    }
}

/// `tags`: its elements appended to `tags` (`None` for one that is not a string), as the
/// range they fill (`None`: not an array).
#[inline]
fn tags(p: &mut Parser, tags: &mut Vec<Option<Str>>, depth: usize) -> Result<Option<Range<usize>>> {
    if p.peek() != b'[' {
        p.skip(depth)?;
        return Ok(None);
    }
    let first = tags.len();
    p.array(depth + 1, |p, depth| {
        tags.push(tag(p, depth)?);
        Ok(())
    })?;
    Ok(Some(first..tags.len()))
}

#[inline]
fn tag(p: &mut Parser, depth: usize) -> Result<Option<Str>> {
    if p.peek() == b'"' {
        return Ok(Some(p.string()?));
    }
    p.skip(depth)?;
    Ok(None)
}
