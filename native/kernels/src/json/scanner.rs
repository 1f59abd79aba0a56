//! The structural scanner: a validating, single-pass JSON tokenizer over the input bytes.
//!
//! It knows the JSON grammar (RFC 8259), UTF-8 and the nesting limit, and nothing of orders:
//! containers are walked by [`Parser::array`] and [`Parser::object`], which hand each element
//! or member to a visitor (the order extraction in `orders.rs`, or [`Parser::skip`]); strings
//! come back as spans ([`Str`]) decoded only when asked ([`Str::text`]). Error messages carry
//! the line and column, as Python's parser reports them.

use std::borrow::Cow;

use super::key_order::KeyOrder;
use super::plain_number::plain_number;
use super::skip::SkippedKeys;
use super::stops::find_string_stop;
use super::MAX_DEPTH;
use crate::{KernelError, Result};

/// A string token: the span of its content between the quotes, and whether it has escapes.
#[derive(Clone, Copy, Debug)]
pub(super) struct Str {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) escaped: bool,
}

impl Str {
    /// The content of a string token of `input`, unescaped.
    pub(super) fn text(self, input: &[u8]) -> Cow<'_, str> {
        let raw = &input[self.start..self.end];
        if self.escaped {
            Cow::Owned(unescape(raw))
        } else {
            // SAFETY: a `Str` is only made by `Parser::string()` on a body whose UTF-8 was
            // validated whole (`orders::parse`), and its span runs from after an opening `"`
            // to before the closing `"`: ASCII bytes, so on character boundaries.
            Cow::Borrowed(unsafe { std::str::from_utf8_unchecked(raw) })
        }
    }

    /// The token with its quotes, as it stands in `input`.
    pub(super) fn quoted(self, input: &[u8]) -> &[u8] {
        &input[self.start - 1..self.end + 1]
    }
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

pub(super) fn malformed_at(input: &[u8], pos: usize, what: &str) -> KernelError {
    let (line, column) = line_column(input, pos);
    KernelError::invalid(format!(
        "json: malformed JSON: {what} at line {line} column {column}"
    ))
}

fn hex4(b: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for &c in b.get(..4)? {
        let d = (c as char).to_digit(16)?;
        v = v * 16 + d;
    }
    Some(v)
}

pub(super) struct Parser<'a> {
    pub(super) b: &'a [u8],
    pub(super) pos: usize,
    /// incremented for every run of whitespace skipped, to tell compact spans from others
    pub(super) ws_runs: usize,
    /// the predicted keys of the objects the fast skip walks (`skip.rs`), by nesting level
    pub(super) skipped_keys: SkippedKeys,
}

impl<'a> Parser<'a> {
    /// A parser at the start of `b`.
    pub(super) fn new(b: &'a [u8]) -> Self {
        Parser {
            b,
            pos: 0,
            ws_runs: 0,
            skipped_keys: SkippedKeys::default(),
        }
    }

    #[inline]
    pub(super) fn peek(&self) -> u8 {
        self.b.get(self.pos).copied().unwrap_or(0)
    }

    /// Whitespace, if any: one test in the common case, where the next byte is a token's
    /// (compact documents have none, and every byte above a space ends the run).
    #[inline(always)]
    pub(super) fn ws(&mut self) {
        if self.b.get(self.pos).is_some_and(|&c| c > b' ') {
            return;
        }
        self.ws_run();
    }

    #[inline(never)]
    fn ws_run(&mut self) {
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

    /// A string at `"`: validates it and returns its content span. The body's UTF-8 was
    /// checked whole before the scan ([`super::orders::parse`]), so bytes >= 0x80 are content.
    ///
    /// Always inlined, for the common string (no escape: the first stop is its closing quote):
    /// keys and short values then cost one vector search, with no call and no `Result` passed
    /// through memory; anything else goes to [`Parser::string_rest`].
    ///
    /// `string_rest` returns only whether the string had escapes (the end is read back from
    /// `pos`): when it returned a whole `Str`, the fast path wrote its `Str` to the same stack
    /// slot field by field and the caller read it back as one 16-byte load, a store-forwarding
    /// stall on every key (a quarter of the time of `items` in `perf annotate`).
    #[inline(always)]
    pub(super) fn string(&mut self) -> Result<Str> {
        let start = self.pos + 1;
        let stop = find_string_stop(self.b, start);
        if self.b.get(stop) == Some(&b'"') {
            self.pos = stop + 1;
            return Ok(Str {
                start,
                end: stop,
                escaped: false,
            });
        }
        self.pos = stop;
        let escaped = self.string_rest()?;
        Ok(Str {
            start,
            end: self.pos - 1,
            escaped,
        })
    }

    /// The rest of a string from its first stop (at `pos`): an escape, a control character or
    /// the end of the input. Leaves `pos` after the closing quote; returns whether the string
    /// had escapes.
    #[inline(never)]
    fn string_rest(&mut self) -> Result<bool> {
        let mut escaped = false;
        let b = self.b;
        loop {
            match b.get(self.pos) {
                None => return Err(malformed_at(b, self.pos, "EOF while parsing a string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(escaped);
                }
                Some(b'\\') => {
                    escaped = true;
                    self.escape()?;
                    self.pos = find_string_stop(b, self.pos);
                }
                Some(_) => {
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
    pub(super) fn number(&mut self) -> Result<bool> {
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
        Err(malformed_at(
            self.b,
            start,
            "number out of range (overflows a double)",
        ))
    }

    /// A number's value as Python's `float(x)` would give it (correctly rounded): a short
    /// plain one from its digit mask (`plain_number`), any other the exact way.
    #[inline]
    pub(super) fn number_f64(&mut self) -> Result<f64> {
        if let Some((end, value)) = plain_number(self.b, self.pos) {
            self.pos = end;
            return Ok(value);
        }
        self.number_f64_exact()
    }

    /// [`Parser::number_f64`] digit by digit.
    pub(super) fn number_f64_exact(&mut self) -> Result<f64> {
        let start = self.pos;
        let int = self.number()?;
        let text = &self.b[start..self.pos];
        if int {
            // an `i64` converts to the nearest double, as the exact decimal value would
            if let Some(v) = integer(text) {
                return Ok(v as f64);
            }
        }
        if let Some(v) = exact_decimal(text) {
            return Ok(v);
        }
        // the grammar was checked: ASCII, and a valid Rust float literal
        let text = std::str::from_utf8(text).expect("ASCII");
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            // an integer of more than 308 digits: Python's float() overflows too
            _ => Err(malformed_at(
                self.b,
                start,
                "number out of range (overflows a double)",
            )),
        }
    }

    #[inline]
    fn literal(&mut self, word: &[u8]) -> Result<()> {
        if self.b[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(self.fail("expected value"))
        }
    }

    /// Any value; `depth` is the nesting level of the container holding it.
    ///
    /// Always inlined, so that scalars (most skipped values: SKUs, dates, dimensions) are
    /// skipped where they stand; only containers cost a call ([`Parser::skip_container`]).
    #[inline(always)]
    pub(super) fn skip(&mut self, depth: usize) -> Result<()> {
        match self.peek() {
            b'"' => self.string().map(drop),
            b'-' | b'0'..=b'9' => self.number().map(drop),
            b'[' | b'{' => self.skip_container(depth),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => Err(self.fail("expected value")),
        }
    }

    /// An array or object at `[` or `{`, validated and skipped: by the fast skip
    /// (`skip.rs`) when it takes it, else by the exact walk (which words any error).
    #[inline(never)]
    fn skip_container(&mut self, depth: usize) -> Result<()> {
        if self.skip_container_fast(depth) {
            return Ok(());
        }
        if self.peek() == b'[' {
            self.array(depth + 1, |p, d| p.skip(d))
        } else {
            self.object(depth + 1, |p, _, d| p.skip(d))
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
    pub(super) fn array(
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
            if self.separator(b']', "expected `,` or `]`")? {
                return Ok(());
            }
        }
    }

    /// What follows a value inside a container: a `,` (and the whitespace after it), then
    /// `false`; or the container's `close`, then `true`.
    #[inline(always)]
    fn separator(&mut self, close: u8, what: &str) -> Result<bool> {
        self.ws();
        match self.peek() {
            b',' => {
                self.pos += 1;
                self.ws();
                Ok(false)
            }
            c if c == close => {
                self.pos += 1;
                Ok(true)
            }
            _ => Err(self.fail(what)),
        }
    }

    /// An object at `{` at nesting level `depth`; `member` parses each value (after the
    /// whitespace before it) and gets its key and `depth`.
    #[inline]
    pub(super) fn object(
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
            if self.separator(b'}', "expected `,` or `}`")? {
                return Ok(());
            }
        }
    }

    /// [`Parser::object`] with each member's separator and key first compared with `keys`'
    /// prediction for its index (the previous object of the same place, see `key_order`): the
    /// `,` before a key is part of the predicted token, so a member that matches costs that
    /// compare and its value. Whatever does not match takes the exact way
    /// ([`Parser::next_key`]), which learns the token for the next object. `member` is also
    /// told whether its key is known to differ from the object's earlier keys
    /// ([`KeyOrder::unique`]).
    #[inline]
    pub(super) fn object_keyed(
        &mut self,
        depth: usize,
        keys: &mut KeyOrder,
        mut member: impl FnMut(&mut Self, Str, bool, usize) -> Result<()>,
    ) -> Result<()> {
        self.enter(depth)?;
        self.pos += 1;
        let mut index = 0;
        loop {
            // after the `{` or after a member's value
            let key = match keys.predicted(self.b, self.pos, index) {
                Some((key, len)) => {
                    self.pos += len;
                    key
                }
                None if self.peek() == b'}' => {
                    self.pos += 1;
                    return Ok(());
                }
                None => match self.next_key(keys, index)? {
                    Some(key) => key,
                    None => return Ok(()),
                },
            };
            self.ws();
            member(self, key, keys.unique(index), depth)?;
            index += 1;
        }
    }

    /// The exact way to member `index`'s key from after the `{` or the previous value: the
    /// separator, the key and its colon, the token from the separator to the colon remembered
    /// in `keys` when it has no whitespace and the key no escape. `None`: the object ended.
    #[inline(never)]
    fn next_key(&mut self, keys: &mut KeyOrder, index: usize) -> Result<Option<Str>> {
        let from = self.pos;
        if index > 0 {
            if self.separator(b'}', "expected `,` or `}`")? {
                return Ok(None);
            }
        } else {
            self.ws();
            if self.peek() == b'}' {
                self.pos += 1;
                return Ok(None);
            }
        }
        if self.peek() != b'"' {
            return Err(self.fail("key must be a string"));
        }
        let quote = self.pos;
        let key = self.string()?;
        let tight = !key.escaped && quote == from + usize::from(index > 0) && self.peek() == b':';
        keys.learn(index, tight.then(|| &self.b[from..self.pos + 1]));
        self.ws();
        self.expect(b':', "expected `:`")?;
        Ok(Some(key))
    }

    pub(super) fn text(&self, s: Str) -> Cow<'a, str> {
        s.text(self.b)
    }

    /// Whether string `s` is `word`. Inlined: with `word` a constant, the comparison of an
    /// unescaped key is a length check and a load or two instead of a `memcmp` call.
    #[inline]
    pub(super) fn is(&self, s: Str, word: &str) -> bool {
        let raw = &self.b[s.start..s.end];
        if s.escaped {
            unescaped_is(raw, word)
        } else {
            raw == word.as_bytes()
        }
    }
}

/// Whether the escaped string content `raw` unescapes to `word`. Out of line and given the
/// span, not the `Str`: a call taking the `Str` (three fields, passed by reference) made every
/// inlined [`Parser::is`] store its key on the stack first, on the common path too.
#[cold]
#[inline(never)]
fn unescaped_is(raw: &[u8], word: &str) -> bool {
    unescape(raw) == word
}

/// The value of an integer literal the scanner validated (`-?[0-9]+`), if it fits in an
/// `i64`: digits accumulated with overflow checks (for an order's `id` this replaced
/// `str::from_utf8`, a call, and `str::parse`, which checked again what the scanner had).
#[inline]
pub(super) fn integer(text: &[u8]) -> Option<i64> {
    let (negative, digits) = match text {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, text),
    };
    let magnitude = digits.iter().try_fold(0u64, |v, &d| {
        v.checked_mul(10)?.checked_add(u64::from(d - b'0'))
    })?;
    if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// Powers of ten exact as doubles (up to 1e22), for Clinger's fast path.
pub(super) const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// A plain decimal literal (`-?digits.digits`, no exponent) as a double when it converts
/// exactly: at most 15 significant digits and at most 22 decimals, so the digits and the
/// power of ten are both exact doubles and one IEEE division rounds correctly (Clinger's
/// fast path). `None`: not that shape; the caller parses it the general way.
#[inline]
fn exact_decimal(text: &[u8]) -> Option<f64> {
    let (neg, digits) = match text {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, text),
    };
    if digits.len() > 16 {
        return None;
    }
    let mut mantissa = 0u64;
    let mut decimals = None;
    for (i, &c) in digits.iter().enumerate() {
        match c {
            b'0'..=b'9' => mantissa = mantissa * 10 + u64::from(c - b'0'),
            b'.' => decimals = Some(digits.len() - i - 1),
            _ => return None,
        }
    }
    // at most 15 digits: below 2^53, exact as a double
    let value = mantissa as f64 / POW10[decimals?];
    Some(if neg { -value } else { value })
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
