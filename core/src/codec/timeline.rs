//! The codec-independent half of DTS derivation, shared by the H.264 and H.265 extractors: it
//! turns (picture order count, PTS, reordering depth) into a decode timestamp.
//!
//! The model: pictures arrive in decoding order; between two random-access points (an IDR, or
//! an IRAP for H.265) decode timestamps advance by exactly one frame duration `d` per picture,
//! and the random-access picture itself is decoded `R` frame durations before it is shown,
//! where `R` is the reordering depth (the largest number of pictures that precede a picture in
//! decoding order and follow it in output order). Then DTS ≤ PTS holds for every picture.
//!
//! - `R` is the larger of what the SPS announces and what was observed so far (the number of
//!   already-decoded pictures, since the last random-access point, whose POC exceeds the
//!   current one).
//! - `d` is learned from the POC/PTS relation: `d = (pts - pts_anchor) * poc_step /
//!   (poc - poc_anchor)`, `poc_step` being the POC increment per frame (2 for H.264 frame
//!   coding, 1 for H.265; reduced to the GCD of observed POC distances). Before any sample,
//!   the SPS timing information is used, else [`DEFAULT_FRAME_DURATION`].
//! - At a random-access point: `dts = pts - R * d` (but not below `previous + d` unless that
//!   would exceed `pts`); elsewhere `dts = min(previous + d, pts)`, also kept below the
//!   expected PTS of pictures still to come (POC values skipped so far, expected at
//!   `pts_anchor + Δpoc / poc_step * d`). When `R` is 0, `dts = pts`.
//! - When the SPS announces nothing and no reordering was seen yet, a picture whose POC jumps
//!   over k values is given `dts = previous + (lowest expected PTS - previous) / (k + 1)`
//!   instead of its PTS, leaving room for the k pictures that will likely follow with lower
//!   PTS. So the first B-frames of an unannounced stream are not lost; only that GOP has
//!   irregular DTS steps.
//! - A DTS that would not increase is an error ([`CodecError::Invalid`]): the caller drops that
//!   unit. This happens when reordering deeper than announced is discovered, and when PTS goes
//!   backwards (a new extractor is then needed).

use super::CodecError;

/// The frame duration (90 kHz) assumed before the stream reveals one: 15 fps. A guess too long
/// only delays DTS a little until the next random-access point; a guess too short can make
/// deeply reordered pictures of the first GOP fail.
pub(crate) const DEFAULT_FRAME_DURATION: i64 = 6000;

/// How many decoded POCs are remembered to measure the reordering depth.
const POC_HISTORY: usize = 64;

/// How many step-spaced POC values below the largest POC are examined when looking for
/// pictures still to come (both standards cap reordering at 16 pictures).
const MAX_HOLE_SCAN: usize = 32;

/// After this many pictures the observed POC step replaces the codec default.
const TRUST_OBSERVED_STEP_AFTER: u32 = 8;

/// What the codec-specific side knows about one picture.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PictureTiming {
    /// The picture order count, unwrapped (comparable across the GOP).
    pub(crate) poc: i64,
    /// Whether this picture is a random-access point (IDR / IRAP) where the timeline re-anchors.
    pub(crate) random_access: bool,
    /// The reordering depth announced by the SPS, if any.
    pub(crate) announced_reorder: Option<u32>,
    /// The frame duration (90 kHz) from the SPS timing information, if any.
    pub(crate) timing_hint: Option<i64>,
}

/// The anchor of the current GOP.
#[derive(Debug, Clone, Copy)]
struct Anchor {
    pts: i64,
    poc: i64,
}

/// DTS state shared by the H.264 and H.265 extractors.
#[derive(Debug, Clone)]
pub(crate) struct Timeline {
    default_poc_step: i64,
    observed_poc_gcd: i64,
    observed_pictures: u32,
    prev_dts: Option<i64>,
    anchor: Option<Anchor>,
    frame_duration: Option<i64>,
    pocs: Vec<i64>,
    observed_reorder: u32,
}

/// The greatest common divisor of `|a|` and `|b|` (saturated to `i64::MAX`).
fn gcd(a: i64, b: i64) -> i64 {
    let (mut a, mut b) = (a.unsigned_abs(), b.unsigned_abs());
    while b != 0 {
        let t = a % b;
        a = b;
        b = t;
    }
    i64::try_from(a).unwrap_or(i64::MAX)
}

impl Timeline {
    /// A timeline for a codec whose POC advances by `default_poc_step` per frame.
    pub(crate) fn new(default_poc_step: i64) -> Self {
        Timeline {
            default_poc_step,
            observed_poc_gcd: 0,
            observed_pictures: 0,
            prev_dts: None,
            anchor: None,
            frame_duration: None,
            pocs: Vec::new(),
            observed_reorder: 0,
        }
    }

    /// Whether an anchor (a first picture) has been seen.
    pub(crate) fn has_anchor(&self) -> bool {
        self.anchor.is_some()
    }

    /// Commits `dts` if it increases.
    fn commit(&mut self, dts: i64) -> Result<i64, CodecError> {
        if let Some(prev) = self.prev_dts {
            if dts <= prev {
                return Err(CodecError::Invalid("DTS would not increase"));
            }
        }
        self.prev_dts = Some(dts);
        Ok(dts)
    }

    /// DTS for a stream without reordering information: DTS = PTS while PTS increases.
    pub(crate) fn without_reordering(&mut self, pts: i64) -> Result<i64, CodecError> {
        self.commit(pts)
    }

    /// DTS for one picture, given its POC and PTS (90 kHz, unwrapped).
    pub(crate) fn picture(&mut self, t: PictureTiming, pts: i64) -> Result<i64, CodecError> {
        let anchor = match self.anchor {
            Some(a) if !t.random_access => a,
            _ => return self.anchor_picture(t, pts),
        };

        let poc_delta = t.poc.saturating_sub(anchor.poc);
        let pts_delta = pts.saturating_sub(anchor.pts);
        if poc_delta != 0 {
            self.observed_poc_gcd = gcd(self.observed_poc_gcd, poc_delta);
            self.observed_pictures = self.observed_pictures.saturating_add(1);
            let step = self.poc_step();
            if pts_delta != 0 && (pts_delta > 0) == (poc_delta > 0) {
                let d = pts_delta
                    .saturating_mul(step)
                    .checked_div(poc_delta)
                    .unwrap_or(0);
                if d > 0 {
                    self.frame_duration = Some(d);
                }
            }
        }
        let previous_max_poc = self.pocs.iter().copied().max().unwrap_or(anchor.poc);
        let later = self.pocs.iter().filter(|&&p| p > t.poc).count();
        self.observed_reorder = self
            .observed_reorder
            .max(u32::try_from(later).unwrap_or(u32::MAX));
        if self.pocs.len() >= POC_HISTORY {
            self.pocs.remove(0);
        }
        self.pocs.push(t.poc);

        let reorder = i64::from(t.announced_reorder.unwrap_or(0).max(self.observed_reorder));
        let d = self.frame_duration(t);
        let Some(prev) = self.prev_dts else {
            return self.commit(pts.saturating_sub(reorder.saturating_mul(d)));
        };
        let dts = if reorder == 0 {
            let (new_holes, lowest) = match t.announced_reorder {
                Some(_) => (0, i64::MAX),
                None => self.pending_holes(anchor, d, prev, previous_max_poc),
            };
            if new_holes == 0 {
                pts
            } else {
                // Reordering not announced, but this picture jumped ahead in POC: leave room
                // for the pictures expected before it in output order.
                let room = lowest.saturating_sub(prev) / new_holes.saturating_add(1);
                prev.saturating_add(room.max(1)).min(pts)
            }
        } else {
            let (pending, lowest) = self.pending_holes(anchor, d, prev, anchor.poc);
            let dts = prev.saturating_add(d).min(pts);
            if pending > 0 {
                dts.min(lowest.saturating_sub(1))
            } else {
                dts
            }
        };
        self.commit(dts)
    }

    /// Starts a new GOP at a random-access picture (or the first picture).
    fn anchor_picture(&mut self, t: PictureTiming, pts: i64) -> Result<i64, CodecError> {
        self.anchor = Some(Anchor { pts, poc: t.poc });
        self.pocs.clear();
        self.pocs.push(t.poc);
        let reorder = i64::from(t.announced_reorder.unwrap_or(0).max(self.observed_reorder));
        if reorder == 0 {
            return self.commit(pts);
        }
        let d = self.frame_duration(t);
        let candidate = pts.saturating_sub(reorder.saturating_mul(d));
        let dts = match self.prev_dts {
            Some(prev) => candidate.max(prev.saturating_add(d).min(pts)),
            None => candidate,
        };
        self.commit(dts)
    }

    /// The POC increment per frame: the codec default reduced by the observed POC distances,
    /// or the observed GCD alone once enough pictures were seen.
    fn poc_step(&self) -> i64 {
        if self.observed_poc_gcd == 0 {
            self.default_poc_step
        } else if self.observed_pictures >= TRUST_OBSERVED_STEP_AFTER {
            self.observed_poc_gcd
        } else {
            gcd(self.default_poc_step, self.observed_poc_gcd).max(1)
        }
    }

    /// Pictures expected later in decoding order but earlier in output order: step-spaced POC
    /// values above `above` and below the largest POC seen that have not been decoded yet.
    /// Returns their count and the lowest expected PTS, counting only those whose expected PTS
    /// leaves room after `prev`.
    fn pending_holes(&self, anchor: Anchor, d: i64, prev: i64, above: i64) -> (i64, i64) {
        let step = self.poc_step().max(1);
        let max_poc = self.pocs.iter().copied().max().unwrap_or(anchor.poc);
        let mut count = 0i64;
        let mut lowest = i64::MAX;
        // Only the last MAX_HOLE_SCAN steps below the largest POC matter (older pictures are
        // long decoded, or lost).
        let window_start = max_poc.saturating_sub(step.saturating_mul(MAX_HOLE_SCAN as i64));
        let above = above.max(window_start);
        // The first step-spaced value above `above`, counted from the anchor.
        let skip = (above.saturating_sub(anchor.poc) / step).max(0);
        // `step` is at least 1, so the divisions above and below cannot overflow.
        let mut poc = anchor
            .poc
            .saturating_add(skip.saturating_add(1).saturating_mul(step));
        let mut iterations = 0;
        while poc < max_poc && iterations < MAX_HOLE_SCAN {
            if !self.pocs.contains(&poc) {
                let frames = poc.saturating_sub(anchor.poc) / step;
                let expected = anchor.pts.saturating_add(frames.saturating_mul(d));
                if expected.saturating_sub(1) > prev {
                    count += 1;
                    lowest = lowest.min(expected);
                }
            }
            poc = poc.saturating_add(step);
            iterations += 1;
        }
        (count, lowest)
    }

    /// The best known frame duration.
    fn frame_duration(&self, t: PictureTiming) -> i64 {
        self.frame_duration
            .or(t.timing_hint)
            .unwrap_or(DEFAULT_FRAME_DURATION)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn invariants_hold_for_any_input(
            step in 1i64..5,
            pictures in proptest::collection::vec(
                (
                    any::<bool>(),
                    prop_oneof![-64i64..64, any::<i64>()],
                    prop_oneof![-100_000i64..100_000, any::<i64>()],
                ),
                0..40),
            announced in proptest::option::of(0u32..4),
            hint in proptest::option::of(1i64..10_000),
        ) {
            let mut tl = Timeline::new(step);
            let mut prev: Option<i64> = None;
            for (key, poc, pts) in pictures {
                if let Ok(dts) = tl.picture(timing(poc, key, announced, hint), pts) {
                    prop_assert!(dts <= pts);
                    if let Some(p) = prev {
                        prop_assert!(dts > p);
                    }
                    prev = Some(dts);
                }
            }
        }
    }

    fn timing(
        poc: i64,
        random_access: bool,
        announced: Option<u32>,
        hint: Option<i64>,
    ) -> PictureTiming {
        PictureTiming {
            poc,
            random_access,
            announced_reorder: announced,
            timing_hint: hint,
        }
    }

    /// Display indices in decoding order: I0 P3 B1 B2 P6 B4 B5 | I7 P10 B8 B9 P13 B11 B12.
    const ORDER: [i64; 14] = [0, 3, 1, 2, 6, 4, 5, 7, 10, 8, 9, 13, 11, 12];

    /// Runs ORDER with POC step 2 and 3000 ticks per frame.
    fn ipbb(announced: Option<u32>, hint: Option<i64>) -> Vec<Result<i64, CodecError>> {
        let mut tl = Timeline::new(2);
        let mut out = Vec::new();
        for (k, &i) in ORDER.iter().enumerate() {
            let key = k == 0 || k == 7;
            let poc = if k >= 7 { (i - 7) * 2 } else { i * 2 };
            out.push(tl.picture(timing(poc, key, announced, hint), 90_000 + i * 3000));
        }
        out
    }

    #[test]
    fn announced_reordering_gives_regular_dts() {
        let dts: Vec<i64> = ipbb(Some(1), Some(3000))
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(dts[0], 87_000);
        for w in dts.windows(2) {
            assert_eq!(w[1] - w[0], 3000, "{dts:?}");
        }
        for (k, &i) in ORDER.iter().enumerate() {
            assert!(dts[k] <= 90_000 + i * 3000);
        }
    }

    #[test]
    fn wrong_guess_is_repaired_at_the_next_idr() {
        // No timing hint: the first IDR assumes 6000 ticks per frame.
        let dts: Vec<i64> = ipbb(Some(1), None)
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(dts[0], 84_000);
        let steps: Vec<i64> = dts.windows(2).map(|w| w[1] - w[0]).collect();
        assert_eq!(
            steps,
            [3000, 3000, 3000, 3000, 3000, 3000, 6000, 3000, 3000, 3000, 3000, 3000, 3000]
        );
        assert_eq!(dts[7], 90_000 + 6 * 3000);
    }

    #[test]
    fn unannounced_reordering_is_absorbed() {
        let dts: Vec<i64> = ipbb(None, None).into_iter().map(Result::unwrap).collect();
        assert!(dts.windows(2).all(|w| w[1] > w[0]), "{dts:?}");
        for (k, &i) in ORDER.iter().enumerate() {
            assert!(dts[k] <= 90_000 + i * 3000, "{dts:?}");
        }
        // From the first B picture on, R = 1 is known and DTS advance by one frame.
        assert!(dts[2..].windows(2).all(|w| w[1] - w[0] == 3000), "{dts:?}");
    }

    #[test]
    fn unannounced_pyramid_is_absorbed() {
        // I0 P4 B2 b1 b3 P8 B6 b5 b7, POC step 2.
        let order = [0i64, 4, 2, 1, 3, 8, 6, 5, 7];
        let mut tl = Timeline::new(2);
        let mut dts = Vec::new();
        for (k, &i) in order.iter().enumerate() {
            let d = tl
                .picture(timing(i * 2, k == 0, None, None), i * 3000)
                .unwrap();
            assert!(d <= i * 3000);
            dts.push(d);
        }
        assert!(dts.windows(2).all(|w| w[1] > w[0]), "{dts:?}");
        assert!(dts[4..].windows(2).all(|w| w[1] - w[0] == 3000), "{dts:?}");
    }

    #[test]
    fn lost_picture_without_reordering_disturbs_one_dts() {
        let mut tl = Timeline::new(2);
        let mut dts = Vec::new();
        for k in (0..10i64).filter(|&k| k != 3) {
            dts.push((
                k,
                tl.picture(timing(k * 2, k == 0, None, None), k * 3000)
                    .unwrap(),
            ));
        }
        for &(k, d) in &dts {
            if k == 4 {
                assert!(d < k * 3000 && d > 2 * 3000);
            } else {
                assert_eq!(d, k * 3000);
            }
        }
    }

    #[test]
    fn poc_step_four_without_reordering_keeps_pts() {
        let mut tl = Timeline::new(2);
        let mut last = 0;
        for k in 0..40i64 {
            last = tl
                .picture(timing(k * 4, k == 0, None, None), k * 3000)
                .unwrap();
        }
        assert_eq!(last, 39 * 3000);
    }

    #[test]
    fn no_reordering_keeps_pts() {
        let mut tl = Timeline::new(2);
        for k in 0..10i64 {
            let dts = tl
                .picture(timing(k * 2, k == 0, None, None), k * 3000)
                .unwrap();
            assert_eq!(dts, k * 3000);
        }
        assert!(tl.picture(timing(20, false, None, None), 9 * 3000).is_err());
    }
}
