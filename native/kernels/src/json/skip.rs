//! The fast skip of a container that is only copied to the output (`shipping`, `dims_cm`,
//! `meta`...): the same grammar as the scanner's [`Parser::array`] and [`Parser::object`], as
//! one loop with an explicit stack instead of a visitor call and a `Result` per value.
//!
//! Why: these containers took about 30% of the kernel's time (removing `shipping` or
//! `dims_cm` from the 1 MB input saved 0.23 and 0.26 ms of 1.67): each value went through the
//! generic walk (a call per container and per number, each `Result` returned through memory,
//! the nesting check per level). Here a value costs a dispatch and its own scan. It won 4-5%
//! (issue 28), not the 30%: the values themselves (numbers above all) are most of the cost.
//!
//! It only says yes or no: on anything it does not take (an error, an exponent, a number
//! longer than 308 bytes, nesting deeper than [`STACK`] levels) the caller rewinds and runs
//! the exact walk, which words the error. So it must never accept what the exact walk rejects,
//! and when it accepts it ends where the exact walk ends, with the same whitespace count.

use super::flat_numbers::flat_number_array_end;
use super::key_order::KeyOrder;
use super::scanner::Parser;
use super::stops::find_string_stop;
use super::MAX_DEPTH;

/// Nesting levels the fast skip tracks (one bit each); deeper containers take the exact walk.
const STACK: usize = 64;

/// Levels of a skipped container (its own is 1) whose objects' keys are predicted.
const PREDICTED_LEVELS: usize = 2;

/// The predicted keys ([`KeyOrder`]) of the objects the fast skip walks, by their level in the
/// skipped container: `shipping` and its `address` in every order. One table for all the
/// skipped containers of a document: where their shapes differ, a key costs a failed compare
/// and a relearnt token, and takes the exact way.
///
/// Why: as for the extracted objects (`key_order.rs`), a key found by a string search puts
/// that search's latency on the position chain; a predicted one moves it by a constant.
#[derive(Default)]
pub(super) struct SkippedKeys {
    levels: [KeyOrder; PREDICTED_LEVELS],
}

impl Parser<'_> {
    /// Skip the array or object at `pos` (at `[` or `{`), held at nesting level `depth`, if it
    /// is valid JSON the fast path takes: then `pos` is after it, `ws_runs` counts its
    /// whitespace, and the result is `true`. `false`: nothing changed; walk it exactly.
    ///
    /// Two loops with direct branches, a value then what follows it: a first version, a
    /// `match` on a state variable, compiled to an indirect jump per token (11% of its samples
    /// in `perf annotate`) and won less (P50 ratio 0.99 against 0.96 in the same A/B).
    pub(super) fn skip_container_fast(&mut self, depth: usize) -> bool {
        let b = self.b;
        let mut p = self.pos;
        if depth < MAX_DEPTH {
            if let Some(end) = flat_numbers(b, p) {
                self.pos = end;
                return true;
            }
        }
        // bit 0: the innermost open container is an object
        let mut objects = 0u64;
        let mut level = 0;
        let mut spaced = false;
        // the index of the next member of the open objects whose keys are predicted, by level
        let mut index = [0usize; PREDICTED_LEVELS + 1];
        loop {
            // at a value
            let end = match b.get(p) {
                Some(b'[' | b'{') => {
                    if level == STACK || depth + level + 1 > MAX_DEPTH {
                        return false;
                    }
                    if let Some(end) = flat_numbers(b, p) {
                        // a value like a scalar: what follows it is handled below
                        Some(end)
                    } else {
                        objects = (objects << 1) | u64::from(b[p] == b'{');
                        level += 1;
                        let open = p + 1;
                        let predicted = objects & 1 == 1 && level <= PREDICTED_LEVELS;
                        if predicted {
                            index[level] = 1;
                            let keys = &self.skipped_keys.levels[level - 1];
                            if let Some((_, len)) = keys.predicted(b, open, 0) {
                                p = skip_ws(b, open + len, &mut spaced);
                                continue;
                            }
                        }
                        p = skip_ws(b, open, &mut spaced);
                        if b.get(p) != Some(&closer(objects)) {
                            match self.member_value(p, objects, &mut spaced) {
                                Some(value) => {
                                    if predicted {
                                        self.learn_skipped_key(level, 0, open, p);
                                    }
                                    p = value;
                                }
                                None => return false,
                            }
                            continue;
                        }
                        // empty: closed below, as after any value
                        Some(p)
                    }
                }
                Some(b'"') => self.string_end(p),
                Some(b'-' | b'0'..=b'9') => number_end(b, p),
                Some(b't') => literal_end(b, p, b"true"),
                Some(b'f') => literal_end(b, p, b"false"),
                Some(b'n') => literal_end(b, p, b"null"),
                _ => None,
            };
            let Some(end) = end else {
                return false;
            };
            p = end;
            // after a value (or at the closer of an empty container): close containers until
            // a `,` leads to the next member or element
            loop {
                p = skip_ws(b, p, &mut spaced);
                match b.get(p) {
                    Some(b',') => {
                        let predicted = objects & 1 == 1 && level <= PREDICTED_LEVELS;
                        let at = if predicted { index[level] } else { 0 };
                        if predicted {
                            index[level] += 1;
                            let keys = &self.skipped_keys.levels[level - 1];
                            if let Some((_, len)) = keys.predicted(b, p, at) {
                                p = skip_ws(b, p + len, &mut spaced);
                                break;
                            }
                        }
                        let member = skip_ws(b, p + 1, &mut spaced);
                        match self.member_value(member, objects, &mut spaced) {
                            Some(value) => {
                                if predicted {
                                    self.learn_skipped_key(level, at, p, member);
                                }
                                p = value;
                            }
                            None => return false,
                        }
                        break;
                    }
                    Some(&c) if c == closer(objects) => {
                        p += 1;
                        objects >>= 1;
                        level -= 1;
                        if level == 0 {
                            self.pos = p;
                            self.ws_runs += usize::from(spaced);
                            return true;
                        }
                    }
                    _ => return false,
                }
            }
        }
    }

    /// Remember the key token of member `index` of an object at `level` that the exact way just
    /// read and validated: from `from` (after the `{` for the first member, at the `,` for the
    /// others) to the colon, when the key starts right there, has no escape and is followed by
    /// its colon (see `key_order.rs`); else forget the slot's prediction.
    #[cold]
    fn learn_skipped_key(&mut self, level: usize, index: usize, from: usize, member: usize) {
        let b = self.b;
        let stop = find_string_stop(b, member + 1);
        let tight = member == from + usize::from(index > 0)
            && b.get(stop) == Some(&b'"')
            && b.get(stop + 1) == Some(&b':');
        self.skipped_keys.levels[level - 1].learn(index, tight.then(|| &b[from..stop + 2]));
    }

    /// From the first byte of a member (in an object: its key, `:` and the whitespace around)
    /// or of an element, to the first byte of its value; `None`: invalid.
    #[inline(always)]
    fn member_value(&mut self, p: usize, objects: u64, spaced: &mut bool) -> Option<usize> {
        if objects & 1 == 0 {
            return Some(p);
        }
        if self.b.get(p) != Some(&b'"') {
            return None;
        }
        let p = skip_ws(self.b, self.string_end(p)?, spaced);
        if self.b.get(p) != Some(&b':') {
            return None;
        }
        Some(skip_ws(self.b, p + 1, spaced))
    }

    /// The end (after the closing quote) of the string at `p`, validated; `None`: invalid.
    /// A string with escapes goes through the scanner's own string scan.
    #[inline(always)]
    fn string_end(&mut self, p: usize) -> Option<usize> {
        let stop = find_string_stop(self.b, p + 1);
        if self.b.get(stop) == Some(&b'"') {
            return Some(stop + 1);
        }
        let pos = std::mem::replace(&mut self.pos, p);
        let end = self.string().ok().map(|_| self.pos);
        self.pos = pos;
        end
    }
}

/// The end of the flat array of numbers at `p` (`flat_numbers.rs`), if there is one.
#[inline(always)]
fn flat_numbers(b: &[u8], p: usize) -> Option<usize> {
    if b.get(p) == Some(&b'[') {
        flat_number_array_end(b, p)
    } else {
        None
    }
}

/// The closing bracket of the innermost open container.
#[inline(always)]
fn closer(objects: u64) -> u8 {
    if objects & 1 == 1 {
        b'}'
    } else {
        b']'
    }
}

/// The first position from `p` on that is not whitespace; sets `spaced` if it skipped any.
#[inline(always)]
fn skip_ws(b: &[u8], mut p: usize, spaced: &mut bool) -> usize {
    while let Some(b' ' | b'\n' | b'\r' | b'\t') = b.get(p) {
        p += 1;
        *spaced = true;
    }
    p
}

/// The end of the number at `p` (`-` or a digit), by the scanner's grammar; `None`: invalid,
/// or an exponent or a literal of more than 308 bytes (which may overflow a double: the exact
/// scan converts those).
#[inline(always)]
fn number_end(b: &[u8], start: usize) -> Option<usize> {
    let digit = |p: usize| b.get(p).is_some_and(u8::is_ascii_digit);
    let mut p = start + usize::from(b[start] == b'-');
    match b.get(p) {
        Some(b'0') => p += 1,
        Some(b'1'..=b'9') => {
            p += 1;
            while digit(p) {
                p += 1;
            }
        }
        _ => return None,
    }
    if b.get(p) == Some(&b'.') {
        p += 1;
        if !digit(p) {
            return None;
        }
        while digit(p) {
            p += 1;
        }
    }
    if matches!(b.get(p), Some(b'e' | b'E')) || p - start > 308 {
        return None;
    }
    Some(p)
}

#[inline(always)]
fn literal_end(b: &[u8], p: usize, word: &[u8]) -> Option<usize> {
    b[p..].starts_with(word).then_some(p + word.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast skip of `text` at 0: `Some((end, whitespace seen))` or `None` (not taken).
    fn fast(text: &str) -> Option<(usize, bool)> {
        let mut p = Parser::new(text.as_bytes());
        p.skip_container_fast(0).then_some((p.pos, p.ws_runs > 0))
    }

    #[test]
    fn takes_valid_containers_and_nothing_else() {
        for (text, end, spaced) in [
            ("[]", 2, false),
            ("{}x", 2, false),
            ("[ ]", 3, true),
            (r#"[1,-0.5,"a\"b",true,false,null,[],{}]"#, 37, false),
            (r#"{"a":{"b":[1,{"c":"\u00e9"}]}, "z":0}"#, 37, true),
            ("[[[[1]]]],", 9, false),
        ] {
            assert_eq!(fast(text), Some((end, spaced)), "{text}");
        }
        for text in [
            "[1,]",
            "[,1]",
            "{\"a\"}",
            "{\"a\":1,}",
            "{1:2}",
            "[1}",
            "{\"a\":1]",
            "[01]",
            "[1.]",
            "[-]",
            "[1e5]",
            "[tru]",
            "[\"a\\x\"]",
            "[\"a\u{1}\"]",
            "[",
            "[1",
            "[\"a",
            "[1 2]",
            "{\"a\" 1}",
        ] {
            assert_eq!(fast(text), None, "{text}");
        }
        // nesting past the tracked stack, or past MAX_DEPTH from where it stands
        let deep = "[".repeat(STACK + 1) + &"]".repeat(STACK + 1);
        assert_eq!(fast(&deep), None);
        let mut p = Parser::new(b"[[]]");
        assert!(!p.skip_container_fast(MAX_DEPTH - 1));
        assert!(p.skip_container_fast(MAX_DEPTH - 2));
    }

    /// The predicted keys of skipped objects ([`SkippedKeys`]) change nothing: the fast skip of
    /// a container after another one (whose keys it learnt) takes what a fresh parser takes,
    /// and ends in the same place with the same whitespace count, for every pair of shapes.
    #[test]
    fn predicted_keys_of_skipped_objects_change_nothing() {
        let shapes = [
            r#"{"method":"air","address":{"city":"Lyon","zip":"1"},"parcels":[[1,2.5]]}"#,
            r#"{"address":{"city":"Lyon","zip":"1"},"method":"air","parcels":[[1,2.5]]}"#,
            r#"{"method":"air","address":{"zip":"1","city":"Lyon"}}"#,
            r#"{"method" :"air","address":{"city":"L"}}"#,
            r#"{"method":"air" ,"address":{"city": "L"}}"#,
            r#"{"method":"air", "address":{ "city":"L"}}"#,
            r#"{"m\u0065thod":"air","address":{}}"#,
            r#"{"method":"air","method":"x","a\"b":1}"#,
            r#"{"method":"air","address":{"city":"Lyon","zip":"1"}"#,
            r#"{"method":"air","address":{"city":1,"zip":}}"#,
            r#"{"method":"air",,"address":{}}"#,
            r#"{"method":"air","address":{"city":"L","zip":"2","x":{"y":1}},"p":[]}"#,
            r#"[{"method":"air"},{"method":"air","zip":"2"},{"zip":"2"}]"#,
            r#"{"method":"air","address":"x"}"#,
            r#"{"method":"air","address"}"#,
            r#"{"method":"air""address":{}}"#,
            r#"{}"#,
            r#"{"a":{}}"#,
        ];
        // padded: a prediction reads 16 bytes
        let padded: Vec<Vec<u8>> = shapes
            .iter()
            .map(|text| format!("{text}{:32}", "").into_bytes())
            .collect();
        // the skip of `text` at 0 by `p`
        fn skip<'a>(p: &mut Parser<'a>, text: &'a [u8]) -> Option<(usize, usize)> {
            p.b = text;
            p.pos = 0;
            p.ws_runs = 0;
            p.skip_container_fast(0).then_some((p.pos, p.ws_runs))
        }
        // the pairs of one shape twice that the fast skip takes: the predictions hit there
        let mut taken_twice = 0;
        for a in &padded {
            for b in &padded {
                let mut learnt = Parser::new(b"");
                skip(&mut learnt, a);
                skip(&mut learnt, a);
                let fresh = skip(&mut Parser::new(b""), b);
                let shown = || {
                    String::from_utf8_lossy(a).into_owned() + " then " + &String::from_utf8_lossy(b)
                };
                assert_eq!(skip(&mut learnt, b), fresh, "{}", shown());
                taken_twice += usize::from(a == b && fresh.is_some());
            }
        }
        assert!(taken_twice > 10, "{taken_twice}");
    }
}
