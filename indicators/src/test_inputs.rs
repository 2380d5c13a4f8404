//! Deterministic pseudo-random inputs shared by the indicator unit tests.

/// Marsaglia's xorshift64 (shifts 13, 7, 17) from `seed`: reproducible 64-bit words.
pub(crate) fn xorshift(mut x: u64) -> impl FnMut() -> u64 {
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}

/// The top 53 bits of `r` as a uniform number in `[0, 1)`.
pub(crate) fn unit(r: u64) -> f64 {
    (r >> 11) as f64 / (1u64 << 53) as f64
}
