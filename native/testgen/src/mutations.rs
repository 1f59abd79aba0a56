//! Mutations of a valid body: a few edits, mostly same-length replacements (a fixed layout
//! then gets past its length check), with bytes that mean something to a parser.

use proptest::prelude::*;
use proptest::sample::{select, Index};

/// One change to a body.
#[derive(Clone, Debug)]
pub enum Edit {
    Replace(Index, u8),
    Delete(Index, usize),
    Insert(Index, Vec<u8>),
    Truncate(Index),
}

/// Bytes that mean something to a parser (JSON grammar, digits, UTF-8 lead and continuation
/// bytes, JPEG marker bytes), or any.
fn interesting_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        any::<u8>(),
        select(b"{}[],:\"\\/0123456789-+.eEtrufalsn \n\xc3\xe2\xf0\x80\x00\xff\xd8\xd9".to_vec()),
    ]
}

/// One to seven edits.
pub fn edits() -> impl Strategy<Value = Vec<Edit>> {
    let edit = prop_oneof![
        4 => (any::<Index>(), interesting_byte()).prop_map(|(i, b)| Edit::Replace(i, b)),
        1 => (any::<Index>(), 1usize..16).prop_map(|(i, n)| Edit::Delete(i, n)),
        1 => (any::<Index>(), prop::collection::vec(interesting_byte(), 1..16))
            .prop_map(|(i, b)| Edit::Insert(i, b)),
        1 => any::<Index>().prop_map(Edit::Truncate),
    ];
    prop::collection::vec(edit, 1..8)
}

pub fn mutate(mut data: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    let at = |i: &Index, len: usize| if len == 0 { 0 } else { i.index(len) };
    for edit in edits {
        match edit {
            Edit::Replace(i, b) => {
                if !data.is_empty() {
                    let p = at(i, data.len());
                    data[p] = *b;
                }
            }
            Edit::Delete(i, n) => {
                let p = at(i, data.len());
                let end = (p + n).min(data.len());
                data.drain(p..end);
            }
            Edit::Insert(i, bytes) => {
                let p = at(i, data.len() + 1);
                data.splice(p..p, bytes.iter().copied());
            }
            Edit::Truncate(i) => data.truncate(at(i, data.len() + 1)),
        }
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(any::<u8>(), 0..64)
    }

    proptest! {
        #[test]
        fn a_replacement_keeps_the_length(data in body(), i in any::<Index>(), b in any::<u8>()) {
            let out = mutate(data.clone(), &[Edit::Replace(i, b)]);
            prop_assert_eq!(out.len(), data.len());
            prop_assert!(data.is_empty() || out.contains(&b));
        }

        #[test]
        fn deletes_inserts_and_truncations_change_the_length(
            data in body(), i in any::<Index>(), n in 1usize..16, bytes in body(),
        ) {
            let len = data.len();
            prop_assert!(mutate(data.clone(), &[Edit::Delete(i, n)]).len() >= len.saturating_sub(n));
            let inserted = mutate(data.clone(), &[Edit::Insert(i, bytes.clone())]);
            prop_assert_eq!(inserted.len(), len + bytes.len());
            prop_assert!(mutate(data, &[Edit::Truncate(i)]).len() <= len);
        }
    }
}
