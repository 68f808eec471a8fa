//! The arcade's PRNG: xoshiro128** (Blackman & Vigna, 32-bit), seeded from a `u32` with
//! SplitMix32. The browser module implements the same functions bit for bit; keep them in
//! step with `docs/games/egg-catcher.md`.

/// Golden-ratio increment of SplitMix32.
const GOLDEN_GAMMA: u32 = 0x9E37_79B9;

/// SplitMix32: a counter advanced by the golden ratio, finalised with the MurmurHash3 mixer.
/// Used only to expand a 32-bit seed into xoshiro128** state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitMix32 {
    state: u32,
}

impl SplitMix32 {
    pub const fn new(seed: u32) -> Self {
        Self { state: seed }
    }

    pub fn next_u32(&mut self) -> u32 {
        self.state = self.state.wrapping_add(GOLDEN_GAMMA);
        let mut z = self.state;
        z = (z ^ (z >> 16)).wrapping_mul(0x85EB_CA6B);
        z = (z ^ (z >> 13)).wrapping_mul(0xC2B2_AE35);
        z ^ (z >> 16)
    }
}

/// xoshiro128** 1.1 generator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Xoshiro128StarStar {
    s: [u32; 4],
}

impl Xoshiro128StarStar {
    /// Seeds the state with four successive SplitMix32 outputs.
    pub fn new(seed: u32) -> Self {
        let mut sm = SplitMix32::new(seed);
        let s = [sm.next_u32(), sm.next_u32(), sm.next_u32(), sm.next_u32()];
        Self::from_state(s)
    }

    /// Uses `s` as the raw state. The all-zero state is a fixed point of the generator, so it
    /// is replaced by `[GOLDEN_GAMMA, 0, 0, 0]`. (SplitMix32 outputs are a bijection of
    /// distinct counters, so seeding can never produce it.)
    pub const fn from_state(s: [u32; 4]) -> Self {
        if s[0] == 0 && s[1] == 0 && s[2] == 0 && s[3] == 0 {
            Self {
                s: [GOLDEN_GAMMA, 0, 0, 0],
            }
        } else {
            Self { s }
        }
    }

    pub const fn state(&self) -> [u32; 4] {
        self.s
    }

    pub fn next_u32(&mut self) -> u32 {
        let s = &mut self.s;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 9;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(11);
        result
    }

    /// Uniform integer in `0..n` by bitmask rejection: draw, keep the low bits covering
    /// `n - 1`, retry while the result is `>= n`. Unbiased and needs no 64-bit product, so
    /// the browser can match it exactly. `n <= 1` returns 0 without drawing.
    pub fn below(&mut self, n: u32) -> u32 {
        if n <= 1 {
            return 0;
        }
        let mask = u32::MAX >> (n - 1).leading_zeros();
        loop {
            let x = self.next_u32() & mask;
            if x < n {
                return x;
            }
        }
    }

    /// Uniform integer in `lo..=hi` (`lo <= hi`, span below `u32::MAX`).
    pub fn range_inclusive(&mut self, lo: u32, hi: u32) -> u32 {
        debug_assert!(lo <= hi && hi - lo < u32::MAX);
        lo + self.below(hi - lo + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xoshiro_matches_reference_implementation() {
        // Output of the authors' xoshiro128starstar.c from state {1, 2, 3, 4}.
        let mut rng = Xoshiro128StarStar::from_state([1, 2, 3, 4]);
        let expected = [
            11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849,
            3729100597, 4258142804,
        ];
        for e in expected {
            assert_eq!(rng.next_u32(), e);
        }
    }

    #[test]
    fn splitmix32_seed_expansion() {
        let mut sm = SplitMix32::new(0);
        let got: Vec<u32> = (0..4).map(|_| sm.next_u32()).collect();
        assert_eq!(got, [2462723854, 1020716019, 454327756, 1275600319]);
        assert_eq!(
            Xoshiro128StarStar::new(0).state(),
            [2462723854, 1020716019, 454327756, 1275600319]
        );
    }

    #[test]
    fn seeded_outputs() {
        // Computed independently from the definitions in docs/games/egg-catcher.md.
        let mut rng = Xoshiro128StarStar::new(0);
        let got: Vec<u32> = (0..8).map(|_| rng.next_u32()).collect();
        let expected = [
            3809008728, 1133695204, 53579671, 2891528803, 139681546, 2203266335, 104831812,
            1587294886,
        ];
        assert_eq!(got, expected);
        let mut rng = Xoshiro128StarStar::new(u32::MAX);
        let got: Vec<u32> = (0..8).map(|_| rng.next_u32()).collect();
        let expected = [
            835879718, 1921286648, 2356205009, 1885780724, 980451116, 1053911718, 3677392737,
            2464361898,
        ];
        assert_eq!(got, expected);
    }

    #[test]
    fn zero_state_is_replaced() {
        let mut rng = Xoshiro128StarStar::from_state([0; 4]);
        assert_eq!(rng.state(), [GOLDEN_GAMMA, 0, 0, 0]);
        assert!((0..4).any(|_| rng.next_u32() != 0));
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut rng = Xoshiro128StarStar::new(7);
        assert_eq!(rng.below(0), 0);
        assert_eq!(rng.below(1), 0);
        let mut seen = [false; 13];
        for _ in 0..2000 {
            let v = rng.below(13) as usize;
            seen[v] = true;
        }
        assert!(seen.iter().all(|&s| s));
        for _ in 0..2000 {
            let v = rng.range_inclusive(12_000, 468_000);
            assert!((12_000..=468_000).contains(&v));
        }
        // Largest span: the mask is all ones and nearly every draw is accepted.
        let _ = rng.below(u32::MAX);
    }

    #[test]
    fn below_is_unbiased_where_modulo_would_not_be() {
        // n = 3 << 30: `x % n` would return values below 2^30 twice as often.
        let mut rng = Xoshiro128StarStar::new(99);
        let n = 3u32 << 30;
        let low = (0..30_000).filter(|_| rng.below(n) < (1 << 30)).count();
        assert!((9_000..11_000).contains(&low), "{low}");
    }
}
