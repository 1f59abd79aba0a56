//! `text`: tokenize a batch of UTF-8 documents, hash the tokens into features and score them
//! with a linear model; per document the top 5 categories, their scores and a confidence (see
//! `workloads/text.py` for the specification: framing, character classes, case rules, hashes,
//! model and output layout).
//!
//! One pass per document over its bytes: ASCII through a 128-entry table, other code points
//! decoded in place (the document was validated first by `str::from_utf8`) and looked up in a
//! table of the BMP built once per process, like the model. Each token's FNV-1a hash is
//! computed while the token is read, from the normalised UTF-8 bytes, so no token is ever
//! materialised.

mod lanes;
mod tables;

use crate::{check_payload_size, KernelError, Result};
use lanes::{Lanes, TOKENS_PER_FLUSH};
use tables::{
    astral_class, mix64, Model, BMP, BUCKETS, CATEGORIES, FNV_OFFSET, FNV_PRIME, GOLDEN, ISOLATED,
    MODEL, SEPARATOR, WORD,
};

pub const MAGIC_IN: &[u8; 4] = b"HBTX";
pub const MAGIC_OUT: &[u8; 4] = b"HBTC";
pub const VERSION: u16 = 1;
pub const HEADER: usize = 12;
pub const MAX_DOCUMENTS: usize = 65536;
pub const TOP_K: usize = 5;
pub const OUT_HEADER: usize = 16;
pub const RECORD: usize = 72;
const WEIGHT_SCALE: f64 = 32768.0;
const LOGIT_SCALE: f64 = 8192.0;

fn invalid(message: String) -> KernelError {
    KernelError::invalid(format!("text: {message}"))
}

fn le_u16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le_u32(b: &[u8], at: usize) -> usize {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]) as usize
}

/// Check the framing, in the order the specification gives, and return the documents.
pub fn split_documents(input: &[u8]) -> Result<Vec<&[u8]>> {
    check_payload_size("text", input.len())?;
    if input.len() < HEADER {
        return Err(invalid(format!(
            "{} bytes is shorter than the 12-byte header",
            input.len()
        )));
    }
    if &input[..4] != MAGIC_IN {
        return Err(invalid(format!(
            "bad magic {}, expected 48425458 (\"HBTX\")",
            hex(&input[..4])
        )));
    }
    let version = le_u16(input, 4);
    if version != VERSION {
        return Err(invalid(format!(
            "unsupported version {version}, expected {VERSION}"
        )));
    }
    let flags = le_u16(input, 6);
    if flags != 0 {
        return Err(invalid(format!("flags are {flags}, expected 0")));
    }
    let count = le_u32(input, 8);
    if count > MAX_DOCUMENTS {
        return Err(invalid(format!(
            "{count} documents exceed the limit of {MAX_DOCUMENTS} per batch"
        )));
    }
    let mut at = HEADER + 4 * count;
    if input.len() < at {
        return Err(invalid(format!(
            "{} bytes cannot hold the length table of {count} documents ({at} bytes)",
            input.len()
        )));
    }
    let lengths: Vec<usize> = (0..count).map(|i| le_u32(input, HEADER + 4 * i)).collect();
    let text: u64 = lengths.iter().map(|&n| n as u64).sum();
    let expected = at as u64 + text;
    if input.len() as u64 != expected {
        return Err(invalid(format!(
            "expected {expected} bytes for {count} documents of {text} bytes in all, got {}",
            input.len()
        )));
    }
    Ok(lengths
        .into_iter()
        .map(|n| {
            let document = &input[at..at + n];
            at += n;
            document
        })
        .collect())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The per-document state while its tokens stream past.
struct Scorer<'m> {
    model: &'m Model,
    sums: [i64; CATEGORIES],
    /// the weights of the tokens since the last flush into `sums` ([`lanes`])
    recent: Lanes,
    recent_count: u32,
    count: u64,
    digest: u64,
}

impl<'m> Scorer<'m> {
    fn new(model: &'m Model) -> Self {
        Self {
            model,
            sums: [0; CATEGORIES],
            recent: Lanes::new(),
            recent_count: 0,
            count: 0,
            digest: 0,
        }
    }

    /// One token, by the FNV-1a hash of its normalised UTF-8 bytes.
    #[inline]
    fn token(&mut self, hash: u64) {
        self.count += 1;
        let term = mix64(hash.wrapping_add(self.count.wrapping_mul(GOLDEN)));
        self.digest = self.digest.wrapping_add(term);
        let row = &self.model[(hash % BUCKETS as u64) as usize];
        self.recent.add(row);
        self.recent_count += 1;
        if self.recent_count == TOKENS_PER_FLUSH {
            self.flush();
        }
    }

    /// Move the recent sums into the exact ones.
    fn flush(&mut self) {
        for (sum, recent) in self.sums.iter_mut().zip(self.recent.sums()) {
            *sum += i64::from(recent);
        }
        (self.recent, self.recent_count) = (Lanes::new(), 0);
    }

    /// The output record: digest, count, top categories, scores, confidence.
    fn write(&mut self, out: &mut Vec<u8>) {
        self.flush();
        let order = top(&self.sums);
        let n = self.count.max(1) as f64;
        out.extend_from_slice(&self.digest.to_le_bytes());
        out.extend_from_slice(&(self.count as u32).to_le_bytes());
        for &c in &order {
            out.extend_from_slice(&(c as u16).to_le_bytes());
        }
        out.extend_from_slice(&0u16.to_le_bytes());
        for &c in &order {
            let score = self.sums[c] as f64 / (WEIGHT_SCALE * n);
            out.extend_from_slice(&score.to_le_bytes());
        }
        out.extend_from_slice(&self.confidence(n).to_le_bytes());
    }

    /// Softmax probability of the top category over all categories.
    fn confidence(&self, n: f64) -> f64 {
        let scale = LOGIT_SCALE * n.sqrt();
        let logits = self.sums.map(|s| s as f64 / scale);
        let best = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        1.0 / logits.iter().map(|z| (z - best).exp()).sum::<f64>()
    }
}

/// The `TOP_K` categories of the largest sums, larger first, equal sums in ascending category
/// order: one insertion pass over the categories (a stable sort of all 32 per document was ~6%
/// of the kernel). A category enters only if strictly larger than the last kept one, so of
/// equal sums the earlier category stays ahead.
fn top(sums: &[i64; CATEGORIES]) -> [usize; TOP_K] {
    let mut best = [0usize; TOP_K];
    let mut len = 0;
    for (c, &sum) in sums.iter().enumerate() {
        if len == TOP_K && sum <= sums[best[TOP_K - 1]] {
            continue;
        }
        let mut at = len.min(TOP_K - 1);
        while at > 0 && sums[best[at - 1]] < sum {
            best[at] = best[at - 1];
            at -= 1;
        }
        best[at] = c;
        len = (len + 1).min(TOP_K);
    }
    best
}

/// ASCII: class and lowercase byte, from the same rules as every other code point.
static ASCII: [(u8, u8); 128] = {
    let mut table = [(SEPARATOR, 0u8); 128];
    let mut b = 0;
    while b < 128 {
        let byte = b as u8;
        table[b] = match byte {
            b'0'..=b'9' | b'a'..=b'z' => (WORD, byte),
            b'A'..=b'Z' => (WORD, byte + 32),
            _ => (SEPARATOR, byte),
        };
        b += 1;
    }
    table
};

/// Decode the code point starting at `at` of valid UTF-8 (not ASCII) and its length.
#[inline]
fn decode(bytes: &[u8], at: usize) -> (u32, usize) {
    let lead = u32::from(bytes[at]);
    let cont = |i: usize| u32::from(bytes[at + i] & 0x3F);
    if lead < 0xE0 {
        (((lead & 0x1F) << 6) | cont(1), 2)
    } else if lead < 0xF0 {
        (((lead & 0x0F) << 12) | (cont(1) << 6) | cont(2), 3)
    } else {
        (
            ((lead & 0x07) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3),
            4,
        )
    }
}

#[inline]
fn fnv(mut hash: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        hash = (hash ^ u64::from(b)).wrapping_mul(FNV_PRIME);
    }
    hash
}

/// Tokenize one (valid UTF-8) document: `token` gets the hash of each token, in order.
#[inline]
fn tokenize(document: &[u8], mut token: impl FnMut(u64)) {
    let bmp = &**BMP;
    let mut hash = FNV_OFFSET;
    let mut in_word = false;
    let mut at = 0;
    while at < document.len() {
        let byte = document[at];
        if byte < 0x80 {
            let (class, lower) = ASCII[usize::from(byte)];
            if class == WORD {
                hash = (hash ^ u64::from(lower)).wrapping_mul(FNV_PRIME);
                in_word = true;
            } else if in_word {
                token(hash);
                (hash, in_word) = (FNV_OFFSET, false);
            }
            at += 1;
            continue;
        }
        let (code, len) = decode(document, at);
        let (class, normal) = if code <= 0xFFFF {
            let entry = bmp[code as usize];
            ((entry >> 24) as u8, entry & 0x00FF_FFFF)
        } else {
            (astral_class(code), code)
        };
        let mut utf8 = [0u8; 4];
        let bytes: &[u8] = if normal == code {
            &document[at..at + len]
        } else {
            char::from_u32(normal)
                .expect("the case rules map to scalar values")
                .encode_utf8(&mut utf8)
                .as_bytes()
        };
        match class {
            WORD => {
                hash = fnv(hash, bytes);
                in_word = true;
            }
            _ => {
                if in_word {
                    token(hash);
                    (hash, in_word) = (FNV_OFFSET, false);
                }
                if class == ISOLATED {
                    token(fnv(FNV_OFFSET, bytes));
                }
            }
        }
        at += len;
    }
    if in_word {
        token(hash);
    }
}

/// Reject a document that is not valid UTF-8. `simdutf8` checks (16-32 bytes a step, the CPU's
/// SIMD picked at run time; `str::from_utf8` was ~12% of the kernel), and only an invalid
/// document is checked again by `str::from_utf8` for the offset the message gives.
fn check_utf8(index: usize, document: &[u8]) -> Result<()> {
    if simdutf8::basic::from_utf8(document).is_ok() {
        return Ok(());
    }
    let valid_up_to = std::str::from_utf8(document).map_or_else(|e| e.valid_up_to(), |_| 0);
    Err(invalid(format!(
        "document {index} is not valid UTF-8 at byte {valid_up_to}"
    )))
}

pub fn run(input: &[u8]) -> Result<Vec<u8>> {
    let documents = split_documents(input)?;
    let model = &**MODEL;
    let mut out = Vec::with_capacity(OUT_HEADER + RECORD * documents.len());
    out.extend_from_slice(MAGIC_OUT);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(TOP_K as u16).to_le_bytes());
    out.extend_from_slice(&(documents.len() as u32).to_le_bytes());
    out.extend_from_slice(&(CATEGORIES as u32).to_le_bytes());
    for (index, document) in documents.into_iter().enumerate() {
        check_utf8(index, document)?;
        let mut scorer = Scorer::new(model);
        tokenize(document, |hash| scorer.token(hash));
        scorer.write(&mut out);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::tables::{class_of, normalise};
    use super::*;

    use hybridbench_testgen::text_frame as batch;

    fn hashes(text: &str) -> Vec<u64> {
        let mut found = Vec::new();
        tokenize(text.as_bytes(), |h| found.push(h));
        found
    }

    fn fnv_of(tokens: &[&str]) -> Vec<u64> {
        tokens
            .iter()
            .map(|t| fnv(FNV_OFFSET, t.as_bytes()))
            .collect()
    }

    fn error(input: &[u8]) -> String {
        let err = run(input).unwrap_err();
        assert_eq!(err.kind, crate::ErrorKind::InvalidInput);
        err.message
    }

    /// (digest, count, categories) of record `i` of an output.
    fn record(out: &[u8], i: usize) -> (u64, u32, Vec<u16>) {
        let r = &out[OUT_HEADER + RECORD * i..OUT_HEADER + RECORD * (i + 1)];
        let cats = (0..TOP_K).map(|k| le_u16(r, 12 + 2 * k)).collect();
        (
            u64::from_le_bytes(r[..8].try_into().unwrap()),
            u32::from_le_bytes(r[8..12].try_into().unwrap()),
            cats,
        )
    }

    fn f64_at(out: &[u8], at: usize) -> f64 {
        f64::from_le_bytes(out[at..at + 8].try_into().unwrap())
    }

    #[test]
    fn hashes_are_fnv1a_64() {
        assert_eq!(fnv(FNV_OFFSET, b""), 0xcbf29ce484222325);
        assert_eq!(fnv(FNV_OFFSET, b"hello"), 0xa430d84680aabd0b);
    }

    #[test]
    fn the_model_is_the_python_one() {
        // anchors computed by workloads/text_rules.model_weights()
        let weights = MODEL.as_flattened();
        assert_eq!(weights[..6], [-4088, -24560, -18385, -5076, 22168, 16892]);
        assert_eq!(weights[weights.len() - 1], -6952);
    }

    #[test]
    fn casing_and_awkward_characters() {
        let cases: &[(&str, &[&str])] = &[
            ("Hello, WORLD", &["hello", "world"]),
            ("ΟΔΥΣΣΕΥΣ σοφός", &["οδυσσευσ", "σοφόσ"]), // final sigma folds to σ
            ("İstanbul ışık", &["istanbul", "ışık"]),   // İ is i; ı stays
            ("ＡＢＣ１２３！x", &["abc123", "x"]),      // fullwidth folds to ASCII
            ("東京👩\u{200d}💻", &["東", "京", "👩", "💻"]), // isolated; ZWJ separates
            ("cafe\u{301} e\u{301}", &["cafe\u{301}", "e\u{301}"]), // combining marks are word chars
            ("Straße GROẞ", &["straße", "groß"]),
            ("a\0b\u{200f}שלום", &["a", "b", "שלום"]),
            ("", &[]),
            ("  ,;  ", &[]),
        ];
        for (text, tokens) in cases {
            assert_eq!(hashes(text), fnv_of(tokens), "{text:?}");
        }
    }

    #[test]
    fn a_batch_matches_the_python_reference() {
        // record 0 and the empty record as workloads/text.py computes them
        let out = run(&batch(&[b"Hello, WORLD", b""])).unwrap();
        assert_eq!(
            &out[..16],
            b"HBTC\x01\x00\x05\x00\x02\x00\x00\x00\x20\x00\x00\x00"
        );
        assert_eq!(out.len(), OUT_HEADER + 2 * RECORD);
        assert_eq!(
            record(&out, 0),
            (8529840378668210425, 2, vec![26, 19, 8, 2, 28])
        );
        assert_eq!(f64_at(&out, OUT_HEADER + 24), 0.5664520263671875); // exact: int / int
        assert!((f64_at(&out, OUT_HEADER + 64) - 0.33525491586432166).abs() < 1e-12);
        assert_eq!(record(&out, 1), (0, 0, vec![0, 1, 2, 3, 4]));
        let empty = OUT_HEADER + RECORD;
        assert_eq!(f64_at(&out, empty + 24), 0.0);
        assert!((f64_at(&out, empty + 64) - 1.0 / 32.0).abs() < 1e-15);
    }

    #[test]
    fn normalising_never_changes_a_class_and_ascii_follows_the_rules() {
        for code in (0..=0x10FFFF).filter(|c| !(0xD800..=0xDFFF).contains(c)) {
            assert_eq!(class_of(normalise(code)), class_of(code), "U+{code:04X}");
        }
        for b in 0..128u8 {
            let (class, lower) = ASCII[usize::from(b)];
            assert_eq!(
                (class, u32::from(lower)),
                (class_of(b.into()), normalise(b.into()))
            );
        }
    }

    #[test]
    fn the_top_categories_are_those_of_a_stable_sort() {
        let mut state = 7u64;
        for round in 0..2000 {
            let sums: [i64; CATEGORIES] = std::array::from_fn(|_| {
                state = mix64(state);
                // few distinct values in some rounds: many ties
                (state % if round % 2 == 0 { 4 } else { 1 << 20 }) as i64 - 2
            });
            let mut order: [usize; CATEGORIES] = std::array::from_fn(|c| c);
            order.sort_by(|&a, &b| sums[b].cmp(&sums[a]));
            assert_eq!(top(&sums), order[..TOP_K], "{sums:?}");
        }
        assert_eq!(top(&[0; CATEGORIES]), [0, 1, 2, 3, 4]);
    }

    #[test]
    fn invalid_bodies_in_the_specified_order() {
        for (input, message) in hybridbench_testgen::text_errors() {
            assert_eq!(error(&input), message);
        }
        assert!(run(&batch(&[])).is_ok());
    }
}
