//! `Σ ln x_t` over a pass without one logarithm per observation.
//!
//! A likelihood pass is bounded by its logarithms, not by the variance recursion: `ln σ²_t`
//! (and, for Student-t errors, `ln(1 + q_t)`) for every observation. Both accumulators here
//! take the logarithm of running products instead, and differ from the plain sum by rounding
//! only: [`LogSum`] (one `ln` per eight terms; the value and gradient passes and the bounded
//! second-order pass) and [`LogProduct`] (binary exponents moved into integers, one `ln` per
//! lane per pass; the adjoint second-order pass).

/// Mantissa and sign bits of an `f64`.
pub(super) const MANTISSA: u64 = 0x800f_ffff_ffff_ffff;
/// The exponent bits of 1.0.
pub(super) const EXPONENT_OF_ONE: u64 = 0x3ff0_0000_0000_0000;

/// `Σ ln x_t` computed as the logarithm of running products of eight terms: one `ln` per eight
/// observations instead of one per observation, which roughly halves the cost of a likelihood
/// pass (the logarithm, not the recursion, bounds it). The result differs from the plain sum by
/// rounding only (about 1e-16 relative); a block whose product leaves the normal range is summed
/// term by term instead.
pub(super) struct LogSum {
    /// The logarithms of the blocks flushed so far.
    pub(super) sum: f64,
    prod: f64,
    block: [f64; 8],
    n: usize,
}

impl LogSum {
    pub(super) fn new() -> Self {
        Self {
            sum: 0.0,
            prod: 1.0,
            block: [1.0; 8],
            n: 0,
        }
    }

    #[inline(always)]
    pub(super) fn push(&mut self, x: f64) {
        self.block[self.n] = x;
        self.prod *= x;
        self.n += 1;
        if self.n == self.block.len() {
            self.flush();
        }
    }

    /// [`Self::push`] of every element of `xs` in order, with the same result; whole groups
    /// of eight are multiplied out directly instead of going through the block one by one.
    pub(super) fn push_all(&mut self, xs: &[f64]) {
        let mut xs = xs;
        while self.n != 0
            && let Some((&x, rest)) = xs.split_first()
        {
            self.push(x);
            xs = rest;
        }
        let mut groups = xs.chunks_exact(self.block.len());
        for group in &mut groups {
            // The same left-to-right product as eight pushes from an empty block.
            let prod = group.iter().fold(1.0, |p, &x| p * x);
            if prod.is_normal() {
                self.sum += prod.ln();
            } else {
                self.sum += group.iter().map(|x| x.ln()).sum::<f64>();
            }
        }
        for &x in groups.remainder() {
            self.push(x);
        }
    }

    #[inline(always)]
    fn flush(&mut self) {
        if self.prod.is_normal() {
            self.sum += self.prod.ln();
        } else {
            self.sum += self.block[..self.n].iter().map(|x| x.ln()).sum::<f64>();
        }
        self.prod = 1.0;
        self.n = 0;
    }

    pub(super) fn total(&mut self) -> f64 {
        self.flush();
        self.sum
    }
}

/// `Σ ln x_t` of positive terms as the logarithm of running products whose binary exponents
/// are moved into integers (as the starting grid does): one `ln` per lane per pass instead of
/// one per eight observations ([`LogSum`]). Spans of 32 terms are multiplied in four lanes
/// (eight factors each, element-wise, so it vectorises); each lane's product is split into
/// mantissa and exponent and multiplied into the lane's running mantissa. The result differs
/// from the plain sum by rounding only (each running mantissa's relative error, about `T/32`
/// roundings, is an absolute error of its logarithm); a span with a product outside the normal
/// range (or not positive) is summed term by term.
pub(super) struct LogProduct {
    /// In [1, 2).
    mantissa: [f64; 4],
    exponent: [i64; 4],
    /// The spans summed term by term.
    sum: f64,
    pending: [f64; LOG_SPAN],
    n: usize,
}

/// Terms per span of [`LogProduct`].
const LOG_SPAN: usize = 32;

impl LogProduct {
    pub(super) fn new() -> Self {
        Self {
            mantissa: [1.0; 4],
            exponent: [0; 4],
            sum: 0.0,
            pending: [1.0; LOG_SPAN],
            n: 0,
        }
    }

    /// Splits a positive normal `x` into `x = m·2^e`, `m` in [1, 2).
    #[inline(always)]
    fn split(x: f64) -> (f64, i64) {
        let bits = x.to_bits();
        let e = ((bits >> 52) & 0x7ff) as i64 - 1023;
        (f64::from_bits((bits & MANTISSA) | EXPONENT_OF_ONE), e)
    }

    /// Adds up to [`LOG_SPAN`] terms (fewer only at the end), in four lanes.
    #[allow(clippy::needless_range_loop)] // lane loops, as the lane algebra reads
    #[inline(always)]
    fn span(&mut self, x: &[f64]) {
        let mut p = [1.0f64; 4];
        let mut chunks = x.chunks_exact(4);
        for c in &mut chunks {
            for l in 0..4 {
                p[l] *= c[l];
            }
        }
        for (l, &xl) in chunks.remainder().iter().enumerate() {
            p[l] *= xl;
        }
        // Positive and normal: the sign and exponent bits, 1 to 0x7fe.
        let normal = p
            .iter()
            .all(|pl| (pl.to_bits() >> 52).wrapping_sub(1) < 0x7fe);
        if normal {
            for l in 0..4 {
                let (m, e) = Self::split(p[l]);
                let (m, e2) = Self::split(self.mantissa[l] * m);
                self.mantissa[l] = m;
                self.exponent[l] += e + e2;
            }
        } else {
            self.sum += x.iter().map(|x| x.ln()).sum::<f64>();
        }
    }

    /// Adds every element of `xs`.
    pub(super) fn push_all(&mut self, xs: &[f64]) {
        let mut xs = xs;
        if self.n != 0 {
            let take = xs.len().min(LOG_SPAN - self.n);
            self.pending[self.n..self.n + take].copy_from_slice(&xs[..take]);
            self.n += take;
            xs = &xs[take..];
            if self.n == LOG_SPAN {
                let pending = self.pending;
                self.span(&pending);
                self.n = 0;
            }
        }
        let mut spans = xs.chunks_exact(LOG_SPAN);
        for s in &mut spans {
            self.span(s);
        }
        let rest = spans.remainder();
        self.pending[self.n..self.n + rest.len()].copy_from_slice(rest);
        self.n += rest.len();
    }

    pub(super) fn total(mut self) -> f64 {
        let pending = self.pending;
        self.span(&pending[..self.n]);
        let lanes = (0..4).fold(0.0, |s, l| {
            s + (self.mantissa[l].ln() + self.exponent[l] as f64 * std::f64::consts::LN_2)
        });
        self.sum + lanes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `push_all` is `push` of every element, bit for bit, from any position in a group and
    /// where a group's product leaves the normal range.
    #[test]
    fn log_sum_push_all_equals_pushes() {
        let xs: Vec<f64> = (0..203)
            .map(|i| match i % 37 {
                5 => 1e-300,
                6 => 1e-200,
                _ => 0.3 + (i * 7919 % 101) as f64 / 17.0,
            })
            .collect();
        for lead in 0..9 {
            let (mut one, mut all) = (LogSum::new(), LogSum::new());
            for &x in &xs[..lead] {
                one.push(x);
                all.push(x);
            }
            for &x in &xs[lead..] {
                one.push(x);
            }
            all.push_all(&xs[lead..]);
            assert_eq!(one.total().to_bits(), all.total().to_bits(), "lead {lead}");
        }
    }
}
