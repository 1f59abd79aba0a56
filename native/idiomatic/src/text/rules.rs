//! The `text` specification's tables (`workloads/text_rules.py`): character classes, the case
//! rules and the pre-loaded model. The specification forbids a Unicode database (Python, Rust
//! and Go carry different versions and special cases), so `char::to_lowercase` and
//! `char::is_alphanumeric` are not used; only the ASCII `char` methods are, where they say
//! exactly what the tables say.

use std::ops::RangeInclusive;
use std::sync::LazyLock;

/// What a code point does in a document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// Part of a word: a maximal run of them is a token.
    Word,
    /// A token by itself (CJK ideographs, symbols, emoji).
    Isolated,
    /// Separates tokens and is dropped.
    Separator,
}

/// Word characters beyond ASCII (ASCII ones are the digits and letters).
#[rustfmt::skip]
const WORD_RANGES: &[RangeInclusive<char>] = &[
    '\u{00C0}'..='\u{00D6}', '\u{00D8}'..='\u{00F6}', '\u{00F8}'..='\u{02AF}', // Latin-1, Ext-A/B, IPA
    '\u{0300}'..='\u{036F}',                                                   // combining diacritics
    '\u{0370}'..='\u{0373}', '\u{0376}'..='\u{0377}', '\u{037B}'..='\u{037D}', // Greek
    '\u{037F}'..='\u{037F}', '\u{0386}'..='\u{0386}', '\u{0388}'..='\u{038A}',
    '\u{038C}'..='\u{038C}', '\u{038E}'..='\u{03A1}', '\u{03A3}'..='\u{03FF}',
    '\u{0400}'..='\u{0481}', '\u{0483}'..='\u{052F}',                          // Cyrillic
    '\u{0531}'..='\u{0556}', '\u{0561}'..='\u{0587}',                          // Armenian
    '\u{0591}'..='\u{05BD}', '\u{05BF}'..='\u{05BF}', '\u{05C1}'..='\u{05C2}', // Hebrew
    '\u{05C4}'..='\u{05C5}', '\u{05C7}'..='\u{05C7}', '\u{05D0}'..='\u{05EA}',
    '\u{0620}'..='\u{0669}', '\u{066E}'..='\u{06D3}',                          // Arabic
    '\u{0900}'..='\u{0963}', '\u{0966}'..='\u{097F}',                          // Devanagari
    '\u{0E01}'..='\u{0E3A}', '\u{0E40}'..='\u{0E4E}', '\u{0E50}'..='\u{0E59}', // Thai
    '\u{1100}'..='\u{11FF}',                                                   // Hangul Jamo
    '\u{1E00}'..='\u{1EFF}',                                                   // Latin Ext. Additional
    '\u{3041}'..='\u{3096}', '\u{3099}'..='\u{309A}', '\u{309D}'..='\u{309F}', // Hiragana
    '\u{30A1}'..='\u{30FA}', '\u{30FC}'..='\u{30FF}',                          // Katakana
    '\u{AC00}'..='\u{D7A3}',                                                   // Hangul syllables
    '\u{FF10}'..='\u{FF19}', '\u{FF21}'..='\u{FF3A}', '\u{FF41}'..='\u{FF5A}', // fullwidth alnum
];

/// Code points that are a token by themselves.
#[rustfmt::skip]
const ISOLATED_RANGES: &[RangeInclusive<char>] = &[
    '\u{2600}'..='\u{27BF}',                                                   // symbols, dingbats
    '\u{3400}'..='\u{4DBF}', '\u{4E00}'..='\u{9FFF}', '\u{F900}'..='\u{FAFF}', // CJK ideographs
    '\u{1F1E6}'..='\u{1F1FF}',                                                 // regional indicators
    '\u{1F300}'..='\u{1F6FF}', '\u{1F900}'..='\u{1FAFF}',                      // emoji
    '\u{20000}'..='\u{3134F}',                                                 // CJK, planes 2 and 3
];

pub fn class(c: char) -> Class {
    if c.is_ascii() {
        // the tables' only ASCII word characters are 0-9, A-Z and a-z
        return if c.is_ascii_alphanumeric() {
            Class::Word
        } else {
            Class::Separator
        };
    }
    if WORD_RANGES.iter().any(|range| range.contains(&c)) {
        Class::Word
    } else if ISOLATED_RANGES.iter().any(|range| range.contains(&c)) {
        Class::Isolated
    } else {
        Class::Separator
    }
}

/// Fullwidth ASCII forms, folded to ASCII (minus 0xFEE0) before the case rules.
const FULLWIDTH: RangeInclusive<u32> = 0xFF01..=0xFF5E;
const FULLWIDTH_OFFSET: u32 = 0xFEE0;

/// Which code points of a case rule's range it changes.
#[derive(Clone, Copy)]
enum Select {
    All,
    Even,
    Odd,
}

/// Code points of `range` that `select` picks map to themselves plus `offset`.
struct CaseRule {
    range: RangeInclusive<u32>,
    select: Select,
    offset: i32,
}

impl CaseRule {
    const fn new(first: u32, last: u32, select: Select, offset: i32) -> Self {
        Self {
            range: first..=last,
            select,
            offset,
        }
    }

    fn applies_to(&self, code: u32) -> bool {
        self.range.contains(&code)
            && match self.select {
                Select::All => true,
                Select::Even => code.is_multiple_of(2),
                Select::Odd => !code.is_multiple_of(2),
            }
    }
}

#[rustfmt::skip]
const CASE_RULES: &[CaseRule] = {
    use Select::{All, Even, Odd};
    &[
        CaseRule::new(0x0041, 0x005A, All, 0x20),
        CaseRule::new(0x00C0, 0x00D6, All, 0x20), CaseRule::new(0x00D8, 0x00DE, All, 0x20),
        CaseRule::new(0x0100, 0x012F, Even, 1), CaseRule::new(0x0130, 0x0130, All, 0x0069 - 0x0130),
        CaseRule::new(0x0132, 0x0137, Even, 1), CaseRule::new(0x0139, 0x0148, Odd, 1),
        CaseRule::new(0x014A, 0x0177, Even, 1),
        CaseRule::new(0x0178, 0x0178, All, 0x00FF - 0x0178), CaseRule::new(0x0179, 0x017E, Odd, 1),
        CaseRule::new(0x0386, 0x0386, All, 0x26), CaseRule::new(0x0388, 0x038A, All, 0x25),
        CaseRule::new(0x038C, 0x038C, All, 0x40), CaseRule::new(0x038E, 0x038F, All, 0x3F),
        CaseRule::new(0x0391, 0x03A1, All, 0x20), CaseRule::new(0x03A3, 0x03AB, All, 0x20),
        CaseRule::new(0x03C2, 0x03C2, All, 1),
        CaseRule::new(0x0400, 0x040F, All, 0x50), CaseRule::new(0x0410, 0x042F, All, 0x20),
        CaseRule::new(0x0460, 0x0481, Even, 1), CaseRule::new(0x048A, 0x04BF, Even, 1),
        CaseRule::new(0x04C0, 0x04C0, All, 0x0F), CaseRule::new(0x04C1, 0x04CE, Odd, 1),
        CaseRule::new(0x04D0, 0x052F, Even, 1),
        CaseRule::new(0x0531, 0x0556, All, 0x30),
        CaseRule::new(0x1E00, 0x1E95, Even, 1), CaseRule::new(0x1E9E, 0x1E9E, All, 0x00DF - 0x1E9E),
        CaseRule::new(0x1EA0, 0x1EFF, Even, 1),
    ]
};

/// The normalised form of a code point: fullwidth folding, then the case rules.
pub fn normalise(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase(); // the only ASCII rule: A-Z plus 0x20
    }
    let mut code = u32::from(c);
    if FULLWIDTH.contains(&code) {
        code -= FULLWIDTH_OFFSET;
    }
    if let Some(rule) = CASE_RULES.iter().find(|rule| rule.applies_to(code)) {
        code = code.wrapping_add_signed(rule.offset);
    }
    char::from_u32(code).expect("the case rules map letters to letters")
}

pub const BUCKETS: u64 = 8192;
pub const CATEGORIES: usize = 32;
pub const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;
const MODEL_SEED: u64 = 0x7E47_C1A5_51F1_E5ED;

/// splitmix64's output function.
pub fn mix64(z: u64) -> u64 {
    let z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    let z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The pre-loaded model, one row of weights per bucket, derived once per process:
/// splitmix64 output `k` (from 0), `mix64(MODEL_SEED + (k + 1) * GOLDEN)`, gives weights
/// `4k..4k+3`, its 16-bit lanes from the least significant, as two's complement.
pub static MODEL: LazyLock<Vec<[i16; CATEGORIES]>> = LazyLock::new(|| {
    let words = BUCKETS * CATEGORIES as u64 / 4;
    let weights: Vec<i16> = (1..=words)
        .map(|k| mix64(MODEL_SEED.wrapping_add(k.wrapping_mul(GOLDEN))))
        .flat_map(|word| (0..4).map(move |lane| (word >> (16 * lane)) as u16 as i16))
        .collect();
    weights
        .chunks_exact(CATEGORIES)
        .map(|row| row.try_into().expect("rows of CATEGORIES weights"))
        .collect()
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_is_the_python_one() {
        // anchors computed by workloads/text_rules.model_weights()
        assert_eq!(MODEL.len(), BUCKETS as usize);
        assert_eq!(MODEL[0][..6], [-4088, -24560, -18385, -5076, 22168, 16892]);
        assert_eq!(MODEL[MODEL.len() - 1][CATEGORIES - 1], -6952);
    }

    #[test]
    fn normalising_never_changes_a_class() {
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            assert_eq!(class(normalise(c)), class(c), "U+{:04X}", u32::from(c));
        }
    }

    #[test]
    fn case_rules_and_classes_of_awkward_letters() {
        let cases = [
            ('İ', 'i'),
            ('ı', 'ı'),
            ('Ÿ', 'ÿ'),
            ('ς', 'σ'),
            ('Σ', 'σ'),
            ('ẞ', 'ß'),
            ('ǅ', 'ǅ'),
            ('Ａ', 'a'),
            ('！', '!'),
            ('×', '×'),
        ];
        for (from, to) in cases {
            assert_eq!(normalise(from), to, "{from}");
        }
        assert_eq!(class('_'), Class::Separator);
        assert_eq!(class('\u{200D}'), Class::Separator);
        assert_eq!(class('東'), Class::Isolated);
        assert_eq!(class('\u{0301}'), Class::Word);
        assert_eq!(class('！'), Class::Separator); // folds to '!', a separator too
    }
}
