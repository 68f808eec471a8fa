//! The arcade's PRNG: xoshiro128** (Blackman & Vigna, 32-bit), seeded from a `u32` with
//! SplitMix32, and [`WindowedRng`], which reseeds it at every window of [`WINDOW_TICKS`]. The
//! browser module implements the same functions bit for bit; keep them in step with
//! `docs/games/egg-catcher.md`.

use crate::{Seeds, WINDOW_TICKS};

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

/// A game's generator when its randomness is revealed a window at a time: the draws made
/// during tick `t` come from a xoshiro128** seeded with the seed of window `t / WINDOW_TICKS`
/// at that window's first tick, and follow one another within the window.
///
/// It reseeds lazily, at the first draw of a later window, which gives the same numbers as
/// reseeding at the window's first tick (nothing is drawn in between) and lets a simulation
/// that jumps over ticks skip windows it draws nothing from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowedRng {
    /// The seeds revealed so far, by window.
    seeds: Vec<u32>,
    /// The window `rng` was seeded for.
    window: u32,
    rng: Xoshiro128StarStar,
}

impl WindowedRng {
    /// Window 0 revealed, with `first_seed`.
    pub fn new(first_seed: u32) -> Self {
        Self {
            seeds: vec![first_seed],
            window: 0,
            rng: Xoshiro128StarStar::new(first_seed),
        }
    }

    /// Reveals the next window's seed.
    pub fn reveal(&mut self, seed: u32) {
        self.seeds.push(seed);
    }

    /// Windows revealed so far (at least 1).
    pub fn revealed(&self) -> u32 {
        u32::try_from(self.seeds.len()).unwrap_or(u32::MAX)
    }

    /// Ticks the revealed windows cover: ticks below this can be simulated.
    pub fn revealed_ticks(&self) -> u32 {
        self.revealed().saturating_mul(WINDOW_TICKS)
    }

    /// Reveals windows from `seeds` until tick `tick` is covered.
    pub fn reveal_through(&mut self, tick: u32, seeds: Seeds<'_>) {
        while self.revealed_ticks() <= tick {
            let next = self.revealed();
            self.reveal(seeds(next));
        }
    }

    /// The generator for draws during tick `tick`. Ticks never go back.
    ///
    /// # Panics
    /// When `tick`'s window is not revealed: a simulation waits at the start of a window it
    /// was not given, so it never draws there.
    pub fn at(&mut self, tick: u32) -> &mut Xoshiro128StarStar {
        let window = tick / WINDOW_TICKS;
        if window != self.window {
            let seed = *self
                .seeds
                .get(window as usize)
                .unwrap_or_else(|| panic!("window {window} is drawn from before it is revealed"));
            self.rng = Xoshiro128StarStar::new(seed);
            self.window = window;
        }
        &mut self.rng
    }
}

/// Window seeds that follow from one number, for tests, benchmarks and test vectors (the
/// server derives its own from a secret): window `k`'s is the first SplitMix32 output of
/// `base + k * 0x9E3779B9`.
pub fn derived_seeds(base: u32) -> impl Fn(u32) -> u32 {
    move |window| SplitMix32::new(base.wrapping_add(window.wrapping_mul(GOLDEN_GAMMA))).next_u32()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_windowed_generator_reseeds_at_each_window_it_draws_in() {
        let mut rng = WindowedRng::new(7);
        let mut plain = Xoshiro128StarStar::new(7);
        assert_eq!(rng.at(0).next_u32(), plain.next_u32());
        assert_eq!(rng.at(WINDOW_TICKS - 1).next_u32(), plain.next_u32());
        assert_eq!(rng.revealed_ticks(), WINDOW_TICKS);
        rng.reveal(8);
        rng.reveal(9);
        assert_eq!(rng.revealed(), 3);
        // Window 1 is skipped: nothing is drawn in it.
        let mut third = Xoshiro128StarStar::new(9);
        assert_eq!(rng.at(2 * WINDOW_TICKS + 5).next_u32(), third.next_u32());
        assert_eq!(rng.at(2 * WINDOW_TICKS + 6).next_u32(), third.next_u32());
        let seeds = derived_seeds(1);
        rng.reveal_through(5 * WINDOW_TICKS, &seeds);
        assert_eq!(rng.revealed(), 6);
        assert_eq!(
            rng.at(5 * WINDOW_TICKS).next_u32(),
            Xoshiro128StarStar::new(seeds(5)).next_u32()
        );
    }

    #[test]
    #[should_panic(expected = "window 1 is drawn from before it is revealed")]
    fn drawing_from_a_window_not_revealed_is_a_bug() {
        WindowedRng::new(7).at(WINDOW_TICKS);
    }

    #[test]
    fn derived_seeds_differ_by_window_and_base() {
        let a = derived_seeds(1);
        let b = derived_seeds(2);
        assert_ne!(a(0), a(1));
        assert_ne!(a(0), b(0));
        assert_eq!(a(3), derived_seeds(1)(3));
    }

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
