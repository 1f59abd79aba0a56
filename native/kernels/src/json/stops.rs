//! Byte searches of the scanner's hot loops: the end of a string's plain run (the next `"`,
//! `\` or control character), and the digit class the number scans share. SSE2 on x86_64
//! (part of the x86_64 baseline, so no runtime detection is needed), 8 bytes at a time (SWAR)
//! elsewhere and for the last bytes.
//!
//! The strings of an order document are short (keys, SKUs, dates: 2-20 bytes), so one
//! 16-byte block usually holds the whole string: wider vectors would not shorten the search.

/// The first index `>= pos` of a `"`, `\` or byte below 0x20 in `b`, or `b.len()`.
#[inline]
pub(super) fn find_string_stop(b: &[u8], mut pos: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        while pos + 16 <= b.len() {
            // SAFETY: `pos + 16 <= b.len()`, so the 16 bytes read are inside `b`.
            let found = unsafe { sse2_stops(b.as_ptr().add(pos)) };
            if found != 0 {
                return pos + found.trailing_zeros() as usize;
            }
            pos += 16;
        }
    }
    while let Some(chunk) = b.get(pos..pos + 8) {
        let found = swar_stops(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
        if found != 0 {
            return pos + (found.trailing_zeros() / 8) as usize;
        }
        pos += 8;
    }
    while let Some(&c) = b.get(pos) {
        if is_string_stop(c) {
            return pos;
        }
        pos += 1;
    }
    pos
}

#[inline]
fn is_string_stop(c: u8) -> bool {
    c == b'"' || c == b'\\' || c < 0x20
}

/// The high bit of each byte of `x` that may be a stop; the lowest flagged byte is exact
/// (borrows only propagate upwards), bytes above it can be false hits.
#[inline]
fn swar_stops(x: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let quote = x ^ (ONES * b'"' as u64);
    let backslash = x ^ (ONES * b'\\' as u64);
    ((quote.wrapping_sub(ONES) & !quote)
        | (backslash.wrapping_sub(ONES) & !backslash)
        | (x.wrapping_sub(ONES * 0x20) & !x))
        & HIGH
}

/// A bit per byte of the 16 at `p` that is a stop (bit i: byte i).
///
/// # Safety
/// `p` must point to 16 readable bytes.
#[cfg(target_arch = "x86_64")]
#[inline]
unsafe fn sse2_stops(p: *const u8) -> u32 {
    use std::arch::x86_64::*;
    // SAFETY: the caller guarantees 16 readable bytes at `p`; `loadu` has no alignment need;
    // SSE2 is always present on x86_64.
    unsafe {
        let x = _mm_loadu_si128(p.cast());
        let quote = _mm_cmpeq_epi8(x, _mm_set1_epi8(b'"' as i8));
        let backslash = _mm_cmpeq_epi8(x, _mm_set1_epi8(b'\\' as i8));
        // unsigned x <= 0x1F  <=>  min(x, 0x1F) == x
        let control = _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x1F)), x);
        _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), control)) as u32
    }
}

/// 0xFF for each byte of `x` that is an ASCII digit: unsigned `x - '0' <= 9`, as
/// `min(x - '0', 9) == x - '0'` (SSE2 has no unsigned byte compare). The number scans'
/// digit class (`plain_number`, `flat_numbers`).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(super) fn sse2_digits(x: std::arch::x86_64::__m128i) -> std::arch::x86_64::__m128i {
    use std::arch::x86_64::*;
    // SAFETY: SSE2 is part of the x86_64 baseline; these touch no memory.
    unsafe {
        let d = _mm_sub_epi8(x, _mm_set1_epi8(b'0' as i8));
        _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_stop_at_every_offset_and_length() {
        for len in 0..40 {
            for stop in [b'"', b'\\', 0x00, 0x1F] {
                for at in 0..=len {
                    let mut b: Vec<u8> = (0..len).map(|i| b"a\xC3\xA9z ~\x7F\xFF"[i % 8]).collect();
                    if at < len {
                        b[at] = stop;
                    }
                    assert_eq!(find_string_stop(&b, 0), at, "len {len} at {at} stop {stop}");
                    assert_eq!(find_string_stop(&b, at.min(len)), at);
                }
            }
        }
    }
}
