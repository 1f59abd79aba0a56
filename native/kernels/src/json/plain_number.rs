//! A short plain number (`3`, `140.92`, `-0.5`: at most 8 integer and 7 decimal digits, 15
//! bytes in all, no exponent) measured from bit masks of a 16-byte window (its digits, `.` and
//! `-`) and converted 8 digits at a time (SWAR), with no loop over its digits: `qty` and
//! `price`, two per item.
//!
//! Why: the digit loops of [`Parser::number`](super::scanner::Parser::number) and the second
//! pass of `exact_decimal` end after a count of digits that varies from one number to the next
//! (1-2 for a `qty`, 2-3 and 1-2 for a `price`), a mispredicted exit for many of them. Tried
//! in round four, it won 1% (P50 0.99, 0.99) and was dropped; once the keys were predicted
//! (`key_order`), which took a string search off the scanner's position chain per member, it
//! won 3% (0.97, 0.97): the mispredictions had been hidden behind the searches' latency.
//!
//! It only says yes or no: anything else (an exponent, more digits, a number running to the
//! window's end, an error) is `None`, and the caller parses it the exact way. The value is the
//! one the exact way gives: an integer converted from its exact `i64`, a decimal as its digits
//! divided by a power of ten (Clinger's fast path, as `exact_decimal`).

use super::scanner::POW10;

/// The end of the plain number at `p` and its value, or `None` (parse it the exact way).
///
/// The end is found first, as the first byte of the window that is not a digit, `.` or `-`:
/// the next token's position waits on this number's end, and one class mask and one bit scan
/// is the shortest way there. Whether the bytes up to it form a plain number, and its value,
/// come from the masks beside it and only feed a branch the CPU predicts (before, the end was
/// the integer run's bit scan, then a load of the byte after it and the decimal run's bit
/// scan, one after the other).
#[inline(always)]
pub(super) fn plain_number(b: &[u8], p: usize) -> Option<(usize, f64)> {
    // 8 bytes before the number are read too (a digit run is loaded ending at its last digit)
    if p < 8 || p + 16 > b.len() {
        return None;
    }
    let m = Masks::of(b[p..p + 16].try_into().expect("16 bytes"));
    // a run of token bytes filling the window: its end is not in it
    let len = (!(m.digits | m.dots | m.minus)).trailing_zeros() as usize;
    let end = p + len;
    let neg = (m.minus & 1) as usize;
    let int_len = (!m.digits >> neg).trailing_zeros() as usize;
    if int_len == 0 || int_len > 8 || (b[p + neg] == b'0' && int_len > 1) {
        return None;
    }
    let int_end = neg + int_len;
    let int = eight_digits(b, p + int_end, int_len);
    let decimal = len > int_end;
    let value = if decimal {
        // `.` then digits up to the end (so no second `.` or `-`)
        let frac_len = len.wrapping_sub(int_end + 1);
        let frac = ((1u32 << frac_len) - 1) << (int_end + 1);
        if m.dots >> int_end & 1 == 0 || frac_len == 0 || frac_len > 7 || m.digits & frac != frac {
            return None;
        }
        let mantissa = int * POW10_INT[frac_len] + eight_digits(b, end, frac_len);
        // at most 15 digits: exact as an `i64` and as a double, so one division rounds right
        mantissa as i64 as f64 / POW10[frac_len]
    } else {
        int as i64 as f64
    };
    // an exponent follows? (`len` < 16, so the byte at the end is in the window)
    if len >= 16 || matches!(b[end], b'e' | b'E') {
        return None;
    }
    Some((
        end,
        if neg == 1 {
            negate(value, decimal)
        } else {
            value
        },
    ))
}

/// `-value` as the exact way makes it: an integer is negated as an `i64` (`-0` is `0.0`), a
/// decimal as a double (`-0.0` is `-0.0`).
#[inline(always)]
fn negate(value: f64, decimal: bool) -> f64 {
    if decimal || value != 0.0 {
        -value
    } else {
        0.0
    }
}

const POW10_INT: [u64; 8] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000];

/// The value of the `len` (1-8) ASCII digits ending before `end` (`b[end - 8..end]` readable).
#[inline(always)]
fn eight_digits(b: &[u8], end: usize, len: usize) -> u64 {
    let word = u64::from_le_bytes(b[end - 8..end].try_into().expect("8 bytes"));
    // the bytes before the run (the low ones, little-endian) become '0'
    let keep = u64::MAX << (8 * (8 - len));
    let word = (word & keep) | (0x3030_3030_3030_3030 & !keep);
    // fast_float's parse_eight_digits_unrolled: pairs, then quads, then the eight
    let mut v = word.wrapping_sub(0x3030_3030_3030_3030);
    v = v.wrapping_mul(10).wrapping_add(v >> 8);
    let lo = (v & 0x0000_00FF_0000_00FF).wrapping_mul(100 + (1_000_000 << 32));
    let hi = ((v >> 16) & 0x0000_00FF_0000_00FF).wrapping_mul(1 + (10_000 << 32));
    lo.wrapping_add(hi) >> 32
}

/// Bit masks of a 16-byte window's digits, `.` and `-` (bit i: byte i; bits 16 and up clear).
struct Masks {
    digits: u32,
    dots: u32,
    minus: u32,
}

impl Masks {
    #[inline(always)]
    fn of(bytes: &[u8; 16]) -> Masks {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::*;
            // SAFETY: a 16-byte unaligned load of the array; SSE2 is part of the x86_64
            // baseline.
            unsafe {
                let x = _mm_loadu_si128(bytes.as_ptr().cast());
                let byte = |c: u8| _mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8(c as i8)));
                Masks {
                    digits: _mm_movemask_epi8(super::stops::sse2_digits(x)) as u32,
                    dots: byte(b'.') as u32,
                    minus: byte(b'-') as u32,
                }
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let class = |f: fn(u8) -> bool| (0..16).fold(0, |m, i| m | u32::from(f(bytes[i])) << i);
            Masks {
                digits: class(|c| c.is_ascii_digit()),
                dots: class(|c| c == b'.'),
                minus: class(|c| c == b'-'),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::scanner::Parser;
    use super::*;

    /// The exact way: the end and value, or `None` if it fails.
    fn exact(b: &[u8], p: usize) -> Option<(usize, u64)> {
        let mut parser = Parser::new(b);
        parser.pos = p;
        let v = parser.number_f64_exact().ok()?;
        Some((parser.pos, v.to_bits()))
    }

    fn check(text: &str) -> bool {
        // 8 bytes before, padding after that ends no number
        let b = format!("[1,2,3,4,{text},2,3,4,5,6,7,8,9]");
        let (b, p) = (b.as_bytes(), 9);
        match plain_number(b, p) {
            Some((end, v)) => {
                assert_eq!(Some((end, v.to_bits())), exact(b, p), "{text}");
                true
            }
            None => false,
        }
    }

    #[test]
    fn takes_short_plain_numbers_with_the_exact_value() {
        for text in [
            "0",
            "3",
            "12",
            "-0",
            "-7",
            "140.92",
            "0.5",
            "-0.0",
            "-0.25",
            "12345678",
            "1234567.1234567",
            "99999999.999999",
            "0.0000001",
        ] {
            assert!(check(text), "{text}");
        }
        for text in [
            "01",
            "1.",
            "-",
            "-a",
            ".5",
            "1e5",
            "1.5E2",
            "123456789",
            "1.12345678",
            "12345678.1234567", // 16 bytes: the byte after it is outside the window
            "--1",
        ] {
            assert!(!check(text), "{text}");
        }
    }

    #[test]
    fn agrees_with_the_exact_way_on_random_numbers() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = |n: u64| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1442695040888963407);
            (state >> 33) % n
        };
        let mut taken = 0;
        for _ in 0..300_000 {
            let mut text = String::new();
            if next(4) == 0 {
                text.push('-');
            }
            for _ in 0..next(10) {
                text.push(b"0123456789.-e"[next(13) as usize] as char);
            }
            taken += usize::from(check(&text));
        }
        assert!(taken > 10_000, "{taken}");
    }
}
