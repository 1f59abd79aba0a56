use super::*;
use crate::ErrorKind;

use hybridbench_testgen::text_frame as batch;

fn error(input: &[u8]) -> String {
    let err = run(input).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidInput);
    err.message
}

fn f64_at(out: &[u8], at: usize) -> f64 {
    f64::from_le_bytes(out[at..at + 8].try_into().unwrap())
}

#[test]
fn fnv1a_is_the_64_bit_one() {
    assert_eq!(fnv1a(""), 0xcbf29ce484222325);
    assert_eq!(fnv1a("hello"), 0xa430d84680aabd0b);
}

#[test]
fn tokens_of_awkward_text() {
    let cases: &[(&str, &[&str])] = &[
        ("Hello, WORLD", &["hello", "world"]),
        ("ΟΔΥΣΣΕΥΣ σοφός", &["οδυσσευσ", "σοφόσ"]), // final sigma folds to σ
        ("İstanbul ışık", &["istanbul", "ışık"]),   // İ is i; ı stays
        ("ＡＢＣ１２３！x", &["abc123", "x"]),      // fullwidth folds to ASCII
        ("東京👩\u{200d}💻", &["東", "京", "👩", "💻"]), // isolated; ZWJ separates
        ("cafe\u{301} e\u{301}", &["cafe\u{301}", "e\u{301}"]), // combining marks are word chars
        ("Straße GROẞ", &["straße", "groß"]),
        ("a\0b\u{200f}שלום", &["a", "b", "שלום"]),
        ("snake_case don't", &["snake", "case", "don", "t"]),
        ("", &[]),
        ("  ,;  ", &[]),
    ];
    for (text, expected) in cases {
        assert_eq!(tokens(text), *expected, "{text:?}");
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
    assert_eq!(out.len(), 16 + 2 * RECORD_LEN);
    let record = &out[16..16 + RECORD_LEN];
    assert_eq!(
        u64::from_le_bytes(record[..8].try_into().unwrap()),
        8529840378668210425
    );
    assert_eq!(u32::from_le_bytes(record[8..12].try_into().unwrap()), 2);
    let top: Vec<u16> = record[12..22]
        .chunks_exact(2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
        .collect();
    assert_eq!(top, [26, 19, 8, 2, 28]);
    assert_eq!(f64_at(record, 24), 0.5664520263671875); // exact: int / int
    assert!((f64_at(record, 64) - 0.33525491586432166).abs() < 1e-12);
    let empty = &out[16 + RECORD_LEN..];
    assert_eq!(&empty[..12], &[0; 12]); // digest and count
    assert_eq!(&empty[12..22], b"\x00\x00\x01\x00\x02\x00\x03\x00\x04\x00");
    assert_eq!(f64_at(empty, 24), 0.0);
    assert!((f64_at(empty, 64) - 1.0 / 32.0).abs() < 1e-15);
}

#[test]
fn invalid_bodies_in_the_specified_order() {
    for (input, message) in hybridbench_testgen::text_errors() {
        assert_eq!(error(&input), message);
    }
    assert_eq!(run(&batch(&[])).unwrap().len(), 16);
}
