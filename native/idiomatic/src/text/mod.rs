//! `text`: tokenize a batch of UTF-8 documents, hash the tokens into features and score them
//! with a linear model; per document the top 5 categories, their scores and a confidence (see
//! `workloads/text.py` for the specification: framing, classes, case rules, hashes, model and
//! output layout).
//!
//! Idiomatic: each document is checked with `std::str::from_utf8` and read with `chars()`; the
//! class and case tables of the specification are slices of ranges searched in order (see
//! [`rules`]); each token is built as a `String` of normalised characters and hashed with the
//! `fnv` crate's FNV-1a; the top categories come from sorting the 32 of them.

mod rules;

use std::cmp::Reverse;
use std::hash::Hasher;

use fnv::FnvHasher;

use crate::{check_payload_size, KernelError, Result};
use rules::{class, mix64, normalise, Class, BUCKETS, CATEGORIES, GOLDEN, MODEL};

const MAGIC_IN: &[u8; 4] = b"HBTX";
const MAGIC_OUT: &[u8; 4] = b"HBTC";
const VERSION: u16 = 1;
const HEADER_LEN: usize = 12;
const MAX_DOCUMENTS: usize = 65536;
const TOP_K: usize = 5;
const RECORD_LEN: usize = 72;
const WEIGHT_SCALE: f64 = 32768.0;
const LOGIT_SCALE: f64 = 8192.0;

fn invalid(message: String) -> KernelError {
    KernelError::invalid(format!("text: {message}"))
}

pub fn run(input: &[u8]) -> Result<Vec<u8>> {
    let documents = split_documents(input)?;
    let texts = documents
        .iter()
        .enumerate()
        .map(|(index, document)| {
            std::str::from_utf8(document).map_err(|e| {
                invalid(format!(
                    "document {index} is not valid UTF-8 at byte {}",
                    e.valid_up_to()
                ))
            })
        })
        .collect::<Result<Vec<&str>>>()?;
    let mut out = Vec::with_capacity(16 + RECORD_LEN * texts.len());
    out.extend_from_slice(MAGIC_OUT);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(TOP_K as u16).to_le_bytes());
    out.extend_from_slice(&(texts.len() as u32).to_le_bytes());
    out.extend_from_slice(&(CATEGORIES as u32).to_le_bytes());
    for text in texts {
        classify(&tokens(text)).write(&mut out);
    }
    Ok(out)
}

/// Check the framing, in the order the specification gives, and return the documents.
fn split_documents(input: &[u8]) -> Result<Vec<&[u8]>> {
    check_payload_size("text", input.len())?;
    if input.len() < HEADER_LEN {
        return Err(invalid(format!(
            "{} bytes is shorter than the 12-byte header",
            input.len()
        )));
    }
    let u16_at = |at: usize| u16::from_le_bytes([input[at], input[at + 1]]);
    let magic = &input[..4];
    if magic != MAGIC_IN {
        let hex: String = magic.iter().map(|b| format!("{b:02x}")).collect();
        return Err(invalid(format!(
            "bad magic {hex}, expected 48425458 (\"HBTX\")"
        )));
    }
    let version = u16_at(4);
    if version != VERSION {
        return Err(invalid(format!(
            "unsupported version {version}, expected {VERSION}"
        )));
    }
    let flags = u16_at(6);
    if flags != 0 {
        return Err(invalid(format!("flags are {flags}, expected 0")));
    }
    let count = u32::from_le_bytes(input[8..12].try_into().expect("4 bytes")) as usize;
    if count > MAX_DOCUMENTS {
        return Err(invalid(format!(
            "{count} documents exceed the limit of {MAX_DOCUMENTS} per batch"
        )));
    }
    let table_end = HEADER_LEN + 4 * count;
    let Some(table) = input.get(HEADER_LEN..table_end) else {
        return Err(invalid(format!(
            "{} bytes cannot hold the length table of {count} documents ({table_end} bytes)",
            input.len()
        )));
    };
    let lengths: Vec<usize> = table
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")) as usize)
        .collect();
    let text_len: usize = lengths.iter().sum(); // at most 65536 * (2**32 - 1): no overflow
    let expected = table_end + text_len;
    if input.len() != expected {
        return Err(invalid(format!(
            "expected {expected} bytes for {count} documents of {text_len} bytes in all, got {}",
            input.len()
        )));
    }
    let mut rest = &input[table_end..];
    Ok(lengths
        .into_iter()
        .map(|length| {
            let (document, tail) = rest.split_at(length);
            rest = tail;
            document
        })
        .collect())
}

/// The normalised tokens of a document, in order: maximal runs of word characters, and each
/// isolated character on its own.
fn tokens(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        match class(c) {
            Class::Word => word.push(normalise(c)),
            other => {
                if !word.is_empty() {
                    tokens.push(std::mem::take(&mut word));
                }
                if other == Class::Isolated {
                    tokens.push(normalise(c).to_string());
                }
            }
        }
    }
    if !word.is_empty() {
        tokens.push(word);
    }
    tokens
}

/// FNV-1a 64 of the token's UTF-8 bytes (`Hasher::write`: `str`'s `Hash` would add a byte).
fn fnv1a(token: &str) -> u64 {
    let mut hasher = FnvHasher::default();
    hasher.write(token.as_bytes());
    hasher.finish()
}

/// One document's output record.
struct Record {
    digest: u64,
    count: u32,
    sums: [i64; CATEGORIES],
}

fn classify(tokens: &[String]) -> Record {
    let mut record = Record {
        digest: 0,
        count: tokens.len() as u32,
        sums: [0; CATEGORIES],
    };
    for (position, token) in (1u64..).zip(tokens) {
        let hash = fnv1a(token);
        let term = mix64(hash.wrapping_add(position.wrapping_mul(GOLDEN)));
        record.digest = record.digest.wrapping_add(term);
        let row = &MODEL[(hash % BUCKETS) as usize];
        for (sum, &weight) in record.sums.iter_mut().zip(row) {
            *sum += i64::from(weight);
        }
    }
    record
}

impl Record {
    /// Categories by descending sum, equal sums in ascending category order.
    fn ranking(&self) -> Vec<usize> {
        let mut categories: Vec<usize> = (0..CATEGORIES).collect();
        categories.sort_by_key(|&c| (Reverse(self.sums[c]), c));
        categories
    }

    /// Softmax probability of the best category over all of them.
    fn confidence(&self, n: f64) -> f64 {
        let logits: Vec<f64> = self
            .sums
            .iter()
            .map(|&s| s as f64 / (LOGIT_SCALE * n.sqrt()))
            .collect();
        let best = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        1.0 / logits.iter().map(|z| (z - best).exp()).sum::<f64>()
    }

    /// digest, count, top categories, a zero pad, their scores, confidence.
    fn write(&self, out: &mut Vec<u8>) {
        let top = &self.ranking()[..TOP_K];
        let n = f64::from(self.count.max(1));
        out.extend_from_slice(&self.digest.to_le_bytes());
        out.extend_from_slice(&self.count.to_le_bytes());
        for &c in top {
            out.extend_from_slice(&(c as u16).to_le_bytes());
        }
        out.extend_from_slice(&0u16.to_le_bytes());
        for &c in top {
            // both exact in binary64: one IEEE division gives the same bits everywhere
            let score = self.sums[c] as f64 / (WEIGHT_SCALE * n);
            out.extend_from_slice(&score.to_le_bytes());
        }
        out.extend_from_slice(&self.confidence(n).to_le_bytes());
    }
}

#[cfg(test)]
mod tests;
