//! A document's category sums while its tokens stream past: the 32 int16 weights of each
//! token's model row added into 32 int32 lanes, 8 SSE2 adds a token (SSE2 is part of x86-64,
//! so no detection). Scalar, those were 32 `i64` read-modify-writes in memory, the largest
//! single cost of the kernel; the compiler did not vectorise the loop by itself.
//!
//! An int32 lane holds the sum of at most [`TOKENS_PER_FLUSH`] weights exactly; the caller
//! moves the lanes into its `i64` sums before that.

use super::tables::CATEGORIES;

/// Weights a lane sums without overflow: 2^16 weights of at most 2^15 in magnitude reach
/// 2^31, so half of that leaves a margin.
pub const TOKENS_PER_FLUSH: u32 = 1 << 15;

#[cfg(target_arch = "x86_64")]
mod imp {
    use super::CATEGORIES;
    use std::arch::x86_64::{
        __m128i, _mm_add_epi32, _mm_loadu_si128, _mm_setzero_si128, _mm_srai_epi32,
        _mm_storeu_si128, _mm_unpackhi_epi16, _mm_unpacklo_epi16,
    };

    #[derive(Clone, Copy)]
    pub struct Lanes([__m128i; CATEGORIES / 4]);

    impl Lanes {
        pub fn new() -> Self {
            // SAFETY: SSE2 is part of x86-64 (for all the intrinsics here).
            Self([unsafe { _mm_setzero_si128() }; CATEGORIES / 4])
        }

        /// Add one row of weights (categories in order).
        #[inline]
        pub fn add(&mut self, row: &[i16; CATEGORIES]) {
            for (k, pair) in self.0.chunks_exact_mut(2).enumerate() {
                // SAFETY: SSE2 is part of x86-64; the 8 weights from 8k on are in the row
                // (k < 4), loaded unaligned.
                unsafe {
                    let v = _mm_loadu_si128(row.as_ptr().add(8 * k).cast::<__m128i>());
                    // each weight doubled into an i32 lane, shifted back down: sign-extended
                    let low = _mm_srai_epi32::<16>(_mm_unpacklo_epi16(v, v));
                    let high = _mm_srai_epi32::<16>(_mm_unpackhi_epi16(v, v));
                    pair[0] = _mm_add_epi32(pair[0], low);
                    pair[1] = _mm_add_epi32(pair[1], high);
                }
            }
        }

        /// The 32 sums, categories in order.
        pub fn sums(&self) -> [i32; CATEGORIES] {
            let mut out = [0i32; CATEGORIES];
            for (lanes, chunk) in self.0.iter().zip(out.chunks_exact_mut(4)) {
                // SAFETY: SSE2 is part of x86-64; 4 i32 fit the chunk, stored unaligned.
                unsafe { _mm_storeu_si128(chunk.as_mut_ptr().cast::<__m128i>(), *lanes) };
            }
            out
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod imp {
    use super::CATEGORIES;

    #[derive(Clone, Copy)]
    pub struct Lanes([i32; CATEGORIES]);

    impl Lanes {
        pub fn new() -> Self {
            Self([0; CATEGORIES])
        }

        #[inline]
        pub fn add(&mut self, row: &[i16; CATEGORIES]) {
            for (sum, &weight) in self.0.iter_mut().zip(row) {
                *sum += i32::from(weight);
            }
        }

        pub fn sums(&self) -> [i32; CATEGORIES] {
            self.0
        }
    }
}

pub use imp::Lanes;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_sum_each_category_exactly() {
        let mut lanes = Lanes::new();
        let rows: Vec<[i16; CATEGORIES]> = (0..5)
            .map(|r| {
                std::array::from_fn(|c| {
                    if (c + r) % 3 == 0 {
                        i16::MIN
                    } else {
                        (c * 1000 + r) as i16 - 9000
                    }
                })
            })
            .collect();
        let mut want = [0i32; CATEGORIES];
        for row in &rows {
            lanes.add(row);
            for (w, &v) in want.iter_mut().zip(row) {
                *w += i32::from(v);
            }
        }
        assert_eq!(lanes.sums(), want);
    }
}
