//! Helpers shared by the unit tests.

/// Reproducible uniforms on [0, 1): Marsaglia's xorshift64 (shifts 13, 7, 17), the top 53 bits
/// of each state. No dependency, and the same sequence on every platform.
pub(crate) fn uniforms(seed: u64) -> impl Iterator<Item = f64> {
    let mut x = seed;
    std::iter::repeat_with(move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x >> 11) as f64 / (1u64 << 53) as f64
    })
}
