//! A flat array of plain numbers (`[33.0,4.7,47.5]`, `[5,15.199]`), validated and skipped
//! from bit masks of one 32-byte window instead of byte by byte.
//!
//! Why: counted by `valgrind --tool=callgrind`, the fast skip (`skip.rs`) spent about 365
//! instructions on a 15-byte `dims_cm` array: per byte a bounds check, a load, a class test and
//! a loop exit, per token a dispatch (about 20 instructions a byte over the document). Here the
//! whole array costs two vector loads, six byte classes and a dozen bit operations, and no
//! branch on its bytes: P50 0.94 (round four). In that round fewer instructions alone did not
//! pay elsewhere (a whitespace skip cut to one test won nothing); round five found why: the
//! keys' string searches held the position chain, and once they were predicted (`key_order`)
//! the same whitespace step won 3% (`mod.rs`, round five).
//!
//! Like the fast skip it only says yes or no: anything it does not take (whitespace, an
//! exponent, a nested container, a string or literal, an array longer than the window, any
//! error) returns `None` and the caller walks the array as before. So it must never accept what
//! the exact walk rejects, and when it accepts it ends where the exact walk ends (the tests
//! check both on every string over the array's alphabet up to 7 bytes and on random longer
//! ones).

/// The window, in bytes from the `[`: arrays that close within it are taken.
const WINDOW: usize = 32;

/// The end (after the `]`) of the array at `p` (at `[`) if it is a flat array of numbers
/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?` separated by single commas, with no whitespace, closing within
/// [`WINDOW`] bytes; `None`: anything else (not necessarily invalid).
#[inline]
pub(super) fn flat_number_array_end(b: &[u8], p: usize) -> Option<usize> {
    let window = b.get(p..p + WINDOW)?;
    let m = Classes::of(window.try_into().expect("WINDOW bytes"));
    number_array_length(&m).map(|len| p + len)
}

/// Bit masks of a window's bytes by class (bit i: byte i).
#[derive(Debug, Default, PartialEq)]
struct Classes {
    digit: u32,
    zero: u32,
    dot: u32,
    comma: u32,
    minus: u32,
    close: u32,
}

impl Classes {
    #[inline(always)]
    fn of(window: &[u8; WINDOW]) -> Classes {
        #[cfg(target_arch = "x86_64")]
        {
            // SAFETY: `window` holds 32 readable bytes; SSE2 is part of the x86_64 baseline.
            unsafe { sse2_classes(window) }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            scalar_classes(window)
        }
    }
}

/// The length of the array (from its `[` through its `]`) the masks describe, if valid as
/// [`flat_number_array_end`] says.
#[inline(always)]
fn number_array_length(m: &Classes) -> Option<usize> {
    if m.close == 0 {
        return None;
    }
    let close = m.close.trailing_zeros();
    // the bytes between `[` (bit 0) and the first `]`
    let inside = ((1u32 << close) - 1) & !1;
    if close == 1 {
        return Some(2); // `[]`
    }
    let (digit, dot, comma, minus) = (
        m.digit & inside,
        m.dot & inside,
        m.comma & inside,
        m.minus & inside,
    );
    let ok = |bad: u32| bad == 0;
    // nothing but digits, `.`, `,` and `-` inside
    let mut valid = ok(inside & !(digit | dot | comma | minus));
    // each number starts after the `[` or a `,`; a `-` only there, and a digit after it
    let starts = (comma << 1) | 2;
    valid &= ok(minus & !starts);
    let integer_starts = (starts & !minus) | (minus << 1);
    valid &= ok(integer_starts & !digit);
    // no digit after a leading `0`
    valid &= ok(((integer_starts & m.zero) << 1) & digit);
    // a digit before and after each `.`
    valid &= ok((dot >> 1) & !digit) & ok((dot << 1) & !digit);
    // at most one `.` a number: the digit run after a `.` (its first digit plus the run, the
    // carry landing on the byte after it) does not end at another `.`
    valid &= ok(((dot << 1).wrapping_add(digit) & !digit) & dot);
    // no empty number before a `,` or the `]` (`[1,]`, `[1,,2]`): a digit before each
    valid &= ok(((comma | (1 << close)) >> 1) & !digit);
    valid.then_some(close as usize + 1)
}

/// # Safety
/// SSE2 must be available (always on x86_64).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn sse2_classes(window: &[u8; WINDOW]) -> Classes {
    use std::arch::x86_64::*;
    // SAFETY: two unaligned 16-byte loads inside the 32-byte array.
    unsafe {
        let halves = [
            _mm_loadu_si128(window.as_ptr().cast()),
            _mm_loadu_si128(window.as_ptr().add(16).cast()),
        ];
        let byte = |c: u8| move |x: __m128i| _mm_cmpeq_epi8(x, _mm_set1_epi8(c as i8));
        Classes {
            digit: mask(halves, super::stops::sse2_digits),
            zero: mask(halves, byte(b'0')),
            dot: mask(halves, byte(b'.')),
            comma: mask(halves, byte(b',')),
            minus: mask(halves, byte(b'-')),
            close: mask(halves, byte(b']')),
        }
    }
}

/// The 32-bit mask of the bytes of both halves for which `f` sets a byte.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn mask(
    halves: [std::arch::x86_64::__m128i; 2],
    f: impl Fn(std::arch::x86_64::__m128i) -> std::arch::x86_64::__m128i,
) -> u32 {
    use std::arch::x86_64::_mm_movemask_epi8;
    // SAFETY: SSE2 is part of the x86_64 baseline.
    let low = unsafe { _mm_movemask_epi8(f(halves[0])) } as u32 & 0xFFFF;
    let high = unsafe { _mm_movemask_epi8(f(halves[1])) } as u32;
    low | high << 16
}

#[cfg(any(test, not(target_arch = "x86_64")))]
fn scalar_classes(window: &[u8; WINDOW]) -> Classes {
    let mut m = Classes::default();
    for (i, &c) in window.iter().enumerate() {
        let bit = 1u32 << i;
        let set = |mask: &mut u32, yes: bool| *mask |= if yes { bit } else { 0 };
        set(&mut m.digit, c.is_ascii_digit());
        set(&mut m.zero, c == b'0');
        set(&mut m.dot, c == b'.');
        set(&mut m.comma, c == b',');
        set(&mut m.minus, c == b'-');
        set(&mut m.close, c == b']');
    }
    m
}

#[cfg(test)]
mod tests {
    use super::super::scanner::Parser;
    use super::*;

    /// The exact walk of the array at the start of `text` (the scanner's own, nested arrays
    /// included, never the fast skip): its end, or `None` if invalid.
    fn exact(text: &[u8]) -> Option<usize> {
        fn value(p: &mut Parser, depth: usize) -> crate::Result<()> {
            if p.peek() == b'[' {
                p.array(depth + 1, value)
            } else {
                p.skip(depth)
            }
        }
        let mut p = Parser::new(text);
        value(&mut p, 0).ok().map(|()| p.pos)
    }

    /// The flat path on `text` padded to the window (with a byte that ends no token).
    fn flat(text: &[u8]) -> Option<usize> {
        let mut padded = text.to_vec();
        padded.resize(text.len().max(WINDOW), b'x');
        flat_number_array_end(&padded, 0)
    }

    /// Whether the flat path took `text`; fails if it took it and the exact walk disagrees.
    fn agrees(text: &[u8]) -> bool {
        let taken = flat(text);
        if taken.is_some() {
            assert_eq!(taken, exact(text), "{:?}", String::from_utf8_lossy(text));
        }
        taken.is_some()
    }

    #[test]
    fn takes_flat_number_arrays() {
        for (text, end) in [
            ("[]", 2),
            ("[0]", 3),
            ("[33.0,4.7,47.5]", 15),
            ("[5,15.199]", 10),
            ("[-0,-0.5,10,-12.25]", 19),
            ("[1],[2]", 3),
        ] {
            assert_eq!(flat(text.as_bytes()), Some(end), "{text}");
            assert_eq!(exact(text.as_bytes()), Some(end), "{text}");
        }
        for text in [
            "[01]", "[1.]", "[.5]", "[-]", "[1,]", "[,1]", "[1,,2]", "[1.2.3]", "[--1]", "[1-2]",
            "[1..2]", "[-.5]", "[00]", "[1e5]", "[1 ]", "[[1]]", "[\"a\"]", "[true]", "[1",
        ] {
            assert_eq!(flat(text.as_bytes()), None, "{text}");
        }
        // an array that does not close within the window
        let long = format!("[{}1]", "1,".repeat(WINDOW / 2));
        assert_eq!(flat(long.as_bytes()), None);
    }

    #[test]
    fn never_accepts_what_the_exact_walk_rejects() {
        // every string over the alphabet up to 6 bytes after the `[`
        const ALPHABET: &[u8] = b"0159.,-]e [";
        fn each(text: &mut Vec<u8>, room: usize) -> usize {
            let mut taken = usize::from(agrees(text));
            if room > 0 {
                for &c in ALPHABET {
                    text.push(c);
                    taken += each(text, room - 1);
                    text.pop();
                }
            }
            taken
        }
        // the flat path took some (so the comparison was made), and not the invalid ones
        let taken = each(&mut vec![b'['], 6);
        assert!(taken > 1_000, "{taken}");
        // random longer ones (a fixed LCG: reproducible)
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut taken = 0;
        for _ in 0..200_000 {
            let len = 8 + (state >> 59) as usize;
            let mut text = vec![b'['];
            for _ in 0..len {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                text.push(ALPHABET[(state >> 33) as usize % ALPHABET.len()]);
            }
            taken += usize::from(agrees(&text));
        }
        assert!(taken > 0);
    }

    #[test]
    fn sse2_and_scalar_classes_agree() {
        let mut window = [0u8; WINDOW];
        for start in (0..=255u8).step_by(WINDOW) {
            for (i, c) in window.iter_mut().enumerate() {
                *c = start.wrapping_add(i as u8);
            }
            assert_eq!(Classes::of(&window), scalar_classes(&window));
        }
    }
}
