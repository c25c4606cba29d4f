//! The conformance report: every capture replayed on both runtimes, the runtimes compared,
//! and the whole written as a markdown table (case × runtime × verdict) followed by the
//! explanation of each known difference (`conformance/REPORT.md`).

use crate::replay::{self, compare_runtimes, CaseReport, Options, Verdict};
use crate::runtime::Runtime;
use crate::Capture;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One capture replayed on every runtime.
#[derive(Clone, Debug)]
pub struct CaseResult {
    /// The capture's file name.
    pub case: String,
    /// One report per runtime, in [`Runtime::ALL`] order (empty if the file did not read).
    pub reports: Vec<CaseReport>,
    /// Why the capture could not be read, if it could not.
    pub error: Option<String>,
    /// Differences between the runtimes' reports.
    pub mismatches: Vec<String>,
}

impl CaseResult {
    /// The regressions: failed flows (per runtime), unreadable files and runtime mismatches.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(e) = &self.error {
            out.push(format!("{}: {e}", self.case));
        }
        for r in &self.reports {
            for f in r.flows.iter().filter(|f| f.verdict.is_fail()) {
                out.push(format!(
                    "{} {} [{}]: {}",
                    self.case, f.flow, r.runtime, f.verdict
                ));
            }
        }
        for m in &self.mismatches {
            out.push(format!("{}: runtimes differ: {m}", self.case));
        }
        out
    }
}

/// The capture files of a folder (`.pcap`, `.pcapng`, `.cap`), sorted by name.
pub fn capture_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e, "pcap" | "pcapng" | "cap"))
        })
        .collect();
    files.sort();
    Ok(files)
}

/// Replays the capture at `path` on each runtime in turn and compares them.
pub fn run_case(path: &Path, options: &Options) -> CaseResult {
    let case = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let capture = match Capture::open(path) {
        Ok(c) => c,
        Err(e) => {
            return CaseResult {
                case,
                reports: Vec::new(),
                error: Some(e.to_string()),
                mismatches: Vec::new(),
            }
        }
    };
    let reports: Vec<CaseReport> = Runtime::ALL
        .iter()
        .map(|&r| replay::replay(&capture, r, options))
        .collect();
    let mismatches = match reports.as_slice() {
        [a, b] => compare_runtimes(a, b),
        _ => Vec::new(),
    };
    CaseResult {
        case,
        reports,
        error: None,
        mismatches,
    }
}

/// Escapes a table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The markdown report of `results`.
pub fn markdown(results: &[CaseResult]) -> String {
    let mut out = String::from(
        "# Conformance report\n\n\
         Written by `cargo test -p weir-conformance --test replay`: every capture in \
         `conformance/captures/` (see `captures/SOURCES.md`) replayed against weir on each \
         runtime, each flow against a fresh in-process server (`weir-conformance replay FILE` \
         does the same for any capture). Verdicts: **pass** (answers match the original \
         server's, media intact), **FAIL**, **known difference** (explained below), **not \
         replayable** (the capture lacks what a replay needs). The media column is what the \
         checking reader received, identical on both runtimes unless marked.\n\n\
         | Case | Flow | Kind | tokio | mio | Media received |\n\
         |---|---|---|---|---|---|\n",
    );
    let mut known: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut unreplayable: Vec<String> = Vec::new();
    let mut problems: Vec<String> = Vec::new();
    for r in results {
        problems.extend(r.problems());
        let Some(first) = r.reports.first() else {
            out.push_str(&format!(
                "| {} | - | - | unreadable | unreadable | |\n",
                cell(&r.case)
            ));
            continue;
        };
        for (i, flow) in first.flows.iter().enumerate() {
            let verdict = |rt: Runtime| {
                r.reports
                    .iter()
                    .find(|rep| rep.runtime == rt)
                    .and_then(|rep| rep.flows.get(i))
                    .map_or("-".to_string(), |f| f.verdict.name().to_string())
            };
            let agree = r
                .reports
                .iter()
                .all(|rep| rep.flows.get(i).map(|f| &f.media) == Some(&flow.media));
            let mut media: Vec<String> = flow
                .media
                .iter()
                .map(|m| {
                    format!(
                        "{}: {} pkts, md5 `{}`",
                        m.track,
                        m.packets,
                        &m.md5[..12.min(m.md5.len())]
                    )
                })
                .collect();
            if !agree {
                media.push("**runtimes differ**".into());
            }
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} |\n",
                cell(&r.case),
                flow.flow,
                cell(&flow.kind),
                verdict(Runtime::Tokio),
                verdict(Runtime::Mio),
                cell(&media.join("<br>"))
            ));
            for rep in &r.reports {
                if let Some(f) = rep.flows.get(i) {
                    match &f.verdict {
                        Verdict::KnownDifference(why) => {
                            for w in why {
                                let at = format!("{} {}", r.case, f.flow);
                                let list = known.entry(w.clone()).or_default();
                                if !list.contains(&at) {
                                    list.push(at);
                                }
                            }
                        }
                        Verdict::NotReplayable(why) => {
                            let line = format!("- {} {}: {why}", r.case, f.flow);
                            if !unreplayable.contains(&line) {
                                unreplayable.push(line);
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    out.push_str("\n## Known differences\n\n");
    if known.is_empty() {
        out.push_str("None.\n");
    }
    for (why, at) in &known {
        out.push_str(&format!("- {why}. Seen in: {}.\n", at.join(", ")));
    }
    out.push_str("\n## Not replayable\n\n");
    if unreplayable.is_empty() {
        out.push_str("None.\n");
    }
    for line in &unreplayable {
        out.push_str(line);
        out.push('\n');
    }
    out.push_str("\n## Failures and runtime mismatches\n\n");
    if problems.is_empty() {
        out.push_str("None.\n");
    }
    for p in &problems {
        out.push_str(&format!("- {p}\n"));
    }
    out.push_str("\n## Observations (tokio run)\n\n");
    for r in results {
        let Some(first) = r.reports.first() else {
            continue;
        };
        for f in first.flows.iter().filter(|f| !f.notes.is_empty()) {
            out.push_str(&format!(
                "- {} {}: {}\n",
                r.case,
                f.flow,
                f.notes.join("; ")
            ));
        }
        for i in &first.ignored {
            out.push_str(&format!("- {} ignored {i}\n", r.case));
        }
    }
    out
}
