//! Where traffic comes from: open-loop arrivals, closed-loop users, bulk jobs.
//!
//! An open-loop swarm sends on its own schedule whatever the system does — the
//! right model for many independent users, and the one that produces overload.
//! A closed-loop swarm has N users who each wait for their previous request
//! (think time in between), so it slows down when the system does. A bulk job
//! is K images sent with parallelism P; it succeeds only if every image does.

mod objects;
mod profile;

pub use objects::{Objects, Popularity};
pub use profile::RateProfile;

use rand_distr::{Distribution, Exp1};

use crate::model::dist::DurationDist;
use crate::rng::SimRng;
use crate::time::SimTime;

/// How arrivals are spaced in an open-loop swarm.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Spacing {
    /// Poisson: exponential gaps in operational time.
    Poisson,
    /// Evenly spaced: exactly one arrival per unit of integrated rate.
    Uniform,
}

/// An open-loop arrival process: a rate profile and a spacing rule.
#[derive(Clone, Debug)]
pub struct OpenArrivals {
    profile: RateProfile,
    spacing: Spacing,
    cursor: usize,
    last: f64,
    /// The arrival after the one `next` returns, drawn one call early. The
    /// event loop compares the pending arrival's time with the heap's at
    /// every pop, a branch no predictor gets right; with the time drawn a
    /// whole arrival ago it resolves at once instead of after the draw and a
    /// division. The stream's draws come in the same order either way.
    ahead: Option<Option<SimTime>>,
}

impl OpenArrivals {
    pub fn new(profile: RateProfile, spacing: Spacing) -> Self {
        OpenArrivals { profile, spacing, cursor: 0, last: 0.0, ahead: None }
    }

    /// The next arrival time, or None if the rate stays zero from here on.
    #[inline(always)]
    pub fn next(&mut self, rng: &mut SimRng) -> Option<SimTime> {
        let t = match self.ahead.take() {
            Some(t) => t,
            None => self.draw(rng),
        };
        if t.is_some() {
            self.ahead = Some(self.draw(rng));
        }
        t
    }

    #[inline(always)]
    fn draw(&mut self, rng: &mut SimRng) -> Option<SimTime> {
        let area = match self.spacing {
            Spacing::Poisson => Exp1.sample(rng),
            Spacing::Uniform => 1.0,
        };
        let t = self.profile.advance(self.last, area, &mut self.cursor)?;
        self.last = t;
        Some(SimTime::from_secs_f64(t))
    }
}

/// A closed-loop population: `users` users, each thinking between requests.
#[derive(Clone, Debug)]
pub struct ClosedLoop {
    pub users: u32,
    pub think: DurationDist,
}

/// What a bulk client does when one image has failed for good.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum OnFailure {
    /// Keep sending the remaining images (the job still counts as failed).
    Continue,
    /// Send no further images; the job ends when the in-flight ones do.
    Abort,
}

/// A job of `images` images sent with at most `parallelism` in flight.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct BulkSpec {
    pub images: u32,
    pub parallelism: u32,
    pub on_failure: OnFailure,
}

/// Progress of one bulk job.
#[derive(Copy, Clone, Debug)]
pub struct BulkProgress {
    spec: BulkSpec,
    sent: u32,
    in_flight: u32,
    failed: u32,
}

/// What a bulk job asks for after an image finished.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum BulkStep {
    /// Send image number `n` (0-based) now.
    Send(u32),
    /// Nothing to send yet; wait for in-flight images.
    Wait,
    /// Every image is accounted for.
    Done { succeeded: bool },
}

impl BulkProgress {
    pub fn new(spec: BulkSpec) -> Self {
        BulkProgress { spec, sent: 0, in_flight: 0, failed: 0 }
    }

    /// The images to send at submission: min(parallelism, images).
    pub fn start(&mut self) -> impl Iterator<Item = u32> + use<> {
        let n = self.spec.parallelism.min(self.spec.images);
        self.sent = n;
        self.in_flight = n;
        0..n
    }

    /// Records one finished image and says what comes next.
    pub fn image_done(&mut self, succeeded: bool) -> BulkStep {
        self.in_flight -= 1;
        if !succeeded {
            self.failed += 1;
        }
        let stop = self.failed > 0 && self.spec.on_failure == OnFailure::Abort;
        if !stop && self.sent < self.spec.images {
            let n = self.sent;
            self.sent += 1;
            self.in_flight += 1;
            return BulkStep::Send(n);
        }
        if self.in_flight == 0 {
            BulkStep::Done { succeeded: self.failed == 0 && self.sent == self.spec.images }
        } else {
            BulkStep::Wait
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Stream, stream};

    #[test]
    fn poisson_arrivals_have_the_profile_rate() {
        let mut a = OpenArrivals::new(RateProfile::constant(50.0), Spacing::Poisson);
        let mut rng = stream(3, Stream::Arrivals { swarm: 1 });
        let mut n = 0u32;
        while a.next(&mut rng).expect("open").as_secs_f64() < 1000.0 {
            n += 1;
        }
        // Poisson count over 1000 s has mean 50 000 and sd sqrt(50 000) ≈ 224.
        assert!((f64::from(n) - 50_000.0).abs() < 5.0 * 224.0, "{n}");
    }

    #[test]
    fn drawing_ahead_gives_the_times_of_drawing_each_in_turn() {
        // A ramp to zero: the draws cross pieces, then the rate ends.
        let profile = RateProfile::ramp(5.0, 0.0, 2.0, 4.0);
        let mut a = OpenArrivals::new(profile.clone(), Spacing::Poisson);
        let mut rng = stream(5, Stream::Arrivals { swarm: 2 });
        let got: Vec<SimTime> = std::iter::from_fn(|| a.next(&mut rng)).collect();
        let mut rng = stream(5, Stream::Arrivals { swarm: 2 });
        let (mut last, mut cursor) = (0.0, 0);
        let want: Vec<SimTime> = std::iter::from_fn(|| {
            last = profile.advance(last, Exp1.sample(&mut rng), &mut cursor)?;
            Some(SimTime::from_secs_f64(last))
        })
        .collect();
        assert!(want.len() > 10, "{} arrivals", want.len());
        assert_eq!(got, want);
        assert_eq!(a.next(&mut rng), None, "no arrival once the rate stays zero");
    }

    #[test]
    fn uniform_spacing_is_exact() {
        let mut a = OpenArrivals::new(RateProfile::constant(4.0), Spacing::Uniform);
        let mut rng = stream(3, Stream::Arrivals { swarm: 1 });
        let t: Vec<u64> = (0..3).map(|_| a.next(&mut rng).expect("open").as_nanos()).collect();
        assert_eq!(t, [250_000_000, 500_000_000, 750_000_000]);
    }

    #[test]
    fn bulk_keeps_parallelism_and_succeeds_only_when_all_images_do() {
        let spec = BulkSpec { images: 5, parallelism: 2, on_failure: OnFailure::Continue };
        let mut b = BulkProgress::new(spec);
        assert_eq!(b.start().collect::<Vec<_>>(), [0, 1]);
        assert_eq!(b.image_done(true), BulkStep::Send(2));
        assert_eq!(b.image_done(false), BulkStep::Send(3));
        assert_eq!(b.image_done(true), BulkStep::Send(4));
        assert_eq!(b.image_done(true), BulkStep::Wait);
        assert_eq!(b.image_done(true), BulkStep::Done { succeeded: false });
    }

    #[test]
    fn bulk_abort_sends_nothing_after_a_failure() {
        let spec = BulkSpec { images: 40, parallelism: 2, on_failure: OnFailure::Abort };
        let mut b = BulkProgress::new(spec);
        let _ = b.start().count();
        assert_eq!(b.image_done(false), BulkStep::Wait);
        assert_eq!(b.image_done(true), BulkStep::Done { succeeded: false });
    }
}
