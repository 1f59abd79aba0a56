//! The `text` workload's rules as data: character classes, the case map, the hashes and the
//! pre-loaded model, copied from `workloads/text_rules.py` (the specification lists them).

use std::sync::LazyLock;

pub const SEPARATOR: u8 = 0;
pub const WORD: u8 = 1;
pub const ISOLATED: u8 = 2;

/// Inclusive code point ranges of word characters (all in the BMP).
#[rustfmt::skip]
const WORD_RANGES: &[(u32, u32)] = &[
    (0x0030, 0x0039), (0x0041, 0x005A), (0x0061, 0x007A),
    (0x00C0, 0x00D6), (0x00D8, 0x00F6), (0x00F8, 0x02AF),
    (0x0300, 0x036F),
    (0x0370, 0x0373), (0x0376, 0x0377), (0x037B, 0x037D), (0x037F, 0x037F),
    (0x0386, 0x0386), (0x0388, 0x038A), (0x038C, 0x038C), (0x038E, 0x03A1),
    (0x03A3, 0x03FF),
    (0x0400, 0x0481), (0x0483, 0x052F),
    (0x0531, 0x0556), (0x0561, 0x0587),
    (0x0591, 0x05BD), (0x05BF, 0x05BF), (0x05C1, 0x05C2), (0x05C4, 0x05C5),
    (0x05C7, 0x05C7), (0x05D0, 0x05EA),
    (0x0620, 0x0669), (0x066E, 0x06D3),
    (0x0900, 0x0963), (0x0966, 0x097F),
    (0x0E01, 0x0E3A), (0x0E40, 0x0E4E), (0x0E50, 0x0E59),
    (0x1100, 0x11FF),
    (0x1E00, 0x1EFF),
    (0x3041, 0x3096), (0x3099, 0x309A), (0x309D, 0x309F),
    (0x30A1, 0x30FA), (0x30FC, 0x30FF),
    (0xAC00, 0xD7A3),
    (0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A),
];

/// Inclusive code point ranges of characters that are tokens on their own.
#[rustfmt::skip]
const ISOLATED_RANGES: &[(u32, u32)] = &[
    (0x2600, 0x27BF),
    (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF),
    (0x1F1E6, 0x1F1FF),
    (0x1F300, 0x1F6FF), (0x1F900, 0x1FAFF),
    (0x20000, 0x3134F),
];

/// Fullwidth ASCII forms fold to ASCII before the case rules: (first, last, offset).
const FULLWIDTH: (u32, u32, i32) = (0xFF01, 0xFF5E, -0xFEE0);

#[derive(Clone, Copy)]
enum Which {
    All,
    Even,
    Odd,
}
use Which::{All, Even, Odd};

/// (first, last, which code points of the range, offset): the case rules.
#[rustfmt::skip]
const CASE_RULES: &[(u32, u32, Which, i32)] = &[
    (0x0041, 0x005A, All, 0x20),
    (0x00C0, 0x00D6, All, 0x20), (0x00D8, 0x00DE, All, 0x20),
    (0x0100, 0x012F, Even, 1), (0x0130, 0x0130, All, 0x0069 - 0x0130),
    (0x0132, 0x0137, Even, 1), (0x0139, 0x0148, Odd, 1), (0x014A, 0x0177, Even, 1),
    (0x0178, 0x0178, All, 0x00FF - 0x0178), (0x0179, 0x017E, Odd, 1),
    (0x0386, 0x0386, All, 0x26), (0x0388, 0x038A, All, 0x25), (0x038C, 0x038C, All, 0x40),
    (0x038E, 0x038F, All, 0x3F), (0x0391, 0x03A1, All, 0x20), (0x03A3, 0x03AB, All, 0x20),
    (0x03C2, 0x03C2, All, 1),
    (0x0400, 0x040F, All, 0x50), (0x0410, 0x042F, All, 0x20),
    (0x0460, 0x0481, Even, 1), (0x048A, 0x04BF, Even, 1), (0x04C0, 0x04C0, All, 0x0F),
    (0x04C1, 0x04CE, Odd, 1), (0x04D0, 0x052F, Even, 1),
    (0x0531, 0x0556, All, 0x30),
    (0x1E00, 0x1E95, Even, 1), (0x1E9E, 0x1E9E, All, 0x00DF - 0x1E9E),
    (0x1EA0, 0x1EFF, Even, 1),
];

fn applies(code: u32, which: Which) -> bool {
    match which {
        All => true,
        Even => code.is_multiple_of(2),
        Odd => !code.is_multiple_of(2),
    }
}

fn shift(code: u32, offset: i32) -> u32 {
    code.wrapping_add_signed(offset)
}

/// What the case rules alone make of `code`.
fn case_rule(code: u32) -> u32 {
    CASE_RULES
        .iter()
        .find(|&&(first, last, which, _)| (first..=last).contains(&code) && applies(code, which))
        .map_or(code, |&(_, _, _, offset)| shift(code, offset))
}

fn in_ranges(code: u32, ranges: &[(u32, u32)]) -> bool {
    ranges
        .iter()
        .any(|&(first, last)| (first..=last).contains(&code))
}

/// The class of a code point (of its normalised form too: normalising never changes it).
pub fn class_of(code: u32) -> u8 {
    if in_ranges(code, WORD_RANGES) {
        WORD
    } else if in_ranges(code, ISOLATED_RANGES) {
        ISOLATED
    } else {
        SEPARATOR
    }
}

/// The normalised form of a code point: fullwidth folding, then the case rules.
pub fn normalise(code: u32) -> u32 {
    let (first, last, offset) = FULLWIDTH;
    let folded = if (first..=last).contains(&code) {
        shift(code, offset)
    } else {
        code
    };
    case_rule(folded)
}

/// Class (top 8 bits) and normalised code point (low 24 bits) of every BMP code point, built
/// once: the tokenizer's only lookup for non-ASCII text (astral code points are never words
/// and never change, so a range test does for them).
pub static BMP: LazyLock<Box<[u32]>> = LazyLock::new(|| {
    (0..=0xFFFF_u32)
        .map(|code| (u32::from(class_of(code)) << 24) | normalise(code))
        .collect()
});

/// The class of an astral code point (above U+FFFF).
#[inline]
pub fn astral_class(code: u32) -> u8 {
    if in_ranges(code, ISOLATED_RANGES) {
        ISOLATED
    } else {
        SEPARATOR
    }
}

pub const FNV_OFFSET: u64 = 0xCBF2_9CE4_8422_2325;
pub const FNV_PRIME: u64 = 0x0000_0100_0000_01B3;
pub const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;
pub const BUCKETS: usize = 8192;
pub const CATEGORIES: usize = 32;
const MODEL_SEED: u64 = 0x7E47_C1A5_51F1_E5ED;

/// splitmix64's output function.
#[inline]
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One weight row per bucket.
pub type Model = [[i16; CATEGORIES]; BUCKETS];

/// The pre-loaded model, derived once per process: splitmix64 output `k` (from 0),
/// `mix64(MODEL_SEED + (k + 1) * GOLDEN)`, gives weights `4k..4k+3`, its 16-bit lanes from the
/// least significant, as two's complement.
pub static MODEL: LazyLock<Box<Model>> = LazyLock::new(|| {
    let mut model: Box<Model> = vec![[0i16; CATEGORIES]; BUCKETS]
        .into_boxed_slice()
        .try_into()
        .expect("BUCKETS rows");
    let weights = model.as_flattened_mut();
    for (k, lanes) in weights.chunks_exact_mut(4).enumerate() {
        let word = mix64(MODEL_SEED.wrapping_add((k as u64 + 1).wrapping_mul(GOLDEN)));
        for (lane, weight) in lanes.iter_mut().enumerate() {
            *weight = (word >> (16 * lane)) as u16 as i16;
        }
    }
    model
});
