//! The verdict of one replayed flow and the findings it is made from.

use std::fmt;

/// What a replay concluded about one flow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// weir answered as the original server did and forwarded the media intact.
    Pass,
    /// weir misbehaved: why, one reason per finding.
    Fail(Vec<String>),
    /// weir differs from the original server in ways that are understood and accepted: each
    /// difference with its explanation.
    KnownDifference(Vec<String>),
    /// The capture does not hold what a replay needs: why.
    NotReplayable(String),
}

impl Verdict {
    /// The verdict's name (`pass`, `FAIL`, `known difference`, `not replayable`).
    pub fn name(&self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail(_) => "FAIL",
            Verdict::KnownDifference(_) => "known difference",
            Verdict::NotReplayable(_) => "not replayable",
        }
    }

    /// Whether this verdict is a regression (a failure).
    pub fn is_fail(&self) -> bool {
        matches!(self, Verdict::Fail(_))
    }

    /// The reasons or explanations behind the verdict (empty for a pass).
    pub fn reasons(&self) -> Vec<String> {
        match self {
            Verdict::Pass => Vec::new(),
            Verdict::Fail(r) | Verdict::KnownDifference(r) => r.clone(),
            Verdict::NotReplayable(why) => vec![why.clone()],
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Pass => f.write_str("pass"),
            Verdict::Fail(r) => write!(f, "FAIL: {}", r.join("; ")),
            Verdict::KnownDifference(r) => write!(f, "known difference: {}", r.join("; ")),
            Verdict::NotReplayable(why) => write!(f, "not replayable: {why}"),
        }
    }
}

/// What a replay found, gathered as it goes and turned into a [`Verdict`] at the end.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Findings {
    /// Misbehaviours.
    pub failures: Vec<String>,
    /// Accepted, explained differences.
    pub known: Vec<String>,
    /// Observations that change nothing (counts, skipped packets before a key frame, ...).
    pub notes: Vec<String>,
}

impl Findings {
    /// Records a failure.
    pub fn fail(&mut self, why: impl Into<String>) {
        self.failures.push(why.into());
    }

    /// Records an accepted difference with its explanation.
    pub fn known(&mut self, explanation: impl Into<String>) {
        let e = explanation.into();
        if !self.known.contains(&e) {
            self.known.push(e);
        }
    }

    /// Records an observation.
    pub fn note(&mut self, note: impl Into<String>) {
        self.notes.push(note.into());
    }

    /// The verdict: a failure if anything failed, else a known difference if any was
    /// recorded, else a pass.
    pub fn verdict(&self) -> Verdict {
        if !self.failures.is_empty() {
            Verdict::Fail(self.failures.clone())
        } else if !self.known.is_empty() {
            Verdict::KnownDifference(self.known.clone())
        } else {
            Verdict::Pass
        }
    }
}
