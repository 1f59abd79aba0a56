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

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::ops::Range;

use crate::{check_payload_size, KernelError, Result};

/// Deepest nesting accepted (the specification asks for at least 128; orjson allows 1024).
pub const MAX_DEPTH: usize = 1024;

pub fn run(input: &[u8]) -> Result<Vec<u8>> {
    check_payload_size("json", input.len())?;
    let document = parse(input)?;
    let plan = transform(&document)?;
    Ok(serialize(&document, &plan))
}

/// A string token: the span of its content between the quotes, and whether it has escapes.
#[derive(Clone, Copy, Debug)]
struct Str {
    start: usize,
    end: usize,
    escaped: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Other,
    Orders,
    Summary,
    Tags,
    Replaced,
}

/// A member of an object whose keys are tracked: raw key (with quotes), raw value span, whether
/// the value has insignificant whitespace inside, and what the transform does with it.
#[derive(Clone, Debug)]
struct Member {
    key: Str,
    value: Range<usize>,
    compact: bool,
    kind: Kind,
}

#[derive(Clone, Copy, Debug)]
enum Id {
    NotInt,
    OutOfRange,
    Int(i64),
}

#[derive(Clone, Copy, Debug)]
struct Item {
    object: bool,
    qty: Option<f64>,
    price: Option<f64>,
}

#[derive(Clone, Debug)]
struct Order {
    object: bool,
    members: Range<usize>,
    id: Id,
    /// `None`: not a string; `Some(cancelled)`
    status: Option<bool>,
    customer: bool,
    tier: Option<Str>,
    items: Option<Range<usize>>,
    tags: Option<Range<usize>>,
}

/// A parsed body: the spans and decoded facts the transform needs.
#[derive(Debug)]
pub struct Document<'a> {
    input: &'a [u8],
    top: Range<usize>,
    /// `None`: the body is not an object or has no `orders` array
    orders: Option<Range<usize>>,
    order_list: Vec<Order>,
    members: Vec<Member>,
    items: Vec<Item>,
    /// tag strings (`None`: not a string)
    tags: Vec<Option<Str>>,
}

/// The transform's result: kept orders (indices into the document's orders) in output order
/// with their totals, and the summary.
#[derive(Debug)]
pub struct Plan {
    kept: Vec<(usize, f64)>,
    revenue: f64,
    by_tier: Vec<(String, f64)>,
}

fn line_column(input: &[u8], pos: usize) -> (usize, usize) {
    let pos = pos.min(input.len());
    let before = &input[..pos];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = pos
        - before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1)
        + 1;
    (line, column)
}

fn malformed_at(input: &[u8], pos: usize, what: &str) -> KernelError {
    let (line, column) = line_column(input, pos);
    KernelError::invalid(format!(
        "json: malformed JSON: {what} at line {line} column {column}"
    ))
}

const fn string_stops() -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = true;
        i += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    while i < 256 {
        if i >= 0x80 {
            t[i] = true;
        }
        i += 1;
    }
    t
}
static STRING_STOP: [bool; 256] = string_stops();

fn hex4(b: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for &c in b.get(..4)? {
        let d = (c as char).to_digit(16)?;
        v = v * 16 + d;
    }
    Some(v)
}

struct Parser<'a> {
    b: &'a [u8],
    pos: usize,
    /// incremented for every run of whitespace skipped, to tell compact spans from others
    ws_runs: usize,
}

impl<'a> Parser<'a> {
    #[inline]
    fn peek(&self) -> u8 {
        self.b.get(self.pos).copied().unwrap_or(0)
    }

    #[inline]
    fn ws(&mut self) {
        let start = self.pos;
        while let Some(&c) = self.b.get(self.pos) {
            if matches!(c, b' ' | b'\n' | b'\r' | b'\t') {
                self.pos += 1;
            } else {
                break;
            }
        }
        if self.pos != start {
            self.ws_runs += 1;
        }
    }

    fn fail(&self, what: &str) -> KernelError {
        if self.pos >= self.b.len() {
            return malformed_at(self.b, self.pos, "EOF while parsing a value");
        }
        malformed_at(self.b, self.pos, what)
    }

    #[inline]
    fn expect(&mut self, c: u8, what: &str) -> Result<()> {
        if self.peek() == c {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.fail(what))
        }
    }

    /// A string at `"`: validates it and returns its content span.
    #[inline]
    fn string(&mut self) -> Result<Str> {
        self.pos += 1;
        let start = self.pos;
        let mut escaped = false;
        let b = self.b;
        loop {
            // 8 bytes at a time: jump to the first `"`, `\` or control character (the lowest
            // flagged byte of the SWAR test is exact; only bytes above it can be false hits)
            let mut c = 0;
            while let Some(chunk) = b.get(self.pos..self.pos + 8) {
                let x = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
                const ONES: u64 = 0x0101_0101_0101_0101;
                const HIGH: u64 = 0x8080_8080_8080_8080;
                let quote = x ^ (ONES * b'"' as u64);
                let backslash = x ^ (ONES * b'\\' as u64);
                let found = ((quote.wrapping_sub(ONES) & !quote)
                    | (backslash.wrapping_sub(ONES) & !backslash)
                    | (x.wrapping_sub(ONES * 0x20) & !x)
                    | x)
                    & HIGH;
                if found != 0 {
                    self.pos += (found.trailing_zeros() / 8) as usize;
                    c = b[self.pos];
                    break;
                }
                self.pos += 8;
            }
            if c == 0 {
                // fewer than 8 bytes left
                match b.get(self.pos) {
                    None => return Err(malformed_at(b, self.pos, "EOF while parsing a string")),
                    Some(&x) if !STRING_STOP[x as usize] => {
                        self.pos += 1;
                        continue;
                    }
                    Some(&x) => c = x,
                }
            }
            match c {
                b'"' => {
                    let end = self.pos;
                    self.pos += 1;
                    return Ok(Str {
                        start,
                        end,
                        escaped,
                    });
                }
                b'\\' => {
                    escaped = true;
                    self.escape()?;
                }
                0x80.. => {
                    // one UTF-8 sequence, checked by the standard library
                    let len = match c {
                        0xC2..=0xDF => 2,
                        0xE0..=0xEF => 3,
                        0xF0..=0xF4 => 4,
                        _ => 0,
                    };
                    match b.get(self.pos..self.pos + len) {
                        Some(seq) if len > 0 && std::str::from_utf8(seq).is_ok() => {
                            self.pos += len;
                        }
                        _ => return Err(malformed_at(b, self.pos, "invalid UTF-8")),
                    }
                }
                _ => {
                    return Err(malformed_at(
                        b,
                        self.pos,
                        "control character (\\u0000-\\u001F) found while parsing a string",
                    ))
                }
            }
        }
    }

    /// An escape sequence at `\`.
    fn escape(&mut self) -> Result<()> {
        let b = self.b;
        match b.get(self.pos + 1) {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                self.pos += 2;
                Ok(())
            }
            Some(b'u') => {
                let Some(n) = hex4(&b[self.pos + 2..]) else {
                    return Err(malformed_at(b, self.pos, "invalid \\u escape"));
                };
                let lone = || {
                    let (line, column) = line_column(b, self.pos);
                    KernelError::invalid(format!(
                        "json: document contains a lone UTF-16 surrogate escape at line {line} \
                         column {column}"
                    ))
                };
                match n {
                    0xDC00..=0xDFFF => Err(lone()),
                    0xD800..=0xDBFF => {
                        let next = &b[self.pos + 6..];
                        match (next.get(..2), hex4(next.get(2..).unwrap_or(&[]))) {
                            (Some(b"\\u"), Some(0xDC00..=0xDFFF)) => {
                                self.pos += 12;
                                Ok(())
                            }
                            _ => Err(lone()),
                        }
                    }
                    _ => {
                        self.pos += 6;
                        Ok(())
                    }
                }
            }
            None => Err(malformed_at(b, self.pos + 1, "EOF while parsing a string")),
            _ => Err(malformed_at(b, self.pos, "invalid escape")),
        }
    }

    /// A number at `-` or a digit: validates the grammar; returns whether it is an integer.
    ///
    /// A float literal that overflows a double (`1e400`) is rejected wherever it stands, as
    /// Python's parser turns it into infinity, which is not JSON. Only literals with an
    /// exponent or more than 308 digits can overflow, so only those are converted here.
    #[inline]
    fn number(&mut self) -> Result<bool> {
        let b = self.b;
        let start = self.pos;
        let digit = |p: usize| b.get(p).is_some_and(u8::is_ascii_digit);
        if self.peek() == b'-' {
            self.pos += 1;
        }
        match self.peek() {
            b'0' => self.pos += 1,
            b'1'..=b'9' => {
                self.pos += 1;
                while digit(self.pos) {
                    self.pos += 1;
                }
            }
            _ => return Err(self.fail("invalid number")),
        }
        let mut int = true;
        if self.peek() == b'.' {
            int = false;
            self.pos += 1;
            if !digit(self.pos) {
                return Err(self.fail("invalid number"));
            }
            while digit(self.pos) {
                self.pos += 1;
            }
        }
        if matches!(self.peek(), b'e' | b'E') {
            int = false;
            self.pos += 1;
            if matches!(self.peek(), b'+' | b'-') {
                self.pos += 1;
            }
            if !digit(self.pos) {
                return Err(self.fail("invalid number"));
            }
            while digit(self.pos) {
                self.pos += 1;
            }
            self.check_finite(start)?;
        } else if !int && self.pos - start > 308 {
            self.check_finite(start)?;
        }
        Ok(int)
    }

    /// Reject the float literal `b[start..pos]` if it overflows a double.
    #[cold]
    fn check_finite(&self, start: usize) -> Result<()> {
        let text = std::str::from_utf8(&self.b[start..self.pos]).expect("ASCII");
        if text.parse::<f64>().is_ok_and(f64::is_finite) {
            return Ok(());
        }
        Err(malformed_at(self.b, start, "number out of range (overflows a double)"))
    }

    /// A number's value as Python's `float(x)` would give it (correctly rounded).
    fn number_f64(&mut self) -> Result<f64> {
        let start = self.pos;
        let int = self.number()?;
        let text = &self.b[start..self.pos];
        if int && text.len() <= 18 {
            let (neg, digits) = match text {
                [b'-', rest @ ..] => (true, rest),
                _ => (false, text),
            };
            let v = digits
                .iter()
                .fold(0i64, |v, &d| v * 10 + i64::from(d - b'0'));
            return Ok(if neg { -v } else { v } as f64);
        }
        // the grammar was checked: ASCII, and a valid Rust float literal
        let text = std::str::from_utf8(text).expect("ASCII");
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            // an integer of more than 308 digits: Python's float() overflows too
            _ => Err(malformed_at(self.b, start, "number out of range (overflows a double)")),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<()> {
        if self.b[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(self.fail("expected value"))
        }
    }

    /// Any value; `depth` is the nesting level of the container holding it.
    fn skip(&mut self, depth: usize) -> Result<()> {
        match self.peek() {
            b'"' => self.string().map(drop),
            b'-' | b'0'..=b'9' => self.number().map(drop),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'[' => self.array(depth + 1, |p, d| p.skip(d)),
            b'{' => self.object(depth + 1, |p, _, d| p.skip(d)),
            _ => Err(self.fail("expected value")),
        }
    }

    fn enter(&self, depth: usize) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(KernelError::invalid(format!(
                "json: document nested too deeply (more than {MAX_DEPTH} levels)"
            )));
        }
        Ok(())
    }

    /// An array at `[` at nesting level `depth`; `element` parses each element (after the
    /// whitespace before it) and gets `depth`.
    #[inline]
    fn array(
        &mut self,
        depth: usize,
        mut element: impl FnMut(&mut Self, usize) -> Result<()>,
    ) -> Result<()> {
        self.enter(depth)?;
        self.pos += 1;
        self.ws();
        if self.peek() == b']' {
            self.pos += 1;
            return Ok(());
        }
        loop {
            element(self, depth)?;
            self.ws();
            match self.peek() {
                b',' => {
                    self.pos += 1;
                    self.ws();
                }
                b']' => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(self.fail("expected `,` or `]`")),
            }
        }
    }

    /// An object at `{` at nesting level `depth`; `member` parses each value (after the
    /// whitespace before it) and gets its key and `depth`.
    #[inline]
    fn object(
        &mut self,
        depth: usize,
        mut member: impl FnMut(&mut Self, Str, usize) -> Result<()>,
    ) -> Result<()> {
        self.enter(depth)?;
        self.pos += 1;
        self.ws();
        if self.peek() == b'}' {
            self.pos += 1;
            return Ok(());
        }
        loop {
            if self.peek() != b'"' {
                return Err(self.fail("key must be a string"));
            }
            let key = self.string()?;
            self.ws();
            self.expect(b':', "expected `:`")?;
            self.ws();
            member(self, key, depth)?;
            self.ws();
            match self.peek() {
                b',' => {
                    self.pos += 1;
                    self.ws();
                }
                b'}' => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(self.fail("expected `,` or `}`")),
            }
        }
    }

    fn text(&self, s: Str) -> Cow<'a, str> {
        let raw = &self.b[s.start..s.end];
        if s.escaped {
            Cow::Owned(unescape(raw))
        } else {
            // SAFETY: a `Str` is only made by `string()` after it checked every byte of the
            // content: ASCII, or complete UTF-8 sequences validated by `str::from_utf8`.
            Cow::Borrowed(unsafe { std::str::from_utf8_unchecked(raw) })
        }
    }

    fn is(&self, s: Str, word: &str) -> bool {
        if s.escaped {
            self.text(s) == word
        } else {
            &self.b[s.start..s.end] == word.as_bytes()
        }
    }
}

/// Decode the content of a validated JSON string.
fn unescape(raw: &[u8]) -> String {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let c = raw[i];
        if c != b'\\' {
            out.push(c);
            i += 1;
            continue;
        }
        let simple = match raw[i + 1] {
            b'"' => Some(b'"'),
            b'\\' => Some(b'\\'),
            b'/' => Some(b'/'),
            b'b' => Some(8),
            b'f' => Some(12),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            _ => None,
        };
        if let Some(s) = simple {
            out.push(s);
            i += 2;
            continue;
        }
        let mut n = hex4(&raw[i + 2..]).expect("validated escape");
        i += 6;
        if (0xD800..0xDC00).contains(&n) {
            let low = hex4(&raw[i + 2..]).expect("validated surrogate pair");
            n = 0x10000 + ((n - 0xD800) << 10) + (low - 0xDC00);
            i += 6;
        }
        let ch = char::from_u32(n).expect("validated scalar value");
        out.extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes());
    }
    String::from_utf8(out).expect("valid UTF-8 by construction")
}

fn shape_error() -> KernelError {
    KernelError::invalid("expected a JSON object with an 'orders' array at the top level")
}

/// Insert `m` into `members[from..]`, replacing the value of an existing equal key (the last
/// duplicate wins, at the first one's position).
fn upsert(p: &Parser, members: &mut Vec<Member>, from: usize, m: Member) {
    let raw = |s: Str| &p.b[s.start..s.end];
    let existing = members[from..].iter_mut().find(|old| {
        if old.key.escaped || m.key.escaped {
            p.text(old.key) == p.text(m.key)
        } else {
            raw(old.key) == raw(m.key)
        }
    });
    match existing {
        Some(old) => *old = m,
        None => members.push(m),
    }
}

/// Parse and validate the grammar of a body; the schema is checked by [`transform`].
pub fn parse(input: &[u8]) -> Result<Document<'_>> {
    // UTF-8 is checked as the scan goes (inside strings, one sequence at a time; outside them
    // only ASCII is grammar). Python decodes the whole body before parsing, so on any error an
    // invalid body is reported as such first.
    scan(input).map_err(|e| match std::str::from_utf8(input) {
        Err(utf8) => KernelError::invalid(format!("json: input is not valid UTF-8: {utf8}")),
        Ok(_) => e,
    })
}

fn scan(input: &[u8]) -> Result<Document<'_>> {
    let mut doc = Document {
        input,
        top: 0..0,
        orders: None,
        order_list: Vec::new(),
        members: Vec::with_capacity(16),
        items: Vec::with_capacity(input.len() / 128),
        tags: Vec::with_capacity(input.len() / 256),
    };
    let mut p = Parser {
        b: input,
        pos: 0,
        ws_runs: 0,
    };
    p.ws();
    if p.peek() == b'{' {
        let mut top = Vec::new();
        p.object(1, |p, key, depth| {
            let start = p.pos;
            let runs = p.ws_runs;
            let kind = if p.is(key, "orders") {
                if p.peek() == b'[' {
                    doc.orders = Some(parse_orders(p, &mut doc, depth)?);
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
            let m = Member {
                key,
                value: start..p.pos,
                compact: runs == p.ws_runs,
                kind,
            };
            upsert(p, &mut top, 0, m);
            Ok(())
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
    Ok(doc)
}

fn parse_orders(p: &mut Parser, doc: &mut Document, depth: usize) -> Result<Range<usize>> {
    let first = doc.order_list.len();
    p.array(depth + 1, |p, depth| {
        let order = if p.peek() == b'{' {
            parse_order(p, doc, depth)?
        } else {
            p.skip(depth)?;
            Order {
                object: false,
                members: 0..0,
                id: Id::NotInt,
                status: None,
                customer: false,
                tier: None,
                items: None,
                tags: None,
            }
        };
        doc.order_list.push(order);
        Ok(())
    })?;
    Ok(first..doc.order_list.len())
}

fn parse_order(p: &mut Parser, doc: &mut Document, depth: usize) -> Result<Order> {
    let from = doc.members.len();
    let mut o = Order {
        object: true,
        members: 0..0,
        id: Id::NotInt,
        status: None,
        customer: false,
        tier: None,
        items: None,
        tags: None,
    };
    p.object(depth + 1, |p, key, depth| {
        let start = p.pos;
        let runs = p.ws_runs;
        let c = p.peek();
        let name: Cow<str> = p.text(key);
        let mut kind = Kind::Other;
        match &*name {
            "id" => {
                o.id = Id::NotInt;
                if c == b'-' || c.is_ascii_digit() {
                    if p.number()? {
                        let text = std::str::from_utf8(&p.b[start..p.pos]).expect("ASCII");
                        o.id = text.parse::<i64>().map_or(Id::OutOfRange, Id::Int);
                    }
                } else {
                    p.skip(depth)?;
                }
            }
            "status" => {
                o.status = None;
                if c == b'"' {
                    let s = p.string()?;
                    o.status = Some(p.is(s, "cancelled"));
                } else {
                    p.skip(depth)?;
                }
            }
            "customer" => {
                (o.customer, o.tier) = (false, None);
                if c == b'{' {
                    o.customer = true;
                    let mut tier = None;
                    p.object(depth + 1, |p, key, depth| {
                        if p.is(key, "tier") {
                            tier = None;
                            if p.peek() == b'"' {
                                tier = Some(p.string()?);
                                return Ok(());
                            }
                        }
                        p.skip(depth)
                    })?;
                    o.tier = tier;
                } else {
                    p.skip(depth)?;
                }
            }
            "items" => {
                o.items = None;
                if c == b'[' {
                    let first = doc.items.len();
                    let items = &mut doc.items;
                    p.array(depth + 1, |p, depth| {
                        let mut item = Item {
                            object: false,
                            qty: None,
                            price: None,
                        };
                        if p.peek() == b'{' {
                            item.object = true;
                            p.object(depth + 1, |p, key, depth| {
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
                            })?;
                        } else {
                            p.skip(depth)?;
                        }
                        items.push(item);
                        Ok(())
                    })?;
                    o.items = Some(first..doc.items.len());
                } else {
                    p.skip(depth)?;
                }
            }
            "tags" => {
                o.tags = None;
                kind = Kind::Tags;
                if c == b'[' {
                    let first = doc.tags.len();
                    let tags = &mut doc.tags;
                    p.array(depth + 1, |p, depth| {
                        if p.peek() == b'"' {
                            tags.push(Some(p.string()?));
                        } else {
                            p.skip(depth)?;
                            tags.push(None);
                        }
                        Ok(())
                    })?;
                    o.tags = Some(first..doc.tags.len());
                } else {
                    p.skip(depth)?;
                }
            }
            "total" | "item_count" => {
                kind = Kind::Replaced;
                p.skip(depth)?;
            }
            _ => p.skip(depth)?,
        }
        let m = Member {
            key,
            value: start..p.pos,
            compact: runs == p.ws_runs,
            kind,
        };
        upsert(p, &mut doc.members, from, m);
        Ok(())
    })?;
    o.members = from..doc.members.len();
    Ok(o)
}

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
        kept.push((orders.start + index, total, id));
    }
    kept.sort_by(|a, b| {
        b.1.partial_cmp(&a.1)
            .unwrap_or(Ordering::Equal)
            .then(a.2.cmp(&b.2))
    });
    let p = Parser {
        b: doc.input,
        pos: 0,
        ws_runs: 0,
    };
    let mut revenue = 0.0f64;
    let mut by_tier: Vec<(String, f64)> = Vec::new();
    let mut tier_index: HashMap<Cow<str>, usize> = HashMap::new();
    for &(i, total, _) in &kept {
        revenue += total;
        let tier = p.text(doc.order_list[i].tier.expect("checked"));
        match tier_index.get(&tier) {
            Some(&t) => by_tier[t].1 += total,
            None => {
                tier_index.insert(tier.clone(), by_tier.len());
                by_tier.push((tier.into_owned(), total));
            }
        }
    }
    Ok(Plan {
        kept: kept.into_iter().map(|(i, total, _)| (i, total)).collect(),
        revenue,
        by_tier,
    })
}

/// Copy a value, dropping insignificant whitespace outside strings.
fn push_compact(out: &mut Vec<u8>, raw: &[u8]) {
    let mut in_string = false;
    let mut i = 0;
    while i < raw.len() {
        let c = raw[i];
        if in_string {
            out.push(c);
            match c {
                b'\\' => {
                    out.push(raw[i + 1]);
                    i += 1;
                }
                b'"' => in_string = false,
                _ => {}
            }
        } else if !matches!(c, b' ' | b'\n' | b'\r' | b'\t') {
            in_string = c == b'"';
            out.push(c);
        }
        i += 1;
    }
}

fn push_value(out: &mut Vec<u8>, input: &[u8], m: &Member) {
    let raw = &input[m.value.clone()];
    if m.compact {
        out.extend_from_slice(raw);
    } else {
        push_compact(out, raw);
    }
}

fn push_key(out: &mut Vec<u8>, input: &[u8], key: Str) {
    out.extend_from_slice(&input[key.start - 1..key.end + 1]);
    out.push(b':');
}

/// A string as JSON text.
fn push_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for &c in s.as_bytes() {
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0..=0x1f => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(c >> 4)]);
                out.push(HEX[usize::from(c & 15)]);
            }
            _ => out.push(c),
        }
    }
    out.push(b'"');
}

/// A float, shortest round-trip; a non-finite one (only reachable with absurd inputs) as `null`.
fn push_float(out: &mut Vec<u8>, x: f64) {
    if x.is_finite() {
        out.extend_from_slice(zmij::Buffer::new().format_finite(x).as_bytes());
    } else {
        out.extend_from_slice(b"null");
    }
}

/// The output document: compact JSON.
pub fn serialize(doc: &Document, plan: &Plan) -> Vec<u8> {
    let input = doc.input;
    let p = Parser {
        b: input,
        pos: 0,
        ws_runs: 0,
    };
    let mut out = Vec::with_capacity(input.len() + 256);
    out.push(b'{');
    for m in &doc.members[doc.top.clone()] {
        match m.kind {
            Kind::Summary => continue,
            Kind::Orders => {
                push_key(&mut out, input, m.key);
                out.push(b'[');
                for (n, &(i, total)) in plan.kept.iter().enumerate() {
                    if n > 0 {
                        out.push(b',');
                    }
                    push_order(&mut out, &p, doc, &doc.order_list[i], total);
                }
                out.push(b']');
            }
            _ => {
                push_key(&mut out, input, m.key);
                push_value(&mut out, input, m);
            }
        }
        out.push(b',');
    }
    out.extend_from_slice(b"\"summary\":{\"count\":");
    out.extend_from_slice(itoa::Buffer::new().format(plan.kept.len()).as_bytes());
    out.extend_from_slice(b",\"revenue\":");
    push_float(&mut out, plan.revenue);
    out.extend_from_slice(b",\"revenue_by_tier\":{");
    for (n, (tier, sum)) in plan.by_tier.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        push_string(&mut out, tier);
        out.push(b':');
        push_float(&mut out, *sum);
    }
    out.extend_from_slice(b"}}}");
    out
}

fn push_order(out: &mut Vec<u8>, p: &Parser, doc: &Document, o: &Order, total: f64) {
    let input = doc.input;
    out.push(b'{');
    for m in &doc.members[o.members.clone()] {
        match m.kind {
            Kind::Replaced => continue,
            Kind::Tags => {
                push_key(out, input, m.key);
                out.push(b'[');
                for (n, tag) in doc.tags[o.tags.clone().expect("checked")]
                    .iter()
                    .enumerate()
                {
                    if n > 0 {
                        out.push(b',');
                    }
                    let tag = tag.expect("checked");
                    let raw = &input[tag.start..tag.end];
                    if !tag.escaped && !raw.iter().any(|&b| b.is_ascii_uppercase() || b >= 0x80) {
                        out.extend_from_slice(&input[tag.start - 1..tag.end + 1]);
                    } else {
                        push_string(out, &p.text(tag).to_lowercase());
                    }
                }
                out.push(b']');
            }
            _ => {
                push_key(out, input, m.key);
                push_value(out, input, m);
            }
        }
        out.push(b',');
    }
    out.extend_from_slice(b"\"total\":");
    push_float(out, total);
    out.extend_from_slice(b",\"item_count\":");
    let count = o.items.as_ref().map_or(0, |r| r.len());
    out.extend_from_slice(itoa::Buffer::new().format(count).as_bytes());
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use serde_json::Value;

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
        for bad in [
            &b"{\"orders\": [], \"a\": \"\xc0\xaf\"}"[..], // overlong
            b"{\"orders\": [], \"a\": \"\xed\xa0\x80\"}",  // encoded surrogate
            b"{\"orders\": [], \"a\": \"\xf4\x90\x80\x80\"}", // above U+10FFFF
            b"{\"orders\": [], \"a\": \"abc\xe2\x82\"}",   // cut sequence
            b"{\"orders\": [], \"\xe9\": 1}",              // in a key
            b"{\"orders\": [], \"a\": \xe9}",              // outside strings
            b"{\"orders\": [}, \"a\": \"\xff\"}",          // malformed earlier, still UTF-8
        ] {
            assert!(
                err(bad).contains("not valid UTF-8"),
                "{bad:?}: {}",
                err(bad)
            );
        }
        assert!(run("{\"orders\": [], \"a\": \"é李😀 ΔΕΛΤΑ\"}".as_bytes()).is_ok());
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
