//! Stage 1 of the indexed scan: the positions of every token of a body, found 64 bytes at a
//! time (simdjson's "structural index"), so that the scanner reads each token's start from this
//! list instead of finding it from the previous token's end.
//!
//! Why: in the byte-by-byte scan every token's position depended on the previous token's
//! (load, vector search, bit scan, add, load again), a chain of latencies the CPU could not
//! overlap. With the index the next position is a sequential load, independent of the
//! validation of the current token, which then only feeds predictable branches.
//!
//! An entry is the position of: a structural character outside strings (`{}[]:,`), an
//! unescaped `"` (the opening and the closing quote of each string), or the first byte of a
//! run of other bytes outside strings (a scalar: number, literal, or garbage). The index is
//! only trusted as far as the body is valid: the scanner checks each token it reads against
//! the bytes, and any disagreement sends the body to the exact scan (`orders::parse`).
//!
//! AVX2 when the CPU has it (runtime detection), else a portable byte loop: both produce the
//! same bitmasks, from which the same scalar code builds the index.

/// The bitmasks of one 64-byte block: bit i describes byte i.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
struct Masks {
    quote: u64,
    backslash: u64,
    whitespace: u64,
    structural: u64,
}

/// What one block leaves to the next.
#[derive(Default)]
struct Carry {
    /// 1 when the block ended in an odd run of backslashes (its first byte is escaped)
    escaped: u64,
    /// all ones when the block ended inside a string
    in_string: u64,
    /// 1 when the block ended with a scalar byte (a run going on is not a new token)
    scalar: u64,
}

/// The token positions of `input`, or `None` when positions would not fit in `u32`.
pub(super) fn build(input: &[u8]) -> Option<Vec<u32>> {
    if input.len() >= (u32::MAX - 64) as usize {
        return None;
    }
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked just above).
            return Some(unsafe { build_avx2(input) });
        }
    }
    Some(build_with(input, classify_portable))
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn build_avx2(input: &[u8]) -> Vec<u32> {
    build_with(input, |block| {
        // SAFETY: this function only runs on a CPU with AVX2; `block` is 64 readable bytes.
        unsafe { classify_avx2(block) }
    })
}

/// The index of `input`, classifying each block with `classify`. Always inlined, so that the
/// AVX2 classification is inlined into the AVX2 copy of the loop.
#[inline(always)]
fn build_with(input: &[u8], classify: impl Fn(&[u8; 64]) -> Masks) -> Vec<u32> {
    // a body of orders has a token every 4-6 bytes; one block's worth of slack is reserved
    // before each block, as `flatten` writes up to 64 entries unconditionally
    let mut index = Vec::with_capacity(input.len() / 4 + 64);
    let mut carry = Carry::default();
    let mut blocks = input.chunks_exact(64);
    let mut base = 0u32;
    for block in &mut blocks {
        let masks = classify(block.try_into().expect("64 bytes"));
        flatten(&mut index, tokens(masks, &mut carry), base);
        base += 64;
    }
    let rest = blocks.remainder();
    if !rest.is_empty() {
        // the tail padded with spaces: they add no token and change no string
        let mut last = [b' '; 64];
        last[..rest.len()].copy_from_slice(rest);
        flatten(&mut index, tokens(classify(&last), &mut carry), base);
    }
    index
}

/// The token starts of a block, from its masks and what the previous block left.
#[inline(always)]
fn tokens(m: Masks, carry: &mut Carry) -> u64 {
    let escaped = find_escaped(m.backslash, &mut carry.escaped);
    let quote = m.quote & !escaped;
    // set from an opening quote (included) to the closing one (excluded)
    let in_string = prefix_xor(quote) ^ carry.in_string;
    carry.in_string = ((in_string as i64) >> 63) as u64;
    let outside = !in_string;
    let structural = m.structural & outside;
    let scalar = outside & !m.whitespace & !m.structural & !quote;
    let scalar_start = scalar & !((scalar << 1) | carry.scalar);
    carry.scalar = scalar >> 63;
    structural | quote | scalar_start
}

/// The bytes escaped by a backslash (the byte after each odd-numbered backslash of a run), as
/// in simdjson: runs are told apart by whether they start on an even or an odd bit, with one
/// addition carrying through each run.
#[inline(always)]
fn find_escaped(backslash: u64, carry: &mut u64) -> u64 {
    const EVEN: u64 = 0x5555_5555_5555_5555;
    // a backslash escaped by the previous block's last one starts no escape
    let backslash = backslash & !*carry;
    let follows_escape = (backslash << 1) | *carry;
    let odd_starts = backslash & !EVEN & !follows_escape;
    let (sequences_on_even, overflow) = odd_starts.overflowing_add(backslash);
    *carry = u64::from(overflow);
    let invert = sequences_on_even << 1;
    (EVEN ^ invert) & follows_escape
}

/// Bit i: the XOR of bits 0..=i of `x` (inside a string: after an odd number of quotes).
#[inline(always)]
fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

/// Append `base + i` for each bit i of `bits`. Writes 8 entries at a time whatever the count
/// (the spare ones are overwritten by the next block or cut by the length), as in simdjson:
/// a loop ending after each entry mispredicted about once per block.
#[inline(always)]
fn flatten(index: &mut Vec<u32>, mut bits: u64, base: u32) {
    index.reserve(64);
    let count = bits.count_ones() as usize;
    let len = index.len();
    let out = index.spare_capacity_mut();
    let mut i = 0;
    while i < count {
        for slot in &mut out[i..i + 8] {
            slot.write(base + bits.trailing_zeros());
            bits &= bits.wrapping_sub(1);
        }
        i += 8;
    }
    // SAFETY: the first `count` spare slots were written just above (64 were reserved, and
    // `count <= 64`, so `i + 8 <= 64` in every round).
    unsafe { index.set_len(len + count) };
}

fn classify_portable(block: &[u8; 64]) -> Masks {
    let mut m = Masks::default();
    for (i, &c) in block.iter().enumerate() {
        let bit = 1u64 << i;
        match c {
            b'"' => m.quote |= bit,
            b'\\' => m.backslash |= bit,
            b' ' | b'\t' | b'\n' | b'\r' => m.whitespace |= bit,
            b'{' | b'}' | b'[' | b']' | b':' | b',' => m.structural |= bit,
            _ => {}
        }
    }
    m
}

/// # Safety
/// The CPU must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
unsafe fn classify_avx2(block: &[u8; 64]) -> Masks {
    use std::arch::x86_64::*;
    let lo = _mm256_loadu_si256(block.as_ptr().cast());
    let hi = _mm256_loadu_si256(block.as_ptr().add(32).cast());
    let (lo, hi) = (classify32(lo), classify32(hi));
    let join = |l: u32, h: u32| u64::from(l) | (u64::from(h) << 32);
    Masks {
        quote: join(lo.quote, hi.quote),
        backslash: join(lo.backslash, hi.backslash),
        whitespace: join(lo.whitespace, hi.whitespace),
        structural: join(lo.structural, hi.structural),
    }
}

/// The masks of 32 bytes, as `Masks` of 32 bits.
#[cfg(target_arch = "x86_64")]
struct Masks32 {
    quote: u32,
    backslash: u32,
    whitespace: u32,
    structural: u32,
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
#[inline]
fn classify32(v: std::arch::x86_64::__m256i) -> Masks32 {
    use std::arch::x86_64::*;
    let eq = |c: u8| _mm256_cmpeq_epi8(v, _mm256_set1_epi8(c as i8));
    let bits = |m: __m256i| _mm256_movemask_epi8(m) as u32;
    let space = _mm256_or_si256(eq(b' '), eq(b'\t'));
    let newline = _mm256_or_si256(eq(b'\n'), eq(b'\r'));
    // `[` and `]` are `{` and `}` without bit 0x20: one compare finds both cases
    let folded = _mm256_or_si256(v, _mm256_set1_epi8(0x20));
    let brackets = _mm256_or_si256(
        _mm256_cmpeq_epi8(folded, _mm256_set1_epi8(b'{' as i8)),
        _mm256_cmpeq_epi8(folded, _mm256_set1_epi8(b'}' as i8)),
    );
    let separators = _mm256_or_si256(eq(b':'), eq(b','));
    Masks32 {
        quote: bits(eq(b'"')),
        backslash: bits(eq(b'\\')),
        whitespace: bits(_mm256_or_si256(space, newline)),
        structural: bits(_mm256_or_si256(brackets, separators)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The index by its definition, one byte at a time.
    fn reference(input: &[u8]) -> Vec<u32> {
        let (mut in_string, mut escaped, mut scalar) = (false, false, false);
        let mut out = vec![];
        for (i, &c) in input.iter().enumerate() {
            let at = i as u32;
            if in_string {
                match (escaped, c) {
                    (true, _) => escaped = false,
                    (false, b'\\') => escaped = true,
                    (false, b'"') => {
                        in_string = false;
                        out.push(at);
                    }
                    _ => {}
                }
                continue;
            }
            let was_scalar = std::mem::replace(&mut scalar, false);
            match c {
                b'"' if !escaped => {
                    in_string = true;
                    out.push(at);
                }
                b'{' | b'}' | b'[' | b']' | b':' | b',' => out.push(at),
                b' ' | b'\t' | b'\n' | b'\r' => {}
                _ => {
                    if !was_scalar {
                        out.push(at);
                    }
                    scalar = true;
                }
            }
            // a backslash outside strings escapes the next byte too (garbage either way)
            escaped = c == b'\\' && !escaped;
        }
        out
    }

    #[test]
    fn matches_the_byte_by_byte_definition() {
        let pieces: [&[u8]; 14] = [
            b"\"", b"\\", b"\\\\", b"\\\"", b"{", b"]", b":", b",", b" ", b"\n", b"12", b"true",
            b"\xc3\xa9", b"abcdefghijklmnopqrstuvwxyz0123456789",
        ];
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        for case in 0..3000 {
            let mut body = vec![];
            let len = case % 300;
            while body.len() < len {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                body.extend_from_slice(pieces[(seed % pieces.len() as u64) as usize]);
            }
            let expected = reference(&body);
            assert_eq!(build(&body).unwrap(), expected, "{body:?}");
            assert_eq!(build_with(&body, classify_portable), expected, "{body:?}");
        }
    }
}
